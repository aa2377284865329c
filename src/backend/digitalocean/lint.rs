//! infragen's own DigitalOcean lint rules — checkov has none for DOKS or managed databases
//! (only CKV_DIO_1-4 for Spaces and Droplets). Findings are warnings shown by `synth` and
//! `validate`, never errors: the output is still generated.
//!
//! | rule | warns when |
//! |---|---|
//! | `do-ha` | the control plane is not HA in a production-named environment |
//! | `do-auto-upgrade` | auto-upgrade is off in production, or on without a maintenance window |
//! | `do-control-plane-firewall` | no `cluster.endpoint.allowed_cidrs`: the API is open to the internet (the firewall is early access, asked of DigitalOcean support) |
//! | `do-vpc` | the cluster or a database has no VPC (`network`) |
//! | `do-project-name` | another environment names its `digitalocean_project` alike (unique per account) |
//! | `do-load-balancer-name` | another environment's edge load balancer has this one's name (one account: the second cluster takes over the first's) |
//! | `do-vpc-overlap` | another environment's `network.cidr` overlaps this one's (one account refuses the second) |
//! | `do-node-count` | the default pool can shrink below 2 nodes in production |
//! | `do-droplet-limit` | the pools can grow past an account's default Droplet limit (25) |
//! | `do-database-firewall` | a managed database has no firewall (no DOKS cluster to admit) |
//! | `do-database-standby` | a managed database or cache has no standby node in production |
//! | `do-database-connections` | the pods using a managed PostgreSQL database can open fewer than `POOL_PER_POD` connections each before its plan's connection limit (`crate::backend::connection_limit`), and it has no `pool` |
//! | `do-registry-tier` | the registry tier holds fewer repositories than the blueprint lists |
//! | `do-no-waf` | the blueprint asks for a WAF (see `platform.rs`) |
//! | `do-client-ip` | `ingress.rate_limit` or an address allow-list annotation counts per client, which ingress-nginx cannot see behind the load balancer without PROXY protocol (no host to report, `platform.rs`) |
//!
//! Versions (the DOKS minor, managed engines, the platform charts) are judged against the
//! versions catalog for every back-end alike: `crate::semantic::versions`.

use super::Ctx;
use super::cluster::{auto_upgrade, ha};

/// The Droplets a new DigitalOcean account may run (raised on request).
const DROPLET_LIMIT: u32 = 25;

pub fn check(ctx: &Ctx) {
    client_ip(ctx);
    load_balancer_name(ctx);
    vpc_overlap(ctx);
    project_name(ctx);
    cluster(ctx);
    data_services(ctx);
    connections(ctx);
    registry(ctx);
}

fn cluster(ctx: &Ctx) {
    let bp = ctx.v.bp;
    let Some(cl) = bp.cluster.as_ref() else {
        return;
    };
    if !ctx.doks() {
        return;
    }
    let env = ctx.v.env;
    if ctx.production() && !ha(cl) {
        ctx.warn(
            "do-ha",
            format!("the control plane of `{env}` is not highly available (`cluster.ha: false`); HA cannot be turned off later but can be turned on"),
        );
    }
    if ctx.production() && !auto_upgrade(cl) {
        ctx.warn(
            "do-auto-upgrade",
            format!("auto_upgrade is off in `{env}`: patch releases wait for a manual upgrade"),
        );
    }
    if auto_upgrade(cl) && cl.maintenance_window.is_none() {
        ctx.warn(
            "do-auto-upgrade",
            "auto_upgrade without `cluster.maintenance_window`: DigitalOcean picks the upgrade time",
        );
    }
    // The remedy is an early-access feature (`cluster::CONTROL_PLANE_FIREWALL_ACCESS`): said
    // with it, so that a team does not set `allowed_cidrs` on the strength of this warning
    // alone.
    if cl.endpoint.allowed_cidrs.is_empty() {
        ctx.warn(
            "do-control-plane-firewall",
            "the DOKS API endpoint is always public, and without `cluster.endpoint.allowed_cidrs` no control-plane firewall restricts who can reach it (DOKS's control-plane firewall is in early access: ask DigitalOcean support to enable it for the team before setting `allowed_cidrs`)",
        );
    }
    if bp.network.is_none() {
        ctx.warn(
            "do-vpc",
            "the cluster has no `network`: it joins the region's default VPC",
        );
    }
    // "The upper limit is constrained by the Droplet limit on your account, which is 25 by
    // default, and the number of Droplets already running"
    // (docs.digitalocean.com/products/kubernetes/how-to/autoscale/): past it the autoscaler
    // cannot add the nodes the blueprint allows, and a create asking for more fails.
    let most: u32 = bp.node_pools.iter().map(|p| p.max.max(p.min)).sum();
    if most > DROPLET_LIMIT {
        ctx.warn(
            "do-droplet-limit",
            format!(
                "the node pools of `{env}` can grow to {most} nodes, past the Droplet limit of {DROPLET_LIMIT} a DigitalOcean account starts with (shared with every other Droplet and environment in it); ask DigitalOcean to raise it before relying on them"
            ),
        );
    }
    if let Some(p) = bp.node_pools.first()
        && ctx.production()
        && p.min < 2
    {
        ctx.warn(
            "do-node-count",
            format!(
                "the default node pool `{}` can shrink to {} node(s) in `{env}`: one node failure stops every pod on it",
                p.name, p.min
            ),
        );
    }
}

