//! What DigitalOcean would refuse or break for the shipped DOKS blueprint, refused at synth.

use infragen::Provider;

use crate::support::root;

/// ecommerce-doks with `edit` applied to its text.
fn doks(edit: impl Fn(String) -> String, env: &str) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit applies");
    infragen::synthesize(
        "blueprints/ecommerce-doks.yaml",
        edited.as_bytes(),
        Provider::Digitalocean,
        env,
    )
    .map_err(|d| d.to_string())
}

#[test]
fn a_vpc_overlapping_the_cluster_networks_is_refused() {
    // DOKS creates the cluster with pods in 10.244.0.0/16 and Services in 10.245.0.0/16.
    for (cidr, network) in [
        ("10.244.0.0/16", "pod network `10.244.0.0/16`"),
        ("10.245.128.0/20", "Service network `10.245.0.0/16`"),
    ] {
        let err = doks(
            |t| t.replace("cidr: 172.17.0.0/16", &format!("cidr: {cidr}")),
            "production",
        )
        .unwrap_err();
        assert!(
            err.contains("`network.cidr`")
                && err.contains(network)
                && err.contains("blueprints/ecommerce-doks.yaml:"),
            "{err}"
        );
    }
    // Next to them is fine (not 10.10.0.0/16: DigitalOcean reserves it in nyc1, this
    // blueprint's region).
    doks(
        |t| t.replace("cidr: 172.17.0.0/16", "cidr: 10.20.0.0/16"),
        "production",
    )
    .unwrap();
}

