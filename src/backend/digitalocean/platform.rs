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
use crate::backend::{connections, helm, terraform_block};
use crate::blueprint::types::IngressClass;
use crate::k8s;
use crate::naming::header;
use crate::output::Output;
use crate::terraform::{Expr, Module, data, interp};
use crate::tpl;

/// The name of the DigitalOcean load balancer the ingress controller's Service creates.
fn load_balancer_name(ctx: &Ctx) -> String {
    name_of_load_balancer(ctx.v.bp, &ctx.prefix)
}

/// [`load_balancer_name`] of an environment's blueprint and name prefix (`<name>-<env>`).
pub(super) fn name_of_load_balancer(
    bp: &crate::blueprint::types::Blueprint,
    prefix: &str,
) -> String {
    bp.kubernetes
        .as_ref()
        .and_then(|k| k.ingress_controller.as_ref())
        .and_then(|c| c.load_balancer_name.clone())
        .or_else(|| bp.load_balancer.as_ref().and_then(|l| l.name.clone()))
        .unwrap_or_else(|| format!("{prefix}-lb"))
}

/// Annotations on the load balancer Service of the edge (ingress-nginx's, or the Envoy
/// proxies' with the Gateway API), read by the DigitalOcean cloud controller that owns the
/// load balancer (infragen never creates `digitalocean_loadbalancer` for cluster traffic).
fn service_annotations(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(
        "service.beta.kubernetes.io/do-loadbalancer-name".into(),
        load_balancer_name(ctx),
    );
    // The load balancer closes a connection idle for 60 s by default (30–600): a routed
    // service that holds connections open (`idle_timeout`, at most 600 by
    // `semantic::long_lived`) raises it for all, as the setting is the load balancer's.
    // <https://docs.digitalocean.com/products/kubernetes/how-to/configure-load-balancers/>
    // The forwarding rules are TCP (no `do-loadbalancer-protocol`: the controller's default),
    // and DigitalOcean does not say whether TCP rules obey this "HTTP" idle timeout; the
    // controller sends it whatever the protocol and the API takes it, so it is written
    // (docs/connections-long-lived.md, "Not covered").
    if let Some(t) = ctx.v.bp.edge_idle_timeout(ctx.v.provider) {
        a.insert(
            "service.beta.kubernetes.io/do-loadbalancer-http-idle-timeout-seconds".into(),
            t.max(60).to_string(),
        );
    }
    a
}

/// The host ingress-nginx's load balancer answers to in the cluster when it passes client
/// addresses on with PROXY protocol; `None` keeps PROXY protocol off.
///
/// A DigitalOcean load balancer is a proxy: without PROXY protocol "backend servers see
/// requests as though they had originated from load balancers"
/// (<https://blog.digitalocean.com/load-balancers-now-support-proxy-protocol/>), and every
/// per-client setting of ingress-nginx (`limit-rpm`, allow-lists, access logs) sees one
/// address. ingress-nginx's own DigitalOcean configuration turns it on at both ends
/// (`do-loadbalancer-enable-proxy-protocol` and `use-proxy-protocol`,
/// kubernetes/ingress-nginx hack/manifest-templates/provider/do/values.yaml). Both ends must
/// agree, or every request breaks; and in-cluster requests to the load balancer's address
/// (cert-manager's HTTP-01 self-check among them) are short-cut to ingress-nginx without the
/// PROXY header unless the Service reports a host name instead of the address
/// (`do-loadbalancer-hostname`, "to workaround the issue of kube-proxy adding external LB
/// address to node local iptables rule, which will break requests to an LB from in-cluster
/// if the LB is expected to terminate SSL or proxy protocol",
/// digitalocean/digitalocean-cloud-controller-manager docs/controllers/services/annotations.md).
/// So it is turned on only with a host to report: the Ingress's first one that is not a
/// wildcard, which DNS points at the load balancer anyway.
pub(super) fn proxy_protocol_host(ctx: &Ctx) -> Option<String> {
    let bp = ctx.v.bp;
    bp.ingress_nginx()?;
    bp.ingress
        .as_ref()
        .filter(|i| i.enabled)?
        .hosts
        .iter()
        .find(|h| !h.contains('*'))
        .cloned()
}

/// The ingress-nginx Service's annotations: the load balancer's name and, with a host to
/// report, PROXY protocol ([`proxy_protocol_host`]).
fn ingress_service_annotations(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut a = service_annotations(ctx);
    if let Some(host) = proxy_protocol_host(ctx) {
        a.insert(
            "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol".into(),
            "true".into(),
        );
        a.insert(
            "service.beta.kubernetes.io/do-loadbalancer-hostname".into(),
            host,
        );
    }
    a
}

