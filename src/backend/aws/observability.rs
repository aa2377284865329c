//! Alarms: an SNS topic (encrypted with the `alerts` key, which CloudWatch may use) and one
//! `aws_cloudwatch_metric_alarm` per `observability.alarms`, with dimensions filled in from
//! the component the alarm targets, plus default alarms for load balancer 5xx responses and
//! unhealthy targets when infragen creates the load balancer.
//!
//! Scheduled jobs on ECS are watched too: an alarm when EventBridge Scheduler drops a run
//! after its retries (it could not start the task), and an EventBridge rule that sends
//! every failed run (a container exiting non-zero, a task that failed to start) to the
//! topic. EventBridge needs the topic's permission, so with jobs the topic gets an access
//! policy: the account's own, CloudWatch alarms' and that rule's.
//!
//! On EKS with Container Insights each service gets a no-running-pods and a restarts alarm
//! (`eks_alarms.rs`).
//!
//! This runs after every other file, so an alarm whose target was not lowered (a component
//! another back-end file does not produce yet) is left out with a note rather than pointing
//! at a resource that does not exist.

use std::collections::BTreeMap;

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::{cache, data_alarms, database, ecs, edge, eks_alarms, kms, scheduled, sqs};
use crate::blueprint::types::{Alarm, Comparison, Platform};
use crate::terraform::{Expr, Module, Ref, data, ident, interp, res};

fn operator(c: Comparison) -> &'static str {
    match c {
        Comparison::Greater => "GreaterThanThreshold",
        Comparison::GreaterOrEqual => "GreaterThanOrEqualToThreshold",
        Comparison::Less => "LessThanThreshold",
        Comparison::LessOrEqual => "LessThanOrEqualToThreshold",
    }
}

pub fn topic() -> Ref {
    res("aws_sns_topic", "alerts")
}

/// One metric series' dimensions.
type Dims = BTreeMap<&'static str, Expr>;

