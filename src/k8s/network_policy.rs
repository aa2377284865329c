//! NetworkPolicies (`k8s/<namespace>/network-policies.yaml`) in every namespace that runs
//! workloads, and in the Gateway's namespace when cert-manager's HTTP-01 solver runs there
//! (even where the Gateway routes nothing: see [`policy_namespaces`]):
//!
//! - `default-deny-ingress`: no pod accepts traffic unless a policy allows it;
//! - `allow-same-namespace`: the services' pods of the namespace reach each other — never the
//!   in-cluster data services' pods, which only their users reach (policies are additive, so
//!   a `podSelector: {}` here would open every database to every pod of the namespace);
//! - `allow-ingress-traffic`: the ingress controller's namespace (matched by its
//!   `kubernetes.io/metadata.name` label) reaches the routed services on their ports;
//! - `allow-internal-load-balancer-traffic`: the internal load balancer's subnets reach the
//!   services marked `internal_routes` on their ports (where the platform builds one: an
//!   internal ALB targeting the pods), which the ingress controller's namespace does not;
//! - `allow-acme-http01-solver`: where an Ingress takes its certificate from cert-manager,
//!   the controller reaches the HTTP-01 solver pods cert-manager starts in the Ingress's
//!   namespace (label `acme.cert-manager.io/http01-solver: "true"`, port 8089);
//! - `<service>-netpol` per service: ingress from the controller (when routed), the
//!   namespace, and the monitoring namespace to the metrics port only (Prometheus); egress
//!   only to the namespace, DNS in `kube-system`, the data services in `uses` (in-cluster
//!   pods by label, managed ones by their subnets — on DigitalOcean the VPC and the
//!   engines' fixed ports), cloud APIs for tables and secrets
//!   (HTTPS), the API server when the pod mounts an API token, and the blueprint's
//!   `egress` rules — never the instance metadata service; a service another workload
//!   `uses` also admits that workload's pods, from any namespace, on its port (without
//!   per-service policies, in `<service>-from-users`), and they may reach its pods there;
//! - `<data>-netpol` per in-cluster data service: only its users, its peers and its jobs
//!   (and the monitoring namespace to the exporter's port).
//!
//! Scraping comes only from the monitoring namespace ([`Ctx::monitoring_namespace`]); with
//! none, no namespace may scrape.
//!
//! In the ingress-nginx controller's namespace (see [`controller_policies`]): a default deny,
//! the proxy ports open to all, metrics to the monitoring namespace, and the admission
//! webhook only from outside the pod network (CVE-2025-1974).
//!
//! They are written even where the platform does not enforce them (EKS on Fargate); the
//! back-end says so.

use std::collections::BTreeSet;

use super::yaml::{Map, Str, Y, map, seq};
use super::{Ctx, DataService, Files, Workload};
use crate::blueprint::types::Network;

/// The instance metadata address, excluded from every "anywhere" rule.
const METADATA: &str = "169.254.169.254/32";

fn policy<'c>(ctx: &'c Ctx, name: impl Into<Str<'c>>, ns: &'c str, spec: Map<'c>) -> Map<'c> {
    map! {
        "apiVersion" => "networking.k8s.io/v1",
        "kind" => "NetworkPolicy",
        "metadata" => ctx.meta(name, ns, Map::new()),
        "spec" => spec,
    }
}

fn tcp(ports: &[u16]) -> Vec<Map<'static>> {
    ports
        .iter()
        .map(|p| map! {"protocol" => "TCP", "port" => *p})
        .collect()
}

fn namespace_selector<'c>(ns: impl Into<Str<'c>>) -> Map<'c> {
    map! {"namespaceSelector" => map! {"matchLabels" => map! {"kubernetes.io/metadata.name" => Y::Str(ns.into())}}}
}

fn ip_block(cidr: &str) -> Map<'_> {
    let mut b = map! {"cidr" => cidr};
    if cidr == "0.0.0.0/0" {
        b.insert("except", seq![METADATA]);
    }
    map! {"ipBlock" => b}
}

/// Pods of `app` in `ns`, seen from a policy in `from_ns`.
fn pods<'c>(app: impl Into<Str<'c>>, ns: &'c str, from_ns: &str) -> Map<'c> {
    let mut peer =
        map! {"podSelector" => map! {"matchLabels" => map! {"app" => Y::Str(app.into())}}};
    if ns != from_ns {
        peer.extend(namespace_selector(ns));
    }
    peer
}

