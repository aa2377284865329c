//! RDS values the API refuses at apply time, refused at synth where they are written
//! (`src/semantic/limits.rs`). Each test fails on the output before its fix.

use infragen::Provider;

fn stack(storage: &str) -> String {
    crate::support::ecs_stack(
        "ledger",
        &format!(
            "databases:
  - name: db
    engine: postgres
    size: db.m7g.large
    storage: {storage}
"
        ),
    )
}

fn synth(storage: &str) -> Result<infragen::Output, String> {
    crate::support::synth_aws("ledger", &stack(storage))
}

/// From 400 GB a gp3 volume's baseline is 12000 IOPS; RDS refuses fewer
/// (hashicorp/terraform-provider-aws#28382).
#[test]
fn large_gp3_volumes_take_at_least_their_baseline() {
    for storage in [
        "{ size_gb: 400, type: gp3, iops: 3000 }",
        "{ size_gb: 1000, type: gp3, iops: 11999 }",
        "{ size_gb: 1000, type: gp3, iops: 70000 }",
    ] {
        let err = synth(storage).unwrap_err();
        assert!(
            err.contains("databases[0].storage.iops"),
            "{storage}: {err}"
        );
        assert!(err.contains("12000"), "{storage}: {err}");
    }
    for storage in [
        "{ size_gb: 400, type: gp3 }",
        "{ size_gb: 400, type: gp3, iops: 12000 }",
        "{ size_gb: 100, type: gp3, iops: 3000 }",
    ] {
        synth(storage).unwrap_or_else(|e| panic!("{storage}: {e}"));
    }
    // The IOPS reach the instance only where RDS takes them.
    let out = synth("{ size_gb: 500, type: gp3, iops: 15000 }").unwrap();
    let db: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/database.tf.json"]).unwrap();
    assert_eq!(db["resource"]["aws_db_instance"]["db"]["iops"], 15000);
}

/// CreateDBInstance: io1 IOPS are 0.5 to 50 times the storage in GiB.
#[test]
fn io1_iops_stay_within_their_ratio_to_the_storage() {
    for storage in [
        "{ size_gb: 100, type: io1, iops: 6000 }",
        "{ size_gb: 4000, type: io1, iops: 1000 }",
    ] {
        let err = synth(storage).unwrap_err();
        assert!(
            err.contains("databases[0].storage.iops"),
            "{storage}: {err}"
        );
    }
    synth("{ size_gb: 100, type: io1, iops: 5000 }").unwrap();
}

/// Every AWS output of the shipped blueprints, with the parsed `infra` files merged by
/// resource type.
fn aws_infra() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (stem, path, p, env) in crate::support::matrix() {
        if p != Provider::Aws {
            continue;
        }
        let o = crate::support::synth(&path, p, &env);
        let mut merged = serde_json::json!({"resource": {}, "output": {}});
        for (name, text) in &o.files {
            if !name.starts_with("terraform/infra/") {
                continue;
            }
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            for block in ["resource", "output"] {
                if let Some(types) = doc.get(block).and_then(|v| v.as_object()) {
                    for (ty, named) in types {
                        let slot = merged[block]
                            .as_object_mut()
                            .unwrap()
                            .entry(ty.clone())
                            .or_insert_with(|| serde_json::json!({}));
                        if block == "output" {
                            *slot = named.clone();
                        } else {
                            for (n, b) in named.as_object().unwrap() {
                                slot[n] = b.clone();
                            }
                        }
                    }
                }
            }
        }
        out.push((format!("{stem}@{env}"), merged));
    }
    out
}

