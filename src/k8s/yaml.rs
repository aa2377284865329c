//! A small, deterministic YAML writer for manifests: an insertion-ordered value tree (so
//! objects read `apiVersion`, `kind`, `metadata`, `spec` in the conventional order) and a
//! block-style emitter in kubectl's layout.
//!
//! Strings are written plain only when neither YAML 1.1 (PyYAML, older kubectl) nor YAML
//! 1.2 (yaml-rust2, Go's yaml.v3) could read them as anything but the same string; all
//! others are double-quoted with JSON escapes (a subset of YAML's). Multi-line strings
//! become literal blocks (`|`) when that is exact.
//!
//! Keys and strings are [`Cow`]s that borrow for the tree's lifetime `'a`: nearly every key
//! is a literal and most values are literals or names borrowed from the blueprint and the
//! generator's context, so building a document allocates little beyond its vectors, and
//! dropping it frees little. Only computed text (`format!`) is owned.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// Text in a tree: borrowed when it outlives the tree, owned when computed.
pub type Str<'a> = Cow<'a, str>;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Y<'a> {
    Bool(bool),
    Int(i64),
    Str(Str<'a>),
    Seq(Vec<Y<'a>>),
    Map(Map<'a>),
}

/// A mapping that keeps insertion order; inserting an existing key replaces its value in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map<'a>(Vec<(Str<'a>, Y<'a>)>);

impl<'a> Map<'a> {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// An empty map with room for `n` entries (what [`map!`] uses, so a literal map is one
    /// allocation).
    pub fn with_capacity(n: usize) -> Self {
        Map(Vec::with_capacity(n))
    }

    pub fn insert(&mut self, key: impl Into<Str<'a>>, value: impl Into<Y<'a>>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Builder form of [`Map::insert`].
    pub fn with(mut self, key: impl Into<Str<'a>>, value: impl Into<Y<'a>>) -> Self {
        self.insert(key, value);
        self
    }

    /// Insert when `value` is `Some`.
    pub fn opt<T: Into<Y<'a>>>(mut self, key: impl Into<Str<'a>>, value: Option<T>) -> Self {
        if let Some(v) = value {
            self.insert(key, v);
        }
        self
    }

    /// Insert when the map or list is not empty.
    pub fn nonempty(mut self, key: impl Into<Str<'a>>, value: impl Into<Y<'a>>) -> Self {
        let v = value.into();
        let empty = match &v {
            Y::Seq(s) => s.is_empty(),
            Y::Map(m) => m.is_empty(),
            _ => false,
        };
        if !empty {
            self.insert(key, v);
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&Y<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Y<'a>> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Remove `key` (keeping the order of the others); what a merge patch's `null` does.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Y<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Add every entry of `other` (replacing equal keys).
    pub fn extend(&mut self, other: Map<'a>) {
        self.0.reserve(other.0.len());
        for (k, v) in other.0 {
            self.insert(k, v);
        }
    }

    /// Insert a new `key` just before the entry `before` (nothing when there is no such
    /// entry), e.g. `initContainers` before `containers`, without rebuilding the map.
    pub fn insert_before(
        &mut self,
        before: &str,
        key: impl Into<Str<'a>>,
        value: impl Into<Y<'a>>,
    ) {
        if let Some(at) = self.0.iter().position(|(k, _)| k == before) {
            self.0.insert(at, (key.into(), value.into()));
        }
    }
}

impl From<bool> for Y<'_> {
    fn from(b: bool) -> Self {
        Y::Bool(b)
    }
}
impl From<i64> for Y<'_> {
    fn from(i: i64) -> Self {
        Y::Int(i)
    }
}
impl From<u32> for Y<'_> {
    fn from(i: u32) -> Self {
        Y::Int(i64::from(i))
    }
}
impl From<u16> for Y<'_> {
    fn from(i: u16) -> Self {
        Y::Int(i64::from(i))
    }
}
impl<'a> From<&'a str> for Y<'a> {
    fn from(s: &'a str) -> Self {
        Y::Str(Cow::Borrowed(s))
    }
}
impl From<String> for Y<'_> {
    fn from(s: String) -> Self {
        Y::Str(Cow::Owned(s))
    }
}
impl<'a> From<&'a String> for Y<'a> {
    fn from(s: &'a String) -> Self {
        Y::Str(Cow::Borrowed(s))
    }
}
impl<'a> From<Str<'a>> for Y<'a> {
    fn from(s: Str<'a>) -> Self {
        Y::Str(s)
    }
}
impl<'a> From<Map<'a>> for Y<'a> {
    fn from(m: Map<'a>) -> Self {
        Y::Map(m)
    }
}
impl<'a, T: Into<Y<'a>>> From<Vec<T>> for Y<'a> {
    fn from(v: Vec<T>) -> Self {
        Y::Seq(v.into_iter().map(Into::into).collect())
    }
}
/// A borrowed list of strings (e.g. a blueprint's `command`) borrows its items.
impl<'a> From<&'a [String]> for Y<'a> {
    fn from(v: &'a [String]) -> Self {
        Y::Seq(v.iter().map(Into::into).collect())
    }
}
impl<'a> From<&'a Vec<String>> for Y<'a> {
    fn from(v: &'a Vec<String>) -> Self {
        v.as_slice().into()
    }
}
impl<'a> From<&'a BTreeMap<String, String>> for Y<'a> {
    fn from(m: &'a BTreeMap<String, String>) -> Self {
        Y::Map(m.into())
    }
}
impl<'a> From<&'a BTreeMap<String, String>> for Map<'a> {
    fn from(m: &'a BTreeMap<String, String>) -> Self {
        // Keys of a BTreeMap are distinct: push without the search `insert` does.
        Map(m
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), v.into()))
            .collect())
    }
}

