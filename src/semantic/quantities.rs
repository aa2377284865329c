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
    walk(&c.loaded.node, &mut String::new(), "", &mut found);
    for (path, message) in found {
        let d = c.error(&path, message);
        *d = d
            .clone()
            .expected("a Kubernetes quantity such as `250m`, `1`, `512Mi` or `2Gi`");
    }
}

/// Visit every mapping under `node`, whose dotted path is `path`. One buffer holds the path
/// (each level appends its segment and truncates it back), so the walk allocates only for
/// the errors it finds, not once per node of a blueprint that may run to thousands.
fn walk(node: &Node, path: &mut String, parent: &str, out: &mut Vec<(String, String)>) {
    let len = path.len();
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let Some(key) = k.as_str() else { continue };
                // Overrides patch output and are checked there; environments are merged.
                let top = len == 0;
                if !top {
                    path.push('.');
                }
                path.push_str(key);
                let holds = ((key == "cpu" || key == "memory") && HOLDERS.contains(&parent))
                    || SIZES.contains(&key);
                if holds
                    && let NodeKind::Scalar { text, .. } = &v.kind
                    && let Err(e) = crate::check::quantity::check(text)
                {
                    out.push((path.clone(), e));
                }
                if !(top && (key == "overrides" || key == "environments")) {
                    walk(v, path, key, out);
                }
                path.truncate(len);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push('[');
                path.push_str(itoa::Buffer::new().format(i));
                path.push(']');
                walk(item, path, parent, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
