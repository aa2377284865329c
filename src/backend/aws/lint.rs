//! infragen's own AWS lint rules, where scanners judge only what they can see statically.
//! Findings are warnings shown by `synth` and `validate`, never errors. (Versions are judged
//! against the versions catalog at validation: `crate::semantic::versions`.)
//!
//! | rule | warns when |
//! |---|---|
//! | `eks-device-plugin` | a node pool's instance type has a Neuron accelerator (Inferentia, Trainium): it runs the AL2023 AMI with the driver, but pods can request the device only through its Kubernetes device plugin, which the output does not install (NVIDIA's it does) |
//! | `alb-rules-quota` | (written by `edge.rs`, which plans the rules) the ECS load balancer's HTTPS listener gets more rules than the default quota of 100 per Application Load Balancer: the apply stops with TooManyRules unless the quota was raised |
//! | `data-unreachable` | (written by `security.rs`, which builds the groups) a managed database, cache or broker has no client here its security group can admit — no workload `uses` it on ECS, or the blueprint has no cluster — so nothing can connect; dropped when an `extra` template adds an ingress rule to that group (`security::drop_admitted`) |
//! | `aws-rds-connections` | the pods (EKS) or tasks (ECS Fargate) using an RDS PostgreSQL or MySQL instance can open fewer than 5 connections each before its `max_connections` (the parameter when set, else AWS's default from the class's memory, an upper bound: [`rds_connection_limit`]) |
//! | `eks-endpoint-private` | the EKS API endpoint is private and `cluster.endpoint.access: none`: the `platform` and `connections` modules and `kubectl apply -k` need a path into the VPC (with the default `ssm` a note says how to tunnel) |

use super::Ctx;
use crate::diagnostic::Note;

pub fn check(ctx: &Ctx) {
    eks_endpoint(ctx);
    accelerated_nodes(ctx);
    rds_connections(ctx);
}

/// The memory (GiB) of an RDS instance class, by its size within the families the catalog
/// and the usual exact classes come from ("Hardware specifications for DB instance
/// classes", docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html):
/// burstable `t3`/`t4g` and general-purpose `m5`/`m6g`/`m6i`/`m7g` take 4 GiB per vCPU
/// (`t`: micro 1, small 2, medium 4), memory-optimized `r5`/`r6g`/`r6i`/`r7g` 8 GiB per
/// vCPU. Other families are not judged.
fn rds_class_gib(class: &str) -> Option<u64> {
    let rest = class.strip_prefix("db.")?;
    let (family, size) = rest.split_once('.')?;
    let per_large: u64 = match family {
        "t3" | "t4g" | "m5" | "m6g" | "m6i" | "m7g" => 8,
        "r5" | "r6g" | "r6i" | "r7g" => 16,
        _ => return None,
    };
    let small = matches!(family, "t3" | "t4g");
    Some(match size {
        "micro" if small => 1,
        "small" if small => 2,
        "medium" if small => 4,
        "large" => per_large,
        "xlarge" => per_large * 2,
        _ => {
            let n: u64 = size.strip_suffix("xlarge")?.parse().ok()?;
            per_large * 2 * n
        }
    })
}

/// The connections an RDS instance accepts: its `max_connections` parameter when the
/// blueprint sets a number, else AWS's default, "LEAST({DBInstanceClassMemory/9531392},5000)"
/// for PostgreSQL and "{DBInstanceClassMemory/12582880}" for MySQL ("Maximum number of
/// database connections", docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections).
/// `DBInstanceClassMemory` is the class's memory less what the OS and RDS processes take,
/// so the class's whole memory gives an upper bound: what is judged short with it is
/// shorter still. (limit, where it comes from.)
pub fn rds_connection_limit(
    engine: crate::blueprint::types::DatabaseEngine,
    class: &str,
    parameters: &std::collections::BTreeMap<String, String>,
) -> Option<(u32, String)> {
    use crate::blueprint::types::DatabaseEngine;
    if let Some(set) = parameters.get("max_connections") {
        return set
            .trim()
            .parse()
            .ok()
            .map(|n| (n, "its `max_connections` parameter".to_string()));
    }
    let bytes = rds_class_gib(class)? * (1 << 30);
    let (limit, formula) = match engine {
        DatabaseEngine::Postgres => (
            (bytes / 9_531_392).min(5000),
            "AWS's default LEAST(DBInstanceClassMemory/9531392, 5000)",
        ),
        DatabaseEngine::Mysql => (
            bytes / 12_582_880,
            "AWS's default DBInstanceClassMemory/12582880",
        ),
        DatabaseEngine::Mongodb => return None,
    };
    Some((
        u32::try_from(limit).ok()?,
        format!(
            "{formula} with the class's whole {} GiB: fewer in fact, the OS and RDS processes take their share",
            bytes >> 30
        ),
    ))
}

