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
        // `<SERVICE>_PEERS_HOST` (`wiring::peers`) must not also be a used component's
        // `_HOST`: one of the two values would silently replace the other.
        if let Some(var) = crate::wiring::peers::written_host_var(s)
            && let Some(j) = s
                .uses
                .iter()
                .position(|u| format!("{}_HOST", u.prefix()) == var)
        {
            c.error(
                &format!("services[{i}].uses[{j}]"),
                format!(
                    "`{}` would give `{var}`, the variable that names `{}`'s peers (`peer_ports`)",
                    s.uses[j].name, s.name
                ),
            )
            .help = Some(format!(
                "give `{}` another prefix (`env_prefix`), or set `{var}` in `env` yourself",
                s.uses[j].name
            ));
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
