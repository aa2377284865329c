//! VPC endpoints: the S3 gateway endpoint every created AWS VPC gets, the interface
//! endpoints of `network.endpoints`, and ECS with `nat: none` — accepted when every task's
//! AWS APIs have an endpoint and its images are in ECR, refused naming what is missing.

use infragen::catalog::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, resources, root, synth, synth_aws, synth_cli};

const PRIVATE: &str = "tests/fixtures/workloads/private-ecs.yaml";

fn private_text() -> String {
    std::fs::read_to_string(root().join(PRIVATE)).unwrap()
}

/// Every `aws_vpc_endpoint` of module `infra`, by service name.
fn endpoints(out: &infragen::Output) -> std::collections::BTreeMap<String, Value> {
    resources(out, "infra", "aws_vpc_endpoint")
        .into_iter()
        .map(|e| (e["service_name"].as_str().unwrap().to_string(), e))
        .collect()
}

#[test]
fn a_created_vpc_gets_the_s3_gateway_endpoint_on_its_private_and_isolated_route_tables() {
    let yaml = ecs_stack("gw", "").replace(
        "    private: [10.0.10.0/24, 10.0.11.0/24]\n",
        "    private: [10.0.10.0/24, 10.0.11.0/24]\n    database: [10.0.20.0/24, 10.0.21.0/24]\n",
    );
    let out = synth_aws("gw", &yaml).unwrap();
    let eps = endpoints(&out);
    assert_eq!(eps.len(), 1, "only the S3 gateway by default: {eps:?}");
    let s3 = &eps["com.amazonaws.eu-west-1.s3"];
    assert_eq!(s3["vpc_endpoint_type"], "Gateway");
    assert_eq!(s3["vpc_id"], "${aws_vpc.main.id}");
    assert!(
        s3.get("policy").is_none(),
        "AWS's default full-access policy"
    );
    let mut tables: Vec<String> =
        resources(&out, "infra", "aws_vpc_endpoint_route_table_association")
            .iter()
            .inspect(|a| assert_eq!(a["vpc_endpoint_id"], "${aws_vpc_endpoint.s3.id}"))
            .map(|a| a["route_table_id"].as_str().unwrap().to_string())
            .collect();
    tables.sort();
    assert_eq!(
        tables,
        [
            "${aws_route_table.isolated.id}",
            "${aws_route_table.private_eu_west_1a.id}",
            "${aws_route_table.private_eu_west_1b.id}",
        ]
    );
    // No interface endpoint, so no security group for one.
    assert!(
        !resources(&out, "infra", "aws_security_group")
            .iter()
            .any(|g| g["name"].as_str().unwrap().contains("vpc-endpoints"))
    );
}

#[test]
fn listed_endpoints_are_interface_endpoints_in_the_private_subnets_behind_one_https_group() {
    let out = synth(&root().join(PRIVATE), Provider::Aws, "production");
    let eps = endpoints(&out);
    let names: Vec<&str> = eps.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "com.amazonaws.eu-west-1.ecr.api",
            "com.amazonaws.eu-west-1.ecr.dkr",
            "com.amazonaws.eu-west-1.logs",
            "com.amazonaws.eu-west-1.s3",
            "com.amazonaws.eu-west-1.secretsmanager",
            "com.amazonaws.eu-west-1.sqs",
        ],
        "`ecr` is ecr.api and ecr.dkr; S3 stays the gateway"
    );
    for (name, e) in eps.iter().filter(|(n, _)| !n.ends_with(".s3")) {
        assert_eq!(e["vpc_endpoint_type"], "Interface", "{name}");
        assert_eq!(e["private_dns_enabled"], true, "{name}");
        assert_eq!(
            e["subnet_ids"],
            serde_json::json!([
                "${aws_subnet.private_eu_west_1a.id}",
                "${aws_subnet.private_eu_west_1b.id}"
            ]),
            "{name}: one interface per zone, in the private subnets"
        );
        assert_eq!(
            e["security_group_ids"],
            serde_json::json!(["${aws_security_group.vpc_endpoints.id}"]),
            "{name}"
        );
    }
    let sg = resources(&out, "infra", "aws_security_group")
        .into_iter()
        .find(|g| g["name"] == "vault-vpc-endpoints-sg")
        .expect("the endpoints' security group");
    assert!(sg["description"].as_str().unwrap().contains("HTTPS"));
    let rules: Vec<Value> = resources(&out, "infra", "aws_vpc_security_group_ingress_rule")
        .into_iter()
        .filter(|r| r["security_group_id"] == "${aws_security_group.vpc_endpoints.id}")
        .collect();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["cidr_ipv4"], "10.0.0.0/16");
    assert_eq!(rules[0]["from_port"], 443);
    assert_eq!(rules[0]["to_port"], 443);
    assert!(!rules[0]["description"].as_str().unwrap().is_empty());
    // No NAT gateway, and no route out of the private subnets.
    assert!(resources(&out, "infra", "aws_nat_gateway").is_empty());
    assert!(
        !resources(&out, "infra", "aws_route")
            .iter()
            .any(|r| r.get("nat_gateway_id").is_some())
    );
}

