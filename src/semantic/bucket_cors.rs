//! `buckets[].cors`: rules S3's `PutBucketCors` (and Spaces, which implements it) accepts
//! and a browser can match.
//!
//! - At most 100 rules ("You can add up to 100 rules to the configuration",
//!   <https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html>), each
//!   with an origin and a method (`AllowedOrigins`, `AllowedMethods` are required,
//!   <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html>).
//! - An origin is what a browser sends in `Origin` — `scheme://host[:port]`, lower case, no
//!   path (RFC 6454 §6.1) — so `https://app.example.com/` or `…/upload` never matches. It
//!   holds at most one `*` ("Each AllowedOrigin string can contain at most one * wildcard
//!   character, such as http://*.example.com", ManageCorsUsing); `*` alone is any origin.
//! - An allowed header holds at most one `*` too (same page, `AllowedHeaders`); an exposed
//!   header is a name S3 matches literally, so `*` exposes nothing.
//! - Spaces takes a `*` only at the start of the host name ("optionally include a wildcard
//!   character (*) at the start of the hostname. For example, https://*.example.com",
//!   <https://docs.digitalocean.com/products/spaces/how-to/configure-cors/>).
//! - The methods are an enum of the S3 set at the type (`CorsMethod`).

use super::Checker;
use crate::blueprint::types::Blueprint;
use crate::catalog::Provider;

/// Rules S3 takes in one configuration.
const MAX_RULES: usize = 100;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, b) in bp.buckets.iter().enumerate() {
        if b.cors.len() > MAX_RULES {
            c.error(
                &format!("buckets[{i}].cors"),
                format!(
                    "{} CORS rules; S3 and Spaces take at most {MAX_RULES}",
                    b.cors.len()
                ),
            )
            .help = Some("list several origins in one rule".into());
        }
        for (j, r) in b.cors.iter().enumerate() {
            let at = format!("buckets[{i}].cors[{j}]");
            if r.allowed_origins.is_empty() {
                c.error(
                    &format!("{at}.allowed_origins"),
                    "a CORS rule needs at least one origin",
                )
                .expected = Some("e.g. `[https://app.example.com]`".into());
            }
            if r.allowed_methods.is_empty() {
                c.error(
                    &format!("{at}.allowed_methods"),
                    "a CORS rule needs at least one method",
                )
                .expected = Some("e.g. `[GET, PUT]`".into());
            }
            // `MaxAgeSeconds` is an Integer (32-bit signed) in the S3 API.
            if let Some(s) = r.max_age_seconds
                && s > i32::MAX as u32
            {
                c.error(
                    &format!("{at}.max_age_seconds"),
                    format!("{s} seconds is more than the S3 API's integer holds"),
                )
                .expected = Some(
                    "seconds up to 2147483647; browsers cache a preflight at most a day (Firefox) or two hours (Chromium) anyway, e.g. `3000`"
                        .into(),
                );
            }
            for (k, o) in r.allowed_origins.iter().enumerate() {
                if let Err((why, fix)) = origin(o) {
                    let d = c.error(
                        &format!("{at}.allowed_origins[{k}]"),
                        format!("`{o}` is no origin a browser sends: {why}"),
                    );
                    d.expected = Some(
                        "`scheme://host[:port]` with at most one `*` (`https://*.example.com`), or `*`"
                            .into(),
                    );
                    d.help = fix.map(|f| format!("write `{f}`"));
                } else if c.provider == Provider::Digitalocean
                    && o != "*"
                    && o.contains('*')
                    && !o
                        .split_once("://")
                        .is_some_and(|(_, h)| h.starts_with("*."))
                {
                    c.error(
                        &format!("{at}.allowed_origins[{k}]"),
                        format!("`{o}`: Spaces takes a `*` only at the start of the host name"),
                    )
                    .expected = Some(
                        "`https://*.example.com`, an exact origin, or `*` (DigitalOcean: \"optionally include a wildcard character (*) at the start of the hostname\")"
                            .into(),
                    );
                }
            }
            for (k, h) in r.allowed_headers.iter().enumerate() {
                if !header_name(h, 1) {
                    c.error(
                        &format!("{at}.allowed_headers[{k}]"),
                        format!("`{h}` is not a header name"),
                    )
                    .expected = Some(
                        "a header name (letters, digits, `-`) with at most one `*`, e.g. `x-amz-*`, or `*`"
                            .into(),
                    );
                }
            }
            for (k, h) in r.expose_headers.iter().enumerate() {
                if !header_name(h, 0) {
                    let d = c.error(
                        &format!("{at}.expose_headers[{k}]"),
                        format!("`{h}` is not a header name S3 can expose"),
                    );
                    d.expected = Some("a header name, e.g. `ETag`".into());
                    if h.contains('*') {
                        d.help = Some(
                            "S3 and Spaces match exposed headers literally: list each one (`ETag`, `x-amz-version-id`)"
                                .into(),
                        );
                    }
                }
            }
        }
    }
}

/// Whether `h` is a header name (RFC 9110 token characters that header names use) holding at
/// most `stars` `*`.
fn header_name(h: &str, stars: usize) -> bool {
    !h.is_empty()
        && h.matches('*').count() <= stars
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.*".contains(&b))
}

/// Whether `o` is an origin a browser sends (or `*`): `Err((why, a corrected spelling))`.
fn origin(o: &str) -> Result<(), (&'static str, Option<String>)> {
    if o == "*" {
        return Ok(());
    }
    if o.matches('*').count() > 1 {
        return Err(("S3 and Spaces take one `*` per origin", None));
    }
    let Some((scheme, rest)) = o.split_once("://") else {
        return Err((
            "it has no scheme",
            Some(format!("https://{}", o.trim_end_matches('/'))),
        ));
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    if !scheme_ok {
        return Err(("its scheme is not a lower-case URL scheme", None));
    }
    if let Some(at) = rest.find(['/', '?', '#']) {
        return Err((
            "an origin has no path, query or trailing `/`",
            Some(format!("{scheme}://{}", &rest[..at])),
        ));
    }
    if rest.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err((
            "browsers send it in lower case",
            Some(o.to_ascii_lowercase()),
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err(("its port is not a number from 1 to 65535", None));
    }
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.*".contains(&b));
    if !host_ok {
        return Err(("its host is not a host name", None));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_as_browsers_send_them() {
        for ok in [
            "*",
            "https://app.example.com",
            "https://*.example.com",
            "http://localhost:3000",
            "capacitor://localhost",
        ] {
            assert_eq!(origin(ok), Ok(()), "{ok}");
        }
        let fix = |o: &str| origin(o).unwrap_err().1;
        assert_eq!(
            fix("https://app.example.com/"),
            Some("https://app.example.com".into())
        );
        assert_eq!(
            fix("app.example.com"),
            Some("https://app.example.com".into())
        );
        assert_eq!(
            fix("https://App.Example.com"),
            Some("https://app.example.com".into())
        );
        assert!(origin("https://*.*.example.com").is_err());
        assert!(origin("https://example.com:99999").is_err());
        assert!(origin("https://").is_err());
        assert!(header_name("x-amz-*", 1));
        assert!(!header_name("x-*-*", 1));
        assert!(!header_name("*", 0));
        assert!(header_name("ETag", 0));
    }
}
