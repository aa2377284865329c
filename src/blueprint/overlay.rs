//! Environment overlays: `environments.<name>` deep-merged onto the base blueprint tree.

use std::collections::HashMap;

use super::node::{Node, NodeKind};
use crate::diagnostic::Diagnostic;

/// The key an overlay list item uses to ask for something other than a deep merge.
pub const PATCH_KEY: &str = "$patch";
/// The one `$patch` directive: remove the base item with this item's `name`.
pub const PATCH_DELETE: &str = "delete";

/// Merge `overlay` onto `base`.
///
/// Maps merge key by key (base order kept, new keys appended) and a `null` value removes the
/// key; lists whose items all are mappings with a scalar `name` merge by `name` (`$patch:
/// delete` removes an item); any other list, and every scalar, is replaced. A `null` overlay
/// (an environment declared with no changes) leaves the base as it is. Each resulting node
/// keeps the span of the side it came from, so a bad value an overlay introduced is reported
/// on the overlay's line.
pub fn merge(base: Node, overlay: Node) -> Node {
    let Node {
        kind: base_kind,
        span: base_span,
    } = base;
    match (base_kind, overlay.kind) {
        (base_kind, NodeKind::Null) => Node::new(base_kind, base_span),
        (NodeKind::Map(b), NodeKind::Map(o)) => {
            Node::new(NodeKind::Map(merge_maps(b, o)), base_span)
        }
        (NodeKind::Seq(b), NodeKind::Seq(o)) if !o.is_empty() && is_named(&b) && is_named(&o) => {
            Node::new(NodeKind::Seq(merge_named(b, o)), base_span)
        }
        (_, overlay_kind) => normalize(Node::new(overlay_kind, overlay.span)),
    }
}

/// Report `$patch` directives that `merge` would silently drop: unknown values (a typo such
/// as `delte` would otherwise deep-merge instead of delete) and `$patch` outside a list
/// merged by `name`.
pub fn check(overlay: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_node(overlay, false, &mut out);
    out
}

fn check_node(node: &Node, named_item: bool, out: &mut Vec<Diagnostic>) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                if k.as_str() == Some(PATCH_KEY) {
                    if !named_item {
                        out.push(
                            Diagnostic::new(
                                "`$patch` only applies to items of a list merged by `name`",
                            )
                            .at(Some(k.span))
                            .help("put it in a list item that also has `name:`"),
                        );
                    } else if v.as_str() != Some(PATCH_DELETE) {
                        out.push(
                            Diagnostic::new(format!(
                                "unknown `$patch` directive, found {}",
                                shown(v)
                            ))
                            .at(Some(v.span))
                            .expected("`delete`"),
                        );
                    }
                }
                check_node(v, false, out);
            }
        }
        NodeKind::Seq(items) => {
            let named = is_named(items);
            for item in items {
                check_node(item, named, out);
            }
        }
        NodeKind::Null | NodeKind::Scalar { .. } => {}
    }
}

fn shown(node: &Node) -> String {
    match node.as_str() {
        Some(s) => format!("`{}`", super::node::shorten(s)),
        None => node.kind_name().to_string(),
    }
}

fn merge_maps(base: Vec<(Node, Node)>, overlay: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    // Slots instead of removal, and an index instead of scans, keep huge maps linear.
    let mut out: Vec<Option<(Node, Node)>> = base.into_iter().map(Some).collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, slot) in out.iter().enumerate() {
        if let Some(name) = slot.as_ref().and_then(|(k, _)| k.as_str()) {
            index.entry(name.to_string()).or_insert(i);
        }
    }
    for (key, value) in overlay {
        let Some(name) = key.as_str().map(str::to_string) else {
            continue;
        };
        let slot = index.get(&name).copied().and_then(|i| out.get_mut(i));
        match slot {
            Some(slot @ Some(_)) => {
                if value.is_null() {
                    *slot = None;
                } else if let Some((base_key, base_value)) = slot.take() {
                    *slot = Some((base_key, merge(base_value, value)));
                }
            }
            _ => {
                // Nothing to remove when the base lacks the key.
                if !value.is_null() {
                    index.insert(name, out.len());
                    out.push(Some((key, normalize(value))));
                }
            }
        }
    }
    out.into_iter().flatten().collect()
}

