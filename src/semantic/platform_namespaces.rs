//! Namespaces where a platform component infragen installs (or, on an existing cluster,
//! expects) runs — the one list both checks here share: a workload there, or a Gateway whose
//! ACME solver runs there (`references::gateway_in_platform_namespace`), brings the
//! namespace-wide policies of `k8s::network_policy` (`default-deny-ingress`,
//! `allow-same-namespace`), which isolate every pod of the namespace and cut the
//! component's own traffic.

use super::Checker;
use crate::analysis::{DataKind, runs_in_cluster};
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

/// The platform component in namespace `ns` when `bp` is synthesized for `provider`, said
/// as "`<whose>` (what would be cut)", or `None` for a namespace of the blueprint's own.
///
/// Per provider (`backend::helm` and the back-ends' `platform` modules):
/// - every cluster: `kube-system` (CoreDNS; metrics-server, the AWS Load Balancer
///   Controller and the cluster autoscaler on EKS);
/// - Envoy Gateway in `envoy-gateway-system` with `ingress.gateway`;
/// - ingress-nginx in its namespace (`kubernetes.ingress_controller.namespace`) when it
///   serves the Ingress (installed on the cloud back-ends, a precondition on an existing
///   cluster);
/// - cert-manager in its namespace when issuers are declared or named;
/// - KEDA in `keda` when a service scales on a queue;
/// - EKS: the External Secrets Operator in `external-secrets` (installed as soon as a
///   workload reads a secret or a managed data service's credentials:
///   [`external_secrets_may_run`]) and, on managed nodes
///   with Container Insights, the CloudWatch Observability add-on in `amazon-cloudwatch`;
/// - an existing cluster: the cluster DNS's namespace when `providers.kubernetes.dns` names
///   one (OpenShift's `openshift-dns`).
pub(super) fn component(provider: Provider, bp: &Blueprint, ns: &str) -> Option<&'static str> {
    let k8s = bp.kubernetes.as_ref();
    let platform = bp.platform_on(provider);
    let eks =
        provider == Provider::Aws && matches!(platform, Some(Platform::Eks | Platform::EksFargate));
    if ns == "kube-system" {
        return Some(if eks {
            "the cluster's own (CoreDNS, which every pod queries; metrics-server and the AWS Load Balancer Controller's webhook, which the API server calls)"
        } else {
            "the cluster's own (CoreDNS, which every pod queries, and the system add-ons the API server calls)"
        });
    }
    if provider == Provider::Kubernetes
        && bp
            .providers
            .kubernetes
            .as_ref()
            .and_then(|k| k.dns.as_ref())
            .and_then(|d| d.namespace.as_deref())
            == Some(ns)
    {
        return Some("the cluster DNS's (which every pod queries)");
    }
    if bp.gateway().is_some() && ns == crate::k8s::ENVOY_GATEWAY_NAMESPACE {
        return Some(
            "Envoy Gateway's (its controller and the Envoy proxies the load balancer sends traffic to)",
        );
    }
    let ingress = bp.ingress.as_ref().filter(|i| i.enabled);
    let nginx = bp.ingress_nginx().is_some()
        || (provider == Provider::Kubernetes && ingress.is_some() && bp.gateway().is_none());
    let nginx_ns = k8s
        .and_then(|k| k.ingress_controller.as_ref())
        .and_then(|c| c.namespace.as_deref())
        .unwrap_or("ingress-nginx");
    if nginx && ns == nginx_ns {
        return Some(
            "ingress-nginx's (its controller, which the load balancer sends every request to, and its admission webhook)",
        );
    }
    let issuer_named = ingress
        .and_then(|i| i.tls.as_ref())
        .is_some_and(|t| t.issuer.is_some());
    let cert_manager =
        k8s.is_some_and(|k| k.cert_manager.is_some() || !k.issuers.is_empty()) || issuer_named;
    let cert_manager_ns = k8s
        .and_then(|k| k.cert_manager.as_ref())
        .and_then(|cm| cm.namespace.as_deref())
        .unwrap_or("cert-manager");
    if cert_manager && ns == cert_manager_ns {
        return Some(
            "cert-manager's (its webhook, which the API server calls on every Certificate and Issuer write)",
        );
    }
    if crate::k8s::scales_on_queues(bp) && ns == crate::naming::KEDA_NAMESPACE {
        return Some(
            "KEDA's (its metrics API server, which the API server calls for every queue autoscaler)",
        );
    }
    if eks
        && ns == crate::naming::EXTERNAL_SECRETS_NAMESPACE
        && external_secrets_may_run(provider, bp)
    {
        return Some(
            "the External Secrets Operator's (its webhook, which the API server calls on every ExternalSecret write; installed as soon as a workload reads a secret or a managed data service's credentials)",
        );
    }
    if provider == Provider::Aws
        && platform == Some(Platform::Eks)
        && bp.cluster.as_ref().is_some_and(|c| c.container_insights())
        && ns == "amazon-cloudwatch"
    {
        return Some(
            "the CloudWatch Observability add-on's (its agent, which the pods send metrics and traces to, and its operator's webhook, which the API server calls)",
        );
    }
    None
}

