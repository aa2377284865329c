//! `databases[].pool`: a connection pool in front of a managed PostgreSQL database, which
//! only DigitalOcean builds (its PgBouncer, `digitalocean_database_connection_pool`).
//! Refused where it would not be built, so a blueprint never believes its connections
//! pooled when they are not:
//!
//! - **PostgreSQL only.** "Connection pools are only available for PostgreSQL clusters"
//!   (DigitalOcean API reference, Databases, "List Connection Pools (PostgreSQL)"; the
//!   how-to "How to Manage Connection Pools" is under PostgreSQL alone): MySQL and MongoDB
//!   (and caches) have none.
//! - **Managed on DigitalOcean only.** RDS Proxy (the AWS way out, see `aws-rds-connections`)
//!   is not generated, and a database in the cluster gets no PgBouncer: the pool is
//!   refused there, with the field that keeps it DigitalOcean's (`per_provider`).
//! - **The pool fits the plan.** "Clusters provide 25 connections per 1 GB of RAM. Three
//!   connections per cluster are reserved for maintenance, and all remaining connections can
//!   be allocated to connection pools"
//!   (<https://docs.digitalocean.com/products/databases/postgresql/how-to/manage-connection-pools/>):
//!   a `size` past that is refused by the API. One pool per database, so the pools' sum on a
//!   cluster is that one pool's size.
//! - **No read replicas beside it.** The services get one `_PORT` for `_HOST` and
//!   `_REPLICA_HOST` alike; through the pool it is 25061, while a read-only node is reached
//!   directly on 25060 (its own connection details), so replica reads would fail.

//! - **A name DigitalOcean takes.** "A unique name for the connection pool. Must be between
//!   3 and 60 characters" (API reference, "Add a New Connection Pool"): the pool is
//!   `<database>-pool` (`wiring::pool::name`), so a database name past 55 characters is
//!   refused.

use super::Checker;

/// The longest pool name DigitalOcean's API takes.
const POOL_NAME_MAX: usize = 60;
use crate::analysis::{DataKind, resolve_size, runs_in_cluster};
use crate::blueprint::types::{Blueprint, DatabaseEngine};
use crate::catalog::{Provider, SizeKind};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, d) in bp.databases.iter().enumerate() {
        let Some(pool) = &d.pool else { continue };
        let path = format!("databases[{i}].pool");
        if d.engine != DatabaseEngine::Postgres {
            c.error(
                &path,
                format!(
                    "DigitalOcean offers connection pools (PgBouncer) for PostgreSQL only, not {}",
                    d.engine.name()
                ),
            )
            .help = Some(format!(
                "remove `pool`; keep the {} clients' own pools small enough for the server's connection limit",
                d.engine.name()
            ));
            continue;
        }
        if runs_in_cluster(c.provider, DataKind::Database, d.deployment) {
            c.error(
                &path,
                "a database in the cluster gets no connection pool: only DigitalOcean managed PostgreSQL builds one (PgBouncer)",
            )
            .help = Some(
                "remove `pool` for this environment or provider (`environments.<env>.databases` / `per_provider.digitalocean`), or run the database managed on DigitalOcean".into(),
            );
            continue;
        }
        if c.provider != Provider::Digitalocean {
            c.error(
                &path,
                "on AWS no connection pool is built: RDS Proxy is not generated",
            )
            .help = Some(
                "set `pool` under `per_provider: { digitalocean: { databases: [{ name, pool }] } }` so it applies to DigitalOcean alone; on RDS keep each pod's client pool within `max_connections`, or put RDS Proxy in front of the database outside infragen".into(),
            );
            continue;
        }
        if d.replicas > 0 {
            c.error(
                &path,
                format!(
                    "a pool and {} read replica(s): the services would get one `_PORT`, the pool's (25061), while the replica is reached directly on 25060, so their `_REPLICA_HOST` connections would fail",
                    d.replicas
                ),
            )
            .help = Some(
                "drop `pool` or `replicas` for DigitalOcean (`per_provider.digitalocean.databases`), or give the database a `size` whose connection limit fits its pods".into(),
            );
            continue;
        }
        let name = crate::wiring::pool::name(&d.name);
        if name.len() > POOL_NAME_MAX {
            c.error(
                &path,
                format!(
                    "the pool would be named `{name}` ({} characters): DigitalOcean takes pool names of 3 to {POOL_NAME_MAX} characters",
                    name.len()
                ),
            )
            .help = Some(format!(
                "give the database a name of at most {} characters",
                POOL_NAME_MAX - crate::wiring::pool::SUFFIX.len()
            ));
            continue;
        }
        if pool.size == 0 {
            c.error(
                &format!("{path}.size"),
                "a pool of 0 connections serves no client",
            )
            .expected = Some("1 or more backend connections".into());
            continue;
        }
        let Ok(slug) = resolve_size(
            c.provider,
            c.provider.catalog(),
            SizeKind::Database,
            d.size.as_deref(),
            &d.sizes,
        ) else {
            continue; // reported by the size check
        };
        if let Some(limit) = super::digitalocean::pg_connection_limit(&slug)
            && pool.size > limit
        {
            c.error(
                &format!("{path}.size"),
                format!(
                    "a pool of {} connections does not fit `{slug}`, which accepts {limit} ({} per GiB of memory, {} reserved for maintenance): DigitalOcean refuses pools whose sizes together pass the plan's limit",
                    pool.size,
                    super::digitalocean::PG_CONNECTIONS_PER_GIB,
                    super::digitalocean::PG_RESERVED_CONNECTIONS
                ),
            )
            .help = Some(format!(
                "set `size` to {limit} or fewer (a few below it leaves room for admin and migration sessions), or give the database a larger `size`"
            ));
        }
    }
}
