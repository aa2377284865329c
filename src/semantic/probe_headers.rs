//! `probes.<kind>.headers`: headers of the kubelet's HTTP GET. A framework that answers only
//! its own host names (Django's `ALLOWED_HOSTS` answers 400, Rails' host authorization 403)
//! refuses the kubelet's request, whose Host is the pod's IP, so the pod never gets ready
//! unless the probe names a host (`httpHeaders`,
//! <https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#http-probes>).
//!
//! Refused where they cannot be sent: on a probe that is no HTTP GET (a `command`, or a TCP
//! check without `path`); with a name that is not an HTTP header name (the API server
//! refuses it); and where an ALB checks the same path without them — ECS target groups and
//! Ingress class `alb` take the service's readiness (else liveness) path when
//! `load_balancer.health_check` gives none, and an ALB health check sends no headers of
//! its own, so it would get the answer the headers avoid and keep every target unhealthy.
//! Not so for a gRPC service: its target group calls the gRPC health service whatever the
//! probes say (`backend::aws::edge::target_group_body`, `k8s::service::alb_health_check`),
//! so an HTTP probe on an admin port may send its headers.

use super::Checker;
use crate::blueprint::types::{Blueprint, IngressClass, Platform, Probe, Service};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        let probes: [(&str, &Option<Probe>); 3] = [
            ("liveness", &s.probes.liveness),
            ("readiness", &s.probes.readiness),
            ("startup", &s.probes.startup),
        ];
        for (kind, p) in probes {
            let Some(p) = p.as_ref().filter(|p| !p.headers.is_empty()) else {
                continue;
            };
            let at = format!("services[{i}].probes.{kind}.headers");
            if !p.command.is_empty() || p.path.is_none() {
                // Without a path a gRPC service's probe is Kubernetes' `grpc` check, whose
                // `GRPCAction` has no headers either (only `port` and `service`).
                let what = if !p.command.is_empty() {
                    "runs a command"
                } else if s.grpc() {
                    "calls the gRPC health service"
                } else {
                    "checks a TCP port"
                };
                c.error(
                    &at,
                    format!("headers go with an HTTP probe (`path`); this probe {what}, which sends none"),
                )
                .help = Some(if s.grpc() && p.command.is_empty() {
                    "drop `headers`, or give the probe a `path` and the `port` of an HTTP endpoint the server also serves".into()
                } else {
                    "give the probe a `path`, or drop `headers`".into()
                });
                continue;
            }
            for name in p.headers.keys() {
                if !header_name(name) {
                    c.error(
                        &format!("{at}.{name}"),
                        format!("`{name}` is not an HTTP header name (letters, digits and `!#$%&'*+-.^_`|~`), which the API server refuses"),
                    );
                }
            }
            if alb_checks(c, bp, s, kind) {
                c.error(
                    &at,
                    format!(
                        "the load balancer checks this {kind} path too, and an ALB health check sends no headers: it would get the answer the headers avoid and keep every target unhealthy"
                    ),
                )
                .help = Some(
                    "give `load_balancer.health_check` a path the application answers for any host (or a `matcher` such as `200,400`), then keep the headers"
                        .into(),
                );
            }
        }
    }
}

/// An RFC 9110 token: what Kubernetes accepts as an `httpHeaders[].name`.
fn header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(ch))
}

/// Whether an ALB health check takes this probe's path: on ECS (its target group) or behind
/// Ingress class `alb` on EKS, for a routed service, when `load_balancer.health_check` gives
/// no path of its own — the probe [`Service::alb_probe`] picks, as the back-ends do. Never
/// for a gRPC service, whose checks call `grpc.health.v1.Health/Check`.
fn alb_checks(c: &Checker, bp: &Blueprint, s: &Service, kind: &str) -> bool {
    if c.provider != Provider::Aws || s.routes.is_empty() {
        return false;
    }
    if bp
        .load_balancer
        .as_ref()
        .is_some_and(|lb| lb.health_check.is_some())
    {
        return false;
    }
    let platform = bp.platform();
    let alb = match platform {
        Some(Platform::EcsFargate) => true,
        Some(Platform::Eks | Platform::EksFargate) => bp
            .ingress
            .as_ref()
            .is_some_and(|i| i.enabled && i.gateway.is_none() && i.class == IngressClass::Alb),
        _ => false,
    };
    // The path the back-ends hand the ALB (`Service::alb_probe`), from this probe?
    let ecs = platform == Some(Platform::EcsFargate);
    alb && s.alb_probe(ecs).is_some_and(|(k, _)| k == kind)
}
