//! Behaviour of the DigitalOcean back-end on small blueprints: defaults, mappings, notes
//! and lint warnings. The shipped blueprints are covered by the golden snapshots.

use serde_json::Value;

use crate::Provider;

const BASE: &str = r#"
name: shop
providers: { digitalocean: { region: nyc1 } }
state: { bucket: shop-state }
network: { cidr: 10.20.0.0/16 }
cluster: { platform: doks, version: 1.35.1-do.0, maintenance_window: "sun:03:00" }
node_pools:
  - { name: system, size: medium, min: 2, desired: 2, max: 4 }
  - name: batch
    size: compute-large
    min: 0
    max: 3
    spot: true
    taints: [{ key: dedicated, value: batch, effect: NoSchedule }]
"#;

fn synth(extra: &str, env: &str) -> crate::Output {
    let text = format!("{BASE}{extra}");
    let out = crate::synthesize("t.yaml", text.as_bytes(), Provider::Digitalocean, env)
        .unwrap_or_else(|d| panic!("{d}"));
    schema_clean(&out);
    out
}

/// Every module passes the vendored provider schemas, as the golden test requires of the
/// shipped blueprints.
fn schema_clean(out: &crate::Output) {
    let mut modules: std::collections::BTreeMap<&str, Vec<(String, Value)>> = Default::default();
    for (path, text) in &out.files {
        if let Some((module, name)) = path
            .strip_prefix("terraform/")
            .and_then(|r| r.rsplit_once('/'))
        {
            modules
                .entry(module)
                .or_default()
                .push((name.to_string(), serde_json::from_str(text).unwrap()));
        }
    }
    let schemas = crate::check::schema::ProviderSchemas::bundled();
    for (module, files) in modules {
        let problems = crate::check::terraform::check_module(&files, schemas);
        assert!(problems.is_empty(), "{module}: {problems:?}");
    }
}

fn file(out: &crate::Output, path: &str) -> Value {
    let text = out
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} missing; have {:?}", out.files.keys()));
    serde_json::from_str(text).unwrap()
}

fn warned(out: &crate::Output, rule: &str) -> bool {
    out.notes
        .iter()
        .any(|n| n.is_warning() && n.rule == Some(rule))
}

#[test]
fn cluster_defaults_and_pools() {
    let out = synth("", "production");
    let c = file(&out, "terraform/infra/cluster.tf.json");
    let cluster = &c["resource"]["digitalocean_kubernetes_cluster"]["main"];
    assert_eq!(
        cluster["ha"], true,
        "HA unless the blueprint says otherwise"
    );
    assert_eq!(cluster["auto_upgrade"], true);
    // Always the newest release DOKS offers for the minor, never the slug as written.
    assert_eq!(
        cluster["version"],
        "${data.digitalocean_kubernetes_versions.cluster.latest_version}"
    );
    assert_eq!(
        c["data"]["digitalocean_kubernetes_versions"]["cluster"]["version_prefix"],
        "1.35."
    );
    assert_eq!(
        cluster["lifecycle"]["ignore_changes"],
        serde_json::json!(["version", "node_pool[0].node_count"])
    );
    assert_eq!(
        cluster["maintenance_policy"],
        serde_json::json!({"day": "sunday", "start_time": "03:00"})
    );
    assert_eq!(cluster["vpc_uuid"], "${digitalocean_vpc.main.id}");
    assert!(cluster.get("control_plane_firewall").is_none());
    assert_eq!(cluster["node_pool"]["size"], "s-2vcpu-4gb");
    let batch = &c["resource"]["digitalocean_kubernetes_node_pool"]["batch"];
    assert_eq!(batch["size"], "c-2");
    assert_eq!(batch["min_nodes"], 0, "extra pools may scale to zero");
    assert_eq!(batch["taint"][0]["effect"], "NoSchedule");
    assert!(out.notes.iter().any(|n| n.text.contains("`spot`")));
    assert!(warned(&out, "do-control-plane-firewall"));
    assert!(!warned(&out, "do-ha"));
    assert!(!warned(&out, "version-support"));
}