/// Whether the controller reaches pods through a namespace (ingress-nginx) rather than from
/// outside the cluster (an ALB targeting pod IPs).
fn controller_in_cluster(ctx: &Ctx) -> bool {
    // The Gateway's Envoy proxies run in Envoy Gateway's namespace, whatever the class.
    super::gateway::gateway(ctx).is_some() || super::ingress::class(ctx) != "alb"
}

/// The load balancer's addresses when it reaches pods directly (an ALB targeting pod IPs;
/// [`super::Options::load_balancer_sources`]), as policy peers.
fn load_balancer_peers<'c>(ctx: &'c Ctx) -> Option<Vec<Map<'c>>> {
    if controller_in_cluster(ctx) || ctx.opts.load_balancer_sources.is_empty() {
        return None;
    }
    Some(
        ctx.opts
            .load_balancer_sources
            .iter()
            .map(|c| ip_block(c))
            .collect(),
    )
}

/// The internal load balancer's addresses, as policy peers, for a service it routes to
/// (`internal_routes`, [`super::Options::internal_load_balancer`]): it targets the pods'
/// IPs from its nodes in the private subnets, so no namespace selector admits it. The
/// public edge's controller is not admitted to these services at all.
fn internal_load_balancer_peers<'c>(ctx: &'c Ctx, s: &Workload) -> Option<Vec<Map<'c>>> {
    let lb = ctx.opts.internal_load_balancer.as_ref()?;
    (s.internal && !lb.sources.is_empty()).then(|| lb.sources.iter().map(|c| ip_block(c)).collect())
}

/// Where a managed data service lives: its subnet tier, else the VPC (also for an existing
/// VPC, whose subnets are ids), else anywhere.
fn managed_cidrs<'c>(net: Option<&'c Network>, part: &str) -> Vec<&'c str> {
    let Some(n) = net else {
        return vec!["0.0.0.0/0"];
    };
    // An existing VPC's subnets are given by id: their ranges are not known at synth.
    if n.existing.is_some() {
        return vec![n.cidr.as_str()];
    }
    let tiers: &[&Vec<String>] = match part {
        "databases" => &[&n.subnets.database],
        _ => &[&n.subnets.cache, &n.subnets.database],
    };
    tiers
        .iter()
        .find(|t| !t.is_empty())
        .map(|t| t.iter().map(String::as_str).collect())
        .unwrap_or_else(|| vec![n.cidr.as_str()])
}

/// Where a DigitalOcean managed database or cache lives: an address of the VPC it is
/// attached to (`private_network_uuid`; DigitalOcean VPCs have no subnet tiers), else
/// anywhere (its public host).
fn vpc_cidr(net: Option<&Network>) -> Vec<&str> {
    vec![net.map_or("0.0.0.0/0", |n| n.cidr.as_str())]
}

/// The fixed ports of DigitalOcean's managed engines, whatever the blueprint's `port` says
/// (the back-end notes that): PostgreSQL and MySQL 25060, MongoDB 27017, Valkey 25061 (TLS).
/// <https://docs.digitalocean.com/products/databases/postgresql/how-to/connect/>
fn digitalocean_database_port(engine: crate::blueprint::types::DatabaseEngine) -> u16 {
    match engine {
        crate::blueprint::types::DatabaseEngine::Mongodb => 27017,
        _ => 25060,
    }
}
const DIGITALOCEAN_VALKEY_PORT: u16 = 25061;
/// A managed PostgreSQL cluster's connection pools (`databases[].pool`).
const DIGITALOCEAN_POOL_PORT: u16 = 25061;

/// Prometheus, from the monitoring namespace, scrapes the metrics port.
fn scrape<'c>(ctx: &'c Ctx, port: u16) -> Option<Map<'c>> {
    let ns = ctx.monitoring_namespace()?;
    Some(map! {
        "from" => vec![namespace_selector(ns)],
        "ports" => tcp(&[port]),
    })
}

/// Selects every pod of a namespace except its in-cluster data services' (by `app`).
fn not_data<'c>(ctx: &'c Ctx, ns: &str) -> Map<'c> {
    let data: Vec<&str> = ctx
        .data
        .iter()
        .filter(|d| d.namespace == ns)
        .map(|d| d.name.as_str())
        .collect();
    if data.is_empty() {
        return Map::new();
    }
    map! {"matchExpressions" => vec![map! {"key" => "app", "operator" => "NotIn", "values" => data}]}
}

