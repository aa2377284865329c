//! A serde `Deserializer` over [`Node`] whose errors carry the `line:col` and field path.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

use super::node::{CoreValue, Node, NodeKind, parse_core_float, parse_core_int, shorten};
use crate::diagnostic::{Diagnostic, Span, did_you_mean, one_of};

/// Deserialize `T` from a parsed (and merged) blueprint tree.
///
/// A `String` target gets a scalar's exact text (`version: 1.30` is `"1.30"`), except inside
/// `#[serde(untagged)]` and `#[serde(tag = "...")]` enums: serde buffers those through
/// `deserialize_any` before the target type is known, so there a plain scalar is typed by the
/// core schema and `1.30` is the float 1.3, which a `String` field refuses. Quoting the value
/// (`"1.30"`) keeps it text.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, Diagnostic> {
    T::deserialize(NodeDeserializer::new(node)).map_err(Error::into_diagnostic)
}

/// A deserialization error on its way out: the span is set by the innermost node that knows
/// it, the path grows (innermost segment first) as the error leaves each map value and item.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub message: String,
    pub span: Option<Span>,
    pub path: Vec<String>,
    pub expected: Option<String>,
    pub help: Option<String>,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            span: None,
            path: Vec::new(),
            expected: None,
            help: None,
        }
    }

    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    fn in_key(mut self, key: &str) -> Self {
        self.path.push(key.to_string());
        self
    }

    fn in_index(mut self, index: usize) -> Self {
        self.path.push(format!("[{index}]"));
        self
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `services[2].port`, outermost first.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }

    pub fn into_diagnostic(self) -> Diagnostic {
        let mut d = Diagnostic::new(self.to_string()).at(self.span);
        if let Some(e) = self.expected {
            d = d.expected(e);
        }
        if let Some(h) = self.help {
            d = d.help(h);
        }
        d
    }

    /// Errors for a name that is not one of `names`, with a suggestion when one is close.
    fn unknown_name(message: String, name: &str, names: &'static [&'static str]) -> Self {
        let mut e = Error::new(message);
        e.expected = Some(one_of(names.iter().copied()));
        e.help = did_you_mean(name, names.iter().copied());
        e
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path_string(), self.message)
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        e.into_diagnostic()
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let msg = msg.to_string();
        // serde's untagged-enum failure names a Rust type the user never wrote.
        if let Some(name) = msg.strip_prefix("data did not match any variant of untagged enum ") {
            return Error::new(format!(
                "this value does not match any accepted form of `{name}`"
            ))
            .with_help("see the documentation of this field for the forms it accepts");
        }
        Error::new(msg)
    }

    fn invalid_type(unexp: Unexpected, exp: &dyn Expected) -> Self {
        Error::new(format!(
            "expected {}, found {}",
            natural_expected(exp),
            describe_unexpected(&unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected, exp: &dyn Expected) -> Self {
        Error::new(format!(
            "expected {}, found {}",
            natural_expected(exp),
            describe_unexpected(&unexp)
        ))
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        let items = if len == 1 { "item" } else { "items" };
        Error::new(format!(
            "expected {}, found {len} {items}",
            natural_expected(exp)
        ))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Error::unknown_name(
            format!("unknown value `{}`", shorten(variant)),
            variant,
            expected,
        );
        // An engine the format does not have: say so, rather than offer the nearest
        // spelling (`mssql` → `mysql`) as if it were a typo.
        if let Some(h) = super::not_offered::hint(variant, expected) {
            e.help = Some(h);
        }
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Error::unknown_name(
            format!("unknown field `{}`", shorten(field)),
            field,
            expected,
        );
        if let Some(h) = super::not_offered::field_hint(field, expected) {
            e.help = Some(h);
        }
        e
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(format!("missing field `{field}`"))
    }
}

/// serde's `Unexpected` in the words the rest of our messages use.
fn describe_unexpected(u: &Unexpected) -> String {
    match u {
        Unexpected::Bool(b) => format!("a boolean `{b}`"),
        Unexpected::Unsigned(n) => format!("an integer `{n}`"),
        Unexpected::Signed(n) => format!("an integer `{n}`"),
        Unexpected::Float(n) => format!("a number `{n}`"),
        Unexpected::Char(c) => format!("a character `{}`", shorten(&c.to_string())),
        Unexpected::Str(s) => format!("a string `{}`", shorten(s)),
        Unexpected::Bytes(_) => "bytes".into(),
        Unexpected::Unit => "null".into(),
        Unexpected::Option => "an optional value".into(),
        Unexpected::NewtypeStruct => "a single value".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a mapping".into(),
        Unexpected::Enum => "a choice".into(),
        Unexpected::UnitVariant => "a plain name".into(),
        Unexpected::NewtypeVariant => "a `name: value` pair".into(),
        Unexpected::TupleVariant => "a `name: [..]` pair".into(),
        Unexpected::StructVariant => "a `name: {..}` pair".into(),
        Unexpected::Other(s) => (*s).to_string(),
    }
}

/// Rust type names from serde's visitors ("u16", "struct Service") in YAML terms.
fn natural_expected(exp: &dyn Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "u8" => int_range(u8::MIN.into(), u8::MAX.into()),
        "u16" => int_range(u16::MIN.into(), u16::MAX.into()),
        "u32" => int_range(u32::MIN.into(), u32::MAX.into()),
        "u64" | "u128" | "usize" => int_range(0, i128::MAX),
        "i8" => int_range(i8::MIN.into(), i8::MAX.into()),
        "i16" => int_range(i16::MIN.into(), i16::MAX.into()),
        "i32" => int_range(i32::MIN.into(), i32::MAX.into()),
        "i64" | "i128" | "isize" => int_range(i128::MIN, i128::MAX),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "unit" => "null".into(),
        "option" => "a value or null".into(),
        _ => {
            if text.starts_with("struct ") || text.starts_with("a struct") {
                "a mapping".into()
            } else if let Some(n) = text
                .strip_prefix("a tuple of size ")
                .or_else(|| text.strip_prefix("tuple of size "))
            {
                format!("a list of {n} items")
            } else {
                text
            }
        }
    }
}

fn is_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn int_range(min: i128, max: i128) -> String {
    if min == 0 && max > i128::from(u32::MAX) {
        "a non-negative integer".into()
    } else if min < i128::from(i32::MIN) {
        "an integer".into()
    } else {
        format!("an integer between {min} and {max}")
    }
}

/// How a node reads in "found ..." (typed by the core schema, as a reader would see it).
fn describe_node(node: &Node) -> String {
    match &node.kind {
        NodeKind::Null => "null".into(),
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Map(_) => "a mapping".into(),
        NodeKind::Scalar { text, .. } => {
            let shown = shorten(text);
            match node.core_value() {
                Some(CoreValue::Bool(_)) => format!("a boolean `{shown}`"),
                Some(CoreValue::Int(_) | CoreValue::UInt(_)) => format!("an integer `{shown}`"),
                Some(CoreValue::Float(_)) => format!("a number `{shown}`"),
                _ => format!("a string `{shown}`"),
            }
        }
    }
}

/// Deserializes one node. `key` marks a mapping key, which `deserialize_any` always reads as
/// text (JSON-like), so `true:` or `1:` keys do not turn into booleans or numbers.
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'a> {
    node: &'a Node,
    key: bool,
}

