//! Kubernetes manifests for every service and the platform objects (namespaces, RBAC,
//! network policies, issuers, …), shared by every cluster back-end (EKS, EKS Fargate, DOKS,
//! an existing cluster).
//!
//! Objects are typed value trees ([`yaml::Map`]) built per concept (one file each here) and
//! written as one YAML file per workload or object group under `k8s/<namespace>/`, with
//! cluster-scoped objects under `k8s/cluster/` and a `k8s/kustomization.yaml` listing every
//! file. Everything is derived from blueprint names and sorted; secrets appear only as
//! references (Secret names and keys).

mod autoscaling;
mod backup;
mod blue_green;
pub use autoscaling::uses_resource_metrics;
pub use backup::spaces_secret;
mod capacity;
mod config_files;
pub mod connect;
mod cronjob;
mod data;
pub(crate) mod env;
/// The pinned image of a data engine's version (what in-cluster servers run).
pub(crate) use data::default_image;
mod gateway;
pub use gateway::{ENVOY_GATEWAY_NAMESPACE, stripped_prefix};
pub(crate) use ingress::is_regex as is_regex_path;
mod ingress;
mod internal_ingress;
mod issuer;
mod keda;
pub use keda::scales_on_queues;
mod kustomization;
mod namespace;
mod network_policy;
mod pod_slots;
mod quantity;
pub mod quota;
mod rbac;
mod readiness_gate;
pub use readiness_gate::INJECT_LABEL as READINESS_GATE_LABEL;
pub use readiness_gate::{PROXY_DRAIN_SECONDS, PROXY_SHUTDOWN_PAUSE_SECONDS};
mod release;
mod service;
pub(crate) mod workload;
pub mod yaml;

/// A gRPC Service port's `appProtocol`, which `extra` templates read back.
pub(crate) use release::{cluster_minor, kubectl_line};
pub(crate) use service::H2C;

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::{DataKind, Validated};
use crate::blueprint::types::{Blueprint, KubernetesPlatform, Service, Strategy};
use yaml::{Map, Str, map};

/// The usual pod network of overlay CNIs (kubeadm with flannel, DOKS).
pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/16";
/// The link-local address of NodeLocal DNSCache, the per-node DNS cache pods' resolvers point
/// at where it runs: the Kubernetes add-on's documented default, and GKE's, where it is on in
/// every Autopilot cluster (it cannot be turned off) and in Standard clusters from 1.34.1
/// ("Set up NodeLocal DNSCache", Google Cloud). The cache runs on the host network, so no
/// `namespaceSelector` matches it: a DNS rule to `kube-system` alone drops every lookup.
pub const NODE_LOCAL_DNS: &str = "169.254.20.10/32";
/// The resolvers on the node's host network an existing cluster's pods may be pointed at
/// instead of the cluster DNS pods, all of which an egress rule reaches by address only:
/// - [`NODE_LOCAL_DNS`] (the add-on's default; GKE's NodeLocal DNSCache);
/// - `169.254.25.10/32`, Kubespray's NodeLocal DNSCache (`nodelocaldns_ip`, on by default
///   in Kubespray; cilium/cilium-cli#997, XenitAB/terraform-modules#608);
/// - `169.254.169.254/32`, GKE's metadata server, which answers DNS for Cloud DNS for GKE
///   (Autopilot's default provider; a Standard option) where NodeLocal DNSCache is off:
///   kubelet writes it into every pod's `resolv.conf` (tektoncd/operator#4000 and #4001,
///   which admits the same two link-local resolvers). The rule carries ports 53 only, so the
///   metadata server's credentials (port 80) stay closed.
pub const HOST_DNS_RESOLVERS: [&str; 3] =
    [NODE_LOCAL_DNS, "169.254.25.10/32", "169.254.169.254/32"];

