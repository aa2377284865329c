//! The ingress controller `platform` installs can serve the Ingress, and run:
//!
//! - an Ingress of class `nginx` on a cluster infragen creates (EKS, DOKS) needs the
//!   ingress-nginx controller that `platform` installs only for
//!   `kubernetes.ingress_controller` (kind `nginx`). Without it nothing serves the class:
//!   the Ingress never gets an address, no load balancer is created, and cert-manager's
//!   HTTP-01 challenges — solved through an Ingress of that same class
//!   (`k8s/cluster/issuers.yaml`) — are never answered, so no certificate is issued
//!   either. An existing cluster (`--provider kubernetes`) brings its own controller;
//! - class `alb` takes no cert-manager certificate ([`alb_certificate`]);
//! - ingress-nginx on Fargate needs a `baseline` namespace ([`nginx_on_fargate_pod_security`]);
//! - an internal load balancer cannot answer ACME HTTP-01 challenges ([`internal_acme`]).
//!
//! Each is refused rather than emitted as an edge that carries no traffic.

use crate::blueprint::types::{Blueprint, IngressClass, Platform};
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    // As the provider builds it: an `eks` blueprint is a DOKS cluster on DigitalOcean.
    let platform = bp.platform_on(c.provider);
    let ingress = bp.ingress.as_ref().filter(|i| i.enabled);
    internal_acme(c, bp, platform);
    nginx_on_fargate_pod_security(c, bp, platform);
    // The Gateway API path installs Envoy Gateway instead of ingress-nginx
    // (`semantic/gateway.rs`).
    if bp.gateway().is_some() {
        return;
    }
    let Some(ing) = ingress else {
        return;
    };
    alb_certificate(c, bp, platform);
    let nginx_class = match (c.provider, platform) {
        // Class `alb` is served by the AWS Load Balancer Controller, always installed.
        (Provider::Aws, Some(Platform::Eks | Platform::EksFargate)) => {
            ing.class == IngressClass::Nginx
        }
        // DOKS has no ALB: every Ingress is class `nginx` there.
        (Provider::Digitalocean, Some(Platform::Doks)) => true,
        _ => false,
    };
    if !nginx_class || bp.ingress_nginx().is_some() {
        return;
    }
    let certificates = if ing.tls.as_ref().is_some_and(|t| t.issuer.is_some()) {
        ", and cert-manager's HTTP-01 challenges for its hosts (solved through that class) would never be answered"
    } else {
        ""
    };
    let alb = if c.provider == Provider::Aws {
        ", or `class: alb` with a `load_balancer` (the AWS Load Balancer Controller's ALB)"
    } else {
        ""
    };
    // On EKS Fargate either controller also needs a profile selecting its namespace
    // (`fargate.rs` refuses it otherwise): the help names it, so that following it is
    // accepted.
    let profile = |ns: &str| {
        let covered = (bp.fargate_profiles.iter()).any(|p| p.namespaces.iter().any(|n| n == ns));
        if platform == Some(Platform::EksFargate) && !covered {
            format!(
                " and a Fargate profile selecting `{ns}` (`fargate_profiles: - {{ name: {ns}, namespaces: [{ns}] }}`)"
            )
        } else {
            String::new()
        }
    };
    // The Gateway's Envoy proxies take the traffic through an NLB: on EKS a `load_balancer`
    // beside them is refused (`gateway.rs`), so that way out drops it.
    let without_alb = if c.provider == Provider::Aws && bp.load_balancer.is_some() {
        ", without `load_balancer`"
    } else {
        ""
    };
    let gateway = format!(
        "{without_alb}{}",
        profile(crate::k8s::ENVOY_GATEWAY_NAMESPACE)
    );
    let nginx = profile(
        (bp.kubernetes.as_ref())
            .and_then(|k| k.ingress_controller.as_ref())
            .and_then(|ic| ic.namespace.as_deref())
            .unwrap_or("ingress-nginx"),
    );
    // At `ingress.class` when written, else at `ingress`.
    c.error(
        "ingress.class",
        format!(
            "the Ingress is class `nginx`, but no ingress-nginx controller is installed (no `kubernetes.ingress_controller` of kind `nginx`): nothing would serve it, no load balancer would be created{certificates}"
        ),
    )
    .help = Some(format!(
        "route through the Gateway API (`ingress.gateway: {{ class: eg }}`, Envoy Gateway{gateway}){alb}, or install ingress-nginx with `kubernetes.ingress_controller: {{ kind: nginx }}`{nginx} (retired upstream since March 2026)"
    ));
}

