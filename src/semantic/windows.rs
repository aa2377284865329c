//! Maintenance, backup and snapshot windows the AWS data services refuse, checked where they
//! are written.
//!
//! - RDS: the backup and the maintenance window are at least 30 minutes
//!   (<https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html>,
//!   PreferredBackupWindow, PreferredMaintenanceWindow) and must not overlap ("The backup
//!   window and maintenance window must not overlap"; windows that only touch are accepted).
//! - ElastiCache: the snapshot and the maintenance window are at least 60 minutes
//!   ("Snapshot window must be at least 60 minutes", hashicorp/terraform-provider-aws#2153;
//!   "The minimum maintenance window is a 60 minute period", CreateReplicationGroup) and must
//!   not overlap ("The snapshot window and maintenance window must not overlap",
//!   hashicorp/terraform#17247).
//! - DigitalOcean managed databases and caches: the window is a day and an *hour* ("hour-long
//!   blocks of time … specify a day of the week and an hour of that day", `doctl databases
//!   maintenance-window update`; the API's `hour`, "The hour in UTC at which maintenance
//!   updates will be applied in 24 hour format", example `14:00`). A start with minutes is
//!   no hour DigitalOcean documents: refused or moved by the API, and the provider compares
//!   `hour` to the minute (its DiffSuppressFunc drops only the seconds), so a moved start is
//!   a change at every plan. Refused where it is written.

use super::Checker;
use crate::blueprint::types::{Blueprint, DatabaseEngine, Deployment};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider == Provider::Digitalocean {
        on_the_hour(c, bp);
    }
    if c.provider != Provider::Aws {
        return;
    }
    let at_least = |c: &mut Checker, path: String, minutes: u32, min: u32, what: &str| {
        if minutes < min {
            c.error(
                &path,
                format!("{what} must be at least {min} minutes, got {minutes}"),
            );
        }
    };
    for (i, d) in bp.databases.iter().enumerate() {
        if d.deployment != Deployment::Managed || d.engine == DatabaseEngine::Mongodb {
            continue;
        }
        if let Some(w) = d.backup.as_ref().and_then(|b| b.window) {
            let path = format!("databases[{i}].backup.window");
            at_least(c, path, w.minutes(), 30, "an RDS backup window");
        }
        if let Some(m) = d.maintenance_window {
            let path = format!("databases[{i}].maintenance_window");
            at_least(c, path, m.minutes(), 30, "an RDS maintenance window");
            if let Some(b) = d.backup.as_ref().and_then(|b| b.window)
                && m.overlaps(&b)
            {
                c.error(
                    &format!("databases[{i}].backup.window"),
                    format!(
                        "the backup window `{}` overlaps the maintenance window `{}`: RDS refuses overlapping windows",
                        b.aws(),
                        m.aws()
                    ),
                )
                .help = Some("move one of them; windows that only touch (03:00-04:00 and sun:04:00-sun:05:00) are fine".into());
            }
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        if k.deployment != Deployment::Managed {
            continue;
        }
        let snapshot = k.snapshots.as_ref().and_then(|s| s.window);
        if let Some(w) = snapshot {
            let path = format!("caches[{i}].snapshots.window");
            at_least(c, path, w.minutes(), 60, "an ElastiCache snapshot window");
        }
        if let Some(m) = k.maintenance_window {
            let path = format!("caches[{i}].maintenance_window");
            at_least(
                c,
                path,
                m.minutes(),
                60,
                "an ElastiCache maintenance window",
            );
            if let Some(w) = snapshot
                && m.overlaps(&w)
            {
                c.error(
                    &format!("caches[{i}].snapshots.window"),
                    format!(
                        "the snapshot window `{}` overlaps the maintenance window `{}`: ElastiCache refuses overlapping windows",
                        w.aws(),
                        m.aws()
                    ),
                )
                .help = Some("move one of them".into());
            }
        }
    }
}

/// DigitalOcean's database maintenance windows start on the hour (see the module's doc).
fn on_the_hour(c: &mut Checker, bp: &Blueprint) {
    let databases = bp.databases.iter().enumerate().map(|(i, d)| {
        (
            format!("databases[{i}].maintenance_window"),
            d.deployment,
            d.maintenance_window,
        )
    });
    let caches = bp.caches.iter().enumerate().map(|(i, k)| {
        (
            format!("caches[{i}].maintenance_window"),
            k.deployment,
            k.maintenance_window,
        )
    });
    for (path, deployment, window) in databases.chain(caches) {
        let Some(w) = window.filter(|w| w.minute != 0) else {
            continue;
        };
        if deployment != Deployment::Managed {
            continue;
        }
        c.error(
            &path,
            format!(
                "`{w}` starts at minute {}: a DigitalOcean database's maintenance window is a day and an hour",
                w.minute
            ),
        )
        .help = Some(format!(
            "start it on the hour, e.g. `{}:{:02}:00`",
            w.day_abbr(),
            w.hour
        ));
    }
}
