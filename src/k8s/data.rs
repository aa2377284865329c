//! Databases, caches and queues run inside the cluster (`deployment: in_cluster`, or every
//! one of them on `--provider kubernetes`): a StatefulSet with a volume claim per pod, a
//! headless Service that governs it (`<service>-headless`, stable pod names) and a ClusterIP
//! Service for clients (`in_cluster.service_name`, default the component's name), in
//! `k8s/<namespace>/<name>.yaml`.
//!
//! Pods are hardened like the services' (the official images run as uid/gid 999 with a
//! read-only root filesystem once their scratch paths are emptyDirs); credentials come from
//! a Secret by reference (`in_cluster.credentials_secret`, default `<name>-credentials`,
//! keys `username` and `password`).
//!
//! - MongoDB: `--replSet <name>` with a key file (Secret key `keyfile`) when it has more than
//!   one replica, and a Job that initiates the replica set once (idempotent).
//! - Redis / Valkey: append-only persistence; with more than one replica, pod 0 is the
//!   primary (the client Service selects it) and the others replicate from it (no
//!   automatic failover).
//! - PostgreSQL, MySQL, RabbitMQ: a single server (validation rejects more replicas).

use super::workload::{
    anti_affinity, container_security, pod_security, resources, schedule_on, secret_env, writable,
};
use super::yaml::{Map, Str, Y, map, seq};
use super::{Ctx, DataService, Engine};
use crate::analysis::DataKind;
use crate::blueprint::types::{
    CacheEngine, DatabaseEngine, InCluster, QueueEngine, Resources, Sizes,
};
use crate::catalog::{Provider, SizeKind};

/// The uid and gid the official images run as.
pub const DATA_UID: u32 = 999;
const KEYFILE_DIR: &str = "/etc/mongo-keyfile";

impl From<DatabaseEngine> for Engine {
    fn from(e: DatabaseEngine) -> Self {
        match e {
            DatabaseEngine::Postgres => Engine::Postgres,
            DatabaseEngine::Mysql => Engine::Mysql,
            DatabaseEngine::Mongodb => Engine::Mongodb,
        }
    }
}

impl From<CacheEngine> for Engine {
    fn from(e: CacheEngine) -> Self {
        match e {
            CacheEngine::Redis => Engine::Redis,
            CacheEngine::Valkey => Engine::Valkey,
        }
    }
}

impl From<QueueEngine> for Engine {
    fn from(e: QueueEngine) -> Self {
        match e {
            QueueEngine::Rabbitmq => Engine::Rabbitmq,
        }
    }
}

impl Engine {
    /// Key of the engine's default version in the catalogs.
    fn catalog_key(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mongodb => "mongodb",
            Engine::Redis => "redis",
            Engine::Valkey => "valkey",
            Engine::Rabbitmq => "rabbitmq",
        }
    }

    fn component(self) -> &'static str {
        match self {
            Engine::Postgres | Engine::Mysql | Engine::Mongodb => "database",
            Engine::Redis | Engine::Valkey => "cache",
            Engine::Rabbitmq => "queue",
        }
    }

    fn port_name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mongodb => "mongodb",
            Engine::Redis | Engine::Valkey => "redis",
            Engine::Rabbitmq => "amqp",
        }
    }

    /// Where the data volume is mounted.
    fn data_path(self) -> &'static str {
        match self {
            Engine::Postgres => "/var/lib/postgresql/data",
            Engine::Mysql => "/var/lib/mysql",
            Engine::Mongodb => "/data/db",
            Engine::Redis | Engine::Valkey => "/data",
            Engine::Rabbitmq => "/var/lib/rabbitmq",
        }
    }

    /// Scratch paths the image writes besides the data volume.
    fn scratch(self) -> &'static [&'static str] {
        match self {
            Engine::Postgres => &["/tmp", "/var/run/postgresql"],
            Engine::Mysql => &["/tmp", "/var/run/mysqld"],
            Engine::Mongodb => &["/tmp", "/data/configdb"],
            Engine::Redis | Engine::Valkey | Engine::Rabbitmq => &["/tmp"],
        }
    }

    /// The image's default command (what `args` must start with to keep it).
    fn server(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysqld",
            Engine::Mongodb => "mongod",
            Engine::Redis => "redis-server",
            Engine::Valkey => "valkey-server",
            Engine::Rabbitmq => "rabbitmq-server",
        }
    }

    fn is_cache(self) -> bool {
        matches!(self, Engine::Redis | Engine::Valkey)
    }
}

