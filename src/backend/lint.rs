//! Version helpers shared by the back-ends. The chart rules that lived here (ingress-nginx
//! retired, cert-manager out of support) are judged against the versions catalog with every
//! other version: `crate::semantic::versions`.

/// `(major, minor)` of a version such as `1.33.6-do.0`, `1.28`, `v1.13.3` or `4.8.3`.
pub fn minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}
