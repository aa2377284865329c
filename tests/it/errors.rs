//! Invalid input: each file in `tests/invalid/` must fail with a clear, positioned message
//! (snapshotted under `snapshots/errors/`) and never panic. A new case is a new file; its
//! first line may say `# args: --provider P --env E` (default: aws, production).

use infragen::Provider;

fn args(text: &str) -> (Provider, String) {
    let mut provider = Provider::Aws;
    let mut env = "production".to_string();
    if let Some(line) = text.lines().next().and_then(|l| l.strip_prefix("# args:")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(2) {
            match w[0] {
                "--provider" => {
                    provider = Provider::ALL
                        .into_iter()
                        .find(|p| p.name() == w[1])
                        .expect("known provider")
                }
                "--env" => env = w[1].to_string(),
                _ => {}
            }
        }
    }
    (provider, env)
}

/// Snapshot settings that keep the names and headers the fixtures had before `glob!`: no
/// `@file` suffix, no `input_file` line.
fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.remove_snapshot_suffix();
    s.remove_input_file();
    s.set_snapshot_path("../../snapshots/errors");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// Through `insta::glob!`, so every fixture is checked and reported even when an earlier one
/// fails: a panic or an unexpected success becomes the snapshot text (and so a reported
/// mismatch), the other checks are gathered and asserted after the last fixture.
#[test]
fn invalid_inputs_fail_with_positioned_messages() {
    let mut seen = 0;
    let mut problems = Vec::new();
    insta::glob!("../invalid", "?*", |path| {
        seen += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let (provider, env) = args(&String::from_utf8_lossy(&bytes));
        let shown = format!("tests/invalid/{name}");
        let started = std::time::Instant::now();
        let result =
            std::panic::catch_unwind(|| infragen::synthesize(&shown, &bytes, provider, &env));
        let text = match result {
            Err(_) => {
                problems.push(format!("{name}: panicked"));
                "PANICKED".to_string()
            }
            Ok(Ok(_)) => {
                problems.push(format!("{name}: expected an error, synth succeeded"));
                "SYNTH SUCCEEDED".to_string()
            }
            Ok(Err(d)) => d.to_string(),
        };
        if started.elapsed().as_secs() >= 5 {
            problems.push(format!("{name}: took {:?}", started.elapsed()));
        }
        if !text.contains(&shown) {
            problems.push(format!("{name}: message does not name the file:\n{text}"));
        }
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(name.replace('.', "_"), text);
        });
    });
    assert!(seen >= 15, "only {seen} fixtures in tests/invalid");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
