//! EKS managed node groups of the `node_pools`: a shared node IAM role, an EBS key the Auto
//! Scaling service can use, and per pool a launch template (encrypted gp3 root volume,
//! IMDSv2 only with a hop limit of 1) and its node groups — one across the private subnets,
//! or one per zone for a pool that hosts in-cluster data on zonal EBS volumes (`zones.rs`) —
//! with capacity type, labels, taints in EKS's enum spelling and rolling-update budget. The
//! desired size of a group that can change size is ignored after creation so the cluster
//! autoscaler is not fought (a fixed-size group keeps it, so a new size applies), and a
//! replacement group is created before the old one goes.
//!
//! The hop limit of 1 keeps pods (one network hop further) away from the instance
//! credentials: workloads that need AWS use IRSA (`identity.rs`); the CNI runs on the host
//! network and still reaches the metadata service.

use crate::json;
use crate::tpl;

use super::cluster_name_ref;
use super::zones::Group;
use crate::backend::aws::Ctx;
use crate::backend::aws::iam::assume_role;
use crate::backend::aws::kms;
use crate::backend::aws::security::nodes_sg;
use crate::blueprint::types::{NodePool, TaintEffect};
use crate::catalog::SizeKind;
use crate::terraform::{Module, data, interp, res};

/// The node role's managed policies, by the name of their attachment.
const NODE_POLICIES: [(&str, &str); 3] = [
    (
        "worker",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ),
    (
        "ecr_read",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    ),
    ("cni", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"),
];

/// Policy attachments the node groups wait for (their role must work before nodes join).
pub fn node_policy_attachments() -> Vec<String> {
    NODE_POLICIES
        .iter()
        .map(|(key, _)| res("aws_iam_role_policy_attachment", &format!("nodes_{key}")).address())
        .collect()
}

/// The node groups' addresses, for add-ons that need running nodes.
pub fn node_groups(ctx: &Ctx) -> Vec<String> {
    super::zones::addresses(ctx)
}

/// The node label carrying the pool's name. EKS's own `eks.amazonaws.com/nodegroup` holds the
/// generated group name (`general-2025…`, a prefix so a replacement group can be created
/// before the old one goes), so the pools label their nodes themselves.
pub const POOL_LABEL: &str = "infragen.io/node-pool";
/// The node label the NVIDIA device plugin's chart schedules on without Node Feature
/// Discovery.
pub const NVIDIA_GPU_LABEL: &str = "nvidia.com/gpu.present";

/// The node label the Cluster Autoscaler's AWS provider reads to know a node has GPUs.
pub const CA_GPU_LABEL: &str = "k8s.amazonaws.com/accelerator";

/// The GPU of an NVIDIA instance family, as the Cluster Autoscaler's AWS provider names it
/// (`availableGPUTypes`), else `nvidia`.
fn gpu_type(instance: &str) -> &'static str {
    match instance.split('.').next().unwrap_or_default() {
        "g4dn" => "nvidia-tesla-t4",
        "g5" => "nvidia-a10g",
        "g6" | "gr6" => "nvidia-l4",
        "g6e" => "nvidia-l40s",
        "p3" | "p3dn" => "nvidia-tesla-v100",
        "p4d" | "p4de" => "nvidia-tesla-a100",
        _ => "nvidia",
    }
}

/// EKS's taint effect spelling.
fn effect(e: TaintEffect) -> &'static str {
    match e {
        TaintEffect::NoSchedule => "NO_SCHEDULE",
        TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
        TaintEffect::NoExecute => "NO_EXECUTE",
    }
}