/// Whether an Ingress (or the Gateway) in `ns` gets its certificate from an ACME issuer
/// through the in-cluster controller (HTTP-01 solver pods then run in `ns`). An issuer the blueprint does not
/// declare may be ACME too.
fn acme_solver_in(ctx: &Ctx, ns: &str) -> bool {
    let Some(issuer) = ctx
        .bp
        .ingress
        .as_ref()
        .filter(|i| i.enabled)
        .and_then(|i| i.tls.as_ref())
        .and_then(|t| t.issuer.as_ref())
    else {
        return false;
    };
    let acme = ctx
        .platform
        .issuers
        .iter()
        .find(|i| &i.name == issuer)
        .is_none_or(|i| i.kind == crate::blueprint::types::IssuerKind::Acme);
    if !acme || !controller_in_cluster(ctx) {
        return false;
    }
    // cert-manager solves a Gateway's challenges in the Gateway's namespace (that of the
    // Certificate it makes for the Gateway), whichever namespaces the routes come from.
    if super::gateway::gateway(ctx).is_some() {
        return super::gateway::gateway_namespace(ctx) == ns;
    }
    ctx.services.iter().any(|s| s.routed && s.namespace == ns)
}

/// Ports the API server's endpoints listen on, unless the platform names its own
/// ([`super::Options::api_server_ports`]).
const API_SERVER_PORTS: [u16; 2] = [443, 6443];

fn api_server_ports<'c>(ctx: &'c Ctx) -> &'c [u16] {
    if ctx.opts.api_server_ports.is_empty() {
        &API_SERVER_PORTS
    } else {
        &ctx.opts.api_server_ports
    }
}

/// The port cert-manager's HTTP-01 solver pods listen on.
pub const ACME_SOLVER_PORT: u16 = 8089;
/// ingress-nginx controller ports: proxy, metrics, admission webhook.
const NGINX_PROXY_PORTS: [u16; 2] = [80, 443];
const NGINX_METRICS_PORT: u16 = 10254;
pub const NGINX_WEBHOOK_PORT: u16 = 8443;

/// DNS: the cluster DNS pods (in `kube-system` on 53 unless the platform says otherwise:
/// OpenShift runs them in `openshift-dns` on 5353), and the node-local caches the platform
/// names ([`super::Options::dns_caches`]), which run on the host network where no selector
/// reaches and which pods always query on 53 (a `resolv.conf` nameserver has no port). A
/// NetworkPolicy judges a lookup after the DNS Service's 53 is translated to the pod's port
/// (openshift/kubernetes-nmstate#776, OCPBUGS-94072): where that port is not 53 the pods and
/// the caches get a rule each, so neither is opened on the other's port.
fn dns<'c>(ctx: &'c Ctx) -> Vec<Map<'c>> {
    let dns_ports = |port: u16| {
        vec![
            map! {"protocol" => "UDP", "port" => port},
            map! {"protocol" => "TCP", "port" => port},
        ]
    };
    let pods = namespace_selector(ctx.opts.dns_namespace.as_deref().unwrap_or("kube-system"));
    let caches = ctx.opts.dns_caches.iter().map(|c| ip_block(c));
    match ctx.opts.dns_port.unwrap_or(53) {
        53 => {
            let to: Vec<Map> = std::iter::once(pods).chain(caches).collect();
            vec![map! {"to" => to, "ports" => dns_ports(53)}]
        }
        port => {
            let mut rules = vec![map! {"to" => vec![pods], "ports" => dns_ports(port)}];
            let caches: Vec<Map> = caches.collect();
            if !caches.is_empty() {
                rules.push(map! {"to" => caches, "ports" => dns_ports(53)});
            }
            rules
        }
    }
}

