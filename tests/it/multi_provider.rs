//! One blueprint for several providers (`tests/fixtures/new-user/`). A fixture whose
//! environments each belong to one provider lists its pairs in a `# targets:` header
//! (`support::targets`), and every harness check synthesizes exactly those; the pairs it
//! leaves out (an ECS environment on DigitalOcean, a DOKS one on AWS) must be refused with a
//! positioned error that names the portable form, never synthesized into something else.

use crate::connections::new_user_fixtures;
use crate::support::{manifests, refused_targets, resources, root, targets};

#[test]
fn the_pairs_a_multi_provider_fixture_leaves_out_are_refused_with_a_position() {
    let mut refused = 0;
    for path in new_user_fixtures() {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!targets(&path).is_empty(), "{rel}: no targets");
        for (provider, env) in refused_targets(&path) {
            match infragen::synthesize(&rel, &bytes, provider, &env) {
                Ok(_) => panic!(
                    "{rel} --provider {provider} --env {env}: synthesized, but the fixture's `# targets:` leaves it out"
                ),
                Err(d) => {
                    let text = d.to_string();
                    assert!(
                        text.contains(&format!("--> {rel}:")),
                        "{rel} --provider {provider} --env {env}: refused without a position:\n{text}"
                    );
                    assert!(
                        text.contains("cluster.platform"),
                        "{rel} --provider {provider} --env {env}: refused for another reason than the platform:\n{text}"
                    );
                    refused += 1;
                }
            }
        }
    }
    assert!(refused >= 4, "only {refused} left-out pairs checked");
}

/// A fixture written for several providers is checked on every one of them.
#[test]
fn a_fixture_for_several_providers_is_synthesized_for_each() {
    let mut multi = 0;
    for path in new_user_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let env = &targets(&path)[0].1;
        // Each provider as its own merge has it: `per_provider.<p>` may configure it.
        let load = |p| infragen::blueprint::load("x", &bytes, p, env).unwrap();
        let configured = [
            (
                load(infragen::Provider::Aws)
                    .blueprint
                    .providers
                    .aws
                    .is_some(),
                infragen::Provider::Aws,
            ),
            (
                load(infragen::Provider::Digitalocean)
                    .blueprint
                    .providers
                    .digitalocean
                    .is_some(),
                infragen::Provider::Digitalocean,
            ),
        ];
        let covered: Vec<_> = targets(&path).into_iter().map(|(p, _)| p).collect();
        for (given, p) in configured {
            if given {
                assert!(
                    covered.contains(&p),
                    "{}: configures {p} but no check synthesizes it",
                    path.display()
                );
            }
        }
        if configured.iter().filter(|(g, _)| *g).count() > 1 {
            multi += 1;
        }
    }
    assert!(multi >= 3, "only {multi} multi-provider fixtures");
}

/// A blueprint for AWS and DigitalOcean keeps its AWS subnets in the base; a DigitalOcean
/// environment gives its VPC a range of its own (DigitalOcean refuses overlapping VPC ranges
/// in one account) without restating the subnets, which DigitalOcean does not build. They
/// are judged on AWS only.
#[test]
fn a_digitalocean_environment_may_move_the_vpc_range_without_the_aws_subnets() {
    let text = r#"
name: brightline
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: fra1 }
network:
  cidr: 10.20.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.20.0.0/24, 10.20.1.0/24]
    private: [10.20.10.0/24, 10.20.11.0/24]
cluster: { platform: eks }
node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 3 }]
services:
  - { name: web, image: ghcr.io/brightline/web:2.4.1, port: 8080 }
environments:
  production: {}
  do-production:
    network: { cidr: 10.22.0.0/16 }
"#;
    let out = infragen::synthesize(
        "b.yaml",
        text.as_bytes(),
        infragen::Provider::Digitalocean,
        "do-production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let vpc: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/network.tf.json"]).unwrap();
    assert_eq!(
        vpc["resource"]["digitalocean_vpc"]["main"]["ip_range"],
        "10.22.0.0/16"
    );
    // On AWS the same subnets outside a moved range are still refused.
    let Err(err) = infragen::synthesize(
        "b.yaml",
        text.as_bytes(),
        infragen::Provider::Aws,
        "do-production",
    ) else {
        panic!("AWS accepted subnets outside the VPC");
    };
    let err = err.to_string();
    assert!(err.contains("is outside the VPC `10.22.0.0/16`"), "{err}");
}

