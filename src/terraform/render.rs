//! Canonical JSON: sorted keys, two-space indentation, `\n` line endings, trailing newline.
//! Keys are in order because `Json` objects are kept sorted as they are built (a
//! `serde_json::Value` is converted to `Json` first), never by relying on `serde_json::Map`,
//! whose order a dependency could change by enabling `preserve_order`.

use serde_json::Value;

use super::json::Json;

/// Render a Terraform JSON document canonically (its strings are plain text: `${` in them is
/// escaped).
pub fn render_json(v: &Value) -> String {
    let mut out = String::with_capacity(4096);
    write_json(&mut out, &Json::from(v.clone()), 0);
    out.push('\n');
    out
}

/// A plain string as a Terraform JSON string: literal template syntax escaped (`${` → `$${`,
/// `%{` → `%%{`) so Terraform reads it as the text it is, and JSON escapes as serde_json
/// writes them (quotes, backslash, control characters; everything else verbatim), in one
/// pass straight into the buffer.
pub(super) fn write_str(out: &mut String, s: &str) {
    write_string(out, s, false);
}

/// A string as a Terraform JSON string: a template ([`Json::Expr`]) is written as it is (its
/// literal parts were escaped when it was built), plain text as [`write_str`] writes it.
fn write_string(out: &mut String, s: &str, template: bool) {
    out.reserve(s.len() + 2);
    out.push('"');
    write_escaped(out, s, false, !template);
    out.push('"');
}

/// The inside of a string. With `twice`, JSON escapes are applied twice, as for a string
/// inside a JSON document that is itself a string value ([`write_encoded`]); with `literal`,
/// template syntax is escaped (once either way: Terraform reads the whole text once).
fn write_escaped(out: &mut String, s: &str, twice: bool, literal: bool) {
    // Most strings (names, ARNs, references) need no escape: one scan, one copy.
    let first = next_special(s.as_bytes(), 0);
    if first == s.len() {
        out.push_str(s);
    } else {
        escape_from(out, s, first, twice, literal);
    }
}

/// [`write_escaped`] from the first byte that may need an escape.
#[inline(never)]
fn escape_from(out: &mut String, s: &str, first: usize, twice: bool, literal: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = first;
    loop {
        if i >= bytes.len() {
            break;
        }
        let b = bytes[i];
        // The replacement (`None`: the JSON escape of `b`) and how many bytes it replaces.
        let (rep, len) = match CLASS[b as usize] {
            ESCAPE => (None, 1),
            TEMPLATE if literal && bytes.get(i + 1) == Some(&b'{') => match b {
                b'$' => (Some("$${"), 2),
                _ => (Some("%%{"), 2),
            },
            _ => {
                i = next_special(bytes, i + 1);
                continue;
            }
        };
        out.push_str(&s[start..i]);
        match rep {
            Some(rep) => out.push_str(rep),
            None => push_escape(out, b, twice),
        }
        start = i + len;
        i = next_special(bytes, start);
    }
    out.push_str(&s[start..]);
}

/// The JSON escape of `b`, an [`ESCAPE`] byte, as serde_json writes it. With `twice`, that
/// escape escaped again (a string inside a JSON string): its backslash doubles, and a quote
/// or backslash after it gains one of its own.
fn push_escape(out: &mut String, b: u8, twice: bool) {
    let body = match b {
        b'"' => "\"",
        b'\\' => "\\",
        b'\n' => "n",
        b'\r' => "r",
        b'\t' => "t",
        0x08 => "b",
        0x0c => "f",
        _ => "",
    };
    out.push_str(if twice { "\\\\" } else { "\\" });
    if body.is_empty() {
        let _ = std::fmt::Write::write_fmt(out, format_args!("u{b:04x}"));
    } else {
        if twice && matches!(b, b'"' | b'\\') {
            out.push('\\');
        }
        out.push_str(body);
    }
}

/// How [`write_compact`] writes a document's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strings {
    /// As JSON strings, for text that is not read by Terraform (no template handling).
    Json,
    /// As JSON strings of a document Terraform reads inside one of its strings: plain text
    /// template-escaped, templates kept.
    Terraform,
    /// As [`Strings::Terraform`], with the document itself written as a string value of the
    /// file: every JSON escape applied twice.
    Encoded,
}

