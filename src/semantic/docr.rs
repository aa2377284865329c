//! Images in the DigitalOcean Container Registry (`registry.digitalocean.com/<registry>/…`)
//! and who logs the nodes in to it. DOCR has no anonymous pulls: "Outputs a YAML-formatted
//! Kubernetes secret manifest that can be used to grant a Kubernetes cluster pull access to
//! your private container registry" (`doctl registry kubernetes-manifest`,
//! <https://docs.digitalocean.com/reference/doctl/reference/registry/kubernetes-manifest/>).
//! Without a login the pod sits in `ImagePullBackOff` (`401 Unauthorized`), the ECS task
//! stops with `CannotPullContainerError`.
//!
//! What pulls one:
//! - on DOKS, the cluster's registry integration (`registry_integration = true`, on whenever
//!   the blueprint has a `registry`), which keeps the `registry-<name>` Secret the pods name
//!   in every namespace (`backend::digitalocean::registry`) — for that registry only;
//! - anywhere, `image_credentials`: a docker login Secret of the workload's own
//!   (`image_credentials.rs`).
//!
//! Any other DOCR image is refused at its `image` on the platforms infragen builds: on DOKS
//! without the blueprint's `registry` (integration off, so no Secret: the Terraform cluster
//! resource even turns an integration added by hand back off at the next apply) or in
//! another registry, and on EKS, EKS Fargate and ECS Fargate, where nothing logs in to DOCR.
//! On an existing cluster (`--provider kubernetes`) the nodes may hold a registry login
//! infragen cannot see (a kubelet credential provider, a node's docker config), so it is a
//! warning there.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform, Service};
use crate::catalog::Provider;
use crate::diagnostic::Note;

const HOST: &str = "registry.digitalocean.com";

/// The DOCR registry an image is in (`acme` for `registry.digitalocean.com/acme/api:1`).
fn docr_registry(image: &str) -> Option<&str> {
    let rest = image.strip_prefix(HOST)?.strip_prefix('/')?;
    rest.split('/').next().filter(|r| !r.is_empty())
}

/// The containers with a DOCR image that `image_credentials` does not cover: (field path of
/// the image, workload, the image, the image's registry). A workload's login covers its
/// app container and the sidecars and init containers of the same registry host (as the
/// output uses it: `image_credentials.rs`).
fn unauthenticated(bp: &Blueprint) -> Vec<(String, &Service, &str, &str)> {
    let mut out = Vec::new();
    for (path, s) in bp.workloads_at() {
        let main = std::iter::once((format!("{path}.image"), s.image.as_str()));
        let extra = (s.sidecars.iter().enumerate())
            .map(|(i, c)| (format!("{path}.sidecars[{i}].image"), c.image.as_str()))
            .chain(
                (s.init.iter().enumerate())
                    .map(|(i, c)| (format!("{path}.init[{i}].image"), c.image.as_str())),
            );
        for (at, image) in main.chain(extra) {
            let Some(registry) = docr_registry(image) else {
                continue;
            };
            if s.image_credentials.is_some() && docr_registry(&s.image).is_some() {
                continue;
            }
            out.push((at, s, image, registry));
        }
    }
    out
}

/// Workloads a `docr-pull` warning names before counting the rest.
const LISTED: usize = 8;

