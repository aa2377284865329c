//! Terraform addresses declared twice in one module, and Kubernetes objects written twice.
//! Both are derived from component names plus a suffix (`aws_db_instance.<db>_replica`,
//! Deployment `<service>-canary`), so two names can meet on one address: a database `db`
//! and another named `db-replica`. One body would replace the other, `terraform init` would
//! refuse the module, or `kubectl kustomize` the objects, so the output is refused instead,
//! with the error on the component whose name makes the clash.
//!
//! Cloud names too: some resource types keep names unique per account and region
//! (`crate::terraform::unique`). Two components that set the same name (two databases with
//! `identifier: shop-db`, two services with one `log_group`) would both plan, and the second
//! create fail at apply. CloudWatch alarms are the exception that fails silently:
//! PutMetricAlarm "creates or updates an alarm", and an update "completely overwrites the
//! previous configuration of the alarm"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>),
//! so the second apply rewrites the first alarm and one of the two watches nothing.
//!
//! A blueprint alarm (`observability.alarms`) meets infragen's own on a Terraform key
//! (`ident` of its name: `web-restarts` is `aws_cloudwatch_metric_alarm.web_restarts`, the
//! key of the EKS restarts alarm of a service `web`) or on an alarm name: the error is on
//! the blueprint alarm's `name`, the one thing to change, not on the component whose
//! default alarm it meets.

use crate::blueprint::Loaded;
use crate::blueprint::types::Component;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::output::Output;
use crate::terraform::ident;

/// `Err` when `out` declares an address twice (see [`Output::duplicates`]) or gives two
/// resources of one type the same cloud name (see [`Output::cloud_names`]).
pub fn refuse(loaded: &Loaded, out: &Output) -> Result<(), Diagnostics> {
    if out.duplicates.is_empty() && out.cloud_names.is_empty() && out.too_long.is_empty() {
        return Ok(());
    }
    let mut errors = addresses(loaded, out);
    errors.extend(cloud_names(loaded, out));
    errors.extend(too_long(loaded, out));
    if errors.is_empty() {
        return Ok(());
    }
    Err(Diagnostics(errors).with_source(&loaded.file, &loaded.text))
}

/// `overrides:` may set a name (an `identifier`, a `bucket`) and `extra:` templates add
/// resources, both after [`refuse`] ran on what the back-end wrote: the cloud names are read
/// again from the final Terraform files. Nothing is read when the blueprint has neither.
pub fn refuse_after_escape(loaded: &Loaded, out: &Output) -> Result<(), Diagnostics> {
    let bp = &loaded.blueprint;
    if bp.overrides.is_empty() && bp.extra.terraform.is_empty() {
        return Ok(());
    }
    let mut modules: std::collections::BTreeMap<String, Vec<crate::terraform::Named>> =
        Default::default();
    for (path, text) in &out.files {
        let Some((module, _)) = path
            .strip_prefix("terraform/")
            .filter(|p| p.ends_with(".tf.json"))
            .and_then(|p| p.split_once('/'))
        else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let Some(types) = doc.get("resource").and_then(|r| r.as_object()) else {
            continue;
        };
        for (ty, resources) in types {
            let Some((ty, attribute)) = crate::terraform::unique::name_attribute(ty) else {
                continue;
            };
            for (name, body) in resources.as_object().into_iter().flatten() {
                if let Some(value) = body.get(attribute).and_then(|v| v.as_str())
                    && !value.contains("${")
                {
                    modules.entry(module.to_string()).or_default().push((
                        ty,
                        value.to_string(),
                        name.clone(),
                    ));
                }
            }
        }
    }
    let probe = Output {
        cloud_names: modules.into_iter().collect(),
        ..Output::default()
    };
    let mut errors = cloud_names(loaded, &probe);
    errors.extend(too_long(loaded, &probe));
    if errors.is_empty() {
        return Ok(());
    }
    Err(Diagnostics(errors).with_source(&loaded.file, &loaded.text))
}

/// The blueprint's named parts that Terraform addresses derive from: the components, and
/// the buckets (named, but not components: nothing `uses` them).
fn named(loaded: &Loaded) -> Vec<Component<'_>> {
    let bp = &loaded.blueprint;
    let mut out = bp.components();
    out.extend(bp.buckets.iter().enumerate().map(|(index, b)| Component {
        list: "buckets",
        index,
        name: &b.name,
        renamed_from: None,
    }));
    out
}

