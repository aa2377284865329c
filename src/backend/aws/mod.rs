//! AWS back-end: raw `hashicorp/aws` resources, one file per infrastructure concept.
//! Root modules: `bootstrap` (the state bucket, applied once with local state), `infra`
//! (cloud resources) and, for EKS, `platform` (Helm releases inside the cluster) and
//! `connections` (the External Secrets objects, planned once `platform` installed their CRDs);
//! Kubernetes objects go to `k8s/`.

pub mod accounts;
pub(crate) mod addon_pods;
mod buckets;
mod cache;
mod cluster;
mod cluster_autoscaler;
mod config_files;
mod connect;
mod data_alarms;
mod database;
mod ecs;
mod ecs_deployments;
mod edge;
mod eks_alarms;
mod endpoints;
mod external_secrets;
mod iam;
mod identity;
mod keda;
mod kms;
mod lint;
mod network;
mod observability;
mod peers;
mod platform;
mod queue;
mod quotas;
mod readiness;
mod registry;
mod scheduled;
mod secrets;
mod security;
mod service_accounts;
mod service_connect;
mod sidecars;
mod sqs;
mod state;
mod table;

use std::sync::Mutex;

use crate::json;
use crate::terraform::Json;

use super::{common_tags, terraform_block};
use crate::analysis::Validated;
use crate::blueprint::types::{Blueprint, Network, Platform, Service};
use crate::naming::header;
use crate::output::Output;
use crate::terraform::{Expr, Module, data};

/// What every AWS file needs to know.
pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub region: String,
    /// `<name>-<env>`, the prefix of every derived name.
    pub prefix: String,
    /// The platform the workloads run on, if the blueprint has a cluster.
    pub platform: Option<Platform>,
    /// Parts lowered and notes, moved into the output at the end.
    log: super::Log,
    /// Ingress rules waiting for their source security group (see `security::finish`).
    pending_rules: Mutex<Vec<security::PendingRule>>,
}

impl<'a> Ctx<'a> {
    /// The context of a synth of `v` (its region from `providers.aws`).
    pub fn new(v: &'a Validated<'a>) -> Self {
        let region =
            v.bp.providers
                .aws
                .as_ref()
                .map(|a| a.region.clone())
                .unwrap_or_default();
        Ctx {
            v,
            region,
            prefix: crate::naming::prefix(v),
            platform: v.platform(),
            log: super::Log::default(),
            pending_rules: Mutex::new(Vec::new()),
        }
    }

    /// The services that use component `name`, in blueprint order.
    pub fn users_of(&self, name: &str) -> &[&'a Service] {
        self.v.users_of(name)
    }

    /// `${data.aws_caller_identity.current.account_id}`.
    pub fn account_id(&self) -> Expr {
        data("aws_caller_identity", "current").attr("account_id")
    }

    /// `providers.aws.account_id`, when the blueprint names the account.
    pub fn account(&self) -> Option<&str> {
        self.v
            .bp
            .providers
            .aws
            .as_ref()
            .and_then(|a| a.account_id.as_deref())
    }

    /// Record that a blueprint part (a top-level key) was lowered.
    pub fn mark(&self, part: &'static str) {
        self.log.mark(part);
    }

    /// Tell the user something about the output (printed by `synth`).
    pub fn note(&self, text: impl Into<crate::diagnostic::Note>) {
        self.log.note(text);
    }

    /// Whether the workloads run on EKS (managed nodes or Fargate).
    pub fn is_eks(&self) -> bool {
        matches!(self.platform, Some(Platform::Eks | Platform::EksFargate))
    }

