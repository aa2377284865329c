//! EKS node pools against the pods pinned to them, checked at synth. A pod whose requests
//! exceed what one node offers never schedules, and pods whose requests together exceed
//! the pool at its `desired` size stay `Pending` until the Cluster Autoscaler adds nodes —
//! only when the pool may grow, and then a fresh apply waits on scale-ups for its resting
//! pods. So the check holds the pods a pool must run *at rest* — every service pinned to it
//! (`node_pool`) at its resting replicas (the HPA's minimum), every in-cluster data service
//! with its exporter — against `desired` nodes' allocatable CPU and memory, less the
//! requests of the add-on DaemonSets that run on every node of the pool (those that
//! tolerate its taints: on EKS all of them, `aws-node` and `kube-proxy` among them).
//!
//! Every pool together, at its `max`, must also hold all the pods at rest — the unpinned
//! services' too, and the add-ons' and controllers' the output installs itself with the
//! requests it writes for them or their charts document ([`AddonPods`], listed by
//! `backend::aws::addon_pods`; checked after the analysis, `backend::room`):
//! past it pods stay Pending for good (a refusal). The add-ons' Deployments and the pods
//! without `node_pool` tolerate no custom taint, so where some pool carries a
//! `NoSchedule`/`NoExecute` one, the other pools alone must hold them ([`totals`]). At the
//! pools' `desired` size a shortfall is a warning ([`room`] returns both, from one set of
//! figures): a fresh apply waits on the Cluster Autoscaler.
//!
//! Each pod must also fit one node of a pool it may run on ([`larger_than_a_node`]): its
//! `node_pool`, else an untainted pool — release Jobs and job runs included, on EKS and DOKS.
//!
//! The figures err towards the nodes, so a refusal is certain: a node's allocatable is its
//! instance's vCPUs and memory less only the kubelet's reservations that do not depend on
//! its pod count (AL2023 `nodeadm`: CPU 6 % of the first core, 1 % of the second, 0.5 % of
//! the third and fourth, 0.25 % of the rest; memory 255Mi + 11Mi per pod, of which only
//! 255Mi is counted, plus the 100Mi hard eviction threshold), and the add-ons' requests are
//! the least their charts or manifests give (`backend::aws::addon_pods`: none where a chart
//! sets none).
//! <https://github.com/awslabs/amazon-eks-ami/blob/main/nodeadm/internal/kubelet/config.go>,
//! <https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/>
//!
//! GPUs (`services[].gpu`, EKS and DOKS) are held against the pool's `max` instead: a GPU
//! pool that starts small (or empty) and grows is how they are paid for only while used.

use crate::analysis::Validated;
use crate::blueprint::types::Platform;
use crate::catalog::{Provider, SizeKind};
use crate::diagnostic::{Diagnostic, Note};

use super::quota::{Figures, data_pod, figures, service_pod, show};
use super::workload::{filled, tracks};
use super::{Ctx, Options};

/// Pods of one add-on Deployment the output installs: what, how many, one pod's requests
/// (millicores, bytes; 0 where its chart sets none). The back-end that installs them lists
/// them (`backend::aws::addon_pods`).
#[derive(Debug, Clone, PartialEq)]
pub struct AddonPod {
    pub what: &'static str,
    pub pods: u32,
    pub requests: [f64; 2],
}

/// An add-on DaemonSet the output installs: one pod on every node, with one pod's requests
/// (millicores, bytes; 0 where its manifest sets none). Every one counted tolerates every
/// taint (`tolerations: [{operator: Exists}]`, cited for each in `backend::aws::addon_pods`),
/// so it runs on tainted pools too: its requests come off each node of every pool.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSet {
    pub what: &'static str,
    pub requests: [f64; 2],
}

/// The add-on pods of an output, beside the blueprint's own.
#[derive(Debug, Default, Clone)]
pub struct AddonPods {
    /// Deployments. None of them tolerates a custom taint: they run on the pools without a
    /// `NoSchedule`/`NoExecute` one only ([`repels`]).
    pub deployments: Vec<AddonPod>,
    /// DaemonSets (the VPC CNI's `aws-node` and `kube-proxy` among them on EKS), on every
    /// node of every pool.
    pub daemon_sets: Vec<DaemonSet>,
}

impl AddonPods {
    /// The Deployments' pods.
    pub fn pods(&self) -> u32 {
        self.deployments.iter().map(|p| p.pods).sum()
    }

    /// What one node offers pods beyond the DaemonSets: `node` (its allocatable) less their
    /// requests.
    fn beside_daemon_sets(&self, node: [f64; 2]) -> [f64; 2] {
        let mut left = node;
        for d in &self.daemon_sets {
            left[0] -= d.requests[0];
            left[1] -= d.requests[1];
        }
        left
    }
}

