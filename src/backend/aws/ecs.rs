//! ECS on Fargate: the cluster (Container Insights, ECS Exec sessions encrypted and logged),
//! its capacity providers, and per service: a log group, a task execution role and a
//! separate task role, a task definition whose container definitions are serialized with
//! typed trees (references as typed templates, plain text escaped by the renderer), a
//! security group chained to the load balancer and the data services the service uses,
//! the service itself, and Application Auto Scaling (target tracking on CPU, memory and
//! requests per target, plus scheduled actions).
//!
//! Hardening is literal: read-only root filesystem, a non-root user, not privileged, all
//! Linux capabilities dropped, no public IP, `platform_version = "LATEST"`.

use crate::blueprint::types::Strategy;
use std::collections::BTreeMap;

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::connect::{self, Resolved, Source};
use super::edge;
use super::iam::{assume_role, policy};
use super::kms;
use super::network::subnet_ids;
use super::secrets;
use super::security::{self, sg_name};
use super::{cache, database};
use crate::blueprint::types::Service;
use crate::terraform::{Expr, Module, Ref, ident, res};
use crate::tpl;
use crate::wiring::Binding;

/// Task size when the blueprint gives none: the smallest Fargate size.
const DEFAULT_TASK: (u32, u32) = (256, 512);

pub fn cluster() -> Ref {
    res("aws_ecs_cluster", "main")
}

pub fn service(name: &str) -> Ref {
    res("aws_ecs_service", name)
}

/// The ECS service name (`service_name`, default the service's name).
pub fn service_name(s: &Service) -> &str {
    s.service_name.as_deref().unwrap_or(&s.name)
}

fn container_name(s: &Service) -> &str {
    s.container_name.as_deref().unwrap_or(&s.name)
}

pub(super) fn log_group_name(s: &Service) -> String {
    s.log_group
        .clone()
        .unwrap_or_else(|| format!("/ecs/{}", s.name))
}

pub(super) fn retention(ctx: &Ctx) -> u32 {
    ctx.v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days)
}

/// A volume name for a path: `/var/cache/nginx` → `var-cache-nginx`. Not one to one (`/var/a-b`
/// and `/var/a/b` give the same): [`unique_volume_names`] makes names of several paths apart.
pub(super) fn volume_name(path: &str) -> String {
    let name = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>();
    if name.is_empty() { "root".into() } else { name }
}

/// Task volume names for `paths` (each once, in order): `<prefix><volume_name>`, where two
/// paths of the same name (`/var/a-b`, `/var/a/b`) would share one volume and each show the
/// other's files. A name that two paths share, or that is `reserved` (the task's other
/// volumes), gets the path's position in front (`<prefix>1-var-a-b`), again while that is
/// taken; the others keep theirs.
pub(super) fn unique_volume_names<'a>(
    prefix: &str,
    paths: &[&'a str],
    reserved: &std::collections::BTreeSet<String>,
) -> Vec<(&'a str, String)> {
    let mut unique: Vec<&str> = Vec::new();
    for p in paths {
        if !unique.contains(p) {
            unique.push(p);
        }
    }
    let base = |p: &str| format!("{prefix}{}", volume_name(p));
    let mut count: std::collections::BTreeMap<String, usize> = Default::default();
    for p in &unique {
        *count.entry(base(p)).or_default() += 1;
    }
    let mut taken: std::collections::BTreeSet<String> = reserved.clone();
    taken.extend(
        count
            .iter()
            .filter(|(b, n)| **n == 1 && !reserved.contains(*b))
            .map(|(b, _)| b.clone()),
    );
    unique
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let b = base(p);
            if count[&b] == 1 && !reserved.contains(&b) {
                return (p, b);
            }
            let mut rest = format!("{i}-{}", volume_name(p));
            while !taken.insert(format!("{prefix}{rest}")) {
                rest = format!("{i}-{rest}");
            }
            (p, format!("{prefix}{rest}"))
        })
        .collect()
}

/// The task volumes of `s`'s writable paths (`security.writable_paths`), named apart
/// ([`unique_volume_names`]) and apart from the database CA's volume.
pub(super) fn writable_volumes(s: &Service) -> Vec<(&str, String)> {
    let paths: Vec<&str> = s
        .security
        .writable_paths
        .iter()
        .map(String::as_str)
        .collect();
    let reserved = [super::sidecars::CA_VOLUME.to_string()].into();
    unique_volume_names("", &paths, &reserved)
}

/// The ECR repository ARN an ECR image is pulled from: the repository resource when the
/// output creates it (`registry.repositories`), else the ARN spelled from the image URL.
fn ecr_repository_arn(ctx: &Ctx, image: &str) -> Option<Expr> {
    if let Some((repo, _)) = super::registry::created_repository(ctx, image) {
        return Some(repo.arn());
    }
    let ecr = super::registry::parse_ecr_image(image)?;
    Some(Expr::lit(&format!(
        "arn:aws:ecr:{}:{}:repository/{}",
        ecr.region, ecr.account, ecr.repository
    )))
}

