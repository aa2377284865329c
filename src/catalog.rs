//! Per-provider data shipped in `providers/`: portable size classes, default versions,
//! regions, and the provider versions the output pins. Embedded in the binary. Which
//! product versions the providers still create is the versions catalog: [`crate::releases`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

/// The back-ends infragen lowers a blueprint to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Provider {
    Aws,
    Digitalocean,
    Kubernetes,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Digitalocean, Provider::Kubernetes];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Digitalocean => "digitalocean",
            Provider::Kubernetes => "kubernetes",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Provider::Aws => "AWS",
            Provider::Digitalocean => "DigitalOcean",
            Provider::Kubernetes => "Kubernetes",
        }
    }

    pub fn catalog(self) -> &'static Catalog {
        // One lock per provider: a synth reads only its own provider's catalog, so the
        // others are never parsed.
        static CATALOGS: [OnceLock<Catalog>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        CATALOGS[self as usize].get_or_init(|| match self {
            Provider::Aws => parse(include_str!("../providers/aws.json"), "aws.json"),
            Provider::Digitalocean => parse(
                include_str!("../providers/digitalocean.json"),
                "digitalocean.json",
            ),
            Provider::Kubernetes => parse(
                include_str!("../providers/kubernetes.json"),
                "kubernetes.json",
            ),
        })
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a size names: the catalogs keep one class table per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeKind {
    Node,
    Database,
    Cache,
    Queue,
}

impl SizeKind {
    fn key(self) -> &'static str {
        match self {
            SizeKind::Node => "node",
            SizeKind::Database => "database",
            SizeKind::Cache => "cache",
            SizeKind::Queue => "queue",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Catalog {
    pub exact_size_hint: String,
    pub defaults: BTreeMap<String, String>,
    pub classes: BTreeMap<String, BTreeMap<String, String>>,
    pub size_prefixes: BTreeMap<String, Vec<String>>,
    pub regions: Vec<String>,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> T {
    // The catalogs are part of the binary and covered by tests; a parse failure is a build
    // defect, not a user error.
    serde_json::from_str(text).unwrap_or_else(|e| panic!("providers/{name} is invalid: {e}"))
}

impl Catalog {
    /// The default version of `what` (`kubernetes`, `postgres`, `redis`, …).
    pub fn default_version(&self, what: &str) -> Option<&str> {
        self.defaults.get(what).map(String::as_str)
    }

    /// The portable class names for a kind, for messages.
    pub fn class_names(&self, kind: SizeKind) -> Vec<&str> {
        self.classes
            .get(kind.key())
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Resolve a blueprint size: a portable class maps through the catalog, an exact size for
    /// this provider passes through. `Err` carries the reason.
    pub fn resolve(&self, kind: SizeKind, size: &str) -> Result<String, String> {
        if let Some(exact) = self.classes.get(kind.key()).and_then(|m| m.get(size)) {
            return Ok(exact.clone());
        }
        let prefixes = self
            .size_prefixes
            .get(kind.key())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if prefixes.iter().any(|p| size.starts_with(p.as_str())) {
            return Ok(size.to_string());
        }
        Err(format!(
            "`{size}` is neither a portable {} class nor {}",
            kind.key(),
            self.exact_size_hint
        ))
    }
}

/// Provider versions pinned in generated `required_providers`.
#[derive(Debug, Deserialize)]
pub struct Versions {
    pub terraform: String,
    pub providers: BTreeMap<String, ProviderPin>,
}

#[derive(Debug, Deserialize)]
pub struct ProviderPin {
    pub source: String,
    pub version: String,
}

pub fn versions() -> &'static Versions {
    static V: OnceLock<Versions> = OnceLock::new();
    V.get_or_init(|| parse(include_str!("../providers/versions.json"), "versions.json"))
}

/// Whether an EC2 instance type runs on AWS Graviton (64-bit Arm, `arm64`): Graviton
/// families end their generation with `g` (`t4g`, `m7g`, `c6gn`, `g5g`), and `a1` is the
/// first generation, before that convention ("Amazon EC2 instance type naming
/// conventions", EC2 instance types guide: `g` — AWS Graviton processors).
pub fn graviton(instance: &str) -> bool {
    let family = instance.split('.').next().unwrap_or_default();
    let series = family.trim_end_matches(|c: char| !c.is_ascii_digit());
    let series = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let suffix = family[series.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    suffix.starts_with('g') || series == "a"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_parse_and_resolve() {
        let aws = Provider::Aws.catalog();
        assert_eq!(aws.resolve(SizeKind::Node, "medium").unwrap(), "t3.medium");
        assert_eq!(aws.resolve(SizeKind::Node, "c5.large").unwrap(), "c5.large");
        assert!(aws.resolve(SizeKind::Node, "s-4vcpu-8gb").is_err());
        let doc = Provider::Digitalocean.catalog();
        assert_eq!(doc.resolve(SizeKind::Node, "large").unwrap(), "s-4vcpu-8gb");
        assert!(doc.resolve(SizeKind::Database, "db.t4g.medium").is_err());
        assert_eq!(versions().providers["aws"].version, "6.25.0");
        for p in Provider::ALL {
            assert!(p.catalog().default_version("kubernetes").is_some());
        }
    }
}
