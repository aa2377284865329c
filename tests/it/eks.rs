//! The EKS back-end's promises, checked on the shipped blueprints of seeds 000 (managed node
//! groups) and 003 (Fargate) rather than only through snapshots: the seeds' figures, the
//! security settings scanners look for, and what must never appear.

use infragen::Provider;
use serde_json::Value;

use crate::support::{root, synth};

/// Every resource (and data source, under `data.`) of one module, merged across its files.
fn module(out: &infragen::Output, name: &str) -> serde_json::Map<String, Value> {
    let mut all = serde_json::Map::new();
    let prefix = format!("terraform/{name}/");
    for (path, text) in &out.files {
        if !path.starts_with(&prefix) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        for (kind, key) in [("resource", ""), ("data", "data.")] {
            if let Some(types) = doc.get(kind).and_then(Value::as_object) {
                for (ty, names) in types {
                    for (n, body) in names.as_object().unwrap() {
                        all.insert(format!("{key}{ty}.{n}"), body.clone());
                    }
                }
            }
        }
        if let Some(outputs) = doc.get("output").and_then(Value::as_object) {
            for (n, body) in outputs {
                all.insert(format!("output.{n}"), body.clone());
            }
        }
    }
    all
}

fn ecommerce(env: &str) -> infragen::Output {
    synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Aws,
        env,
    )
}

fn case() -> infragen::Output {
    synth(
        &root().join("blueprints/case-eks-fargate.yaml"),
        Provider::Aws,
        "production",
    )
}

#[test]
fn seed_000_node_groups_carry_the_seed_figures() {
    let infra = module(&ecommerce("production"), "infra");
    let general = &infra["aws_eks_node_group.general"];
    assert_eq!(general["instance_types"][0], "t3.medium");
    assert_eq!(general["capacity_type"], "ON_DEMAND");
    assert_eq!(general["scaling_config"]["desired_size"], 3);
    assert_eq!(general["scaling_config"]["min_size"], 2);
    assert_eq!(general["scaling_config"]["max_size"], 10);
    assert_eq!(general["update_config"]["max_unavailable_percentage"], 25);
    assert_eq!(general["labels"]["workload"], "general");
    assert_eq!(
        general["lifecycle"]["ignore_changes"][0],
        "scaling_config[0].desired_size"
    );
    let compute = &infra["aws_eks_node_group.compute"];
    assert_eq!(compute["instance_types"][0], "c5.large");
    assert_eq!(compute["capacity_type"], "SPOT");
    assert_eq!(
        (
            compute["scaling_config"]["desired_size"].as_u64(),
            compute["scaling_config"]["min_size"].as_u64(),
            compute["scaling_config"]["max_size"].as_u64()
        ),
        (Some(2), Some(1), Some(5))
    );
    assert_eq!(compute["taint"][0]["key"], "dedicated");
    assert_eq!(compute["taint"][0]["value"], "compute");
    assert_eq!(compute["taint"][0]["effect"], "NO_SCHEDULE");
    assert_eq!(
        infra["aws_eks_node_group.memory"]["instance_types"][0],
        "r5.large"
    );

    let lt = &infra["aws_launch_template.general"];
    let ebs = &lt["block_device_mappings"][0]["ebs"];
    assert_eq!(ebs["volume_size"], 50);
    assert_eq!(ebs["volume_type"], "gp3");
    assert_eq!(ebs["iops"], 3000);
    assert_eq!(ebs["throughput"], 125);
    assert_eq!(ebs["encrypted"], "true");
    assert_eq!(lt["metadata_options"]["http_tokens"], "required");
    assert_eq!(lt["metadata_options"]["http_put_response_hop_limit"], 1);
    assert!(lt.get("iam_instance_profile").is_none());
    assert!(
        infra
            .keys()
            .filter(|k| k.starts_with("aws_eks_node_group."))
            .all(|k| infra[k].get("remote_access").is_none())
    );
}

