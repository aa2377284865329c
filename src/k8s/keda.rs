//! `autoscaling.queue` on EKS: a KEDA `ScaledObject` (keda.sh/v1alpha1) per scaled
//! Deployment, in place of the service's own HorizontalPodAutoscaler. KEDA creates and feeds
//! the HPA itself (`keda-hpa-<name>`), serving the queue's length through the external
//! metrics API; a second HPA on the same Deployment would fight it, so the service gets
//! none of its own. KEDA comes from `terraform/platform` (`backend::aws::keda`), which is
//! applied before `k8s/`, so its CRDs exist when these objects do.
//!
//! - Trigger `aws-sqs-queue` (keda.sh/docs/2.20/scalers/aws-sqs; kedacore/keda
//!   `pkg/scalers/aws_sqs_queue_scaler.go`: `queueURL` read from the trigger or the resolved
//!   env, `awsRegion` required, `scaleOnInFlight` default true): the queue's URL from the
//!   worker's own variable (`queueURLFromEnv`: `<PREFIX>_URL`, which the Deployment reads
//!   from its `<service>-connections` ConfigMap; KEDA resolves `configMapKeyRef` variables
//!   of the scale target's container, kedacore/keda `pkg/scaling/resolver/scale_resolvers.go`
//!   `resolveEnv`), so the manifests still hold no account id; `queueLength` is
//!   `messages_per_task`, and the HPA's `AverageValue` target holds the messages per replica
//!   near it, as ECS's backlog-per-task policy does. `scaleOnInFlight: "false"` counts the
//!   visible messages only (KEDA's default adds the in-flight ones), as on ECS
//!   (`ApproximateNumberOfMessagesVisible`), so `messages_per_task` means the same on both.
//! - Identity: a `TriggerAuthentication` with `podIdentity: {provider: aws}` and
//!   `identityOwner: keda` — the KEDA operator's own IRSA role, which may call
//!   `sqs:GetQueueAttributes` on exactly the scaled queues (KEDA's AWS authentication docs,
//!   keda.sh/docs/2.20/authentication-providers/aws; the trigger's `identityOwner`
//!   metadata is deprecated since 2.13). The workload's role is not lent out:
//!   `identityOwner: workload` would need the service's role to trust KEDA's.
//! - `cpu_percent` / `memory_percent` beside `queue` become `cpu` / `memory` triggers
//!   (`metricType: Utilization`): the HPA scales to the largest of its metrics' proposals,
//!   out when any asks and in only when all agree, as Application Auto Scaling does with
//!   several policies. `scale_up` / `scale_down` are the HPA's `behavior`
//!   (`advanced.horizontalPodAutoscalerConfig`).
//! - The HPA KEDA makes is named as infragen's own would be (`<name>-hpa`), and the
//!   ScaledObject may take over an HPA of that name (`transfer-hpa-ownership`): a service
//!   switching from `cpu_percent` to `queue` hands its HPA to KEDA in one apply.
//! - `minReplicaCount` is `autoscaling.min`, at least 1 as everywhere (KEDA would take 0 to
//!   mean "scale to zero", which ECS cannot do; the blueprint refuses `min: 0`).

use super::workload::labels;
use super::yaml::{Map, map};
use super::{Ctx, Workload};
use crate::blueprint::types::{Autoscaling, Blueprint, QueueScaling};

/// Whether any service scales on a queue (EKS installs KEDA for it).
pub fn scales_on_queues(bp: &Blueprint) -> bool {
    bp.services
        .iter()
        .any(|s| s.autoscaling.as_ref().is_some_and(|a| a.queue.is_some()))
}

/// The queue scaling of a service, where the output scales it with KEDA (on AWS: the
/// semantic checks allow `queue` on EKS only, and the region names the SQS endpoint).
pub(super) fn queue<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
) -> Option<(&'c Autoscaling, &'c QueueScaling, &'c str)> {
    let a = s.bp.autoscaling.as_ref()?;
    let q = a.queue.as_ref()?;
    let region = ctx.opts.aws_region.as_deref()?;
    Some((a, q, region))
}

