//! ECS services reach the services they `use` through Service Connect: the used service is
//! published under its name on its container port (a named port mapping), the user gets a
//! client configuration in the same namespace, variables naming that endpoint, security
//! group rules between exactly the two, and is created after the service it uses (a task
//! learns only the endpoints that exist when it starts).

use serde_json::Value;

use crate::support::{ecs_stack, resources, synth_aws};

fn stack() -> String {
    ecs_stack(
        "pay",
        "services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    task: { cpu: 256, memory: 512 }
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    task: { cpu: 256, memory: 512 }
    uses: [api]
  - name: admin
    image: ghcr.io/acme/admin:1.0.0
    port: 4000
    task: { cpu: 256, memory: 512 }
",
    )
}

fn by_name<'a>(list: &'a [Value], key: &str, name: &str) -> &'a Value {
    list.iter()
        .find(|r| r[key].as_str().is_some_and(|n| n.ends_with(name)))
        .unwrap_or_else(|| panic!("no {key} ending in {name}"))
}

fn container(td: &Value) -> Value {
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    defs[0].clone()
}

#[test]
fn a_service_reaches_the_service_it_uses() {
    let out = synth_aws("pay", &stack()).unwrap_or_else(|e| panic!("{e}"));
    let services = resources(&out, "infra", "aws_ecs_service");
    let tds = resources(&out, "infra", "aws_ecs_task_definition");
    let api = by_name(&services, "name", "api");
    let web = by_name(&services, "name", "web");
    let admin = by_name(&services, "name", "admin");
    let namespace = "${aws_service_discovery_http_namespace.services.arn}";
    assert_eq!(
        resources(&out, "infra", "aws_service_discovery_http_namespace").len(),
        1
    );

    // The server publishes its named container port under its own name.
    let published = &api["service_connect_configuration"];
    assert_eq!(published["enabled"], true);
    assert_eq!(published["namespace"], namespace);
    let entry = &published["service"][0];
    let api_port = &container(by_name(&tds, "family", "api"))["portMappings"][0];
    assert_eq!(entry["port_name"], api_port["name"]);
    assert_eq!(api_port["containerPort"], 8080);
    assert_eq!(entry["client_alias"][0]["port"], 8080);
    let alias = entry["client_alias"][0]["dns_name"].as_str().unwrap();

    // The client: same namespace, nothing published, created after the server, and told
    // the endpoint the alias answers.
    let client = &web["service_connect_configuration"];
    assert_eq!(client["enabled"], true);
    assert_eq!(client["namespace"], namespace);
    assert!(client.get("service").is_none());
    assert!(
        web["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "aws_ecs_service.api")
    );
    let env: Vec<(String, String)> = container(by_name(&tds, "family", "web"))["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let value = |suffix: &str| {
        env.iter()
            .find(|(k, _)| k.starts_with("API") && k.ends_with(suffix))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no API…{suffix} in {env:?}"))
    };
    assert_eq!(value("_HOST"), alias);
    assert_eq!(value("_PORT"), "8080");
    assert_eq!(value("_URL"), format!("http://{alias}:8080"));

    // Exactly the pair may talk, on the server's port.
    let ingress = resources(&out, "infra", "aws_vpc_security_group_ingress_rule");
    let egress = resources(&out, "infra", "aws_vpc_security_group_egress_rule");
    let api_sg = "${aws_security_group.api_tasks.id}";
    let web_sg = "${aws_security_group.web_tasks.id}";
    let pair = |rules: &[Value], on: &str, other: &str| {
        rules
            .iter()
            .filter(|r| r["security_group_id"] == on && r["referenced_security_group_id"] == other)
            .map(|r| (r["from_port"].clone(), r["to_port"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pair(&ingress, api_sg, web_sg),
        vec![(8080.into(), 8080.into())]
    );
    assert_eq!(
        pair(&egress, web_sg, api_sg),
        vec![(8080.into(), 8080.into())]
    );
    let admin_sg = "${aws_security_group.admin_tasks.id}";
    assert!(pair(&ingress, api_sg, admin_sg).is_empty());
    assert!(pair(&ingress, web_sg, api_sg).is_empty());

    // A service that neither uses nor is used by another is left as it was.
    assert!(admin.get("service_connect_configuration").is_none());
    assert!(
        container(by_name(&tds, "family", "admin"))["portMappings"][0]
            .get("name")
            .is_none()
    );
}

#[test]
fn no_namespace_without_services_using_services() {
    let plain = stack().replace("    uses: [api]\n", "");
    let out = synth_aws("pay", &plain).unwrap_or_else(|e| panic!("{e}"));
    assert!(resources(&out, "infra", "aws_service_discovery_http_namespace").is_empty());
    assert!(
        resources(&out, "infra", "aws_ecs_service")
            .iter()
            .all(|s| s.get("service_connect_configuration").is_none())
    );
}

/// ECS deploys rolling whatever `rollout.strategy` says; a canary or blue/green asked for is
/// a warning, never a silent downgrade.
#[test]
fn a_rollout_ecs_does_not_lower_is_warned_about() {
    let canary = stack().replace(
        "    uses: [api]\n",
        "    uses: [api]\n    rollout: { strategy: canary }\n",
    );
    let out = synth_aws("pay", &canary).unwrap_or_else(|e| panic!("{e}"));
    let warned: Vec<&str> = out
        .notes
        .iter()
        .filter(|n| n.rule == Some("ecs-rollout-rolling"))
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("`web`") && warned[0].contains("canary"));
    let plain = synth_aws("pay", &stack()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        plain
            .notes
            .iter()
            .all(|n| n.rule != Some("ecs-rollout-rolling"))
    );
}