/// What the cluster back-end tells the manifest generator about its platform.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Ingress class of the Ingress objects (`nginx`, `alb`).
    pub ingress_class: Option<String>,
    /// ServiceAccounts (namespace, name) another owner creates (the platform's Terraform,
    /// for those whose content needs values only Terraform knows, such as an IRSA role's
    /// ARN): pods run as them, the manifests do not declare them (one owner per object).
    pub external_service_accounts: BTreeSet<(String, String)>,
    /// StorageClass for persistent volumes; the cluster default when `None`.
    pub storage_class: Option<String>,
    /// Whether the platform enforces NetworkPolicy (EKS Fargate does not).
    pub network_policy_enforced: bool,
    /// Image pull secret for the blueprint's registry, if the platform needs one.
    pub image_pull_secret: Option<String>,
    /// Extra annotations on every Ingress the platform's controller needs (e.g. the ALB
    /// controller's `alb.ingress.kubernetes.io/*`).
    pub ingress_annotations: BTreeMap<String, String>,
    /// Annotations for the load balancer Service the Gateway API controller creates for the
    /// Gateway (`spec.infrastructure.annotations`), e.g. the DigitalOcean load balancer name.
    pub gateway_service_annotations: BTreeMap<String, String>,
    /// Whether the load balancer those annotations configure prepends a PROXY protocol
    /// header with the client's address, which the Envoy proxies then read
    /// (`gateway::client_traffic_policy`).
    pub gateway_proxy_protocol: bool,
    /// Node label whose value is the node pool's name (`eks.amazonaws.com/nodegroup`,
    /// `doks.digitalocean.com/node-pool`); added to the pool's own labels in node selectors.
    pub node_pool_label: Option<String>,
    /// How managed data services (not run in the cluster) reach pods: their endpoints and
    /// credentials come from the `<service>-connections` ConfigMap and Secret the platform
    /// module makes exist; `None` when the platform has no managed data services.
    pub managed: Option<crate::wiring::Flavor>,
    /// Blueprint secrets reach pods through External Secrets, which fills each service's
    /// `<service>-connections` Secret (EKS); otherwise pods read the Secret named after the
    /// blueprint secret.
    pub external_secrets: bool,
    /// Region of the AWS APIs behind tables and buckets (their endpoints), on AWS.
    pub aws_region: Option<String>,
    /// The cluster's pod network, when pods do not share the node subnets (DOKS, most
    /// overlay CNIs). The ingress-nginx admission webhook admits the API server from
    /// addresses outside it; with `None` (EKS: the VPC CNI gives pods node-subnet addresses,
    /// like the control plane's ENIs) no address range tells them apart, so the webhook port
    /// stays closed and the back-end turns the webhook off (CVE-2025-1974).
    pub pod_cidr: Option<String>,
    /// The ingress-nginx controller's proxy container ports, when not 80/443.
    pub ingress_controller_ports: Vec<u16>,
    /// Namespaces another owner (the platform's Terraform) creates: not declared here.
    pub platform_namespaces: Vec<String>,
    /// StorageClass of the in-cluster databases' volumes (data and backups), one that
    /// retains a volume when its claim is deleted (`reclaimPolicy: Retain`); the platform
    /// provides it (DOKS ships one, the EKS `platform` module creates one).
    pub database_storage_class: Option<String>,
    /// Address blocks a cloud load balancer reaches pods from when it targets their IPs
    /// itself, with no controller in the cluster between (an ALB of Ingress class `alb`: its
    /// subnets). Routed services admit them on their ports; empty: no such load balancer.
    pub load_balancer_sources: Vec<String>,
    /// The internal load balancer that serves `services[].internal_routes`, where the
    /// platform builds one (EKS: an internal ALB of Ingress class `alb`, `internal_ingress`);
    /// `None`: the services' routes, if any, are the public edge's.
    pub internal_load_balancer: Option<InternalLoadBalancer>,
    /// An S3-compatible object store other than AWS S3 that serves the blueprint's buckets
    /// (DigitalOcean Spaces): a backup `destination` in one of its buckets is reached at its
    /// endpoint, which the AWS CLI otherwise takes to be AWS.
    pub object_store: Option<ObjectStore>,
    /// The CNI is Cilium (DOKS), which gives the API server's addresses its own identity
    /// (`kube-apiserver`) that a NetworkPolicy `ipBlock` may not select (cilium/cilium#20550):
    /// pods that talk to the API server also get a CiliumNetworkPolicy allowing the
    /// `kube-apiserver` entity, Cilium's documented way to allow it.
    pub cilium: bool,
    /// The ports the API server's endpoints may listen on, which the egress of pods that
    /// call it allows (the `kubernetes` Service's 443 is translated to them before most CNIs
    /// judge the packet); empty: 443 and 6443, the managed clusters' and kubeadm's.
    pub api_server_ports: Vec<u16>,
    /// Node-local DNS caches (host-network addresses) the pods' resolver may use besides the
    /// cluster DNS pods in `kube-system`: their DNS egress admits them too. An existing
    /// cluster may run NodeLocal DNSCache or resolve through GKE's metadata server
    /// ([`HOST_DNS_RESOLVERS`]); the clusters infragen creates do neither.
    pub dns_caches: Vec<String>,
    /// The namespace of the cluster DNS pods; `None`: `kube-system`, where every cluster
    /// infragen creates runs them.
    pub dns_namespace: Option<String>,
    /// The port the cluster DNS pods listen on, which NetworkPolicies judge (after the DNS
    /// Service's 53 is translated); `None`: 53.
    pub dns_port: Option<u16>,
    /// The cluster assigns the pods' user and group IDs (OpenShift's `restricted-v2` SCC):
    /// the blueprint's pods set none (`workload::app_pod_security`).
    pub assigned_user_ids: bool,
    /// The platform's AWS Load Balancer Controller registers the pods behind its load
    /// balancers as IP targets and gates their readiness on target health in namespaces
    /// labelled for it (EKS; `readiness_gate`): those namespaces get the label, and the
    /// pods a preStop pause. Only where infragen installs the controller itself.
    pub pod_readiness_gates: bool,
}

/// See [`Options::internal_load_balancer`].
#[derive(Debug, Clone, Default)]
pub struct InternalLoadBalancer {
    /// The Ingress class of the internal Ingresses (`alb`).
    pub class: String,
    /// The controller's annotations on every internal Ingress (scheme, name, certificate,
    /// the networks admitted).
    pub annotations: BTreeMap<String, String>,
    /// Address blocks the load balancer reaches pods from (it targets their IPs): the
    /// internal services admit them on their ports, and nothing else from outside.
    pub sources: Vec<String>,
}

/// See [`Options::object_store`].
#[derive(Debug, Clone, Default)]
pub struct ObjectStore {
    /// The S3 API endpoint URL (`https://nyc3.digitaloceanspaces.com`).
    pub endpoint: String,
    /// The region requests are signed for.
    pub region: String,
    /// The bucket names it serves.
    pub buckets: Vec<String>,
}

/// The labels of namespace `name` as the blueprint declares it (the last declaration wins),
/// for an owner outside the manifests (the platform's Terraform). An undeclared namespace
/// gets only infragen's labels: it holds a controller (ingress-nginx, cert-manager, Envoy
/// Gateway) whose chart decides its pods' security context.
pub fn namespace_labels(v: &Validated, name: &str) -> BTreeMap<String, String> {
    labels_of(v, name, false)
}

/// The labels of a namespace the blueprint's workloads run in, for an owner outside the
/// manifests: as [`namespace_labels`], but an undeclared one enforces Pod Security
/// `restricted`, exactly as the manifests would have declared it.
pub fn workload_namespace_labels(v: &Validated, name: &str) -> BTreeMap<String, String> {
    labels_of(v, name, true)
}

fn labels_of(v: &Validated, name: &str, workloads: bool) -> BTreeMap<String, String> {
    let common = [
        ("app.kubernetes.io/part-of".to_string(), v.bp.name.clone()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            "infragen".to_string(),
        ),
    ];
    let declared =
        v.bp.kubernetes
            .as_ref()
            .and_then(|k| k.namespaces.iter().rev().find(|n| n.name == name));
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    if declared.is_some() || workloads {
        labels.extend(namespace::labels(declared));
    }
    labels.extend(common);
    labels
}

/// Manifests by path under `k8s/` (including `k8s/kustomization.yaml`), and the blueprint
/// parts they lower.
pub fn manifests(v: &Validated, opts: &Options) -> (BTreeMap<String, String>, Vec<&'static str>) {
    let m = generate(v, opts, false);
    (m.files, m.lowered)
}

pub use capacity::{AddonPod, AddonPods, DaemonSet};

/// Problems that make the manifests unworkable, found before they are written (exit 2):
/// namespace quotas that cannot hold their own workloads at their declared maximum.
/// In-cluster data follows the analysis (`Validated::in_cluster`).
pub fn check(v: &Validated) -> Vec<crate::diagnostic::Diagnostic> {
    quota::check(v, &Options::default())
}

/// What the node pools hold against the pods at rest ([`room`]).
#[derive(Debug, Default)]
pub struct Room {
    /// Pools that cannot run the pods at rest (exit 2).
    pub refusals: Vec<crate::diagnostic::Diagnostic>,
    /// EKS pools that cannot hold every pod at rest at their `desired` size, though they
    /// can at `max`: a fresh apply waits on the Cluster Autoscaler (`node-capacity`,
    /// `node-pod-slots`).
    pub warnings: Vec<crate::diagnostic::Note>,
}

