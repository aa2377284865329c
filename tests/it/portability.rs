//! One blueprint on every provider: a kind of component gives a workload the same connection
//! variables wherever it is created — RDS or a DigitalOcean cluster or a StatefulSet,
//! ElastiCache or Valkey or Redis in the cluster, S3 or Spaces — except for the differences
//! [`ALLOWED`] lists with their reason (docs/connections.md, the variables table). A `$(…)`
//! value or a client configuration built from the variables then works on each provider.
//!
//! The variables are read off each output as the platform hands them to the app container:
//! its Deployment's `env` (EKS, DOKS, an existing cluster) or its ECS task definition's
//! `environment` and `secrets`.

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::support::manifests;

/// Every kind of data component, each under its own prefix. `{cluster}` is the cluster;
/// `{mongo}` is where MongoDB
/// runs: AWS has no managed MongoDB infragen lowers to, so there it runs in the cluster, as
/// a user writing one blueprint for both would set it.
const BLUEPRINT: &str = r#"
name: port
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: ams3 }
state: { bucket: "port-tf-state-{env}" }
network:
  cidr: 10.1.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.1.0.0/24, 10.1.1.0/24]
    private: [10.1.10.0/24, 10.1.11.0/24]
    database: [10.1.20.0/24, 10.1.21.0/24]
{cluster}
databases:
  - { name: pg, engine: postgres, size: small, database_name: app, storage: { size_gb: 20 } }
  - { name: my, engine: mysql, size: small, database_name: app, storage: { size_gb: 20 } }
{mongo}
caches:
  - { name: sessions, engine: redis, size: small }
queues:
  - { name: events, engine: rabbitmq, size: small }
buckets:
  - { name: uploads }
services:
  - name: api
    image: ghcr.io/port/api:1.2.3
    port: 8080
    uses: [pg, my, {mongo_use} sessions, events, uploads]
"#;

/// (prefix, kind) of each component the service uses.
const COMPONENTS: [(&str, &str); 6] = [
    ("PG", "database"),
    ("MY", "database"),
    ("MONGO", "database"),
    ("SESSIONS", "cache"),
    ("EVENTS", "queue"),
    ("UPLOADS", "bucket"),
];

/// The documented differences: (kind, variable suffix, where it may be missing — `aws`,
/// `digitalocean` or `in_cluster` — and why).
const ALLOWED: &[(&str, &str, &str, &str)] = &[
    (
        "database",
        "CA_FILE",
        "in_cluster",
        "an in-cluster server serves no TLS: there is no certificate to trust",
    ),
    (
        "cache",
        "AUTH_TOKEN",
        "digitalocean",
        "ElastiCache's own name, kept for blueprints that read it; `_PASSWORD` holds the same value everywhere",
    ),
    (
        "cache",
        "AUTH_TOKEN",
        "in_cluster",
        "ElastiCache's own name, kept for blueprints that read it; `_PASSWORD` holds the same value everywhere",
    ),
    (
        "cache",
        "USERNAME",
        "aws",
        "an ElastiCache AUTH token is a password alone (`AUTH <token>`); DigitalOcean's user is `default`, which a password alone also authenticates",
    ),
    (
        "cache",
        "USERNAME",
        "in_cluster",
        "`requirepass` is a password alone (`AUTH <password>`); DigitalOcean's user is `default`, which a password alone also authenticates",
    ),
    (
        "bucket",
        "ACCESS_KEY_ID",
        "aws",
        "S3 is reached with the pod's or task's IAM role; Spaces has no workload identity, so it needs a key",
    ),
    (
        "bucket",
        "SECRET_ACCESS_KEY",
        "aws",
        "S3 is reached with the pod's or task's IAM role; Spaces has no workload identity, so it needs a key",
    ),
];

/// A target: (label, provider, `cluster.platform`).
const TARGETS: [(&str, Provider, &str); 4] = [
    ("aws (EKS)", Provider::Aws, "eks"),
    ("aws (ECS)", Provider::Aws, "ecs_fargate"),
    ("digitalocean", Provider::Digitalocean, "eks"),
    ("kubernetes", Provider::Kubernetes, "eks"),
];

/// The blueprint for a target, and the output.
fn synth(provider: Provider, platform: &str) -> infragen::Output {
    // ECS runs nothing in a cluster: no MongoDB there.
    let (mongo, mongo_use) = match (provider, platform) {
        (Provider::Aws, "ecs_fargate") => ("", ""),
        (Provider::Aws, _) => (
            "  - { name: mongo, engine: mongodb, deployment: in_cluster }",
            "mongo,",
        ),
        _ => (
            "  - { name: mongo, engine: mongodb, size: small }",
            "mongo,",
        ),
    };
    let cluster = if platform == "ecs_fargate" {
        "cluster: { platform: ecs_fargate }"
    } else {
        "cluster: { platform: eks, version: \"1.35\", addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver] }\nnode_pools:\n  - { name: general, size: medium, min: 2, max: 4 }"
    };
    let text = BLUEPRINT
        .replace("{cluster}", cluster)
        .replace("{mongo_use}", mongo_use)
        .replace("{mongo}", mongo);
    infragen::synthesize("port.yaml", text.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("--provider {provider} ({platform}):\n{d}"))
}

