//! Deployments of the services, hardened by default, with their ConfigMap of plain
//! environment variables; the rollout strategy decides how many Deployments a service has:
//!
//! - `rolling`: one Deployment, `RollingUpdate` with the blueprint's surge/unavailable.
//! - `blue_green`: `<name>-blue` and `<name>-green`, labelled `color`; the Service selects
//!   `rollout.live` (behind an ALB the ALB's weighted action picks it, `blue_green`). Both colours keep the same replica count, so switching (and switching
//!   back) is instant; the PodDisruptionBudget and VerticalPodAutoscaler follow the live
//!   colour. An autoscaled service gives each colour its own HorizontalPodAutoscaler and
//!   neither Deployment a `spec.replicas` (an apply would reset a scaled-out colour, and
//!   handing the field from one colour to the other on a switch drops the new live colour
//!   to one pod).
//! - `canary`: `<name>` (label `track: stable`) and `<name>-canary` (`track: canary`),
//!   replicas sized from `canary_weight` (see [`tracks`]).
//!
//! The pod-level pieces (security contexts, resources, probes, scheduling) are shared with
//! the in-cluster data services and backup jobs.

use std::collections::BTreeSet;

use super::quantity::canonical;
use super::yaml::{Map, Str, Y, map, seq};
use super::{Ctx, Workload, content_hash, int_or_string, volume_name};
use crate::blueprint::types::{Architecture, Color, Probe, Quantity, Resources, Service, Strategy};

/// Requests and limits of a container that declares none.
const DEFAULT_REQUESTS: (&str, &str) = ("100m", "128Mi");
const DEFAULT_LIMITS: (&str, &str) = ("500m", "512Mi");
/// Traffic share of a canary that gives no `canary_weight`.
pub const DEFAULT_CANARY_WEIGHT: u32 = 10;

/// One Deployment of a service.
pub(crate) struct Track {
    pub deployment: String,
    /// Labels beyond `app` that tell this Deployment's pods apart (`color`, `track`).
    pub extra: Map<'static>,
    /// `None` when a HorizontalPodAutoscaler owns the count.
    pub replicas: Option<u32>,
    /// The Deployment the autoscaler and the disruption budget act on.
    pub primary: bool,
    /// The app container's image when not the service's `image`: `rollout.next_image` on
    /// the canary track or the colour that is not live.
    pub image: Option<String>,
}

impl Track {
    pub fn selector<'c>(&self, app: &'c str) -> Map<'c> {
        let mut m = map! {"app" => app};
        m.extend(self.extra.clone());
        m
    }

    /// The pods this Deployment runs at rest: its fixed count, else the autoscaler's `min`,
    /// else the service's `replicas`.
    pub fn at_rest(&self, s: &super::Workload) -> u32 {
        match (self.replicas, &s.bp.autoscaling) {
            (Some(n), _) => n,
            (None, Some(a)) => a.min,
            (None, None) => s.bp.replicas,
        }
    }

    /// The most pods it runs: its fixed count, else the autoscaler's `max`, else the
    /// service's `replicas`.
    pub fn at_most(&self, s: &super::Workload) -> u32 {
        match (self.replicas, &s.bp.autoscaling) {
            (Some(n), _) => n,
            (None, Some(a)) => a.max,
            (None, None) => s.bp.replicas,
        }
    }
}

fn color_name(c: Color) -> &'static str {
    match c {
        Color::Blue => "blue",
        Color::Green => "green",
    }
}

/// The live colour of a blue/green service.
pub(crate) fn live(s: &Workload) -> &'static str {
    color_name(s.bp.rollout.live)
}

/// Whether a canary's traffic share is set at the ingress controller (ingress-nginx canary
/// Ingress with `canary-weight`) rather than by replica ratio behind one Service.
pub(crate) fn canary_at_ingress(ctx: &Ctx, s: &Workload) -> bool {
    s.strategy() == Strategy::Canary && s.routed && super::ingress::class(ctx) == "nginx"
}

/// The replicas a service runs at rest: the autoscaler's minimum, else `replicas`.
fn base_replicas(s: &Workload) -> u32 {
    s.bp.autoscaling.as_ref().map_or(s.bp.replicas, |a| a.min)
}

/// Canary replicas. At the ingress the canary takes exactly `weight` % of the requests, so
/// it needs that share of the stable capacity (at least one pod); behind a shared Service
/// the share is the canary's fraction of all pods, so `c / (n + c) ≈ weight`.
pub(crate) fn canary_replicas(stable: u32, weight: u32, at_ingress: bool) -> u32 {
    let (n, w) = (u64::from(stable), u64::from(weight.clamp(1, 99)));
    let c = if at_ingress {
        (n * w).div_ceil(100)
    } else {
        (n * w + (100 - w) / 2) / (100 - w)
    };
    u32::try_from(c.max(1)).unwrap_or(u32::MAX)
}

