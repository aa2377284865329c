//! Scheduled jobs (`jobs:`), read off the output as the cluster or AWS would:
//!
//! - Kubernetes: the CronJob's pod is hardened exactly like the services' Deployments' pods,
//!   runs as its own ServiceAccount, restarts failed runs in place, and the namespace quota
//!   counts its pods (networking and Secrets: `netpol.rs`, `connections.rs`);
//! - ECS: the schedule runs the job's own Fargate task in the private subnets in its own
//!   security group, which the database it uses admits; the scheduler's role trusts only
//!   EventBridge Scheduler of this account and may pass exactly the task's two roles.

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, root, synth};

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn cronjobs_are_hardened_like_deployments() {
    let out = synth(
        &root().join("tests/fixtures/workloads/jobs-k8s.yaml"),
        Provider::Kubernetes,
        "production",
    );
    let docs = manifests(&out);
    let api = &find(&docs, "Deployment", "api")["spec"]["template"]["spec"];
    for job in ["nightly-report", "tmp-sweeper"] {
        let cj = find(&docs, "CronJob", job);
        let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"], api["securityContext"], "{job}");
        assert_eq!(
            pod["containers"][0]["securityContext"], api["containers"][0]["securityContext"],
            "{job}"
        );
        assert_eq!(pod["automountServiceAccountToken"], false, "{job}");
        assert_eq!(pod["serviceAccountName"], job);
        find(&docs, "ServiceAccount", job);
        assert_eq!(pod["restartPolicy"], "OnFailure");
        let limits = &pod["containers"][0]["resources"]["limits"];
        assert!(
            limits["cpu"].is_string() && limits["memory"].is_string(),
            "{job}"
        );
        // The pods carry the label the network policies select.
        assert_eq!(
            cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]["app"],
            job
        );
    }
    let report = &find(&docs, "CronJob", "nightly-report")["spec"];
    assert_eq!(report["schedule"], "30 2 * * 1-5");
    assert_eq!(report["timeZone"], "Europe/Berlin");
    assert_eq!(report["concurrencyPolicy"], "Forbid");
    assert_eq!(report["startingDeadlineSeconds"], 600);
    assert_eq!(report["jobTemplate"]["spec"]["backoffLimit"], 3);
    assert_eq!(report["jobTemplate"]["spec"]["activeDeadlineSeconds"], 3600);
    let sweeper = &find(&docs, "CronJob", "tmp-sweeper")["spec"];
    assert_eq!(sweeper["concurrencyPolicy"], "Replace");
    assert_eq!(sweeper["successfulJobsHistoryLimit"], 1);
}

