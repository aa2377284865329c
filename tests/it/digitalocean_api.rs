//! What DigitalOcean's API would refuse in DigitalOcean output, checked against its
//! documentation: refused at synth with the field to change, or lowered to what the API
//! accepts.

use infragen::Provider;
use serde_json::Value;

use crate::support::root;

/// A fixture with `edit` applied to its text, synthesized for DigitalOcean.
fn edited(
    path: &str,
    edit: impl Fn(String) -> String,
    env: &str,
) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit applies");
    infragen::synthesize(path, changed.as_bytes(), Provider::Digitalocean, env)
        .map_err(|d| d.to_string())
}

fn resource(out: &infragen::Output, file: &str, ty: &str, name: &str) -> Value {
    let doc: Value = serde_json::from_str(&out.files[file]).unwrap();
    doc["resource"][ty][name].clone()
}

const BLOG: &str = "tests/fixtures/new-user/blog-doks.yaml";

#[test]
fn a_standby_on_a_one_gigabyte_plan_is_refused() {
    // "standby nodes are only supported for plans with 2 GB of RAM or more"
    // (docs.digitalocean.com/products/databases/*/how-to/add-standby-nodes/): production
    // makes `accounts` HA, so a 1 GB slug there would fail the create call.
    let one_gb = |t: String| {
        t.replace(
            "database_name: accounts, username: blog }",
            "database_name: accounts, username: blog, sizes: { digitalocean: db-s-1vcpu-1gb } }",
        )
    };
    let err = edited(BLOG, one_gb, "production").unwrap_err();
    assert!(
        err.contains("`databases[1]`")
            && err.contains("db-s-1vcpu-1gb")
            && err.contains("2 GB")
            && err.contains("blog-doks.yaml:"),
        "{err}"
    );
    // A single node on the same plan is fine (staging: no `ha`).
    let out = edited(BLOG, one_gb, "staging").unwrap();
    let db = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "accounts",
    );
    assert_eq!(db["size"], "db-s-1vcpu-1gb");
    assert_eq!(db["node_count"], 1);

    // A managed cache with a standby, likewise (MongoDB's replica set too).
    let err = edited(
        BLOG,
        |t| {
            t.replace(
                "{ name: content, engine: mongodb, version: \"8.0\", size: small, database_name: content }",
                "{ name: content, engine: mongodb, version: \"8.0\", sizes: { digitalocean: db-s-1vcpu-1gb }, database_name: content }",
            )
            .replace(
                "    deployment: in_cluster\n    auth_token_secret: fragments-auth\n",
                "    sizes: { digitalocean: db-s-1vcpu-1gb }\n    ha: true\n",
            )
        },
        "production",
    )
    .unwrap_err();
    assert!(
        err.contains("`databases[0]`") && err.contains("three-node replica set"),
        "{err}"
    );
    assert!(err.contains("`caches[0]`"), "{err}");
}

#[test]
fn a_managed_valkey_cache_has_at_most_one_standby() {
    // "Valkey clusters can have up to one standby node"
    // (docs.digitalocean.com/products/databases/valkey/how-to/add-standby-nodes/):
    // ecommerce-eks asks for three cache nodes (ElastiCache: a primary and two replicas).
    let out = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let cache = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "cache",
    );
    assert_eq!(cache["engine"], "valkey");
    assert_eq!(cache["node_count"], 2, "{cache}");
    let notes: Vec<String> = out.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes.iter().any(|n| n.contains("caches[cache]")
            && n.contains("3 nodes")
            && n.contains("at most one standby")),
        "{notes:#?}"
    );
}

#[test]
fn a_managed_valkey_version_digitalocean_does_not_create_is_refused() {
    // "We currently support Valkey version 8"
    // (docs.digitalocean.com/products/databases/valkey/how-to/create/).
    let managed = |version: &'static str| {
        move |t: String| {
            t.replace(
                "    engine: valkey\n    deployment: in_cluster\n    auth_token_secret: fragments-auth\n",
                &format!("    engine: valkey\n    version: \"{version}\"\n    size: small\n"),
            )
        }
    };
    let err = edited(BLOG, managed("7.2"), "staging").unwrap_err();
    assert!(
        err.contains("`caches[0].version`") && err.contains("version 8 only"),
        "{err}"
    );
    let out = edited(BLOG, managed("8"), "staging").unwrap();
    let cache = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "fragments",
    );
    assert_eq!(cache["version"], "8");
}

