//! `services[].peer_ports`: replicas that cluster (Erlang/Elixir distribution through
//! libcluster's Kubernetes DNS strategy, Akka, Hazelcast) find each other through a headless
//! Service that resolves to every pod's address, and reach each other on those ports even
//! where the namespace's pods are not admitted to each other. Refused on ECS:
//! `tests/invalid/peer-ports-*.yaml`. The new-user blueprint that needed it:
//! `tests/fixtures/new-user/beacon-phoenix-k8s.yaml`.

use infragen::Provider;
use serde_json::{Value, json};

use crate::support::manifests;

/// An Elixir web service whose nodes cluster, beside a service that does not, with only the
/// traffic `uses` and `peer_ports` ask for (`allow_same_namespace: false`).
const BLUEPRINT: &str = r#"
name: beacon
providers:
  digitalocean: { region: ams3 }
state: { bucket: "beacon-tf-{env}" }
network: { cidr: 10.90.0.0/16 }
cluster: { platform: doks, version: "1.35" }
node_pools: [{ name: general, size: medium, min: 2, max: 3 }]
kubernetes:
  default_namespace: beacon
  namespaces: [{ name: beacon }]
  network_policies: { default_deny_ingress: true, per_service: true, allow_same_namespace: false }
services:
  - name: web
    image: ghcr.io/beacon/web:1.4.0
    port: 4000
    replicas: 3
    peer_ports: [4369, 9100]
    env: { RELEASE_DISTRIBUTION: name, RELEASE_NODE: "beacon@$(POD_IP)" }
    init: [{ name: migrate, image: "ghcr.io/beacon/web:1.4.0", command: [/app/bin/migrate], app_env: true }]
  - name: admin
    image: ghcr.io/beacon/admin:1.4.0
    port: 4000
"#;

