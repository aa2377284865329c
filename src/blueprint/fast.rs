//! A fast path for the YAML blueprints are written in: block mappings and sequences, plain
//! and quoted one-line scalars, one-line flow collections, comments. It produces exactly
//! the events (and positions) yaml-rust2 produces for such text, about ten times faster
//! than yaml-rust2's character-by-character scanner, which was a third of a whole `synth`.
//!
//! Anything else — anchors, aliases, tags, block scalars (`|`, `>`), multi-line scalars or
//! flow collections, escapes, an empty value at the end, tabs, a node after non-ASCII
//! text on its line, several documents, and
//! every error — makes it give up (`None`), and the caller parses the whole text with
//! yaml-rust2 instead. So this never decides what a document means or how an error reads;
//! `tests` below and the fuzz test compare its events with yaml-rust2's.

use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

use crate::diagnostic::Span;

/// One line that holds something: its number (1-based), indentation and the text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

struct Fast<'a, 'e> {
    /// Every line of the text, by number − 1.
    raw: Vec<&'a str>,
    lines: Vec<Line<'a>>,
    at: usize,
    /// Where events go, as they are read; `false` from it stops the fast path.
    emit: &'e mut dyn FnMut(Event, Span) -> bool,
    /// Anchor ids by name, numbered as yaml-rust2 numbers them (each `&name` a new one).
    anchors: std::collections::HashMap<String, usize>,
    /// The anchor written before the node about to start (0: none).
    pending: usize,
    next_anchor: usize,
    /// Set when a node started after non-ASCII text on its line.
    failed: bool,
}

/// Characters that may not start a plain scalar (YAML's indicators), or that this fast path
/// leaves to yaml-rust2 (`-`, `?`, `:` may start one when a non-space follows).
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// The events of `text`, or `None` when it holds anything outside the fast path's subset.
#[cfg(test)]
pub(super) fn events(text: &str) -> Option<Vec<(Event, Span)>> {
    let mut out = Vec::new();
    read(text, &mut |e, s| {
        out.push((e, s));
        true
    })
    .then_some(out)
}

/// Send the events of `text` to `emit` as they are read (no list of them is kept). `false`
/// when `text` holds anything outside the fast path's subset or `emit` refused an event:
/// the events sent so far are then to be discarded.
pub(super) fn read(text: &str, emit: &mut dyn FnMut(Event, Span) -> bool) -> bool {
    read_all(text, emit).is_some()
}

fn read_all(text: &str, emit: &mut dyn FnMut(Event, Span) -> bool) -> Option<()> {
    if text.contains(['\t', '\r']) || text.starts_with('\u{feff}') {
        return None;
    }
    let raw: Vec<&str> = text.split('\n').collect();
    let mut lines = Vec::with_capacity(raw.len());
    for (i, &raw) in raw.iter().enumerate() {
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = raw.len() - body.len();
        if indent == 0
            && (body.starts_with("---") || body.starts_with("...") || body.starts_with('%'))
        {
            return None;
        }
        lines.push(Line {
            no: i + 1,
            indent,
            text: body,
        });
    }
    let first = *lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut f = Fast {
        raw,
        lines,
        at: 0,
        emit,
        anchors: std::collections::HashMap::new(),
        pending: 0,
        next_anchor: 0,
        failed: false,
    };
    f.push(Event::StreamStart, Span::new(1, 1));
    // The document starts where its root mapping does (only a second document uses it).
    let (_, _, colon) = split_key(first.text)?;
    f.push(Event::DocumentStart, Span::new(first.no, colon + 1));
    f.block_mapping(0)?;
    if f.at != f.lines.len() || f.failed {
        return None;
    }
    let end = Span::new(f.raw.len(), 1);
    f.push(Event::DocumentEnd, end);
    f.push(Event::StreamEnd, end);
    (!f.failed).then_some(())
}

