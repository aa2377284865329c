//! YAML text → a tree of [`Node`]s that remember their `line:col`, with hostile input refused.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::diagnostic::{Diagnostic, Span};

/// Alias expansion can turn a few lines into billions of nodes; past this we refuse.
pub const MAX_NODES: usize = 1_000_000;
/// Every recursive walk downstream (deserializer, overlay, JSON) relies on this bound.
pub const MAX_DEPTH: usize = 64;

/// Tags with this handle are the standard `!!x` ones.
const CORE_TAG_HANDLE: &str = "tag:yaml.org,2002:";

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    /// `plain` is false for quoted and block (`|`, `>`) scalars: those are always strings.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in document order; keys are always `Scalar` and unique.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoreValue {
    Null,
    Bool(bool),
    Int(i64),
    /// Only for integers above `i64::MAX` that still fit in a `u64`.
    UInt(u64),
    Float(f64),
    Str,
}

impl Node {
    pub fn new(kind: NodeKind, span: Span) -> Self {
        Node { kind, span }
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The span of the key itself (not its value), for "unknown key" style messages.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entry(key).map(|(k, _)| k.span)
    }

    fn entry(&self, key: &str) -> Option<&(Node, Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)),
            _ => None,
        }
    }

    /// The text of a scalar, whatever it looks like (`1.30` stays `"1.30"`).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// For messages: "expected a mapping, found {kind_name}".
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Scalar { .. } => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The core-schema meaning of this scalar; quoted scalars are always strings.
    pub fn core_value(&self) -> Option<CoreValue> {
        match &self.kind {
            NodeKind::Null => Some(CoreValue::Null),
            NodeKind::Scalar { text, plain: true } => Some(resolve_plain(text)),
            NodeKind::Scalar { plain: false, .. } => Some(CoreValue::Str),
            _ => None,
        }
    }

    /// JSON with plain scalars typed by the core schema. `.inf` and `.nan` stay strings because
    /// JSON has no way to hold them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Scalar { text, plain } => {
                if !plain {
                    return Value::String(text.clone());
                }
                match resolve_plain(text) {
                    CoreValue::Null => Value::Null,
                    CoreValue::Bool(b) => Value::Bool(b),
                    CoreValue::Int(i) => Value::from(i),
                    CoreValue::UInt(u) => Value::from(u),
                    CoreValue::Float(f) => serde_json::Number::from_f64(f)
                        .map(Value::Number)
                        .unwrap_or_else(|| Value::String(text.clone())),
                    CoreValue::Str => Value::String(text.clone()),
                }
            }
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Type a plain scalar by the YAML 1.2 core schema (not 1.1: `yes`, `on`, `0777` are strings
/// or decimals, never booleans or octal).
pub fn resolve_plain(text: &str) -> CoreValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return CoreValue::Null,
        "true" | "True" | "TRUE" => return CoreValue::Bool(true),
        "false" | "False" | "FALSE" => return CoreValue::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_core_int(text) {
        return match i64::try_from(i) {
            Ok(v) => CoreValue::Int(v),
            Err(_) => match u64::try_from(i) {
                Ok(v) => CoreValue::UInt(v),
                // Beyond u64 there is no lossless number to give; the text is kept.
                Err(_) => CoreValue::Str,
            },
        };
    }
    if is_decimal_digits_with_sign(text) {
        // An integer too large even for i128.
        return CoreValue::Str;
    }
    match parse_core_float(text) {
        Some(f) => CoreValue::Float(f),
        None => CoreValue::Str,
    }
}

fn is_decimal_digits_with_sign(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?[0-9]+`, `0x[0-9a-fA-F]+` or `0o[0-7]+`; `None` when not an integer or beyond i128.
pub fn parse_core_int(text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x") {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if oct.is_empty() || !oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        return i128::from_str_radix(oct, 8).ok();
    }
    if !is_decimal_digits_with_sign(text) {
        return None;
    }
    // i128's parser takes the same `[-+]?digits` shape we just checked.
    text.parse::<i128>().ok()
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.inf`, `\.nan` (all three
/// spellings of each). Integers match too, as the core schema's float pattern allows.
pub fn parse_core_float(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let b = unsigned.as_bytes();
    let digits = |mut i: usize| {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - start)
    };
    let (mut i, int_digits) = digits(0);
    if i < b.len() && b[i] == b'.' {
        let (next, frac_digits) = digits(i + 1);
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
        i = next;
    } else if int_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
            j += 1;
        }
        let (next, exp_digits) = digits(j);
        if exp_digits == 0 {
            return None;
        }
        i = next;
    }
    if i != b.len() {
        return None;
    }
    // Rust's float syntax is a superset of the shape checked above.
    text.parse::<f64>().ok()
}

