//! Scaling on day 2: a new count or size in the blueprint (per environment, in a pull
//! request) must be what the next apply makes — unless an autoscaler owns it, and then
//! `infragen diff` must say that the new value is not applied, and which new bounds the
//! cloud checks against the size the autoscaler left.

use serde_json::Value;

use crate::support::{ecs_stack, resources, root, synth_aws};

/// `infragen diff --provider <p> --env production` of two blueprint texts.
fn diff_text(provider: &str, base: &str, head: &str) -> String {
    let (code, out) = crate::support::diff(provider, "production", base, head);
    assert_eq!(code, Some(1), "{out}");
    out
}

fn ignores(body: &Value, path: &str) -> bool {
    body.pointer("/lifecycle/ignore_changes")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|p| p == path))
}

/// The new user's EKS blueprint, its production pool `general` given `pool` (min, desired,
/// max) instead of the 3/3/5 it has. The pool hosts the in-cluster `catalog-db`, so it is
/// a node group per zone (us-east-1a, us-east-1b), each with its share of the figures.
fn shop(pool: &str) -> String {
    let text = std::fs::read_to_string(root().join("tests/fixtures/new-user/shop-eks.yaml"))
        .unwrap()
        .replace(
            "  production:\n    network:",
            &format!(
                "  production:\n    node_pools:\n      - {{ name: general, {pool} }}\n    network:"
            ),
        );
    assert!(text.contains(pool));
    text
}

/// A pool of fixed size (`min` = `max`) has no autoscaler to fight: its desired size is
/// Terraform's, so a new size is applied. Ignored after creation (as it was), Terraform sent
/// the new `min_size` beside the old desired size, and EKS refused the update ("Minimum
/// capacity 5 can't be greater than desired size 3", UpdateNodegroupConfig;
/// hashicorp/terraform-provider-aws#18310) — the pool could never be resized.
#[test]
fn a_fixed_size_node_pool_is_resized_by_the_apply() {
    let (base, head) = (
        shop("min: 3, desired: 3, max: 3"),
        shop("min: 5, desired: 5, max: 5"),
    );
    let out = infragen::synthesize(
        "shop.yaml",
        head.as_bytes(),
        infragen::Provider::Aws,
        "production",
    )
    .unwrap();
    let groups = resources(&out, "infra", "aws_eks_node_group");
    for g in &groups {
        assert!(!ignores(g, "scaling_config[0].desired_size"), "{g:#}");
    }
    let text = diff_text("aws", &base, &head);
    // Five nodes over two zones: 3 and 2 (were 2 and 1).
    assert!(
        text.contains("scaling_config.desired_size: 2 → 3")
            && text.contains("scaling_config.desired_size: 1 → 2"),
        "{text}"
    );
    assert!(!text.contains("is not applied"), "{text}");
}

/// An autoscaled pool keeps its desired size out of Terraform's hands. The diff says a new
/// `desired` is not applied, and that a raised `min` is checked by EKS against the size the
/// autoscaler left, with the command that sets all three first.
#[test]
fn an_autoscaled_pool_says_what_its_new_bounds_need() {
    let (base, head) = (
        shop("min: 3, desired: 3, max: 5"),
        shop("min: 5, desired: 5, max: 8"),
    );
    let text = diff_text("aws", &base, &head);
    // Per zone: 2/2/3 → 3/3/4 in us-east-1a, 1/1/2 → 2/2/4 in us-east-1b.
    assert!(
        text.contains(
            "note: infra: aws_eks_node_group.general_us_east_1a: scaling_config.desired_size 2 → 3 is not applied"
        ),
        "{text}"
    );
    assert!(
        !text.contains("    scaling_config.desired_size: 2 → 3"),
        "an ignored argument is no change of the running system: {text}"
    );
    assert!(
        text.contains("min_size 2 → 3 fails while the group runs fewer than 3 nodes")
            && text.contains("min_size 1 → 2 fails while the group runs fewer than 2 nodes"),
        "{text}"
    );
    assert!(
        text.contains("--scaling-config minSize=3,maxSize=4,desiredSize=3")
            && text.contains("--scaling-config minSize=2,maxSize=4,desiredSize=2"),
        "{text}"
    );
}

/// The ECS service of a small stack, with `extra` (autoscaling) and `replicas` tasks.
fn ecs(replicas: u32, extra: &str) -> String {
    ecs_stack(
        "tally",
        &format!(
            "services:
  - name: api
    image: example/api:1.0.0
    port: 8080
    replicas: {replicas}
    task: {{ cpu: 256, memory: 512 }}
{extra}environments:
  production: {{}}
"
        ),
    )
}

fn ecs_service(yaml: &str) -> Value {
    let out = synth_aws("tally", yaml).unwrap();
    resources(&out, "infra", "aws_ecs_service").remove(0)
}

/// An ECS service without autoscaling runs `replicas` tasks: a new count must reach
/// `desired_count`. It was in `ignore_changes` for every service, so `replicas: 2 → 4` in a
/// pull request changed nothing in the running service. With autoscaling, Application Auto
/// Scaling owns the count, and the diff says the new initial count is not applied.
#[test]
fn an_ecs_service_gets_its_new_task_count_unless_it_autoscales() {
    let fixed = ecs_service(&ecs(2, ""));
    assert!(!ignores(&fixed, "desired_count"), "{fixed:#}");
    let text = diff_text("aws", &ecs(2, ""), &ecs(4, ""));
    assert!(text.contains("    desired_count: 2 → 4"), "{text}");

    let scaled = "    autoscaling: { min: 2, max: 6, cpu_percent: 70 }\n";
    assert!(ignores(&ecs_service(&ecs(2, scaled)), "desired_count"));
    let text = diff_text("aws", &ecs(2, scaled), &ecs(4, scaled));
    assert!(
        text.contains("desired_count 2 → 4 is not applied")
            && text.contains("the service autoscales"),
        "{text}"
    );
}
