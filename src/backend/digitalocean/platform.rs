//! The DOKS `platform` root module and the manifests under `k8s/`.
//!
//! `platform` is a separate root module with its own state key, because one apply cannot
//! create a cluster and plan objects inside it: its `kubernetes` and `helm` providers are
//! configured from `data.digitalocean_kubernetes_cluster` (endpoint, token, CA), and it
//! installs ingress-nginx (whose Service creates the DigitalOcean load balancer, named
//! through its annotation) and cert-manager with its CRDs. Everything else inside the
//! cluster — namespaces, service accounts, roles, network policies, ClusterIssuers,
//! workloads — is a manifest in `k8s/`, applied after `platform`, so the ClusterIssuers are
//! never planned in the same run that installs cert-manager's CRDs.
//!
//! Apply order: `bootstrap` (once) → `infra` → `platform` → `kubectl apply -k k8s/`.

use std::collections::BTreeMap;

use crate::json;

use super::Ctx;
use crate::backend::{Output, header, helm, terraform_block};
use crate::blueprint::types::{Deployment, IngressClass};
use crate::k8s;
use crate::terraform::{Module, data, interp};

/// The name of the DigitalOcean load balancer the ingress controller's Service creates.
fn load_balancer_name(ctx: &Ctx) -> String {
    let bp = ctx.v.bp;
    bp.kubernetes
        .as_ref()
        .and_then(|k| k.ingress_controller.as_ref())
        .and_then(|c| c.load_balancer_name.clone())
        .or_else(|| bp.load_balancer.as_ref().and_then(|l| l.name.clone()))
        .unwrap_or_else(|| format!("{}-lb", ctx.prefix))
}

/// Annotations on the ingress-nginx controller Service, read by the DigitalOcean cloud
/// controller that owns the load balancer (infragen never creates `digitalocean_loadbalancer`
/// for cluster traffic).
fn service_annotations(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(
        "service.beta.kubernetes.io/do-loadbalancer-name".into(),
        load_balancer_name(ctx),
    );
    a
}

