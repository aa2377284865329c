//! Managed database clusters for `deployment: managed` databases (PostgreSQL, MySQL,
//! MongoDB) and caches (Valkey — DigitalOcean replaced managed Redis with it), each in the
//! VPC with a `digitalocean_database_firewall` admitting only the DOKS cluster. In-cluster
//! ones (`deployment: in_cluster`) are StatefulSets from the manifest generator.
//!
//! What DigitalOcean's managed databases fix themselves (ports, backup schedule and
//! retention, TLS, the AUTH password) is reported as a note when the blueprint asks for
//! something else, never dropped silently.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use crate::blueprint::types::{
    Backup, Cache, CacheEngine, Database, DatabaseEngine, Deployment, QueueEngine,
};
use crate::blueprint::windows::{DailyWindow, WeeklyWindow};
use crate::catalog::SizeKind;
use crate::semantic::digitalocean::BACKUP_START;
use crate::terraform::{Module, Ref, interp, res};

/// DigitalOcean keeps daily backups for seven days (point-in-time recovery for PostgreSQL
/// and MySQL); neither is configurable.
const BACKUP_DAYS: u32 = 7;

/// A managed Valkey cluster's nodes: a primary and at most one standby.
const VALKEY_MAX_NODES: u32 = 2;

pub fn lower(ctx: &Ctx, m: &mut Module) {
    for d in ctx.managed_databases() {
        database(ctx, m, d);
        ctx.mark("databases");
    }
    for c in ctx.managed_caches() {
        cache(ctx, m, c);
        ctx.mark("caches");
    }
}

/// `digitalocean_database_cluster.<name>`.
pub fn cluster_ref(name: &str) -> Ref {
    res("digitalocean_database_cluster", name)
}

/// `digitalocean_database_connection_pool.<name>`: the pool of `databases[].pool`.
pub fn pool_ref(name: &str) -> Ref {
    res("digitalocean_database_connection_pool", name)
}

/// Engine slug and version as DigitalOcean spells them.
fn engine(d: &Database, ctx: &Ctx) -> (&'static str, String) {
    let version = ctx.v.version(d.version.as_deref(), d.engine.name());
    let major = version.split('.').next().unwrap_or_default().to_string();
    match d.engine {
        DatabaseEngine::Postgres => ("pg", major),
        DatabaseEngine::Mysql => ("mysql", major),
        DatabaseEngine::Mongodb => ("mongodb", format!("{major}.0")),
    }
}

/// DigitalOcean managed MySQL's "every table has a primary key" setting.
const PRIMARY_KEY: &str = "sql_require_primary_key";

/// A parameter left out of the configuration resource, and why (empty: no such argument,
/// or a value not of its type).
type Noted = (String, String);

/// A PostgreSQL setting whose DigitalOcean argument of the same name is in another unit
/// (DigitalOcean API "Update the Database Configuration", PostgreSQL fields: `work_mem` "in
/// MB", `max_stack_depth` "in bytes", `bgwriter_flush_after` "in kilobytes"; PostgreSQL
/// reads a unit-less value of these in kB, kB and 8 kB blocks). A value written with a unit
/// (`64MB`) is taken in DigitalOcean's unit when it is a whole number of it; a unit-less one
/// is noted, never converted behind the blueprint's back.
struct Unit {
    name: &'static str,
    /// What PostgreSQL reads a unit-less value in.
    postgres: &'static str,
    /// DigitalOcean's unit, in bytes, and its name.
    bytes: u64,
    unit: &'static str,
    /// A value as DigitalOcean's range takes it, written with a unit.
    example: &'static str,
}

const PG_UNITS: &[Unit] = &[
    Unit {
        name: "work_mem",
        postgres: "kB",
        bytes: 1024 * 1024,
        unit: "MB",
        example: "64MB",
    },
    Unit {
        name: "max_stack_depth",
        postgres: "kB",
        bytes: 1,
        unit: "bytes",
        example: "2MB",
    },
    Unit {
        name: "bgwriter_flush_after",
        postgres: "8 kB blocks",
        bytes: 1024,
        unit: "kB",
        example: "512kB",
    },
];

/// DigitalOcean's PostgreSQL `on`/`off` settings, typed `string` in the provider schema
/// (the API's enum is `off`, `on`): a PostgreSQL boolean spelling (`1`, `true`) is given
/// as the API takes it.
const PG_ON_OFF: &[&str] = &["track_commit_timestamp", "track_io_timing"];

