//! Canonical JSON: sorted keys, two-space indentation, `\n` line endings, trailing newline.
//! Sorting happens here rather than relying on `serde_json::Map`'s order, which a dependency
//! could change by enabling `preserve_order`.

use serde_json::{Map, Value};

use crate::blueprint::RESERVED_CHAR as MARK;

/// Escape literal template syntax, then turn interpolation markers into `${`.
pub fn unmark(s: &str) -> String {
    if !s.contains(['$', '%', MARK]) {
        return s.to_string();
    }
    s.replace("${", "$${")
        .replace("%{", "%%{")
        .replace(&format!("{MARK}{{"), "${")
}

/// Render a Terraform JSON document canonically.
pub fn render_json(v: &Value) -> String {
    let mut out = String::with_capacity(4096);
    write_value(&mut out, v, 0);
    out.push('\n');
    out
}

/// Render a file's top-level object without copying it: `top` minus the `skip` keys, plus
/// `extra` entries (the header comment, a block moved here from another file), sorted.
pub fn render_top(top: &Map<String, Value>, skip: &[&str], extra: &[(&str, &Value)]) -> String {
    let mut entries: Vec<(&str, &Value)> = top
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .chain(extra.iter().copied())
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(8192);
    write_entries(&mut out, &entries, 0);
    out.push('\n');
    out
}

/// JSON string escaping as serde_json does it (quotes, backslash, control characters;
/// everything else verbatim), written straight into the buffer.
fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", b));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn write_str(out: &mut String, s: &str) {
    if s.contains(['$', '%', MARK]) {
        write_escaped(out, &unmark(s));
    } else {
        write_escaped(out, s);
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, level + 1);
                write_value(out, item, level + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, level);
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&str, &Value)> =
                map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            // serde_json's map is usually sorted already; sorting anyway keeps the output
            // canonical if a dependency enables `preserve_order`.
            entries.sort_by(|a, b| a.0.cmp(b.0));
            write_entries(out, &entries, level);
        }
    }
}

fn write_entries(out: &mut String, entries: &[(&str, &Value)], level: usize) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v)) in entries.iter().enumerate() {
        indent(out, level + 1);
        write_str(out, k);
        out.push_str(": ");
        write_value(out, v, level + 1);
        if i + 1 < entries.len() {
            out.push(',');
        }
        out.push('\n');
    }
    indent(out, level);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terraform::interp;
    use serde_json::json;

    #[test]
    fn string_escaping_matches_serde_json() {
        for s in [
            "a\"b",
            "\\",
            "\u{1}x\u{1f}",
            "é ✓",
            "\n\t\r\u{8}\u{c}",
            "/</script>",
            "",
        ] {
            let mut out = String::new();
            write_escaped(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn escapes_literal_templates_and_keeps_interpolations() {
        let v = json!({"b": format!("{} and ${{aws:username}} and %{{if}}", interp("var.x")), "a": [1, true, null], "c": {}});
        assert_eq!(
            render_json(&v),
            "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": \"${var.x} and $${aws:username} and %%{if}\",\n  \"c\": {}\n}\n"
        );
    }
}
