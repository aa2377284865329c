//! ResourceQuota arithmetic, checked at synth: a namespace's quota must hold its own
//! workloads at their declared maximum — every autoscaled Deployment at its HPA's
//! `maxReplicas`, the others at their replica count, the in-cluster data services with
//! their sidecars, and one pod of each job (backups run one at a time) — and their volume
//! claims (`persistentvolumeclaims`, `requests.storage`). The API server
//! otherwise refuses the pods past the quota, and the autoscaler silently stops short of
//! its maximum. A Deployment whose rolling update may take no pod down first
//! (`maxUnavailable` 0) also needs its surge pods ([`surge`]): refused, they would hold the
//! rollout at the maximum for ever; the others free room before they add pods. A
//! LimitRange's `max` is checked against every container's limits, which it would refuse.

use crate::analysis::Validated;
use crate::blueprint::types::{Namespace, VpaMode};
use crate::diagnostic::Diagnostic;

use super::workload::{filled, tracks};
use super::{Ctx, Engine, Options};

/// Requests cpu (millicores), memory (bytes), limits cpu, memory.
pub type Figures = [f64; 4];

/// The quota keys checked, with the index of their figure (`cpu`/`memory` mean requests).
pub const KEYS: [(&str, usize); 6] = [
    ("requests.cpu", 0),
    ("cpu", 0),
    ("requests.memory", 1),
    ("memory", 1),
    ("limits.cpu", 2),
    ("limits.memory", 3),
];

/// A CPU quantity in millicores (`250m`, `1`, `0.5`).
pub fn cpu(q: &str) -> Option<f64> {
    match q.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => q.parse::<f64>().ok().map(|c| c * 1000.0),
    }
}

/// A memory quantity in bytes (`512Mi`, `1Gi`, `2G`, `1000`).
pub fn memory(q: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (unit, scale) in UNITS {
        if let Some(n) = q.strip_suffix(unit) {
            return n.parse::<f64>().ok().map(|n| n * scale);
        }
    }
    q.parse().ok()
}

pub(super) fn figures(f: [&str; 4]) -> Figures {
    [
        cpu(f[0]).unwrap_or(0.0),
        memory(f[1]).unwrap_or(0.0),
        cpu(f[2]).unwrap_or(0.0),
        memory(f[3]).unwrap_or(0.0),
    ]
}

/// The helper containers' figures (`data::small_resources`).
const SMALL: Figures = [50.0, 67108864.0, 250.0, 268435456.0];

fn add(a: Figures, b: Figures) -> Figures {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

fn times(a: Figures, n: u32) -> Figures {
    let n = f64::from(n);
    [a[0] * n, a[1] * n, a[2] * n, a[3] * n]
}

pub fn show(value: f64, i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("{}m", value.round())
    } else {
        format!("{}Mi", (value / 1048576.0).ceil())
    }
}

/// The app container's figures once its VerticalPodAutoscaler has sized it at its bound.
/// In every mode but `Off` the VPA's admission controller rewrites a new pod's requests to
/// the recommendation, which can reach `maxAllowed` (the blueprint's `vpa.max`); with the
/// default `controlledValues: RequestsAndLimits` (infragen writes no other) it scales the
/// limits by the same factor, keeping the container's limit/request ratio. Only the
/// resources the VPA controls move (CPU alone, or memory alone, next to an HPA on the
/// other). A VPA may lower requests too, but the quota must hold the highest.
/// <https://github.com/kubernetes/autoscaler/blob/master/vertical-pod-autoscaler/docs/features.md#limits-control>
fn vpa_bound(s: &super::Workload, mut f: Figures) -> Figures {
    let Some(vpa) = &s.bp.vpa else {
        return f;
    };
    let (mode, controlled) = super::autoscaling::vpa_mode(s);
    if mode == VpaMode::Off {
        return f;
    }
    let bounds = [
        ("cpu", 0, vpa.max.cpu.as_deref().and_then(cpu)),
        ("memory", 1, vpa.max.memory.as_deref().and_then(memory)),
    ];
    for (resource, i, max) in bounds {
        if controlled.is_some_and(|c| c != resource) {
            continue;
        }
        // Without a bound the VPA may go as high as the node allows: no quota can be
        // checked against that, and [`unbounded_vpas`] says so.
        let Some(max) = max else { continue };
        if max > f[i] {
            if f[i] > 0.0 {
                f[i + 2] *= max / f[i];
            }
            f[i] = max;
        }
    }
    f
}