/// `key: rest` or `key:` with a plain key: the key, what follows the colon, and the colon's
/// column in `text`.
fn split_key(text: &str) -> Option<(&str, &str, usize)> {
    let b = text.as_bytes();
    if b.is_empty() || is_indicator(b[0]) {
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b':' if i + 1 == b.len() || b[i + 1] == b' ' => break,
            b'#' if b[i - 1] == b' ' => return None,
            _ => i += 1,
        }
    }
    if i == b.len() || b[i - 1] == b' ' {
        return None;
    }
    // Keys as blueprints write them (names, label and annotation keys); anything else is
    // left to yaml-rust2.
    let plain = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b' ');
    if !b[..i].iter().all(plain) {
        return None;
    }
    Some((&text[..i], &text[i + 1..], i))
}

/// Whether a plain scalar in a flow collection is free of what makes yaml-rust2 read it
/// differently or refuse it (an indicator starting a word); such text is left to yaml-rust2.
fn calm(text: &str) -> bool {
    let b = text.as_bytes();
    !b.windows(2)
        .any(|w| w[0] == b' ' && (is_indicator(w[1]) && w[1] != b'\'' && w[1] != b'"'))
}

/// The length of an anchor or alias name at the start of `s`.
fn name_len(s: &str) -> usize {
    s.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .unwrap_or(s.len())
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// What may follow a value on its line: nothing, or spaces and a comment.
fn only_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

impl<'a> Fast<'a, '_> {
    fn push(&mut self, event: Event, span: Span) {
        if !self.failed && !(self.emit)(event, span) {
            self.failed = true;
        }
    }

    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    /// Columns count characters; this path counts bytes, so a node may start only after
    /// ASCII (text beyond it on the line, comments included, may be anything).
    fn ascii_before(&self, line: usize, col: usize) -> bool {
        col == 0
            || self
                .raw
                .get(line - 1)
                .and_then(|l| l.get(..col))
                .is_some_and(str::is_ascii)
    }

    fn scalar(&mut self, text: &str, style: TScalarStyle, line: usize, col: usize) {
        if !self.ascii_before(line, col) {
            self.failed = true;
        }
        let anchor = std::mem::take(&mut self.pending);
        self.push(
            Event::Scalar(text.to_string(), style, anchor, None),
            Span::new(line, col + 1),
        );
    }

    fn start(&mut self, mapping: bool, line: usize, col: usize) {
        if !self.ascii_before(line, col) {
            self.failed = true;
        }
        let anchor = std::mem::take(&mut self.pending);
        let event = if mapping {
            Event::MappingStart(anchor, None)
        } else {
            Event::SequenceStart(anchor, None)
        };
        self.push(event, Span::new(line, col + 1));
    }

    /// `&name ` before a value: records the anchor for the node that follows and returns
    /// how many bytes of `s` it took, spaces after it included.
    fn anchor(&mut self, s: &str) -> Option<usize> {
        if !s.starts_with('&') {
            return Some(0);
        }
        let len = name_len(&s[1..]) + 1;
        if len == 1 || !matches!(s.as_bytes().get(len), None | Some(b' ')) {
            return None;
        }
        self.next_anchor += 1;
        self.anchors.insert(s[1..len].to_string(), self.next_anchor);
        self.pending = self.next_anchor;
        Some(len + (s[len..].len() - s[len..].trim_start_matches(' ').len()))
    }

    /// `*name` at the start of `s`: the alias event; returns its length.
    fn alias(&mut self, s: &str, no: usize, col: usize) -> Option<usize> {
        let len = name_len(&s[1..]) + 1;
        let id = *self.anchors.get(&s[1..len])?;
        if len == 1 || self.pending != 0 {
            return None;
        }
        if !self.ascii_before(no, col) {
            return None;
        }
        self.push(Event::Alias(id), Span::new(no, col + 1));
        Some(len)
    }

    /// The node whose first line is the current one, at its indentation.
    fn block_node(&mut self) -> Option<()> {
        let line = self.peek()?;
        if is_item(line.text) {
            self.block_sequence(line.indent, false)
        } else {
            self.block_mapping(line.indent)
        }
    }

    /// A block mapping whose keys sit at column `n`, starting at the current line.
    fn block_mapping(&mut self, n: usize) -> Option<()> {
        let first = self.peek()?;
        let (_, _, colon) = split_key(first.text)?;
        self.start(true, first.no, n + colon);
        while let Some(line) = self.peek() {
            if line.indent < n {
                break;
            }
            if line.indent > n {
                return None;
            }
            let Some((key, rest, colon)) = split_key(line.text) else {
                // At the parent's level an item ends an indentless sequence's mapping…
                // but here, at this mapping's own column, anything but a key is an error.
                return None;
            };
            self.scalar(key, TScalarStyle::Plain, line.no, n);
            self.at += 1;
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            let skip = spaces + self.anchor(&rest[spaces..])?;
            let value = &rest[skip..];
            if value.is_empty() || (value.starts_with('#') && skip > 0) {
                if self.pending != 0 && !value.is_empty() {
                    return None;
                }
                // The value is on the following lines: deeper, or an indentless sequence.
                // Past the end, yaml-rust2 reads a newline it adds after the last line.
                // (Without a final newline, where it lands depends on nesting: left to it.)
                let next = match self.peek() {
                    Some(next) => next,
                    None if self.raw.last().is_some_and(|l| l.is_empty()) => Line {
                        no: self.raw.len(),
                        indent: 0,
                        text: "",
                    },
                    None => return None,
                };
                if next.indent > n {
                    self.block_node()?;
                } else if next.indent == n && is_item(next.text) && !next.text.is_empty() {
                    self.block_sequence(n, true)?;
                } else if self.pending == 0 {
                    // An empty value (null): yaml-rust2 places it where the next token starts.
                    self.scalar("", TScalarStyle::Plain, next.no, next.indent);
                } else {
                    return None;
                }
            } else {
                let col = n + colon + 1 + skip;
                self.inline(value, line.no, col)?;
                if self.peek().is_some_and(|l| l.indent > n) {
                    return None; // a continuation line
                }
            }
        }
        self.push(Event::MappingEnd, Span::new(0, 0));
        Some(())
    }

    /// A block sequence whose dashes sit at column `n`. An indentless one (`key:` then `- x`
    /// at the key's column) starts, as yaml-rust2 has it, after its first dash.
    fn block_sequence(&mut self, n: usize, indentless: bool) -> Option<()> {
        let first = self.peek()?;
        let start = if indentless {
            let after = &first.text[1..];
            let content = after.trim_start_matches(' ');
            if content.is_empty() && !after.is_empty() {
                return None; // trailing spaces after the dash
            }
            n + 1 + (after.len() - content.len())
        } else {
            n
        };
        self.start(false, first.no, start);
        while let Some(line) = self.peek() {
            if line.indent < n || (line.indent == n && !is_item(line.text)) {
                if line.indent == n && !indentless {
                    return None;
                }
                break;
            }
            if line.indent > n {
                return None;
            }
            let after = &line.text[1..];
            let spaces = after.len() - after.trim_start_matches(' ').len();
            if spaces == 0 && !after.is_empty() {
                return None;
            }
            let skip = spaces + self.anchor(&after[spaces..])?;
            let value = &after[skip..];
            let col = n + 1 + skip;
            if value.is_empty() {
                if !after.is_empty() && self.pending == 0 {
                    return None; // trailing spaces after the dash
                }
                self.at += 1;
                if self.peek().is_none_or(|l| l.indent <= n) {
                    return None; // an empty item
                }
                self.block_node()?;
            } else if is_item(value) || value.starts_with('#') {
                return None;
            } else if self.pending == 0 && split_key(value).is_some() {
                // `- key: value`: a mapping at the key's column, this line its first.
                self.lines[self.at] = Line {
                    no: line.no,
                    indent: col,
                    text: value,
                };
                self.block_mapping(col)?;
            } else {
                self.at += 1;
                self.inline(value, line.no, col)?;
                if self.peek().is_some_and(|l| l.indent > n) {
                    return None;
                }
            }
        }
        self.push(Event::SequenceEnd, Span::new(0, 0));
        Some(())
    }

    /// A value that starts at `col` of line `no` and ends on it (a comment may follow).
    fn inline(&mut self, s: &str, no: usize, col: usize) -> Option<()> {
        let b = s.as_bytes();
        let used = match b[0] {
            b'"' | b'\'' => self.quoted(s, no, col)?,
            b'[' | b'{' => self.flow(s, no, col)?,
            b'*' => self.alias(s, no, col)?,
            c if is_indicator(c) => return None,
            _ => {
                let end = s.find(" #").unwrap_or(s.len());
                let text = s[..end].trim_end_matches(' ');
                if text.contains(": ") || text.ends_with(':') {
                    return None;
                }
                self.scalar(text, TScalarStyle::Plain, no, col);
                end
            }
        };
        only_comment(&s[used..]).then_some(())
    }

    /// A single- or double-quoted scalar without escapes (but `''`); returns its length.
    fn quoted(&mut self, s: &str, no: usize, col: usize) -> Option<usize> {
        let b = s.as_bytes();
        let q = b[0];
        if q == b'"' {
            let end = 1 + s[1..].find(['"', '\\'])?;
            if b[end] == b'"' {
                self.scalar(&s[1..end], TScalarStyle::DoubleQuoted, no, col);
                return Some(end + 1);
            }
            // Escapes: the common ones; any other is left to yaml-rust2.
            let mut text = String::from(&s[1..end]);
            let mut i = end;
            loop {
                match b.get(i)? {
                    b'"' => break,
                    b'\\' => {
                        text.push(match b.get(i + 1)? {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'n' => '\n',
                            b't' => '\t',
                            _ => return None,
                        });
                        i += 2;
                    }
                    _ => {
                        let run = s[i..].find(['"', '\\'])?;
                        text.push_str(&s[i..i + run]);
                        i += run;
                    }
                }
            }
            self.scalar(&text, TScalarStyle::DoubleQuoted, no, col);
            return Some(i + 1);
        }
        let mut text = String::new();
        let mut i = 1;
        loop {
            let j = i + s[i..].find('\'')?;
            text.push_str(&s[i..j]);
            if b.get(j + 1) == Some(&b'\'') {
                text.push('\'');
                i = j + 2;
            } else {
                if !self.ascii_before(no, col) {
                    return None;
                }
                let anchor = std::mem::take(&mut self.pending);
                self.push(
                    Event::Scalar(text, TScalarStyle::SingleQuoted, anchor, None),
                    Span::new(no, col + 1),
                );
                return Some(j + 1);
            }
        }
    }

    /// A flow sequence or mapping closed on this line; returns its length.
    fn flow(&mut self, s: &str, no: usize, col: usize) -> Option<usize> {
        let b = s.as_bytes();
        let (close, mapping) = match b[0] {
            b'[' => (b']', false),
            _ => (b'}', true),
        };
        self.start(mapping, no, col);
        let skip = |mut i: usize| {
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            i
        };
        let mut i = skip(1);
        if b.get(i) == Some(&close) {
            self.push(end_event(mapping), Span::new(0, 0));
            return Some(i + 1);
        }
        loop {
            if mapping {
                let len = self.flow_plain(&s[i..], no, col + i, true)?;
                i += len;
                if b.get(i) != Some(&b':') || b.get(i + 1) != Some(&b' ') {
                    return None;
                }
                i = skip(i + 2);
            }
            i += self.flow_node(&s[i..], no, col + i)?;
            i = skip(i);
            match b.get(i) {
                Some(&b',') => {
                    i = skip(i + 1);
                    if matches!(b.get(i), Some(&(b']' | b'}'))) {
                        return None; // a trailing comma
                    }
                }
                Some(&c) if c == close => {
                    self.push(end_event(mapping), Span::new(0, 0));
                    return Some(i + 1);
                }
                _ => return None,
            }
        }
    }

    /// A value inside a flow collection; returns its length.
    fn flow_node(&mut self, s: &str, no: usize, col: usize) -> Option<usize> {
        let skip = self.anchor(s)?;
        if skip > 0 {
            let len = self.flow_node(&s[skip..], no, col + skip)?;
            return Some(skip + len);
        }
        match *s.as_bytes().first()? {
            b'"' | b'\'' => self.quoted(s, no, col),
            b'[' | b'{' => self.flow(s, no, col),
            b'*' => self.alias(s, no, col),
            _ => {
                let len = self.flow_plain(s, no, col, false)?;
                // `[a: b]` (a pair in a sequence) is left to yaml-rust2.
                (s.as_bytes().get(len) != Some(&b':')).then_some(len)
            }
        }
    }

    /// A plain scalar inside a flow collection, up to `,`, a bracket or `: `; returns its
    /// length without trailing spaces.
    fn flow_plain(&mut self, s: &str, no: usize, col: usize, key: bool) -> Option<usize> {
        let b = s.as_bytes();
        if b.is_empty() || is_indicator(b[0]) {
            return None;
        }
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(b.get(i + 1), None | Some(b' ' | b',' | b']' | b'}')) => break,
                b'#' if b[i - 1] == b' ' => return None,
                _ => i += 1,
            }
        }
        let text = s[..i].trim_end_matches(' ');
        if (key && text.len() != i) || !calm(text) {
            return None;
        }
        self.scalar(text, TScalarStyle::Plain, no, col);
        Some(text.len())
    }
}