/// Parse one YAML document whose top level is a mapping.
pub fn parse(text: &str) -> Result<Node, Diagnostic> {
    let mut builder = Builder::new();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| scan_error(text, &e))?;
        if builder.event(event, span_of(mark))? {
            break;
        }
    }
    root_of(builder)
}

/// The document's root, which must be a non-empty mapping.
fn root_of(builder: Builder) -> Result<Node, Diagnostic> {
    let root = match builder.root {
        None
        | Some(Node {
            kind: NodeKind::Null,
            ..
        }) => {
            return Err(Diagnostic::new("the blueprint is empty")
                .at(Some(Span::new(1, 1)))
                .expected("a mapping with at least `name`"));
        }
        Some(root) => root,
    };
    if !matches!(root.kind, NodeKind::Map(_)) {
        return Err(Diagnostic::new(format!(
            "the blueprint must be a mapping (key: value pairs), found {}",
            root.kind_name()
        ))
        .at(Some(root.span))
        .expected("a mapping with at least `name`"));
    }
    Ok(root)
}

/// A container still being read.
struct Frame {
    span: Span,
    anchor: usize,
    /// Nodes in this subtree so far, so an alias to it can be charged its full size.
    count: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Key text → index of its entry, once the map is large enough for a linear search
        /// to cost more than a hash (so huge flat maps stay linear).
        seen: Option<HashMap<String, usize>>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    /// Anchor id → (subtree, its node count). Ids are unique per `&name` occurrence.
    anchors: HashMap<usize, (Node, usize)>,
    budget_used: usize,
    seen_document: bool,
    root: Option<Node>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            budget_used: 0,
            seen_document: false,
            root: None,
        }
    }

    /// Feed one event; `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event, span: Span) -> Result<bool, Diagnostic> {
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => {
                if self.seen_document {
                    return Err(Diagnostic::new(
                        "a blueprint holds one YAML document; found a second one",
                    )
                    .at(Some(span))
                    .help(
                        "remove the `---` line and everything after it, or merge the two documents",
                    ));
                }
                self.seen_document = true;
            }
            Event::Alias(id) => {
                let Some((anchored, count)) = self.anchors.get(&id) else {
                    // The parser resolves names itself; an id without a finished node is an
                    // alias inside its own anchor, which would be infinite.
                    return Err(
                        Diagnostic::new("an alias refers to the value that contains it")
                            .at(Some(span))
                            .help("a value cannot include itself; copy the parts you need"),
                    );
                };
                let count = *count;
                // The anchored subtree passed the depth check where it was written, not here.
                let too_deep = self.stack.len() + node_depth(anchored) > MAX_DEPTH;
                if too_deep {
                    return Err(depth_error(span));
                }
                // Charge before copying, so a bomb is refused without building it.
                self.charge(count, span)?;
                let Some((anchored, _)) = self.anchors.get(&id) else {
                    return Err(Diagnostic::new("an alias lost its anchor").at(Some(span)));
                };
                let mut node = anchored.clone();
                // The copy points at the alias, so errors in it are reported where it is used.
                node.span = span;
                self.complete(node, count)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1, span)?;
                let mut plain = style == TScalarStyle::Plain;
                if let Some(tag) = tag {
                    if is_core_str(&tag) {
                        plain = false;
                    } else {
                        return Err(tag_error(&tag, span));
                    }
                }
                let is_key = matches!(
                    self.stack.last(),
                    Some(Frame {
                        kind: FrameKind::Map { key: None, .. },
                        ..
                    })
                );
                // A value left empty (`EMPTY:`) is a null the parser places at the next
                // token, often the next line: it is shown at its key instead.
                let span = match self.stack.last() {
                    Some(Frame {
                        kind: FrameKind::Map { key: Some(k), .. },
                        ..
                    }) if plain && text.is_empty() => k.span,
                    _ => span,
                };
                let kind = if plain && !is_key && resolve_plain(&text) == CoreValue::Null {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar { text, plain }
                };
                let node = Node::new(kind, span);
                self.remember(anchor, &node, 1);
                self.complete(node, 1)?;
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if let Some(tag) = tag {
                    return Err(tag_error(tag, span));
                }
                self.charge(1, span)?;
                if self.stack.len() >= MAX_DEPTH {
                    return Err(depth_error(span));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    FrameKind::Seq(Vec::new())
                } else {
                    FrameKind::Map {
                        entries: Vec::new(),
                        key: None,
                        seen: None,
                    }
                };
                self.stack.push(Frame {
                    span,
                    anchor,
                    count: 1,
                    kind,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(
                        Diagnostic::new("invalid YAML: unbalanced end of a collection")
                            .at(Some(span)),
                    );
                };
                let kind = match frame.kind {
                    FrameKind::Seq(items) => NodeKind::Seq(items),
                    FrameKind::Map { entries, key, .. } => {
                        if let Some(key) = key {
                            // The parser always sends a value, even an empty one; guard anyway.
                            return Err(Diagnostic::new("invalid YAML: a key without a value")
                                .at(Some(key.span)));
                        }
                        NodeKind::Map(entries)
                    }
                };
                let node = Node::new(kind, frame.span);
                self.remember(frame.anchor, &node, frame.count);
                self.complete(node, frame.count)?;
            }
        }
        Ok(false)
    }

    fn charge(&mut self, nodes: usize, span: Span) -> Result<(), Diagnostic> {
        self.budget_used = self.budget_used.saturating_add(nodes);
        if self.budget_used > MAX_NODES {
            return Err(Diagnostic::new(format!(
                "the blueprint expands to more than {MAX_NODES} nodes (YAML alias bomb?)"
            ))
            .at(Some(span))
            .help("use fewer aliases (`*name`), or write the repeated values out"));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node, count: usize) {
        if anchor != 0 {
            // Storing the copy is work too; charging it keeps nested anchors from costing
            // more than the budget admits. Past the budget, the next node fails anyway.
            self.budget_used = self.budget_used.saturating_add(count);
            self.anchors.insert(anchor, (node.clone(), count));
        }
    }

    /// Attach a finished node to its parent (or make it the root).
    fn complete(&mut self, node: Node, count: usize) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.count = frame.count.saturating_add(count);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { entries, key, seen } => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    let name = match &node.kind {
                        NodeKind::Scalar { text, plain } => {
                            if *plain && text == "<<" {
                                return Err(Diagnostic::new(
                                    "YAML merge keys (`<<`) are not supported",
                                )
                                .at(Some(node.span))
                                .help("use `environments:` overlays or repeat the values"));
                            }
                            if *plain && text.is_empty() {
                                return Err(Diagnostic::new("a mapping key must be a plain name")
                                    .at(Some(node.span))
                                    .help("this key is empty; write `name: value`"));
                            }
                            text.as_str()
                        }
                        _ => {
                            return Err(Diagnostic::new("a mapping key must be a plain name")
                                .at(Some(node.span))
                                .help(format!("found {} used as a key", node.kind_name())));
                        }
                    };
                    const LINEAR: usize = 16;
                    if seen.is_none() && entries.len() >= LINEAR {
                        let index = entries
                            .iter()
                            .enumerate()
                            .map(|(i, (k, _))| (k.as_str().unwrap_or_default().to_string(), i))
                            .collect();
                        *seen = Some(index);
                    }
                    let first = match seen {
                        Some(index) => index.get(name).map(|&i| &entries[i].0),
                        None => entries
                            .iter()
                            .map(|(k, _)| k)
                            .find(|k| k.as_str() == Some(name)),
                    };
                    if let Some(first) = first {
                        return Err(
                            Diagnostic::new(format!("duplicate key `{}`", shorten(name)))
                                .at(Some(node.span))
                                .help(format!(
                                    "first defined at line {}; remove one of them",
                                    first.span.line
                                )),
                        );
                    }
                    if let Some(index) = seen {
                        index.insert(name.to_string(), entries.len());
                    }
                    // A block mapping's start event is marked just after its first key; the key
                    // itself is where a reader looks. Flow `{` comes first and is kept.
                    if entries.is_empty() && node.span < frame.span {
                        frame.span = node.span;
                    }
                    *key = Some(node);
                }
            },
        }
        Ok(())
    }
}