/// Services of a namespace whose VPA may raise `resource` (`cpu` or `memory`) without bound
/// (no `vpa.max.<resource>`).
fn unbounded_vpas<'c>(ctx: &'c Ctx, ns: &str, resource: &str) -> Vec<&'c str> {
    ctx.services
        .iter()
        .filter(|s| s.namespace == ns && s.job.is_none())
        .filter(|s| {
            let Some(vpa) = &s.bp.vpa else { return false };
            let (mode, controlled) = super::autoscaling::vpa_mode(s);
            let max = if resource == "cpu" {
                &vpa.max.cpu
            } else {
                &vpa.max.memory
            };
            mode != VpaMode::Off && controlled.is_none_or(|c| c == resource) && max.is_none()
        })
        .map(|s| s.name())
        .collect()
}

/// A service's pod with its app container at `app`: sidecars run beside the app; init
/// containers one at a time before it, so a pod needs the larger of their largest and the
/// running sum (Kubernetes' effective request).
pub(super) fn service_pod(s: &super::Workload, app: Figures) -> Figures {
    let running =
        s.bp.sidecars
            .iter()
            .map(|c| figures(filled(c.resources.as_ref())))
            .fold(app, add);
    // The `wait-for-release` init container of a service with a release step.
    let wait = (s.job.is_none() && s.bp.release.is_some()).then_some(SMALL);
    s.bp.init
        .iter()
        .map(|c| figures(filled(c.resources.as_ref())))
        .chain(wait)
        .fold(running, |a, b| std::array::from_fn(|i| a[i].max(b[i])))
}

/// The release Job's pod of a service (`super::release`): its container, with the
/// release's figures or else the app's. One run at a time (a failed attempt's pod has
/// ended before the next starts, and ended pods leave the quota's `pods`).
pub(super) fn release_pod(s: &super::Workload) -> Option<Figures> {
    let r = s.bp.release.as_ref().filter(|_| s.job.is_none())?;
    Some(figures(filled(
        r.resources.as_ref().or(s.bp.resources.as_ref()),
    )))
}

/// A data service's pod: the server and its exporter sidecar.
pub(super) fn data_pod(d: &super::DataService) -> Figures {
    let pod = figures(filled(Some(&d.resources)));
    if matches!(&d.exporter, Some((Some(_), _))) {
        add(pod, SMALL)
    } else {
        pod
    }
}

/// The pods a job holds at once: one per run (failed runs restart in place; the CronJob's
/// Job sets no `parallelism`), and a run that may overlap the next (`Allow`, or `Replace`
/// while the old pod terminates) counts twice.
pub(super) fn job_pods(job: &crate::blueprint::job::Job) -> u32 {
    match job.concurrency.unwrap_or_default() {
        crate::blueprint::job::Concurrency::Forbid => 1,
        _ => 2,
    }
}

/// What each workload of a namespace needs at its maximum: (what, pods, figures).
fn demand(ctx: &Ctx, ns: &str) -> Vec<(String, u32, Figures)> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.namespace == ns) {
        let app = figures(filled(s.bp.resources.as_ref()));
        let pod = service_pod(s, app);
        // The VPA sizes the pods of the Deployment it targets (the primary track).
        let sized = service_pod(s, vpa_bound(s, app));
        if let Some(job) = s.job {
            let n = job_pods(job);
            out.push((s.name().to_string(), n, times(pod, n)));
            continue;
        }
        if let Some(pod) = release_pod(s) {
            out.push((super::release::app(s), 1, pod));
        }
        for t in tracks(ctx, s) {
            let n = t.at_most(s);
            let extra = surge(s, n);
            let pod = if t.primary && sized != pod {
                out.push((
                    format!("{} (at its VPA's max)", t.deployment),
                    n,
                    times(sized, n),
                ));
                sized
            } else {
                out.push((t.deployment.clone(), n, times(pod, n)));
                pod
            };
            if extra > 0 {
                out.push((
                    format!("{}'s rollout surge", t.deployment),
                    extra,
                    times(pod, extra),
                ));
            }
        }
    }
    for d in ctx.data.iter().filter(|d| d.namespace == ns) {
        let pod = data_pod(d);
        out.push((d.name.clone(), d.replicas, times(pod, d.replicas)));
        if super::backup::schedule(d).is_some() {
            // The dump (and upload) containers use the defaults; one run at a time.
            out.push((format!("{}-backup", d.name), 1, figures(filled(None))));
        }
        if d.engine == Engine::Mongodb && d.replicas > 1 {
            out.push((format!("{}-rs-init", d.name), 1, SMALL));
        }
    }
    out
}

