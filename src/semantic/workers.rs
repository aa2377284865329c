//! Services without a `port` (queue workers): they serve nothing, so nothing may route to
//! them or probe a port; their probes run a command, or there are none. Each refusal names
//! the field, since emitting it would produce a route or probe that can never succeed. (No
//! workload names a service in `uses`: `references` refuses that for every service.)

use super::Checker;
use crate::blueprint::types::{Blueprint, Probe};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        if s.port.is_some() {
            continue;
        }
        let path = format!("services[{i}]");
        if !s.routes.is_empty() {
            c.error(
                &format!("{path}.routes"),
                format!(
                    "service `{}` has no `port`, so nothing can be routed to it",
                    s.name
                ),
            )
            .help = Some("give it a `port`, or drop its `routes`".into());
        }
        if s.service_port.is_some() {
            c.error(
                &format!("{path}.service_port"),
                format!(
                    "service `{}` has no `port`, so it gets no Kubernetes Service to give a port",
                    s.name
                ),
            )
            .help = Some("give it a `port`, or drop `service_port`".into());
        }
        if s.autoscaling.as_ref().is_some_and(|a| a.requests.is_some()) {
            c.error(
                &format!("{path}.autoscaling.requests"),
                format!(
                    "service `{}` has no `port`, so no load balancer counts requests for it",
                    s.name
                ),
            )
            .help = Some("scale it on `cpu_percent` or `memory_percent`".into());
        }
        if let Some(m) = &s.metrics
            && m.port.is_none()
        {
            c.error(
                &format!("{path}.metrics"),
                format!(
                    "service `{}` has no `port`, so `metrics` needs its own `port` to scrape",
                    s.name
                ),
            );
        }
        let probes: [(&str, &Option<Probe>); 3] = [
            ("liveness", &s.probes.liveness),
            ("readiness", &s.probes.readiness),
            ("startup", &s.probes.startup),
        ];
        for (kind, p) in probes {
            if let Some(p) = p
                && p.command.is_empty()
            {
                c.error(
                    &format!("{path}.probes.{kind}"),
                    format!(
                        "service `{}` has no `port`, so its {kind} probe cannot check one",
                        s.name
                    ),
                )
                .help =
                    Some("probe with `command: [...]` (an exec probe), or drop the probe".into());
            }
        }
    }
}
