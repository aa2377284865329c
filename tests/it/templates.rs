//! Blueprint text never becomes a Terraform interpolation: references are typed templates
//! built by the back-ends, and every plain string — tags, environment values, whatever a
//! blueprint says — is escaped (`${` → `$${`, `%{` → `%%{`), at the top level of a body as
//! well as inside JSON documents Terraform reads as strings (ECS container definitions, IAM
//! policies, Helm values).

use infragen::Provider;

use crate::connections::NEW_USER;

/// Template syntax a user might write: an interpolation and a directive.
const INJECTED: &str = "${local.injected}";
const DIRECTIVE: &str = "%{ if injected }";

/// A blueprint whose secret description and environment values hold template syntax, on
/// ECS. (Tags cannot: AWS takes no `$`, `{` or `%` in a tag, and the blueprint is refused at
/// `tags`, see [`a_tag_holding_template_syntax_is_refused_on_aws`].)
fn ecs() -> String {
    format!(
        r#"
name: shop
secrets:
  - {{ name: stripe, keys: [api-key], description: "{INJECTED} {DIRECTIVE}x%{{ endif }}" }}
providers:
  aws: {{ region: eu-west-1 }}
state: {{ bucket: "shop-tf-state-{{env}}" }}
network:
  cidr: 10.1.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.1.0.0/24, 10.1.1.0/24]
    private: [10.1.10.0/24, 10.1.11.0/24]
cluster: {{ platform: ecs_fargate }}
load_balancer:
  certificate: {{ arn: "arn:aws:acm:eu-west-1:123456789012:certificate/x" }}
  health_check: {{ path: /health }}
services:
  - name: api
    image: ghcr.io/shop/api:1.2.3
    port: 8080
    env: {{ GREETING: "{INJECTED} and {DIRECTIVE}" }}
    routes: [{{ path: / }}]
"#
    )
}

/// Every Terraform file's text of `out`.
fn terraform(out: &infragen::Output) -> Vec<(&String, &String)> {
    out.files
        .iter()
        .filter(|(p, _)| p.ends_with(".tf.json"))
        .collect()
}

/// Each occurrence of `syntax` (`${…}` or `%{…}`) in `text` is escaped: its sigil doubled
/// (`$${`, `%%{`), also where the text is a JSON document inside a string.
fn all_escaped(path: &str, text: &str, syntax: &str) -> usize {
    let (sigil, needle) = syntax.split_at(1);
    let escaped = sigil.repeat(2);
    let mut n = 0;
    for (i, _) in text.match_indices(needle) {
        assert!(
            text[..i].ends_with(&escaped),
            "{path}: `{needle}` from the blueprint is not escaped: …{}…",
            &text[i.saturating_sub(60)..(i + needle.len() + 20).min(text.len())]
        );
        n += 1;
    }
    n
}

#[test]
fn blueprint_text_stays_literal_in_terraform() {
    let ecs = infragen::synthesize("shop.yaml", ecs().as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let eks_text = NEW_USER.replacen(
        "  - { name: stripe, keys: [api-key] }\n",
        &format!("  - {{ name: stripe, keys: [api-key], description: \"{INJECTED}\" }}\n"),
        1,
    );
    assert_ne!(eks_text, NEW_USER);
    let eks = infragen::synthesize(
        "shop.yaml",
        eks_text.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let doks = infragen::synthesize(
        "shop.yaml",
        eks_text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));

    let mut in_container_definitions = 0;
    let mut count = |out: &infragen::Output| {
        let (mut injected, mut directive) = (0, 0);
        for (path, text) in terraform(out) {
            injected += all_escaped(path, text, INJECTED);
            directive += all_escaped(path, text, DIRECTIVE);
            // The ECS environment value sits in the jsonencoded container definitions.
            if text.contains("container_definitions") && text.contains("GREETING") {
                assert!(
                    text.contains(r#"\"value\":\"$${local.injected} and %%{ if injected }\""#),
                    "{path}: the environment value is not the blueprint's text"
                );
                in_container_definitions += 1;
            }
        }
        (injected, directive)
    };
    let (injected, directive) = count(&ecs);
    // The secret's description, and the container's environment value.
    assert!(injected >= 2, "ECS: {injected} escaped occurrences");
    assert!(directive >= 2, "ECS: {directive} escaped directives");
    let (injected, _) = count(&eks);
    assert!(injected > 0, "EKS: the description never reached Terraform");
    // DigitalOcean takes no key-value tags: nothing to count, nothing unescaped either.
    count(&doks);
    assert_eq!(in_container_definitions, 1);
    // The real references to the VPC are still interpolations.
    let network = &ecs.files["terraform/infra/network.tf.json"];
    assert!(network.contains(r#""vpc_id": "${aws_vpc.main.id}""#));
}

/// Template syntax in a tag never reaches Terraform on AWS: IAM and ELBv2 take no `$`, `{`
/// or `%` in a tag, so the blueprint is refused where the tag is written.
#[test]
fn a_tag_holding_template_syntax_is_refused_on_aws() {
    let text = NEW_USER.replacen(
        "name: shop\n",
        &format!("name: shop\ntags: {{ team: \"{INJECTED}\" }}\n"),
        1,
    );
    let Err(err) = infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "production")
    else {
        panic!("accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("`tags.team`") && err.contains("shop.yaml:3:"),
        "{err}"
    );
}
