//! Variable references (`$(NAME)`) in `env` values, `command` and `args` — how a team
//! moving from Helm charts or Heroku builds `DATABASE_URL` out of the connection variables:
//!
//! - On Kubernetes the kubelet expands a reference from the container's variables
//!   (`crate::k8s::env` writes such values as `env` entries after those they name), and
//!   leaves one it cannot resolve as written: the process would get the literal
//!   `$(DB_REPLICA_HOST)` and fail at its first connection. So every reference must name a
//!   variable the container has — its `env` and `secret_env`, the connection variables of
//!   what it `uses` on this provider (an init container or sidecar: its own `env`, plus the
//!   app's with `app_env`) — and values may not reference each other in a cycle.
//! - ECS expands nothing in a task definition's `environment`, `entryPoint` or `command`,
//!   so a reference there is refused: the task would run with the text as written.
//!
//! Only names written like variables (`DB_HOST`) are held to account: `$(date)` in a shell
//! command line is the shell's. `$$(NAME)` escapes a reference on Kubernetes.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use crate::analysis::{DataKind, runs_in_cluster};
use crate::blueprint::types::{Blueprint, Deployment, Platform, Service};
use crate::catalog::Provider;
use crate::diagnostic::Note;
use crate::k8s::env::{is_variable, references};
use crate::wiring::{self, Flavor, Kind};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        probe_commands(c, ecs, &format!("services[{i}]"), s);
    }
    for (path, s) in bp.workloads_at() {
        let app = names(c.provider, bp, s, ecs);
        container(c, ecs, &path, &app, &s.env, &s.command, &s.args);
        // The connection variables `uses` would give had `env` not set them itself: a value
        // naming itself is then most likely meant as a copy of that variable.
        let given: BTreeSet<String> =
            wiring::bindings(bp, s, |name, kind| flavor(c.provider, bp, ecs, name, kind))
                .into_iter()
                .map(|b| b.var)
                .collect();
        cycles(c, &path, &s.env, &given);
        for (field, list) in [("init", &s.init), ("sidecars", &s.sidecars)] {
            for (j, x) in list.iter().enumerate() {
                let mut own: BTreeSet<String> = x.env.keys().cloned().collect();
                if x.app_env {
                    own.extend(app.iter().cloned());
                }
                let at = format!("{path}.{field}[{j}]");
                container(c, ecs, &at, &own, &x.env, &x.command, &x.args);
                cycles(c, &at, &x.env, &BTreeSet::new());
            }
        }
    }
}

