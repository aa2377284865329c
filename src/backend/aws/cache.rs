//! ElastiCache (Redis OSS, Valkey) for the blueprint's managed caches: a security group
//! admitting only the cache's clients, a parameter group, and a replication group with
//! failover and Multi-AZ from `ha`, encryption at rest (the `cache` key) and in transit
//! (required), an AUTH token, snapshots, windows and slow/engine logs in CloudWatch.
//!
//! The AUTH token. `auth_token` is not write-only in the AWS provider (6.25 has no
//! `auth_token_wo`), so whatever value it takes is kept in the (encrypted) Terraform state.
//! Reading an out-of-band value through `data "aws_secretsmanager_secret_version"` would
//! put it in state just the same, and cannot work on the first apply: the secret this
//! module creates is still empty when the replication group needs its token. So the token
//! is generated here (`random_password`, only characters ElastiCache accepts), written to
//! the cache's secret with the write-only `secret_string_wo` (no second copy in state), and
//! passed to the replication group; clients read it from that secret. The generated files
//! never hold it. The secret is `auth_token_secret` when the blueprint names one, else one
//! created here (`<name>-<env>/<cache>/auth-token`).

use crate::json;

use super::Ctx;
use super::kms;
use super::secrets;
use super::security;
use crate::analysis::DataKind;
use crate::blueprint::types::{Cache, CacheEngine};
use crate::blueprint::windows::DailyWindow;
use crate::catalog::SizeKind;
use crate::terraform::{Module, Ref, ident, res};

/// Special characters ElastiCache allows in an AUTH token.
const TOKEN_SPECIALS: &str = "!&#^<>-";

/// The replication group of cache `name`.
pub fn group(name: &str) -> Ref {
    res("aws_elasticache_replication_group", name)
}

/// The caches ElastiCache runs.
pub fn managed<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a Cache> + use<'a> {
    let v = ctx.v;
    v.bp.caches
        .iter()
        .filter(move |c| !v.in_cluster(DataKind::Cache, c.deployment))
}

/// How many caches run in the cluster, lowered by the manifests (on EKS; none elsewhere).
fn in_cluster(ctx: &Ctx) -> usize {
    let v = ctx.v;
    v.bp.caches
        .iter()
        .filter(|c| ctx.is_eks() && v.in_cluster(DataKind::Cache, c.deployment))
        .count()
}

/// Whether the module needs the `random` provider (for AUTH tokens).
pub fn uses_random(ctx: &Ctx) -> bool {
    managed(ctx).next().is_some()
}

pub fn port(c: &Cache) -> u16 {
    c.port.unwrap_or(6379)
}

pub fn engine_title(engine: CacheEngine) -> &'static str {
    match engine {
        CacheEngine::Redis => "Redis",
        CacheEngine::Valkey => "Valkey",
    }
}

fn engine_name(engine: CacheEngine) -> &'static str {
    match engine {
        CacheEngine::Redis => "redis",
        CacheEngine::Valkey => "valkey",
    }
}

/// The replication group id (`identifier`, default `<name>-<env>-<cache>`).
pub fn identifier(ctx: &Ctx, c: &Cache) -> String {
    c.identifier
        .clone()
        .unwrap_or_else(|| format!("{}-{}", ctx.prefix, c.name))
}

/// The `engine_version` ElastiCache takes. For Redis OSS 6 and later and for Valkey it is
/// `<major>.<minor>` (the provider refuses `8`: "For Valkey use <major>.<minor>"), while
/// DigitalOcean takes only a bare major (`8`): a blueprint for both writes `8`, which here
/// becomes the newest line of that major the versions catalog lists as created
/// (`elasticache-valkey`: `8` → `8.2`), as a floating image tag does in a cluster.
fn engine_version(ctx: &Ctx, c: &Cache) -> String {
    let engine = engine_name(c.engine);
    let version = ctx.v.version(c.version.as_deref(), engine);
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return version;
    }
    crate::releases::product(&format!("elasticache-{engine}"))
        .image_tag(&version, &crate::releases::get().as_of)
}

/// Parameter group family: `redis7`, `redis6.x`, `redis5.0`, `valkey8`.
pub fn family(engine: CacheEngine, version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    let n: u32 = major.parse().unwrap_or(0);
    match engine {
        CacheEngine::Valkey => format!("valkey{major}"),
        CacheEngine::Redis if n >= 7 => format!("redis{major}"),
        CacheEngine::Redis if n == 6 => "redis6.x".into(),
        CacheEngine::Redis => format!("redis{major}.{}", parts.next().unwrap_or("0")),
    }
}

