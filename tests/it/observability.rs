//! Would the alarms fire, and do the logs go where the blueprint says? CloudWatch, the provider schema and moto accept an alarm on any
//! namespace, metric and dimensions; one that names a series AWS does not publish stays in
//! INSUFFICIENT_DATA and pages nobody. Over every shipped AWS blueprint and environment:
//! each alarm's dimensions are exactly those AWS publishes its metric under, each names a
//! resource the same Terraform root module declares (or reads) by the attribute AWS uses as
//! the dimension's value, and its actions reach a topic there. And a load balancer the
//! output creates is watched for 5xx, wherever it is created (on EKS the Load Balancer
//! Controller makes it from `platform`'s Ingress).

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::{matrix, synth};

/// The dimensions AWS publishes a namespace's metrics under (as infragen fills them), and
/// for each, the resource type and attribute its value is read from.
fn published(namespace: &str) -> Option<Vec<(&'static str, &'static str, &'static str)>> {
    Some(match namespace {
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
        "AWS/ApplicationELB" => vec![
            ("LoadBalancer", "aws_lb", "arn_suffix"),
            ("TargetGroup", "aws_lb_target_group", "arn_suffix"),
        ],
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html
        "AWS/ECS" | "ECS/ContainerInsights" => vec![
            ("ClusterName", "aws_ecs_cluster", "name"),
            ("ServiceName", "aws_ecs_service", "name"),
        ],
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/dimensions.html
        "AWS/RDS" => vec![("DBInstanceIdentifier", "aws_db_instance", "identifier")],
        // Per node: each of the replication group's member clusters.
        // https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.html
        "AWS/ElastiCache" => vec![(
            "CacheClusterId",
            "aws_elasticache_replication_group",
            "member_clusters",
        )],
        "AWS/DynamoDB" => vec![("TableName", "aws_dynamodb_table", "name")],
        // Names the manifests give (cluster, namespace, Kubernetes Service): plain text.
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html
        // `PodName` (the owning Deployment's name) for the pod metrics: `eks_alarms.rs`'s
        // restarts alarms; `tests/it/eks_alarms.rs` checks each metric's exact set.
        "ContainerInsights" => vec![
            ("ClusterName", "", ""),
            ("Namespace", "", ""),
            ("Service", "", ""),
            ("PodName", "", ""),
        ],
        "AWS/Scheduler" => vec![("ScheduleGroup", "aws_scheduler_schedule_group", "name")],
        "AWS/AmazonMQ" => vec![("Broker", "aws_mq_broker", "broker_name")],
        // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
        "AWS/SQS" => vec![("QueueName", "aws_sqs_queue", "name")],
        _ => return None,
    })
}

/// `type.name` → declared, for resources and data sources of one root module.
fn declared(module: &[&Value]) -> BTreeMap<String, ()> {
    let mut out = BTreeMap::new();
    for doc in module {
        for (kind, prefix) in [("resource", ""), ("data", "data.")] {
            if let Some(types) = doc.get(kind).and_then(Value::as_object) {
                for (ty, named) in types {
                    for name in named.as_object().unwrap().keys() {
                        out.insert(format!("{prefix}{ty}.{name}"), ());
                    }
                }
            }
        }
    }
    out
}

/// The `(address, attribute)` of a template that interpolates one reference.
fn reference(template: &str) -> Option<(String, String)> {
    let inner = template.strip_prefix("${")?.split('}').next()?;
    // One member of a set attribute, by position: `element(sort(<address>.<attr>), <i>)`.
    let inner = inner
        .strip_prefix("element(sort(")
        .and_then(|r| r.rsplit_once("), "))
        .map_or(inner, |(r, _)| r);
    let (address, attr) = inner.rsplit_once('.')?;
    Some((address.to_string(), attr.to_string()))
}

