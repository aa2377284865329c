//! The writable paths of an ECS task (`security.writable_paths`, `/tmp` by default), made
//! writable for its non-root user.
//!
//! Fargate has no tmpfs ("If you're using tasks that use the Fargate launch type, the tmpfs
//! parameter isn't supported", LinuxParameters) and no emptyDir, so each path under the
//! read-only root filesystem is a task bind mount volume, and "by default, the volume
//! permissions are set to 0755 and the owner as root"
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html>; "ECS
//! mounts it as writable only by root", github.com/aws/containers-roadmap/issues/938). The
//! task's containers run as the blueprint's non-root user with every capability dropped, so
//! the app — an image moved in from docker-compose, whose `/tmp` was simply writable there —
//! failed with EACCES at its first write. AWS's answer in that issue is an init container:
//! this one runs first, as user 0 (the volumes' owner, so `chmod` needs no capability: every
//! one stays dropped), gives each volume `/tmp`'s own mode 1777 (anyone writes, only a file's
//! owner removes it) and exits; the next container waits for it (`dependsOn` `SUCCESS`,
//! `sidecars::definitions`). Same pinned BusyBox image as the CA writer.

use crate::json;
use crate::terraform::Json;

use crate::blueprint::types::Service;

/// The container's name, which no blueprint container may take on ECS
/// (`semantic::containers`).
pub const NAME: &str = crate::wiring::WRITABLE_PATHS;

/// The container that opens the writable path volumes of `s`'s task to its user, mounting
/// them as `app` does; `None` when the task has none.
pub fn preparer(app: &Json, s: &Service) -> Option<Json> {
    let paths = &s.security.writable_paths;
    if paths.is_empty() {
        return None;
    }
    let all: &[Json] = match app.get("mountPoints") {
        Some(Json::Array(list)) => list,
        _ => &[],
    };
    let mounts: Vec<Json> = all
        .iter()
        .filter(|m| {
            m.get("containerPath")
                .and_then(Json::as_str)
                .is_some_and(|p| paths.iter().any(|w| w == p))
        })
        .cloned()
        .collect();
    let mut entry = vec!["chmod".to_string(), "1777".to_string()];
    entry.extend(paths.iter().cloned());
    let mut d = json!({
        "name": NAME,
        "image": super::sidecars::CA_WRITER_IMAGE,
        "essential": false,
        "portMappings": [],
        "environment": [],
        "entryPoint": entry,
        "user": "0",
        "readonlyRootFilesystem": true,
        "privileged": false,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
        "mountPoints": mounts,
        "volumesFrom": [],
    });
    if let Some(logs) = app.get("logConfiguration") {
        d["logConfiguration"] = logs.clone();
    }
    Some(d)
}