/// The dimensions of the series an alarm on `target` watches (one, or one per cache node),
/// or why they cannot be filled.
fn dimensions(ctx: &Ctx, m: &Module, target: &str) -> Result<Vec<Dims>, String> {
    let bp = ctx.v.bp;
    let needs = |r: &Ref| {
        if m.declares(&r.address()) {
            Ok(())
        } else {
            Err(format!("`{}` is not in the output", r.address()))
        }
    };
    let mut d = BTreeMap::new();
    if target == "load_balancer" {
        needs(&edge::lb())?;
        d.insert("LoadBalancer", edge::lb().attr("arn_suffix"));
    } else if let Some(s) = bp.services.iter().find(|s| s.name == target) {
        match ctx.platform {
            Some(Platform::EcsFargate) => {
                needs(&ecs::service(&s.name))?;
                d.insert("ClusterName", ecs::cluster().attr("name"));
                d.insert("ServiceName", ecs::service(&s.name).attr("name"));
            }
            Some(Platform::Eks | Platform::EksFargate) => {
                // The namespace the manifests put the pods in (`Blueprint::default_namespace`).
                let ns = s
                    .namespace
                    .clone()
                    .unwrap_or_else(|| bp.default_namespace().to_string());
                d.insert("ClusterName", ctx.cluster_name().into());
                d.insert("Namespace", ns.into());
                d.insert(
                    "Service",
                    s.service_name
                        .clone()
                        .unwrap_or_else(|| s.name.clone())
                        .into(),
                );
            }
            _ => return Err("services have no metrics on this platform".into()),
        }
    } else if let Some(x) = bp.databases.iter().find(|x| x.name == target) {
        let db = database::instance(target);
        needs(&db)?;
        // Each instance publishes under its own `DBInstanceIdentifier`
        // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/dimensions.html): the read
        // replicas are watched beside the primary, as they serve the reads.
        let mut series = vec![Dims::from([(
            "DBInstanceIdentifier",
            db.attr("identifier"),
        )])];
        for i in 1..=x.replicas {
            let r = database::replica(target, i);
            needs(&r)?;
            series.push(Dims::from([("DBInstanceIdentifier", r.attr("identifier"))]));
        }
        return Ok(series);
    } else if let Some(c) = bp.caches.iter().find(|x| x.name == target) {
        let rg = cache::group(target);
        needs(&rg)?;
        // ElastiCache publishes per node, `CacheClusterId` = a member cluster of the group
        // (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.html).
        // Every node is watched: after a failover the primary is another member, and a
        // replica can breach alone. The ids are read from the group's `member_clusters`, not
        // spelt `<id>-001…-00N`: members are numbered so at creation, but a scale-in
        // (`nodes` lowered) is DecreaseReplicaCount with only NewReplicaCount (provider
        // `resource_aws_elasticache_replication_group.go`, `decreaseReplicationGroupReplicaCount`),
        // so ElastiCache picks which replicas go — never the primary, which after a failover
        // may be `-003` — and `-00N` can be gone while a lower number stays. The provider sets
        // `num_cache_clusters` to the length of `MemberClusters` and marks `member_clusters`
        // unknown whenever `num_cache_clusters` changes, so the N sorted members are exactly
        // the nodes once the group is applied; `element` (which wraps, where an index would
        // fail the plan) keeps a plan valid should the group drift between refreshes.
        let members = rg.path("member_clusters");
        return Ok((0..c.nodes.max(1))
            .map(|i| {
                Dims::from([(
                    "CacheClusterId",
                    interp(&format!("element(sort({members}), {i})")),
                )])
            })
            .collect());
    } else if bp.brokers().any(|x| x.name == target) {
        let broker = res("aws_mq_broker", target);
        needs(&broker)?;
        d.insert("Broker", broker.attr("broker_name"));
    } else if bp.sqs_queues().any(|x| x.name == target) {
        let queue = sqs::queue(target, false);
        needs(&queue)?;
        d.insert("QueueName", queue.attr("name"));
    } else if bp.tables.iter().any(|x| x.name == target) {
        let table = res("aws_dynamodb_table", target);
        needs(&table)?;
        d.insert("TableName", table.attr("name"));
    } else {
        return Err(format!("`{target}` has no metrics"));
    }
    Ok(vec![d])
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    let obs = bp.observability.as_ref();
    let alarms: &[Alarm] = obs.map_or(&[], |o| o.alarms.as_slice());
    // Alarm targets are never declared here, so asking `m` as it grows is asking it now.
    let has_lb = m.declares(&edge::lb().address());
    // Scheduled jobs on ECS (`scheduled.rs` declared their schedule group).
    let jobs = m.declares(&scheduled::schedule_group().address());
    // SQS queues' default alarms, when the blueprint asks for observability at all.
    let queue_alarms = if obs.is_some() {
        sqs::alarms(ctx)
    } else {
        Vec::new()
    };
    // On EKS the ALB in front of ingress-nginx is made in `platform` ([`edge_alarms`]),
    // whose alarms notify this topic.
    let edge_in_platform = edge_in_platform(ctx);
    // RDS and ElastiCache default alarms: made wherever the topic is, and, like the queues',
    // a reason for it when the blueprint asks for observability at all.
    let data_defaults = data_alarms::defaults(ctx, m, alarms);
    // EKS services' down and crash-loop alarms (`eks_alarms`), gated as the queues' are,
    // or made anyway where the topic exists for the load balancer's.
    let pod_alarms = if obs.is_some() || edge_in_platform {
        eks_alarms::alarms(ctx, m)
    } else {
        Vec::new()
    };
    if alarms.is_empty()
        && !has_lb
        && !edge_in_platform
        && obs.and_then(|o| o.alert_topic.as_ref()).is_none()
        && !jobs
        && queue_alarms.is_empty()
        && pod_alarms.is_empty()
        && (obs.is_none() || data_defaults.is_empty())
    {
        // Nothing here alarms, so no topic is made: addresses in `notify` would be
        // subscribed to nothing, said rather than dropped.
        if let Some(o) = obs.filter(|o| !o.notify.is_empty()) {
            ctx.note(format!(
                "observability.notify ({}): nothing in this output raises an alarm (no `observability.alarms`, load balancer, RDS database, ElastiCache cache, SQS queue, ECS job or EKS service watched by Container Insights), so no alert topic is created and nobody is subscribed",
                o.notify.join(", ")
            ));
        }
        return;
    }
    let mut key_statements = vec![json!({
        "Sid": "CloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    })];
    if jobs {
        key_statements.push(json!({
            "Sid": "EventBridgePublish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }));
    }
    kms::key(
        ctx,
        m,
        "alerts",
        &format!("Alert topic encryption for {}", ctx.prefix),
        key_statements,
    );
    let topic = topic();
    let topic_name = topic_name(ctx);
    m.file("observability").resource(
        &topic,
        json!({
            "name": &topic_name,
            "display_name": format!("{} alerts", ctx.prefix),
            "kms_master_key_id": res("aws_kms_key", "alerts").arn(),
            "tags": {"Name": topic_name},
        }),
    );
    subscriptions(ctx, m, obs.map_or(&[], |o| o.notify.as_slice()));
    m.file("outputs").output(
        "alert_topic_arn",
        topic.arn(),
        "SNS topic the alarms notify (subscribe e-mail, chat or paging here)",
    );

    let mut all_lowered = true;
    for a in alarms {
        if edge_in_platform && a.target.as_deref() == Some("load_balancer") {
            // Lowered with the ALB it watches, in `platform` ([`edge_alarms`]).
            continue;
        }
        let dims = match a.target.as_deref().map(|t| dimensions(ctx, m, t)) {
            None => Ok(vec![Dims::new()]),
            Some(d) => d,
        };
        let dims = match dims {
            Ok(d) => d,
            Err(why) => {
                ctx.note(format!("alarm `{}` left out: its target {why}", a.name));
                all_lowered = false;
                continue;
            }
        };
        watch_series(m, &ident(&a.name), a, &dims, topic.arn());
    }
    if has_lb {
        five_xx_alarms(ctx, m, "", edge::lb().attr("arn_suffix"), topic.arn());
        // The internal ALB (`services[].internal_routes`) answers its own requests: its
        // 5xx are counted under its own `LoadBalancer` dimension, never the public one's
        // (Application Load Balancer CloudWatch metrics, "Metric dimensions":
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
        if !edge::routed_on(ctx, edge::Edge::Internal).is_empty() {
            let lb = edge::lb_of(edge::Edge::Internal).attr("arn_suffix");
            five_xx_alarms(ctx, m, "internal_", lb, topic.arn());
        }
        unhealthy_hosts_alarms(ctx, m);
        no_healthy_hosts_alarms(ctx, m);
    }
    for (name, body) in queue_alarms.into_iter().chain(pod_alarms) {
        alarm(m, &name, body, topic.arn());
    }
    for d in data_defaults {
        // Lowered as a blueprint alarm on the same target would be; the target is in `m`.
        if let Some(Ok(dims)) = d.alarm.target.as_deref().map(|t| dimensions(ctx, m, t)) {
            watch_series(m, &d.key, &d.alarm, &dims, topic.arn());
        }
    }
    if jobs {
        job_alerts(ctx, m);
    }
    if all_lowered && !alarms.is_empty() {
        ctx.mark("observability");
    }
}

/// The alert topic's name: `observability.alert_topic`, else `<prefix>-alerts`.
fn topic_name(ctx: &Ctx) -> String {
    ctx.v
        .bp
        .observability
        .as_ref()
        .and_then(|o| o.alert_topic.clone())
        .unwrap_or_else(|| format!("{}-alerts", ctx.prefix))
}

/// Whether the load balancer is the one the Load Balancer Controller makes from
/// `platform`'s `edge` Ingress (EKS, ALB in front of ingress-nginx).
fn edge_in_platform(ctx: &Ctx) -> bool {
    ctx.is_eks() && ctx.v.bp.alb_fronts_nginx()
}

/// The most metrics one metric math alarm may read: "Alarms based on metric math expressions
/// can reference a maximum of 10 metrics. This is a hard limit that cannot be increased"
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html);
/// PutMetricAlarm refuses an 11th at apply, which `terraform validate` does not see.
const MAX_ALARM_METRICS: usize = 10;

/// The alarm `a` (Terraform key `key`) on `series`, as one alarm while they fit in
/// [`MAX_ALARM_METRICS`]; past that (an RDS primary with 10 or more of the 15 read replicas
/// RDS allows), one alarm per ten series, the first under `a`'s name and the next ones
/// under `<name>-2`, `<name>-3`…, so every instance is still watched.
fn watch_series(m: &mut Module, key: &str, a: &Alarm, series: &[Dims], topic: Expr) {
    if series.len() <= MAX_ALARM_METRICS {
        alarm(m, key, user_alarm(a, series), topic);
        return;
    }
    for (i, chunk) in series.chunks(MAX_ALARM_METRICS).enumerate() {
        let (key, mut part) = if i == 0 {
            (key.to_string(), a.clone())
        } else {
            let mut part = a.clone();
            part.name = format!("{}-{}", a.name, i + 1);
            (format!("{key}_{}", i + 1), part)
        };
        let first = i * MAX_ALARM_METRICS + 1;
        let what = part.description.clone().unwrap_or_else(|| {
            format!(
                "{} {} {} {}",
                a.namespace,
                a.metric,
                operator(a.comparison),
                a.threshold
            )
        });
        part.description = Some(format!(
            "{what} (series {first}-{} of {}: a metric math alarm reads at most {MAX_ALARM_METRICS} metrics)",
            first + chunk.len() - 1,
            series.len()
        ));
        alarm(m, &key, user_alarm(&part, chunk), topic.clone());
    }
}

/// The alarm of one `observability.alarms` entry on the series `series` (their dimensions):
/// one metric, or the worst of several (the highest for `>`/`>=`, the lowest for `<`/`<=`),
/// so it fires when any of them breaches. Metric math's MAX/MIN of an array of series is
/// the series of each timestamp's highest/lowest value
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html>).
fn user_alarm(a: &Alarm, series: &[Dims]) -> Json {
    let dims = series.first().cloned().unwrap_or_default();
    let mut body = json!({
        "alarm_name": &a.name,
        "alarm_description": a.description.clone().unwrap_or_else(|| format!("{} {} {} {}", a.namespace, a.metric, operator(a.comparison), a.threshold)),
        "evaluation_periods": a.evaluation_periods,
        "threshold": a.threshold,
        "comparison_operator": operator(a.comparison),
        "treat_missing_data": missing_data(a),
    });
    if series.len() > 1 {
        let worst = match a.comparison {
            Comparison::Greater | Comparison::GreaterOrEqual => "MAX",
            Comparison::Less | Comparison::LessOrEqual => "MIN",
        };
        let mut queries: Vec<Json> = series
            .iter()
            .enumerate()
            .map(|(i, d)| {
                json!({
                    "id": format!("m{}", i + 1),
                    "return_data": false,
                    "metric": {
                        "namespace": &a.namespace,
                        "metric_name": &a.metric,
                        "stat": &a.statistic,
                        "period": a.period,
                        "dimensions": d,
                    },
                })
            })
            .collect();
        let ids: Vec<String> = (1..=series.len()).map(|i| format!("m{i}")).collect();
        queries.push(json!({
            "id": "worst",
            "expression": format!("{worst}([{}])", ids.join(", ")),
            "label": format!("{} ({} of {} series)", a.metric, worst, series.len()),
            "return_data": true,
        }));
        body["metric_query"] = json!(queries);
        return body;
    }
    match per_operation_query(a, &dims) {
        Some(query) => {
            body["metric_query"] = json!([{
                "id": "q1",
                "expression": query,
                "period": a.period,
                "label": format!("{} (all operations)", a.metric),
                "return_data": true,
            }]);
            // No throttled request in a period publishes no datapoint.
            body["treat_missing_data"] = json!("notBreaching");
        }
        None => {
            body["namespace"] = json!(&a.namespace);
            body["metric_name"] = json!(&a.metric);
            body["statistic"] = json!(&a.statistic);
            body["period"] = json!(a.period);
            body["dimensions"] = json!(&dims);
        }
    }
    body
}

/// How a user alarm treats a period without a datapoint. Counts (`Sum`, `SampleCount`) are
/// published only for periods with events — ALB `HTTPCode_*` and `RequestCount`, DynamoDB
/// throttles, … — so a missing period is a zero, and it breaches as zero would: a
/// `RequestCount < 1` alarm must fire when traffic stops, where `missing` left it in
/// INSUFFICIENT_DATA, and a `> N` errors alarm returns to OK (notifying `ok_actions`) when
/// the errors stop instead of going to INSUFFICIENT_DATA. Other statistics of a missing period
/// have no value: `missing`.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data>
fn missing_data(a: &Alarm) -> &'static str {
    // A period without data is a count of zero for a Sum or SampleCount, and for a series
    // its publisher leaves out at zero: the CloudWatch agent publishes no
    // `service_number_of_running_pods` for a Service without a ready pod
    // (opentelemetry-collector-contrib `k8sclient/endpoint.go`: "ignore the service which has
    // 0 pods"), so a blueprint's "fewer than one running pod" alarm left `missing` would sit in
    // INSUFFICIENT_DATA through the very outage it is for. Any other gauge: `missing`.
    let zero_when_absent = matches!(a.statistic.as_str(), "Sum" | "SampleCount")
        || (a.namespace == "ContainerInsights" && a.metric == "service_number_of_running_pods");
    if !zero_when_absent {
        return "missing";
    }
    let zero_breaches = match a.comparison {
        Comparison::Greater => 0.0 > a.threshold,
        Comparison::GreaterOrEqual => 0.0 >= a.threshold,
        Comparison::Less => 0.0 < a.threshold,
        Comparison::LessOrEqual => 0.0 <= a.threshold,
    };
    if zero_breaches {
        "breaching"
    } else {
        "notBreaching"
    }
}

/// On EKS the ALB in front of ingress-nginx is created by the AWS Load Balancer Controller
/// from `platform`'s `edge` Ingress, so `infra` cannot name it: its alarms (the default 5xx
/// ones and the blueprint's `target: load_balancer` ones) are made here, in `platform`, after
/// the Ingress, finding the ALB by the name the Ingress gives it and the topic `infra`
/// made by its name. `LoadBalancer` is the ALB's ARN suffix, as for ECS
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>).
/// The target groups are the controller's, with generated names: no unhealthy-hosts alarm.
pub fn edge_alarms(ctx: &Ctx, m: &mut Module, lb_name: &str, ingress: &Ref) {
    let lb = data("aws_lb", "edge");
    let topic = data("aws_sns_topic", "alerts");
    m.file("observability")
        .resource(
            &lb,
            json!({"name": lb_name, "depends_on": [ingress.address()]}),
        )
        .resource(&topic, json!({"name": topic_name(ctx)}));
    five_xx_alarms(ctx, m, "", lb.attr("arn_suffix"), topic.arn());
    let alarms = ctx.v.bp.observability.iter().flat_map(|o| &o.alarms);
    for a in alarms.filter(|a| a.target.as_deref() == Some("load_balancer")) {
        let dims = [Dims::from([("LoadBalancer", lb.attr("arn_suffix"))])];
        alarm(m, &ident(&a.name), user_alarm(a, &dims), topic.arn());
    }
}

/// Scheduled jobs' failures to the alert topic: runs the scheduler dropped (an alarm on the
/// stack's schedule group) and runs that failed (an EventBridge rule on ECS task state
/// changes), with the topic policy that lets the rule publish.
fn job_alerts(ctx: &Ctx, m: &mut Module) {
    let group = scheduled::schedule_group();
    alarm(
        m,
        "jobs_dropped",
        json!({
            "alarm_name": format!("{}-jobs-dropped", ctx.prefix),
            "alarm_description": "A scheduled job did not run: EventBridge Scheduler could not start its ECS task within the job's retries",
            "namespace": "AWS/Scheduler",
            "metric_name": "InvocationDroppedCount",
            "dimensions": {"ScheduleGroup": group.attr("name")},
            "statistic": "Sum",
            "period": 300,
            "evaluation_periods": 1,
            "threshold": 1,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            // No dropped run publishes no datapoint.
            "treat_missing_data": "notBreaching",
        }),
        topic().arn(),
    );
    let rule = res("aws_cloudwatch_event_rule", "jobs_failed");
    let f = m.file("observability");
    f.resource(
        &rule,
        json!({
            "name": format!("{}-jobs-failed", ctx.prefix),
            "description": "Scheduled job runs that failed: a container exited non-zero or the task did not start",
            "event_pattern": scheduled::failed_runs_pattern(ctx),
        }),
    )
    .resource(
        &res("aws_cloudwatch_event_target", "jobs_failed"),
        json!({
            "rule": rule.attr("name"),
            "target_id": "alerts",
            "arn": topic().arn(),
        }),
    );
    // A topic policy replaces SNS's default one: it keeps the account in control and
    // CloudWatch alarms publishing (as AWS documents for alarms), and admits the rule.
    let account = ctx.account_id();
    f.resource(
        &res("aws_sns_topic_policy", "alerts"),
        json!({
            "arn": topic().arn(),
            "policy": super::iam::policy(vec![
                json!({
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": tpl!("arn:aws:iam::", account, ":root")},
                    "Action": [
                        "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                        "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic", "SNS:Publish",
                    ],
                    "Resource": topic().arn(),
                }),
                json!({
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic().arn(),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": tpl!("arn:aws:cloudwatch:", ctx.region, ":", account, ":alarm:*")},
                        "StringEquals": {"aws:SourceAccount": &account},
                    },
                }),
                json!({
                    "Sid": "FailedJobRunsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic().arn(),
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn()}},
                }),
            ]),
        }),
    );
}

