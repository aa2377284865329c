//! Semantic analysis: cross-field checks on a loaded blueprint for one provider (the CLI verb
//! `validate` is something else: it checks output, in `crate::check`). Every problem is collected, not
//! just the first; success returns the [`Validated`] witness that every back-end requires, so
//! nothing unchecked is ever lowered.

mod addon_owners;
mod alarms;
mod architecture;
mod base_incomplete;
mod bucket_cors;
mod cluster_fields;
mod connection_from_secret;
mod containers;
mod deployable;
pub(crate) mod digitalocean;
mod disruption;
mod docr;
mod ecs;
mod ecs_containers;
mod ecs_rollout;
mod ecs_scaling;
mod edge;
mod eks;
mod env_references;
mod fargate;
mod files;
mod gateway;
mod gpu;
mod grpc;
pub(crate) mod image_credentials;
mod ingress_controller;
mod internal_routes;
mod jobs;
mod jvm_heap;
mod limits;
pub(crate) mod listener_rules;
mod load_balancer_names;
mod long_lived;
mod names;
mod network;
mod next_image;
mod peers;
mod platform_fields;
mod platform_namespaces;
mod pod_security;
mod pools;
mod private_ecs;
mod probe_headers;
mod quantities;
mod queue_scaling;
mod recreate;
mod references;
mod release;
mod routes;
mod schedulable;
mod smtp_port;
mod spring_datasource;
mod sqs;
mod stop_timeout;
mod task_size;
mod tls_in_cluster;
mod use_env;
pub mod versions;
mod windows;
mod workers;

use crate::blueprint::Loaded;
use crate::blueprint::types::{Blueprint, Deployment, Platform};
use crate::catalog::{Provider, SizeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, one_of};

pub use crate::analysis::Validated;
use crate::analysis::resolve_size;

/// Collects problems with their blueprint positions.
pub(crate) struct Checker<'a> {
    pub loaded: &'a Loaded,
    pub provider: Provider,
    pub problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub fn error(&mut self, path: &str, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(format!("`{path}`: {}", message.into())).at(self.loaded.span(path));
        self.problems.push(d);
        self.problems.last_mut().expect("just pushed")
    }

    /// An error about a name that should have been one of `candidates`.
    pub fn unknown_name<'c>(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str> + Clone,
    ) {
        let expected = one_of(candidates.clone());
        let d = self.error(path, format!("unknown {what} `{name}`"));
        *d = d.clone().expected(expected).suggest(name, candidates);
    }
}

