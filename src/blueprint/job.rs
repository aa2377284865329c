//! Scheduled jobs as written (`jobs:`): a container run to completion on a cron schedule.
//!
//! A job's pod is a service's pod without a port: the same image, command, resources,
//! security context, `uses` wiring, secrets, identity and egress. [`Job::pod`] gives that pod
//! as a [`Service`], so the back-ends build it with the very code that builds services'
//! pods (hardening, connection variables, IAM, security groups, network policies) and only
//! the scheduling around it is job-specific.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::Deserialize;

use super::types::{ConfigFile, Egress, PodSecurity, Resources, SecretEnv, Service, TaskSize, Use};

/// What happens when a run is due while the previous one is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
pub enum Concurrency {
    /// Skip the new run (the default: a job rarely expects to overlap with itself).
    #[default]
    Forbid,
    /// Start the new run beside the old one.
    Allow,
    /// Stop the old run and start the new one.
    Replace,
}

impl Concurrency {
    pub fn name(self) -> &'static str {
        match self {
            Concurrency::Forbid => "Forbid",
            Concurrency::Allow => "Allow",
            Concurrency::Replace => "Replace",
        }
    }
}

/// A scheduled job: a Kubernetes CronJob, or on ECS a task that EventBridge Scheduler runs.
/// Its pod is hardened and wired exactly like a service's.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Job name, unique across services and jobs: the CronJob, its ServiceAccount, the ECS task
    /// definition and the schedule are named after it.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// What the job does.
    #[serde(default)]
    pub description: Option<String>,
    /// Namespace (default: `kubernetes.default_namespace`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Image with a pinned tag or digest.
    pub image: String,
    /// Kubernetes `imagePullPolicy` (`IfNotPresent`, `Always`, `Never`).
    #[serde(default)]
    pub image_pull_policy: Option<String>,
    /// When to run: five cron fields (minute hour day-of-month month day-of-week, Sunday = 0)
    /// or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`; e.g. `30 3 * * *`. On AWS it
    /// becomes EventBridge Scheduler's `cron(…)`, which cannot restrict both day fields.
    pub schedule: String,
    /// IANA time zone the schedule is read in, e.g. `Europe/Berlin` (default `Etc/UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// A run due while the previous one still runs: `Forbid` (skip it; the default), `Allow`
    /// or `Replace`. Kubernetes only: EventBridge Scheduler starts every run, so ECS accepts
    /// only `Allow`.
    #[serde(default)]
    pub concurrency: Option<Concurrency>,
    /// Seconds after its time a missed run may still start (Kubernetes
    /// `startingDeadlineSeconds`; on ECS how long the scheduler keeps retrying to start it,
    /// 60–86400, default 3600).
    #[serde(default)]
    pub starting_deadline: Option<u32>,
    /// Seconds a run may take before it is stopped (Kubernetes `activeDeadlineSeconds`).
    /// Kubernetes only: ECS has no task timeout.
    #[serde(default)]
    pub active_deadline: Option<u32>,
    /// Retries of a failed run (Kubernetes `backoffLimit`, default 2). On ECS the scheduler
    /// retries a run that fails to start (0–185), not a task that exits non-zero.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Finished runs kept for inspection, each of succeeded and failed (Kubernetes history
    /// limits; default 3).
    #[serde(default)]
    pub history: Option<u32>,
    /// Create the schedule paused (Kubernetes `suspend`; ECS schedule `state = DISABLED`).
    #[serde(default)]
    pub suspend: bool,
    /// Entrypoint override.
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments passed to the entrypoint.
    #[serde(default)]
    pub args: Vec<String>,
    /// Plain environment variables (never secrets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment variables read from `secrets`.
    #[serde(default)]
    pub secret_env: Vec<SecretEnv>,
    /// Databases, caches, queues, tables, buckets, secrets and services the job talks to, as in
    /// `services[].uses`: the same connection variables (`<NAME>_HOST`, …), network
    /// policies, security group rules and least-privilege IAM.
    #[serde(default)]
    pub uses: Vec<Use>,
    /// CPU and memory requests and limits (Kubernetes); counted in the namespace quota.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// NVIDIA GPUs for the job's container (at least 1), as `services[].gpu`: `nvidia.com/gpu`
    /// in its limits, the pod on the GPU node pool (its `node_pool`, else the only GPU pool)
    /// with a toleration of the `nvidia.com/gpu` taint, counted in the namespace quota and
    /// the pool's GPUs (one run, two when runs may overlap). For batch inference or
    /// training on a schedule. Refused on ECS Fargate and EKS Fargate. See docs/jobs.md.
    #[serde(default)]
    pub gpu: Option<u32>,
    /// ECS task size.
    #[serde(default)]
    pub task: Option<TaskSize>,
    /// Log group of the container logs (ECS; default `/ecs/<name>`).
    #[serde(default)]
    pub log_group: Option<String>,
    /// Outbound traffic beyond the data services in `uses` (and DNS), e.g. HTTPS to APIs.
    #[serde(default)]
    pub egress: Vec<Egress>,
    /// Service account (default: one per job named after it).
    #[serde(default)]
    pub service_account: Option<String>,
    /// Pod security context: user, group and writable paths.
    #[serde(default)]
    pub security: PodSecurity,
    /// Configuration files the job's container reads from disk, as `services[].files`.
    #[serde(default)]
    pub files: Vec<ConfigFile>,
    /// Node pool the pods are scheduled on (node selector + toleration).
    #[serde(default)]
    pub node_pool: Option<String>,
    /// The `secrets[]` entry to log in to the image's private registry, as
    /// `services[].image_credentials` (ECS Fargate, EKS, DOKS, existing clusters).
    #[serde(default)]
    pub image_credentials: Option<String>,
    /// The CPU architecture the image is built for, as `services[].architecture`.
    #[serde(default)]
    pub architecture: Option<super::types::Architecture>,
    /// Extra labels on the CronJob and its pods.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations on the pods.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The job's pod as a service, built once on first use (see [`Job::pod`]).
    #[serde(skip)]
    #[schemars(skip)]
    pod: PodCache,
}

