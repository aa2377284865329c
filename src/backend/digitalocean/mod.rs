//! DigitalOcean back-end: raw `digitalocean/digitalocean` resources, one file per concept,
//! lined up with the AWS back-end's files. Root modules: `bootstrap` (account-level
//! resources shared by every environment: the Spaces state bucket and the container
//! registry), `infra` (VPC, cluster, data services) and `platform` (Helm releases inside the
//! cluster); Kubernetes objects go to `k8s/`, applied after `platform`.
//!
//! What DigitalOcean cannot express is reported in `Output.notes`, and the lint rules in
//! [`lint`] add warnings (never errors) for risky or outdated settings.

pub mod accounts;
mod alerts;
mod catalog;
mod cluster;
mod database;
mod egress;
mod grants;
mod lint;
mod network;
mod notify;
mod overlay;
mod platform;
mod registry;
mod spaces;
mod state;
mod uptime;

use crate::json;

use super::{common_tags, terraform_block};
use crate::analysis::{DataKind, Validated};
use crate::blueprint::types::{Blueprint, Cache, Database, Network, Platform};
use crate::naming::header;
use crate::output::Output;
use crate::terraform::{Module, Ref, res};

pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub region: String,
    /// `<name>-<env>`, the prefix of derived names.
    pub prefix: String,
    /// The platform the workloads run on (EKS blueprints run on DOKS here).
    pub platform: Option<Platform>,
    /// Parts lowered and notes, moved into the output at the end.
    log: super::Log,
}

impl<'a> Ctx<'a> {
    /// Record that a blueprint part (a top-level key) was lowered.
    pub fn mark(&self, part: &'static str) {
        self.log.mark(part);
    }

    /// Tell the user something the output cannot show (a setting DigitalOcean lacks, a
    /// mapping that changed a value).
    pub fn note(&self, message: impl Into<crate::diagnostic::Note>) {
        self.log.note(message);
    }

    /// A lint finding: shown as a warning, never an error.
    pub fn warn(&self, rule: &'static str, message: impl std::fmt::Display) {
        self.note(crate::diagnostic::Note::warning(rule, message));
    }

    /// The databases DigitalOcean runs as managed clusters (the others run in the
    /// cluster), as the analysis places them.
    pub fn managed_databases(&self) -> impl Iterator<Item = &'a Database> + use<'a> {
        let v = self.v;
        v.bp.databases
            .iter()
            .filter(move |d| !v.in_cluster(DataKind::Database, d.deployment))
    }

    /// The caches DigitalOcean runs as managed Valkey clusters.
    pub fn managed_caches(&self) -> impl Iterator<Item = &'a Cache> + use<'a> {
        let v = self.v;
        v.bp.caches
            .iter()
            .filter(move |c| !v.in_cluster(DataKind::Cache, c.deployment))
    }

    /// Whether the blueprint's cluster becomes a DOKS cluster.
    pub fn doks(&self) -> bool {
        self.platform == Some(Platform::Doks)
    }

    /// The cluster name (`cluster.name`, default `<name>-<env>`).
    pub fn cluster_name(&self) -> String {
        self.v
            .bp
            .cluster
            .as_ref()
            .and_then(|c| c.name.clone())
            .unwrap_or_else(|| self.prefix.clone())
    }

    pub fn cluster(&self) -> Ref {
        res("digitalocean_kubernetes_cluster", "main")
    }

    /// The VPC, when the blueprint has a network: the created one, or an existing one's data
    /// source (`network.existing`). Every consumer (`vpc_uuid`, `private_network_uuid`) names
    /// it through here.
    pub fn vpc(&self) -> Option<Ref> {
        self.v.bp.network.as_ref().map(network::vpc)
    }

    /// The blueprint's tags as DigitalOcean tags (`key:value`; tags are plain strings of
    /// letters, digits, `:`, `-` and `_`: `naming::digitalocean_tag`).
    pub fn tags(&self) -> Vec<String> {
        common_tags(self.v)
            .iter()
            .map(|(k, v)| crate::naming::digitalocean_tag(k, v))
            .collect()
    }

    /// Whether the environment is named like production (`production`, `prod`, `eu-prod`),
    /// where the lint rules expect high availability.
    pub fn production(&self) -> bool {
        production_named(self.v.env)
    }
}

