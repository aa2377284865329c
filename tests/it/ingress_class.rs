//! `--provider kubernetes` writes its Ingresses for ingress-nginx whatever `ingress.class`
//! says: an ALB Ingress needs the load balancer's certificate, scheme and IP targets, which
//! only the AWS back-end writes. A blueprint of class `alb` (EKS Fargate behind the AWS Load
//! Balancer Controller) synthesized for an existing cluster got class `nginx` without a word,
//! and a cluster that runs only the AWS Load Balancer Controller would serve none of it.

use infragen::Provider;

use crate::support::{manifests, root};

fn pipeline(edit: impl Fn(String) -> String, provider: Provider) -> infragen::Output {
    let path = root().join("tests/fixtures/new-user/pipeline-fargate.yaml");
    let yaml = edit(std::fs::read_to_string(&path).unwrap());
    infragen::synthesize("pipeline.yaml", yaml.as_bytes(), provider, "production").unwrap()
}

fn classes(out: &infragen::Output) -> Vec<String> {
    manifests(out)
        .iter()
        .filter(|d| d["kind"] == "Ingress")
        .map(|d| d["spec"]["ingressClassName"].as_str().unwrap().to_string())
        .collect()
}

fn warned(out: &infragen::Output) -> bool {
    out.notes
        .iter()
        .map(|n| n.to_string())
        .any(|n| n.contains("ingress-class") && n.contains("ingress.class: alb"))
}

#[test]
fn class_alb_on_an_existing_cluster_is_written_for_nginx_with_a_warning() {
    let out = pipeline(|y| y, Provider::Kubernetes);
    assert_eq!(classes(&out), ["nginx"]);
    assert!(warned(&out), "{:?}", out.notes);
    // The AWS back-end writes the class asked for, without the warning.
    let out = pipeline(|y| y, Provider::Aws);
    assert_eq!(classes(&out), ["alb"]);
    assert!(!warned(&out));
    // Class nginx on an existing cluster: nothing to say.
    let out = pipeline(
        |y| y.replace("  class: alb\n", "  class: nginx\n"),
        Provider::Kubernetes,
    );
    assert_eq!(classes(&out), ["nginx"]);
    assert!(!warned(&out));
}