/// Whether `pool` keeps off the pods that do not tolerate its taints: it has a `NoSchedule`
/// or `NoExecute` one (a `PreferNoSchedule` taint only steers the scheduler elsewhere).
pub(super) fn repels(pool: &crate::blueprint::types::NodePool) -> bool {
    use crate::blueprint::types::TaintEffect;
    pool.taints
        .iter()
        .any(|t| !matches!(t.effect, TaintEffect::PreferNoSchedule))
}

/// The pools without a `NoSchedule`/`NoExecute` taint, by name: where the pods that tolerate
/// no custom taint (the add-ons' Deployments, unpinned workloads) may run.
pub(super) fn untainted(bp: &crate::blueprint::types::Blueprint) -> Vec<&str> {
    (bp.node_pools.iter())
        .filter(|p| !repels(p))
        .map(|p| p.name.as_str())
        .collect()
}

/// One node of `pool`: its size (instance type or Droplet slug) and what it offers pods at
/// most (millicores, bytes), where the provider's figures are known — EKS's EC2 shapes
/// ([`ec2_shape`], [`allocatable`]) and DOKS's Droplets ([`doks_allocatable`]).
fn node_allocatable(
    v: &Validated,
    pool: &crate::blueprint::types::NodePool,
) -> Option<(String, [f64; 2])> {
    let size = v.size(SizeKind::Node, pool.size.as_deref(), &pool.sizes);
    let node = match v.provider {
        Provider::Aws => {
            let (vcpu, mib) = ec2_shape(&size)?;
            allocatable(vcpu, mib)
        }
        Provider::Digitalocean => doks_allocatable(&size)?,
        Provider::Kubernetes => return None,
    };
    Some((size, node))
}

/// What one DOKS node of Droplet `slug` offers pods at most (millicores, bytes), for a
/// Droplet the DigitalOcean size catalog gives the shape of (`providers/digitalocean.json`;
/// `None` for another, GPU Droplets among them). Memory: DigitalOcean's table of allocatable
/// memory per node size (Kubernetes Limits, "Allocatable Memory": what the kubelet and
/// system daemons leave for pods), by the rows confirmed in a public DOKS cost sheet quoting
/// that page (4 GB: 2.5 GiB, 16 GB: 13 GiB, 32 GB: 28 GiB, 64 GB: 58 GiB). The page itself
/// could not be read from here, and no source confirmed the 2 GB (1 GiB) and 8 GB (6 GiB)
/// rows once written from memory, so those sizes — like every size the rows do not
/// list — count the Droplet's whole memory. CPU: DigitalOcean publishes no CPU
/// reservation, so the Droplet's whole vCPUs. Both err towards the node: a pod past them
/// certainly never schedules.
/// <https://docs.digitalocean.com/products/kubernetes/details/limits/>
pub(crate) fn doks_allocatable(slug: &str) -> Option<[f64; 2]> {
    const GIB: f64 = 1073741824.0;
    // (Droplet memory in GB, allocatable GiB).
    const TABLE: [(u32, f64); 4] = [(4, 2.5), (16, 13.0), (32, 28.0), (64, 58.0)];
    let (vcpu, mib) = Provider::Digitalocean
        .catalog()
        .sizes
        .as_ref()?
        .shape(slug)?;
    let memory = TABLE
        .iter()
        .find(|(gb, _)| gb * 1024 == mib)
        .map_or(f64::from(mib) * 1048576.0, |(_, gib)| gib * GIB);
    Some([f64::from(vcpu) * 1000.0, memory])
}

/// vCPUs and memory (MiB) of the EC2 instance types whose shape follows from their name:
/// burstable `t3`/`t3a`/`t4g`, and compute (`c`, 2 GiB per vCPU), general purpose (`m`, 4)
/// and memory optimized (`r`, 8) of generation 5 to 8 with `large` (2 vCPUs), `xlarge` (4)
/// and `<n>xlarge` (4n). Other types (accelerated, `metal`, `a1`, …) are not checked.
/// <https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html>,
/// <https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html>,
/// <https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html>
pub(crate) fn ec2_shape(instance: &str) -> Option<(u32, u32)> {
    let (family, size) = instance.split_once('.')?;
    if matches!(family, "t3" | "t3a" | "t4g") {
        let (vcpu, gib) = match size {
            "micro" => (2, 1),
            "small" => (2, 2),
            "medium" => (2, 4),
            "large" => (2, 8),
            "xlarge" => (4, 16),
            "2xlarge" => (8, 32),
            _ => return None,
        };
        return Some((vcpu, gib * 1024));
    }
    let mut chars = family.chars();
    let per_vcpu = match chars.next()? {
        'c' => 2,
        'm' => 4,
        'r' => 8,
        _ => return None,
    };
    let generation = chars.next()?.to_digit(10)?;
    // Suffixes that keep the family's shape: AMD, Graviton, Intel, local NVMe (`c5n` and
    // the like carry more memory, so they are not guessed).
    if !(5..=8).contains(&generation) || !chars.all(|c| "agid".contains(c)) {
        return None;
    }
    let vcpu = match size {
        "large" => 2,
        "xlarge" => 4,
        _ => 4 * size.strip_suffix("xlarge")?.parse::<u32>().ok()?,
    };
    Some((vcpu, vcpu * per_vcpu * 1024))
}

