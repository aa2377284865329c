//! EKS on Fargate runs a pod only where a Fargate profile selects its namespace (any other
//! pod stays `Pending`), and cannot mount EBS volumes. Checked two ways: on the output of every
//! shipped `eks_fargate` blueprint (every namespace the manifests and the Helm releases run
//! pods in has a profile), and on blueprints that break it (refused at validation, with the
//! position of what needs the profile).

use std::collections::BTreeSet;

use infragen::Provider;
use serde_json::Value;
use yaml_rust2::YamlLoader;

use crate::support::{matrix, root, synth};

/// Kinds whose objects run pods.
const POD_KINDS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// The namespaces the profiles of `terraform/infra` select, and the namespaces pods run in:
/// the manifests' workloads and the Helm releases of `terraform/platform` (each with `what`).
fn profiles_and_pods(out: &infragen::Output) -> (BTreeSet<String>, Vec<(String, String)>) {
    let mut selected = BTreeSet::new();
    let mut pods = Vec::new();
    for (path, text) in &out.files {
        if path.starts_with("terraform/") {
            let doc: Value = serde_json::from_str(text).unwrap();
            let resources = doc.get("resource");
            if let Some(profiles) = resources
                .and_then(|r| r.get("aws_eks_fargate_profile"))
                .and_then(Value::as_object)
            {
                for p in profiles.values() {
                    for s in p["selector"].as_array().unwrap() {
                        selected.insert(s["namespace"].as_str().unwrap().to_string());
                    }
                }
            }
            if let Some(releases) = resources
                .and_then(|r| r.get("helm_release"))
                .and_then(Value::as_object)
            {
                for (name, r) in releases {
                    pods.push((
                        format!("helm_release.{name}"),
                        r["namespace"].as_str().unwrap().to_string(),
                    ));
                }
            }
            if let Some(addons) = resources
                .and_then(|r| r.get("aws_eks_addon"))
                .and_then(Value::as_object)
                && addons.contains_key("coredns")
            {
                pods.push(("CoreDNS".into(), "kube-system".into()));
            }
        } else if path.starts_with("k8s/") && path.ends_with(".yaml") {
            for doc in YamlLoader::load_from_str(text).unwrap() {
                let kind = doc["kind"].as_str().unwrap_or_default();
                if POD_KINDS.contains(&kind) {
                    pods.push((
                        format!(
                            "{path}: {kind} {}",
                            doc["metadata"]["name"].as_str().unwrap()
                        ),
                        doc["metadata"]["namespace"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    (selected, pods)
}

#[test]
fn every_namespace_that_runs_pods_has_a_fargate_profile() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.contains("platform: eks_fargate") {
            continue;
        }
        let out = synth(&path, provider, &env);
        let (selected, pods) = profiles_and_pods(&out);
        assert!(!pods.is_empty(), "{stem} {env}: no pods found");
        for (what, ns) in &pods {
            assert!(
                selected.contains(ns),
                "{stem} {env}: {what} runs in namespace {ns}, which no Fargate profile selects ({selected:?})"
            );
        }
        for (what, ns) in &pods {
            assert!(
                !what.contains("DaemonSet"),
                "{stem} {env}: {what} in {ns}: Fargate runs no DaemonSets"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no eks_fargate blueprint was checked");
}

fn case_yaml() -> String {
    std::fs::read_to_string(root().join("blueprints/case-eks-fargate.yaml")).unwrap()
}

fn refused(yaml: &str) -> String {
    match infragen::synthesize("case.yaml", yaml.as_bytes(), Provider::Aws, "production") {
        Ok(_) => panic!("synth accepted a blueprint whose pods cannot run on Fargate"),
        Err(d) => d.to_string(),
    }
}

const KUBE_SYSTEM_PROFILE: &str =
    "  - name: kube-system # CoreDNS\n    namespaces: [kube-system]\n";
const NGINX_PROFILE: &str = "  - name: ingress-nginx\n    namespaces: [ingress-nginx]\n";
const CERT_MANAGER_PROFILE: &str = "  - name: cert-manager\n    namespaces: [cert-manager]\n";

#[test]
fn the_shipped_fargate_blueprint_names_the_profiles_these_tests_remove() {
    let yaml = case_yaml();
    for p in [KUBE_SYSTEM_PROFILE, NGINX_PROFILE, CERT_MANAGER_PROFILE] {
        assert!(yaml.contains(p), "{p}");
    }
}

#[test]
fn a_cluster_without_a_kube_system_profile_is_refused() {
    let err = refused(&case_yaml().replace(KUBE_SYSTEM_PROFILE, ""));
    assert!(err.contains("`fargate_profiles`"), "{err}");
    assert!(err.contains("`kube-system`"), "{err}");
    assert!(err.contains("CoreDNS"), "{err}");
}

#[test]
fn controllers_without_a_profile_are_refused_where_they_are_declared() {
    let err = refused(&case_yaml().replace(NGINX_PROFILE, ""));
    assert!(err.contains("`kubernetes.ingress_controller`"), "{err}");
    assert!(err.contains("namespace `ingress-nginx`"), "{err}");
    // Positioned on the blueprint's line.
    assert!(err.contains("case.yaml:"), "{err}");

    let err = refused(&case_yaml().replace(CERT_MANAGER_PROFILE, ""));
    assert!(err.contains("namespace `cert-manager`"), "{err}");
}

#[test]
fn services_outside_every_profile_are_refused() {
    let yaml = case_yaml().replace(
        "  - name: case # backend, frontend, mobile pods\n    namespaces: [case]\n",
        "  - name: case # backend, frontend, mobile pods\n    namespaces: [other]\n",
    );
    // A declared namespace, so only the missing profile is wrong.
    let yaml = yaml.replace(
        "    - name: case # apps\n",
        "    - name: case # apps\n    - name: other\n",
    );
    assert_ne!(yaml, case_yaml());
    let err = refused(&yaml);
    assert!(
        err.contains("`services[0]`: service `backend` runs in namespace `case`"),
        "{err}"
    );
    assert!(err.contains("service `frontend`"), "{err}");
}

#[test]
fn in_cluster_data_services_are_refused_on_fargate() {
    let yaml = case_yaml().replacen(
        "tables:\n",
        "caches:\n  - name: redis\n    engine: redis\n    version: \"8.2\"\n    deployment: in_cluster\n    in_cluster: { replicas: 1, volume_size: 5Gi }\n\ntables:\n",
        1,
    );
    let err = refused(&yaml);
    assert!(err.contains("`caches[0].deployment`"), "{err}");
    assert!(err.contains("EBS"), "{err}");
}

#[test]
fn a_profile_takes_at_most_five_selectors() {
    let yaml = case_yaml().replace(
        "    namespaces: [case]\n",
        "    namespaces: [case, a, b, c, d, e]\n",
    );
    let yaml = yaml.replace(
        "  namespaces:\n",
        "  namespaces:\n    - { name: a }\n    - { name: b }\n    - { name: c }\n    - { name: d }\n    - { name: e }\n",
    );
    let err = refused(&yaml);
    assert!(err.contains("`fargate_profiles[0].namespaces`"), "{err}");
    assert!(err.contains("at most 5 selectors"), "{err}");
}

#[test]
fn a_cluster_takes_at_most_ten_profiles() {
    let extra: String = (0..8)
        .map(|i| format!("  - name: extra-{i}\n    namespaces: [case]\n"))
        .collect();
    let yaml = case_yaml().replace(
        CERT_MANAGER_PROFILE,
        &format!("{CERT_MANAGER_PROFILE}{extra}"),
    );
    let err = refused(&yaml);
    assert!(err.contains("12 Fargate profiles"), "{err}");
    assert!(err.contains("at most 10"), "{err}");
}

/// Node-agent add-ons (DaemonSets) never schedule on Fargate: skipped with a note, as the EBS
/// CSI driver is, rather than left waiting for pods that never run.
#[test]
fn daemonset_add_ons_are_not_installed_on_fargate() {
    let addons = "  addons: [vpc-cni, coredns, kube-proxy]";
    assert!(case_yaml().contains(addons));
    let yaml = case_yaml().replace(
        addons,
        "  addons: [vpc-cni, coredns, kube-proxy, eks-pod-identity-agent, amazon-cloudwatch-observability, aws-ebs-csi-driver]",
    );
    let out = infragen::synthesize("case.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let cluster = &out.files["terraform/infra/cluster.tf.json"];
    for addon in [
        "eks-pod-identity-agent",
        "amazon-cloudwatch-observability",
        "aws-ebs-csi-driver",
    ] {
        assert!(!cluster.contains(&format!("\"{addon}\"")), "{addon}");
        assert!(
            out.notes.iter().any(|n| n
                .text
                .contains(&format!("`{addon}` is skipped on EKS Fargate"))),
            "{addon}"
        );
    }
}

/// The back-end adds a profile for the External Secrets Operator's namespace (case syncs the
/// `datadog` secret): with ten declared, that eleventh CreateFargateProfile fails at apply.
/// Refused at synth; a ten-profile cluster that selects the namespace itself is accepted and
/// gets no eleventh.
#[test]
fn ten_profiles_leave_no_room_for_the_secrets_operator() {
    let extra: String = (0..6)
        .map(|i| format!("  - name: extra-{i}\n    namespaces: [case]\n"))
        .collect();
    let yaml = case_yaml().replace(
        CERT_MANAGER_PROFILE,
        &format!("{CERT_MANAGER_PROFILE}{extra}"),
    );
    let err = refused(&yaml);
    assert!(err.contains("needs an eleventh"), "{err}");
    assert!(err.contains("external-secrets"), "{err}");

    let covered = yaml.replacen(
        "  - name: extra-0\n    namespaces: [case]\n",
        "  - name: extra-0\n    namespaces: [case, external-secrets]\n",
        1,
    );
    let out = infragen::synthesize("case.yaml", covered.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let (profiles, _) = profiles_and_pods(&out);
    let count = out
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("terraform/"))
        .map(|(_, t)| t.matches("\"fargate_profile_name\"").count())
        .sum::<usize>();
    assert_eq!(count, 10, "profiles: {profiles:?}");
}

/// Found by `scripts/combos.py`: with `kubernetes.namespaces` declared, a profile selecting a
/// namespace pods of the output run in but the blueprint does not declare — the default one
/// (the blueprint's name), the ingress controller's, cert-manager's — was refused as an
/// "unknown namespace", while leaving it out was refused for the Pending pods, with the help
/// to add exactly that profile. Such a profile is accepted now, and every namespace that runs
/// pods is selected; a name nothing runs in is still refused, the output's own offered.
#[test]
fn profiles_may_select_the_namespaces_the_output_runs_pods_in() {
    let yaml = r#"
name: shop
providers: { aws: { region: eu-west-1 } }
state: { bucket: "shop-tfstate-{env}" }
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets: { public: [10.0.0.0/24, 10.0.1.0/24], private: [10.0.64.0/20, 10.0.80.0/20] }
cluster: { platform: eks_fargate, version: "1.35", addons: [vpc-cni, coredns, kube-proxy] }
fargate_profiles:
  - { name: kube-system, namespaces: [kube-system] }
  - { name: apps, namespaces: [shop, admin, ingress-nginx, cert-manager] }
kubernetes:
  namespaces: [{ name: admin }]
  ingress_controller: { kind: nginx }
  issuers: [{ name: letsencrypt, kind: acme, email: ops@shop.example.com }]
ingress: { hosts: [shop.example.com], tls: { secret_name: shop-tls, issuer: letsencrypt } }
services:
  - { name: web, image: "ghcr.io/a/web:1.0.0", port: 8080, routes: [{ path: / }] }
  - { name: console, namespace: admin, image: "ghcr.io/a/console:1.0.0", port: 8080 }
"#;
    let out = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let (selected, pods) = profiles_and_pods(&out);
    for ns in ["shop", "admin", "ingress-nginx", "cert-manager"] {
        assert!(
            pods.iter().any(|(_, n)| n == ns),
            "no pods in {ns}: {pods:?}"
        );
    }
    for (what, ns) in &pods {
        assert!(selected.contains(ns), "{what} in {ns}: {selected:?}");
    }
    // A namespace nothing runs in stays unknown; the candidates name the output's own.
    let err = refused(&yaml.replace("cert-manager] }", "cert-manager, shopp] }"));
    assert!(
        err.contains("`fargate_profiles[1].namespaces[4]`: unknown namespace `shopp`"),
        "{err}"
    );
    assert!(err.contains("`shop`"), "{err}");
}

/// An Ingress of class `nginx` on EKS Fargate without a controller is refused with the help
/// to install one; the help said only `kubernetes.ingress_controller`, and following it was
/// refused again for the controller's namespace no profile selects (combos seed 7: 9 of 23
/// such refusals). The help names the profile each way out needs, and following it — either
/// way — is accepted.
#[test]
fn the_missing_controller_help_on_fargate_names_the_profile_it_needs() {
    let yaml = r#"
name: shop
providers: { aws: { region: eu-west-1 } }
state: { bucket: "shop-tfstate-{env}" }
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets: { public: [10.0.0.0/24, 10.0.1.0/24], private: [10.0.64.0/20, 10.0.80.0/20] }
cluster: { platform: eks_fargate, version: "1.35", addons: [vpc-cni, coredns, kube-proxy] }
fargate_profiles:
  - { name: kube-system, namespaces: [kube-system] }
  - { name: apps, namespaces: [shop] }
ingress: { hosts: [shop.example.com], tls: { secret_name: shop-tls } }
services:
  - { name: web, image: "ghcr.io/a/web:1.0.0", port: 8080, routes: [{ path: / }] }
"#;
    let err = refused(yaml);
    assert!(
        err.contains("`kubernetes.ingress_controller: { kind: nginx }` and a Fargate profile selecting `ingress-nginx`"),
        "{err}"
    );
    assert!(
        err.contains("Envoy Gateway and a Fargate profile selecting `envoy-gateway-system`"),
        "{err}"
    );
    // Following the help, one way or the other, is accepted.
    let nginx = yaml.replace(
        "  - { name: apps, namespaces: [shop] }\n",
        "  - { name: apps, namespaces: [shop] }\n  - { name: ingress-nginx, namespaces: [ingress-nginx] }\nkubernetes: { ingress_controller: { kind: nginx } }\n",
    );
    let gateway = yaml
        .replace(
            "  - { name: apps, namespaces: [shop] }\n",
            "  - { name: apps, namespaces: [shop] }\n  - { name: envoy-gateway-system, namespaces: [envoy-gateway-system] }\n",
        )
        .replace("tls: { secret_name: shop-tls } }", "tls: { secret_name: shop-tls }, gateway: { class: eg } }");
    for fixed in [nginx, gateway] {
        infragen::synthesize("case.yaml", fixed.as_bytes(), Provider::Aws, "production")
            .unwrap_or_else(|d| panic!("{d}\n{fixed}"));
    }
    // Beside a `load_balancer` (refused with the Gateway on EKS) the Gateway way drops it.
    let with_alb =
        format!("{yaml}load_balancer: {{ certificate: {{ domain: shop.example.com }} }}\n");
    let err = refused(&with_alb);
    assert!(
        err.contains("Envoy Gateway, without `load_balancer` and a Fargate profile"),
        "{err}"
    );
    // With the profile already there, the help does not ask for it.
    let covered = yaml.replace(
        "namespaces: [shop] }",
        "namespaces: [shop, ingress-nginx] }",
    );
    let err = refused(&covered);
    assert!(!err.contains("selecting `ingress-nginx`"), "{err}");
}
