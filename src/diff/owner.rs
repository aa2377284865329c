//! Kubernetes objects whose owner changes between the manifests (`kubectl apply -k`) and a
//! Terraform module (`platform`): a namespace that gains its first generated credentials
//! Secret, or a ServiceAccount that gains an IRSA role, moves into Terraform; losing them
//! moves it back. Neither side adopts what the other created:
//!
//! - into Terraform: the object exists (kubectl made it), so Terraform's create fails
//!   ("namespaces \"shop\" already exists") until it is imported into the state;
//! - out of Terraform: the resource leaves the configuration, so Terraform deletes it — a
//!   namespace with everything in it — unless it is removed from the state first.
//!
//! The diff would otherwise show a removal and an addition, and for the first case advise
//! `kubectl delete namespace`, which is the wrong way round.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::Object;

/// Kubernetes kinds the back-ends write on either side, with their Terraform type.
const KINDS: &[(&str, &str)] = &[
    ("Namespace", "kubernetes_namespace_v1"),
    ("ServiceAccount", "kubernetes_service_account_v1"),
    ("Secret", "kubernetes_secret_v1"),
];

/// One object changing owner.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// `k8s: Namespace shop`.
    pub manifest: String,
    /// `platform: kubernetes_namespace_v1.shop`.
    pub resource: String,
    /// From the manifests into Terraform (else out of Terraform into the manifests).
    pub into_terraform: bool,
    /// The module's folder and the address inside it, and the import id.
    module: String,
    address: String,
    id: String,
}

impl Handover {
    /// What to run so the apply neither fails nor deletes the object.
    pub fn note(&self) -> String {
        let chdir = format!("terraform -chdir=terraform/{}", self.module);
        if self.into_terraform {
            format!(
                "{} moves from the manifests to Terraform ({}): it exists, so `terraform apply` would fail with \"already exists\"; import it first: `{chdir} import {} {}`",
                self.manifest, self.resource, self.address, self.id
            )
        } else {
            format!(
                "{} moves from Terraform to the manifests ({}): `terraform apply` would delete it{}; make Terraform forget it first: `{chdir} state rm {}`, then apply as usual (`kubectl apply -k` takes it over)",
                self.resource,
                self.manifest,
                if self.manifest.starts_with("k8s: Namespace ") {
                    " with everything in it"
                } else {
                    ""
                },
                self.address
            )
        }
    }
}

/// Every object the change moves between the manifests and Terraform.
pub fn handovers(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<Handover> {
    let mut out = Vec::new();
    for (into_terraform, (from, to)) in [(true, (old, new)), (false, (new, old))] {
        // Manifest objects that only one side holds…
        for (manifest, o) in from {
            if to.contains_key(manifest) {
                continue;
            }
            let Some(&(_, ty)) = KINDS.iter().find(|(k, _)| o.kind == format!("k8s:{k}")) else {
                continue;
            };
            let meta = o.body.get("metadata");
            let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
            let (Some(name), ns) = (field("name"), field("namespace")) else {
                continue;
            };
            // …and the same object as a resource only the other side holds.
            for (resource, r) in to {
                if r.kind != ty || from.contains_key(resource) {
                    continue;
                }
                let Some((module, address)) = resource.split_once(": ") else {
                    continue;
                };
                if tf_name(to, module, r) != (ns.map(str::to_string), Some(name.to_string())) {
                    continue;
                }
                out.push(Handover {
                    manifest: manifest.clone(),
                    resource: resource.clone(),
                    into_terraform,
                    module: module.to_string(),
                    address: address.to_string(),
                    id: ns.map_or(name.to_string(), |ns| format!("{ns}/{name}")),
                });
            }
        }
    }
    out
}

/// A Terraform Kubernetes resource's namespace and name; a namespace given as a reference to
/// a `kubernetes_namespace_v1` of the same module is that resource's name.
fn tf_name(
    objs: &BTreeMap<String, Object>,
    module: &str,
    r: &Object,
) -> (Option<String>, Option<String>) {
    let meta = r.body.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    let ns = field("namespace").map(|ns| {
        ns.strip_prefix("${kubernetes_namespace_v1.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(key, _)| objs.get(&format!("{module}: kubernetes_namespace_v1.{key}")))
            .and_then(|o| o.body.pointer("/metadata/name").and_then(Value::as_str))
            .unwrap_or(ns)
            .to_string()
    });
    (ns, field("name").map(str::to_string))
}