#[test]
fn ecs_without_nat_is_refused_naming_the_missing_endpoints() {
    let text = private_text().replace(
        "endpoints: [ecr, logs, secretsmanager, sqs]",
        "endpoints: [ecr]",
    );
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`network.nat`"), "{err}");
    assert!(
        err.contains("`logs` to write logs (awslogs) for api, worker"),
        "{err}"
    );
    assert!(
        err.contains("`secretsmanager` to read secrets and credentials for api;"),
        "{err}"
    );
    assert!(err.contains("`sqs` to call SQS for api, worker"), "{err}");
    assert!(!err.contains("`ecr` to"), "listed: {err}");
    assert!(
        err.contains("`network.endpoints: [ecr, logs, secretsmanager, sqs]`"),
        "the help gives the whole list: {err}"
    );
    // Positioned at the value of `nat: none`.
    let line = text.lines().position(|l| l == "  nat: none").unwrap() + 1;
    assert!(err.contains(&format!(".yaml:{line}:8")), "{err}");
}

#[test]
fn ecs_without_nat_refuses_an_image_no_endpoint_serves() {
    let text = private_text().replace(
        "image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/vault/worker:1.0.0",
        "image: nginx:1.27",
    );
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`services[1].image`"), "{err}");
    assert!(err.contains("`worker` runs `nginx:1.27`"), "{err}");
    // ECR of another region is out of reach too (endpoints are regional).
    let text = private_text().replace(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/vault/worker",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/vault/worker",
    );
    let err = synth_aws("x", &text).unwrap_err();
    assert!(err.contains("`services[1].image`"), "{err}");
}

const SETUP_IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/vault/busybox:1.37.0";

/// The fixture without `providers.aws.setup_image`.
fn without_setup_image() -> String {
    let text = private_text();
    let line = format!("    setup_image: {SETUP_IMAGE}\n");
    assert!(text.contains(&line), "the fixture names the setup image");
    text.replacen(&line, "", 1)
}

/// The container definitions of `service`'s task definition.
fn containers(out: &infragen::Output, service: &str) -> Vec<Value> {
    let defs = resources(out, "infra", "aws_ecs_task_definition")
        .into_iter()
        .find(|d| d["family"] == service)
        .unwrap_or_else(|| panic!("a task definition for {service}"));
    serde_json::from_str(defs["container_definitions"].as_str().unwrap()).unwrap()
}

/// The setup container of `service`'s task.
fn setup_container(out: &infragen::Output, service: &str) -> Value {
    let list = containers(out, service);
    list.iter()
        .find(|c| c["name"] == "infragen-volumes")
        .cloned()
        .unwrap_or_else(|| panic!("{service} gets the setup container: {list:?}"))
}

