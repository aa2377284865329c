//! Amazon SQS queues (`queues[].engine: sqs`): each with a dead-letter queue, in `infra`
//! (`queues.tf.json`, beside the brokers). Clients reach them over HTTPS with their own IAM
//! role (ECS task role, EKS IRSA role: `identity::data_statements`), like tables and buckets.
//!
//! - Encryption: SSE-SQS (`sqs_managed_sse_enabled`), SQS-owned keys. With a customer key
//!   (SSE-KMS) every producer and consumer role needs `kms:GenerateDataKey`/`kms:Decrypt` on
//!   it, and so does every AWS service that sends to the queue (EventBridge, SNS, S3
//!   notifications) through the key policy — "Key management", SQS developer guide; a
//!   missed grant fails sends with `KMS.AccessDeniedException`. SSE-SQS encrypts at rest with
//!   no grants at all and satisfies checkov's CKV_AWS_27 ("Ensure all data stored in the SQS
//!   queue is encrypted": `kms_master_key_id` or `sqs_managed_sse_enabled`).
//! - Dead-letter queue: the main queue's `redrive_policy` names its ARN with
//!   `maxReceiveCount` (default 5); the DLQ's `redrive_allow_policy` admits exactly that
//!   source queue (`byQueue`), written as its own resource because the two policies name each
//!   other (one resource each would be a cycle). The DLQ keeps messages 14 days, the
//!   maximum: "the expiration of a message is always based on its original enqueue
//!   timestamp", so a DLQ shorter-lived than its source drops what it receives ("Using
//!   dead-letter queues", SQS developer guide). A FIFO queue's DLQ must be FIFO too.
//! - Names: `<name>-<env>-<queue>[-dlq][.fifo]` (`naming::sqs_queue_name`).

use crate::json;

use super::Ctx;
use crate::blueprint::types::Queue;
use crate::terraform::{Json, Module, Ref, res};

/// How many receives move a message to the dead-letter queue when the blueprint says none.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;
/// The DLQ's retention: SQS's maximum, 14 days.
const DLQ_RETENTION: u32 = 1_209_600;

/// The SQS queues `infra` creates (on AWS: all of them; `semantic::sqs` refuses them
/// elsewhere).
pub fn created<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a Queue> {
    ctx.v.bp.sqs_queues()
}

/// The Terraform name of queue `queue` (`dlq`: of its dead-letter queue).
pub fn label(queue: &str, dlq: bool) -> String {
    if dlq {
        format!("{queue}_dlq")
    } else {
        queue.to_string()
    }
}

/// `aws_sqs_queue.<queue>[_dlq]` in `infra`.
pub fn queue(queue: &str, dlq: bool) -> Ref {
    res("aws_sqs_queue", &label(queue, dlq))
}

/// The SQS name of `q` (`dlq`: of its dead-letter queue).
pub fn name(ctx: &Ctx, q: &Queue, dlq: bool) -> String {
    crate::naming::sqs_queue_name(&ctx.prefix, &q.name, q.fifo, dlq)
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let mut any = false;
    for q in created(ctx) {
        lower_one(ctx, q, m);
        any = true;
    }
    if any {
        ctx.mark("queues");
    }
}

fn lower_one(ctx: &Ctx, q: &Queue, m: &mut Module) {
    let main = queue(&q.name, false);
    let dlq = queue(&q.name, true);
    let fifo = |mut body: Json| {
        if q.fifo {
            body["fifo_queue"] = json!(true);
        }
        body
    };
    let dlq_name = name(ctx, q, true);
    let main_name = name(ctx, q, false);
    let mut body = fifo(json!({
        "name": &main_name,
        "sqs_managed_sse_enabled": true,
        "redrive_policy": Json::encoded(json!({
            "deadLetterTargetArn": dlq.arn(),
            "maxReceiveCount": q.max_receive_count.unwrap_or(DEFAULT_MAX_RECEIVE_COUNT),
        })),
        "tags": {"Name": &main_name},
    }));
    if q.content_based_deduplication {
        body["content_based_deduplication"] = json!(true);
    }
    if let Some(s) = q.visibility_timeout_seconds {
        body["visibility_timeout_seconds"] = json!(s);
    }
    if let Some(s) = q.retention_seconds {
        body["message_retention_seconds"] = json!(s);
    }
    m.file("queues")
        .resource(
            &dlq,
            fifo(json!({
                "name": &dlq_name,
                "sqs_managed_sse_enabled": true,
                "message_retention_seconds": DLQ_RETENTION,
                "tags": {"Name": &dlq_name},
            })),
        )
        .resource(&main, body)
        .resource(
            &res("aws_sqs_queue_redrive_allow_policy", &label(&q.name, true)),
            json!({
                "queue_url": dlq.id(),
                "redrive_allow_policy": Json::encoded(json!({
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [main.arn()],
                })),
            }),
        );
    m.file("outputs")
        .output(
            &format!("{}_queue_url", q.name),
            main.attr("url"),
            &format!("URL of SQS queue {main_name}"),
        )
        .output(
            &format!("{}_queue_arn", q.name),
            main.arn(),
            &format!("ARN of SQS queue {main_name}"),
        )
        .output(
            &format!("{}_dlq_url", q.name),
            dlq.attr("url"),
            &format!("URL of dead-letter queue {dlq_name}"),
        );
}

