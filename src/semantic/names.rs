//! Names: valid for every target (DNS-1123 labels fit Kubernetes, AWS and DigitalOcean
//! alike) and unique where the back-ends derive resource addresses from them.

use std::collections::BTreeMap;

use super::Checker;
use crate::blueprint::types::Blueprint;

/// Kubernetes object names, Terraform addresses and cloud identifiers are all derived from
/// these names, so the strictest common form is enforced: a DNS-1123 label.
pub fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-')
}

/// `name` must be a label; `path` says where it is written, formatted only for an error
/// (every component is checked, nearly always valid).
fn label(c: &mut Checker, path: std::fmt::Arguments, name: &str) {
    if !is_label(name) {
        let path = path.to_string();
        let path = path.as_str();
        let fixed: String = name
            .to_lowercase()
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        let d = c.error(path, format!("`{name}` is not a valid name"));
        d.expected = Some(
            "lower-case letters, digits and `-`, starting with a letter, at most 63 characters"
                .into(),
        );
        if is_label(&fixed) {
            d.help = Some(format!("try `{fixed}`"));
        }
    }
}

/// `names` must be unique within one list.
fn unique<'a>(c: &mut Checker, list: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in names.enumerate() {
        if let Some(first) = seen.insert(n, i) {
            c.error(
                &format!("{list}[{i}].name"),
                format!("duplicate name `{n}`"),
            )
            .help = Some(format!("`{list}[{first}]` already uses it"));
            seen.insert(n, first);
        }
    }
}

