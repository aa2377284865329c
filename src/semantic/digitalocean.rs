//! What DigitalOcean's Managed Databases API refuses at apply time and no schema carries,
//! refused here with the field to change (`--provider digitalocean` only).
//!
//! - **Standby nodes need 2 GB.** "Due to the memory requirements of replication, standby
//!   nodes are only supported for plans with 2 GB of RAM or more"
//!   (<https://docs.digitalocean.com/products/databases/postgresql/how-to/add-standby-nodes/>,
//!   the same note on the MySQL, MongoDB and Valkey pages). A database with `ha` (a primary
//!   and a standby; a MongoDB replica set of three) or a cache with `ha`/`nodes` > 1 on a
//!   1 GB slug such as `db-s-1vcpu-1gb` would be refused by the create call.
//! - **No DOKS in `nyc2`.** "At least one datacenter in every region supports Kubernetes.
//!   Kubernetes will not be offered in NYC2, AMS2, or SFO1"
//!   (<https://docs.digitalocean.com/products/kubernetes/>, Regional Availability): of the
//!   catalog's regions `nyc2` takes Droplets but no cluster, so a `doks` cluster there is
//!   refused (the create call would be).
//! - **MySQL 8 only.** "We only support MySQL v8"
//!   (<https://docs.digitalocean.com/products/databases/mysql/details/limits/>): a managed
//!   MySQL asking for `5.7` or `9` would be lowered to `version = "5"` / `"9"`, which the
//!   create call refuses.
//! - **`doadmin` exists.** Every PostgreSQL, MySQL and MongoDB cluster is created with its
//!   admin user `doadmin` ("You cannot delete the default database and user",
//!   <https://docs.digitalocean.com/products/databases/mysql/details/limits/>): a
//!   `username: doadmin` would ask the API to create that user again and fail the apply;
//!   leaving `username` out connects as `doadmin` already.
//! - **Valkey 8 only.** "We currently support Valkey version 8"
//!   (<https://docs.digitalocean.com/products/databases/valkey/how-to/create/>): a managed
//!   Valkey cache asking for another major would be refused (a `redis` cache becomes Valkey
//!   at its default version, noted by the back-end).
//! - **Eviction policies.** The API takes `noeviction`, `allkeys_lru`, `allkeys_random`,
//!   `volatile_lru`, `volatile_random` and `volatile_ttl` only
//!   (<https://docs.digitalocean.com/reference/api/reference/databases/>): another
//!   `maxmemory-policy` is refused (LFU ones become LRU in the back-end, with a note).
//! - **Registry names.** "A globally unique name for the container registry. Must be
//!   lowercase and be composed only of numbers, letters and -, up to a limit of 63
//!   characters" (<https://docs.digitalocean.com/reference/api/reference/container-registry/>).
//!   Which environment creates the one registry is the back-end's
//!   (`backend::digitalocean::registry`).
//! - **Spaces regions.** Spaces runs in fewer regions than Droplets (none in `nyc1`/`nyc2`),
//!   and the pinned provider refuses any other `region` of a `digitalocean_spaces_bucket` at
//!   plan ("expected region to be one of [ams3 atl1 blr1 fra1 lon1 nyc3 sfo2 sfo3 sgp1 syd1
//!   tor1]", terraform-provider-digitalocean `SpacesRegions`, digitalocean/terraform-provider-digitalocean#1590;
//!   <https://docs.digitalocean.com/products/spaces/details/availability/>). The state bucket
//!   and every blueprint bucket live in `state.region`, else `providers.digitalocean.spaces_region`,
//!   so both are judged against [`SPACES_REGIONS`].
//! - **Tags.** At most 255 characters, one per name whatever its case (the API reference,
//!   Tags): see [`tags`].
//! - **NAT gateway.** `providers.digitalocean.nat` where no VPC NAT gateway can serve the
//!   cluster: see [`nat`].
//! - **Sizes.** A DOKS node below 2 GB, a database or cache plan not offered for its engine,
//!   by the dated size catalog (`providers/digitalocean.json`, `sizes`): see [`sizes`]. (A
//!   slug the catalog does not hold at all is refused by the shared size check.)

