//! `per_provider.<provider>` overlays, at the top level and inside an environment: one
//! environment name means the same environment on every provider (docs/blueprint.md "One
//! blueprint, several providers").

use std::path::Path;
use std::process::Command;

use infragen::Provider;
use infragen::blueprint::Loaded;

use crate::support::root;

/// ECS on AWS, DOKS on DigitalOcean, from one blueprint with two environments.
const DUO: &str = r#"name: duo
tags: { a: base, b: base, c: base, d: base }
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: fra1 }
network:
  cidr: 10.20.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets: { public: [10.20.0.0/24, 10.20.1.0/24], private: [10.20.10.0/24, 10.20.11.0/24] }
cluster: { platform: ecs_fargate }
services:
  - { name: web, image: ghcr.io/duo/web:1.0.0, port: 8080, task: { cpu: 256, memory: 512 } }
  - { name: worker, image: ghcr.io/duo/web:1.0.0, command: [work], task: { cpu: 256, memory: 512 } }
per_provider:
  aws:
    tags: { b: aws, c: aws, d: aws }
  digitalocean:
    cluster: { platform: doks }
    node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 3 }]
    providers: { digitalocean: { project: "duo-{env}" } }
  kubernetes:
    services:
      - { name: worker, $patch: delete }
      - { name: web, replicas: 4 }
environments:
  staging:
    per_provider:
      digitalocean: { network: { cidr: 10.21.0.0/16 } }
  production:
    tags: { c: production, d: production }
    per_provider:
      aws:
        tags: { d: production-aws }
      digitalocean:
        node_pools: [{ name: general, desired: 3, max: 5 }]
        network: { cidr: 10.22.0.0/16 }
"#;

fn load(text: &str, provider: Provider, env: &str) -> Result<Loaded, String> {
    infragen::blueprint::load("duo.yaml", text.as_bytes(), provider, env).map_err(|d| d.to_string())
}

fn loaded(provider: Provider, env: &str) -> Loaded {
    load(DUO, provider, env).unwrap_or_else(|e| panic!("{provider}/{env}: {e}"))
}

