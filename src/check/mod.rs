//! Offline checks of generated output against provider schemas.
