//! The base of a blueprint read alone, as an editor reads it: `blueprint.schema.json` checks
//! the document's top against the complete `Blueprint` and the environments and provider
//! parts against their partial twins (`schema.rs`), so a required field that only the
//! environments supply (`network.cidr` per environment) is flagged in the base although every
//! merged environment is complete and `load` accepts it. docs/blueprint.md "Environments"
//! asks for a complete base; this finds the field that breaks it, for the `base-incomplete`
//! warning (`semantic::base_incomplete`).

use super::{Blueprint, Loaded, Node, de, node, per_provider, substitute_env, take_key};
use crate::diagnostic::Diagnostic;

/// Why the base of `loaded` (the document without `environments` and `per_provider`, `{env}`
/// substituted as for its environment) is not a blueprint of its own; `None` when it is, or
/// when there are no overlays (the base is then what was loaded).
pub fn incomplete(loaded: &Loaded) -> Option<Diagnostic> {
    let mut root: Node = node::parse(&loaded.text).ok()?;
    let envs = take_key(&mut root, "environments");
    let parts = take_key(&mut root, per_provider::KEY);
    if envs.is_none() && parts.is_none() {
        return None;
    }
    substitute_env(&mut root, &loaded.env);
    de::from_node::<Blueprint>(&root).err()
}
