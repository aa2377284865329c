//! Kubernetes objects on day 2. `kubectl apply` patches what is running; it does not
//! destroy and recreate an object whose immutable field changed — the API server refuses
//! the patch ("field is immutable") and the apply stops there — and it does not delete
//! what the manifests no longer hold. So a change of an immutable field gets the way
//! through (what to delete by hand, and how, before the apply), and removed objects get
//! the commands that delete them.
//!
//! The immutable fields are kept in `providers/replacement.json` (`k8s:<Kind>`), from the
//! API's update validation (k8s.io/kubernetes pkg/apis/{apps,batch,core,storage}/validation:
//! `ValidateStatefulSetUpdate` allows only replicas, template, updateStrategy,
//! persistentVolumeClaimRetentionPolicy, minReadySeconds and ordinals; a Deployment's and a
//! Job's `selector` and a Job's `template` are immutable; a Service's `clusterIP`; a
//! claim's class, access modes and volume, and its size may grow only).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Attribute;
use super::objects::Object;

/// `kubectl <verb> <kind> -n <ns> <name>`.
fn command(verb: &str, kind: &str, ns: Option<&str>, name: &str, extra: &str) -> String {
    let kind = kind.to_lowercase();
    match ns {
        Some(ns) => format!("kubectl {verb} {kind} -n {ns} {name}{extra}"),
        None => format!("kubectl {verb} {kind} {name}{extra}"),
    }
}

/// Why `kubectl apply` refuses a change of the immutable `fields` of a `kind` object, and
/// the way through.
pub fn refusal(
    kind: &str,
    ns: Option<&str>,
    name: &str,
    fields: &[&str],
    attributes: &[Attribute],
    body: &Value,
) -> String {
    let what = format!(
        "`kubectl apply` fails: the {kind}'s {} cannot change (the API answers \"field is immutable\")",
        fields.join(", ")
    );
    let orphan = command("delete", kind, ns, name, " --cascade=orphan");
    let way = match kind {
        "StatefulSet" => {
            let mut way = format!(
                "delete it first, keeping its pods and volumes (`{orphan}`), then apply: the new StatefulSet adopts the pods and rolls them"
            );
            if fields.contains(&"spec.volumeClaimTemplates") {
                let sizes: Vec<&Attribute> = attributes
                    .iter()
                    .filter(|a| a.path.ends_with("resources.requests.storage"))
                    .collect();
                if let Some(a) = sizes.first() {
                    // The claims are `<template>-<statefulset>-<ordinal>`.
                    let template = body
                        .pointer("/spec/volumeClaimTemplates/0/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("<claim>");
                    let ordinals = match body.pointer("/spec/replicas").and_then(Value::as_u64) {
                        Some(1) => "0".to_string(),
                        Some(n) => format!("0…{}", n - 1),
                        None => "<ordinal>".to_string(),
                    };
                    way.push_str(&format!(
                        "; existing claims keep their size, so resize each (`kubectl patch pvc -n {} {template}-{name}-{ordinals} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":{}}}}}}}}}'`, one per ordinal; the StorageClass must allow volume expansion, and a claim never shrinks)",
                        ns.unwrap_or("default"),
                        a.new.as_ref().map_or_else(|| "null".to_string(), Value::to_string),
                    ));
                }
            }
            way
        }
        "Deployment" => format!(
            "delete it first, keeping its pods serving (`{orphan}`), then apply, and delete the old ReplicaSet once the new pods are ready (`kubectl get rs -n {} -l app={}`)",
            ns.unwrap_or("default"),
            name
        ),
        "Job" => format!(
            "delete the Job (`{}`) before the apply, which runs it again",
            command("delete", kind, ns, name, "")
        ),
        "PersistentVolumeClaim" => {
            "a claim cannot be moved or shrunk in place: copy its data to a new claim (a new name), or back it up, delete the claim and apply".to_string()
        }
        _ => format!(
            "delete it (`{}`) before the apply, which creates it again",
            command("delete", kind, ns, name, "")
        ),
    };
    format!("{what}; {way}")
}