/// Every `digitalocean_container_registry` resource (not data source) an output creates.
fn registries_created(out: &infragen::Output) -> Vec<String> {
    out.files
        .iter()
        .filter(|(path, _)| path.ends_with(".tf.json"))
        .flat_map(|(path, text)| {
            let doc: Value = serde_json::from_str(text).unwrap();
            doc["resource"]["digitalocean_container_registry"]
                .as_object()
                .map(|m| {
                    m.values()
                        .map(|r| format!("{path}: {}", r["name"].as_str().unwrap()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn one_environment_creates_the_registry_every_environment_names() {
    // "You can only create one registry per DigitalOcean account", its name "globally
    // unique" (docs.digitalocean.com/reference/api/reference/container-registry/). blog-doks
    // has a state bucket per environment, so each environment has a bootstrap of its own:
    // both creating registry `blog` made the second apply fail, in one account or two.
    let synth = |env: &str| crate::support::synth(&root().join(BLOG), Provider::Digitalocean, env);
    let (production, staging) = (synth("production"), synth("staging"));
    assert_eq!(
        registries_created(&production),
        ["terraform/bootstrap/registry.tf.json: blog"]
    );
    assert_eq!(registries_created(&staging), Vec::<String>::new());
    // Staging reads it, like an environment sharing the bootstrap does, and says why.
    let data: Value =
        serde_json::from_str(&staging.files["terraform/infra/registry.tf.json"]).unwrap();
    assert_eq!(
        data["data"]["digitalocean_container_registry"]["main"]["name"],
        "blog"
    );
    let notes: Vec<String> = staging.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("created by environment `production`'s bootstrap")),
        "{notes:#?}"
    );

    // One bucket for every environment: one bootstrap, applied once, creates it (as before).
    let shared = |t: String| t.replace("bucket: \"blog-tfstate-{env}\"", "bucket: blog-tfstate");
    for env in ["production", "staging"] {
        let out = edited(BLOG, shared, env).unwrap();
        assert_eq!(
            registries_created(&out),
            ["terraform/bootstrap/registry.tf.json: blog"]
        );
    }
    // An account per environment: `{env}` in the name, each creates its own (and its
    // images are pushed there: the cluster logs in to that registry only).
    let per_account = |t: String| {
        t.replace(
            "registry: { name: blog,",
            "registry: { name: \"blog-{env}\",",
        )
        .replace(
            "registry.digitalocean.com/blog/",
            "registry.digitalocean.com/blog-{env}/",
        )
    };
    let out = edited(BLOG, per_account, "staging").unwrap();
    assert_eq!(
        registries_created(&out),
        ["terraform/bootstrap/registry.tf.json: blog-staging"]
    );
}

/// Deleting or replacing the registry deletes every image in it, and its `region` forces a
/// new one (terraform-provider-digitalocean `resource_container_registry.go`): a move of the
/// blueprint's region, or an existing registry imported from another region, must not
/// replace it empty. In `bootstrap`, beside the state bucket, it cannot be destroyed either.
#[test]
fn the_registry_survives_a_region_change_and_bootstrap_keeps_it() {
    let production =
        crate::support::synth(&root().join(BLOG), Provider::Digitalocean, "production");
    let r = resource(
        &production,
        "terraform/bootstrap/registry.tf.json",
        "digitalocean_container_registry",
        "main",
    );
    assert_eq!(r["region"], "fra1", "{r}");
    assert_eq!(
        r["lifecycle"],
        serde_json::json!({"ignore_changes": ["region"], "prevent_destroy": true}),
        "{r}"
    );
    // Moved to another region, the output keeps naming a region, and the registry keeps its.
    let moved = edited(
        BLOG,
        |t| {
            t.replace(
                "digitalocean: { region: fra1,",
                "digitalocean: { region: ams3,",
            )
        },
        "production",
    )
    .unwrap();
    let r = resource(
        &moved,
        "terraform/bootstrap/registry.tf.json",
        "digitalocean_container_registry",
        "main",
    );
    assert_eq!(r["region"], "ams3");
    assert_eq!(
        r["lifecycle"]["ignore_changes"],
        serde_json::json!(["region"])
    );

    // Without `state` the registry is in `infra`, which an environment's teardown destroys:
    // the region is ignored there too, and the destroy is left to the operator.
    let no_state = edited(
        BLOG,
        |t| {
            t.replace(
                "state: { bucket: \"blog-tfstate-{env}\", key: \"{env}/terraform.tfstate\" }\n",
                "",
            )
        },
        "production",
    )
    .unwrap();
    let r = resource(
        &no_state,
        "terraform/infra/registry.tf.json",
        "digitalocean_container_registry",
        "main",
    );
    assert_eq!(
        r["lifecycle"],
        serde_json::json!({"ignore_changes": ["region"]}),
        "{r}"
    );
}

#[test]
fn a_registry_name_digitalocean_refuses_is_refused() {
    // Lowercase letters, digits and `-`, at most 63 characters.
    let err = edited(
        BLOG,
        |t| t.replace("registry: { name: blog,", "registry: { name: Blog_Images,"),
        "staging",
    )
    .unwrap_err();
    assert!(
        err.contains("`registry.name`") && err.contains("Blog_Images"),
        "{err}"
    );
}

#[test]
fn environments_colliding_in_one_account_are_warned_about() {
    // A VPC range "cannot overlap with other networks in the same account", a project name
    // and a VPC name "must be unique" (docs.digitalocean.com/reference/terraform/reference/
    // resources/vpc/, /reference/api/reference/projects/): blog-doks gives both environments
    // 10.20.0.0/16 and the project `blog`, `named` also the VPC name `blog-net`. The range
    // and the project are judged per environment (lints), each clash once per environment,
    // even under `--env all`; the names lowered are compared only under `--env all`.
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let text = std::fs::read_to_string(root().join(BLOG)).unwrap();
    std::fs::write(d.join("blog.yaml"), &text).unwrap();
    let apart = text
        .replace("project: blog }", "project: \"blog-{env}\" }")
        .replace(
            "  staging:\n",
            "  staging:\n    network: { cidr: 10.21.0.0/16 }\n",
        );
    assert_ne!(apart, text);
    std::fs::write(d.join("apart.yaml"), &apart).unwrap();
    let named = apart.replace(
        "network: { cidr: 10.20.0.0/16 }",
        "network: { cidr: 10.20.0.0/16, name: blog-net }",
    );
    assert_ne!(named, apart);
    std::fs::write(d.join("named.yaml"), &named).unwrap();
    let synth_all = |file: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
            .args(["synth", "--provider", "digitalocean", "--env", "all"])
            .args(["--blueprint", file, "--out", &format!("out-{file}")])
            .current_dir(d)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(0), "{out}");
        out
    };
    let shared = synth_all("blog.yaml");
    for rule in ["do-vpc-overlap", "do-project-name"] {
        assert_eq!(
            shared.matches(&format!("warning[{rule}]")).count(),
            2,
            "{shared}"
        );
    }
    assert!(
        shared.contains("10.20.0.0/16 overlaps the VPC range of `production` (10.20.0.0/16)")
            && !shared.contains("environments-share-names"),
        "{shared}"
    );
    let out = synth_all("apart.yaml");
    assert!(
        ![
            "do-vpc-overlap",
            "do-project-name",
            "environments-share-names"
        ]
        .iter()
        .any(|rule| out.contains(rule)),
        "{out}"
    );
    let out = synth_all("named.yaml");
    assert!(
        out.contains("warning[environments-share-names]: named.yaml digitalocean: environments production, staging collide in one DigitalOcean account (digitalocean_vpc blog-net)")
            && !out.contains("do-vpc-overlap"),
        "{out}"
    );
}

#[test]
fn a_read_only_replica_gets_the_primarys_storage() {
    // ecommerce-eks on DigitalOcean: PostgreSQL with 100 GB of storage and a read replica
    // in production. The replica holds all of the primary's data; without
    // `storage_size_mib` it would get its size slug's default disk instead.
    let out = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let primary = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "db",
    );
    let replica = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_replica",
        "db_1",
    );
    assert_eq!(primary["storage_size_mib"], "102400");
    assert_eq!(replica["storage_size_mib"], primary["storage_size_mib"]);
    assert_eq!(replica["size"], primary["size"]);
}

#[test]
fn a_valkey_eviction_policy_is_one_digitalocean_offers() {
    // The API's eviction policies: noeviction, allkeys_lru, allkeys_random, volatile_lru,
    // volatile_random, volatile_ttl (docs.digitalocean.com/reference/api/reference/databases/,
    // "Configure the Eviction Policy"): `allkeys_lfu` would be refused at apply.
    let with_policy = |policy: &'static str| {
        move |t: String| {
            t.replace(
                "    engine: valkey\n    deployment: in_cluster\n    auth_token_secret: fragments-auth\n",
                &format!(
                    "    engine: valkey\n    size: small\n    parameters: {{ maxmemory-policy: {policy} }}\n"
                ),
            )
        }
    };
    let out = edited(BLOG, with_policy("allkeys-lfu"), "staging").unwrap();
    let cache = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "fragments",
    );
    assert_eq!(cache["eviction_policy"], "allkeys_lru");
    let notes: Vec<String> = out.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("maxmemory-policy `allkeys-lfu`")),
        "{notes:#?}"
    );
    let out = edited(BLOG, with_policy("volatile-ttl"), "staging").unwrap();
    let cache = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_cluster",
        "fragments",
    );
    assert_eq!(cache["eviction_policy"], "volatile_ttl");
    let err = edited(BLOG, with_policy("evict-sometimes"), "staging").unwrap_err();
    assert!(
        err.contains("`caches[0].parameters.maxmemory-policy`") && err.contains("evict-sometimes"),
        "{err}"
    );
}

