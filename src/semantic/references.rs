//! References between components resolve: `uses`, secret references, node pools,
//! namespaces, roles, issuers, alarm targets.

use std::collections::{HashMap, HashSet};

use super::Checker;
use crate::blueprint::types::{
    Blueprint, DatabaseEngine, Deployment, InCluster, KubernetesPlatform, Service,
};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let data: Vec<&str> = bp
        .databases
        .iter()
        .map(|x| x.name.as_str())
        .chain(bp.caches.iter().map(|x| x.name.as_str()))
        .chain(bp.queues.iter().map(|x| x.name.as_str()))
        .chain(bp.tables.iter().map(|x| x.name.as_str()))
        .chain(bp.secrets.iter().map(|x| x.name.as_str()))
        .chain(bp.buckets.iter().map(|x| x.name.as_str()))
        .collect();
    let secrets: Vec<&str> = bp.secrets.iter().map(|s| s.name.as_str()).collect();
    // Lookups by name, so a stack with thousands of services and secrets checks in linear time.
    let data_set: HashSet<&str> = data.iter().copied().collect();
    let secret_by_name: HashMap<&str, &crate::blueprint::types::Secret> = bp
        .secrets
        .iter()
        .rev()
        .map(|x| (x.name.as_str(), x))
        .collect();
    let pools: Vec<&str> = bp.node_pools.iter().map(|p| p.name.as_str()).collect();
    let k8s = bp.kubernetes.clone().unwrap_or_default();
    let namespaces: Vec<&str> = k8s.namespaces.iter().map(|n| n.name.as_str()).collect();
    let services: Vec<&str> = bp.services.iter().map(|s| s.name.as_str()).collect();

    let namespace_ref = |c: &mut Checker, path: &str, ns: &str| {
        if !namespaces.is_empty() && !namespaces.contains(&ns) && ns != "kube-system" {
            c.unknown_name(path, "namespace", ns, namespaces.iter().copied());
        }
    };
    if let Some(ns) = &k8s.default_namespace {
        namespace_ref(c, "kubernetes.default_namespace", ns);
    }

    // A job's pod is checked as a service's: the fields they share have the same names.
    for (path, s) in bp.workloads_at() {
        let mut prefixes: HashMap<String, &str> = HashMap::new();
        for (j, u) in s.uses.iter().enumerate() {
            let target = bp.services.iter().find(|x| x.name == u.as_str());
            if data_set.contains(u.as_str()) {
                // A data component: wired below and by the back-ends. A service of the same
                // name would make `uses` ambiguous.
                if target.is_some() {
                    c.error(
                        &format!("{path}.uses[{j}]"),
                        format!("`{}` names both a service and a data component", u.as_str()),
                    )
                    .help = Some("rename one of them".into());
                }
            } else if let Some(other) = target {
                // Another service: reached through its Kubernetes Service (`k8s::connect`,
                // `k8s::network_policy`); ECS refuses it (`ecs.rs`).
                let u = u.as_str();
                if other.port.is_none() {
                    c.error(
                        &format!("{path}.uses[{j}]"),
                        format!(
                            "service `{u}` has no `port`, so `{}` cannot connect to it",
                            s.name
                        ),
                    )
                    .help = Some(format!("give `{u}` a `port`, or drop it from `uses`"));
                } else if u == s.name {
                    c.error(
                        &format!("{path}.uses[{j}]"),
                        format!("service `{u}` uses itself"),
                    )
                    .help = Some("drop it from `uses`: a service needs no route to itself".into());
                }
            } else {
                c.unknown_name(
                    &format!("{path}.uses[{j}]"),
                    "component",
                    u,
                    data.iter().copied().chain(services.iter().copied()),
                );
            }
            if let Some(p) = &u.env_prefix
                && !env_name(p)
            {
                c.error(
                    &format!("{path}.uses[{j}].env_prefix"),
                    format!(
                        "`{p}` is not an environment variable prefix: use upper-case letters, digits and `_`, starting with a letter (e.g. `DB`)"
                    ),
                );
            }
            // Two uses with one prefix would give the workload two values for one variable.
            if let Some(other) = prefixes.insert(u.prefix(), u.as_str())
                && other != u.as_str()
            {
                c.error(
                    &format!("{path}.uses[{j}]"),
                    format!(
                        "`{}` and `{other}` both give connection variables the prefix `{}_`; set `env_prefix` on one of them",
                        u.as_str(),
                        u.prefix()
                    ),
                );
            }
        }
        for (j, e) in s.secret_env.iter().enumerate() {
            // One variable, two values: ECS refuses the task definition ("The secret name
            // must be unique and not shared with any new or existing environment variables
            // set on the container"); Kubernetes would keep one of them silently.
            let earlier = s.secret_env[..j].iter().position(|x| x.name == e.name);
            if s.env.contains_key(&e.name) || earlier.is_some() {
                let where_ = earlier.map_or("`env`".to_string(), |k| format!("`secret_env[{k}]`"));
                c.error(
                    &format!("{path}.secret_env[{j}].name"),
                    format!(
                        "`{}` is already set by {where_}: one variable, two values",
                        e.name
                    ),
                )
                .help = Some("drop one of them, or give this one another name".into());
            }
            let p = format!("{path}.secret_env[{j}].secret");
            match secret_by_name.get(e.secret.as_str()) {
                None => c.unknown_name(&p, "secret", &e.secret, secrets.iter().copied()),
                Some(sec) => {
                    if let Some(k) = &e.key
                        && !sec.keys.is_empty()
                        && !sec.keys.contains(k)
                    {
                        c.unknown_name(
                            &format!("{path}.secret_env[{j}].key"),
                            &format!("key (of secret `{}`)", sec.name),
                            k,
                            sec.keys.iter().map(String::as_str),
                        );
                    }
                    // Without `key`, a secret of several keys gives a different value per
                    // platform, none of them one of its keys: ECS and External Secrets the
                    // whole JSON document, a Kubernetes Secret the key named like the
                    // variable, which the secret does not declare.
                    if e.key.is_none() && sec.keys.len() > 1 && !sec.keys.contains(&e.name) {
                        c.error(
                            &p,
                            format!(
                                "secret `{}` holds several keys ({}); `{}` needs the one it reads",
                                sec.name,
                                sec.keys.join(", "),
                                e.name
                            ),
                        )
                        .help = Some(format!(
                            "add `key: {}` (or another of its keys)",
                            sec.keys[0]
                        ));
                    }
                }
            }
        }
        if let Some(p) = &s.node_pool
            && !pools.contains(&p.as_str())
        {
            c.unknown_name(
                &format!("{path}.node_pool"),
                "node pool",
                p,
                pools.iter().copied(),
            );
        }
        if let Some(ns) = &s.namespace {
            namespace_ref(c, &format!("{path}.namespace"), ns);
        }
        for (j, e) in s.egress.iter().enumerate() {
            if e.to.parse::<ipnet::Ipv4Net>().is_err() {
                c.error(
                    &format!("{path}.egress[{j}].to"),
                    format!("`{}` is not an IPv4 CIDR block", e.to),
                );
            }
        }
        if !s.routes.is_empty() && bp.ingress.is_none() && bp.load_balancer.is_none() {
            c.error(
                &format!("{path}.routes"),
                "routes need an `ingress` or a `load_balancer`",
            );
        }
        kubernetes_service(c, bp, &k8s, &path, s);
    }
    kubernetes_data(c, bp);

    for (i, d) in bp.databases.iter().enumerate() {
        if let Some(t) = &d.password_secret
            && !secrets.contains(&t.as_str())
        {
            c.unknown_name(
                &format!("databases[{i}].password_secret"),
                "secret",
                t,
                secrets.iter().copied(),
            );
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        if let Some(t) = &k.auth_token_secret
            && !secrets.contains(&t.as_str())
        {
            c.unknown_name(
                &format!("caches[{i}].auth_token_secret"),
                "secret",
                t,
                secrets.iter().copied(),
            );
        }
    }
    let in_cluster = bp
        .databases
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("databases[{i}]"), &x.in_cluster))
        .chain(
            bp.caches
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("caches[{i}]"), &x.in_cluster)),
        )
        .chain(
            bp.queues
                .iter()
                .enumerate()
                .filter(|(_, x)| !x.sqs())
                .map(|(i, x)| (format!("queues[{i}]"), &x.in_cluster)),
        );
    for (path, ic) in in_cluster {
        if let Some(p) = &ic.node_pool
            && !pools.contains(&p.as_str())
        {
            c.unknown_name(
                &format!("{path}.in_cluster.node_pool"),
                "node pool",
                p,
                pools.iter().copied(),
            );
        }
    }

    for (i, sa) in k8s.service_accounts.iter().enumerate() {
        let path = format!("kubernetes.service_accounts[{i}]");
        namespace_ref(c, &format!("{path}.namespace"), &sa.namespace);
        if let Some(r) = &sa.role {
            let roles: Vec<&str> = k8s
                .roles
                .iter()
                .filter(|x| x.namespace.as_deref() == Some(sa.namespace.as_str()))
                .map(|x| x.name.as_str())
                .collect();
            if !roles.contains(&r.as_str()) {
                c.unknown_name(
                    &format!("{path}.role"),
                    &format!("Role in namespace `{}`", sa.namespace),
                    r,
                    roles.iter().copied(),
                );
            }
        }
        if let Some(r) = &sa.cluster_role {
            let roles: Vec<&str> = k8s
                .roles
                .iter()
                .filter(|x| x.namespace.is_none())
                .map(|x| x.name.as_str())
                .collect();
            if !roles.contains(&r.as_str()) {
                c.unknown_name(
                    &format!("{path}.cluster_role"),
                    "ClusterRole",
                    r,
                    roles.iter().copied(),
                );
            }
        }
    }
    for (i, r) in k8s.roles.iter().enumerate() {
        if let Some(ns) = &r.namespace {
            namespace_ref(c, &format!("kubernetes.roles[{i}].namespace"), ns);
        }
        for (j, rule) in r.rules.iter().enumerate() {
            if rule.verbs.iter().chain(&rule.resources).any(|v| v == "*") {
                c.error(
                    &format!("kubernetes.roles[{i}].rules[{j}]"),
                    "wildcard `*` verbs or resources grant more than least privilege",
                )
                .help = Some("list the resources and verbs the workload needs".into());
            }
        }
    }
    let issuers: Vec<&str> = k8s.issuers.iter().map(|x| x.name.as_str()).collect();
    if let Some(ing) = &bp.ingress {
        if let Some(ns) = &ing.namespace {
            namespace_ref(c, "ingress.namespace", ns);
            gateway_in_platform_namespace(c, bp, &k8s, ns);
        }
        if let Some(tls) = &ing.tls
            && let Some(iss) = &tls.issuer
            && !issuers.is_empty()
            && !issuers.contains(&iss.as_str())
        {
            c.unknown_name("ingress.tls.issuer", "issuer", iss, issuers.iter().copied());
        }
        // With no issuer declared, the cloud back-ends install no cert-manager
        // (`backend::helm::cert_manager`) and make no ClusterIssuer: the annotation would
        // name nothing, no certificate would be issued into `tls.secret_name`, and the
        // controller would serve its own self-signed default. An existing cluster
        // (`--provider kubernetes`) may hold the issuer: listed in preconditions.json there.
        if let Some(tls) = &ing.tls
            && let Some(iss) = &tls.issuer
            && ing.enabled
            && issuers.is_empty()
            && c.provider != crate::catalog::Provider::Kubernetes
        {
            let d = c.error(
                "ingress.tls.issuer",
                format!(
                    "no `kubernetes.issuers` declares issuer `{iss}`: nothing would install cert-manager or create the ClusterIssuer, so no certificate would be issued for the ingress hosts"
                ),
            );
            d.expected = Some(format!(
                "`kubernetes.issuers` with `{{ name: {iss}, kind: acme, server: \"https://acme-v02.api.letsencrypt.org/directory\", email: … }}` (or `kind: self_signed`)"
            ));
            d.help = Some(
                "declare the issuer, or drop `tls.issuer` and put a certificate into `tls.secret_name` yourself"
                    .into(),
            );
        }
        if ing.hosts.is_empty() {
            c.error("ingress.hosts", "an ingress needs at least one host");
        }
    }
    // A profile may select any namespace pods of the output run in, declared or not: the
    // default one and the installed controllers' (ingress-nginx, cert-manager, …) are the
    // output's own, and `fargate.rs` refuses a blueprint whose profiles leave one out.
    // Checking them against `kubernetes.namespaces` alone refused the very profile that
    // check asks for (found by scripts/combos.py).
    let own = if bp.fargate_profiles.is_empty() {
        Vec::new()
    } else {
        super::fargate::own_namespaces(bp)
    };
    for (i, f) in bp.fargate_profiles.iter().enumerate() {
        for (j, ns) in f.namespaces.iter().enumerate() {
            if !namespaces.is_empty()
                && !namespaces.contains(&ns.as_str())
                && ns != "kube-system"
                && !own.contains(ns)
            {
                let known = namespaces
                    .iter()
                    .copied()
                    .chain(own.iter().map(String::as_str));
                c.unknown_name(
                    &format!("fargate_profiles[{i}].namespaces[{j}]"),
                    "namespace",
                    ns,
                    known,
                );
            }
        }
        if f.namespaces.is_empty() {
            c.error(
                &format!("fargate_profiles[{i}].namespaces"),
                "list at least one namespace",
            );
        }
    }
    if let Some(o) = &bp.observability {
        let targets: Vec<&str> = data
            .iter()
            .copied()
            .chain(services.iter().copied())
            .collect();
        for (i, a) in o.alarms.iter().enumerate() {
            if let Some(t) = &a.target
                && !targets.contains(&t.as_str())
                && t != "load_balancer"
            {
                c.unknown_name(
                    &format!("observability.alarms[{i}].target"),
                    "alarm target",
                    t,
                    targets.iter().copied().chain(["load_balancer"]),
                );
            }
        }
    }
}

