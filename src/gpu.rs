//! NVIDIA GPUs (`services[].gpu`): which node pools have them, and what a pod asks for.
//!
//! A GPU is an extended resource the device plugin advertises as `nvidia.com/gpu`; a
//! container asks for it in `limits` only (requests default to limits, and if both are
//! given they must be equal; GPUs cannot be overcommitted:
//! <https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/>).

use crate::analysis::resolve_size;
use crate::blueprint::types::{Blueprint, NodePool};
use crate::catalog::{Catalog, Provider, SizeKind};

/// The extended resource the NVIDIA device plugin advertises.
pub const RESOURCE: &str = "nvidia.com/gpu";

/// Whether an EC2 instance type has an NVIDIA GPU: `p3` on, `g4dn` on (`gr6` included), not
/// the AMD `g4ad` — the families EKS runs on its AL2023 NVIDIA AMI
/// (<https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html>).
pub fn nvidia_instance(instance: &str) -> bool {
    let family = instance.split('.').next().unwrap_or_default();
    let series = family.trim_end_matches(|c: char| !c.is_ascii_digit());
    let series = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let rest = &family[series.len()..];
    let generation: u32 = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    let suffix = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    match series {
        "p" => generation >= 3,
        "g" | "gr" => generation >= 4 && !suffix.starts_with("ad"),
        _ => false,
    }
}

/// Whether a DigitalOcean Droplet slug is an NVIDIA GPU Droplet (`gpu-h100x1-80gb`,
/// `gpu-l40sx1-48gb`, `gpu-4000adax1-20gb`); the AMD ones are `gpu-mi300x…`.
pub fn nvidia_droplet(slug: &str) -> bool {
    slug.strip_prefix("gpu-")
        .is_some_and(|rest| !rest.starts_with("mi"))
}

/// Whether `pool` has NVIDIA GPUs on `provider` (never on `kubernetes`: an existing
/// cluster's nodes are not the blueprint's).
pub fn nvidia_pool(provider: Provider, catalog: &Catalog, pool: &NodePool) -> bool {
    let Ok(size) = resolve_size(
        provider,
        catalog,
        SizeKind::Node,
        pool.size.as_deref(),
        &pool.sizes,
    ) else {
        return false;
    };
    match provider {
        Provider::Aws => nvidia_instance(&size),
        Provider::Digitalocean => nvidia_droplet(&size),
        Provider::Kubernetes => false,
    }
}

/// The blueprint's node pools with NVIDIA GPUs on `provider`.
pub fn pools<'b>(provider: Provider, catalog: &Catalog, bp: &'b Blueprint) -> Vec<&'b NodePool> {
    (bp.node_pools.iter())
        .filter(|p| nvidia_pool(provider, catalog, p))
        .collect()
}

/// The pool a GPU service's pods go to when it names none: the only GPU pool (validation
/// refuses a GPU service without `node_pool` when there are several).
pub fn default_pool<'b>(
    provider: Provider,
    catalog: &Catalog,
    bp: &'b Blueprint,
) -> Option<&'b str> {
    match pools(provider, catalog, bp).as_slice() {
        [one] => Some(one.name.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn droplets() {
        assert!(nvidia_droplet("gpu-h100x1-80gb"));
        assert!(nvidia_droplet("gpu-4000adax1-20gb"));
        assert!(!nvidia_droplet("gpu-mi300x1-192gb"));
        assert!(!nvidia_droplet("g-2vcpu-8gb"));
    }

    #[test]
    fn instances() {
        assert!(nvidia_instance("g6.xlarge"));
        assert!(nvidia_instance("p4d.24xlarge"));
        assert!(nvidia_instance("g5g.xlarge"));
        assert!(!nvidia_instance("g4ad.xlarge"));
        assert!(!nvidia_instance("m7g.large"));
        assert!(!nvidia_instance("inf2.xlarge"));
    }
}
