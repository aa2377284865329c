//! `spring-datasource`: a Spring Boot service that `uses` a PostgreSQL or MySQL database reads
//! its JDBC connection from `SPRING_DATASOURCE_*`, which the generated `<PREFIX>_*`
//! variables are not (`mysql://…` is no JDBC URL): warned with the lines that wire it, and
//! those lines, written as suggested, synthesize and reach the pod.

use infragen::Provider;

use crate::support::{ecs_stack, manifests, root, synth, synth_aws};

fn spring_warnings(out: &infragen::Output) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some("spring-datasource"))
        .map(|n| n.text.clone())
        .collect()
}

fn k8s(engine: &str, service: &str) -> infragen::Output {
    let text = format!(
        "name: foundry
cluster: {{ platform: existing }}
databases:
  - {{ name: orders-db, engine: {engine}, deployment: in_cluster }}
services:
{service}"
    );
    infragen::synthesize(
        "foundry.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn a_spring_service_told_nothing_about_its_database_is_warned_and_the_fix_wires_it() {
    let bare = "  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    env: { SPRING_PROFILES_ACTIVE: \"{env}\" }
    uses: [orders-db]
";
    let warned = spring_warnings(&k8s("mysql", bare));
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains(
            "SPRING_DATASOURCE_URL: \"jdbc:mysql://$(ORDERS_DB_HOST):$(ORDERS_DB_PORT)/$(ORDERS_DB_DATABASE)\""
        ),
        "{}",
        warned[0]
    );
    // Actuator probes alone mark a Spring Boot service too; PostgreSQL's JDBC scheme.
    let probed = "  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    probes: { readiness: { path: /actuator/health/readiness } }
    uses: [orders-db]
";
    let warned = spring_warnings(&k8s("postgres", probed));
    assert!(
        warned.len() == 1 && warned[0].contains("jdbc:postgresql://$(ORDERS_DB_HOST)"),
        "{warned:#?}"
    );
    // A MongoDB URI is what Spring Data MongoDB reads: nothing to warn about.
    assert!(spring_warnings(&k8s("mongodb", bare)).is_empty());

    // The suggested lines: no warning, and the container gets a JDBC URL built from the
    // generated variables, defined after them (the kubelet expands only earlier ones), plus
    // the credentials by reference.
    let wired = "  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    env:
      SPRING_PROFILES_ACTIVE: \"{env}\"
      SPRING_DATASOURCE_URL: \"jdbc:mysql://$(ORDERS_DB_HOST):$(ORDERS_DB_PORT)/$(ORDERS_DB_DATABASE)\"
    uses: [{ name: orders-db, env: { SPRING_DATASOURCE_USERNAME: username, SPRING_DATASOURCE_PASSWORD: password } }]
";
    let out = k8s("mysql", wired);
    assert!(spring_warnings(&out).is_empty());
    let deployment = manifests(&out)
        .into_iter()
        .find(|m| m["kind"] == "Deployment" && m["metadata"]["name"] == "orders")
        .unwrap();
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    let at = |name: &str| env.iter().position(|e| e["name"] == name);
    let url = at("SPRING_DATASOURCE_URL").expect("SPRING_DATASOURCE_URL in env");
    assert!(at("ORDERS_DB_HOST").unwrap() < url && at("ORDERS_DB_DATABASE").unwrap() < url);
    for credential in ["SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD"] {
        let e = &env[at(credential).unwrap()];
        assert!(e["valueFrom"]["secretKeyRef"]["name"].is_string(), "{e}");
    }
}

#[test]
fn on_ecs_the_suggestion_uses_springs_own_placeholders() {
    let yaml = ecs_stack(
        "foundry",
        "databases:
  - { name: orders-db, engine: postgres, version: \"17\", size: db.t4g.micro, storage: { size_gb: 20 } }
services:
  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    env: { SPRING_PROFILES_ACTIVE: production }
    uses: [orders-db]
",
    );
    let out = synth_aws("foundry", &yaml).unwrap();
    let warned = spring_warnings(&out);
    assert!(
        warned.len() == 1
            && warned[0].contains(
                "jdbc:postgresql://${ORDERS_DB_HOST}:${ORDERS_DB_PORT}/${ORDERS_DB_DATABASE}"
            ),
        "{warned:#?}"
    );
}

#[test]
fn the_shipped_spring_services_know_their_database() {
    let path = root().join("blueprints/ecommerce-doks.yaml");
    for provider in [Provider::Digitalocean, Provider::Kubernetes] {
        let out = synth(&path, provider, "production");
        assert!(
            spring_warnings(&out).is_empty(),
            "{:#?}",
            spring_warnings(&out)
        );
    }
}
