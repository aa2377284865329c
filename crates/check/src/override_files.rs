//! Terraform's override files (`override.tf.json`, `*_override.tf.json`), merged into the
//! module's other files the way Terraform merges them before the checker looks at the
//! result — so a user's override is checked, not reported as a second declaration.
//!
//! The rules (Terraform's "Override Files" documentation): override files are applied after
//! every primary file, in lexical order; each block merges into the primary block of the same
//! address, attribute by attribute (a nested block type given in the override replaces all
//! the original blocks of that type, which in JSON is the same as replacing the key);
//! `lifecycle` merges argument by argument; `locals` replace value by value;
//! `terraform.required_providers` merges provider by provider. An override of something no
//! primary file declares is an error in Terraform, and a problem here.

use serde_json::{Map, Value};

use super::terraform::Problem;

/// Whether `name` (a file name, possibly with folders) is an override file.
pub fn is_override(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base == "override.tf.json" || base.ends_with("_override.tf.json")
}

/// The module's files with every override file merged into the primary ones (override files
/// themselves removed), and the problems merging found.
pub fn merge(files: &[(String, Value)]) -> (Vec<(String, Value)>, Vec<Problem>) {
    let (mut overrides, mut primary): (Vec<_>, Vec<_>) =
        files.iter().cloned().partition(|(n, _)| is_override(n));
    if overrides.is_empty() {
        return (primary, Vec::new());
    }
    overrides.sort_by(|a, b| a.0.cmp(&b.0));
    let mut problems = Vec::new();
    for (file, doc) in &overrides {
        let Some(top) = doc.as_object() else {
            // Left to the checker, which reports a non-object top level.
            primary.push((file.clone(), doc.clone()));
            continue;
        };
        let mut problem = |address: String, message: String| {
            problems.push(Problem {
                file: file.clone(),
                address,
                message,
            })
        };
        for (kind, v) in top {
            match kind.as_str() {
                "//" => {}
                "resource" | "data" => {
                    let prefix = if kind == "data" { "data." } else { "" };
                    for (ty, named) in objects(v) {
                        for (name, body) in objects(named) {
                            let address = format!("{prefix}{ty}.{name}");
                            match find(&mut primary, |top| {
                                top.get_mut(kind)?.get_mut(ty)?.get_mut(name)
                            }) {
                                Some(target) => merge_block(target, body),
                                None => problem(address, missing(kind)),
                            }
                        }
                    }
                }
                "variable" | "output" | "module" => {
                    for (name, body) in objects(v) {
                        match find(&mut primary, |top| top.get_mut(kind)?.get_mut(name)) {
                            Some(target) => merge_block(target, body),
                            None => problem(format!("{kind}.{name}"), missing(kind)),
                        }
                    }
                }
                "locals" => {
                    for (name, value) in objects(v) {
                        match find(&mut primary, |top| top.get_mut("locals")?.get_mut(name)) {
                            Some(target) => *target = value.clone(),
                            None => problem(format!("local.{name}"), missing("local value")),
                        }
                    }
                }
                "provider" => {
                    for (name, body) in objects(v) {
                        for cfg in blocks(body) {
                            let alias = cfg.get("alias").cloned();
                            let target = find(&mut primary, |top| {
                                let p = top.get_mut("provider")?.get_mut(name)?;
                                match p {
                                    Value::Array(items) => {
                                        items.iter_mut().find(|b| b.get("alias").cloned() == alias)
                                    }
                                    b => (b.get("alias").cloned() == alias).then_some(b),
                                }
                            });
                            match target {
                                Some(t) => merge_block(t, cfg),
                                None => problem(format!("provider.{name}"), missing("provider")),
                            }
                        }
                    }
                }
                "terraform" => {
                    for body in blocks(v) {
                        let target = find(&mut primary, |top| match top.get_mut("terraform")? {
                            Value::Array(items) => items.first_mut(),
                            t => Some(t),
                        });
                        match target {
                            Some(t) => merge_terraform(t, body),
                            None => {
                                match primary.first_mut().and_then(|(_, d)| d.as_object_mut()) {
                                    Some(top) => {
                                        top.insert("terraform".into(), body.clone());
                                    }
                                    None => problem("terraform".into(), missing("terraform block")),
                                }
                            }
                        }
                    }
                }
                other => problem(
                    other.to_string(),
                    format!("Terraform does not merge `{other}` blocks from override files"),
                ),
            }
        }
    }
    (primary, problems)
}

