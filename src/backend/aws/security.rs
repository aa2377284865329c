//! Security groups chained by reference: a data service admits traffic only from the
//! security groups of the workloads that use it, on its port, every rule described.
//!
//! A data service's ingress rules name their source group, which another file creates (the
//! ECS tasks' group in `ecs.rs`, the EKS nodes' group in `cluster.rs`). So the rules wait in
//! the context until every file has run; [`finish`] then emits each rule whose source group
//! is declared in the module, and notes each one whose source is missing instead of leaving
//! a dangling reference.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use crate::blueprint::types::Platform;
use crate::terraform::{Expr, Module, Ref, res};

/// The security group of one ECS service's tasks (created by `ecs.rs`).
pub fn service_sg(service: &str) -> Ref {
    res("aws_security_group", &format!("{service}-tasks"))
}

/// The security group of EKS managed nodes (created by `cluster.rs`).
pub fn nodes_sg() -> Ref {
    res("aws_security_group", "nodes")
}

/// A security group's `name`: `<system>-<component>-sg`. Group names are unique per VPC
/// (CreateSecurityGroup: "Constraints: Up to 255 characters in length. Cannot start with
/// sg-."; a second group of one name in the VPC is `InvalidGroup.Duplicate`,
/// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html>).
/// A created VPC is the environment's own, so the environment is not part of the name, which
/// keeps the groups applied before unchanged. An existing VPC (`network.existing`) is shared:
/// staging and production side by side in it would both create `<system>-<component>-sg`,
/// and the second apply fail, so there the name carries the environment,
/// `<system>-<env>-<component>-sg`, as every other derived name does.
pub fn sg_name(ctx: &Ctx, component: &str) -> String {
    let shared_vpc = ctx
        .v
        .bp
        .network
        .as_ref()
        .is_some_and(|n| n.existing.is_some());
    let system = if shared_vpc {
        ctx.prefix.as_str()
    } else {
        ctx.v.bp.name.as_str()
    };
    let prefixed = component
        .strip_prefix(system)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'));
    if prefixed {
        format!("{component}-sg")
    } else {
        format!("{system}-{component}-sg")
    }
}

/// The `lifecycle` of a security group that something running is attached to.
///
/// `name`, `description` and `vpc_id` cannot change in place. Replaced the default way,
/// Terraform deletes the group first, which EC2 refuses while an ENI (a task, an instance, a
/// load balancer) still uses it (`DependencyViolation`), until the delete times out: the
/// provider's "Recreating a Security Group" note
/// (<https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group#recreating-a-security-group>)
/// asks for `create_before_destroy`, so the users move to the new group before the old one
/// goes. That is safe with a fixed `name` because the names derive from the component's
/// name (a rename gives a new one) and descriptions say nothing that changes on its own
/// (no port, no engine): a replacement always comes with a new name. The description is
/// also ignored after creation: groups created by earlier versions carry a description
/// that named the port or the engine, and must not be replaced (under their unchanged
/// names) to take the new text.
pub fn replaceable() -> Json {
    json!({"create_before_destroy": true, "ignore_changes": ["description"]})
}

/// Who may reach data component `name`: (label, the resource that declares the source
/// group, the source group id expression).
fn client_groups(ctx: &Ctx, name: &str) -> Vec<(String, Ref, Expr)> {
    match ctx.platform {
        Some(Platform::EcsFargate) => ctx
            .users_of(name)
            .iter()
            .map(|s| {
                let sg = service_sg(&s.name);
                (format!("{} tasks", s.name), sg.clone(), sg.id())
            })
            .collect(),
        Some(Platform::Eks) => vec![("EKS nodes".into(), nodes_sg(), nodes_sg().id())],
        // Fargate pods use the cluster security group EKS creates.
        Some(Platform::EksFargate) => {
            let cluster = res("aws_eks_cluster", "main");
            let id = cluster.attr("vpc_config[0].cluster_security_group_id");
            vec![("EKS Fargate pods".into(), cluster, id)]
        }
        _ => vec![],
    }
}

/// A TCP rule of security group `group` towards (egress) or from (ingress) security group
/// `peer` on one port: (the rule's resource, its body).
pub fn peer_rule(
    egress: bool,
    name: &str,
    group: Expr,
    peer: Expr,
    port: u16,
    description: String,
) -> (Ref, Json) {
    let kind = if egress {
        "aws_vpc_security_group_egress_rule"
    } else {
        "aws_vpc_security_group_ingress_rule"
    };
    (
        res(kind, name),
        json!({
            "security_group_id": group,
            "referenced_security_group_id": peer,
            "ip_protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "description": description,
        }),
    )
}