/// A Gateway whose certificate comes from an ACME issuer puts cert-manager's HTTP-01 solver
/// pods in its namespace, and that namespace gets `default-deny-ingress` and
/// `allow-same-namespace` (and the solver's allowance) from `k8s::network_policy` — whether
/// or not anything is routed. Either isolates every pod of the namespace: where a platform
/// component infragen installs runs, it cuts the component's own traffic: the load balancer's connections to the Envoy proxies
/// (`envoy-gateway-system`), the API server's calls to cert-manager's webhook (every
/// Certificate and Issuer write then fails), KEDA's metrics API, or cluster DNS in
/// `kube-system` — the namespaces of `semantic::platform_namespaces::component`, the list
/// the check of the workloads' namespaces shares. Refused at `ingress.namespace`.
fn gateway_in_platform_namespace(
    c: &mut Checker,
    bp: &Blueprint,
    k8s: &KubernetesPlatform,
    ns: &str,
) {
    use crate::blueprint::types::IssuerKind;
    let Some(ing) = bp.ingress.as_ref().filter(|_| bp.gateway().is_some()) else {
        return;
    };
    // The same judgement as `k8s::network_policy::acme_solver_in`: an issuer the blueprint
    // does not declare may be ACME too.
    let acme = ing
        .tls
        .as_ref()
        .and_then(|t| t.issuer.as_ref())
        .is_some_and(|iss| {
            k8s.issuers
                .iter()
                .find(|i| &i.name == iss)
                .is_none_or(|i| i.kind == IssuerKind::Acme)
        });
    let np = &k8s.network_policies;
    if !acme || !(np.default_deny_ingress || np.allow_same_namespace) {
        return;
    }
    let Some(component) = super::platform_namespaces::component(c.provider, bp, ns) else {
        return;
    };
    c.error(
        "ingress.namespace",
        format!(
            "the Gateway's namespace `{ns}` is {component}: cert-manager solves the Gateway's HTTP-01 challenges there, so the namespace gets the policies that isolate its pods (`default-deny-ingress`, `allow-same-namespace`), which would cut that component's traffic"
        ),
    )
    .help = Some("put the Gateway in a namespace of its own (declare one in `kubernetes.namespaces`), or drop `ingress.namespace` to keep it beside the routed services".into());
}

