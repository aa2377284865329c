//! A fixed outbound address for the cluster (`providers.digitalocean.nat: single`): a VPC NAT
//! gateway in the stack's VPC, and the DOKS routing agent sending the nodes' internet traffic
//! through it. A partner that allow-lists callers gets `nat_public_ips`, as on AWS.
//!
//! DOKS nodes are Droplets with a public interface of their own, and send from its address
//! unless told otherwise; the VPC NAT gateway's "default gateway" setting serves Droplets
//! without one ("Automatic outbound internet connectivity when the NAT gateway is configured
//! as the default route for the VPC", docs.digitalocean.com/products/droplets/details/
//! private-droplets/). What DigitalOcean documents for a cluster is its routing agent: "You
//! can use this feature with a NAT gateway to make the outgoing traffic from the Kubernetes
//! cluster originate from one static egress IP address", with a `Route` of destination
//! `0.0.0.0/0` through the gateway's private address; the agent "creates /32 routes for the
//! control plane endpoint using the Droplet's default gateway", so the nodes keep reaching
//! the API server (docs.digitalocean.com/products/kubernetes/how-to/use-routing-agent/,
//! "Override Default Route"). DigitalOcean's own reference architecture does exactly this
//! and checks a pod's outbound address against the gateway's (digitalocean/
//! scale-with-simplicity, reference-architectures/nat-gateway: `routing_agent { enabled =
//! true }`, then a `kubernetes_manifest` Route in a second stack).
//!
//! - `infra`: the `digitalocean_vpc_nat_gateway` (`PUBLIC`, one size unit, attached to the
//!   stack's VPC, not as its default gateway) and `nat_public_ips`; `cluster.rs` turns the routing
//!   agent on (`routing_agent`, which DigitalOcean also turns on for a running cluster).
//! - `platform`: the Route, as a `kubernetes_manifest`. The gateway's private address is
//!   known only once the gateway exists, and the pinned provider (2.71.0) keeps it in the
//!   data source only (`vpcs[].gateway_ip`; the resource's `vpcs` block has none), which
//!   `platform` reads by name. `kubernetes_manifest` reads the kind's schema from the API
//!   server at plan: the Route's CRD comes with the routing agent, enabled by `infra`, which
//!   is applied first.
//!
//! Traffic inside the VPC (the managed databases' private hosts, other nodes) keeps its
//! connected route and never crosses the gateway; Spaces, the registry and every other
//! public endpoint do. `semantic::digitalocean::nat` refuses what cannot work (no VPC of the
//! stack's own, an existing VPC, no DOKS cluster, `per_zone`).

use crate::json;
use crate::terraform::{Module, data, interp, res};

use super::Ctx;
use crate::blueprint::types::Nat;

/// Whether this environment routes the cluster through a NAT gateway (the semantic checks
/// refused every other combination with `nat: single`).
pub fn wanted(ctx: &Ctx) -> bool {
    let bp = ctx.v.bp;
    ctx.doks()
        && bp.cluster.is_some()
        && bp.network.as_ref().is_some_and(|n| n.existing.is_none())
        && bp.providers.digitalocean.as_ref().and_then(|d| d.nat) == Some(Nat::Single)
}

/// The gateway's name, which `platform` reads it by: `<name>-<env>-nat` ("Must be unique and
/// may only contain alphanumeric characters, dashes, and periods", DigitalOcean's
/// `digitalocean.cloud.vpc_nat_gateway` module, docs.digitalocean.com/reference/ansible/).
fn name(ctx: &Ctx) -> String {
    format!("{}-nat", ctx.prefix)
}

/// `infra`: the gateway in the stack's VPC and the addresses it sends from.
pub fn lower(ctx: &Ctx, m: &mut Module) {
    if !wanted(ctx) {
        return;
    }
    let Some(vpc) = ctx.vpc() else {
        return;
    };
    let gateway = res("digitalocean_vpc_nat_gateway", "egress");
    // One size unit: "Each size unit provides 25 Mbps of symmetrical bandwidth and 100 GiB
    // of outbound data transfer per month" (reference-architectures/nat-gateway, Cost
    // Considerations); `size` is a number in the provider's schema. No `default_gateway`:
    // that makes the gateway the default route of Private Droplets (no public interface),
    // which DOKS nodes are not — they are routed by the routing agent's Route — and
    // DigitalOcean's tested reference architecture leaves it unset.
    m.file("network").resource(
        &gateway,
        json!({
            "name": name(ctx),
            "type": "PUBLIC",
            "region": &ctx.region,
            "size": 1,
            "vpcs": [{"vpc_uuid": vpc.id()}],
        }),
    );
    m.file("outputs").output(
        "nat_public_ips",
        interp(&format!(
            "flatten([for e in {} : [for g in e.public_gateways : g.ipv4]])",
            gateway.path("egresses")
        )),
        "Public IPv4 addresses the cluster's outbound traffic leaves from (the VPC NAT gateway's, once `platform` has routed the nodes through it): what a partner allow-lists",
    );
    ctx.note(format!(
        "providers.digitalocean.nat: the nodes send through the VPC NAT gateway `{}` once `terraform/platform` is applied (its Route for the DOKS routing agent); until then, and always for the Kubernetes API and the VPC, they use their own addresses",
        name(ctx)
    ));
}

/// `platform`: the routing agent's Route sending every node's default route through the
/// gateway's private address, read by name.
pub fn platform(ctx: &Ctx, m: &mut Module) {
    if !wanted(ctx) {
        return;
    }
    let gateway = data("digitalocean_vpc_nat_gateway", "egress");
    let ip = format!("one({}).gateway_ip", gateway.path("vpcs"));
    m.file("egress")
        .resource(&gateway, json!({"name": name(ctx)}))
        .resource(
            &res("kubernetes_manifest", "egress_route"),
            json!({"manifest": {
                "apiVersion": "networking.doks.digitalocean.com/v1alpha1",
                "kind": "Route",
                "metadata": {"name": "default-via-nat-gateway"},
                "spec": {
                    "destinations": ["0.0.0.0/0"],
                    "gateways": [interp(&ip)],
                },
            }}),
        );
}
