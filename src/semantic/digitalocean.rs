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

use super::Checker;
use crate::analysis::{DataKind, resolve_size, runs_in_cluster};
use crate::blueprint::types::{Blueprint, CacheEngine, DatabaseEngine, Platform};
use crate::catalog::{Provider, SizeKind};

/// The regions Spaces buckets can be created in with the pinned provider (2.71.0): its
/// `SpacesRegions` allow-list, which has `atl1` (digitalocean/terraform-provider-digitalocean#1408,
/// 2025-07) and not yet `mkc1`/`ric1` (#1590, 2026-08). Every Droplet region of the catalog
/// outside it is served by its nearest Spaces region (`backend::digitalocean::state`).
pub const SPACES_REGIONS: [&str; 11] = [
    "ams3", "atl1", "blr1", "fra1", "lon1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1",
];

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

/// The RAM of a DigitalOcean size slug in GiB: its last `<n>gb` part (`db-s-2vcpu-4gb`,
/// `gd-2vcpu-8gb`, `so1_5-2vcpu-16gb`).
fn memory_gb(slug: &str) -> Option<u32> {
    slug.rsplit('-')
        .find_map(|part| part.strip_suffix("gb")?.parse().ok())
}

fn standby_size(c: &mut Checker, path: &str, slug: &str, what: &str) {
    let Some(gb) = memory_gb(slug).filter(|gb| *gb < STANDBY_MIN_GB) else {
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
    use super::{SPACES_REGIONS, memory_gb, nearest_spaces_region};
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
        assert_eq!(memory_gb("db-s-1vcpu-1gb"), Some(1));
        assert_eq!(memory_gb("db-s-2vcpu-4gb"), Some(4));
        assert_eq!(memory_gb("so1_5-2vcpu-16gb"), Some(16));
        assert_eq!(memory_gb("custom"), None);
    }
}
