//! A connection string that asks for TLS from a data service running in the cluster. The
//! in-cluster engines infragen runs (the official images) serve no TLS: PostgreSQL starts
//! with `ssl = off`, Redis and Valkey without a TLS port, RabbitMQ on plain 5672, MongoDB
//! without `--tls`. So `sslmode=require` is refused by the server ("server does not support
//! SSL, but SSL was required"), and `rediss://`, `amqps://` or `tls=true` fail their
//! handshake: the workload never connects. This happens when a URL written for a managed
//! service (RDS, ElastiCache, DigitalOcean) is built by hand from `$(X_HOST)` and the
//! component runs in the cluster — every data service on `--provider kubernetes`, or
//! `deployment: in_cluster` anywhere. The generated `_URL` asks for TLS exactly where the
//! server has it, so that is the advice. Warned, not refused: an image of the team's own
//! may have TLS turned on.

use super::env_references::flavor;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;
use crate::diagnostic::Note;
use crate::k8s::env::{is_variable, references};
use crate::wiring::{self, Field, Flavor, Value};

/// Spellings that turn TLS on in a connection string (lower case).
const TLS: [&str; 8] = [
    "rediss://",
    "amqps://",
    "sslmode=require",
    "sslmode=verify-ca",
    "sslmode=verify-full",
    "tls=true",
    "ssl=true",
    "sslmode=verify_identity",
];

pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    let ecs = provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    let mut out = Vec::new();
    for s in bp.workloads() {
        let in_cluster: Vec<(String, &str)> = wiring::without_own(
            s,
            wiring::bindings(bp, s, |name, kind| flavor(provider, bp, ecs, name, kind)),
        )
        .into_iter()
        .filter(|b| matches!(b.value, Value::Field(Field::Host)))
        .filter(|b| {
            matches!(
                flavor(provider, bp, ecs, b.component, b.kind),
                Some(Flavor::InCluster { .. })
            )
        })
        .map(|b| (b.var, b.component))
        .collect();
        if in_cluster.is_empty() {
            continue;
        }
        let values =
            (s.env.iter()).chain(s.init.iter().chain(&s.sidecars).flat_map(|x| x.env.iter()));
        for (key, value) in values {
            let lower = value.to_ascii_lowercase();
            let Some(tls) = TLS.iter().find(|t| lower.contains(*t)) else {
                continue;
            };
            let refs = references(value);
            for (var, component) in &in_cluster {
                if !refs.iter().any(|r| is_variable(r) && r == var) {
                    continue;
                }
                let url = var.strip_suffix("_HOST").unwrap_or(var);
                out.push(Note::warning(
                    "tls-in-cluster",
                    format!(
                        "`{}`: `{key}` asks for TLS (`{tls}`) from `$({var})`, but `{component}` runs in the cluster here, where it serves no TLS: the connection fails. Use the generated `$({url}_URL)`, which asks for TLS exactly where the server has it",
                        s.name
                    ),
                ));
            }
        }
    }
    out
}
