//! `overrides:`: RFC 7396 merge patches onto what the back-end generated, in blueprint order.
//!
//! An address that names nothing generated is an error with the closest generated address
//! suggested (a typo must never make an override silently do nothing), and a patched
//! resource or object is checked again against the provider or Kubernetes schemas, so an
//! override cannot write what Terraform or the API server would refuse.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Override;
use super::patch::{merge_json, merge_yaml, read_manifests, write_terraform};
use crate::Provider;
use crate::blueprint::Loaded;
use crate::check::kubernetes::Schemas;
use crate::diagnostic::{Diagnostic, Diagnostics, closest, nearest, one_of};
use crate::k8s::yaml::{self, Map, Y};
use crate::output::Output;

/// Apply the blueprint's overrides that concern `provider` to `out`.
pub fn apply(loaded: &Loaded, provider: Provider, out: &mut Output) -> Result<(), Diagnostics> {
    let list = &loaded.blueprint.overrides;
    if list.is_empty() {
        return Ok(());
    }
    let mut ds = Vec::new();
    let mut tf = Terraform::read(out);
    let mut k8s = Manifests::read(out);
    // (field path of the override, file, what the checks call the patched thing)
    let mut patched: Vec<(String, String, String)> = Vec::new();
    // (field path of the override, file, kind, namespace, name) of each patched manifest
    let mut objects: Vec<(String, String, String, Option<String>, String)> = Vec::new();
    for (i, o) in list.iter().enumerate() {
        if o.provider.is_some_and(|p| !p.matches(provider)) {
            continue;
        }
        let at = |field: &str| loaded.span(&format!("overrides[{i}].{field}"));
        if !o.set.is_object() {
            ds.push(
                Diagnostic::new("`set` must be a mapping (a JSON merge patch)")
                    .at(at("set"))
                    .expected("a mapping such as `{ tags: { tier: gold } }`"),
            );
            continue;
        }
        if o.manifest.is_some() && o.module.is_some() {
            ds.push(
                Diagnostic::new("`module` names the Terraform module of a `resource` override; a `manifest` has none")
                    .at(at("module"))
                    .help("remove `module`"),
            );
            continue;
        }
        let result = match (&o.resource, &o.manifest) {
            (Some(r), None) => tf.patch(o, r, provider).map(|(file, addr)| {
                patched.push((format!("overrides[{i}].set"), file, addr));
            }),
            (None, Some(m)) => k8s.patch(m, &o.set).map(|(file, obj)| {
                let parts: Vec<&str> = m.split('/').collect();
                let (kind, ns, name) = match parts.as_slice() {
                    [k, ns, n] => (*k, Some(ns.to_string()), *n),
                    _ => (parts[0], None, *parts.last().unwrap_or(&"")),
                };
                let field = format!("overrides[{i}].set");
                objects.push((field.clone(), file.clone(), kind.into(), ns, name.into()));
                patched.push((field, file, obj));
            }),
            // Neither: often an environment's `{ name, set }` meant to change a base override,
            // which replaced the base list instead (it merges by name only when every item,
            // in the base and the overlay, has a `name`).
            (None, None) => Err(Diagnostic::new(
                "an override names exactly one of `resource` (Terraform) or `manifest` (Kubernetes)",
            )
            .help(
                "an environment's `overrides` merge into the base's by `name` only when every override of both has a `name`; otherwise they replace the list, and an item that only changes `set` names nothing",
            )),
            _ => Err(Diagnostic::new(
                "an override names exactly one of `resource` (Terraform) or `manifest` (Kubernetes)",
            )),
        };
        if let Err(d) = result {
            let field = match (&o.resource, &o.manifest) {
                (Some(_), None) if d.message.starts_with("no Terraform module") => "module",
                (Some(_), None) => "resource",
                (None, Some(_)) => "manifest",
                _ => "set",
            };
            ds.push(d.at(at(field)));
        }
    }
    if !ds.is_empty() {
        return Err(loaded.diagnostics(ds));
    }
    let touched_tf = tf.write(out);
    // The patched objects as generated, to tell what an override weakened from what was so.
    let before: Vec<Option<Value>> = objects
        .iter()
        .map(|(_, file, kind, ns, name)| object(out, file, kind, ns.as_deref(), name))
        .collect();
    let touched_k8s = k8s.write(out);
    ds.extend(pod_security(loaded, out, &objects, &before));
    // The patched output is checked as everything infragen writes is.
    let mut found: Vec<(String, String)> = Vec::new();
    for module in touched_tf {
        for p in super::check_module(out, &module, None) {
            found.push((p.file.clone(), format!("{}\u{0}{}", p.address, p.message)));
        }
    }
    for file in touched_k8s {
        let mut report = Default::default();
        Schemas::bundled().check_file(&file, &out.files[&file], &mut report);
        let report: crate::check::kubernetes::Report = report;
        for p in report.problems {
            let at = if p.path.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.path, p.message)
            };
            found.push((p.file.clone(), format!("{}\u{0}{at}", p.object)));
        }
    }
    for (field, file, what) in &patched {
        for (f, problem) in &found {
            let (addr, message) = problem.split_once('\u{0}').unwrap_or(("", problem));
            if f == file && addr == what {
                ds.push(
                    Diagnostic::new(format!("after this override, `{what}` is invalid: {message}"))
                        .at(loaded.span(field))
                        .help("the patched output is checked against the provider and Kubernetes schemas like everything infragen writes"),
                );
            }
        }
    }
    if ds.is_empty() {
        Ok(())
    } else {
        Err(loaded.diagnostics(ds))
    }
}