/// Egress rules to the components a service `uses`; `release`: for its release Job, which
/// reaches a pooled database around its pool (`wiring::pool`).
fn uses_egress<'c>(ctx: &'c Ctx, s: &'c Workload, release: bool) -> Vec<Map<'c>> {
    let bp = ctx.bp;
    let mut rules = Vec::new();
    let mut cloud_api = false;
    for u in &s.bp.uses {
        if let Some(d) = ctx.data.iter().find(|d| &d.name == u) {
            rules.push(map! {
                "to" => vec![pods(&d.name, &d.namespace, &s.namespace)],
                "ports" => tcp(&[d.port]),
            });
            continue;
        }
        // Another service: its pods (every track and colour carry `app`) on the container
        // port the Service forwards to, in whichever namespace they run.
        if let Some(t) = used_service(ctx, u.as_str()) {
            if let Some(port) = t.bp.port {
                rules.push(map! {
                    "to" => vec![pods(t.name(), &t.namespace, &s.namespace)],
                    "ports" => tcp(&[port]),
                });
            }
            continue;
        }
        let digitalocean = ctx.opts.managed == Some(crate::wiring::Flavor::DigitalOcean);
        let managed = |part: &str, port: u16| {
            let cidrs = if digitalocean {
                vpc_cidr(bp.network.as_ref())
            } else {
                managed_cidrs(bp.network.as_ref(), part)
            };
            map! {
                "to" => cidrs.iter().map(|c| ip_block(c)).collect::<Vec<_>>(),
                "ports" => tcp(&[port]),
            }
        };
        if let Some(db) = bp.databases.iter().find(|x| &x.name == u) {
            let direct = release && crate::wiring::pool::release_goes_direct(db, ctx.opts.managed);
            let port = if digitalocean && db.pool.is_some() && !direct {
                // Its services connect through its connection pool (PgBouncer), which
                // listens on 25061 ("How to Manage Connection Pools", docs.digitalocean.com);
                // a release Job goes to the cluster itself, on 25060.
                DIGITALOCEAN_POOL_PORT
            } else if digitalocean {
                digitalocean_database_port(db.engine)
            } else {
                db.port
                    .unwrap_or_else(|| super::data::default_port(super::Engine::from(db.engine)))
            };
            rules.push(managed("databases", port));
        } else if let Some(c) = bp.caches.iter().find(|x| &x.name == u) {
            let port = if digitalocean {
                DIGITALOCEAN_VALKEY_PORT
            } else {
                c.port.unwrap_or(6379)
            };
            rules.push(managed("caches", port));
        } else if bp.brokers().any(|x| &x.name == u) {
            // Managed brokers speak AMQP over TLS.
            rules.push(managed("queues", 5671));
        } else {
            // Tables and secrets are cloud APIs.
            cloud_api = true;
        }
    }
    if cloud_api {
        rules.push(map! {"to" => vec![ip_block("0.0.0.0/0")], "ports" => tcp(&[443])});
    }
    rules
}

/// The service (not a job) named `name`, when a workload `uses` it.
fn used_service<'c>(ctx: &'c Ctx, name: &str) -> Option<&'c Workload<'c>> {
    ctx.services
        .iter()
        .find(|t| t.job.is_none() && t.name() == name)
}

/// Ingress from the workloads that `uses` service `s`, from any namespace, on its port.
fn users_ingress<'c>(ctx: &'c Ctx, s: &'c Workload) -> Option<Map<'c>> {
    let port = s.bp.port?;
    let from: Vec<Map> = ctx
        .services
        .iter()
        .filter(|u| u.bp.uses.iter().any(|x| x.as_str() == s.name()))
        .flat_map(|u| {
            apps_of(u)
                .into_iter()
                .map(|a| pods(a, &u.namespace, &s.namespace))
        })
        .collect();
    (!from.is_empty()).then(|| map! {"from" => from, "ports" => tcp(&[port])})
}

/// The `app` labels of a workload's pods: its own, and its release step's
/// (`super::release`), which reaches what the workload `uses`.
fn apps_of<'c>(s: &'c Workload) -> Vec<Str<'c>> {
    let mut apps: Vec<Str> = vec![s.name().into()];
    if s.job.is_none() && s.bp.release.is_some() {
        apps.push(super::release::app(s).into());
    }
    apps
}

/// Whether the workload's pods talk to the API server: those given a token, and those whose
/// `wait-for-release` init container reads the release Job (`super::release`).
fn talks_to_api_server(s: &Workload) -> bool {
    s.automount || (s.job.is_none() && s.bp.release.is_some())
}

/// The policy of a service's release Job (`super::release`): nothing enters; out to what the
/// app may reach but its replicas' peer ports and the API server (the Job gets no token
/// unless the app's ServiceAccount mounts one): DNS, the namespace where the platform allows
/// it, what it `uses`, its `egress`.
fn release_policy<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    let np = &ctx.platform.network_policies;
    let mut egress = Vec::new();
    if np.allow_same_namespace {
        egress.push(map! {"to" => vec![map! {"podSelector" => Map::new()}]});
    }
    egress.extend(dns(ctx));
    egress.extend(uses_egress(ctx, s, true));
    if s.automount {
        egress.push(
            map! {"to" => vec![ip_block("0.0.0.0/0")], "ports" => tcp(api_server_ports(ctx))},
        );
    }
    for e in &s.bp.egress {
        egress.push(map! {"to" => vec![ip_block(&e.to)], "ports" => tcp(&e.ports)});
    }
    // No `ingress` rules: with `Ingress` in policyTypes, an absent list admits nothing, as an
    // empty one does (API reference, NetworkPolicySpec). The key is left out rather than
    // written `[]`: the API server drops an empty list (`json:"ingress,omitempty"`), so a
    // field-by-field diff of manifest and live object (Argo CD's default) would show it
    // OutOfSync for ever — as argoproj/argo-cd#16758 (an empty `syncPolicy: {}` the API
    // drops).
    map! {
        "podSelector" => map! {"matchLabels" => map! {"app" => super::release::app(s)}},
        "policyTypes" => seq!["Ingress", "Egress"],
        "egress" => egress,
    }
}

