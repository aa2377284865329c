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