/// The Deployments of a service, per its rollout strategy.
pub(crate) fn tracks(ctx: &Ctx, s: &Workload) -> Vec<Track> {
    let name = s.name();
    let autoscaled = s.bp.autoscaling.is_some();
    match s.strategy() {
        Strategy::Rolling | Strategy::Recreate => vec![Track {
            deployment: name.to_string(),
            extra: Map::new(),
            replicas: (!autoscaled).then_some(s.bp.replicas),
            primary: true,
            image: None,
        }],
        Strategy::BlueGreen => ["blue", "green"]
            .into_iter()
            .map(|c| Track {
                deployment: format!("{name}-{c}"),
                extra: map! {"color" => c},
                replicas: (!autoscaled).then_some(s.bp.replicas),
                primary: c == live(s),
                image: (c != live(s))
                    .then(|| s.bp.rollout.next_image.clone())
                    .flatten(),
            })
            .collect(),
        Strategy::Canary => {
            let weight = s.bp.rollout.canary_weight.unwrap_or(DEFAULT_CANARY_WEIGHT);
            vec![
                Track {
                    deployment: name.to_string(),
                    extra: map! {"track" => "stable"},
                    replicas: (!autoscaled).then_some(s.bp.replicas),
                    primary: true,
                    image: None,
                },
                Track {
                    deployment: format!("{name}-canary"),
                    extra: map! {"track" => "canary"},
                    replicas: Some(canary_replicas(
                        base_replicas(s),
                        weight,
                        canary_at_ingress(ctx, s),
                    )),
                    primary: false,
                    image: s.bp.rollout.next_image.clone(),
                },
            ]
        }
    }
}

/// Give the app container (`container`) of pod spec `pod` another image: the second
/// Deployment of a canary or blue/green rollout (`rollout.next_image`). Sidecars, init
/// containers and the release Job keep theirs.
fn set_app_image(pod: &mut Map<'_>, container: &str, image: String) {
    let Some(Y::Seq(containers)) = pod.get_mut("containers") else {
        return;
    };
    for c in containers {
        if let Y::Map(m) = c
            && matches!(m.get("name"), Some(Y::Str(n)) if n.as_ref() == container)
        {
            m.insert("image", image);
            return;
        }
    }
}

/// Pod-level security context: non-root with the given ids, seccomp `RuntimeDefault`.
pub(crate) fn pod_security(uid: u32, gid: Option<u32>, fs_group: Option<u32>) -> Map<'static> {
    map! {"runAsNonRoot" => true, "runAsUser" => uid}
        .opt("runAsGroup", gid)
        .opt("fsGroup", fs_group)
        .with("seccompProfile", map! {"type" => "RuntimeDefault"})
}

/// The pod-level security context of a service's or job's pods: the blueprint's ids, or
/// none where the cluster assigns them ([`super::Options::assigned_user_ids`]: OpenShift's
/// `restricted-v2` SCC refuses a `runAsUser` outside the namespace's range and sets one from
/// it) — still non-root with seccomp `RuntimeDefault`, which `restricted-v2` requires.
pub(crate) fn app_pod_security(
    ctx: &Ctx,
    security: &crate::blueprint::types::PodSecurity,
) -> Map<'static> {
    if ctx.opts.assigned_user_ids {
        map! {"runAsNonRoot" => true}.with("seccompProfile", map! {"type" => "RuntimeDefault"})
    } else {
        pod_security(
            security.run_as_user,
            security.run_as_group,
            security.fs_group,
        )
    }
}

/// Container-level security context: read-only root, no privilege escalation, no
/// capabilities.
pub(crate) fn container_security() -> Map<'static> {
    map! {
        "allowPrivilegeEscalation" => false,
        "readOnlyRootFilesystem" => true,
        "runAsNonRoot" => true,
        "capabilities" => map! {"drop" => seq!["ALL"]},
    }
}

/// Requests and limits with every gap filled: a missing request equals the limit, a missing
/// limit the request, and a container that gives neither gets infragen's defaults; each in
/// the form the API server stores (see `quantity.rs`: else Argo CD diffs for ever).
pub(crate) fn resources(r: Option<&Resources>) -> Map<'_> {
    let [rc, rm, lc, lm] = filled(r).map(canonical);
    map! {
        "requests" => map! {"cpu" => rc, "memory" => rm},
        "limits" => map! {"cpu" => lc, "memory" => lm},
    }
}

