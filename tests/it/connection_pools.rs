//! `databases[].pool`: DigitalOcean managed PostgreSQL's connection pool (PgBouncer). The
//! services connect through it, the NetworkPolicy admits its port, the connection-limit
//! warning counts its size instead of the pods, and it is refused where it is not built.

use infragen::Provider;

use crate::support::root;

const BASE: &str = r#"
name: shop
providers: { digitalocean: { region: nyc1 }, aws: { region: us-east-1 } }
state: { bucket: shop-state }
network:
  cidr: 10.20.0.0/16
  zones: [us-east-1a, us-east-1b]
  subnets:
    public: [10.20.0.0/24, 10.20.1.0/24]
    private: [10.20.10.0/24, 10.20.11.0/24]
    database: [10.20.20.0/24, 10.20.21.0/24]
cluster: { platform: eks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, desired: 2, max: 6 }
databases:
  - { name: app-db, engine: postgres, size: small, username: app, database_name: shop }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080, uses: [app-db], autoscaling: { min: 2, max: 30, cpu_percent: 70 } }
environments:
  production: {}
per_provider:
  aws:
    databases:
      - { name: app-db, storage: { size_gb: 20 } }
"#;

fn synth(text: &str, provider: Provider) -> Result<infragen::Output, String> {
    infragen::synthesize("t.yaml", text.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

fn warned(out: &infragen::Output) -> Option<String> {
    out.notes
        .iter()
        .find(|n| n.rule == Some("do-database-connections"))
        .map(|n| n.text.clone())
}

fn with_pool(pool: &str) -> String {
    format!("{BASE}  digitalocean:\n    databases:\n      - {{ name: app-db, pool: {pool} }}\n")
}

/// 30 api pods and their surge on 47 connections: warned, and the warning names the pool.
/// With a pool the services get the pool's host, port, database and user, the
/// NetworkPolicy admits 25061, the pool is created on the cluster, and nothing is warned.
#[test]
fn a_pool_carries_the_services_connections_and_ends_the_warning() {
    let plain = synth(BASE, Provider::Digitalocean).unwrap();
    let text = warned(&plain).expect("warned without a pool");
    assert!(text.contains("databases[].pool"), "{text}");
    assert!(text.contains("accepts 47 connections"), "{text}");

    let out = synth(
        &with_pool("{ mode: transaction, size: 40 }"),
        Provider::Digitalocean,
    )
    .unwrap();
    assert_eq!(warned(&out), None);
    let infra: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/data.tf.json"]).unwrap();
    let pool = &infra["resource"]["digitalocean_database_connection_pool"]["app_db"];
    assert_eq!(pool["mode"], "transaction");
    assert_eq!(pool["size"], 40);
    assert_eq!(pool["name"], "app-db");
    assert_eq!(pool["db_name"], "${digitalocean_database_db.app_db.name}");
    assert_eq!(pool["user"], "${digitalocean_database_user.app_db.name}");
    let platform: serde_json::Value =
        serde_json::from_str(&out.files["terraform/platform/connections.tf.json"]).unwrap();
    let cm = platform["resource"]["kubernetes_config_map_v1"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["data"].get("APP_DB_PORT").is_some())
        .expect("the api's connections ConfigMap");
    let source = "data.digitalocean_database_connection_pool.app_db";
    assert_eq!(cm["data"]["APP_DB_PORT"], format!("${{{source}.port}}"));
    assert_eq!(
        cm["data"]["APP_DB_HOST"],
        format!("${{{source}.private_host}}")
    );
    assert_eq!(cm["data"]["APP_DB_DATABASE"], format!("${{{source}.name}}"));
    let url = cm["data"]["APP_DB_URL"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "postgresql://${{{source}.private_host}}:${{{source}.port}}/${{{source}.name}}?sslmode=require"
        )),
        "{url}"
    );
    let secret = platform["resource"]["kubernetes_secret_v1"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["data"].get("APP_DB_PASSWORD").is_some())
        .expect("the api's connections Secret");
    assert_eq!(
        secret["data"]["APP_DB_USERNAME"],
        format!("${{{source}.user}}")
    );
    assert_eq!(
        secret["data"]["APP_DB_PASSWORD"],
        format!("${{{source}.password}}")
    );
    assert!(platform["data"]["digitalocean_database_connection_pool"]["app_db"].is_object());
    let policies = out
        .files
        .iter()
        .filter(|(p, _)| p.ends_with("network-policies.yaml"))
        .map(|(_, t)| t.as_str())
        .collect::<String>();
    assert!(policies.contains("port: 25061"), "{policies}");
    assert!(!policies.contains("port: 25060"), "{policies}");

    // AWS never sees the DigitalOcean part.
    synth(&with_pool("{ mode: transaction, size: 40 }"), Provider::Aws).unwrap();
}

