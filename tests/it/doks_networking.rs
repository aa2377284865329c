//! DOKS networking and who owns the Gateway API there.
//!
//! A cluster created without `cluster_subnet` / `service_subnet` gets DigitalOcean's default,
//! the legacy overlay network, on which what the output relies on is known to work (the
//! managed databases' `k8s` firewall rule, Envoy Gateway's own Gateway API CRDs); the
//! blueprint may name both ranges for a VPC-native cluster (`backend::digitalocean::
//! overlay`), and a cluster created before it did keeps its ranges (both arguments force a
//! new cluster). Where DOKS installs and reconciles the Gateway API CRDs itself, the Envoy
//! Gateway release must leave them, and its safe-upgrades admission policy, which would
//! deny DOKS's own updates of them, to DOKS.

use std::collections::BTreeMap;

use infragen::Provider;
use infragen::diff::{compare, upgrade_notes};
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

/// Every DigitalOcean environment of the shipped blueprints with a cluster.
fn doks_envs() -> Vec<(String, String, infragen::Output)> {
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
            all.push((name.to_string(), env.to_string(), out));
        }
    }
    all
}

const STAGE: &str = "  stage:\n    # \"Propósito: Desarrollo y pruebas\".";
const NAMED: &str = "cluster_subnet: 172.19.0.0/17, service_subnet: 172.19.128.0/20";

/// No ranges unless the blueprint names them: DigitalOcean's default (the legacy overlay)
/// is what the database firewalls and the Gateway API path are known to work on.
#[test]
fn a_doks_cluster_takes_digitaloceans_default_networking_unless_the_blueprint_names_it() {
    for (name, env, out) in doks_envs() {
        let c = cluster(&out);
        for arg in ["cluster_subnet", "service_subnet"] {
            assert!(c.get(arg).is_none(), "{name} {env}: {arg} = {}", c[arg]);
        }
    }
    let yaml = with_ranges(STAGE, NAMED);
    let stage = cluster(&synth_doks(&yaml, "stage").unwrap());
    assert_eq!(stage["cluster_subnet"], "172.19.0.0/17");
    assert_eq!(stage["service_subnet"], "172.19.128.0/20");
    let production = cluster(&synth_doks(&yaml, "production").unwrap());
    assert!(production.get("cluster_subnet").is_none(), "{production}");
}

/// Both ranges force a new cluster: naming them for a cluster that runs on the legacy
/// overlay must not replace it. `ignore_changes` keeps them, and the diff says so without
/// a replacement.
#[test]
fn naming_the_ranges_never_replaces_a_running_cluster() {
    let plain = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let old = synth_doks(&plain, "stage").unwrap();
    let out = synth_doks(&with_ranges(STAGE, NAMED), "stage").unwrap();
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
    let plain = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let yaml = with_ranges(
        "  production:",
        "cluster_subnet: 172.20.0.0/17, service_subnet: 172.20.128.0/20",
    );
    let named = synth_doks(&yaml, "production").unwrap();
    for (out, pods, not) in [
        (&plain, "10.244.0.0/16", "172.20.0.0/17"),
        (&named, "172.20.0.0/17", "10.244.0.0/16"),
    ] {
        let webhook = manifests(out)
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
        assert!(!text.contains(not), "{text}");
    }
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
        let yaml = with_ranges(STAGE, ranges);
        let err = synth_doks(&yaml, "stage").expect_err(ranges);
        assert!(err.contains(expected), "{ranges}: {err}");
        assert!(err.contains("providers.digitalocean."), "{ranges}: {err}");
        assert!(err.contains("ecommerce-doks.yaml:"), "{ranges}: {err}");
    }
}

/// The VPC-native cluster's ranges are created with it and routed in the account's private
/// network as a new VPC's are, so DigitalOcean's reserved ranges ("How to Plan Your Custom
/// VPC Network": 10.244/16, 10.245/16, 10.246.0.0/24, 10.10/16 in NYC1; 10.229/16 in every
/// region since 7 March 2025) are refused for them as for the VPC, at the range's position.
#[test]
fn named_ranges_clear_digitaloceans_reserved_ranges() {
    let cases = [
        (
            "cluster_subnet: 10.229.0.0/17, service_subnet: 172.19.128.0/20",
            "`10.229.0.0/17` overlaps `10.229.0.0/16`, which DigitalOcean reserves in every region",
        ),
        (
            "cluster_subnet: 172.19.0.0/17, service_subnet: 10.246.0.0/20",
            "`10.246.0.0/20` overlaps `10.246.0.0/24`, which DigitalOcean reserves in every region",
        ),
        (
            "cluster_subnet: 10.10.0.0/17, service_subnet: 172.19.128.0/20",
            "`10.10.0.0/17` overlaps `10.10.0.0/16`, which DigitalOcean reserves in `nyc1`",
        ),
    ];
    for (ranges, expected) in cases {
        let yaml = with_ranges(STAGE, ranges);
        let err = synth_doks(&yaml, "stage").expect_err(ranges);
        assert!(err.contains(expected), "{ranges}: {err}");
        assert!(err.contains("ecommerce-doks.yaml:"), "{ranges}: {err}");
        assert!(err.contains("help: pick a range clear"), "{ranges}: {err}");
    }
    // 10.10/16 is reserved in NYC1 only.
    let ranges = "cluster_subnet: 10.10.0.0/17, service_subnet: 172.19.128.0/20";
    let yaml = with_ranges(STAGE, ranges).replacen(
        "region: nyc1, spaces_region: nyc3",
        "region: fra1, spaces_region: fra1",
        1,
    );
    synth_doks(&yaml, "stage").unwrap_or_else(|e| panic!("{ranges} in fra1: {e}"));
}

