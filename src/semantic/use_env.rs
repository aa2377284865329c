//! Extra names for connection values (`uses[].env`, [`crate::wiring::alias`]): each must name
//! a field the component gives on this target, be a variable name, and be the container's
//! only variable of that name. An alias copies the finished entry of the generated variable
//! it names, so one that had nothing to copy would silently be missing in the container:
//! every such case is refused here, at the alias. A component listed twice is refused too:
//! only its first entry counts.

use std::collections::BTreeMap;

use super::Checker;
use super::env_references;
use super::references::env_name;
use crate::blueprint::types::{Blueprint, Platform, Service};
use crate::catalog::Provider;
use crate::diagnostic::one_of;
use crate::wiring::{self, Field, Flavor, Kind};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (path, s) in bp.workloads_at() {
        twice(c, &path, s);
        if s.uses.iter().all(|u| u.env.is_empty()) {
            continue;
        }
        workload(c, bp, &path, s);
    }
}

/// A component listed twice: the workload gets its variables once, from the first entry
/// (`wiring::bindings`), so a second entry's `env_prefix` — and the variables its `env`
/// would copy — would silently be missing.
fn twice(c: &mut Checker, path: &str, s: &Service) {
    for (j, u) in s.uses.iter().enumerate() {
        if let Some(first) = s.uses[..j].iter().position(|x| x.name == u.name) {
            c.error(
                &format!("{path}.uses[{j}]"),
                format!(
                    "`{}` is already listed at `uses[{first}]`: a workload gets one set of variables per component",
                    u.name
                ),
            )
            .help = Some(format!(
                "keep one entry for `{}`, with its `env_prefix` and all its `env` names",
                u.name
            ));
        }
    }
}

fn workload(c: &mut Checker, bp: &Blueprint, path: &str, s: &Service) {
    let provider = c.provider;
    let ecs = bp.platform_on(provider) == Some(Platform::EcsFargate);
    let flavor = |name: &str, kind: Kind| env_references::flavor(provider, bp, ecs, name, kind);
    let all = wiring::bindings(bp, s, flavor);
    let given: Vec<String> = wiring::without_own(s, all.clone())
        .into_iter()
        .map(|b| b.var)
        .collect();
    // Every name the container already has, with where it comes from.
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for b in &all {
        taken.insert(b.var.clone(), format!("`uses: {}` gives it", b.component));
    }
    for k in s.env.keys() {
        taken.insert(k.clone(), "`env` sets it".into());
    }
    for e in &s.secret_env {
        taken.insert(e.name.clone(), "`secret_env` sets it".into());
    }
    for (j, u) in s.uses.iter().enumerate() {
        let Some(kind) = wiring::kind_of(bp, &u.name) else {
            continue; // `references` refuses the unknown component.
        };
        if s.uses[..j].iter().any(|x| x.name == u.name) {
            continue; // `twice` refuses the entry.
        }
        for (var, name) in &u.env {
            let at = format!("{path}.uses[{j}].env.{var}");
            if kind == Kind::Secret {
                c.error(
                    &at,
                    format!(
                        "`{}` is a secret: its keys are its variables (`{}_<KEY>`), it has no connection fields to copy",
                        u.name,
                        u.prefix()
                    ),
                )
                .help = Some(format!(
                    "read a key under another name with `secret_env: [{{ name: {var}, secret: {}, key: … }}]`",
                    u.name
                ));
                continue;
            }
            let fl = flavor(&u.name, kind);
            // The fields this component gives here, by their generated variables.
            let has: Vec<Field> = Field::ALL
                .into_iter()
                .filter(|f| {
                    let source = [u.prefix().as_str(), "_", f.suffix()].concat();
                    all.iter().any(|b| b.component == u.name && b.var == source)
                })
                .collect();
            let names: Vec<String> = has.iter().map(|f| f.name()).collect();
            let Some(field) = Field::parse(name) else {
                let all_names: Vec<String> = Field::ALL.iter().map(|f| f.name()).collect();
                let d = c.error(&at, format!("unknown connection field `{name}`"));
                *d = d
                    .clone()
                    .expected(format!(
                        "a field of `{}`: {}",
                        u.name,
                        one_of(names.iter().map(String::as_str))
                    ))
                    .suggest(name, all_names.iter().map(String::as_str));
                continue;
            };
            if !env_name(var) {
                key_error(
                    c,
                    &at,
                    var,
                    format!("`{var}` is not an environment variable name"),
                )
                .expected = Some(
                    "upper-case letters, digits and `_`, starting with a letter or `_` (e.g. `DB_MASTER_HOST`)"
                        .into(),
                );
                continue;
            }
            let source = [u.prefix().as_str(), "_", field.suffix()].concat();
            if !has.contains(&field) {
                let why = missing_why(bp, provider, &u.name, kind, field, fl);
                let d = c.error(&at, format!("`{}` gives no `{name}` here: {why}", u.name));
                d.expected = Some(format!(
                    "a field `{}` gives: {}",
                    u.name,
                    one_of(names.iter().map(String::as_str))
                ));
                d.help = Some(format!("drop `{var}`, or give `{}` what it lacks", u.name));
                continue;
            }
            if !given.contains(&source) {
                // `wiring::without_own`: the service's own value wins, and one credential
                // of its own makes all of the component's credentials its own.
                let why = if s.env.contains_key(&source)
                    || s.secret_env.iter().any(|e| e.name == source)
                {
                    "which the service sets itself".to_string()
                } else {
                    format!(
                        "which the service leaves out because it sets another credential of `{}` itself",
                        u.name
                    )
                };
                let d = c.error(
                    &at,
                    format!(
                        "`{var}` would copy `{source}`, {why}: there is no generated value to copy"
                    ),
                );
                d.help = Some(format!(
                    "set `{var}` the way the service sets `{source}` (in `env` or `secret_env`)"
                ));
                continue;
            }
            if let Some(from) = taken.get(var) {
                key_error(
                    c,
                    &at,
                    var,
                    format!("the container already has a variable `{var}`: {from}"),
                )
                .help = Some(format!(
                    "give the copy of `{source}` another name, or drop the other `{var}`"
                ));
                continue;
            }
            taken.insert(
                var.clone(),
                format!("`uses[{j}].env` gives it (a copy of `{source}`)"),
            );
        }
    }
}