/// The IAM statements of a workload that uses the SQS queues `queues`: send, receive,
/// delete, extend visibility and read attributes on exactly those queues, and the same on
/// their dead-letter queues (a consumer inspecting or draining failed messages). No KMS
/// grant: SSE-SQS needs none. `GetQueueUrl` is allowed for SDKs that look the queue up by
/// name (`_QUEUE`).
///
/// And the SDKs' one-call DLQ redrive on its own DLQs only: `StartMessageMoveTask` (whose
/// source must be a DLQ; without `DestinationArn` it moves the messages back to their
/// source queue), `ListMessageMoveTasks` and `CancelMessageMoveTask` — "Configuring a
/// dead-letter queue redrive", SQS developer guide, and `API_StartMessageMoveTask`. The move
/// also needs `ReceiveMessage`/`DeleteMessage`/`GetQueueAttributes` on the DLQ and
/// `SendMessage` on the destination, which the first statement already grants; a DLQ's
/// `redrive_allow_policy` admits only its own queue, so "back to the source" is that queue.
pub fn statements(queues: &std::collections::BTreeSet<String>) -> Vec<Json> {
    if queues.is_empty() {
        return Vec::new();
    }
    let arns: Vec<_> = queues
        .iter()
        .flat_map(|q| [queue(q, false).arn(), queue(q, true).arn()])
        .collect();
    let dlqs: Vec<_> = queues.iter().map(|q| queue(q, true).arn()).collect();
    vec![
        json!({
            "Sid": "SqsSendReceive",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage",
            ],
            "Resource": arns,
        }),
        json!({
            "Sid": "SqsRedriveDeadLetters",
            "Effect": "Allow",
            "Action": [
                "sqs:CancelMessageMoveTask", "sqs:ListMessageMoveTasks",
                "sqs:StartMessageMoveTask",
            ],
            "Resource": dlqs,
        }),
    ]
}

/// Default alarms of every SQS queue, once the stack has an alert topic: a message in the
/// dead-letter queue (a message failed `maxReceiveCount` times) and the main queue's oldest
/// message older than an hour, or than half its retention when that is shorter (consumers
/// stalled; messages expire at the end of the retention). Namespace `AWS/SQS`, dimension
/// `QueueName` ("Available CloudWatch metrics for Amazon SQS", SQS developer guide; the
/// metrics are reported every minute for active queues, and none for idle ones, hence
/// `notBreaching` for missing data).
pub fn alarms(ctx: &Ctx) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for q in created(ctx) {
        let retention = q.retention_seconds.unwrap_or(345_600);
        let age = (retention / 2).min(3600);
        out.push((
            format!("{}_dlq_messages", crate::terraform::ident(&q.name)),
            json!({
                "alarm_name": format!("{}-messages", name(ctx, q, true)),
                "alarm_description": format!("Messages in the dead-letter queue of {}: they failed processing {} times", name(ctx, q, false), q.max_receive_count.unwrap_or(DEFAULT_MAX_RECEIVE_COUNT)),
                "namespace": "AWS/SQS",
                "metric_name": "ApproximateNumberOfMessagesVisible",
                "dimensions": {"QueueName": queue(&q.name, true).attr("name")},
                "statistic": "Maximum",
                "period": 300,
                "evaluation_periods": 1,
                "threshold": 0,
                "comparison_operator": "GreaterThanThreshold",
                "treat_missing_data": "notBreaching",
            }),
        ));
        out.push((
            format!("{}_oldest_message", crate::terraform::ident(&q.name)),
            json!({
                "alarm_name": format!("{}-oldest-message", name(ctx, q, false)),
                "alarm_description": format!("The oldest message in {} is older than {age} seconds: its consumers are stalled or too few", name(ctx, q, false)),
                "namespace": "AWS/SQS",
                "metric_name": "ApproximateAgeOfOldestMessage",
                "dimensions": {"QueueName": queue(&q.name, false).attr("name")},
                "statistic": "Maximum",
                "period": 300,
                "evaluation_periods": 1,
                "threshold": age,
                "comparison_operator": "GreaterThanThreshold",
                "treat_missing_data": "notBreaching",
            }),
        ));
    }
    out
}