/// The app container's [`resources`], with its GPUs (`services[].gpu`) in `limits` only:
/// Kubernetes takes an extended resource's request from its limit, and GPUs cannot be
/// overcommitted (<https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/>).
fn app_resources(bp: &Service) -> Map<'_> {
    let [rc, rm, lc, lm] = filled(bp.resources.as_ref()).map(canonical);
    let mut limits = map! {"cpu" => lc, "memory" => lm};
    if let Some(n) = bp.gpu {
        limits.insert(crate::gpu::RESOURCE, n);
    }
    map! {
        "requests" => map! {"cpu" => rc, "memory" => rm},
        "limits" => limits,
    }
}

/// The four figures [`resources`] writes: requests cpu, memory, limits cpu, memory.
pub(crate) fn filled(r: Option<&Resources>) -> [&str; 4] {
    const EMPTY: &Quantity = &Quantity {
        cpu: None,
        memory: None,
    };
    let (req, lim) = r.map_or((EMPTY, EMPTY), |r| (&r.requests, &r.limits));
    fn pick<'r>(a: &'r Option<String>, b: &'r Option<String>, d: &'static str) -> &'r str {
        a.as_deref().or(b.as_deref()).unwrap_or(d)
    }
    [
        pick(&req.cpu, &lim.cpu, DEFAULT_REQUESTS.0),
        pick(&req.memory, &lim.memory, DEFAULT_REQUESTS.1),
        pick(&lim.cpu, &req.cpu, DEFAULT_LIMITS.0),
        pick(&lim.memory, &req.memory, DEFAULT_LIMITS.1),
    ]
}

/// The name of a service's port: `grpc` for a gRPC service (the prefix meshes such as
/// Istio select the protocol by), else `http`.
pub(crate) fn port_name(s: &Service) -> &'static str {
    if s.grpc() { "grpc" } else { "http" }
}

/// A probe: `exec` when it has a command, `httpGet` when it has a path, else a check of the
/// port: Kubernetes's native gRPC probe (GA since 1.27; it calls the standard health
/// service, `grpc.health.v1.Health/Check`) when `grpc`, else a TCP connect.
/// <https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#define-a-grpc-liveness-probe>
pub(crate) fn probe(p: &Probe, port: u16, grpc: bool) -> Map<'_> {
    let port = p.port.unwrap_or(port);
    let action = if !p.command.is_empty() {
        ("exec", map! {"command" => &p.command})
    } else if let Some(path) = &p.path {
        let headers: Vec<Map> = (p.headers.iter())
            .map(|(name, value)| map! {"name" => name.as_str(), "value" => value.as_str()})
            .collect();
        (
            "httpGet",
            map! {"path" => path.as_str(), "port" => port}.nonempty("httpHeaders", headers),
        )
    } else {
        port_check(port, grpc)
    };
    map! {action.0 => action.1}
        .opt("initialDelaySeconds", p.initial_delay)
        .opt("periodSeconds", p.period)
        .opt("timeoutSeconds", p.timeout)
        .opt("failureThreshold", p.failure_threshold)
}

/// The check of a probe that names neither a command nor a path (see [`probe`]), and of a
/// container that declares no probe.
fn port_check(port: u16, grpc: bool) -> (&'static str, Map<'static>) {
    if grpc {
        ("grpc", map! {"port" => port})
    } else {
        ("tcpSocket", map! {"port" => port})
    }
}

/// Writable emptyDir volumes under the read-only root filesystem: (mounts, volumes).
pub(crate) fn writable<'c>(
    paths: impl IntoIterator<Item = &'c str>,
) -> (Vec<Map<'c>>, Vec<Map<'c>>) {
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    let mut seen = BTreeSet::new();
    for p in paths {
        let name = volume_name(p);
        if !seen.insert(name.clone()) {
            continue;
        }
        mounts.push(map! {"name" => name.clone(), "mountPath" => p});
        volumes.push(map! {"name" => name, "emptyDir" => Map::new()});
    }
    (mounts, volumes)
}

/// Preferred spreading of an app's pods across nodes.
pub(crate) fn anti_affinity(app: &str) -> Map<'_> {
    map! {
        "podAntiAffinity" => map! {
            "preferredDuringSchedulingIgnoredDuringExecution" => vec![map! {
                "weight" => 100u32,
                "podAffinityTerm" => map! {
                    "labelSelector" => map! {
                        "matchExpressions" => vec![map! {
                            "key" => "app",
                            "operator" => "In",
                            "values" => seq![app],
                        }],
                    },
                    "topologyKey" => "kubernetes.io/hostname",
                },
            }],
        },
    }
}

