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
