//! Routes behind a load balancer (ECS): every `routes[].host` must be one the HTTPS
//! listener's certificate covers (else browsers refuse the TLS handshake before any rule is
//! reached), and no two services may claim the same host and path (the load balancer would
//! send all of it to one of them, silently).

use std::collections::BTreeMap;

use super::Checker;
use crate::blueprint::types::Blueprint;

/// `name` is covered by a certificate name: equal, or one label under a `*.` wildcard.
pub(super) fn covers(cert_name: &str, host: &str) -> bool {
    let (c, h) = (cert_name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match c.strip_prefix("*.") {
        Some(parent) => h
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => c == h,
    }
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    // Kubernetes ingresses check hosts against `ingress.hosts` (references.rs).
    if bp.ingress.is_some() {
        return;
    }
    let Some(lb) = &bp.load_balancer else {
        return;
    };
    let mut claimed: BTreeMap<(Option<String>, String), String> = BTreeMap::new();
    for (i, s) in bp.services.iter().enumerate() {
        for (j, r) in s.routes.iter().enumerate() {
            let path = format!("services[{i}].routes[{j}]");
            if let (Some(host), Some(domain)) = (&r.host, &lb.certificate.domain) {
                let names: Vec<&str> = std::iter::once(domain.as_str())
                    .chain(lb.certificate.alternative_names.iter().map(String::as_str))
                    .collect();
                if !names.iter().any(|n| covers(n, host)) {
                    c.error(
                        &format!("{path}.host"),
                        format!(
                            "host `{host}` is not covered by the load balancer's certificate (`{}`)",
                            names.join("`, `")
                        ),
                    )
                    .help = Some(format!(
                        "add `{host}` to `load_balancer.certificate.alternative_names`"
                    ));
                }
            }
            let key = (
                r.host.as_ref().map(|h| h.to_ascii_lowercase()),
                r.path.trim_end_matches(['/', '*']).to_string(),
            );
            if let Some(other) = claimed.get(&key)
                && *other != s.name
            {
                c.error(
                    &path,
                    format!(
                        "service `{other}` already routes path `{}`{} here",
                        r.path,
                        r.host
                            .as_ref()
                            .map(|h| format!(" on host `{h}`"))
                            .unwrap_or_default()
                    ),
                )
                .help = Some("give one of them another path or `host`".into());
            } else {
                claimed.insert(key, s.name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "api.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("Example.com", "example.COM"));
    }
}
