//! The pages for an EKS service that is down or crash-looping, from Container Insights.
//!
//! On EKS the Load Balancer Controller names its target groups itself, so the ALB-target
//! alarms ECS gets (`no-healthy-hosts`) cannot name them; a service with no running pod
//! (ImagePullBackOff, CrashLoopBackOff, a bad rollout, its nodes gone) would page nobody.
//! The CloudWatch observability add-on (`cluster/addons.rs`, managed nodes with
//! `cluster.container_insights`) publishes, in namespace `ContainerInsights`:
//!
//! - `service_number_of_running_pods` by `ClusterName`, `Namespace`, `Service`: the pods a
//!   Kubernetes Service selects, counted from its Endpoints' ready addresses. A Service
//!   with none publishes *nothing* ("ignore the service which has 0 pods",
//!   opentelemetry-collector-contrib `internal/aws/k8s/k8sclient/endpoint.go` `refresh`;
//!   dimensions: aws/amazon-cloudwatch-agent
//!   `translator/translate/otel/exporter/awsemf/kubernetes.go`
//!   `getServiceMetricDeclarations`; Container-Insights-metrics-EKS), so a missing period
//!   is the outage itself and breaches. It is published with and without enhanced
//!   observability, unlike the Deployment metrics (`status_replicas_available`, enhanced
//!   only): the alarm holds whatever the add-on's configuration.
//! - `pod_number_of_container_restarts` by `ClusterName`, `Namespace`, `PodName`: each pod's
//!   container restarts since the previous collection (`podstore.go` `addStatus`), where
//!   `PodName` is the owning Deployment's name for a Deployment's pods, not the pod's own
//!   (`addPodOwnersAndPodName`: ReplicaSet → its Deployment, from the agent's ReplicaSet
//!   watch or, failing that, the ReplicaSet name less its hash suffix). Its `Sum` over a
//!   period is every restart of the Deployment's pods; a quiet period publishes zeros or
//!   nothing, so missing data does not breach. The page is a restart in 2 of the last three
//!   5-minute periods: a crash loop restarts once per back-off (capped at 5 minutes) plus
//!   the time the container ran, so "3 in a fixed 15 minutes" (the first design) saw 2 in
//!   some windows of even a crash-at-start loop — flapping OK/ALARM, a new page each time —
//!   and never 3 for a container that runs 2½ minutes before dying; 2 of 3 periods holds
//!   for any cycle up to 7½ minutes and ignores a single OOM kill or one burst of
//!   restarts that does not recur (kubelet back-off: "Container restart policy",
//!   https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy).
//!
//! Every dimension value is the one the manifests write: the namespace
//! (`services[].namespace`, else `Blueprint::default_namespace`), the Kubernetes Service
//! (`service_name`, else the service's name; blue/green and canary's plain Service selects
//! the live colour or stable track, which is what serves) and each Deployment of the
//! service (`k8s::workload::tracks`: `<name>`, `<name>-blue`/`-green`, `<name>-canary`).
//!
//! A new environment, or a new service, pages once per service: the alarms are made with
//! `infra`, and the Service has no ready pod until `kubectl apply -k` has rolled it out
//! (missing data breaches — the outage and a dead agent must page, and nothing CloudWatch
//! evaluates tells "not deployed yet" from "down"). CloudWatch notifies on state changes
//! only, so it is one ALARM and one OK per service, and the description says so for the
//! person paged. Delaying the page (the alarm in `platform`, applied just before the
//! manifests) would only narrow the window, and `missing` instead of `breaching` would
//! leave a real outage in INSUFFICIENT_DATA, which no `alarm_actions` notify.
//! docs/output.md ("Alarms") says it.
//!
//! In-cluster databases, caches and queues (StatefulSets) get the same two pages
//! ([`data_service`]: the client Service, and each pod by its own name). Scheduled jobs and
//! the databases' backup CronJobs get none, and a note says why ([`jobs_note`]).
//!
//! Left out: a service that runs no pod (`replicas: 0`; autoscaling `min: 0`, KEDA
//! scale-to-zero and scheduled stops are refused on EKS); a worker without `port` has no
//! Service, so only its restarts are watched (said in a note); EKS Fargate runs no agent
//! and `cluster.container_insights: false` installs none (said in a note).

