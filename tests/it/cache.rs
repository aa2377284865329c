//! ElastiCache values the API refuses, by engine version. Each test fails on the output
//! before its fix.

use infragen::Provider;

fn group(engine: &str, version: &str) -> serde_json::Value {
    let yaml = format!(
        "name: cachy
providers:
  aws:
    region: eu-west-1
state:
  bucket: cachy-state-{{env}}
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.0.1.0/24, 10.0.2.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
cluster:
  platform: ecs_fargate
caches:
  - name: cache
    engine: {engine}
    version: \"{version}\"
    size: cache.t4g.small
"
    );
    let out = infragen::synthesize("cachy.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|e| panic!("{engine} {version}: {e}"));
    let doc: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/cache.tf.json"]).unwrap();
    doc["resource"]["aws_elasticache_replication_group"]["cache"].clone()
}

/// The transit encryption mode is ElastiCache's online TLS migration, offered for Valkey
/// and Redis OSS 7.0 on only; an older Redis OSS with TLS on takes TLS connections only.
#[test]
fn the_transit_encryption_mode_only_where_elasticache_has_it() {
    for (engine, version, mode) in [
        ("redis", "6.2", None),
        ("redis", "7.0", Some("required")),
        ("redis", "7.1", Some("required")),
        ("valkey", "8.0", Some("required")),
    ] {
        let g = group(engine, version);
        assert_eq!(g["transit_encryption_enabled"], true, "{engine} {version}");
        assert_eq!(
            g["transit_encryption_mode"].as_str(),
            mode,
            "{engine} {version}"
        );
    }
}