/// The node pool a service's pods go to: its `node_pool`, else for a GPU service the only
/// GPU pool (validation refuses the other cases on clusters infragen creates).
pub(crate) fn pool<'c>(ctx: &Ctx<'c>, bp: &'c Service) -> Option<&'c str> {
    bp.node_pool.as_deref().or_else(|| {
        bp.gpu?;
        crate::gpu::default_pool(ctx.v.provider, ctx.v.catalog, ctx.bp)
    })
}

/// A GPU pod tolerates the `nvidia.com/gpu` taint whatever its value: DOKS puts it on its
/// GPU nodes itself (llm-d.ai/docs/infrastructure/providers/digitalocean, "GPU Node
/// Taints"), and clusters commonly taint GPU nodes so — what Kubernetes'
/// `ExtendedResourceToleration` admission plugin adds to pods requesting `nvidia.com/gpu`
/// where it is enabled (kubernetes.io/docs/reference/access-authn-authz/admission-controllers).
fn tolerate_gpu_taint(pod: &mut Map<'_>) {
    let toleration = map! {
        "key" => crate::gpu::RESOURCE,
        "operator" => "Exists",
        "effect" => "NoSchedule",
    };
    // Beside the pool's own (a declared `nvidia.com/gpu=true` matches only that value).
    match pod.get_mut("tolerations") {
        Some(Y::Seq(list)) => list.push(Y::Map(toleration)),
        _ => pod.insert("tolerations", vec![toleration]),
    }
}

/// A `kubernetes.io/arch` node selector for an image built for one CPU architecture
/// (`services[].architecture`), beside the pool's own selector: the kubelet sets that label
/// on every node (<https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-arch>),
/// so the scheduler never starts the pod where its binaries cannot run (`exec format error`).
pub(crate) fn select_architecture(arch: Option<Architecture>, pod: &mut Map<'_>) {
    let Some(arch) = arch.and_then(Architecture::label) else {
        return;
    };
    match pod.get_mut("nodeSelector") {
        Some(Y::Map(selector)) => selector.insert("kubernetes.io/arch", arch),
        _ => pod.insert("nodeSelector", map! {"kubernetes.io/arch" => arch}),
    }
}

/// Node selector and tolerations of a node pool, added to a pod spec.
pub(crate) fn schedule_on<'c>(ctx: &'c Ctx, pool: Option<&str>, pod: &mut Map<'c>) {
    let Some(p) = pool.and_then(|n| ctx.bp.node_pools.iter().find(|p| p.name == n)) else {
        return;
    };
    let mut selector: Map = (&p.labels).into();
    if let Some(label) = &ctx.opts.node_pool_label {
        selector.insert(label.as_str(), p.name.as_str());
    }
    if !selector.is_empty() {
        pod.insert("nodeSelector", selector);
    }
    let tolerations: Vec<Map> = p
        .taints
        .iter()
        .map(|t| {
            let effect = format!("{:?}", t.effect);
            match &t.value {
                Some(v) => map! {
                    "key" => t.key.as_str(),
                    "operator" => "Equal",
                    "value" => v.as_str(),
                    "effect" => effect,
                },
                None => map! {"key" => t.key.as_str(), "operator" => "Exists", "effect" => effect},
            }
        })
        .collect();
    if !tolerations.is_empty() {
        pod.insert("tolerations", tolerations);
    }
}

/// `env` entry read from a Secret key.
pub(crate) fn secret_env<'c>(
    var: &'c str,
    secret: impl Into<Str<'c>>,
    key: impl Into<Str<'c>>,
) -> Map<'c> {
    map! {
        "name" => var,
        "valueFrom" => map! {"secretKeyRef" => map! {"name" => Y::Str(secret.into()), "key" => Y::Str(key.into())}},
    }
}

/// Image pull secrets: the platform's (DOKS registry integration) and, for a workload's
/// pods, its `image_credentials` Secret ([`super::image_pull_secret`]). The kubelet tries
/// each Secret whose registry matches an image; other images are pulled without them.
/// <https://kubernetes.io/docs/concepts/containers/images/#specifying-imagepullsecrets-on-a-pod>
pub(crate) fn pull_secrets<'c>(ctx: &'c Ctx, s: Option<&Service>, pod: &mut Map<'c>) {
    let names: Vec<Map<'c>> = (ctx.opts.image_pull_secret.iter().cloned())
        .chain(s.and_then(|s| super::image_pull_secret(ctx.bp, s)))
        .map(|n| map! {"name" => n})
        .collect();
    if !names.is_empty() {
        pod.insert("imagePullSecrets", names);
    }
}

fn config_map_name(s: &Workload) -> String {
    format!("{}-env", s.name())
}

/// Name of the variable holding the pod's own address in a service whose replicas cluster.
pub const POD_IP: &str = "POD_IP";