/// Refuses a patched workload whose pods its `restricted` namespace would no longer admit
/// (`runAsNonRoot: false`, `privileged: true`, a `hostPath` volume, dropping
/// `capabilities.drop`…), as an `extra:` template's workload is ([`super::pod_security`]):
/// the override passes the schemas and `kubectl apply`, and admission then refuses every pod
/// its controller creates. Only what the override added is judged; a namespace whose level
/// is not `restricted` (or unknown to the output) is not, and the levels are read after the
/// overrides, so one lowering a Namespace's label counts.
fn pod_security(
    loaded: &Loaded,
    out: &Output,
    objects: &[(String, String, String, Option<String>, String)],
    before: &[Option<Value>],
) -> Vec<Diagnostic> {
    let levels = super::pod_security::enforced_levels(out, &[]);
    let mut ds = Vec::new();
    for ((field, file, kind, ns, name), old) in objects.iter().zip(before) {
        let Some(doc) = object(out, file, kind, ns.as_deref(), name) else {
            continue;
        };
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        if levels.get(ns).map(String::as_str) != Some("restricted") {
            continue;
        }
        let was = old
            .as_ref()
            .map(super::pod_security::violations)
            .unwrap_or_default();
        let added: Vec<String> = super::pod_security::violations(&doc)
            .into_iter()
            .filter(|v| !was.contains(v))
            .collect();
        if let Some(d) = super::pod_security::refusal(kind, ns, name, &added) {
            ds.push(d.at(loaded.span(field)).help(format!(
                "keep the generated pod security settings (remove what the override weakens), or give namespace `{ns}` a lower level (`kubernetes.namespaces[].pod_security: baseline`)"
            )));
        }
    }
    ds
}

/// The object `kind`/`ns`/`name` of manifest file `file` in `out`, as JSON.
fn object(out: &Output, file: &str, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
    let docs = yaml_rust2::YamlLoader::load_from_str(out.files.get(file)?).ok()?;
    docs.iter()
        .filter_map(|d| crate::check::kubernetes::to_json(d).ok())
        .find(|v| {
            v["kind"] == kind
                && v["metadata"]["name"] == name
                && v["metadata"]["namespace"].as_str() == ns
        })
}

/// The Terraform files of an output, parsed on first use.
struct Terraform {
    /// (module, type, name) → file path.
    addresses: BTreeMap<(String, String, String), String>,
    docs: BTreeMap<String, Value>,
    changed: BTreeSet<String>,
}