#[test]
fn seed_000_cluster_is_private_encrypted_and_fully_logged() {
    let infra = module(&ecommerce("staging"), "infra");
    let c = &infra["aws_eks_cluster.main"];
    assert_eq!(c["name"], "ecommerce-staging");
    assert_eq!(c["version"], "1.35");
    assert_eq!(c["vpc_config"]["endpoint_public_access"], false);
    assert_eq!(c["vpc_config"]["endpoint_private_access"], true);
    assert_eq!(c["enabled_cluster_log_types"].as_array().unwrap().len(), 5);
    assert_eq!(c["access_config"]["authentication_mode"], "API");
    assert_eq!(
        c["access_config"]["bootstrap_cluster_creator_admin_permissions"],
        false
    );
    assert_eq!(c["encryption_config"]["resources"][0], "secrets");
    assert_eq!(c["bootstrap_self_managed_addons"], false);
    assert!(
        c["depends_on"]
            .as_array()
            .unwrap()
            .contains(&Value::from("aws_cloudwatch_log_group.cluster"))
    );
    assert_eq!(
        infra["aws_cloudwatch_log_group.cluster"]["name"],
        "/aws/eks/ecommerce-staging/cluster"
    );
    // Add-ons of the seed, most recent, vpc-cni enforcing network policy before the nodes.
    for a in ["coredns", "kube_proxy", "vpc_cni", "aws_ebs_csi_driver"] {
        assert_eq!(
            infra[&format!("data.aws_eks_addon_version.{a}")]["most_recent"],
            true
        );
    }
    assert!(
        infra["aws_eks_addon.vpc_cni"]["configuration_values"]
            .as_str()
            .unwrap()
            .contains("enableNetworkPolicy")
    );
    assert!(
        infra["aws_eks_node_group.general"]["depends_on"]
            .as_array()
            .unwrap()
            .contains(&Value::from("aws_eks_addon.vpc_cni"))
    );
    assert!(
        infra["aws_eks_addon.aws_ebs_csi_driver"]["service_account_role_arn"]
            .as_str()
            .unwrap()
            .contains("aws_iam_role.ebs_csi_driver.arn")
    );
    assert_eq!(
        infra["output.kubeconfig_command"]["value"],
        "aws eks update-kubeconfig --name ecommerce-staging --region us-east-1"
    );
    // Staging is a single-instance broker; production a cluster.
    assert_eq!(
        infra["aws_mq_broker.mq"]["deployment_mode"],
        "SINGLE_INSTANCE"
    );
    assert_eq!(
        infra["aws_mq_broker.mq"]["host_instance_type"],
        "mq.t3.micro"
    );
    let prod = module(&ecommerce("production"), "infra");
    assert_eq!(
        prod["aws_mq_broker.mq"]["deployment_mode"],
        "CLUSTER_MULTI_AZ"
    );
}

#[test]
fn no_security_group_rule_opens_everything_to_the_internet() {
    let infra = module(&ecommerce("production"), "infra");
    for (k, v) in &infra {
        if k.starts_with("aws_vpc_security_group_") {
            assert!(
                v["description"].as_str().is_some_and(|d| d.is_ascii()),
                "{k}"
            );
            if v["cidr_ipv4"] == "0.0.0.0/0" {
                assert_ne!(
                    v["ip_protocol"], "-1",
                    "{k} opens all protocols to 0.0.0.0/0"
                );
            }
        }
    }
}

#[test]
fn broker_password_is_generated_never_written() {
    let out = ecommerce("production");
    let infra = module(&out, "infra");
    let user = &infra["aws_mq_broker.mq"]["user"][0];
    assert_eq!(user["password"], "${random_password.mq_admin.result}");
    let p = &infra["aws_ssm_parameter.mq_admin_password"];
    assert_eq!(p["type"], "SecureString");
    assert_eq!(p["value_wo"], "${random_password.mq_admin.result}");
    assert!(p.get("value").is_none());
}

