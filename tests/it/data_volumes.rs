//! In-cluster data services on their volumes: every StatefulSet of every shipped blueprint ×
//! provider × environment must start on a freshly formatted volume and start again after
//! its pod is replaced. Both are properties of the volume, not of the schema:
//!
//! - A new ext4 block volume (DigitalOcean's and EBS's CSI drivers format them so) holds
//!   `lost+found` at its root. `mysqld --initialize` aborts on a data directory with any
//!   entry in it, and `initdb` on a non-empty one, so their data directories must be
//!   subdirectories of the mount, which the images' entrypoints create.
//! - The kubelet applies `fsGroup` on every mount unless `fsGroupChangePolicy` is
//!   `OnRootMismatch`, adding group read/write (0660) to every file. RabbitMQ keeps its
//!   Erlang cookie (mode 0400) on the data volume and Erlang refuses a cookie with any group
//!   or other bit, so the broker must not see its volume re-permissioned.
//! - Initializing a new volume, or replaying the journal after a crash, happens before the
//!   server's port opens: the kubelet must give it minutes, not the liveness probe's 90 s.

use serde_json::Value;
use yaml_rust2::YamlLoader;

use crate::support::{matrix, synth};

/// Every StatefulSet of every output, as (label, document).
fn statefulsets() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (stem, path, provider, env) in matrix() {
        let o = synth(&path, provider, &env);
        for (file, text) in &o.files {
            if !(file.starts_with("k8s/") && file.ends_with(".yaml")) {
                continue;
            }
            for d in YamlLoader::load_from_str(text).unwrap() {
                let v = infragen::check::kubernetes::to_json(&d).unwrap();
                if v["kind"] == "StatefulSet" {
                    let label = format!(
                        "{stem} --provider {provider} --env {env}: {}",
                        v["metadata"]["name"].as_str().unwrap()
                    );
                    out.push((label, v));
                }
            }
        }
    }
    out
}

