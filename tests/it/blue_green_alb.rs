//! Blue/green behind an ALB that targets pods by IP (EKS): the switch is a weight flip of
//! the AWS Load Balancer Controller's forward action over one Service per colour, so both
//! colours' targets stay registered, healthy and gated; a selector switch would register
//! the idle colour's pods only at the switch and answer 503 until their first health check.
//! <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#actions>

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{alb_stack, manifests, routed_services, synth_aws};

const ALB: &str = "alb.ingress.kubernetes.io";
const GATE: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";

fn stack(live: &str) -> String {
    alb_stack(&format!(
        "  - name: web
    image: ghcr.io/example/web:1.0
    port: 8080
    replicas: 2
    routes: [{{ path: / }}]
    probes: {{ readiness: {{ path: /ready }} }}
    rollout: {{ strategy: blue_green, live: {live}, next_image: ghcr.io/example/web:1.1 }}
  - name: api
    image: ghcr.io/example/api:1.0
    port: 8080
    replicas: 2
    routes: [{{ path: /api }}]
    internal_routes: true
    rollout: {{ strategy: blue_green, live: {live} }}
  - name: plain
    image: ghcr.io/example/plain:1.0
    port: 8080
    replicas: 2
    routes: [{{ path: /plain }}]
"
    ))
}

fn by_name<'d>(docs: &'d [Value], kind: &str, name: &str) -> Option<&'d Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| &labels[k] == v))
}

/// The Deployments whose pods a Service selects, by name.
fn selected<'d>(docs: &'d [Value], svc: &Value) -> Vec<&'d str> {
    docs.iter()
        .filter(|d| {
            d["kind"] == "Deployment"
                && d["metadata"]["namespace"] == svc["metadata"]["namespace"]
                && selects(
                    &svc["spec"]["selector"],
                    &d["spec"]["template"]["metadata"]["labels"],
                )
        })
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect()
}

/// The forward action `action` of `ingress`, which one path names as its backend: its target
/// groups' Service → weight.
fn action_weights(ingress: &Value, action: &str) -> BTreeMap<String, u64> {
    let paths: Vec<&Value> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["http"]["paths"].as_array().unwrap())
        .filter(|p| p["backend"]["service"]["name"] == action)
        .collect();
    assert_eq!(paths.len(), 1, "{ingress}");
    assert_eq!(
        paths[0]["backend"]["service"]["port"],
        serde_json::json!({"name": "use-annotation"})
    );
    let text = ingress["metadata"]["annotations"][format!("{ALB}/actions.{action}")]
        .as_str()
        .unwrap_or_else(|| panic!("no action {action}: {ingress}"));
    let a: Value = serde_json::from_str(text).unwrap();
    assert_eq!(a["type"], "forward");
    a["forwardConfig"]["targetGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert_eq!(g["servicePort"], 80, "{g}");
            (
                g["serviceName"].as_str().unwrap().to_string(),
                g["weight"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_alb_routes_blue_green_through_a_weighted_action_over_both_colours() {
    for (live, idle) in [("blue", "green"), ("green", "blue")] {
        let out = synth_aws("gate", &stack(live)).unwrap();
        let docs = manifests(&out);
        for (service, ingress) in [("web", "gate"), ("api", "gate-internal")] {
            let ing = by_name(&docs, "Ingress", ingress).unwrap();
            let weights = action_weights(ing, &format!("{service}-blue-green"));
            assert_eq!(
                weights,
                BTreeMap::from([
                    (format!("{service}-{live}"), 100),
                    (format!("{service}-{idle}"), 0)
                ]),
                "{service}: live {live}"
            );
            // Each target group's Service exists and selects exactly its colour's pods,
            // whichever colour is live: both stay registered and health-checked.
            for colour in ["blue", "green"] {
                let svc = by_name(&docs, "Service", &format!("{service}-{colour}"))
                    .unwrap_or_else(|| panic!("no Service {service}-{colour}"));
                assert_eq!(selected(&docs, svc), [format!("{service}-{colour}")]);
                // The ALB's target group takes its health check from its Service.
                if service == "web" {
                    assert_eq!(
                        svc["metadata"]["annotations"][format!("{ALB}/healthcheck-path")],
                        "/ready"
                    );
                }
            }
            // In-cluster callers still reach the live colour by the plain name.
            let plain = by_name(&docs, "Service", service).unwrap();
            assert_eq!(selected(&docs, plain), [format!("{service}-{live}")]);
        }
        // A rolling service keeps its own Service as its backend.
        let ing = by_name(&docs, "Ingress", "gate").unwrap();
        assert_eq!(routed_services(ing), ["plain", "web-blue", "web-green"]);
        // Both colours' pods are gated: their namespace carries the label the controller's
        // webhook selects, and each colour's Service backs a target group.
        let ns = by_name(&docs, "Namespace", "gate").unwrap();
        assert_eq!(ns["metadata"]["labels"][GATE], "enabled");
        // No 503 window left to warn about.
        assert!(
            !out.notes.iter().any(|n| n.text.contains("503")),
            "{:?}",
            out.notes
        );
    }
}

/// The switch is the one field `rollout.live`: the colour Services are the same either way,
/// so applying it moves no target between target groups (only the weights flip).
#[test]
fn switching_colour_only_flips_the_weights_and_the_plain_selector() {
    let blue = manifests(&synth_aws("gate", &stack("blue")).unwrap());
    let green = manifests(&synth_aws("gate", &stack("green")).unwrap());
    for service in ["web", "api"] {
        for colour in ["blue", "green"] {
            let n = format!("{service}-{colour}");
            let before = by_name(&blue, "Service", &n).unwrap_or_else(|| panic!("no {n}"));
            assert_eq!(Some(before), by_name(&green, "Service", &n), "{n}");
        }
    }
}

/// A long service name still gives names Kubernetes takes: colour Services of at most 63
/// characters and an action whose annotation key's name part (`actions.<name>`) is at most
/// 63 — both cut with a hash — and the action still names the colour Services.
#[test]
fn a_long_service_name_gives_valid_action_and_service_names() {
    let long = format!("w{}", "e".repeat(59));
    let out = synth_aws(
        "gate",
        &stack("blue").replace("name: web\n", &format!("name: {long}\n")),
    )
    .unwrap();
    let docs = manifests(&out);
    let ing = by_name(&docs, "Ingress", "gate").unwrap();
    for key in ing["metadata"]["annotations"].as_object().unwrap().keys() {
        let name_part = key.rsplit('/').next().unwrap();
        assert!(name_part.len() <= 63, "{key}");
    }
    let routed = routed_services(ing);
    // `plain` and the long service's two colours.
    assert_eq!(routed.len(), 3, "{routed:?}");
    for svc in routed {
        assert!(svc.len() <= 63, "{svc}");
        let s = by_name(&docs, "Service", &svc).unwrap_or_else(|| panic!("no Service {svc}"));
        assert_eq!(selected(&docs, s).len(), 1, "{svc}");
    }
}