/// Without a `network` the cluster joins the region's default VPC, and its named ranges are
/// still checked (all but the overlap with that VPC, whose range the blueprint does not say).
#[test]
fn named_ranges_are_checked_without_a_network() {
    let yaml = |ranges: &str| {
        format!(
            "name: tiny\nproviders:\n  digitalocean: {{ region: fra1, {ranges} }}\ncluster: {{ platform: doks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, desired: 2, max: 3 }}\n"
        )
    };
    let synth = |ranges: &str| {
        infragen::synthesize(
            "tiny.yaml",
            yaml(ranges).as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .map_err(|d| d.to_string())
    };
    for (ranges, expected) in [
        (
            "cluster_subnet: 10.229.0.0/17, service_subnet: 172.19.128.0/20",
            "which DigitalOcean reserves in every region",
        ),
        (
            "cluster_subnet: 8.8.0.0/17, service_subnet: 172.19.128.0/20",
            "not a private",
        ),
        (
            "cluster_subnet: 172.19.0.0/17, service_subnet: 172.19.0.0/20",
            "overlaps the pod range",
        ),
        (
            "cluster_subnet: 172.19.0.0/17",
            "`service_subnet` is missing",
        ),
    ] {
        let err = synth(ranges).expect_err(ranges);
        assert!(err.contains(expected), "{ranges}: {err}");
        assert!(err.contains("tiny.yaml:3:"), "{ranges}: {err}");
    }
    synth("cluster_subnet: 172.19.0.0/17, service_subnet: 172.19.128.0/20")
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The ranges DigitalOcean's own provider creates a VPC-native cluster with, in `nyc1`
/// without a VPC of its own (acceptance test `TestAccDigitalOceanKubernetesCluster_VPCNative`,
/// digitalocean/terraform-provider-digitalocean#1253: pods `192.168.0.0/20`, Services
/// `192.168.16.0/24`), and a `10.x` pair clear of the reserved ranges, pass the checks —
/// in `nyc1` too, where `10.10.0.0/16` is reserved, and beside a VPC.
#[test]
fn digitaloceans_own_vpc_native_ranges_are_accepted() {
    for (region, network, ranges) in [
        (
            "nyc1",
            "",
            "cluster_subnet: 192.168.0.0/20, service_subnet: 192.168.16.0/24",
        ),
        (
            "nyc1",
            "",
            "cluster_subnet: 10.72.0.0/16, service_subnet: 10.71.0.0/20",
        ),
        (
            "nyc1",
            "network: { cidr: 10.30.0.0/16 }\n",
            "cluster_subnet: 192.168.0.0/20, service_subnet: 192.168.16.0/24",
        ),
    ] {
        let yaml = format!(
            "name: tiny\nproviders:\n  digitalocean: {{ region: {region}, {ranges} }}\n{network}cluster: {{ platform: doks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, desired: 2, max: 3 }}\n"
        );
        let out = infragen::synthesize(
            "tiny.yaml",
            yaml.as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_or_else(|e| panic!("{region} {network}{ranges}: {e}"));
        let c = cluster(&out);
        let pods = ranges
            .split(", ")
            .next()
            .unwrap()
            .trim_start_matches("cluster_subnet: ");
        assert_eq!(c["cluster_subnet"], pods, "{ranges}");
    }
}

/// DigitalOcean offers VPC sizes from /16 to /28 ("We offer network sizes from /28 to /16",
/// docs.digitalocean.com/products/networking/vpc/concepts/plan-your-network/): a small VPC
/// is lowered as written, and only a range outside those sizes is refused.
#[test]
fn a_digitalocean_vpc_may_be_as_small_as_a_slash_28() {
    let yaml = |cidr: &str| {
        format!(
            "name: tiny\nproviders:\n  digitalocean: {{ region: fra1 }}\nnetwork: {{ cidr: {cidr} }}\ncluster: {{ platform: doks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, desired: 2, max: 3 }}\n"
        )
    };
    for cidr in ["10.30.0.0/26", "10.30.0.0/28"] {
        let out = infragen::synthesize(
            "tiny.yaml",
            yaml(cidr).as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_or_else(|d| panic!("{cidr}: {d}"));
        let vpc =
            &doc(&out, "terraform/infra/network.tf.json")["resource"]["digitalocean_vpc"]["main"];
        assert_eq!(vpc["ip_range"], cidr);
    }
    for cidr in ["10.30.0.0/29", "10.0.0.0/15"] {
        let err = infragen::synthesize(
            "tiny.yaml",
            yaml(cidr).as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .expect_err(cidr)
        .to_string();
        assert!(
            err.contains("a DigitalOcean VPC is /16 to /28"),
            "{cidr}: {err}"
        );
        assert!(err.contains("tiny.yaml:4:"), "{cidr}: {err}");
    }
}
