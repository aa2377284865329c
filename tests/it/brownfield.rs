//! Data services for workloads that run outside the blueprint (round 11: an existing EKS
//! cluster another team runs, `--provider kubernetes` for the services, and a data-only AWS
//! blueprint for their RDS instance, `tests/fixtures/brownfield/quay-data-aws.yaml`). A
//! managed database's security group admits only the blueprint's own workloads; with none,
//! nothing can connect, which synth now says (`data-unreachable`) — unless an `extra`
//! template admits the outside clients, as the fixture's does.

use infragen::Provider;

use crate::support::{ecs_stack, resources, root, synth_aws};

const DATA_ONLY: &str = "tests/fixtures/brownfield/quay-data-aws.yaml";

fn warnings(out: &infragen::Output) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some("data-unreachable"))
        .map(|n| n.to_string())
        .collect()
}

/// The fixture, with or without its `extra:` part, synthesized with its templates folder.
fn data_only(with_template: bool) -> infragen::Output {
    let text = std::fs::read_to_string(root().join(DATA_ONLY)).unwrap();
    let text = if with_template {
        text
    } else {
        let cut = text
            .find("extra:\n")
            .expect("the fixture has an extra: part");
        text[..cut].to_string()
    };
    let loaded = infragen::blueprint::load(
        "quay-data-aws.yaml",
        text.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let templates = infragen::escape::folder(root().join("tests/fixtures/brownfield"));
    infragen::synthesize_with(&loaded, &templates).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn a_database_no_workload_here_reaches_is_warned_of_with_the_way_to_admit_others() {
    let out = data_only(false);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    for part in [
        "PostgreSQL `orders`",
        "admits no one",
        "`aws_security_group.orders.id` on port 5432",
        "extra.terraform.infra",
    ] {
        assert!(w[0].contains(part), "`{part}` missing from: {}", w[0]);
    }
    // Indeed: no ingress rule admits anyone to it.
    assert!(resources(&out, "infra", "aws_vpc_security_group_ingress_rule").is_empty());
}

#[test]
fn the_template_admitting_the_existing_clusters_group_silences_it() {
    let out = data_only(true);
    assert_eq!(warnings(&out), Vec::<String>::new());
    let rules = resources(&out, "infra", "aws_vpc_security_group_ingress_rule");
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0]["security_group_id"],
        "${aws_security_group.orders.id}"
    );
    assert_eq!(
        rules[0]["referenced_security_group_id"],
        "${data.aws_eks_cluster.platform.vpc_config[0].cluster_security_group_id}"
    );
}

/// On ECS the clients are the services that `use` it; on EKS every node may reach the
/// managed data services (pods share the nodes' group), so only ECS warns.
#[test]
fn ecs_warns_of_an_unused_cache_and_eks_admits_its_nodes() {
    let ecs = ecs_stack(
        "lone",
        "caches:\n  - { name: spare, engine: redis, size: small }\nservices:\n  - { name: web, image: nginx:1.27.3, port: 8080 }\n",
    );
    let out = synth_aws("lone", &ecs).unwrap();
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`spare`"), "{}", w[0]);
    let used = ecs.replace("port: 8080 }", "port: 8080, uses: [spare] }");
    assert_eq!(
        warnings(&synth_aws("lone", &used).unwrap()),
        Vec::<String>::new()
    );

    let eks =
        std::fs::read_to_string(root().join("tests/fixtures/new-user/keel-existing-vpc-eks.yaml"))
            .unwrap()
            .replace(
                "    uses: [ledger, documents, jobs]\n",
                "    uses: [documents, jobs]\n",
            )
            .replace(
                "    uses: [ledger, sessions, documents, jobs]\n",
                "    uses: [documents, jobs]\n",
            );
    assert!(!eks.contains("uses: [ledger"));
    let out = infragen::synthesize("keel.yaml", eks.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(warnings(&out), Vec::<String>::new());
}

/// The kinds of `preconditions.json`.
fn precondition_kinds(out: &infragen::Output) -> Vec<String> {
    let Some(text) = out.files.get("preconditions.json") else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let list = v
        .as_array()
        .or_else(|| v["preconditions"].as_array())
        .unwrap();
    list.iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect()
}

/// `VpcEgress` (the private subnets need a way out to pull images and join nodes) is asked
/// of a blueprint that runs something there, not of the data-only one, which runs nothing.
#[test]
fn a_data_only_blueprint_is_not_asked_for_a_way_out_of_the_vpc() {
    assert!(
        !precondition_kinds(&data_only(true)).contains(&"VpcEgress".to_string()),
        "{:?}",
        precondition_kinds(&data_only(true))
    );
    let keel = crate::support::synth(
        &root().join("tests/fixtures/new-user/keel-existing-vpc-eks.yaml"),
        Provider::Aws,
        "production",
    );
    assert!(precondition_kinds(&keel).contains(&"VpcEgress".to_string()));
}
