//! Security group names as EC2 takes them: `CreateSecurityGroup` refuses a `GroupName` that
//! starts with `sg-` ("Constraints: Up to 255 characters in length. Cannot start with sg-.",
//! EC2 API Reference), and every group infragen creates is named after the blueprint
//! (`<name>-<component>-sg`, `<name>-<env>-<component>-sg` in an existing VPC).

use crate::support::{ecs_stack, resources, synth_aws};

const SERVICE: &str = "services:
  - name: api
    image: nginxinc/nginx-unprivileged:1.27.3
    port: 8080
";

#[test]
fn a_blueprint_name_that_would_start_every_group_name_with_sg_is_refused_at_name() {
    for name in ["sg", "sg-shop"] {
        let err = synth_aws(name, &ecs_stack(name, SERVICE)).unwrap_err();
        assert!(err.contains("`name`"), "{err}");
        assert!(err.contains("starts with `sg-`"), "{err}");
    }
    for name in ["sgshop", "shop-sg", "shop"] {
        let out = synth_aws(name, &ecs_stack(name, SERVICE)).unwrap();
        let groups = resources(&out, "infra", "aws_security_group");
        assert!(!groups.is_empty());
        for g in groups {
            let n = g["name"].as_str().unwrap();
            assert!(!n.starts_with("sg-") && n.len() <= 255, "{n}");
        }
    }
}

/// The load balancer's group (`<name>-alb-sg`) and the interface endpoints' group
/// (`<name>-vpc-endpoints-sg`) are named like a component's: a service, job or data service
/// of that name would give a second group the same name in the VPC
/// (`InvalidGroup.Duplicate` at apply). Refused at the component's name, where the old
/// output reached only the collision check's "defect in infragen" message.
#[test]
fn components_named_like_the_load_balancer_or_endpoint_groups_are_refused_at_their_name() {
    let private = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/workloads/private-ecs.yaml"),
    )
    .unwrap();
    assert!(private.contains("  - name: worker\n"), "fixture changed");
    for (name, what) in [
        ("vpc-endpoints", "interface VPC endpoints"),
        ("alb", "load balancer"),
        ("vault-alb", "load balancer"),
    ] {
        let text = private.replacen("  - name: worker\n", &format!("  - name: {name}\n"), 1);
        let err = synth_aws("x", &text).unwrap_err();
        assert!(err.contains("`services[1].name`"), "{err}");
        assert!(err.contains(what), "{err}");
        assert!(!err.contains("defect in infragen"), "{err}");
    }
    // Without interface endpoints there is no such group, and the name is free.
    let free = ecs_stack("shop", &SERVICE.replace("name: api", "name: vpc-endpoints"));
    let out = synth_aws("shop", &free).unwrap();
    let names: Vec<String> = resources(&out, "infra", "aws_security_group")
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"shop-vpc-endpoints-sg".to_string()),
        "{names:?}"
    );
}

/// EKS pods have no security group of their own and the AWS Load Balancer Controller makes
/// the load balancer's: a service named `alb` there takes no group name, and stays accepted.
#[test]
fn an_eks_service_named_alb_is_accepted() {
    let eks = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/workloads/grpc-eks.yaml"),
    )
    .unwrap();
    let marker = "services:\n";
    assert!(
        eks.contains("load_balancer:") && eks.contains(marker),
        "fixture changed"
    );
    let with = eks.replacen(
        marker,
        "services:\n  - name: alb\n    image: 123456789012.dkr.ecr.eu-central-1.amazonaws.com/grpc/web:1.0.0\n    port: 8080\n    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { cpu: 500m, memory: 256Mi } }\n",
        1,
    );
    synth_aws("x", &with).unwrap();
}