use super::Checker;
use crate::analysis::{DataKind, resolve_size, runs_in_cluster};
use crate::blueprint::types::{Blueprint, CacheEngine, DatabaseEngine, Nat, Platform};
use crate::catalog::{Provider, SizeKind};

/// The regions Spaces buckets can be created in with the pinned provider (2.71.0): its
/// `SpacesRegions` allow-list, which has `atl1` (digitalocean/terraform-provider-digitalocean#1408,
/// 2025-07) and not yet `mkc1`/`ric1` (#1590, 2026-08). Every Droplet region of the catalog
/// outside it is served by its nearest Spaces region (`backend::digitalocean::state`).
pub const SPACES_REGIONS: [&str; 11] = [
    "ams3", "atl1", "blr1", "fra1", "lon1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1",
];

/// `load_balancer.internal: true` asks for an entry reachable only from the network; the
/// load balancer DOKS gets is the one the ingress controller's (or the Envoy proxies')
/// Service creates, public, and an internal one could not get its certificate issued (see
/// [`super::internal_routes::DO_INTERNAL_LB_NO_CERTIFICATE`]). Built anyway, a user who
/// asked for a private entry would believe it private while it answers the internet, so
/// it is refused (it used to be a note among the fields DigitalOcean cannot express).
fn internal_load_balancer(c: &mut Checker, bp: &Blueprint) {
    if !bp.load_balancer.as_ref().is_some_and(|lb| lb.internal) {
        return;
    }
    c.error(
        "load_balancer.internal",
        format!(
            "on DigitalOcean the entry load balancer is public: {}, so an internal one is not built",
            super::internal_routes::DO_INTERNAL_LB_NO_CERTIFICATE
        ),
    )
    .help = Some(
        "remove `internal: true`, or set it false for DigitalOcean alone (`per_provider: { digitalocean: { load_balancer: { internal: false } } }`, keeping it internal on AWS); to keep a service private, drop its `routes`: it stays reachable from the services that `use` it, and from outside through `kubectl port-forward` or a VPN into the cluster's VPC".into(),
    );
}

/// The arguments of `digitalocean_database_{postgresql,mysql}_config` a database's
/// `backup.window` start becomes (`backend::digitalocean::database::engine_config`).
pub const BACKUP_START: [&str; 2] = ["backup_hour", "backup_minute"];

/// The admin user DigitalOcean creates with every PostgreSQL, MySQL and MongoDB cluster.
const ADMIN_USER: &str = "doadmin";

/// The MySQL majors DigitalOcean creates.
const MYSQL_MAJORS: [&str; 1] = ["8"];

/// The Valkey majors DigitalOcean creates.
const VALKEY_MAJORS: [&str; 1] = ["8"];

