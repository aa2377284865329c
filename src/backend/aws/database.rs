//! RDS for the blueprint's managed databases (PostgreSQL, MySQL): a security group admitting
//! only the database's clients, a parameter group that forces TLS, the instance (encrypted
//! with the `rds` key, master password managed by RDS in Secrets Manager or, where RDS cannot
//! or should not manage it, generated into a secret — see [`rds_managed_password`] —,
//! Multi-AZ from
//! `ha`, backups, Performance Insights, enhanced monitoring, log exports into pre-created
//! encrypted log groups, IAM authentication, deletion protection) and read replicas.
//!
//! Security-relevant arguments are literals so scanners can read them.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::iam::assume_role;
use super::kms;
use super::security;
use crate::analysis::DataKind;
use crate::blueprint::types::{Database, DatabaseEngine};
use crate::catalog::SizeKind;
use crate::terraform::{Module, Ref, list, res};

/// gp3 volumes below this size have a fixed 3000 IOPS / 125 MiB/s baseline that RDS refuses
/// to have set explicitly.
pub const GP3_BASELINE_BELOW_GB: u32 = 400;

/// Days of Performance Insights history kept (the free tier).
const PI_RETENTION_DAYS: u32 = 7;

/// The RDS instance of database `name`.
pub fn instance(name: &str) -> Ref {
    res("aws_db_instance", name)
}

/// Special characters of a generated master password: RDS refuses `/`, `"`, `@` and spaces.
const PASSWORD_SPECIALS: &str = "!#$%&*()-_=+[]{}<>:?";

/// Whether RDS manages the master password of `d` in Secrets Manager
/// (`manage_master_user_password`, the default), or Terraform generates it and keeps it in a
/// secret ([`own_secret`], JSON keys `username` and `password`, as RDS writes them):
/// - always for a database with read replicas: RDS refuses to create a read replica of a
///   source whose master password it manages ("Creating read replicas for source instance …
///   where ManageMasterUserPassword is enabled is not supported"; every engine but SQL
///   Server: <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations>);
/// - when the blueprint names the secret (`password_secret`): a password RDS manages is
///   rotated every seven days, while ECS tasks read it once, as they start ("if the secret
///   is subsequently updated or rotated, the container will not receive the updated value",
///   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html>).
pub fn rds_managed_password(d: &Database) -> bool {
    d.replicas == 0 && d.password_secret.is_none()
}

/// The secret holding the generated master credentials of `d`: the blueprint's
/// `password_secret`, else one of this module.
pub fn own_secret(d: &Database) -> Ref {
    match &d.password_secret {
        Some(s) => super::secrets::secret(s),
        None => res(
            "aws_secretsmanager_secret",
            &format!("{}_master", crate::terraform::ident(&d.name)),
        ),
    }
}

/// Its Secrets Manager name: the blueprint secret's path, else `<name>-<env>/<database>/master`.
pub fn own_secret_name(ctx: &Ctx, d: &Database) -> String {
    match &d.password_secret {
        Some(s) => super::secrets::name(ctx, s),
        None => format!("{}/{}/master", ctx.prefix, d.name),
    }
}

/// The secret holding the master credentials of `d` (JSON keys `username`, `password`), as
/// module `infra` refers to it.
pub fn master_secret_arn(d: &Database) -> crate::terraform::Expr {
    if rds_managed_password(d) {
        instance(&d.name).attr("master_user_secret[0].secret_arn")
    } else {
        own_secret(d).arn()
    }
}

/// Whether the module needs the `random` provider (generated master passwords).
pub fn needs_random(ctx: &Ctx) -> bool {
    managed(ctx).any(|d| !rds_managed_password(d))
}

/// The blueprint secrets Terraform fills with a database's generated credentials.
pub fn filled_secrets<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a str> + use<'a> {
    managed(ctx).filter_map(|d| d.password_secret.as_deref())
}

/// The databases RDS runs: those the analysis does not place in the cluster.
pub fn managed<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a Database> + use<'a> {
    let v = ctx.v;
    v.bp.databases.iter().filter(move |d| {
        !v.in_cluster(DataKind::Database, d.deployment) && d.engine != DatabaseEngine::Mongodb
    })
}

/// The instance identifier (`identifier`, default `<name>-<env>-<database>`).
pub fn identifier(ctx: &Ctx, d: &Database) -> String {
    d.identifier
        .clone()
        .unwrap_or_else(|| format!("{}-{}", ctx.prefix, d.name))
}

