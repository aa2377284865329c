//! Managed add-ons from `cluster.addons` (with the networking ones a cluster cannot do
//! without, when left out), each at the most recent version EKS offers for the cluster's
//! Kubernetes version, owning its configuration (`OVERWRITE` on conflicts):
//! `vpc-cni` with network policy enforcement (installed before the nodes join), `coredns`
//! (on Fargate: `computeType: Fargate`, after the `kube-system` profile exists),
//! `kube-proxy`, `aws-ebs-csi-driver` with its own IRSA role (not on Fargate, which has no
//! EBS), and for Container Insights `amazon-cloudwatch-observability` with its IRSA role and
//! pre-created log groups. Any other add-on name is installed with its defaults.

use crate::json;
use crate::terraform::Json;

use super::{cluster, cluster_name_ref, fargate, nodes};
use crate::backend::aws::Ctx;
use crate::backend::aws::identity::{irsa_role, role_name};
use crate::blueprint::types::{Cluster, Platform};
use crate::terraform::{Expr, Module, data, res};

/// The role of the EBS CSI controller (`kube-system/ebs-csi-controller-sa`).
fn ebs_csi_role(ctx: &Ctx, m: &mut Module) -> Expr {
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

/// Container Insights on managed nodes (`cluster.container_insights`): the CloudWatch
/// observability add-on (agent + Fluent Bit) with its IRSA role, writing to log groups made
/// here first so they carry the blueprint's retention and the logs key.
fn container_insights(ctx: &Ctx, m: &mut Module) -> Expr {
    let cluster = ctx.cluster_name();
    let retention = ctx
        .v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days);
    for kind in ["application", "dataplane", "host", "performance"] {
        m.file("cluster").resource(
            &res(
                "aws_cloudwatch_log_group",
                &format!("container_insights_{kind}"),
            ),
            json!({
                "name": format!("/aws/containerinsights/{cluster}/{kind}"),
                "retention_in_days": retention,
                "kms_key_id": res("aws_kms_key", "logs").arn(),
            }),
        );
    }
    irsa_role(
        ctx,
        m,
        "cloudwatch_agent",
        &role_name(ctx, "cloudwatch-agent"),
        ("amazon-cloudwatch", "cloudwatch-agent"),
        vec![],
        &[
            (
                "agent",
                "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
            ),
            ("xray", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"),
        ],
    )
    .arn()
}

/// The networking add-ons a cluster cannot run without. The cluster is created with
/// `bootstrap_self_managed_addons: false` (add-ons are managed resources here), and then
/// "the default networking add-ons will not be installed. The default networking add-ons
/// include vpc-cni, coredns, and kube-proxy" (EKS API, CreateCluster
/// `bootstrapSelfManagedAddons`): without the VPC CNI nodes never become Ready (the node
/// groups fail to create), without CoreDNS no name resolves, without kube-proxy no Service
/// address routes. Fargate runs pod networking and kube-proxy inside each pod's VM: only
/// CoreDNS is the cluster's.
fn essential(ctx: &Ctx) -> &'static [&'static str] {
    if ctx.platform == Some(Platform::EksFargate) {
        &["coredns"]
    } else {
        &["vpc-cni", "coredns", "kube-proxy"]
    }
}

/// The add-ons to install: the essential networking ones the blueprint leaves out (with a
/// note), the blueprint's, plus the CloudWatch observability add-on when Container Insights
/// is on (managed nodes only: its agent is a DaemonSet).
pub fn names(ctx: &Ctx) -> Vec<String> {
    let Some(c) = &ctx.v.bp.cluster else {
        return Vec::new();
    };
    addon_names(ctx, c)
}

fn addon_names(ctx: &Ctx, c: &Cluster) -> Vec<String> {
    let missing: Vec<String> = essential(ctx)
        .iter()
        .filter(|e| !c.addons.iter().any(|a| a == *e))
        .map(|e| e.to_string())
        .collect();
    let mut names = missing.clone();
    names.extend(c.addons.iter().cloned());
    const OBSERVABILITY: &str = "amazon-cloudwatch-observability";
    if c.container_insights() && !names.iter().any(|a| a == OBSERVABILITY) {
        if ctx.platform == Some(Platform::Eks) {
            names.push(OBSERVABILITY.to_string());
        } else if c.container_insights.is_some() {
            // Said only where written: the default (on) is for the platforms that have it.
            ctx.note(
                "Container Insights (`cluster.container_insights`) is not set up on EKS Fargate: the CloudWatch observability add-on runs its agent as a DaemonSet; Fargate pods' logs go to CloudWatch through the aws-logging ConfigMap instead, and services get no no-running-pods or restarts alarm",
            );
        }
    }
    names
}

/// The note on essential add-ons the blueprint leaves out (once per synth).
fn note_missing(ctx: &Ctx, c: &Cluster) {
    let missing: Vec<&str> = essential(ctx)
        .iter()
        .copied()
        .filter(|e| !c.addons.iter().any(|a| a == e))
        .collect();
    if !missing.is_empty() {
        ctx.note(format!(
            "`cluster.addons` leaves out {}: installed anyway (the cluster is created without EKS's default networking add-ons; without them nodes never become Ready, names do not resolve or Services do not route)",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

pub fn lower(ctx: &Ctx, c: &Cluster, m: &mut Module) {
    let fargate = ctx.platform == Some(Platform::EksFargate);
    note_missing(ctx, c);
    for addon in &addon_names(ctx, c) {
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
            // Before the nodes too: the VPC CNI's agent reaches the API server through the
            // `kubernetes` Service address, which only kube-proxy's rules route; without it
            // the CNI never starts, the nodes stay NotReady and the node groups fail their
            // health check (NodeCreationFailure).
            "kube-proxy" if !fargate => after.clear(),
            "coredns" if fargate => {
                body["configuration_values"] = config(json!({"computeType": "Fargate"}));
            }
            "aws-ebs-csi-driver" if fargate => {
                ctx.note(
                    "add-on `aws-ebs-csi-driver` is skipped on EKS Fargate: Fargate pods cannot mount EBS volumes (use EFS)",
                );
                continue;
            }
            // Node agents only (DaemonSets), which Fargate does not run: the add-on would
            // wait for pods that never schedule.
            "amazon-cloudwatch-observability" | "eks-pod-identity-agent" if fargate => {
                ctx.note(format!(
                    "add-on `{addon}` is skipped on EKS Fargate: it runs as a DaemonSet, which Fargate does not schedule{}",
                    if addon == "eks-pod-identity-agent" {
                        " (pods get AWS access through IRSA)"
                    } else {
                        " (pods' logs go to CloudWatch through the aws-logging ConfigMap)"
                    }
                ));
                continue;
            }
            "aws-ebs-csi-driver" => {
                body["service_account_role_arn"] = json!(ebs_csi_role(ctx, m));
            }
            "amazon-cloudwatch-observability" if !fargate => {
                body["service_account_role_arn"] = json!(container_insights(ctx, m));
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
fn config(v: Json) -> Json {
    Json::from(v.to_compact_string())
}
