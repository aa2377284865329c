//! An existing VPC (`network.existing`): the output reads the VPC and its subnets with data
//! sources whose postconditions check at plan time what synth cannot know, creates nothing of
//! the network, and every consumer names the given VPC and subnets.

use infragen::catalog::Provider;
use serde_json::Value;

use crate::support::{manifests, resources, root, synth, synth_aws};

const EKS: &str = "tests/fixtures/workloads/existing-vpc-eks.yaml";
const ECS: &str = "tests/fixtures/workloads/existing-vpc-ecs.yaml";

fn out(path: &str) -> infragen::Output {
    synth(&root().join(path), Provider::Aws, "production")
}

/// Every Terraform JSON document of `terraform/<module>/`.
fn docs(out: &infragen::Output, module: &str) -> Vec<(String, Value)> {
    let prefix = format!("terraform/{module}/");
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix) && p.ends_with(".json"))
        .map(|(p, t)| (p.clone(), serde_json::from_str(t).unwrap()))
        .collect()
}

/// Every string in `v`, depth first.
fn strings(v: &Value, acc: &mut Vec<String>) {
    match v {
        Value::String(s) => acc.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, acc)),
        Value::Object(o) => o.values().for_each(|x| strings(x, acc)),
        _ => {}
    }
}

/// The data sources `data.<ty>.*` of module `infra`, by name.
fn data_sources(out: &infragen::Output, ty: &str) -> serde_json::Map<String, Value> {
    let mut all = serde_json::Map::new();
    for (_, d) in docs(out, "infra") {
        if let Some(o) = d.pointer(&format!("/data/{ty}")).and_then(Value::as_object) {
            all.extend(o.clone());
        }
    }
    all
}

const NETWORK_RESOURCES: [&str; 9] = [
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_nat_gateway",
    "aws_eip",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_default_security_group",
];

#[test]
fn nothing_of_the_network_is_created_it_is_read() {
    for path in [EKS, ECS] {
        let o = out(path);
        for ty in NETWORK_RESOURCES {
            assert!(
                resources(&o, "infra", ty).is_empty(),
                "{path}: creates {ty} in a VPC it does not own"
            );
        }
        let vpc = data_sources(&o, "aws_vpc");
        assert_eq!(vpc.len(), 1, "{path}: one data.aws_vpc");
        assert!(vpc["main"]["id"].as_str().unwrap().starts_with("vpc-0"));
        let subnets = data_sources(&o, "aws_subnet");
        let tiers = if path == EKS { 3 } else { 2 };
        assert_eq!(
            subnets.len(),
            tiers * 2,
            "{path}: one data.aws_subnet per tier and zone"
        );
    }
}

/// Every reference to a VPC or subnet, anywhere in any module, is to the data sources, and
/// the ids the blueprint gives are the ones read.
#[test]
fn every_consumer_names_the_given_vpc_and_subnets() {
    for path in [EKS, ECS] {
        let o = out(path);
        let mut all = Vec::new();
        for module in ["infra", "platform", "connections"] {
            for (_, d) in docs(&o, module) {
                strings(&d, &mut all);
            }
        }
        for s in &all {
            for r in ["aws_vpc.", "aws_subnet."] {
                let mut rest = s.as_str();
                while let Some(i) = rest.find(r) {
                    assert!(
                        rest[..i].ends_with("data."),
                        "{path}: `{s}` names a created {r}"
                    );
                    rest = &rest[i + r.len()..];
                }
            }
        }
        let subnets = data_sources(&o, "aws_subnet");
        let blueprint = std::fs::read_to_string(root().join(path)).unwrap();
        for (name, body) in &subnets {
            let id = body["id"].as_str().unwrap();
            assert!(blueprint.contains(id), "{path}: {name} reads {id}");
        }
    }
}

