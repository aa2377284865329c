//! The connection contract (`crate::wiring`) on AWS: where each variable's value comes from.
//!
//! - Endpoints are attributes of the resources in `infra` (RDS `address`, ElastiCache
//!   `primary_endpoint_address`, the Amazon MQ broker's AMQPS endpoint, the table and bucket
//!   names) or the regional API endpoints (DynamoDB, S3).
//! - Credentials are read by reference from where AWS keeps them, never copied: the
//!   secret `infra` writes a database's generated master credentials to (JSON keys
//!   `username`, `password`), the cache's AUTH token
//!   secret (a plain string), the broker's password in SSM Parameter Store (the user name is
//!   fixed), and the blueprint's own secrets by key.
//!
//! ECS reads them into the task (`environment` and `secrets`, the execution role allowed
//! exactly these ARNs and their KMS keys); EKS through External Secrets (`platform.rs`).

use super::{Ctx, cache, database, queue, secrets, sqs};
use crate::blueprint::types::{DatabaseEngine, Service};
use crate::terraform::{Expr, ident, interp, res};
use crate::tpl;
use crate::wiring::{self, Binding, Field, Flavor, Kind, Value};

/// Where a credential lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Secrets Manager secret by ARN, and the JSON key inside it (`None`: the whole
    /// string).
    Secret { arn: Expr, key: Option<String> },
    /// An SSM SecureString parameter by ARN.
    Parameter { arn: Expr },
}

/// A variable's value: text (possibly with Terraform references), or a credential source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Text(Expr),
    Credential(Source),
}

/// The KMS keys and services guarding a credential, for `kms:Decrypt` grants: (key ARN,
/// the service it is used through).
pub fn key_of(ctx: &Ctx, b: &Binding) -> Option<(Expr, &'static str)> {
    let bp = ctx.v.bp;
    match b.kind {
        Kind::Database(_) => {
            let d = bp.databases.iter().find(|d| d.name == b.component)?;
            // A blueprint secret holding generated credentials has the secrets' key.
            Some(if d.password_secret.is_some() {
                (secrets::key().arn(), "secretsmanager")
            } else {
                (res("aws_kms_key", "rds").arn(), "secretsmanager")
            })
        }
        Kind::Cache => {
            let c = bp.caches.iter().find(|c| c.name == b.component)?;
            Some(if c.auth_token_secret.is_some() {
                (secrets::key().arn(), "secretsmanager")
            } else {
                (res("aws_kms_key", "cache").arn(), "secretsmanager")
            })
        }
        Kind::Queue => Some((res("aws_kms_key", "mq").arn(), "ssm")),
        Kind::Secret => Some((secrets::key().arn(), "secretsmanager")),
        _ => None,
    }
}

/// Whether the component `name` of `kind` is created by `infra` on AWS.
fn flavor(ctx: &Ctx, name: &str, kind: Kind) -> Option<Flavor> {
    let managed = match kind {
        Kind::Database(_) => database::managed(ctx).any(|d| d.name == name),
        Kind::Cache => cache::managed(ctx).any(|c| c.name == name),
        Kind::Queue => queue::managed(ctx).any(|q| q.name == name),
        Kind::Sqs => sqs::created(ctx).any(|q| q.name == name),
        Kind::Table | Kind::Bucket | Kind::Secret => true,
        // Services reach services through the cluster's DNS, which the manifests write
        // (`k8s::connect`), and on ECS through Service Connect (`service_connect.rs`).
        Kind::Service => ctx.platform == Some(crate::blueprint::types::Platform::EcsFargate),
    };
    managed.then_some(Flavor::Aws)
}

/// The variables of `s` for the managed components it uses (in-cluster ones are the
/// manifests' business), minus those the blueprint sets itself.
pub fn bindings<'a, 'b: 'a>(ctx: &Ctx<'b>, s: &'a Service) -> Vec<Binding<'a>> {
    let all = wiring::bindings(ctx.v.bp, s, |name, kind| flavor(ctx, name, kind));
    wiring::without_own(s, wiring::with_known_cas(all, Flavor::Aws, &ctx.region))
}

/// Credentials `bindings` leaves to a service because it sets another credential of the same
/// component itself (`wiring::without_own`), which it does not set either: (the variable
/// missing, the one the service sets, the component). The task or pod would start without
/// it, e.g. with `DB_PASSWORD` and no `DB_USERNAME`, and fail to log in.
pub fn half_set_credentials(ctx: &Ctx, s: &Service) -> Vec<(String, String, String)> {
    let all = wiring::bindings(ctx.v.bp, s, |name, kind| flavor(ctx, name, kind));
    let own = |var: &str| s.env.contains_key(var) || s.secret_env.iter().any(|e| e.name == var);
    let mut out = Vec::new();
    // A cache's two credentials are one value (the AUTH token as `_AUTH_TOKEN` and
    // `_PASSWORD`): a service setting either has all it needs.
    for b in (all.iter()).filter(|b| b.secret() && !own(&b.var) && b.kind != Kind::Cache) {
        if let Some(set) = all
            .iter()
            .find(|o| o.component == b.component && o.secret() && own(&o.var))
        {
            out.push((b.var.clone(), set.var.clone(), b.component.to_string()));
        }
    }
    out
}