/// Node pools against the pods at rest: EKS pools against the pods pinned to them, and all
/// of them against every pod — `addons` (what the back-end installs beside the blueprint's
/// workloads: its Deployments, and its DaemonSets on every node of the pools they tolerate)
/// included — refused at `max`, warned of at `desired`; EKS and DOKS pools against the
/// GPUs of the services placed on them. Run once by the back-end layer after the analysis
/// (`backend::room`), which knows the add-ons; the output carries the warnings.
pub fn room(v: &Validated, addons: &AddonPods) -> Room {
    let opts = Options::default();
    let (mut refusals, mut warnings) = capacity::room(v, &opts, addons);
    let (slots, slot_warnings) = pod_slots::room(v, &opts, addons);
    refusals.extend(slots);
    warnings.extend(slot_warnings);
    Room { refusals, warnings }
}

/// Notes (plain ones, never warnings: their texts) on blueprint settings the manifests
/// carry out differently than written (a VPA next to an HPA), or cannot carry out on this
/// platform (a standby or read replicas of a database the platform runs in the cluster).
pub fn notes(v: &Validated, opts: &Options) -> Vec<String> {
    let mut out: Vec<String> =
        v.bp.services
            .iter()
            .filter_map(autoscaling::notes)
            .collect();
    out.extend(tags_not_labels(v.bp));
    let ctx = Ctx::new(v, opts);
    for s in readiness_gate::ungated(&ctx) {
        out.push(format!(
            "service `{}` runs in `kube-system`, which is never labelled for the AWS Load Balancer Controller's readiness gates (every pod there would then wait on its webhook): its rollouts do not wait for its load balancer targets' health, so a deploy may answer 502 while new targets register; give it a namespace of its own",
            s.name()
        ));
    }
    // The ECS tasks' volume-setup container: EKS pods get writable paths from `emptyDir`
    // volumes and RDS CA files from a ConfigMap (`connect::ca_volume`), with no such
    // container; a field set and never used is said, not dropped silently.
    if v.provider == crate::catalog::Provider::Aws
        && let Some(image) =
            v.bp.providers
                .aws
                .as_ref()
                .and_then(|a| a.setup_image.as_ref())
    {
        out.push(format!(
            "providers.aws.setup_image (`{image}`) is the image of the ECS tasks' volume-setup container; EKS pods have none (writable paths are emptyDir volumes, CA files a ConfigMap), so it is not used here"
        ));
    }
    // `user_ids: assigned` writes no ids: a workload whose `security` names one is told, not
    // silently changed (1001 is the default UID, which a blueprint need not have written).
    if opts.assigned_user_ids {
        let pods = (v.bp.services.iter().map(|s| (&s.name, &s.security)))
            .chain(v.bp.jobs.iter().map(|j| (&j.name, &j.pod().security)));
        let named: Vec<String> = pods
            .filter(|(_, s)| {
                s.run_as_user != 1001 || s.run_as_group.is_some() || s.fs_group.is_some()
            })
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        if !named.is_empty() {
            out.push(format!(
                "{} set `security.run_as_user` / `run_as_group` / `fs_group`, which `providers.kubernetes.user_ids: assigned` leaves to the cluster: the pods name no ids here (the cluster picks them from the namespace's range); set `user_ids: fixed` to keep them",
                named.join(", ")
            ));
        }
    }
    // Only these two read the `kubernetes:` block; every note after them is about the
    // blueprint's other parts and is said whether or not the block is there.
    if let Some(k) = &v.bp.kubernetes {
        let scraped = v.bp.services.iter().any(|s| s.metrics.is_some())
            || v.bp
                .databases
                .iter()
                .any(|d| d.in_cluster.exporter.is_some())
            || v.bp.caches.iter().any(|c| c.in_cluster.exporter.is_some());
        if scraped && monitoring_namespace(k).is_none() && k.network_policies.default_deny_ingress {
            out.push(
                "metrics ports admit no scraper: the blueprint declares no monitoring namespace (name one with `kubernetes.network_policies.monitoring_namespace`, or declare a namespace `monitoring`)".to_string(),
            );
        }
        // Prometheus' node-exporter needs the host's network, PIDs and paths.
        if let Some(m) = monitoring_namespace(k)
            && let Some(ns) = k.namespaces.iter().rev().find(|n| n.name == m)
            && ns.pod_security != crate::blueprint::types::PodSecurityLevel::Privileged
        {
            out.push(format!(
                "kubernetes.namespaces `{m}` is the monitoring namespace but enforces Pod Security `{}`: node-exporter (hostNetwork, hostPID, hostPath) is rejected there; give it `pod_security: privileged`",
                namespace::level(ns.pod_security)
            ));
        }
    }
    for (i, c) in v.bp.caches.iter().enumerate() {
        if !v.in_cluster(DataKind::Cache, c.deployment) {
            continue;
        }
        let mut dropped = Vec::new();
        // `ha` with `deployment: in_cluster` is refused by validation.
        if c.ha && c.deployment != crate::blueprint::types::Deployment::InCluster {
            dropped.push("`ha` (automatic failover: replicas follow pod 0, which is not replaced by a replica)");
        }
        if c.snapshots.is_some() {
            dropped.push("`snapshots` (caches are not backed up in the cluster; the append-only file on the volume survives restarts)");
        }
        if !c.parameters.is_empty() {
            dropped.push("`parameters` (pass server flags through `in_cluster.args`)");
        }
        if c.maintenance_window.is_some() {
            dropped.push("`maintenance_window` (a managed service's; the cluster has none)");
        }
        if !dropped.is_empty() {
            out.push(format!(
                "caches[{i}] `{}` runs in the cluster: {} not applied",
                c.name,
                dropped.join("; ")
            ));
        }
    }
    for (i, d) in v.bp.databases.iter().enumerate() {
        if !v.in_cluster(DataKind::Database, d.deployment) {
            continue;
        }
        if let Some(b) = &d.backup
            && b.schedule.is_none()
            && b.window.is_none()
        {
            out.push(format!(
                "databases[{i}] `{}`: `backup` gives no `schedule` or `window`; the in-cluster dump runs daily at 02:00 UTC (`{}`)",
                d.name,
                backup::DEFAULT_SCHEDULE
            ));
        }
        let storage = d.storage.as_ref();
        let fields: Vec<&str> = [
            ("maintenance_window", d.maintenance_window.is_some()),
            // `username` is not among them: the platform module writes it into the
            // credentials Secret the server is initialised from (`data::plan`,
            // `credential_keys`, default `app`).
            (
                "parameters (pass server flags through `in_cluster.args`)",
                !d.parameters.is_empty(),
            ),
            (
                "storage.max_size_gb",
                storage.is_some_and(|s| s.max_size_gb.is_some()),
            ),
            ("storage.type", storage.is_some_and(|s| s.r#type.is_some())),
            ("storage.iops", storage.is_some_and(|s| s.iops.is_some())),
            // Written on only: the defaults (on) are the managed services'.
            (
                "performance_insights (RDS's)",
                d.performance_insights == Some(true),
            ),
            (
                "deletion_protection (nothing refuses deleting the StatefulSet; its volume claims are kept, `whenDeleted: Retain`)",
                d.deletion_protection == Some(true),
            ),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| f)
        .collect();
        if !fields.is_empty() {
            out.push(format!(
                "databases[{i}] `{}` runs in the cluster; managed-service settings not applied: {}",
                d.name,
                fields.join(", ")
            ));
        }
    }
    if let Some(ing) = v.bp.ingress.as_ref().filter(|i| i.enabled)
        && ing.gateway.is_none()
    {
        let alb = match opts.ingress_class.as_deref() {
            Some(c) => c == "alb",
            None => ing.class == crate::blueprint::types::IngressClass::Alb,
        };
        let fields: Vec<&str> = [
            (
                "rate_limit (use load_balancer.waf.rate_limit)",
                ing.rate_limit.is_some(),
            ),
            ("cors", ing.cors.is_some()),
            ("rewrite_target", ing.rewrite_target.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| f)
        .collect();
        if alb && !fields.is_empty() {
            out.push(format!(
                "ingress: class `alb` has no equivalent of these ingress-nginx settings, which are not applied: {}",
                fields.join(", ")
            ));
        }
    }
    let databases =
        v.bp.databases
            .iter()
            .any(|d| v.in_cluster(DataKind::Database, d.deployment));
    if databases && opts.database_storage_class.is_none() {
        out.push(format!(
            "in-cluster databases keep their data on StorageClass {}: unless its reclaimPolicy is Retain, deleting a claim deletes the volume",
            opts.storage_class
                .as_deref()
                .map_or_else(|| "(the cluster default)".to_string(), |c| format!("`{c}`"))
        ));
    }
    for (i, d) in v.bp.databases.iter().enumerate() {
        // `deployment: in_cluster` with these is refused by validation; here the platform
        // moved a managed database into the cluster.
        if d.deployment == crate::blueprint::types::Deployment::InCluster
            || !v.in_cluster(DataKind::Database, d.deployment)
        {
            continue;
        }
        let mut dropped = Vec::new();
        if d.ha {
            dropped.push("`ha` (a standby)".to_string());
        }
        if d.replicas > 0 {
            dropped.push(format!("`replicas: {}` (read replicas)", d.replicas));
        }
        if !dropped.is_empty() && d.engine != crate::blueprint::types::DatabaseEngine::Mongodb {
            out.push(format!(
                "databases[{i}] `{}` runs in the cluster as a single server: {} not created",
                d.name,
                dropped.join(" and ")
            ));
        }
    }
    out
}

/// The Kubernetes Secret name of `secrets[].name`: its `path` when that is a valid object
/// name (Secrets Manager paths with `/` are not), else the name.
pub fn secret_name(bp: &Blueprint, name: &str) -> String {
    bp.secrets
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.path.clone())
        .filter(|p| dns_subdomain(p))
        .unwrap_or_else(|| name.to_string())
}

/// The image pull Secret (`kubernetes.io/dockerconfigjson`) the pods of `s` name for its
/// `image_credentials`, in their namespace: the blueprint secret's Kubernetes name. On EKS
/// the External Secrets Operator renders it from the Secrets Manager secret
/// (`backend::aws::external_secrets`); elsewhere it is created out of band and listed in
/// `preconditions.json` (`semantic::image_credentials`).
pub fn image_pull_secret(bp: &Blueprint, s: &Service) -> Option<String> {
    s.image_credentials.as_deref().map(|n| secret_name(bp, n))
}

/// Secret names (`namespace/name`) and the keys read from each.
pub type Secrets = BTreeMap<String, BTreeSet<String>>;

/// [`manifests`] and the Kubernetes Secrets they reference, by `namespace/name`, with the keys
/// read from each (empty when a Secret is read whole, e.g. by `envFrom`). No manifest is a
/// Secret: the back-ends make them exist (`crate::backend::connections`) or list them in
/// `preconditions.json`. The Secrets are read off the
/// workload, data and backup documents as they are built, in the same generation.
pub fn manifests_and_secrets(v: &Validated, opts: &Options) -> Manifests {
    generate(v, opts, true)
}

/// What [`manifests_and_secrets`] makes.
pub struct Manifests {
    /// Manifests by path under `k8s/`, with `k8s/kustomization.yaml`.
    pub files: BTreeMap<String, String>,
    /// The blueprint parts they lower.
    pub lowered: Vec<&'static str>,
    /// The Secrets the pods read, and their keys.
    pub secrets: Secrets,
    /// Objects written twice (`Deployment shop/api-canary`): kustomize refuses a second
    /// object with the same id, so the pipeline refuses them (`Output::duplicates`).
    pub duplicates: Vec<String>,
    /// Names and label values past the API server's limits (`k8s: Service shop/<long>-headless`
    /// and the limit), which `kubectl apply` refuses (`Output::too_long`).
    pub too_long: Vec<(String, String, usize)>,
}

impl Manifests {
    /// Put the files, the parts lowered and the duplicates into `out`; the Secrets read are
    /// what is left.
    pub fn add_to(self, out: &mut crate::output::Output) -> Secrets {
        out.files.extend(self.files);
        out.lowered.extend(self.lowered);
        out.duplicates.extend(self.duplicates);
        out.too_long.extend(self.too_long);
        self.secrets
    }
}

fn generate(v: &Validated, opts: &Options, with_secrets: bool) -> Manifests {
    // Every blueprint part by name, without `..`: a new field does not compile until the
    // manifests say what they do with it. The concept files read their part through `ctx`;
    // each comment names the file (or the layer that handles it instead).
    let Blueprint {
        name: _,             // `part-of` labels, the default namespace, kustomization.rs
        description: _,      // not written to the manifests
        tags: _,             // not written to the manifests (cloud tags, backend::common_tags)
        providers: _,        // read by the back-ends, which pass what matters in `Options`
        state: _,            // Terraform state: the back-ends
        network: _,          // network_policy.rs: egress to managed data services' subnets
        cluster: _,          // the back-ends; `Options` say what the cluster provides
        node_pools: _,       // workload.rs: pods placed by the pools' labels and taints
        fargate_profiles: _, // the AWS back-end (cluster/fargate.rs)
        databases: _,        // data/ (in-cluster ones), network_policy.rs (egress)
        caches: _,           // data/ (in-cluster ones), network_policy.rs (egress)
        queues: _,           // data/ (in-cluster ones), network_policy.rs (egress)
        tables: _,           // the back-ends; pods reach them over HTTPS (network_policy.rs)
        load_balancer: _,    // the back-ends (ALB, the ingress controller's load balancer)
        ingress: _,          // ingress.rs, gateway.rs
        registry: _,         // the back-ends (`Options::image_pull_secret`)
        secrets: _,          // workload.rs: env read from Secrets
        services: _,         // workload.rs, service.rs, autoscaling.rs, network_policy.rs
        jobs: _, // cronjob.rs; their pods are workloads (Ctx::services) like a service's
        kubernetes: _, // namespace.rs, rbac.rs, issuer.rs, network_policy.rs (Ctx::platform)
        observability: _, // the back-ends (log retention, alarms)
        buckets: _, // the back-ends (S3)
        overrides: _, // applied to the output after lowering (crate::escape)
        extra: _, // rendered beside the output after lowering (crate::escape)
        environments: _, // merged into this blueprint before validation (blueprint::overlay)
        per_provider: _, // merged into this blueprint before validation (blueprint::overlay)
    } = v.bp;
    let ctx = Ctx::new(v, opts);
    let mut files = Files::default();
    let mut secrets = BTreeMap::new();
    namespace::lower(&ctx, &mut files);
    rbac::lower(&ctx, &mut files);
    issuer::lower(&ctx, &mut files);
    network_policy::lower(&ctx, &mut files);
    for s in &ctx.services {
        let docs = files.at(&ctx.path(&s.namespace, &s.bp.name));
        let first = docs.len();
        match s.job {
            Some(job) => cronjob::lower(&ctx, s, job, docs),
            None => workload::lower(&ctx, s, docs),
        }
        if with_secrets {
            // Only the Deployments, CronJobs and ConfigMaps read Secrets.
            collect_doc_secrets(&docs[first..], &mut secrets);
        }
        if s.job.is_none() {
            service::lower(&ctx, s, docs);
            autoscaling::lower(&ctx, s, docs);
        }
    }
    for d in &ctx.data {
        let docs = files.at(&ctx.path(&d.namespace, &d.name));
        let first = docs.len();
        data::lower(&ctx, d, docs);
        backup::lower(&ctx, d, docs);
        if with_secrets {
            collect_doc_secrets(&docs[first..], &mut secrets);
        }
    }
    ingress::lower(&ctx, &mut files);
    internal_ingress::lower(&ctx, &mut files);

    let duplicates = files.duplicates();
    let too_long = files.too_long();
    let mut out = files.render(&ctx);
    if !out.is_empty() {
        let list: Vec<String> = out.keys().map(|k| k["k8s/".len()..].to_string()).collect();
        out.insert(
            "k8s/kustomization.yaml".into(),
            yaml::file(&ctx.header, &[kustomization::document(&ctx, &list)]),
        );
    }
    Manifests {
        files: out,
        lowered: ctx.lowered(),
        secrets,
        duplicates,
        too_long,
    }
}

/// What the platform module writes under one key of a data service's credentials Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    /// A fixed value (a user name).
    Value(String),
    /// A generated password (letters and digits).
    Password,
    /// A MongoDB replica-set key file (a long generated base64-alphabet string).
    KeyFile,
}

/// A credentials Secret of an in-cluster data service, shared by its StatefulSet (and
/// backup jobs) and the services that use it: the output makes it exist (the platform
/// module generates the values), in every namespace that reads it.
#[derive(Debug, Clone)]
pub struct CredentialSecret {
    /// The data service (`databases[].name`, …).
    pub component: String,
    pub name: String,
    pub namespaces: BTreeSet<String>,
    pub keys: Vec<(String, Generated)>,
}

/// An in-cluster data service's StatefulSet as the manifests write it (`data::lower`), for
/// the alarms that watch it (`backend::aws::eks_alarms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataWorkload {
    /// The component's name: the StatefulSet's, whose pods are `<name>-0`, `<name>-1`….
    pub name: String,
    pub namespace: String,
    /// The ClusterIP Service clients connect to (not the headless one, which publishes
    /// not-ready pods).
    pub service_name: String,
    pub replicas: u32,
    /// Whether the client Service selects one pod only: a single replica, or a cache's
    /// primary (pod 0) when it has replicas.
    pub one_pod_serves: bool,
    /// Its backup CronJob (`<name>-backup`), when it has one.
    pub backup_job: Option<String>,
}

