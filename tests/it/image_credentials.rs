//! `image_credentials`: the login of a private registry outside ECR (GHCR, Docker Hub,
//! GitLab, Quay) for ECS Fargate's `repositoryCredentials` (`src/semantic/image_credentials.rs`,
//! `src/backend/aws/ecs.rs`). Without it every such task stopped with
//! CannotPullContainerError.

use infragen::catalog::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, manifests, resources, root, synth, synth_aws};

fn containers(td: &Value) -> Vec<Value> {
    serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap()
}

fn credentials_of(td: &Value, name: &str) -> Value {
    containers(td)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name}"))["repositoryCredentials"]
        .clone()
}

/// The fixture: the app, its private sidecar of the same registry and the job's container
/// log in with the `ghcr` secret; the public Docker Hub sidecar and infragen's own setup
/// container do not. Each execution role may read that secret (and decrypt it only
/// through Secrets Manager), and `infra` waits for its value before the service.
#[test]
fn private_ghcr_images_are_pulled_with_the_named_secret() {
    let path = root().join("tests/fixtures/new-user/tinker-ghcr-private-ecs.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let tds = resources(&out, "infra", "aws_ecs_task_definition");
    let td = |family: &str| tds.iter().find(|t| t["family"] == family).unwrap().clone();
    let ghcr = serde_json::json!({"credentialsParameter": "${aws_secretsmanager_secret.ghcr.arn}"});
    assert_eq!(credentials_of(&td("api"), "api"), ghcr);
    assert_eq!(credentials_of(&td("api"), "authz"), ghcr);
    assert_eq!(credentials_of(&td("api"), "logs"), Value::Null);
    assert_eq!(credentials_of(&td("api"), "infragen-volumes"), Value::Null);
    assert_eq!(credentials_of(&td("nightly"), "nightly"), ghcr);

    let policies = resources(&out, "infra", "aws_iam_role_policy");
    for role in ["api", "nightly"] {
        let p = policies
            .iter()
            .find(|p| p["role"] == format!("${{aws_iam_role.{role}_execution.id}}"))
            .unwrap();
        let doc: Value = serde_json::from_str(p["policy"].as_str().unwrap()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        let read = statements
            .iter()
            .find(|s| s["Sid"] == "ReadOwnSecrets")
            .unwrap();
        assert!(
            read["Resource"]
                .as_array()
                .unwrap()
                .contains(&Value::from("${aws_secretsmanager_secret.ghcr.arn}")),
            "{read}"
        );
        let decrypt = statements
            .iter()
            .find(|s| s["Sid"] == "DecryptSecretsThroughSecretsManager")
            .unwrap();
        assert!(
            decrypt["Resource"]
                .to_string()
                .contains("aws_kms_key.secrets.arn"),
            "{decrypt}"
        );
    }
    let service = &resources(&out, "infra", "aws_ecs_service")
        .into_iter()
        .find(|s| s["name"] == "api")
        .unwrap();
    assert!(
        service
            .to_string()
            .contains("Secrets Manager secret ghcr has no value yet"),
        "{service}"
    );
}

fn one(image: &str, credentials: &str, secrets: &str) -> String {
    ecs_stack(
        "tinker",
        &format!(
            "{secrets}services:\n  - {{ name: api, image: \"{image}\", image_credentials: {credentials}, port: 8080, task: {{ cpu: 256, memory: 512 }} }}\n"
        ),
    )
}

/// What cannot work is refused at the field: a secret that is not declared, one without
/// both keys, and an ECR image (the execution role pulls it).
#[test]
fn credentials_that_cannot_log_in_are_refused_at_the_field() {
    let keys = "secrets:\n  - { name: ghcr, keys: [username, password] }\n";
    synth_aws("tinker", &one("ghcr.io/t/api:1.0.0", "ghcr", keys)).unwrap();
    let err = synth_aws("tinker", &one("ghcr.io/t/api:1.0.0", "gchr", keys)).unwrap_err();
    assert!(
        err.contains("`services[0].image_credentials`: unknown secret `gchr`"),
        "{err}"
    );
    let token_only = "secrets:\n  - { name: ghcr, keys: [token] }\n";
    let err = synth_aws("tinker", &one("ghcr.io/t/api:1.0.0", "ghcr", token_only)).unwrap_err();
    assert!(
        err.contains("secret `ghcr` does not declare the keys `username`, `password`"),
        "{err}"
    );
    let err = synth_aws(
        "tinker",
        &one(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.0.0",
            "ghcr",
            keys,
        ),
    )
    .unwrap_err();
    assert!(err.contains("is in Amazon ECR"), "{err}");
}

/// The image pull Secrets each pod names (`namespace/name` → the workload), the pods of
/// Deployments and CronJobs.
fn pull_secrets_named(out: &infragen::Output) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for d in manifests(out) {
        let pod = match d["kind"].as_str() {
            Some("Deployment") => &d["spec"]["template"]["spec"],
            Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        let ns = d["metadata"]["namespace"].as_str().unwrap().to_string();
        let workload = d["metadata"]["name"].as_str().unwrap().to_string();
        for p in pod["imagePullSecrets"].as_array().into_iter().flatten() {
            found.push((
                ns.clone(),
                p["name"].as_str().unwrap().to_string(),
                workload.clone(),
            ));
        }
    }
    found
}

/// The docker config an ESO template renders, with every `{{ … }}` action replaced by a
/// JSON string: what the kubelet would parse.
fn rendered(template: &str) -> Value {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        out.push_str("\"x\"");
        let end = rest[at..].find("}}").expect("closed action");
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"))
}

/// EKS: every pod of a workload with `image_credentials` names an image pull Secret of its
/// namespace that an ExternalSecret of `connections` renders — type
/// `kubernetes.io/dockerconfigjson`, an `auths` entry for the image's registry (Docker Hub
/// under `https://index.docker.io/v1/`), from the username and password of the Secrets
/// Manager secret ECS reads — one per namespace for the three workloads sharing `ghcr`, and
/// the operator's role may read (and decrypt) that secret.
#[test]
fn eks_pods_pull_through_a_secret_the_operator_renders_from_the_same_login() {
    let path = root().join("tests/fixtures/new-user/tinker-ghcr-private-eks.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let named = pull_secrets_named(&out);
    let workloads: Vec<&str> = named.iter().map(|(_, _, w)| w.as_str()).collect();
    assert_eq!(
        workloads,
        ["admin", "api", "mailer", "nightly"],
        "{named:?}"
    );
    let externals: Vec<Value> = resources(&out, "connections", "kubernetes_manifest")
        .into_iter()
        .map(|r| r["manifest"].clone())
        .filter(|m| m["kind"] == "ExternalSecret")
        .collect();
    let mut rendered_by = std::collections::BTreeSet::new();
    for (ns, name, workload) in &named {
        let es: Vec<&Value> = externals
            .iter()
            .filter(|m| m["metadata"]["namespace"] == *ns && m["spec"]["target"]["name"] == *name)
            .collect();
        assert_eq!(
            es.len(),
            1,
            "{workload}: Secret {ns}/{name} rendered by {es:?}"
        );
        let es = es[0];
        rendered_by.insert(es["metadata"]["name"].as_str().unwrap().to_string());
        let template = &es["spec"]["target"]["template"];
        assert_eq!(template["type"], "kubernetes.io/dockerconfigjson", "{es}");
        let config = rendered(template["data"][".dockerconfigjson"].as_str().unwrap());
        let host = if workload == "mailer" {
            "https://index.docker.io/v1/"
        } else {
            "ghcr.io"
        };
        let auths = config["auths"].as_object().unwrap();
        assert_eq!(
            auths.keys().collect::<Vec<_>>(),
            [host],
            "{workload}: {config}"
        );
        for k in ["username", "password", "auth"] {
            assert!(auths[host][k].is_string(), "{workload}: {config}");
        }
        let secret = if workload == "mailer" {
            "dockerhub"
        } else {
            "ghcr"
        };
        let remote: Vec<(&str, &str)> = es["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["remoteRef"]["key"], secret, "{es}");
                (
                    d["secretKey"].as_str().unwrap(),
                    d["remoteRef"]["property"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(remote, [("username", "username"), ("password", "password")]);
    }
    assert_eq!(
        rendered_by.len(),
        2,
        "one per namespace and login: {rendered_by:?}"
    );

    let policy = resources(&out, "infra", "aws_iam_role_policy")
        .into_iter()
        .find(|p| p["role"] == "${aws_iam_role.external_secrets.id}")
        .expect("the operator's role policy");
    let doc: Value = serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    let read = statements
        .iter()
        .find(|s| s["Sid"] == "ReadTheServicesSecrets")
        .unwrap();
    for secret in ["ghcr", "dockerhub"] {
        let arn = Value::from(format!("${{aws_secretsmanager_secret.{secret}.arn}}"));
        assert!(
            read["Resource"].as_array().unwrap().contains(&arn),
            "{read}"
        );
    }
    assert!(
        statements
            .iter()
            .any(|s| s["Sid"] == "DecryptThroughSecretsManager"
                && s["Resource"]
                    .to_string()
                    .contains("aws_kms_key.secrets.arn")),
        "{doc}"
    );
}

/// DOKS and existing clusters have no secrets manager: the pods name the Kubernetes Secret
/// of the blueprint secret, which `preconditions.json` lists in their namespace with how to
/// make it for the image's registry.
#[test]
fn doks_and_existing_clusters_list_the_pull_secret_with_its_registry() {
    let path = root().join("tests/fixtures/new-user/tinker-ghcr-private-eks.yaml");
    let check = |out: &infragen::Output, what: &str| {
        let named = pull_secrets_named(out);
        assert_eq!(named.len(), 4, "{what}: {named:?}");
        let pre: Vec<Value> = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
        for (ns, name, workload) in &named {
            let p = pre
                .iter()
                .find(|p| p["kind"] == "Secret" && p["namespace"] == *ns && p["name"] == *name)
                .unwrap_or_else(|| panic!("{what}: {workload} pulls with {ns}/{name}, not listed"));
            let server = if workload == "mailer" {
                "--docker-server=https://index.docker.io/v1/"
            } else {
                "--docker-server=ghcr.io"
            };
            let why = p["why"].as_str().unwrap();
            assert!(
                why.contains("kubectl create secret docker-registry"),
                "{why}"
            );
            assert!(why.contains(server), "{what}: {why}");
        }
    };
    check(&synth(&path, Provider::Digitalocean, "production"), "doks");
    let text = "name: tinker
providers: { kubernetes: { context: tools } }
cluster: { platform: existing }
secrets:
  - { name: ghcr, keys: [username, password] }
  - { name: dockerhub }
services:
  - { name: api, image: \"ghcr.io/t/api:1.0.0\", image_credentials: ghcr, port: 8080 }
  - { name: admin, image: \"ghcr.io/t/admin:1.0.0\", image_credentials: ghcr, port: 8080 }
  - { name: mailer, image: \"t/mailer:1.0.0\", image_credentials: dockerhub }
jobs:
  - { name: nightly, image: \"ghcr.io/t/api:1.0.0\", image_credentials: ghcr, schedule: \"0 2 * * *\" }
";
    let out = infragen::synthesize(
        "tinker.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    check(&out, "existing cluster");
}

/// A DOKS stack whose one service runs `image`, with `rest` appended (a `registry`, a
/// `cluster` override).
fn doks_with(image: &str, rest: &str) -> String {
    format!(
        "name: cast\nproviders: {{ digitalocean: {{ region: ams3 }} }}\n\
         cluster: {{ platform: doks, version: \"1.35\" }}\n\
         node_pools: [{{ name: apps, size: medium, min: 2, max: 3 }}]\n\
         services:\n  - {{ name: web, image: \"{image}\", port: 8080 }}\n{rest}"
    )
}

/// New-user round 18: DOCR has no anonymous pulls, and only DOKS's registry integration —
/// on with the blueprint's `registry` — logs a cluster in to it (a `registry-<name>` Secret
/// the pods name). `courier-doks` and `sorrel-supabase-doks` pulled their DOCR images
/// with no `registry`: integration off, no pull Secret, every pod in ImagePullBackOff
/// (401), silently. Now refused at the image, with what logs in instead; on AWS too; an
/// existing cluster (whose nodes may be logged in) gets a warning.
#[test]
fn a_docr_image_nothing_logs_in_to_is_refused_at_the_image() {
    let image = "registry.digitalocean.com/cast/web:1.0.0";
    // Without the registry: refused, positioned at the image.
    let err = infragen::synthesize(
        "cast.yaml",
        doks_with(image, "").as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`services[0].image`"), "{err}");
    assert!(err.contains("cast.yaml:6:25"), "{err}");
    assert!(err.contains("no `registry`"), "{err}");
    assert!(err.contains("registry: { name: cast"), "{err}");
    // Integration turned off, or the image in another registry: refused too.
    for (rest, why) in [
        (
            "registry: { name: cast, repositories: [web] }\ncluster: { platform: doks, version: \"1.35\", registry_integration: false }\n",
            "registry_integration: false",
        ),
        (
            "registry: { name: other, repositories: [web] }\n",
            "the blueprint's registry `other` only",
        ),
    ] {
        let err = infragen::synthesize(
            "cast.yaml",
            doks_with(image, rest).as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(why), "{rest}: {err}");
    }
    // With the blueprint's registry the pods name the Secret DOKS keeps.
    let out = infragen::synthesize(
        "cast.yaml",
        doks_with(image, "registry: { name: cast, repositories: [web] }\n").as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let web = manifests(&out)
        .into_iter()
        .find(|m| m["kind"] == "Deployment" && m["metadata"]["name"] == "web")
        .unwrap();
    assert_eq!(
        web["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"],
        "registry-cast"
    );
    // A sidecar's image is pulled the same way: in another registry, refused at it.
    let text = doks_with(image, "registry: { name: cast, repositories: [web] }\n").replace(
        "port: 8080 }",
        "port: 8080, sidecars: [{ name: proxy, image: \"registry.digitalocean.com/edge/proxy:2.0.0\" }] }",
    );
    let err = infragen::synthesize(
        "cast.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`services[0].sidecars[0].image`"), "{err}");
    assert!(
        err.contains("the blueprint's registry `cast` only"),
        "{err}"
    );
    // On ECS nothing logs in to DOCR: refused.
    let ecs = ecs_stack(
        "cast",
        &format!("services:\n  - {{ name: web, image: \"{image}\", port: 8080 }}\n"),
    );
    let err = synth_aws("cast", &ecs).unwrap_err();
    assert!(err.contains("`services[0].image`"), "{err}");
    assert!(err.contains("nothing on AWS logs in"), "{err}");
    // With `image_credentials` it is pulled with that login, on ECS as elsewhere.
    let ecs = ecs_stack(
        "cast",
        &format!(
            "secrets: [{{ name: docr, keys: [username, password] }}]\n\
             services:\n  - {{ name: web, image: \"{image}\", port: 8080, image_credentials: docr }}\n"
        ),
    );
    synth_aws("cast", &ecs).unwrap_or_else(|e| panic!("{e}"));
    // An existing cluster: a warning, the output still written.
    let out = infragen::synthesize(
        "cast.yaml",
        doks_with(image, "").as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let warned: Vec<&String> = (out.notes.iter())
        .filter(|n| n.rule == Some("docr-pull"))
        .map(|n| &n.text)
        .collect();
    assert!(
        warned.len() == 1 && warned[0].contains("`web`"),
        "{warned:?}"
    );
}

/// w144: on an existing cluster the `docr-pull` warning was one line per workload (ten on
/// `ecommerce-doks.yaml --provider kubernetes`, all saying the same of one registry). Now
/// one line per registry, naming its workloads; a workload with a login is not among them.
#[test]
fn docr_pull_warns_once_per_registry_naming_the_workloads() {
    let image = "registry.digitalocean.com/cast/web:1.0.0";
    let rest = "  - { name: api, image: \"registry.digitalocean.com/cast/api:1.0.0\", port: 8081, \
                sidecars: [{ name: proxy, image: \"registry.digitalocean.com/cast/proxy:1\" }] }\n  \
                - { name: feed, image: \"registry.digitalocean.com/edge/feed:2.0.0\", port: 8082 }\n  \
                - { name: login, image: \"registry.digitalocean.com/cast/login:1\", port: 8083, image_credentials: docr }\n\
                secrets: [{ name: docr }]\n";
    let out = infragen::synthesize(
        "cast.yaml",
        doks_with(image, rest).as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let warned: Vec<&String> = (out.notes.iter())
        .filter(|n| n.rule == Some("docr-pull"))
        .map(|n| &n.text)
        .collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    let cast = warned
        .iter()
        .find(|t| t.contains("Registry `cast`"))
        .unwrap();
    assert!(
        cast.contains("2 workloads' images (`web`, `api`)"),
        "{cast}"
    );
    assert!(!cast.contains("`login`"), "{cast}");
    let edge = warned
        .iter()
        .find(|t| t.contains("Registry `edge`"))
        .unwrap();
    assert!(
        edge.contains("`feed`'s image `registry.digitalocean.com/edge/feed:2.0.0`"),
        "{edge}"
    );
}