/// The image the task runs: an image in a repository the output creates is pulled from that
/// repository's URL (in the account applied to), keeping the blueprint's tag or digest.
pub(super) fn task_image(ctx: &Ctx, image: &str) -> Expr {
    match super::registry::created_repository(ctx, image) {
        Some((repo, reference)) => tpl!(repo.attr("repository_url"), reference),
        None => Expr::lit(image),
    }
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    let Some(cl) = &bp.cluster else { return };
    let cluster_name = ctx.cluster_name();
    kms::key(
        ctx,
        m,
        "ecs",
        &format!("ECS Exec session encryption for {cluster_name}"),
        vec![],
    );
    let exec_logs = res("aws_cloudwatch_log_group", "ecs_exec");
    let c = cluster();
    m.file("ecs")
        .resource(
            &exec_logs,
            json!({
                "name": format!("/aws/ecs/{cluster_name}/exec"),
                "retention_in_days": retention(ctx),
                "kms_key_id": res("aws_kms_key", "logs").arn(),
            }),
        )
        .resource(
            &c,
            json!({
                "name": &cluster_name,
                "setting": [{
                    "name": "containerInsights",
                    "value": if cl.container_insights() { "enabled" } else { "disabled" },
                }],
                "configuration": {"execute_command_configuration": {
                    "kms_key_id": res("aws_kms_key", "ecs").arn(),
                    "logging": "OVERRIDE",
                    "log_configuration": {
                        "cloud_watch_encryption_enabled": true,
                        "cloud_watch_log_group_name": exec_logs.attr("name"),
                    },
                }},
                "tags": {"Name": cluster_name},
            }),
        )
        .resource(
            &res("aws_ecs_cluster_capacity_providers", "main"),
            json!({
                "cluster_name": c.attr("name"),
                "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
                "default_capacity_provider_strategy": [
                    {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                ],
            }),
        );
    m.file("outputs").output(
        "ecs_cluster_name",
        c.attr("name"),
        "Name of the ECS cluster",
    );
    ctx.mark("cluster");

    let Some(net) = &bp.network else {
        if !bp.services.is_empty() {
            ctx.note("services: no `network`, so no ECS services (tasks need private subnets)");
        }
        return;
    };
    let by_name: std::collections::HashMap<&str, &Service> =
        bp.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let attachments = edge::attachments(ctx);
    // What each service needs to know of the module (whether it sits behind the load
    // balancer, which of its data services have a security group, which services it uses)
    // is settled first, so the services can then be lowered independently, on several
    // threads for a large stack.
    // (service, what attaches its target group when it is behind the load balancer, its data
    // services with a security group, the services it uses)
    type Job<'a> = (
        &'a Service,
        Option<&'a [Ref]>,
        Vec<&'a String>,
        Vec<&'a Service>,
    );
    let jobs: Vec<Job> = bp
        .services
        .iter()
        .map(|s| {
            let reachable = s
                .uses
                .iter()
                .filter(|u| m.declares(&res("aws_security_group", u).address()))
                .map(|u| &u.name)
                .collect();
            let servers = s
                .uses
                .iter()
                .filter_map(|u| by_name.get(u.as_str()).copied());
            let attached = attachments.get(&s.name).map(Vec::as_slice);
            (s, attached, reachable, servers.collect())
        })
        .collect();
    // What the services' first deployments need, read once for every service.
    super::readiness::declare(ctx, m);
    super::service_connect::declare(ctx, m);
    super::peers::declare(ctx, m);
    super::ecs_deployments::declare(ctx, m);
    crate::backend::lower_in_parts(m, &jobs, |part, (s, behind_lb, reachable, servers)| {
        lower_service(ctx, part, s, net, (*behind_lb, reachable, servers));
    });
    if !bp.services.is_empty() {
        ctx.mark("services");
    }
}

