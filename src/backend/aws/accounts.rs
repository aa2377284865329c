//! Environments that would collide in one AWS account, or in one existing VPC.
//!
//! Many AWS names are unique per account and region: log groups, secrets, ECR repositories,
//! IAM roles, alarms, RDS identifiers… A name the blueprint gives (or that defaults to a
//! blueprint name, such as a secret's path) is the same in every environment unless it holds
//! `{env}`. Applied to one account, the second environment's `terraform apply` then fails
//! with "already exists". That is fine when each environment has its own account (the shipped
//! qurable-ecs blueprint says so) and fatal when they share one, which nothing in a single
//! environment's output can tell. So `synth` compares the environments it lowers with the
//! blueprint's other environments (lowered in memory for the comparison when `--env` names
//! only some) and warns, unless their `providers.aws.account_id` pins them to different
//! accounts.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diagnostic::Note;
use crate::output::Output;

/// Resource types whose name is unique per account and region, and the argument holding it.
/// (S3 bucket names are global, not per account: the state bucket must vary per environment,
/// and derived bucket names end in the account id.)
const ACCOUNT_SCOPED: [(&str, &str); 24] = [
    ("aws_cloudwatch_event_rule", "name"),
    ("aws_cloudwatch_log_group", "name"),
    ("aws_cloudwatch_metric_alarm", "alarm_name"),
    ("aws_db_instance", "identifier"),
    ("aws_db_parameter_group", "name"),
    ("aws_db_subnet_group", "name"),
    ("aws_dynamodb_table", "name"),
    ("aws_ecr_repository", "name"),
    ("aws_ecs_cluster", "name"),
    ("aws_eks_cluster", "name"),
    ("aws_elasticache_parameter_group", "name"),
    ("aws_elasticache_replication_group", "replication_group_id"),
    ("aws_elasticache_subnet_group", "name"),
    ("aws_iam_policy", "name"),
    ("aws_iam_role", "name"),
    ("aws_kms_alias", "name"),
    ("aws_lb", "name"),
    ("aws_lb_target_group", "name"),
    ("aws_mq_broker", "broker_name"),
    ("aws_scheduler_schedule_group", "name"),
    ("aws_secretsmanager_secret", "name"),
    ("aws_sns_topic", "name"),
    ("aws_ssm_parameter", "name"),
    ("aws_wafv2_web_acl", "name"),
];

/// The account-scoped names an output's Terraform declares, as `type name`, and the accounts
/// its providers are pinned to (`allowed_account_ids`).
fn names_and_accounts(out: &Output) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/") && path.ends_with(".tf.json")) {
            continue;
        }
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        for (ty, arg) in ACCOUNT_SCOPED {
            let Some(resources) = doc["resource"][ty].as_object() else {
                continue;
            };
            for body in resources.values() {
                // A name built from a reference differs wherever what it refers to does.
                if let Some(name) = body[arg].as_str()
                    && !name.replace("$${", "").contains("${")
                {
                    names.insert(format!("{ty} {name}"));
                }
            }
        }
        if let Some(providers) = doc["provider"]["aws"].as_array() {
            for p in providers {
                for id in p["allowed_account_ids"].as_array().into_iter().flatten() {
                    accounts.extend(id.as_str().map(str::to_string));
                }
            }
        } else if let Some(ids) = doc["provider"]["aws"]["allowed_account_ids"].as_array() {
            accounts.extend(ids.iter().filter_map(|i| i.as_str().map(str::to_string)));
        }
    }
    (names, accounts)
}

/// The account-scoped names two outputs of `outputs` (label, output) both declare, each with
/// the labels of the outputs declaring it, over the pairs `pair` admits and that are not
/// pinned to different accounts (Terraform refuses to apply either elsewhere).
fn shared<'a>(
    outputs: &[(&'a str, &Output)],
    pair: impl Fn(&str, &str) -> bool,
) -> BTreeMap<String, BTreeSet<&'a str>> {
    let seen: Vec<(&str, BTreeSet<String>, BTreeSet<String>)> = outputs
        .iter()
        .map(|(label, out)| {
            let (names, accounts) = names_and_accounts(out);
            (*label, names, accounts)
        })
        .collect();
    let mut shared: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (i, (a, names_a, accounts_a)) in seen.iter().enumerate() {
        for (b, names_b, accounts_b) in &seen[i + 1..] {
            if !pair(a, b) {
                continue;
            }
            if !accounts_a.is_empty()
                && !accounts_b.is_empty()
                && accounts_a.is_disjoint(accounts_b)
            {
                continue;
            }
            for name in names_a.intersection(names_b) {
                shared.entry(name.clone()).or_default().extend([*a, *b]);
            }
        }
    }
    shared
}

