//! The DOKS cluster's own networks: the pod network (`cluster_subnet`) and the Service
//! network (`service_subnet`), set explicitly on every new cluster.
//!
//! Without them the cluster's networking is whatever DigitalOcean makes of a create request
//! that names none: so far the legacy overlay network (pods `10.244.0.0/16`, Services
//! `10.245.0.0/16`), on which DOKS's own Gateway API implementation (Cilium) never programs a
//! Gateway; with them the cluster is VPC-native — pods take routable addresses of the
//! account's private network — which DigitalOcean requires for its managed Gateway API
//! ("enabled by default on clusters with VPC-native networking running Kubernetes version
//! 1.33 or later", <https://docs.digitalocean.com/products/kubernetes/how-to/use-gateway-api/>;
//! clusters created without both ranges "use legacy overlay networking",
//! terraform-do-modules/terraform-digitalocean-kubernetes#73). Naming them makes the
//! output independent of that default.
//!
//! Both ranges are routed in the account like a VPC's, so they must overlap neither each
//! other, nor the cluster's VPC, nor another network of the account. They are derived, per
//! environment in the blueprint's order, from `172.16.0.0/12` — outside `10.0.0.0/8`, where
//! DigitalOcean places the default VPC of each region — taking the first `/16` that no
//! environment's `network.cidr` overlaps and no earlier environment took: pods the lower
//! `/17` (32 768 addresses), Services a `/20` of the upper half. Networks of the account the
//! blueprint does not declare are not known here; where they lie in that range,
//! `providers.digitalocean.cluster_subnet` / `service_subnet` name the ranges instead
//! (checked in `semantic::network`), and the derivation steps around them.
//!
//! Both arguments force a new cluster (`ForceNew` in the provider): a cluster created
//! before infragen set them keeps the legacy ranges through `lifecycle.ignore_changes`
//! (`cluster.rs`), so an upgrade of infragen never replaces a running cluster.

use ipnet::Ipv4Net;

use super::Ctx;

/// The two ranges of one environment's cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlay {
    pub pods: Ipv4Net,
    pub services: Ipv4Net,
}

/// The overlay networks DOKS gave clusters created without ranges (the API's
/// `cluster_subnet` / `service_subnet` of such a cluster), never handed out again.
const LEGACY: [&str; 2] = ["10.244.0.0/16", "10.245.0.0/16"];

/// What one environment declares: its VPC range and the cluster ranges it names
/// (`providers.digitalocean.cluster_subnet` / `service_subnet`, both or none).
#[derive(Default)]
struct Networks {
    vpc: Option<Ipv4Net>,
    named: Option<Overlay>,
}

impl Networks {
    fn of(bp: &crate::blueprint::types::Blueprint) -> Self {
        let parse = |s: Option<&String>| s.and_then(|t| t.parse::<Ipv4Net>().ok());
        let d = bp.providers.digitalocean.as_ref();
        let named = match (
            parse(d.and_then(|d| d.cluster_subnet.as_ref())),
            parse(d.and_then(|d| d.service_subnet.as_ref())),
        ) {
            (Some(pods), Some(services)) => Some(Overlay { pods, services }),
            _ => None,
        };
        Networks {
            vpc: parse(bp.network.as_ref().map(|n| &n.cidr)),
            named,
        }
    }

    fn all(&self) -> impl Iterator<Item = Ipv4Net> + use<> {
        let named = self.named.map(|o| [o.pods, o.services]);
        self.vpc.into_iter().chain(named.into_iter().flatten())
    }
}

/// The `/16` blocks ranges are taken from, in order.
fn pool() -> impl Iterator<Item = Ipv4Net> {
    (16u8..=31).map(|b| Ipv4Net::new([172, b, 0, 0].into(), 16).expect("a /16"))
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The ranges of the environment `ctx` lowers; `None` when the pool has no free block left
/// (every `/16` of `172.16.0.0/12` overlapped by the environments' VPCs).
pub fn ranges(ctx: &Ctx) -> Option<Overlay> {
    let loaded = ctx.v.loaded;
    // Every environment's VPC and named ranges, this one's from the blueprint being lowered.
    let mut envs: Vec<(&str, Networks)> = loaded
        .environments
        .iter()
        .map(|e| {
            let nets = if e == ctx.v.env {
                Networks::of(ctx.v.bp)
            } else {
                crate::blueprint::load(&loaded.file, loaded.text.as_bytes(), e)
                    .map(|l| Networks::of(&l.blueprint))
                    .unwrap_or_default()
            };
            (e.as_str(), nets)
        })
        .collect();
    if !envs.iter().any(|(e, _)| *e == ctx.v.env) {
        envs.push((ctx.v.env, Networks::of(ctx.v.bp)));
    }
    let mut taken: Vec<Ipv4Net> = LEGACY
        .iter()
        .map(|c| c.parse().expect("a CIDR block"))
        .chain(envs.iter().flat_map(|(_, n)| n.all()))
        .collect();
    for (env, nets) in &envs {
        if let Some(named) = nets.named {
            if *env == ctx.v.env {
                return Some(named);
            }
            continue;
        }
        let block = pool().find(|b| !taken.iter().any(|t| overlaps(b, t)))?;
        taken.push(block);
        if *env == ctx.v.env {
            let octets = block.network().octets();
            return Some(Overlay {
                pods: Ipv4Net::new(block.network(), 17).expect("a /17"),
                services: Ipv4Net::new([octets[0], octets[1], 128, 0].into(), 20).expect("a /20"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_private_and_clear_of_the_legacy_overlay() {
        let private: Ipv4Net = "172.16.0.0/12".parse().unwrap();
        for b in pool() {
            assert!(private.contains(&b), "{b}");
            for l in LEGACY {
                assert!(!overlaps(&b, &l.parse().unwrap()), "{b} {l}");
            }
        }
        assert_eq!(pool().count(), 16);
    }
}
