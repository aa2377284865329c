//! The CronJob of each scheduled job (`jobs:`), beside its ConfigMap of plain `env`.
//!
//! The pod is built by the services' pod builder (`workload::pod_spec`) from the job's pod
//! as a service, so it is hardened identically (non-root, read-only root filesystem, no
//! privilege escalation, all capabilities dropped, seccomp `RuntimeDefault`, requests and
//! limits, no API token unless its ServiceAccount is declared with one), runs under its own
//! ServiceAccount (with the IRSA role services get on EKS), and reads the same connection
//! variables for what it `uses`. Its pods carry `app: <job>`, which the network policies
//! (`network_policy.rs`) select like a service's.
//!
//! A failed run restarts its container in place (`restartPolicy: OnFailure`) up to
//! `retries` times, so one run is one pod, which is what the quota counts (`quota.rs`).

use super::workload::{config_map, pod_annotations, pod_spec, scanner_skips};
use super::yaml::{Map, map};
use super::{Ctx, Workload};
use crate::blueprint::job::{DEFAULT_HISTORY, DEFAULT_RETRIES, Job};

/// The labels of a job's objects and pods.
fn labels<'c>(ctx: &'c Ctx, s: &'c Workload) -> Map<'c> {
    let mut l = ctx.app_labels(s.name(), "job", None);
    l.extend((&s.bp.labels).into());
    l
}

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, job: &'c Job, docs: &mut Vec<Map<'c>>) {
    let config_hash = config_map(ctx, s, labels(ctx, s), docs);
    let mut pod = pod_spec(ctx, s, false);
    pod.insert("restartPolicy", "OnFailure");
    let mut pod_labels = labels(ctx, s);
    ctx.add_common_labels(&mut pod_labels);
    let template = map! {
        "metadata" => map! {"labels" => pod_labels}
            .nonempty("annotations", pod_annotations(s, config_hash.as_deref())),
        "spec" => pod,
    };
    let run = map! {"backoffLimit" => job.retries.unwrap_or(DEFAULT_RETRIES)}
        .opt("activeDeadlineSeconds", job.active_deadline)
        .with("template", template);
    let history = job.history.unwrap_or(DEFAULT_HISTORY);
    let spec = map! {
        "schedule" => job.schedule.trim(),
        "timeZone" => job.timezone(),
        "concurrencyPolicy" => job.concurrency.unwrap_or_default().name(),
    }
    .opt("startingDeadlineSeconds", job.starting_deadline)
    .opt("suspend", job.suspend.then_some(true))
    .with("successfulJobsHistoryLimit", history)
    .with("failedJobsHistoryLimit", history)
    .with(
        "jobTemplate",
        map! {"metadata" => map! {"labels" => labels(ctx, s)}, "spec" => run},
    );
    let mut meta = ctx.meta(s.name(), &s.namespace, labels(ctx, s));
    let skips = scanner_skips(s);
    if !skips.is_empty() {
        meta.insert("annotations", skips);
    }
    docs.push(map! {
        "apiVersion" => "batch/v1",
        "kind" => "CronJob",
        "metadata" => meta,
        "spec" => spec,
    });
}
