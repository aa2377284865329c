//! infragen: one typed YAML blueprint in, Terraform JSON and Kubernetes manifests out.
//!
//! The pipeline has the shape of a compiler: parse (`blueprint`) → merge the environment
//! overlay → typed blueprint → semantic analysis (`semantic::analyze`, which returns the
//! `analysis::Validated` witness every back-end requires; not to be confused with the CLI
//! verb `validate`, which runs the independent output checks of `check`) → per-provider back-end
//! (`backend`) → escape hatches (`escape`) → render → write (`output`).
//!
//! The top-level modules are layers with no cycle between them (README "Layout";
//! `tests/it/layers.rs` enforces it).

// Diagnostics are rich (position, snippet, expectation, help) and only built on the cold
// error path; boxing them would buy nothing.
#![allow(clippy::result_large_err)]
#![forbid(unsafe_code)]

pub mod analysis;
pub mod backend;
pub mod blueprint;
pub mod catalog;
pub mod cli;
pub mod diagnostic;
pub mod diff;
pub mod escape;
pub mod gpu;
pub mod k8s;
pub mod naming;
pub mod output;
pub mod releases;
pub mod semantic;
pub mod terraform;
pub mod wiring;

/// Offline checks of the output (the `infragen-check` crate, `crates/check/`), as
/// `infragen::check`.
pub use infragen_check as check;

pub use catalog::Provider;
pub use diagnostic::{Diagnostic, Diagnostics, Span};
pub use output::Output;

/// The whole pipeline in memory: blueprint bytes (named `file` in messages) → output files.
pub fn synthesize(
    file: &str,
    bytes: &[u8],
    provider: Provider,
    env: &str,
) -> Result<Output, Diagnostics> {
    let loaded = blueprint::load(file, bytes, provider, env)?;
    synthesize_loaded(&loaded)
}

/// Validate and lower a loaded blueprint for the provider it was loaded (merged) for. Components marked `renamed_from` get Terraform
/// `moved` blocks (`terraform/<module>/moved.tf.json`), found by lowering the blueprint as it
/// was before the renames and pairing the resources that changed name.
pub fn synthesize_loaded(loaded: &blueprint::Loaded) -> Result<Output, Diagnostics> {
    synthesize_with(loaded, &escape::no_templates)
}

/// [`synthesize_loaded`] with the blueprint's `extra:` templates read through `templates`
/// (the CLI passes [`escape::folder`] of the blueprint's folder); `overrides:` and `extra:`
/// apply after lowering, so they see, and may change, exactly what the back-end wrote.
pub fn synthesize_with(
    loaded: &blueprint::Loaded,
    templates: escape::TemplateSource,
) -> Result<Output, Diagnostics> {
    let provider = loaded.provider;
    let validated = semantic::analyze(loaded)?;
    let room = backend::room(&validated);
    if !room.refusals.is_empty() {
        return Err(loaded.diagnostics(room.refusals));
    }
    let mut out = backend::synth(&validated);
    out.notes.extend(room.warnings);
    diagnostic::note::sort(&mut out.notes);
    backend::collisions::refuse(loaded, &out)?;
    let renames = blueprint::renames(&loaded.blueprint);
    if !renames.is_empty() {
        let before = blueprint::before_renames(loaded, &renames)?;
        if let Ok(v) = semantic::analyze(&before) {
            let base = backend::synth(&v);
            let header = naming::header(&validated);
            for (module, pairs) in diff::renames::moved(&base, &out, &renames) {
                out.files.insert(
                    format!("terraform/{module}/moved.tf.json"),
                    diff::renames::moved_file(&pairs, &header),
                );
            }
        }
    }
    escape::apply(loaded, provider, &mut out, templates)?;
    escape::quota::check(&validated, &out)?;
    backend::collisions::refuse_after_escape(loaded, &out)?;
    if provider == Provider::Aws {
        backend::aws::drop_admitted_data_warnings(&mut out);
    }
    Ok(out)
}
