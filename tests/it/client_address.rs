//! ingress-nginx behind the ALB takes the client's address from X-Forwarded-For
//! (`use-forwarded-headers`), with `real_ip_recursive on`: nginx walks the header from the
//! right past the addresses it trusts (`proxy-real-ip-cidr`) and keeps the first one it does
//! not. The chart trusts `0.0.0.0/0` by default, so every entry is trusted and nginx kept
//! the *leftmost* one — whatever the client wrote in its own X-Forwarded-For. A client then
//! chose the address its `limit-rpm` budget, `whitelist-source-range` and access log were
//! counted against. Trusting the VPC alone (where the ALB's nodes are) leaves the address
//! the ALB appended (ingress-nginx ConfigMap docs: `proxy-real-ip-cidr`; nginx
//! `ngx_http_realip_module`). Behind its NLB, ingress-nginx reads a PROXY protocol header
//! instead, believed from the VPC alike.
//!
//! And every edge — ingress-nginx or the Envoy proxies of the Gateway API, behind an NLB,
//! the ALB or a DigitalOcean load balancer — gets the client's address where the output
//! counts per client, with PROXY protocol at both ends or at neither.

use serde_json::Value;

use crate::support::{cloud_outputs, manifests, matrix, resources, root, synth};

#[test]
fn nginx_behind_the_alb_trusts_forwarded_addresses_from_the_vpc_only() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        for nginx in resources(&out, "platform", "helm_release")
            .into_iter()
            .filter(|r| r["chart"] == "ingress-nginx")
        {
            let values: Value = serde_json::from_str(nginx["values"][0].as_str().unwrap()).unwrap();
            let config = &values["controller"]["config"];
            // Behind the ALB (X-Forwarded-For) or the NLB (PROXY protocol): either way the
            // realip module believes only what `proxy-real-ip-cidr` sends.
            if config["use-forwarded-headers"] != "true" && config["use-proxy-protocol"] != "true" {
                continue;
            }
            if provider != infragen::Provider::Aws {
                continue;
            }
            let vpc = resources(&out, "infra", "aws_vpc")
                .pop()
                .unwrap_or_else(|| panic!("{stem} {env}: no VPC"));
            let trusted = config["proxy-real-ip-cidr"].as_str().unwrap_or("0.0.0.0/0");
            assert_eq!(
                trusted, vpc["cidr_block"],
                "{stem} --provider {provider} --env {env}: nginx believes forwarded addresses from {trusted}, so a client sets its own"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no ingress-nginx behind an AWS load balancer was checked"
    );
}

const AWS_PROXY_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol";
const DO_PROXY_PROTOCOL: &str = "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol";

/// The load balancer in front of an edge proxy, from its Service's annotations.
#[derive(Debug, PartialEq)]
enum Balancer {
    /// The AWS Load Balancer Controller's NLB (`aws-load-balancer-type: external`).
    Nlb,
    /// A DigitalOcean load balancer (`do-loadbalancer-name`).
    Digitalocean,
    /// None of its own: the ALB fronts ingress-nginx, whose Service is a ClusterIP.
    None,
}

fn balancer(annotations: &Value) -> Balancer {
    if annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external" {
        Balancer::Nlb
    } else if annotations
        .get("service.beta.kubernetes.io/do-loadbalancer-name")
        .is_some()
    {
        Balancer::Digitalocean
    } else {
        Balancer::None
    }
}

/// Whether a Service's annotations make its load balancer prepend a PROXY header.
fn sends(annotations: &Value) -> bool {
    annotations[AWS_PROXY_PROTOCOL] == "*" || annotations[DO_PROXY_PROTOCOL] == "true"
}

/// One edge of an output: (what, its balancer, the balancer sends PROXY protocol, the proxy
/// reads it, the proxy also takes connections without it).
type Edge = (String, Balancer, bool, bool, bool);

/// The edges of an output: ingress-nginx (its Helm values) and each Gateway of the Envoy
/// Gateway path (its `spec.infrastructure.annotations`, which Envoy Gateway puts on the
/// proxies' Service, and the ClientTrafficPolicies that target it).
fn edges(out: &infragen::Output) -> Vec<Edge> {
    let mut all = Vec::new();
    for nginx in resources(out, "platform", "helm_release")
        .into_iter()
        .filter(|r| r["chart"] == "ingress-nginx")
    {
        let values: Value = serde_json::from_str(nginx["values"][0].as_str().unwrap()).unwrap();
        let c = &values["controller"];
        let annotations = &c["service"]["annotations"];
        let reads = c["config"]["use-proxy-protocol"] == "true";
        all.push((
            "ingress-nginx".to_string(),
            balancer(annotations),
            sends(annotations),
            reads,
            false,
        ));
    }
    let docs = manifests(out);
    for gw in docs.iter().filter(|d| d["kind"] == "Gateway") {
        let (name, ns) = (&gw["metadata"]["name"], &gw["metadata"]["namespace"]);
        let policies: Vec<&Value> = docs
            .iter()
            .filter(|d| d["kind"] == "ClientTrafficPolicy" && d["metadata"]["namespace"] == *ns)
            .filter(|d| {
                d["spec"]["targetRefs"].as_array().is_some_and(|t| {
                    t.iter()
                        .any(|r| r["kind"] == "Gateway" && r["name"] == *name)
                })
            })
            .collect();
        let reads = policies
            .iter()
            .any(|p| p["spec"]["proxyProtocol"].is_object());
        let optional = policies
            .iter()
            .any(|p| p["spec"]["proxyProtocol"]["optional"] == true);
        let annotations = &gw["spec"]["infrastructure"]["annotations"];
        all.push((
            format!("Gateway {ns}/{name}"),
            balancer(annotations),
            sends(annotations),
            reads,
            optional,
        ));
    }
    all
}