/// A DigitalOcean load balancer is a proxy: "backend servers see requests as though they had
/// originated from load balancers" unless PROXY protocol passes the client's address on
/// (<https://blog.digitalocean.com/load-balancers-now-support-proxy-protocol/>), which the
/// platform turns on only when the Ingress has a host for the load balancer's Service to
/// report (`platform::proxy_protocol_host`). Without it everything ingress-nginx does per
/// `$remote_addr` sees a few addresses: `limit-rpm`/`limit-rps` give every client one shared
/// budget (at the limit, the whole site answers 503), and an address allow-list (an office
/// range for an admin UI: `whitelist-source-range`, `allowlist-source-range`,
/// `denylist-source-range`) admits no one from outside — or, listing the VPC, everyone.
fn client_ip(ctx: &Ctx) {
    let bp = ctx.v.bp;
    let Some(ing) = bp
        .ingress
        .as_ref()
        .filter(|i| i.enabled && i.gateway.is_none())
    else {
        return;
    };
    if !ctx.doks() || bp.cluster.is_none() || super::platform::proxy_protocol_host(ctx).is_some() {
        return;
    }
    let mut per_client: Vec<String> = Vec::new();
    if let Some(r) = &ing.rate_limit {
        per_client.push(format!(
            "`ingress.rate_limit` ({} per {})",
            r.requests, r.window
        ));
    }
    let lists = [
        "whitelist-source-range",
        "allowlist-source-range",
        "denylist-source-range",
    ];
    per_client.extend(
        ing.annotations
            .keys()
            .filter(|k| lists.iter().any(|l| k.ends_with(l)))
            .map(|k| format!("`ingress.annotations.{k}`")),
    );
    if per_client.is_empty() {
        return;
    }
    ctx.warn(
        "do-client-ip",
        format!(
            "{} counts per client address, but ingress-nginx sees the DigitalOcean load balancer's (and nodes') addresses, not the clients': a rate limit becomes one budget for all clients (at the limit every request is refused), an allow-list admits no one from outside; give the Ingress a host (`ingress.hosts`, not a wildcard): infragen then turns PROXY protocol on at the load balancer and in ingress-nginx together",
            per_client.join(" and ")
        ),
    );
}

fn data_services(ctx: &Ctx) {
    let bp = ctx.v.bp;
    // (name, ha, nodes, what gives it a standby): a database's `ha` adds the standby node
    // itself, while a cache's `ha` only turns on failover among `nodes`, which must be 2 or
    // more (refused otherwise, `semantic`), so a cache needs both said.
    let managed: Vec<(&str, bool, u32, &str)> = ctx
        .managed_databases()
        .map(|d| (d.name.as_str(), d.ha, 0, "`ha: true`"))
        .chain(
            ctx.managed_caches()
                .map(|c| (c.name.as_str(), c.ha, c.nodes, "`ha: true` and `nodes: 2`")),
        )
        .collect();
    let has_cluster = ctx.doks() && bp.cluster.is_some();
    for (name, ha, nodes, standby) in managed {
        if !has_cluster {
            ctx.warn(
                "do-database-firewall",
                format!("`{name}` has no database firewall (no DOKS cluster to admit): it accepts connections from anywhere with its credentials"),
            );
        }
        // A cluster created without `private_network_uuid` "will be assigned to your
        // account's default VPC for the region" (DigitalOcean API reference, database
        // cluster `private_network_uuid`): it is in a VPC, the one every resource of the
        // account created there without one shares.
        if bp.network.is_none() {
            ctx.warn(
                "do-vpc",
                format!("`{name}` has no `network`: it joins the region's default VPC, shared with every resource of the account created there without a VPC of its own"),
            );
        }
        if ctx.production() && !ha && nodes < 2 {
            ctx.warn(
                "do-database-standby",
                format!(
                    "`{name}` has a single node in `{}`: no standby to fail over to (set {standby})",
                    ctx.v.env
                ),
            );
        }
    }
}