use crate::json;
use crate::terraform::{Json, Module, ident, res};

use super::Ctx;
use crate::blueprint::types::{Platform, Service, Strategy};

const ADDON: &str = "amazon-cloudwatch-observability";

/// `(terraform key, alarm body)` per alarm, without actions (`observability` adds them).
pub fn alarms(ctx: &Ctx, m: &Module) -> Vec<(String, Json)> {
    if !ctx.is_eks() {
        return Vec::new();
    }
    let bp = ctx.v.bp;
    let running: Vec<&Service> = bp
        .services
        .iter()
        .filter(|s| s.autoscaling.as_ref().map_or(s.replicas, |a| a.min) > 0)
        .collect();
    let data = crate::k8s::data_workloads(ctx.v, &super::platform::options(ctx));
    jobs_note(ctx, &data);
    if running.is_empty() && data.is_empty() {
        return Vec::new();
    }
    if !m.declares(&res("aws_eks_addon", ADDON).address()) {
        let cluster = bp.cluster.as_ref();
        match ctx.platform {
            // `cluster/addons.rs` says so where `container_insights: true` is written.
            Some(Platform::EksFargate)
                if cluster.is_some_and(|c| c.container_insights != Some(true)) =>
            {
                ctx.note(
                    "services (and in-cluster data services) on EKS Fargate have no no-running-pods or restarts alarm: those come from Container Insights, whose agent is a DaemonSet, which Fargate does not run; watch them through the load balancer or `observability.alarms` on the components they use",
                );
            }
            Some(Platform::Eks) if cluster.is_some_and(|c| !c.container_insights()) => {
                ctx.note(
                    "`cluster.container_insights: false`: services and in-cluster data services have no no-running-pods or restarts alarm, so nobody is paged when their pods are all down or crash-looping; drop `container_insights: false` to get them",
                );
            }
            _ => {}
        }
        return Vec::new();
    }
    let cluster = ctx.cluster_name();
    let mut out = Vec::new();
    let mut portless = Vec::new();
    for s in running {
        let namespace = s
            .namespace
            .clone()
            .unwrap_or_else(|| bp.default_namespace().to_string());
        if s.port.is_some() {
            let service = s.service_name.clone().unwrap_or_else(|| s.name.clone());
            // A `recreate` rollout stops every pod before starting the new ones: the Service
            // has no ready pod until they pass their readiness probes, at every deploy.
            let minutes = if s.rollout.strategy == Strategy::Recreate {
                10
            } else {
                5
            };
            let description = format!(
                "{} has had no ready pod behind its Kubernetes Service {namespace}/{service} for {minutes} minutes: it is down (expected once on a new environment or service, from the infra apply until its first rollout is ready)",
                s.name
            );
            out.push((
                format!("{}_no_running_pods", ident(&s.name)),
                no_running_pods(
                    ctx,
                    &s.name,
                    [&cluster, &namespace, &service],
                    minutes,
                    description,
                ),
            ));
        } else {
            portless.push(format!("`{}`", s.name));
        }
        for deployment in deployments(s) {
            out.push((
                format!("{}_restarts", ident(&deployment)),
                json!({
                    "alarm_name": format!("{}-{deployment}-restarts", ctx.prefix),
                    "alarm_description": format!("Containers of Deployment {namespace}/{deployment} restarted in 2 of the last three 5-minute periods: crash-looping or failing their liveness probe"),
                    "namespace": "ContainerInsights",
                    "metric_name": "pod_number_of_container_restarts",
                    "dimensions": {
                        "ClusterName": &cluster,
                        "Namespace": &namespace,
                        "PodName": &deployment,
                    },
                    "statistic": "Sum",
                    "period": 300,
                    "evaluation_periods": 3,
                    "datapoints_to_alarm": 2,
                    "threshold": 1,
                    "comparison_operator": "GreaterThanOrEqualToThreshold",
                    "treat_missing_data": "notBreaching",
                }),
            ));
        }
    }
    for d in &data {
        out.extend(data_service(ctx, &cluster, d));
    }
    if !portless.is_empty() {
        ctx.note(format!(
            "{} {} no `port`, so no Kubernetes Service, and Container Insights counts running pods per Service: no no-running-pods alarm, only the restarts one",
            portless.join(", "),
            if portless.len() == 1 { "has" } else { "have" },
        ));
    }
    out
}

