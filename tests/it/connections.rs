//! The connection contract, read off each output as a cluster would: for every shipped
//! blueprint × provider × environment and for a blueprint written as a new user would,
//!
//! - every Secret and ConfigMap a pod reads (env `valueFrom`, `envFrom`, volumes) is made by
//!   the output (a manifest, a `kubernetes_secret_v1` / `kubernetes_config_map_v1` of a
//!   Terraform module, an ExternalSecret's target) or listed in `preconditions.json`;
//! - no data service's credentials are among the listed ones (they are delivered);
//! - every workload sees `<NAME>_HOST` for each database, cache and queue it uses (and table
//!   and bucket on AWS, bucket on DigitalOcean), under its `env_prefix` when it has one, and
//!   `<NAME>_REPLICA_HOST` for a managed database with read replicas;
//! - metrics-server is installed wherever an autoscaler runs on a cloud cluster.
//!
//! A new kind of Secret reference that nothing makes fails here.

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, matrix, synth, targets};

/// A blueprint as a new user writes it: every kind of component, a renamed prefix, an
/// in-cluster database beside managed ones, a secret used whole and by key, an autoscaler.
pub(crate) const NEW_USER: &str = r#"
name: shop
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: ams3 }
state: { bucket: "shop-tf-state-{env}" }
network:
  cidr: 10.1.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.1.0.0/24, 10.1.1.0/24]
    private: [10.1.10.0/24, 10.1.11.0/24]
    database: [10.1.20.0/24, 10.1.21.0/24]
cluster: { platform: eks, version: "1.35", addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver] }
node_pools:
  - { name: general, size: medium, min: 2, max: 4 }
databases:
  - { name: ledger-db, engine: postgres, size: small, database_name: ledger, storage: { size_gb: 20 } }
  - { name: catalog, engine: mongodb, deployment: in_cluster }
caches:
  - { name: sessions, engine: redis, size: small }
queues:
  - { name: events, engine: rabbitmq, size: small }
tables:
  - { name: orders, partition_key: { name: id, type: S } }
buckets:
  - { name: uploads }
secrets:
  - { name: stripe, keys: [api-key] }
services:
  - name: api
    image: ghcr.io/shop/api:1.2.3
    port: 8080
    autoscaling: { min: 2, max: 6, cpu_percent: 70 }
    uses: [{ name: ledger-db, env_prefix: DB }, sessions, events, catalog, orders, uploads, stripe]
  - name: worker
    image: ghcr.io/shop/worker:1.2.3
    port: 9090
    secret_env: [{ name: STRIPE_KEY, secret: stripe }]
    uses: [events, ledger-db]
jobs:
  - name: nightly-export
    image: ghcr.io/shop/export:1.2.3
    schedule: "0 3 * * *"
    secret_env: [{ name: STRIPE_KEY, secret: stripe }]
    uses: [ledger-db, catalog, sessions, uploads]
"#;

/// Every output to check: (label, blueprint text, provider, environment, output).
fn outputs() -> Vec<(String, String, Provider, String, infragen::Output)> {
    let mut out = Vec::new();
    // The shipped blueprints, and generated combinations when `INFRAGEN_COMBOS` names them
    // (docs/testing.md).
    for (stem, path, provider, env) in matrix().into_iter().chain(crate::support::combos()) {
        let text = std::fs::read_to_string(&path).unwrap();
        let o = synth(&path, provider, &env);
        out.push((
            format!("{stem} --provider {provider} --env {env}"),
            text,
            provider,
            env,
            o,
        ));
    }
    // Blueprints new users wrote (`tests/fixtures/new-user/`), every provider and environment.
    for path in new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (provider, env) in targets(&path) {
            let o = synth(&path, provider, &env);
            out.push((
                format!("new-user/{stem} --provider {provider} --env {env}"),
                text.clone(),
                provider,
                env,
                o,
            ));
        }
    }
    for provider in [Provider::Aws, Provider::Digitalocean, Provider::Kubernetes] {
        let o = infragen::synthesize("shop.yaml", NEW_USER.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("new-user blueprint --provider {provider}:\n{d}"));
        out.push((
            format!("new-user blueprint --provider {provider}"),
            NEW_USER.to_string(),
            provider,
            "production".into(),
            o,
        ));
    }
    out
}

