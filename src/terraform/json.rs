//! The value tree back-ends build resource bodies with: a JSON value made for being built
//! once, rendered once and dropped.
//!
//! `serde_json::Value` costs an allocation for every object key, a B-tree per object and a
//! pass through serde's serializer for every value spliced into `json!`. Bodies here are
//! built by the thousand for a large stack (1,000 ECS services are ~22,000 resources), so
//! this type keeps literal keys and literal strings borrowed (`Cow<'static, str>`), objects
//! as one vector kept sorted by key (the canonical order the renderer writes, so rendering
//! never sorts), and converts spliced values without serde. The [`json!`](crate::json)
//! macro has `serde_json::json!`'s syntax.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Number;

use super::expr::Expr;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    /// Plain text: always rendered literally (`${` escaped), whatever it holds.
    String(Cow<'static, str>),
    /// A Terraform template with interpolations (see [`Expr`]): rendered as its text.
    Expr(Expr),
    Array(Vec<Json>),
    Object(Object),
    /// A JSON document as a string value (what Terraform's `jsonencode` gives): rendered as
    /// the string of its compact text, written in one pass (see `render::write_encoded`).
    Encoded(Box<Json>),
}

/// An object: members sorted by key (byte order), keys unique.
///
/// Keys are kept as Terraform template text, as Terraform reads a property name: plain text
/// is escaped when it becomes a key ([`Key`], [`Object::insert`], [`Object::entry`]; `${` →
/// `$${`, which no key the back-ends look up contains), and a template key ([`Expr`], e.g.
/// an IAM condition on `${aws_iam_openid_connect_provider.eks.url}:sub`) is kept as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object(Vec<(Cow<'static, str>, Json)>);

