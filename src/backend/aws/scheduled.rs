//! Scheduled jobs on ECS Fargate (`jobs:`): per job, the task a service would have — its
//! log group, execution and task roles, task definition and security group, built by the
//! services' builders in `ecs.rs` from the job's pod ([`crate::blueprint::job::Job::pod`]) —
//! and an EventBridge Scheduler schedule that runs it:
//!
//! - `schedule_expression`: the blueprint's five cron fields as EventBridge's six
//!   (`crate::blueprint::cron::aws`), read in `schedule_expression_timezone`;
//! - `flexible_time_window` off: the run starts at its time;
//! - the target is the cluster, with `ecs_parameters` for one Fargate task in the private
//!   subnets, in the job's own security group (which the data services it uses admit, as
//!   they admit services': `security.rs` reads the users of each component from
//!   [`crate::blueprint::Blueprint::workloads`]), without a public IP;
//! - a retry policy: `retries` attempts to start the run within `starting_deadline`;
//! - encryption with a customer-managed key (`alias/<prefix>-scheduler`);
//! - a schedule group of the stack's own (`<prefix>`), so the scheduler's metrics count
//!   exactly these schedules: `observability.rs` alarms when a run is dropped after its
//!   retries and reports task runs that fail ([`failed_runs_pattern`]);
//! - a role only EventBridge Scheduler of this account may assume, allowed `ecs:RunTask` on
//!   the job's task definition family in this cluster, tagging the task it starts,
//!   `kms:Decrypt` of its own schedule, and `iam:PassRole` on exactly the task's two roles.
//!
//! EventBridge Scheduler starts a run at every tick, whatever still runs, and ECS has no task
//! timeout: validation refuses `concurrency: Forbid`/`Replace` and `active_deadline` on ECS
//! (`crate::semantic`), and a job that gives no `concurrency` is noted.

use crate::json;
use crate::tpl;

use super::Ctx;
use super::ecs;
use super::iam::policy;
use super::kms;
use super::network::subnet_ids;
use crate::blueprint::cron;
use crate::blueprint::job::{DEFAULT_RETRIES, Job};
use crate::blueprint::types::Network;
use crate::terraform::{Json, Module, Ref, ident, res};

/// How long the scheduler keeps trying to start a run when the job gives no
/// `starting_deadline`.
const DEFAULT_EVENT_AGE: u32 = 3600;

pub fn schedule(job: &str) -> Ref {
    res("aws_scheduler_schedule", job)
}

/// The stack's schedule group, named after the stack (`<prefix>`): EventBridge Scheduler
/// publishes its metrics per group, so an alarm on the group watches these schedules only.
pub fn schedule_group() -> Ref {
    res("aws_scheduler_schedule_group", "jobs")
}

/// The event pattern of a job run that failed: an ECS task of one of the jobs' task
/// definition families, in this cluster, stopped with a container exiting non-zero or
/// without starting at all. A run that ends well stops with exit code 0 and is not matched.
pub fn failed_runs_pattern(ctx: &Ctx) -> Json {
    let families: Vec<Json> = ctx
        .v
        .bp
        .jobs
        .iter()
        .map(|j| {
            json!({"prefix": tpl!(
                "arn:aws:ecs:", ctx.region, ":", ctx.account_id(), ":task-definition/", j.name, ":"
            )})
        })
        .collect();
    Json::encoded(json!({
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [ecs::cluster().arn()],
            "lastStatus": ["STOPPED"],
            "taskDefinitionArn": families,
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }))
}

/// The key the schedules are encrypted with (their target and its parameters).
fn key() -> Ref {
    res("aws_kms_key", "scheduler")
}

pub fn lower(ctx: &Ctx, m: &mut Module, net: &Network) {
    let bp = ctx.v.bp;
    if bp.jobs.is_empty() {
        return;
    }
    kms::key(
        ctx,
        m,
        "scheduler",
        &format!("EventBridge Scheduler schedules of {}", ctx.prefix),
        vec![],
    );
    m.file("scheduler").resource(
        &schedule_group(),
        json!({"name": &ctx.prefix, "tags": {"Name": &ctx.prefix}}),
    );
    for job in &bp.jobs {
        lower_job(ctx, m, net, job);
    }
    ctx.mark("jobs");
}

