//! MongoDB: with more than one replica, `--replSet <name>` with a key file (Secret key
//! `keyfile`) and a Job that initiates the replica set once (idempotent).

use super::engine::default_port;
use super::statefulset::{exec, pod, small_resources};
use crate::k8s::workload::{container_security, secret_env, writable};
use crate::k8s::yaml::{Map, map, seq};
use crate::k8s::{Ctx, DataService, Engine};

const KEYFILE_DIR: &str = "/etc/mongo-keyfile";

impl DataService<'_> {
    pub(super) fn mongo_replica_set(&self) -> bool {
        self.engine == Engine::Mongodb && self.replicas > 1
    }
}

pub(super) fn env<'c>(secret: &'c str, db: &'c str) -> Vec<Map<'c>> {
    vec![
        secret_env("MONGO_INITDB_ROOT_USERNAME", secret, "username"),
        secret_env("MONGO_INITDB_ROOT_PASSWORD", secret, "password"),
        map! {"name" => "MONGO_INITDB_DATABASE", "value" => db},
    ]
}

pub(super) fn command(d: &DataService, server: String) -> (Vec<String>, Vec<String>) {
    let mut args = vec![server, "--bind_ip_all".into()];
    if d.port != default_port(d.engine) {
        args.extend(["--port".into(), d.port.to_string()]);
    }
    if d.mongo_replica_set() {
        args.extend([
            "--replSet".into(),
            d.name.clone(),
            "--keyFile".into(),
            format!("{KEYFILE_DIR}/keyfile"),
        ]);
    }
    args.extend(d.args.iter().cloned());
    (Vec::new(), args)
}

pub(super) fn probes(
    d: &DataService,
    port: u16,
    tcp: Map<'static>,
) -> (Map<'static>, Map<'static>) {
    let shell = if d.version.starts_with(['3', '4', '5']) {
        "mongo"
    } else {
        "mongosh"
    };
    let ping = exec(seq![
        shell,
        "--quiet",
        "--port",
        port.to_string(),
        "--eval",
        "db.adminCommand('ping').ok",
    ]);
    (tcp, ping)
}

pub(super) fn exporter<'c>(
    env: &mut Vec<Map<'c>>,
    secret: Option<&'c str>,
    local: &str,
    listen: String,
) -> Vec<String> {
    if let Some(s) = secret {
        env.push(secret_env("MONGODB_USER", s, "username"));
        env.push(secret_env("MONGODB_PASSWORD", s, "password"));
    }
    vec![
        format!("--mongodb.uri=mongodb://{local}/admin?directConnection=true"),
        listen,
    ]
}

/// The key-file volumes and mount, and the init container that copies the key file (the
/// pod's `initContainers`).
pub(super) fn key_file<'c>(
    d: &'c DataService,
    mounts: &mut Vec<Map<'c>>,
    volumes: &mut Vec<Map<'c>>,
) -> Map<'c> {
    // mongod refuses a key file others can read; Secret volumes are group-readable under
    // fsGroup, so a copy owned by the mongod user is made first.
    let secret = d.credentials_secret.clone().unwrap_or_default();
    volumes.push(map! {
        "name" => "keyfile-secret",
        "secret" => map! {
            "secretName" => secret,
            "items" => vec![map! {"key" => "keyfile", "path" => "keyfile"}],
            "defaultMode" => 0o440u32,
        },
    });
    volumes.push(map! {"name" => "keyfile", "emptyDir" => Map::new()});
    mounts.push(map! {"name" => "keyfile", "mountPath" => KEYFILE_DIR, "readOnly" => true});
    map! {
        "name" => "keyfile",
        "image" => d.image.as_str(),
        "imagePullPolicy" => "Always",
        "command" => seq![
            "/bin/sh",
            "-c",
            format!("cp /secret/keyfile {KEYFILE_DIR}/keyfile && chmod 0400 {KEYFILE_DIR}/keyfile"),
        ],
        "resources" => small_resources(),
        "securityContext" => container_security(),
        "volumeMounts" => vec![
            map! {"name" => "keyfile-secret", "mountPath" => "/secret", "readOnly" => true},
            map! {"name" => "keyfile", "mountPath" => KEYFILE_DIR},
        ],
    }
}

