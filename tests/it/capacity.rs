//! EKS node pools against the pods pinned to them at rest. Managed node groups start at
//! their `desired` size, and only the Cluster Autoscaler (installed when `max` exceeds
//! `min`) adds nodes later, so pods pinned to a pool whose nodes cannot hold them stay
//! Pending at least until a scale-up. A node offers pods at most its vCPUs and memory
//! less the kubelet's reservations (AL2023: 70m of CPU on 2 vCPUs; 255Mi + 100Mi eviction
//! of memory at least) and less the requests of the DaemonSets the output runs on it
//! (aws-node 50m — its network policy agent's 25m beside its own — kube-proxy 100m, the EBS CSI node 10m / 40Mi, Container Insights' agent
//! 250m / 128Mi and Fluent Bit 50m / 25Mi, on tainted pools too). Checked on ecommerce-eks's
//! development environment, whose `memory` pool (one r5.large: 1930m, 1470m beside its
//! DaemonSets) runs the in-cluster database, cache and queue.

use infragen::Provider;

use crate::support::root;

fn ecommerce() -> String {
    std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap()
}

fn synth(text: &str, env: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("ecommerce-eks.yaml", text.as_bytes(), Provider::Aws, env)
        .map_err(|d| d.to_string())
}

const DEV_DB_REQUESTS: &str = "            requests: { cpu: 400m, memory: 1Gi }\n";

/// The development database at its size class's figures (1 CPU requested).
fn class_sized_db() -> String {
    let text = ecommerce();
    let from = format!(
        "          resources:\n{DEV_DB_REQUESTS}            limits: {{ cpu: 2000m, memory: 4Gi }}\n"
    );
    assert!(text.contains(&from), "the development db's resources moved");
    text.replacen(&from, "", 1)
}

/// db 1000m + cache 500m + mq 500m = 2000m > 1470m on one r5.large: one stays Pending.
#[test]
fn pinned_pods_past_the_pools_nodes_are_refused() {
    let err = synth(&class_sized_db(), "development").expect_err("2000m do not fit 1930m");
    assert!(err.contains("`node_pools[2].desired`"), "{err}");
    // The pool may grow (max 2 > min 1): the message does not say nothing scales it.
    assert!(
        err.contains("until the Cluster Autoscaler adds nodes"),
        "{err}"
    );
    assert!(err.contains("offer at most 1470m of CPU to pods beside their DaemonSets (aws-node 50m + kube-proxy 100m + ebs-csi-node 10m + cloudwatch-agent 250m + fluent-bit 50m each)"), "{err}");
    assert!(err.contains("2000m"), "{err}");
    assert!(
        err.contains("db 1 × 1000m + cache 1 × 500m + mq 1 × 500m"),
        "{err}"
    );
    // Positioned at the environment's pool, where `desired` is written.
    assert!(err.contains("ecommerce-eks.yaml:"), "{err}");
    assert!(
        err.contains("{ name: memory, min: 1, desired: 1, max: 2 }"),
        "{err}"
    );
}

/// A second node holds them; so does the shipped blueprint's smaller development database.
#[test]
fn enough_nodes_or_smaller_requests_hold_them() {
    let text = class_sized_db().replacen(
        "{ name: memory, min: 1, desired: 1, max: 2 }",
        "{ name: memory, min: 1, desired: 2, max: 2 }",
        1,
    );
    synth(&text, "development").unwrap();
    synth(&ecommerce(), "development").unwrap();
}

/// The DaemonSets' requests count on the pool they run on: db 500m + cache 500m + mq 500m
/// = 1500m fit the r5.large's 1930m, but not the 1470m its five DaemonSets leave — one of
/// the three would stay Pending on every fresh apply of the development environment.
#[test]
fn the_daemon_sets_requests_count_on_every_node_of_the_pool() {
    let text = ecommerce().replacen(
        DEV_DB_REQUESTS,
        "            requests: { cpu: 500m, memory: 1Gi }\n",
        1,
    );
    let err = synth(&text, "development").expect_err("1500m do not fit 1470m");
    assert!(err.contains("`node_pools[2].desired`"), "{err}");
    assert!(
        err.contains("offer at most 1470m of CPU to pods beside their DaemonSets"),
        "{err}"
    );
    assert!(
        err.contains("request 1500m at rest (db 1 × 500m + cache 1 × 500m + mq 1 × 500m)"),
        "{err}"
    );
}

/// A pod that asks more memory than one c5.large (4 GiB) has never schedules, whatever the
/// node count.
#[test]
fn a_pod_larger_than_a_node_is_refused() {
    let text = ecommerce();
    // order-service runs on the compute pool (c5.large).
    let at = text.find("  - name: order-service").unwrap();
    let from = "    resources: *resources\n";
    let rel = text[at..].find(from).unwrap();
    let mut text = text;
    text.replace_range(
        at + rel..at + rel + from.len(),
        "    resources: { requests: { cpu: 250m, memory: 6Gi }, limits: { cpu: 500m, memory: 6Gi } }\n",
    );
    let err = synth(&text, "production").expect_err("6Gi do not fit a c5.large");
    assert!(err.contains("`node_pools[1].size`"), "{err}");
    assert!(err.contains("never schedules"), "{err}");
    assert!(err.contains("order-service 6144Mi"), "{err}");
}

