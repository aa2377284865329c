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
//! only ingress-nginx's timeouts are written, and no bound applies. A service without routes
//! is reached through no edge (on ECS through Service Connect, which takes any value), and
//! so is every service on Kubernetes with `ingress.enabled: false`.

use super::Checker;
use crate::blueprint::types::{Blueprint, IngressClass, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let edge = edge_bound(c.provider, bp);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(t) = s.idle_timeout else { continue };
        let path = format!("services[{i}].idle_timeout");
        if t == 0 {
            let d = c.error(&path, "an idle timeout of 0 seconds would cut every connection at once (no hop reads 0 as \"never\" here)");
            d.expected = Some("seconds, at least 1".into());
            d.help = Some("give the longest silence a connection to the service may keep, in seconds, or drop `idle_timeout` to keep each hop's default".into());
            continue;
        }
        // No edge in front: no route, or `ingress.enabled: false` on Kubernetes.
        if s.routes.is_empty() || !bp.routes_reach_an_edge() {
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
    match (provider, bp.platform()) {
        (Provider::Aws, Some(Platform::EcsFargate)) => Some(alb),
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
