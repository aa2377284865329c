//! `services[].release`: a step run once per deploy before the new version starts
//! (docs/release.md). On Kubernetes platforms a Job named after a hash of its pod template,
//! which the app's pods wait for in `wait-for-release`; refused on ECS. These tests check
//! what makes it work: the Job reads exactly the app's environment and runs as its identity,
//! the pods wait on exactly that Job with a token only the wait container holds and an RBAC
//! rule for that Job alone, the name follows the template (a new image is a new run, an
//! unrelated change is not), and the quota counts the Job.

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, root, synth_cli};

/// The fixtures and the providers they are checked on.
const FIXTURES: [(&str, Provider); 6] = [
    ("release-k8s", Provider::Kubernetes),
    ("release-eks", Provider::Aws),
    ("release-eks-fargate", Provider::Aws),
    ("release-eks", Provider::Kubernetes),
    ("release-doks", Provider::Digitalocean),
    ("release-doks", Provider::Kubernetes),
];

fn fixture(stem: &str) -> String {
    std::fs::read_to_string(root().join(format!("tests/fixtures/workloads/{stem}.yaml"))).unwrap()
}

fn synth_text(text: &str, provider: Provider) -> Vec<Value> {
    let out = infragen::synthesize("release.yaml", text.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("synth failed:\n{d}"));
    manifests(&out)
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The one release Job of the output.
fn job(docs: &[Value]) -> &Value {
    let jobs: Vec<&Value> = find(docs, "Job")
        .into_iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] == "release")
        .collect();
    assert_eq!(jobs.len(), 1, "one release Job");
    jobs[0]
}

fn job_name(docs: &[Value]) -> String {
    job(docs)["metadata"]["name"].as_str().unwrap().to_string()
}

/// The Deployment of the service `name`.
fn deployment<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    find(docs, "Deployment")
        .into_iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Deployment {name}"))
}

/// The service with a release in each fixture.
fn service_of(stem: &str) -> &'static str {
    if stem.starts_with("release-eks") {
        "api"
    } else {
        "web"
    }
}

fn container<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {list} {name}"))
}

/// `env` entries by name, without those named in `except`.
fn env_without(c: &Value, except: &[&str]) -> Vec<Value> {
    c["env"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !except.contains(&e["name"].as_str().unwrap()))
        .collect()
}