/// The statements of the execution role policy of `service`.
fn execution_statements(out: &infragen::Output, service: &str) -> Vec<Value> {
    let policies = resources(out, "infra", "aws_iam_role_policy");
    let policy = policies
        .iter()
        .find(|p| p["role"] == format!("${{aws_iam_role.{service}_execution.id}}"))
        .expect("the execution policy");
    let doc: Value = serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
    doc["Statement"].as_array().unwrap().clone()
}

#[test]
fn ecs_without_nat_runs_the_volume_setup_container_from_the_setup_image_in_ecr() {
    // The fixture keeps the default writable path (`/tmp`) and names a copy of BusyBox in a
    // repository of its own `registry`.
    let text = private_text();
    assert!(!text.contains("writable_paths"), "default writable paths");
    let out = synth_aws("x", &text).unwrap();
    for service in ["api", "worker"] {
        let setup = setup_container(&out, service);
        // Pulled from the repository the output creates, as the app's image is.
        assert_eq!(
            setup["image"], "${aws_ecr_repository.busybox.repository_url}:1.37.0",
            "{service}"
        );
        assert_eq!(setup["entryPoint"], serde_json::json!(["sh", "-c"]));
        // The execution role may pull it.
        let statements = execution_statements(&out, service);
        let pull = statements
            .iter()
            .find(|s| s["Sid"] == "PullOwnImage")
            .unwrap();
        assert!(
            pull["Resource"]
                .to_string()
                .contains("aws_ecr_repository.busybox.arn"),
            "{pull}"
        );
        assert!(!statements.iter().any(|s| s["Sid"] == "ImportSetupImage"));
    }
    // The service waits for the copy to be pushed, as for its own image, and says so.
    let pre = out.files["preconditions.json"].as_str();
    assert!(pre.contains("vault/busybox:1.37.0"), "{pre}");
    let services = resources(&out, "infra", "aws_ecs_service");
    let api = services.iter().find(|s| s["name"] == "api").unwrap();
    assert!(
        api["lifecycle"]
            .to_string()
            .contains("data.aws_ecr_images.busybox"),
        "{}",
        api["lifecycle"]
    );
}

#[test]
fn a_setup_image_in_a_pull_through_cache_may_be_imported_by_the_execution_role() {
    let cached =
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/docker/library/busybox:1.37.0";
    let out = synth_aws("x", &private_text().replace(SETUP_IMAGE, cached)).unwrap();
    assert_eq!(setup_container(&out, "worker")["image"], cached);
    let arn = "arn:aws:ecr:eu-west-1:123456789012:repository/ecr-public/docker/library/busybox";
    let statements = execution_statements(&out, "worker");
    let pull = statements
        .iter()
        .find(|s| s["Sid"] == "PullOwnImage")
        .unwrap();
    assert!(pull["Resource"].to_string().contains(arn), "{pull}");
    let import = statements
        .iter()
        .find(|s| s["Sid"] == "ImportSetupImage")
        .unwrap();
    assert_eq!(import["Resource"], arn);
    assert_eq!(
        import["Action"],
        serde_json::json!(["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"])
    );
}

#[test]
fn ecs_without_nat_refuses_the_default_setup_image_from_ecr_public() {
    // Default writable paths (`/tmp`) bring infragen's BusyBox setup container.
    let err = synth_aws("x", &without_setup_image()).unwrap_err();
    assert!(
        err.contains("`services[0].security.writable_paths`"),
        "{err}"
    );
    assert!(
        err.contains("public.ecr.aws/docker/library/busybox"),
        "{err}"
    );
    assert!(
        err.contains("providers.aws.setup_image"),
        "the help names the field: {err}"
    );
    assert!(err.contains("registry.repositories"), "{err}");
    // Without writable paths there is no setup container, and nothing to refuse.
    let text = without_setup_image().replace(
        "    uses: [orders]\n",
        "    uses: [orders]\n    security: { writable_paths: [] }\n",
    );
    let text = text.replacen(
        "    uses: [orders, statements]\n",
        "    uses: [orders, statements]\n    security: { writable_paths: [] }\n",
        1,
    );
    let out = synth_aws("x", &text).unwrap();
    assert!(
        !containers(&out, "api")
            .iter()
            .any(|c| c["name"] == "infragen-volumes")
    );
}

