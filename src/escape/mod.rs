//! Escape hatches: what a team needs that infragen does not model, added so that it is
//! checked as carefully as what infragen writes.
//!
//! - `overrides:` — RFC 7396 merge patches onto generated Terraform resources and Kubernetes
//!   manifests, applied after lowering, in blueprint order ([`overrides`]).
//! - `extra:` — minijinja templates rendered into extra Terraform files and manifests, with
//!   `ref()` to name generated components without hard-coding addresses ([`extra`]).
//!
//! Both run on the finished [`Output`]: they see exactly what the back-end wrote, whatever the
//! provider, and the back-ends need not know about them.

pub mod client_traffic;
pub mod extra;
pub mod overrides;
pub mod patch;
pub mod pod_security;
pub mod quota;

use crate::Provider;
use crate::blueprint::Loaded;
use crate::diagnostic::Diagnostics;
use crate::output::Output;

pub use crate::blueprint::escape::{Extra, Override, ProviderName};

/// Where template texts come from: given a path relative to the blueprint's folder (already
/// checked to stay inside it), its text or a message.
pub type TemplateSource<'a> = &'a (dyn Fn(&str) -> Result<String, String> + Sync);

/// A source for in-memory synthesis with no folder: every template is refused.
pub fn no_templates(path: &str) -> Result<String, String> {
    Err(format!(
        "cannot read `{path}`: templates are read from the blueprint's folder, and this blueprint was given without one"
    ))
}

/// Templates read from `dir` (the blueprint's folder). Paths are checked by
/// [`extra::confined`] before they get here; this only reads.
pub fn folder(dir: std::path::PathBuf) -> impl Fn(&str) -> Result<String, String> + Sync {
    move |rel: &str| {
        let path = dir.join(rel);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
    }
}

/// Render the extra templates into `out`, then apply the overrides, for one environment.
pub fn apply(
    loaded: &Loaded,
    provider: Provider,
    out: &mut Output,
    read: TemplateSource,
) -> Result<(), Diagnostics> {
    extra::render(loaded, provider, out, read)?;
    // Notes stay sorted, as the back-ends leave them.
    crate::diagnostic::note::sort(&mut out.notes);
    overrides::apply(loaded, provider, out)
}

/// The problems the provider schemas find in module `module` of `out`, as the output check
/// reports them: what `overrides:` and `extra:` re-check after they change a module.
/// Check module `module` of `out`; `last`, when given, is read after the module's other
/// files, so an address it declares again is reported against it (the checker reports a
/// duplicate on the second file it reads).
fn check_module(
    out: &Output,
    module: &str,
    last: Option<&str>,
) -> Vec<crate::check::terraform::Problem> {
    let prefix = format!("terraform/{module}/");
    let mut files: Vec<(String, serde_json::Value)> = out
        .files
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix) && p.ends_with(".tf.json"))
        .filter_map(|(p, t)| Some((p.clone(), serde_json::from_str(t).ok()?)))
        .collect();
    files.sort_by_key(|(p, _)| Some(p.as_str()) == last);
    crate::check::terraform::check_module(&files, crate::check::schema::ProviderSchemas::bundled())
}