/// Name of a service's TriggerAuthentication.
fn authentication(s: &Workload) -> String {
    format!("{}-keda-aws", s.name())
}

/// The variable holding the queue's URL in the service's container: `<PREFIX>_URL` of its
/// `uses` entry (the semantic checks make sure it uses the queue).
fn url_variable(s: &Workload, q: &QueueScaling) -> String {
    let prefix = s.bp.uses.iter().find(|u| u.name == q.name).map_or_else(
        || crate::blueprint::types::upper_snake(&q.name),
        |u| u.prefix(),
    );
    format!("{prefix}_{}", crate::wiring::Field::Url.suffix())
}

fn utilization(kind: &'static str, percent: u32) -> Map<'static> {
    map! {
        "type" => kind,
        "metricType" => "Utilization",
        "metadata" => map! {"value" => percent.to_string()},
    }
}

/// KEDA takes over an HPA of the name its ScaledObject gives
/// (`advanced.horizontalPodAutoscalerConfig.name`) instead of refusing the ScaledObject: its
/// admission webhook denies one for a Deployment another HPA scales ("the workload … is
/// already managed by the hpa …", kedacore/keda `apis/keda/v1alpha1/scaledobject_webhook.go`
/// `verifyHpas`), which is what a service switching from `cpu_percent` to `queue` would
/// meet, its HPA `<name>-hpa` still in the cluster (`kubectl apply` deletes nothing).
const TRANSFER_HPA: &str = "scaledobject.keda.sh/transfer-hpa-ownership";

/// The ScaledObject `name` scaling Deployment `deployment` of service `s`; the HPA KEDA
/// makes for it is `hpa` (the name infragen's own HPA would have).
pub(super) fn scaled_object<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    (a, q, region): (&Autoscaling, &QueueScaling, &str),
    (name, hpa): (String, String),
    deployment: &str,
    behavior: Map<'static>,
) -> Map<'c> {
    let mut triggers = vec![map! {
        "type" => "aws-sqs-queue",
        "metadata" => map! {
            "queueURLFromEnv" => url_variable(s, q),
            "queueLength" => q.messages_per_task.to_string(),
            "awsRegion" => region.to_string(),
            "scaleOnInFlight" => "false",
        },
        "authenticationRef" => map! {"name" => authentication(s)},
    }];
    if let Some(c) = a.cpu_percent {
        triggers.push(utilization("cpu", c));
    }
    if let Some(m) = a.memory_percent {
        triggers.push(utilization("memory", m));
    }
    let advanced = map! {
        "horizontalPodAutoscalerConfig" => map! {"name" => hpa}.nonempty("behavior", behavior),
    };
    let mut metadata = ctx.meta(name, &s.namespace, labels(ctx, s));
    metadata.insert("annotations", map! {TRANSFER_HPA => "true"});
    map! {
        "apiVersion" => "keda.sh/v1alpha1",
        "kind" => "ScaledObject",
        "metadata" => metadata,
        "spec" => map! {
            "scaleTargetRef" => map! {
                "apiVersion" => "apps/v1",
                "kind" => "Deployment",
                "name" => deployment.to_string(),
                // The variables are the app container's, whatever sidecars come first.
                "envSourceContainerName" => s.container.as_str(),
            },
            "minReplicaCount" => a.min,
            "maxReplicaCount" => a.max,
        }
        .with("advanced", advanced)
        .with("triggers", triggers),
    }
}

/// The service's TriggerAuthentication: the KEDA operator's own AWS identity.
pub(super) fn trigger_authentication<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    map! {
        "apiVersion" => "keda.sh/v1alpha1",
        "kind" => "TriggerAuthentication",
        "metadata" => ctx.meta(authentication(s), &s.namespace, labels(ctx, s)),
        "spec" => map! {
            "podIdentity" => map! {"provider" => "aws", "identityOwner" => "keda"},
        },
    }
}