/// One metric of alarm `at`: its namespace is one infragen fills dimensions for, and each
/// dimension is one AWS publishes there, read from a resource the module declares by the
/// attribute AWS uses.
fn check_metric(at: &str, a: &Value, known: &BTreeMap<String, ()>, problems: &mut Vec<String>) {
    let ns = a["namespace"].as_str().unwrap();
    let Some(table) = published(ns) else {
        problems.push(format!(
            "{at}: namespace {ns} is not one infragen fills dimensions for"
        ));
        return;
    };
    let dims = a["dimensions"].as_object().cloned().unwrap_or_default();
    if dims.is_empty() {
        problems.push(format!(
            "{at}: no dimensions: {ns} publishes nothing without them"
        ));
    }
    for (key, value) in &dims {
        let Some((_, ty, attr)) = table.iter().find(|(k, _, _)| k == key) else {
            problems.push(format!("{at}: {ns} has no dimension {key}"));
            continue;
        };
        let value = value.as_str().unwrap();
        if ty.is_empty() {
            if value.is_empty() || value.contains("${") {
                problems.push(format!("{at}: {key} = {value:?}, expected a name"));
            }
            continue;
        }
        match reference(value) {
            Some((addr, a))
                if addr
                    .trim_start_matches("data.")
                    .starts_with(&format!("{ty}."))
                    && a == *attr =>
            {
                if !known.contains_key(&addr) {
                    problems.push(format!(
                        "{at}: {key} reads {addr}, which the module does not declare"
                    ));
                }
            }
            _ => problems.push(format!(
                "{at}: {key} = {value}, expected the {attr} of a {ty}"
            )),
        }
    }
}

/// Every AWS target of the matrix (shipped blueprints, workload fixtures), plus the
/// new-user and day-2 fixtures that configure AWS, each in every environment.
fn aws_targets() -> Vec<(String, std::path::PathBuf, Provider, String)> {
    let mut out: Vec<_> = matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == Provider::Aws)
        .collect();
    for dir in ["tests/fixtures/new-user", "tests/fixtures/day2"] {
        let mut paths: Vec<_> = std::fs::read_dir(crate::support::root().join(dir))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            for (p, env) in crate::support::targets(&path) {
                if p == Provider::Aws {
                    out.push((stem.clone(), path.clone(), p, env));
                }
            }
        }
    }
    out
}

