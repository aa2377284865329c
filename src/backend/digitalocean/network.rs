//! The VPC: one `digitalocean_vpc` per environment with the blueprint's range and region,
//! or, with `network.existing`, an existing VPC read by its UUID and checked at plan.
//! DigitalOcean VPCs are regional and flat — no subnets, zones, route tables or flow logs —
//! so those settings of an AWS-style network are reported, not dropped silently. A VPC NAT
//! gateway is DigitalOcean's own setting, `providers.digitalocean.nat` (`egress.rs`), not
//! `network.nat`.

use crate::{json, tpl};

use super::Ctx;
use crate::blueprint::types::{Nat, Network};
use crate::terraform::{Module, Ref, data, interp, res};

/// The VPC: the created one, or the existing one's data source.
pub fn vpc(net: &Network) -> Ref {
    if net.existing.is_some() {
        data("digitalocean_vpc", "main")
    } else {
        res("digitalocean_vpc", "main")
    }
}

pub fn lower(ctx: &Ctx, net: &Network, m: &mut Module) {
    let vpc = vpc(net);
    if let Some(existing) = &net.existing {
        read(ctx, net, &existing.vpc_id, m);
    } else {
        let name = net.name.clone().unwrap_or_else(|| ctx.prefix.clone());
        m.file("network").resource(
            &vpc,
            json!({
                "name": name,
                "region": &ctx.region,
                "ip_range": &net.cidr,
                "description": format!("{} {} network (managed by infragen)", ctx.v.bp.name, ctx.v.env),
            }),
        );
    }
    m.file("outputs").output("vpc_id", vpc.id(), "VPC id");

    let s = &net.subnets;
    let mut lost = Vec::new();
    if !net.zones.is_empty() {
        lost.push(format!("zones ({})", net.zones.join(", ")));
    }
    let tiers = [
        ("public", &s.public),
        ("private", &s.private),
        ("database", &s.database),
        ("cache", &s.cache),
    ];
    let subnets: Vec<String> = tiers
        .iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(t, c)| format!("{t} {}", c.join(" ")))
        .collect();
    if !subnets.is_empty() {
        lost.push(format!("subnets ({})", subnets.join("; ")));
    }
    if !lost.is_empty() {
        let nat = match net.nat {
            Nat::PerZone => "per_zone",
            Nat::Single => "single",
            Nat::None => "none",
        };
        // A VPC NAT gateway is `providers.digitalocean.nat`, for a VPC the stack creates.
        let instead = if net.existing.is_some() {
            ""
        } else {
            "; for one fixed outbound address set `providers.digitalocean.nat: single`"
        };
        lost.push(format!(
            "nat `{nat}` (nodes reach the internet from their own addresses{instead})"
        ));
    }
    // Said only where written: `flow_logs` defaults on for AWS's sake.
    if net.flow_logs.as_ref().is_some_and(|f| f.enabled) {
        lost.push("flow_logs (a DigitalOcean VPC records no flow logs)".into());
    }
    if !net.endpoints.is_empty() {
        lost.push(format!(
            "endpoints ({}: AWS PrivateLink, which DigitalOcean has no counterpart for)",
            net.endpoints
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "network: a DigitalOcean VPC is one regional range ({}); not expressible: {}",
            net.cidr,
            lost.join("; ")
        ));
    }
}

/// An existing VPC, read by id (the data source takes `id`, `name` or `region`, mutually
/// exclusive: a `region` alone would return that region's default VPC,
/// docs.digitalocean.com/reference/terraform/reference/data-sources/vpc/) and never created
/// or changed. Postconditions fail `terraform plan`, before anything is created, naming the
/// blueprint field when the VPC is not what the blueprint says:
/// - its range is `network.cidr`: the databases' and caches' NetworkPolicies admit that range,
///   and the DOKS pod and Service ranges were checked against it at synth;
/// - it is in `providers.digitalocean.region`: "We do not support individual VPC networks
///   that span between datacenter regions"
///   (docs.digitalocean.com/products/networking/vpc/details/limits/), so a cluster or
///   database of another region cannot join it.
fn read(ctx: &Ctx, net: &Network, id: &str, m: &mut Module) {
    let cidr = &net.cidr;
    let region = &ctx.region;
    m.file("network").resource(
        &vpc(net),
        json!({
            "id": id,
            "lifecycle": {"postcondition": [
                {
                    "condition": interp(&format!("self.ip_range == \"{cidr}\"")),
                    "error_message": tpl!(
                        format!("network.cidr: the VPC {id} (network.existing.vpc_id) has the range "),
                        interp("self.ip_range"),
                        format!(", not {cidr}; give the VPC's range (network policies admit it, and the cluster's pod and Service ranges must stay clear of it)"),
                    ),
                },
                {
                    "condition": interp(&format!("self.region == \"{region}\"")),
                    "error_message": tpl!(
                        format!("providers.digitalocean.region: the VPC {id} (network.existing.vpc_id) is in "),
                        interp("self.region"),
                        format!(", not {region}; a DigitalOcean VPC does not span regions, so the cluster and databases can join only a VPC of their own region"),
                    ),
                },
            ]},
        }),
    );
    if net.name.is_some() {
        ctx.note(format!(
            "network.name: the existing VPC {id} (network.existing) keeps its own name; `name` names only a VPC infragen creates"
        ));
    }
}