/// One subscription per `observability.notify` entry (validated: an e-mail address or an
/// HTTPS URL). A topic nobody subscribes to delivers every alarm to no one.
fn subscriptions(ctx: &Ctx, m: &mut Module, notify: &[String]) {
    if notify.is_empty() {
        ctx.note(crate::diagnostic::Note::warning(
            "alerts-unsubscribed",
            format!(
                "the alert topic of {} has no subscriber, so alarms notify nobody: list e-mail addresses or HTTPS endpoints in `observability.notify`",
                ctx.prefix
            ),
        ));
        return;
    }
    // SNS delivers nothing to a subscription until its owner confirms it: an e-mail with a
    // link, or a SubscriptionConfirmation request the endpoint must answer
    // (https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html); Terraform
    // creates it pending and does not wait.
    ctx.note(format!(
        "the alert topic's subscriptions ({}) stay pending until confirmed: AWS e-mails each address a confirmation link and sends each HTTPS endpoint a SubscriptionConfirmation request; no alarm reaches them before",
        notify.join(", ")
    ));
    for (i, endpoint) in notify.iter().enumerate() {
        let protocol = if endpoint.starts_with("https://") {
            "https"
        } else {
            "email"
        };
        m.file("observability").resource(
            &res("aws_sns_topic_subscription", &format!("alerts_{i}")),
            json!({
                "topic_arn": topic().arn(),
                "protocol": protocol,
                "endpoint": endpoint,
            }),
        );
    }
}