/// Check `loaded` for the provider it was merged for; all problems at once, or the witness.
pub fn analyze(loaded: &Loaded) -> Result<Validated<'_>, Diagnostics> {
    let mut c = Checker {
        loaded,
        provider: loaded.provider,
        problems: Vec::new(),
    };
    let bp = &loaded.blueprint;
    // A platform the provider cannot build is the cause of everything else that would be
    // found (subnets, node pools and routes judged for a cluster that will not exist): it
    // is said first, with what the provider block itself lacks, and nothing more.
    if platform_not_built(&mut c, bp) {
        check_provider(&mut c, bp);
        return Err(loaded.diagnostics(c.problems));
    }
    names::check(&mut c, bp);
    check_provider(&mut c, bp);
    check_cluster(&mut c, bp);
    network::check(&mut c, bp);
    references::check(&mut c, bp);
    platform_namespaces::check(&mut c, bp);
    alarms::check(&mut c, bp);
    use_env::check(&mut c, bp);
    routes::check(&mut c, bp);
    workers::check(&mut c, bp);
    peers::check(&mut c, bp);
    release::check(&mut c, bp);
    long_lived::check(&mut c, bp);
    probe_headers::check(&mut c, bp);
    jobs::check(&mut c, bp);
    containers::check(&mut c, bp);
    files::check(&mut c, bp);
    env_references::check(&mut c, bp);
    pod_security::check(&mut c, bp);
    ecs::check(&mut c, bp);
    ecs_containers::check(&mut c, bp);
    ecs_rollout::check(&mut c, bp);
    ecs_scaling::check(&mut c, bp);
    task_size::check(&mut c, bp);
    recreate::check(&mut c, bp);
    next_image::check(&mut c, bp);
    stop_timeout::check(&mut c, bp);
    disruption::check(&mut c, bp);
    check_counts_and_sizes(&mut c, bp);
    limits::check(&mut c, bp);
    bucket_cors::check(&mut c, bp);
    versions::check(&mut c, bp);
    versions::check_mq_instance(&mut c, bp);
    versions::check_image_versions(&mut c, bp);
    sqs::check(&mut c, bp);
    queue_scaling::check(&mut c, bp);
    gateway::check(&mut c, bp);
    grpc::check(&mut c, bp);
    ingress_controller::check(&mut c, bp);
    deployable::check(&mut c, bp);
    digitalocean::check(&mut c, bp);
    pools::check(&mut c, bp);
    windows::check(&mut c, bp);
    fargate::check(&mut c, bp);
    edge::check(&mut c, bp);
    internal_routes::check(&mut c, bp);
    load_balancer_names::check(&mut c, bp);
    eks::check(&mut c, bp);
    schedulable::check(&mut c, bp);
    gpu::check(&mut c, bp);
    architecture::check(&mut c, bp);
    image_credentials::check(&mut c, bp);
    docr::check(&mut c, bp);
    addon_owners::check(&mut c, bp);
    quantities::check(&mut c);
    if c.problems.is_empty() {
        let mut warnings = versions::warnings(bp, loaded.provider);
        warnings.extend(env_references::warnings(bp, loaded.provider));
        warnings.extend(jvm_heap::warnings(&c, bp));
        warnings.extend(tls_in_cluster::warnings(bp, loaded.provider));
        warnings.extend(smtp_port::warnings(bp, loaded.provider));
        warnings.extend(spring_datasource::warnings(bp, loaded.provider));
        warnings.extend(connection_from_secret::warnings(bp, loaded.provider));
        warnings.extend(docr::warnings(bp, loaded.provider));
        warnings.extend(architecture::warnings(bp, loaded.provider));
        warnings.extend(internal_routes::warnings(bp, loaded.provider));
        warnings.extend(release::warnings(bp, loaded.provider));
        warnings.extend(base_incomplete::warnings(loaded));
        warnings.extend(platform_fields::notes(bp, loaded.provider));
        warnings.extend(cluster_fields::notes(bp, loaded.provider));
        let v = Validated::new(loaded, loaded.provider, warnings);
        // Checks on what the blueprint lowers to (quota arithmetic over the manifests).
        let problems = crate::k8s::check(&v);
        if problems.is_empty() {
            Ok(v)
        } else {
            Err(loaded.diagnostics(problems))
        }
    } else {
        Err(loaded.diagnostics(c.problems))
    }
}