/// The pods of service `s`, every track and colour: the peers of a pod that clusters.
fn peers<'c>(s: &'c Workload) -> Map<'c> {
    map! {"podSelector" => map! {"matchLabels" => map! {"app" => s.name()}}}
}

/// Replicas that cluster (`peer_ports`) reach each other on those ports whatever
/// `allow_same_namespace` and `per_service` say: without it `default-deny-ingress` drops the
/// distribution connections and each pod runs as a cluster of one.
fn peers_ingress<'c>(s: &'c Workload) -> Option<Map<'c>> {
    (!s.bp.peer_ports.is_empty())
        .then(|| map! {"from" => vec![peers(s)], "ports" => tcp(&s.bp.peer_ports)})
}

fn service_policy<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    let np = &ctx.platform.network_policies;
    let mut ports: Vec<u16> = s.bp.port.into_iter().collect();
    let metrics = s.bp.metrics.as_ref().and_then(|m| m.port.or(s.bp.port));
    if let Some(p) = metrics
        && !ports.contains(&p)
    {
        ports.push(p);
    }
    let mut ingress = Vec::new();
    if s.routed
        && controller_in_cluster(ctx)
        && let Some(port) = s.bp.port
    {
        ingress.push(map! {
            "from" => vec![namespace_selector(ctx.ingress_namespace())],
            "ports" => tcp(&[port]),
        });
    }
    if s.routed
        && let Some(port) = s.bp.port
        && let Some(from) = load_balancer_peers(ctx)
    {
        ingress.push(map! {"from" => from, "ports" => tcp(&[port])});
    }
    if let Some(port) = s.bp.port
        && let Some(from) = internal_load_balancer_peers(ctx, s)
    {
        ingress.push(map! {"from" => from, "ports" => tcp(&[port])});
    }
    // A worker with no port (and no metrics port) accepts nothing, not even from its
    // namespace: an ingress rule without ports would open every port.
    if np.allow_same_namespace && !ports.is_empty() {
        ingress.push(map! {
            "from" => vec![map! {"podSelector" => Map::new()}],
            "ports" => tcp(&ports),
        });
    }
    if let Some(p) = metrics
        && let Some(rule) = scrape(ctx, p)
    {
        ingress.push(rule);
    }
    ingress.extend(users_ingress(ctx, s));
    ingress.extend(peers_ingress(s));
    let mut egress = Vec::new();
    if np.allow_same_namespace {
        egress.push(map! {"to" => vec![map! {"podSelector" => Map::new()}]});
    } else if !s.bp.peer_ports.is_empty() {
        egress.push(map! {"to" => vec![peers(s)], "ports" => tcp(&s.bp.peer_ports)});
    }
    egress.extend(dns(ctx));
    egress.extend(uses_egress(ctx, s, false));
    if talks_to_api_server(s) {
        // A pod given an API token talks to the API server: the `kubernetes` Service's
        // endpoints are the control plane's addresses (outside the pod network), on 443
        // (EKS, DOKS), 6443 (kubeadm, kind, k3s) or 8443 (minikube): `api_server_ports`.
        egress.push(
            map! {"to" => vec![ip_block("0.0.0.0/0")], "ports" => tcp(api_server_ports(ctx))},
        );
    }
    for e in &s.bp.egress {
        egress.push(map! {"to" => vec![ip_block(&e.to)], "ports" => tcp(&e.ports)});
    }
    map! {
        "podSelector" => map! {"matchLabels" => map! {"app" => s.name()}},
        "policyTypes" => seq!["Ingress", "Egress"],
    }
    // Left out when empty, as the API server stores it (see `release_policy`).
    .nonempty("ingress", ingress)
    .with("egress", egress)
}

