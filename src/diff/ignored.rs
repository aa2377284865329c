//! Arguments a resource's `lifecycle.ignore_changes` lists: Terraform keeps the state's
//! value there, so a new value in the text is not applied — it is not a change of the
//! running system, and the diff must not present it as one. What the reviewer learns
//! instead is a note saying so, and — for an autoscaled EKS node group, whose desired size
//! is ignored — the scaling changes EKS refuses against the size the group has now.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::Object;
use super::{Attribute, identity, inside};

/// The paths a resource's `lifecycle.ignore_changes` lists, in the diff's dotted form
/// (`scaling_config[0].desired_size` → `scaling_config.desired_size`).
pub fn paths(body: &Value) -> Vec<String> {
    body.pointer("/lifecycle/ignore_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(identity::without_indices)
        .collect()
}

/// Whether the attribute lies in one of the ignored paths.
pub fn is_ignored(at: &Attribute, ignored: &[String]) -> bool {
    ignored.iter().any(|p| inside(&at.path, p))
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_string(), Value::to_string)
}

fn int(body: &Value, pointer: &str) -> Option<u64> {
    body.pointer(pointer).and_then(Value::as_u64)
}

/// Why a path is ignored, where the output ignores it on purpose.
fn reason(kind: &str, path: &str) -> &'static str {
    match (kind, path) {
        ("aws_eks_node_group", "scaling_config.desired_size")
        | ("digitalocean_kubernetes_cluster", "node_pool.node_count")
        | ("digitalocean_kubernetes_node_pool", "node_count") => {
            " (the pool autoscales: its size is the autoscaler's after creation)"
        }
        ("aws_ecs_service", "desired_count") => {
            " (the service autoscales: its task count is Application Auto Scaling's after creation)"
        }
        _ => "",
    }
}

/// Notes on the changes of ignored arguments between `old` and `new` (by address), and on
/// the scaling changes EKS refuses when a node group's desired size is left to the
/// autoscaler.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let mut notes = Vec::new();
    for (addr, n) in new {
        let Some(o) = old.get(addr) else { continue };
        if o.kind != n.kind {
            continue;
        }
        let ignored = paths(&n.body);
        if ignored.is_empty() {
            continue;
        }
        for at in identity::attributes(&o.body, &n.body) {
            if is_ignored(&at, &ignored) && !at.path.starts_with("lifecycle") {
                notes.push(format!(
                    "{addr}: {} {} → {} is not applied: the resource's `lifecycle.ignore_changes` keeps the value it was created with{}",
                    at.path,
                    show(at.old.as_ref()),
                    show(at.new.as_ref()),
                    reason(&n.kind, &at.path)
                ));
            }
        }
        if n.kind == "aws_eks_node_group"
            && ignored.iter().any(|p| p == "scaling_config.desired_size")
        {
            notes.extend(node_group_bounds(addr, o, n, new));
        }
    }
    notes
}

/// EKS refuses a `min_size` above the group's current desired size and a `max_size` below
/// it (UpdateNodegroupConfig: "Minimum capacity 5 can't be greater than desired size 3"),
/// and with `desired_size` ignored Terraform sends the new bounds beside the size the
/// autoscaler left, which only the running group knows.
fn node_group_bounds(
    addr: &str,
    o: &Object,
    n: &Object,
    new: &BTreeMap<String, Object>,
) -> Vec<String> {
    let (Some(min_a), Some(min_b), Some(max_a), Some(max_b)) = (
        int(&o.body, "/scaling_config/min_size"),
        int(&n.body, "/scaling_config/min_size"),
        int(&o.body, "/scaling_config/max_size"),
        int(&n.body, "/scaling_config/max_size"),
    ) else {
        return vec![];
    };
    if min_b <= min_a && max_b >= max_a {
        return vec![];
    }
    let cluster = new
        .values()
        .find(|c| c.kind == "aws_eks_cluster")
        .and_then(|c| c.body.get("name").and_then(Value::as_str))
        .unwrap_or("<cluster>");
    let mut why = Vec::new();
    if min_b > min_a {
        why.push(format!(
            "min_size {min_a} → {min_b} fails while the group runs fewer than {min_b} nodes (\"Minimum capacity {min_b} can't be greater than desired size …\")"
        ));
    }
    if max_b < max_a {
        why.push(format!(
            "max_size {max_a} → {max_b} fails while it runs more than {max_b}"
        ));
    }
    let desired = min_b.max(int(&n.body, "/scaling_config/desired_size").unwrap_or(min_b));
    vec![format!(
        "{addr}: {}: EKS checks the new bounds against the group's current desired size, which this apply leaves where the Cluster Autoscaler put it (`desired_size` is in ignore_changes); check it first (`aws eks describe-nodegroup --cluster-name {cluster} --nodegroup-name <name from aws eks list-nodegroups --cluster-name {cluster}>`) and, if it is out of the new bounds, set all three at once before the apply (`aws eks update-nodegroup-config … --scaling-config minSize={min_b},maxSize={max_b},desiredSize={}`)",
        why.join("; "),
        desired.min(max_b)
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(min: u64, desired: u64, max: u64, ignore: bool) -> Object {
        let mut body = json!({
            "cluster_name": "${aws_eks_cluster.main.name}",
            "scaling_config": {"min_size": min, "desired_size": desired, "max_size": max},
        });
        if ignore {
            body["lifecycle"] = json!({"ignore_changes": ["scaling_config[0].desired_size"]});
        }
        Object {
            kind: "aws_eks_node_group".into(),
            file: "terraform/infra/nodes.tf.json".into(),
            body,
        }
    }

    fn one(o: Object) -> BTreeMap<String, Object> {
        BTreeMap::from([("infra: aws_eks_node_group.general".to_string(), o)])
    }

    #[test]
    fn paths_drop_indexes() {
        let body =
            json!({"lifecycle": {"ignore_changes": ["node_pool[0].node_count", "description"]}});
        assert_eq!(paths(&body), ["node_pool.node_count", "description"]);
    }

    #[test]
    fn an_ignored_desired_size_is_not_applied_and_a_raised_min_is_checked() {
        let notes = notes(&one(group(2, 2, 6, true)), &one(group(4, 4, 6, true)));
        assert_eq!(notes.len(), 2, "{notes:#?}");
        assert!(notes[0].contains("scaling_config.desired_size 2 → 4 is not applied"));
        assert!(notes[1].contains("min_size 2 → 4 fails while the group runs fewer than 4"));
        assert!(notes[1].contains("minSize=4,maxSize=6,desiredSize=4"));
        // A lower max is checked too.
        let notes = super::notes(&one(group(2, 2, 6, true)), &one(group(2, 2, 4, true)));
        assert!(notes[0].contains("max_size 6 → 4 fails"), "{notes:#?}");
    }

    #[test]
    fn a_group_whose_size_is_kept_gets_no_note() {
        // Fixed size: desired_size is not ignored, so Terraform sends all three.
        assert!(notes(&one(group(3, 3, 3, false)), &one(group(5, 5, 5, false))).is_empty());
        // Wider bounds cannot fail.
        assert!(notes(&one(group(2, 2, 6, true)), &one(group(1, 2, 8, true))).is_empty());
    }
}
