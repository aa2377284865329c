//! A blueprint that switches between a VPC infragen creates and an existing one
//! (`network.existing`, `backend/aws/network.rs`). Terraform shows it as the created VPC, its
//! subnets, gateways and routes removed and everything else changed in place to the other
//! VPC's subnets; but AWS moves none of it between VPCs in place: a DB subnet group in use is
//! modified in place to subnets of another VPC (RDS ModifyDBSubnetGroup refuses subnets "not
//! all in a common VPC" — `InvalidSubnet` — and moves an instance to another VPC only through
//! a new subnet group, ModifyDBInstance `DBSubnetGroupName`, with an outage), a load balancer's
//! subnets stay in its VPC (ELBv2 SetSubnets), security groups are replaced around running
//! tasks, and the created VPC cannot be deleted while their interfaces are in it. The apply
//! fails halfway, so the note says so and what to do instead.
//!
//! DigitalOcean likewise (`digitalocean_vpc.main` ↔ `data.digitalocean_vpc.main`,
//! `backend/digitalocean/network.rs`): "You cannot migrate load balancers or Kubernetes
//! clusters between VPC networks" (docs.digitalocean.com/products/networking/vpc/details/
//! limits/), and Terraform replaces the DOKS cluster (`vpc_uuid`) and every database cluster
//! (`private_network_uuid`) with the data in it — both arguments force a new resource
//! (`providers/replacement.json`) — where a database could have been migrated in its
//! Settings tab.

use std::collections::BTreeMap;

use super::objects::Object;

/// The note on a move between a created VPC and an existing one, per module.
pub fn notes(old: &BTreeMap<String, Object>, new: &BTreeMap<String, Object>) -> Vec<String> {
    let modules = |objs: &BTreeMap<String, Object>, address: &str| -> Vec<String> {
        objs.keys()
            .filter_map(|k| k.strip_suffix(&format!(": {address}")))
            .map(str::to_string)
            .collect()
    };
    let mut notes = Vec::new();
    for module in modules(old, "aws_vpc.main") {
        if new.contains_key(&format!("{module}: data.aws_vpc.main")) {
            notes.push(format!("{module}: the environment moves from the VPC infragen created (`aws_vpc.main`, removed with its subnets, gateways and routes) to an existing one (`network.existing`). AWS moves nothing between VPCs in place — a DB subnet group in use refuses another VPC's subnets, a load balancer stays in its VPC, and the old VPC cannot be deleted while their network interfaces are in it — so this apply fails halfway. Bring the workloads up as a new environment in the existing VPC, move the data, then destroy the old one"));
        }
    }
    for module in modules(old, "data.aws_vpc.main") {
        if new.contains_key(&format!("{module}: aws_vpc.main")) {
            notes.push(format!("{module}: the environment moves from an existing VPC (`network.existing`) to one infragen creates (`aws_vpc.main`). AWS moves nothing between VPCs in place — a DB subnet group in use refuses another VPC's subnets, a load balancer stays in its VPC — so this apply fails halfway. Bring the workloads up as a new environment, move the data, then destroy the old one"));
        }
    }
    for module in modules(old, "digitalocean_vpc.main") {
        if new.contains_key(&format!("{module}: data.digitalocean_vpc.main")) {
            notes.push(format!("{module}: the environment moves from the VPC infragen created (`digitalocean_vpc.main`, removed) to an existing one (`network.existing`). DigitalOcean moves no Kubernetes cluster or load balancer between VPCs, so Terraform replaces the DOKS cluster (`vpc_uuid`) and every database and cache cluster (`private_network_uuid`), their data with them. Bring the workloads up as a new environment in the existing VPC, move the data (or migrate each database to the VPC in its Settings tab first), then destroy the old one"));
        }
    }
    for module in modules(old, "data.digitalocean_vpc.main") {
        if new.contains_key(&format!("{module}: digitalocean_vpc.main")) {
            notes.push(format!("{module}: the environment moves from an existing VPC (`network.existing`) to one infragen creates (`digitalocean_vpc.main`). DigitalOcean moves no Kubernetes cluster or load balancer between VPCs, so Terraform replaces the DOKS cluster (`vpc_uuid`) and every database and cache cluster (`private_network_uuid`), their data with them. Bring the workloads up as a new environment, move the data, then destroy the old one"));
        }
    }
    notes
}