#[test]
fn seed_003_fargate_profiles_irsa_and_table() {
    let out = case();
    let infra = module(&out, "infra");
    assert!(!infra.keys().any(|k| k.starts_with("aws_eks_node_group.")));
    assert!(!infra.contains_key("aws_security_group.nodes"));
    for p in ["case", "kube_system"] {
        let profile = &infra[&format!("aws_eks_fargate_profile.{p}")];
        assert_eq!(profile["subnet_ids"].as_array().unwrap().len(), 2);
    }
    assert_eq!(
        infra["aws_eks_fargate_profile.kube_system"]["selector"][0]["namespace"],
        "kube-system"
    );
    assert!(
        infra["aws_eks_addon.coredns"]["configuration_values"]
            .as_str()
            .unwrap()
            .contains("Fargate")
    );
    assert!(!infra.contains_key("aws_eks_addon.aws_ebs_csi_driver"));
    assert_eq!(infra["aws_eks_cluster.main"]["version"], "1.35");
    assert_eq!(
        infra["aws_cloudwatch_log_group.cluster"]["retention_in_days"],
        30
    );
    assert_eq!(
        infra["aws_cloudwatch_log_group.fargate"]["name"],
        "/aws/eks/case-eks/fargate"
    );

    let table = &infra["aws_dynamodb_table.orders"];
    assert_eq!(table["billing_mode"], "PAY_PER_REQUEST");
    assert_eq!(table["hash_key"], "id");
    assert_eq!(table["attribute"][0]["type"], "S");
    assert_eq!(table["point_in_time_recovery"]["enabled"], true);
    assert_eq!(
        table["point_in_time_recovery"]["recovery_period_in_days"],
        35
    );

    // backend-sa: trusted only for case/backend-sa, allowed only on the orders table.
    let role = &infra["aws_iam_role.irsa_backend_sa"];
    let trust: Value = serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
    let cond = &trust["Statement"][0]["Condition"]["StringEquals"];
    assert_eq!(
        cond["${local.oidc_issuer}:sub"],
        "system:serviceaccount:case:backend-sa"
    );
    assert_eq!(cond["${local.oidc_issuer}:aud"], "sts.amazonaws.com");
    let policy: Value = serde_json::from_str(
        infra["aws_iam_role_policy.irsa_backend_sa"]["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"][0],
        "${aws_dynamodb_table.orders.arn}"
    );
    assert!(
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["Action"] != "*" && s["Resource"] != "*")
    );
    assert_eq!(infra["output.backend_irsa_role_arn"]["sensitive"], true);
    assert!(infra.contains_key("output.cluster_endpoint"));
    assert!(infra.contains_key("output.ecr_registry_url"));
    for repo in ["backend", "frontend"] {
        let r = &infra[&format!("aws_ecr_repository.{repo}")];
        assert_eq!(r["image_tag_mutability"], "IMMUTABLE");
        assert_eq!(r["image_scanning_configuration"]["scan_on_push"], true);
        assert_eq!(r["encryption_configuration"][0]["encryption_type"], "KMS");
    }

    let platform = module(&out, "platform");
    assert!(platform.contains_key("kubernetes_config_map_v1.aws_logging"));
    assert!(!platform.contains_key("kubernetes_storage_class_v1.gp3"));
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("does not enforce NetworkPolicy"))
    );
}

#[test]
fn platform_module_connects_by_data_source_and_installs_the_controllers() {
    let out = ecommerce("production");
    let platform = module(&out, "platform");
    assert!(platform.contains_key("data.aws_eks_cluster.main"));
    for r in [
        "helm_release.aws_load_balancer_controller",
        "helm_release.ingress_nginx",
        "helm_release.cert_manager",
        "kubernetes_storage_class_v1.gp3",
        "kubernetes_ingress_v1.edge",
    ] {
        assert!(platform.contains_key(r), "{r}");
    }
    let sc = &platform["kubernetes_storage_class_v1.gp3"];
    assert_eq!(sc["storage_provisioner"], "ebs.csi.aws.com");
    assert_eq!(sc["parameters"]["encrypted"], "true");
    assert_eq!(sc["volume_binding_mode"], "WaitForFirstConsumer");
    let edge = &platform["kubernetes_ingress_v1.edge"]["metadata"]["annotations"];
    assert_eq!(
        edge["alb.ingress.kubernetes.io/wafv2-acl-arn"],
        "${data.aws_wafv2_web_acl.main.arn}"
    );
    let versions = &out.files["terraform/platform/versions.tf.json"];
    assert!(versions.contains("production/platform/terraform.tfstate"));
    let infra = module(&out, "infra");
    let acl = &infra["aws_wafv2_web_acl.main"];
    assert_eq!(
        acl["rule"][0]["statement"]["rate_based_statement"]["limit"],
        5000
    );
}