impl From<BTreeMap<String, String>> for Y<'_> {
    fn from(m: BTreeMap<String, String>) -> Self {
        Y::Map(Map(m
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k), Y::Str(Cow::Owned(v))))
            .collect()))
    }
}

/// `map! { "key" => value, … }` builds a [`Map`] in the order written, allocating its
/// entries once.
macro_rules! map {
    (@unit $k:expr) => { () };
    () => { $crate::k8s::yaml::Map::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = $crate::k8s::yaml::Map::with_capacity(
            <[()]>::len(&[$($crate::k8s::yaml::map!(@unit $k)),+]),
        );
        $( m.insert($k, $v); )+
        m
    }};
}

/// `seq![a, b, …]` builds a list of values.
macro_rules! seq {
    () => { $crate::k8s::yaml::Y::Seq(Vec::new()) };
    ($($v:expr),+ $(,)?) => {
        $crate::k8s::yaml::Y::Seq(vec![$($crate::k8s::yaml::Y::from($v)),+])
    };
}

pub(crate) use {map, seq};

/// Words YAML 1.1 or 1.2 read as booleans or null, in any case.
const RESERVED: [&str; 9] = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"];

/// A string of at most five bytes packed into an integer with ASCII letters lowercased
/// (`b | 0x20` is a lowercase letter exactly when `b` is a letter), so that a reserved word
/// is one integer comparison instead of nine case-insensitive string comparisons.
const fn fold_short(bytes: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        w = (w << 8) | (bytes[i] | 0x20) as u64;
        i += 1;
    }
    w
}

/// [`RESERVED`], folded. Every folded byte is non-zero, so words of different lengths never
/// fold alike.
const RESERVED_FOLDED: [u64; RESERVED.len()] = {
    let mut out = [0u64; RESERVED.len()];
    let mut i = 0;
    while i < RESERVED.len() {
        out[i] = fold_short(RESERVED[i].as_bytes());
        i += 1;
    }
    out
};

/// [`PLAIN`] bits: the byte may appear in a plain key or value (`PLAIN_ANY`), or only in a
/// value (`PLAIN_VALUE`: `:` would end a key).
const PLAIN_ANY: u8 = 1;
const PLAIN_VALUE: u8 = 2;
/// What each byte may be in a plain scalar: one table lookup per byte instead of a chain of
/// comparisons (this check runs on every key and string of every manifest).
static PLAIN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b'@' | b'=' | b'+')
        {
            t[i] = PLAIN_ANY | PLAIN_VALUE;
        } else if c == b':' {
            t[i] = PLAIN_VALUE;
        }
        i += 1;
    }
    t
};

