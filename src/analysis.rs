//! What validation established about a blueprint for one provider: the [`Validated`]
//! witness every back-end requires, and what it resolves (platform, versions, sizes).
//!
//! It sits below `validate`, `k8s` and `backend` so that all three can name it: `validate`
//! makes it (and runs the manifest checks of `k8s` on it), the others read it.

use crate::blueprint::Loaded;
use crate::blueprint::types::{Blueprint, Platform, Sizes};
use crate::catalog::{Catalog, Provider, SizeKind};

/// Proof that a blueprint passed every check for `provider`. Only `crate::validate::validate` makes one.
#[derive(Debug)]
#[non_exhaustive]
pub struct Validated<'a> {
    pub loaded: &'a Loaded,
    pub bp: &'a Blueprint,
    pub env: &'a str,
    pub provider: Provider,
    pub catalog: &'static Catalog,
}

impl Validated<'_> {
    /// The cluster's platform as this provider realises it (EKS blueprints run on DOKS when
    /// synthesized for DigitalOcean, on an existing cluster for `kubernetes`).
    pub fn platform(&self) -> Option<Platform> {
        let p = self.bp.cluster.as_ref()?.platform;
        Some(match (self.provider, p) {
            (Provider::Digitalocean, Platform::Eks | Platform::EksFargate) => Platform::Doks,
            (Provider::Kubernetes, _) => Platform::Existing,
            (_, p) => p,
        })
    }

    /// The blueprint's version of `what` when it gives one, else this provider's catalog
    /// default (`kubernetes`, `postgres`, `redis`, …).
    pub fn version(&self, given: Option<&str>, what: &str) -> String {
        given
            .or_else(|| self.catalog.default_version(what))
            .unwrap_or_default()
            .to_string()
    }

    /// Resolve a component's size for this provider; validation already proved it resolves.
    pub fn size(&self, kind: SizeKind, size: Option<&str>, sizes: &Sizes) -> String {
        resolve_size(self.provider, self.catalog, kind, size, sizes).unwrap_or_default()
    }
}

/// A component's size for `provider`: the exact `sizes.<provider>` when given, else the
/// portable class looked up in the catalog.
pub(crate) fn resolve_size(
    provider: Provider,
    catalog: &Catalog,
    kind: SizeKind,
    size: Option<&str>,
    sizes: &Sizes,
) -> Result<String, String> {
    let exact = match provider {
        Provider::Aws => sizes.aws.as_deref(),
        Provider::Digitalocean => sizes.digitalocean.as_deref(),
        Provider::Kubernetes => None,
    };
    if let Some(e) = exact {
        return Ok(e.to_string());
    }
    match size {
        Some(s) => catalog.resolve(kind, s),
        None => Err("no size given".into()),
    }
}
