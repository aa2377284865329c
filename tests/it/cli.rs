//! The command line as users run it: exit codes, `--check`, refusing to touch folders it does
//! not own, and a failed run never changing earlier output.

use std::path::Path;
use std::process::{Command, Output};

fn infragen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn init_synth_check_and_drift() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let o = infragen(d, &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = infragen(d, &["init"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "init must not overwrite: {}",
        text(&o)
    );

    let o = infragen(d, &["synth", "--provider", "aws", "--env", "production"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        d.join("out/aws/production/terraform/infra/network.tf.json")
            .exists()
    );
    // Every part of the starter blueprint is lowered for AWS: nothing is reported missing.
    assert!(!text(&o).contains("does not lower"), "{}", text(&o));

    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--check",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let bp = std::fs::read_to_string(d.join("infragen.yaml")).unwrap();
    std::fs::write(
        d.join("infragen.yaml"),
        bp.replace(
            "cidr: 10.0.0.0/16",
            "cidr: 10.0.0.0/16\n  flow_logs: { retention_days: 90 }",
        ),
    )
    .unwrap();
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--check",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("changed: terraform/infra/network.tf.json"),
        "{t}"
    );
    assert!(
        t.contains("-        \"retention_in_days\": 365")
            && t.contains("+        \"retention_in_days\": 90"),
        "{t}"
    );
}

#[test]
fn a_failed_run_leaves_earlier_output_untouched() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    assert_eq!(infragen(d, &["init"]).status.code(), Some(0));
    assert_eq!(
        infragen(d, &["synth", "--provider", "aws", "--env", "staging"])
            .status
            .code(),
        Some(0)
    );
    let before = snapshot_dir(&d.join("out"));
    std::fs::write(
        d.join("infragen.yaml"),
        "name: shop\nnetwork: {cidr: 10.0.0.0/99}\n",
    )
    .unwrap();
    let o = infragen(d, &["synth", "--provider", "aws", "--env", "staging"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(before, snapshot_dir(&d.join("out")));
}

#[test]
fn refuses_folders_it_did_not_write() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    assert_eq!(infragen(d, &["init"]).status.code(), Some(0));
    std::fs::write(d.join("README.md"), "my repo").unwrap();
    let before = snapshot_dir(d);
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--out",
            ".",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("did not write"), "{}", text(&o));
    assert_eq!(before, snapshot_dir(d), "--out . must not touch the folder");
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--out",
            "README.md",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a folder"), "{}", text(&o));
}

