//! The scaffolding every engine shares: the StatefulSet with its claim, the headless and
//! client Services, the hardened pod, the exporter sidecar; each engine's file fills in
//! its env, command, probes and exporter settings.

use super::{mongodb, mysql, postgres, rabbitmq, redis};
use crate::k8s::workload::{
    anti_affinity, container_security, pod_security, resources, schedule_on, writable,
};
use crate::k8s::yaml::{Map, Str, Y, map, seq};
use crate::k8s::{Ctx, DataService, Engine};

/// The uid and gid the official images run as.
pub const DATA_UID: u32 = 999;

/// A shell word: single-quoted unless plainly safe.
pub(crate) fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn labels<'c>(ctx: &'c Ctx, d: &'c DataService) -> Map<'c> {
    let version = d.image.rsplit_once(':').map(|(_, t)| t);
    ctx.app_labels(&d.name, d.engine.component(), version)
}

/// Credentials env of the server container.
fn env<'c>(ctx: &'c Ctx, d: &'c DataService) -> Vec<Map<'c>> {
    let Some(secret) = d.credentials_secret.as_deref() else {
        return Vec::new();
    };
    let db = d.database_name.as_deref().unwrap_or(&d.name);
    match d.engine {
        Engine::Postgres => postgres::env(d, secret, db),
        Engine::Mysql => mysql::env(secret, db),
        Engine::Mongodb => mongodb::env(secret, db),
        Engine::Redis | Engine::Valkey => redis::env(ctx, d, secret),
        Engine::Rabbitmq => rabbitmq::env(secret),
    }
}

/// Command and args of the server container.
fn command(d: &DataService) -> (Vec<String>, Vec<String>) {
    let server = d.engine.server().to_string();
    match d.engine {
        Engine::Mongodb => mongodb::command(d, server),
        Engine::Redis | Engine::Valkey => redis::command(d, server),
        Engine::Mysql => (Vec::new(), mysql::args(d, server)),
        _ if d.args.is_empty() => (Vec::new(), Vec::new()),
        _ => {
            let mut args = vec![server];
            args.extend(d.args.iter().cloned());
            (Vec::new(), args)
        }
    }
}

/// An `exec` probe action running `cmd` (a [`seq!`] of words).
pub(super) fn exec(cmd: Y<'static>) -> Map<'static> {
    map! {"exec" => map! {"command" => cmd}}
}

pub(super) fn sh(script: String) -> Map<'static> {
    map! {"exec" => map! {"command" => seq!["/bin/sh", "-c", script]}}
}

/// (startup, liveness, readiness) of the server container. The startup probe runs the
/// readiness check for up to five minutes before liveness takes over: a first start
/// initializes the data directory behind a socket-only temporary server (MySQL's
/// `--initialize`, PostgreSQL's `initdb`), and a restart after a crash replays the journal
/// before the port opens — a liveness probe alone (90 s) would kill the server mid-way,
/// over and over, and MySQL would be left half-initialized.
fn probes(d: &DataService) -> (Map<'static>, Map<'static>, Map<'static>) {
    let port = d.port;
    let tcp = map! {"tcpSocket" => map! {"port" => port}};
    let (live, ready) = match d.engine {
        Engine::Postgres => postgres::probes(port),
        Engine::Mysql => mysql::probes(port),
        Engine::Mongodb => mongodb::probes(d, port, tcp),
        Engine::Redis | Engine::Valkey => redis::probes(d, port),
        Engine::Rabbitmq => rabbitmq::probes(tcp),
    };
    let live = live
        .with("initialDelaySeconds", 30u32)
        .with("periodSeconds", 10u32)
        .with("timeoutSeconds", 5u32)
        .with("failureThreshold", 6u32);
    let startup = ready
        .clone()
        .with("periodSeconds", 10u32)
        .with("timeoutSeconds", 5u32)
        .with("failureThreshold", 30u32);
    let ready = ready
        .with("initialDelaySeconds", 5u32)
        .with("periodSeconds", 10u32)
        .with("timeoutSeconds", 5u32)
        .with("failureThreshold", 3u32);
    (startup, live, ready)
}

fn storage_name(d: &DataService) -> String {
    format!("{}-storage", d.name)
}

/// The volume claim spec shared by the StatefulSet's template and the backup claim. A
/// database's volumes use the platform's retaining class (see `storage.rs`).
pub(crate) fn claim_spec<'c>(ctx: &'c Ctx, d: &DataService, size: &'c str) -> Map<'c> {
    let class = if d.part == "databases" {
        ctx.opts
            .database_storage_class
            .as_ref()
            .or(ctx.opts.storage_class.as_ref())
    } else {
        ctx.opts.storage_class.as_ref()
    };
    map! {"accessModes" => seq!["ReadWriteOnce"]}
        .opt("storageClassName", class)
        // As the API server stores it (`1024Gi` reads back `1Ti`; see `quantity.rs`).
        .with(
            "resources",
            map! {"requests" => map! {"storage" => crate::k8s::quantity::canonical(size)}},
        )
}