/// The GPUs (`services[].gpu`, `jobs[].gpu`) each workload of a namespace holds at its
/// maximum, surge pods included: (what, pods, GPUs). A GPU is an extended resource, whose
/// request equals its limit; a quota counts it as `requests.nvidia.com/gpu`
/// (kubernetes.io/docs/concepts/policy/resource-quotas, "Resource quota for extended
/// resources").
fn gpu_demand(ctx: &Ctx, ns: &str) -> Vec<(String, u32, u32)> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.namespace == ns) {
        let Some(gpu) = s.bp.gpu else { continue };
        if let Some(job) = s.job {
            // A job's pods as `demand` counts them: one run at a time, two where a run may
            // overlap the next (a CronJob's Job runs one pod: no `parallelism`).
            let pods = job_pods(job);
            out.push((s.name().to_string(), pods, gpu * pods));
            continue;
        }
        for t in tracks(ctx, s) {
            let n = t.at_most(s);
            let pods = n + surge(s, n);
            out.push((t.deployment.clone(), pods, gpu * pods));
        }
    }
    out
}

/// A namespace quota's GPU items: `requests.nvidia.com/gpu` must hold the GPUs of the
/// namespace's services at their maximum; the other spellings are refused, since a quota
/// counts extended resources only with the `requests.` prefix (over-commit is not allowed,
/// so requests and limits are the same figure).
fn check_gpus(v: &Validated, ctx: &Ctx, path: &str, ns: &Namespace) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let counted = format!("requests.{}", crate::gpu::RESOURCE);
    for key in [
        crate::gpu::RESOURCE.to_string(),
        format!("limits.{}", crate::gpu::RESOURCE),
    ] {
        if ns.quota.contains_key(&key) {
            problems.push(
                Diagnostic::new(format!(
                    "`{path}`: `{key}` is not a quota item: Kubernetes counts extended resources such as GPUs only as `requests.<resource>`"
                ))
                .at(v.loaded.key_span(path, &key))
                .expected(format!("`{counted}`")),
            );
        }
    }
    let Some(hard) = ns.quota.get(&counted) else {
        return problems;
    };
    let need = gpu_demand(ctx, &ns.name);
    let total: u32 = need.iter().map(|(_, _, g)| g).sum();
    match hard.parse::<u32>() {
        Err(_) => problems.push(
            Diagnostic::new(format!(
                "`{path}`: {counted} `{hard}` is not a whole number of GPUs"
            ))
            .at(v.loaded.key_span(path, &counted))
            .expected("a count, e.g. \"4\"".to_string()),
        ),
        Ok(limit) if total > limit => {
            let parts: Vec<String> = need
                .iter()
                .map(|(w, n, g)| format!("{w} {n} × {}", g / n.max(&1)))
                .collect();
            problems.push(
                Diagnostic::new(format!(
                    "`{path}`: {counted} {hard} cannot hold namespace `{}` at its declared maximum, which needs {total} GPUs ({}); the API server would refuse the pods past it",
                    ns.name,
                    parts.join(" + ")
                ))
                .at(v.loaded.key_span(path, &counted))
                .expected(format!("{counted} of at least {total}"))
                .help("raise the quota, or lower the GPU services' and jobs' `gpu`, the services' replicas or autoscaling maxima, or let a job's runs not overlap (`concurrency: Forbid`)".to_string()),
            );
        }
        Ok(_) => {}
    }
    problems
}