fn check_provider(c: &mut Checker, bp: &Blueprint) {
    let catalog = c.provider.catalog();
    let region = |c: &mut Checker, path: &str, region: &str| {
        if !catalog.regions.iter().any(|r| r == region) {
            c.unknown_name(
                path,
                &format!("{} region", c.provider.title()),
                region,
                catalog.regions.iter().map(String::as_str),
            );
        }
    };
    match c.provider {
        Provider::Aws => match &bp.providers.aws {
            None => {
                c.error("providers", "`--provider aws` needs `providers.aws.region`")
                    .help = Some("add `region` under `providers.aws`, e.g. `us-east-1`".into());
            }
            Some(aws) => {
                region(c, "providers.aws.region", &aws.region);
                let principals = aws
                    .admin_principal_arns
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("providers.aws.admin_principal_arns[{i}]"), a))
                    .chain(
                        aws.ci_role_arn
                            .iter()
                            .map(|a| ("providers.aws.ci_role_arn".to_string(), a)),
                    );
                for (path, arn) in principals.collect::<Vec<_>>() {
                    if !iam_principal_arn(arn) {
                        c.error(&path, format!("`{arn}` is not an IAM role or user ARN"))
                            .expected = Some(
                            "`arn:aws:iam::<12-digit account>:role/<name>` (or `:user/<name>`)"
                                .into(),
                        );
                    }
                }
                if let Some(id) = &aws.account_id
                    && !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
                {
                    c.error(
                        "providers.aws.account_id",
                        format!("`{id}` is not an AWS account id"),
                    )
                    .expected = Some("12 digits, e.g. `123456789012`".into());
                }
                // Pinned like every image a task runs: a rollout must be repeatable.
                if let Some(image) = &aws.setup_image
                    && !containers::pinned(image)
                {
                    c.error(
                        "providers.aws.setup_image",
                        format!("image `{image}` is not pinned to a version"),
                    )
                    .help = Some("give a tag such as `:1.37.0`, or a digest `@sha256:…`".into());
                }
                // Security group names begin with the blueprint's name (`<name>-…-sg`,
                // `backend::aws::security::sg_name`), and EC2 refuses a group name that
                // starts with `sg-` (CreateSecurityGroup, GroupName: "Constraints: Up to 255
                // characters in length. Cannot start with sg-.", EC2 API Reference). Only the
                // apply would say so, after the VPC and half the network exist.
                if bp.network.is_some() && (bp.name == "sg" || bp.name.starts_with("sg-")) {
                    c.error(
                        "name",
                        format!("`{}` begins the name of every security group (`{}-…-sg`), and EC2 refuses a security group name that starts with `sg-` (reserved for group ids)", bp.name, bp.name),
                    )
                    .help = Some("choose a name that does not start with `sg-`".into());
                }
            }
        },
        Provider::Digitalocean => match &bp.providers.digitalocean {
            None => {
                c.error(
                    "providers",
                    "`--provider digitalocean` needs `providers.digitalocean.region`",
                )
                .help = Some("add `region` under `providers.digitalocean`, e.g. `nyc1`".into());
            }
            Some(d) => {
                region(c, "providers.digitalocean.region", &d.region);
                // `spaces_region` (and `state.region`) are judged against the regions
                // Spaces runs in, fewer than the Droplet regions: `digitalocean::check`.
                const TIERS: [&str; 3] = ["starter", "basic", "professional"];
                if let Some(t) = bp.registry.as_ref().and_then(|r| r.tier.as_deref())
                    && !TIERS.contains(&t)
                {
                    c.unknown_name("registry.tier", "registry tier", t, TIERS);
                }
            }
        },
        Provider::Kubernetes => {}
    }
}

/// What the cluster the provider builds needs: judged only once the provider can build the
/// platform at all ([`platform_not_built`]), since `node_pools` on an ECS platform that
/// `per_provider.digitalocean` forgot to make `doks` is not the mistake to remove.
fn check_cluster(c: &mut Checker, bp: &Blueprint) {
    if let Some(cluster) = &bp.cluster {
        let p = cluster.platform;
        if c.provider == Provider::Aws
            && matches!(p, Platform::Eks | Platform::EksFargate)
            && cluster.endpoint.public()
            && cluster.endpoint.allowed_cidrs.is_empty()
        {
            c.error(
                "cluster.endpoint.allowed_cidrs",
                "a public EKS API endpoint needs the CIDRs allowed to reach it (EKS would open it to 0.0.0.0/0)",
            )
            .help = Some("list the CI runners' and admins' CIDRs, or set `public: false`".into());
        }
        // What the provider builds (`platform_on`): an `eks_fargate` blueprint is a DOKS
        // cluster on DigitalOcean, which needs the node pools, and every blueprint is an
        // existing cluster for `kubernetes`, which needs no Fargate profile.
        let built = bp.platform_on(c.provider).unwrap_or(p);
        if matches!(built, Platform::EksFargate | Platform::EcsFargate) && !bp.node_pools.is_empty()
        {
            c.error(
                "node_pools",
                format!(
                    "platform `{}` runs without nodes; remove `node_pools`",
                    p.name()
                ),
            );
        }
        if built == Platform::EksFargate && bp.fargate_profiles.is_empty() {
            c.error(
                "fargate_profiles",
                "platform `eks_fargate` needs at least one Fargate profile",
            )
            .help = Some(
                "add a profile per application namespace and one for `kube-system` (CoreDNS)"
                    .into(),
            );
        }
    }
}