fn service<'c>(
    ctx: &'c Ctx,
    d: &'c DataService,
    name: impl Into<Str<'c>>,
    headless: bool,
) -> Map<'c> {
    let mut selector = map! {"app" => d.name.as_str()};
    if !headless && d.engine.is_cache() && d.replicas > 1 {
        selector.insert(
            "statefulset.kubernetes.io/pod-name",
            format!("{}-0", d.name),
        );
    }
    let mut spec = Map::new();
    if headless {
        spec.insert("clusterIP", "None");
        // Peers find each other before they are ready (replica-set initiation, replication).
        spec.insert("publishNotReadyAddresses", true);
    } else {
        spec.insert("type", "ClusterIP");
    }
    spec.insert("selector", selector);
    let mut ports = vec![map! {
        "name" => d.engine.port_name(),
        "port" => d.port,
        "targetPort" => d.port,
        "protocol" => "TCP",
    }];
    if let Some(p) = d.metrics_port() {
        ports.push(map! {"name" => "metrics", "port" => p, "targetPort" => p, "protocol" => "TCP"});
    }
    spec.insert("ports", ports);
    map! {
        "apiVersion" => "v1",
        "kind" => "Service",
        "metadata" => ctx.meta(name, &d.namespace, labels(ctx, d)),
        "spec" => spec,
    }
}

/// The hardened pod spec around `containers`, with scratch `volumes`.
pub(crate) fn pod<'c>(ctx: &'c Ctx, containers: Vec<Map<'c>>, volumes: Vec<Map<'c>>) -> Map<'c> {
    let mut p = map! {
        "automountServiceAccountToken" => false,
        "securityContext" => pod_security(DATA_UID, Some(DATA_UID), Some(DATA_UID)),
        "containers" => containers,
    }
    .nonempty("volumes", volumes);
    crate::k8s::workload::pull_secrets(ctx, None, &mut p);
    p
}

pub fn lower<'c>(ctx: &'c Ctx, d: &'c DataService, docs: &mut Vec<Map<'c>>) {
    docs.push(service(ctx, d, d.headless(), true));
    docs.push(service(ctx, d, &d.service_name, false));

    let (mut mounts, mut volumes) = writable(d.engine.scratch().iter().copied());
    mounts.insert(
        0,
        map! {"name" => storage_name(d), "mountPath" => d.engine.data_path()},
    );
    let mut init = Vec::new();
    if d.mongo_replica_set() {
        init.push(mongodb::key_file(d, &mut mounts, &mut volumes));
    }
    let (cmd, args) = command(d);
    let (startup, live, ready) = probes(d);
    let mut ports =
        vec![map! {"name" => d.engine.port_name(), "containerPort" => d.port, "protocol" => "TCP"}];
    if let Some((None, p)) = &d.exporter {
        // The server serves its own metrics.
        ports.push(map! {"name" => "metrics", "containerPort" => *p, "protocol" => "TCP"});
    }
    let container = map! {
        "name" => d.name.as_str(),
        "image" => d.image.as_str(),
        "imagePullPolicy" => "Always",
    }
    .nonempty("command", cmd)
    .nonempty("args", args)
    .with("ports", ports)
    .nonempty("env", env(ctx, d))
    .with("resources", resources(Some(&d.resources)))
    .with("startupProbe", startup)
    .with("livenessProbe", live)
    .with("readinessProbe", ready)
    .with("securityContext", container_security())
    .with("volumeMounts", mounts);

    let mut containers = vec![container];
    if let Some((Some(image), port)) = &d.exporter {
        containers.push(exporter(ctx, d, image, *port));
    }
    let mut spec = pod(ctx, containers, volumes);
    // The kubelet applies `fsGroup` to a volume on every mount by default, recursively
    // adding group read/write to each file: RabbitMQ's `.erlang.cookie` (0400, on the data
    // volume) then becomes 0660, and Erlang refuses a cookie others can read ("must be
    // accessible by owner only"), so the broker crash-loops after its first pod
    // replacement. Once the volume's root carries the group, leave it alone.
    spec.insert(
        "securityContext",
        pod_security(DATA_UID, Some(DATA_UID), Some(DATA_UID))
            .with("fsGroupChangePolicy", "OnRootMismatch"),
    );
    if !init.is_empty() {
        spec.insert_before("containers", "initContainers", init);
    }
    schedule_on(ctx, d.node_pool.as_deref(), &mut spec);
    spec.insert("affinity", anti_affinity(&d.name));
    if d.replicas > 1 {
        spec.insert("topologySpreadConstraints", zone_spread(&d.name));
    }

    let mut pod_labels = labels(ctx, d);
    ctx.add_common_labels(&mut pod_labels);
    let mut template_meta = map! {"labels" => pod_labels};
    if let Some(p) = d.metrics_port() {
        template_meta.insert(
            "annotations",
            map! {"prometheus.io/scrape" => "true", "prometheus.io/port" => p.to_string()},
        );
    }
    docs.push(map! {
        "apiVersion" => "apps/v1",
        "kind" => "StatefulSet",
        "metadata" => ctx.meta(&d.name, &d.namespace, labels(ctx, d)),
        "spec" => map! {
            "serviceName" => d.headless(),
            "replicas" => d.replicas,
            "selector" => map! {"matchLabels" => map! {"app" => d.name.as_str()}},
            "template" => map! {"metadata" => template_meta, "spec" => spec},
            "volumeClaimTemplates" => vec![map! {
                "metadata" => map! {"name" => storage_name(d)},
                "spec" => claim_spec(ctx, d, &d.volume_size),
            }],
            // Deleting or scaling down the StatefulSet keeps its claims (and data); said
            // explicitly, as the default could change.
            "persistentVolumeClaimRetentionPolicy" => map! {"whenDeleted" => "Retain", "whenScaled" => "Retain"},
        },
    });

    if d.replicas > 1 {
        docs.push(map! {
            "apiVersion" => "policy/v1",
            "kind" => "PodDisruptionBudget",
            "metadata" => ctx.meta(format!("{}-pdb", d.name), &d.namespace, labels(ctx, d)),
            "spec" => map! {
                "maxUnavailable" => 1u32,
                "selector" => map! {"matchLabels" => map! {"app" => d.name.as_str()}},
            },
        });
    }
    if d.mongo_replica_set() {
        docs.push(mongodb::replica_set_init(ctx, d));
    }
}