/// The upgrade policy agrees with the version's support period on the catalog's date: a
/// version past standard support is in extended support from creation, which EKS does not
/// let a `STANDARD` policy hold ("You can only disable extended support for clusters in
/// standard support").
#[test]
fn the_upgrade_policy_matches_the_versions_support_period() {
    let catalog: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("providers/releases.json")).unwrap(),
    )
    .unwrap();
    let as_of = catalog["as_of"].as_str().unwrap();
    let lines = &catalog["products"]["eks"]["lines"];
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let shipped = "  version: \"1.35\"";
    assert!(yaml.contains(shipped));
    let mut seen = [false, false];
    for line in ["1.33", "1.34", "1.35"] {
        let text = yaml.replace(shipped, &format!("  version: \"{line}\" #"));
        let out = infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "production")
            .unwrap_or_else(|d| panic!("{line}: {d}"));
        let infra = module(&out, "infra");
        let cluster = &infra["aws_eks_cluster.main"];
        assert_eq!(cluster["version"], line);
        let extended = lines[line]["standard_end"]
            .as_str()
            .is_some_and(|end| end <= as_of);
        seen[usize::from(extended)] = true;
        assert_eq!(
            cluster["upgrade_policy"]["support_type"],
            if extended { "EXTENDED" } else { "STANDARD" },
            "{line} (standard support ends {})",
            lines[line]["standard_end"]
        );
    }
    assert_eq!(seen, [true, true], "both support periods exercised");
}

/// A node group is named `<pool>-` plus Terraform's 26-character unique suffix, within EKS's
/// 63 characters: a longer pool name fails `terraform validate`, so synth refuses it.
#[test]
fn node_pool_names_fit_the_node_group_name() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let synth = |name: &str| {
        let text = yaml
            .replace("  - name: general\n", &format!("  - name: {name}\n"))
            .replace("node_pool: general", &format!("node_pool: {name}"));
        assert_ne!(text, yaml);
        infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "production")
            .map_err(|d| d.to_string())
    };
    let longest = "g".repeat(36);
    let out = synth(&longest).unwrap();
    let prefix =
        module(&out, "infra")[&format!("aws_eks_node_group.{longest}")]["node_group_name_prefix"]
            .as_str()
            .unwrap()
            .len();
    assert!(prefix + 26 <= 63, "{prefix}");
    let err = synth(&"g".repeat(37)).unwrap_err();
    assert!(err.contains("`node_pools[0].name`"), "{err}");
    assert!(err.contains("at most 36"), "{err}");
}