impl Terraform {
    fn read(out: &Output) -> Terraform {
        let mut addresses = BTreeMap::new();
        let mut docs = BTreeMap::new();
        for (path, text) in &out.files {
            let Some(rest) = path.strip_prefix("terraform/") else {
                continue;
            };
            let Some((module, file)) = rest.split_once('/') else {
                continue;
            };
            if !file.ends_with(".tf.json") {
                continue;
            }
            let Ok(doc) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if let Some(types) = doc.get("resource").and_then(Value::as_object) {
                for (ty, names) in types {
                    for name in names.as_object().into_iter().flat_map(|m| m.keys()) {
                        addresses
                            .insert((module.to_string(), ty.clone(), name.clone()), path.clone());
                    }
                }
            }
            docs.insert(path.clone(), doc);
        }
        Terraform {
            addresses,
            docs,
            changed: BTreeSet::new(),
        }
    }

    /// Patch the resource `address`; returns the file and address patched.
    fn patch(
        &mut self,
        o: &Override,
        address: &str,
        provider: Provider,
    ) -> Result<(String, String), Diagnostic> {
        let modules: BTreeSet<&str> = self.addresses.keys().map(|(m, _, _)| m.as_str()).collect();
        if let Some(m) = &o.module
            && !modules.contains(m.as_str())
        {
            let d = Diagnostic::new(format!(
                "no Terraform module `{m}` is generated for {}",
                provider.title()
            ))
            .expected(one_of(modules.iter().copied()))
            .suggest(m, modules.iter().copied());
            return Err(d);
        }
        let hits: Vec<(&(String, String, String), &String)> = self
            .addresses
            .iter()
            .filter(|((m, ty, name), _)| {
                format!("{ty}.{name}") == address && o.module.as_ref().is_none_or(|x| x == m)
            })
            .collect();
        match hits.as_slice() {
            [] => {
                let all: BTreeSet<String> = self
                    .addresses
                    .keys()
                    .filter(|(m, _, _)| o.module.as_ref().is_none_or(|x| x == m))
                    .map(|(_, ty, name)| format!("{ty}.{name}"))
                    .collect();
                let mut d = Diagnostic::new(format!(
                    "`{address}` is not a resource infragen generates for {} in this environment",
                    provider.title()
                ))
                .expected("the address `<type>.<name>` of a generated resource, as in `terraform state list`");
                let near = closest(address, all.iter().map(String::as_str)).or_else(|| {
                    // No close match on the whole address: the nearest of the same type.
                    let ty = address.split('.').next().unwrap_or_default();
                    nearest(
                        address,
                        all.iter()
                            .map(String::as_str)
                            .filter(|a| a.split('.').next() == Some(ty)),
                    )
                });
                d = match near {
                    Some(c) => d.help(format!("did you mean `{c}`?")),
                    None => d.help(
                        "run `infragen synth` and look under `terraform/` for the generated addresses",
                    ),
                };
                Err(d)
            }
            [((_, ty, name), file)] => {
                let (ty, name, file) = (ty.clone(), name.clone(), (*file).clone());
                let doc = self.docs.get_mut(&file).expect("read above");
                merge_json(&mut doc["resource"][&ty][&name], &o.set);
                self.changed.insert(file.clone());
                Ok((file, address.to_string()))
            }
            many => {
                let ms: Vec<&str> = many.iter().map(|((m, _, _), _)| m.as_str()).collect();
                Err(Diagnostic::new(format!(
                    "`{address}` is declared in more than one module ({})",
                    ms.join(", ")
                ))
                .help(format!("add `module: {}` (or another) to say which", ms[0])))
            }
        }
    }

    /// Write the changed files back; returns the modules touched.
    fn write(self, out: &mut Output) -> BTreeSet<String> {
        let mut modules = BTreeSet::new();
        for path in self.changed {
            if let Some(m) = path.split('/').nth(1) {
                modules.insert(m.to_string());
            }
            out.files
                .insert(path.clone(), write_terraform(&self.docs[&path]));
        }
        modules
    }
}

