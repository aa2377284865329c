//! RabbitMQ: the server's credentials env and its `rabbitmq-diagnostics ping` probe; it
//! serves its own metrics (the `rabbitmq_prometheus` plugin), so it has no exporter.

use super::statefulset::exec;
use crate::k8s::workload::secret_env;
use crate::k8s::yaml::{Map, seq};

pub(super) fn env(secret: &str) -> Vec<Map<'_>> {
    vec![
        secret_env("RABBITMQ_DEFAULT_USER", secret, "username"),
        secret_env("RABBITMQ_DEFAULT_PASS", secret, "password"),
    ]
}

pub(super) fn probes(tcp: Map<'static>) -> (Map<'static>, Map<'static>) {
    (tcp, exec(seq!["rabbitmq-diagnostics", "-q", "ping"]))
}
