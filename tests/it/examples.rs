//! The CI examples in `examples/`, the GitHub Action (`action.yml`) and the release workflow
//! parse, every infragen command they run is one the CLI accepts (checked with `--help` of
//! the same subcommand and flags), and the pieces fit: the example passes only inputs the
//! action declares, and the action downloads only archives the release builds.

use crate::support::root;

fn infragen_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("infragen ").map(|i| l[i..].trim().to_string()))
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|w| ["synth", "validate", "diff"].contains(&w))
        })
        .collect()
}

#[test]
fn examples_parse_and_use_real_commands() {
    let mut seen = 0;
    for name in [
        "examples/github-actions.yml",
        "examples/pre-commit-config.yaml",
        "action.yml",
        ".github/workflows/release.yml",
    ] {
        let text = std::fs::read_to_string(root().join(name)).unwrap();
        let docs =
            yaml_rust2::YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(docs.len(), 1, "{name}");
        for line in infragen_lines(&text) {
            seen += 1;
            let words: Vec<&str> = line.split_whitespace().collect();
            let sub = words[1];
            let help = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
                .args([sub, "--help"])
                .output()
                .unwrap();
            let help = String::from_utf8_lossy(&help.stdout);
            for w in &words {
                if let Some(flag) = w
                    .strip_prefix("--")
                    .map(|f| f.split('=').next().unwrap_or(f))
                {
                    assert!(
                        help.contains(&format!("--{flag}")),
                        "{name}: `infragen {sub}` has no --{flag}"
                    );
                }
            }
        }
    }
    assert!(seen >= 4, "examples run synth --check, validate and diff");
}

fn yaml(path: &str) -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .remove(0)
}

#[test]
fn the_example_uses_the_action_and_the_action_the_release() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_hash().unwrap();
    for input in ["blueprint", "providers", "environments"] {
        assert!(
            inputs.contains_key(&yaml_rust2::Yaml::String(input.into())),
            "action.yml lacks the `{input}` input"
        );
    }
    let action_text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for cmd in ["synth", "validate", "diff"] {
        assert!(action_text.contains(cmd), "the action runs no `{cmd}`");
    }
    assert!(action_text.contains("--check") && action_text.contains("--format markdown"));

    let example = yaml("examples/github-actions.yml");
    let steps = example["jobs"]["infragen"]["steps"].as_vec().unwrap();
    let step = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/infragen@")))
        .expect("the example uses infragen's action");
    for (k, _) in step["with"].as_hash().unwrap() {
        assert!(
            inputs.contains_key(k),
            "the example passes {k:?}, which action.yml does not declare"
        );
    }

    // Every platform the action installs on has an archive the release builds.
    let release = yaml(".github/workflows/release.yml");
    let targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    for t in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&t), "release.yml does not build {t}");
        assert!(action_text.contains(t), "action.yml does not install {t}");
    }
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("scripts/build-static.sh"));
    assert!(
        dockerfile.contains("USER 65532"),
        "the image runs as non-root"
    );
    // The build stage copies every workspace member (a crate left out fails `docker build`).
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = cargo
        .lines()
        .find_map(|l| l.strip_prefix("members = "))
        .expect("Cargo.toml lists the workspace members");
    for member in members.split('"').skip(1).step_by(2).filter(|m| *m != ".") {
        let top = member.split('/').next().unwrap();
        assert!(
            dockerfile.contains(&format!("COPY {top} {top}")),
            "the Dockerfile does not copy the workspace member {member}"
        );
    }
}

/// The README stays what a newcomer needs (install, quick start, commands, where to read
/// more); reference material lives in the book under `docs/` (issue 20: under 250 lines).
#[test]
fn readme_stays_short() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines; move reference material to docs/"
    );
}
