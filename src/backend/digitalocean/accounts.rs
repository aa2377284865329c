//! Environments that would collide in one DigitalOcean account (`synth --env all`), the
//! counterpart of `backend::aws::accounts`.
//!
//! Some DigitalOcean names are unique per account: a project's ("the name must be unique",
//! <https://docs.digitalocean.com/reference/api/reference/projects/>), a VPC's ("Must be
//! unique", <https://docs.digitalocean.com/reference/terraform/reference/resources/vpc/>),
//! a DOKS cluster's and a database cluster's. And a VPC's range "cannot overlap with other
//! networks in the same account" (same page) — a blueprint with one `network.cidr` for
//! every environment gets two VPCs with one range. Applied to one account, the second
//! environment's create fails. A single environment's synth cannot tell (nothing in
//! DigitalOcean's provider pins an account), so when `synth` lowers several environments
//! together this compares them and warns. The registry, one per account, is not among them:
//! one environment creates it (`registry.rs`).

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde_json::Value;

use crate::diagnostic::Note;
use crate::output::Output;

/// Resource types whose name is unique per account, and the argument holding it.
const ACCOUNT_SCOPED: [(&str, &str); 4] = [
    ("digitalocean_database_cluster", "name"),
    ("digitalocean_kubernetes_cluster", "name"),
    ("digitalocean_project", "name"),
    ("digitalocean_vpc", "name"),
];

/// The account-scoped names (`type name`) and VPC ranges an environment's `infra` declares
/// (`bootstrap` is shared when the environments share a state bucket).
fn names_and_ranges(out: &Output) -> (BTreeSet<String>, Vec<Ipv4Net>) {
    let mut names = BTreeSet::new();
    let mut ranges = Vec::new();
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/infra/") && path.ends_with(".tf.json")) {
            continue;
        }
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        for (ty, arg) in ACCOUNT_SCOPED {
            for body in doc["resource"][ty]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                if let Some(name) = body[arg].as_str()
                    && !name.contains("${")
                {
                    names.insert(format!("{ty} {name}"));
                }
            }
        }
        for body in doc["resource"]["digitalocean_vpc"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            ranges.extend(
                body["ip_range"]
                    .as_str()
                    .and_then(|r| r.parse::<Ipv4Net>().ok()),
            );
        }
    }
    (names, ranges)
}

/// A warning when environments of one blueprint (`envs`: name and DigitalOcean output) give
/// the same account-scoped names or overlapping VPC ranges.
pub fn shared_names(envs: &[(&str, &Output)]) -> Option<Note> {
    let seen: Vec<(&str, BTreeSet<String>, Vec<Ipv4Net>)> = envs
        .iter()
        .map(|(env, out)| {
            let (names, ranges) = names_and_ranges(out);
            (*env, names, ranges)
        })
        .collect();
    let mut clashes: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (i, (a, names_a, ranges_a)) in seen.iter().enumerate() {
        for (b, names_b, ranges_b) in &seen[i + 1..] {
            for name in names_a.intersection(names_b) {
                clashes.entry(name.clone()).or_default().extend([*a, *b]);
            }
            for ra in ranges_a {
                for rb in ranges_b {
                    if ra.contains(&rb.network()) || rb.contains(&ra.network()) {
                        clashes
                            .entry(format!("VPC ranges {ra} ({a}) and {rb} ({b})"))
                            .or_default()
                            .extend([*a, *b]);
                    }
                }
            }
        }
    }
    if clashes.is_empty() {
        return None;
    }
    let envs: BTreeSet<&str> = clashes.values().flatten().copied().collect();
    let examples: Vec<&str> = clashes.keys().take(4).map(|n| n.as_str()).collect();
    Some(Note::warning(
        "environments-share-names",
        format!(
            "environments {} collide in one DigitalOcean account ({}{}): project, VPC, cluster and database names are unique per account and VPC ranges may not overlap, so applied to one account the second environment fails; give each environment its own names (`{{env}}`) and `network.cidr` (an overlay per environment), or its own account",
            envs.into_iter().collect::<Vec<_>>().join(", "),
            examples.join(", "),
            if clashes.len() > examples.len() {
                ", …"
            } else {
                ""
            },
        ),
    ))
}
