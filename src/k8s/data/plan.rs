//! Which data services run in the cluster, and with what: version, image, size, replicas,
//! credentials, users.

use super::engine::{default_image, default_port, exporter_defaults};
use crate::analysis::DataKind;
use crate::blueprint::types::{InCluster, Resources, Sizes};
use crate::catalog::{Provider, SizeKind};
use crate::k8s::{Ctx, DataService, Engine};

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
    // The given version, else the one the image's tag states (`mongo:5.0`,
    // `postgis/postgis:17-3.5`: validation refuses the two disagreeing), else the
    // catalog's default.
    let version = |e: Engine, v: &Option<String>, ic: &InCluster| {
        v.clone()
            .or_else(|| {
                ic.image
                    .as_deref()
                    .and_then(crate::releases::image_version)
                    .map(|iv| iv.version)
            })
            .unwrap_or_else(|| {
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
            version(e, &d.version, &d.in_cluster),
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
            version(e, &c.version, &c.in_cluster),
            &c.in_cluster,
            c.port,
            c.nodes,
            sized(&c.in_cluster, c.size.as_deref(), &c.sizes, SizeKind::Cache),
            "5Gi".into(),
            auth,
        ));
    }
    for q in bp.brokers() {
        if !ctx.v.in_cluster(DataKind::Queue, q.deployment) {
            continue;
        }
        let e = Engine::from(q.engine);
        out.push(make(
            "queues",
            &q.name,
            e,
            version(e, &q.version, &q.in_cluster),
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
    pub fn credential_keys(&self, ctx: &Ctx) -> Vec<(String, crate::k8s::Generated)> {
        use crate::k8s::Generated;
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
    if crate::k8s::backup::schedule(d).is_some() {
        v.push(format!("{}-backup", d.name));
    }
    if d.mongo_replica_set() {
        v.push(format!("{}-rs-init", d.name));
    }
    v
}
