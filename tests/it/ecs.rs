//! ECS on Fargate: what the ECS and ELB APIs refuse is refused at synth, where it is written
//! (`src/semantic/ecs.rs`), and what the output creates would start and be reachable. Each
//! test fails on the output before its fix.

use infragen::Provider;
use serde_json::Value;

use crate::support::root;

/// A small ECS stack: one service behind the load balancer, one job.
fn stack() -> String {
    crate::support::ecs_stack(
        "tiny",
        "load_balancer:
  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/tiny\" }
  health_check: { path: /health }
services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: { cpu: 512, memory: 1024 }
    health_check:
      command: [CMD-SHELL, \"wget -qO- http://localhost:8080/health || exit 1\"]
    routes: [{ path: / }]
jobs:
  - name: nightly
    image: ghcr.io/acme/nightly:1.0.0
    schedule: \"0 3 * * *\"
    task: { cpu: 256, memory: 512 }
",
    )
}

fn synth(yaml: &str) -> Result<infragen::Output, String> {
    crate::support::synth_aws("tiny", yaml)
}

/// `yaml` with `from` replaced once (which must be there).
fn with(yaml: &str, from: &str, to: &str) -> String {
    assert!(yaml.contains(from), "`{from}` is not in the stack");
    yaml.replacen(from, to, 1)
}

#[test]
fn the_stack_synthesizes() {
    synth(&stack()).unwrap();
}

/// RegisterTaskDefinition refuses CPU/memory pairs Fargate does not offer ("No Fargate
/// configuration exists for given values").
#[test]
fn fargate_task_sizes_are_the_ones_fargate_runs() {
    for (from, to, field) in [
        (
            "cpu: 512, memory: 1024",
            "cpu: 512, memory: 512",
            "services[0].task.memory",
        ),
        (
            "cpu: 512, memory: 1024",
            "cpu: 512, memory: 1536",
            "services[0].task.memory",
        ),
        (
            "cpu: 512, memory: 1024",
            "cpu: 1024, memory: 1024",
            "services[0].task.memory",
        ),
        (
            "cpu: 512, memory: 1024",
            "cpu: 300, memory: 1024",
            "services[0].task.cpu",
        ),
        (
            "cpu: 256, memory: 512",
            "cpu: 256, memory: 4096",
            "jobs[0].task.memory",
        ),
        (
            "cpu: 256, memory: 512",
            "cpu: 8192, memory: 18432",
            "jobs[0].task.memory",
        ),
    ] {
        let err = synth(&with(&stack(), from, to)).unwrap_err();
        assert!(err.contains(field), "{to}: {err}");
        assert!(err.contains("Fargate"), "{to}: {err}");
    }
    for ok in [
        "cpu: 256, memory: 2048",
        "cpu: 2048, memory: 16384",
        "cpu: 4096, memory: 30720",
        "cpu: 8192, memory: 61440",
        "cpu: 16384, memory: 32768",
    ] {
        synth(&with(&stack(), "cpu: 512, memory: 1024", ok))
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

/// The error points at the line of the field.
#[test]
fn a_task_size_error_is_positioned() {
    let yaml = with(&stack(), "cpu: 512, memory: 1024", "cpu: 512, memory: 640");
    let err = synth(&yaml).unwrap_err();
    let line = yaml
        .lines()
        .position(|l| l.contains("memory: 640"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("tiny.yaml:{line}:")), "{err}");
}

/// The Fargate table, written out independently of `src/semantic/ecs.rs`.
fn fargate(cpu: u32, memory: u32) -> bool {
    let gib = memory / 1024;
    match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => memory.is_multiple_of(1024) && (1..=4).contains(&gib),
        1024 => memory.is_multiple_of(1024) && (2..=8).contains(&gib),
        2048 => memory.is_multiple_of(1024) && (4..=16).contains(&gib),
        4096 => memory.is_multiple_of(1024) && (8..=30).contains(&gib),
        8192 => memory.is_multiple_of(4096) && (16..=60).contains(&gib),
        16384 => memory.is_multiple_of(8192) && (32..=120).contains(&gib),
        _ => false,
    }
}

/// Every AWS output of the matrix that has ECS services: its blueprint's path, the output
/// and its `terraform/infra/ecs.tf.json`.
fn ecs_outputs() -> Vec<(std::path::PathBuf, infragen::Output, Value)> {
    let mut all = Vec::new();
    for (_, path, p, env) in crate::support::matrix() {
        if p != Provider::Aws {
            continue;
        }
        let out = crate::support::synth(&path, p, &env);
        let Some(text) = out.files.get("terraform/infra/ecs.tf.json") else {
            continue;
        };
        let ecs: Value = serde_json::from_str(text).unwrap();
        all.push((path, out, ecs));
    }
    all
}

/// The first `preconditions.json` entry of `kind`.
fn precondition(out: &infragen::Output, kind: &str) -> Value {
    let pre: Value = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
    pre.as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} in {pre}"))
}

/// The task definitions of an `ecs.tf.json`, by name.
fn task_definitions(ecs: &Value) -> impl Iterator<Item = (&String, &Value)> {
    ecs.pointer("/resource/aws_ecs_task_definition")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// Every shipped ECS blueprint's tasks already use sizes Fargate runs.
#[test]
fn shipped_task_sizes_are_fargate_sizes() {
    let mut seen = 0;
    for (path, _, ecs) in ecs_outputs() {
        for (td, body) in task_definitions(&ecs) {
            let cpu: u32 = body["cpu"].as_str().unwrap().parse().unwrap();
            let memory: u32 = body["memory"].as_str().unwrap().parse().unwrap();
            seen += 1;
            assert!(
                fargate(cpu, memory),
                "{}: {td}: {cpu}/{memory}",
                path.display()
            );
        }
    }
    assert!(seen > 0, "no ECS task definition in the shipped blueprints");
}

/// ECS takes a health check command starting with CMD or CMD-SHELL, an interval of 5–300 s,
/// a timeout of 2–60 s, 1–10 retries and a start period of 0–300 s.
#[test]
fn container_health_checks_are_ones_ecs_accepts() {
    let hc = "command: [CMD-SHELL, \"wget -qO- http://localhost:8080/health || exit 1\"]";
    for (to, field) in [
        (
            "command: [\"curl -f http://localhost:8080/health\"]",
            "health_check.command",
        ),
        ("command: [CMD-SHELL]", "health_check.command"),
        (&format!("{hc}\n      interval: 2"), "health_check.interval"),
        (&format!("{hc}\n      timeout: 90"), "health_check.timeout"),
        (&format!("{hc}\n      retries: 0"), "health_check.retries"),
        (
            &format!("{hc}\n      start_period: 600"),
            "health_check.start_period",
        ),
    ] {
        let err = synth(&with(&stack(), hc, to)).unwrap_err();
        assert!(err.contains(&format!("services[0].{field}")), "{to}: {err}");
    }
    let ok = format!(
        "{hc}\n      interval: 30\n      timeout: 5\n      retries: 3\n      start_period: 60"
    );
    synth(&with(&stack(), hc, &ok)).unwrap();
}

/// ELB refuses a health check timeout that is not shorter than the interval, and values
/// outside its ranges.
#[test]
fn target_group_health_checks_are_ones_elb_accepts() {
    let hc = "health_check: { path: /health }";
    for (to, field) in [
        (
            "health_check: { path: /health, interval: 5 }",
            "health_check.timeout",
        ),
        (
            "health_check: { path: /health, interval: 10, timeout: 10 }",
            "health_check.timeout",
        ),
        (
            "health_check: { path: /health, interval: 400 }",
            "health_check.interval",
        ),
        (
            "health_check: { path: /health, healthy_threshold: 1 }",
            "health_check.healthy_threshold",
        ),
        (
            "health_check: { path: /health, unhealthy_threshold: 11 }",
            "health_check.unhealthy_threshold",
        ),
        (
            "health_check: { path: /health, matcher: \"500\" }",
            "health_check.matcher",
        ),
        (
            "health_check: { path: /health }\n  deregistration_delay: 4000",
            "deregistration_delay",
        ),
    ] {
        let err = synth(&with(&stack(), hc, to)).unwrap_err();
        assert!(
            err.contains(&format!("load_balancer.{field}")),
            "{to}: {err}"
        );
    }
    synth(&with(
        &stack(),
        hc,
        "health_check: { path: /health, interval: 10, timeout: 5, healthy_threshold: 2, unhealthy_threshold: 10, matcher: \"200-299\" }",
    ))
    .unwrap();
}

/// Tasks run in private subnets without a public IP and the output creates no VPC
/// endpoints: without NAT they cannot pull images, read secrets or write logs.
#[test]
fn ecs_tasks_need_a_way_out() {
    let err = synth(&with(&stack(), "nat: single", "nat: none")).unwrap_err();
    assert!(err.contains("network.nat"), "{err}");
    // No workloads, nothing to start: `nat: none` is fine.
    let bare = stack();
    let bare = &bare[..bare.find("services:").unwrap()];
    let bare = with(bare, "nat: single", "nat: none");
    let bare = bare.replace(
        "load_balancer:\n  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/tiny\" }\n  health_check: { path: /health }\n",
        "",
    );
    synth(&bare).unwrap();
}

#[test]
fn the_qurable_blueprint_still_passes() {
    let path = root().join("blueprints/qurable-ecs.yaml");
    for env in ["production", "staging"] {
        crate::support::synth(&path, Provider::Aws, env);
    }
}

/// ELB target group names are at most 32 characters and unique in the account and region
/// (DuplicateTargetGroupName): services whose derived names share their first 32 characters
/// still get distinct names.
#[test]
fn target_group_names_fit_and_differ() {
    let extra = "  - name: notification-dispatcher-email
    image: ghcr.io/acme/n:1.0.0
    port: 8080
    routes: [{ path: /email }]
  - name: notification-dispatcher-sms
    image: ghcr.io/acme/n:1.0.0
    port: 8080
    routes: [{ path: /sms }]
jobs:";
    let out = synth(&with(&stack(), "jobs:", extra)).unwrap();
    let edge: Value = serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap();
    let groups = edge["resource"]["aws_lb_target_group"].as_object().unwrap();
    let names: Vec<&str> = groups
        .values()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for n in &names {
        assert!(n.len() <= 32, "{n}");
        assert!(!n.ends_with('-') && !n.starts_with('-'), "{n}");
        assert!(
            n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{n}"
        );
    }
    // Names that fit are kept as they are.
    assert!(names.contains(&"tiny-production-api-8080"), "{names:?}");
}

/// A first deployment whose tasks cannot start stalls under the circuit breaker for good
/// (no completed deployment to roll back to). So every secret a service's task reads either
/// gets its value from Terraform in the same module, or the service waits for it (a
/// `lifecycle.precondition` on a listing of the secret's versions), and every image it pulls
/// from a repository the module creates must be in that repository first.
#[test]
fn services_wait_for_their_secret_values_and_images() {
    let mut checked = (0, 0);
    for (path, out, ecs) in ecs_outputs() {
        // Secrets whose value Terraform writes (caches' AUTH tokens).
        let mut filled = Vec::new();
        for (name, text) in &out.files {
            if name.starts_with("terraform/infra/") {
                let doc: Value = serde_json::from_str(text).unwrap();
                if let Some(v) = doc
                    .pointer("/resource/aws_secretsmanager_secret_version")
                    .and_then(Value::as_object)
                {
                    filled.extend(
                        v.values()
                            .map(|b| b["secret_id"].as_str().unwrap().replace(".id}", ".arn}")),
                    );
                }
            }
        }
        let data = |ty: &str| {
            ecs.pointer(&format!("/data/{ty}"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (versions, images) = (
            data("aws_secretsmanager_secret_versions"),
            data("aws_ecr_images"),
        );
        let Some(services) = ecs
            .pointer("/resource/aws_ecs_service")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, svc) in services {
            let td_name = svc["task_definition"].as_str().unwrap();
            let td_name = td_name
                .trim_start_matches("${aws_ecs_task_definition.")
                .trim_end_matches(".arn}");
            let td = &ecs["resource"]["aws_ecs_task_definition"][td_name];
            let containers: Value =
                serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
            let conditions: Vec<&str> = svc["lifecycle"]["precondition"]
                .as_array()
                .map(|a| a.iter().map(|c| c["condition"].as_str().unwrap()).collect())
                .unwrap_or_default();
            for c in containers.as_array().unwrap() {
                for s in c["secrets"].as_array().into_iter().flatten() {
                    let from = s["valueFrom"].as_str().unwrap();
                    let Some(end) = from.find(".arn}") else {
                        continue;
                    };
                    let arn = &from[..end + 5];
                    if !arn.starts_with("${aws_secretsmanager_secret.")
                        || filled.iter().any(|f| f == arn)
                    {
                        continue; // RDS-managed secrets and Terraform-written tokens have values
                    }
                    let (data_name, _) = versions
                        .iter()
                        .find(|(_, b)| b["secret_id"] == arn)
                        .unwrap_or_else(|| {
                            panic!("{}: {name}: no version listing of {arn}", path.display())
                        });
                    let listing =
                        format!("data.aws_secretsmanager_secret_versions.{data_name}.versions");
                    assert!(
                        conditions.iter().any(|c| c.contains(&listing)),
                        "{}: {name} does not wait for {arn}: {conditions:?}",
                        path.display()
                    );
                    checked.0 += 1;
                }
                let image = c["image"].as_str().unwrap();
                if let Some(rest) = image.strip_prefix("${aws_ecr_repository.") {
                    let (repo, tag) = rest.split_once(".repository_url}:").unwrap();
                    let (data_name, _) = images
                        .iter()
                        .find(|(_, b)| {
                            b["repository_name"] == format!("${{aws_ecr_repository.{repo}.name}}")
                        })
                        .unwrap_or_else(|| {
                            panic!("{}: {name}: no image listing of {repo}", path.display())
                        });
                    let listing = format!(
                        "data.aws_ecr_images.{data_name}.image_ids[*].image_tag, \"{tag}\""
                    );
                    assert!(
                        conditions.iter().any(|c| c.contains(&listing)),
                        "{}: {name} does not wait for {image}: {conditions:?}",
                        path.display()
                    );
                    checked.1 += 1;
                }
            }
        }
        // `preconditions.json` tells the same.
        let pre = &out.files["preconditions.json"];
        if !images.is_empty() {
            assert!(pre.contains("\"EcrImage\""), "{}: {pre}", path.display());
        }
    }
    assert!(
        checked.0 >= 2 && checked.1 >= 1,
        "too little checked: {checked:?}"
    );
}

/// A task that gets a component's password must get its user name too: the qurable service
/// once set its own `DB_PASSWORD`, which left `DB_USERNAME` to it, and it set none.
#[test]
fn tasks_get_every_credential_of_the_databases_they_use() {
    let mut checked = 0;
    for (path, out, ecs) in ecs_outputs() {
        for (td, body) in task_definitions(&ecs) {
            let containers: Value =
                serde_json::from_str(body["container_definitions"].as_str().unwrap()).unwrap();
            for c in containers.as_array().unwrap() {
                let names = |key: &str| -> Vec<String> {
                    c[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| e["name"].as_str().unwrap().to_string())
                        .collect()
                };
                let (env, secrets) = (names("environment"), names("secrets"));
                for var in env.iter().filter(|v| v.ends_with("_DATABASE")) {
                    let prefix = var.trim_end_matches("_DATABASE");
                    for cred in ["USERNAME", "PASSWORD"] {
                        let want = format!("{prefix}_{cred}");
                        assert!(
                            secrets.contains(&want) || env.contains(&want),
                            "{}@{env_name}: {td}: {var} without {want}: {secrets:?}",
                            path.display(),
                            env_name = env_name(&path, &out)
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 0);
}

fn env_name(_: &std::path::Path, out: &infragen::Output) -> String {
    out.files
        .get("terraform/infra/providers.tf.json")
        .and_then(|t| t.split("\"environment\": \"").nth(1))
        .and_then(|t| t.split('"').next())
        .unwrap_or("?")
        .to_string()
}

/// Setting one credential of a component and not the other is warned about.
#[test]
fn a_half_set_credential_is_warned_about() {
    let yaml = with(
        &stack(),
        "jobs:",
        "databases:\n  - name: db\n    engine: postgres\n    size: small\n    storage: { size_gb: 20 }\nsecrets:\n  - name: app-db\njobs:",
    );
    let yaml = with(
        &yaml,
        "    routes: [{ path: / }]",
        "    routes: [{ path: / }]\n    uses: [db]\n    secret_env: [{ name: DB_PASSWORD, secret: app-db }]",
    );
    let out = synth(&yaml).unwrap();
    let warned = |o: &infragen::Output| {
        o.notes
            .iter()
            .any(|n| n.rule == Some("credentials-half-set"))
    };
    assert!(warned(&out), "{:?}", out.notes);
    let both = with(
        &yaml,
        "secret_env: [{ name: DB_PASSWORD, secret: app-db }]",
        "secret_env: [{ name: DB_PASSWORD, secret: app-db }]\n    env: { DB_USERNAME: app }",
    );
    assert!(!warned(&synth(&both).unwrap()));
}

/// With `certificate.domain`, `infra` waits for ACM to issue the certificate, which needs DNS
/// records whose values exist only once that same apply has created the certificate:
/// `preconditions.json` says so, so nobody waits 75 minutes for a timeout.
#[test]
fn a_dns_validated_certificate_is_a_precondition() {
    let yaml = with(
        &stack(),
        "  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/tiny\" }",
        "  certificate: { domain: shop.example.com, alternative_names: [www.shop.example.com] }",
    );
    let out = synth(&yaml).unwrap();
    let entry = precondition(&out, "AcmDnsValidation");
    assert_eq!(entry["name"], "shop.example.com");
    assert_eq!(
        entry["keys"],
        serde_json::json!(["shop.example.com", "www.shop.example.com"])
    );
    // An existing certificate needs nothing.
    let out = synth(&stack()).unwrap();
    assert!(!out.files["preconditions.json"].contains("AcmDnsValidation"));
}

/// The task's container runs as non-root with every capability dropped, so it can bind a port
/// below 1024 only when the task lowers `net.ipv4.ip_unprivileged_port_start`
/// (`systemControls`, which Fargate accepts from platform 1.4.0). Without it the bind fails
/// and the task never passes its health check.
#[test]
fn a_port_below_1024_lowers_the_tasks_unprivileged_port_start() {
    let controls = |yaml: &str| -> Value {
        let out = synth(yaml).unwrap();
        let ecs: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
        let td = &ecs["resource"]["aws_ecs_task_definition"]["api"];
        let containers: Value =
            serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
        containers[0]["systemControls"].clone()
    };
    assert_eq!(controls(&stack()), Value::Null, "port 8080 needs nothing");
    let low = with(&stack(), "    port: 8080\n", "    port: 80\n");
    assert_eq!(
        controls(&low),
        serde_json::json!([{"namespace": "net.ipv4.ip_unprivileged_port_start", "value": "80"}])
    );
}

/// A scheduled job's image in a repository the output creates is listed too: its runs fail
/// until the image is pushed.
#[test]
fn a_jobs_image_in_a_created_repository_is_a_precondition() {
    let yaml = with(
        &stack(),
        "    image: ghcr.io/acme/nightly:1.0.0",
        "    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/reports:2.0.0",
    )
    .replace("cluster:", "registry:\n  repositories: [reports]\ncluster:");
    let out = synth(&yaml).unwrap();
    let entry = precondition(&out, "EcrImage");
    assert_eq!(entry["name"], "reports:2.0.0");
    assert!(
        entry["why"].as_str().unwrap().contains("nightly"),
        "{entry}"
    );
}

/// An Application Load Balancer takes 100 rules by default (an adjustable quota); the 101st
/// fails the apply with TooManyRules, so synth warns past it.
#[test]
fn listener_rules_past_the_quota_are_warned_about() {
    let stack = |n: usize| {
        let mut services = String::from(
            "load_balancer:\n  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/tiny\" }\n  health_check: { path: /health }\nservices:\n",
        );
        for i in 0..n {
            services.push_str(&format!(
                "  - {{ name: s{i}, image: \"ghcr.io/acme/s:1.0.0\", port: 8080, task: {{ cpu: 256, memory: 512 }}, routes: [{{ path: /s{i} }}] }}\n"
            ));
        }
        crate::support::ecs_stack("many", &services)
    };
    let warned = |n: usize| {
        let out = synth(&stack(n)).unwrap();
        let rules: Value =
            serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap();
        let count = rules["resource"]["aws_lb_listener_rule"]
            .as_object()
            .unwrap()
            .len();
        let warned = out
            .notes
            .iter()
            .any(|n| n.rule == Some("alb-rules-quota") && n.text.contains(&count.to_string()));
        (count, warned)
    };
    assert_eq!(warned(100), (100, false));
    assert_eq!(warned(101), (101, true));
}

/// ECS refuses to create a service whose target group no listener or listener rule forwards
/// to yet (CreateService: "The target group with targetGroupArn … does not have an
/// associated load balancer"), and Terraform orders resources by reference only: a rule
/// and the service both read the target group, neither the other. So every service behind
/// the load balancer depends on each listener and rule forwarding to its target group —
/// which matters for the services routed by rules only (a host, a path), as in
/// `tests/fixtures/workloads/hosts-ecs.yaml`.
#[test]
fn services_wait_for_what_attaches_their_target_group() {
    let mut by_rules_only = 0;
    for (path, out, ecs) in ecs_outputs() {
        let Some(edge) = out.files.get("terraform/infra/edge.tf.json") else {
            continue;
        };
        let edge: Value = serde_json::from_str(edge).unwrap();
        // target group address → the listeners and rules forwarding to it.
        let mut forwarders: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (ty, actions) in [
            ("aws_lb_listener", "default_action"),
            ("aws_lb_listener_rule", "action"),
        ] {
            let Some(all) = edge["resource"][ty].as_object() else {
                continue;
            };
            for (name, body) in all {
                for action in body[actions].as_array().into_iter().flatten() {
                    // A plain forward, or a weighted one (a blue/green service's production
                    // rule forwards to both of its groups).
                    let weighted = action["forward"]["target_group"].as_array();
                    let arns = action["target_group_arn"].as_str().into_iter().chain(
                        weighted
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t["arn"].as_str()),
                    );
                    for arn in arns {
                        let group = arn.trim_start_matches("${").trim_end_matches(".arn}");
                        forwarders
                            .entry(group.to_string())
                            .or_default()
                            .push(format!("{ty}.{name}"));
                    }
                }
            }
        }
        let services = ecs["resource"]["aws_ecs_service"].as_object();
        for (name, svc) in services.into_iter().flatten() {
            let depends: Vec<&str> = svc["depends_on"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for lb in svc["load_balancer"].as_array().into_iter().flatten() {
                let arn = lb["target_group_arn"].as_str().unwrap();
                let group = arn.trim_start_matches("${").trim_end_matches(".arn}");
                let attaching = forwarders.get(group).cloned().unwrap_or_default();
                assert!(
                    !attaching.is_empty(),
                    "{}: nothing forwards to {group} of service {name}",
                    path.display()
                );
                if attaching
                    .iter()
                    .all(|a| a.starts_with("aws_lb_listener_rule."))
                {
                    by_rules_only += 1;
                }
                for a in &attaching {
                    assert!(
                        depends.contains(&a.as_str()),
                        "{}: aws_ecs_service.{name} may be created before {a}, which attaches \
                         its target group to the load balancer (depends_on: {depends:?})",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(
        by_rules_only > 0,
        "no service routed by listener rules only"
    );
}

/// ECS has no Kubernetes cluster: a data service declared `deployment: in_cluster` would be
/// run by nothing, and the services using it would start without variables, security group
/// rules or a server — it used to be dropped with only a note. Refused at the deployment;
/// the same cache managed (ElastiCache) is wired.
#[test]
fn in_cluster_data_services_are_refused_on_ecs() {
    for (part, item) in [
        (
            "caches",
            "{ name: cache, engine: redis, size: small, deployment: in_cluster }",
        ),
        (
            "queues",
            "{ name: cache, engine: rabbitmq, size: small, deployment: in_cluster }",
        ),
        (
            "databases",
            "{ name: cache, engine: postgres, size: small, storage: { size_gb: 20 }, deployment: in_cluster }",
        ),
    ] {
        let yaml = with(
            &stack(),
            "    routes: [{ path: / }]\n",
            "    routes: [{ path: / }]\n    uses: [cache]\n",
        ) + &format!("{part}:\n  - {item}\n");
        let Err(err) = synth(&yaml) else {
            panic!("{part}: an in-cluster data service on ECS was accepted");
        };
        assert!(
            err.contains(&format!("`{part}[0].deployment`: `cache` runs in the cluster, and platform `ecs_fargate` has none")),
            "{part}: {err}"
        );
        // Managed, the same component reaches the service.
        let out = synth(&yaml.replace(", deployment: in_cluster", "")).unwrap();
        assert!(
            out.files["terraform/infra/ecs.tf.json"].contains("CACHE_HOST"),
            "{part}"
        );
    }
}
