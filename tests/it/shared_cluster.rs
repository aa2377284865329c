//! Stacks deployed into one existing cluster (round 11: a monorepo's three blueprints on one
//! DOKS cluster, `tests/fixtures/new-user/atelier-*-k8s.yaml`, `--provider kubernetes` with
//! one kubeconfig context). `synth` of them together warns `cluster-objects-shared` of what
//! both write — the ClusterIssuer they all call `le`, the namespace two of them share, its
//! routing NetworkPolicy each writes differently, their ResourceQuotas side by side — and
//! stays silent once each stack has names of its own, or when contexts differ.

use std::path::Path;
use std::process::Command;

const STACKS: [&str; 3] = ["atelier-shop-k8s", "atelier-blog-k8s", "atelier-admin-k8s"];

/// Writes `files` (name, text) into a fresh folder and runs `synth --provider kubernetes` of
/// them all at once: the exit code's text (stdout and stderr).
fn synth_together(files: &[(String, String)]) -> String {
    let t = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = ["synth", "--provider", "kubernetes", "--env", "production"]
        .map(String::from)
        .to_vec();
    for (name, text) in files {
        std::fs::write(t.path().join(name), text).unwrap();
        args.extend(["--blueprint".to_string(), name.clone()]);
    }
    args.extend(["--out".to_string(), "out".to_string()]);
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(&args)
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    text
}

fn fixtures() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/new-user");
    STACKS
        .iter()
        .map(|s| {
            let text = std::fs::read_to_string(dir.join(format!("{s}.yaml"))).unwrap();
            (format!("{s}.yaml"), text)
        })
        .collect()
}

fn warnings(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("warning[cluster-objects-shared]"))
        .collect()
}

#[test]
fn stacks_of_one_context_writing_the_same_objects_are_warned_of() {
    let out = synth_together(&fixtures());
    let w = warnings(&out);
    assert_eq!(w.len(), 3, "one per pair:\n{out}");
    let shop_blog = w
        .iter()
        .find(|l| l.contains("atelier-shop-k8s.yaml") && l.contains("atelier-blog-k8s.yaml"))
        .unwrap();
    for part in [
        "context `do-fra1-atelier`",
        "ClusterIssuer/le (differs)",
        "Namespace/atelier,",
        "NetworkPolicy/atelier/allow-ingress-traffic (differs)",
        "ResourceQuotas atelier-shop-quota and atelier-blog-quota in atelier",
    ] {
        assert!(shop_blog.contains(part), "`{part}` missing: {shop_blog}");
    }
    // The admin stack has a namespace of its own: only the issuer meets; the ingress
    // controller's NetworkPolicies, which every stack writes alike, are not listed.
    let admin = w
        .iter()
        .find(|l| l.contains("atelier-shop-k8s.yaml") && l.contains("atelier-admin-k8s.yaml"))
        .unwrap();
    assert!(
        admin.contains("write 1 object(s): ClusterIssuer/le (differs);"),
        "{admin}"
    );
}

#[test]
fn names_of_their_own_or_other_contexts_are_silent() {
    // Each stack its own issuer and namespace, as docs/brownfield.md says.
    let own: Vec<(String, String)> = fixtures()
        .into_iter()
        .map(|(name, text)| {
            let app = name
                .trim_start_matches("atelier-")
                .trim_end_matches("-k8s.yaml")
                .to_string();
            let text = text
                .replace("{ name: le,", &format!("{{ name: le-{app},"))
                .replace("issuer: le }", &format!("issuer: le-{app} }}"))
                .replace(
                    "default_namespace: atelier\n",
                    &format!("default_namespace: atelier-{app}\n"),
                )
                .replace(
                    "    - name: atelier\n",
                    &format!("    - name: atelier-{app}\n"),
                );
            (name, text)
        })
        .collect();
    let out = synth_together(&own);
    assert_eq!(warnings(&out), Vec::<&str>::new(), "{out}");
    // The fixtures as written, each for a cluster of its own.
    let apart: Vec<(String, String)> = fixtures()
        .into_iter()
        .map(|(name, text)| {
            let ctx = format!("context: {}", name.trim_end_matches(".yaml"));
            (name, text.replace("context: do-fra1-atelier", &ctx))
        })
        .collect();
    assert_eq!(warnings(&synth_together(&apart)), Vec::<&str>::new());
}