/// The pods a rolling update of `n` replicas must add before it may take any old one down:
/// none where `maxUnavailable` lets it remove one first (it then creates the new pods in the
/// room that frees), else `maxSurge` (rounded up; Kubernetes' default 25 %). With
/// `maxUnavailable` 0 — a release step's (`workload::release_keeps_capacity`), or the
/// default 25 % of fewer than four replicas, rounded down — the quota must hold them: the
/// API server refuses the surge pods past it, no old pod is removed, and the rollout at the
/// maximum never progresses (kubernetes.io/docs/concepts/workloads/controllers/deployment,
/// "Max Unavailable", "Max Surge").
pub(super) fn surge(s: &super::Workload, n: u32) -> u32 {
    let bp = s.bp;
    if s.strategy() == crate::blueprint::types::Strategy::Recreate || n == 0 {
        return 0;
    }
    let share = |v: &str, up: bool| -> u32 {
        match v.trim().strip_suffix('%') {
            Some(p) => {
                let exact = f64::from(n) * p.trim().parse::<f64>().unwrap_or(25.0) / 100.0;
                (if up { exact.ceil() } else { exact.floor() }) as u32
            }
            None => v.trim().parse().unwrap_or(0),
        }
    };
    let unavailable = match bp.rollout.max_unavailable.as_deref() {
        Some(v) => share(v, false),
        None if super::workload::release_keeps_capacity(bp) => 0,
        None => share("25%", false),
    };
    if unavailable > 0 {
        return 0;
    }
    share(bp.rollout.max_surge.as_deref().unwrap_or("25%"), true)
}

/// What each of namespace `ns`'s own workloads needs at its maximum (what, pods, figures),
/// for the `extra:` workloads' check (`crate::escape::quota`) to add theirs to.
pub fn own_demand(v: &Validated, ns: &str) -> Vec<(String, u32, Figures)> {
    demand(&Ctx::new(v, &Options::default()), ns)
}

/// The pods of the workloads that use component `name`, at their most at once (what, pods),
/// as the quota counts them ([`demand`]): every Deployment track at its maximum with its
/// rollout surge, a service's release Job (it runs beside the old pods during a deploy),
/// and each job's overlapping runs. Each pod holds connections of its own to the component,
/// so a server's connection limit is shared among them
/// (`backend::digitalocean::lint`, `do-database-connections`).
pub fn client_pods(v: &Validated, name: &str) -> Vec<(String, u32)> {
    let opts = Options::default();
    let ctx = Ctx::new(v, &opts);
    let mut out = Vec::new();
    for s in ctx
        .services
        .iter()
        .filter(|s| s.bp.uses.iter().any(|u| u.as_str() == name))
    {
        if let Some(job) = s.job {
            out.push((s.name().to_string(), job_pods(job)));
            continue;
        }
        if release_pod(s).is_some() {
            out.push((super::release::app(s), 1));
        }
        for t in tracks(&ctx, s) {
            let n = t.at_most(s);
            out.push((t.deployment.clone(), n + surge(s, n)));
        }
    }
    out
}

/// The release Jobs of the services that use component `name` (what, 1 pod each): the
/// clients that go around a database's connection pool (`wiring::pool`), counted against
/// the connections the pool leaves (`backend::digitalocean::lint`).
pub fn release_pods(v: &Validated, name: &str) -> Vec<(String, u32)> {
    let opts = Options::default();
    let ctx = Ctx::new(v, &opts);
    ctx.services
        .iter()
        .filter(|s| s.bp.uses.iter().any(|u| u.as_str() == name))
        .filter(|s| release_pod(s).is_some())
        .map(|s| (super::release::app(s), 1))
        .collect()
}

/// Positioned errors for every namespace quota that cannot hold its workloads.
pub fn check(v: &Validated, opts: &Options) -> Vec<Diagnostic> {
    let Some(k) = &v.bp.kubernetes else {
        return Vec::new();
    };
    let ctx = Ctx::new(v, opts);
    let mut problems = Vec::new();
    // The last declaration of a name wins (as in `namespace.rs`).
    let mut seen = std::collections::BTreeSet::new();
    for (i, ns) in k.namespaces.iter().enumerate().rev() {
        if !seen.insert(ns.name.as_str()) || (ns.quota.is_empty() && ns.limit_range.is_none()) {
            continue;
        }
        problems.extend(check_namespace(v, &ctx, i, ns));
    }
    problems
}

