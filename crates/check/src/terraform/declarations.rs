//! `terraform`, `provider`, `variable`, `output`, `module`, `moved` and `import` blocks.

use serde_json::Value;

use super::collect::Module;
use super::expr::bare_expr;
use super::messages::{describe, did_you_mean, prefixed, suggest};
use super::{At, Checker, Top};

impl Checker<'_> {
    pub(super) fn check_terraform_blocks(&mut self, m: &Module<'_>) {
        for decl in &m.terraform {
            let at = At {
                file: decl.file,
                address: "terraform",
            };
            let Some(body) = decl.body.as_object() else {
                continue;
            };
            for (k, v) in body {
                match k.as_str() {
                    "//" | "cloud" | "provider_meta" => {}
                    "required_version" => self.check_value(at, k, &Value::from("string"), v),
                    "experiments" => {
                        self.check_value(at, k, &serde_json::json!(["list", "dynamic"]), v)
                    }
                    "backend" => {
                        for b in self.objects(at, "backend", v) {
                            for (name, cfg) in b {
                                if name != "//" && !cfg.is_object() {
                                    let path = format!("backend.{name}");
                                    self.report(
                                        at,
                                        prefixed(
                                            &path,
                                            format!("expected an object, got {}", describe(cfg)),
                                        ),
                                    );
                                }
                            }
                        }
                    }
                    "required_providers" => {
                        for rp in self.objects(at, "required_providers", v) {
                            for (name, spec) in rp {
                                if name != "//" {
                                    self.check_required_provider(at, name, spec);
                                }
                            }
                        }
                    }
                    other => {
                        let known = [
                            "required_version",
                            "required_providers",
                            "backend",
                            "cloud",
                            "experiments",
                            "provider_meta",
                        ];
                        self.unknown_argument(at, other, known);
                    }
                }
            }
        }
    }

    pub(super) fn check_required_provider(&mut self, at: At<'_>, name: &str, spec: &Value) {
        const KEYS: [&str; 3] = ["source", "version", "configuration_aliases"];
        let path = format!("required_providers.{name}");
        let fields = match spec {
            // The pre-0.13 shorthand: just a version constraint.
            Value::String(_) => return,
            Value::Object(fields) => fields,
            other => {
                let message = format!(
                    "expected an object with \"source\" and \"version\", got {}",
                    describe(other)
                );
                self.report(at, prefixed(&path, message));
                return;
            }
        };
        for (f, fv) in fields {
            let fpath = format!("{path}.{f}");
            match f.as_str() {
                "//" => {}
                "source" | "version" => self.check_value(at, &fpath, &Value::from("string"), fv),
                "configuration_aliases" => {
                    self.check_value(at, &fpath, &serde_json::json!(["list", "dynamic"]), fv)
                }
                _ => {
                    let message =
                        format!("unknown argument \"{f}\"{}", did_you_mean(suggest(f, KEYS)));
                    self.report(at, prefixed(&path, message));
                }
            }
        }
    }

    pub(super) fn check_providers(&mut self, m: &Module<'_>) {
        for (name, decl) in &m.providers {
            let alias = decl.body.get("alias").and_then(Value::as_str);
            let address = match alias {
                Some(a) => format!("provider.{name}.{a}"),
                None => format!("provider.{name}"),
            };
            let at = At {
                file: decl.file,
                address: &address,
            };
            if !m.required_providers.contains_key(name) {
                self.report(
                    at,
                    format!("provider \"{name}\" is not declared in terraform.required_providers"),
                );
            }
            // The provider type is the last segment of its source ("hashicorp/aws" → "aws").
            let ty = m
                .required_providers
                .get(name)
                .copied()
                .flatten()
                .and_then(|s| s.rsplit('/').next())
                .unwrap_or(name);
            // Configuration schemas may be missing from a subset; then only the name is checked.
            if let Some(config) = self.schemas.provider(ty).and_then(|p| p.config.as_ref()) {
                self.check_block(at, "", config, decl.body, Some(Top::Provider));
            }
        }
    }

    pub(super) fn check_variables(&mut self, m: &Module<'_>) {
        const KEYS: [&str; 8] = [
            "type",
            "default",
            "description",
            "sensitive",
            "nullable",
            "validation",
            "ephemeral",
            "//",
        ];
        for (name, decls) in &m.variables {
            let address = format!("variable.{name}");
            for decl in decls {
                let at = At {
                    file: decl.file,
                    address: &address,
                };
                let Some(body) = self.body(at, decl.body) else {
                    continue;
                };
                for (k, v) in body {
                    match k.as_str() {
                        "//" | "default" => {}
                        "type" | "description" => {
                            if !v.is_string() {
                                self.report(
                                    at,
                                    format!("{k}: expected a string, got {}", describe(v)),
                                );
                            }
                        }
                        "sensitive" | "nullable" | "ephemeral" => {
                            self.check_value(at, k, &Value::from("bool"), v)
                        }
                        "validation" => self.check_conditions(at, "validation", v),
                        other => {
                            self.unknown_argument(
                                at,
                                other,
                                KEYS.iter().copied().filter(|k| *k != "//"),
                            );
                        }
                    }
                }
            }
        }
    }

    pub(super) fn check_outputs(&mut self, m: &Module<'_>) {
        const KEYS: [&str; 6] = [
            "value",
            "description",
            "sensitive",
            "depends_on",
            "precondition",
            "ephemeral",
        ];
        for (name, decls) in &m.outputs {
            let address = format!("output.{name}");
            for decl in decls {
                let at = At {
                    file: decl.file,
                    address: &address,
                };
                let Some(body) = self.body(at, decl.body) else {
                    continue;
                };
                for (k, v) in body {
                    match k.as_str() {
                        "//" | "value" => {}
                        "description" => self.check_value(at, k, &Value::from("string"), v),
                        "sensitive" | "ephemeral" => {
                            self.check_value(at, k, &Value::from("bool"), v)
                        }
                        "depends_on" => self.check_depends_on(m, at, v),
                        "precondition" => self.check_conditions(at, "precondition", v),
                        other => {
                            self.unknown_argument(at, other, KEYS);
                        }
                    }
                }
                if !body.contains_key("value") {
                    self.report(at, "missing required argument \"value\"");
                }
            }
        }
    }

    pub(super) fn check_modules(&mut self, m: &Module<'_>) {
        for (name, decls) in &m.modules {
            let address = format!("module.{name}");
            for decl in decls {
                let at = At {
                    file: decl.file,
                    address: &address,
                };
                let Some(body) = self.body(at, decl.body) else {
                    continue;
                };
                // Other keys are the child module's input variables, unknown here.
                match body.get("source") {
                    Some(Value::String(_)) => {}
                    Some(other) => self.report(
                        at,
                        format!("source: expected a string, got {}", describe(other)),
                    ),
                    None => self.report(at, "missing required argument \"source\""),
                }
                self.check_meta_arguments(m, at, body, false);
            }
        }
    }

    pub(super) fn check_moved_and_import(&mut self, m: &Module<'_>) {
        for (address, decl) in &m.moved {
            let at = At {
                file: decl.file,
                address,
            };
            let Some(body) = self.body(at, decl.body) else {
                continue;
            };
            for (k, v) in body {
                match k.as_str() {
                    "//" => {}
                    "from" | "to" => {
                        if !v.is_string() {
                            self.report(
                                at,
                                format!("{k}: expected an address string, got {}", describe(v)),
                            );
                        }
                    }
                    other => {
                        self.unknown_argument(at, other, ["from", "to"]);
                    }
                }
            }
            for required in ["from", "to"] {
                if !body.contains_key(required) {
                    self.report(at, format!("missing required argument \"{required}\""));
                }
            }
        }
        for (address, decl) in &m.imports {
            let at = At {
                file: decl.file,
                address,
            };
            let Some(body) = self.body(at, decl.body) else {
                continue;
            };
            for (k, v) in body {
                match k.as_str() {
                    "//" | "id" | "identity" | "for_each" => {}
                    "provider" => {
                        if !v.is_string() {
                            self.report(
                                at,
                                format!(
                                    "provider: expected a provider reference, got {}",
                                    describe(v)
                                ),
                            );
                        }
                    }
                    "to" => match v.as_str() {
                        Some(to) => {
                            let target = bare_expr(to);
                            let target = target.split('[').next().unwrap_or(target);
                            let parts: Vec<&str> = target.split('.').collect();
                            // Targets inside child modules are declared there, not here.
                            let declared = match parts.as_slice() {
                                ["module", ..] => true,
                                [t, n] => m.resources.contains_key(&(*t, *n)),
                                _ => false,
                            };
                            if !declared {
                                self.report(at, format!("to: \"{to}\" is not a declared resource"));
                            }
                        }
                        None => self.report(
                            at,
                            format!("to: expected a resource address, got {}", describe(v)),
                        ),
                    },
                    other => {
                        self.unknown_argument(
                            at,
                            other,
                            ["to", "id", "identity", "provider", "for_each"],
                        );
                    }
                }
            }
            if !body.contains_key("to") {
                self.report(at, "missing required argument \"to\"");
            }
            if !body.contains_key("id") && !body.contains_key("identity") {
                self.report(at, "missing required argument \"id\" (or \"identity\")");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::check;
    use serde_json::json;

    #[test]
    fn blocks_outside_resources() {
        let doc = json!({
            "terraform": {"required_providers": {"random": {"source": "hashicorp/random"}}},
            "provider": {"aws": {}},
            "resource": {"random_id": {"x": {"byte_length": 8}}},
            "output": {"o": {"description": "no value"}},
            "moved": [{"from": "random_id.y"}],
            "import": {"to": "random_id.z", "id": "abc"},
            "resources": {}
        });
        assert_eq!(
            check(doc),
            [
                "main.tf.json: unknown top-level block type \"resources\" (did you mean \"resource\"?)",
                "main.tf.json: import[0]: to: \"random_id.z\" is not a declared resource",
                "main.tf.json: moved[0]: missing required argument \"to\"",
                "main.tf.json: output.o: missing required argument \"value\"",
                "main.tf.json: provider.aws: provider \"aws\" is not declared in terraform.required_providers",
            ]
        );
    }
}
