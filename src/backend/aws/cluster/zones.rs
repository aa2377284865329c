//! Which EKS managed node groups a node pool becomes: one across the private subnets of
//! every zone, or — for a pool that runs in-cluster data services — one per zone.
//!
//! An in-cluster data service keeps its data on an EBS volume, and an EBS volume lives in one
//! Availability Zone: its pod can only run on a node of that zone (the PersistentVolume's
//! node affinity). The `gp3` StorageClasses bind `WaitForFirstConsumer`, so the volume is
//! created in the zone of the node the pod first lands on. From then on:
//!
//! - The Cluster Autoscaler cannot choose the zone of a node it adds to an Auto Scaling
//!   group that spans zones, so a pod whose volume is in zone X can stay Pending while the
//!   group grows elsewhere; and a group spanning zones rebalances them (AZRebalance),
//!   terminating nodes. Its AWS README: "If you're using Persistent Volumes, your deployment
//!   needs to run in the same AZ as where the EBS volume is … either use a single AZ ASG for
//!   this use case, or an ASG-per-AZ while enabling --balance-similar-node-groups"
//!   (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "Common Notes
//!   and Gotchas"); the EKS user guide: "If you are running a stateful application across
//!   multiple Availability Zones that is backed by Amazon EBS volumes and using the
//!   Kubernetes Cluster Autoscaler, you should configure multiple node groups, each scoped
//!   to a single Availability Zone" (docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html).
//! - Without the autoscaler too: a fixed-size group replaces a failed node (or rolls its
//!   nodes in an update) wherever Auto Scaling balances it to — a one-node pool over three
//!   zones comes back in any of them.
//!
//! So a pool that may host a data service's pod becomes one group per zone, and the
//! blueprint's `min`, `desired` and `max` stay the pool's totals: each is spread over the
//! zones as evenly as it goes, earlier zones taking the remainder (`max: 4` over three zones
//! is 2, 1, 1). A zone whose share of `max` is 0 gets no group (a pool of at most two nodes
//! runs in the first two zones), as EKS requires `max_size` ≥ 1. The groups share the pool's
//! launch template, labels and taints, so the autoscaler's `balance-similar-node-groups`
//! grows them together (`cluster_autoscaler.rs`). A group at 0 nodes still grows for a pod
//! whose volume is in its zone: the EBS CSI driver gives volumes the well-known
//! `topology.kubernetes.io/zone` (since v1.33.0, kubernetes-sigs/aws-ebs-csi-driver
//! CHANGELOG), which the autoscaler's template node of a one-zone group carries. A
//! stateless pool stays one group across the zones, as AWS recommends when one group
//! suffices.
//!
//! DigitalOcean block storage volumes are regional and a DOKS cluster is in one region, so
//! DOKS pools need nothing of the kind.

use crate::analysis::hosts_data;
use crate::blueprint::types::{Blueprint, NodePool};
use crate::catalog::Provider;
use crate::naming::node_group_prefix as prefix;
use crate::terraform::{Expr, ident, res};

use crate::backend::aws::Ctx;
use crate::backend::aws::network::subnet_ids;

/// One EKS managed node group of a pool.
pub struct Group<'a> {
    pub pool: &'a NodePool,
    /// The zone of a per-zone group; `None` for a group across the zones.
    pub zone: Option<&'a str>,
    /// The resource name: the pool's (`memory`), or pool and zone (`memory_us_east_1a`).
    pub key: String,
    /// The node group name prefix EKS appends its unique suffix to (`memory-a-`).
    pub prefix: String,
    pub subnets: Vec<Expr>,
    pub min: u32,
    pub desired: u32,
    pub max: u32,
}

impl Group<'_> {
    /// Whether the group can change size, so the Cluster Autoscaler sizes it.
    pub fn autoscaled(&self) -> bool {
        self.max > self.min
    }
}

/// `total` spread over `n` zones, earlier zones taking the remainder: zone `i`'s share.
pub fn share(total: u32, n: usize, i: usize) -> u32 {
    let n = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let i = u32::try_from(i).unwrap_or(u32::MAX);
    total / n + u32::from(i < total % n)
}

/// The zones a pool hosting data gets a node group in when it may have `max` nodes: those
/// with a private subnet, in network order, while their share of `max` is at least 1 — or
/// none, when the network has fewer than two (one group across them is the same thing).
pub fn data_zones(bp: &Blueprint, max: u32) -> Vec<&str> {
    let zones: Vec<&str> = bp
        .network
        .as_ref()
        .map(|n| {
            n.zones
                .iter()
                .take(n.subnets.private.len())
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default();
    if zones.len() < 2 {
        return Vec::new();
    }
    let n = zones.len();
    (zones.into_iter().enumerate())
        .filter(|(i, _)| share(max, n, *i) > 0)
        .map(|(_, z)| z)
        .collect()
}

/// The node groups of every pool, in blueprint order, each pool's zones in network order.
pub fn groups<'a>(ctx: &Ctx<'a>) -> Vec<Group<'a>> {
    let bp = ctx.v.bp;
    let subnets: Vec<(&'a str, Expr)> = bp
        .network
        .as_ref()
        .map(|n| {
            n.zones
                .iter()
                .map(String::as_str)
                .zip(subnet_ids(n, "private"))
                .collect()
        })
        .unwrap_or_default();
    let n = subnets.len();
    let mut out = Vec::new();
    for pool in &bp.node_pools {
        let desired = pool.desired.unwrap_or(pool.min);
        let zonal = if hosts_data(bp, Provider::Aws, pool) {
            data_zones(bp, pool.max)
        } else {
            Vec::new()
        };
        if zonal.is_empty() {
            out.push(Group {
                pool,
                zone: None,
                key: ident(&pool.name),
                prefix: prefix(&pool.name, None, &ctx.region),
                subnets: subnets.iter().map(|(_, s)| s.clone()).collect(),
                min: pool.min,
                desired,
                max: pool.max,
            });
            continue;
        }
        for (i, (zone, subnet)) in subnets.iter().enumerate() {
            if !zonal.contains(zone) {
                continue;
            }
            out.push(Group {
                pool,
                zone: Some(zone),
                key: format!("{}_{}", ident(&pool.name), ident(zone)),
                prefix: prefix(&pool.name, Some(zone), &ctx.region),
                subnets: vec![subnet.clone()],
                min: share(pool.min, n, i),
                desired: share(desired, n, i),
                max: share(pool.max, n, i),
            });
        }
    }
    out
}

/// The node group resources' addresses.
pub fn addresses(ctx: &Ctx) -> Vec<String> {
    groups(ctx)
        .iter()
        .map(|g| res("aws_eks_node_group", &g.key).address())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_spread_over_the_zones() {
        let spread = |total, n| (0..n).map(|i| share(total, n, i)).collect::<Vec<_>>();
        assert_eq!(spread(4, 3), [2, 1, 1]);
        assert_eq!(spread(2, 3), [1, 1, 0]);
        assert_eq!(spread(6, 3), [2, 2, 2]);
        assert_eq!(spread(0, 2), [0, 0]);
        for total in 0..20 {
            assert_eq!(spread(total, 3).iter().sum::<u32>(), total);
        }
    }
}
