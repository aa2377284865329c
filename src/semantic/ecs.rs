//! What ECS on Fargate and its Application Load Balancer refuse, or cannot run, that no schema
//! carries: checked for `--provider aws` with `cluster.platform: ecs_fargate`, where the
//! values are written.
//!
//! - **Task size.** Fargate runs only fixed CPU/memory pairs; RegisterTaskDefinition refuses
//!   any other ("No Fargate configuration exists for given values").
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>
//! - **Container health check.** ECS takes `interval` 5–300 s, `timeout` 2–60 s, `retries`
//!   1–10, `startPeriod` 0–300 s, and a command that starts with `CMD` or `CMD-SHELL`.
//!   <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html>
//! - **Target group health check.** ELB takes an interval of 5–300 s, a timeout of 2–120 s
//!   and smaller than the interval, thresholds of 2–10, and HTTP codes 200–499;
//!   deregistration delay 0–3600 s; idle timeout 1–4000 s.
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>
//! - **Egress.** Tasks run in the private subnets without a public IP: with `nat: none` they
//!   reach AWS only through the VPC endpoints of `network.endpoints`, and only images in
//!   ECR; whatever a task would miss is refused (`private_ecs`).
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html>
//! - **In-cluster data services.** `deployment: in_cluster` runs a database, cache or queue
//!   as a StatefulSet, and ECS has no Kubernetes cluster: nothing would run it, and the
//!   services that `use` it would start without its variables, security group rules or
//!   server. Refused at the `deployment`, with the managed service to use instead.
//! - **Services using services.** ECS services reach the services they `use` through
//!   Service Connect (`backend::aws::service_connect`), which gives a task the endpoints
//!   that exist when it starts: a client is created after its servers, so services that
//!   use each other in a cycle cannot be ordered and are refused at the `uses` entry that
//!   closes it; a job (a task `RunTask` starts, which has no Service Connect) using a
//!   service is refused too.

use super::Checker;
use crate::blueprint::types::{
    Blueprint, ContainerHealthCheck, Deployment, Nat, Platform, TaskSize,
};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    if !ecs {
        // Every `load_balancer` on AWS is an ALB (EKS: in front of ingress-nginx, or the
        // AWS Load Balancer Controller's for an Ingress of class `alb`, which also writes
        // the health check and deregistration delay onto its target groups,
        // k8s/service.rs): the same ELB limits hold. (`--provider kubernetes` creates no
        // load balancer.)
        if c.provider == Provider::Aws {
            target_group(c, bp);
        }
        return;
    }
    for (i, s) in bp.services.iter().enumerate() {
        if let Some(t) = &s.task {
            task_size(c, &format!("services[{i}].task"), t);
        }
        if let Some(h) = &s.health_check {
            container_health_check(c, &format!("services[{i}].health_check"), h);
        }
    }
    for (i, j) in bp.jobs.iter().enumerate() {
        if let Some(t) = &j.task {
            task_size(c, &format!("jobs[{i}].task"), t);
        }
    }
    target_group(c, bp);
    egress(c, bp);
    in_cluster(c, bp);
    service_uses(c, bp);
}

/// `uses` entries naming a service: ECS tasks have no way to find each other.
fn service_uses(c: &mut Checker, bp: &Blueprint) {
    let is_service = |name: &str| bp.services.iter().any(|x| x.name == name);
    for (i, job) in bp.jobs.iter().enumerate() {
        for (j, u) in job.pod().uses.iter().enumerate() {
            if !is_service(u.as_str()) {
                continue;
            }
            c.error(
                &format!("jobs[{i}].uses[{j}]"),
                format!(
                    "`{}` is a service, and an ECS scheduled task has no Service Connect (only services do): `{}` could not find it",
                    u.as_str(),
                    job.pod().name
                ),
            )
            .help = Some(
                "reach it through the load balancer's routes (set the URL in `env`), or run on `platform: eks`".into(),
            );
        }
    }
    // Services using services, by name; a `uses` entry closes a cycle when the service it
    // names reaches back to the one that holds it.
    let uses_of = |name: &str| -> Vec<&str> {
        bp.services
            .iter()
            .find(|x| x.name == name)
            .map(|x| {
                x.uses
                    .iter()
                    .map(|u| u.as_str())
                    .filter(|u| is_service(u))
                    .collect()
            })
            .unwrap_or_default()
    };
    let reaches = |from: &str, to: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                stack.extend(uses_of(n));
            }
        }
        false
    };
    for (i, s) in bp.services.iter().enumerate() {
        for (j, u) in s.uses.iter().enumerate() {
            if !is_service(u.as_str()) || u.as_str() == s.name || !reaches(u.as_str(), &s.name) {
                continue;
            }
            c.error(
                &format!("services[{i}].uses[{j}]"),
                format!(
                    "`{}` and `{}` use each other (through `uses`): ECS Service Connect gives a task only the services deployed before it started, so one must be created first, and a cycle has no first",
                    s.name,
                    u.as_str()
                ),
            )
            .help = Some(
                "keep one direction in `uses`, or run on `platform: eks`".into(),
            );
        }
    }
}

