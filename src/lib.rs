//! infragen: one typed YAML blueprint in, Terraform JSON and Kubernetes manifests out.
//!
//! The pipeline has the shape of a compiler: parse (`blueprint`) → merge the environment
//! overlay → typed blueprint → semantic checks (`validate`, which returns the witness every
//! back-end requires) → per-provider back-end (`backend`) → render → write (`output`).

// Diagnostics are rich (position, snippet, expectation, help) and only built on the cold
// error path; boxing them would buy nothing.
#![allow(clippy::result_large_err)]

pub mod backend;
pub mod blueprint;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod k8s;
pub mod output;
pub mod terraform;
pub mod validate;

pub use backend::Output;
pub use catalog::Provider;
pub use diagnostic::{Diagnostic, Diagnostics, Span};

/// The whole pipeline in memory: blueprint bytes (named `file` in messages) → output files.
pub fn synthesize(
    file: &str,
    bytes: &[u8],
    provider: Provider,
    env: &str,
) -> Result<Output, Diagnostics> {
    let loaded = blueprint::load(file, bytes, env)?;
    let validated = validate::validate(&loaded, provider)?;
    Ok(backend::synth(&validated))
}