/// The EKS-optimized Amazon Linux 2023 AMI for the instance type: its architecture
/// (Graviton families end their generation with `g`: `t4g`, `m7g`, `c6gn`) and its
/// accelerator. On the standard AMI a GPU or Neuron device has no driver, so NVIDIA GPU
/// families (`p3` on, `g4dn` on — not the AMD `g4ad`) get the NVIDIA AMI and Inferentia /
/// Trainium (`inf`, `trn`) the Neuron one
/// (<https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html>).
pub(in crate::backend::aws) fn ami_type(instance: &str) -> &'static str {
    let family = instance.split('.').next().unwrap_or_default();
    let series = family.trim_end_matches(|c: char| !c.is_ascii_digit());
    let series = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let graviton = crate::catalog::graviton(instance);
    let nvidia = crate::gpu::nvidia_instance(instance);
    match (series, nvidia, graviton) {
        ("inf" | "trn", _, _) => "AL2023_x86_64_NEURON",
        (_, true, true) => "AL2023_ARM_64_NVIDIA",
        (_, true, false) => "AL2023_x86_64_NVIDIA",
        (_, false, true) => "AL2023_ARM_64_STANDARD",
        (_, false, false) => "AL2023_x86_64_STANDARD",
    }
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let name = ctx.cluster_name();
    let account = ctx.account_id();
    // Auto Scaling launches the nodes and must be able to use the key of their volumes.
    let asg = tpl!(
        "arn:aws:iam::",
        account,
        ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    );
    let slr = autoscaling_role(m);
    kms::key_after(
        ctx,
        m,
        "ebs",
        &format!("EBS volumes of the EKS nodes and persistent volumes of {name}"),
        vec![
            json!({
                "Sid": "AutoScalingUseOfTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": &asg},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
            }),
            json!({
                "Sid": "AutoScalingGrantsForAttachedVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": asg},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            }),
        ],
        &[slr],
    );

    let role = res("aws_iam_role", "nodes");
    let f = m.file("nodes");
    f.resource(
        &role,
        json!({
            "name": format!("{name}-nodes"),
            "description": format!("EKS managed nodes of {name}"),
            "assume_role_policy": assume_role("ec2.amazonaws.com"),
        }),
    );
    for (key, arn) in NODE_POLICIES {
        f.resource(
            &res("aws_iam_role_policy_attachment", &format!("nodes_{key}")),
            json!({"role": role.id(), "policy_arn": arn}),
        );
    }
    let groups = super::zones::groups(ctx);
    for pool in &ctx.v.bp.node_pools {
        launch_template(ctx, pool, m);
    }
    for group in &groups {
        node_group(ctx, group, m);
    }
    ctx.mark("node_pools");
}

/// The pool's launch template, which all its node groups share (one template keeps the
/// per-zone groups alike for the autoscaler's balancing: EKS labels each node with its
/// template, `eks.amazonaws.com/sourceLaunchTemplateId`).
fn launch_template(ctx: &Ctx, pool: &NodePool, m: &mut Module) {
    let cluster = ctx.cluster_name();
    let lt = res("aws_launch_template", &pool.name);
    let group_name = format!("{cluster}-{}", pool.name);

    let mut ebs = json!({
        "volume_size": pool.disk.as_ref().map_or(20, |d| d.size_gb),
        "volume_type": pool.disk.as_ref().and_then(|d| d.r#type.clone()).unwrap_or_else(|| "gp3".into()),
        "encrypted": "true",
        "kms_key_id": res("aws_kms_key", "ebs").arn(),
        "delete_on_termination": "true",
    });
    if let Some(d) = &pool.disk {
        if let Some(iops) = d.iops {
            ebs["iops"] = json!(iops);
        }
        if let Some(t) = d.throughput {
            ebs["throughput"] = json!(t);
        }
    }
    let tags = json!({"Name": &group_name, "node-pool": &pool.name});
    let f = m.file("nodes");
    f.resource(
        &lt,
        json!({
            "name": &group_name,
            "description": format!("Nodes of pool {} in EKS cluster {cluster}", pool.name),
            "update_default_version": true,
            "vpc_security_group_ids": [nodes_sg().id()],
            "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": ebs}],
            "metadata_options": {
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            "tag_specifications": [
                {"resource_type": "instance", "tags": &tags},
                {"resource_type": "volume", "tags": tags},
            ],
            "tags": {"Name": &group_name},
        }),
    );
}

