//! How many containers an ECS task definition holds. ECS takes at most 10 ("Containers per
//! task definition: 10", not adjustable,
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html>):
//! RegisterTaskDefinition refuses an 11th, so `infra` would stop at the task definition.
//! A service's task holds its app container, its `init` containers and `sidecars`, and the
//! container infragen adds in front of them to prepare the task's volumes (its writable paths
//! and its databases' CA files, `backend::aws::sidecars::volume_setup`) — which a blueprint
//! with 9 extra containers, valid before that container existed, cannot see.

use super::Checker;
use super::env_references;
use crate::blueprint::types::{Blueprint, Platform, Service};
use crate::catalog::Provider;
use crate::wiring::{self, Field, Flavor, Value};

/// ECS's quota of containers in one task definition.
const MAX_CONTAINERS: usize = 10;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Aws || bp.platform() != Some(Platform::EcsFargate) {
        return;
    }
    let region = bp.providers.aws.as_ref().map_or("", |a| a.region.as_str());
    for (i, s) in bp.services.iter().enumerate() {
        let setup = usize::from(volume_setup_reason(c.provider, bp, s, region).is_some());
        let mut count = 1 + setup;
        // The extra containers in the order the task lists them (`backend::aws::sidecars`).
        let extras = (s.init.iter().enumerate().map(|(j, x)| ("init", j, x))).chain(
            s.sidecars
                .iter()
                .enumerate()
                .map(|(j, x)| ("sidecars", j, x)),
        );
        for (field, j, x) in extras {
            count += 1;
            if count == MAX_CONTAINERS + 1 {
                let total = 1 + setup + s.init.len() + s.sidecars.len();
                let with_setup = if setup == 1 {
                    format!(
                        ", `{}` (which prepares its writable paths, CA files and configuration files)",
                        wiring::CA_WRITER
                    )
                } else {
                    String::new()
                };
                c.error(
                    &format!("services[{i}].{field}[{j}]"),
                    format!(
                        "the task of `{}` would hold {total} containers (the app{with_setup}, {} init, {} sidecars) — `{}` is the {count}th; ECS takes at most {MAX_CONTAINERS} per task definition",
                        s.name,
                        s.init.len(),
                        s.sidecars.len(),
                        x.name,
                    ),
                )
                .help = Some(format!(
                    "run at most {} init containers and sidecars beside `{}` (merge some, or move one into a service of its own)",
                    MAX_CONTAINERS - 1 - setup,
                    s.name
                ));
            }
        }
    }
}

/// Why the task of `s` gets the container that prepares its volumes — the field that adds
/// it: `security.writable_paths`, `files`, or `uses` for a `_CA_FILE` of a managed database whose
/// region's RDS bundle is vendored and that `s` does not set itself; none when it gets none.
/// The back-end's own condition (`backend::aws::ecs::has_volume_setup`); `private_ecs` asks
/// it too (the container's image must be pullable without NAT).
pub(super) fn volume_setup_reason(
    provider: Provider,
    bp: &Blueprint,
    s: &Service,
    region: &str,
) -> Option<&'static str> {
    if !s.security.writable_paths.is_empty() {
        return Some("security.writable_paths");
    }
    if !s.files.is_empty() {
        return Some("files");
    }
    let flavor = |name: &str, kind| env_references::flavor(provider, bp, true, name, kind);
    let all = wiring::with_known_cas(wiring::bindings(bp, s, flavor), Flavor::Aws, region);
    wiring::without_own(s, all)
        .iter()
        .any(|b| b.value == Value::Field(Field::CaFile))
        .then_some("uses")
}