/// In-cluster data services' claims name the `gp3` class, which exists (and provisions) only
/// with the EBS CSI driver add-on: every such claim in the output has its class, and a
/// blueprint without the add-on is refused instead of leaving the claims Pending.
#[test]
fn in_cluster_volumes_have_a_storage_class_and_a_driver() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let out = ecommerce("development");
    let classes: Vec<String> = module(&out, "platform")
        .iter()
        .filter(|(k, _)| k.starts_with("kubernetes_storage_class_v1."))
        .map(|(_, v)| {
            assert_eq!(v["storage_provisioner"], "ebs.csi.aws.com");
            v["metadata"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(module(&out, "infra").contains_key("aws_eks_addon.aws_ebs_csi_driver"));
    let mut claims = 0;
    for (path, text) in &out.files {
        if !path.starts_with("k8s/") {
            continue;
        }
        for line in text.lines() {
            if let Some(class) = line.trim().strip_prefix("storageClassName: ") {
                assert!(
                    classes.iter().any(|c| c == class),
                    "{path}: class {class} is not created ({classes:?})"
                );
                claims += 1;
            }
        }
    }
    assert!(claims >= 3, "{claims}");

    let addons = "  addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver]";
    assert!(yaml.contains(addons));
    let text = yaml.replace(addons, "  addons: [coredns, kube-proxy, vpc-cni]");
    let err = infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "development")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`cluster.addons`"), "{err}");
    assert!(err.contains("aws-ebs-csi-driver"), "{err}");
    // Production runs no data in the cluster: no driver needed.
    infragen::synthesize("shop.yaml", text.as_bytes(), Provider::Aws, "production").unwrap();
}

/// The cluster is created without EKS's default networking add-ons
/// (`bootstrap_self_managed_addons: false`), so every EKS output installs them itself, the
/// starter blueprint too (it names no add-ons): the VPC CNI and kube-proxy before the nodes
/// join, CoreDNS; on Fargate CoreDNS, on Fargate compute.
#[test]
fn every_cluster_gets_its_networking_add_ons() {
    let mut outputs: Vec<(String, infragen::Output)> = crate::support::matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == Provider::Aws)
        .map(|(stem, path, p, env)| (format!("{stem} {env}"), synth(&path, p, &env)))
        .collect();
    outputs.push((
        "templates/init.yaml".into(),
        synth(
            &root().join("templates/init.yaml"),
            Provider::Aws,
            "production",
        ),
    ));
    let mut seen = [0, 0];
    for (label, out) in outputs {
        let infra = module(&out, "infra");
        let Some(cluster) = infra.get("aws_eks_cluster.main") else {
            continue;
        };
        assert_eq!(cluster["bootstrap_self_managed_addons"], false, "{label}");
        let groups: Vec<&Value> = infra
            .iter()
            .filter(|(k, _)| k.starts_with("aws_eks_node_group."))
            .map(|(_, v)| v)
            .collect();
        let coredns = infra
            .get("aws_eks_addon.coredns")
            .unwrap_or_else(|| panic!("{label}: no CoreDNS"));
        if groups.is_empty() {
            assert!(
                coredns["configuration_values"]
                    .as_str()
                    .is_some_and(|c| c.contains("\"computeType\":\"Fargate\"")),
                "{label}"
            );
            seen[1] += 1;
            continue;
        }
        for addon in ["vpc_cni", "kube_proxy"] {
            assert!(
                infra.contains_key(&format!("aws_eks_addon.{addon}")),
                "{label}: no {addon}"
            );
        }
        // Both before the nodes join: the CNI gives pods their network, and its agent
        // reaches the API server through the `kubernetes` Service, which kube-proxy routes.
        for addon in ["vpc_cni", "kube_proxy"] {
            let body = &infra[&format!("aws_eks_addon.{addon}")];
            assert!(
                body.get("depends_on").is_none_or(|d| !d
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d.as_str().unwrap().starts_with("aws_eks_node_group."))),
                "{label}: {addon} waits for the nodes"
            );
            for g in &groups {
                assert!(
                    g["depends_on"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| d == &format!("aws_eks_addon.{addon}")),
                    "{label}: nodes join before {addon} is installed"
                );
            }
        }
        seen[0] += 1;
    }
    assert!(seen[0] >= 4 && seen[1] >= 1, "{seen:?}");
}

