//! The path to a private EKS API from outside the VPC (`cluster.endpoint.access: ssm`, the
//! default while the endpoint is private). The control plane's endpoint answers only inside
//! the VPC, so `terraform/platform`, `terraform/connections` and `kubectl apply -k k8s/` from
//! a laptop or a hosted CI runner would fail. A t4g.nano in a private subnet runs the SSM
//! agent (Amazon Linux 2023 ships it); AWS Systems Manager port-forwards through it to the
//! endpoint (`AWS-StartPortForwardingSessionToRemoteHost`). Nothing listens publicly: the
//! instance has no public address and no inbound rule, it reaches SSM over the NAT, and the
//! control plane admits HTTPS from its security group only. The providers of the modules
//! that talk to the cluster (`platform`, `connections`) take the tunnel's local address from
//! `TF_VAR_kube_host` and keep verifying the endpoint's certificate by name
//! (`tls_server_name`).

use super::super::Ctx;
use super::super::iam::assume_role;
use super::cluster;
use crate::blueprint::types::EndpointAccess;
use crate::json;
use crate::terraform::{Module, Ref, data, res};

/// The access instance.
pub fn instance() -> Ref {
    res("aws_instance", "api_access")
}

/// Whether the output builds the SSM path (EKS, private endpoint, `access: ssm`).
pub fn wanted(ctx: &Ctx) -> bool {
    ctx.is_eks()
        && ctx
            .v
            .bp
            .cluster
            .as_ref()
            .is_some_and(|c| !c.endpoint.public() && c.endpoint.access() == EndpointAccess::Ssm)
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    if !wanted(ctx) {
        return;
    }
    let name = format!("{}-api-access", ctx.cluster_name());
    let role = res("aws_iam_role", "api_access");
    let attach = res("aws_iam_role_policy_attachment", "api_access_ssm");
    let profile = res("aws_iam_instance_profile", "api_access");
    let sg = res("aws_security_group", "api_access");
    // Amazon Linux 2023 (arm64), the AMI AWS publishes under a stable SSM parameter.
    let ami = data("aws_ssm_parameter", "api_access_ami");
    let subnet = super::private_subnets(ctx).into_iter().next();
    let f = m.file("access");
    f.resource(
        &ami,
        json!({"name": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"}),
    )
    .resource(
        &role,
        json!({
            "name": name.clone(),
            "description": format!("SSM-managed instance that port-forwards to the private API of {}", ctx.cluster_name()),
            "assume_role_policy": assume_role("ec2.amazonaws.com"),
        }),
    )
    .resource(
        &attach,
        json!({
            "role": role.id(),
            "policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        }),
    )
    .resource(&profile, json!({"name": name.clone(), "role": role.id()}))
    .resource(
        &sg,
        json!({
            "name": name.clone(),
            "description": format!("SSM port forwarding to the private API of {}: no inbound", ctx.cluster_name()),
            "vpc_id": ctx.vpc_id(),
            "tags": {"Name": name.clone()},
        }),
    )
    // HTTPS out: the SSM endpoints (through the NAT) and the cluster's API.
    .resource(
        &res("aws_vpc_security_group_egress_rule", "api_access_https"),
        json!({
            "security_group_id": sg.id(),
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ipv4": "0.0.0.0/0",
            "description": "HTTPS to AWS Systems Manager and the Kubernetes API",
        }),
    )
    // The control plane's own security group (on its ENIs for managed nodes and Fargate).
    .resource(
        &res("aws_vpc_security_group_ingress_rule", "cluster_api_from_access"),
        json!({
            "security_group_id": cluster().attr("vpc_config[0].cluster_security_group_id"),
            "referenced_security_group_id": sg.id(),
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "description": "Kubernetes API from the SSM access instance",
        }),
    );
    let mut body = json!({
        "ami": ami.attr("value"),
        "instance_type": "t4g.nano",
        "iam_instance_profile": profile.attr("name"),
        "vpc_security_group_ids": [sg.id()],
        "associate_public_ip_address": false,
        "monitoring": true,
        "ebs_optimized": true,
        "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
        "root_block_device": {"encrypted": true, "volume_type": "gp3", "volume_size": 8},
        "tags": {"Name": name},
        // A newer AMI would replace the instance on every plan; patch it with SSM instead.
        "lifecycle": {"ignore_changes": ["ami"]},
        "depends_on": [attach.address()],
    });
    if let Some(subnet) = subnet {
        body["subnet_id"] = json!(subnet);
    }
    f.resource(&instance(), body);
    m.file("outputs").output(
        "api_access_instance_id",
        instance().id(),
        "SSM target for port forwarding to the private Kubernetes API (see the synth note)",
    );
}
