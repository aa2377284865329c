//! DOKS networking and who owns the Gateway API there.
//!
//! A cluster created without `cluster_subnet` / `service_subnet` gets DigitalOcean's
//! default — the legacy overlay network, on which DOKS's own Gateway API never programs a
//! Gateway — so the output names both ranges (VPC-native), clear of every network the
//! blueprint declares, and keeps a cluster created before that on its legacy ranges
//! (both arguments force a new cluster). DOKS installs and reconciles the Gateway API CRDs
//! itself: the Envoy Gateway release must leave them, and its safe-upgrades admission
//! policy, which would deny DOKS's own updates of them, to DOKS.

use std::collections::BTreeMap;

use infragen::Provider;
use infragen::diff::{compare, upgrade_notes};
use ipnet::Ipv4Net;
use serde_json::Value;

use crate::support::{manifests, root, synth};

fn doc(out: &infragen::Output, file: &str) -> Value {
    serde_json::from_str(&out.files[file]).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn cluster(out: &infragen::Output) -> Value {
    doc(out, "terraform/infra/cluster.tf.json")["resource"]["digitalocean_kubernetes_cluster"]
        ["main"]
        .clone()
}

fn net(v: &Value) -> Ipv4Net {
    v.as_str()
        .unwrap_or_else(|| panic!("not a range: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Every DigitalOcean environment of the shipped blueprints with a cluster.
fn doks_envs() -> Vec<(String, String, infragen::Output, Ipv4Net)> {
    let mut all = Vec::new();
    for (name, envs) in [
        ("ecommerce-doks.yaml", &["stage", "production"][..]),
        (
            "ecommerce-eks.yaml",
            &["development", "staging", "production"][..],
        ),
    ] {
        for &env in envs {
            let out = synth(
                &root().join("blueprints").join(name),
                Provider::Digitalocean,
                env,
            );
            let vpc = net(
                &doc(&out, "terraform/infra/network.tf.json")["resource"]["digitalocean_vpc"]["main"]
                    ["ip_range"],
            );
            all.push((name.to_string(), env.to_string(), out, vpc));
        }
    }
    all
}

#[test]
fn new_doks_clusters_are_vpc_native_on_ranges_clear_of_every_declared_network() {
    let private: [Ipv4Net; 3] =
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(|c| c.parse().unwrap());
    let legacy: [Ipv4Net; 2] = ["10.244.0.0/16", "10.245.0.0/16"].map(|c| c.parse().unwrap());
    let envs = doks_envs();
    for (name, env, out, vpc) in &envs {
        let c = cluster(out);
        let pods = net(&c["cluster_subnet"]);
        let services = net(&c["service_subnet"]);
        for r in [pods, services] {
            assert!(
                private.iter().any(|p| p.contains(&r)),
                "{name} {env}: {r} is not RFC 1918"
            );
            assert!(
                !overlap(&r, vpc),
                "{name} {env}: {r} overlaps the VPC {vpc}"
            );
            for l in &legacy {
                assert!(
                    !overlap(&r, l),
                    "{name} {env}: {r} overlaps DOKS's legacy overlay {l}"
                );
            }
            // Routed in the account like a VPC: clear of every environment's VPC and of
            // the other environments' cluster ranges of the same blueprint.
            for (n2, e2, o2, v2) in &envs {
                if n2 != name {
                    continue;
                }
                assert!(
                    !overlap(&r, v2),
                    "{name} {env}: {r} overlaps `{e2}`'s VPC {v2}"
                );
                if e2 != env {
                    let c2 = cluster(o2);
                    for r2 in [net(&c2["cluster_subnet"]), net(&c2["service_subnet"])] {
                        assert!(
                            !overlap(&r, &r2),
                            "{name}: `{env}` {r} overlaps `{e2}` {r2}"
                        );
                    }
                }
            }
        }
        assert!(
            !overlap(&pods, &services),
            "{name} {env}: {pods} / {services}"
        );
        assert!(
            pods.prefix_len() <= 17,
            "{name} {env}: a pod network of {pods} is small"
        );
    }
}

/// Both ranges force a new cluster: a cluster created before infragen named them (legacy
/// overlay, `10.244.0.0/16` / `10.245.0.0/16`) must not be replaced by an upgrade of
/// infragen. `ignore_changes` keeps them, and the diff says so without a replacement.
#[test]
fn an_infragen_upgrade_never_replaces_a_cluster_created_on_the_legacy_overlay() {
    let out = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let c = cluster(&out);
    let ignored: Vec<&str> = c["lifecycle"]["ignore_changes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for arg in ["cluster_subnet", "service_subnet"] {
        assert!(
            ignored.contains(&arg),
            "{arg} not in ignore_changes: {ignored:?}"
        );
    }
    // The output of an infragen that did not name the ranges.
    let mut old = out.clone();
    let file = "terraform/infra/cluster.tf.json";
    let mut d = doc(&out, file);
    let body = &mut d["resource"]["digitalocean_kubernetes_cluster"]["main"];
    let obj = body.as_object_mut().unwrap();
    obj.remove("cluster_subnet");
    obj.remove("service_subnet");
    let keep: Vec<Value> = ignored
        .iter()
        .filter(|p| !p.ends_with("_subnet"))
        .map(|p| Value::from(*p))
        .collect();
    body["lifecycle"]["ignore_changes"] = Value::Array(keep);
    old.files
        .insert(file.into(), serde_json::to_string_pretty(&d).unwrap());
    let (changes, _) = compare(&old, &out, &BTreeMap::new());
    let notes = upgrade_notes(&old, &out);
    if let Some(ch) = changes
        .iter()
        .find(|ch| ch.address == "infra: digitalocean_kubernetes_cluster.main")
    {
        assert!(ch.destructive.is_none(), "{ch:?}");
    }
    assert!(
        notes
            .iter()
            .any(|n| n.contains("cluster_subnet") && n.contains("not applied")),
        "{notes:?}"
    );
}

/// The manifests' pod range is the cluster's: the ingress-nginx admission webhook admits
/// addresses outside the pod network only.
#[test]
fn the_manifests_know_the_clusters_pod_network() {
    let out = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let pods = cluster(&out)["cluster_subnet"]
        .as_str()
        .unwrap()
        .to_string();
    let webhook = manifests(&out)
        .into_iter()
        .find(|m| {
            m["kind"] == "NetworkPolicy" && m["metadata"]["name"] == "ingress-nginx-controller"
        })
        .expect("the ingress-nginx controller's NetworkPolicy");
    let text = webhook.to_string();
    assert!(
        text.contains(&format!("\"{pods}\"")),
        "{pods} not excepted: {text}"
    );
    assert!(!text.contains("10.244.0.0/16"), "{text}");
}

fn envoy_release(out: &infragen::Output) -> Value {
    let (_, text) = out
        .files
        .iter()
        .find(|(p, t)| p.starts_with("terraform/platform/") && t.contains("\"envoy_gateway\""))
        .expect("an Envoy Gateway release");
    let d: Value = serde_json::from_str(text).unwrap();
    d["resource"]["helm_release"]["envoy_gateway"].clone()
}

fn values(release: &Value) -> Value {
    release["values"][0]
        .as_str()
        .map(|v| serde_json::from_str(v).unwrap())
        .unwrap_or(Value::Null)
}

/// DOKS installs and reconciles the Gateway API CRDs; the chart's safe-upgrades
/// ValidatingAdmissionPolicy denies every write of such a CRD below bundle v1.5, DOKS's own
/// included, so it is not installed there. Envoy Gateway's own CRDs still come with the
/// release (nothing else installs them); on EKS, where nobody else manages the Gateway API,
/// the chart keeps its policy.
#[test]
fn on_doks_the_gateway_api_crds_and_their_admission_policy_are_left_to_doks() {
    let doks = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Digitalocean,
        "stage",
    );
    let release = envoy_release(&doks);
    let v = values(&release);
    assert_eq!(
        v.pointer("/crds/gatewayAPI/safeUpgradePolicy/enabled"),
        Some(&Value::Bool(false)),
        "{release}"
    );
    assert_ne!(
        v.pointer("/crds/enabled"),
        Some(&Value::Bool(false)),
        "{release}"
    );
    assert_ne!(release["skip_crds"], Value::Bool(true), "{release}");
    assert!(
        doks.notes.iter().any(|n| n
            .to_string()
            .contains("doks.digitalocean.com/install-policy=external")),
        "{:?}",
        doks.notes
    );

    let eks = synth(
        &root().join("tests/fixtures/workloads/gateway-eks.yaml"),
        Provider::Aws,
        "production",
    );
    let v = values(&envoy_release(&eks));
    assert_eq!(
        v.pointer("/crds/gatewayAPI/safeUpgradePolicy/enabled"),
        None,
        "{v}"
    );
}

/// A chart bump on DOKS upgrades Envoy Gateway's own CRDs only: applying the chart's
/// Gateway API CRDs over DOKS's would be reverted by DOKS's reconciler.
#[test]
fn a_doks_chart_bump_applies_envoy_gateways_own_crds_only() {
    let head = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    assert!(head.contains("gateway: { class: eg }"));
    let base = head.replacen(
        "gateway: { class: eg }",
        "gateway: { class: eg, chart_version: v1.9.0 }",
        1,
    );
    let synth = |yaml: &str| {
        infragen::synthesize(
            "ecommerce-doks.yaml",
            yaml.as_bytes(),
            Provider::Digitalocean,
            "stage",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let pin = infragen::releases::pinned_chart("chart-envoy-gateway");
    let notes = upgrade_notes(&synth(&base), &synth(&head));
    let note = notes
        .iter()
        .find(|n| n.contains("helm_release.envoy_gateway"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    assert!(
        note.contains(&format!(
            "helm pull oci://docker.io/envoyproxy/gateway-helm --version {pin} --untar"
        )) && note.contains("gateway-helm/charts/crds/crds/generated"),
        "{note}"
    );
    assert!(!note.contains("helm show crds"), "{note}");
}

#[test]
fn the_gateway_class_doks_manages_is_not_infragens_to_write() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let yaml = yaml.replacen("gateway: { class: eg }", "gateway: { class: cilium }", 1);
    let err = infragen::synthesize(
        "ecommerce-doks.yaml",
        yaml.as_bytes(),
        Provider::Digitalocean,
        "stage",
    )
    .expect_err("class cilium on DOKS")
    .to_string();
    assert!(err.contains("ingress.gateway.class"), "{err}");
    assert!(err.contains("ecommerce-doks.yaml:"), "{err}");
}

fn with_ranges(env_block: &str, ranges: &str) -> String {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    assert!(yaml.contains(env_block), "{env_block}");
    yaml.replacen(
        env_block,
        &format!("{env_block}\n    providers: {{ digitalocean: {{ region: nyc1, spaces_region: nyc3, {ranges} }} }}"),
        1,
    )
}

fn synth_doks(yaml: &str, env: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(
        "ecommerce-doks.yaml",
        yaml.as_bytes(),
        Provider::Digitalocean,
        env,
    )
    .map_err(|d| d.to_string())
}

/// An account may hold other networks in the range infragen derives from: the blueprint
/// names the ranges then, and the other environments' derived ranges step around them.
#[test]
fn named_ranges_are_used_as_given_and_the_derived_ones_step_around_them() {
    let yaml = with_ranges(
        "  stage:\n    # \"Propósito: Desarrollo y pruebas\".",
        "cluster_subnet: 172.19.0.0/17, service_subnet: 172.19.128.0/20",
    );
    let stage = cluster(&synth_doks(&yaml, "stage").unwrap());
    assert_eq!(stage["cluster_subnet"], "172.19.0.0/17");
    assert_eq!(stage["service_subnet"], "172.19.128.0/20");
    // production would have taken 172.19.0.0/16 (after stage's 172.18): it steps to the next.
    let production = cluster(&synth_doks(&yaml, "production").unwrap());
    let pods = net(&production["cluster_subnet"]);
    assert!(
        !overlap(&pods, &"172.19.0.0/16".parse().unwrap()),
        "{pods} clashes with stage's named range"
    );
}

#[test]
fn named_ranges_are_checked() {
    let cases = [
        (
            "cluster_subnet: 172.19.0.0/17",
            "`service_subnet` is missing",
        ),
        (
            "cluster_subnet: 172.16.0.0/17, service_subnet: 172.19.128.0/20",
            "overlaps the VPC `172.16.0.0/16`",
        ),
        (
            "cluster_subnet: 10.244.0.0/17, service_subnet: 172.19.128.0/20",
            "legacy pod network",
        ),
        (
            "cluster_subnet: 172.19.0.0/17, service_subnet: 172.19.0.0/20",
            "overlaps the pod range",
        ),
        (
            "cluster_subnet: 8.8.0.0/17, service_subnet: 172.19.128.0/20",
            "not a private",
        ),
    ];
    for (ranges, expected) in cases {
        let yaml = with_ranges(
            "  stage:\n    # \"Propósito: Desarrollo y pruebas\".",
            ranges,
        );
        let err = synth_doks(&yaml, "stage").expect_err(ranges);
        assert!(err.contains(expected), "{ranges}: {err}");
        assert!(err.contains("providers.digitalocean."), "{ranges}: {err}");
        assert!(err.contains("ecommerce-doks.yaml:"), "{ranges}: {err}");
    }
}
