//! The internal Ingress (`k8s/<namespace>/ingress-internal.yaml`) of the services marked
//! `internal_routes`, where the platform builds an internal load balancer
//! ([`super::Options::internal_load_balancer`]; EKS: an ALB of class `alb` with the
//! `internal` scheme, in the public subnets where no pod takes an address). It routes straight to the services' pods (IP
//! targets), so no proxy of the public edge ever carries their requests, and their
//! NetworkPolicies admit the load balancer's subnets only (`network_policy`).
//!
//! One Ingress per namespace with internal services; several share one ALB through an
//! IngressGroup named after it (`group.name`), ordered so a namespace's catch-all never
//! shadows another's longer path (as `ingress::group_order`).
//! <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#ingressgroup>

use std::collections::BTreeMap;

use super::blue_green;
use super::yaml::{Map, map};
use super::{Ctx, Files, Workload};
use crate::blueprint::types::{PathType, Strategy};

const ALB: &str = "alb.ingress.kubernetes.io";

fn path_type(p: PathType) -> &'static str {
    match p {
        PathType::Prefix => "Prefix",
        PathType::Exact => "Exact",
        PathType::ImplementationSpecific => "ImplementationSpecific",
    }
}

/// The Ingress's name: the public one's (`ingress.name`, else the blueprint's) with
/// `-internal`.
pub fn name(ctx: &Ctx) -> String {
    let base = ctx
        .bp
        .ingress
        .as_ref()
        .and_then(|i| i.name.clone())
        .unwrap_or_else(|| ctx.bp.name.clone());
    format!("{base}-internal")
}

/// A route's path and its Ingress path entry.
type Path<'c> = (&'c str, Map<'c>);

/// Whether the action routes `s` (a blue/green service behind an ALB, `alb`).
fn weighted(s: &Workload, alb: bool) -> bool {
    alb && s.strategy() == Strategy::BlueGreen
}

/// A route's backend: the service's Service, or for a blue/green service the weighted
/// forward action over its colours' Services (`blue_green`).
fn backend<'c>(s: &'c Workload, alb: bool) -> Map<'c> {
    if weighted(s, alb) {
        return blue_green::backend(s);
    }
    map! {
        "name" => s.service_name.as_str(),
        "port" => map! {"number" => s.service_port()},
    }
}

/// One rule per host (a route without `host` matches any host the load balancer is
/// reached by), paths longest first.
fn rules<'c>(services: &[&'c Workload], alb: bool) -> Vec<Map<'c>> {
    let mut by_host: BTreeMap<Option<&str>, Vec<Path>> = BTreeMap::new();
    for s in services {
        for r in &s.bp.routes {
            by_host.entry(r.host.as_deref()).or_default().push((
                r.path.as_str(),
                map! {
                    "path" => r.path.as_str(),
                    "pathType" => path_type(r.path_type),
                    "backend" => map! {"service" => backend(s, alb)},
                },
            ));
        }
    }
    // Host rules first: the controller places rules in this order, and a hostless `/`
    // above them would take their requests.
    let mut hosts: Vec<(Option<&str>, Vec<Path>)> = by_host.into_iter().collect();
    hosts.sort_by_key(|(h, _)| h.is_none());
    hosts
        .into_iter()
        .map(|(host, mut paths)| {
            paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
            let http = map! {"paths" => paths.into_iter().map(|(_, m)| m).collect::<Vec<_>>()};
            let mut rule = Map::new();
            if let Some(h) = host {
                rule.insert("host", h);
            }
            rule.with("http", http)
        })
        .collect()
}

/// The hosts the controller discovers the HTTPS listener's ACM certificate by, when no
/// `certificate-arn` names it: the routes' hosts, and the certificate's own domain for a
/// route with none (a hostless rule gives the discovery nothing to match).
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/cert_discovery/>
fn tls_hosts<'c>(ctx: &'c Ctx, services: &[&'c Workload]) -> Vec<&'c str> {
    let mut hosts: Vec<&str> = Vec::new();
    let mut hostless = false;
    for r in services.iter().flat_map(|s| &s.bp.routes) {
        match &r.host {
            Some(h) => hosts.push(h),
            None => hostless = true,
        }
    }
    if hostless
        && let Some(domain) = ctx
            .bp
            .load_balancer
            .as_ref()
            .and_then(|l| l.certificate.domain.as_deref())
    {
        hosts.push(domain);
    }
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    let Some(lb) = &ctx.opts.internal_load_balancer else {
        return;
    };
    let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for s in ctx.services.iter().filter(|s| s.internal) {
        by_ns.entry(s.namespace.as_str()).or_default().push(s);
    }
    let several = by_ns.len() > 1;
    let name = name(ctx);
    for (ns, services) in by_ns {
        let mut annotations = lb.annotations.clone();
        if several {
            let group = annotations
                .get(&format!("{ALB}/load-balancer-name"))
                .cloned()
                .unwrap_or_else(|| name.clone())
                .to_ascii_lowercase();
            annotations.insert(format!("{ALB}/group.name"), group);
            annotations.insert(
                format!("{ALB}/group.order"),
                super::ingress::group_order(&services),
            );
        }
        let alb = lb.class == "alb";
        for s in services.iter().filter(|s| weighted(s, alb)) {
            let (key, action) = blue_green::action_annotation(s);
            annotations.insert(key, action);
        }
        let mut spec = map! {"ingressClassName" => lb.class.as_str()};
        if !annotations.contains_key(&format!("{ALB}/certificate-arn")) {
            let hosts = tls_hosts(ctx, &services);
            if !hosts.is_empty() {
                spec.insert("tls", vec![map! {"hosts" => hosts}]);
            }
        }
        spec.insert("rules", rules(&services, alb));
        let meta = ctx
            .meta(name.clone(), ns, Map::new())
            .with("annotations", annotations);
        files.at(&ctx.path(ns, "ingress-internal")).push(map! {
            "apiVersion" => "networking.k8s.io/v1",
            "kind" => "Ingress",
            "metadata" => meta,
            "spec" => spec,
        });
    }
}
