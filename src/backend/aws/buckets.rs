//! S3 buckets: the blueprint's `buckets[]` and the load balancer's access-log bucket. Every
//! bucket is private (public access blocked, ACLs disabled), versioned, encrypted, TLS-only,
//! with a lifecycle that aborts stale uploads and ages out old versions.
//!
//! The access-log bucket is encrypted with S3-managed keys: Elastic Load Balancing delivers
//! access logs only to SSE-S3 buckets. Every other bucket uses a customer-managed key and
//! sends its server access logs to the log bucket when there is one.

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::iam::policy;
use super::kms;
use crate::blueprint::types::{Bucket, Platform};
use crate::terraform::{Expr, Module, Ref, data, ident, res};

/// Prefix of the load balancer's objects in the log bucket.
pub const LB_LOG_PREFIX: &str = "alb";
/// Prefix of S3 server access logs in the log bucket.
const S3_LOG_PREFIX: &str = "s3-access";

/// Regions opened after August 2022 have no Elastic Load Balancing account; access logs
/// are delivered by a service principal there.
const REGIONS_WITHOUT_ELB_ACCOUNT: [&str; 7] = [
    "ap-south-2",
    "ap-southeast-4",
    "ca-west-1",
    "eu-central-2",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
];

/// A name infragen derives (the blueprint gave none): S3 bucket names are unique across all
/// of AWS, so `<name>-<env>-<purpose>` alone would collide with the same blueprint in another
/// account. The account id (12 digits) makes it unique and stays stable across applies.
///
/// Only Terraform writes such a name (`infra`, and `platform` for the connections ConfigMaps
/// and the ALB's access logs), from `aws_caller_identity` unless the blueprint names the
/// account; a manifest never has to.
fn derived(ctx: &Ctx, base: &str) -> Expr {
    match ctx.account() {
        Some(a) => Expr::lit(&format!("{base}-{a}")),
        None => tpl!(base, "-", ctx.account_id()),
    }
}

/// The S3 name of a blueprint bucket: the blueprint's `bucket` exactly, else derived.
pub fn bucket_name(ctx: &Ctx, b: &Bucket) -> Expr {
    match &b.bucket {
        Some(name) => Expr::lit(name),
        None => derived(ctx, &format!("{}-{}", ctx.prefix, b.name)),
    }
}

/// The load balancer's access-log bucket: (resource, S3 name), when the blueprint has a load
/// balancer (created by infragen on ECS, by the AWS Load Balancer Controller on EKS).
pub fn access_logs(ctx: &Ctx) -> Option<(Ref, Expr)> {
    if !matches!(
        ctx.platform,
        Some(Platform::EcsFargate | Platform::Eks | Platform::EksFargate)
    ) {
        return None;
    }
    let lb = ctx.v.bp.load_balancer.as_ref()?;
    let name = lb
        .access_logs_bucket
        .as_deref()
        .map(Expr::lit)
        .unwrap_or_else(|| derived(ctx, &format!("{}-lb-logs", ctx.prefix)));
    let declared = ctx
        .v
        .bp
        .buckets
        .iter()
        .find(|b| bucket_name(ctx, b) == name)
        .map(|b| ident(&b.name));
    Some((
        res(
            "aws_s3_bucket",
            &declared.unwrap_or_else(|| "lb_logs".into()),
        ),
        name,
    ))
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    let logs = access_logs(ctx);
    let mut all: Vec<(Ref, Expr, Option<&Bucket>)> = bp
        .buckets
        .iter()
        .map(|b| (res("aws_s3_bucket", &b.name), bucket_name(ctx, b), Some(b)))
        .collect();
    if let Some((r, name)) = &logs
        && !all.iter().any(|(x, _, _)| x == r)
    {
        all.push((r.clone(), name.clone(), None));
    }
    if all.is_empty() {
        return;
    }
    let needs_key = all
        .iter()
        .any(|(r, _, _)| Some(r) != logs.as_ref().map(|(l, _)| l));
    if needs_key {
        kms::key(
            ctx,
            m,
            "buckets",
            &format!("S3 bucket encryption for {}", ctx.prefix),
            vec![],
        );
    }
    let mut sources = Vec::new();
    for (r, name, b) in &all {
        let is_logs = Some(r) == logs.as_ref().map(|(l, _)| l);
        bucket(m, r, name, *b, is_logs);
        if !is_logs {
            sources.push(r.clone());
        }
    }
    // Bucket policies: TLS only everywhere; the log bucket also admits log delivery.
    for (r, _, _) in &all {
        let is_logs = Some(r) == logs.as_ref().map(|(l, _)| l);
        let mut statements = vec![deny_insecure_transport(r)];
        if is_logs {
            statements.extend(log_delivery(ctx, m, r, &sources));
        }
        m.file("buckets").resource(
            &res("aws_s3_bucket_policy", r.name()),
            json!({"bucket": r.id(), "policy": policy(statements)}),
        );
    }
    if let Some((l, _)) = &logs {
        for s in &sources {
            m.file("buckets").resource(
                &res("aws_s3_bucket_logging", s.name()),
                json!({
                    "bucket": s.id(),
                    "target_bucket": l.id(),
                    "target_prefix": format!("{S3_LOG_PREFIX}/{}/", s.name()),
                    // PutBucketLogging checks that the target's policy already admits the
                    // logging service (InvalidTargetBucketForLogging otherwise).
                    "depends_on": [res("aws_s3_bucket_policy", l.name()).address()],
                }),
            );
        }
    }
    let f = m.file("outputs");
    for (r, _, _) in &all {
        f.output(
            &format!("bucket_{}", r.name()),
            r.id(),
            &format!("Name of the S3 bucket `{}`", r.name()),
        );
    }
    if !bp.buckets.is_empty() {
        ctx.mark("buckets");
    }
}

