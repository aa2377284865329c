//! Environments that would collide in one DigitalOcean account (`synth`), the
//! counterpart of `backend::aws::accounts`.
//!
//! Some DigitalOcean names are unique per account: a VPC's ("Must be unique",
//! <https://docs.digitalocean.com/reference/terraform/reference/resources/vpc/>), a DOKS
//! cluster's and a database cluster's. Applied to one account, the second environment's
//! create fails. A single environment's output cannot tell (nothing in DigitalOcean's
//! provider pins an account), so `synth` compares the names the environments it lowers
//! declare with those of the blueprint's other environments and warns. Two account-scoped
//! clashes are judged per environment instead, from the blueprint alone, so they are not
//! judged here again: a
//! shared project name (lint `do-project-name`) and overlapping VPC ranges (`do-vpc-overlap`,
//! `lint.rs`). The registry, one per account, is not among them: one environment creates it
//! (`registry.rs`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diagnostic::Note;
use crate::output::Output;

/// Resource types whose name is unique per account, and the argument holding it.
const ACCOUNT_SCOPED: [(&str, &str); 3] = [
    ("digitalocean_database_cluster", "name"),
    ("digitalocean_kubernetes_cluster", "name"),
    ("digitalocean_vpc", "name"),
];

/// The account-scoped names (`type name`) an environment's `infra` declares (`bootstrap` is
/// shared when the environments share a state bucket).
fn names(out: &Output) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
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
    }
    names
}

/// A warning when environments of one blueprint (`envs`: name and DigitalOcean output) give
/// the same account-scoped names; only pairs with an environment of `focus` (the ones being
/// synthesized) count.
pub fn shared_names(envs: &[(&str, &Output)], focus: &[&str]) -> Option<Note> {
    let seen: Vec<(&str, BTreeSet<String>)> =
        envs.iter().map(|(env, out)| (*env, names(out))).collect();
    let mut clashes: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (i, (a, names_a)) in seen.iter().enumerate() {
        for (b, names_b) in &seen[i + 1..] {
            if !(focus.contains(a) || focus.contains(b)) {
                continue;
            }
            for name in names_a.intersection(names_b) {
                clashes.entry(name.clone()).or_default().extend([*a, *b]);
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
            "environments {} collide in one DigitalOcean account ({}{}): VPC, cluster and database names are unique per account, so applied to one account the second environment fails; give each environment its own names (`{{env}}`) or its own account",
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
