//! Security groups chained by reference: a data service admits traffic only from the
//! security groups of the workloads that use it, on its port, every rule described.

// Used by the data-service lowerings as they land; until then only the API exists.
#![allow(dead_code)]

use serde_json::json;

use super::Ctx;
use crate::blueprint::types::Platform;
use crate::terraform::{Module, Ref, res};

/// The security group of one ECS service's tasks (created by `ecs.rs`).
pub fn service_sg(service: &str) -> Ref {
    res("aws_security_group", &format!("{service}-tasks"))
}

/// The security group of EKS managed nodes (created by `cluster.rs`).
pub fn nodes_sg() -> Ref {
    res("aws_security_group", "nodes")
}

/// Who may reach the data component `name`: (label for descriptions, security group id).
pub fn clients_of(ctx: &Ctx, name: &str) -> Vec<(String, String)> {
    match ctx.platform {
        Some(Platform::EcsFargate) => ctx
            .v
            .bp
            .services
            .iter()
            .filter(|s| s.uses.iter().any(|u| u == name))
            .map(|s| (format!("{} tasks", s.name), service_sg(&s.name).id()))
            .collect(),
        Some(Platform::Eks) => vec![("EKS nodes".into(), nodes_sg().id())],
        // Fargate pods use the cluster security group EKS creates.
        Some(Platform::EksFargate) => vec![(
            "EKS Fargate pods".into(),
            res("aws_eks_cluster", "main").attr("vpc_config[0].cluster_security_group_id"),
        )],
        _ => vec![],
    }
}

/// A security group for data component `name` listening on `port`, admitting only its
/// clients. Returns its reference. No egress rules: data services answer, they do not call.
pub fn data_sg(ctx: &Ctx, m: &mut Module, file: &str, name: &str, port: u16, what: &str) -> Ref {
    let sg = res("aws_security_group", name);
    let f = m.file(file);
    f.resource(
        &sg,
        json!({
            "name": format!("{}-{name}", ctx.prefix),
            "description": format!("{what} {name}: reachable only from its clients on {port}"),
            "vpc_id": res("aws_vpc", "main").id(),
            "tags": {"Name": format!("{}-{name}", ctx.prefix)},
        }),
    );
    for (label, source) in clients_of(ctx, name) {
        let rule = format!("{name}-from-{}", label.replace(' ', "-").to_lowercase());
        f.resource(
            &res("aws_vpc_security_group_ingress_rule", &rule),
            json!({
                "security_group_id": sg.id(),
                "referenced_security_group_id": source,
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": format!("{label} to {what} {name} on {port}"),
            }),
        );
    }
    sg
}