/// The replicas of a data service spread over the zones, as far as nodes allow. A member's
/// volume is created in the zone of its first node (`WaitForFirstConsumer`) and keeps the
/// pod there for good, so where the members first land decides whether the set survives a
/// zone outage; the scheduler's built-in zone spreading allows a skew of 5
/// (kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/, "Cluster-level
/// default constraints"), which puts three members in one zone without a word. A skew of 1
/// as a preference (`ScheduleAnyway`): a zone without a free node never leaves a member
/// Pending. On EKS the pools that host data are a node group per zone
/// (`backend/aws/cluster/zones.rs`); a cluster in one zone spreads trivially.
fn zone_spread(app: &str) -> Vec<Map<'_>> {
    vec![map! {
        "maxSkew" => 1u32,
        "topologyKey" => "topology.kubernetes.io/zone",
        "whenUnsatisfiable" => "ScheduleAnyway",
        "labelSelector" => map! {"matchLabels" => map! {"app" => app}},
    }]
}

/// The exporter sidecar: it reads the server on localhost with the same credentials.
fn exporter<'c>(ctx: &'c Ctx, d: &'c DataService, image: &'c str, port: u16) -> Map<'c> {
    let secret = d.credentials_secret.as_deref();
    let local = format!("127.0.0.1:{}", d.port);
    let listen = format!("--web.listen-address=:{port}");
    let db = d.database_name.clone().unwrap_or_else(|| d.name.clone());
    let mut env = Vec::new();
    let args: Vec<String> = match d.engine {
        Engine::Mongodb => mongodb::exporter(&mut env, secret, &local, listen),
        Engine::Redis | Engine::Valkey => redis::exporter(ctx, d, &mut env, secret, &local, port),
        Engine::Postgres => postgres::exporter(&mut env, secret, &local, &db, listen),
        Engine::Rabbitmq => Vec::new(),
        Engine::Mysql => mysql::exporter(&mut env, secret, &local, listen),
    };
    let tcp = |delay: u32| {
        map! {"tcpSocket" => map! {"port" => port}, "initialDelaySeconds" => delay, "periodSeconds" => 10u32}
    };
    map! {
        "name" => "exporter",
        "image" => image,
        "imagePullPolicy" => "Always",
        "args" => args,
        "ports" => vec![map! {"name" => "metrics", "containerPort" => port, "protocol" => "TCP"}],
    }
    .nonempty("env", env)
    .with("resources", small_resources())
    .with("livenessProbe", tcp(30))
    .with("readinessProbe", tcp(5))
    .with("securityContext", container_security())
}

/// Requests/limits of helper containers (key-file copy, replica-set initiation): what
/// [`resources`] writes for these quantities, as literals.
pub(crate) fn small_resources() -> Map<'static> {
    map! {
        "requests" => map! {"cpu" => "50m", "memory" => "64Mi"},
        "limits" => map! {"cpu" => "250m", "memory" => "256Mi"},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(sh_quote("--appendonly"), "--appendonly");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
    }
}
