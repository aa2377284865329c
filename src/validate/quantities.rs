//! Kubernetes quantities in the blueprint (`resources`, VPA bounds, LimitRange, quota, volume
//! sizes) are checked where they are written, so `cpu: 500mc` is an error at its line, not a
//! rejected manifest at apply time.

use super::Checker;
use crate::blueprint::node::{Node, NodeKind};

/// Mappings whose `cpu`/`memory` (and keys named like a size) hold quantities.
const HOLDERS: &[&str] = &[
    "requests",
    "limits",
    "min",
    "max",
    "default",
    "default_request",
];
/// Keys that hold a quantity wherever they are.
const SIZES: &[&str] = &["volume_size", "size_limit", "ephemeral_storage"];

pub fn check(c: &mut Checker) {
    let mut found = Vec::new();
    walk(&c.loaded.node, "", "", &mut found);
    for (path, message) in found {
        let d = c.error(&path, message);
        *d = d
            .clone()
            .expected("a Kubernetes quantity such as `250m`, `1`, `512Mi` or `2Gi`");
    }
}

fn walk(node: &Node, path: &str, parent: &str, out: &mut Vec<(String, String)>) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let Some(key) = k.as_str() else { continue };
                let here = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                let holds = (HOLDERS.contains(&parent) && (key == "cpu" || key == "memory"))
                    || SIZES.contains(&key);
                if holds
                    && let NodeKind::Scalar { text, .. } = &v.kind
                    && let Err(e) = crate::check::quantity::check(text)
                {
                    out.push((here.clone(), e));
                }
                // Overrides patch output and are checked there; environments are merged.
                if path.is_empty() && (key == "overrides" || key == "environments") {
                    continue;
                }
                walk(v, &here, key, out);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), parent, out);
            }
        }
        _ => {}
    }
}
