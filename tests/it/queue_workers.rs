//! Queue workers and what leaves the network (new-user round 12:
//! `tests/fixtures/new-user/courier-ecs.yaml`, `courier-doks.yaml`): an ECS worker fleet
//! scaled on its SQS queue's backlog per task, the NAT gateways' public addresses as an
//! output a partner can allow-list, and SMTP submission (587) open for the sender alone.

use infragen::catalog::Provider;
use serde_json::{Value, json};

use crate::support::{manifests, resources, root, synth};

fn courier(provider: Provider, file: &str, env: &str) -> infragen::Output {
    synth(
        &root().join("tests/fixtures/new-user").join(file),
        provider,
        env,
    )
}

/// The worker's target tracking policy divides the queue's visible messages by the
/// service's running tasks (the Application Auto Scaling user guide's metric-math example
/// "Amazon SQS queue backlog per task") and holds the quotient at `messages_per_task`.
#[test]
fn an_ecs_worker_scales_on_its_backlog_per_task() {
    let out = courier(Provider::Aws, "courier-ecs.yaml", "production");
    let policies = resources(&out, "infra", "aws_appautoscaling_policy");
    let queue: Vec<&Value> = policies
        .iter()
        .filter(|p| p["name"] == "queue-backlog-scaling")
        .collect();
    assert_eq!(queue.len(), 1, "{policies:#?}");
    let p = queue[0];
    assert_eq!(p["policy_type"], "TargetTrackingScaling");
    assert_eq!(
        p["resource_id"],
        "${aws_appautoscaling_target.sender.resource_id}"
    );
    let cfg = &p["target_tracking_scaling_policy_configuration"];
    assert_eq!(cfg["target_value"], 50);
    assert_eq!(cfg["scale_in_cooldown"], 300);
    let metrics = cfg["customized_metric_specification"]["metrics"]
        .as_array()
        .unwrap();
    let by_id = |id: &str| metrics.iter().find(|m| m["id"] == id).unwrap();
    let messages = &by_id("messages")["metric_stat"];
    assert_eq!(
        messages["metric"]["metric_name"],
        "ApproximateNumberOfMessagesVisible"
    );
    assert_eq!(
        messages["metric"]["dimensions"],
        json!([{"name": "QueueName", "value": "${aws_sqs_queue.outbox.name}"}])
    );
    let tasks = &by_id("tasks")["metric_stat"];
    assert_eq!(tasks["metric"]["namespace"], "ECS/ContainerInsights");
    assert_eq!(tasks["metric"]["metric_name"], "RunningTaskCount");
    assert_eq!(
        tasks["metric"]["dimensions"],
        json!([
            {"name": "ClusterName", "value": "${aws_ecs_cluster.main.name}"},
            {"name": "ServiceName", "value": "${aws_ecs_service.sender.name}"},
        ])
    );
    // Exactly one series is the policy's metric: the quotient.
    let returned: Vec<&Value> = metrics
        .iter()
        .filter(|m| m["return_data"] == true)
        .collect();
    assert_eq!(returned.len(), 1);
    assert_eq!(returned[0]["expression"], "messages / tasks");
    // RunningTaskCount exists only with Container Insights on.
    let clusters = resources(&out, "infra", "aws_ecs_cluster");
    assert!(
        clusters[0].to_string().contains(r#""value":"enabled""#),
        "{clusters:#?}"
    );
}

/// The addresses outbound traffic leaves from are an output of `infra`, one per NAT gateway
/// (one per zone in production, the single one in staging), each an Elastic IP the module
/// declares.
#[test]
fn the_nat_gateways_public_addresses_are_an_output() {
    for (env, zones) in [
        ("production", &["eu_west_1a", "eu_west_1b"][..]),
        ("staging", &["eu_west_1a"][..]),
    ] {
        let out = courier(Provider::Aws, "courier-ecs.yaml", env);
        let outputs: Value = serde_json::from_str(
            out.files
                .iter()
                .find(|(p, _)| p.as_str() == "terraform/infra/outputs.tf.json")
                .map(|(_, t)| t.as_str())
                .unwrap(),
        )
        .unwrap();
        let want: Vec<String> = zones
            .iter()
            .map(|z| format!("aws_eip.nat_{z}.public_ip"))
            .collect();
        assert_eq!(
            outputs["output"]["nat_public_ips"]["value"],
            format!("${{[{}]}}", want.join(", ")),
            "{env}"
        );
        assert_eq!(
            resources(&out, "infra", "aws_eip").len(),
            zones.len(),
            "{env}"
        );
    }
}

/// Staging (`nat: single`) → `per_zone` adds a NAT gateway, and the second zone's private
/// subnets then send from an address the partner has not allow-listed (new-user round 15).
/// `infragen diff` says so, and how to learn the address before any traffic uses it: a
/// targeted apply of every NAT Elastic IP, whose references are then all targeted, so
/// Terraform evaluates and prints `nat_public_ips`. Going back releases the address.
#[test]
fn a_new_nat_address_is_announced_with_a_targeted_apply_that_prints_it() {
    let single = courier(Provider::Aws, "courier-ecs.yaml", "staging");
    let per_zone = courier(Provider::Aws, "courier-ecs.yaml", "production");
    let notes = infragen::diff::upgrade_notes(&single, &per_zone);
    let note = notes
        .iter()
        .find(|n| n.contains("aws_eip.nat_eu_west_1b"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    let outputs: Value =
        serde_json::from_str(&per_zone.files["terraform/infra/outputs.tf.json"]).unwrap();
    let printed = outputs["output"]["nat_public_ips"]["value"]
        .as_str()
        .unwrap();
    // Every resource the output refers to is one of the note's targets.
    for eip in ["aws_eip.nat_eu_west_1a", "aws_eip.nat_eu_west_1b"] {
        assert!(printed.contains(&format!("{eip}.")), "{printed}");
        assert!(note.contains(&format!("-target={eip}")), "{note}");
    }
    assert!(note.contains("nat_public_ips"), "{note}");
    let back = infragen::diff::upgrade_notes(&per_zone, &single);
    assert!(
        back.iter()
            .any(|n| n.contains("aws_eip.nat_eu_west_1b") && n.contains("released")),
        "{back:?}"
    );
    // Nothing to say when the addresses stay.
    let same = infragen::diff::upgrade_notes(&per_zone, &per_zone);
    assert!(!same.iter().any(|n| n.contains("aws_eip")), "{same:?}");
}

/// SMTP submission (587) leaves the cluster or VPC for the service that declares it and for
/// no other: the sender's NetworkPolicy on DOKS, its task security group on ECS.
#[test]
fn smtp_submission_is_open_for_the_sender_alone() {
    let out = courier(Provider::Digitalocean, "courier-doks.yaml", "production");
    let policy = |app: &str| {
        manifests(&out)
            .into_iter()
            .find(|d| {
                d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == format!("{app}-netpol")
            })
            .unwrap_or_else(|| panic!("no NetworkPolicy for {app}"))
    };
    let opens_587 = |p: &Value| {
        p["spec"]["egress"].as_array().unwrap().iter().any(|rule| {
            rule["ports"]
                .as_array()
                .is_some_and(|ports| ports.iter().any(|x| x["port"] == 587))
                && rule["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"
        })
    };
    assert!(opens_587(&policy("sender")), "{:#}", policy("sender"));
    assert!(!opens_587(&policy("web")), "{:#}", policy("web"));

    let out = courier(Provider::Aws, "courier-ecs.yaml", "production");
    let rules = resources(&out, "infra", "aws_vpc_security_group_egress_rule");
    let on_587: Vec<&Value> = rules.iter().filter(|r| r["from_port"] == 587).collect();
    assert_eq!(on_587.len(), 1, "{on_587:#?}");
    assert_eq!(
        on_587[0]["security_group_id"],
        "${aws_security_group.sender_tasks.id}"
    );
    assert_eq!(on_587[0]["cidr_ipv4"], "0.0.0.0/0");
}

/// Egress to port 25 is let out by the generated policies but blocked by the cloud under
/// them (EC2 for EKS nodes, DigitalOcean Droplets of new accounts): warned, per workload;
/// 587 is not.
#[test]
fn egress_to_port_25_is_warned_where_the_cloud_blocks_it() {
    let warned = |provider: Provider, file: &str, port: &str| {
        let text = std::fs::read_to_string(root().join("tests/fixtures/new-user").join(file))
            .unwrap()
            .replace("ports: [587]", &format!("ports: [{port}]"));
        let out = infragen::synthesize(file, text.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{d}"));
        out.notes
            .iter()
            .filter(|n| n.rule == Some("smtp-port-25"))
            .map(|n| n.text.clone())
            .collect::<Vec<_>>()
    };
    let doks = warned(Provider::Digitalocean, "courier-doks.yaml", "25");
    assert_eq!(doks.len(), 1, "{doks:?}");
    assert!(doks[0].starts_with("`sender`"), "{doks:?}");
    assert!(warned(Provider::Digitalocean, "courier-doks.yaml", "587").is_empty());

    // EKS nodes are EC2 instances; a relay inside the private ranges is not restricted.
    let eks = |egress: &str| {
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/new-user/intranet-eks.yaml"))
                .unwrap()
                .replace("egress: [{ to: 10.200.0.0/16, ports: [636] }]", egress);
        infragen::synthesize(
            "intranet-eks.yaml",
            text.as_bytes(),
            Provider::Aws,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("smtp-port-25"))
        .count()
    };
    assert_eq!(eks("egress: [{ to: 0.0.0.0/0, ports: [25] }]"), 1);
    assert_eq!(eks("egress: [{ to: 10.200.0.0/16, ports: [25] }]"), 0);
}