/// One `t3.medium` (1930m of CPU for pods, 1480m beside its DaemonSets: aws-node 50m,
/// kube-proxy 100m, Container Insights' agent 250m and Fluent Bit 50m) that cannot grow,
/// an unpinned service of 1200m, and the add-ons: ingress-nginx, whose two controllers
/// request the chart's 100m each, CoreDNS (two of 100m) and the CloudWatch operator
/// (100m): 1700m at rest, so a pod stays Pending for good — refused, though no pod is
/// pinned to the pool. The service's own 1200m fit; two nodes at `max` hold everything,
/// and a fresh apply on one then waits on the Cluster Autoscaler (a warning).
#[test]
fn the_add_ons_requests_count_against_the_pools_at_max() {
    let stack = |pool: &str| {
        crate::support::eks_stack(
            "edge",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
  - {pool}
kubernetes:
  ingress_controller: {{ kind: nginx }}
services:
  - {{ name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 1, resources: {{ requests: {{ cpu: 1200m, memory: 512Mi }}, limits: {{ memory: 512Mi }} }} }}
"
            ),
        )
    };
    let err = crate::support::synth_aws(
        "edge",
        &stack("{ name: general, size: t3.medium, min: 1, max: 1 }"),
    )
    .unwrap_err();
    assert!(
        err.contains("`node_pools`: the pools at their `max` offer at most 1480m of CPU to pods beside their DaemonSets"),
        "{err}"
    );
    assert!(
        err.contains("request 1700m (api 1 × 1200m + coredns 2 × 100m + cloudwatch-observability-operator 1 × 100m + ingress-nginx-controller 2 × 100m)"),
        "{err}"
    );
    let out = crate::support::synth_aws(
        "edge",
        &stack("{ name: general, size: t3.medium, min: 1, max: 2 }"),
    )
    .unwrap();
    let warning = out
        .notes
        .iter()
        .find(|n| n.rule == Some("node-capacity"))
        .unwrap_or_else(|| panic!("{:#?}", out.notes))
        .to_string();
    // The Cluster Autoscaler it now installs requests 100m too.
    assert!(warning.contains("at most 1480m of CPU"), "{warning}");
    assert!(warning.contains("request 1800m"), "{warning}");
    assert!(
        warning.contains("until the Cluster Autoscaler adds nodes"),
        "{warning}"
    );
}

/// `aws-node` runs two containers of 25m each: the VPC CNI and the network policy agent
/// (`aws-eks-nodeagent`, enforcing the NetworkPolicies the output writes; the chart gives
/// both `.Values.resources`). db 480m + cache 500m + mq 500m = 1480m fit the 1495m a count
/// of aws-node's first container alone leaves on the development `memory` pool's r5.large,
/// not the 1470m left once both count: one pod would stay Pending.
#[test]
fn the_network_policy_agent_counts_in_aws_node() {
    let text = ecommerce().replacen(
        DEV_DB_REQUESTS,
        "            requests: { cpu: 480m, memory: 1Gi }\n",
        1,
    );
    let err = synth(&text, "development").expect_err("1480m do not fit 1470m");
    assert!(err.contains("`node_pools[2].desired`"), "{err}");
    assert!(
        err.contains("offer at most 1470m of CPU to pods beside their DaemonSets (aws-node 50m +"),
        "{err}"
    );
}

/// An EKS stack `edge` with `pools` (list items) and service `api` (extra fields `api`).
fn edge(pools: &str, api: &str) -> Result<infragen::Output, String> {
    crate::support::synth_aws(
        "edge",
        &crate::support::eks_stack(
            "edge",
            "{ platform: eks, version: \"1.35\" }",
            &format!(
                "node_pools:
{pools}services:
  - {{ name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 1{api} }}
"
            ),
        ),
    )
}

const SMALL_POOL: &str = "  - { name: general, size: t3.medium, min: 2, max: 4 }\n";

/// A release Job (`services[].release`) whose requests pass one node (a t3.medium offers
/// 1480m of CPU beside its DaemonSets) never schedules, and the rollout waits on it:
/// refused at the release's resources, like a pod of the service itself would be.
#[test]
fn an_eks_release_job_larger_than_a_node_is_refused() {
    let release = |requests: &str| {
        format!(", release: {{ command: [migrate], resources: {{ requests: {requests} }} }}")
    };
    let err = edge(SMALL_POOL, &release("{ cpu: \"3\", memory: 1Gi }")).unwrap_err();
    assert!(
        err.contains("`services[0].release.resources.requests.cpu`"),
        "{err}"
    );
    assert!(
        err.contains("service `api`'s release Job requests 3000m CPU"),
        "{err}"
    );
    assert!(
        err.contains("pool `general` (t3.medium) at most 1480m CPU"),
        "{err}"
    );
    assert!(err.contains("wait-for-release"), "{err}");
    edge(SMALL_POOL, &release("{ cpu: \"1\", memory: 1Gi }")).unwrap();
    // A release on the app's figures is no larger than the app's pod: one refusal, the
    // app's.
    let err = edge(
        SMALL_POOL,
        ", resources: { requests: { cpu: \"3\", memory: 1Gi } }, release: { command: [migrate] }",
    )
    .unwrap_err();
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(
        err.contains("a pod of service `api` requests 3000m CPU"),
        "{err}"
    );
}

