//! Backup CronJobs of in-cluster databases (`<name>-backup`), on `backup.schedule` — or daily
//! at the start of `backup.window` (UTC) when only a window is given, else daily at 02:00 UTC
//! (a note says so).
//!
//! The dump runs in the database's own image (`mongodump --gzip --archive`, `pg_dump -Fc`,
//! `mysqldump | gzip`; `--no-tablespaces`, since the application user the credentials Secret
//! holds has no PROCESS privilege, which MySQL 8 requires to dump tablespaces) into a PersistentVolumeClaim (`backup.volume_claim`, default
//! `<name>-backup`) that keeps `retention_days` of archives; with a `destination`
//! (`s3://…`) a second container then syncs the claim there with the AWS CLI, its
//! credentials from `backup.storage_secret` (by reference) or the pod's cloud identity.
//! Database credentials come from the credentials Secret by key. Caches and queues are not
//! backed up here.

use super::data::{claim_spec, pod, sh_quote};
use super::workload::{container_security, resources, secret_env, writable};
use super::yaml::{Map, Str, map, seq};
use super::{Ctx, DataService, Engine};

/// The AWS CLI image that uploads archives.
pub const AWS_CLI_IMAGE: &str = "amazon/aws-cli:2.22.0";
const BACKUP_DIR: &str = "/backup";

/// The cron schedule of a database's backups, if it has one.
pub(crate) fn schedule(d: &DataService) -> Option<String> {
    let b = d.backup?;
    if !matches!(d.engine, Engine::Postgres | Engine::Mysql | Engine::Mongodb) {
        return None;
    }
    if let Some(s) = &b.schedule {
        return Some(s.clone());
    }
    match b.window {
        Some(w) => Some(format!("{} {} * * *", w.start.1, w.start.0)),
        // A `backup` block asks for backups even without a time (see `k8s::notes`).
        None => Some(DEFAULT_SCHEDULE.to_string()),
    }
}

/// The Secret holding the object store key of database `db`'s backup job
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), where the platform module creates one
/// (a Spaces bucket of the blueprint on DigitalOcean, without `storage_secret`).
pub fn spaces_secret(db: &str) -> String {
    format!("{db}-backup-spaces")
}

/// When a database's `backup` gives neither `schedule` nor `window`: daily, 02:00 UTC.
pub const DEFAULT_SCHEDULE: &str = "0 2 * * *";

fn claim_name<'c>(d: &DataService<'c>) -> Str<'c> {
    match d.backup.and_then(|b| b.volume_claim.as_deref()) {
        Some(c) => Str::Borrowed(c),
        None => Str::Owned(format!("{}-backup", d.name)),
    }
}

/// The dump script and its environment.
fn dump<'c>(d: &'c DataService) -> (String, Vec<Map<'c>>) {
    let secret = d.credentials_secret.as_deref().unwrap_or_default();
    let host = format!("{}:{}", d.service_name, d.port);
    let db = sh_quote(d.database_name.as_deref().unwrap_or(&d.name));
    let retention = d.backup.map_or(7, |b| b.retention_days);
    let stamp = "$(date +%Y%m%d-%H%M%S)";
    let (ext, cmd, env) = match d.engine {
        Engine::Mongodb => (
            "gz",
            format!(
                "mongodump --host {host} \\\n  --username \"$MONGO_USERNAME\" \\\n  --password \"$MONGO_PASSWORD\" \\\n  --authenticationDatabase admin \\\n  --gzip \\\n  --archive=\"$file\""
            ),
            vec![
                secret_env("MONGO_USERNAME", secret, "username"),
                secret_env("MONGO_PASSWORD", secret, "password"),
            ],
        ),
        Engine::Postgres => (
            "dump",
            format!(
                "pg_dump --host {} --port {} --dbname {db} --format custom --file \"$file\"",
                d.service_name, d.port
            ),
            vec![
                secret_env("PGUSER", secret, "username"),
                secret_env("PGPASSWORD", secret, "password"),
            ],
        ),
        _ => (
            "sql.gz",
            format!(
                "mysqldump --host {} --port {} --user \"$MYSQL_BACKUP_USER\" \\\n  --single-transaction --routines --no-tablespaces --databases {db} > \"${{file%.gz}}\"\ngzip \"${{file%.gz}}\"",
                d.service_name, d.port
            ),
            vec![
                secret_env("MYSQL_BACKUP_USER", secret, "username"),
                secret_env("MYSQL_PWD", secret, "password"),
            ],
        ),
    };
    let script = format!(
        "set -eu\nfile=\"{BACKUP_DIR}/{name}-{stamp}.{ext}\"\n{cmd}\n# Keep {retention} days of archives on the claim.\nfind {BACKUP_DIR} -name '{name}-*' -mtime +{retention} -delete\n",
        name = d.name,
    );
    (script, env)
}

