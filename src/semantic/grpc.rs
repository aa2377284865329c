//! gRPC services (`protocol: grpc`): what no output could make work is refused at the field.
//!
//! - A gRPC service serves on its `port`; without one there is nothing to speak gRPC on.
//! - Prometheus scrapes over HTTP/1.1, which a gRPC server's HTTP/2-only port refuses: its
//!   metrics need a port of their own, or the gRPC port named as `metrics.port` where it
//!   answers HTTP/1.1 too (connect-go, cmux) — as a probe `path` there is taken to say.
//! - Routed through ingress-nginx, clients reach it over TLS only: nginx speaks HTTP/2 (and
//!   so gRPC) on its TLS port alone, its plain port being HTTP/1.1
//!   (<https://kubernetes.github.io/ingress-nginx/examples/grpc/>: "You're also responsible
//!   for provisioning an SSL certificate for the ingress").
//! - On EKS with `ingress.class: nginx` and a `load_balancer`, the ALB in front of
//!   ingress-nginx forwards to it through one HTTP/1.1 target group (`backend::aws::platform`):
//!   a gRPC call cannot cross it. `ingress.class: alb` gives each gRPC service a gRPC target
//!   group of its own instead, which ELB accepts behind an HTTPS listener only
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-group-protocol-version>):
//!   the HTTP listener must only redirect (`load_balancer.redirect_http`, the default).

use super::Checker;
use crate::blueprint::types::{Blueprint, IngressClass, Platform, ServiceProtocol};
use crate::catalog::Provider;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        if s.protocol != ServiceProtocol::Grpc {
            continue;
        }
        let at = format!("services[{i}].protocol");
        let Some(port) = s.port else {
            c.error(&at, "a gRPC service needs a `port` to serve on; this one has none")
                .help = Some(
                "add `port` (the port the gRPC server listens on), or remove `protocol` for a worker that serves nothing".into(),
            );
            continue;
        };
        if let Some(m) = &s.metrics
            && m.port.is_none()
        {
            let d = c.error(
                &format!("services[{i}].metrics"),
                format!("Prometheus scrapes `/metrics` over HTTP/1.1, which the gRPC server on port {port} does not speak"),
            );
            d.expected = Some("`metrics.port`: an HTTP port of its own".into());
            d.help = Some(format!(
                "serve the metrics over HTTP on a port other than {port} and name it: `metrics: {{ port: <that port> }}` (or `port: {port}` where the server answers HTTP/1.1 there too, as connect-go and cmux do)"
            ));
        }
        if s.routes.is_empty() {
            continue;
        }
        let Some(ing) = bp.ingress.as_ref().filter(|i| i.enabled) else {
            continue;
        };
        if ing.gateway.is_some() || bp.platform_on(c.provider) == Some(Platform::EcsFargate) {
            continue;
        }
        // Only AWS writes ALB Ingresses; DigitalOcean and an existing cluster write every
        // Ingress for ingress-nginx (`backend::kubernetes` warns so).
        if c.provider == Provider::Aws && ing.class == IngressClass::Alb {
            // The controller puts every Ingress rule on each of its listeners, port 80's
            // too unless `ssl-redirect` turns them into redirects; ELB takes a gRPC
            // target group behind an HTTPS listener only.
            if bp
                .load_balancer
                .as_ref()
                .is_some_and(|lb| !lb.redirect_http)
            {
                c.error(
                    &at,
                    format!("service `{}` gets a gRPC target group, which ELB accepts behind its HTTPS listener only; with `load_balancer.redirect_http: false` the ALB's HTTP listener would forward to it too", s.name),
                )
                .help = Some("remove `redirect_http: false` from `load_balancer` (port 80 then answers with a redirect to HTTPS)".into());
            }
            continue;
        }
        let alb_in_front = c.provider == Provider::Aws
            && matches!(bp.platform(), Some(Platform::Eks | Platform::EksFargate))
            && bp.alb_fronts_nginx();
        if alb_in_front {
            // Each way out names what it needs besides, so that following it is accepted:
            // class `alb` takes no cert-manager certificate (`ingress_controller.rs`), and
            // ingress-nginx speaks HTTP/2 only on its TLS port (below).
            let issuer = if ing.tls.as_ref().is_some_and(|t| t.issuer.is_some()) {
                " without `ingress.tls.issuer` (the ALB serves the ACM certificate of `load_balancer.certificate`)"
            } else {
                ""
            };
            let tls = if ing.tls.is_none() {
                ", with `ingress.tls` (ingress-nginx speaks HTTP/2 only on its TLS port)"
            } else {
                ""
            };
            c.error(
                &at,
                format!("service `{}` is routed through the ALB in front of ingress-nginx, which forwards to it over HTTP/1.1: gRPC needs HTTP/2 end to end", s.name),
            )
            .help = Some(format!("use `ingress.class: alb`{issuer} (the ALB then gives each gRPC service a gRPC target group), or remove `load_balancer` so ingress-nginx takes the traffic itself through a Network Load Balancer{tls}"));
        } else if ing.tls.is_none() {
            c.error(
                &at,
                format!("service `{}` is routed through ingress-nginx, which speaks HTTP/2 (and so gRPC) only on its TLS port; the ingress has no `tls`", s.name),
            )
            .help = Some("add `ingress.tls: { secret_name: <secret>, issuer: <cluster issuer> }`".into());
        }
    }
}
