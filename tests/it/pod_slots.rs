//! EKS node pools against the number of pods they must run (`src/k8s/pod_slots.rs`): the
//! VPC CNI gives each node as many pod addresses as its instance type's network interfaces
//! hold (17 on a `t3.medium`), so a monorepo of small pods outgrows a pool by count while
//! CPU and memory are to spare, and the pods past it stay Pending ("Too many pods").

use infragen::catalog::Provider;

use crate::support::{eks_stack, root, synth_aws};

fn hive() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/new-user/hive-monorepo-eks.yaml")).unwrap()
}

/// The monorepo's 76 resting pods and the add-ons' (CoreDNS, the Load Balancer Controller,
/// the CloudWatch operator, …) fit four to eight `m6i.large` nodes; on the first draft's
/// three `t3.medium` nodes (13 each beside the four DaemonSets: aws-node, kube-proxy,
/// Container Insights' agent and Fluent Bit) they do not: 39.
#[test]
fn pods_past_the_pools_addresses_are_refused() {
    crate::support::synth(
        &root().join("tests/fixtures/new-user/hive-monorepo-eks.yaml"),
        Provider::Aws,
        "production",
    );
    let draft = hive().replace(
        "size: m6i.large, min: 4, max: 8",
        "size: medium, min: 3, max: 3",
    );
    let err = synth_aws("hive", &draft).unwrap_err();
    assert!(
        err.contains(
            "`node_pools`: the pools at their `max` run at most 39 pods beside their DaemonSets"
        ),
        "{err}"
    );
    // 76 of the services, 8 of the add-ons.
    assert!(err.contains("need 84 at rest"), "{err}");
    assert!(err.contains("hive.yaml:"), "{err}");
    // Six nodes hold the services' 76 but not the add-ons' 9 beside them (the Cluster
    // Autoscaler's own pod among them): 78 slots for 85 pods.
    let six = hive().replace(
        "size: m6i.large, min: 4, max: 8",
        "size: medium, min: 3, max: 6",
    );
    let err = synth_aws("hive", &six).unwrap_err();
    assert!(err.contains("run at most 78 pods"), "{err}");
    assert!(err.contains("need 85 at rest"), "{err}");
    // Room for them at `max`: the Cluster Autoscaler adds the nodes.
    let grows = hive().replace(
        "size: m6i.large, min: 4, max: 8",
        "size: medium, min: 3, max: 7",
    );
    synth_aws("hive", &grows).unwrap();
}

/// Pods pinned to a pool must fit its `desired` nodes at rest, as their CPU and memory must.
#[test]
fn pods_pinned_past_a_pools_addresses_at_rest_are_refused_there() {
    let text = |replicas: u32| {
        eks_stack(
            "pin",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
  - {{ name: general, size: m6i.large, min: 2, max: 4 }}
  - {{ name: small, size: t3.small, min: 1, desired: 2, max: 6 }}
services:
  - {{ name: tiny, image: \"ghcr.io/p/tiny:1.0.0\", port: 8080, node_pool: small, replicas: {replicas}, resources: {{ requests: {{ cpu: 10m, memory: 16Mi }}, limits: {{ memory: 16Mi }} }} }}
"
            ),
        )
    };
    // A t3.small takes 11 pods, 7 beside the four DaemonSets (aws-node, kube-proxy,
    // Container Insights' agent and Fluent Bit): 14 on two nodes.
    synth_aws("pin", &text(14)).unwrap();
    let err = synth_aws("pin", &text(15)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools[1].desired`: 2 t3.small node(s) of pool `small` run at most 14 pods beside their 4 DaemonSets"
        ),
        "{err}"
    );
    assert!(
        err.contains("expected: at least 3 t3.small node(s)"),
        "{err}"
    );
}

/// A managed node group caps the kubelet's `maxPods` at 110 below 30 vCPUs, whatever its
/// interfaces hold (EKS user guide, "How maxPods is determined"): a 16-vCPU `m6i.4xlarge`,
/// 234 pod addresses, runs 106 pods beside the four DaemonSets, not 230 — and five of them
/// are the add-ons' (CoreDNS and the Load Balancer Controller, two each, and the CloudWatch
/// observability operator).
#[test]
fn a_managed_node_groups_max_pods_cap_counts() {
    let text = |replicas: u32| {
        eks_stack(
            "big",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
  - {{ name: general, size: m6i.4xlarge, min: 1, max: 1 }}
services:
  - {{ name: tiny, image: \"ghcr.io/p/tiny:1.0.0\", port: 8080, replicas: {replicas}, resources: {{ requests: {{ cpu: 10m, memory: 16Mi }}, limits: {{ memory: 16Mi }} }} }}
"
            ),
        )
    };
    synth_aws("big", &text(101)).unwrap();
    let err = synth_aws("big", &text(102)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools`: the pools at their `max` run at most 106 pods beside their DaemonSets"
        ),
        "{err}"
    );
    assert!(
        err.contains("need 107 at rest (tiny 102 + coredns 2 + cloudwatch-observability-operator 1 + aws-load-balancer-controller 2)"),
        "{err}"
    );
}