fn private(tier_refs: &Value) -> Vec<String> {
    tier_refs
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn eks_cluster_node_groups_and_rds_use_the_given_subnets() {
    let o = out(EKS);
    let want = [
        "${data.aws_subnet.private_eu_west_1a.id}",
        "${data.aws_subnet.private_eu_west_1b.id}",
    ];
    let cluster = &resources(&o, "infra", "aws_eks_cluster")[0];
    assert_eq!(private(&cluster["vpc_config"]["subnet_ids"]), want);
    // The pool hosting the in-cluster cache is one group per zone (cluster/zones.rs), each
    // in its own zone's given subnet.
    let groups = resources(&o, "infra", "aws_eks_node_group");
    assert_eq!(groups.len(), 2);
    let mut per_zone: Vec<String> = groups
        .iter()
        .flat_map(|g| private(&g["subnet_ids"]))
        .collect();
    per_zone.sort();
    assert_eq!(per_zone, want);
    let db = &resources(&o, "infra", "aws_db_subnet_group")[0];
    assert_eq!(
        private(&db["subnet_ids"]),
        [
            "${data.aws_subnet.database_eu_west_1a.id}",
            "${data.aws_subnet.database_eu_west_1b.id}"
        ]
    );
    for sg in resources(&o, "infra", "aws_security_group") {
        assert_eq!(sg["vpc_id"], "${data.aws_vpc.main.id}");
    }
    let flow = &resources(&o, "infra", "aws_flow_log")[0];
    assert_eq!(flow["vpc_id"], "${data.aws_vpc.main.id}");
}

#[test]
fn ecs_tasks_jobs_alb_and_data_services_use_the_given_subnets() {
    let o = out(ECS);
    let private_ids = [
        "${data.aws_subnet.private_eu_west_1a.id}",
        "${data.aws_subnet.private_eu_west_1b.id}",
    ];
    let svc = &resources(&o, "infra", "aws_ecs_service")[0];
    assert_eq!(
        private(&svc["network_configuration"]["subnets"]),
        private_ids
    );
    let schedule = &resources(&o, "infra", "aws_scheduler_schedule")[0];
    assert_eq!(
        private(&schedule["target"]["ecs_parameters"]["network_configuration"]["subnets"]),
        private_ids
    );
    let lb = &resources(&o, "infra", "aws_lb")[0];
    assert_eq!(
        private(&lb["subnets"]),
        [
            "${data.aws_subnet.public_eu_west_1a.id}",
            "${data.aws_subnet.public_eu_west_1b.id}"
        ]
    );
    // No `database` tier: RDS and ElastiCache take the private subnets.
    for ty in ["aws_db_subnet_group", "aws_elasticache_subnet_group"] {
        assert_eq!(
            private(&resources(&o, "infra", ty)[0]["subnet_ids"]),
            private_ids
        );
    }
    for tg in resources(&o, "infra", "aws_lb_target_group") {
        assert_eq!(tg["vpc_id"], "${data.aws_vpc.main.id}");
    }
    // `flow_logs.enabled: false`: the network team's.
    assert!(resources(&o, "infra", "aws_flow_log").is_empty());
}

/// A wrong id fails `terraform plan` naming the blueprint field: each subnet is checked to be
/// in the VPC, in its zone and inside `network.cidr`; the VPC to hold `network.cidr` and to
/// resolve DNS.
#[test]
fn postconditions_check_vpc_zone_range_and_dns() {
    let o = out(EKS);
    let subnets = data_sources(&o, "aws_subnet");
    let private_b = &subnets["private_eu_west_1b"]["lifecycle"]["postcondition"];
    let conditions: Vec<&str> = private_b
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["condition"].as_str().unwrap())
        .collect();
    assert_eq!(
        conditions,
        [
            "${self.vpc_id == data.aws_vpc.main.id}",
            "${self.availability_zone == \"eu-west-1b\"}",
            "${cidrhost(format(\"%s/16\", cidrhost(self.cidr_block, 0)), 0) == \"10.40.0.0\"}"
        ]
    );
    assert!(private_b[1]["error_message"].as_str().unwrap().starts_with(
        "network.subnets.private[1]: subnet subnet-0ccc3333dddd44446 is not in eu-west-1b"
    ));
    for (name, s) in &subnets {
        assert_eq!(
            s["lifecycle"]["postcondition"].as_array().unwrap().len(),
            3,
            "{name}"
        );
    }
    let vpc = &data_sources(&o, "aws_vpc")["main"]["lifecycle"]["postcondition"];
    let text = vpc.to_string();
    assert!(
        text.contains(
            r#"contains([for a in self.cidr_block_associations : a.cidr_block], \"10.40.0.0/16\")"#
        ),
        "{text}"
    );
    assert!(
        text.contains("self.enable_dns_support && self.enable_dns_hostnames"),
        "{text}"
    );
}