/// Every container of a namespace's workloads with its figures, for a LimitRange's `max`.
fn containers(ctx: &Ctx, ns: &str) -> Vec<(String, Figures)> {
    let mut out = Vec::new();
    for s in ctx.services.iter().filter(|s| s.namespace == ns) {
        out.push((
            s.name().to_string(),
            figures(filled(s.bp.resources.as_ref())),
        ));
        for c in s.bp.sidecars.iter().chain(&s.bp.init) {
            out.push((
                format!("{} {}", s.name(), c.name),
                figures(filled(c.resources.as_ref())),
            ));
        }
        if let Some(pod) = release_pod(s) {
            out.push((super::release::app(s), pod));
            out.push((format!("{} {}", s.name(), super::release::WAIT), SMALL));
        }
    }
    for d in ctx.data.iter().filter(|d| d.namespace == ns) {
        out.push((d.name.clone(), figures(filled(Some(&d.resources)))));
        if matches!(&d.exporter, Some((Some(_), _))) {
            out.push((format!("{} exporter", d.name), SMALL));
        }
        if super::backup::schedule(d).is_some() {
            out.push((format!("{}-backup", d.name), figures(filled(None))));
        }
    }
    out
}

/// The volume claims of a namespace's data services: (what, claims, bytes requested).
fn claims(ctx: &Ctx, ns: &str) -> Vec<(String, u32, f64)> {
    let mut out = Vec::new();
    for d in ctx.data.iter().filter(|d| d.namespace == ns) {
        let size = memory(&d.volume_size).unwrap_or(0.0);
        out.push((d.name.clone(), d.replicas, size * f64::from(d.replicas)));
        if super::backup::schedule(d).is_some() {
            out.push((format!("{}-backup", d.name), 1, size));
        }
    }
    out
}