/// Which blueprint field names each kind of shared name (`type name` keys of [`shared`]), for
/// the kinds whose name the blueprint gives or defaults to a component's name alone; the
/// others are derived from `<name>-<env>` and meet only when those do.
fn fields(shared: &BTreeMap<String, BTreeSet<&str>>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for key in shared.keys() {
        let field = match key.split_once(' ').map_or("", |(ty, _)| ty) {
            "aws_cloudwatch_log_group" => {
                "`services[].log_group` / `jobs[].log_group` (default `/ecs/<name>`)"
            }
            "aws_secretsmanager_secret" => "`secrets[].path` (default the secret's name)",
            "aws_dynamodb_table" => "`tables[].table` (default the table's name)",
            // One set of repositories serves every environment of an account: the images are
            // pushed once, and an environment without `registry` is granted the pull on the
            // repositories its images name.
            "aws_ecr_repository" => {
                "`registry` in one environment only (`environments.<env>.registry: null` in the others, whose tasks pull from its repositories), or `registry.name`"
            }
            "aws_cloudwatch_metric_alarm" => "`observability.alarms[].name`",
            _ => "`name`",
        };
        if !out.contains(&field) {
            out.push(field);
        }
    }
    out.join(", ")
}

/// A warning when blueprints synthesized together (`stacks`: a label per blueprint and
/// environment, the blueprint's index, the AWS output) give the same account-scoped names
/// and are not pinned to different accounts: two teams' stacks in one account, each with a
/// service `web` (log group `/ecs/web`) or a secret `smtp`. Pairs of one blueprint are its
/// environments, which [`shared_names`] judges.
pub fn stacks_share_names(stacks: &[(&str, usize, &Output)]) -> Option<Note> {
    let outputs: Vec<(&str, &Output)> = stacks.iter().map(|(l, _, o)| (*l, *o)).collect();
    let blueprint_of = |label: &str| stacks.iter().find(|(l, _, _)| *l == label).map(|s| s.1);
    let shared = shared(&outputs, |a, b| blueprint_of(a) != blueprint_of(b));
    if shared.is_empty() {
        return None;
    }
    let labels: BTreeSet<&str> = shared.values().flatten().copied().collect();
    let examples: Vec<&str> = shared.keys().take(4).map(String::as_str).collect();
    Some(Note::warning(
        "stacks-share-names",
        format!(
            "stacks {} give {} account-scoped AWS names alike ({}{}): applied to one account (and region: IAM role names are account-wide), {}; pin each stack to its own account (`providers.aws.account_id`) or name the components apart — `services[].log_group` (default `/ecs/<service>`), `secrets[].path` (default the secret's name), `tables[].table` (default the table's name)",
            labels.into_iter().collect::<Vec<_>>().join(", "),
            shared.len(),
            examples.join(", "),
            if shared.len() > examples.len() {
                ", …"
            } else {
                ""
            },
            second_apply(&shared),
        ),
    ))
}

/// What the second apply does with the shared names: fail with "already exists" — except
/// CloudWatch alarms. PutMetricAlarm "creates or updates an alarm", an update "completely
/// overwrites the previous configuration of the alarm"
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>):
/// no error, one alarm watching the last applied one's resources, deleted by either's
/// destroy. `observability.alarms` names are written as they are, so they meet in every
/// environment unless they hold `{env}`.
fn second_apply<T>(shared: &BTreeMap<String, T>) -> String {
    const ALARM: &str = "aws_cloudwatch_metric_alarm ";
    const TAKEN_OVER: &str = "PutMetricAlarm updates the alarm of that name: one alarm watching the last apply's resources, deleted by either's destroy; `observability.alarms[].name` is written as it is: give it a part of its own, such as `{env}`";
    let alarms = shared.keys().filter(|k| k.starts_with(ALARM)).count();
    if alarms == 0 {
        "the second fails with \"already exists\"".into()
    } else if alarms == shared.len() {
        format!("the second silently takes the first's alarms over ({TAKEN_OVER})")
    } else {
        format!(
            "the second fails with \"already exists\", and silently takes the first's alarms over ({TAKEN_OVER})"
        )
    }
}

/// A warning when environments of one blueprint (`envs`: name and AWS output) give the same
/// account-scoped names and are not pinned to different accounts. Only pairs with an
/// environment of `focus` (the ones being synthesized) count: a single-environment synth is
/// compared with the blueprint's other environments, not those with each other.
pub fn shared_names(envs: &[(&str, &Output)], focus: &[&str]) -> Option<Note> {
    let shared = shared(envs, |a, b| focus.contains(&a) || focus.contains(&b));
    if shared.is_empty() {
        return None;
    }
    let envs: BTreeSet<&str> = shared.values().flatten().copied().collect();
    let examples: Vec<&str> = shared.keys().take(4).map(|n| n.as_str()).collect();
    Some(Note::warning(
        "environments-share-names",
        format!(
            "environments {} give {} account-scoped AWS names alike ({}{}): applied to one account, {}; give each environment its own account (`providers.aws.account_id` per environment pins Terraform to it) or put `{{env}}` in those names — {}",
            envs.into_iter().collect::<Vec<_>>().join(", "),
            shared.len(),
            examples.join(", "),
            if shared.len() > examples.len() {
                ", …"
            } else {
                ""
            },
            second_apply(&shared),
            fields(&shared),
        ),
    ))
}

