//! What validation established about a blueprint for one provider: the [`Validated`]
//! witness every back-end requires, and what it resolves (platform, versions, sizes, where
//! each data service runs and which node pools may host it, who uses what, the warnings to
//! show). Back-ends and `k8s` read
//! these answers here rather than re-deriving them, so every reader agrees with validation.
//!
//! It sits below `semantic`, `k8s` and `backend` so that all three can name it: `semantic`
//! makes it (and runs the manifest checks of `k8s` on it), the others read it.

use std::collections::HashMap;

use crate::blueprint::Loaded;
use crate::blueprint::types::{
    Blueprint, Deployment, NodePool, Platform, Service, Sizes, TaintEffect,
};
use crate::catalog::{Catalog, Provider, SizeKind};
use crate::diagnostic::Note;

/// Proof that a blueprint passed every check for `provider`. Only `crate::semantic::analyze` makes one.
#[derive(Debug)]
#[non_exhaustive]
pub struct Validated<'a> {
    pub loaded: &'a Loaded,
    pub bp: &'a Blueprint,
    pub env: &'a str,
    pub provider: Provider,
    pub catalog: &'static Catalog,
    /// Warnings validation found that do not stop a synth (versions accepted with
    /// `allow_unsupported`, in extended support, retired upstream).
    pub warnings: Vec<Note>,
    /// Services (then jobs' pods) by the components they use, in blueprint order.
    users: HashMap<&'a str, Vec<&'a Service>>,
}

/// The kinds of data service a blueprint declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Database,
    Cache,
    Queue,
}

/// Whether a data service of `kind` declared with `deployment` runs inside the cluster when
/// synthesized for `provider`: `in_cluster` ones always, and every one where the provider
/// has no managed service for it (the `kubernetes` provider has none, DigitalOcean has no
/// managed RabbitMQ).
pub fn runs_in_cluster(provider: Provider, kind: DataKind, deployment: Deployment) -> bool {
    deployment == Deployment::InCluster
        || provider == Provider::Kubernetes
        || (provider == Provider::Digitalocean && kind == DataKind::Queue)
}

/// Whether an in-cluster data service's pod — and so its volume — may land on `pool` when
/// synthesized for `provider`: one pinned to it (`in_cluster.node_pool`), or one pinned
/// nowhere, which the scheduler may put on any pool without a taint it does not tolerate
/// (the data pods tolerate only their own pool's, `k8s::workload::schedule_on`).
pub fn hosts_data(bp: &Blueprint, provider: Provider, pool: &NodePool) -> bool {
    let untainted = pool
        .taints
        .iter()
        .all(|t| t.effect == TaintEffect::PreferNoSchedule);
    let data = (bp.databases.iter())
        .map(|d| (DataKind::Database, d.deployment, &d.in_cluster))
        .chain(
            bp.caches
                .iter()
                .map(|c| (DataKind::Cache, c.deployment, &c.in_cluster)),
        )
        .chain(
            bp.brokers()
                .map(|q| (DataKind::Queue, q.deployment, &q.in_cluster)),
        );
    data.filter(|(kind, deployment, _)| runs_in_cluster(provider, *kind, *deployment))
        .any(|(_, _, ic)| match ic.node_pool.as_deref() {
            Some(name) => name == pool.name,
            None => untainted,
        })
}

impl<'a> Validated<'a> {
    /// The analysis of `loaded` for `provider`; `crate::semantic::analyze` makes it once
    /// every check passed.
    pub(crate) fn new(loaded: &'a Loaded, provider: Provider, warnings: Vec<Note>) -> Self {
        let bp = &loaded.blueprint;
        let mut users: HashMap<&'a str, Vec<&'a Service>> = HashMap::new();
        // Services and jobs alike: a job's pod uses components as a service's does.
        for s in bp.workloads() {
            let mut seen: Vec<&str> = Vec::new();
            for u in &s.uses {
                // One client per workload (`semantic` refuses a component listed twice).
                if !seen.contains(&u.as_str()) {
                    seen.push(u.as_str());
                    users.entry(u.as_str()).or_default().push(s);
                }
            }
        }
        Validated {
            loaded,
            bp,
            env: &loaded.env,
            provider,
            catalog: provider.catalog(),
            warnings,
            users,
        }
    }

    /// The services and jobs (their pods) that use component `name`, in blueprint order,
    /// each once.
    pub fn users_of(&self, name: &str) -> &[&'a Service] {
        self.users.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether a data service runs inside the cluster here (see [`runs_in_cluster`]).
    pub fn in_cluster(&self, kind: DataKind, deployment: Deployment) -> bool {
        runs_in_cluster(self.provider, kind, deployment)
    }

    /// The cluster's platform as this provider realises it (EKS blueprints run on DOKS when
    /// synthesized for DigitalOcean, on an existing cluster for `kubernetes`).
    pub fn platform(&self) -> Option<Platform> {
        self.bp.platform_on(self.provider)
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
        // A provider that names its sizes refuses an exact one it does not create.
        return match &catalog.sizes {
            Some(_) => catalog.exact(kind, e),
            None => Ok(e.to_string()),
        };
    }
    match size {
        Some(s) => catalog.resolve(kind, s),
        None => Err("no size given".into()),
    }
}