#[test]
fn production_lint() {
    let out = synth(
        "environments:\n  production:\n    cluster: { ha: false, auto_upgrade: false }\n    node_pools: [{ name: system, min: 1 }]\n",
        "production",
    );
    assert!(warned(&out, "do-ha"));
    assert!(warned(&out, "do-auto-upgrade"));
    assert!(warned(&out, "do-node-count"));
    let staging = synth(
        "environments:\n  staging:\n    cluster: { ha: false, auto_upgrade: false }\n  production: {}\n",
        "staging",
    );
    assert!(
        !warned(&staging, "do-ha"),
        "HA is only expected in production"
    );
}

/// An account starts with a limit of 25 Droplets, which caps what the autoscaler can add
/// (docs.digitalocean.com/products/kubernetes/how-to/autoscale/): pools that may grow past
/// it are warned about; the base blueprint's 7 nodes are not.
#[test]
fn pools_past_the_default_droplet_limit_are_warned_about() {
    assert!(!warned(&synth("", "production"), "do-droplet-limit"));
    let big = synth(
        "environments:\n  production:\n    node_pools: [{ name: system, max: 20 }, { name: batch, max: 10 }]\n",
        "production",
    );
    assert!(warned(&big, "do-droplet-limit"));
    let note = big
        .notes
        .iter()
        .find(|n| n.rule == Some("do-droplet-limit"))
        .unwrap();
    assert!(note.text.contains("30 nodes"), "{}", note.text);
}

/// Behind a DigitalOcean load balancer ingress-nginx sees the load balancer's address, not
/// the client's, unless PROXY protocol passes it on. With a host for the Service to report,
/// both ends turn it on together (the load balancer's annotation, ingress-nginx's
/// `use-proxy-protocol`), the Service reports the host so in-cluster requests keep going
/// through the load balancer, and the address output is read from DigitalOcean; without one
/// it stays off and a per-client rate limit is warned about.
#[test]
fn proxy_protocol_is_on_at_both_ends_or_at_neither() {
    let ingress = |hosts: &str, limit: &str| {
        format!(
            "kubernetes: {{ ingress_controller: {{ kind: nginx }} }}\nservices:\n  - {{ name: web, image: nginx:1.27, port: 8080, routes: [{{ path: / }}] }}\ningress: {{ hosts: [{hosts}]{limit} }}\n"
        )
    };
    let values = |out: &crate::Output| -> Value {
        let doc = file(out, "terraform/platform/ingress.tf.json");
        let text = doc["resource"]["helm_release"]["ingress_nginx"]["values"][0]
            .as_str()
            .unwrap()
            .to_string();
        serde_json::from_str(&text).unwrap()
    };
    let limit = ", rate_limit: { requests: 100, window: 1m }";
    let on = synth(&ingress("shop.example.com", limit), "production");
    let v = values(&on);
    let a = &v["controller"]["service"]["annotations"];
    assert_eq!(
        a["service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol"],
        "true"
    );
    assert_eq!(
        a["service.beta.kubernetes.io/do-loadbalancer-hostname"],
        "shop.example.com"
    );
    assert_eq!(v["controller"]["config"]["use-proxy-protocol"], "true");
    assert!(!warned(&on, "do-client-ip"));
    let doc = file(&on, "terraform/platform/ingress.tf.json");
    assert_eq!(
        doc["data"]["digitalocean_loadbalancer"]["ingress"]["name"],
        "shop-production-lb"
    );
    let outputs = file(&on, "terraform/platform/outputs.tf.json");
    assert_eq!(
        outputs["output"]["load_balancer_ip"]["value"],
        "${data.digitalocean_loadbalancer.ingress.ip}"
    );

    // A wildcard is no host to report: neither end, and the rate limit is warned about.
    let off = synth(&ingress("\"*.example.com\"", limit), "production");
    let v = values(&off);
    let a = &v["controller"]["service"]["annotations"];
    assert!(
        a.get("service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol")
            .is_none(),
        "{a}"
    );
    assert!(
        a.get("service.beta.kubernetes.io/do-loadbalancer-hostname")
            .is_none(),
        "{a}"
    );
    assert!(v["controller"].get("config").is_none(), "{v}");
    assert!(warned(&off, "do-client-ip"));
    assert!(!warned(
        &synth(&ingress("\"*.example.com\"", ""), "production"),
        "do-client-ip"
    ));
    // An address allow-list counts per client too (an admin UI for the office range).
    let allow =
        ", annotations: { nginx.ingress.kubernetes.io/whitelist-source-range: 203.0.113.0/24 }";
    assert!(warned(
        &synth(&ingress("\"*.example.com\"", allow), "production"),
        "do-client-ip"
    ));
    assert!(!warned(
        &synth(&ingress("shop.example.com", allow), "production"),
        "do-client-ip"
    ));
}

