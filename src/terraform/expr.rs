//! Typed references (`${aws_vpc.main.id}`) and names.
//!
//! Interpolations are written with a private marker instead of `$`, and the renderer turns
//! every marker into `${` only after escaping every literal `${`/`%{` to `$${`/`%%{`. So text
//! from a blueprint (tags, descriptions, env values, IAM conditions) can never become an
//! interpolation, and intended references need no care at the call site.

use crate::blueprint::RESERVED_CHAR as MARK;

/// Any Terraform expression as a template interpolation, e.g. `interp("jsonencode(x)")`.
pub fn interp(expr: &str) -> String {
    format!("{MARK}{{{expr}}}")
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
        interp(&self.path(attr))
    }

    /// `aws_vpc.main.<attr>` as a bare expression, for building larger expressions.
    pub fn path(&self, attr: &str) -> String {
        format!("{}.{attr}", self.address())
    }

    pub fn id(&self) -> String {
        self.attr("id")
    }

    pub fn arn(&self) -> String {
        self.attr("arn")
    }

    /// `aws_vpc.main`, as `depends_on` and `moved` want it (no interpolation).
    pub fn address(&self) -> String {
        format!("{}{}.{}", self.prefix, self.ty, self.name)
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
    interp(&format!("var.{}", ident(name)))
}

/// `${local.<name>}`.
pub fn local(name: &str) -> String {
    interp(&format!("local.{}", ident(name)))
}

/// A Terraform identifier from a blueprint name: `product-service` → `product_service`.
/// Blueprint names are DNS labels (validated), so this is one-to-one.
pub fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
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
    }
}