/// A node's allocatable requests (millicores, bytes), at most: see the module comment.
fn allocatable(vcpu: u32, mib: u32) -> [f64; 2] {
    let cores = f64::from(vcpu);
    let reserved_cpu = 60.0
        + 10.0 * (cores - 1.0).clamp(0.0, 1.0)
        + 5.0 * (cores - 2.0).clamp(0.0, 2.0)
        + 2.5 * (cores - 4.0).max(0.0);
    let reserved_mib = 255.0 + 100.0;
    [
        cores * 1000.0 - reserved_cpu,
        (f64::from(mib) - reserved_mib) * 1048576.0,
    ]
}

/// The pods pinned to `pool` at rest: (what, pods, one pod's figures).
fn pinned(ctx: &Ctx, pool: &str) -> Vec<(String, u32, Figures)> {
    resting(ctx, Some(pool))
}

/// The pods at rest (those pinned to `pool`, or all of them): (what, pods, one pod's
/// figures).
fn resting(ctx: &Ctx, pool: Option<&str>) -> Vec<(String, u32, Figures)> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.job.is_none()) {
        if pool.is_some() && s.bp.node_pool.as_deref() != pool {
            continue;
        }
        let pod = service_pod(s, figures(filled(s.bp.resources.as_ref())));
        for t in tracks(ctx, s) {
            let n = t.at_rest(s);
            if n > 0 {
                out.push((t.deployment, n, pod));
            }
        }
    }
    for d in ctx.data.iter() {
        if (pool.is_none() || d.node_pool.as_deref() == pool) && d.replicas > 0 {
            out.push((d.name.clone(), d.replicas, data_pod(d)));
        }
    }
    out
}

/// The GPUs a pool's nodes must hold at rest: every GPU service placed on it (its
/// `node_pool`, or the only GPU pool, `workload::pool`) at its resting replicas, and every
/// GPU job's run (`quota::job_pods`) beside them, against
/// `max` nodes of the size's known GPU count (`crate::gpu::per_node`), with the surge pods
/// of a rolling update that takes no pod down first (`quota::surge`). GPUs are never shared
/// between pods, so the figure is exact.
fn gpus(v: &Validated, ctx: &Ctx) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for (i, pool) in v.bp.node_pools.iter().enumerate() {
        let size = v.size(SizeKind::Node, pool.size.as_deref(), &pool.sizes);
        let Some(per_node) = crate::gpu::per_node(v.provider, &size) else {
            continue;
        };
        let mut need = Vec::new();
        for s in ctx.services.iter() {
            let Some(gpu) = s.bp.gpu else { continue };
            if super::workload::pool(ctx, s.bp) != Some(pool.name.as_str()) {
                continue;
            }
            if let Some(job) = s.job {
                // A run's pod needs its GPUs free beside the services' resting pods, or it
                // stays Pending and the run never starts.
                need.push((
                    format!("{}'s run", s.name()),
                    super::quota::job_pods(job),
                    gpu,
                ));
                continue;
            }
            for t in tracks(ctx, s) {
                let n = t.at_rest(s);
                if n == 0 {
                    continue;
                }
                // A rolling update that may take no pod down first adds its surge pods
                // beside the old ones: without GPUs for them it never progresses.
                let extra = super::quota::surge(s, n);
                if extra > 0 {
                    need.push((format!("{}'s rollout surge", t.deployment), extra, gpu));
                }
                need.push((t.deployment, n, gpu));
            }
        }
        let total: u32 = need.iter().map(|(_, n, g)| n * g).sum();
        // Fewer at `desired` is a pool that scales up from few (or zero) GPU nodes, a usual
        // way to pay for them only while used: the Cluster Autoscaler adds them. Past `max`
        // the pods never all run.
        if total <= pool.max * per_node {
            continue;
        }
        let parts: Vec<String> = need
            .iter()
            .map(|(w, n, g)| format!("{w} {n} × {g}"))
            .collect();
        let at = format!("node_pools[{i}].max");
        problems.push(
            Diagnostic::new(format!(
                "`{at}`: at most {} {size} node(s) of pool `{}` have {} GPU(s), but the GPU services placed on it need {total} at rest and in a rollout ({}); the pods past them stay Pending, and a rollout waiting on its surge pod never finishes",
                pool.max,
                pool.name,
                pool.max * per_node,
                parts.join(" + ")
            ))
            .at(v.loaded.span(&at))
            .expected(format!("a `max` of at least {}", total.div_ceil(per_node)))
            .help("raise the pool's `max`, give it a size with more GPUs, lower the services' or jobs' `gpu` or the services' resting replicas, or let a rollout take a pod down first (`rollout.max_unavailable: \"1\"`)".to_string()),
        );
    }
    problems
}

