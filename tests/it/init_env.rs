//! A migration step (`init` with `app_env: true`) needs what the app needs to reach its
//! database: the connection variables and the credentials. Without `app_env`, an extra
//! container gets only its own `env` (a log shipper or proxy needs no database password),
//! and so an init container could never run a migration — it had no way to read the
//! credentials. Checked on the Kubernetes manifests (EKS) and the ECS task definition.

use infragen::Provider;
use serde_json::Value;

use crate::support::manifests;

const NETWORK: &str = crate::support::NOTES_AWS;
const SECRETS: &str = "secrets:\n  - { name: sentry, keys: [dsn] }\n";

const SERVICE: &str = r#"
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
    uses: [{ name: notes-db, env_prefix: DB }]
    secret_env: [{ name: SENTRY_DSN, secret: sentry, key: dsn }]
    init:
      - name: migrate
        image: ghcr.io/acme/api:2.3.1
        command: [npm, run, migrate]
        app_env: true
        env: { DB_PORT: "6432" }
    sidecars:
      - { name: log-shipper, image: "cr.fluentbit.io/fluent/fluent-bit:4.0.3", env: { FLB_LOG_LEVEL: info } }
"#;

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_init_step_with_app_env_reads_what_the_app_reads_on_kubernetes() {
    let text = format!(
        "name: notes\n{NETWORK}{SECRETS}cluster: {{ platform: eks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, max: 3 }}\n{SERVICE}"
    );
    let out = infragen::synthesize("n.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let d = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("the api Deployment");
    let spec = &d["spec"]["template"]["spec"];
    let app = &spec["containers"][0];
    let init = &spec["initContainers"][0];
    let shipper = &spec["containers"][1];
    assert_eq!(init["name"], "migrate");
    let app_env = names(&app["env"]);
    let init_env = names(&init["env"]);
    for v in [
        "DB_HOST",
        "DB_USERNAME",
        "DB_PASSWORD",
        "DB_URL",
        "SENTRY_DSN",
    ] {
        assert!(
            app_env.contains(&v.to_string()),
            "app lacks {v}: {app_env:?}"
        );
        let a = app["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == v);
        let i = init["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == v);
        assert_eq!(a, i, "{v}: the init container reads it where the app does");
    }
    // Its own `env` wins, once.
    let ports: Vec<&Value> = init["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "DB_PORT")
        .collect();
    assert_eq!(ports.len(), 1, "{init_env:?}");
    assert_eq!(ports[0]["value"], "6432");
    // A sidecar without `app_env` reads no credentials.
    assert_eq!(names(&shipper["env"]), ["FLB_LOG_LEVEL"]);
}

#[test]
fn an_init_step_with_app_env_reads_what_the_app_reads_on_ecs() {
    let text = format!(
        "name: notes\n{NETWORK}{SECRETS}cluster: {{ platform: ecs_fargate }}\nload_balancer: {{ certificate: {{ arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/x\" }} }}\n{}",
        SERVICE.replace(
            "    port: 8080\n",
            "    port: 8080\n    routes: [{ path: / }]\n    task: { cpu: 512, memory: 1024 }\n"
        )
    );
    let out = infragen::synthesize("n.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let ecs: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
    let td = &ecs["resource"]["aws_ecs_task_definition"]["api"];
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    let by_name = |n: &str| {
        defs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == n)
            .unwrap_or_else(|| panic!("no container {n}"))
            .clone()
    };
    let (app, init, shipper) = (by_name("api"), by_name("migrate"), by_name("log-shipper"));
    assert_eq!(
        init["secrets"], app["secrets"],
        "the credentials, by the same ARNs"
    );
    let secrets = names(&init["secrets"]);
    for v in ["DB_USERNAME", "DB_PASSWORD", "SENTRY_DSN"] {
        assert!(
            secrets.contains(&v.to_string()),
            "init lacks {v}: {secrets:?}"
        );
    }
    let env = names(&init["environment"]);
    assert!(env.contains(&"DB_HOST".to_string()), "{env:?}");
    assert_eq!(env.iter().filter(|n| *n == "DB_PORT").count(), 1, "{env:?}");
    let port = init["environment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "DB_PORT")
        .unwrap();
    assert_eq!(port["value"], "6432", "its own env wins");
    assert!(shipper.get("secrets").is_none(), "{shipper:#}");
}