fn data_policy<'c>(ctx: &'c Ctx, d: &'c DataService) -> Map<'c> {
    let mut from: Vec<Map> = Vec::new();
    for u in &d.users {
        if let Some(s) = ctx.services.iter().find(|s| &s.bp.name == u) {
            for app in apps_of(s) {
                from.push(pods(app, &s.namespace, &d.namespace));
            }
        }
    }
    from.push(pods(&d.name, &d.namespace, &d.namespace));
    for job in super::data::job_apps(d) {
        from.push(pods(job, &d.namespace, &d.namespace));
    }
    let mut ingress = vec![map! {"from" => from, "ports" => tcp(&d.ports())}];
    if let Some(p) = d.metrics_port()
        && let Some(rule) = scrape(ctx, p)
    {
        ingress.push(rule);
    }
    map! {
        "podSelector" => map! {"matchLabels" => map! {"app" => d.name.as_str()}},
        "policyTypes" => seq!["Ingress"],
        "ingress" => ingress,
    }
}

/// The namespaces that get the policies of [`lower`]: those that run workloads, and the
/// Gateway's when cert-manager's HTTP-01 solver runs there. A Gateway that routes nothing
/// (its services have no `routes`, or the ingress namespace runs no workload) still takes
/// its certificate, and the solver pod cert-manager starts beside it would otherwise accept
/// connections from every namespace.
fn policy_namespaces<'c>(ctx: &'c Ctx) -> BTreeSet<&'c str> {
    let mut namespaces = ctx.app_namespaces();
    if super::gateway::gateway(ctx).is_some() {
        let ns = super::gateway::gateway_namespace(ctx);
        if acme_solver_in(ctx, ns) {
            namespaces.insert(ns);
        }
    }
    namespaces
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    let np = &ctx.platform.network_policies;
    for ns in policy_namespaces(ctx) {
        let mut docs = Vec::new();
        if np.default_deny_ingress {
            docs.push(policy(
                ctx,
                "default-deny-ingress",
                ns,
                map! {"podSelector" => Map::new(), "policyTypes" => seq!["Ingress"]},
            ));
        }
        if np.allow_same_namespace {
            docs.push(policy(
                ctx,
                "allow-same-namespace",
                ns,
                map! {
                    "podSelector" => not_data(ctx, ns),
                    "policyTypes" => seq!["Ingress"],
                    "ingress" => vec![map! {"from" => vec![map! {"podSelector" => Map::new()}]}],
                },
            ));
        }
        // Either namespace-wide policy isolates the solver pods (`allow-same-namespace`
        // selects every pod but the data services' and admits only the namespace), so
        // either needs the solver's allowance: without it, with `default_deny_ingress: false`
        // the ingress controller or Envoy's proxies (another namespace) never reach the
        // solver and the certificate is never issued.
        if (np.default_deny_ingress || np.allow_same_namespace) && acme_solver_in(ctx, ns) {
            docs.push(policy(
                ctx,
                "allow-acme-http01-solver",
                ns,
                map! {
                    "podSelector" => map! {"matchLabels" => map! {"acme.cert-manager.io/http01-solver" => "true"}},
                    "policyTypes" => seq!["Ingress"],
                    "ingress" => vec![map! {
                        "from" => vec![namespace_selector(ctx.ingress_namespace())],
                        "ports" => tcp(&[ACME_SOLVER_PORT]),
                    }],
                },
            ));
        }
        let routed: Vec<&Workload> = ctx
            .services
            .iter()
            .filter(|s| s.namespace == ns && s.routed)
            .collect();
        if np.allow_from_ingress && !routed.is_empty() {
            // The routed services' ports, open to whatever brings the traffic in: the ALB's
            // subnets when it targets the pods directly, else the in-cluster controller.
            let apps: Vec<&str> = routed.iter().map(|s| s.name()).collect();
            let ports: BTreeSet<u16> = routed.iter().filter_map(|s| s.bp.port).collect();
            let ports: Vec<u16> = ports.into_iter().collect();
            let admit = |name: &'static str, from: Vec<Map<'c>>| {
                policy(
                    ctx,
                    name,
                    ns,
                    map! {
                        "podSelector" => map! {
                            "matchExpressions" => vec![map! {"key" => "app", "operator" => "In", "values" => apps.clone()}],
                        },
                        "policyTypes" => seq!["Ingress"],
                        "ingress" => vec![map! {"from" => from, "ports" => tcp(&ports)}],
                    },
                )
            };
            if let Some(from) = load_balancer_peers(ctx) {
                docs.push(admit("allow-load-balancer-traffic", from));
            }
            if controller_in_cluster(ctx) {
                docs.push(admit(
                    "allow-ingress-traffic",
                    vec![namespace_selector(ctx.ingress_namespace())],
                ));
            }
        }
        let internal: Vec<&Workload> = ctx
            .services
            .iter()
            .filter(|s| s.namespace == ns && s.internal)
            .collect();
        if np.allow_from_ingress
            && let Some(from) = internal
                .first()
                .and_then(|s| internal_load_balancer_peers(ctx, s))
        {
            let apps: Vec<&str> = internal.iter().map(|s| s.name()).collect();
            let ports: BTreeSet<u16> = internal.iter().filter_map(|s| s.bp.port).collect();
            let ports: Vec<u16> = ports.into_iter().collect();
            docs.push(policy(
                ctx,
                "allow-internal-load-balancer-traffic",
                ns,
                map! {
                    "podSelector" => map! {
                        "matchExpressions" => vec![map! {"key" => "app", "operator" => "In", "values" => apps}],
                    },
                    "policyTypes" => seq!["Ingress"],
                    "ingress" => vec![map! {"from" => from, "ports" => tcp(&ports)}],
                },
            ));
        }
        if np.per_service {
            for s in ctx.services.iter().filter(|s| s.namespace == ns) {
                docs.push(policy(
                    ctx,
                    format!("{}-netpol", s.name()),
                    ns,
                    service_policy(ctx, s),
                ));
                if s.job.is_none() && s.bp.release.is_some() {
                    docs.push(policy(
                        ctx,
                        format!("{}-netpol", super::release::app(s)),
                        ns,
                        release_policy(ctx, s),
                    ));
                }
            }
        } else {
            // Without per-service policies a service's users in other namespaces would meet
            // `default-deny-ingress` alone: admit them by name.
            // Nor would the replicas of a service that clusters reach each other.
            for s in ctx.services.iter().filter(|s| s.namespace == ns) {
                for (suffix, rule) in [
                    ("from-users", users_ingress(ctx, s)),
                    ("peers", peers_ingress(s)),
                ] {
                    let Some(rule) = rule else { continue };
                    docs.push(policy(
                        ctx,
                        format!("{}-{suffix}", s.name()),
                        ns,
                        map! {
                            "podSelector" => map! {"matchLabels" => map! {"app" => s.name()}},
                            "policyTypes" => seq!["Ingress"],
                            "ingress" => vec![rule],
                        },
                    ));
                }
            }
        }
        // Data services' policies do not depend on `per_service`: `allow-same-namespace`
        // never reaches their pods, so without them no user could connect.
        for d in ctx.data.iter().filter(|d| d.namespace == ns) {
            docs.push(policy(
                ctx,
                format!("{}-netpol", d.name),
                ns,
                data_policy(ctx, d),
            ));
        }
        if np.per_service && ctx.opts.cilium {
            docs.extend(api_server_entity(ctx, ns));
        }
        files.at(&ctx.path(ns, "network-policies")).extend(docs);
    }
    controller_policies(ctx, files);
}