#[test]
fn the_job_reads_the_apps_environment_and_runs_as_its_identity() {
    for (stem, provider) in FIXTURES {
        let docs = synth_text(&fixture(stem), provider);
        let svc = service_of(stem);
        let app_pod = &deployment(&docs, svc)["spec"]["template"]["spec"];
        let app = container(app_pod, "containers", svc);
        let job_pod = &job(&docs)["spec"]["template"]["spec"];
        let release = container(job_pod, "containers", "release");
        let label = format!("{stem} --provider {provider}");
        // The release's own `env` comes on top (DJANGO_LOG_LEVEL in release-k8s).
        assert_eq!(
            env_without(release, &["DJANGO_LOG_LEVEL"]),
            env_without(app, &[]),
            "{label}: the release's variables are the app's"
        );
        assert!(
            !env_without(app, &[]).is_empty(),
            "{label}: the app reads connection variables"
        );
        assert_eq!(release["envFrom"], app["envFrom"], "{label}: envFrom");
        assert_eq!(
            job_pod["serviceAccountName"], app_pod["serviceAccountName"],
            "{label}: the app's ServiceAccount (its IRSA role on EKS)"
        );
        assert_eq!(job_pod["automountServiceAccountToken"], false, "{label}");
        assert_eq!(
            job_pod["securityContext"], app_pod["securityContext"],
            "{label}: hardened like the app"
        );
        assert_eq!(
            release["securityContext"], app["securityContext"],
            "{label}"
        );
        // The app's mounts (writable paths, the databases' CA files) and their volumes.
        assert_eq!(release["volumeMounts"], app["volumeMounts"], "{label}");
        for m in app["volumeMounts"].as_array().into_iter().flatten() {
            let v = |pod: &Value| {
                pod["volumes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v["name"] == m["name"])
                    .cloned()
            };
            assert_eq!(v(job_pod), v(app_pod), "{label}: volume {}", m["name"]);
        }
        // It is not selected by the service's Service or PodDisruptionBudget.
        let labels = &job(&docs)["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["app"], format!("{svc}-release"), "{label}");
    }
}

/// A running migration keeps its node: the cluster autoscaler (EKS's, DOKS's) does not evict
/// a pod annotated `safe-to-evict: "false"` to remove an under-used node, and would otherwise
/// kill the step half-way. The app's pods stay evictable (their Deployment replaces them).
#[test]
fn the_cluster_autoscaler_does_not_evict_a_running_release() {
    const KEY: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";
    for (stem, provider) in FIXTURES {
        let docs = synth_text(&fixture(stem), provider);
        let label = format!("{stem} --provider {provider}");
        assert_eq!(
            job(&docs)["spec"]["template"]["metadata"]["annotations"][KEY],
            "false",
            "{label}"
        );
        let app = deployment(&docs, service_of(stem));
        assert!(
            app["spec"]["template"]["metadata"]["annotations"][KEY].is_null(),
            "{label}"
        );
    }
}

#[test]
fn the_release_image_is_the_apps_unless_it_names_one() {
    let docs = synth_text(&fixture("release-k8s"), Provider::Kubernetes);
    let job_pod = &job(&docs)["spec"]["template"]["spec"];
    assert_eq!(
        container(job_pod, "containers", "release")["image"],
        "ghcr.io/acme/shop:2.4.0"
    );
    assert_eq!(
        job(&docs)["spec"]["activeDeadlineSeconds"],
        900,
        "the release's timeout"
    );
    let docs = synth_text(&fixture("release-eks"), Provider::Aws);
    let job_pod = &job(&docs)["spec"]["template"]["spec"];
    assert_eq!(
        container(job_pod, "containers", "release")["image"],
        "ghcr.io/acme/api-migrations:5.2.0"
    );
    assert_eq!(job(&docs)["spec"]["backoffLimit"], 2);
}

#[test]
fn the_apps_pods_wait_on_exactly_that_job_with_a_token_of_their_own() {
    for (stem, provider) in FIXTURES {
        let docs = synth_text(&fixture(stem), provider);
        let label = format!("{stem} --provider {provider}");
        let svc = service_of(stem);
        let name = job_name(&docs);
        let ns = job(&docs)["metadata"]["namespace"].as_str().unwrap();
        let pod = &deployment(&docs, svc)["spec"]["template"]["spec"];
        let init = pod["initContainers"].as_array().unwrap();
        assert_eq!(init[0]["name"], "wait-for-release", "{label}: first");
        let args: Vec<&str> = init[0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "wait",
                "--for=condition=complete",
                &format!("job/{name}"),
                &format!("--namespace={ns}"),
                "--timeout=-1s"
            ],
            "{label}"
        );
        assert!(
            init[0]["image"]
                .as_str()
                .unwrap()
                .starts_with("registry.k8s.io/kubectl:v1."),
            "{label}: a pinned kubectl"
        );
        // The pod mounts no token; the wait container alone mounts the projected one.
        assert_eq!(pod["automountServiceAccountToken"], false, "{label}");
        let token_volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| {
                v["projected"]["sources"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x.get("serviceAccountToken").is_some()))
            })
            .unwrap_or_else(|| panic!("{label}: no token volume"));
        let holders: Vec<&str> = init
            .iter()
            .chain(pod["containers"].as_array().unwrap())
            .filter(|c| {
                c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|m| m["name"] == token_volume["name"])
            })
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(holders, ["wait-for-release"], "{label}: token holders");
        // The RBAC rule reads that Job alone, for the pod's ServiceAccount.
        let role = find(&docs, "Role")
            .into_iter()
            .find(|r| r["metadata"]["name"] == name.as_str())
            .unwrap();
        assert_eq!(role["metadata"]["namespace"], ns);
        assert_eq!(
            role["rules"],
            serde_json::json!([{
                "apiGroups": ["batch"],
                "resources": ["jobs"],
                "resourceNames": [name],
                "verbs": ["get", "list", "watch"],
            }]),
            "{label}"
        );
        let binding = find(&docs, "RoleBinding")
            .into_iter()
            .find(|r| r["metadata"]["name"] == name.as_str())
            .unwrap();
        assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
        assert_eq!(
            binding["subjects"],
            serde_json::json!([{"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": ns}]),
            "{label}"
        );
    }
}