fn saltmarsh() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/new-user/saltmarsh-telemetry-eks.yaml"))
        .unwrap()
}

fn synth_staging(text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("saltmarsh.yaml", text.as_bytes(), Provider::Aws, "staging")
        .map_err(|d| d.to_string())
}

const STAGING_POOL: &str =
    "node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 4 }]";

/// Round 17's staging: two `t3.medium` nodes (12 pods each beside aws-node, kube-proxy, the
/// EBS CSI node and Container Insights' two agents) for the 10 pods of the services and
/// the broker and the 21 the output installs beside them (CoreDNS 2, the EBS CSI
/// controller 2, the CloudWatch operator, the Load Balancer Controller 2, Envoy Gateway
/// and its proxy, cert-manager 3, metrics-server 2, the Cluster Autoscaler, KEDA 3,
/// External Secrets 3): the pods past 24 wait for the Cluster Autoscaler on every fresh
/// apply. A warning, not a refusal: at `max` (four nodes, 48) they fit.
#[test]
fn the_add_ons_pods_count_and_a_fresh_apply_waits_on_the_autoscaler() {
    assert!(saltmarsh().contains(STAGING_POOL), "the staging pool moved");
    let out = synth_staging(&saltmarsh()).unwrap();
    let warning = out
        .notes
        .iter()
        .find(|n| n.rule == Some("node-pod-slots"))
        .unwrap_or_else(|| panic!("{:#?}", out.notes))
        .to_string();
    assert!(warning.contains("run at most 24 pods"), "{warning}");
    assert!(warning.contains("(21 pods) need 31 at rest"), "{warning}");
    assert!(
        warning.contains("until the Cluster Autoscaler adds nodes"),
        "{warning}"
    );
    // Three nodes to start with hold them: no warning.
    let roomy = saltmarsh().replace(
        STAGING_POOL,
        "node_pools: [{ name: general, size: medium, min: 2, desired: 3, max: 4 }]",
    );
    let out = synth_staging(&roomy).unwrap();
    assert!(
        !out.notes.iter().any(|n| n.rule == Some("node-pod-slots")),
        "{:#?}",
        out.notes
    );
}

/// The same pool that cannot grow past two nodes leaves pods Pending for good: refused,
/// the add-ons named among the pods.
#[test]
fn a_pool_that_cannot_hold_the_add_ons_at_max_is_refused() {
    let fixed = saltmarsh().replace(
        STAGING_POOL,
        "node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 2 }]",
    );
    let err = synth_staging(&fixed).unwrap_err();
    assert!(
        err.contains("`node_pools`: the pools at their `max` run at most 24 pods"),
        "{err}"
    );
    // No Cluster Autoscaler without room to grow: 20 of the add-ons' pods.
    assert!(
        err.contains("(20 pods: CoreDNS, controllers, webhooks) need 30 at rest"),
        "{err}"
    );
    assert!(err.contains("for good"), "{err}");
}