/// The daily snapshot window: the blueprint's, or, when it gives a maintenance window but no
/// snapshot window, an hour clear of it. Left to itself ElastiCache picks a window at random,
/// and refuses it when it overlaps the maintenance window ("The snapshot window and
/// maintenance window must not overlap").
fn snapshot_window(ctx: &Ctx, c: &Cache) -> Option<DailyWindow> {
    if let Some(w) = c.snapshots.as_ref().and_then(|s| s.window) {
        return Some(w);
    }
    let m = c.maintenance_window?;
    let start = m.hour * 60 + m.minute;
    let at = |from: u32, len: u32| {
        let (s, e) = (from % 1440, (from + len) % 1440);
        DailyWindow {
            start: (s / 60, s % 60),
            end: (e / 60, e % 60),
        }
    };
    // The hour ending an hour before the maintenance starts, else earlier, a minute of
    // margin on both sides so the two never even touch.
    let w = (2..=24)
        .map(|back| at(start + 2 * 1440 - back * 60, 60))
        .find(|w| {
            let minutes = w.start.0 * 60 + w.start.1;
            !m.overlaps(&at(minutes + 1440 - 1, 62))
        })?;
    ctx.note(format!(
        "cache `{}`: no `snapshots.window`, so `{}`, clear of the maintenance window `{}` (ElastiCache would pick one at random and refuse it where it overlaps)",
        c.name,
        w.aws(),
        m.aws()
    ));
    Some(w)
}

/// Whether ElastiCache takes `transit_encryption_mode` for this engine version
/// (<https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/in-transit-encryption-enable-python.html>).
fn transit_mode_supported(engine: CacheEngine, version: &str) -> bool {
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    engine == CacheEngine::Valkey || major >= 7
}

/// The Secrets Manager name of the secret holding the AUTH token of cache `c`.
pub fn auth_secret_name(ctx: &Ctx, c: &Cache) -> String {
    match &c.auth_token_secret {
        Some(s) => secrets::name(ctx, s),
        None => format!("{}/{}/auth-token", ctx.prefix, c.name),
    }
}

/// The secret clients read the AUTH token of cache `c` from.
pub fn auth_secret(c: &Cache) -> Ref {
    match &c.auth_token_secret {
        Some(s) => secrets::secret(s),
        None => res(
            "aws_secretsmanager_secret",
            &format!("{}_auth_token", ident(&c.name)),
        ),
    }
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let caches: Vec<&Cache> = managed(ctx).collect();
    if caches.is_empty() {
        return;
    }
    kms::key(
        ctx,
        m,
        "cache",
        &format!("ElastiCache encryption at rest for {}", ctx.prefix),
        vec![],
    );
    for c in &caches {
        cache(ctx, m, c);
    }
    // The rest run in the cluster, where the manifests lower them (EKS).
    if ctx.v.bp.caches.len() == caches.len() + in_cluster(ctx) {
        ctx.mark("caches");
    }
}

