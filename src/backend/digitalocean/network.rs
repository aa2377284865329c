//! The VPC: one `digitalocean_vpc` per environment with the blueprint's range and region.
//! DigitalOcean VPCs are regional and flat — no subnets, zones, NAT gateways or flow logs —
//! so those settings of an AWS-style network are reported, not dropped silently.

use crate::json;

use super::Ctx;
use crate::blueprint::types::{Nat, Network};
use crate::terraform::{Module, res};

pub fn lower(ctx: &Ctx, net: &Network, m: &mut Module) {
    let name = net.name.clone().unwrap_or_else(|| ctx.prefix.clone());
    let vpc = res("digitalocean_vpc", "main");
    m.file("network").resource(
        &vpc,
        json!({
            "name": name,
            "region": &ctx.region,
            "ip_range": &net.cidr,
            "description": format!("{} {} network (managed by infragen)", ctx.v.bp.name, ctx.v.env),
        }),
    );
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
        lost.push(format!(
            "nat `{nat}` (nodes reach the internet directly; pod egress is limited by network policies)"
        ));
        if net.flow_logs.enabled {
            lost.push("flow_logs".into());
        }
        ctx.note(format!(
            "network: a DigitalOcean VPC is one regional range ({}); not expressible: {}",
            net.cidr,
            lost.join("; ")
        ));
    }
}