fn bucket(m: &mut Module, r: &Ref, name: &Expr, b: Option<&Bucket>, is_logs: bool) {
    let versioning = b.is_none_or(|b| b.versioning);
    let key = res("aws_kms_key", "buckets");
    let encryption = if is_logs {
        // Elastic Load Balancing writes access logs only to SSE-S3 buckets.
        json!({"sse_algorithm": "AES256"})
    } else {
        json!({"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn()})
    };
    let mut rule = json!({
        "id": "housekeeping",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        "noncurrent_version_expiration": {"noncurrent_days": 90},
    });
    if let Some(days) = b.and_then(|b| b.archive_after_days) {
        rule["transition"] = json!([{"days": days, "storage_class": "GLACIER"}]);
    }
    if let Some(days) = b.and_then(|b| b.expire_after_days) {
        rule["expiration"] = json!({"days": days});
    }
    m.file("buckets")
        .resource(
            r,
            json!({
                "bucket": name,
                "force_destroy": false,
                "tags": {"Name": name},
            }),
        )
        .resource(
            &res("aws_s3_bucket_public_access_block", r.name()),
            json!({
                "bucket": r.id(),
                "block_public_acls": true,
                "block_public_policy": true,
                "ignore_public_acls": true,
                "restrict_public_buckets": true,
            }),
        )
        .resource(
            &res("aws_s3_bucket_ownership_controls", r.name()),
            json!({"bucket": r.id(), "rule": {"object_ownership": "BucketOwnerEnforced"}}),
        )
        .resource(
            &res("aws_s3_bucket_versioning", r.name()),
            json!({
                "bucket": r.id(),
                "versioning_configuration": {"status": if versioning { "Enabled" } else { "Suspended" }},
            }),
        )
        .resource(
            &res("aws_s3_bucket_server_side_encryption_configuration", r.name()),
            json!({
                "bucket": r.id(),
                "rule": [{
                    "apply_server_side_encryption_by_default": encryption,
                    "bucket_key_enabled": !is_logs,
                }],
            }),
        )
        .resource(
            &res("aws_s3_bucket_lifecycle_configuration", r.name()),
            json!({"bucket": r.id(), "rule": [rule]}),
        );
    if let Some(b) = b.filter(|b| !b.cors.is_empty()) {
        m.file("buckets").resource(
            &res("aws_s3_bucket_cors_configuration", r.name()),
            json!({"bucket": r.id(), "cors_rule": crate::backend::bucket_cors::rules(b)}),
        );
    }
}

fn deny_insecure_transport(r: &Ref) -> Json {
    json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [r.arn(), tpl!(r.arn(), "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    })
}

/// Statements letting the load balancer and S3 server access logging write their prefixes.
fn log_delivery(ctx: &Ctx, m: &mut Module, r: &Ref, sources: &[Ref]) -> Vec<Json> {
    let account = ctx.account_id();
    let lb_objects = tpl!(r.arn(), "/", LB_LOG_PREFIX, "/AWSLogs/", account, "/*");
    let mut out = vec![json!({
        "Sid": "ElbLogDeliveryService",
        "Effect": "Allow",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": &lb_objects,
    })];
    if !REGIONS_WITHOUT_ELB_ACCOUNT.contains(&ctx.region.as_str()) {
        let elb = data("aws_elb_service_account", "main");
        m.file("buckets").resource(&elb, json!({}));
        out.push(json!({
            "Sid": "ElbLogDeliveryAccount",
            "Effect": "Allow",
            "Principal": {"AWS": elb.arn()},
            "Action": "s3:PutObject",
            "Resource": lb_objects,
        }));
    }
    if !sources.is_empty() {
        out.push(json!({
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": tpl!(r.arn(), "/", S3_LOG_PREFIX, "/*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": sources.iter().map(Ref::arn).collect::<Vec<_>>()},
                "StringEquals": {"aws:SourceAccount": account},
            },
        }));
    }
    out
}