/// Every RDS database gets a generated master password, written write-only to the instance
/// and to a secret with the RDS keys (`username`, `password`), which its clients read. RDS
/// never manages it: it would rotate it every seven days under tasks and pods that read it
/// once, and it refuses to create a read replica of a source whose master password it
/// manages ("Creating read replicas for source instance … where ManageMasterUserPassword is
/// enabled is not supported", every engine but SQL Server).
#[test]
fn every_database_keeps_a_generated_master_password_in_a_secret() {
    let (mut generated, mut replicas) = (0, 0);
    for (label, infra) in aws_infra() {
        let Some(instances) = infra["resource"]["aws_db_instance"].as_object() else {
            continue;
        };
        for (name, body) in instances {
            if body.get("replicate_source_db").is_some() {
                // A replica has its source's users (physical replication).
                assert!(body.get("password_wo").is_none(), "{label}: {name}");
                assert!(
                    body.get("manage_master_user_password").is_none(),
                    "{label}: {name}"
                );
                replicas += 1;
                continue;
            }
            let password = body["password_wo"]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: {name} has no generated password"));
            assert!(
                body.get("manage_master_user_password").is_none(),
                "{label}: {name}"
            );
            generated += 1;
            // The secret clients read holds the same password and the user name.
            let versions = infra["resource"]["aws_secretsmanager_secret_version"]
                .as_object()
                .unwrap();
            let generator = password.trim_start_matches("${").trim_end_matches('}');
            let (_, version) = versions
                .iter()
                .find(|(_, v)| {
                    v["secret_string_wo"]
                        .as_str()
                        .is_some_and(|s| s.contains(generator))
                })
                .unwrap_or_else(|| panic!("{label}: no secret holds the password of {name}"));
            let text = version["secret_string_wo"].as_str().unwrap();
            let username = body["username"].as_str().unwrap();
            assert!(
                text.contains("username") && text.contains("password") && text.contains(username),
                "{label}: {text}"
            );
            let secret = version["secret_id"]
                .as_str()
                .unwrap()
                .replace(".id}", ".arn}");
            assert_eq!(
                infra["output"][format!("{name}_master_secret_arn")]["value"].as_str(),
                Some(secret.as_str()),
                "{label}"
            );
            if label.starts_with("qurable-ecs") {
                // The seed's secret name: qurable/db-password holds the master password.
                assert_eq!(
                    secret, "${aws_secretsmanager_secret.db_password.arn}",
                    "{label}"
                );
            }
        }
    }
    assert!(
        generated > 3 && replicas > 0,
        "{generated} generated, {replicas} replicas"
    );
}

/// `password_secret` names a blueprint secret; Terraform fills it, so it is no precondition.
#[test]
fn a_password_secret_is_filled_by_terraform() {
    let with_secret = |name: &str| {
        stack("{ size_gb: 20 }").replace(
            "databases:",
            "secrets:\n  - name: db-master\n    path: ledger/db-master\ndatabases:",
        ) + &format!("    username: ledger_admin\n    password_secret: {name}\n")
    };
    let err = synth_yaml(&with_secret("nope")).unwrap_err();
    assert!(err.contains("databases[0].password_secret"), "{err}");
    let out = synth_yaml(&with_secret("db-master")).unwrap();
    let db: serde_json::Value =
        serde_json::from_str(&out.files["terraform/infra/database.tf.json"]).unwrap();
    let instance = &db["resource"]["aws_db_instance"]["db"];
    assert!(
        instance.get("manage_master_user_password").is_none(),
        "{instance}"
    );
    assert_eq!(
        db["resource"]["aws_secretsmanager_secret_version"]["db_master"]["secret_id"],
        "${aws_secretsmanager_secret.db_master.id}"
    );
    assert!(!out.files["preconditions.json"].contains("ledger/db-master"));
}

fn synth_yaml(yaml: &str) -> Result<infragen::Output, String> {
    crate::support::synth_aws("ledger", yaml)
}

/// A blueprint secret named like the one infragen generates for a database (`<db>-master`)
/// would share its Terraform address and silently replace it: refused, with the way to
/// keep the generated value there.
#[test]
fn a_secret_named_like_a_generated_one_is_refused() {
    let yaml = stack("{ size_gb: 20 }").replace(
        "databases:",
        "secrets:\n  - name: db-master\n    path: ledger/db-master\ndatabases:",
    );
    let err = synth_yaml(&yaml).unwrap_err();
    assert!(err.contains("secrets[0].name"), "{err}");
    assert!(err.contains("password_secret: db-master"), "{err}");
    synth_yaml(&(yaml + "    password_secret: db-master\n")).unwrap();
}

