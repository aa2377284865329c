//! Rules the AWS APIs enforce at apply time that no schema carries (issue 14), checked on
//! every shipped AWS blueprint × environment and on blueprints written the way a new user
//! would. Each test fails on the output before its fix.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::{matrix, synth};

/// Every AWS output of the shipped blueprints: (label, output).
fn aws_outputs() -> Vec<(String, infragen::Output)> {
    matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == Provider::Aws)
        .map(|(stem, path, p, env)| (format!("{stem}@{env}"), synth(&path, p, &env)))
        .collect()
}

/// The parsed `*.tf.json` files of one module, by file name.
fn files(out: &infragen::Output, module: &str) -> BTreeMap<String, Value> {
    let prefix = format!("terraform/{module}/");
    out.files
        .iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix(&prefix)?;
            Some((name.to_string(), serde_json::from_str(text).unwrap()))
        })
        .collect()
}

/// Every resource of type `ty` in a module: (name, body).
fn resources(out: &infragen::Output, module: &str, ty: &str) -> Vec<(String, Value)> {
    let mut v = Vec::new();
    for doc in files(out, module).values() {
        if let Some(named) = doc
            .pointer(&format!("/resource/{ty}"))
            .and_then(Value::as_object)
        {
            v.extend(named.iter().map(|(n, b)| (n.clone(), b.clone())));
        }
    }
    v
}

fn backend(out: &infragen::Output, module: &str) -> Option<Value> {
    files(out, module)
        .values()
        .find_map(|d| d.pointer("/terraform/backend/s3").cloned())
}

fn synth_text(name: &str, yaml: &str, env: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(name, yaml.as_bytes(), Provider::Aws, env).map_err(|d| d.to_string())
}

#[test]
fn rabbitmq_brokers_use_the_aws_owned_key() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for (name, b) in resources(&out, "infra", "aws_mq_broker") {
            if b["engine_type"] == "RabbitMQ" {
                seen += 1;
                let enc = &b["encryption_options"];
                assert_eq!(enc["use_aws_owned_key"], true, "{label}: {name}");
                assert!(enc.get("kms_key_id").is_none(), "{label}: {name}: {enc}");
            }
        }
    }
    assert!(seen > 0, "no RabbitMQ broker in the shipped blueprints");
}

/// KMS rejects a key policy naming a principal that does not exist; the Auto Scaling
/// service-linked role does not exist in a fresh account until something creates it.
#[test]
fn the_ebs_key_policy_names_only_principals_created_before_it() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        let keys = resources(&out, "infra", "aws_kms_key");
        let Some((_, ebs)) = keys.iter().find(|(n, _)| n == "ebs") else {
            continue;
        };
        seen += 1;
        assert!(
            ebs["policy"]
                .as_str()
                .unwrap()
                .contains("AWSServiceRoleForAutoScaling")
        );
        let deps: Vec<&str> = ebs["depends_on"]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: aws_kms_key.ebs has no depends_on"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            deps.contains(&"aws_iam_service_linked_role.autoscaling"),
            "{label}: {deps:?}"
        );
        let slr = resources(&out, "infra", "aws_iam_service_linked_role");
        assert!(
            slr.iter().any(|(n, b)| n == "autoscaling"
                && b["aws_service_name"]
                    .as_str()
                    .unwrap()
                    .contains("each.value")),
            "{label}: {slr:?}"
        );
        // An account that already has the role adopts it instead of failing on create.
        let imports: Vec<Value> = files(&out, "infra")
            .values()
            .filter_map(|d| d.get("import").and_then(Value::as_array).cloned())
            .flatten()
            .collect();
        assert!(
            imports
                .iter()
                .any(|i| i["to"] == "aws_iam_service_linked_role.autoscaling[each.key]"),
            "{label}: {imports:?}"
        );
    }
    assert!(seen > 0);
}

/// create_before_destroy makes the replacement exist beside the old resource: a fixed name
/// collides, so the name must come from a prefix (where the resource type offers one).
#[test]
fn replaced_before_destroyed_parameter_groups_take_a_name_prefix() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for ty in ["aws_db_parameter_group", "aws_rds_cluster_parameter_group"] {
            for (name, b) in resources(&out, "infra", ty) {
                if b.pointer("/lifecycle/create_before_destroy") == Some(&Value::Bool(true)) {
                    seen += 1;
                    assert!(b.get("name").is_none(), "{label}: {ty}.{name} sets `name`");
                    assert!(b["name_prefix"].as_str().is_some(), "{label}: {ty}.{name}");
                }
            }
        }
    }
    assert!(seen > 0);
}

