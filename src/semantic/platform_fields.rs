//! Service and job fields that one family of platforms reads and the other cannot use, said
//! in a note where the blueprint sets them instead of being dropped without a word. They are
//! harmless there (a blueprint built for both ECS and a Kubernetes platform carries both
//! kinds), so a note, not an error; fields whose absence would break the service on a
//! platform are refused instead (`ecs_scaling.rs`: `autoscaling.requests` and `scheduled`).
//!
//! - On a Kubernetes platform (EKS, EKS Fargate, DOKS, an existing cluster): the ECS task
//!   definition's settings (`health_check`, `task`, `grace_period`, `log_group`), the ECS
//!   deployment's (`rollout.bake_minutes`, `canary_minutes`, `circuit_breaker`,
//!   `min_healthy_percent`, `max_percent`) and Application Auto Scaling's cooldowns
//!   (`autoscaling.scale_up.cooldown`, `scale_down.cooldown`); the HPA's `behavior` has no
//!   cooldown (its stabilization window is `stabilization_seconds`).
//! - On ECS Fargate: the pod's settings (`resources`, `namespace`, `probes.liveness` and
//!   `startup` — ECS restarts a container on its `health_check` and the ALB reads
//!   `probes.readiness` —, `image_pull_policy`, `service_port`,
//!   `service_account`, `security.fs_group`, `pdb`, `vpa`, `metrics`, `labels`, `version`),
//!   the Deployment's rolling update (`rollout.max_surge`, `max_unavailable`) and the HPA's
//!   behaviour (`stabilization_seconds`, `percent`, `period_seconds`), which ECS's target
//!   tracking has no setting for (it takes `cooldown`); of a job, the pod's settings and
//!   the CronJob's `history`. (`annotations` is refused on ECS, `ecs.rs`; `rollout.live`
//!   gets its own note from the ECS back-end.)

use crate::blueprint::types::{Blueprint, Platform, ScalingBehaviour, Service};
use crate::catalog::Provider;
use crate::diagnostic::Note;

pub fn notes(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    match (provider, bp.platform()) {
        (Provider::Aws, Some(Platform::EcsFargate)) => return ecs_notes(bp),
        // AWS without a cluster runs no service.
        (Provider::Aws, None) => return Vec::new(),
        _ => {}
    }
    let mut out = Vec::new();
    let listed = |pick: fn(&Service) -> Vec<&'static str>| -> Vec<String> {
        bp.services
            .iter()
            .filter_map(|s| {
                let fields = pick(s);
                (!fields.is_empty()).then(|| format!("{} ({})", s.name, fields.join(", ")))
            })
            .collect()
    };
    let task = listed(|s| {
        set(&[
            ("health_check", s.health_check.is_some()),
            ("task", s.task.is_some()),
            ("grace_period", s.grace_period.is_some()),
            ("log_group", s.log_group.is_some()),
        ])
    });
    let jobs: Vec<String> = bp
        .jobs
        .iter()
        .filter(|j| j.task.is_some() || j.log_group.is_some())
        .map(|j| j.name.clone())
        .collect();
    if !jobs.is_empty() {
        out.push(Note::plain(format!(
            "jobs: task and log_group are ECS settings, not used in Kubernetes manifests (`resources` size the pods): {}",
            jobs.join(", ")
        )));
    }
    if !task.is_empty() {
        out.push(Note::plain(format!(
            "services: health_check, task, grace_period and log_group are ECS settings, not used in Kubernetes manifests (the kubelet runs `probes`; `resources` size the pods): {}",
            task.join("; ")
        )));
    }
    let deployment = listed(|s| {
        let r = &s.rollout;
        let a = s.autoscaling.as_ref();
        let cooldown = |b: Option<&ScalingBehaviour>| b.is_some_and(|b| b.cooldown.is_some());
        set(&[
            ("rollout.bake_minutes", r.bake_minutes.is_some()),
            ("rollout.canary_minutes", r.canary_minutes.is_some()),
            ("rollout.circuit_breaker", r.circuit_breaker.is_some()),
            (
                "rollout.min_healthy_percent",
                r.min_healthy_percent.is_some(),
            ),
            ("rollout.max_percent", r.max_percent.is_some()),
            (
                "autoscaling.scale_up.cooldown",
                cooldown(a.and_then(|a| a.scale_up.as_ref())),
            ),
            (
                "autoscaling.scale_down.cooldown",
                cooldown(a.and_then(|a| a.scale_down.as_ref())),
            ),
        ])
    });
    if !deployment.is_empty() {
        out.push(Note::plain(format!(
            "services: ECS deployment and Application Auto Scaling settings, not used in Kubernetes manifests (a Deployment rolls out by `rollout.max_surge` / `max_unavailable`; an HPA dampens scaling by `stabilization_seconds`, `percent` and `period_seconds`): {}",
            deployment.join("; ")
        )));
    }
    out
}