/// Data services declared `deployment: in_cluster`: nothing runs them on ECS.
fn in_cluster(c: &mut Checker, bp: &Blueprint) {
    let databases = (bp.databases.iter().enumerate()).map(|(i, d)| {
        let managed = match d.engine {
            crate::blueprint::types::DatabaseEngine::Mongodb => {
                "AWS has no managed MongoDB infragen lowers to: run the stack on `platform: eks`"
            }
            _ => "use `deployment: managed` (RDS), or `platform: eks`",
        };
        (format!("databases[{i}]"), &d.name, d.deployment, managed)
    });
    let caches = (bp.caches.iter().enumerate()).map(|(i, x)| {
        let managed = "use `deployment: managed` (ElastiCache), or `platform: eks`";
        (format!("caches[{i}]"), &x.name, x.deployment, managed)
    });
    let queues = (bp.queues.iter().enumerate())
        .filter(|(_, x)| !x.sqs())
        .map(|(i, x)| {
            let managed = "use `deployment: managed` (Amazon MQ), or `platform: eks`";
            (format!("queues[{i}]"), &x.name, x.deployment, managed)
        });
    for (path, name, deployment, managed) in databases.chain(caches).chain(queues) {
        if deployment != Deployment::InCluster {
            continue;
        }
        c.error(
            &format!("{path}.deployment"),
            format!(
                "`{name}` runs in the cluster, and platform `ecs_fargate` has none: nothing would run it, and the services that use it would start without it"
            ),
        )
        .help = Some(managed.to_string());
    }
}

/// The memory sizes (MiB) Fargate offers with `cpu` units, or `None` for a CPU it does not
/// offer.
pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let gib = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).map(|g| g * 1024);
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => gib(1, 4, 1).collect(),
        1024 => gib(2, 8, 1).collect(),
        2048 => gib(4, 16, 1).collect(),
        4096 => gib(8, 30, 1).collect(),
        8192 => gib(16, 60, 4).collect(),
        16384 => gib(32, 120, 8).collect(),
        _ => return None,
    })
}

fn task_size(c: &mut Checker, path: &str, t: &TaskSize) {
    let Some(memory) = fargate_memory(t.cpu) else {
        c.error(
            &format!("{path}.cpu"),
            format!("Fargate offers no task with {} CPU units", t.cpu),
        )
        .expected = Some("256, 512, 1024, 2048, 4096, 8192 or 16384 (1024 = one vCPU)".into());
        return;
    };
    if !memory.contains(&t.memory) {
        let list = if memory.len() <= 4 {
            memory
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            let step = memory[1] - memory[0];
            format!(
                "{} to {} in steps of {step}",
                memory[0],
                memory[memory.len() - 1]
            )
        };
        let d = c.error(
            &format!("{path}.memory"),
            format!(
                "Fargate runs a task of {} CPU units with {list} MiB of memory, not {}",
                t.cpu, t.memory
            ),
        );
        d.expected = Some(format!("{list} (MiB)"));
        d.help = Some(
            "pick a memory size Fargate offers for this CPU, or change `cpu` (each CPU size has its own memory range)"
                .into(),
        );
    }
}

fn range(c: &mut Checker, path: &str, value: Option<u32>, min: u32, max: u32, what: &str) {
    if let Some(v) = value
        && !(min..=max).contains(&v)
    {
        c.error(
            path,
            format!("{what} must be between {min} and {max}, got {v}"),
        );
    }
}

