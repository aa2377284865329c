//! Engines newcomers ask for that the format does not have. An unknown value otherwise gets
//! the closest accepted one as a typo fix, and for these that advice is wrong: `mssql` is
//! one letter from `mysql`, so a .NET team asking for SQL Server was told "did you mean
//! `mysql`?" — a different engine, a different driver, a different SQL dialect. Each of
//! these gets, instead, what the format offers in its place.

/// The `help` for `value` written where one of `expected` (an enum's accepted values, as
/// serde lists them) belongs, when `value` names an engine infragen does not create.
pub(super) fn hint(value: &str, expected: &[&str]) -> Option<String> {
    let v: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match expected {
        ["postgres", "mysql", "mongodb"] => database(&v),
        ["redis", "valkey"] if v.starts_with("memcache") => Some(
            "Memcached is not an engine infragen creates (ElastiCache for Memcached has no AUTH \
             and no replication); `redis` and `valkey` serve the same get/set clients"
                .into(),
        ),
        ["rabbitmq", "sqs"] if v.contains("kafka") || v == "msk" => Some(
            "Kafka (Amazon MSK) is not an engine infragen creates: `rabbitmq` (Amazon MQ, or in \
             the cluster) and `sqs` are; a Kafka cluster of your own is reached through `env`, \
             `secrets` and `egress`"
                .into(),
        ),
        _ => None,
    }
}

/// The `help` for an unknown `field` where one of `expected` (a struct's fields) belongs,
/// when it names something the format spells elsewhere or leaves out: NVIDIA GPUs are the
/// service's `gpu` field (a count, with the scheduling and the device plugin around it), not
/// a quantity in `resources`; other accelerators (`aws.amazon.com/neuron`, `amd.com/gpu`)
/// are device-plugin resources infragen installs no plugin for — a pod requesting one would
/// stay Pending on every node — so they are refused with the path that does work.
pub(super) fn field_hint(field: &str, expected: &[&str]) -> Option<String> {
    let f = field.to_ascii_lowercase();
    if let Some(h) = volume(&f, expected) {
        return Some(h);
    }
    let accelerator = f.contains("gpu") || f.contains("neuron") || f.contains("accelerator");
    let nvidia = f.contains("nvidia") || f == "gpu" || f == "gpus";
    if expected == ["requests", "limits"] && nvidia {
        return Some(
            "NVIDIA GPUs are a count on the service or job: `gpu: 1` beside `resources` \
             (docs/kubernetes.md, \"GPUs\")"
                .into(),
        );
    }
    if expected == ["cpu", "memory"] && accelerator {
        if nvidia {
            return Some(
                "NVIDIA GPUs are a count on the service or job (`services[].gpu`, \
                 `jobs[].gpu`; sidecars and init containers take none), not a quantity here: \
                 `gpu: 1` beside its `resources` puts `nvidia.com/gpu: 1` in its container's \
                 limits and schedules the pods on the GPU node pool (docs/kubernetes.md, \
                 \"GPUs\")"
                    .into(),
            );
        }
        return Some(
            "infragen requests NVIDIA GPUs only (`services[].gpu`): for another accelerator \
             (AWS Neuron, AMD) install its device plugin yourself and run the workload from an \
             `extra.kubernetes` template with the device in its limits, a toleration of the \
             pool's taint and a node selector (docs/escape-hatches.md)"
                .into(),
        );
    }
    None
}

fn database(v: &str) -> Option<String> {
    let elsewhere = "or keep the database outside infragen and give the services its address \
                     in `env`, its credentials as a `secrets` entry (`secret_env`) and `egress` \
                     to its port";
    if v.starts_with("sqlserver") || v.starts_with("mssql") || v == "sqlsrv" {
        // RDS's own engine names are `sqlserver-ee`, `-se`, `-ex`, `-web`.
        return Some(format!(
            "SQL Server is not an engine infragen creates (no RDS for SQL Server, no in-cluster \
             image): use `postgres` or `mysql` (EF Core: Npgsql, Pomelo/MySqlConnector), {elsewhere} (1433)"
        ));
    }
    if v.starts_with("oracle") {
        return Some(format!(
            "Oracle is not an engine infragen creates: use `postgres` or `mysql`, {elsewhere} (1521)"
        ));
    }
    if v == "mariadb" {
        return Some(
            "MariaDB is not an engine infragen creates; `mysql` speaks the same protocol \
             (MariaDB's own drivers connect to it), but a MariaDB-only feature or dump needs a \
             MariaDB server of your own"
                .into(),
        );
    }
    None
}

