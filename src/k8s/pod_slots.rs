//! EKS node pools against the number of pods they run. With the VPC CNI every pod takes
//! one of its node's secondary IPv4 addresses, so a node runs at most
//! `ENIs × (addresses per ENI − 1) + 2` pods — 17 on a `t3.medium`, 29 on an `m6i.large` —
//! the `max-pods` the EKS AMI's `nodeadm` gives the kubelet from the instance type, at most
//! 110 below 30 vCPUs and 250 above on a managed node group (`managed_node_group_cap`)
//! (<https://github.com/awslabs/amazon-eks-ami/blob/main/templates/shared/runtime/eni-max-pods.txt>,
//! "Maximum IP addresses per network interface", EC2 user guide). A pod past it stays
//! `Pending` ("Too many pods") however much CPU and memory is free, so a monorepo of small
//! services outgrows a pool by pod count long before by requests, which
//! [`super::capacity`] checks.
//!
//! As there, the figures err towards the nodes, so a refusal is certain: only the two
//! DaemonSet pods every node runs (`aws-node`, `kube-proxy`; the add-ons are always
//! installed) are taken from each node's slots, the add-ons' other pods are left out, and
//! sizes whose limits are not listed here are not checked.
//!
//! - A pool must hold the pods pinned to it (`node_pool`) at rest on its `desired` nodes.
//! - All the pools together, at their `max`, must hold every service's and in-cluster data
//!   service's pods at rest (not with Fargate profiles beside them, which take some).

use crate::analysis::Validated;
use crate::blueprint::types::Platform;
use crate::catalog::{Provider, SizeKind};
use crate::diagnostic::Diagnostic;

use super::workload::tracks;
use super::{Ctx, Options};

/// The DaemonSet pods on every EKS node: the VPC CNI's `aws-node` and `kube-proxy`.
const DAEMON_PODS: u32 = 2;

/// The kubelet's `max-pods` of an EC2 instance type, from its ENI limits, for the types
/// whose limits follow from the name: burstable `t3`/`t3a`/`t4g`, and `c`/`m`/`r` of
/// generation 5 to 8 (same suffixes as `capacity::ec2_shape`) from `large` to `24xlarge`.
pub(crate) fn max_pods(instance: &str) -> Option<u32> {
    let (family, size) = instance.split_once('.')?;
    if matches!(family, "t3" | "t3a" | "t4g") {
        return match size {
            "micro" => Some(4),
            "small" => Some(11),
            "medium" => Some(17),
            "large" => Some(35),
            "xlarge" | "2xlarge" => Some(58),
            _ => None,
        };
    }
    let (vcpus, _) = super::capacity::ec2_shape(instance)?;
    let eni = match size {
        "large" => 29,
        "xlarge" | "2xlarge" => 58,
        "4xlarge" | "8xlarge" | "12xlarge" => 234,
        "16xlarge" | "24xlarge" => 737,
        _ => return None,
    };
    Some(eni.min(managed_node_group_cap(vcpus)))
}

/// The cap a managed node group (infragen's node pools, no custom AMI) puts on `maxPods` in
/// the node's user data, above every other setting: "For instances with less than 30 vCPUs,
/// the cap is `110`. For instances with greater than 30 vCPUs, the cap is `250`" (EKS user
/// guide, "Choose an optimal Amazon EC2 node instance type", "How maxPods is determined").
/// So a 16-vCPU `4xlarge`, whose interfaces hold 234 pod addresses, runs 110 pods.
fn managed_node_group_cap(vcpus: u32) -> u32 {
    if vcpus < 30 { 110 } else { 250 }
}

/// Every service's (not job's) and in-cluster data service's pods at rest: (what, its
/// `node_pool`, pods).
fn resting<'c>(ctx: &'c Ctx) -> Vec<(String, Option<&'c str>, u32)> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.job.is_none()) {
        for t in tracks(ctx, s) {
            let n = t.at_rest(s);
            if n > 0 {
                out.push((t.deployment, s.bp.node_pool.as_deref(), n));
            }
        }
    }
    for d in ctx.data.iter().filter(|d| d.replicas > 0) {
        out.push((d.name.clone(), d.node_pool.as_deref(), d.replicas));
    }
    out
}

