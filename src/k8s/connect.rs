//! The connection contract ([`crate::wiring`]) in the manifests: the environment variables
//! each service's containers get for the components it `uses`.
//!
//! - In-cluster data services: endpoints are the client Service's DNS name and port, written
//!   as values; credentials come by key from the data service's credentials Secret (the one
//!   its StatefulSet reads; the platform module writes a copy in every namespace that needs
//!   it).
//! - Managed services whose endpoints exist only after `infra` is applied (RDS, ElastiCache,
//!   Amazon MQ, DigitalOcean databases): from the `<service>-connections` ConfigMap
//!   (endpoints) and Secret (credentials) the platform module makes exist in the service's
//!   namespace ([`connections_name`]).
//! - Tables (AWS): regional endpoint, name and region as values; access is the pod's IAM
//!   role.
//! - SQS queues (AWS): from the `<service>-connections` ConfigMap like buckets (a queue URL
//!   names the account); access is the pod's IAM role.
//! - Buckets (AWS): from the `<service>-connections` ConfigMap like any managed endpoint: a
//!   derived S3 name ends in the account id, which the manifests cannot know and Terraform
//!   can (`aws_caller_identity`); access is the pod's IAM role.
//! - Buckets (DigitalOcean Spaces): the same ConfigMap, with the Spaces endpoint; the key
//!   pair the platform module creates for the workload in its `<service>-connections`
//!   Secret.
//! - Blueprint secrets: by key from the Secret named after the secret, or on EKS from the
//!   `<service>-connections` Secret External Secrets fills.
//!
//! - A managed database whose server certificate the provider's own CA signs
//!   ([`wiring::trusts_provider_ca`]: DigitalOcean's databases, RDS): `<NAME>_CA_FILE` is the
//!   path of that CA in the pod, mounted read only from key `<NAME>_CA_CERT` of the
//!   `<service>-connections` Secret (DigitalOcean: the platform module fills it from
//!   `digitalocean_database_ca`) or ConfigMap (EKS: the region's RDS bundle, public
//!   certificates, [`wiring::rds_ca`]) ([`ca_volume`]).
//!
//! - A managed database with a connection pool (`databases[].pool`, DigitalOcean): the
//!   services' variables name the pool; a release Job's host, port, database and URL are the
//!   cluster's own, from the keys `direct.<VAR>` of the same objects ([`direct_for_release`],
//!   [`wiring::pool`]).
//!
//! A variable the blueprint sets itself (`env`, `secret_env`) wins over the derived one.

use super::workload::secret_env;
use super::yaml::{Map, Y, map};
use super::{Ctx, DataService, Workload};
use crate::wiring::{self, Binding, Field, Flavor, Kind, Value};

/// The ConfigMap (endpoints) and Secret (credentials) the platform module writes for a
/// service in its namespace.
pub fn connections_name(service: &str) -> String {
    format!("{service}-connections")
}

/// The DNS name of an in-cluster data service's client Service.
pub(crate) fn host(d: &DataService) -> String {
    format!("{}.{}.svc.cluster.local", d.service_name, d.namespace)
}

/// The DNS name of a service's Kubernetes Service.
pub(crate) fn service_host(s: &Workload) -> String {
    format!("{}.{}.svc.cluster.local", s.service_name, s.namespace)
}

/// The variables of `s`, with where each value comes from.
pub(crate) fn bindings<'c>(ctx: &Ctx<'c>, s: &Workload<'c>) -> Vec<Binding<'c>> {
    let bp = ctx.bp;
    let all = wiring::bindings(bp, s.bp, |name, kind| {
        if let Some(d) = ctx.data.iter().find(|d| d.name == name) {
            return Some(Flavor::InCluster {
                auth: d.credentials_secret.is_some(),
            });
        }
        match kind {
            // SQS: AWS only; the URLs name the account, so they come from the ConfigMap.
            Kind::Table | Kind::Sqs => ctx.opts.aws_region.as_ref().map(|_| Flavor::Aws),
            // S3 on AWS; Spaces on DigitalOcean (`backend::digitalocean::spaces`).
            Kind::Bucket => match ctx.opts.managed {
                Some(Flavor::DigitalOcean) => Some(Flavor::DigitalOcean),
                _ => ctx.opts.aws_region.as_ref().map(|_| Flavor::Aws),
            },
            Kind::Service => Some(Flavor::InCluster { auth: false }),
            _ => ctx.opts.managed,
        }
    });
    let all = match (ctx.opts.managed, &ctx.opts.aws_region) {
        (Some(fl), Some(region)) => wiring::with_known_cas(all, fl, region),
        _ => all,
    };
    wiring::without_own(s.bp, all)
}

