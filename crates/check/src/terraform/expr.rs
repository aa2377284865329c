//! Finding templates and references in strings: ports of tfcheck.py's `expr_spans`,
//! `strip_quoted` and `REF` regex.

use serde_json::Value;

/// Whether a value is (or contains) a template: a string with `${` or `%{` that is not escaped.
pub(super) fn is_expr(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !expr_spans(s).is_empty())
}

/// `"${aws_vpc.main}"` → `aws_vpc.main`; anything else is returned trimmed.
pub(super) fn bare_expr(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("${").and_then(|x| x.strip_suffix('}')) {
        Some(inner) => inner.trim(),
        None => t,
    }
}

/// Every string value inside `v` (not object keys), depth first, without recursion.
pub(super) fn strings(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s.as_str()),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(m) => stack.extend(m.values().rev()),
            _ => {}
        }
    }
    out
}

/// Port of `expr_spans`: the text inside each `${ ... }` (and `%{ ... }` directive),
/// balancing braces and skipping double-quoted strings. `$${` and `%%{` are escapes for
/// literal text. An unterminated template yields the rest of the string.
pub(super) fn expr_spans(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let opener = (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{';
        if !opener {
            i += 1;
            continue;
        }
        if i > 0 && b[i - 1] == b[i] {
            // The escape `$${` / `%%{` (its first byte was skipped over as plain text).
            i += 2;
            continue;
        }
        let start = i + 2;
        let (mut depth, mut k, mut in_quote) = (1usize, start, false);
        while k < b.len() && depth > 0 {
            let c = b[k];
            if in_quote {
                if c == b'\\' {
                    k += 1;
                } else if c == b'"' {
                    in_quote = false;
                }
            } else if c == b'"' {
                in_quote = true;
            } else if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth -= 1;
            }
            k += 1;
        }
        // Every byte that ends the scan is ASCII, so these offsets are char boundaries;
        // `get` keeps a surprise from panicking anyway.
        let end = if depth == 0 { k - 1 } else { b.len() };
        if let Some(span) = s.get(start..end.max(start)) {
            out.push(span);
        }
        i = k.max(i + 2);
    }
    out
}