/// RDS refuses connections past `max_connections` ("remaining connection slots are
/// reserved", "Too many connections") as DigitalOcean does past its plan's limit: the same
/// rule ([`crate::backend::connection_limit`]), on EKS with the pods counted as the
/// manifests run them, on ECS with the tasks as the services and schedules run them
/// ([`client_tasks`]).
fn rds_connections(ctx: &Ctx) {
    use crate::backend::connection_limit::{Clients, Server, judge};
    let ecs = ctx.platform == Some(crate::blueprint::types::Platform::EcsFargate);
    if !ecs && (!ctx.is_eks() || ctx.v.bp.cluster.is_none()) {
        return;
    }
    for d in super::database::managed(ctx) {
        let class = ctx.v.size(
            crate::catalog::SizeKind::Database,
            d.size.as_deref(),
            &d.sizes,
        );
        let Some((limit, why)) = rds_connection_limit(d.engine, &class, &d.parameters) else {
            continue;
        };
        let server = Server {
            name: &d.name,
            size: &class,
            limit,
            why,
            way_out: if ecs {
                "put RDS Proxy in front of it (not generated by infragen: the tasks then share the proxy's connections), raise `parameters.max_connections` where the instance has the memory, lower `rollout.max_percent` (the tasks a deployment starts beside the running ones)"
            } else {
                "put RDS Proxy in front of it (not generated by infragen: the pods then share the proxy's connections), raise `parameters.max_connections` where the instance has the memory"
            },
        };
        let clients = if ecs {
            Clients {
                noun: "task",
                list: client_tasks(ctx.v.bp, &d.name),
            }
        } else {
            Clients {
                noun: "pod",
                list: crate::k8s::quota::client_pods(ctx.v, &d.name),
            }
        };
        if let Some(message) = judge(&server, &clients) {
            ctx.note(Note::warning("aws-rds-connections", message));
        }
    }
}

/// The ECS tasks that use component `name`, at their most at once (what, tasks), each with
/// a client pool of its own:
///
/// - a service at its most — `autoscaling.max`, or a scheduled action's higher `max`, else
///   `replicas` — during a deployment: a rolling one runs up to `maximumPercent` of the
///   desired count (`rollout.max_percent`, default 200, 100 for `recreate`; "the upper
///   limit on the number of … tasks … during a deployment", rounded down), ECS's own
///   blue/green or canary starts the whole new revision beside the old one (2×);
/// - a scheduled job: two runs, since EventBridge Scheduler starts every run even while the
///   previous one still runs (`concurrency: Allow`, the only value ECS accepts).
///
/// Init containers run inside their service's tasks, and a release step is refused on ECS
/// (docs/release.md): neither adds tasks.
pub fn client_tasks(bp: &crate::blueprint::types::Blueprint, name: &str) -> Vec<(String, u32)> {
    use crate::blueprint::types::Strategy;
    let uses = |s: &crate::blueprint::types::Service| s.uses.iter().any(|u| u.as_str() == name);
    let mut out = Vec::new();
    for s in bp.services.iter().filter(|s| uses(s)) {
        let n = match &s.autoscaling {
            Some(a) => a.scheduled.iter().map(|x| x.max).fold(a.max, u32::max),
            None => s.replicas,
        };
        let at_most = if super::ecs_deployments::native(s) {
            2 * n
        } else {
            let default = if s.rollout.strategy == Strategy::Recreate {
                100
            } else {
                200
            };
            (n * s.rollout.max_percent.unwrap_or(default) / 100).max(n)
        };
        out.push((s.name.clone(), at_most));
    }
    for job in &bp.jobs {
        if uses(job.pod()) {
            out.push((job.name.clone(), 2));
        }
    }
    out
}

