//! The VPC: subnets per tier and zone (with the tags EKS load balancing looks for), internet
//! gateway, NAT per zone or single, route tables, flow logs to an encrypted log group, the
//! default security group stripped of rules, DB / cache subnet groups, and the VPC endpoints
//! (`endpoints.rs`).
//!
//! Resource names come from the tier and the zone (`private_us_east_1a`), never from list
//! positions, so reordering zones or tiers in the blueprint moves nothing.
//!
//! With `network.existing` the VPC is someone else's: it and its subnets are read with data
//! sources (`data.aws_vpc.main`, `data.aws_subnet.<tier>_<zone>`) whose postconditions check at
//! `terraform plan` what synth cannot know (each subnet in that VPC and in the zone given for
//! it, the VPC's range), and nothing of the network is created or adopted. Every consumer
//! names the VPC and subnets through [`vpc`] and [`subnet_ids`], so both cases meet here.

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::iam::{assume_role, policy};
use crate::blueprint::types::{Nat, Network, Platform};
use crate::terraform::{Expr, Module, Ref, data, ident, interp, list, res};

/// Subnet tiers in output order, and whether each routes to the internet.
const TIERS: [&str; 4] = ["public", "private", "database", "cache"];

fn cidrs<'a>(net: &'a Network, tier: &str) -> &'a [String] {
    match tier {
        "public" => &net.subnets.public,
        "private" => &net.subnets.private,
        "database" => &net.subnets.database,
        _ => &net.subnets.cache,
    }
}

fn subnet_name(tier: &str, zone: &str) -> String {
    format!("{tier}_{}", ident(zone))
}

fn tags(name: &str) -> Json {
    json!({"Name": name})
}

/// The VPC: the created one, or the existing one's data source.
pub fn vpc(net: &Network) -> Ref {
    if net.existing.is_some() {
        data("aws_vpc", "main")
    } else {
        res("aws_vpc", "main")
    }
}

/// The subnet of `tier` in `zone`: the created one, or the existing one's data source.
fn subnet(net: &Network, tier: &str, zone: &str) -> Ref {
    if net.existing.is_some() {
        data("aws_subnet", &subnet_name(tier, zone))
    } else {
        res("aws_subnet", &subnet_name(tier, zone))
    }
}