/// Port of `strip_quoted`: each complete double-quoted string becomes `""`, so names in
/// string literals (map keys, function arguments) are not taken for references.
pub(super) fn strip_quoted(e: &str) -> String {
    let mut out = String::with_capacity(e.len());
    let mut rest = e;
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..q]);
        let after = &rest[q + 1..];
        match closing_quote(after) {
            Some(close) => {
                out.push_str("\"\"");
                rest = &after[close + 1..];
            }
            None => {
                // No closing quote: like the regex, keep this quote and scan on.
                out.push('"');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Offset of the quote that closes a string whose body starts `s`; `\` escapes any
/// character except a newline (Python's `.`).
fn closing_quote(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(i),
            '\\' => match chars.next() {
                Some((_, '\n')) | None => return None,
                Some(_) => {}
            },
            _ => {}
        }
    }
    None
}

/// A reference found by [`find_refs`]: `head` is `type.name`, `data.type.name`,
/// `var.x`, `local.x` or `module.x`; `rest` the attribute and index steps after it.
pub(super) struct Ref<'e> {
    pub(super) head: &'e str,
    pub(super) rest: &'e str,
}

/// Port of tfcheck.py's `REF` regex, applied like `finditer`:
///
/// ```text
/// (?<![\w."])(data\.[a-z0-9_]+\.[A-Za-z0-9_-]+|var\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_-]+
///            |module\.[A-Za-z0-9_-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z0-9_-]+)
/// ((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*)
/// ```
pub(super) fn find_refs(e: &str) -> Vec<Ref<'_>> {
    let b = e.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Every alternative starts with a lowercase ASCII letter, so `i` is a char boundary.
        if b[i].is_ascii_lowercase()
            && boundary_before(e, i)
            && let Some(head_end) = match_head(b, i)
        {
            let end = match_rest(b, head_end);
            if let (Some(head), Some(rest)) = (e.get(i..head_end), e.get(head_end..end)) {
                out.push(Ref { head, rest });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// The lookbehind `(?<![\w."])`.
fn boundary_before(e: &str, i: usize) -> bool {
    match e.get(..i).and_then(|s| s.chars().next_back()) {
        None => true,
        Some(c) => !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'),
    }
}

fn is_lower_name(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Length of the run of bytes from `i` satisfying `f`.
fn run(b: &[u8], i: usize, f: fn(u8) -> bool) -> usize {
    b.get(i..)
        .map_or(0, |s| s.iter().take_while(|&&c| f(c)).count())
}

/// End of the first group of `REF` at `i`, trying the alternatives in order.
fn match_head(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..)?;
    if s.starts_with(b"data.") {
        let t = run(b, i + 5, is_lower_name);
        if t > 0 && b.get(i + 5 + t) == Some(&b'.') {
            let n = run(b, i + 6 + t, is_name);
            if n > 0 {
                return Some(i + 6 + t + n);
            }
        }
    }
    for prefix in [&b"var."[..], b"local.", b"module."] {
        if s.starts_with(prefix) {
            let n = run(b, i + prefix.len(), is_name);
            if n > 0 {
                return Some(i + prefix.len() + n);
            }
        }
    }
    // `[a-z][a-z0-9]*_[a-z0-9_]+\.` : the type is the whole `[a-z0-9_]` run (a `.` must
    // follow it), and it needs a `_` that is neither first nor last.
    let t = run(b, i, is_lower_name);
    let ty = b.get(i..i + t)?;
    let first_us = ty.iter().position(|&c| c == b'_')?;
    if first_us == 0 || first_us + 1 >= t || b.get(i + t) != Some(&b'.') {
        return None;
    }
    let n = run(b, i + t + 1, is_name);
    (n > 0).then_some(i + t + 1 + n)
}

/// End of `(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*` starting at `k`.
fn match_rest(b: &[u8], mut k: usize) -> usize {
    loop {
        match b.get(k) {
            Some(b'.')
                if b.get(k + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                k += 2 + run(b, k + 2, is_name);
            }
            Some(b'[') => match b
                .get(k + 1..)
                .and_then(|s| s.iter().position(|&c| c == b']'))
            {
                Some(p) => k += p + 2,
                None => return k,
            },
            _ => return k,
        }
    }
}

pub(super) enum Step<'e> {
    Attr(&'e str),
    /// `[0]`, `["key"]` (with the key blanked by `strip_quoted`), `[*]`: the text as written.
    Index(&'e str),
}

/// Splits the second group of `REF` into steps.
pub(super) fn parse_steps(rest: &str) -> Vec<Step<'_>> {
    let b = rest.as_bytes();
    let mut steps = Vec::new();
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'.' {
            let n = run(b, k + 1, is_name);
            if let Some(name) = rest.get(k + 1..k + 1 + n) {
                steps.push(Step::Attr(name));
            }
            k += 1 + n;
        } else if b[k] == b'[' {
            let close = b[k..]
                .iter()
                .position(|&c| c == b']')
                .map_or(b.len(), |p| k + p + 1);
            if let Some(text) = rest.get(k..close) {
                steps.push(Step::Index(text));
            }
            k = close;
        } else {
            // Not produced by `match_rest`; stop rather than guess.
            break;
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_port_matches_python() {
        let refs = |e: &str| -> Vec<String> {
            find_refs(&strip_quoted(e))
                .iter()
                .map(|r| format!("{}|{}", r.head, r.rest))
                .collect()
        };
        assert_eq!(refs("aws_vpc.main.id"), ["aws_vpc.main|.id"]);
        assert_eq!(
            refs("cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)"),
            ["aws_vpc.main|.cidr_block"]
        );
        assert_eq!(
            refs("lookup(var.m, \"aws_vpc.x\", local.y)"),
            ["var.m|", "local.y|"]
        );
        assert_eq!(
            refs("data.aws_region.current.name"),
            ["data.aws_region.current|.name"]
        );
        assert_eq!(refs("aws_subnet.a[*].id"), ["aws_subnet.a|[*].id"]);
        assert_eq!(refs("x.aws_vpc.main"), Vec::<String>::new());
        assert_eq!(refs("each.value.aws_thing"), Vec::<String>::new());
        assert_eq!(refs("{for k, v in aws_x.y : k => v.id}"), ["aws_x.y|"]);
        assert_eq!(
            expr_spans("a ${x} b ${f({a = \"}\"})} $${lit}"),
            ["x", "f({a = \"}\"})"]
        );
        assert_eq!(expr_spans("${unterminated"), ["unterminated"]);
        assert_eq!(expr_spans("é${ü}"), ["ü"]);
    }
}
