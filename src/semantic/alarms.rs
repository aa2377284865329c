//! Alarms that name a `target`: their namespace must be one AWS publishes that component's
//! metrics in, with the dimensions the back-end fills in (`backend/aws/observability.rs`).
//!
//! CloudWatch accepts an alarm on any namespace, metric and dimensions, published or not;
//! one that names a series nobody publishes stays in INSUFFICIENT_DATA for ever and pages
//! nobody. Terraform, the provider schema and moto all take it, so it is refused here:
//!
//! - the load balancer: `AWS/ApplicationELB` with `LoadBalancer` (the ARN suffix),
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>;
//! - an ECS service: `AWS/ECS` with `ClusterName` + `ServiceName`,
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html>,
//!   or `ECS/ContainerInsights` (same dimensions) when the cluster has Container Insights,
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html>;
//! - an EKS service: `ContainerInsights` with `ClusterName` + `Namespace` + `Service`, which
//!   only the CloudWatch observability add-on publishes (managed nodes with
//!   `cluster.container_insights`; its agent is a DaemonSet, which Fargate does not run) and
//!   only for pods a Kubernetes Service selects (a service without `port` has none),
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html>;
//! - a database: `AWS/RDS` with `DBInstanceIdentifier`,
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/dimensions.html>;
//! - a cache: `AWS/ElastiCache` with `CacheClusterId`,
//!   <https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.html>;
//! - a table: `AWS/DynamoDB` with `TableName` (and `Operation` where AWS adds it),
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html>.
//!
//! - an SQS queue: `AWS/SQS` with `QueueName`,
//!   <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html>;
//! - a RabbitMQ broker: `AWS/AmazonMQ` with `Broker`,
//!   <https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/security-logging-monitoring-cloudwatch.html>.
//!
//! Every alarm (with a target or not) is also judged as PutMetricAlarm takes it ([`shape`]):
//! a statistic CloudWatch knows, a period its metrics are published at, an evaluation range
//! it accepts, and dimensions where the namespace publishes only per resource.

use super::Checker;
use crate::blueprint::types::{Alarm, Blueprint, Platform};
use crate::catalog::Provider;

