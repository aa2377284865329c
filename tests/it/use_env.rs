//! Extra names for connection values (`uses: [{ name: db, env: { DB_MASTER_HOST: host } }]`):
//! applications read names of their own — seed 004's TypeORM config reads the writer as
//! `DB_MASTER_HOST` and the database as `DB_NAME` — and ECS has no `$(VAR)` expansion. An
//! alias must reach the container from exactly the source of the generated variable it
//! copies (a credential stays a reference to the same secret and key), on every platform,
//! for jobs and app_env containers too; what cannot work is refused at the alias.

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, root, synth, synth_cli};

const NETWORK: &str = crate::support::NOTES_AWS;

const USE: &str = "{ name: notes-db, env_prefix: DB, env: { DB_MASTER_HOST: host, DB_NAME: database, DB_PASS: password } }";

fn service(extra: &str) -> String {
    format!(
        r#"
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
{extra}    uses: [{USE}]
    init:
      - {{ name: migrate, image: "ghcr.io/acme/api:2.3.1", command: [npm, run, migrate], app_env: true }}
jobs:
  - name: nightly
    image: ghcr.io/acme/api:2.3.1
    schedule: "0 3 * * *"
    command: [npm, run, report]
    uses: [{USE}]
"#
    )
}

fn eks() -> String {
    format!(
        "name: notes\n{NETWORK}cluster: {{ platform: eks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, max: 3 }}\n{}",
        service("")
    )
}

fn ecs() -> String {
    format!(
        "name: notes\n{NETWORK}cluster: {{ platform: ecs_fargate }}\nload_balancer: {{ certificate: {{ arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/x\" }} }}\n{}",
        service("    routes: [{ path: / }]\n    task: { cpu: 512, memory: 1024 }\n")
    )
}

/// The entry named `var` of an `env` / `environment` / `secrets` list.
fn entry<'a>(list: &'a Value, var: &str) -> &'a Value {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == var)
        .unwrap_or_else(|| panic!("no {var} in {list:#}"))
}

/// `entry` without its name: where the value comes from.
fn source(list: &Value, var: &str) -> Value {
    let mut e = entry(list, var).clone();
    e.as_object_mut().unwrap().remove("name");
    e
}

fn has(list: &Value, var: &str) -> bool {
    list.as_array()
        .into_iter()
        .flatten()
        .any(|e| e["name"] == var)
}

/// The container definitions of task definition `name` in the infra module.
fn task_containers(out: &infragen::Output, name: &str) -> Vec<Value> {
    let ecs: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
    let td = &ecs["resource"]["aws_ecs_task_definition"][name];
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    defs.as_array().unwrap().clone()
}

#[test]
fn qurable_api_reads_the_writer_and_the_database_name_from_the_database() {
    let path = root().join("blueprints/qurable-ecs.yaml");
    for env in ["production", "staging"] {
        let out = synth(&path, Provider::Aws, env);
        let defs = task_containers(&out, "qurable_api");
        let app = defs
            .iter()
            .find(|d| d["name"] == "qurable-backend")
            .expect("the app container");
        let e = &app["environment"];
        // Writes go to the primary: DB_MASTER_HOST is DB_HOST's value, an RDS address.
        assert_eq!(source(e, "DB_MASTER_HOST"), source(e, "DB_HOST"), "{env}");
        assert_eq!(
            entry(e, "DB_MASTER_HOST")["value"],
            "${aws_db_instance.db.address}",
            "{env}"
        );
        // The database's own name, not a second hard-coded copy.
        assert_eq!(source(e, "DB_NAME"), source(e, "DB_DATABASE"), "{env}");
        assert!(!has(&app["secrets"], "DB_MASTER_HOST"));
        // TypeORM's `slaves` read DB_REPLICA_HOST: the replica in production; staging has
        // none, so reads go to the primary rather than to an unset host (localhost).
        let replica = entry(e, "DB_REPLICA_HOST")["value"].clone();
        if env == "production" {
            assert_eq!(replica, "${aws_db_instance.db_replica.address}");
        } else {
            assert_eq!(source(e, "DB_REPLICA_HOST"), source(e, "DB_HOST"));
        }
    }
    // The blueprint no longer spells the name itself.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("DB_NAME: qurable"), "DB_NAME is hard-coded");
}

