//! `services[].gpu` and `jobs[].gpu`: NVIDIA GPUs for a service's pods or a job's pod
//! (`crate::gpu`; a job's pod is built as a service's, `Job::pod`).
//!
//! Refused where no node could satisfy the request, since such a pod would stay Pending
//! forever (a rollout that never finishes):
//! - ECS Fargate: "Fargate doesn't support GPUs" — ECS runs GPU tasks on EC2 container
//!   instances only (Amazon ECS developer guide, "Amazon ECS task definitions for GPU
//!   workloads", docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu.html).
//! - EKS Fargate: "GPUs aren't currently available on Fargate" (Amazon EKS user guide,
//!   "Fargate considerations", docs.aws.amazon.com/eks/latest/userguide/fargate.html).
//! - EKS / DOKS without a node pool of an NVIDIA instance type or Droplet, or with the
//!   service's `node_pool` naming a pool without GPUs.
//!
//! On an existing cluster (`--provider kubernetes`) the cluster's nodes are not the
//! blueprint's: its GPU nodes and device plugin are assumed.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform, Service};
use crate::catalog::Provider;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform_on(c.provider);
    let catalog = c.provider.catalog();
    let gpu_pools: Vec<&str> = crate::gpu::pools(c.provider, catalog, bp)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for (at, s) in bp.workloads_at() {
        let Some(n) = s.gpu else { continue };
        let path = format!("{at}.gpu");
        if n == 0 {
            c.error(&path, "0 GPUs asks for none").expected =
                Some("a count of at least 1, or no `gpu`".into());
            continue;
        }
        match (c.provider, platform) {
            (Provider::Aws, Some(Platform::EcsFargate)) => {
                let d = c.error(
                    &path,
                    format!("ECS Fargate has no GPUs: `{}` could never start", s.name),
                );
                d.expected = Some("`platform: eks` with a node pool of a GPU instance type".into());
                d.help = Some("ECS runs GPU tasks on EC2 container instances only (docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu.html); use `cluster: { platform: eks }` with a node pool such as `{ name: gpu, size: g6.xlarge, min: 1, max: 2 }`".into());
            }
            (Provider::Aws, Some(Platform::EksFargate)) => {
                let d = c.error(
                    &path,
                    format!(
                        "EKS Fargate has no GPUs: the pods of `{}` would stay Pending",
                        s.name
                    ),
                );
                d.expected = Some("`platform: eks` with a node pool of a GPU instance type".into());
                d.help = Some("\"GPUs aren't currently available on Fargate\" (docs.aws.amazon.com/eks/latest/userguide/fargate.html): use `platform: eks` with a node pool such as `{ name: gpu, size: g6.xlarge, min: 1, max: 2 }`".into());
            }
            (Provider::Aws, Some(Platform::Eks))
            | (Provider::Digitalocean, Some(Platform::Doks)) => {
                placed(c, bp, &at, s, &gpu_pools);
            }
            _ => {}
        }
    }
}

/// A GPU service or job (`at`: `services[i]`, `jobs[i]`; `s`: its pod) on a cluster
/// infragen creates lands on a GPU pool: the one it names, else the only one there is.
fn placed(c: &mut Checker, bp: &Blueprint, at: &str, s: &Service, gpu_pools: &[&str]) {
    let example = match c.provider {
        Provider::Digitalocean => {
            "`{ name: gpu, size: gpu-4000adax1-20gb, min: 1, max: 1 }` (GPU Droplets: gpu-4000adax1-20gb, gpu-l40sx1-48gb, gpu-h100x1-80gb, …)"
        }
        _ => {
            "`{ name: gpu, size: g6.xlarge, min: 1, max: 2 }` (NVIDIA instance types: g4dn, g5, g6, g6e, p4d, p5, …)"
        }
    };
    let target = s.node_pool.as_deref().or(match gpu_pools {
        [one] => Some(*one),
        _ => None,
    });
    if let Some(p) = target.and_then(|t| bp.node_pools.iter().find(|p| p.name == t))
        && let Ok(size) = crate::analysis::resolve_size(
            c.provider,
            c.provider.catalog(),
            crate::catalog::SizeKind::Node,
            p.size.as_deref(),
            &p.sizes,
        )
        && let Some(has) = crate::gpu::per_node(c.provider, &size)
        && s.gpu.is_some_and(|n| n > has)
    {
        // A pod's containers share one node: more GPUs than a node has never fit.
        let larger = match c.provider {
            Provider::Digitalocean => {
                "use a GPU Droplet with more GPUs for the pool (`gpu-h100x8-640gb` has 8), or split the model across pods"
            }
            _ => {
                "use a larger size for the pool (g5/g6/g6e `12xlarge` have 4 GPUs, `48xlarge` 8; p4d/p5 8), or split the model across pods"
            }
        };
        let d = c.error(
            &format!("{at}.gpu"),
            format!(
                "`{}` asks for {} GPUs per pod, and a node of pool `{}` ({size}) has {has}: its pods would stay Pending",
                s.name,
                s.gpu.unwrap_or_default(),
                p.name
            ),
        );
        d.expected = Some(format!("at most {has}"));
        d.help = Some(larger.into());
    }
    if let Some(pool) = &s.node_pool {
        // An unknown name is `references`' to report.
        if bp.node_pools.iter().any(|p| &p.name == pool) && !gpu_pools.contains(&pool.as_str()) {
            let d = c.error(
                &format!("{at}.node_pool"),
                format!(
                    "node pool `{pool}` has no NVIDIA GPU, and `{}` asks for {} (`gpu`)",
                    s.name,
                    s.gpu.unwrap_or(1)
                ),
            );
            d.expected = Some(if gpu_pools.is_empty() {
                "a node pool of an NVIDIA GPU size".to_string()
            } else {
                crate::diagnostic::one_of(gpu_pools.iter().copied())
            });
            d.help = Some(format!(
                "name a GPU pool, or add one under `node_pools`, e.g. {example}"
            ));
        }
        return;
    }
    match gpu_pools {
        [] => {
            // DigitalOcean taints its NVIDIA GPU nodes `nvidia.com/gpu:NoSchedule` itself ("You
            // do not need to apply this taint manually",
            // docs.digitalocean.com/products/kubernetes/how-to/add-node-pools/); a second
            // taint of that key and effect from the pool is one a node cannot carry twice.
            let taint = match c.provider {
                Provider::Digitalocean => {
                    "DigitalOcean taints it `nvidia.com/gpu:NoSchedule` itself"
                }
                _ => "tainted `nvidia.com/gpu` to keep other pods off it",
            };
            let d = c.error(
                &format!("{at}.gpu"),
                format!("`{}` asks for NVIDIA GPUs, and no node pool has any: its pods would stay Pending", s.name),
            );
            d.expected = Some("a node pool of an NVIDIA GPU size".into());
            d.help = Some(format!(
                "add a GPU pool under `node_pools`, e.g. {example}, {taint}"
            ));
        }
        [_] => {}
        _ => {
            let d = c.error(
                &format!("{at}.gpu"),
                format!(
                    "`{}` asks for NVIDIA GPUs, and several node pools have them",
                    s.name
                ),
            );
            d.expected = Some(format!(
                "`node_pool`: {}",
                crate::diagnostic::one_of(gpu_pools.iter().copied())
            ));
        }
    }
}