/// Whether `s` reads back as the same string when written plain.
pub fn is_plain_safe(s: &str, key: bool) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'/') {
        return false;
    }
    if bytes.len() <= 5 && RESERVED_FOLDED.contains(&fold_short(bytes)) {
        return false;
    }
    if bytes[bytes.len() - 1] == b':' {
        return false;
    }
    // Byte by byte: a non-ASCII character fails as its first byte does. Nearly every string
    // passes, so the bits are and-ed over the whole string without an early exit, which
    // makes a short, unrolled loop.
    let need = if key { PLAIN_ANY } else { PLAIN_VALUE };
    bytes.iter().fold(need, |acc, &c| acc & PLAIN[c as usize]) != 0
}

/// `s` plain when that reads back the same, else double-quoted with JSON escapes.
fn write_scalar(out: &mut String, s: &str, key: bool) {
    if is_plain_safe(s, key) {
        out.push_str(s);
    } else {
        crate::terraform::write_json_string(out, s);
    }
}

/// A literal block header (`|` or `|-`) when `s` can be written exactly as one.
fn literal_header(s: &str) -> Option<&'static str> {
    if !s.contains('\n') || s.ends_with("\n\n") || s.starts_with([' ', '\t', '\n']) {
        return None;
    }
    let printable = s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control());
    let clean = s.lines().all(|l| !l.ends_with([' ', '\t']));
    if !printable || !clean {
        return None;
    }
    Some(if s.ends_with('\n') { "|" } else { "|-" })
}

fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = indent;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn literal(out: &mut String, s: &str, indent: usize) {
    for line in s.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// ` <i>\n` without the formatting machinery (integers are ports, counts and ids).
fn write_int(out: &mut String, i: i64) {
    let mut buf = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push(' ');
    if i < 0 {
        out.push('-');
    }
    // The buffer holds ASCII digits only.
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
    out.push('\n');
}

/// Write `value` after a `key:` or `- ` that is already on the line, at block `indent`.
fn value_after(out: &mut String, value: &Y, indent: usize, in_seq: bool) {
    match value {
        Y::Bool(b) => out.push_str(if *b { " true\n" } else { " false\n" }),
        Y::Int(i) => write_int(out, *i),
        Y::Str(s) => {
            out.push(' ');
            // Plain is the common case and implies a single line, so it is tried first.
            if is_plain_safe(s, false) {
                out.push_str(s);
                out.push('\n');
            } else if let Some(h) = literal_header(s) {
                out.push_str(h);
                out.push('\n');
                literal(out, s, indent + 2);
            } else {
                crate::terraform::write_json_string(out, s);
                out.push('\n');
            }
        }
        Y::Seq(v) if v.is_empty() => out.push_str(" []\n"),
        Y::Map(m) if m.is_empty() => out.push_str(" {}\n"),
        Y::Seq(v) => {
            out.push('\n');
            seq_block(out, v, indent + 2);
        }
        Y::Map(m) => {
            if in_seq {
                // `- key: value` continues on the dash's line.
                map_block(out, m, indent + 2, true);
            } else {
                out.push('\n');
                map_block(out, m, indent + 2, false);
            }
        }
    }
}

fn map_block(out: &mut String, m: &Map, indent: usize, first_inline: bool) {
    for (i, (k, v)) in m.0.iter().enumerate() {
        if i == 0 && first_inline {
            out.push(' ');
        } else {
            pad(out, indent);
        }
        write_scalar(out, k, true);
        out.push(':');
        value_after(out, v, indent, false);
    }
}

fn seq_block(out: &mut String, items: &[Y], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        value_after(out, item, indent, true);
    }
}

/// One document (a top-level mapping), without a document marker.
pub fn to_string(doc: &Map) -> String {
    let mut out = String::new();
    write_doc(&mut out, doc);
    out
}

fn write_doc(out: &mut String, doc: &Map) {
    if doc.is_empty() {
        out.push_str("{}\n");
    } else {
        map_block(out, doc, 0, false);
    }
}

