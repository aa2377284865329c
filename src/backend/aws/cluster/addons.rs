//! Managed add-ons from `cluster.addons`, each at the most recent version EKS offers for the
//! cluster's Kubernetes version, owning its configuration (`OVERWRITE` on conflicts):
//! `vpc-cni` with network policy enforcement (installed before the nodes join), `coredns`
//! (on Fargate: `computeType: Fargate`, after the `kube-system` profile exists),
//! `kube-proxy`, and `aws-ebs-csi-driver` with its own IRSA role (not on Fargate, which has
//! no EBS). Any other add-on name is installed with its defaults.

use serde_json::{Value, json};

use super::{cluster, cluster_name_ref, fargate, nodes};
use crate::backend::aws::Ctx;
use crate::backend::aws::identity::{irsa_role, role_name};
use crate::blueprint::types::{Cluster, Platform};
use crate::terraform::{Module, data, res};

/// The role of the EBS CSI controller (`kube-system/ebs-csi-controller-sa`).
fn ebs_csi_role(ctx: &Ctx, m: &mut Module) -> String {
    let key = res("aws_kms_key", "ebs");
    irsa_role(
        ctx,
        m,
        "ebs_csi_driver",
        &role_name(ctx, "ebs-csi-controller"),
        ("kube-system", "ebs-csi-controller-sa"),
        vec![
            // Encrypted volumes with the cluster's EBS key (the StorageClass names it).
            json!({
                "Sid": "UseTheEbsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncrypt*"],
                "Resource": key.arn(),
            }),
            json!({
                "Sid": "GrantsForAttachedVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key.arn(),
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            }),
        ],
        &[(
            "driver",
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        )],
    )
    .arn()
}

pub fn lower(ctx: &Ctx, c: &Cluster, m: &mut Module) {
    let fargate = ctx.platform == Some(Platform::EksFargate);
    for addon in &c.addons {
        let mut body = json!({
            "cluster_name": cluster_name_ref(),
            "addon_name": addon,
            "resolve_conflicts_on_create": "OVERWRITE",
            "resolve_conflicts_on_update": "OVERWRITE",
        });
        // What the add-on's pods need before they can run.
        let mut after: Vec<String> = if fargate {
            fargate::profiles(ctx)
        } else {
            nodes::node_groups(ctx)
        };
        match addon.as_str() {
            "vpc-cni" => {
                after.clear();
                if !fargate {
                    body["configuration_values"] = config(json!({"enableNetworkPolicy": "true"}));
                }
            }
            "coredns" if fargate => {
                body["configuration_values"] = config(json!({"computeType": "Fargate"}));
            }
            "aws-ebs-csi-driver" if fargate => {
                ctx.note(
                    "add-on `aws-ebs-csi-driver` is skipped on EKS Fargate: Fargate pods cannot mount EBS volumes (use EFS)",
                );
                continue;
            }
            "aws-ebs-csi-driver" => {
                body["service_account_role_arn"] = json!(ebs_csi_role(ctx, m));
            }
            _ => {}
        }
        let version = data("aws_eks_addon_version", addon);
        if !after.is_empty() {
            body["depends_on"] = json!(after);
        }
        body["addon_version"] = json!(version.attr("version"));
        m.file("cluster")
            .resource(
                &version,
                json!({
                    "addon_name": addon,
                    "kubernetes_version": cluster().attr("version"),
                    "most_recent": true,
                }),
            )
            .resource(&res("aws_eks_addon", addon), body);
    }
}

/// `configuration_values`: the add-on's JSON configuration as a string.
fn config(v: Value) -> Value {
    json!(serde_json::to_string(&v).unwrap_or_default())
}