/// DigitalOcean's cloud controller finds a Service's load balancer by name before it has
/// recorded its id: two environments naming theirs alike would share one in one account.
#[test]
fn environments_naming_their_load_balancer_alike_are_warned_about() {
    let with = |name: &str| {
        format!(
            "kubernetes: {{ ingress_controller: {{ kind: nginx, load_balancer_name: \"{name}\" }} }}\nenvironments:\n  staging: {{}}\n  production: {{}}\n"
        )
    };
    assert!(warned(
        &synth(&with("shop-lb"), "production"),
        "do-load-balancer-name"
    ));
    assert!(warned(
        &synth(&with("shop-lb"), "staging"),
        "do-load-balancer-name"
    ));
    assert!(!warned(
        &synth(&with("shop-{env}-lb"), "production"),
        "do-load-balancer-name"
    ));
    // The default name carries the environment.
    let default = "kubernetes: { ingress_controller: { kind: nginx } }\nenvironments:\n  staging: {}\n  production: {}\n";
    assert!(!warned(
        &synth(default, "production"),
        "do-load-balancer-name"
    ));
    // A blueprint for AWS and DigitalOcean says `platform: eks`: DOKS here, warned alike.
    let eks = BASE.replace("platform: doks, version: 1.35.1-do.0", "platform: eks");
    let text = format!("{eks}{}", with("shop-lb"));
    let out = crate::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(warned(&out, "do-load-balancer-name"));
}

#[test]
fn bare_minor_and_firewall() {
    let out = synth(
        "environments:\n  production:\n    cluster: { version: \"1.28\", allow_unsupported: true, endpoint: { allowed_cidrs: [203.0.113.0/24] } }\n",
        "production",
    );
    let c = file(&out, "terraform/infra/cluster.tf.json");
    let cluster = &c["resource"]["digitalocean_kubernetes_cluster"]["main"];
    assert_eq!(
        cluster["version"],
        "${data.digitalocean_kubernetes_versions.cluster.latest_version}"
    );
    assert_eq!(
        c["data"]["digitalocean_kubernetes_versions"]["cluster"]["version_prefix"],
        "1.28."
    );
    assert_eq!(
        cluster["lifecycle"]["ignore_changes"],
        serde_json::json!(["version", "node_pool[0].node_count"]),
        "auto_upgrade moves the patch itself"
    );
    assert_eq!(
        cluster["control_plane_firewall"]["allowed_addresses"][0],
        "203.0.113.0/24"
    );
    // Accepted for an existing cluster, with a warning; refused without the flag.
    assert!(warned(&out, "version-support"));
    assert!(!warned(&out, "do-control-plane-firewall"));
    let text =
        format!("{BASE}environments:\n  production:\n    cluster: {{ version: \"1.28\" }}\n");
    let err = crate::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("DigitalOcean Kubernetes 1.28 is long past its end"),
        "{err}"
    );
    assert!(err.contains("`1.35`"), "{err}");
}

