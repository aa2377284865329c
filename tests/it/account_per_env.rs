//! An AWS account per environment (`providers.aws.account_id` in each environment's overlay,
//! round 11's `tern-two-accounts-ecs.yaml`): every module that has an AWS provider is pinned
//! to its environment's account, `bootstrap` included — it runs first, with local state, and
//! is the one a user most easily applies with the wrong shell's credentials.

use infragen::Provider;
use serde_json::Value;

use crate::support::{root, synth};

const TWO_ACCOUNTS: &str = "tests/fixtures/new-user/tern-two-accounts-ecs.yaml";
const EKS: &str = "tests/fixtures/new-user/keel-existing-vpc-eks.yaml";

/// For every `terraform/<module>/providers.tf.json` with an `aws` provider: the module and
/// the accounts it is pinned to.
fn pinned(out: &infragen::Output) -> Vec<(String, Vec<String>)> {
    let mut all = Vec::new();
    for (path, text) in &out.files {
        let Some(module) = path
            .strip_prefix("terraform/")
            .and_then(|p| p.strip_suffix("/providers.tf.json"))
        else {
            continue;
        };
        let doc: Value = serde_json::from_str(text).unwrap();
        let Some(aws) = doc["provider"]["aws"].as_object() else {
            continue;
        };
        let ids = aws
            .get("allowed_account_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|i| i.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        all.push((module.to_string(), ids));
    }
    all.sort();
    all
}

fn check(label: &str, out: &infragen::Output, account: &str, modules: &[&str]) {
    let pins = pinned(out);
    let names: Vec<&str> = pins.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, modules, "{label}: modules with an AWS provider");
    for (module, ids) in &pins {
        assert_eq!(
            ids,
            &[account.to_string()],
            "{label}: terraform/{module} is not pinned to the environment's account {account}"
        );
    }
}

#[test]
fn every_module_with_an_aws_provider_is_pinned_to_its_environments_account() {
    let path = root().join(TWO_ACCOUNTS);
    for (env, account) in [("staging", "111111111111"), ("production", "222222222222")] {
        let out = synth(&path, Provider::Aws, env);
        check(
            &format!("ECS {env}"),
            &out,
            account,
            &["bootstrap", "infra"],
        );
    }
    // EKS: `platform` and `connections` have AWS providers of their own.
    let text = std::fs::read_to_string(root().join(EKS)).unwrap().replacen(
        "  aws: { region: eu-west-1 }",
        "  aws: { region: eu-west-1, account_id: \"333333333333\" }",
        1,
    );
    assert!(text.contains("333333333333"));
    let out = infragen::synthesize("keel.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    check(
        "EKS production",
        &out,
        "333333333333",
        &["bootstrap", "connections", "infra", "platform"],
    );
}

/// Each account's `bootstrap` makes its own state bucket, which its modules' backends name.
#[test]
fn each_accounts_bootstrap_makes_the_state_bucket_its_backends_name() {
    let path = root().join(TWO_ACCOUNTS);
    for env in ["staging", "production"] {
        let out = synth(&path, Provider::Aws, env);
        let state: Value =
            serde_json::from_str(&out.files["terraform/bootstrap/state.tf.json"]).unwrap();
        let bucket = state["resource"]["aws_s3_bucket"]["state"]["bucket"]
            .as_str()
            .unwrap();
        assert_eq!(bucket, format!("tern-tfstate-{env}"));
        let infra: Value =
            serde_json::from_str(&out.files["terraform/infra/versions.tf.json"]).unwrap();
        assert_eq!(infra["terraform"]["backend"]["s3"]["bucket"], bucket);
    }
}
