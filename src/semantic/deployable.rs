//! Rules the cloud APIs enforce at apply time that no schema carries, checked before
//! anything is written: what would make `terraform plan` stop for input in CI or `apply` fail
//! is refused here with the field to change.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &Blueprint) {
    notify(c, bp);
    if c.provider != Provider::Aws {
        return;
    }
    certificate(c, bp);
    state_bucket(c, bp);
    tag_keys(c, bp);
    tag_characters(c, bp);
    controller_tracking_tags(c, bp);
}

/// Every environment's `bootstrap` creates the state bucket. S3 bucket names are global
/// across all accounts, so a name shared by two environments makes the second bootstrap fail
/// (BucketAlreadyExists / BucketAlreadyOwnedByYou), even when they deploy to different
/// accounts. The name is the blueprint's, kept exactly; it must vary with the environment
/// unless the blueprint lists a single one (without `environments`, any name is accepted).
fn state_bucket(c: &mut Checker, bp: &Blueprint) {
    let Some(s) = &bp.state else {
        return;
    };
    if c.loaded.environments.len() == 1 {
        return;
    }
    let env = c.loaded.env.clone();
    if !s.bucket.contains(env.as_str()) {
        c.error(
            "state.bucket",
            format!(
                "`{}` is the same in every environment: each environment's bootstrap creates its state bucket, and S3 bucket names are unique across all of AWS",
                s.bucket
            ),
        )
        .help = Some(format!(
            "put `{{env}}` in the name, e.g. `{}-{{env}}`",
            s.bucket
        ));
    }
}

/// The ECS load balancer's HTTPS listener needs a certificate. Without a domain (an ACM
/// certificate is issued) or an ARN there is nothing to present, and a Terraform variable
/// without a default would make `plan` stop and prompt in CI.
fn certificate(c: &mut Checker, bp: &Blueprint) {
    let ecs = bp.platform() == Some(Platform::EcsFargate);
    let Some(lb) = &bp.load_balancer else {
        return;
    };
    if ecs && lb.certificate.domain.is_none() && lb.certificate.arn.is_none() {
        c.error(
            "load_balancer",
            "the HTTPS listener needs a certificate: give `certificate.domain` (an ACM certificate is issued, DNS-validated) or `certificate.arn` (an existing ACM certificate)",
        )
        .help = Some(
            "e.g. `certificate: { arn: arn:aws:acm:us-east-1:123456789012:certificate/<id> }`"
                .into(),
        );
    }
}

/// `observability.notify`: SNS delivers to e-mail addresses and HTTPS endpoints (plain HTTP
/// would send alarm contents in clear text).
fn notify(c: &mut Checker, bp: &Blueprint) {
    let Some(obs) = &bp.observability else {
        return;
    };
    for (i, n) in obs.notify.iter().enumerate() {
        let https = n
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        let email = !n.contains("://")
            && n.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !n.chars().any(char::is_whitespace)
            });
        if !https && !email {
            c.error(
                &format!("observability.notify[{i}]"),
                format!("`{n}` is neither an e-mail address nor an HTTPS URL"),
            )
            .expected = Some("`ops@example.com` or `https://hooks.example.com/alerts`".into());
        } else if https && c.provider == Provider::Aws {
            chat_webhook(c, i, n);
        }
    }
}

