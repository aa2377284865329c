//! What DigitalOcean would refuse or break for the shipped DOKS blueprint, refused at synth.

use infragen::Provider;

use crate::support::root;

/// ecommerce-doks with `edit` applied to its text.
fn doks(edit: impl Fn(String) -> String, env: &str) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit applies");
    infragen::synthesize(
        "blueprints/ecommerce-doks.yaml",
        edited.as_bytes(),
        Provider::Digitalocean,
        env,
    )
    .map_err(|d| d.to_string())
}

#[test]
fn a_vpc_overlapping_the_cluster_networks_is_refused() {
    // DOKS creates the cluster with pods in 10.244.0.0/16 and Services in 10.245.0.0/16.
    for (cidr, network) in [
        ("10.244.0.0/16", "pod network `10.244.0.0/16`"),
        ("10.245.128.0/20", "Service network `10.245.0.0/16`"),
    ] {
        let err = doks(
            |t| t.replace("cidr: 172.17.0.0/16", &format!("cidr: {cidr}")),
            "production",
        )
        .unwrap_err();
        assert!(
            err.contains("`network.cidr`")
                && err.contains(network)
                && err.contains("blueprints/ecommerce-doks.yaml:"),
            "{err}"
        );
    }
    // Next to them is fine.
    doks(
        |t| t.replace("cidr: 172.17.0.0/16", "cidr: 10.10.0.0/16"),
        "production",
    )
    .unwrap();
}

#[test]
fn a_custom_postgres_user_without_privileges_is_said_with_the_grants() {
    // ecommerce-eks on DigitalOcean: managed PostgreSQL 17 with `username: ecommerce_admin`,
    // which DigitalOcean creates with minimal permissions (no CREATE on `public`).
    let out = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    let warning = out
        .notes
        .iter()
        .map(ToString::to_string)
        .find(|n| n.contains("do-database-user"))
        .expect("a do-database-user warning");
    assert!(
        warning.contains(r#"GRANT ALL ON DATABASE "ecommerce" TO "ecommerce_admin""#)
            && warning.contains(r#"GRANT ALL ON SCHEMA public TO "ecommerce_admin""#),
        "{warning}"
    );
    // In the cluster the credentials Secret's user owns its database: nothing to say.
    let k8s = crate::support::synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Kubernetes,
        "production",
    );
    assert!(
        !k8s.notes
            .iter()
            .any(|n| n.to_string().contains("do-database-user"))
    );
}
