//! The manifests are written as the API server stores them, so a field-by-field comparison of
//! manifest and live object (Argo CD's default diff, `kubectl diff` of a client-side apply)
//! finds nothing after the apply: no object stays OutOfSync for ever, re-synced in a loop.
//!
//! - Quantities in canonical form: the API server reads `1000m` back as `1`, `0.5Gi` as
//!   `512Mi` (<https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>;
//!   argoproj/argo-cd#21135 "k8s normalizes 1000M -> 1G for memory, and 1000m -> 1 for CPU",
//!   #17682 "0.5CPU vs 500mCPU").
//! - No empty `ingress: []` in a NetworkPolicy: the API server drops an empty list
//!   (`json:"ingress,omitempty"`); an absent list admits nothing just the same.

use serde_json::{Value, json};

use crate::support::manifests;

/// A Kubernetes blueprint whose figures are all written in a non-canonical but valid form.
const BLUEPRINT: &str = r#"name: liveform
providers:
  kubernetes: {}
cluster:
  platform: existing
kubernetes:
  default_namespace: liveform
  namespaces:
    - name: liveform
      quota:
        requests.cpu: "4000m"
        requests.memory: 8192Mi
        limits.cpu: "8"
        limits.memory: 16Gi
      limit_range:
        default: { cpu: "0.5", memory: 0.5Gi }
        default_request: { cpu: 250m, memory: 256Mi }
        max: { cpu: "2000m", memory: 2048Mi }
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
    replicas: 2
    resources:
      requests: { cpu: "1000m", memory: 0.5Gi }
      limits: { cpu: "1.5", memory: 1024Mi }
  - name: worker
    image: ghcr.io/acme/worker:2.3.1
    command: [node, worker.js]
    replicas: 1
    resources:
      requests: { cpu: "0.1", memory: 128Mi }
"#;

fn docs() -> Vec<Value> {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("liveform.yaml");
    std::fs::write(&path, BLUEPRINT).unwrap();
    let out = crate::support::synth(&path, infragen::Provider::Kubernetes, "production");
    manifests(&out)
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn quantities_are_written_as_the_api_server_stores_them() {
    let docs = docs();
    let container = |name: &str| {
        find(&docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["resources"]
            .clone()
    };
    assert_eq!(
        container("api"),
        json!({
            "requests": {"cpu": "1", "memory": "512Mi"},
            "limits": {"cpu": "1500m", "memory": "1Gi"},
        })
    );
    // A missing limit takes the request: the same canonical figure.
    assert_eq!(
        container("worker"),
        json!({
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        })
    );
    let quota = docs.iter().find(|d| d["kind"] == "ResourceQuota").unwrap();
    assert_eq!(
        quota["spec"]["hard"],
        json!({"limits.cpu": "8", "limits.memory": "16Gi", "requests.cpu": "4", "requests.memory": "8Gi"})
    );
    let limits = docs.iter().find(|d| d["kind"] == "LimitRange").unwrap();
    assert_eq!(
        limits["spec"]["limits"][0],
        json!({
            "type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "250m", "memory": "256Mi"},
            "max": {"cpu": "2", "memory": "2Gi"},
        })
    );
}

#[test]
fn no_network_policy_writes_an_empty_rule_list() {
    // Every shipped blueprint on every provider, and the worker above (no port: its policy
    // admits nothing).
    let mut all = docs();
    for (_, path, provider, env) in crate::support::matrix() {
        all.extend(manifests(&crate::support::synth(&path, provider, &env)));
    }
    let worker = find(&all, "NetworkPolicy", "worker-netpol");
    assert_eq!(worker["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert!(worker["spec"].get("ingress").is_none(), "{worker}");
    for d in all.iter().filter(|d| d["kind"] == "NetworkPolicy") {
        for key in ["ingress", "egress"] {
            assert_ne!(
                d["spec"][key],
                json!([]),
                "{} {}: `{key}: []`",
                d["metadata"]["namespace"],
                d["metadata"]["name"]
            );
        }
    }
}