/// `env` entries for the components `s` uses.
pub(crate) fn env<'c>(ctx: &'c Ctx, s: &'c Workload) -> Vec<Map<'c>> {
    let mut out = Vec::new();
    for b in bindings(ctx, s) {
        if let Some(e) = entry(ctx, s, &b) {
            out.push(e);
        }
    }
    // `uses[].env`: copies of finished entries under other names, the same source each.
    wiring::alias::copy(s.bp, &mut out, env_name, |e, var| {
        e.clone().with("name", var.to_string())
    });
    out
}

fn env_name<'a>(e: &'a Map) -> &'a str {
    match e.get("name") {
        Some(super::yaml::Y::Str(n)) => n,
        _ => "",
    }
}

fn literal<'c>(var: String, value: String) -> Map<'c> {
    map! {"name" => var, "value" => value}
}

fn config_map_env<'c>(var: String, config_map: String) -> Map<'c> {
    map! {
        "name" => var.clone(),
        "valueFrom" => map! {"configMapKeyRef" => map! {"name" => config_map, "key" => var}},
    }
}

fn entry<'c>(ctx: &'c Ctx, s: &'c Workload, b: &Binding<'c>) -> Option<Map<'c>> {
    let var = b.var.clone();
    if let Value::Key(k) = b.value {
        return Some(if ctx.opts.external_secrets {
            secret_env_owned(var.clone(), connections_name(s.name()), var)
        } else {
            secret_env_owned(var, ctx.secret_name(b.component), k.to_string())
        });
    }
    let Value::Field(f) = b.value else {
        return None;
    };
    if f == Field::CaFile {
        // A fixed path: the file is a key of the `<service>-connections` Secret or
        // ConfigMap, mounted by `ca_volume`.
        return Some(literal(var, wiring::ca_file(b.component)));
    }
    if b.kind == Kind::Service {
        // Another service: its Service's DNS name and port, as plain values.
        let t = ctx
            .services
            .iter()
            .find(|t| t.job.is_none() && t.name() == b.component)?;
        let h = service_host(t);
        let port = t.service_port().to_string();
        return Some(literal(
            var,
            match f {
                Field::Host => h,
                Field::Port => port,
                Field::Url => wiring::service_url(t.bp, &h, &port),
                _ => return None,
            },
        ));
    }
    if let Some(d) = ctx.data.iter().find(|d| d.name == b.component) {
        let h = host(d);
        let port = d.port.to_string();
        let db = d.database_name.clone();
        let cred = d.credentials_secret.clone().unwrap_or_default();
        return Some(match f {
            Field::Host => literal(var, h),
            Field::Port => literal(var, port),
            Field::Database => literal(var, db.unwrap_or_else(|| d.name.clone())),
            Field::Url => literal(var, wiring::url(b.kind, false, &h, &port, db.as_deref())),
            Field::Username => secret_env_owned(var, cred, "username".into()),
            Field::Password | Field::AuthToken => secret_env_owned(var, cred, d.password_key(ctx)),
            _ => return None,
        });
    }
    match b.kind {
        Kind::Table => {
            let region = ctx.opts.aws_region.clone()?;
            Some(literal(
                var,
                match f {
                    Field::Host => format!("dynamodb.{region}.amazonaws.com"),
                    Field::Port => "443".into(),
                    Field::Table => ctx
                        .bp
                        .tables
                        .iter()
                        .find(|t| t.name == b.component)
                        .map_or(b.component, |t| t.table_name())
                        .to_string(),
                    Field::Region => region,
                    _ => return None,
                },
            ))
        }
        _ => Some(
            if ctx
                .opts
                .managed
                .is_none_or(|fl| wiring::from_secret_store(b.kind, fl, f))
            {
                secret_env_owned(var.clone(), connections_name(s.name()), var)
            } else {
                config_map_env(var, connections_name(s.name()))
            },
        ),
    }
}

