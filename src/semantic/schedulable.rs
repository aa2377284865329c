//! A created cluster (EKS with managed nodes, DOKS) needs one node pool without a
//! `NoSchedule`/`NoExecute` taint: the cluster's own add-ons — CoreDNS, and the Helm
//! releases `platform` installs (the AWS Load Balancer Controller, ingress-nginx,
//! cert-manager, metrics-server, the Cluster Autoscaler, External Secrets, Envoy Gateway, KEDA) —
//! tolerate no custom taint, and neither do services without a `node_pool`. With every pool
//! tainted they would stay `Pending`: DNS fails, the releases time out (`wait`, then an
//! atomic rollback), and nothing routes. Pods are placed on tainted pools only by the
//! toleration `node_pool` gives them.
//!
//! Without any node pool the same holds, and on DOKS the plan fails besides:
//! `digitalocean_kubernetes_cluster` requires exactly one `node_pool` block, the default pool
//! (provider schema 2.71.0, `min_items: 1`). An EKS blueprint is judged as each provider
//! builds it (`Blueprint::platform_on`): DOKS on DigitalOcean, whose `eks_fargate` form has no
//! node pools to give it.

use crate::blueprint::types::{Blueprint, Platform, TaintEffect};
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform_on(c.provider);
    let created = matches!(
        (c.provider, platform),
        (Provider::Aws, Some(Platform::Eks)) | (Provider::Digitalocean, Some(Platform::Doks))
    );
    if !created {
        return;
    }
    if bp.node_pools.is_empty() {
        no_pool(c, bp, platform);
        return;
    }
    // DOKS taints GPU nodes `nvidia.com/gpu:NoSchedule` itself (llm-d.ai/docs/infrastructure/
    // providers/digitalocean, "GPU Node Taints"), whatever the pool declares.
    let catalog = c.provider.catalog();
    let repels = |p: &crate::blueprint::types::NodePool| {
        p.taints
            .iter()
            .any(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
            || (c.provider == Provider::Digitalocean
                && crate::gpu::nvidia_pool(c.provider, catalog, p))
    };
    if bp.node_pools.iter().all(repels) {
        c.error(
            "node_pools",
            "every node pool carries a `NoSchedule`/`NoExecute` taint: CoreDNS, the add-ons `platform` installs (load balancer and ingress controllers, cert-manager, metrics-server, …) and every service without a `node_pool` tolerate none, so they would stay Pending",
        )
        .help = Some("keep one pool without such taints for the cluster's own pods (a `PreferNoSchedule` taint only steers them)".into());
    }
}

/// A created cluster with nodes (EKS with managed node groups, DOKS) and no `node_pools`.
fn no_pool(c: &mut Checker, bp: &Blueprint, platform: Option<Platform>) {
    let literal = bp.platform().map_or("eks", Platform::name);
    let (what, help) = match platform {
        Some(Platform::Doks) if literal == "eks_fargate" => (
            "a DOKS cluster on DigitalOcean (a default `node_pool` is required)",
            "`eks_fargate` runs without nodes on AWS, so the base cannot give DOKS any: for one blueprint on both, give DigitalOcean its pools in `per_provider: { digitalocean: { node_pools: [...] } }`, or use `platform: eks` with `node_pools` (managed node groups on AWS, node pools on DOKS)",
        ),
        Some(Platform::Doks) => (
            "a DOKS cluster on DigitalOcean (a default `node_pool` is required)",
            "add the default pool under `node_pools`, e.g. `node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 4 }]`",
        ),
        _ => (
            "an EKS cluster with managed node groups",
            "add a pool under `node_pools`, e.g. `node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 4 }]`, or use `platform: eks_fargate` with `fargate_profiles`",
        ),
    };
    c.error(
        "cluster.platform",
        format!("platform `{literal}` is {what}, and `node_pools` is empty: no node would run CoreDNS, the add-ons `platform` installs or any service"),
    )
    .help = Some(help.into());
}