/// Where AWS publishes a target's metrics, or why it publishes none infragen can name.
enum Published {
    In(Vec<&'static str>),
    /// The field at fault (`target` or `namespace`), why, and what to do instead.
    Nowhere(&'static str, String, String),
    /// Not judged here (unknown targets: `references.rs` reports those).
    Unjudged,
}

fn published(bp: &Blueprint, target: &str, namespace: &str) -> Published {
    use Published::*;
    if target == "load_balancer" {
        return match bp.platform() {
            _ if bp.load_balancer.is_none() => Nowhere(
                "target",
                "the blueprint has no `load_balancer`".into(),
                "add a `load_balancer`, or alarm on another component".into(),
            ),
            // On EKS the Load Balancer Controller makes the ALB; Terraform can name it only
            // when it is the edge Ingress's, in front of ingress-nginx (`platform`).
            Some(Platform::Eks | Platform::EksFargate) if !bp.alb_fronts_nginx() => Nowhere(
                "target",
                "the ALB is created by the AWS Load Balancer Controller from the Ingresses of `k8s/` once they are applied, so Terraform cannot name it".into(),
                "put the ALB in front of ingress-nginx (`ingress.class: nginx`, `kubernetes.ingress_controller: { kind: nginx }`), whose ALB `terraform/platform` makes and watches, or alarm on the ALB outside infragen once it exists".into(),
            ),
            _ => In(vec!["AWS/ApplicationELB"]),
        };
    }
    let insights = bp.cluster.as_ref().is_some_and(|c| c.container_insights());
    if let Some(s) = bp.services.iter().find(|s| s.name == target) {
        return match bp.platform() {
            Some(Platform::EcsFargate) if insights => In(vec!["AWS/ECS", "ECS/ContainerInsights"]),
            Some(Platform::EcsFargate) if namespace == "ECS/ContainerInsights" => Nowhere(
                "namespace",
                format!("`ECS/ContainerInsights` has no metrics for service `{target}`: `cluster.container_insights: false` leaves Container Insights off"),
                "set `cluster.container_insights: true`, or use namespace `AWS/ECS` (`CPUUtilization`, `MemoryUtilization`)".into(),
            ),
            Some(Platform::EcsFargate) => In(vec!["AWS/ECS"]),
            Some(Platform::Eks) if !insights => Nowhere(
                "target",
                format!("service `{target}` on EKS has metrics only from Container Insights, which `cluster.container_insights: false` leaves off"),
                "set `cluster.container_insights: true` (the CloudWatch observability add-on) and use namespace `ContainerInsights`".into(),
            ),
            Some(Platform::Eks) if s.port.is_none() => Nowhere(
                "target",
                format!("service `{target}` has no `port`, so no Kubernetes Service, and Container Insights publishes a service's metrics under its Kubernetes Service"),
                "alarm on a service with a `port`, or on a component it uses".into(),
            ),
            Some(Platform::Eks) => In(vec!["ContainerInsights"]),
            Some(Platform::EksFargate) => Nowhere(
                "target",
                format!("service `{target}` on EKS Fargate has no per-service metrics: Container Insights' agent is a DaemonSet, which Fargate does not run"),
                "alarm on a component the service uses, or on the load balancer (`target: load_balancer`)".into(),
            ),
            _ => Unjudged,
        };
    }
    let expected = if bp.databases.iter().any(|x| x.name == target) {
        "AWS/RDS"
    } else if bp.caches.iter().any(|x| x.name == target) {
        "AWS/ElastiCache"
    } else if bp.tables.iter().any(|x| x.name == target) {
        "AWS/DynamoDB"
    } else if bp.sqs_queues().any(|x| x.name == target) {
        "AWS/SQS"
    } else if bp.brokers().any(|x| x.name == target) {
        "AWS/AmazonMQ"
    } else {
        return Unjudged;
    };
    In(vec![expected])
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Aws {
        return;
    }
    let Some(o) = &bp.observability else {
        return;
    };
    for (i, a) in o.alarms.iter().enumerate() {
        judge(c, bp, i, a);
        shape(c, bp, i, a);
    }
}

/// The statistics an alarm's `statistic` takes (PutMetricAlarm `Statistic`; percentiles are
/// `ExtendedStatistic`, which infragen does not write).
const STATISTICS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

/// Namespaces AWS publishes only per resource: an alarm on them without dimensions (no
/// `target`) watches a series that does not exist.
const NEED_A_TARGET: [&str; 6] = [
    "AWS/ApplicationELB",
    "AWS/ECS",
    "ECS/ContainerInsights",
    "ContainerInsights",
    "AWS/ElastiCache",
    "AWS/AmazonMQ",
];

/// Statistic, period and evaluation range as PutMetricAlarm takes them
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>):
/// a period of 10, 20, 30 or a multiple of 60 s, where 10–30 only suit high-resolution
/// custom metrics (AWS's own are per minute: such an alarm "might often lapse into
/// INSUFFICIENT_DATA"); at most 7 days of periods, one day below hour-long periods.
fn shape(c: &mut Checker, bp: &Blueprint, i: usize, a: &Alarm) {
    let at = |field: &str| format!("observability.alarms[{i}].{field}");
    if !STATISTICS.contains(&a.statistic.as_str()) {
        c.error(
            &at("statistic"),
            format!("unknown statistic `{}`", a.statistic),
        )
        .expected = Some(crate::diagnostic::one_of(STATISTICS));
    }
    let aws_metrics = a.namespace.starts_with("AWS/")
        || a.namespace == "ContainerInsights"
        || a.namespace == "ECS/ContainerInsights";
    let whole_minutes = a.period > 0 && a.period.is_multiple_of(60);
    if aws_metrics && !whole_minutes {
        let d = c.error(
            &at("period"),
            format!(
                "a period of {} s: `{}` is published per minute, so the alarm needs whole minutes",
                a.period, a.namespace
            ),
        );
        d.expected = Some("60 or a multiple of 60".into());
    } else if !aws_metrics && !whole_minutes && !matches!(a.period, 10 | 20 | 30) {
        c.error(
            &at("period"),
            format!("a period of {} s, which CloudWatch refuses", a.period),
        )
        .expected = Some("10, 20, 30 or a multiple of 60".into());
    }
    let span = u64::from(a.period) * u64::from(a.evaluation_periods);
    let limit = if a.period < 3600 { 86_400 } else { 604_800 };
    if a.evaluation_periods == 0 || span > limit {
        let d = c.error(
            &at("evaluation_periods"),
            format!(
                "{} periods of {} s: CloudWatch evaluates at least one period and at most {} s{}",
                a.evaluation_periods,
                a.period,
                limit,
                if a.period < 3600 {
                    " with periods under an hour"
                } else {
                    ""
                }
            ),
        );
        d.help = Some("fewer or shorter periods".into());
    }
    if a.target.is_none() && NEED_A_TARGET.contains(&a.namespace.as_str()) {
        let d = c.error(
            &at("namespace"),
            format!(
                "alarm `{}` has no `target`, and `{}` publishes `{}` only per resource: without dimensions it watches nothing and never fires",
                a.name, a.namespace, a.metric
            ),
        );
        // The ALB's metrics where the ALB cannot be named: say so rather than send the user
        // to `target: load_balancer` and its own refusal (`published`).
        d.help = Some(match published(bp, "load_balancer", &a.namespace) {
            Published::Nowhere(_, why, instead) if a.namespace == "AWS/ApplicationELB" => {
                format!("`target: load_balancer` would be refused too: {why}; {instead}")
            }
            _ => "add `target:` (the component whose metric it is; `load_balancer` for the ALB)"
                .into(),
        });
    }
}

/// DynamoDB metrics published per account and region, with no dimension
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html>):
/// with a table's `TableName` they name no series.
const DYNAMODB_ACCOUNT_METRICS: [&str; 9] = [
    "UserErrors",
    "AccountMaxReads",
    "AccountMaxWrites",
    "AccountMaxTableLevelReads",
    "AccountMaxTableLevelWrites",
    "AccountProvisionedReadCapacityUtilization",
    "AccountProvisionedWriteCapacityUtilization",
    "MaxProvisionedTableReadCapacityUtilization",
    "MaxProvisionedTableWriteCapacityUtilization",
];