fn node_group(ctx: &Ctx, group: &Group, m: &mut Module) {
    let cluster = ctx.cluster_name();
    let pool = group.pool;
    let instance = ctx
        .v
        .size(SizeKind::Node, pool.size.as_deref(), &pool.sizes);
    let lt = res("aws_launch_template", &pool.name);
    let group_name = match group.zone {
        Some(zone) => format!("{cluster}-{}-{zone}", pool.name),
        None => format!("{cluster}-{}", pool.name),
    };
    let f = m.file("nodes");
    let taints: Vec<_> = pool
        .taints
        .iter()
        .map(|t| {
            let mut v = json!({"key": &t.key, "effect": effect(t.effect)});
            if let Some(val) = &t.value {
                v["value"] = json!(val);
            }
            v
        })
        .collect();
    let mut labels = pool.labels.clone();
    labels.insert(POOL_LABEL.to_string(), pool.name.clone());
    // The NVIDIA device plugin chart's default affinity selects nodes labelled by Node
    // Feature Discovery (`feature.node.kubernetes.io/pci-10de.present`), which EKS does not
    // run, or `nvidia.com/gpu.present=true`, "a GPU deployment forced" (the chart's
    // values.yaml, NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin): without
    // it the plugin installed as the `eks-device-plugin` warning says runs on no node.
    if ami_type(&instance).contains("NVIDIA") {
        labels
            .entry(NVIDIA_GPU_LABEL.to_string())
            .or_insert_with(|| "true".to_string());
        // The Cluster Autoscaler's AWS provider knows a GPU node by this label
        // (cloudprovider/aws `GPULabel`; `utils/gpu.NodeHasGpu`): such a node counts as
        // unready until the device plugin advertises `nvidia.com/gpu`, so a GPU pod pending
        // meanwhile does not make it add further (expensive) nodes
        // (kubernetes/autoscaler#3164). The value names the GPU where the autoscaler's list
        // of AWS GPU types has it; only the label's presence gates readiness.
        labels
            .entry(CA_GPU_LABEL.to_string())
            .or_insert_with(|| gpu_type(&instance).to_string());
    }
    let mut depends = node_policy_attachments();
    // The CNI must be configured before nodes join, or they come up without pod networking;
    // and kube-proxy, through whose Service rules the CNI's agent reaches the API server.
    let addons = super::addons::names(ctx);
    for addon in ["vpc-cni", "kube-proxy"] {
        if addons.iter().any(|a| a == addon) {
            depends.push(res("aws_eks_addon", addon).address());
        }
    }
    f.resource(
        &res("aws_eks_node_group", &group.key),
        json!({
            "cluster_name": cluster_name_ref(),
            // A prefix, so a replacement group can exist beside the old one.
            "node_group_name_prefix": &group.prefix,
            "node_role_arn": res("aws_iam_role", "nodes").arn(),
            // The cluster's version, by reference: a `cluster.version` bump updates the
            // control plane first, then the add-ons (read for the new version) and these
            // groups, which roll their nodes onto the new version's AMI. Left unset, a group
            // keeps the version it was created with, and EKS refuses the next bump ("all of
            // your node groups' Kubernetes versions must match the cluster's Kubernetes
            // version in order to update the cluster to a new Kubernetes version",
            // <https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterVersion.html>).
            "version": super::cluster().attr("version"),
            "subnet_ids": &group.subnets,
            "ami_type": ami_type(&instance),
            "instance_types": [instance],
            "capacity_type": if pool.spot { "SPOT" } else { "ON_DEMAND" },
            "scaling_config": {
                "min_size": group.min,
                "desired_size": group.desired,
                "max_size": group.max,
            },
            "update_config": {"max_unavailable_percentage": pool.max_unavailable_percent.unwrap_or(33)},
            "labels": labels,
            "taint": taints,
            "launch_template": {"id": lt.id(), "version": lt.attr("latest_version")},
            "node_repair_config": {"enabled": true},
            "tags": {"Name": group_name},
            "lifecycle": lifecycle(group),
            "depends_on": depends,
        }),
    );
}

