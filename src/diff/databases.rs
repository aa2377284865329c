//! Two database changes whose hazard is in the order things happen, not in any one resource
//! (docs/day2.md):
//!
//! - **A DigitalOcean connection pool under a new name.** A pool is named `<database>-pool`
//!   (`wiring::pool::name`), so renaming the database (or its pool) names a new pool. The
//!   provider has no update for `digitalocean_database_connection_pool`: every argument is
//!   ForceNew (terraform-provider-digitalocean
//!   `digitalocean/database/resource_database_connection_pool.go`, no `UpdateContext`;
//!   "Size of database_connection_pool cannot be edited without recreate",
//!   digitalocean/terraform-provider-digitalocean#662), so `infra` destroys the old pool and
//!   creates the new one, while the services still connect to the old name (their
//!   `_DATABASE`) until `platform` gives them the new one and their pods restart.
//! - **A PostgreSQL primary's `max_connections` raised while it has read replicas.** A hot
//!   standby's `max_connections` must be "the same or higher value than on the primary
//!   server. Otherwise, queries will not be allowed in the standby server" (PostgreSQL,
//!   "Connections and Authentication", `max_connections`); the same holds for
//!   `max_prepared_transactions`, `max_locks_per_transaction`, `max_wal_senders` and
//!   `max_worker_processes` ("Hot Standby", Administrator's Overview: "If these parameters
//!   are not set high enough then the standby will refuse to start"). On RDS they are static
//!   (`pending-reboot`) and the replicas share the primary's parameter group
//!   (`backend/aws/database.rs`): each instance takes the new value at its next reboot, so
//!   the order of the reboots decides — replicas first when raising, the primary first when
//!   lowering.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::objects::Object;

const POOL: &str = "digitalocean_database_connection_pool";

/// The PostgreSQL settings a hot standby needs at least as high as its primary's.
const STANDBY_MINIMUMS: [&str; 5] = [
    "max_connections",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_wal_senders",
    "max_worker_processes",
];

pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let mut notes = pool_names(old, new);
    notes.extend(standby_minimums(old, new));
    notes
}

/// The literal `name`s of the connection pools one output creates (not those `platform`
/// reads by name).
fn pools(objs: &BTreeMap<String, Object>) -> BTreeSet<&str> {
    (objs.iter())
        .filter(|(addr, o)| o.kind == POOL && !addr.contains(": data."))
        .map(|(_, o)| o)
        .filter_map(|o| o.body.get("name").and_then(Value::as_str))
        .collect()
}

/// Pools whose names go while others come: the old ones are destroyed under the services.
fn pool_names(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let (before, after) = (pools(old), pools(new));
    let gone: Vec<String> = (before.difference(&after))
        .map(|n| format!("`{n}`"))
        .collect();
    let came: Vec<String> = (after.difference(&before))
        .map(|n| format!("`{n}`"))
        .collect();
    if gone.is_empty() || came.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "WARNING: infra: {POOL} — connection pool {} goes and {} comes (a pool is named `<database>-pool`, and its name cannot change: `infra` destroys the old pool and creates the new one). The services connect through the pool's name (their `_DATABASE`) and learn the new one only when `platform` is applied and their pods restart: in between, every pod still using {} fails to connect. Apply `terraform/infra` and then `terraform/platform` at once, in a quiet window, and wait for the rollouts (`kubectl rollout status`); or keep the database's name, and with it the pool's",
        gone.join(", "),
        came.join(", "),
        gone.join(", ")
    )]
}

