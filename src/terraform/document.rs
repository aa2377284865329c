//! A Terraform root module as files split by concern, each a JSON document.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::expr::{Ref, ident};
use super::render::render_json;

/// One `*.tf.json` file.
#[derive(Debug, Default, Clone)]
pub struct File {
    top: Map<String, Value>,
}

/// One root module (`terraform/infra`, `terraform/platform`, …).
#[derive(Debug, Default, Clone)]
pub struct Module {
    files: BTreeMap<String, File>,
    header: String,
}

impl Module {
    /// `header` goes into every file's `//` comment (what generated it, from what).
    pub fn new(header: impl Into<String>) -> Self {
        Module {
            files: BTreeMap::new(),
            header: header.into(),
        }
    }

    /// The file `name` (`network` → `network.tf.json`), created on first use.
    pub fn file(&mut self, name: &str) -> &mut File {
        self.files.entry(format!("{name}.tf.json")).or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.files.values().all(|f| f.top.is_empty())
    }

    /// Rendered files by name. The `terraform` block always goes to `versions.tf.json`, on
    /// its own: it is where people look for version pins, and checkov's JSON parser fails on
    /// a file whose `terraform` block holds `required_version`, skipping that file's resources.
    pub fn render(&self) -> Vec<(String, String)> {
        let mut files = self.files.clone();
        let mut terraform = None;
        for f in files.values_mut() {
            if let Some(t) = f.top.remove("terraform") {
                terraform = Some(t);
            }
        }
        if let Some(t) = terraform {
            files
                .entry("versions.tf.json".into())
                .or_default()
                .top
                .insert("terraform".into(), t);
        }
        files
            .iter()
            .filter(|(_, f)| !f.top.is_empty())
            .map(|(name, f)| {
                let mut top = f.top.clone();
                top.insert("//".into(), Value::String(self.header.clone()));
                (name.clone(), render_json(&Value::Object(top)))
            })
            .collect()
    }

    /// Every resource address in the module, for tests and summaries.
    pub fn addresses(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.files.values() {
            for (kind, prefix) in [("resource", ""), ("data", "data.")] {
                if let Some(Value::Object(types)) = f.top.get(kind) {
                    for (ty, names) in types {
                        if let Value::Object(names) = names {
                            out.extend(names.keys().map(|n| format!("{prefix}{ty}.{n}")));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }
}

fn entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let v = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("just made an object")
}

impl File {
    /// Add `resource "<ty>" "<name>"`; returns the reference to it.
    pub fn resource(&mut self, r: &Ref, body: Value) -> &mut Self {
        let kind = if r.address().starts_with("data.") {
            "data"
        } else {
            "resource"
        };
        let types = entry(&mut self.top, kind);
        let names = entry(types, r.ty());
        let previous = names.insert(r.name().to_string(), body);
        debug_assert!(previous.is_none(), "duplicate address {}", r.address());
        self
    }

    /// `terraform { … }`; every value in it is a literal.
    pub fn terraform(&mut self, body: Value) -> &mut Self {
        self.top.insert("terraform".into(), body);
        self
    }

    /// `provider "<name>" { … }`; several calls add aliased configurations. One
    /// configuration is written as an object, several as an array (both are Terraform JSON;
    /// scanners such as checkov read only the object form).
    pub fn provider(&mut self, name: &str, body: Value) -> &mut Self {
        let providers = entry(&mut self.top, "provider");
        match providers.remove(name) {
            None => {
                providers.insert(name.to_string(), body);
            }
            Some(Value::Array(mut list)) => {
                list.push(body);
                providers.insert(name.to_string(), Value::Array(list));
            }
            Some(first) => {
                providers.insert(name.to_string(), Value::Array(vec![first, body]));
            }
        }
        self
    }

    pub fn variable(&mut self, name: &str, body: Value) -> &mut Self {
        entry(&mut self.top, "variable").insert(ident(name), body);
        self
    }

    pub fn local(&mut self, name: &str, value: Value) -> &mut Self {
        entry(&mut self.top, "locals").insert(ident(name), value);
        self
    }

    pub fn output(&mut self, name: &str, value: String, description: &str) -> &mut Self {
        entry(&mut self.top, "output").insert(
            ident(name),
            json!({"value": value, "description": description}),
        );
        self
    }

    /// An output whose value Terraform redacts in plans and logs (`sensitive = true`), for
    /// connection details that carry credentials.
    pub fn sensitive_output(&mut self, name: &str, value: String, description: &str) -> &mut Self {
        entry(&mut self.top, "output").insert(
            ident(name),
            json!({"value": value, "description": description, "sensitive": true}),
        );
        self
    }

    /// A `moved` block so a renamed component keeps its state.
    pub fn moved(&mut self, from: &str, to: &str) -> &mut Self {
        let list = self
            .top
            .entry("moved".to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(l) = list {
            l.push(json!({"from": from, "to": to}));
        }
        self
    }
}
