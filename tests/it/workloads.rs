//! Workloads teams run (issue 18): ECS host routing, queue workers without a port, sidecars
//! and init containers. The fixtures under `tests/fixtures/workloads/` are part of the golden
//! matrix (snapshots, provider and Kubernetes schemas); these tests check behaviour.

use infragen::Provider;
use serde_json::Value;

use crate::support::{root, synth};

fn terraform(out: &infragen::Output, file: &str) -> Value {
    serde_json::from_str(&out.files[file]).unwrap()
}

/// Which target group a request for `host` and `path` reaches: the lowest-priority rule
/// whose conditions all match, else the listener's default action (ALB semantics).
fn route(edge: &Value, host: &str, path: &str) -> String {
    let glob = |pat: &str, s: &str| {
        let re = regex_lite(pat);
        re(s)
    };
    let mut rules: Vec<(u64, &Value)> = edge["resource"]["aws_lb_listener_rule"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|r| (r["priority"].as_u64().unwrap(), r))
                .collect()
        })
        .unwrap_or_default();
    rules.sort_by_key(|(p, _)| *p);
    for (_, r) in rules {
        let ok = r["condition"].as_array().unwrap().iter().all(|c| {
            if let Some(h) = c.get("host_header") {
                h["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| glob(v.as_str().unwrap(), host))
            } else if let Some(p) = c.get("path_pattern") {
                p["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| glob(v.as_str().unwrap(), path))
            } else {
                false
            }
        });
        if ok {
            return r["action"][0]["target_group_arn"]
                .as_str()
                .unwrap()
                .to_string();
        }
    }
    edge["resource"]["aws_lb_listener"]["https"]["default_action"][0]["target_group_arn"]
        .as_str()
        .unwrap_or("404")
        .to_string()
}

/// ALB wildcard matching: `*` any run of characters, `?` one character.
fn regex_lite(pat: &str) -> impl Fn(&str) -> bool + '_ {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    move |s: &str| m(pat.as_bytes(), s.as_bytes())
}

#[test]
fn ecs_hostnames_reach_their_own_services() {
    let out = synth(
        &root().join("tests/fixtures/workloads/hosts-ecs.yaml"),
        Provider::Aws,
        "production",
    );
    let edge = terraform(&out, "terraform/infra/edge.tf.json");
    let tg = |s: &str| format!("${{aws_lb_target_group.{s}.arn}}");
    assert_eq!(route(&edge, "shop.example.com", "/"), tg("shop"));
    assert_eq!(route(&edge, "shop.example.com", "/cart/1"), tg("shop"));
    assert_eq!(route(&edge, "admin.example.com", "/users"), tg("admin"));
    assert_eq!(route(&edge, "example.com", "/"), tg("web"));
    assert_eq!(route(&edge, "www.example.com", "/admin/api/x"), tg("admin"));
    // A host's own rules win over the any-host path rule, as with an Ingress.
    assert_eq!(route(&edge, "shop.example.com", "/admin/api"), tg("shop"));
}

