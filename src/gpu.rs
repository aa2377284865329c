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
    // `p6-b200`, `p6-b300`: the family before the GPU's name (AL2023 x86_64 NVIDIA, by the
    // table of the page above).
    let family = instance.split(['.', '-']).next().unwrap_or_default();
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

/// GPUs on one node of an NVIDIA size, where known: EC2's accelerated computing instance
/// specifications (docs.aws.amazon.com/ec2/latest/instancetypes/ac.html; the multi-GPU
/// sizes of each family, its others having one), DigitalOcean's slug (`gpu-h100x8-640gb`: 8).
/// `None` for a size not listed: not checked.
pub fn per_node(provider: Provider, size: &str) -> Option<u32> {
    if provider == Provider::Digitalocean {
        let model = size.strip_prefix("gpu-")?.split('-').next()?;
        return model.rsplit_once('x')?.1.parse().ok();
    }
    let (family, size) = size.split_once('.')?;
    Some(match (family, size) {
        ("g4dn", "12xlarge") => 4,
        ("g4dn", "metal") => 8,
        ("g5" | "g6" | "g6e", "12xlarge" | "24xlarge") => 4,
        ("g5" | "g6" | "g6e", "48xlarge") => 8,
        ("g5g", "16xlarge" | "metal") => 2,
        ("g4dn" | "g5" | "g6" | "g6e" | "gr6" | "g5g", _) => 1,
        ("p3", "2xlarge") => 1,
        ("p3", "8xlarge") => 4,
        ("p3", "16xlarge") | ("p3dn", "24xlarge") => 8,
        ("p4d" | "p4de", "24xlarge") => 8,
        ("p5", "4xlarge") => 1,
        ("p5" | "p5e" | "p5en" | "p6-b200" | "p6-b300", "48xlarge") => 8,
        _ => return None,
    })
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
    fn gpus_per_node() {
        use Provider::{Aws, Digitalocean};
        assert_eq!(per_node(Digitalocean, "gpu-h100x8-640gb"), Some(8));
        assert_eq!(per_node(Digitalocean, "gpu-4000adax1-20gb"), Some(1));
        assert_eq!(per_node(Aws, "g6.xlarge"), Some(1));
        assert_eq!(per_node(Aws, "g5.12xlarge"), Some(4));
        assert_eq!(per_node(Aws, "p4d.24xlarge"), Some(8));
        assert_eq!(per_node(Aws, "p6-b200.48xlarge"), Some(8));
        assert_eq!(per_node(Aws, "p6e-gb200.36xlarge"), None);
    }

    #[test]
    fn instances() {
        assert!(nvidia_instance("g6.xlarge"));
        assert!(nvidia_instance("p4d.24xlarge"));
        assert!(nvidia_instance("g5g.xlarge"));
        assert!(nvidia_instance("p6-b200.48xlarge"));
        assert!(!nvidia_instance("g4ad.xlarge"));
        assert!(!nvidia_instance("m7g.large"));
        assert!(!nvidia_instance("inf2.xlarge"));
    }
}