/// On AWS every ECS service and job, and every managed database, cache and broker, has a
/// security group named after it (`<name>-<component>-sg`, `backend::aws::security::sg_name`), and so do two groups
/// infragen adds: the load balancer's (`alb`) and the interface VPC endpoints'
/// (`vpc-endpoints`). Group names are unique per VPC, so a component of either name makes
/// the second `CreateSecurityGroup` fail (`InvalidGroup.Duplicate`): refused at its name.
fn aws_group_names(c: &mut Checker, bp: &Blueprint) {
    if c.provider != crate::catalog::Provider::Aws {
        return;
    }
    let Some(net) = &bp.network else { return };
    // Only ECS tasks have security groups of their own and only ECS gets infragen's ALB (on
    // EKS the AWS Load Balancer Controller makes its own groups); data services have theirs
    // everywhere.
    let ecs = bp.platform() == Some(crate::blueprint::types::Platform::EcsFargate);
    let mut taken: Vec<(&str, &str)> = Vec::new();
    if ecs && bp.load_balancer.is_some() {
        taken.push(("alb", "the load balancer's"));
    }
    if net.endpoints.iter().any(|e| !e.gateway()) {
        taken.push(("vpc-endpoints", "the interface VPC endpoints'"));
    }
    for x in bp.components() {
        let grouped = match x.list {
            "services" | "jobs" => ecs,
            "databases" | "caches" => true,
            // An SQS queue has no security group; a broker (Amazon MQ) has.
            "queues" => bp.queues.get(x.index).is_some_and(|q| !q.sqs()),
            _ => false,
        };
        if !grouped {
            continue;
        }
        // `sg_name` keeps a component name that already begins with the system's.
        let same = |n: &str| x.name == n || x.name == format!("{}-{n}", bp.name);
        if let Some((n, whose)) = taken.iter().find(|(n, _)| same(n)) {
            c.error(
                &format!("{}[{}].name", x.list, x.index),
                format!("`{}` gives its security group the name of {whose} (`…-{n}-sg`): group names are unique in a VPC, so the second is refused (InvalidGroup.Duplicate)", x.name),
            )
            .help = Some(format!("choose another name, e.g. `{}-svc`", x.name));
        }
    }
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    aws_group_names(c, bp);
    label(c, format_args!("name"), &bp.name);
    if bp.name.len() > 24 {
        c.error(
            "name",
            format!("`{}` is {} characters; at most 24", bp.name, bp.name.len()),
        )
        .help = Some(
            "derived names (load balancers, caches) must fit AWS's 32-character limits".into(),
        );
    }
    let components = bp.components();
    for x in &components {
        label(c, format_args!("{}[{}].name", x.list, x.index), x.name);
        if let Some(old) = x.renamed_from {
            let path = format!("{}[{}].renamed_from", x.list, x.index);
            label(c, format_args!("{path}"), old);
            if old == x.name {
                c.error(&path, "is the component's current name");
            } else if components.iter().any(|y| y.list == x.list && y.name == old) {
                c.error(
                    &path,
                    format!("`{old}` is still the name of another component"),
                );
            }
        }
    }
    let mut lists: Vec<&str> = components.iter().map(|x| x.list).collect();
    lists.dedup();
    for list in lists {
        unique(
            c,
            list,
            components.iter().filter(|x| x.list == list).map(|x| x.name),
        );
    }
    if let Some(k) = &bp.kubernetes {
        for (i, n) in k.namespaces.iter().enumerate() {
            label(c, format_args!("kubernetes.namespaces[{i}].name"), &n.name);
        }
        unique(
            c,
            "kubernetes.namespaces",
            k.namespaces.iter().map(|n| n.name.as_str()),
        );
        for (i, s) in k.service_accounts.iter().enumerate() {
            label(
                c,
                format_args!("kubernetes.service_accounts[{i}].name"),
                &s.name,
            );
        }
        for (i, r) in k.roles.iter().enumerate() {
            label(c, format_args!("kubernetes.roles[{i}].name"), &r.name);
        }
        unique(
            c,
            "kubernetes.roles",
            k.roles.iter().map(|r| r.name.as_str()),
        );
        unique(
            c,
            "kubernetes.issuers",
            k.issuers.iter().map(|r| r.name.as_str()),
        );
    }
    // `uses` names data components of every kind, so a name may be used by one kind only.
    // Name → (list, index) of its first owner.
    let mut owners: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    // Buckets too: a queue and a bucket both named `uploads` left `uses: [uploads]` wired to
    // the queue alone, the bucket's variables and IAM silently missing.
    let kinds: [(&str, Vec<&str>); 6] = [
        (
            "databases",
            bp.databases.iter().map(|x| x.name.as_str()).collect(),
        ),
        (
            "caches",
            bp.caches.iter().map(|x| x.name.as_str()).collect(),
        ),
        (
            "queues",
            bp.queues.iter().map(|x| x.name.as_str()).collect(),
        ),
        (
            "tables",
            bp.tables.iter().map(|x| x.name.as_str()).collect(),
        ),
        (
            "secrets",
            bp.secrets.iter().map(|x| x.name.as_str()).collect(),
        ),
        (
            "buckets",
            bp.buckets.iter().map(|x| x.name.as_str()).collect(),
        ),
    ];
    for (kind, names) in &kinds {
        for (i, n) in names.iter().enumerate() {
            match owners.get(n) {
                Some(&(list, j)) if list != *kind => {
                    let msg = format!("`{n}` is also the name of `{list}[{j}]`");
                    c.error(&format!("{kind}[{i}].name"), msg).help =
                        Some("`services[].uses` refers to components by name; rename one".into());
                }
                _ => {
                    owners.insert(n, (kind, i));
                }
            }
        }
    }
    generated_secrets(c, bp);
    in_cluster_names(c, bp);
    data_pod_names(c, bp);
    table_names(c, bp);
    if let Some(s) = &bp.state {
        let b = &s.bucket;
        let ok = (3..=63).contains(&b.len())
            && b.bytes()
                .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == b'-' || x == b'.')
            && b.as_bytes()[0].is_ascii_alphanumeric()
            && b.as_bytes()[b.len() - 1].is_ascii_alphanumeric();
        if !ok {
            c.error("state.bucket", format!("`{b}` is not a valid bucket name")).expected = Some(
                "3–63 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit".into(),
            );
        }
    }
}

/// A DynamoDB table's own name (`tables[].table`): 3–255 letters, digits, `_`, `-` and `.`
/// (DynamoDB developer guide, "Naming rules"), else CreateTable fails mid-apply; and two
/// tables of one blueprint may not share it.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html>
fn table_names(c: &mut Checker, bp: &Blueprint) {
    for (i, t) in bp.tables.iter().enumerate() {
        let Some(n) = &t.table else { continue };
        let ok = (3..=255).contains(&n.len())
            && n.bytes()
                .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'-' | b'.'));
        if !ok {
            c.error(
                &format!("tables[{i}].table"),
                format!("`{n}` is not a valid DynamoDB table name"),
            )
            .expected = Some("3–255 letters, digits, `_`, `-` and `.`".into());
        } else if let Some(other) = bp.tables[..i].iter().find(|o| o.table_name() == n) {
            c.error(
                &format!("tables[{i}].table"),
                format!("`{n}` is also the table name of `{}`", other.name),
            )
            .help = Some("give each table its own name".into());
        }
    }
}