fn lower_service(
    ctx: &Ctx,
    m: &mut Module,
    s: &Service,
    net: &crate::blueprint::types::Network,
    (attached, reachable, servers): (Option<&[Ref]>, &[&String], &[&Service]),
) {
    let behind_lb = attached.is_some();
    let n = ident(&s.name);
    let group = res("aws_cloudwatch_log_group", &format!("ecs_{n}"));
    m.file("ecs").resource(
        &group,
        json!({
            "name": log_group_name(s),
            "retention_in_days": retention(ctx),
            "kms_key_id": res("aws_kms_key", "logs").arn(),
            "tags": {"service": &s.name},
        }),
    );
    let wired = wired(ctx, s);
    let (execution, task_role) = roles(ctx, m, s, &group, &wired);
    let td = task_definition(ctx, m, s, &group, &execution, &task_role, wired);
    let sg = service_security_group(ctx, m, s, behind_lb, reachable);

    let svc = service(&s.name);
    // `recreate`: ECS stops the running tasks first (no healthy minimum) and never runs more
    // than the desired count, so two tasks of a singleton never overlap.
    let (healthy, max) = if s.rollout.strategy == Strategy::Recreate {
        (0, 100)
    } else {
        (100, 200)
    };
    let mut depends = vec![res("aws_iam_role_policy", &format!("{n}_execution")).address()];
    let mut body = json!({
        "name": service_name(s),
        "cluster": cluster().arn(),
        "task_definition": td.arn(),
        "desired_count": s.replicas,
        "launch_type": "FARGATE",
        "platform_version": "LATEST",
        "scheduling_strategy": "REPLICA",
        "network_configuration": {
            "subnets": subnet_ids(net, "private"),
            "security_groups": [sg.id()],
            "assign_public_ip": false,
        },
        "deployment_controller": {"type": "ECS"},
        "deployment_circuit_breaker": {
            "enable": s.rollout.circuit_breaker.unwrap_or(true),
            "rollback": s.rollout.circuit_breaker.unwrap_or(true),
        },
        "deployment_minimum_healthy_percent": s.rollout.min_healthy_percent.unwrap_or(healthy),
        "deployment_maximum_percent": s.rollout.max_percent.unwrap_or(max),
        "availability_zone_rebalancing": "ENABLED",
        "enable_execute_command": false,
        "enable_ecs_managed_tags": true,
        "propagate_tags": "SERVICE",
        "wait_for_steady_state": false,
        "tags": {"Name": service_name(s)},
    });
    // Autoscaling owns the task count after creation. Without it the blueprint's `replicas`
    // does: ignored, a new count would never be applied.
    if s.autoscaling.is_some() {
        body["lifecycle"] = json!({"ignore_changes": ["desired_count"]});
    }
    if behind_lb {
        body["load_balancer"] = json!([{
            "target_group_arn": edge::target_group(&s.name).arn(),
            "container_name": container_name(s),
            "container_port": s.port,
        }]);
        body["health_check_grace_period_seconds"] = json!(s.grace_period.unwrap_or(60));
        // The target group must be attached to the load balancer (by the listener's default
        // action or a rule) before the service uses it.
        depends.extend(attached.unwrap_or_default().iter().map(Ref::address));
    }
    super::service_connect::configure(ctx, m, s, servers, &mut body, &mut depends);
    // `peer_ports`: a DNS name for every task, and the tasks admitted to each other.
    super::peers::configure(m, s, &sg, &mut body);
    // `rollout.strategy: blue_green | canary`: ECS's own deployments.
    super::ecs_deployments::configure(ctx, s, behind_lb, &mut body, &mut depends);
    body["depends_on"] = Json::from(depends);
    // Refused until its secrets have values and its images are pushed (`readiness.rs`).
    let conditions = super::readiness::conditions(ctx, s);
    if !conditions.is_empty() {
        body["lifecycle"]["precondition"] = Json::from(conditions);
    }
    m.file("ecs").resource(&svc, body);

    autoscaling(ctx, m, s, behind_lb);

    m.file("outputs").output(
        &format!("{}_service_name", s.name),
        svc.attr("name"),
        &format!("ECS service of {}", s.name),
    );
    // The exact revision a release step runs before the service rolls to it
    // (docs/release.md, "ECS Fargate"): `run-task --task-definition <family>` would take the
    // family's latest ACTIVE revision, which another stack in the account may have
    // registered (the family is the service's name).
    m.file("outputs").output(
        &format!("{}_task_definition_arn", s.name),
        td.arn(),
        &format!(
            "Task definition revision of {} (what `aws ecs run-task` runs for a migration)",
            s.name
        ),
    );
}

/// The connection variables of a service's (or a job's) task, resolved once: the execution
/// role is granted exactly the credentials the task definition reads.
pub(super) fn wired<'a>(ctx: &Ctx<'a>, s: &'a Service) -> Vec<(Binding<'a>, Resolved)> {
    for (missing, set, component) in connect::half_set_credentials(ctx, s) {
        ctx.note(crate::diagnostic::Note::warning(
            "credentials-half-set",
            format!(
                "`{}` sets {set} itself, so `uses: {component}` leaves its other credentials to it too, but it does not set {missing}: the task starts without it and cannot log in to {component}; set {missing} as well, or drop {set} to get both from {component}",
                s.name
            ),
        ));
    }
    let all = connect::bindings(ctx, s);
    let mut list: Vec<(Binding, Resolved)> = all
        .iter()
        .filter_map(|b| {
            let r = connect::resolve_in(ctx, &all, b, connect::In::Infra)?;
            Some((b.clone(), r))
        })
        .collect();
    // `uses[].env`: the same value or `valueFrom` under another name.
    crate::wiring::alias::copy(
        s,
        &mut list,
        |(b, _)| &b.var,
        |(b, r), var| {
            let mut b = b.clone();
            b.var = var.to_string();
            (b, r.clone())
        },
    );
    list
}

