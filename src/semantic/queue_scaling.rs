//! `services[].autoscaling.queue`: a queue worker scaled on its backlog per task.
//!
//! Lowered only where it can work:
//!
//! - ECS Fargate with an `engine: sqs` queue, as Application Auto Scaling target tracking on
//!   a metric-math expression (the queue's `ApproximateNumberOfMessagesVisible` divided by
//!   Container Insights' `RunningTaskCount` of the service: "Create a target tracking
//!   scaling policy for Application Auto Scaling using metric math", example "Amazon SQS
//!   queue backlog per task", Application Auto Scaling user guide);
//! - EKS (managed nodes or Fargate), as a KEDA ScaledObject with an `aws-sqs-queue` trigger
//!   (`k8s/keda.rs`), KEDA installed by `terraform/platform` with an IRSA role allowed to
//!   read exactly the scaled queues' attributes (`backend/aws/keda.rs`).
//!
//! Each refusal is what would otherwise scale on nothing:
//!
//! - DOKS and an existing cluster: SQS is AWS's (refused there on its own), and KEDA's
//!   operator would read a queue only with AWS credentials, which infragen holds on EKS
//!   alone (IRSA); an HPA on an `External` metric no adapter serves never scales (its
//!   condition `ScalingActive` stays false, "unable to get external metric").
//! - a RabbitMQ broker, or a name no queue has: there is no SQS metric to read.
//! - ECS with `cluster.container_insights: false`: `RunningTaskCount` (namespace
//!   `ECS/ContainerInsights`) is published only by Container Insights, and the expression
//!   without it has no data, so the policy never acts. (KEDA divides by the replicas the
//!   HPA counts itself.)
//! - a queue the service does not `use`: it would scale on a backlog it cannot read (nor has
//!   the IAM grant to receive from); on EKS the ScaledObject also reads the queue's URL from
//!   the service's own `<PREFIX>_URL`, which only a user of the queue has.
//!
//! - EKS with `rollout.strategy: blue_green`: both colours run, each with its own scaler,
//!   and each ScaledObject would size its colour for the whole queue (twice the fleet).
//!
//! `min` is at least 1 on both (`semantic/mod.rs`): KEDA would take `minReplicaCount: 0`
//! as "scale to zero", which ECS's policy cannot do, so the blueprint means one thing.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform, Strategy};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp
        .platform_on(c.provider)
        .filter(|_| c.provider == Provider::Aws);
    let ecs = platform == Some(Platform::EcsFargate);
    let eks = matches!(platform, Some(Platform::Eks | Platform::EksFargate));
    for (i, s) in bp.services.iter().enumerate() {
        let Some(q) = s.autoscaling.as_ref().and_then(|a| a.queue.as_ref()) else {
            continue;
        };
        let path = format!("services[{i}].autoscaling.queue");
        if !ecs && !eks {
            let d = c.error(
                &path,
                format!(
                    "scaling on an SQS queue's backlog is lowered for ECS Fargate and EKS only; here an autoscaler would read the queue's depth through KEDA with AWS credentials, which infragen has no way to give this cluster, so service `{}` would never scale",
                    s.name
                ),
            );
            d.expected = Some(
                "`cluster.platform: ecs_fargate`, `eks` or `eks_fargate` with an `engine: sqs` queue"
                    .into(),
            );
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
        if eks && s.rollout.strategy == Strategy::BlueGreen {
            // Both colours of a blue/green pair run, each scaled by its own autoscaler (as
            // with an HPA): on CPU each sees its own share of the load, but each colour's
            // ScaledObject would read the whole queue and size its colour for all of it.
            let d = c.error(
                &path,
                format!(
                    "service `{}` rolls out blue/green, whose two colours both run and would each be scaled for the whole backlog of `{}` (KEDA reads the queue's length, not a colour's share), doubling the fleet",
                    s.name, q.name
                ),
            );
            d.expected =
                Some("`rollout.strategy: rolling` or `canary` beside `autoscaling.queue`".into());
            d.help = Some(
                "roll the worker out `rolling` (or `canary`), or scale it on `cpu_percent`".into(),
            );
        }
        if q.messages_per_task == 0 {
            c.error(
                &format!("{path}.messages_per_task"),
                "must be at least 1 (messages waiting per running task)",
            );
        }
        if ecs
            && bp
                .cluster
                .as_ref()
                .is_some_and(|cl| !cl.container_insights())
        {
            c.error(
                &path,
                "backlog per task divides by Container Insights' `RunningTaskCount`, which ECS publishes only with Container Insights on; with `cluster.container_insights: false` the policy has no data and never scales",
            )
            .help = Some("drop `container_insights: false` from `cluster`, or scale on `cpu_percent`".into());
        }
    }
}