/// The smallest plan (GiB of RAM) that may have standby nodes.
const STANDBY_MIN_GB: u32 = 2;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Digitalocean {
        return;
    }
    registry(c, bp);
    spaces_regions(c, bp);
    doks_region(c, bp);
    tags(c, bp);
    nat(c, bp);
    internal_load_balancer(c, bp);
    sizes(c, bp);
    let catalog = c.provider.catalog();
    for (i, d) in bp.databases.iter().enumerate() {
        if runs_in_cluster(c.provider, DataKind::Database, d.deployment) {
            continue;
        }
        if d.username.as_deref() == Some(ADMIN_USER) {
            c.error(
                &format!("databases[{i}].username"),
                format!("DigitalOcean creates `{ADMIN_USER}` with every database cluster, so a user of that name cannot be created again"),
            )
            .help = Some(format!(
                "leave `username` out to connect as `{ADMIN_USER}`, or name the application's own user (e.g. `app`)"
            ));
        }
        if d.engine == DatabaseEngine::Mysql
            && let Some(v) = &d.version
            && !MYSQL_MAJORS.contains(&v.split('.').next().unwrap_or_default())
        {
            c.error(
                &format!("databases[{i}].version"),
                format!("DigitalOcean Managed MySQL creates version 8 only, not `{v}`"),
            )
            .help = Some(
                "set `version: \"8\"` (or leave it out), or run the database in the cluster (`deployment: in_cluster`)".into(),
            );
        }
        // The backup window's start is `backup_hour` / `backup_minute` of the engine's
        // configuration (`backend::digitalocean::database`): written twice, one would
        // silently override the other.
        if let Some(w) = d.backup.as_ref().and_then(|b| b.window)
            && matches!(d.engine, DatabaseEngine::Postgres | DatabaseEngine::Mysql)
            && let Some(k) = BACKUP_START.iter().find(|k| d.parameters.contains_key(**k))
        {
            c.error(
                &format!("databases[{i}].parameters.{k}"),
                format!(
                    "`parameters.{k}` and `backup.window` (`{w}`) both set when DigitalOcean starts the daily backup (the window's start becomes `backup_hour` / `backup_minute`)"
                ),
            )
            .help = Some(format!(
                "keep one: `backup.window` (which AWS reads too), or `parameters.{k}` without the window"
            ));
        }
        if !d.ha {
            continue;
        }
        let Ok(slug) = resolve_size(
            c.provider,
            catalog,
            SizeKind::Database,
            d.size.as_deref(),
            &d.sizes,
        ) else {
            continue; // reported by the size check
        };
        let standbys = if d.engine == DatabaseEngine::Mongodb {
            "a three-node replica set"
        } else {
            "a standby node"
        };
        standby_size(c, &format!("databases[{i}]"), &slug, standbys);
    }
    for (i, k) in bp.caches.iter().enumerate() {
        if runs_in_cluster(c.provider, DataKind::Cache, k.deployment) {
            continue;
        }
        let path = format!("caches[{i}]");
        if (k.ha || k.nodes > 1)
            && let Ok(slug) = resolve_size(
                c.provider,
                catalog,
                SizeKind::Cache,
                k.size.as_deref(),
                &k.sizes,
            )
        {
            standby_size(c, &path, &slug, "a standby node");
        }
        if let Some(v) = k.parameters.get("maxmemory-policy") {
            let (policy, _) = eviction_policy(v);
            if !EVICTION_POLICIES.contains(&policy.as_str()) {
                c.error(
                    &format!("{path}.parameters.maxmemory-policy"),
                    format!("`{v}` is not an eviction policy DigitalOcean Managed Valkey offers"),
                )
                .expected = Some(
                    "one of `noeviction`, `allkeys-lru`, `allkeys-random`, `volatile-lru`, `volatile-random`, `volatile-ttl` (LFU policies become LRU)".into(),
                );
            }
        }
        if k.engine == CacheEngine::Valkey
            && let Some(v) = &k.version
        {
            let major = v.split('.').next().unwrap_or_default();
            if !VALKEY_MAJORS.contains(&major) {
                c.error(
                    &format!("{path}.version"),
                    format!("DigitalOcean Managed Valkey creates version 8 only, not `{v}`"),
                )
                .help = Some(
                    "set `version: \"8\"` (or leave it out), or run the cache in the cluster (`deployment: in_cluster`)".into(),
                );
            }
        }
    }
}

