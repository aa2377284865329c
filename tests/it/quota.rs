//! ResourceQuota against what the pods may claim at their maximum, here with a
//! VerticalPodAutoscaler: in every mode but `Off` its admission controller sets a new pod's
//! requests up to `maxAllowed` (`vpa.max`) and, with the default `controlledValues:
//! RequestsAndLimits`, scales the limits by the same factor. A quota that holds only the
//! declared figures lets the API server refuse the pods the HPA adds once the VPA has grown
//! them. The shipped techshop blueprint is the case: 10 app pods (HPA max), requests
//! 250m / 256Mi, limits 500m / 512Mi, VPA max 1 CPU / 1Gi.

use infragen::Provider;

use crate::support::root;

fn techshop() -> String {
    std::fs::read_to_string(root().join("blueprints/techshop.yaml")).unwrap()
}

fn synth(text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(
        "techshop.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in techshop.yaml");
    text.replacen(from, to, 1)
}

/// The shipped blueprint's quota holds its pods at the VPA's max (12.7 CPU requested).
#[test]
fn the_shipped_quota_holds_the_vpa_sized_pods() {
    synth(&techshop()).unwrap();
}

/// Requests: 10 app pods × 1 CPU (the VPA's max) + 2.7 CPU of data services and jobs need
/// 12.7 CPU; the declared 250m per pod would fit in 6.
#[test]
fn requests_count_the_vpa_max() {
    let text = edited(&techshop(), r#"requests.cpu: "13""#, r#"requests.cpu: "6""#);
    let err = synth(&text).expect_err("the quota cannot hold the VPA-sized pods");
    assert!(err.contains("requests.cpu 6"), "{err}");
    assert!(err.contains("12700m"), "{err}");
    assert!(
        err.contains("techshop-app (at its VPA's max) 10 × 1000m"),
        "{err}"
    );
}

/// Limits: the VPA keeps the limit/request ratio (2), so the app's limits reach 2 CPU per
/// pod and the namespace 26.75 CPU; capping the limits at the declared 500m would need 11.75.
#[test]
fn limits_scale_with_the_vpa_requests() {
    let text = edited(&techshop(), r#"limits.cpu: "27""#, r#"limits.cpu: "26""#);
    let err = synth(&text).expect_err("the VPA scales the limits with the requests");
    assert!(err.contains("limits.cpu 26"), "{err}");
    assert!(err.contains("26750m"), "{err}");
}

/// With an HPA on CPU alone the VPA controls memory only: the CPU figures stay the declared
/// ones (5.2 CPU requested, 11.75 of limits fit the seed-era 6 / 12), memory grows.
#[test]
fn a_vpa_that_controls_memory_only_leaves_cpu_alone() {
    let text = edited(&techshop(), "      memory_percent: 80\n", "");
    let text = edited(&text, r#"requests.cpu: "13""#, r#"requests.cpu: "6""#);
    let text = edited(&text, r#"limits.cpu: "27""#, r#"limits.cpu: "12""#);
    synth(&text).unwrap();
    let text = edited(&text, "requests.memory: 15Gi", "requests.memory: 8Gi");
    let err = synth(&text).expect_err("memory still grows to the VPA's max");
    assert!(err.contains("requests.memory 8Gi"), "{err}");
}

/// A VPA without a max may raise the requests without bound: no quota can be checked.
#[test]
fn an_unbounded_vpa_under_a_quota_is_refused() {
    let text = edited(
        &techshop(),
        "      max: { cpu: \"1\", memory: 1Gi }\n",
        "      max: { memory: 1Gi }\n",
    );
    let err = synth(&text).expect_err("no quota holds an unbounded VPA");
    assert!(err.contains("no `vpa.max.cpu`"), "{err}");
    assert!(err.contains("techshop.yaml:"), "{err}");
}

/// `Off` only recommends: the pods keep their declared figures.
#[test]
fn a_vpa_in_off_mode_sizes_nothing() {
    let text = edited(&techshop(), "      mode: Auto\n", "      mode: \"Off\"\n");
    let text = edited(&text, r#"requests.cpu: "13""#, r#"requests.cpu: "6""#);
    let text = edited(&text, r#"limits.cpu: "27""#, r#"limits.cpu: "12""#);
    let text = edited(&text, "requests.memory: 15Gi", "requests.memory: 8Gi");
    let text = edited(&text, "limits.memory: 30Gi", "limits.memory: 16Gi");
    synth(&text).unwrap();
}

/// The VPA sizes the app container only: a sidecar gets the `*` policy with mode Off, since
/// a container without a policy of its own is controlled without bounds (and the quota was
/// checked with the sidecar at its declared figures).
#[test]
fn a_vpa_leaves_the_sidecars_alone() {
    let text = edited(
        &techshop(),
        "    pdb:\n      min_available: \"2\" # techshop-app-pdb\n",
        "    sidecars:\n      - name: log-shipper\n        image: fluent/fluent-bit:4.0.3\n        resources: { requests: { cpu: 50m, memory: 64Mi }, limits: { cpu: 100m, memory: 128Mi } }\n    pdb:\n      min_available: \"2\" # techshop-app-pdb\n",
    );
    let text = edited(&text, r#"requests.cpu: "13""#, r#"requests.cpu: "14""#);
    let text = edited(&text, r#"limits.cpu: "27""#, r#"limits.cpu: "28""#);
    let text = edited(&text, "limits.memory: 30Gi", "limits.memory: 31Gi");
    let out = synth(&text).unwrap_or_else(|e| panic!("{e}"));
    let app = &out.files["k8s/techshop-cloud/techshop-app.yaml"];
    let vpa = &app[app.find("kind: VerticalPodAutoscaler").unwrap()..];
    assert!(
        vpa.contains("- containerName: \"*\"\n        mode: \"Off\""),
        "{vpa}"
    );
    assert!(vpa.contains("- containerName: techshop-app\n"), "{vpa}");
}

/// A rolling update that may take no pod down first (`maxUnavailable` 0: the default 25 %
/// of fewer than four replicas rounds down to 0, and a release step sets 0) adds its surge
/// pod before any old one goes; a quota with no room for it refuses that pod and the
/// rollout never progresses. Four replicas under the default may take one down first, so
/// they need no room beyond their own.
#[test]
fn a_rollout_that_takes_no_pod_down_first_needs_room_for_its_surge() {
    let blueprint = |replicas: u32, pods: u32, release: bool| {
        let release = if release {
            "    release: { command: [./migrate] }\n"
        } else {
            ""
        };
        format!(
            "name: shop\ncluster: {{ platform: existing }}\nkubernetes:\n  default_namespace: shop\n  namespaces: [{{ name: shop, quota: {{ pods: \"{pods}\" }} }}]\nservices:\n  - name: api\n    image: ghcr.io/shop/api:1.0.0\n    port: 8080\n    replicas: {replicas}\n{release}"
        )
    };
    // One replica: 25 % rounds down to 0 unavailable, up to 1 surge pod.
    let err = synth(&blueprint(1, 1, false)).expect_err("no room for the surge pod");
    assert!(err.contains("api's rollout surge 1"), "{err}");
    synth(&blueprint(1, 2, false)).unwrap_or_else(|e| panic!("{e}"));
    // Four replicas may take one down first.
    synth(&blueprint(4, 4, false)).unwrap_or_else(|e| panic!("{e}"));
    // A release step keeps all four (maxUnavailable 0) and adds one (the release Job's pod
    // counts too).
    let err = synth(&blueprint(4, 5, true)).expect_err("no room for the surge pod");
    assert!(err.contains("api's rollout surge 1"), "{err}");
    synth(&blueprint(4, 6, true)).unwrap_or_else(|e| panic!("{e}"));
}