/// Why a PostgreSQL (RDS) setting has no argument of `digitalocean_database_postgresql_config`
/// where DigitalOcean offers something near, or fixes it itself.
fn pg_help(name: &str) -> Option<&'static str> {
    Some(match name {
        "shared_buffers" => {
            "DigitalOcean sets it as `shared_buffers_percentage`, a percentage of the node's RAM (20 to 60): not converted from a size; write `shared_buffers_percentage`"
        }
        "max_connections" => {
            "not settable on DigitalOcean: the size slug fixes it (25 per GiB of memory, 3 reserved); a larger `size` raises it, or give the database a `pool`"
        }
        _ => return None,
    })
}

/// A PostgreSQL boolean spelling as `true`/`false`.
fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A memory value written with a PostgreSQL unit (`64MB`, `512kB`) in bytes.
fn bytes(v: &str) -> Option<u64> {
    let digits = v.trim().find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = v.trim().split_at(digits);
    let factor: u64 = match unit.trim() {
        "B" => 1,
        "kB" => 1024,
        "MB" => 1024 * 1024,
        "GB" => 1024 * 1024 * 1024,
        "TB" => 1024 * 1024 * 1024 * 1024,
        _ => return None,
    };
    n.parse::<u64>().ok()?.checked_mul(factor)
}

/// `parameters` of a managed database as the configuration resource `resource` of its
/// engine (`digitalocean_database_mysql_config`, `digitalocean_database_postgresql_config`:
/// terraform-provider-digitalocean, one optional argument per setting the API's "Update the
/// Database Configuration" takes), each value in the argument's type from the vendored
/// provider schema (`true`/`on`/`1` for a bool). A dotted PostgreSQL name is the argument
/// spelled with `_` (`pg_stat_statements.track`) or a setting of a nested block
/// (`timescaledb.max_background_workers`). Returns the resource's arguments (without
/// `cluster_id`; empty when none applies) and, noted, the names that are no such argument
/// or whose value does not read as its type, each with why where that is known.
///
/// The `backup` window's start becomes `backup_hour` / `backup_minute` where the resource
/// has them (PostgreSQL and MySQL: "The hour of day (in UTC) when backup for the service is
/// started", 0 to 23, and "The minute of an hour", 0 to 59 — digitalocean/openapi
/// `databases/models/postgres.yml`, `mysql.yml`, the fields of "Update the Database
/// Configuration"; MongoDB's and Valkey's configuration have none). The window's end bounds
/// nothing there: a backup runs until it is done ("New backup is only started if previous
/// backup has already completed"). `semantic::digitalocean` refuses a window together with
/// `parameters.backup_hour` / `backup_minute`.
fn engine_config(
    params: &std::collections::BTreeMap<String, String>,
    backup: Option<DailyWindow>,
    resource: &str,
) -> (Vec<(String, Json)>, Vec<Noted>) {
    let schema = crate::check::schema::ProviderSchemas::bundled().resource(resource);
    let (mut config, mut rest) = (Vec::new(), Vec::new());
    let mut blocks: std::collections::BTreeMap<&str, Json> = Default::default();
    for (k, v) in params {
        // The block (if any) and the argument the name is.
        let (block, arg) = match k.split_once('.') {
            Some((b, a)) if schema.is_some_and(|s| s.block_types.contains_key(b)) => {
                (Some(b), a.to_string())
            }
            _ => (None, k.replace('.', "_")),
        };
        let attrs = match block {
            Some(b) => schema.and_then(|s| s.block_types.get(b)).map(|n| &n.block),
            None => schema,
        };
        let ty = (attrs.and_then(|b| b.attributes.get(&arg)))
            .filter(|a| {
                a.optional && (block.is_some() || !matches!(arg.as_str(), "cluster_id" | "id"))
            })
            .and_then(|a| a.ty.as_str());
        let unit = PG_UNITS.iter().find(|u| {
            resource == "digitalocean_database_postgresql_config"
                && block.is_none()
                && u.name == arg
        });
        let value = match (ty, unit) {
            (Some("number"), Some(u)) => match bytes(v) {
                Some(b) if b % u.bytes == 0 => Ok(json!(b / u.bytes)),
                Some(_) => Err(format!(
                    "DigitalOcean's `{arg}` is a whole number of {}",
                    u.unit
                )),
                None if v.trim().parse::<f64>().is_err() => Err(String::new()),
                None => Err(format!(
                    "PostgreSQL reads a unit-less `{arg}` in {}, DigitalOcean's is in {}: not converted; write it with a unit, e.g. `{}`",
                    u.postgres, u.unit, u.example
                )),
            },
            (Some("bool"), _) => boolean(v).map(|b| json!(b)).ok_or_else(String::new),
            (Some("number"), None) => (v.parse::<i64>().map(|n| json!(n)))
                .or_else(|_| v.parse::<f64>().map(|x| json!(x)))
                .ok()
                .ok_or_else(String::new),
            (Some("string"), _) if PG_ON_OFF.contains(&arg.as_str()) => boolean(v)
                .map(|b| json!(if b { "on" } else { "off" }))
                .ok_or_else(String::new),
            (Some("string"), _) => Ok(json!(v)),
            _ => Err(pg_help(k)
                .filter(|_| resource == "digitalocean_database_postgresql_config")
                .unwrap_or_default()
                .to_string()),
        };
        match (value, block) {
            (Ok(value), None) => config.push((arg, value)),
            (Ok(value), Some(b)) => {
                blocks.entry(b).or_insert_with(|| json!({}))[arg.as_str()] = value;
            }
            (Err(why), _) => rest.push((k.clone(), why)),
        }
    }
    if let Some(w) = backup
        && schema.is_some_and(|s| {
            BACKUP_START
                .iter()
                .all(|a| s.attributes.get(*a).is_some_and(|a| a.optional))
        })
    {
        let (hour, minute) = w.start;
        config.push((BACKUP_START[0].to_string(), json!(hour)));
        config.push((BACKUP_START[1].to_string(), json!(minute)));
    }
    // A nested block is a list of one.
    config.extend((blocks.into_iter()).map(|(b, settings)| (b.to_string(), json!([settings]))));
    (config, rest)
}

