//! The versions catalog (`providers/releases.json`): per product (EKS, DOKS, RDS engines,
//! ElastiCache, Amazon MQ, Helm charts, in-cluster engine images) the version lines a
//! provider still creates, their end dates, the oldest version still created, the version
//! infragen pins, and known critical vulnerabilities, each with its source.
//!
//! Every judgement is against the catalog's own date (`as_of`), never the clock, so the
//! same blueprint always gives the same output; refreshing the catalog is a deliberate
//! change with its own snapshot diff.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Releases {
    /// `YYYY-MM-DD`: the day the table was last checked; stands in for today.
    pub as_of: String,
    pub products: BTreeMap<String, Product>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub title: String,
    /// How many version components name a line: 1 (`17`) or 2 (`1.33`, `8.4`).
    pub key: usize,
    /// Where the dates come from (the catalog's comment field; required).
    pub source: String,
    #[serde(default)]
    pub lines: BTreeMap<String, Line>,
    /// Retired upstream: still installable, no further releases.
    #[serde(default)]
    pub retired: Option<Retired>,
    #[serde(default)]
    pub vulnerable: Vec<Vulnerability>,
    /// The version infragen pins when the blueprint gives none (charts).
    #[serde(default)]
    pub pin: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Last day the provider creates (or upstream supports) the line; `None`: no end
    /// announced.
    pub end: Option<String>,
    /// First day of billed extended support, when the provider has one.
    #[serde(default)]
    pub standard_end: Option<String>,
    /// Oldest full version of the line the provider still creates.
    #[serde(default)]
    pub min: Option<String>,
    /// Full version infragen pins for the line (container images).
    #[serde(default)]
    pub pin: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    pub date: String,
    pub last: String,
    pub successor: String,
}

/// Versions in `[from, fixed)` carry the vulnerability.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vulnerability {
    pub id: String,
    pub what: String,
    pub from: String,
    pub fixed: String,
    pub source: String,
}

/// What the catalog says about one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Still created, but costs extra or is retired upstream: a lint warning.
    Warn(String),
    /// No longer created (or past end of life): refused unless the blueprint accepts it
    /// for an existing resource (`allow_unsupported`).
    Unsupported {
        message: String,
        suggestion: String,
    },
    /// A known critical vulnerability: always refused.
    Vulnerable {
        message: String,
        suggestion: String,
    },
}

pub fn get() -> &'static Releases {
    static R: OnceLock<Releases> = OnceLock::new();
    R.get_or_init(|| {
        // Part of the binary and covered by tests: a parse failure is a build defect.
        serde_json::from_str(include_str!("../providers/releases.json"))
            .unwrap_or_else(|e| panic!("providers/releases.json is invalid: {e}"))
    })
}

/// A product by its catalog name (`eks`, `rds-postgres`, `image-mongo`, …); the names are
/// fixed in code and covered by tests.
pub fn product(name: &str) -> &'static Product {
    get()
        .products
        .get(name)
        .unwrap_or_else(|| panic!("providers/releases.json has no product `{name}`"))
}

/// The numeric components of a version: `v1.21.2` → [1, 21, 2], `1.33.6-do.0` → [1, 33, 6],
/// `8.2.2-alpine` → [8, 2, 2], `7-alpine` → [7]. Stops at the first non-number.
pub fn numbers(version: &str) -> Vec<u32> {
    version
        .trim_start_matches('v')
        .split(['.', '-'])
        .map_while(|p| p.parse().ok())
        .collect()
}

