//! The VPC: one `digitalocean_vpc` per environment with the blueprint's range and region.

use serde_json::json;

use super::Ctx;
use crate::blueprint::types::Network;
use crate::terraform::{Module, res};

pub fn lower(ctx: &Ctx, net: &Network, m: &mut Module) {
    let name = net.name.clone().unwrap_or_else(|| ctx.prefix.clone());
    let vpc = res("digitalocean_vpc", "main");
    m.file("network").resource(
        &vpc,
        json!({
            "name": name,
            "region": ctx.region,
            "ip_range": net.cidr,
            "description": format!("{} {} network (managed by infragen)", ctx.v.bp.name, ctx.v.env),
        }),
    );
    m.file("outputs").output("vpc_id", vpc.id(), "VPC id");
}