/// The database a DigitalOcean cluster of `engine` is created with.
fn default_database(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Postgres | DatabaseEngine::Mysql => "defaultdb",
        DatabaseEngine::Mongodb => "admin",
    }
}

fn maintenance(w: Option<WeeklyWindow>) -> Option<Json> {
    let w = w?;
    Some(json!([{"day": w.day_name(), "hour": format!("{}:00", w.start())}]))
}

/// The firewall that admits only the DOKS cluster; without a cluster there is nothing to
/// admit, and the lint rules warn.
fn firewall(ctx: &Ctx, m: &mut Module, name: &str, db: &Ref) {
    firewall_of(ctx, m, name, db.id());
}

/// The trusted sources of a database cluster or read-only replica (`cluster_id` is the
/// replica's `uuid` then): only the DOKS cluster.
fn firewall_of(ctx: &Ctx, m: &mut Module, name: &str, cluster_id: crate::terraform::Expr) {
    if ctx.doks() && ctx.v.bp.cluster.is_some() {
        m.file("data").resource(
            &res("digitalocean_database_firewall", name),
            json!({
                "cluster_id": cluster_id,
                "rule": [{"type": "k8s", "value": ctx.cluster().id()}],
            }),
        );
    }
}

/// What of `backup` DigitalOcean does not take; `window_set`: its start is in the engine's
/// configuration resource (`backup_hour` / `backup_minute`).
fn backup_notes(what: &str, backup: Option<&Backup>, window_set: bool, lost: &mut Vec<String>) {
    if let Some(b) = backup {
        if b.retention_days != BACKUP_DAYS {
            lost.push(format!(
                "backup retention {} days (DigitalOcean keeps daily backups for {BACKUP_DAYS} days)",
                b.retention_days
            ));
        }
        if let Some(w) = b.window.filter(|_| !window_set) {
            lost.push(format!(
                "backup window `{w}` (DigitalOcean schedules {what} backups itself)"
            ));
        }
        // The in-cluster dump job's settings: no job runs for a managed database, so nothing
        // is copied to `destination`.
        if let Some(dest) = &b.destination {
            lost.push(format!(
                "backup destination `{dest}` (no dump job runs for a managed {what}; nothing is copied there)"
            ));
        }
    }
}