/// The server container (named after the StatefulSet).
fn server(sts: &Value) -> &Value {
    let name = &sts["metadata"]["name"];
    sts["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| &c["name"] == name)
        .expect("a container named after the StatefulSet")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Where the claim template's volume is mounted in the server container.
fn claim_mount(sts: &Value) -> String {
    let claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].clone();
    server(sts)["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == claim)
        .and_then(|m| m["mountPath"].as_str())
        .expect("the claim is mounted")
        .trim_end_matches('/')
        .to_string()
}

/// The directory the engine initializes, as the image's entrypoint derives it: MySQL from
/// the last `--datadir` argument (else the image's `/var/lib/mysql`), PostgreSQL from
/// `PGDATA` (else `/var/lib/postgresql/data`).
fn initialized_dir(c: &Value) -> Option<String> {
    let image = c["image"].as_str().unwrap();
    if image.starts_with("mysql:") {
        let args: Vec<&str> = strings(&c["command"])
            .into_iter()
            .chain(strings(&c["args"]))
            .collect();
        let dir = args
            .iter()
            .rev()
            .find_map(|a| a.strip_prefix("--datadir="))
            .unwrap_or("/var/lib/mysql");
        return Some(dir.trim_end_matches('/').to_string());
    }
    if image.starts_with("postgres:") {
        let pgdata = c["env"].as_array().and_then(|env| {
            env.iter()
                .find(|e| e["name"] == "PGDATA")
                .and_then(|e| e["value"].as_str())
        });
        return Some(
            pgdata
                .unwrap_or("/var/lib/postgresql/data")
                .trim_end_matches('/')
                .to_string(),
        );
    }
    None
}

#[test]
fn databases_initialize_below_the_fresh_volume_root() {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (label, sts) in statefulsets() {
        let Some(dir) = initialized_dir(server(&sts)) else {
            continue;
        };
        let mount = claim_mount(&sts);
        // The volume's root holds `lost+found`; a subdirectory is created empty.
        let starts_empty = dir.starts_with(&format!("{mount}/"));
        if !starts_empty {
            problems.push(format!(
                "{label}: initializes `{dir}`, the root of its volume (mounted at `{mount}`), which holds lost+found on a new volume"
            ));
        }
        checked.push(label);
    }
    assert!(
        checked
            .iter()
            .any(|l| l.starts_with("ecommerce-doks --provider digitalocean")),
        "the DOKS blueprint's MySQL is among the checked StatefulSets: {checked:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The mode a file created with `mode` has after the pod is replaced and the volume mounted
/// again, as the kubelet's `SetVolumeOwnership` leaves it.
fn after_remount(pod_security: &Value, mode: u32) -> u32 {
    let fs_group = pod_security.get("fsGroup").is_some();
    let skip = pod_security["fsGroupChangePolicy"] == "OnRootMismatch";
    if fs_group && !skip {
        mode | 0o660
    } else {
        mode
    }
}

#[test]
fn rabbitmq_keeps_its_erlang_cookie_private_across_pod_replacements() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (label, sts) in statefulsets() {
        let c = server(&sts);
        if !c["image"].as_str().unwrap().starts_with("rabbitmq:") {
            continue;
        }
        // The cookie lives in the image's HOME, /var/lib/rabbitmq — the data volume.
        assert_eq!(claim_mount(&sts), "/var/lib/rabbitmq", "{label}");
        let mode = after_remount(&sts["spec"]["template"]["spec"]["securityContext"], 0o400);
        // Erlang's auth: a cookie with any group or other permission bit is refused.
        if mode & 0o077 != 0 {
            problems.push(format!(
                "{label}: .erlang.cookie becomes {mode:o} when the pod is replaced; Erlang refuses it"
            ));
        }
        checked += 1;
    }
    assert!(checked > 0, "no in-cluster RabbitMQ in the matrix");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn data_volumes_are_not_re_permissioned_on_every_mount() {
    // What holds for the cookie holds for every engine's files: after the first mount the
    // kubelet leaves the volume's modes alone.
    for (label, sts) in statefulsets() {
        let sc = &sts["spec"]["template"]["spec"]["securityContext"];
        assert_eq!(after_remount(sc, 0o600), 0o600, "{label}");
    }
}

/// Seconds a probe tolerates failing before the kubelet acts (the defaults of the fields
/// Kubernetes fills in: period 10, threshold 3, no initial delay).
fn patience(probe: &Value) -> u64 {
    let field = |k: &str, default: u64| probe[k].as_u64().unwrap_or(default);
    field("initialDelaySeconds", 0) + field("periodSeconds", 10) * field("failureThreshold", 3)
}

#[test]
fn data_servers_get_time_to_initialize_and_recover() {
    // A first start initializes the data directory behind a socket-only temporary server
    // (mysqld --initialize, initdb), and a restart after a crash replays the journal before
    // the port opens: the kubelet must not restart the server for five minutes, or it
    // kills it mid-way over and over (and leaves MySQL half-initialized).
    for (label, sts) in statefulsets() {
        let c = server(&sts);
        let first_kill = match c.get("startupProbe") {
            Some(startup) => patience(startup),
            None => patience(&c["livenessProbe"]),
        };
        assert!(
            first_kill >= 300,
            "{label}: the server is restarted after {first_kill} s of starting"
        );
    }
}

/// A set of several members keeps each member in the zone of its volume for good, so where
/// they first land decides whether it survives a zone outage: every multi-member StatefulSet
/// asks the scheduler to spread its own pods over the zones (skew 1), as a preference — a
/// zone without a free node must never leave a member Pending.
#[test]
fn multi_member_sets_spread_over_the_zones() {
    let mut seen = 0;
    for (label, sts) in statefulsets() {
        if sts["spec"]["replicas"].as_u64().unwrap() < 2 {
            continue;
        }
        seen += 1;
        let spread = &sts["spec"]["template"]["spec"]["topologySpreadConstraints"];
        let own = &sts["spec"]["selector"]["matchLabels"];
        let by_zone = spread.as_array().into_iter().flatten().any(|c| {
            c["topologyKey"] == "topology.kubernetes.io/zone"
                && c["maxSkew"] == 1
                && c["whenUnsatisfiable"] == "ScheduleAnyway"
                && &c["labelSelector"]["matchLabels"] == own
        });
        assert!(by_zone, "{label}: {spread:#}");
    }
    assert!(seen >= 2, "no multi-member set to check");
}
