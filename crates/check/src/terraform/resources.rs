//! Resources and data sources: their types, their provider, and their meta-arguments
//! (`count`, `for_each`, `depends_on`, `provider`, `lifecycle`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::collect::Module;
use super::expr::{bare_expr, is_expr};
use super::messages::{describe, did_you_mean, suggest};
use super::{At, Checker, Top};

impl Checker<'_> {
    pub(super) fn check_resources(&mut self, m: &Module<'_>) {
        // First resource (in address order) using each provider missing from required_providers.
        let mut unlisted: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (kind, decls) in [(Top::Resource, &m.resources), (Top::Data, &m.data)] {
            for ((ty, name), list) in decls {
                let address = match kind {
                    Top::Data => format!("data.{ty}.{name}"),
                    _ => format!("{ty}.{name}"),
                };
                let schema = match kind {
                    Top::Data => self.schemas.data_source(ty),
                    _ => self.schemas.resource(ty),
                };
                for decl in list {
                    let at = At {
                        file: decl.file,
                        address: &address,
                    };
                    let Some(block) = schema else {
                        let (what, known) = match kind {
                            Top::Data => ("data source", &self.schemas.data_sources),
                            _ => ("resource", &self.schemas.resources),
                        };
                        let hint = suggest(ty, known.keys().map(String::as_str));
                        self.report(
                            at,
                            format!(
                                "{what} type \"{ty}\" is not in the provider schemas{}",
                                did_you_mean(hint)
                            ),
                        );
                        continue;
                    };
                    let bodies: Vec<&Value> = match decl.body {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for body in bodies {
                        self.check_block(at, "", block, body, Some(kind));
                        if let Some(obj) = body.as_object() {
                            self.check_meta_arguments(m, at, obj, true);
                            // Without a `provider` meta-argument (checked on its own) the
                            // provider is implied by the type name's first word.
                            if !m.required_providers.is_empty() && !obj.contains_key("provider") {
                                let provider = ty.split('_').next().unwrap_or(ty).to_string();
                                if !m.required_providers.contains_key(provider.as_str()) {
                                    unlisted.entry(provider).or_insert_with(|| {
                                        (decl.file.to_string(), address.clone())
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        for (provider, (file, address)) in unlisted {
            self.report(
                At { file: &file, address: &address },
                format!("uses provider \"{provider}\", which terraform.required_providers does not declare"),
            );
        }
    }

    /// The meta-arguments whose checks need the whole module (`depends_on`, `provider`)
    /// or more than one argument (`count` with `for_each`). Module calls have no
    /// `provider` meta-argument (a child module may take an input of that name).
    pub(super) fn check_meta_arguments(
        &mut self,
        m: &Module<'_>,
        at: At<'_>,
        body: &Map<String, Value>,
        provider_meta: bool,
    ) {
        if body.contains_key("count") && body.contains_key("for_each") {
            self.report(at, "\"count\" and \"for_each\" cannot both be set");
        }
        if let Some(v) = body.get("depends_on") {
            self.check_depends_on(m, at, v);
        }
        if let Some(v) = body.get("provider").filter(|_| provider_meta) {
            match v.as_str() {
                Some(s) => {
                    let s = bare_expr(s);
                    let (name, alias) = match s.split_once('.') {
                        Some((n, a)) => (n, Some(a)),
                        None => (s, None),
                    };
                    if !m.required_providers.contains_key(name) {
                        self.report(at, format!("provider: \"{name}\" is not declared in terraform.required_providers"));
                    } else if let Some(alias) = alias
                        && !m.has_alias(name, alias)
                    {
                        self.report(
                            at,
                            format!("provider: no provider \"{name}\" block has alias \"{alias}\""),
                        );
                    }
                }
                None => self.report(
                    at,
                    format!(
                        "provider: expected a provider reference such as \"aws.west\", got {}",
                        describe(v)
                    ),
                ),
            }
        }
    }

    pub(super) fn check_depends_on(&mut self, m: &Module<'_>, at: At<'_>, v: &Value) {
        let Some(items) = v.as_array() else {
            self.report(
                at,
                format!(
                    "depends_on: expected a list of references, got {}",
                    describe(v)
                ),
            );
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(s) = item.as_str() else {
                self.report(
                    at,
                    format!(
                        "depends_on[{i}]: expected a reference, got {}",
                        describe(item)
                    ),
                );
                continue;
            };
            let text = bare_expr(s);
            // Instance keys (`aws_subnet.a[0]`) are allowed; attributes are not.
            let (path, after_keys) = match text.find('[') {
                Some(p) => (&text[..p], text[p..].trim_start_matches(|c| c != '.')),
                None => (text, ""),
            };
            let parts: Vec<&str> = path.split('.').collect();
            let (declared, what, whole) = match parts.as_slice() {
                ["data", t, n, rest @ ..] => (
                    m.data.contains_key(&(*t, *n)),
                    "data source",
                    rest.is_empty(),
                ),
                ["module", n, rest @ ..] => (m.modules.contains_key(n), "module", rest.is_empty()),
                ["var", n, rest @ ..] => (m.variables.contains_key(n), "variable", rest.is_empty()),
                ["local", n, rest @ ..] => {
                    (m.locals.contains_key(n), "local value", rest.is_empty())
                }
                [t, n, rest @ ..] if !t.is_empty() && !n.is_empty() => (
                    m.resources.contains_key(&(*t, *n)),
                    "resource",
                    rest.is_empty(),
                ),
                _ => {
                    self.report(at, format!("depends_on: \"{s}\" is not a reference to a resource, data source or module"));
                    continue;
                }
            };
            if !declared {
                self.report(
                    at,
                    format!("depends_on: \"{text}\" is not a declared {what}"),
                );
            } else if !whole || !after_keys.is_empty() {
                self.report(
                    at,
                    format!(
                        "depends_on: \"{text}\" must name a whole {what}, not one of its attributes"
                    ),
                );
            }
        }
    }

    /// Shapes of the meta-arguments that can be checked in isolation.
    pub(super) fn check_meta_value(&mut self, at: At<'_>, key: &str, v: &Value) {
        match key {
            "count" => self.check_value(at, key, &Value::from("number"), v),
            "for_each" => match v {
                Value::Object(_) => {}
                s if is_expr(s) => {}
                Value::Array(_) => self.report(
                    at,
                    "for_each: a JSON array is a tuple, which for_each rejects; use a map or \"${toset([...])}\"",
                ),
                other => self.report(at, format!("for_each: expected a map or a set of strings, got {}", describe(other))),
            },
            "lifecycle" => self.check_lifecycle(at, v),
            // depends_on and provider need the module; provisioner and connection are opaque.
            _ => {}
        }
    }

    pub(super) fn check_lifecycle(&mut self, at: At<'_>, v: &Value) {
        for obj in self.objects(at, "lifecycle", v) {
            for (k, kv) in obj {
                let path = format!("lifecycle.{k}");
                match k.as_str() {
                    "//" => {}
                    "create_before_destroy" | "prevent_destroy" => {
                        self.check_value(at, &path, &Value::from("bool"), kv)
                    }
                    "ignore_changes" => {
                        if !(kv.is_array() || kv.as_str() == Some("all") || is_expr(kv)) {
                            self.report(
                                at,
                                format!(
                                    "{path}: expected a list of attribute names or \"all\", got {}",
                                    describe(kv)
                                ),
                            );
                        }
                    }
                    "replace_triggered_by" => {
                        self.check_value(at, &path, &serde_json::json!(["list", "dynamic"]), kv)
                    }
                    "precondition" | "postcondition" => self.check_conditions(at, &path, kv),
                    other => {
                        let known = [
                            "create_before_destroy",
                            "prevent_destroy",
                            "ignore_changes",
                            "replace_triggered_by",
                            "precondition",
                            "postcondition",
                        ];
                        let hint = suggest(other, known);
                        self.report(
                            at,
                            format!(
                                "lifecycle: unknown argument \"{other}\"{}",
                                did_you_mean(hint)
                            ),
                        );
                    }
                }
            }
        }
    }

    /// `precondition`, `postcondition` and variable `validation` blocks.
    pub(super) fn check_conditions(&mut self, at: At<'_>, path: &str, v: &Value) {
        for obj in self.objects(at, path, v) {
            for k in obj.keys() {
                if !matches!(k.as_str(), "//" | "condition" | "error_message") {
                    let hint = suggest(k, ["condition", "error_message"]);
                    self.report(
                        at,
                        format!("{path}: unknown argument \"{k}\"{}", did_you_mean(hint)),
                    );
                }
            }
            for required in ["condition", "error_message"] {
                if !obj.contains_key(required) {
                    self.report(
                        at,
                        format!("{path}: missing required argument \"{required}\""),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{check, valid_module};
    use super::super::{ProviderSchemas, check_module};
    use serde_json::json;

    #[test]
    fn unknown_resource_type() {
        let mut doc = valid_module();
        doc["resource"]["aws_vpcc"] = json!({"x": {}});
        assert_eq!(
            check(doc),
            [
                "main.tf.json: aws_vpcc.x: resource type \"aws_vpcc\" is not in the provider schemas (did you mean \"aws_vpc\"?)"
            ]
        );
    }

    #[test]
    fn depends_on_and_duplicates_across_files() {
        let mut first = valid_module();
        first["resource"]["aws_subnet"]["a"]["depends_on"] = json!([
            "aws_vpc.other",
            "aws_vpc.main.id",
            "${aws_vpc.main}",
            "data.aws_availability_zones.all[0].id"
        ]);
        let second = json!({"resource": {"aws_vpc": {"main": {"cidr_block": "10.1.0.0/16"}}}});
        let problems: Vec<String> = check_module(
            &[("a.tf.json".into(), first), ("b.tf.json".into(), second)],
            ProviderSchemas::bundled(),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            problems,
            [
                "a.tf.json: aws_subnet.a: depends_on: \"aws_vpc.main.id\" must name a whole resource, not one of its attributes",
                "a.tf.json: aws_subnet.a: depends_on: \"aws_vpc.other\" is not a declared resource",
                "a.tf.json: aws_subnet.a: depends_on: \"data.aws_availability_zones.all[0].id\" must name a whole data source, not one of its attributes",
                "b.tf.json: aws_vpc.main: declared more than once (first in a.tf.json)",
            ]
        );
    }
}