pub fn lower<'c>(ctx: &'c Ctx, d: &'c DataService, docs: &mut Vec<Map<'c>>) {
    let Some(schedule) = schedule(d) else {
        return;
    };
    let b = d.backup.expect("a schedule implies a backup block");
    let app = format!("{}-backup", d.name);
    let claim = claim_name(d);
    docs.push(map! {
        "apiVersion" => "v1",
        "kind" => "PersistentVolumeClaim",
        "metadata" => ctx.meta(claim.clone(), &d.namespace, ctx.app_labels(app.clone(), "backup", None)),
        "spec" => claim_spec(ctx, d, &d.volume_size),
    });

    let (script, env) = dump(d);
    let (mut mounts, mut volumes) = writable(["/tmp"]);
    mounts.push(map! {"name" => "backup-storage", "mountPath" => BACKUP_DIR});
    volumes.push(map! {
        "name" => "backup-storage",
        "persistentVolumeClaim" => map! {"claimName" => claim},
    });
    let dump_container = map! {
        "name" => "dump",
        "image" => d.image.as_str(),
        "imagePullPolicy" => "Always",
        "command" => seq!["/bin/sh", "-c", script],
        "env" => env,
        "resources" => resources(None),
        "securityContext" => container_security(),
        "volumeMounts" => mounts.clone(),
    };
    let mut spec = match &b.destination {
        Some(dest) => {
            let mut upload = map! {
                "name" => "upload",
                "image" => AWS_CLI_IMAGE,
                "imagePullPolicy" => "Always",
                "command" => seq!["aws", "s3", "sync", format!("{BACKUP_DIR}/"), dest.as_str()],
                "env" => vec![map! {"name" => "HOME", "value" => "/tmp"}],
            };
            // A bucket of another S3-compatible store (Spaces): the CLI must be told its
            // endpoint (`AWS_ENDPOINT_URL`, AWS CLI 2.13+), else it signs the keys of that
            // store for AWS S3 and every sync fails (InvalidAccessKeyId).
            let bucket = b.destination_bucket().map_or("", |(bucket, _)| bucket);
            let store = ctx
                .opts
                .object_store
                .as_ref()
                .filter(|o| o.buckets.iter().any(|b| b == bucket));
            if let Some(store) = store {
                upload.insert(
                    "env",
                    vec![
                        map! {"name" => "HOME", "value" => "/tmp"},
                        map! {"name" => "AWS_ENDPOINT_URL", "value" => store.endpoint.clone()},
                        map! {"name" => "AWS_REGION", "value" => store.region.clone()},
                    ],
                );
            }
            if let Some(s) = &b.storage_secret {
                upload.insert(
                    "envFrom",
                    vec![map! {"secretRef" => map! {"name" => s.as_str()}}],
                );
            } else if store.is_some() {
                // The store's key for this job, which the platform module creates.
                upload.insert(
                    "envFrom",
                    vec![map! {"secretRef" => map! {"name" => spaces_secret(&d.name)}}],
                );
            } else if let Some(region) = &ctx.opts.aws_region {
                upload.insert(
                    "env",
                    vec![
                        map! {"name" => "HOME", "value" => "/tmp"},
                        map! {"name" => "AWS_REGION", "value" => region.as_str()},
                    ],
                );
            }
            let upload = upload
                .with("resources", resources(None))
                .with("securityContext", container_security())
                .with("volumeMounts", mounts);
            // The dump runs first, as an init container; the upload follows it.
            let mut p = pod(ctx, vec![upload], volumes);
            p.insert_before("containers", "initContainers", vec![dump_container]);
            p
        }
        None => pod(ctx, vec![dump_container], volumes),
    };
    spec.insert("restartPolicy", "OnFailure");
    // The job's own identity for the destination (IRSA on EKS): a ServiceAccount whose role
    // may write exactly there, which the back-end's Terraform creates (its annotation names
    // the role's ARN).
    if b.storage_secret.is_none()
        && b.destination.is_some()
        && ctx
            .opts
            .external_service_accounts
            .contains(&(d.namespace.to_string(), app.clone()))
    {
        spec.insert_before("containers", "serviceAccountName", app.clone());
    }

    let mut pod_labels = ctx.app_labels(app.clone(), "backup", None);
    ctx.add_common_labels(&mut pod_labels);
    docs.push(map! {
        "apiVersion" => "batch/v1",
        "kind" => "CronJob",
        "metadata" => ctx.meta(app.clone(), &d.namespace, ctx.app_labels(app, "backup", None)),
        "spec" => map! {
            "schedule" => schedule,
            "timeZone" => "Etc/UTC",
            "concurrencyPolicy" => "Forbid",
            "successfulJobsHistoryLimit" => 3u32,
            "failedJobsHistoryLimit" => 3u32,
            "jobTemplate" => map! {
                "spec" => map! {
                    "backoffLimit" => 2u32,
                    "template" => map! {"metadata" => map! {"labels" => pod_labels}, "spec" => spec},
                },
            },
        },
    });
}