/// On an existing cluster: one warning per registry, naming the workloads that pull from it
/// (a stack of ten services in one registry is one line, not ten).
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    if bp.platform_on(provider) != Some(Platform::Existing) {
        return Vec::new();
    }
    // Registry → its workloads, each once (a sidecar of the same workload adds nothing).
    let mut by_registry: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    for (_, s, image, registry) in unauthenticated(bp) {
        let names = by_registry.entry(registry).or_default();
        if !names.iter().any(|(n, _)| *n == s.name) {
            names.push((&s.name, image));
        }
    }
    by_registry
        .into_iter()
        .map(|(registry, names)| {
            let listed: Vec<String> = (names.iter().take(LISTED))
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            let mut listed = listed.join(", ");
            if names.len() > LISTED {
                listed.push_str(&format!(" and {} more", names.len() - LISTED));
            }
            let (who, pods, give) = match names.as_slice() {
                [(name, image)] => (
                    format!("`{name}`'s image `{image}` is"),
                    "its",
                    format!("`{name}`"),
                ),
                _ => (
                    format!(
                        "{} workloads' images ({}) are",
                        names.len(),
                        listed
                    ),
                    "their",
                    "each".to_string(),
                ),
            };
            Note::warning(
                "docr-pull",
                format!(
                    "{who} in the DigitalOcean Container Registry `{registry}`, which allows no anonymous pulls, and {pods} pods name no image pull Secret: unless the cluster's nodes are logged in to it themselves, they never start (`ImagePullBackOff`, 401 Unauthorized). Give {give} an `image_credentials` secret holding a read token of `{registry}` (`doctl registry docker-config`; docs/blueprint.md \"Private images\")"
                ),
            )
        })
        .collect()
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform_on(c.provider);
    if matches!(platform, None | Some(Platform::Existing)) {
        return;
    }
    // The registry the DOKS cluster is integrated with, `{env}` resolved.
    let integrated = (platform == Some(Platform::Doks))
        .then_some(bp.registry.as_ref())
        .flatten()
        .filter(|_| {
            (bp.cluster.as_ref())
                .and_then(|cl| cl.registry_integration)
                .unwrap_or(true)
        })
        .map(|r| {
            (r.name.clone())
                .unwrap_or_else(|| bp.name.clone())
                .replace("{env}", &c.loaded.env)
        });
    for (at, s, image, registry) in unauthenticated(bp) {
        if integrated.as_deref() == Some(registry) {
            continue;
        }
        let (why, help) = match (platform, &integrated) {
            (Some(Platform::Doks), Some(own)) => (
                format!(
                    "the cluster's registry integration logs it in to the blueprint's registry `{own}` only"
                ),
                format!(
                    "push the image to `{HOST}/{own}/…`, or give `{}` an `image_credentials` secret with a read token of `{registry}` (`doctl registry docker-config`; docs/blueprint.md \"Private images\")",
                    s.name
                ),
            ),
            (Some(Platform::Doks), None) => (
                if bp.registry.is_some() {
                    "`cluster.registry_integration: false` leaves the cluster without a registry login".to_string()
                } else {
                    "the blueprint has no `registry`, so the cluster gets no registry integration and the pods no pull Secret".to_string()
                },
                format!(
                    "declare the registry (`registry: {{ name: {registry}, repositories: [...] }}`; an existing one is imported: `terraform import digitalocean_container_registry.main {registry}` in the module that creates it), or give `{}` an `image_credentials` secret with a read token (`doctl registry docker-config`)",
                    s.name
                ),
            ),
            _ => (
                format!(
                    "nothing on {} logs in to the DigitalOcean Container Registry (DOKS's registry integration exists on DOKS only)",
                    c.provider.title()
                ),
                format!(
                    "give `{}` an `image_credentials` secret holding a read token of `{registry}` (`doctl registry docker-config`; docs/blueprint.md \"Private images\"), or pull the image from a registry of this platform (set it in `per_provider`)",
                    s.name
                ),
            ),
        };
        c.error(
            &at,
            format!(
                "`{}`'s image `{image}` is in the DigitalOcean Container Registry `{registry}`, which allows no anonymous pulls, and {why}: the pods would never start (`ImagePullBackOff`, 401 Unauthorized)",
                s.name
            ),
        )
        .help = Some(help);
    }
}

#[cfg(test)]
mod tests {
    use super::docr_registry;

    #[test]
    fn the_registry_is_the_first_path_component_on_docrs_host() {
        assert_eq!(
            docr_registry("registry.digitalocean.com/acme/api:1.0"),
            Some("acme")
        );
        assert_eq!(
            docr_registry("registry.digitalocean.com/acme/team/api@sha256:00"),
            Some("acme")
        );
        assert_eq!(docr_registry("ghcr.io/acme/api:1.0"), None);
        assert_eq!(
            docr_registry("registry.digitalocean.com.evil/acme/a:1"),
            None
        );
        assert_eq!(docr_registry("acme/api:1.0"), None);
    }
}