/// The `ContainerInsights` metrics the CloudWatch agent publishes by `Service`,
/// `Namespace`, `ClusterName` — the dimensions an alarm on an EKS service gets
/// (aws/amazon-cloudwatch-agent `translator/translate/otel/exporter/awsemf/kubernetes.go`:
/// `getServiceMetricDeclarations`, and `getPodMetricDeclarations`, whose second list has
/// the `Service` dimension set only with enhanced observability, the add-on's default, which
/// infragen leaves as it is). Any other metric (`node_*`, `cluster_*`, `container_*`,
/// `namespace_*`) is never published per Service: such an alarm stays in INSUFFICIENT_DATA.
const SERVICE_METRICS: [&str; 32] = [
    "service_number_of_running_pods",
    "pod_cpu_utilization",
    "pod_memory_utilization",
    "pod_network_rx_bytes",
    "pod_network_tx_bytes",
    "pod_cpu_utilization_over_pod_limit",
    "pod_memory_utilization_over_pod_limit",
    "pod_cpu_reserved_capacity",
    "pod_memory_reserved_capacity",
    "pod_number_of_container_restarts",
    "pod_number_of_containers",
    "pod_number_of_running_containers",
    "pod_status_ready",
    "pod_status_scheduled",
    "pod_status_running",
    "pod_status_pending",
    "pod_status_failed",
    "pod_status_unknown",
    "pod_status_succeeded",
    "pod_memory_request",
    "pod_memory_limit",
    "pod_cpu_limit",
    "pod_cpu_request",
    "pod_container_status_running",
    "pod_container_status_terminated",
    "pod_container_status_waiting",
    "pod_container_status_waiting_reason_crash_loop_back_off",
    "pod_container_status_waiting_reason_image_pull_error",
    "pod_container_status_waiting_reason_start_error",
    "pod_container_status_waiting_reason_create_container_error",
    "pod_container_status_waiting_reason_create_container_config_error",
    "pod_container_status_terminated_reason_oom_killed",
];

fn judge(c: &mut Checker, bp: &Blueprint, i: usize, a: &Alarm) {
    let Some(target) = &a.target else {
        return;
    };
    if a.namespace == "AWS/DynamoDB"
        && DYNAMODB_ACCOUNT_METRICS.contains(&a.metric.as_str())
        && bp.tables.iter().any(|t| &t.name == target)
    {
        c.error(
            &format!("observability.alarms[{i}].target"),
            format!(
                "alarm `{}`: DynamoDB publishes `{}` per account and region, without a table: on table `{target}` it watches nothing and never fires",
                a.name, a.metric
            ),
        )
        .help = Some("leave out `target` (the account's figure)".into());
        return;
    }
    match published(bp, target, &a.namespace) {
        Published::In(namespaces) if !namespaces.contains(&a.namespace.as_str()) => {
            let list = crate::diagnostic::one_of(namespaces.iter().copied());
            let d = c.error(
                &format!("observability.alarms[{i}].namespace"),
                format!(
                    "alarm `{}` watches `{}` in `{}`, where AWS publishes nothing for `{target}`: it would stay in INSUFFICIENT_DATA and never notify",
                    a.name, a.metric, a.namespace
                ),
            );
            d.expected = Some(list);
            d.help = Some(format!(
                "use namespace `{}` with a metric AWS publishes there for `{target}`",
                namespaces[0]
            ));
        }
        Published::In(_)
            if a.namespace == "ContainerInsights"
                && bp.platform() == Some(Platform::Eks)
                && bp.services.iter().any(|s| &s.name == target)
                && !SERVICE_METRICS.contains(&a.metric.as_str()) =>
        {
            let d = c.error(
                &format!("observability.alarms[{i}].metric"),
                format!(
                    "alarm `{}` watches `{}` of service `{target}`, but Container Insights publishes it by node, container, namespace or cluster, never by Kubernetes Service: it would stay in INSUFFICIENT_DATA and never notify",
                    a.name, a.metric
                ),
            );
            d.expected = Some("a pod or service metric published per Service: `pod_cpu_utilization`, `pod_memory_utilization`, `pod_number_of_container_restarts`, `service_number_of_running_pods`, …".into());
            d.help = Some(
                "use one of those; node and cluster metrics need dimensions infragen does not fill (an `extra.terraform` alarm can name them)".into(),
            );
        }
        Published::Nowhere(field, why, help) => {
            let d = c.error(
                &format!("observability.alarms[{i}].{field}"),
                format!("alarm `{}` would never fire: {why}", a.name),
            );
            d.help = Some(help);
        }
        _ => {}
    }
}