/// The execution role (pull the image, write the log group, read the service's secrets) and
/// the task role (the application's own AWS permissions: none unless the blueprint grants
/// some). Both trust only ECS tasks of this account.
pub(super) fn roles(
    ctx: &Ctx,
    m: &mut Module,
    s: &Service,
    group: &Ref,
    wired: &[(Binding, Resolved)],
) -> (Ref, Ref) {
    let n = ident(&s.name);
    let execution = res("aws_iam_role", &format!("{n}_execution"));
    let task = res("aws_iam_role", &format!("{n}_task"));
    // The task role trusts only tasks of this account and region (confused-deputy guard, as
    // the ECS guide shows for task roles); the execution role keeps the documented plain trust.
    let task_trust = policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ctx.account_id()},
            "ArnLike": {"aws:SourceArn": tpl!("arn:aws:ecs:", ctx.region, ":", ctx.account_id(), ":*")},
        },
    })]);
    let mut statements = vec![json!({
        "Sid": "WriteOwnLogGroup",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": tpl!(group.arn(), ":*"),
    })];
    // Exactly the secrets and parameters the task's `secrets` name, and the keys that
    // encrypt them (decrypt only through the service that holds them).
    let mut secret_arns: Vec<Expr> = s
        .secret_env
        .iter()
        .map(|e| secrets::secret(&e.secret).arn())
        .collect();
    // The registry login of a private image outside ECR (`repositoryCredentials`).
    secret_arns.extend(s.image_credentials.iter().map(|n| secrets::secret(n).arn()));
    let mut parameter_arns: Vec<Expr> = Vec::new();
    let mut keys: Vec<(Expr, &str)> = Vec::new();
    if !s.secret_env.is_empty() || s.image_credentials.is_some() {
        keys.push((secrets::key().arn(), "secretsmanager"));
    }
    for (b, r) in wired {
        if let Resolved::Credential(src) = r {
            match src {
                Source::Secret { arn, .. } => secret_arns.push(arn.clone()),
                Source::Parameter { arn } => parameter_arns.push(arn.clone()),
            }
            keys.extend(connect::key_of(ctx, b));
        }
    }
    for list in [&mut secret_arns, &mut parameter_arns] {
        list.sort();
        list.dedup();
    }
    keys.sort();
    keys.dedup();
    if !secret_arns.is_empty() {
        statements.push(json!({
            "Sid": "ReadOwnSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arns,
        }));
    }
    if !parameter_arns.is_empty() {
        statements.push(json!({
            "Sid": "ReadOwnParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": parameter_arns,
        }));
    }
    statements.extend(super::iam::decrypt_via(
        &keys,
        &ctx.region,
        [
            "DecryptSecretsThroughSecretsManager",
            "DecryptParametersThroughSsm",
        ],
    ));
    // The app's image and its init containers' and sidecars', and the volume-setup
    // container's when the task gets one and it is in ECR (`providers.aws.setup_image`).
    let setup = has_volume_setup(ctx, s).then(|| crate::wiring::setup_image::setup_image(ctx.v.bp));
    let mut repos: Vec<Expr> = task_images(ctx, s)
        .into_iter()
        .filter_map(|i| ecr_repository_arn(ctx, i))
        .collect();
    // A setup image in an ECR pull through cache (ECR Public mirrored, AWS's suggestion for
    // public images behind VPC endpoints) is imported on its first pull by the principal
    // pulling it, which needs `ecr:BatchImportUpstreamImage`, and `ecr:CreateRepository`
    // while the cache's repository does not exist yet
    // (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html>).
    // Scoped to that one repository; on a plain repository they grant nothing more.
    let import = setup
        .filter(|i| super::registry::created_repository(ctx, i).is_none())
        .and_then(|i| ecr_repository_arn(ctx, i));
    repos.sort();
    repos.dedup();
    if !repos.is_empty() {
        let repo = if repos.len() == 1 {
            Json::from(repos.remove(0))
        } else {
            Json::from(repos)
        };
        statements.push(json!({
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        }));
        statements.push(json!({
            "Sid": "PullOwnImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            "Resource": repo,
        }));
    }
    if let Some(arn) = import {
        statements.push(json!({
            "Sid": "ImportSetupImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            "Resource": arn,
        }));
    }
    m.file("ecs")
        .resource(
            &execution,
            json!({
                // IAM role names have at most 64 characters.
                "name": crate::naming::fit(&format!("{}-{}-execution", ctx.prefix, s.name), 64),
                "description": format!("ECS agent for {}: pulls the image, writes its log group, reads its secrets", s.name),
                "assume_role_policy": assume_role("ecs-tasks.amazonaws.com"),
            }),
        )
        .resource(
            &res("aws_iam_role_policy", &format!("{n}_execution")),
            json!({
                "name": "pull-log-read-secrets",
                "role": execution.id(),
                "policy": policy(statements),
            }),
        )
        .resource(
            &task,
            // The description predates SQS queues (also granted below); kept, so existing
            // roles see no update.
            json!({
                "name": crate::naming::fit(&format!("{}-{}-task", ctx.prefix, s.name), 64),
                "description": format!("Application role of {}: read/write on exactly the tables and buckets it uses", s.name),
                "assume_role_policy": task_trust,
            }),
        );
    let data = super::identity::data_statements(
        ctx,
        m,
        &used(ctx, s, "tables"),
        &used(ctx, s, "buckets"),
        &used(ctx, s, "queues"),
    );
    if !data.is_empty() {
        m.file("ecs").resource(
            &res("aws_iam_role_policy", &format!("{n}_task")),
            json!({
                "name": "tables-and-buckets",
                "role": task.id(),
                "policy": policy(data),
            }),
        );
    }
    let peers = super::peers::peer_statements(ctx, s);
    if !peers.is_empty() {
        m.file("ecs").resource(
            &res("aws_iam_role_policy", &format!("{n}_task_peers")),
            json!({
                "name": "find-peer-tasks",
                "role": task.id(),
                "policy": policy(peers),
            }),
        );
    }
    (execution, task)
}

