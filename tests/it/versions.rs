//! Versions against the catalog (`providers/releases.json`): no shipped blueprint's output
//! relies on a version its provider no longer creates or on a chart or image with a known
//! critical vulnerability — not even one accepted with `allow_unsupported` — and an
//! end-of-life version is refused unless accepted for an existing resource, with a warning.

use infragen::Provider;
use infragen::releases::Verdict;

use crate::support::matrix;

#[test]
fn shipped_blueprints_rely_only_on_supported_versions() {
    for (stem, path, provider, env) in matrix() {
        let bytes = std::fs::read(&path).unwrap();
        let loaded = infragen::blueprint::load(&stem, &bytes, provider, &env).unwrap();
        for f in infragen::semantic::versions::findings(&loaded.blueprint, provider) {
            assert!(
                matches!(f.verdict, Verdict::Warn(_)),
                "{stem} --provider {provider} --env {env}: `{}` {:?}",
                f.path,
                f.verdict
            );
        }
    }
}

/// `infragen init`'s starter asks for nothing past its end, nor anything billed extra.
#[test]
fn the_init_template_is_current() {
    let bytes = std::fs::read(crate::support::root().join("templates/init.yaml")).unwrap();
    let envs = infragen::blueprint::environments("init", &bytes).unwrap();
    assert!(!envs.is_empty());
    for env in envs {
        let loaded = infragen::blueprint::load("init", &bytes, Provider::Aws, &env).unwrap();
        let findings = infragen::semantic::versions::findings(&loaded.blueprint, Provider::Aws);
        assert!(
            findings.is_empty(),
            "{env}: {:?}",
            findings
                .iter()
                .map(|f| (&f.path, &f.verdict))
                .collect::<Vec<_>>()
        );
    }
}

const EKS: &str = r#"
name: shop
providers:
  aws: { region: us-east-1 }
network:
  cidr: 10.0.0.0/16
  zones: [us-east-1a, us-east-1b]
  nat: single
  subnets: { public: [10.0.101.0/24, 10.0.102.0/24], private: [10.0.1.0/24, 10.0.2.0/24] }
cluster:
  platform: eks
  version: "1.28"
node_pools: [{ name: general, size: medium, min: 1, desired: 1, max: 2 }]
"#;

#[test]
fn eks_1_28_is_refused_with_a_suggestion_or_accepted_with_a_warning() {
    let err = infragen::synthesize("t.yaml", EKS.as_bytes(), Provider::Aws, "production")
        .unwrap_err()
        .to_string();
    assert!(err.contains("t.yaml:12:12"), "{err}");
    assert!(
        err.contains("Amazon EKS 1.28 reached its end on 2025-11-26"),
        "{err}"
    );
    assert!(err.contains("`1.32`") && err.contains("`1.35`"), "{err}");

    let accepted = EKS.replace(
        "  version: \"1.28\"\n",
        "  version: \"1.28\"\n  allow_unsupported: true\n",
    );
    let out = infragen::synthesize("t.yaml", accepted.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        out.notes.iter().any(|n| n.rule == Some("version-support")
            && n.text.contains("1.28")
            && n.text.contains("allow_unsupported")),
        "{:?}",
        out.notes
    );
    let cluster: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/cluster.tf.json"]).unwrap();
    assert_eq!(
        cluster["resource"]["aws_eks_cluster"]["main"]["version"],
        "1.28"
    );
}

/// As users run it: `synth` exits 2 with the positioned error and the suggestion.
#[test]
fn synth_exits_2_on_eks_1_28() {
    let dir = std::env::temp_dir().join(format!("infragen-versions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("infragen.yaml"), EKS).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["synth", "--provider", "aws", "--env", "production"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("infragen.yaml:12:12"), "{text}");
    assert!(
        text.contains("nearest supported version is `1.32`"),
        "{text}"
    );
}