fn docs(provider: Provider) -> Vec<Value> {
    let out = infragen::synthesize("beacon.yaml", BLUEPRINT.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("--provider {provider}:\n{d}"));
    manifests(&out)
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

/// libcluster's DNS strategy looks the Service's name up and connects to every address it
/// gets: only a headless Service (no cluster IP) answers with the pods' own addresses, ready
/// or not, on the peer ports. A service without `peer_ports` gets none.
#[test]
fn clustering_replicas_get_a_headless_service() {
    for provider in [Provider::Kubernetes, Provider::Digitalocean] {
        let docs = docs(provider);
        let svc = find(&docs, "Service", "web-headless")
            .unwrap_or_else(|| panic!("--provider {provider}: no Service web-headless"));
        let spec = &svc["spec"];
        assert_eq!(spec["clusterIP"], "None", "{provider}: {spec}");
        assert_eq!(spec["publishNotReadyAddresses"], true, "{provider}: {spec}");
        assert_eq!(spec["selector"], json!({"app": "web"}), "{provider}");
        let ports: Vec<(u64, u64)> = spec["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["port"].as_u64().unwrap(),
                    p["targetPort"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ports, [(4369, 4369), (9100, 9100)], "{provider}");
        // The ClusterIP Service the ingress and callers use is still there.
        assert_eq!(
            find(&docs, "Service", "web").unwrap()["spec"]["type"],
            "ClusterIP"
        );
        assert!(
            find(&docs, "Service", "admin-headless").is_none(),
            "{provider}: a service without peer_ports got a headless Service"
        );
    }
}

/// The rules of a per-service policy that name pods `app: <app>` on exactly `ports`.
fn peer_rules(policy: &Value, direction: &str, key: &str, app: &str) -> Vec<Vec<u64>> {
    policy["spec"][direction]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r[key] == json!([{"podSelector": {"matchLabels": {"app": app}}}]))
        .map(|r| {
            r["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["port"].as_u64().unwrap())
                .collect()
        })
        .collect()
}

/// With the namespace's pods not admitted to each other, the per-service policy is all that
/// lets one node reach another: ingress from and egress to the service's own pods on the
/// peer ports, and nothing of the kind for a service that does not cluster.
#[test]
fn network_policies_admit_the_peers_to_each_other() {
    for provider in [Provider::Kubernetes, Provider::Digitalocean] {
        let docs = docs(provider);
        let web = find(&docs, "NetworkPolicy", "web-netpol").unwrap();
        assert_eq!(
            peer_rules(web, "ingress", "from", "web"),
            [vec![4369, 9100]],
            "{provider}: {web}"
        );
        assert_eq!(
            peer_rules(web, "egress", "to", "web"),
            [vec![4369, 9100]],
            "{provider}: {web}"
        );
        let admin = find(&docs, "NetworkPolicy", "admin-netpol").unwrap();
        assert!(
            peer_rules(admin, "ingress", "from", "admin").is_empty()
                && peer_rules(admin, "egress", "to", "admin").is_empty(),
            "{provider}: {admin}"
        );
        assert!(
            find(&docs, "NetworkPolicy", "allow-same-namespace").is_none(),
            "{provider}: the blueprint turned same-namespace traffic off"
        );
    }
}

/// Without per-service policies (`per_service: false`) `default-deny-ingress` still holds:
/// some policy must admit the nodes to each other on the peer ports, or each pod runs as a
/// cluster of one. (Egress is not restricted without per-service policies.)
#[test]
fn peers_are_admitted_without_per_service_policies() {
    let yaml = BLUEPRINT.replace("per_service: true", "per_service: false");
    let out = infragen::synthesize(
        "beacon.yaml",
        yaml.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    assert!(find(&docs, "NetworkPolicy", "default-deny-ingress").is_some());
    assert!(find(&docs, "NetworkPolicy", "web-netpol").is_none());
    let selects = |p: &Value, app: &str| {
        let sel = &p["spec"]["podSelector"];
        sel == &json!({}) || sel["matchLabels"]["app"] == app
    };
    let admitted: Vec<Vec<u64>> = docs
        .iter()
        .filter(|d| d["kind"] == "NetworkPolicy" && selects(d, "web"))
        .flat_map(|p| peer_rules(p, "ingress", "from", "web"))
        .collect();
    assert_eq!(admitted, [vec![4369, 9100]]);
    // `admin` does not cluster: nothing of the kind.
    assert!(
        docs.iter()
            .filter(|d| d["kind"] == "NetworkPolicy")
            .all(|p| peer_rules(p, "ingress", "from", "admin").is_empty())
    );
}

/// The `env` entries of container `c` as (name, value or source).
fn env_of(c: &Value) -> Vec<(String, Value)> {
    c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let v = e
                .get("value")
                .cloned()
                .unwrap_or_else(|| e["valueFrom"].clone());
            (e["name"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// The nodes are named by their pod's address (`<basename>@<address>`, what the DNS
/// strategy connects to): a clustering service's app container gets `POD_IP` from the
/// downward API before any value that references it, so the kubelet expands
/// `RELEASE_NODE: "beacon@$(POD_IP)"`; an `app_env` init container inherits it, and a
/// service that does not cluster gets none (and may not reference it).
#[test]
fn clustering_replicas_know_their_own_address() {
    for provider in [Provider::Kubernetes, Provider::Digitalocean] {
        let docs = docs(provider);
        let web = find(&docs, "Deployment", "web").unwrap();
        let pod = &web["spec"]["template"]["spec"];
        for c in [&pod["containers"][0], &pod["initContainers"][0]] {
            let env = env_of(c);
            let at = |name: &str| env.iter().position(|(n, _)| n == name);
            let ip = at("POD_IP").unwrap_or_else(|| panic!("{provider}: no POD_IP in {c}"));
            assert_eq!(
                env[ip].1,
                json!({"fieldRef": {"fieldPath": "status.podIP"}}),
                "{provider}"
            );
            let node = at("RELEASE_NODE").unwrap_or_else(|| panic!("{provider}: {c}"));
            assert!(ip < node, "{provider}: POD_IP must come first: {env:?}");
            assert_eq!(env[node].1, "beacon@$(POD_IP)");
        }
        let admin = find(&docs, "Deployment", "admin").unwrap();
        assert!(
            env_of(&admin["spec"]["template"]["spec"]["containers"][0])
                .iter()
                .all(|(n, _)| n != "POD_IP"),
            "{provider}"
        );
    }
    let refused = BLUEPRINT.replace(
        "image: ghcr.io/beacon/admin:1.4.0",
        "image: ghcr.io/beacon/admin:1.4.0\n    env: { NODE: \"admin@$(POD_IP)\" }",
    );
    let err = infragen::synthesize(
        "beacon.yaml",
        refused.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map(|_| ())
    .expect_err("a service without peer_ports has no POD_IP")
    .to_string();
    assert!(err.contains("$(POD_IP)"), "{err}");
}
