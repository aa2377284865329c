//! `security:` of services and jobs, as a team moving an image in from docker-compose writes
//! it — where the image ran as root and wrote wherever it liked:
//!
//! - `run_as_user: 0`: every pod infragen writes sets `runAsNonRoot: true`, and the kubelet
//!   "will validate the image at runtime to ensure that it does not run as UID 0 (root) and
//!   fail to start the container if it does" (SecurityContext,
//!   <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context-1>):
//!   an explicit UID 0 is `CreateContainerConfigError`, never a running pod. ECS would run it
//!   as root, against the hardening every task definition promises (docs/output.md). Refused.
//! - `writable_paths` (plain absolute paths, `containers.rs`): two may not share the volume
//!   name derived from them (`/var/run` and `/var-run`), since the manifests keep one volume
//!   per name and the other path would silently stay read-only, and none may be listed twice.

use std::collections::BTreeMap;

use super::Checker;
use crate::blueprint::types::{Blueprint, PodSecurity};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let services = bp
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("services[{i}]"), &s.name, &s.security));
    let jobs = bp
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (format!("jobs[{i}]"), &j.name, &j.pod().security));
    for (path, name, security) in services.chain(jobs) {
        check_one(c, &format!("{path}.security"), name, security);
    }
}

fn check_one(c: &mut Checker, path: &str, name: &str, security: &PodSecurity) {
    if security.run_as_user == 0 {
        c.error(
            &format!("{path}.run_as_user"),
            format!("`{name}` would run as root (UID 0), but its pods must run as non-root (`runAsNonRoot`): the kubelet refuses to start the container, and ECS tasks are kept non-root alike"),
        )
        .help = Some(
            "run the image as its own unprivileged user (e.g. 101 for nginx, 1000 for node), listing the paths it writes in `writable_paths`; a port below 1024 needs no root (except on EKS on Fargate)".into(),
        );
    }
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    for (i, p) in security.writable_paths.iter().enumerate() {
        let at = format!("{path}.writable_paths[{i}]");
        // A path that is not absolute is refused with the other container checks
        // (`containers.rs`).
        if !p.starts_with('/') || p.trim_matches('/').is_empty() {
            continue;
        }
        let volume = crate::k8s::volume_name(p);
        if let Some(other) = names.insert(volume.clone(), p) {
            if other != p {
                c.error(
                    &at,
                    format!("`{p}` and `{other}` would share the volume name `{volume}`, so only one of them would be writable"),
                )
                .help = Some("list one of the two paths, or a common parent directory".into());
            } else {
                c.error(&at, format!("`{p}` is listed twice")).help =
                    Some("list each writable path once".into());
            }
        }
    }
}
