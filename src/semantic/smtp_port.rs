//! Egress to TCP port 25 (SMTP relay between mail servers) from where the cloud blocks it:
//! the NetworkPolicy or security group infragen writes lets it out, and the connection still
//! times out. Amazon EC2 restricts outbound port 25 of every instance (EKS nodes, which the
//! pods send from) until AWS support lifts it ("Amazon EC2 restricts email traffic on port
//! 25 of all EC2 instances by default", Amazon SES developer guide, "Sending email
//! programmatically through the Amazon SES SMTP interface"); DigitalOcean blocks it on every
//! Droplet of new accounts, DOKS nodes included ("Why is SMTP blocked?", DigitalOcean
//! support). Both are anti-spam measures on mail to the internet; an `egress` whose `to`
//! lies inside the private ranges (RFC 1918 or RFC 6598's 100.64.0.0/10: a relay in the VPC
//! or behind a VPN, the usual way round them) is not warned, since neither source says such traffic is restricted. A
//! warning, not an error: an account may have the restriction lifted.

use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;
use crate::diagnostic::Note;

pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    let blocked_by = match (provider, bp.platform_on(provider)) {
        (Provider::Aws, Some(Platform::Eks)) => {
            "Amazon EC2 restricts outbound port 25 of every instance (the EKS nodes) until AWS support lifts it"
        }
        (Provider::Digitalocean, Some(_)) => {
            "DigitalOcean blocks outbound port 25 on the Droplets (the DOKS nodes) of new accounts"
        }
        _ => return Vec::new(),
    };
    bp.workloads()
        .filter(|s| {
            s.egress
                .iter()
                .any(|e| e.ports.contains(&25) && !private(&e.to))
        })
        .map(|s| {
            Note::warning(
                "smtp-port-25",
                format!(
                    "`{}`: `egress` opens port 25, but {blocked_by}: its mail times out. Submit it to a relay on 587 or 465, or send through an HTTPS API (docs/queue-workers.md)",
                    s.name
                ),
            )
        })
        .collect()
}

/// Whether CIDR `to` lies inside the private ranges (an unparsable one is not: `semantic`
/// refuses it elsewhere): RFC 1918's, and RFC 6598's shared address space 100.64.0.0/10,
/// which AWS lets a VPC take as a secondary CIDR block ("IPv4 CIDR block association
/// restrictions", docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html) and which
/// a transit gateway, peering or VPN routes like RFC 1918 space — an address there is no
/// internet host. Also `private_ecs`: where `nat: none` leaves no way out.
pub(super) fn private(to: &str) -> bool {
    let Ok(net) = to.parse::<ipnet::Ipv4Net>() else {
        return false;
    };
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]
    .iter()
    .filter_map(|r| r.parse::<ipnet::Ipv4Net>().ok())
    .any(|r| r.contains(&net))
}