fn container_health_check(c: &mut Checker, path: &str, h: &ContainerHealthCheck) {
    match h.command.first().map(String::as_str) {
        Some("CMD" | "CMD-SHELL") if h.command.len() > 1 => {}
        Some("NONE") if h.command.len() == 1 => {}
        _ => {
            c.error(
                &format!("{path}.command"),
                "an ECS health check command starts with `CMD` (the command and its arguments follow) or `CMD-SHELL` (one shell command line follows)",
            )
            .expected = Some("e.g. `[CMD-SHELL, \"curl -f http://localhost:8080/health || exit 1\"]`".into());
        }
    }
    range(
        c,
        &format!("{path}.interval"),
        h.interval,
        5,
        300,
        "ECS checks every 5–300 seconds; the interval",
    );
    range(
        c,
        &format!("{path}.timeout"),
        h.timeout,
        2,
        60,
        "the timeout (seconds)",
    );
    range(c, &format!("{path}.retries"), h.retries, 1, 10, "retries");
    range(
        c,
        &format!("{path}.start_period"),
        h.start_period,
        0,
        300,
        "the start period (seconds)",
    );
}

/// HTTP codes the target group's matcher may list: `200`, `200,202`, `200-299`, each code
/// 200–499.
fn matcher_ok(m: &str) -> bool {
    let code = |s: &str| s.parse::<u16>().is_ok_and(|n| (200..=499).contains(&n));
    m.split(',').all(|part| match part.split_once('-') {
        Some((a, b)) => code(a) && code(b) && a < b,
        None => code(part),
    })
}

fn target_group(c: &mut Checker, bp: &Blueprint) {
    let Some(lb) = &bp.load_balancer else { return };
    range(
        c,
        "load_balancer.deregistration_delay",
        lb.deregistration_delay,
        0,
        3600,
        "the deregistration delay (seconds)",
    );
    range(
        c,
        "load_balancer.idle_timeout",
        lb.idle_timeout,
        1,
        4000,
        "the idle timeout (seconds)",
    );
    let Some(h) = &lb.health_check else { return };
    let p = "load_balancer.health_check";
    range(
        c,
        &format!("{p}.interval"),
        h.interval,
        5,
        300,
        "the interval (seconds)",
    );
    range(
        c,
        &format!("{p}.timeout"),
        h.timeout,
        2,
        120,
        "the timeout (seconds)",
    );
    range(
        c,
        &format!("{p}.healthy_threshold"),
        h.healthy_threshold,
        2,
        10,
        "the healthy threshold",
    );
    range(
        c,
        &format!("{p}.unhealthy_threshold"),
        h.unhealthy_threshold,
        2,
        10,
        "the unhealthy threshold",
    );
    // The back-end's defaults: 30 s and 5 s.
    let (interval, timeout) = (h.interval.unwrap_or(30), h.timeout.unwrap_or(5));
    if timeout >= interval {
        c.error(
            &format!("{p}.timeout"),
            format!("the timeout ({timeout} s) must be shorter than the interval ({interval} s): the load balancer refuses a check that outlasts its period"),
        );
    }
    if let Some(m) = &h.matcher
        && !matcher_ok(m)
    {
        c.error(
            &format!("{p}.matcher"),
            format!("`{m}` is not a list of HTTP codes the load balancer accepts"),
        )
        .expected = Some("codes 200–499: `200`, `200,202` or a range `200-299`".into());
    }
}

/// `nat: none`: accepted when the VPC endpoints and images let every task start
/// (`private_ecs`).
fn egress(c: &mut Checker, bp: &Blueprint) {
    let Some(net) = &bp.network else { return };
    if net.nat != Nat::None || (bp.services.is_empty() && bp.jobs.is_empty()) {
        return;
    }
    super::private_ecs::check(c, bp);
}

#[cfg(test)]
mod tests {
    use super::{fargate_memory, matcher_ok};

    #[test]
    fn fargate_sizes() {
        assert_eq!(fargate_memory(256), Some(vec![512, 1024, 2048]));
        assert!(fargate_memory(512).unwrap().contains(&1024));
        assert!(!fargate_memory(512).unwrap().contains(&512));
        assert!(fargate_memory(4096).unwrap().contains(&30720));
        assert!(!fargate_memory(8192).unwrap().contains(&18432));
        assert!(fargate_memory(8192).unwrap().contains(&20480));
        assert!(fargate_memory(16384).unwrap().contains(&122_880));
        assert_eq!(fargate_memory(300), None);
    }

    #[test]
    fn matchers() {
        assert!(matcher_ok("200"));
        assert!(matcher_ok("200,202"));
        assert!(matcher_ok("200-299"));
        assert!(!matcher_ok("500"));
        assert!(!matcher_ok("ok"));
        assert!(!matcher_ok("299-200"));
    }
}