/// The Deployments of a service, named as `k8s::workload::tracks` names them.
fn deployments(s: &Service) -> Vec<String> {
    let name = &s.name;
    match s.rollout.strategy {
        Strategy::Rolling | Strategy::Recreate => vec![name.clone()],
        Strategy::BlueGreen => vec![format!("{name}-blue"), format!("{name}-green")],
        Strategy::Canary => vec![name.clone(), format!("{name}-canary")],
    }
}

/// The most metrics one metric math alarm may read ("Alarms based on metric math
/// expressions can reference a maximum of 10 metrics. This is a hard limit",
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html).
const MAX_ALARM_METRICS: u32 = 10;

/// `<prefix>-<name>-no-running-pods`: fewer than one ready pod behind the Kubernetes Service
/// `[cluster, namespace, service]` for `minutes`. Nothing is published for a Service
/// without a ready pod: that is the outage (and a missing agent is no reason to stay silent
/// either), so missing data breaches.
fn no_running_pods(
    ctx: &Ctx,
    name: &str,
    [cluster, namespace, service]: [&str; 3],
    minutes: u32,
    description: String,
) -> Json {
    json!({
        "alarm_name": format!("{}-{name}-no-running-pods", ctx.prefix),
        "alarm_description": description,
        "namespace": "ContainerInsights",
        "metric_name": "service_number_of_running_pods",
        "dimensions": {
            "ClusterName": cluster,
            "Namespace": namespace,
            "Service": service,
        },
        "statistic": "Maximum",
        "period": 60,
        "evaluation_periods": minutes,
        "threshold": 1,
        "comparison_operator": "LessThanThreshold",
        "treat_missing_data": "breaching",
    })
}

/// The pages for an in-cluster database, cache or queue (a StatefulSet): nobody serving
/// behind its client Service, and its pods' containers restarting.
///
/// - `service_number_of_running_pods` on the *client* Service (`in_cluster.service_name`,
///   ClusterIP): the agent counts an Endpoints' `addresses` (`endpoint.go`
///   `transformFuncEndpoint`), the ready pods. Never the headless Service: it publishes
///   not-ready addresses (`publishNotReadyAddresses`, for peers to find each other), so a
///   crash-looping pod would still count. When the client Service selects one pod (one
///   replica, or a cache's primary, pod 0), every restart and every rollout of that pod
///   leaves it without a ready endpoint until the server has replayed its journal and
///   passed its readiness probe (the startup probe allows five minutes): 10 minutes, as for
///   a `recreate` service; 5 when several members serve.
/// - `pod_number_of_container_restarts`: the agent names a StatefulSet's pod by its own
///   name, `<name>-<ordinal>` (`podstore.go` `addPodOwnersAndPodName`: "if owner.Kind ==
///   StatefulSet { podName = pod.Name }"), not the StatefulSet's, with or without enhanced
///   observability; so one series per pod, and the alarm reads their `MAX` (a restart of any
///   member), ten pods an alarm at most (`-restarts-2`… past that).
fn data_service(ctx: &Ctx, cluster: &str, d: &crate::k8s::DataWorkload) -> Vec<(String, Json)> {
    let name = &d.name;
    let namespace = &d.namespace;
    let minutes = if d.one_pod_serves { 10 } else { 5 };
    let description = format!(
        "{name} has had no ready pod behind its Kubernetes Service {namespace}/{} for {minutes} minutes: it is down (expected once on a new environment, from the infra apply until its StatefulSet's first pod is ready)",
        d.service_name
    );
    let mut out = vec![(
        format!("{}_no_running_pods", ident(name)),
        no_running_pods(
            ctx,
            name,
            [cluster, namespace, &d.service_name],
            minutes,
            description,
        ),
    )];
    let pods: Vec<String> = (0..d.replicas).map(|i| format!("{name}-{i}")).collect();
    let chunks: Vec<&[String]> = pods.chunks(MAX_ALARM_METRICS as usize).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let (key, alarm_name) = if i == 0 {
            (
                format!("{}_restarts", ident(name)),
                format!("{}-{name}-restarts", ctx.prefix),
            )
        } else {
            (
                format!("{}_restarts_{}", ident(name), i + 1),
                format!("{}-{name}-restarts-{}", ctx.prefix, i + 1),
            )
        };
        let which = match chunk {
            [one] => format!("pod {namespace}/{one}"),
            _ => format!(
                "pods {namespace}/{} to {}",
                chunk[0],
                chunk[chunk.len() - 1]
            ),
        };
        let mut body = json!({
            "alarm_name": alarm_name,
            "alarm_description": format!("Containers of StatefulSet {namespace}/{name} ({which}) restarted in 2 of the last three 5-minute periods: crash-looping or failing their liveness probe"),
            "evaluation_periods": 3,
            "datapoints_to_alarm": 2,
            "threshold": 1,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "treat_missing_data": "notBreaching",
        });
        let dims =
            |pod: &str| json!({"ClusterName": cluster, "Namespace": namespace, "PodName": pod});
        if let [pod] = chunk {
            body["namespace"] = json!("ContainerInsights");
            body["metric_name"] = json!("pod_number_of_container_restarts");
            body["dimensions"] = dims(pod);
            body["statistic"] = json!("Sum");
            body["period"] = json!(300);
        } else {
            // Metric math's MAX of an array of series is, per timestamp, the highest value
            // among those present: a restart of any pod, and no datapoint when none published.
            let mut queries: Vec<Json> = chunk
                .iter()
                .enumerate()
                .map(|(j, pod)| {
                    json!({
                        "id": format!("m{}", j + 1),
                        "return_data": false,
                        "metric": {
                            "namespace": "ContainerInsights",
                            "metric_name": "pod_number_of_container_restarts",
                            "stat": "Sum",
                            "period": 300,
                            "dimensions": dims(pod),
                        },
                    })
                })
                .collect();
            let ids: Vec<String> = (1..=chunk.len()).map(|j| format!("m{j}")).collect();
            queries.push(json!({
                "id": "worst",
                "expression": format!("MAX([{}])", ids.join(", ")),
                "label": format!("restarts of the most restarted pod of {name}"),
                "return_data": true,
            }));
            body["metric_query"] = json!(queries);
        }
        out.push((key, body));
    }
    out
}