/// Which root module the values are written in: `infra` refers to the resources, `platform`
/// (EKS) finds them again by data source and names secrets by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Infra,
    Platform,
}

/// The data sources the platform module needs for the bindings of every service: (data
/// source, arguments).
pub fn sources(ctx: &Ctx, all: &[Binding]) -> Vec<(crate::terraform::Ref, crate::terraform::Json)> {
    use crate::json;
    let bp = ctx.v.bp;
    let mut out: Vec<(crate::terraform::Ref, crate::terraform::Json)> = Vec::new();
    for b in all {
        let (r, body) = match b.kind {
            Kind::Database(_) => {
                let Some(d) = bp.databases.iter().find(|d| d.name == b.component) else {
                    continue;
                };
                // The credentials' secret is found by name: only endpoints need the instance.
                if b.secret() {
                    continue;
                }
                // The first read replica, by the identifier `database.rs` gives it.
                if b.value == Value::Field(Field::ReplicaHost) {
                    (
                        crate::terraform::data("aws_db_instance", &replica(d)),
                        json!({"db_instance_identifier": format!("{}-replica", database::identifier(ctx, d))}),
                    )
                } else {
                    (
                        crate::terraform::data("aws_db_instance", &d.name),
                        json!({"db_instance_identifier": database::identifier(ctx, d)}),
                    )
                }
            }
            Kind::Cache => {
                let Some(c) = bp.caches.iter().find(|c| c.name == b.component) else {
                    continue;
                };
                (
                    crate::terraform::data("aws_elasticache_replication_group", &c.name),
                    json!({"replication_group_id": cache::identifier(ctx, c)}),
                )
            }
            Kind::Queue => (
                crate::terraform::data("aws_mq_broker", b.component),
                json!({"broker_name": format!("{}-{}", ctx.prefix, b.component)}),
            ),
            Kind::Sqs => {
                let Some(q) = bp.sqs_queues().find(|q| q.name == b.component) else {
                    continue;
                };
                let dlq = b.value == Value::Field(Field::DlqUrl);
                if !matches!(b.value, Value::Field(Field::Url | Field::DlqUrl)) {
                    continue;
                }
                (
                    crate::terraform::data("aws_sqs_queue", &sqs::label(&q.name, dlq)),
                    json!({"name": sqs::name(ctx, q, dlq)}),
                )
            }
            _ => continue,
        };
        if !out.iter().any(|(x, _)| x == &r) {
            out.push((r, body));
        }
    }
    out
}

/// The name of a database's first read replica (`database.rs` names its resource so).
fn replica(d: &crate::blueprint::types::Database) -> String {
    format!("{}-replica", d.name)
}

/// [`wiring::url`] with a host from a reference (TLS: every managed endpoint on AWS has it).
fn url(kind: Kind, host: &Expr, port: &str, database: Option<&str>) -> Expr {
    let (before, after) = wiring::url_around(kind, true, database);
    tpl!(before, host, ":", port, after)
}

