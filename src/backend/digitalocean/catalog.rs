//! DigitalOcean-only data from `providers/digitalocean.json` (beside the portable size
//! classes the shared catalog reads): registry regions. Embedded in the binary. The
//! Kubernetes minors DOKS offers are in the versions catalog ([`crate::releases`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct DoCatalog {
    pub registry_regions: Vec<String>,
    pub nearest_registry_region: BTreeMap<String, String>,
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
    }

    #[test]
    fn versions() {
        assert_eq!(minor("1.33.6-do.0"), Some((1, 33)));
        assert_eq!(minor("1.28"), Some((1, 28)));
        assert_eq!(minor("v1.13.3"), Some((1, 13)));
        assert_eq!(minor("latest"), None);
    }
}