/// Whether a claim's storage request shrinks, which the API refuses (only growth is
/// allowed, where the StorageClass has `allowVolumeExpansion`).
pub fn shrinks(attributes: &[Attribute]) -> bool {
    attributes
        .iter()
        .filter(|a| a.path == "spec.resources.requests.storage")
        .any(|a| {
            let q = |v: &Option<Value>| match v {
                Some(Value::String(s)) => crate::k8s::quantity_bytes(s),
                Some(Value::Number(n)) => n.as_f64(),
                _ => None,
            };
            matches!((q(&a.old), q(&a.new)), (Some(o), Some(n)) if n < o)
        })
}

/// A note on the Kubernetes objects the change removes from the manifests: `kubectl apply`
/// leaves them running (a removed canary keeps its share of the traffic, a removed colour
/// stays behind the Service that now selects every pod of the app), so they are deleted by
/// hand. Jobs with a `ttlSecondsAfterFinished` go by themselves. The release Job of a
/// service that stays (and its Role and RoleBinding) is not among them: [`release_notes`].
///
/// KEDA: an HPA a new ScaledObject takes over (`transfer-hpa-ownership`, the HPA's name in
/// `advanced.horizontalPodAutoscalerConfig.name`, `k8s::keda`) stays, KEDA's; a removed
/// ScaledObject goes first — its HPA, which has the name of the HPA the new manifests hold,
/// belongs to it (owner reference) and would be collected with it after the apply
/// configured it, and KEDA (uninstalled by `platform` once nothing scales on a queue) must
/// still run to release it.
pub fn removed_note(
    old: &BTreeMap<String, Object>,
    new: &BTreeMap<String, Object>,
    adopted: &[&str],
) -> Option<String> {
    let (before, after): (Vec<_>, Vec<_>) = old
        .iter()
        .filter(|(addr, o)| o.kind.starts_with("k8s:") && !new.contains_key(*addr))
        // Terraform takes these over (`owner::handovers`): they stay.
        .filter(|(addr, _)| !adopted.contains(&addr.as_str()))
        .filter(|(_, o)| {
            o.kind != "k8s:Job" || o.body.pointer("/spec/ttlSecondsAfterFinished").is_none()
        })
        .filter(|(_, o)| kept_release(o, new).is_none())
        .filter(|(_, o)| !taken_over_by_keda(o, new))
        .partition(|(_, o)| o.kind == "k8s:ScaledObject");
    let line = |list: Vec<(&String, &Object)>| -> Vec<String> {
        list.into_iter()
            .map(|(_, o)| {
                let meta = o.body.get("metadata");
                let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
                let kind = o.kind.trim_start_matches("k8s:");
                let c = command(
                    "delete",
                    kind,
                    field("namespace"),
                    field("name").unwrap_or("?"),
                    "",
                );
                // What goes with it: a namespace's objects, a claim's data (a StatefulSet's
                // claims stay, `persistentVolumeClaimRetentionPolicy: Retain`).
                match kind {
                    "Namespace" => format!("`{c}` (with everything in it: check first)"),
                    "PersistentVolumeClaim" => format!("`{c}` (its data: back it up first)"),
                    _ => format!("`{c}`"),
                }
            })
            .collect()
    };
    let (before, after) = (line(before), line(after));
    let mut parts = Vec::new();
    if !before.is_empty() {
        parts.push(format!(
            "delete these first, before `terraform/platform` and `k8s/` are applied (KEDA's HPA goes with its ScaledObject, and KEDA, uninstalled once no service scales on a queue, must still run to release it; the apply then creates infragen's HPA): {}",
            before.join(", ")
        ));
    }
    if !after.is_empty() {
        parts.push(format!("delete them after the apply: {}", after.join(", ")));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "k8s: `kubectl apply -k` does not delete objects the manifests no longer hold; {}",
            parts.join("; ")
        )
    })
}

