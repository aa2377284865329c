//! The ALB in front of ingress-nginx (EKS, `platform` module's `edge` Ingress, IP targets)
//! health-checks the controller's pods from its own addresses in the public subnets. On EKS
//! with managed nodes the VPC CNI enforces the NetworkPolicies of `k8s/`, so the port the ALB
//! checks must be admitted from outside the cluster by the ingress namespace's policies, or
//! every target is unhealthy (and the ALB fails open, routing blind). Evaluated with a small
//! NetworkPolicy model: a policy selecting the pod for Ingress admits a peer when one of its
//! rules has no `from` (or an `ipBlock` holding the peer's address) and no `ports` (or the
//! port).

use std::net::Ipv4Addr;

use infragen::Provider;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{ingress_nginx_values, resources, root};

/// An address of the ALB's nodes: in a public subnet, outside the pod network.
const ALB: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);

fn cidr_holds(cidr: &str, ip: Ipv4Addr) -> bool {
    let (net, bits) = cidr.split_once('/').unwrap();
    let net: Ipv4Addr = net.parse().unwrap();
    let bits: u32 = bits.parse().unwrap();
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(net) & mask == u32::from(ip) & mask
}

/// Whether `rule` (an ingress rule) admits `ip` on TCP `port`.
fn rule_admits(rule: &Yaml, ip: Ipv4Addr, port: u16) -> bool {
    let peer = match rule["from"].as_vec() {
        None => true,
        Some(from) => from.iter().any(|p| {
            p["ipBlock"]["cidr"].as_str().is_some_and(|c| {
                cidr_holds(c, ip)
                    && !p["ipBlock"]["except"]
                        .as_vec()
                        .is_some_and(|e| e.iter().any(|x| cidr_holds(x.as_str().unwrap(), ip)))
            })
        }),
    };
    let ports = match rule["ports"].as_vec() {
        None => true,
        Some(ps) => ps.iter().any(|p| {
            p["protocol"].as_str().unwrap_or("TCP") == "TCP"
                && p["port"].as_i64() == Some(i64::from(port))
        }),
    };
    peer && ports
}

/// Whether the ingress-nginx controller pod in `ns` accepts `ip` on `port` under the
/// policies of `out`.
fn controller_admits(out: &infragen::Output, ns: &str, ip: Ipv4Addr, port: u16) -> bool {
    let labels = [
        ("app.kubernetes.io/name", "ingress-nginx"),
        ("app.kubernetes.io/component", "controller"),
    ];
    admits(out, ns, &labels, ip, port)
}

/// Whether a pod labelled `labels` in `ns` accepts `ip` on `port` under the policies of
/// `out` (`podSelector` by `matchLabels` and `matchExpressions` with `In`).
fn admits(
    out: &infragen::Output,
    ns: &str,
    labels: &[(&str, &str)],
    ip: Ipv4Addr,
    port: u16,
) -> bool {
    let label = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
    let mut selected = false;
    for (path, text) in &out.files {
        if !path.starts_with("k8s/") || !path.ends_with(".yaml") {
            continue;
        }
        for doc in YamlLoader::load_from_str(text).unwrap() {
            if doc["kind"].as_str() != Some("NetworkPolicy")
                || doc["metadata"]["namespace"].as_str() != Some(ns)
            {
                continue;
            }
            let spec = &doc["spec"];
            let by_labels = spec["podSelector"]["matchLabels"]
                .as_hash()
                .is_none_or(|m| {
                    m.iter()
                        .all(|(k, v)| k.as_str().and_then(label) == v.as_str())
                });
            let by_expressions =
                spec["podSelector"]["matchExpressions"]
                    .as_vec()
                    .is_none_or(|es| {
                        es.iter().all(|e| {
                            let value = e["key"].as_str().and_then(label);
                            let values = e["values"].as_vec().cloned().unwrap_or_default();
                            let within = values.iter().any(|v| v.as_str() == value);
                            match e["operator"].as_str() {
                                Some("In") => within,
                                Some("NotIn") => !within,
                                other => panic!("operator {other:?}"),
                            }
                        })
                    });
            let selects = by_labels && by_expressions;
            let ingress = spec["policyTypes"]
                .as_vec()
                .is_none_or(|t| t.iter().any(|t| t.as_str() == Some("Ingress")));
            if !selects || !ingress {
                continue;
            }
            selected = true;
            if spec["ingress"]
                .as_vec()
                .is_some_and(|rules| rules.iter().any(|r| rule_admits(r, ip, port)))
            {
                return true;
            }
        }
    }
    !selected
}

