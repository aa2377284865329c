//! Integration tests: one binary. Golden snapshots of every shipped blueprint × provider ×
//! environment (validated against the vendored provider schemas), error messages of the
//! invalid-input cases, the command line, and determinism.

// The in-process tests (golden, fuzz, determinism, …, on the harness's threads) run on the
// binary's allocator too, so every one of them also exercises it.
#[cfg(target_os = "linux")]
#[global_allocator]
static HEAP: infragen::heap::Blocks = infragen::heap::Blocks;

mod cli;
mod deployable;
mod determinism;
mod diff;
mod eks;
mod errors;
mod examples;
mod fuzz;
mod golden;
mod manifests;
mod support;
