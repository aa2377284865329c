//! Sidecars, init containers and pod annotations (`services[].sidecars`, `.init`,
//! `.annotations`): container names must be unique DNS labels in the pod or task (the API
//! server and ECS refuse duplicates), images pinned like the app's. ECS task definitions
//! carry sidecars and init containers (`backend::aws::sidecars`) but have no annotations, so
//! ECS refuses those instead of dropping them silently; `essential` is an ECS sidecar's
//! alone.

use std::collections::BTreeSet;

use super::Checker;
use super::names::is_label;
use crate::blueprint::types::{Blueprint, Platform};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = bp.platform_on(c.provider) == Some(Platform::EcsFargate);
    let securities = (bp.services.iter().map(|s| &s.security).enumerate())
        .map(|(i, sec)| (format!("services[{i}]"), sec))
        .chain(
            (bp.jobs.iter().map(|j| &j.security).enumerate())
                .map(|(i, sec)| (format!("jobs[{i}]"), sec)),
        );
    for (path, security) in securities {
        for (k, p) in security.writable_paths.iter().enumerate() {
            if !is_plain_path(p) {
                c.error(
                    &format!("{path}.security.writable_paths[{k}]"),
                    format!("`{p}` is not an absolute path of letters, digits, `.`, `_`, `-` and `/`"),
                )
                .help = Some("write the directory the container writes to, e.g. `/tmp` or `/var/cache/nginx`".into());
            } else if is_at_or_below(p, crate::wiring::CA_DIR) {
                // The databases' CA files are mounted there read only (`k8s::connect::ca_volume`,
                // `backend::aws::sidecars::volume_setup`): a second mount at the same path is
                // refused by the API server ("must be unique") and by Docker on ECS ("Duplicate
                // mount point"), and one below it cannot be created in a read-only mount.
                c.error(
                    &format!("{path}.security.writable_paths[{k}]"),
                    format!("`{p}` is where infragen mounts the databases' CA files, read only"),
                )
                .help = Some(format!(
                    "write to another directory; `{}` is reserved",
                    crate::wiring::CA_DIR
                ));
            }
        }
    }
    for (i, s) in bp.services.iter().enumerate() {
        let path = format!("services[{i}]");
        if ecs && !s.annotations.is_empty() {
            c.error(
                &format!("{path}.annotations"),
                "`annotations` is for Kubernetes pods; ECS task definitions have none",
            )
            .help = Some(format!(
                "drop `annotations` on ECS, or patch aws_ecs_task_definition.{} with an `overrides:` entry",
                s.name.replace('-', "_")
            ));
        }
        for (j, x) in s.init.iter().enumerate() {
            if x.essential == Some(true) {
                c.error(
                    &format!("{path}.init[{j}].essential"),
                    "an init container runs to completion before the app starts, so it cannot be essential",
                )
                .help = Some("drop `essential`, or make it a sidecar".into());
            }
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(s.container_name.as_deref().unwrap_or(&s.name));
        if ecs {
            // The container preparing a task's volumes (`backend::aws::sidecars`).
            names.insert(crate::wiring::CA_WRITER);
        }
        for (field, list) in [("sidecars", &s.sidecars), ("init", &s.init)] {
            for (j, x) in list.iter().enumerate() {
                let at = format!("{path}.{field}[{j}]");
                if !is_label(&x.name) {
                    c.error(
                        &format!("{at}.name"),
                        format!("container name `{}` is not a DNS label (lower-case letters, digits and `-`, at most 63)", x.name),
                    );
                } else if !names.insert(x.name.as_str()) {
                    c.error(
                        &format!("{at}.name"),
                        format!(
                            "another container of the pod of `{}` is already named `{}`",
                            s.name, x.name
                        ),
                    )
                    .help = Some("give each container of a pod its own name".into());
                }
                if !pinned(&x.image) {
                    c.error(
                        &format!("{at}.image"),
                        format!("image `{}` is not pinned to a version", x.image),
                    )
                    .help = Some("give a tag such as `:1.27.3`, or a digest `@sha256:…`".into());
                }
            }
        }
    }
}

/// An image with a tag other than `latest` or a digest: what a rollout can repeat.
pub(crate) fn pinned(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or_default();
    (last.contains(':') || image.contains('@')) && !image.ends_with(":latest")
}

/// A writable path becomes a volume's mount path, a volume name (`/var/cache` →
/// `var-cache`) and, on ECS, an argument of the script preparing the task's volumes
/// (`backend::aws::sidecars::volume_setup`): absolute, below the root, nothing a shell or a
/// volume name would read otherwise.
pub(super) fn is_plain_path(p: &str) -> bool {
    p.len() > 1
        && p.starts_with('/')
        && !p.split('/').any(|part| part == "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// Whether path `p` is `dir` or a path below it.
pub(super) fn is_at_or_below(p: &str, dir: &str) -> bool {
    let p = p.trim_end_matches('/');
    p == dir
        || p.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}
