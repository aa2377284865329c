//! A workload's configuration files (`services[].files`, `jobs[].files`) on ECS Fargate,
//! which has no ConfigMaps and mounts no single file: a Fargate task's volumes are bind
//! mounts of directories on the task's ephemeral storage
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html>; a
//! `host.sourcePath` is not supported on Fargate).
//!
//! So each directory holding a file becomes a volume (`files-<directory>`), which the
//! container preparing the task's volumes (`sidecars::volume_setup`, run to completion
//! before any other container: they wait for it with `dependsOn` `SUCCESS`) mounts read-write
//! and fills — each file's text travels as a plain `environment` value of that container
//! alone and is written with `printf '%s'`, byte for byte, then made 0444 — and every other
//! container mounts read only at the same path. The directory then holds the blueprint's
//! files only: the image's other files there are hidden (`synth` notes it; Kubernetes mounts
//! file by file and keeps them) — unless the image declares that directory a `VOLUME`, whose
//! contents "the Amazon ECS data plane" copies into the task volume (bind-mounts.html), and
//! the setup container then writes the blueprint's files over the copies of the same name.
//!
//! The text counts against the task definition's 65536 bytes ("Actual length: '66420'. Max
//! allowed length is '65536' bytes", awsdocs/amazon-ecs-developer-guide#149), which
//! `semantic::files` keeps it well inside.

use std::collections::BTreeSet;

use crate::blueprint::types::Service;
use crate::json;
use crate::terraform::Json;

/// The environment variable of the setup container carrying file `i`.
fn var(i: usize) -> String {
    format!("INFRAGEN_FILE_{i}")
}

/// The directory holding `path` (a plain absolute path, `semantic::files`).
fn directory(path: &str) -> &str {
    path.rsplit_once('/').map_or("/", |(d, _)| d)
}

/// The directories of `s`'s files, each once.
pub(super) fn directories(s: &Service) -> Vec<&str> {
    let mut dirs: Vec<&str> = s.files.iter().map(|f| directory(&f.path)).collect();
    dirs.sort_unstable();
    dirs.dedup();
    dirs
}

/// The directories of `s`'s files ([`directories`]) with their task volumes' names:
/// `files-<directory>`, named apart from each other and from the writable paths' volumes
/// (`ecs::unique_volume_names`: `/etc/a-b` and `/etc/a/b` would otherwise share
/// `files-etc-a-b`, and a writable `/files/x` and a files directory `/x` the name `files-x`,
/// each directory showing the other's files).
pub(super) fn volumes(s: &Service) -> Vec<(&str, String)> {
    let mut reserved: BTreeSet<String> = super::ecs::writable_volumes(s)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    reserved.insert(super::sidecars::CA_VOLUME.to_string());
    super::ecs::unique_volume_names("files-", &directories(s), &reserved)
}

/// The app's (and every container sharing its mounts') read-only mounts of the files.
pub(super) fn mounts(s: &Service) -> Vec<Json> {
    volumes(s)
        .into_iter()
        .map(|(d, v)| json!({"sourceVolume": v, "containerPath": d, "readOnly": true}))
        .collect()
}

/// What the setup container does for the files: (script lines, read-write mounts,
/// environment).
pub(super) fn setup(s: &Service) -> (Vec<String>, Vec<Json>, Vec<Json>) {
    let script = s
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                "printf '%s' \"${}\" > {p}; chmod 0444 {p}",
                var(i),
                p = f.path
            )
        })
        .collect();
    let mounts = volumes(s)
        .into_iter()
        .map(|(d, v)| json!({"sourceVolume": v, "containerPath": d, "readOnly": false}))
        .collect();
    let env = s
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| json!({"name": var(i), "value": &f.content}))
        .collect();
    (script, mounts, env)
}