/// Synthesizes `text` for `provider` (environment `production`), the error as text.
fn synth_text(text: &str, provider: infragen::Provider) -> Result<infragen::Output, String> {
    infragen::synthesize("b.yaml", text.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

/// The refusal of `text` for `provider`; panics with `why` when it synthesizes.
fn refused(text: &str, provider: infragen::Provider, why: &str) -> String {
    match synth_text(text, provider) {
        Ok(_) => panic!("--provider {provider}: {why}"),
        Err(e) => e,
    }
}

/// An `ecs_fargate` blueprint, synthesized for an existing cluster (`--provider kubernetes`),
/// runs its services as Kubernetes pods: ECS's rules (task definitions have no annotations)
/// do not apply there, and the Kubernetes rules (budgets, ingress-nginx's TLS for gRPC) do.
const ECS_BASE: &str = r#"
name: multi
providers:
  aws: { region: eu-west-1 }
network:
  cidr: 10.20.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.20.0.0/24, 10.20.1.0/24]
    private: [10.20.10.0/24, 10.20.11.0/24]
cluster: { platform: ecs_fargate }
load_balancer: { certificate: { arn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" } }
"#;

#[test]
fn pod_annotations_of_an_ecs_blueprint_reach_the_pods_on_an_existing_cluster() {
    let text = format!(
        "{ECS_BASE}services:\n  - {{ name: web, image: ghcr.io/x/web:1.0.0, port: 8080, annotations: {{ prometheus.io/scrape: \"true\" }} }}\n"
    );
    let out = synth_text(&text, infragen::Provider::Kubernetes).unwrap_or_else(|e| panic!("{e}"));
    let deployment = manifests(&out)
        .into_iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "web")
        .expect("a Deployment for web");
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    // On ECS itself they are still refused rather than dropped.
    let err = refused(&text, infragen::Provider::Aws, "ECS took annotations");
    assert!(err.contains("ECS task definitions have none"), "{err}");
}

#[test]
fn a_budget_blocking_every_drain_is_refused_for_an_ecs_blueprint_on_an_existing_cluster() {
    let text = format!(
        "{ECS_BASE}services:\n  - {{ name: web, image: ghcr.io/x/web:1.0.0, port: 8080, replicas: 2, pdb: {{ min_available: \"100%\" }} }}\n"
    );
    let err = refused(
        &text,
        infragen::Provider::Kubernetes,
        "a PodDisruptionBudget allowing no eviction was accepted",
    );
    assert!(err.contains("allows no pod to be evicted"), "{err}");
    assert!(err.contains("b.yaml:"), "no position: {err}");
}

#[test]
fn grpc_through_ingress_nginx_without_tls_is_refused_for_an_ecs_blueprint_on_an_existing_cluster() {
    let text = format!(
        "{ECS_BASE}ingress: {{ hosts: [rpc.example.com] }}\nservices:\n  - {{ name: api, image: ghcr.io/x/api:1.0.0, port: 9090, protocol: grpc, routes: [{{ path: / }}] }}\n"
    );
    let err = refused(
        &text,
        infragen::Provider::Kubernetes,
        "gRPC through ingress-nginx's plain-HTTP port was accepted",
    );
    assert!(
        err.contains("speaks HTTP/2 (and so gRPC) only on its TLS port"),
        "{err}"
    );
}

/// A Gateway in the base of a blueprint whose AWS environments run on ECS: the ALB routes
/// `routes` there and the Gateway is noted as absent (like ingress-nginx's Ingress), while
/// a Kubernetes provider gets it.
#[test]
fn an_ecs_blueprint_keeps_its_gateway_for_its_kubernetes_providers() {
    let text = format!(
        "{ECS_BASE}ingress: {{ hosts: [gw.example.com], gateway: {{ class: eg }} }}\nservices:\n  - {{ name: web, image: ghcr.io/x/web:1.0.0, port: 8080, routes: [{{ path: / }}] }}\n"
    );
    let out = synth_text(&text, infragen::Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("absent from the output") && n.text.contains("ingress")),
        "the Gateway is dropped on ECS without a note"
    );
    let groups = resources(&out, "infra", "aws_lb_target_group");
    assert_eq!(groups.len(), 1, "the ALB does not route to `web`");
    let out = synth_text(&text, infragen::Provider::Kubernetes).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        manifests(&out).iter().any(|d| d["kind"] == "Gateway"),
        "no Gateway on the existing cluster"
    );
}

/// An `eks_fargate` blueprint is a DOKS cluster on DigitalOcean, which needs node pools
/// (`eks_fargate` refuses them on AWS only), and a set of pods on an existing cluster,
/// which needs no Fargate profile.
#[test]
fn node_pools_and_fargate_profiles_are_judged_on_the_platform_each_provider_builds() {
    let text = r#"
name: ef
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: fra1 }
cluster: { platform: eks_fargate }
node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 3 }]
services:
  - { name: web, image: ghcr.io/x/web:1.0.0, port: 8080 }
"#;
    let out = synth_text(text, infragen::Provider::Digitalocean).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        resources(&out, "infra", "digitalocean_kubernetes_cluster")[0]["node_pool"]["name"],
        "general"
    );
    let err = refused(text, infragen::Provider::Aws, "EKS Fargate took node pools");
    assert!(err.contains("runs without nodes"), "{err}");
    assert!(err.contains("needs at least one Fargate profile"), "{err}");
    synth_text(text, infragen::Provider::Kubernetes).unwrap_or_else(|e| panic!("{e}"));
}

/// A blueprint whose environments each belong to one provider: its DigitalOcean registry
/// (one per account, created by one environment's bootstrap when each has its own) is created
/// by a DigitalOcean environment. `production` is ECS there, never applied on DigitalOcean;
/// naming it the creator left every DigitalOcean environment reading a registry nobody made.
#[test]
fn the_registry_is_created_by_an_environment_digitalocean_builds() {
    let path = root().join("tests/fixtures/new-user/brightline-agency-separate-envs.yaml");
    let text = std::fs::read_to_string(path).unwrap().replace(
        "buckets:",
        "registry: { name: brightline, repositories: [web] }\nbuckets:",
    );
    let creates = |env: &str| {
        let out = infragen::synthesize(
            "b.yaml",
            text.as_bytes(),
            infragen::Provider::Digitalocean,
            env,
        )
        .unwrap_or_else(|d| panic!("{d}"));
        out.files
            .get("terraform/bootstrap/registry.tf.json")
            .is_some_and(|t| t.contains("\"digitalocean_container_registry\""))
    };
    assert!(creates("do-production"));
    assert!(!creates("do-staging"));
}