/// A pod without `node_pool` runs only on the pools without a `NoSchedule` taint: a large
/// tainted pool is no place for it. An unpinned service asking 3 CPUs fits no t3.medium
/// and stays Pending beside an idle tainted m5.2xlarge; pinned there, it starts.
#[test]
fn an_unpinned_eks_pod_must_fit_an_untainted_pool() {
    let pools = format!(
        "{SMALL_POOL}  - {{ name: big, size: m5.2xlarge, min: 1, max: 2, taints: [{{ key: big, value: \"yes\", effect: NoSchedule }}] }}\n"
    );
    let api = ", resources: { requests: { cpu: \"3\", memory: 1Gi }, limits: { memory: 1Gi } }";
    let err = edge(&pools, api).unwrap_err();
    assert!(
        err.contains("`services[0].resources.requests.cpu`"),
        "{err}"
    );
    assert!(err.contains("service `api` requests 3000m CPU"), "{err}");
    assert!(
        !err.contains("pool `big`"),
        "the tainted pool is no place for it: {err}"
    );
    edge(&pools, &format!("{api}, node_pool: big")).unwrap();
    // Without the taint the big pool takes it.
    let untainted = format!("{SMALL_POOL}  - {{ name: big, size: m5.2xlarge, min: 1, max: 2 }}\n");
    edge(&untainted, api).unwrap();
}

/// CoreDNS, the ingress controllers and the other add-on Deployments tolerate no custom
/// taint, and neither does a service without `node_pool`: they run on the untainted pools
/// only, whatever room a tainted pool has. One t3.medium that cannot grow (1480m beside
/// its DaemonSets) against api 1200m + CoreDNS 2 × 100m + the CloudWatch operator 100m +
/// ingress-nginx 2 × 100m + the Cluster Autoscaler (for the growing pool) 100m = 1800m is
/// refused even beside an idle tainted m5.2xlarge pool; untainted, that pool takes them.
#[test]
fn the_add_ons_count_against_the_untainted_pools_only() {
    let api = ", resources: { requests: { cpu: 1200m, memory: 512Mi }, limits: { memory: 512Mi } }";
    let stack = |big: &str| {
        crate::support::synth_aws(
            "edge",
            &crate::support::eks_stack(
                "edge",
                "{ platform: eks, version: \"1.35\" }",
                &format!(
                    "node_pools:
  - {{ name: general, size: t3.medium, min: 1, max: 1 }}
  - {{ name: big, size: m5.2xlarge, min: 1, max: 2{big} }}
kubernetes:
  ingress_controller: {{ kind: nginx }}
services:
  - {{ name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 1{api} }}
"
                ),
            ),
        )
    };
    let err = stack(", taints: [{ key: big, value: \"yes\", effect: NoSchedule }]").unwrap_err();
    assert!(
        err.contains("`node_pools`: the pools without a `NoSchedule`/`NoExecute` taint (`general`) at their `max` offer at most 1480m of CPU"),
        "{err}"
    );
    assert!(
        err.contains("request 1800m (api 1 × 1200m + coredns 2 × 100m + cloudwatch-observability-operator 1 × 100m + ingress-nginx-controller 2 × 100m + cluster-autoscaler 1 × 100m)"),
        "{err}"
    );
    assert!(
        err.contains("however much room the tainted pools have"),
        "{err}"
    );
    // A `PreferNoSchedule` taint only steers them: the pool still takes them.
    stack(", taints: [{ key: big, value: \"yes\", effect: PreferNoSchedule }]").unwrap();
    stack("").unwrap();
}

/// With every pool tainted `NoSchedule`, CoreDNS and the add-ons' controllers never
/// schedule (cluster DNS down, the Helm releases time out): refused at `node_pools`.
#[test]
fn every_eks_pool_tainted_is_refused() {
    let err = edge(
        "  - { name: general, size: t3.medium, min: 2, max: 4, taints: [{ key: team, value: a, effect: NoSchedule }] }\n  - { name: other, size: t3.medium, min: 1, max: 2, taints: [{ key: team, value: b, effect: NoExecute }] }\n",
        ", node_pool: general",
    )
    .unwrap_err();
    assert!(err.contains("every node pool carries"), "{err}");
    assert!(err.contains("CoreDNS"), "{err}");
    assert!(err.contains("edge.yaml:"), "{err}");
}