/// The app container's variables: name → its source (a literal, a `valueFrom`).
fn variables(out: &infragen::Output) -> BTreeMap<String, Value> {
    let mut vars = BTreeMap::new();
    for d in manifests(out) {
        if d["kind"] != "Deployment" || d["metadata"]["name"] != "api" {
            continue;
        }
        for c in d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
        {
            if c["name"] != "api" {
                continue;
            }
            for e in c["env"].as_array().into_iter().flatten() {
                let source = e.get("valueFrom").or(e.get("value")).cloned();
                vars.insert(e["name"].as_str().unwrap().to_string(), source.unwrap());
            }
        }
    }
    if let Some(t) = out.files.get("terraform/infra/ecs.tf.json") {
        let tf: Value = serde_json::from_str(t).unwrap();
        let td = &tf["resource"]["aws_ecs_task_definition"]["api"];
        let defs: Value =
            serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
        for c in defs
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == "api")
        {
            for (key, source) in [("environment", "value"), ("secrets", "valueFrom")] {
                for e in c[key].as_array().into_iter().flatten() {
                    vars.insert(e["name"].as_str().unwrap().to_string(), e[source].clone());
                }
            }
        }
    }
    vars
}

/// Where a component runs on a target: `aws`, `digitalocean` or `in_cluster`.
fn runs(provider: Provider, prefix: &str) -> &'static str {
    match (provider, prefix) {
        (Provider::Kubernetes, _) => "in_cluster",
        (Provider::Aws, "MONGO") => "in_cluster",
        // DigitalOcean has no managed RabbitMQ: the broker is a StatefulSet there.
        (Provider::Digitalocean, "EVENTS") => "in_cluster",
        (Provider::Aws, _) => "aws",
        (Provider::Digitalocean, _) => "digitalocean",
    }
}

/// One component on one target: (target and prefix, where it runs, its variables' suffixes).
type Seen = (String, &'static str, BTreeSet<String>);

#[test]
fn each_kind_of_component_gives_the_same_variables_on_every_provider() {
    // kind → (target and component, where it runs, its variables' suffixes).
    let mut seen: BTreeMap<&str, Vec<Seen>> = BTreeMap::new();
    for (label, provider, platform) in TARGETS {
        let vars = variables(&synth(provider, platform));
        assert!(
            !vars.is_empty(),
            "{label}: the app container has no variables"
        );
        for (prefix, kind) in COMPONENTS {
            let p = format!("{prefix}_");
            let suffixes: BTreeSet<String> = vars
                .keys()
                .filter_map(|v| v.strip_prefix(&p).map(str::to_string))
                .collect();
            // Not created on this target (a bucket on an existing cluster, MongoDB on ECS).
            if suffixes.is_empty() {
                continue;
            }
            seen.entry(kind).or_default().push((
                format!("{label}: {prefix}"),
                runs(provider, prefix),
                suffixes,
            ));
        }
    }
    let mut undocumented = Vec::new();
    for (kind, list) in &seen {
        assert!(list.len() >= 2, "{kind} seen on fewer than two targets");
        let all: BTreeSet<&String> = list.iter().flat_map(|(_, _, s)| s).collect();
        for (at, runs, has) in list {
            for suffix in all.iter().filter(|s| !has.contains(s.as_str())) {
                let documented = ALLOWED
                    .iter()
                    .any(|(k, s, r, _)| k == kind && s == suffix && r == runs);
                if !documented {
                    undocumented.push(format!("{kind} `_{suffix}` missing at {at} ({runs})"));
                }
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "variables one provider gives and another does not, without a documented reason:\n{}",
        undocumented.join("\n")
    );
}

/// ElastiCache's `_PASSWORD` is its AUTH token: the same secret as `_AUTH_TOKEN`.
#[test]
fn an_elasticache_password_is_its_auth_token() {
    // ECS: the same `valueFrom` (the token secret's ARN).
    let vars = variables(&synth(Provider::Aws, "ecs_fargate"));
    assert_eq!(
        vars.get("SESSIONS_PASSWORD"),
        vars.get("SESSIONS_AUTH_TOKEN")
    );
    assert!(vars.contains_key("SESSIONS_PASSWORD"), "{vars:?}");
    // EKS: two keys of the connections Secret, filled from the same remote secret.
    let out = synth(Provider::Aws, "eks");
    let text = &out.files["terraform/connections/external_secrets.tf.json"];
    let tf: Value = serde_json::from_str(text).unwrap();
    let mut remote: BTreeMap<String, Value> = BTreeMap::new();
    for (_, m) in tf["resource"]["kubernetes_manifest"].as_object().unwrap() {
        for d in m["manifest"]["spec"]["data"]
            .as_array()
            .into_iter()
            .flatten()
        {
            remote.insert(
                d["secretKey"].as_str().unwrap().to_string(),
                d["remoteRef"].clone(),
            );
        }
    }
    assert!(remote.contains_key("SESSIONS_PASSWORD"), "{remote:?}");
    assert_eq!(
        remote.get("SESSIONS_PASSWORD"),
        remote.get("SESSIONS_AUTH_TOKEN")
    );
}
