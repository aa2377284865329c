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
use crate::blueprint::types::{Blueprint, PodSecurity, UserIds};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    assigned_user_ids(c, bp);
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

/// `providers.kubernetes.user_ids: assigned` (OpenShift's `restricted-v2` SCC picks each
/// pod's UID from the namespace's range): the in-cluster databases, caches and queues are
/// written for their images' own user — UID and group 999 own the data volume
/// (`fsGroup`, kept with `fsGroupChangePolicy: OnRootMismatch` so RabbitMQ's 0400 cookie
/// stays private), MongoDB's key file is copied for that user, PostgreSQL insists its data
/// directory belong to the user it runs as — and `restricted-v2` refuses UID 999. None of
/// that is proven under a UID the cluster picks, so they are refused rather than written
/// to crash-loop.
fn assigned_user_ids(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Kubernetes
        || !(bp.providers.kubernetes.as_ref()).is_some_and(|k| k.user_ids == UserIds::Assigned)
    {
        return;
    }
    let data = (bp.databases.iter().enumerate())
        .map(|(i, d)| (format!("databases[{i}]"), &d.name))
        .chain((bp.caches.iter().enumerate()).map(|(i, d)| (format!("caches[{i}]"), &d.name)))
        .chain((bp.queues.iter().enumerate()).map(|(i, d)| (format!("queues[{i}]"), &d.name)));
    for (path, name) in data {
        let d = c.error(
            &path,
            format!("`{name}` would run in the cluster as its image's own user (UID and group 999, owning its volume), but `providers.kubernetes.user_ids: assigned` leaves the UID to the cluster: OpenShift's `restricted-v2` SCC refuses 999 and the data service is not written to run under a UID it picks"),
        );
        d.expected = Some("no in-cluster data service with `user_ids: assigned`".into());
        d.help = Some("reach one the platform team runs instead (an `egress` rule and a blueprint secret with its URL), or keep `user_ids: fixed` and grant the namespace's ServiceAccounts OpenShift's `nonroot-v2` SCC (docs/other-clusters.md \"OpenShift\")".into());
    }
}
