//! An EKS node pool that starts (or stops) hosting in-cluster data is split into one managed
//! node group per zone (or merged back into one across the zones), `backend/aws/cluster/zones.rs`.
//! To Terraform that is one node group removed and others added: the apply deletes the old
//! group with its nodes while it creates the new ones, and nothing orders the two. The data
//! services' pods then wait Pending until a node of their volume's zone joins — their
//! volumes survive (a claim and its PersistentVolume outlive any node; the StatefulSets keep
//! their claims) — so the note says what happens and how to create the new groups first.
//!
//! A pool that stays per zone but loses a zone's group (its `max` lowered below the number
//! of zones, or the zone dropped from the network) strands whatever data volume is in that
//! zone: no node can be added there any more, so the pod that owns it stays Pending. That
//! gets a note too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::objects::Object;

const GROUP: &str = "aws_eks_node_group";
/// The node label carrying the pool's name (`backend/aws/cluster/nodes.rs`).
const POOL_LABEL: &str = "infragen.io/node-pool";

/// A node group: its module and resource name, its pool, and whether it is in one zone.
struct Group<'a> {
    module: &'a str,
    name: &'a str,
    pool: &'a str,
    one_zone: bool,
}

fn groups(objs: &BTreeMap<String, Object>) -> Vec<Group<'_>> {
    objs.iter()
        .filter(|(_, o)| o.kind == GROUP)
        .filter_map(|(addr, o)| {
            let (module, rest) = addr.split_once(": ")?;
            Some(Group {
                module,
                name: rest.strip_prefix(&format!("{GROUP}."))?,
                pool: o
                    .body
                    .pointer(&format!("/labels/{}", POOL_LABEL.replace('/', "~1")))?
                    .as_str()?,
                one_zone: o
                    .body
                    .get("subnet_ids")
                    .and_then(Value::as_array)
                    .is_some_and(|s| s.len() == 1),
            })
        })
        .collect()
}

/// The names of `pool`'s groups in `module` that are (`zoned`) or are not in one zone.
fn names<'a>(gs: &[Group<'a>], module: &str, pool: &str, zoned: bool) -> Vec<&'a str> {
    gs.iter()
        .filter(|g| g.module == module && g.pool == pool && g.one_zone == zoned)
        .map(|g| g.name)
        .collect()
}

fn list(module: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{module}: {GROUP}.{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Notes on node groups split per zone, merged across the zones, or dropped from a pool that
/// stays per zone, between `old` and `new`.
pub fn notes<'a>(
    old: &'a BTreeMap<String, Object>,
    new: &'a BTreeMap<String, Object>,
) -> Vec<String> {
    let (before, after) = (groups(old), groups(new));
    let pools: BTreeSet<(&str, &str)> = before
        .iter()
        .chain(&after)
        .map(|g| (g.module, g.pool))
        .collect();
    let mut notes = Vec::new();
    for (module, pool) in pools {
        let of = |gs: &[Group<'a>], zoned: bool| names(gs, module, pool, zoned);
        let (was_across, was_zoned) = (of(&before, false), of(&before, true));
        let (now_across, now_zoned) = (of(&after, false), of(&after, true));
        if !was_across.is_empty() && was_zoned.is_empty() && !now_zoned.is_empty() {
            let targets: Vec<String> = now_zoned
                .iter()
                .map(|n| format!("-target={GROUP}.{n}"))
                .collect();
            notes.push(format!(
                "{}: pool `{pool}` becomes one node group per zone ({}): it hosts in-cluster data, whose EBS volumes are zonal, and only a group of a volume's zone can give its pod a node (the Cluster Autoscaler cannot choose the zone of a group across zones). The apply deletes the old group and its nodes while it creates the new ones: the data services' pods are stopped and wait Pending until a node of their volume's zone joins; their volumes and data are kept (claims and PersistentVolumes outlive nodes). To move them once, create the new groups first — `terraform -chdir=terraform/{module} apply {}` — then apply the rest",
                list(module, &was_across),
                list(module, &now_zoned),
                targets.join(" ")
            ));
        } else if !was_zoned.is_empty() && now_zoned.is_empty() && !now_across.is_empty() {
            notes.push(format!(
                "{}: pool `{pool}`'s node groups per zone become one across the zones, {} (the pool no longer hosts in-cluster data). The apply deletes the old groups and their nodes while it creates the new one, so the pods on them restart elsewhere; to keep them running, create it first — `terraform -chdir=terraform/{module} apply -target={GROUP}.{}` — then apply the rest",
                list(module, &was_zoned),
                list(module, &now_across),
                now_across[0]
            ));
        } else if !now_zoned.is_empty() {
            let dropped: Vec<&str> = (was_zoned.iter())
                .filter(|n| !now_zoned.contains(n))
                .copied()
                .collect();
            if !dropped.is_empty() {
                notes.push(format!(
                    "{}: pool `{pool}` hosts in-cluster data and loses the node group of this zone (its `max` is below the number of zones, or the zone left the network): an EBS volume there can no longer get a node, so a data pod whose volume is in that zone stays Pending after the apply. Check first (`kubectl get pv -o custom-columns=NAME:.metadata.name,CLAIM:.spec.claimRef.name,ZONE:.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]`); move such data out (dump and restore after deleting the claim) or keep the pool's `max` at least the number of zones",
                    list(module, &dropped)
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Node groups of pool `memory` by name; one whose name has a zone (`…_us_east_1a`) has
    /// one subnet.
    fn groups(names: &[&str]) -> BTreeMap<String, Object> {
        names
            .iter()
            .map(|n| {
                let subnets = if n.contains("_us_") {
                    vec!["a"]
                } else {
                    vec!["a", "b"]
                };
                (
                    format!("infra: {GROUP}.{n}"),
                    Object {
                        kind: GROUP.into(),
                        file: "terraform/infra/nodes.tf.json".into(),
                        body: json!({"subnet_ids": subnets, "labels": {POOL_LABEL: "memory"}}),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_split_a_merge_and_a_dropped_zone_are_noted() {
        let single = groups(&["memory"]);
        let split = groups(&["memory_us_east_1a", "memory_us_east_1b"]);
        let notes = notes(&single, &split);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("pool `memory` becomes one node group per zone"));
        assert!(notes[0].contains(
            "apply -target=aws_eks_node_group.memory_us_east_1a -target=aws_eks_node_group.memory_us_east_1b"
        ));
        let back = super::notes(&split, &single);
        assert_eq!(back.len(), 1, "{back:?}");
        assert!(back[0].contains("-target=aws_eks_node_group.memory`"));
        let fewer = super::notes(&split, &groups(&["memory_us_east_1a"]));
        assert_eq!(fewer.len(), 1, "{fewer:?}");
        assert!(
            fewer[0].starts_with("infra: aws_eks_node_group.memory_us_east_1b: pool `memory` hosts in-cluster data and loses the node group of this zone")
        );
        // A zone added, or nothing per zone: nothing to say.
        assert!(super::notes(&groups(&["memory_us_east_1a"]), &split).is_empty());
        assert!(super::notes(&single, &single).is_empty());
    }
}
