//! EKS output works without `providers.aws.account_id`: what the pods read is exact and
//! nothing needs `envsubst` (`kubectl apply -k k8s/` writes every value verbatim, and
//! Kubernetes expands no `${…}` in annotations or env values). Read off each output as the
//! cluster would, for every shipped EKS blueprint × environment and for the new-user
//! blueprint (`connections::NEW_USER`, which names no account), with an in-cluster database
//! backed up to S3 and with an ALB Ingress:
//!
//! - no file under `k8s/` holds `AWS_ACCOUNT_ID` or a `${` outside a shell script;
//! - every ServiceAccount a pod runs as exists (a manifest or a Terraform
//!   `kubernetes_service_account_v1`), and an IRSA one names, by data source, the role whose
//!   trust is exactly that `namespace:serviceaccount`;
//! - a bucket's variables are the bucket's real name: the `<service>-connections` ConfigMap
//!   holds the very expression `infra` names the bucket with (or the literal name when the
//!   account is known);
//! - the ALB's access logs name the log bucket `infra` creates.

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::connections::NEW_USER;
use crate::support::{manifests, matrix, synth};

/// `NEW_USER` with the in-cluster `catalog` database backed up to S3 by its own identity.
fn with_backup() -> String {
    NEW_USER.replace(
        "{ name: catalog, engine: mongodb, deployment: in_cluster }",
        "{ name: catalog, engine: mongodb, deployment: in_cluster, backup: { schedule: \"0 2 * * *\", destination: \"s3://shop-backups/catalog/\" } }",
    )
}

/// `NEW_USER` behind an ALB Ingress (the Load Balancer Controller's class), with access logs.
fn with_alb() -> String {
    NEW_USER
        .replacen(
            "services:\n",
            "load_balancer: { certificate: { domain: shop.example.com } }\ningress: { class: alb, hosts: [shop.example.com] }\nservices:\n",
            1,
        )
        .replacen("    port: 8080\n", "    port: 8080\n    routes: [{ path: / }]\n", 1)
}

fn new_user(text: &str) -> infragen::Output {
    infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"))
}

/// Every EKS output to check: (label, output).
fn outputs() -> Vec<(String, infragen::Output)> {
    let mut out: Vec<(String, infragen::Output)> = matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == Provider::Aws)
        .map(|(stem, path, p, env)| {
            (
                format!("{stem} --provider {p} --env {env}"),
                synth(&path, p, &env),
            )
        })
        .filter(|(_, o)| o.files.contains_key("terraform/platform/providers.tf.json"))
        .collect();
    for (label, text) in [
        ("new-user", NEW_USER.to_string()),
        ("new-user with a backup", with_backup()),
        ("new-user behind an ALB", with_alb()),
    ] {
        out.push((label.to_string(), new_user(&text)));
    }
    assert!(
        out.len() >= 6,
        "expected the EKS blueprints' environments and the new-user variants, got {}",
        out.len()
    );
    out
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Every Terraform file's JSON, by path.
fn terraform(out: &infragen::Output) -> BTreeMap<String, Value> {
    out.files
        .iter()
        .filter(|(f, _)| f.starts_with("terraform/") && f.ends_with(".tf.json"))
        .map(|(f, t)| (f.clone(), serde_json::from_str(t).unwrap()))
        .collect()
}

/// `(type, name) → body` of one root module's resources (`data: true`: its data sources).
fn blocks(
    tf: &BTreeMap<String, Value>,
    module: &str,
    data: bool,
) -> BTreeMap<(String, String), Value> {
    let prefix = format!("terraform/{module}/");
    let mut out = BTreeMap::new();
    for (_, doc) in tf.iter().filter(|(f, _)| f.starts_with(&prefix)) {
        let section = &doc[if data { "data" } else { "resource" }];
        for (ty, m) in section.as_object().into_iter().flatten() {
            for (name, body) in m.as_object().into_iter().flatten() {
                out.insert((ty.clone(), name.clone()), body.clone());
            }
        }
    }
    out
}

/// Every string in `v` with whether it sits in a container's `command` or `args` (a shell
/// script, where `${…}` is the shell's).
fn strings<'v>(v: &'v Value, script: bool, out: &mut Vec<(&'v str, bool)>) {
    match v {
        Value::String(t) => out.push((t, script)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, script, out)),
        Value::Object(m) => {
            for (k, x) in m {
                strings(x, script || k == "command" || k == "args", out);
            }
        }
        _ => {}
    }
}