/// DynamoDB metrics published only per `TableName` + `Operation`: an alarm with the table
/// alone watches a series that never exists and never fires.
const DYNAMODB_PER_OPERATION: [&str; 4] = [
    "ThrottledRequests",
    "SystemErrors",
    "SuccessfulRequestLatency",
    "ReturnedItemCount",
];

/// For a per-operation DynamoDB metric, a Metrics Insights query aggregating every operation
/// of the table (metric math over named metrics would stop at 10 of the 13 operations).
fn per_operation_query(a: &Alarm, dims: &Dims) -> Option<Expr> {
    if a.namespace != "AWS/DynamoDB" || !DYNAMODB_PER_OPERATION.contains(&a.metric.as_str()) {
        return None;
    }
    let table = dims.get("TableName")?;
    let function = match a.statistic.as_str() {
        "Average" => "AVG",
        "Maximum" => "MAX",
        "Minimum" => "MIN",
        "SampleCount" => "COUNT",
        _ => "SUM",
    };
    Some(tpl!(
        format!(
            "SELECT {function}({}) FROM SCHEMA(\"AWS/DynamoDB\", Operation, TableName) WHERE TableName = '",
            a.metric
        ),
        table,
        "'"
    ))
}

fn alarm(m: &mut Module, name: &str, mut body: Json, topic: Expr) {
    body["alarm_actions"] = json!([&topic]);
    body["ok_actions"] = json!([topic]);
    m.file("observability")
        .resource(&res("aws_cloudwatch_metric_alarm", name), body);
}