#[test]
fn the_database_a_cluster_is_created_with_is_not_created_again() {
    // A DigitalOcean PostgreSQL or MySQL cluster comes with `defaultdb` (MongoDB with
    // `admin`): a `digitalocean_database_db` of that name would fail the apply.
    let out = edited(
        BLOG,
        |t| t.replace("database_name: accounts,", "database_name: defaultdb,"),
        "staging",
    )
    .unwrap();
    let data: Value = serde_json::from_str(&out.files["terraform/infra/data.tf.json"]).unwrap();
    let dbs = data["resource"]["digitalocean_database_db"]
        .as_object()
        .unwrap();
    assert!(!dbs.contains_key("accounts"), "{dbs:?}");
    assert!(dbs.contains_key("content"), "{dbs:?}");
    // The services still connect to it.
    let config = crate::support::flatten(&out);
    assert!(
        config.contains("\"ACCOUNTS_DATABASE\": \"defaultdb\""),
        "{config}"
    );
}

#[test]
fn an_environment_sharing_another_ones_vpc_range_or_project_is_warned_about() {
    // "Network ranges cannot overlap with other networks in the same account"
    // (docs.digitalocean.com/reference/terraform/reference/resources/vpc/): blog-doks gives
    // staging and production 10.20.0.0/16. Every environment's own synth says so.
    let warned = |out: &infragen::Output| {
        out.notes
            .iter()
            .map(|n| n.to_string())
            .find(|n| n.contains("do-vpc-overlap"))
    };
    let staging = crate::support::synth(&root().join(BLOG), Provider::Digitalocean, "staging");
    let note = warned(&staging).expect("staging is warned");
    assert!(note.contains("`production` (10.20.0.0/16)"), "{note}");
    assert!(
        note.contains("its own range (`environments.<env>.network.cidr`)"),
        "{note}"
    );
    // On a blueprint AWS builds too the range also holds AWS's subnets: DigitalOcean's own
    // range belongs in its part.
    let both = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Digitalocean,
        "staging",
    );
    let note = warned(&both).expect("ecommerce-eks shares 10.0.0.0/16");
    assert!(
        note.contains("`environments.<env>.per_provider.digitalocean.network.cidr`"),
        "{note}"
    );
    // So is the project, whose name is unique in an account.
    let project = staging
        .notes
        .iter()
        .map(|n| n.to_string())
        .find(|n| n.contains("do-project-name"))
        .expect("the shared project is warned about");
    assert!(
        project.contains("`blog` is also `production`'s"),
        "{project}"
    );
    let per_env = |t: String| t.replace("project: blog }", "project: \"blog-{env}\" }");
    let out = edited(BLOG, per_env, "staging").unwrap();
    assert!(
        !out.notes
            .iter()
            .any(|n| n.to_string().contains("do-project-name")),
        "{:?}",
        out.notes
    );
    // Its own range: no warning.
    let apart = |t: String| {
        t.replace(
            "  staging:\n",
            "  staging:\n    network: { cidr: 10.21.0.0/16 }\n",
        )
    };
    for env in ["staging", "production"] {
        let out = edited(BLOG, apart, env).unwrap();
        assert_eq!(warned(&out), None, "{env}");
    }
}

