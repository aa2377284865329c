//! `services[].autoscaling.queue`: a queue worker scaled on its backlog per task.
//!
//! Lowered only where it can work: ECS Fargate with an `engine: sqs` queue, as Application
//! Auto Scaling target tracking on a metric-math expression (the queue's
//! `ApproximateNumberOfMessagesVisible` divided by Container Insights' `RunningTaskCount` of
//! the service: "Create a target tracking scaling policy for Application Auto Scaling using
//! metric math", example "Amazon SQS queue backlog per task", Application Auto Scaling user
//! guide). Each refusal is what would otherwise scale on nothing:
//!
//! - Kubernetes platforms: an HPA reads a queue's depth only through an external metrics
//!   adapter (KEDA, prometheus-adapter), which infragen does not install; an HPA on an
//!   `External` metric no adapter serves never scales (its condition `ScalingActive` stays
//!   false, "unable to get external metric").
//! - a RabbitMQ broker, or a name no queue has: there is no SQS metric to read.
//! - `cluster.container_insights: false`: `RunningTaskCount` (namespace
//!   `ECS/ContainerInsights`) is published only by Container Insights, and the expression
//!   without it has no data, so the policy never acts.
//! - a queue the service does not `use`: it would scale on a backlog it cannot read (nor has
//!   the IAM grant to receive from).

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs =
        c.provider == Provider::Aws && bp.platform_on(c.provider) == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(q) = s.autoscaling.as_ref().and_then(|a| a.queue.as_ref()) else {
            continue;
        };
        let path = format!("services[{i}].autoscaling.queue");
        if !ecs {
            let d = c.error(
                &path,
                format!(
                    "scaling on a queue's backlog is lowered for ECS Fargate only; on a Kubernetes cluster an autoscaler reads a queue's depth only through an external metrics adapter (KEDA), which infragen does not install, so service `{}` would never scale",
                    s.name
                ),
            );
            d.expected = Some("`cluster.platform: ecs_fargate` with an `engine: sqs` queue".into());
            d.help = Some(
                "scale it on `cpu_percent` here, or install KEDA and add a ScaledObject through an `extra:` template (docs/queue-workers.md)"
                    .into(),
            );
            continue;
        }
        match bp.queues.iter().find(|x| x.name == q.name) {
            None => {
                let names: Vec<&str> = bp.sqs_queues().map(|x| x.name.as_str()).collect();
                c.unknown_name(&format!("{path}.name"), "SQS queue", &q.name, names);
                continue;
            }
            Some(found) if !found.sqs() => {
                c.error(
                    &format!("{path}.name"),
                    format!(
                        "`{}` is a RabbitMQ broker; backlog scaling reads an SQS queue's CloudWatch metrics",
                        q.name
                    ),
                )
                .help = Some("use an `engine: sqs` queue, or scale on `cpu_percent`".into());
                continue;
            }
            Some(_) => {}
        }
        if !s.uses.iter().any(|u| u.name == q.name) {
            c.error(
                &format!("{path}.name"),
                format!(
                    "service `{}` does not use queue `{}`: it would scale on a backlog it cannot receive from",
                    s.name, q.name
                ),
            )
            .help = Some(format!("add `{}` to the service's `uses`", q.name));
        }
        if q.messages_per_task == 0 {
            c.error(
                &format!("{path}.messages_per_task"),
                "must be at least 1 (messages waiting per running task)",
            );
        }
        if bp.cluster.as_ref().is_some_and(|cl| !cl.container_insights) {
            c.error(
                &path,
                "backlog per task divides by Container Insights' `RunningTaskCount`, which ECS publishes only with Container Insights on; with `cluster.container_insights: false` the policy has no data and never scales",
            )
            .help = Some("drop `container_insights: false` from `cluster`, or scale on `cpu_percent`".into());
        }
    }
}
