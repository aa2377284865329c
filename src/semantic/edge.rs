//! The ALB in front of a Kubernetes Ingress on EKS (`load_balancer` with `ingress`): the AWS
//! Load Balancer Controller gives its HTTPS listener the certificate named by
//! `certificate.arn`, else the ACM certificates it discovers for the Ingress's hosts
//! (<https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/cert_discovery>). A host no certificate covers fails the Ingress's
//! reconciliation ("no certificate found for host"): no load balancer is made, and
//! `terraform/platform` (which waits for it) times out. In a fresh account the only
//! certificate is the one `certificate.domain` issues, so every host must be one of its
//! names; with neither a domain nor an ARN there is nothing to discover.

use super::Checker;
use super::routes::covers;
use crate::blueprint::types::{Blueprint, IngressClass, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let eks = bp
        .cluster
        .as_ref()
        .is_some_and(|cl| matches!(cl.platform, Platform::Eks | Platform::EksFargate));
    if c.provider != Provider::Aws || !eks {
        return;
    }
    let Some(ingress) = bp.ingress.as_ref().filter(|i| i.enabled) else {
        return;
    };
    let Some(lb) = &bp.load_balancer else {
        // Class `alb` takes the ALB's settings (IP targets, scheme, HTTPS listener and its
        // certificate) from `load_balancer`; without them the controller defaults to
        // instance targets, which need NodePort Services (infragen's are ClusterIP, and
        // Fargate has no nodes), and a plain-HTTP listener.
        if ingress.class == IngressClass::Alb {
            c.error(
                "ingress.class",
                "Ingress class `alb` on EKS needs a `load_balancer` (its certificate, scheme and WAF): without it the AWS Load Balancer Controller makes an HTTP-only ALB with instance targets, which need NodePort Services (these are ClusterIP)",
            )
            .help = Some(
                "add `load_balancer: { certificate: { domain: <host> } }`, or use `class: nginx` with `kubernetes.ingress_controller`"
                    .into(),
            );
        }
        return;
    };
    let cert = &lb.certificate;
    if cert.arn.is_some() {
        // An existing certificate: its names are not known here.
        return;
    }
    let Some(domain) = &cert.domain else {
        c.error(
            "load_balancer.certificate",
            "the ALB's HTTPS listener needs a certificate: give `domain` (an ACM certificate is issued, DNS-validated) or `arn` (an existing ACM certificate); the controller would otherwise look for one matching the Ingress hosts, which a fresh account does not have",
        )
        .help = Some(format!(
            "e.g. `certificate: {{ domain: {} }}`",
            ingress.hosts.first().map_or("api.example.com", String::as_str)
        ));
        return;
    };
    let names: Vec<&str> = std::iter::once(domain.as_str())
        .chain(cert.alternative_names.iter().map(String::as_str))
        .collect();
    for (i, host) in ingress.hosts.iter().enumerate() {
        if !names.iter().any(|n| covers(n, host)) {
            c.error(
                &format!("ingress.hosts[{i}]"),
                format!(
                    "host `{host}` is not covered by the load balancer's certificate (`{}`): the AWS Load Balancer Controller finds no certificate for it and makes no ALB",
                    names.join("`, `")
                ),
            )
            .help = Some(format!(
                "add `{host}` to `load_balancer.certificate.alternative_names`"
            ));
        }
    }
}
