//! Rules the cloud APIs enforce at apply time that no schema carries, checked before
//! anything is written: what would make `terraform plan` stop for input in CI or `apply` fail
//! is refused here with the field to change.

use super::Checker;
use crate::blueprint::types::{Blueprint, DatabaseEngine, Deployment, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    notify(c, bp);
    if c.provider != Provider::Aws {
        return;
    }
    certificate(c, bp);
    state_bucket(c, bp);
    tag_keys(c, bp);
    rds_windows(c, bp);
}

const WEEK: u32 = 7 * 24 * 60;

/// Minute-of-week intervals `[start, end)`, split at the week's end.
fn intervals(start: u32, end: u32) -> Vec<(u32, u32)> {
    if end > start {
        vec![(start, end)]
    } else {
        vec![(start, WEEK), (0, end)]
    }
}

/// RDS refuses a backup window that overlaps the maintenance window ("The backup window and
/// maintenance window must not overlap"); windows that only touch are accepted.
fn rds_windows(c: &mut Checker, bp: &Blueprint) {
    for (i, d) in bp.databases.iter().enumerate() {
        // In-cluster databases back up with a CronJob; only RDS has both windows.
        if d.deployment != Deployment::Managed || d.engine == DatabaseEngine::Mongodb {
            continue;
        }
        let (Some(m), Some(b)) = (
            d.maintenance_window,
            d.backup.as_ref().and_then(|b| b.window),
        ) else {
            continue;
        };
        let at = |day: usize, h: u32, min: u32| day as u32 * 1440 + h * 60 + min;
        let maintenance = intervals(at(m.day, m.hour, m.minute), at(m.end.0, m.end.1, m.end.2));
        let overlaps = (0..7).any(|day| {
            let start = at(day, b.start.0, b.start.1);
            let mut end = at(day, b.end.0, b.end.1);
            if end <= start {
                end += 1440;
            }
            intervals(start % WEEK, end % WEEK)
                .iter()
                .any(|&(bs, be)| maintenance.iter().any(|&(ms, me)| bs < me && ms < be))
        });
        if overlaps {
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

/// Every environment's `bootstrap` creates the state bucket. S3 bucket names are global
/// across all accounts, so a name shared by two environments makes the second bootstrap fail
/// (BucketAlreadyExists / BucketAlreadyOwnedByYou), even when they deploy to different
/// accounts. The name is the blueprint's, kept exactly; it must vary with the environment
/// unless the blueprint lists a single one (without `environments`, any name is accepted).
fn state_bucket(c: &mut Checker, bp: &Blueprint) {
    let Some(s) = &bp.state else {
        return;
    };
    if c.loaded.environments.len() == 1 {
        return;
    }
    let env = c.loaded.env.clone();
    if !s.bucket.contains(env.as_str()) {
        c.error(
            "state.bucket",
            format!(
                "`{}` is the same in every environment: each environment's bootstrap creates its state bucket, and S3 bucket names are unique across all of AWS",
                s.bucket
            ),
        )
        .help = Some(format!(
            "put `{{env}}` in the name, e.g. `{}-{{env}}`",
            s.bucket
        ));
    }
}

/// The ECS load balancer's HTTPS listener needs a certificate. Without a domain (an ACM
/// certificate is issued) or an ARN there is nothing to present, and a Terraform variable
/// without a default would make `plan` stop and prompt in CI.
fn certificate(c: &mut Checker, bp: &Blueprint) {
    let ecs = bp
        .cluster
        .as_ref()
        .is_some_and(|cl| cl.platform == Platform::EcsFargate);
    let Some(lb) = &bp.load_balancer else {
        return;
    };
    if ecs && lb.certificate.domain.is_none() && lb.certificate.arn.is_none() {
        c.error(
            "load_balancer",
            "the HTTPS listener needs a certificate: give `certificate.domain` (an ACM certificate is issued, DNS-validated) or `certificate.arn` (an existing ACM certificate)",
        )
        .help = Some(
            "e.g. `certificate: { arn: arn:aws:acm:us-east-1:123456789012:certificate/<id> }`"
                .into(),
        );
    }
}

/// `observability.notify`: SNS delivers to e-mail addresses and HTTPS endpoints (plain HTTP
/// would send alarm contents in clear text).
fn notify(c: &mut Checker, bp: &Blueprint) {
    let Some(obs) = &bp.observability else {
        return;
    };
    for (i, n) in obs.notify.iter().enumerate() {
        let https = n
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        let email = !n.contains("://")
            && n.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !n.chars().any(char::is_whitespace)
            });
        if !https && !email {
            c.error(
                &format!("observability.notify[{i}]"),
                format!("`{n}` is neither an e-mail address nor an HTTPS URL"),
            )
            .expected = Some("`ops@example.com` or `https://hooks.example.com/alerts`".into());
        }
    }
}

/// IAM compares tag keys without case: `Team` and `team` on one role is refused at create.
fn tag_keys(c: &mut Checker, bp: &Blueprint) {
    let mut seen: Vec<&str> = Vec::new();
    for k in bp.tags.keys() {
        if let Some(other) = seen.iter().find(|o| o.eq_ignore_ascii_case(k)) {
            c.error(
                &format!("tags.{k}"),
                format!("tag keys `{other}` and `{k}` differ only in case: AWS (IAM) treats them as one key and refuses both"),
            );
        }
        seen.push(k);
    }
}