#[test]
fn on_ecs_an_alias_reads_the_same_value_or_secret_as_its_variable() {
    let out = infragen::synthesize("n.yaml", ecs().as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    for (task, container) in [("api", "api"), ("api", "migrate"), ("nightly", "nightly")] {
        let defs = task_containers(&out, task);
        let c = defs
            .iter()
            .find(|d| d["name"] == container)
            .unwrap_or_else(|| panic!("no container {container} in {task}"));
        let (env, secrets) = (&c["environment"], &c["secrets"]);
        assert_eq!(source(env, "DB_MASTER_HOST"), source(env, "DB_HOST"));
        assert_eq!(source(env, "DB_NAME"), source(env, "DB_DATABASE"));
        assert_eq!(entry(env, "DB_NAME")["value"], "notes");
        // A credential stays a `valueFrom` of the same secret ARN and JSON key.
        assert_eq!(source(secrets, "DB_PASS"), source(secrets, "DB_PASSWORD"));
        assert!(!has(env, "DB_PASS"), "a password in plain environment");
    }
}

/// The app container of the `api` Deployment and of the `nightly` CronJob, and the init
/// container with `app_env`, in `docs`.
fn k8s_containers(docs: &[Value]) -> Vec<Value> {
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("the api Deployment");
    let cron = docs
        .iter()
        .find(|d| d["kind"] == "CronJob" && d["metadata"]["name"] == "nightly")
        .expect("the nightly CronJob");
    let pod = &deployment["spec"]["template"]["spec"];
    vec![
        pod["containers"][0].clone(),
        pod["initContainers"][0].clone(),
        cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].clone(),
    ]
}

fn check_k8s_aliases(docs: &[Value]) {
    for c in k8s_containers(docs) {
        let env = &c["env"];
        for (alias, var) in [
            ("DB_MASTER_HOST", "DB_HOST"),
            ("DB_NAME", "DB_DATABASE"),
            ("DB_PASS", "DB_PASSWORD"),
        ] {
            assert_eq!(
                source(env, alias),
                source(env, var),
                "{}: {alias}",
                c["name"]
            );
        }
        // The same Secret and key as the generated variable: no value of its own anywhere.
        let pass = &entry(env, "DB_PASS")["valueFrom"]["secretKeyRef"];
        assert!(
            pass["name"].is_string() && pass["key"].is_string(),
            "{pass}"
        );
        assert!(entry(env, "DB_PASS").get("value").is_none());
    }
}

#[test]
fn on_eks_a_secret_alias_is_a_reference_to_the_same_secret_key() {
    let out = infragen::synthesize("n.yaml", eks().as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    check_k8s_aliases(&docs);
    let app = &k8s_containers(&docs)[0];
    let pass = &entry(&app["env"], "DB_PASS")["valueFrom"]["secretKeyRef"];
    assert_eq!(pass["name"], "api-connections");
    assert_eq!(
        pass["key"], "DB_PASSWORD",
        "the key the platform module fills"
    );
    // No key of its own in the stores: the aliases read the generated variables' keys.
    let all = crate::support::flatten(&out);
    for key in ["DB_PASS", "DB_MASTER_HOST", "DB_NAME"] {
        for spelling in [format!("\"{key}\""), format!("{key}:")] {
            assert!(!all.contains(&spelling), "a store key for the alias {key}");
        }
    }
}

#[test]
fn on_a_kubernetes_cluster_a_secret_alias_is_a_reference_to_the_same_secret_key() {
    let text = format!(
        "name: notes\nproviders:\n  kubernetes: {{}}\ndatabases:\n  - {{ name: notes-db, engine: postgres }}\n{}environments:\n  production: {{}}\n",
        service("")
    );
    let out = infragen::synthesize(
        "n.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    check_k8s_aliases(&docs);
    let app = &k8s_containers(&docs)[0];
    let pass = &entry(&app["env"], "DB_PASS")["valueFrom"]["secretKeyRef"];
    assert_eq!(pass["name"], "notes-db-credentials");
    assert_eq!(pass["key"], "password");
    assert_eq!(
        entry(&app["env"], "DB_MASTER_HOST")["value"],
        "notes-db.notes.svc.cluster.local"
    );
}

/// The 1-based line of `needle`'s first occurrence in `text`, and its column.
fn position(text: &str, needle: &str) -> String {
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return format!("blueprint.yaml:{}:{}", i + 1, c + 1);
        }
    }
    panic!("{needle} not in the blueprint");
}