impl<'a> NodeDeserializer<'a> {
    pub fn new(node: &'a Node) -> Self {
        NodeDeserializer { node, key: false }
    }

    fn type_error(&self, expected: &str) -> Error {
        Error::new(format!(
            "expected {expected}, found {}",
            describe_node(self.node)
        ))
        .at(self.node.span)
    }

    /// Any scalar's text (quoted or not); null, lists and mappings are type errors.
    fn text(&self, expected: &str) -> Result<&'a str, Error> {
        match &self.node.kind {
            NodeKind::Scalar { text, .. } => Ok(text),
            _ => Err(self.type_error(expected)),
        }
    }

    fn int(&self, min: i128, max: i128) -> Result<i128, Error> {
        let text = match &self.node.kind {
            NodeKind::Scalar { text, .. } => text,
            _ => return Err(self.type_error(&int_range(min, max))),
        };
        let parsed = parse_core_int(text);
        if let Some(n) = parsed
            && (min..=max).contains(&n)
        {
            return Ok(n);
        }
        // The message is only built on the error path.
        let expected = int_range(min, max);
        match parsed {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(
                Error::new(format!("expected {expected}, found `{}`", shorten(text)))
                    .at(self.node.span),
            ),
            None if is_digits(text) => {
                // Digits beyond even i128.
                Err(
                    Error::new(format!("expected {expected}, found `{}`", shorten(text)))
                        .at(self.node.span),
                )
            }
            None => Err(self.type_error(&expected)),
        }
    }

    fn float(&self) -> Result<f64, Error> {
        let text = self.text("a number")?;
        match parse_core_float(text) {
            Some(f) => Ok(f),
            None => match parse_core_int(text) {
                // Hex and octal integers are numbers too.
                Some(n) => Ok(n as f64),
                None => Err(self.type_error("a number")),
            },
        }
    }

    fn seq(&self) -> Result<&'a [Node], Error> {
        match &self.node.kind {
            NodeKind::Seq(items) => Ok(items),
            _ => Err(self.type_error("a list")),
        }
    }

    fn map(&self) -> Result<&'a [(Node, Node)], Error> {
        match &self.node.kind {
            NodeKind::Map(entries) => Ok(entries),
            _ => Err(self.type_error("a mapping")),
        }
    }

    fn walk_seq<'de, V: Visitor<'de>>(
        self,
        items: &'a [Node],
        visitor: V,
    ) -> Result<V::Value, Error>
    where
        'a: 'de,
    {
        let mut access = SeqDeserializer {
            items: items.iter().enumerate(),
        };
        let value = visitor.visit_seq(&mut access)?;
        let left = access.items.len();
        if left > 0 {
            let taken = items.len() - left;
            let noun = if taken == 1 { "item" } else { "items" };
            return Err(Error::new(format!(
                "expected a list of {taken} {noun}, found {}",
                items.len()
            ))
            .at(self.node.span));
        }
        Ok(value)
    }

    fn walk_map<'de, V: Visitor<'de>>(
        self,
        entries: &'a [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value, Error>
    where
        'a: 'de,
    {
        visitor.visit_map(MapDeserializer {
            entries: entries.iter(),
            value: None,
        })
    }
}

