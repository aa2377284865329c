//! infragen: one typed YAML blueprint in, Terraform JSON and Kubernetes manifests out.
//!
//! The pipeline has the shape of a compiler: parse (`blueprint`) → merge the environment
//! overlay → typed model → semantic checks (`validate`, which returns the witness every
//! back-end requires) → per-provider back-end (`backend`) → render → write (`output`).

pub mod blueprint;
pub mod check;
pub mod diagnostic;

pub use diagnostic::{Diagnostic, Diagnostics, Span};
