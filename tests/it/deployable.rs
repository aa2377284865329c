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
            // qurable-ecs's `qurable-api`, private-ecs's `vault/api` and `vault/worker`.
            assert!(
                text.contains(&format!(
                    "${{aws_ecr_repository.{}.repository_url}}:1.0.0",
                    if label.starts_with("qurable") {
                        "qurable_api"
                    } else {
                        name.as_str()
                    }
                )),
                "{label}: {name}: {defs}"
            );
        }
        for (name, p) in resources(&out, "infra", "aws_iam_role_policy") {
            let policy = p["policy"].as_str().unwrap_or_default();
            if policy.contains("ecr:BatchGetImage") {
                assert!(
                    policy.contains("${aws_ecr_repository.qurable_api.arn}")
                        || (label.starts_with("private-ecs")
                            && (policy.contains("${aws_ecr_repository.api.arn}")
                                || policy.contains("${aws_ecr_repository.worker.arn}"))),
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

/// DynamoDB publishes ThrottledRequests per TableName + Operation: an alarm on TableName alone
/// watches a series that never exists.
#[test]
fn dynamodb_throttling_alarms_cover_every_operation() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for (name, a) in resources(&out, "infra", "aws_cloudwatch_metric_alarm") {
            let text = a.to_string();
            if !text.contains("ThrottledRequests") {
                continue;
            }
            seen += 1;
            assert!(a.get("dimensions").is_none(), "{label}: {name}: {a}");
            let q = a["metric_query"][0]["expression"].as_str().unwrap();
            assert!(
                q.contains("SCHEMA(\"AWS/DynamoDB\", Operation, TableName)")
                    && q.contains("TableName = '${aws_dynamodb_table."),
                "{label}: {name}: {q}"
            );
        }
    }
    assert!(seen > 0);
}

fn with_notify(notify: &str) -> Result<infragen::Output, String> {
    let yaml = std::fs::read_to_string(crate::support::root().join("blueprints/qurable-ecs.yaml"))
        .unwrap()
        .replace(
            "  alert_topic: qurable-alerts",
            &format!("  alert_topic: qurable-alerts\n  notify: {notify}"),
        );
    synth_text("shop.yaml", &yaml, "production")
}

/// An SNS topic nobody subscribes to sends alarms nowhere.
#[test]
fn alarms_reach_the_subscribers_the_blueprint_names() {
    let out = with_notify("[ops@example.com, \"https://hooks.example.com/alerts\"]").unwrap();
    let subs = resources(&out, "infra", "aws_sns_topic_subscription");
    let mut got: Vec<(String, String)> = subs
        .iter()
        .map(|(_, s)| {
            assert_eq!(s["topic_arn"], "${aws_sns_topic.alerts.arn}");
            (
                s["protocol"].as_str().unwrap().to_string(),
                s["endpoint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("email".to_string(), "ops@example.com".to_string()),
            (
                "https".to_string(),
                "https://hooks.example.com/alerts".to_string()
            ),
        ]
    );
    assert!(
        !out.notes
            .iter()
            .any(|n| n.rule == Some("alerts-unsubscribed"))
    );
    // SNS delivers nothing before a subscription is confirmed: the user is told to.
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("pending until confirmed")
                && n.text.contains("ops@example.com")),
        "{:?}",
        out.notes
    );

    let (_, path, _, _) = matrix()
        .into_iter()
        .find(|(stem, _, p, _)| stem == "qurable-ecs" && *p == Provider::Aws)
        .unwrap();
    let shipped = synth(&path, Provider::Aws, "production");
    assert!(
        shipped
            .notes
            .iter()
            .any(|n| n.rule == Some("alerts-unsubscribed")),
        "{:?}",
        shipped.notes
    );

    let err = with_notify("[\"http://hooks.example.com/alerts\"]").unwrap_err();
    assert!(err.contains("observability.notify[0]"), "{err}");
}

/// AWSManagedRulesCommonRuleSet blocks bodies over 8 KB; an ingress that accepts 10m must not
/// have its uploads blocked by the WAF in front of it.
#[test]
fn the_waf_counts_large_bodies_the_ingress_accepts() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for (_, acl) in resources(&out, "infra", "aws_wafv2_web_acl") {
            for rule in acl["rule"].as_array().unwrap() {
                if rule["name"] != "AWSManagedRulesCommonRuleSet" {
                    continue;
                }
                let overrides = rule
                    .pointer("/statement/managed_rule_group_statement/rule_action_override")
                    .map(Value::to_string)
                    .unwrap_or_default();
                let large = label.starts_with("ecommerce-eks");
                assert_eq!(
                    overrides.contains("SizeRestrictions_BODY"),
                    large,
                    "{label}: {overrides}"
                );
                seen += usize::from(large);
            }
        }
    }
    assert!(seen > 0);
}