fn tags(l: &Loaded) -> Vec<(&str, &str)> {
    l.blueprint
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Base → `per_provider.<p>` → `environments.<env>` → `environments.<env>.per_provider.<p>`:
/// `d` is set in all four places and the environment's provider part wins; each layer beats
/// the ones before it, and another provider's parts never apply.
#[test]
fn the_most_specific_overlay_wins() {
    let aws = loaded(Provider::Aws, "production");
    assert_eq!(
        tags(&aws),
        [
            ("a", "base"),
            ("b", "aws"),
            ("c", "production"),
            ("d", "production-aws")
        ]
    );
    let aws_staging = loaded(Provider::Aws, "staging");
    assert_eq!(
        tags(&aws_staging),
        [("a", "base"), ("b", "aws"), ("c", "aws"), ("d", "aws")]
    );
    let doks = loaded(Provider::Digitalocean, "production");
    assert_eq!(
        tags(&doks),
        [
            ("a", "base"),
            ("b", "base"),
            ("c", "production"),
            ("d", "production")
        ]
    );
    // The synthesized output carries them: AWS default tags.
    let out = infragen::synthesize("duo.yaml", DUO.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let infra = &out.files["terraform/infra/providers.tf.json"];
    assert!(infra.contains("\"production-aws\""), "{infra}");
}

/// One environment name on both providers: the DigitalOcean part makes a DOKS cluster with
/// the environment's node pool (merged by `name` onto the provider default) and VPC range;
/// AWS keeps ECS and never sees the node pools.
#[test]
fn one_environment_builds_each_providers_platform() {
    let doks = loaded(Provider::Digitalocean, "production");
    let pools = &doks.blueprint.node_pools;
    assert_eq!(pools.len(), 1);
    assert_eq!(
        (
            pools[0].size.as_deref(),
            pools[0].min,
            pools[0].desired,
            pools[0].max
        ),
        (Some("medium"), 2, Some(3), 5)
    );
    let out = infragen::synthesize(
        "duo.yaml",
        DUO.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let net = &out.files["terraform/infra/network.tf.json"];
    assert!(net.contains("10.22.0.0/16"), "{net}");
    assert!(
        out.files["terraform/infra/cluster.tf.json"].contains("digitalocean_kubernetes_cluster")
    );
    let aws = infragen::synthesize("duo.yaml", DUO.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(aws.files.contains_key("terraform/infra/ecs.tf.json"));
    assert!(
        loaded(Provider::Aws, "production")
            .blueprint
            .node_pools
            .is_empty()
    );
}

/// `{env}` in a per-provider overlay becomes the environment's name, as anywhere else.
#[test]
fn env_is_substituted_inside_per_provider() {
    for env in ["staging", "production"] {
        let l = loaded(Provider::Digitalocean, env);
        let project = l.blueprint.providers.digitalocean.and_then(|d| d.project);
        assert_eq!(project.as_deref(), Some(format!("duo-{env}").as_str()));
    }
}

/// Named lists merge by `name` and `$patch: delete` removes an item, in per-provider overlays
/// as in environment overlays: on an existing cluster the worker is gone, the web scaled.
#[test]
fn named_lists_and_patch_delete_merge_inside_per_provider() {
    let k = loaded(Provider::Kubernetes, "production");
    let services: Vec<(&str, u32)> = k
        .blueprint
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.replicas))
        .collect();
    assert_eq!(services, [("web", 4)]);
    assert_eq!(
        loaded(Provider::Aws, "production").blueprint.services.len(),
        2
    );
}

/// A mistake in one provider's part fails every provider's load (decision in
/// docs/blueprint.md): CI synthesizing AWS catches a typo in the DigitalOcean part, at the
/// overlay's own line.
#[test]
fn a_typo_in_another_providers_overlay_fails_this_provider_too() {
    let typo = DUO.replace(
        "    node_pools: [{ name: general, size",
        "    node_pool: [{ name: general, size",
    );
    assert_ne!(typo, DUO);
    let line = typo
        .lines()
        .position(|l| l.contains("node_pool: ["))
        .unwrap()
        + 1;
    for provider in Provider::ALL {
        let err = load(&typo, provider, "production").unwrap_err();
        assert!(
            err.contains("unknown field `node_pool`")
                && err.contains(&format!("duo.yaml:{line}:5")),
            "{provider}: {err}"
        );
        if provider != Provider::Digitalocean {
            assert!(err.contains("for `--provider digitalocean`"), "{err}");
        }
    }
    // A mistake of the base is the selected provider's own, not said to be another's.
    let typo = DUO.replace("services:\n  - { name: web", "sevices:\n  - { name: web");
    assert_ne!(typo, DUO);
    let err = load(&typo, Provider::Aws, "production").unwrap_err();
    assert!(
        err.contains("unknown field `sevices`") && !err.contains("--provider"),
        "{err}"
    );
    // In an environment's provider part as well.
    let typo = DUO.replace(
        "      digitalocean: { network: { cidr",
        "      digitalocean: { netwrk: { cidr",
    );
    assert_ne!(typo, DUO);
    let err = load(&typo, Provider::Aws, "staging").unwrap_err();
    assert!(
        err.contains("in `environments.staging.per_provider.digitalocean`: unknown field `netwrk`"),
        "{err}"
    );
}

/// The 1-based line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// An error a per-provider overlay brings in points at the overlay's line and names it; an
/// item under a near-miss name is said to be one.
#[test]
fn errors_point_into_the_per_provider_overlay() {
    let bad = DUO.replace(
        "    tags: { b: aws, c: aws, d: aws }",
        "    tags: { b: aws, c: aws, d: aws }\n    services: [{ name: wep, replicas: 2 }]",
    );
    let err = load(&bad, Provider::Aws, "production").unwrap_err();
    assert!(
        err.contains("in `per_provider.aws`: no service `wep` in the base; did you mean `web`?")
            && err.contains(&format!("duo.yaml:{}:", line_of(&bad, "name: wep"))),
        "{err}"
    );
    let bad = DUO.replace("tags: { d: production-aws }", "tags: { d: [x] }");
    let err = load(&bad, Provider::Aws, "production").unwrap_err();
    assert!(
        err.contains("in `environments.production.per_provider.aws`:")
            && err.contains(&format!("duo.yaml:{}:", line_of(&bad, "d: [x]"))),
        "{err}"
    );
}

/// Unknown provider names and nesting are refused with a position (snapshots:
/// tests/invalid/per-provider-*.yaml); so is a per-provider value that is not an overlay.
#[test]
fn shapes_that_would_never_apply_are_refused() {
    for (from, to, says) in [
        (
            "  kubernetes:\n    services:",
            "  kubernets:\n    services:",
            "unknown provider `kubernets` in `per_provider`",
        ),
        (
            "  aws:\n    tags:",
            "  aws: [x]\n  awz:\n    tags:",
            "`per_provider.aws` must be a mapping",
        ),
        (
            "      aws:\n        tags: { d: production-aws }",
            "      aws:\n        per_provider: {}",
            "`per_provider` cannot be inside `environments.production.per_provider.aws`",
        ),
        (
            "  production:\n    tags:",
            "  production:\n    environments: {}\n    tags:",
            "`environments` cannot be inside `environments.production`",
        ),
    ] {
        let bad = DUO.replace(from, to);
        assert_ne!(bad, DUO, "{from}");
        let err = load(&bad, Provider::Aws, "production").unwrap_err();
        assert!(err.contains(says) && err.contains("--> duo.yaml:"), "{err}");
    }
}

fn infragen(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// `synth` takes one environment name for both providers, `validate` checks every provider's
/// merge, and `diff` between two revisions compares what changed in a per-provider part for
/// that provider only.
#[test]
fn synth_validate_and_diff_go_through_per_provider() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("duo.yaml"), DUO).unwrap();
    let (code, out) = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--provider",
            "digitalocean",
            "--env",
            "production",
            "--blueprint",
            "duo.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        d.join("out/aws/production/terraform/infra/ecs.tf.json")
            .is_file()
    );
    let net = std::fs::read_to_string(
        d.join("out/digitalocean/production/terraform/infra/network.tf.json"),
    )
    .unwrap();
    assert!(net.contains("10.22.0.0/16"), "{net}");
    let (code, out) = infragen(
        d,
        &[
            "validate",
            "--provider",
            "digitalocean",
            "--env",
            "all",
            "--blueprint",
            "duo.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}");

    // Two revisions: the DigitalOcean production pool grows.
    for args in [
        &["init", "-q"][..],
        &["config", "user.email", "ci@example.com"],
        &["config", "user.name", "ci"],
        &["config", "commit.gpgsign", "false"],
        &["add", "duo.yaml"],
        &["commit", "-qm", "base"],
    ] {
        let o = Command::new("git")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}");
    }
    std::fs::write(
        d.join("duo.yaml"),
        DUO.replace("desired: 3, max: 5", "desired: 3, max: 8"),
    )
    .unwrap();
    let diff = [
        "diff",
        "--base",
        "HEAD",
        "--blueprint",
        "duo.yaml",
        "--env",
        "production",
    ];
    let (code, out) = infragen(d, &[&diff[..], &["--provider", "digitalocean"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("max_nodes") && out.contains('8'), "{out}");
    let (code, out) = infragen(d, &[&diff[..], &["--provider", "aws"]].concat());
    assert_eq!(code, 0, "{out}");
    // Without `--provider`, the providers configured are found through their own merges.
    let (_, out) = infragen(d, &diff);
    assert!(
        out.contains("== aws / production") && out.contains("== digitalocean / production"),
        "{out}"
    );
}

/// The comparisons with the blueprint's other environments (`environments-share-names` in
/// `synth`, the DigitalOcean project lint) merge those for the same provider: here only the
/// DigitalOcean part names the VPC and the project without `{env}`.
#[test]
fn other_environments_are_compared_as_the_same_provider_builds_them() {
    let shared = DUO
        .replace(
            "    providers: { digitalocean: { project: \"duo-{env}\" } }",
            "    providers: { digitalocean: { project: duo } }\n    network: { cidr: 10.20.0.0/16, name: duo-net }",
        )
        .replace("  cidr: 10.20.0.0/16\n", "  cidr: 10.20.0.0/16\n  name: \"duo-{env}-net\"\n");
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("duo.yaml"), &shared).unwrap();
    let (code, out) = infragen(
        t.path(),
        &[
            "synth",
            "--provider",
            "digitalocean",
            "--env",
            "production",
            "--blueprint",
            "duo.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("environments production, staging collide in one DigitalOcean account (digitalocean_vpc duo-net)"),
        "{out}"
    );
    assert!(out.contains("warning[do-project-name]"), "{out}");
}

/// The fixture rewritten to `per_provider` builds the same systems as its older shape with
/// one environment per provider: AWS output byte for byte, and DigitalOcean's but for the
/// names that carry `{env}` (`do-production` → `production`).
#[test]
fn per_provider_builds_what_separate_environments_built() {
    let new = root().join("tests/fixtures/new-user/brightline-agency-ecs-doks.yaml");
    let old = root().join("tests/fixtures/new-user/brightline-agency-separate-envs.yaml");
    // Under one file name, so the generated headers agree.
    let synth = |path: &Path, provider, env: &str| {
        let bytes = std::fs::read(path).unwrap();
        infragen::synthesize("brightline.yaml", &bytes, provider, env)
            .unwrap_or_else(|d| panic!("{provider}/{env}: {d}"))
            .files
    };
    for env in ["staging", "production"] {
        for (old_env, provider) in [
            (env.to_string(), Provider::Aws),
            (format!("do-{env}"), Provider::Digitalocean),
        ] {
            let a = synth(&new, provider, env);
            let b = synth(&old, provider, &old_env);
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                b.keys().collect::<Vec<_>>(),
                "{provider}/{env}"
            );
            for (path, text) in &b {
                let renamed = text.replace(&old_env, env);
                assert!(a[path] == renamed, "{provider}/{env}: {path} differs");
            }
        }
    }
}

/// The problems `provider`/`env` is refused with, each as its message and help.
fn refused(text: &str, provider: Provider, env: &str) -> Vec<(String, String)> {
    let l = load(text, provider, env).unwrap_or_else(|e| panic!("{e}"));
    match infragen::synthesize_loaded(&l) {
        Ok(_) => panic!("{provider}/{env} synthesized"),
        Err(ds) => {
            ds.0.iter()
                .map(|d| {
                    let at = d.span.map(|s| s.line).unwrap_or_default();
                    (
                        format!("{at}: {}", d.message),
                        d.help.clone().unwrap_or_default(),
                    )
                })
                .collect()
        }
    }
}

/// A DigitalOcean part that gives the node pools but forgets `cluster.platform: doks`: the
/// ECS platform is the one problem, said first and alone, and the way out is the
/// DigitalOcean part. Not also "platform `ecs_fargate` runs without nodes; remove
/// `node_pools`", which would send the user to delete the pools DOKS needs.
#[test]
fn a_forgotten_platform_in_the_providers_part_is_the_only_error() {
    let forgot = DUO.replace("    cluster: { platform: doks }\n", "");
    assert_ne!(forgot, DUO);
    let problems = refused(&forgot, Provider::Digitalocean, "staging");
    let [(message, _)] = problems.as_slice() else {
        panic!("{problems:#?}")
    };
    let line = line_of(&forgot, "cluster: { platform: ecs_fargate }");
    assert!(
        message.starts_with(&format!(
            "{line}: `cluster.platform`: platform `ecs_fargate`"
        )) && message.contains(
            "`per_provider: { digitalocean: { cluster: { platform: doks }, node_pools: [...] } }`"
        ),
        "{message}"
    );
}

/// The platform-first refusal names the overlay that set the platform: a provider's own part
/// holding the other provider's platform is a part under the wrong provider (at its line,
/// with the part meant); an environment written for the other provider is pointed to its
/// `per_provider` part, which lets the same environment name build on both.
#[test]
fn a_platform_the_provider_cannot_build_names_the_overlay_that_set_it() {
    let misplaced = DUO.replace(
        "    tags: { b: aws, c: aws, d: aws }",
        "    tags: { b: aws, c: aws, d: aws }\n    cluster: { platform: doks }",
    );
    assert_ne!(misplaced, DUO);
    let problems = refused(&misplaced, Provider::Aws, "staging");
    let line = line_of(&misplaced, "tags: { b: aws, c: aws, d: aws }") + 1;
    assert_eq!(
        problems,
        [(
            format!(
                "{line}: `cluster.platform`: `per_provider.aws` sets platform `doks`: it builds a DOKS cluster, which `--provider aws` cannot, and this part applies to `--provider aws` only"
            ),
            "did you mean `per_provider.digitalocean`?".to_string()
        )]
    );

    let in_env = DUO.replace(
        "      digitalocean: { network: { cidr: 10.21.0.0/16 } }",
        "      digitalocean: { network: { cidr: 10.21.0.0/16 } }\n      aws: { cluster: { platform: doks } }",
    );
    assert_ne!(in_env, DUO);
    let problems = refused(&in_env, Provider::Aws, "staging");
    assert!(
        problems.len() == 1
            && problems[0]
                .0
                .contains("`environments.staging.per_provider.aws` sets platform `doks`")
            && problems[0].1 == "did you mean `environments.staging.per_provider.digitalocean`?",
        "{problems:#?}"
    );

    let whole_env = DUO.replace(
        "  staging:\n    per_provider:",
        "  staging:\n    cluster: { platform: doks }\n    per_provider:",
    );
    assert_ne!(whole_env, DUO);
    let problems = refused(&whole_env, Provider::Aws, "staging");
    assert!(
        problems.len() == 1
            && problems[0]
                .0
                .contains("environment `staging` sets platform `doks`")
            && problems[0]
                .1
                .contains("under `environments.staging.per_provider.digitalocean`"),
        "{problems:#?}"
    );
}

/// An unknown key at the top of an overlay lists the fields that overlay may hold: not
/// `environments` or `per_provider` in a provider part (both refused there), not
/// `environments` in an environment (which may hold `per_provider`).
#[test]
fn an_unknown_key_in_an_overlay_lists_what_the_overlay_may_hold() {
    let expected = |err: &str| -> String {
        err.lines()
            .find_map(|l| l.trim().strip_prefix("= expected: "))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string()
    };
    for (from, to) in [
        ("  aws:\n    tags:", "  aws:\n    nodepools: []\n    tags:"),
        (
            "      aws:\n        tags: { d: production-aws }",
            "      aws:\n        nodepools: []",
        ),
    ] {
        let bad = DUO.replace(from, to);
        assert_ne!(bad, DUO, "{from}");
        let err = load(&bad, Provider::Aws, "production").unwrap_err();
        let e = expected(&err);
        assert!(
            err.contains("unknown field `nodepools`")
                && e.ends_with("`overrides` or `extra`")
                && !e.contains("`environments`")
                && !e.contains("`per_provider`"),
            "{err}"
        );
    }
    let bad = DUO.replace(
        "  production:\n    tags:",
        "  production:\n    nodepools: []\n    tags:",
    );
    assert_ne!(bad, DUO);
    let err = load(&bad, Provider::Aws, "production").unwrap_err();
    let e = expected(&err);
    assert!(
        e.ends_with("`extra` or `per_provider`") && !e.contains("`environments`"),
        "{err}"
    );
    // The base keeps the full list: both keys are fields of the blueprint.
    let bad = DUO.replace(
        "services:\n  - { name: web",
        "nodepools: []\nservices:\n  - { name: web",
    );
    let e = expected(&load(&bad, Provider::Aws, "production").unwrap_err());
    assert!(e.ends_with("`environments` or `per_provider`"), "{e}");
}

/// Node counts that contradict each other are reported at the count the latest overlay
/// wrote: the environment's DigitalOcean part raising `desired` past the pool's `max`, not
/// the base pool in `per_provider.digitalocean`.
#[test]
fn contradicting_node_counts_point_at_the_overlay_that_changed_them() {
    let bad = DUO.replace(
        "node_pools: [{ name: general, desired: 3, max: 5 }]",
        "node_pools: [{ name: general, desired: 9 }]",
    );
    assert_ne!(bad, DUO);
    let problems = refused(&bad, Provider::Digitalocean, "production");
    let line = line_of(&bad, "desired: 9");
    assert!(
        problems.len() == 1
            && problems[0].0
                == format!(
                    "{line}: `node_pools[0]`: node counts must satisfy min ≤ desired ≤ max, got min 2 desired 9 max 3"
                ),
        "{problems:#?}"
    );
    // Items merge by `name`, not by position: the environment's part listing another pool
    // first still changed `general`'s `desired`, not its `max`.
    let bad = DUO
        .replace(
            "    node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 3 }]",
            "    node_pools:\n      - { name: general, size: medium, min: 2, desired: 2, max: 3 }\n      - { name: spot, size: medium, min: 1, max: 2 }",
        )
        .replace(
            "node_pools: [{ name: general, desired: 3, max: 5 }]",
            "node_pools: [{ name: spot, max: 4 }, { name: general, desired: 9 }]",
        );
    let problems = refused(&bad, Provider::Digitalocean, "production");
    let line = line_of(&bad, "desired: 9");
    assert!(
        problems.len() == 1 && problems[0].0.starts_with(&format!("{line}: ")),
        "{problems:#?}"
    );
    let col = |s: &str| bad.lines().nth(line - 1).unwrap().find(s).unwrap() + 1;
    let l = load(&bad, Provider::Digitalocean, "production").unwrap();
    let d = infragen::synthesize_loaded(&l).unwrap_err();
    assert_eq!(d.0[0].span.map(|s| s.col), Some(col("9 }")), "{d}");
    // The pool's own `max` lowered by the environment, under the base's `desired`.
    let bad = DUO.replace(
        "node_pools: [{ name: general, desired: 3, max: 5 }]",
        "node_pools: [{ name: general, max: 1 }]",
    );
    let problems = refused(&bad, Provider::Digitalocean, "production");
    assert!(
        problems.len() == 1
            && problems[0]
                .0
                .starts_with(&format!("{}: ", line_of(&bad, "max: 1"))),
        "{problems:#?}"
    );
}