/// Who may reach the data component `name`: (label for descriptions, security group id).
/// For back-end files that build their own rules (`data_sg` defers its rules instead).
#[allow(dead_code)]
pub fn clients_of(ctx: &Ctx, name: &str) -> Vec<(String, Expr)> {
    client_groups(ctx, name)
        .into_iter()
        .map(|(label, _, id)| (label, id))
        .collect()
}

/// An ingress rule waiting for the resource that declares its source group.
pub(crate) struct PendingRule {
    file: String,
    rule: Ref,
    body: Json,
    needs: String,
    what: String,
}

/// A security group for data component `name` listening on `port`, admitting only its
/// clients. Returns its reference. No egress rules: data services answer, they do not call.
pub fn data_sg(ctx: &Ctx, m: &mut Module, file: &str, name: &str, port: u16, what: &str) -> Ref {
    let sg = res("aws_security_group", name);
    m.file(file).resource(
        &sg,
        json!({
            "name": sg_name(ctx, name),
            // Neither the engine nor the port: both can change on a later apply, and a
            // changed description replaces the group (see [`replaceable`]).
            "description": format!("Data service {name}: inbound only from its clients' security groups, no outbound"),
            "vpc_id": ctx.vpc_id(),
            "tags": {"Name": sg_name(ctx, name)},
            "lifecycle": replaceable(),
        }),
    );
    let clients = client_groups(ctx, name);
    // The group admits exactly the clients above, so with none nothing can connect, and
    // nothing else in the output says so: a data-only blueprint for workloads that run
    // elsewhere (an existing cluster, `--provider kubernetes`) would get a database no one
    // reaches. Say it, and how to admit clients outside the blueprint.
    if clients.is_empty() {
        ctx.note(crate::diagnostic::Note::warning(
            "data-unreachable",
            format!(
                "{what} `{name}`: no service or job here runs where its security group can admit it (none `uses` it, or the blueprint has no cluster), so it admits no one and nothing can connect: list it in a workload's `uses`; for clients outside this blueprint (an existing cluster's nodes, another team's instances), add an `aws_vpc_security_group_ingress_rule` from their security group to `{}.id` on port {port} in an `extra.terraform.infra` template (docs/brownfield.md)",
                sg.address()
            ),
        ));
    }
    for (label, declared_by, source) in clients {
        let rule = format!("{name}-from-{}", label.replace(' ', "-").to_lowercase());
        crate::backend::locked(&ctx.pending_rules).push(PendingRule {
            file: file.to_string(),
            rule: res("aws_vpc_security_group_ingress_rule", &rule),
            body: json!({
                "security_group_id": sg.id(),
                "referenced_security_group_id": source,
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": format!("{label} to {what} {name} on {port}"),
            }),
            needs: declared_by.address(),
            what: format!("{what} {name} ({label})"),
        });
    }
    sg
}

/// Emit the waiting ingress rules whose source group exists; note the others.
pub fn finish(ctx: &Ctx, m: &mut Module) {
    let pending: Vec<PendingRule> =
        std::mem::take(&mut *crate::backend::locked(&ctx.pending_rules));
    if pending.is_empty() {
        return;
    }
    for p in pending {
        if m.declares(&p.needs) {
            m.file(&p.file).resource(&p.rule, p.body);
        } else {
            ctx.note(format!(
                "{}: no ingress rule yet, because `{}` (its clients' security group) is not in the output; it admits no one until that is lowered",
                p.what, p.needs
            ));
        }
    }
}

/// After `extra:` templates (and `overrides:`) are applied: drop each `data-unreachable`
/// warning whose group an ingress rule of the final `infra` module now admits someone to —
/// the template the warning asks for, written. `out` holds the output's notes.
pub fn drop_admitted(out: &mut crate::output::Output) {
    if !out.notes.iter().any(|n| n.rule == Some("data-unreachable")) {
        return;
    }
    let mut admitted = Vec::new();
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/infra/") && path.ends_with(".tf.json")) {
            continue;
        }
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let rules = doc["resource"]["aws_vpc_security_group_ingress_rule"].as_object();
        for rule in rules.into_iter().flat_map(|r| r.values()) {
            if let Some(group) = rule["security_group_id"].as_str() {
                admitted.push(format!(
                    "`{}`",
                    group.trim_start_matches("${").trim_end_matches('}')
                ));
            }
        }
    }
    out.notes.retain(|n| {
        n.rule != Some("data-unreachable") || !admitted.iter().any(|g| n.text.contains(g.as_str()))
    });
}