/// Check one container's references against the variables it has (`defined`).
fn container(
    c: &mut Checker,
    ecs: bool,
    path: &str,
    defined: &BTreeSet<String>,
    env: &BTreeMap<String, String>,
    command: &[String],
    args: &[String],
) {
    let texts = (env
        .iter()
        .map(|(k, v)| (format!("{path}.env.{k}"), v.as_str())))
    .chain(
        command
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}.command[{i}]"), v.as_str())),
    )
    .chain(
        args.iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}.args[{i}]"), v.as_str())),
    );
    for (at, text) in texts {
        let refs: Vec<&str> = references(text)
            .into_iter()
            .filter(|r| is_variable(r) && !service_link(r))
            .collect();
        if refs.is_empty() {
            continue;
        }
        if ecs && refs.contains(&crate::k8s::workload::POD_IP) {
            // The Kubernetes way to name a clustering node; ECS has no downward API.
            c.error(
                &at,
                "ECS has no `POD_IP` and expands no `$(POD_IP)`: the container would get the text as written",
            )
            .help = Some(
                "name the node in the image's start script from the task metadata endpoint Fargate gives every container, e.g. in an Elixir release's `rel/env.sh.eex`: `export RELEASE_NODE=\"app@$(curl -s $ECS_CONTAINER_METADATA_URI_V4 | jq -r '.Networks[0].IPv4Addresses[0]')\"`; keep the `$(POD_IP)` value in a Kubernetes environment's overlay"
                    .into(),
            );
            continue;
        }
        if ecs {
            c.error(
                &at,
                format!(
                    "ECS does not expand `$({})` in a task definition: the container would get the text as written",
                    refs[0]
                ),
            )
            .help = Some(
                "read the variables themselves in the application, or build the value in a shell: `command: [sh, -c]`, `args: [\"export DATABASE_URL=postgres://$DB_HOST:$DB_PORT/app; exec ./server\"]`"
                    .into(),
            );
            continue;
        }
        for r in refs {
            if defined.contains(r) {
                continue;
            }
            let d = c.error(
                &at,
                format!(
                    "`$({r})` names no variable of this container, so Kubernetes would pass it on as written"
                ),
            );
            *d = d
                .clone()
                .suggest(r, defined.iter().map(String::as_str))
                .expected(format!(
                    "one of its variables: {}",
                    defined
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            // The two names that differ by provider and environment.
            if let Some(prefix) = r.strip_suffix("_REPLICA_HOST") {
                d.help = Some(format!(
                    "`{prefix}_REPLICA_HOST` exists only where the database has read replicas (managed, `replicas` of 1 or more) in this environment; use `$({prefix}_HOST)`"
                ));
            } else if let Some(prefix) = r.strip_suffix("_AUTH_TOKEN")
                && defined.contains(&format!("{prefix}_PASSWORD"))
            {
                d.help = Some(format!(
                    "`_AUTH_TOKEN` is ElastiCache's own name for a cache's credential; `$({prefix}_PASSWORD)` holds it on every provider, ElastiCache included"
                ));
            } else if d.help.is_none() {
                d.help = Some(
                    "name a variable of its `env`, `secret_env` or `uses` on this provider and environment, or write `$$(…)` for the text itself"
                        .into(),
                );
            }
        }
    }
}

/// An exec probe's `command` is expanded by the kubelet at each probe from the container's
/// `env` entries' literal `value`s only: an entry set by `valueFrom` (every connection
/// variable and `secret_env`) expands to the empty string, and a name the `env` list lacks
/// (`envFrom`, what the runtime sets, `HOSTNAME`) stays as written
/// (`ExpandContainerCommandOnlyStatic` and `v1EnvVarsToMap` in pkg/kubelet/container/
/// helpers.go; kubernetes/kubernetes#40846, #42273). infragen hands plain values in through a ConfigMap and credentials through
/// Secrets, so `celery inspect ping -d celery@$(HOSTNAME)` would ping `celery@$(HOSTNAME)`
/// and the liveness probe would restart a healthy worker forever. A shell reads the real
/// environment, so that is the spelling to suggest. An HTTP probe's path and headers are
/// not expanded at all — nor on ECS, where the probe's path is the target group's health
/// check (ECS runs no probe command: `command` is Kubernetes-only there).
fn probe_commands(c: &mut Checker, ecs: bool, path: &str, s: &Service) {
    let probes = [
        ("liveness", &s.probes.liveness),
        ("readiness", &s.probes.readiness),
        ("startup", &s.probes.startup),
    ];
    for (kind, p) in probes {
        let Some(p) = p else { continue };
        let commands = if ecs { &[][..] } else { &p.command[..] };
        for (i, arg) in commands.iter().enumerate() {
            let Some(r) = references(arg).into_iter().find(|r| is_variable(r)) else {
                continue;
            };
            c.error(
                &format!("{path}.probes.{kind}.command[{i}]"),
                format!(
                    "the kubelet does not expand `$({r})` in a probe's command from the variables infragen gives the container (ConfigMap, Secrets, the runtime's): the probe would run with an empty value or the text as written, and fail"
                ),
            )
            .help = Some(format!(
                "run the probe in a shell, which reads the container's environment: `command: [sh, -c, \"… ${r} …\"]`; or write `$$({r})` for the text itself"
            ));
        }
        // An HTTP probe's path and headers are sent as written: the kubelet expands nothing
        // there (kubernetes/kubernetes#128900), and an ALB that checks the path neither.
        let http = (p
            .path
            .iter()
            .map(|v| (format!("{path}.probes.{kind}.path"), v)))
        .chain((p.headers.iter()).map(|(k, v)| (format!("{path}.probes.{kind}.headers.{k}"), v)));
        for (at, text) in http {
            let Some(r) = references(text).into_iter().find(|r| is_variable(r)) else {
                continue;
            };
            c.error(
                &at,
                format!(
                    "an HTTP probe is sent as written: nothing expands `$({r})` in its path or headers, so the request would carry the text itself"
                ),
            )
            .help = Some("write the value itself (the blueprint's `environments` overlays can vary it per environment)".into());
        }
    }
}

/// A value that reaches itself through its references: no order of `env` entries expands it.
/// `given`: the connection variables of what the container uses, had `env` not replaced them.
fn cycles(c: &mut Checker, path: &str, env: &BTreeMap<String, String>, given: &BTreeSet<String>) {
    let refs = |k: &str| -> Vec<&str> {
        env.get(k)
            .map(|v| {
                references(v)
                    .into_iter()
                    .filter(|r| env.contains_key(*r))
                    .collect()
            })
            .unwrap_or_default()
    };
    for start in env.keys() {
        // Depth-first from `start`: does a path of references lead back to it?
        let mut stack: Vec<&str> = refs(start);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(k) = stack.pop() {
            if k == start && given.contains(start) && refs(start).contains(&start.as_str()) {
                // `REDIS_URL: "$(REDIS_URL)"`, meant as "the one `uses` gives": a value of
                // the container's own replaces that variable, so it names only itself.
                c.error(
                    &format!("{path}.env.{start}"),
                    format!("`{start}` names itself: `uses` gives a `{start}`, and this value replaces it, so `$({start})` has nothing else to read"),
                )
                .help = Some(format!("drop this entry: the container gets `{start}` from `uses` as it is (a copy under another name is `uses[].env` or `$({start})` in a value of another name)"));
                break;
            }
            if k == start {
                c.error(
                    &format!("{path}.env.{start}"),
                    format!("`{start}` references itself through other `env` values, so it is never expanded"),
                )
                .help = Some("break the cycle: one of the values must name only other variables".into());
                break;
            }
            if seen.insert(k) {
                stack.extend(refs(k));
            }
        }
    }
}

/// The variables Kubernetes adds for the Services of the pod's namespace
/// (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_SERVICE_PORT`, `<SERVICE>_PORT_8080_TCP_ADDR`, …)
/// when the pod starts after them: not the blueprint's to know.
fn service_link(name: &str) -> bool {
    let tcp = name.match_indices("_PORT_").any(|(i, _)| {
        let rest = &name[i + "_PORT_".len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0
            && ["_TCP", "_UDP", "_SCTP"]
                .iter()
                .any(|p| rest[digits..].starts_with(p))
    });
    tcp || name.ends_with("_SERVICE_HOST") || name.contains("_SERVICE_PORT")
}

/// Every variable the app container of `s` has on `provider`: its `env` and `secret_env`,
/// and the connection variables of what it uses (as `crate::k8s::connect` writes them).
fn names(provider: Provider, bp: &Blueprint, s: &Service, ecs: bool) -> BTreeSet<String> {
    let generated: BTreeSet<String> = (bindings(provider, bp, s, ecs).into_iter())
        .map(|b| b.var)
        .collect();
    // `uses[].env` names: copies of generated variables, written beside them.
    let aliases: Vec<String> = (wiring::alias::aliases(s).into_iter())
        .filter(|a| generated.contains(&a.source))
        .map(|a| a.var)
        .collect();
    // A service whose replicas cluster gets its pod's address (`crate::k8s::workload`).
    let pod_ip =
        (!ecs && !s.peer_ports.is_empty()).then(|| crate::k8s::workload::POD_IP.to_string());
    // And, on every platform, the name resolving to its peers (`wiring::peers`).
    let peers = wiring::peers::written_host_var(s);
    (generated.into_iter().chain(aliases))
        .chain(s.env.keys().cloned())
        .chain(s.secret_env.iter().map(|e| e.name.clone()))
        .chain(pod_ip)
        .chain(peers)
        .collect()
}

/// The connection variables of what `s` uses on `provider`, minus those it sets itself.
fn bindings<'a>(
    provider: Provider,
    bp: &'a Blueprint,
    s: &'a Service,
    ecs: bool,
) -> Vec<wiring::Binding<'a>> {
    wiring::without_own(
        s,
        wiring::bindings(bp, s, |name, kind| flavor(provider, bp, ecs, name, kind)),
    )
}