#[test]
fn the_worker_without_a_release_waits_for_nothing() {
    let docs = synth_text(&fixture("release-k8s"), Provider::Kubernetes);
    let pod = &deployment(&docs, "worker")["spec"]["template"]["spec"];
    assert!(pod.get("initContainers").is_none());
    assert_eq!(find(&docs, "Role").len(), 1, "the web release's Role alone");
}

#[test]
fn the_job_name_changes_with_the_image_and_not_otherwise() {
    let base = fixture("release-k8s");
    let name = job_name(&synth_text(&base, Provider::Kubernetes));
    let edit = |from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        job_name(&synth_text(
            &base.replacen(from, to, 1),
            Provider::Kubernetes,
        ))
    };
    // A new app image (the release runs it) is a new Job: the pod template is immutable, and
    // the new version's migrations must run.
    assert_ne!(
        edit(
            "image: ghcr.io/acme/shop:2.4.0\n    port",
            "image: ghcr.io/acme/shop:2.5.0\n    port"
        ),
        name
    );
    // So is a new command.
    assert_ne!(edit("migrate, --noinput]", "migrate]"), name);
    // Scaling, a probe, the worker's image: the same Job, nothing runs again.
    assert_eq!(edit("replicas: 3", "replicas: 5"), name);
    assert_eq!(
        edit(
            "port: 8000",
            "port: 8000\n    probes: { readiness: { path: /healthz } }"
        ),
        name
    );
    assert_eq!(
        edit(
            "image: ghcr.io/acme/shop:2.4.0\n    command",
            "image: ghcr.io/acme/shop:9.9.9\n    command"
        ),
        name
    );
    // On EKS the release's own image decides, not the app's.
    let eks = fixture("release-eks");
    let name = job_name(&synth_text(&eks, Provider::Aws));
    let edit = |from: &str, to: &str| {
        assert!(eks.contains(from), "{from}");
        job_name(&synth_text(&eks.replacen(from, to, 1), Provider::Aws))
    };
    assert_ne!(edit("api-migrations:5.2.0", "api-migrations:5.3.0"), name);
    assert_eq!(edit("replicas: 2", "replicas: 4"), name);
}

#[test]
fn the_quota_counts_the_release_job() {
    // The fixture's quota holds web (3 × 100m) + worker (100m) + the data services; at
    // 1700m for the release the namespace needs more than its 4 CPUs.
    let text = fixture("release-k8s").replace(
        "requests: { cpu: 250m, memory: 256Mi }\n        limits: { cpu: \"1\"",
        "requests: { cpu: 3500m, memory: 256Mi }\n        limits: { cpu: \"4\"",
    );
    let (code, stderr) = synth_cli(&text, "kubernetes");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("web-release"), "{stderr}");
    assert!(stderr.contains("requests.cpu"), "{stderr}");
}