/// The connection variables of the components the service uses (`crate::wiring`), as
/// `wired` resolved them: plain values for `environment`, and (variable, `valueFrom`) for
/// `secrets`.
fn connections(wired: Vec<(Binding, Resolved)>) -> (BTreeMap<String, Expr>, Vec<(String, Expr)>) {
    let mut env = BTreeMap::new();
    let mut secret = Vec::new();
    for (b, r) in wired {
        match r {
            Resolved::Text(t) => {
                env.insert(b.var, t);
            }
            Resolved::Credential(src) => secret.push((b.var, value_from(&src))),
        }
    }
    (env, secret)
}

/// The tables, SQS queues or buckets (`list`) service `s` uses.
fn used(ctx: &Ctx, s: &Service, list: &str) -> std::collections::BTreeSet<String> {
    let bp = ctx.v.bp;
    s.uses
        .iter()
        .filter(|u| match list {
            "tables" => bp.tables.iter().any(|t| t.name == u.name),
            "queues" => bp.sqs_queues().any(|q| q.name == u.name),
            _ => bp.buckets.iter().any(|b| b.name == u.name),
        })
        .map(|u| u.name.clone())
        .collect()
}

/// An ECS `valueFrom`: a secret's ARN with its JSON key (`arn:key::`), or a parameter's ARN.
fn value_from(src: &Source) -> Expr {
    match src {
        Source::Secret { arn, key: Some(k) } => tpl!(arn, ":", k, "::"),
        Source::Secret { arn, key: None } => arn.clone(),
        Source::Parameter { arn } => arn.clone(),
    }
}

/// The container's port, named when Service Connect publishes it (the service's
/// configuration points at it by that name). A gRPC service's published port says
/// `appProtocol: grpc`, which the API documents as adding "protocol-specific connection
/// handling" to the Service Connect proxy (an HTTP/2 proxy, so a client's one long-lived
/// connection does not pin all its calls to one task) and gRPC telemetry.
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html>
fn port_mappings(ctx: &Ctx, s: &Service) -> Vec<Json> {
    let Some(p) = s.port else { return Vec::new() };
    let mut mapping = json!({"containerPort": p, "hostPort": p, "protocol": "tcp"});
    if super::service_connect::is_server(ctx, s) {
        mapping["name"] = json!(super::service_connect::port_name(s));
        if s.grpc() {
            mapping["appProtocol"] = json!("grpc");
        }
    }
    vec![mapping]
}

/// Whether the task of `s` gets the volume-setup container (`sidecars::volume_setup`): a
/// writable path, a configuration file, or a managed database's CA file (`connect::bindings` gives a `_CA_FILE`
/// only where the region's RDS bundle is vendored) — the condition [`task_definition`]
/// builds it on.
pub(super) fn has_volume_setup(ctx: &Ctx, s: &Service) -> bool {
    !s.security.writable_paths.is_empty()
        || !s.files.is_empty()
        || super::connect::bindings(ctx, s)
            .iter()
            .any(|b| b.value == crate::wiring::Value::Field(crate::wiring::Field::CaFile))
}

/// The images the task of `s` pulls: the app's, its init containers' and sidecars', and the
/// volume-setup container's when it gets one (`providers.aws.setup_image`).
pub(super) fn task_images<'a>(ctx: &Ctx<'a>, s: &'a Service) -> Vec<&'a str> {
    let setup = has_volume_setup(ctx, s).then(|| crate::wiring::setup_image::setup_image(ctx.v.bp));
    super::sidecars::images(s).chain(setup).collect()
}

/// The task's `runtimePlatform.cpuArchitecture`: `ARM64` (Graviton) for an image built for
/// `arm64`, else `X86_64` (API_RuntimePlatform: "You can run your Linux tasks on an
/// ARM-based platform by setting the value to ARM64 … Linux containers on Fargate"). A
/// container on the other one exits with `exec format error`.
fn cpu_architecture(s: &Service) -> &'static str {
    match s.architecture {
        Some(crate::blueprint::types::Architecture::Arm64) => "ARM64",
        _ => "X86_64",
    }
}

