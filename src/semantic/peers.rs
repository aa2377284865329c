//! `services[].peer_ports`: replicas that cluster (Erlang distribution, Akka, Hazelcast,
//! JGroups) find each other through a name resolving to every replica's address and talk on
//! these ports: a headless Service and NetworkPolicy peer rules on Kubernetes
//! (`crate::k8s::service`, `crate::k8s::network_policy`), Cloud Map A records and
//! self-referencing security-group rules on ECS (`crate::backend::aws::peers`). Port 0 and a
//! port listed twice are refused where they are written.

use std::collections::BTreeSet;

use super::Checker;
use crate::blueprint::types::Blueprint;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        if s.peer_ports.is_empty() {
            continue;
        }
        let path = format!("services[{i}].peer_ports");
        let mut seen = BTreeSet::new();
        for (j, &p) in s.peer_ports.iter().enumerate() {
            if p == 0 {
                c.error(&format!("{path}[{j}]"), "port 0 is not a port")
                    .expected = Some("a TCP port, 1–65535".into());
            } else if !seen.insert(p) {
                c.error(&format!("{path}[{j}]"), format!("port {p} is listed twice"))
                    .help = Some(format!("drop the second {p}"));
            }
        }
    }
}
