//! DigitalOcean sizes against the dated size catalog (`providers/digitalocean.json`,
//! `sizes`): a slug DigitalOcean does not create, a node below DOKS's smallest, or a
//! database plan not offered for its engine is refused at synth, at the field that names
//! it, instead of by the API at apply (422 "invalid size").

use infragen::Provider;

use crate::support::root;

const BLOG: &str = "tests/fixtures/new-user/blog-doks.yaml";

/// The blog fixture with `edit` applied, synthesized for DigitalOcean's `production`.
fn synth(edit: impl Fn(String) -> String) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join(BLOG)).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit applies");
    infragen::synthesize(
        BLOG,
        changed.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .map_err(|d| d.to_string())
}

/// The `line:col` of the first occurrence of `needle` in the edited fixture.
fn position(edit: impl Fn(String) -> String, needle: &str) -> String {
    let text = edit(std::fs::read_to_string(root().join(BLOG)).unwrap());
    let (line, l) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .expect("needle in the text");
    format!("{}:{}", line + 1, l.find(needle).unwrap() + 1)
}

#[test]
fn a_made_up_droplet_slug_is_refused_at_its_size_with_the_nearest() {
    // The prefix `s-` used to be enough: this reached the API.
    let edit = |t: String| t.replace("size: medium, min: 2", "size: s-4vcpu-4194304gb, min: 2");
    let err = synth(edit).unwrap_err();
    let at = position(edit, "s-4vcpu-4194304gb");
    assert!(
        err.contains("`node_pools[0].size`")
            && err.contains("`s-4vcpu-4194304gb`")
            && err.contains(&format!("blog-doks.yaml:{at}")),
        "{err}"
    );
    // What is expected, with the nearest sizes the catalog holds, and a guess.
    assert!(
        err.contains("expected: a portable class (") && err.contains("`s-4vcpu-8gb`"),
        "{err}"
    );
    assert!(err.contains("help: did you mean `s-4vcpu-"), "{err}");
}

#[test]
fn a_made_up_database_slug_is_refused_through_sizes_digitalocean_too() {
    // `sizes.digitalocean` used to pass through unchecked.
    let edit = |t: String| {
        t.replace(
            "database_name: accounts, username: blog }",
            "database_name: accounts, username: blog, sizes: { digitalocean: db-s-3vcpu-7gb } }",
        )
    };
    let err = synth(edit).unwrap_err();
    let at = position(edit, "db-s-3vcpu-7gb");
    assert!(
        err.contains("`databases[1].sizes.digitalocean`")
            && err.contains("`db-s-3vcpu-7gb`")
            && err.contains(&format!("blog-doks.yaml:{at}")),
        "{err}"
    );
    assert!(err.contains("the nearest: `db-s-"), "{err}");
    // Through `size` likewise.
    let err = synth(|t| {
        t.replace(
            "size: small, database_name: content",
            "size: db-s-3vcpu-7gb, database_name: content",
        )
    })
    .unwrap_err();
    assert!(
        err.contains("`databases[0].size`") && err.contains("db-s-3vcpu-7gb"),
        "{err}"
    );
}

#[test]
fn a_node_below_doks_smallest_is_refused() {
    // `GET /v2/kubernetes/options` lists no 512 MB or 1 GB Droplet as a node size.
    for slug in ["s-1vcpu-1gb", "s-1vcpu-512mb-10gb"] {
        let edit = |t: String| t.replace("size: medium, min: 2", &format!("size: {slug}, min: 2"));
        let err = synth(edit).unwrap_err();
        assert!(
            err.contains("`node_pools[0].size`")
                && err.contains("no node smaller than 2 GB")
                && err.contains("`s-1vcpu-2gb`"),
            "{slug}: {err}"
        );
    }
    // The smallest DOKS node is fine.
    synth(|t| t.replace("size: medium, min: 2", "size: s-1vcpu-2gb, min: 2")).unwrap();
}

#[test]
fn a_plan_of_another_engine_is_refused() {
    // `m-*` plans are Valkey's, `db-intel-*` PostgreSQL's and MySQL's
    // (`GET /v2/databases/options`).
    let edit = |t: String| {
        t.replace(
            "database_name: accounts, username: blog }",
            "database_name: accounts, username: blog, sizes: { digitalocean: m-2vcpu-16gb } }",
        )
    };
    let err = synth(edit).unwrap_err();
    assert!(
        err.contains("`databases[1].sizes.digitalocean`")
            && err.contains("for managed Valkey only, not for MySQL")
            && err.contains("expected: a MySQL plan"),
        "{err}"
    );
    let err = synth(|t| {
        t.replace(
            "size: small, database_name: content",
            "sizes: { digitalocean: db-intel-2vcpu-4gb }, database_name: content",
        )
    })
    .unwrap_err();
    assert!(
        err.contains("`databases[0].sizes.digitalocean`") && err.contains("not for MongoDB"),
        "{err}"
    );
    // The largest Basic plans are PostgreSQL's and MySQL's too (DigitalOcean's resize guide
    // resizes "a PostgreSQL or MySQL database" to db-s-16vcpu-64gb), though the API's
    // options example lists them for MongoDB and Valkey only.
    synth(|t| {
        t.replace(
            "database_name: accounts, username: blog }",
            "database_name: accounts, username: blog, sizes: { digitalocean: db-s-16vcpu-64gb } }",
        )
    })
    .unwrap();
    // The same plan on MySQL is fine.
    synth(|t| {
        t.replace(
            "database_name: accounts, username: blog }",
            "database_name: accounts, username: blog, sizes: { digitalocean: db-intel-2vcpu-4gb } }",
        )
    })
    .unwrap();
}

#[test]
fn a_mistyped_class_gets_the_class_as_its_guess() {
    let err = synth(|t| t.replace("size: medium, min: 2", "size: meduim, min: 2")).unwrap_err();
    assert!(
        err.contains("`node_pools[0].size`") && err.contains("help: did you mean `medium`?"),
        "{err}"
    );
}
