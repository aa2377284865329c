//! Turning DigitalOcean's VPC NAT gateway off (`providers.digitalocean.nat`,
//! `backend/digitalocean/egress.rs`). The nodes' default route points at the gateway through
//! the routing agent's Route, which lives in `platform`; the gateway lives in `infra`, applied
//! first. Applied in that order, `infra` removes the gateway while every node still routes
//! through it, and the cluster reaches nothing outside the VPC until `platform` removes the
//! Route. DigitalOcean's own order is the other one: "To remove the agent, we recommend that
//! you first remove the route CRDs" (docs.digitalocean.com/products/kubernetes/how-to/
//! use-routing-agent/, "Remove the Routing Agent").

use std::collections::BTreeMap;

use super::objects::Object;

const GATEWAY: &str = "infra: digitalocean_vpc_nat_gateway.egress";
const ROUTE: &str = "platform: kubernetes_manifest.egress_route";

/// The note when the gateway and its Route go.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    if old.contains_key(GATEWAY) && !new.contains_key(GATEWAY) && !new.contains_key(ROUTE) {
        return vec![format!(
            "{GATEWAY}: the VPC NAT gateway goes (`providers.digitalocean.nat`), and with it the addresses in `nat_public_ips` — tell the partners that allow-list them. Apply `terraform/platform` first, so its Route goes and the routing agent gives the nodes their own default route back, then `terraform/infra`: in the usual order the gateway is removed while every node still routes through it, and the cluster reaches nothing outside the VPC until `platform` is applied"
        )];
    }
    Vec::new()
}