/// A GPU or Neuron node pool boots the AL2023 AMI with the accelerator's driver (the standard
/// AMI has none, so the device would be dead weight), and synth says the device plugin is
/// still to install. Such instance types used to be refused as unknown sizes.
#[test]
fn accelerated_node_pools_get_their_drivers() {
    for (size, ami) in [
        ("g5.xlarge", "AL2023_x86_64_NVIDIA"),
        ("g5g.xlarge", "AL2023_ARM_64_NVIDIA"),
        ("inf2.xlarge", "AL2023_x86_64_NEURON"),
        ("m7i.large", "AL2023_x86_64_STANDARD"),
    ] {
        let yaml = crate::connections::NEW_USER.replace(
            "{ name: general, size: medium,",
            &format!("{{ name: general, size: {size},"),
        );
        let out = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
            .unwrap_or_else(|d| panic!("{size}: {d}"));
        // The pool hosts the in-cluster `catalog`: a node group per zone, each on the AMI.
        let infra = module(&out, "infra");
        let groups: Vec<_> = (infra.iter())
            .filter(|(k, _)| k.starts_with("aws_eks_node_group.general_"))
            .collect();
        assert_eq!(groups.len(), 2, "{size}");
        for (_, g) in groups {
            assert_eq!(g["ami_type"], ami, "{size}");
        }
        let warned = out
            .notes
            .iter()
            .any(|n| n.rule == Some("eks-device-plugin") && n.text.contains(size));
        // NVIDIA's device plugin is installed (tests/it/gpu.rs); Neuron's is not.
        assert_eq!(warned, ami.ends_with("_NEURON"), "{size}: {:?}", out.notes);
    }
}

/// ELB names: at most 32 characters, never ending in a hyphen. A longer name is cut, and a
/// cut that ends on a hyphen used to leave it there (the controller's CreateLoadBalancer
/// then fails).
#[test]
fn a_cut_load_balancer_name_does_not_end_in_a_hyphen() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml"))
        .unwrap()
        .replacen(
            "\nload_balancer:\n",
            "\nload_balancer:\n  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b\n",
            1,
        );
    let out = infragen::synthesize(
        "ecommerce-eks.yaml",
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let edge = &out.files["terraform/platform/edge.tf.json"];
    assert!(
        edge.contains(
            "\"alb.ingress.kubernetes.io/load-balancer-name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
        ),
        "{edge}"
    );
}

/// Nodes and Fargate pods run in the private subnets and the output makes no VPC endpoints:
/// without a NAT no node joins and no image is pulled, so `nat: none` is refused on EKS, at
/// the setting, as it is on ECS.
#[test]
fn a_cluster_without_a_way_out_is_refused() {
    let no_nat = crate::connections::NEW_USER.replace(
        "  cidr: 10.1.0.0/16\n",
        "  cidr: 10.1.0.0/16\n  nat: none\n",
    );
    for platform in ["eks", "eks_fargate"] {
        let yaml = no_nat.replace("platform: eks,", &format!("platform: {platform},"));
        let err = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("shop.yaml:9:8"), "{platform}: {err}");
        assert!(err.contains("nodes cannot join the cluster"), "{err}");
    }
    let with_nat = crate::connections::NEW_USER.replace(
        "  cidr: 10.1.0.0/16\n",
        "  cidr: 10.1.0.0/16\n  nat: single\n",
    );
    infragen::synthesize(
        "shop.yaml",
        with_nat.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
}

/// An alarm on an EKS service watches Container Insights' pod metrics in the namespace the
/// manifests put its pods in: the blueprint's name when it names no default namespace (an
/// alarm on `default`, the old fallback, would watch nothing and never fire).
#[test]
fn service_alarms_watch_the_namespace_the_pods_run_in() {
    let yaml = format!(
        "{}observability:
  alarms:
    - name: api-cpu
      namespace: ContainerInsights
      metric: pod_cpu_utilization
      period: 300
      evaluation_periods: 2
      threshold: 80
      comparison: \">\"
      target: api
",
        crate::connections::NEW_USER
    );
    let out = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let alarm = crate::support::resources(&out, "infra", "aws_cloudwatch_metric_alarm")
        .into_iter()
        .find(|a| {
            a["alarm_name"]
                .as_str()
                .is_some_and(|n| n.contains("api-cpu"))
        })
        .expect("the api-cpu alarm");
    assert_eq!(alarm["dimensions"]["Namespace"], "shop", "{alarm}");
}

