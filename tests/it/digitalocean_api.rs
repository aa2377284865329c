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
