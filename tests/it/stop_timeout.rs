//! `services[].stop_timeout`: the seconds a container has between SIGTERM and SIGKILL. A
//! Celery worker's warm shutdown finishes the task it runs; killed at the platforms' default
//! 30 s, a longer export is lost (Celery acknowledges a task as it starts by default) on every
//! rollout and scale-in. Kubernetes: the pod's `terminationGracePeriodSeconds`; ECS: the
//! containers' `stopTimeout` (Fargate: at most 120 s), and refused where it cannot hold.

use infragen::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, manifests, resources, synth_aws};

const WORKER: &str = "services:
  - name: worker
    image: ghcr.io/ledgerline/app:4.1.0
    command: [celery, -A, ledgerline.tasks, worker]
    stop_timeout: 110
    sidecars: [{ name: statsd, image: ghcr.io/ledgerline/statsd:1.0.0 }]
  - name: beat
    image: ghcr.io/ledgerline/app:4.1.0
    command: [celery, -A, ledgerline.tasks, beat]
";

fn k8s(services: &str) -> Result<infragen::Output, String> {
    let text = format!("name: ledgerline\ncluster: {{ platform: existing }}\n{services}");
    infragen::synthesize(
        "ledgerline.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

#[test]
fn the_grace_period_reaches_the_pod_and_every_container_of_the_task() {
    let out = k8s(WORKER).unwrap();
    let grace = |name: &str| {
        manifests(&out)
            .into_iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .unwrap()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            .clone()
    };
    assert_eq!(grace("worker"), 110);
    // Without the field the platform's default stays (no value written).
    assert_eq!(grace("beat"), Value::Null);

    let out = synth_aws("ledgerline", &ecs_stack("ledgerline", WORKER)).unwrap();
    for td in resources(&out, "infra", "aws_ecs_task_definition") {
        let defs: Value =
            serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
        let by_name = |n: &str| {
            defs.as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == n)
                .map(|d| d["stopTimeout"].clone())
        };
        match td["family"].as_str().unwrap() {
            f if f.ends_with("worker") => {
                assert_eq!(by_name("worker"), Some(110.into()), "{defs:#}");
                assert_eq!(by_name("statsd"), Some(110.into()), "{defs:#}");
            }
            f if f.ends_with("beat") => assert_eq!(by_name("beat"), Some(Value::Null)),
            f => panic!("unexpected task definition {f}"),
        }
    }
}

#[test]
fn a_timeout_the_platform_cannot_keep_is_refused() {
    let too_long = WORKER.replace("stop_timeout: 110", "stop_timeout: 600");
    let e = synth_aws("ledgerline", &ecs_stack("ledgerline", &too_long)).unwrap_err();
    assert!(
        e.contains("services[0].stop_timeout") && e.contains("at most 120 seconds"),
        "{e}"
    );
    // Kubernetes waits as long as it is asked.
    k8s(&too_long).unwrap();
    let zero = WORKER.replace("stop_timeout: 110", "stop_timeout: 0");
    let e = k8s(&zero).unwrap_err();
    assert!(e.contains("kills the container at once"), "{e}");
}