#[test]
fn the_alb_health_checks_a_port_the_ingress_policies_admit_from_outside() {
    let mut checked = 0;
    for (stem, env, out) in crate::support::aws_outputs() {
        let Some(edge) = resources(&out, "platform", "kubernetes_ingress_v1")
            .into_iter()
            .find(|i| i["spec"]["ingress_class_name"] == "alb")
        else {
            continue;
        };
        let ns = edge["metadata"]["namespace"].as_str().unwrap();
        let a = &edge["metadata"]["annotations"];
        // The container port behind the Service port the ALB forwards to (named `https`).
        let values: Value =
            serde_json::from_str(&ingress_nginx_values(&out).expect("ingress-nginx release"))
                .unwrap();
        let https = values
            .pointer("/controller/containerPort/https")
            .and_then(Value::as_u64)
            .unwrap_or(443) as u16;
        let backend =
            edge["spec"]["rule"][0]["http"]["path"][0]["backend"]["service"]["port"]["number"]
                .as_u64()
                .unwrap();
        assert_eq!(
            backend, 443,
            "{stem} {env}: the edge forwards to the https port"
        );
        let checked_port = match a["alb.ingress.kubernetes.io/healthcheck-port"].as_str() {
            None | Some("traffic-port") => https,
            Some(p) => p.parse().unwrap(),
        };
        assert!(
            controller_admits(&out, ns, ALB, https),
            "{stem} {env}: the ALB's traffic to port {https} is not admitted in {ns}"
        );
        assert!(
            controller_admits(&out, ns, ALB, checked_port),
            "{stem} {env}: the ALB health-checks port {checked_port} of the ingress-nginx pods, which the NetworkPolicies of {ns} do not admit from the ALB"
        );
        // The check speaks what that port serves: TLS on the https port.
        if checked_port == https {
            assert_eq!(
                a["alb.ingress.kubernetes.io/healthcheck-protocol"], "HTTPS",
                "{stem} {env}"
            );
        }
        checked += 1;
    }
    assert!(
        checked > 0,
        "no blueprint puts an ALB in front of ingress-nginx"
    );
}

/// Ingress class `alb`: the ALB targets the routed services' pods themselves. The
/// ecommerce blueprint (managed nodes, NetworkPolicies enforced) with its Ingress moved from
/// ingress-nginx to class `alb`.
fn ecommerce_alb(extra: &str) -> Result<infragen::Output, String> {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml"))
        .unwrap()
        .replace(
            "  class: nginx # kubernetes.io/ingress.class: nginx\n",
            "  class: alb\n",
        )
        // The ALB serves the ACM certificate, never cert-manager's.
        .replace(
            "    issuer: letsencrypt-prod # cert-manager.io/cluster-issuer\n",
            "",
        )
        .replace(
            "  ingress_controller:\n    kind: nginx\n    namespace: ecommerce-ingress\n    metrics: true\n",
            "",
        );
    let yaml = format!("{yaml}{extra}");
    infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .map_err(|d| d.to_string())
}

/// The routed services' Services and pods' labels, from `k8s/`.
fn routed_services(out: &infragen::Output) -> Vec<(String, Yaml)> {
    let mut routed = std::collections::BTreeSet::new();
    let mut services = Vec::new();
    for (path, text) in &out.files {
        if !path.starts_with("k8s/") || !path.ends_with(".yaml") {
            continue;
        }
        for doc in YamlLoader::load_from_str(text).unwrap() {
            match doc["kind"].as_str() {
                Some("Ingress") => {
                    for rule in doc["spec"]["rules"].as_vec().unwrap() {
                        for p in rule["http"]["paths"].as_vec().unwrap() {
                            let name = p["backend"]["service"]["name"].as_str().unwrap();
                            routed.insert(name.to_string());
                        }
                    }
                }
                Some("Service") => services.push(doc),
                _ => {}
            }
        }
    }
    services
        .into_iter()
        .filter_map(|s| {
            let name = s["metadata"]["name"].as_str().unwrap().to_string();
            routed.contains(&name).then_some((name, s))
        })
        .collect()
}

