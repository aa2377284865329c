//! Egress to TCP port 25 (SMTP relay between mail servers) from where the cloud blocks it:
//! the NetworkPolicy or security group infragen writes lets it out, and the connection still
//! times out. Amazon EC2 restricts outbound port 25 of every instance (EKS nodes, which the
//! pods send from) until AWS support lifts it ("Amazon EC2 restricts email traffic on port
//! 25 of all EC2 instances by default", Amazon SES developer guide, "Sending email
//! programmatically through the Amazon SES SMTP interface"); DigitalOcean blocks it on every
//! Droplet of new accounts, DOKS nodes included ("Why is SMTP blocked?", DigitalOcean
//! support). A warning, not an error: an account may have the restriction lifted.

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
        .filter(|s| s.egress.iter().any(|e| e.ports.contains(&25)))
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