#[test]
fn a_custom_postgres_user_is_granted_its_database_inside_the_cluster() {
    // ecommerce-eks on DigitalOcean: managed PostgreSQL 17 with `username: ecommerce_admin`,
    // which DigitalOcean creates with minimal permissions; from PostgreSQL 15 only the
    // database's owner (doadmin) may create in `public`, so the services' migrations would
    // fail without a grant. The firewall admits only the cluster: the grant runs there.
    let out = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let grants: serde_json::Value =
        serde_json::from_str(&out.files["terraform/platform/grants.tf.json"]).unwrap();
    let job = &grants["resource"]["kubernetes_job_v1"]["ecommerce_production_db_grants"];
    assert_eq!(job["wait_for_completion"], true);
    let pod = &job["spec"]["template"]["spec"];
    let c = &pod["container"][0];
    let command: Vec<&str> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(command[0], "psql");
    assert!(command.contains(&r#"GRANT ALL ON DATABASE "ecommerce" TO "ecommerce_admin""#));
    assert!(command.contains(&r#"GRANT ALL ON SCHEMA public TO "ecommerce_admin""#));
    // It connects as the cluster's admin, over TLS, to the database the services use, in
    // the services' namespace (which the platform module creates and enforces `restricted`).
    let secret = &grants["resource"]["kubernetes_secret_v1"]["ecommerce_production_db_grants"];
    assert_eq!(
        c["env_from"][0]["secret_ref"]["name"],
        secret["metadata"]["name"]
    );
    assert_eq!(
        secret["data"]["PGUSER"],
        "${data.digitalocean_database_cluster.db.user}"
    );
    assert_eq!(secret["data"]["PGDATABASE"], "ecommerce");
    assert_eq!(secret["data"]["PGSSLMODE"], "require");
    assert_eq!(
        job["metadata"]["namespace"],
        secret["metadata"]["namespace"]
    );
    let services_cm: serde_json::Value =
        serde_json::from_str(&out.files["terraform/platform/connections.tf.json"]).unwrap();
    let cm =
        &services_cm["resource"]["kubernetes_config_map_v1"]["ecommerce_production_order_service"];
    assert_eq!(job["metadata"]["namespace"], cm["metadata"]["namespace"]);
    assert_eq!(cm["data"]["DB_DATABASE"], "ecommerce");
    // Restricted Pod Security: non-root, no escalation, no capabilities, seccomp.
    assert_eq!(pod["security_context"]["run_as_non_root"], true);
    assert_eq!(
        pod["security_context"]["seccomp_profile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(c["security_context"]["allow_privilege_escalation"], false);
    assert_eq!(c["security_context"]["capabilities"]["drop"][0], "ALL");
    // In the cluster the credentials Secret's user owns its database: no grant.
    let k8s = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Kubernetes,
        "production",
    );
    assert!(!k8s.files.keys().any(|f| f.contains("grants")));
}

/// `observability.notify` alone (no alarms) was dropped without a word on DigitalOcean and on
/// an existing cluster: the addresses would never hear anything and nobody was told.
#[test]
fn alert_addresses_no_output_notifies_are_named() {
    let text = r#"
name: obs
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080 }
observability:
  notify: [ops@example.com]
"#;
    for provider in [Provider::Digitalocean, Provider::Kubernetes] {
        let out = infragen::synthesize("obs.yaml", text.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{d}"));
        assert!(
            out.notes.iter().any(|n| {
                let n = n.to_string();
                n.contains("observability.notify") && n.contains("ops@example.com")
            }),
            "{provider}: {:?}",
            out.notes
        );
    }
}

/// `node_pool` pins a workload by the pool's labels and the platform's node-pool label. DOKS
/// labels each node `doks.digitalocean.com/node-pool: <pool name>`, but the label was never
/// used: a service pinned to a pool without labels of its own got no nodeSelector at all
/// and landed on any pool (it tolerated the pool's taint, nothing more).
#[test]
fn a_pinned_workload_selects_its_doks_pool_by_name() {
    let text = r#"
name: pin
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
  - { name: batch, size: large, min: 1, max: 2, taints: [{ key: batch, value: "yes", effect: NoSchedule }] }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080 }
  - { name: worker, image: "ghcr.io/x/worker:1.0.0", node_pool: batch }
"#;
    let out = infragen::synthesize(
        "pin.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = crate::support::manifests(&out);
    let worker = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "worker")
        .expect("worker Deployment");
    let spec = &worker["spec"]["template"]["spec"];
    assert_eq!(
        spec["nodeSelector"]["doks.digitalocean.com/node-pool"], "batch",
        "{spec:#}"
    );
    // The pool DOKS labels so is the one infra names `batch`.
    let cluster: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/cluster.tf.json"]).unwrap();
    assert_eq!(
        cluster["resource"]["digitalocean_kubernetes_node_pool"]["batch"]["name"],
        "batch"
    );
    let api = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .unwrap();
    assert!(api["spec"]["template"]["spec"]["nodeSelector"].is_null());
}

/// A read-only replica's trusted sources are its own (the provider's docs give a replica a
/// `digitalocean_database_firewall` of its own, `cluster_id` = its `uuid`): once the
/// services get its host (`<NAME>_REPLICA_HOST`), it admits the DOKS cluster as the primary
/// does, and nothing else.
#[test]
fn a_read_replica_admits_the_cluster_like_its_primary() {
    let text = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let out = infragen::synthesize(
        "ecommerce.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap();
    let replicas = crate::support::resources(&out, "infra", "digitalocean_database_replica");
    assert!(!replicas.is_empty(), "the blueprint has a read replica");
    let doc: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/data.tf.json"]).unwrap();
    let firewalls = doc["resource"]["digitalocean_database_firewall"]
        .as_object()
        .unwrap();
    let names: Vec<&String> = doc["resource"]["digitalocean_database_replica"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for name in names {
        let uuid = format!("${{digitalocean_database_replica.{name}.uuid}}");
        let fw = firewalls
            .values()
            .find(|f| f["cluster_id"] == uuid.as_str())
            .unwrap_or_else(|| panic!("no firewall for replica {name}: {firewalls:#?}"));
        assert_eq!(
            fw["rule"],
            serde_json::json!([{"type": "k8s", "value": "${digitalocean_kubernetes_cluster.main.id}"}])
        );
    }
}

/// ecommerce-doks's `proxy-client` with its own requests instead of the shared JVM ones.
fn proxy_client_requests(requests: &'static str) -> impl Fn(String) -> String {
    move |t: String| {
        let from = "    service_port: 8900\n    replicas: 1\n    resources: *jvm\n";
        assert!(t.contains(from), "proxy-client's resources moved");
        t.replacen(
            from,
            &format!("    service_port: 8900\n    replicas: 1\n    resources:\n      requests: {requests}\n"),
            1,
        )
    }
}

/// An 8 GB node (the worker pool's s-4vcpu-8gb, whose row of DigitalOcean's
/// allocatable-memory table no source here confirmed) offers pods at most its whole 8 GiB,
/// and at most its 4 vCPUs: a pod past either stays Pending for good, whatever the Cluster
/// Autoscaler adds (nodes of the same size).
#[test]
fn a_pod_larger_than_a_doks_node_is_refused() {
    let err = doks(
        proxy_client_requests("{ cpu: 500m, memory: 9Gi }"),
        "production",
    )
    .unwrap_err();
    assert!(
        err.contains("`services[1].resources.requests.memory`"),
        "{err}"
    );
    assert!(
        err.contains("service `proxy-client` requests 500m CPU and 9216Mi memory"),
        "{err}"
    );
    assert!(
        err.contains("pool `worker-pool` (s-4vcpu-8gb) at most 4000m CPU and 8192Mi memory"),
        "{err}"
    );
    assert!(err.contains("larger `size`"), "{err}");
    // Positioned at the service's requests in the blueprint.
    assert!(err.contains("blueprints/ecommerce-doks.yaml:"), "{err}");
    assert!(
        err.contains("requests: { cpu: 500m, memory: 9Gi }"),
        "{err}"
    );

    let err = doks(
        proxy_client_requests("{ cpu: \"5\", memory: 1Gi }"),
        "stage",
    )
    .unwrap_err();
    assert!(
        err.contains("`services[1].resources.requests.cpu`"),
        "{err}"
    );
    assert!(err.contains("5000m CPU"), "{err}");

    // At the node's allocatable figures the pod fits.
    doks(
        proxy_client_requests("{ cpu: \"4\", memory: 8Gi }"),
        "production",
    )
    .unwrap();
}

/// A pod may run on its `node_pool` only, or, unpinned, on the pools without a
/// `NoSchedule` taint: a larger tainted pool holds the pod only once it is pinned there.
#[test]
fn a_doks_pod_fits_on_a_pool_it_may_run_on() {
    let big = "  - { name: big, size: s-8vcpu-16gb, min: 1, max: 2, taints: [{ key: big, value: \"yes\", effect: NoSchedule }] }\n";
    let with_big = move |t: String| {
        let t = proxy_client_requests("{ cpu: 500m, memory: 12Gi }")(t);
        t.replacen(
            "    min: 3\n    max: 10\n",
            &format!("    min: 3\n    max: 10\n{big}"),
            1,
        )
    };
    let err = doks(with_big, "production").unwrap_err();
    assert!(
        err.contains("`services[1].resources.requests.memory`"),
        "{err}"
    );
    assert!(
        !err.contains("pool `big`"),
        "the tainted pool is no place for it: {err}"
    );
    doks(
        move |t| {
            with_big(t).replacen(
                "    resources:\n      requests: { cpu: 500m, memory: 12Gi }\n",
                "    node_pool: big\n    resources:\n      requests: { cpu: 500m, memory: 12Gi }\n",
                1,
            )
        },
        "production",
    )
    .unwrap();
}

/// A release Job's pod (`services[].release`) is checked like the service's own: a
/// migration asking more memory than the worker pool's s-4vcpu-8gb offers pods (6 GiB)
/// never schedules, and the service's new pods wait on it (`wait-for-release`) for ever.
#[test]
fn a_release_job_larger_than_a_doks_node_is_refused() {
    let with_release = |release: &'static str| {
        move |t: String| {
            let from = "    service_port: 8900\n    replicas: 1\n    resources: *jvm\n";
            assert!(t.contains(from), "proxy-client's resources moved");
            t.replacen(
                from,
                &format!("{from}    release:\n      command: [migrate]\n{release}"),
                1,
            )
        }
    };
    let err = doks(
        with_release("      resources: { requests: { cpu: 500m, memory: 9Gi } }\n"),
        "production",
    )
    .unwrap_err();
    assert!(
        err.contains("`services[1].release.resources.requests.memory`"),
        "{err}"
    );
    assert!(
        err.contains("service `proxy-client`'s release Job requests 500m CPU and 9216Mi memory"),
        "{err}"
    );
    assert!(err.contains("wait-for-release"), "{err}");
    assert!(
        err.contains("resources: { requests: { cpu: 500m, memory: 9Gi } }"),
        "{err}"
    );
    // A release within the node, or one that takes the app's figures, starts.
    doks(
        with_release("      resources: { requests: { cpu: 500m, memory: 2Gi } }\n"),
        "production",
    )
    .unwrap();
    doks(with_release(""), "production").unwrap();
}