/// Every DOKS cluster ships `do-block-storage-retain` (dobs.csi.digitalocean.com,
/// `reclaimPolicy: Retain`, `volumeBindingMode: Immediate`, expandable) beside
/// `do-block-storage`. The in-cluster databases' volumes use it as it is: a StorageClass of
/// that name in `k8s/` would differ in the immutable `volumeBindingMode`, and
/// `kubectl apply -k k8s/` would fail on it in every cluster.
#[test]
fn in_cluster_databases_use_the_retaining_storage_class_doks_ships() {
    let path = root().join("blueprints/ecommerce-doks.yaml");
    for env in ["stage", "production"] {
        let out = crate::support::synth(&path, Provider::Digitalocean, env);
        let docs = crate::support::manifests(&out);
        let classes: Vec<&Value> = docs
            .iter()
            .filter(|d| d["kind"] == "StorageClass")
            .collect();
        assert!(classes.is_empty(), "{env}: {classes:?}");
        let claims: Vec<Value> = docs
            .iter()
            .filter(|d| d["kind"] == "StatefulSet")
            .filter_map(|d| d["spec"]["volumeClaimTemplates"].as_array())
            .flatten()
            .map(|c| c["spec"]["storageClassName"].clone())
            .collect();
        assert!(
            !claims.is_empty(),
            "{env}: the MySQL StatefulSet claims a volume"
        );
        assert!(
            claims.iter().all(|c| *c == "do-block-storage-retain"),
            "{env}: {claims:?}"
        );
    }
}

