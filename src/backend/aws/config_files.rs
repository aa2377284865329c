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

use std::collections::{BTreeMap, BTreeSet};

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
/// `files-<directory>` (`ecs::volume_name` writes every `/`, `.` or `-` as `-`), where
/// `/etc/a-b` and `/etc/a/b` would both be `files-etc-a-b` and one volume would serve both
/// directories, each showing the other's files. Directories sharing a name get their
/// position among the directories in front (`files-1-etc-a-b`), again while that is taken.
pub(super) fn volumes(s: &Service) -> Vec<(&str, String)> {
    let dirs = directories(s);
    let base = |d: &str| format!("files-{}", super::ecs::volume_name(d));
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for d in &dirs {
        *count.entry(base(d)).or_default() += 1;
    }
    let mut taken: BTreeSet<String> = count
        .iter()
        .filter(|(_, n)| **n == 1)
        .map(|(b, _)| b.clone())
        .collect();
    dirs.into_iter()
        .enumerate()
        .map(|(i, d)| {
            let b = base(d);
            if count[&b] == 1 {
                return (d, b);
            }
            let mut name = format!("files-{i}-{}", super::ecs::volume_name(d));
            while !taken.insert(name.clone()) {
                name = format!("files-{i}-{}", &name["files-".len()..]);
            }
            (d, name)
        })
        .collect()
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
