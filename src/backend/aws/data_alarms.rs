//! Default alarms on the data services: each RDS database (its primary and read replicas)
//! and each ElastiCache cache (every node), the AWS side of what `observability.notify` gets
//! on DigitalOcean (`backend/digitalocean/alerts.rs`): the slow outages — a disk filling up,
//! an engine pinned on CPU, a cache out of memory — that the load balancer's alarms see only
//! once the site is down. Made whenever the alert topic is (`observability.rs`: with an
//! `observability` block, or a load balancer or jobs that alarm anyway).
//!
//! They are expressed as `observability.alarms` entries with the component as `target`, so
//! they are lowered exactly as the blueprint's own are: dimensions from the resources
//! (`DBInstanceIdentifier` of the primary and of each replica, `CacheClusterId` of each
//! node), and the worst of several series (metric math `MAX`/`MIN`) in one alarm (ten series
//! at most each: `observability::watch_series`). A blueprint
//! alarm on the same target and metric replaces the default: one page per condition, at the
//! team's figures.
//!
//! What is not watched, and why:
//! - RDS `FreeableMemory`: its threshold is bytes of the instance class's memory, and
//!   infragen holds no catalog of instance memory (`providers/aws.json` maps sizes to class
//!   names only); a guessed figure would page for nothing or never. List it in
//!   `observability.alarms` with the class's figure.
//! - Amazon MQ: the RabbitMQ signals of trouble (`RabbitMQMemUsed` against `RabbitMQMemLimit`,
//!   `RabbitMQDiskFree` against `RabbitMQDiskFreeLimit`) are per-node series compared with
//!   another series; RabbitMQ's own resource alarms already block publishers at those limits,
//!   and the AWS page does not give a fixed threshold
//!   (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-logging-monitoring.html).
//!   Not guessed.
//! - DynamoDB: on-demand tables scale themselves, and a provisioned table's throttling is a
//!   count whose tolerable level is the application's; no documented "this is trouble" figure.
//!
//! A period without a datapoint is `missing` for all of them: RDS and ElastiCache publish
//! every minute while the resource runs, so no data means it is stopped (an RDS instance may
//! be stopped for up to seven days), being created or deleted — the alarm goes to
//! INSUFFICIENT_DATA, which notifies nobody, rather than paging for a database someone
//! stopped on purpose or reporting OK for one nobody can see.

use crate::blueprint::types::{Alarm, Cache, Comparison, Database};
use crate::terraform::{Module, ident};

use super::{Ctx, cache, database};

/// A default alarm: its resource key and the alarm, as if the blueprint had listed it.
pub struct DefaultAlarm {
    pub key: String,
    pub alarm: Alarm,
}

const GIB: u64 = 1 << 30;

/// Free storage below which a database without storage autoscaling pages: 15 % of its
/// allocated storage, the DigitalOcean default's 85 % full — room to grow the volume
/// (`storage.size_gb`, an online ModifyDBInstance) before a full disk stops writes.
const FREE_PERCENT: u64 = 15;

/// With storage autoscaling (`storage.max_size_gb`), 5 % of the blueprint's `size_gb`. RDS
/// grows the storage itself when free space "is less than or equal to 10 percent of the
/// allocated storage" for five minutes, but at most once every six hours (or after the last
/// storage optimization) and never past the maximum ("Managing capacity automatically with
/// Amazon RDS storage autoscaling",
/// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html). A
/// threshold at or above that trigger would page at every growth; this one, in bytes of the
/// first allocation (the allocation only grows), is under the trigger of every later size, so
/// it fires only when autoscaling did not act: at `max_size_gb`, or filling faster than its
/// cool-down.
const FREE_PERCENT_AUTOSCALING: u64 = 5;

/// The default alarms of the data services `m` holds, less those a blueprint alarm (`user`)
/// on the same target and metric replaces.
pub fn defaults(ctx: &Ctx, m: &Module, user: &[Alarm]) -> Vec<DefaultAlarm> {
    let mut out = Vec::new();
    for d in database::managed(ctx) {
        if m.declares(&database::instance(&d.name).address()) {
            out.extend(database_alarms(ctx, d));
        }
    }
    for c in cache::managed(ctx) {
        if m.declares(&cache::group(&c.name).address()) {
            out.extend(cache_alarms(ctx, c));
        }
    }
    out.retain(|d| {
        let target = d.alarm.target.as_deref();
        let replaced = user.iter().any(|u| {
            u.target.as_deref() == target
                && u.namespace == d.alarm.namespace
                && u.metric == d.alarm.metric
        });
        // A blueprint alarm taking a default's name or Terraform key (another metric) is
        // refused at its `name` by `backend/collisions.rs`, as for every default alarm.
        !replaced
    });
    out
}