/// DigitalOcean refuses a new VPC overlapping a range it reserves: 10.229.0.0/16,
/// 10.244.0.0/16, 10.245.0.0/16 and 10.246.0.0/24 everywhere, with or without a cluster, and
/// 10.10.0.0/16 in NYC1 only. Ranges beside them, and 10.10.0.0/16 elsewhere, are created.
#[test]
fn a_vpc_overlapping_a_digitalocean_reserved_range_is_refused_where_it_is_reserved() {
    let blueprint = |region: &str, cidr: &str| {
        format!(
            "name: shop
providers:
  digitalocean: {{ region: {region} }}
network: {{ cidr: {cidr} }}
databases:
  - {{ name: orders, engine: postgres, size: small }}
"
        )
    };
    for (region, cidr, reserved) in [
        ("fra1", "10.244.16.0/20", "10.244.0.0/16"),
        ("fra1", "10.245.0.0/16", "10.245.0.0/16"),
        ("sfo3", "10.246.0.0/28", "10.246.0.0/24"),
        ("nyc1", "10.10.0.0/16", "10.10.0.0/16"),
    ] {
        let (code, err) = crate::support::synth_cli(&blueprint(region, cidr), "digitalocean");
        assert_eq!(code, Some(2), "{region} {cidr}: {err}");
        assert!(
            err.contains("`network.cidr`") && err.contains(&format!("overlaps `{reserved}`")),
            "{region} {cidr}: {err}"
        );
    }
    for (region, cidr) in [
        ("fra1", "10.10.0.0/16"),
        ("nyc3", "10.10.0.0/16"),
        ("nyc1", "10.246.1.0/24"),
        ("nyc1", "172.17.0.0/16"),
    ] {
        let (code, err) = crate::support::synth_cli(&blueprint(region, cidr), "digitalocean");
        assert_eq!(code, Some(0), "{region} {cidr}: {err}");
    }
}