/// The cached pod of a job. A clone starts empty, so a job changed after cloning (a
/// back-end adjusting a copy of the blueprint) never serves the original's pod.
#[derive(Debug, Default)]
struct PodCache(OnceLock<Service>);

impl Clone for PodCache {
    fn clone(&self) -> Self {
        PodCache::default()
    }
}

/// Retries of a failed run when the blueprint gives none.
pub const DEFAULT_RETRIES: u32 = 2;
/// Finished runs kept when the blueprint gives no `history`.
pub const DEFAULT_HISTORY: u32 = 3;
/// The time zone of a schedule that names none.
pub const DEFAULT_TIMEZONE: &str = "Etc/UTC";

impl Job {
    /// The job's pod as a portless, unrouted, single-replica service with no probes: what
    /// every back-end's pod or task builder takes. Built once per job: a loaded blueprint
    /// is not changed in place, and a clone builds its own.
    pub fn pod(&self) -> &Service {
        self.pod.0.get_or_init(|| Service {
            name: self.name.clone(),
            renamed_from: self.renamed_from.clone(),
            namespace: self.namespace.clone(),
            image: self.image.clone(),
            image_pull_policy: self.image_pull_policy.clone(),
            image_credentials: self.image_credentials.clone(),
            port: None,
            service_port: None,
            protocol: Default::default(),
            architecture: self.architecture,
            service_name: None,
            peer_ports: Vec::new(),
            idle_timeout: None,
            log_group: self.log_group.clone(),
            egress: self.egress.clone(),
            container_name: None,
            description: self.description.clone(),
            version: None,
            replicas: 1,
            resources: self.resources.clone(),
            gpu: self.gpu,
            task: self.task.clone(),
            command: self.command.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            secret_env: self.secret_env.clone(),
            probes: Default::default(),
            health_check: None,
            grace_period: None,
            stop_timeout: None,
            autoscaling: None,
            rollout: Default::default(),
            routes: Vec::new(),
            internal_routes: false,
            uses: self.uses.clone(),
            service_account: self.service_account.clone(),
            security: self.security.clone(),
            files: self.files.clone(),
            node_pool: self.node_pool.clone(),
            pdb: None,
            vpa: None,
            metrics: None,
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            sidecars: Vec::new(),
            init: Vec::new(),
            release: None,
        })
    }

    pub fn timezone(&self) -> &str {
        self.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE)
    }
}
