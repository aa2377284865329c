//! On AWS, the alert topic hears of the data services' slow outages too, as DigitalOcean's
//! `notify` does: every RDS instance (primary and read replicas) has a CPU and a free-storage
//! alarm, every ElastiCache node an engine-CPU and a memory alarm — aimed at the output's own
//! resources by reference, the storage threshold in bytes from the blueprint's storage, none
//! without the topic, and a blueprint alarm on the same target and metric instead of the
//! default.

use serde_json::Value;

use crate::support::{blocks, cloud_outputs, ecs_stack, resources, synth_aws};

const GIB: u64 = 1 << 30;

/// Every metric an alarm reads: (namespace, metric, dimensions).
fn series(alarm: &Value) -> Vec<(String, String, Value)> {
    let one = |m: &Value, name: &str, stat_ns: &str| {
        (
            m[stat_ns].as_str().unwrap_or_default().to_string(),
            m[name].as_str().unwrap_or_default().to_string(),
            m["dimensions"].clone(),
        )
    };
    match alarm["metric_query"].as_array() {
        Some(queries) => queries
            .iter()
            .filter(|q| q["metric"].is_object())
            .map(|q| one(&q["metric"], "metric_name", "namespace"))
            .collect(),
        None => vec![one(alarm, "metric_name", "namespace")],
    }
}

/// The alarms of `infra` reading `metric` of `namespace` with `dims` among their series.
fn watching<'a>(
    alarms: &'a [Value],
    namespace: &str,
    metric: &str,
    dims: &Value,
) -> Vec<&'a Value> {
    alarms
        .iter()
        .filter(|a| {
            series(a)
                .iter()
                .any(|(ns, m, d)| ns == namespace && m == metric && d == dims)
        })
        .collect()
}

/// The `i`-th (from 0) of the cache `key`'s nodes, by the ids the replication group reports.
fn member(key: &str, i: u64) -> String {
    format!("${{element(sort(aws_elasticache_replication_group.{key}.member_clusters), {i})}}")
}

fn has_topic(out: &infragen::Output) -> bool {
    !resources(out, "infra", "aws_sns_topic").is_empty()
}

/// The instances of `infra` (key, body).
fn keyed(out: &infragen::Output, ty: &str) -> Vec<(String, Value)> {
    blocks(out, "infra", "resource", ty)
}

#[test]
fn every_rds_instance_and_cache_node_of_every_aws_output_with_a_topic_is_watched() {
    let mut dbs = 0;
    let mut nodes = 0;
    let mut thresholds = 0;
    for (label, out) in cloud_outputs() {
        let alarms = resources(&out, "infra", "aws_cloudwatch_metric_alarm");
        let instances = keyed(&out, "aws_db_instance");
        let groups = keyed(&out, "aws_elasticache_replication_group");
        let params = keyed(&out, "aws_elasticache_parameter_group");
        if !has_topic(&out) {
            // No topic, no alarm on them.
            for (key, _) in &instances {
                let dims = serde_json::json!({"DBInstanceIdentifier": format!("${{aws_db_instance.{key}.identifier}}")});
                assert!(
                    watching(&alarms, "AWS/RDS", "CPUUtilization", &dims).is_empty(),
                    "{label}"
                );
            }
            continue;
        }
        for (key, body) in &instances {
            dbs += 1;
            let dims = serde_json::json!({"DBInstanceIdentifier": format!("${{aws_db_instance.{key}.identifier}}")});
            let cpu = watching(&alarms, "AWS/RDS", "CPUUtilization", &dims);
            assert_eq!(
                cpu.len(),
                1,
                "{label}: aws_db_instance.{key}: CPU alarms {cpu:#?}"
            );
            let storage = watching(&alarms, "AWS/RDS", "FreeStorageSpace", &dims);
            assert_eq!(
                storage.len(),
                1,
                "{label}: aws_db_instance.{key}: storage alarms"
            );
            let s = storage[0];
            let default = keyed(&out, "aws_cloudwatch_metric_alarm")
                .into_iter()
                .any(|(k, a)| k.starts_with("database_") && a == *s);
            if default {
                thresholds += 1;
                // The default: bytes from the instance's allocated storage (a replica has its
                // primary's), 15 %, or 5 % under storage autoscaling.
                let gb = body["allocated_storage"].as_u64().unwrap();
                let percent = if body["max_allocated_storage"].is_null() {
                    15
                } else {
                    5
                };
                assert_eq!(
                    s["threshold"].as_f64().unwrap(),
                    (gb * GIB * percent / 100) as f64,
                    "{label}: {key}"
                );
                assert_eq!(s["comparison_operator"], "LessThanThreshold");
                assert_eq!(s["treat_missing_data"], "missing");
            }
            for a in cpu.iter().chain(&storage) {
                assert_eq!(
                    a["alarm_actions"][0], "${aws_sns_topic.alerts.arn}",
                    "{label}"
                );
            }
        }
        for (key, body) in &groups {
            let n = body["num_cache_clusters"].as_u64().unwrap();
            // A cache evicting any key (`allkeys-*`) runs full by design: no memory alarm.
            let evicts = params
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, p)| p["parameter"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    p["name"] == "maxmemory-policy"
                        && p["value"]
                            .as_str()
                            .is_some_and(|v| v.starts_with("allkeys-"))
                });
            let metrics: &[&str] = if evicts {
                &["EngineCPUUtilization"]
            } else {
                &["EngineCPUUtilization", "DatabaseMemoryUsagePercentage"]
            };
            for i in 0..n {
                nodes += 1;
                let dims = serde_json::json!({ "CacheClusterId": member(key, i) });
                for metric in metrics {
                    let found = watching(&alarms, "AWS/ElastiCache", metric, &dims);
                    assert_eq!(found.len(), 1, "{label}: {key} node {i}: {metric}");
                    assert_eq!(found[0]["alarm_actions"][0], "${aws_sns_topic.alerts.arn}");
                }
            }
        }
    }
    // The shipped outputs hold databases with replicas and multi-node caches under a topic.
    assert!(
        dbs >= 4 && nodes >= 4 && thresholds >= 2,
        "{dbs} instances, {nodes} nodes, {thresholds} default storage thresholds"
    );
}

