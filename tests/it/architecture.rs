//! `architecture` (services and jobs): the CPU architecture an image is built for, against
//! where its containers run (`src/semantic/architecture.rs`). A container on the other one
//! exits with `exec format error`, which nothing said before the pod's first start.

use infragen::catalog::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, manifests, resources, root, synth, synth_aws};

fn ecs_with(arch: &str) -> String {
    ecs_stack(
        "loom",
        &format!(
            "services:\n  - {{ name: api, image: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.0.0\", port: 8080, task: {{ cpu: 256, memory: 512 }}{arch} }}\n"
        ),
    )
}

fn cpu_architecture(yaml: &str) -> String {
    let out = synth_aws("loom", yaml).unwrap();
    let td = &resources(&out, "infra", "aws_ecs_task_definition")[0];
    td["runtime_platform"]["cpu_architecture"]
        .as_str()
        .unwrap()
        .to_string()
}

/// ECS Fargate runs an arm64 image on Graviton (`runtimePlatform.cpuArchitecture: ARM64`);
/// every other task stays X86_64, as before.
#[test]
fn an_arm64_image_runs_on_graviton_fargate() {
    assert_eq!(
        cpu_architecture(&ecs_with(", architecture: arm64")),
        "ARM64"
    );
    assert_eq!(
        cpu_architecture(&ecs_with(", architecture: amd64")),
        "X86_64"
    );
    assert_eq!(
        cpu_architecture(&ecs_with(", architecture: multi")),
        "X86_64"
    );
    assert_eq!(cpu_architecture(&ecs_with("")), "X86_64");
}

/// The pod specs of `out`'s workload named `name` (Deployment, CronJob or Job).
fn pod_specs<'a>(objects: &'a [Value], name: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|o| o["metadata"]["name"] == name)
        .filter_map(|o| match o["kind"].as_str() {
            Some("Deployment") => Some(&o["spec"]["template"]["spec"]),
            Some("CronJob") => Some(&o["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
            _ => None,
        })
        .collect()
}

/// On EKS each single-architecture workload gets a `kubernetes.io/arch` selector — the
/// vendor's amd64-only renderer off the m7g pool, the laptop-built arm64 API and its job on
/// it — and the multi-platform nginx none, so it may run on either pool.
#[test]
fn eks_pods_are_kept_to_nodes_of_their_image_architecture() {
    let path = root().join("tests/fixtures/new-user/loom-graviton-eks.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let objects = manifests(&out);
    let arch = |name: &str| {
        let specs = pod_specs(&objects, name);
        assert_eq!(specs.len(), 1, "{name}");
        specs[0]["nodeSelector"]["kubernetes.io/arch"].clone()
    };
    assert_eq!(arch("renderer"), "amd64");
    assert_eq!(arch("api"), "arm64");
    assert_eq!(arch("reprint"), "arm64");
    assert_eq!(arch("storefront"), Value::Null);
    assert!(
        !out.notes
            .iter()
            .any(|n| n.rule == Some("node-architecture")),
        "{:#?}",
        out.notes
    );
}

fn eks(pools: &str, services: &str) -> String {
    crate::support::eks_stack(
        "loom",
        "{ platform: eks, version: \"1.35\" }",
        &format!("node_pools:\n{pools}services:\n{services}"),
    )
}

/// An architecture no pool the pods may use has would leave them Pending under the
/// selector: refused at the field, naming the pools and their architectures. A pool the
/// service is pinned to counts alone; a tainted pool the pods do not tolerate does not count.
#[test]
fn an_architecture_no_pool_has_is_refused_at_the_field() {
    let graviton = "  - { name: general, size: m7g.large, min: 2, max: 4 }\n";
    let renderer =
        "  - { name: renderer, image: \"docker.io/v/r:1.0.0\", port: 9000, architecture: amd64 }\n";
    let err = synth_aws("loom", &eks(graviton, renderer)).unwrap_err();
    assert!(err.contains("`services[0].architecture`"), "{err}");
    assert!(
        err.contains("no node pool its pods may run on has amd64 nodes (`general` (arm64))"),
        "{err}"
    );
    assert!(err.contains("loom.yaml:"), "{err}");

    let tainted = "  - { name: legacy, size: t3.medium, min: 1, max: 1, taints: [{ key: legacy, value: \"yes\", effect: NoSchedule }] }\n";
    let err = synth_aws("loom", &eks(&format!("{graviton}{tainted}"), renderer)).unwrap_err();
    assert!(err.contains("`services[0].architecture`"), "{err}");

    let untainted = "  - { name: legacy, size: t3.medium, min: 1, max: 1 }\n";
    synth_aws("loom", &eks(&format!("{graviton}{untainted}"), renderer)).unwrap();
    let pinned = "  - { name: renderer, image: \"docker.io/v/r:1.0.0\", port: 9000, architecture: amd64, node_pool: general }\n";
    let err = synth_aws("loom", &eks(&format!("{graviton}{untainted}"), pinned)).unwrap_err();
    assert!(err.contains("`general` (arm64)"), "{err}");
}

/// A workload that says nothing and may land on a Graviton pool is warned about; one that
/// cannot (pinned to an x86 pool) or that says `multi` is not.
#[test]
fn a_workload_without_architecture_beside_graviton_nodes_is_warned_about() {
    let pools = "  - { name: general, size: m7g.large, min: 2, max: 4 }\n  - { name: legacy, size: t3.medium, min: 1, max: 1 }\n";
    let services = "  - { name: api, image: \"ghcr.io/l/api:1.0.0\", port: 8080 }\n  - { name: renderer, image: \"docker.io/v/r:1.0.0\", port: 9000, node_pool: legacy }\n  - { name: web, image: \"nginx:1.27.4\", port: 8080, architecture: multi }\n";
    let out = synth_aws("loom", &eks(pools, services)).unwrap();
    let warned: Vec<&str> = out
        .notes
        .iter()
        .filter(|n| n.rule == Some("node-architecture"))
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0]
            .starts_with("`api`: its pods may run on the Graviton (arm64) nodes of pool `general`"),
        "{}",
        warned[0]
    );
}

/// EKS on Fargate and DOKS run x86-64 only: an arm64 image is refused there.
#[test]
fn arm64_is_refused_where_no_arm_node_exists() {
    let fargate = &crate::support::eks_stack(
        "loom",
        "{ platform: eks_fargate, version: \"1.35\" }",
        "fargate_profiles:
  - { name: apps, namespaces: [loom, kube-system] }
services:
  - { name: api, image: \"ghcr.io/l/api:1.0.0\", port: 8080, architecture: arm64 }
",
    );
    let err = synth_aws("loom", fargate).unwrap_err();
    assert!(
        err.contains(
            "`services[0].architecture`: `api`: EKS on Fargate runs x86-64 (amd64) pods only"
        ),
        "{err}"
    );
    synth_aws("loom", &fargate.replace("arm64", "amd64")).unwrap();

    let doks = "name: loom
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: \"1.35\" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
services:
  - { name: api, image: \"ghcr.io/l/api:1.0.0\", port: 8080, architecture: arm64 }
";
    let err = infragen::synthesize(
        "loom.yaml",
        doks.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "`services[0].architecture`: `api`: DOKS node pools are x86-64 (amd64) Droplets"
        ),
        "{err}"
    );
    let out = infragen::synthesize(
        "loom.yaml",
        doks.replace("arm64", "amd64").as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap();
    let objects = manifests(&out);
    assert_eq!(
        pod_specs(&objects, "api")[0]["nodeSelector"]["kubernetes.io/arch"],
        "amd64"
    );
}