fn merge_named(base: Vec<Node>, overlay: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<Option<Node>> = base.into_iter().map(Some).collect();
    // Every position per name: a delete removes all duplicates, a merge goes to the first.
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in out.iter().enumerate() {
        if let Some(name) = item.as_ref().and_then(item_name) {
            index.entry(name.to_string()).or_default().push(i);
        }
    }
    for item in overlay {
        let Some(name) = item_name(&item).map(str::to_string) else {
            continue;
        };
        let delete = item.get(PATCH_KEY).and_then(Node::as_str) == Some(PATCH_DELETE);
        let item = strip_patch(item);
        let live: Vec<usize> = index
            .get(&name)
            .map(|positions| {
                positions
                    .iter()
                    .copied()
                    .filter(|&i| out.get(i).is_some_and(Option::is_some))
                    .collect()
            })
            .unwrap_or_default();
        if delete {
            for i in live {
                if let Some(slot) = out.get_mut(i) {
                    *slot = None;
                }
            }
            continue;
        }
        match live.first().and_then(|&i| out.get_mut(i)) {
            Some(slot) => {
                if let Some(base_item) = slot.take() {
                    *slot = Some(merge(base_item, item));
                }
            }
            None => {
                index.insert(name, vec![out.len()]);
                out.push(Some(normalize(item)));
            }
        }
    }
    out.into_iter().flatten().collect()
}

/// A value taken whole from the overlay: its named lists may still carry `$patch` items,
/// which must not survive into the result.
fn normalize(node: Node) -> Node {
    let Node { kind, span } = node;
    let kind = match kind {
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, normalize(v)))
                .collect(),
        ),
        NodeKind::Seq(items) if is_named(&items) => NodeKind::Seq(
            items
                .into_iter()
                .filter(|i| i.get(PATCH_KEY).and_then(Node::as_str) != Some(PATCH_DELETE))
                .map(|i| normalize(strip_patch(i)))
                .collect(),
        ),
        NodeKind::Seq(items) => NodeKind::Seq(items.into_iter().map(normalize).collect()),
        other => other,
    };
    Node::new(kind, span)
}

fn strip_patch(mut item: Node) -> Node {
    if let NodeKind::Map(entries) = &mut item.kind {
        entries.retain(|(k, _)| k.as_str() != Some(PATCH_KEY));
    }
    item
}

fn item_name(item: &Node) -> Option<&str> {
    item.get("name").and_then(Node::as_str)
}