/// Positioned errors for every EKS node pool that cannot run the pods pinned to it, every
/// pod (a release Job's and a job run's among them) larger than one node of each pool it
/// may run on ([`larger_than_a_node`], EKS and DOKS), and every EKS or DOKS pool too small
/// for the GPUs of the services placed on it; with the
/// pools at `max` too small for every pod at rest an error, at `desired` a warning
/// ([`totals`]). One pass: the figures are built once for both.
pub fn room(v: &Validated, opts: &Options, addons: &AddonPods) -> (Vec<Diagnostic>, Vec<Note>) {
    if !matches!(v.platform(), Some(Platform::Eks | Platform::Doks)) {
        return Default::default();
    }
    let ctx = Ctx::new(v, opts);
    let mut problems = gpus(v, &ctx);
    let eks =
        v.bp.cluster
            .as_ref()
            .is_some_and(|c| c.platform == Platform::Eks);
    if v.provider == Provider::Digitalocean {
        problems.extend(larger_than_a_node(v, &ctx, addons));
        return (problems, Vec::new());
    }
    if v.provider != Provider::Aws || !eks {
        return (problems, Vec::new());
    }
    let before = problems.len();
    for (i, pool) in v.bp.node_pools.iter().enumerate() {
        let Some((instance, node)) = node_allocatable(v, pool) else {
            continue;
        };
        // The DaemonSets that run on the pool take their requests from every node first.
        let node = addons.beside_daemon_sets(node);
        let nodes = pool.desired.unwrap_or(pool.min);
        let pods = pinned(&ctx, &pool.name);
        let path = format!("node_pools[{i}]");
        for (idx, what) in [(0, "CPU"), (1, "memory")] {
            let too_big: Vec<String> = pods
                .iter()
                .filter(|(_, _, f)| f[idx] > node[idx])
                .map(|(w, _, f)| format!("{w} {}", show(f[idx], idx)))
                .collect();
            if !too_big.is_empty() {
                problems.push(
                    Diagnostic::new(format!(
                        "`{path}.size`: a {instance} node of pool `{}` offers at most {} of {what} to pods beside its DaemonSets{}, less than one pod of {} requests; such a pod never schedules",
                        pool.name,
                        show(node[idx], idx),
                        daemon_sets_listed(addons, idx),
                        too_big.join(", ")
                    ))
                    .at(v.loaded.span(&format!("{path}.size")))
                    .help("give the pool a larger size, or lower those requests".to_string()),
                );
                continue;
            }
            let need: f64 = pods.iter().map(|(_, n, f)| f[idx] * f64::from(*n)).sum();
            let have = node[idx] * f64::from(nodes);
            if need > have {
                let parts: Vec<String> = pods
                    .iter()
                    .map(|(w, n, f)| format!("{w} {n} × {}", show(f[idx], idx)))
                    .collect();
                let at = if pool.desired.is_some() {
                    format!("{path}.desired")
                } else {
                    format!("{path}.min")
                };
                // With `max` above `min` the output installs the Cluster Autoscaler, which
                // adds nodes for Pending pods: a fresh apply then waits on scale-ups.
                let then = if pool.max > pool.min {
                    "the rest stay Pending until the Cluster Autoscaler adds nodes, on every fresh apply and rollout"
                } else {
                    "the rest stay Pending (the pool cannot grow: `max` equals `min`)"
                };
                problems.push(
                    Diagnostic::new(format!(
                        "`{at}`: {nodes} {instance} node(s) of pool `{}` offer at most {} of {what} to pods beside their DaemonSets{}, but the pods pinned to it request {} at rest ({}); {then}",
                        pool.name,
                        show(have, idx),
                        daemon_sets_listed(addons, idx),
                        show(need, idx),
                        parts.join(" + ")
                    ))
                    .at(v.loaded.span(&at))
                    .expected(format!(
                        "at least {} {instance} node(s)",
                        (need / node[idx]).ceil()
                    ))
                    .help("raise the pool's `desired` (and `max`), give it a larger size, or lower the pods' requests or resting replicas".to_string()),
                );
            }
        }
    }
    // The pods the per-pool check leaves: release Jobs, job runs, and the unpinned ones.
    problems.extend(larger_than_a_node(v, &ctx, addons));
    let (refusals, warnings) = totals(v, &ctx, addons);
    // The totals' refusal only where no pool is refused already (one message per shortfall).
    if problems.len() == before {
        problems.extend(refusals);
    }
    (problems, warnings)
}