/// Whether `component`'s name is a whole word of the name of `address` (`ecs_api` is
/// `api`'s log group, `db-headless` is `db`'s Service): `_`-separated in Terraform names,
/// `-` in Kubernetes object names.
fn derives(address: &str, component: &str) -> bool {
    let name = resource_name(address);
    let (id, sep) = if address.starts_with("k8s: ") {
        (component.to_string(), '-')
    } else {
        (ident(component), '_')
    };
    name == id
        || name.starts_with(&format!("{id}{sep}"))
        || name.ends_with(&format!("{sep}{id}"))
        || name.contains(&format!("{sep}{id}{sep}"))
}

/// The components whose names make `address`, longest name first: the first is the one whose
/// own name lands on it, the others derived it with a suffix.
fn owners(components: &[Component], address: &str) -> Vec<usize> {
    let mut out: Vec<usize> = (0..components.len())
        .filter(|&i| derives(address, components[i].name))
        .collect();
    out.sort_by_key(|&i| std::cmp::Reverse(components[i].name.len()));
    out
}

/// `terraform/infra: aws_vpc.main` as `` `aws_vpc.main` (terraform/infra) ``.
fn shown(address: &str) -> String {
    match address.split_once(": ") {
        Some((module, address)) => format!("`{address}` ({module})"),
        None => format!("`{address}`"),
    }
}

/// Where a component's name is written, for an error.
fn at(loaded: &Loaded, c: &Component) -> Option<crate::diagnostic::Span> {
    loaded.span(&format!("{}[{}].name", c.list, c.index))
}

/// Cloud names past the API's length limit (`crate::terraform::unique::max_len`): derived
/// from the blueprint's and the components' names, they outgrow it when those are long.
fn too_long(loaded: &Loaded, out: &Output) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let components = named(loaded);
    for (module, ty, name, resource) in all_names(out) {
        let Some(max) = crate::terraform::unique::max_len(ty) else {
            continue;
        };
        if name.len() <= max || !seen.insert(name) {
            continue;
        }
        let address = &format!("terraform/{module}: {ty}.{resource}");
        let attribute = crate::terraform::unique::name_attribute(ty).map_or("name", |(_, a)| a);
        let over = name.len() - max;
        let d = Diagnostic::new(format!(
            "the {attribute} `{name}` of `{}` has {} characters; `{ty}` allows {max}",
            address
                .split_once(": ")
                .map_or(address.as_str(), |(_, a)| a),
            name.len()
        ))
        .expected(format!("at most {max} characters"));
        errors.push(match owners(&components, address).first() {
            Some(&i) => {
                let c = &components[i];
                d.at(at(loaded, c)).help(format!(
                    "shorten `{}` (or the blueprint's `name`) by {over} characters, or set the field that names it",
                    c.name
                ))
            }
            None => d
                .at(loaded.span("name"))
                .help(format!("shorten the blueprint's `name` by {over} characters")),
        });
    }
    for (id, value, max) in &out.too_long {
        let object = id.strip_prefix("k8s: ").unwrap_or(id);
        let what = match object.rsplit('/').next() {
            Some(name) if name == value => format!("the name of {object}"),
            _ => format!("`{value}`, a label of {object},"),
        };
        let d = Diagnostic::new(format!(
            "{what} has {} characters; Kubernetes allows {max}",
            value.len()
        ))
        .expected(format!("at most {max} characters"));
        let over = value.len() - max;
        errors.push(match owners(&components, id).first() {
            Some(&i) => {
                let c = &components[i];
                d.at(at(loaded, c))
                    .help(format!("shorten `{}` by {over} characters", c.name))
            }
            None => d.help(format!(
                "shorten the names it derives from by {over} characters"
            )),
        });
    }
    errors
}

/// Every collected cloud name: (module, type, name, resource name).
fn all_names(out: &Output) -> impl Iterator<Item = (&str, &'static str, &str, &str)> {
    out.cloud_names.iter().flat_map(|(module, names)| {
        names.iter().map(move |(ty, name, resource)| {
            (module.as_str(), *ty, name.as_str(), resource.as_str())
        })
    })
}