/// Where component `name` of `kind` runs on `provider`, as the back-ends decide it
/// (`k8s::connect::bindings`, `backend::aws::connect`): what decides its variables.
/// `None` when the output does not create it, so it gives none. Shared with
/// `semantic::use_env`.
pub(super) fn flavor(
    provider: Provider,
    bp: &Blueprint,
    ecs: bool,
    name: &str,
    kind: Kind,
) -> Option<Flavor> {
    let managed = match provider {
        Provider::Aws => Flavor::Aws,
        Provider::Digitalocean => Flavor::DigitalOcean,
        Provider::Kubernetes => Flavor::InCluster { auth: true },
    };
    let data = |kind: DataKind, deployment: Deployment| {
        Some(if runs_in_cluster(provider, kind, deployment) {
            // Every in-cluster data service has credentials (`k8s::data::plan`).
            Flavor::InCluster { auth: true }
        } else {
            managed
        })
    };
    match kind {
        Kind::Database(_) => {
            let d = bp.databases.iter().find(|d| d.name == name)?;
            data(DataKind::Database, d.deployment)
        }
        Kind::Cache => {
            let x = bp.caches.iter().find(|x| x.name == name)?;
            data(DataKind::Cache, x.deployment)
        }
        Kind::Queue => {
            let x = bp.queues.iter().find(|x| x.name == name)?;
            data(DataKind::Queue, x.deployment)
        }
        Kind::Table | Kind::Sqs => (provider == Provider::Aws).then_some(Flavor::Aws),
        Kind::Bucket => (provider != Provider::Kubernetes).then_some(managed),
        Kind::Secret => Some(managed),
        Kind::Service if ecs => Some(Flavor::Aws),
        Kind::Service => Some(Flavor::InCluster { auth: false }),
    }
}

