//! DOKS: the cluster in the VPC with its default node pool (the blueprint's first pool), and
//! one `digitalocean_kubernetes_node_pool` per further pool.
//!
//! Autoscaled pools get their initial `node_count` once: `ignore_changes` keeps Terraform
//! from resetting what the autoscaler chose. With `auto_upgrade`, DOKS applies patch
//! releases itself and drift in `version` is ignored (a plan would otherwise try to
//! downgrade). The version is always the newest DOKS release of the blueprint's minor
//! (`data.digitalocean_kubernetes_versions` with `version_prefix`), never a fixed slug:
//! DOKS accepts only the slugs it currently offers.

use crate::json;
use crate::terraform::{Json, Object};
use crate::tpl;

use super::Ctx;
use crate::blueprint::types::{Cluster, NodePool, TaintEffect};
use crate::catalog::SizeKind;
use crate::terraform::{Module, data, ident, res};

/// Whether the cluster pulls from the blueprint's registry through DOKS registry
/// integration (default: whenever there is a registry).
pub fn registry_integration(ctx: &Ctx) -> bool {
    let bp = ctx.v.bp;
    bp.registry.is_some()
        && bp
            .cluster
            .as_ref()
            .and_then(|c| c.registry_integration)
            .unwrap_or(true)
}

/// `cluster.ha`; unset means HA, as an EKS control plane always is.
pub fn ha(cl: &Cluster) -> bool {
    cl.ha.unwrap_or(true)
}

/// `cluster.auto_upgrade`; unset means on (patch releases in the maintenance window).
pub fn auto_upgrade(cl: &Cluster) -> bool {
    cl.auto_upgrade.unwrap_or(true)
}