/// `env` of api's use replaced by `env`, with `extra` lines in the service; the refusal must
/// exit 2, say `message`, and point at `at` (text in the blueprint).
fn refused(env: &str, extra: &str, db: &str, message: &str, at: &str) {
    let text = eks()
        .replacen(
            &format!("    uses: [{USE}]"),
            &format!("{extra}    uses: [{{ name: notes-db, env_prefix: DB, env: {{ {env} }} }}]"),
            1,
        )
        .replace(
            "  - { name: notes-db, engine: postgres, size: small, database_name: notes, storage: { size_gb: 20 } }",
            db,
        );
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{env}: {err}");
    assert!(err.contains(message), "{env}: {err}");
    assert!(
        err.contains(&position(&text, at)),
        "{env}: not at {at}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

const PG: &str = "  - { name: notes-db, engine: postgres, size: small, database_name: notes, storage: { size_gb: 20 } }";

#[test]
fn an_unknown_field_is_refused_with_a_suggestion() {
    refused(
        "DB_MASTER_HOST: hots",
        "",
        PG,
        "unknown connection field `hots`",
        "hots }",
    );
    let (_, err) = synth_cli(
        &eks().replace("DB_MASTER_HOST: host", "DB_MASTER_HOST: hots"),
        "aws",
    );
    assert!(err.contains("did you mean `host`?"), "{err}");
}

#[test]
fn a_field_the_component_does_not_have_here_is_refused() {
    // No read replica.
    refused(
        "READER: replica_host",
        "",
        PG,
        "`notes-db` gives no `replica_host` here",
        "replica_host",
    );
    // RDS MySQL creates no database without `database_name`.
    refused(
        "DB_NAME: database",
        "",
        "  - { name: notes-db, engine: mysql, size: small, storage: { size_gb: 20 } }",
        "`notes-db` gives no `database` here",
        "database }",
    );
    // A field of another kind of component.
    refused(
        "DB_T: table",
        "",
        PG,
        "`notes-db` gives no `table` here",
        "table }",
    );
}

#[test]
fn a_name_that_is_no_variable_name_is_refused() {
    refused(
        "db-master: host",
        "",
        PG,
        "`db-master` is not an environment variable name",
        "db-master",
    );
}

#[test]
fn a_name_another_variable_has_is_refused() {
    // A generated variable.
    refused(
        "DB_PORT: host",
        "",
        PG,
        "already has a variable `DB_PORT`: `uses: notes-db` gives it",
        "DB_PORT: host",
    );
    // The service's own `env` and `secret_env`.
    refused(
        "WRITER: host",
        "    env: { WRITER: primary.example.com }\n",
        PG,
        "already has a variable `WRITER`: `env` sets it",
        "WRITER: host",
    );
    refused(
        "SENTRY: url",
        "    secret_env: [{ name: SENTRY, secret: sentry }]\n",
        &format!("{PG}\nsecrets:\n  - {{ name: sentry }}"),
        "already has a variable `SENTRY`: `secret_env` sets it",
        "SENTRY: url",
    );
}

#[test]
fn two_aliases_of_one_name_are_refused() {
    let text = eks().replacen(
        &format!("    uses: [{USE}]"),
        "    uses:\n      - { name: notes-db, env_prefix: DB, env: { WRITER: host } }\n      - { name: cache, env: { WRITER: host } }",
        1,
    ) + "caches:\n  - { name: cache, engine: redis, size: small }\n";
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "already has a variable `WRITER`: `uses[0].env` gives it (a copy of `DB_HOST`)"
        ),
        "{err}"
    );
    let line = text
        .lines()
        .position(|l| l.contains("name: cache, env"))
        .unwrap();
    assert!(
        err.contains(&format!("blueprint.yaml:{}:", line + 1)),
        "{err}"
    );
}

#[test]
fn an_alias_of_a_variable_the_service_sets_itself_is_refused() {
    refused(
        "WRITER: host",
        "    env: { DB_HOST: primary.example.com }\n",
        PG,
        "`WRITER` would copy `DB_HOST`, which the service sets itself",
        "host } }]",
    );
    // One credential of its own makes all of them its own (`wiring::without_own`).
    refused(
        "LOGIN: username",
        "    secret_env: [{ name: DB_PASSWORD, secret: pw }]\n",
        &format!("{PG}\nsecrets:\n  - {{ name: pw }}"),
        "`LOGIN` would copy `DB_USERNAME`, which the service leaves out because it sets another credential of `notes-db` itself",
        "username } }]",
    );
}