/// Whether removed object `o` is an HPA that a ScaledObject of the new manifests takes over
/// (same namespace, its `advanced.horizontalPodAutoscalerConfig.name`).
fn taken_over_by_keda(o: &Object, new: &BTreeMap<String, Object>) -> bool {
    if o.kind != "k8s:HorizontalPodAutoscaler" {
        return false;
    }
    let meta = |b: &Value, k: &str| b.pointer(&format!("/metadata/{k}")).cloned();
    new.values().any(|n| {
        n.kind == "k8s:ScaledObject"
            && meta(&n.body, "namespace") == meta(&o.body, "namespace")
            && n.body
                .pointer("/spec/advanced/horizontalPodAutoscalerConfig/name")
                == o.body.pointer("/metadata/name")
    })
}

/// `(namespace, app label)` of a release Job, Role or RoleBinding (`k8s::release`: component
/// `release`, `app: <service>-release`) whose service the new manifests still run — a
/// Deployment labelled `app: <service>` in that namespace.
fn kept_release<'o>(o: &'o Object, new: &BTreeMap<String, Object>) -> Option<(&'o str, &'o str)> {
    if !matches!(o.kind.as_str(), "k8s:Job" | "k8s:Role" | "k8s:RoleBinding") {
        return None;
    }
    let meta = o.body.get("metadata")?;
    let labels = meta.get("labels")?;
    if labels.get("app.kubernetes.io/component")?.as_str()? != "release" {
        return None;
    }
    let app = labels.get("app")?.as_str()?;
    let service = app.strip_suffix(crate::blueprint::types::RELEASE_SUFFIX)?;
    let ns = meta.get("namespace")?.as_str()?;
    new.values()
        .any(|n| {
            n.kind == "k8s:Deployment"
                && n.body
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    == Some(ns)
                && n.body
                    .pointer("/metadata/labels/app")
                    .and_then(Value::as_str)
                    == Some(service)
        })
        .then_some((ns, app))
}

/// Notes on the release Jobs the manifests no longer hold while their service stays (a new
/// image, command or environment is a new Job, `k8s::release`). They are kept, with their
/// Role and RoleBinding: a pod of the previous revision — `kubectl rollout undo`, or an old
/// pod the Deployment replaces while the new rollout waits on a failed run — waits on the
/// Job of its own template, and would wait for ever on one deleted under it (it reads the Job
/// through that Role). What can go, once the rollout has finished, are the Jobs of older
/// revisions: every one of the service's but the current and the previous
/// (docs/release.md, "Old Jobs").
pub fn release_notes(
    old: &BTreeMap<String, Object>,
    new: &BTreeMap<String, Object>,
) -> Vec<String> {
    let name = |o: &Object| {
        o.body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut previous: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (_, o) in old
        .iter()
        .filter(|(addr, o)| o.kind == "k8s:Job" && !new.contains_key(*addr))
    {
        if let (Some(key), Some(n)) = (kept_release(o, new), name(o)) {
            previous.entry(key).or_default().push(n);
        }
    }
    previous
        .into_iter()
        .map(|((ns, app), was)| {
            let current: Vec<String> = new
                .values()
                .filter(|n| n.kind == "k8s:Job")
                .filter(|n| n.body.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns))
                .filter(|n| n.body.pointer("/metadata/labels/app").and_then(Value::as_str) == Some(app))
                .filter_map(name)
                .collect();
            let keep: Vec<String> = current.iter().chain(&was).cloned().collect();
            let selector = keep
                .iter()
                .map(|n| format!("metadata.name!={n}"))
                .collect::<Vec<_>>()
                .join(",");
            let jobs = was.iter().map(|n| format!("`{ns}/{n}`")).collect::<Vec<_>>().join(", ");
            // With no release any more, every one can go once no rollback will need it.
            let (then, fields) = if current.is_empty() {
                (
                    "the service no longer has a release step: once you will not roll back to a revision that had one, they can all go",
                    String::new(),
                )
            } else {
                (
                    "once this rollout has finished, the Jobs of older revisions can go",
                    format!(" --field-selector {selector}"),
                )
            };
            format!(
                "k8s: keep the previous revision's release Job {jobs} and its Role and RoleBinding, though the manifests no longer hold them: a pod of that revision (`kubectl rollout undo`, or an old pod replaced while the new rollout waits) waits on that Job, and would wait for ever were it deleted; {then}: `kubectl delete job,role,rolebinding -n {ns} -l app={app}{fields}` (docs/release.md, \"Old Jobs\")"
            )
        })
        .collect()
}