/// The interface endpoints with private DNS an output creates in an existing VPC
/// (`data.aws_vpc.main`, read by its literal id), as `<vpc id> <service name>`.
fn private_dns_endpoints(out: &Output) -> BTreeSet<String> {
    let mut vpc: Option<String> = None;
    let mut services = Vec::new();
    // Asked of every environment of every AWS synth: read back only the files that can
    // hold what is looked for (the existing VPC's data source, an endpoint with private
    // DNS), not every module's JSON.
    let private_dns = out
        .files
        .values()
        .any(|text| text.contains("\"private_dns_enabled\": true"));
    if !private_dns {
        return BTreeSet::new();
    }
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/") && path.ends_with(".tf.json"))
            || !(text.contains("\"aws_vpc\"") || text.contains("\"aws_vpc_endpoint\""))
        {
            continue;
        }
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if let Some(id) = doc["data"]["aws_vpc"]["main"]["id"].as_str() {
            vpc = Some(id.to_string());
        }
        for body in doc["resource"]["aws_vpc_endpoint"]
            .as_object()
            .into_iter()
            .flat_map(|r| r.values())
        {
            if body["private_dns_enabled"] == true && body["vpc_id"] == "${data.aws_vpc.main.id}" {
                services.extend(body["service_name"].as_str().map(str::to_string));
            }
        }
    }
    let Some(vpc) = vpc else {
        return BTreeSet::new();
    };
    services.into_iter().map(|s| format!("{vpc} {s}")).collect()
}

/// A warning when environments of one blueprint (`envs`, `focus` as in [`shared_names`])
/// create interface endpoints with private DNS for one service in one existing VPC. A VPC
/// holds one such endpoint per service: the second environment's apply fails with
/// "private-dns-enabled cannot be set because there is already a conflicting DNS domain"
/// (AWS re:Post knowledge center). Whatever the accounts: a VPC shared with other accounts
/// (AWS RAM) is still one VPC.
pub fn shared_vpc_endpoints(envs: &[(&str, &Output)], focus: &[&str]) -> Option<Note> {
    let seen: Vec<(&str, BTreeSet<String>)> = envs
        .iter()
        .map(|(env, out)| (*env, private_dns_endpoints(out)))
        .collect();
    let mut shared: BTreeMap<&String, BTreeSet<&str>> = BTreeMap::new();
    for (i, (a, eps_a)) in seen.iter().enumerate() {
        for (b, eps_b) in &seen[i + 1..] {
            if !(focus.contains(a) || focus.contains(b)) {
                continue;
            }
            for e in eps_a.intersection(eps_b) {
                shared.entry(e).or_default().extend([*a, *b]);
            }
        }
    }
    if shared.is_empty() {
        return None;
    }
    let envs: BTreeSet<&str> = shared.values().flatten().copied().collect();
    let envs: Vec<&str> = envs.into_iter().collect();
    // `<vpc id> <service name>` keys, told as `<vpc id>: <service>, <service>`.
    let mut by_vpc: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for k in shared.keys() {
        let (vpc, service) = k.split_once(' ').unwrap_or((k.as_str(), ""));
        by_vpc.entry(vpc).or_default().push(service);
    }
    let listed: Vec<String> = by_vpc
        .iter()
        .map(|(vpc, services)| format!("{vpc}: {}", services.join(", ")))
        .collect();
    Some(Note::warning(
        "environments-share-vpc-endpoints",
        format!(
            "environments {} each create interface endpoints with private DNS in the same existing VPC ({}): a VPC takes one endpoint per service with private DNS, so the second apply fails (\"conflicting DNS domain\"); list `network.endpoints` in one environment only (`environments.<env>.network.endpoints`: the other's workloads in the VPC use them too, and lose them when that environment is destroyed), or have the VPC's owner create them and list none",
            envs.join(", "),
            listed.join("; "),
        ),
    ))
}

/// Every collision of the environments in one account or VPC (`shared_names`,
/// `shared_vpc_endpoints`).
pub fn collisions(envs: &[(&str, &Output)], focus: &[&str]) -> Vec<Note> {
    shared_names(envs, focus)
        .into_iter()
        .chain(shared_vpc_endpoints(envs, focus))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_role(name: &str) -> Output {
        let mut out = Output::default();
        out.files.insert(
            "terraform/infra/iam.tf.json".into(),
            serde_json::json!({"resource": {"aws_iam_role": {"app": {"name": name}}}}).to_string(),
        );
        out
    }

    /// A synth of some environments is compared with the others, but two others colliding
    /// with each other is their own synth's business.
    #[test]
    fn only_pairs_with_a_lowered_environment_count() {
        let (prod, staging, dev) = (with_role("prod-app"), with_role("app"), with_role("app"));
        let envs = [("production", &prod), ("staging", &staging), ("dev", &dev)];
        assert!(shared_names(&envs, &["production"]).is_none());
        let note = shared_names(&envs, &["staging"]).expect("staging collides with dev");
        assert!(
            note.text.contains("environments dev, staging give 1"),
            "{}",
            note.text
        );
    }
}
