//! `base-incomplete`: the blueprint's base, read alone, lacks a required field that its
//! environments (or provider parts) supply. infragen merges first and accepts it, but an
//! editor checks the base against `blueprint.schema.json` on its own and flags it, which
//! teaches users to ignore the editor's errors. A warning, not an error: every synthesized
//! environment is complete (docs/blueprint.md "Environments": keep the base complete).

use crate::blueprint::Loaded;
use crate::diagnostic::Note;

pub fn warnings(loaded: &Loaded) -> Vec<Note> {
    let Some(d) = &loaded.base_incomplete else {
        return Vec::new();
    };
    let at = d
        .span
        .map(|s| format!("{}:{}:{}", loaded.file, s.line, s.col))
        .unwrap_or_else(|| loaded.file.clone());
    vec![Note::warning(
        "base-incomplete",
        format!(
            "{at}: the base (the blueprint without `environments` and `per_provider`) is not complete on its own — {} — so an editor checking it against blueprint.schema.json flags it, although the environments supply it; give it a value in the base (usually production's) that the other environments override",
            d.message
        ),
    )]
}