/// The first container's image repository (without tag) and the first claim template of a
/// StatefulSet.
fn image_and_claim(body: &Value) -> Option<(&str, &str)> {
    let image = body
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()?;
    let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
    let claim = body
        .pointer("/spec/volumeClaimTemplates/0/metadata/name")?
        .as_str()?;
    Some((repo, claim))
}

/// A StatefulSet the change adds while it drops one of the same image with volumes in the
/// same namespace: an in-cluster data service renamed (`renamed_from`, or by hand). Its
/// claims (`<template>-<name>-<n>`) are new and empty, and its clients are switched to it by
/// the same apply, while the data stays on the old one's claims (`whenDeleted: Retain`) and
/// the old pods keep running (`kubectl apply` deletes nothing). No `moved` block carries a
/// volume: the added StatefulSet is flagged, with what to do.
pub fn renamed_statefulsets(
    old: &BTreeMap<String, Object>,
    new: &BTreeMap<String, Object>,
    changes: &mut [super::Change],
) {
    let gone: Vec<(&str, &str, &str, &str)> = old
        .iter()
        .filter(|(addr, o)| o.kind == "k8s:StatefulSet" && !new.contains_key(*addr))
        .filter_map(|(_, o)| {
            let meta = o.body.get("metadata")?;
            let (repo, claim) = image_and_claim(&o.body)?;
            Some((
                meta.get("namespace")?.as_str()?,
                meta.get("name")?.as_str()?,
                repo,
                claim,
            ))
        })
        .collect();
    for c in changes.iter_mut().filter(|c| {
        c.kind == super::ChangeKind::Added
            && c.kind_name == "StatefulSet"
            && c.destructive.is_none()
    }) {
        let Some((repo, claim)) = new.get(&c.address).and_then(|n| image_and_claim(&n.body)) else {
            continue;
        };
        let ns = c.namespace.as_deref().unwrap_or_default();
        let Some((_, was, _, old_claim)) = gone.iter().find(|(n, _, r, _)| *n == ns && *r == repo)
        else {
            continue;
        };
        c.destructive = Some(format!(
            "starts EMPTY: it replaces StatefulSet {ns}/{was}, whose data stays on its claims ({old_claim}-{was}-N, kept) — volumes do not follow a rename, and this apply points the clients at the new, empty claims ({claim}-{name}-N); copy the data across (dump from {was}, restore into {name}) before the clients move, or keep the old name",
            name = c.name
        ));
    }
}

/// A note on workloads whose `spec.replicas` the manifests stop writing — a service that
/// gains a HorizontalPodAutoscaler. `kubectl apply` removes a field the last applied
/// configuration held and the manifest no longer does, and `replicas` then defaults to 1:
/// every pod but one terminates until the autoscaler scales back up
/// (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling).
/// Dropping the field from the last-applied configuration first avoids it.
pub fn replicas_note(
    old: &BTreeMap<String, Object>,
    new: &BTreeMap<String, Object>,
) -> Option<String> {
    let commands: Vec<String> = new
        .iter()
        .filter(|(_, n)| matches!(n.kind.as_str(), "k8s:Deployment" | "k8s:StatefulSet"))
        .filter(|(_, n)| n.body.pointer("/spec/replicas").is_none())
        .filter(|(addr, _)| {
            old.get(*addr)
                .is_some_and(|o| o.body.pointer("/spec/replicas").is_some())
        })
        .map(|(_, n)| {
            let meta = n.body.get("metadata");
            let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
            // `kubectl apply edit-last-applied (RESOURCE/NAME | -f FILENAME)`.
            format!(
                "`kubectl apply edit-last-applied -n {} {}/{}`",
                field("namespace").unwrap_or("default"),
                n.kind.trim_start_matches("k8s:").to_lowercase(),
                field("name").unwrap_or("?"),
            )
        })
        .collect();
    (!commands.is_empty()).then(|| {
        format!(
            "k8s: `spec.replicas` goes to an autoscaler, and `kubectl apply` would reset it to 1 (every pod but one terminates until the autoscaler scales back); before the apply, delete `spec.replicas` from the last-applied configuration: {}",
            commands.join(", ")
        )
    })
}