/// Whether the output may install the External Secrets Operator on EKS
/// (`backend::aws::external_secrets::needed`, which works on the lowered bindings the
/// analysis has not made yet): a workload reads a blueprint secret (`secret_env`, or
/// `image_credentials`, whose pull Secret it renders) or uses a database, cache or broker
/// managed outside the cluster, whose credentials it syncs. It may say yes where the
/// operator is not installed after all (a managed service whose credentials nobody reads),
/// never no where it is. Without the operator nothing runs in its namespace, and a workload
/// there is the blueprint's own.
fn external_secrets_may_run(provider: Provider, bp: &Blueprint) -> bool {
    let managed = |name: &str| {
        (bp.databases.iter())
            .filter(|d| d.name == name)
            .map(|d| (DataKind::Database, d.deployment))
            .chain(
                (bp.caches.iter())
                    .filter(|x| x.name == name)
                    .map(|x| (DataKind::Cache, x.deployment)),
            )
            .chain(
                bp.brokers()
                    .filter(|q| q.name == name)
                    .map(|q| (DataKind::Queue, q.deployment)),
            )
            .any(|(kind, deployment)| !runs_in_cluster(provider, kind, deployment))
    };
    bp.workloads().any(|s| {
        !s.secret_env.is_empty()
            || s.image_credentials.is_some()
            || s.uses.iter().any(|u| managed(u.as_str()))
    })
}

/// A workload (service or job) or an in-cluster data service in a platform component's
/// namespace: every namespace that runs one gets `default-deny-ingress` and
/// `allow-same-namespace` (`k8s::network_policy::policy_namespaces`), either of which
/// isolates every pod there — the component's too. Refused where its namespace is set
/// (`services[i].namespace`, `jobs[i].namespace`, else `kubernetes.default_namespace`, else
/// the blueprint's `name`). ECS has no namespaces; without either namespace-wide policy
/// nothing is isolated and nothing is refused.
pub fn check(c: &mut Checker, bp: &Blueprint) {
    // ECS has no namespaces (nor AWS without a cluster); an existing cluster or DOKS may be
    // targeted without a `cluster` block.
    match bp.platform_on(c.provider) {
        Some(Platform::EcsFargate) => return,
        None if c.provider == Provider::Aws => return,
        _ => {}
    }
    let np = bp
        .kubernetes
        .as_ref()
        .map(|k| k.network_policies.clone())
        .unwrap_or_default();
    if !(np.default_deny_ingress || np.allow_same_namespace) {
        return;
    }
    let refuse = |c: &mut Checker, path: &str, ns: &str, what: &str, component: &str| {
        c.error(
            path,
            format!(
                "namespace `{ns}` is {component}: {what} there gets the namespace-wide NetworkPolicies (`default-deny-ingress`, `allow-same-namespace`), which isolate every pod of the namespace and would cut that component's traffic"
            ),
        )
        .help = Some(
            "run it in a namespace of its own (declare one in `kubernetes.namespaces`)".into(),
        );
    };
    let default_ns = bp.default_namespace();
    let mut in_default = Vec::new();
    for (path, s) in bp.workloads_at() {
        match &s.namespace {
            Some(ns) => {
                if let Some(component) = component(c.provider, bp, ns) {
                    let what = format!("`{}`", s.name);
                    refuse(c, &format!("{path}.namespace"), ns, &what, component);
                }
            }
            None => in_default.push(format!("`{}`", s.name)),
        }
    }
    let data = (bp.databases.iter())
        .map(|d| (DataKind::Database, d.deployment, &d.name))
        .chain(
            bp.caches
                .iter()
                .map(|x| (DataKind::Cache, x.deployment, &x.name)),
        )
        .chain(
            bp.brokers()
                .map(|q| (DataKind::Queue, q.deployment, &q.name)),
        );
    for (kind, deployment, name) in data {
        if runs_in_cluster(c.provider, kind, deployment) {
            in_default.push(format!("in-cluster `{name}`"));
        }
    }
    if in_default.is_empty() {
        return;
    }
    if let Some(component) = component(c.provider, bp, default_ns) {
        let path = if bp
            .kubernetes
            .as_ref()
            .is_some_and(|k| k.default_namespace.is_some())
        {
            "kubernetes.default_namespace"
        } else {
            "name"
        };
        let what = in_default.join(", ");
        refuse(c, path, default_ns, &what, component);
    }
}