/// Refuse a `cluster.platform` that `provider` cannot build (DOKS on AWS, ECS on
/// DigitalOcean, an existing cluster on a cloud); true when it did. Where an overlay sets that
/// platform, the error names it: an environment written for the other provider
/// (`environments.<env>.cluster.platform`) gets the provider that builds it and the
/// `per_provider` part the value belongs in; a `per_provider.<provider>` part of the selected
/// provider setting a platform that provider cannot build is a part under the wrong provider.
fn platform_not_built(c: &mut Checker, bp: &Blueprint) -> bool {
    let Some(p) = bp.cluster.as_ref().map(|cl| cl.platform) else {
        return false;
    };
    let (msg, builds_it) = match (c.provider, p) {
        (Provider::Aws, Platform::Doks) => (
            "DOKS runs only on `--provider digitalocean`; for a blueprint on both, write `platform: eks`: DigitalOcean builds it as a DOKS cluster with the same `node_pools`",
            Provider::Digitalocean,
        ),
        (Provider::Aws, Platform::Existing) => (
            "an existing cluster is targeted with `--provider kubernetes`; for AWS choose `eks`, `eks_fargate` or `ecs_fargate`",
            Provider::Kubernetes,
        ),
        (Provider::Digitalocean, Platform::EcsFargate) => (
            "DigitalOcean has no ECS; use `platform: doks` or `--provider aws`; for one blueprint on both, `platform: eks` (DOKS on DigitalOcean, with `node_pools`), or a DigitalOcean part `per_provider: { digitalocean: { cluster: { platform: doks }, node_pools: [...] } }`",
            Provider::Aws,
        ),
        (Provider::Digitalocean, Platform::Existing) => (
            "an existing cluster is targeted with `--provider kubernetes`",
            Provider::Kubernetes,
        ),
        _ => return false,
    };
    let (env, provider) = (c.loaded.env.clone(), c.provider);
    let built = match p {
        Platform::Doks => "a DOKS cluster",
        Platform::EcsFargate => "ECS Fargate services",
        _ => "workloads for an existing cluster",
    };
    let part = format!("{}.{provider}", crate::blueprint::per_provider::KEY);
    match c.loaded.set_by("cluster.platform") {
        // The selected provider's own part sets it: written under the wrong provider.
        Some(layer) if layer.ends_with(&part) => {
            let meant = layer.replace(
                &part,
                &format!("{}.{builds_it}", crate::blueprint::per_provider::KEY),
            );
            let d = c.error(
                "cluster.platform",
                format!(
                    "`{layer}` sets platform `{}`: it builds {built}, which `--provider {provider}` cannot, and this part applies to `--provider {provider}` only",
                    p.name(),
                ),
            );
            d.expected = Some(format!("a platform `--provider {provider}` builds"));
            d.help = Some(format!("did you mean `{meant}`?"));
        }
        Some(layer) => {
            let d = c.error(
                "cluster.platform",
                format!(
                    "environment `{env}` sets platform `{}`: it builds {built}, which `--provider {provider}` cannot; this environment is for `--provider {builds_it}`",
                    p.name(),
                ),
            );
            d.expected = Some(format!(
                "an environment whose platform `--provider {provider}` builds"
            ));
            d.help = Some(format!(
                "synthesize it with `--provider {builds_it} --env {env}`; or, for `{env}` to mean the same environment on every provider, move what only `--provider {builds_it}` builds under `{layer}.{}.{builds_it}`",
                crate::blueprint::per_provider::KEY
            ));
        }
        None => {
            c.error(
                "cluster.platform",
                format!("platform `{}`: {msg}", p.name()),
            );
        }
    }
    true
}