/// What the size catalog (`providers/digitalocean.json`, `sizes`) says of sizes that exist
/// but cannot serve where they are named (a slug it does not hold at all is refused with
/// the other sizes, `check_counts_and_sizes`):
/// - a node pool's Droplet below DOKS's smallest node: `GET /v2/kubernetes/options` lists
///   node sizes from `s-1vcpu-2gb` up, no 512 MB or 1 GB Droplet, so the create call refuses
///   them;
/// - a managed database or cache plan DigitalOcean does not offer for its engine (by
///   `GET /v2/databases/options`: `db-intel-*`/`db-amd-*` are PostgreSQL and MySQL plans,
///   `m-*` Valkey's; `db-s-*` every engine's).
fn sizes(c: &mut Checker, bp: &Blueprint) {
    let catalog = c.provider.catalog();
    let Some(table) = &catalog.sizes else {
        return;
    };
    for (i, p) in bp.node_pools.iter().enumerate() {
        let Ok(slug) = resolve_size(
            c.provider,
            catalog,
            SizeKind::Node,
            p.size.as_deref(),
            &p.sizes,
        ) else {
            continue; // reported by the size check
        };
        let Some(mib) = table.droplets.get(&slug).and_then(|s| s.memory_mib) else {
            continue;
        };
        if mib < table.doks_min_memory_mib {
            let (at, _) = super::size_field(
                c.provider,
                &format!("node_pools[{i}]"),
                p.size.as_deref(),
                &p.sizes,
            );
            let bigger: Vec<&str> = table
                .droplets
                .iter()
                .filter(|(k, s)| {
                    s.memory_mib == Some(table.doks_min_memory_mib)
                        && k.split('-').next() == slug.split('-').next()
                })
                .map(|(k, _)| k.as_str())
                .collect();
            let d = c.error(
                &at,
                format!(
                    "`{slug}` has {mib} MiB of memory: DigitalOcean Kubernetes takes no node smaller than {} GB, so the node pool cannot be created",
                    table.doks_min_memory_mib / 1024
                ),
            );
            d.expected = Some(format!(
                "a Droplet with at least {} GB of memory, e.g. {}",
                table.doks_min_memory_mib / 1024,
                crate::diagnostic::one_of(bigger).trim_start_matches("one of ")
            ));
            d.help = Some("use size `small` (s-2vcpu-2gb) or larger".into());
        }
    }
    let managed = bp
        .databases
        .iter()
        .enumerate()
        .filter(|(_, d)| !runs_in_cluster(c.provider, DataKind::Database, d.deployment))
        .map(|(i, d)| {
            let (engine, title) = match d.engine {
                DatabaseEngine::Postgres => ("pg", "PostgreSQL"),
                DatabaseEngine::Mysql => ("mysql", "MySQL"),
                DatabaseEngine::Mongodb => ("mongodb", "MongoDB"),
            };
            (
                format!("databases[{i}]"),
                SizeKind::Database,
                engine,
                title,
                d.size.as_deref(),
                &d.sizes,
            )
        });
    // A `redis` cache becomes Valkey on DigitalOcean (the back-end).
    let caches = bp
        .caches
        .iter()
        .enumerate()
        .filter(|(_, k)| !runs_in_cluster(c.provider, DataKind::Cache, k.deployment))
        .map(|(i, k)| {
            (
                format!("caches[{i}]"),
                SizeKind::Cache,
                "valkey",
                "Valkey",
                k.size.as_deref(),
                &k.sizes,
            )
        });
    let all: Vec<_> = managed.chain(caches).collect();
    for (path, kind, engine, title, size, given) in all {
        let Ok(slug) = resolve_size(c.provider, catalog, kind, size, given) else {
            continue; // reported by the size check
        };
        let Some(plan) = table.databases.get(&slug) else {
            continue;
        };
        if plan.engines.iter().any(|e| e == engine) {
            continue;
        }
        let (at, _) = super::size_field(c.provider, &path, size, given);
        let nearest = table.nearest(kind, Some(engine), &slug, 3);
        let d = c.error(
            &at,
            format!(
                "DigitalOcean offers `{slug}` for managed {} only, not for {title}, so the database cluster cannot be created",
                plan.engines.iter().map(|e| engine_title(e)).collect::<Vec<_>>().join(", ")
            ),
        );
        d.expected = Some(format!(
            "a {title} plan, e.g. the nearest: {}",
            crate::diagnostic::one_of(nearest).trim_start_matches("one of ")
        ));
        d.help = Some(format!(
            "use a portable class ({}) or a {title} plan in `sizes.digitalocean`",
            catalog.class_names(kind).join(", ")
        ));
    }
}

/// How the catalog's engine keys read in a message.
fn engine_title(engine: &str) -> &str {
    match engine {
        "pg" => "PostgreSQL",
        "mysql" => "MySQL",
        "mongodb" => "MongoDB",
        "valkey" => "Valkey",
        other => other,
    }
}

fn registry(c: &mut Checker, bp: &Blueprint) {
    let Some(r) = &bp.registry else {
        return;
    };
    // Without `registry.name` the registry takes the blueprint's name.
    let (path, name) = match &r.name {
        Some(n) => ("registry.name", n.as_str()),
        None => ("registry", bp.name.as_str()),
    };
    let valid = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        c.error(
            path,
            format!("`{name}` is not a DigitalOcean Container Registry name"),
        )
        .expected = Some("lowercase letters, digits and `-`, at most 63 characters".into());
    }
}

