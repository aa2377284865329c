//! `databases[].pool`: DigitalOcean managed PostgreSQL's connection pool (PgBouncer). The
//! services connect through it, the NetworkPolicy admits its port, the connection-limit
//! warning counts its size instead of the pods, and it is refused where it is not built.
//! A release Job connects around it, to the cluster itself, and is counted against what the
//! pool leaves. ECS tasks are judged against RDS's `max_connections` as EKS pods are.

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
    // Named apart from its database (`wiring::pool`).
    assert_eq!(pool["name"], "app-db-pool");
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
    assert_eq!(
        platform["data"]["digitalocean_database_connection_pool"]["app_db"]["name"],
        "app-db-pool"
    );
    // Without a release step nothing goes around the pool.
    assert!(
        !cm["data"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("direct.")),
        "{cm}"
    );
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

/// DigitalOcean takes pool names of 3 to 60 characters ("Add a New Connection Pool"): a
/// database named `db` gets the pool `db-pool`, whose name the services' `_DATABASE` is, and
/// a database name that would make the pool's longer than 60 is refused at the pool.
#[test]
fn a_pool_is_named_apart_from_its_database_within_digitaloceans_limits() {
    let out = synth(
        &with_pool("{ mode: transaction, size: 40 }").replace("app-db", "db"),
        Provider::Digitalocean,
    )
    .unwrap();
    let infra: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/data.tf.json"]).unwrap();
    assert_eq!(
        infra["resource"]["digitalocean_database_connection_pool"]["db"]["name"],
        "db-pool"
    );
    let long = format!("d{}", "b".repeat(55));
    let err = synth(
        &with_pool("{ mode: transaction, size: 40 }").replace("app-db", &long),
        Provider::Digitalocean,
    )
    .unwrap_err();
    assert!(err.contains("databases[0].pool"), "{err}");
    assert!(err.contains("3 to 60 characters"), "{err}");
    assert!(err.contains("at most 55"), "{err}");
}