/// The AL2023 accelerated AMIs carry the NVIDIA or Neuron driver, not the Kubernetes device
/// plugin ("you must install the NVIDIA Kubernetes device plugin",
/// docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html). The `platform`
/// module installs NVIDIA's (`helm::nvidia_device_plugin`); for Neuron nothing does, and
/// without it no pod can request the accelerator.
fn accelerated_nodes(ctx: &Ctx) {
    if ctx.platform != Some(crate::blueprint::types::Platform::Eks) {
        return;
    }
    for pool in &ctx.v.bp.node_pools {
        let instance = ctx.v.size(
            crate::catalog::SizeKind::Node,
            pool.size.as_deref(),
            &pool.sizes,
        );
        let ami = super::cluster::nodes::ami_type(&instance);
        if ami != "AL2023_x86_64_NEURON" {
            continue;
        }
        ctx.note(Note::warning(
            "eks-device-plugin",
            format!(
                "node pool `{}` ({instance}) runs the {ami} AMI, which has the driver but not the Neuron Kubernetes device plugin: install it (its Helm chart or operator); infragen requests NVIDIA GPUs only (`services[].gpu`), so run the workloads that use it from `extra.kubernetes` templates (docs/escape-hatches.md)",
                pool.name
            ),
        ));
    }
}

/// A private API endpoint (the secure default) is reachable only from inside the VPC; nothing
/// in the output opens a path in, so the `platform` module and the manifests cannot be
/// applied from a CI runner outside it.
fn eks_endpoint(ctx: &Ctx) {
    let Some(cluster) = ctx.v.bp.cluster.as_ref() else {
        return;
    };
    if !ctx.is_eks() || cluster.endpoint.public() {
        return;
    }
    // The root modules that talk to the cluster's API.
    let modules = if super::external_secrets::needed(ctx) {
        "terraform/platform and terraform/connections"
    } else {
        "terraform/platform"
    };
    if super::cluster::access::wanted(ctx) {
        ctx.note(format!(
            "the EKS API endpoint of {} is private; reach it through AWS Systems Manager: `aws ssm start-session --target $(terraform -chdir=terraform/infra output -raw api_access_instance_id) --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=$(terraform -chdir=terraform/infra output -raw cluster_endpoint | sed 's#https://##'),portNumber=443,localPortNumber=8443`, then `TF_VAR_kube_host=https://127.0.0.1:8443` for {modules} and `kubectl --server https://127.0.0.1:8443 --tls-server-name <endpoint host>` for k8s/ (`cluster.endpoint.access: none` drops the access instance)",
            ctx.cluster_name()
        ));
        return;
    }
    ctx.note(Note::warning(
        "eks-endpoint-private",
        format!(
            "the EKS API endpoint of {} is private: {modules} and `kubectl apply -k k8s/` must run from inside the VPC (a self-hosted runner, SSM port forwarding through an instance in a private subnet, or a VPN); to apply from outside set `cluster.endpoint: {{ public: true, allowed_cidrs: [<runner and admin CIDRs>] }}`",
            ctx.cluster_name()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::{rds_class_gib, rds_connection_limit};
    use crate::blueprint::types::DatabaseEngine;

    /// The classes' memory as AWS's hardware table gives it, and the default limits from
    /// it: 2 GiB → 225 (PostgreSQL), 16 GiB → 1802 (PostgreSQL) and 1365 (MySQL); 5000 at
    /// most for PostgreSQL; a written `max_connections` wins; unknown families are not judged.
    #[test]
    fn rds_limits_come_from_the_class_memory_or_the_parameter() {
        for (class, gib) in [
            ("db.t4g.micro", 1),
            ("db.t4g.small", 2),
            ("db.t3.medium", 4),
            ("db.m5.large", 8),
            ("db.m6g.2xlarge", 32),
            ("db.r6g.large", 16),
            ("db.r6g.xlarge", 32),
            ("db.r5.12xlarge", 384),
        ] {
            assert_eq!(rds_class_gib(class), Some(gib), "{class}");
        }
        assert_eq!(rds_class_gib("db.x2g.large"), None);
        assert_eq!(rds_class_gib("db.r6g.medium"), None);
        let none = Default::default();
        let limit = |e, c| rds_connection_limit(e, c, &none).map(|(n, _)| n);
        assert_eq!(limit(DatabaseEngine::Postgres, "db.t4g.small"), Some(225));
        assert_eq!(limit(DatabaseEngine::Postgres, "db.r6g.large"), Some(1802));
        assert_eq!(limit(DatabaseEngine::Mysql, "db.r6g.large"), Some(1365));
        assert_eq!(
            limit(DatabaseEngine::Postgres, "db.r6g.4xlarge"),
            Some(5000)
        );
        let set = [("max_connections".to_string(), "300".to_string())].into();
        assert_eq!(
            rds_connection_limit(DatabaseEngine::Postgres, "db.t4g.small", &set).map(|(n, _)| n),
            Some(300)
        );
    }
}