fn end_event(mapping: bool) -> Event {
    if mapping {
        Event::MappingEnd
    } else {
        Event::SequenceEnd
    }
}

#[cfg(test)]
mod tests {
    use super::events;
    use crate::blueprint::node::slow_events;

    /// The fast path's events, positions of the nodes included, are yaml-rust2's; the
    /// positions of ends and of the stream and document markers are not used by the tree.
    pub(crate) fn agrees(text: &str) -> bool {
        let Some(fast) = events(text) else {
            return true;
        };
        let Some(slow) = slow_events(text) else {
            panic!("the fast path accepted text yaml-rust2 refuses:\n{text}");
        };
        let keep = |e: &yaml_rust2::Event| {
            matches!(
                e,
                yaml_rust2::Event::Scalar(..)
                    | yaml_rust2::Event::SequenceStart(..)
                    | yaml_rust2::Event::MappingStart(..)
                    | yaml_rust2::Event::SequenceEnd
                    | yaml_rust2::Event::MappingEnd
            )
        };
        let strip = |v: Vec<(yaml_rust2::Event, crate::diagnostic::Span)>| -> Vec<_> {
            v.into_iter()
                .filter(|(e, _)| keep(e))
                .map(|(e, s)| {
                    let pos = !matches!(
                        e,
                        yaml_rust2::Event::SequenceEnd | yaml_rust2::Event::MappingEnd
                    );
                    (e, pos.then_some(s))
                })
                .collect()
        };
        let (f, s) = (strip(fast), strip(slow));
        if f != s {
            let _ = std::fs::write(
                std::env::temp_dir().join("infragen-fast-disagree.yaml"),
                text,
            );
            let at = f
                .iter()
                .zip(&s)
                .position(|(a, b)| a != b)
                .unwrap_or(f.len().min(s.len()));
            panic!(
                "fast and yaml-rust2 events differ at event {at}: {:?} vs {:?}\n{text}",
                f.get(at),
                s.get(at)
            );
        }
        true
    }