pub(super) fn task_definition(
    ctx: &Ctx,
    m: &mut Module,
    s: &Service,
    group: &Ref,
    execution: &Ref,
    task_role: &Ref,
    wired: Vec<(Binding, Resolved)>,
) -> Ref {
    // The managed databases whose CA files the task gets (`_CA_FILE`, `sidecars::volume_setup`).
    // Once each: a `uses[].env` alias of `ca_file` names the same file.
    let with_ca: Vec<String> = wired
        .iter()
        .filter(|(b, _)| b.value == crate::wiring::Value::Field(crate::wiring::Field::CaFile))
        .map(|(b, _)| b.component.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (mut env, from_uses) = connections(wired);
    // Replicas that cluster: the name resolving to every task (`peers.rs`).
    if let Some(var) = crate::wiring::peers::written_host_var(s) {
        env.insert(var, Expr::lit(&super::peers::host(ctx, s)));
    }
    // The blueprint's values win (plain text, never a reference).
    env.extend(s.env.iter().map(|(k, v)| (k.clone(), Expr::lit(v))));
    let environment: Vec<Json> = env
        .into_iter()
        .map(|(k, v)| json!({"name": (k), "value": (v)}))
        .collect();
    let mut all_secrets: Vec<(String, Expr)> = s
        .secret_env
        .iter()
        .map(|e| {
            let arn = secrets::secret(&e.secret).arn();
            let from = match &e.key {
                Some(k) => tpl!(arn, ":", k, "::"),
                None => arn,
            };
            (e.name.clone(), from)
        })
        .chain(from_uses)
        .collect();
    all_secrets.sort();
    let secrets_json: Vec<Json> = all_secrets
        .into_iter()
        .map(|(name, from)| json!({"name": (name), "valueFrom": (from)}))
        .collect();
    let user = match s.security.run_as_group {
        Some(g) => format!("{}:{g}", s.security.run_as_user),
        None => s.security.run_as_user.to_string(),
    };
    let mut container = json!({
        "name": container_name(s),
        "image": task_image(ctx, &s.image),
        "essential": true,
        "portMappings": port_mappings(ctx, s),
        "environment": environment,
        "secrets": secrets_json,
        "readonlyRootFilesystem": true,
        "privileged": false,
        "user": user,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": true},
        "mountPoints": (writable_volumes(s).into_iter().map(|(p, v)| json!({
            "sourceVolume": v,
            "containerPath": p,
            "readOnly": false,
        })).collect::<Vec<_>>()),
        "volumesFrom": [],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": group.attr("name"),
                "awslogs-region": &ctx.region,
                "awslogs-stream-prefix": "ecs",
            },
        },
    });
    if let Some(name) = &s.image_credentials {
        // A private registry outside ECR: the agent logs in with the secret's `username`
        // and `password`, read by the execution role (`roles`). Sidecars and init
        // containers of the same registry copy it (`sidecars::definition`).
        // <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html>
        container["repositoryCredentials"] =
            json!({"credentialsParameter": secrets::secret(name).arn()});
    }
    if let Some(port) = s.privileged_port() {
        // Non-root with every capability dropped: the bind below 1024 works only where the
        // task's network namespace lowers the unprivileged range (Fargate takes namespaced
        // `systemControls` from platform 1.4.0; in awsvpc mode they apply to every container
        // of the task).
        // <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_SystemControl.html>
        container["systemControls"] = json!([{
            "namespace": "net.ipv4.ip_unprivileged_port_start",
            "value": port.to_string(),
        }]);
    }
    if let Some(t) = s.stop_timeout {
        // Seconds between SIGTERM and SIGKILL (Fargate: default 30, at most 120, which
        // semantic checks), so a worker's warm shutdown finishes its current task.
        // <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html>
        container["stopTimeout"] = json!(t);
    }
    if !s.command.is_empty() {
        container["entryPoint"] = json!(&s.command);
    }
    if !s.args.is_empty() {
        container["command"] = json!(&s.args);
    }
    if let Some(h) = &s.health_check {
        let mut hc = json!({"command": &h.command});
        for (k, v) in [
            ("interval", h.interval),
            ("timeout", h.timeout),
            ("retries", h.retries),
            ("startPeriod", h.start_period),
        ] {
            if let Some(v) = v {
                hc[k] = json!(v);
            }
        }
        container["healthCheck"] = hc;
    }
    let components: Vec<&str> = with_ca.iter().map(String::as_str).collect();
    let pem = super::connect::ca_bundle(ctx).filter(|_| !with_ca.is_empty());
    if pem.is_some()
        && let Json::Array(mounts) = &mut container["mountPoints"]
    {
        // Read only: the app and the containers that share its mounts only read them.
        mounts.push(json!({
            "sourceVolume": super::sidecars::CA_VOLUME,
            "containerPath": crate::wiring::CA_DIR,
            "readOnly": true,
        }));
    }
    if let Json::Array(mounts) = &mut container["mountPoints"] {
        mounts.extend(super::config_files::mounts(s));
    }
    // "Use bind mounts with Amazon ECS": an image's `VOLUME` contents are copied into the
    // bind mount (docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html).
    for dir in super::config_files::directories(s) {
        ctx.note(format!(
            "`{}`: on ECS Fargate `{dir}` holds only the blueprint's `files` (a task volume, filled before the app starts: Fargate mounts directories, not files); the image's other files there are hidden, unless the image declares `{dir}` a `VOLUME`: ECS then copies them into the task volume first, and the blueprint's files are written over those of the same name",
            s.name
        ));
    }
    let setup = super::sidecars::volume_setup(
        ctx,
        &container,
        s,
        pem.as_deref().map(|pem| (components.as_slice(), pem)),
    );
    // The app's container, then its init containers and sidecars (`sidecars.rs`).
    let definitions = Json::encoded(Json::from(super::sidecars::definitions(
        ctx, s, container, setup,
    )));
    let (cpu, memory) = s.task.as_ref().map_or(DEFAULT_TASK, |t| (t.cpu, t.memory));
    if s.task.is_none() {
        // A job's task is built here too (`scheduled.rs`).
        let what = if ctx.v.bp.jobs.iter().any(|j| j.name == s.name) {
            "job"
        } else {
            "service"
        };
        ctx.note(format!(
            "{what} `{}`: no `task` size, so the smallest Fargate size ({cpu} CPU units, {memory} MiB)",
            s.name
        ));
    }
    let mut volumes: Vec<String> = writable_volumes(s).into_iter().map(|(_, v)| v).collect();
    if pem.is_some() {
        volumes.push(super::sidecars::CA_VOLUME.to_string());
    }
    volumes.extend(super::config_files::volumes(s).into_iter().map(|(_, v)| v));
    volumes.sort();
    volumes.dedup();
    let td = res("aws_ecs_task_definition", &s.name);
    m.file("ecs").resource(
        &td,
        json!({
            "family": &s.name,
            "requires_compatibilities": ["FARGATE"],
            "network_mode": "awsvpc",
            "cpu": cpu.to_string(),
            "memory": memory.to_string(),
            "execution_role_arn": execution.arn(),
            "task_role_arn": task_role.arn(),
            "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": cpu_architecture(s)},
            "container_definitions": definitions,
            "volume": (volumes.iter().map(|v| json!({"name": v})).collect::<Vec<_>>()),
            // Keep earlier revisions registered so a rollback has something to go back to.
            "skip_destroy": true,
            "tags": {"service": &s.name},
        }),
    );
    td
}