pub fn lower(ctx: &Ctx, net: &Network, m: &mut Module) {
    let vpc_name = net.name.clone().unwrap_or_else(|| ctx.prefix.clone());
    if net.existing.is_some() {
        existing(net, m);
        subnet_groups(ctx, net, &vpc_name, m);
        super::endpoints::lower(ctx, net, &vpc_name, m);
        if net.flow_logs().enabled {
            flow_logs(ctx, net, &vpc_name, m);
        }
        outputs(net, &[], m);
        return;
    }
    let vpc = res("aws_vpc", "main");
    let cluster_name = matches!(ctx.platform, Some(Platform::Eks | Platform::EksFargate))
        .then(|| ctx.cluster_name());
    let f = m.file("network");
    f.resource(
        &vpc,
        json!({
            "cidr_block": &net.cidr,
            "enable_dns_hostnames": true,
            "enable_dns_support": true,
            "tags": tags(&vpc_name),
        }),
    );
    // Adopting the default security group with no rules closes it (CKV2_AWS_12).
    f.resource(
        &res("aws_default_security_group", "default"),
        json!({
            "vpc_id": vpc.id(),
            "tags": tags(&format!("{vpc_name}-default-deny")),
        }),
    );

    for tier in TIERS {
        for (zone, cidr) in net.zones.iter().zip(cidrs(net, tier)) {
            let mut t = json!({"Name": format!("{vpc_name}-{tier}-{zone}"), "tier": tier});
            if let Some(cluster) = &cluster_name {
                match tier {
                    "public" => t["kubernetes.io/role/elb"] = json!("1"),
                    "private" => t["kubernetes.io/role/internal-elb"] = json!("1"),
                    _ => {}
                }
                if matches!(tier, "public" | "private") {
                    t[format!("kubernetes.io/cluster/{cluster}").as_str()] = json!("shared");
                }
            }
            f.resource(
                &res("aws_subnet", &subnet_name(tier, zone)),
                json!({
                    "vpc_id": vpc.id(),
                    "cidr_block": cidr,
                    "availability_zone": zone,
                    "map_public_ip_on_launch": false,
                    "tags": t,
                }),
            );
        }
    }

    let has_public = !net.subnets.public.is_empty();
    if has_public {
        let igw = res("aws_internet_gateway", "main");
        let rt = res("aws_route_table", "public");
        f.resource(&igw, json!({"vpc_id": vpc.id(), "tags": tags(&vpc_name)}))
            .resource(
                &rt,
                json!({"vpc_id": vpc.id(), "tags": tags(&format!("{vpc_name}-public"))}),
            )
            .resource(
                &res("aws_route", "public_internet"),
                json!({
                    "route_table_id": rt.id(),
                    "destination_cidr_block": "0.0.0.0/0",
                    "gateway_id": igw.id(),
                }),
            );
        for zone in net.zones.iter().take(net.subnets.public.len()) {
            f.resource(
                &res("aws_route_table_association", &subnet_name("public", zone)),
                json!({
                    "subnet_id": res("aws_subnet", &subnet_name("public", zone)).id(),
                    "route_table_id": rt.id(),
                }),
            );
        }
    }

    // NAT gateways are named after their zone, so switching between `single` and `per_zone`
    // keeps the first zone's gateway (and its public address).
    let nat_zones: Vec<&String> = match net.nat {
        Nat::None => vec![],
        _ if !has_public => vec![],
        Nat::Single => net.zones.iter().take(1).collect(),
        Nat::PerZone => net.zones.iter().take(net.subnets.public.len()).collect(),
    };
    for zone in &nat_zones {
        let name = format!("nat_{}", ident(zone));
        let eip = res("aws_eip", &name);
        f.resource(
            &eip,
            json!({
                "domain": "vpc",
                "tags": tags(&format!("{vpc_name}-nat-{zone}")),
                "depends_on": [res("aws_internet_gateway", "main").address()],
            }),
        )
        .resource(
            &res("aws_nat_gateway", &name),
            json!({
                "allocation_id": eip.id(),
                "subnet_id": res("aws_subnet", &subnet_name("public", zone)).id(),
                "tags": tags(&format!("{vpc_name}-{zone}")),
                "depends_on": [res("aws_internet_gateway", "main").address()],
            }),
        );
    }

    // One private route table per zone, each through its own zone's NAT (or the single one).
    for zone in net.zones.iter().take(net.subnets.private.len()) {
        let name = subnet_name("private", zone);
        let rt = res("aws_route_table", &name);
        f.resource(
            &rt,
            json!({"vpc_id": vpc.id(), "tags": tags(&format!("{vpc_name}-private-{zone}"))}),
        );
        let nat = nat_zones
            .iter()
            .find(|z| **z == zone)
            .or(nat_zones.first())
            .map(|z| res("aws_nat_gateway", &format!("nat_{}", ident(z))));
        if let Some(nat) = nat {
            f.resource(
                &res("aws_route", &format!("{name}_nat")),
                json!({
                    "route_table_id": rt.id(),
                    "destination_cidr_block": "0.0.0.0/0",
                    "nat_gateway_id": nat.id(),
                }),
            );
        }
        f.resource(
            &res("aws_route_table_association", &name),
            json!({"subnet_id": res("aws_subnet", &name).id(), "route_table_id": rt.id()}),
        );
    }

    // Data tiers get a route table with no route out: databases and caches need no internet.
    let isolated: Vec<String> = ["database", "cache"]
        .iter()
        .flat_map(|tier| {
            net.zones
                .iter()
                .take(cidrs(net, tier).len())
                .map(move |z| subnet_name(tier, z))
        })
        .collect();
    if !isolated.is_empty() {
        let rt = res("aws_route_table", "isolated");
        f.resource(
            &rt,
            json!({"vpc_id": vpc.id(), "tags": tags(&format!("{vpc_name}-isolated"))}),
        );
        for name in &isolated {
            f.resource(
                &res("aws_route_table_association", name),
                json!({"subnet_id": res("aws_subnet", name).id(), "route_table_id": rt.id()}),
            );
        }
    }

    subnet_groups(ctx, net, &vpc_name, m);
    super::endpoints::lower(ctx, net, &vpc_name, m);
    if net.flow_logs().enabled {
        flow_logs(ctx, net, &vpc_name, m);
    }
    outputs(net, &nat_zones, m);
}

