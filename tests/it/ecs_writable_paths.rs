//! Writable paths on ECS Fargate. Fargate has no tmpfs and no emptyDir: each
//! `security.writable_paths` entry (`/tmp` by default) is a task bind mount volume, "by
//! default … 0755 and the owner as root"
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html>), while the
//! task's containers run as the blueprint's non-root user with every capability dropped. An
//! image moved in from docker-compose, where `/tmp` was simply writable, failed at its first
//! write. Read off every ECS task definition of every shipped blueprint, workload fixture and
//! new-user fixture: each non-root container that mounts a volume read-write waits (through
//! `dependsOn` `SUCCESS`) for a container that, as the volume's owner (user 0) with every
//! capability dropped, gives that very path mode 1777 and exits.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{ecs_stack, matrix, providers_of, resources, synth, synth_aws};

/// Every problem with `out`'s task definitions (`family container: …`), and how many
/// writable mounts were followed to their preparer.
fn unprepared(out: &infragen::Output) -> (Vec<String>, usize) {
    let (mut problems, mut prepared) = (Vec::new(), 0);
    for td in resources(out, "infra", "aws_ecs_task_definition") {
        let family = td["family"].as_str().unwrap_or_default().to_string();
        let defs: Vec<Value> =
            serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
        let by: BTreeMap<&str, &Value> = defs
            .iter()
            .map(|d| (d["name"].as_str().unwrap(), d))
            .collect();
        for c in &defs {
            if c["user"] == "0" {
                continue;
            }
            for m in c["mountPoints"].as_array().into_iter().flatten() {
                if m["readOnly"] != false {
                    continue;
                }
                let path = m["containerPath"].as_str().unwrap();
                // Up the `dependsOn` chain to the container that opens `path`.
                let mut at: &Value = c;
                let found = loop {
                    let Some(dep) = at["dependsOn"].as_array().and_then(|d| d.first()) else {
                        break None;
                    };
                    at = by[dep["containerName"].as_str().unwrap()];
                    let opens = at["user"] == "0"
                        && at["entryPoint"][0] == "chmod"
                        && at["entryPoint"][1] == "1777"
                        && at["entryPoint"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|a| a == path);
                    if opens {
                        break Some(at);
                    }
                };
                let name = c["name"].as_str().unwrap();
                let Some(p) = found else {
                    problems.push(format!(
                        "{family} {name}: {path} is writable only by root, and nothing opens it first"
                    ));
                    continue;
                };
                let mounted = p["mountPoints"].as_array().into_iter().flatten().any(|x| {
                    x["sourceVolume"] == m["sourceVolume"]
                        && x["containerPath"] == path
                        && x["readOnly"] == false
                });
                let hardened = p["essential"] == false
                    && p["readonlyRootFilesystem"] == true
                    && p["privileged"] == false
                    && p["linuxParameters"]["capabilities"]["drop"] == serde_json::json!(["ALL"])
                    && p["linuxParameters"]["capabilities"]["add"].is_null();
                if !(mounted && hardened) {
                    problems.push(format!("{family} {name}: {path}'s preparer {p}"));
                }
                prepared += 1;
            }
        }
    }
    (problems, prepared)
}

#[test]
fn every_writable_path_of_every_ecs_task_is_opened_to_its_user_first() {
    let mut outputs: Vec<(String, infragen::Output)> = matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == infragen::Provider::Aws)
        .map(|(stem, path, p, env)| (format!("{stem} {env}"), synth(&path, p, &env)))
        .collect();
    for path in crate::connections::new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if !providers_of(&path).contains(&infragen::Provider::Aws) {
            continue;
        }
        for env in infragen::blueprint::environments(&stem, text.as_bytes()).unwrap() {
            outputs.push((
                format!("new-user/{stem} {env}"),
                synth(&path, infragen::Provider::Aws, &env),
            ));
        }
    }
    let (mut problems, mut prepared) = (Vec::new(), 0);
    for (label, out) in &outputs {
        let (p, n) = unprepared(out);
        problems.extend(p.into_iter().map(|p| format!("{label}: {p}")));
        prepared += n;
    }
    assert!(prepared > 20, "writable mounts followed: {prepared}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_preparer_opens_exactly_the_task_paths_before_its_init_containers() {
    let yaml = ecs_stack(
        "vols",
        "services:
  - name: web
    image: ghcr.io/acme/nginx:1.27.3
    port: 80
    security: { run_as_user: 101, writable_paths: [/var/cache/nginx, /tmp] }
    init:
      - { name: render-config, image: ghcr.io/acme/nginx:1.27.3, command: [/render] }
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8081
    security: { writable_paths: [] }
",
    );
    let out = synth_aws("vols", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let (problems, prepared) = unprepared(&out);
    assert!(problems.is_empty(), "{problems:#?}");
    // web (app, init) × two paths; api has none and no preparer.
    assert_eq!(prepared, 4);
    let tds = resources(&out, "infra", "aws_ecs_task_definition");
    let defs = |family: &str| -> Vec<Value> {
        let td = tds.iter().find(|t| t["family"] == family).unwrap();
        serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap()
    };
    let web = defs("web");
    let names: Vec<&str> = web.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["web", "infragen-writable-paths", "render-config"]);
    assert_eq!(
        web[1]["entryPoint"],
        serde_json::json!(["chmod", "1777", "/var/cache/nginx", "/tmp"])
    );
    assert!(web[1]["dependsOn"].is_null(), "it runs first");
    assert_eq!(
        web[2]["dependsOn"][0]["containerName"],
        "infragen-writable-paths"
    );
    assert_eq!(web[0]["dependsOn"][0]["containerName"], "render-config");
    assert_eq!(defs("api").len(), 1, "no writable path, no preparer");
    // The name is infragen's on ECS.
    let clash = yaml.replace("name: render-config", "name: infragen-writable-paths");
    let e = synth_aws("vols", &clash).expect_err("refused");
    assert!(e.contains("services[0].init[0].name"), "{e}");
}