/// On Cilium, the API server's addresses carry the `kube-apiserver` identity, which the
/// `ipBlock` rule of [`service_policy`] may not select (cilium/cilium#20550: egress to the API
/// server dropped although `0.0.0.0/0` is allowed). The pods of `ns` that talk to the API
/// server (those given a token) also get Cilium's own rule, `toEntities: kube-apiserver`
/// (<https://docs.cilium.io/en/stable/security/policy/language/#entities-based>), on the
/// same ports. Allow rules add up, so where the `ipBlock` does match this changes nothing.
fn api_server_entity<'c>(ctx: &'c Ctx, ns: &'c str) -> Option<Map<'c>> {
    let mut apps: Vec<Str> = Vec::new();
    for s in ctx.services.iter().filter(|s| s.namespace == ns) {
        if talks_to_api_server(s) {
            apps.push(s.name().into());
        }
        // The release Job mounts a token when the app's ServiceAccount does.
        if s.automount && s.job.is_none() && s.bp.release.is_some() {
            apps.push(super::release::app(s).into());
        }
    }
    if apps.is_empty() {
        return None;
    }
    let ports: Vec<Map> = api_server_ports(ctx)
        .iter()
        .map(|p| map! {"port" => p.to_string(), "protocol" => "TCP"})
        .collect();
    Some(map! {
        "apiVersion" => "cilium.io/v2",
        "kind" => "CiliumNetworkPolicy",
        "metadata" => ctx.meta("allow-kube-apiserver", ns, Map::new()),
        "spec" => map! {
            "endpointSelector" => map! {
                "matchExpressions" => vec![map! {"key" => "app", "operator" => "In", "values" => apps}],
            },
            "egress" => vec![map! {
                "toEntities" => seq!["kube-apiserver"],
                "toPorts" => vec![map! {"ports" => ports}],
            }],
        },
    })
}