/// 5xx from the targets and from the load balancer `lb` (its ARN suffix) itself; `prefix`
/// (`""` or `internal_`) tells the public load balancer's alarms from the internal one's.
fn five_xx_alarms(ctx: &Ctx, m: &mut Module, prefix: &str, lb: Expr, topic: Expr) {
    for (name, metric, who) in [
        (
            "alb_target_5xx",
            "HTTPCode_Target_5XX_Count",
            "the services",
        ),
        ("alb_5xx", "HTTPCode_ELB_5XX_Count", "the load balancer"),
    ] {
        let name = format!("{prefix}{name}");
        let who = match (prefix.is_empty(), who) {
            (true, who) => who.to_string(),
            (false, "the load balancer") => "the internal load balancer".to_string(),
            (false, who) => format!("{who} behind the internal load balancer"),
        };
        alarm(
            m,
            &name,
            json!({
                "alarm_name": format!("{}-{}", ctx.prefix, name.replace('_', "-")),
                "alarm_description": format!("More than 10 HTTP 5xx responses from {who} in 5 minutes"),
                "namespace": "AWS/ApplicationELB",
                "metric_name": metric,
                "statistic": "Sum",
                "period": 300,
                "evaluation_periods": 1,
                "threshold": 10,
                "comparison_operator": "GreaterThanThreshold",
                "dimensions": {"LoadBalancer": &lb},
                // No requests means no errors.
                "treat_missing_data": "notBreaching",
            }),
            topic.clone(),
        );
    }
}

