//! `observability.notify` for what goes down behind the front door: DigitalOcean monitor
//! alerts (`digitalocean_monitor_alert`) on every managed database and cache and on the DOKS
//! nodes, e-mailing the addresses `notify.rs` reads from `notify` — the slow outages an
//! Uptime check of the public host (`uptime.rs`) sees only once the site is already down: a
//! database disk filling up, a database or node pinned on CPU or out of memory, a node's disk
//! full of images and logs.
//!
//! Types, entities and windows are the DigitalOcean API's ("Create Alert Policy",
//! https://docs.digitalocean.com/reference/api/reference/monitoring/, the `type` table):
//! `v1/dbaas/alerts/{disk_utilization,cpu,memory_utilization}_alerts` "alert on the percent
//! … average across the database cluster", entity "database cluster UUID" — the `id` of a
//! `digitalocean_database_cluster`; `v1/insights/droplet/{memory,disk}_utilization_percent`
//! on Droplets, here by tag. The provider (2.71, resource_monitor_alert.go) accepts exactly
//! these `type` strings (godo's `Dbaas*` and `Droplet*UtilizationPercent` constants),
//! `compare` `GreaterThan`/`LessThan`, `window` `5m`/`10m`/`30m`/`1h`. Every policy names its
//! `entities` or `tags`: with neither, "the alert policy applies to all entities of the
//! relevant type that are owned by the user account" (same table) — every database of the
//! account, not this environment's.
//!
//! The databases' alerts cover every engine DigitalOcean runs here (PostgreSQL, MySQL,
//! MongoDB, Valkey): each engine's "monitor" guide says "you can also set up alerting on
//! cluster metrics" (e.g. docs.digitalocean.com/products/databases/mongodb/how-to/monitor-clusters,
//! …/redis/how-to/monitor-clusters). Read-only replicas are not watched: DigitalOcean shows
//! their metrics apart from the cluster's, and the API documents a cluster UUID as the
//! entity; a replica's disk holds the primary's data, whose alert fires first.
//!
//! The nodes: DOKS tags every node `k8s:<cluster id>` ("All node pools are automatically
//! tagged k8s, k8s-worker, and k8s:$K8S_CLUSTER_ID", API reference, Kubernetes "Add a Node
//! Pool"), which covers every pool, present and future, and no other cluster's; and DOKS
//! nodes run the metrics agent these Droplet alerts need ("Kubernetes worker nodes, a kind
//! of Droplet, already have the metrics agent by default",
//! https://docs.digitalocean.com/products/monitoring/how-to/set-up-alerts/). A policy on a
//! tag alerts for each Droplet that crosses the threshold.
//!
//! The figures, beside the AWS output's default alarms (5xx over 10 in 5 minutes, no healthy
//! target for 3 minutes — outages now): these warn of outages to come, so they wait long
//! enough not to page for a busy minute, and leave time to act.

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::notify::Recipients;
use crate::terraform::{Expr, Module, ident, res};

/// One default alert: what it watches, the API's type, the threshold (percent) and how long
/// it must be crossed.
struct Rule {
    what: &'static str,
    metric: &'static str,
    percent: u32,
    window: &'static str,
    /// The key suffix and the words of the description.
    key: &'static str,
}

/// A managed database's or cache's alerts.
const DATABASE: &[Rule] = &[
    // 85 %: room to resize the storage (online, `storage_size_mib`) before a full disk stops
    // writes — PostgreSQL and MySQL stop committing, Valkey cannot persist. Disk use grows,
    // it does not spike: the shortest window.
    Rule {
        what: "disk",
        metric: "v1/dbaas/alerts/disk_utilization_alerts",
        percent: 85,
        window: "5m",
        key: "disk",
    },
    // 90 % for 10 minutes: a saturated database, queries queueing — not a report or a
    // vacuum that pins the CPU for a few minutes.
    Rule {
        what: "CPU",
        metric: "v1/dbaas/alerts/cpu_alerts",
        percent: 90,
        window: "10m",
        key: "cpu",
    },
    // 90 % for 10 minutes: close to the out-of-memory killer, which restarts the engine (a
    // failover with a standby, an outage without). A full Valkey cache does not page: its
    // data may take 50–72 % of the node's memory, the rest kept for the forks of persistence
    // and replication ("Available Memory (Adjusted)",
    // https://docs.digitalocean.com/products/databases/valkey/details/memory-usage), so 90 %
    // is a fork running out of room, not a cache doing its job.
    Rule {
        what: "memory",
        metric: "v1/dbaas/alerts/memory_utilization_alerts",
        percent: 90,
        window: "10m",
        key: "memory",
    },
];