#[test]
fn ecs_without_nat_refuses_a_setup_image_outside_the_regions_ecr_once_at_the_field() {
    let text = private_text().replace(SETUP_IMAGE, "busybox:1.37.0");
    let (code, err) = synth_cli(&text, "aws");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.matches("`providers.aws.setup_image`:").count(),
        1,
        "{err}"
    );
    assert!(!err.contains("writable_paths`:"), "{err}");
    let line = text
        .lines()
        .position(|l| l.starts_with("    setup_image:"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!(".yaml:{line}:")), "{err}");
}

#[test]
fn the_setup_image_must_be_pinned() {
    let text = private_text().replace(SETUP_IMAGE, "public.ecr.aws/docker/library/busybox");
    let err = synth_aws("x", &text).unwrap_err();
    assert!(
        err.contains("`providers.aws.setup_image`: image `public.ecr.aws/docker/library/busybox` is not pinned"),
        "{err}"
    );
}

#[test]
fn with_a_nat_the_default_setup_image_stays_on_ecr_public() {
    let text = without_setup_image().replace("nat: none", "nat: single");
    let out = synth_aws("x", &text).unwrap();
    let setup = containers(&out, "worker")
        .into_iter()
        .find(|c| c["name"] == "infragen-volumes")
        .unwrap();
    assert_eq!(
        setup["image"],
        "public.ecr.aws/docker/library/busybox:1.37.0"
    );
    assert!(
        !execution_statements(&out, "worker")
            .iter()
            .any(|s| s["Sid"] == "ImportSetupImage")
    );
}

#[test]
fn an_endpoint_name_is_checked_with_a_suggestion() {
    let text = private_text().replace("secretsmanager, sqs]", "secretmanager, sqs]");
    let err = synth_aws("x", &text).unwrap_err();
    assert!(err.contains("did you mean `secretsmanager`?"), "{err}");
}

#[test]
fn ecs_with_nat_is_unchanged_by_missing_endpoints() {
    let text = private_text()
        .replace("nat: none", "nat: single")
        .replace(
            "endpoints: [ecr, logs, secretsmanager, sqs]",
            "endpoints: []",
        )
        .replace(
            "image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/vault/worker:1.0.0",
            "image: nginx:1.27",
        );
    let out = synth_aws("x", &text).unwrap();
    assert_eq!(endpoints(&out).len(), 1, "the S3 gateway only");
}

#[test]
fn eks_without_nat_stays_refused_even_with_endpoints_but_takes_them_with_nat() {
    let eks =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/jobs-eks.yaml")).unwrap();
    let marker = "  zones: [eu-west-1a, eu-west-1b]\n";
    assert!(eks.contains(marker), "fixture changed");
    let with = eks.replacen(
        marker,
        &format!("{marker}  nat: single\n  endpoints: [ecr, sts, ec2, logs]\n"),
        1,
    );
    let out = synth_aws("x", &with).unwrap();
    let eps = endpoints(&out);
    assert!(eps.keys().any(|k| k.ends_with(".ecr.dkr")), "{eps:?}");
    assert!(eps.keys().any(|k| k.ends_with(".sts")), "{eps:?}");
    let err = synth_aws("x", &with.replace("  nat: single\n", "  nat: none\n")).unwrap_err();
    assert!(err.contains("`network.nat`"), "{err}");
    assert!(err.contains("EKS nodes"), "{err}");
}