fn check_namespace(v: &Validated, ctx: &Ctx, i: usize, ns: &Namespace) -> Vec<Diagnostic> {
    let need = demand(ctx, &ns.name);
    let mut problems = Vec::new();
    let path = format!("kubernetes.namespaces[{i}].quota");
    // A LimitRange's `max` refuses any container whose limit is above it.
    if let Some(lr) = &ns.limit_range {
        for (what, max, idx) in [("cpu", &lr.max.cpu, 2), ("memory", &lr.max.memory, 3)] {
            let Some(max) = max else { continue };
            let limit = if idx == 2 { cpu(max) } else { memory(max) };
            let Some(limit) = limit else { continue };
            let over: Vec<String> = containers(ctx, &ns.name)
                .into_iter()
                .filter(|(_, f)| f[idx] > limit)
                .map(|(w, f)| format!("{w} {}", show(f[idx], idx)))
                .collect();
            if !over.is_empty() {
                problems.push(
                    Diagnostic::new(format!(
                        "`kubernetes.namespaces[{i}].limit_range.max.{what}`: {max} is below the {what} limit of {}; the API server would refuse those pods",
                        over.join(", ")
                    ))
                    .at(v.loaded.span(&format!("kubernetes.namespaces[{i}].limit_range.max.{what}")))
                    .help("raise the LimitRange's max, or lower those limits".to_string()),
                );
            }
        }
    }
    problems.extend(check_gpus(v, ctx, &path, ns));
    let volumes = claims(ctx, &ns.name);
    let count: u32 = volumes.iter().map(|(_, n, _)| n).sum();
    if let Some(hard) = ns.quota.get("persistentvolumeclaims")
        && let Ok(limit) = hard.parse::<u32>()
        && count > limit
    {
        let parts: Vec<String> = volumes.iter().map(|(w, n, _)| format!("{w} {n}")).collect();
        problems.push(
            Diagnostic::new(format!(
                "`{path}`: persistentvolumeclaims {hard} cannot hold namespace `{}`'s {count} volume claims ({})",
                ns.name,
                parts.join(" + ")
            ))
            .at(v.loaded.key_span(&path, "persistentvolumeclaims"))
            .expected(format!("persistentvolumeclaims of at least {count}")),
        );
    }
    let bytes: f64 = volumes.iter().map(|(_, _, b)| b).sum();
    if let Some(hard) = ns.quota.get("requests.storage")
        && let Some(limit) = memory(hard)
        && bytes > limit
    {
        let gib = |b: f64| format!("{}Gi", (b / 1073741824.0).ceil());
        let parts: Vec<String> = volumes
            .iter()
            .map(|(w, n, b)| format!("{w} {n} × {}", gib(b / f64::from(*n))))
            .collect();
        problems.push(
            Diagnostic::new(format!(
                "`{path}`: requests.storage {hard} cannot hold namespace `{}`'s volumes, which request {} ({})",
                ns.name,
                gib(bytes),
                parts.join(" + ")
            ))
            .at(v.loaded.key_span(&path, "requests.storage"))
            .expected(format!("requests.storage of at least {}", gib(bytes))),
        );
    }
    for (key, idx) in KEYS {
        let Some(hard) = ns.quota.get(key) else {
            continue;
        };
        let limit = if idx.is_multiple_of(2) {
            cpu(hard)
        } else {
            memory(hard)
        };
        let Some(limit) = limit else { continue };
        let resource = if idx.is_multiple_of(2) {
            "cpu"
        } else {
            "memory"
        };
        let unbounded = unbounded_vpas(ctx, &ns.name, resource);
        if !unbounded.is_empty() {
            problems.push(
                Diagnostic::new(format!(
                    "`{path}`: {key} {hard} cannot be checked against the VerticalPodAutoscaler of {}, which has no `vpa.max.{resource}` and may raise the pods' {resource} requests (and limits) without bound; the API server would refuse the pods past the quota",
                    unbounded.join(", ")
                ))
                .at(v.loaded.key_span(&path, key))
                .help(format!("give `vpa.max.{resource}` to bound the VPA")),
            );
            continue;
        }
        let total: f64 = need.iter().map(|(_, _, f)| f[idx]).sum();
        if total > limit {
            let parts: Vec<String> = need
                .iter()
                .filter(|(_, _, f)| f[idx] > 0.0)
                .map(|(what, n, f)| format!("{what} {n} × {}", show(f[idx] / f64::from(*n), idx)))
                .collect();
            let d = Diagnostic::new(format!(
                "`{path}`: {key} {hard} cannot hold namespace `{}` at its declared maximum, which needs {} ({})",
                ns.name,
                show(total, idx),
                parts.join(" + ")
            ))
            .at(v.loaded.key_span(&path, key))
            .expected(format!("{key} of at least {}", show(total, idx)))
            .help(
                "raise the quota, or lower the autoscaling maxima, replicas, resources or `vpa.max`".to_string(),
            );
            problems.push(d);
        }
    }
    problems.extend(pods_over(v, &path, ns, &need, "at its declared maximum of"));
    problems
}

/// The quota's `pods` against the pods `need` counts (workload, pods, figures), if it is
/// exceeded: `counted` says what was counted ("at its declared maximum of", …), before the
/// total. Shared with the check that adds the `extra:` templates' workloads
/// (`escape::quota`).
pub fn pods_over(
    v: &Validated,
    path: &str,
    ns: &Namespace,
    need: &[(String, u32, Figures)],
    counted: &str,
) -> Option<Diagnostic> {
    let hard = ns.quota.get("pods")?;
    let limit = hard.parse::<u32>().ok()?;
    let total: u32 = need.iter().map(|(_, n, _)| n).sum();
    if total <= limit {
        return None;
    }
    let parts: Vec<String> = need.iter().map(|(w, n, _)| format!("{w} {n}")).collect();
    Some(
        Diagnostic::new(format!(
            "`{path}`: pods {hard} cannot hold namespace `{}` {counted} {total} pods ({})",
            ns.name,
            parts.join(" + ")
        ))
        .at(v.loaded.key_span(path, "pods"))
        .expected(format!("pods of at least {total}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu("250m"), Some(250.0));
        assert_eq!(cpu("1"), Some(1000.0));
        assert_eq!(cpu("0.5"), Some(500.0));
        assert_eq!(memory("1Gi"), Some(1073741824.0));
        assert_eq!(memory("2G"), Some(2e9));
        assert_eq!(memory("512Mi"), Some(536870912.0));
        assert_eq!(memory("1000"), Some(1000.0));
        assert_eq!(show(11250.0, 0), "11250m");
    }
}
