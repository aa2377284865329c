//! An EKS node pool that starts (or stops) hosting in-cluster data is split into one managed
//! node group per zone (or merged back into one across the zones), `backend/aws/cluster/zones.rs`.
//! To Terraform that is one node group removed and others added: the apply deletes the old
//! group with its nodes while it creates the new ones, and nothing orders the two. The data
//! services' pods then wait Pending until a node of their volume's zone joins — their
//! volumes survive (a claim and its PersistentVolume outlive any node; the StatefulSets keep
//! their claims) — so the note says what happens and how to create the new groups first.

use std::collections::BTreeMap;

use super::objects::Object;

const GROUP: &str = "aws_eks_node_group";

/// A node group of `objs` that `other` does not hold: module, name, and whether it is in one
/// zone (one subnet).
type Group<'a> = (&'a str, &'a str, bool);

fn only_in<'a>(
    objs: &'a BTreeMap<String, Object>,
    other: &BTreeMap<String, Object>,
) -> Vec<Group<'a>> {
    objs.iter()
        .filter(|(addr, o)| o.kind == GROUP && !other.contains_key(*addr))
        .filter_map(|(addr, o)| {
            let (module, rest) = addr.split_once(": ")?;
            let one_zone = o
                .body
                .get("subnet_ids")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|s| s.len() == 1);
            Some((module, rest.strip_prefix(&format!("{GROUP}."))?, one_zone))
        })
        .collect()
}

/// The per-zone groups of `pool` among `groups` in `module` (`<pool>_<zone>`, one subnet).
fn zonal<'a>(groups: &[Group<'a>], module: &str, pool: &str) -> Vec<&'a str> {
    groups
        .iter()
        .filter(|(m, n, one_zone)| {
            *m == module && *one_zone && n.strip_prefix(pool).is_some_and(|r| r.starts_with('_'))
        })
        .map(|(_, n, _)| *n)
        .collect()
}

fn list(module: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{module}: {GROUP}.{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Notes on node groups split per zone or merged across the zones between `old` and `new`.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let (gone, added) = (only_in(old, new), only_in(new, old));
    let mut notes = Vec::new();
    for (module, pool, _) in &gone {
        let zones = zonal(&added, module, pool);
        if zones.is_empty() {
            continue;
        }
        let targets: Vec<String> = zones
            .iter()
            .map(|n| format!("-target={GROUP}.{n}"))
            .collect();
        notes.push(format!(
            "{module}: {GROUP}.{pool} becomes one node group per zone ({}): the pool hosts in-cluster data, whose EBS volumes are zonal, and only a group of a volume's zone can give its pod a node (the Cluster Autoscaler cannot choose the zone of a group across zones). The apply deletes the old group and its nodes while it creates the new ones: the data services' pods are stopped and wait Pending until a node of their volume's zone joins; their volumes and data are kept (claims and PersistentVolumes outlive nodes). To move them once, create the new groups first — `terraform -chdir=terraform/{module} apply {}` — then apply the rest",
            list(module, &zones),
            targets.join(" ")
        ));
    }
    for (module, pool, _) in &added {
        let zones = zonal(&gone, module, pool);
        if zones.is_empty() {
            continue;
        }
        notes.push(format!(
            "{module}: the per-zone node groups {} become one across the zones, {module}: {GROUP}.{pool} (the pool no longer hosts in-cluster data). The apply deletes the old groups and their nodes while it creates the new one, so the pods on them restart elsewhere; to keep them running, create it first — `terraform -chdir=terraform/{module} apply -target={GROUP}.{pool}` — then apply the rest",
            list(module, &zones)
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Node groups by name; one whose name has a zone (`…_us_east_1a`) has one subnet.
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
                        body: json!({"subnet_ids": subnets}),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_split_and_a_merge_are_noted_and_other_groups_are_not() {
        let single = groups(&["general", "memory"]);
        let split = groups(&["general", "memory_us_east_1a", "memory_us_east_1b"]);
        let notes = notes(&single, &split);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("aws_eks_node_group.memory becomes one node group per zone"));
        assert!(notes[0].contains(
            "apply -target=aws_eks_node_group.memory_us_east_1a -target=aws_eks_node_group.memory_us_east_1b"
        ));
        let back = super::notes(&split, &single);
        assert_eq!(back.len(), 1, "{back:?}");
        assert!(back[0].contains("-target=aws_eks_node_group.memory`"));
        // A pool whose name merely extends another's is not its zone group.
        assert!(super::notes(&groups(&["web"]), &groups(&["web_app"])).is_empty());
    }
}
