//! Buckets on DigitalOcean: a workload that `uses` a bucket reaches it. Spaces speaks the S3
//! API at its own endpoint and has no pod identity, so each such workload must get the
//! endpoint and a Spaces key pair granted exactly the buckets it uses — read off the output
//! as the cluster would: the variables a pod reads, the `<workload>-connections` objects the
//! platform module writes, the key's grants and the buckets `infra` creates. Before this,
//! `buckets` were "not lowered" on DigitalOcean and their users started without them.
//! Where a provider cannot give a used bucket or table at all (`--provider kubernetes`,
//! tables on DigitalOcean), `synth` warns per workload (`uses-absent`).

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, root, synth};

const FIXTURE: &str = "tests/fixtures/new-user/media-doks.yaml";

fn tf(out: &infragen::Output, file: &str) -> Value {
    serde_json::from_str(
        out.files
            .get(file)
            .unwrap_or_else(|| panic!("{file} missing")),
    )
    .unwrap()
}

/// The Terraform `${a.b.c}` reference in a value, if it is exactly one.
fn reference(v: &Value) -> &str {
    v.as_str()
        .and_then(|s| s.strip_prefix("${"))
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or_default()
}

#[test]
fn workloads_using_spaces_buckets_get_the_endpoint_and_their_own_key() {
    let path = root().join(FIXTURE);
    for env in ["staging", "production"] {
        let out = synth(&path, Provider::Digitalocean, env);
        let loaded = infragen::blueprint::load(
            "x.yaml",
            std::fs::read_to_string(&path).unwrap().as_bytes(),
            Provider::Digitalocean,
            env,
        )
        .unwrap();
        let bp = &loaded.blueprint;
        // The buckets infra creates, by blueprint name → Spaces name.
        let infra = tf(&out, "terraform/infra/buckets.tf.json");
        let created: BTreeMap<String, String> = infra["resource"]["digitalocean_spaces_bucket"]
            .as_object()
            .expect("Spaces buckets in infra")
            .iter()
            .map(|(k, b)| {
                assert_eq!(b["acl"], "private", "{k}: a private bucket");
                (k.clone(), b["name"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(
            created.len(),
            bp.buckets.len(),
            "{env}: every bucket is created"
        );
        let platform = tf(&out, "terraform/platform/connections.tf.json");
        let res = &platform["resource"];
        let docs = manifests(&out);
        let mut checked = 0;
        for w in bp.workloads() {
            let used: Vec<_> = w
                .uses
                .iter()
                .filter(|u| bp.buckets.iter().any(|b| b.name == u.name))
                .collect();
            if used.is_empty() {
                continue;
            }
            // The pod's variables and where it reads them.
            let pod = docs
                .iter()
                .filter_map(|d| {
                    let t = if d["kind"] == "CronJob" {
                        &d["spec"]["jobTemplate"]["spec"]["template"]
                    } else if d["kind"] == "Deployment" {
                        &d["spec"]["template"]
                    } else {
                        return None;
                    };
                    (t["metadata"]["labels"]["app"] == w.name.as_str()).then_some(t)
                })
                .next()
                .unwrap_or_else(|| panic!("{env}: no pod for {}", w.name));
            let ns = pod["metadata"]["namespace"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    docs.iter()
                        .find(|d| d["metadata"]["name"] == w.name.as_str())
                        .and_then(|d| d["metadata"]["namespace"].as_str())
                        .unwrap()
                        .to_string()
                });
            let env_of: BTreeMap<String, (String, String, String)> =
                pod["spec"]["containers"][0]["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| {
                        let from = &e["valueFrom"];
                        let (kind, r) = if from["secretKeyRef"].is_object() {
                            ("Secret", &from["secretKeyRef"])
                        } else if from["configMapKeyRef"].is_object() {
                            ("ConfigMap", &from["configMapKeyRef"])
                        } else {
                            return None;
                        };
                        Some((
                            e["name"].as_str()?.to_string(),
                            (
                                kind.to_string(),
                                r["name"].as_str()?.to_string(),
                                r["key"].as_str()?.to_string(),
                            ),
                        ))
                    })
                    .collect();
            // The objects the platform module writes for the workload, in its namespace.
            let object = |kind: &str| -> &Value {
                let t = if kind == "Secret" {
                    "kubernetes_secret_v1"
                } else {
                    "kubernetes_config_map_v1"
                };
                res[t]
                    .as_object()
                    .unwrap()
                    .values()
                    .find(|o| {
                        o["metadata"]["name"] == format!("{}-connections", w.name).as_str()
                            && o["metadata"]["namespace"]
                                .as_str()
                                .is_some_and(|n| n.contains(&ns.replace('-', "_")) || n == ns)
                    })
                    .unwrap_or_else(|| panic!("{env}: no {kind} {ns}/{}-connections", w.name))
            };
            let value = |var: &str| -> &Value {
                let (kind, name, key) = env_of
                    .get(var)
                    .unwrap_or_else(|| panic!("{env}: {} lacks {var}", w.name));
                assert_eq!(name, &format!("{}-connections", w.name));
                &object(kind)["data"][key]
            };
            // One key per workload, granted readwrite on exactly the buckets it uses.
            let mut keys = BTreeSet::new();
            for u in &used {
                let p = u.prefix();
                let bucket = created[&u.name].clone();
                assert_eq!(
                    value(&format!("{p}_BUCKET")),
                    bucket.as_str(),
                    "{env} {}",
                    w.name
                );
                assert_eq!(
                    value(&format!("{p}_URL")),
                    format!("s3://{bucket}").as_str()
                );
                assert_eq!(
                    value(&format!("{p}_ENDPOINT")),
                    "https://ams3.digitaloceanspaces.com"
                );
                assert_eq!(env_of[&format!("{p}_ACCESS_KEY_ID")].0, "Secret");
                assert_eq!(env_of[&format!("{p}_SECRET_ACCESS_KEY")].0, "Secret");
                let id = reference(value(&format!("{p}_ACCESS_KEY_ID")));
                let secret = reference(value(&format!("{p}_SECRET_ACCESS_KEY")));
                let key = id.strip_suffix(".access_key").expect("a key's access_key");
                assert_eq!(secret, format!("{key}.secret_key"), "one key pair");
                keys.insert(key.to_string());
            }
            assert_eq!(
                keys.len(),
                1,
                "{env} {}: one Spaces key, got {keys:?}",
                w.name
            );
            let key = keys.into_iter().next().unwrap();
            let (ty, name) = key.split_once('.').unwrap();
            assert_eq!(ty, "digitalocean_spaces_key");
            let grants: BTreeSet<(String, String)> = res[ty][name]["grant"]
                .as_array()
                .unwrap_or_else(|| panic!("{env}: {key} is not declared"))
                .iter()
                .map(|g| {
                    (
                        g["bucket"].as_str().unwrap().to_string(),
                        g["permission"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let wanted: BTreeSet<(String, String)> = used
                .iter()
                .map(|u| (created[&u.name].clone(), "readwrite".to_string()))
                .collect();
            assert_eq!(grants, wanted, "{env} {}: exactly its buckets", w.name);
            checked += 1;
        }
        assert_eq!(
            checked, 3,
            "{env}: api, transcoder and the cleanup job use buckets"
        );
        // The key the provider creates them with is asked for.
        assert!(
            out.notes
                .iter()
                .any(|n| n.to_string().contains("SPACES_ACCESS_KEY_ID")),
            "{env}: {:?}",
            out.notes
        );
        // Buckets are no longer reported absent.
        assert!(
            !out.notes
                .iter()
                .any(|n| n.to_string().contains("absent from the output: buckets")),
            "{env}: {:?}",
            out.notes
        );
    }
}

#[test]
fn a_used_bucket_or_table_the_provider_cannot_create_is_warned_per_workload() {
    let path = root().join(FIXTURE);
    let out = synth(&path, Provider::Kubernetes, "production");
    let warned: Vec<String> = out
        .notes
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n.contains("uses-absent"))
        .collect();
    for (w, b, prefix) in [
        ("api", "uploads", "UPLOADS"),
        ("transcoder", "uploads", "SOURCE"),
        ("cleanup", "uploads", "UPLOADS"),
    ] {
        assert!(
            warned
                .iter()
                .any(|n| n.contains(&format!("`{w}` uses bucket `{b}`")) && n.contains(prefix)),
            "no warning for {w} → {b}: {warned:?}"
        );
    }
    // DigitalOcean has no tables: a workload using one is warned too.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "buckets:\n",
            "tables:\n  - { name: orders, partition_key: { name: id, type: S } }\nbuckets:\n",
        )
        .replace(
            "uses: [catalog, uploads, renditions, thumbs]",
            "uses: [catalog, uploads, renditions, thumbs, orders]",
        );
    let out = infragen::synthesize(
        "m.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.to_string().contains("`api` uses table `orders`")),
        "{:?}",
        out.notes
    );
}

/// An in-cluster database's backups copied to a Spaces bucket of the blueprint: the AWS CLI
/// that syncs them must be pointed at the Spaces endpoint (`AWS_ENDPOINT_URL`), else it
/// sends the Spaces key to AWS S3 and every sync fails. A destination outside the
/// blueprint's buckets keeps the CLI's default, with a note saying how to point it.
#[test]
fn backups_to_a_spaces_bucket_go_to_the_spaces_endpoint() {
    let text = r#"
name: kiosk
providers:
  digitalocean: { region: nyc1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
buckets:
  - { name: backups }
secrets:
  - { name: spaces-backup, keys: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY] }
databases:
  - name: orders
    engine: postgres
    deployment: in_cluster
    backup: { retention_days: 7, destination: "s3://kiosk-{env}-backups/orders", storage_secret: spaces-backup }
  - name: legacy
    engine: mysql
    deployment: in_cluster
    backup: { retention_days: 7, destination: "s3://elsewhere/legacy", storage_secret: spaces-backup }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080, uses: [orders, legacy] }
"#;
    let out = infragen::synthesize(
        "k.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let upload_env = |db: &str| -> BTreeMap<String, String> {
        let job = docs
            .iter()
            .find(|d| {
                d["kind"] == "CronJob" && d["metadata"]["name"] == format!("{db}-backup").as_str()
            })
            .unwrap_or_else(|| panic!("no {db}-backup CronJob"));
        let spec = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let upload = spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "upload")
            .expect("the upload container");
        assert_eq!(
            upload["command"][4],
            Value::from(if db == "orders" {
                "s3://kiosk-production-backups/orders"
            } else {
                "s3://elsewhere/legacy"
            })
        );
        upload["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let orders = upload_env("orders");
    assert_eq!(
        orders.get("AWS_ENDPOINT_URL").map(String::as_str),
        Some("https://nyc3.digitaloceanspaces.com"),
        "{orders:?}"
    );
    assert_eq!(orders.get("AWS_REGION").map(String::as_str), Some("nyc3"));
    let legacy = upload_env("legacy");
    assert!(!legacy.contains_key("AWS_ENDPOINT_URL"), "{legacy:?}");
    assert!(
        out.notes.iter().any(|n| {
            let n = n.to_string();
            n.contains("s3://elsewhere/legacy") && n.contains("AWS_ENDPOINT_URL")
        }),
        "{:?}",
        out.notes
    );
}

/// Without a `storage_secret`, a backup copied to one of the blueprint's Spaces buckets gets
/// a Spaces key of its own, as EKS gives the job an IAM role: granted `readwrite` on exactly
/// that bucket, written by the platform module into the Secret the upload container reads —
/// which is therefore not a precondition. Before, synth refused it ("no cloud identity").
#[test]
fn a_backup_to_a_spaces_bucket_gets_its_own_key() {
    let text = r#"
name: kiosk
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
buckets:
  - { name: backups }
databases:
  - name: orders
    engine: postgres
    deployment: in_cluster
    backup: { retention_days: 7, destination: "s3://kiosk-{env}-backups/orders" }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080, uses: [orders] }
"#;
    let out = infragen::synthesize(
        "k.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let job = docs
        .iter()
        .find(|d| d["kind"] == "CronJob" && d["metadata"]["name"] == "orders-backup")
        .expect("orders-backup");
    let ns = job["metadata"]["namespace"].as_str().unwrap();
    let upload = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "upload")
        .unwrap();
    let secret = upload["envFrom"][0]["secretRef"]["name"]
        .as_str()
        .expect("envFrom");
    let platform = tf(&out, "terraform/platform/connections.tf.json");
    let res = &platform["resource"];
    let written = res["kubernetes_secret_v1"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| s["metadata"]["name"] == secret)
        .unwrap_or_else(|| panic!("nothing writes Secret {secret}"));
    assert!(
        written["metadata"]["namespace"]
            .as_str()
            .unwrap()
            .contains(&ns.replace('-', "_")),
        "{written:#}"
    );
    let id = reference(&written["data"]["AWS_ACCESS_KEY_ID"]);
    let key = id
        .strip_suffix(".access_key")
        .expect("a Spaces key's access_key");
    assert_eq!(
        reference(&written["data"]["AWS_SECRET_ACCESS_KEY"]),
        format!("{key}.secret_key")
    );
    let (ty, name) = key.split_once('.').unwrap();
    assert_eq!(ty, "digitalocean_spaces_key");
    assert_eq!(
        res[ty][name]["grant"],
        serde_json::json!([{"bucket": "kiosk-production-backups", "permission": "readwrite"}])
    );
    assert!(
        !out.files["preconditions.json"].contains(secret),
        "{}",
        out.files["preconditions.json"]
    );
}
