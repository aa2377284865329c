//! Errors an environment or per-provider overlay caused, said in the overlay's terms.
//!
//! After the merge, a bad value an overlay brought in is reported by the deserializer like
//! any other (`services[1]: missing field image`). Two things make that hard to act on: the
//! message does not say which environment is at fault, and an overlay item whose `name` is a
//! typo (`wroker`) silently became a new item, so the complaint is about the fields a new
//! service lacks rather than about the name. These hints are collected before the merge and
//! applied to the deserializer's error.

use super::node::{Node, NodeKind};
use crate::diagnostic::{Diagnostic, Span};

/// An overlay list item whose `name` is not in the base list it merges into.
#[derive(Debug)]
pub struct NewItem {
    pub span: Span,
    pub name: String,
    /// The list's key, e.g. `services`.
    pub list: String,
    pub base_names: Vec<String>,
}

/// The new items `overlay` adds to `base`'s lists merged by name, at any depth.
pub fn new_items(base: &Node, overlay: &Node) -> Vec<NewItem> {
    let mut out = Vec::new();
    walk(base, overlay, "", &mut out);
    out
}

fn name(item: &Node) -> Option<&str> {
    item.get("name").and_then(Node::as_str)
}

fn walk(base: &Node, overlay: &Node, key: &str, out: &mut Vec<NewItem>) {
    match (&base.kind, &overlay.kind) {
        (NodeKind::Map(_), NodeKind::Map(entries)) => {
            for (k, v) in entries {
                if let (Some(k), Some(b)) = (k.as_str(), k.as_str().and_then(|k| base.get(k))) {
                    walk(b, v, k, out);
                }
            }
        }
        (NodeKind::Seq(b), NodeKind::Seq(o)) => {
            let base_names: Vec<String> = b.iter().filter_map(name).map(String::from).collect();
            if base_names.len() != b.len() {
                return; // not a list merged by name
            }
            for item in o {
                let Some(n) = name(item) else { continue };
                match b.iter().find(|x| name(x) == Some(n)) {
                    Some(matched) => walk(matched, item, key, out),
                    None => out.push(NewItem {
                        span: item.span,
                        name: n.to_string(),
                        list: key.to_string(),
                        base_names: base_names.clone(),
                    }),
                }
            }
        }
        _ => {}
    }
}

/// The closest of `names` to `typo`, if close enough to be what was meant (the one
/// did-you-mean rule, [`crate::diagnostic::closest`]); never `typo` itself.
fn closest<'a>(typo: &str, names: &'a [String]) -> Option<&'a str> {
    crate::diagnostic::closest(
        typo,
        names.iter().map(String::as_str).filter(|n| *n != typo),
    )
}

/// `d`, restated when the overlay `what` (e.g. ``environment `staging` ``; its nodes spanning
/// `lines`) caused it.
pub fn restate(
    mut d: Diagnostic,
    what: &str,
    lines: (usize, usize),
    new: &[NewItem],
) -> Diagnostic {
    let Some(span) = d.span else { return d };
    if span.line < lines.0 || span.line > lines.1 {
        return d;
    }
    // The error sits on an item the overlay added under a name the base nearly has.
    if let Some(item) = new.iter().find(|i| i.span == span)
        && let Some(meant) = closest(&item.name, &item.base_names)
    {
        let kind = item.list.strip_suffix('s').unwrap_or(&item.list);
        d.help = Some(format!(
            "an overlay item merges into the base item of the same `name`; under a new name it \
             adds an item, which needs every field ({}). Write `name: {meant}` to change the \
             base's `{meant}`",
            d.message
        ));
        d.message = format!(
            "in {what}: no {kind} `{}` in the base; did you mean `{meant}`?",
            item.name
        );
        d.expected = None;
        return d;
    }
    d.message = format!("in {what}: {}", d.message);
    d
}

/// First and last line of `node` and everything in it.
pub fn line_range(node: &Node) -> (usize, usize) {
    let mut range = (node.span.line, node.span.line);
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        range.0 = range.0.min(n.span.line);
        range.1 = range.1.max(n.span.line);
        match &n.kind {
            NodeKind::Seq(items) => stack.extend(items),
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    range
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::node::parse;

    #[test]
    fn finds_new_items_and_near_names() {
        let base = parse("services:\n  - name: worker\n  - name: api\n").unwrap();
        let overlay =
            parse("services:\n  - name: wroker\n  - name: api\n  - name: billing\n").unwrap();
        let new = new_items(&base, &overlay);
        let names: Vec<&str> = new.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["wroker", "billing"]);
        assert_eq!(new[0].list, "services");
        assert_eq!(closest("wroker", &new[0].base_names), Some("worker"));
        assert_eq!(closest("billing", &new[1].base_names), None);
    }

    #[test]
    fn errors_outside_the_overlay_are_left_alone() {
        let d = Diagnostic::new("bad").at(Some(Span::new(3, 1)));
        assert_eq!(
            restate(d.clone(), "environment `staging`", (10, 20), &[]).message,
            "bad"
        );
        assert_eq!(
            restate(d, "environment `staging`", (1, 5), &[]).message,
            "in environment `staging`: bad"
        );
    }
}