/// Levels of containers in a finished subtree (a scalar is 0). Iterative: it runs on aliases.
fn node_depth(node: &Node) -> usize {
    let mut max = 0;
    let mut todo = vec![(node, 1usize)];
    while let Some((n, level)) = todo.pop() {
        match &n.kind {
            NodeKind::Seq(items) => todo.extend(items.iter().map(|i| (i, level + 1))),
            NodeKind::Map(entries) => todo.extend(entries.iter().map(|(_, v)| (v, level + 1))),
            _ => continue,
        }
        max = max.max(level);
    }
    max
}

fn span_of(mark: Marker) -> Span {
    // yaml-rust2 0.13: line is 1-based, column 0-based (counted in chars).
    Span::new(mark.line().max(1), mark.col() + 1)
}

fn depth_error(span: Span) -> Diagnostic {
    Diagnostic::new(format!("nesting deeper than {MAX_DEPTH} levels"))
        .at(Some(span))
        .help("flatten the structure; no blueprint needs this much nesting")
}

fn is_core_str(tag: &Tag) -> bool {
    tag.handle == CORE_TAG_HANDLE && tag.suffix == "str"
}

fn tag_error(tag: &Tag, span: Span) -> Diagnostic {
    let shown = if tag.handle == CORE_TAG_HANDLE {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    };
    Diagnostic::new("YAML tags are not supported")
        .at(Some(span))
        .help(format!(
            "remove the `{}` tag; quote the value if you want it read as text",
            shorten(&shown)
        ))
}