#[test]
fn an_alb_of_class_alb_reaches_and_checks_the_routed_pods() {
    let out = ecommerce_alb("").unwrap();
    let routed = routed_services(&out);
    assert!(
        routed.len() >= 5,
        "{:?}",
        routed.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    for (name, svc) in &routed {
        let ns = svc["metadata"]["namespace"].as_str().unwrap();
        let port = svc["spec"]["ports"][0]["targetPort"].as_i64().unwrap() as u16;
        let selector: Vec<(String, String)> = svc["spec"]["selector"]
            .as_hash()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
            .collect();
        let labels: Vec<(&str, &str)> = selector
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert!(
            admits(&out, ns, &labels, ALB, port),
            "{name}: the ALB's requests to port {port} are dropped by the NetworkPolicies of {ns}"
        );
        // Nothing else outside the cluster: an address outside the ALB's subnets.
        assert!(
            !admits(&out, ns, &labels, Ipv4Addr::new(10, 0, 200, 1), port),
            "{name}: admitted from outside the ALB's subnets"
        );
        // The check goes where the pods answer: their readiness probe's path.
        assert_eq!(
            svc["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"].as_str(),
            Some("/health/ready"),
            "{name}"
        );
    }
}

#[test]
fn class_alb_without_a_load_balancer_is_refused_on_eks() {
    let out = ecommerce_alb("").unwrap();
    assert!(!out.files.is_empty());
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let start = yaml.find("\nload_balancer:\n").unwrap();
    let end = yaml.find("\ningress:\n").unwrap();
    let yaml = format!("{}{}", &yaml[..start], &yaml[end..]).replace(
        "  class: nginx # kubernetes.io/ingress.class: nginx\n",
        "  class: alb\n",
    );
    let err = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`ingress.class`"), "{err}");
    assert!(err.contains("load_balancer"), "{err}");
}

/// A new user's EKS Fargate blueprint with `ingress.class: alb` and a `load_balancer` that
/// says how targets are checked and drained.
fn pipeline(edit: impl Fn(String) -> String) -> Result<infragen::Output, String> {
    let path = root().join("tests/fixtures/new-user/pipeline-fargate.yaml");
    let yaml = edit(std::fs::read_to_string(&path).unwrap());
    infragen::synthesize(
        "pipeline.yaml",
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .map_err(|d| d.to_string())
}

/// The AWS Load Balancer Controller makes one target group per routed Service and reads how
/// to check and drain it from the Service's (else the Ingress's) annotations. The blueprint's
/// `load_balancer.health_check` and `deregistration_delay` were dropped on EKS: every target
/// group checked `GET /` (or the probe's path) every 15 s expecting exactly 200, and drained
/// for 300 s — not what the blueprint says, and not what ECS's target groups do with it.
#[test]
fn an_alb_of_class_alb_checks_and_drains_targets_as_the_load_balancer_says() {
    let out = pipeline(|y| y).unwrap();
    let routed = routed_services(&out);
    let names: Vec<&str> = routed.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["console", "ingest"]);
    for (name, svc) in &routed {
        let a = &svc["metadata"]["annotations"];
        let get = |k: &str| a[format!("alb.ingress.kubernetes.io/{k}").as_str()].as_str();
        // The ingest pods' readiness path is /ready: the load balancer's own path wins, as on
        // ECS (edge.rs `target_group_body`).
        assert_eq!(get("healthcheck-path"), Some("/healthz"), "{name}");
        assert_eq!(get("healthcheck-interval-seconds"), Some("15"), "{name}");
        assert_eq!(get("healthcheck-timeout-seconds"), Some("5"), "{name}");
        assert_eq!(get("unhealthy-threshold-count"), Some("3"), "{name}");
        // Not given: ECS's target-group default, as the timeout was judged against.
        assert_eq!(get("healthy-threshold-count"), Some("2"), "{name}");
        assert_eq!(get("success-codes"), Some("200-299"), "{name}");
        assert_eq!(
            get("target-group-attributes"),
            Some("deregistration_delay.timeout_seconds=20"),
            "{name}"
        );
    }
    // Without `load_balancer.health_check` the pods' probe path is checked, as before.
    let out = pipeline(|y| {
        y.replace(
            "  health_check: { path: /healthz, interval: 15, timeout: 5, unhealthy_threshold: 3, matcher: \"200-299\" }\n",
            "",
        )
    })
    .unwrap();
    let paths: Vec<(String, Option<String>)> = routed_services(&out)
        .iter()
        .map(|(n, s)| {
            let p = s["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"]
                .as_str()
                .map(String::from);
            (n.clone(), p)
        })
        .collect();
    assert_eq!(
        paths,
        [
            ("console".to_string(), Some("/healthz".to_string())),
            ("ingest".to_string(), Some("/ready".to_string()))
        ]
    );
}

/// A timeout given without an interval was judged against ECS's default interval (30 s) but
/// written alone, so the controller's default (15 s) applied: a timeout of 20 s, accepted at
/// synth, is one the ELB API refuses (the timeout must be below the interval).
#[test]
fn a_health_check_timeout_alone_gets_the_interval_it_was_judged_against() {
    let out = pipeline(|y| y.replace("interval: 15, timeout: 5", "timeout: 20")).unwrap();
    let routed = routed_services(&out);
    assert_eq!(routed.len(), 2);
    for (name, svc) in routed {
        let a = &svc["metadata"]["annotations"];
        let n = |k: &str| -> u32 {
            a[format!("alb.ingress.kubernetes.io/{k}").as_str()]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no {k}"))
                .parse()
                .unwrap()
        };
        assert!(
            n("healthcheck-timeout-seconds") < n("healthcheck-interval-seconds"),
            "{name}"
        );
    }
}

/// What the controller would write onto the target groups is judged by the ELB's limits on
/// EKS too, not only on ECS: the controller would fail to reconcile the Ingress.
#[test]
fn an_alb_health_check_out_of_the_elb_limits_is_refused_on_eks() {
    let err = pipeline(|y| y.replace("interval: 15, timeout: 5", "interval: 4, timeout: 5"))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("load_balancer.health_check.interval"), "{err}");
    assert!(err.contains("load_balancer.health_check.timeout"), "{err}");
    let err = pipeline(|y| y.replace("deregistration_delay: 20", "deregistration_delay: 4000"))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("load_balancer.deregistration_delay"), "{err}");
}