/// The engine's standard port.
pub fn default_port(e: Engine) -> u16 {
    match e {
        Engine::Postgres => 5432,
        Engine::Mysql => 3306,
        Engine::Mongodb => 27017,
        Engine::Redis | Engine::Valkey => 6379,
        Engine::Rabbitmq => 5672,
    }
}

/// The community exporter of an engine (pinned) and its usual port; RabbitMQ serves its
/// own metrics (the `rabbitmq_prometheus` plugin).
fn exporter_defaults(e: Engine) -> (Option<&'static str>, u16) {
    match e {
        Engine::Mongodb => (Some("percona/mongodb_exporter:0.40.0"), 9216),
        Engine::Redis | Engine::Valkey => (Some("oliver006/redis_exporter:v1.58.0"), 9121),
        Engine::Postgres => (Some("prometheuscommunity/postgres-exporter:v0.15.0"), 9187),
        Engine::Mysql => (Some("prom/mysqld-exporter:v0.15.1"), 9104),
        Engine::Rabbitmq => (None, 15692),
    }
}

/// The image of an engine version: a line (`17`, `8.0`) runs the full version the versions
/// catalog pins for it (`postgres:17.7`, `mongo:8.0.20`), never a floating tag that moves
/// under a running StatefulSet; a full version is used as written
/// ([`crate::releases::Product::image_tag`]).
pub(crate) fn default_image(e: Engine, version: &str) -> String {
    let product = crate::releases::product(match e {
        Engine::Postgres => "image-postgres",
        Engine::Mysql => "image-mysql",
        Engine::Mongodb => "image-mongo",
        Engine::Redis => "image-redis",
        Engine::Valkey => "image-valkey",
        Engine::Rabbitmq => "image-rabbitmq",
    });
    let tag = product.image_tag(version, &crate::releases::get().as_of);
    match e {
        Engine::Postgres => format!("postgres:{tag}"),
        Engine::Mysql => format!("mysql:{tag}"),
        Engine::Mongodb => format!("mongo:{tag}"),
        Engine::Redis => format!("redis:{tag}"),
        Engine::Valkey => format!("valkey/valkey:{tag}"),
        Engine::Rabbitmq => format!("rabbitmq:{tag}"),
    }
}

/// Requests/limits: `in_cluster.resources`, else `sizes.kubernetes`, else the Kubernetes
/// catalog's class for `size` (`small` when the size is not a portable class).
fn sized(ic: &InCluster, size: Option<&str>, sizes: &Sizes, kind: SizeKind) -> Resources {
    if let Some(r) = ic.resources.clone().or_else(|| sizes.kubernetes.clone()) {
        return r;
    }
    let catalog = Provider::Kubernetes.catalog();
    let class = size
        .and_then(|s| catalog.resolve(kind, s).ok())
        .or_else(|| catalog.resolve(kind, "small").ok())
        .unwrap_or_default();
    let f: Vec<&str> = class.split('|').collect();
    let q = |cpu: Option<&&str>, mem: Option<&&str>| crate::blueprint::types::Quantity {
        cpu: cpu.map(|s| s.to_string()),
        memory: mem.map(|s| s.to_string()),
    };
    Resources {
        requests: q(f.first(), f.get(1)),
        limits: q(f.get(2), f.get(3)),
    }
}

