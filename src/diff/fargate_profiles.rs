//! An EKS Fargate profile cannot change: every argument but `tags` replaces it, and under
//! its fixed name (`fargate_profile_name` is the blueprint's) Terraform deletes the old one
//! first. EKS deletes every pod the old profile runs, and a pod re-created before the new one
//! is active matches no profile: it is not scheduled onto Fargate and "might remain as
//! pending" (Amazon EKS user guide, "Delete a Fargate profile"; DeleteFargateProfile) — on
//! a cluster without node groups, until someone deletes it. A namespace added to a profile is
//! the usual cause, and a profile of its own adds it without touching the others.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::Object;

const PROFILE: &str = "aws_eks_fargate_profile";

/// The profile's body without what changes in place (`tags`) or is not sent (`depends_on`).
fn forcing(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("tags");
        o.remove("depends_on");
    }
    b
}

fn namespaces(body: &Value) -> Vec<&str> {
    let mut ns: Vec<&str> = body
        .get("selector")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("namespace").and_then(Value::as_str))
        .collect();
    ns.dedup();
    ns
}

/// A note per Fargate profile the change replaces.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let mut notes = Vec::new();
    for (addr, n) in new.iter().filter(|(_, n)| n.kind == PROFILE) {
        let Some(o) = old.get(addr).filter(|o| o.kind == PROFILE) else {
            continue;
        };
        if forcing(&o.body) == forcing(&n.body) {
            continue;
        }
        let name = n
            .body
            .get("fargate_profile_name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ns = namespaces(&o.body);
        let added: Vec<&str> = namespaces(&n.body)
            .into_iter()
            .filter(|x| !ns.contains(x))
            .collect();
        let instead = if added.is_empty() {
            String::new()
        } else {
            format!(
                " To add {} without this, give it a `fargate_profiles` entry of its own and leave `{name}` as it was (nothing is replaced).",
                added
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        notes.push(format!(
            "{addr}: Fargate profile `{name}` is replaced, the old one deleted first (EKS cannot change a profile): EKS deletes every pod it runs (namespaces {}), and the pods their controllers re-create before the new profile is active match no profile and stay Pending — the new profile does not pick them up. After the apply, restart them ({}), or delete the Pending pods.{instead}",
            ns.join(", "),
            ns.iter()
                .map(|n| format!("`kubectl rollout restart deployment,statefulset -n {n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(namespaces: &[&str], tag: &str) -> BTreeMap<String, Object> {
        let selector: Vec<Value> = namespaces.iter().map(|n| json!({"namespace": n})).collect();
        BTreeMap::from([(
            format!("infra: {PROFILE}.app"),
            Object {
                kind: PROFILE.into(),
                file: "terraform/infra/fargate.tf.json".into(),
                body: json!({"fargate_profile_name": "app", "selector": selector, "tags": {"Name": tag}}),
            },
        )])
    }

    #[test]
    fn a_replaced_profile_says_its_pods_stay_pending() {
        let n = notes(&profile(&["app"], "a"), &profile(&["app", "jobs"], "a"));
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("stay Pending") && n[0].contains("namespaces app"));
        assert!(n[0].contains("give it a `fargate_profiles` entry of its own"));
        assert!(notes(&profile(&["app"], "a"), &profile(&["app"], "b")).is_empty());
    }
}