fn database(ctx: &Ctx, m: &mut Module, d: &Database) {
    let name = crate::terraform::ident(&d.name);
    let db = cluster_ref(&d.name);
    let (slug, version) = engine(d, ctx);
    let mut lost: Vec<String> = Vec::new();
    // Standby nodes in other hosts: primary + 1 for pg/mysql; a MongoDB replica set is 3.
    let node_count = match (d.engine, d.ha) {
        (_, false) => 1,
        (DatabaseEngine::Mongodb, true) => 3,
        (_, true) => 2,
    };
    let mut body = json!({
        "name": format!("{}-{}", ctx.prefix, d.name),
        "engine": slug,
        "version": version,
        "size": ctx.v.size(SizeKind::Database, d.size.as_deref(), &d.sizes),
        "region": &ctx.region,
        "node_count": node_count,
        "tags": ctx.tags(),
    });
    if let Some(vpc) = ctx.vpc() {
        body["private_network_uuid"] = json!(vpc.id());
    }
    if let Some(w) = maintenance(d.maintenance_window) {
        body["maintenance_window"] = w;
    }
    if let Some(s) = &d.storage {
        if matches!(d.engine, DatabaseEngine::Postgres | DatabaseEngine::Mysql) {
            // Must lie in the range DigitalOcean offers for the size slug (`doctl databases
            // options slugs`); the API rejects others at apply.
            body["storage_size_mib"] = json!((u64::from(s.size_gb) * 1024).to_string());
        } else {
            lost.push(format!(
                "storage {} GB (MongoDB storage comes with the size slug)",
                s.size_gb
            ));
        }
        if let Some(max) = s.max_size_gb {
            lost.push(format!(
                "storage autoscaling up to {max} GB (`storage_autoscale` is not in provider 2.71; resize with storage_size_mib)"
            ));
        }
    }
    if d.deletion_protection() {
        body["lifecycle"] = json!({"prevent_destroy": true});
    }
    // Said only where written: the default (on) is for RDS.
    if d.performance_insights == Some(true) {
        lost.push(
            "performance_insights (an RDS feature: `digitalocean_database_cluster` has no such setting)".into(),
        );
    }
    if let Some(p) = d.port
        && p != 25060
        && d.engine != DatabaseEngine::Mongodb
    {
        lost.push(format!(
            "port {p} (managed PostgreSQL and MySQL listen on 25060; clients take the port from the connection output)"
        ));
    }
    // The parameters the engine's configuration resource takes are lowered there
    // (MySQL's `sql_require_primary_key` above all, below); the others noted, with why
    // where that is known.
    let config_type = match d.engine {
        DatabaseEngine::Postgres => "digitalocean_database_postgresql_config",
        DatabaseEngine::Mysql => "digitalocean_database_mysql_config",
        DatabaseEngine::Mongodb => "digitalocean_database_mongodb_config",
    };
    let window = d.backup.as_ref().and_then(|b| b.window);
    let (config, rest) = engine_config(&d.parameters, window, config_type);
    let window_set = config.iter().any(|(k, _)| k == BACKUP_START[0]);
    backup_notes("database", d.backup.as_ref(), window_set, &mut lost);
    if !rest.is_empty() {
        let unknown: Vec<&str> = (rest.iter().filter(|(_, why)| why.is_empty()))
            .map(|(k, _)| k.as_str())
            .collect();
        let mut parts = Vec::new();
        if !unknown.is_empty() {
            parts.push(format!(
                "{}: no argument of {config_type}, or a value not of its type",
                unknown.join(", ")
            ));
        }
        for (k, why) in rest.iter().filter(|(_, why)| !why.is_empty()) {
            parts.push(format!("{k}: {why}"));
        }
        lost.push(format!("parameters ({})", parts.join("; ")));
    }
    let body_storage = body.get("storage_size_mib").cloned();
    m.file("data").resource(&db, body);
    firewall(ctx, m, &name, &db);
    if !config.is_empty() {
        let mut body = json!({"cluster_id": db.id()});
        for (k, v) in config {
            body[k.as_str()] = v;
        }
        m.file("data").resource(&res(config_type, &name), body);
    }
    if d.engine == DatabaseEngine::Mysql && !d.parameters.contains_key(PRIMARY_KEY) {
        ctx.note(format!(
            "database `{}` (DigitalOcean managed MySQL) requires a primary key on every table (`{PRIMARY_KEY}` is on by default: its replication, standby failover and restores depend on it), so a migration creating a table without one fails (error 3750); give every table a primary key, or set `parameters: {{ {PRIMARY_KEY}: \"false\" }}` (docs.digitalocean.com/products/databases/mysql/how-to/create-primary-keys/)",
            d.name
        ));
    }

    // The database every cluster is created with (PostgreSQL and MySQL: `defaultdb`,
    // MongoDB: `admin`, as in DigitalOcean's connection strings) already exists: asking the
    // API to create it again fails the apply, so it is used as it is.
    let created = d
        .database_name
        .as_deref()
        .filter(|n| *n != default_database(d.engine));
    if let Some(db_name) = created {
        m.file("data").resource(
            &res("digitalocean_database_db", &name),
            json!({"cluster_id": db.id(), "name": db_name}),
        );
    }
    let user = d.username.as_ref().map(|u| {
        let r = res("digitalocean_database_user", &name);
        m.file("data")
            .resource(&r, json!({"cluster_id": db.id(), "name": u}));
        r
    });
    let mut replicas = Vec::new();
    if d.replicas > 0 {
        if matches!(d.engine, DatabaseEngine::Postgres | DatabaseEngine::Mysql) {
            for i in 1..=d.replicas {
                let r = res("digitalocean_database_replica", &format!("{name}_{i}"));
                let mut body = json!({
                    "cluster_id": db.id(),
                    "name": format!("{}-{}-replica-{i}", ctx.prefix, d.name),
                    "region": &ctx.region,
                    "size": ctx.v.size(SizeKind::Database, d.size.as_deref(), &d.sizes),
                    "tags": ctx.tags(),
                });
                if let Some(vpc) = ctx.vpc() {
                    body["private_network_uuid"] = json!(vpc.id());
                }
                // A read-only node holds all of the primary's data, but without
                // `storage_size_mib` it gets its size slug's default disk, which can be far
                // smaller than the primary's grown storage: same size slug, same storage
                // (the API takes it on replicas too, `storage_size_mib` in
                // docs.digitalocean.com/reference/api/reference/databases/ "Create a
                // Read-only Replica").
                if let Some(mib) = body_storage.clone() {
                    body["storage_size_mib"] = mib;
                }
                m.file("data").resource(&r, body);
                // A read-only replica's trusted sources are its own, which the primary's
                // firewall does not set (the provider's docs give a replica a firewall of
                // its own, `cluster_id` = its `uuid`): admit the DOKS cluster only, as the
                // primary does, now that the services get its host (`_REPLICA_HOST`).
                firewall_of(ctx, m, &format!("{name}_{i}"), r.attr("uuid"));
                replicas.push(r);
            }
        } else {
            lost.push(format!(
                "{} read replica(s) (MongoDB scales with node_count)",
                d.replicas
            ));
        }
    }
    // DigitalOcean's managed databases take TLS connections only ("By default, you must use
    // SSL to transmit data", docs.digitalocean.com, Managed Databases, "How to Secure
    // Clusters"); PostgreSQL's URL says so (`sslmode=require`, `wiring::url`), MySQL's cannot.
    let users = ctx.v.users_of(&d.name);
    if d.engine == DatabaseEngine::Mysql && !users.is_empty() {
        ctx.note(crate::backend::connections::mysql_tls_note(
            &d.name,
            "DigitalOcean managed MySQL, TLS only",
            users,
        ));
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "databases[{}]: not expressible on DigitalOcean managed {}: {}",
            d.name,
            d.engine.name(),
            lost.join("; ")
        ));
    }

    let (user_path, password_path) = match &user {
        Some(u) => (u.path("name"), u.path("password")),
        None => (db.path("user"), db.path("password")),
    };
    let database = match created {
        Some(_) => res("digitalocean_database_db", &name).path("name"),
        None => db.path("database"),
    };
    let mut fields = vec![
        format!("host = {}", db.path("private_host")),
        format!("port = {}", db.path("port")),
        format!("database = {database}"),
        format!("user = {user_path}"),
        format!("password = {password_path}"),
        format!("admin_uri = {}", db.path("private_uri")),
    ];
    // The connection pool (PgBouncer) the services connect through: "use the pool's
    // connection details … the connection pool's port (25061) … the pool name as the
    // database" (docs.digitalocean.com, PostgreSQL, "How to Manage Connection Pools").
    // Named `<component>-pool` (`wiring::pool::name`: the API takes 3 to 60 characters), on
    // the database and as the user the services connect as, so its `user`/`password` are
    // theirs. Only PostgreSQL managed here gets one
    // (`semantic::pools` refuses the rest).
    if let Some(pool) = &d.pool {
        let r = pool_ref(&d.name);
        let user_name = match &user {
            Some(u) => u.attr("name"),
            None => db.attr("user"),
        };
        let db_name = match created {
            Some(_) => res("digitalocean_database_db", &name).attr("name"),
            None => db.attr("database"),
        };
        m.file("data").resource(
            &r,
            json!({
                "cluster_id": db.id(),
                "name": crate::wiring::pool::name(&d.name),
                "mode": pool.mode.name(),
                "size": pool.size,
                "db_name": db_name,
                "user": user_name,
            }),
        );
        fields.push(format!("pool_port = {}", r.path("port")));
        fields.push(format!("pool_database = {}", r.path("name")));
    }
    if !replicas.is_empty() {
        let hosts: Vec<String> = replicas.iter().map(|r| r.path("private_host")).collect();
        fields.push(format!("replica_hosts = [{}]", hosts.join(", ")));
    }
    m.file("outputs").sensitive_output(
        &format!("database_{name}"),
        interp(&format!("{{{}}}", fields.join(", "))),
        &format!(
            "Connection to the {} database `{}` from inside the VPC (TLS required)",
            d.engine.name(),
            d.name
        ),
    );
}

