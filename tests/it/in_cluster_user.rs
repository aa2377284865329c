//! `databases[].username` of a database that runs in the cluster: the platform module writes
//! it into the credentials Secret that the server is initialised from (`POSTGRES_USER`) and
//! the clients read (`_USERNAME`), so it is applied, and `synth` must not say otherwise — a
//! note "not applied: username" sent a new user (round 17b, `sextant`) looking for another
//! user name to configure.

use infragen::Provider;

use crate::support::{resources, root, synth};

#[test]
fn an_in_cluster_databases_username_is_applied_and_not_noted_as_dropped() {
    let path = root().join("tests/fixtures/new-user/sextant-kind-two-namespaces.yaml");
    let out = synth(&path, Provider::Kubernetes, "production");
    let secrets = resources(&out, "platform", "kubernetes_secret_v1");
    let users: Vec<&str> = secrets
        .iter()
        .filter(|s| s["metadata"]["name"] == "db-credentials")
        .map(|s| s["data"]["username"].as_str().unwrap_or_default())
        .collect();
    // The Secret in the database's namespace and in `sextant-reports`, whose renderer uses it.
    assert_eq!(users, ["sextant", "sextant"], "{secrets:#?}");
    let notes: Vec<&str> = out
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .filter(|t| t.contains("`db` runs in the cluster"))
        .collect();
    assert!(notes.iter().all(|t| !t.contains("username")), "{notes:#?}");
}