/// Class `alb` on EKS: the ALB terminates TLS with an ACM certificate
/// (`load_balancer.certificate`, or one the controller discovers by host), never with a
/// Kubernetes Secret — the AWS Load Balancer Controller ignores an Ingress's `tls` Secret
/// (<https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/cert_discovery/>).
/// A cert-manager certificate for it would be served by nothing, and its HTTP-01 challenge
/// could not be answered: the hosts resolve to the ALB, which has no rule for cert-manager's
/// solver (and a solver Ingress of class `alb` would get an ALB of its own, internal by
/// default). Refused rather than left failing forever.
fn alb_certificate(c: &mut Checker, bp: &Blueprint, platform: Option<Platform>) {
    let Some(ing) = bp.ingress.as_ref() else {
        return;
    };
    if c.provider == Provider::Aws
        && matches!(platform, Some(Platform::Eks | Platform::EksFargate))
        && ing.class == IngressClass::Alb
        && let Some(issuer) = ing.tls.as_ref().and_then(|t| t.issuer.as_deref())
    {
        c.error(
            "ingress.tls.issuer",
            format!(
                "with class `alb` the ALB serves the ACM certificate of `load_balancer.certificate`, never a Kubernetes Secret: a certificate from issuer `{issuer}` would be used by nothing, and its HTTP-01 challenge could not be answered through the ALB"
            ),
        )
        .help = Some("remove `tls.issuer` (the ALB's certificate comes from `load_balancer.certificate`), or use `class: nginx` with `kubernetes.ingress_controller` to terminate TLS with cert-manager's certificate".into());
    }
}

/// ingress-nginx on EKS Fargate cannot meet Pod Security `restricted`: its binaries carry
/// the file capability NET_BIND_SERVICE and cannot be executed unless the container keeps
/// it, `restricted` keeps it only as `drop: [ALL]` + `add: [NET_BIND_SERVICE]`, and Fargate
/// refuses any added capability ("Pod not supported on Fargate: invalid SecurityContext
/// fields: Capabilities added"). So `platform` drops every other default capability
/// instead (`backend/aws/platform.rs`), which the controller's namespace must admit: a
/// declared namespace enforces `restricted` unless it says otherwise, and would refuse every
/// controller pod. Only where infragen installs ingress-nginx ([`Blueprint::ingress_nginx`]):
/// with the Gateway API taking the traffic a declared controller is not installed, and its
/// namespace runs no controller pod.
fn nginx_on_fargate_pod_security(c: &mut Checker, bp: &Blueprint, platform: Option<Platform>) {
    use crate::blueprint::types::PodSecurityLevel;
    let (Some(k), Some(ic)) = (bp.kubernetes.as_ref(), bp.ingress_nginx()) else {
        return;
    };
    if c.provider != Provider::Aws || platform != Some(Platform::EksFargate) {
        return;
    }
    let ns = ic.namespace.as_deref().unwrap_or("ingress-nginx");
    let Some(i) = k.namespaces.iter().rposition(|n| n.name == ns) else {
        return;
    };
    if k.namespaces[i].pod_security == PodSecurityLevel::Restricted {
        c.error(
            &format!("kubernetes.namespaces[{i}].pod_security"),
            format!(
                "ingress-nginx runs in namespace `{ns}`, which enforces Pod Security `restricted`: on Fargate the controller must keep NET_BIND_SERVICE (its binaries carry that file capability) without adding it back, which only `baseline` admits; every controller pod would be refused"
            ),
        )
        .help = Some(format!(
            "set `pod_security: baseline` on namespace `{ns}`, or route through the Gateway API (`ingress.gateway`)"
        ));
    }
}