/// A Job that initiates the MongoDB replica set once all members answer (a no-op when it is
/// already initiated).
pub(super) fn replica_set_init<'c>(ctx: &'c Ctx, d: &'c DataService) -> Map<'c> {
    let members: Vec<String> = (0..d.replicas)
        .map(|i| format!("{{_id: {i}, host: \"{}:{}\"}}", d.pod_host(i), d.port))
        .collect();
    let hosts: Vec<String> = (0..d.replicas)
        .map(|i| format!("\"{}:{}\"", d.pod_host(i), d.port))
        .collect();
    let first = format!("{}:{}", d.pod_host(0), d.port);
    // Initiated already (a later apply, a new image or member count: a new Job), the set's
    // members are brought to the StatefulSet's: the pods a scale-up added join
    // (`rs.add`), those a scale-down removed leave (`rs.remove`). Both need the primary,
    // which the seed list with `replicaSet` finds wherever it moved.
    let script = format!(
        "set -eu\n\
         for i in $(seq 0 {last}); do\n  \
         until mongosh --quiet --host \"{name}-$i.{headless}.{ns}.svc.cluster.local:{port}\" --eval \"db.adminCommand('ping')\" >/dev/null 2>&1; do sleep 5; done\n\
         done\n\
         admin() {{ mongosh --quiet --username \"$MONGO_USERNAME\" --password \"$MONGO_PASSWORD\" --authenticationDatabase admin \"$@\"; }}\n\
         if admin --host \"{first}\" --eval 'rs.status().ok' >/dev/null 2>&1; then\n  \
         admin \"mongodb://{seeds}/?replicaSet={name}\" --eval '\n  \
         const want = [{hosts}];\n  \
         const have = rs.conf().members.map(m => m.host);\n  \
         want.filter(h => !have.includes(h)).forEach(h => {{ print(\"adding \" + h); rs.add(h); }});\n  \
         have.filter(h => !want.includes(h)).forEach(h => {{ print(\"removing \" + h); rs.remove(h); }});\n  \
         print(\"replica set {name} has its \" + want.length + \" members\");'\n\
         else\n  \
         admin --host \"{first}\" --eval 'rs.initiate({{_id: \"{name}\", members: [{members}]}})'\n\
         fi\n",
        last = d.replicas - 1,
        name = d.name,
        headless = d.headless(),
        ns = d.namespace,
        port = d.port,
        seeds = (0..d.replicas)
            .map(|i| format!("{}:{}", d.pod_host(i), d.port))
            .collect::<Vec<_>>()
            .join(","),
        hosts = hosts.join(", "),
        members = members.join(", "),
    );
    let secret = d.credentials_secret.as_deref().unwrap_or_default();
    let app = format!("{}-rs-init", d.name);
    let mut pod_labels = ctx.app_labels(app.clone(), "database", None);
    ctx.add_common_labels(&mut pod_labels);
    let (mounts, volumes) = writable(["/tmp"]);
    let container = map! {
        "name" => "rs-init",
        "image" => d.image.as_str(),
        "imagePullPolicy" => "Always",
        "command" => seq!["/bin/sh", "-c", script],
        "env" => vec![
            secret_env("MONGO_USERNAME", secret, "username"),
            secret_env("MONGO_PASSWORD", secret, "password"),
            map! {"name" => "HOME", "value" => "/tmp"},
        ],
        "resources" => small_resources(),
        "securityContext" => container_security(),
        "volumeMounts" => mounts,
    };
    let mut spec = pod(ctx, vec![container], volumes);
    spec.insert("restartPolicy", "OnFailure");
    let template = map! {"metadata" => map! {"labels" => pod_labels}, "spec" => spec};
    map! {
        "apiVersion" => "batch/v1",
        "kind" => "Job",
        "metadata" => ctx.meta(job_name(&app, &template), &d.namespace, ctx.app_labels(app, "database", None)),
        "spec" => map! {
            "backoffLimit" => 10u32,
            // Finished, the Job stays (no `ttlSecondsAfterFinished`), as a release Job does:
            // Argo CD and Flux re-create a Job of the synced manifests that the TTL
            // controller deleted, so it would run again every day and the Application
            // would show OutOfSync/Missing in between (argoproj/argo-cd#8586; Argo CD's
            // resource hooks guide, "Sync Status with Jobs/Workflows with Time to Live").
            // Their pruning removes a Job of an earlier template; after `kubectl apply`,
            // `infragen diff` names it to delete.
            "template" => template,
        },
    }
}

/// The Job's name: `<app>-<hash of its pod template>`. A Job's `spec.template` cannot change
/// (`ValidateJobSpecUpdate` in pkg/apis/batch/validation: "field is immutable"), so a Job of the same name with a
/// new image (a MongoDB version bump, a newer pin in the versions catalog) or member list
/// would make `kubectl apply` fail; under a new name it is a new Job, and the old one goes
/// with its TTL. At most 63 characters: the name is the value of the pods'
/// `batch.kubernetes.io/job-name` label.
fn job_name(app: &str, template: &Map) -> String {
    let hash = crate::k8s::content_hash(&crate::k8s::yaml::to_string(template));
    let keep = app.len().min(63 - 9);
    format!("{}-{}", app[..keep].trim_end_matches('-'), &hash[..8])
}