/// S3 bucket names are global: a derived name carries the account, and no two environments'
/// bootstraps create the same state bucket.
#[test]
fn bucket_names_cannot_collide_across_accounts_or_environments() {
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    for (label, out) in aws_outputs() {
        for (name, b) in resources(&out, "infra", "aws_s3_bucket") {
            let bucket = b["bucket"].as_str().unwrap();
            let explicit = [
                "qurable-logs",
                "qurable-backups",
                "qurable-staging-logs",
                "qurable-staging-backups",
            ];
            assert!(
                explicit.contains(&bucket)
                    || bucket.ends_with("${data.aws_caller_identity.current.account_id}"),
                "{label}: aws_s3_bucket.{name} is `{bucket}`"
            );
        }
        for (_, b) in resources(&out, "bootstrap", "aws_s3_bucket") {
            let bucket = b["bucket"].as_str().unwrap().to_string();
            if let Some(other) = state.insert(bucket.clone(), label.clone()) {
                panic!("{label} and {other} both create the state bucket `{bucket}`");
            }
        }
    }
    assert!(state.len() >= 3, "{state:?}");
}

#[test]
fn a_state_bucket_shared_by_environments_is_refused() {
    let yaml = std::fs::read_to_string(crate::support::root().join("blueprints/qurable-ecs.yaml"))
        .unwrap()
        .replace(
            "bucket: qurable-terraform-state-{env}",
            "bucket: qurable-terraform-state",
        );
    let err = synth_text("shop.yaml", &yaml, "production").unwrap_err();
    assert!(err.contains("state.bucket"), "{err}");
    assert!(err.contains("{env}"), "{err}");
}

/// The backend must name the bootstrap's KMS key: with `encrypt` alone it writes SSE-S3
/// objects, overriding the bucket's KMS default.
#[test]
fn state_is_encrypted_with_the_key_bootstrap_creates() {
    for (label, out) in aws_outputs() {
        let aliases = resources(&out, "bootstrap", "aws_kms_alias");
        let (_, alias) = aliases.iter().find(|(n, _)| n == "state").unwrap();
        for module in ["infra", "platform"] {
            let Some(b) = backend(&out, module) else {
                continue;
            };
            assert_eq!(b["encrypt"], true, "{label}/{module}");
            assert_eq!(b["kms_key_id"], alias["name"], "{label}/{module}");
        }
    }
}

/// The execution role pulls from the repository the output creates (its ARN, not an account
/// parsed from a placeholder image URL), and the task runs the image from that repository.
#[test]
fn ecs_pulls_images_from_the_repositories_it_creates() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for (name, td) in resources(&out, "infra", "aws_ecs_task_definition") {
            let defs: Value =
                serde_json::from_str(td["container_definitions"].as_str().unwrap_or("[]"))
                    .unwrap_or(Value::Null);
            let text = td["container_definitions"].to_string();
            if !text.contains("aws_ecr_repository") {
                continue;
            }
            seen += 1;
            assert!(
                text.contains("${aws_ecr_repository.qurable_api.repository_url}:1.0.0"),
                "{label}: {name}: {defs}"
            );
        }
        for (name, p) in resources(&out, "infra", "aws_iam_role_policy") {
            let policy = p["policy"].as_str().unwrap_or_default();
            if policy.contains("ecr:BatchGetImage") {
                assert!(
                    policy.contains("${aws_ecr_repository.qurable_api.arn}"),
                    "{label}: {name}: {policy}"
                );
                assert!(
                    !policy.contains("123456789012"),
                    "{label}: {name}: {policy}"
                );
            }
        }
    }
    assert!(seen > 0);
}

/// A certificate ARN variable without a default makes `terraform plan` prompt in CI.
#[test]
fn an_https_load_balancer_without_a_certificate_is_refused_at_synth() {
    let yaml = std::fs::read_to_string(crate::support::root().join("blueprints/qurable-ecs.yaml"))
        .unwrap()
        .replace(
            "  certificate:\n    arn: arn:aws:acm:us-east-1:123456789012:certificate/xxxxx\n",
            "",
        );
    let err = synth_text("shop.yaml", &yaml, "production").unwrap_err();
    assert!(err.contains("certificate.domain"), "{err}");
    for (label, out) in aws_outputs() {
        for doc in files(&out, "infra").values() {
            if let Some(vars) = doc.get("variable").and_then(Value::as_object) {
                for (n, v) in vars {
                    assert!(
                        v.get("default").is_some(),
                        "{label}: variable {n} has no default"
                    );
                }
            }
        }
    }
}