/// The in-cluster data services of the blueprint.
pub(crate) fn plan<'a>(ctx: &Ctx<'a>) -> Vec<DataService<'a>> {
    let bp = ctx.bp;
    let users = |name: &str| -> Vec<String> {
        ctx.v
            .users_of(name)
            .iter()
            .map(|s| s.name.clone())
            .collect()
    };
    let version = |e: Engine, v: &Option<String>| {
        v.clone().unwrap_or_else(|| {
            Provider::Kubernetes
                .catalog()
                .default_version(e.catalog_key())
                .unwrap_or("latest")
                .to_string()
        })
    };
    let mut out = Vec::new();
    let make = |part: &'static str,
                name: &str,
                engine: Engine,
                version: String,
                ic: &InCluster,
                port: Option<u16>,
                replicas: u32,
                resources: Resources,
                volume: String,
                credentials: Option<String>| {
        let mut args = ic.args.clone();
        if engine.is_cache() && args.is_empty() {
            args = vec!["--appendonly".into(), "yes".into()];
        }
        DataService {
            name: name.to_string(),
            part,
            engine,
            namespace: ctx.default_namespace.clone(),
            port: port.unwrap_or_else(|| default_port(engine)),
            service_name: ic.service_name.clone().unwrap_or_else(|| name.to_string()),
            image: ic
                .image
                .clone()
                .unwrap_or_else(|| default_image(engine, &version)),
            version,
            replicas: ic.replicas.unwrap_or(replicas).max(1),
            resources,
            volume_size: ic.volume_size.clone().unwrap_or(volume),
            credentials_secret: credentials,
            args,
            node_pool: ic.node_pool.clone(),
            database_name: None,
            backup: None,
            users: users(name),
            exporter: ic.exporter.as_ref().map(|x| {
                let (image, port) = exporter_defaults(engine);
                (
                    x.image.clone().or(image.map(String::from)),
                    x.port.unwrap_or(port),
                )
            }),
        }
    };
    for d in &bp.databases {
        if !ctx.v.in_cluster(DataKind::Database, d.deployment) {
            continue;
        }
        let e = Engine::from(d.engine);
        let mut ds = make(
            "databases",
            &d.name,
            e,
            version(e, &d.version),
            &d.in_cluster,
            d.port,
            1,
            sized(
                &d.in_cluster,
                d.size.as_deref(),
                &d.sizes,
                SizeKind::Database,
            ),
            d.storage
                .as_ref()
                .map_or_else(|| "10Gi".into(), |s| format!("{}Gi", s.size_gb)),
            Some(
                d.in_cluster
                    .credentials_secret
                    .clone()
                    .unwrap_or_else(|| format!("{}-credentials", d.name)),
            ),
        );
        ds.database_name = Some(d.database_name.clone().unwrap_or_else(|| d.name.clone()));
        ds.backup = d.backup.as_ref();
        out.push(ds);
    }
    for c in &bp.caches {
        if !ctx.v.in_cluster(DataKind::Cache, c.deployment) {
            continue;
        }
        let e = Engine::from(c.engine);
        // Every in-cluster cache requires a password: the platform module generates it.
        let auth = c
            .in_cluster
            .credentials_secret
            .clone()
            .or_else(|| c.auth_token_secret.as_ref().map(|s| ctx.secret_name(s)))
            .or_else(|| Some(format!("{}-credentials", c.name)));
        out.push(make(
            "caches",
            &c.name,
            e,
            version(e, &c.version),
            &c.in_cluster,
            c.port,
            c.nodes,
            sized(&c.in_cluster, c.size.as_deref(), &c.sizes, SizeKind::Cache),
            "5Gi".into(),
            auth,
        ));
    }
    for q in &bp.queues {
        if !ctx.v.in_cluster(DataKind::Queue, q.deployment) {
            continue;
        }
        let e = Engine::from(q.engine);
        out.push(make(
            "queues",
            &q.name,
            e,
            version(e, &q.version),
            &q.in_cluster,
            None,
            1,
            sized(&q.in_cluster, q.size.as_deref(), &q.sizes, SizeKind::Queue),
            "5Gi".into(),
            Some(
                q.in_cluster
                    .credentials_secret
                    .clone()
                    .unwrap_or_else(|| format!("{}-credentials", q.name)),
            ),
        ));
    }
    out
}