/// A persistent volume asked of a service or job (`volumes:`, `persistence:`, `pvc:` — the
/// Compose and Helm spellings). The format gives workloads none: an ECS Fargate task's
/// storage is ephemeral ("the data is deleted when the task stops", and EFS is not lowered),
/// a pod's writable paths are `emptyDir`s, and two replicas would not share one anyway. What
/// a newcomer wants one for — user uploads — survives redeploys in a bucket the workload
/// `uses`; the did-you-mean alone (`files`, `release`) sent them the wrong way.
fn volume(f: &str, expected: &[&str]) -> Option<String> {
    let workload = expected.contains(&"uses") && expected.contains(&"image");
    let asks = [
        "volume", "persist", "pvc", "mount", "efs", "disk", "storage",
    ]
    .iter()
    .any(|w| f.contains(w));
    if !workload || !asks {
        return None;
    }
    Some(
        "services and jobs get no persistent volume (ECS Fargate task storage and a pod's \
         writable paths are discarded when it is replaced, and replicas would not share one): \
         keep user uploads in a bucket — `buckets: [{ name: uploads }]` and `uses: [uploads]` \
         (S3 through the task or pod role on AWS, a Spaces key on DigitalOcean; `cors` for \
         browser uploads with presigned URLs, docs/connections.md), scratch space in \
         `security.writable_paths`, and data with a volume in `databases`/`caches` \
         (`deployment: in_cluster`)"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::hint;

    const DATABASES: &[&str] = &["postgres", "mysql", "mongodb"];

    #[test]
    fn sql_server_in_any_spelling_is_named_and_never_mistaken_for_mysql() {
        for v in [
            "sqlserver",
            "mssql",
            "sql_server",
            "SQL-Server",
            "sqlserver-ex",
        ] {
            let h = hint(v, DATABASES).unwrap_or_else(|| panic!("{v}"));
            assert!(h.starts_with("SQL Server is not an engine"), "{v}: {h}");
        }
        assert!(hint("oracle-ee", DATABASES).unwrap().starts_with("Oracle"));
        assert!(hint("memcached", &["redis", "valkey"]).is_some());
        assert!(hint("kafka", &["rabbitmq", "sqs"]).is_some());
        // A typo of an engine that exists keeps the usual suggestion.
        assert_eq!(hint("postgress", DATABASES), None);
        // Another enum with the same spelling is not a database engine.
        assert_eq!(hint("mssql", &["a", "b"]), None);
    }

    #[test]
    fn an_accelerator_in_resources_is_explained_not_guessed() {
        use super::field_hint;
        for f in ["amd.com/gpu", "aws.amazon.com/neuron"] {
            let h = field_hint(f, &["cpu", "memory"]).unwrap_or_else(|| panic!("{f}"));
            assert!(h.contains("extra.kubernetes"), "{f}: {h}");
        }
        for f in ["nvidia.com/gpu", "gpu"] {
            let h = field_hint(f, &["cpu", "memory"]).unwrap_or_else(|| panic!("{f}"));
            assert!(h.contains("`gpu: 1`"), "{f}: {h}");
        }
        let h = field_hint("gpu", &["requests", "limits"]).expect("gpu in resources");
        assert!(h.contains("`gpu: 1`"), "{h}");
        assert_eq!(field_hint("cpus", &["cpu", "memory"]), None);
        assert_eq!(field_hint("gpu", &["name", "port"]), None);
    }

    #[test]
    fn a_volume_on_a_workload_points_at_a_bucket() {
        use super::field_hint;
        let workload = ["name", "image", "port", "uses", "files", "release"];
        for f in [
            "volumes",
            "volume",
            "persistence",
            "pvc",
            "volume_mounts",
            "efs",
        ] {
            let h = field_hint(f, &workload).unwrap_or_else(|| panic!("{f}"));
            assert!(h.contains("`uses: [uploads]`"), "{f}: {h}");
        }
        // Elsewhere (a node pool's `disk`, a database's `storage`) the usual suggestion stays.
        assert_eq!(field_hint("disks", &["name", "size", "disk"]), None);
        assert_eq!(field_hint("usses", &workload), None);
    }
}
