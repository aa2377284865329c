//! A Terraform root module as files split by concern, each a JSON document.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::expr::{Ref, ident};
use super::render::render_top;

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
        let header = Value::String(self.header.clone());
        let terraform = self.files.values().find_map(|f| f.top.get("terraform"));
        let mut out = Vec::with_capacity(self.files.len() + 1);
        let mut versions_written = false;
        for (name, f) in &self.files {
            let is_versions = name == "versions.tf.json";
            let extra_terraform = if is_versions { terraform } else { None };
            versions_written |= is_versions;
            let mut extra: Vec<(&str, &Value)> = vec![("//", &header)];
            if let Some(t) = extra_terraform {
                extra.push(("terraform", t));
            }
            let own = f.top.keys().filter(|k| *k != "terraform").count();
            if own == 0 && extra_terraform.is_none() {
                continue;
            }
            out.push((name.clone(), render_top(&f.top, &["terraform"], &extra)));
        }
        if let (Some(t), false) = (terraform, versions_written) {
            let empty = Map::new();
            let text = render_top(&empty, &[], &[("//", &header), ("terraform", t)]);
            out.push(("versions.tf.json".into(), text));
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        out
    }

    /// Whether the module declares `address` (`aws_vpc.main`, `data.aws_region.current`):
    /// a map lookup per file, so back-ends may ask it in loops.
    pub fn declares(&self, address: &str) -> bool {
        let (kind, rest) = match address.strip_prefix("data.") {
            Some(r) => ("data", r),
            None => ("resource", address),
        };
        let Some((ty, name)) = rest.split_once('.') else {
            return false;
        };
        self.files.values().any(|f| {
            f.top
                .get(kind)
                .and_then(|t| t.get(ty))
                .and_then(|n| n.get(name))
                .is_some()
        })
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