/// Unhealthy targets per service routed by the load balancer infragen creates (ECS).
fn unhealthy_hosts_alarms(ctx: &Ctx, m: &mut Module) {
    for s in edge::routed(ctx) {
        let lb = edge::lb_of(edge::Edge::of(ctx, s)).attr("arn_suffix");
        // A blue/green or canary service's live tasks are in either of its two target groups
        // (ECS moves them at each deployment): both are watched.
        let mut groups = vec![("", edge::target_group(&s.name))];
        if super::ecs_deployments::native(s) {
            groups.push((
                "alternate",
                super::ecs_deployments::alternate_target_group(&s.name),
            ));
        }
        for (which, group) in groups {
            // The alternate's alarm ends in `-alternate`, which no primary's name does (a
            // service `<name>-alternate` has its own `…-alternate-unhealthy-hosts`).
            let (key, name) = if which.is_empty() {
                (
                    format!("{}_unhealthy_hosts", ident(&s.name)),
                    format!("{}-{}-unhealthy-hosts", ctx.prefix, s.name),
                )
            } else {
                (
                    format!("{}_unhealthy_hosts_{which}", ident(&s.name)),
                    format!("{}-{}-unhealthy-hosts-{which}", ctx.prefix, s.name),
                )
            };
            alarm(
                m,
                &key,
                json!({
                    "alarm_name": name,
                    "alarm_description": format!("{} has unhealthy targets for 3 minutes", s.name),
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": "UnHealthyHostCount",
                    "statistic": "Maximum",
                    "period": 60,
                    "evaluation_periods": 3,
                    "threshold": 0,
                    "comparison_operator": "GreaterThanThreshold",
                    "dimensions": {
                        "LoadBalancer": &lb,
                        "TargetGroup": group.attr("arn_suffix"),
                    },
                    "treat_missing_data": "missing",
                }),
                topic().arn(),
            );
        }
    }
}

