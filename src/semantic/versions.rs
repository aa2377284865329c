//! Versions against the catalog (`providers/releases.json`, judged on its `as_of` date):
//! a version its provider no longer creates is refused with the nearest supported one
//! suggested, unless `allow_unsupported: true` beside it accepts it for an existing
//! resource (then a warning); a chart or image version with a known critical
//! vulnerability is always refused. Versions still created at extra cost, or products
//! retired upstream, are warnings.
//!
//! | what | product judged |
//! |---|---|
//! | `cluster.version` | EKS (`--provider aws`, eks / eks_fargate), DOKS (`--provider digitalocean`) |
//! | managed `databases[].version` | RDS PostgreSQL / MySQL (AWS), Managed PostgreSQL / MongoDB (DigitalOcean) |
//! | managed `caches[].version` | ElastiCache Redis OSS / Valkey (AWS) |
//! | managed `queues[].version` | Amazon MQ for RabbitMQ (AWS) |
//! | in-cluster data services (`deployment: in_cluster`, any on `--provider kubernetes`, queues on DigitalOcean) | the engine image: `in_cluster.image`'s tag, else `version` |
//! | `kubernetes.ingress_controller.chart_version`, `kubernetes.cert_manager.chart_version` | the Helm charts a created cluster (EKS, DOKS) gets |

use crate::analysis::{DataKind, runs_in_cluster};
use crate::blueprint::types::{Blueprint, Deployment, InCluster, Platform};
use crate::catalog::Provider;
use crate::releases::{self, Verdict};

use super::Checker;

/// One judged version: where it is written, the verdict, whether the blueprint accepts an
/// unsupported version there.
pub struct Finding {
    pub path: String,
    pub verdict: Verdict,
    pub allowed: bool,
}

/// Refuse what the catalog says cannot be created.
pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    for f in findings(bp, c.provider) {
        let (message, suggestion, overridable) = match f.verdict {
            Verdict::Unsupported {
                message,
                suggestion,
            } if !f.allowed => (message, suggestion, true),
            Verdict::Vulnerable {
                message,
                suggestion,
            } => (message, suggestion, false),
            _ => continue,
        };
        let d = c.error(&f.path, message);
        d.expected = Some(if overridable {
            "a version the provider still creates".into()
        } else {
            "a version without a known critical vulnerability (`allow_unsupported` does not cover one)".into()
        });
        d.help = Some(if overridable {
            format!(
                "{suggestion}; for a resource that already runs this version, add `allow_unsupported: true` beside it"
            )
        } else {
            suggestion
        });
    }
}

/// Amazon MQ creates RabbitMQ 4.x brokers only on mq.m7g instances (3.13 also on mq.t3 and
/// mq.m5): the API rejects the combination, so it is refused here with the way out.
pub(crate) fn check_mq_instance(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Aws {
        return;
    }
    for (i, q) in bp.queues.iter().enumerate().filter(|(_, q)| !q.sqs()) {
        if q.deployment != Deployment::Managed {
            continue;
        }
        let Some(v) = or_default(q.version.as_deref(), Provider::Aws, "rabbitmq") else {
            continue;
        };
        if releases::numbers(&v).first().is_none_or(|m| *m < 4) {
            continue;
        }
        let Ok(size) = super::resolve_size(
            Provider::Aws,
            Provider::Aws.catalog(),
            crate::catalog::SizeKind::Queue,
            q.size.as_deref(),
            &q.sizes,
        ) else {
            continue;
        };
        if !size.starts_with("mq.m7g.") {
            let path = if q.version.is_some() {
                format!("queues[{i}].version")
            } else {
                format!("queues[{i}]")
            };
            let d = c.error(
                &path,
                format!("Amazon MQ runs RabbitMQ {v} only on mq.m7g instances, not `{size}`"),
            );
            d.expected = Some("an mq.m7g instance type for RabbitMQ 4".into());
            d.help = Some(
                "set `sizes: { aws: mq.m7g.large }` (or another mq.m7g size), or use version `3.13`"
                    .into(),
            );
        }
    }
}

