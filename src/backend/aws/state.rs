//! Terraform state on S3: the `backend "s3"` block of each root module (encrypted, locked
//! with S3 conditional writes), and the `bootstrap` module that creates the bucket — applied
//! once with local state, since a module cannot keep its state in a bucket it creates.

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::iam::policy;
use super::kms;
use crate::backend::{state_key, terraform_block};
use crate::naming::header;
use crate::terraform::{Module, res};

pub fn backend(ctx: &Ctx, module: &str) -> Option<Json> {
    let s = ctx.v.bp.state.as_ref()?;
    let mut b = json!({
        "bucket": &s.bucket,
        "key": state_key(&s.key, ctx.v.env, module),
        "region": s.region.as_deref().unwrap_or(&ctx.region),
        "encrypt": true,
        // The state key bootstrap creates (`kms::key(.., "state", ..)`), by alias: a backend
        // block takes no references, and without `kms_key_id` the backend's `encrypt` writes
        // SSE-S3 objects, overriding the bucket's KMS default.
        "kms_key_id": format!("alias/{}-state", ctx.prefix),
    });
    if s.locking {
        b["use_lockfile"] = json!(true);
    }
    Some(json!({"s3": b}))
}

pub fn bootstrap(ctx: &Ctx) -> Option<Module> {
    let s = ctx.v.bp.state.as_ref()?;
    let mut m = Module::new(header(ctx.v));
    m.file("providers")
        .terraform(terraform_block(&["aws"], None))
        .provider(
            "aws",
            super::aws_provider(ctx, s.region.as_deref().unwrap_or(&ctx.region)),
        )
        .resource(
            &crate::terraform::data("aws_caller_identity", "current"),
            json!({}),
        );
    kms::key(
        ctx,
        &mut m,
        "state",
        &format!("Terraform state encryption for {}", ctx.v.bp.name),
        vec![],
    );

    let bucket = res("aws_s3_bucket", "state");
    let key = res("aws_kms_key", "state");
    let f = m.file("state");
    f.resource(
        &bucket,
        json!({
            "bucket": &s.bucket,
            // Losing the state bucket loses track of every resource; make deletion deliberate.
            "lifecycle": {"prevent_destroy": true},
        }),
    )
    .resource(
        &res("aws_s3_bucket_versioning", "state"),
        json!({
            "bucket": bucket.id(),
            "versioning_configuration": {"status": "Enabled"},
        }),
    )
    .resource(
        &res(
            "aws_s3_bucket_server_side_encryption_configuration",
            "state",
        ),
        json!({
            "bucket": bucket.id(),
            "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key.arn(),
                },
                "bucket_key_enabled": true,
            }],
        }),
    )
    .resource(
        &res("aws_s3_bucket_public_access_block", "state"),
        json!({
            "bucket": bucket.id(),
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true,
        }),
    )
    .resource(
        &res("aws_s3_bucket_ownership_controls", "state"),
        json!({
            "bucket": bucket.id(),
            "rule": {"object_ownership": "BucketOwnerEnforced"},
        }),
    )
    .resource(
        &res("aws_s3_bucket_lifecycle_configuration", "state"),
        json!({
            "bucket": bucket.id(),
            "rule": [{
                "id": "expire-old-state-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": 90},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }],
        }),
    )
    .resource(
        &res("aws_s3_bucket_policy", "state"),
        json!({
            "bucket": bucket.id(),
            "policy": policy(vec![json!({
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.arn(), tpl!(bucket.arn(), "/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            })]),
        }),
    );
    m.file("outputs").output(
        "state_bucket",
        bucket.id(),
        "Bucket holding the Terraform state of every root module",
    );
    Some(m)
}