pub fn synth(v: &Validated) -> Output {
    // Every blueprint part by name, without `..`: a new field does not compile until this
    // back-end says what it does with it. The concept files read their part through `ctx`;
    // each comment names the file (or the layer that handles it instead).
    let Blueprint {
        name: _,             // the prefix of derived names (naming::prefix), descriptions
        description: _,      // not written by DigitalOcean; `extra:` templates can read it
        tags: _,             // resource tags as `key:value` (Ctx::tags)
        providers,           // the region (below), the project (`project`), `nat` (egress.rs)
        state: _,            // state.rs: the Spaces backend and the `bootstrap` module
        network,             // network.rs, called from `terraform` with it
        cluster,             // cluster.rs (DOKS); the manifests below
        node_pools: _,       // cluster.rs: DOKS node pools
        fargate_profiles: _, // no Fargate here: backend::not_lowered notes them
        databases: _,        // database.rs (managed); in-cluster ones in the k8s manifests
        caches: _,           // database.rs (managed Valkey); in-cluster ones in the manifests
        queues: _,           // no managed broker: in the cluster, noted by database::unsupported
        tables: _,           // no key-value tables: noted by database::unsupported
        load_balancer: _,    // platform.rs: the ingress controller's load balancer
        ingress: _,          // the k8s manifests (platform::manifests)
        registry: _,         // registry.rs (DigitalOcean Container Registry)
        secrets: _,          // no secrets manager: noted by database::unsupported, preconditions
        services: _,         // the k8s manifests (platform::manifests)
        jobs: _,             // CronJobs in the k8s manifests (platform::manifests)
        kubernetes: _,       // the k8s manifests and platform.rs's charts
        observability: _, // notify: uptime.rs (public hosts), alerts.rs (databases, nodes); the rest noted by database::unsupported
        buckets: _,       // spaces.rs: Spaces buckets; their users' keys in platform.rs
        overrides: _,     // applied to the output after lowering (crate::escape)
        extra: _,         // rendered beside the output after lowering (crate::escape)
        environments: _,  // merged into this blueprint before validation (blueprint::overlay)
        per_provider: _,  // merged into this blueprint before validation (blueprint::overlay)
    } = v.bp;
    let region = providers
        .digitalocean
        .as_ref()
        .map(|d| d.region.clone())
        .unwrap_or_default();
    let ctx = Ctx {
        v,
        region,
        prefix: crate::naming::prefix(v),
        platform: v.platform(),
        log: super::Log::default(),
    };
    let mut out = Output::default();
    // The platform module and the manifests exist only for a DOKS cluster of this blueprint.
    let shared = (ctx.doks() && cluster.is_some()).then(|| platform::Shared::new(&ctx));
    terraform(&ctx, network.as_ref(), shared.as_ref(), &mut out);
    if let Some(shared) = &shared {
        platform::manifests(&ctx, shared, &mut out);
    }
    lint::check(&ctx);
    tag_notes(&ctx);
    // DigitalOcean has no key-value table service (DynamoDB).
    for n in super::uses_absent(
        v.bp,
        crate::catalog::Provider::Digitalocean,
        &[crate::wiring::Kind::Table],
    ) {
        ctx.note(n);
    }
    ctx.log.finish(&mut out);
    out
}

/// The tags `Ctx::tags` wrote otherwise than the blueprint gives them: DigitalOcean tags
/// take ASCII letters, digits, `:`, `-` and `_` only (`naming::digitalocean_tag`), so a
/// value such as `ops@example.com` is written `ops-example-com` — said, never silently.
fn tag_notes(ctx: &Ctx) {
    let rewritten: Vec<String> = common_tags(ctx.v)
        .iter()
        .filter_map(|(k, v)| {
            let tag = crate::naming::digitalocean_tag(k, v);
            (tag != format!("{k}:{v}")).then(|| format!("`{k}: {v}` as `{tag}`"))
        })
        .collect();
    if !rewritten.is_empty() {
        ctx.note(format!(
            "tags: DigitalOcean tags hold letters, digits, `:`, `-` and `_` only; written {}",
            rewritten.join(", ")
        ));
    }
}

/// Whether an environment's name says production (`prod`, `production`, `prd` as a word).
pub fn production_named(env: &str) -> bool {
    env.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "prod" | "production" | "prd"))
}

/// The Terraform modules (`infra`, `platform`, `bootstrap`).
fn terraform(
    ctx: &Ctx,
    network: Option<&Network>,
    shared: Option<&platform::Shared>,
    out: &mut Output,
) {
    let v = ctx.v;
    let mut infra = Module::new(header(v));
    infra
        .file("providers")
        .terraform(terraform_block(
            &["digitalocean"],
            state::backend(ctx, "infra"),
        ))
        .provider("digitalocean", json!({}));
    if let Some(net) = network {
        network::lower(ctx, net, &mut infra);
        egress::lower(ctx, &mut infra);
        ctx.mark("network");
    }
    // Account-level resources (the state bucket, the registry) go to `bootstrap` when there
    // is one, so every environment shares them.
    let mut bootstrap = state::bootstrap(ctx);
    registry::lower(ctx, &mut infra, bootstrap.as_mut());
    cluster::lower(ctx, &mut infra);
    database::lower(ctx, &mut infra);
    database::unsupported(ctx);
    spaces::lower(ctx, &mut infra);
    // After the databases and the cluster, whose ids the alerts name.
    let watched = alerts::lower(ctx, &mut infra);
    uptime::lower(ctx, &mut infra, watched);
    project(ctx, &mut infra);
    out.add_module("infra", infra);
    if let Some(p) = shared.and_then(|s| platform::module(ctx, s)) {
        out.add_module("platform", p);
    }
    if let Some(b) = bootstrap {
        out.add_module("bootstrap", b);
        ctx.mark("state");
    }
}

/// `providers.digitalocean.project`: a `digitalocean_project` grouping the cluster and the
/// managed databases of this environment.
fn project(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    let Some(name) = bp
        .providers
        .digitalocean
        .as_ref()
        .and_then(|d| d.project.clone())
    else {
        return;
    };
    let mut urns = Vec::new();
    if ctx.doks() && bp.cluster.is_some() {
        urns.push(ctx.cluster().attr("urn"));
    }
    let managed = ctx
        .managed_databases()
        .map(|d| d.name.as_str())
        .chain(ctx.managed_caches().map(|c| c.name.as_str()));
    urns.extend(managed.map(|n| database::cluster_ref(n).attr("urn")));
    urns.extend(
        bp.buckets
            .iter()
            .map(|b| spaces::bucket(&b.name).attr("urn")),
    );
    let environment = if ctx.production() {
        "Production"
    } else if ctx.v.env.to_ascii_lowercase().starts_with("stag") {
        "Staging"
    } else {
        "Development"
    };
    m.file("project").resource(
        &res("digitalocean_project", "main"),
        json!({
            "name": name,
            "description": format!("{} {} (managed by infragen)", bp.name, ctx.v.env),
            "environment": environment,
            "resources": urns,
        }),
    );
}

#[cfg(test)]
mod tests;
