//! ingress-nginx behind the ALB takes the client's address from X-Forwarded-For
//! (`use-forwarded-headers`), with `real_ip_recursive on`: nginx walks the header from the
//! right past the addresses it trusts (`proxy-real-ip-cidr`) and keeps the first one it does
//! not. The chart trusts `0.0.0.0/0` by default, so every entry is trusted and nginx kept
//! the *leftmost* one — whatever the client wrote in its own X-Forwarded-For. A client then
//! chose the address its `limit-rpm` budget, `whitelist-source-range` and access log were
//! counted against. Trusting the VPC alone (where the ALB's nodes are) leaves the address
//! the ALB appended (ingress-nginx ConfigMap docs: `proxy-real-ip-cidr`; nginx
//! `ngx_http_realip_module`).

use serde_json::Value;

use crate::support::{matrix, resources, synth};

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
            if config["use-forwarded-headers"] != "true" {
                continue;
            }
            let vpc = resources(&out, "infra", "aws_vpc")
                .pop()
                .unwrap_or_else(|| panic!("{stem} {env}: no VPC"));
            let trusted = config["proxy-real-ip-cidr"].as_str().unwrap_or("0.0.0.0/0");
            assert_eq!(
                trusted, vpc["cidr_block"],
                "{stem} --provider {provider} --env {env}: nginx trusts X-Forwarded-For from {trusted}, so a client sets its own address"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no ingress-nginx behind an ALB was checked");
}

/// On EKS without `load_balancer`, ingress-nginx is behind the Load Balancer Controller's NLB
/// with IP targets, whose TCP target groups do not preserve client addresses (AWS: "IP type
/// target groups (TCP, TLS): Disabled"): a rate limit or an address allow-list (round 11's
/// admin UI open to the office range only) would see the NLB's addresses. synth says so
/// (`eks-nlb-client-ip`), and not once the ALB fronts ingress-nginx.
#[test]
fn eks_nginx_behind_the_nlb_warns_of_per_client_settings() {
    let path = crate::support::root().join("tests/fixtures/new-user/notes-eks.yaml");
    let base = std::fs::read_to_string(path).unwrap();
    let limited = base.replacen(
        "  tls: { secret_name: notes-tls, issuer: le }\n",
        "  tls: { secret_name: notes-tls, issuer: le }\n  rate_limit: { requests: 600, window: 1m }\n  annotations: { nginx.ingress.kubernetes.io/whitelist-source-range: 203.0.113.0/24 }\n",
        1,
    );
    assert_ne!(limited, base);
    let warnings = |text: &str| -> Vec<String> {
        infragen::synthesize(
            "notes.yaml",
            text.as_bytes(),
            infragen::Provider::Aws,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("eks-nlb-client-ip"))
        .map(|n| n.to_string())
        .collect()
    };
    let w = warnings(&limited);
    assert_eq!(w.len(), 1, "{w:?}");
    for part in [
        "`ingress.rate_limit` (600 per 1m)",
        "`ingress.annotations.nginx.ingress.kubernetes.io/whitelist-source-range`",
        "add `load_balancer`",
    ] {
        assert!(w[0].contains(part), "`{part}` missing: {}", w[0]);
    }
    assert_eq!(warnings(&base), Vec::<String>::new());
    let fronted = limited.replacen(
        "ingress:\n",
        "load_balancer: { certificate: { domain: notes.example.com } }\ningress:\n",
        1,
    );
    assert_ne!(fronted, limited);
    assert_eq!(warnings(&fronted), Vec::<String>::new());
}