    #[test]
    fn shipped_blueprints_take_the_fast_path_and_agree() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints")).unwrap()
        {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                events(&text).is_some(),
                "{} left the fast path",
                path.display()
            );
            assert!(agrees(&text));
        }
    }

    #[test]
    fn agrees_on_the_shapes_it_accepts_and_declines_the_rest() {
        let accepted = [
            "a: 1\n",
            "# c\nname: shop   # trailing\na:\n  b: 1\n  c: \"q\"\nlist:\n  - x\n  - y: 1\n    z: 2\n  -\n    w: 3\nindentless:\n- one\n- two\nflow: [a, {b: c}, 'd']\ne2: {}\nlast: v\n",
            "a:\n- k: v\n  j: w\n- x\nb:\n-\n  q: 1\nc:\n  -   k2: v2\nd: [a:b, \"x y\", {u: http://h/p}]\ne: {a: [1, 2], b: c d}\nf: a:b\ng: 'it''s'\n",
            "a: x#y\nb: [ ]\nc: { }\nd: \"\"\ne: ''\nf: a b  \n",
            "a: é\nb: \"x #\" # é\nc: señor\n",
            "a: 1\nb:\n  # c\n",
            "a: \"x\\ny \\\"q\\\" \\\\ \\/ \\t\"\nb: [\"\\\"\", c]\n",
            "a: 1\nb:\n  # c\n\n\n",
            "a:\n  b:\nc: 1\n",
            "a:\n",
            "# ¿qué?\na: b # señor\nc: # a comment\n  d: 1\n",
            "environments:\n  production:\n    # c\n\n  staging:\n    x: 1\n  p2:\nlast:\n  a:\n  # c\n  b: 2\n",
            "a:\n  r: &fp\n    q: 1\n  s: *fp\n  t: &x v\n  u: [*x, &y w]\n  l: &z\n    - 1\n  m: &k {a: 1}\nb: *z\nc: &fp 2\nd: *fp\ne:\n  - &i x\n  - *i\n  - &j\n    k: v\n",
            "k:\n  - name: web\n    env: { A: \"1\", B: x }\n    routes: [{ path: /a }, { path: /b }]\n  - name: db\n",
        ];
        for text in accepted {
            assert!(events(text).is_some(), "declined:\n{text}");
            assert!(agrees(text));
        }
        let declined = [
            "a: *x\n",
            "a: &x\nb: 1\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: b\n  c\n",
            "a: [1,\n  2]\n",
            "a: \"x\\qy\"\n",
            "a: 1\nb:",
            "a:\n  b:\n #",
            "a:\tb\n",
            "a: [é, b]\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "- a\n",
            "a: b: c\n",
            "a: [x, ]\n",
            "a: [k: v]\n",
            "a: -1\n",
            "  a: 1\n",
            "a:\n  - b\n  c: 1\n",
            "a: 'x\n",
            "a: \"x\n",
            "\"q\": 1\n",
        ];
        for text in declined {
            assert!(events(text).is_none(), "accepted:\n{text}");
        }
    }

    /// Windows of the shipped blueprints, mutated with the characters and edits YAML is
    /// sensitive to: wherever the fast path accepts the result, yaml-rust2 must agree.
    #[test]
    fn mutated_blueprints_agree() {
        let iters: usize = std::env::var("INFRAGEN_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(400);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints");
        let mut texts: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        texts.sort();
        let mut seed: u64 = std::env::var("INFRAGEN_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x2545_f491_4f6c_dd1d);
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        const BITS: [&str; 24] = [
            " ", "  ", "\n", "-", "- ", ":", ": ", "#", " #", "'", "\"", "\\", "[", "]", "{", "}",
            ",", "&a ", "*a", "é", "x", "|", ">", "\n  ",
        ];
        let (mut accepted, mut total) = (0, 0);
        for text in &texts {
            let lines: Vec<&str> = text.lines().collect();
            for _ in 0..iters {
                let start = next(lines.len());
                let len = 1 + next(40);
                // A window from a key line, dedented to column 0.
                let first = lines[start];
                let indent = first.len() - first.trim_start().len();
                let mut t = String::new();
                for l in lines[start..].iter().take(len) {
                    let body = l.trim_start();
                    if !body.is_empty() && l.len() - body.len() < indent {
                        break;
                    }
                    t.push_str(l.get(indent..).unwrap_or(""));
                    t.push('\n');
                }
                for _ in 0..next(5) {
                    let at = next(t.len() + 1);
                    if !t.is_char_boundary(at) {
                        continue;
                    }
                    match next(4) {
                        0 => {
                            let end = (at + 1 + next(4)).min(t.len());
                            if t.is_char_boundary(end) {
                                t.replace_range(at..end, "");
                            }
                        }
                        _ => t.insert_str(at, BITS[next(BITS.len())]),
                    }
                }
                total += 1;
                if events(&t).is_some() {
                    accepted += 1;
                }
                assert!(agrees(&t));
            }
        }
        // The fast path is exercised, not declined wholesale.
        assert!(accepted * 4 > total, "{accepted} of {total} accepted");
    }
}
