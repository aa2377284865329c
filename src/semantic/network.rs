//! Network checks: CIDRs well formed, subnets (AWS) inside the VPC, no overlaps, one subnet
//! per zone, zones inside the region.

use ipnet::Ipv4Net;

use super::Checker;
use crate::blueprint::types::{Blueprint, ClusterDns, Deployment, Nat, Network, Platform};
use crate::catalog::Provider;

pub(super) fn parse_cidr(c: &mut Checker, path: &str, text: &str) -> Option<Ipv4Net> {
    match text.parse::<Ipv4Net>() {
        Ok(net) if net.network() == net.addr() => Some(net),
        Ok(net) => {
            c.error(path, format!("`{text}` has host bits set")).help =
                Some(format!("did you mean `{}`?", net.trunc()));
            None
        }
        Err(_) => {
            c.error(path, format!("`{text}` is not an IPv4 CIDR block"))
                .expected = Some("an address and prefix length such as `10.0.0.0/16`".into());
            None
        }
    }
}

/// `providers.kubernetes.dns`: what the DNS egress rule is written from must be a namespace
/// name, a port and address blocks the NetworkPolicy API accepts.
fn cluster_dns(c: &mut Checker, dns: &ClusterDns) {
    if let Some(ns) = &dns.namespace
        && !super::names::is_label(ns)
    {
        c.error(
            "providers.kubernetes.dns.namespace",
            format!("`{ns}` is not a namespace name"),
        )
        .expected = Some(
            "the namespace the cluster DNS pods run in, a DNS label (e.g. `openshift-dns`)".into(),
        );
    }
    if dns.port == Some(0) {
        c.error(
            "providers.kubernetes.dns.port",
            "port 0 is no port the DNS pods can listen on",
        )
        .expected = Some("the DNS pods' container port, 1 to 65535 (OpenShift: 5353)".into());
    }
    for (i, a) in dns.addresses.iter().flatten().enumerate() {
        parse_cidr(c, &format!("providers.kubernetes.dns.addresses[{i}]"), a);
    }
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if let Some(p) = bp
        .providers
        .kubernetes
        .as_ref()
        .and_then(|k| k.pod_cidr.as_ref())
    {
        parse_cidr(c, "providers.kubernetes.pod_cidr", p);
    }
    if bp
        .providers
        .kubernetes
        .as_ref()
        .is_some_and(|k| k.api_server_port == Some(0))
    {
        c.error(
            "providers.kubernetes.api_server_port",
            "port 0 is no port the API server can listen on",
        )
        .expected = Some("the API server's `--secure-port`, 1 to 65535 (e.g. 16443)".into());
    }
    if let Some(dns) = bp
        .providers
        .kubernetes
        .as_ref()
        .and_then(|k| k.dns.as_ref())
    {
        cluster_dns(c, dns);
    }
    let Some(net) = &bp.network else {
        if c.provider == Provider::Aws && bp.cluster.is_some() {
            c.error(
                "network",
                "`--provider aws` needs a `network` (VPC CIDR, zones, subnets)",
            );
        }
        // The cluster joins the region's default VPC, whose range the blueprint does not
        // say: the named ranges are checked against everything else.
        if c.provider == Provider::Digitalocean {
            named_cluster_ranges(c, bp, None);
        }
        return;
    };
    let Some(vpc) = parse_cidr(c, "network.cidr", &net.cidr) else {
        return;
    };
    let prefix = vpc.prefix_len();
    match c.provider {
        Provider::Aws if !(16..=28).contains(&prefix) => {
            c.error(
                "network.cidr",
                format!("an AWS VPC is /16 to /28, got /{prefix}"),
            );
        }
        Provider::Digitalocean => {
            // "We offer network sizes from /28 to /16"
            // (docs.digitalocean.com/products/networking/vpc/concepts/plan-your-network/; the
            // API's `ip_range`: "may not be smaller than /28 nor larger than /16").
            if !(16..=28).contains(&prefix) {
                c.error(
                    "network.cidr",
                    format!("a DigitalOcean VPC is /16 to /28, got /{prefix}"),
                );
            }
            if !vpc.addr().is_private() {
                c.error(
                    "network.cidr",
                    format!("`{}` is not a private (RFC 1918) range", net.cidr),
                );
            }
            // The reservation is of new VPCs' ranges ("You may not create new VPC networks"
            // in it): an existing VPC is not created.
            if net.existing.is_none() {
                reserved_range(c, bp, vpc);
            }
            doks_ranges(c, bp, vpc);
            named_cluster_ranges(c, bp, Some(vpc));
        }
        _ => {}
    }

    let tiers: [(&str, &Vec<String>); 4] = [
        ("public", &net.subnets.public),
        ("private", &net.subnets.private),
        ("database", &net.subnets.database),
        ("cache", &net.subnets.cache),
    ];
    existing_vpc(c, bp);
    endpoints(c, bp);
    let existing = net.existing.is_some();
    let mut all: Vec<(String, Ipv4Net)> = Vec::new();
    let mut ids = std::collections::BTreeMap::new();
    for (tier, cidrs) in tiers {
        for (i, text) in cidrs.iter().enumerate() {
            let path = format!("network.subnets.{tier}[{i}]");
            if existing {
                // Subnet ids are read on AWS alone: a DigitalOcean VPC has no subnets (the
                // back-end notes them as not expressible), and a blueprint for both keeps
                // AWS's ids in the base.
                if c.provider == Provider::Aws
                    && subnet_id(c, &path, text)
                    && let Some(other) = ids.insert(text.as_str(), path.clone())
                {
                    c.error(&path, format!("subnet `{text}` is already `{other}`"))
                        .help = Some("each tier and zone names a subnet of its own; leave a tier out to use the private subnets (`database`, `cache`)".into());
                }
                continue;
            }
            // Ids in a blueprint whose DigitalOcean environments drop `existing` are AWS's,
            // ignored where no subnet is built.
            if text.starts_with("subnet-") && c.provider != Provider::Aws {
                continue;
            }
            if text.starts_with("subnet-") {
                c.error(&path, format!("`{text}` is a subnet id, but infragen creates this VPC"))
                    .help = Some("give CIDR blocks such as `10.0.1.0/24` to create the subnets, or name the VPC they belong to with `network.existing.vpc_id` to use existing ones".into());
                continue;
            }
            let Some(sub) = parse_cidr(c, &path, text) else {
                continue;
            };
            // Subnets are AWS's alone: a DigitalOcean VPC is one range (the back-end notes
            // them as not expressible) and `--provider kubernetes` makes no network. A
            // blueprint for several providers keeps its AWS subnets in the base while a
            // DigitalOcean environment gives its VPC a range of its own (DigitalOcean refuses
            // overlapping VPCs in one account): judged where they are built, not refused
            // where they are ignored.
            if c.provider != Provider::Aws {
                continue;
            }
            if !vpc.contains(&sub) {
                c.error(&path, format!("`{sub}` is outside the VPC `{vpc}`"));
                continue;
            }
            if let Some((other, _)) = all
                .iter()
                .find(|(_, o)| o.contains(&sub) || sub.contains(o))
            {
                c.error(&path, format!("`{sub}` overlaps `{other}`"));
                continue;
            }
            all.push((format!("{path} ({sub})"), sub));
        }
        if c.provider == Provider::Aws && !cidrs.is_empty() && cidrs.len() != net.zones.len() {
            c.error(
                &format!("network.subnets.{tier}"),
                format!(
                    "give one subnet per zone: {} zone(s), {} subnet(s)",
                    net.zones.len(),
                    cidrs.len()
                ),
            );
        }
    }

    if c.provider == Provider::Aws {
        if net.zones.is_empty() {
            c.error(
                "network.zones",
                "list the availability zones, e.g. `[us-east-1a, us-east-1b]`",
            );
        }
        if let Some(aws) = &bp.providers.aws {
            for (i, z) in net.zones.iter().enumerate() {
                let in_region = z
                    .strip_prefix(aws.region.as_str())
                    .is_some_and(|rest| rest.len() == 1 && rest.as_bytes()[0].is_ascii_lowercase());
                if !in_region {
                    c.error(
                        &format!("network.zones[{i}]"),
                        format!("`{z}` is not a zone of region `{}`", aws.region),
                    )
                    .expected = Some(format!("`{}a`, `{}b`, …", aws.region, aws.region));
                }
            }
        }
        single_zone(c, bp, net);
        let mut seen = std::collections::BTreeSet::new();
        for (i, z) in net.zones.iter().enumerate() {
            if !seen.insert(z) {
                c.error(
                    &format!("network.zones[{i}]"),
                    format!("duplicate zone `{z}`"),
                );
            }
        }
        if net.subnets.private.is_empty() {
            c.error(
                "network.subnets.private",
                "workloads need private subnets (one per zone)",
            );
        }
        if !existing && net.nat != Nat::None && net.subnets.public.is_empty() {
            c.error(
                "network.subnets.public",
                "NAT gateways live in public subnets; add them or set `nat: none`",
            );
        }
    }
}

