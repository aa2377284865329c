//! RDS values the API refuses at apply time, refused at synth where they are written
//! (`src/semantic/limits.rs`). Each test fails on the output before its fix.

use infragen::Provider;

fn stack(storage: &str) -> String {
    format!(
        "name: ledger
providers:
  aws:
    region: eu-west-1
state:
  bucket: ledger-state-{{env}}
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.0.1.0/24, 10.0.2.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
cluster:
  platform: ecs_fargate
databases:
  - name: db
    engine: postgres
    size: db.m7g.large
    storage: {storage}
"
    )
}

fn synth(storage: &str) -> Result<infragen::Output, String> {
    let yaml = stack(storage);
    infragen::synthesize("ledger.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .map_err(|d| d.to_string())
}

/// From 400 GB a gp3 volume's baseline is 12000 IOPS; RDS refuses fewer
/// (hashicorp/terraform-provider-aws#28382).
#[test]
fn large_gp3_volumes_take_at_least_their_baseline() {
    for storage in [
        "{ size_gb: 400, type: gp3, iops: 3000 }",
        "{ size_gb: 1000, type: gp3, iops: 11999 }",
        "{ size_gb: 1000, type: gp3, iops: 70000 }",
    ] {
        let err = synth(storage).unwrap_err();
        assert!(
            err.contains("databases[0].storage.iops"),
            "{storage}: {err}"
        );
        assert!(err.contains("12000"), "{storage}: {err}");
    }
    for storage in [
        "{ size_gb: 400, type: gp3 }",
        "{ size_gb: 400, type: gp3, iops: 12000 }",
        "{ size_gb: 100, type: gp3, iops: 3000 }",
    ] {
        synth(storage).unwrap_or_else(|e| panic!("{storage}: {e}"));
    }
    // The IOPS reach the instance only where RDS takes them.
    let out = synth("{ size_gb: 500, type: gp3, iops: 15000 }").unwrap();
    let db: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/database.tf.json"]).unwrap();
    assert_eq!(db["resource"]["aws_db_instance"]["db"]["iops"], 15000);
}

/// CreateDBInstance: io1 IOPS are 0.5 to 50 times the storage in GiB.
#[test]
fn io1_iops_stay_within_their_ratio_to_the_storage() {
    for storage in [
        "{ size_gb: 100, type: io1, iops: 6000 }",
        "{ size_gb: 4000, type: io1, iops: 1000 }",
    ] {
        let err = synth(storage).unwrap_err();
        assert!(
            err.contains("databases[0].storage.iops"),
            "{storage}: {err}"
        );
    }
    synth("{ size_gb: 100, type: io1, iops: 5000 }").unwrap();
}
