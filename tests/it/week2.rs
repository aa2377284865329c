//! A new user's second week: the first week's blueprints (`tests/fixtures/new-user/*.yaml`)
//! changed as a team changes them through pull requests (`*-week2.yaml` beside them: a
//! service added that uses the data and another service, a rename with `renamed_from`, a
//! namespace move, per-environment scaling, a read replica, a pinned cache version), read
//! through `infragen diff --format json` as a CI step reads it. Ordinary changes must not
//! touch what holds data, renames must keep their state (`moved`), and nothing may need a
//! step one apply cannot make.

use std::path::Path;

use serde_json::Value;

use crate::support::root;

/// Resource types and Kubernetes kinds whose replacement or removal loses data.
const DATA: &[&str] = &[
    "aws_db_instance",
    "aws_elasticache_replication_group",
    "aws_mq_broker",
    "aws_s3_bucket",
    "aws_dynamodb_table",
    "aws_secretsmanager_secret",
    "aws_kms_key",
    "digitalocean_database_cluster",
    "digitalocean_spaces_bucket",
    "StatefulSet",
    "PersistentVolumeClaim",
    "Namespace",
    "kubernetes_namespace_v1",
];

fn diff_json(dir: &Path, base: &str, head: &str) -> Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args([
            "diff",
            "--format",
            "json",
            "--base",
            base,
            "--blueprint",
            head,
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    serde_json::from_slice(&o.stdout).unwrap()
}

fn targets(v: &Value) -> impl Iterator<Item = (String, &Value)> {
    v["targets"].as_array().unwrap().iter().map(|t| {
        (
            format!(
                "{} / {}",
                t["provider"].as_str().unwrap(),
                t["env"].as_str().unwrap()
            ),
            t,
        )
    })
}

#[test]
fn a_week_of_changes_keeps_the_data_and_applies_in_one_run() {
    let dir = root().join("tests/fixtures/new-user");
    for (base, head, renamed) in [
        ("shop-eks.yaml", "shop-eks-week2.yaml", Some("catalog")),
        ("pay-ecs.yaml", "pay-ecs-week2.yaml", Some("worker")),
        ("kiosk-doks.yaml", "kiosk-doks-week2.yaml", None),
        // Month three: a size up, more storage, a replica, Valkey 8.0 → 8.1, a rename.
        ("courier-ecs.yaml", "courier-ecs-month3.yaml", Some("admin")),
    ] {
        let v = diff_json(&dir, base, head);
        let mut moved = 0;
        for (target, t) in targets(&v) {
            for c in t["changes"].as_array().unwrap() {
                let ty = c["type"].as_str().unwrap();
                assert!(
                    c["destructive"].is_null() || !DATA.contains(&ty),
                    "{head} {target}: a week of ordinary changes destroys data: {c:#}"
                );
                // A renamed component's resources follow it (`moved`), never destroyed and
                // created anew under the new name.
                if let Some(renamed) = renamed
                    && c["kind"] == "removed"
                    && c["module"] != "k8s"
                {
                    assert!(
                        !c["name"].as_str().unwrap().contains(renamed),
                        "{head} {target}: {c:#}"
                    );
                }
                moved += usize::from(c["kind"] == "moved");
            }
            for note in t["notes"].as_array().unwrap() {
                let note = note.as_str().unwrap();
                assert!(
                    !note.contains("fails") && !note.contains("not applied"),
                    "{head} {target}: a change one apply cannot make: {note}"
                );
            }
        }
        // The ECS worker's roles, log group, security group and service move; the EKS
        // `catalog` has no Terraform resources of its own (its objects are manifests).
        if renamed == Some("worker") {
            assert!(moved >= 10, "{head}: {moved} moves");
        }
    }
}

/// kiosk on DOKS: the production replica reaches the clients of `orders` through the
/// platform module, and gets a firewall of its own admitting the cluster.
#[test]
fn a_doks_replica_is_read_and_fenced() {
    let dir = root().join("tests/fixtures/new-user");
    let v = diff_json(&dir, "kiosk-doks.yaml", "kiosk-doks-week2.yaml");
    let (_, t) = targets(&v)
        .find(|(t, _)| t == "digitalocean / production")
        .unwrap();
    let changes = t["changes"].as_array().unwrap();
    let added = |ty: &str, name: &str| {
        changes
            .iter()
            .any(|c| c["kind"] == "added" && c["type"] == ty && c["name"] == name)
    };
    assert!(added("digitalocean_database_replica", "orders_1"));
    assert!(
        added("digitalocean_database_firewall", "orders_1"),
        "{changes:#?}"
    );
    let storefront = changes
        .iter()
        .find(|c| c["type"] == "kubernetes_config_map_v1" && c["name"] == "kiosk_storefront")
        .unwrap_or_else(|| panic!("{changes:#?}"));
    assert!(
        storefront.to_string().contains("data.ORDERS_REPLICA_HOST"),
        "{storefront:#}"
    );
}

/// A fixed-size pool raised to five nodes in production is applied (EKS sets min, max and
/// desired together), and production's new read replica reaches every client of the
/// database on both clouds (`ORDERS_DB_REPLICA_HOST`).
#[test]
fn production_grows_and_reads_from_its_replica() {
    let dir = root().join("tests/fixtures/new-user");
    let v = diff_json(&dir, "shop-eks.yaml", "shop-eks-week2.yaml");
    let (_, aws) = targets(&v).find(|(t, _)| t == "aws / production").unwrap();
    let group = aws["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "aws_eks_node_group" && c["name"] == "general_us_east_1a")
        .expect("the node group changes");
    // 3..5 autoscaled → five fixed, over two zones (the pool hosts the in-cluster
    // `catalog-db`, so a group per zone): us-east-1a's 2..3 becomes three fixed, min and
    // desired rise (max was three already).
    for (path, to) in [
        ("scaling_config.min_size", 3),
        ("scaling_config.desired_size", 3),
    ] {
        assert!(
            group["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["path"] == path && a["new"] == to),
            "{group:#}"
        );
    }
    // …because the size is no longer left to an autoscaler: EKS refused the new minimum
    // beside the old desired size while Terraform ignored it.
    assert!(
        group["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["path"] == "lifecycle.ignore_changes[0]"
                && a["old"] == "scaling_config[0].desired_size"
                && a["new"].is_null()),
        "{group:#}"
    );
    for (target, t) in targets(&v).filter(|(t, _)| t.ends_with("production")) {
        if target.starts_with("kubernetes") {
            continue; // in-cluster MySQL: no replica (noted at synth)
        }
        // `search` is new (the connections loop checks its variables); `api` changes.
        let api = t["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Deployment" && c["name"] == "api")
            .unwrap_or_else(|| panic!("{target}: api unchanged"));
        assert!(
            api.to_string().contains("ORDERS_DB_REPLICA_HOST"),
            "{target}: {api:#}"
        );
    }
}
