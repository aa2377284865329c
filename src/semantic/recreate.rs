//! `rollout.strategy: recreate`: every old pod or task stops before a new one starts, so a
//! singleton (Celery beat, a clock process) never runs twice — a rolling update, even with
//! `max_surge: 0`, starts the new pod while the old one is still terminating. Kubernetes'
//! `Recreate` type takes no `rollingUpdate` (the API server refuses one beside it), and on
//! ECS the strategy *is* its deployment percentages (minimum healthy 0 %, maximum 100 %),
//! so the fields that would tune a rolling update are refused beside it rather than
//! dropped or let to bring the overlap back.

use super::Checker;
use crate::blueprint::types::{Blueprint, Strategy};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        let r = &s.rollout;
        if r.strategy != Strategy::Recreate {
            continue;
        }
        const ROLLING: &str = "`strategy: rolling` to tune a rolling update";
        // A canary's weight tunes a second revision running beside the first, which
        // recreate never has. (ECS's `bake_minutes` and `canary_minutes` get the note
        // `ecs_deployments` gives them beside any strategy that does not use them.)
        const TWO_TRACKS: &str = "`strategy: canary` to run a canary beside the live pods";
        let set = [
            ("max_surge", r.max_surge.is_some(), ROLLING),
            ("max_unavailable", r.max_unavailable.is_some(), ROLLING),
            (
                "min_healthy_percent",
                r.min_healthy_percent.is_some(),
                ROLLING,
            ),
            ("max_percent", r.max_percent.is_some(), ROLLING),
            ("canary_weight", r.canary_weight.is_some(), TWO_TRACKS),
        ];
        for (field, given, instead) in set {
            if given {
                c.error(
                    &format!("services[{i}].rollout.{field}"),
                    format!("`strategy: recreate` stops every old pod or task before a new one starts, so `{field}` has nothing to tune"),
                )
                .help = Some(format!("drop `{field}`, or use {instead}"));
            }
        }
    }
}