fn database_alarms(ctx: &Ctx, d: &Database) -> Vec<DefaultAlarm> {
    let storage = d.storage.as_ref();
    let size_gb = u64::from(storage.map_or(20, |s| s.size_gb));
    let autoscaling = storage.is_some_and(|s| s.max_size_gb.is_some());
    let percent = if autoscaling {
        FREE_PERCENT_AUTOSCALING
    } else {
        FREE_PERCENT
    };
    let free = size_gb * GIB * percent / 100;
    let of = if d.replicas > 0 {
        format!("{} or one of its read replicas", d.name)
    } else {
        d.name.clone()
    };
    let storage_why = if autoscaling {
        format!(
            "less than {percent} % of the first {size_gb} GiB free for 5 minutes: storage autoscaling did not grow it (at max_size_gb, or within its six-hour cool-down)"
        )
    } else {
        format!(
            "less than {percent} % of its {size_gb} GiB free for 5 minutes: grow storage.size_gb before writes stop"
        )
    };
    vec![
        DefaultAlarm {
            key: format!("database_{}_cpu", ident(&d.name)),
            alarm: Alarm {
                name: format!("{}-{}-cpu", ctx.prefix, d.name),
                description: Some(format!(
                    "Database {of}: CPU above 90 % for 10 minutes (queries queueing)"
                )),
                namespace: "AWS/RDS".into(),
                metric: "CPUUtilization".into(),
                statistic: "Average".into(),
                period: 60,
                evaluation_periods: 10,
                threshold: 90.0,
                comparison: Comparison::Greater,
                target: Some(d.name.clone()),
            },
        },
        // Replicas hold the primary's data on their own volume (`database.rs` gives them
        // its allocated storage): the lowest free space of all is the one to watch.
        DefaultAlarm {
            key: format!("database_{}_storage", ident(&d.name)),
            alarm: Alarm {
                name: format!("{}-{}-storage", ctx.prefix, d.name),
                description: Some(format!("Database {of}: {storage_why}")),
                namespace: "AWS/RDS".into(),
                metric: "FreeStorageSpace".into(),
                statistic: "Minimum".into(),
                period: 300,
                evaluation_periods: 1,
                threshold: free as f64,
                comparison: Comparison::Less,
                target: Some(d.name.clone()),
            },
        },
    ]
}

fn cache_alarms(ctx: &Ctx, c: &Cache) -> Vec<DefaultAlarm> {
    let mut out = vec![DefaultAlarm {
        key: format!("cache_{}_cpu", ident(&c.name)),
        // `EngineCPUUtilization`, not the host's `CPUUtilization`: Valkey and Redis OSS run
        // commands on one thread, so a node's CPU average hides a saturated engine. AWS
        // suggests "90% of your available CPU", for the host metric divided by the node's
        // vCPUs (nodes of 2 vCPUs or fewer) and the engine metric for nodes of 4 or more
        // ("Which Metrics Should I Monitor?",
        // https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.WhichShouldIMonitor.html);
        // the engine thread at 90 % is that condition on every node type, without a
        // per-class divisor infragen could not compute (it holds no vCPU catalog).
        alarm: Alarm {
            name: format!("{}-{}-cpu", ctx.prefix, c.name),
            description: Some(format!(
                "Cache {}: a node's engine thread above 90 % CPU for 10 minutes (commands queueing)",
                c.name
            )),
            namespace: "AWS/ElastiCache".into(),
            metric: "EngineCPUUtilization".into(),
            statistic: "Average".into(),
            period: 60,
            evaluation_periods: 10,
            threshold: 90.0,
            comparison: Comparison::Greater,
            target: Some(c.name.clone()),
        },
    }];
    // `DatabaseMemoryUsagePercentage` is `used_memory` over `maxmemory`. Under ElastiCache's
    // default `maxmemory-policy` (`volatile-lru`) a full node evicts only keys with a TTL and
    // then refuses writes ("OOM command not allowed"), so 90 % for 10 minutes is trouble
    // coming. A cache whose policy is `allkeys-*` is meant to run full, evicting its
    // least-used keys: there it would page for ever, so it is left out, and said.
    let policy = c.parameters.get("maxmemory-policy").map(String::as_str);
    if policy.is_some_and(|p| p.starts_with("allkeys-")) {
        ctx.note(format!(
            "cache `{}`: no default memory alarm, since `maxmemory-policy: {}` keeps it full by design (evicting); its CPU alarm still watches it, and an `Evictions` alarm in `observability.alarms` can tell a cache too small",
            c.name,
            policy.unwrap_or_default()
        ));
        return out;
    }
    out.push(DefaultAlarm {
        key: format!("cache_{}_memory", ident(&c.name)),
        alarm: Alarm {
            name: format!("{}-{}-memory", ctx.prefix, c.name),
            description: Some(format!(
                "Cache {}: a node above 90 % of its maxmemory for 10 minutes (then it evicts keys with a TTL and refuses writes)",
                c.name
            )),
            namespace: "AWS/ElastiCache".into(),
            metric: "DatabaseMemoryUsagePercentage".into(),
            statistic: "Average".into(),
            period: 60,
            evaluation_periods: 10,
            threshold: 90.0,
            comparison: Comparison::Greater,
            target: Some(c.name.clone()),
        },
    });
    out
}
