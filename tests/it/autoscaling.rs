//! Every HorizontalPodAutoscaler an output creates can read the resource metrics API:
//! EKS and DOKS do not serve `metrics.k8s.io` without metrics-server ("install the metrics
//! server from the Marketplace so the HPA can monitor the cluster's resource usage" —
//! DigitalOcean's autoscaling guide), so the cloud back-ends install it in `platform`, and
//! `--provider kubernetes` lists it in `preconditions.json`. Without it an autoscaler never
//! leaves its minimum. Autoscalers come from the services (`k8s/`) and from ingress-nginx's
//! chart (`kubernetes.ingress_controller.replicas`).

use infragen::Provider;
use serde_json::Value;

use crate::support::{matrix, synth};

/// Whether the output creates an autoscaler: an HPA manifest, or a Helm release whose
/// values turn on the chart's own.
fn autoscales(out: &infragen::Output) -> bool {
    let manifests = out
        .files
        .iter()
        .any(|(f, t)| f.starts_with("k8s/") && t.contains("kind: HorizontalPodAutoscaler"));
    let charts = out
        .files
        .iter()
        .filter(|(f, _)| f.starts_with("terraform/platform/") && f.ends_with(".tf.json"))
        .any(|(_, t)| {
            let doc: Value = serde_json::from_str(t).unwrap();
            doc["resource"]["helm_release"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .flat_map(|r| r["values"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v.as_str().map(String::from))
                .any(|v| {
                    let values: Value = serde_json::from_str(&v).unwrap();
                    values["controller"]["autoscaling"]["enabled"] == true
                })
        });
    manifests || charts
}

fn installs_metrics_server(out: &infragen::Output) -> bool {
    out.files
        .iter()
        .filter(|(f, _)| f.starts_with("terraform/platform/"))
        .any(|(_, t)| t.contains("\"metrics_server\""))
}

fn lists_metrics_api(out: &infragen::Output) -> bool {
    out.files
        .get("preconditions.json")
        .is_some_and(|t| t.contains("v1beta1.metrics.k8s.io"))
}

#[test]
fn every_autoscaler_can_read_resource_metrics() {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        if !autoscales(&out) {
            continue;
        }
        let label = format!("{stem} --provider {provider} --env {env}");
        let served = match provider {
            Provider::Kubernetes => lists_metrics_api(&out),
            _ => installs_metrics_server(&out),
        };
        if !served {
            problems.push(format!(
                "{label}: autoscales, but nothing serves the resource metrics API"
            ));
        }
        checked.push(label);
    }
    // ecommerce-doks autoscales only ingress-nginx (production): the case this guards.
    assert!(
        checked
            .iter()
            .any(|l| l == "ecommerce-doks --provider digitalocean --env production"),
        "{checked:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Only ingress-nginx autoscales (no service does): both cloud back-ends still install
/// metrics-server. EKS used to look at the services alone, so the controller's HPA stayed at
/// its minimum.
#[test]
fn an_autoscaled_ingress_controller_alone_gets_metrics_server() {
    let blueprint = crate::connections::NEW_USER
        .replace("    autoscaling: { min: 2, max: 6, cpu_percent: 70 }\n", "")
        + "kubernetes:\n  ingress_controller: { kind: nginx, replicas: { min: 2, max: 5 } }\n";
    for provider in [Provider::Aws, Provider::Digitalocean] {
        let out = infragen::synthesize("shop.yaml", blueprint.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{provider}: {d}"));
        assert!(
            autoscales(&out),
            "{provider}: the controller should autoscale"
        );
        assert!(
            !out.files
                .keys()
                .any(|f| f.starts_with("k8s/") && f.contains("hpa")),
            "{provider}: no service autoscales in this blueprint"
        );
        assert!(
            installs_metrics_server(&out),
            "{provider}: no metrics-server"
        );
    }
}