/// A stack with one component of every kind `api` can use, for `provider` on `cluster`
/// (`sqs`: an SQS queue `events` too, AWS only).
fn every_kind(cluster: &str, mongo: bool, sqs: bool) -> String {
    let sqs = if sqs {
        "  - { name: events, engine: sqs }\n"
    } else {
        ""
    };
    let mongo_db = if mongo {
        "  - { name: mongo, engine: mongodb, size: medium, storage: { size_gb: 50 }, deployment: in_cluster }\n"
    } else {
        ""
    };
    format!(
        r#"name: shop
providers:
  aws: {{ region: us-east-1 }}
  digitalocean: {{ region: nyc1 }}
  kubernetes: {{}}
state:
  bucket: shop-terraform-state-{{env}}
network:
  cidr: 10.0.0.0/16
  zones: [us-east-1a, us-east-1b]
  nat: single
  subnets:
    public: [10.0.0.0/24, 10.0.1.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
    database: [10.0.20.0/24, 10.0.21.0/24]
{cluster}
databases:
  - {{ name: pg, engine: postgres, size: medium, storage: {{ size_gb: 50 }}, replicas: 1 }}
  - {{ name: my, engine: mysql, size: medium, storage: {{ size_gb: 50 }} }}
{mongo_db}caches:
  - {{ name: cache, engine: redis, size: small }}
queues:
  - {{ name: mq, engine: rabbitmq, size: small }}
{sqs}tables:
  - {{ name: orders, partition_key: {{ name: id, type: S }} }}
buckets:
  - {{ name: files }}
services:
  - name: web
    image: ghcr.io/example/web:1.0.0
    port: 8080
  - name: api
    image: ghcr.io/example/api:1.0.0
    port: 8080
    uses:
USES
environments:
  production: {{}}
"#
    )
}

const FIELDS: [&str; 17] = infragen::blueprint::types::USE_ENV_FIELDS;

/// `uses` entries giving each of `components` an alias `X_<COMPONENT>_<FIELD>` per field
/// `keep` accepts.
fn uses_with(components: &[&str], keep: impl Fn(&str) -> bool) -> String {
    components
        .iter()
        .map(|c| {
            let env: Vec<String> = FIELDS
                .iter()
                .map(|f| (format!("X_{}_{}", c.to_uppercase(), f.to_uppercase()), f))
                .filter(|(a, _)| keep(a))
                .map(|(a, f)| format!("{a}: {f}"))
                .collect();
            format!("      - {{ name: {c}, env: {{ {} }} }}\n", env.join(", "))
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The app container's variables (`env`; on ECS `environment` and `secrets`).
fn app_variables(out: &infragen::Output, ecs: bool) -> Vec<Value> {
    if ecs {
        let defs = task_containers(out, "api");
        let app = defs.iter().find(|d| d["name"] == "api").unwrap();
        let mut all = app["environment"].as_array().cloned().unwrap_or_default();
        all.extend(app["secrets"].as_array().cloned().unwrap_or_default());
        return all;
    }
    let docs = manifests(out);
    let d = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("the api Deployment");
    d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// What validation accepts is exactly what the back-end gives: an alias is refused if and
/// only if the container lacks the generated variable it would copy, and an accepted one
/// reads the same source — for every field of every kind of component, on every platform.
#[test]
fn an_alias_is_accepted_exactly_where_its_variable_exists() {
    let eks = "cluster: { platform: eks, version: \"1.35\", addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver] }\nnode_pools:\n  - { name: general, size: medium, min: 2, desired: 2, max: 5 }";
    let ecs = "cluster: { platform: ecs_fargate }";
    let all = ["pg", "my", "mongo", "cache", "mq", "orders", "files", "web"];
    let aws = [
        "pg", "my", "mongo", "cache", "mq", "events", "orders", "files", "web",
    ];
    let ecs_ones = [
        "pg", "my", "cache", "mq", "events", "orders", "files", "web",
    ];
    for (label, provider, cluster, components, is_ecs) in [
        ("EKS", Provider::Aws, eks, &aws[..], false),
        ("ECS", Provider::Aws, ecs, &ecs_ones[..], true),
        ("DOKS", Provider::Digitalocean, eks, &all[..], false),
        ("kubernetes", Provider::Kubernetes, eks, &all[..], false),
    ] {
        let base = every_kind(cluster, !is_ecs, provider == Provider::Aws);
        let every = base.replace("USES", &uses_with(components, |_| true));
        let err = infragen::synthesize("s.yaml", every.as_bytes(), provider, "production")
            .map(|_| ())
            .expect_err("some fields are always absent (a database's `table`)")
            .to_string();
        let refused: Vec<String> = err
            .lines()
            .filter(|l| l.starts_with("error:"))
            .map(|l| {
                let at = l
                    .find(".env.X_")
                    .unwrap_or_else(|| panic!("not an alias error: {l}"));
                let rest = &l[at + 5..];
                rest[..rest.find('`').unwrap()].to_string()
            })
            .collect();
        let text = base.replace(
            "USES",
            &uses_with(components, |a| !refused.iter().any(|r| r == a)),
        );
        let out = infragen::synthesize("s.yaml", text.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{label}: {d}"));
        let vars = Value::Array(app_variables(&out, is_ecs));
        let mut accepted = 0;
        for c in components {
            for f in FIELDS {
                let generated = format!("{}_{}", c.to_uppercase(), f.to_uppercase());
                let alias = format!("X_{generated}");
                let what = format!("{label}: {alias}");
                if refused.contains(&alias) {
                    assert!(
                        !has(&vars, &generated),
                        "{what} refused, but {generated} exists"
                    );
                    assert!(!has(&vars, &alias), "{what}");
                } else {
                    assert!(
                        has(&vars, &generated),
                        "{what} accepted, but no {generated}"
                    );
                    assert_eq!(source(&vars, &alias), source(&vars, &generated), "{what}");
                    accepted += 1;
                }
            }
        }
        assert!(accepted > 20, "{label}: only {accepted} accepted");
    }
}

/// The workload gets a component's variables once, from its first entry: a second entry's
/// `env_prefix` and `env` would silently be missing, so the second entry is refused.
#[test]
fn a_component_listed_twice_is_refused() {
    let text = eks().replacen(
        &format!("    uses: [{USE}]"),
        "    uses:\n      - notes-db\n      - { name: notes-db, env_prefix: DB, env: { WRITER: host } }",
        1,
    );
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`notes-db` is already listed at `uses[0]`"),
        "{err}"
    );
    // The one problem, not also one per alias of the ignored entry.
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(
        err.contains(&position(
            &text,
            "{ name: notes-db, env_prefix: DB, env: { WRITER"
        )),
        "{err}"
    );
}

/// `ca_file` where the database runs in the cluster: refused with the reason.
#[test]
fn a_ca_file_of_an_in_cluster_database_is_refused() {
    let text = format!(
        "name: notes\nproviders:\n  kubernetes: {{}}\ndatabases:\n  - {{ name: notes-db, engine: postgres }}\n{}environments:\n  production: {{}}\n",
        service("")
    )
    .replacen("DB_PASS: password", "DB_CA: ca_file", 1);
    let (code, err) = synth_cli(&text, "kubernetes");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`notes-db` gives no `ca_file` here") && err.contains("runs in the cluster"),
        "{err}"
    );
    assert!(err.contains(&position(&text, "ca_file")), "{err}");
}

/// A value built from variables (`$(NAME)`, Kubernetes) may name an alias: it is a variable
/// of the container, written before the values that reference it; and a copy of a generated
/// password in a URL gets the same `url-credentials` warning as the password itself.
#[test]
fn a_value_may_reference_an_alias_on_kubernetes() {
    let text = eks().replacen(
        "    port: 8080\n",
        "    port: 8080\n    env:\n      DATABASE_URL: \"postgres://$(DB_USERNAME)@$(DB_MASTER_HOST):$(DB_PORT)/$(DB_NAME)\"\n      LEGACY_URL: \"postgres://u:$(DB_PASS)@$(DB_MASTER_HOST)/x\"\n",
        1,
    );
    let out = infragen::synthesize("n.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let app = &k8s_containers(&manifests(&out))[0];
    let names: Vec<&str> = app["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("DB_MASTER_HOST") < at("DATABASE_URL"), "{names:?}");
    assert!(at("DB_NAME") < at("DATABASE_URL"), "{names:?}");
    let warned = out
        .notes
        .iter()
        .any(|n| n.to_string().contains("url-credentials") && n.text.contains("$(DB_PASS)"));
    assert!(warned, "{:?}", out.notes);
}

/// A cache's `auth_token` exists on ElastiCache only; off AWS the refusal names `password`,
/// which every provider gives (ElastiCache's AUTH token included), and which is taken.
#[test]
fn a_cache_alias_of_its_password_works_on_every_provider() {
    let text = |field: &str| {
        format!(
            "name: notes\nproviders:\n  kubernetes: {{}}\ncaches:\n  - {{ name: sessions, engine: redis }}\nservices:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    uses: [{{ name: sessions, env_prefix: REDIS, env: {{ REDIS_SECRET: {field} }} }}]\n"
        )
    };
    let e = match infragen::synthesize(
        "n.yaml",
        text("auth_token").as_bytes(),
        Provider::Kubernetes,
        "production",
    ) {
        Ok(_) => panic!("auth_token accepted off ElastiCache"),
        Err(d) => d.to_string(),
    };
    assert!(
        e.contains("`password` is the same value on every provider"),
        "{e}"
    );
    infragen::synthesize(
        "n.yaml",
        text("password").as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
}
