//! Offline checker for Terraform JSON (`*.tf.json`) modules: a Rust port of `tfcheck.py`.
//!
//! It checks what can be known without providers or state: block types, resource and
//! data-source types, arguments and nested blocks against the provider schemas, value
//! shapes, block counts, meta-arguments, and that every `${...}` reference names something
//! declared in the module and a real attribute of it. Anything inside an expression is
//! trusted: only literal JSON values are shape-checked.
//!
//! One concern per file: `files` reads modules from disk, `collect` gathers a module's
//! declarations, `declarations`, `resources`, `blocks` and `values` check them against the
//! schemas, `references` and `expr` check `${...}` references, `messages` words the findings.

mod blocks;
mod collect;
mod declarations;
mod expr;
mod files;
#[cfg(test)]
mod fixtures;
mod messages;
mod references;
mod resources;
mod values;

use std::fmt;

use serde_json::{Map, Value};

use super::schema::ProviderSchemas;
pub use files::check_dir;
use messages::{describe, did_you_mean, prefixed, suggest};

/// One finding. `file` is the file the offending declaration is in, `address` the
/// declaration (`aws_vpc.main`, `data.aws_region.current`, `variable.x`, `output.y`,
/// `local.z`, `provider.aws`, `terraform`, `moved[0]`; empty for whole-file problems).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Problem {
    pub file: String,
    pub address: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.address.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.address, self.message)
        }
    }
}

/// Checks the `*.tf.json` files of one module, given as (file name, parsed JSON).
/// Problems are sorted by (file, address, message) and free of duplicates.
/// Override files (`*_override.tf.json`) are merged into the others first, as Terraform does.
pub fn check_module(files: &[(String, Value)], schemas: &ProviderSchemas) -> Vec<Problem> {
    let (files, overridden) = super::override_files::merge(files);
    let mut c = Checker {
        schemas,
        problems: overridden,
    };
    let m = c.collect(&files);
    c.check_terraform_blocks(&m);
    c.check_providers(&m);
    c.check_resources(&m);
    c.check_variables(&m);
    c.check_outputs(&m);
    c.check_modules(&m);
    c.check_moved_and_import(&m);
    c.check_references(&m);
    let mut problems = c.problems;
    problems.sort();
    problems.dedup();
    problems
}

/// Where a problem is reported.
#[derive(Clone, Copy)]
struct At<'s> {
    file: &'s str,
    address: &'s str,
}

/// Which kind of top-level body a block check starts from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Top {
    Resource,
    Data,
    Provider,
}

struct Checker<'s> {
    schemas: &'s ProviderSchemas,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, at: At<'_>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: at.file.to_string(),
            address: at.address.to_string(),
            message: message.into(),
        });
    }

    /// The body of a declaration (`variable`, `output`, `module`, `moved`, `import`), which
    /// must be an object; anything else is reported and skipped.
    fn body<'v>(&mut self, at: At<'_>, body: &'v Value) -> Option<&'v Map<String, Value>> {
        let object = body.as_object();
        if object.is_none() {
            self.report(at, format!("expected an object, got {}", describe(body)));
        }
        object
    }

    /// An argument a block does not take, with the nearest of the `known` ones.
    fn unknown_argument<'k>(
        &mut self,
        at: At<'_>,
        other: &str,
        known: impl IntoIterator<Item = &'k str>,
    ) {
        let hint = suggest(other, known);
        self.report(
            at,
            format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
        );
    }

    /// The objects of a value that may be an object or an array of objects, as Terraform
    /// JSON allows wherever blocks or labels appear. Anything else is reported.
    fn objects<'v>(&mut self, at: At<'_>, path: &str, v: &'v Value) -> Vec<&'v Map<String, Value>> {
        self.object_values(at, path, v)
            .into_iter()
            .filter_map(Value::as_object)
            .collect()
    }

    /// Like [`Self::objects`], keeping the values themselves.
    fn object_values<'v>(&mut self, at: At<'_>, path: &str, v: &'v Value) -> Vec<&'v Value> {
        match v {
            Value::Object(_) => vec![v],
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if item.is_object() {
                        out.push(item);
                    } else {
                        let ipath = format!("{path}[{i}]");
                        self.report(
                            at,
                            prefixed(
                                &ipath,
                                format!("expected an object, got {}", describe(item)),
                            ),
                        );
                    }
                }
                out
            }
            other => {
                self.report(
                    at,
                    prefixed(path, format!("expected an object, got {}", describe(other))),
                );
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use serde_json::json;

    #[test]
    fn valid_module_passes() {
        assert_eq!(check(valid_module()), Vec::<String>::new());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for doc in [
            json!(null),
            json!([1, 2]),
            json!({"resource": 3}),
            json!({"resource": {"aws_vpc": [1, {"a": null}]}}),
            json!({"resource": {"aws_vpc": {"a": {"dynamic": {"nope": 1}, "lifecycle": 7, "count": [], "for_each": [1]}}}}),
            json!({"locals": [{"a": "${\"unterminated"}, 4], "output": {"o": {"value": "${aws_vpc.a[\"k\"]\u{e9}.x${"}}}),
            json!({"data": {"aws_region": {"r": {"depends_on": "x", "provider": 1}}}}),
            json!({"variable": {"v": {"type": 1, "validation": {"condition": true}}}, "terraform": [1, {"backend": []}]}),
        ] {
            let _ = check(doc);
        }
    }
}