/// Compact JSON (keys in byte order, as `serde_json::to_string` writes the equivalent
/// `serde_json::Value`), its strings written as `strings` says. An encoded document inside
/// is one string: its own compact text, template-processed once.
pub(super) fn write_compact(out: &mut String, doc: &Json, strings: Strings) {
    let string = |out: &mut String, s: &str, template: bool| match strings {
        // Text not read by Terraform: written as it is (keys too, which is their text
        // unless it holds template syntax).
        Strings::Json => write_json_string(out, s),
        Strings::Terraform => write_string(out, s, template),
        Strings::Encoded => {
            out.push_str("\\\"");
            write_escaped(out, s, true, !template);
            out.push_str("\\\"");
        }
    };
    match doc {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => super::json::write_number(out, n),
        Json::String(s) => string(out, s, false),
        Json::Expr(e) => {
            // A template here would lose its meaning: the text is not a Terraform string.
            debug_assert!(
                strings != Strings::Json,
                "a Terraform template in plain JSON: {e:?}"
            );
            string(out, e.as_str(), true)
        }
        Json::Encoded(inner) => {
            let inner_strings = match strings {
                Strings::Json => Strings::Json,
                _ => Strings::Terraform,
            };
            let mut text = String::with_capacity(256);
            write_compact(&mut text, inner, inner_strings);
            // Already template-processed: written as a template, only JSON-escaped.
            string(out, &text, inner_strings == Strings::Terraform)
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, item, strings);
            }
            out.push(']');
        }
        Json::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Keys are template text already (see `Object`).
                string(out, k, true);
                out.push(':');
                write_compact(out, v, strings);
            }
            out.push('}');
        }
    }
}

/// A JSON document as a JSON string value, written in one pass: the string of the
/// document's compact text as Terraform must read it (plain strings template-escaped,
/// templates kept), without building that text first. IAM policies and ECS container
/// definitions are such strings.
pub(super) fn write_encoded(out: &mut String, doc: &Json) {
    out.push('"');
    write_compact(out, doc, Strings::Encoded);
    out.push('"');
}

/// `s` as a JSON string exactly as `serde_json::to_string` writes it (no template handling),
/// for writers of other formats that borrow JSON's escapes.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        i = next_special(bytes, i);
        if i >= bytes.len() {
            break;
        }
        let b = bytes[i];
        if CLASS[b as usize] != ESCAPE {
            i += 1;
            continue;
        }
        out.push_str(&s[start..i]);
        push_escape(out, b, false);
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The index of the first byte at or after `from` that is not [`PLAIN`] (`bytes.len()` if
/// none). Output is mostly long runs of plain text (names, ARNs, JSON policies), so it is
/// scanned eight bytes at a time: a word is skipped when none of its bytes is a control
/// character, `"`, `\`, `$` or `%` (the classic "has zero byte"
/// test, `(x - 0x01…) & !x & 0x80…`, applied to `x` XOR each byte looked for).
fn next_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let special = special_bytes(u64::from_le_bytes(word));
        if special != 0 {
            // Borrows can flag bytes above the first hit, never below it: the lowest flag
            // is the first special byte.
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && CLASS[bytes[i] as usize] == PLAIN {
        i += 1;
    }
    i
}

/// The high bit of each byte of `x` (little-endian) that is not [`PLAIN`], and maybe of
/// some bytes after the first such one.
fn special_bytes(x: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const fn has_zero(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    const fn splat(b: u8) -> u64 {
        LO * b as u64
    }
    // Bytes below 0x20: `x - 0x20…` borrows into the high bit of such a byte only when its
    // own high bit is clear (the usual "has less than" test).
    (x.wrapping_sub(splat(0x20)) & !x & HI)
        | has_zero(x ^ splat(b'"'))
        | has_zero(x ^ splat(b'\\'))
        | has_zero(x ^ splat(b'$'))
        | has_zero(x ^ splat(b'%'))
}

const PLAIN: u8 = 0;
const ESCAPE: u8 = 1;
const TEMPLATE: u8 = 2;

/// What each byte may start: nothing, a JSON escape or template syntax (`${`, `%{`).
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = ESCAPE;
        i += 1;
    }
    t[b'"' as usize] = ESCAPE;
    t[b'\\' as usize] = ESCAPE;
    t[b'$' as usize] = TEMPLATE;
    t[b'%' as usize] = TEMPLATE;
    t
};

const SPACES: &str = match str::from_utf8(&[b' '; 64]) {
    Ok(s) => s,
    Err(_) => "",
};

