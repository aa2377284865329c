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

use crate::support::{matrix, synth};

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
            let selects = match spec["podSelector"]["matchLabels"].as_hash() {
                None => true,
                Some(m) => m.iter().all(|(k, v)| {
                    labels
                        .iter()
                        .any(|(lk, lv)| k.as_str() == Some(lk) && v.as_str() == Some(lv))
                }),
            };
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

/// The resources of one type in `terraform/platform`.
fn platform(out: &infragen::Output, ty: &str) -> Vec<Value> {
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with("terraform/platform/"))
        .filter_map(|(_, t)| {
            let doc: Value = serde_json::from_str(t).unwrap();
            doc.pointer(&format!("/resource/{ty}"))
                .and_then(Value::as_object)
                .map(|o| o.values().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

#[test]
fn the_alb_health_checks_a_port_the_ingress_policies_admit_from_outside() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let out = synth(&path, provider, &env);
        let Some(edge) = platform(&out, "kubernetes_ingress_v1")
            .into_iter()
            .find(|i| i["spec"]["ingress_class_name"] == "alb")
        else {
            continue;
        };
        let ns = edge["metadata"]["namespace"].as_str().unwrap();
        let a = &edge["metadata"]["annotations"];
        // The container port behind the Service port the ALB forwards to (named `https`).
        let nginx = platform(&out, "helm_release")
            .into_iter()
            .find(|r| r["chart"] == "ingress-nginx")
            .expect("ingress-nginx release");
        let values: Value = serde_json::from_str(nginx["values"][0].as_str().unwrap()).unwrap();
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