/// The StatefulSets of the in-cluster data services the manifests run.
pub fn data_workloads(v: &Validated, opts: &Options) -> Vec<DataWorkload> {
    Ctx::new(v, opts)
        .data
        .iter()
        .map(|d| DataWorkload {
            name: d.name.clone(),
            namespace: d.namespace.clone(),
            service_name: d.service_name.clone(),
            replicas: d.replicas,
            one_pod_serves: d.replicas == 1 || d.engine.is_cache(),
            backup_job: backup::schedule(d).map(|_| format!("{}-backup", d.name)),
        })
        .collect()
}

/// The credentials Secrets of the in-cluster data services the manifests run.
pub fn credential_secrets(v: &Validated, opts: &Options) -> Vec<CredentialSecret> {
    let ctx = Ctx::new(v, opts);
    let mut out = Vec::new();
    for d in &ctx.data {
        let Some(name) = &d.credentials_secret else {
            continue;
        };
        let mut namespaces = BTreeSet::from([d.namespace.clone()]);
        // The namespaces of its clients (`DataService::users`, from `Validated::users_of`).
        for s in ctx.services.iter().filter(|s| d.users.contains(&s.bp.name)) {
            namespaces.insert(s.namespace.clone());
        }
        out.push(CredentialSecret {
            component: d.name.clone(),
            name: name.clone(),
            namespaces,
            keys: d.credential_keys(&ctx),
        });
    }
    out
}