impl DataService<'_> {
    pub fn ports(&self) -> Vec<u16> {
        vec![self.port]
    }

    /// The exporter's port, if it has one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.exporter.as_ref().map(|(_, p)| *p)
    }

    pub fn headless(&self) -> String {
        format!("{}-headless", self.service_name)
    }

    /// The DNS name of pod `i`.
    pub fn pod_host(&self, i: u32) -> String {
        format!(
            "{}-{i}.{}.{}.svc.cluster.local",
            self.name,
            self.headless(),
            self.namespace
        )
    }

    fn mongo_replica_set(&self) -> bool {
        self.engine == Engine::Mongodb && self.replicas > 1
    }

    /// The key of the password in the credentials Secret (caches reuse an AUTH token
    /// secret's first key).
    pub fn password_key(&self, ctx: &Ctx) -> String {
        if self.engine.is_cache() {
            let secret = ctx.bp.caches.iter().find(|c| c.name == self.name);
            if let Some(c) = secret
                && c.in_cluster.credentials_secret.is_none()
                && let Some(s) = &c.auth_token_secret
                && let Some(sec) = ctx.bp.secrets.iter().find(|x| &x.name == s)
                && let Some(k) = sec.keys.first()
            {
                return k.clone();
            }
        }
        "password".into()
    }
}

impl DataService<'_> {
    /// The keys of its credentials Secret, each with what the platform module writes there.
    pub fn credential_keys(&self, ctx: &Ctx) -> Vec<(String, super::Generated)> {
        use super::Generated;
        if self.credentials_secret.is_none() {
            return Vec::new();
        }
        let mut keys = Vec::new();
        if !self.engine.is_cache() {
            let user = ctx
                .bp
                .databases
                .iter()
                .find(|x| x.name == self.name)
                .and_then(|x| x.username.clone())
                .unwrap_or_else(|| "app".into());
            keys.push(("username".to_string(), Generated::Value(user)));
        }
        keys.push((self.password_key(ctx), Generated::Password));
        if self.engine == Engine::Mysql {
            keys.push(("root-password".into(), Generated::Password));
        }
        if self.mongo_replica_set() {
            keys.push(("keyfile".into(), Generated::KeyFile));
        }
        keys
    }
}

/// The `app` labels of a data service's jobs (backups, replica-set initiation), which its
/// network policy admits.
pub(crate) fn job_apps(d: &DataService) -> Vec<String> {
    let mut v = Vec::new();
    if super::backup::schedule(d).is_some() {
        v.push(format!("{}-backup", d.name));
    }
    if d.mongo_replica_set() {
        v.push(format!("{}-rs-init", d.name));
    }
    v
}

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
        Engine::Postgres => vec![
            secret_env("POSTGRES_USER", secret, "username"),
            secret_env("POSTGRES_PASSWORD", secret, "password"),
            map! {"name" => "POSTGRES_DB", "value" => db},
            map! {"name" => "PGDATA", "value" => format!("{}/pgdata", d.engine.data_path())},
        ],
        Engine::Mysql => vec![
            secret_env("MYSQL_USER", secret, "username"),
            secret_env("MYSQL_PASSWORD", secret, "password"),
            map! {"name" => "MYSQL_DATABASE", "value" => db},
            // A root password the operators can read (a random one would be lost in the
            // container's log).
            secret_env("MYSQL_ROOT_PASSWORD", secret, "root-password"),
        ],
        Engine::Mongodb => vec![
            secret_env("MONGO_INITDB_ROOT_USERNAME", secret, "username"),
            secret_env("MONGO_INITDB_ROOT_PASSWORD", secret, "password"),
            map! {"name" => "MONGO_INITDB_DATABASE", "value" => db},
        ],
        Engine::Redis | Engine::Valkey => {
            vec![secret_env("REDIS_PASSWORD", secret, d.password_key(ctx))]
        }
        Engine::Rabbitmq => vec![
            secret_env("RABBITMQ_DEFAULT_USER", secret, "username"),
            secret_env("RABBITMQ_DEFAULT_PASS", secret, "password"),
        ],
    }
}