/// A service's Kubernetes settings: its service account's namespace, route hosts, the
/// ingress namespace, the disruption budget.
fn kubernetes_service(
    c: &mut Checker,
    bp: &Blueprint,
    k8s: &KubernetesPlatform,
    path: &str,
    s: &Service,
) {
    let ns = s
        .namespace
        .clone()
        .or_else(|| k8s.default_namespace.clone())
        .unwrap_or_else(|| bp.name.clone());
    if let Some(sa) = &s.service_account {
        let declared: Vec<&str> = k8s
            .service_accounts
            .iter()
            .filter(|a| &a.name == sa)
            .map(|a| a.namespace.as_str())
            .collect();
        if !declared.is_empty() && !declared.contains(&ns.as_str()) {
            c.error(
                &format!("{path}.service_account"),
                format!(
                    "service account `{sa}` is declared in namespace `{}`, but the service runs in `{ns}`",
                    declared.join("`, `")
                ),
            )
            .help = Some("a pod can only use a service account of its own namespace".into());
        }
    }
    default_account_with_role(c, bp, path, s);
    // The internal ALB of `internal_routes` (on an internet-facing stack) serves their
    // hosts, not the Ingress: `semantic::internal_routes` checks them against its
    // certificate instead.
    let internal_alb = s.internal_routes && bp.load_balancer.as_ref().is_some_and(|l| !l.internal);
    if let Some(ing) = &bp.ingress
        && !internal_alb
    {
        for (j, r) in s.routes.iter().enumerate() {
            if let Some(h) = &r.host
                && !ing.hosts.contains(h)
            {
                c.unknown_name(
                    &format!("{path}.routes[{j}].host"),
                    "ingress host",
                    h,
                    ing.hosts.iter().map(String::as_str),
                );
            }
        }
        if let Some(ing_ns) = &ing.namespace
            && !s.routes.is_empty()
            && *ing_ns != ns
        {
            c.error(
                &format!("{path}.routes"),
                format!(
                    "the ingress lives in namespace `{ing_ns}` and can route only to services there, but this service runs in `{ns}`"
                ),
            )
            .help = Some("drop `ingress.namespace`: infragen puts an Ingress beside the routed services".into());
        }
    }
    if let Some(p) = &s.pdb
        && p.min_available.is_some() == p.max_unavailable.is_some()
    {
        c.error(
            &format!("{path}.pdb"),
            "give exactly one of `min_available` and `max_unavailable`",
        );
    }
}

