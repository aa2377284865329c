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

use super::Checker;
use crate::blueprint::types::{Blueprint, DatabaseEngine, Deployment};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
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
