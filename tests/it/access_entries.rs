//! EKS access entries (authentication mode API): every admin principal the blueprint names
//! gets its own entry and cluster-admin association, even when two principals share the last
//! segment of their ARN (a role and a user of one name, one name under two paths or in two
//! accounts) — a shared Terraform address would leave one of them without access.

use infragen::Provider;
use serde_json::Value;

use crate::support::root;

const ADMINS: [&str; 4] = [
    "arn:aws:iam::123456789012:role/admin",
    "arn:aws:iam::123456789012:user/admin",
    "arn:aws:iam::123456789012:role/platform/admin",
    "arn:aws:iam::123456789012:role/ci-deployer",
];

fn infra_resources(admins: &[&str]) -> Vec<(String, String, Value)> {
    let path = root().join("blueprints/ecommerce-eks.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    let list = admins.join(", ");
    let yaml = yaml.replacen(
        "    region: us-east-1",
        &format!("    region: us-east-1\n    admin_principal_arns: [{list}]"),
        1,
    );
    assert!(
        yaml.contains("admin_principal_arns"),
        "blueprint layout changed"
    );
    let out = infragen::synthesize(
        "ecommerce-eks.yaml",
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("synth failed:\n{d}"));
    let mut all = Vec::new();
    for (file, text) in &out.files {
        if !file.starts_with("terraform/infra/") {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(types) = doc.get("resource").and_then(Value::as_object) {
            for (ty, names) in types {
                for (name, body) in names.as_object().unwrap() {
                    all.push((ty.clone(), name.clone(), body.clone()));
                }
            }
        }
    }
    all
}

#[test]
fn every_admin_principal_gets_its_own_entry_and_admin_policy() {
    let all = infra_resources(&ADMINS);
    let entries: Vec<_> = all
        .iter()
        .filter(|(t, _, _)| t == "aws_eks_access_entry")
        .collect();
    for arn in ADMINS {
        let named: Vec<_> = entries
            .iter()
            .filter(|(_, _, b)| b["principal_arn"] == arn)
            .collect();
        assert_eq!(named.len(), 1, "{arn}: {} access entries", named.len());
        let (_, key, _) = named[0];
        // Its association names the entry's principal (so it follows the entry) and is the
        // cluster-admin policy over the whole cluster.
        let reference = format!("${{aws_eks_access_entry.{key}.principal_arn}}");
        let assoc: Vec<_> = all
            .iter()
            .filter(|(t, _, b)| {
                t == "aws_eks_access_policy_association" && b["principal_arn"] == reference.as_str()
            })
            .collect();
        assert_eq!(assoc.len(), 1, "{arn}: {} policy associations", assoc.len());
        assert_eq!(
            assoc[0].2["policy_arn"],
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(assoc[0].2["access_scope"]["type"], "cluster");
    }
    assert_eq!(entries.len(), ADMINS.len());
}

#[test]
fn unique_names_keep_their_short_addresses() {
    // Addresses are state: a principal whose name is unique keeps `admin_<name>`.
    let all = infra_resources(&[
        "arn:aws:iam::123456789012:role/admin",
        "arn:aws:iam::123456789012:role/ci-deployer",
    ]);
    let keys: Vec<_> = all
        .iter()
        .filter(|(t, _, _)| t == "aws_eks_access_entry")
        .map(|(_, k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["admin_admin", "admin_ci_deployer"]);
}
