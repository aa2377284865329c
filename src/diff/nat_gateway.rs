//! Turning DigitalOcean's VPC NAT gateway off (`providers.digitalocean.nat`,
//! `backend/digitalocean/egress.rs`). The nodes' default route points at the gateway through
//! the routing agent's Route, which lives in `platform`; the gateway lives in `infra`, applied
//! first. Applied in that order, `infra` removes the gateway while every node still routes
//! through it, and the cluster reaches nothing outside the VPC until `platform` removes the
//! Route. DigitalOcean's own order is the other one: "To remove the agent, we recommend that
//! you first remove the route CRDs" (docs.digitalocean.com/products/kubernetes/how-to/
//! use-routing-agent/, "Remove the Routing Agent").
//!
//! On AWS, NAT gateway addresses that come or go (`network.nat`, `network.zones`): the
//! addresses a partner allow-lists (`nat_public_ips`, docs/queue-workers.md).

use std::collections::BTreeMap;

use super::objects::Object;

const GATEWAY: &str = "infra: digitalocean_vpc_nat_gateway.egress";
const ROUTE: &str = "platform: kubernetes_manifest.egress_route";

/// The Elastic IPs of AWS NAT gateways (`backend/aws/network.rs`, one per zone), the
/// addresses `nat_public_ips` lists.
const AWS_EIP: &str = "infra: aws_eip.nat_";

/// The note when the gateway and its Route go; on AWS, when NAT addresses come or go.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let mut notes = aws(old, new);
    notes.extend(digitalocean(old, new));
    notes
}

/// `nat: single` → `per_zone` (or a zone more) gives the new zones' private subnets a NAT
/// gateway of their own, so their traffic leaves from an address no partner has allow-listed
/// yet, from the apply on. Its address exists only once the Elastic IP is created; a targeted
/// apply of the Elastic IPs creates them alone and prints `nat_public_ips` (Terraform
/// evaluates, in a targeted apply, the outputs whose references are all targeted — checked
/// with terraform 1.11), so the partner can add them before any traffic uses them.
fn aws(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let eips = |m: &BTreeMap<String, Object>| -> Vec<String> {
        m.keys()
            .filter(|k| k.starts_with(AWS_EIP))
            .map(|k| k["infra: ".len()..].to_string())
            .collect()
    };
    let (before, after) = (eips(old), eips(new));
    let added: Vec<&String> = after.iter().filter(|e| !before.contains(e)).collect();
    let removed: Vec<&String> = before.iter().filter(|e| !after.contains(e)).collect();
    let mut notes = Vec::new();
    if !added.is_empty() && !before.is_empty() {
        let targets: Vec<String> = after.iter().map(|e| format!("-target={e}")).collect();
        notes.push(format!(
            "infra: {} — new NAT gateway addresses: the private subnets of their zones send from them as soon as `infra` is applied, and a partner that allow-lists `nat_public_ips` refuses them until told. Apply `terraform -chdir=terraform/infra apply {}` first: it creates the addresses alone and prints `nat_public_ips`; hand them to the partner, then apply `infra`",
            added.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
            targets.join(" "),
        ));
    }
    if !removed.is_empty() {
        notes.push(format!(
            "infra: {} — NAT gateway addresses released (`network.nat`): they leave `nat_public_ips`; AWS may give them to another account, so have the partner remove them from its allow-list after the apply",
            removed.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
        ));
    }
    notes
}

fn digitalocean(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    if old.contains_key(GATEWAY) && !new.contains_key(GATEWAY) && !new.contains_key(ROUTE) {
        return vec![format!(
            "{GATEWAY}: the VPC NAT gateway goes (`providers.digitalocean.nat`), and with it the addresses in `nat_public_ips` — tell the partners that allow-list them. Apply `terraform/platform` first, so its Route goes and the routing agent gives the nodes their own default route back, then `terraform/infra`: in the usual order the gateway is removed while every node still routes through it, and the cluster reaches nothing outside the VPC until `platform` is applied"
        )];
    }
    Vec::new()
}
