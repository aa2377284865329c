//! Staging beside production in one AWS account (new-user round 15,
//! `tests/fixtures/new-user/wharf-staging-beside-production-ecs.yaml`). A DynamoDB table was
//! named after its component alone (`tracking`) in every environment, and the blueprint had
//! no way to name it otherwise: the second environment's CreateTable failed with
//! ResourceInUseException, and `{env}` in the component's name renamed its variables
//! (`TRACKING_STAGING_TABLE`). `tables[].table` names the DynamoDB table, and the warning
//! `environments-share-names` says which field names each kind of clash.

use crate::support::{eks_stack, manifests, resources, root, synth, synth_aws, synth_cli_env};

fn fixture() -> String {
    std::fs::read_to_string(
        root().join("tests/fixtures/new-user/wharf-staging-beside-production-ecs.yaml"),
    )
    .unwrap()
}

/// The fixture as the team wrote it after reading the warning: both environments lowered
/// together give no account-scoped name twice. Without `table:` the table is the clash
/// left, and the warning names the field that fixes it.
#[test]
fn two_environments_in_one_account_name_their_tables_apart() {
    let text = fixture();
    let (code, err) = synth_cli_env(&text, "aws", "all");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("environments-share-names"), "{err}");

    let unnamed = text.replace(" table: \"wharf-{env}-tracking\",", "");
    assert_ne!(unnamed, text);
    let (code, err) = synth_cli_env(&unnamed, "aws", "all");
    assert_eq!(code, Some(0), "{err}");
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning[environments-share-names]"))
        .unwrap_or_else(|| panic!("no warning in {err}"));
    assert!(warning.contains("aws_dynamodb_table tracking"), "{warning}");
    assert!(warning.contains("`tables[].table`"), "{warning}");
}

/// The table an environment creates is the one its tasks are told about and granted.
#[test]
fn the_table_name_reaches_the_table_the_tasks_and_their_grant() {
    let path = root().join("tests/fixtures/new-user/wharf-staging-beside-production-ecs.yaml");
    for env in ["staging", "production"] {
        let out = synth(&path, infragen::Provider::Aws, env);
        let tables = resources(&out, "infra", "aws_dynamodb_table");
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0]["name"], format!("wharf-{env}-tracking"));
        // The task definitions read the name from the table resource (and are granted its
        // ARN), so they follow it.
        let ecs = &out.files["terraform/infra/ecs.tf.json"];
        assert!(
            ecs.contains(r#"TRACKING_TABLE\",\"value\":\"${aws_dynamodb_table.tracking.name}"#)
        );
    }
}

/// On EKS the variable is written into the manifests as text: the table's own name, not
/// the component's.
#[test]
fn eks_workloads_get_the_tables_own_name() {
    let yaml = eks_stack(
        "wharf",
        "{ platform: eks, addons: [coredns, kube-proxy, vpc-cni] }",
        "node_pools:
  - { name: general, sizes: { aws: t3.large }, min: 2, desired: 2, max: 3 }
tables:
  - { name: tracking, table: \"wharf-{env}-tracking\", partition_key: { name: id, type: S } }
services:
  - { name: api, image: ghcr.io/wharf/api:1.0.0, port: 8080, uses: [tracking] }
",
    );
    let out = synth_aws("wharf", &yaml).unwrap();
    assert_eq!(
        resources(&out, "infra", "aws_dynamodb_table")[0]["name"],
        "wharf-production-tracking"
    );
    let value = manifests(&out)
        .iter()
        .filter(|m| m["kind"] == "Deployment")
        .flat_map(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|e| e["name"] == "TRACKING_TABLE")
        .map(|e| e["value"].clone());
    assert_eq!(
        value,
        Some(serde_json::Value::from("wharf-production-tracking"))
    );
}

/// A name DynamoDB refuses (CreateTable mid-apply) is refused at the field.
#[test]
fn an_invalid_table_name_is_refused_at_its_field() {
    let text = fixture().replace("wharf-{env}-tracking", "wharf/{env}/tracking");
    let (code, err) = synth_cli_env(&text, "aws", "staging");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`tables[0].table`"), "{err}");
    assert!(err.contains("not a valid DynamoDB table name"), "{err}");
}

/// Staging beside production in one existing cluster: the namespace, the ClusterIssuer and
/// every object in the namespace are written by both, the one applied last wins, and
/// `kubectl delete -k` of staging deletes production's. `--env all` warned; the CI job that
/// synthesizes one environment did not. Now the blueprint's other environments are lowered
/// to compare with, as for AWS accounts; a namespace and issuer per environment clear it.
#[test]
fn environments_in_one_cluster_are_warned_about_by_a_single_environments_synth() {
    let shared = "name: wharf
providers:
  kubernetes: { context: one-cluster }
cluster: { platform: existing }
kubernetes:
  default_namespace: wharf
  namespaces: [{ name: wharf }]
  issuers:
    - { name: le, kind: acme, server: \"https://acme-v02.api.letsencrypt.org/directory\", email: ops@wharf.example }
  ingress_controller: { kind: nginx }
services:
  - { name: web, image: ghcr.io/wharf/web:2.3.0, port: 8080, routes: [{ path: / }] }
ingress:
  name: wharf
  hosts: [\"{env}.wharf.example.com\"]
  tls: { secret_name: wharf-tls, issuer: le }
environments:
  staging: {}
  production: {}
";
    for env in ["staging", "production"] {
        let (code, err) = synth_cli_env(shared, "kubernetes", env);
        assert_eq!(code, Some(0), "{err}");
        let warning = err
            .lines()
            .find(|l| l.starts_with("warning[cluster-objects-shared]"))
            .unwrap_or_else(|| panic!("{env}: no warning in {err}"));
        assert!(warning.contains("ClusterIssuer/le"), "{warning}");
        assert!(warning.contains("Namespace/wharf"), "{warning}");
    }
    let apart = shared
        .replace(
            "default_namespace: wharf",
            "default_namespace: \"wharf-{env}\"",
        )
        .replace("[{ name: wharf }]", "[{ name: \"wharf-{env}\" }]")
        .replace("name: le,", "name: \"le-{env}\",")
        .replace("issuer: le }", "issuer: \"le-{env}\" }");
    for env in ["staging", "production", "all"] {
        let (code, err) = synth_cli_env(&apart, "kubernetes", env);
        assert_eq!(code, Some(0), "{err}");
        assert!(!err.contains("cluster-objects-shared"), "{env}: {err}");
    }
}