/// Per service (namespace, name): the connection variables the platform module must put in
/// its `<service>-connections` ConfigMap (endpoints) and Secret (credentials), for the
/// managed components it uses. Buckets are among them: a bucket name infragen derives holds
/// the account id, which only Terraform knows for sure (`aws_caller_identity`). Tables are
/// not: their names are the blueprint's, written as values ([`connect`]).
pub fn managed_bindings<'a>(
    v: &'a Validated<'a>,
    opts: &'a Options,
) -> Vec<(String, String, Vec<crate::wiring::Binding<'a>>)> {
    let ctx = Ctx::new(v, opts);
    let mut out = Vec::new();
    for s in &ctx.services {
        let list: Vec<crate::wiring::Binding<'a>> = connect::bindings(&ctx, s)
            .into_iter()
            .filter(|b| {
                !ctx.data.iter().any(|d| d.name == b.component)
                    && b.kind != crate::wiring::Kind::Table
                    && b.kind != crate::wiring::Kind::Service
                    && (b.kind != crate::wiring::Kind::Secret || opts.external_secrets)
            })
            .collect();
        if !list.is_empty() {
            out.push((s.namespace.clone(), s.bp.name.clone(), list));
        }
    }
    out
}

/// The namespaces whose pods the platform's load balancer controller gates on target
/// health (`readiness_gate`), for owners of namespaces outside the manifests (the
/// platform's Terraform): they carry [`READINESS_GATE_LABEL`]`: enabled`.
pub fn readiness_gate_namespaces(v: &Validated, opts: &Options) -> BTreeSet<String> {
    readiness_gate::namespaces(&Ctx::new(v, opts))
}