fn listed(pods: &[&(String, Option<&str>, u32)]) -> String {
    let mut parts: Vec<String> = pods.iter().map(|(w, _, n)| format!("{w} {n}")).collect();
    if parts.len() > 8 {
        let rest = parts.len() - 8;
        parts.truncate(8);
        parts.push(format!("{rest} more"));
    }
    parts.join(" + ")
}

pub fn check(v: &Validated, opts: &Options) -> Vec<Diagnostic> {
    let eks =
        v.bp.cluster
            .as_ref()
            .is_some_and(|c| c.platform == Platform::Eks);
    if v.provider != Provider::Aws || !eks || v.bp.node_pools.is_empty() {
        return Vec::new();
    }
    let ctx = Ctx::new(v, opts);
    let pods = resting(&ctx);
    let mut problems = Vec::new();
    let mut slots_at_max = Some(0);
    for (i, pool) in v.bp.node_pools.iter().enumerate() {
        let instance = v.size(SizeKind::Node, pool.size.as_deref(), &pool.sizes);
        let Some(per_node) = max_pods(&instance).map(|m| m.saturating_sub(DAEMON_PODS)) else {
            slots_at_max = None;
            continue;
        };
        slots_at_max = slots_at_max.map(|s| s + per_node * pool.max);
        let pinned: Vec<_> = pods
            .iter()
            .filter(|(_, p, _)| *p == Some(pool.name.as_str()))
            .collect();
        let need: u32 = pinned.iter().map(|(_, _, n)| n).sum();
        let nodes = pool.desired.unwrap_or(pool.min);
        if need <= per_node * nodes {
            continue;
        }
        let at = if pool.desired.is_some() {
            format!("node_pools[{i}].desired")
        } else {
            format!("node_pools[{i}].min")
        };
        problems.push(
            Diagnostic::new(format!(
                "`{at}`: {nodes} {instance} node(s) of pool `{}` run at most {} pods beside their DaemonSets ({per_node} each: the VPC CNI gives a {instance} {} pod addresses), but {need} pods are pinned to it at rest ({}); the rest stay Pending with \"Too many pods\"",
                pool.name,
                per_node * nodes,
                per_node + DAEMON_PODS,
                listed(&pinned)
            ))
            .at(v.loaded.span(&at))
            .expected(format!("at least {} {instance} node(s)", need.div_ceil(per_node.max(1))))
            .help("raise the pool's `desired` (and `max`), give it a larger size (an `xlarge` takes 58 pods), or lower the resting replicas".to_string()),
        );
    }
    let need: u32 = pods.iter().map(|(_, _, n)| n).sum();
    if let Some(slots) = slots_at_max
        && v.bp.fargate_profiles.is_empty()
        && need > slots
    {
        let all: Vec<_> = pods.iter().collect();
        problems.push(
            Diagnostic::new(format!(
                "`node_pools`: the pools at their `max` run at most {slots} pods beside their DaemonSets (the VPC CNI gives each node as many pod addresses as its instance type's network interfaces hold), but the services and data services need {need} at rest ({}); the rest stay Pending with \"Too many pods\", and the add-ons' own pods need room too",
                listed(&all)
            ))
            .at(v.loaded.span("node_pools"))
            .help("raise the pools' `max`, give them larger sizes (a `large` c/m/r node takes 29 pods, an `xlarge` 58; `t3.medium` 17), or lower the resting replicas".to_string()),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_pods_follow_the_eni_limits() {
        assert_eq!(super::max_pods("t3.medium"), Some(17));
        assert_eq!(super::max_pods("t3.large"), Some(35));
        assert_eq!(super::max_pods("m6i.large"), Some(29));
        assert_eq!(super::max_pods("m7g.xlarge"), Some(58));
        // Managed node groups cap it: 110 below 30 vCPUs, 250 above.
        assert_eq!(super::max_pods("c5.4xlarge"), Some(110));
        assert_eq!(super::max_pods("m6i.8xlarge"), Some(234));
        assert_eq!(super::max_pods("r7g.16xlarge"), Some(250));
        assert_eq!(super::max_pods("c5.9xlarge"), None);
        assert_eq!(super::max_pods("g5.xlarge"), None);
    }
}