/// Why component `name` gives no `field` on this target.
fn missing_why(
    bp: &Blueprint,
    provider: Provider,
    name: &str,
    kind: Kind,
    field: Field,
    fl: Option<Flavor>,
) -> String {
    let Some(fl) = fl else {
        return format!(
            "the output for `--provider {}` does not create it, so it gives no variables",
            provider.name()
        );
    };
    match field {
        Field::ReplicaHost if matches!(kind, Kind::Database(_)) => {
            "it has no read replica in this environment (`replicas: 0`, or it runs in the cluster)"
                .into()
        }
        Field::Database
            if matches!(kind, Kind::Database(_)) && !wiring::names_a_database(bp, name, fl) =>
        {
            "RDS creates a MySQL instance's database only from `database_name`, and it has none"
                .into()
        }
        Field::CaFile => format!(
            "only a managed database whose provider signs its server certificate with its own CA gives one (RDS PostgreSQL and MySQL, DigitalOcean databases){}",
            if matches!(fl, Flavor::InCluster { .. }) {
                ", and it runs in the cluster"
            } else {
                ""
            }
        ),
        // The same value under the name every provider gives (`wiring::fields`).
        Field::AuthToken if kind == Kind::Cache => {
            "`auth_token` is ElastiCache's own name for the cache's credential; `password` is the same value on every provider, ElastiCache included"
                .into()
        }
        _ if matches!(fl, Flavor::InCluster { .. }) => {
            "it runs in the cluster here, where it has no such value".into()
        }
        _ => "a component of its kind has no such value on this provider".into(),
    }
}

/// An error about the name of an alias (`at` is `….env.<var>`): positioned at the key, not
/// at the field it maps to.
fn key_error<'c>(
    c: &'c mut Checker,
    at: &str,
    var: &str,
    message: String,
) -> &'c mut crate::diagnostic::Diagnostic {
    let map = at.strip_suffix(&format!(".{var}")).unwrap_or(at);
    let span = c.loaded.key_span(map, var);
    c.problems
        .push(crate::diagnostic::Diagnostic::new(format!("`{at}`: {message}")).at(span));
    c.problems.last_mut().expect("just pushed")
}
