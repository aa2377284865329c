//! DigitalOcean-only data from `providers/digitalocean.json` (beside the portable size
//! classes the shared catalog reads): registry regions and the dates the lint rules compare
//! against. Embedded in the binary; `as_of` stands in for today so output is deterministic.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct DoCatalog {
    pub registry_regions: Vec<String>,
    pub nearest_registry_region: BTreeMap<String, String>,
    pub lint: Lint,
}

#[derive(Debug, Deserialize)]
pub struct Lint {
    /// `YYYY-MM-DD`; ISO dates compare correctly as strings.
    pub as_of: String,
    /// Kubernetes minor (`1.33`) → upstream end of life.
    pub kubernetes_end_of_life: BTreeMap<String, String>,
}

pub fn get() -> &'static DoCatalog {
    static C: OnceLock<DoCatalog> = OnceLock::new();
    C.get_or_init(|| {
        // Part of the binary and covered by tests: a parse failure is a build defect.
        serde_json::from_str(include_str!("../../../providers/digitalocean.json"))
            .unwrap_or_else(|e| panic!("providers/digitalocean.json is invalid: {e}"))
    })
}

pub use crate::backend::lint::minor;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses() {
        let c = get();
        assert!(c.registry_regions.contains(&"nyc3".to_string()));
        assert_eq!(c.lint.as_of.len(), 10);
        assert!(c.lint.kubernetes_end_of_life.contains_key("1.33"));
    }

    #[test]
    fn versions() {
        assert_eq!(minor("1.33.6-do.0"), Some((1, 33)));
        assert_eq!(minor("1.28"), Some((1, 28)));
        assert_eq!(minor("v1.13.3"), Some((1, 13)));
        assert_eq!(minor("latest"), None);
        assert_eq!(crate::backend::lint::triple("4.8.3"), Some((4, 8, 3)));
        assert_eq!(crate::backend::lint::triple("1.33"), Some((1, 33, 0)));
    }
}
