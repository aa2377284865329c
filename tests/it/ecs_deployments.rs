//! ECS's own blue/green and canary deployments (`rollout.strategy` on `ecs_fargate`): behind
//! the load balancer a second target group health-checked like the first, one production
//! listener rule forwarding to both that ECS re-weights (and Terraform leaves alone after
//! creation), an infrastructure role ECS can assume with the managed policy, and the
//! service's advanced configuration pointing at exactly those; through Service Connect the
//! strategy alone; what ECS cannot do refused or warned about; rolling services unchanged.

use serde_json::Value;

use crate::support::{ecs_stack, resources, synth_aws};

const LB: &str = "load_balancer:
  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/tiny\" }
  health_check: { path: /health, interval: 15, healthy_threshold: 3 }
";

/// `web` at `/` (the listener's default when rolling), `api` at `/api`, `plain` rolling at
/// `/plain`, with `web`'s and `api`'s rollouts given.
fn stack(web: &str, api: &str) -> String {
    ecs_stack(
        "bg",
        &format!(
            "{LB}services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: / }}]
    rollout: {web}
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: /api }}]
    rollout: {api}
  - name: plain
    image: ghcr.io/acme/plain:1.0.0
    port: 9000
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: /plain }}]
"
        ),
    )
}

fn synth(yaml: &str) -> infragen::Output {
    synth_aws("bg", yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// The body of resource `ty.name` in `terraform/infra`.
fn resource(out: &infragen::Output, ty: &str, name: &str) -> Option<Value> {
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with("terraform/infra/"))
        .find_map(|(_, t)| {
            let doc: Value = serde_json::from_str(t).unwrap();
            doc.pointer(&format!("/resource/{ty}/{name}")).cloned()
        })
}

fn must(out: &infragen::Output, ty: &str, name: &str) -> Value {
    resource(out, ty, name).unwrap_or_else(|| panic!("no {ty}.{name}"))
}

/// The target groups a listener rule (or the listener's default action) forwards to, with
/// their weights (a plain `target_group_arn` weighs 1).
fn forwards(action: &Value) -> Vec<(String, i64)> {
    if let Some(tg) = action["target_group_arn"].as_str() {
        return vec![(tg.to_string(), 1)];
    }
    action["forward"]["target_group"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|t| {
                    (
                        t["arn"].as_str().unwrap().to_string(),
                        t["weight"].as_i64().unwrap_or(1),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The listener rules (by resource name) that forward any traffic to target group `tg`.
fn rules_forwarding_to(out: &infragen::Output, tg: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap();
    doc["resource"]["aws_lb_listener_rule"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| {
            r["action"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| forwards(a).iter().any(|(t, _)| t == tg))
        })
        .map(|(n, _)| n.clone())
        .collect()
}

fn arn(ty: &str, name: &str) -> String {
    format!("${{{ty}.{name}.arn}}")
}

#[test]
fn blue_green_behind_the_load_balancer_gets_a_second_group_a_rule_and_a_role() {
    let out = synth(&stack("{ strategy: blue_green }", "{ strategy: rolling }"));
    let primary = must(&out, "aws_lb_target_group", "web");
    let alternate = must(&out, "aws_lb_target_group", "web_alternate");

    // The new revision is health-checked exactly as the live one, on the same port.
    assert_eq!(alternate["health_check"], primary["health_check"]);
    assert_eq!(alternate["health_check"]["path"], "/health");
    for key in [
        "port",
        "protocol",
        "protocol_version",
        "target_type",
        "vpc_id",
        "deregistration_delay",
    ] {
        assert_eq!(alternate[key], primary[key], "{key}");
    }
    assert_ne!(alternate["name"], primary["name"]);
    assert!(alternate["name"].as_str().unwrap().len() <= 32);

    // Exactly one rule reaches either group: the production rule, all traffic to the primary.
    let web_tg = arn("aws_lb_target_group", "web");
    let alt_tg = arn("aws_lb_target_group", "web_alternate");
    assert_eq!(
        rules_forwarding_to(&out, &web_tg),
        vec!["web_production".to_string()]
    );
    assert_eq!(
        rules_forwarding_to(&out, &alt_tg),
        vec!["web_production".to_string()]
    );
    let rule = must(&out, "aws_lb_listener_rule", "web_production");
    let mut weights = forwards(&rule["action"][0]);
    weights.sort();
    let mut expected = vec![(web_tg.clone(), 100), (alt_tg.clone(), 0)];
    expected.sort();
    assert_eq!(weights, expected);
    // `web` routes `/` for every host: a rule matching every path (ECS re-weights a rule,
    // never an ALB listener's default action), which no other rule precedes for `/`; the
    // listener's default action still forwards to the primary (so that `/` stays served while
    // a service switching to blue/green gets its rule).
    assert_eq!(
        rule["condition"],
        serde_json::json!([{"path_pattern": {"values": ["/*"]}}])
    );
    let listener = must(&out, "aws_lb_listener", "https");
    assert_eq!(
        forwards(&listener["default_action"][0]),
        vec![(web_tg.clone(), 1)]
    );

    // The infrastructure role: ECS (the service principal, nothing else) may assume it, and
    // it carries ECS's managed policy for load balancers.
    let role = must(&out, "aws_iam_role", "ecs_infrastructure");
    let trust: Value = serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        statements[0]["Principal"],
        serde_json::json!({"Service": "ecs.amazonaws.com"})
    );
    let attachments = resources(&out, "infra", "aws_iam_role_policy_attachment");
    assert!(
        attachments
            .iter()
            .any(|a| a["role"] == "${aws_iam_role.ecs_infrastructure.id}"
                && a["policy_arn"]
                    == "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")
    );

    // The service points at exactly those, and is created after the rule and the policy.
    let service = must(&out, "aws_ecs_service", "web");
    assert_eq!(
        service["deployment_configuration"]["strategy"],
        "BLUE_GREEN"
    );
    let bake: u32 = service["deployment_configuration"]["bake_time_in_minutes"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0..=1440).contains(&bake));
    let lbs = service["load_balancer"].as_array().unwrap();
    assert_eq!(lbs.len(), 1);
    assert_eq!(lbs[0]["target_group_arn"], web_tg);
    assert_eq!(
        lbs[0]["advanced_configuration"],
        serde_json::json!({
            "alternate_target_group_arn": alt_tg,
            "production_listener_rule": arn("aws_lb_listener_rule", "web_production"),
            "role_arn": arn("aws_iam_role", "ecs_infrastructure"),
        })
    );
    let depends: Vec<&str> = service["depends_on"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        depends.contains(&"aws_lb_listener_rule.web_production"),
        "{depends:?}"
    );
    assert!(
        depends.contains(&"aws_iam_role_policy_attachment.ecs_infrastructure"),
        "{depends:?}"
    );
    // Failure detection stays as the blueprint says (ECS's applies to blue/green too).
    assert_eq!(service["deployment_circuit_breaker"]["rollback"], true);
}

/// ECS rewrites the production rule's forward action at each deployment (the weights, and
/// the plain target group becomes a weighted list): everything it writes is under `action`,
/// which Terraform ignores after creation; the rule's conditions and priority stay Terraform's.
/// A new target group (a new port) replaces the rule, so the action then names the new groups.
#[test]
fn terraform_leaves_the_weights_to_ecs() {
    let out = synth(&stack("{ strategy: rolling }", "{ strategy: blue_green }"));
    let rule = must(&out, "aws_lb_listener_rule", "api_production");
    let ignored: Vec<&str> = rule["lifecycle"]["ignore_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // What ECS changes after a deployment: the forward action's target groups and weights.
    let mut after_deployment = rule.clone();
    after_deployment["action"][0]["forward"]["target_group"][0]["weight"] = 0.into();
    after_deployment["action"][0]["forward"]["target_group"][1]["weight"] = 100.into();
    let changed: Vec<&String> = rule
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| rule[k.as_str()] != after_deployment[k.as_str()])
        .collect();
    assert!(!changed.is_empty());
    for key in changed {
        assert!(ignored.contains(&key.as_str()), "{key} not ignored");
    }
    for kept in ["condition", "priority", "listener_arn"] {
        assert!(!ignored.contains(&kept), "{kept} must stay managed");
    }
    assert_eq!(
        rule["lifecycle"]["replace_triggered_by"],
        serde_json::json!([
            "aws_lb_target_group.api.id",
            "aws_lb_target_group.api_alternate.id"
        ])
    );
    // `api` is not the default service: its own path rule, and the listener still forwards
    // `/` to the rolling `web`.
    assert_eq!(
        forwards(&must(&out, "aws_lb_listener", "https")["default_action"][0]),
        vec![(arn("aws_lb_target_group", "web"), 1)]
    );
}

#[test]
fn canary_takes_the_blueprints_weight() {
    let out = synth(&stack(
        "{ strategy: rolling }",
        "{ strategy: canary, canary_weight: 20 }",
    ));
    let config = &must(&out, "aws_ecs_service", "api")["deployment_configuration"];
    assert_eq!(config["strategy"], "CANARY");
    assert_eq!(config["canary_configuration"]["canary_percent"], 20);
    assert!(config["canary_configuration"]["canary_bake_time_in_minutes"].is_string());
    assert!(config["bake_time_in_minutes"].is_string());
    assert!(resource(&out, "aws_lb_target_group", "api_alternate").is_some());

    // Without a weight, Kubernetes' default share (10 %).
    let out = synth(&stack("{ strategy: rolling }", "{ strategy: canary }"));
    let config = &must(&out, "aws_ecs_service", "api")["deployment_configuration"];
    assert_eq!(config["canary_configuration"]["canary_percent"], 10);

    // The bake times the blueprint gives (ECS takes 0–1440 minutes; more is refused there).
    let out = synth(&stack(
        "{ strategy: blue_green, bake_minutes: 0 }",
        "{ strategy: canary, bake_minutes: 30, canary_minutes: 45 }",
    ));
    let web = &must(&out, "aws_ecs_service", "web")["deployment_configuration"];
    assert_eq!(web["bake_time_in_minutes"], "0");
    let api = &must(&out, "aws_ecs_service", "api")["deployment_configuration"];
    assert_eq!(api["bake_time_in_minutes"], "30");
    assert_eq!(
        api["canary_configuration"]["canary_bake_time_in_minutes"],
        "45"
    );
    let err = synth_aws(
        "bg",
        &stack(
            "{ strategy: rolling }",
            "{ strategy: canary, canary_minutes: 1441 }",
        ),
    )
    .unwrap_err();
    assert!(err.contains("services[1].rollout.canary_minutes"), "{err}");
}

#[test]
fn rolling_services_are_unchanged() {
    let out = synth(&stack("{ strategy: rolling }", "{ strategy: blue_green }"));
    // Rolling, said explicitly (the provider's block is optional and computed: left out, a
    // service switched back from blue/green would keep ECS's blue/green strategy).
    let rolling = serde_json::json!({"strategy": "ROLLING"});
    for name in ["web", "plain"] {
        let service = must(&out, "aws_ecs_service", name);
        assert_eq!(service["deployment_configuration"], rolling, "{name}");
        assert!(
            service["load_balancer"][0]
                .get("advanced_configuration")
                .is_none()
        );
        assert!(resource(&out, "aws_lb_target_group", &format!("{name}_alternate")).is_none());
    }
    let plain = must(&out, "aws_lb_listener_rule", "plain");
    assert_eq!(
        forwards(&plain["action"][0]),
        vec![(arn("aws_lb_target_group", "plain"), 1)]
    );
    assert!(plain.get("lifecycle").is_none());

    // With no blue/green or canary service behind the load balancer, no role either.
    let out = synth(&stack("{ strategy: rolling }", "{ strategy: rolling }"));
    assert!(resource(&out, "aws_iam_role", "ecs_infrastructure").is_none());
    assert!(
        resources(&out, "infra", "aws_ecs_service")
            .iter()
            .all(|s| s["deployment_configuration"] == rolling)
    );
}

/// Both target groups hold the live tasks in turn: both are watched for unhealthy targets.
#[test]
fn both_groups_are_watched() {
    let out = synth(&stack("{ strategy: blue_green }", "{ strategy: rolling }"));
    let alarms = resources(&out, "infra", "aws_cloudwatch_metric_alarm");
    let watched: Vec<&str> = alarms
        .iter()
        .filter(|a| a["metric_name"] == "UnHealthyHostCount")
        .map(|a| a["dimensions"]["TargetGroup"].as_str().unwrap())
        .collect();
    for tg in ["web", "web_alternate", "api", "plain"] {
        let suffix = format!("${{aws_lb_target_group.{tg}.arn_suffix}}");
        assert!(watched.contains(&suffix.as_str()), "{tg}: {watched:?}");
    }
}

/// Services without routes: a canary through Service Connect, a blue/green worker, and a
/// canary with no traffic at all (rolling, with a warning).
#[test]
fn without_a_load_balancer() {
    let yaml = ecs_stack(
        "bg",
        "services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: { cpu: 256, memory: 512 }
    rollout: { strategy: canary, canary_weight: 25 }
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    task: { cpu: 256, memory: 512 }
    uses: [api]
    rollout: { strategy: canary }
  - name: worker
    image: ghcr.io/acme/worker:1.0.0
    task: { cpu: 256, memory: 512 }
    rollout: { strategy: blue_green }
",
    );
    let out = synth(&yaml);
    // `api` is published through Service Connect: ECS shifts in the proxies.
    let api = must(&out, "aws_ecs_service", "api");
    assert_eq!(api["deployment_configuration"]["strategy"], "CANARY");
    assert_eq!(
        api["deployment_configuration"]["canary_configuration"]["canary_percent"],
        25
    );
    assert!(api["service_connect_configuration"]["service"].is_array());
    assert!(api.get("load_balancer").is_none());
    // `worker`: headless blue/green.
    let worker = must(&out, "aws_ecs_service", "worker");
    assert_eq!(worker["deployment_configuration"]["strategy"], "BLUE_GREEN");
    // `web` has no traffic to split: rolling, and said so.
    let web = must(&out, "aws_ecs_service", "web");
    assert_eq!(web["deployment_configuration"]["strategy"], "ROLLING");
    let warned: Vec<&str> = out
        .notes
        .iter()
        .filter(|n| n.rule == Some("ecs-rollout-rolling"))
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("`web`"));
    // Nothing behind a load balancer: no infrastructure role.
    assert!(resource(&out, "aws_iam_role", "ecs_infrastructure").is_none());
}

/// What ECS cannot do with one production rule and two target groups is refused where the
/// blueprint says it, with exit status 2 from the command line.
#[test]
fn what_ecs_cannot_shift_is_refused_where_it_is_written() {
    let many_rules = stack("{ strategy: rolling }", "{ strategy: blue_green }").replace(
        "    routes: [{ path: /api }]\n",
        "    routes: [{ path: /api }, { host: api.example.com, path: / }]\n",
    );
    let err = synth_aws("bg", &many_rules).unwrap_err();
    assert!(err.contains("services[1].rollout.strategy"), "{err}");
    assert!(err.contains("2 rules"), "{err}");
    // Positioned at the strategy's value.
    let line = many_rules
        .lines()
        .position(|l| l.contains("blue_green"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("bg.yaml:{line}:")), "{err}");

    let scaled = stack("{ strategy: rolling }", "{ strategy: canary }").replace(
        "    routes: [{ path: /api }]\n",
        "    routes: [{ path: /api }]\n    autoscaling: { min: 1, max: 4, requests: { target: 100 } }\n",
    );
    let err = synth_aws("bg", &scaled).unwrap_err();
    assert!(err.contains("services[1].autoscaling.requests"), "{err}");

    // A host and a path fit one rule: accepted.
    let one_rule = stack("{ strategy: rolling }", "{ strategy: blue_green }").replace(
        "    routes: [{ path: /api }]\n",
        "    routes: [{ host: api.example.com, path: /api }]\n",
    );
    let out = synth(&one_rule);
    assert_eq!(
        rules_forwarding_to(&out, &arn("aws_lb_target_group", "api_alternate")),
        vec!["api_production".to_string()]
    );

    // The command line: exit 2, never a panic.
    let dir = std::env::temp_dir().join(format!("infragen-bg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bg.yaml");
    std::fs::write(&file, &many_rules).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args([
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--blueprint",
        ])
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(status.status.code(), Some(2));
}

/// With no service routing `/`, the listener answers 404 itself: ELB's action type is
/// `fixed-response` (the provider refuses Terraform's block name `fixed_response` there).
#[test]
fn a_listener_without_a_default_service_answers_404() {
    let out = synth(
        &stack("{ strategy: rolling }", "{ strategy: rolling }").replace(
            "    routes: [{ path: / }]\n",
            "    routes: [{ path: /web }]\n",
        ),
    );
    let default = &must(&out, "aws_lb_listener", "https")["default_action"][0];
    assert_eq!(default["type"], "fixed-response");
    assert_eq!(default["fixed_response"]["status_code"], "404");
}

/// Switching a running service from rolling to blue/green: Terraform must not update the
/// rule's action in place (it ignores `action` once ECS owns it, so the update would be
/// dropped and ECS would find the alternate group on no rule). The production rule is a new
/// resource beside the old one, on another priority (both exist for a moment, and priorities
/// are unique per listener), with the same conditions; the old one is destroyed.
#[test]
fn switching_to_blue_green_creates_a_new_rule_beside_the_old() {
    let rolling = synth(&stack("{ strategy: rolling }", "{ strategy: rolling }"));
    let blue_green = synth(&stack("{ strategy: rolling }", "{ strategy: blue_green }"));
    let old = must(&rolling, "aws_lb_listener_rule", "api");
    let new = must(&blue_green, "aws_lb_listener_rule", "api_production");
    assert!(resource(&blue_green, "aws_lb_listener_rule", "api").is_none());
    assert!(resource(&rolling, "aws_lb_listener_rule", "api_production").is_none());
    assert_eq!(old["condition"], new["condition"]);
    assert_ne!(old["priority"], new["priority"]);
    // The other rule keeps its priority.
    assert_eq!(
        must(&rolling, "aws_lb_listener_rule", "plain")["priority"],
        must(&blue_green, "aws_lb_listener_rule", "plain")["priority"]
    );
    // Until ECS's first deployment, the new rule sends everything to the same group as the old.
    assert_eq!(
        forwards(&old["action"][0]),
        vec![(arn("aws_lb_target_group", "api"), 1)]
    );
    assert!(
        forwards(&new["action"][0])
            .iter()
            .all(|(tg, w)| (tg == &arn("aws_lb_target_group", "api")) == (*w > 0))
    );
    // Back to rolling, the service says ROLLING (a vanished block would change nothing).
    assert_eq!(
        must(&rolling, "aws_ecs_service", "api")["deployment_configuration"]["strategy"],
        "ROLLING"
    );
}

/// Whether Terraform keeps the value the service was created with for `attribute`.
fn ignored(service: &Value, attribute: &str) -> bool {
    service["lifecycle"]["ignore_changes"]
        .as_array()
        .is_some_and(|l| l.iter().any(|a| a == attribute))
}

/// A release (an apply that changes the task definition) must leave the target groups to
/// ECS. The provider refreshes the service's `load_balancer` from DescribeServices and sends
/// UpdateService `loadBalancers` whenever that differs from the configuration, as the
/// configuration writes it; once ECS's deployment has moved the live tasks (and reports the
/// pair the other way round) that apply would name the live group as the one to deploy into,
/// and the deployment would not alternate (hashicorp/terraform-provider-aws#45678). So the
/// service's `load_balancer` is Terraform's only at creation, for blue/green and canary
/// behind the load balancer, beside autoscaling's `desired_count`; rolling services and those
/// without a load balancer keep theirs.
#[test]
fn a_release_leaves_the_target_groups_to_ecs() {
    let yaml = stack(
        "{ strategy: blue_green }",
        "{ strategy: canary, canary_weight: 20 }",
    )
    .replace(
        "  - name: api\n",
        "  - name: api\n    autoscaling: { min: 2, max: 4, cpu_percent: 60 }\n",
    );
    let out = synth(&yaml);
    for name in ["web", "api"] {
        let service = must(&out, "aws_ecs_service", name);
        // What the provider would read back after ECS's first deployment, if ECS reports the
        // live group first: the pair swapped. Terraform would send the configuration's pair.
        let mut swapped = service["load_balancer"].clone();
        let lb = &mut swapped[0];
        let primary = lb["target_group_arn"].take();
        lb["target_group_arn"] = lb["advanced_configuration"]["alternate_target_group_arn"].take();
        lb["advanced_configuration"]["alternate_target_group_arn"] = primary;
        assert_ne!(swapped, service["load_balancer"], "{name}");
        assert!(ignored(&service, "load_balancer"), "{name}: {service}");
        // What the hold would let pass silently (a new container or port, no advanced
        // configuration at ECS) fails the plan, where the planned value is ECS's: checked
        // on those, never on which group is primary (ECS's to swap).
        let postcondition = &service["lifecycle"]["postcondition"][0];
        let condition = postcondition["condition"].as_str().unwrap();
        let lb = &service["load_balancer"][0];
        for check in [
            format!("lb.container_name == {}", lb["container_name"]),
            format!("lb.container_port == {}", lb["container_port"]),
            "length(lb.advanced_configuration) > 0".to_string(),
        ] {
            assert!(condition.contains(&check), "{name}: {check}: {condition}");
        }
        assert!(condition.starts_with("${") && condition.contains("self.load_balancer"));
        assert!(!condition.contains("target_group_arn"), "{condition}");
        assert!(
            postcondition["error_message"]
                .as_str()
                .unwrap()
                .contains("infragen diff")
        );
        // Only that: the task definition, the strategy and the rest still reach ECS.
        for kept in [
            "task_definition",
            "deployment_configuration",
            "network_configuration",
        ] {
            assert!(!ignored(&service, kept), "{name}: {kept}");
        }
    }
    assert!(ignored(
        &must(&out, "aws_ecs_service", "api"),
        "desired_count"
    ));
    assert!(!ignored(
        &must(&out, "aws_ecs_service", "plain"),
        "load_balancer"
    ));
    // Published through Service Connect only, or a worker: no load balancer to hold.
    let headless = synth(&ecs_stack(
        "bg",
        "services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: { cpu: 256, memory: 512 }
    rollout: { strategy: blue_green }
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    task: { cpu: 256, memory: 512 }
    uses: [api]
",
    ));
    for name in ["api", "web"] {
        assert!(!ignored(
            &must(&headless, "aws_ecs_service", name),
            "load_balancer"
        ));
    }
}

fn diff_text(base: &str, head: &str) -> String {
    crate::support::diff("aws", "production", base, head).1
}

fn day2(file: &str) -> String {
    std::fs::read_to_string(
        crate::support::root()
            .join("tests/fixtures/day2")
            .join(file),
    )
    .unwrap()
}

/// What an apply cannot change because Terraform holds the service's load balancer, the diff
/// says with the steps (tests/fixtures/day2 rollout chain): switching a running service from
/// rolling gives ECS the alternate group, production rule and role through one
/// `aws ecs update-service` between a targeted and a full apply; a new port on a service that
/// stays blue/green or canary goes through rolling. A release (a new image) and switching back
/// to rolling (whose load balancer Terraform sends) need no such step.
#[test]
fn diff_gives_the_steps_an_apply_cannot_take() {
    let onto = diff_text(
        &day2("rollout-0-base.yaml"),
        &day2("rollout-1-blue-green.yaml"),
    );
    for (service, port) in [("web", 3000), ("api", 8080)] {
        let note = onto
            .lines()
            .find(|l| l.contains(&format!("aws_ecs_service.{service}: switched from rolling")))
            .unwrap_or_else(|| panic!("{service}: {onto}"));
        assert!(
            note.contains(&format!(
                "terraform apply -target=aws_lb_listener_rule.{service}_production -target=aws_iam_role_policy_attachment.ecs_infrastructure -target=aws_ecs_task_definition.{service}`"
            )),
            "{note}"
        );
        // The command gives ECS exactly what the configuration holds, in the API's names.
        let json = note
            .split("--load-balancers '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or_else(|| panic!("{note}"));
        let lbs: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(
            lbs,
            serde_json::json!([{
                "targetGroupArn": format!("<aws_lb_target_group.{service}.arn>"),
                "containerName": service,
                "containerPort": port,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": format!("<aws_lb_target_group.{service}_alternate.arn>"),
                    "productionListenerRule": format!("<aws_lb_listener_rule.{service}_production.arn>"),
                    "roleArn": "<aws_iam_role.ecs_infrastructure.arn>",
                },
            }])
        );
        assert!(
            note.contains(&format!(
                "--service {service} --task-definition <aws_ecs_task_definition.{service}.arn>"
            )),
            "{note}"
        );
    }

    let ports = diff_text(
        &day2("rollout-1-blue-green.yaml"),
        &day2("rollout-2-ports.yaml"),
    );
    for (service, from, to) in [("web", 3000, 3001), ("api", 8080, 8081)] {
        assert!(
            ports.contains(&format!(
                "aws_ecs_service.{service}: its load balancer changes (container_port {from} → {to})"
            )),
            "{service}: {ports}"
        );
    }
    assert!(ports.contains("Switch the service to `strategy: rolling` in the same change"));

    let held = "Terraform ignores the `load_balancer` of a blue/green or canary service";
    let back = diff_text(
        &day2("rollout-2-ports.yaml"),
        &day2("rollout-3-rolling.yaml"),
    );
    assert!(!back.contains(held), "{back}");
    let release = day2("rollout-1-blue-green.yaml").replace("web:1.0.0", "web:1.1.0");
    assert_ne!(release, day2("rollout-1-blue-green.yaml"));
    let released = diff_text(&day2("rollout-1-blue-green.yaml"), &release);
    assert!(
        released.contains("aws_ecs_task_definition.web"),
        "{released}"
    );
    assert!(!released.contains(held), "{released}");
}
