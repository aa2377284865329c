//! A managed PostgreSQL database's connection pool (`databases[].pool`, DigitalOcean's
//! PgBouncer): its name, and which connections go around it.
//!
//! - **The pool's name.** DigitalOcean's API takes "a unique name for the connection pool.
//!   Must be between 3 and 60 characters" (API reference, Databases, "Add a New Connection
//!   Pool", `POST /v2/databases/{uuid}/pools`) and says nothing of a pool named like a
//!   database. A pool named like its component would be refused for a two-letter component
//!   (`db`), and may meet the database's own name in PgBouncer's routing, which clients
//!   select by that name; so the pool is named [`name`] (`db-pool`, as DigitalOcean's own
//!   examples name theirs: `backend-pool`, `reporting-pool`), and the services' `_DATABASE`
//!   is the pool's name ("the pool name as the database", "How to Manage Connection Pools").
//! - **The release Job connects directly.** A release step runs migrations (Rails, Django,
//!   Prisma, Flyway, Alembic), which take session advisory locks and use session state
//!   (`SET`, prepared statements, `LISTEN`); PgBouncer's transaction mode "breaks a few
//!   session-based features of PostgreSQL" and statement mode more
//!   (<https://www.pgbouncer.org/features.html>, "SQL feature map for pooling modes"), and
//!   DigitalOcean's how-to sends such clients to the cluster itself. In session mode every
//!   feature works, but a client holds its backend connection for as long as it stays
//!   connected, so the services' long-lived client pools hold the pool's `size` connections
//!   and a migration would queue behind them. So in every mode the release Job gets the
//!   cluster's private host, port 25060 and the database's own name ([`DIFFERS`]; the same
//!   user and password, which the pool connects as), taken from the keys [`direct_key`] of
//!   the service's `<service>-connections` ConfigMap and Secret, and its NetworkPolicy lets
//!   it out on 25060; its connection is counted against the plan's connections the pool
//!   leaves (`do-database-connections`).
//! - **Scheduled jobs keep the pool.** They run the services' code with the services'
//!   client settings, which the pool already serves, and their runs may overlap: on the few
//!   direct connections the pool leaves they would crowd out the release step, while the
//!   pool queues them.

use super::{Field, Flavor};
use crate::blueprint::types::Database;

/// What a database's pool is named after it.
pub const SUFFIX: &str = "-pool";

/// The name of database component `database`'s pool: `<database>-pool`.
pub fn name(database: &str) -> String {
    format!("{database}{SUFFIX}")
}

/// The fields whose value differs between the pool and the cluster itself: the user and
/// password are the same (the pool connects as the services' user).
pub const DIFFERS: [Field; 4] = [Field::Host, Field::Port, Field::Database, Field::Url];

/// Whether a release step connecting to database `d`, running as `flavor`, goes around
/// its pool to the cluster itself: a pool exists only on DigitalOcean.
pub fn release_goes_direct(d: &Database, flavor: Option<Flavor>) -> bool {
    d.pool.is_some() && flavor == Some(Flavor::DigitalOcean)
}

/// The key of the `<service>-connections` ConfigMap or Secret holding variable `var`'s
/// direct value (not a variable name, so no generated variable can take it).
pub fn direct_key(var: &str) -> String {
    format!("direct.{var}")
}