fn ecs_notes(bp: &Blueprint) -> Vec<Note> {
    let behaviour = |b: Option<&ScalingBehaviour>| {
        b.is_some_and(|b| {
            b.stabilization_seconds.is_some() || b.percent.is_some() || b.period_seconds.is_some()
        })
    };
    let services: Vec<String> = bp
        .services
        .iter()
        .filter_map(|s| {
            let a = s.autoscaling.as_ref();
            let fields = set(&[
                ("resources", s.resources.is_some()),
                ("namespace", s.namespace.is_some()),
                ("probes.liveness", s.probes.liveness.is_some()),
                ("probes.startup", s.probes.startup.is_some()),
                ("image_pull_policy", s.image_pull_policy.is_some()),
                ("service_port", s.service_port.is_some()),
                ("service_account", s.service_account.is_some()),
                ("security.fs_group", s.security.fs_group.is_some()),
                ("pdb", s.pdb.is_some()),
                ("vpa", s.vpa.is_some()),
                ("metrics", s.metrics.is_some()),
                ("labels", !s.labels.is_empty()),
                ("version", s.version.is_some()),
                ("rollout.max_surge", s.rollout.max_surge.is_some()),
                (
                    "rollout.max_unavailable",
                    s.rollout.max_unavailable.is_some(),
                ),
                (
                    "autoscaling.scale_up",
                    behaviour(a.and_then(|a| a.scale_up.as_ref())),
                ),
                (
                    "autoscaling.scale_down",
                    behaviour(a.and_then(|a| a.scale_down.as_ref())),
                ),
            ]);
            (!fields.is_empty()).then(|| format!("{} ({})", s.name, fields.join(", ")))
        })
        .collect();
    let jobs: Vec<String> = bp
        .jobs
        .iter()
        .filter_map(|j| {
            let fields = set(&[
                ("resources", j.resources.is_some()),
                ("image_pull_policy", j.image_pull_policy.is_some()),
                ("service_account", j.service_account.is_some()),
                ("security.fs_group", j.security.fs_group.is_some()),
                ("labels", !j.labels.is_empty()),
                ("history", j.history.is_some()),
            ]);
            (!fields.is_empty()).then(|| format!("{} ({})", j.name, fields.join(", ")))
        })
        .collect();
    let mut out = Vec::new();
    if !services.is_empty() {
        out.push(Note::plain(format!(
            "services: Kubernetes settings, not used on ECS Fargate (`task` sizes the task, the container's `health_check` restarts it and the load balancer checks `probes.readiness`, `min_healthy_percent` / `max_percent` pace a deployment, `scale_up` / `scale_down` take only `cooldown` there): {}",
            services.join("; ")
        )));
    }
    if !jobs.is_empty() {
        out.push(Note::plain(format!(
            "jobs: Kubernetes settings, not used on ECS Fargate (`task` sizes the task; a schedule keeps no finished runs): {}",
            jobs.join("; ")
        )));
    }
    out
}

/// The names of the fields that are set.
fn set(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields.iter().filter(|(_, s)| *s).map(|(f, _)| *f).collect()
}