fn cache(ctx: &Ctx, m: &mut Module, c: &Cache) {
    let id = identifier(ctx, c);
    let port = port(c);
    let title = engine_title(c.engine);
    let version = engine_version(ctx, c);
    let family = family(c.engine, &version);
    let key = res("aws_kms_key", "cache");
    let sg = security::data_sg(ctx, m, "cache", &c.name, port, title);
    let n = ident(&c.name);

    let params = res("aws_elasticache_parameter_group", &c.name);
    let parameters: Vec<_> = c
        .parameters
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    m.file("cache").resource(
        &params,
        json!({
            // aws_elasticache_parameter_group has no `name_prefix`. The replacement that
            // create_before_destroy guards is forced only by `family`, `name` or
            // `description`: the family is part of the name, and the description holds
            // nothing but the engine and id (also in the name), so a replacement always
            // comes with a new name and never collides with the group it replaces.
            "name": format!("{id}-{}", family.replace('.', "-")),
            "family": family,
            "description": format!("{title} {id} parameters"),
            "parameter": parameters,
            "lifecycle": {"create_before_destroy": true},
        }),
    );

    // AUTH token: generated, stored write-only in the cache's secret (see the module docs).
    let token = res("random_password", &format!("{n}_auth_token"));
    let secret = auth_secret(c);
    let f = m.file("cache");
    f.resource(
        &token,
        json!({
            "length": 64,
            "special": true,
            "override_special": TOKEN_SPECIALS,
            "min_special": 4,
        }),
    );
    if c.auth_token_secret.is_none() {
        let name = auth_secret_name(ctx, c);
        f.resource(
            &secret,
            json!({
                "name": &name,
                "description": format!("AUTH token of {title} {id} (generated by Terraform)"),
                "kms_key_id": key.arn(),
                // Deleted with the cache: see `database::GENERATED_SECRET_RECOVERY_DAYS`.
                "recovery_window_in_days": super::database::GENERATED_SECRET_RECOVERY_DAYS,
                "tags": {"Name": name},
            }),
        );
    }
    f.resource(
        &res(
            "aws_secretsmanager_secret_version",
            &format!("{n}_auth_token"),
        ),
        json!({
            "secret_id": secret.id(),
            "secret_string_wo": token.attr("result"),
            "secret_string_wo_version": 1,
        }),
    );

    let retention = ctx
        .v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days);
    let mut deliveries = Vec::new();
    for log in ["slow-log", "engine-log"] {
        let group = res("aws_cloudwatch_log_group", &format!("{n}_{log}"));
        f.resource(
            &group,
            json!({
                "name": format!("/aws/elasticache/{id}/{log}"),
                "retention_in_days": retention,
                "kms_key_id": res("aws_kms_key", "logs").arn(),
            }),
        );
        deliveries.push(json!({
            "destination": group.attr("name"),
            "destination_type": "cloudwatch-logs",
            "log_format": "json",
            "log_type": log,
        }));
    }

    let size = ctx.v.size(SizeKind::Cache, c.size.as_deref(), &c.sizes);
    let mut body = json!({
        "replication_group_id": &id,
        "description": c.description.clone().unwrap_or_else(|| format!("{title} {}", c.name)),
        "engine": engine_name(c.engine),
        "engine_version": &version,
        "node_type": size,
        "num_cache_clusters": c.nodes,
        "cluster_mode": "disabled",
        "port": port,
        "parameter_group_name": params.attr("name"),
        "subnet_group_name": res("aws_elasticache_subnet_group", "main").attr("name"),
        "security_group_ids": [sg.id()],
        "automatic_failover_enabled": c.ha,
        "multi_az_enabled": c.ha,
        "at_rest_encryption_enabled": "true",
        "kms_key_id": key.arn(),
        "transit_encryption_enabled": true,
        "auth_token": token.attr("result"),
        "auth_token_update_strategy": "ROTATE",
        "auto_minor_version_upgrade": "true",
        // As for RDS (see `database::APPLY_IMMEDIATELY`): a new engine version or family
        // comes with a new parameter group, and the group it replaces cannot be deleted
        // while the deferred change still leaves it on the nodes.
        "apply_immediately": super::database::APPLY_IMMEDIATELY,
        "snapshot_retention_limit": c.snapshots.as_ref().map_or(1, |s| s.retention_days),
        // Unique per replication group, taken at creation: see
        // `database::final_snapshot_identifier`.
        "final_snapshot_identifier": super::database::final_snapshot_identifier(&id),
        "lifecycle": {"ignore_changes": ["final_snapshot_identifier"]},
        "log_delivery_configuration": deliveries,
        "tags": {"Name": &id},
    });
    // The transit encryption mode (`preferred` → `required`) is ElastiCache's online TLS
    // migration, which exists for Valkey and Redis OSS 7.0 on only ("ElastiCache supports
    // online TLS migration only for clusters with Valkey version 7.2 and above or Redis OSS
    // version 7.0 or above"); an older Redis OSS with TLS on takes TLS connections only.
    if transit_mode_supported(c.engine, &version) {
        body["transit_encryption_mode"] = json!("required");
    }
    if let Some(w) = snapshot_window(ctx, c) {
        body["snapshot_window"] = json!(w.aws());
    }
    if let Some(w) = c.maintenance_window {
        body["maintenance_window"] = json!(w.aws());
    }
    let rg = group(&c.name);
    f.resource(&rg, body);

    let f = m.file("outputs");
    f.output(
        &format!("{}_endpoint", c.name),
        rg.attr("primary_endpoint_address"),
        &format!("{title} {id}: primary endpoint (TLS, AUTH)"),
    )
    .output(
        &format!("{}_port", c.name),
        rg.attr("port"),
        &format!("{title} {id}: port"),
    )
    .output(
        &format!("{}_auth_token_secret_arn", c.name),
        secret.arn(),
        &format!("{title} {id}: Secrets Manager secret holding the AUTH token"),
    );
    if c.nodes > 1 {
        f.output(
            &format!("{}_reader_endpoint", c.name),
            rg.attr("reader_endpoint_address"),
            &format!("{title} {id}: reader endpoint (replicas)"),
        );
    }
}
