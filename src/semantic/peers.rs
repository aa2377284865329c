//! `services[].peer_ports`: replicas that cluster (Erlang distribution, Akka, Hazelcast)
//! find each other through a headless Service and talk on these ports (`crate::k8s::service`,
//! `crate::k8s::network_policy`). ECS has no such name: Service Connect publishes one port
//! mapping per service behind its proxy, and a task cannot look up its peers' addresses, so
//! a blueprint asking for it there is refused rather than run as a cluster of one node per
//! task. Port 0 and a port listed twice are refused where they are written.

use std::collections::BTreeSet;

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        if s.peer_ports.is_empty() {
            continue;
        }
        let path = format!("services[{i}].peer_ports");
        if ecs {
            let d = c.error(
                &path,
                format!(
                    "ECS gives the tasks of `{}` no name that resolves to each other's addresses (Service Connect publishes one port behind its proxy), so its replicas could not form a cluster",
                    s.name
                ),
            );
            d.expected =
                Some("a Kubernetes platform: `eks`, `eks_fargate`, `doks` or `existing`".into());
            d.help = Some("drop `peer_ports` and keep the replicas independent (share state through a database or cache), or run on `platform: eks`".into());
            continue;
        }
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
