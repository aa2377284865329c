//! The ALB the AWS Load Balancer Controller makes for an Ingress on EKS takes the certificate
//! of `certificate-arn`, else the ACM certificates it discovers for the Ingress's hosts. In a
//! fresh account the only one is the certificate `infra` issues, so each host must be one of
//! its names, or the controller makes no load balancer. Checked on the output of every
//! shipped blueprint, and on blueprints that break it (refused at validation).

use infragen::Provider;
use serde_json::Value;

use crate::support::{blocks, resources, root};

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
    for (stem, env, out) in crate::support::aws_outputs() {
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
    for (stem, env, out) in crate::support::aws_outputs() {
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

/// The data sources of type `ty` in root module `terraform/<module>`, by name.
fn data_sources(out: &infragen::Output, module: &str, ty: &str) -> Vec<(String, Value)> {
    blocks(out, module, "data", ty)
}

/// `platform` waits for the ALB in front of ingress-nginx (`wait_for_load_balancer`), which
/// the controller makes only once ACM has *issued* the certificate `infra` created (it
/// discovers issued certificates only). Applied right after `infra`, before the DNS
/// validation records exist, the wait ran into the Ingress's create timeout with no reason
/// given and left it tainted. So `platform` first waits for ACM itself
/// (`aws_acm_certificate_validation`, up to 75 minutes, the ECS listener's wait), on the
/// certificate of infra's domain still pending validation, and the edge Ingress follows.
#[test]
fn the_edge_ingress_waits_for_acm_to_issue_the_certificate_infra_created() {
    let mut checked = 0;
    for (stem, env, out) in crate::support::aws_outputs() {
        let Some(edge) = resources(&out, "platform", "kubernetes_ingress_v1")
            .into_iter()
            .find(|i| i["wait_for_load_balancer"] == true)
        else {
            continue;
        };
        let Some(cert) = resources(&out, "infra", "aws_acm_certificate").pop() else {
            continue;
        };
        let domain = cert["domain_name"].as_str().unwrap();
        let lookups = data_sources(&out, "platform", "aws_acm_certificate");
        let (name, lookup) = lookups
            .iter()
            .find(|(_, d)| d["domain"] == domain)
            .unwrap_or_else(|| panic!("{stem} {env}: platform does not look up {domain}"));
        let statuses = lookup["statuses"].as_array().cloned().unwrap_or_default();
        assert!(
            statuses.contains(&Value::from("PENDING_VALIDATION")),
            "{stem} {env}: the lookup of {domain} must find it before it is issued: {lookup}"
        );
        assert_eq!(lookup["most_recent"], true, "{stem} {env}: {lookup}");
        let waits = resources(&out, "platform", "aws_acm_certificate_validation");
        assert!(
            waits.iter().any(
                |w| w["certificate_arn"] == format!("${{data.aws_acm_certificate.{name}.arn}}")
            ),
            "{stem} {env}: platform does not wait for ACM to issue {domain}: {waits:?}"
        );
        let depends: Vec<&str> = edge["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert!(
            depends.contains(&"aws_acm_certificate_validation.main"),
            "{stem} {env}: the edge Ingress does not wait for the certificate: {depends:?}"
        );
        checked += 1;
    }
    assert!(
        checked > 0,
        "no edge Ingress with a certificate of infra's was checked"
    );
}

/// With the domain's DNS hosted elsewhere (Cloudflare, a registrar), the ECS listener's wait
/// for ACM (`aws_acm_certificate_validation`, 75 minutes) blocked `infra` before it printed
/// `certificate_validation_records`, the records it was waiting for. `preconditions.json`
/// gives a two-step first apply instead: `terraform apply -target=<certificate>` creates the
/// certificate alone, and Terraform evaluates, in a targeted apply, the outputs that refer
/// only to targeted resources (checked with terraform 1.11: the output is printed). So the
/// named address must be the certificate `infra` declares, the output must refer to nothing
/// else, and the output the note points the hosts at must exist.
#[test]
fn the_ecs_certificate_records_come_out_of_a_targeted_first_apply() {
    let mut checked = 0;
    for (stem, env, out) in crate::support::aws_outputs() {
        let pre: Vec<Value> = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
        let Some(ecs) = out.files.get("terraform/infra/ecs.tf.json") else {
            continue;
        };
        if !ecs.contains("aws_ecs_service") {
            continue;
        }
        for p in pre.iter().filter(|p| p["kind"] == "AcmDnsValidation") {
            let why = p["why"].as_str().unwrap();
            let target = why
                .split("-target=")
                .nth(1)
                .and_then(|t| t.split(['`', ' ']).next())
                .unwrap_or_else(|| panic!("{stem} {env}: no `-target=` in {why}"));
            let (ty, name) = target.split_once('.').unwrap();
            let certs = infra_resource_names(&out, ty);
            assert!(
                certs.contains(&name.to_string()),
                "{stem} {env}: {target} not in infra"
            );
            let outputs: Value =
                serde_json::from_str(&out.files["terraform/infra/outputs.tf.json"]).unwrap();
            let records = outputs["output"]["certificate_validation_records"]["value"]
                .as_str()
                .unwrap();
            let refs: Vec<&str> = records
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .filter(|w| w.starts_with("aws_"))
                .collect();
            assert!(
                !refs.is_empty() && refs.iter().all(|r| r.starts_with(&format!("{target}."))),
                "{stem} {env}: the records output refers to {refs:?}, not only {target}"
            );
            // A name and its wildcard share one record, listed once (to paste once).
            assert!(
                records.starts_with("${distinct("),
                "{stem} {env}: {records}"
            );
            let dns = why
                .split("output `")
                .skip(2)
                .find_map(|t| t.split('`').next())
                .unwrap_or_else(|| panic!("{stem} {env}: no second output named in {why}"));
            assert!(
                outputs["output"].get(dns).is_some(),
                "{stem} {env}: no output {dns}"
            );
            checked += 1;
        }
    }
    assert!(checked > 2, "only {checked} ECS certificates checked");
}

/// The names of the resources of type `ty` in `terraform/infra`.
fn infra_resource_names(out: &infragen::Output, ty: &str) -> Vec<String> {
    blocks(out, "infra", "resource", ty)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// On every AWS platform the validation records come out as a DNS host takes them (`name`,
/// `type`, `value`) and each once: a domain and its wildcard share one record (EKS listed
/// ACM's raw `domain_validation_options`, one entry per name).
#[test]
fn every_certificate_output_lists_each_record_once_as_a_dns_host_takes_it() {
    let mut checked = 0;
    for (stem, env, out) in crate::support::aws_outputs() {
        let Some(text) = out.files.get("terraform/infra/outputs.tf.json") else {
            continue;
        };
        let outputs: Value = serde_json::from_str(text).unwrap();
        let Some(records) = outputs["output"]["certificate_validation_records"]["value"].as_str()
        else {
            continue;
        };
        assert!(
            records.starts_with("${distinct([for o in aws_acm_certificate.main.domain_validation_options : {name = o.resource_record_name"),
            "{stem} {env}: {records}"
        );
        checked += 1;
    }
    assert!(checked > 4, "only {checked} outputs checked");
}
