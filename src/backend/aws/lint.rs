//! infragen's own AWS lint rules, where scanners judge only what they can see statically.
//! Findings are warnings shown by `synth` and `validate`, never errors. (Versions are judged
//! against the versions catalog at validation: `crate::semantic::versions`.)
//!
//! | rule | warns when |
//! |---|---|
//! | `eks-device-plugin` | a node pool's instance type has a Neuron accelerator (Inferentia, Trainium): it runs the AL2023 AMI with the driver, but pods can request the device only through its Kubernetes device plugin, which the output does not install (NVIDIA's it does) |
//! | `alb-rules-quota` | (written by `edge.rs`, which plans the rules) the ECS load balancer's HTTPS listener gets more rules than the default quota of 100 per Application Load Balancer: the apply stops with TooManyRules unless the quota was raised |
//! | `data-unreachable` | (written by `security.rs`, which builds the groups) a managed database, cache or broker has no client here its security group can admit — no workload `uses` it on ECS, or the blueprint has no cluster — so nothing can connect; dropped when an `extra` template adds an ingress rule to that group (`security::drop_admitted`) |
//! | `eks-endpoint-private` | the EKS API endpoint is private and `cluster.endpoint.access: none`: the `platform` and `connections` modules and `kubectl apply -k` need a path into the VPC (with the default `ssm` a note says how to tunnel) |

use super::Ctx;
use crate::diagnostic::Note;

pub fn check(ctx: &Ctx) {
    eks_endpoint(ctx);
    accelerated_nodes(ctx);
}

/// The AL2023 accelerated AMIs carry the NVIDIA or Neuron driver, not the Kubernetes device
/// plugin ("you must install the NVIDIA Kubernetes device plugin",
/// docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html). The `platform`
/// module installs NVIDIA's (`helm::nvidia_device_plugin`); for Neuron nothing does, and
/// without it no pod can request the accelerator.
fn accelerated_nodes(ctx: &Ctx) {
    if ctx.platform != Some(crate::blueprint::types::Platform::Eks) {
        return;
    }
    for pool in &ctx.v.bp.node_pools {
        let instance = ctx.v.size(
            crate::catalog::SizeKind::Node,
            pool.size.as_deref(),
            &pool.sizes,
        );
        let ami = super::cluster::nodes::ami_type(&instance);
        if ami != "AL2023_x86_64_NEURON" {
            continue;
        }
        ctx.note(Note::warning(
            "eks-device-plugin",
            format!(
                "node pool `{}` ({instance}) runs the {ami} AMI, which has the driver but not the Neuron Kubernetes device plugin: install it (its Helm chart or operator); infragen requests NVIDIA GPUs only (`services[].gpu`), so run the workloads that use it from `extra.kubernetes` templates (docs/escape-hatches.md)",
                pool.name
            ),
        ));
    }
}

/// A private API endpoint (the secure default) is reachable only from inside the VPC; nothing
/// in the output opens a path in, so the `platform` module and the manifests cannot be
/// applied from a CI runner outside it.
fn eks_endpoint(ctx: &Ctx) {
    let Some(cluster) = ctx.v.bp.cluster.as_ref() else {
        return;
    };
    if !ctx.is_eks() || cluster.endpoint.public() {
        return;
    }
    // The root modules that talk to the cluster's API.
    let modules = if super::external_secrets::needed(ctx) {
        "terraform/platform and terraform/connections"
    } else {
        "terraform/platform"
    };
    if super::cluster::access::wanted(ctx) {
        ctx.note(format!(
            "the EKS API endpoint of {} is private; reach it through AWS Systems Manager: `aws ssm start-session --target $(terraform -chdir=terraform/infra output -raw api_access_instance_id) --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=$(terraform -chdir=terraform/infra output -raw cluster_endpoint | sed 's#https://##'),portNumber=443,localPortNumber=8443`, then `TF_VAR_kube_host=https://127.0.0.1:8443` for {modules} and `kubectl --server https://127.0.0.1:8443 --tls-server-name <endpoint host>` for k8s/ (`cluster.endpoint.access: none` drops the access instance)",
            ctx.cluster_name()
        ));
        return;
    }
    ctx.note(Note::warning(
        "eks-endpoint-private",
        format!(
            "the EKS API endpoint of {} is private: {modules} and `kubectl apply -k k8s/` must run from inside the VPC (a self-hosted runner, SSM port forwarding through an instance in a private subnet, or a VPN); to apply from outside set `cluster.endpoint: {{ public: true, allowed_cidrs: [<runner and admin CIDRs>] }}`",
            ctx.cluster_name()
        ),
    ));
}
