//! infragen's own AWS lint rules, where scanners judge only what they can see statically.
//! Findings are warnings shown by `synth` and `validate`, never errors.
//!
//! | rule | warns when |
//! |---|---|
//! | `eks-version-support` | the EKS version is past standard support (extended support costs extra) or past extended support (EKS upgrades the cluster itself) |
//! | `eks-endpoint-private` | the EKS API endpoint is private: the `platform` module and `kubectl apply -k` need a path into the VPC |
//!
//! The chart rules (`ingress-nginx-retired`, `cert-manager-unsupported`) are shared with DOKS:
//! `crate::backend::lint`.
//!
//! Dates come from `providers/aws.json` (`lint.as_of` stands in for today).

use super::Ctx;
use crate::backend::warning;

pub fn check(ctx: &Ctx) {
    eks_version(ctx);
    eks_endpoint(ctx);
    if ctx.is_eks() {
        crate::backend::lint::check(ctx.v, &|rule, message| ctx.note(warning(rule, message)));
    }
}

fn eks_version(ctx: &Ctx) {
    let (Some(lint), true) = (ctx.v.catalog.lint.as_ref(), ctx.is_eks()) else {
        return;
    };
    let Some(version) = ctx.v.bp.cluster.as_ref().and_then(|c| c.version.clone()) else {
        return;
    };
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let oldest = lint.eks_support.keys().next().cloned().unwrap_or_default();
    let newest_standard = lint
        .eks_support
        .iter()
        .filter(|(_, (std_end, _))| std_end.as_str() > lint.as_of.as_str())
        .map(|(k, _)| k.clone())
        .next();
    let upgrade = newest_standard
        .map(|k| format!("move to {k} or later"))
        .unwrap_or_else(|| "move to a supported version".into());
    let as_of = &lint.as_of;
    let message = match lint.eks_support.get(&minor) {
        Some((_, ext)) if ext.as_str() <= as_of.as_str() => format!(
            "EKS {minor} (cluster.version `{version}`) left extended support on {ext} (as of {as_of}): EKS no longer creates it and upgrades existing clusters itself; {upgrade}"
        ),
        Some((std_end, ext)) if std_end.as_str() <= as_of.as_str() => format!(
            "EKS {minor} (cluster.version `{version}`) left standard support on {std_end} (as of {as_of}): extended support until {ext} is billed per cluster-hour; {upgrade}"
        ),
        None if version_lt(&minor, &oldest) => format!(
            "EKS {minor} (cluster.version `{version}`) is long past extended support; {upgrade}"
        ),
        _ => return,
    };
    ctx.note(warning("eks-version-support", message));
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

fn version_lt(a: &str, b: &str) -> bool {
    let p = |v: &str| -> Vec<u32> { v.split('.').filter_map(|x| x.parse().ok()).collect() };
    p(a) < p(b)
}
