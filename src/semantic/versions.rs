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
//! | in-cluster data services (`deployment: in_cluster`, any on `--provider kubernetes`, queues on DigitalOcean) | the engine version `in_cluster.image`'s tag states (official images and well-known ones built on them, [`image_version`]), else `version` (a tag stating none: warning `image-version`) |
//! | `kubernetes.ingress_controller.chart_version`, `kubernetes.cert_manager.chart_version` | the Helm charts a created cluster (EKS, DOKS) gets |

use crate::analysis::{DataKind, runs_in_cluster};
use crate::blueprint::types::{Blueprint, Deployment, InCluster, Platform};
use crate::catalog::Provider;
use crate::releases::{self, Verdict};
pub use crate::releases::{ImageVersion, image_version};

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

/// One in-cluster data service for `provider`: its path (`databases[0]`), engine catalog key,
/// given `version` and `in_cluster` block.
struct InClusterService<'a> {
    part: String,
    engine: &'static str,
    version: Option<&'a str>,
    ic: &'a InCluster,
}

fn in_cluster_services(bp: &Blueprint, provider: Provider) -> Vec<InClusterService<'_>> {
    let here = |kind, deployment| runs_in_cluster(provider, kind, deployment);
    let mut out = Vec::new();
    for (i, d) in bp.databases.iter().enumerate() {
        if here(DataKind::Database, d.deployment) {
            out.push(InClusterService {
                part: format!("databases[{i}]"),
                engine: d.engine.name(),
                version: d.version.as_deref(),
                ic: &d.in_cluster,
            });
        }
    }
    for (i, c) in bp.caches.iter().enumerate() {
        if here(DataKind::Cache, c.deployment) {
            out.push(InClusterService {
                part: format!("caches[{i}]"),
                engine: match c.engine {
                    crate::blueprint::types::CacheEngine::Redis => "redis",
                    crate::blueprint::types::CacheEngine::Valkey => "valkey",
                },
                version: c.version.as_deref(),
                ic: &c.in_cluster,
            });
        }
    }
    for (i, q) in bp.queues.iter().enumerate().filter(|(_, q)| !q.sqs()) {
        if here(DataKind::Queue, q.deployment) {
            out.push(InClusterService {
                part: format!("queues[{i}]"),
                engine: "rabbitmq",
                version: q.version.as_deref(),
                ic: &q.in_cluster,
            });
        }
    }
    out
}

/// The engine's name as the versions catalog titles its image (`PostgreSQL`).
fn engine_title(product: &str) -> &'static str {
    let title = releases::product(product).title.as_str();
    title.split(" container image").next().unwrap_or(title)
}

/// An in-cluster data service whose `version` names another line than its image's tag:
/// `version` decides what infragen writes for the engine (the catalog judgement, the
/// MongoDB probe's shell: `mongo` before 6.0, `mongosh` after), while the image decides
/// what runs — refused, so the two cannot disagree silently.
pub(crate) fn check_image_versions(c: &mut Checker, bp: &Blueprint) {
    for s in in_cluster_services(bp, c.provider) {
        let (Some(given), Some(image)) = (s.version, s.ic.image.as_deref()) else {
            continue;
        };
        let Some(iv) = image_version(image) else {
            continue;
        };
        let key = releases::product(iv.product).key;
        let (a, b) = (releases::numbers(given), releases::numbers(&iv.version));
        let n = a.len().min(b.len()).min(key);
        if n == 0 || a[..n] == b[..n] {
            continue;
        }
        let stated: Vec<String> = b[..n].iter().map(u32::to_string).collect();
        let stated = stated.join(".");
        let engine = engine_title(iv.product);
        let d = c.error(
            &format!("{}.version", s.part),
            format!("`version` {given} but `in_cluster.image` `{image}` runs {engine} {stated}"),
        );
        d.expected = Some(format!(
            "the {engine} version the image runs (`version` decides what infragen writes for it)"
        ));
        d.help = Some(format!(
            "set `version: \"{stated}\"` (or remove it: the image's tag is read), or use an image of {engine} {given}"
        ));
    }
}