/// `network.endpoints`: AWS VPC endpoints, judged on AWS only (like `nat`: a blueprint for
/// both clouds shares its `network`, and a DigitalOcean VPC has no endpoints to create). An
/// existing AWS VPC takes interface endpoints only, since a gateway endpoint is a route on
/// route tables infragen does not know.
fn endpoints(c: &mut Checker, bp: &Blueprint) {
    let Some(net) = &bp.network else { return };
    if c.provider != Provider::Aws || net.existing.is_none() {
        return;
    }
    for (i, e) in net.endpoints.iter().enumerate() {
        if e.gateway() {
            c.error(
                &format!("network.endpoints[{i}]"),
                format!("`{}` is a gateway endpoint, a route on the VPC's route tables, and the existing VPC's route tables are its owner's: infragen creates only interface endpoints there", e.as_str()),
            )
            .help = Some("ask the VPC's owner for the gateway endpoint (free), and remove it here".into());
        }
    }
}

/// Whether `text` is an AWS resource id `<kind>-` + 8 or 17 lowercase hex digits (EC2 ids
/// moved from 8 to 17 characters in 2016-2018; both are still issued to older accounts:
/// docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html).
fn aws_id(kind: &str, text: &str) -> bool {
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            matches!(hex.len(), 8 | 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Whether `text` is a DigitalOcean VPC id: a UUID in the lowercase 8-4-4-4-12 form the API
/// and `doctl vpcs list` give (docs.digitalocean.com/reference/api/reference/vpcs: `id`,
/// "A unique ID that can be used to identify and reference the VPC", format uuid).
fn do_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A subnet id of an existing VPC; a CIDR block there is refused with the hint that ids are
/// expected. Returns whether `text` is a well-formed id.
fn subnet_id(c: &mut Checker, path: &str, text: &str) -> bool {
    if aws_id("subnet", text) {
        return true;
    }
    let d = c.error(
        path,
        if text.parse::<Ipv4Net>().is_ok() {
            format!("`{text}` is a CIDR block, but `network.existing` names a VPC infragen does not create: subnet ids expected, like `subnet-0a1b2c3d4e5f67890`")
        } else {
            format!("`{text}` is not a subnet id")
        },
    );
    d.expected = Some(
        "`subnet-` and 8 or 17 hexadecimal digits, one subnet per zone in `network.zones` order"
            .into(),
    );
    false
}

/// `network.existing`: a well-formed VPC id of the provider synthesized (`vpc-…` on AWS, a
/// UUID on DigitalOcean; each refuses the other's) and, on AWS, no choice that only a
/// created VPC has (`nat`: the routes are the VPC owner's).
fn existing_vpc(c: &mut Checker, bp: &Blueprint) {
    let Some(net) = bp.network.as_ref() else {
        return;
    };
    let Some(existing) = &net.existing else {
        return;
    };
    let id = existing.vpc_id.as_str();
    match c.provider {
        Provider::Aws => {}
        Provider::Digitalocean => {
            // The DOKS cluster (`vpc_uuid`) and the managed databases and caches
            // (`private_network_uuid`) join the VPC by its UUID; DigitalOcean VPCs have no
            // subnets, gateways or routes of their own (`backend::digitalocean::network`).
            if do_uuid(id) {
                return;
            }
            let d = c.error(
                "network.existing.vpc_id",
                if aws_id("vpc", id) {
                    format!("`{id}` is an AWS VPC id: a DigitalOcean VPC id is a UUID")
                } else {
                    format!("`{id}` is not a DigitalOcean VPC id")
                },
            );
            d.expected = Some(
                "a UUID, e.g. `5a4981aa-9653-4bd1-bef5-d6bff52042e4` (`doctl vpcs list`)".into(),
            );
            if aws_id("vpc", id) {
                d.help = Some("for a blueprint on both clouds, give DigitalOcean's VPC in `per_provider.digitalocean.network.existing.vpc_id` (or drop it there with `existing: null` to create the VPC from `network.cidr`)".into());
            }
            return;
        }
        // No network is built for an existing cluster: the ids are not read there.
        Provider::Kubernetes => return,
    }
    if !aws_id("vpc", id) {
        let d = c.error(
            "network.existing.vpc_id",
            if do_uuid(id) {
                format!("`{id}` is a DigitalOcean VPC id (a UUID), not an AWS one")
            } else {
                format!("`{id}` is not a VPC id")
            },
        );
        d.expected =
            Some("`vpc-` and 8 or 17 hexadecimal digits, e.g. `vpc-0a1b2c3d4e5f67890`".into());
        if do_uuid(id) {
            d.help = Some("for a blueprint on both clouds, give AWS's VPC here and DigitalOcean's in `per_provider.digitalocean.network.existing.vpc_id`".into());
        }
    }
    if c.loaded.has("network.nat") {
        c.error(
            "network.nat",
            "an existing VPC keeps its owner's routes: infragen creates no NAT gateway in it",
        )
        .help = Some("remove `nat`; the private subnets must already reach the internet (a NAT gateway or Transit Gateway route) or the VPC endpoints the workloads need".into());
    }
    // A created VPC always has public subnets beside its NAT gateways; an existing one may
    // be handed out without them, and an internet-facing load balancer has nowhere to go.
    if net.subnets.public.is_empty() && bp.load_balancer.as_ref().is_some_and(|lb| !lb.internal) {
        c.error(
            "network.subnets.public",
            "the internet-facing load balancer needs public subnets of the existing VPC (routed to its internet gateway), one per zone",
        )
        .help = Some("list their ids, or set `load_balancer.internal: true` to put the load balancer in the private subnets".into());
    }
}

/// The ranges DigitalOcean keeps for itself, which a new VPC may not overlap, and the one
/// region each is kept in (`None`: every region). DigitalOcean's "How to Plan Your Custom VPC
/// Network", section "DigitalOcean Reserved IP Addresses and Ranges"
/// (<https://docs.digitalocean.com/products/networking/vpc/concepts/plan-your-network/>),
/// lists 10.244.0.0/16, 10.245.0.0/16 and 10.246.0.0/24 (DOKS's own networks) and
/// 10.10.0.0/16 in NYC1; 10.229.0.0/16 is "now reserved in all regions for DigitalOcean
/// internal use. You may not create new VPC networks with subnets that overlap this range"
/// (release notes, 7 March 2025, <https://docs.digitalocean.com/release-notes/>).
const DO_RESERVED: [(&str, Option<&str>); 5] = [
    ("10.229.0.0/16", None),
    ("10.244.0.0/16", None),
    ("10.245.0.0/16", None),
    ("10.246.0.0/24", None),
    ("10.10.0.0/16", Some("nyc1")),
];

fn reserved_range(c: &mut Checker, bp: &Blueprint, vpc: Ipv4Net) {
    let region = bp
        .providers
        .digitalocean
        .as_ref()
        .map(|d| d.region.as_str());
    for (range, only_in) in DO_RESERVED {
        if only_in.is_some_and(|r| Some(r) != region) {
            continue;
        }
        // With a cluster, an overlap of its pod or Service network is said by `doks_ranges`,
        // naming which of the cluster's networks it is.
        if bp.cluster.is_some() && DOKS_NETWORKS.iter().any(|(_, r)| *r == range) {
            continue;
        }
        let reserved: Ipv4Net = range.parse().expect("a CIDR block");
        if vpc.contains(&reserved.network()) || reserved.contains(&vpc.network()) {
            let where_ =
                only_in.map_or_else(|| "in every region".to_string(), |r| format!("in `{r}`"));
            c.error(
                "network.cidr",
                format!("`{vpc}` overlaps `{reserved}`, which DigitalOcean reserves {where_}: the VPC cannot be created"),
            )
            .help = Some(format!("pick a range clear of DigitalOcean's reserved ranges ({}), e.g. `10.30.0.0/16` or `172.16.0.0/16`", reserved_list()));
        }
    }
}

/// DigitalOcean's reserved ranges as a help text lists them.
fn reserved_list() -> String {
    DO_RESERVED
        .iter()
        .map(|(r, only)| match only {
            Some(region) => format!("{r} in {region}"),
            None => r.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The legacy overlay networks of a DOKS cluster created without `cluster_subnet` and
/// `service_subnet` (the DigitalOcean API's defaults, which infragen keeps unless the
/// blueprint names VPC-native ranges, `backend::digitalocean::overlay`): pods and Services.
/// A VPC overlapping them leaves nodes and pods with clashing routes, so it is refused.
const DOKS_NETWORKS: [(&str, &str); 2] = [("pod", "10.244.0.0/16"), ("Service", "10.245.0.0/16")];

fn doks_ranges(c: &mut Checker, bp: &Blueprint, vpc: Ipv4Net) {
    if bp.cluster.is_none() {
        return;
    }
    for (what, range) in DOKS_NETWORKS {
        let reserved: Ipv4Net = range.parse().expect("a CIDR block");
        if vpc.contains(&reserved.network()) || reserved.contains(&vpc.network()) {
            c.error(
                "network.cidr",
                format!("`{vpc}` overlaps the DOKS cluster's {what} network `{reserved}`"),
            )
            .help = Some(format!(
                "pick a VPC range clear of DigitalOcean's reserved ranges ({}), e.g. `10.20.0.0/16` or `172.16.0.0/16`",
                reserved_list()
            ));
        }
    }
}

/// `providers.digitalocean.cluster_subnet` / `service_subnet`: the VPC-native cluster's pod
/// and Service ranges (`backend::digitalocean::overlay`). Both or neither; private, clear
/// of each other, of the VPC, of DOKS's legacy overlay ranges and of DigitalOcean's reserved
/// ranges in the region ([`DO_RESERVED`]) — DigitalOcean routes them in the account like a
/// VPC's. `vpc` is `None` without a `network` (the region's default VPC, of a range the
/// blueprint does not say): everything but the VPC overlap is checked.
fn named_cluster_ranges(c: &mut Checker, bp: &Blueprint, vpc: Option<Ipv4Net>) {
    let Some(d) = bp.providers.digitalocean.as_ref() else {
        return;
    };
    let (pods, services) = match (d.cluster_subnet.as_ref(), d.service_subnet.as_ref()) {
        (None, None) => return,
        (Some(p), Some(s)) => (p, s),
        (given, _) => {
            let (path, missing) = if given.is_some() {
                ("providers.digitalocean.cluster_subnet", "service_subnet")
            } else {
                ("providers.digitalocean.service_subnet", "cluster_subnet")
            };
            c.error(
                path,
                format!("the cluster's pod and Service ranges are named together; `{missing}` is missing"),
            )
            .help = Some("give both for a VPC-native cluster, or neither for DigitalOcean's default (legacy overlay) networking".into());
            return;
        }
    };
    let pods = parse_cidr(c, "providers.digitalocean.cluster_subnet", pods);
    let services = parse_cidr(c, "providers.digitalocean.service_subnet", services);
    let (Some(pods), Some(services)) = (pods, services) else {
        return;
    };
    let overlap = |a: &Ipv4Net, b: &Ipv4Net| a.contains(&b.network()) || b.contains(&a.network());
    for (path, r) in [
        ("providers.digitalocean.cluster_subnet", pods),
        ("providers.digitalocean.service_subnet", services),
    ] {
        if !r.addr().is_private() {
            c.error(path, format!("`{r}` is not a private (RFC 1918) range"));
        } else if let Some(vpc) = vpc.filter(|v| overlap(&r, v)) {
            c.error(path, format!("`{r}` overlaps the VPC `{vpc}`"));
        } else if let Some((what, legacy)) = DOKS_NETWORKS
            .iter()
            .find(|(_, l)| overlap(&r, &l.parse().expect("a CIDR block")))
        {
            c.error(
                path,
                format!("`{r}` overlaps DOKS's legacy {what} network `{legacy}`"),
            );
        } else if let Some((reserved, only_in)) = DO_RESERVED.iter().find(|(range, only_in)| {
            only_in.is_none_or(|only| only == d.region)
                && overlap(&r, &range.parse().expect("a CIDR block"))
        }) {
            // The cluster's ranges are created with it and routed in the account's private
            // network as a new VPC's are: the ranges DigitalOcean keeps for itself
            // ([`DO_RESERVED`], "You may not create new VPC networks with subnets that
            // overlap this range") are as unavailable to them.
            let where_ =
                only_in.map_or_else(|| "in every region".to_string(), |r| format!("in `{r}`"));
            c.error(
                path,
                format!("`{r}` overlaps `{reserved}`, which DigitalOcean reserves {where_}"),
            )
            .help = Some(format!(
                "pick a range clear of the VPC and of DigitalOcean's reserved ranges ({}), e.g. `172.20.0.0/17` for pods and `172.20.128.0/20` for Services",
                reserved_list()
            ));
        }
    }
    if overlap(&pods, &services) {
        c.error(
            "providers.digitalocean.service_subnet",
            format!("`{services}` overlaps the pod range `{pods}`"),
        );
    }
}

/// What AWS creates only across two Availability Zones, refused on one zone (a created VPC
/// or an existing one alike) rather than failing at apply:
/// - an EKS cluster: "you specify a VPC and at least two subnets that are in different
///   Availability Zones" (docs.aws.amazon.com/eks/latest/userguide/network-reqs.html);
/// - ECS's Application Load Balancer: subnets "from at least two Availability Zones"
///   (docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html);
/// - the RDS DB subnet group: its subnets "should cover at least two Availability Zones
///   unless there is only one" in the region (RDS `DBSubnetGroupDoesNotCoverEnoughAZs`;
///   every commercial region has several).
fn single_zone(c: &mut Checker, bp: &Blueprint, net: &Network) {
    if net.zones.len() != 1 {
        return;
    }
    let platform = bp.platform_on(c.provider);
    let mut needs = Vec::new();
    if matches!(platform, Some(Platform::Eks | Platform::EksFargate)) {
        needs.push("an EKS cluster (its subnets in at least two zones)");
    }
    if platform == Some(Platform::EcsFargate) && bp.load_balancer.is_some() {
        needs.push("the Application Load Balancer (subnets in at least two zones)");
    }
    if !net.subnets.database.is_empty()
        || bp
            .databases
            .iter()
            .any(|d| d.deployment == Deployment::Managed)
    {
        needs.push("the RDS DB subnet group (DBSubnetGroupDoesNotCoverEnoughAZs)");
    }
    if needs.is_empty() {
        return;
    }
    c.error(
        "network.zones",
        format!(
            "one zone (`{}`), but AWS creates {} only across two Availability Zones: apply would fail",
            net.zones[0],
            needs.join(", ")
        ),
    )
    .help = Some(
        "list a second zone in `network.zones` and a subnet for it in each `network.subnets` tier"
            .into(),
    );
}