pub fn port(d: &Database) -> u16 {
    d.port.unwrap_or(match d.engine {
        DatabaseEngine::Mysql => 3306,
        _ => 5432,
    })
}

pub fn engine_title(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Postgres => "PostgreSQL",
        DatabaseEngine::Mysql => "MySQL",
        DatabaseEngine::Mongodb => "MongoDB",
    }
}

fn version(ctx: &Ctx, d: &Database) -> String {
    ctx.v.version(d.version.as_deref(), d.engine.name())
}

/// Parameter group family: `postgres15` (major only from 10 on), `mysql8.0`.
pub fn family(engine: DatabaseEngine, version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    match engine {
        DatabaseEngine::Mysql => format!("mysql{major}.{}", parts.next().unwrap_or("0")),
        _ if major.parse::<u32>().is_ok_and(|m| m < 10) => {
            format!("postgres{major}.{}", parts.next().unwrap_or("0"))
        }
        _ => format!("postgres{major}"),
    }
}

/// Parameters that only take effect after a reboot; RDS rejects `immediate` for them.
const STATIC_PARAMETERS: [&str; 16] = [
    "autovacuum_max_workers",
    "huge_pages",
    "innodb_buffer_pool_instances",
    "innodb_log_file_size",
    "max_connections",
    "max_locks_per_transaction",
    "max_prepared_transactions",
    "max_replication_slots",
    "max_wal_senders",
    "max_worker_processes",
    "performance_schema",
    "rds.logical_replication",
    "shared_buffers",
    "shared_preload_libraries",
    "track_activity_query_size",
    "wal_buffers",
];

/// The blueprint's parameters plus the one forcing TLS, which always wins.
fn parameters(d: &Database) -> Vec<Json> {
    let mut params = d.parameters.clone();
    match d.engine {
        DatabaseEngine::Mysql => params.insert("require_secure_transport".into(), "ON".into()),
        _ => params.insert("rds.force_ssl".into(), "1".into()),
    };
    params
        .iter()
        .map(|(name, value)| {
            let method = if STATIC_PARAMETERS.contains(&name.as_str()) {
                "pending-reboot"
            } else {
                "immediate"
            };
            json!({"name": name, "value": value, "apply_method": method})
        })
        .collect()
}

fn log_exports(engine: DatabaseEngine) -> &'static [&'static str] {
    match engine {
        DatabaseEngine::Mysql => &["error", "general", "slowquery"],
        _ => &["postgresql", "upgrade"],
    }
}

