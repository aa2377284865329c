//! Scheduled jobs (`jobs:`): the schedule is five cron fields Kubernetes accepts (and, on
//! ECS, one EventBridge Scheduler can express), names are unique across services and jobs
//! (both name pods, ServiceAccounts, task definitions and security groups), and settings a
//! platform cannot carry out are refused where they are written. `uses`, secrets, node
//! pools and namespaces are checked with the services' (`references.rs`), quantities with
//! every other quantity (`quantities.rs`).

use std::collections::BTreeMap;

use super::Checker;
use crate::blueprint::cron;
use crate::blueprint::job::Concurrency;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

/// EventBridge Scheduler's bounds on a target's retry policy.
const MAX_EVENT_AGE: std::ops::RangeInclusive<u32> = 60..=86_400;
const MAX_RETRIES: u32 = 185;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let services: BTreeMap<&str, usize> = bp
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, j) in bp.jobs.iter().enumerate() {
        let path = format!("jobs[{i}]");
        if let Some(s) = services.get(j.name.as_str()) {
            c.error(
                &format!("{path}.name"),
                format!("`{}` is also the name of `services[{s}]`", j.name),
            )
            .help = Some(
                "services and jobs share ServiceAccounts, IAM roles and security groups by name; rename one"
                    .into(),
            );
        }
        // In-cluster databases run their own CronJob and Job under these names.
        if let Some(d) = bp.databases.iter().find(|d| {
            j.name == format!("{}-backup", d.name) || j.name == format!("{}-rs-init", d.name)
        }) {
            c.error(
                &format!("{path}.name"),
                format!(
                    "`{}` is the name of database `{}`'s own job where it runs in the cluster",
                    j.name, d.name
                ),
            )
            .help = Some("rename the job".into());
        }
        match cron::parse(&j.schedule) {
            Err(e) => {
                c.error(&format!("{path}.schedule"), e).expected = Some(
                    "five cron fields: minute hour day-of-month month day-of-week (Sunday = 0), e.g. `30 3 * * *`, or `@daily`"
                        .into(),
                );
            }
            Ok(parsed) => {
                if ecs && let Err(e) = cron::aws(&parsed) {
                    c.error(&format!("{path}.schedule"), e).help = Some(
                        "use `*` in one day field (split the job in two if it must run on both kinds of day)"
                            .into(),
                    );
                }
            }
        }
        if let Some(tz) = &j.timezone
            && !timezone(tz)
        {
            c.error(
                &format!("{path}.timezone"),
                format!("`{tz}` is not an IANA time zone name"),
            )
            .expected = Some("e.g. `Etc/UTC`, `Europe/Berlin`, `America/New_York`".into());
        }
        if !ecs {
            continue;
        }
        // EventBridge Scheduler starts a task at every tick, whatever still runs.
        if let Some(cc) = j.concurrency.filter(|&cc| cc != Concurrency::Allow) {
            c.error(
                &format!("{path}.concurrency"),
                format!(
                    "`{}` cannot be carried out on ECS: EventBridge Scheduler starts a task at every tick, whether the previous one still runs or not",
                    cc.name()
                ),
            )
            .help = Some("use `concurrency: Allow` on ECS (make the job safe to overlap, e.g. with a lock in its database)".into());
        }
        if !j.annotations.is_empty() {
            c.error(
                &format!("{path}.annotations"),
                "`annotations` is for Kubernetes pods; ECS task definitions have none",
            )
            .help = Some("drop `annotations` on ECS".into());
        }
        if j.active_deadline.is_some() {
            c.error(
                &format!("{path}.active_deadline"),
                "ECS has no task timeout, so the deadline would not be enforced",
            )
            .help = Some(
                "drop `active_deadline` on ECS and bound the run in the container (e.g. `command: [timeout, \"3600\", …]`)"
                    .into(),
            );
        }
        if let Some(d) = j.starting_deadline
            && !MAX_EVENT_AGE.contains(&d)
        {
            c.error(
                &format!("{path}.starting_deadline"),
                format!(
                    "EventBridge Scheduler keeps retrying a run for 60 to 86400 seconds, got {d}"
                ),
            );
        }
        if let Some(r) = j.retries
            && r > MAX_RETRIES
        {
            c.error(
                &format!("{path}.retries"),
                format!("EventBridge Scheduler retries a run at most {MAX_RETRIES} times, got {r}"),
            );
        }
    }
}

/// An IANA zone name's shape (`Area/Location`, `UTC`, `Etc/GMT+5`): the zone database
/// itself is the cluster's and AWS's, so only the spelling is checked here.
fn timezone(tz: &str) -> bool {
    !tz.is_empty()
        && tz.len() <= 64
        && tz.as_bytes()[0].is_ascii_alphabetic()
        && tz
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !tz.contains("//")
        && !tz.ends_with('/')
}

#[cfg(test)]
mod tests {
    #[test]
    fn timezones() {
        for ok in [
            "Etc/UTC",
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(super::timezone(ok), "{ok}");
        }
        for bad in ["", "Europe Berlin", "/UTC", "Europe/", "TZ=UTC"] {
            assert!(!super::timezone(bad), "{bad}");
        }
    }
}