macro_rules! deserialize_int {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let span = self.node.span;
            let n = self.int(<$ty>::MIN as i128, <$ty>::MAX as i128)?;
            // In range by the check in `int`; the fallback keeps this panic-free regardless.
            let v = <$ty>::try_from(n).map_err(|_| self.type_error("an integer"))?;
            visitor.$visit(v).map_err(|e: Error| e.at(span))
        }
    };
}

impl<'de, 'a: 'de> de::Deserializer<'de> for NodeDeserializer<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let result = match &self.node.kind {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Scalar { text, .. } if self.key => visitor.visit_borrowed_str(text),
            NodeKind::Scalar { text, .. } => match self.node.core_value() {
                Some(CoreValue::Null) => visitor.visit_unit(),
                Some(CoreValue::Bool(b)) => visitor.visit_bool(b),
                Some(CoreValue::Int(i)) if i >= 0 => visitor.visit_u64(i.unsigned_abs()),
                Some(CoreValue::Int(i)) => visitor.visit_i64(i),
                Some(CoreValue::UInt(u)) => visitor.visit_u64(u),
                Some(CoreValue::Float(f)) => visitor.visit_f64(f),
                _ => visitor.visit_borrowed_str(text),
            },
            NodeKind::Seq(items) => self.walk_seq(items, visitor),
            NodeKind::Map(entries) => self.walk_map(entries, visitor),
        };
        result.map_err(|e: Error| e.at(span))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let text = self.text("`true` or `false`")?;
        let b = match text {
            "true" | "True" | "TRUE" => true,
            "false" | "False" | "FALSE" => false,
            _ => {
                let mut e = self.type_error("`true` or `false`");
                if matches!(
                    text.to_ascii_lowercase().as_str(),
                    "yes" | "no" | "on" | "off" | "y" | "n"
                ) {
                    e = e.with_help("YAML 1.2 reads only `true` and `false` as booleans");
                }
                return Err(e);
            }
        };
        visitor.visit_bool(b).map_err(|e: Error| e.at(span))
    }

    deserialize_int!(deserialize_i8, visit_i8, i8);
    deserialize_int!(deserialize_i16, visit_i16, i16);
    deserialize_int!(deserialize_i32, visit_i32, i32);
    deserialize_int!(deserialize_i64, visit_i64, i64);
    deserialize_int!(deserialize_i128, visit_i128, i128);
    deserialize_int!(deserialize_u8, visit_u8, u8);
    deserialize_int!(deserialize_u16, visit_u16, u16);
    deserialize_int!(deserialize_u32, visit_u32, u32);
    deserialize_int!(deserialize_u64, visit_u64, u64);

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        // i128 holds every value a blueprint can sensibly need; u128 beyond it is refused.
        let n = self.int(0, i128::MAX)?;
        let v = u128::try_from(n).map_err(|_| self.type_error("a non-negative integer"))?;
        visitor.visit_u128(v).map_err(|e: Error| e.at(span))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let f = self.float()?;
        visitor.visit_f32(f as f32).map_err(|e: Error| e.at(span))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let f = self.float()?;
        visitor.visit_f64(f).map_err(|e: Error| e.at(span))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let text = self.text("a single character")?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c).map_err(|e: Error| e.at(span)),
            _ => Err(self.type_error("a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let text = self.text("a string")?;
        visitor
            .visit_borrowed_str(text)
            .map_err(|e: Error| e.at(span))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        match self.node.kind {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e: Error| e.at(span))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        match self.node.kind {
            NodeKind::Null => visitor.visit_unit().map_err(|e: Error| e.at(span)),
            _ => Err(self.type_error("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.node.span;
        visitor
            .visit_newtype_struct(self)
            .map_err(|e: Error| e.at(span))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let items = self.seq()?;
        self.walk_seq(items, visitor).map_err(|e: Error| e.at(span))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let noun = if len == 1 { "item" } else { "items" };
        let items = match &self.node.kind {
            NodeKind::Seq(items) => items,
            _ => return Err(self.type_error(&format!("a list of {len} {noun}"))),
        };
        if items.len() != len {
            return Err(Error::new(format!(
                "expected a list of {len} {noun}, found {}",
                items.len()
            ))
            .at(span));
        }
        self.walk_seq(items, visitor).map_err(|e: Error| e.at(span))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        let entries = self.map()?;
        // A missing field is noticed after the last entry; it belongs to the whole mapping.
        self.walk_map(entries, visitor)
            .map_err(|e: Error| e.at(span))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.node.span;
        let access = match &self.node.kind {
            NodeKind::Scalar { .. } => EnumDeserializer {
                variant: self.node,
                content: None,
            },
            NodeKind::Map(entries) if entries.len() == 1 => EnumDeserializer {
                variant: &entries[0].0,
                content: Some(&entries[0].1),
            },
            NodeKind::Map(entries) => {
                let e = Error::new(format!(
                    "expected {}, found a mapping with {} keys",
                    one_of(variants.iter().copied()),
                    entries.len()
                ))
                .at(span)
                .with_help("write a single `choice: settings` pair");
                return Err(e);
            }
            _ => return Err(self.type_error(&one_of(variants.iter().copied()))),
        };
        visitor.visit_enum(access).map_err(|e: Error| e.at(span))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // The tree is already built; there is nothing to skip over.
        visitor.visit_unit()
    }
}

impl<'de, 'a: 'de> IntoDeserializer<'de, Error> for NodeDeserializer<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

struct SeqDeserializer<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de, 'a: 'de> SeqAccess<'de> for SeqDeserializer<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            None => Ok(None),
            Some((i, item)) => seed
                .deserialize(NodeDeserializer::new(item))
                .map(Some)
                .map_err(|e| e.at(item.span).in_index(i)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDeserializer<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a (Node, Node)>,
}

impl<'de, 'a: 'de> MapAccess<'de> for MapDeserializer<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(entry);
        let key = NodeDeserializer {
            node: &entry.0,
            key: true,
        };
        // An unknown field is reported at the key; the path stays that of this mapping.
        seed.deserialize(key)
            .map(Some)
            .map_err(|e| e.at(entry.0.span))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((key, value)) = self.value.take() else {
            return Err(Error::new("a mapping value was read before its key"));
        };
        seed.deserialize(NodeDeserializer::new(value))
            .map_err(|e| e.at(value.span).in_key(key.as_str().unwrap_or("?")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `choice` (a scalar) or `choice: content` (a one-key mapping).
struct EnumDeserializer<'a> {
    variant: &'a Node,
    content: Option<&'a Node>,
}

impl<'de, 'a: 'de> EnumAccess<'de> for EnumDeserializer<'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let v = seed
            .deserialize(NodeDeserializer {
                node: self.variant,
                key: true,
            })
            .map_err(|e| e.at(self.variant.span))?;
        Ok((v, self))
    }
}

impl<'a> EnumDeserializer<'a> {
    fn name(&self) -> &'a str {
        self.variant.as_str().unwrap_or("?")
    }

    fn content(&self) -> Result<&'a Node, Error> {
        let name = shorten(self.name());
        self.content.ok_or_else(|| {
            Error::new(format!("`{name}` needs settings"))
                .at(self.variant.span)
                .with_help(format!("write it as `{name}: ...`"))
        })
    }
}

