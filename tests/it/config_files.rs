//! Configuration files a workload reads from disk (`services[].files`, `jobs[].files`),
//! fixture `tests/fixtures/workloads/config-files.yaml`. Kubernetes (EKS, DOKS, an existing
//! cluster): every container of the pod mounts each file at its path, read only, from a
//! ConfigMap the kustomization applies, holding exactly the blueprint's text; the
//! ConfigMap's name follows the content, so a change rolls the pods. ECS Fargate: the setup
//! container, which the app waits for (`dependsOn` SUCCESS), writes each file byte for byte,
//! 0444, into the volume the app mounts read only at the file's directory.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, resources, root, run_ecs_container, synth};

const FIXTURE: &str = "tests/fixtures/workloads/config-files.yaml";

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The fixture's files, per workload, as loaded for `provider` and `env`: name → [(path,
/// content)] (`{env}` replaced).
fn blueprint_files(provider: Provider, env: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let bytes = std::fs::read(root().join(FIXTURE)).unwrap();
    let loaded = infragen::blueprint::load("x.yaml", &bytes, provider, env).unwrap();
    loaded
        .blueprint
        .workloads()
        .map(|w| {
            let files = w.files.iter().map(|f| (f.path.clone(), f.content.clone()));
            (w.name.clone(), files.collect())
        })
        .collect()
}

/// The pod spec of a Deployment or CronJob, with the workload's name.
fn pod_specs(docs: &[Value]) -> Vec<(String, Value)> {
    docs.iter()
        .filter_map(|d| {
            let spec = match s(&d["kind"]) {
                "Deployment" => d.pointer("/spec/template/spec"),
                "CronJob" => d.pointer("/spec/jobTemplate/spec/template/spec"),
                _ => None,
            }?;
            Some((s(&d["metadata"]["name"]).to_string(), spec.clone()))
        })
        .collect()
}