/// The catalog regions DOKS is not offered in, with the region to use instead.
const NO_DOKS: [(&str, &str); 1] = [("nyc2", "nyc1` or `nyc3")];

/// A `doks` cluster in a region without DigitalOcean Kubernetes.
fn doks_region(c: &mut Checker, bp: &Blueprint) {
    let (Some(d), Some(Platform::Doks)) = (
        bp.providers.digitalocean.as_ref(),
        bp.platform_on(c.provider),
    ) else {
        return;
    };
    if let Some((region, instead)) = NO_DOKS.iter().find(|(r, _)| *r == d.region) {
        c.error(
            "providers.digitalocean.region",
            format!("DigitalOcean Kubernetes is not offered in `{region}`, so the `doks` cluster cannot be created there"),
        )
        .help = Some(format!(
            "use `{instead}` (the same metro), or drop `cluster` to create only the region's other resources"
        ));
    }
}

/// The blueprint's tags as the DigitalOcean tags every cluster, node pool and database
/// cluster carries (`naming::digitalocean_tag`: `key:value`, characters the API does not take
/// written `-`). The API refuses a tag of more than 255 characters, and holds one tag per
/// name whatever its case ("Tag names are case stable, which means the capitalization you use
/// when you first create a tag is canonical", the API reference, Tags): two tags equal but for
/// case would be applied as one and read back as one, a difference every plan shows again.
/// On a DOKS cluster and its node pools, the pinned provider reads back every tag but those
/// "starting with "k8s:" or named "k8s"" and those starting with `terraform:` (`FilterTags`,
/// terraform-provider-digitalocean digitalocean/kubernetes/kubernetes.go: DOKS adds its own
/// `k8s:<cluster id>` tags, the provider its `terraform:default-node-pool`): a blueprint tag
/// named `k8s` or `terraform` would be dropped at every read and added again at every plan.
/// (The derived `managed-by`, `blueprint` and `environment` tags are short: a blueprint name
/// is at most 24 characters, `semantic::names`.)
fn tags(c: &mut Checker, bp: &Blueprint) {
    use crate::naming::{DIGITALOCEAN_TAG_MAX, digitalocean_tag};
    let doks = bp.platform_on(c.provider) == Some(Platform::Doks);
    let mut seen: Vec<(&str, String)> = Vec::new();
    for (k, v) in &bp.tags {
        let tag = digitalocean_tag(k, v);
        if doks && (tag.starts_with("k8s:") || tag.starts_with("terraform:")) {
            let prefix = tag.split(':').next().unwrap_or_default();
            c.error(
                &format!("tags.{k}"),
                format!("becomes the DigitalOcean tag `{tag}`: tags starting with `{prefix}:` are DOKS's and the provider's own, so the cluster and node pools would never show it and every plan would add it again"),
            )
            .help = Some(format!("give the tag a name other than `{k}`"));
            continue;
        }
        let len = tag.chars().count();
        if len > DIGITALOCEAN_TAG_MAX {
            c.error(
                &format!("tags.{k}"),
                format!("written as the DigitalOcean tag `{k}:…` it is {len} characters: DigitalOcean refuses a tag of more than {DIGITALOCEAN_TAG_MAX}, and every cluster, node pool and database cluster carries it"),
            )
            .help = Some(format!(
                "shorten the value to at most {} characters",
                DIGITALOCEAN_TAG_MAX.saturating_sub(k.chars().count() + 1)
            ));
        }
        let lower = tag.to_ascii_lowercase();
        if let Some((other, _)) = seen.iter().find(|(_, t)| *t == lower) {
            c.error(
                &format!("tags.{k}"),
                format!("tags `{other}` and `{k}` become DigitalOcean tags that differ only in case (`{tag}`): DigitalOcean keeps one tag per name whatever its case, so the resources would hold one and every plan would try to add the other"),
            )
            .help = Some("give the two tags different names or values".into());
        }
        seen.push((k, lower));
    }
}

