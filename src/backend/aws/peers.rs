//! ECS services whose replicas cluster (`services[].peer_ports`: Erlang distribution through
//! libcluster, JGroups/Infinispan/Keycloak, Akka): what Kubernetes does with a headless
//! Service and NetworkPolicy peer rules (`crate::k8s::service`, `crate::k8s::network_policy`),
//! ECS does with Cloud Map DNS service discovery and the tasks' security group.
//!
//! - A private DNS namespace `<prefix>.internal` on the VPC (a Route 53 private hosted zone;
//!   `.internal` is the top-level domain ICANN reserved for private use, so it never shadows a
//!   public name), and per clustering service a Cloud Map service with one A record per task
//!   (`MULTIVALUE`): in `awsvpc` mode each task has its own address, and ECS registers it
//!   when the task starts and removes it when it stops (the service's `service_registries`).
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html>
//! - No health check on the Cloud Map service: every registered task is answered, ready or
//!   not, as the headless Service's `publishNotReadyAddresses` does (a starting node must
//!   find its peers before it reports healthy). Cloud Map answers up to eight A records per
//!   query, a different eight each time for a larger service: polling strategies (libcluster's
//!   DNSPoll every 5 s) meet the others over a few polls, and Erlang meshes transitively.
//! - The name is handed to the app container as `<SERVICE>_PEERS_HOST` (`crate::wiring::peers`),
//!   the variable Kubernetes gets for its headless Service.
//! - The tasks' security group admits the service's own tasks on exactly the peer ports, and
//!   lets them out to each other on those ports (self-referencing rules), nothing else.
//! - Service Connect coexists: its namespace is a separate HTTP namespace, and its proxy only
//!   answers the client aliases it writes; connections to a peer's own address bypass it. An
//!   ECS service may carry both `service_registries` and `service_connect_configuration`
//!   (AWS Copilot's load-balanced web service template sets both on one service:
//!   aws/copilot-cli `templates/workloads/services/lb-web/cf.yml`).
//! - Hazelcast's ECS discovery asks the ECS API for the tasks instead of DNS: the task role
//!   may list and describe the cluster's tasks (`peer_statements`).
//!   <https://docs.hazelcast.com/hazelcast/5.2/deploy/deploying-on-aws>
//!
//! A task learns its own address (to name its node `<basename>@<address>`) from the task
//! metadata endpoint: Fargate platform 1.4.0+ sets `ECS_CONTAINER_METADATA_URI_V4` in every
//! container; ECS has no downward API, so `$(POD_IP)` stays refused here
//! (`semantic::env_references`).
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html>

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::security;
use crate::blueprint::types::Service;
use crate::terraform::{Module, Ref, ident, res};
use crate::tpl;

/// The private DNS namespace the clustering services register in.
pub fn namespace() -> Ref {
    res("aws_service_discovery_private_dns_namespace", "peers")
}

/// The namespace's domain: `<prefix>.internal`, the prefix as one DNS label (lower case,
/// at most 63 characters). Each environment has its own VPC and prefix, so no two
/// namespaces of one account share a name.
pub fn domain(ctx: &Ctx) -> String {
    let label: String = ctx
        .prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let label = crate::naming::fit(label.trim_matches('-'), 63);
    format!("{label}.internal")
}

/// The Cloud Map service of clustering service `s`.
pub fn registry(s: &Service) -> Ref {
    res("aws_service_discovery_service", &s.name)
}

/// The DNS name that resolves to every task of `s`: `<service>.<prefix>.internal`.
pub fn host(ctx: &Ctx, s: &Service) -> String {
    format!("{}.{}", s.name, domain(ctx))
}

fn clusters(s: &Service) -> bool {
    !s.peer_ports.is_empty()
}

/// The namespace, when any service clusters.
pub fn declare(ctx: &Ctx, m: &mut Module) {
    if !ctx.v.bp.services.iter().any(clusters) {
        return;
    }
    let domain = domain(ctx);
    m.file("ecs").resource(
        &namespace(),
        json!({
            "name": &domain,
            "description": format!("Cloud Map: the tasks of the ECS services of {} whose replicas cluster (peer_ports), one A record per task", ctx.cluster_name()),
            "vpc": ctx.vpc_id(),
            "tags": {"Name": &domain},
        }),
    );
}

/// For a clustering service: its Cloud Map service, the service's `service_registries`, and
/// its security group's rules between its own tasks on the peer ports.
pub fn configure(m: &mut Module, s: &Service, sg: &Ref, body: &mut Json) {
    if !clusters(s) {
        return;
    }
    let registry = registry(s);
    let n = ident(&s.name);
    let f = m.file("ecs");
    f.resource(
        &registry,
        json!({
            "name": &s.name,
            "description": format!("ECS tasks of {}, every one, for its replicas to find each other", s.name),
            "dns_config": {
                "namespace_id": namespace().id(),
                // A short TTL: a node looks for new peers as tasks come and go.
                "dns_records": [{"ttl": 10, "type": "A"}],
                "routing_policy": "MULTIVALUE",
            },
            // Instances ECS failed to deregister must not block a destroy.
            "force_destroy": true,
            "tags": {"service": &s.name},
        }),
    );
    // `awsvpc` with A records: no port or container to name.
    body["service_registries"] = json!({"registry_arn": registry.arn()});
    for &p in &s.peer_ports {
        for egress in [false, true] {
            let description = if egress {
                format!("{} tasks to each other on {p} (peer_ports)", s.name)
            } else {
                format!("{} tasks from each other on {p} (peer_ports)", s.name)
            };
            let (rule, rule_body) = security::peer_rule(
                egress,
                &format!("{n}_peers_{p}"),
                sg.id(),
                sg.id(),
                p,
                description,
            );
            f.resource(&rule, rule_body);
        }
    }
}

/// The task role's statements for a clustering service: list and describe the tasks of its
/// own cluster (Hazelcast's ECS discovery; read-only). `ListTasks` is scoped by the
/// `ecs:cluster` condition key, `DescribeTasks` by the tasks' ARNs.
/// (the ECS guide's "List and describe Amazon ECS task examples": `ListTasks` on `*` with
/// `ArnEquals ecs:cluster`, `DescribeTasks` on task ARNs)
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security_iam_id-based-policy-examples.html#IAM_task_policies>
pub fn peer_statements(ctx: &Ctx, s: &Service) -> Vec<Json> {
    if !clusters(s) {
        return Vec::new();
    }
    let cluster = super::ecs::cluster();
    vec![
        json!({
            "Sid": "ListOwnClusterTasks",
            "Effect": "Allow",
            "Action": "ecs:ListTasks",
            "Resource": "*",
            "Condition": {"ArnEquals": {"ecs:cluster": cluster.arn()}},
        }),
        json!({
            "Sid": "DescribeOwnClusterTasks",
            "Effect": "Allow",
            "Action": "ecs:DescribeTasks",
            "Resource": tpl!("arn:aws:ecs:", ctx.region, ":", ctx.account_id(), ":task/", cluster.attr("name"), "/*"),
        }),
    ]
}