/// The version as written in the blueprint (or the catalog default).
pub fn blueprint_version(ctx: &Ctx) -> String {
    let given = ctx.v.bp.cluster.as_ref().and_then(|c| c.version.as_deref());
    ctx.v.version(given, "kubernetes")
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let Some(cl) = ctx.v.bp.cluster.as_ref() else {
        return;
    };
    if !ctx.doks() {
        return;
    }
    let bp = ctx.v.bp;
    let cluster = ctx.cluster();
    let auto_upgrade = auto_upgrade(cl);
    let mut ignore: Vec<String> = Vec::new();

    // DOKS accepts only the release slugs it currently offers (`1.35.1-do.0`), and retires
    // them as patches come out: the version is always resolved through the API from the
    // blueprint's minor, so it is one DOKS offers on the day of the apply. With
    // auto_upgrade DOKS moves the cluster to newer patches itself, so drift is ignored.
    let wanted = blueprint_version(ctx);
    let prefix = match super::catalog::minor(&wanted) {
        Some((ma, mi)) => format!("{ma}.{mi}."),
        None => format!("{wanted}."),
    };
    let versions = data("digitalocean_kubernetes_versions", "cluster");
    m.file("cluster")
        .resource(&versions, json!({"version_prefix": &prefix}));
    if wanted.contains("-do.") {
        ctx.note(format!(
            "cluster.version `{wanted}` names one DOKS release; DOKS retires release slugs as patches come out, so the cluster runs the newest `{prefix}x` release DOKS offers (data.digitalocean_kubernetes_versions)"
        ));
    }
    if auto_upgrade {
        ignore.push("version".into());
    }
    let version = versions.attr("latest_version");

    let mut body = json!({
        "name": ctx.cluster_name(),
        "region": &ctx.region,
        "version": version,
        "ha": ha(cl),
        "auto_upgrade": auto_upgrade,
        "surge_upgrade": cl.surge_upgrade.unwrap_or(true),
        "registry_integration": registry_integration(ctx),
        "tags": ctx.tags(),
    });
    if let Some(vpc) = ctx.vpc() {
        body["vpc_uuid"] = json!(vpc.id());
    }
    // VPC-native networking where the blueprint names its ranges (`overlay.rs`). Both force
    // a new cluster: named for a running cluster, they are noted, not applied.
    if let Some(o) = super::overlay::ranges(ctx) {
        body["cluster_subnet"] = json!(o.pods.to_string());
        body["service_subnet"] = json!(o.services.to_string());
        ignore.push("cluster_subnet".into());
        ignore.push("service_subnet".into());
    }
    // `start_time` is "HH:MM" (DO API, kubernetes `maintenance_policy`, e.g. `15:00`; doctl's
    // `--maintenance-window day=HH:MM`); the provider sends the string and reads it back
    // as is, with no DiffSuppressFunc (terraform-provider-digitalocean,
    // kubernetes.go expandMaintPolicyOpts/flattenMaintPolicyOpts), and no source says DOKS
    // moves a start with minutes, so minutes are written as given. The length is DOKS's
    // own: "the four hour maintenance window" (doctl), the read-only `duration`.
    if let Some(w) = cl.maintenance_window {
        body["maintenance_policy"] = json!({"day": w.day_name(), "start_time": w.start()});
        if w.end_given() {
            ctx.note(format!(
                "cluster.maintenance_window `{w}`: a DOKS maintenance window lasts four hours from its start ({} {} UTC); the end written is not used",
                w.day_name(),
                w.start()
            ));
        }
        if !auto_upgrade {
            ctx.note(format!(
                "cluster.maintenance_window `{}`: DOKS applies it only to automatic upgrades, and auto_upgrade is off in `{}`",
                w,
                ctx.v.env
            ));
        }
    }
    // The routing agent routes the nodes through the VPC NAT gateway (`egress.rs`).
    if super::egress::wanted(ctx) {
        body["routing_agent"] = json!({"enabled": true});
    }
    if !cl.endpoint.allowed_cidrs.is_empty() {
        body["control_plane_firewall"] =
            json!({"enabled": true, "allowed_addresses": &cl.endpoint.allowed_cidrs});
        ctx.note(control_plane_firewall_note(&cl.endpoint.allowed_cidrs));
    }
    if cl.registry_integration == Some(true) && bp.registry.is_none() {
        ctx.note(
            "cluster.registry_integration is set but the blueprint has no `registry`; integration is left off",
        );
    }

    if let Some((first, rest)) = bp.node_pools.split_first() {
        let (pool, autoscaled) = pool_body(ctx, first, true);
        if autoscaled {
            ignore.push("node_pool[0].node_count".into());
        }
        body["node_pool"] = pool;
        for p in rest {
            let (mut pool, autoscaled) = pool_body(ctx, p, false);
            pool["cluster_id"] = json!(cluster.id());
            if autoscaled {
                pool["lifecycle"] = json!({"ignore_changes": ["node_count"]});
            }
            m.file("cluster").resource(
                &res("digitalocean_kubernetes_node_pool", &ident(&p.name)),
                pool,
            );
        }
        ctx.mark("node_pools");
    }
    if !ignore.is_empty() {
        body["lifecycle"] = json!({"ignore_changes": ignore});
    }
    m.file("cluster").resource(&cluster, body);
    ctx.mark("cluster");

    // EKS settings DOKS has no counterpart for are noted by `semantic::cluster_fields`.

    m.file("outputs")
        .output("cluster_id", cluster.id(), "DOKS cluster id")
        .output("cluster_name", cluster.attr("name"), "DOKS cluster name")
        .output(
            "cluster_endpoint",
            cluster.attr("endpoint"),
            "Kubernetes API endpoint",
        )
        .output(
            "kubeconfig_command",
            tpl!(
                "doctl kubernetes cluster kubeconfig save ",
                cluster.attr("name")
            ),
            "Writes a kubeconfig context for the cluster (doctl authenticated to the account)",
        );
}

/// DOKS's control-plane firewall is not open to every team: "Control plane firewall is in
/// early access. To request access, contact support" (DigitalOcean's API reference,
/// `control_plane_firewall`, digitalocean/openapi
/// `specification/resources/kubernetes/models/control_plane_firewall.yml`; doctl's flags came
/// with "This is still a per/user feature and can't be used by every DOKS users",
/// digitalocean/doctl#1540). What the API does with it for a team without access is not
/// documented, so the team asks first. Once it is on, the Kubernetes API answers only the
/// listed addresses: the `platform` module's kubernetes/helm providers and `kubectl apply -k`
/// reach it from wherever they run (a CI runner's address included).
const CONTROL_PLANE_FIREWALL_ACCESS: &str = "DOKS's control-plane firewall is in early access (DigitalOcean's API reference: \"To request access, contact support\"): ask DigitalOcean support to enable it for the team before the first apply, since what the API does with it for a team without access is not documented";