/// A note on Deployments that switch to `strategy: recreate`. The running Deployment holds
/// `spec.strategy.rollingUpdate` (the API server defaults it, or an earlier manifest wrote
/// it), and `kubectl apply` leaves a field the last-applied configuration did not hold —
/// then the API refuses the object ("spec.strategy.rollingUpdate: Forbidden: may not be
/// specified when strategy `type` is 'Recreate'", kubernetes/kubernetes#24198). One JSON
/// patch that removes the field and sets the type passes validation; the apply then agrees.
pub fn strategy_note(
    old: &BTreeMap<String, Object>,
    new: &BTreeMap<String, Object>,
) -> Option<String> {
    let kind = |o: &Object| {
        o.body
            .pointer("/spec/strategy/type")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let commands: Vec<String> = new
        .iter()
        .filter(|(_, n)| n.kind == "k8s:Deployment" && kind(n).as_deref() == Some("Recreate"))
        .filter(|(addr, _)| {
            old.get(*addr)
                .is_some_and(|o| kind(o).as_deref() != Some("Recreate"))
        })
        .map(|(_, n)| {
            let meta = n.body.get("metadata");
            let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
            format!(
                "`kubectl patch deployment -n {} {} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/strategy/rollingUpdate\"}},{{\"op\":\"replace\",\"path\":\"/spec/strategy/type\",\"value\":\"Recreate\"}}]'`",
                field("namespace").unwrap_or("default"),
                field("name").unwrap_or("?"),
            )
        })
        .collect();
    (!commands.is_empty()).then(|| {
        format!(
            "k8s: a Deployment switches to `strategy: recreate`, and `kubectl apply` keeps the `rollingUpdate` the running one holds, which the API refuses beside `Recreate` (kubernetes/kubernetes#24198); before the apply, switch it in one patch: {}",
            commands.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(path: &str, old: &str, new: &str) -> Attribute {
        Attribute {
            path: path.into(),
            old: Some(json!(old)),
            new: Some(json!(new)),
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(crate::k8s::quantity_bytes("1Gi"), Some(1024f64.powi(3)));
        assert_eq!(crate::k8s::quantity_bytes("500M"), Some(5e8));
        assert!(shrinks(&[at(
            "spec.resources.requests.storage",
            "20Gi",
            "10Gi"
        )]));
        assert!(!shrinks(&[at(
            "spec.resources.requests.storage",
            "10Gi",
            "20Gi"
        )]));
        assert!(!shrinks(&[at(
            "spec.resources.requests.storage",
            "1Gi",
            "1024Mi"
        )]));
    }

    #[test]
    fn a_volume_resize_names_the_claims_to_patch() {
        let why = refusal(
            "StatefulSet",
            Some("shop"),
            "orders",
            &["spec.volumeClaimTemplates"],
            &[at(
                "spec.volumeClaimTemplates[name=data].spec.resources.requests.storage",
                "10Gi",
                "20Gi",
            )],
            &json!({"spec": {"replicas": 3, "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}),
        );
        assert!(
            why.contains("kubectl delete statefulset -n shop orders --cascade=orphan"),
            "{why}"
        );
        assert!(
            why.contains("kubectl patch pvc -n shop data-orders-0…2"),
            "{why}"
        );
        assert!(why.contains("\"20Gi\""), "{why}");
    }
}