/// A read replica holds a physical copy of its primary's data. RDS creates it with the
/// primary's storage, but ModifyDBInstance grows one instance only: a storage growth on
/// day 2 must reach the replicas in the same plan, or they fill up and stop replicating.
#[test]
fn read_replicas_grow_with_their_primary() {
    let grown = |size: u32| {
        let out = crate::support::synth_aws(
            "ledger",
            &crate::support::ecs_stack(
                "ledger",
                &format!(
                    "databases:
  - name: db
    engine: postgres
    size: db.m7g.large
    replicas: 2
    storage: {{ size_gb: {size} }}
"
                ),
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let db: serde_json::Value =
            serde_json::from_str(&out.files["terraform/infra/database.tf.json"]).unwrap();
        db["resource"]["aws_db_instance"].clone()
    };
    for size in [100, 250] {
        let instances = grown(size);
        assert_eq!(instances["db"]["allocated_storage"], size);
        for replica in ["db_replica", "db_replica_2"] {
            assert_eq!(
                instances[replica]["allocated_storage"], size,
                "{replica} does not follow the primary's {size} GB: {}",
                instances[replica]
            );
        }
    }
}

/// RDS keeps automated backups of MySQL (and MariaDB) read replicas only: for a PostgreSQL
/// replica it refuses the retention period the provider sets after creating it ("DB Backups
/// not supported on a read replica for engine postgres"), which failed the apply of every
/// shipped blueprint with a PostgreSQL replica. A MySQL replica keeps its own backups.
#[test]
fn only_mysql_read_replicas_take_a_backup_retention_period() {
    let replica = |engine: &str| {
        let out = crate::support::synth_aws(
            "ledger",
            &crate::support::ecs_stack(
                "ledger",
                &format!(
                    "databases:
  - name: db
    engine: {engine}
    size: db.m7g.large
    replicas: 1
    database_name: ledger
    storage: {{ size_gb: 100 }}
    backup: {{ retention_days: 14 }}
"
                ),
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let db: serde_json::Value =
            serde_json::from_str(&out.files["terraform/infra/database.tf.json"]).unwrap();
        db["resource"]["aws_db_instance"].clone()
    };
    let pg = replica("postgres");
    assert_eq!(pg["db"]["backup_retention_period"], 14);
    assert!(
        pg["db_replica"].get("backup_retention_period").is_none(),
        "{}",
        pg["db_replica"]
    );
    let my = replica("mysql");
    assert_eq!(my["db_replica"]["backup_retention_period"], 14);
}

/// `backup.destination` (and the dump job's other settings) belong to an in-cluster
/// database's CronJob; RDS keeps its own automated backups and nothing copies them to S3.
/// The field was dropped without a word, leaving the team believing in an off-site copy:
/// now a warning names the fields ignored (DigitalOcean's managed databases: a note too).
#[test]
fn managed_database_backup_destination_is_not_silently_dropped() {
    let out = crate::support::synth_aws(
        "ledger",
        &crate::support::ecs_stack(
            "ledger",
            "databases:
  - name: db
    engine: postgres
    size: small
    storage: { size_gb: 20 }
    backup: { retention_days: 7, schedule: \"0 2 * * *\", destination: \"s3://ledger-archive/db/\" }
",
        ),
    )
    .unwrap();
    let notes: Vec<String> = out.notes.iter().map(ToString::to_string).collect();
    let note = notes
        .iter()
        .find(|n| n.contains("backup-fields-ignored"))
        .unwrap_or_else(|| panic!("no warning for the ignored destination: {notes:#?}"));
    assert!(note.contains("database `db`"), "{note}");
    assert!(
        note.contains("`backup.schedule`, `backup.destination`"),
        "{note}"
    );
    // Nothing in the output reads the destination.
    assert!(
        !out.files.values().any(|t| t.contains("ledger-archive")),
        "the destination reached the output"
    );

    let doks = "name: ledger
providers:
  digitalocean: { region: ams3 }
cluster: { platform: doks, version: \"1.35\" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
databases:
  - name: db
    engine: postgres
    size: small
    backup: { destination: \"s3://ledger-archive/db/\" }
";
    let out = infragen::synthesize(
        "ledger.yaml",
        doks.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        out.notes.iter().any(|n| n
            .to_string()
            .contains("backup destination `s3://ledger-archive/db/`")),
        "{:#?}",
        out.notes
    );
}