/// DOKS's control-plane firewall is early access, granted by DigitalOcean support: a team
/// that sets `allowed_cidrs` is told to ask first, and where to run `platform` and
/// `kubectl` from once it is on; the warning that recommends it says the same.
#[test]
fn control_plane_firewall_is_early_access() {
    let out = synth(
        "environments:\n  production:\n    cluster: { endpoint: { allowed_cidrs: [203.0.113.0/24] } }\n",
        "production",
    );
    let note = out
        .notes
        .iter()
        .find(|n| {
            n.text
                .starts_with("cluster.endpoint.allowed_cidrs (203.0.113.0/24)")
        })
        .unwrap_or_else(|| panic!("no firewall note in {:?}", out.notes));
    assert!(note.text.contains("early access"), "{}", note.text);
    assert!(note.text.contains("contact support"), "{}", note.text);
    assert!(note.text.contains("`terraform/platform`"), "{}", note.text);
    assert!(
        note.text.contains("`kubectl apply -k k8s/`"),
        "{}",
        note.text
    );

    let open = synth("", "production");
    let warning = open
        .notes
        .iter()
        .find(|n| n.is_warning() && n.rule == Some("do-control-plane-firewall"))
        .expect("warned");
    assert!(warning.text.contains("early access"), "{}", warning.text);
    assert!(
        !open
            .notes
            .iter()
            .any(|n| n.text.starts_with("cluster.endpoint.allowed_cidrs")),
        "no firewall, no note"
    );
}

/// Without `network` a managed database is not outside every VPC: DigitalOcean puts it in
/// the region's default VPC, as it does the cluster, and the warning says so.
#[test]
fn a_database_without_network_joins_the_default_vpc() {
    let text = BASE.replace("network: { cidr: 10.20.0.0/16 }\n", "")
        + "databases:\n  - { name: db, engine: postgres, version: \"17\", size: small }\n";
    let out = crate::synthesize("t.yaml", text.as_bytes(), Provider::Digitalocean, "staging")
        .unwrap_or_else(|d| panic!("{d}"));
    let db = out
        .notes
        .iter()
        .find(|n| n.rule == Some("do-vpc") && n.text.starts_with("`db`"))
        .unwrap_or_else(|| panic!("no do-vpc warning for db in {:?}", out.notes));
    assert!(db.text.contains("default VPC"), "{}", db.text);
    assert!(!db.text.contains("not attached"), "{}", db.text);
}

#[test]
fn managed_data_services() {
    let out = synth(
        r#"databases:
  - { name: orders, engine: postgres, version: "17", size: small, ha: true, replicas: 1, username: app, database_name: orders, maintenance_window: "mon:02:00" }
caches:
  - { name: sessions, engine: redis, size: small, parameters: { maxmemory-policy: allkeys-lru } }
queues:
  - { name: jobs, engine: rabbitmq }
"#,
        "production",
    );
    let d = file(&out, "terraform/infra/data.tf.json");
    let r = &d["resource"];
    let pg = &r["digitalocean_database_cluster"]["orders"];
    assert_eq!(pg["engine"], "pg");
    assert_eq!(pg["version"], "17");
    assert_eq!(pg["node_count"], 2);
    assert_eq!(pg["private_network_uuid"], "${digitalocean_vpc.main.id}");
    // On the hour: a DigitalOcean window is a day and an hour (`semantic::windows`).
    assert_eq!(pg["maintenance_window"][0]["hour"], "02:00:00");
    assert_eq!(pg["lifecycle"]["prevent_destroy"], true);
    let cache = &r["digitalocean_database_cluster"]["sessions"];
    assert_eq!(cache["engine"], "valkey");
    assert_eq!(cache["eviction_policy"], "allkeys_lru");
    for name in ["orders", "sessions"] {
        let fw = &r["digitalocean_database_firewall"][name]["rule"][0];
        assert_eq!(fw["type"], "k8s");
        assert_eq!(fw["value"], "${digitalocean_kubernetes_cluster.main.id}");
    }
    assert!(r["digitalocean_database_replica"]["orders_1"].is_object());
    let o = file(&out, "terraform/infra/outputs.tf.json");
    assert_eq!(o["output"]["database_orders"]["sensitive"], true);
    assert_eq!(o["output"]["cache_sessions"]["sensitive"], true);
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("replaced managed Redis with Valkey"))
    );
    assert!(out.notes.iter().any(|n| n.text.starts_with("queues[jobs]")));
    assert!(
        warned(&out, "do-database-standby"),
        "the cache has one node"
    );
    // `ha: true` alone is refused on a one-node cache: the advice names the node count too.
    assert!(
        out.notes
            .iter()
            .any(|n| n.rule == Some("do-database-standby")
                && n.text.contains("(set `ha: true` and `nodes: 2`)")),
        "{:#?}",
        out.notes
    );
}