#[test]
fn manifests_need_no_substitution() {
    let mut checked = 0;
    for (label, out) in outputs() {
        for (file, text) in out.files.iter().filter(|(f, _)| f.starts_with("k8s/")) {
            assert!(
                !text.contains("AWS_ACCOUNT_ID"),
                "{label}: {file} carries an account placeholder"
            );
        }
        for d in manifests(&out) {
            let mut all = Vec::new();
            strings(&d, false, &mut all);
            for (t, script) in all {
                checked += 1;
                assert!(
                    script || !t.contains("${"),
                    "{label}: {} {} holds `{t}`, which Kubernetes never expands",
                    s(&d["kind"]),
                    s(&d["metadata"]["name"])
                );
            }
        }
        assert!(
            !out.notes.iter().any(|n| n.to_string().contains("envsubst")),
            "{label}: a note still asks for envsubst"
        );
    }
    assert!(checked > 1000, "only {checked} strings checked");
}

/// A Terraform reference's target: `${data.aws_iam_role.<name>.arn}` → `<name>`.
fn data_role(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("${data.aws_iam_role.")?
        .strip_suffix(".arn}")
}

#[test]
fn every_pod_runs_as_an_account_that_exists_and_its_role_trusts() {
    let (mut irsa, mut labels_checked) = (0, 0);
    for (label, out) in outputs() {
        let tf = terraform(&out);
        let platform = blocks(&tf, "platform", false);
        let platform_data = blocks(&tf, "platform", true);
        let infra = blocks(&tf, "infra", false);
        let namespaces: BTreeMap<String, String> = platform
            .iter()
            .filter(|((ty, _), _)| ty == "kubernetes_namespace_v1")
            .map(|((_, n), b)| (n.clone(), s(&b["metadata"]["name"]).to_string()))
            .collect();
        // `namespace/name` → the role-arn annotation, of the Terraform-owned accounts.
        let mut terraform_accounts: BTreeMap<String, String> = BTreeMap::new();
        let mut terraform_labels: BTreeMap<(String, String), Value> = BTreeMap::new();
        for ((ty, _), b) in &platform {
            if ty != "kubernetes_service_account_v1" {
                continue;
            }
            let ns = s(&b["metadata"]["namespace"]);
            let ns = ns
                .strip_prefix("${kubernetes_namespace_v1.")
                .and_then(|r| r.split('.').next())
                .map(|n| namespaces[n].clone())
                .unwrap_or_else(|| ns.to_string());
            terraform_accounts.insert(
                format!("{ns}/{}", s(&b["metadata"]["name"])),
                s(&b["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]).to_string(),
            );
            terraform_labels.insert(
                (ns.clone(), s(&b["metadata"]["name"]).to_string()),
                b["metadata"]["labels"].clone(),
            );
        }
        let docs = manifests(&out);
        // Same labels as the manifests give: a service's account as another ServiceAccount of
        // its namespace, a backup job's as its CronJob.
        for ((ns, name), labels) in &terraform_labels {
            let twin = docs.iter().find(|d| {
                s(&d["metadata"]["namespace"]) == ns
                    && if labels["app"].is_string() {
                        s(&d["kind"]) == "CronJob" && s(&d["metadata"]["name"]) == name
                    } else {
                        s(&d["kind"]) == "ServiceAccount"
                    }
            });
            if let Some(twin) = twin {
                labels_checked += 1;
                assert_eq!(
                    labels, &twin["metadata"]["labels"],
                    "{label}: ServiceAccount {ns}/{name} is labelled unlike the manifests"
                );
            }
        }
        let declared: BTreeSet<String> = docs
            .iter()
            .filter(|d| s(&d["kind"]) == "ServiceAccount")
            .map(|d| {
                format!(
                    "{}/{}",
                    s(&d["metadata"]["namespace"]),
                    s(&d["metadata"]["name"])
                )
            })
            .collect();
        for d in &docs {
            let pod = match s(&d["kind"]) {
                "Deployment" | "StatefulSet" => &d["spec"]["template"]["spec"],
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => continue,
            };
            let ns = s(&d["metadata"]["namespace"]);
            let sa = s(&pod["serviceAccountName"]);
            let sa = if sa.is_empty() { "default" } else { sa };
            let at = format!("{ns}/{sa}");
            let what = format!(
                "{label}: {} {ns}/{}",
                s(&d["kind"]),
                s(&d["metadata"]["name"])
            );
            if let Some(arn) = terraform_accounts.get(&at) {
                assert!(!declared.contains(&at), "{what}: {at} has two owners");
                let key = data_role(arn)
                    .unwrap_or_else(|| panic!("{what}: role-arn `{arn}` is no role found by name"));
                let role_name =
                    s(&platform_data[&("aws_iam_role".to_string(), key.to_string())]["name"]);
                let role = infra
                    .iter()
                    .find(|((ty, _), b)| ty == "aws_iam_role" && s(&b["name"]) == role_name)
                    .map(|(_, b)| b)
                    .unwrap_or_else(|| panic!("{what}: infra creates no role {role_name}"));
                let trust = s(&role["assume_role_policy"]);
                assert!(
                    trust.contains(&format!("\"system:serviceaccount:{ns}:{sa}\"")),
                    "{what}: role {role_name} does not trust {at}: {trust}"
                );
                irsa += 1;
            } else {
                assert!(
                    sa == "default" || declared.contains(&at),
                    "{what}: runs as {at}, which nothing creates"
                );
            }
        }
    }
    assert!(irsa >= 8, "only {irsa} pods with an IAM role checked");
    assert!(
        labels_checked >= 6,
        "only {labels_checked} ServiceAccounts' labels checked"
    );
}

#[test]
fn bucket_variables_are_the_buckets_real_names() {
    let known = NEW_USER.replace(
        "aws: { region: eu-west-1 }",
        "aws: { region: eu-west-1, account_id: \"123456789012\" }",
    );
    for (text, account) in [(NEW_USER.to_string(), None), (known, Some("123456789012"))] {
        let out = new_user(&text);
        let tf = terraform(&out);
        let infra = blocks(&tf, "infra", false);
        let platform = blocks(&tf, "platform", false);
        let name =
            s(&infra[&("aws_s3_bucket".to_string(), "uploads".to_string())]["bucket"]).to_string();
        match account {
            Some(a) => assert_eq!(name, format!("shop-production-uploads-{a}")),
            None => {
                assert_eq!(
                    name,
                    "shop-production-uploads-${data.aws_caller_identity.current.account_id}"
                );
                // The same data source in both modules: the same account.
                for module in ["infra", "platform"] {
                    assert!(
                        blocks(&tf, module, true).contains_key(&(
                            "aws_caller_identity".to_string(),
                            "current".to_string()
                        )),
                        "{module} does not read the account"
                    );
                }
            }
        }
        let mut seen = 0;
        for d in manifests(&out) {
            let pod = match s(&d["kind"]) {
                "Deployment" => &d["spec"]["template"]["spec"],
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => continue,
            };
            let ns = s(&d["metadata"]["namespace"]);
            for c in pod["containers"].as_array().into_iter().flatten() {
                for e in c["env"].as_array().into_iter().flatten() {
                    let var = s(&e["name"]);
                    let want = match var {
                        "UPLOADS_BUCKET" => name.clone(),
                        "UPLOADS_URL" => format!("s3://{name}"),
                        _ => continue,
                    };
                    seen += 1;
                    assert!(e["value"].is_null(), "{var} is a literal: {e}");
                    let r = &e["valueFrom"]["configMapKeyRef"];
                    let cm = platform
                        .iter()
                        .find(|((ty, _), b)| {
                            ty == "kubernetes_config_map_v1"
                                && s(&b["metadata"]["name"]) == s(&r["name"])
                                && s(&b["metadata"]["namespace"]).contains(&format!(".{ns}."))
                        })
                        .map(|(_, b)| b)
                        .unwrap_or_else(|| {
                            panic!("no ConfigMap {ns}/{} in platform", s(&r["name"]))
                        });
                    assert_eq!(
                        s(&cm["data"][s(&r["key"])]),
                        want,
                        "{var} of {}",
                        s(&d["metadata"]["name"])
                    );
                }
            }
        }
        // `api` and the `nightly-export` job use the bucket.
        assert_eq!(seen, 4, "bucket variables checked");
    }
}

#[test]
fn alb_access_logs_name_the_log_bucket_infra_creates() {
    let out = new_user(&with_alb());
    let tf = terraform(&out);
    let infra = blocks(&tf, "infra", false);
    let platform = blocks(&tf, "platform", false);
    let logs =
        s(&infra[&("aws_s3_bucket".to_string(), "lb_logs".to_string())]["bucket"]).to_string();
    assert!(
        logs.ends_with("-${data.aws_caller_identity.current.account_id}"),
        "{logs}"
    );
    let ingress = &out.files["k8s/shop/ingress.yaml"];
    assert!(ingress.contains("ingressClassName: alb"));
    assert!(!ingress.contains("access_logs"), "{ingress}");
    let lbc = &platform[&(
        "helm_release".to_string(),
        "aws_load_balancer_controller".to_string(),
    )];
    let values: Value = serde_json::from_str(s(&lbc["values"][0])).unwrap();
    assert_eq!(values["ingressClass"], "alb");
    assert_eq!(values["ingressClassParams"]["create"], true);
    let attrs: BTreeMap<&str, &str> =
        values["ingressClassParams"]["spec"]["loadBalancerAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (s(&a["key"]), s(&a["value"])))
            .collect();
    assert_eq!(attrs["access_logs.s3.enabled"], "true");
    assert_eq!(attrs["access_logs.s3.bucket"], logs);
    assert_eq!(attrs["access_logs.s3.prefix"], "alb");
}
