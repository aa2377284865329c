//! Namespace ResourceQuotas against the workloads `extra:` templates add.
//!
//! The quota check at synth (`crate::k8s::quota`) holds a namespace's quota against
//! infragen's own workloads; the templates render afterwards. A quota counts every pod of
//! the namespace, so a template's StatefulSet could push it past `hard` (the API server then
//! refuses its pods, "exceeded quota"), and a quota on CPU or memory "requires that every
//! incoming container makes an explicit request for those resources" (or limit), so a
//! template pod that sets none is refused outright unless a LimitRange gives it defaults
//! (kubernetes.io/docs/concepts/policy/resource-quotas, "Compute Resource Quota";
//! kubernetes.io/docs/concepts/policy/limit-range). Both are refused here, at the quota.
//!
//! A template workload counts at its declared size: a Deployment, StatefulSet or ReplicaSet
//! at `replicas` (1 when unset; a Deployment's rolling-update surge pods too, where it may
//! take no pod down first), a Job at `parallelism`, a CronJob's Job twice unless
//! `concurrencyPolicy: Forbid` (as infragen's jobs count), a Pod once. A DaemonSet's pods
//! (one a node) and a template HorizontalPodAutoscaler's maximum are not counted.

use serde_json::Value;

use crate::analysis::Validated;
use crate::blueprint::types::{LimitRange, Namespace};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::k8s::quota::{Figures, KEYS, cpu, memory, own_demand, show};
use crate::output::Output;

/// Refuse a namespace quota the output's `extra:` workloads do not fit in, or whose
/// compute keys a template container leaves unset.
pub fn check(v: &Validated, out: &Output) -> Result<(), Diagnostics> {
    let Some(k) = &v.bp.kubernetes else {
        return Ok(());
    };
    let docs = extra_docs(out);
    if docs.is_empty() {
        return Ok(());
    }
    let mut ds = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // The last declaration of a name wins (as in `crate::k8s::namespace`).
    for (i, ns) in k.namespaces.iter().enumerate().rev() {
        if !seen.insert(ns.name.as_str()) || ns.quota.is_empty() {
            continue;
        }
        let mine: Vec<&(String, Value)> = docs
            .iter()
            .filter(|(_, d)| d["metadata"]["namespace"] == ns.name.as_str())
            .collect();
        if !mine.is_empty() {
            ds.extend(check_namespace(v, i, ns, &mine));
        }
    }
    if ds.is_empty() {
        Ok(())
    } else {
        Err(v.loaded.diagnostics(ds))
    }
}

/// Every document of the output's rendered manifests (`k8s/<ns>/extra-*.yaml`), with its file.
fn extra_docs(out: &Output) -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for (path, text) in &out.files {
        let extra = path.starts_with("k8s/")
            && path
                .rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("extra-"));
        if !extra {
            continue;
        }
        for d in yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_default() {
            if let Ok(v) = crate::check::kubernetes::to_json(&d) {
                docs.push((path.clone(), v));
            }
        }
    }
    docs
}

/// A workload's pods at its declared size and its pod spec; `None` for anything else.
fn pods(doc: &Value) -> Option<(u32, &Value)> {
    let count = |v: &Value| v.as_u64().map_or(1, |n| n as u32);
    let spec = &doc["spec"];
    Some(match doc["kind"].as_str()? {
        "Pod" => (1, spec),
        "Deployment" => {
            let n = count(&spec["replicas"]);
            (n + surge(spec, n), &spec["template"]["spec"])
        }
        "StatefulSet" | "ReplicaSet" => (count(&spec["replicas"]), &spec["template"]["spec"]),
        "Job" => (count(&spec["parallelism"]), &spec["template"]["spec"]),
        "CronJob" => {
            let job = &spec["jobTemplate"]["spec"];
            let runs = if spec["concurrencyPolicy"] == "Forbid" {
                1
            } else {
                2
            };
            (count(&job["parallelism"]) * runs, &job["template"]["spec"])
        }
        _ => return None,
    })
}

/// The pods a Deployment's rolling update adds before it takes one down (as
/// `crate::k8s::quota::surge` for infragen's own): `maxSurge` where `maxUnavailable` rounds
/// down to 0 (Kubernetes' defaults, 25 % each).
fn surge(spec: &Value, n: u32) -> u32 {
    let strategy = &spec["strategy"];
    if strategy["type"] == "Recreate" || n == 0 {
        return 0;
    }
    let share = |v: &Value, up: bool| -> u32 {
        match (v.as_u64(), v.as_str().and_then(|s| s.strip_suffix('%'))) {
            (Some(x), _) => x as u32,
            (_, Some(p)) => {
                let exact = f64::from(n) * p.parse::<f64>().unwrap_or(25.0) / 100.0;
                (if up { exact.ceil() } else { exact.floor() }) as u32
            }
            _ => {
                let exact = f64::from(n) / 4.0;
                (if up { exact.ceil() } else { exact.floor() }) as u32
            }
        }
    };
    let ru = &strategy["rollingUpdate"];
    if share(&ru["maxUnavailable"], false) > 0 {
        return 0;
    }
    share(&ru["maxSurge"], true)
}