/// Checks the Kubernetes output of the fixture; returns the files checked.
fn check_kubernetes(provider: Provider, env: &str) -> usize {
    let label = format!("{provider} {env}");
    let out = synth(&root().join(FIXTURE), provider, env);
    let docs = manifests(&out);
    // The ConfigMaps the kustomization applies (the files it lists).
    let kustomization = out
        .files
        .iter()
        .find(|(p, _)| p.ends_with("k8s/kustomization.yaml"))
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| panic!("{label}: no kustomization"));
    let applied: Vec<&String> = out
        .files
        .iter()
        .filter(|(p, _)| {
            p.strip_prefix("k8s/")
                .is_some_and(|rel| kustomization.contains(&format!("- {rel}\n")))
        })
        .map(|(_, t)| t)
        .collect();
    let config_maps: BTreeMap<String, Value> = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .filter(|d| {
            let name = s(&d["metadata"]["name"]);
            applied
                .iter()
                .any(|t| t.contains(&format!("  name: {name}\n")))
        })
        .map(|d| (s(&d["metadata"]["name"]).to_string(), d.clone()))
        .collect();
    let expected = blueprint_files(provider, env);
    let mut checked = 0;
    for (workload, pod) in pod_specs(&docs) {
        let Some(files) = expected.get(&workload) else {
            continue;
        };
        let at = format!("{label}: {workload}");
        let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
        let containers = pod["containers"].as_array().unwrap();
        assert!(!files.is_empty(), "{at}: the fixture gives it files");
        for c in containers {
            assert_eq!(
                c["securityContext"]["readOnlyRootFilesystem"], true,
                "{at}: {}",
                c["name"]
            );
            for (path, content) in files {
                let mount = c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| m["mountPath"] == path.as_str())
                    .unwrap_or_else(|| {
                        panic!("{at}: container {} does not mount {path}", c["name"])
                    });
                assert_eq!(mount["readOnly"], true, "{at}: {path}");
                let volume = volumes
                    .iter()
                    .find(|v| v["name"] == mount["name"])
                    .unwrap_or_else(|| panic!("{at}: no volume {}", mount["name"]));
                let name = s(&volume["configMap"]["name"]);
                let cm = config_maps.get(name).unwrap_or_else(|| {
                    panic!("{at}: ConfigMap {name} is not applied by the kustomization")
                });
                assert_eq!(
                    volume["configMap"]["defaultMode"], 0o444,
                    "{at}: {path} must be readable by the pod's user, writable by none"
                );
                // One file at its path, not the directory: the image's other files stay.
                let key = s(&mount["subPath"]);
                assert_eq!(
                    cm["data"][key].as_str(),
                    Some(content.as_str()),
                    "{at}: {path} holds something else than the blueprint's text"
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn kubernetes_pods_mount_the_blueprints_files_from_an_applied_config_map() {
    let mut checked = 0;
    for (provider, env) in [
        (Provider::Aws, "eks"),
        (Provider::Digitalocean, "production"),
        (Provider::Kubernetes, "production"),
        (Provider::Kubernetes, "eks"),
    ] {
        checked += check_kubernetes(provider, env);
    }
    // web 1 file × 1 container, api 2 × 2 (app and collector), report 1 × 1: 6 per output.
    assert_eq!(checked, 4 * 6);
}

/// The ConfigMap name of `workload`'s files and its pod template, for `yaml`.
fn files_config_map(yaml: &str, workload: &str) -> (String, String) {
    let out = infragen::synthesize("x.yaml", yaml.as_bytes(), Provider::Kubernetes, "eks")
        .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let (_, pod) = pod_specs(&docs)
        .into_iter()
        .find(|(n, _)| n == workload)
        .unwrap();
    let name = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|v| v["configMap"]["name"].as_str())
        .unwrap()
        .to_string();
    (name, pod.to_string())
}

#[test]
fn a_changed_file_is_a_new_config_map_and_rolls_the_pods() {
    let before = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let after = before.replace("log_level: info", "log_level: debug");
    assert_ne!(before, after);
    let (old, old_pod) = files_config_map(&before, "api");
    let (new, new_pod) = files_config_map(&after, "api");
    assert_ne!(
        old, new,
        "the ConfigMap keeps its name: running pods would not see it"
    );
    assert_ne!(
        old_pod, new_pod,
        "the pod template is unchanged: no rollout"
    );
    // Another workload's files are not touched by it.
    assert_eq!(
        files_config_map(&before, "web").0,
        files_config_map(&after, "web").0
    );
}

#[test]
fn ecs_tasks_write_the_files_before_the_app_starts() {
    let out = synth(&root().join(FIXTURE), Provider::Aws, "production");
    let expected = blueprint_files(Provider::Aws, "production");
    let mut checked = 0;
    for td in resources(&out, "infra", "aws_ecs_task_definition") {
        let family = s(&td["family"]).to_string();
        let Some(files) = expected.get(&family) else {
            continue;
        };
        let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
        let defs = defs.as_array().unwrap();
        let app = &defs[0];
        let dep = &app["dependsOn"][0];
        assert_eq!(dep["condition"], "SUCCESS", "{family}: {app}");
        let setup = defs
            .iter()
            .find(|c| c["name"] == dep["containerName"])
            .unwrap();
        assert_eq!(setup["essential"], false, "{family}");
        let volumes: Vec<&str> = td["volume"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| s(&v["name"]))
            .collect();
        let scratch = tempfile::tempdir().unwrap();
        let (ok, at) = run_ecs_container(setup, scratch.path());
        assert!(ok, "{family}: the setup container failed");
        for (path, content) in files {
            let (dir, file) = path.rsplit_once('/').unwrap();
            // Every container of the task but the setup reads it there, read only.
            for c in defs.iter().filter(|c| c["name"] != setup["name"]) {
                let m = c["mountPoints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["containerPath"] == dir)
                    .unwrap_or_else(|| panic!("{family}: {} does not mount {dir}", c["name"]));
                assert_eq!(m["readOnly"], true, "{family}: {dir}");
                assert!(volumes.contains(&s(&m["sourceVolume"])), "{family}: {m}");
            }
            let written = at[dir].join(file);
            assert_eq!(
                std::fs::read_to_string(&written).unwrap(),
                *content,
                "{family}: {path} is not the blueprint's text"
            );
            let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o444, "{family}: {path} has mode {mode:o}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "web 1, api 2, report 1");
}

/// A service `api` whose one file holds `size` bytes (`x`, no escaping), on ECS or on an
/// existing cluster.
fn sized(ecs: bool, size: usize) -> (String, Provider) {
    let service = format!(
        "services:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    files:\n      - path: /etc/api/big.json\n        content: \"{}\"\n",
        "x".repeat(size)
    );
    if ecs {
        (crate::support::ecs_stack("sizes", &service), Provider::Aws)
    } else {
        (
            format!(
                "name: sizes\nproviders: {{ kubernetes: {{}} }}\ncluster: {{ platform: existing }}\n{service}"
            ),
            Provider::Kubernetes,
        )
    }
}

fn synth_text(yaml: &str, provider: Provider) -> Result<infragen::Output, String> {
    infragen::synthesize("sizes.yaml", yaml.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

#[test]
fn files_beyond_what_the_platform_takes_are_refused_at_their_content() {
    // The budgets count the text JSON-escaped: two quotes around `size` plain bytes.
    for (ecs, budget) in [(true, 32 * 1024), (false, 240 * 1024)] {
        let (fits, provider) = sized(ecs, budget - 2);
        let out = synth_text(&fits, provider).unwrap_or_else(|e| panic!("{e}"));
        if ecs {
            // At the budget, the task definition stays inside ECS's 65536 bytes.
            let td = resources(&out, "infra", "aws_ecs_task_definition");
            let defs = s(&td[0]["container_definitions"]);
            assert!(defs.len() < 65536, "{} bytes", defs.len());
        }
        let (over, provider) = sized(ecs, budget - 1);
        let err = synth_text(&over, provider).unwrap_err();
        assert!(
            err.contains("`services[0].files[0].content`: the files of `api` take")
                && err.contains(&format!("at most {budget} fit"))
                && err.contains("sizes.yaml:"),
            "{err}"
        );
    }
}

/// Without NAT the setup container that writes the files must come from the stack's ECR: a
/// task whose only reason to have one is `files` is refused there, not left to hang at
/// pulling BusyBox from ECR Public.
#[test]
fn files_without_nat_need_the_setup_image_in_ecr() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/private-ecs.yaml")).unwrap();
    let setup =
        "    setup_image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/vault/busybox:1.37.0\n";
    assert!(text.contains(setup));
    let text = text
        .replace(setup, "")
        .replace(
            "    uses: [orders, statements]\n",
            "    uses: [orders, statements]\n    security: { writable_paths: [] }\n    files: [{ path: /etc/api/api.yaml, content: \"a: 1\" }]\n",
        )
        .replace(
            "    uses: [orders]\n",
            "    uses: [orders]\n    security: { writable_paths: [] }\n",
        );
    let err = crate::support::synth_aws("private", &text).unwrap_err();
    assert!(
        err.contains("`services[0].files`: `api` gets infragen's volume-setup container")
            && err.contains("writes `files` into its task volumes")
            && err.contains("move the files' content into the image")
            && !err.contains("writable_paths: []")
            && !err.contains("services[1]"),
        "{err}"
    );
}

/// The release step runs with the app's files (a migration reading `production.yaml`): its
/// Job's pod has the ConfigMap volume and mounts the file, as the app's pods do.
#[test]
fn the_release_step_reads_the_apps_files() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/release-k8s.yaml")).unwrap();
    let anchor = "    env: { DJANGO_SETTINGS_MODULE: shop.settings }\n";
    assert!(text.contains(anchor));
    let text = text.replacen(
        anchor,
        &format!(
            "{anchor}    files: [{{ path: /etc/shop/settings.yaml, content: \"debug: false\" }}]\n"
        ),
        1,
    );
    let out = infragen::synthesize(
        "x.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job" && s(&d["metadata"]["name"]).starts_with("web-release-"))
        .expect("the release Job");
    let pod = &job["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["configMap"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("web-files-"))
        })
        .unwrap_or_else(|| panic!("no files volume: {pod}"));
    let mounted = pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == volume["name"] && m["mountPath"] == "/etc/shop/settings.yaml");
    assert!(mounted, "{pod}");
}

/// `files` items have no `name`: an environment's list replaces the base's whole (as
/// docs/blueprint.md says), it does not add to it.
#[test]
fn an_environments_files_replace_the_bases() {
    let text = "name: t\nproviders: { kubernetes: {} }\ncluster: { platform: existing }\nservices:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    files:\n      - { path: /etc/api/a.yaml, content: base }\n      - { path: /etc/api/b.yaml, content: base }\nenvironments:\n  production: {}\n  staging:\n    services:\n      - name: api\n        files: [{ path: /etc/api/a.yaml, content: staging }]\n";
    let files = |env| {
        let loaded =
            infragen::blueprint::load("t.yaml", text.as_bytes(), Provider::Kubernetes, env)
                .unwrap();
        let s = &loaded.blueprint.services[0];
        s.files
            .iter()
            .map(|f| format!("{}={}", f.path, f.content))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        files("production"),
        ["/etc/api/a.yaml=base", "/etc/api/b.yaml=base"]
    );
    assert_eq!(files("staging"), ["/etc/api/a.yaml=staging"]);
}

/// Files whose names make the same ConfigMap key or task volume name: two `app.yaml` in two
/// directories (keyed `0-app.yaml`, `1-app.yaml`) beside a file named `0-app.yaml`, and the
/// directories `/etc/a-b` and `/etc/a/b` (both `files-etc-a-b` as a volume name).
const COLLIDING: &str = "    files:
      - { path: /etc/a/app.yaml, content: \"a\\n\" }
      - { path: /etc/b/app.yaml, content: \"b\\n\" }
      - { path: /etc/c/0-app.yaml, content: \"c\\n\" }
      - { path: /etc/a-b/x.conf, content: \"x\\n\" }
      - { path: /etc/a/b/y.conf, content: \"y\\n\" }
";

/// The colliding files: (path, content).
fn colliding() -> Vec<(&'static str, &'static str)> {
    vec![
        ("/etc/a/app.yaml", "a\n"),
        ("/etc/b/app.yaml", "b\n"),
        ("/etc/c/0-app.yaml", "c\n"),
        ("/etc/a-b/x.conf", "x\n"),
        ("/etc/a/b/y.conf", "y\n"),
    ]
}

/// On Kubernetes each file is its own key: a ConfigMap's `data` is a map, so two files on one
/// key mount one file's text at both paths (`/etc/a/app.yaml` read `c`).
#[test]
fn files_whose_names_collide_keep_their_own_text_on_kubernetes() {
    let yaml = format!(
        "name: t\nproviders: {{ kubernetes: {{}} }}\ncluster: {{ platform: existing }}\nservices:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n{COLLIDING}"
    );
    let out = infragen::synthesize(
        "t.yaml",
        yaml.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && s(&d["metadata"]["name"]).starts_with("api-files-"))
        .expect("the files' ConfigMap");
    assert_eq!(
        cm["data"].as_object().unwrap().len(),
        colliding().len(),
        "{cm}"
    );
    let (_, pod) = pod_specs(&docs)
        .into_iter()
        .find(|(n, _)| n == "api")
        .unwrap();
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    for (path, content) in colliding() {
        let m = mounts.iter().find(|m| m["mountPath"] == path).unwrap();
        assert_eq!(
            cm["data"][s(&m["subPath"])].as_str(),
            Some(content),
            "{path} would hold another file's text: {cm}"
        );
    }
}

/// On ECS each directory is its own task volume: with one volume for `/etc/a-b` and
/// `/etc/a/b` each directory showed the other's file.
#[test]
fn files_whose_directories_collide_keep_their_own_volume_on_ecs() {
    let yaml = crate::support::ecs_stack(
        "t",
        &format!(
            "services:\n  - name: api\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n{COLLIDING}"
        ),
    );
    let out = crate::support::synth_aws("t", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let td = &resources(&out, "infra", "aws_ecs_task_definition")[0];
    let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
    let setup = defs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "infragen-volumes")
        .unwrap();
    let volumes: Vec<&str> = td["volume"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| s(&v["name"]))
        .collect();
    let mut sources: Vec<&str> = setup["mountPoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(&m["sourceVolume"]))
        .collect();
    assert!(sources.iter().all(|v| volumes.contains(v)), "{volumes:?}");
    let n = sources.len();
    sources.sort_unstable();
    sources.dedup();
    assert_eq!(sources.len(), n, "two directories share a volume: {setup}");
    let scratch = tempfile::tempdir().unwrap();
    let (ok, at) = run_ecs_container(setup, scratch.path());
    assert!(ok, "the setup container failed");
    for (path, content) in colliding() {
        let (dir, file) = path.rsplit_once('/').unwrap();
        assert_eq!(
            std::fs::read_to_string(at[dir].join(file)).unwrap(),
            content
        );
        let mut listed: Vec<String> = std::fs::read_dir(&at[dir])
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        listed.sort();
        let own: Vec<String> = colliding()
            .iter()
            .filter(|(p, _)| p.rsplit_once('/').unwrap().0 == dir)
            .map(|(p, _)| p.rsplit_once('/').unwrap().1.to_string())
            .collect();
        assert_eq!(listed, own, "{dir} shows another directory's files");
    }
}

/// The old files' ConfigMaps a rollout leaves can be deleted by selector without touching
/// anything else of the workload: `app=<name>-files` selects the files' ConfigMap alone — not
/// the `<name>-env` ConfigMap, the Deployment or the Service, which carry `app=<name>`.
#[test]
fn a_label_selects_the_files_config_maps_alone() {
    // `files_config_map` synthesizes environment `eks`.
    let out = synth(&root().join(FIXTURE), Provider::Kubernetes, "eks");
    let docs = manifests(&out);
    for workload in ["web", "api", "report"] {
        let selector = format!("{workload}-files");
        let selected: Vec<String> = docs
            .iter()
            .filter(|d| d["metadata"]["labels"]["app"] == selector.as_str())
            .map(|d| format!("{}/{}", s(&d["kind"]), s(&d["metadata"]["name"])))
            .collect();
        let (name, _) = files_config_map(
            &std::fs::read_to_string(root().join(FIXTURE)).unwrap(),
            workload,
        );
        assert_eq!(selected, [format!("ConfigMap/{name}")], "app={selector}");
    }
}

/// The note on an ECS files directory says both cases: the image's files there are hidden,
/// unless the image declares the directory a `VOLUME`, whose files ECS copies into the task
/// volume ("Use bind mounts with Amazon ECS") before the blueprint's are written over them.
#[test]
fn the_ecs_files_note_says_what_a_volume_keeps() {
    let out = synth(&root().join(FIXTURE), Provider::Aws, "production");
    let note = out
        .notes
        .iter()
        .find(|n| n.text.contains("on ECS Fargate `/etc/nginx/conf.d`"))
        .expect("a note on the files directory");
    assert!(
        note.text.contains("other files there are hidden")
            && note
                .text
                .contains("declares `/etc/nginx/conf.d` a `VOLUME`")
            && note.text.contains("copies them into the task volume"),
        "{}",
        note.text
    );
}
