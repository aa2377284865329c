//! Typed Terraform expressions (`${aws_vpc.main.id}`) and names.
//!
//! Every string in a Terraform JSON file is a template. A body holds two kinds of strings:
//! plain text (`Json::String`: names, tags, descriptions, blueprint values), which the
//! renderer always escapes (`${` → `$${`, `%{` → `%%{`) so it stays literal, and [`Expr`]
//! (`Json::Expr`): template text built only here — interpolations from references, literal
//! parts escaped as they are added. So text from a blueprint can never become an
//! interpolation, and intended references need no care at the call site.

/// A Terraform string template, e.g. `${aws_s3_bucket.logs.arn}/*`: interpolations come from
/// references ([`Ref::attr`], [`var`], [`interp`]…), literal text is escaped when added
/// ([`Expr::lit`], [`tpl!`](crate::tpl)). Kept as the template's text, which is what the
/// renderer writes (JSON-escaped, never template-escaped). It has no `Display`: formatting it
/// into a `String` would turn it into plain text, which the renderer escapes — compose with
/// [`tpl!`](crate::tpl) instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expr(String);

impl Expr {
    /// A template of literal text only (escaped), for values that are a reference in some
    /// cases and a known string in others.
    pub fn lit(text: &str) -> Expr {
        let mut e = Expr(String::with_capacity(text.len()));
        e.push_lit(text);
        e
    }

    /// The template as Terraform reads it, e.g. `${aws_s3_bucket.logs.arn}/*`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template's text, e.g. for an object key (kept as template text).
    pub(super) fn into_text(self) -> String {
        self.0
    }

    /// Append literal text: `${` and `%{` in it are escaped, so it stays literal.
    pub fn push_lit(&mut self, text: &str) {
        if has_template_syntax(text) {
            self.0.push_str(&escape_template(text));
        } else {
            self.0.push_str(text);
        }
    }

    /// Append another template.
    pub fn push(&mut self, other: &Expr) {
        self.0.push_str(&other.0);
    }
}

/// Text as a template of that text only (escaped), like [`Expr::lit`].
impl From<&str> for Expr {
    fn from(text: &str) -> Expr {
        Expr::lit(text)
    }
}

impl From<String> for Expr {
    fn from(text: String) -> Expr {
        if has_template_syntax(text.as_str()) {
            Expr::lit(&text)
        } else {
            Expr(text)
        }
    }
}

/// Whether `text` holds template syntax (`${` or `%{`) that must be escaped to stay literal.
pub(super) fn has_template_syntax(text: &str) -> bool {
    text.bytes().any(|b| b == b'$' || b == b'%') && (text.contains("${") || text.contains("%{"))
}