#[test]
fn an_existing_vpc_gets_only_the_endpoints_listed_and_no_gateway() {
    let path = root().join("tests/fixtures/workloads/existing-vpc-ecs.yaml");
    let base = std::fs::read_to_string(&path).unwrap();
    let out = synth(&path, Provider::Aws, "production");
    assert!(
        endpoints(&out).is_empty(),
        "no endpoint in a VPC infragen does not own"
    );
    let marker = "  flow_logs: { enabled: false }";
    assert!(base.contains(marker), "fixture changed");
    let listed = base.replacen(marker, &format!("  endpoints: [ecr, logs]\n{marker}"), 1);
    let out = synth_aws("x", &listed).unwrap();
    let eps = endpoints(&out);
    assert_eq!(eps.len(), 3, "{eps:?}");
    for e in eps.values() {
        assert_eq!(e["vpc_endpoint_type"], "Interface");
        assert_eq!(e["vpc_id"], "${data.aws_vpc.main.id}");
        assert_eq!(
            e["subnet_ids"],
            serde_json::json!([
                "${data.aws_subnet.private_eu_west_1a.id}",
                "${data.aws_subnet.private_eu_west_1b.id}"
            ])
        );
    }
    assert!(resources(&out, "infra", "aws_vpc_endpoint_route_table_association").is_empty());
    let gateway = base.replacen(marker, &format!("  endpoints: [ecr, s3]\n{marker}"), 1);
    let err = synth_aws("x", &gateway).unwrap_err();
    assert!(err.contains("`network.endpoints[1]`"), "{err}");
    assert!(err.contains("gateway endpoint"), "{err}");
}

#[test]
fn digitalocean_ignores_the_aws_endpoints_of_a_shared_network() {
    // Like `nat`, AWS's alone: a blueprint for both clouds shares `network`.
    let text = "name: doe
providers:
  digitalocean: { region: nyc3 }
network:
  cidr: 10.30.0.0/16
  endpoints: [ecr]
cluster:
  platform: doks
node_pools:
  - { name: default, size: s-2vcpu-4gb, min: 1, max: 2 }
";
    let (code, err) = synth_cli(text, "digitalocean");
    assert_eq!(code, Some(0), "{err}");
}

/// EKS pods have no volume-setup container (writable paths are emptyDir volumes): a
/// `providers.aws.setup_image` there is said to be unused, not dropped silently.
#[test]
fn the_setup_image_on_eks_is_said_to_be_unused() {
    let eks =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/jobs-eks.yaml")).unwrap();
    let marker = "  aws: { region: eu-west-1 }\n";
    assert!(eks.contains(marker), "fixture changed");
    let unused = |out: &infragen::Output| {
        out.notes
            .iter()
            .any(|n| n.text.contains("providers.aws.setup_image") && n.text.contains("not used"))
    };
    assert!(!unused(&synth_aws("x", &eks).unwrap()));
    let with = eks.replacen(
        marker,
        "  aws: { region: eu-west-1, setup_image: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/busybox:1.37.0\" }\n",
        1,
    );
    let out = synth_aws("x", &with).unwrap();
    assert!(unused(&out), "{:?}", out.notes);
}

/// An interface endpoint with private DNS answers for its service in the whole VPC, and a VPC
/// takes one per service ("private-dns-enabled cannot be set because there is already a
/// conflicting DNS domain", AWS re:Post knowledge center). In an existing VPC, staging and
/// production giving the same VPC would each create them: the second apply fails. Said at
/// synth; one environment listing them is fine (the other's tasks resolve to them too).
#[test]
fn environments_creating_the_same_private_dns_endpoints_in_one_existing_vpc_are_warned() {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/existing-vpc-ecs.yaml"))
            .unwrap();
    let marker = "  flow_logs: { enabled: false }";
    assert!(base.contains(marker), "fixture changed");
    let both = format!(
        "{}environments:\n  staging: {{}}\n  production: {{}}\n",
        base.replacen(marker, &format!("  endpoints: [ecr, logs]\n{marker}"), 1)
    );
    let (code, err) = crate::support::synth_cli_env(&both, "aws", "production");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("environments-share-vpc-endpoints"), "{err}");
    assert!(err.contains("environments production, staging"), "{err}");
    assert!(
        err.contains("vpc-0f0e0d0c0b0a09080: com.amazonaws.eu-west-1.ecr.api"),
        "{err}"
    );
    let one = format!(
        "{base}environments:\n  staging: {{}}\n  production:\n    network:\n      endpoints: [ecr, logs]\n"
    );
    let (code, err) = crate::support::synth_cli_env(&one, "aws", "staging");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("environments-share-vpc-endpoints"), "{err}");
    // A VPC of each environment's own: no collision.
    let own = both.replacen(
        "environments:\n  staging: {}\n",
        "environments:\n  staging:\n    network:\n      existing: { vpc_id: vpc-0a0b0c0d0e0f01020 }\n",
        1,
    );
    let (code, err) = crate::support::synth_cli_env(&own, "aws", "production");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("environments-share-vpc-endpoints"), "{err}");
}

