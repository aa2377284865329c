//! IAM role names are unique in an account (CreateRole answers EntityAlreadyExists): no two
//! roles of one output may share a name, and a service account named like one of infragen's
//! own roles (`nodes`, `cluster`, …) must not take that role's name.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::root;

/// `aws_iam_role` names (literal ones) by Terraform address, in one module of an output.
fn role_names(out: &infragen::Output, module: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for (file, text) in &out.files {
        if !file.starts_with(&format!("terraform/{module}/")) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        let kinds = [("resource", ""), ("data", "data.")];
        for (kind, prefix) in kinds {
            let Some(roles) = doc.get(kind).and_then(|k| k.get("aws_iam_role")) else {
                continue;
            };
            for (key, body) in roles.as_object().unwrap() {
                if let Some(name) = body["name"].as_str() {
                    names.insert(format!("{prefix}aws_iam_role.{key}"), name.to_string());
                }
            }
        }
    }
    names
}

fn duplicates(names: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut dups = Vec::new();
    for (address, name) in names {
        if let Some(first) = seen.insert(name, address) {
            dups.push((first.to_string(), address.clone()));
        }
    }
    dups
}

fn ecommerce_with_service_account(sa: &str) -> infragen::Output {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let from = "    service_account: product-service # serviceAccountName: product-service";
    assert!(yaml.contains(from), "blueprint layout changed");
    let yaml = yaml.replacen(from, &format!("    service_account: {sa}"), 1);
    // An IRSA role is made for a workload that uses AWS resources by API (a bucket here; its
    // secrets reach it through External Secrets, not its role).
    let uses = "    uses: [db, cache] # not in the seed: chosen (the seed shows the product-service-db secret only)";
    assert!(yaml.contains(uses), "blueprint layout changed");
    let yaml = yaml
        .replacen(uses, "    uses: [db, cache, media]", 1)
        .replacen(
            "\nservices:\n",
            "\nbuckets:\n  - { name: media }\nservices:\n",
            1,
        );
    infragen::synthesize(
        "ecommerce-eks.yaml",
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("synth failed:\n{d}"))
}

#[test]
fn a_service_account_named_like_an_own_role_gets_a_role_of_its_own() {
    for sa in ["nodes", "cluster", "vpc-flow-logs", "api-access"] {
        let out = ecommerce_with_service_account(sa);
        let infra = role_names(&out, "infra");
        assert_eq!(duplicates(&infra), vec![], "service account `{sa}`");
        // The service account's role exists under the name the platform module looks up
        // (and annotates the ServiceAccount with).
        let role = &infra[&format!("aws_iam_role.irsa_{}", sa.replace('-', "_"))];
        let platform = role_names(&out, "platform");
        assert!(
            platform.values().any(|n| n == role),
            "service account `{sa}`: platform looks up {platform:?}, infra makes `{role}`"
        );
    }
}

#[test]
fn no_shipped_output_names_two_roles_alike() {
    for (stem, env, out) in crate::support::aws_outputs() {
        for module in ["infra", "bootstrap"] {
            let dups = duplicates(&role_names(&out, module));
            assert_eq!(dups, vec![], "{stem} {env} terraform/{module}");
        }
    }
}

/// IAM role names stop at 64 characters. Two service accounts whose names share their first
/// ~45 characters used to be cut to the same role name; a long name now ends in a hash of
/// the whole, and the platform module looks the role up by that same name.
#[test]
fn long_service_account_names_keep_distinct_roles() {
    let long = "a-service-account-with-a-very-long-descriptive-name";
    for sa in [format!("{long}-one"), format!("{long}-two")] {
        let out = ecommerce_with_service_account(&sa);
        let infra = role_names(&out, "infra");
        let role = &infra[&format!("aws_iam_role.irsa_{}", sa.replace('-', "_"))];
        assert!(role.len() <= 64, "{role}");
        let platform = role_names(&out, "platform");
        assert!(
            platform.values().any(|n| n == role),
            "{platform:?} / {role}"
        );
    }
    let role_of = |sa: String| {
        let out = ecommerce_with_service_account(&sa);
        role_names(&out, "infra")[&format!("aws_iam_role.irsa_{}", sa.replace('-', "_"))].clone()
    };
    assert_ne!(
        role_of(format!("{long}-one")),
        role_of(format!("{long}-two"))
    );
}
