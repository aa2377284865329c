//! Invalid input: each file in `tests/invalid/` must fail with a clear, positioned message
//! (snapshotted under `snapshots/errors/`) and never panic. A new case is a new file; its
//! first line may say `# args: --provider P --env E` (default: aws, production).

use infragen::Provider;

use crate::support::root;

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

#[test]
fn invalid_inputs_fail_with_positioned_messages() {
    let dir = root().join("tests/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 15);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let (provider, env) = args(&String::from_utf8_lossy(&bytes));
        let shown = format!("tests/invalid/{name}");
        let started = std::time::Instant::now();
        let result =
            std::panic::catch_unwind(|| infragen::synthesize(&shown, &bytes, provider, &env));
        let err = match result {
            Err(_) => panic!("{name}: panicked"),
            Ok(Ok(_)) => panic!("{name}: expected an error, synth succeeded"),
            Ok(Err(d)) => d,
        };
        assert!(
            started.elapsed().as_secs() < 5,
            "{name}: took {:?}",
            started.elapsed()
        );
        let text = err.to_string();
        assert!(
            text.contains(&shown),
            "{name}: message does not name the file:\n{text}"
        );
        insta::with_settings!({
            snapshot_path => "../../snapshots/errors",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name.replace('.', "_"), text);
        });
    }
}