/// Pre-create the log groups RDS exports into, so they get retention and encryption.
fn log_groups(ctx: &Ctx, m: &mut Module, resource: &str, id: &str, d: &Database) -> Vec<String> {
    let retention = ctx
        .v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days);
    log_exports(d.engine)
        .iter()
        .map(|log| {
            let group = res("aws_cloudwatch_log_group", &format!("{resource}_{log}"));
            m.file("database").resource(
                &group,
                json!({
                    "name": format!("/aws/rds/instance/{id}/{log}"),
                    "retention_in_days": retention,
                    "kms_key_id": res("aws_kms_key", "logs").arn(),
                }),
            );
            group.address()
        })
        .collect()
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let dbs: Vec<&Database> = managed(ctx).collect();
    if dbs.is_empty() {
        return;
    }
    kms::key(
        ctx,
        m,
        "rds",
        &format!(
            "RDS storage, Performance Insights and master secrets for {}",
            ctx.prefix
        ),
        vec![],
    );
    let monitoring = res("aws_iam_role", "rds_monitoring");
    m.file("database")
        .resource(
            &monitoring,
            json!({
                "name": format!("{}-rds-monitoring", ctx.prefix),
                "description": "RDS enhanced monitoring publishes OS metrics to CloudWatch",
                "assume_role_policy": assume_role("monitoring.rds.amazonaws.com"),
            }),
        )
        .resource(
            &res("aws_iam_role_policy_attachment", "rds_monitoring"),
            json!({
                "role": monitoring.attr("name"),
                "policy_arn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            }),
        );
    for d in &dbs {
        database(ctx, m, d, &monitoring);
    }
    if ctx.v.bp.databases.len() == dbs.len() {
        ctx.mark("databases");
    }
}

fn username(d: &Database) -> String {
    d.username.clone().unwrap_or_else(|| "dbadmin".into())
}

/// The master password of a database RDS does not manage: generated, written write-only
/// into its own secret (`username`, `password`, the keys of an RDS-managed secret, so
/// clients read it the same way), and returned for the instance's `password_wo`.
fn generated_password(ctx: &Ctx, m: &mut Module, d: &Database) -> crate::terraform::Expr {
    let n = crate::terraform::ident(&d.name);
    let password = res("random_password", &format!("{n}_master"));
    let secret = own_secret(d);
    let name = own_secret_name(ctx, d);
    if d.password_secret.is_none() {
        m.file("database").resource(
            &secret,
            json!({
                "name": &name,
                "description": format!("Master credentials of {} (generated by Terraform)", identifier(ctx, d)),
                "kms_key_id": res("aws_kms_key", "rds").arn(),
                "recovery_window_in_days": 30,
                "tags": {"Name": &name},
            }),
        );
    }
    m.file("database")
        .resource(
            &password,
            json!({
                "length": 40,
                "special": true,
                "override_special": PASSWORD_SPECIALS,
                "min_special": 2,
            }),
        )
        .resource(
            &res("aws_secretsmanager_secret_version", &format!("{n}_master")),
            json!({
                "secret_id": secret.id(),
                "secret_string_wo": crate::terraform::interp(&format!(
                    "jsonencode({{username = \"{}\", password = {}}})",
                    username(d),
                    password.path("result")
                )),
                "secret_string_wo_version": 1,
            }),
        );
    password.attr("result")
}

fn database(ctx: &Ctx, m: &mut Module, d: &Database, monitoring: &Ref) {
    let id = identifier(ctx, d);
    let port = port(d);
    let title = engine_title(d.engine);
    let version = version(ctx, d);
    let family = family(d.engine, &version);
    let class = ctx.v.size(SizeKind::Database, d.size.as_deref(), &d.sizes);
    let key = res("aws_kms_key", "rds");
    let sg = security::data_sg(ctx, m, "database", &d.name, port, title);

    let params = res("aws_db_parameter_group", &d.name);
    m.file("database").resource(
        &params,
        json!({
            // A prefix, not a name: with create_before_destroy the replacement group must
            // exist beside the old one, and two groups cannot share a name.
            "name_prefix": format!("{id}-{}-", family.replace('.', "-")),
            "family": family,
            "description": format!("{title} {id}: TLS required, tuned parameters"),
            "parameter": parameters(d),
            "lifecycle": {"create_before_destroy": true},
        }),
    );

    // Performance Insights does not run on the smallest MySQL classes.
    let pi = d.performance_insights
        && !(d.engine == DatabaseEngine::Mysql
            && (class.ends_with(".micro") || class.ends_with(".small")));
    if d.performance_insights && !pi {
        ctx.note(format!(
            "database `{}`: Performance Insights is not available for MySQL on {class}; left off",
            d.name
        ));
    }
    let storage = d.storage.as_ref();
    let size_gb = storage.map_or(20, |s| s.size_gb);
    let storage_type = storage
        .and_then(|s| s.r#type.clone())
        .unwrap_or_else(|| "gp3".into());
    let backup = d.backup.as_ref();
    let groups = log_groups(ctx, m, &d.name, &id, d);

    let mut body = json!({
        "identifier": &id,
        "engine": d.engine.name(),
        "engine_version": version,
        "instance_class": &class,
        "allocated_storage": size_gb,
        "storage_type": &storage_type,
        "storage_encrypted": true,
        "kms_key_id": key.arn(),
        "db_subnet_group_name": res("aws_db_subnet_group", "main").attr("name"),
        "vpc_security_group_ids": [sg.id()],
        "publicly_accessible": false,
        "port": port,
        "username": username(d),
        "parameter_group_name": params.attr("name"),
        "multi_az": d.ha,
        "backup_retention_period": backup.map_or(7, |b| b.retention_days),
        "copy_tags_to_snapshot": true,
        "delete_automated_backups": false,
        "deletion_protection": d.deletion_protection,
        "skip_final_snapshot": false,
        "final_snapshot_identifier": format!("{id}-final"),
        "iam_database_authentication_enabled": true,
        "auto_minor_version_upgrade": true,
        "allow_major_version_upgrade": false,
        "ca_cert_identifier": "rds-ca-rsa2048-g1",
        "performance_insights_enabled": pi,
        "monitoring_interval": 60,
        "monitoring_role_arn": monitoring.arn(),
        "enabled_cloudwatch_logs_exports": log_exports(d.engine),
        "tags": {"Name": &id},
        "depends_on": groups,
    });
    if pi {
        body["performance_insights_kms_key_id"] = json!(key.arn());
        body["performance_insights_retention_period"] = json!(PI_RETENTION_DAYS);
    }
    if rds_managed_password(d) {
        body["manage_master_user_password"] = json!(true);
        body["master_user_secret_kms_key_id"] = json!(key.arn());
    } else {
        // Write-only: the password reaches RDS and the secret, never a file.
        body["password_wo"] = json!(generated_password(ctx, m, d));
        body["password_wo_version"] = json!(1);
    }
    if let Some(name) = &d.database_name {
        body["db_name"] = json!(name);
    }
    if let Some(max) = storage.and_then(|s| s.max_size_gb) {
        body["max_allocated_storage"] = json!(max);
    }
    if let Some(iops) = storage.and_then(|s| s.iops) {
        if storage_type == "gp3" && size_gb < GP3_BASELINE_BELOW_GB {
            body["//"] = json!(format!(
                "storage: {iops} IOPS is gp3's included baseline below {GP3_BASELINE_BELOW_GB} GB, which RDS refuses to have set explicitly"
            ));
        } else {
            body["iops"] = json!(iops);
        }
    }
    if let Some(w) = backup.and_then(|b| b.window) {
        body["backup_window"] = json!(w.aws());
    }
    if let Some(w) = d.maintenance_window {
        body["maintenance_window"] = json!(w.aws());
    }
    let primary = instance(&d.name);
    m.file("database").resource(&primary, body);

    let mut replicas = Vec::new();
    for i in 1..=d.replicas {
        let suffix = if i == 1 {
            "replica".to_string()
        } else {
            format!("replica-{i}")
        };
        let rid = format!("{id}-{suffix}");
        let resource = format!("{}-{suffix}", d.name);
        let groups = log_groups(ctx, m, &crate::terraform::ident(&resource), &rid, d);
        let mut r = json!({
            "identifier": &rid,
            "replicate_source_db": primary.attr("identifier"),
            "instance_class": &class,
            "storage_type": &storage_type,
            "storage_encrypted": true,
            "kms_key_id": key.arn(),
            "vpc_security_group_ids": [sg.id()],
            "publicly_accessible": false,
            "port": port,
            "parameter_group_name": params.attr("name"),
            // A replica is what a disaster-recovery runbook promotes: it keeps its own
            // backups and follows the primary's Multi-AZ choice, so the promoted database is
            // as durable as the one it replaces (CKV_AWS_133, CKV_AWS_157).
            "multi_az": d.ha,
            "backup_retention_period": backup.map_or(7, |b| b.retention_days.max(1)),
            "copy_tags_to_snapshot": true,
            "deletion_protection": d.deletion_protection,
            // A read replica cannot take a final snapshot; the primary keeps the data.
            "skip_final_snapshot": true,
            "iam_database_authentication_enabled": true,
            "auto_minor_version_upgrade": true,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "performance_insights_enabled": pi,
            "monitoring_interval": 60,
            "monitoring_role_arn": monitoring.arn(),
            "enabled_cloudwatch_logs_exports": log_exports(d.engine),
            "tags": {"Name": rid, "role": "read-replica"},
            "depends_on": groups,
        });
        if pi {
            r["performance_insights_kms_key_id"] = json!(key.arn());
            r["performance_insights_retention_period"] = json!(PI_RETENTION_DAYS);
        }
        if let Some(max) = storage.and_then(|s| s.max_size_gb) {
            r["max_allocated_storage"] = json!(max);
        }
        if let Some(w) = d.maintenance_window {
            r["maintenance_window"] = json!(w.aws());
        }
        let replica = instance(&resource);
        m.file("database").resource(&replica, r);
        replicas.push(replica);
    }

    let f = m.file("outputs");
    f.output(
        &format!("{}_endpoint", d.name),
        primary.attr("address"),
        &format!("{title} {id}: host name of the primary"),
    )
    .output(
        &format!("{}_port", d.name),
        primary.attr("port"),
        &format!("{title} {id}: port"),
    )
    .output(
        &format!("{}_master_secret_arn", d.name),
        master_secret_arn(d),
        &if rds_managed_password(d) {
            format!("{title} {id}: Secrets Manager secret holding the master credentials (managed and rotated by RDS)")
        } else {
            format!("{title} {id}: Secrets Manager secret holding the master credentials (generated by Terraform, JSON keys username and password)")
        },
    );
    if !replicas.is_empty() {
        let paths: Vec<String> = replicas.iter().map(|r| r.path("address")).collect();
        f.output(
            &format!("{}_replica_endpoints", d.name),
            list(&paths),
            &format!("{title} {id}: host names of the read replicas"),
        );
    }
}