/// The Envoy proxies' Service annotations with the Gateway API: the load balancer's name
/// and PROXY protocol, always. The load balancer is a proxy (see [`proxy_protocol_host`]),
/// and the Envoy proxies read the header the Gateway's ClientTrafficPolicy asks for
/// (`k8s::gateway`), which also takes connections without one: in-cluster requests to the
/// load balancer's address are short-cut to the proxies without a header, and arrive from
/// their true address — so, unlike ingress-nginx (which refuses them), no host has to be
/// reported in place of the address (`do-loadbalancer-hostname`), and the Gateway's status
/// keeps the address DNS is pointed at.
fn gateway_service_annotations(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut a = service_annotations(ctx);
    if crate::backend::helm::gateway(ctx.v).is_some() {
        a.insert(
            "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol".into(),
            "true".into(),
        );
    }
    a
}

/// What the `platform` module and the manifests share, worked out once per synth: the
/// generator's options on DOKS and the credential Secrets of the in-cluster data services
/// (the module generates them, the manifests read them).
pub struct Shared {
    opts: k8s::Options,
    creds: Vec<k8s::CredentialSecret>,
}

impl Shared {
    /// For a DOKS cluster of this blueprint (the caller checks).
    pub fn new(ctx: &Ctx) -> Shared {
        let opts = options(ctx);
        let creds = k8s::credential_secrets(ctx.v, &opts);
        Shared { opts, creds }
    }
}