/// `text` as a key: template syntax escaped (see [`Object`]); most keys have none and are
/// kept as they are.
fn plain_key(text: Cow<'static, str>) -> Cow<'static, str> {
    if super::expr::has_template_syntax(&text) {
        Cow::Owned(super::expr::escape_template(&text))
    } else {
        text
    }
}

impl Object {
    pub fn new() -> Self {
        Object(Vec::new())
    }

    /// An object of `entries` in any order, keys already made by [`Key`]; of equal keys the
    /// last wins (as with repeated inserts).
    pub fn from_entries(mut entries: Vec<(Cow<'static, str>, Json)>) -> Self {
        // Stable, so equal keys keep their order and the last of each run is the one kept.
        // Keys nearly always differ in their first byte: comparing it first spares most
        // comparisons a call to `memcmp` (bodies are sorted by the thousand).
        entries.sort_by(
            |a, b| match (a.0.as_bytes().first(), b.0.as_bytes().first()) {
                (Some(x), Some(y)) if x != y => x.cmp(y),
                _ => a.0.cmp(&b.0),
            },
        );
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            let mut unique: Vec<(Cow<'static, str>, Json)> = Vec::with_capacity(entries.len());
            for e in entries {
                match unique.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => unique.push(e),
                }
            }
            entries = unique;
        }
        Object(entries)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    /// Set `key` to `value`, replacing an earlier value (as a map would).
    pub fn insert(&mut self, key: impl Key, value: impl Into<Json>) {
        self.insert_raw(key.key(), value.into());
    }

    /// [`Object::insert`] of a key that is template text already.
    fn insert_raw(&mut self, key: Cow<'static, str>, value: Json) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The value at `key` (template text, as the keys of [`Object::iter`]; a name such as
    /// `values` is its own), made `null` first if absent.
    pub fn entry(&mut self, key: &str) -> &mut Json {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (Cow::Owned(key.to_string()), Json::Null));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Insert every member of `other`.
    pub fn extend(&mut self, other: Object) {
        for (k, v) in other {
            self.insert_raw(k, v);
        }
    }

    /// Members in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Json)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl IntoIterator for Object {
    type Item = (Cow<'static, str>, Json);
    type IntoIter = std::vec::IntoIter<(Cow<'static, str>, Json)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Json {
    /// `doc` as a string of its compact JSON (an IAM policy, ECS container definitions).
    pub fn encoded(doc: Json) -> Json {
        Json::Encoded(Box::new(doc))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The member `key` of an object (`None` for anything else).
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// Compact JSON exactly as `serde_json::to_string` writes the equivalent
    /// `serde_json::Value` (keys in byte order), for text that is not a Terraform string;
    /// a document inside Terraform is a [`Json::Encoded`], which keeps its templates.
    pub fn to_compact_string(&self) -> String {
        let mut out = String::with_capacity(256);
        super::render::write_compact(&mut out, self, super::render::Strings::Json);
        out
    }
}

/// A number as serde_json writes it.
pub(super) fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else if let Some(u) = n.as_u64() {
        out.push_str(itoa::Buffer::new().format(u));
    } else {
        let _ = std::fmt::Write::write_fmt(out, format_args!("{n}"));
    }
}

/// `body["key"]`: `null` when absent or not an object, like `serde_json::Value`.
impl std::ops::Index<&str> for Json {
    type Output = Json;

    fn index(&self, key: &str) -> &Json {
        static NULL: Json = Json::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

/// `list[i]`: `null` when out of range or not an array.
impl std::ops::Index<usize> for Json {
    type Output = Json;

    fn index(&self, i: usize) -> &Json {
        static NULL: Json = Json::Null;
        match self {
            Json::Array(a) => a.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

/// `body["key"] = …`: a `null` becomes an empty object first, like `serde_json::Value`.
impl std::ops::IndexMut<&str> for Json {
    fn index_mut(&mut self, key: &str) -> &mut Json {
        if self.is_null() {
            *self = Json::Object(Object::new());
        }
        match self {
            Json::Object(o) => o.entry(key),
            other => panic!("cannot index {other:?} with {key:?}: not an object"),
        }
    }
}

/// Copying a borrowed value into a [`Json`]: what `Json::from(&x)` (and so `json!({"k": &x})`)
/// does.
pub trait ToJson {
    fn to_json(&self) -> Json;
}

impl ToJson for Json {
    fn to_json(&self) -> Json {
        self.clone()
    }
}

impl ToJson for str {
    fn to_json(&self) -> Json {
        Json::String(Cow::Owned(self.to_owned()))
    }
}

impl ToJson for String {
    fn to_json(&self) -> Json {
        Json::String(Cow::Owned(self.clone()))
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Json {
                Json::Number(Number::from(*self))
            }
        }
        impl From<$t> for Json {
            fn from(n: $t) -> Json {
                Json::Number(Number::from(n))
            }
        }
    )*};
}
numbers!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

impl ToJson for f64 {
    fn to_json(&self) -> Json {
        Number::from_f64(*self).map_or(Json::Null, Json::Number)
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Json {
        (**self).to_json()
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, ToJson::to_json)
    }
}

impl<K: AsRef<str>, V: ToJson> ToJson for BTreeMap<K, V> {
    fn to_json(&self) -> Json {
        // Already in key order: members are appended, not inserted.
        Json::Object(Object(
            self.iter()
                .map(|(k, v)| (plain_key(Cow::Owned(k.as_ref().to_owned())), v.to_json()))
                .collect(),
        ))
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Json {
        use serde_json::Value as V;
        match v {
            V::Null => Json::Null,
            V::Bool(b) => Json::Bool(b),
            V::Number(n) => Json::Number(n),
            V::String(s) => Json::String(Cow::Owned(s)),
            V::Array(a) => Json::Array(a.into_iter().map(Json::from).collect()),
            // Sorted here whatever order serde_json's map keeps (`preserve_order`).
            V::Object(m) => Json::Object(Object::from_entries(
                m.into_iter()
                    .map(|(k, v)| (plain_key(Cow::Owned(k)), Json::from(v)))
                    .collect(),
            )),
        }
    }
}

impl From<Json> for serde_json::Value {
    fn from(v: Json) -> serde_json::Value {
        use serde_json::Value as V;
        match v {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(b),
            Json::Number(n) => V::Number(n),
            Json::String(s) => V::String(s.into_owned()),
            Json::Expr(e) => V::String(e.as_str().to_owned()),
            Json::Encoded(doc) => {
                let mut text = String::new();
                super::render::write_compact(&mut text, &doc, super::render::Strings::Terraform);
                V::String(text)
            }
            Json::Array(a) => V::Array(a.into_iter().map(V::from).collect()),
            Json::Object(o) => V::Object(
                o.0.into_iter()
                    .map(|(k, v)| (k.into_owned(), V::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(Cow::Owned(s))
    }
}

/// A borrowed value is copied, as `json!` copies a spliced place (`&str`, `&[T]`, and
/// whatever reference a method returns).
impl<T: ToJson + ?Sized> From<&T> for Json {
    fn from(v: &T) -> Json {
        v.to_json()
    }
}

impl From<Expr> for Json {
    fn from(e: Expr) -> Json {
        Json::Expr(e)
    }
}

impl ToJson for Expr {
    fn to_json(&self) -> Json {
        Json::Expr(self.clone())
    }
}

impl From<f64> for Json {
    fn from(n: f64) -> Json {
        n.to_json()
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<Object> for Json {
    fn from(o: Object) -> Json {
        Json::Object(o)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Json {
        Json::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<V: Into<Json>> From<BTreeMap<String, V>> for Json {
    fn from(m: BTreeMap<String, V>) -> Json {
        // Already in key order: members are appended, not inserted.
        Json::Object(Object(
            m.into_iter()
                .map(|(k, v)| (plain_key(Cow::Owned(k)), v.into()))
                .collect(),
        ))
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}

/// Literals in `json!`: strings stay borrowed.
pub trait Literal {
    fn literal(self) -> Json;
}

impl Literal for &'static str {
    fn literal(self) -> Json {
        Json::String(Cow::Borrowed(self))
    }
}

impl Literal for bool {
    fn literal(self) -> Json {
        Json::Bool(self)
    }
}

impl Literal for f64 {
    fn literal(self) -> Json {
        self.to_json()
    }
}

macro_rules! integer_literals {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn literal(self) -> Json {
                Json::Number(Number::from(self))
            }
        }
    )*};
}
integer_literals!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

/// An object key, as template text (see [`Object`]): text is plain (a string literal kept
/// borrowed unless it needs escaping), a template ([`Expr`]) is kept as it is.
pub trait Key {
    fn key(self) -> Cow<'static, str>;
}

impl Key for &'static str {
    fn key(self) -> Cow<'static, str> {
        plain_key(Cow::Borrowed(self))
    }
}

/// A string literal written as a key in [`json!`](crate::json), when it holds no template
/// syntax (nearly all do not): the macro decides this at compile time and keeps the key
/// borrowed, sparing the scan [`Key::key`] makes at run time (a 1,000-service stack has
/// some 300,000 literal keys).
pub const fn plain_literal(text: &'static str) -> Option<&'static str> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{' {
            return None;
        }
        i += 1;
    }
    Some(text)
}

impl Key for String {
    fn key(self) -> Cow<'static, str> {
        plain_key(Cow::Owned(self))
    }
}

impl Key for Expr {
    fn key(self) -> Cow<'static, str> {
        Cow::Owned(self.into_text())
    }
}

/// `serde_json::json!`'s syntax, building a [`Json`]: `null`, literals, `[…]`, `{"k": v}`
/// and any expression, converted with `Json::from` — so Rust's own rules say what happens to
/// it: a value is moved in, a reference (`&x`, or a method returning one) is copied. One way
/// to insert values, with no macro-level distinction between them.
#[macro_export]
macro_rules! json {
    // ---- arrays: `@array [elements so far] rest`
    (@array [$($elems:expr,)*]) => { ::std::vec![$($elems,)*] };
    (@array [$($elems:expr),*]) => { ::std::vec![$($elems),*] };
    (@array [$($elems:expr,)*] null $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)* $crate::json!(null)] $($rest)*)
    };
    (@array [$($elems:expr,)*] [$($array:tt)*] $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)* $crate::json!([$($array)*])] $($rest)*)
    };
    (@array [$($elems:expr,)*] {$($map:tt)*} $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)* $crate::json!({$($map)*})] $($rest)*)
    };
    (@array [$($elems:expr,)*] $lit:literal , $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)* $crate::terraform::Literal::literal($lit),] $($rest)*)
    };
    (@array [$($elems:expr,)*] $lit:literal) => {
        $crate::json!(@array [$($elems,)* $crate::terraform::Literal::literal($lit)])
    };
    (@array [$($elems:expr,)*] $next:expr , $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)* $crate::json!($next),] $($rest)*)
    };
    (@array [$($elems:expr,)*] $last:expr) => {
        $crate::json!(@array [$($elems,)* $crate::json!($last)])
    };
    (@array [$($elems:expr),*] , $($rest:tt)*) => {
        $crate::json!(@array [$($elems,)*] $($rest)*)
    };

    // ---- objects: `@object [entries so far] (key tokens) (rest)`; the entries become one
    // vector of exactly their number, sorted once.
    (@object [$($entries:expr,)*] () ()) => {
        $crate::terraform::Object::from_entries(::std::vec![$($entries,)*])
    };
    (@object [$($entries:expr,)*] [$($key:tt)+] ($value:expr) , $($rest:tt)*) => {
        $crate::json!(@object [$($entries,)* ($crate::json!(@key $($key)+), $value),] () ($($rest)*))
    };
    (@object [$($entries:expr,)*] [$($key:tt)+] ($value:expr)) => {
        $crate::json!(@object [$($entries,)* ($crate::json!(@key $($key)+), $value),] () ())
    };
    (@object $entries:tt ($($key:tt)+) (: null $($rest:tt)*)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::json!(null)) $($rest)*)
    };
    (@object $entries:tt ($($key:tt)+) (: [$($array:tt)*] $($rest:tt)*)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::json!([$($array)*])) $($rest)*)
    };
    (@object $entries:tt ($($key:tt)+) (: {$($map:tt)*} $($rest:tt)*)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::json!({$($map)*})) $($rest)*)
    };
    (@object $entries:tt ($($key:tt)+) (: $lit:literal , $($rest:tt)*)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::terraform::Literal::literal($lit)) , $($rest)*)
    };
    (@object $entries:tt ($($key:tt)+) (: $lit:literal)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::terraform::Literal::literal($lit)))
    };
    (@object $entries:tt ($($key:tt)+) (: $value:expr , $($rest:tt)*)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::json!($value)) , $($rest)*)
    };
    (@object $entries:tt ($($key:tt)+) (: $value:expr)) => {
        $crate::json!(@object $entries [$($key)+] ($crate::json!($value)))
    };
    // Munch a token into the key.
    (@object $entries:tt ($($key:tt)*) ($tt:tt $($rest:tt)*)) => {
        $crate::json!(@object $entries ($($key)* $tt) ($($rest)*))
    };

    (@key $key:literal) => {
        match const { $crate::terraform::plain_literal($key) } {
            ::std::option::Option::Some(k) => ::std::borrow::Cow::Borrowed(k),
            ::std::option::Option::None => $crate::terraform::Key::key($key),
        }
    };
    (@key $($key:tt)+) => { $crate::terraform::Key::key($($key)+) };

    // ---- entry points
    (null) => { $crate::terraform::Json::Null };
    ([]) => { $crate::terraform::Json::Array(::std::vec::Vec::new()) };
    ([ $($tt:tt)+ ]) => { $crate::terraform::Json::Array($crate::json!(@array [] $($tt)+)) };
    ({}) => { $crate::terraform::Json::Object($crate::terraform::Object::new()) };
    ({ $($tt:tt)+ }) => {
        $crate::terraform::Json::Object($crate::json!(@object [] () ($($tt)+)))
    };
    ($lit:literal) => { $crate::terraform::Literal::literal($lit) };
    ($other:expr) => { $crate::terraform::Json::from($other) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same document through serde_json's macro and ours renders the same.
    #[test]
    fn matches_serde_json() {
        let name = String::from("web");
        let list = vec![json!(1), json!("two")];
        let ours = json!({
            "dup": 1,
            "z": null,
            "a": [1, "x", true, null, {"k": &name}, [], {}],
            "n": -3,
            "f": 1.5,
            "m": {"b": 2, "a": 1, "B": 0},
            "moved": list,
            "s": format!("{name}-1"),
            (name.clone()): "dynamic key",
            "opt": Some(3u16),
            "none": Option::<u16>::None,
            "dup": 2,
        });
        let theirs = serde_json::json!({
            "z": null,
            "a": [1, "x", true, null, {"k": name}, [], {}],
            "n": -3,
            "f": 1.5,
            "m": {"b": 2, "a": 1, "B": 0},
            "moved": [1, "two"],
            "s": format!("{name}-1"),
            name.clone(): "dynamic key",
            "opt": 3,
            "none": null,
            "dup": 2,
        });
        assert_eq!(serde_json::Value::from(ours.clone()), theirs);
        assert_eq!(
            ours.to_compact_string(),
            serde_json::to_string(&theirs).unwrap()
        );
        assert_eq!(Json::from(theirs), ours);
    }

    /// A literal key is kept as it is unless it holds template syntax, which is escaped as
    /// for any other key (the macro decides at compile time, `Key::key` at run time).
    #[test]
    fn literal_keys_escape_template_syntax() {
        let v = json!({"plain": 1, "a${b}": 2, "c%{d}": 3, "$": 4, "%": 5});
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["$", "%", "a$${b}", "c%%{d}", "plain"]);
        let dynamic = String::from("a${b}");
        assert_eq!(json!({(dynamic): 2}), json!({"a${b}": 2}));
        assert_eq!(plain_literal("{$ %"), Some("{$ %"));
        assert_eq!(plain_literal("${"), None);
    }

    #[test]
    fn objects_stay_sorted_and_replace_equal_keys() {
        let mut v = json!({"b": 1, "a": 2});
        v["c"] = json!(3);
        v["a"] = json!("again");
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(v["a"], json!("again"));
        assert!(v["missing"].is_null());
        let mut n = Json::Null;
        n["x"] = json!(true);
        assert_eq!(n, json!({"x": true}));
    }
}