#[test]
fn registry_is_account_level() {
    let reg = "registry: { name: shop, repositories: [api, web] }\n";
    let out = synth(reg, "production");
    let b = file(&out, "terraform/bootstrap/registry.tf.json");
    let r = &b["resource"]["digitalocean_container_registry"]["main"];
    assert_eq!(r["subscription_tier_slug"], "basic");
    assert_eq!(r["region"], "nyc3", "registries are not offered in nyc1");
    let i = file(&out, "terraform/infra/registry.tf.json");
    assert_eq!(
        i["data"]["digitalocean_container_registry"]["main"]["name"],
        "shop"
    );
    let c = file(&out, "terraform/infra/cluster.tf.json");
    assert_eq!(
        c["resource"]["digitalocean_kubernetes_cluster"]["main"]["registry_integration"],
        true
    );
    // Without a state bucket there is no bootstrap module: the registry is in infra.
    let text = format!(
        "{}{reg}",
        BASE.replace("state: { bucket: shop-state }\n", "")
    );
    let out = crate::synthesize("t.yaml", text.as_bytes(), Provider::Digitalocean, "x").unwrap();
    schema_clean(&out);
    let i = file(&out, "terraform/infra/registry.tf.json");
    assert!(i["resource"]["digitalocean_container_registry"]["main"].is_object());
}