#[test]
fn ecs_refuses_a_release_where_it_is_written() {
    let text = crate::support::ecs_stack(
        "shop",
        r#"services:
  - name: web
    image: ghcr.io/acme/shop:2.4.0
    port: 8000
    release:
      command: [python, manage.py, migrate]
"#,
    );
    let (code, stderr) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("services[0].release"), "{stderr}");
    assert!(stderr.contains("blueprint.yaml:"), "{stderr}");
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("command: [python"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("blueprint.yaml:{line}:")),
        "positioned at line {line}: {stderr}"
    );
    assert!(
        stderr.contains("apply -target=aws_ecs_task_definition.web"),
        "a suggestion: {stderr}"
    );
}

#[test]
fn the_wait_container_runs_kubectl_of_the_clusters_minor() {
    let image = |text: &str| {
        let docs = synth_text(text, Provider::Kubernetes);
        let pod = &deployment(&docs, "web")["spec"]["template"]["spec"];
        pod["initContainers"][0]["image"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let base = fixture("release-k8s");
    assert_eq!(image(&base), "registry.k8s.io/kubectl:v1.34.3");
    let at = |v: &str| base.replace("version: \"1.34\"", &format!("version: \"{v}\""));
    assert_eq!(image(&at("1.32")), "registry.k8s.io/kubectl:v1.32.3");
    // DOKS offers 1.36: its own line (CHANGELOG-1.36.md lists registry.k8s.io/kubectl:v1.36.0).
    assert_eq!(image(&at("1.36")), "registry.k8s.io/kubectl:v1.36.0");
    // A minor the catalog has no image for: the nearest it has, one minor of skew.
    assert_eq!(image(&at("1.37")), "registry.k8s.io/kubectl:v1.36.0");
    // DOKS without `cluster.version` is created at the catalog's default (1.35), and gets
    // that line, not the newest.
    let doks = |text: &str| {
        let docs = synth_text(text, Provider::Digitalocean);
        let pod = &deployment(&docs, "web")["spec"]["template"]["spec"];
        pod["initContainers"][0]["image"].clone()
    };
    let given = fixture("release-doks");
    assert!(given.contains("  version: \"1.35\"\n"));
    assert_eq!(
        doks(&given.replace("  version: \"1.35\"\n", "")),
        doks(&given)
    );
}

/// kubectl is supported within one minor of the API server
/// (<https://kubernetes.io/releases/version-skew-policy/#kubectl>): a cluster further from
/// every line the catalog pins is warned about (`kubectl-skew`), one within it is not.
#[test]
fn a_cluster_beyond_kubectls_skew_is_warned_about() {
    let base = fixture("release-k8s");
    let skew = |v: &str| -> Vec<String> {
        let text = base.replace("version: \"1.34\"", &format!("version: \"{v}\""));
        infragen::synthesize(
            "release.yaml",
            text.as_bytes(),
            Provider::Kubernetes,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("kubectl-skew"))
        .map(|n| n.text.clone())
        .collect()
    };
    let old = skew("1.29");
    assert_eq!(old.len(), 1, "{old:#?}");
    assert!(
        old[0].contains("kubectl 1.32 (registry.k8s.io/kubectl:v1.32.3)")
            && old[0].contains("against a 1.29 cluster"),
        "{}",
        old[0]
    );
    assert_eq!(skew("1.39").len(), 1);
    for v in ["1.31", "1.34", "1.37"] {
        assert!(skew(v).is_empty(), "{v}: {:#?}", skew(v));
    }
}

#[test]
fn the_old_pods_keep_serving_at_full_strength_while_the_new_ones_wait() {
    let docs = synth_text(&fixture("release-k8s"), Provider::Kubernetes);
    assert_eq!(
        deployment(&docs, "web")["spec"]["strategy"],
        serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}})
    );
    // The rollout is not declared failed while the Job may still run (its timeout is 900 s):
    // the new pods have Kubernetes' 600 s after that.
    assert_eq!(
        deployment(&docs, "web")["spec"]["progressDeadlineSeconds"],
        1500
    );
    assert!(
        deployment(&docs, "worker")["spec"]
            .get("progressDeadlineSeconds")
            .is_none()
    );
    // Without a release, Kubernetes' default (25 % may go before the new pods are ready).
    assert!(
        deployment(&docs, "worker")["spec"]
            .get("strategy")
            .is_none()
    );
    // The blueprint's own figure wins.
    let text = fixture("release-k8s").replace(
        "    replicas: 3\n",
        "    replicas: 3\n    rollout: { max_unavailable: \"1\" }\n",
    );
    let docs = synth_text(&text, Provider::Kubernetes);
    assert_eq!(
        deployment(&docs, "web")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        1
    );
}