fn join(n: &[u32]) -> String {
    n.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

impl Product {
    /// The line a version belongs to (`1.28.4` → `1.28` for a two-component key).
    pub fn line_of(&self, version: &str) -> Option<String> {
        let n = numbers(version);
        (n.len() >= self.key).then(|| join(&n[..self.key]))
    }

    /// Lines still created on `as_of`, oldest first.
    pub fn supported(&self, as_of: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .lines
            .iter()
            .filter(|(_, l)| l.end.as_deref().is_none_or(|e| e > as_of))
            .map(|(k, _)| k.as_str())
            .collect();
        v.sort_by_key(|k| numbers(k));
        v
    }

    /// The supported line nearest to `version`: the oldest supported one not older than it,
    /// else the newest.
    pub fn nearest(&self, version: &str, as_of: &str) -> Option<&str> {
        let want = numbers(version);
        let want = &want[..want.len().min(self.key)];
        let supported = self.supported(as_of);
        supported
            .iter()
            .find(|k| numbers(k).as_slice() >= want)
            .or(supported.last())
            .copied()
    }

    /// The pinned full version of a line (images), else the line itself.
    pub fn pin_for(&self, line: &str) -> String {
        self.lines
            .get(line)
            .and_then(|l| l.pin.clone())
            .unwrap_or_else(|| line.to_string())
    }

    /// The image tag an engine version runs as: a line the catalog knows (`17`, `8.0`) runs
    /// its pinned full version (`17.7`); a line it does not know, or a bare major (`7.1`,
    /// `7` for Redis), the pin of the newest supported line of that major (`7.4.6`), as the
    /// floating major tag would; a full version as written.
    pub fn image_tag(&self, version: &str, as_of: &str) -> String {
        let n = numbers(version);
        if n.is_empty() || n.len() > self.key {
            return version.to_string();
        }
        if n.len() == self.key && self.lines.contains_key(&join(&n)) {
            return self.pin_for(&join(&n));
        }
        self.supported(as_of)
            .into_iter()
            .rev()
            .find(|k| numbers(k).first() == n.first())
            .map(|k| self.pin_for(k))
            .unwrap_or_else(|| version.to_string())
    }

    /// Judge `version` against the catalog on `as_of`.
    pub fn judge(&self, version: &str, as_of: &str) -> Verdict {
        let n = numbers(version);
        let title = &self.title;
        // A floating tag (`7`, `8.2`) resolves to its line's newest patch: only full
        // versions are matched against vulnerable ranges.
        if n.len() >= 3 {
            for v in &self.vulnerable {
                if numbers(&v.from) <= n && n < numbers(&v.fixed) {
                    let suggestion = self
                        .line_of(version)
                        .and_then(|l| self.lines.get(&l).and_then(|x| x.pin.clone()))
                        .or_else(|| self.pin.clone())
                        .map(|p| format!("use {p} (the pinned, patched release)"))
                        .unwrap_or_else(|| format!("use {} or later", v.fixed));
                    return Verdict::Vulnerable {
                        message: format!(
                            "{title} {version} has {} ({}), fixed in {}",
                            v.id, v.what, v.fixed
                        ),
                        suggestion,
                    };
                }
            }
        }
        let suggest = |what: &str| -> String {
            let Some(k) = self.nearest(version, as_of) else {
                return "move to a supported version".into();
            };
            let pin = self.pin_for(k);
            let mut s = if pin == k {
                format!("{what} `{k}`")
            } else {
                format!("{what} `{k}` (pinned as {pin})")
            };
            // The nearest line may only be in billed extended support: name the oldest one
            // in standard support too.
            let extended = |k: &str| {
                self.lines
                    .get(k)
                    .and_then(|l| l.standard_end.as_deref())
                    .is_some_and(|e| e <= as_of)
            };
            if extended(k)
                && let Some(std) = self.supported(as_of).into_iter().find(|l| !extended(l))
            {
                s.push_str(&format!(
                    " (in billed extended support; `{std}` is the oldest in standard support)"
                ));
            }
            s
        };
        if let Some(line) = self.line_of(version) {
            match self.lines.get(&line) {
                Some(l) => {
                    if let Some(end) = l.end.as_deref().filter(|e| *e <= as_of) {
                        return Verdict::Unsupported {
                            message: format!(
                                "{title} {line} reached its end on {end} (catalog as of {as_of}): it is no longer created or patched"
                            ),
                            suggestion: suggest("the nearest supported version is"),
                        };
                    }
                    if let Some(min) = &l.min
                        && n.len() > self.key
                        && n < numbers(min)
                    {
                        return Verdict::Unsupported {
                            message: format!(
                                "{title} no longer creates {version}: the oldest {line} version it creates is {min} (catalog as of {as_of})"
                            ),
                            suggestion: format!(
                                "use `{min}` or later, or just `{line}` to get the newest {line} version the provider offers"
                            ),
                        };
                    }
                    if let Some(std_end) = l.standard_end.as_deref().filter(|e| *e <= as_of) {
                        // The nearest supported line is this one: name the oldest line still
                        // in standard support instead.
                        let advice = self
                            .supported(as_of)
                            .into_iter()
                            .find(|k| {
                                self.lines
                                    .get(*k)
                                    .and_then(|x| x.standard_end.as_deref())
                                    .is_none_or(|e| e > as_of)
                            })
                            .map(|k| format!("move to `{k}`, the oldest in standard support"))
                            .unwrap_or_else(|| "no newer line is in standard support".into());
                        return Verdict::Warn(format!(
                            "{title} {line} left standard support on {std_end} (catalog as of {as_of}): extended support until {} is billed extra; {advice}",
                            l.end.as_deref().unwrap_or("its end"),
                        ));
                    }
                }
                None => {
                    let oldest = self.lines.keys().map(|k| numbers(k)).min();
                    if oldest.is_some_and(|o| numbers(&line) < o) {
                        return Verdict::Unsupported {
                            message: format!(
                                "{title} {line} is long past its end (catalog as of {as_of})"
                            ),
                            suggestion: suggest("the nearest supported version is"),
                        };
                    }
                }
            }
        }
        if let Some(r) = self.retired.as_ref().filter(|r| r.date.as_str() <= as_of) {
            return Verdict::Warn(format!(
                "{title} is retired upstream since {} (last release {}): no further releases or security fixes; plan a move to {}",
                r.date, r.last, r.successor
            ));
        }
        Verdict::Ok
    }
}

/// What an engine image's tag says about the engine version it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageVersion {
    /// The catalog product of the engine (`image-postgres`, …).
    pub product: &'static str,
    /// The engine version the tag states: the tag itself for an engine's official image
    /// (`17.7`, `7-alpine`), else the part of it that names the engine (`12` of
    /// `postgis/postgis:12-3.4`).
    pub version: String,
    /// The tag scheme of an image built on the engine's (`<postgres major>-<postgis>`);
    /// `None` for the engine's official image or one tagged with the engine's version.
    pub scheme: Option<&'static str>,
}

