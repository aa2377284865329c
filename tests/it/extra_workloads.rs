//! Workloads an `extra:` template adds (new-user round 12: a self-hosted MinIO on DOKS,
//! `tests/fixtures/extra-workloads/`) are held to the Pod Security level their namespace
//! enforces: a plain StatefulSet passes the schemas and `kubectl apply`, and admission then
//! refuses every pod its controller makes, so synth refuses it instead.

use std::process::Command;

use crate::support::root;

fn synth(dir: &std::path::Path) -> (Option<i32>, String) {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["synth", "--provider", "digitalocean", "--env", "production"])
        .args(["--blueprint", "courier-minio.yaml", "--out"])
        .arg(out.path())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A copy of the fixture folder with the template's text passed through `edit`.
fn fixture(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let from = root().join("tests/fixtures/extra-workloads");
    std::fs::create_dir(t.path().join("templates")).unwrap();
    std::fs::copy(
        from.join("courier-minio.yaml"),
        t.path().join("courier-minio.yaml"),
    )
    .unwrap();
    let tpl = std::fs::read_to_string(from.join("templates/minio.yaml.j2")).unwrap();
    std::fs::write(t.path().join("templates/minio.yaml.j2"), edit(&tpl)).unwrap();
    t
}

#[test]
fn a_hardened_template_workload_is_written() {
    let t = fixture(str::to_string);
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_template_workload_the_namespace_would_not_admit_is_refused() {
    // The pod's and the container's securityContext taken out: what a MinIO example from
    // the internet looks like.
    let t = fixture(|s| {
        let start = s.find("      securityContext:\n").unwrap();
        let end = s[start..].find("      containers:").unwrap() + start;
        let s = format!("{}{}", &s[..start], &s[end..]);
        let start = s.find("          securityContext:\n").unwrap();
        let end = s[start..].find("  volumeClaimTemplates:").unwrap() + start;
        format!("{}{}", &s[..start], &s[end..])
    });
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("StatefulSet courier/minio would never start")
            && err.contains("enforces Pod Security `restricted`")
            && err.contains("allowPrivilegeEscalation")
            && err.contains("runAsNonRoot")
            && err.contains("pod_security: baseline"),
        "{err}"
    );
    // Pointed at the document in the rendered text.
    assert!(err.contains("| kind: StatefulSet"), "{err}");
}

/// A namespace the blueprint lowers to `baseline` admits it: the level is read from the
/// output, not assumed.
#[test]
fn a_baseline_namespace_admits_a_plain_workload() {
    let t = fixture(|s| {
        s.replace(
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        )
    });
    let bp = t.path().join("courier-minio.yaml");
    let text = std::fs::read_to_string(&bp).unwrap();
    std::fs::write(
        &bp,
        text.replace(
            "namespaces: [{ name: courier }]",
            "namespaces: [{ name: courier, pod_security: baseline }]",
        ),
    )
    .unwrap();
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(0), "{err}");
}

/// A non-root StatefulSet whose claim has no `fsGroup` cannot write its new volume (root's,
/// mode 0755): warned, naming the claim; the fixture's `fsGroup` silences it.
#[test]
fn a_claim_without_an_fs_group_is_warned() {
    let t = fixture(str::to_string);
    let (_, err) = synth(t.path());
    assert!(!err.contains("extra-volume-owner"), "{err}");
    let t = fixture(|s| s.replace("        fsGroup: 1000\n", ""));
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning[extra-volume-owner]") && err.contains("claim(s) data"),
        "{err}"
    );
}

/// The fixture with namespace `courier` declared as `ns` (a flow mapping's inside).
fn with_namespace(ns: &str) -> tempfile::TempDir {
    let t = fixture(str::to_string);
    let bp = t.path().join("courier-minio.yaml");
    let text = std::fs::read_to_string(&bp).unwrap();
    std::fs::write(
        &bp,
        text.replace(
            "namespaces: [{ name: courier }]",
            &format!("namespaces: [{{ {ns} }}]"),
        ),
    )
    .unwrap();
    t
}

/// The namespace quota counts every pod of the namespace, the template's MinIO too: a quota
/// that holds infragen's own workloads (1664Mi requested at their maximum) but not MinIO's
/// 512Mi besides would refuse its pod ("exceeded quota"), so synth refuses the quota.
#[test]
fn a_quota_without_room_for_a_template_workload_is_refused() {
    let t = with_namespace("name: courier, quota: { requests.memory: 2000Mi }");
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("requests.memory 2000Mi cannot hold namespace `courier` with the `extra:` templates' workloads")
            && err.contains("StatefulSet minio (k8s/courier/extra-minio.yaml) 1 × 512Mi")
            && err.contains("expected: requests.memory of at least 2176Mi"),
        "{err}"
    );
    let t = with_namespace("name: courier, quota: { requests.memory: 2176Mi }");
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(0), "{err}");
}

/// A quota on `limits.cpu` requires every container to set one: the template's MinIO sets
/// none, so admission would refuse its pods; a LimitRange default gives it one.
#[test]
fn a_template_container_without_what_the_quota_counts_is_refused() {
    let t = with_namespace("name: courier, quota: { limits.cpu: \"100\" }");
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "quota on limits.cpu refuses every pod of the `extra:` template's StatefulSet minio"
        ) && err.contains("container `minio` sets no `resources.limits.cpu`"),
        "{err}"
    );
    let t = with_namespace(
        "name: courier, quota: { limits.cpu: \"100\" }, limit_range: { default: { cpu: 500m } }",
    );
    let (code, err) = synth(t.path());
    assert_eq!(code, Some(0), "{err}");
}

/// The Pod Security check `extra:` templates and overrides are held to passes every pod
/// infragen writes itself in a namespace enforcing `restricted`, on every blueprint and
/// fixture: no generated workload would be refused at admission, and the overrides check
/// (which blames an override only for what it adds) has no false positive hidden under it.
#[test]
fn every_generated_pod_passes_the_restricted_check() {
    use infragen::escape::pod_security::{enforced_levels, violations};
    let mut judged = 0;
    let mut problems = Vec::new();
    for (label, out) in crate::support::cloud_outputs() {
        let levels = enforced_levels(&out, &[]);
        for doc in crate::support::manifests(&out) {
            let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
            let kind = doc["kind"].as_str().unwrap_or("?");
            if levels.get(ns).map(String::as_str) != Some("restricted")
                || !["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].contains(&kind)
            {
                continue;
            }
            judged += 1;
            let v = violations(&doc);
            if !v.is_empty() {
                let name = doc["metadata"]["name"].as_str().unwrap_or("?");
                problems.push(format!("{label}: {kind} {ns}/{name}: {}", v.join("; ")));
            }
        }
    }
    assert!(judged > 100, "only {judged} workloads judged");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