/// The manifest files of an output (`k8s/**.yaml`), parsed on first use.
struct Manifests {
    files: Vec<String>,
    texts: BTreeMap<String, String>,
    docs: BTreeMap<String, (String, Vec<Map<'static>>)>,
    changed: BTreeSet<String>,
}

impl Manifests {
    fn read(out: &Output) -> Manifests {
        let texts: BTreeMap<String, String> = out
            .files
            .iter()
            .filter(|(p, _)| {
                p.starts_with("k8s/") && p.ends_with(".yaml") && !p.ends_with("kustomization.yaml")
            })
            .map(|(p, t)| (p.clone(), t.clone()))
            .collect();
        Manifests {
            files: texts.keys().cloned().collect(),
            texts,
            docs: BTreeMap::new(),
            changed: BTreeSet::new(),
        }
    }

    fn parsed(&mut self, file: &str) -> Option<&mut (String, Vec<Map<'static>>)> {
        if !self.docs.contains_key(file) {
            let parsed = read_manifests(self.texts.get(file)?).ok()?;
            self.docs.insert(file.to_string(), parsed);
        }
        self.docs.get_mut(file)
    }

    /// Patch the object `address` (`Kind/namespace/name` or `Kind/name`); returns the file
    /// and the object as the Kubernetes checks name it (`Kind/name`).
    fn patch(&mut self, address: &str, set: &Value) -> Result<(String, String), Diagnostic> {
        let parts: Vec<&str> = address.split('/').collect();
        let (kind, ns, name) = match parts.as_slice() {
            [k, n] => (*k, None, *n),
            [k, ns, n] => (*k, Some(*ns), *n),
            _ => {
                return Err(
                    Diagnostic::new(format!("`{address}` is not a manifest address")).expected(
                        "`Kind/namespace/name`, or `Kind/name` for a cluster-scoped object",
                    ),
                );
            }
        };
        let mut all = Vec::new();
        for file in self.files.clone() {
            let Some((_, docs)) = self.parsed(&file) else {
                continue;
            };
            for doc in docs.iter_mut() {
                let s = |y: Option<&Y>| match y {
                    Some(Y::Str(s)) => Some(s.to_string()),
                    _ => None,
                };
                let k = s(doc.get("kind")).unwrap_or_default();
                let meta = match doc.get("metadata") {
                    Some(Y::Map(m)) => Some(m),
                    _ => None,
                };
                let n = s(meta.and_then(|m| m.get("name"))).unwrap_or_default();
                let d_ns = s(meta.and_then(|m| m.get("namespace")));
                if k == kind && n == name && d_ns.as_deref() == ns {
                    let mut y = Y::Map(std::mem::take(doc));
                    let r = merge_yaml(&mut y, set);
                    if let Y::Map(m) = y {
                        *doc = m;
                    }
                    r.map_err(|e| Diagnostic::new(format!("cannot apply `set`: {e}")))?;
                    self.changed.insert(file.clone());
                    return Ok((file, format!("{kind}/{name}")));
                }
                all.push(match d_ns {
                    Some(x) => format!("{k}/{x}/{n}"),
                    None => format!("{k}/{n}"),
                });
            }
        }
        let d = Diagnostic::new(format!(
            "`{address}` is not an object infragen generates in this environment"
        ))
        .expected(
            "`Kind/namespace/name` (or `Kind/name` when cluster-scoped) of a generated manifest",
        );
        Err(d.suggest(address, all.iter().map(String::as_str)))
    }

    /// Write the changed files back; returns their paths.
    fn write(mut self, out: &mut Output) -> Vec<String> {
        let mut files = Vec::new();
        for path in std::mem::take(&mut self.changed) {
            let (comment, docs) = &self.docs[&path];
            out.files.insert(path.clone(), yaml::file(comment, docs));
            files.push(path);
        }
        files
    }
}