/// The warnings `synth` shows: versions accepted with `allow_unsupported`, versions in
/// billed extended support, products retired upstream.
pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<crate::diagnostic::Note> {
    findings(bp, provider)
        .into_iter()
        .filter_map(|f| match f.verdict {
            Verdict::Warn(m) => Some(crate::diagnostic::Note::warning(
                "version-support",
                format!("`{}`: {m}", f.path),
            )),
            Verdict::Unsupported {
                message,
                suggestion,
            } if f.allowed => Some(crate::diagnostic::Note::warning(
                "version-support",
                format!(
                    "`{}`: {message}; accepted for an existing resource (`allow_unsupported: true`); {suggestion}",
                    f.path
                ),
            )),
            _ => None,
        })
        .collect()
}

/// The cluster's platform as `provider` realises it (EKS blueprints run on DOKS when
/// synthesized for DigitalOcean, on an existing cluster for `kubernetes`).
fn platform(bp: &Blueprint, provider: Provider) -> Option<Platform> {
    bp.platform_on(provider)
}

/// Whether the output creates the cluster and installs the platform charts into it.
fn installs_charts(bp: &Blueprint, provider: Provider) -> bool {
    matches!(
        (provider, platform(bp, provider)),
        (Provider::Aws, Some(Platform::Eks | Platform::EksFargate))
            | (Provider::Digitalocean, Some(Platform::Doks))
    )
}

/// The version a blueprint gives, else this provider's catalog default.
fn or_default(given: Option<&str>, provider: Provider, what: &str) -> Option<String> {
    given
        .map(String::from)
        .or_else(|| provider.catalog().default_version(what).map(String::from))
}

/// The catalog product of an engine image (`postgres:17.7`, `valkey/valkey:8.1.4`) and
/// its tag; `None` for a digest or an image infragen has no table for.
pub fn image_product(image: &str) -> Option<(&'static str, &str)> {
    if image.contains('@') {
        return None;
    }
    let (repo, tag) = image.rsplit_once(':').filter(|(_, t)| !t.contains('/'))?;
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let product = match name {
        "postgres" => "image-postgres",
        "mysql" => "image-mysql",
        "mongo" => "image-mongo",
        "redis" => "image-redis",
        "valkey" => "image-valkey",
        "rabbitmq" => "image-rabbitmq",
        _ => return None,
    };
    Some((product, tag))
}

/// The image product for an engine's catalog key (`postgres`, `mongodb`, …).
fn engine_image_product(engine: &str) -> &'static str {
    match engine {
        "postgres" => "image-postgres",
        "mysql" => "image-mysql",
        "mongodb" => "image-mongo",
        "redis" => "image-redis",
        "valkey" => "image-valkey",
        _ => "image-rabbitmq",
    }
}