/// A managed PostgreSQL cluster refuses connections past its plan's limit ("FATAL: remaining
/// connection slots are reserved"): the pods using it at their most must fit
/// ([`crate::backend::connection_limit`]). A database with a connection pool
/// (`databases[].pool`, DigitalOcean's PgBouncer) takes the pool's `size` backend
/// connections whatever the number of pods (client connections queue in PgBouncer), and
/// `semantic::pools` refuses a pool past the limit, so its services and jobs are not judged;
/// its release Jobs go around the pool (`wiring::pool`) and share what the pool leaves.
fn connections(ctx: &Ctx) {
    use crate::backend::connection_limit::{Clients, Server, judge};
    use crate::blueprint::types::DatabaseEngine;
    use crate::catalog::SizeKind;
    use crate::semantic::digitalocean::{
        PG_CONNECTIONS_PER_GIB, PG_RESERVED_CONNECTIONS, pg_connection_limit,
    };
    if !ctx.doks() || ctx.v.bp.cluster.is_none() {
        return;
    }
    for d in ctx
        .managed_databases()
        .filter(|d| d.engine == DatabaseEngine::Postgres)
    {
        let slug = ctx.v.size(SizeKind::Database, d.size.as_deref(), &d.sizes);
        let Some(limit) = pg_connection_limit(&slug) else {
            continue;
        };
        let why = format!(
            "{PG_CONNECTIONS_PER_GIB} per GiB of memory, {PG_RESERVED_CONNECTIONS} reserved"
        );
        let (server, pods) = match &d.pool {
            None => (
                Server {
                    name: &d.name,
                    size: &slug,
                    limit,
                    why,
                    way_out: "put DigitalOcean's connection pool in front of it (`databases[].pool: { mode: transaction, size: N }`, PgBouncer: the pods share N backend connections)",
                },
                crate::k8s::quota::client_pods(ctx.v, &d.name),
            ),
            Some(pool) => (
                Server {
                    name: &d.name,
                    size: &slug,
                    limit: limit.saturating_sub(pool.size),
                    why: format!(
                        "directly: {limit} ({why}) less the {} its pool `{}` holds; the release Jobs connect around the pool, whose pooling breaks the session features migrations use",
                        pool.size,
                        crate::wiring::pool::name(&d.name)
                    ),
                    way_out: "lower `pool.size` to leave them room",
                },
                crate::k8s::quota::release_pods(ctx.v, &d.name),
            ),
        };
        let clients = Clients {
            noun: "pod",
            list: pods,
        };
        if let Some(message) = judge(&server, &clients) {
            ctx.warn("do-database-connections", message);
        }
    }
}

fn registry(ctx: &Ctx) {
    let Some(r) = ctx.v.bp.registry.as_ref() else {
        return;
    };
    let tier = super::registry::tier(ctx);
    if let Some(limit) = super::registry::tier_limit(&tier)
        && r.repositories.len() > limit
    {
        ctx.warn(
            "do-registry-tier",
            format!(
                "registry tier `{tier}` holds {limit} repositories, the blueprint lists {}; use `basic` (5) or `professional` (unlimited)",
                r.repositories.len()
            ),
        );
    }
}

/// "Network ranges cannot overlap with other networks in the same account"
/// (<https://docs.digitalocean.com/reference/terraform/reference/resources/vpc/>): a
/// `network.cidr` without a per-environment overlay gives every environment one range, and
/// in one account the second environment's VPC is refused. Which account an environment
/// goes to is not in the blueprint, so this warns — the one place the clash is judged
/// (`accounts.rs` compares the names `synth --env all` lowers, not the ranges).
///
/// An environment in an existing VPC (`network.existing`) creates none, so it clashes with
/// nothing; two environments sharing one existing VPC is no clash either. An environment that
/// creates its VPC still clashes with another's existing one of an overlapping range.
fn vpc_overlap(ctx: &Ctx) {
    let loaded = ctx.v.loaded;
    let Some(mine) = ctx
        .v
        .bp
        .network
        .as_ref()
        .filter(|n| n.existing.is_none())
        .and_then(|n| n.cidr.parse::<ipnet::Ipv4Net>().ok())
    else {
        return;
    };
    let clashes: Vec<String> = loaded
        .environments
        .iter()
        .filter(|e| *e != ctx.v.env)
        .filter_map(|e| {
            let other =
                crate::blueprint::load(&loaded.file, loaded.text.as_bytes(), loaded.provider, e)
                    .ok()?;
            let theirs: ipnet::Ipv4Net = other.blueprint.network?.cidr.parse().ok()?;
            (mine.contains(&theirs.network()) || theirs.contains(&mine.network()))
                .then(|| format!("`{e}` ({theirs})"))
        })
        .collect();
    if !clashes.is_empty() {
        // On a blueprint AWS builds too, the range also holds AWS's subnets: a range of
        // DigitalOcean's own goes in its part, where AWS never sees it.
        let own_range = if ctx.v.bp.providers.aws.is_some() {
            "`environments.<env>.per_provider.digitalocean.network.cidr`, which leaves AWS's range and subnets alone"
        } else {
            "`environments.<env>.network.cidr`"
        };
        ctx.warn(
            "do-vpc-overlap",
            format!(
                "`network.cidr` {mine} overlaps the VPC range of {}: DigitalOcean refuses a VPC range overlapping another network in the same account, so in one account the second environment's VPC fails; give each environment its own range ({own_range}) or its own account",
                clashes.join(", ")
            ),
        );
    }
}