/// Command and args of the server container.
fn command(d: &DataService) -> (Vec<String>, Vec<String>) {
    let server = d.engine.server().to_string();
    match d.engine {
        Engine::Mongodb => {
            let mut args = vec![server, "--bind_ip_all".into()];
            if d.port != default_port(d.engine) {
                args.extend(["--port".into(), d.port.to_string()]);
            }
            if d.mongo_replica_set() {
                args.extend([
                    "--replSet".into(),
                    d.name.clone(),
                    "--keyFile".into(),
                    format!("{KEYFILE_DIR}/keyfile"),
                ]);
            }
            args.extend(d.args.iter().cloned());
            (Vec::new(), args)
        }
        Engine::Redis | Engine::Valkey => {
            let mut words = vec![server];
            if d.port != default_port(d.engine) {
                words.extend(["--port".into(), d.port.to_string()]);
            }
            words.extend(d.args.iter().cloned());
            let auth = d.credentials_secret.is_some();
            if d.replicas <= 1 {
                if auth {
                    words.extend(["--requirepass".into(), "$(REDIS_PASSWORD)".into()]);
                }
                return (Vec::new(), words);
            }
            // Pod 0 is the primary; the others replicate from it by its stable name.
            let mut script = format!(
                "set -- {}\n",
                words
                    .iter()
                    .map(|w| sh_quote(w))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if auth {
                script.push_str(
                    "set -- \"$@\" --requirepass \"$REDIS_PASSWORD\" --masterauth \"$REDIS_PASSWORD\"\n",
                );
            }
            script.push_str(&format!(
                "if [ \"${{HOSTNAME##*-}}\" != \"0\" ]; then\n  set -- \"$@\" --replicaof {} {}\nfi\nexec \"$@\"\n",
                d.pod_host(0),
                d.port
            ));
            (vec!["/bin/sh".into(), "-c".into()], vec![script])
        }
        _ if d.args.is_empty() => (Vec::new(), Vec::new()),
        _ => {
            let mut args = vec![server];
            args.extend(d.args.iter().cloned());
            (Vec::new(), args)
        }
    }
}

/// An `exec` probe action running `cmd` (a [`seq!`] of words).
fn exec(cmd: Y<'static>) -> Map<'static> {
    map! {"exec" => map! {"command" => cmd}}
}

fn sh(script: String) -> Map<'static> {
    map! {"exec" => map! {"command" => seq!["/bin/sh", "-c", script]}}
}

/// (liveness, readiness) of the server container.
fn probes(d: &DataService) -> (Map<'static>, Map<'static>) {
    let port = d.port;
    let tcp = map! {"tcpSocket" => map! {"port" => port}};
    let (live, ready) = match d.engine {
        Engine::Postgres => {
            let check = sh(format!(
                "pg_isready -h 127.0.0.1 -p {port} -U \"$POSTGRES_USER\""
            ));
            (check.clone(), check)
        }
        Engine::Mysql => {
            let check = exec(seq![
                "mysqladmin",
                "ping",
                "-h",
                "127.0.0.1",
                "-P",
                port.to_string(),
            ]);
            (check.clone(), check)
        }
        Engine::Mongodb => {
            let shell = if d.version.starts_with(['3', '4', '5']) {
                "mongo"
            } else {
                "mongosh"
            };
            let ping = exec(seq![
                shell,
                "--quiet",
                "--port",
                port.to_string(),
                "--eval",
                "db.adminCommand('ping').ok",
            ]);
            (tcp, ping)
        }
        Engine::Redis | Engine::Valkey => {
            let cli = if d.engine == Engine::Valkey {
                "valkey-cli"
            } else {
                "redis-cli"
            };
            let auth = if d.credentials_secret.is_some() {
                "REDISCLI_AUTH=\"$REDIS_PASSWORD\" "
            } else {
                ""
            };
            let check = sh(format!("{auth}{cli} -p {port} ping | grep -q PONG"));
            (check.clone(), check)
        }
        Engine::Rabbitmq => (tcp, exec(seq!["rabbitmq-diagnostics", "-q", "ping"])),
    };
    let live = live
        .with("initialDelaySeconds", 30u32)
        .with("periodSeconds", 10u32)
        .with("timeoutSeconds", 5u32)
        .with("failureThreshold", 6u32);
    let ready = ready
        .with("initialDelaySeconds", 5u32)
        .with("periodSeconds", 10u32)
        .with("timeoutSeconds", 5u32)
        .with("failureThreshold", 3u32);
    (live, ready)
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
        .with("resources", map! {"requests" => map! {"storage" => size}})
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
    super::workload::pull_secrets(ctx, &mut p);
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
        // mongod refuses a key file others can read; Secret volumes are group-readable under
        // fsGroup, so a copy owned by the mongod user is made first.
        let secret = d.credentials_secret.clone().unwrap_or_default();
        volumes.push(map! {
            "name" => "keyfile-secret",
            "secret" => map! {
                "secretName" => secret,
                "items" => vec![map! {"key" => "keyfile", "path" => "keyfile"}],
                "defaultMode" => 0o440u32,
            },
        });
        volumes.push(map! {"name" => "keyfile", "emptyDir" => Map::new()});
        mounts.push(map! {"name" => "keyfile", "mountPath" => KEYFILE_DIR, "readOnly" => true});
        init.push(map! {
            "name" => "keyfile",
            "image" => d.image.as_str(),
            "imagePullPolicy" => "Always",
            "command" => seq![
                "/bin/sh",
                "-c",
                format!("cp /secret/keyfile {KEYFILE_DIR}/keyfile && chmod 0400 {KEYFILE_DIR}/keyfile"),
            ],
            "resources" => small_resources(),
            "securityContext" => container_security(),
            "volumeMounts" => vec![
                map! {"name" => "keyfile-secret", "mountPath" => "/secret", "readOnly" => true},
                map! {"name" => "keyfile", "mountPath" => KEYFILE_DIR},
            ],
        });
    }
    let (cmd, args) = command(d);
    let (live, ready) = probes(d);
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
    .with("livenessProbe", live)
    .with("readinessProbe", ready)
    .with("securityContext", container_security())
    .with("volumeMounts", mounts);

    let mut containers = vec![container];
    if let Some((Some(image), port)) = &d.exporter {
        containers.push(exporter(ctx, d, image, *port));
    }
    let mut spec = pod(ctx, containers, volumes);
    if !init.is_empty() {
        spec.insert_before("containers", "initContainers", init);
    }
    schedule_on(ctx, d.node_pool.as_deref(), &mut spec);
    spec.insert("affinity", anti_affinity(&d.name));

    let mut pod_labels = labels(ctx, d);
    pod_labels.extend(ctx.common_labels());
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
        docs.push(replica_set_init(ctx, d));
    }
}

