//! Gathering the declarations of a module across its files, with duplicates reported.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::messages::{describe, did_you_mean, suggest};
use super::{At, Checker, Problem};

/// Top-level keys Terraform accepts in a `.tf.json` file (`//` is a comment).
pub(super) const TOP: &[&str] = &[
    "terraform",
    "provider",
    "resource",
    "data",
    "variable",
    "output",
    "locals",
    "module",
    "moved",
    "import",
    "check",
    "removed",
    "ephemeral",
    "//",
];

#[derive(Clone, Copy)]
pub(super) struct Decl<'a> {
    pub(super) file: &'a str,
    pub(super) body: &'a Value,
}

/// The declarations of one module, merged across its files.
#[derive(Default)]
pub(super) struct Module<'a> {
    pub(super) resources: BTreeMap<(&'a str, &'a str), Vec<Decl<'a>>>,
    pub(super) data: BTreeMap<(&'a str, &'a str), Vec<Decl<'a>>>,
    pub(super) variables: BTreeMap<&'a str, Vec<Decl<'a>>>,
    pub(super) locals: BTreeMap<&'a str, Vec<Decl<'a>>>,
    pub(super) outputs: BTreeMap<&'a str, Vec<Decl<'a>>>,
    pub(super) modules: BTreeMap<&'a str, Vec<Decl<'a>>>,
    /// Each provider configuration block, by local name, in file order.
    pub(super) providers: Vec<(&'a str, Decl<'a>)>,
    pub(super) terraform: Vec<Decl<'a>>,
    /// `terraform.required_providers`: local name → source, when one is given.
    pub(super) required_providers: BTreeMap<&'a str, Option<&'a str>>,
    pub(super) moved: Vec<(String, Decl<'a>)>,
    pub(super) imports: Vec<(String, Decl<'a>)>,
}

impl Module<'_> {
    /// Whether some `provider` block for local name `name` has this `alias`.
    pub(super) fn has_alias(&self, name: &str, alias: &str) -> bool {
        self.providers
            .iter()
            .any(|(p, d)| *p == name && d.body.get("alias").and_then(Value::as_str) == Some(alias))
    }
}

impl Checker<'_> {
    pub(super) fn collect<'a>(&mut self, files: &'a [(String, Value)]) -> Module<'a> {
        let mut m = Module::default();
        for (file, doc) in files {
            let file = file.as_str();
            let whole = At { file, address: "" };
            let Some(top) = doc.as_object() else {
                self.report(
                    whole,
                    format!("top level must be a JSON object, got {}", describe(doc)),
                );
                continue;
            };
            for (key, v) in top {
                let key = key.as_str();
                match key {
                    "//" | "check" | "removed" | "ephemeral" => {}
                    "resource" | "data" => self.collect_resources(&mut m, file, key, v),
                    "variable" | "output" | "module" => {
                        for named in self.objects(At { file, address: key }, "", v) {
                            for (name, body) in named {
                                if name == "//" {
                                    continue;
                                }
                                let map = match key {
                                    "variable" => &mut m.variables,
                                    "output" => &mut m.outputs,
                                    _ => &mut m.modules,
                                };
                                let address = format!("{key}.{name}");
                                Self::add_decl(
                                    &mut self.problems,
                                    map,
                                    name.as_str(),
                                    &address,
                                    Decl { file, body },
                                );
                            }
                        }
                    }
                    "locals" => {
                        for named in self.objects(
                            At {
                                file,
                                address: "locals",
                            },
                            "",
                            v,
                        ) {
                            for (name, body) in named {
                                if name == "//" {
                                    continue;
                                }
                                let address = format!("local.{name}");
                                Self::add_decl(
                                    &mut self.problems,
                                    &mut m.locals,
                                    name.as_str(),
                                    &address,
                                    Decl { file, body },
                                );
                            }
                        }
                    }
                    "provider" => {
                        for named in self.objects(
                            At {
                                file,
                                address: "provider",
                            },
                            "",
                            v,
                        ) {
                            for (name, body) in named {
                                if name == "//" {
                                    continue;
                                }
                                let address = format!("provider.{name}");
                                // Several blocks (an array) configure aliases of one provider.
                                for cfg in self.object_values(
                                    At {
                                        file,
                                        address: &address,
                                    },
                                    "",
                                    body,
                                ) {
                                    m.providers.push((name.as_str(), Decl { file, body: cfg }));
                                }
                            }
                        }
                    }
                    "terraform" => {
                        for body in self.object_values(
                            At {
                                file,
                                address: "terraform",
                            },
                            "",
                            v,
                        ) {
                            m.terraform.push(Decl { file, body });
                        }
                    }
                    "moved" | "import" => {
                        let items: Vec<&Value> = match v {
                            Value::Array(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        for body in items {
                            let list = if key == "moved" {
                                &mut m.moved
                            } else {
                                &mut m.imports
                            };
                            let address = format!(
                                "{key}[{}]",
                                list.iter().filter(|(_, d)| d.file == file).count()
                            );
                            list.push((address, Decl { file, body }));
                        }
                    }
                    _ => {
                        let hint = suggest(key, TOP.iter().copied().filter(|k| *k != "//"));
                        self.report(
                            whole,
                            format!(
                                "unknown top-level block type \"{key}\"{}",
                                did_you_mean(hint)
                            ),
                        );
                    }
                }
            }
        }
        for decl in &m.terraform {
            let Some(rp) = decl.body.get("required_providers") else {
                continue;
            };
            // Shapes are reported by `check_terraform_blocks`; only collect here.
            let maps: Vec<&Map<String, Value>> = match rp {
                Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
                other => other.as_object().into_iter().collect(),
            };
            for (name, spec) in maps.into_iter().flatten() {
                if name == "//" {
                    continue;
                }
                let source = spec.get("source").and_then(Value::as_str);
                let entry = m.required_providers.entry(name.as_str()).or_insert(None);
                if source.is_some() {
                    *entry = source;
                }
            }
        }
        m
    }

    pub(super) fn collect_resources<'a>(
        &mut self,
        m: &mut Module<'a>,
        file: &'a str,
        key: &str,
        v: &'a Value,
    ) {
        let prefix = if key == "data" { "data." } else { "" };
        for types in self.objects(At { file, address: key }, "", v) {
            for (ty, named) in types {
                if ty == "//" {
                    continue;
                }
                let at_type = format!("{prefix}{ty}");
                for names in self.objects(
                    At {
                        file,
                        address: &at_type,
                    },
                    "",
                    named,
                ) {
                    for (name, body) in names {
                        if name == "//" {
                            continue;
                        }
                        let address = format!("{prefix}{ty}.{name}");
                        let map = if key == "data" {
                            &mut m.data
                        } else {
                            &mut m.resources
                        };
                        let list = map.entry((ty.as_str(), name.as_str())).or_default();
                        if let Some(first) = list.first() {
                            self.problems.push(Problem {
                                file: file.to_string(),
                                address,
                                message: format!(
                                    "declared more than once (first in {})",
                                    first.file
                                ),
                            });
                        }
                        list.push(Decl { file, body });
                    }
                }
            }
        }
    }

    pub(super) fn add_decl<'a>(
        problems: &mut Vec<Problem>,
        map: &mut BTreeMap<&'a str, Vec<Decl<'a>>>,
        name: &'a str,
        address: &str,
        decl: Decl<'a>,
    ) {
        let list = map.entry(name).or_default();
        if let Some(first) = list.first() {
            problems.push(Problem {
                file: decl.file.to_string(),
                address: address.to_string(),
                message: format!("declared more than once (first in {})", first.file),
            });
        }
        list.push(decl);
    }
}
