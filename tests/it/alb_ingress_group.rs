//! Routes in several namespaces make one Ingress per namespace. With Ingress class `alb` the
//! AWS Load Balancer Controller makes one ALB per Ingress unless they share an IngressGroup
//! (`alb.ingress.kubernetes.io/group.name`): two ALBs of one `load-balancer-name`, the
//! second refused, half the routes unserved. In a group it evaluates the rules by
//! `group.order`, then by the Ingresses' namespace/name, then in each Ingress's order, so a
//! catch-all `/` of a namespace sorted first would take every longer path routed elsewhere.
//! Modelled here: the group's rules in the controller's order, and for each host no Prefix
//! path evaluated before a longer path it covers.

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, root};

/// The new-user EKS Fargate blueprint with its `console` service (routed at `/console`)
/// moved to namespace `ns`, beside `ingest` (routed at `/`) in `pipeline`.
fn pipeline_with_console_in(ns: &str) -> infragen::Output {
    let path = root().join("tests/fixtures/new-user/pipeline-fargate.yaml");
    let yaml = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "  - name: console\n",
            &format!("  - name: console\n    namespace: {ns}\n"),
        )
        .replace(
            "    - { name: pipeline }\n",
            &format!("    - {{ name: pipeline }}\n    - {{ name: {ns} }}\n"),
        )
        .replace(
            "namespaces: [pipeline] }",
            &format!("namespaces: [pipeline, {ns}] }}"),
        );
    infragen::synthesize(
        "pipeline.yaml",
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap()
}

fn annotation<'a>(ing: &'a Value, key: &str) -> Option<&'a str> {
    ing["metadata"]["annotations"][format!("alb.ingress.kubernetes.io/{key}")].as_str()
}

/// Whether Prefix path `p` matches every request `q` matches (Kubernetes: element-wise).
fn covers(p: &str, q: &str) -> bool {
    p == "/" || q == p || q.starts_with(&format!("{}/", p.trim_end_matches('/')))
}

#[test]
fn routes_in_several_namespaces_share_one_alb_in_an_order_that_reaches_every_path() {
    for ns in ["ops", "zconsole"] {
        let out = pipeline_with_console_in(ns);
        let ingresses: Vec<Value> = manifests(&out)
            .into_iter()
            .filter(|d| d["kind"] == "Ingress")
            .collect();
        assert_eq!(ingresses.len(), 2, "{ns}: one Ingress per namespace");
        let groups: Vec<Option<&str>> = ingresses
            .iter()
            .map(|i| annotation(i, "group.name"))
            .collect();
        assert!(
            groups[0].is_some() && groups.iter().all(|g| *g == groups[0]),
            "{ns}: the Ingresses of one load balancer are not one IngressGroup: {groups:?}"
        );
        // The controller's evaluation order: (group.order, namespace/name, position).
        let mut rules: Vec<(i64, String, usize, String, String, String)> = Vec::new();
        for ing in &ingresses {
            let order: i64 = annotation(ing, "group.order").map_or(0, |o| o.parse().unwrap());
            let id = format!(
                "{}/{}",
                ing["metadata"]["namespace"].as_str().unwrap(),
                ing["metadata"]["name"].as_str().unwrap()
            );
            let mut position = 0;
            for rule in ing["spec"]["rules"].as_array().unwrap() {
                let host = rule["host"].as_str().unwrap_or("*").to_string();
                for p in rule["http"]["paths"].as_array().unwrap() {
                    rules.push((
                        order,
                        id.clone(),
                        position,
                        host.clone(),
                        p["path"].as_str().unwrap().to_string(),
                        p["backend"]["service"]["name"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    ));
                    position += 1;
                }
            }
        }
        rules.sort();
        for (i, later) in rules.iter().enumerate() {
            for earlier in &rules[..i] {
                assert!(
                    earlier.3 != later.3 || !covers(&earlier.4, &later.4) || earlier.4 == later.4,
                    "{ns}: `{}` ({}) is evaluated before `{}` ({}) and takes its requests",
                    earlier.4,
                    earlier.5,
                    later.4,
                    later.5
                );
            }
        }
    }
}

/// One namespace, one Ingress: it keeps its implicit group, since moving an Ingress into a
/// named IngressGroup makes the controller replace its ALB (a new DNS name) on the next
/// apply of a running stack.
#[test]
fn a_single_alb_ingress_keeps_its_implicit_group() {
    let path = root().join("tests/fixtures/new-user/pipeline-fargate.yaml");
    let out = infragen::synthesize(
        "pipeline.yaml",
        &std::fs::read(path).unwrap(),
        Provider::Aws,
        "production",
    )
    .unwrap();
    let ingresses: Vec<Value> = manifests(&out)
        .into_iter()
        .filter(|d| d["kind"] == "Ingress")
        .collect();
    assert_eq!(ingresses.len(), 1);
    assert_eq!(annotation(&ingresses[0], "group.name"), None);
    assert_eq!(annotation(&ingresses[0], "group.order"), None);
}