fn stack(observability: &str, storage: &str) -> String {
    ecs_stack(
        "ledger",
        &format!(
            "databases:
  - name: db
    engine: postgres
    size: db.m7g.large
    replicas: 1
    storage: {storage}
caches:
  - name: sessions
    engine: valkey
    size: cache.t4g.small
    nodes: 2
{observability}"
        ),
    )
}

fn alarm(out: &infragen::Output, name: &str) -> Option<Value> {
    resources(out, "infra", "aws_cloudwatch_metric_alarm")
        .into_iter()
        .find(|a| a["alarm_name"] == name)
}

const NOTIFY: &str = "observability:\n  notify: [ops@example.com]\n";

#[test]
fn free_storage_threshold_is_bytes_of_the_allocated_storage_below_the_autoscaling_trigger() {
    let fixed = synth_aws("ledger", &stack(NOTIFY, "{ size_gb: 50 }")).unwrap();
    let a = alarm(&fixed, "ledger-production-db-storage").expect("storage alarm");
    assert_eq!(
        a["threshold"].as_f64().unwrap(),
        (50 * GIB * 15 / 100) as f64
    );
    // The primary and its replica, the lowest free space of the two.
    let q = a["metric_query"].as_array().unwrap();
    assert_eq!(
        q[0]["metric"]["dimensions"]["DBInstanceIdentifier"],
        "${aws_db_instance.db.identifier}"
    );
    assert_eq!(
        q[1]["metric"]["dimensions"]["DBInstanceIdentifier"],
        "${aws_db_instance.db_replica.identifier}"
    );
    assert_eq!(q[2]["expression"], "MIN([m1, m2])");

    // RDS grows the volume at 10 % free: the alarm waits below it.
    let grows = synth_aws(
        "ledger",
        &stack(NOTIFY, "{ size_gb: 50, max_size_gb: 200 }"),
    )
    .unwrap();
    let a = alarm(&grows, "ledger-production-db-storage").expect("storage alarm");
    assert_eq!(
        a["threshold"].as_f64().unwrap(),
        (50 * GIB * 5 / 100) as f64
    );

    let cpu = alarm(&grows, "ledger-production-db-cpu").expect("cpu alarm");
    assert_eq!(cpu["threshold"].as_f64(), Some(90.0));
    assert_eq!(cpu["evaluation_periods"], 10);
    let mem = alarm(&grows, "ledger-production-sessions-memory").expect("memory alarm");
    let q = mem["metric_query"].as_array().unwrap();
    assert_eq!(
        q[1]["metric"]["dimensions"]["CacheClusterId"],
        member("sessions", 1)
    );
    assert!(alarm(&grows, "ledger-production-sessions-cpu").is_some());
}

#[test]
fn no_topic_no_data_alarms() {
    // Without `observability` (and no load balancer or job), nothing alarms and no topic is
    // made; with it, the data services alone make the topic.
    let out = synth_aws("ledger", &stack("", "{ size_gb: 50 }")).unwrap();
    assert!(!has_topic(&out));
    assert!(resources(&out, "infra", "aws_cloudwatch_metric_alarm").is_empty());
    let out = synth_aws("ledger", &stack(NOTIFY, "{ size_gb: 50 }")).unwrap();
    assert!(has_topic(&out));
    assert_eq!(
        resources(&out, "infra", "aws_cloudwatch_metric_alarm").len(),
        4
    );
}

