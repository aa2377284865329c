//! What ECS's own blue/green and canary deployments (`rollout.strategy`, lowered in
//! `backend::aws::ecs_deployments`) cannot take or cannot do, refused where it is written.
//! Checked for `--provider aws` with `cluster.platform: ecs_fargate`.
//!
//! - **One listener rule.** ECS shifts a service's traffic by re-weighting exactly one
//!   production listener rule per target group (`advancedConfiguration.productionListenerRule`).
//!   A service whose routes become several rules (several hosts, paths of different depths,
//!   more than three path patterns: see `listener_rules`) would have its other rules
//!   left forwarding to the group ECS empties after the first deployment, and those routes
//!   would answer 503. Refused at the strategy.
//!   <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AdvancedConfiguration.html>
//! - **Bake times.** ECS takes 0–1440 minutes for `bakeTimeInMinutes` and
//!   `canaryBakeTimeInMinutes` (`rollout.bake_minutes`, `rollout.canary_minutes`).
//!   <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html>
//! - **Requests per target.** Each deployment moves the live tasks to the other target group,
//!   and a target tracking policy on `ALBRequestCountPerTarget` follows one group: after every
//!   other deployment it would see no requests and scale the service in to its minimum.
//!   Refused at `autoscaling.requests`.

use super::Checker;
use super::listener_rules;
use crate::blueprint::types::{Blueprint, Platform, Strategy};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    if !ecs {
        return;
    }
    // ECS takes bake times of 0–1440 minutes (`bakeTimeInMinutes`, `canaryBakeTimeInMinutes`).
    for (i, s) in bp.services.iter().enumerate() {
        for (field, value) in [
            ("bake_minutes", s.rollout.bake_minutes),
            ("canary_minutes", s.rollout.canary_minutes),
        ] {
            if let Some(v) = value.filter(|v| *v > 1440) {
                c.error(
                    &format!("services[{i}].rollout.{field}"),
                    format!("ECS takes 0 to 1440 minutes (24 hours), got {v}"),
                );
            }
        }
    }
    // Behind the load balancer: routes, a load balancer and the network it needs
    // (`backend::aws::edge::routed`).
    if bp.load_balancer.is_none() || bp.network.is_none() {
        return;
    }
    for (i, s) in bp.services.iter().enumerate() {
        let strategy = match s.rollout.strategy {
            Strategy::Rolling | Strategy::Recreate => continue,
            Strategy::BlueGreen => "blue_green",
            Strategy::Canary => "canary",
        };
        if s.routes.is_empty() {
            continue;
        }
        // A blue/green or canary service is never the listener's default: every route of it
        // is a rule (`edge::served_by_default`).
        let rules = listener_rules::plan(&[s], None);
        if rules.len() > 1 {
            let shown: Vec<String> = rules
                .iter()
                .map(|r| {
                    let paths = if r.paths.is_empty() {
                        "every path".to_string()
                    } else {
                        r.paths.join(", ")
                    };
                    match &r.host {
                        Some(h) => format!("{h}: {paths}"),
                        None => paths,
                    }
                })
                .collect();
            c.error(
                &format!("services[{i}].rollout.strategy"),
                format!(
                    "`{strategy}` on ECS shifts traffic by re-weighting one listener rule, but the routes of `{}` need {} rules ({}): the others would keep forwarding to the target group ECS empties after the first deployment",
                    s.name,
                    rules.len(),
                    shown.join("; ")
                ),
            )
            .help = Some(
                "give the service routes one listener rule holds (one host or none; paths of one depth, at most three patterns, a prefix path being two: `/api` and `/api/*`), split it into services, or use `strategy: rolling`".into(),
            );
        }
        if s.autoscaling.as_ref().is_some_and(|a| a.requests.is_some()) {
            c.error(
                &format!("services[{i}].autoscaling.requests"),
                format!(
                    "`{strategy}` on ECS moves the live tasks of `{}` to the other of its two target groups at every deployment, and scaling on requests per target follows one group: after every other deployment it would see no requests and scale the service in to its minimum",
                    s.name
                ),
            )
            .help = Some(
                "scale on `cpu_percent` or `memory_percent`, or use `strategy: rolling`".into(),
            );
        }
    }
}
