//! IAM policy documents as JSON strings built with serde (never spliced text); references
//! inside them are interpolation markers that the renderer turns into `${…}`.

use serde_json::{Value, json};

/// A policy document with the given statements.
pub fn policy(statements: Vec<Value>) -> String {
    serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap_or_default()
}

/// A trust policy letting an AWS service assume the role.
pub fn assume_role(service: &str) -> String {
    policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    })])
}
