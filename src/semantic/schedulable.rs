//! A created cluster (EKS with managed nodes, DOKS) needs one node pool without a
//! `NoSchedule`/`NoExecute` taint: the cluster's own add-ons — CoreDNS, and the Helm
//! releases `platform` installs (the AWS Load Balancer Controller, ingress-nginx,
//! cert-manager, metrics-server, the Cluster Autoscaler, External Secrets, Envoy Gateway) —
//! tolerate no custom taint, and neither do services without a `node_pool`. With every pool
//! tainted they would stay `Pending`: DNS fails, the releases time out (`wait`, then an
//! atomic rollback), and nothing routes. Pods are placed on tainted pools only by the
//! toleration `node_pool` gives them.

use crate::blueprint::types::{Blueprint, Platform, TaintEffect};
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform();
    let created = matches!(
        (c.provider, platform),
        (Provider::Aws, Some(Platform::Eks)) | (Provider::Digitalocean, Some(Platform::Doks))
    );
    if !created || bp.node_pools.is_empty() {
        return;
    }
    let repels = |p: &crate::blueprint::types::NodePool| {
        p.taints
            .iter()
            .any(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
    };
    if bp.node_pools.iter().all(repels) {
        c.error(
            "node_pools",
            "every node pool carries a `NoSchedule`/`NoExecute` taint: CoreDNS, the add-ons `platform` installs (load balancer and ingress controllers, cert-manager, metrics-server, …) and every service without a `node_pool` tolerate none, so they would stay Pending",
        )
        .help = Some("keep one pool without such taints for the cluster's own pods (a `PreferNoSchedule` taint only steers them)".into());
    }
}
