//! Renamed components → Terraform `moved` blocks. Back-ends name a component's resources
//! after it (`aws_db_instance.orders`, `aws_security_group.orders`,
//! `aws_vpc_security_group_ingress_rule.orders_from_api_tasks`), so a resource that
//! disappears under the old name and appears under the new one — same type, the name's
//! token swapped — is the same resource, moved.

use std::collections::{BTreeMap, BTreeSet};

use crate::blueprint::Blueprint;
use crate::output::Output;
use crate::terraform::ident;

/// Terraform resource addresses per module (`infra` → {`aws_vpc.main`, …}).
fn addresses(out: &Output) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &out.files {
        let Some(rest) = path.strip_prefix("terraform/") else {
            continue;
        };
        if !path.ends_with(".tf.json") {
            continue;
        }
        let module = rest.split('/').next().unwrap_or(rest).to_string();
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        if let Some(types) = doc.get("resource").and_then(|r| r.as_object()) {
            for (ty, names) in types {
                for name in names.as_object().into_iter().flat_map(|n| n.keys()) {
                    m.entry(module.clone())
                        .or_default()
                        .insert(format!("{ty}.{name}"));
                }
            }
        }
    }
    m
}

/// `name` with the whole token `from` replaced by `to` (tokens are `_`-separated), or None.
fn swap_token(name: &str, from: &str, to: &str) -> Option<String> {
    if name == from {
        return Some(to.to_string());
    }
    if let Some(rest) = name.strip_prefix(&format!("{from}_")) {
        return Some(format!("{to}_{rest}"));
    }
    if let Some(rest) = name.strip_suffix(&format!("_{from}")) {
        return Some(format!("{rest}_{to}"));
    }
    let needle = format!("_{from}_");
    name.find(&needle)
        .map(|i| format!("{}_{to}_{}", &name[..i], &name[i + needle.len()..]))
}

/// `moved` pairs per module: resources present only in `base` under a component's previous
/// name and only in `head` under its current one. `renames` are `(previous, current)`.
pub fn moved(
    base: &Output,
    head: &Output,
    renames: &[(String, String)],
) -> BTreeMap<String, Vec<(String, String)>> {
    let (old, new) = (addresses(base), addresses(head));
    let mut result: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (module, new_addrs) in &new {
        let empty = BTreeSet::new();
        let old_addrs = old.get(module).unwrap_or(&empty);
        for addr in new_addrs.difference(old_addrs) {
            let Some((ty, name)) = addr.split_once('.') else {
                continue;
            };
            for (prev, cur) in renames {
                let Some(prev_name) = swap_token(name, &ident(cur), &ident(prev)) else {
                    continue;
                };
                let from = format!("{ty}.{prev_name}");
                if old_addrs.contains(&from) && !new_addrs.contains(&from) {
                    result
                        .entry(module.clone())
                        .or_default()
                        .push((from, addr.clone()));
                    break;
                }
            }
        }
    }
    result
}

/// Renames detected between two versions of a blueprint: within one kind of component,
/// exactly one name gone and one name new.
pub fn detect(base: &Blueprint, head: &Blueprint) -> Vec<(String, String)> {
    detect_listed(base, head)
        .into_iter()
        .map(|(_, from, to)| (from, to))
        .collect()
}

/// [`detect`] with the list each rename is in (`databases`, `services`, …): (list, previous,
/// current).
pub fn detect_listed(base: &Blueprint, head: &Blueprint) -> Vec<(&'static str, String, String)> {
    let (a, b) = (base.components(), head.components());
    let mut lists: Vec<&'static str> = b.iter().map(|c| c.list).collect();
    lists.dedup();
    let mut out = Vec::new();
    for list in lists {
        let names = |cs: &[crate::blueprint::types::Component<'_>]| -> Vec<String> {
            cs.iter()
                .filter(|c| c.list == list)
                .map(|c| c.name.to_string())
                .collect()
        };
        let (old, new) = (names(&a), names(&b));
        let gone: Vec<&String> = old.iter().filter(|x| !new.contains(x)).collect();
        let added: Vec<&String> = new.iter().filter(|x| !old.contains(x)).collect();
        if let ([g], [n]) = (gone.as_slice(), added.as_slice()) {
            out.push((list, (*g).clone(), (*n).clone()));
        }
    }
    out
}

/// The renames [`detect_listed`] finds that `head` does not declare with `renamed_from`.
pub fn undeclared(base: &Blueprint, head: &Blueprint) -> Vec<(&'static str, String, String)> {
    let declared = crate::blueprint::renames(head);
    detect_listed(base, head)
        .into_iter()
        .filter(|(_, from, to)| !declared.contains(&(from.clone(), to.clone())))
        .collect()
}

/// Render moved pairs as a Terraform JSON `moved.tf.json` body.
pub fn moved_file(pairs: &[(String, String)], header: &str) -> String {
    let blocks: Vec<serde_json::Value> = pairs
        .iter()
        .map(|(from, to)| serde_json::json!({"from": from, "to": to}))
        .collect();
    crate::terraform::render_json(&serde_json::json!({"//": header, "moved": blocks}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(
            swap_token("orders", "orders", "sales").as_deref(),
            Some("sales")
        );
        assert_eq!(
            swap_token("orders_from_api", "orders", "sales").as_deref(),
            Some("sales_from_api")
        );
        assert_eq!(
            swap_token("api_tasks", "api", "web").as_deref(),
            Some("web_tasks")
        );
        assert_eq!(
            swap_token("x_api_y", "api", "web").as_deref(),
            Some("x_web_y")
        );
        assert_eq!(swap_token("apix", "api", "web"), None);
    }
}