fn lower_job(ctx: &Ctx, m: &mut Module, net: &Network, job: &Job) {
    let s = job.pod();
    let n = ident(&s.name);
    let group = res("aws_cloudwatch_log_group", &format!("ecs_{n}"));
    m.file("ecs").resource(
        &group,
        json!({
            "name": ecs::log_group_name(s),
            "retention_in_days": ecs::retention(ctx),
            "kms_key_id": res("aws_kms_key", "logs").arn(),
            "tags": {"job": &s.name},
        }),
    );
    let wired = ecs::wired(ctx, s);
    let (execution, task_role) = ecs::roles(ctx, m, s, &group, &wired);
    let td = ecs::task_definition(ctx, m, s, &group, &execution, &task_role, wired);
    let reachable: Vec<&String> = s
        .uses
        .iter()
        .filter(|u| m.declares(&res("aws_security_group", u).address()))
        .map(|u| &u.name)
        .collect();
    let sg = ecs::service_security_group(ctx, m, s, false, &reachable);

    let name = format!("{}-{}", ctx.prefix, s.name);
    let role = res("aws_iam_role", &format!("{n}_scheduler"));
    let role_policy = res("aws_iam_role_policy", &format!("{n}_scheduler"));
    let family_arn = tpl!(
        "arn:aws:ecs:",
        ctx.region,
        ":",
        ctx.account_id(),
        ":task-definition/",
        s.name
    );
    let trust = policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        // Only schedules of this account may use the role (confused-deputy guard).
        "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id()}},
    })]);
    let statements = vec![
        json!({
            "Sid": "RunOwnTask",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": [tpl!(family_arn, ":*"), family_arn],
            "Condition": {"ArnEquals": {"ecs:cluster": ecs::cluster().arn()}},
        }),
        // The task is started with ECS-managed and propagated tags.
        json!({
            "Sid": "TagStartedTask",
            "Effect": "Allow",
            "Action": "ecs:TagResource",
            "Resource": tpl!("arn:aws:ecs:", ctx.region, ":", ctx.account_id(), ":task/", ctx.cluster_name(), "/*"),
            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        }),
        // The schedule is encrypted with the scheduler key; the scheduler decrypts it as
        // this role when it runs, and only this schedule (encryption context).
        json!({
            "Sid": "DecryptOwnSchedule",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key().arn(),
            "Condition": {"ArnEquals": {
                "kms:EncryptionContext:aws:scheduler:schedule:arn": tpl!("arn:aws:scheduler:", ctx.region, ":", ctx.account_id(), ":schedule/", ctx.prefix, "/", name),
            }},
        }),
        json!({
            "Sid": "PassTaskRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [execution.arn(), task_role.arn()],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        }),
    ];
    let f = m.file("scheduler");
    f.resource(
        &role,
        json!({
            "name": format!("{}-{}-scheduler", ctx.prefix, s.name),
            "description": format!("EventBridge Scheduler for job {}: runs its ECS task", s.name),
            "assume_role_policy": trust,
        }),
    )
    .resource(
        &role_policy,
        json!({
            "name": "run-task",
            "role": role.id(),
            "policy": policy(statements),
        }),
    );

    // Validation proved the schedule parses and translates.
    let expression = cron::parse(&job.schedule)
        .and_then(|c| cron::aws(&c))
        .unwrap_or_default();
    if job.concurrency.is_none() {
        ctx.note(format!(
            "job `{}`: EventBridge Scheduler starts a task at every tick, even while the previous run still runs (set `concurrency: Allow` to say the job may overlap)",
            s.name
        ));
    }
    let mut body = json!({
        "name": name,
        // A reference, so the group exists first; its name is `ctx.prefix`.
        "group_name": schedule_group().attr("name"),
        "kms_key_arn": key().arn(),
        "schedule_expression": expression,
        "schedule_expression_timezone": job.timezone(),
        "state": if job.suspend { "DISABLED" } else { "ENABLED" },
        "flexible_time_window": {"mode": "OFF"},
        "target": {
            "arn": ecs::cluster().arn(),
            "role_arn": role.arn(),
            "ecs_parameters": {
                "task_definition_arn": td.arn(),
                "task_count": 1,
                "launch_type": "FARGATE",
                "platform_version": "LATEST",
                "enable_ecs_managed_tags": true,
                "propagate_tags": "TASK_DEFINITION",
                "enable_execute_command": false,
                "network_configuration": {
                    "subnets": subnet_ids(net, "private"),
                    "security_groups": [sg.id()],
                    "assign_public_ip": false,
                },
            },
            "retry_policy": {
                "maximum_retry_attempts": job.retries.unwrap_or(DEFAULT_RETRIES),
                "maximum_event_age_in_seconds": job.starting_deadline.unwrap_or(DEFAULT_EVENT_AGE),
            },
        },
        // The role may run the task before the first tick.
        "depends_on": [role_policy.address()],
    });
    if let Some(d) = &job.description {
        body["description"] = json!(d);
    }
    f.resource(&schedule(&s.name), body);
    m.file("outputs").output(
        &format!("{}_schedule_name", s.name),
        schedule(&s.name).attr("name"),
        &format!("EventBridge Scheduler schedule of job {}", s.name),
    );
}
