//! `services[].idle_timeout`: how long a WebSocket, a server-sent event stream or a long poll
//! to the service may stay silent. Each hop infragen configures in front of a routed service
//! is raised to it (docs/connections-long-lived.md); a value past what the slowest hop
//! accepts would be cut there whatever infragen writes, so it is refused where it is written:
//!
//! - an ALB (ECS, EKS class `alb`, EKS ingress-nginx behind `load_balancer`): idle timeout
//!   1–4000 s (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout>);
//! - the Network Load Balancer in front of ingress-nginx on EKS without `load_balancer`:
//!   its TCP listeners' idle timeout, 350 s by default, takes 60–6000 s
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html>);
//! - the DigitalOcean load balancer in front of ingress-nginx on DOKS: its
//!   `do-loadbalancer-http-idle-timeout-seconds` takes 30–600 s
//!   (<https://docs.digitalocean.com/products/kubernetes/how-to/configure-load-balancers/>);
//! - Envoy Gateway's proxies: Envoy resets a stream silent for its HTTP connection manager's
//!   `stream_idle_timeout`, 5 minutes by default, which infragen does not change
//!   (<https://www.envoyproxy.io/docs/envoy/latest/faq/configuration/timeouts>).
//!
//! On `--provider kubernetes` the load balancer in front of the cluster is not infragen's:
//! only ingress-nginx's timeouts are written, and no bound applies; nor does one on EKS or
//! DOKS where class `nginx` has no ingress-nginx of infragen's (`ingress_controller`
//! refuses that blueprint for its own reason). A service without routes is reached through
//! no edge (on ECS through Service Connect, whose API takes up to 2147483647), and so is
//! every service on Kubernetes with `ingress.enabled: false`. A worker (no `port`) takes no
//! connection: its `idle_timeout` would be dropped, so it is refused.

use super::Checker;
use crate::blueprint::types::{Blueprint, IngressClass, Platform, Service};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let edge = edge_bound(c.provider, bp);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(t) = s.idle_timeout else { continue };
        let path = format!("services[{i}].idle_timeout");
        // A worker (no `port`) accepts no connection: no load balancer, Ingress or Service
        // Connect entry is made for it, so the value would be dropped. On ECS its Service
        // Connect configuration is client-only, and the timeouts are a server entry's
        // (`ServiceConnectService.timeout`,
        // <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html>):
        // no hop on its outbound connections takes it either.
        if s.port.is_none() {
            let d = c.error(
                &path,
                format!(
                    "`{}` serves no port (a worker): no connection comes in to it, and no hop infragen configures would carry this idle timeout",
                    s.name
                ),
            );
            d.expected = Some("`idle_timeout` only on a service with a `port`".into());
            d.help = Some("drop `idle_timeout`: a worker's outbound connections are its own (set the client library's keep-alive or timeouts)".into());
            continue;
        }
        if t == 0 {
            let d = c.error(&path, "an idle timeout of 0 seconds would cut every connection at once (no hop reads 0 as \"never\" here)");
            d.expected = Some("seconds, at least 1".into());
            d.help = Some("give the longest silence a connection to the service may keep, in seconds, or drop `idle_timeout` to keep each hop's default".into());
            continue;
        }
        // No edge in front: no route, or `ingress.enabled: false` on Kubernetes.
        if s.routes.is_empty() || !bp.routes_reach_an_edge(c.provider) {
            service_connect_bound(c, bp, s, &path, t);
            continue;
        }
        if let Some((max, hop, help)) = edge
            && t > max
        {
            let d = c.error(
                &path,
                format!(
                    "`{}` asks for connections silent up to {t} seconds, but {hop} cuts them after {max} at most",
                    s.name
                ),
            );
            d.expected = Some(format!("seconds, 1–{max}"));
            let ping = format!(
                "have the client or the server send a ping more often than every {max} seconds (a Phoenix channel's client heartbeat is 30 s) and set `idle_timeout: {max}` or less"
            );
            d.help = Some(match help {
                Some(h) => format!("{h}, or {ping}"),
                None => ping,
            });
        }
    }
}

/// A service no route brings through the ALB on ECS is reached through Service Connect
/// only (`service_connect`), whose idle timeout the value raises, and the API takes up to
/// 2147483647 seconds (`TimeoutConfiguration.idleTimeoutSeconds`, "Valid Range: Minimum
/// value of 0. Maximum value of 2147483647",
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html>).
/// A routed service is held to the ALB's 4000 first.
fn service_connect_bound(c: &mut Checker, bp: &Blueprint, s: &Service, path: &str, t: u32) {
    if c.provider != Provider::Aws
        || bp.platform() != Some(Platform::EcsFargate)
        || t <= SERVICE_CONNECT_MAX
    {
        return;
    }
    let d = c.error(
        path,
        format!(
            "`{}` asks for connections silent up to {t} seconds, but Service Connect's idle timeout (ECS `TimeoutConfiguration.idleTimeoutSeconds`) takes at most {SERVICE_CONNECT_MAX}",
            s.name
        ),
    );
    d.expected = Some(format!("seconds, 1–{SERVICE_CONNECT_MAX}"));
    d.help = Some(format!(
        "set `idle_timeout: {SERVICE_CONNECT_MAX}` or less (about 68 years)"
    ));
}

/// The largest `idleTimeoutSeconds` the ECS API takes (a signed 32-bit integer).
const SERVICE_CONNECT_MAX: u32 = 2_147_483_647;

/// The longest silence the edge in front of routed services accepts: the bound, the hop that
/// sets it, and a way around it.
fn edge_bound(
    provider: Provider,
    bp: &Blueprint,
) -> Option<(u32, &'static str, Option<&'static str>)> {
    let ingress = bp.ingress.as_ref().filter(|i| i.enabled);
    let alb = (
        4000,
        "the ALB (its idle timeout takes 1–4000 seconds)",
        None,
    );
    if ingress.is_some_and(|i| i.gateway.is_some()) {
        return Some((
            300,
            "Envoy Gateway's proxy (Envoy resets a stream idle for its 5-minute stream idle timeout)",
            Some("use ingress-nginx (no `ingress.gateway`) for a longer silence"),
        ));
    }
    // Class `nginx` on EKS or DOKS without infragen's ingress-nginx is refused by
    // `ingress_controller` (nothing would serve it): no NLB, DigitalOcean load balancer or
    // ALB would stand in front of it, so naming one here would be a second, false refusal.
    let class_nginx = ingress.is_some_and(|i| i.class == IngressClass::Nginx);
    let nginx_installed = bp.ingress_nginx().is_some();
    let nginx_served = !class_nginx || nginx_installed;
    match (provider, bp.platform_on(provider)) {
        (Provider::Aws, Some(Platform::EcsFargate)) => Some(alb),
        (Provider::Aws, Some(Platform::Eks | Platform::EksFargate)) if !nginx_served => None,
        (Provider::Digitalocean, _) if !nginx_installed => None,
        (Provider::Aws, Some(Platform::Eks | Platform::EksFargate)) => {
            let class_alb = ingress.is_some_and(|i| i.class == IngressClass::Alb);
            if class_alb || bp.load_balancer.is_some() {
                Some(alb)
            } else {
                Some((
                    6000,
                    "the Network Load Balancer in front of ingress-nginx (its TCP idle timeout takes 60–6000 seconds)",
                    None,
                ))
            }
        }
        (Provider::Digitalocean, _) => Some((
            600,
            "the DigitalOcean load balancer (`do-loadbalancer-http-idle-timeout-seconds` takes 30–600)",
            None,
        )),
        _ => None,
    }
}