/// A group that can change size (`max` above `min`) is sized by the Cluster Autoscaler, so
/// Terraform sets its `desired_size` once and then leaves it alone (as DOKS's autoscaled
/// pools leave `node_count`). A fixed-size group keeps it: ignored there, a new size could
/// never be applied — EKS refuses a `min_size` above the group's current desired size
/// ("Minimum capacity 5 can't be greater than desired size 3", UpdateNodegroupConfig), and
/// Terraform would send the new `min_size` beside the old desired size.
fn lifecycle(group: &Group) -> crate::terraform::Json {
    if group.autoscaled() {
        json!({
            "create_before_destroy": true,
            "ignore_changes": ["scaling_config[0].desired_size"],
        })
    } else {
        json!({"create_before_destroy": true})
    }
}

/// The Auto Scaling service-linked role the EBS key policy names. In a fresh account it does
/// not exist until the first Auto Scaling group, and KMS rejects a policy naming a missing
/// principal, so it is created here (before the key). Most accounts already have it; then the
/// `import` block (for_each over the roles found by name) adopts it instead of failing with
/// "has been taken in this account". Returns the address the key depends on.
fn autoscaling_role(m: &mut Module) -> String {
    const SERVICE: &str = "autoscaling.amazonaws.com";
    let existing = data("aws_iam_roles", "autoscaling");
    let slr = res("aws_iam_service_linked_role", "autoscaling");
    m.file("nodes")
        .resource(
            &existing,
            json!({
                "name_regex": "^AWSServiceRoleForAutoScaling$",
                "path_prefix": format!("/aws-service-role/{SERVICE}/"),
            }),
        )
        .resource(
            &slr,
            json!({
                // A set (not a single resource) so the import block below can target it.
                "for_each": interp(&format!("toset([\"{SERVICE}\"])")),
                "aws_service_name": interp("each.value"),
            }),
        );
    // In a file of its own: checkov's JSON parser cannot read `import` blocks, and would
    // drop every resource of a file holding one (as with `required_version`).
    m.file("imports").import(json!({
            "for_each": interp(&format!("{{ for arn in {} : \"{SERVICE}\" => arn }}", existing.path("arns"))),
            "to": format!("{}[each.key]", slr.address()),
        "id": interp("each.value"),
    }));
    slr.address()
}

#[cfg(test)]
mod tests {
    use super::ami_type;

    #[test]
    fn architecture_from_instance_family() {
        assert_eq!(ami_type("t3.medium"), "AL2023_x86_64_STANDARD");
        assert_eq!(ami_type("c5.large"), "AL2023_x86_64_STANDARD");
        assert_eq!(ami_type("t4g.small"), "AL2023_ARM_64_STANDARD");
        assert_eq!(ami_type("c6gn.large"), "AL2023_ARM_64_STANDARD");
        assert_eq!(ami_type("r5.large"), "AL2023_x86_64_STANDARD");
        assert_eq!(ami_type("m7i-flex.large"), "AL2023_x86_64_STANDARD");
        assert_eq!(ami_type("a1.large"), "AL2023_ARM_64_STANDARD");
    }

    #[test]
    fn accelerators_get_their_drivers() {
        assert_eq!(ami_type("g5.xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("g4dn.xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("g6e.2xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("gr6.4xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("p4d.24xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("p5en.48xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("g5g.xlarge"), "AL2023_ARM_64_NVIDIA");
        assert_eq!(ami_type("p6-b200.48xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("p6-b300.48xlarge"), "AL2023_x86_64_NVIDIA");
        assert_eq!(ami_type("inf2.xlarge"), "AL2023_x86_64_NEURON");
        assert_eq!(ami_type("trn1.2xlarge"), "AL2023_x86_64_NEURON");
        // AMD Radeon: no NVIDIA driver would help.
        assert_eq!(ami_type("g4ad.xlarge"), "AL2023_x86_64_STANDARD");
    }
}