/// Refused where no pool is built or where DigitalOcean would refuse it, each at its field.
#[test]
fn a_pool_that_cannot_be_built_is_refused() {
    let refused = |text: String, provider: Provider, wanted: &[&str]| {
        let err = synth(&text, provider).unwrap_err();
        for w in wanted {
            assert!(err.contains(w), "{w}: {err}");
        }
    };
    // Past the plan's 47 connections.
    refused(
        with_pool("{ mode: transaction, size: 48 }"),
        Provider::Digitalocean,
        &["databases[0].pool.size", "accepts 47", "t.yaml:"],
    );
    // Not a PgBouncer mode.
    refused(
        with_pool("{ mode: pooled, size: 10 }"),
        Provider::Digitalocean,
        &["transaction", "session", "statement"],
    );
    // MySQL has no pools.
    refused(
        with_pool("{ mode: transaction, size: 10 }").replace("engine: postgres", "engine: mysql"),
        Provider::Digitalocean,
        &["databases[0].pool", "PostgreSQL only, not mysql"],
    );
    // On AWS (written for every provider): RDS Proxy is not generated.
    refused(
        BASE.replace(
            "database_name: shop }",
            "database_name: shop, pool: { mode: transaction, size: 10 } }",
        ),
        Provider::Aws,
        &["databases[0].pool", "RDS Proxy", "per_provider"],
    );
    // In the cluster (the kubernetes provider runs every database there).
    refused(
        BASE.replace(
            "database_name: shop }",
            "database_name: shop, pool: { mode: transaction, size: 10 } }",
        ),
        Provider::Kubernetes,
        &["databases[0].pool", "in the cluster"],
    );
    // Beside a read replica, reached on another port.
    refused(
        with_pool("{ mode: transaction, size: 10 }").replace(
            "database_name: shop }",
            "database_name: shop, replicas: 1 }",
        ),
        Provider::Digitalocean,
        &["databases[0].pool", "25060"],
    );
}

/// The shipped ecommerce-eks warned about its own outage on DigitalOcean: 78 pods on 47
/// connections in staging, 197 in production. Staging now goes through a pool, production
/// has the 16 GiB plan matching db.r6g.large's memory; neither warns.
#[test]
fn ecommerce_eks_fits_its_connections_on_digitalocean() {
    for env in ["staging", "production"] {
        let out = crate::support::synth(
            &root().join("blueprints/ecommerce-eks.yaml"),
            Provider::Digitalocean,
            env,
        );
        assert_eq!(warned(&out), None, "{env}");
    }
}

fn ecommerce_eks_aws_staging(edit: impl Fn(String) -> String) -> infragen::Output {
    let text = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit applies");
    infragen::synthesize(
        "blueprints/ecommerce-eks.yaml",
        edited.as_bytes(),
        Provider::Aws,
        "staging",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn rds_warning(out: &infragen::Output) -> Option<String> {
    out.notes
        .iter()
        .find(|n| n.rule == Some("aws-rds-connections"))
        .map(|n| n.text.clone())
}

/// RDS has the same outage: PostgreSQL's default `max_connections` is
/// LEAST(DBInstanceClassMemory/9531392, 5000), under 225 on db.t4g.small (2 GiB), which
/// ecommerce-eks's 78 staging pods would share 2 each; a `max_connections` parameter is
/// taken as written; db.t4g.medium (the shipped staging class, under 450) fits.
#[test]
fn pods_past_an_rds_instances_connections_are_warned_about() {
    let small = |t: String| {
        t.replace(
            "sizes: { aws: db.t4g.medium }",
            "sizes: { aws: db.t4g.small }",
        )
    };
    let text = rds_warning(&ecommerce_eks_aws_staging(small)).expect("warned on db.t4g.small");
    assert!(
        text.contains("`db` (db.t4g.small) accepts 225 connections"),
        "{text}"
    );
    assert!(text.contains("up to 78 at once"), "{text}");
    assert!(text.contains("RDS Proxy"), "{text}");
    let raised = |t: String| {
        small(t).replace(
            "sizes: { aws: db.t4g.small }",
            "sizes: { aws: db.t4g.small }\n        parameters: { max_connections: \"60\" }",
        )
    };
    let text = rds_warning(&ecommerce_eks_aws_staging(raised)).expect("warned at 60");
    assert!(
        text.contains("accepts 60 connections (its `max_connections` parameter)"),
        "{text}"
    );
    assert!(text.contains("more pods than connections"), "{text}");
    let shipped = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Aws,
        "staging",
    );
    assert_eq!(rds_warning(&shipped), None);
}
