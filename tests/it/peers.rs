//! `services[].peer_ports`: replicas that cluster (Erlang/Elixir distribution through
//! libcluster's Kubernetes DNS strategy, Akka, Hazelcast) find each other through a headless
//! Service that resolves to every pod's address, and reach each other on those ports even
//! where the namespace's pods are not admitted to each other. On ECS: Cloud Map A records and
//! self-referencing security-group rules (`tests/fixtures/workloads/peers-ecs.yaml`);
//! `$(POD_IP)` is refused there (`tests/invalid/peer-ports-ecs.yaml`); bad ports:
//! `tests/invalid/peer-ports-bad.yaml`. The new-user blueprint that needed it:
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

/// The blueprint `tests/fixtures/workloads/peers-ecs.yaml` (`web` clusters on 4369 and
/// 9100 and uses `billing` through Service Connect; `admin` does not cluster) on ECS.
fn ecs() -> infragen::Output {
    let path = crate::support::root().join("tests/fixtures/workloads/peers-ecs.yaml");
    crate::support::synth(&path, Provider::Aws, "production")
}

/// The resources of type `ty` in `terraform/infra`, by their Terraform names.
fn infra(out: &infragen::Output, ty: &str) -> serde_json::Map<String, Value> {
    crate::support::blocks(out, "infra", "resource", ty)
        .into_iter()
        .collect()
}