/// Whether the blueprint runs ingress-nginx (its controller namespace gets policies). With
/// the Gateway API (`ingress.gateway`) Envoy Gateway takes the traffic and ingress-nginx is
/// not installed, whatever `kubernetes.ingress_controller` says.
pub(crate) fn nginx_controller(ctx: &Ctx) -> bool {
    ctx.bp.ingress_nginx().is_some()
}

/// Policies of the ingress-nginx namespace: nothing enters but the proxy ports (from
/// anywhere: the load balancer's and the cluster's clients), the metrics port (from the
/// monitoring namespace) and the admission webhook — which the API server calls and which,
/// reachable from the pod network, lets any pod inject configuration into the controller
/// (CVE-2025-1974, "IngressNightmare"). The webhook admits `kube-system` (where the API
/// server's tunnel agents run on managed clusters) and addresses outside the pod network;
/// where no address range tells pods apart ([`super::Options::pod_cidr`] `None`) its port
/// stays closed and the back-end disables the webhook.
fn controller_policies<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    let np = &ctx.platform.network_policies;
    if !np.default_deny_ingress || !nginx_controller(ctx) {
        return;
    }
    let ns = ctx.ingress_namespace();
    let proxy: &[u16] = if ctx.opts.ingress_controller_ports.is_empty() {
        &NGINX_PROXY_PORTS
    } else {
        &ctx.opts.ingress_controller_ports
    };
    let mut ingress = vec![map! {"ports" => tcp(proxy)}];
    let metrics = ctx
        .platform
        .ingress_controller
        .as_ref()
        .is_some_and(|c| c.metrics);
    if metrics && let Some(rule) = scrape(ctx, NGINX_METRICS_PORT) {
        ingress.push(rule);
    }
    if let Some(pods) = &ctx.opts.pod_cidr {
        let outside = map! {"ipBlock" => map! {
            "cidr" => "0.0.0.0/0",
            "except" => seq![METADATA, pods.as_str()],
        }};
        ingress.push(map! {
            "from" => vec![namespace_selector("kube-system"), outside],
            "ports" => tcp(&[NGINX_WEBHOOK_PORT]),
        });
    }
    let deny = map! {"podSelector" => Map::new(), "policyTypes" => seq!["Ingress"]};
    let controller = map! {
        "podSelector" => map! {"matchLabels" => map! {
            "app.kubernetes.io/name" => "ingress-nginx",
            "app.kubernetes.io/component" => "controller",
        }},
        "policyTypes" => seq!["Ingress"],
    }
    // Left out when empty, as the API server stores it (see `release_policy`).
    .nonempty("ingress", ingress);
    let docs = files.at(&ctx.path(&ns, "network-policies"));
    // The namespace is the controller's, not the blueprint's: the objects carry its name.
    docs.push(map! {
        "apiVersion" => "networking.k8s.io/v1",
        "kind" => "NetworkPolicy",
        "metadata" => ctx.meta("default-deny-ingress", ns.clone(), Map::new()),
        "spec" => deny,
    });
    docs.push(map! {
        "apiVersion" => "networking.k8s.io/v1",
        "kind" => "NetworkPolicy",
        "metadata" => ctx.meta("ingress-nginx-controller", ns.clone(), Map::new()),
        "spec" => controller,
    });
    if ctx.opts.cilium && ctx.opts.pod_cidr.is_some() {
        // Under Cilium the API server's calls to the admission webhook may arrive with the
        // `kube-apiserver` identity, which neither rule above selects (see
        // [`api_server_entity`]): Cilium's own rule admits that entity on the webhook port.
        docs.push(map! {
            "apiVersion" => "cilium.io/v2",
            "kind" => "CiliumNetworkPolicy",
            "metadata" => ctx.meta("allow-kube-apiserver-webhook", ns, Map::new()),
            "spec" => map! {
                "endpointSelector" => map! {"matchLabels" => map! {
                    "app.kubernetes.io/name" => "ingress-nginx",
                    "app.kubernetes.io/component" => "controller",
                }},
                "ingress" => vec![map! {
                    "fromEntities" => seq!["kube-apiserver"],
                    "toPorts" => vec![map! {"ports" => vec![map! {
                        "port" => NGINX_WEBHOOK_PORT.to_string(),
                        "protocol" => "TCP",
                    }]}],
                }],
            },
        });
    }
}