/// Warnings (`url-credentials`) for a value that puts a credential AWS generates into a
/// URL: the RDS master password may hold `#`, `%`, `?`, `[`, `]`, `{`, `}`, `<`, `>` and the
/// ElastiCache AUTH token `#`, `^`, `<`, `>` (the characters each service accepts, chosen
/// by `backend::aws`), which a URL's user information must percent-encode — and `$(…)`
/// cannot. The URL then breaks at the first such character, in most generated passwords.
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    let ecs = bp.platform() == Some(Platform::EcsFargate);
    if provider != Provider::Aws || ecs {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in bp.workloads() {
        let mut generated: Vec<(String, &str)> = bindings(provider, bp, s, ecs)
            .into_iter()
            .filter_map(|b| match (b.kind, &b.value) {
                (Kind::Database(_), wiring::Value::Field(wiring::Field::Password)) => {
                    Some((b.var, "RDS master password"))
                }
                (
                    Kind::Cache,
                    wiring::Value::Field(wiring::Field::AuthToken | wiring::Field::Password),
                ) => Some((b.var, "ElastiCache AUTH token")),
                _ => None,
            })
            .collect();
        // A `uses[].env` copy of one holds the same value.
        for a in wiring::alias::aliases(s) {
            if let Some(&(_, what)) = generated.iter().find(|(v, _)| *v == a.source) {
                generated.push((a.var, what));
            }
        }
        let values =
            (s.env.iter()).chain(s.init.iter().chain(&s.sidecars).flat_map(|x| x.env.iter()));
        for (key, value) in values {
            if !value.contains("://") {
                continue;
            }
            let refs = references(value);
            for (var, what) in &generated {
                if refs.contains(&var.as_str()) {
                    out.push(Note::warning(
                        "url-credentials",
                        format!(
                            "`{}` puts `$({var})` into a URL (`{key}`), but the {what} infragen generates holds characters a URL must percent-encode (such as `#`, `<`, `>`), so the URL breaks where one appears: {}",
                            s.name,
                            instead(what, var),
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// What to do instead of `$(…)` in the URL, per credential. A Redis URL is the only way
/// some clients take the token (Celery's broker URL, kombu), and they unquote its user
/// information, so there the application percent-encodes it; libpq reads the password
/// from PGPASSWORD beside a URL without one, but Prisma's engine reads neither PGUSER nor
/// PGPASSWORD and requires both in the URL, percent-encoded
/// (<https://www.prisma.io/docs/orm/overview/databases/postgresql#connection-url>).
fn instead(what: &str, var: &str) -> String {
    if what.starts_with("ElastiCache") {
        format!(
            "give the token to the client on its own (redis-py's and redis-rb's `password`, ioredis's `password`), or build the URL in the application with the token percent-encoded (Python `urllib.parse.quote(os.environ[\"{var}\"], safe=\"\")`, Ruby `ERB::Util.url_encode`), as Celery's `broker_url` needs"
        )
    } else {
        format!(
            "give the password to the client on its own (libpq's `PGPASSWORD: \"$({var})\"`, the driver's password setting) and leave it out of the URL; a client that reads credentials only from its URL (Prisma) needs the URL built in the application with the password percent-encoded (`encodeURIComponent`)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::service_link;

    #[test]
    fn service_links_are_told_apart_from_variables() {
        for n in [
            "API_SERVICE_HOST",
            "API_SERVICE_PORT",
            "API_SERVICE_PORT_HTTP",
            "API_PORT_8080_TCP_ADDR",
        ] {
            assert!(service_link(n), "{n}");
        }
        for n in ["API_PORT", "API_PORT_NUMBER", "MY_SERVICE_URL", "DB_HOST"] {
            assert!(!service_link(n), "{n}");
        }
    }
}
