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
    /// Where a provider's exact sizes follow a naming scheme only (AWS): the prefixes an
    /// exact size may start with. A provider with a dated [`SizeTable`] names its sizes.
    #[serde(default)]
    pub size_prefixes: BTreeMap<String, Vec<String>>,
    /// The exact sizes the provider creates, dated (DigitalOcean).
    #[serde(default)]
    pub sizes: Option<SizeTable>,
    pub regions: Vec<String>,
}

/// The exact sizes a provider creates, as of a date, with their shapes: the one lookup
/// behind every check that needs a size's vCPUs or memory (DOKS node capacity, a managed
/// PostgreSQL's connection limit, standby nodes). A size it does not hold has no shape:
/// nothing is guessed from its name.
#[derive(Debug, Deserialize)]
pub struct SizeTable {
    pub as_of: String,
    pub sources: Vec<String>,
    /// The least memory (MiB) a Kubernetes node may have.
    pub doks_min_memory_mib: u32,
    /// Machine sizes: node pools (and queue classes).
    pub droplets: BTreeMap<String, Shape>,
    /// Managed database and cache plans.
    pub databases: BTreeMap<String, Shape>,
}

/// One size: vCPUs and memory (MiB) where known, and for a managed database plan the
/// engines it is offered for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    #[serde(default)]
    pub vcpu: Option<u32>,
    #[serde(default)]
    pub memory_mib: Option<u32>,
    #[serde(default)]
    pub engines: Vec<String>,
}

impl SizeTable {
    /// The table a kind's sizes are in.
    pub fn of(&self, kind: SizeKind) -> &BTreeMap<String, Shape> {
        match kind {
            SizeKind::Node | SizeKind::Queue => &self.droplets,
            SizeKind::Database | SizeKind::Cache => &self.databases,
        }
    }

    /// vCPUs and memory (MiB) of `slug`, machine or database plan, when both are known.
    pub fn shape(&self, slug: &str) -> Option<(u32, u32)> {
        let s = self
            .droplets
            .get(slug)
            .or_else(|| self.databases.get(slug))?;
        Some((s.vcpu?, s.memory_mib?))
    }

    /// The sizes of `kind` (those offered for `engine`, when given) nearest to `slug` by
    /// spelling, at most `n`: what a made-up or mistyped slug most likely meant.
    pub fn nearest(&self, kind: SizeKind, engine: Option<&str>, slug: &str, n: usize) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .of(kind)
            .iter()
            .filter(|(_, s)| engine.is_none_or(|e| s.engines.iter().any(|x| x == e)))
            .map(|(k, _)| k.as_str())
            .collect();
        all.sort_by_key(|c| (strsim::levenshtein(c, slug), *c));
        all.truncate(n);
        all
    }
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
        self.exact(kind, size)
    }

    /// An exact size for this provider: one its [`SizeTable`] holds, else one starting with
    /// an exact-size prefix. `Err` carries the reason.
    pub fn exact(&self, kind: SizeKind, size: &str) -> Result<String, String> {
        if let Some(table) = &self.sizes {
            if table.of(kind).contains_key(size) {
                return Ok(size.to_string());
            }
            return Err(format!(
                "`{size}` is neither a portable {} class nor a size {} (catalog as of {})",
                kind.key(),
                self.exact_size_hint,
                table.as_of
            ));
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

    /// Every DigitalOcean class names a size of the catalog with a known shape, offered
    /// where the class is used: a node class a DOKS node, a database class every managed
    /// engine, a cache class Valkey.
    #[test]
    fn digitalocean_classes_are_in_the_size_catalog() {
        let doc = Provider::Digitalocean.catalog();
        let table = doc.sizes.as_ref().expect("a size table");
        let engines: [(SizeKind, &[&str]); 4] = [
            (SizeKind::Node, &[]),
            (SizeKind::Queue, &[]),
            (SizeKind::Database, &["pg", "mysql", "mongodb"]),
            (SizeKind::Cache, &["valkey"]),
        ];
        for (kind, engines) in engines {
            for class in doc.class_names(kind) {
                let slug = doc.resolve(kind, class).unwrap();
                let shape = &table.of(kind)[&slug];
                assert!(table.shape(&slug).is_some(), "{slug}");
                for e in engines {
                    assert!(shape.engines.iter().any(|x| x == e), "{slug} for {e}");
                }
                if kind == SizeKind::Node {
                    assert!(
                        shape.memory_mib.unwrap() >= table.doks_min_memory_mib,
                        "{slug}"
                    );
                }
            }
        }
        // Shapes come from the catalog, machine and database plans alike.
        assert_eq!(table.shape("c-2"), Some((2, 4096)));
        assert_eq!(table.shape("db-s-6vcpu-16gb"), Some((6, 16384)));
        assert_eq!(table.shape("gpu-h100x1-80gb"), None);
        assert_eq!(table.shape("s-4vcpu-4194304gb"), None);
    }

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
        // DigitalOcean names its sizes: a slug of the right prefix is not enough.
        assert!(doc.resolve(SizeKind::Node, "s-4vcpu-4194304gb").is_err());
        assert!(doc.resolve(SizeKind::Database, "db-s-3vcpu-7gb").is_err());
        assert!(doc.resolve(SizeKind::Database, "s-4vcpu-8gb").is_err());
        assert_eq!(
            doc.resolve(SizeKind::Database, "db-s-4vcpu-8gb").unwrap(),
            "db-s-4vcpu-8gb"
        );
        for p in Provider::ALL {
            assert!(p.catalog().default_version("kubernetes").is_some());
        }
    }
}
