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
//! The add-ons and controllers the output installs itself run pods too
//! ([`AddonPods`], listed by `backend::aws::addon_pods`; checked after the analysis,
//! `backend::room`): their DaemonSets take a slot on every node of each pool whose taints
//! they tolerate (on EKS all of them tolerate every taint: `aws-node`, `kube-proxy`, the
//! EBS CSI node, the pod identity agent, Container Insights' agent and Fluent Bit), their
//! Deployments (CoreDNS, the EBS CSI controller, the Load Balancer Controller,
//! cert-manager, KEDA, …) take slots somewhere, at the replicas written or their charts'
//! defaults. As there, the figures err towards the nodes, so a refusal is certain: sizes
//! whose limits are not listed here are not checked.
//!
//! - A pool must hold the pods pinned to it (`node_pool`) at rest on its `desired` nodes,
//!   beside its DaemonSets.
//! - All the pools together, at their `max`, must hold every service's and in-cluster data
//!   service's pods at rest and the add-ons' (not with Fargate profiles beside them, which
//!   take some): past it pods stay Pending for good. Where some pool carries a
//!   `NoSchedule`/`NoExecute` taint, the other pools alone must hold the add-ons'
//!   Deployments and the pods without `node_pool` or pinned to them: none tolerates it.
//! - At their `desired` size they should (a warning; [`room`] returns refusals and
//!   warnings from one set of figures): else a fresh apply leaves pods Pending until the
//!   Cluster Autoscaler adds nodes.

use crate::analysis::Validated;
use crate::blueprint::types::Platform;
use crate::catalog::{Provider, SizeKind};
use crate::diagnostic::Diagnostic;

use crate::diagnostic::Note;

use super::capacity::AddonPods;
use super::workload::tracks;
use super::{Ctx, Options};

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

/// The pod slots of one node of `pool` beside its DaemonSets, and those DaemonSets' count;
/// `None` for sizes whose limits are not listed.
fn slots(
    v: &Validated,
    pool: &crate::blueprint::types::NodePool,
    addons: &AddonPods,
) -> Option<(String, u32, u32)> {
    let instance = v.size(SizeKind::Node, pool.size.as_deref(), &pool.sizes);
    // Every DaemonSet runs a pod on each node (all of them tolerate every taint).
    let daemons = u32::try_from(addons.daemon_sets.len()).unwrap_or(u32::MAX);
    let per_node = max_pods(&instance)?.saturating_sub(daemons);
    Some((instance, per_node, daemons))
}

/// Whether the checks apply: EKS with managed node pools.
fn applies(v: &Validated) -> bool {
    let eks =
        v.bp.cluster
            .as_ref()
            .is_some_and(|c| c.platform == Platform::Eks);
    v.provider == Provider::Aws && eks && !v.bp.node_pools.is_empty()
}

/// The pods to run at rest beyond those of the blueprint: the add-ons' Deployments.
fn addon_list(addons: &AddonPods) -> Vec<(String, Option<&'static str>, u32)> {
    addons
        .deployments
        .iter()
        .map(|p| (p.what.to_string(), None, p.pods))
        .collect()
}