    /// `${aws_vpc.main.id}`, or the existing VPC's `${data.aws_vpc.main.id}`: every consumer
    /// of the VPC id asks here (`network::vpc`).
    pub fn vpc_id(&self) -> Expr {
        match &self.v.bp.network {
            Some(net) => network::vpc(net).id(),
            None => crate::terraform::res("aws_vpc", "main").id(),
        }
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
}

pub fn synth(v: &Validated) -> Output {
    // Every blueprint part by name, without `..`: a new field does not compile until this
    // back-end says what it does with it. The concept files read their part through `ctx`;
    // each comment names the file (or the layer that handles it instead).
    let Blueprint {
        name: _,             // the prefix of derived names (naming::prefix), the `blueprint` tag
        description: _,      // not written by AWS; `extra:` templates can read it
        tags: _,             // the provider's default_tags (backend::common_tags)
        providers,           // the region (below) and the allowed account (Ctx::account)
        state: _,            // state.rs: the S3 backend and the `bootstrap` module
        network,             // network.rs, called from `terraform` with it
        cluster: _,          // cluster.rs on EKS, ecs.rs on ECS Fargate (v.platform())
        node_pools: _,       // cluster/nodes.rs: EKS managed node groups
        fargate_profiles: _, // cluster/fargate.rs
        databases: _,        // database.rs (RDS); in-cluster ones in the k8s manifests
        caches: _,           // cache.rs (ElastiCache); in-cluster ones in the k8s manifests
        queues: _, // queue.rs (Amazon MQ), sqs.rs (SQS); in-cluster ones in the k8s manifests
        tables: _, // table.rs (DynamoDB)
        load_balancer: _, // platform.rs (Load Balancer Controller) on EKS, edge.rs on ECS
        ingress: _, // the k8s manifests on EKS; on ECS edge.rs reads its body size only
        registry: _, // registry.rs (ECR)
        secrets: _, // secrets.rs (Secrets Manager), external_secrets.rs on EKS
        services: _, // the k8s manifests on EKS (platform::manifests), ecs.rs on ECS
        jobs: _,   // CronJobs in the k8s manifests on EKS; scheduled.rs on ECS
        kubernetes: _, // the k8s manifests and platform charts on EKS; noted on ECS
        observability: _, // observability.rs (log retention, CloudWatch alarms, SNS)
        buckets: _, // buckets.rs (S3)
        overrides: _, // applied to the output after lowering (crate::escape)
        extra: _,  // rendered beside the output after lowering (crate::escape)
        environments: _, // merged into this blueprint before validation (blueprint::overlay)
        per_provider: _, // merged into this blueprint before validation (blueprint::overlay)
    } = v.bp;
    let _ = providers; // the region: `Ctx::new`
    let ctx = Ctx::new(v);
    let mut out = Output::default();
    terraform(&ctx, network.as_ref(), &mut out);
    // The manifests on a second thread were measured slower for every shipped blueprint
    // (thread start and a fresh malloc arena cost more than the ~1 ms they would overlap).
    if ctx.is_eks() {
        platform::manifests(&ctx, &mut out);
    } else {
        let mut pre = connect::secret_values(&ctx);
        pre.extend(readiness::image_preconditions(&ctx));
        pre.extend(edge::preconditions(&ctx));
        pre.extend(network::preconditions(&ctx));
        crate::backend::connections::finish_preconditions(&mut out, pre);
    }
    ctx.log.finish(&mut out);
    out
}

/// The Terraform modules (`infra`, `platform`, `connections`, `bootstrap`).
fn terraform(ctx: &Ctx, network: Option<&Network>, out: &mut Output) {
    let v = ctx.v;
    let mut infra = Module::new(header(v));
    providers(ctx, &mut infra, state::backend(ctx, "infra"));
    // At ECS scale the load balancer (`edge.rs`, ~0.6 ms at 100 services) is lowered on the
    // other core beside everything up to the tasks: it asks nothing of what the module
    // declares and nothing before `observability` asks about it, so the result is the same
    // as lowering it last. Small stacks lower it in line (a thread costs more than it saves).
    let ecs = ctx.platform == Some(Platform::EcsFargate);
    let edge_beside = ecs && crate::backend::threaded(v.bp.services.len());
    crate::backend::beside(
        &mut infra,
        edge_beside.then_some(|part: &mut Module| edge::lower(ctx, part)),
        |infra| lower_infra(ctx, network, infra, out),
    );
    if ecs && !edge_beside {
        edge::lower(ctx, &mut infra);
    }
    observability::lower(ctx, &mut infra);
    lint::check(ctx);
    security::finish(ctx, &mut infra);
    quotas::check(ctx, &infra);
    out.add_module("infra", infra);

    if let Some(bootstrap) = state::bootstrap(ctx) {
        out.add_module("bootstrap", bootstrap);
        ctx.mark("state");
    }
}

/// `infra` up to the workloads: network, secrets, buckets, registry, data services, and the
/// cluster (EKS, with the `platform` and `connections` modules) or the ECS tasks and jobs.
fn lower_infra(ctx: &Ctx, network: Option<&Network>, infra: &mut Module, out: &mut Output) {
    let v = ctx.v;
    kms::logs_key(ctx, infra);
    if let Some(net) = network {
        network::lower(ctx, net, infra);
        ctx.mark("network");
    }
    secrets::lower(ctx, infra);
    buckets::lower(ctx, infra);
    registry::lower(ctx, infra);
    database::lower(ctx, infra);
    cache::lower(ctx, infra);
    queue::lower(ctx, infra);
    sqs::lower(ctx, infra);
    table::lower(ctx, infra);
    match ctx.platform {
        Some(Platform::Eks | Platform::EksFargate) => {
            cluster::lower(ctx, infra);
            identity::lower(ctx, infra);
            platform::infra(ctx, infra);
            cluster_autoscaler::infra(ctx, infra);
            keda::infra(ctx, infra);
            external_secrets::infra(ctx, infra);
            if let Some(p) = platform::module(ctx) {
                out.add_module("platform", p);
            }
            if let Some(c) = external_secrets::module(ctx) {
                out.add_module("connections", c);
            }
        }
        Some(Platform::EcsFargate) => {
            ecs::lower(ctx, infra);
            if let Some(net) = &v.bp.network {
                scheduled::lower(ctx, infra, net);
            }
        }
        _ => {}
    }
}

/// See [`security::drop_admitted`]: run on the final output, after `extra:` templates.
pub fn drop_admitted_data_warnings(out: &mut Output) {
    security::drop_admitted(out);
}

/// The body of an `aws` provider block in `region`: the blueprint's default tags and, when
/// the blueprint names the account (`providers.aws.account_id`), `allowed_account_ids`, so
/// Terraform refuses to plan with another account's credentials ("List of allowed AWS
/// account IDs to prevent you from mistakenly using an incorrect one",
/// <https://registry.terraform.io/providers/hashicorp/aws/latest/docs#allowed_account_ids-1>).
/// Every module with an AWS provider takes it — `bootstrap`, whose state bucket would
/// otherwise land in whichever account the shell points at (with an account per
/// environment, staging's bucket in production), and `platform` / `connections` too.
pub(super) fn aws_provider(ctx: &Ctx, region: &str) -> Json {
    let mut aws = json!({
        "region": region,
        "default_tags": {"tags": common_tags(ctx.v)},
    });
    if let Some(id) = ctx.account() {
        aws["allowed_account_ids"] = json!([id]);
    }
    aws
}

/// `providers.tf.json`: versions, backend, the AWS provider with default tags, and the
/// account identity every ARN is built from.
fn providers(ctx: &Ctx, m: &mut Module, backend: Option<Json>) {
    let f = m.file("providers");
    let mut names = vec!["aws"];
    // random: ElastiCache AUTH tokens, Amazon MQ's admin password; tls: the OIDC issuer's
    // certificate for IRSA.
    if cache::uses_random(ctx) || queue::needs_random(ctx) || database::needs_random(ctx) {
        names.push("random");
    }
    if ctx.is_eks() {
        names.push("tls");
    }
    f.terraform(terraform_block(&names, backend));
    f.provider("aws", aws_provider(ctx, &ctx.region));
    f.resource(&data("aws_caller_identity", "current"), json!({}));
}