/// The `environment` of the app container of task definition `name`.
fn task_env(out: &infragen::Output, name: &str) -> Vec<(String, String)> {
    let td = &infra(out, "aws_ecs_task_definition")[name];
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    defs[0]["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A security group's rules as (direction, group, peer group, from port, to port): every
/// rule of the module, so a rule admitting anything else on a peer port shows up too.
fn sg_rules(out: &infragen::Output) -> Vec<(&'static str, String, String, u64, u64)> {
    let mut rules = Vec::new();
    for (dir, ty) in [
        ("in", "aws_vpc_security_group_ingress_rule"),
        ("out", "aws_vpc_security_group_egress_rule"),
    ] {
        for r in infra(out, ty).values() {
            let peer = r["referenced_security_group_id"]
                .as_str()
                .or_else(|| r["cidr_ipv4"].as_str())
                .unwrap_or("")
                .to_string();
            rules.push((
                dir,
                r["security_group_id"].as_str().unwrap().to_string(),
                peer,
                r["from_port"].as_u64().unwrap_or(0),
                r["to_port"].as_u64().unwrap_or(0),
            ));
        }
    }
    rules
}

/// On ECS the tasks of a clustering service reach each other on exactly the peer ports, both
/// ways (the tasks' group admits only the load balancer otherwise): self-referencing rules
/// of its own group, one per port and direction; nothing else touches a peer port, and a
/// service that does not cluster admits nothing from its own tasks.
#[test]
fn ecs_tasks_admit_exactly_their_peers_on_the_peer_ports() {
    let out = ecs();
    let rules = sg_rules(&out);
    let web = "${aws_security_group.web_tasks.id}";
    let mut own: Vec<(&str, u64, u64)> = rules
        .iter()
        .filter(|r| r.1 == web && r.2 == web)
        .map(|r| (r.0, r.3, r.4))
        .collect();
    own.sort();
    assert_eq!(
        own,
        [
            ("in", 4369, 4369),
            ("in", 9100, 9100),
            ("out", 4369, 4369),
            ("out", 9100, 9100)
        ],
        "{rules:#?}"
    );
    let covers = |r: &(&str, String, String, u64, u64), p: u64| r.3 <= p && p <= r.4;
    for p in [4369, 9100] {
        let on_port: Vec<_> = rules
            .iter()
            .filter(|r| (r.1 == web || r.2 == web) && covers(r, p))
            .collect();
        assert!(
            on_port.iter().all(|r| r.1 == web && r.2 == web),
            "something else meets web's tasks on {p}: {on_port:#?}"
        );
    }
    let admin = "${aws_security_group.admin_tasks.id}";
    assert!(
        !rules.iter().any(|r| r.1 == admin && r.2 == admin),
        "admin does not cluster: {rules:#?}"
    );
}

/// The name handed to the app (`WEB_PEERS_HOST`) is the A record of the Cloud Map service
/// the ECS service registers its tasks in: `<registry name>.<namespace name>`, the namespace
/// on the stack's VPC (resolvable from the tasks), one A record per task (`MULTIVALUE`, no
/// health check: every task, ready or not, like the headless Service). `billing`, used
/// through Service Connect, keeps its HTTP namespace beside it; `admin` gets nothing.
#[test]
fn the_peers_name_resolves_to_the_registry_the_service_registers_in() {
    let out = ecs();
    let namespaces = infra(&out, "aws_service_discovery_private_dns_namespace");
    assert_eq!(namespaces.len(), 1, "{namespaces:#?}");
    let (ns_name, ns) = namespaces.iter().next().unwrap();
    assert_eq!(ns["vpc"], "${aws_vpc.main.id}");
    let registries = infra(&out, "aws_service_discovery_service");
    let services = infra(&out, "aws_ecs_service");
    let registry_arn = services["web"]["service_registries"]["registry_arn"]
        .as_str()
        .expect("web registers its tasks");
    let (reg_name, registry) = registries
        .iter()
        .find(|(n, _)| registry_arn == format!("${{aws_service_discovery_service.{n}.arn}}"))
        .unwrap_or_else(|| panic!("{registry_arn} names no registry: {registries:#?}"));
    let dns = &registry["dns_config"];
    assert_eq!(
        dns["namespace_id"],
        format!("${{aws_service_discovery_private_dns_namespace.{ns_name}.id}}"),
        "{reg_name}"
    );
    assert_eq!(dns["dns_records"], json!([{"ttl": 10, "type": "A"}]));
    assert_eq!(dns["routing_policy"], "MULTIVALUE");
    assert!(registry.get("health_check_custom_config").is_none());
    assert!(registry.get("health_check_config").is_none());
    let record = format!(
        "{}.{}",
        registry["name"].as_str().unwrap(),
        ns["name"].as_str().unwrap()
    );
    let env = task_env(&out, "web");
    let host = env
        .iter()
        .find(|(n, _)| n == "WEB_PEERS_HOST")
        .unwrap_or_else(|| panic!("no WEB_PEERS_HOST: {env:?}"));
    assert_eq!(host.1, record);
    assert_eq!(record, "web.beacon-production.internal");
    // Service Connect to billing is still configured on the same service.
    assert_eq!(
        services["web"]["service_connect_configuration"]["namespace"],
        "${aws_service_discovery_http_namespace.services.arn}"
    );
    assert!(
        env.iter()
            .any(|(n, v)| n == "BILLING_URL" && v == "http://billing:8080")
    );
    for other in ["admin", "billing"] {
        assert!(
            services[other].get("service_registries").is_none(),
            "{other}"
        );
        assert!(
            task_env(&out, other)
                .iter()
                .all(|(n, _)| !n.ends_with("_PEERS_HOST")),
            "{other}"
        );
    }
    assert_eq!(registries.len(), 1, "{registries:#?}");
}

/// Hazelcast's ECS discovery lists the cluster's tasks through the ECS API: the clustering
/// service's task role may list the tasks of its own cluster and describe them, nothing
/// more; a service that does not cluster gets no such policy.
#[test]
fn ecs_clustering_tasks_may_list_their_own_clusters_tasks() {
    let out = ecs();
    let policies = infra(&out, "aws_iam_role_policy");
    let peers: Vec<(&String, Value)> = policies
        .iter()
        .filter(|(_, p)| p["policy"].as_str().unwrap().contains("ecs:ListTasks"))
        .map(|(n, p)| {
            (
                n,
                serde_json::from_str(p["policy"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    assert_eq!(peers.len(), 1, "{peers:#?}");
    let (name, doc) = &peers[0];
    assert_eq!(policies[*name]["role"], "${aws_iam_role.web_task.id}");
    let statements = doc["Statement"].as_array().unwrap();
    let list = statements
        .iter()
        .find(|s| s["Action"] == "ecs:ListTasks")
        .unwrap();
    assert_eq!(
        list["Condition"]["ArnEquals"]["ecs:cluster"],
        "${aws_ecs_cluster.main.arn}"
    );
    let describe = statements
        .iter()
        .find(|s| s["Action"] == "ecs:DescribeTasks")
        .unwrap();
    assert!(
        describe["Resource"]
            .as_str()
            .unwrap()
            .ends_with(":task/${aws_ecs_cluster.main.name}/*"),
        "{describe}"
    );
    assert_eq!(statements.len(), 2, "{doc}");
}

/// On Kubernetes the same variable names the headless Service (fully qualified, in the
/// service's namespace), so one application configuration clusters on both platforms; a
/// value may reference it, and a service that does not cluster gets none.
#[test]
fn kubernetes_names_the_headless_service_in_the_same_variable() {
    let yaml = BLUEPRINT.replace(
        "RELEASE_NODE: \"beacon@$(POD_IP)\" }",
        "RELEASE_NODE: \"beacon@$(POD_IP)\", DNS_QUERY: \"$(WEB_PEERS_HOST)\" }",
    );
    let out = infragen::synthesize(
        "beacon.yaml",
        yaml.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let headless = find(&docs, "Service", "web-headless").unwrap();
    let web = find(&docs, "Deployment", "web").unwrap();
    let env = env_of(&web["spec"]["template"]["spec"]["containers"][0]);
    let at = |name: &str| env.iter().position(|(n, _)| n == name);
    let host = at("WEB_PEERS_HOST").unwrap_or_else(|| panic!("{env:?}"));
    assert_eq!(
        env[host].1,
        format!(
            "{}.{}.svc.cluster.local",
            headless["metadata"]["name"].as_str().unwrap(),
            headless["metadata"]["namespace"].as_str().unwrap()
        )
    );
    assert!(host < at("DNS_QUERY").unwrap(), "{env:?}");
    let admin = find(&docs, "Deployment", "admin").unwrap();
    assert!(
        env_of(&admin["spec"]["template"]["spec"]["containers"][0])
            .iter()
            .all(|(n, _)| !n.ends_with("_PEERS_HOST"))
    );
}

/// `<SERVICE>_PEERS_HOST` is also what a used component named `<service>-peers` would give
/// as its `_HOST`: refused at the `uses` entry rather than one value silently replacing the
/// other; an `env_prefix` settles it.
#[test]
fn a_used_component_cannot_take_the_peers_variable() {
    let clash = BLUEPRINT.replace(
        "    init: [{ name: migrate,",
        "    uses: [web-peers]\n    init: [{ name: migrate,",
    ) + "  - name: web-peers\n    image: ghcr.io/beacon/registry:1.0.0\n    port: 4000\n";
    let err = infragen::synthesize(
        "beacon.yaml",
        clash.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map(|_| ())
    .expect_err("WEB_PEERS_HOST given twice")
    .to_string();
    assert!(
        err.contains("`services[0].uses[0]`") && err.contains("WEB_PEERS_HOST"),
        "{err}"
    );
    let prefixed = clash.replace(
        "uses: [web-peers]",
        "uses: [{ name: web-peers, env_prefix: REGISTRY }]",
    );
    infragen::synthesize(
        "beacon.yaml",
        prefixed.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
}