#[test]
fn on_eks_the_wait_container_gets_no_aws_credentials() {
    // The IRSA webhook injects the role into every container but those the pod annotation
    // lists; the app and the release Job keep theirs.
    for stem in ["release-eks", "release-eks-fargate"] {
        let docs = synth_text(&fixture(stem), Provider::Aws);
        let template = &deployment(&docs, "api")["spec"]["template"];
        assert_eq!(
            template["metadata"]["annotations"]["eks.amazonaws.com/skip-containers"],
            "wait-for-release",
            "{stem}"
        );
        assert!(
            job(&docs)["spec"]["template"]["metadata"]["annotations"]
                .get("eks.amazonaws.com/skip-containers")
                .is_none(),
            "{stem}: the release uses the role"
        );
    }
    // Elsewhere there is no webhook and no annotation.
    let docs = synth_text(&fixture("release-eks"), Provider::Kubernetes);
    let template = &deployment(&docs, "api")["spec"]["template"];
    assert!(
        template["metadata"]["annotations"]
            .get("eks.amazonaws.com/skip-containers")
            .is_none()
    );
}

/// `infragen diff` on a new release image: the previous revision's Job (and the Role that lets
/// its pods read it) is kept — a rolled-back pod, or an old pod replaced while the new
/// rollout waits, waits on it — and the command it gives deletes only the older revisions'.
#[test]
fn a_new_release_keeps_the_previous_revisions_job_for_a_rollback() {
    let base = fixture("release-eks");
    let head = base.replacen("api-migrations:5.2.0", "api-migrations:5.3.0", 1);
    let (old, new) = (
        job_name(&synth_text(&base, Provider::Aws)),
        job_name(&synth_text(&head, Provider::Aws)),
    );
    let (code, out) = crate::support::diff("aws", "production", &base, &head);
    assert_eq!(code, Some(1), "{out}");
    let notes: Vec<&str> = out.lines().filter(|l| l.starts_with("note:")).collect();
    // No note tells to delete the previous revision's Job, Role or RoleBinding.
    for kind in ["job", "role", "rolebinding"] {
        let delete = format!("kubectl delete {kind} -n ledger {old}");
        assert!(!out.contains(&delete), "{delete}:\n{out}");
    }
    let keep = notes
        .iter()
        .find(|n| {
            n.contains(&format!(
                "keep the previous revision's release Job `ledger/{old}`"
            ))
        })
        .unwrap_or_else(|| panic!("no note keeps {old}:\n{}", notes.join("\n")));
    // The clean-up spares the current and the previous Job (with their Roles and bindings).
    assert!(
        keep.contains(&format!(
            "kubectl delete job,role,rolebinding -n ledger -l app=api-release --field-selector metadata.name!={new},metadata.name!={old}`"
        )),
        "{keep}"
    );
    // Dropping the release: the old Job is still a rollback's, and may all go after that.
    let dropped = base[..base.find("    release:").unwrap()].to_string();
    let (_, out) = crate::support::diff("aws", "production", &base, &dropped);
    assert!(
        !out.contains(&format!("kubectl delete job -n ledger {old}")),
        "{out}"
    );
    assert!(
        out.contains(
            "they can all go: `kubectl delete job,role,rolebinding -n ledger -l app=api-release`"
        ),
        "{out}"
    );
}

