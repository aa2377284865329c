//! Canonical JSON: sorted keys, two-space indentation, `\n` line endings, trailing newline.
//! Keys are in order because `Json` objects are kept sorted as they are built (a
//! `serde_json::Value` is converted to `Json` first), never by relying on `serde_json::Map`,
//! whose order a dependency could change by enabling `preserve_order`.

use serde_json::Value;

use super::json::Json;

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
    write_json(&mut out, &Json::from(v.clone()), 0);
    out.push('\n');
    out
}

/// `MARK` in UTF-8.
const MARK_UTF8: [u8; 3] = {
    let mut b = [0; 3];
    MARK.encode_utf8(&mut b);
    b
};

/// A string as JSON: [`unmark`] (literal `${`/`%{` escaped, markers turned into `${`) and
/// JSON string escaping as serde_json does it (quotes, backslash, control characters;
/// everything else verbatim), in one pass straight into the buffer.
///
/// The three `unmark` patterns start with different bytes and all end in `{`, which starts
/// none of them, so one left-to-right pass finds exactly the matches the chained
/// `str::replace` calls find; their replacements need no JSON escaping.
pub(super) fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    write_escaped(out, s, false);
    out.push('"');
}

/// The inside of [`write_str`]'s string. With `twice`, JSON escapes are applied twice, as
/// for a string inside a JSON document that is itself a string value ([`write_encoded`]);
/// template handling happens once either way, as it does on the document's text.
fn write_escaped(out: &mut String, s: &str, twice: bool) {
    // Most strings (names, ARNs, references) need no escape: one scan, one copy.
    let first = next_special(s.as_bytes(), 0);
    if first == s.len() {
        out.push_str(s);
    } else {
        escape_from(out, s, first, twice);
    }
}

/// [`write_escaped`] from the first byte that may need an escape.
#[inline(never)]
fn escape_from(out: &mut String, s: &str, first: usize, twice: bool) {
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
            TEMPLATE if bytes.get(i + 1) == Some(&b'{') => match b {
                b'$' => (Some("$${"), 2),
                _ => (Some("%%{"), 2),
            },
            MARK_START if bytes[i..].starts_with(&MARK_UTF8) && bytes.get(i + 3) == Some(&b'{') => {
                (Some("${"), 4)
            }
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

/// A JSON document as a JSON string value, written in one pass: exactly what [`write_str`]
/// writes for the document's compact text (`Json::to_compact_string`), without building
/// that text first. IAM policies and ECS container definitions are such strings.
pub(super) fn write_encoded(out: &mut String, doc: &Json) {
    out.push('"');
    doc.write_compact_with(out, &|out, s| {
        out.push_str("\\\"");
        write_escaped(out, s, true);
        out.push_str("\\\"");
    });
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
/// character, `"`, `\`, `$`, `%` or the marker's first byte (the classic "has zero byte"
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
        | has_zero(x ^ splat(MARK_UTF8[0]))
}

const PLAIN: u8 = 0;
const ESCAPE: u8 = 1;
const TEMPLATE: u8 = 2;
const MARK_START: u8 = 3;

/// What each byte may start: nothing, a JSON escape, a literal template (`${`, `%{`) or a
/// marker.
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
    t[MARK_UTF8[0] as usize] = MARK_START;
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
                write_str(out, k);
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
    fn one_pass_unmark_matches_chained_replaces() {
        let m = MARK;
        for s in [
            format!("{m}{{x}}"),
            format!("${m}{{x}}"),
            "${a} %{b} $${c} %%{d} $%{e} %${f}".to_string(),
            format!("{m} {m}{m}{{ {m}x{{ \"\n {m}") + "\u{1}",
            format!("tail ${m}"),
            "$".to_string(),
            "%".to_string(),
            "".to_string(),
        ] {
            let mut out = String::new();
            write_str(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&unmark(&s)).unwrap(), "{s:?}");
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
        let m = MARK;
        let doc = crate::json!({
            "Statement": [{
                "Resource": format!("{m}{{aws_kms_key.x.arn}}"),
                "Condition": {"StringLike": {"aws:username": "${aws:username} %{x} q\"b\\s\n\t\r\u{8}\u{c}\u{1} é"}},
                "n": [1, -2, 1.5, true, null],
            }],
            "k\"ey": {},
        });
        let mut fused = String::new();
        write_json(&mut fused, &Json::encoded(doc.clone()), 0);
        let mut two_steps = String::new();
        write_str(&mut two_steps, &doc.to_compact_string());
        assert_eq!(fused, two_steps);
    }

    #[test]
    fn json_strings_match_serde_json() {
        let m = MARK;
        for s in [
            "a\"b".to_string(),
            "\\ \u{1}x\u{1f}\u{7f} é ✓ \n\t\r\u{8}\u{c}".to_string(),
            format!("${{x}} %{{y}} {m}{{z}}"),
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
        let v = json!({"b": format!("{} and ${{aws:username}} and %{{if}}", interp("var.x")), "a": [1, true, null], "c": {}});
        assert_eq!(
            render_json(&v),
            "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": \"${var.x} and $${aws:username} and %%{if}\",\n  \"c\": {}\n}\n"
        );
    }
}
