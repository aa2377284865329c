//! The DOKS cluster's own networks: the pod network (`cluster_subnet`) and the Service
//! network (`service_subnet`).
//!
//! A cluster created without them gets DigitalOcean's default, still the legacy overlay
//! network (pods `10.244.0.0/16`, Services `10.245.0.0/16`: clusters created without both
//! ranges "use legacy overlay networking", terraform-do-modules/terraform-digitalocean-
//! kubernetes#73, April 2026). Naming them makes the cluster VPC-native — pods take routable
//! addresses of the account's private network — which DigitalOcean's own Gateway API
//! implementation needs ("enabled by default on clusters with VPC-native networking running
//! Kubernetes version 1.33 or later",
//! <https://docs.digitalocean.com/products/kubernetes/how-to/use-gateway-api/>).
//!
//! infragen leaves that default alone unless the blueprint names both ranges
//! (`providers.digitalocean.cluster_subnet` / `service_subnet`, checked in
//! `semantic::network`): the overlay is the path every DOKS user has taken, and on it what
//! infragen's output relies on is known to work — the managed databases' firewalls admit the
//! cluster by its `k8s` rule (pods leave through their node's address; DigitalOcean does not
//! document whether that rule admits VPC-native pod addresses), and Envoy Gateway installs
//! the Gateway API CRDs it needs (on a VPC-native cluster DOKS installs and reconciles its
//! own, of a version it does not publish, `helm::provider_managed_gateway_api`).
//!
//! Both arguments force a new cluster (`ForceNew` in the provider): named ranges sit in
//! `lifecycle.ignore_changes` (`cluster.rs`), so naming them for a running cluster does not
//! replace it — `infragen diff` notes them as not applied.

use ipnet::Ipv4Net;

use super::Ctx;

/// The two ranges of one environment's cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlay {
    pub pods: Ipv4Net,
    pub services: Ipv4Net,
}

/// The ranges the blueprint names for the environment `ctx` lowers (both or none).
pub fn ranges(ctx: &Ctx) -> Option<Overlay> {
    let d = ctx.v.bp.providers.digitalocean.as_ref()?;
    let parse = |s: Option<&String>| s.and_then(|t| t.parse::<Ipv4Net>().ok());
    Some(Overlay {
        pods: parse(d.cluster_subnet.as_ref())?,
        services: parse(d.service_subnet.as_ref())?,
    })
}
