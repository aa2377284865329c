//! infragen's own AWS lint rules, where scanners judge only what they can see statically.
//! Findings are warnings shown by `synth` and `validate`, never errors. (Versions are judged
//! against the versions catalog at validation: `crate::validate::versions`.)
//!
//! | rule | warns when |
//! |---|---|
//! | `eks-endpoint-private` | the EKS API endpoint is private: the `platform` module and `kubectl apply -k` need a path into the VPC |

use super::Ctx;
use crate::diagnostic::warning;

pub fn check(ctx: &Ctx) {
    eks_endpoint(ctx);
}

/// A private API endpoint (the secure default) is reachable only from inside the VPC; nothing
/// in the output opens a path in, so the `platform` module and the manifests cannot be
/// applied from a CI runner outside it.
fn eks_endpoint(ctx: &Ctx) {
    let Some(cluster) = ctx.v.bp.cluster.as_ref() else {
        return;
    };
    if !ctx.is_eks() || cluster.endpoint.public {
        return;
    }
    ctx.note(warning(
        "eks-endpoint-private",
        format!(
            "the EKS API endpoint of {} is private: `terraform/platform` and `kubectl apply -k k8s/` must run from inside the VPC (a self-hosted runner, SSM port forwarding through an instance in a private subnet, or a VPN); to apply from outside set `cluster.endpoint: {{ public: true, allowed_cidrs: [<runner and admin CIDRs>] }}`",
            ctx.cluster_name()
        ),
    ));
}