/// EKS with ingress-nginx behind the ALB: the ALB's targets are the controller's pods, checked
/// on its own `/healthz`. The blueprint's `load_balancer.health_check` timing and
/// `deregistration_delay` were dropped there without a word; now they time and drain the
/// controller's target group, and the path the check cannot use is named in a note.
#[test]
fn the_alb_in_front_of_ingress_nginx_takes_the_health_check_timing_and_drain() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let yaml = yaml.replacen(
        "load_balancer:\n",
        "load_balancer:\n  health_check: { path: /status, interval: 10, timeout: 4, unhealthy_threshold: 2 }\n  deregistration_delay: 15\n",
        1,
    );
    let out =
        infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production").unwrap();
    let edge = resources(&out, "platform", "kubernetes_ingress_v1")
        .into_iter()
        .find(|r| r["metadata"]["name"] == "edge")
        .unwrap();
    let a = &edge["metadata"]["annotations"];
    let get = |k: &str| a[format!("alb.ingress.kubernetes.io/{k}")].as_str();
    assert_eq!(get("healthcheck-path"), Some("/healthz"));
    assert_eq!(get("healthcheck-interval-seconds"), Some("10"));
    assert_eq!(get("healthcheck-timeout-seconds"), Some("4"));
    assert_eq!(get("unhealthy-threshold-count"), Some("2"));
    // Not given: ECS's default, as the timeout was judged against.
    assert_eq!(get("healthy-threshold-count"), Some("2"));
    assert_eq!(
        get("target-group-attributes"),
        Some("deregistration_delay.timeout_seconds=15")
    );
    let notes: Vec<String> = out.notes.iter().map(|n| n.to_string()).collect();
    let notes = notes.join("\n");
    assert!(
        notes.contains("load_balancer.health_check") && notes.contains("/status"),
        "{notes}"
    );
}