/// The new users' blueprints (`tests/fixtures/new-user/`) run their migrations once per deploy,
/// not in an init container of every pod: on every Kubernetes output they make, no init
/// container runs a migration tool, and each service whose release runs one has its release
/// Job (named `<service>-release-…`) that the service's pods wait on. `forum-compose-ecs` keeps
/// its init container: it is an ECS blueprint (ECS refuses `release`, and Rails' migrator
/// takes an advisory lock), and one blueprint cannot give `release` on Kubernetes alone.
#[test]
fn the_new_users_migrations_run_once_per_deploy() {
    let migration = |c: &Value| {
        let words: Vec<String> = ["command", "args"]
            .iter()
            .flat_map(|k| c[*k].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_lowercase))
            .collect();
        words.iter().any(|w| {
            ["migrate", "db:prepare", "efbundle", "flyway"]
                .iter()
                .any(|m| w.contains(m))
        })
    };
    let mut jobs = 0;
    for path in crate::connections::new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if stem == "forum-compose-ecs" {
            continue;
        }
        for (provider, env) in crate::support::targets(&path) {
            let docs = manifests(&crate::support::synth(&path, provider, &env));
            for d in &docs {
                let pod = &d["spec"]["template"]["spec"];
                let what = format!(
                    "{stem} {provider} {env}: {} {}",
                    d["kind"], d["metadata"]["name"]
                );
                for c in pod["initContainers"].as_array().into_iter().flatten() {
                    assert!(
                        !migration(c),
                        "{what} migrates in init container {}",
                        c["name"]
                    );
                }
                if d["kind"] != "Job"
                    || !pod["containers"].as_array().unwrap().iter().any(migration)
                {
                    continue;
                }
                // A release Job: the pods of its service wait on exactly it.
                let name = d["metadata"]["name"].as_str().unwrap();
                let (service, _) = name
                    .rsplit_once("-release-")
                    .unwrap_or_else(|| panic!("{what}: not a release Job"));
                let wait = container(
                    &deployment(&docs, service)["spec"]["template"]["spec"],
                    "initContainers",
                    "wait-for-release",
                );
                assert!(
                    wait["args"]
                        .as_array()
                        .unwrap()
                        .contains(&Value::from(format!("job/{name}"))),
                    "{what}"
                );
                jobs += 1;
            }
        }
    }
    // contoso, parlor, tally, notes, beacon, larder, atrium, quill, guildhall: at least one
    // output each.
    assert!(jobs >= 9, "{jobs} release Jobs");
}