/// The tasks' security group: in from the load balancer on the container port; out to the
/// data services the service uses (on their ports; `reachable` are those whose security
/// group the module declares), to HTTPS anywhere (ECR, Secrets Manager, CloudWatch Logs)
/// and to the blueprint's extra egress.
pub(super) fn service_security_group(
    ctx: &Ctx,
    m: &mut Module,
    s: &Service,
    behind_lb: bool,
    reachable: &[&String],
) -> Ref {
    let sg = security::service_sg(&s.name);
    let name = sg_name(ctx, &s.name);
    let n = ident(&s.name);
    let f = m.file("ecs");
    f.resource(
        &sg,
        json!({
            "name": &name,
            // One description whatever the port (or none, for a worker): a changed
            // description replaces the group (see `security::replaceable`); the rules say
            // which port.
            "description": format!("ECS tasks of {}: inbound only as its rules allow (the load balancer, if any), out to its data services and HTTPS", s.name),
            "vpc_id": ctx.vpc_id(),
            "tags": {"Name": name},
            "lifecycle": security::replaceable(),
        }),
    );
    if behind_lb {
        f.resource(
            &res(
                "aws_vpc_security_group_ingress_rule",
                &format!("{n}_from_alb"),
            ),
            json!({
                "security_group_id": sg.id(),
                "referenced_security_group_id": edge::lb_sg_of(edge::Edge::of(ctx, s)).id(),
                "ip_protocol": "tcp",
                "from_port": s.port,
                "to_port": s.port,
                "description": format!("Load balancer to {} tasks on {}", s.name, s.port.unwrap_or_default()),
            }),
        );
    }
    for &u in reachable {
        let target = res("aws_security_group", u);
        let port = if let Some(d) = database::managed(ctx).find(|d| &d.name == u) {
            (database::port(d), database::engine_title(d.engine))
        } else if let Some(c) = cache::managed(ctx).find(|c| &c.name == u) {
            (cache::port(c), cache::engine_title(c.engine))
        } else if ctx.v.bp.brokers().any(|q| &q.name == u) {
            (5671, "AMQPS")
        } else {
            continue;
        };
        let (rule, body) = security::peer_rule(
            true,
            &format!("{n}_to_{}", ident(u)),
            sg.id(),
            target.id(),
            port.0,
            format!("{} tasks to {} {u} on {}", s.name, port.1, port.0),
        );
        f.resource(&rule, body);
    }
    let mut egress: Vec<(String, u16, String)> = vec![(
        "0.0.0.0/0".into(),
        443,
        "HTTPS to AWS APIs (ECR, Secrets Manager, CloudWatch Logs)".into(),
    )];
    for e in &s.egress {
        for p in &e.ports {
            if !egress.iter().any(|(c, q, _)| c == &e.to && q == p) {
                egress.push((e.to.clone(), *p, format!("Egress to {} on {p}", e.to)));
            }
        }
    }
    for (cidr, port, description) in egress {
        let rule = if cidr == "0.0.0.0/0" {
            format!("{n}_to_anywhere_{port}")
        } else {
            format!("{n}_to_{}_{port}", ident(&cidr))
        };
        f.resource(
            &res("aws_vpc_security_group_egress_rule", &rule),
            json!({
                "security_group_id": sg.id(),
                "cidr_ipv4": cidr,
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": description,
            }),
        );
    }
    sg
}