pub(super) fn indent(out: &mut String, level: usize) {
    let mut n = level * 2;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// A [`Json`] value at nesting depth `level`: keys in byte order (objects are kept sorted
/// as they are built), two-space indentation.
pub(super) fn write_json(out: &mut String, v: &Json, level: usize) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => super::json::write_number(out, n),
        Json::String(s) => write_str(out, s),
        Json::Expr(e) => write_string(out, e.as_str(), true),
        Json::Encoded(doc) => write_encoded(out, doc),
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, level + 1);
                write_json(out, item, level + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, level);
            out.push(']');
        }
        Json::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            let last = map.len() - 1;
            for (i, (k, v)) in map.iter().enumerate() {
                indent(out, level + 1);
                // Keys are template text already (see `Object`).
                write_string(out, k, true);
                out.push_str(": ");
                write_json(out, v, level + 1);
                if i < last {
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
    use serde_json::{Map, json};

    #[test]
    fn serde_json_maps_iterate_in_key_order() {
        // Only documents it: `Json::from(Value)` sorts members itself, whatever this order.
        let m: Map<String, Value> = [("b", 1), ("a", 2), ("B", 3), ("aa", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["B", "a", "aa", "b"]);
    }

    #[test]
    fn one_pass_escape_matches_chained_replaces() {
        for s in [
            "${x}",
            "$${x}",
            "${a} %{b} $${c} %%{d} $%{e} %${f}",
            "\u{e000}{ {x{ \"\n \u{1}",
            "tail $",
            "$",
            "%",
            "",
        ] {
            let mut out = String::new();
            write_str(&mut out, s);
            let chained = s.replace("${", "$${").replace("%{", "%%{");
            assert_eq!(out, serde_json::to_string(&chained).unwrap(), "{s:?}");
            // A template is written as it is, only JSON-escaped.
            let mut out = String::new();
            write_string(&mut out, s, true);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn word_scan_finds_the_first_special_byte() {
        // Every byte value at every offset of a run of plain text of every length up to 24,
        // so each lane of the eight-byte words and the byte-by-byte tail are covered.
        let naive = |b: &[u8], from: usize| {
            (from..b.len())
                .find(|&i| CLASS[b[i] as usize] != PLAIN)
                .unwrap_or(b.len())
        };
        for special in 0..=255u8 {
            for at in 0..24 {
                let mut b = [b'a'; 24];
                b[at] = special;
                // A second special byte after the first, and the string cut at every length.
                if at + 3 < 24 {
                    b[at + 3] = b'"';
                }
                for len in 0..=24 {
                    for from in 0..=len {
                        assert_eq!(
                            next_special(&b[..len], from),
                            naive(&b[..len], from),
                            "{special:#x} at {at} from {from} in {len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn encoded_documents_render_as_the_string_of_their_compact_text() {
        let doc = crate::json!({
            "Statement": [{
                "Resource": crate::terraform::res("aws_kms_key", "x").arn(),
                "Condition": {"StringLike": {"aws:username": "${aws:username} %{x} q\"b\\s\n\t\r\u{8}\u{c}\u{1} é"}},
                "n": [1, -2, 1.5, true, null],
            }],
            "k\"ey": {},
        });
        let mut fused = String::new();
        write_json(&mut fused, &Json::encoded(doc.clone()), 0);
        // Two steps: the document's text as Terraform reads it, then that text as a template.
        let mut text = String::new();
        write_compact(&mut text, &doc, Strings::Terraform);
        assert!(text.contains("\"${aws_kms_key.x.arn}\""), "{text}");
        assert!(text.contains("$${aws:username} %%{x}"), "{text}");
        let mut two_steps = String::new();
        write_string(&mut two_steps, &text, true);
        assert_eq!(fused, two_steps);
        // A document inside an encoded document: its text is one more string, processed once.
        let nested = crate::json!({"inner": Json::encoded(doc.clone()), "t": "${y}"});
        let mut out = String::new();
        write_compact(&mut out, &nested, Strings::Terraform);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["inner"].as_str(), Some(text.as_str()));
        assert_eq!(back["t"].as_str(), Some("$${y}"));
    }

    #[test]
    fn json_strings_match_serde_json() {
        for s in [
            "a\"b".to_string(),
            "\\ \u{1}x\u{1f}\u{7f} é ✓ \n\t\r\u{8}\u{c}".to_string(),
            "${x} %{y} \u{e000}{z}".to_string(),
            String::new(),
        ] {
            let mut out = String::new();
            write_json_string(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

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
            write_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn escapes_literal_templates_and_keeps_interpolations() {
        let v = crate::json!({"b": crate::tpl!(interp("var.x"), " and ${aws:username} and %{if}"), "a": [1, true, null], "c": {}});
        let mut out = String::new();
        write_json(&mut out, &v, 0);
        out.push('\n');
        assert_eq!(
            out,
            "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": \"${var.x} and $${aws:username} and %%{if}\",\n  \"c\": {}\n}\n"
        );
    }
}
