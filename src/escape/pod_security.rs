//! Pod Security `restricted` for the workloads an `extra:` template adds.
//!
//! infragen's own pods are written to the `restricted` Pod Security Standard, and the
//! namespaces it creates enforce it (`pod-security.kubernetes.io/enforce`). A hand-written
//! StatefulSet (a MinIO, an OpenSearch) in such a namespace passes the schemas and `kubectl
//! apply`, but admission refuses every pod its controller creates, so it never starts. The
//! rendered workloads are therefore held to the profile's controls where their namespace, as
//! the output or the template declares it, enforces it ("Pod Security Standards",
//! kubernetes.io/docs/concepts/security/pod-security-standards, Restricted): volume types,
//! host namespaces and ports, privileged, privilege escalation, running as non-root (and not
//! as UID 0), seccomp `RuntimeDefault`/`Localhost`, capabilities dropping `ALL` and adding at
//! most `NET_BIND_SERVICE`. A namespace whose level the output does not know (an existing
//! cluster's) is not judged.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::output::Output;

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Volume sources the restricted profile allows.
const VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The enforced Pod Security level of every namespace the output (its `k8s/` Namespaces and
/// the `platform` module's `kubernetes_namespace_v1`) or the rendered documents create.
pub fn enforced_levels(out: &Output, rendered: &[Value]) -> BTreeMap<String, String> {
    let mut levels = BTreeMap::new();
    let mut add = |name: Option<&str>, labels: &Value| {
        if let (Some(name), Some(level)) = (name, labels[ENFORCE].as_str()) {
            levels.insert(name.to_string(), level.to_string());
        }
    };
    for (path, text) in &out.files {
        if path.starts_with("k8s/") && text.contains("kind: Namespace\n") {
            for d in yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_default() {
                if let Ok(v) = crate::check::kubernetes::to_json(&d)
                    && v["kind"] == "Namespace"
                {
                    add(v["metadata"]["name"].as_str(), &v["metadata"]["labels"]);
                }
            }
        }
        if path.starts_with("terraform/") && text.contains("\"kubernetes_namespace_v1\"") {
            let doc: Value = serde_json::from_str(text).unwrap_or_default();
            for r in doc["resource"]["kubernetes_namespace_v1"]
                .as_object()
                .into_iter()
                .flat_map(|o| o.values())
            {
                // The provider's `metadata` is a block: a list of one object in JSON.
                let meta = if r["metadata"].is_array() {
                    &r["metadata"][0]
                } else {
                    &r["metadata"]
                };
                add(meta["name"].as_str(), &meta["labels"]);
            }
        }
    }
    for v in rendered.iter().filter(|v| v["kind"] == "Namespace") {
        add(v["metadata"]["name"].as_str(), &v["metadata"]["labels"]);
    }
    levels
}

/// The pod spec of a workload document (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// Job, CronJob); `None` for anything else.
fn pod_spec(doc: &Value) -> Option<&Value> {
    let spec = match doc["kind"].as_str()? {
        "Pod" => &doc["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &doc["spec"]["template"]["spec"]
        }
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    spec.is_object().then_some(spec)
}

/// What in `doc`'s pod spec the restricted profile forbids, one phrase each; empty for a
/// compliant workload or a document that is none.
pub fn violations(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[host] == true {
            out.push(format!("`{host}: true`"));
        }
    }
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let kinds: Vec<&str> = v
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .map(String::as_str)
            .filter(|k| *k != "name")
            .collect();
        if let Some(k) = kinds.iter().find(|k| !VOLUMES.contains(k)) {
            out.push(format!(
                "volume `{}` of type `{k}`",
                v["name"].as_str().unwrap_or("?")
            ));
        }
    }
    let pod = &spec["securityContext"];
    if pod["runAsUser"] == 0 {
        out.push("the pod's `runAsUser: 0`".into());
    }
    let pod_seccomp = seccomp_ok(&pod["seccompProfile"]);
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten());
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        let mut miss = Vec::new();
        if sc["privileged"] == true {
            miss.push("`privileged: true`".to_string());
        }
        if sc["allowPrivilegeEscalation"] != false {
            miss.push("no `allowPrivilegeEscalation: false`".into());
        }
        let non_root = match sc["runAsNonRoot"].as_bool() {
            Some(b) => b,
            None => pod["runAsNonRoot"] == true,
        };
        if !non_root {
            miss.push("no `runAsNonRoot: true` (its own or the pod's)".into());
        }
        if sc["runAsUser"] == 0 {
            miss.push("`runAsUser: 0`".into());
        }
        let seccomp = if sc["seccompProfile"].is_object() {
            seccomp_ok(&sc["seccompProfile"])
        } else {
            pod_seccomp
        };
        if !seccomp {
            miss.push("no `seccompProfile` `RuntimeDefault` (its own or the pod's)".into());
        }
        let caps = &sc["capabilities"];
        if !caps["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
        {
            miss.push("no `capabilities: { drop: [ALL] }`".into());
        }
        for add in caps["add"].as_array().into_iter().flatten() {
            if add != "NET_BIND_SERVICE" {
                miss.push(format!("capability {add} added"));
            }
        }
        if c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["hostPort"].as_u64().is_some_and(|h| h != 0))
        {
            miss.push("a `hostPort`".into());
        }
        if !miss.is_empty() {
            out.push(format!("container `{name}`: {}", miss.join(", ")));
        }
    }
    out
}

