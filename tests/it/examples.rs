//! The CI examples in `examples/` parse, and every infragen command they run is one the CLI
//! accepts (checked with `--help` of the same subcommand and flags).

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
    for name in ["github-actions.yml", "pre-commit-config.yaml"] {
        let text = std::fs::read_to_string(root().join("examples").join(name)).unwrap();
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