/// `tests/fixtures/new-user/*.yaml`, sorted.
pub(crate) fn new_user_fixtures() -> Vec<std::path::PathBuf> {
    let dir = crate::support::root().join("tests/fixtures/new-user");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// What the Terraform modules make in the cluster: Secrets, ConfigMaps and ExternalSecret
/// targets (`namespace/name`), and whether metrics-server is released.
#[derive(Default)]
struct Made {
    secrets: BTreeSet<String>,
    config_maps: BTreeSet<String>,
    metrics_server: bool,
    /// The `registry-<name>` image pull Secret DOKS keeps in every namespace when the
    /// cluster has `registry_integration` (the cloud makes it, not the output).
    doks_pull_secret: Option<String>,
}

fn made_by_terraform(out: &infragen::Output) -> Made {
    let mut made = Made::default();
    let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
    let mut objects: Vec<(&str, Value)> = Vec::new();
    for (file, text) in &out.files {
        if !(file.starts_with("terraform/") && file.ends_with(".tf.json")) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        let res = &doc["resource"];
        if let Some(m) = res["kubernetes_namespace_v1"].as_object() {
            for (n, body) in m {
                namespaces.insert(n.clone(), s(&body["metadata"]["name"]).to_string());
            }
        }
        for (ty, kind) in [
            ("kubernetes_secret_v1", "Secret"),
            ("kubernetes_config_map_v1", "ConfigMap"),
        ] {
            if let Some(m) = res[ty].as_object() {
                for body in m.values() {
                    objects.push((kind, body["metadata"].clone()));
                }
            }
        }
        if let Some(m) = res["helm_release"].as_object() {
            made.metrics_server |= m.contains_key("metrics_server");
        }
        let integrated = res["digitalocean_kubernetes_cluster"]
            .as_object()
            .is_some_and(|m| m.values().any(|c| c["registry_integration"] == true));
        if integrated {
            made.doks_pull_secret = made_registry(out).map(|n| format!("registry-{n}"));
        }
        // Custom resources applied by a module (the External Secrets objects of
        // `connections` on EKS): an ExternalSecret makes its target Secret.
        if let Some(m) = res["kubernetes_manifest"].as_object() {
            for body in m.values() {
                let o = &body["manifest"];
                if s(&o["kind"]) == "ExternalSecret" {
                    made.secrets.insert(format!(
                        "{}/{}",
                        s(&o["metadata"]["namespace"]),
                        s(&o["spec"]["target"]["name"])
                    ));
                }
            }
        }
    }
    for (kind, meta) in objects {
        let ns = s(&meta["namespace"]);
        // `${kubernetes_namespace_v1.<n>.metadata[0].name}` → the namespace's name.
        let ns = ns
            .strip_prefix("${kubernetes_namespace_v1.")
            .and_then(|r| r.split('.').next())
            .and_then(|n| namespaces.get(n).cloned())
            .unwrap_or_else(|| ns.to_string());
        let at = format!("{ns}/{}", s(&meta["name"]));
        if kind == "Secret" {
            made.secrets.insert(at);
        } else {
            made.config_maps.insert(at);
        }
    }
    made
}

/// The name of the DigitalOcean container registry the output creates or reads.
fn made_registry(out: &infragen::Output) -> Option<String> {
    out.files
        .iter()
        .filter(|(f, _)| f.starts_with("terraform/") && f.ends_with(".tf.json"))
        .find_map(|(_, text)| {
            let doc: Value = serde_json::from_str(text).unwrap();
            ["resource", "data"].into_iter().find_map(|k| {
                doc[k]["digitalocean_container_registry"]
                    .as_object()
                    .and_then(|m| m.values().next())
                    .map(|r| s(&r["name"]).to_string())
            })
        })
}

/// Secrets and ConfigMaps (`namespace/name`) a pod spec reads.
fn reads(
    pod: &Value,
    ns: &str,
    secrets: &mut BTreeSet<String>,
    config_maps: &mut BTreeSet<String>,
) {
    let containers = pod["containers"]
        .as_array()
        .into_iter()
        .chain(pod["initContainers"].as_array())
        .flatten();
    for c in containers {
        for e in c["env"].as_array().into_iter().flatten() {
            let from = &e["valueFrom"];
            if let Some(n) = from["secretKeyRef"]["name"].as_str() {
                secrets.insert(format!("{ns}/{n}"));
            }
            if let Some(n) = from["configMapKeyRef"]["name"].as_str() {
                config_maps.insert(format!("{ns}/{n}"));
            }
        }
        for e in c["envFrom"].as_array().into_iter().flatten() {
            if let Some(n) = e["secretRef"]["name"].as_str() {
                secrets.insert(format!("{ns}/{n}"));
            }
            if let Some(n) = e["configMapRef"]["name"].as_str() {
                config_maps.insert(format!("{ns}/{n}"));
            }
        }
    }
    // The image pull Secrets: one that is missing leaves the pod in ImagePullBackOff.
    for p in pod["imagePullSecrets"].as_array().into_iter().flatten() {
        if let Some(n) = p["name"].as_str() {
            secrets.insert(format!("{ns}/{n}"));
        }
    }
    for v in pod["volumes"].as_array().into_iter().flatten() {
        if let Some(n) = v["secret"]["secretName"].as_str() {
            secrets.insert(format!("{ns}/{n}"));
        }
        if let Some(n) = v["configMap"]["name"].as_str() {
            config_maps.insert(format!("{ns}/{n}"));
        }
    }
}

fn pod_spec(d: &Value) -> Option<&Value> {
    match s(&d["kind"]) {
        "Deployment" | "StatefulSet" | "Job" => Some(&d["spec"]["template"]["spec"]),
        "CronJob" => Some(&d["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// The pod template of a Deployment or CronJob (a service's or a job's pods).
fn pod_template(d: &Value) -> Option<&Value> {
    match s(&d["kind"]) {
        "Deployment" => Some(&d["spec"]["template"]),
        "CronJob" => Some(&d["spec"]["jobTemplate"]["spec"]["template"]),
        _ => None,
    }
}

/// Blueprint jobs' CronJobs whose connection variables were checked.
static JOBS_WIRED: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

#[test]
fn every_secret_a_pod_reads_is_made_or_listed() {
    let mut checked = 0;
    // Secrets read by blueprint jobs' CronJobs (not the databases' backup jobs).
    let mut job_reads = 0;
    for (label, _, _, _, out) in outputs() {
        let pre: Vec<Value> = serde_json::from_str(
            out.files
                .get("preconditions.json")
                .unwrap_or_else(|| panic!("{label}: no preconditions.json")),
        )
        .unwrap_or_else(|e| panic!("{label}: preconditions.json: {e}"));
        let listed: BTreeSet<String> = pre
            .iter()
            .filter(|p| s(&p["kind"]) == "Secret")
            .map(|p| format!("{}/{}", s(&p["namespace"]), s(&p["name"])))
            .collect();
        let docs = manifests(&out);
        let made = made_by_terraform(&out);
        let mut in_manifests = BTreeSet::new();
        for d in &docs {
            let at = format!(
                "{}/{}",
                s(&d["metadata"]["namespace"]),
                s(&d["metadata"]["name"])
            );
            if s(&d["kind"]) == "ConfigMap" {
                in_manifests.insert(at);
            }
        }
        let mut data_credentials = BTreeSet::new();
        for d in &docs {
            let Some(pod) = pod_spec(d) else { continue };
            let ns = s(&d["metadata"]["namespace"]);
            let (mut secrets, mut config_maps) = (BTreeSet::new(), BTreeSet::new());
            reads(pod, ns, &mut secrets, &mut config_maps);
            if s(&d["kind"]) == "CronJob" && !s(&d["metadata"]["name"]).ends_with("-backup") {
                job_reads += secrets.len();
            }
            for sec in &secrets {
                checked += 1;
                let by_doks = made
                    .doks_pull_secret
                    .as_ref()
                    .is_some_and(|n| sec.ends_with(&format!("/{n}")));
                assert!(
                    made.secrets.contains(sec) || listed.contains(sec) || by_doks,
                    "{label}: {} {} reads Secret {sec}, which the output neither makes nor lists in preconditions.json",
                    s(&d["kind"]),
                    s(&d["metadata"]["name"]),
                );
            }
            for cm in &config_maps {
                assert!(
                    in_manifests.contains(cm) || made.config_maps.contains(cm),
                    "{label}: {} {} reads ConfigMap {cm}, which nothing makes",
                    s(&d["kind"]),
                    s(&d["metadata"]["name"]),
                );
            }
            if s(&d["kind"]) == "StatefulSet" {
                // The data service's own Secrets (its credentials).
                data_credentials.extend(secrets);
            }
        }
        for c in &data_credentials {
            assert!(
                !listed.contains(c),
                "{label}: preconditions.json lists {c}, a data service's credentials (they are delivered)"
            );
        }
    }
    assert!(checked > 50, "only {checked} Secret references checked");
    assert!(
        job_reads > 5,
        "only {job_reads} Secret references of jobs checked"
    );
}

#[test]
fn every_workload_sees_each_component_it_uses() {
    let mut checked = 0;
    for (label, text, provider, env, out) in outputs() {
        let loaded = infragen::blueprint::load("x.yaml", text.as_bytes(), provider, &env).unwrap();
        let bp = &loaded.blueprint;
        let docs = manifests(&out);
        let ecs = out.files.get("terraform/infra/ecs.tf.json").map(|t| {
            serde_json::from_str::<Value>(t).unwrap()["resource"]["aws_ecs_task_definition"].clone()
        });
        // Services and jobs alike: a job's pod (its CronJob's, or its ECS task) gets the
        // same connection variables.
        for svc in bp.workloads() {
            let wanted: Vec<String> = svc
                .uses
                .iter()
                .filter(|u| {
                    let data = bp.databases.iter().any(|d| d.name == u.name)
                        || bp.caches.iter().any(|c| c.name == u.name)
                        || bp.queues.iter().any(|q| q.name == u.name);
                    let aws = provider == Provider::Aws
                        && (bp.tables.iter().any(|t| t.name == u.name)
                            || bp.buckets.iter().any(|b| b.name == u.name));
                    // Spaces buckets on DigitalOcean.
                    let spaces = provider == Provider::Digitalocean
                        && bp.buckets.iter().any(|b| b.name == u.name);
                    data || aws || spaces
                })
                // An SQS queue has no host: its URL names the endpoint.
                .map(|u| {
                    let sqs = bp.queues.iter().any(|q| q.name == u.name && q.sqs());
                    format!("{}_{}", u.prefix(), if sqs { "URL" } else { "HOST" })
                })
                .chain(
                    // A managed database's read replica: its host too, or no workload can
                    // send reads there (EKS and DOKS pods lacked it; ECS tasks had it).
                    svc.uses
                        .iter()
                        .filter(|u| {
                            use infragen::blueprint::types::{DatabaseEngine, Deployment};
                            provider != Provider::Kubernetes
                                && bp.databases.iter().any(|d| {
                                    d.name == u.name
                                        && d.replicas > 0
                                        && d.deployment == Deployment::Managed
                                        && matches!(
                                            d.engine,
                                            DatabaseEngine::Postgres | DatabaseEngine::Mysql
                                        )
                                })
                        })
                        .map(|u| format!("{}_REPLICA_HOST", u.prefix())),
                )
                .collect();
            if wanted.is_empty() {
                continue;
            }
            // The variables the workload gets: its Deployments' or CronJob's containers, or
            // its ECS task.
            let mut vars: BTreeSet<String> = BTreeSet::new();
            for d in &docs {
                let Some(pod) = pod_template(d) else { continue };
                if s(&pod["metadata"]["labels"]["app"]) != svc.name {
                    continue;
                }
                if s(&d["kind"]) == "CronJob" {
                    *JOBS_WIRED.lock().unwrap() += 1;
                }
                for c in pod["spec"]["containers"].as_array().unwrap() {
                    for e in c["env"].as_array().into_iter().flatten() {
                        vars.insert(s(&e["name"]).to_string());
                    }
                }
            }
            if let Some(tds) = &ecs
                && let Some(td) = tds.get(svc.name.replace('-', "_"))
            {
                let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
                for c in defs.as_array().unwrap() {
                    for key in ["environment", "secrets"] {
                        for e in c[key].as_array().into_iter().flatten() {
                            vars.insert(s(&e["name"]).to_string());
                        }
                    }
                }
            }
            // Variables from the blueprint's own `env` count too (a ConfigMap).
            vars.extend(svc.env.keys().cloned());
            if vars.is_empty() {
                // Not lowered on this provider (e.g. no cluster).
                continue;
            }
            for w in &wanted {
                checked += 1;
                assert!(
                    vars.contains(w),
                    "{label}: service {} uses a component but lacks {w} (has {vars:?})",
                    svc.name
                );
            }
        }
    }
    assert!(checked > 40, "only {checked} uses checked");
    let jobs = *JOBS_WIRED.lock().unwrap();
    assert!(jobs >= 3, "only {jobs} jobs' CronJobs checked");
}

#[test]
fn autoscalers_on_cloud_clusters_have_metrics_server() {
    for (label, _, provider, _, out) in outputs() {
        let hpa = manifests(&out)
            .iter()
            .any(|d| s(&d["kind"]) == "HorizontalPodAutoscaler");
        if !hpa {
            continue;
        }
        if provider == Provider::Kubernetes {
            let pre = &out.files["preconditions.json"];
            assert!(
                pre.contains("v1beta1.metrics.k8s.io"),
                "{label}: autoscalers on an existing cluster, metrics-server not listed"
            );
        } else {
            assert!(
                made_by_terraform(&out).metrics_server,
                "{label}: autoscalers but no metrics-server release"
            );
        }
    }
}

#[test]
fn renamed_prefixes_and_credentials_by_reference() {
    let out = infragen::synthesize(
        "shop.yaml",
        NEW_USER.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap();
    let api = &out.files["k8s/shop/api.yaml"];
    // `env_prefix: DB` renames ledger-db's variables; nothing is named after it any more.
    assert!(api.contains("name: DB_HOST") && !api.contains("LEDGER_DB_"));
    // Credentials are references to the service's synced Secret, never values.
    assert!(api.contains("name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: api-connections"));
    // External Secrets reads the database's master credentials secret by name and JSON key,
    // in the `connections` module.
    let es = &out.files["terraform/connections/external_secrets.tf.json"];
    let api: Value = serde_json::from_str(es).unwrap();
    let data =
        &api["resource"]["kubernetes_manifest"]["api_connections"]["manifest"]["spec"]["data"];
    let password = data
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["secretKey"] == "DB_PASSWORD")
        .unwrap();
    assert_eq!(
        password["remoteRef"],
        serde_json::json!({"key": "shop-production/ledger-db/master", "property": "password"})
    );
    // Its IAM role reads exactly the secrets it syncs.
    let identity = &out.files["terraform/infra/identity.tf.json"];
    assert!(identity.contains("ReadTheServicesSecrets"));
    assert!(!identity.contains(r#"secret:*"#));
}

/// On EKS the External Secrets objects are planned by their own root module, never by the
/// run that installs their CRDs (`kubernetes_manifest` reads a kind's schema from the API at
/// plan): `connections` declares them, `platform` installs the operator, and both reach the
/// cluster the same way (the SSM tunnel's `kube_host` included). Nothing of them is a chart
/// or template that no checker can read.
#[test]
fn external_secrets_objects_are_planned_after_their_crds() {
    let mut checked = 0;
    for (label, _, provider, _, out) in outputs() {
        if provider != Provider::Aws {
            continue;
        }
        assert!(
            !out.files.keys().any(|f| f.starts_with("charts/")),
            "{label}: a Helm chart in the output"
        );
        let module = |m: &str| -> BTreeMap<String, Value> {
            out.files
                .iter()
                .filter_map(|(f, t)| {
                    let rest = f.strip_prefix(&format!("terraform/{m}/"))?;
                    Some((rest.to_string(), serde_json::from_str(t).unwrap()))
                })
                .collect()
        };
        let (platform, connections) = (module("platform"), module("connections"));
        let eso_release = platform
            .values()
            .any(|d| d["resource"]["helm_release"]["external_secrets"].is_object());
        assert_eq!(
            eso_release,
            !connections.is_empty(),
            "{label}: the operator and its objects go together"
        );
        if connections.is_empty() {
            continue;
        }
        checked += 1;
        for (m, docs) in [("platform", &platform), ("connections", &connections)] {
            for d in docs.values() {
                for body in d["resource"]["kubernetes_manifest"]
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.values())
                {
                    let api = s(&body["manifest"]["apiVersion"]);
                    assert!(
                        m == "connections" && api == "external-secrets.io/v1",
                        "{label}: {m} plans a {api} kubernetes_manifest"
                    );
                }
            }
        }
        let stores: BTreeSet<&str> =
            connections["secret_stores.tf.json"]["resource"]["kubernetes_manifest"]
                .as_object()
                .unwrap()
                .values()
                .map(|b| s(&b["manifest"]["metadata"]["name"]))
                .collect();
        for es in connections["external_secrets.tf.json"]["resource"]["kubernetes_manifest"]
            .as_object()
            .unwrap()
            .values()
        {
            let store = s(&es["manifest"]["spec"]["secretStoreRef"]["name"]);
            assert!(
                stores.contains(store),
                "{label}: no ClusterSecretStore {store}"
            );
        }
        let provider = |docs: &BTreeMap<String, Value>| {
            docs["providers.tf.json"]["provider"]["kubernetes"].clone()
        };
        assert_eq!(
            provider(&platform),
            provider(&connections),
            "{label}: kubernetes provider"
        );
        assert_eq!(
            platform["providers.tf.json"]["variable"], connections["providers.tf.json"]["variable"],
            "{label}: kube_host"
        );
        let key = |docs: &BTreeMap<String, Value>| {
            s(&docs["versions.tf.json"]["terraform"]["backend"]["s3"]["key"]).to_string()
        };
        assert_ne!(
            key(&platform),
            key(&connections),
            "{label}: one state for two modules"
        );
    }
    assert!(
        checked >= 3,
        "only {checked} outputs with a connections module"
    );
}

/// On an existing cluster nothing installs controllers: every custom kind the manifests use
/// is listed as a CustomResourceDefinition to install first.
#[test]
fn custom_kinds_on_an_existing_cluster_are_listed() {
    for (label, _, provider, _, out) in outputs() {
        if provider != Provider::Kubernetes {
            continue;
        }
        let pre = &out.files["preconditions.json"];
        for d in manifests(&out) {
            let api = s(&d["apiVersion"]);
            let Some((group, _)) = api.rsplit_once('/') else {
                continue;
            };
            // Built-in groups, and kustomize's own file (not applied as an object).
            if infragen::check::kubernetes::BUILT_IN_GROUPS.contains(&group)
                || group == "kustomize.config.k8s.io"
            {
                continue;
            }
            assert!(
                pre.contains(&format!(".{group}\"")),
                "{label}: {} ({api}) needs a CRD that preconditions.json does not list",
                s(&d["kind"])
            );
        }
    }
}

/// An IRSA role trusts the namespace the service's pods run in (the blueprint's name when
/// `kubernetes.default_namespace` is absent), or its pods get no AWS access at all.
#[test]
fn irsa_roles_trust_the_pods_namespace() {
    let out = infragen::synthesize(
        "shop.yaml",
        NEW_USER.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap();
    let identity = &out.files["terraform/infra/identity.tf.json"];
    assert!(identity.contains("system:serviceaccount:shop:api"));
    assert!(!identity.contains("system:serviceaccount:default:"));
    assert!(out.files["k8s/shop/api.yaml"].contains("namespace: shop"));
}

/// Backups copied off the cluster need credentials: on EKS the job gets an IAM role for
/// exactly the destination; elsewhere synth refuses without `storage_secret`, and with it the
/// Secret is a precondition.
#[test]
fn off_cluster_backups_have_credentials() {
    let with_backup = NEW_USER.replace(
        "{ name: catalog, engine: mongodb, deployment: in_cluster }",
        "{ name: catalog, engine: mongodb, deployment: in_cluster, backup: { schedule: \"0 2 * * *\", destination: \"s3://shop-backups/catalog/\" } }",
    );
    let aws = infragen::synthesize(
        "shop.yaml",
        with_backup.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap();
    let job = &aws.files["k8s/shop/catalog.yaml"];
    assert!(job.contains("serviceAccountName: catalog-backup"));
    // Without `schedule` (or `window`) the CronJob still runs, daily at 02:00 UTC: its
    // upload needs the role all the same (it ran as the namespace's default account, with no
    // credentials, and failed every night).
    let unscheduled = infragen::synthesize(
        "shop.yaml",
        with_backup
            .replace("schedule: \"0 2 * * *\", ", "")
            .as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap();
    let job = &unscheduled.files["k8s/shop/catalog.yaml"];
    assert!(job.contains("schedule: \"0 2 * * *\""), "{job}");
    assert!(job.contains("serviceAccountName: catalog-backup"), "{job}");
    assert!(
        unscheduled.files["terraform/infra/identity.tf.json"]
            .contains(r#"arn:aws:s3:::shop-backups/catalog/*"#)
    );
    // The ServiceAccount is Terraform's, annotated with the role found by name.
    let accounts = &aws.files["terraform/platform/service_accounts.tf.json"];
    assert!(accounts.contains("\"name\": \"catalog-backup\""));
    assert!(accounts.contains("${data.aws_iam_role.irsa_catalog_backup.arn}"));
    let identity = &aws.files["terraform/infra/identity.tf.json"];
    assert!(identity.contains("system:serviceaccount:shop:catalog-backup"));
    assert!(identity.contains(r#"arn:aws:s3:::shop-backups/catalog/*"#));
    for p in [Provider::Digitalocean, Provider::Kubernetes] {
        let err = infragen::synthesize("shop.yaml", with_backup.as_bytes(), p, "production")
            .err()
            .unwrap_or_else(|| panic!("--provider {p}: a backup without credentials was accepted"))
            .to_string();
        assert!(err.contains("backup.storage_secret"), "{err}");
    }
    let with_secret = with_backup.replace(
        "destination: \"s3://shop-backups/catalog/\"",
        "destination: \"s3://shop-backups/catalog/\", storage_secret: catalog-backup-s3",
    );
    let k = infragen::synthesize(
        "shop.yaml",
        with_secret.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap();
    assert!(k.files["preconditions.json"].contains("\"name\": \"catalog-backup-s3\""));
}

/// A backup `destination` is what the job's `aws s3 sync` writes to and what its IAM role is
/// granted, verbatim. One of the blueprint's buckets named by its blueprint name
/// (`s3://uploads/…`) pointed both at the global S3 bucket `uploads`, another owner's (the
/// blueprint's is `shop-production-uploads-<account id>`): every nightly copy refused, or
/// handed to a stranger. Refused at the destination with the S3 name to write; written so,
/// the role is granted exactly that bucket's prefix and its key.
#[test]
fn backups_to_a_blueprint_bucket_use_its_s3_name() {
    let by_blueprint_name = NEW_USER.replace(
        "{ name: catalog, engine: mongodb, deployment: in_cluster }",
        "{ name: catalog, engine: mongodb, deployment: in_cluster, backup: { destination: \"s3://uploads/catalog/\" } }",
    );
    for (p, s3) in [
        (Provider::Aws, "shop-production-uploads-<account id>"),
        (Provider::Digitalocean, "shop-production-uploads"),
    ] {
        let err = infragen::synthesize("shop.yaml", by_blueprint_name.as_bytes(), p, "production")
            .err()
            .unwrap_or_else(|| panic!("--provider {p}: a backup to `s3://uploads/` was accepted"))
            .to_string();
        assert!(err.contains("`databases[1].backup.destination`"), "{err}");
        assert!(err.contains(&format!("`s3://{s3}/catalog/`")), "{err}");
    }
    // With the account named, the S3 name is exact; written so, it is what the role is granted.
    let pinned = by_blueprint_name.replace(
        "aws: { region: eu-west-1 }",
        "aws: { region: eu-west-1, account_id: \"123456789012\" }",
    );
    let err = infragen::synthesize("shop.yaml", pinned.as_bytes(), Provider::Aws, "production")
        .map(|_| ())
        .expect_err("a backup to `s3://uploads/` was accepted")
        .to_string();
    assert!(
        err.contains("`s3://shop-production-uploads-123456789012/catalog/`"),
        "{err}"
    );
    let fixed = pinned.replace(
        "s3://uploads/catalog/",
        "s3://shop-production-uploads-123456789012/catalog/",
    );
    let out = infragen::synthesize("shop.yaml", fixed.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        out.files["terraform/infra/buckets.tf.json"]
            .contains("\"shop-production-uploads-123456789012\"")
    );
    let identity: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/identity.tf.json"]).unwrap();
    let policy: serde_json::Value = serde_json::from_str(
        identity["resource"]["aws_iam_role_policy"]["irsa_catalog_backup"]["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let resources: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Resource"].as_str())
        .collect();
    assert!(
        resources.contains(&"arn:aws:s3:::shop-production-uploads-123456789012/catalog/*"),
        "{resources:?}"
    );
    assert!(
        resources.contains(&"${aws_kms_key.buckets.arn}"),
        "{resources:?}"
    );
}

/// Managed databases refuse plain connections (RDS's parameter group sets `rds.force_ssl`,
/// DigitalOcean requires TLS), and node-postgres, for one, connects without TLS unless told:
/// every PostgreSQL URL that names a managed endpoint (a Terraform reference) asks for it.
#[test]
fn managed_postgres_urls_ask_for_tls() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        for (file, text) in &out.files {
            for (at, _) in text.match_indices("postgresql://") {
                let rest = &text[at..];
                let end = rest.find(['"', '\\', '\n', ' ']).unwrap_or(rest.len());
                let url = &rest[..end];
                if !url.contains("${") {
                    continue; // in the cluster: plain, like the server
                }
                // DigitalOcean's own CA signs its certificate, RDS's its regional CA: the URL
                // names the file the pod or task mounts it at (tests/it/tls_trust.rs).
                let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
                let ok = match provider {
                    Provider::Digitalocean | Provider::Aws => query
                        .strip_prefix("sslmode=require&sslrootcert=/etc/infragen/ca/")
                        .is_some_and(|f| f.ends_with(".crt")),
                    _ => query == "sslmode=require",
                };
                assert!(ok, "{stem} {provider} {env} {file}: {url}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "{checked}");
}

/// Keys each Secret and ConfigMap (`namespace/name`) the output makes or lists holds; `None`
/// when its keys cannot be read off the output (all keys then count as present).
type Keys = BTreeMap<String, Option<BTreeSet<String>>>;

/// Namespace of a Terraform-made object: a literal, or
/// `${kubernetes_namespace_v1.<n>.metadata[0].name}` resolved through the module's namespaces.
fn tf_namespace(ns: &str, namespaces: &BTreeMap<String, String>) -> String {
    ns.strip_prefix("${kubernetes_namespace_v1.")
        .and_then(|r| r.split('.').next())
        .and_then(|n| namespaces.get(n).cloned())
        .unwrap_or_else(|| ns.to_string())
}

/// Add `keys` to what `at` holds (`None`, any key, wins).
fn merge(made: &mut Keys, at: String, keys: Option<BTreeSet<String>>) {
    match (made.get_mut(&at), keys) {
        (Some(Some(have)), Some(keys)) => have.extend(keys),
        (Some(have), None) => *have = None,
        (Some(None), Some(_)) => {}
        (None, keys) => {
            made.insert(at, keys);
        }
    }
}

/// The keys of every Secret and ConfigMap the output makes (manifests, Terraform
/// `kubernetes_secret_v1` / `kubernetes_config_map_v1`, ExternalSecret targets) or lists in
/// `preconditions.json`.
fn keys_made(out: &infragen::Output) -> (Keys, Keys) {
    let (mut secrets, mut config_maps) = (Keys::new(), Keys::new());
    let keys_of = |data: &Value| -> Option<BTreeSet<String>> {
        data.as_object().map(|m| m.keys().cloned().collect())
    };
    let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
    let mut objects: Vec<(&str, Value)> = Vec::new();
    for (file, text) in &out.files {
        if !(file.starts_with("terraform/") && file.ends_with(".tf.json")) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        let res = &doc["resource"];
        if let Some(m) = res["kubernetes_namespace_v1"].as_object() {
            for (n, body) in m {
                namespaces.insert(n.clone(), s(&body["metadata"]["name"]).to_string());
            }
        }
        for (ty, kind) in [
            ("kubernetes_secret_v1", "Secret"),
            ("kubernetes_config_map_v1", "ConfigMap"),
        ] {
            for body in res[ty].as_object().into_iter().flat_map(|m| m.values()) {
                objects.push((kind, body.clone()));
            }
        }
        for body in res["kubernetes_manifest"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            let o = &body["manifest"];
            if s(&o["kind"]) != "ExternalSecret" {
                continue;
            }
            let at = format!(
                "{}/{}",
                s(&o["metadata"]["namespace"]),
                s(&o["spec"]["target"]["name"])
            );
            // `dataFrom` copies keys the output cannot name.
            let keys = o["spec"]["dataFrom"].is_null().then(|| {
                o["spec"]["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| s(&d["secretKey"]).to_string())
                    .collect()
            });
            // Several ExternalSecrets may fill one target (`creationPolicy: Merge`).
            merge(&mut secrets, at, keys);
        }
    }
    for (kind, body) in objects {
        let ns = tf_namespace(s(&body["metadata"]["namespace"]), &namespaces);
        let at = format!("{ns}/{}", s(&body["metadata"]["name"]));
        let mut keys = keys_of(&body["data"]).unwrap_or_default();
        keys.extend(keys_of(&body["binary_data"]).unwrap_or_default());
        if kind == "Secret" {
            merge(&mut secrets, at, Some(keys));
        } else {
            merge(&mut config_maps, at, Some(keys));
        }
    }
    for d in manifests(out) {
        let at = format!(
            "{}/{}",
            s(&d["metadata"]["namespace"]),
            s(&d["metadata"]["name"])
        );
        match s(&d["kind"]) {
            "ConfigMap" => {
                merge(
                    &mut config_maps,
                    at,
                    keys_of(&d["data"]).or(Some(BTreeSet::new())),
                );
            }
            "Secret" => {
                let mut keys = keys_of(&d["data"]).unwrap_or_default();
                keys.extend(keys_of(&d["stringData"]).unwrap_or_default());
                merge(&mut secrets, at, Some(keys));
            }
            _ => {}
        }
    }
    let pre: Vec<Value> = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
    for p in pre.iter().filter(|p| s(&p["kind"]) == "Secret") {
        let at = format!("{}/{}", s(&p["namespace"]), s(&p["name"]));
        let keys: BTreeSet<String> = p["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| s(k).to_string())
            .collect();
        // A listed Secret without keys (a docker config, a backup's credentials) is
        // whatever its owner puts in it.
        merge(&mut secrets, at, (!keys.is_empty()).then_some(keys));
    }
    (secrets, config_maps)
}

/// A pod reads a ConfigMap or Secret key that is not there: Kubernetes refuses to start its
/// container (`CreateContainerConfigError`: "couldn't find key … in ConfigMap"), unless the
/// reference is `optional`. So every key a pod reads by `configMapKeyRef` / `secretKeyRef`
/// is a key the object the output makes (or lists) holds — not just an object of that name.
#[test]
fn every_key_a_pod_reads_is_in_its_object() {
    let mut checked = 0;
    for (label, _, _, _, out) in outputs() {
        let (secrets, config_maps) = keys_made(&out);
        for d in &manifests(&out) {
            let Some(pod) = pod_spec(d) else { continue };
            let ns = s(&d["metadata"]["namespace"]);
            let containers = pod["containers"]
                .as_array()
                .into_iter()
                .chain(pod["initContainers"].as_array())
                .flatten();
            for c in containers {
                for e in c["env"].as_array().into_iter().flatten() {
                    for (reference, made) in [
                        (&e["valueFrom"]["secretKeyRef"], &secrets),
                        (&e["valueFrom"]["configMapKeyRef"], &config_maps),
                    ] {
                        if reference.is_null() || reference["optional"] == true {
                            continue;
                        }
                        let at = format!("{ns}/{}", s(&reference["name"]));
                        let key = s(&reference["key"]);
                        // Objects nobody makes are `every_secret_a_pod_reads_is_made_or_listed`'s.
                        let Some(keys) = made.get(&at) else { continue };
                        checked += 1;
                        if let Some(keys) = keys {
                            assert!(
                                keys.contains(key),
                                "{label}: {} {} (container {}) reads key {key} of {at} for {}, which holds only {keys:?}",
                                s(&d["kind"]),
                                s(&d["metadata"]["name"]),
                                s(&c["name"]),
                                s(&e["name"]),
                            );
                        }
                    }
                }
            }
            // A Secret volume's `items` are keys too (a database's CA file): a missing one
            // keeps the pod in `ContainerCreating` ("couldn't find key … in Secret").
            for v in pod["volumes"].as_array().into_iter().flatten() {
                let at = format!("{ns}/{}", s(&v["secret"]["secretName"]));
                let Some(Some(keys)) = secrets.get(&at) else {
                    continue;
                };
                for i in v["secret"]["items"].as_array().into_iter().flatten() {
                    checked += 1;
                    assert!(
                        keys.contains(s(&i["key"])),
                        "{label}: {} {} mounts key {} of {at}, which holds only {keys:?}",
                        s(&d["kind"]),
                        s(&d["metadata"]["name"]),
                        s(&i["key"]),
                    );
                }
            }
        }
    }
    assert!(checked > 200, "only {checked} keys checked");
}

/// The user a MongoDB client gets is defined in the `admin` database (the official image's
/// root user in the cluster, DigitalOcean's `doadmin` and database users), and a driver
/// authenticates against the database in the URL's path unless `authSource` says otherwise:
/// every MongoDB URL the output hands a workload says `authSource=admin`, after a `/` (the
/// connection string requires one before its options).
///
/// A DigitalOcean managed MongoDB is a replica set reached through its DNS seed list, as
/// DigitalOcean's own connection strings do (`mongodb+srv://…@<host>/…`): its URL is the SRV
/// form, which takes no port.
#[test]
fn mongodb_urls_authenticate_where_the_user_lives() {
    let mut checked = 0;
    let mut srv = 0;
    for (label, _, _, _, out) in outputs() {
        for (file, text) in &out.files {
            for (at, _) in text.match_indices("mongodb+srv://") {
                let rest = &text[at..];
                let end = rest.find(['"', '\\', '\n', ' ']).unwrap_or(rest.len());
                let url = &rest[..end];
                let host = url
                    .trim_start_matches("mongodb+srv://")
                    .split('/')
                    .next()
                    .unwrap();
                assert!(
                    !host.ends_with(".port}")
                        && !host
                            .rsplit_once(':')
                            .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit())),
                    "{label} {file}: {url}: the SRV form takes no port"
                );
                assert!(
                    url.contains("authSource=admin"),
                    "{label} {file}: {url} authenticates against its path's database"
                );
                srv += 1;
            }
            for (at, _) in text.match_indices("mongodb://") {
                let rest = &text[at..];
                let end = rest.find(['"', '\\', '\n', ' ']).unwrap_or(rest.len());
                let url = &rest[..end];
                // Client URLs only, not the replica set's own init script (every member).
                if url.contains(',') {
                    continue;
                }
                let (base, query) = url.split_once('?').unwrap_or((url, ""));
                assert!(
                    base.ends_with("/admin") || query.split('&').any(|o| o == "authSource=admin"),
                    "{label} {file}: {url} authenticates against its path's database, where no user is defined"
                );
                let hosts = url.trim_start_matches("mongodb://");
                assert!(
                    hosts.split('?').next().unwrap().contains('/'),
                    "{label} {file}: {url}: options without the `/` the connection string requires"
                );
                assert!(
                    !url.contains("digitalocean_database_cluster"),
                    "{label} {file}: {url}: a DigitalOcean MongoDB is reached through its seed list (mongodb+srv://)"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} MongoDB URLs checked");
    assert!(srv >= 2, "only {srv} DigitalOcean MongoDB URLs checked");
}

/// `synth` names the blueprint parts a provider leaves out ("… does not lower these
/// blueprint parts yet, so they are absent from the output: databases (2)"). A part named
/// there is absent indeed: none of its databases, caches or queues appears in any file —
/// a blueprint with managed and in-cluster databases side by side was told both were
/// missing while the output held both.
#[test]
fn parts_said_to_be_absent_are_absent() {
    let mut notes = 0;
    for (label, text, provider, env, out) in outputs() {
        let loaded = infragen::blueprint::load("x.yaml", text.as_bytes(), provider, &env).unwrap();
        let bp = &loaded.blueprint;
        let Some(note) = out
            .notes
            .iter()
            .find(|n| n.text.contains("so they are absent from the output"))
        else {
            continue;
        };
        notes += 1;
        let parts = note.text.rsplit(": ").next().unwrap();
        for (part, names) in [
            (
                "databases",
                bp.databases.iter().map(|d| &d.name).collect::<Vec<_>>(),
            ),
            ("caches", bp.caches.iter().map(|c| &c.name).collect()),
            ("queues", bp.queues.iter().map(|q| &q.name).collect()),
        ] {
            if !parts.split(", ").any(|p| p.split(' ').next() == Some(part)) {
                continue;
            }
            for name in names {
                let ident = name.replace('-', "_");
                let found = out.files.iter().find(|(f, t)| {
                    f.ends_with(&format!("/{name}.yaml")) || t.contains(&format!("\"{ident}\": {{"))
                });
                assert!(
                    found.is_none(),
                    "{label}: the note says {part} are absent, but {} holds `{name}`",
                    found.unwrap().0
                );
            }
        }
    }
    assert!(notes > 5, "only {notes} notes of absent parts read");
}

/// DigitalOcean has no secrets manager, so `synth` names the blueprint secrets to create by
/// hand. None of them is one the output makes itself (an in-cluster cache's generated
/// `auth_token_secret`): created by hand as well, the `platform` module's create fails
/// ("already exists").
#[test]
fn secrets_to_create_by_hand_are_not_made_by_the_output() {
    let mut checked = 0;
    for (label, _, _, _, out) in outputs() {
        let Some(note) = out
            .notes
            .iter()
            .find(|n| n.text.contains("DigitalOcean has no secrets manager"))
        else {
            continue;
        };
        let list = note.text["secrets (".len()..].split_once(')').unwrap().0;
        let made = made_by_terraform(&out).secrets;
        for name in list.split(", ") {
            checked += 1;
            let clash = made.iter().find(|at| at.ends_with(&format!("/{name}")));
            assert!(
                clash.is_none(),
                "{label}: the note asks for Secret `{name}` to be created by hand, but the platform module creates {}",
                clash.unwrap()
            );
        }
    }
    assert!(checked > 3, "only {checked} secrets checked");
}

/// A variable read from a blueprint secret reads one of the keys the secret declares: a
/// Kubernetes Secret by that key, an ECS task by `<arn>:<key>::` (the bare ARN would hand
/// the task the whole JSON document), an ExternalSecret by that `property`.
#[test]
fn secret_variables_read_a_declared_key() {
    let mut checked = 0;
    for (label, text, provider, env, out) in outputs() {
        let loaded = infragen::blueprint::load("x.yaml", text.as_bytes(), provider, &env).unwrap();
        let bp = &loaded.blueprint;
        let declared = |name: &str| {
            bp.secrets
                .iter()
                .find(|s| s.name == name || s.path.as_deref() == Some(name))
                .filter(|s| !s.keys.is_empty())
        };
        for d in &manifests(&out) {
            let Some(pod) = pod_spec(d) else { continue };
            for c in pod["containers"].as_array().into_iter().flatten() {
                for e in c["env"].as_array().into_iter().flatten() {
                    let r = &e["valueFrom"]["secretKeyRef"];
                    let Some(sec) = r["name"].as_str().and_then(declared) else {
                        continue;
                    };
                    checked += 1;
                    assert!(
                        sec.keys.iter().any(|k| k == s(&r["key"])),
                        "{label}: {} reads key {} of secret `{}`, which declares {:?}",
                        s(&e["name"]),
                        s(&r["key"]),
                        sec.name,
                        sec.keys
                    );
                }
            }
        }
        for (file, text) in &out.files {
            if !file.ends_with(".tf.json") {
                continue;
            }
            let doc: Value = serde_json::from_str(text).unwrap();
            for td in doc["resource"]["aws_ecs_task_definition"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
                for c in defs.as_array().unwrap() {
                    for e in c["secrets"].as_array().into_iter().flatten() {
                        let from = s(&e["valueFrom"]);
                        let Some(sec) = bp.secrets.iter().find(|x| {
                            from.starts_with(&format!(
                                "${{aws_secretsmanager_secret.{}.arn}}",
                                x.name.replace('-', "_")
                            ))
                        }) else {
                            continue;
                        };
                        if sec.keys.len() < 2 {
                            continue;
                        }
                        checked += 1;
                        assert!(
                            sec.keys.iter().any(|k| from.ends_with(&format!(":{k}::"))),
                            "{label}: {} reads {from}, not one key of `{}`",
                            s(&e["name"]),
                            sec.name
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 10, "only {checked} secret variables checked");
}
