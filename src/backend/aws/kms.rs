//! Customer-managed KMS keys: rotation on, a 30-day deletion window, and an explicit key
//! policy with no wildcard principal (CKV_AWS_7, CKV_AWS_33, CKV2_AWS_64).

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::iam::policy;
use crate::terraform::{Module, res};

/// The key policy statement that keeps the account in control of a key.
pub fn account_admin(ctx: &Ctx) -> Json {
    json!({
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": tpl!("arn:aws:iam::", ctx.account_id(), ":root")},
        "Action": "kms:*",
        "Resource": "*",
    })
}

/// A key named `alias/<prefix>-<purpose>` with the given extra statements.
pub fn key(ctx: &Ctx, m: &mut Module, purpose: &str, description: &str, extra: Vec<Json>) {
    key_after(ctx, m, purpose, description, extra, &[]);
}

/// [`key`], created only after `depends_on`: KMS rejects a key policy that names a principal
/// which does not exist yet (MalformedPolicyDocumentException), so the principals the extra
/// statements name must be created first.
pub fn key_after(
    ctx: &Ctx,
    m: &mut Module,
    purpose: &str,
    description: &str,
    extra: Vec<Json>,
    depends_on: &[String],
) {
    let key = res("aws_kms_key", purpose);
    let mut statements = vec![account_admin(ctx)];
    statements.extend(extra);
    let mut body = json!({
        "description": description,
        "enable_key_rotation": true,
        "deletion_window_in_days": 30,
        "policy": policy(statements),
    });
    if !depends_on.is_empty() {
        body["depends_on"] = json!(depends_on);
    }
    m.file("kms").resource(&key, body).resource(
        &res("aws_kms_alias", purpose),
        json!({
            "name": format!("alias/{}-{purpose}", ctx.prefix),
            "target_key_id": key.attr("key_id"),
        }),
    );
}

/// The key for CloudWatch log groups; the logs service may use it only for this account's
/// log groups in this region.
pub fn logs_key(ctx: &Ctx, m: &mut Module) {
    let region = &ctx.region;
    key(
        ctx,
        m,
        "logs",
        &format!("CloudWatch Logs encryption for {}", ctx.prefix),
        vec![json!({
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": format!("logs.{region}.amazonaws.com")},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": tpl!("arn:aws:logs:", region, ":", ctx.account_id(), ":log-group:*"),
            }},
        })],
    );
}
