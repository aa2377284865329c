//! The DNS name a service whose replicas cluster (`peer_ports`) polls for its peers,
//! handed to its app container under one variable name on every platform, so one blueprint
//! (and one application configuration) clusters on Kubernetes and on ECS:
//! `<SERVICE>_PEERS_HOST` (`web` → `WEB_PEERS_HOST`), the name libcluster's
//! `Cluster.Strategy.DNSPoll` takes as `query`, JGroups' `DNS_PING` as `dns_query`, Akka
//! Discovery's DNS method as the service name. Its value is the back-end's: the headless
//! Service's name on Kubernetes (`crate::k8s::workload`), the Cloud Map A record on ECS
//! (`crate::backend::aws::peers`). A value of the blueprint's own wins.

use crate::blueprint::types::{Service, upper_snake};

/// The variable's name for service `s`.
pub fn host_var(s: &Service) -> String {
    format!("{}_PEERS_HOST", upper_snake(&s.name))
}

/// The variable the back-ends write for `s`: none unless it clusters, and none when the
/// blueprint sets the name itself (`env` or `secret_env`).
pub fn written_host_var(s: &Service) -> Option<String> {
    if s.peer_ports.is_empty() {
        return None;
    }
    let var = host_var(s);
    let own = s.env.contains_key(&var) || s.secret_env.iter().any(|e| e.name == var);
    (!own).then_some(var)
}
