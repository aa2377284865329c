//! `rollout.strategy: recreate` for a singleton (the new-user Django blueprint's Celery beat):
//! the old pod or task is gone before a new one starts, on every platform — Kubernetes'
//! `Recreate` Deployment strategy, ECS's minimum healthy 0 % / maximum 100 %.

use infragen::Provider;
use serde_json::json;

use crate::support::{ecs_stack, manifests, resources, root, synth, synth_aws};

#[test]
fn a_recreated_deployment_stops_its_old_pods_first() {
    let path = root().join("tests/fixtures/new-user/quill-django-eks.yaml");
    for provider in [Provider::Aws, Provider::Kubernetes] {
        for env in ["staging", "production"] {
            let docs = manifests(&synth(&path, provider, env));
            let strategy = |name: &str| {
                docs.iter()
                    .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
                    .unwrap_or_else(|| panic!("{name} Deployment"))["spec"]["strategy"]
                    .clone()
            };
            assert_eq!(
                strategy("beat"),
                json!({"type": "Recreate"}),
                "{provider} {env}"
            );
            // The other services keep Kubernetes' rolling default.
            assert!(strategy("worker").is_null(), "{provider} {env}");
        }
    }
}

#[test]
fn a_recreated_ecs_service_never_runs_two_tasks() {
    let yaml = ecs_stack(
        "quill",
        "services:
  - name: beat
    image: ghcr.io/quill/app:2026.12.0
    command: [celery, -A, quill, beat]
    rollout: { strategy: recreate }
  - name: worker
    image: ghcr.io/quill/app:2026.12.0
    command: [celery, -A, quill, worker]
",
    );
    let out = synth_aws("quill", &yaml).unwrap();
    let services = resources(&out, "infra", "aws_ecs_service");
    let of = |name: &str| {
        let s = services.iter().find(|s| s["name"] == name).unwrap();
        (
            s["deployment_minimum_healthy_percent"].clone(),
            s["deployment_maximum_percent"].clone(),
        )
    };
    assert_eq!(of("beat"), (json!(0), json!(100)));
    assert_eq!(of("worker"), (json!(100), json!(200)));
    assert!(
        services
            .iter()
            .all(|s| s["deployment_controller"]["type"] == "ECS"),
        "recreate is an ECS rolling deployment, not a blue/green one"
    );
}