/// The reserved ranges bar *new* VPCs ("You may not create new VPC networks" in them, release
/// notes of 7 March 2025): a VPC the team already has (`network.existing`, made before a
/// reservation) is read, not refused — only a created VPC is checked, and for DigitalOcean it
/// is the `per_provider` range that is checked, not the shared one. Guards `semantic::network`'s
/// `net.existing.is_none()` (fails when the check runs on existing VPCs too).
#[test]
fn an_existing_vpc_in_a_reserved_range_is_read_not_refused() {
    let existing = |region: &str, cidr: &str| {
        format!(
            "name: shop
providers:
  digitalocean: {{ region: {region} }}
network:
  existing: {{ vpc_id: 5a4981aa-9653-4bd1-bef5-d6bff52042e4 }}
  cidr: {cidr}
databases:
  - {{ name: orders, engine: postgres, size: small }}
"
        )
    };
    for (region, cidr) in [("nyc1", "10.10.0.0/16"), ("fra1", "10.229.0.0/20")] {
        let (code, err) = crate::support::synth_cli(&existing(region, cidr), "digitalocean");
        assert_eq!(code, Some(0), "existing {region} {cidr}: {err}");
    }
    // Created through `per_provider`: the DigitalOcean range is checked, not the shared one.
    let per_provider = |shared: &str, own: &str| {
        format!(
            "name: shop
providers:
  aws: {{ region: eu-west-1 }}
  digitalocean: {{ region: nyc1 }}
network: {{ cidr: {shared}, zones: [eu-west-1a, eu-west-1b] }}
per_provider:
  digitalocean:
    network: {{ cidr: {own} }}
databases:
  - {{ name: orders, engine: postgres, size: small }}
"
        )
    };
    let (code, err) = crate::support::synth_cli(
        &per_provider("10.10.0.0/16", "10.30.0.0/16"),
        "digitalocean",
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = crate::support::synth_cli(
        &per_provider("10.30.0.0/16", "10.10.0.0/16"),
        "digitalocean",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("overlaps `10.10.0.0/16`"), "{err}");
}

/// A DigitalOcean managed database's or cache's maintenance window is a day and an hour
/// (the API's `hour`, `doctl databases maintenance-window update`): a start with minutes is
/// refused at the component's `maintenance_window`; one on the hour is written as DigitalOcean
/// reads it back (`HH:MM:SS`, which the provider compares to the minute).
#[test]
fn a_digitalocean_maintenance_window_starts_on_the_hour() {
    let blueprint = |db: &str, cache: &str| {
        format!(
            "name: shop
providers:
  digitalocean: {{ region: fra1 }}
network: {{ cidr: 10.30.0.0/16 }}
databases:
  - {{ name: orders, engine: postgres, size: small, maintenance_window: \"{db}\" }}
caches:
  - {{ name: sessions, engine: valkey, size: small, maintenance_window: \"{cache}\" }}
"
        )
    };
    let (code, err) = crate::support::synth_cli(
        &blueprint("sun:04:00", "mon:02:15-mon:03:15"),
        "digitalocean",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`caches[0].maintenance_window`")
            && err.contains("minute 15")
            && !err.contains("`databases[0].maintenance_window`"),
        "{err}"
    );
    let (code, err) =
        crate::support::synth_cli(&blueprint("sun:04:00", "mon:02:00"), "digitalocean");
    assert_eq!(code, Some(0), "{err}");
}

/// New-user round 18: DigitalOcean managed MySQL requires a primary key on every table
/// (`sql_require_primary_key` on by default: "By default, primary keys are a requirement in
/// all MySQL database tables … you can turn off a database's primary key requirement by
/// making a configuration request", docs.digitalocean.com/products/databases/mysql/how-to/
/// create-primary-keys/), so a migration creating a table without one fails with error
/// 3750. `parameters: { sql_require_primary_key: "false" }` was noted as not expressible and
/// dropped: now the MySQL parameters `digitalocean_database_mysql_config` takes are set
/// there, typed from the provider schema; without that key synth says what the default
/// means.
#[test]
fn mysql_parameters_reach_the_database_configuration() {
    let blueprint = |params: &str| {
        format!(
            "name: cast\nproviders: {{ digitalocean: {{ region: ams3 }} }}\n\
             network: {{ cidr: 10.120.0.0/20 }}\n\
             cluster: {{ platform: doks, version: \"1.35\" }}\n\
             node_pools: [{{ name: apps, size: medium, min: 2, max: 3 }}]\n\
             databases:\n  - {{ name: db, engine: mysql, version: \"8\", size: small, database_name: app{params} }}\n\
             services:\n  - {{ name: web, image: \"ghcr.io/a/web:1.0.0\", port: 8080, uses: [db] }}\n"
        )
    };
    let synth = |text: String| {
        infragen::synthesize(
            "cast.yaml",
            text.as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let out = synth(blueprint(
        ", parameters: { sql_require_primary_key: \"false\", wait_timeout: \"600\", long_query_time: \"0.5\", no_such_setting: \"1\" }",
    ));
    let config = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_mysql_config",
        "db",
    );
    assert_eq!(
        config,
        serde_json::json!({
            "cluster_id": "${digitalocean_database_cluster.db.id}",
            "long_query_time": 0.5,
            "sql_require_primary_key": false,
            "wait_timeout": 600,
        })
    );
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains("no_such_setting")),
        "{notes:#?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("requires a primary key")),
        "{notes:#?}"
    );
    // Without the key: no configuration resource, and the requirement said.
    let out = synth(blueprint(""));
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`db`") && n.contains("requires a primary key on every table")),
        "{notes:#?}"
    );
}

/// A DigitalOcean managed PostgreSQL's `parameters` were all noted as not expressible, so a
/// blueprint's tuning silently did not apply. Now those `digitalocean_database_postgresql_config`
/// takes are set there (the same path as MySQL's, typed from the provider schema 2.71):
/// dotted PostgreSQL names as the provider spells them (`pg_stat_statements.track` →
/// `pg_stat_statements_track`, `timescaledb.max_background_workers` → the `timescaledb`
/// block), `on`/`off` settings as the API's enum, and `work_mem` — in MB on DigitalOcean
/// ("The maximum amount of memory, in MB, used by a query operation", API "Update the
/// Database Configuration"), in kB for PostgreSQL when unit-less — taken only when written
/// with a unit. `shared_buffers` (DigitalOcean: `shared_buffers_percentage`) and
/// `max_connections` (fixed by the size slug) are noted with why.
#[test]
fn postgresql_parameters_reach_the_database_configuration() {
    let blueprint = |params: &str| {
        format!(
            "name: cast\nproviders: {{ digitalocean: {{ region: ams3 }} }}\n\
             network: {{ cidr: 10.120.0.0/20 }}\n\
             cluster: {{ platform: doks, version: \"1.35\" }}\n\
             node_pools: [{{ name: apps, size: medium, min: 2, max: 3 }}]\n\
             databases:\n  - {{ name: db, engine: postgres, size: small, database_name: app{params} }}\n\
             services:\n  - {{ name: web, image: \"ghcr.io/a/web:1.0.0\", port: 8080, uses: [db] }}\n"
        )
    };
    let synth = |text: String| {
        infragen::synthesize(
            "cast.yaml",
            text.as_bytes(),
            Provider::Digitalocean,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let out = synth(blueprint(
        ", parameters: { work_mem: \"64MB\", log_min_duration_statement: \"500\", jit: \"off\", \
         track_io_timing: \"1\", pg_stat_statements.track: all, timescaledb.max_background_workers: \"4\", \
         autovacuum_vacuum_scale_factor: \"0.05\", max_stack_depth: \"4096\", shared_buffers: \"65536\", \
         max_connections: \"200\", no_such_setting: \"1\" }",
    ));
    let config = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_postgresql_config",
        "db",
    );
    assert_eq!(
        config,
        serde_json::json!({
            "cluster_id": "${digitalocean_database_cluster.db.id}",
            "autovacuum_vacuum_scale_factor": 0.05,
            "jit": false,
            "log_min_duration_statement": 500,
            "pg_stat_statements_track": "all",
            "timescaledb": [{"max_background_workers": 4}],
            "track_io_timing": "on",
            "work_mem": 64,
        })
    );
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    let note = notes
        .iter()
        .find(|n| n.starts_with("databases[db]: not expressible"))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    for said in [
        "no_such_setting: no argument of digitalocean_database_postgresql_config",
        "max_stack_depth: PostgreSQL reads a unit-less `max_stack_depth` in kB, DigitalOcean's is in bytes: not converted",
        "shared_buffers: DigitalOcean sets it as `shared_buffers_percentage`",
        "max_connections: not settable on DigitalOcean: the size slug fixes it",
    ] {
        assert!(note.contains(said), "{said}\n{note}");
    }
    // A unit-less work_mem is noted, not taken as MB; alone, no configuration resource.
    let out = synth(blueprint(", parameters: { work_mem: \"4096\" }"));
    let data = &out.files["terraform/infra/data.tf.json"];
    assert!(
        !data.contains("digitalocean_database_postgresql_config"),
        "{data}"
    );
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains(
            "work_mem: PostgreSQL reads a unit-less `work_mem` in kB, DigitalOcean's is in MB"
        )),
        "{notes:#?}"
    );
}

/// A managed MongoDB's `parameters` were noted as settable with
/// `digitalocean_database_postgresql_config` (the wrong engine's resource): those
/// `digitalocean_database_mongodb_config` takes are now set there, the same way.
#[test]
fn mongodb_parameters_reach_the_database_configuration() {
    let text = "name: cast\nproviders: { digitalocean: { region: ams3 } }\n\
                network: { cidr: 10.120.0.0/20 }\n\
                databases:\n  - { name: docs, engine: mongodb, size: small, parameters: { slow_op_threshold_ms: \"200\", default_read_concern: majority, work_mem: \"4MB\" } }\n";
    let out = infragen::synthesize(
        "cast.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let config = resource(
        &out,
        "terraform/infra/data.tf.json",
        "digitalocean_database_mongodb_config",
        "docs",
    );
    assert_eq!(
        config,
        serde_json::json!({
            "cluster_id": "${digitalocean_database_cluster.docs.id}",
            "default_read_concern": "majority",
            "slow_op_threshold_ms": 200,
        })
    );
    let notes: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("work_mem: no argument of digitalocean_database_mongodb_config")),
        "{notes:#?}"
    );
}

