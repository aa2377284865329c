//! ECS Fargate tasks and their writable paths. Every container runs as the blueprint's
//! non-root user on a read-only root filesystem, and each writable path (`/tmp` by default)
//! is a task bind mount — which Fargate creates owned by root, mode 0755 ("By default, the
//! volume permissions are set to 0755 and the owner as root",
//! docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html;
//! github.com/aws/containers-roadmap/issues/938). Unless something opens it up first, the
//! app cannot write a temporary file. A container running as root before the others
//! (`backend::aws::sidecars::volume_setup`) must leave each such volume writable by any user.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::{matrix, resources, run_ecs_container, synth};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Checks every task definition of `out`; returns how many writable mounts it checked.
fn check(label: &str, out: &infragen::Output) -> usize {
    let mut checked = 0;
    for td in resources(out, "infra", "aws_ecs_task_definition") {
        let family = s(&td["family"]);
        let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
        let defs = defs.as_array().unwrap();
        let by_name = |n: &str| defs.iter().find(|c| c["name"] == n).unwrap();
        for c in defs.iter().filter(|c| s(&c["user"]) != "0") {
            let name = s(&c["name"]);
            let writable = c["mountPoints"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["readOnly"] == false);
            for m in writable {
                let (volume, path) = (s(&m["sourceVolume"]), s(&m["containerPath"]));
                let where_ = format!("{label}: task {family}, container {name}, {path}");
                // The container preparing it: reached through `dependsOn` `SUCCESS`.
                let mut at = c;
                let setup = loop {
                    let dep = at["dependsOn"]
                        .as_array()
                        .and_then(|d| d.first())
                        .unwrap_or_else(|| {
                            panic!("{where_}: nothing running as root opens it up first")
                        });
                    assert_eq!(dep["condition"], "SUCCESS", "{where_}: {dep}");
                    at = by_name(s(&dep["containerName"]));
                    if s(&at["user"]) == "0" {
                        break at;
                    }
                };
                assert!(
                    setup["mountPoints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["sourceVolume"] == volume && x["readOnly"] == false),
                    "{where_}: {} does not mount {volume} writable",
                    s(&setup["name"])
                );
                assert_eq!(setup["essential"], false, "{where_}: the setup must exit");
                assert_eq!(
                    setup["linuxParameters"]["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{where_}"
                );
                let scratch = tempfile::tempdir().unwrap();
                let (ok, at) = run_ecs_container(setup, scratch.path());
                assert!(ok, "{where_}: {} failed", s(&setup["name"]));
                let mode = std::fs::metadata(&at[path]).unwrap().permissions().mode();
                assert_eq!(
                    mode & 0o1777,
                    0o1777,
                    "{where_}: left mode {:o}, not writable by the task's user",
                    mode & 0o7777
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn every_writable_path_of_an_ecs_task_is_writable_by_its_user() {
    let mut checked = 0;
    let fixtures = crate::connections::new_user_fixtures().into_iter().chain(
        ["jobs-ecs", "sidecars-ecs", "rollout-ecs", "hosts-ecs"]
            .map(|f| crate::support::root().join(format!("tests/fixtures/workloads/{f}.yaml"))),
    );
    for (stem, path, provider, env) in matrix() {
        if provider == infragen::Provider::Aws {
            checked += check(&format!("{stem} {env}"), &synth(&path, provider, &env));
        }
    }
    for path in fixtures {
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.contains("ecs_fargate") {
            continue;
        }
        let rel = path
            .strip_prefix(crate::support::root())
            .unwrap()
            .display()
            .to_string();
        let out =
            infragen::synthesize(&rel, text.as_bytes(), infragen::Provider::Aws, "production")
                .unwrap_or_else(|d| panic!("{rel}: {d}"));
        checked += check(&rel, &out);
    }
    // qurable (seed 004) alone: api + worker, production and staging, each with /tmp.
    assert!(checked >= 4, "only {checked} writable mounts checked");
}

#[test]
fn a_writable_path_must_be_a_plain_absolute_path() {
    for bad in ["tmp", "/tmp; rm -rf /", "/var/../etc", "/"] {
        let yaml = crate::support::ecs_stack(
            "acme",
            &format!(
                "services:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    security: {{ writable_paths: [\"{bad}\"] }}\n"
            ),
        );
        let err = crate::support::synth_aws("acme", &yaml).unwrap_err();
        assert!(
            err.contains("services[0].security.writable_paths[0]")
                && err.contains("is not an absolute path"),
            "{bad}: {err}"
        );
    }
}

/// A writable path whose volume name folds into a files directory's (`/files/x` and files
/// in `/x`, both `files-x`) keeps a task volume of its own: with one shared volume the
/// writable path showed the files (and the files directory was writable). Writable paths
/// folding into each other (`/var/a-b`, `/var/a/b`) are refused at the blueprint
/// (`semantic::pod_security`).
#[test]
fn a_writable_path_named_as_a_files_directory_keeps_its_own_volume() {
    let yaml = crate::support::ecs_stack(
        "acme",
        "services:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    security: { writable_paths: [/files/x] }\n    files: [{ path: /x/app.conf, content: \"k = v\\n\" }]\n",
    );
    let out = crate::support::synth_aws("acme", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let td = &resources(&out, "infra", "aws_ecs_task_definition")[0];
    let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
    let volumes: Vec<&str> = td["volume"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| s(&v["name"]))
        .collect();
    // Every volume is mounted at one path only, in every container.
    let mut at: std::collections::BTreeMap<&str, &str> = Default::default();
    for c in defs.as_array().unwrap() {
        for m in c["mountPoints"].as_array().into_iter().flatten() {
            let (v, p) = (s(&m["sourceVolume"]), s(&m["containerPath"]));
            assert!(
                volumes.contains(&v),
                "{v} is not a task volume: {volumes:?}"
            );
            let first = *at.entry(v).or_insert(p);
            assert_eq!(first, p, "volume {v} serves both {first} and {p}");
        }
    }
    for p in ["/files/x", "/x"] {
        assert!(at.values().any(|x| *x == p), "{p} is not mounted: {at:?}");
    }
    assert_eq!(check("acme", &out), 1, "the app's writable mount");
}