pub fn module(ctx: &Ctx) -> Option<Module> {
    let v = ctx.v;
    if !ctx.doks() || v.bp.cluster.is_none() {
        return None;
    }
    let ingress = helm::ingress_nginx(v, service_annotations(ctx));
    let cert_manager = helm::cert_manager(v);
    if ingress.is_none() && cert_manager.is_none() && helm::envoy_gateway(v).is_none() {
        return None;
    }
    load_balancer_notes(ctx, ingress.is_some());

    let mut m = Module::new(header(v));
    let cluster = data("digitalocean_kubernetes_cluster", "main");
    let kube = json!({
        "host": cluster.attr("endpoint"),
        "token": cluster.attr("kube_config[0].token"),
        "cluster_ca_certificate": interp(&format!(
            "base64decode({})",
            cluster.path("kube_config[0].cluster_ca_certificate")
        )),
    });
    // Its own state beside the infra state: `<env>/platform/terraform.tfstate`.
    let backend = super::state::backend(ctx, "platform");
    m.file("providers")
        .terraform(terraform_block(
            &["digitalocean", "helm", "kubernetes"],
            backend,
        ))
        .provider("digitalocean", json!({}))
        .provider("kubernetes", kube.clone())
        .provider("helm", json!({"kubernetes": kube}))
        // Read at every plan, so the short-lived token is always fresh.
        .resource(&cluster, json!({"name": ctx.cluster_name()}));

    if let Some((r, mut body)) = ingress {
        // The manifests' NetworkPolicy admits the API server to the admission webhook from
        // kube-system and from outside the pod network (CVE-2025-1974). How the managed
        // control plane's calls arrive under Cilium is DigitalOcean's to change; should a
        // call be dropped, the Ingress is admitted unchecked rather than every Ingress
        // write failing.
        helm::merge_values(
            &mut body,
            json!({"controller": {"admissionWebhooks": {"failurePolicy": "Ignore"}}}),
        );
        if let Some((ns, doc)) = helm::own_namespace(v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        let namespace = helm::ingress_nginx_namespace(v);
        let svc = data("kubernetes_service_v1", "ingress_nginx");
        m.file("ingress").resource(&r, body).resource(
            &svc,
            json!({
                "metadata": {"name": "ingress-nginx-controller", "namespace": namespace},
                "depends_on": [r.address()],
            }),
        );
        m.file("outputs").output(
            "load_balancer_ip",
            svc.attr("status[0].load_balancer[0].ingress[0].ip"),
            &format!(
                "Public IP of the DigitalOcean load balancer `{}` in front of ingress-nginx (point DNS here)",
                load_balancer_name(ctx)
            ),
        );
    }
    if let Some((r, mut body)) = helm::envoy_gateway(v) {
        if let Some((ns, doc)) = helm::own_namespace(v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("gateway").resource(&r, body);
        ctx.note(format!(
            "ingress.gateway: Envoy Gateway creates the DigitalOcean load balancer `{}` for the Gateway once the manifests are applied; point DNS at its address (`kubectl get gateway -A`)",
            load_balancer_name(ctx)
        ));
    }
    if let Some((r, mut body)) = cert_manager {
        if let Some((ns, doc)) = helm::own_namespace(v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("cert_manager").resource(&r, body);
    }
    Some(m)
}

/// What an AWS-style `load_balancer` asks for that the DigitalOcean load balancer created by
/// the ingress controller's Service cannot do.
fn load_balancer_notes(ctx: &Ctx, ingress_nginx: bool) {
    let Some(lb) = &ctx.v.bp.load_balancer else {
        return;
    };
    if !ingress_nginx {
        ctx.note(
            "load_balancer: on DOKS the load balancer is created by an ingress controller's Service; declare `kubernetes.ingress_controller` (kind nginx) to get one",
        );
        return;
    }
    ctx.mark("load_balancer");
    let mut lost = Vec::new();
    if let Some(w) = &lb.waf {
        ctx.warn(
            "do-no-waf",
            format!(
                "load_balancer.waf (rate limit {} requests per 5 minutes per IP): DigitalOcean has no managed WAF; rate-limit in ingress-nginx (`ingress.rate_limit`) or the gateway",
                w.rate_limit
            ),
        );
    }
    if lb.internal {
        lost.push("internal (the ingress load balancer is public)".to_string());
    }
    if lb.certificate.domain.is_some() || lb.certificate.arn.is_some() {
        lost.push(
            "certificate (TLS terminates in ingress-nginx with certificates from cert-manager)"
                .to_string(),
        );
    }
    if let Some(p) = &lb.ssl_policy {
        lost.push(format!(
            "ssl_policy `{p}` (set TLS versions in ingress-nginx)"
        ));
    }
    if lb.access_logs_bucket.is_some() {
        lost.push("access_logs_bucket (use ingress-nginx access logs)".to_string());
    }
    if lb.health_check.is_some() || lb.deregistration_delay.is_some() || lb.idle_timeout.is_some() {
        lost.push(
            "health_check / deregistration_delay / idle_timeout (the load balancer checks ingress-nginx; services are probed by Kubernetes)"
                .to_string(),
        );
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "load_balancer: DigitalOcean load balancer `{}` (created by the ingress-nginx Service); not expressible: {}",
            load_balancer_name(ctx),
            lost.join("; ")
        ));
    }
}

/// Manifests from the shared generator, with the DOKS platform's options.
/// Called only for DOKS with a cluster.
pub fn manifests(ctx: &Ctx, out: &mut Output) {
    let bp = ctx.v.bp;
    if bp
        .ingress
        .as_ref()
        .is_some_and(|i| i.enabled && i.class == IngressClass::Alb)
    {
        ctx.note("ingress.class `alb`: DOKS has no AWS Load Balancer Controller; the Ingress uses class `nginx`");
    }
    let opts = k8s::Options {
        ingress_class: Some("nginx".into()),
        // The DigitalOcean CSI driver's default class (encrypted block storage volumes).
        storage_class: Some("do-block-storage".into()),
        // DOKS runs Cilium, which enforces NetworkPolicy.
        network_policy_enforced: true,
        // DOKS's pod network (the cluster's default `cluster_subnet`); Cilium never matches
        // pods by address anyway.
        pod_cidr: Some(k8s::DEFAULT_POD_CIDR.into()),
        platform_namespaces: crate::backend::helm::platform_namespaces(ctx.v),
        // Databases keep their volumes when a claim is deleted (`k8s/cluster/`).
        database_storage_class: Some("do-block-storage-retain".into()),
        database_storage_provisioner: Some("dobs.csi.digitalocean.com".into()),
        data_in_cluster: false,
        image_pull_secret: super::registry::pull_secret(ctx),
        // The Envoy proxies' Service creates the load balancer with the Gateway API path.
        gateway_service_annotations: service_annotations(ctx),
        ..Default::default()
    };
    // Managed queues have no DigitalOcean service: they run in the cluster. The generator
    // takes a validated blueprint, so the adjusted copy goes through validation again.
    let managed_queue = bp
        .queues
        .iter()
        .any(|q| q.deployment == Deployment::Managed);
    let (files, lowered) = if managed_queue {
        let mut loaded = ctx.v.loaded.clone();
        for q in &mut loaded.blueprint.queues {
            q.deployment = Deployment::InCluster;
        }
        match crate::validate::validate(&loaded, ctx.v.provider) {
            Ok(adjusted) => k8s::manifests(&adjusted, &opts),
            Err(_) => k8s::manifests(ctx.v, &opts),
        }
    } else {
        k8s::manifests(ctx.v, &opts)
    };
    for n in k8s::notes(ctx.v, &opts) {
        ctx.note(n);
    }
    out.files.extend(files);
    out.lowered.extend(lowered);
}
