//! `scripts/combos.py`, the developer-run combination generator (docs/testing.md), must not
//! report a checker that cannot run as findings about the output: run without the
//! `kubernetes-validate` package, `k8scheck.py` died on its import for every combo and the
//! run listed ~270 findings whose message was empty. It now runs each checker once at start
//! and exits 2, naming the checker, its error and what to install, before any combo.

use std::path::Path;
use std::process::Command;

use crate::support::root;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn combos_fails_at_start_when_a_checker_cannot_import_its_modules() {
    let t = tempfile::tempdir().unwrap();
    let shared = t.path().join("shared");
    // A tfcheck that runs, and a k8scheck that, like the real one without
    // `kubernetes-validate`, dies on an import before checking anything.
    write(
        &shared.join("tools/tfcheck.py"),
        "print('tfcheck: 1 modules, 1 resources, 0 problems')\n",
    );
    write(
        &shared.join("tools/k8scheck.py"),
        "import sys\nimport kubernetes_validate_absent_for_this_test as kv\nprint('k8scheck: 1 documents, 0 custom, 0 problems')\n",
    );
    std::fs::create_dir_all(shared.join("schemas")).unwrap();
    let out = t.path().join("combos");
    // Combo 8 of seed 7 synthesizes cleanly for an existing cluster, so its manifests reach
    // k8scheck: the old script counted k8scheck's traceback as a finding there.
    let o = Command::new("python3")
        .arg(root().join("scripts/combos.py"))
        .args([
            "--seed", "7", "--count", "9", "--only", "8", "--budget", "120",
        ])
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_infragen"))
        .arg("--shared")
        .arg(&shared)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("python3 runs scripts/combos.py");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("k8scheck") && stderr.contains("kubernetes_validate_absent_for_this_test"),
        "the failing checker and its error are named:\n{stderr}"
    );
    assert!(
        stderr.contains("pip install kubernetes-validate"),
        "what to install is said:\n{stderr}"
    );
    let findings: Vec<_> = std::fs::read_dir(out.join("findings"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(findings.is_empty(), "findings written: {findings:?}");
    assert!(!stdout.contains("FINDING"), "{stdout}");
}