/// `providers.digitalocean.nat: single`: a VPC NAT gateway attached to the stack's own VPC,
/// which the DOKS routing agent makes the nodes' default route (`backend::digitalocean::
/// egress`). What it cannot do is refused:
/// - `per_zone`: a DigitalOcean VPC is one regional range without zones, and a VPC NAT
///   gateway serves the whole VPC;
/// - no `network`: the cluster would join the region's default VPC, which is not the
///   stack's to give a default gateway;
/// - `network.existing`: the VPC's egress is its owner's, as `network.nat` on AWS;
/// - no `doks` cluster: nothing infragen creates would send traffic through it (managed
///   databases do not call out).
fn nat(c: &mut Checker, bp: &Blueprint) {
    const PATH: &str = "providers.digitalocean.nat";
    let Some(nat) = bp.providers.digitalocean.as_ref().and_then(|d| d.nat) else {
        return;
    };
    match nat {
        Nat::None => {}
        Nat::PerZone => {
            c.error(
                PATH,
                "a DigitalOcean VPC has no zones: one VPC NAT gateway serves the whole regional VPC",
            )
            .help = Some("write `single`".into());
        }
        Nat::Single => {
            match &bp.network {
                None => {
                    c.error(
                        PATH,
                        "the NAT gateway needs a VPC of the stack's own: without `network` the cluster joins the region's default VPC",
                    )
                    .help = Some("add `network: { cidr: 10.20.0.0/16 }` (a range of your own)".into());
                }
                Some(n) if n.existing.is_some() => {
                    c.error(
                        PATH,
                        "an existing VPC's egress is its owner's (`network.existing`): infragen gives no NAT gateway or default route to a VPC it does not create",
                    )
                    .help = Some(
                        "leave `nat` out: infragen routes the cluster only through a NAT gateway it creates, in a VPC it creates".into(),
                    );
                }
                Some(_) => {}
            }
            if bp.platform_on(c.provider) != Some(Platform::Doks) {
                c.error(
                    PATH,
                    "nothing in the blueprint would send traffic through the NAT gateway: only a `doks` cluster's nodes are routed through it",
                )
                .help = Some("leave `nat` out, or add a `cluster` with `platform: doks`".into());
            }
        }
    }
}

/// `state.region` and `providers.digitalocean.spaces_region`: where the state bucket and the
/// blueprint's buckets are created, so each must be a region Spaces runs in.
fn spaces_regions(c: &mut Checker, bp: &Blueprint) {
    let given = [
        (
            "providers.digitalocean.spaces_region",
            bp.providers
                .digitalocean
                .as_ref()
                .and_then(|d| d.spaces_region.as_deref()),
        ),
        (
            "state.region",
            bp.state.as_ref().and_then(|s| s.region.as_deref()),
        ),
    ];
    for (path, region) in given {
        let Some(region) = region else { continue };
        if !SPACES_REGIONS.contains(&region) {
            let d = c.error(
                path,
                format!("DigitalOcean Spaces does not run in `{region}`, so no bucket can be created there"),
            );
            let help = match nearest_spaces_region(region) {
                Some(n) => Some(format!(
                    "use `{n}`, the Spaces region nearest `{region}` (the cluster and databases stay in `providers.digitalocean.region`)"
                )),
                None => crate::diagnostic::did_you_mean(region, SPACES_REGIONS),
            };
            *d = d
                .clone()
                .expected(crate::diagnostic::one_of(SPACES_REGIONS));
            d.help = help;
        }
    }
}

/// The Spaces region that serves Droplet region `region`: itself where Spaces runs, else the
/// nearest one (`nyc1`/`nyc2` → `nyc3`).
pub fn nearest_spaces_region(region: &str) -> Option<&'static str> {
    if let Some(r) = SPACES_REGIONS.iter().find(|r| **r == region) {
        return Some(r);
    }
    match region {
        "nyc1" | "nyc2" => Some("nyc3"),
        _ => None,
    }
}

/// The eviction policies DigitalOcean's API takes for a Valkey cluster
/// (<https://docs.digitalocean.com/reference/api/reference/databases/>, "Configure the
/// Eviction Policy": `noeviction`, `allkeys_lru`, … — no LFU policies).
pub const EVICTION_POLICIES: [&str; 6] = [
    "noeviction",
    "allkeys_lru",
    "allkeys_random",
    "volatile_lru",
    "volatile_random",
    "volatile_ttl",
];