/// A queue worker (no `port`) gets a Deployment but no Service, no container port and no
/// port probe on Kubernetes; on ECS no target group, listener rule or inbound rule.
#[test]
fn workers_without_a_port_get_no_service_and_no_target() {
    let out = synth(
        &root().join("tests/fixtures/workloads/worker-k8s.yaml"),
        Provider::Kubernetes,
        "production",
    );
    let all: String = out.files.values().cloned().collect();
    assert!(all.contains("name: worker\n  namespace: jobsite"), "{all}");
    let worker = &out.files["k8s/jobsite/worker.yaml"];
    assert!(!worker.contains("kind: Service\n"), "{worker}");
    assert!(!worker.contains("containerPort"), "{worker}");
    assert!(
        !worker.contains("tcpSocket") && !worker.contains("httpGet"),
        "{worker}"
    );
    assert!(!worker.contains("readinessProbe"), "{worker}");
    assert!(
        worker.contains("livenessProbe:\n            exec:"),
        "{worker}"
    );

    let out = synth(
        &root().join("tests/fixtures/workloads/hosts-ecs.yaml"),
        Provider::Aws,
        "production",
    );
    let edge = terraform(&out, "terraform/infra/edge.tf.json");
    assert!(edge["resource"]["aws_lb_target_group"]["mailer"].is_null());
    let ecs = terraform(&out, "terraform/infra/ecs.tf.json");
    let svc = &ecs["resource"]["aws_ecs_service"]["mailer"];
    assert!(svc.is_object() && svc["load_balancer"].is_null(), "{svc}");
    assert!(ecs["resource"]["aws_vpc_security_group_ingress_rule"]["mailer_from_alb"].is_null());
    let defs: Value = serde_json::from_str(
        ecs["resource"]["aws_ecs_task_definition"]["mailer"]["container_definitions"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(defs[0]["portMappings"], serde_json::json!([]));
}

/// The namespace quota counts sidecars (and init containers): 2 API pods × (100m app +
/// 50m sidecar) + 2 workers × 100m = 500m requested does not fit 450m, although the app
/// containers alone (400m) would.
#[test]
fn the_quota_counts_sidecars() {
    let path = root().join("tests/fixtures/workloads/worker-k8s.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let tight = text.replace(r#"requests.cpu: "1""#, "requests.cpu: 450m");
    assert_ne!(tight, text);
    let err = match infragen::synthesize(
        "worker.yaml",
        tight.as_bytes(),
        Provider::Kubernetes,
        "production",
    ) {
        Ok(_) => panic!("the quota cannot hold the sidecars"),
        Err(d) => d.to_string(),
    };
    assert!(err.contains("requests.cpu"), "{err}");
}

/// ECS: sidecars and init containers are container definitions of the task, hardened exactly
/// like the app's; Kubernetes' order holds (the init container succeeds before the app and
/// the sidecars start), and a sidecar is essential unless the blueprint says otherwise.
#[test]
fn ecs_sidecars_are_hardened_container_definitions() {
    let out = synth(
        &root().join("tests/fixtures/workloads/sidecars-ecs.yaml"),
        Provider::Aws,
        "production",
    );
    let ecs = terraform(&out, "terraform/infra/ecs.tf.json");
    let defs: Value = serde_json::from_str(
        ecs["resource"]["aws_ecs_task_definition"]["api"]["container_definitions"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let defs = defs.as_array().unwrap();
    let by = |name: &str| defs.iter().find(|d| d["name"] == name).unwrap();
    let app = by("api");
    // The blueprint's four, then `infragen-volumes`, which opens up the writable paths as root
    // before them all (tests/it/ecs_volumes.rs).
    assert_eq!(defs.len(), 5);
    for d in defs.iter().filter(|d| d["name"] != "infragen-volumes") {
        for key in [
            "user",
            "readonlyRootFilesystem",
            "privileged",
            "linuxParameters",
            "mountPoints",
            "logConfiguration",
        ] {
            assert_eq!(d[key], app[key], "{} {key}", d["name"]);
        }
    }
    assert_eq!(app["readonlyRootFilesystem"], true);
    assert_eq!(app["linuxParameters"]["capabilities"]["drop"][0], "ALL");
    let init = by("wait-for-schema");
    assert_eq!(init["essential"], false);
    assert_eq!(
        init["dependsOn"],
        serde_json::json!([{"containerName": "infragen-volumes", "condition": "SUCCESS"}])
    );
    let waits = serde_json::json!([{"containerName": "wait-for-schema", "condition": "SUCCESS"}]);
    for name in ["api", "log-shipper", "metrics-agent"] {
        assert_eq!(by(name)["dependsOn"], waits, "{name}");
    }
    assert_eq!(by("log-shipper")["essential"], true);
    assert_eq!(by("metrics-agent")["essential"], false);
    assert_eq!(
        by("metrics-agent")["command"],
        serde_json::json!(["--interval", "30s"])
    );
}