/// Refusals for pools that cannot hold their pinned pods at `desired`, and for all the
/// pools at `max` that cannot hold every pod at rest; a warning (`node-pod-slots`) when
/// the pools at their `desired` size (`min` without one) cannot hold every pod at rest, the
/// add-ons' included, though at `max` they can: a fresh apply leaves pods Pending until the
/// Cluster Autoscaler adds nodes, and the Helm releases that wait on their pods
/// (`wait: true`) may time out meanwhile. One pass: the figures are built once for both.
pub fn room(v: &Validated, opts: &Options, addons: &AddonPods) -> (Vec<Diagnostic>, Vec<Note>) {
    if !applies(v) {
        return Default::default();
    }
    let ctx = Ctx::new(v, opts);
    let pods = resting(&ctx);
    let pools: Vec<_> =
        v.bp.node_pools
            .iter()
            .map(|p| slots(v, p, addons))
            .collect();
    let mut problems = Vec::new();
    for (i, (pool, slots)) in v.bp.node_pools.iter().zip(&pools).enumerate() {
        let Some((instance, per_node, daemons)) = slots else {
            continue;
        };
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
                "`{at}`: {nodes} {instance} node(s) of pool `{}` run at most {} pods beside their {daemons} DaemonSets ({per_node} each: the VPC CNI gives a {instance} {} pod addresses), but {need} pods are pinned to it at rest ({}); the rest stay Pending with \"Too many pods\"",
                pool.name,
                per_node * nodes,
                per_node + daemons,
                listed(&pinned)
            ))
            .at(v.loaded.span(&at))
            .expected(format!("at least {} {instance} node(s)", need.div_ceil((*per_node).max(1))))
            .help("raise the pool's `desired` (and `max`), give it a larger size (an `xlarge` takes 58 pods), or lower the resting replicas".to_string()),
        );
    }
    // The totals, where no Fargate profile takes pods: every pool against every pod, and
    // where some pool keeps off untolerating pods, the other pools against the pods only
    // they take (the add-ons' Deployments tolerate no custom taint, nor do the pods without
    // a `node_pool`: `capacity::totals`). Each set where its pools' sizes are listed.
    if !v.bp.fargate_profiles.is_empty() {
        return (problems, Vec::new());
    }
    let extra = addon_list(addons);
    let open = super::capacity::untainted(v.bp);
    let mut sets = Vec::new();
    for untainted in [false, true] {
        if untainted && (open.len() == v.bp.node_pools.len() || open.is_empty()) {
            continue;
        }
        let total = |size: &dyn Fn(&crate::blueprint::types::NodePool) -> u32| -> Option<u32> {
            v.bp.node_pools
                .iter()
                .zip(&pools)
                .filter(|(p, _)| !untainted || !super::capacity::repels(p))
                .map(|(p, s)| s.as_ref().map(|(_, per_node, _)| per_node * size(p)))
                .sum()
        };
        let (Some(at_max), Some(at_rest)) =
            (total(&|p| p.max), total(&|p| p.desired.unwrap_or(p.min)))
        else {
            continue;
        };
        let held: Vec<_> = pods
            .iter()
            .chain(&extra)
            .filter(|(_, pool, _)| !untainted || pool.is_none_or(|p| open.contains(&p)))
            .collect();
        let need: u32 = held.iter().map(|(_, _, n)| n).sum();
        sets.push((untainted, held, need, at_max, at_rest));
    }
    let listed_open = open
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut warnings = Vec::new();
    if let Some((untainted, held, need, at_max, _)) =
        sets.iter().find(|(_, _, need, at_max, _)| need > at_max)
    {
        let message = if *untainted {
            format!(
                "`node_pools`: the pools without a `NoSchedule`/`NoExecute` taint ({listed_open}) at their `max` run at most {at_max} pods beside their DaemonSets, but the pods at rest that only they take — the add-ons' Deployments the output installs ({} pods: CoreDNS, controllers and webhooks tolerate no custom taint), the services and data services without a `node_pool` and those pinned to these pools — need {need} ({}); the rest stay Pending with \"Too many pods\" for good, however many the tainted pools could run",
                addons.pods(),
                listed(held)
            )
        } else {
            format!(
                "`node_pools`: the pools at their `max` run at most {at_max} pods beside their DaemonSets (the VPC CNI gives each node as many pod addresses as its instance type's network interfaces hold), but the services, data services and the add-ons the output installs ({} pods: CoreDNS, controllers, webhooks) need {need} at rest ({}); the rest stay Pending with \"Too many pods\" for good",
                addons.pods(),
                listed(held)
            )
        };
        let help = if *untainted {
            "raise the `max` of a pool without taints, give it a larger size (a `large` c/m/r node takes 29 pods, an `xlarge` 58; `t3.medium` 17), add one, or place services on the tainted pools (`node_pool`)"
        } else {
            "raise the pools' `max`, give them larger sizes (a `large` c/m/r node takes 29 pods, an `xlarge` 58; `t3.medium` 17), or lower the resting replicas"
        };
        problems.push(
            Diagnostic::new(message)
                .at(v.loaded.span("node_pools"))
                .expected(format!("room for {need} pods at `max`"))
                .help(help.to_string()),
        );
    } else if let Some((untainted, _, need, at_max, at_rest)) =
        sets.iter().find(|(_, _, need, _, at_rest)| need > at_rest)
    {
        let which = if *untainted {
            format!(
                "the pools without a `NoSchedule`/`NoExecute` taint ({listed_open}) run at most {at_rest} pods beside their DaemonSets, but the pods that only they take (the add-ons' Deployments, the services and data services without a `node_pool` or pinned to these pools)"
            )
        } else {
            format!(
                "the pools run at most {at_rest} pods beside their DaemonSets, but the services, data services and the add-ons the output installs ({} pods)",
                addons.pods()
            )
        };
        warnings.push(Note::warning(
            "node-pod-slots",
            format!(
                "`node_pools`: at their `desired` size {which} need {need} at rest: on a fresh apply pods wait Pending until the Cluster Autoscaler adds nodes (up to {at_max} pods at `max`), and Helm releases waiting on their pods may time out; raise `desired` or the node size to start with room"
            ),
        ));
    }
    (problems, warnings)
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
