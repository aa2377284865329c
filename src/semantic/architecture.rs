//! The CPU architecture of a workload's image (`architecture`) against where it can run. A
//! container started on the other architecture exits at once with `exec format error`, and
//! nothing before the pod's first start says so.
//!
//! `multi` (a multi-platform image) runs anywhere and is not judged.
//!
//! - EKS with node groups: Graviton instance types (`t4g`, `m7g`, …) run `arm64` nodes
//!   (the AL2023 Arm AMI), every other type `amd64`. A workload's pods go to its
//!   `node_pool`, else to any pool without a `NoSchedule` / `NoExecute` taint. An
//!   architecture none of those pools has is refused (its pods would stay Pending under the
//!   `kubernetes.io/arch` selector); a workload without one that can land on a Graviton pool
//!   is warned about (`node-architecture`): an amd64-only image crashes there.
//! - EKS on Fargate runs x86-64 pods only (Graviton for EKS Fargate is an open request,
//!   <https://github.com/aws/containers-roadmap/issues/1629>), and DOKS node pools are
//!   x86-64 Droplets: `arm64` is refused on both.
//! - ECS Fargate takes either (`runtimePlatform.cpuArchitecture`); an existing cluster's
//!   nodes are not known here, so the selector alone.
//!
//! GPU workloads without a `node_pool` go to the GPU pool (`semantic::gpu`), not judged here.

use super::Checker;
use crate::analysis::resolve_size;
use crate::blueprint::types::{Architecture, Blueprint, NodePool, Platform, Service, TaintEffect};
use crate::catalog::{Provider, SizeKind};
use crate::diagnostic::Note;

/// The architecture of an EKS node pool's nodes, when its instance type resolves.
fn pool_architecture(provider: Provider, pool: &NodePool) -> Option<Architecture> {
    let size = resolve_size(
        provider,
        provider.catalog(),
        SizeKind::Node,
        pool.size.as_deref(),
        &pool.sizes,
    )
    .ok()?;
    Some(if crate::catalog::graviton(&size) {
        Architecture::Arm64
    } else {
        Architecture::Amd64
    })
}

/// The pools a workload's pods may be scheduled on, with their architectures.
fn candidates<'b>(
    provider: Provider,
    bp: &'b Blueprint,
    s: &Service,
) -> Vec<(&'b NodePool, Architecture)> {
    bp.node_pools
        .iter()
        .filter(|p| match &s.node_pool {
            Some(name) => &p.name == name,
            // Pods without tolerations stay off a pool tainted NoSchedule or NoExecute.
            None => !p
                .taints
                .iter()
                .any(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)),
        })
        .filter_map(|p| Some((p, pool_architecture(provider, p)?)))
        .collect()
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform_on(c.provider);
    // A job's `pod()` carries its `architecture`, `node_pool` and `gpu`.
    for (path, s) in bp.workloads_at() {
        let Some(arch) = s.architecture.filter(|a| *a != Architecture::Multi) else {
            continue;
        };
        let label = arch.label().unwrap_or_default();
        let at = format!("{path}.architecture");
        match (c.provider, platform) {
            (Provider::Aws, Some(Platform::EksFargate)) if arch == Architecture::Arm64 => {
                c.error(
                    &at,
                    format!(
                        "`{}`: EKS on Fargate runs x86-64 (amd64) pods only, so an arm64 image never starts there",
                        s.name
                    ),
                )
                .help = Some(
                    "build the image for amd64 too (`docker buildx build --platform linux/amd64,linux/arm64`) and say `architecture: amd64`, or run on `platform: eks` with a Graviton node pool (`t4g`, `m7g`, …) or `ecs_fargate`"
                        .into(),
                );
            }
            (Provider::Digitalocean, Some(_)) if arch == Architecture::Arm64 => {
                c.error(
                    &at,
                    format!(
                        "`{}`: DOKS node pools are x86-64 (amd64) Droplets, so an arm64 image never starts there",
                        s.name
                    ),
                )
                .help = Some(
                    "build the image for amd64 (`docker buildx build --platform linux/amd64,linux/arm64`) and say `architecture: amd64`"
                        .into(),
                );
            }
            (Provider::Aws, Some(Platform::Eks)) if s.gpu.is_none() || s.node_pool.is_some() => {
                let pools = candidates(c.provider, bp, s);
                if pools.is_empty() || pools.iter().any(|(_, a)| *a == arch) {
                    continue;
                }
                let listed: Vec<String> = pools
                    .iter()
                    .map(|(p, a)| format!("`{}` ({})", p.name, a.label().unwrap_or_default()))
                    .collect();
                c.error(
                    &at,
                    format!(
                        "`{}`: no node pool its pods may run on has {} nodes ({}): under the `kubernetes.io/arch: {}` node selector they stay Pending",
                        s.name,
                        label,
                        listed.join(", "),
                        label
                    ),
                )
                .help = Some(match arch {
                    Architecture::Arm64 => "add a node pool of a Graviton instance type (`t4g`, `m7g`, `c7g`, `r7g`, …) or build the image for amd64 too (`docker buildx build --platform linux/amd64,linux/arm64`)".into(),
                    Architecture::Amd64 | Architecture::Multi => "add a node pool of an x86-64 instance type (`t3`, `m7i`, `c7i`, …) or build the image for arm64 too (`docker buildx build --platform linux/amd64,linux/arm64`)".into(),
                });
            }
            _ => {}
        }
    }
}

/// EKS workloads without an `architecture` whose pods may land on a Graviton pool.
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    if provider != Provider::Aws || bp.platform_on(provider) != Some(Platform::Eks) {
        return Vec::new();
    }
    bp.workloads_at()
        .filter(|(_, s)| s.architecture.is_none() && (s.gpu.is_none() || s.node_pool.is_some()))
        .filter_map(|(_, s)| {
            let arm: Vec<String> = candidates(provider, bp, s)
                .into_iter()
                .filter(|(_, a)| *a == Architecture::Arm64)
                .map(|(p, _)| format!("`{}`", p.name))
                .collect();
            (!arm.is_empty()).then(|| {
                Note::warning(
                    "node-architecture",
                    format!(
                        "`{}`: its pods may run on the Graviton (arm64) nodes of pool {}: an image built for amd64 only exits there with `exec format error`. Say which architecture the image is built for: `architecture: amd64` or `arm64` (a `kubernetes.io/arch` node selector), or `multi` for a multi-platform image (`docker buildx build --platform linux/amd64,linux/arm64`)",
                        s.name,
                        arm.join(", ")
                    ),
                )
            })
        })
        .collect()
}
