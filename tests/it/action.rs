//! The GitHub Action's steps (`action.yml`) run as a runner runs them: each step's script
//! with bash, its `env:` set as the runner would, `gh` and `infragen` stand-ins on `PATH`
//! that record what they are asked, and a git checkout as `actions/checkout` leaves it.

use std::path::Path;
use std::process::Command;

use crate::support::root;

/// The `run` script of the action's step named `name`.
fn step(name: &str) -> String {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let doc = yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap()
        .remove(0);
    doc["runs"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("action.yml has no step {name:?} with a script"))
        .to_string()
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A `gh` that logs every call (and the body a comment is given) to `$LOG`, answers the
/// comment listing with `$LISTING` and fails it when `$LISTING` is absent.
const GH: &str = r#"#!/bin/bash
echo "gh $*" >> "$LOG"
if [ "$1" = api ] && [[ " $* " == *" --paginate "* ]]; then
  [ -f "$LISTING" ] || { echo "HTTP 403" >&2; exit 1; }
  cat "$LISTING"; exit 0
fi
for a in "$@"; do
  case "$a" in body=@*) echo "--- body" >> "$LOG"; cat "${a#body=@}" >> "$LOG" ;; esac
done
"#;

/// Run the comment step with a previous comment listing (`None`: the listing fails) and
/// `changed`; the log of `gh` calls and the step's stdout.
fn comment(listing: Option<&str>, changed: bool) -> (String, String) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir(d.join("bin")).unwrap();
    write_exe(&d.join("bin/gh"), GH);
    std::fs::write(
        d.join("diff.md"),
        "## infragen diff: `infra/a.yaml`\n\n1 destructive\n",
    )
    .unwrap();
    if let Some(l) = listing {
        std::fs::write(d.join("listing"), l).unwrap();
    }
    let o = Command::new("bash")
        .arg("-c")
        .arg(step("Comment on the pull request"))
        .current_dir(d)
        .env(
            "PATH",
            format!(
                "{}:{}",
                d.join("bin").display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("LOG", d.join("log"))
        .env("LISTING", d.join("listing"))
        .env("RUNNER_TEMP", d)
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GH_TOKEN", "t")
        .env("PR", "7")
        .env("FILE", d.join("diff.md"))
        .env("CHANGED", if changed { "true" } else { "false" })
        .env("BLUEPRINT", "infra/a.yaml")
        .env("PROVIDERS", "aws")
        .env("ENVIRONMENTS", "staging production")
        .env("SHA", "abc123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    (
        std::fs::read_to_string(d.join("log")).unwrap_or_default(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

const MARKER: &str = "<!-- infragen-diff: infra/a.yaml aws / staging production -->";

/// The comment is this blueprint's own, found by its marker. `gh pr comment --edit-last`
/// edited whatever comment the token wrote last: another blueprint's diff (a monorepo runs
/// the action once per stack) or a `terraform plan` comment was overwritten.
#[test]
fn the_comment_updates_its_own_and_no_other() {
    let others =
        "11 ## terraform plan\n12 <!-- infragen-diff: infra/b.yaml aws / staging production -->\n";
    let (log, _) = comment(Some(others), true);
    assert!(
        log.contains("gh api -X POST repos/acme/infra/issues/7/comments"),
        "{log}"
    );
    assert!(
        !log.contains("comments/11") && !log.contains("comments/12") && !log.contains("edit-last"),
        "{log}"
    );
    assert!(
        log.contains(&format!("--- body\n{MARKER}\n## infragen diff")),
        "{log}"
    );

    let (log, _) = comment(Some(&format!("{others}13 {MARKER}\n")), true);
    assert!(
        log.contains("gh api -X PATCH repos/acme/infra/issues/comments/13"),
        "{log}"
    );
    assert!(!log.contains("POST"), "{log}");
}

/// A later push that changes nothing updates the earlier comment, which would otherwise
/// keep announcing changes (destructive ones, maybe) the pull request no longer makes; with
/// no earlier comment nothing is posted.
#[test]
fn a_push_without_changes_clears_the_earlier_comment() {
    let (log, _) = comment(Some(&format!("13 {MARKER}\n")), false);
    assert!(
        log.contains("gh api -X PATCH repos/acme/infra/issues/comments/13")
            && log.contains("No change to the generated output as of abc123"),
        "{log}"
    );
    let (log, _) = comment(Some("11 ## terraform plan\n"), false);
    assert!(!log.contains("POST") && !log.contains("PATCH"), "{log}");
}

/// A fork's pull request gets a read-only token: the comment cannot be written, which must
/// not fail the job the checks passed (the diff is in the job summary).
#[test]
fn a_token_that_cannot_comment_warns() {
    let (_, out) = comment(None, true);
    assert!(out.contains("::warning::"), "{out}");
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {o:?}");
}

/// `actions/checkout` fetches one commit unless `fetch-depth: 0`: the pull request's merge
/// commit, without `origin/<base>`. The diff step fetches the base's tip then, instead of
/// failing the job with "--base origin/main is neither a file nor a git revision".
#[test]
fn the_diff_step_fetches_the_base_a_shallow_checkout_lacks() {
    let t = tempfile::tempdir().unwrap();
    let (origin, work) = (t.path().join("origin"), t.path().join("work"));
    std::fs::create_dir_all(&origin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.email", "ci@example.com"],
        &["config", "user.name", "ci"],
        &["config", "commit.gpgsign", "false"],
    ] {
        git(&origin, args);
    }
    std::fs::write(origin.join("a.yaml"), "name: a\n").unwrap();
    git(&origin, &["add", "a.yaml"]);
    git(&origin, &["commit", "-qm", "base"]);
    git(&origin, &["checkout", "-qb", "feature"]);
    std::fs::write(origin.join("a.yaml"), "name: a\n# changed\n").unwrap();
    git(&origin, &["commit", "-qam", "change"]);
    // What actions/checkout does by default: the pull request's head, depth 1.
    let url = format!("file://{}", origin.display());
    git(&work, &["init", "-q"]);
    git(&work, &["remote", "add", "origin", &url]);
    git(
        &work,
        &[
            "fetch",
            "-q",
            "--no-tags",
            "--depth=1",
            "origin",
            "+refs/heads/feature:refs/remotes/origin/feature",
        ],
    );
    git(&work, &["checkout", "-q", "origin/feature"]);

    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // An `infragen` that reads the base as the real one does (`git show <base>:./<file>`).
    write_exe(
        &bin.join("infragen"),
        "#!/bin/bash\ngit show \"$3:./a.yaml\" >/dev/null || exit 2\necho '## infragen diff'\nexit 1\n",
    );
    let out = t.path().join("output");
    let o = Command::new("bash")
        .arg("-c")
        .arg(step("Diff against the base"))
        .current_dir(&work)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("RUNNER_TEMP", t.path())
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", t.path().join("summary"))
        .env("BLUEPRINT", "a.yaml")
        .env("PROVIDERS", "aws")
        .env("ENVIRONMENTS", "production")
        .env("BASE", "origin/main")
        .env("BASE_REF", "main")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let outputs = std::fs::read_to_string(&out).unwrap();
    assert!(outputs.contains("changed=true"), "{outputs}");
}

/// Two uses of the action in one job (a monorepo's two blueprints) each keep their diff:
/// the `diff-file` output of the first still holds the first's diff after the second ran
/// (both were written to one `infragen-diff.md`).
#[test]
fn each_run_of_the_diff_step_keeps_its_own_file() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    // An `infragen` whose diff names the blueprint it was given.
    write_exe(
        &bin.join("infragen"),
        "#!/bin/bash\necho \"diff of $5\"\nexit 1\n",
    );
    let run = |blueprint: &str| -> String {
        let out = d.join(format!("output-{}", blueprint.replace('/', "_")));
        let o = Command::new("bash")
            .arg("-c")
            .arg(step("Diff against the base"))
            .current_dir(d)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("RUNNER_TEMP", d)
            .env("GITHUB_OUTPUT", &out)
            .env("GITHUB_STEP_SUMMARY", d.join("summary"))
            .env("BLUEPRINT", blueprint)
            .env("PROVIDERS", "aws")
            .env("ENVIRONMENTS", "production")
            .env("BASE", "base.yaml")
            .env("BASE_REF", "")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let outputs = std::fs::read_to_string(&out).unwrap();
        outputs
            .lines()
            .find_map(|l| l.strip_prefix("file="))
            .unwrap()
            .to_string()
    };
    let (a, b) = (run("stacks/a.yaml"), run("stacks/b.yaml"));
    assert_ne!(a, b);
    assert_eq!(
        std::fs::read_to_string(&a).unwrap(),
        "diff of stacks/a.yaml\n"
    );
    assert_eq!(
        std::fs::read_to_string(&b).unwrap(),
        "diff of stacks/b.yaml\n"
    );
}

/// `environments: all` checks every environment's committed output, found where the `out`
/// layout puts it, and fails when one of them is stale (the step once passed `all` to
/// `synth --check` as a folder name and an environment that does not exist).
#[test]
fn the_check_step_takes_every_environment() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_infragen"), bin.join("infragen")).unwrap();
    let blueprint = root().join("blueprints/ecommerce-doks.yaml");
    let run = || {
        Command::new("bash")
            .arg("-c")
            .arg(step("Committed output is up to date, and valid"))
            .current_dir(d)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("BLUEPRINT", &blueprint)
            .env("PROVIDERS", "digitalocean")
            .env("ENVIRONMENTS", "all")
            .env("OUT", "out/{provider}/{env}")
            .output()
            .unwrap()
    };
    // Nothing committed yet: stale.
    assert!(!run().status.success());
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["synth", "--provider", "digitalocean", "--env", "all"])
        .arg("--blueprint")
        .arg(&blueprint)
        .current_dir(d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    for env in ["stage", "production"] {
        assert!(d.join("out/digitalocean").join(env).is_dir(), "{env}");
    }
    let o = run();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{o:?}");
    for env in ["stage", "production"] {
        assert!(
            stdout.contains(&format!("(digitalocean, {env}): ")) && stdout.contains("0 problems"),
            "{env} not validated: {stdout}"
        );
    }
    // One environment's committed output edited by hand: the step fails.
    let kustomization = d.join("out/digitalocean/stage/k8s/kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    std::fs::write(&kustomization, format!("{text}# edited\n")).unwrap();
    assert!(!run().status.success());
}