/// A container's figures as admission sees them: a request left unset takes the container's
/// limit, then the LimitRange's `defaultRequest`, then its `default`; a limit left unset the
/// LimitRange's `default`. `None` in a slot nothing sets.
fn container(c: &Value, lr: Option<&LimitRange>) -> [Option<f64>; 4] {
    let r = &c["resources"];
    let q = |v: &Value, i: usize| {
        v.as_str()
            .map(String::from)
            .or_else(|| v.as_u64().map(|n| n.to_string()))
            .or_else(|| v.as_f64().map(|n| n.to_string()))
            .and_then(|s| if i == 0 { cpu(&s) } else { memory(&s) })
    };
    let lr_q = |pick: fn(&LimitRange) -> &crate::blueprint::types::Quantity, i: usize| {
        let q = pick(lr?);
        let s = if i == 0 {
            q.cpu.as_deref()
        } else {
            q.memory.as_deref()
        }?;
        if i == 0 { cpu(s) } else { memory(s) }
    };
    let mut f = [None; 4];
    for (i, name) in [(0, "cpu"), (1, "memory")] {
        let limit = q(&r["limits"][name], i);
        f[i + 2] = limit.or_else(|| lr_q(|l| &l.default, i));
        f[i] = q(&r["requests"][name], i)
            .or(limit)
            .or_else(|| lr_q(|l| &l.default_request, i))
            .or_else(|| lr_q(|l| &l.default, i));
    }
    f
}

fn check_namespace(
    v: &Validated,
    i: usize,
    ns: &Namespace,
    docs: &[&(String, Value)],
) -> Vec<Diagnostic> {
    let path = format!("kubernetes.namespaces[{i}].quota");
    let mut problems = Vec::new();
    let mut need: Vec<(String, u32, Figures)> = own_demand(v, &ns.name);
    let own = need.len();
    for (file, doc) in docs {
        let Some((n, spec)) = pods(doc) else { continue };
        let what = format!(
            "{} {} ({file})",
            doc["kind"].as_str().unwrap_or("?"),
            doc["metadata"]["name"].as_str().unwrap_or("?")
        );
        let mut running = [0.0; 4];
        let mut init = [0.0f64; 4];
        let mut unset: Vec<String> = Vec::new();
        for (key, list) in [("containers", &mut running), ("initContainers", &mut init)] {
            for c in spec[key].as_array().into_iter().flatten() {
                let f = container(c, ns.limit_range.as_ref());
                for (slot, value) in f.iter().enumerate() {
                    match value {
                        Some(x) if key == "containers" => list[slot] += x,
                        Some(x) => list[slot] = list[slot].max(*x),
                        None => {
                            // Only the quota's own keys make a value required.
                            for (qk, idx) in KEYS {
                                if idx == slot && ns.quota.contains_key(qk) {
                                    unset.push(format!(
                                        "container `{}` sets no `resources.{}.{}`",
                                        c["name"].as_str().unwrap_or("?"),
                                        if slot < 2 { "requests" } else { "limits" },
                                        if slot % 2 == 0 { "cpu" } else { "memory" }
                                    ));
                                    break;
                                }
                            }
                        }
                    }
                }
            }
        }
        unset.dedup();
        if !unset.is_empty() {
            let keys: Vec<&str> = KEYS
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| ns.quota.contains_key(*k))
                .collect();
            let key = keys[0];
            problems.push(
                Diagnostic::new(format!(
                    "`{path}`: namespace `{}`'s quota on {} refuses every pod of the `extra:` template's {what}: {}",
                    ns.name,
                    keys.join(", "),
                    unset.join(", ")
                ))
                .at(v.loaded.key_span(&path, key))
                .expected("every container of the template's pods setting the requests and limits the quota counts")
                .help("set `resources` on the template's containers, or give the namespace defaults (`kubernetes.namespaces[].limit_range.default` and `default_request`)"),
            );
            continue;
        }
        let pod: Figures = std::array::from_fn(|k| running[k].max(init[k]));
        need.push((what, n, pod.map(|x| x * f64::from(n))));
    }
    if need.len() == own {
        return problems;
    }
    for (key, idx) in KEYS {
        let Some(hard) = ns.quota.get(key) else {
            continue;
        };
        let limit = if idx % 2 == 0 {
            cpu(hard)
        } else {
            memory(hard)
        };
        let Some(limit) = limit else { continue };
        let total: f64 = need.iter().map(|(_, _, f)| f[idx]).sum();
        if total > limit {
            let parts: Vec<String> = need
                .iter()
                .filter(|(_, _, f)| f[idx] > 0.0)
                .map(|(w, n, f)| format!("{w} {n} × {}", show(f[idx] / f64::from(*n), idx)))
                .collect();
            problems.push(
                Diagnostic::new(format!(
                    "`{path}`: {key} {hard} cannot hold namespace `{}` with the `extra:` templates' workloads, which with infragen's own need {} ({})",
                    ns.name,
                    show(total, idx),
                    parts.join(" + ")
                ))
                .at(v.loaded.key_span(&path, key))
                .expected(format!("{key} of at least {}", show(total, idx)))
                .help("raise the quota to hold the template's pods too, or lower their replicas or resources"),
            );
        }
    }
    problems.extend(crate::k8s::quota::pods_over(
        v,
        &path,
        ns,
        &need,
        "with the `extra:` templates' workloads,",
    ));
    problems
}