/// The exporter sidecar: it reads the server on localhost with the same credentials.
fn exporter<'c>(ctx: &'c Ctx, d: &'c DataService, image: &'c str, port: u16) -> Map<'c> {
    let secret = d.credentials_secret.as_deref();
    let local = format!("127.0.0.1:{}", d.port);
    let listen = format!("--web.listen-address=:{port}");
    let db = d.database_name.clone().unwrap_or_else(|| d.name.clone());
    let mut env = Vec::new();
    let args: Vec<String> = match d.engine {
        Engine::Mongodb => {
            if let Some(s) = secret {
                env.push(secret_env("MONGODB_USER", s, "username"));
                env.push(secret_env("MONGODB_PASSWORD", s, "password"));
            }
            vec![
                format!("--mongodb.uri=mongodb://{local}/admin?directConnection=true"),
                listen,
            ]
        }
        Engine::Redis | Engine::Valkey => {
            env.push(map! {"name" => "REDIS_ADDR", "value" => format!("redis://{local}")});
            if let Some(s) = secret {
                env.push(secret_env("REDIS_PASSWORD", s, d.password_key(ctx)));
            }
            vec![format!("--web.listen-address=:{port}")]
        }
        Engine::Postgres => {
            env.push(map! {
                "name" => "DATA_SOURCE_URI",
                "value" => format!("{local}/{db}?sslmode=disable"),
            });
            if let Some(s) = secret {
                env.push(secret_env("DATA_SOURCE_USER", s, "username"));
                env.push(secret_env("DATA_SOURCE_PASS", s, "password"));
            }
            vec![listen]
        }
        Engine::Rabbitmq => Vec::new(),
        Engine::Mysql => {
            if let Some(s) = secret {
                env.push(secret_env("MYSQL_USER", s, "username"));
                env.push(secret_env("MYSQLD_EXPORTER_PASSWORD", s, "password"));
            }
            vec![
                format!("--mysqld.address={local}"),
                "--mysqld.username=$(MYSQL_USER)".into(),
                listen,
            ]
        }
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

/// A Job that initiates the MongoDB replica set once all members answer (a no-op when it is
/// already initiated).
fn replica_set_init<'c>(ctx: &'c Ctx, d: &'c DataService) -> Map<'c> {
    let members: Vec<String> = (0..d.replicas)
        .map(|i| format!("{{_id: {i}, host: \"{}:{}\"}}", d.pod_host(i), d.port))
        .collect();
    let first = format!("{}:{}", d.pod_host(0), d.port);
    let script = format!(
        "set -eu\n\
         for i in $(seq 0 {last}); do\n  \
         until mongosh --quiet --host \"{name}-$i.{headless}.{ns}.svc.cluster.local:{port}\" --eval \"db.adminCommand('ping')\" >/dev/null 2>&1; do sleep 5; done\n\
         done\n\
         mongosh --quiet --host \"{first}\" --username \"$MONGO_USERNAME\" --password \"$MONGO_PASSWORD\" --authenticationDatabase admin --eval '\n\
         try {{ rs.status(); print(\"replica set {name} already initiated\"); }}\n\
         catch (e) {{ rs.initiate({{_id: \"{name}\", members: [{members}]}}); }}'\n",
        last = d.replicas - 1,
        name = d.name,
        headless = d.headless(),
        ns = d.namespace,
        port = d.port,
        members = members.join(", "),
    );
    let secret = d.credentials_secret.as_deref().unwrap_or_default();
    let app = format!("{}-rs-init", d.name);
    let mut pod_labels = ctx.app_labels(app.clone(), "database", None);
    pod_labels.extend(ctx.common_labels());
    let (mounts, volumes) = writable(["/tmp"]);
    let container = map! {
        "name" => "rs-init",
        "image" => d.image.as_str(),
        "imagePullPolicy" => "Always",
        "command" => seq!["/bin/sh", "-c", script],
        "env" => vec![
            secret_env("MONGO_USERNAME", secret, "username"),
            secret_env("MONGO_PASSWORD", secret, "password"),
            map! {"name" => "HOME", "value" => "/tmp"},
        ],
        "resources" => small_resources(),
        "securityContext" => container_security(),
        "volumeMounts" => mounts,
    };
    let mut spec = pod(ctx, vec![container], volumes);
    spec.insert("restartPolicy", "OnFailure");
    map! {
        "apiVersion" => "batch/v1",
        "kind" => "Job",
        "metadata" => ctx.meta(app.clone(), &d.namespace, ctx.app_labels(app, "database", None)),
        "spec" => map! {
            "backoffLimit" => 10u32,
            "template" => map! {"metadata" => map! {"labels" => pod_labels}, "spec" => spec},
        },
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

    #[test]
    fn images() {
        // A line runs the catalog's pinned release, never a floating tag.
        assert_eq!(default_image(Engine::Postgres, "17"), "postgres:17.7");
        assert_eq!(default_image(Engine::Mongodb, "8.0"), "mongo:8.0.20");
        assert_eq!(default_image(Engine::Rabbitmq, "4.2"), "rabbitmq:4.2.5");
        assert_eq!(default_image(Engine::Valkey, "8.1"), "valkey/valkey:8.1.4");
        // ElastiCache's 7.1 has no image of its own: the newest supported 7.x release.
        assert_eq!(default_image(Engine::Redis, "7.1"), "redis:7.4.6");
        // A full version as written; an end-of-life line keeps its tag (and is refused).
        assert_eq!(default_image(Engine::Postgres, "17.6"), "postgres:17.6");
        assert_eq!(default_image(Engine::Mongodb, "6.0"), "mongo:6.0");
    }
}
