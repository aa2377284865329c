//! `services[].autoscaling.requests` and `services[].autoscaling.scheduled`: Application Auto
//! Scaling features that exist for ECS services alone, refused on every Kubernetes target
//! (EKS, EKS Fargate, DOKS, an existing cluster) instead of being dropped silently.
//!
//! - **`requests`** is a target tracking policy on `ALBRequestCountPerTarget`, the
//!   requests each registered target of one ALB target group receives ("ALBRequestCountPerTarget",
//!   Application Auto Scaling predefined metrics; `backend/aws/ecs.rs` gives the target
//!   group as `resource_label`). On EKS the load balancer's targets are the ingress
//!   controller's (or the Envoy proxies') pods, not the service's; on DOKS and an existing
//!   cluster there is no ALB at all. An HPA on requests would need a custom or external
//!   metrics adapter (Prometheus Adapter, KEDA), which infragen does not install, and an HPA
//!   metric no adapter serves never scales (`ScalingActive` stays false).
//! - **`scheduled`** becomes `aws_appautoscaling_scheduled_action`s that set the scalable
//!   target's min and max capacity at a time. Kubernetes has no such object: the nearest,
//!   KEDA's `cron` scaler, holds `desiredReplicas` between a start and an end rather than
//!   moving the bounds at one instant, so it is not the same blueprint and is not emulated.
//!
//! Each is refused where it is written, with what works on the platform instead. On ECS,
//! `requests` is refused on a service without `routes` here (no target group to track), on a
//! portless worker in `workers.rs`, and with ECS blue/green or canary in `ecs_rollout.rs`.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate) {
        unrouted_requests(c, bp);
        return;
    }
    let Some(on) = kubernetes_target(c.provider, bp.platform()) else {
        return;
    };
    let keda = c.provider == Provider::Aws;
    for (i, s) in bp.services.iter().enumerate() {
        let Some(a) = &s.autoscaling else { continue };
        let path = format!("services[{i}].autoscaling");
        // A service without a port has no load balancer in front of it on any platform:
        // `workers.rs` says so at the same position.
        if a.requests.is_some() && s.port.is_some() {
            let d = c.error(
                &format!("{path}.requests"),
                format!(
                    "scaling on requests per target is an ECS target tracking policy on the ALB's `ALBRequestCountPerTarget`; on {on} no load balancer targets the pods of `{}` (the ingress controller or gateway stands in front of them) and no metrics adapter serves a request rate to a HorizontalPodAutoscaler, so the service would never scale on it",
                    s.name
                ),
            );
            d.expected = Some("`cluster.platform: ecs_fargate` with `--provider aws`".into());
            d.help = Some(if keda {
                "scale on `cpu_percent` or `memory_percent` (a queue worker: `autoscaling.queue`, KEDA on EKS); see *Autoscaling* in docs/blueprint.md".into()
            } else {
                "scale on `cpu_percent` or `memory_percent`; see *Autoscaling* in docs/blueprint.md"
                    .into()
            });
        }
        if !a.scheduled.is_empty() {
            let d = c.error(
                &format!("{path}.scheduled"),
                format!(
                    "scheduled capacity changes are ECS scheduled actions (Application Auto Scaling); on {on} there is no object that sets the bounds of `{}`'s autoscaler at a time, so the schedule would never apply",
                    s.name
                ),
            );
            d.expected = Some("`cluster.platform: ecs_fargate` with `--provider aws`".into());
            d.help = Some(
                "drop `scheduled` here: a CronJob that patches the HorizontalPodAutoscaler, or KEDA's `cron` scaler (which holds a replica count between a start and an end, not min/max) through an `extra:` template; see *Autoscaling* in docs/blueprint.md".into(),
            );
        }
    }
}

/// On ECS, `requests` reads the target group of the service's routes (`edge::routed`): a
/// service with a port but no `routes` has no target group, and its scalable target would
/// get no policy at all (it stayed at `min` with only a note). Refused; a portless worker is
/// refused in `workers.rs`.
fn unrouted_requests(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        if s.port.is_some()
            && s.routes.is_empty()
            && s.autoscaling.as_ref().is_some_and(|a| a.requests.is_some())
        {
            let d = c.error(
                &format!("services[{i}].autoscaling.requests"),
                format!(
                    "service `{}` has no `routes`, so the load balancer has no target group for it whose `ALBRequestCountPerTarget` could be tracked, and it would never scale",
                    s.name
                ),
            );
            d.expected = Some("`routes` on the service, behind the `load_balancer`".into());
            d.help = Some("route it through the load balancer, or scale it on `cpu_percent` or `memory_percent`".into());
        }
    }
}

/// The Kubernetes platform the blueprint is built as on `provider`, as the errors name it;
/// `None` on ECS Fargate (which lowers both fields) and on AWS without a `cluster`.
fn kubernetes_target(provider: Provider, platform: Option<Platform>) -> Option<&'static str> {
    match (provider, platform) {
        (Provider::Kubernetes, _) => Some("an existing Kubernetes cluster"),
        (Provider::Digitalocean, _) => Some("DOKS"),
        (Provider::Aws, Some(Platform::Eks)) => Some("EKS"),
        (Provider::Aws, Some(Platform::EksFargate)) => Some("EKS Fargate"),
        (Provider::Aws, _) => None,
    }
}