/// The Load Balancer Controller is given the subnets instead of discovering them by role
/// tags across a VPC infragen does not own (and no `aws_ec2_tag` tags them).
#[test]
fn load_balancers_name_their_subnets_and_no_subnet_is_tagged() {
    let o = out(EKS);
    let ingress = manifests(&o)
        .into_iter()
        .find(|m| m["kind"] == "Ingress")
        .expect("an Ingress");
    assert_eq!(
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/subnets"],
        "subnet-0aaa1111bbbb22223,subnet-0aaa1111bbbb22224"
    );
    assert!(resources(&o, "infra", "aws_ec2_tag").is_empty());

    // ingress-nginx's own NLB (no ALB in front of it): the Service annotation.
    let yaml = std::fs::read_to_string(root().join(EKS))
        .unwrap()
        .replace("class: alb", "class: nginx")
        .replace(
            "load_balancer:\n  certificate: { domain: brown.example.com }\n  redirect_http: true\n",
            "kubernetes:\n  ingress_controller: { kind: nginx }\n",
        );
    let o = synth_aws("brown", &yaml).unwrap();
    let values = crate::support::ingress_nginx_values(&o).expect("ingress-nginx");
    assert!(
        values.contains(r#""service.beta.kubernetes.io/aws-load-balancer-subnets":"subnet-0aaa1111bbbb22223,subnet-0aaa1111bbbb22224""#),
        "{values}"
    );
}

/// What infragen cannot know about the VPC is in `preconditions.json`.
#[test]
fn routes_out_and_in_are_preconditions() {
    for path in [EKS, ECS] {
        let o = out(path);
        let pre: Vec<Value> = serde_json::from_str(&o.files["preconditions.json"]).unwrap();
        let kinds: Vec<&str> = pre.iter().map(|p| p["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"VpcEgress"), "{path}: {kinds:?}");
        assert!(kinds.contains(&"VpcInternetGateway"), "{path}: {kinds:?}");
        let egress = pre.iter().find(|p| p["kind"] == "VpcEgress").unwrap();
        assert_eq!(egress["keys"].as_array().unwrap().len(), 2);
    }
}

/// EKS Fargate profiles run in the given private subnets too.
#[test]
fn fargate_profiles_use_the_given_subnets() {
    let yaml = std::fs::read_to_string(root().join(EKS))
        .unwrap()
        .replace("platform: eks,", "platform: eks_fargate,")
        .replace(", aws-ebs-csi-driver", "")
        .replace("  - { name: general, size: medium, min: 2, max: 4 }\n", "")
        .replace(
            "node_pools:\n",
            "fargate_profiles:\n  - { name: brown, namespaces: [brown] }\n  - { name: kube-system, namespaces: [kube-system] }\n  - { name: external-secrets, namespaces: [external-secrets] }\n",
        )
        .replace("deployment: in_cluster", "size: small");
    let o = synth_aws("brown", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let profiles = resources(&o, "infra", "aws_eks_fargate_profile");
    assert!(!profiles.is_empty());
    for p in profiles {
        assert_eq!(
            private(&p["subnet_ids"]),
            [
                "${data.aws_subnet.private_eu_west_1a.id}",
                "${data.aws_subnet.private_eu_west_1b.id}"
            ]
        );
    }
}

/// `infragen diff` from a created VPC to an existing one flags the created VPC's removal and
/// says the move cannot be applied in place (and the reverse).
#[test]
fn diff_says_a_move_between_vpcs_is_not_in_place() {
    let existing = std::fs::read_to_string(root().join(ECS)).unwrap();
    let created = existing
        .replace("  existing: { vpc_id: vpc-0f0e0d0c0b0a09080 }\n", "")
        .replace(
            "[subnet-0123456789abcdef0, subnet-0123456789abcdef1]",
            "[172.20.0.0/24, 172.20.1.0/24]",
        )
        .replace(
            "[subnet-0fedcba9876543210, subnet-0fedcba9876543211]",
            "[172.20.10.0/24, 172.20.11.0/24]",
        );
    let (_, text) = crate::support::diff("aws", "production", &created, &existing);
    assert!(
        text.contains("- removed infra: aws_vpc.main\n    DESTRUCTIVE"),
        "{text}"
    );
    assert!(
        text.contains("infra: the environment moves from the VPC infragen created"),
        "{text}"
    );
    let (_, back) = crate::support::diff("aws", "production", &existing, &created);
    assert!(
        back.contains("infra: the environment moves from an existing VPC"),
        "{back}"
    );
}

/// A blueprint for both clouds whose base names AWS's VPC keeps it out of its DigitalOcean
/// environments with `null` (the DigitalOcean VPC is then created from the environment's
/// range), and an AWS `vpc-…` id left for DigitalOcean is refused at the field rather than
/// read: DigitalOcean VPC ids are UUIDs. The AWS subnet ids left in the base are not judged
/// where no subnet is built.
#[test]
fn digitalocean_refuses_an_aws_vpc_id_and_an_environment_can_drop_it() {
    let yaml = "name: brown
providers:
  aws: { region: eu-west-1 }
  digitalocean: { region: fra1, project: brown }
state: { bucket: \"brown-tf-state-{env}\" }
network:
  existing: { vpc_id: vpc-0a1b2c3d4e5f67890 }
  cidr: 10.40.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [subnet-0aaa1111bbbb22223, subnet-0aaa1111bbbb22224]
    private: [subnet-0ccc3333dddd44445, subnet-0ccc3333dddd44446]
cluster: { platform: eks, version: \"1.35\" }
node_pools:
  - { name: general, size: medium, min: 2, max: 4 }
services:
  - { name: api, image: ghcr.io/acme/api:5.2.0, port: 8080 }
environments:
  production: {}
  do-production:
    network: { existing: null, cidr: 10.30.0.0/16 }
";
    let run = |provider, env| infragen::synthesize("brown.yaml", yaml.as_bytes(), provider, env);
    let refused = run(Provider::Digitalocean, "production")
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("`network.existing.vpc_id`: `vpc-0a1b2c3d4e5f67890` is an AWS VPC id: a DigitalOcean VPC id is a UUID")
            && refused.contains("per_provider.digitalocean.network.existing.vpc_id"),
        "{refused}"
    );
    let o = run(Provider::Digitalocean, "do-production").unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        resources(&o, "infra", "digitalocean_vpc")[0]["ip_range"],
        "10.30.0.0/16"
    );
    run(Provider::Aws, "production").unwrap_or_else(|d| panic!("{d}"));
}

const DOKS: &str = "tests/fixtures/workloads/existing-vpc-doks.yaml";
const DO_VPC: &str = "5a4981aa-9653-4bd1-bef5-d6bff52042e4";

/// On DigitalOcean `network.existing` names a VPC by its UUID (given in
/// `per_provider.digitalocean`, beside AWS's `vpc-…` in the base): the output reads it with
/// `data.digitalocean_vpc.main`, creates no `digitalocean_vpc`, and the DOKS cluster, the
/// managed database and cache join it; the network policies admit its range. AWS's output of
/// the same blueprint still reads AWS's VPC.
#[test]
fn digitalocean_reads_the_existing_vpc_and_every_consumer_joins_it() {
    let o = synth(&root().join(DOKS), Provider::Digitalocean, "production");
    assert!(resources(&o, "infra", "digitalocean_vpc").is_empty());
    let vpc = data_sources(&o, "digitalocean_vpc");
    assert_eq!(vpc.len(), 1);
    assert_eq!(vpc["main"]["id"], DO_VPC);
    let want = "${data.digitalocean_vpc.main.id}";
    let cluster = &resources(&o, "infra", "digitalocean_kubernetes_cluster")[0];
    assert_eq!(cluster["vpc_uuid"], want);
    let dbs = resources(&o, "infra", "digitalocean_database_cluster");
    assert_eq!(dbs.len(), 2, "the PostgreSQL and Valkey clusters");
    for db in &dbs {
        assert_eq!(db["private_network_uuid"], want, "{}", db["name"]);
    }
    // Nothing names a created VPC, in any module.
    let mut all = Vec::new();
    for module in ["infra", "platform", "connections"] {
        for (_, d) in docs(&o, module) {
            strings(&d, &mut all);
        }
    }
    for s in &all {
        for (i, _) in s.match_indices("digitalocean_vpc.") {
            assert!(s[..i].ends_with("data."), "`{s}` names a created VPC");
        }
    }
    // The managed database's and cache's egress admit the VPC's range.
    let policies = manifests(&o)
        .into_iter()
        .filter(|m| m["kind"] == "NetworkPolicy")
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        policies.contains("\"cidr\":\"10.30.16.0/20\""),
        "{policies}"
    );

    let aws = synth(&root().join(DOKS), Provider::Aws, "production");
    assert_eq!(
        data_sources(&aws, "aws_vpc")["main"]["id"],
        "vpc-0a1b2c3d4e5f67890"
    );
    assert!(resources(&aws, "infra", "aws_vpc").is_empty());
}

/// The existing DigitalOcean VPC is checked at `terraform plan`, before anything is created,
/// naming the blueprint field: its range must be `network.cidr` and its region the
/// blueprint's (a DigitalOcean VPC does not span regions).
#[test]
fn digitalocean_postconditions_check_range_and_region() {
    let o = synth(&root().join(DOKS), Provider::Digitalocean, "production");
    let post = &data_sources(&o, "digitalocean_vpc")["main"]["lifecycle"]["postcondition"];
    let conditions: Vec<&str> = post
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["condition"].as_str().unwrap())
        .collect();
    assert_eq!(
        conditions,
        [
            "${self.ip_range == \"10.30.16.0/20\"}",
            "${self.region == \"fra1\"}"
        ]
    );
    let range = post[0]["error_message"].as_str().unwrap();
    assert!(
        range.starts_with(&format!("network.cidr: the VPC {DO_VPC} (network.existing.vpc_id) has the range ${{self.ip_range}}, not 10.30.16.0/20")),
        "{range}"
    );
    let region = post[1]["error_message"].as_str().unwrap();
    assert!(
        region.starts_with("providers.digitalocean.region:") && region.contains("${self.region}"),
        "{region}"
    );
    // What synth can judge of the existing VPC's range it judges as for a created one: a
    // VPC-native cluster's pod range inside it is refused.
    let text = std::fs::read_to_string(root().join(DOKS)).unwrap().replace(
        "digitalocean: { region: fra1, project: teal }",
        "digitalocean: { region: fra1, project: teal, cluster_subnet: 10.30.24.0/21, service_subnet: 10.31.0.0/20 }",
    );
    let err = infragen::synthesize(
        "teal.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`providers.digitalocean.cluster_subnet`: `10.30.24.0/21` overlaps the VPC `10.30.16.0/20`"),
        "{err}"
    );
}

/// `infragen diff` on DigitalOcean from a created VPC to an existing one: the VPC removed, the
/// cluster and the database clusters replaced (`vpc_uuid`, `private_network_uuid` force a
/// new resource) and a note that the move cannot be made in place (and the reverse).
#[test]
fn digitalocean_diff_says_a_move_between_vpcs_is_not_in_place() {
    let existing = std::fs::read_to_string(root().join(DOKS)).unwrap();
    let created = existing.replace(
        "      existing: { vpc_id: 5a4981aa-9653-4bd1-bef5-d6bff52042e4 }\n",
        "      existing: null\n",
    );
    assert_ne!(created, existing);
    let (_, text) = crate::support::diff("digitalocean", "production", &created, &existing);
    assert!(
        text.contains("- removed infra: digitalocean_vpc.main"),
        "{text}"
    );
    assert!(
        text.contains(
            "infra: the environment moves from the VPC infragen created (`digitalocean_vpc.main`"
        ),
        "{text}"
    );
    assert!(
        text.contains("digitalocean_kubernetes_cluster.main") && text.contains("vpc_uuid"),
        "{text}"
    );
    let (_, back) = crate::support::diff("digitalocean", "production", &existing, &created);
    assert!(
        back.contains("infra: the environment moves from an existing VPC (`network.existing`) to one infragen creates (`digitalocean_vpc.main`)"),
        "{back}"
    );
}

/// Environments sharing one existing DigitalOcean VPC create no VPC, so no range of theirs
/// can clash in an account: no `do-vpc-overlap` warning (created VPCs of one range still get
/// it).
#[test]
fn environments_sharing_an_existing_digitalocean_vpc_do_not_clash() {
    let text = std::fs::read_to_string(root().join(DOKS)).unwrap()
        + "environments:\n  production: {}\n  staging: {}\n";
    let o = infragen::synthesize(
        "teal.yaml",
        text.as_bytes(),
        Provider::Digitalocean,
        "staging",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        !o.notes.iter().any(|n| n.rule == Some("do-vpc-overlap")),
        "{:?}",
        o.notes
    );
    let created = text.replace(
        "      existing: { vpc_id: 5a4981aa-9653-4bd1-bef5-d6bff52042e4 }\n",
        "      existing: null\n",
    );
    let o = infragen::synthesize(
        "teal.yaml",
        created.as_bytes(),
        Provider::Digitalocean,
        "staging",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        o.notes.iter().any(|n| n.rule == Some("do-vpc-overlap")),
        "{:?}",
        o.notes
    );
}

/// One zone: what AWS creates only across two Availability Zones is refused at synth, in an
/// existing VPC as in a created one — an EKS cluster (docs.aws.amazon.com/eks/latest/
/// userguide/network-reqs.html: "at least two subnets that are in different Availability
/// Zones"), the RDS DB subnet group (DBSubnetGroupDoesNotCoverEnoughAZs) and ECS's ALB.
#[test]
fn one_zone_is_refused_where_aws_needs_two() {
    let one_zone = |text: &str, zone: &str| -> String {
        let mut out = String::new();
        for line in text.lines() {
            let t = line.trim_start();
            let line = if t.starts_with("zones:") {
                line.replace(&line[line.find('[').unwrap()..], &format!("[{zone}]"))
            } else if ["public:", "private:", "database:"]
                .iter()
                .any(|k| t.starts_with(k))
                && t.contains('[')
            {
                // Keep the first subnet of the tier only.
                let open = line.find('[').unwrap();
                let first = line[open + 1..].split([',', ']']).next().unwrap().trim();
                format!("{}[{first}]", &line[..open])
            } else {
                line.to_string()
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    };
    let eks = std::fs::read_to_string(root().join(EKS)).unwrap();
    let err = synth_aws("brown", &one_zone(&eks, "eu-west-1a")).unwrap_err();
    assert!(err.contains("`network.zones`"), "{err}");
    assert!(err.contains("an EKS cluster"), "{err}");
    assert!(err.contains("RDS DB subnet group"), "{err}");

    let ecs = std::fs::read_to_string(root().join(ECS)).unwrap();
    let err = synth_aws("brownecs", &one_zone(&ecs, "eu-west-1a")).unwrap_err();
    assert!(err.contains("Application Load Balancer"), "{err}");

    // A created VPC: the same refusal.
    let created = crate::support::ecs_stack(
        "solo",
        "load_balancer: { certificate: { domain: solo.example.com } }
services:
  - { name: web, image: ghcr.io/acme/web:1.0.0, port: 8080, task: { cpu: 256, memory: 512 }, routes: [{ path: / }] }
",
    );
    synth_aws("solo", &created).unwrap_or_else(|e| panic!("two zones synthesize: {e}"));
    let err = synth_aws("solo", &one_zone(&created, "eu-west-1a")).unwrap_err();
    assert!(err.contains("Application Load Balancer"), "{err}");
}

/// The `name` of every security group the output creates (`infra`).
fn security_group_names(o: &infragen::Output) -> Vec<String> {
    let mut names: Vec<String> = resources(o, "infra", "aws_security_group")
        .iter()
        .map(|sg| sg["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Staging and production side by side in one existing VPC (the round-11 new user's
/// `keel-existing-vpc-eks.yaml`): security group names are unique per VPC, so the two
/// environments' groups must differ, or the second `infra` apply fails with
/// `InvalidGroup.Duplicate` (seen against moto with `MOTO_SHARED=1`). Before, data services',
/// ECS tasks' and the ALB's groups were `<system>-<component>-sg` in every environment.
#[test]
fn two_environments_in_one_existing_vpc_name_their_security_groups_apart() {
    for path in [
        EKS,
        ECS,
        "tests/fixtures/new-user/keel-existing-vpc-eks.yaml",
    ] {
        let staging = security_group_names(&synth(&root().join(path), Provider::Aws, "staging"));
        let production =
            security_group_names(&synth(&root().join(path), Provider::Aws, "production"));
        assert!(!staging.is_empty(), "{path}: no security group");
        let shared: Vec<_> = staging.iter().filter(|n| production.contains(n)).collect();
        assert!(
            shared.is_empty(),
            "{path}: staging and production create security groups of the same names in one VPC: {shared:?}"
        );
    }
}