fn release_doks_pool(edit: impl Fn(String) -> String) -> infragen::Output {
    let path = root().join("tests/fixtures/workloads/release-doks-pool.yaml");
    let text = edit(std::fs::read_to_string(&path).unwrap());
    infragen::synthesize(
        "release-doks-pool.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

/// The `env` of the first container of the `kind` whose name starts with `name`:
/// variable → (object, key) for those read from a ConfigMap or Secret.
fn env_refs(out: &infragen::Output, kind: &str, name: &str) -> Vec<(String, String, String)> {
    let docs = crate::netpol::documents(&out.files);
    let doc = docs
        .iter()
        .find(|d| {
            d["kind"] == kind
                && d["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(name))
        })
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    doc["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let from = &e["valueFrom"];
            let r = if from["configMapKeyRef"].is_object() {
                &from["configMapKeyRef"]
            } else {
                &from["secretKeyRef"]
            };
            Some((
                e["name"].as_str()?.to_string(),
                r["name"].as_str()?.to_string(),
                r["key"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A release Job runs migrations, which take session advisory locks and keep session state
/// that PgBouncer's transaction mode breaks: its host, port, database and URL — and the
/// `uses[].env` copy of the host — are read from the `direct.<VAR>` keys, which `platform`
/// fills with the cluster's own private host, port and database, while the app's pods keep
/// the pool's; the user and password are the same for both.
#[test]
fn the_release_job_connects_around_the_pool() {
    let out = release_doks_pool(|t| t);
    let key = |refs: &[(String, String, String)], var: &str| {
        refs.iter()
            .find(|(v, _, _)| v == var)
            .map(|(_, o, k)| (o.clone(), k.clone()))
            .unwrap_or_else(|| panic!("no {var}: {refs:?}"))
    };
    let job = env_refs(&out, "Job", "web-release-");
    let app = env_refs(&out, "Deployment", "web");
    for var in [
        "DB_HOST",
        "DB_PORT",
        "DB_DATABASE",
        "DB_URL",
        "DATABASE_HOST",
    ] {
        let generated = if var == "DATABASE_HOST" {
            "DB_HOST"
        } else {
            var
        };
        assert_eq!(
            key(&job, var),
            ("web-connections".to_string(), format!("direct.{generated}")),
            "{var}"
        );
        assert_eq!(
            key(&app, var),
            ("web-connections".to_string(), generated.to_string()),
            "{var}"
        );
    }
    for var in ["DB_USERNAME", "DB_PASSWORD"] {
        assert_eq!(key(&job, var), key(&app, var), "{var}");
    }
    let platform: serde_json::Value =
        serde_json::from_str(&out.files["terraform/platform/connections.tf.json"]).unwrap();
    let cm = &platform["resource"]["kubernetes_config_map_v1"]["notes_web"]["data"];
    let cluster = "data.digitalocean_database_cluster.notes_db";
    let pool = "data.digitalocean_database_connection_pool.notes_db";
    assert_eq!(cm["direct.DB_HOST"], format!("${{{cluster}.private_host}}"));
    assert_eq!(cm["direct.DB_PORT"], format!("${{{cluster}.port}}"));
    assert_eq!(cm["direct.DB_DATABASE"], format!("${{{cluster}.database}}"));
    assert!(
        cm["direct.DB_URL"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "postgresql://${{{cluster}.private_host}}:${{{cluster}.port}}/${{{cluster}.database}}?sslmode=require"
            )),
        "{cm}"
    );
    assert_eq!(cm["DB_PORT"], format!("${{{pool}.port}}"));
    // Every key an env entry reads is one `platform` writes.
    let secret = &platform["resource"]["kubernetes_secret_v1"]["notes_web_connections"]["data"];
    for (var, _, k) in job.iter().chain(&app) {
        assert!(
            cm.get(k).is_some() || secret.get(k).is_some(),
            "{var}: key {k} is not written"
        );
    }
}

fn do_warning(out: &infragen::Output) -> Option<String> {
    out.notes
        .iter()
        .find(|n| n.rule == Some("do-database-connections"))
        .map(|n| n.text.clone())
}

/// The release Jobs' direct connections share what the pool leaves of the plan's limit:
/// 47 − 40 = 7 holds one Job's 5; 47 − 44 = 3 does not, and the warning says so.
#[test]
fn release_jobs_are_counted_against_the_connections_the_pool_leaves() {
    assert_eq!(do_warning(&release_doks_pool(|t| t)), None);
    let text = do_warning(&release_doks_pool(|t| t.replace("size: 40", "size: 44")))
        .expect("warned with 3 direct connections");
    assert!(text.contains("accepts 3 connections"), "{text}");
    assert!(
        text.contains("less the 44 its pool `notes-db-pool` holds"),
        "{text}"
    );
    assert!(text.contains("web-release 1"), "{text}");
    assert!(text.contains("lower `pool.size`"), "{text}");
    // All 47 to the pool: the release Job gets none.
    let text = do_warning(&release_doks_pool(|t| t.replace("size: 40", "size: 47")))
        .expect("warned with no direct connection");
    assert!(text.contains("some pods get none at all"), "{text}");
}

fn rds_ecs_warning(yaml: &str) -> Option<String> {
    let out = crate::support::synth_aws("tasks", yaml).unwrap_or_else(|e| panic!("{e}"));
    rds_warning(&out)
}

/// ECS tasks hold connections as pods do: a rolling service at its most (the autoscaler's
/// or a scheduled action's maximum) times `maximumPercent`, a blue/green service twice, a
/// `recreate` one once, a scheduled job two overlapping runs — 60 + 6 + 2 + 2 = 70 tasks on
/// db.t4g.micro's 112.
#[test]
fn ecs_tasks_are_judged_against_rds_connections() {
    let stack = |class: &str| {
        crate::support::ecs_stack(
            "tasks",
            &format!(
                "databases:
  - {{ name: db, engine: postgres, size: {class}, storage: {{ size_gb: 20 }} }}
services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: {{ cpu: 256, memory: 512 }}
    uses: [db]
    autoscaling:
      min: 2
      max: 10
      cpu_percent: 70
      scheduled:
        - {{ name: peak, schedule: \"cron(0 8 ? 11 FRI *)\", min: 10, max: 30 }}
  - name: worker
    image: ghcr.io/acme/worker:1.0.0
    task: {{ cpu: 256, memory: 512 }}
    replicas: 3
    uses: [db]
    rollout: {{ strategy: blue_green }}
  - name: singleton
    image: ghcr.io/acme/singleton:1.0.0
    task: {{ cpu: 256, memory: 512 }}
    replicas: 2
    uses: [db]
    rollout: {{ strategy: recreate }}
jobs:
  - name: nightly
    image: ghcr.io/acme/api:1.0.0
    schedule: \"0 3 * * *\"
    concurrency: Allow
    task: {{ cpu: 256, memory: 512 }}
    uses: [db]
"
            ),
        )
    };
    let text = rds_ecs_warning(&stack("db.t4g.micro")).expect("warned on db.t4g.micro");
    assert!(
        text.contains("`db` (db.t4g.micro) accepts 112 connections"),
        "{text}"
    );
    assert!(
        text.contains(
            "tasks using it number up to 70 at once (api 60, worker 6, singleton 2, nightly 2)"
        ),
        "{text}"
    );
    assert!(text.contains("1 connection(s) per task"), "{text}");
    assert!(text.contains("RDS Proxy"), "{text}");
    assert!(text.contains("`rollout.max_percent`"), "{text}");
    // db.t4g.large's 901 give each of the 70 tasks 12.
    assert_eq!(rds_ecs_warning(&stack("db.t4g.large")), None);
}

/// The shipped qurable-ecs warned about its own Black Friday outage with the seed's
/// db.t4g.medium and `max_connections: 200`: 50 tasks and a deployment's 50 more, 2
/// connections each. Production now has db.t4g.large with 500; staging keeps 200 for its 8.
#[test]
fn qurable_ecs_fits_its_black_friday_connections() {
    let path = root().join("blueprints/qurable-ecs.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    for env in ["production", "staging"] {
        let out = crate::support::synth(&path, Provider::Aws, env);
        assert_eq!(rds_warning(&out), None, "{env}");
    }
    let seed = text
        .replacen("    size: db.t4g.large\n", "    size: db.t4g.medium\n", 1)
        .replacen("max_connections: \"500\"", "max_connections: \"200\"", 1);
    assert_ne!(seed, text);
    let out = infragen::synthesize(
        "qurable-ecs.yaml",
        seed.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let warning = rds_warning(&out).expect("the seed's figures warn");
    assert!(
        warning.contains("accepts 200 connections (its `max_connections` parameter)"),
        "{warning}"
    );
    assert!(
        warning.contains("up to 100 at once (qurable-api 100)"),
        "{warning}"
    );
}
