//! A workload's configuration files (`services[].files`, `jobs[].files`) on Kubernetes: one
//! ConfigMap per workload, mounted file by file into every container of the pod.
//!
//! - **Name with a content hash** (`<name>-files-<hash>`, our own [`content_hash`], as the
//!   release Job's name): a changed file is a new ConfigMap, so the pod template changes and
//!   the Deployment rolls; the old ConfigMap stays until deleted (`infragen diff` names it;
//!   label `app: <name>-files` selects them all), so a `kubectl rollout undo` meanwhile
//!   finds it. Not kustomize's `configMapGenerator`:
//!   that needs the files on disk beside the kustomization and leaves the manifests
//!   unusable without kustomize, while every other object here is a plain manifest the
//!   kustomization lists.
//! - **`subPath`, one mount per file**: a ConfigMap mounted at a directory replaces it
//!   (mounting at `/etc/nginx` would hide `mime.types` beside `nginx.conf`); a `subPath`
//!   mount puts one file at its path and leaves the image's others. The kubelet does not
//!   refresh a `subPath` mount when the ConfigMap changes
//!   (<https://kubernetes.io/docs/concepts/storage/volumes/#configmap>), which does not matter
//!   here: a change is a new ConfigMap and new pods.
//! - **Read only, 0444** (`defaultMode`, decimal 292 in the manifest): the containers run as
//!   an arbitrary non-root user, which must read the files and need never write them. A
//!   ConfigMap volume is allowed under the restricted Pod Security Standard, and the root
//!   filesystem stays read only (the runtime creates the mount points before it makes it so).
//! - **Size**: `kubectl apply` (client side, as docs/kubernetes.md applies) copies the whole
//!   object into the `kubectl.kubernetes.io/last-applied-configuration` annotation, and
//!   annotations are limited to 256 KiB in all (kubernetes/kubectl#712), well below a
//!   ConfigMap's own 1 MiB: `semantic::files` refuses more.

use std::collections::{BTreeMap, BTreeSet};

use super::yaml::{Map, map};
use super::{Ctx, Workload, content_hash};
use crate::blueprint::types::{ConfigFile, Service};

/// The pod volume holding the files.
const VOLUME: &str = "config-files";

/// File mode of every file: read by anyone, written by no one.
const MODE: u32 = 0o444;

/// The ConfigMap keys of `s`'s files, in their order: the file's name, or
/// `<index>-<name>` where two files share a name (`/etc/a/app.yaml`, `/etc/b/app.yaml`),
/// with the index put in front again while that key is taken — by another file's own name
/// (`/etc/c/0-app.yaml`) or an earlier key: the keys of a ConfigMap are a map, so two
/// files with one key would leave one file's text under both mount paths.
/// A plain path's last part is a valid key (`semantic::files`).
fn keys(s: &Service) -> Vec<String> {
    let base = |f: &ConfigFile| f.path.rsplit('/').next().unwrap_or_default().to_string();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for f in &s.files {
        *count.entry(base(f)).or_default() += 1;
    }
    let mut taken: BTreeSet<String> = count
        .iter()
        .filter(|(_, n)| **n == 1)
        .map(|(b, _)| b.clone())
        .collect();
    s.files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let b = base(f);
            if count[&b] == 1 {
                return b;
            }
            let mut key = format!("{i}-{b}");
            while !taken.insert(key.clone()) {
                key = format!("{i}-{key}");
            }
            key
        })
        .collect()
}

/// The ConfigMap's name: the workload's name and a hash of every key, path and content.
pub(crate) fn name(s: &Service) -> String {
    let mut text = String::new();
    for (k, f) in keys(s).iter().zip(&s.files) {
        // Lengths first, so no two different lists hash the same text.
        text.push_str(&format!(
            "{}:{k}{}:{}{}:{}\n",
            k.len(),
            f.path.len(),
            f.path,
            f.content.len(),
            f.content
        ));
    }
    format!("{}-files-{}", s.name, &content_hash(&text)[..10])
}

/// The ConfigMap of `s`'s files, pushed onto `docs`; nothing without files.
pub(crate) fn lower<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    mut labels: Map<'c>,
    docs: &mut Vec<Map<'c>>,
) {
    if s.bp.files.is_empty() {
        return;
    }
    // `app: <name>-files`, as the release Job's `<name>-release`: the workload's own `app`
    // also labels its `<name>-env` ConfigMap, so only a label of their own lets the old
    // files' ConfigMaps be deleted by selector once a rollout is done (docs/blueprint.md).
    labels.insert("app", format!("{}-files", s.bp.name));
    let mut data = Map::new();
    for (k, f) in keys(s.bp).into_iter().zip(&s.bp.files) {
        data.insert(k, f.content.as_str());
    }
    docs.push(map! {
        "apiVersion" => "v1",
        "kind" => "ConfigMap",
        "metadata" => ctx.meta(name(s.bp), &s.namespace, labels),
        // Nothing rewrites a file while pods read it: the next change is a new ConfigMap.
        "immutable" => true,
        "data" => data,
    });
}

/// The pod's volume of the files, or none.
pub(crate) fn volume<'c>(s: &Service) -> Option<Map<'c>> {
    if s.files.is_empty() {
        return None;
    }
    Some(map! {
        "name" => VOLUME,
        "configMap" => map! {"name" => name(s), "defaultMode" => MODE},
    })
}

/// A container's mounts of the files: each at its own path, read only.
pub(crate) fn mounts<'c>(s: &'c Service) -> Vec<Map<'c>> {
    keys(s)
        .into_iter()
        .zip(&s.files)
        .map(|(k, f)| {
            map! {
                "name" => VOLUME,
                "mountPath" => f.path.as_str(),
                "subPath" => k,
                "readOnly" => true,
            }
        })
        .collect()
}
