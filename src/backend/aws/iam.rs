//! IAM policy documents as JSON strings built with serde (never spliced text); references
//! inside them are interpolation markers that the renderer turns into `${…}`.

use crate::json;
use crate::terraform::Json;

/// A policy document with the given statements.
pub fn policy(statements: Vec<Json>) -> String {
    json!({"Version": "2012-10-17", "Statement": (statements)}).to_compact_string()
}

/// A trust policy letting an AWS service assume the role.
pub fn assume_role(service: &str) -> String {
    policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    })])
}
