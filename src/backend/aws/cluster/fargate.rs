//! EKS on Fargate: the pod execution role (trusted by Fargate only for this cluster's
//! profiles, allowed to pull images and to ship logs to one log group), the log group Fargate's
//! built-in Fluent Bit writes to, and one Fargate profile per `fargate_profiles` entry in the
//! private subnets. Fargate logging's in-cluster half (the `aws-observability` namespace and
//! `aws-logging` ConfigMap) is in the platform module with the other in-cluster plumbing.
//!
//! Fargate pods take the cluster's primary security group and run no DaemonSets; the VPC CNI
//! enforces NetworkPolicy only on EC2 nodes, so policies written for Fargate pods are not
//! enforced — a note says so.

use crate::json;
use crate::tpl;

use super::{cluster_name_ref, private_subnets};
use crate::backend::aws::Ctx;
use crate::backend::aws::iam::policy;
use crate::terraform::{Module, Ref, res};

/// The log group of Fargate pods' container logs.
pub fn log_group() -> Ref {
    res("aws_cloudwatch_log_group", "fargate")
}

/// `/aws/eks/<cluster>/fargate`.
pub fn log_group_name(ctx: &Ctx) -> String {
    format!("/aws/eks/{}/fargate", ctx.cluster_name())
}

/// The Fargate profiles' addresses, for add-ons whose pods need one (CoreDNS).
pub fn profiles(ctx: &Ctx) -> Vec<String> {
    ctx.v
        .bp
        .fargate_profiles
        .iter()
        .map(|p| res("aws_eks_fargate_profile", &p.name).address())
        .collect()
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let name = ctx.cluster_name();
    let role = res("aws_iam_role", "fargate_pods");
    let attach = res("aws_iam_role_policy_attachment", "fargate_pods_execution");
    let group = log_group();
    let retention = ctx
        .v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days);
    let f = m.file("fargate");
    f.resource(
        &group,
        json!({
            "name": log_group_name(ctx),
            "retention_in_days": retention,
            "kms_key_id": res("aws_kms_key", "logs").arn(),
        }),
    )
    .resource(
        &role,
        json!({
            "name": format!("{name}-fargate-pods"),
            "description": format!("Fargate pod execution role of EKS cluster {name}"),
            "assume_role_policy": policy(vec![json!({
                "Sid": "FargateProfilesOfThisCluster",
                "Effect": "Allow",
                "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"ArnLike": {"aws:SourceArn": tpl!("arn:aws:eks:", ctx.region, ":", ctx.account_id(), ":fargateprofile/", name, "/*")}},
            })]),
        }),
    )
    .resource(
        &attach,
        json!({
            "role": role.id(),
            "policy_arn": "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy",
        }),
    )
    .resource(
        &res("aws_iam_role_policy", "fargate_pods_logs"),
        json!({
            "name": "fargate-logging",
            "role": role.id(),
            "policy": policy(vec![json!({
                "Sid": "ShipContainerLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": [group.arn(), tpl!(group.arn(), ":*")],
            })]),
        }),
    );

    for p in &ctx.v.bp.fargate_profiles {
        let selectors: Vec<_> = p
            .namespaces
            .iter()
            .map(|ns| {
                let mut s = json!({"namespace": ns});
                if !p.labels.is_empty() {
                    s["labels"] = json!(&p.labels);
                }
                s
            })
            .collect();
        f.resource(
            &res("aws_eks_fargate_profile", &p.name),
            json!({
                "cluster_name": cluster_name_ref(),
                "fargate_profile_name": &p.name,
                "pod_execution_role_arn": role.arn(),
                "subnet_ids": private_subnets(ctx),
                "selector": selectors,
                "tags": {"Name": format!("{name}-{}", p.name)},
                "depends_on": [attach.address()],
            }),
        );
    }
    // The External Secrets Operator's pods need a profile of their own namespace.
    let eso = crate::backend::helm::EXTERNAL_SECRETS_NAMESPACE;
    if super::super::external_secrets::needed(ctx)
        && !ctx
            .v
            .bp
            .fargate_profiles
            .iter()
            .any(|p| p.labels.is_empty() && p.namespaces.iter().any(|n| n == eso))
    {
        f.resource(
            &res("aws_eks_fargate_profile", "external_secrets"),
            json!({
                "cluster_name": cluster_name_ref(),
                "fargate_profile_name": eso,
                "pod_execution_role_arn": role.arn(),
                "subnet_ids": private_subnets(ctx),
                "selector": [{"namespace": eso}],
                "tags": {"Name": format!("{name}-{eso}")},
                "depends_on": [attach.address()],
            }),
        );
    }
    ctx.mark("fargate_profiles");

    // Every namespace that runs pods has a profile: checked at validation
    // (`semantic/fargate.rs`).
    ctx.note(format!(
        "EKS on Fargate does not enforce NetworkPolicy (the VPC CNI enforces it on EC2 nodes only): the policies under k8s/ document intent for cluster {name}; isolate with security groups for pods or move the workloads to managed nodes"
    ));
}