/// An internal load balancer on EKS (`load_balancer.internal`: the NLB in front of
/// ingress-nginx or Envoy's proxies is `internal`) with an ACME issuer: the ACME server
/// validates an HTTP-01 challenge by fetching `http://<host>/.well-known/acme-challenge/…`
/// from the internet ("the HTTP-01 challenge … must be reachable on port 80 from the public
/// internet", <https://letsencrypt.org/docs/challenge-types/>), which an internal load
/// balancer never answers, and infragen's ACME issuers solve HTTP-01 only
/// (`k8s/issuer.rs`): the certificate would never be issued and the hosts serve the
/// controller's self-signed one. (Class `alb` takes no cert-manager certificate at all:
/// [`alb_certificate`].)
fn internal_acme(c: &mut Checker, bp: &Blueprint, platform: Option<Platform>) {
    use crate::blueprint::types::IssuerKind;
    let Some(ing) = bp.ingress.as_ref().filter(|i| i.enabled) else {
        return;
    };
    let internal = bp.load_balancer.as_ref().is_some_and(|l| l.internal);
    let Some(name) = ing.tls.as_ref().and_then(|t| t.issuer.as_deref()) else {
        return;
    };
    let acme = bp
        .kubernetes
        .as_ref()
        .and_then(|k| k.issuers.iter().rev().find(|i| i.name == name))
        .is_some_and(|i| i.kind == IssuerKind::Acme);
    let through_proxies = ing.gateway.is_some() || ing.class != IngressClass::Alb;
    if c.provider == Provider::Aws
        && matches!(platform, Some(Platform::Eks | Platform::EksFargate))
        && internal
        && acme
        && through_proxies
    {
        c.error(
            "ingress.tls.issuer",
            format!(
                "issuer `{name}` is an ACME issuer, whose HTTP-01 challenge the ACME server fetches from the internet, but `load_balancer.internal` makes the load balancer in front of the cluster internal: the challenge is never answered and no certificate is issued"
            ),
        )
        .help = Some("use a `self_signed` issuer or your own certificate in the Secret `tls.secret_name` for an internal load balancer, or make the load balancer internet-facing".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped EKS Fargate blueprint with its ingress-nginx namespace left `restricted`,
    /// routed through ingress-nginx or (`gateway`) through the Gateway API.
    fn problems(gateway: bool) -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/blueprints/case-eks-fargate.yaml"
        );
        let mut yaml = std::fs::read_to_string(path)
            .unwrap()
            .replace("      pod_security: baseline\n", "");
        if gateway {
            yaml = yaml.replacen(
                "  ssl_redirect: true\n",
                "  ssl_redirect: true\n  gateway: { class: eg }\n",
                1,
            );
        }
        let loaded =
            crate::blueprint::load("case.yaml", yaml.as_bytes(), Provider::Aws, "production")
                .unwrap();
        assert_eq!(loaded.blueprint.gateway().is_some(), gateway);
        let mut c = Checker {
            loaded: &loaded,
            provider: Provider::Aws,
            problems: Vec::new(),
        };
        let bp = &loaded.blueprint;
        nginx_on_fargate_pod_security(&mut c, bp, bp.platform());
        c.problems.iter().map(|d| d.to_string()).collect()
    }

    /// A `restricted` ingress-nginx namespace is refused on Fargate where ingress-nginx is
    /// installed, and not where the Gateway API displaces it (nothing runs there).
    #[test]
    fn the_controller_namespace_is_judged_only_where_ingress_nginx_is_installed() {
        let refused = problems(false);
        assert!(
            refused.len() == 1 && refused[0].contains("pod_security"),
            "{refused:?}"
        );
        assert_eq!(problems(true), Vec::<String>::new());
    }
}
