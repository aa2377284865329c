//! `providers.kubernetes.user_ids: assigned`: OpenShift's default `restricted-v2` SCC gives
//! each pod a UID from its namespace's `openshift.io/sa.scc.uid-range` and refuses any other
//! `runAsUser`, so the pods must name no user or group ids — yet stay as hardened as the SCC
//! requires (non-root, seccomp `RuntimeDefault`, every capability dropped, no privilege
//! escalation). In-cluster data services, written for their images' own user, are refused
//! (tests/invalid/kubernetes-user-ids-data.yaml).

use serde_json::Value;

use crate::support::root;

const FIXTURE: &str = "tests/fixtures/new-user/juniper-django-openshift.yaml";

/// The fixture's production output on an existing cluster.
fn synth(text: &str) -> infragen::Output {
    infragen::synthesize(
        "juniper.yaml",
        text.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

/// Every pod template of the output: (what, pod spec).
fn pod_specs(text: &str) -> Vec<(String, Value)> {
    let out = synth(text);
    let mut specs = Vec::new();
    for d in crate::netpol::documents(&out.files) {
        let spec = match d["kind"].as_str().unwrap_or_default() {
            "Deployment" | "StatefulSet" | "Job" => &d["spec"]["template"]["spec"],
            "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        specs.push((
            format!("{} {}", d["kind"], d["metadata"]["name"]),
            spec.clone(),
        ));
    }
    specs
}

#[test]
fn with_assigned_user_ids_the_pods_name_no_ids_and_stay_restricted() {
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let specs = pod_specs(&text);
    let kinds: Vec<&str> = specs.iter().map(|(w, _)| w.as_str()).collect();
    for kind in ["\"Deployment\"", "\"Job\"", "\"CronJob\""] {
        assert!(
            kinds.iter().any(|w| w.starts_with(kind)),
            "no {kind} in {kinds:?}"
        );
    }
    for (what, spec) in &specs {
        let pod = &spec["securityContext"];
        for id in ["runAsUser", "runAsGroup", "fsGroup"] {
            assert!(pod.get(id).is_none(), "{what}: pod sets {id}: {pod}");
        }
        assert_eq!(pod["runAsNonRoot"], true, "{what}");
        assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault", "{what}");
        let containers = (spec["containers"].as_array().into_iter().flatten())
            .chain(spec["initContainers"].as_array().into_iter().flatten());
        for c in containers {
            let sc = &c["securityContext"];
            for id in ["runAsUser", "runAsGroup"] {
                assert!(sc.get(id).is_none(), "{what} {}: sets {id}", c["name"]);
            }
            assert_eq!(
                sc["allowPrivilegeEscalation"], false,
                "{what} {}",
                c["name"]
            );
            assert_eq!(sc["capabilities"]["drop"][0], "ALL", "{what} {}", c["name"]);
        }
    }
    // The default still fixes the blueprint's ids (`security.run_as_user`, 1001).
    let fixed = text.replace("    user_ids: assigned\n", "");
    assert_ne!(fixed, text);
    for (what, spec) in pod_specs(&fixed) {
        assert_eq!(spec["securityContext"]["runAsUser"], 1001, "{what}");
    }
}

/// Ids a workload's `security` names are not written under `assigned` — said in a note
/// naming the workload, never dropped silently; none when only the default UID is in play.
#[test]
fn ids_written_in_security_are_noted_when_the_cluster_assigns_them() {
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let notes = |text: &str| -> Vec<String> {
        let out = synth(text);
        out.notes.iter().map(|n| n.to_string()).collect()
    };
    let about_ids = |notes: &[String]| -> Vec<String> {
        (notes.iter())
            .filter(|n| n.contains("user_ids: assigned"))
            .cloned()
            .collect()
    };
    assert!(about_ids(&notes(&text)).is_empty(), "{:?}", notes(&text));
    let with_ids = text.replacen(
        "    port: 8000\n",
        "    port: 8000\n    security: { run_as_user: 1000, fs_group: 2000 }\n",
        1,
    );
    assert_ne!(with_ids, text);
    let said = about_ids(&notes(&with_ids));
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("`api`"), "{said:?}");
}
