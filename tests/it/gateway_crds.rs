//! Envoy Gateway's CRDs (Gateway API and Envoy Gateway's own) on the back-ends whose
//! platform installs Envoy Gateway (EKS, DOKS): they come with the `gateway-helm` release,
//! which must keep them (a `skip_crds` there leaves the GatewayClass, Gateway and HTTPRoute
//! without their CRDs), and never from a `gateway-crds-helm` release, whose release record
//! overflows Helm's 1 MiB Secret (envoyproxy/gateway#6105) so the apply would fail in every
//! account. cert-manager, whose Gateway API support exits without those CRDs, comes after
//! the release that installs them; a chart bump tells how to upgrade them first.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::{root, synth};

/// Every `helm_release` of the platform module, by name, with its body.
fn releases(out: &infragen::Output) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/platform/") && path.ends_with(".tf.json")) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(map) = doc["resource"]["helm_release"].as_object() {
            for (name, body) in map {
                all.insert(name.clone(), body.clone());
            }
        }
    }
    all
}

fn depends_on(release: &Value) -> Vec<&str> {
    release["depends_on"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn outputs() -> Vec<(&'static str, infragen::Output)> {
    vec![
        (
            "eks",
            synth(
                &root().join("tests/fixtures/workloads/gateway-eks.yaml"),
                Provider::Aws,
                "production",
            ),
        ),
        (
            "doks",
            synth(
                &root().join("blueprints/ecommerce-doks.yaml"),
                Provider::Digitalocean,
                "stage",
            ),
        ),
    ]
}

#[test]
fn the_gateway_release_installs_the_crds_and_nothing_installs_them_as_an_oversized_release() {
    for (name, out) in outputs() {
        let all = releases(&out);
        let gw = all
            .get("envoy_gateway")
            .unwrap_or_else(|| panic!("{name}: no Envoy Gateway release: {:?}", all.keys()));
        assert_eq!(gw["chart"], "gateway-helm", "{name}");
        // The only installer of the Gateway API CRDs: skipping them leaves the manifests'
        // Gateway objects without a kind to be.
        assert_ne!(gw["skip_crds"], Value::Bool(true), "{name}: {gw}");
        assert!(
            !gw["values"][0]
                .as_str()
                .unwrap_or_default()
                .contains(r#""crds":{"enabled":false"#),
            "{name}: {gw}"
        );
        let crd_chart: Vec<&String> = all
            .iter()
            .filter(|(_, b)| b["chart"] == "gateway-crds-helm")
            .map(|(n, _)| n)
            .collect();
        assert!(
            crd_chart.is_empty(),
            "{name}: helm_release {crd_chart:?} of gateway-crds-helm cannot install (its release Secret exceeds 1 MiB)"
        );
        let cm = &all["cert_manager"];
        assert!(
            depends_on(cm).contains(&"helm_release.envoy_gateway"),
            "{name}: cert-manager would start before the Gateway API CRDs: {:?}",
            depends_on(cm)
        );
    }
}

/// A chart bump on EKS (the DigitalOcean case is in `day2_k8s`) says to apply the new
/// chart's CRDs before the apply, at the new version.
#[test]
fn an_eks_gateway_chart_bump_says_to_apply_the_new_crds_first() {
    let path = root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let head = std::fs::read_to_string(&path).unwrap();
    let pin = infragen::releases::pinned_chart("chart-envoy-gateway");
    assert!(head.contains("gateway: { class: eg }"));
    let base = head.replacen(
        "gateway: { class: eg }",
        "gateway: { class: eg, chart_version: v1.9.0 }",
        1,
    );
    let synth = |yaml: &str| {
        infragen::synthesize(
            "gateway-eks.yaml",
            yaml.as_bytes(),
            Provider::Aws,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let notes = infragen::diff::upgrade_notes(&synth(&base), &synth(&head));
    let expected =
        format!("helm show crds oci://docker.io/envoyproxy/gateway-helm --version {pin}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("helm_release.envoy_gateway") && n.contains(&expected)),
        "{notes:?}"
    );
    // The same chart on both sides: nothing to apply.
    assert!(
        !infragen::diff::upgrade_notes(&synth(&head), &synth(&head))
            .iter()
            .any(|n| n.contains("gateway-helm")),
    );
}