/// The claims of `doc`'s pods (`volumeClaimTemplates`, `persistentVolumeClaim` volumes) a
/// non-root pod mounts with no `fsGroup`: a new block volume's file system belongs to root
/// (mode 0755), and only `fsGroup` makes the kubelet give it to the pod's group ("Configure
/// a Security Context for a Pod or Container", kubernetes.io: "the owner for volume … and
/// any files created in that volume will be Group ID"), so the pod cannot write its data.
pub fn claims_without_fs_group(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    let pod = &spec["securityContext"];
    if pod["fsGroup"].is_number() || pod["runAsNonRoot"] != true {
        return Vec::new();
    }
    let mut claims: Vec<String> = doc["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["metadata"]["name"].as_str().map(String::from))
        .collect();
    claims.extend(
        spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["persistentVolumeClaim"].is_object())
            .filter_map(|v| v["name"].as_str().map(String::from)),
    );
    claims
}

/// The refusal of workload `kind` `ns`/`name` for `problems` (from [`violations`]) in a
/// `restricted` namespace, without position or help; `None` when there are none.
pub fn refusal(kind: &str, ns: &str, name: &str, problems: &[String]) -> Option<Diagnostic> {
    if problems.is_empty() {
        return None;
    }
    let mut d = Diagnostic::new(format!(
        "{kind} {ns}/{name} would never start: namespace `{ns}` enforces Pod Security `restricted`, which refuses its pods for {}",
        problems.join("; ")
    ));
    d.expected = Some(EXPECTED.into());
    Some(d)
}

/// What a pod spec admitted by `restricted` looks like, as infragen writes its own.
pub const EXPECTED: &str = "a pod spec hardened as infragen's own pods: `securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }` on the pod, `allowPrivilegeEscalation: false` and `capabilities: { drop: [ALL] }` on every container, volumes of type emptyDir, persistentVolumeClaim, configMap, secret, projected, downwardAPI, csi or ephemeral";

fn seccomp_ok(profile: &Value) -> bool {
    matches!(
        profile["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hardened_statefulset_passes_and_a_plain_one_is_named_point_by_point() {
        let hardened = json!({"kind": "StatefulSet", "spec": {"template": {"spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "minio", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        }}}});
        assert!(
            violations(&hardened).is_empty(),
            "{:?}",
            violations(&hardened)
        );
        let plain = json!({"kind": "StatefulSet", "spec": {"template": {"spec": {
            "containers": [{"name": "minio"}],
            "volumes": [{"name": "data", "hostPath": {"path": "/data"}}],
        }}}});
        let v = violations(&plain);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("hostPath"));
        assert!(v[1].starts_with("container `minio`"));
        assert!(v[1].contains("allowPrivilegeEscalation"));
        assert!(v[1].contains("runAsNonRoot"));
        assert!(v[1].contains("seccompProfile"));
        assert!(v[1].contains("drop: [ALL]"));
        // A container's own `runAsNonRoot: false` overrides the pod's true.
        let mut over = hardened.clone();
        over["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] =
            json!(false);
        assert_eq!(violations(&over).len(), 1);
        assert!(violations(&json!({"kind": "Service", "spec": {}})).is_empty());
    }

    #[test]
    fn a_claim_of_a_non_root_pod_needs_an_fs_group() {
        let mut set = json!({"kind": "StatefulSet", "spec": {
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            "template": {"spec": {"securityContext": {"runAsNonRoot": true}, "containers": []}},
        }});
        assert_eq!(claims_without_fs_group(&set), ["data"]);
        set["spec"]["template"]["spec"]["securityContext"]["fsGroup"] = json!(1000);
        assert!(claims_without_fs_group(&set).is_empty());
    }
}
