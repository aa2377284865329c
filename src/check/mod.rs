//! Offline checks of generated output against provider schemas.

pub mod kubernetes;
pub mod schema;
pub mod terraform;
