//! The base of a blueprint read alone, as an editor reads it: `blueprint.schema.json` checks
//! the document's top against the complete `Blueprint` and the environments and provider
//! parts against their partial twins (`schema.rs`), so a required field that only the
//! environments supply (`network.cidr` per environment) is flagged in the base although every
//! merged environment is complete and `load` accepts it. docs/blueprint.md "Environments"
//! asks for a complete base; this finds the field that breaks it, for the `base-incomplete`
//! warning (`semantic::base_incomplete`).

use super::{Blueprint, Node, de, substitute_env};
use crate::diagnostic::Diagnostic;

/// Why `base` (the document without `environments` and `per_provider`, as `load` split it)
/// is not a blueprint of its own once `{env}` is substituted as for `env`; `None` when it is.
pub fn incomplete(base: &Node, env: &str) -> Option<Diagnostic> {
    let mut root = base.clone();
    substitute_env(&mut root, env);
    de::from_node::<Blueprint>(&root).err()
}