impl<'de, 'a: 'de> VariantAccess<'de> for EnumDeserializer<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.content {
            None => Ok(()),
            Some(Node {
                kind: NodeKind::Null,
                ..
            }) => Ok(()),
            Some(content) => {
                let name = shorten(self.name());
                Err(Error::new(format!("`{name}` takes no settings"))
                    .at(content.span)
                    .with_help(format!("write just `{name}`")))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        let content = self.content()?;
        seed.deserialize(NodeDeserializer::new(content))
            .map_err(|e| e.at(content.span).in_key(self.name()))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        let content = self.content()?;
        de::Deserializer::deserialize_tuple(NodeDeserializer::new(content), len, visitor)
            .map_err(|e| e.in_key(self.name()))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let content = self.content()?;
        de::Deserializer::deserialize_struct(NodeDeserializer::new(content), "", fields, visitor)
            .map_err(|e| e.in_key(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::node::parse;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    fn load<T: de::DeserializeOwned>(text: &str) -> Result<T, Diagnostic> {
        let node = parse(text).map_err(|d| Diagnostic::new(format!("parse failed: {d}")))?;
        from_node(&node)
    }

    fn fails<T: de::DeserializeOwned + fmt::Debug>(text: &str) -> Diagnostic {
        match load::<T>(text) {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(d) => d,
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        name: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        services: Vec<Service>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Service {
        name: String,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        public: bool,
    }

    #[test]
    fn reads_a_document() {
        let doc: Doc = load(
            "name: shop\nversion: 1.30\nlabels: {a: 1, b: true, c: x}\nservices:\n  - name: web\n    port: 8080\n    public: true\n",
        )
        .unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(doc.name, "shop");
        assert_eq!(doc.version.as_deref(), Some("1.30"));
        assert_eq!(doc.labels.get("a").map(String::as_str), Some("1"));
        assert_eq!(doc.labels.get("b").map(String::as_str), Some("true"));
        assert_eq!(
            doc.services,
            vec![Service {
                name: "web".into(),
                port: Some(8080),
                public: true
            }]
        );
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let d = fails::<Doc>("nmae: shop\n");
        assert_eq!(d.message, "unknown field `nmae`");
        assert_eq!(d.span, Some(Span::new(1, 1)));
        assert_eq!(d.help.as_deref(), Some("did you mean `name`?"));
        assert_eq!(
            d.expected.as_deref(),
            Some("one of `name`, `version`, `services` or `labels`")
        );

        let d = fails::<Doc>("name: shop\nservices:\n  - name: web\n    prot: 80\n");
        assert_eq!(d.message, "`services[0]`: unknown field `prot`");
        assert_eq!(d.span, Some(Span::new(4, 5)));
        assert_eq!(d.help.as_deref(), Some("did you mean `port`?"));
        assert_eq!(
            d.to_string(),
            "error: `services[0]`: unknown field `prot`\n  --> <blueprint>:4:5\n  = expected: one of `name`, `port` or `public`\n  = help: did you mean `port`?\n"
        );
    }

    #[test]
    fn wrong_type_at_a_nested_path() {
        let text = "name: shop\nservices:\n  - name: a\n  - name: b\n  - name: c\n    port: abc\n";
        let d = fails::<Doc>(text);
        assert_eq!(
            d.message,
            "`services[2].port`: expected an integer between 0 and 65535, found a string `abc`"
        );
        assert_eq!(d.span, Some(Span::new(6, 11)));

        let d = fails::<Doc>("name: shop\nservices:\n  - name: a\n    port: 70000\n");
        assert_eq!(
            d.message,
            "`services[0].port`: expected an integer between 0 and 65535, found `70000`"
        );
        let d = fails::<Doc>("name: shop\nservices:\n  - name: a\n    public: yes\n");
        assert_eq!(
            d.message,
            "`services[0].public`: expected `true` or `false`, found a string `yes`"
        );
        assert!(d.help.is_some());
        let d = fails::<Doc>("name: [a]\n");
        assert_eq!(d.message, "`name`: expected a string, found a list");
        assert_eq!(d.span, Some(Span::new(1, 7)));
        let d = fails::<Doc>("name: x\nservices: {a: 1}\n");
        assert_eq!(d.message, "`services`: expected a list, found a mapping");
    }

    #[test]
    fn missing_field_points_at_the_mapping() {
        let d = fails::<Doc>("name: shop\nservices:\n  - port: 80\n");
        assert_eq!(d.message, "`services[0]`: missing field `name`");
        assert_eq!(d.span, Some(Span::new(3, 5)));
        let d = fails::<Doc>("version: x\n");
        assert_eq!(d.message, "missing field `name`");
        assert_eq!(d.span, Some(Span::new(1, 1)));
    }

    #[test]
    fn quoted_numbers_are_accepted_for_numbers() {
        let doc: Doc =
            load("name: a\nservices: [{name: b, port: '443'}]\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(doc.services[0].port, Some(443));
        let n: BTreeMap<String, f64> =
            load("a: 0x10\nb: '2.5'\nc: 1e2\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(
            n.values().copied().collect::<Vec<_>>(),
            vec![16.0, 2.5, 100.0]
        );
    }

    #[test]
    fn option_and_null() {
        #[derive(Debug, Deserialize)]
        struct O {
            a: Option<String>,
            b: Option<u8>,
            #[serde(default)]
            c: Option<u8>,
            d: (),
        }
        let o: O = load("a: ~\nb: 3\nd:\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!((o.a, o.b, o.c, o.d), (None, Some(3), None, ()));
        let d = fails::<O>("a: null\nb: 3\nd: x\n");
        assert_eq!(d.message, "`d`: expected null, found a string `x`");
        let d = fails::<Doc>("name:\n");
        assert_eq!(d.message, "`name`: expected a string, found null");
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Nat {
        PerZone,
        Single,
        Custom { gateways: u8 },
        Named(String),
    }

    #[test]
    fn externally_tagged_enums() {
        let v: Vec<Nat> = load("a: [per_zone, single, {custom: {gateways: 2}}, {named: x}]\n")
            .map(|m: BTreeMap<String, Vec<Nat>>| m.into_values().next().unwrap_or_default())
            .unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(
            v,
            vec![
                Nat::PerZone,
                Nat::Single,
                Nat::Custom { gateways: 2 },
                Nat::Named("x".into())
            ]
        );
        let d = fails::<BTreeMap<String, Nat>>("nat: per_zon\n");
        assert_eq!(d.message, "`nat`: unknown value `per_zon`");
        assert_eq!(d.span, Some(Span::new(1, 6)));
        assert_eq!(d.help.as_deref(), Some("did you mean `per_zone`?"));
        assert_eq!(
            d.expected.as_deref(),
            Some("one of `per_zone`, `single`, `custom` or `named`")
        );
        let d = fails::<BTreeMap<String, Nat>>("nat: {custom: {gateways: x}}\n");
        assert_eq!(
            d.message,
            "`nat.custom.gateways`: expected an integer between 0 and 255, found a string `x`"
        );
        assert_eq!(d.span, Some(Span::new(1, 26)));
        let d = fails::<BTreeMap<String, Nat>>("nat: custom\n");
        assert_eq!(d.message, "`nat`: `custom` needs settings");
        let d = fails::<BTreeMap<String, Nat>>("nat: {single: 3}\n");
        assert_eq!(d.message, "`nat`: `single` takes no settings");
        let d = fails::<BTreeMap<String, Nat>>("nat: [single]\n");
        assert_eq!(
            d.message,
            "`nat`: expected one of `per_zone`, `single`, `custom` or `named`, found a list"
        );
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Size {
        Exact(String),
        Class { class: String },
    }

    #[test]
    fn untagged_enum() {
        let m: BTreeMap<String, Size> =
            load("a: small\nb: {class: big}\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(m.get("a"), Some(&Size::Exact("small".into())));
        assert_eq!(
            m.get("b"),
            Some(&Size::Class {
                class: "big".into()
            })
        );
        let d = fails::<BTreeMap<String, Size>>("a: [1]\n");
        assert_eq!(
            d.message,
            "`a`: this value does not match any accepted form of `Size`"
        );
        assert_eq!(d.span, Some(Span::new(1, 4)));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    enum Backend {
        Postgres { version: String, size: Option<u32> },
        Redis { nodes: u8 },
    }

    #[test]
    fn internally_tagged_enum() {
        let m: BTreeMap<String, Backend> = load(
            "a: {type: postgres, version: '16.1', size: 20}\nb:\n  type: redis\n  nodes: 3\nc: {type: postgres, version: sixteen}\n",
        )
        .unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(
            m.get("a"),
            Some(&Backend::Postgres {
                version: "16.1".into(),
                size: Some(20)
            })
        );
        assert_eq!(m.get("b"), Some(&Backend::Redis { nodes: 3 }));
        assert_eq!(
            m.get("c"),
            Some(&Backend::Postgres {
                version: "sixteen".into(),
                size: None
            })
        );
        // The documented limitation: an unquoted number is already a number here.
        let d = fails::<BTreeMap<String, Backend>>("a: {type: postgres, version: 1.30}\n");
        assert!(
            d.message
                .starts_with("`a`: expected a string, found a number"),
            "{}",
            d.message
        );
        let d = fails::<BTreeMap<String, Backend>>("a: {type: mysql}\n");
        // serde reads the tag as a map value, so the error lands on it.
        assert_eq!(d.message, "`a.type`: unknown value `mysql`");
        assert_eq!(d.span, Some(Span::new(1, 11)));
        assert_eq!(d.expected.as_deref(), Some("one of `postgres` or `redis`"));
        assert_eq!(d.help, None);
        let d = fails::<BTreeMap<String, Backend>>("a:\n  type: redis\n  nodse: 3\n");
        assert_eq!(d.message, "`a`: unknown field `nodse`");
        assert_eq!(d.help.as_deref(), Some("did you mean `nodes`?"));
        assert_eq!(d.span.map(|s| s.line), Some(2));
        let d = fails::<BTreeMap<String, Backend>>("a: {typ: redis}\n");
        assert_eq!(d.message, "`a`: missing field `type`");
    }

    #[test]
    fn maps_keep_document_order_and_typed_keys_work() {
        // (No ordered-map crate is a dependency, so a tiny ordered map stands in.)
        struct Ordered(Vec<(String, u32)>);
        impl<'de> Deserialize<'de> for Ordered {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Ordered;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a map")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Ordered, A::Error> {
                        let mut out = Vec::new();
                        while let Some(entry) = a.next_entry()? {
                            out.push(entry);
                        }
                        Ok(Ordered(out))
                    }
                }
                d.deserialize_map(V)
            }
        }
        let m: Ordered = load("z: 1\na: 2\nm: 3\n").unwrap_or_else(|d| panic!("{d}"));
        let keys: Vec<&str> = m.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["z", "a", "m"]);
        let m: BTreeMap<u16, String> =
            load("80: http\n443: https\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(m.get(&443).map(String::as_str), Some("https"));
    }

    #[test]
    fn any_is_typed_by_the_core_schema() {
        let v: serde_json::Value =
            load("a: 1\nb: '1'\nc: 1.5\nd: true\ne: ~\nf: [x, -2]\ntrue: k\n")
                .unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": "1", "c": 1.5, "d": true, "e": null, "f": ["x", -2], "true": "k"})
        );
    }

    #[test]
    fn tuples_check_their_length() {
        let t: BTreeMap<String, (u8, String)> =
            load("a: [1, x]\n").unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(t.get("a"), Some(&(1, "x".to_string())));
        let d = fails::<BTreeMap<String, (u8, String)>>("a: [1, x, y]\n");
        assert_eq!(d.message, "`a`: expected a list of 2 items, found 3");
    }

    #[test]
    fn error_display_and_path_rendering() {
        let e = Error::new("boom")
            .in_key("port")
            .in_index(2)
            .in_key("services");
        assert_eq!(e.to_string(), "`services[2].port`: boom");
        let e = Error::new("boom").in_index(0).in_index(1);
        assert_eq!(e.path_string(), "[1][0]");
    }
}