/// Scheduled jobs on EKS get no failed-run page, and the note says why: Container Insights
/// publishes no metric per Job or CronJob, and the pod metrics of a CronJob's runs carry no
/// stable name to alarm on. The agent names such a pod after its Job's CronJob only when the
/// Job's suffix has exactly 10 digits (`utils.go` `parseCronJobFromJob`), a CronJob
/// controller before Kubernetes 1.21 (Unix seconds); since then the controller names each
/// run `<cronjob>-<Unix minutes>` (8 digits: `cronjob_controllerv2.go` `getJobName`), so
/// `PodName` is the run's Job name, new every run, with enhanced observability
/// (`prefer_full_pod_name`), and the name up to its first `-` or `.` without
/// (`getJobNamePrefix`: `nightly` for every `nightly-…` job). A restart count would miss
/// the most common failures anyway: the agent publishes a pod's restarts as the difference
/// between two collections a minute apart, and the Job controller deletes a failed run's pod
/// once `retries` are spent; an image that does not pull or a missing Secret restarts
/// nothing. A metric filter on the application logs would depend on each job's own messages.
/// The in-cluster databases' backup CronJobs (`<name>-backup`) are named with them.
fn jobs_note(ctx: &Ctx, data: &[crate::k8s::DataWorkload]) {
    let jobs: Vec<String> = (ctx.v.bp.jobs.iter().map(|j| &j.name))
        .chain(data.iter().filter_map(|d| d.backup_job.as_ref()))
        .map(|j| format!("`{j}`"))
        .collect();
    if jobs.is_empty() {
        return;
    }
    ctx.note(format!(
        "{} on EKS {} no failed-run alarm (on ECS a failed run pages): Container Insights publishes no metric per Job or CronJob, and names a CronJob's pods after each run's Job, not the CronJob, so no CloudWatch alarm can follow them; have the job report its own failure (a last step that calls your paging endpoint, or publishes a metric an alarm of `observability.alarms` watches) — docs/output.md \"Alarms\"",
        jobs.join(", "),
        if jobs.len() == 1 { "has" } else { "have" },
    ));
}