/// A chat app's incoming webhook as an SNS HTTPS subscription never delivers: SNS first
/// POSTs a `SubscriptionConfirmation` whose `SubscribeURL` the endpoint must visit, and "SNS
/// doesn't send notifications to this endpoint until the subscription is confirmed"
/// (https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html). An
/// incoming webhook only posts what it is sent into the channel (and Slack's refuses a body
/// without its own `text` field): nobody confirms, the subscription stays
/// `PendingConfirmation` and every alarm reaches nobody. Refused, with the two ways that work.
fn chat_webhook(c: &mut Checker, i: usize, url: &str) {
    let host = url["https://".len()..]
        .split(['/', ':', '?'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let chat = match host.as_str() {
        "hooks.slack.com" => "Slack",
        "discord.com" | "discordapp.com" if url.contains("/api/webhooks/") => "Discord",
        h if h.ends_with(".webhook.office.com") => "Microsoft Teams",
        _ => return,
    };
    let e = c.error(
        &format!("observability.notify[{i}]"),
        format!("`{url}` is a {chat} incoming webhook: SNS subscribes it by POSTing a SubscriptionConfirmation that a webhook cannot confirm, so the subscription stays pending and no alarm ever reaches the channel"),
    );
    e.expected =
        Some("an e-mail address, or an HTTPS endpoint that confirms SNS subscriptions".into());
    e.help = Some("give the channel's e-mail address (confirm the subscription from the message it receives), or subscribe AWS Chatbot (Slack, Microsoft Teams) or a function of your own that posts to the webhook to the alert topic, the `infra` output `alert_topic_arn`; see docs/output.md (Alarms)".into());
}

/// IAM compares tag keys without case: `Team` and `team` on one role is refused at create.
fn tag_keys(c: &mut Checker, bp: &Blueprint) {
    let mut seen: Vec<&str> = Vec::new();
    for k in bp.tags.keys() {
        if let Some(other) = seen.iter().find(|o| o.eq_ignore_ascii_case(k)) {
            c.error(
                &format!("tags.{k}"),
                format!("tag keys `{other}` and `{k}` differ only in case: AWS (IAM) treats them as one key and refuses both"),
            );
        }
        seen.push(k);
    }
}

/// The characters AWS takes in a tag: IAM's `Tag` (`CreateRole`) and ELBv2's `AddTags` both
/// take keys of 1 to 128 and values of up to 256 characters of
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html;
/// "Tag an Application Load Balancer": letters, spaces, numbers, `+ - = . _ : / @`), and
/// keep the `aws:` prefix for themselves. Every role and load balancer carries the
/// blueprint's tags, and so does the AWS Load Balancer Controller's `--default-tags`, a
/// `key=value,…` list the controller cannot read back when a value holds a comma: it exits at
/// start-up and the release's atomic install is rolled back.
fn tag_characters(c: &mut Checker, bp: &Blueprint) {
    let allowed = |ch: char| {
        ch.is_alphanumeric() || (ch.is_whitespace() && !ch.is_control()) || "_.:/=+-@".contains(ch)
    };
    for (k, v) in &bp.tags {
        let bad_key = k.chars().find(|ch| !allowed(*ch));
        let bad_value = v.chars().find(|ch| !allowed(*ch));
        let problem = if let Some(ch) = bad_key {
            Some(format!("tag key `{k}` holds `{ch}`"))
        } else if let Some(ch) = bad_value {
            Some(format!("the value of tag `{k}` holds `{ch}`"))
        } else if k.chars().count() > 128 || v.chars().count() > 256 {
            Some(format!(
                "tag `{k}` is too long: AWS takes keys of up to 128 characters and values of up to 256"
            ))
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            Some(format!("tag key `{k}`: the `aws:` prefix is AWS's own"))
        } else {
            None
        };
        if let Some(problem) = problem {
            let e = c.error(
                &format!("tags.{k}"),
                format!("{problem}: AWS refuses it on the IAM roles and load balancers that carry the blueprint's tags"),
            );
            e.expected = Some("letters, digits, spaces and `_ . : / = + - @`".into());
            e.help =
                Some("write lists with `/` or `+` instead of commas, e.g. `team-a/team-b`".into());
        }
    }
}

/// On EKS the blueprint's tags become the AWS Load Balancer Controller's `--default-tags`,
/// which may not name the tags the controller tracks its own load balancers by: it refuses
/// to start ("tag key … cannot be specified in default-tags flag",
/// `validateDefaultTagsCollisionWithTrackingTags` in kubernetes-sigs/aws-load-balancer-controller
/// pkg/config/controller_config.go, with the default prefixes `elbv2.k8s.aws`,
/// `ingress.k8s.aws`, `service.k8s.aws`).
fn controller_tracking_tags(c: &mut Checker, bp: &Blueprint) {
    if !matches!(bp.platform(), Some(Platform::Eks | Platform::EksFargate)) {
        return;
    }
    const TRACKING: [&str; 6] = [
        "elbv2.k8s.aws/cluster",
        "elbv2.k8s.aws/resource",
        "ingress.k8s.aws/stack",
        "ingress.k8s.aws/resource",
        "service.k8s.aws/stack",
        "service.k8s.aws/resource",
    ];
    // The flag is a pflag `stringToString` (`k=v,k=v`), which splits each pair at its first
    // `=` (`strings.SplitN(pair, "=", 2)`, spf13/pflag string_to_string.go): a key holding
    // `=` — AWS takes it — would reach the load balancers cut there, `team=a: x` as tag
    // `team` of value `a=x`. A value may hold `=`.
    for (k, v) in &bp.tags {
        let Some((key, rest)) = k.split_once('=') else {
            continue;
        };
        c.error(
            &format!("tags.{k}"),
            format!("tag key `{k}` holds `=`: the AWS Load Balancer Controller reads its default tags as `key=value` pairs split at the first `=`, so its load balancers would be tagged `{key}` = `{rest}={v}` instead"),
        )
        .help = Some("name the tag without `=` (a value may hold one)".into());
    }
    for k in bp.tags.keys().filter(|k| TRACKING.contains(&k.as_str())) {
        c.error(
            &format!("tags.{k}"),
            format!("`{k}` is a tag the AWS Load Balancer Controller puts on its own load balancers: given as one of its default tags, it refuses to start"),
        )
        .help = Some("name the tag otherwise".into());
    }
}