fn cloud_names(loaded: &Loaded, out: &Output) -> Vec<Diagnostic> {
    // Names taken twice (usually none) are neighbours once sorted; addresses only for those.
    let mut sorted: Vec<(&str, &str)> = all_names(out).map(|(_, ty, n, _)| (ty, n)).collect();
    sorted.sort_unstable();
    let clashes: std::collections::BTreeSet<(&str, &str)> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    if clashes.is_empty() {
        return Vec::new();
    }
    let mut by_name: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
    for (module, ty, name, resource) in all_names(out) {
        if clashes.contains(&(ty, name)) {
            by_name
                .entry((ty, name))
                .or_default()
                .push(format!("terraform/{module}: {ty}.{resource}"));
        }
    }
    let components = named(loaded);
    let mut errors = Vec::new();
    for ((ty, name), mut addresses) in by_name {
        addresses.sort();
        addresses.dedup();
        if addresses.len() < 2 {
            // One address declared twice: [`addresses`] reports it.
            continue;
        }
        if let Some(e) = alarm_name_clash(loaded, ty, name, &addresses) {
            errors.push(e);
            continue;
        }
        let attribute = crate::terraform::unique::name_attribute(ty).map_or("name", |(_, a)| a);
        let listed: Vec<String> = addresses.iter().map(|a| shown(a)).collect();
        let mut owners: Vec<usize> = addresses
            .iter()
            .filter_map(|a| owners(&components, a).first().copied())
            .collect();
        owners.sort();
        owners.dedup();
        let d = Diagnostic::new(format!(
            "{} resources of type `{ty}` would all have the {attribute} `{name}`: {}",
            addresses.len(),
            listed.join(", ")
        ))
        .expected(if ty == "aws_cloudwatch_metric_alarm" {
            "an alarm_name of its own for each: PutMetricAlarm creates or updates, so the second would silently rewrite the first".to_string()
        } else {
            format!(
                "a {attribute} of its own for each: the API keeps them unique, so the second create fails"
            )
        });
        errors.push(match owners.as_slice() {
            [.., last] if owners.len() >= 2 => {
                let c = &components[*last];
                let others: Vec<String> = owners[..owners.len() - 1]
                    .iter()
                    .map(|&o| format!("`{}`", components[o].name))
                    .collect();
                d.at(at(loaded, c)).help(format!(
                        "`{}` and {} set or derive the same {attribute}: change the field that names it on one of them",
                        c.name,
                        others.join(", ")
                    ))
            }
            _ => d.help(
                "this is a defect in infragen; please report it with the blueprint",
            ),
        });
    }
    errors
}

fn addresses(loaded: &Loaded, out: &Output) -> Vec<Diagnostic> {
    if out.duplicates.is_empty() {
        return Vec::new();
    }
    let components = named(loaded);
    // Component index → the addresses its name takes that another's derived name also takes.
    // Component index → the addresses its name takes that another name also takes: one
    // another component derives (`db` and `db-replica`), or one derived from no component's
    // name: a fixed suffix (the gRPC services' Ingress `<ingress>-grpc` meets the own
    // Ingress `<ingress>-<service>` of a service named `grpc`), a `service_name`, the
    // Ingress's name. Renaming the component frees the address either way.
    let mut clashes: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    let mut unexplained = Vec::new();
    let mut errors = Vec::new();
    for d in &out.duplicates {
        if let Some(e) = alarm_key_clash(loaded, d) {
            errors.push(e);
            continue;
        }
        match owners(&components, d).first() {
            Some(&longest) => clashes.entry(longest).or_default().push(d),
            None => unexplained.push(d),
        }
    }
    for (i, addresses) in clashes {
        let c = &components[i];
        let others: Vec<String> = components
            .iter()
            .filter(|o| o.name != c.name && addresses.iter().any(|a| derives(a, o.name)))
            .map(|o| format!("`{}[{}]` `{}`", o.list, o.index, o.name))
            .collect();
        let mut list: Vec<String> = addresses.iter().take(3).map(|a| shown(a)).collect();
        if addresses.len() > 3 {
            list.push(format!("and {} more", addresses.len() - 3));
        }
        let message = if others.is_empty() {
            format!(
                "`{}` makes {}, a name infragen also gives another object (from a fixed suffix, a `service_name` or the Ingress's name): one would replace the other",
                c.name,
                list.join(", ")
            )
        } else {
            format!(
                "`{}` takes names infragen also derives from {}: {}",
                c.name,
                others.join(", "),
                list.join(", ")
            )
        };
        errors.push(
            Diagnostic::new(message)
                .at(at(loaded, c))
                .expected("component names whose derived resource and object names do not meet")
                .help(format!(
                    "rename `{}` (e.g. put the distinguishing word first)",
                    c.name
                )),
        );
    }
    for d in unexplained {
        let (module, address) = d.split_once(": ").unwrap_or(("", d));
        let what = if module == "k8s" {
            format!("two Kubernetes objects would share the id `{address}`")
        } else {
            format!("two resources would share the Terraform address `{address}` in `{module}`")
        };
        errors.push(
            Diagnostic::new(what)
                .expected("one address per resource: the second would replace the first")
                .help(
                    "this is a defect in infragen; please report it with the blueprint. Renaming \
                 one of the components whose names make this address avoids it",
                ),
        );
    }
    errors
}