/// An in-cluster data service's Service (`in_cluster.service_name`, default its name) and
/// credentials Secret (`in_cluster.credentials_secret`, default `<name>-credentials`) are
/// objects in one namespace: two data services naming the same one would write one object
/// twice (one Secret's generated password replacing the other's), and a data service's
/// Service named like a service's would take its traffic.
fn in_cluster_names(c: &mut Checker, bp: &Blueprint) {
    let data = bp
        .databases
        .iter()
        .map(|d| ("databases", &d.name, &d.in_cluster))
        .chain(bp.caches.iter().map(|x| ("caches", &x.name, &x.in_cluster)))
        .chain(bp.brokers().map(|x| ("queues", &x.name, &x.in_cluster)));
    // Object name → the component that has it first, and whether that name was set rather
    // than derived from a component name (two derived ones meet only when two components
    // share a name, an error of its own).
    let mut services: BTreeMap<String, (String, bool)> = BTreeMap::new();
    let mut secrets: BTreeMap<String, (String, bool)> = BTreeMap::new();
    // Data services run in the default namespace, beside the services that name no other.
    let default_namespace = bp.default_namespace();
    // Keys are `<namespace>/<name>`: a Service's name is unique in its namespace.
    for (i, s) in bp
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.port.is_some())
    {
        let namespace = s.namespace.as_deref().unwrap_or(default_namespace);
        let object = s.service_name.as_deref().unwrap_or(&s.name);
        let key = format!("{namespace}/{object}");
        match services.get(&key) {
            Some((first, _)) if s.service_name.is_some() => {
                c.error(
                    &format!("services[{i}].service_name"),
                    format!("`{object}` is also the Service of {first}"),
                )
                .help = Some("each service needs a Service name of its own".into());
            }
            _ => {
                let owner = format!("`services[{i}]` ({})", s.name);
                services.insert(key, (owner, true));
            }
        }
    }
    let mut indices: BTreeMap<&str, usize> = BTreeMap::new();
    for (list, name, ic) in data {
        let i = indices.entry(list).or_default();
        let at = format!("{list}[{i}]");
        *i += 1;
        for (field, what, value, default, seen) in [
            (
                "service_name",
                "Service",
                ic.service_name.as_deref(),
                name.clone(),
                &mut services,
            ),
            (
                "credentials_secret",
                "credentials Secret",
                ic.credentials_secret.as_deref(),
                format!("{name}-credentials"),
                &mut secrets,
            ),
        ] {
            let mut object = value.map_or(default, String::from);
            if field == "service_name" {
                object = format!("{default_namespace}/{object}");
            }
            if let Some((first, set)) = seen.get(&object)
                && (*set || value.is_some())
            {
                let path = match value {
                    Some(_) => format!("{at}.in_cluster.{field}"),
                    None => format!("{at}.name"),
                };
                let shown = object.rsplit('/').next().unwrap_or(&object);
                c.error(&path, format!("`{shown}` is also the {what} of {first}"))
                    .help = Some(format!(
                    "each data service needs a {what} of its own: set `in_cluster.{field}`"
                ));
            } else {
                seen.insert(object, (format!("`{at}` ({name})"), value.is_some()));
            }
        }
    }
}

