//! Same input → same bytes; resource names come from blueprint names, never positions.

use infragen::Provider;

use crate::support::{matrix, synth};

#[test]
fn synth_is_byte_for_byte_reproducible() {
    for (_, path, provider, env) in matrix() {
        let a = synth(&path, provider, &env);
        let b = synth(&path, provider, &env);
        assert_eq!(a, b, "{} {provider} {env}", path.display());
        for text in a.files.values() {
            assert!(!text.contains('\r'), "CRLF in output");
            assert!(text.ends_with('\n'));
            assert!(
                !text.contains(env!("CARGO_MANIFEST_DIR")),
                "absolute path in output"
            );
        }
    }
}

const BASE: &str = r#"
name: shop
providers:
  aws:
    region: us-east-1
state:
  bucket: shop-state
network:
  cidr: 10.0.0.0/16
  zones: [us-east-1a, us-east-1b]
  subnets:
    public: [10.0.0.0/24, 10.0.1.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
environments:
  production: {}
"#;

/// Reordering zones (with their subnets) and top-level keys must not rename any resource.
#[test]
fn reordering_the_blueprint_keeps_every_address() {
    let reordered = r#"
environments:
  production: {}
network:
  subnets:
    private: [10.0.11.0/24, 10.0.10.0/24]
    public: [10.0.1.0/24, 10.0.0.0/24]
  zones: [us-east-1b, us-east-1a]
  cidr: 10.0.0.0/16
state:
  bucket: shop-state
providers:
  aws:
    region: us-east-1
name: shop
"#;
    let a = infragen::synthesize("a.yaml", BASE.as_bytes(), Provider::Aws, "production").unwrap();
    let b =
        infragen::synthesize("a.yaml", reordered.as_bytes(), Provider::Aws, "production").unwrap();
    // Output lists (subnet ids in zone order) may differ; the set of resources and their
    // bodies may not.
    let strip = |o: &infragen::Output| -> Vec<String> {
        let mut v: Vec<String> = o
            .files
            .iter()
            .filter(|(k, _)| !k.ends_with("outputs.tf.json"))
            .map(|(k, v)| format!("{k}\n{v}"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&a), strip(&b));
    let net = |o: &infragen::Output| {
        let v: serde_json::Value =
            serde_json::from_str(&o.files["terraform/infra/network.tf.json"]).unwrap();
        let mut subnets: Vec<String> = v["resource"]["aws_subnet"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, s)| format!("{k}={}", s["cidr_block"]))
            .collect();
        subnets.sort();
        subnets
    };
    assert_eq!(net(&a), net(&b));
}