#[test]
fn a_blueprint_alarm_on_the_same_target_and_metric_replaces_the_default() {
    let obs = "observability:
  notify: [ops@example.com]
  alarms:
    - name: db-cpu-high
      namespace: AWS/RDS
      metric: CPUUtilization
      period: 300
      evaluation_periods: 3
      threshold: 75
      comparison: \">\"
      target: db
    - name: sessions-memory
      namespace: AWS/ElastiCache
      metric: DatabaseMemoryUsagePercentage
      period: 60
      evaluation_periods: 5
      threshold: 80
      comparison: \">\"
      target: sessions
";
    let out = synth_aws("ledger", &stack(obs, "{ size_gb: 50 }")).unwrap();
    assert!(alarm(&out, "ledger-production-db-cpu").is_none());
    assert!(alarm(&out, "ledger-production-sessions-memory").is_none());
    assert!(alarm(&out, "db-cpu-high").is_some());
    assert!(alarm(&out, "sessions-memory").is_some());
    // The others stay.
    assert!(alarm(&out, "ledger-production-db-storage").is_some());
    assert!(alarm(&out, "ledger-production-sessions-cpu").is_some());
}

#[test]
fn a_cache_meant_to_run_full_gets_no_memory_alarm_and_says_so() {
    let text = stack(NOTIFY, "{ size_gb: 50 }").replace(
        "    nodes: 2\n",
        "    nodes: 2\n    parameters: { maxmemory-policy: allkeys-lru }\n",
    );
    let out = synth_aws("ledger", &text).unwrap();
    assert!(alarm(&out, "ledger-production-sessions-memory").is_none());
    assert!(alarm(&out, "ledger-production-sessions-cpu").is_some());
    assert!(
        out.notes
            .iter()
            .any(|n| n.to_string().contains("maxmemory-policy: allkeys-lru")),
        "{:?}",
        out.notes
    );
}

#[test]
fn a_blueprint_alarm_taking_a_default_name_is_refused() {
    // Same alarm name, another metric: PutMetricAlarm would overwrite one with the other.
    let obs = "observability:
  notify: [ops@example.com]
  alarms:
    - name: ledger-production-db-storage
      namespace: AWS/RDS
      metric: ReadLatency
      period: 60
      evaluation_periods: 5
      threshold: 0.05
      comparison: \">\"
      target: db
";
    let e = synth_aws("ledger", &stack(obs, "{ size_gb: 50 }")).unwrap_err();
    assert!(e.contains("ledger-production-db-storage"), "{e}");
    assert!(e.contains("an alarm name of its own"), "{e}");
}

/// RDS allows 15 read replicas; CloudWatch's metric math alarm reads at most 10 metrics
/// (a hard limit PutMetricAlarm enforces at apply, not `terraform validate`). Thirteen
/// instances are watched by alarms of ten series at most, each instance by one of them.
#[test]
fn a_database_with_more_instances_than_an_alarm_reads_is_watched_by_several() {
    let yaml = stack(NOTIFY, "{ size_gb: 50 }").replace("replicas: 1", "replicas: 12");
    let out = synth_aws("ledger", &yaml).unwrap();
    let alarms = resources(&out, "infra", "aws_cloudwatch_metric_alarm");
    for a in &alarms {
        let metrics = series(a).len();
        assert!(metrics <= 10, "{} reads {metrics} metrics", a["alarm_name"]);
    }
    let instances = keyed(&out, "aws_db_instance");
    assert_eq!(instances.len(), 13);
    for metric in ["CPUUtilization", "FreeStorageSpace"] {
        for (key, _) in &instances {
            let dims = serde_json::json!({
                "DBInstanceIdentifier": format!("${{aws_db_instance.{key}.identifier}}")
            });
            let by = watching(&alarms, "AWS/RDS", metric, &dims);
            assert_eq!(by.len(), 1, "{key} {metric}: {} alarms", by.len());
        }
    }
    let second = alarm(&out, "ledger-production-db-cpu-2").expect("second CPU alarm");
    assert_eq!(second["threshold"].as_f64(), Some(90.0));
    assert!(alarm(&out, "ledger-production-db-storage-2").is_some());
}

#[test]
fn cache_alarms_read_the_node_ids_the_replication_group_reports_not_numbers_spelt_from_nodes() {
    // After `nodes: 3` → `2` ElastiCache removes a replica of its choosing (DecreaseReplicaCount
    // with NewReplicaCount only), never the primary: `-001` and `-003` may be what is left.
    // Each series is one of the group's own `member_clusters`, sorted, so whichever ids
    // remain are the ones watched; none is a `<id>-00N` that may no longer exist.
    let out = synth_aws(
        "ledger",
        &stack(NOTIFY, "{ size_gb: 50 }").replace("nodes: 2", "nodes: 3"),
    )
    .unwrap();
    for name in [
        "ledger-production-sessions-cpu",
        "ledger-production-sessions-memory",
    ] {
        let a = alarm(&out, name).expect(name);
        let ids: Vec<Value> = series(&a).into_iter().map(|(_, _, d)| d).collect();
        let expected: Vec<Value> = (0..3)
            .map(|i| serde_json::json!({ "CacheClusterId": member("sessions", i) }))
            .collect();
        assert_eq!(ids, expected, "{name}");
        assert!(!a.to_string().contains("-00"), "{name}: {a}");
    }
}
