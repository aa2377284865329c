//! `ingress.gateway` (the Gateway API path) is lowered for EKS and DOKS (Envoy Gateway
//! installed in `platform`) and existing clusters, and absent on ECS like the rest of
//! `ingress`; the ingress-nginx annotations have no
//! Gateway API equivalent (but for the prefix-stripping rewrite), so they are refused beside
//! it rather than dropped, and so are the ALB's settings (`load_balancer`) on EKS, where the
//! Envoy proxies sit behind an NLB, and a cert-manager too old for the Gateway API.

use crate::blueprint::types::{Blueprint, IngressClass, Platform};
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let Some(ing) = bp.ingress.as_ref().filter(|i| i.enabled) else {
        return;
    };
    if ing.gateway.is_none() {
        return;
    }
    let platform = bp.platform_on(c.provider);
    // On ECS the ALB routes `routes` (its listener rules) and the Gateway would simply not
    // exist, as ingress-nginx's Ingress does not: `ingress`, gateway included, is noted as
    // absent from the output (`backend::not_lowered`) rather than refused or judged, so one
    // blueprint can route through a Gateway on its Kubernetes providers and through the ALB
    // on ECS.
    if platform == Some(Platform::EcsFargate) {
        return;
    }
    // On EKS the Envoy proxies' Service gets a Network Load Balancer from the AWS Load
    // Balancer Controller. Every `load_balancer` setting is the ALB's (WAF, ACM certificate,
    // TLS policy, health check, idle timeout, access logs), and AWS WAF cannot be associated
    // with an NLB (the resources it protects: CloudFront, API Gateway REST, ALB, AppSync,
    // Cognito, App Runner, Verified Access, Amplify —
    // https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html):
    // refused rather than created beside an edge that does not use them.
    if c.provider == Provider::Aws
        && matches!(platform, Some(Platform::Eks | Platform::EksFargate))
        && bp.load_balancer.is_some()
    {
        c.error(
            "load_balancer",
            "with `ingress.gateway` on EKS the Envoy proxies take the traffic through a Network Load Balancer; these ALB settings (WAF, ACM certificate, TLS policy, access logs) would not apply to it, and AWS WAF cannot be associated with an NLB",
        )
        .help = Some("remove `load_balancer` (the Gateway's TLS comes from cert-manager; name the NLB with `kubernetes.ingress_controller.load_balancer_name`), or keep ingress-nginx behind the ALB (no `ingress.gateway`)".into());
    }
    // DOKS creates and reconciles a GatewayClass `cilium` of its own (its managed Gateway
    // API implementation, https://docs.digitalocean.com/products/kubernetes/how-to/use-gateway-api/):
    // infragen's class of that name, for Envoy Gateway's controller, could not be applied
    // over it (a GatewayClass's `controllerName` is immutable) and DOKS would put its own
    // back.
    if let Some(g) = ing.gateway.as_ref()
        && c.provider == Provider::Digitalocean
        && g.class == "cilium"
    {
        c.error(
            "ingress.gateway.class",
            "`cilium` is the GatewayClass DOKS creates and manages for its own Gateway API implementation; infragen's class is Envoy Gateway's and needs a name of its own",
        )
        .help = Some("name the class for Envoy Gateway, e.g. `class: eg`".into());
    }
    // Envoy Gateway serves the Gateway whatever the class says; `alb` would make the
    // manifests admit an ALB's subnets instead of the Envoy proxies.
    if ing.class == IngressClass::Alb {
        c.error(
            "ingress.class",
            "class `alb` routes through AWS Load Balancer Controller Ingresses, not the Gateway API",
        )
        .help = Some("remove `ingress.class` (or set `nginx`) beside `ingress.gateway`, or remove `ingress.gateway`".into());
    }
    // cert-manager issues the listeners' certificates with its Gateway API support, which
    // the platform switches on with `config.enableGatewayAPI`: a field of its controller
    // configuration from v1.15 (https://cert-manager.io/docs/usage/gateway/); an older
    // controller refuses the unknown field and never starts.
    if c.provider != Provider::Kubernetes
        && let Some(v) = bp
            .kubernetes
            .as_ref()
            .and_then(|k| k.cert_manager.as_ref())
            .and_then(|cm| cm.chart_version.as_deref())
        && matches!(crate::releases::numbers(v)[..], [major, minor, ..] if (major, minor) < (1, 15))
    {
        c.error(
            "kubernetes.cert_manager.chart_version",
            format!("cert-manager {v} has no `enableGatewayAPI` setting (from v1.15), so it would never issue the Gateway's certificates"),
        )
        .help = Some("use a supported cert-manager chart (remove `chart_version` for the catalog's pin)".into());
    }
    // ingress-nginx applies `rewrite-target` to every path of the Ingress: only its
    // prefix-stripping idiom, on every routed path, has a Gateway API equivalent.
    if let Some(rt) = ing.rewrite_target.as_deref()
        && !bp
            .services
            .iter()
            .flat_map(|s| &s.routes)
            .all(|r| crate::k8s::stripped_prefix(&r.path, rt).is_some())
    {
        c.error(
            "ingress.rewrite_target",
            format!("`{rt}` has no Gateway API equivalent here: only ingress-nginx's prefix-stripping idiom, every routed path `/prefix(/|$)(.*)` with `rewrite_target: /$2`, becomes a PathPrefix match with a URLRewrite"),
        )
        .help = Some("write the routes as `/prefix(/|$)(.*)` with `rewrite_target: /$2`, remove the rewrite, or keep ingress-nginx (no `ingress.gateway`) for this environment".into());
    }
    let nginx_only = [
        ("ingress.rate_limit", ing.rate_limit.is_some()),
        ("ingress.cors", ing.cors.is_some()),
        ("ingress.proxy_body_size", ing.proxy_body_size.is_some()),
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
