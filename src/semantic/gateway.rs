//! `ingress.gateway` (the Gateway API path) is lowered for DOKS (Envoy Gateway installed in
//! `platform`) and existing clusters; the ingress-nginx annotations have no Gateway API
//! equivalent, so they are refused beside it rather than dropped.

use crate::blueprint::types::Blueprint;
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let Some(ing) = bp.ingress.as_ref().filter(|i| i.enabled) else {
        return;
    };
    if ing.gateway.is_none() {
        return;
    }
    if c.provider == Provider::Aws {
        c.error(
            "ingress.gateway",
            "the Gateway API path is lowered for DOKS and existing clusters; on AWS the edge (ALB, WAF) fronts ingress-nginx",
        )
        .help = Some("remove `ingress.gateway` for `--provider aws` (e.g. set it in a DigitalOcean environment only)".into());
    }
    let nginx_only = [
        ("ingress.rate_limit", ing.rate_limit.is_some()),
        ("ingress.cors", ing.cors.is_some()),
        ("ingress.proxy_body_size", ing.proxy_body_size.is_some()),
        ("ingress.rewrite_target", ing.rewrite_target.is_some()),
        ("ingress.annotations", !ing.annotations.is_empty()),
    ];
    for (path, set) in nginx_only {
        if set {
            c.error(
                path,
                "an ingress-nginx setting has no Gateway API equivalent and would be dropped with `ingress.gateway`",
            )
            .help = Some("remove it, or keep ingress-nginx (no `ingress.gateway`) for this environment".into());
        }
    }
}
