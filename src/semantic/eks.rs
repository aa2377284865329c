//! EKS with managed node groups: limits the EKS API and the Terraform provider put on names
//! infragen derives from the blueprint.
//!
//! A node group is created by name prefix (`<pool>-`, so a replacement can exist beside the
//! old one during `create_before_destroy`); the provider appends a 26-character unique
//! suffix and a node group name takes at most 63 characters, so the prefix takes at most 37
//! (hashicorp/terraform-provider-aws, `aws_eks_node_group.node_group_name_prefix`:
//! `StringLenBetween(0, 63-id.UniqueIDSuffixLength)`): a pool name of at most 36.
//!
//! In-cluster data services keep their data on EBS volumes of the `gp3` StorageClass, which
//! the `platform` module creates for the EBS CSI driver: EKS provisions EBS volumes only
//! through that driver ("The Amazon EBS CSI driver isn't installed when you first create a
//! cluster", docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html), so without the
//! `aws-ebs-csi-driver` add-on their claims stay Pending and the pods never start.

use super::Checker;
use crate::analysis::hosts_data;
use crate::blueprint::types::{Blueprint, Deployment, Nat, Platform};
use crate::catalog::Provider;
use crate::naming::node_group_prefix;

/// The longest node pool name whose node group name prefix (`<pool>-`) EKS accepts.
const MAX_POOL_NAME: usize = 63 - 26 - 1;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform();
    if c.provider != Provider::Aws {
        return;
    }
    if matches!(platform, Some(Platform::Eks | Platform::EksFargate)) {
        egress(c, bp);
    }
    if platform != Some(Platform::Eks) {
        return;
    }
    let in_cluster = (bp.databases.iter().map(|d| (&d.name, d.deployment)))
        .chain(bp.caches.iter().map(|x| (&x.name, x.deployment)))
        .chain(bp.brokers().map(|x| (&x.name, x.deployment)))
        .find(|(_, d)| *d == Deployment::InCluster);
    let ebs_csi = bp
        .cluster
        .as_ref()
        .is_some_and(|cl| cl.addons.iter().any(|a| a == "aws-ebs-csi-driver"));
    if let Some((name, _)) = in_cluster
        && !ebs_csi
    {
        c.error(
            "cluster.addons",
            format!("`{name}` runs in the cluster on an EBS volume, but without the `aws-ebs-csi-driver` add-on EKS provisions none (no `gp3` StorageClass is made): its claim would stay Pending"),
        )
        .help = Some("add `aws-ebs-csi-driver` to `cluster.addons`".into());
    }
    let region = bp.providers.aws.as_ref().map_or("", |a| a.region.as_str());
    for (i, p) in bp.node_pools.iter().enumerate() {
        // A pool that hosts in-cluster data is a node group per zone, `<pool>-<zone>-`
        // (`backend/aws/cluster/zones.rs`).
        let zones: &[String] = match &bp.network {
            Some(n) if n.subnets.private.len() > 1 && hosts_data(bp, c.provider, p) => {
                &n.zones[..n.subnets.private.len().min(n.zones.len())]
            }
            _ => &[],
        };
        if let Some(long) = zones
            .iter()
            .map(|z| node_group_prefix(&p.name, Some(z), region))
            .find(|prefix| prefix.len() > MAX_POOL_NAME + 1)
        {
            c.error(
                &format!("node_pools[{i}].name"),
                format!(
                    "node pool `{}` hosts in-cluster data, so on EKS it is a node group per zone, named `{long}` plus a 26-character unique suffix: {} characters, more than EKS's 63",
                    p.name,
                    long.len() + 26
                ),
            )
            .help = Some(format!(
                "shorten the pool's name to at most {} characters",
                p.name.len() - (long.len() - (MAX_POOL_NAME + 1))
            ));
            continue;
        }
        if p.name.len() > MAX_POOL_NAME {
            c.error(
                &format!("node_pools[{i}].name"),
                format!(
                    "node pool name `{}` has {} characters; on EKS at most {MAX_POOL_NAME} (its node group is named `<pool>-` plus a 26-character unique suffix, within EKS's 63)",
                    p.name,
                    p.name.len()
                ),
            );
        }
    }
}

/// Nodes and Fargate pods run in the private subnets: with `nat: none` a node cannot join
/// the cluster (the kubelet and the VPC CNI
/// call the EC2, ECR and STS APIs) and no image is pulled — CoreDNS's and the controllers'
/// from ECR, registry.k8s.io and quay.io, the services' from their registries. A private
/// cluster needs those interface endpoints ("Deploy private clusters with limited internet
/// access", docs.aws.amazon.com/eks/latest/userguide/private-clusters.html) and images
/// mirrored into ECR; `network.endpoints` can make the first but not the second (CoreDNS,
/// the controllers and the add-ons come from public registries), so infragen refuses rather than emit a node group
/// that fails with NodeCreationFailure after twenty minutes.
fn egress(c: &mut Checker, bp: &Blueprint) {
    if bp.network.as_ref().is_none_or(|n| n.nat != Nat::None) {
        return;
    }
    c.error(
        "network.nat",
        "EKS nodes and Fargate pods run in the private subnets, and with `nat: none` they have no way out: nodes cannot join the cluster (the kubelet and the VPC CNI call the EC2, ECR and STS APIs) and no image can be pulled, so nothing starts",
    )
    .help = Some("set `nat: single` (one gateway) or `nat: per_zone`".into());
}