pub fn module(ctx: &Ctx, shared: &Shared) -> Option<Module> {
    let v = ctx.v;
    let ingress = helm::ingress_nginx(v, ingress_service_annotations(ctx));
    let cert_manager = helm::cert_manager(v);
    let metrics = metrics_server(ctx);
    let creds = &shared.creds;
    let managed = connection_values(ctx, &shared.opts);
    if ingress.is_none()
        && cert_manager.is_none()
        && metrics.is_none()
        && creds.is_empty()
        && managed.is_empty()
        && helm::envoy_gateway(v).is_none()
        && !super::egress::wanted(ctx)
    {
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
        if let Some(host) = proxy_protocol_host(ctx) {
            // The load balancer's end is in the Service's annotations.
            helm::merge_values(
                &mut body,
                json!({"controller": {"config": {"use-proxy-protocol": "true"}}}),
            );
            ctx.note(format!(
                "ingress-nginx: the DigitalOcean load balancer passes client addresses on with PROXY protocol, and its Service reports the host `{host}` instead of its address, so that requests from inside the cluster (cert-manager's HTTP-01 self-check) go through the load balancer too: point `{host}` at the `load_balancer_ip` output before certificates are issued. On a load balancer created without it, the two ends change a moment apart (the cloud controller, the controller's configuration): expect errors for that moment"
            ));
        }
        if let Some((ns, doc)) = helm::own_namespace(v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        // Read from DigitalOcean by name: with `do-loadbalancer-hostname` the Service's
        // status holds the host, not the address.
        let lb = data("digitalocean_loadbalancer", "ingress");
        m.file("ingress").resource(&r, body).resource(
            &lb,
            json!({
                "name": load_balancer_name(ctx),
                "depends_on": [r.address()],
            }),
        );
        m.file("outputs").output(
            "load_balancer_ip",
            lb.attr("ip"),
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
        helm::merge_values(&mut body, helm::provider_managed_gateway_api());
        m.file("gateway").resource(&r, body);
        ctx.note(DOKS_GATEWAY_API_CRDS);
        ctx.note(format!(
            "ingress.gateway: Envoy Gateway creates the DigitalOcean load balancer `{}` for the Gateway once the manifests are applied; point DNS at its address (`kubectl get gateway -A`)",
            load_balancer_name(ctx)
        ));
    }
    if let Some((r, mut body)) = cert_manager {
        // After Envoy Gateway (its CRDs) with the Gateway API: `helm::cert_manager`.
        if let Some((ns, doc)) = helm::own_namespace(v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("cert_manager").resource(&r, body);
    }
    if let Some((r, mut body)) = metrics {
        // kube-system exists: no namespace to create.
        let _ = helm::own_namespace(v, &mut body);
        m.file("controllers").resource(&r, body);
    }
    // The connection contract: namespaces, in-cluster credentials, and each service's
    // `<service>-connections` ConfigMap and Secret from the managed databases' attributes.
    let mut namespaces = connections::credential_namespaces(creds);
    namespaces.extend(managed.iter().map(|(ns, _, _, _)| ns.clone()));
    let random = !creds.is_empty();
    // DOKS has no load balancer controller that gates pod readiness.
    connections::namespaces(&mut m, v, &namespaces, &Default::default());
    connections::credentials(&mut m, creds);
    let mut sources = std::collections::BTreeSet::new();
    for (ns, service, endpoints, secrets) in managed {
        connections::endpoints(&mut m, &ns, &service, endpoints);
        connections::secret(&mut m, &ns, &service, secrets);
        sources.insert(service);
    }
    // Each workload using buckets signs with its own Spaces key (`spaces.rs`).
    for (_, service, list) in k8s::managed_bindings(v, &shared.opts) {
        let mut buckets: Vec<&str> = list
            .iter()
            .filter(|b| b.kind == crate::wiring::Kind::Bucket)
            .map(|b| b.component)
            .collect();
        buckets.dedup();
        if !buckets.is_empty() {
            super::spaces::key(ctx, &mut m, &service, &buckets);
        }
    }
    super::spaces::backup_keys(ctx, &mut m);
    for component in database_sources(ctx) {
        m.file("connections").resource(&component.0, component.1);
    }
    super::grants::lower(ctx, &shared.opts, &mut m);
    super::egress::platform(ctx, &mut m);
    if random {
        m.file("providers").terraform(terraform_block(
            &["digitalocean", "helm", "kubernetes", "random"],
            super::state::backend(ctx, "platform"),
        ));
    }
    Some(m)
}

/// metrics-server for the HorizontalPodAutoscalers: DOKS does not ship it (it is a
/// Marketplace add-on), so the platform installs the chart when anything autoscales.
fn metrics_server(ctx: &Ctx) -> Option<(crate::terraform::Ref, crate::terraform::Json)> {
    // DOKS does not serve the resource metrics API itself ("install the metrics server
    // from the Marketplace so the HPA can monitor the cluster's resource usage"): without
    // it every HorizontalPodAutoscaler, ingress-nginx's included, stays at its minimum.
    crate::k8s::uses_resource_metrics(ctx.v.bp).then(|| helm::metrics_server(false))
}

/// The data source of a managed database or cache cluster (and its custom user), read by
/// the platform module for the services' connections.
fn cluster_source(name: &str) -> crate::terraform::Ref {
    data("digitalocean_database_cluster", name)
}

/// A database's first read replica (`database.rs` creates `<prefix>-<name>-replica-1`).
fn replica_source(name: &str) -> crate::terraform::Ref {
    data("digitalocean_database_replica", &format!("{name}-replica"))
}

/// The CA certificate of a database cluster (`GET /v2/databases/{uuid}/ca`).
fn ca_source(name: &str) -> crate::terraform::Ref {
    data("digitalocean_database_ca", name)
}

fn user_source(name: &str) -> crate::terraform::Ref {
    data("digitalocean_database_user", name)
}

/// A database's connection pool (`database.rs` names it `<component>-pool`), which its
/// services connect through.
fn pool_source(name: &str) -> crate::terraform::Ref {
    data("digitalocean_database_connection_pool", name)
}

/// The data sources the connections read: one per managed database or cache a service uses.
fn database_sources(ctx: &Ctx) -> Vec<(crate::terraform::Ref, crate::terraform::Json)> {
    let used = |n: &str| !ctx.v.users_of(n).is_empty();
    let mut out = Vec::new();
    for d in ctx.managed_databases().filter(|d| used(&d.name)) {
        let c = cluster_source(&d.name);
        out.push((
            c.clone(),
            json!({"name": format!("{}-{}", ctx.prefix, d.name)}),
        ));
        if crate::wiring::has_read_replica(ctx.v.bp, &d.name, crate::wiring::Flavor::DigitalOcean) {
            out.push((
                replica_source(&d.name),
                json!({"cluster_id": c.attr("id"), "name": format!("{}-{}-replica-1", ctx.prefix, d.name)}),
            ));
        }
        // The CA that signs the cluster's server certificates, for the clients that must
        // trust it (`wiring::trusts_provider_ca`).
        if crate::wiring::trusts_provider_ca(
            crate::wiring::Kind::Database(d.engine),
            crate::wiring::Flavor::DigitalOcean,
        ) {
            out.push((ca_source(&d.name), json!({"cluster_id": c.attr("id")})));
        }
        if d.pool.is_some() {
            out.push((
                pool_source(&d.name),
                json!({"cluster_id": c.attr("id"), "name": crate::wiring::pool::name(&d.name)}),
            ));
        }
        if let Some(u) = &d.username {
            out.push((
                user_source(&d.name),
                json!({"cluster_id": c.attr("id"), "name": u}),
            ));
        }
    }
    for k in ctx.managed_caches().filter(|k| used(&k.name)) {
        out.push((
            cluster_source(&k.name),
            json!({"name": format!("{}-{}", ctx.prefix, k.name)}),
        ));
    }
    out
}

/// (namespace, service, endpoint variables, credential variables) of one service.
type ServiceConnections = (String, String, Vec<(String, Expr)>, Vec<(String, Expr)>);

/// Per service: (namespace, service, endpoint variables, credential variables) of the
/// managed databases and caches it uses, as Terraform expressions.
fn connection_values(ctx: &Ctx, opts: &k8s::Options) -> Vec<ServiceConnections> {
    use crate::blueprint::types::DatabaseEngine;
    use crate::wiring::{Field, Kind, Value};
    let bp = ctx.v.bp;
    let mut out = Vec::new();
    for (ns, service, list) in k8s::managed_bindings(ctx.v, opts) {
        let mut endpoints = Vec::new();
        let mut secrets = Vec::new();
        // The CA file the pod mounts (`_CA_FILE`), named in the URL: DigitalOcean's own CA
        // signs the server's certificate, which drivers that verify cannot trust otherwise.
        let ca = |b: &crate::wiring::Binding| {
            if crate::wiring::gets_ca_file(&list, b.component) {
                crate::wiring::ca_query(b.kind, b.component)
            } else {
                String::new()
            }
        };
        for b in &list {
            let Value::Field(f) = b.value else { continue };
            if let Some(bucket) = bp.buckets.iter().find(|x| x.name == b.component) {
                let key = super::spaces::key_ref(&service);
                let Some(value) = super::spaces::value(ctx, bucket, f, &key) else {
                    continue;
                };
                if f.secret() {
                    secrets.push((b.var.clone(), value));
                } else {
                    endpoints.push((b.var.clone(), value));
                }
                continue;
            }
            let c = cluster_source(b.component);
            let database = bp.databases.iter().find(|d| d.name == b.component);
            let db_name = database.and_then(|d| d.database_name.as_deref());
            let db = || db_name.map_or_else(|| c.attr("database"), Expr::lit);
            let user = database
                .and_then(|d| d.username.as_ref())
                .map(|_| user_source(b.component));
            // Through the database's connection pool when it has one: its host, port
            // (25061), database (the pool's name) and user ("How to Manage Connection
            // Pools", docs.digitalocean.com: connect with the pool's details).
            let pool = database
                .filter(|d| d.pool.is_some())
                .map(|_| pool_source(b.component));
            let pooled = pool.as_ref().and_then(|p| match f {
                Field::Host => Some(p.attr("private_host")),
                Field::Port => Some(p.attr("port")),
                Field::Database => Some(p.attr("name")),
                Field::Username => Some(p.attr("user")),
                Field::Password => Some(p.attr("password")),
                Field::Url => {
                    let (before, _) = crate::wiring::url_around(b.kind, true, None);
                    let url = tpl!(
                        before,
                        p.attr("private_host"),
                        ":",
                        p.attr("port"),
                        "/",
                        p.attr("name")
                    );
                    Some(tpl!(url, crate::wiring::url_query(b.kind, true), ca(b)))
                }
                _ => None,
            });
            // The release step goes around the pool (`wiring::pool`): the cluster's own
            // host, port, database and URL under `direct.<VAR>` beside the pooled value,
            // which its Job reads instead.
            let direct = pooled.is_some()
                && crate::wiring::pool::DIFFERS.contains(&f)
                && bp
                    .services
                    .iter()
                    .any(|x| x.name == service && x.release.is_some());
            let value = match f {
                _ if pooled.is_some() && !direct => pooled.clone().expect("just matched"),
                Field::Host => c.attr("private_host"),
                Field::ReplicaHost => replica_source(b.component).attr("private_host"),
                Field::Port => c.attr("port"),
                Field::Database => db(),
                // A DigitalOcean MongoDB cluster is a replica set whose host name is a DNS
                // seed list (SRV records `_mongodb._tcp.<host>` naming its members):
                // DigitalOcean's own connection strings are `mongodb+srv://…@<host>/…`, and
                // the SRV form takes no port ("If you use the SRV URI connection format, you
                // can specify only one host and no port",
                // https://www.mongodb.com/docs/manual/reference/connection-string-formats/).
                Field::Url if b.kind == Kind::Database(DatabaseEngine::Mongodb) => {
                    let url = tpl!("mongodb+srv://", c.attr("private_host"), "/", db());
                    tpl!(url, crate::wiring::url_query(b.kind, true), ca(b))
                }
                // The PEM itself, in the Secret under `<NAME>_CA_CERT`; the variable is the
                // path the pod mounts it at (`k8s::connect::ca_volume`).
                Field::CaFile => {
                    secrets.push((
                        crate::wiring::ca_cert_key(&b.var),
                        ca_source(b.component).attr("certificate"),
                    ));
                    continue;
                }
                Field::Url => {
                    let (before, _) = crate::wiring::url_around(b.kind, true, None);
                    let mut url = tpl!(before, c.attr("private_host"), ":", c.attr("port"));
                    if database.is_some() {
                        url = tpl!(url, "/", db());
                    }
                    tpl!(url, crate::wiring::url_query(b.kind, true), ca(b))
                }
                Field::Username => user
                    .as_ref()
                    .map_or_else(|| c.attr("user"), |u| u.attr("name")),
                Field::Password => user
                    .as_ref()
                    .map_or_else(|| c.attr("password"), |u| u.attr("password")),
                _ => continue,
            };
            let mut values = vec![(b.var.clone(), value)];
            if direct {
                let direct_value = values.pop().expect("one").1;
                values.push((crate::wiring::pool::direct_key(&b.var), direct_value));
                values.push((b.var.clone(), pooled.expect("a pool")));
            }
            for (key, value) in values {
                if f.secret() {
                    secrets.push((key, value));
                } else {
                    endpoints.push((key, value));
                }
            }
        }
        out.push((ns, service, endpoints, secrets));
    }
    out
}

/// DOKS installs and manages the Gateway API CRDs itself ("DOKS installs and manages Gateway
/// Custom Resource Definitions (CRDs) for Gateway, GatewayClass, HTTPRoute, TLSRoute,
/// GRPCRoute, and ReferenceGrant by default",
/// <https://docs.digitalocean.com/products/kubernetes/how-to/use-gateway-api/>) and puts its
/// version back unless a CRD carries `doks.digitalocean.com/install-policy: external`
/// (digitalocean/DOKS#33). The Envoy Gateway release leaves those CRDs to DOKS
/// (`helm::provider_managed_gateway_api`); which version DOKS serves is not published, so
/// the operator checks it once.
const DOKS_GATEWAY_API_CRDS: &str = "ingress.gateway: DOKS installs and manages the Gateway API CRDs (Gateway, GatewayClass, HTTPRoute, GRPCRoute, TLSRoute, ReferenceGrant) and the Envoy Gateway release leaves them in place (Helm never replaces an existing CRD; the chart's safe-upgrades ValidatingAdmissionPolicy, which would deny DOKS's own updates of them, is not installed). Envoy Gateway is built against the Gateway API its chart bundles (v1.6.1 with v1.9): after `infra` is applied, check what DOKS serves (`kubectl get crd httproutes.gateway.networking.k8s.io -o jsonpath='{.metadata.annotations.gateway\\.networking\\.k8s\\.io/bundle-version}'`); if it is older than the Envoy Gateway compatibility matrix asks, take the CRDs over as DigitalOcean documents: annotate those six CRDs `doks.digitalocean.com/install-policy=external`, then apply the chart's (`helm show crds oci://docker.io/envoyproxy/gateway-helm --version <chart> | kubectl apply --server-side --force-conflicts -f -`)";

/// The manifest generator's options on DOKS. Data services run where the analysis says
/// (`Validated::in_cluster`: managed queues in the cluster, DigitalOcean has no managed
/// RabbitMQ).
fn options(ctx: &Ctx) -> k8s::Options {
    let mut opts = k8s::Options {
        ingress_class: Some("nginx".into()),
        // The DigitalOcean CSI driver's default class (encrypted block storage volumes).
        storage_class: Some("do-block-storage".into()),
        // DOKS runs Cilium, which enforces NetworkPolicy ("DOKS uses Cilium as its CNI",
        // https://docs.digitalocean.com/products/kubernetes/details/managed/).
        network_policy_enforced: true,
        cilium: true,
        // The cluster's pod network: the blueprint's `cluster_subnet` (`overlay.rs`), else
        // DOKS's legacy overlay `10.244.0.0/16`.
        pod_cidr: Some(
            super::overlay::ranges(ctx)
                .map_or_else(|| k8s::DEFAULT_POD_CIDR.into(), |o| o.pods.to_string()),
        ),
        platform_namespaces: crate::backend::helm::platform_namespaces(ctx.v),
        // Databases keep their volumes when a claim is deleted: DOKS's own
        // `do-block-storage-retain` (dobs.csi.digitalocean.com, `reclaimPolicy: Retain`,
        // expandable), which every DOKS cluster ships beside `do-block-storage`. It is not
        // written under `k8s/`: a StorageClass's `volumeBindingMode` is immutable, so
        // applying one of that name that differs from DOKS's (`Immediate`) fails the apply.
        database_storage_class: Some("do-block-storage-retain".into()),
        image_pull_secret: super::registry::pull_secret(ctx),
        // The Envoy proxies' Service creates the load balancer with the Gateway API path.
        gateway_service_annotations: gateway_service_annotations(ctx),
        managed: Some(crate::wiring::Flavor::DigitalOcean),
        // DOKS labels every node with its pool's name ("Each node within the node pool has
        // a Kubernetes node label which is the node pool's name",
        // https://docs.digitalocean.com/glossary/node-pool/), and the pools are named as in
        // the blueprint (`cluster.rs`): `node_pool` pins by it even without pool labels.
        node_pool_label: Some("doks.digitalocean.com/node-pool".into()),
        // Backups copied to one of the blueprint's Spaces buckets (`spaces.rs`).
        object_store: Some(super::spaces::object_store(ctx)),
        ..Default::default()
    };
    let owned = connections::owned_namespaces(ctx.v, &opts);
    opts.platform_namespaces.extend(owned);
    // The Envoy proxies read PROXY protocol where their load balancer sends it
    // (`gateway_service_annotations`).
    opts.gateway_proxy_protocol = opts
        .gateway_service_annotations
        .get("service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol")
        .is_some_and(|v| v == "true");
    opts
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
    // `internal: true` is refused (`semantic::digitalocean`): a public entry built for it
    // would mislead.
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
    // Said only where written: the default (on) is for AWS's load balancers.
    if lb.deletion_protection == Some(true) {
        lost.push(
            "deletion_protection (a DigitalOcean load balancer has none: deleting the ingress-nginx Service deletes it)"
                .to_string(),
        );
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
pub fn manifests(ctx: &Ctx, shared: &Shared, out: &mut Output) {
    let bp = ctx.v.bp;
    if bp
        .ingress
        .as_ref()
        .is_some_and(|i| i.enabled && i.class == IngressClass::Alb)
    {
        ctx.note("ingress.class `alb`: DOKS has no AWS Load Balancer Controller; the Ingress uses class `nginx`");
    }
    let opts = &shared.opts;
    let secrets = k8s::manifests_and_secrets(ctx.v, opts).add_to(out);
    let made: Vec<String> = k8s::managed_bindings(ctx.v, opts)
        .into_iter()
        .filter(|(_, _, list)| {
            list.iter().any(|b| {
                b.secret() || b.value == crate::wiring::Value::Field(crate::wiring::Field::CaFile)
            })
        })
        .map(|(ns, s, _)| format!("{ns}/{}", k8s::connect::connections_name(&s)))
        .collect();
    let mut made = made;
    made.extend(
        super::spaces::backup_jobs(ctx)
            .into_iter()
            .map(|(db, ns, _)| format!("{ns}/{}", k8s::spaces_secret(&db))),
    );
    // The registry integration's `registry-<name>` Secret: DOKS keeps it in every namespace
    // (`registry::pull_secret`).
    if let Some(pull) = &opts.image_pull_secret {
        made.extend(
            secrets
                .keys()
                .filter(|at| at.split_once('/').is_some_and(|(_, n)| n == pull))
                .cloned(),
        );
    }
    let made = connections::made(&shared.creds, &made);
    let mut pre = connections::secret_preconditions(ctx.v, &secrets, &made);
    pre.extend(crate::backend::vpa::preconditions(ctx.v));
    connections::finish_preconditions(out, pre);
    for n in k8s::notes(ctx.v, opts) {
        ctx.note(n);
    }
}
