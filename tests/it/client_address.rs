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
