//! The ALB the AWS Load Balancer Controller makes for an Ingress on EKS takes the certificate
//! of `certificate-arn`, else the ACM certificates it discovers for the Ingress's hosts. In a
//! fresh account the only one is the certificate `infra` issues, so each host must be one of
//! its names, or the controller makes no load balancer. Checked on the output of every
//! shipped blueprint, and on blueprints that break it (refused at validation).

use infragen::Provider;
use serde_json::Value;

use crate::support::{matrix, resources, root};

/// `host` is one of the certificate's names (equal, or one label under `*.`).
fn covered(names: &[String], host: &str) -> bool {
    names.iter().any(|n| match n.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(l, rest)| !l.is_empty() && rest == parent),
        None => n == host,
    })
}

#[test]
fn every_alb_ingress_host_has_a_certificate_in_a_fresh_account() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let out = crate::support::synth(&path, provider, &env);
        let albs: Vec<Value> = resources(&out, "platform", "kubernetes_ingress_v1")
            .into_iter()
            .filter(|i| i["spec"]["ingress_class_name"] == "alb")
            .collect();
        for ing in albs {
            let a = &ing["metadata"]["annotations"];
            if a.get("alb.ingress.kubernetes.io/certificate-arn").is_some() {
                continue;
            }
            let names: Vec<String> = resources(&out, "infra", "aws_acm_certificate")
                .iter()
                .flat_map(|c| {
                    std::iter::once(c["domain_name"].as_str().unwrap().to_string()).chain(
                        c["subject_alternative_names"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().unwrap().to_string()),
                    )
                })
                .collect();
            for rule in ing["spec"]["rule"].as_array().unwrap() {
                let host = rule["host"].as_str().expect("a host to discover by");
                assert!(
                    covered(&names, host),
                    "{stem} {env}: host {host} has no certificate (issued: {names:?})"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no ALB Ingress was checked");
}

fn ecommerce() -> String {
    std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap()
}

fn synth(yaml: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .map_err(|d| d.to_string())
}

#[test]
fn an_ingress_host_the_certificate_does_not_name_is_refused() {
    let hosts = "  hosts: [api.ecommerce.com]\n";
    assert!(ecommerce().contains(hosts));
    let yaml = ecommerce().replace(hosts, "  hosts: [api.ecommerce.com, shop.example.com]\n");
    let err = synth(&yaml).unwrap_err();
    assert!(err.contains("`ingress.hosts[1]`"), "{err}");
    assert!(err.contains("shop.example.com"), "{err}");
    assert!(!err.contains("`ingress.hosts[0]`"), "{err}");

    // Named on the certificate: accepted, and issued for.
    let domain = "    domain: api.ecommerce.com\n";
    assert!(yaml.contains(domain));
    let yaml = yaml.replace(
        domain,
        "    domain: api.ecommerce.com\n    alternative_names: [\"*.example.com\"]\n",
    );
    synth(&yaml).unwrap();
}

#[test]
fn an_alb_without_a_certificate_is_refused_on_eks() {
    let domain = "    domain: api.ecommerce.com\n";
    // A certificate with neither a domain nor an ARN.
    let yaml = ecommerce().replace(domain, "    alternative_names: []\n");
    assert_ne!(yaml, ecommerce());
    let err = synth(&yaml).unwrap_err();
    assert!(err.contains("`load_balancer.certificate`"), "{err}");

    // An existing certificate: accepted, and named on the ALB.
    let yaml = ecommerce().replace(
        domain,
        "    arn: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000\n",
    );
    let out = synth(&yaml).unwrap();
    let ing = resources(&out, "platform", "kubernetes_ingress_v1");
    assert!(
        ing[0]["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"]
            .as_str()
            .is_some_and(|a| a.ends_with("0a1b2c3d-0000-4000-8000-000000000000"))
    );
}

/// The certificate `infra` creates for an ALB on EKS is issued only once its DNS validation
/// records exist, and until then the controller discovers no certificate for the Ingress
/// hosts: every AWS output with one lists the records to make in `preconditions.json`
/// (`AcmDnsValidation`, with every name of the certificate), as the ECS output does.
#[test]
fn a_certificate_infra_creates_is_a_listed_precondition() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let out = crate::support::synth(&path, provider, &env);
        let pre: Vec<Value> = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
        for c in resources(&out, "infra", "aws_acm_certificate") {
            let domain = c["domain_name"].as_str().unwrap();
            let listed = pre
                .iter()
                .find(|p| p["kind"] == "AcmDnsValidation" && p["name"] == domain)
                .unwrap_or_else(|| {
                    panic!("{stem} {env}: certificate {domain} is not in preconditions.json")
                });
            let mut names = vec![Value::from(domain)];
            names.extend(c["subject_alternative_names"].as_array().unwrap().clone());
            assert_eq!(listed["keys"], Value::from(names), "{stem} {env}");
            checked += 1;
        }
    }
    assert!(checked > 2, "only {checked} certificates checked");
}