#[test]
fn usage_errors_exit_2_with_guidance() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let o = infragen(d, &["synth", "--provider", "aws", "--env", "production"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--blueprint"), "{}", text(&o));
    let o = infragen(d, &["synth", "--provider", "gcp", "--env", "production"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("aws"), "{}", text(&o));
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "x",
            "--blueprint",
            ".",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    for sub in ["synth", "validate", "schema", "init"] {
        let o = infragen(d, &[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(text(&o).contains("Example"), "{sub} --help has no example");
    }
}

#[test]
fn schema_is_json_schema_of_the_blueprint() {
    let t = tempfile::tempdir().unwrap();
    let o = infragen(t.path(), &["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["title"], "Blueprint");
    for key in ["name", "network", "cluster", "services", "environments"] {
        assert!(v["properties"].get(key).is_some(), "schema lacks {key}");
    }
}

/// The blueprints' `$schema=../blueprint.schema.json` must describe the current format.
#[test]
fn committed_json_schema_is_current() {
    let committed =
        std::fs::read_to_string(crate::support::root().join("blueprint.schema.json")).unwrap();
    // Not assert_eq!: the schema is long, and the fix is one command.
    assert!(
        committed == format!("{}\n", infragen::cli::schema_json()),
        "blueprint.schema.json is stale: run `cargo run -- schema > blueprint.schema.json`"
    );
}

/// `validate` passes on shipped output and names each kind of injected error.
/// The External Secrets objects of EKS's `connections` module are Terraform
/// (`kubernetes_manifest`), and `validate` reads them as manifests: a broken one is named.
#[test]
fn validate_reads_the_objects_of_the_connections_module() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bp = crate::support::root().join("blueprints/ecommerce-eks.yaml");
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--blueprint",
            bp.to_str().unwrap(),
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = infragen(d, &["validate", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("4 modules"), "{}", text(&o));
    let file = d.join("out/terraform/connections/external_secrets.tf.json");
    let clean = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        clean.replacen(
            "\"name\": \"gateway-connections\",",
            "\"nam\": \"gateway-connections\",",
            1,
        ),
    )
    .unwrap();
    let o = infragen(d, &["validate", "out"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "terraform/connections/external_secrets.tf.json:kubernetes_manifest.gateway_connections"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn validate_passes_clean_output_and_names_injected_errors() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bp = crate::support::root().join("blueprints/qurable-ecs.yaml");
    let bp = bp.to_str().unwrap();
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--blueprint",
            bp,
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = infragen(d, &["validate", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(", 0 problems"), "{}", text(&o));
    let o = infragen(
        d,
        &[
            "validate",
            "--provider",
            "aws",
            "--env",
            "staging",
            "--blueprint",
            bp,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let network = d.join("out/terraform/infra/network.tf.json");
    let clean = std::fs::read_to_string(&network).unwrap();
    let cases = [
        (
            "\"cidr_block\": \"10.0.0.0/16\"",
            "\"cidr_blok\": \"10.0.0.0/16\"",
            "unknown argument \"cidr_blok\"",
        ),
        (
            "\"tier\": \"private\"\n        },\n        \"vpc_id\": \"${aws_vpc.main.id}\"",
            "\"tier\": \"private\"\n        }",
            "missing required argument",
        ),
        (
            "\"enable_dns_support\": true",
            "\"enable_dns_support\": [true]",
            "expected a bool",
        ),
        (
            "\"${aws_vpc.main.id}\"",
            "\"${aws_vpc.mian.id}\"",
            "aws_vpc.mian",
        ),
    ];
    for (from, to, expect) in cases {
        assert!(clean.contains(from), "fixture lacks {from}");
        std::fs::write(&network, clean.replacen(from, to, 1)).unwrap();
        let o = infragen(d, &["validate", "out"]);
        assert_eq!(o.status.code(), Some(1), "{expect}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("terraform/infra/network.tf.json") && t.contains(expect),
            "{expect}:\n{t}"
        );
    }
    std::fs::write(&network, clean).unwrap();
    let o = infragen(d, &["validate", "missing-folder"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = infragen(d, &["validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Several stacks and environments in one run (on every core): each target gets its own
/// folder, and if any target fails nothing at all is written.
#[test]
fn synth_many_targets_at_once() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    assert_eq!(
        infragen(d, &["init", "--path", "a.yaml"]).status.code(),
        Some(0)
    );
    assert_eq!(
        infragen(d, &["init", "--path", "b.yaml"]).status.code(),
        Some(0)
    );
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "all",
            "--blueprint",
            "a.yaml",
            "--blueprint",
            "b.yaml",
            "--jobs",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for stack in ["a", "b"] {
        for env in ["staging", "production"] {
            assert!(
                d.join(format!(
                    "out/{stack}/aws/{env}/terraform/infra/network.tf.json"
                ))
                .exists(),
                "{stack} {env}"
            );
        }
    }
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "all",
            "--blueprint",
            "a.yaml",
            "--blueprint",
            "b.yaml",
            "--check",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(d.join("b.yaml"), "name: b\nnetwork: {cidr: bad}\n").unwrap();
    std::fs::remove_dir_all(d.join("out")).unwrap();
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--blueprint",
            "a.yaml",
            "--blueprint",
            "b.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        !d.join("out").exists(),
        "a failed target must stop every write"
    );
}

/// `validate` checks manifests too, strictly: an unknown field in a Deployment is named.
#[test]
fn validate_checks_manifests_strictly() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bp = crate::support::root().join("blueprints/techshop.yaml");
    let o = infragen(
        d,
        &[
            "synth",
            "--provider",
            "kubernetes",
            "--env",
            "production",
            "--blueprint",
            bp.to_str().unwrap(),
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = infragen(d, &["validate", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("manifests") && text(&o).contains(", 0 problems"),
        "{}",
        text(&o)
    );
    let file = d.join("out/k8s/techshop-cloud/techshop-app.yaml");
    let clean = std::fs::read_to_string(&file).unwrap();
    assert!(
        clean.contains("  strategy:") || clean.contains("  selector:"),
        "fixture"
    );
    std::fs::write(&file, clean.replacen("  selector:", "  selectorr:", 1)).unwrap();
    let o = infragen(d, &["validate", "out"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("k8s/techshop-cloud/techshop-app.yaml") && text(&o).contains("selectorr"),
        "{}",
        text(&o)
    );
}

/// Hostile nesting exits 2 with a positioned error from the process itself — on the main
/// thread (one target) and on `--jobs` worker threads (several targets, 2 MiB stacks) — and is
/// never a stack overflow, which would abort the process.
#[test]
fn deep_nesting_exits_2_on_the_main_thread_and_on_worker_threads() {
    let root = crate::support::root().join("tests/invalid");
    let cases = [
        "deep-flow-100k.yaml",
        "deep-block-mappings-100k.yaml",
        "anchor-chain.yaml",
    ];
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for case in cases {
        std::fs::copy(root.join(case), d.join(case)).unwrap();
        let o = infragen(
            d,
            &[
                "synth",
                "--provider",
                "aws",
                "--env",
                "production",
                "--blueprint",
                case,
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(2),
            "{case} (main thread): {}",
            text(&o)
        );
        assert!(text(&o).contains(&format!("{case}:")), "{}", text(&o));
    }
    let mut args = vec![
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--jobs",
        "3",
    ];
    for case in cases {
        args.extend(["--blueprint", case]);
    }
    let o = infragen(d, &args);
    assert_eq!(o.status.code(), Some(2), "workers: {}", text(&o));
    for case in cases {
        assert!(text(&o).contains("nesting deeper than 64"), "{}", text(&o));
        assert!(
            text(&o).contains(&format!("{case}:")),
            "{case}: {}",
            text(&o)
        );
    }
}

/// `infragen schema | head -1`: the reader goes away; the writer ends quietly, not with a panic.
#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .arg("schema")
        .stdout(writer)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

#[test]
fn completions_complete_subcommands_and_values_in_bash() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = infragen(t.path(), &["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        for word in ["synth", "validate", "diff", "completions", "kubernetes"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = infragen(t.path(), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // The bash script, sourced, completes as a user's shell would.
    let bin = env!("CARGO_BIN_EXE_infragen");
    let probe = format!(
        r#"source <("{bin}" completions bash) || exit 3
COMP_WORDS=(infragen synth --provider ""); COMP_CWORD=3
_infragen infragen "" --provider; echo "values: ${{COMPREPLY[*]}}"
COMP_WORDS=(infragen comp); COMP_CWORD=1
_infragen infragen comp infragen; echo "commands: ${{COMPREPLY[*]}}""#
    );
    let o = Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash runs");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("values: aws digitalocean kubernetes"), "{out}");
    assert!(out.contains("commands: completions"), "{out}");
}

#[test]
fn man_prints_one_page_with_every_command() {
    let t = tempfile::tempdir().unwrap();
    let o = infragen(t.path(), &["man"]);
    assert!(o.status.success(), "{}", text(&o));
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(page.contains(".TH infragen 1"), "{page}");
    for cmd in [
        "SYNTH",
        "VALIDATE",
        "DIFF",
        "SCHEMA",
        "INIT",
        "COMPLETIONS",
        "MAN",
    ] {
        assert!(
            page.contains(&format!(".SH \"COMMAND: INFRAGEN {cmd}\"")),
            "no section for {cmd}"
        );
    }
    // Options with their help, and no pointers to pages that do not exist.
    assert!(page.contains("\\fB\\-\\-provider\\fR"), "{page}");
    assert!(page.contains("Only this environment"), "{page}");
    assert!(!page.contains("infragen\\-synth(1)"), "{page}");
    // Where groff is installed, the page must render without warnings.
    if let Ok(o) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(page.as_bytes())?;
            c.wait_with_output()
        })
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let warnings = String::from_utf8_lossy(&o.stderr);
        assert!(warnings.trim().is_empty(), "groff: {warnings}");
    }
}

#[test]
fn init_writes_the_schema_the_starter_points_at() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let o = infragen(d, &["init", "--path", "stacks/shop.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let starter = std::fs::read_to_string(d.join("stacks/shop.yaml")).unwrap();
    let first = starter.lines().next().unwrap();
    assert_eq!(
        first,
        "# yaml-language-server: $schema=blueprint.schema.json"
    );
    let written = std::fs::read_to_string(d.join("stacks/blueprint.schema.json")).unwrap();
    assert_eq!(written, format!("{}\n", infragen::cli::schema_json()));
    let schema: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        schema["properties"]["environments"]["additionalProperties"]["anyOf"][0]["$ref"],
        "#/$defs/BlueprintOverlay"
    );
    // A second stack beside the first shares the schema.
    let o = infragen(d, &["init", "--path", "stacks/other.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Notes and warnings reach stderr rendered once, by their type: each line starts with its
/// kind (`note:` or `warning[rule]:`), and with several targets the target follows it.
#[test]
fn notes_and_warnings_are_labelled_by_kind() {
    let t = tempfile::tempdir().unwrap();
    let bp = crate::support::root().join("blueprints/ecommerce-doks.yaml");
    let out = t.path().join("out");
    let o = infragen(
        t.path(),
        &[
            "synth",
            "--provider",
            "digitalocean",
            "--env",
            "all",
            "--blueprint",
            bp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with(' ')).collect();
    let warning = lines
        .iter()
        .find(|l| l.starts_with("warning[do-control-plane-firewall]: "))
        .unwrap_or_else(|| panic!("no warning line in\n{stderr}"));
    assert!(warning.contains(" digitalocean/"), "{warning}");
    assert!(lines.iter().any(|l| l.starts_with("note: ")), "{stderr}");
    // Nothing renders a warning as a note, or a note twice over.
    assert!(!stderr.contains("note: warning["), "{stderr}");
    assert!(!stderr.contains("note: note:"), "{stderr}");
}

/// Environments that give the same account-scoped AWS names would fail in one account
/// ("already exists"): synth warns, whether it lowers them together (`--env all`) or one
/// (compared with the others), unless their `providers.aws.account_id` pin them to different
/// accounts. The starter derives every such name with the environment, so it gets no
/// warning.
#[test]
fn environments_sharing_account_names_are_warned_about() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let seed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("blueprints/qurable-ecs.yaml"),
    )
    .unwrap();
    std::fs::write(d.join("shared.yaml"), &seed).unwrap();
    let pinned = seed
        .replacen(
            "  production:\n",
            "  production:\n    providers: { aws: { account_id: \"111111111111\" } }\n",
            1,
        )
        .replacen(
            "  staging:\n",
            "  staging:\n    providers: { aws: { account_id: \"222222222222\" } }\n",
            1,
        );
    assert_ne!(pinned, seed);
    std::fs::write(d.join("pinned.yaml"), &pinned).unwrap();
    assert_eq!(
        infragen(d, &["init", "--path", "starter.yaml"])
            .status
            .code(),
        Some(0)
    );
    let synth_all = |file: &str| {
        let o = infragen(
            d,
            &[
                "synth",
                "--provider",
                "aws",
                "--env",
                "all",
                "--blueprint",
                file,
                "--out",
                &format!("out-{file}"),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        text(&o)
    };
    let shared = synth_all("shared.yaml");
    assert!(
        shared.contains("warning[environments-share-names]: shared.yaml aws: environments production, staging give 19 account-scoped AWS names alike"),
        "{shared}"
    );
    for file in ["pinned.yaml", "starter.yaml"] {
        let out = synth_all(file);
        assert!(!out.contains("environments-share-names"), "{file}: {out}");
    }
    // One environment at a time (what a CI job per environment runs): compared with the
    // blueprint's other environments all the same.
    let synth_one = |file: &str, env: &str| {
        let o = infragen(
            d,
            &[
                "synth",
                "--provider",
                "aws",
                "--env",
                env,
                "--blueprint",
                file,
                "--out",
                &format!("one-{env}-{file}"),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        text(&o)
    };
    for env in ["production", "staging"] {
        let shared = synth_one("shared.yaml", env);
        assert!(
            shared.contains("warning[environments-share-names]: shared.yaml aws: environments production, staging give 19 account-scoped AWS names alike"),
            "{env}: {shared}"
        );
        for file in ["pinned.yaml", "starter.yaml"] {
            let out = synth_one(file, env);
            assert!(
                !out.contains("environments-share-names"),
                "{file} {env}: {out}"
            );
        }
    }
}

/// `--out` with `{provider}`/`{env}` writes each target where the layout says; a layout
/// that puts two targets in one folder is refused before anything is written.
#[test]
fn out_layouts_place_each_target_and_refuse_collisions() {
    let t = tempfile::tempdir().unwrap();
    let bp = crate::support::root().join("blueprints/ecommerce-doks.yaml");
    let bp = bp.to_str().unwrap();
    let base = [
        "synth",
        "--provider",
        "digitalocean",
        "--provider",
        "kubernetes",
    ];
    let o = infragen(
        t.path(),
        &[
            &base[..],
            &["--env", "all", "--blueprint", bp, "--out", "d/{env}"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("in the same folder"), "{}", text(&o));
    assert!(!t.path().join("d").exists());
    let layout = "d/{env}-{provider}";
    let o = infragen(
        t.path(),
        &[
            &base[..],
            &["--env", "all", "--blueprint", bp, "--out", layout],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    for dir in [
        "stage-digitalocean",
        "production-digitalocean",
        "stage-kubernetes",
        "production-kubernetes",
    ] {
        assert!(t.path().join("d").join(dir).join("k8s").is_dir(), "{dir}");
    }
    // One target with a layout: the same folder as written above, found unchanged.
    let one = ["synth", "--provider", "kubernetes", "--env", "stage"];
    let o = infragen(
        t.path(),
        &[&one[..], &["--blueprint", bp, "--out", layout, "--check"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
}