/// A tainted pool runs every DaemonSet that tolerates its taint, and all those the output
/// installs tolerate every taint (`tolerations: [{operator: Exists}]`; the EBS CSI node's
/// `tolerateAllTaints`): a `t3.small` (11 pods) of a pool tainted `dedicated=tiny` keeps 7
/// for the pods pinned to it beside aws-node, kube-proxy and Container Insights' agent and
/// Fluent Bit, as an untainted one does — not 9.
#[test]
fn a_tainted_pools_nodes_run_the_daemon_sets_too() {
    let text = |replicas: u32| {
        eks_stack(
            "taint",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
  - {{ name: general, size: m6i.large, min: 2, max: 4 }}
  - {{ name: small, size: t3.small, min: 1, desired: 2, max: 6, taints: [{{ key: dedicated, value: tiny, effect: NoSchedule }}] }}
services:
  - {{ name: tiny, image: \"ghcr.io/p/tiny:1.0.0\", port: 8080, node_pool: small, replicas: {replicas}, resources: {{ requests: {{ cpu: 10m, memory: 16Mi }}, limits: {{ memory: 16Mi }} }} }}
"
            ),
        )
    };
    synth_aws("taint", &text(14)).unwrap();
    let err = synth_aws("taint", &text(15)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools[1].desired`: 2 t3.small node(s) of pool `small` run at most 14 pods beside their 4 DaemonSets"
        ),
        "{err}"
    );
}

/// The EBS CSI driver's controller runs two replicas (the add-on's `controller.replicaCount`
/// default, kubernetes-sigs/aws-ebs-csi-driver values.schema.json) and its node plugin one
/// pod on every node: one `m6i.4xlarge` (110 pods) keeps 105 beside the five DaemonSets, of
/// which the add-ons take 7 (CoreDNS 2, the EBS CSI controller 2, the CloudWatch operator,
/// the Load Balancer Controller 2). 98 services' pods fit; 99 do not.
#[test]
fn the_ebs_csi_controllers_two_replicas_count() {
    let text = |replicas: u32| {
        eks_stack(
            "ebs",
            "{ platform: eks, version: \"1.35\", addons: [vpc-cni, coredns, kube-proxy, aws-ebs-csi-driver] }",
            &format!(
                "node_pools:
  - {{ name: general, size: m6i.4xlarge, min: 1, max: 1 }}
services:
  - {{ name: tiny, image: \"ghcr.io/p/tiny:1.0.0\", port: 8080, replicas: {replicas}, resources: {{ requests: {{ cpu: 10m, memory: 16Mi }}, limits: {{ memory: 16Mi }} }} }}
"
            ),
        )
    };
    synth_aws("ebs", &text(98)).unwrap();
    let err = synth_aws("ebs", &text(99)).unwrap_err();
    assert!(
        err.contains("the pools at their `max` run at most 105 pods beside their DaemonSets"),
        "{err}"
    );
    assert!(
        err.contains("need 106 at rest (tiny 99 + coredns 2 + ebs-csi-controller 2 + cloudwatch-observability-operator 1 + aws-load-balancer-controller 2)"),
        "{err}"
    );
}

/// The add-ons' Deployments and the pods without `node_pool` run on the untainted pools
/// only: one `t3.medium` (17 pods, 13 beside the four DaemonSets) that cannot grow holds
/// CoreDNS 2, the CloudWatch operator 1 and the Load Balancer Controller 2, and at most 8
/// of an unpinned service's pods, whatever pod slots an idle tainted pool has.
#[test]
fn the_add_ons_pods_count_against_the_untainted_pools_only() {
    let text = |replicas: u32, taint: &str| {
        eks_stack(
            "taint",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
  - {{ name: general, size: t3.medium, min: 1, max: 1 }}
  - {{ name: big, size: m6i.large, min: 2, max: 2{taint} }}
services:
  - {{ name: tiny, image: \"ghcr.io/p/tiny:1.0.0\", port: 8080, replicas: {replicas}, resources: {{ requests: {{ cpu: 10m, memory: 16Mi }}, limits: {{ memory: 16Mi }} }} }}
"
            ),
        )
    };
    let tainted = ", taints: [{ key: dedicated, value: big, effect: NoSchedule }]";
    synth_aws("taint", &text(8, tainted)).unwrap();
    let err = synth_aws("taint", &text(9, tainted)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools`: the pools without a `NoSchedule`/`NoExecute` taint (`general`) at their `max` run at most 13 pods beside their DaemonSets"
        ),
        "{err}"
    );
    assert!(
        err.contains("need 14 (tiny 9 + coredns 2 + cloudwatch-observability-operator 1 + aws-load-balancer-controller 2)"),
        "{err}"
    );
    // Untainted, the second pool takes them.
    synth_aws("taint", &text(9, "")).unwrap();
}
