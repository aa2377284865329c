//! A workload that takes a connection value of a data component it `uses` — its host, port,
//! URL, user name or password — from a blueprint secret set out of band (`secret_env`),
//! in place of the one `uses` gives. The blueprint's value wins (`wiring::without_own`),
//! so the pod reads whatever someone copied into that secret: the address of a database
//! infragen creates is known only once Terraform has created it, and its password is
//! generated (RDS: into its master secret; in the cluster: `random_password` in the
//! `platform` state), so the secret must be filled by hand from there and kept in step with
//! every replacement or new password — until then the pod starts and fails its first
//! connection, or `CreateContainerConfigError` while the key is missing. And a workload
//! that sets one credential itself gets none of the component's others (no `_USERNAME`
//! beside its own `_PASSWORD`).
//!
//! Not warned: the component's own credentials secret (`password_secret`,
//! `auth_token_secret`, `in_cluster.credentials_secret`), which is where `uses` reads them
//! anyway.

use super::env_references::flavor;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;
use crate::diagnostic::Note;
use crate::wiring::{self, Kind};

pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    let ecs = bp.platform_on(provider) == Some(Platform::EcsFargate);
    let mut out = Vec::new();
    for s in bp.workloads() {
        let generated = wiring::bindings(bp, s, |name, kind| flavor(provider, bp, ecs, name, kind));
        for u in &s.uses {
            let own = own_secrets(bp, &u.name);
            let taken: Vec<(&str, &str)> = (generated.iter())
                .filter(|b| b.component == u.name)
                .filter(|b| matches!(b.kind, Kind::Database(_) | Kind::Cache | Kind::Queue))
                .filter_map(|b| {
                    let e = s.secret_env.iter().find(|e| e.name == b.var)?;
                    (!own.contains(&e.secret.as_str()))
                        .then_some((e.name.as_str(), e.secret.as_str()))
                })
                .collect();
            if taken.is_empty() {
                continue;
            }
            let vars: Vec<String> = taken.iter().map(|(v, _)| format!("`{v}`")).collect();
            let mut secrets: Vec<&str> = taken.iter().map(|(_, s)| *s).collect();
            secrets.dedup();
            out.push(Note::warning(
                "connection-from-secret",
                format!(
                    "`{}` takes {} from secret `{}` (set out of band) in place of what `uses: [{}]` gives it: `{}`'s address and credentials are known only once infragen has created it (its password is generated, and may be replaced), so the pod connects only after someone copies them into that secret, and again after each change; a workload setting one credential itself also gets none of the others. Drop these `secret_env` entries and let `uses` give them (docs/connections.md)",
                    s.name,
                    vars.join(", "),
                    secrets.join("`, `"),
                    u.name,
                    u.name,
                ),
            ));
        }
    }
    out
}

/// The secrets a component's own credentials live in, which `uses` itself reads.
fn own_secrets<'a>(bp: &'a Blueprint, component: &str) -> Vec<&'a str> {
    let databases = (bp.databases.iter().filter(|d| d.name == component)).flat_map(|d| {
        [
            d.password_secret.as_deref(),
            d.in_cluster.credentials_secret.as_deref(),
        ]
    });
    let caches = (bp.caches.iter().filter(|c| c.name == component)).flat_map(|c| {
        [
            c.auth_token_secret.as_deref(),
            c.in_cluster.credentials_secret.as_deref(),
        ]
    });
    let queues = (bp.queues.iter().filter(|q| q.name == component))
        .map(|q| q.in_cluster.credentials_secret.as_deref());
    databases.chain(caches).chain(queues).flatten().collect()
}