/// `POD_IP` from the downward API (`status.podIP`), first in the app container's `env`, for
/// a service with `peer_ports`: its nodes are named by their address (libcluster's DNS
/// strategy connects to `<basename>@<address>`, so `RELEASE_NODE: "app@$(POD_IP)"`), which
/// the blueprint's `env` can then reference, and `app_env` containers inherit. A `POD_IP`
/// of the blueprint's own wins.
/// <https://kubernetes.io/docs/tasks/inject-data-application/environment-variable-expose-pod-information/>
fn pod_ip(bp: &crate::blueprint::types::Service) -> Option<Map<'static>> {
    let own = bp.env.contains_key(POD_IP) || bp.secret_env.iter().any(|e| e.name == POD_IP);
    (!bp.peer_ports.is_empty() && !own).then(|| {
        map! {
            "name" => POD_IP,
            "valueFrom" => map! {"fieldRef" => map! {"fieldPath" => "status.podIP"}},
        }
    })
}

/// `<SERVICE>_PEERS_HOST` for a service with `peer_ports`: the headless Service's name,
/// which resolves to every pod (`crate::wiring::peers`; ECS gives the same variable its
/// Cloud Map name).
fn peers_host<'c>(s: &Workload) -> Option<Map<'c>> {
    let var = crate::wiring::peers::written_host_var(s.bp)?;
    let host = format!(
        "{}.{}.svc.cluster.local",
        super::service::peers_service(s),
        s.namespace
    );
    Some(map! {"name" => var, "value" => host})
}

/// The app container of a service.
pub(crate) fn container<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    let bp = s.bp;
    let mut ports: Vec<Map> = bp
        .port
        .map(|p| map! {"name" => port_name(bp), "containerPort" => p, "protocol" => "TCP"})
        .into_iter()
        .collect();
    if let Some(m) = &bp.metrics
        && let Some(p) = m.port
        && Some(p) != bp.port
    {
        ports.push(map! {"name" => "metrics", "containerPort" => p, "protocol" => "TCP"});
    }
    let mut env: Vec<Map> = pod_ip(bp).into_iter().collect();
    env.extend(peers_host(s));
    env.extend(bp.secret_env.iter().map(|e| {
        let sec = ctx.bp.secrets.iter().find(|x| x.name == e.secret);
        let key = e
            .key
            .as_deref()
            .or_else(|| {
                sec.filter(|s| s.keys.len() == 1)
                    .map(|s| s.keys[0].as_str())
            })
            .unwrap_or(&e.name);
        if ctx.opts.external_secrets {
            // External Secrets copies the key into the service's own Secret.
            secret_env(
                &e.name,
                super::connect::connections_name(s.name()),
                e.name.as_str(),
            )
        } else {
            secret_env(&e.name, ctx.secret_name(&e.secret), key)
        }
    }));
    env.extend(super::connect::env(ctx, s));
    // Values that reference a variable (`$(DB_HOST)`) come last, as `env` entries: the
    // kubelet expands them only there, from the variables before them (`super::env`).
    let (plain, expanded) = super::env::split(&bp.env);
    env.extend(
        expanded
            .into_iter()
            .map(|(k, v)| map! {"name" => k, "value" => v}),
    );
    let env_from: Vec<Map> = if plain.is_empty() {
        Vec::new()
    } else {
        vec![map! {"configMapRef" => map! {"name" => config_map_name(s)}}]
    };
    let (mut mounts, _) = writable(bp.security.writable_paths.iter().map(String::as_str));
    mounts.extend(super::connect::ca_volume(ctx, s).map(|(m, _)| m));
    mounts.extend(super::config_files::mounts(bp));
    // Without a port (a worker) there is nothing to check by default: only the probes the
    // blueprint gives, which validation allows only as commands.
    let port = bp.port.unwrap_or_default();
    // A gRPC service's default is the gRPC health check, as its load balancer's is.
    let grpc = bp.grpc();
    let default_probe = || {
        bp.port.map(|p| {
            let (kind, check) = port_check(p, grpc);
            map! {kind => check}
        })
    };
    let liveness = bp
        .probes
        .liveness
        .as_ref()
        .map_or_else(default_probe, |p| Some(probe(p, port, grpc)));
    let readiness = bp
        .probes
        .readiness
        .as_ref()
        .map_or_else(default_probe, |p| Some(probe(p, port, grpc)));
    map! {
        "name" => s.container.as_str(),
        "image" => bp.image.as_str(),
        // `Always` unless the blueprint says otherwise: a node never runs a stale copy of a
        // re-pushed tag, and the registry's credentials are checked on every start.
        "imagePullPolicy" => bp.image_pull_policy.as_deref().unwrap_or("Always"),
    }
    .nonempty("command", &bp.command)
    .nonempty("args", &bp.args)
    .nonempty("ports", ports)
    .nonempty("envFrom", env_from)
    .nonempty("env", env)
    .with("resources", app_resources(bp))
    .opt(
        "startupProbe",
        bp.probes.startup.as_ref().map(|p| probe(p, port, grpc)),
    )
    .opt("livenessProbe", liveness)
    .opt("readinessProbe", readiness)
    .with("securityContext", container_security())
    .nonempty("volumeMounts", mounts)
}