/// An in-cluster image whose tag states no engine version infragen can read (a digest,
/// `latest`, an image it has no tag scheme for): accepted, with one warning per service
/// that the version is not checked — and which version infragen assumes.
fn unread_image_warnings(bp: &Blueprint, provider: Provider) -> Vec<crate::diagnostic::Note> {
    let mut out = Vec::new();
    for s in in_cluster_services(bp, provider) {
        let Some(image) = s.ic.image.as_deref() else {
            continue;
        };
        if image_version(image).is_some() {
            continue;
        }
        let engine = engine_title(engine_image_product(s.engine));
        let text = match s.version {
            Some(v) => format!(
                "`{}.in_cluster.image`: infragen cannot read the {engine} version `{image}` runs from its tag, so it assumes `version` {v} (judged against the versions catalog) and does not check that the image runs it",
                s.part
            ),
            None => {
                let assumed = or_default(None, Provider::Kubernetes, s.engine).unwrap_or_default();
                format!(
                    "`{}.in_cluster.image`: infragen cannot read the {engine} version `{image}` runs from its tag, so that version is not checked against the versions catalog (end of life, known vulnerabilities); it assumes {engine} {assumed}, the default — set `version` to the version the image runs, or use a tag that states it",
                    s.part
                )
            }
        };
        out.push(crate::diagnostic::Note::warning("image-version", text));
    }
    out
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
    let mut notes: Vec<crate::diagnostic::Note> = findings(bp, provider)
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
        .collect();
    notes.extend(unread_image_warnings(bp, provider));
    notes
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

/// The catalog product of an engine image and the version its tag states (see
/// [`image_version`]).
pub fn image_product(image: &str) -> Option<(&'static str, String)> {
    image_version(image).map(|v| (v.product, v.version))
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

    // An in-cluster data service: the version its image's tag states, else its version
    // (also for an image whose tag states none: infragen assumes it, and warns).
    let mut prefixes: Vec<(String, String, String)> = Vec::new();
    let in_cluster = |judge: &mut dyn FnMut(String, &str, &str, bool),
                      prefixes: &mut Vec<(String, String, String)>,
                      part: &str,
                      engine: &str,
                      version: Option<&str>,
                      ic: &InCluster,
                      allowed: bool| {
        let stated = ic.image.as_deref().and_then(image_version);
        if let (Some(image), Some(iv)) = (&ic.image, &stated) {
            let path = format!("{part}.in_cluster.image");
            if iv.scheme.is_none() {
                judge(
                    path,
                    iv.product,
                    &iv.version,
                    allowed || ic.allow_unsupported,
                );
            } else {
                // Judged as the engine it runs, saying which image runs it.
                let engine_name = engine_title(iv.product);
                let prefix = format!(
                    "`{image}` runs {engine_name} {} (its tag's scheme {}): ",
                    iv.version,
                    iv.scheme.unwrap_or_default()
                );
                let repo = image.rsplit_once(':').map_or(image.as_str(), |(r, _)| r);
                let suffix = format!(" (as a `{repo}` tag of its scheme)");
                prefixes.push((path.clone(), prefix, suffix));
                judge(
                    path,
                    iv.product,
                    &iv.version,
                    allowed || ic.allow_unsupported,
                );
            }
        } else if ic.image.is_none() || version.is_some() {
            let Some(v) = or_default(version, Provider::Kubernetes, engine) else {
                return;
            };
            let path = if version.is_some() {
                format!("{part}.version")
            } else {
                part.to_string()
            };
            // Judged as the tag it runs (`7.1` for Redis runs the newest 7.x pin).
            let product = engine_image_product(engine);
            let tag = releases::product(product).image_tag(&v, &releases::get().as_of);
            judge(
                path,
                product,
                &tag,
                allowed || (ic.image.is_some() && ic.allow_unsupported),
            );
        }
    };
    let in_cluster_here = |kind, deployment| runs_in_cluster(provider, kind, deployment);

    for (i, d) in bp.databases.iter().enumerate() {
        let part = format!("databases[{i}]");
        let engine = d.engine.name();
        if in_cluster_here(DataKind::Database, d.deployment) {
            in_cluster(
                &mut judge,
                &mut prefixes,
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
                &mut prefixes,
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
                &mut prefixes,
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
    for f in &mut out {
        if let Some((_, prefix, suffix)) = prefixes.iter().find(|(p, _, _)| *p == f.path) {
            match &mut f.verdict {
                Verdict::Warn(message) => message.insert_str(0, prefix),
                Verdict::Unsupported {
                    message,
                    suggestion,
                }
                | Verdict::Vulnerable {
                    message,
                    suggestion,
                } => {
                    message.insert_str(0, prefix);
                    suggestion.push_str(suffix);
                }
                Verdict::Ok => {}
            }
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
        let p = |i: &str| image_product(i);
        let some = |product: &'static str, v: &str| Some((product, v.to_string()));
        assert_eq!(p("mongo:6.0"), some("image-mongo", "6.0"));
        assert_eq!(p("valkey/valkey:8.1.4"), some("image-valkey", "8.1.4"));
        assert_eq!(
            p("registry:5000/redis:7-alpine"),
            some("image-redis", "7-alpine")
        );
        assert_eq!(p("postgres@sha256:abc"), None);
        assert_eq!(p("postgres:latest"), None);
        assert_eq!(p("openzipkin/zipkin:2.24"), None);
        // Images built on the engine's, by their publishers' tag schemes.
        assert_eq!(p("postgis/postgis:12-3.4"), some("image-postgres", "12"));
        assert_eq!(
            p("postgis/postgis:17-3.5-alpine"),
            some("image-postgres", "17")
        );
        assert_eq!(p("postgis/postgis:latest"), None);
        assert_eq!(p("pgvector/pgvector:pg16"), some("image-postgres", "16"));
        assert_eq!(
            p("pgvector/pgvector:0.8.1-pg17-bookworm"),
            some("image-postgres", "17")
        );
        assert_eq!(
            p("timescale/timescaledb:2.17.2-pg16"),
            some("image-postgres", "16")
        );
        assert_eq!(
            p("timescale/timescaledb:latest-pg13-oss"),
            some("image-postgres", "13")
        );
        assert_eq!(
            p("timescale/timescaledb-ha:pg16.6-ts2.17.2"),
            some("image-postgres", "16.6")
        );
        assert_eq!(
            p("bitnami/postgresql:11.22.0-debian-11-r4"),
            some("image-postgres", "11.22.0")
        );
        assert_eq!(
            p("redis/redis-stack-server:7.2.0-v10"),
            some("image-redis", "7.2")
        );
        assert_eq!(
            p("percona/percona-server-mongodb:5.0"),
            some("image-mongo", "5.0")
        );
        assert_eq!(
            p("percona/percona-server-mongodb:8.0.26-11"),
            some("image-mongo", "8.0.26")
        );
        assert_eq!(p("bitnami/mongodb:7.0.14"), some("image-mongo", "7.0.14"));
    }

    /// A derived image is judged as the engine it runs, by the same catalog and rules.
    #[test]
    fn derived_images_are_judged_as_their_engine() {
        let as_of = &releases::get().as_of;
        let judge = |i: &str| {
            let (product, v) = image_product(i).unwrap();
            releases::product(product).judge(&v, as_of)
        };
        assert!(matches!(
            judge("postgis/postgis:12-3.4"),
            Verdict::Unsupported { .. }
        ));
        assert_eq!(judge("postgis/postgis:17-3.5"), Verdict::Ok);
        assert_eq!(judge("pgvector/pgvector:pg16"), Verdict::Ok);
        assert!(matches!(
            judge("percona/percona-server-mongodb:5.0"),
            Verdict::Unsupported { .. }
        ));
        assert!(matches!(
            judge("bitnami/redis:7.2.4-debian-12-r0"),
            Verdict::Vulnerable { .. }
        ));
    }
}
