//! The blueprint's `buckets[]` as DigitalOcean Spaces buckets, and the access a workload
//! that `uses` one gets.
//!
//! - `infra`: a `digitalocean_spaces_bucket` per bucket, private, versioned as the blueprint
//!   says, with a lifecycle that aborts stale uploads, ages out old versions and expires
//!   objects after `expire_after_days`, in the Spaces region of the state bucket
//!   (`state::spaces_region`: Spaces runs in fewer regions than Droplets). Like the state
//!   bucket, the provider creates it through the S3 API with a Spaces key from
//!   `SPACES_ACCESS_KEY_ID` / `SPACES_SECRET_ACCESS_KEY`.
//! - `platform`: Spaces has no workload identity (no IRSA, no task role), so each workload
//!   that uses buckets gets its own Spaces access key (`digitalocean_spaces_key`) granted
//!   `readwrite` on exactly those buckets — "access keys can provide several levels of
//!   permissions … to specific associated buckets"
//!   (<https://docs.digitalocean.com/reference/terraform/reference/resources/spaces_key/>;
//!   permissions `read`, `readwrite`, `fullaccess`, <https://docs.digitalocean.com/reference/api/reference/spaces-keys/>).
//!   Its key pair goes into the workload's `<service>-connections` Secret
//!   (`_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`), the endpoint, name and region into its
//!   ConfigMap (`_ENDPOINT` `https://<region>.digitaloceanspaces.com`, which an S3 SDK needs
//!   to talk to Spaces rather than AWS). The secret key lives in the platform state, never
//!   in a file.

use crate::json;

use super::Ctx;
use crate::blueprint::types::Bucket;
use crate::terraform::{Expr, Module, Ref, ident, res};

/// The Spaces name of a blueprint bucket: the blueprint's `bucket` exactly, else
/// `<name>-<env>-<bucket>`.
pub fn bucket_name(ctx: &Ctx, b: &Bucket) -> String {
    b.name_in(&ctx.prefix)
}

/// The bucket resource of blueprint bucket `name`.
pub fn bucket(name: &str) -> Ref {
    res("digitalocean_spaces_bucket", name)
}

/// The S3 API endpoint of the Spaces region the buckets live in.
pub fn endpoint(ctx: &Ctx) -> String {
    format!("https://{}", host(ctx))
}

/// The S3 API host of the Spaces region.
pub fn host(ctx: &Ctx) -> String {
    format!(
        "{}.digitaloceanspaces.com",
        super::state::spaces_region(ctx)
    )
}

/// The `digitalocean_spaces_bucket` resources, in `infra`.
pub fn lower(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    if bp.buckets.is_empty() {
        return;
    }
    let region = super::state::spaces_region(ctx);
    for b in &bp.buckets {
        let mut rule = json!({
            "id": "housekeeping",
            "enabled": true,
            "abort_incomplete_multipart_upload_days": 7,
        });
        if b.versioning {
            rule["noncurrent_version_expiration"] = json!({"days": 90});
        }
        if let Some(days) = b.expire_after_days {
            rule["expiration"] = json!({"days": days});
        }
        if b.archive_after_days.is_some() {
            ctx.note(format!(
                "buckets.{}.archive_after_days: Spaces has one storage class, so objects are not archived",
                b.name
            ));
        }
        let r = bucket(&b.name);
        m.file("buckets").resource(
            &r,
            json!({
                "name": bucket_name(ctx, b),
                "region": &region,
                "acl": "private",
                "force_destroy": false,
                "versioning": {"enabled": b.versioning},
                "lifecycle_rule": [rule],
            }),
        );
        // CORS as its own resource, not the bucket's deprecated `cors_rule` block (which has
        // no `expose_headers`): "use the digitalocean_spaces_bucket_cors_configuration
        // resource instead", and not both
        // (https://docs.digitalocean.com/reference/terraform/reference/resources/spaces_bucket_cors_configuration/).
        if !b.cors.is_empty() {
            m.file("buckets").resource(
                &res("digitalocean_spaces_bucket_cors_configuration", &b.name),
                json!({
                    "bucket": r.id(),
                    "region": &region,
                    "cors_rule": crate::backend::bucket_cors::rules(b),
                }),
            );
        }
        m.file("outputs").output(
            &format!("bucket_{}", ident(&b.name)),
            r.attr("name"),
            &format!("Name of the Spaces bucket `{}`", b.name),
        );
    }
    ctx.mark("buckets");
    // The provider creates Spaces buckets through the S3 API, signed with a Spaces key it
    // reads from the environment — not with the API token (`spaces_access_id`,
    // https://registry.terraform.io/providers/digitalocean/digitalocean/latest/docs).
    ctx.note(
        "buckets: `terraform/infra` creates Spaces buckets through the S3 API, so the digitalocean provider needs a Spaces key with full access in `SPACES_ACCESS_KEY_ID` / `SPACES_SECRET_ACCESS_KEY` (beside `DIGITALOCEAN_TOKEN`) when it applies",
    );
}

