//! Every custom kind the manifests under `k8s/` hold has its CRDs when `kubectl apply -k k8s/`
//! runs: installed by the `platform` module (cert-manager, Envoy Gateway, KEDA), part of the
//! platform itself (Cilium on DOKS), or listed in `preconditions.json` — else the apply fails
//! on that object ("no matches for kind … ensure CRDs are installed first"). A service's `vpa`
//! on EKS or DOKS was none of these.

use std::collections::BTreeSet;

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, matrix, resources, root, synth};

/// API groups every cluster serves.
const BUILT_IN: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
];

/// `plural.group` of every custom kind in `k8s/`.
fn custom_kinds(out: &infragen::Output) -> BTreeSet<String> {
    manifests(out)
        .iter()
        .filter_map(|d| {
            let api = d["apiVersion"].as_str()?;
            let group = api.rsplit_once('/').map_or("", |(g, _)| g);
            if BUILT_IN.contains(&group) || group == "kustomize.config.k8s.io" {
                return None;
            }
            let kind = d["kind"].as_str()?.to_ascii_lowercase();
            let plural = if kind.ends_with('y') && !kind.ends_with("ay") {
                format!("{}ies", &kind[..kind.len() - 1])
            } else if kind.ends_with("ss") {
                format!("{kind}es")
            } else {
                format!("{kind}s")
            };
            Some(format!("{plural}.{group}"))
        })
        .collect()
}

fn charts(out: &infragen::Output) -> BTreeSet<String> {
    resources(out, "platform", "helm_release")
        .iter()
        .filter_map(|r| r["chart"].as_str().map(String::from))
        .collect()
}

fn listed(out: &infragen::Output) -> BTreeSet<String> {
    let pre: Value = out
        .files
        .get("preconditions.json")
        .map_or(Value::Null, |t| serde_json::from_str(t).unwrap());
    pre.as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["kind"] == "CustomResourceDefinition")
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect()
}

fn check(label: &str, provider: Provider, out: &infragen::Output) -> usize {
    let charts = charts(out);
    let listed = listed(out);
    let mut n = 0;
    for crd in custom_kinds(out) {
        let group = crd.split_once('.').unwrap().1;
        let installed = match group {
            "cert-manager.io" | "acme.cert-manager.io" => charts.contains("cert-manager"),
            "gateway.networking.k8s.io" | "gateway.envoyproxy.io" => {
                charts.contains("gateway-helm")
            }
            // KEDA's chart installs ScaledObject and TriggerAuthentication.
            "keda.sh" => charts.contains("keda"),
            "cilium.io" => provider == Provider::Digitalocean,
            _ => false,
        };
        assert!(
            installed || listed.contains(&crd),
            "{label}: k8s/ holds {crd} objects, which nothing installs and preconditions.json does not list"
        );
        n += 1;
    }
    n
}

#[test]
fn every_custom_kind_is_installed_or_a_precondition() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        checked += check(
            &format!("{stem} {provider} {env}"),
            provider,
            &synth(&path, provider, &env),
        );
    }
    for path in crate::connections::new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (provider, env) in crate::support::targets(&path) {
            let out = synth(&path, provider, &env);
            checked += check(&format!("new-user/{stem} {provider} {env}"), provider, &out);
        }
    }
    assert!(checked > 20, "{checked}");
}

/// A VerticalPodAutoscaler on each platform infragen creates a cluster for.
#[test]
fn a_vpa_on_eks_and_doks_lists_the_vpa_crds() {
    // 500m: notes-eks's web rolls with `maxUnavailable: 0` (its release step), so its surge
    // pods at the VPA's max must fit the namespace quota too (8 CPUs; `1` needed 9.55).
    let vpa = "    vpa: { mode: Initial, min: { cpu: 100m, memory: 128Mi }, max: { cpu: 500m, memory: 1Gi } }\n";
    for (file, provider, after) in [
        (
            "tests/fixtures/new-user/notes-eks.yaml",
            Provider::Aws,
            "    port: 3000\n",
        ),
        (
            "tests/fixtures/new-user/kiosk-doks.yaml",
            Provider::Digitalocean,
            "    port: 8081\n",
        ),
    ] {
        let yaml = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(yaml.contains(after), "{file}");
        let yaml = yaml.replacen(after, &format!("{after}{vpa}"), 1);
        let out = infragen::synthesize(file, yaml.as_bytes(), provider, "production")
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            custom_kinds(&out).contains("verticalpodautoscalers.autoscaling.k8s.io"),
            "{file}"
        );
        check(file, provider, &out);
    }
}