/// Keep user text in messages short and free of control characters.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// Turn the parser's terse error into a positioned, readable diagnostic.
fn scan_error(text: &str, err: &ScanError) -> Diagnostic {
    let mark = err.marker();
    let info = err.info();
    let at_char = text.chars().nth(mark.index());
    let span = clamp_span(text, span_of(*mark));

    if info.contains("unknown anchor") {
        let name: String = text
            .chars()
            .skip(mark.index())
            .skip_while(|&c| c == '*')
            .take_while(|&c| !c.is_whitespace() && !",[]{}".contains(c))
            .take(64)
            .collect();
        return Diagnostic::new(format!("unknown alias `*{}`", shorten(&name)))
            .at(Some(span))
            .help(format!(
                "define it earlier with `&{}` in front of a value",
                shorten(&name)
            ));
    }

    // yaml-rust2 has its own (deeper) limit that can trip before our check sees the events.
    if info.contains("recursion limit") {
        return depth_error(span);
    }

    // "while parsing a block mapping, did not find expected key" → the part after the comma,
    // with the context as a hint.
    let (what, context) = match info.split_once(", ") {
        Some((ctx, rest)) if ctx.starts_with("while ") => (rest, Some(ctx)),
        _ => (info, None),
    };
    let mut message = format!("invalid YAML: {what}");
    if let Some(ctx) = context {
        let ctx = ctx
            .trim_start_matches("while parsing ")
            .trim_start_matches("while scanning ");
        message.push_str(&format!(" (in {ctx})"));
    }
    let mut diag = Diagnostic::new(message).at(Some(span));
    if at_char == Some('\t') || info.contains("tab") {
        diag = diag.help("YAML does not allow tabs for indentation; use spaces");
    } else if info.contains("mapping values are not allowed") {
        diag = diag.help(
            "check the indentation of this line and the one above; quote a value that contains `: `",
        );
    } else if info.contains("did not find expected key") {
        diag = diag.help("check the indentation: items of one mapping must line up");
    }
    diag
}