/// An in-cluster data service `orders` is a StatefulSet whose pods are `orders-0`,
/// `orders-1`… in the default namespace, and its backup CronJob's pods (`orders-backup`, when
/// `backup` is set) and MongoDB replica-set Job's (`orders-rs-init`) carry `app: <that name>`.
/// A service in that namespace named like one of them meets it:
///
/// - `<data>-<ordinal>`: on EKS, Container Insights publishes a Deployment's container
///   restarts under `PodName` = the Deployment's name and a StatefulSet's under the pod's own
///   name (`backend::aws::eks_alarms`, `podstore.go` `addPodOwnersAndPodName`), so the
///   service's restarts alarm and the data pod's read one series: each pages for the other's
///   crashes. Any ordinal is refused, not only those below today's `replicas`: raising the
///   replicas later would otherwise start the clash, and renaming a service then replaces it.
/// - `<data>-backup` / `<data>-rs-init`: the service's Service and `<service>-netpol` select
///   pods by `app`, so the Service would send requests to the backup Job's pods, the
///   service's policy would cut the backup's egress to its database, and the database's
///   policy (which admits the job by `app`) would admit the service without `uses`.
///
/// The two job names are reserved for services whether or not the database sets `backup` or
/// runs a replica set here, as [`super::jobs`] reserves them for jobs. Jobs are not refused
/// for ordinals: a run's pod is named after the run's Job (`<job>-<minutes>`), never
/// `<data>-<n>`, and jobs get no restarts alarm.
fn data_pod_names(c: &mut Checker, bp: &Blueprint) {
    use crate::analysis::{DataKind, runs_in_cluster};
    let provider = c.provider;
    // (kind in words, name, the `app` names of its jobs' pods).
    let mut data: Vec<(&str, &str, Vec<String>)> = Vec::new();
    for d in &bp.databases {
        if runs_in_cluster(provider, DataKind::Database, d.deployment) {
            // Reserved whether or not this environment sets `backup` or a replica set, as
            // `semantic::jobs` reserves them for jobs.
            let jobs = vec![format!("{}-backup", d.name), format!("{}-rs-init", d.name)];
            data.push(("database", &d.name, jobs));
        }
    }
    for x in &bp.caches {
        if runs_in_cluster(provider, DataKind::Cache, x.deployment) {
            data.push(("cache", &x.name, Vec::new()));
        }
    }
    for x in bp.brokers() {
        if runs_in_cluster(provider, DataKind::Queue, x.deployment) {
            data.push(("queue", &x.name, Vec::new()));
        }
    }
    if data.is_empty() {
        return;
    }
    // Data services run in the default namespace.
    let namespace = bp.default_namespace();
    for (i, s) in bp.services.iter().enumerate() {
        if s.namespace.as_deref().is_some_and(|n| n != namespace) {
            continue;
        }
        for (kind, name, jobs) in &data {
            let ordinal = s
                .name
                .strip_prefix(*name)
                .and_then(|rest| rest.strip_prefix('-'))
                .filter(|n| {
                    !n.is_empty()
                        && n.bytes().all(|b| b.is_ascii_digit())
                        && (*n == "0" || !n.starts_with('0'))
                });
            let what = if let Some(n) = ordinal {
                format!(
                    "pod {n} of in-cluster {kind} `{name}` (a StatefulSet: pods `{name}-0`, `{name}-1`…) in namespace `{namespace}`: on EKS the two share one Container Insights restarts series (`PodName`), so each restarts alarm pages for the other's crashes"
                )
            } else if jobs.contains(&s.name) {
                format!(
                    "the job of in-cluster {kind} `{name}` whose pods carry `app: {}` in namespace `{namespace}`: the service's Service and NetworkPolicy would select the job's pods, and the {kind}'s policy would admit the service",
                    s.name
                )
            } else {
                continue;
            };
            c.error(
                &format!("services[{i}].name"),
                format!("`{}` is also the name of {what}", s.name),
            )
            .help = Some(format!(
                "rename the service (not `{name}-<number>`, `{name}-backup` or `{name}-rs-init`), or run it in a namespace of its own (`services[{i}].namespace`)"
            ));
        }
    }
}

/// On AWS a database's generated master credentials and a cache's generated AUTH token get
/// secrets of their own, addressed `<database>_master` and `<cache>_auth_token`; a
/// blueprint secret of that name (`db-master`) would take the same Terraform address, and
/// one of the two would silently replace the other.
fn generated_secrets(c: &mut Checker, bp: &Blueprint) {
    if c.provider != crate::catalog::Provider::Aws {
        return;
    }
    let generated = bp
        .databases
        .iter()
        .filter(|d| d.password_secret.is_none())
        .map(|d| {
            (
                format!("{}-master", d.name),
                "databases",
                &d.name,
                "password_secret",
            )
        })
        .chain(
            bp.caches
                .iter()
                .filter(|x| x.auth_token_secret.is_none())
                .map(|x| {
                    (
                        format!("{}-auth-token", x.name),
                        "caches",
                        &x.name,
                        "auth_token_secret",
                    )
                }),
        );
    for (name, list, owner, field) in generated.collect::<Vec<_>>() {
        if let Some(i) = bp.secrets.iter().position(|s| s.name == name) {
            c.error(
                &format!("secrets[{i}].name"),
                format!(
                    "`{name}` is the name of the secret infragen generates for {list} `{owner}`"
                ),
            )
            .help = Some(format!(
                "to keep the generated value in this secret, set `{field}: {name}` on `{owner}`; else rename the secret"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_label;

    #[test]
    fn labels() {
        assert!(is_label("product-service"));
        assert!(is_label("a1"));
        assert!(!is_label("Product"));
        assert!(!is_label("1abc"));
        assert!(!is_label("a_b"));
        assert!(!is_label("a-"));
        assert!(!is_label(""));
        assert!(!is_label(&"a".repeat(64)));
    }
}
