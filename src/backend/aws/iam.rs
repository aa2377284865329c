//! IAM policy documents as JSON string values built as typed trees (never spliced text);
//! references inside them are typed templates (`Expr`), which the renderer keeps.

use crate::json;
use crate::terraform::{Expr, Json};

/// A policy document with the given statements, as the string value a `policy` argument
/// takes.
pub fn policy(statements: Vec<Json>) -> Json {
    Json::encoded(json!({"Version": "2012-10-17", "Statement": (statements)}))
}

/// A trust policy letting an AWS service assume the role.
pub fn assume_role(service: &str) -> Json {
    policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    })])
}

/// `kms:Decrypt` on customer-managed keys, only when Secrets Manager or SSM Parameter Store
/// asks on the caller's behalf (`kms:ViaService`): one statement per service that has keys.
/// `keys` pairs a key ARN with the service that uses it (`secretsmanager` or `ssm`); `sids`
/// names the two statements (Secrets Manager's, then SSM's).
pub fn decrypt_via<'a>(
    keys: impl IntoIterator<Item = &'a (Expr, &'a str)> + Clone,
    region: &str,
    sids: [&str; 2],
) -> Vec<Json> {
    let mut out = Vec::new();
    for (via, sid) in ["secretsmanager", "ssm"].into_iter().zip(sids) {
        let arns: Vec<&Expr> = keys
            .clone()
            .into_iter()
            .filter(|(_, v)| *v == via)
            .map(|(k, _)| k)
            .collect();
        if arns.is_empty() {
            continue;
        }
        out.push(json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": arns,
            "Condition": {"StringEquals": {"kms:ViaService": format!("{via}.{region}.amazonaws.com")}},
        }));
    }
    out
}