/// Every version the blueprint's output relies on for `provider`, judged.
pub fn findings(bp: &Blueprint, provider: Provider) -> Vec<Finding> {
    let as_of = &releases::get().as_of;
    let mut out = Vec::new();
    let mut judge = |path: String, product: &str, version: &str, allowed: bool| {
        let verdict = releases::product(product).judge(version, as_of);
        if verdict != Verdict::Ok {
            out.push(Finding {
                path,
                verdict,
                allowed,
            });
        }
    };

    if let Some(cl) = &bp.cluster {
        let path = if cl.version.is_some() {
            "cluster.version"
        } else {
            "cluster"
        };
        let product = match (provider, platform(bp, provider)) {
            (Provider::Aws, Some(Platform::Eks | Platform::EksFargate)) => Some("eks"),
            (Provider::Digitalocean, Some(Platform::Doks)) => Some("doks"),
            _ => None,
        };
        if let (Some(product), Some(v)) = (
            product,
            or_default(cl.version.as_deref(), provider, "kubernetes"),
        ) {
            judge(path.into(), product, &v, cl.allow_unsupported);
        }
    }

    // An in-cluster data service: its image's tag when given, else its version.
    let in_cluster = |judge: &mut dyn FnMut(String, &str, &str, bool),
                      part: &str,
                      engine: &str,
                      version: Option<&str>,
                      ic: &InCluster,
                      allowed: bool| {
        if let Some(image) = &ic.image {
            if let Some((product, tag)) = image_product(image) {
                judge(
                    format!("{part}.in_cluster.image"),
                    product,
                    tag,
                    allowed || ic.allow_unsupported,
                );
            }
        } else if let Some(v) = or_default(version, Provider::Kubernetes, engine) {
            let path = if version.is_some() {
                format!("{part}.version")
            } else {
                part.to_string()
            };
            // Judged as the tag it runs (`7.1` for Redis runs the newest 7.x pin).
            let product = engine_image_product(engine);
            let tag = releases::product(product).image_tag(&v, &releases::get().as_of);
            judge(path, product, &tag, allowed);
        }
    };
    let in_cluster_here = |kind, deployment| runs_in_cluster(provider, kind, deployment);

    for (i, d) in bp.databases.iter().enumerate() {
        let part = format!("databases[{i}]");
        let engine = d.engine.name();
        if in_cluster_here(DataKind::Database, d.deployment) {
            in_cluster(
                &mut judge,
                &part,
                engine,
                d.version.as_deref(),
                &d.in_cluster,
                d.allow_unsupported,
            );
            continue;
        }
        let product = match (provider, engine) {
            (Provider::Aws, "postgres") => "rds-postgres",
            (Provider::Aws, "mysql") => "rds-mysql",
            (Provider::Digitalocean, "postgres") => "do-postgres",
            (Provider::Digitalocean, "mongodb") => "do-mongodb",
            _ => continue,
        };
        if let Some(v) = or_default(d.version.as_deref(), provider, engine) {
            let path = if d.version.is_some() {
                format!("{part}.version")
            } else {
                part
            };
            judge(path, product, &v, d.allow_unsupported);
        }
    }

    for (i, c) in bp.caches.iter().enumerate() {
        let part = format!("caches[{i}]");
        let engine = match c.engine {
            crate::blueprint::types::CacheEngine::Redis => "redis",
            crate::blueprint::types::CacheEngine::Valkey => "valkey",
        };
        if in_cluster_here(DataKind::Cache, c.deployment) {
            in_cluster(
                &mut judge,
                &part,
                engine,
                c.version.as_deref(),
                &c.in_cluster,
                c.allow_unsupported,
            );
            continue;
        }
        if provider != Provider::Aws {
            continue;
        }
        if let Some(v) = or_default(c.version.as_deref(), provider, engine) {
            let path = if c.version.is_some() {
                format!("{part}.version")
            } else {
                part
            };
            judge(
                path,
                &format!("elasticache-{engine}"),
                &v,
                c.allow_unsupported,
            );
        }
    }

    for (i, q) in bp.queues.iter().enumerate().filter(|(_, q)| !q.sqs()) {
        let part = format!("queues[{i}]");
        // DigitalOcean has no managed RabbitMQ: its managed queues run in the cluster.
        if in_cluster_here(DataKind::Queue, q.deployment) {
            in_cluster(
                &mut judge,
                &part,
                "rabbitmq",
                q.version.as_deref(),
                &q.in_cluster,
                q.allow_unsupported,
            );
            continue;
        }
        if provider != Provider::Aws {
            continue;
        }
        if let Some(v) = or_default(q.version.as_deref(), provider, "rabbitmq") {
            let path = if q.version.is_some() {
                format!("{part}.version")
            } else {
                part
            };
            judge(path, "mq-rabbitmq", &v, q.allow_unsupported);
        }
    }

    if installs_charts(bp, provider)
        && let Some(k) = &bp.kubernetes
    {
        // ingress-nginx is not installed when Envoy Gateway receives the traffic.
        if let Some(ic) = bp.ingress_nginx() {
            let (path, v) = match &ic.chart_version {
                Some(v) => ("kubernetes.ingress_controller.chart_version", v.as_str()),
                None => (
                    "kubernetes.ingress_controller",
                    crate::releases::pinned_chart("chart-ingress-nginx"),
                ),
            };
            judge(path.into(), "chart-ingress-nginx", v, ic.allow_unsupported);
        }
        if let Some(g) = bp
            .ingress
            .as_ref()
            .filter(|i| i.enabled)
            .and_then(|i| i.gateway.as_ref())
        {
            let (path, v) = match &g.chart_version {
                Some(v) => ("ingress.gateway.chart_version", v.as_str()),
                None => (
                    "ingress.gateway",
                    crate::releases::pinned_chart("chart-envoy-gateway"),
                ),
            };
            judge(path.into(), "chart-envoy-gateway", v, g.allow_unsupported);
        }
        if k.cert_manager.is_some() || !k.issuers.is_empty() {
            let cm = k.cert_manager.as_ref();
            let given = cm.and_then(|c| c.chart_version.as_deref());
            let (path, v) = match given {
                Some(v) => ("kubernetes.cert_manager.chart_version", v),
                None => (
                    "kubernetes",
                    crate::releases::pinned_chart("chart-cert-manager"),
                ),
            };
            judge(
                path.into(),
                "chart-cert-manager",
                v,
                cm.is_some_and(|c| c.allow_unsupported),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogs' default versions are ones the providers still create on the catalog
    /// date: a default whose end date is on or before `as_of` means the defaults are stale.
    #[test]
    fn catalog_defaults_are_supported_on_the_catalog_date() {
        let as_of = &releases::get().as_of;
        let cases = [
            (Provider::Aws, "kubernetes", "eks"),
            (Provider::Aws, "postgres", "rds-postgres"),
            (Provider::Aws, "mysql", "rds-mysql"),
            (Provider::Aws, "redis", "elasticache-redis"),
            (Provider::Aws, "valkey", "elasticache-valkey"),
            (Provider::Aws, "rabbitmq", "mq-rabbitmq"),
            (Provider::Digitalocean, "kubernetes", "doks"),
            (Provider::Digitalocean, "postgres", "do-postgres"),
            (Provider::Digitalocean, "mongodb", "do-mongodb"),
            (Provider::Kubernetes, "postgres", "image-postgres"),
            (Provider::Kubernetes, "mysql", "image-mysql"),
            (Provider::Kubernetes, "mongodb", "image-mongo"),
            (Provider::Kubernetes, "redis", "image-redis"),
            (Provider::Kubernetes, "valkey", "image-valkey"),
            (Provider::Kubernetes, "rabbitmq", "image-rabbitmq"),
        ];
        for (provider, what, product) in cases {
            let v = provider
                .catalog()
                .default_version(what)
                .unwrap_or_else(|| panic!("{provider}: no default {what}"));
            let verdict = releases::product(product).judge(v, as_of);
            assert!(
                matches!(verdict, Verdict::Ok),
                "{provider} default {what} {v}: {verdict:?}"
            );
            // The product must know the line, so the judgement is not vacuous.
            let p = releases::product(product);
            assert!(
                p.line_of(v).is_some_and(|l| p.lines.contains_key(&l)),
                "{provider} default {what} {v}: line not in the catalog"
            );
        }
    }

    #[test]
    fn image_products() {
        assert_eq!(image_product("mongo:6.0"), Some(("image-mongo", "6.0")));
        assert_eq!(
            image_product("valkey/valkey:8.1.4"),
            Some(("image-valkey", "8.1.4"))
        );
        assert_eq!(
            image_product("registry:5000/redis:7-alpine"),
            Some(("image-redis", "7-alpine"))
        );
        assert_eq!(image_product("postgres@sha256:abc"), None);
        assert_eq!(image_product("openzipkin/zipkin:2.24"), None);
    }
}
