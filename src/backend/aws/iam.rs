//! IAM policy documents as JSON string values built as typed trees (never spliced text); references
//! inside them are interpolation markers that the renderer turns into `${…}`.

use crate::json;
use crate::terraform::Json;

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
