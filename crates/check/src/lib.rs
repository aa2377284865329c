//! Offline checks of generated output against provider schemas: the engine of
//! `infragen validate` and of the golden tests. A crate of its own: it depends on nothing
//! of the generator, so it can never be shaped by what the generator happens to write.

#![forbid(unsafe_code)]

pub mod kubernetes;
pub mod override_files;
pub mod quantity;
pub mod schema;
pub mod terraform;
pub mod terraform_manifests;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use schema::ProviderSchemas;
pub use terraform::Problem;

/// What a validation run found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub modules: usize,
    pub resources: usize,
    pub problems: Vec<Problem>,
}

/// Check every Terraform module among `files` (paths relative to an output folder, as
/// `synth` produces them): a module is a folder holding `*.tf.json` files.
pub fn check_files(files: &BTreeMap<String, String>, schemas: &ProviderSchemas) -> Report {
    let mut modules: BTreeMap<&str, Vec<(String, Value)>> = BTreeMap::new();
    let mut report = Report::default();
    for (path, text) in files {
        if !path.ends_with(".tf.json") {
            continue;
        }
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        match serde_json::from_str::<Value>(text) {
            Ok(v) => modules.entry(dir).or_default().push((name.to_string(), v)),
            Err(e) => report.problems.push(Problem {
                file: path.clone(),
                address: String::new(),
                message: format!("not valid JSON: {e}"),
            }),
        }
    }
    for (dir, docs) in &modules {
        report.modules += 1;
        report.resources += docs
            .iter()
            .filter_map(|(_, v)| v.get("resource").and_then(Value::as_object))
            .flat_map(|types| types.values())
            .filter_map(Value::as_object)
            .map(|names| names.len())
            .sum::<usize>();
        for mut p in terraform::check_module(docs, schemas) {
            if !dir.is_empty() {
                p.file = format!("{dir}/{}", p.file);
            }
            report.problems.push(p);
        }
    }
    report.problems.sort();
    report
}

/// Read every file under `dir` that validation looks at (skipping hidden folders such as
/// `.terraform/`), keyed by path relative to `dir` with `/` separators.
pub fn read_output_dir(dir: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push(path);
            } else if ty.is_file() && (name.ends_with(".tf.json") || name.ends_with(".yaml")) {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
                files.insert(rel, text);
            }
        }
    }
    Ok(files)
}