/// A parameter group's settings as `name → value`.
fn parameters(body: &Value) -> BTreeMap<&str, &str> {
    (body
        .get("parameter")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .filter_map(|p| {
        Some((
            p.get("name")?.as_str()?,
            p.get("value")?.as_str().unwrap_or_default(),
        ))
    })
    .collect()
}

/// The identifier of an `aws_db_instance`, for the commands.
fn identifier(o: &Object) -> &str {
    (o.body.get("identifier").and_then(Value::as_str)).unwrap_or("<identifier>")
}

/// A PostgreSQL parameter group shared with read replicas whose hot-standby minimums change.
fn standby_minimums(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let mut notes = Vec::new();
    for (addr, n) in new
        .iter()
        .filter(|(_, n)| n.kind == "aws_db_parameter_group")
    {
        let Some(o) = old.get(addr).filter(|o| o.kind == n.kind) else {
            continue;
        };
        let family = n
            .body
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !family.starts_with("postgres") {
            continue;
        }
        let name = addr.rsplit('.').next().unwrap_or_default();
        let group = format!("${{aws_db_parameter_group.{name}.name}}");
        let users: Vec<&Object> = (new.values())
            .filter(|i| i.kind == "aws_db_instance")
            .filter(|i| i.body.get("parameter_group_name").and_then(Value::as_str) == Some(&group))
            .collect();
        let (replicas, primaries): (Vec<&Object>, Vec<&Object>) =
            (users.iter()).partition(|i| i.body.get("replicate_source_db").is_some());
        if replicas.is_empty() {
            continue;
        }
        let (was, is) = (parameters(&o.body), parameters(&n.body));
        let (mut raised, mut lowered) = (Vec::new(), Vec::new());
        for p in STANDBY_MINIMUMS {
            let (a, b) = (was.get(p).copied(), is.get(p).copied());
            if a == b {
                continue;
            }
            let shown = format!(
                "`{p}` {} → {}",
                a.unwrap_or("(default)"),
                b.unwrap_or("(default)")
            );
            match (
                a.and_then(|v| v.parse::<u64>().ok()),
                b.and_then(|v| v.parse::<u64>().ok()),
            ) {
                (Some(x), Some(y)) if y < x => lowered.push(shown),
                // Raised, or from or to a default or formula the diff cannot compare:
                // replicas first is the order that is safe when it rises.
                _ => raised.push(shown),
            }
        }
        let reboot = |is: &[&Object]| -> String {
            (is.iter())
                .map(|i| {
                    format!(
                        "`aws rds reboot-db-instance --db-instance-identifier {}`",
                        identifier(i)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let replicas_ids: Vec<String> = replicas
            .iter()
            .map(|i| format!("`{}`", identifier(i)))
            .collect();
        if !raised.is_empty() {
            notes.push(format!(
                "WARNING: {addr}: {} — a static setting (applied at each instance's next reboot) the {} read replica(s) {} share with their primary, and a hot standby refuses to replay from a primary whose value is higher than its own (PostgreSQL \"Hot Standby\"). Should the primary reboot first (its maintenance window, a failover), the replicas stop serving. After the apply, reboot the replicas first ({}), then the primary ({})",
                raised.join(", "),
                replicas.len(),
                replicas_ids.join(", "),
                reboot(&replicas),
                reboot(&primaries),
            ));
        }
        if !lowered.is_empty() {
            notes.push(format!(
                "WARNING: {addr}: {} — a static setting (applied at each instance's next reboot) the {} read replica(s) {} share with their primary, and a hot standby refuses to replay from a primary whose value is higher than its own (PostgreSQL \"Hot Standby\"). Should a replica reboot before the primary, it stops serving. After the apply, reboot the primary first ({}), then the replicas ({})",
                lowered.join(", "),
                replicas.len(),
                replicas_ids.join(", "),
                reboot(&primaries),
                reboot(&replicas),
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, body: Value) -> Object {
        Object {
            kind: kind.into(),
            file: "terraform/infra/x.tf.json".into(),
            body,
        }
    }

    #[test]
    fn a_pool_under_a_new_name_is_a_warning_and_a_resize_is_not() {
        let pool = |name: &str, size: u32| {
            BTreeMap::from([(
                format!("infra: {POOL}.x"),
                obj(POOL, json!({"name": name, "size": size})),
            )])
        };
        let renamed = notes(&pool("db-pool", 10), &pool("orders-pool", 10));
        assert_eq!(renamed.len(), 1, "{renamed:?}");
        assert!(renamed[0].contains("`db-pool` goes and `orders-pool` comes"));
        assert!(notes(&pool("db-pool", 10), &pool("db-pool", 20)).is_empty());
        // A pool dropped (the services connect directly again) is no rename.
        assert!(notes(&pool("db-pool", 10), &BTreeMap::new()).is_empty());
    }

    #[test]
    fn standby_minimums_say_which_instance_reboots_first() {
        let out = |max: Option<&str>, replica: bool| {
            let mut params = vec![json!({"name": "rds.force_ssl", "value": "1"})];
            if let Some(m) = max {
                params.push(json!({"name": "max_connections", "value": m}));
            }
            let mut objs = BTreeMap::from([
                (
                    "infra: aws_db_parameter_group.db".to_string(),
                    obj(
                        "aws_db_parameter_group",
                        json!({"family": "postgres17", "parameter": params}),
                    ),
                ),
                (
                    "infra: aws_db_instance.db".to_string(),
                    obj(
                        "aws_db_instance",
                        json!({"identifier": "shop-db", "parameter_group_name": "${aws_db_parameter_group.db.name}"}),
                    ),
                ),
            ]);
            if replica {
                objs.insert(
                    "infra: aws_db_instance.db_replica_1".to_string(),
                    obj(
                        "aws_db_instance",
                        json!({"identifier": "shop-db-r1", "replicate_source_db": "${aws_db_instance.db.identifier}", "parameter_group_name": "${aws_db_parameter_group.db.name}"}),
                    ),
                );
            }
            objs
        };
        let up = notes(&out(Some("200"), true), &out(Some("400"), true));
        assert_eq!(up.len(), 1, "{up:?}");
        assert!(up[0].contains("`max_connections` 200 → 400"), "{up:?}");
        let (r, p) = (
            up[0].find("identifier shop-db-r1").unwrap(),
            up[0].find("identifier shop-db`").unwrap(),
        );
        assert!(r < p, "replicas first: {up:?}");
        let down = notes(&out(Some("400"), true), &out(Some("200"), true));
        let (r, p) = (
            down[0].find("identifier shop-db-r1").unwrap(),
            down[0].find("identifier shop-db`").unwrap(),
        );
        assert!(p < r, "the primary first: {down:?}");
        // From the default: the diff cannot compare, so replicas first.
        assert!(notes(&out(None, true), &out(Some("400"), true))[0].contains("replicas first"));
        // Without replicas nothing to order.
        assert!(notes(&out(Some("200"), false), &out(Some("400"), false)).is_empty());
    }
}
