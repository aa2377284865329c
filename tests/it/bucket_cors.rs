//! `buckets[].cors`: a browser page uploading straight to the bucket with presigned URLs
//! gets through the preflight on AWS (S3) and DigitalOcean (Spaces), exactly from the
//! origins the blueprint lists, and can read the ETag a multipart upload needs. The
//! generated configuration is evaluated as S3 evaluates a preflight
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html#cors-eval-criteria>):
//! the first rule whose origin, method and every requested header match answers it.

use infragen::Provider;
use serde_json::Value;

use crate::support::{resources, root, synth};

/// `pattern` (at most one `*`) matches `text`, case-insensitively when `fold`.
fn wild(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t) = if fold {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_string(), text.to_string())
    };
    match p.split_once('*') {
        None => p == t,
        Some((a, b)) => t.len() >= a.len() + b.len() && t.starts_with(a) && t.ends_with(b),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The rule answering a preflight from `origin` for `method` with `headers`, if any.
fn preflight<'a>(
    rules: &'a [Value],
    origin: &str,
    method: &str,
    headers: &[&str],
) -> Option<&'a Value> {
    rules.iter().find(|r| {
        strings(&r["allowed_origins"])
            .iter()
            .any(|o| wild(o, origin, false))
            && strings(&r["allowed_methods"]).contains(&method)
            && headers.iter().all(|h| {
                strings(&r["allowed_headers"])
                    .iter()
                    .any(|a| wild(a, h, true))
            })
    })
}

/// The CORS rules of bucket `name`'s configuration in `infra`, empty without one.
fn rules(out: &infragen::Output, ty: &str, bucket_ref: &str) -> Vec<Value> {
    resources(out, "infra", ty)
        .into_iter()
        .filter(|c| c["bucket"] == bucket_ref)
        .flat_map(|c| c["cors_rule"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn browsers_upload_from_the_listed_origins_only() {
    let path = root().join("tests/fixtures/workloads/uploads-eks.yaml");
    for (provider, ty, bucket_ref) in [
        (
            Provider::Aws,
            "aws_s3_bucket_cors_configuration",
            "${aws_s3_bucket.media.id}",
        ),
        (
            Provider::Digitalocean,
            "digitalocean_spaces_bucket_cors_configuration",
            "${digitalocean_spaces_bucket.media.id}",
        ),
    ] {
        let out = synth(&path, provider, "production");
        let rules = rules(&out, ty, bucket_ref);
        // A part of a multipart upload: PUT with the headers the SDK signs.
        let part = preflight(
            &rules,
            "https://app.example.com",
            "PUT",
            &["Content-Type", "x-amz-checksum-crc32"],
        )
        .unwrap_or_else(|| panic!("{provider}: the app's upload is refused: {rules:?}"));
        assert!(
            strings(&part["expose_headers"]).contains(&"ETag"),
            "{provider}: the page cannot read the part's ETag"
        );
        assert!(
            preflight(&rules, "https://pr-12.preview.example.com", "PUT", &[]).is_some(),
            "{provider}: preview origins are refused"
        );
        for (origin, method) in [
            ("https://evil.example.net", "PUT"),
            ("http://app.example.com", "PUT"),
            ("https://app.example.com", "DELETE"),
        ] {
            assert!(
                preflight(&rules, origin, method, &[]).is_none(),
                "{provider}: {method} from {origin} is allowed"
            );
        }
        // Spaces needs the region of the bucket it configures.
        if provider == Provider::Digitalocean {
            let c = &resources(&out, "infra", ty)[0];
            assert_eq!(c["region"], "ams3");
        }
    }
}

#[test]
fn a_bucket_without_cors_answers_no_preflight() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/uploads-eks.yaml")).unwrap();
    // The same bucket, no `cors`.
    let start = text.find("    cors:").unwrap();
    let end = text.find("services:").unwrap();
    let text = [&text[..start], &text[end..]].concat();
    for (provider, bucket, cors) in [
        (
            Provider::Aws,
            "aws_s3_bucket",
            "aws_s3_bucket_cors_configuration",
        ),
        (
            Provider::Digitalocean,
            "digitalocean_spaces_bucket",
            "digitalocean_spaces_bucket_cors_configuration",
        ),
    ] {
        let out = infragen::synthesize("uploads.yaml", text.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{provider}: {d}"));
        assert_eq!(resources(&out, "infra", bucket).len(), 1, "{provider}");
        assert!(resources(&out, "infra", cors).is_empty(), "{provider}");
    }
}
