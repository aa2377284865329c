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

/// An in-cluster PostgreSQL on an existing cluster, with `in_cluster.image` (and `version`
/// when given).
fn in_cluster_pg(image: &str, version: Option<&str>) -> String {
    let version = version.map_or(String::new(), |v| format!("    version: \"{v}\"\n"));
    format!(
        "name: atlas\nproviders:\n  kubernetes: {{}}\ncluster:\n  platform: existing\ndatabases:\n  - name: geo\n    engine: postgres\n{version}    in_cluster:\n      image: {image}\n"
    )
}

fn synth_k8s(text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(
        "atlas.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

/// An image built on the official one whose tag states the engine's major is judged as
/// that engine, by the same catalog and rules: `postgis/postgis:12-3.4` runs PostgreSQL 12,
/// past its end (2024-11-21) — refused at the image, accepted with `allow_unsupported`
/// (warning); `postgis/postgis:17-3.5` passes.
#[test]
fn a_derived_image_of_an_ended_engine_is_refused() {
    let err = synth_k8s(&in_cluster_pg("postgis/postgis:12-3.4", None)).unwrap_err();
    assert!(err.contains("atlas.yaml:10:14"), "{err}");
    assert!(
        err.contains("`postgis/postgis:12-3.4` runs PostgreSQL 12")
            && err.contains("long past its end"),
        "{err}"
    );
    assert!(err.contains("nearest supported version is `15`"), "{err}");

    let allowed = in_cluster_pg("postgis/postgis:12-3.4", None).replace(
        "      image:",
        "      allow_unsupported: true\n      image:",
    );
    let out = synth_k8s(&allowed).unwrap();
    assert!(
        out.notes.iter().any(|n| n.rule == Some("version-support")
            && n.text.contains("postgis/postgis:12-3.4")
            && n.text.contains("allow_unsupported")),
        "{:?}",
        out.notes
    );

    for image in [
        "postgis/postgis:17-3.5",
        "pgvector/pgvector:0.8.1-pg17",
        "timescale/timescaledb:2.17.2-pg16",
    ] {
        let out = synth_k8s(&in_cluster_pg(image, None)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !out.notes
                .iter()
                .any(|n| matches!(n.rule, Some("version-support" | "image-version"))),
            "{image}: {:?}",
            out.notes
        );
    }
    for image in [
        "pgvector/pgvector:pg13",
        "timescale/timescaledb-ha:pg13.16-ts2.15.3",
        "bitnami/postgresql:11.22.0",
    ] {
        let err = synth_k8s(&in_cluster_pg(image, None)).unwrap_err();
        assert!(
            err.contains("atlas.yaml:10:14") && err.contains("PostgreSQL container image"),
            "{image}: {err}"
        );
    }
}

/// `version` and the image's tag must name the same engine version: `version` is what
/// infragen writes for (and judges), the image what runs.
#[test]
fn a_version_other_than_the_images_is_refused() {
    let err = synth_k8s(&in_cluster_pg("postgis/postgis:17-3.5", Some("16"))).unwrap_err();
    assert!(err.contains("atlas.yaml:9:14"), "{err}");
    assert!(
        err.contains(
            "`version` 16 but `in_cluster.image` `postgis/postgis:17-3.5` runs PostgreSQL 17"
        ),
        "{err}"
    );
    assert!(err.contains("set `version: \"17\"`"), "{err}");
    // The official image too; the same major in both passes.
    assert!(synth_k8s(&in_cluster_pg("postgres:16.11", Some("17"))).is_err());
    synth_k8s(&in_cluster_pg("postgis/postgis:17-3.5", Some("17"))).unwrap();
    synth_k8s(&in_cluster_pg("postgres:17.7", Some("17"))).unwrap();
}

/// A tag infragen cannot read (a digest, `latest`, an image without a known scheme) is
/// accepted with one warning that its version is not checked; a given `version` is then
/// what infragen assumes, and is judged.
#[test]
fn an_unreadable_image_tag_is_warned_and_version_judged() {
    let digest = "postgres@sha256:2b2d1e8a6b2c1c1f3c4f5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b";
    for image in [
        digest,
        "postgis/postgis:latest",
        "example.com/team/pg:stable",
    ] {
        let out = synth_k8s(&in_cluster_pg(image, None)).unwrap_or_else(|e| panic!("{e}"));
        let warned: Vec<_> = out
            .notes
            .iter()
            .filter(|n| n.rule == Some("image-version"))
            .collect();
        assert_eq!(warned.len(), 1, "{image}: {:?}", out.notes);
        assert!(
            warned[0].text.contains("databases[0].in_cluster.image")
                && warned[0].text.contains("not checked")
                && warned[0].text.contains("assumes PostgreSQL 17"),
            "{}",
            warned[0].text
        );
    }
    let out = synth_k8s(&in_cluster_pg(digest, Some("16"))).unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.rule == Some("image-version") && n.text.contains("assumes `version` 16")),
        "{:?}",
        out.notes
    );
    let err = synth_k8s(&in_cluster_pg(digest, Some("13"))).unwrap_err();
    assert!(
        err.contains("`databases[0].version`") && err.contains("13 reached its end"),
        "{err}"
    );
}

/// Without `version`, the version a MongoDB image's tag states is the one infragen writes
/// for: MongoDB 5.0's image has the legacy `mongo` shell its probe runs.
#[test]
fn the_images_version_decides_when_none_is_given() {
    let text = "name: atlas\nproviders:\n  kubernetes: {}\ncluster:\n  platform: existing\ndatabases:\n  - name: docs\n    engine: mongodb\n    allow_unsupported: true\n    in_cluster:\n      image: percona/percona-server-mongodb:5.0.29-25\n";
    let out = synth_k8s(text).unwrap_or_else(|e| panic!("{e}"));
    let all: String = out.files.values().cloned().collect();
    assert!(
        all.contains("- mongo\n") && !all.contains("- mongosh\n"),
        "{all}"
    );
}