fn autoscaling(ctx: &Ctx, m: &mut Module, s: &Service, behind_lb: bool) {
    let Some(a) = &s.autoscaling else { return };
    let n = ident(&s.name);
    let target = res("aws_appautoscaling_target", &s.name);
    let f = m.file("ecs");
    f.resource(
        &target,
        json!({
            "service_namespace": "ecs",
            "scalable_dimension": "ecs:service:DesiredCount",
            "resource_id": tpl!("service/", cluster().attr("name"), "/", service(&s.name).attr("name")),
            "min_capacity": a.min,
            "max_capacity": a.max,
        }),
    );
    let on_target = |extra: Json| {
        let mut body = json!({
            "policy_type": "TargetTrackingScaling",
            "service_namespace": target.attr("service_namespace"),
            "scalable_dimension": target.attr("scalable_dimension"),
            "resource_id": target.attr("resource_id"),
        });
        if let (Json::Object(b), Json::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        body
    };
    let cooldowns = |out: Option<u32>, inn: Option<u32>, mut cfg: Json| {
        if let Some(v) = out {
            cfg["scale_out_cooldown"] = json!(v);
        }
        if let Some(v) = inn {
            cfg["scale_in_cooldown"] = json!(v);
        }
        cfg
    };
    let up = a.scale_up.as_ref().and_then(|b| b.cooldown);
    let down = a.scale_down.as_ref().and_then(|b| b.cooldown);
    for (what, metric, value) in [
        ("cpu", "ECSServiceAverageCPUUtilization", a.cpu_percent),
        (
            "memory",
            "ECSServiceAverageMemoryUtilization",
            a.memory_percent,
        ),
    ] {
        let Some(value) = value else { continue };
        f.resource(
            &res("aws_appautoscaling_policy", &format!("{n}_{what}")),
            on_target(json!({
                "name": format!("{what}-scaling"),
                "target_tracking_scaling_policy_configuration": cooldowns(up, down, json!({
                    "target_value": value,
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                })),
            })),
        );
    }
    if let Some(r) = &a.requests {
        if behind_lb {
            f.resource(
                &res("aws_appautoscaling_policy", &format!("{n}_requests")),
                on_target(json!({
                    "name": "request-count-scaling",
                    "target_tracking_scaling_policy_configuration": cooldowns(r.scale_out_cooldown, r.scale_in_cooldown, json!({
                        "target_value": r.target,
                        "predefined_metric_specification": {
                            "predefined_metric_type": "ALBRequestCountPerTarget",
                            "resource_label": tpl!(edge::lb_of(edge::Edge::of(ctx, s)).attr("arn_suffix"), "/", edge::target_group(&s.name).attr("arn_suffix")),
                        },
                    })),
                })),
            );
        } else {
            ctx.note(format!(
                "service `{}`: `autoscaling.requests` needs the service behind the load balancer; not lowered",
                s.name
            ));
        }
    }
    if let Some(q) = &a.queue {
        // Backlog per task, as the Application Auto Scaling user guide's metric-math example
        // "Amazon SQS queue backlog per task": the queue's visible messages over the service's
        // running tasks (Container Insights, which `semantic::queue_scaling` requires), held
        // near `messages_per_task`. A raw queue depth would not do: target tracking assumes
        // the metric falls in proportion as tasks are added, which a queue's length does not.
        let stat = |id: &str, namespace: &str, metric: &str, stat: &str, dims: Json| {
            json!({
                "id": id,
                "return_data": false,
                "metric_stat": {
                    "stat": stat,
                    "metric": {"namespace": namespace, "metric_name": metric, "dimensions": dims},
                },
            })
        };
        f.resource(
            &res("aws_appautoscaling_policy", &format!("{n}_queue")),
            on_target(json!({
                "name": "queue-backlog-scaling",
                "target_tracking_scaling_policy_configuration": cooldowns(up, down, json!({
                    "target_value": q.messages_per_task,
                    "customized_metric_specification": {
                        "metrics": [
                            stat("messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Sum", json!([
                                {"name": "QueueName", "value": super::sqs::queue(&q.name, false).attr("name")},
                            ])),
                            stat("tasks", "ECS/ContainerInsights", "RunningTaskCount", "Average", json!([
                                {"name": "ClusterName", "value": cluster().attr("name")},
                                {"name": "ServiceName", "value": service(&s.name).attr("name")},
                            ])),
                            {
                                "id": "backlog_per_task",
                                "label": "Messages waiting per running task",
                                "expression": "messages / tasks",
                                "return_data": true,
                            },
                        ],
                    },
                })),
            })),
        );
    }
    for sch in &a.scheduled {
        f.resource(
            &res(
                "aws_appautoscaling_scheduled_action",
                &format!("{n}_{}", ident(&sch.name)),
            ),
            json!({
                "name": &sch.name,
                "service_namespace": target.attr("service_namespace"),
                "scalable_dimension": target.attr("scalable_dimension"),
                "resource_id": target.attr("resource_id"),
                "schedule": &sch.schedule,
                "timezone": "UTC",
                "scalable_target_action": {
                    "min_capacity": sch.min.to_string(),
                    "max_capacity": sch.max.to_string(),
                },
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_and_volume_names() {
        let parse = |i| {
            crate::backend::aws::registry::parse_ecr_image(i)
                .map(|e| (e.account, e.region, e.repository, e.reference))
        };
        assert_eq!(
            parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/qurable-api:1.0.0"),
            Some(("123456789012", "us-east-1", "qurable-api", ":1.0.0"))
        );
        assert_eq!(
            parse("1.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:abc"),
            Some(("1", "eu-west-1", "team/app", "@sha256:abc"))
        );
        assert_eq!(
            parse("1.dkr.ecr.eu-west-1.amazonaws.com/team/app"),
            Some(("1", "eu-west-1", "team/app", ""))
        );
        assert!(parse("ghcr.io/example/api:1.0.0").is_none());
        assert_eq!(volume_name("/tmp"), "tmp");
        assert_eq!(volume_name("/var/cache/nginx"), "var-cache-nginx");
    }
}