fn cache(ctx: &Ctx, m: &mut Module, c: &Cache) {
    let name = crate::terraform::ident(&c.name);
    let db = cluster_ref(&c.name);
    let mut lost: Vec<String> = Vec::new();
    // A Redis cache becomes Valkey here, at Valkey's default version.
    let given = match c.engine {
        CacheEngine::Valkey => c.version.as_deref(),
        CacheEngine::Redis => None,
    };
    let version = ctx.v.version(given, "valkey");
    let version = version.split('.').next().unwrap_or_default().to_string();
    if c.engine == CacheEngine::Redis {
        ctx.note(format!(
            "caches[{}]: DigitalOcean replaced managed Redis with Valkey (Redis-protocol compatible): engine `valkey` {version}{}",
            c.name,
            c.version
                .as_ref()
                .map(|v| format!(" instead of redis {v}"))
                .unwrap_or_default()
        ));
    }
    // "Valkey clusters can have up to one standby node"
    // (docs.digitalocean.com/products/databases/valkey/how-to/add-standby-nodes/): the API
    // refuses a node_count of 3, unlike PostgreSQL and MySQL (two standbys).
    let wanted = c.nodes.max(if c.ha { 2 } else { 1 });
    let node_count = wanted.min(VALKEY_MAX_NODES);
    if wanted > VALKEY_MAX_NODES {
        lost.push(format!(
            "{wanted} nodes (a Valkey cluster is a primary and at most one standby: {VALKEY_MAX_NODES} nodes)"
        ));
    }
    let mut body = json!({
        "name": format!("{}-{}", ctx.prefix, c.name),
        "engine": "valkey",
        "version": version,
        "size": ctx.v.size(SizeKind::Cache, c.size.as_deref(), &c.sizes),
        "region": &ctx.region,
        "node_count": node_count,
        "tags": ctx.tags(),
    });
    if let Some(vpc) = ctx.vpc() {
        body["private_network_uuid"] = json!(vpc.id());
    }
    if let Some(w) = maintenance(c.maintenance_window) {
        body["maintenance_window"] = w;
    }
    let mut params: Vec<&String> = Vec::new();
    for (k, v) in &c.parameters {
        if k == "maxmemory-policy" {
            let (policy, lfu) = crate::semantic::digitalocean::eviction_policy(v);
            if lfu {
                lost.push(format!(
                    "maxmemory-policy `{v}` (DigitalOcean offers no LFU eviction: `{policy}` instead)"
                ));
            }
            body["eviction_policy"] = json!(policy);
        } else {
            params.push(k);
        }
    }
    if !params.is_empty() {
        lost.push(format!(
            "parameters ({}; set them with digitalocean_database_valkey_config)",
            params
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(s) = &c.snapshots {
        lost.push(format!(
            "snapshots ({} days{}; DigitalOcean backs Valkey up itself)",
            s.retention_days,
            s.window
                .as_ref()
                .map(|w| format!(", window {w}"))
                .unwrap_or_default()
        ));
    }
    if let Some(p) = c.port
        && p != 25061
    {
        lost.push(format!(
            "port {p} (managed Valkey listens on 25061 with TLS; clients take the port from the connection output)"
        ));
    }
    if c.auth_token_secret.is_some() {
        lost.push(
            "auth_token_secret (DigitalOcean generates the password; it is in the connection output)"
                .into(),
        );
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "caches[{}]: not expressible on DigitalOcean managed Valkey: {}",
            c.name,
            lost.join("; ")
        ));
    }
    m.file("data").resource(&db, body);
    firewall(ctx, m, &name, &db);
    let fields = [
        format!("host = {}", db.path("private_host")),
        format!("port = {}", db.path("port")),
        format!("user = {}", db.path("user")),
        format!("password = {}", db.path("password")),
        format!("uri = {}", db.path("private_uri")),
    ];
    m.file("outputs").sensitive_output(
        &format!("cache_{name}"),
        interp(&format!("{{{}}}", fields.join(", "))),
        &format!(
            "Connection to the Valkey cache `{}` from inside the VPC (TLS required)",
            c.name
        ),
    );
}

/// Components DigitalOcean has no managed service for: queues run in the cluster (the
/// analysis places them there, `Validated::in_cluster`), tables and secret stores are
/// reported.
pub fn unsupported(ctx: &Ctx) {
    let bp = ctx.v.bp;
    // Without a DOKS cluster nothing runs the broker: `backend::not_lowered` lists the
    // queues as absent, and this note must not claim otherwise.
    let cluster = ctx.doks() && bp.cluster.is_some();
    for q in bp.brokers().filter(|q| q.deployment == Deployment::Managed) {
        let engine = match q.engine {
            QueueEngine::Rabbitmq | QueueEngine::Sqs => "RabbitMQ",
        };
        if !cluster {
            ctx.note(format!(
                "queues[{}]: DigitalOcean has no managed {engine}, and without a `cluster` (platform `doks`) there is nothing to run it in",
                q.name
            ));
            continue;
        }
        ctx.note(format!(
            "queues[{}]: DigitalOcean has no managed {engine}; it runs in the cluster as a StatefulSet (write `deployment: in_cluster` to make that explicit){}",
            q.name,
            if q.ha {
                "; `ha` becomes in-cluster replicas, not a managed multi-zone broker"
            } else {
                ""
            }
        ));
    }
    if !bp.tables.is_empty() {
        ctx.note(format!(
            "tables ({}): DigitalOcean has no managed key-value table service (DynamoDB); not lowered",
            bp.tables
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // An in-cluster cache's `auth_token_secret` is generated by the `platform` module
    // (`backend::connections`): created by hand too, the module's create would fail
    // ("already exists"), so it is not among the Secrets to make.
    let generated: Vec<&str> = bp
        .caches
        .iter()
        .filter(|c| {
            ctx.v
                .in_cluster(crate::analysis::DataKind::Cache, c.deployment)
        })
        .filter_map(|c| c.auth_token_secret.as_deref())
        .collect();
    // The names the pods read (`k8s::Platform::secret_name`): the `path` only when it is a
    // valid object name; a Secrets Manager path such as `shop/{env}/app` (a blueprint that
    // is also for AWS) leaves the Kubernetes Secret named after the secret.
    let by_hand: Vec<&str> = bp
        .secrets
        .iter()
        .filter(|s| !generated.contains(&s.name.as_str()))
        .map(|s| {
            s.path
                .as_deref()
                .filter(|p| crate::k8s::dns_subdomain(p))
                .unwrap_or(&s.name)
        })
        .collect();
    if !by_hand.is_empty() {
        ctx.note(format!(
            "secrets ({}): DigitalOcean has no secrets manager; workloads read Kubernetes Secrets of these names, which must be created outside infragen (External Secrets, Sealed Secrets); preconditions.json lists them",
            by_hand.join(", ")
        ));
    }
    // Nothing in this output collects logs: `log_retention_days` would keep nothing.
    if let Some(o) = &bp.observability {
        ctx.note(format!(
            "observability.log_retention_days ({}): DigitalOcean output ships no container logs anywhere; they stay on the nodes, rotated by the kubelet, and are lost with the pod's node: run a log stack in the cluster or forward them to a service of your own",
            o.log_retention_days
        ));
    }
    if let Some(o) = &bp.observability
        && !o.alarms.is_empty()
    {
        ctx.note(format!(
            "observability.alarms ({}): metric alarms are CloudWatch-specific and not lowered; `notify` is alerted by Uptime checks of the public hosts and default monitor alerts on the managed databases and DOKS nodes instead",
            o.alarms.len()
        ));
    }
}