/// A multi-document file: a `#` comment line, then each document after `---`.
pub fn file(comment: &str, docs: &[Map]) -> String {
    let mut out = String::with_capacity(4096);
    for line in comment.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    for d in docs {
        out.push_str("---\n");
        write_doc(&mut out, d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::{Yaml, YamlLoader};

    fn roundtrip(s: &str) -> Yaml {
        let doc = map! {"k" => s};
        let text = to_string(&doc);
        let docs = YamlLoader::load_from_str(&text).unwrap();
        docs[0]["k"].clone()
    }

    #[test]
    fn strings_that_yaml_could_misread_are_quoted() {
        for s in [
            "true", "True", "yes", "No", "on", "OFF", "y", "null", "~", "1.0", "0777", "3000",
            "250m", "1e3", "*a", "&a", "!tag", "%x", "@x", "`x", "-1", "- a", "a: b", "a #b", "",
            " lead", "trail ", "{a}", "[a]", "25%", "/$2", "'q'", "\"q\"", "a\tb", ".inf", "0x1F",
            "12:30", "=", "<<", "?x", "|x", ">x",
        ] {
            assert_eq!(roundtrip(s), Yaml::String(s.to_string()), "{s:?}");
            assert!(!is_plain_safe(s, false) || s.chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn reserved_words_fold_like_a_case_insensitive_comparison() {
        let words = [
            "y", "Y", "n", "N", "yes", "YeS", "no", "nO", "true", "TRUE", "false", "False", "on",
            "On", "off", "OFF", "null", "Null", "yeah", "nul", "trUE", "of", "o", "f", "ye", "y@",
            "Y`", "n\u{0}", "@", "`", "nulL", "nulls", "offf",
        ];
        for w in words {
            let slow = RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r));
            let fast = RESERVED_FOLDED.contains(&fold_short(w.as_bytes()));
            assert_eq!(slow, fast, "{w:?}");
        }
        // Every byte pair that folds to a reserved word's byte is that letter in some case.
        for b in 0..=255u8 {
            let folded = b | 0x20;
            assert_eq!(folded.is_ascii_lowercase(), b.is_ascii_alphabetic(), "{b}");
        }
    }

    #[test]
    fn plain_strings_stay_plain() {
        for s in [
            "nginx",
            "apps/v1",
            "mongo:6.0",
            "https://acme-v02.api.letsencrypt.org/directory",
            "/health",
            "registry.example.com/a/b:v1.0.1",
            "kubernetes.io/hostname",
        ] {
            assert!(is_plain_safe(s, false), "{s}");
            assert_eq!(roundtrip(s), Yaml::String(s.to_string()));
        }
        assert!(!is_plain_safe("a:b", true));
    }

    #[test]
    fn multi_line_strings_become_exact_literal_blocks() {
        for s in ["a\nb\n", "a\n\n  b\nc", "set -e\nx=1\n", "a\n\n\n"] {
            assert_eq!(roundtrip(s), Yaml::String(s.to_string()), "{s:?}");
        }
        let text = to_string(&map! {"script" => "a\nb\n"});
        assert_eq!(text, "script: |\n  a\n  b\n");
    }

    #[test]
    fn kubectl_layout() {
        let doc = map! {
            "apiVersion" => "v1",
            "kind" => "List",
            "items" => seq![map! {"name" => "a", "ports" => seq![80u16, 443u16]}, "x"],
            "empty" => Map::new(),
            "none" => Y::Seq(vec![]),
            "nested" => map! {"on" => true},
        };
        assert_eq!(
            to_string(&doc),
            "apiVersion: v1\nkind: List\nitems:\n  - name: a\n    ports:\n      - 80\n      - 443\n  - x\nempty: {}\nnone: []\nnested:\n  \"on\": true\n"
        );
        let parsed = YamlLoader::load_from_str(&to_string(&doc)).unwrap();
        assert_eq!(parsed[0]["items"][0]["ports"][1], Yaml::Integer(443));
        assert_eq!(parsed[0]["nested"]["on"], Yaml::Boolean(true));
    }

    #[test]
    fn insertion_order_and_replacement() {
        let mut m = map! {"b" => 1u32, "a" => 2u32};
        m.insert("b", 3u32);
        assert_eq!(to_string(&m), "b: 3\na: 2\n");
    }
}