/// A pod [`larger_than_a_node`] checks.
struct Pod<'a> {
    /// The path of its `resources` in the blueprint.
    at: String,
    what: String,
    /// Its pool (`None`: any pool whose taints it tolerates, i.e. one without).
    pinned: Option<&'a str>,
    /// Whether it asks GPUs.
    gpu: bool,
    figures: Figures,
    /// What else waits on it, for the message (`; …`, or nothing).
    then: &'static str,
}

/// Every pod that must start — a service's, its release Job's, a job run's, an in-cluster
/// data service's — against one node of each pool it may run on: its `node_pool` (or the
/// only GPU pool, for a GPU pod: `workload::pool`), else every pool without a
/// `NoSchedule`/`NoExecute` taint ([`repels`]: a pod without `node_pool` tolerates none),
/// and on DOKS no GPU pool either (DOKS taints GPU nodes `nvidia.com/gpu` itself:
/// `workload::tolerate_gpu_taint`). A pod whose requests pass what one node offers beside
/// the DaemonSets on every one of them stays `Pending` for good (the Cluster Autoscaler
/// adds nodes of the same size, no larger). A release Job that never starts holds the
/// service's rollout too: its new pods wait on the Job (`wait-for-release`). The pools
/// whose node figures are unknown are taken to fit.
///
/// On EKS the services and data services pinned to a pool are left to the per-pool check
/// in [`room`] (refused at the pool's `size`), and the unpinned pods are not checked beside
/// Fargate profiles, which may take them. On DOKS the DaemonSets' requests are not
/// published (none are counted).
fn larger_than_a_node(v: &Validated, ctx: &Ctx, addons: &AddonPods) -> Vec<Diagnostic> {
    let eks = v.provider == Provider::Aws;
    let may_run_on = |pinned: Option<&str>, gpu: bool| -> Vec<&crate::blueprint::types::NodePool> {
        v.bp.node_pools
            .iter()
            .filter(|p| match pinned {
                Some(name) => p.name == name,
                None => {
                    let size = v.size(SizeKind::Node, p.size.as_deref(), &p.sizes);
                    let gpu_tainted = v.provider == Provider::Digitalocean
                        && crate::gpu::per_node(v.provider, &size).is_some();
                    !repels(p) && (gpu || !gpu_tainted)
                }
            })
            .collect()
    };
    let mut pods: Vec<Pod> = Vec::new();
    for s in &ctx.services {
        let path = match s.job {
            Some(job) => {
                let i = v.bp.jobs.iter().position(|j| std::ptr::eq(j, job));
                format!("jobs[{}]", i.unwrap_or_default())
            }
            None => {
                let i = v.bp.services.iter().position(|b| std::ptr::eq(b, s.bp));
                format!("services[{}]", i.unwrap_or_default())
            }
        };
        let what = match s.job {
            Some(_) => format!("job `{}`", s.name()),
            None => format!("service `{}`", s.name()),
        };
        // The release Job's pod: the app's node pool (`release::lower`), no GPU. With the
        // app's figures and the app's pools it is no larger than the app's pod (which has
        // the sidecars besides), so only the app's pod is judged then: one message.
        let release =
            s.bp.release
                .as_ref()
                .filter(|r| r.resources.is_some() || s.bp.gpu.is_some());
        if let (Some(pod), Some(r)) = (super::quota::release_pod(s), release) {
            let at = if r.resources.is_some() {
                format!("{path}.release.resources")
            } else {
                format!("{path}.resources")
            };
            pods.push(Pod {
                at,
                what: format!("{what}'s release Job"),
                pinned: s.bp.node_pool.as_deref(),
                gpu: false,
                figures: pod,
                then: "; the service's new pods wait on it (`wait-for-release`), so every rollout waits for ever",
            });
        }
        if eks && s.job.is_none() && s.bp.node_pool.is_some() {
            continue;
        }
        let pod = service_pod(s, figures(filled(s.bp.resources.as_ref())));
        let pool = super::workload::pool(ctx, s.bp);
        pods.push(Pod {
            at: format!("{path}.resources"),
            what,
            pinned: pool,
            gpu: s.bp.gpu.is_some(),
            figures: pod,
            then: "",
        });
    }
    for d in &ctx.data {
        if eks && d.node_pool.is_some() {
            continue;
        }
        let names: Vec<&str> = match d.part {
            "databases" => v.bp.databases.iter().map(|x| x.name.as_str()).collect(),
            "caches" => v.bp.caches.iter().map(|x| x.name.as_str()).collect(),
            _ => v.bp.queues.iter().map(|x| x.name.as_str()).collect(),
        };
        let i = names.iter().position(|n| *n == d.name).unwrap_or_default();
        let what = format!("`{}`", d.name);
        let path = format!("{}[{i}].in_cluster.resources", d.part);
        pods.push(Pod {
            at: path,
            what,
            pinned: d.node_pool.as_deref(),
            gpu: false,
            figures: data_pod(d),
            then: "",
        });
    }
    let beside = if addons.daemon_sets.is_empty() {
        ""
    } else {
        " beside its DaemonSets"
    };
    let larger = if eks {
        "an instance type with more vCPUs or memory"
    } else {
        "a Droplet with more vCPUs or memory"
    };
    let mut problems = Vec::new();
    for Pod {
        at: path,
        what,
        pinned,
        gpu,
        figures: pod,
        then,
    } in pods
    {
        // Beside Fargate profiles an unpinned pod may run on Fargate instead.
        if eks && pinned.is_none() && !v.bp.fargate_profiles.is_empty() {
            continue;
        }
        let pools = may_run_on(pinned, gpu);
        let mut nodes = Vec::new();
        for pool in &pools {
            let Some((size, node)) = node_allocatable(v, pool) else {
                nodes.clear();
                break;
            };
            nodes.push((pool, size, addons.beside_daemon_sets(node)));
        }
        if nodes.is_empty()
            || nodes
                .iter()
                .any(|(_, _, n)| pod[0] <= n[0] && pod[1] <= n[1])
        {
            continue;
        }
        // Positioned at the figure no pool holds, or at `requests` when each pool lacks a
        // different one.
        let field = if nodes.iter().all(|(_, _, n)| pod[1] > n[1]) {
            ".memory"
        } else if nodes.iter().all(|(_, _, n)| pod[0] > n[0]) {
            ".cpu"
        } else {
            ""
        };
        let at = format!("{path}.requests{field}");
        let offers: Vec<String> = nodes
            .iter()
            .map(|(p, size, n)| {
                format!(
                    "pool `{}` ({size}) at most {} CPU and {} memory",
                    p.name,
                    show(n[0], 0),
                    show(n[1], 1)
                )
            })
            .collect();
        problems.push(
            Diagnostic::new(format!(
                "`{at}`: a pod of {what} requests {} CPU and {} memory (its containers together), more than one node of any pool it may run on offers pods{beside} ({}); such a pod stays Pending for good: the Cluster Autoscaler adds nodes of the pool's size, never larger ones{then}",
                show(pod[0], 0),
                show(pod[1], 1),
                offers.join("; ")
            ))
            .at(v.loaded.span(&at))
            .expected("requests that fit one node of a pool the pod may run on".to_string())
            .help(match pinned {
                Some(_) => format!("give the pool a larger `size` ({larger}), or lower the requests"),
                None => format!("give a pool without taints a larger `size` ({larger}), place the pod on a larger pool (`node_pool`), or lower the requests"),
            }),
        );
    }
    problems
}