/// (service, namespace) of every service.
pub fn service_namespaces(v: &Validated, opts: &Options) -> Vec<(String, String)> {
    let ctx = Ctx::new(v, opts);
    ctx.services
        .iter()
        .map(|s| (s.bp.name.clone(), s.namespace.clone()))
        .collect()
}

/// The Secrets referenced by `docs`, each in its object's namespace.
fn collect_doc_secrets(docs: &[Map], out: &mut BTreeMap<String, BTreeSet<String>>) {
    for doc in docs {
        let ns = match doc.get("metadata") {
            Some(yaml::Y::Map(m)) => match m.get("namespace") {
                Some(yaml::Y::Str(s)) => s.as_ref(),
                _ => "",
            },
            _ => "",
        };
        collect_secrets(doc, ns, out);
    }
}

/// The Secrets (and keys) referenced anywhere in the mapping `m`, whose objects are in
/// namespace `ns`.
fn collect_secrets(m: &Map, ns: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    let text = |m: &Map, k: &str| match m.get(k) {
        Some(yaml::Y::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    for (k, v) in m.iter() {
        // An image pull Secret is read whole, by the kubelet.
        if let ("imagePullSecrets", yaml::Y::Seq(items)) = (k, v) {
            for i in items {
                if let yaml::Y::Map(i) = i
                    && let Some(n) = text(i, "name")
                {
                    out.entry(format!("{ns}/{n}")).or_default();
                }
            }
        }
        if let yaml::Y::Map(inner) = v {
            let found = match k {
                "secretKeyRef" => {
                    text(inner, "name").map(|n| (n, text(inner, "key").into_iter().collect()))
                }
                "secretRef" => text(inner, "name").map(|n| (n, Vec::new())),
                // A volume projects every key its `items` list (a CA file per database).
                "secret" => text(inner, "secretName").map(|n| {
                    let keys: Vec<String> = match inner.get("items") {
                        Some(yaml::Y::Seq(items)) => items
                            .iter()
                            .filter_map(|i| match i {
                                yaml::Y::Map(i) => text(i, "key"),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    (n, keys)
                }),
                _ => None,
            };
            if let Some((name, keys)) = found {
                out.entry(format!("{ns}/{name}")).or_default().extend(keys);
            }
        }
        collect_secrets_in(v, ns, out);
    }
}

fn collect_secrets_in(y: &yaml::Y, ns: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match y {
        yaml::Y::Map(m) => collect_secrets(m, ns, out),
        yaml::Y::Seq(items) => {
            for i in items {
                collect_secrets_in(i, ns, out);
            }
        }
        _ => {}
    }
}

/// Seconds in an ingress rate-limit window (`1s`, `1m`, `1h`), for validation.
/// Bytes of a Kubernetes quantity (`512Mi`, `1Gi`, `2G`, `1000`); `None` when it is not one.
pub fn quantity_bytes(q: &str) -> Option<f64> {
    quota::memory(q)
}

pub fn ingress_window_seconds(window: &str) -> Option<u64> {
    ingress::window_seconds(window)
}

/// Documents per output file, in the order they were added.
#[derive(Default)]
pub(crate) struct Files<'a>(BTreeMap<String, Vec<Map<'a>>>);

impl<'a> Files<'a> {
    pub fn at(&mut self, path: &str) -> &mut Vec<Map<'a>> {
        // Look up before inserting: most calls find the file, and `entry` would need an
        // owned key each time.
        if !self.0.contains_key(path) {
            self.0.insert(path.to_string(), Vec::new());
        }
        self.0.get_mut(path).expect("inserted above")
    }

    /// Objects added twice, as `k8s: <kind> <namespace>/<name>` (`<name>` alone for
    /// cluster-scoped ones), sorted.
    fn duplicates(&self) -> Vec<String> {
        let text = |m: Option<&Map>, key: &str| match m.and_then(|m| m.get(key)) {
            Some(yaml::Y::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for doc in self.0.values().flatten() {
            let meta = match doc.get("metadata") {
                Some(yaml::Y::Map(m)) => Some(m),
                _ => None,
            };
            let (ns, name) = (text(meta, "namespace"), text(meta, "name"));
            let id = if ns.is_empty() {
                format!("k8s: {} {name}", text(Some(doc), "kind"))
            } else {
                format!("k8s: {} {ns}/{name}", text(Some(doc), "kind"))
            };
            if !seen.insert(id.clone()) {
                out.push(id);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Object names and label values longer than the API server accepts: (object id, the
    /// name or value, its limit). Services and Namespaces are DNS labels (63), a CronJob's
    /// name at most 52 (its Jobs append 11 characters), other names 253, label values 63.
    fn too_long(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for doc in self.0.values().flatten() {
            let text = |y: Option<&yaml::Y>| match y {
                Some(yaml::Y::Str(s)) => s.to_string(),
                _ => String::new(),
            };
            let kind = text(doc.get("kind"));
            let Some(yaml::Y::Map(meta)) = doc.get("metadata") else {
                continue;
            };
            let name = text(meta.get("name"));
            let id = match text(meta.get("namespace")) {
                ns if ns.is_empty() => format!("k8s: {kind} {name}"),
                ns => format!("k8s: {kind} {ns}/{name}"),
            };
            let max = match kind.as_str() {
                "Service" | "Namespace" => 63,
                "CronJob" => 52,
                _ => 253,
            };
            if name.len() > max {
                out.push((id.clone(), name.clone(), max));
            }
            if let Some(yaml::Y::Map(labels)) = meta.get("labels") {
                for (_, v) in labels.iter() {
                    if let yaml::Y::Str(v) = v
                        && v.len() > 63
                    {
                        out.push((id.clone(), v.to_string(), 63));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn render(self, ctx: &Ctx) -> BTreeMap<String, String> {
        self.0
            .into_iter()
            .filter(|(_, docs)| !docs.is_empty())
            .map(|(path, docs)| (path, yaml::file(&ctx.header, &docs)))
            .collect()
    }
}

/// A service (or a job's pod) as it runs in the cluster: its namespace, names and identity.
pub(crate) struct Workload<'a> {
    /// The service, or the job's pod as a service ([`crate::blueprint::job::Job::pod`]).
    pub bp: &'a Service,
    /// The job, when this is a job's pod (a CronJob, no Deployment or Service).
    pub job: Option<&'a crate::blueprint::job::Job>,
    pub namespace: String,
    /// Name of the Kubernetes Service.
    pub service_name: String,
    pub container: String,
    pub service_account: String,
    /// Whether pods mount the service account's API token.
    pub automount: bool,
    /// Whether the ingress routes to it.
    pub routed: bool,
    /// Whether the internal load balancer routes to it (`internal_routes`, where the
    /// platform builds one: [`Options::internal_load_balancer`]); never also `routed`.
    pub internal: bool,
}

impl Workload<'_> {
    pub fn name(&self) -> &str {
        &self.bp.name
    }

    pub fn strategy(&self) -> Strategy {
        self.bp.rollout.strategy
    }

    /// Port of the Kubernetes Service (default 80).
    pub fn service_port(&self) -> u16 {
        self.bp.service_port.unwrap_or(80)
    }
}

/// Engines infragen runs inside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Postgres,
    Mysql,
    Mongodb,
    Redis,
    Valkey,
    Rabbitmq,
}

/// A database, cache or queue run inside the cluster.
pub(crate) struct DataService<'a> {
    pub name: String,
    /// `databases`, `caches` or `queues`.
    pub part: &'static str,
    pub engine: Engine,
    pub version: String,
    pub namespace: String,
    pub port: u16,
    pub service_name: String,
    pub image: String,
    pub replicas: u32,
    pub resources: crate::blueprint::types::Resources,
    pub volume_size: String,
    /// Kubernetes Secret with `username` / `password` (and `keyfile` for a MongoDB replica set).
    pub credentials_secret: Option<String>,
    pub args: Vec<String>,
    pub node_pool: Option<String>,
    pub database_name: Option<String>,
    pub backup: Option<&'a crate::blueprint::types::Backup>,
    /// Services that use it (by `uses`).
    pub users: Vec<String>,
    /// Metrics exporter: the sidecar image (none for RabbitMQ's built-in plugin) and port.
    pub exporter: Option<(Option<String>, u16)>,
}

/// Everything the per-concept files share.
pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub bp: &'a Blueprint,
    pub opts: &'a Options,
    pub platform: KubernetesPlatform,
    pub header: String,
    pub default_namespace: String,
    pub services: Vec<Workload<'a>>,
    pub data: Vec<DataService<'a>>,
}

impl<'a> Ctx<'a> {
    fn new(v: &'a Validated<'a>, opts: &'a Options) -> Self {
        let bp = v.bp;
        let platform = bp.kubernetes.clone().unwrap_or_default();
        let default_namespace = bp.default_namespace().to_string();
        let routed: BTreeSet<&str> = if ingress::enabled(bp) {
            bp.services
                .iter()
                .filter(|s| !s.routes.is_empty())
                .map(|s| s.name.as_str())
                .collect()
        } else {
            BTreeSet::new()
        };
        // Internal routes are the internal load balancer's alone: the public edge never
        // routes to them (a request for their host there finds no rule).
        let internal = |s: &Service| {
            s.internal_routes && !s.routes.is_empty() && opts.internal_load_balancer.is_some()
        };
        // Jobs' pods follow the services: everything keyed by workload (ServiceAccounts,
        // network policies, connection variables, quota) covers them alike.
        let services = (bp.services.iter().map(|s| (s, None)))
            .chain(bp.jobs.iter().map(|j| (j.pod(), Some(j))))
            .map(|(s, job)| {
                let namespace = s
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.clone());
                let service_account = s.service_account.clone().unwrap_or_else(|| s.name.clone());
                let automount = platform
                    .service_accounts
                    .iter()
                    .find(|a| a.name == service_account && a.namespace == namespace)
                    .is_some_and(|a| a.automount_token);
                Workload {
                    job,
                    namespace,
                    service_name: s.service_name.clone().unwrap_or_else(|| s.name.clone()),
                    container: s.container_name.clone().unwrap_or_else(|| s.name.clone()),
                    service_account,
                    automount,
                    routed: routed.contains(s.name.as_str()) && !internal(s),
                    internal: internal(s),
                    bp: s,
                }
            })
            .collect();
        let mut ctx = Ctx {
            v,
            bp,
            opts,
            header: crate::naming::header(v),
            default_namespace,
            platform,
            services,
            data: Vec::new(),
        };
        ctx.data = data::plan(&ctx);
        ctx
    }

    /// `k8s/<namespace>/<name>.yaml`.
    pub fn path(&self, namespace: &str, name: &str) -> String {
        format!("k8s/{namespace}/{name}.yaml")
    }

    /// Add the labels every object and pod infragen writes carries: `part-of` and
    /// `managed-by`, then the blueprint's `tags` that can be labels ([`tag_labels`]) where
    /// `labels` does not set the key already (a tag never replaces a label the object needs).
    pub fn add_common_labels<'c>(&'c self, labels: &mut Map<'c>) {
        for (k, v) in own_labels(self.bp) {
            labels.insert(k, v);
        }
        for (k, v) in tag_labels(self.bp) {
            if labels.get(k).is_none() {
                labels.insert(k, v);
            }
        }
    }

    /// `metadata` of a namespaced object with the common labels (plus `labels`).
    pub fn meta<'c>(
        &'c self,
        name: impl Into<Str<'c>>,
        namespace: impl Into<Str<'c>>,
        labels: Map<'c>,
    ) -> Map<'c> {
        let mut l = labels;
        self.add_common_labels(&mut l);
        map! {"name" => yaml::Y::Str(name.into()), "namespace" => yaml::Y::Str(namespace.into()), "labels" => l}
    }

    /// `metadata` of a cluster-scoped object.
    pub fn cluster_meta<'c>(&'c self, name: impl Into<Str<'c>>) -> Map<'c> {
        let mut l = Map::new();
        self.add_common_labels(&mut l);
        map! {"name" => yaml::Y::Str(name.into()), "labels" => l}
    }

    /// The recommended labels of a workload (pods and the objects around them).
    pub fn app_labels<'c>(
        &'c self,
        name: impl Into<Str<'c>>,
        component: &'c str,
        version: Option<&'c str>,
    ) -> Map<'c> {
        let name = name.into();
        let mut labels = Map::new();
        for (k, v) in app_label_pairs(&name, component, self.v.env) {
            labels.insert(k, v);
        }
        labels.opt(
            "app.kubernetes.io/version",
            version.filter(|v| label_value(v)),
        )
    }

    /// The ingress controller's namespace (`kubernetes.ingress_controller.namespace`, default
    /// `ingress-nginx`).
    pub fn ingress_namespace(&self) -> String {
        if gateway::gateway(self).is_some() {
            return gateway::ENVOY_GATEWAY_NAMESPACE.into();
        }
        crate::naming::ingress_nginx_namespace(self.v)
    }

    /// The namespace Prometheus scrapes from: `network_policies.monitoring_namespace`, else
    /// the declared namespace meant for monitoring (named `monitoring` or `*-monitoring`, or
    /// labelled `purpose: monitoring`), else none (no namespace may scrape).
    pub fn monitoring_namespace(&self) -> Option<&str> {
        monitoring_namespace(&self.platform)
    }

    /// The Kubernetes Secret name of `secrets[].name`: its `path` when that is a valid object
    /// name (Secrets Manager paths with `/` are not), else the name.
    pub fn secret_name(&self, name: &str) -> String {
        secret_name(self.bp, name)
    }

    /// Namespaces that run workloads, sorted.
    pub fn app_namespaces(&self) -> BTreeSet<&str> {
        self.services
            .iter()
            .map(|s| s.namespace.as_str())
            .chain(self.data.iter().map(|d| d.namespace.as_str()))
            .collect()
    }

    fn lowered(&self) -> Vec<&'static str> {
        let mut parts = Vec::new();
        if !self.bp.services.is_empty() {
            parts.push("services");
        }
        if !self.bp.jobs.is_empty() {
            parts.push("jobs");
        }
        if self.bp.kubernetes.is_some() {
            parts.push("kubernetes");
        }
        if ingress::enabled(self.bp) {
            parts.push("ingress");
        }
        for part in ["databases", "caches", "queues"] {
            let total = match part {
                "databases" => self.bp.databases.len(),
                "caches" => self.bp.caches.len(),
                _ => self.bp.brokers().count(),
            };
            let here = self.data.iter().filter(|d| d.part == part).count();
            if total > 0 && here == total {
                parts.push(part);
            }
        }
        parts
    }
}

/// See [`Ctx::monitoring_namespace`].
fn monitoring_namespace(platform: &KubernetesPlatform) -> Option<&str> {
    if let Some(ns) = &platform.network_policies.monitoring_namespace {
        return Some(ns);
    }
    platform
        .namespaces
        .iter()
        .find(|n| {
            n.name == "monitoring"
                || n.name.ends_with("-monitoring")
                || n.labels.get("purpose").is_some_and(|p| p == "monitoring")
        })
        .map(|n| n.name.as_str())
}

/// `part-of` and `managed-by`: the labels every object infragen writes carries (the objects
/// of other modules too, such as the IRSA ServiceAccounts `platform` owns on EKS).
pub(crate) fn own_labels(bp: &Blueprint) -> [(&'static str, &str); 2] {
    [
        ("app.kubernetes.io/part-of", bp.name.as_str()),
        ("app.kubernetes.io/managed-by", "infragen"),
    ]
}

/// The recommended labels of workload `name` (pods and the objects around them), without
/// its version.
pub(crate) fn app_label_pairs(
    name: &str,
    component: &str,
    env: &str,
) -> [(&'static str, String); 4] {
    [
        ("app", name.to_string()),
        ("app.kubernetes.io/name", name.to_string()),
        // A label value has at most 63 characters.
        (
            "app.kubernetes.io/instance",
            crate::naming::fit(&format!("{name}-{env}"), 63),
        ),
        ("app.kubernetes.io/component", component.to_string()),
    ]
}

/// The blueprint's `tags` that become labels on every object and pod (cost allocation and
/// ownership tools read them): those whose key and value are valid label syntax and whose
/// key is not one infragen sets itself (`app`, `app.kubernetes.io/…`) or Kubernetes
/// reserves (`…kubernetes.io/`, `…k8s.io/`). The others are named in a note.
pub(crate) fn tag_labels(bp: &Blueprint) -> impl Iterator<Item = (&str, &str)> {
    bp.tags
        .iter()
        .filter(|(k, v)| tag_label_problem(k, v).is_none())
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Why tag `key: value` cannot be a label, if it cannot.
fn tag_label_problem(key: &str, value: &str) -> Option<&'static str> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if key == "app" || prefix == Some("app.kubernetes.io") {
        return Some("infragen sets it itself");
    }
    if prefix.is_some_and(|p| p.ends_with("kubernetes.io") || p.ends_with("k8s.io")) {
        return Some("Kubernetes reserves its prefix");
    }
    if !label_value(name) || !prefix.is_none_or(dns_subdomain) {
        return Some("not a valid label key");
    }
    if !value.is_empty() && !label_value(value) {
        return Some("not a valid label value (at most 63 letters, digits, `-`, `_`, `.`)");
    }
    None
}

/// The note naming the tags that are not labels, and why.
fn tags_not_labels(bp: &Blueprint) -> Option<String> {
    let skipped: Vec<String> = bp
        .tags
        .iter()
        .filter_map(|(k, v)| tag_label_problem(k, v).map(|why| format!("`{k}` ({why})")))
        .collect();
    (!skipped.is_empty()).then(|| {
        format!(
            "tags not put on the Kubernetes objects as labels: {}",
            skipped.join(", ")
        )
    })
}

/// A valid label value: at most 63 characters of alphanumerics, `-`, `_`, `.`, starting and
/// ending alphanumeric.
pub(crate) fn label_value(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// A valid object name (DNS-1123 subdomain).
pub(crate) fn dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A count (`"2"`) as an integer, a percentage (`"25%"`) as a string: Kubernetes'
/// int-or-string fields read `"2"` as an invalid percentage.
pub(crate) fn int_or_string(s: &str) -> yaml::Y<'_> {
    match s.trim().parse::<i64>() {
        Ok(i) => yaml::Y::Int(i),
        Err(_) => yaml::Y::Str(Str::Borrowed(s.trim())),
    }
}

/// A volume name from a path: `/var/cache/nginx` → `var-cache-nginx`.
pub(crate) fn volume_name(path: &str) -> String {
    let s: String = path
        .trim_matches('/')
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "root".into() } else { s }
}

/// A short, stable hash (FNV-1a, 64 bits, hex) of `text`, e.g. of a ConfigMap's content so
/// that changing it rolls the pods.
pub(crate) fn content_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(int_or_string("2"), yaml::Y::Int(2));
        assert_eq!(int_or_string("25%"), yaml::Y::Str("25%".into()));
        assert_eq!(volume_name("/var/cache/nginx"), "var-cache-nginx");
        assert_eq!(volume_name("/tmp"), "tmp");
        assert_eq!(content_hash("a"), content_hash("a"));
        assert_ne!(content_hash("a"), content_hash("b"));
        assert!(label_value("v1.0.0"));
        assert!(!label_value("-x"));
    }
}