fn missing(what: &str) -> String {
    format!(
        "an override file may only change a {what} some other file of the module declares; none declares this one"
    )
}

/// The entries of an object, or of each object in an array of objects (both are valid
/// Terraform JSON for a block map); `//` comments skipped.
fn objects(v: &Value) -> Vec<(&String, &Value)> {
    blocks(v)
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.iter())
        .filter(|(k, _)| k.as_str() != "//")
        .collect()
}

/// A block given as one object or as an array of them.
fn blocks(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The first primary declaration `get` finds, in file order.
fn find(
    primary: &mut [(String, Value)],
    get: impl Fn(&mut Map<String, Value>) -> Option<&mut Value>,
) -> Option<&mut Value> {
    // Two passes so the borrow checker sees one mutable borrow at a time.
    let i = primary
        .iter_mut()
        .position(|(_, d)| d.as_object_mut().and_then(&get).is_some())?;
    primary[i].1.as_object_mut().and_then(get)
}

/// A resource, data, variable, output, module or provider body: attributes replace, except
/// `lifecycle`, which merges argument by argument.
fn merge_block(target: &mut Value, body: &Value) {
    let target = match target {
        Value::Array(items) if !items.is_empty() => &mut items[0],
        t => t,
    };
    let (Some(t), Some(b)) = (target.as_object_mut(), body.as_object()) else {
        *target = body.clone();
        return;
    };
    for (k, v) in b {
        match (k.as_str(), t.get_mut(k)) {
            ("lifecycle", Some(Value::Object(old))) if v.is_object() => {
                for (lk, lv) in v.as_object().into_iter().flatten() {
                    old.insert(lk.clone(), lv.clone());
                }
            }
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The `terraform` block: settings replace, `required_providers` merges by provider.
fn merge_terraform(target: &mut Value, body: &Value) {
    let (Some(t), Some(b)) = (target.as_object_mut(), body.as_object()) else {
        return;
    };
    for (k, v) in b {
        match (k.as_str(), t.get_mut(k)) {
            ("required_providers", Some(Value::Object(old))) if v.is_object() => {
                for (pk, pv) in v.as_object().into_iter().flatten() {
                    old.insert(pk.clone(), pv.clone());
                }
            }
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_override_replaces_attributes_of_the_primary_declaration() {
        let files = vec![
            (
                "main.tf.json".to_string(),
                json!({"resource": {"aws_sqs_queue": {"q": {"name": "a", "delay_seconds": 5, "lifecycle": {"prevent_destroy": true}}}},
                       "locals": {"x": 1}}),
            ),
            (
                "z_override.tf.json".to_string(),
                json!({"resource": {"aws_sqs_queue": {"q": {"name": "b", "lifecycle": {"ignore_changes": ["tags"]}}}},
                       "locals": {"x": 2}}),
            ),
        ];
        let (merged, problems) = merge(&files);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(merged.len(), 1);
        let q = &merged[0].1["resource"]["aws_sqs_queue"]["q"];
        assert_eq!(q["name"], "b");
        assert_eq!(q["delay_seconds"], 5);
        assert_eq!(q["lifecycle"]["prevent_destroy"], true);
        assert_eq!(q["lifecycle"]["ignore_changes"], json!(["tags"]));
        assert_eq!(merged[0].1["locals"]["x"], 2);
    }

    #[test]
    fn an_override_of_nothing_is_a_problem() {
        let files = vec![
            ("main.tf.json".to_string(), json!({"locals": {"x": 1}})),
            (
                "override.tf.json".to_string(),
                json!({"resource": {"aws_sqs_queue": {"q": {"name": "b"}}}}),
            ),
        ];
        let (_, problems) = merge(&files);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].address, "aws_sqs_queue.q");
    }
}