/// The DaemonSets whose requests of `idx` (CPU, memory) count, each per node:
/// ` (aws-node 25m + kube-proxy 100m)`, or nothing when none requests any.
fn daemon_sets_listed(addons: &AddonPods, idx: usize) -> String {
    let parts: Vec<String> = addons
        .daemon_sets
        .iter()
        .filter(|d| d.requests[idx] > 0.0)
        .map(|d| format!("{} {}", d.what, show(d.requests[idx], idx)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({} each)", parts.join(" + "))
    }
}

/// Whether the totals apply: EKS with managed node pools only, every pool of a known shape.
fn eks_nodes(v: &Validated) -> bool {
    let eks =
        v.bp.cluster
            .as_ref()
            .is_some_and(|c| c.platform == Platform::Eks);
    v.provider == Provider::Aws
        && eks
        && !v.bp.node_pools.is_empty()
        && v.bp.fargate_profiles.is_empty()
}

/// What the pools `keep` keeps offer pods at `size` nodes each (CPU millicores, memory
/// bytes), less the requests of the DaemonSets on each node; `None` when a size's shape is
/// unknown.
fn offered(
    v: &Validated,
    addons: &AddonPods,
    keep: impl Fn(&crate::blueprint::types::NodePool) -> bool,
    size: impl Fn(&crate::blueprint::types::NodePool) -> u32,
) -> Option<[f64; 2]> {
    let mut have = [0.0, 0.0];
    for pool in v.bp.node_pools.iter().filter(|p| keep(p)) {
        let (_, node) = node_allocatable(v, pool)?;
        let node = addons.beside_daemon_sets(node);
        for idx in 0..2 {
            have[idx] += node[idx] * f64::from(size(pool));
        }
    }
    Some(have)
}

/// Every pod at rest with the pool it is placed on (`None`: any pool it tolerates) and its
/// requests: the services' (their `node_pool`, or the only GPU pool for a GPU service:
/// `workload::pool`), the in-cluster data services', and the add-ons' Deployments, which
/// tolerate no custom taint.
fn everything<'c>(
    ctx: &'c Ctx,
    addons: &AddonPods,
) -> Vec<(String, Option<&'c str>, u32, [f64; 2])> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.job.is_none()) {
        let pod = service_pod(s, figures(filled(s.bp.resources.as_ref())));
        let pool = super::workload::pool(ctx, s.bp);
        for t in tracks(ctx, s) {
            let n = t.at_rest(s);
            if n > 0 {
                out.push((t.deployment, pool, n, [pod[0], pod[1]]));
            }
        }
    }
    for d in ctx.data.iter().filter(|d| d.replicas > 0) {
        let pod = data_pod(d);
        out.push((
            d.name.clone(),
            d.node_pool.as_deref(),
            d.replicas,
            [pod[0], pod[1]],
        ));
    }
    out.extend(
        addons
            .deployments
            .iter()
            .filter(|p| p.requests != [0.0, 0.0])
            .map(|p| (p.what.to_string(), None, p.pods, p.requests)),
    );
    out
}

