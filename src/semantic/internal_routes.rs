//! `services[].internal_routes`: routes reachable only from inside the network.
//!
//! Built on ECS Fargate (`backend::aws::edge`: a second, internal ALB in the private
//! subnets) and on EKS (`backend::aws::platform::internal_alb`, `k8s::internal_ingress`: an
//! internal ALB of Ingress class `alb` targeting the services' pods, beside whatever the
//! public edge is). Both need `load_balancer`, whose ACM certificate the internal ALB's
//! HTTPS listener uses: ACM validates it by DNS in the public zone whatever the load
//! balancer's scheme, where cert-manager's HTTP-01 challenge, fetched from the internet,
//! never reaches an internal load balancer. Elsewhere the flag is refused rather than
//! ignored, which would publish an admin API on the internet:
//! - EKS with `ingress.gateway`: `load_balancer` is refused beside the Gateway (its TLS
//!   comes from cert-manager), and an internal Gateway's certificate could not come from
//!   HTTP-01 either.
//! - DOKS: DigitalOcean does offer internal load balancers (no public IP, reachable from
//!   the VPC) for a Service annotated `service.beta.kubernetes.io/do-loadbalancer-network:
//!   "INTERNAL"`, on DOKS 1.28.10-do.0 and later, and a load balancer cannot be switched
//!   between regular and internal after creation ("How to Configure Advanced Load Balancer
//!   Settings in Kubernetes Clusters", Internal Load Balancer,
//!   <https://docs.digitalocean.com/products/kubernetes/how-to/configure-load-balancers/>).
//!   Behind it would be a second ingress-nginx (or Gateway), but its certificate has no
//!   source that starts cleanly: HTTP-01 cannot reach it, DigitalOcean's own Let's Encrypt
//!   certificates need the domain's DNS at DigitalOcean, and cert-manager's DNS-01 solver
//!   for DigitalOcean needs an API token with write access to the zone in a Secret, which
//!   nothing in a fresh account creates. Not generated.
//! - Any other cluster: infragen does not know its load balancers.
//!
//! In each case a service with no `routes` stays reachable from the services that `use` it
//! (ClusterIP), and `kubectl port-forward` or a VPN into the cluster's network reaches it.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

/// Why DigitalOcean gets no internal load balancer from infragen, for every field that
/// would ask for one (`internal_routes` here, `load_balancer.internal` in
/// [`super::digitalocean`]).
pub(super) const DO_INTERNAL_LB_NO_CERTIFICATE: &str = "DigitalOcean offers internal load balancers (`service.beta.kubernetes.io/do-loadbalancer-network: \"INTERNAL\"`, DOKS 1.28.10-do.0 and later), but not a certificate for one that can be issued in a fresh account: cert-manager's HTTP-01 challenge never reaches it, DigitalOcean's Let's Encrypt certificates need the domain's DNS at DigitalOcean, and cert-manager's DigitalOcean DNS-01 solver needs an API token with write access to the zone in a Secret that nothing creates";

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
        let eks = c.provider == Provider::Aws
            && matches!(platform, Some(Platform::Eks | Platform::EksFargate));
        // EKS builds it beside ingress-nginx or class `alb`, not beside the Gateway API.
        let built = ecs || (eks && bp.gateway().is_none());
        if !built {
            let do_why = format!(
                "{DO_INTERNAL_LB_NO_CERTIFICATE}; so the second ingress controller behind it is not generated"
            );
            let (why, help) = match (c.provider, platform) {
                (Provider::Aws, _) if eks => (
                    "with `ingress.gateway` on EKS no internal load balancer is built: the internal ALB takes the ACM certificate of `load_balancer`, which is refused beside the Gateway, and an internal Gateway's certificate could not come from cert-manager's HTTP-01 challenge, which never reaches an internal load balancer",
                    "keep ingress-nginx (no `ingress.gateway`) with a `load_balancer`, where `internal_routes` makes an internal ALB; or drop `routes` (the service stays reachable from the services that `use` it; `kubectl port-forward` reaches it from outside)",
                ),
                (Provider::Aws, _) => (
                    "infragen does not know which load balancers this cluster has, so it cannot make an internal one",
                    "drop `routes` (the service stays reachable from the services that `use` it; `kubectl port-forward` reaches it from outside), or run it on ECS Fargate or EKS with a `load_balancer`, where `internal_routes` makes an internal ALB",
                ),
                (Provider::Digitalocean, _) => (
                    do_why.as_str(),
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
                    "internal-only routes for `{}` are built on ECS Fargate and on EKS behind a `load_balancer` only: {why}",
                    s.name
                ),
            )
            .help = Some(help.into());
            continue;
        }
        if eks {
            // The internal ALB matches paths as ALB path patterns (`*` and `?` only): a
            // regular expression would be matched literally, and never match.
            // <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html#path-conditions>
            for (j, r) in s.routes.iter().enumerate() {
                if crate::k8s::is_regex_path(&r.path) {
                    c.error(
                        &format!("services[{i}].routes[{j}].path"),
                        format!(
                            "`{}` is a regular expression, which the internal ALB of `internal_routes` on EKS does not read: ALB path patterns know only `*` and `?`, so it would match nothing",
                            r.path
                        ),
                    )
                    .help = Some("write the route as a plain prefix (`/admin`)".into());
                }
            }
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
/// `load_balancer.internal`; and on EKS to the internal ALB of `internal_routes` (its
/// `inbound-cidrs`). Anywhere else the ranges admit nothing (EKS's internal edge of
/// `load_balancer.internal` and DigitalOcean are given no source ranges from them), and the
/// VPN or office they name reaches no service — said rather than dropped.
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<crate::diagnostic::Note> {
    let Some(lb) = &bp.load_balancer else {
        return Vec::new();
    };
    let platform = bp.platform_on(provider);
    let ecs = provider == Provider::Aws && platform == Some(Platform::EcsFargate);
    let eks = provider == Provider::Aws
        && matches!(platform, Some(Platform::Eks | Platform::EksFargate))
        && bp.gateway().is_none();
    let internal_routes = bp.services.iter().any(|s| s.internal_routes);
    // On EKS the internal ALB of `internal_routes` admits them; a stack whose one load
    // balancer is `internal` is given none there.
    let admitted =
        (ecs && (lb.internal || internal_routes)) || (eks && !lb.internal && internal_routes);
    if lb.internal_cidrs.is_empty() || admitted {
        return Vec::new();
    }
    let why = if ecs || (eks && !lb.internal) {
        "no service sets `internal_routes` and the load balancer is not `internal`, so no internal load balancer exists"
    } else {
        "only the internal ALBs of ECS Fargate and of `internal_routes` on EKS take them"
    };
    vec![crate::diagnostic::Note::warning(
        "internal-cidrs-unused",
        format!(
            "`load_balancer.internal_cidrs` ({}) admits nothing here: {why}; drop the list, or (on ECS Fargate, or EKS behind an internet-facing `load_balancer`) mark the services those networks should reach `internal_routes: true`",
            lb.internal_cidrs.join(", ")
        ),
    )]
}
