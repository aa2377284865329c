//! Namespaces with Pod Security Admission labels, and their ResourceQuota and LimitRange:
//! `k8s/<namespace>/namespace.yaml`. Every namespace the blueprint declares, plus any
//! namespace a workload runs in without being declared (restricted by default).

use std::collections::BTreeMap;

use super::quantity::canonical;
use super::yaml::{Map, map};
use super::{Ctx, Files};
use crate::blueprint::types::{Namespace, PodSecurityLevel, Quantity};

pub(crate) fn level(l: PodSecurityLevel) -> &'static str {
    match l {
        PodSecurityLevel::Restricted => "restricted",
        PodSecurityLevel::Baseline => "baseline",
        PodSecurityLevel::Privileged => "privileged",
    }
}

/// `cpu` / `memory` entries of a quantity, when given, in the form the API server stores
/// (see `quantity.rs`).
pub(crate) fn quantity(q: &Quantity) -> Map<'_> {
    Map::new()
        .opt("cpu", q.cpu.as_deref().map(canonical))
        .opt("memory", q.memory.as_deref().map(canonical))
}

/// The labels of a namespace: the declared ones, its Pod Security Admission level (declared,
/// else `restricted`) for every mode, and infragen's common labels.
pub(crate) fn labels(ns: Option<&Namespace>) -> Vec<(String, String)> {
    let psa = level(ns.map_or(PodSecurityLevel::Restricted, |n| n.pod_security));
    let mut l: Vec<(String, String)> = ns
        .map(|n| n.labels.clone().into_iter().collect())
        .unwrap_or_default();
    for mode in ["enforce", "audit", "warn"] {
        l.push((
            format!("pod-security.kubernetes.io/{mode}"),
            psa.to_string(),
        ));
    }
    l
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    // Declared namespaces (the last declaration of a name wins), then undeclared ones
    // (`None`: no labels, quota or limits, restricted).
    let mut all: BTreeMap<&str, Option<&Namespace>> = ctx
        .platform
        .namespaces
        .iter()
        .map(|n| (n.name.as_str(), Some(n)))
        .collect();
    for ns in ctx.app_namespaces() {
        all.entry(ns).or_insert(None);
    }
    let gated = super::readiness_gate::namespaces(ctx);
    for (name, ns) in all {
        if matches!(name, "kube-system" | "default") {
            continue;
        }
        let docs = files.at(&ctx.path(name, "namespace"));
        // The platform's Terraform owns the Helm releases' namespaces, and those that must
        // hold Secrets before the manifests apply (and their labels); their quota and limits
        // stay here.
        if !ctx.opts.platform_namespaces.iter().any(|n| n == name) {
            let mut labels: Map = Map::new();
            for (k, v) in self::labels(ns) {
                labels.insert(k, v);
            }
            if gated.contains(name) {
                // Rollouts wait for their load balancer targets' health (`readiness_gate`).
                labels.insert(super::readiness_gate::INJECT_LABEL, "enabled");
            }
            ctx.add_common_labels(&mut labels);
            docs.push(map! {
                "apiVersion" => "v1",
                "kind" => "Namespace",
                "metadata" => map! {"name" => name, "labels" => labels},
            });
        }
        let Some(ns) = ns else {
            continue;
        };
        if !ns.quota.is_empty() {
            docs.push(map! {
                "apiVersion" => "v1",
                "kind" => "ResourceQuota",
                "metadata" => ctx.meta(format!("{}-quota", ctx.bp.name), name, Map::new()),
                // Every value of `hard` is a quantity, stored canonically (`quantity.rs`).
                "spec" => map! {"hard" => ns.quota.iter().fold(Map::new(), |m, (k, v)| m.with(k.as_str(), canonical(v)))},
            });
        }
        if let Some(lr) = &ns.limit_range {
            let limit = map! {"type" => "Container"}
                .nonempty("default", quantity(&lr.default))
                .nonempty("defaultRequest", quantity(&lr.default_request))
                .nonempty("max", quantity(&lr.max));
            docs.push(map! {
                "apiVersion" => "v1",
                "kind" => "LimitRange",
                "metadata" => ctx.meta(format!("{}-limits", ctx.bp.name), name, Map::new()),
                "spec" => map! {"limits" => vec![limit]},
            });
        }
    }
}