/// A container beside the app (a sidecar, an init container, the release step), as the
/// parts [`hardened_container`] needs.
pub(crate) struct Extra<'c> {
    pub name: &'c str,
    pub image: &'c str,
    pub pull_policy: &'c str,
    pub command: &'c [String],
    pub args: &'c [String],
    pub env: &'c std::collections::BTreeMap<String, String>,
    pub resources: Option<&'c Resources>,
    pub app_env: bool,
}

/// A sidecar or init container, hardened like the app's.
fn extra_container<'c>(
    bp: &'c crate::blueprint::types::Service,
    c: &'c crate::blueprint::types::ExtraContainer,
    app: &Map<'c>,
    ca_mount: Option<&Map<'c>>,
) -> Map<'c> {
    let parts = Extra {
        name: &c.name,
        image: &c.image,
        pull_policy: "Always",
        command: &c.command,
        args: &c.args,
        env: &c.env,
        resources: c.resources.as_ref(),
        app_env: c.app_env,
    };
    hardened_container(bp, parts, app, ca_mount)
}

/// A container hardened like the app's: same security context and writable paths, requests
/// and limits always set.
///
/// With `app_env`, it also reads the app container's environment (`app`: its `envFrom` and
/// `env` — the blueprint's `env` ConfigMap, `secret_env` and the connection variables), so a
/// migration step reaches the database the app uses; its own `env` comes last and wins
/// (Kubernetes keeps the last of duplicate names).
pub(crate) fn hardened_container<'c>(
    bp: &'c crate::blueprint::types::Service,
    c: Extra<'c>,
    app: &Map<'c>,
    ca_mount: Option<&Map<'c>>,
) -> Map<'c> {
    let (mut mounts, _) = writable(bp.security.writable_paths.iter().map(String::as_str));
    // Every container of the pod reads the configuration files, as on ECS, where the task's
    // containers share the app's mounts (`backend::aws::sidecars`): a proxy sidecar reads
    // the nginx.conf of the pod.
    mounts.extend(super::config_files::mounts(bp));
    // With the app's environment come the CA files its connection variables name.
    if c.app_env {
        mounts.extend(ca_mount.cloned());
    }
    let inherited = |key: &str| -> Vec<super::yaml::Y<'c>> {
        match app.get(key) {
            Some(super::yaml::Y::Seq(v)) if c.app_env => v.clone(),
            _ => Vec::new(),
        }
    };
    let mut env = inherited("env");
    env.retain(|e| match e {
        super::yaml::Y::Map(m) => !matches!(
            m.get("name"),
            Some(super::yaml::Y::Str(n)) if c.env.contains_key(n.as_ref())
        ),
        _ => true,
    });
    // Its own values in an order where each follows those it references (`super::env`).
    let own: Vec<(&str, &str)> = c
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.extend(
        super::env::order(own)
            .into_iter()
            .map(|(k, v)| map! {"name" => k, "value" => v}.into()),
    );
    map! {
        "name" => c.name,
        "image" => c.image,
        "imagePullPolicy" => c.pull_policy,
    }
    .nonempty("command", c.command)
    .nonempty("args", c.args)
    .nonempty("envFrom", inherited("envFrom"))
    .nonempty("env", env)
    .with("resources", resources(c.resources))
    .with("securityContext", container_security())
    .nonempty("volumeMounts", mounts)
}

/// The pod template annotations: the blueprint's, Prometheus scraping and the ConfigMap's
/// hash (infragen's own keys win: they drive scraping and restarts).
pub(crate) fn pod_annotations<'c>(s: &'c Workload, config_hash: Option<&str>) -> Map<'c> {
    let mut a: Map = (&s.bp.annotations).into();
    if let Some(m) = &s.bp.metrics
        && let Some(port) = m.port.or(s.bp.port)
    {
        a.insert("prometheus.io/scrape", "true");
        a.insert("prometheus.io/port", port.to_string());
        if let Some(p) = &m.path {
            a.insert("prometheus.io/path", p.as_str());
        }
    }
    if let Some(h) = config_hash {
        a.insert("checksum/config", h.to_string());
    }
    a
}