/// Errors at end of input are marked on a line past the last one; point at the end of the
/// last line instead so the report can show it.
fn clamp_span(text: &str, span: Span) -> Span {
    let lines: Vec<&str> = text.lines().collect();
    match lines.last() {
        Some(last) if span.line > lines.len() => Span::new(lines.len(), last.chars().count() + 1),
        _ => span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn err(text: &str) -> Diagnostic {
        match parse(text) {
            Ok(n) => panic!("expected an error for {text:?}, got {n:?}"),
            Err(d) => d,
        }
    }

    fn ok(text: &str) -> Node {
        match parse(text) {
            Ok(n) => n,
            Err(d) => panic!("unexpected error for {text:?}: {d}"),
        }
    }

    #[test]
    fn positions_of_scalars_keys_and_nested_items() {
        let text = "name: shop\nservices:\n  - name: web\n    port: 8080\n  - name: 'db'\ntags: [a, \"b\"]\n";
        let root = ok(text);
        assert_eq!(root.span, Span::new(1, 1));
        assert_eq!(root.key_span("services"), Some(Span::new(2, 1)));
        assert_eq!(root.get("name").map(|n| n.span), Some(Span::new(1, 7)));
        let services = root
            .get("services")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        assert_eq!(services.len(), 2);
        assert_eq!(services[0].span, Span::new(3, 5));
        assert_eq!(services[0].key_span("port"), Some(Span::new(4, 5)));
        assert_eq!(
            services[0].get("port").map(|n| n.span),
            Some(Span::new(4, 11))
        );
        let db = services[1].get("name");
        assert_eq!(
            db.map(|n| &n.kind),
            Some(&NodeKind::Scalar {
                text: "db".into(),
                plain: false
            })
        );
        assert_eq!(db.map(|n| n.span), Some(Span::new(5, 11)));
        let tags = root.get("tags");
        assert_eq!(tags.map(|n| n.span), Some(Span::new(6, 7)));
        let b = tags.and_then(Node::as_seq).and_then(|s| s.get(1));
        assert_eq!(b.map(|n| n.span), Some(Span::new(6, 11)));
        assert_eq!(b.and_then(Node::as_str), Some("b"));
    }

    #[test]
    fn plain_flag_and_nulls() {
        let root = ok("a: 1.30\nb: '1.30'\nc: |\n  x\nd:\ne: ~\nf: !!str 12\n");
        let plain = |k: &str| match root.get(k).map(|n| &n.kind) {
            Some(NodeKind::Scalar { plain, .. }) => Some(*plain),
            _ => None,
        };
        assert_eq!(plain("a"), Some(true));
        assert_eq!(plain("b"), Some(false));
        assert_eq!(plain("c"), Some(false));
        assert_eq!(plain("f"), Some(false));
        assert!(root.get("d").is_some_and(Node::is_null));
        assert!(root.get("e").is_some_and(Node::is_null));
        assert_eq!(root.get("a").and_then(Node::as_str), Some("1.30"));
    }

    #[test]
    fn an_empty_value_is_placed_at_its_key() {
        // The parser puts the empty scalar at the next token (`e:` on line 3).
        let root = ok("a:
  d:
  e: 1
");
        let d = root.get("a").and_then(|a| a.get("d")).unwrap();
        assert!(d.is_null());
        assert_eq!((d.span.line, d.span.col), (2, 3));
    }

    #[test]
    fn json_uses_core_schema() {
        let root = ok(concat!(
            "a: 1\nb: -7\nc: 0x1F\nd: 0o17\ne: 1.5\nf: .5\ng: 1e3\nh: true\ni: False\n",
            "j: ~\nk: yes\nl: '1'\nm: .inf\nn: .nan\no: 18446744073709551615\n",
            "p: 99999999999999999999999\nq: 1.30\nr: 0777\ns: +12\nt: 1_000\n"
        ));
        let json = root.to_json();
        let expected = serde_json::json!({
            "a": 1, "b": -7, "c": 31, "d": 15, "e": 1.5, "f": 0.5, "g": 1000.0, "h": true,
            "i": false, "j": null, "k": "yes", "l": "1", "m": ".inf", "n": ".nan",
            "o": 18446744073709551615u64, "p": "99999999999999999999999", "q": 1.3,
            "r": 777, "s": 12, "t": "1_000"
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn core_float_shapes() {
        for good in [
            "1.", ".5", "-1.5e-3", "+2E10", "3", "-.inf", "+.INF", ".NaN",
        ] {
            assert!(parse_core_float(good).is_some(), "{good}");
        }
        for bad in [
            ".", "e5", "1e", "1.5.", "inf", "nan", "1,5", "-", "+.", "0x10", "",
        ] {
            assert!(parse_core_float(bad).is_none(), "{bad}");
        }
        assert_eq!(resolve_plain("-.inf"), CoreValue::Float(f64::NEG_INFINITY));
        assert_eq!(resolve_plain("0x"), CoreValue::Str);
        assert_eq!(resolve_plain("0o8"), CoreValue::Str);
    }

    #[test]
    fn flow_mapping_span_is_the_brace() {
        let root = ok("a: {b: 1}\n");
        assert_eq!(root.get("a").map(|n| n.span), Some(Span::new(1, 4)));
    }

    #[test]
    fn duplicate_key() {
        let d = err("name: a\nother: 1\nname: b\n");
        assert_eq!(d.message, "duplicate key `name`");
        assert_eq!(d.span, Some(Span::new(3, 1)));
        assert_eq!(
            d.help.as_deref(),
            Some("first defined at line 1; remove one of them")
        );
        // Quoting does not make a key different.
        assert_eq!(err("a: 1\n'a': 2\n").message, "duplicate key `a`");
    }

    #[test]
    fn aliases_are_expanded() {
        let root = ok("base: &b\n  cpu: 1\n  mem: 2\nweb: *b\nlist: [&x one, *x]\n");
        let web = root.get("web");
        assert_eq!(
            web.and_then(|w| w.get("mem")).and_then(Node::as_str),
            Some("2")
        );
        // The copy is reported where the alias stands.
        assert_eq!(web.map(|n| n.span), Some(Span::new(4, 6)));
        assert_eq!(
            root.get("list").map(Node::to_json),
            Some(serde_json::json!(["one", "one"]))
        );
    }

    #[test]
    fn unknown_and_recursive_aliases() {
        let d = err("a: *nope\n");
        assert_eq!(d.message, "unknown alias `*nope`");
        assert_eq!(d.span, Some(Span::new(1, 4)));
        let d = err("a: &x [1, *x]\n");
        assert_eq!(d.message, "an alias refers to the value that contains it");
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, name) = (w[0], w[1]);
            let items = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        let start = Instant::now();
        let d = err(&text);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(
            d.message,
            "the blueprint expands to more than 1000000 nodes (YAML alias bomb?)"
        );
    }

    #[test]
    fn many_small_aliases_within_budget() {
        let mut text = String::from("x: &x [1, 2, 3]\nl:\n");
        for _ in 0..1000 {
            text.push_str("  - *x\n");
        }
        let root = ok(&text);
        assert_eq!(
            root.get("l").and_then(Node::as_seq).map(<[Node]>::len),
            Some(1000)
        );
    }

    #[test]
    fn depth_limit() {
        let text = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        let d = err(&text);
        assert_eq!(d.message, "nesting deeper than 64 levels");
        assert_eq!(
            err(&"[".repeat(100_000)).message,
            "nesting deeper than 64 levels"
        );
        assert_eq!(
            err(&"- ".repeat(100_000)).message,
            "nesting deeper than 64 levels"
        );
        // 64 levels in all (the top mapping is one) is still fine.
        ok(&format!("a: {}{}\n", "[".repeat(63), "]".repeat(63)));
        err(&format!("a: {}{}\n", "[".repeat(64), "]".repeat(64)));
        // An alias cannot smuggle depth past the limit.
        let deep = format!(
            "a: &d {}{}\nb: {}*d{}\n",
            "[".repeat(40),
            "]".repeat(40),
            "[".repeat(40),
            "]".repeat(40)
        );
        assert_eq!(err(&deep).message, "nesting deeper than 64 levels");
    }

    #[test]
    fn one_document_only() {
        let d = err("---\na: 1\n---\nb: 2\n");
        assert_eq!(
            d.message,
            "a blueprint holds one YAML document; found a second one"
        );
        assert_eq!(d.span, Some(Span::new(3, 1)));
        ok("---\na: 1\n...\n");
    }

    #[test]
    fn empty_input() {
        for text in ["", "   \n", "# only a comment\n", "---\n", "~\n"] {
            let d = err(text);
            assert_eq!(d.message, "the blueprint is empty", "{text:?}");
            assert_eq!(
                d.expected.as_deref(),
                Some("a mapping with at least `name`")
            );
        }
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        assert_eq!(
            err("- a\n- b\n").message,
            "the blueprint must be a mapping (key: value pairs), found a list"
        );
        assert_eq!(
            err("hello\n").message,
            "the blueprint must be a mapping (key: value pairs), found a string"
        );
    }

    #[test]
    fn scanner_errors_are_positioned() {
        let d = err("a: b: c\n");
        assert_eq!(
            d.message,
            "invalid YAML: mapping values are not allowed in this context"
        );
        assert_eq!(d.span, Some(Span::new(1, 5)));
        let d = err("a:\n\tb: 1\n");
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
        assert_eq!(
            d.help.as_deref(),
            Some("YAML does not allow tabs for indentation; use spaces")
        );
        let d = err("a: [1, 2\n");
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
        assert_eq!(d.span.map(|s| s.line), Some(1));
    }

    #[test]
    fn unsupported_features() {
        let d = err("a: !foo x\n");
        assert_eq!(d.message, "YAML tags are not supported");
        assert!(d.help.is_some_and(|h| h.contains("`!foo`")));
        assert_eq!(
            err("a: !!binary eA==\n").message,
            "YAML tags are not supported"
        );
        assert_eq!(
            err("a: !!map {b: 1}\n").message,
            "YAML tags are not supported"
        );
        let d = err("base: &b {x: 1}\nweb:\n  <<: *b\n");
        assert_eq!(d.message, "YAML merge keys (`<<`) are not supported");
        assert_eq!(
            d.help.as_deref(),
            Some("use `environments:` overlays or repeat the values")
        );
        assert_eq!(d.span, Some(Span::new(3, 3)));
        let d = err("? [a, b]\n: c\n");
        assert_eq!(d.message, "a mapping key must be a plain name");
        assert_eq!(d.span, Some(Span::new(1, 3)));
        assert_eq!(
            err("{[a]: 1}\n").message,
            "a mapping key must be a plain name"
        );
        assert_eq!(err(": x\n").message, "a mapping key must be a plain name");
    }

    #[test]
    fn keys_that_look_like_other_types_stay_text() {
        let root = ok("null: 1\ntrue: 2\n3: x\n");
        assert_eq!(root.get("null").and_then(Node::as_str), Some("1"));
        assert_eq!(root.get("true").and_then(Node::as_str), Some("2"));
        assert_eq!(root.get("3").and_then(Node::as_str), Some("x"));
    }

    #[test]
    fn hostile_input_never_panics() {
        let nasty = [
            "\u{0}",
            "{",
            "- [",
            ":",
            "a: *b",
            "!!binary x",
            "\t",
            "\ta: b",
            "a:\tb",
            "[[[[",
            "}}}",
            "&a",
            "*a",
            "&a &b c",
            "? ? ?",
            "- - - -",
            "'unterminated",
            "\"bad \\q\"",
            "%YAML 1.2\n%YAML 1.2\n",
            "%TAG ! !x\n--- !y a",
            "a: |\n bad\n  x",
            "\u{feff}a: 1",
            "a: 1\r\nb: 2\r\n",
            "\u{7f}\u{1}\u{2}",
            "a: \"\u{0}\"",
            "...\n...",
            "--- |\n x",
            "a:\n  - b\n c: d",
            "@a",
            "`x",
            "a: &x\nb: *x",
            "{a: 1, a: 2}",
            "[a, b]: c",
            "a: [1, 2]]",
            "é: ü\nü: é",
            "- *x",
            "0: 0\n00: 0",
            "key: !!str",
            "<<: {}",
        ];
        for text in nasty {
            let _ = parse(text);
        }
        // Random bytes seen as text.
        let mut seed: u32 = 0x2545_f491;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let pool = b"ab:- []{},?&*!'\"|>#\t\n %@`\\~0.";
                s.push(char::from(pool[(seed as usize) % pool.len()]));
            }
            let _ = parse(&s);
        }
    }

    #[test]
    fn eof_errors_point_at_the_last_line() {
        let d = err("a: 'open\n");
        assert_eq!(d.span.map(|s| s.line), Some(1));
    }
}
