//! Quotas a fresh AWS account has that a large blueprint's output can pass, where the API
//! would refuse the create past them and leave the apply half done. Both are adjustable
//! (Service Quotas), and a blueprint cannot say an account's quota was raised, so they are
//! warnings naming the quota to raise — as `alb-rules-quota` (`edge.rs`) is for the
//! listener's rules.
//!
//! | rule | warns when |
//! |---|---|
//! | `sg-rules-quota` | a security group gets more than 60 inbound or 60 outbound rules of one address family: "Inbound or outbound rules per security group", 60 by default, enforced separately for IPv4 and IPv6 (<https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups>); the create past it fails with `RulesPerSecurityGroupLimitExceeded` |
//! | `acm-names-quota` | the load balancer's certificate names more than 10 domains (its `domain` and `alternative_names`): "Number of domain names per ACM certificate", 10 by default, the first name included, at most 100 on request (<https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html>); RequestCertificate fails with `LimitExceededException` |

use std::collections::BTreeMap;

use super::Ctx;
use crate::diagnostic::Note;
use crate::terraform::Module;

/// Inbound or outbound rules per security group (per address family), by default.
pub const SG_RULES_QUOTA: usize = 60;
/// Domain names per ACM certificate, the first one included, by default.
pub const ACM_NAMES_QUOTA: usize = 10;

pub fn check(ctx: &Ctx, infra: &Module) {
    security_group_rules(ctx, infra);
    certificate_names(ctx);
}

fn security_group_rules(ctx: &Ctx, infra: &Module) {
    let mut counts: BTreeMap<(&str, bool, bool), usize> = BTreeMap::new();
    for r in infra.security_group_rules() {
        *counts.entry((&r.group, r.egress, r.ipv6)).or_default() += 1;
    }
    for ((group, egress, ipv6), n) in counts {
        if n <= SG_RULES_QUOTA {
            continue;
        }
        // `${aws_security_group.web_tasks.id}` → `aws_security_group.web_tasks`.
        let group = group
            .trim_start_matches("${")
            .trim_end_matches('}')
            .trim_end_matches(".id");
        let direction = if egress { "outbound" } else { "inbound" };
        let family = if ipv6 { "IPv6" } else { "IPv4" };
        ctx.note(Note::warning(
            "sg-rules-quota",
            format!(
                "security group `{group}` gets {n} {direction} {family} rules, over the default quota of {SG_RULES_QUOTA} {direction} rules per security group (each service that uses a data service, routes through the load balancer or is used by another service adds one): raise \"Inbound or outbound rules per security group\" (Amazon VPC, in Service Quotas; times \"Security groups per network interface\" it may not exceed 1,000) before applying, or the apply stops with RulesPerSecurityGroupLimitExceeded; or split the system into blueprints"
            ),
        ));
    }
}

fn certificate_names(ctx: &Ctx) {
    let Some(lb) = &ctx.v.bp.load_balancer else {
        return;
    };
    let cert = &lb.certificate;
    let Some(domain) = &cert.domain else {
        return;
    };
    let mut names: Vec<&str> = std::iter::once(domain.as_str())
        .chain(cert.alternative_names.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() <= ACM_NAMES_QUOTA {
        return;
    }
    let wildcard = match common_parent(&names) {
        Some((parent, n)) if n > 1 => format!(
            "; or cover the {n} hosts under `{parent}` with one wildcard name, `*.{parent}` (it covers every `<label>.{parent}`, one level deep)"
        ),
        _ => String::new(),
    };
    ctx.note(Note::warning(
        "acm-names-quota",
        format!(
            "`load_balancer.certificate` names {} domains, over the default quota of {ACM_NAMES_QUOTA} domain names per ACM certificate (the first one included): raise \"Domain names per ACM certificate\" (at most 100, in Service Quotas) before applying, or `infra` stops with LimitExceededException at the certificate{wildcard}",
            names.len(),
        ),
    ));
}

/// The parent domain most of `names` sit directly under (`example.com` for `www.example.com`
/// and `api.example.com`), with how many; the first in byte order among equals.
fn common_parent<'a>(names: &[&'a str]) -> Option<(&'a str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in names.iter().filter(|n| !n.starts_with("*.")) {
        if let Some((_, parent)) = n.split_once('.')
            && parent.contains('.')
        {
            *counts.entry(parent).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wildcard_suggested_is_under_the_parent_most_hosts_share() {
        let names = [
            "mono.example.com",
            "api.mono.example.com",
            "www.mono.example.com",
            "a.b.example.com",
        ];
        assert_eq!(super::common_parent(&names), Some(("mono.example.com", 2)));
        assert_eq!(super::common_parent(&["example.com"]), None);
    }
}