/// An existing VPC and its subnets, read and checked, never created: no internet or NAT
/// gateway, route table or default security group is touched (adopting the default group
/// would strip the owner's rules from it). The checks are postconditions, so a wrong id fails
/// `terraform plan` before anything is created, naming the blueprint field to fix
/// (developer.hashicorp.com/terraform/language/expressions/custom-conditions: data sources
/// take `lifecycle` postconditions, evaluated when the data is read).
fn existing(net: &Network, m: &mut Module) {
    let Some(existing) = &net.existing else {
        return;
    };
    let vpc = vpc(net);
    let cidr = &net.cidr;
    let f = m.file("network");
    f.resource(
        &vpc,
        json!({
            "id": &existing.vpc_id,
            "lifecycle": {"postcondition": [{
                // DescribeVpcs lists the primary block among the associations too; both are
                // read so a VPC whose primary block is another range still passes.
                "condition": interp(&format!("self.cidr_block == \"{cidr}\" || contains([for a in self.cidr_block_associations : a.cidr_block], \"{cidr}\")")),
                "error_message": format!("network.cidr: the VPC {} (network.existing.vpc_id) has no CIDR block {cidr}; give the VPC's range (security-group rules and network policies admit it)", existing.vpc_id),
            }, {
                // EKS: "The VPC must have DNS hostname and DNS resolution support, or nodes
                // can't register to your cluster" (docs.aws.amazon.com/eks/latest/userguide/
                // network-reqs.html); the private API endpoint, RDS and ElastiCache endpoint
                // names and Cloud Map namespaces resolve through the same resolver. A VPC
                // infragen creates turns both on; a non-default VPC has hostnames off.
                "condition": interp("self.enable_dns_support && self.enable_dns_hostnames"),
                "error_message": format!("network.existing.vpc_id: the VPC {} needs DNS resolution and DNS hostnames on (enableDnsSupport, enableDnsHostnames); ask its owner to enable both", existing.vpc_id),
            }]},
        }),
    );
    // `network.cidr` is checked well formed before lowering.
    let (network, prefix) = cidr
        .parse::<ipnet::Ipv4Net>()
        .map(|n| (n.network().to_string(), n.prefix_len()))
        .unwrap_or_default();
    for tier in TIERS {
        for (i, (zone, id)) in net.zones.iter().zip(cidrs(net, tier)).enumerate() {
            let field = format!("network.subnets.{tier}[{i}]");
            f.resource(
                &subnet(net, tier, zone),
                json!({
                    "id": id,
                    "lifecycle": {"postcondition": [
                        {
                            "condition": interp(&format!("self.vpc_id == {}", vpc.path("id"))),
                            "error_message": format!("{field}: subnet {id} is not in the VPC {} (network.existing.vpc_id)", existing.vpc_id),
                        },
                        {
                            "condition": interp(&format!("self.availability_zone == \"{zone}\"")),
                            "error_message": format!("{field}: subnet {id} is not in {zone}, the zone network.zones[{i}] gives it; list the subnets in zone order"),
                        },
                        {
                            // Security-group rules and network policies admit `network.cidr`
                            // for "inside the VPC": a subnet of another of the VPC's blocks
                            // would be left out of them. No Terraform function tests CIDR
                            // containment; `cidrhost` masks a range to its prefix, so the
                            // subnet's first address masked to the VPC's prefix must be the
                            // VPC's network address.
                            "condition": interp(&format!("cidrhost(format(\"%s/{prefix}\", cidrhost(self.cidr_block, 0)), 0) == \"{network}\"")),
                            "error_message": format!("{field}: subnet {id} is outside network.cidr {cidr}; subnets of another of the VPC's CIDR blocks are not offered (security-group rules and network policies admit network.cidr)"),
                        },
                    ]},
                }),
            );
        }
    }
}