#[test]
fn platform_module() {
    let out = synth(
        "kubernetes:\n  ingress_controller: { kind: nginx, load_balancer_name: shop-lb }\n  cert_manager: {}\n",
        "production",
    );
    let v = file(&out, "terraform/platform/versions.tf.json");
    assert_eq!(
        v["terraform"]["backend"]["s3"]["key"],
        "production/platform/terraform.tfstate"
    );
    let p = file(&out, "terraform/platform/providers.tf.json");
    assert_eq!(
        p["provider"]["helm"]["kubernetes"]["host"],
        "${data.digitalocean_kubernetes_cluster.main.endpoint}"
    );
    let i = file(&out, "terraform/platform/ingress.tf.json");
    let values = i["resource"]["helm_release"]["ingress_nginx"]["values"][0]
        .as_str()
        .unwrap();
    assert!(values.contains(r#""service.beta.kubernetes.io/do-loadbalancer-name":"shop-lb""#));
    let cm = file(&out, "terraform/platform/cert_manager.tf.json");
    assert!(
        cm["resource"]["helm_release"]["cert_manager"]["values"][0]
            .as_str()
            .unwrap()
            .contains(r#""crds":{"enabled":true"#)
    );
    // ingress-nginx at its last chart: no refusal, a warning that it is retired.
    assert!(out.notes.iter().any(|n| n.rule == Some("version-support")
        && n.text.contains("ingress-nginx Helm chart is retired")));
    assert!(
        !out.notes
            .iter()
            .any(|n| n.text.contains("cert-manager Helm chart"))
    );
}

#[test]
fn project_groups_resources() {
    let text = format!(
        "{}databases: [{{ name: main, engine: mysql, size: small }}]\n",
        BASE.replace(
            "providers: { digitalocean: { region: nyc1 } }",
            "providers: { digitalocean: { region: nyc1, project: \"shop-{env}\" } }"
        )
    );
    let out = crate::synthesize("t.yaml", text.as_bytes(), Provider::Digitalocean, "staging")
        .unwrap_or_else(|d| panic!("{d}"));
    schema_clean(&out);
    let p = file(&out, "terraform/infra/project.tf.json");
    let project = &p["resource"]["digitalocean_project"]["main"];
    assert_eq!(project["name"], "shop-staging");
    assert_eq!(project["environment"], "Staging");
    assert_eq!(
        project["resources"],
        serde_json::json!([
            "${digitalocean_kubernetes_cluster.main.urn}",
            "${digitalocean_database_cluster.main.urn}"
        ])
    );
}

/// DigitalOcean runs managed queues in the cluster: their version is judged as the image it
/// runs, so an end-of-life RabbitMQ is refused even though Amazon MQ still offers it.
#[test]
fn managed_queue_versions_are_judged_as_images() {
    let text = format!("{BASE}queues: [{{ name: mq, engine: rabbitmq, version: \"3.13\" }}]\n");
    let err = crate::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`queues[0].version`: RabbitMQ container image"),
        "{err}"
    );
    assert!(err.contains("`4.2` (pinned as 4.2.5)"), "{err}");
    let ok = crate::synthesize("t.yaml", text.as_bytes(), Provider::Aws, "production");
    assert!(
        ok.as_ref()
            .err()
            .is_none_or(|d| !d.to_string().contains("queues[0].version")),
        "Amazon MQ still creates 3.13"
    );
}

/// DigitalOcean has no managed RabbitMQ: a `managed` queue runs in the cluster, as the
/// analysis places it (`Validated::in_cluster`), without a re-validated copy of the
/// blueprint. Its broker, its credentials and the client's in-cluster endpoint all exist.
#[test]
fn managed_queue_runs_in_the_cluster() {
    let out = synth(
        r#"queues:
  - { name: jobs, engine: rabbitmq }
services:
  - { name: worker, image: registry.example.com/worker:1.0, uses: [jobs] }
"#,
        "production",
    );
    let broker = out
        .files
        .iter()
        .find(|(p, _)| p.starts_with("k8s/") && p.ends_with("/jobs.yaml"))
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no broker manifest in {:?}", out.files.keys()));
    assert!(broker.contains("kind: StatefulSet"), "{broker}");
    let platform = &out.files["terraform/platform/connections.tf.json"];
    assert!(platform.contains("jobs-credentials"), "{platform}");
    let worker = out
        .files
        .iter()
        .find(|(p, _)| p.starts_with("k8s/") && p.ends_with("/worker.yaml"))
        .map(|(_, t)| t)
        .unwrap();
    assert!(worker.contains("jobs.shop.svc.cluster.local"), "{worker}");
    assert!(!worker.contains("worker-connections"), "{worker}");
    assert!(out.notes.iter().any(|n| n.text.starts_with("queues[jobs]")));
}

/// Without a cluster nothing runs a managed queue: the notes say it is absent, and none
/// claims it runs as a StatefulSet.
#[test]
fn managed_queue_without_a_cluster_is_reported_absent() {
    let text = r#"
name: shop
providers: { digitalocean: { region: nyc1 } }
queues:
  - { name: jobs, engine: rabbitmq }
"#;
    let out = crate::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(!out.files.keys().any(|p| p.starts_with("k8s/")));
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("absent from the output: queues")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("queues[jobs]") && n.contains("nothing to run it in")),
        "{notes:?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("StatefulSet")),
        "{notes:?}"
    );
}

/// The note on secrets names the Kubernetes Secrets the pods read: a Secrets Manager path
/// with `/` (a blueprint that is also for AWS) is no object name, so they read the secret's
/// name, as `preconditions.json` says.
#[test]
fn the_secrets_note_names_the_secrets_pods_read() {
    let out = synth(
        "secrets:\n  - { name: app-secrets, path: \"shop/{env}/app\", keys: [SECRET_KEY_BASE] }\n  - { name: stripe, path: shop-stripe }\n",
        "production",
    );
    let note = out
        .notes
        .iter()
        .find(|n| n.text.starts_with("secrets ("))
        .expect("a note on secrets");
    assert!(
        note.text.starts_with("secrets (app-secrets, shop-stripe):"),
        "{}",
        note.text
    );
}