/// A private EKS endpoint comes with a way in by default: an SSM-managed instance the control
/// plane admits on 443, and `platform` providers that take the tunnel's address while still
/// verifying the endpoint's certificate by name. `access: none` drops it with a warning; a
/// public endpoint needs neither. The CI role gets an access entry when the blueprint names it.
#[test]
fn eks_access_paths_are_explicit() {
    let path = crate::support::root().join("blueprints/case-eks-fargate.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let instances = resources(&out, "infra", "aws_instance");
    let (_, instance) = instances
        .iter()
        .find(|(n, _)| n == "api_access")
        .expect("an SSM access instance");
    assert_eq!(instance["associate_public_ip_address"], false);
    assert_eq!(instance["metadata_options"]["http_tokens"], "required");
    assert!(
        resources(&out, "infra", "aws_iam_role_policy_attachment")
            .iter()
            .any(|(_, a)| a["policy_arn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    );
    let ingress = resources(&out, "infra", "aws_vpc_security_group_ingress_rule");
    let (_, api) = ingress
        .iter()
        .find(|(n, _)| n == "cluster_api_from_access")
        .expect("the control plane admits the access instance");
    assert_eq!(api["from_port"], 443);
    assert!(
        api["security_group_id"]
            .as_str()
            .unwrap()
            .contains("cluster_security_group_id")
    );
    let providers = files(&out, "platform")["providers.tf.json"].clone();
    let kube = &providers["provider"]["kubernetes"];
    assert!(
        kube["host"].as_str().unwrap().contains("var.kube_host"),
        "{kube}"
    );
    assert!(
        kube["tls_server_name"]
            .as_str()
            .unwrap()
            .contains("trimprefix"),
        "{kube}"
    );
    assert!(providers["variable"]["kube_host"].is_object());
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("aws ssm start-session")),
        "{:?}",
        out.notes
    );

    let text = std::fs::read_to_string(&path).unwrap();
    let none = text.replace(
        "  platform: eks_fargate\n",
        "  platform: eks_fargate\n  endpoint: { access: none }\n",
    );
    let out = synth_text("case.yaml", &none, "production").unwrap();
    assert!(resources(&out, "infra", "aws_instance").is_empty());
    assert!(
        out.notes
            .iter()
            .any(|n| n.rule == Some("eks-endpoint-private")),
        "{:?}",
        out.notes
    );
    let public = text.replace(
        "  platform: eks_fargate\n",
        "  platform: eks_fargate\n  endpoint: { public: true, allowed_cidrs: [203.0.113.0/24] }\n",
    );
    let out = synth_text("case.yaml", &public, "production").unwrap();
    assert!(resources(&out, "infra", "aws_instance").is_empty());
    let providers = files(&out, "platform")["providers.tf.json"].clone();
    assert!(providers["variable"].is_null(), "{providers}");

    let yaml = std::fs::read_to_string(&path).unwrap().replace(
        "    region: us-east-1\n",
        "    region: us-east-1\n    ci_role_arn: arn:aws:iam::123456789012:role/ci-deploy\n",
    );
    let out = synth_text("case.yaml", &yaml, "production").unwrap();
    let entries = resources(&out, "infra", "aws_eks_access_entry");
    assert!(
        entries
            .iter()
            .any(|(_, e)| e["principal_arn"] == "arn:aws:iam::123456789012:role/ci-deploy"),
        "{entries:?}"
    );

    let bad = yaml.replace("role/ci-deploy", "assumed-role/ci-deploy/session");
    let err = synth_text("case.yaml", &bad, "production").unwrap_err();
    assert!(err.contains("providers.aws.ci_role_arn"), "{err}");
}

/// RDS refuses overlapping backup and maintenance windows; touching ones are accepted (moto
/// refuses those too — a moto quirk, see the README).
#[test]
fn overlapping_rds_windows_are_refused_touching_ones_accepted() {
    let path = crate::support::root().join("blueprints/ecommerce-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("window: \"03:00-04:00\" # not in the seed: chosen, after the 02:00"));
    assert!(synth_text("shop.yaml", &text, "production").is_ok());
    for (backup, maintenance) in [
        ("03:00-04:00", "sun:03:30-sun:04:30"),
        ("23:30-00:30", "mon:00:00-mon:01:00"),
        ("03:00-04:00", "sat:23:00-sun:03:01"),
    ] {
        let yaml = text
            .replacen(
                "window: \"03:00-04:00\" # not in the seed: chosen, after the 02:00",
                &format!("window: \"{backup}\" # after the 02:00"),
                1,
            )
            .replacen(
                "maintenance_window: \"sun:04:00-sun:05:00\"",
                &format!("maintenance_window: \"{maintenance}\""),
                1,
            );
        let err = synth_text("shop.yaml", &yaml, "production").unwrap_err();
        assert!(
            err.contains("overlaps the maintenance window"),
            "{backup} / {maintenance}: {err}"
        );
    }
}

/// IAM refuses tag keys that differ only in case (`Environment` from the blueprint and the
/// default `environment`): CreateRole fails with "Duplicate tag keys found".
#[test]
fn default_tags_never_repeat_a_key_in_another_case() {
    for (label, out) in aws_outputs() {
        for module in ["bootstrap", "infra", "platform"] {
            for doc in files(&out, module).values() {
                let Some(tags) = doc
                    .pointer("/provider/aws/default_tags/tags")
                    .and_then(Value::as_object)
                else {
                    continue;
                };
                let mut keys: Vec<String> = tags.keys().map(|k| k.to_lowercase()).collect();
                let n = keys.len();
                keys.sort();
                keys.dedup();
                assert_eq!(keys.len(), n, "{label}/{module}: {tags:?}");
            }
        }
    }
    let yaml =
        std::fs::read_to_string(crate::support::root().join("blueprints/case-eks-fargate.yaml"))
            .unwrap()
            .replace("  Team: platform\n", "  Team: platform\n  team: other\n");
    let err = synth_text("case.yaml", &yaml, "production").unwrap_err();
    assert!(err.contains("differ only in case"), "{err}");
}

/// PutBucketLogging checks the target bucket's policy at once: the logging configuration
/// must wait for the log bucket's policy.
#[test]
fn server_access_logging_waits_for_the_log_bucket_policy() {
    let mut seen = 0;
    for (label, out) in aws_outputs() {
        for (name, l) in resources(&out, "infra", "aws_s3_bucket_logging") {
            seen += 1;
            let target = l["target_bucket"].as_str().unwrap();
            let bucket = target
                .strip_prefix("${aws_s3_bucket.")
                .and_then(|t| t.strip_suffix(".id}"))
                .unwrap();
            assert_eq!(
                l["depends_on"],
                serde_json::json!([format!("aws_s3_bucket_policy.{bucket}")]),
                "{label}: {name}"
            );
        }
    }
    assert!(seen > 0);
}