/// In-cluster data services: what infragen can run (one PostgreSQL / MySQL / RabbitMQ
/// server; replica sets for MongoDB, replicas for Redis) and back up.
fn kubernetes_data(c: &mut Checker, bp: &Blueprint) {
    if let Some(rl) = bp.ingress.as_ref().and_then(|i| i.rate_limit.as_ref())
        && crate::k8s::ingress_window_seconds(&rl.window).is_none()
    {
        c.error(
            "ingress.rate_limit.window",
            format!("`{}` is not a window", rl.window),
        )
        .expected = Some("a number of seconds, minutes or hours, e.g. `1s`, `1m`, `1h`".into());
    }
    let single = |c: &mut Checker, path: String, engine: &str, ic: &InCluster| {
        if ic.replicas.is_some_and(|r| r > 1) {
            c.error(
                &format!("{path}.in_cluster.replicas"),
                format!("in-cluster {engine} runs a single server; replication is not modelled"),
            )
            .help = Some("use a managed service for replication, or one replica".into());
        }
    };
    for (i, d) in bp.databases.iter().enumerate() {
        let path = format!("databases[{i}]");
        if d.deployment == Deployment::InCluster {
            // A standby and read replicas are managed-service settings; in the cluster only a
            // MongoDB replica set (`in_cluster.replicas` ≥ 2) gives a second copy.
            let replica_set =
                d.engine == DatabaseEngine::Mongodb && d.in_cluster.replicas.unwrap_or(1) >= 2;
            if d.ha && !replica_set {
                c.error(
                    &format!("{path}.ha"),
                    "an in-cluster database runs without a standby; `ha: true` would be ignored",
                )
                .help = Some(if d.engine == DatabaseEngine::Mongodb {
                    "give `in_cluster.replicas: 3` for a replica set, or drop `ha`".into()
                } else {
                    "use `deployment: managed` for a standby, or drop `ha`".into()
                });
            }
            if d.replicas > 0 {
                c.error(
                    &format!("{path}.replicas"),
                    format!(
                        "an in-cluster database has no read replicas; `replicas: {}` would be ignored",
                        d.replicas
                    ),
                )
                .help = Some("use `in_cluster.replicas` (MongoDB), `deployment: managed`, or drop `replicas`".into());
            }
        }
        match d.engine {
            DatabaseEngine::Postgres => single(c, path.clone(), "PostgreSQL", &d.in_cluster),
            DatabaseEngine::Mysql => single(c, path.clone(), "MySQL", &d.in_cluster),
            DatabaseEngine::Mongodb => {}
        }
        if let Some(b) = &d.backup {
            if let Some(dest) = &b.destination
                && !dest.starts_with("s3://")
            {
                c.error(
                    &format!("{path}.backup.destination"),
                    format!("`{dest}` is not an `s3://` location"),
                )
                .expected = Some("an S3 (or S3-compatible) URL, `s3://bucket/prefix/`".into());
            }
            // The copy runs in a CronJob in the cluster, which has no cloud identity of its
            // own: without credentials it would fail every night.
            let in_cluster = crate::analysis::runs_in_cluster(
                c.provider,
                crate::analysis::DataKind::Database,
                d.deployment,
            );
            if in_cluster {
                blueprint_bucket_by_name(c, bp, &path, b);
            }
            // On EKS the job gets an IAM role of its own (IRSA) for the destination.
            let eks = c.provider == crate::catalog::Provider::Aws
                && bp.cluster.as_ref().is_some_and(|k| {
                    matches!(
                        k.platform,
                        crate::blueprint::types::Platform::Eks
                            | crate::blueprint::types::Platform::EksFargate
                    )
                });
            // On DigitalOcean, a destination in one of the blueprint's Spaces buckets gets a
            // Spaces key of its own from the platform module (`backend::digitalocean::spaces`).
            let spaces = c.provider == crate::catalog::Provider::Digitalocean
                && b.destination_bucket().is_some_and(|(bucket, _)| {
                    let prefix = format!("{}-{}", bp.name, c.loaded.env);
                    bp.buckets.iter().any(|x| x.name_in(&prefix) == bucket)
                });
            if in_cluster
                && !eks
                && !spaces
                && b.destination.is_some()
                && b.storage_secret.is_none()
            {
                let e = c.error(
                    &format!("{path}.backup.destination"),
                    "backups copied off the cluster need credentials for the object store, and the backup job has no cloud identity here (EKS gives it an IAM role; DigitalOcean a Spaces key for one of the blueprint's `buckets`)",
                );
                e.expected = Some("`backup.storage_secret` naming a Kubernetes Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into());
                e.help = Some("add `storage_secret: <name>-backup-credentials` (synth lists it in preconditions.json), or remove `destination` to keep the archives in the volume claim".into());
            }
            if let Some(s) = &b.schedule
                && s.split_whitespace().count() != 5
            {
                c.error(
                    &format!("{path}.backup.schedule"),
                    format!("`{s}` is not a cron schedule"),
                )
                .expected = Some(
                    "five fields: minute hour day-of-month month day-of-week, e.g. `0 2 * * *`"
                        .into(),
                );
            }
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        if k.deployment == Deployment::InCluster && k.ha {
            c.error(
                &format!("caches[{i}].ha"),
                "an in-cluster cache has no automatic failover (its replicas follow pod 0); `ha: true` would be ignored",
            )
            .help = Some("use `deployment: managed` for failover, or drop `ha`".into());
        }
    }
    for (i, q) in bp.queues.iter().enumerate().filter(|(_, q)| !q.sqs()) {
        single(c, format!("queues[{i}]"), "RabbitMQ", &q.in_cluster);
    }
}

/// On EKS a workload that uses tables, buckets or SQS queues gets an IAM role through its ServiceAccount
/// (IRSA), which the `platform` module creates (`backend::aws::service_accounts`). `default`
/// is not one to create: Kubernetes' ServiceAccount controller makes it in every namespace
/// as the namespace appears (kubernetes.io/docs/concepts/security/service-accounts, "Default
/// service accounts"), so `kubernetes_service_account_v1` fails with "already exists", and
/// every pod of the namespace that names no account runs as it, so its role would reach
/// them all. Refused, for an account of the workload's own.
fn default_account_with_role(c: &mut Checker, bp: &Blueprint, path: &str, s: &Service) {
    // The account is the workload's name unless it names another.
    let (field, sa) = match &s.service_account {
        Some(sa) => ("service_account", sa.as_str()),
        None => ("name", s.name.as_str()),
    };
    let eks = c.provider == crate::catalog::Provider::Aws
        && matches!(
            bp.platform(),
            Some(
                crate::blueprint::types::Platform::Eks
                    | crate::blueprint::types::Platform::EksFargate
            )
        );
    let needs_role = s.uses.iter().any(|u| {
        bp.tables.iter().any(|t| t.name == u.as_str())
            || bp.buckets.iter().any(|b| b.name == u.as_str())
            || bp.sqs_queues().any(|q| q.name == u.as_str())
    });
    if !(eks && needs_role && sa == "default") {
        return;
    }
    let e = c.error(
        &format!("{path}.{field}"),
        format!(
            "`{}` uses AWS resources, so its service account carries an IAM role (IRSA), and `default` cannot: Kubernetes creates it in every namespace (Terraform's create fails with \"already exists\"), and every pod that names no account runs as it",
            s.name
        ),
    );
    e.expected = Some("a service account of the workload's own".into());
    e.help = Some(if field == "name" {
        "name its account (`service_account: …`), or rename it".to_string()
    } else {
        format!(
            "drop `service_account` (the account is then `{}`), or name another",
            s.name
        )
    });
}

/// A backup `destination` is an S3 location, copied to verbatim by the job's `aws s3 sync`
/// and granted verbatim by its IAM role (`backend::aws::identity::backup_jobs`). A blueprint
/// bucket's S3 name is not its blueprint name (AWS derives `<name>-<env>-<bucket>-<account
/// id>`, DigitalOcean `<name>-<env>-<bucket>`, unless `buckets[].bucket` fixes it), so
/// `s3://<blueprint bucket name>/…` names another owner's bucket: the role would be granted
/// a stranger's bucket and every sync refused (or, were that bucket open, the dumps handed
/// to its owner). Refused, with the S3 name to write instead.
fn blueprint_bucket_by_name(
    c: &mut Checker,
    bp: &Blueprint,
    path: &str,
    b: &crate::blueprint::types::Backup,
) {
    let (Some(dest), Some((bucket, key))) = (&b.destination, b.destination_bucket()) else {
        return;
    };
    let Some((i, x)) = bp
        .buckets
        .iter()
        .enumerate()
        .find(|(_, x)| x.name == bucket)
    else {
        return;
    };
    let prefix = format!("{}-{}", bp.name, c.loaded.env);
    let s3_name = match c.provider {
        crate::catalog::Provider::Aws => x.bucket.clone().unwrap_or_else(|| {
            let account = bp
                .providers
                .aws
                .as_ref()
                .and_then(|a| a.account_id.clone())
                .unwrap_or_else(|| "<account id>".into());
            format!("{prefix}-{}-{account}", x.name)
        }),
        crate::catalog::Provider::Digitalocean => x.name_in(&prefix),
        // No bucket of the blueprint exists on a cluster someone else runs.
        crate::catalog::Provider::Kubernetes => return,
    };
    if s3_name == bucket {
        return;
    }
    let e = c.error(
        &format!("{path}.backup.destination"),
        format!(
            "`{dest}` names the S3 bucket `{bucket}`, not this blueprint's bucket `{bucket}`, whose S3 name is `{s3_name}`: the backup job (and its IAM role) would write to another owner's bucket"
        ),
    );
    e.expected = Some("the S3 name of the destination bucket".into());
    e.help = Some(format!(
        "write `s3://{s3_name}/{key}`, or give `buckets[{i}]` a fixed S3 name (`bucket: …`) and use that"
    ));
}

/// An environment variable name (or prefix) in the portable spelling: `A-Z`, `0-9`, `_`,
/// not starting with a digit.
pub(super) fn env_name(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}
