//! The Kubernetes Cluster Autoscaler, so that EKS node pools scale between `min` and `max`.
//!
//! An EKS managed node group's `min_size`/`max_size` only bound its Auto Scaling group: the
//! group stays at `desired_size` until something changes it ("Amazon EKS managed node groups
//! ... you can use the Kubernetes Cluster Autoscaler",
//! docs.aws.amazon.com/eks/latest/userguide/autoscaling.html). On DOKS the same `min`/`max`
//! scale by themselves (`auto_scale`), so a blueprint means the same on both only when EKS
//! runs an autoscaler. It is installed when a pool can change size (`max` above `min`); the
//! node groups already ignore `desired_size` after creation (`cluster/nodes.rs`), so
//! Terraform does not fight it.
//!
//! - `infra`: its IRSA role. The policy is the Cluster Autoscaler's recommended one for
//!   auto-discovery (cluster-autoscaler/cloudprovider/aws/README.md, "Full Cluster
//!   Autoscaler Features Policy"), with the scaling actions limited to Auto Scaling groups
//!   tagged `k8s.io/cluster-autoscaler/<cluster>` — the tag EKS puts on every managed node
//!   group's group (docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html).
//! - `platform`: the `cluster-autoscaler` chart in `kube-system`, discovering those groups by
//!   the same tag, with the region given (pods cannot reach the instance metadata service:
//!   hop limit 1) and the image of the cluster's Kubernetes minor — the autoscaler is built
//!   and tested per minor, and the chart's default image follows the newest one.

use crate::json;

use super::Ctx;
use super::cluster::zones;
use super::identity::{irsa_role, role_name};
use crate::backend::helm;
use crate::blueprint::types::Platform;
use crate::releases::{pinned_chart, product};
use crate::terraform::{Module, Ref, data, res};

/// Its pod's CPU and memory requests, as written in the chart's `resources` (also what the
/// node capacity checks count for it, `addon_pods`).
pub const REQUESTS: [&str; 2] = ["100m", "300Mi"];

/// Its service account in `kube-system` (what the IRSA role trusts).
pub const SA: &str = "cluster-autoscaler";

/// Whether the output installs the autoscaler: EKS with managed nodes, and a node group that
/// can change size (a pool split per zone may have one even when `min` = `max`: `max: 2`
/// over three zones is a fixed group in each of two zones, but `min: 1, max: 2` is a fixed
/// one and one that may grow from 0).
pub fn needed(ctx: &Ctx) -> bool {
    ctx.platform == Some(Platform::Eks) && zones::groups(ctx).iter().any(|g| g.autoscaled())
}

fn role(ctx: &Ctx) -> String {
    role_name(ctx, SA)
}

/// The IRSA role, in `infra`.
pub fn infra(ctx: &Ctx, m: &mut Module) {
    if !needed(ctx) {
        return;
    }
    let cluster = ctx.cluster_name();
    let statements = vec![
        json!({
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": "*",
        }),
        json!({
            "Sid": "ScaleOwnNodeGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": "*",
            "Condition": {"StringEquals": {
                format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}"): "owned",
            }},
        }),
    ];
    irsa_role(
        ctx,
        m,
        "cluster_autoscaler",
        &role(ctx),
        ("kube-system", SA),
        statements,
        &[],
    );
}

/// The image tag for the cluster's Kubernetes version: the catalog's pin for its minor, or,
/// for a minor the catalog has no image for, the nearest one it has (with a warning).
fn image_tag(ctx: &Ctx, version: &str) -> String {
    let images = product("image-cluster-autoscaler");
    let line = images.line_of(version).unwrap_or_default();
    if images.lines.get(&line).is_some_and(|l| l.pin.is_some()) {
        return images.pin_for(&line);
    }
    let nearest = images
        .nearest(version, &crate::releases::get().as_of)
        .unwrap_or_default()
        .to_string();
    ctx.note(crate::diagnostic::Note::warning(
        "cluster-autoscaler-version",
        format!(
            "the versions catalog has no Cluster Autoscaler image for Kubernetes {line}; the output runs the {nearest} image, built and tested for another minor: set the chart's `image.tag` through `overrides` to the release for {line}"
        ),
    ));
    images.pin_for(&nearest)
}

/// The release, in `platform`, after `after` (the Load Balancer Controller, whose webhook
/// admits Services).
pub fn platform(ctx: &Ctx, m: &mut Module, version: &str, after: &Ref) {
    if !needed(ctx) {
        return;
    }
    let role = data("aws_iam_role", "cluster_autoscaler");
    m.file("providers")
        .resource(&role, json!({"name": self::role(ctx)}));
    let mut body = helm::release(
        "cluster-autoscaler",
        "https://kubernetes.github.io/autoscaler",
        "cluster-autoscaler",
        pinned_chart("chart-cluster-autoscaler"),
        "kube-system",
        json!({
            "cloudProvider": "aws",
            "awsRegion": &ctx.region,
            "autoDiscovery": {"clusterName": ctx.cluster_name()},
            "image": {"tag": image_tag(ctx, version)},
            "rbac": {"serviceAccount": {
                "create": true,
                "name": SA,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn()},
            }},
            "extraArgs": {
                // Node groups of one shape grow and shrink together: a pool that hosts
                // in-cluster data is one group per zone (`cluster/zones.rs`), and the
                // autoscaler keeps their sizes even, as the AWS README asks of an
                // "ASG-per-AZ" for EBS-backed pods. Groups count as alike when their nodes'
                // labels match but for those it ignores; the zone's own labels that EKS
                // (`topology.k8s.aws/zone-id`) and the EBS CSI node
                // (`topology.ebs.csi.aws.com/zone`) put on nodes differ by zone, so they
                // are ignored too (the chart repeats a flag for keys suffixed `_<n>`).
                "balance-similar-node-groups": true,
                "balancing-ignore-label_1": "topology.k8s.aws/zone-id",
                "balancing-ignore-label_2": "topology.ebs.csi.aws.com/zone",
                // Every service pod mounts an emptyDir at /tmp (read-only root file
                // systems); with the default `true` no node running one is ever removed.
                "skip-nodes-with-local-storage": false,
                "expander": "least-waste",
            },
            "resources": {
                "requests": {"cpu": REQUESTS[0], "memory": REQUESTS[1]},
                "limits": {"memory": "600Mi"},
            },
        }),
    );
    helm::after(&mut body, after);
    // kube-system exists: nothing to create or own.
    let _ = helm::own_namespace(ctx.v, &mut body);
    m.file("controllers")
        .resource(&res("helm_release", "cluster_autoscaler"), body);
}

#[cfg(test)]
mod tests {
    use crate::releases::{get, product};

    /// Every Kubernetes version EKS still creates on the catalog's date runs an autoscaler
    /// image built for it (the warning above is for catalogs that fall behind).
    #[test]
    fn every_eks_version_has_its_image() {
        let images = product("image-cluster-autoscaler");
        for line in product("eks").supported(&get().as_of) {
            let pin = images.lines.get(line).and_then(|l| l.pin.as_deref());
            let pin = pin.unwrap_or_else(|| panic!("no Cluster Autoscaler image for EKS {line}"));
            assert_eq!(images.line_of(pin).as_deref(), Some(line), "{pin}");
        }
    }
}