/// The engine version an in-cluster data service's image runs, read from its tag: the
/// engine's official image (`postgres:17.7`, `valkey/valkey:8.1.4`, from any registry) and
/// the well-known images built on it whose tag states the engine's version, each by its
/// publisher's tag scheme:
///
/// - `postgis/postgis:<pg major>-<postgis>[-alpine]` (`17-3.5`; postgis/docker-postgis
///   README: "variants for PostGIS 3.5.x and 3.6.x … compatible with PostgreSQL versions
///   14, 15, 16, 17 and 18", tags `17-3.5`, `17-master`);
/// - `pgvector/pgvector:pg<N>` / `<pgvector>-pg<N>[-<debian>]` (pgvector README, Docker:
///   "pg17-bookworm, 0.8.1-pg17-bookworm, pg17, 0.8.1-pg17 … replace 17 with your
///   Postgres server version");
/// - `timescale/timescaledb:<ts>-pg<N>[-oss]` / `latest-pg<N>` and
///   `timescale/timescaledb-ha:pg<N>[.<minor>][-ts<ts>]` (Timescale docs "docker pull
///   timescale/timescaledb-ha:pg16"; testcontainers' `timescale/timescaledb:2.1.0-pg11`);
/// - `redis/redis-stack-server:<redis major.minor>.0-v<n>` (redis-stack releases
///   `v7.2.0-v6`: Redis Stack 7.2 is built on Redis 7.2; its patch release is not in the
///   tag, so only the line is read);
/// - images tagged with the engine's own version: `bitnami/postgresql`, `bitnami/mongodb`
///   (`<version>-debian-12-r<n>`, e.g. Renovate's `16.2.0-debian-11-r17`), the `bitnami`
///   images named like the official ones (`bitnami/redis`, `bitnami/mysql`, …),
///   `percona/percona-server-mongodb:<mongodb version>-<build>` (Percona Operator's
///   certified images, "Image tags have the format `[component_name]-[component_version]`",
///   e.g. `8.0.4-1`, `6.0.29-23`) and `percona/percona-server:<mysql version>-<build>`
///   (Docker library `percona`: `8.0.36-28`, `8.0`).
///
/// `None` for a digest, a tag without a version (`latest`, `alpine`) and any other image.
pub fn image_version(image: &str) -> Option<ImageVersion> {
    if image.contains('@') {
        return None;
    }
    let (repo, tag) = image.rsplit_once(':').filter(|(_, t)| !t.contains('/'))?;
    let name = repo.rsplit('/').next().unwrap_or(repo);
    // The numbers of a version (`16.6` of `pg16.6`), at most `keep` of them.
    let numeric = |v: &str, keep: usize| {
        let n = numbers(v);
        (!n.is_empty()).then(|| {
            n.iter()
                .take(keep)
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        })
    };
    // The `pg<N>` part of a dash-separated tag.
    let pg_part = |tag: &str| {
        tag.split('-')
            .filter_map(|p| p.strip_prefix("pg"))
            .find(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            .and_then(|r| numeric(r, 3))
    };
    let (product, version, scheme) = match name {
        "postgres" | "mysql" | "mongo" | "redis" | "valkey" | "rabbitmq" => {
            let product = match name {
                "postgres" => "image-postgres",
                "mysql" => "image-mysql",
                "mongo" => "image-mongo",
                "redis" => "image-redis",
                "valkey" => "image-valkey",
                _ => "image-rabbitmq",
            };
            let stated = numeric(tag, 3).map(|_| tag.to_string());
            (product, stated, None)
        }
        "postgresql" => ("image-postgres", numeric(tag, 3), None),
        "mongodb" | "percona-server-mongodb" => ("image-mongo", numeric(tag, 3), None),
        "percona-server" => ("image-mysql", numeric(tag, 3), None),
        "postgis" => (
            "image-postgres",
            tag.split('-').next().and_then(|p| numeric(p, 1)),
            Some("`<postgres major>-<postgis>`"),
        ),
        "pgvector" => (
            "image-postgres",
            pg_part(tag),
            Some("`pg<postgres major>` / `<pgvector>-pg<postgres major>`"),
        ),
        "timescaledb" | "timescaledb-ha" => (
            "image-postgres",
            pg_part(tag),
            Some("`…-pg<postgres version>`"),
        ),
        "redis-stack-server" | "redis-stack" => (
            "image-redis",
            numeric(tag, 2),
            Some("`<redis major.minor>.0-v<n>`"),
        ),
        _ => return None,
    };
    Some(ImageVersion {
        product,
        version: version?,
        scheme,
    })
}

/// Chart version used when the blueprint pins none: the catalog's pin
/// (`providers/releases.json`, e.g. `chart-ingress-nginx`).
pub fn pinned_chart(name: &str) -> &'static str {
    product(name)
        .pin
        .as_deref()
        .unwrap_or_else(|| panic!("providers/releases.json: `{name}` pins no chart"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_the_products_the_code_uses() {
        for name in [
            "eks",
            "doks",
            "rds-postgres",
            "rds-mysql",
            "elasticache-redis",
            "elasticache-valkey",
            "mq-rabbitmq",
            "do-postgres",
            "do-mongodb",
            "chart-ingress-nginx",
            "chart-cert-manager",
            "chart-envoy-gateway",
            "chart-aws-load-balancer-controller",
            "chart-cluster-autoscaler",
            "chart-external-secrets",
            "chart-metrics-server",
            "chart-keda",
            "image-cluster-autoscaler",
            "image-kubectl",
            "image-postgres",
            "image-mysql",
            "image-mongo",
            "image-redis",
            "image-valkey",
            "image-rabbitmq",
        ] {
            let p = product(name);
            assert!(p.key == 1 || p.key == 2, "{name}: key");
        }
    }

    /// Every entry names its source: a product, and every vulnerability.
    #[test]
    fn every_entry_names_its_source() {
        for (name, p) in &get().products {
            assert!(p.source.trim().len() > 10, "{name}: no source");
            assert!(!p.title.trim().is_empty(), "{name}: no title");
            for v in &p.vulnerable {
                assert!(v.source.trim().len() > 10, "{name} {}: no source", v.id);
            }
        }
    }

    /// Dates are ISO days, so they compare as strings; a line's extended support starts
    /// before it ends.
    #[test]
    fn dates_are_iso_days() {
        let iso = |d: &str| {
            d.len() == 10
                && d.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        };
        assert!(iso(&get().as_of));
        for (name, p) in &get().products {
            for (k, l) in &p.lines {
                assert_eq!(numbers(k).len(), p.key, "{name} {k}: key length");
                for d in l.end.iter().chain(&l.standard_end) {
                    assert!(iso(d), "{name} {k}: `{d}`");
                }
                if let (Some(s), Some(e)) = (&l.standard_end, &l.end) {
                    assert!(s <= e, "{name} {k}: standard support ends after the line");
                }
            }
        }
    }

    /// What the output pins on its own must be supported on the catalog's date: a pin
    /// whose end date is on or before `as_of` means the catalog (or the pins) are stale.
    #[test]
    fn pins_are_supported_on_the_catalog_date() {
        let r = get();
        for (name, p) in &r.products {
            for (k, l) in &p.lines {
                if let Some(pin) = &l.pin {
                    assert_eq!(p.line_of(pin).as_deref(), Some(k.as_str()), "{name} {pin}");
                    assert_eq!(p.judge(pin, &r.as_of), Verdict::Ok, "{name} pins {pin}");
                }
            }
            if let Some(pin) = &p.pin {
                assert!(
                    !matches!(
                        p.judge(pin, &r.as_of),
                        Verdict::Unsupported { .. } | Verdict::Vulnerable { .. }
                    ),
                    "{name} pins {pin}"
                );
            }
        }
    }

    #[test]
    fn judges_against_the_catalog_date() {
        let eks = product("eks");
        let as_of = "2026-12-05";
        match eks.judge("1.28", as_of) {
            Verdict::Unsupported { suggestion, .. } => assert!(suggestion.contains("1.32")),
            v => panic!("{v:?}"),
        }
        // Past standard support: the advice names a line still in it, never the same one.
        match eks.judge("1.33", as_of) {
            Verdict::Warn(w) => assert!(
                w.ends_with("move to `1.35`, the oldest in standard support"),
                "{w}"
            ),
            v => panic!("{v:?}"),
        }
        assert_eq!(eks.judge("1.35", as_of), Verdict::Ok);
        // The same version on an earlier catalog date: still created.
        assert!(matches!(eks.judge("1.28", "2025-01-01"), Verdict::Warn(_)));
        assert_eq!(eks.judge("1.28", "2024-01-01"), Verdict::Ok);
        assert!(matches!(
            eks.judge("1.20", as_of),
            Verdict::Unsupported { .. }
        ));

        let pg = product("rds-postgres");
        assert!(matches!(
            pg.judge("15.4", as_of),
            Verdict::Unsupported { .. }
        ));
        assert_eq!(pg.judge("15.15", as_of), Verdict::Ok);
        assert_eq!(pg.judge("15", as_of), Verdict::Ok);

        let nginx = product("chart-ingress-nginx");
        assert!(matches!(
            nginx.judge("4.8.3", as_of),
            Verdict::Vulnerable { .. }
        ));
        assert!(matches!(
            nginx.judge("4.12.0", as_of),
            Verdict::Vulnerable { .. }
        ));
        assert!(matches!(nginx.judge("4.11.5", as_of), Verdict::Warn(_)));
        assert!(matches!(nginx.judge("4.15.1", as_of), Verdict::Warn(_)));
        assert_eq!(nginx.judge("4.15.1", "2026-01-01"), Verdict::Ok);

        let redis = product("image-redis");
        assert!(matches!(
            redis.judge("7.2.4", as_of),
            Verdict::Vulnerable { .. }
        ));
        assert_eq!(redis.judge("7", as_of), Verdict::Ok);
        let mongo = product("image-mongo");
        match mongo.judge("6.0", as_of) {
            Verdict::Unsupported { suggestion, .. } => assert!(suggestion.contains("7.0.31")),
            v => panic!("{v:?}"),
        }
    }
}
