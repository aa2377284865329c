//! Canonical JSON: sorted keys, two-space indentation, `\n` line endings, trailing newline.
//! Sorting happens here rather than relying on `serde_json::Map`'s order, which a dependency
//! could change by enabling `preserve_order`.

use serde_json::Value;

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

fn write_str(out: &mut String, s: &str) {
    // serde_json's string escaping is exact JSON; it cannot fail for a &str.
    out.push_str(&serde_json::to_string(&unmark(s)).unwrap_or_default());
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
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                indent(out, level + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, &map[k.as_str()], level + 1);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, level);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terraform::interp;
    use serde_json::json;

    #[test]
    fn escapes_literal_templates_and_keeps_interpolations() {
        let v = json!({"b": format!("{} and ${{aws:username}} and %{{if}}", interp("var.x")), "a": [1, true, null], "c": {}});
        assert_eq!(
            render_json(&v),
            "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": \"${var.x} and $${aws:username} and %%{if}\",\n  \"c\": {}\n}\n"
        );
    }
}
