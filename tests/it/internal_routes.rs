//! `services[].internal_routes` (round 12: an admin API reachable only from the VPC or a
//! VPN next to a public web app): on ECS Fargate a second, internal ALB in the private
//! subnets serves those routes and the public one does not; other platforms refuse it.

use crate::support::{root, synth};
use infragen::catalog::Provider;
use serde_json::Value;

fn fixture() -> std::path::PathBuf {
    root().join("tests/fixtures/workloads/internal-admin.yaml")
}

fn edge(env: &str) -> Value {
    let out = synth(&fixture(), Provider::Aws, env);
    serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap()
}

/// The listener a target group is forwarded to from: its rules' listeners and the
/// listeners whose default action forwards to it.
fn listeners_forwarding_to(edge: &Value, tg: &str) -> Vec<String> {
    let arn = format!("${{aws_lb_target_group.{tg}.arn}}");
    let r = &edge["resource"];
    let mut out = Vec::new();
    for (name, l) in r["aws_lb_listener"].as_object().unwrap() {
        if l["default_action"].to_string().contains(&arn) {
            out.push(format!("${{aws_lb_listener.{name}.arn}}"));
        }
    }
    for rule in r["aws_lb_listener_rule"].as_object().unwrap().values() {
        if rule["action"].to_string().contains(&arn) {
            out.push(rule["listener_arn"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn internal_routes_get_an_internal_alb_in_private_subnets_and_not_the_public_one() {
    let edge = edge("production");
    let r = &edge["resource"];
    let internal = &r["aws_lb"]["internal"];
    assert_eq!(internal["internal"], true, "{internal}");
    let subnets = internal["subnets"].to_string();
    assert!(
        subnets.contains("private") && !subnets.contains("public"),
        "{subnets}"
    );
    assert_eq!(r["aws_lb"]["main"]["internal"], false);

    // The admin target group is reached only through the internal load balancer's HTTPS
    // listener; the public one's listeners never forward to it.
    let admin = listeners_forwarding_to(&edge, "admin");
    assert_eq!(admin, vec!["${aws_lb_listener.internal_https.arn}"]);
    let listener = &r["aws_lb_listener"]["internal_https"];
    assert_eq!(listener["load_balancer_arn"], "${aws_lb.internal.arn}");
    assert_eq!(listener["protocol"], "HTTPS");
    let web = listeners_forwarding_to(&edge, "web");
    assert_eq!(web, vec!["${aws_lb_listener.https.arn}"]);
    assert_eq!(
        r["aws_lb_listener"]["https"]["load_balancer_arn"],
        "${aws_lb.main.arn}"
    );
}

/// The internal load balancer admits the VPC and `internal_cidrs` (per environment), never
/// the internet; the admin tasks admit the internal load balancer's group.
#[test]
fn internal_alb_admits_the_vpc_and_listed_cidrs_and_the_tasks_admit_it() {
    let sources = |env: &str| -> Vec<String> {
        let edge = edge(env);
        let mut v: Vec<String> = edge["resource"]["aws_vpc_security_group_ingress_rule"]
            .as_object()
            .unwrap()
            .values()
            .filter(|rule| {
                rule["security_group_id"] == "${aws_security_group.internal_alb.id}"
                    && rule["from_port"] == 443
            })
            .map(|rule| rule["cidr_ipv4"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(sources("production"), ["10.0.0.0/16", "172.16.0.0/22"]);
    assert_eq!(
        sources("staging"),
        ["10.0.0.0/16", "172.16.0.0/22", "192.168.50.0/24"]
    );

    let out = synth(&fixture(), Provider::Aws, "production");
    let ecs: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
    let rules = &ecs["resource"]["aws_vpc_security_group_ingress_rule"];
    assert_eq!(
        rules["admin_from_alb"]["referenced_security_group_id"],
        "${aws_security_group.internal_alb.id}"
    );
    assert_eq!(
        rules["web_from_alb"]["referenced_security_group_id"],
        "${aws_security_group.alb.id}"
    );
    let edge = edge("production");
    let egress = &edge["resource"]["aws_vpc_security_group_egress_rule"];
    assert_eq!(
        egress["internal_alb_to_admin"]["security_group_id"],
        "${aws_security_group.internal_alb.id}"
    );
    assert!(egress["alb_to_admin"].is_null(), "{egress}");
}

fn refusal(provider: Provider, yaml: &str) -> String {
    match infragen::synthesize(
        "internal-admin.yaml",
        yaml.as_bytes(),
        provider,
        "production",
    ) {
        Ok(_) => panic!("{provider}: internal_routes was not refused"),
        Err(d) => d.to_string(),
    }
}

/// EKS, DOKS and other clusters do not build an internal load balancer: the flag is refused
/// at its line rather than the admin API published on the public one.
#[test]
fn internal_routes_are_refused_where_no_internal_load_balancer_is_built() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let eks = text.replace("platform: ecs_fargate", "platform: eks");
    let err = refusal(Provider::Aws, &eks);
    assert!(
        err.contains("internal-only routes for `admin` are built on ECS Fargate only")
            && err.contains("internal-admin.yaml:36:"),
        "{err}"
    );
    let doks = text
        .replace("platform: ecs_fargate", "platform: doks")
        .replace(
            "aws:\n    region: eu-west-1",
            "digitalocean:\n    region: ams3",
        );
    let err = refusal(Provider::Digitalocean, &doks);
    assert!(
        err.contains("DigitalOcean offers internal load balancers"),
        "{err}"
    );
    let k8s = text.replace("aws:\n    region: eu-west-1", "kubernetes: {}");
    let err = refusal(Provider::Kubernetes, &k8s);
    assert!(err.contains("built on ECS Fargate only"), "{err}");
}

#[test]
fn internal_routes_without_routes_or_uncovered_hosts_are_refused() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let uncovered = text.replace("host: admin.example.com", "host: admin.corp.internal");
    let err = refusal(Provider::Aws, &uncovered);
    assert!(
        err.contains("host `admin.corp.internal` is not covered"),
        "{err}"
    );
    let bad = text.replace("[172.16.0.0/22] #", "[172.16.0.1/22] #");
    let err = refusal(Provider::Aws, &bad);
    assert!(err.contains("`172.16.0.1/22` has host bits set"), "{err}");
    let routeless = text.replace(
        "    routes:\n      - { path: /, host: admin.example.com }\n",
        "",
    );
    let err = refusal(Provider::Aws, &routeless);
    assert!(err.contains("service `admin` has no `routes`"), "{err}");
}

/// `load_balancer.internal_cidrs` without a service that sets `internal_routes` admits its
/// networks to a load balancer that is never created: warned, not dropped silently.
#[test]
fn internal_cidrs_without_internal_routes_are_warned() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let warned = |text: &str| {
        infragen::synthesize(
            "internal-admin.yaml",
            text.as_bytes(),
            Provider::Aws,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("internal-cidrs-unused"))
        .map(|n| n.text.clone())
        .collect::<Vec<_>>()
    };
    assert!(warned(&text).is_empty());
    assert!(text.contains("    internal_routes: true\n"));
    let without = text.replace("    internal_routes: true\n", "");
    let notes = warned(&without);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("172.16.0.0/22"), "{notes:?}");
    // The stack's own load balancer, internal, admits them: no warning.
    let line = "  internal_cidrs: [172.16.0.0/22]";
    assert!(without.contains(line));
    let internal = without.replace(line, &format!("  internal: true\n{line}"));
    assert!(warned(&internal).is_empty());
}

/// Each ALB publishes its 5xx under its own `LoadBalancer` dimension (ALB CloudWatch
/// metrics): the internal one's errors (the admin API's) need alarms of their own, or they
/// alert nobody.
#[test]
fn each_load_balancer_has_its_own_5xx_alarms() {
    let out = synth(&fixture(), Provider::Aws, "production");
    let obs: Value =
        serde_json::from_str(&out.files["terraform/infra/observability.tf.json"]).unwrap();
    let alarms = obs["resource"]["aws_cloudwatch_metric_alarm"]
        .as_object()
        .unwrap();
    for metric in ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"] {
        let mut lbs: Vec<&str> = alarms
            .values()
            .filter(|a| a["metric_name"] == metric)
            .map(|a| a["dimensions"]["LoadBalancer"].as_str().unwrap())
            .collect();
        lbs.sort();
        assert_eq!(
            lbs,
            vec!["${aws_lb.internal.arn_suffix}", "${aws_lb.main.arn_suffix}"],
            "{metric}"
        );
    }
}