/// Every item is a mapping with a scalar `name` (vacuously true for an empty list).
fn is_named(items: &[Node]) -> bool {
    items.iter().all(|i| item_name(i).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::node::parse;
    use crate::diagnostic::Span;
    use serde_json::json;

    fn doc(text: &str) -> Node {
        parse(text).unwrap_or_else(|d| panic!("{d}"))
    }

    fn merged(base: &str, overlay: &str) -> Node {
        merge(doc(base), doc(overlay))
    }

    #[test]
    fn maps_deep_merge_in_base_order() {
        let m = merged(
            "name: shop\ncluster:\n  version: '1.30'\n  nodes: 3\n  tags: {a: 1}\nz: 1\n",
            "cluster:\n  nodes: 5\n  tags: {b: 2}\n  zone: x\nnew: y\n",
        );
        assert_eq!(
            m.to_json(),
            json!({"name": "shop", "cluster": {"version": "1.30", "nodes": 5, "tags": {"a": 1, "b": 2}, "zone": "x"}, "z": 1, "new": "y"})
        );
        let keys: Vec<&str> = m
            .get("cluster")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, vec!["version", "nodes", "tags", "zone"]);
    }

    #[test]
    fn spans_follow_the_side_a_value_came_from() {
        let m = merged("a:\n  b: 1\n  c: 2\n", "x: 0\na:\n  c: 3\n");
        let a = m.get("a");
        assert_eq!(a.map(|n| n.span), Some(Span::new(2, 3)));
        assert_eq!(
            a.and_then(|n| n.get("b")).map(|n| n.span),
            Some(Span::new(2, 6))
        );
        assert_eq!(
            a.and_then(|n| n.get("c")).map(|n| n.span),
            Some(Span::new(3, 6))
        );
        assert_eq!(m.get("x").map(|n| n.span), Some(Span::new(1, 4)));
    }

    #[test]
    fn null_removes_a_key() {
        let m = merged(
            "a: 1\nb: {c: 1, d: 2}\n",
            "a: ~\nb: {d: null}\nmissing: null\n",
        );
        assert_eq!(m.to_json(), json!({"b": {"c": 1}}));
    }

    #[test]
    fn null_overlay_changes_nothing() {
        let base = doc("a: 1\n");
        let m = merge(base.clone(), Node::new(NodeKind::Null, Span::new(9, 9)));
        assert_eq!(m, base);
    }

    #[test]
    fn named_lists_merge_by_name() {
        let m = merged(
            "services:\n  - name: web\n    port: 80\n    env: {A: 1}\n  - name: api\n    port: 81\n",
            "services:\n  - name: api\n    port: 9000\n  - name: worker\n    port: 82\n  - name: web\n    env: {B: 2}\n",
        );
        assert_eq!(
            m.to_json(),
            json!({"services": [
                {"name": "web", "port": 80, "env": {"A": 1, "B": 2}},
                {"name": "api", "port": 9000},
                {"name": "worker", "port": 82},
            ]})
        );
        // The changed port points at the overlay line.
        let api_port = m
            .get("services")
            .and_then(Node::as_seq)
            .and_then(|s| s.get(1))
            .and_then(|n| n.get("port"));
        assert_eq!(api_port.map(|n| n.span), Some(Span::new(3, 11)));
    }

    #[test]
    fn patch_delete_removes_an_item() {
        let m = merged(
            "services:\n  - name: web\n  - name: api\n  - name: db\n",
            "services:\n  - name: api\n    $patch: delete\n  - name: ghost\n    $patch: delete\n  - name: new\n    $patch: merge\n",
        );
        assert_eq!(
            m.to_json(),
            json!({"services": [{"name": "web"}, {"name": "db"}, {"name": "new"}]})
        );
    }

    #[test]
    fn patch_never_survives_in_new_subtrees() {
        let m = merged(
            "a: 1\n",
            "pools:\n  - name: x\n    $patch: delete\n  - name: y\n    $patch: merge\n",
        );
        assert_eq!(m.to_json(), json!({"a": 1, "pools": [{"name": "y"}]}));
    }

    #[test]
    fn other_lists_replace() {
        let m = merged(
            "zones: [a, b, c]\nservices:\n  - name: web\nmixed:\n  - name: a\n  - b\n",
            "zones: [d]\nservices: []\nmixed:\n  - name: z\n",
        );
        assert_eq!(
            m.to_json(),
            json!({"zones": ["d"], "services": [], "mixed": [{"name": "z"}]})
        );
        assert_eq!(m.get("zones").map(|n| n.span), Some(Span::new(1, 8)));
    }

    #[test]
    fn scalars_and_mismatched_kinds_replace() {
        let m = merged(
            "a: 1\nb: {c: 1}\nc: [1]\nd: x\n",
            "a: 2\nb: flat\nc: {k: v}\nd: [y]\n",
        );
        assert_eq!(
            m.to_json(),
            json!({"a": 2, "b": "flat", "c": {"k": "v"}, "d": ["y"]})
        );
        assert_eq!(m.get("a").map(|n| n.span), Some(Span::new(1, 4)));
    }

    #[test]
    fn check_reports_bad_patches() {
        let o = doc("services:\n  - name: a\n    $patch: delte\nx:\n  $patch: delete\n");
        let ds = check(&o);
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[0].message, "unknown `$patch` directive, found `delte`");
        assert_eq!(ds[0].span, Some(Span::new(3, 13)));
        assert_eq!(
            ds[1].message,
            "`$patch` only applies to items of a list merged by `name`"
        );
        assert!(check(&doc("s:\n  - name: a\n    $patch: delete\n")).is_empty());
    }
}
