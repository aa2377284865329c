//! Writable paths on ECS Fargate. Fargate has no tmpfs and no emptyDir: each
//! `security.writable_paths` entry is a bind mount volume, "by default … 0755 and the owner
//! as root" unless the image declares the path as a `VOLUME` it owns
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html>), while
//! the task runs as the blueprint's non-root user with every capability dropped. An image
//! moved in from docker-compose, where `/tmp` was simply writable, fails at its first write:
//! synth says so for each workload that has writable paths, with the image change that makes
//! them writable, and nowhere else.

use crate::support::{ecs_stack, synth_aws};

fn warnings(out: &infragen::Output) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some("ecs-writable-paths"))
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn each_ecs_workload_with_writable_paths_is_told_what_the_image_needs() {
    let yaml = ecs_stack(
        "vols",
        "services:
  - name: web
    image: ghcr.io/acme/nginx:1.27.3
    port: 8080
    security: { run_as_user: 101, writable_paths: [/var/cache/nginx, /tmp] }
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8081
jobs:
  - name: report
    image: ghcr.io/acme/api:1.0.0
    schedule: \"0 3 * * *\"
    concurrency: Allow
    security: { writable_paths: [/tmp] }
",
    );
    let out = synth_aws("vols", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "once per blueprint: {w:#?}");
    let w = &w[0];
    // `api` names no path: every task gets a writable `/tmp` by default, root-owned too.
    assert!(
        w.contains("`api`, `report` (user 1001): `/tmp`")
            && w.contains("`web` (user 101): `/var/cache/nginx`, `/tmp`"),
        "{w}"
    );
    assert!(
        w.contains("chown 101 /var/cache/nginx /tmp")
            && w.contains(r#"VOLUME ["/var/cache/nginx", "/tmp"]"#),
        "{w}"
    );
    // Each path is a task volume the containers mount (what the warning is about).
    let td = crate::support::resources(&out, "infra", "aws_ecs_task_definition");
    assert!(
        td.iter()
            .any(|t| t["volume"].as_array().is_some_and(|v| v.len() == 2))
    );
}

#[test]
fn kubernetes_platforms_are_not_warned() {
    // An emptyDir is writable by the pod's user (fsGroup, world-writable by default).
    for (path, provider) in [
        (
            "tests/fixtures/new-user/herald-heroku-eks.yaml",
            infragen::Provider::Aws,
        ),
        ("blueprints/case-eks-fargate.yaml", infragen::Provider::Aws),
    ] {
        let path = crate::support::root().join(path);
        let out = crate::support::synth(&path, provider, "production");
        assert!(warnings(&out).is_empty(), "{}", path.display());
    }
}