/// One blueprint on ECS and on DOKS (docs/release.md, "ECS Fargate"): `release` in the base
/// runs the migration once per deploy on Kubernetes; `per_provider.aws` removes it (`null`)
/// for ECS, which refuses it, and migrates in an `init` container there instead.
#[test]
fn release_on_kubernetes_init_container_on_ecs_from_one_blueprint() {
    let text = r#"name: forum
providers:
  aws: { region: us-east-2 }
  digitalocean: { region: nyc3 }
network:
  cidr: 10.80.0.0/16
  zones: [us-east-2a, us-east-2b]
  subnets: { public: [10.80.0.0/24, 10.80.1.0/24], private: [10.80.16.0/20, 10.80.32.0/20] }
cluster: { platform: ecs_fargate }
services:
  - name: app
    image: ghcr.io/acme/forum:7.2.0
    port: 3000
    task: { cpu: 512, memory: 1024 }
    release:
      command: [bundle, exec, rails, db:migrate]
per_provider:
  aws:
    services:
      - name: app
        release: null
        init:
          - { name: migrate, image: ghcr.io/acme/forum:7.2.0, command: [bundle, exec, rails, db:migrate], app_env: true }
  digitalocean:
    cluster: { platform: doks }
    node_pools: [{ name: general, size: medium, min: 2, desired: 2, max: 3 }]
"#;
    // Without AWS's part, the refusal says where the init container goes.
    let aws_part = &text[text.find("  aws:\n    services").unwrap()
        ..text.find("  digitalocean:\n    cluster").unwrap()];
    let without = text.replace(aws_part, "");
    let err = infragen::synthesize(
        "forum.yaml",
        without.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "`per_provider: { aws: { services: [{ name: app, release: null, init: [...] }] } }`"
        ),
        "{err}"
    );
    let out = infragen::synthesize("forum.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("aws: {d}"));
    let task = crate::support::resources(&out, "infra", "aws_ecs_task_definition")
        .into_iter()
        .find(|r| r.to_string().contains("forum"))
        .expect("the app's task definition");
    let containers: Value =
        serde_json::from_str(task["container_definitions"].as_str().unwrap()).unwrap();
    let containers = containers.as_array().unwrap();
    let migrate = containers
        .iter()
        .find(|c| c["name"] == "migrate")
        .unwrap_or_else(|| panic!("no migrate container: {containers:#?}"));
    assert_eq!(migrate["essential"], false);
    let app = containers.iter().find(|c| c["name"] == "app").unwrap();
    assert!(
        app["dependsOn"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({ "containerName": "migrate", "condition": "SUCCESS" })),
        "{app:#}"
    );

    let docs = synth_text(text, Provider::Digitalocean);
    let pod = &deployment(&docs, "app")["spec"]["template"]["spec"];
    let inits: Vec<&str> = pod["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(inits, ["wait-for-release"]);
    assert_eq!(
        job(&docs)["spec"]["template"]["spec"]["containers"][0]["command"],
        serde_json::json!(["bundle", "exec", "rails", "db:migrate"])
    );
}

/// The ECS release recipe (docs/release.md, "ECS Fargate") reads `terraform output -raw`
/// values of `terraform/infra`: each must be an output the ECS output of a service `web`
/// declares — `web_task_definition_arn` above all, the exact revision to run (the family
/// alone runs its latest revision, which another stack in the account may have registered)
/// — and the container it overrides must be the task definition's.
#[test]
fn the_ecs_release_recipe_reads_outputs_that_exist() {
    let doc = std::fs::read_to_string(root().join("docs/release.md")).unwrap();
    let ecs = &doc[doc.find("## ECS Fargate").expect("an ECS section")..];
    let script = &ecs[ecs.find("```sh").expect("a script")..];
    let script = &script[..script[5..].find("```").unwrap() + 5];
    let wanted: Vec<&str> = ["out ", "output -raw "]
        .iter()
        .flat_map(|call| {
            script
                .match_indices(call)
                .map(|(i, _)| &script[i + call.len()..])
        })
        .filter_map(|rest| {
            let name = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()?;
            (!name.is_empty() && !name.starts_with('"')).then_some(name)
        })
        .collect();
    assert!(wanted.contains(&"web_task_definition_arn"), "{wanted:?}");
    let yaml = crate::support::ecs_stack(
        "acme",
        "services:\n  - { name: web, image: ghcr.io/acme/web:1.0.0, port: 3000 }\n",
    );
    let out = crate::support::synth_aws("acme", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let outputs: Value =
        serde_json::from_str(&out.files["terraform/infra/outputs.tf.json"]).unwrap();
    for name in &wanted {
        assert!(
            outputs["output"].get(*name).is_some(),
            "docs/release.md reads `{name}`, which terraform/infra does not output"
        );
    }
    let ecs_tf: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
    let defs = &ecs_tf["resource"]["aws_ecs_task_definition"]["web"]["container_definitions"];
    let defs: Value = serde_json::from_str(defs.as_str().unwrap()).unwrap();
    assert!(
        defs.as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "web" && c["essential"] == true),
        "the recipe overrides container `web`"
    );
}