/// `text` as literal template text: `${` → `$${`, `%{` → `%%{`.
pub(super) fn escape_template(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

/// A part of a [`tpl!`](crate::tpl) template: a template is appended as it is, text as
/// literal text.
pub trait Part {
    fn append_to(&self, to: &mut Expr);
}

impl Part for Expr {
    fn append_to(&self, to: &mut Expr) {
        to.push(self);
    }
}

impl Part for str {
    fn append_to(&self, to: &mut Expr) {
        to.push_lit(self);
    }
}

impl Part for String {
    fn append_to(&self, to: &mut Expr) {
        to.push_lit(self);
    }
}

impl<T: Part + ?Sized> Part for &T {
    fn append_to(&self, to: &mut Expr) {
        (**self).append_to(to);
    }
}

macro_rules! number_parts {
    ($($t:ty),*) => {$(
        impl Part for $t {
            fn append_to(&self, to: &mut Expr) {
                to.0.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
number_parts!(u16, u32, u64, usize, i64);

/// Concatenate templates and text into one [`Expr`]: `tpl!(bucket.arn(), "/*")` is
/// `${aws_s3_bucket.x.arn}/*`. Text parts stay literal (escaped); numbers are written as text.
#[macro_export]
macro_rules! tpl {
    ($($part:expr),+ $(,)?) => {{
        let mut t = $crate::terraform::Expr::default();
        $( $crate::terraform::Part::append_to(&$part, &mut t); )+
        t
    }};
}

/// Any Terraform expression as a template interpolation, e.g. `interp("jsonencode(x)")`.
pub fn interp(expr: &str) -> Expr {
    interp_of(&[expr])
}

/// The interpolation of the concatenated `parts`, built in one allocation.
fn interp_of(parts: &[&str]) -> Expr {
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + 3;
    let mut s = String::with_capacity(len);
    s.push_str("${");
    for p in parts {
        s.push_str(p);
    }
    s.push('}');
    Expr(s)
}

/// A resource or data source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    prefix: &'static str,
    ty: &'static str,
    name: String,
}

/// `aws_vpc.<name>`.
pub fn res(ty: &'static str, name: &str) -> Ref {
    Ref {
        prefix: "",
        ty,
        name: ident(name),
    }
}

/// `data.aws_caller_identity.<name>`.
pub fn data(ty: &'static str, name: &str) -> Ref {
    Ref {
        prefix: "data.",
        ty,
        name: ident(name),
    }
}

impl Ref {
    /// `${aws_vpc.main.<attr>}`; `attr` may hold a path such as `identity[0].oidc[0].issuer`.
    pub fn attr(&self, attr: &str) -> Expr {
        interp_of(&[self.prefix, self.ty, ".", &self.name, ".", attr])
    }

    /// `aws_vpc.main.<attr>` as a bare expression, for building larger expressions.
    pub fn path(&self, attr: &str) -> String {
        [self.prefix, self.ty, ".", &self.name, ".", attr].concat()
    }

    pub fn id(&self) -> Expr {
        self.attr("id")
    }

    pub fn arn(&self) -> Expr {
        self.attr("arn")
    }

    /// `aws_vpc.main`, as `depends_on` and `moved` want it (no interpolation).
    pub fn address(&self) -> String {
        [self.prefix, self.ty, ".", &self.name].concat()
    }

    /// Whether this is a data source (`data.…`).
    pub fn is_data(&self) -> bool {
        !self.prefix.is_empty()
    }

    pub fn ty(&self) -> &'static str {
        self.ty
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// One expression holding a list: `${[aws_subnet.a.id, aws_subnet.b.id]}`.
pub fn list(paths: &[String]) -> Expr {
    interp(&format!("[{}]", paths.join(", ")))
}

/// `${var.<name>}`.
pub fn var(name: &str) -> Expr {
    interp_of(&["var.", &ident(name)])
}

/// `${local.<name>}`.
pub fn local(name: &str) -> Expr {
    interp_of(&["local.", &ident(name)])
}

/// A Terraform identifier from a blueprint name: `product-service` → `product_service`.
/// Blueprint names are DNS labels (validated), so this is one-to-one.
pub fn ident(name: &str) -> String {
    let lead = name.is_empty() || name.as_bytes()[0].is_ascii_digit();
    if name.is_ascii() {
        // Byte by byte (the usual case): the same mapping as below.
        let mut out = Vec::with_capacity(name.len() + 1);
        if lead {
            out.push(b'_');
        }
        out.extend(name.bytes().map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                b.to_ascii_lowercase()
            } else {
                b'_'
            }
        }));
        return String::from_utf8(out).unwrap_or_default();
    }
    let mut out = String::with_capacity(name.len() + 1);
    // Every character maps to a lower-case letter, a digit or `_`: only a leading digit (or
    // nothing at all) needs the `_` prefix.
    if lead {
        out.push('_');
    }
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '_' {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let vpc = res("aws_vpc", "main");
        assert_eq!(vpc.id().as_str(), "${aws_vpc.main.id}");
        assert_eq!(vpc.address(), "aws_vpc.main");
        let me = data("aws_caller_identity", "current");
        assert_eq!(
            me.attr("account_id").as_str(),
            "${data.aws_caller_identity.current.account_id}"
        );
        assert_eq!(
            crate::tpl!(vpc.arn(), "/${x}%{y}/", 3u16).as_str(),
            "${aws_vpc.main.arn}/$${x}%%{y}/3"
        );
        assert_eq!(Expr::lit("a${b}").as_str(), "a$${b}");
        assert_eq!(ident("product-service"), "product_service");
        assert_eq!(ident("us-east-1a"), "us_east_1a");
        assert_eq!(ident("1st"), "_1st");
        assert_eq!(ident("-x"), "_x");
        assert_eq!(ident("éA"), "_a");
        assert_eq!(ident(""), "_");
    }
}
