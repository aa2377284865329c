//! `image_credentials`: the login of a private registry outside ECR (GHCR, Docker Hub,
//! GitLab, Quay) for ECS Fargate's `repositoryCredentials` (`src/semantic/image_credentials.rs`,
//! `src/backend/aws/ecs.rs`). Without it every such task stopped with
//! CannotPullContainerError.

use infragen::catalog::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, resources, root, synth, synth_aws};

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

/// A Kubernetes pod pulls through an image pull Secret it names, which this field does not
/// make: refused there, the help saying how.
#[test]
fn kubernetes_platforms_refuse_it_with_the_pull_secret_recipe() {
    let text = "name: tinker
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: \"1.35\" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
secrets:
  - { name: ghcr, keys: [username, password] }
services:
  - { name: api, image: \"ghcr.io/t/api:1.0.0\", image_credentials: ghcr, port: 8080 }
";
    for provider in [Provider::Digitalocean, Provider::Kubernetes] {
        let err = infragen::synthesize("tinker.yaml", text.as_bytes(), provider, "production")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`services[0].image_credentials`"), "{err}");
        assert!(
            err.contains("kubectl create secret docker-registry ghcr --docker-server=ghcr.io"),
            "{err}"
        );
        assert!(err.contains("imagePullSecrets"), "{err}");
    }
}
