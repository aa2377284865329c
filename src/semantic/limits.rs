//! Limits of the managed services that the blueprint format cannot express by shape:
//! RDS gp3 IOPS, ElastiCache parameters, Application Auto Scaling cron expressions.

use super::Checker;
use crate::blueprint::types::{Blueprint, Deployment};
use crate::catalog::Provider;

/// Below this size a gp3 volume has a fixed baseline that RDS refuses to have set.
const GP3_BASELINE_BELOW_GB: u32 = 400;
const GP3_BASELINE_IOPS: u32 = 3000;
/// IOPS RDS provisions on gp3 volumes from that size on (MySQL, MariaDB, PostgreSQL).
const GP3_LARGE_IOPS: std::ops::RangeInclusive<u32> = 12_000..=64_000;

/// Cloud identifiers: a DNS label without `--`, at most `max` characters.
fn identifier(c: &mut Checker, path: &str, id: &str, max: usize, what: &str) {
    if !super::names::is_label(id) || id.contains("--") || id.len() > max {
        c.error(path, format!("`{id}` is not a valid {what}"))
            .expected = Some(format!(
            "lower-case letters, digits and single `-`, starting with a letter, at most {max} characters"
        ));
    }
}

/// S3 bucket names: 3–63 lower-case letters, digits, `-` and `.`, starting and ending with
/// a letter or digit.
fn bucket_name_ok(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, b) in bp.buckets.iter().enumerate() {
        if !super::names::is_label(&b.name) {
            c.error(
                &format!("buckets[{i}].name"),
                format!("`{}` is not a valid name", b.name),
            )
            .expected = Some("lower-case letters, digits and `-`, starting with a letter".into());
        }
        if !seen.insert(b.name.as_str()) {
            c.error(
                &format!("buckets[{i}].name"),
                format!("duplicate name `{}`", b.name),
            );
        }
        // A derived name must fit the 63 characters too: S3 (with the account id infragen
        // appends, `backend::aws::buckets::derived`) and Spaces refuse longer ones at apply.
        let suffix = match c.provider {
            Provider::Aws => Some(13), // `-` and a 12-digit account id
            Provider::Digitalocean => Some(0),
            Provider::Kubernetes => None,
        };
        if b.bucket.is_none()
            && let Some(extra) = suffix
        {
            let derived = format!("{}-{}-{}", bp.name, c.loaded.env, b.name);
            if derived.len() + extra > 63 {
                c.error(
                    &format!("buckets[{i}].name"),
                    format!(
                        "the derived bucket name `{derived}`{} has {} characters; bucket names have at most 63",
                        if extra > 0 { "-<account id>" } else { "" },
                        derived.len() + extra
                    ),
                )
                .expected = Some(
                    "a shorter name, or `bucket:` naming the bucket exactly (3–63 characters)"
                        .into(),
                );
            }
        }
        if let Some(n) = &b.bucket
            && !bucket_name_ok(n)
        {
            c.error(
                &format!("buckets[{i}].bucket"),
                format!("`{n}` is not a valid S3 bucket name"),
            )
            .expected = Some(
                "3–63 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit"
                    .into(),
            );
        }
    }
    if let Some(lb) = &bp.load_balancer
        && let Some(n) = &lb.access_logs_bucket
        && !bucket_name_ok(n)
    {
        c.error(
            "load_balancer.access_logs_bucket",
            format!("`{n}` is not a valid S3 bucket name"),
        );
    }
    for (i, d) in bp.databases.iter().enumerate() {
        if let Some(id) = &d.identifier {
            identifier(
                c,
                &format!("databases[{i}].identifier"),
                id,
                53,
                "RDS identifier (replicas append `-replica-N`)",
            );
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        if let Some(id) = &k.identifier {
            identifier(
                c,
                &format!("caches[{i}].identifier"),
                id,
                40,
                "ElastiCache replication group id",
            );
        }
    }
    if c.provider == Provider::Aws {
        for (i, d) in bp.databases.iter().enumerate() {
            if d.deployment != Deployment::Managed {
                continue;
            }
            let Some(s) = &d.storage else { continue };
            let ty = s.r#type.as_deref().unwrap_or("gp3");
            match (ty, s.iops) {
                ("gp3", Some(iops))
                    if s.size_gb < GP3_BASELINE_BELOW_GB && iops != GP3_BASELINE_IOPS =>
                {
                    c.error(
                        &format!("databases[{i}].storage.iops"),
                        format!(
                            "RDS gp3 storage below {GP3_BASELINE_BELOW_GB} GB has a fixed baseline of {GP3_BASELINE_IOPS} IOPS, got {iops} at {} GB",
                            s.size_gb
                        ),
                    )
                    .help = Some(format!(
                        "remove `iops` (or write {GP3_BASELINE_IOPS}), or grow `size_gb` to at least {GP3_BASELINE_BELOW_GB}"
                    ));
                }
                // From 400 GB a gp3 volume's baseline is 12000 IOPS, and RDS refuses less
                // (hashicorp/terraform-provider-aws#28382; RDS user guide, "gp3 storage").
                ("gp3", Some(iops))
                    if s.size_gb >= GP3_BASELINE_BELOW_GB && !GP3_LARGE_IOPS.contains(&iops) =>
                {
                    c.error(
                        &format!("databases[{i}].storage.iops"),
                        format!(
                            "RDS gp3 storage of {GP3_BASELINE_BELOW_GB} GB or more takes {}–{} IOPS, got {iops} at {} GB",
                            GP3_LARGE_IOPS.start(),
                            GP3_LARGE_IOPS.end(),
                            s.size_gb
                        ),
                    )
                    .help = Some(format!(
                        "remove `iops` (the baseline is {}), or give at least that",
                        GP3_LARGE_IOPS.start()
                    ));
                }
                // CreateDBInstance: io1 IOPS must be 0.5–50 times the storage in GiB.
                ("io1", Some(iops))
                    if f64::from(iops) < 0.5 * f64::from(s.size_gb) || iops > 50 * s.size_gb =>
                {
                    c.error(
                        &format!("databases[{i}].storage.iops"),
                        format!(
                            "RDS io1 storage takes 0.5 to 50 IOPS per GB: {} to {} at {} GB, got {iops}",
                            s.size_gb.div_ceil(2),
                            50 * s.size_gb,
                            s.size_gb
                        ),
                    );
                }
                ("io1" | "io2", None) => {
                    c.error(
                        &format!("databases[{i}].storage"),
                        format!("`{ty}` storage needs `iops`"),
                    );
                }
                _ => {}
            }
        }
        for (i, k) in bp.caches.iter().enumerate() {
            if k.deployment == Deployment::Managed && k.parameters.contains_key("maxmemory") {
                c.error(
                    &format!("caches[{i}].parameters.maxmemory"),
                    "ElastiCache does not let a parameter group set `maxmemory` (it follows the node type)",
                )
                .help = Some(
                    "reserve memory with `reserved-memory-percent` instead (e.g. \"20\" keeps 80 % for data)"
                        .into(),
                );
            }
        }
    }
    for (i, s) in bp.services.iter().enumerate() {
        let Some(a) = &s.autoscaling else { continue };
        for (j, sch) in a.scheduled.iter().enumerate() {
            if let Some(msg) = cron_problem(&sch.schedule) {
                c.error(
                    &format!("services[{i}].autoscaling.scheduled[{j}].schedule"),
                    msg,
                )
                .expected = Some(
                    "`cron(min hour day-of-month month day-of-week year)` with `?` in one day field, `rate(…)` or `at(…)`, e.g. `cron(0 8 ? 11 FRI *)`"
                        .into(),
                );
            }
        }
    }
}