/// Whether the existing VPC already has the endpoints is its owner's knowledge: each one
/// infragen would create there is listed in `preconditions.json`, and none without endpoints.
#[test]
fn interface_endpoints_in_an_existing_vpc_are_a_precondition() {
    let path = root().join("tests/fixtures/workloads/existing-vpc-ecs.yaml");
    let base = std::fs::read_to_string(&path).unwrap();
    let kinds = |out: &infragen::Output| -> Vec<serde_json::Value> {
        let pre: serde_json::Value =
            serde_json::from_str(&out.files["preconditions.json"]).unwrap();
        pre.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p["kind"] == "VpcEndpointPrivateDns")
            .collect()
    };
    assert!(kinds(&synth(&path, Provider::Aws, "production")).is_empty());
    let marker = "  flow_logs: { enabled: false }";
    let listed = base.replacen(marker, &format!("  endpoints: [ecr, logs]\n{marker}"), 1);
    let found = kinds(&synth_aws("x", &listed).unwrap());
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].to_string();
    for s in ["ecr.api", "ecr.dkr", "logs", "vpc-0f0e0d0c0b0a09080"] {
        assert!(text.contains(s), "{text}");
    }
}

/// Whether a service offers its interface endpoint in a zone is the account's to say (zone
/// names are per-account aliases, and not every service is in every zone): each interface
/// endpoint's service is read at plan (`data.aws_vpc_endpoint_service`) with a postcondition
/// that every zone of the private subnets is offered, naming `network.zones`. No such read for
/// the gateway endpoints, nor without interface endpoints.
#[test]
fn each_interface_endpoint_service_is_checked_offered_in_every_zone_at_plan() {
    let out = synth(&root().join(PRIVATE), Provider::Aws, "production");
    let mut read: Vec<(String, Value)> = Vec::new();
    for (path, text) in &out.files {
        if path.starts_with("terraform/infra/") && path.ends_with(".tf.json") {
            let doc: Value = serde_json::from_str(text).unwrap();
            if let Some(o) = doc["data"]["aws_vpc_endpoint_service"].as_object() {
                read.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    let names: Vec<&str> = read
        .iter()
        .map(|(_, v)| v["service_name"].as_str().unwrap())
        .collect();
    let eps = endpoints(&out);
    let interfaces: Vec<&String> = eps
        .iter()
        .filter(|(_, e)| e["vpc_endpoint_type"] == "Interface")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names.len(), interfaces.len(), "{names:?} {interfaces:?}");
    for i in interfaces {
        assert!(names.contains(&i.as_str()), "{i} not read: {names:?}");
    }
    for (_, body) in &read {
        assert_eq!(body["service_type"], "Interface");
        let post = &body["lifecycle"]["postcondition"][0];
        let cond = post["condition"].as_str().unwrap();
        assert!(cond.contains(r#"["eu-west-1a","eu-west-1b"]"#), "{cond}");
        assert!(cond.contains("self.availability_zones"), "{cond}");
        let msg = post["error_message"].as_str().unwrap();
        assert!(msg.starts_with("network.zones: "), "{msg}");
        assert!(
            msg.contains("${join("),
            "the zones offered are interpolated: {msg}"
        );
    }
    // Nothing to read without interface endpoints.
    let none = ecs_stack(
        "plain",
        "services:\n  - { name: api, image: nginxinc/nginx-unprivileged:1.27.3, port: 8080 }\n",
    );
    let out = synth_aws("plain", &none).unwrap();
    assert!(!crate::support::flatten(&out).contains("aws_vpc_endpoint_service"));
}
