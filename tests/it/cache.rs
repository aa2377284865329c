//! ElastiCache values the API refuses, by engine version. Each test fails on the output
//! before its fix.

fn yaml(engine: &str, version: &str, extra: &str) -> String {
    crate::support::ecs_stack(
        "cachy",
        &format!(
            "caches:
  - name: cache
    engine: {engine}
    version: \"{version}\"
    size: cache.t4g.small
{extra}"
        ),
    )
}

fn synth(yaml: &str) -> Result<infragen::Output, String> {
    crate::support::synth_aws("cachy", yaml)
}

fn group(engine: &str, version: &str) -> serde_json::Value {
    group_with(engine, version, "")
}

fn group_with(engine: &str, version: &str, extra: &str) -> serde_json::Value {
    let out =
        synth(&yaml(engine, version, extra)).unwrap_or_else(|e| panic!("{engine} {version}: {e}"));
    let doc: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/cache.tf.json"]).unwrap();
    doc["resource"]["aws_elasticache_replication_group"]["cache"].clone()
}

/// The transit encryption mode is ElastiCache's online TLS migration, offered for Valkey
/// and Redis OSS 7.0 on only; an older Redis OSS with TLS on takes TLS connections only.
#[test]
fn the_transit_encryption_mode_only_where_elasticache_has_it() {
    for (engine, version, mode) in [
        ("redis", "6.2", None),
        ("redis", "7.0", Some("required")),
        ("redis", "7.1", Some("required")),
        ("valkey", "8.0", Some("required")),
    ] {
        let g = group(engine, version);
        assert_eq!(g["transit_encryption_enabled"], true, "{engine} {version}");
        assert_eq!(
            g["transit_encryption_mode"].as_str(),
            mode,
            "{engine} {version}"
        );
    }
}

/// ElastiCache: snapshot and maintenance windows of at least 60 minutes that do not overlap.
#[test]
fn elasticache_windows_are_ones_it_accepts() {
    for (extra, field) in [
        (
            "    snapshots: { retention_days: 1, window: \"03:00-03:30\" }\n",
            "snapshots.window",
        ),
        (
            "    maintenance_window: \"sun:05:00-sun:05:30\"\n",
            "maintenance_window",
        ),
        (
            "    snapshots: { retention_days: 1, window: \"04:00-06:00\" }\n    maintenance_window: \"sun:05:00-sun:07:00\"\n",
            "snapshots.window",
        ),
        (
            "    snapshots: { retention_days: 1, window: \"23:30-00:30\" }\n    maintenance_window: \"mon:00:00-mon:01:00\"\n",
            "snapshots.window",
        ),
    ] {
        let err = synth(&yaml("redis", "7.1", extra)).unwrap_err();
        assert!(
            err.contains(&format!("caches[0].{field}")),
            "{extra}: {err}"
        );
    }
    // Windows that only touch are fine.
    group_with(
        "redis",
        "7.1",
        "    snapshots: { retention_days: 1, window: \"03:00-05:00\" }\n    maintenance_window: \"sun:05:00-sun:07:00\"\n",
    );
}

/// Without a snapshot window ElastiCache picks one at random and refuses it where it overlaps
/// the maintenance window: given a maintenance window, the output picks one clear of it.
#[test]
fn a_maintenance_window_alone_gets_a_snapshot_window_clear_of_it() {
    for maintenance in [
        "sun:05:00-sun:07:00",
        "mon:00:30-mon:02:00",
        "sat:23:00-sun:01:00",
    ] {
        let g = group_with(
            "redis",
            "7.1",
            &format!("    maintenance_window: \"{maintenance}\"\n"),
        );
        let window = g["snapshot_window"]
            .as_str()
            .unwrap_or_else(|| panic!("{maintenance}: no snapshot window: {g}"));
        let minutes = |t: &str| {
            let (h, m) = t.split_once(':').unwrap();
            h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
        };
        let (a, b) = window.split_once('-').unwrap();
        let (start, end) = (minutes(a), minutes(b));
        assert_eq!((end + 1440 - start) % 1440, 60, "{window}");
        // No minute of the daily window falls in the weekly maintenance window, any day.
        let (ms, me) = maintenance.split_once('-').unwrap();
        let day = |s: &str| {
            ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
                .iter()
                .position(|d| s.starts_with(d))
                .unwrap() as u32
        };
        let week = |s: &str| day(s) * 1440 + minutes(&s[4..]);
        let (ms, me) = (week(ms), week(me));
        for d in 0..7 {
            for k in 0..=60 {
                let t = (d * 1440 + start + k) % (7 * 1440);
                let inside = if me > ms {
                    t >= ms && t <= me
                } else {
                    t >= ms || t <= me
                };
                assert!(!inside, "{maintenance}: {window} reaches into it");
            }
        }
    }
}

/// RDS: backup and maintenance windows of at least 30 minutes.
#[test]
fn rds_windows_are_ones_it_accepts() {
    let db = |window: &str, maintenance: &str| {
        yaml("redis", "7.1", "").replace(
            "caches:",
            &format!("databases:\n  - name: db\n    engine: postgres\n    size: small\n    storage: {{ size_gb: 20 }}\n    backup: {{ retention_days: 7, window: \"{window}\" }}\n    maintenance_window: \"{maintenance}\"\ncaches:"),
        )
    };
    let err = synth(&db("03:00-03:20", "sun:04:00-sun:05:00")).unwrap_err();
    assert!(err.contains("databases[0].backup.window"), "{err}");
    let err = synth(&db("03:00-04:00", "sun:04:00-sun:04:15")).unwrap_err();
    assert!(err.contains("databases[0].maintenance_window"), "{err}");
    synth(&db("03:00-03:30", "sun:04:00-sun:04:30")).unwrap();
}

/// ElastiCache takes `<major>.<minor>` for Valkey and Redis OSS 6 on (the provider refuses
/// `8`: "For Valkey use <major>.<minor>", `terraform validate`), where DigitalOcean takes only
/// a bare major: a blueprint for both writes `8`, which AWS output resolves to the newest
/// line of that major the versions catalog lists; any other spelling is kept as written.
#[test]
fn a_bare_major_becomes_the_newest_elasticache_line_of_it() {
    for (engine, version, want, family) in [
        ("valkey", "8", "8.2", "valkey8"),
        ("valkey", "7", "7.2", "valkey7"),
        ("redis", "7", "7.1", "redis7"),
        ("valkey", "8.0", "8.0", "valkey8"),
        ("redis", "6.2", "6.2", "redis6.x"),
    ] {
        let g = group(engine, version);
        assert_eq!(g["engine_version"], want, "{engine} {version}");
        let out = synth(&yaml(engine, version, "")).unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&out.files["terraform/infra/cache.tf.json"]).unwrap();
        assert_eq!(
            doc["resource"]["aws_elasticache_parameter_group"]["cache"]["family"], family,
            "{engine} {version}"
        );
    }
}