/// Point the release container's connection variables of a pooled database at the cluster
/// itself ([`wiring::pool`]: migrations need the session features transaction pooling
/// breaks): every `env` entry reading such a variable's key of the `<service>-connections`
/// ConfigMap or Secret — the generated one and its `uses[].env` copies — reads
/// [`wiring::pool::direct_key`] instead, which the back-end writes beside it. A value built
/// with `$(…)` from those variables follows them.
pub(crate) fn direct_for_release(ctx: &Ctx, s: &Workload, container: &mut Map) {
    let keys: std::collections::BTreeSet<String> = bindings(ctx, s)
        .into_iter()
        .filter(|b| matches!(b.value, Value::Field(f) if wiring::pool::DIFFERS.contains(&f)))
        .filter(|b| {
            ctx.bp.databases.iter().any(|d| {
                d.name == b.component && wiring::pool::release_goes_direct(d, ctx.opts.managed)
            })
        })
        .map(|b| b.var)
        .collect();
    if keys.is_empty() {
        return;
    }
    let object = connections_name(s.name());
    let Some(Y::Seq(env)) = container.get_mut("env") else {
        return;
    };
    for e in env {
        let Y::Map(e) = e else { continue };
        let Some(Y::Map(from)) = e.get_mut("valueFrom") else {
            continue;
        };
        for source in ["configMapKeyRef", "secretKeyRef"] {
            let Some(Y::Map(r)) = from.get_mut(source) else {
                continue;
            };
            let ours = matches!(r.get("name"), Some(Y::Str(n)) if *n == object);
            let key = match r.get("key") {
                Some(Y::Str(k)) if ours && keys.contains(k.as_ref()) => k.to_string(),
                _ => continue,
            };
            r.insert("key", wiring::pool::direct_key(&key));
        }
    }
}

/// The volume name of the managed databases' CA certificates.
const CA_VOLUME: &str = "database-ca";

/// The read-only volume holding the CA certificates of the managed databases `s` uses whose
/// provider signs their server certificates itself (`<NAME>_CA_FILE`): the keys
/// `<NAME>_CA_CERT` of the `<service>-connections` Secret — or ConfigMap, where the
/// certificates are public ([`wiring::ca_in_config_map`]) — as `<component>.crt` under
/// [`wiring::CA_DIR`]. `(mount, volume)`; `None` when it uses none.
pub(crate) fn ca_volume<'c>(ctx: &Ctx<'c>, s: &Workload<'c>) -> Option<(Map<'c>, Map<'c>)> {
    let items: Vec<Map> = bindings(ctx, s)
        .into_iter()
        .filter(|b| b.value == Value::Field(Field::CaFile))
        .map(|b| map! {"key" => wiring::ca_cert_key(&b.var), "path" => format!("{}.crt", b.component)})
        .collect();
    if items.is_empty() {
        return None;
    }
    let mount = map! {"name" => CA_VOLUME, "mountPath" => wiring::CA_DIR, "readOnly" => true};
    let volume = if ctx.opts.managed.is_some_and(wiring::ca_in_config_map) {
        map! {
            "name" => CA_VOLUME,
            "configMap" => map! {"name" => connections_name(s.name()), "items" => items},
        }
    } else {
        map! {
            "name" => CA_VOLUME,
            "secret" => map! {"secretName" => connections_name(s.name()), "items" => items},
        }
    };
    Some((mount, volume))
}

fn secret_env_owned<'c>(var: String, secret: String, key: String) -> Map<'c> {
    let mut m = secret_env("", secret, key);
    m.insert("name", var);
    m
}
