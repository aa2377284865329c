//! Stacks that deploy into one existing cluster (`--provider kubernetes`, one kubeconfig
//! context): a monorepo's blueprints, or two environments of one blueprint. Each output is
//! complete on its own, so two of them may write the same object — a ClusterIssuer both
//! name `le`, a Namespace both deploy into (`monitoring`), that namespace's default-deny
//! NetworkPolicies. `kubectl apply` then makes the last one applied win (another ACME
//! e-mail, another Pod Security level for the other stack's pods), and `kubectl delete -k`
//! of one stack deletes the other's namespace with everything in it. `synth` of several
//! stacks at once compares them and warns (`cluster-objects-shared`) of every cluster-scoped
//! object both write and every namespaced one they write differently; a namespaced object
//! written alike (the ingress controller's NetworkPolicies, which every stack routing
//! through it writes the same) is left out.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::Note;
use crate::output::Output;

/// One synthesized stack: its label (`<file> kubernetes/<env>`), the kubeconfig context it
/// targets (`providers.kubernetes.context`; `None`, the current context) and its output.
pub struct Stack<'a> {
    pub label: String,
    pub context: Option<String>,
    pub out: &'a Output,
    /// Synthesized by this run; `false` for a blueprint's other environment, lowered only to
    /// compare with (two of those are not judged: their own synth does).
    pub lowered: bool,
}

/// At most this many objects are named in one warning.
const LISTED: usize = 6;

/// The objects of an output's `k8s/` manifests by `Kind/namespace/name` (`Kind/name` when
/// cluster-scoped), each without the label naming its blueprint (`part-of`), which always
/// differs.
fn objects(out: &Output) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for (path, text) in &out.files {
        if !(path.starts_with("k8s/") && path.ends_with(".yaml"))
            || path.ends_with("kustomization.yaml")
        {
            continue;
        }
        let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else {
            continue;
        };
        for doc in &docs {
            let Ok(mut v) = crate::check::kubernetes::to_json(doc) else {
                continue;
            };
            let kind = v["kind"].as_str().unwrap_or_default().to_string();
            let name = v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if kind.is_empty() || name.is_empty() {
                continue;
            }
            let key = match v["metadata"]["namespace"].as_str() {
                Some(ns) => format!("{kind}/{ns}/{name}"),
                None => format!("{kind}/{name}"),
            };
            if let Some(labels) = v["metadata"]["labels"].as_object_mut() {
                labels.remove("app.kubernetes.io/part-of");
            }
            all.insert(key, v);
        }
    }
    all
}

/// In a namespace both stacks write, each one's ResourceQuota and LimitRange of its own
/// name: nothing replaces the other, yet "the sum of all resource requests across all pods
/// in the same namespace must not exceed any hard resource limit in any Resource Quota
/// document for the namespace" (kubernetes.io/docs/concepts/policy/resource-quotas), so the
/// tighter quota binds both stacks' pods.
fn quotas_side_by_side(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<String> {
    let mut found = Vec::new();
    for key in a.keys().filter(|k| b.contains_key(*k)) {
        let Some(ns) = key.strip_prefix("Namespace/") else {
            continue;
        };
        for kind in ["ResourceQuota", "LimitRange"] {
            let prefix = format!("{kind}/{ns}/");
            let own = |m: &BTreeMap<String, Value>| -> Vec<String> {
                m.keys()
                    .filter(|k| k.starts_with(&prefix))
                    .map(|k| k[prefix.len()..].to_string())
                    .collect()
            };
            let (mine, theirs) = (own(a), own(b));
            if !mine.is_empty() && !theirs.is_empty() && mine != theirs {
                found.push(format!(
                    "{kind}s {} and {} in {ns} (each counts every pod of the namespace: the tighter binds both)",
                    mine.join("/"),
                    theirs.join("/")
                ));
            }
        }
    }
    found
}

/// One warning per pair of stacks that target one context and write objects alike.
pub fn shared_objects(stacks: &[Stack]) -> Vec<Note> {
    let objects: Vec<BTreeMap<String, Value>> = stacks.iter().map(|s| objects(s.out)).collect();
    let mut notes = Vec::new();
    for (i, a) in stacks.iter().enumerate() {
        for (j, b) in stacks.iter().enumerate().skip(i + 1) {
            if a.context != b.context || !(a.lowered || b.lowered) {
                continue;
            }
            let shared: Vec<String> = objects[i]
                .iter()
                .filter_map(|(key, body)| {
                    let other = objects[j].get(key)?;
                    let cluster_scoped = key.matches('/').count() == 1;
                    match (other == body, cluster_scoped) {
                        (false, _) => Some(format!("{key} (differs)")),
                        (true, true) => Some(key.clone()),
                        // Alike in a namespace both use (the ingress controller's
                        // NetworkPolicies every stack writes the same): harmless, and the
                        // namespace itself is reported when both write it.
                        (true, false) => None,
                    }
                })
                .collect();
            let mut shared = shared;
            shared.extend(quotas_side_by_side(&objects[i], &objects[j]));
            if shared.is_empty() {
                continue;
            }
            let context = match &a.context {
                Some(c) => format!("context `{c}`"),
                None => "the current context (no `providers.kubernetes.context`)".to_string(),
            };
            let mut list = shared[..shared.len().min(LISTED)].join(", ");
            if shared.len() > LISTED {
                list.push_str(&format!(" and {} more", shared.len() - LISTED));
            }
            notes.push(Note::warning(
                "cluster-objects-shared",
                format!(
                    "{} and {} deploy into one cluster ({context}) and both write {} object(s): {list}; the one applied last wins (`differs`: its values replace the other's), and `kubectl delete -k` of either deletes them for both: give each stack names of its own (an issuer per blueprint, its own namespaces), or let one stack own what both need (docs/brownfield.md)",
                    a.label,
                    b.label,
                    shared.len()
                ),
            ));
        }
    }
    notes
}