/// checkov suppressions for choices the blueprint made explicitly, each with its reason, so
/// the scanner stays strict everywhere else.
pub(crate) fn scanner_skips(s: &Workload) -> Map<'static> {
    let mut a = Map::new();
    let mut n = 0;
    let mut skip = |a: &mut Map, check: &str, why: &str| {
        n += 1;
        a.insert(format!("checkov.io/skip{n}"), format!("{check}={why}"));
    };
    if s.automount {
        skip(
            &mut a,
            "CKV_K8S_38",
            "the blueprint declares this service account with automount_token: the workload needs its service account token",
        );
    }
    if s.bp
        .image_pull_policy
        .as_deref()
        .is_some_and(|p| p != "Always")
    {
        skip(
            &mut a,
            "CKV_K8S_15",
            "the blueprint pins the image pull policy for this service",
        );
    }
    a
}

/// The labels of a service's objects and pods.
pub(crate) fn labels<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    let mut l = ctx.app_labels(s.name(), "server", s.bp.version.as_deref());
    l.extend((&s.bp.labels).into());
    l
}

/// The ConfigMap of the workload's plain `env` and that of its `files` (pushed onto
/// `docs`), and the former's content hash
/// for the pod template's `checksum/config` annotation (changing it rolls the pods).
pub(crate) fn config_map<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    labels: Map<'c>,
    docs: &mut Vec<Map<'c>>,
) -> Option<String> {
    // The files' ConfigMap is named after its content: the pod template names it, so a
    // change rolls the pods without an annotation.
    super::config_files::lower(ctx, s, labels.clone(), docs);
    let (plain, _) = super::env::split(&s.bp.env);
    if plain.is_empty() {
        return None;
    }
    let mut data = Map::new();
    for (k, v) in plain {
        data.insert(k, v);
    }
    let hash = content_hash(&super::yaml::to_string(&data));
    docs.push(map! {
        "apiVersion" => "v1",
        "kind" => "ConfigMap",
        "metadata" => ctx.meta(config_map_name(s), &s.namespace, labels),
        "data" => data,
    });
    Some(hash)
}

/// The hardened pod spec of a workload (services' Deployments and jobs' CronJobs alike):
/// its identity, security contexts, containers, writable volumes and node pool; `spread`
/// adds the anti-affinity that spreads a service's replicas across nodes.
pub(crate) fn pod_spec<'c>(ctx: &'c Ctx, s: &'c Workload, spread: bool) -> Map<'c> {
    let bp = s.bp;
    let (_, mut volumes) = writable(bp.security.writable_paths.iter().map(String::as_str));
    let ca = super::connect::ca_volume(ctx, s);
    volumes.extend(ca.as_ref().map(|(_, v)| v.clone()));
    volumes.extend(super::config_files::volume(bp));
    let ca_mount = ca.as_ref().map(|(m, _)| m);
    let mut security = app_pod_security(ctx, &bp.security);
    if let Some(port) = bp.privileged_port() {
        security.insert(
            "sysctls",
            seq![
                map! {"name" => "net.ipv4.ip_unprivileged_port_start", "value" => port.to_string()}
            ],
        );
    }
    let mut app = container(ctx, s);
    let mut sidecars: Vec<Map> = bp
        .sidecars
        .iter()
        .map(|c| extra_container(bp, c, &app, ca_mount))
        .collect();
    // A load balancer's IP target pauses before SIGTERM while the target is deregistered
    // (`readiness_gate::pre_stop`); its sidecars pause as long, so the proxy or agent the
    // app calls is still there while it serves.
    let pre_stop = super::readiness_gate::pre_stop(ctx, s);
    if let Some((pause, _)) = pre_stop {
        let lifecycle = map! {"preStop" => map! {"sleep" => map! {"seconds" => pause}}};
        for c in std::iter::once(&mut app).chain(&mut sidecars) {
            c.insert_before("securityContext", "lifecycle", lifecycle.clone());
        }
    }
    let init: Vec<Map> = bp
        .init
        .iter()
        .map(|c| extra_container(bp, c, &app, ca_mount))
        .collect();
    let mut pod = map! {
        "serviceAccountName" => s.service_account.as_str(),
        "automountServiceAccountToken" => s.automount,
        "securityContext" => security,
        "containers" => std::iter::once(app).chain(sidecars).collect::<Vec<_>>(),
    }
    .nonempty("volumes", volumes);
    if !init.is_empty() {
        pod.insert_before("containers", "initContainers", init);
    }
    if let Some((_, grace)) = pre_stop {
        pod.insert("terminationGracePeriodSeconds", grace);
    } else if let Some(t) = bp.stop_timeout {
        // SIGTERM, then this long before SIGKILL (default 30 s): a worker's warm shutdown
        // finishes its current task instead of losing it.
        pod.insert("terminationGracePeriodSeconds", t);
    }
    schedule_on(ctx, pool(ctx, bp), &mut pod);
    select_architecture(bp.architecture, &mut pod);
    if bp.gpu.is_some() {
        tolerate_gpu_taint(&mut pod);
    }
    if spread {
        pod.insert("affinity", anti_affinity(s.name()));
    }
    pull_secrets(ctx, Some(bp), &mut pod);
    pod
}