/// On EKS a pod's secrets reach it through its `<service>-connections` Secret, filled by the
/// External Secrets Operator with its own IRSA role; a workload's role that could also read
/// them from Secrets Manager would only widen what a compromised pod fetches (ECS lines up:
/// the execution role reads them, never the task role). So in every EKS output, only the
/// operator's role policy names Secrets Manager or SSM parameters, and a workload role exists
/// only where the workload uses AWS resources by API (seed 003's table; jobs-eks's bucket).
#[test]
fn only_the_secrets_operator_reads_secrets_on_eks() {
    let (mut roles, mut synced) = (0, 0);
    for (stem, path, provider, env) in crate::support::matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let out = synth(&path, provider, &env);
        let infra = module(&out, "infra");
        if !infra.contains_key("aws_eks_cluster.main") {
            continue;
        }
        for (address, body) in &infra {
            let Some(key) = address.strip_prefix("aws_iam_role_policy.irsa_") else {
                continue;
            };
            roles += 1;
            let policy = body["policy"].as_str().unwrap();
            assert!(
                !policy.contains("secretsmanager:") && !policy.contains("ssm:Get"),
                "{stem} {env}: workload role irsa_{key} reads secrets: {policy}"
            );
        }
        // The operator's role (when any secret is synced) is the one that reads them.
        if let Some(p) = infra.get("aws_iam_role_policy.external_secrets") {
            assert!(
                p["policy"]
                    .as_str()
                    .unwrap()
                    .contains("secretsmanager:GetSecretValue"),
                "{stem} {env}"
            );
            synced += 1;
        }
    }
    assert!(
        roles > 0 && synced > 0,
        "no EKS output to check: {roles} roles, {synced} operators"
    );
}

/// A GPU node pool (g6, NVIDIA AMI) carries `nvidia.com/gpu.present=true`, the label the
/// nvidia-device-plugin chart's default affinity selects without Node Feature Discovery
/// (NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/values.yaml), so the
/// chart `platform` installs runs on the pool's nodes. A standard pool gets no such label.
/// The escape hatch stays open: the model server as an `extra.kubernetes` template instead
/// of a service with `gpu` (the sage fixture before `services[].gpu`).
#[test]
fn a_gpu_pool_carries_the_label_the_device_plugin_chart_schedules_on() {
    let path = root().join("tests/fixtures/new-user/sage-gpu-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text
        .find("  # The model server: one GPU")
        .expect("the model service");
    let text = text[..cut].replace("    uses: [model]\n", "")
        + "extra: { kubernetes: [templates/sage-model.yaml.j2] }\n";
    let loaded = infragen::blueprint::load(
        "sage-gpu-eks.yaml",
        text.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let templates = infragen::escape::folder(root().join("tests/fixtures/gpu"));
    let out = infragen::synthesize_with(&loaded, &templates).unwrap_or_else(|d| panic!("{d}"));
    let groups = crate::support::resources(&out, "infra", "aws_eks_node_group");
    let label = |pool: &str| {
        let g = groups
            .iter()
            .find(|g| g["labels"]["infragen.io/node-pool"] == pool)
            .unwrap_or_else(|| panic!("no node group of pool {pool}"));
        g["labels"]["nvidia.com/gpu.present"].clone()
    };
    assert_eq!(label("gpu"), "true");
    assert_eq!(label("general"), Value::Null);
    // The Cluster Autoscaler's GPU label: a new g6 node is unready to it until the plugin
    // advertises its GPU, so it adds no further node meanwhile.
    let accelerator = |pool: &str| {
        groups
            .iter()
            .find(|g| g["labels"]["infragen.io/node-pool"] == pool)
            .unwrap()["labels"]["k8s.amazonaws.com/accelerator"]
            .clone()
    };
    assert_eq!(accelerator("gpu"), "nvidia-l4");
    assert_eq!(accelerator("general"), Value::Null);
    // The device plugin is installed for the pool, template or not.
    assert!(
        crate::support::resources(&out, "platform", "helm_release")
            .iter()
            .any(|r| r["chart"] == "nvidia-device-plugin")
    );
    // The model server of the extra template is written as given, GPU limit included.
    let model = crate::support::manifests(&out)
        .into_iter()
        .find(|m| m["kind"] == "Deployment" && m["metadata"]["name"] == "model")
        .expect("the extra template's Deployment");
    assert_eq!(
        model["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        "1"
    );
}
