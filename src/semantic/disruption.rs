//! PodDisruptionBudgets (`services[].pdb`): a budget must let at least one pod go when the
//! service is at rest (its `replicas`, or its autoscaler's `min`). One that allows none —
//! `min_available` equal to the pods, `max_unavailable: 0`, `min_available: "100%"` —
//! blocks every eviction: `kubectl drain` waits forever, the cluster autoscaler never
//! removes the node, an EKS managed node group upgrade fails with PodEvictionFailure, and a
//! DOKS upgrade stalls until its drain timeout. Kubernetes accepts such a budget without a
//! word, so it is refused here, with the largest value that still lets a node drain.
//!
//! The arithmetic is the disruption controller's: a percentage of the expected pods is
//! rounded up (for `min_available` and `max_unavailable` alike), and the budget allows
//! `pods − desiredHealthy` disruptions.
//! <https://kubernetes.io/docs/tasks/run-application/configure-pdb/#rounding-logic-when-specifying-percentages>

use super::Checker;
use crate::blueprint::types::{Blueprint, Pdb, Platform};

/// A budget value: a count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Count(u32),
    Percent(u32),
}

fn parse(s: &str) -> Option<Value> {
    let s = s.trim();
    match s.strip_suffix('%') {
        Some(p) => p.parse().ok().filter(|p| *p <= 100).map(Value::Percent),
        None => s.parse().ok().map(Value::Count),
    }
}

/// `value` of `pods`, as the disruption controller scales it (percentages rounded up).
fn scaled(value: Value, pods: u32) -> u32 {
    match value {
        Value::Count(n) => n,
        Value::Percent(p) => (pods * p).div_ceil(100),
    }
}

/// Evictions the budget allows with `pods` running.
fn allowed(pdb: &Pdb, pods: u32) -> Option<u32> {
    if let Some(m) = &pdb.min_available {
        return Some(pods.saturating_sub(scaled(parse(m)?, pods)));
    }
    let m = parse(pdb.max_unavailable.as_deref()?)?;
    Some(scaled(m, pods).min(pods))
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if bp.platform_on(c.provider) == Some(Platform::EcsFargate) {
        // ECS has no budgets; nothing is written.
        return;
    }
    for (i, s) in bp.services.iter().enumerate() {
        let Some(pdb) = &s.pdb else { continue };
        let (field, value) = match (&pdb.min_available, &pdb.max_unavailable) {
            (Some(v), None) => ("min_available", v),
            (None, Some(v)) => ("max_unavailable", v),
            // Neither or both: reported with the other references.
            _ => continue,
        };
        let path = format!("services[{i}].pdb.{field}");
        if parse(value).is_none() {
            c.error(
                &path,
                format!("`{value}` is not a pod count or a percentage"),
            )
            .expected = Some("a whole number such as `1`, or a percentage such as `50%`".into());
            continue;
        }
        let (pods, what) = match &s.autoscaling {
            Some(a) => (a.min, "its autoscaler's minimum"),
            None => (s.replicas, "its replicas"),
        };
        if allowed(pdb, pods) == Some(0) {
            let d = c.error(
                &path,
                format!(
                    "`{field}: {value}` with {pods} pod(s) at rest ({what}) allows no pod to be evicted: every node drain, autoscaler scale-in and node-pool upgrade would wait on it forever"
                ),
            );
            d.help = Some(if pods >= 2 {
                format!(
                    "use `min_available: \"{}\"` or `max_unavailable: \"1\"`, or run more pods",
                    pods - 1
                )
            } else {
                "a single pod cannot stay up through a drain: run two or more pods, or drop `pdb`"
                    .into()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdb(min: Option<&str>, max: Option<&str>) -> Pdb {
        Pdb {
            min_available: min.map(String::from),
            max_unavailable: max.map(String::from),
        }
    }

    #[test]
    fn disruptions_follow_the_controller() {
        assert_eq!(allowed(&pdb(Some("2"), None), 3), Some(1));
        assert_eq!(allowed(&pdb(Some("2"), None), 2), Some(0));
        assert_eq!(allowed(&pdb(Some("2"), None), 1), Some(0));
        // 50 % of 1 pod rounds up to 1: nothing may go.
        assert_eq!(allowed(&pdb(Some("50%"), None), 1), Some(0));
        assert_eq!(allowed(&pdb(Some("50%"), None), 3), Some(1));
        assert_eq!(allowed(&pdb(Some("100%"), None), 5), Some(0));
        assert_eq!(allowed(&pdb(None, Some("0")), 5), Some(0));
        assert_eq!(allowed(&pdb(None, Some("0%")), 5), Some(0));
        // 10 % of 3 pods rounds up to 1.
        assert_eq!(allowed(&pdb(None, Some("10%")), 3), Some(1));
        assert_eq!(allowed(&pdb(None, Some("1")), 1), Some(1));
        assert_eq!(allowed(&pdb(None, Some("abc")), 1), None);
        assert_eq!(parse("150%"), None);
    }
}