/// A PROXY protocol header is the client's address only if both ends agree: a proxy that
/// expects one refuses a connection without it (ingress-nginx; Envoy unless `optional`),
/// and one that does not reads the header as a malformed request. So for every edge ×
/// provider the load balancer sends it exactly when the proxy reads it — and does, wherever
/// the balancer is a TCP proxy that would otherwise hide the client (the NLB with IP
/// targets: "IP type target groups (TCP, TLS): Disabled"; a DigitalOcean load balancer:
/// backends "see requests as though they had originated from load balancers"). Only
/// ingress-nginx on DOKS keeps it off without a host to report (its in-cluster requests
/// would lose the header: `digitalocean::platform::proxy_protocol_host`), and says so
/// (`do-client-ip`). The Envoy proxies take a connection without a header too, since
/// in-cluster requests short-cut to them on DOKS never carry one (cert-manager's HTTP-01
/// self-check).
#[test]
fn proxy_protocol_at_both_ends_of_every_edge_or_at_neither() {
    let mut seen: Vec<(&str, Balancer, &str)> = Vec::new();
    for (label, out) in cloud_outputs() {
        for (edge, lb, sends, reads, optional) in edges(&out) {
            assert_eq!(
                sends,
                reads,
                "{label}: {edge}: the load balancer {} PROXY protocol but the proxy {}",
                if sends { "sends" } else { "does not send" },
                if reads {
                    "expects it"
                } else {
                    "does not read it"
                },
            );
            let gateway = edge.starts_with("Gateway");
            match lb {
                Balancer::Nlb => assert!(sends, "{label}: {edge} sees the NLB's addresses"),
                Balancer::Digitalocean if gateway => {
                    assert!(sends, "{label}: {edge} sees the load balancer's addresses")
                }
                Balancer::None => assert!(!sends, "{label}: {edge}: no load balancer of its own"),
                Balancer::Digitalocean => {}
            }
            if gateway && reads {
                assert!(
                    optional,
                    "{label}: {edge}: Envoy would close in-cluster connections without a header"
                );
            }
            let kind = if gateway { "gateway" } else { "nginx" };
            let on = if sends { "on" } else { "off" };
            if !seen
                .iter()
                .any(|(k, b, o)| *k == kind && *b == lb && *o == on)
            {
                seen.push((kind, lb, on));
            }
        }
    }
    // Every kind of edge was met: ingress-nginx behind an NLB, the ALB and a DigitalOcean
    // load balancer (with and without a host), the Gateway behind an NLB and a DigitalOcean
    // load balancer.
    for want in [
        ("nginx", Balancer::Nlb, "on"),
        ("nginx", Balancer::None, "off"),
        ("nginx", Balancer::Digitalocean, "on"),
        ("gateway", Balancer::Nlb, "on"),
        ("gateway", Balancer::Digitalocean, "on"),
    ] {
        assert!(
            seen.contains(&want),
            "no {want:?} edge in the fixtures: {seen:?}"
        );
    }
}

/// On EKS without `load_balancer`, ingress-nginx is behind the Load Balancer Controller's NLB
/// with IP targets, whose TCP target groups do not preserve client addresses. A rate limit
/// or an address allow-list (an admin UI open to the office range only) saw the NLB's
/// addresses, and synth warned `eks-nlb-client-ip`; with PROXY protocol at both ends they
/// see the client's, so nothing is left to warn of.
#[test]
fn eks_nginx_behind_the_nlb_limits_per_client() {
    let path = root().join("tests/fixtures/new-user/notes-eks.yaml");
    let base = std::fs::read_to_string(path).unwrap();
    let limited = base.replacen(
        "  tls: { secret_name: notes-tls, issuer: le }\n",
        "  tls: { secret_name: notes-tls, issuer: le }\n  rate_limit: { requests: 600, window: 1m }\n  annotations: { nginx.ingress.kubernetes.io/whitelist-source-range: 203.0.113.0/24 }\n",
        1,
    );
    assert_ne!(limited, base);
    let out = infragen::synthesize(
        "notes.yaml",
        limited.as_bytes(),
        infragen::Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    // No warning of the client's address, whatever its rule is named.
    let warnings: Vec<String> = out
        .notes
        .iter()
        .filter(|n| n.is_warning())
        .map(|n| n.to_string())
        .filter(|n| n.contains("client") || n.contains("rate_limit"))
        .collect();
    assert_eq!(warnings, Vec::<String>::new());
    let nginx = edges(&out)
        .into_iter()
        .find(|e| e.0 == "ingress-nginx")
        .expect("no ingress-nginx");
    assert_eq!(nginx.1, Balancer::Nlb);
    assert!(
        nginx.2 && nginx.3,
        "PROXY protocol at the NLB {} and in nginx {}",
        nginx.2,
        nginx.3
    );
}