/// `arn:<partition>:iam::<account>:role/…` or `:user/…` (EKS access entries take no
/// assumed-role session ARNs).
fn iam_principal_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (resource.starts_with("role/") || resource.starts_with("user/"))
        && resource.len() > 5
}

/// The field a component's size is read from, with its value: `sizes.<provider>` when the
/// blueprint gives it (it overrides `size`), else `size`.
pub(crate) fn size_field<'s>(
    provider: Provider,
    path: &str,
    size: Option<&'s str>,
    sizes: &'s crate::blueprint::types::Sizes,
) -> (String, Option<&'s str>) {
    let exact = match provider {
        Provider::Aws => sizes.aws.as_deref(),
        Provider::Digitalocean => sizes.digitalocean.as_deref(),
        Provider::Kubernetes => None,
    };
    match exact {
        Some(e) => (format!("{path}.sizes.{}", provider.name()), Some(e)),
        None => (format!("{path}.size"), size),
    }
}

fn check_counts_and_sizes(c: &mut Checker, bp: &Blueprint) {
    let catalog = c.provider.catalog();
    let cloud = c.provider != Provider::Kubernetes;
    let size_check = |c: &mut Checker,
                      path: String,
                      kind: SizeKind,
                      size: Option<&str>,
                      sizes: &crate::blueprint::types::Sizes| {
        if let Err(msg) = resolve_size(c.provider, catalog, kind, size, sizes) {
            let classes = catalog.class_names(kind).join(", ");
            let provider = c.provider.name();
            let (at, given) = size_field(c.provider, &path, size, sizes);
            let d = c.error(&at, msg);
            d.help = Some(format!(
                "use a portable class ({classes}) or give `sizes.{provider}` exactly"
            ));
            // A provider that names its sizes shows those nearest the one given.
            if let (Some(table), Some(given)) = (&catalog.sizes, given) {
                let nearest = table.nearest(kind, None, given, 3);
                d.expected = Some(format!(
                    "a portable class ({classes}) or a size {}; the nearest: {}",
                    catalog.exact_size_hint,
                    crate::diagnostic::one_of(nearest).trim_start_matches("one of ")
                ));
                // A mistyped class (`meduim`) or slug, whichever is closer.
                let names = catalog.class_names(kind);
                let candidates = names
                    .iter()
                    .copied()
                    .chain(table.of(kind).keys().map(String::as_str));
                if let Some(guess) = crate::diagnostic::did_you_mean(given, candidates) {
                    d.help = Some(format!("{guess} (or a portable class: {classes})"));
                }
            }
        }
    };
    for (i, p) in bp.node_pools.iter().enumerate() {
        let path = format!("node_pools[{i}]");
        let desired = p.desired.unwrap_or(p.min);
        if !(p.min <= desired && desired <= p.max) {
            // At the count that breaks the rule, the one the latest overlay wrote: an
            // environment's (or provider part's) `desired: 9` against the base's `max: 3` is
            // the change to look at, not the base's pool. Written together: `desired`.
            let at = [
                ("min", desired < p.min),
                ("max", desired > p.max),
                ("desired", true),
            ]
            .into_iter()
            .filter(|(_, broken)| *broken)
            .map(|(field, _)| format!("{path}.{field}"))
            .filter(|f| c.loaded.has(f))
            .max_by_key(|f| c.loaded.specificity(f))
            .and_then(|f| c.loaded.span(&f));
            let d = c.error(
                &path,
                format!(
                    "node counts must satisfy min ≤ desired ≤ max, got min {} desired {} max {}",
                    p.min, desired, p.max
                ),
            );
            if at.is_some() {
                d.span = at;
            }
        }
        if p.max == 0 {
            c.error(
                &format!("{path}.max"),
                "a node pool needs at least one node",
            );
        }
        if cloud {
            size_check(c, path.clone(), SizeKind::Node, p.size.as_deref(), &p.sizes);
        }
        if let Some(pct) = p.max_unavailable_percent
            && !(1..=100).contains(&pct)
        {
            c.error(
                &format!("{path}.max_unavailable_percent"),
                format!("must be between 1 and 100, got {pct}"),
            );
        }
    }
    for (i, d) in bp.databases.iter().enumerate() {
        let path = format!("databases[{i}]");
        if d.deployment == Deployment::Managed && cloud {
            size_check(
                c,
                path.clone(),
                SizeKind::Database,
                d.size.as_deref(),
                &d.sizes,
            );
            if c.provider == Provider::Aws
                && d.engine == crate::blueprint::types::DatabaseEngine::Mongodb
            {
                c.error(
                    &format!("{path}.engine"),
                    "AWS offers no managed MongoDB that infragen lowers to",
                )
                .help = Some(
                    "set `deployment: in_cluster` for this database (on `platform: eks`, which runs it as a StatefulSet)".into(),
                );
            }
            // "Each DB instance can have up to 15 read replicas" (MySQL, MariaDB, PostgreSQL;
            // CreateDBInstanceReadReplica, SourceDBInstanceIdentifier); `terraform validate`
            // lets a sixteenth through to the apply.
            if c.provider == Provider::Aws && d.replicas > 15 {
                c.error(
                    &format!("{path}.replicas"),
                    format!(
                        "an RDS instance has at most 15 read replicas, got {}",
                        d.replicas
                    ),
                )
                .help = Some("give `replicas: 15` at most".into());
            }
            if d.storage.is_none()
                && c.provider == Provider::Aws
                && d.engine != crate::blueprint::types::DatabaseEngine::Mongodb
            {
                c.error(&path, "a managed database on AWS needs `storage.size_gb`");
            }
        }
        if let Some(s) = &d.storage
            && let Some(max) = s.max_size_gb
            && max < s.size_gb
        {
            c.error(
                &format!("{path}.storage.max_size_gb"),
                format!("must be at least `size_gb` ({}), got {max}", s.size_gb),
            );
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        let path = format!("caches[{i}]");
        if k.nodes == 0 {
            c.error(&format!("{path}.nodes"), "a cache needs at least one node");
        }
        if k.ha && k.nodes < 2 {
            c.error(
                &format!("{path}.ha"),
                format!("automatic failover needs at least 2 nodes, got {}", k.nodes),
            )
            .help = Some(
                "add `nodes: 2` beside `ha: true` (a primary and a replica to fail over to)".into(),
            );
        }
        // A replication group with cluster mode disabled (`backend/aws/cache.rs`): "The
        // maximum permitted value for NumCacheClusters is 6 (1 primary plus 5 replicas)"
        // (CreateReplicationGroup); `terraform validate` lets 7 through to the API.
        if k.deployment == Deployment::Managed && c.provider == Provider::Aws && k.nodes > 6 {
            c.error(
                &format!("{path}.nodes"),
                format!(
                    "an ElastiCache replication group has at most 6 nodes (a primary and 5 replicas), got {}",
                    k.nodes
                ),
            )
            .help = Some("give `nodes: 6` at most".into());
        }
        if k.deployment == Deployment::Managed && cloud {
            size_check(
                c,
                path.clone(),
                SizeKind::Cache,
                k.size.as_deref(),
                &k.sizes,
            );
        }
    }
    for (i, q) in bp.queues.iter().enumerate().filter(|(_, q)| !q.sqs()) {
        let path = format!("queues[{i}]");
        if q.deployment == Deployment::Managed && c.provider == Provider::Aws {
            size_check(
                c,
                path.clone(),
                SizeKind::Queue,
                q.size.as_deref(),
                &q.sizes,
            );
        }
    }
    for (i, s) in bp.services.iter().enumerate() {
        let path = format!("services[{i}]");
        if s.port == Some(0) {
            c.error(&format!("{path}.port"), "port 0 is not a port");
        }
        if let Some(a) = &s.autoscaling {
            if a.min == 0 || a.min > a.max {
                c.error(
                    &format!("{path}.autoscaling"),
                    format!(
                        "replica bounds must satisfy 1 ≤ min ≤ max, got min {} max {}",
                        a.min, a.max
                    ),
                );
            }
            for (field, v) in [
                ("cpu_percent", a.cpu_percent),
                ("memory_percent", a.memory_percent),
            ] {
                if let Some(v) = v
                    && !(1..=100).contains(&v)
                {
                    c.error(
                        &format!("{path}.autoscaling.{field}"),
                        format!("must be between 1 and 100, got {v}"),
                    );
                }
            }
            // The policies that read the tasks' own metrics (CPU, memory, backlog per task)
            // have no data once no task runs: "If a cluster, service, or other resource has
            // no running tasks, no metrics will be reported" (Amazon ECS CloudWatch metrics,
            // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html),
            // and target tracking does not act without data. A schedule letting them reach
            // 0 tasks while allowing more would leave the service at 0 until the next
            // schedule raises `min`: the queue piles up unread. `min: 0, max: 0` (off
            // hours) says what it does.
            let task_metrics = [
                a.cpu_percent.map(|_| "cpu_percent"),
                a.memory_percent.map(|_| "memory_percent"),
                a.queue.as_ref().map(|_| "queue"),
            ];
            let task_metric = task_metrics.into_iter().flatten().next();
            for (j, sch) in a.scheduled.iter().enumerate() {
                if sch.min > sch.max {
                    c.error(
                        &format!("{path}.autoscaling.scheduled[{j}]"),
                        format!("min {} is above max {}", sch.min, sch.max),
                    );
                } else if let Some(field) = task_metric
                    && sch.min == 0
                    && sch.max > 0
                {
                    let d = c.error(
                        &format!("{path}.autoscaling.scheduled[{j}].min"),
                        format!(
                            "min 0 lets `autoscaling.{field}` scale service `{}` in to no task, and then it never scales out again: ECS publishes no metric for a service without running tasks, so the policy has no data to act on until another schedule raises `min`",
                            s.name
                        ),
                    );
                    d.expected = Some("`min` of at least 1, or `min: 0` with `max: 0` to stop the service while the schedule applies".into());
                    d.help = Some("set `min: 1`, or `max: 0` for off hours".into());
                }
            }
        }
        if let Some(w) = s.rollout.canary_weight
            && !(1..=99).contains(&w)
        {
            c.error(
                &format!("{path}.rollout.canary_weight"),
                format!("must be between 1 and 99, got {w}"),
            );
        }
    }
    for (i, t) in bp.tables.iter().enumerate() {
        if let Some(days) = t.pitr_days
            && !(1..=35).contains(&days)
        {
            c.error(
                &format!("tables[{i}].pitr_days"),
                format!("must be between 1 and 35 days, got {days}"),
            );
        }
    }
    if let Some(lb) = &bp.load_balancer
        && let Some(w) = &lb.waf
        && !(10..=2_000_000_000).contains(&w.rate_limit)
    {
        c.error(
            "load_balancer.waf.rate_limit",
            format!(
                "must be between 10 and 2000000000 requests per 5 minutes, got {}",
                w.rate_limit
            ),
        );
    }
}