/// DOKS takes the start to the minute ("HH:MM", read back as is by the provider) and sets
/// the length itself: minutes are written, and a written end is said to be unused.
#[test]
fn doks_maintenance_window_keeps_minutes_and_names_its_own_length() {
    let text = BASE.replace("\"sun:03:00\"", "\"sat:22:30-sun:01:00\"");
    let out = crate::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let c = file(&out, "terraform/infra/cluster.tf.json");
    assert_eq!(
        c["resource"]["digitalocean_kubernetes_cluster"]["main"]["maintenance_policy"],
        serde_json::json!({"day": "saturday", "start_time": "22:30"})
    );
    assert!(
        out.notes.iter().any(|n| n
            .text
            .starts_with("cluster.maintenance_window `sat:22:30-sun:01:00`: a DOKS maintenance window lasts four hours")),
        "{:?}",
        out.notes
    );
    // Written without an end, there is nothing to say.
    let out = synth("", "production");
    assert!(
        !out.notes
            .iter()
            .any(|n| n.text.contains("lasts four hours")),
        "{:?}",
        out.notes
    );
}

/// A managed PostgreSQL plan takes 25 connections per GiB of memory, 3 of them reserved
/// (DigitalOcean API reference, connection pool `size`): 47 on `db-s-1vcpu-2gb`. The pods
/// using it at their most — the autoscaler's maximum with its rollout surge, the release
/// Job, the job's run — share them; under 5 each (a client library's smallest default pool)
/// is warned about with the figures, more pods than connections said as such; 7 pods are not.
#[test]
fn pods_past_a_postgres_plans_connection_limit_are_warned_about() {
    let uses = |max: u32| {
        format!(
            "databases: [{{ name: app-db, engine: postgres, size: small }}]\nservices:\n  - {{ name: api, image: api:1.0.0, port: 8080, uses: [app-db], release: {{ command: [migrate] }}, autoscaling: {{ min: 2, max: {max}, cpu_percent: 70 }} }}\njobs:\n  - {{ name: rollup, image: api:1.0.0, schedule: \"0 * * * *\", uses: [app-db] }}\n"
        )
    };
    assert_eq!(
        crate::semantic::digitalocean::pg_connection_limit("db-s-1vcpu-2gb"),
        Some(47)
    );
    assert_eq!(
        crate::semantic::digitalocean::pg_connection_limit("db-s-1vcpu-1gb"),
        Some(22)
    );
    assert_eq!(
        crate::semantic::digitalocean::pg_connection_limit("gd-4vcpu-16gb"),
        Some(397)
    );
    assert!(!warned(
        &synth(&uses(4), "production"),
        "do-database-connections"
    ));
    let note = |out: &crate::Output| {
        out.notes
            .iter()
            .find(|n| n.rule == Some("do-database-connections"))
            .map(|n| n.text.clone())
            .expect("do-database-connections warning")
    };
    // 12 api pods and 3 surge pods (a release step keeps `maxUnavailable` 0), the release
    // Job and one rollup run: 17 pods, 2 connections each.
    let text = note(&synth(&uses(12), "production"));
    assert!(text.contains("accepts 47 connections"), "{text}");
    assert!(text.contains("up to 17 at once"), "{text}");
    assert!(text.contains("api 15"), "{text}");
    assert!(text.contains("pool at 2"), "{text}");
    let text = note(&synth(&uses(60), "production"));
    assert!(text.contains("more pods than connections"), "{text}");
    // In the cluster the server's `max_connections` is the image's own, not the plan's.
    let in_cluster = uses(60).replace("size: small", "size: small, deployment: in_cluster");
    assert!(!warned(
        &synth(&in_cluster, "production"),
        "do-database-connections"
    ));
}