fn control_plane_firewall_note(allowed: &[String]) -> String {
    format!(
        "cluster.endpoint.allowed_cidrs ({}): {CONTROL_PLANE_FIREWALL_ACCESS}. Once it is on, the Kubernetes API answers only these addresses: run `terraform/platform` and `kubectl apply -k k8s/` (CI runners included) from one of them",
        allowed.join(", ")
    )
}

/// A node pool body (the default pool's block, or a separate pool resource without
/// `cluster_id`), and whether it autoscales.
fn pool_body(ctx: &Ctx, p: &NodePool, default: bool) -> (Json, bool) {
    let size = ctx.v.size(SizeKind::Node, p.size.as_deref(), &p.sizes);
    let desired = p.desired.unwrap_or(p.min);
    // The default pool keeps the system pods: it cannot scale to zero.
    let min = if default && p.min == 0 {
        ctx.note(format!(
            "node_pools[{}].min 0: the DOKS default pool keeps at least one node",
            p.name
        ));
        1
    } else {
        p.min
    };
    let autoscaled = min != p.max;
    let mut body = Object::new();
    body.insert("name", json!(&p.name));
    body.insert("size", json!(&size));
    body.insert("node_count", json!(desired.max(min)));
    if autoscaled {
        body.insert("auto_scale", json!(true));
        body.insert("min_nodes", json!(min));
        body.insert("max_nodes", json!(p.max));
    }
    if !p.labels.is_empty() {
        body.insert("labels", json!(&p.labels));
    }
    body.insert("tags", json!(ctx.tags()));
    // DigitalOcean taints its NVIDIA GPU nodes `nvidia.com/gpu:NoSchedule` itself ("You do not
    // need to apply this taint manually",
    // docs.digitalocean.com/products/kubernetes/how-to/add-node-pools/), and a node's taints
    // "must be unique by key and effect pair" (Kubernetes' node validation; the provider's
    // `taint` block says the same): the pool's own taint of that key and effect is left out,
    // with a note. The pods tolerate DigitalOcean's (`operator: Exists`, `k8s::workload`).
    let gpu_taint = |t: &&crate::blueprint::types::Taint| {
        crate::gpu::nvidia_droplet(&size)
            && t.key == crate::gpu::RESOURCE
            && t.effect == TaintEffect::NoSchedule
    };
    if let Some(t) = p.taints.iter().find(gpu_taint) {
        ctx.note(format!(
            "node_pools[{}]: taint `{}{}:NoSchedule` left out: DigitalOcean taints its NVIDIA GPU nodes `{}:NoSchedule` itself, and a node holds one taint per key and effect",
            p.name,
            t.key,
            t.value.as_deref().map(|v| format!("={v}")).unwrap_or_default(),
            crate::gpu::RESOURCE
        ));
    }
    let taints: Vec<_> = p.taints.iter().filter(|t| !gpu_taint(t)).collect();
    if !taints.is_empty() {
        let taints: Vec<Json> = taints
            .iter()
            .map(|t| {
                json!({
                    "key": &t.key,
                    "value": t.value.clone().unwrap_or_default(),
                    "effect": match t.effect {
                        TaintEffect::NoSchedule => "NoSchedule",
                        TaintEffect::PreferNoSchedule => "PreferNoSchedule",
                        TaintEffect::NoExecute => "NoExecute",
                    },
                })
            })
            .collect();
        body.insert("taint", Json::Array(taints));
    }
    let mut lost = Vec::new();
    if p.spot {
        lost.push(
            "`spot` (DigitalOcean has no spot or preemptible Droplets; the pool is on-demand)"
                .to_string(),
        );
    }
    if let Some(d) = &p.disk {
        lost.push(format!(
            "`disk` ({} GB; a Droplet's disk comes with its size slug `{size}`)",
            d.size_gb
        ));
    }
    if let Some(pct) = p.max_unavailable_percent {
        lost.push(format!(
            "`max_unavailable_percent` {pct} (DOKS upgrades pools with surge upgrades instead)"
        ));
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "node_pools[{}]: not expressible on DOKS: {}",
            p.name,
            lost.join("; ")
        ));
    }
    (Json::Object(body), autoscaled)
}