/// The Spaces key of workload `workload`, granted `readwrite` on `buckets` (blueprint
/// names), in `platform`. Returns its resource.
pub fn key(ctx: &Ctx, m: &mut Module, workload: &str, buckets: &[&str]) -> Ref {
    let r = key_ref(workload);
    let grants: Vec<_> = buckets
        .iter()
        .filter_map(|n| ctx.v.bp.buckets.iter().find(|b| b.name == *n))
        .map(|b| json!({"bucket": bucket_name(ctx, b), "permission": "readwrite"}))
        .collect();
    if !m.declares(&r.address()) {
        m.file("connections").resource(
            &r,
            json!({"name": format!("{}-{workload}", ctx.prefix), "grant": grants}),
        );
    }
    r
}

/// The Spaces key resource of workload `workload`.
pub fn key_ref(workload: &str) -> Ref {
    res(
        "digitalocean_spaces_key",
        &format!("{}_spaces", ident(workload)),
    )
}

/// The value of a bucket variable of a workload whose key is `key`.
pub fn value(ctx: &Ctx, b: &Bucket, f: crate::wiring::Field, key: &Ref) -> Option<Expr> {
    use crate::wiring::Field;
    let name = bucket_name(ctx, b);
    Some(match f {
        Field::Host => Expr::lit(&host(ctx)),
        Field::Port => Expr::lit("443"),
        Field::Bucket => Expr::lit(&name),
        Field::Url => Expr::lit(&format!("s3://{name}")),
        Field::Region => Expr::lit(&super::state::spaces_region(ctx)),
        Field::Endpoint => Expr::lit(&endpoint(ctx)),
        Field::AccessKeyId => key.attr("access_key"),
        Field::SecretAccessKey => key.attr("secret_key"),
        _ => return None,
    })
}

/// The blueprint's buckets as the manifests see them: an in-cluster database's backup
/// `destination` in one of them is synced through the Spaces endpoint. A destination in
/// another bucket is noted: the AWS CLI would take it for AWS S3 unless the
/// `storage_secret` says otherwise (`AWS_ENDPOINT_URL`).
pub fn object_store(ctx: &Ctx) -> crate::k8s::ObjectStore {
    let buckets: Vec<String> = ctx
        .v
        .bp
        .buckets
        .iter()
        .map(|b| bucket_name(ctx, b))
        .collect();
    for d in &ctx.v.bp.databases {
        let Some(backup) = d.backup.as_ref() else {
            continue;
        };
        let (Some(dest), Some((bucket, _))) =
            (backup.destination.as_deref(), backup.destination_bucket())
        else {
            continue;
        };
        if !buckets.iter().any(|b| b == bucket) {
            ctx.note(format!(
                "databases.{}.backup.destination `{dest}` is not one of the blueprint's Spaces buckets ({}): the backup job's AWS CLI sends it to AWS S3; for a Spaces bucket created elsewhere, put `AWS_ENDPOINT_URL={}` in its `storage_secret`",
                d.name,
                if buckets.is_empty() { "none".to_string() } else { buckets.join(", ") },
                endpoint(ctx)
            ));
        }
    }
    crate::k8s::ObjectStore {
        endpoint: endpoint(ctx),
        region: super::state::spaces_region(ctx),
        buckets,
    }
}

/// The in-cluster databases whose backups go to one of the blueprint's Spaces buckets
/// without a `storage_secret`: (database, its namespace, the Spaces bucket name).
pub fn backup_jobs(ctx: &Ctx) -> Vec<(String, String, String)> {
    let bp = ctx.v.bp;
    let managed: Vec<&str> = ctx.managed_databases().map(|d| d.name.as_str()).collect();
    bp.databases
        .iter()
        .filter(|d| !managed.contains(&d.name.as_str()))
        .filter_map(|d| {
            let b = d.backup.as_ref()?;
            if b.storage_secret.is_some() {
                return None;
            }
            let bucket = b.destination_bucket()?.0.to_string();
            bp.buckets
                .iter()
                .any(|x| bucket_name(ctx, x) == bucket)
                .then(|| (d.name.clone(), bp.default_namespace().to_string(), bucket))
        })
        .collect()
}

/// The backup jobs' own Spaces keys, as EKS gives them an IAM role: one key per job granted
/// `readwrite` on its destination bucket, written into the Secret its upload container reads
/// (`crate::k8s::spaces_secret`) in the database's namespace, which the platform module owns
/// (the database's credentials Secret is there). In `platform`.
pub fn backup_keys(ctx: &Ctx, m: &mut Module) {
    for (db, ns, bucket) in backup_jobs(ctx) {
        let key = res(
            "digitalocean_spaces_key",
            &format!("{}_backup_spaces", ident(&db)),
        );
        m.file("connections").resource(
            &key,
            json!({
                "name": format!("{}-{db}-backup", ctx.prefix),
                "grant": [{"bucket": bucket, "permission": "readwrite"}],
            }),
        );
        m.file("connections").resource(
            &res("kubernetes_secret_v1", &format!("{}_backup_spaces", ident(&db))),
            json!({
                "metadata": {
                    "name": crate::k8s::spaces_secret(&db),
                    "namespace": crate::backend::connections::namespace_name(&ns),
                    "labels": {"app.kubernetes.io/managed-by": "infragen", "app.kubernetes.io/part-of": &db},
                },
                "type": "Opaque",
                "data": {
                    "AWS_ACCESS_KEY_ID": key.attr("access_key"),
                    "AWS_SECRET_ACCESS_KEY": key.attr("secret_key"),
                },
            }),
        );
    }
}
