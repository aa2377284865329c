//! The connection-limit check shared by the back-ends' lint rules
//! (`do-database-connections`, `aws-rds-connections`): a PostgreSQL or MySQL server refuses
//! connections past its limit ("FATAL: remaining connection slots are reserved", "Too many
//! connections"), and every pod or task of its clients keeps a pool of its own. At their
//! most they must fit. Each platform counts its own clients ([`Clients`]): Kubernetes pods
//! (autoscaling maximum, rollout surge, the release Job, overlapping job runs:
//! `k8s::quota::client_pods`), ECS tasks (autoscaling maximum with the deployment's
//! `maximumPercent` or blue/green second revision, overlapping scheduled runs:
//! `backend::aws::lint::client_tasks`); the judgment is one. A read replica is another
//! server with a limit of its own, so only the primary's clients are counted.

/// The smallest connection pool a client library keeps per process by default: Rails'
/// ActiveRecord and SQLAlchemy 5 (node-postgres and HikariCP 10). Below this share per pod
/// (or ECS task) the clients, at their most, exhaust the server with default settings.
pub const POOL_PER_POD: u32 = 5;

/// The server whose limit is judged.
pub struct Server<'a> {
    /// The database component.
    pub name: &'a str,
    /// Its size as the provider names it (`db-s-1vcpu-2gb`, `db.t4g.small`).
    pub size: &'a str,
    /// The connections it accepts.
    pub limit: u32,
    /// Where `limit` comes from (`25 per GiB of memory, 3 reserved`).
    pub why: String,
    /// What else takes the pods out of the outage, after a larger `size` and fewer pods.
    pub way_out: &'a str,
}

/// The clients of a server at their most at once.
pub struct Clients {
    /// What one client is (`pod`, `task`).
    pub noun: &'static str,
    /// (what, how many at once): a Deployment, a Job, an ECS service, a scheduled task.
    pub list: Vec<(String, u32)>,
}

/// The warning's text when `c`, at their most, get fewer than [`POOL_PER_POD`] connections
/// each of `s`, else `None`.
pub fn judge(s: &Server, c: &Clients) -> Option<String> {
    let total: u32 = c.list.iter().map(|(_, n)| n).sum();
    let limit = s.limit;
    if total == 0 || limit / total >= POOL_PER_POD {
        return None;
    }
    let each = c
        .list
        .iter()
        .map(|(what, n)| format!("{what} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (one, many) = (c.noun, format!("{}s", c.noun));
    let way_out = s.way_out;
    let share = if total > limit {
        format!(
            "more {many} than connections, so at their most some {many} get none at all: {way_out}, give the database a larger `size`, or run fewer {many}"
        )
    } else {
        let per = limit / total;
        format!(
            "{per} connection(s) per {one}, fewer than the {POOL_PER_POD} a client library pools by default (ActiveRecord, SQLAlchemy; node-postgres and HikariCP 10), past which the server refuses connections; cap each {one}'s pool at {per} (`pool`/`max` in the client), {way_out}, give the database a larger `size`, or run fewer {many}"
        )
    };
    Some(format!(
        "`{}` ({}) accepts {limit} connections ({}), and the {many} using it number up to {total} at once ({each}): {share}",
        s.name, s.size, s.why
    ))
}