/// The quota counts the jobs' pods: 100m (api) + 100m (the pod api's rollout adds before
/// its only replica goes) + 250m (ledger-db) fit 700m, but not with the report's 250m and
/// the sweeper's 2 × 100m (`Replace`: the old run's pod is still counted while the new one
/// starts).
#[test]
fn the_quota_counts_job_pods() {
    let path = root().join("tests/fixtures/workloads/jobs-k8s.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let tight = text.replace(r#"requests.cpu: "2""#, "requests.cpu: 700m");
    assert_ne!(tight, text);
    let err = match infragen::synthesize(
        "jobs.yaml",
        tight.as_bytes(),
        Provider::Kubernetes,
        "production",
    ) {
        Ok(_) => panic!("the quota cannot hold the jobs' pods"),
        Err(d) => d.to_string(),
    };
    assert!(err.contains("needs 900m"), "{err}");
    assert!(err.contains("tmp-sweeper 2 × 100m"), "{err}");
    // Without the jobs, the same quota holds.
    let without = tight.split("\njobs:\n").next().unwrap();
    infragen::synthesize(
        "jobs.yaml",
        without.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
}

fn terraform(out: &infragen::Output, file: &str) -> Value {
    serde_json::from_str(&out.files[&format!("terraform/infra/{file}.tf.json")]).unwrap()
}

fn policy(v: &Value) -> Value {
    serde_json::from_str(v.as_str().unwrap()).unwrap()
}

#[test]
fn ecs_jobs_run_their_own_task_on_schedule() {
    let out = synth(
        &root().join("tests/fixtures/workloads/jobs-ecs.yaml"),
        Provider::Aws,
        "production",
    );
    let sched = terraform(&out, "scheduler");
    let ecs = terraform(&out, "ecs");
    let db = terraform(&out, "database");
    let s = &sched["resource"]["aws_scheduler_schedule"]["nightly_report"];
    assert_eq!(s["schedule_expression"], "cron(30 2 ? * MON-FRI *)");
    assert_eq!(s["schedule_expression_timezone"], "Europe/Berlin");
    assert_eq!(s["flexible_time_window"]["mode"], "OFF");
    let t = &s["target"];
    assert_eq!(t["arn"], "${aws_ecs_cluster.main.arn}");
    let p = &t["ecs_parameters"];
    assert_eq!(p["launch_type"], "FARGATE");
    assert_eq!(
        p["task_definition_arn"],
        "${aws_ecs_task_definition.nightly_report.arn}"
    );
    assert_eq!(p["network_configuration"]["assign_public_ip"], false);
    assert_eq!(
        p["network_configuration"]["security_groups"],
        serde_json::json!(["${aws_security_group.nightly_report_tasks.id}"])
    );
    assert!(
        p["network_configuration"]["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.as_str().unwrap().starts_with("${aws_subnet.private_"))
    );
    assert_eq!(t["retry_policy"]["maximum_retry_attempts"], 3);
    assert_eq!(t["retry_policy"]["maximum_event_age_in_seconds"], 600);

    // The task: Fargate, the job's roles, its secret by ARN, its connection variables.
    let td = &ecs["resource"]["aws_ecs_task_definition"]["nightly_report"];
    assert_eq!(
        td["requires_compatibilities"],
        serde_json::json!(["FARGATE"])
    );
    assert_eq!(td["network_mode"], "awsvpc");
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    let c = &defs[0];
    assert_eq!(c["readonlyRootFilesystem"], true);
    let names = |key: &str| -> Vec<String> {
        c[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names("secrets").contains(&"SMTP_PASSWORD".to_string()));
    assert!(names("secrets").contains(&"LEDGER_DB_PASSWORD".to_string()));
    assert!(names("environment").contains(&"LEDGER_DB_HOST".to_string()));

    // The scheduler's role: trusted by EventBridge Scheduler of this account only; runs the
    // job's family in this cluster; passes exactly the job's two roles.
    let role = &sched["resource"]["aws_iam_role"]["nightly_report_scheduler"];
    let trust = policy(&role["assume_role_policy"]);
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "scheduler.amazonaws.com"
    );
    assert!(trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"].is_string());
    let allowed =
        policy(&sched["resource"]["aws_iam_role_policy"]["nightly_report_scheduler"]["policy"]);
    let statement = |action: &str| {
        allowed["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == action)
            .unwrap_or_else(|| panic!("no {action}"))
            .clone()
    };
    let run = statement("ecs:RunTask");
    assert!(run["Resource"].as_array().unwrap().iter().all(|r| {
        r.as_str()
            .unwrap()
            .contains(":task-definition/nightly-report")
    }));
    assert_eq!(
        run["Condition"]["ArnEquals"]["ecs:cluster"],
        "${aws_ecs_cluster.main.arn}"
    );
    // Tags only the tasks it starts, in this cluster.
    let tag = statement("ecs:TagResource");
    assert!(
        tag["Resource"]
            .as_str()
            .unwrap()
            .ends_with(":task/batchy-production/*"),
        "{tag}"
    );
    assert_eq!(
        tag["Condition"]["StringEquals"]["ecs:CreateAction"],
        "RunTask"
    );
    // Encrypted with the scheduler key, which the role may use for this schedule only.
    assert_eq!(s["kms_key_arn"], "${aws_kms_key.scheduler.arn}");
    let decrypt = statement("kms:Decrypt");
    assert_eq!(decrypt["Resource"], "${aws_kms_key.scheduler.arn}");
    assert!(
        decrypt["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:scheduler:schedule:arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                ":schedule/batchy-production/{}",
                s["name"].as_str().unwrap()
            ))
    );
    assert_eq!(
        statement("iam:PassRole")["Resource"],
        serde_json::json!([
            "${aws_iam_role.nightly_report_execution.arn}",
            "${aws_iam_role.nightly_report_task.arn}"
        ])
    );

    // The database admits the job that uses it, and not the one that does not.
    let rules = db["resource"]["aws_vpc_security_group_ingress_rule"]
        .as_object()
        .unwrap();
    let from = |sg: &str| {
        rules.values().any(|r| {
            r["referenced_security_group_id"] == format!("${{aws_security_group.{sg}.id}}")
        })
    };
    assert!(from("nightly_report_tasks"));
    assert!(!from("tmp_sweeper_tasks"));
    assert!(ecs["resource"]["aws_security_group"]["tmp_sweeper_tasks"].is_object());
    // Jobs are not services: no ECS service keeps a task of theirs running.
    assert!(ecs["resource"]["aws_ecs_service"]["nightly_report"].is_null());
}

/// A job that does not run, or runs and fails, reaches the alert topic: the schedules sit
/// in the stack's own group, whose dropped runs raise an alarm, and an EventBridge rule
/// sends every failed run of the jobs' task families to the topic, which admits the rule
/// (and still CloudWatch's alarms) and whose key the rule's publisher may use.
#[test]
fn ecs_job_failures_reach_the_alert_topic() {
    let out = synth(
        &root().join("tests/fixtures/workloads/jobs-ecs.yaml"),
        Provider::Aws,
        "production",
    );
    let sched = terraform(&out, "scheduler");
    let obs = terraform(&out, "observability");
    let kms = terraform(&out, "kms");
    let group = &sched["resource"]["aws_scheduler_schedule_group"]["jobs"];
    assert_eq!(group["name"], "batchy-production");
    for job in ["nightly_report", "tmp_sweeper"] {
        assert_eq!(
            sched["resource"]["aws_scheduler_schedule"][job]["group_name"],
            "${aws_scheduler_schedule_group.jobs.name}"
        );
    }
    let dropped = &obs["resource"]["aws_cloudwatch_metric_alarm"]["jobs_dropped"];
    assert_eq!(dropped["namespace"], "AWS/Scheduler");
    assert_eq!(dropped["metric_name"], "InvocationDroppedCount");
    assert_eq!(
        dropped["dimensions"]["ScheduleGroup"],
        "${aws_scheduler_schedule_group.jobs.name}"
    );
    assert_eq!(
        dropped["alarm_actions"],
        serde_json::json!(["${aws_sns_topic.alerts.arn}"])
    );

    let rule = &obs["resource"]["aws_cloudwatch_event_rule"]["jobs_failed"];
    let pattern = policy(&rule["event_pattern"]);
    assert_eq!(pattern["source"], serde_json::json!(["aws.ecs"]));
    assert_eq!(
        pattern["detail"]["clusterArn"],
        serde_json::json!(["${aws_ecs_cluster.main.arn}"])
    );
    let families: Vec<&str> = pattern["detail"]["taskDefinitionArn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["prefix"].as_str().unwrap())
        .collect();
    assert_eq!(families.len(), 2);
    assert!(families[0].ends_with(":task-definition/nightly-report:"));
    assert!(families[1].ends_with(":task-definition/tmp-sweeper:"));
    let target = &obs["resource"]["aws_cloudwatch_event_target"]["jobs_failed"];
    assert_eq!(target["arn"], "${aws_sns_topic.alerts.arn}");
    assert_eq!(
        target["rule"],
        "${aws_cloudwatch_event_rule.jobs_failed.name}"
    );

    let topic_policy = policy(&obs["resource"]["aws_sns_topic_policy"]["alerts"]["policy"]);
    let by = |service: &str| {
        topic_policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Principal"]["Service"] == service)
            .unwrap_or_else(|| panic!("the topic policy does not admit {service}"))
            .clone()
    };
    assert_eq!(
        by("events.amazonaws.com")["Condition"]["ArnEquals"]["aws:SourceArn"],
        "${aws_cloudwatch_event_rule.jobs_failed.arn}"
    );
    // Replacing SNS's default policy must not lock the alarms out.
    assert_eq!(by("cloudwatch.amazonaws.com")["Action"], "sns:Publish");
    let key = policy(&kms["resource"]["aws_kms_key"]["alerts"]["policy"]);
    assert!(
        key["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Principal"]["Service"] == "events.amazonaws.com"),
        "EventBridge cannot publish to the encrypted topic"
    );
}
