//! Lint rules for the charts a back-end installs into a cluster it creates (EKS and DOKS
//! platform modules). Findings are warnings shown by `synth` and `validate`, never errors.
//!
//! | rule | warns when |
//! |---|---|
//! | `ingress-nginx-retired` | the blueprint installs ingress-nginx (retired upstream, March 2026) |
//! | `cert-manager-unsupported` | the cert-manager chart is older than the supported minors |
//!
//! Dates come from `providers/charts.json` (`as_of` stands in for today).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::backend::helm;
use crate::blueprint::types::IngressClass;
use crate::validate::Validated;

#[derive(Debug, Deserialize)]
struct Charts {
    /// `YYYY-MM-DD`; ISO dates compare correctly as strings.
    as_of: String,
    ingress_nginx_retired: String,
    ingress_nginx_last_chart: String,
    /// Oldest cert-manager minor still supported upstream (`1.20`).
    cert_manager_oldest_supported: String,
}

fn charts() -> &'static Charts {
    static C: OnceLock<Charts> = OnceLock::new();
    C.get_or_init(|| {
        // Part of the binary and covered by tests: a parse failure is a build defect.
        serde_json::from_str(include_str!("../../providers/charts.json"))
            .unwrap_or_else(|e| panic!("providers/charts.json is invalid: {e}"))
    })
}

/// Check the charts of a back-end that installs them; `warn(rule, message)` reports.
pub(crate) fn check(v: &Validated, warn: &dyn Fn(&'static str, String)) {
    ingress_nginx(v, warn);
    cert_manager(v, warn);
}

fn ingress_nginx(v: &Validated, warn: &dyn Fn(&'static str, String)) {
    let l = charts();
    let Some(c) =
        v.bp.kubernetes
            .as_ref()
            .and_then(|k| k.ingress_controller.as_ref())
    else {
        return;
    };
    if c.kind != IngressClass::Nginx || l.as_of < l.ingress_nginx_retired {
        return;
    }
    let chart = c
        .chart_version
        .clone()
        .unwrap_or_else(|| helm::INGRESS_NGINX_CHART.into());
    let behind = match (triple(&chart), triple(&l.ingress_nginx_last_chart)) {
        (Some(a), Some(b)) if a < b => {
            "; the pinned chart also lacks the fixes released up to it".to_string()
        }
        _ => String::new(),
    };
    warn(
        "ingress-nginx-retired",
        format!(
            "ingress-nginx (chart {chart}) is retired upstream: best-effort maintenance ended in March 2026, with no further releases or security fixes (last chart {}){behind}; plan a move to a Gateway API implementation",
            l.ingress_nginx_last_chart
        ),
    );
}

fn cert_manager(v: &Validated, warn: &dyn Fn(&'static str, String)) {
    let l = charts();
    let Some(k) = v.bp.kubernetes.as_ref() else {
        return;
    };
    if k.cert_manager.is_none() && k.issuers.is_empty() {
        return;
    }
    let version = k
        .cert_manager
        .as_ref()
        .and_then(|c| c.chart_version.clone())
        .unwrap_or_else(|| helm::CERT_MANAGER_CHART.into());
    if let (Some(v), Some(oldest)) = (minor(&version), minor(&l.cert_manager_oldest_supported))
        && v < oldest
    {
        warn(
            "cert-manager-unsupported",
            format!(
                "cert-manager {version} is out of support (cert-manager supports its two most recent minors, v{} and later as of {}); it installs CRDs through the deprecated `installCRDs` value",
                l.cert_manager_oldest_supported, l.as_of
            ),
        );
    }
}

/// `(major, minor)` of a version such as `1.33.6-do.0`, `1.28`, `v1.13.3` or `4.8.3`.
pub fn minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// `(major, minor, patch)`, a missing patch as 0.
pub fn triple(version: &str) -> Option<(u32, u32, u32)> {
    let (ma, mi) = minor(version)?;
    let patch = version
        .trim_start_matches('v')
        .split(['.', '-'])
        .nth(2)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Some((ma, mi, patch))
}

#[cfg(test)]
mod tests {
    #[test]
    fn chart_dates_parse() {
        let c = super::charts();
        assert_eq!(c.as_of.len(), 10);
        assert!(super::minor(&c.cert_manager_oldest_supported).is_some());
    }
}
