//! A bucket's CORS rules (`buckets[].cors`) as Terraform `cors_rule` blocks: S3's
//! `CORSRule` (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html>), which
//! `aws_s3_bucket_cors_configuration` and DigitalOcean's
//! `digitalocean_spaces_bucket_cors_configuration` take with the same fields.

use crate::blueprint::types::Bucket;
use crate::json;
use crate::terraform::Json;

/// The `cors_rule` blocks of a bucket's CORS configuration, for `aws_s3_bucket_cors_configuration`
/// and `digitalocean_spaces_bucket_cors_configuration` alike (both are S3's `CORSRule`).
pub fn rules(b: &Bucket) -> Vec<Json> {
    b.cors
        .iter()
        .map(|r| {
            let mut rule = json!({
                "allowed_origins": &r.allowed_origins,
                "allowed_methods": r.allowed_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            });
            if !r.allowed_headers.is_empty() {
                rule["allowed_headers"] = json!(&r.allowed_headers);
            }
            if !r.expose_headers.is_empty() {
                rule["expose_headers"] = json!(&r.expose_headers);
            }
            if let Some(s) = r.max_age_seconds {
                rule["max_age_seconds"] = json!(s);
            }
            rule
        })
        .collect()
}