/// A `maxmemory-policy` as DigitalOcean spells it, and whether it was an LFU policy, which
/// becomes the LRU policy of the same scope (`check` refuses any other value; the back-end notes the change).
pub fn eviction_policy(maxmemory_policy: &str) -> (String, bool) {
    let p = maxmemory_policy.replace('-', "_");
    match p.strip_suffix("_lfu") {
        Some(scope) => (format!("{scope}_lru"), true),
        None => (p, false),
    }
}

/// The connections a managed PostgreSQL cluster takes per GiB of its node's memory, and
/// those of them kept for maintenance: "25 backend server connections are allowed for every
/// 1GB of RAM. Three are reserved for maintenance. For example, a primary node with 1 GB of
/// RAM allows for a maximum of 22 backend server connections while one with 4 GB would
/// allow for 97" (DigitalOcean API reference, Databases, "Add a New Connection Pool" /
/// "Update Connection Pools (PostgreSQL)", `size`).
pub const PG_CONNECTIONS_PER_GIB: u32 = 25;
pub const PG_RESERVED_CONNECTIONS: u32 = 3;

/// The connection limit of a managed PostgreSQL plan (`slug`), when the size catalog gives
/// its memory (`providers/digitalocean.json`; `None` for a slug it does not hold): what its
/// connection pools may take together, and what its clients may open directly.
pub fn pg_connection_limit(slug: &str) -> Option<u32> {
    memory_gib(slug)
        .and_then(|g| g.checked_mul(PG_CONNECTIONS_PER_GIB))
        .map(|n| n.saturating_sub(PG_RESERVED_CONNECTIONS))
}

/// The memory of a managed database plan in whole GiB, by the size catalog.
fn memory_gib(slug: &str) -> Option<u32> {
    let (_, mib) = Provider::Digitalocean
        .catalog()
        .sizes
        .as_ref()?
        .shape(slug)?;
    Some(mib / 1024)
}

fn standby_size(c: &mut Checker, path: &str, slug: &str, what: &str) {
    let Some(gb) = memory_gib(slug).filter(|gb| *gb < STANDBY_MIN_GB) else {
        return;
    };
    c.error(
        path,
        format!(
            "`{slug}` has {gb} GB of RAM: DigitalOcean supports standby nodes only on plans with {STANDBY_MIN_GB} GB or more, so {what} cannot be created"
        ),
    )
    .help = Some(
        "use size `small` (db-s-1vcpu-2gb) or larger, or drop `ha` / extra `nodes` for this environment".into(),
    );
}

#[cfg(test)]
mod tests {
    use super::{SPACES_REGIONS, memory_gib, nearest_spaces_region};
    use crate::catalog::Provider;

    /// A blueprint naming no Spaces region gets the nearest one to its region: that must be
    /// one the provider accepts, for every region `providers.digitalocean.region` may name.
    #[test]
    fn every_region_has_a_spaces_region() {
        for r in &Provider::Digitalocean.catalog().regions {
            let spaces = nearest_spaces_region(r);
            assert!(
                spaces.is_some_and(|s| SPACES_REGIONS.contains(&s)),
                "region `{r}` has no Spaces region"
            );
        }
        assert_eq!(nearest_spaces_region("nyc1"), Some("nyc3"));
        assert_eq!(nearest_spaces_region("fra1"), Some("fra1"));
    }

    #[test]
    fn reads_the_memory_of_a_slug() {
        assert_eq!(memory_gib("db-s-1vcpu-1gb"), Some(1));
        assert_eq!(memory_gib("db-s-2vcpu-4gb"), Some(4));
        assert_eq!(memory_gib("so1_5-2vcpu-16gb"), Some(16));
        assert_eq!(memory_gib("custom"), None);
        // A slug the catalog does not hold has no memory, however its name reads.
        assert_eq!(memory_gib("db-s-3vcpu-7gb"), None);
        assert_eq!(super::pg_connection_limit("db-s-1vcpu-999999999gb"), None);
        assert_eq!(super::pg_connection_limit("db-s-1vcpu-2gb"), Some(47));
    }
}
