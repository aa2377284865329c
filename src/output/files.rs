//! The in-memory result of a synth: files by path, notes, and the blueprint parts lowered.
//! Back-ends fill it, `escape` and `diff` read and amend it, and [`super`] writes it; it sits
//! here, below all of them, so none needs another to name it.

use std::collections::BTreeMap;

use crate::diagnostic::Note;
use crate::terraform::Module;

/// Everything one synth produces: files by path relative to the output folder, and notes
/// for the user (parts not lowered, caveats such as unenforced network policies).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    pub files: BTreeMap<String, String>,
    pub notes: Vec<Note>,
    /// Blueprint parts (top-level keys, see `crate::backend::parts`) some back-end code lowered; every
    /// other non-empty part is reported as not lowered.
    pub lowered: std::collections::BTreeSet<&'static str>,
    /// Terraform addresses a back-end declared twice in one module (`terraform/infra:
    /// aws_iam_role.app`): one body would replace the other, so the pipeline refuses the
    /// output rather than write it.
    pub duplicates: Vec<String>,
    /// The literal cloud names of resources whose type keeps names unique
    /// (`crate::terraform::unique`), by module (`infra`): type, name and the resource's
    /// Terraform name. Two of one type and name would not both create.
    pub cloud_names: Vec<(String, Vec<crate::terraform::Named>)>,
    /// Kubernetes object names and label values past the API server's limits: (object id
    /// `k8s: <kind> <namespace>/<name>`, the name or value, the limit).
    pub too_long: Vec<(String, String, usize)>,
}

impl Output {
    /// An output holding just these files (path, text): for tests and tools.
    pub fn from_files(files: &[(&str, &str)]) -> Output {
        Output {
            files: files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    /// Add a Terraform root module under `terraform/<name>/`, rendering it (and freeing its
    /// contents file by file).
    pub fn add_module(&mut self, name: &str, module: Module) {
        let rendered = module.render();
        for (file, text) in rendered.files {
            self.files.insert(format!("terraform/{name}/{file}"), text);
        }
        self.duplicates.extend(
            rendered
                .duplicates
                .into_iter()
                .map(|a| format!("terraform/{name}: {a}")),
        );
        if !rendered.names.is_empty() {
            self.cloud_names.push((name.to_string(), rendered.names));
        }
    }

    pub fn add_file(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }
}
