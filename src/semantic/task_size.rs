//! The size of an ECS task definition. "Task definition size limit: The maximum size, in KiB,
//! of a task definition — 64", not adjustable (Amazon ECS service quotas,
//! awsdocs/amazon-ecs-developer-guide `doc_source/service-quotas.md`); RegisterTaskDefinition
//! refuses a larger one at apply ("Actual length: '66420'. Max allowed length is '65536'
//! bytes", awsdocs/amazon-ecs-developer-guide#149), after `terraform plan` passed.
//!
//! What a workload puts in it from the blueprint is known here: its environment (once for the
//! app, again for each sidecar or init container with `app_env`), the names of its secret
//! variables, its `files` (`backend::aws::config_files` carries each file's text as an
//! environment value), images, commands, arguments and health-check command, each
//! JSON-encoded as the container definitions hold it. That sum is a lower bound of the
//! definition — the rest (secret ARNs, endpoints, log settings, the RDS CA bundle) only adds
//! — so a workload whose own text already passes 65536 bytes is refused at its `env`, where
//! the bulk usually is; one under it is not guessed at.

use serde_json::json;

use super::Checker;
use crate::blueprint::types::{Blueprint, ExtraContainer, Platform, Service};
use crate::catalog::Provider;

/// RegisterTaskDefinition's limit, in bytes.
pub const MAX_BYTES: usize = 64 * 1024;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Aws || bp.platform_on(c.provider) != Some(Platform::EcsFargate) {
        return;
    }
    let jobs = bp.jobs.iter().map(|j| j.pod());
    let workloads = (bp.services.iter().enumerate())
        .map(|(i, s)| (format!("services[{i}]"), s))
        .chain(jobs.enumerate().map(|(i, s)| (format!("jobs[{i}]"), s)));
    for (path, s) in workloads {
        let known = known_bytes(s);
        if known <= MAX_BYTES {
            continue;
        }
        let at = if s.env.is_empty() {
            path
        } else {
            format!("{path}.env")
        };
        let d = c.error(
            &at,
            format!(
                "the ECS task definition of `{}` would hold at least {known} bytes of the blueprint's own text (environment values, secret variable names, files, commands); RegisterTaskDefinition refuses a task definition above {MAX_BYTES} bytes (64 KiB, not adjustable)",
                s.name
            ),
        );
        d.expected = Some(format!("at most {MAX_BYTES} bytes in the task definition"));
        d.help = Some("move large values out of `env` into a secret (`secret_env`: the task definition then holds only its ARN), ship large `files` in the image, or turn off `app_env` on sidecars that do not need the app's environment".into());
    }
}

/// The bytes of `s`'s own text in its ECS container definitions: a lower bound of the task
/// definition's size.
pub fn known_bytes(s: &Service) -> usize {
    let entry =
        |name: &str, value: &str| json!({"name": name, "value": value}).to_string().len() + 1;
    let strings = |list: &[String]| json!(list).to_string().len();
    let app_env: usize = s.env.iter().map(|(k, v)| entry(k, v)).sum();
    // A secret variable: its name, and an ARN that only adds.
    let secret = |name: &str| json!({"name": name, "valueFrom": ""}).to_string().len() + 1;
    let secrets: usize = s.secret_env.iter().map(|e| secret(&e.name)).sum();
    let files: usize = s
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| entry(&format!("INFRAGEN_FILE_{i}"), &f.content))
        .sum();
    let health = s.health_check.as_ref().map_or(0, |h| strings(&h.command));
    let app = json!(s.image).to_string().len()
        + strings(&s.command)
        + strings(&s.args)
        + health
        + app_env
        + secrets
        + files;
    let extra = |c: &ExtraContainer| {
        let own: usize = c.env.iter().map(|(k, v)| entry(k, v)).sum();
        // With `app_env` the app's environment and secrets come along, less the names the
        // container sets itself (`backend::aws::sidecars`).
        let inherited: usize = if c.app_env {
            s.env
                .iter()
                .filter(|(k, _)| !c.env.contains_key(*k))
                .map(|(k, v)| entry(k, v))
                .sum::<usize>()
                + secrets
        } else {
            0
        };
        json!(c.name).to_string().len()
            + json!(c.image).to_string().len()
            + strings(&c.command)
            + strings(&c.args)
            + own
            + inherited
    };
    app + s.sidecars.iter().chain(&s.init).map(extra).sum::<usize>()
}