/// Whether the rolling update of a service with a release step and no `max_unavailable` of
/// its own gets `maxUnavailable: 0` (with a surge to make progress: not when `max_surge` is
/// zero, which the API server would refuse beside it).
pub(super) fn release_keeps_capacity(bp: &Service) -> bool {
    let no_surge = bp
        .rollout
        .max_surge
        .as_deref()
        .is_some_and(|m| m.trim_end_matches('%') == "0");
    bp.release.is_some() && bp.rollout.max_unavailable.is_none() && !no_surge
}

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, docs: &mut Vec<Map<'c>>) {
    let bp = s.bp;
    // The ConfigMap's hash goes on every track's pod template; it is computed once.
    let config_hash = config_map(ctx, s, labels(ctx, s), docs);
    let mut pod = pod_spec(ctx, s, true);
    if let Some(r) = &bp.release {
        // The Job first: its name, a hash of its pod template, is what the pods wait for.
        let app = container(ctx, s);
        let job = super::release::lower(ctx, s, r, &app, config_hash.as_deref(), docs);
        super::release::wait_for(ctx, s, job, &mut pod);
    }

    let all = tracks(ctx, s);
    let last = all.len() - 1;
    for (i, t) in all.into_iter().enumerate() {
        let mut meta_labels = labels(ctx, s);
        meta_labels.extend(t.extra.clone());
        let mut pod_labels = meta_labels.clone();
        ctx.add_common_labels(&mut pod_labels);
        let mut annotations = pod_annotations(s, config_hash.as_deref());
        if bp.release.is_some() {
            super::release::annotate(ctx, s, &mut annotations);
        }
        let template_meta = map! {"labels" => pod_labels}.nonempty("annotations", annotations);
        let mut spec = Map::new().opt("replicas", t.replicas).opt(
            "progressDeadlineSeconds",
            super::release::progress_deadline(bp),
        );
        spec.insert("selector", map! {"matchLabels" => t.selector(s.name())});
        if s.strategy() == Strategy::Recreate {
            // The controller deletes the old pods and waits until they are gone before it
            // creates any new one (semantic refuses surge and unavailable beside it).
            spec.insert("strategy", map! {"type" => "Recreate"});
        } else if bp.rollout.max_surge.is_some()
            || bp.rollout.max_unavailable.is_some()
            || release_keeps_capacity(bp)
        {
            // With a release step the new pods wait for its Job, possibly for ever (a failed
            // run): the old ones must keep serving at full strength meanwhile, so none is taken
            // down before a new one is ready (the default would take 25 %).
            let unavailable = bp
                .rollout
                .max_unavailable
                .as_deref()
                .or(release_keeps_capacity(bp).then_some("0"));
            let ru = Map::new()
                .opt(
                    "maxSurge",
                    bp.rollout.max_surge.as_deref().map(int_or_string),
                )
                .opt("maxUnavailable", unavailable.map(int_or_string));
            spec.insert(
                "strategy",
                map! {"type" => "RollingUpdate", "rollingUpdate" => ru},
            );
        }
        // The last track takes the pod spec; the others get copies.
        let mut pod = if i == last {
            std::mem::take(&mut pod)
        } else {
            pod.clone()
        };
        if let Some(image) = t.image {
            set_app_image(&mut pod, &s.container, image);
        }
        spec.insert(
            "template",
            map! {"metadata" => template_meta, "spec" => pod},
        );
        let mut meta = ctx.meta(t.deployment, &s.namespace, meta_labels);
        let skips = scanner_skips(s);
        if !skips.is_empty() {
            meta.insert("annotations", skips);
        }
        docs.push(map! {
            "apiVersion" => "apps/v1",
            "kind" => "Deployment",
            "metadata" => meta,
            "spec" => spec,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::canary_replicas;

    #[test]
    fn canary_sizes() {
        // At the ingress: the canary carries its share of the stable capacity.
        assert_eq!(canary_replicas(3, 10, true), 1);
        assert_eq!(canary_replicas(20, 10, true), 2);
        assert_eq!(canary_replicas(10, 25, true), 3);
        // Shared Service: c / (n + c) ≈ weight.
        assert_eq!(canary_replicas(9, 10, false), 1);
        assert_eq!(canary_replicas(3, 50, false), 3);
        assert_eq!(canary_replicas(3, 10, false), 1);
    }
}
