//! EKS node pools against the number of pods they must run (`src/k8s/pod_slots.rs`): the
//! VPC CNI gives each node as many pod addresses as its instance type's network interfaces
//! hold (17 on a `t3.medium`), so a monorepo of small pods outgrows a pool by count while
//! CPU and memory are to spare, and the pods past it stay Pending ("Too many pods").

use infragen::catalog::Provider;

use crate::support::{eks_stack, root, synth_aws};

fn hive() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/new-user/hive-monorepo-eks.yaml")).unwrap()
}

/// The monorepo's 76 resting pods fit four to eight `m6i.large` nodes (27 pods each beside
/// the DaemonSets); on the first draft's three `t3.medium` nodes (15 each) they do not: 45.
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
            "`node_pools`: the pools at their `max` run at most 45 pods beside their DaemonSets"
        ),
        "{err}"
    );
    assert!(err.contains("need 76 at rest"), "{err}");
    assert!(err.contains("hive.yaml:"), "{err}");
    // Room for them at `max`: the Cluster Autoscaler adds the nodes.
    let grows = hive().replace(
        "size: m6i.large, min: 4, max: 8",
        "size: medium, min: 3, max: 6",
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
    // A t3.small takes 11 pods, 9 beside the DaemonSets: 18 on two nodes.
    synth_aws("pin", &text(18)).unwrap();
    let err = synth_aws("pin", &text(19)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools[1].desired`: 2 t3.small node(s) of pool `small` run at most 18 pods"
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
/// 234 pod addresses, runs 108 pods beside the DaemonSets, not 232.
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
    synth_aws("big", &text(108)).unwrap();
    let err = synth_aws("big", &text(109)).unwrap_err();
    assert!(
        err.contains(
            "`node_pools`: the pools at their `max` run at most 108 pods beside their DaemonSets"
        ),
        "{err}"
    );
    assert!(err.contains("need 109 at rest"), "{err}");
}