#[test]
fn every_alarm_names_a_published_series_of_a_resource_infragen_creates() {
    let mut alarms_seen = 0;
    let mut problems = Vec::new();
    for (stem, path, provider, env) in aws_targets() {
        let out = synth(&path, provider, &env);
        let mut modules: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (file, text) in &out.files {
            if let Some(rest) = file.strip_prefix("terraform/")
                && file.ends_with(".tf.json")
            {
                let module = rest.split('/').next().unwrap().to_string();
                modules
                    .entry(module)
                    .or_default()
                    .push(serde_json::from_str(text).unwrap());
            }
        }
        let mut five_xx = false;
        let mut load_balancers = 0;
        for (module, docs) in &modules {
            let docs: Vec<&Value> = docs.iter().collect();
            let known = declared(&docs);
            load_balancers += known.keys().filter(|a| a.starts_with("aws_lb.")).count();
            // The Load Balancer Controller's ALB, made from a Terraform-managed Ingress.
            load_balancers += docs
                .iter()
                .filter_map(|d| d.pointer("/resource/kubernetes_ingress_v1"))
                .filter_map(Value::as_object)
                .flat_map(|o| o.values())
                .filter(|i| i.pointer("/spec/ingress_class_name") == Some(&"alb".into()))
                .count();
            for doc in &docs {
                let Some(found) = doc
                    .pointer("/resource/aws_cloudwatch_metric_alarm")
                    .and_then(Value::as_object)
                else {
                    continue;
                };
                for (name, a) in found {
                    alarms_seen += 1;
                    let at = format!("{stem} {env} {module}: alarm {name}");
                    for action in ["alarm_actions", "ok_actions"] {
                        let targets = a[action].as_array().cloned().unwrap_or_default();
                        let reaches = targets.iter().any(|t| {
                            reference(t.as_str().unwrap_or_default()).is_some_and(|(addr, _)| {
                                addr.ends_with("aws_sns_topic.alerts") && known.contains_key(&addr)
                            })
                        });
                        if !reaches {
                            problems
                                .push(format!("{at}: {action} reach no alert topic of {module}"));
                        }
                    }
                    if a["metric_name"] == "HTTPCode_ELB_5XX_Count" {
                        five_xx = true;
                    }
                    // The metric itself, or each metric a metric-math alarm reads (a
                    // Metrics Insights query names its own schema).
                    match a.get("metric_query") {
                        None => check_metric(&at, a, &known, &mut problems),
                        Some(q) => {
                            for m in q.as_array().unwrap().iter().filter_map(|q| q.get("metric")) {
                                check_metric(&at, m, &known, &mut problems);
                            }
                        }
                    }
                }
            }
        }
        if load_balancers > 0 && !five_xx {
            problems.push(format!(
                "{stem} {env}: the output creates a load balancer and no alarm watches its 5xx"
            ));
        }
    }
    assert!(alarms_seen > 10, "only {alarms_seen} alarms seen");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// On EKS behind ingress-nginx the ALB is the Load Balancer Controller's, made from
/// `platform`'s Ingress: a blueprint alarm on `load_balancer` is made there, on that ALB,
/// instead of being left out of `infra` (which cannot name it) with a note.
#[test]
fn a_load_balancer_alarm_on_eks_watches_the_controllers_alb() {
    let path = crate::support::root().join("blueprints/ecommerce-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "\nobservability:\n",
        "observability:
  alarms:
    - { name: edge-latency, namespace: AWS/ApplicationELB, metric: TargetResponseTime, statistic: Maximum, period: 60, evaluation_periods: 3, threshold: 2, comparison: \">\", target: load_balancer }
",
    );
    let out = infragen::synthesize(
        "ecommerce-eks.yaml",
        text.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        !out.notes.iter().any(|n| n.text.contains("edge-latency")),
        "{:?}",
        out.notes
    );
    let alarm = crate::support::resources(&out, "platform", "aws_cloudwatch_metric_alarm")
        .into_iter()
        .find(|a| a["alarm_name"] == "edge-latency")
        .expect("the edge-latency alarm in platform");
    assert_eq!(
        alarm["dimensions"]["LoadBalancer"], "${data.aws_lb.edge.arn_suffix}",
        "{alarm}"
    );
    assert_eq!(
        alarm["alarm_actions"][0],
        "${data.aws_sns_topic.alerts.arn}"
    );
}

/// ElastiCache publishes per node (`CacheClusterId` = each of the group's `member_clusters`):
/// an alarm on a cache watches every node, the worst of them, not only the first member — which after a
/// failover is a replica, while the primary it was meant to watch runs unwatched.
#[test]
fn a_cache_alarm_watches_every_node() {
    let yaml = crate::support::ecs_stack(
        "shop",
        "caches:
  - { name: sessions, engine: valkey, size: small, nodes: 3, ha: true }
services:
  - { name: api, image: ghcr.io/shop/api:1.0.0, port: 8080, uses: [sessions] }
observability:
  notify: [oncall@example.com]
  alarms:
    - { name: cache-cpu, namespace: AWS/ElastiCache, metric: EngineCPUUtilization, period: 60, evaluation_periods: 3, threshold: 80, comparison: \">\", target: sessions }
    - { name: cache-memory, namespace: AWS/ElastiCache, metric: FreeableMemory, statistic: Minimum, period: 60, evaluation_periods: 3, threshold: 100000000, comparison: \"<\", target: sessions }
",
    );
    let out = crate::support::synth_aws("shop", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let alarms = crate::support::resources(&out, "infra", "aws_cloudwatch_metric_alarm");
    for (name, worst) in [("cache-cpu", "MAX"), ("cache-memory", "MIN")] {
        let a = alarms
            .iter()
            .find(|a| a["alarm_name"] == name)
            .unwrap_or_else(|| panic!("alarm {name}"));
        let queries = a["metric_query"].as_array().expect("metric math");
        let nodes: Vec<&str> = queries
            .iter()
            .filter_map(|q| q.pointer("/metric/dimensions/CacheClusterId"))
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            nodes,
            [
                "${element(sort(aws_elasticache_replication_group.sessions.member_clusters), 0)}",
                "${element(sort(aws_elasticache_replication_group.sessions.member_clusters), 1)}",
                "${element(sort(aws_elasticache_replication_group.sessions.member_clusters), 2)}",
            ],
            "{a}"
        );
        let returned: Vec<&Value> = queries
            .iter()
            .filter(|q| q["return_data"] == true)
            .collect();
        assert_eq!(returned.len(), 1, "{a}");
        assert_eq!(
            returned[0]["expression"],
            format!("{worst}([m1, m2, m3])"),
            "{a}"
        );
    }
}

/// `observability.log_retention_days` promises logs kept for that long; DigitalOcean and
/// `--provider kubernetes` output ship container logs nowhere, and say so rather than keep
/// the promise silently.
#[test]
fn log_retention_is_not_promised_where_no_logs_are_shipped() {
    let path = crate::support::root().join("blueprints/ecommerce-doks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "\nenvironments:",
        "\nobservability:\n  log_retention_days: 14\nenvironments:",
    );
    for provider in [Provider::Digitalocean, Provider::Kubernetes] {
        let out = infragen::synthesize(
            "ecommerce-doks.yaml",
            text.as_bytes(),
            provider,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"));
        assert!(
            out.notes
                .iter()
                .any(|n| n.text.contains("log_retention_days (14)")
                    && n.text.contains("ships no container logs")),
            "{provider}: {:?}",
            out.notes
        );
    }
}

/// ALB counts (`RequestCount`, `HTTPCode_*`) are published only for periods with requests:
/// a missing period is a zero. An alarm meant to fire when traffic stops must treat it as
/// breaching (with `missing` it sat in INSUFFICIENT_DATA exactly when traffic stopped), an
/// errors alarm as not breaching; an average of nothing stays `missing`.
#[test]
fn a_missing_count_is_a_zero() {
    let yaml = crate::support::ecs_stack(
        "shop",
        "load_balancer:
  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000\" }
services:
  - { name: api, image: ghcr.io/shop/api:1.0.0, port: 8080, routes: [{ path: / }] }
observability:
  notify: [oncall@example.com]
  alarms:
    - { name: no-traffic, namespace: AWS/ApplicationELB, metric: RequestCount, statistic: Sum, period: 300, evaluation_periods: 2, threshold: 1, comparison: \"<\", target: load_balancer }
    - { name: errors, namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count, statistic: Sum, period: 60, evaluation_periods: 1, threshold: 5, comparison: \">\", target: load_balancer }
    - { name: cpu, namespace: AWS/ECS, metric: CPUUtilization, period: 300, evaluation_periods: 2, threshold: 80, comparison: \">\", target: api }
",
    );
    let out = crate::support::synth_aws("shop", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let alarms = crate::support::resources(&out, "infra", "aws_cloudwatch_metric_alarm");
    for (name, treat) in [
        ("no-traffic", "breaching"),
        ("errors", "notBreaching"),
        ("cpu", "missing"),
    ] {
        let a = alarms
            .iter()
            .find(|a| a["alarm_name"] == name)
            .unwrap_or_else(|| panic!("alarm {name}"));
        assert_eq!(a["treat_missing_data"], treat, "{a}");
    }
}

/// Each RDS instance publishes under its own `DBInstanceIdentifier`: an alarm on a database
/// with read replicas watches the replicas too (they serve the reads and fill up alike), the
/// worst of all, not only the primary.
#[test]
fn a_database_alarm_watches_its_read_replicas() {
    let path = crate::support::root().join("blueprints/qurable-ecs.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let alarm = crate::support::resources(&out, "infra", "aws_cloudwatch_metric_alarm")
        .into_iter()
        .find(|a| a["alarm_name"] == "qurable-db-connections-high")
        .expect("the seed's database alarm");
    let queries = alarm["metric_query"].as_array().expect("metric math");
    let mut instances: Vec<&str> = queries
        .iter()
        .filter_map(|q| q.pointer("/metric/dimensions/DBInstanceIdentifier"))
        .map(|v| v.as_str().unwrap())
        .collect();
    instances.sort();
    assert_eq!(
        instances,
        [
            "${aws_db_instance.db.identifier}",
            "${aws_db_instance.db_replica.identifier}"
        ],
        "{alarm}"
    );
    assert!(
        queries
            .iter()
            .any(|q| q["expression"] == "MAX([m1, m2])" && q["return_data"] == true),
        "{alarm}"
    );
}

/// What CloudWatch would decide for `alarm` when the service behind `group` is down at
/// night: no target healthy (the `HealthyHostCount` series publishes nothing, or 0), none
/// kept unhealthy (ECS replaced them), no request, so no 5xx either. `true`: ALARM.
fn fires_when_down_without_traffic(alarm: &Value) -> bool {
    // A down service: every series is missing but `UnHealthyHostCount`, which is 0.
    let value = |metric: &str| (metric == "UnHealthyHostCount").then_some(0.0);
    let threshold = alarm["threshold"].as_f64().unwrap();
    let breaches = |v: f64| match alarm["comparison_operator"].as_str().unwrap() {
        "GreaterThanThreshold" => v > threshold,
        "GreaterThanOrEqualToThreshold" => v >= threshold,
        "LessThanThreshold" => v < threshold,
        "LessThanOrEqualToThreshold" => v <= threshold,
        other => panic!("comparison {other}"),
    };
    let missing = || alarm["treat_missing_data"] == "breaching";
    if let Some(queries) = alarm["metric_query"].as_array() {
        let metrics: Vec<Option<f64>> = queries
            .iter()
            .filter_map(|q| q["metric"]["metric_name"].as_str())
            .map(value)
            .collect();
        let expression = queries
            .iter()
            .find(|q| q["return_data"] == true)
            .and_then(|q| q["expression"].as_str())
            .unwrap_or_default();
        // `FILL(m, 0)` makes a missing series a zero; the sum of fills is all this knows.
        if expression.contains("FILL(") && expression.contains('+') {
            return breaches(metrics.iter().map(|m| m.unwrap_or(0.0)).sum());
        }
        return match metrics.iter().flatten().next() {
            Some(v) => breaches(*v),
            None => missing(),
        };
    }
    match value(alarm["metric_name"].as_str().unwrap_or_default()) {
        Some(v) => breaches(v),
        None => missing(),
    }
}

/// Every ECS service behind a load balancer that runs at least one task pages when it is down
/// and nobody is calling it (the night a deploy's tasks crash at start): an alarm on its
/// target group goes to ALARM on the series a down service publishes, and notifies a topic.
#[test]
fn a_routed_ecs_service_that_is_down_pages_without_traffic() {
    let mut services = 0;
    let mut problems = Vec::new();
    for (stem, path, provider, env) in aws_targets() {
        let out = synth(&path, provider, &env);
        let Some(ecs) = out.files.get("terraform/infra/ecs.tf.json") else {
            continue;
        };
        let Some(obs) = out.files.get("terraform/infra/observability.tf.json") else {
            continue;
        };
        let ecs: Value = serde_json::from_str(ecs).unwrap();
        let obs: Value = serde_json::from_str(obs).unwrap();
        let alarms = obs["resource"]["aws_cloudwatch_metric_alarm"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let Some(ecs_services) = ecs["resource"]["aws_ecs_service"].as_object() else {
            continue;
        };
        for (name, s) in ecs_services {
            let Some(group) = s["load_balancer"][0]["target_group_arn"].as_str() else {
                continue;
            };
            if s["desired_count"].as_u64() == Some(0) {
                continue;
            }
            services += 1;
            // `${aws_lb_target_group.web.arn}` → `aws_lb_target_group.web.`
            let group = group.trim_start_matches("${").trim_end_matches("arn}");
            let pages = alarms.iter().any(|(_, a)| {
                a.to_string().contains(group)
                    && a["alarm_actions"].as_array().is_some_and(|v| !v.is_empty())
                    && fires_when_down_without_traffic(a)
            });
            if !pages {
                problems.push(format!(
                    "{stem} --env {env}: `{name}` down without traffic raises no alarm"
                ));
            }
        }
    }
    assert!(services >= 10, "only {services} routed ECS services seen");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// On DigitalOcean, `observability.notify` pages someone when the site is down: for every
/// public host, an Uptime check of that host over the scheme it serves (the readiness path of
/// the service routed at `/`, so a 404 at `/` is not "down"), an alert when it is down from
/// every region and one when its certificate nears its end, each e-mailing exactly the
/// blueprint's addresses. Before, DigitalOcean output alerted nobody (a note said so).
#[test]
fn notify_on_digitalocean_checks_every_public_host_and_mails_the_addresses() {
    let path = crate::support::root().join("tests/fixtures/new-user/quire-django-uploads.yaml");
    let out = synth(&path, Provider::Digitalocean, "production");
    let uptime: Value = serde_json::from_str(
        out.files
            .get("terraform/infra/uptime.tf.json")
            .expect("an Uptime check in infra"),
    )
    .unwrap();
    let checks = uptime["resource"]["digitalocean_uptime_check"]
        .as_object()
        .unwrap();
    let alerts = uptime["resource"]["digitalocean_uptime_alert"]
        .as_object()
        .unwrap();
    // The host the Ingress serves, over TLS, at web's readiness path.
    let targets: Vec<&str> = checks.values().map(|c| s(&c["target"])).collect();
    assert_eq!(targets, ["https://quire.example.com/healthz"]);
    let (key, _) = checks.iter().next().unwrap();
    let reference = format!("${{digitalocean_uptime_check.{key}.id}}");
    let mut kinds: Vec<&str> = alerts
        .values()
        .filter(|a| s(&a["check_id"]) == reference)
        .map(|a| {
            assert_eq!(
                a["notifications"][0]["email"],
                serde_json::json!(["oncall@quire.example.com"])
            );
            s(&a["type"])
        })
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["down_global", "ssl_expiry"]);
    // The AWS output of the same blueprint subscribes the same address to its topic.
    let aws = synth(&path, Provider::Aws, "production");
    assert!(crate::support::flatten(&aws).contains("oncall@quire.example.com"));
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A service's `no-healthy-hosts` alarm pages only for an outage, never for what the
/// blueprint itself asks the service to do. A scheduled action with `min: 0` (staging
/// stopped at night) leaves the service with no task every night: the alarm would page
/// then, every night, so it is left out and a note says so. `min_healthy_percent: 0` lets
/// ECS stop every running task before the new ones pass their checks, as `recreate` does:
/// the alarm waits as long as a recreate service's.
#[test]
fn no_healthy_hosts_does_not_page_for_what_the_blueprint_asks() {
    let service = |extra: &str| {
        crate::support::ecs_stack(
            "nightly",
            &format!(
                "load_balancer: {{ certificate: {{ domain: nightly.example.com }} }}
observability: {{ notify: [ops@example.com] }}
services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    routes: [{{ path: / }}]
{extra}"
            ),
        )
    };
    let alarm = |out: &infragen::Output| {
        let obs: Value =
            serde_json::from_str(&out.files["terraform/infra/observability.tf.json"]).unwrap();
        obs["resource"]["aws_cloudwatch_metric_alarm"]["web_no_healthy_hosts"].clone()
    };
    let synth = |extra: &str| {
        crate::support::synth_aws("nightly", &service(extra)).unwrap_or_else(|e| panic!("{e}"))
    };

    // Always running: the alarm pages after 3 minutes.
    let always = synth("    autoscaling: { min: 1, max: 3, cpu_percent: 70 }\n");
    assert_eq!(
        alarm(&always)["evaluation_periods"],
        3,
        "{}",
        alarm(&always)
    );

    // Stopped every night by a scheduled action: no alarm, and the note says why.
    let nightly = synth(
        "    autoscaling:
      min: 1
      max: 3
      cpu_percent: 70
      scheduled:
        - { name: night, schedule: cron(0 20 ? * MON-FRI *), min: 0, max: 0 }
        - { name: morning, schedule: cron(0 7 ? * MON-FRI *), min: 1, max: 3 }
",
    );
    assert!(
        alarm(&nightly).is_null(),
        "pages every night at 20:00: {}",
        alarm(&nightly)
    );
    assert!(
        nightly
            .notes
            .iter()
            .any(|n| n.text.contains("web-no-healthy-hosts") && n.text.contains("night")),
        "the missing alarm is not said: {:?}",
        nightly.notes
    );

    // `min_healthy_percent: 0`: every deploy may have no healthy task for minutes.
    let stop_first =
        synth("    replicas: 1\n    rollout: { min_healthy_percent: 0, max_percent: 100 }\n");
    assert_eq!(
        alarm(&stop_first)["evaluation_periods"],
        alarm(&synth(
            "    replicas: 1\n    rollout: { strategy: recreate }\n"
        ))["evaluation_periods"],
        "{}",
        alarm(&stop_first)
    );
}

/// Terraform names keep letters, digits and `_` only: hosts `quire-a.example.com` and
/// `quire.a.example.com` both made `site_quire_a_example_com`, one JSON key, so the second
/// host's check replaced the first's and one public host went unwatched without a word.
/// Each host gets its own check and its own alerts.
#[test]
fn hosts_whose_names_differ_only_in_punctuation_each_get_an_uptime_check() {
    let path = crate::support::root().join("tests/fixtures/new-user/quire-django-uploads.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  hosts: [quire.example.com]",
        "  hosts: [quire.example.com, quire-a.example.com, quire.a.example.com]",
    );
    assert!(text.contains("quire-a.example.com"), "fixture changed");
    let out = infragen::synthesize(
        "quire.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let uptime: Value =
        serde_json::from_str(out.files.get("terraform/infra/uptime.tf.json").unwrap()).unwrap();
    let checks = uptime["resource"]["digitalocean_uptime_check"]
        .as_object()
        .unwrap();
    let mut targets: Vec<&str> = checks
        .values()
        .map(|c| s(&c["target"]).split('/').nth(2).unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "quire-a.example.com",
            "quire.a.example.com",
            "quire.example.com"
        ]
    );
    // Each check has its own down alert.
    let alerts = uptime["resource"]["digitalocean_uptime_alert"]
        .as_object()
        .unwrap();
    for key in checks.keys() {
        let reference = format!("${{digitalocean_uptime_check.{key}.id}}");
        assert!(
            alerts
                .values()
                .any(|a| s(&a["check_id"]) == reference && s(&a["type"]) == "down_global"),
            "{key}: no down alert"
        );
    }
    // A host no other shares its key with keeps the plain key (no address moves).
    assert!(checks.contains_key("site_quire_example_com"), "{checks:?}");
}

/// An Uptime check requests the public host through the ingress, which goes to the service's
/// port: a readiness probe on a port of its own (a management port) names a path the host does
/// not serve, so the check asks `/` instead of a path that answers 404 for ever; and a host whose
/// `/` is a gRPC service gets no check (a plain HTTP GET never succeeds there), said in a note.
#[test]
fn uptime_checks_ask_only_what_the_public_host_answers() {
    let path = crate::support::root().join("tests/fixtures/new-user/quire-django-uploads.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let synth = |text: &str| {
        infragen::synthesize(
            "quire.yaml",
            text.as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let targets = |out: &infragen::Output| -> Vec<String> {
        out.files
            .get("terraform/infra/uptime.tf.json")
            .map(|f| {
                let uptime: Value = serde_json::from_str(f).unwrap();
                uptime["resource"]["digitalocean_uptime_check"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|c| s(&c["target"]).to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let probe = "      readiness: { path: /healthz, headers: { Host: quire.example.com } }";
    assert!(text.contains(probe), "fixture changed");

    // The probe on the service's port: its path.
    assert_eq!(
        targets(&synth(&text)),
        ["https://quire.example.com/healthz"]
    );
    // The probe on a management port: the host's `/`.
    let own_port = text.replace(
        probe,
        "      readiness: { path: /healthz, port: 8081, headers: { Host: quire.example.com } }",
    );
    assert_eq!(targets(&synth(&own_port)), ["https://quire.example.com/"]);
    // gRPC at `/`: no check, and the note names the host.
    let grpc = text.replace(
        "    port: 8000\n    command: [gunicorn",
        "    port: 8000\n    protocol: grpc\n    command: [gunicorn",
    );
    assert!(grpc.contains("protocol: grpc"), "fixture changed");
    let out = synth(&grpc);
    assert!(targets(&out).is_empty(), "{:?}", targets(&out));
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("quire.example.com") && n.text.contains("gRPC")),
        "{:?}",
        out.notes
    );
}