/// What is wrong with an Application Auto Scaling schedule, if anything.
fn cron_problem(schedule: &str) -> Option<String> {
    let s = schedule.trim();
    if s.starts_with("rate(") || s.starts_with("at(") {
        return (!s.ends_with(')')).then(|| format!("`{s}` is not closed with `)`"));
    }
    let Some(body) = s.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) else {
        return Some(format!(
            "`{s}` is not a `cron(…)`, `rate(…)` or `at(…)` expression"
        ));
    };
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 6 {
        return Some(format!(
            "`{s}` has {} fields; Application Auto Scaling cron takes 6 (minutes hours day-of-month month day-of-week year)",
            fields.len()
        ));
    }
    match (fields[2] == "?", fields[4] == "?") {
        (false, false) => Some(format!(
            "`{s}` gives both day-of-month (`{}`) and day-of-week (`{}`); one of them must be `?`",
            fields[2], fields[4]
        )),
        (true, true) => Some(format!(
            "`{s}` has `?` in both day fields; only one of them may be `?`"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::cron_problem;

    #[test]
    fn cron_day_fields() {
        assert!(cron_problem("cron(0 8 ? 11 FRI *)").is_none());
        assert!(cron_problem("cron(0 8 1 * ? *)").is_none());
        assert!(cron_problem("rate(5 minutes)").is_none());
        assert!(cron_problem("cron(0 8 * 11 FRI *)").is_some());
        assert!(cron_problem("cron(0 8 ? 11 ? *)").is_some());
        assert!(cron_problem("cron(0 8 * 11 FRI)").is_some());
        assert!(cron_problem("0 8 * * *").is_some());
    }
}