/// The value of one variable, written for module `at`.
pub fn resolve(ctx: &Ctx, b: &Binding, at: In) -> Option<Resolved> {
    let bp = ctx.v.bp;
    let platform = at == In::Platform;
    let bucket_id = |name: &str| {
        if platform {
            bp.buckets
                .iter()
                .find(|x| x.name == name)
                .map(|x| super::buckets::bucket_name(ctx, x))
                .unwrap_or_default()
        } else {
            res("aws_s3_bucket", name).id()
        }
    };
    let region = &ctx.region;
    let text = |s: Expr| Some(Resolved::Text(s));
    let lit = |s: &str| Some(Resolved::Text(Expr::lit(s)));
    if let Value::Key(k) = b.value {
        let arn = if platform {
            Expr::lit(&secrets::name(ctx, b.component))
        } else {
            secrets::secret(b.component).arn()
        };
        return Some(Resolved::Credential(Source::Secret {
            arn,
            key: Some(k.to_string()),
        }));
    }
    let Value::Field(f) = b.value else {
        return None;
    };
    match b.kind {
        Kind::Database(engine) => {
            let d = bp.databases.iter().find(|d| d.name == b.component)?;
            let i = if platform {
                crate::terraform::data("aws_db_instance", &d.name)
            } else {
                database::instance(&d.name)
            };
            let db = d
                .database_name
                .clone()
                .or_else(|| (engine == DatabaseEngine::Postgres).then(|| "postgres".to_string()));
            let master = |key: &str| {
                let arn = if platform {
                    // The generated credentials' secret, named, like the caches' tokens.
                    Expr::lit(&database::own_secret_name(ctx, d))
                } else {
                    database::own_secret(d).arn()
                };
                Some(Resolved::Credential(Source::Secret {
                    arn,
                    key: Some(key.into()),
                }))
            };
            match f {
                Field::Host => text(i.attr("address")),
                Field::ReplicaHost => text(if platform {
                    crate::terraform::data("aws_db_instance", &replica(d)).attr("address")
                } else {
                    database::instance(&replica(d)).attr("address")
                }),
                Field::Port => lit(&database::port(d).to_string()),
                Field::Database => lit(&db?),
                Field::Url => text(url(
                    b.kind,
                    &i.attr("address"),
                    &database::port(d).to_string(),
                    db.as_deref(),
                )),
                Field::Username => master("username"),
                Field::Password => master("password"),
                // The region's RDS bundle, where the task or pod mounts it
                // (`sidecars::volume_setup` on ECS, `k8s::connect::ca_volume` on EKS).
                Field::CaFile => lit(&wiring::ca_file(b.component)),
                _ => None,
            }
        }
        Kind::Cache => {
            let c = bp.caches.iter().find(|c| c.name == b.component)?;
            let g = if platform {
                crate::terraform::data("aws_elasticache_replication_group", &c.name)
            } else {
                cache::group(&c.name)
            };
            let host = g.attr("primary_endpoint_address");
            let port = cache::port(c).to_string();
            match f {
                Field::Host => text(host),
                Field::Url => text(url(b.kind, &host, &port, None)),
                Field::Port => lit(&port),
                // The same secret under both names (`wiring::fields`).
                Field::AuthToken | Field::Password => Some(Resolved::Credential(Source::Secret {
                    arn: if platform {
                        Expr::lit(&cache::auth_secret_name(ctx, c))
                    } else {
                        cache::auth_secret(c).arn()
                    },
                    key: None,
                })),
                _ => None,
            }
        }
        Kind::Queue => {
            let q = bp.brokers().find(|q| q.name == b.component)?;
            let broker = if platform {
                crate::terraform::data("aws_mq_broker", &q.name)
            } else {
                res("aws_mq_broker", &q.name)
            };
            let endpoint = broker.path("instances[0].endpoints[0]");
            match f {
                // In `infra`, the local `queue.rs` declares: the inline expression's quoted
                // arguments break inside ECS's JSON container definitions.
                Field::Host if !platform => {
                    text(crate::terraform::local(&queue::host_local(&q.name)))
                }
                Field::Host => text(interp(&format!(
                    "trimsuffix(trimprefix({endpoint}, \"amqps://\"), \":5671\")"
                ))),
                Field::Port => lit("5671"),
                Field::Url => text(interp(&endpoint)),
                Field::Username => lit(&format!("{}_admin", ident(&q.name))),
                Field::Password => Some(Resolved::Credential(Source::Parameter {
                    arn: if platform {
                        Expr::lit(&super::queue::password_parameter_name(ctx, &q.name))
                    } else {
                        res("aws_ssm_parameter", &format!("{}_admin_password", q.name)).arn()
                    },
                })),
                _ => None,
            }
        }
        Kind::Sqs => {
            let q = bp.sqs_queues().find(|q| q.name == b.component)?;
            // In `platform` (EKS) the queues are found again by name: a URL names the
            // account, which only Terraform knows.
            let queue = |dlq: bool| {
                if platform {
                    crate::terraform::data("aws_sqs_queue", &sqs::label(&q.name, dlq))
                } else {
                    sqs::queue(&q.name, dlq)
                }
            };
            match f {
                Field::Url => text(queue(false).attr("url")),
                Field::DlqUrl => text(queue(true).attr("url")),
                Field::Queue => lit(&sqs::name(ctx, q, false)),
                Field::Region => lit(region),
                _ => None,
            }
        }
        Kind::Table => match f {
            Field::Host => lit(&format!("dynamodb.{region}.amazonaws.com")),
            Field::Port => lit("443"),
            Field::Table => text(if platform {
                Expr::lit(
                    bp.tables
                        .iter()
                        .find(|t| t.name == b.component)
                        .map_or(b.component, |t| t.table_name()),
                )
            } else {
                res("aws_dynamodb_table", b.component).attr("name")
            }),
            Field::Region => lit(region),
            _ => None,
        },
        Kind::Bucket => match f {
            Field::Host => lit(&format!("s3.{region}.amazonaws.com")),
            Field::Port => lit("443"),
            Field::Bucket => text(bucket_id(b.component)),
            Field::Url => text(tpl!("s3://", bucket_id(b.component))),
            Field::Region => lit(region),
            // S3's regional endpoint (https://docs.aws.amazon.com/general/latest/gr/s3.html).
            Field::Endpoint => lit(&format!("https://s3.{region}.amazonaws.com")),
            _ => None,
        },
        Kind::Service => {
            // Service Connect's client alias: the service's name on its container port.
            let t = bp.services.iter().find(|x| x.name == b.component)?;
            let port = t.port?.to_string();
            match f {
                Field::Host => lit(&t.name),
                Field::Port => lit(&port),
                Field::Url => lit(&wiring::service_url(t, &t.name, &port)),
                _ => None,
            }
        }
        Kind::Secret => None,
    }
}

