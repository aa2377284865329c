//! The only code that knows YAML: parsing with positions, environment overlays, and the raw
//! serde types of the blueprint.

pub mod de;
pub mod node;
pub mod overlay;