/// w144: a managed database's `backup.window` on DigitalOcean was only noted as lost
/// ("DigitalOcean schedules database backups itself"), yet PostgreSQL's and MySQL's
/// configuration take the daily backup's start: `backup_hour` (0-23, UTC) and
/// `backup_minute` (0-59) (digitalocean/openapi `databases/models/postgres.yml`, "Update the
/// Database Configuration"; `digitalocean_database_{postgresql,mysql}_config` in provider
/// 2.71). The window's start now lands there, beside the maintenance window (DigitalOcean
/// documents no rule between the two); MongoDB, whose configuration has no such field,
/// keeps the note; the window and `parameters.backup_hour` together are refused.
#[test]
fn a_backup_window_becomes_the_configurations_backup_start() {
    let blueprint = |engine: &str, extra: &str| {
        format!(
            "name: cast\nproviders: {{ digitalocean: {{ region: ams3 }} }}\n\
             network: {{ cidr: 10.120.0.0/20 }}\n\
             databases:\n  - {{ name: db, engine: {engine}, size: small, maintenance_window: \"sun:03:00\", \
             backup: {{ window: \"03:30-04:30\" }}{extra} }}\n"
        )
    };
    let synth = |text: String| {
        infragen::synthesize(
            "cast.yaml",
            text.as_bytes(),
            Provider::Digitalocean,
            "production",
        )
    };
    for (engine, ty) in [
        ("postgres", "digitalocean_database_postgresql_config"),
        ("mysql", "digitalocean_database_mysql_config"),
    ] {
        let out = synth(blueprint(engine, "")).unwrap_or_else(|d| panic!("{d}"));
        let config = resource(&out, "terraform/infra/data.tf.json", ty, "db");
        assert_eq!(
            config,
            serde_json::json!({
                "cluster_id": "${digitalocean_database_cluster.db.id}",
                "backup_hour": 3,
                "backup_minute": 30,
            }),
            "{engine}"
        );
        let cluster = resource(
            &out,
            "terraform/infra/data.tf.json",
            "digitalocean_database_cluster",
            "db",
        );
        assert_eq!(
            cluster["maintenance_window"],
            serde_json::json!([{"day": "sunday", "hour": "03:00:00"}])
        );
        assert!(
            !out.notes.iter().any(|n| n.text.contains("backup window")),
            "{engine}: {:#?}",
            out.notes
        );
    }
    // MongoDB's configuration has no backup time: noted, no configuration resource.
    let out = synth(blueprint("mongodb", "")).unwrap_or_else(|d| panic!("{d}"));
    assert!(
        !out.files["terraform/infra/data.tf.json"].contains("digitalocean_database_mongodb_config")
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("backup window `03:30-04:30`")),
        "{:#?}",
        out.notes
    );
    // The window and the parameter both: refused at the parameter.
    let err = synth(blueprint(
        "postgres",
        ", parameters: { backup_hour: \"5\" }",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`databases[0].parameters.backup_hour`"),
        "{err}"
    );
    assert!(err.contains("keep one"), "{err}");
}