/// [`resolve`] for binding `b` of a workload whose variables are `list`: a database URL
/// names the CA file the workload gets (`sslrootcert=…`, [`wiring::ca_query`]), so a client
/// that verifies the server (node-postgres reads `sslmode=require` as `verify-full`) trusts
/// RDS's CA, and a libpq-style one checks the chain (`require` with a root certificate is
/// `verify-ca`).
pub fn resolve_in(ctx: &Ctx, list: &[Binding], b: &Binding, at: In) -> Option<Resolved> {
    let r = resolve(ctx, b, at)?;
    match r {
        Resolved::Text(t)
            if b.value == Value::Field(Field::Url)
                && matches!(b.kind, Kind::Database(_))
                && wiring::gets_ca_file(list, b.component) =>
        {
            Some(Resolved::Text(tpl!(
                t,
                wiring::ca_query(b.kind, b.component)
            )))
        }
        r => Some(r),
    }
}

/// The PEM bundle behind every `_CA_FILE` on AWS: the region's RDS CAs
/// ([`wiring::rds_ca::bundle`]; `bindings` gives no `_CA_FILE` where there is none).
pub fn ca_bundle(ctx: &Ctx) -> Option<String> {
    wiring::rds_ca::bundle(&ctx.region)
}

/// The blueprint secrets a workload reads whose values are set out of band: Secrets
/// Manager holds them empty until someone puts a value, and a task (ECS) or an
/// ExternalSecret (EKS) cannot read an empty secret. A cache's AUTH token secret is filled by
/// Terraform and not listed.
pub fn secret_values(ctx: &Ctx) -> Vec<crate::wiring::Precondition> {
    let bp = ctx.v.bp;
    let mut read: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for s in bp.workloads() {
        read.extend(set_out_of_band(ctx, s));
    }
    // On ECS, `infra` waits for the values of the secrets its services read (`readiness.rs`).
    let mut awaited: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    if ctx.platform == Some(crate::blueprint::types::Platform::EcsFargate) {
        for s in &bp.services {
            awaited.extend(set_out_of_band(ctx, s));
        }
    }
    bp.secrets
        .iter()
        .filter(|s| read.contains(s.name.as_str()))
        .map(|s| crate::wiring::Precondition {
            kind: "SecretsManagerSecretValue".into(),
            namespace: String::new(),
            // The secret at hand, not looked up by name again (a linear search per secret).
            name: secrets::path_of(s).to_string(),
            keys: s.keys.clone(),
            why: if awaited.contains(s.name.as_str()) {
                format!(
                    "blueprint secret `{}`: `infra` creates it empty and stops before the ECS services that read it (their first deployment would stall); put its value (`aws secretsmanager put-secret-value`) and apply `infra` again",
                    s.name
                )
            } else {
                format!(
                    "blueprint secret `{}`: `infra` creates it empty; put its value (`aws secretsmanager put-secret-value`) before the workloads that read it start",
                    s.name
                )
            },
        })
        .collect()
}

/// The blueprint secrets workload `s` reads (`secret_env`, `uses` naming a secret, or
/// `image_credentials`) whose
/// values are set out of band: all but the caches' AUTH token secrets, which Terraform fills.
pub fn set_out_of_band<'a>(ctx: &Ctx<'a>, s: &'a Service) -> std::collections::BTreeSet<&'a str> {
    let bp = ctx.v.bp;
    let generated: Vec<&str> = cache::managed(ctx)
        .filter_map(|c| c.auth_token_secret.as_deref())
        .chain(database::filled_secrets(ctx))
        .collect();
    s.secret_env
        .iter()
        .map(|e| e.secret.as_str())
        .chain(
            s.uses
                .iter()
                .filter(|u| bp.secrets.iter().any(|x| x.name == u.name))
                .map(|u| u.as_str()),
        )
        // The registry login of a private image (`repositoryCredentials`): read at pull.
        .chain(s.image_credentials.as_deref())
        .filter(|name| !generated.contains(name))
        .collect()
}
