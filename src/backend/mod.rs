//! Back-ends: one per provider, chosen by `match`, each a free function from the validated
//! blueprint to an in-memory set of files. No back-end does I/O.

pub mod aws;
pub mod digitalocean;
pub mod helm;
pub mod kubernetes;

use std::collections::BTreeMap;

use crate::blueprint::types::Blueprint;
use crate::catalog::{Provider, versions};
use crate::terraform::Module;
use crate::validate::Validated;

/// Everything one synth produces: files by path relative to the output folder, and notes
/// for the user (parts not lowered, caveats such as unenforced network policies).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    pub files: BTreeMap<String, String>,
    pub notes: Vec<String>,
    /// Blueprint parts (top-level keys, see [`parts`]) some back-end code lowered; every
    /// other non-empty part is reported as not lowered.
    pub lowered: std::collections::BTreeSet<&'static str>,
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
        for (file, text) in module.render() {
            self.files.insert(format!("terraform/{name}/{file}"), text);
        }
    }

    pub fn add_file(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }
}

/// What a back-end reports besides files, collected through its shared context while the
/// concept files lower: the blueprint parts lowered, and notes for the user.
#[derive(Debug, Default)]
pub(crate) struct Log {
    lowered: std::cell::RefCell<std::collections::BTreeSet<&'static str>>,
    notes: std::cell::RefCell<Vec<String>>,
}

impl Log {
    /// Record that a blueprint part (a top-level key) was lowered.
    pub fn mark(&self, part: &'static str) {
        self.lowered.borrow_mut().insert(part);
    }

    /// A note (or a `warning[rule]` line) for the user.
    pub fn note(&self, text: impl Into<String>) {
        self.notes.borrow_mut().push(text.into());
    }

    /// Move what was recorded into `out`.
    pub fn finish(&self, out: &mut Output) {
        out.lowered.extend(self.lowered.borrow().iter().copied());
        out.notes.extend(self.notes.take());
    }
}

/// Lower a validated blueprint for its provider.
pub fn synth(v: &Validated) -> Output {
    let mut out = match v.provider {
        Provider::Aws => aws::synth(v),
        Provider::Digitalocean => digitalocean::synth(v),
        Provider::Kubernetes => kubernetes::synth(v),
    };
    let lowered: Vec<&str> = out.lowered.iter().copied().collect();
    out.notes.extend(not_lowered(v.bp, v.provider, &lowered));
    out.notes.sort();
    out.notes.dedup();
    out
}

/// The blueprint's parts, by top-level key, with how many items each has.
pub fn parts(bp: &Blueprint) -> Vec<(&'static str, usize)> {
    let k8s = bp.kubernetes.as_ref();
    vec![
        ("state", bp.state.is_some() as usize),
        ("network", bp.network.is_some() as usize),
        ("cluster", bp.cluster.is_some() as usize),
        ("node_pools", bp.node_pools.len()),
        ("fargate_profiles", bp.fargate_profiles.len()),
        ("databases", bp.databases.len()),
        ("caches", bp.caches.len()),
        ("queues", bp.queues.len()),
        ("tables", bp.tables.len()),
        ("load_balancer", bp.load_balancer.is_some() as usize),
        (
            "ingress",
            bp.ingress.as_ref().is_some_and(|i| i.enabled) as usize,
        ),
        ("registry", bp.registry.is_some() as usize),
        ("secrets", bp.secrets.len()),
        ("services", bp.services.len()),
        ("kubernetes", k8s.is_some() as usize),
        (
            "observability",
            bp.observability
                .as_ref()
                .is_some_and(|o| !o.alarms.is_empty()) as usize,
        ),
        ("buckets", bp.buckets.len()),
    ]
}

/// A note naming each present blueprint part that `provider` does not lower yet, so nothing
/// is dropped silently.
pub fn not_lowered(bp: &Blueprint, provider: Provider, lowered: &[&str]) -> Option<String> {
    let missing: Vec<String> = parts(bp)
        .into_iter()
        .filter(|(name, n)| *n > 0 && !lowered.contains(name))
        .map(|(name, n)| {
            if n > 1 {
                format!("{name} ({n})")
            } else {
                name.to_string()
            }
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} does not lower these blueprint parts yet, so they are absent from the output: {}",
            provider.title(),
            missing.join(", ")
        )
    })
}

/// A lint finding as a note: `synth` and `validate` show it as a warning, never an error.
/// `rule` names the check (`do-ha`, `ingress-nginx-retired`) so it can be looked up.
pub fn warning(rule: &str, message: impl std::fmt::Display) -> String {
    format!("warning[{rule}]: {message}")
}

/// `terraform { required_version, required_providers }` for the providers a module uses.
pub fn terraform_block(
    providers: &[&str],
    backend: Option<serde_json::Value>,
) -> serde_json::Value {
    let pins = versions();
    let mut required = serde_json::Map::new();
    for p in providers {
        if let Some(pin) = pins.providers.get(*p) {
            required.insert(
                (*p).to_string(),
                serde_json::json!({"source": pin.source, "version": pin.version}),
            );
        }
    }
    let mut t = serde_json::json!({
        "required_version": pins.terraform,
        "required_providers": required,
    });
    if let Some(b) = backend {
        t["backend"] = b;
    }
    t
}

/// The state key of one root module: the blueprint's key for `infra`, and the same key in a
/// sub-folder named after the module for the others (`production/platform/terraform.tfstate`).
pub fn state_key(key: &str, env: &str, module: &str) -> String {
    let key = key.replace("{env}", env);
    if module == "infra" {
        return key;
    }
    match key.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/{module}/{file}"),
        None => format!("{module}/{key}"),
    }
}

/// Tags on every resource: the blueprint's, plus where it came from.
pub fn common_tags(v: &Validated) -> BTreeMap<String, String> {
    let mut tags = v.bp.tags.clone();
    tags.entry("managed-by".into())
        .or_insert_with(|| "infragen".into());
    tags.entry("blueprint".into())
        .or_insert_with(|| v.bp.name.clone());
    tags.entry("environment".into())
        .or_insert_with(|| v.env.to_string());
    tags
}

/// `<name>-<env>`, the default prefix of derived names.
pub fn prefix(v: &Validated) -> String {
    format!("{}-{}", v.bp.name, v.env)
}

/// The `//` comment at the top of every generated file.
pub fn header(v: &Validated) -> String {
    let file = std::path::Path::new(&v.loaded.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| v.loaded.file.clone());
    format!(
        "Generated by infragen from {file} (provider {}, environment {}). Do not edit; change the blueprint and run `infragen synth`.",
        v.provider, v.env
    )
}

#[cfg(test)]
mod tests {
    use super::state_key;

    #[test]
    fn keys_per_module() {
        assert_eq!(
            state_key("{env}/terraform.tfstate", "stage", "infra"),
            "stage/terraform.tfstate"
        );
        assert_eq!(
            state_key("{env}/terraform.tfstate", "stage", "platform"),
            "stage/platform/terraform.tfstate"
        );
        assert_eq!(
            state_key("state.tfstate", "x", "platform"),
            "platform/state.tfstate"
        );
    }
}
