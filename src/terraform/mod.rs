//! The Terraform JSON document: modules, files by concern, resources, data sources,
//! providers, backend, variables, locals, outputs and `moved` blocks — built as typed values,
//! never spliced as strings — plus typed references and the canonical renderer.

mod document;
mod expr;
mod json;
mod render;
pub mod sg_rules;
pub mod unique;

pub use document::{File, Module, Named, Rendered};
pub use expr::{Expr, Part, Ref, data, ident, interp, list, local, res, var};
pub use json::{Json, Key, Literal, Object, ToJson, plain_literal};
pub use render::render_json;
pub(crate) use render::write_json_string;
