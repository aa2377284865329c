//! `services[].internal_routes`: routes reachable only from inside the network.
//!
//! Built on ECS Fargate only (`backend::aws::edge`: a second, internal ALB in the private
//! subnets). Elsewhere the flag is refused rather than ignored, which would publish an admin
//! API on the internet:
//! - EKS: an internal ALB needs its own Ingress group (`alb.ingress.kubernetes.io/scheme:
//!   internal`, a second IngressClass or group name) or a second Gateway whose proxy Service
//!   carries `service.beta.kubernetes.io/aws-load-balancer-scheme: internal`, with
//!   NetworkPolicies admitting that proxy and a certificate not issued by HTTP-01 (Let's
//!   Encrypt cannot reach an internal load balancer); none of this is generated yet.
//! - DOKS: DigitalOcean does offer internal load balancers (no public IP, reachable from
//!   the VPC) for a Service annotated `service.beta.kubernetes.io/do-loadbalancer-network:
//!   "INTERNAL"`, on DOKS 1.28.10-do.0 and later, and a load balancer cannot be switched
//!   between regular and internal after creation ("How to Configure Advanced Load Balancer
//!   Settings in Kubernetes Clusters", Internal Load Balancer,
//!   <https://docs.digitalocean.com/products/kubernetes/how-to/configure-load-balancers/>).
//!   Using it needs a second ingress controller or Gateway whose Service carries it, with
//!   NetworkPolicies admitting its proxy and a certificate not issued by HTTP-01; not
//!   generated yet.
//! - Any other cluster: infragen does not know its load balancers.
//!
//! In each case a service with no `routes` stays reachable from the services that `use` it
//! (ClusterIP), and `kubectl port-forward` or a VPN into the cluster's network reaches it.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if let Some(lb) = &bp.load_balancer {
        // Security group rules take them as `cidr_ipv4`: EC2 refuses anything else at apply.
        for (i, cidr) in lb.internal_cidrs.iter().enumerate() {
            super::network::parse_cidr(c, &format!("load_balancer.internal_cidrs[{i}]"), cidr);
        }
    }
    let platform = bp.cluster.as_ref().map(|cl| cl.platform);
    for (i, s) in bp.services.iter().enumerate() {
        if !s.internal_routes {
            continue;
        }
        let path = format!("services[{i}].internal_routes");
        if s.routes.is_empty() {
            c.error(
                &path,
                format!(
                    "service `{}` has no `routes` to serve internally: without routes it is already reachable only from the services that `use` it",
                    s.name
                ),
            )
            .help = Some("remove `internal_routes`, or give the service `routes`".into());
            continue;
        }
        let ecs = c.provider == Provider::Aws && platform == Some(Platform::EcsFargate);
        if !ecs {
            let (why, help) = match (c.provider, platform) {
                (Provider::Aws, _) => (
                    "on EKS the internal load balancer (a second Ingress group or Gateway with the `internal` scheme, NetworkPolicies admitting its proxy, a certificate not issued by HTTP-01, which cannot reach an internal load balancer) is not generated yet",
                    "drop `routes` (the service stays reachable from the services that `use` it; `kubectl port-forward` reaches it from outside), or run it on ECS Fargate, where `internal_routes` makes an internal ALB",
                ),
                (Provider::Digitalocean, _) => (
                    "DigitalOcean offers internal load balancers (`service.beta.kubernetes.io/do-loadbalancer-network: \"INTERNAL\"`, DOKS 1.28.10-do.0 and later), but the second ingress controller or Gateway behind one (with NetworkPolicies admitting its proxy and a certificate not issued by HTTP-01, which cannot reach it) is not generated yet",
                    "drop `routes`: the service stays reachable from the services that `use` it, and from outside through `kubectl port-forward` or a VPN into the cluster's VPC",
                ),
                _ => (
                    "infragen does not know which load balancers this cluster has, so it cannot make an internal one",
                    "drop `routes`: the service stays reachable from the services that `use` it (ClusterIP), and from outside through `kubectl port-forward` or your network's VPN",
                ),
            };
            c.error(
                &path,
                format!(
                    "internal-only routes for `{}` are built on ECS Fargate only: {why}",
                    s.name
                ),
            )
            .help = Some(help.into());
            continue;
        }
        let Some(lb) = &bp.load_balancer else {
            c.error(
                &path,
                format!(
                    "service `{}`: internal routes are served by an internal load balancer beside the stack's, which needs `load_balancer` (its certificate and settings)",
                    s.name
                ),
            )
            .help = Some("add `load_balancer: { certificate: { domain: <host> } }`".into());
            continue;
        };
        // The internal ALB's HTTPS listener has the stack's certificate: a host it does not
        // cover would fail every TLS handshake.
        let Some(domain) = &lb.certificate.domain else {
            continue;
        };
        let names: Vec<&str> = std::iter::once(domain.as_str())
            .chain(lb.certificate.alternative_names.iter().map(String::as_str))
            .collect();
        for (j, r) in s.routes.iter().enumerate() {
            let Some(host) = &r.host else { continue };
            if !names.iter().any(|n| super::routes::covers(n, host)) {
                c.error(
                    &format!("services[{i}].routes[{j}].host"),
                    format!(
                        "host `{host}` is not covered by the load balancer's certificate (`{}`), which the internal load balancer's HTTPS listener uses too",
                        names.join("`, `")
                    ),
                )
                .help = Some(format!(
                    "add `{host}` to `load_balancer.certificate.alternative_names` (ACM validates it by DNS in the public zone; the record pointing at the internal load balancer can be in a private zone)"
                ));
            }
        }
    }
}

/// `load_balancer.internal_cidrs` admits networks to an internal ALB on ECS Fargate
/// (`backend::aws::edge`): the second one `internal_routes` makes, or the stack's own with
/// `load_balancer.internal`. Anywhere else the ranges admit nothing (EKS's controller and
/// DigitalOcean are given no source ranges from them), and the VPN or office they name
/// reaches no service — said rather than dropped.
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<crate::diagnostic::Note> {
    let Some(lb) = &bp.load_balancer else {
        return Vec::new();
    };
    let ecs = provider == Provider::Aws && bp.platform_on(provider) == Some(Platform::EcsFargate);
    let internal_alb = lb.internal || bp.services.iter().any(|s| s.internal_routes);
    if lb.internal_cidrs.is_empty() || (ecs && internal_alb) {
        return Vec::new();
    }
    let why = if ecs {
        "no service sets `internal_routes` and the load balancer is not `internal`, so no internal load balancer exists"
    } else {
        "only an internal ALB on ECS Fargate takes them"
    };
    vec![crate::diagnostic::Note::warning(
        "internal-cidrs-unused",
        format!(
            "`load_balancer.internal_cidrs` ({}) admits nothing here: {why}; drop the list, or (on ECS Fargate) mark the services those networks should reach `internal_routes: true`",
            lb.internal_cidrs.join(", ")
        ),
    )]
}