/// The `observability.alarms` entries (index, name) whose Terraform key is `key`
/// (`backend/aws/observability.rs` keys each `aws_cloudwatch_metric_alarm` by `ident` of
/// its name).
fn user_alarms_keyed<'a>(loaded: &'a Loaded, key: &str) -> Vec<(usize, &'a str)> {
    let alarms = loaded
        .blueprint
        .observability
        .iter()
        .flat_map(|o| &o.alarms);
    alarms
        .enumerate()
        .filter(|(_, a)| ident(&a.name) == key)
        .map(|(i, a)| (i, a.name.as_str()))
        .collect()
}

/// A duplicate `aws_cloudwatch_metric_alarm` address that a blueprint alarm's name makes:
/// the error on that alarm's `name`, whichever other alarm (one of infragen's own, or
/// another blueprint alarm) takes the address too.
fn alarm_key_clash(loaded: &Loaded, duplicate: &str) -> Option<Diagnostic> {
    let (_, address) = duplicate.split_once(": ")?;
    let key = address.strip_prefix("aws_cloudwatch_metric_alarm.")?;
    let mine = user_alarms_keyed(loaded, key);
    let &(i, name) = mine.last()?;
    let other = match mine.as_slice() {
        [.., (j, other), _] => format!("`observability.alarms[{j}]` `{other}`, whose name makes the same key"),
        _ => "one of the alarms infragen makes itself (`<service>-restarts`, `<service>-no-running-pods`, `<service>-no-healthy-hosts`, … — docs/output.md, \"Alarms\")".into(),
    };
    Some(
        Diagnostic::new(format!(
            "alarm `{name}` is `{address}` ({}), the Terraform address of {other}: one body would replace the other",
            duplicate.split_once(": ").map_or("", |(m, _)| m)
        ))
        .at(loaded.span(&format!("observability.alarms[{i}].name")))
        .expected("an alarm name whose Terraform key (the name with `-` as `_`) no other alarm has")
        .help(format!("rename the alarm, e.g. `{name}-custom`")),
    )
}

/// Two alarms with one `alarm_name`, one of them a blueprint alarm (whose `alarm_name` is
/// its `name` as written): the error on that alarm's `name`.
fn alarm_name_clash(
    loaded: &Loaded,
    ty: &str,
    name: &str,
    addresses: &[String],
) -> Option<Diagnostic> {
    if ty != "aws_cloudwatch_metric_alarm" {
        return None;
    }
    let alarms = loaded
        .blueprint
        .observability
        .iter()
        .flat_map(|o| &o.alarms);
    let (i, _) = alarms.enumerate().filter(|(_, a)| a.name == name).last()?;
    let listed: Vec<String> = addresses.iter().map(|a| shown(a)).collect();
    Some(
        Diagnostic::new(format!(
            "alarm `{name}` has the CloudWatch alarm name of another alarm: {}",
            listed.join(", ")
        ))
        .at(loaded.span(&format!("observability.alarms[{i}].name")))
        .expected(
            "an alarm name of its own: PutMetricAlarm creates or updates, so each apply would rewrite the other alarm's configuration and one of the two would watch nothing",
        )
        .help(format!("rename the alarm, e.g. `{name}-custom`")),
    )
}

/// The name part of an address: `aws_db_instance.db_replica` → `db_replica`,
/// `data.aws_iam_policy_document.x` → `x`, `output.db_host` → `db_host`, and of an object
/// (`k8s: Deployment shop/api-canary`) → `api-canary`.
fn resource_name(address: &str) -> &str {
    if let Some(object) = address.strip_prefix("k8s: ") {
        let (_, id) = object.split_once(' ').unwrap_or(("", object));
        return id.rsplit_once('/').map_or(id, |(_, n)| n);
    }
    let rest = address.split_once(": ").map_or(address, |(_, a)| a);
    let rest = rest.strip_prefix("data.").unwrap_or(rest);
    rest.split_once('.').map_or(rest, |(_, n)| n)
}
