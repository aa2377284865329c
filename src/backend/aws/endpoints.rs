//! VPC endpoints: AWS APIs reached from the private subnets without the NAT gateway.
//!
//! - **S3 gateway endpoint, always, in a VPC infragen creates.** A gateway endpoint is free
//!   (no hourly or data charge) and adds a route to S3's prefix list on the route tables it
//!   is associated with: the private ones (one per zone) and the isolated one of the data
//!   tiers. S3 traffic (buckets, and every ECR image layer, which ECR serves from S3) then
//!   stays off the NAT gateway and its per-gigabyte processing. No endpoint policy: the
//!   default one AWS attaches allows full access, and the callers' IAM policies and bucket
//!   policies still decide what is allowed. ECR needs exactly this gateway endpoint for
//!   pulls without NAT ("Amazon ECR interface VPC endpoints (AWS PrivateLink)": "Amazon ECR
//!   uses Amazon S3 to store your image layers", "If your VPC doesn't have an internet
//!   gateway, you must create the gateway endpoint for Amazon S3",
//!   docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
//!   Associations are separate `aws_vpc_endpoint_route_table_association` resources, one per
//!   route table, named after it like the rest of the network (registry.terraform.io/
//!   providers/hashicorp/aws/latest/docs/resources/vpc_endpoint_route_table_association).
//! - **`network.endpoints`.** Interface endpoints (`ecr` is `ecr.api` and `ecr.dkr`) in the
//!   private subnets, one network interface per zone, `private_dns_enabled` so the SDKs'
//!   default regional host names resolve to them; one security group admitting HTTPS (443)
//!   from the VPC's range ("The security group attached to the VPC endpoint must allow
//!   incoming connections on port 443 from the private subnet of the VPC",
//!   docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html). `dynamodb` is
//!   a gateway endpoint on the same route tables as S3's.
//! - **An existing VPC** is not infragen's: no endpoint is created unless the blueprint
//!   lists it, and then only interface endpoints, in the given private subnets (gateway
//!   endpoints need the VPC's route tables, which infragen does not know; `semantic::network`
//!   refuses `s3` and `dynamodb` there).

use crate::json;
use crate::tpl;

use super::Ctx;
use super::network::{subnet_ids, vpc};
use crate::blueprint::types::{Network, VpcEndpoint};
use crate::terraform::{Module, Ref, data, ident, interp, res};

/// The security group of the interface endpoints.
fn security_group() -> Ref {
    res("aws_security_group", "vpc_endpoints")
}

/// The route tables of a created VPC that a gateway endpoint is associated with: each zone's
/// private one, and the isolated one of the database and cache tiers (named as
/// `network.rs` names them).
fn route_tables(net: &Network) -> Vec<String> {
    let mut out: Vec<String> = net
        .zones
        .iter()
        .take(net.subnets.private.len())
        .map(|z| format!("private_{}", ident(z)))
        .collect();
    if !net.subnets.database.is_empty() || !net.subnets.cache.is_empty() {
        out.push("isolated".into());
    }
    out
}

/// The AWS service names (`com.amazonaws.<region>.` left out) of the interface endpoints
/// `network.endpoints` asks for, once each, in the enum's order.
pub fn interface_services(net: &Network) -> Vec<&'static str> {
    let mut listed = net.endpoints.clone();
    listed.sort();
    listed.dedup();
    listed
        .into_iter()
        .filter(|e| !e.gateway())
        .flat_map(|e| e.services().iter().copied())
        .collect()
}

pub fn lower(ctx: &Ctx, net: &Network, vpc_name: &str, m: &mut Module) {
    let created = net.existing.is_none();
    let mut gateways: Vec<VpcEndpoint> = Vec::new();
    if created {
        gateways.push(VpcEndpoint::S3);
    }
    let mut listed = net.endpoints.clone();
    listed.sort();
    listed.dedup();
    for e in listed {
        // `semantic::network` refuses gateway endpoints in an existing VPC.
        if e.gateway() && created && !gateways.contains(&e) {
            gateways.push(e);
        }
    }
    let interfaces = interface_services(net);
    let f = m.file("network");
    for g in gateways {
        let svc = g.as_str();
        let endpoint = res("aws_vpc_endpoint", svc);
        f.resource(
            &endpoint,
            json!({
                "vpc_id": vpc(net).id(),
                "service_name": format!("com.amazonaws.{}.{svc}", ctx.region),
                "vpc_endpoint_type": "Gateway",
                "tags": {"Name": format!("{vpc_name}-{svc}")},
            }),
        );
        for rt in route_tables(net) {
            f.resource(
                &res(
                    "aws_vpc_endpoint_route_table_association",
                    &format!("{svc}_{rt}"),
                ),
                json!({
                    "vpc_endpoint_id": endpoint.id(),
                    "route_table_id": res("aws_route_table", &rt).id(),
                }),
            );
        }
    }
    if interfaces.is_empty() {
        return;
    }
    let sg = security_group();
    let sg_name = super::security::sg_name(ctx, "vpc-endpoints");
    f.resource(
        &sg,
        json!({
            "name": &sg_name,
            "description": format!("Interface VPC endpoints of {vpc_name}: HTTPS from inside the VPC"),
            "vpc_id": vpc(net).id(),
            "tags": {"Name": &sg_name},
            "lifecycle": super::security::replaceable(),
        }),
    )
    .resource(
        &res("aws_vpc_security_group_ingress_rule", "vpc_endpoints_https"),
        json!({
            "security_group_id": sg.id(),
            "cidr_ipv4": &net.cidr,
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "description": format!("HTTPS from {} (the VPC) to the AWS API endpoints", net.cidr),
        }),
    );
    // The zones the endpoint gets a network interface in: one per private subnet.
    let zones: Vec<&str> = (net.zones.iter())
        .take(net.subnets.private.len())
        .map(String::as_str)
        .collect();
    let zone_list = serde_json::to_string(&zones).expect("strings serialize");
    for svc in interfaces {
        let service_name = format!("com.amazonaws.{}.{svc}", ctx.region);
        // Not every service offers its endpoint in every zone, and a zone name is the
        // account's own alias of a physical zone: only the account can tell. Read at plan
        // (DescribeVpcEndpointServices lists the service's AvailabilityZones, in the
        // caller's names), so a zone without it fails the plan naming the field, instead of
        // CreateVpcEndpoint failing on that zone's subnet midway through the apply.
        let offered = data("aws_vpc_endpoint_service", &ident(svc));
        f.resource(
            &offered,
            json!({
                "service_name": &service_name,
                "service_type": "Interface",
                "lifecycle": {"postcondition": [{
                    "condition": interp(&format!("length(setsubtract({zone_list}, self.availability_zones)) == 0")),
                    "error_message": tpl!(
                        format!("network.zones: the interface endpoint {service_name} (network.endpoints) is offered in this account only in "),
                        interp("join(\", \", self.availability_zones)"),
                        format!(", not in every zone of {}; choose zones where it is, or leave it out of network.endpoints", zones.join(", ")),
                    ),
                }]},
            }),
        );
        f.resource(
            &res("aws_vpc_endpoint", &ident(svc)),
            json!({
                "vpc_id": vpc(net).id(),
                "service_name": &service_name,
                "vpc_endpoint_type": "Interface",
                "private_dns_enabled": true,
                "subnet_ids": subnet_ids(net, "private"),
                "security_group_ids": [sg.id()],
                "tags": {"Name": format!("{vpc_name}-{svc}")},
            }),
        );
    }
}