/// A DOKS node's alerts.
const NODE: &[Rule] = &[
    // The kubelet evicts pods when a node's memory runs out (`memory.available` < 100Mi) and
    // the kernel kills containers before that: 90 % for 10 minutes is a node whose pods do
    // not fit, not a deploy's surge.
    Rule {
        what: "memory",
        metric: "v1/insights/droplet/memory_utilization_percent",
        percent: 90,
        window: "10m",
        key: "memory",
    },
    // The kubelet removes unused images from 85 % of the disk down to 80 %
    // (`imageGCHighThresholdPercent` 85, `imageGCLowThresholdPercent` 80) and evicts pods
    // below 15 % free (`imagefs.available`), kubelet configuration defaults: above 85 % for
    // 10 minutes is a disk the garbage collection could not free, with pods being evicted.
    // Alerting at 80 % would page for a disk the kubelet keeps at 80–85 % by design.
    Rule {
        what: "disk",
        metric: "v1/insights/droplet/disk_utilization_percent",
        percent: 85,
        window: "10m",
        key: "disk",
    },
];

/// The monitor alerts, and whether any was written (so `uptime.rs` does not say that nobody
/// is notified).
pub fn lower(ctx: &Ctx, m: &mut Module) -> bool {
    let Some(who) = super::notify::recipients(ctx) else {
        return false;
    };
    if who.emails.is_empty() {
        // `uptime.rs` says that nobody is notified, and why.
        return false;
    }
    let databases: Vec<(&str, &str)> = ctx
        .managed_databases()
        .map(|d| (d.name.as_str(), "database"))
        .chain(ctx.managed_caches().map(|c| (c.name.as_str(), "cache")))
        .collect();
    for (name, kind) in &databases {
        let cluster = super::database::cluster_ref(name);
        for rule in DATABASE {
            alert(
                m,
                &format!("database_{}_{}", ident(name), rule.key),
                rule,
                &format!("{}-{name}: {kind} {}", ctx.prefix, description(rule)),
                json!({"entities": [cluster.id()]}),
                &who,
            );
        }
    }
    // The cluster `cluster.rs` wrote, if any (none without a DOKS `cluster`).
    let nodes = m.declares(&ctx.cluster().address());
    if nodes {
        let tag: Expr = tpl!("k8s:", ctx.cluster().id());
        for rule in NODE {
            alert(
                m,
                &format!("nodes_{}", rule.key),
                rule,
                &format!(
                    "{}: node {} (cluster {})",
                    ctx.prefix,
                    description(rule),
                    ctx.cluster_name()
                ),
                json!({"tags": [&tag]}),
                &who,
            );
        }
    }
    if databases.is_empty() && !nodes {
        return false;
    }
    let mut watched = Vec::new();
    if !databases.is_empty() {
        watched.push(format!(
            "a managed database or cache ({}) whose {}",
            databases
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            rules_text(DATABASE)
        ));
    }
    if nodes {
        watched.push(format!("a DOKS node whose {}", rules_text(NODE)));
    }
    ctx.note(format!(
        "observability.notify: DigitalOcean monitor alerts e-mail {} about {}; the addresses must be the DigitalOcean account's (its team members){}",
        who.emails_text(),
        watched.join(", and "),
        who.endpoints_note("`digitalocean_monitor_alert`", "alerts")
    ));
    true
}

fn alert(
    m: &mut Module,
    key: &str,
    rule: &Rule,
    description: &str,
    target: Json,
    who: &Recipients,
) {
    let mut body = json!({
        "description": description,
        "type": rule.metric,
        "compare": "GreaterThan",
        "value": rule.percent,
        "window": rule.window,
        "enabled": true,
        "alerts": [{"email": who.email()}],
    });
    if let (Json::Object(b), Json::Object(t)) = (&mut body, target) {
        b.extend(t);
    }
    m.file("alerts")
        .resource(&res("digitalocean_monitor_alert", key), body);
}

/// "disk above 85 % for 5 minutes".
fn description(rule: &Rule) -> String {
    format!(
        "{} above {} % for {}",
        rule.what,
        rule.percent,
        minutes(rule.window)
    )
}

/// "disk is above 85 % for 5 minutes, CPU … or memory …".
fn rules_text(rules: &[Rule]) -> String {
    let parts: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{} is above {} % for {}",
                r.what,
                r.percent,
                minutes(r.window)
            )
        })
        .collect();
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn minutes(window: &str) -> String {
    match window.strip_suffix('m') {
        Some(n) => format!("{n} minutes"),
        None => "an hour".into(),
    }
}