/// What infragen cannot know about a VPC it does not own, for `preconditions.json`: the
/// private subnets' way out (nodes and tasks pull images, read secrets and, on EKS, join the
/// cluster through AWS APIs) and, for an internet-facing load balancer, the public subnets'
/// internet gateway. Nothing for a VPC infragen creates (it builds both).
pub fn preconditions(ctx: &Ctx) -> Vec<crate::wiring::Precondition> {
    let Some(net) = ctx.v.bp.network.as_ref() else {
        return vec![];
    };
    let Some(existing) = &net.existing else {
        return vec![];
    };
    let mut pre = Vec::new();
    // Only where something runs in the private subnets: a data-only blueprint (the RDS
    // instance of workloads that run elsewhere, docs/brownfield.md) pulls no image.
    if ctx.platform.is_some() {
        pre.push(crate::wiring::Precondition {
            kind: "VpcEgress".into(),
            namespace: String::new(),
            name: existing.vpc_id.clone(),
            keys: net.subnets.private.clone(),
            why: "the VPC is not infragen's, so nothing here routes its private subnets out: each needs a 0.0.0.0/0 route (a NAT gateway, or a Transit Gateway to a shared egress) or VPC endpoints for every AWS API the workloads call (ECR api and dkr, S3 gateway, Secrets Manager, CloudWatch Logs; on EKS also STS, EKS and EC2 — an ECS task gets its role credentials from the ECS agent, not STS) — without one, images are not pulled and nodes do not join".into(),
        });
    }
    // An interface endpoint with private DNS takes over the service's regional host name in
    // the whole VPC, and a VPC holds one per service: a second is refused with
    // "private-dns-enabled cannot be set because there is already a conflicting DNS domain
    // for <service> in the VPC" (AWS re:Post knowledge center, "conflicting DNS domain").
    // Network teams often provide these endpoints centrally; whether this VPC has them is
    // the owner's knowledge, not ours.
    let interfaces = super::endpoints::interface_services(net);
    if !interfaces.is_empty() {
        pre.push(crate::wiring::Precondition {
            kind: "VpcEndpointPrivateDns".into(),
            namespace: String::new(),
            name: existing.vpc_id.clone(),
            keys: interfaces
                .iter()
                .map(|s| format!("com.amazonaws.{}.{s}", ctx.region))
                .collect(),
            why: "`network.endpoints` creates these interface endpoints with private DNS in a VPC infragen does not own: a VPC takes one endpoint per service with private DNS, so the apply fails (\"conflicting DNS domain\") if the VPC's owner, another stack or another environment already has one — then list none here, the workloads use the existing ones".into(),
        });
    }
    let internet_facing = ctx
        .v
        .bp
        .load_balancer
        .as_ref()
        .is_some_and(|lb| !lb.internal);
    if internet_facing && !net.subnets.public.is_empty() {
        pre.push(crate::wiring::Precondition {
            kind: "VpcInternetGateway".into(),
            namespace: String::new(),
            name: existing.vpc_id.clone(),
            keys: net.subnets.public.clone(),
            why: "the internet-facing load balancer goes into these public subnets: each needs a 0.0.0.0/0 route to the VPC's internet gateway, or the load balancer is created but unreachable from the internet".into(),
        });
    }
    pre
}

/// Subnet ids of a tier, in zone order.
/// The `Name` tags of a tier's subnets in a VPC infragen creates (`lower`), by which the
/// AWS Load Balancer Controller's `subnets` annotations can name them before their ids
/// exist.
pub fn subnet_tag_names(ctx: &Ctx, net: &Network, tier: &str) -> Vec<String> {
    let vpc_name = net.name.clone().unwrap_or_else(|| ctx.prefix.clone());
    net.zones
        .iter()
        .take(cidrs(net, tier).len())
        .map(|zone| format!("{vpc_name}-{tier}-{zone}"))
        .collect()
}

pub fn subnet_ids(net: &Network, tier: &str) -> Vec<Expr> {
    net.zones
        .iter()
        .take(cidrs(net, tier).len())
        .map(|z| subnet(net, tier, z).id())
        .collect()
}

/// The tier data services live in: their own when declared, else the private one.
fn data_tier<'a>(net: &Network, preferred: &'a str) -> &'a str {
    if !cidrs(net, preferred).is_empty() {
        preferred
    } else if !net.subnets.database.is_empty() {
        "database"
    } else {
        "private"
    }
}

