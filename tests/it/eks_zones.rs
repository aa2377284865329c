//! Stateful pods on EKS and the zones of their volumes. An in-cluster data service keeps its
//! data on an EBS volume, which lives in one Availability Zone: after the first scheduling
//! (the `gp3` classes bind `WaitForFirstConsumer`) its pod can only run on a node of that
//! zone. A node group that spans zones cannot be told where to add a node — neither by the
//! Cluster Autoscaler, which then leaves the pod Pending, nor by Auto Scaling when it
//! replaces a failed node — so a pool that may host a data pod is one node group per zone
//! (the EKS user guide and the autoscaler's AWS README both ask for it), and the autoscaler
//! balances those groups. The blueprint's `min`/`desired`/`max` stay the pool's totals.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::connections::NEW_USER;
use crate::support::{resources, root, synth, synth_aws};

/// The node groups of an output by resource name, and its private subnets' zones by
/// reference (`${aws_subnet.private_us_east_1a.id}` → `us-east-1a`).
fn groups(out: &infragen::Output) -> (BTreeMap<String, Value>, BTreeMap<String, String>) {
    let mut groups = BTreeMap::new();
    let mut zones = BTreeMap::new();
    for (path, text) in &out.files {
        if !path.starts_with("terraform/infra/") {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(g) = doc
            .pointer("/resource/aws_eks_node_group")
            .and_then(Value::as_object)
        {
            groups.extend(g.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(s) = doc
            .pointer("/resource/aws_subnet")
            .and_then(Value::as_object)
        {
            for (k, v) in s {
                let zone = v["availability_zone"].as_str().unwrap().to_string();
                zones.insert(format!("${{aws_subnet.{k}.id}}"), zone);
            }
        }
    }
    (groups, zones)
}

/// The zones a group's nodes may be launched in.
fn zones_of(group: &Value, subnets: &BTreeMap<String, String>) -> Vec<String> {
    group["subnet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| subnets[s.as_str().unwrap()].clone())
        .collect()
}

fn size(group: &Value, field: &str) -> u64 {
    group["scaling_config"][field].as_u64().unwrap()
}

/// The groups of `pool` (its nodes carry `infragen.io/node-pool: <pool>`).
fn of_pool<'a>(groups: &'a BTreeMap<String, Value>, pool: &str) -> Vec<&'a Value> {
    groups
        .values()
        .filter(|g| g["labels"]["infragen.io/node-pool"] == pool)
        .collect()
}

/// ecommerce-eks in development runs its database, cache and queue in the cluster, pinned to
/// pool `memory` (1 node, up to 2, over three zones). Wherever a data pod's volume is, a
/// group confined to that zone can give it a node; the totals are the blueprint's; the
/// stateless pools stay one group across the zones.
#[test]
fn a_pool_hosting_data_is_a_node_group_per_zone() {
    let path = root().join("blueprints/ecommerce-eks.yaml");
    let out = synth(&path, Provider::Aws, "development");
    let (groups, subnets) = groups(&out);
    let memory = of_pool(&groups, "memory");
    assert!(memory.len() >= 2, "{memory:#?}");
    let mut seen = Vec::new();
    for g in &memory {
        let zones = zones_of(g, &subnets);
        // One zone per group: the autoscaler (or Auto Scaling replacing a node) adds the
        // node where the pod's volume is.
        assert_eq!(zones.len(), 1, "a data pool's group spans zones: {g:#}");
        assert!(!seen.contains(&zones[0]), "two groups in {}", zones[0]);
        seen.push(zones[0].clone());
        assert!(size(g, "max_size") >= 1, "{g:#}");
        // Alike for the autoscaler's balancing: one launch template, labels, taints, type.
        assert_eq!(g["launch_template"], memory[0]["launch_template"]);
        assert_eq!(g["labels"], memory[0]["labels"]);
        assert_eq!(g["instance_types"], memory[0]["instance_types"]);
        assert_eq!(g["taint"], memory[0]["taint"]);
    }
    // The development overlay's pool: min 1, desired 1, max 2 — the sums of the groups.
    let total = |f| memory.iter().map(|g| size(g, f)).sum::<u64>();
    assert_eq!(
        (total("min_size"), total("desired_size"), total("max_size")),
        (1, 1, 2)
    );
    // Stateless pools: one group across every private subnet.
    for pool in ["general", "compute"] {
        let g = of_pool(&groups, pool);
        assert_eq!(g.len(), 1, "{pool}");
        assert_eq!(zones_of(g[0], &subnets).len(), 3, "{pool}");
    }
    // Production runs no data in the cluster: `memory` stays one group there.
    let prod = synth(&path, Provider::Aws, "production");
    let (groups, subnets) = self::groups(&prod);
    let memory = of_pool(&groups, "memory");
    assert_eq!(memory.len(), 1);
    assert_eq!(zones_of(memory[0], &subnets).len(), 3);
}

/// A data service pinned to no pool may land on any pool without a taint: each such pool
/// is split; a tainted one (which the data pods do not tolerate) is not. The figures are
/// spread over the zones, earlier zones taking the remainder.
#[test]
fn unpinned_data_splits_every_pool_it_may_land_on() {
    let path = root().join("tests/fixtures/new-user/notes-eks.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let (groups, subnets) = groups(&out);
    let general = of_pool(&groups, "general");
    let figures: Vec<(Vec<String>, [u64; 3])> = general
        .iter()
        .map(|g| {
            (
                zones_of(g, &subnets),
                [
                    size(g, "min_size"),
                    size(g, "desired_size"),
                    size(g, "max_size"),
                ],
            )
        })
        .collect();
    // min 2, desired 2, max 5 over two zones.
    assert_eq!(
        figures,
        [
            (vec!["eu-central-1a".to_string()], [1, 1, 3]),
            (vec!["eu-central-1b".to_string()], [1, 1, 2]),
        ]
    );
    let batch = of_pool(&groups, "batch");
    assert_eq!(batch.len(), 1);
    assert_eq!(zones_of(batch[0], &subnets).len(), 2);
}

/// A one-node pool with a database: its node is in one zone and must come back there when
/// it is replaced, so the pool is one fixed group in the first zone — not one group over
/// both, whose replacement node Auto Scaling may launch in the other. Nothing can change
/// size, so no autoscaler is installed.
#[test]
fn a_one_node_data_pool_stays_in_its_zone() {
    let yaml = NEW_USER.replace(
        "{ name: general, size: medium, min: 2, max: 4 }",
        "{ name: general, size: large, min: 1, max: 1 }",
    );
    assert_ne!(yaml, NEW_USER);
    let out = synth_aws("shop", &yaml).unwrap();
    let (groups, subnets) = groups(&out);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = groups.values().next().unwrap();
    assert_eq!(zones_of(g, &subnets), ["eu-west-1a"]);
    assert_eq!(
        (
            size(g, "min_size"),
            size(g, "desired_size"),
            size(g, "max_size")
        ),
        (1, 1, 1)
    );
    assert!(
        !resources(&out, "platform", "helm_release")
            .iter()
            .any(|r| r["chart"] == "cluster-autoscaler")
    );
}

/// The autoscaler grows the per-zone groups of a pool together: `balance-similar-node-groups`,
/// ignoring the labels that differ by zone on EKS nodes (the zone ID EKS sets and the EBS CSI
/// driver's topology label), which would otherwise make the groups unlike.
#[test]
fn the_autoscaler_balances_the_zone_groups() {
    let path = root().join("blueprints/ecommerce-eks.yaml");
    let out = synth(&path, Provider::Aws, "development");
    let release = resources(&out, "platform", "helm_release")
        .into_iter()
        .find(|r| r["chart"] == "cluster-autoscaler")
        .expect("the autoscaler");
    let values: Value = serde_json::from_str(release["values"][0].as_str().unwrap()).unwrap();
    let args = values["extraArgs"].as_object().unwrap();
    assert_eq!(args["balance-similar-node-groups"], true);
    // The chart writes `--<key up to the first _>=<value>` per key.
    let ignored: Vec<&str> = args
        .iter()
        .filter(|(k, _)| k.split('_').next() == Some("balancing-ignore-label"))
        .map(|(_, v)| v.as_str().unwrap())
        .collect();
    for label in ["topology.k8s.aws/zone-id", "topology.ebs.csi.aws.com/zone"] {
        assert!(ignored.contains(&label), "{label}: {args:?}");
    }
}

/// The zone goes into the node group's name (`<pool>-<zone>-` plus EKS's 26-character
/// suffix, within 63), so a pool that hosts data has two characters fewer for its name.
#[test]
fn a_data_pool_name_too_long_for_its_zone_groups_is_refused() {
    let long = "a".repeat(35);
    let yaml = NEW_USER.replace(
        "{ name: general, size: medium,",
        &format!("{{ name: {long}, size: medium,"),
    );
    let err = synth_aws("shop", &yaml).unwrap_err();
    assert!(
        err.contains(&format!("node pool `{long}` hosts in-cluster data"))
            && err.contains(&format!("`{long}-a-`"))
            && err.contains("at most 34 characters"),
        "{err}"
    );
    // The same name for a pool without data is still accepted.
    let managed = yaml.replace(
        "{ name: catalog, engine: mongodb, deployment: in_cluster }",
        "{ name: catalog, engine: mongodb, deployment: in_cluster, in_cluster: { node_pool: data } }",
    );
    let managed = managed.replace(
        "node_pools:\n",
        "node_pools:\n  - { name: data, size: large, min: 1, max: 2 }\n",
    );
    synth_aws("shop", &managed).unwrap();
}

/// `infragen diff` when a pool starts hosting data: Terraform deletes its group and creates
/// one per zone, in parallel; the note says the data pods wait for their zone's group, that
/// their volumes are kept, and how to create the new groups first.
#[test]
fn diff_says_a_pool_is_split_per_zone_and_how_to_move_once() {
    // Base: the database pinned to a pool of its own, so `general` hosts no data.
    let base = NEW_USER
        .replace(
            "{ name: catalog, engine: mongodb, deployment: in_cluster }",
            "{ name: catalog, engine: mongodb, deployment: in_cluster, in_cluster: { node_pool: data } }",
        )
        .replace(
            "node_pools:\n",
            "node_pools:\n  - { name: data, size: large, min: 2, max: 2 }\n",
        );
    let head = NEW_USER.replace(
        "node_pools:\n",
        "node_pools:\n  - { name: data, size: large, min: 2, max: 2 }\n",
    );
    let text = diff_text(&base, &head, "production");
    assert!(
        text.contains("infra: aws_eks_node_group.general: pool `general` becomes one node group per zone")
            && text.contains("their volumes and data are kept")
            && text.contains(
                "terraform -chdir=terraform/infra apply -target=aws_eks_node_group.general_eu_west_1a -target=aws_eks_node_group.general_eu_west_1b"
            ),
        "{text}"
    );
    // `data` was per zone and stays so: nothing to say about it.
    assert!(!text.contains("pool `data`"), "{text}");
}

/// A data pool that keeps its groups per zone but loses one (its `max` lowered below the
/// number of zones) strands a volume in that zone: the diff says so before the apply.
#[test]
fn diff_warns_when_a_data_pool_loses_a_zone() {
    let eks = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let pool = "{ name: memory, min: 1, desired: 1, max: 2 }";
    assert!(eks.contains(pool));
    let base = eks.replace(pool, "{ name: memory, min: 1, desired: 1, max: 3 }");
    let text = diff_text(&base, &eks, "development");
    assert!(
        text.contains(
            "infra: aws_eks_node_group.memory_us_east_1c: pool `memory` hosts in-cluster data and loses the node group of this zone"
        ) && text.contains("stays Pending"),
        "{text}"
    );
    // Growing back adds the zone: nothing to warn about.
    assert!(!diff_text(&eks, &base, "development").contains("loses the node group"));
}

/// `infragen diff --provider aws --env <env>` of two blueprint texts.
fn diff_text(base: &str, head: &str, env: &str) -> String {
    crate::support::diff("aws", env, base, head).1
}
