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
    if running.is_empty() {
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
                    "services on EKS Fargate have no no-running-pods or restarts alarm: those come from Container Insights, whose agent is a DaemonSet, which Fargate does not run; watch them through the load balancer or `observability.alarms` on the components they use",
                );
            }
            Some(Platform::Eks) if cluster.is_some_and(|c| !c.container_insights()) => {
                ctx.note(
                    "`cluster.container_insights: false`: services have no no-running-pods or restarts alarm, so nobody is paged when a service's pods are all down or crash-looping; drop `container_insights: false` to get them",
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
            out.push((
                format!("{}_no_running_pods", ident(&s.name)),
                json!({
                    "alarm_name": format!("{}-{}-no-running-pods", ctx.prefix, s.name),
                    "alarm_description": format!("{} has had no ready pod behind its Kubernetes Service {namespace}/{service} for {minutes} minutes: it is down (expected once on a new environment or service, from the infra apply until its first rollout is ready)", s.name),
                    "namespace": "ContainerInsights",
                    "metric_name": "service_number_of_running_pods",
                    "dimensions": {
                        "ClusterName": &cluster,
                        "Namespace": &namespace,
                        "Service": service,
                    },
                    "statistic": "Maximum",
                    "period": 60,
                    "evaluation_periods": minutes,
                    "threshold": 1,
                    "comparison_operator": "LessThanThreshold",
                    // Nothing is published for a Service without a ready pod: that is the
                    // outage (and a missing agent is no reason to stay silent either).
                    "treat_missing_data": "breaching",
                }),
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