/// No healthy target at all, per service routed by the load balancer infragen creates
/// (ECS): the page for "the service is down". Neither default alarm above catches a service
/// whose tasks crash at start or never pass a health check at night: the 5xx alarm needs
/// more than 10 requests in 5 minutes, and a task ECS stops and replaces before three
/// minutes of failed checks never keeps `UnHealthyHostCount` above 0 for three periods in a
/// row. `HealthyHostCount` is "reported if health checks are enabled" (always, here), and a
/// period without it means no target reported healthy, so it breaches
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html,
/// "Target group metrics"). A service that may run no task (`replicas: 0`, autoscaling
/// `min: 0`) is left out: there, no healthy target is not an outage.
fn no_healthy_hosts_alarms(ctx: &Ctx, m: &mut Module) {
    for s in edge::routed(ctx) {
        let fewest = s.autoscaling.as_ref().map_or(s.replicas, |a| a.min);
        if fewest == 0 {
            continue;
        }
        // A scheduled action with `min: 0` (a service stopped at night) sets the service's
        // capacity to 0 while it applies (Application Auto Scaling scheduled actions set
        // the scalable target's MinCapacity/MaxCapacity): the alarm would page at every
        // such stop. Left out, and said, since the service otherwise runs.
        let stops: Vec<&str> = s
            .autoscaling
            .iter()
            .flat_map(|a| &a.scheduled)
            .filter(|a| a.min == 0)
            .map(|a| a.name.as_str())
            .collect();
        if !stops.is_empty() {
            ctx.note(format!(
                "service `{}`: no `{}-{}-no-healthy-hosts` alarm, because the scheduled action {} stops every task (`min: 0`) and the alarm would page each time; its unhealthy-hosts and 5xx alarms still watch it",
                s.name,
                ctx.prefix,
                s.name,
                stops
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        let lb = edge::lb_of(edge::Edge::of(ctx, s)).attr("arn_suffix");
        let metric = |group: Expr| {
            json!({
                "namespace": "AWS/ApplicationELB",
                "metric_name": "HealthyHostCount",
                "stat": "Minimum",
                "period": 60,
                "dimensions": {"LoadBalancer": &lb, "TargetGroup": group},
            })
        };
        // A `recreate` service has no healthy task between stopping the old ones and the
        // new ones passing their checks, on every deploy: 10 minutes, not 3, before a page.
        // So has a rolling one with `min_healthy_percent: 0` (written): ECS may then stop
        // every running task before starting new ones ("the lower limit on the number of
        // tasks … that must remain in the RUNNING state during a deployment", ECS
        // `DeploymentConfiguration.minimumHealthyPercent`).
        let stops_first = s.rollout.strategy == crate::blueprint::types::Strategy::Recreate
            || s.rollout.min_healthy_percent == Some(0);
        let minutes = if stops_first { 10 } else { 3 };
        let mut body = json!({
            "alarm_name": format!("{}-{}-no-healthy-hosts", ctx.prefix, s.name),
            "alarm_description": format!("{} has had no healthy target for {minutes} minutes: it is down", s.name),
            "evaluation_periods": minutes,
            "threshold": 1,
            "comparison_operator": "LessThanThreshold",
            "treat_missing_data": "breaching",
        });
        if super::ecs_deployments::native(s) {
            // A blue/green or canary service's live tasks are in either target group, and
            // the idle one has none (and may publish nothing): the sum of both, a missing
            // series counted as 0, is what serves.
            let primary = edge::target_group(&s.name).attr("arn_suffix");
            let alternate =
                super::ecs_deployments::alternate_target_group(&s.name).attr("arn_suffix");
            body["metric_query"] = json!([
                {"id": "primary", "return_data": false, "metric": metric(primary)},
                {"id": "alternate", "return_data": false, "metric": metric(alternate)},
                {
                    "id": "healthy",
                    "expression": "FILL(primary, 0) + FILL(alternate, 0)",
                    "label": "HealthyHostCount (both target groups)",
                    "return_data": true,
                },
            ]);
        } else {
            let group = edge::target_group(&s.name).attr("arn_suffix");
            body["namespace"] = json!("AWS/ApplicationELB");
            body["metric_name"] = json!("HealthyHostCount");
            body["statistic"] = json!("Minimum");
            body["period"] = json!(60);
            body["dimensions"] = json!({"LoadBalancer": &lb, "TargetGroup": group});
        }
        alarm(
            m,
            &format!("{}_no_healthy_hosts", ident(&s.name)),
            body,
            topic().arn(),
        );
    }
}
