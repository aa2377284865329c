//! Typed references (`${aws_vpc.main.id}`) and names.
//!
//! Interpolations are written with a private marker instead of `$`, and the renderer turns
//! every marker into `${` only after escaping every literal `${`/`%{` to `$${`/`%%{`. So text
//! from a blueprint (tags, descriptions, env values, IAM conditions) can never become an
//! interpolation, and intended references need no care at the call site.

use crate::blueprint::RESERVED_CHAR as MARK;

/// Any Terraform expression as a template interpolation, e.g. `interp("jsonencode(x)")`.
pub fn interp(expr: &str) -> String {
    interp_of(&[expr])
}

/// The interpolation of the concatenated `parts`, built in one allocation.
fn interp_of(parts: &[&str]) -> String {
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + MARK.len_utf8() + 2;
    let mut s = String::with_capacity(len);
    s.push(MARK);
    s.push('{');
    for p in parts {
        s.push_str(p);
    }
    s.push('}');
    s
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
    pub fn attr(&self, attr: &str) -> String {
        interp_of(&[self.prefix, self.ty, ".", &self.name, ".", attr])
    }

    /// `aws_vpc.main.<attr>` as a bare expression, for building larger expressions.
    pub fn path(&self, attr: &str) -> String {
        [self.prefix, self.ty, ".", &self.name, ".", attr].concat()
    }

    pub fn id(&self) -> String {
        self.attr("id")
    }

    pub fn arn(&self) -> String {
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
pub fn list(paths: &[String]) -> String {
    interp(&format!("[{}]", paths.join(", ")))
}

/// `${var.<name>}`.
pub fn var(name: &str) -> String {
    interp_of(&["var.", &ident(name)])
}

/// `${local.<name>}`.
pub fn local(name: &str) -> String {
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
        assert_eq!(crate::terraform::unmark(&vpc.id()), "${aws_vpc.main.id}");
        assert_eq!(vpc.address(), "aws_vpc.main");
        let me = data("aws_caller_identity", "current");
        assert_eq!(
            crate::terraform::unmark(&me.attr("account_id")),
            "${data.aws_caller_identity.current.account_id}"
        );
        assert_eq!(ident("product-service"), "product_service");
        assert_eq!(ident("us-east-1a"), "us_east_1a");
        assert_eq!(ident("1st"), "_1st");
        assert_eq!(ident("-x"), "_x");
        assert_eq!(ident("éA"), "_a");
        assert_eq!(ident(""), "_");
    }
}
