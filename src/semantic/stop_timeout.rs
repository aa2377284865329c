//! `services[].stop_timeout`, the seconds between SIGTERM and SIGKILL. Refused where it
//! cannot be what it says:
//!
//! - `0` everywhere: Kubernetes reads a grace period of 0 as "kill at once, no chance to
//!   shut down" (`terminationGracePeriodSeconds`), the opposite of what a worker asking for
//!   time to finish wants; leaving the field out keeps the platform's 30 s.
//!   <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#lifecycle>
//! - past 120 on ECS: "For tasks that use the Fargate launch type, the max stop timeout
//!   value is 120 seconds" (`ContainerDefinition.stopTimeout`), so a longer task must be
//!   made resumable (Celery `acks_late`, a checkpoint) rather than waited for.
//!   <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html>

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

/// Fargate's longest `stopTimeout`.
const FARGATE_MAX: u32 = 120;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(t) = s.stop_timeout else { continue };
        let path = format!("services[{i}].stop_timeout");
        if t == 0 {
            c.error(
                &path,
                "a stop timeout of 0 kills the container at once, without the SIGTERM it would shut down on",
            )
            .help = Some("give the seconds its shutdown takes, or leave the field out for the default 30".into());
        } else if ecs && t > FARGATE_MAX {
            let e = c.error(
                &path,
                format!("ECS on Fargate waits at most {FARGATE_MAX} seconds between SIGTERM and SIGKILL, got {t}"),
            );
            e.expected = Some(format!("1–{FARGATE_MAX}"));
            e.help = Some("a task that runs longer than that must survive being killed: acknowledge it only when done (Celery `acks_late`, with `task_reject_on_worker_lost`) so another worker runs it again".into());
        }
    }
}