fn subnet_groups(ctx: &Ctx, net: &Network, vpc_name: &str, m: &mut Module) {
    let bp = ctx.v.bp;
    let managed = |d| !ctx.v.in_cluster(crate::analysis::DataKind::Database, d);
    let f = m.file("network");
    if !net.subnets.database.is_empty() || bp.databases.iter().any(|d| managed(d.deployment)) {
        let tier = data_tier(net, "database");
        f.resource(
            &res("aws_db_subnet_group", "main"),
            json!({
                "name": format!("{vpc_name}-db"),
                "description": format!("Database subnets of {vpc_name}"),
                "subnet_ids": subnet_ids(net, tier),
                "tags": tags(&format!("{vpc_name}-db")),
            }),
        );
    }
    if !net.subnets.cache.is_empty() || bp.caches.iter().any(|c| managed(c.deployment)) {
        let tier = data_tier(net, "cache");
        f.resource(
            &res("aws_elasticache_subnet_group", "main"),
            json!({
                "name": format!("{vpc_name}-cache"),
                "description": format!("Cache subnets of {vpc_name}"),
                "subnet_ids": subnet_ids(net, tier),
                "tags": tags(&format!("{vpc_name}-cache")),
            }),
        );
    }
}

fn flow_logs(ctx: &Ctx, net: &Network, vpc_name: &str, m: &mut Module) {
    let group = res("aws_cloudwatch_log_group", "flow_logs");
    let role = res("aws_iam_role", "flow_logs");
    let f = m.file("network");
    f.resource(
        &group,
        json!({
            "name": format!("/aws/vpc/{vpc_name}/flow-logs"),
            "retention_in_days": net.flow_logs().retention_days,
            "kms_key_id": res("aws_kms_key", "logs").arn(),
        }),
    )
    .resource(
        &role,
        json!({
            "name": format!("{}-vpc-flow-logs", ctx.prefix),
            "assume_role_policy": assume_role("vpc-flow-logs.amazonaws.com"),
        }),
    )
    .resource(
        &res("aws_iam_role_policy", "flow_logs"),
        json!({
            "name": "write-flow-logs",
            "role": role.id(),
            "policy": policy(vec![json!({
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group.arn(), tpl!(group.arn(), ":*")],
            })]),
        }),
    )
    .resource(
        &res("aws_flow_log", "main"),
        json!({
            "vpc_id": vpc(net).id(),
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": group.arn(),
            "iam_role_arn": role.arn(),
            "max_aggregation_interval": 60,
            "tags": tags(&format!("{vpc_name}-flow-logs")),
        }),
    );
}

/// `nat_zones`: the zones with a NAT gateway this output creates (none in an existing VPC,
/// whose egress is its owner's).
fn outputs(net: &Network, nat_zones: &[&String], m: &mut Module) {
    let f = m.file("outputs");
    f.output("vpc_id", vpc(net).id(), "VPC id");
    // What a partner allow-lists: everything the private subnets send to the internet leaves
    // from a NAT gateway's Elastic IP ("NAT gateway basics", Amazon VPC user guide: a public
    // NAT gateway replaces the source address with its Elastic IP). The addresses are fixed
    // for the gateways' life: they change only when `nat` adds or removes gateways (`single`
    // keeps the first zone's). Empty of meaning with `nat: none`, so not written then.
    if !nat_zones.is_empty() {
        let ips: Vec<String> = nat_zones
            .iter()
            .map(|z| res("aws_eip", &format!("nat_{}", ident(z))).path("public_ip"))
            .collect();
        f.output(
            "nat_public_ips",
            list(&ips),
            "Public IPv4 addresses the private subnets' outbound traffic leaves from (the NAT gateways' Elastic IPs, in zone order): what a partner allow-lists",
        );
    }
    for tier in TIERS {
        if !cidrs(net, tier).is_empty() {
            let paths: Vec<String> = net
                .zones
                .iter()
                .take(cidrs(net, tier).len())
                .map(|z| subnet(net, tier, z).path("id"))
                .collect();
            f.output(
                &format!("{tier}_subnet_ids"),
                list(&paths),
                &format!("Subnet ids of the {tier} tier, in zone order"),
            );
        }
    }
}