/// The cloud controller looks a Service's load balancer up by name until it has recorded the
/// load balancer's id on the Service (`findLoadBalancerByName` in
/// digitalocean/digitalocean-cloud-controller-manager `cloud-controller-manager/do/loadbalancers.go`):
/// a second environment in the same account whose edge names its load balancer alike
/// (`kubernetes.ingress_controller.load_balancer_name` / `load_balancer.name` without `{env}`)
/// finds the first one's and points it at its own nodes, taking the first environment's
/// traffic. Which account an environment goes to is not in the blueprint, so this warns.
fn load_balancer_name(ctx: &Ctx) {
    let edge = |bp: &crate::blueprint::types::Blueprint| {
        // As DigitalOcean builds it: an `eks` blueprint's cluster is a DOKS one here too.
        bp.platform_on(crate::catalog::Provider::Digitalocean)
            == Some(crate::blueprint::types::Platform::Doks)
            && (bp
                .kubernetes
                .as_ref()
                .is_some_and(|k| k.ingress_controller.is_some())
                || bp
                    .ingress
                    .as_ref()
                    .is_some_and(|i| i.enabled && i.gateway.is_some()))
    };
    let bp = ctx.v.bp;
    if !edge(bp) {
        return;
    }
    let loaded = ctx.v.loaded;
    let mine = super::platform::name_of_load_balancer(bp, &ctx.prefix);
    let same: Vec<String> = loaded
        .environments
        .iter()
        .filter(|e| *e != ctx.v.env)
        .filter(|e| {
            crate::blueprint::load(&loaded.file, loaded.text.as_bytes(), loaded.provider, e)
                .is_ok_and(|o| {
                    let prefix = format!("{}-{e}", o.blueprint.name);
                    edge(&o.blueprint)
                        && super::platform::name_of_load_balancer(&o.blueprint, &prefix) == mine
                })
        })
        .map(|e| format!("`{e}`"))
        .collect();
    if !same.is_empty() {
        ctx.warn(
            "do-load-balancer-name",
            format!(
                "the load balancer `{mine}` is also {}'s: DigitalOcean's cloud controller finds a Service's load balancer by name, so in one account the second cluster takes over the first one's load balancer and its traffic; put `{{env}}` in the load balancer's name or give each environment its own account",
                same.join(", ")
            ),
        );
    }
}

/// A project's name "must be unique" in its account
/// (<https://docs.digitalocean.com/reference/api/reference/projects/>): a
/// `providers.digitalocean.project` without `{env}` names every environment's project alike.
fn project_name(ctx: &Ctx) {
    let loaded = ctx.v.loaded;
    let project = |bp: &crate::blueprint::types::Blueprint| {
        bp.providers
            .digitalocean
            .as_ref()
            .and_then(|d| d.project.clone())
    };
    let Some(mine) = project(ctx.v.bp) else {
        return;
    };
    let same: Vec<&str> = loaded
        .environments
        .iter()
        .filter(|e| *e != ctx.v.env)
        .filter(|e| {
            crate::blueprint::load(&loaded.file, loaded.text.as_bytes(), loaded.provider, e)
                .is_ok_and(|o| project(&o.blueprint).as_deref() == Some(mine.as_str()))
        })
        .map(String::as_str)
        .collect();
    if !same.is_empty() {
        ctx.warn(
            "do-project-name",
            format!(
                "the project `{mine}` is also {}'s: a project name is unique in a DigitalOcean account, so in one account the second environment's project fails; put `{{env}}` in `providers.digitalocean.project` or give each environment its own account",
                same.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
}
