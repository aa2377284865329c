//! SQS queues (`queues[].engine: sqs`): what Amazon SQS accepts, checked before any output
//! exists, and the fields that belong to the other engine refused on each.
//!
//! Ranges are CreateQueue's (SQS API reference, "CreateQueue", Attributes):
//! `VisibilityTimeout` 0–43,200 seconds, `MessageRetentionPeriod` 60–1,209,600 seconds, and
//! the redrive policy's `maxReceiveCount` 1–1,000 (SQS developer guide, "Using dead-letter
//! queues"). A queue name has at most 80 characters (alphanumerics, `-`, `_`), a FIFO one
//! ending in `.fifo`; the derived names (`naming::sqs_queue_name`) are labels, so only
//! their length can fail.

use super::Checker;
use crate::blueprint::types::{Blueprint, Deployment};
use crate::catalog::Provider;

/// Fields only a RabbitMQ broker reads.
const BROKER_ONLY: [&str; 7] = [
    "version",
    "allow_unsupported",
    "size",
    "sizes",
    "ha",
    "maintenance_window",
    "in_cluster",
];

/// Fields only an SQS queue reads.
const SQS_ONLY: [&str; 5] = [
    "fifo",
    "content_based_deduplication",
    "visibility_timeout_seconds",
    "retention_seconds",
    "max_receive_count",
];

/// Refuses each of `fields` written on queue `path` (the other engine's): `say` gives the
/// message and the help for a field.
fn foreign(c: &mut Checker, path: &str, fields: &[&str], say: impl Fn(&str) -> (String, String)) {
    for f in fields {
        let at = format!("{path}.{f}");
        if c.loaded.has(&at) {
            let (message, help) = say(f);
            c.error(&at, message).help = Some(help);
        }
    }
}

/// SQS's limit on a queue name (CreateQueue, `QueueName`).
const NAME_MAX: usize = 80;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    for (i, q) in bp.queues.iter().enumerate() {
        let path = format!("queues[{i}]");
        if !q.sqs() {
            foreign(c, &path, &SQS_ONLY, |f| {
                (
                    format!(
                        "`{f}` is a field of SQS queues; `{}` is a RabbitMQ broker",
                        q.name
                    ),
                    format!("drop `{f}`, or use `engine: sqs` (AWS only)"),
                )
            });
            continue;
        }
        if c.provider != Provider::Aws {
            let d = c.error(
                &format!("{path}.engine"),
                format!(
                    "Amazon SQS exists only on AWS; `--provider {}` has no SQS to create `{}` in",
                    c.provider, q.name
                ),
            );
            d.expected = Some("`engine: rabbitmq` outside AWS".into());
            d.help = Some(
                "use `engine: rabbitmq` (it runs in the cluster there), or synthesize with `--provider aws`"
                    .into(),
            );
        }
        if q.deployment == Deployment::InCluster {
            c.error(
                &format!("{path}.deployment"),
                format!(
                    "`{}` is an SQS queue, a service of AWS: it cannot run in the cluster",
                    q.name
                ),
            )
            .help = Some(
                "drop `deployment`, or use `engine: rabbitmq` for a broker in the cluster".into(),
            );
        }
        foreign(c, &path, &BROKER_ONLY, |f| {
            (
                format!(
                    "`{f}` is a field of RabbitMQ brokers; `{}` is an SQS queue",
                    q.name
                ),
                format!("drop `{f}` (SQS has no instances, versions or maintenance windows)"),
            )
        });
        range(
            c,
            &path,
            "visibility_timeout_seconds",
            q.visibility_timeout_seconds,
            0,
            43_200,
        );
        range(
            c,
            &path,
            "retention_seconds",
            q.retention_seconds,
            60,
            1_209_600,
        );
        range(c, &path, "max_receive_count", q.max_receive_count, 1, 1_000);
        if q.content_based_deduplication && !q.fifo {
            c.error(
                &format!("{path}.content_based_deduplication"),
                "content-based deduplication is a property of FIFO queues; SQS refuses it on a standard queue",
            )
            .help = Some("add `fifo: true`, or drop `content_based_deduplication`".into());
        }
        // `<queue>-dlq` is the dead-letter queue of `<queue>`: its SQS name and Terraform
        // address (`aws_sqs_queue.<queue>_dlq`) are taken.
        if let Some(owner) = q
            .name
            .strip_suffix("-dlq")
            .filter(|o| bp.sqs_queues().any(|x| x.name == *o))
        {
            c.error(
                &format!("{path}.name"),
                format!(
                    "`{}` is the name of the dead-letter queue of SQS queue `{owner}`",
                    q.name
                ),
            )
            .help = Some(format!("rename it (e.g. `{owner}-failed`)"));
        }
        let prefix = format!("{}-{}", bp.name, c.loaded.env);
        let longest = crate::naming::sqs_queue_name(&prefix, &q.name, q.fifo, true);
        if longest.len() > NAME_MAX {
            let d = c.error(
                &format!("{path}.name"),
                format!(
                    "the dead-letter queue's name `{longest}` is {} characters; SQS allows {NAME_MAX}",
                    longest.len()
                ),
            );
            // What the prefix and the suffixes leave for the queue's own name: nothing when
            // `<name>-<env>-` and `-dlq.fifo` alone pass 80.
            match (q.name.len() + NAME_MAX).checked_sub(longest.len()) {
                Some(room) if room > 0 => {
                    d.expected = Some(format!("a queue name of at most {room} characters here"));
                    d.help = Some(
                        "shorten the queue's name (the blueprint's name and environment come first)"
                            .into(),
                    );
                }
                _ => {
                    d.expected = Some(format!(
                        "a blueprint `name` and environment shorter by {} characters at least",
                        longest.len() + 1 - NAME_MAX - q.name.len()
                    ));
                    d.help = Some(format!(
                        "`{prefix}-` and the suffixes leave no room for the queue's name: shorten the blueprint's `name`"
                    ));
                }
            }
        }
    }
}

/// `queues[i].<field>` within `lo..=hi` when set.
fn range(c: &mut Checker, path: &str, field: &str, value: Option<u32>, lo: u32, hi: u32) {
    let Some(v) = value else { return };
    if !(lo..=hi).contains(&v) {
        let d = c.error(
            &format!("{path}.{field}"),
            format!("{v} is outside what SQS accepts"),
        );
        d.expected = Some(format!("{lo} to {hi}"));
        d.help = Some(format!("set `{field}` between {lo} and {hi}"));
    }
}
