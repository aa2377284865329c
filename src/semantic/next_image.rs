//! `rollout.next_image`: the image of a service's second Deployment on Kubernetes platforms
//! (the canary track, or the blue/green colour that is not `live`), so two versions of one
//! service run side by side — what a canary or a blue/green switch is for. Before it, both
//! Deployments ran `image`, and a canary of a new version needed an `overrides:` patch that
//! restated every container (a merge patch replaces lists whole).
//!
//! Refused where it cannot mean anything: beside `rolling` or `recreate` (one Deployment),
//! and on ECS, whose blue/green and canary deployments move from the running task
//! definition to the one a changed `image` makes (`backend::aws::ecs_deployments`). Pinned
//! as `image` is, so a rollout can be repeated.

use super::Checker;
use super::containers::pinned;
use crate::blueprint::types::{Blueprint, Platform, Strategy};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(next) = &s.rollout.next_image else {
            continue;
        };
        let at = format!("services[{i}].rollout.next_image");
        if !matches!(s.rollout.strategy, Strategy::Canary | Strategy::BlueGreen) {
            c.error(
                &at,
                "only `strategy: canary` or `blue_green` run a second Deployment for `next_image`",
            )
            .help = Some(
                "use `strategy: canary` (a share of the traffic) or `blue_green` (an idle colour), or drop `next_image` and change `image`".into(),
            );
        } else if ecs {
            c.error(
                &at,
                "ECS's blue/green and canary deployments move from the running task definition to the one a new `image` makes: there is no second image to give",
            )
            .help = Some("drop `next_image` and change `image`; ECS shifts the traffic".into());
        }
        if !pinned(next) {
            c.error(&at, format!("image `{next}` is not pinned to a version"))
                .help = Some("give a tag such as `:1.27.3`, or a digest `@sha256:…`".into());
        }
    }
}