fn parts(pods: &[&(String, Option<&str>, u32, [f64; 2])], idx: usize) -> String {
    let mut parts: Vec<String> = pods
        .iter()
        .filter(|(_, _, _, f)| f[idx] > 0.0)
        .map(|(w, _, n, f)| format!("{w} {n} × {}", show(f[idx], idx)))
        .collect();
    if parts.len() > 10 {
        let rest = parts.len() - 10;
        parts.truncate(10);
        parts.push(format!("{rest} more"));
    }
    parts.join(" + ")
}

/// The pools against the pods at rest, the add-ons' included: an error when at their `max`
/// they cannot hold the requests (the pods past it stay Pending for good), a warning when
/// at their `desired` size (`min` without one) they cannot though at `max` they can (a
/// fresh apply leaves pods Pending until the Cluster Autoscaler adds nodes).
///
/// Two sets are held: every pool against every pod, and — where some pool carries a
/// `NoSchedule`/`NoExecute` taint ([`repels`]) — the other pools against the pods only they
/// take: the add-ons' Deployments (CoreDNS, the EBS CSI controller, the controllers and
/// webhooks the output installs: their charts and EKS's add-ons give them no toleration of
/// a custom taint, see `semantic::schedulable`), the services and data services without a
/// `node_pool`, and those pinned to one of these pools. Room on a tainted pool holds none
/// of them. One message per resource: the first set that falls short.
fn totals(v: &Validated, ctx: &Ctx, addons: &AddonPods) -> (Vec<Diagnostic>, Vec<Note>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    if !eks_nodes(v) {
        return (problems, warnings);
    }
    let pods = everything(ctx, addons);
    let open = untainted(v.bp);
    // (only the untainted pools, the pods they hold, their figures at `max` and at rest).
    let mut sets = Vec::new();
    for untainted in [false, true] {
        if untainted && (open.len() == v.bp.node_pools.len() || open.is_empty()) {
            continue;
        }
        let keep = |p: &crate::blueprint::types::NodePool| !untainted || !repels(p);
        let (Some(at_max), Some(at_rest)) = (
            offered(v, addons, keep, |p| p.max),
            offered(v, addons, keep, |p| p.desired.unwrap_or(p.min)),
        ) else {
            continue;
        };
        let held: Vec<&(String, Option<&str>, u32, [f64; 2])> = pods
            .iter()
            .filter(|(_, pool, _, _)| !untainted || pool.is_none_or(|p| open.contains(&p)))
            .collect();
        sets.push((untainted, held, at_max, at_rest));
    }
    let listed = open
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for (idx, what) in [(0, "CPU"), (1, "memory")] {
        let need = |held: &[&(String, Option<&str>, u32, [f64; 2])]| -> f64 {
            held.iter().map(|(_, _, n, f)| f[idx] * f64::from(*n)).sum()
        };
        let short_at_max = sets
            .iter()
            .find(|(_, held, at_max, _)| need(held) > at_max[idx]);
        if let Some((untainted, held, at_max, _)) = short_at_max {
            let total = need(held);
            let message = if *untainted {
                format!(
                    "`node_pools`: the pools without a `NoSchedule`/`NoExecute` taint ({listed}) at their `max` offer at most {} of {what} to pods beside their DaemonSets, but the pods at rest that only they take — the add-ons' Deployments the output installs (CoreDNS and the controllers tolerate no custom taint), the services and data services without a `node_pool` and those pinned to these pools — request {} ({}); the rest stay Pending for good, however much room the tainted pools have",
                    show(at_max[idx], idx),
                    show(total, idx),
                    parts(held, idx)
                )
            } else {
                format!(
                    "`node_pools`: the pools at their `max` offer at most {} of {what} to pods beside their DaemonSets, but the pods at rest — the services', data services' and the add-ons' the output installs — request {} ({}); the rest stay Pending for good",
                    show(at_max[idx], idx),
                    show(total, idx),
                    parts(held, idx)
                )
            };
            let help = if *untainted {
                "raise the `max` of a pool without taints, give it a larger size, add one, place services on the tainted pools (`node_pool`), or lower the pods' requests or resting replicas"
            } else {
                "raise the pools' `max`, give them larger sizes, or lower the pods' requests or resting replicas"
            };
            problems.push(
                Diagnostic::new(message)
                    .at(v.loaded.span("node_pools"))
                    .expected(format!("at least {} of {what} at `max`", show(total, idx)))
                    .help(help.to_string()),
            );
            continue;
        }
        let short_at_rest = sets
            .iter()
            .find(|(_, held, _, at_rest)| need(held) > at_rest[idx]);
        if let Some((untainted, held, _, at_rest)) = short_at_rest {
            let which = if *untainted {
                format!(
                    "the pools without a `NoSchedule`/`NoExecute` taint ({listed}) offer at most {} of {what} to pods beside their DaemonSets, but the pods at rest that only they take — the add-ons' Deployments the output installs, the services and data services without a `node_pool` or pinned to these pools —",
                    show(at_rest[idx], idx)
                )
            } else {
                format!(
                    "the pools offer at most {} of {what} to pods beside their DaemonSets, but the pods at rest — the add-ons' the output installs included —",
                    show(at_rest[idx], idx)
                )
            };
            warnings.push(Note::warning(
                "node-capacity",
                format!(
                    "`node_pools`: at their `desired` size {which} request {} ({}): on a fresh apply pods wait Pending until the Cluster Autoscaler adds nodes, and Helm releases waiting on their pods may time out; raise `desired` or the node size to start with room",
                    show(need(held), idx),
                    parts(held, idx)
                ),
            ));
        }
    }
    (problems, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(ec2_shape("t3.medium"), Some((2, 4096)));
        assert_eq!(ec2_shape("c5.large"), Some((2, 4096)));
        assert_eq!(ec2_shape("r5.large"), Some((2, 16384)));
        assert_eq!(ec2_shape("m6i.2xlarge"), Some((8, 32768)));
        assert_eq!(ec2_shape("c7g.12xlarge"), Some((48, 98304)));
        assert_eq!(ec2_shape("g5.xlarge"), None);
        assert_eq!(ec2_shape("m5.metal"), None);
        assert_eq!(ec2_shape("c5n.large"), None);
    }

    #[test]
    fn droplets() {
        // The catalog's shapes, through the table's confirmed rows.
        assert_eq!(
            doks_allocatable("s-2vcpu-4gb"),
            Some([2000.0, 2.5 * 1073741824.0])
        );
        assert_eq!(
            doks_allocatable("m-2vcpu-16gb"),
            Some([2000.0, 13.0 * 1073741824.0])
        );
        assert_eq!(doks_allocatable("c-4"), Some([4000.0, 8.0 * 1073741824.0]));
        // An unconfirmed row counts the Droplet's whole memory.
        assert_eq!(
            doks_allocatable("s-4vcpu-8gb"),
            Some([4000.0, 8.0 * 1073741824.0])
        );
        // No shape for a GPU Droplet, nor for a slug the catalog does not hold, however
        // its name reads (no parsing, so no overflow either).
        assert_eq!(doks_allocatable("gpu-h100x1-80gb"), None);
        assert_eq!(doks_allocatable("m-6vcpu-48gb"), None);
        assert_eq!(doks_allocatable("s-1vcpu-4194304gb"), None);
        assert_eq!(doks_allocatable("c-2097152"), None);
    }

    #[test]
    fn reservations() {
        // 2 vCPUs: 60m + 10m reserved; 255Mi + 100Mi eviction.
        assert_eq!(allocatable(2, 16384)[0], 1930.0);
        assert_eq!(allocatable(2, 16384)[1], (16384.0 - 355.0) * 1048576.0);
        // 8 vCPUs: 60 + 10 + 10 + 4 × 2.5 = 90m.
        assert_eq!(allocatable(8, 32768)[0], 7910.0);
    }
}
