//! Offline checker for Terraform JSON (`*.tf.json`) modules: a Rust port of `tfcheck.py`.
//!
//! It checks what can be known without providers or state: block types, resource and
//! data-source types, arguments and nested blocks against the provider schemas, value
//! shapes, block counts, meta-arguments, and that every `${...}` reference names something
//! declared in the module and a real attribute of it. Anything inside an expression is
//! trusted: only literal JSON values are shape-checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::schema::{Block, NestedBlock, NestingMode, ProviderSchemas};

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

/// Top-level keys Terraform accepts in a `.tf.json` file (`//` is a comment).
const TOP: &[&str] = &[
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

/// Meta-arguments of resources and data sources; they take precedence over schema attributes.
const META: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
    "//",
];

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

/// Checks every folder under `dir` (recursively, hidden folders skipped) that holds
/// `*.tf.json` files as one module each. `file` in the problems is relative to `dir`.
/// `dir` may also be a single `*.tf.json` file. Unreadable JSON is a problem, not an error;
/// errors are reserved for failing to read the file system.
pub fn check_dir(dir: &Path, schemas: &ProviderSchemas) -> Result<Vec<Problem>, std::io::Error> {
    let mut modules: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let base = if std::fs::metadata(dir)?.is_file() {
        let parent = dir.parent().unwrap_or(Path::new("")).to_path_buf();
        modules
            .entry(parent.clone())
            .or_default()
            .push(dir.to_path_buf());
        parent
    } else {
        find_modules(dir, &mut modules)?;
        dir.to_path_buf()
    };
    let mut problems = Vec::new();
    if modules.is_empty() {
        problems.push(Problem {
            file: ".".into(),
            address: String::new(),
            message: "no *.tf.json files found".into(),
        });
    }
    for paths in modules.values() {
        let mut files = Vec::new();
        for path in paths {
            let rel = path.strip_prefix(&base).unwrap_or(path);
            let name = rel.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(path)?;
            let parsed = String::from_utf8(bytes)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|text| {
                    serde_json::from_str::<Value>(&text).map_err(|e| format!("not valid JSON: {e}"))
                });
            match parsed {
                Ok(value) => files.push((name, value)),
                Err(message) => problems.push(Problem {
                    file: name,
                    address: String::new(),
                    message,
                }),
            }
        }
        problems.extend(check_module(&files, schemas));
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

fn find_modules(
    dir: &Path,
    out: &mut BTreeMap<PathBuf, Vec<PathBuf>>,
) -> Result<(), std::io::Error> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Like Python's glob("**"): skip hidden entries such as `.terraform/`.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Symlinked folders are not followed, so a link cycle cannot recurse forever.
        let ty = entry.file_type()?;
        if ty.is_dir() {
            find_modules(&path, out)?;
        } else if name.ends_with(".tf.json") && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            out.entry(dir.to_path_buf()).or_default().push(path);
        }
    }
    Ok(())
}

/// Where a problem is reported.
#[derive(Clone, Copy)]
struct At<'s> {
    file: &'s str,
    address: &'s str,
}

#[derive(Clone, Copy)]
struct Decl<'a> {
    file: &'a str,
    body: &'a Value,
}

/// The declarations of one module, merged across its files.
#[derive(Default)]
struct Module<'a> {
    resources: BTreeMap<(&'a str, &'a str), Vec<Decl<'a>>>,
    data: BTreeMap<(&'a str, &'a str), Vec<Decl<'a>>>,
    variables: BTreeMap<&'a str, Vec<Decl<'a>>>,
    locals: BTreeMap<&'a str, Vec<Decl<'a>>>,
    outputs: BTreeMap<&'a str, Vec<Decl<'a>>>,
    modules: BTreeMap<&'a str, Vec<Decl<'a>>>,
    /// Each provider configuration block, by local name, in file order.
    providers: Vec<(&'a str, Decl<'a>)>,
    terraform: Vec<Decl<'a>>,
    /// `terraform.required_providers`: local name → source, when one is given.
    required_providers: BTreeMap<&'a str, Option<&'a str>>,
    moved: Vec<(String, Decl<'a>)>,
    imports: Vec<(String, Decl<'a>)>,
}

impl Module<'_> {
    /// Whether some `provider` block for local name `name` has this `alias`.
    fn has_alias(&self, name: &str, alias: &str) -> bool {
        self.providers
            .iter()
            .any(|(p, d)| *p == name && d.body.get("alias").and_then(Value::as_str) == Some(alias))
    }
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

impl<'s> Checker<'s> {
    fn report(&mut self, at: At<'_>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: at.file.to_string(),
            address: at.address.to_string(),
            message: message.into(),
        });
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

    // ---------------------------------------------------------------- collection

    fn collect<'a>(&mut self, files: &'a [(String, Value)]) -> Module<'a> {
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

    fn collect_resources<'a>(
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

    fn add_decl<'a>(
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

    // ---------------------------------------------------------------- terraform, provider

    fn check_terraform_blocks(&mut self, m: &Module<'_>) {
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
                        let hint = suggest(other, known);
                        self.report(
                            at,
                            format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
                        );
                    }
                }
            }
        }
    }

    fn check_required_provider(&mut self, at: At<'_>, name: &str, spec: &Value) {
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

    fn check_providers(&mut self, m: &Module<'_>) {
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

    // ---------------------------------------------------------------- resources

    fn check_resources(&mut self, m: &Module<'_>) {
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
    fn check_meta_arguments(
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

    fn check_depends_on(&mut self, m: &Module<'_>, at: At<'_>, v: &Value) {
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

    /// Port of `check_block`: every key known, computed-only attributes unset, values
    /// shaped by their type, required attributes and `min_items` blocks present,
    /// `max_items` respected. `path` locates nested blocks inside the declaration.
    fn check_block(
        &mut self,
        at: At<'_>,
        path: &str,
        block: &Block,
        body: &Value,
        top: Option<Top>,
    ) {
        let Some(map) = body.as_object() else {
            self.report(
                at,
                prefixed(
                    path,
                    format!("expected a block (a JSON object), got {}", describe(body)),
                ),
            );
            return;
        };
        let meta_allowed = matches!(top, Some(Top::Resource | Top::Data));
        let mut dynamic_blocks = BTreeSet::new();
        for (k, v) in map {
            let key = k.as_str();
            if key == "//" {
                continue;
            }
            if meta_allowed && META.contains(&key) {
                self.check_meta_value(at, key, v);
                continue;
            }
            if top == Some(Top::Provider) && (key == "alias" || key == "version") {
                continue;
            }
            let kpath = join(path, key);
            if let Some(attr) = block.attributes.get(key) {
                if attr.is_computed_only() {
                    self.report(
                        at,
                        format!("{kpath}: computed-only attribute cannot be set"),
                    );
                    continue;
                }
                self.check_value(at, &kpath, &attr.ty, v);
            } else if let Some(nb) = block.block_types.get(key) {
                self.check_nested_blocks(at, &kpath, nb, v);
            } else if key == "dynamic" {
                self.check_dynamic(at, path, block, v, &mut dynamic_blocks);
            } else {
                let mut candidates: Vec<&str> = block
                    .attributes
                    .iter()
                    .filter(|(_, a)| !a.is_computed_only())
                    .map(|(n, _)| n.as_str())
                    .chain(block.block_types.keys().map(String::as_str))
                    .collect();
                if meta_allowed {
                    candidates.extend(META.iter().copied().filter(|k| *k != "//"));
                }
                let hint = suggest(key, candidates);
                self.report(
                    at,
                    prefixed(
                        path,
                        format!("unknown argument \"{key}\"{}", did_you_mean(hint)),
                    ),
                );
            }
        }
        for (k, attr) in &block.attributes {
            if attr.required && !map.contains_key(k) {
                self.report(
                    at,
                    prefixed(path, format!("missing required argument \"{k}\"")),
                );
            }
        }
        for (k, nb) in &block.block_types {
            if nb.min_items > 0 && !map.contains_key(k) && !dynamic_blocks.contains(k.as_str()) {
                let n = nb.min_items;
                self.report(
                    at,
                    prefixed(
                        path,
                        format!("missing required block \"{k}\" (at least {n})"),
                    ),
                );
            }
        }
    }

    fn check_nested_blocks(&mut self, at: At<'_>, path: &str, nb: &NestedBlock, v: &Value) {
        // A whole block list computed by an expression cannot be checked here.
        if is_expr(v) {
            return;
        }
        if nb.nesting_mode == NestingMode::Map {
            // `{"label": {...}, ...}`: one block per key.
            match v.as_object() {
                Some(labels) => {
                    for (label, body) in labels {
                        if label != "//" {
                            self.check_block(at, &format!("{path}.{label}"), &nb.block, body, None);
                        }
                    }
                }
                None => self.report(
                    at,
                    format!(
                        "{path}: expected an object of labelled blocks, got {}",
                        describe(v)
                    ),
                ),
            }
            return;
        }
        let items: Vec<(String, &Value)> = match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, it)| (format!("{path}[{i}]"), it))
                .collect(),
            other => vec![(path.to_string(), other)],
        };
        if let Some(max) = nb.max()
            && items.len() as u64 > max
        {
            let plural = if max == 1 { "" } else { "s" };
            self.report(
                at,
                format!(
                    "{path}: at most {max} block{plural} allowed, got {}",
                    items.len()
                ),
            );
        }
        if nb.min_items > 0 && (items.len() as u64) < nb.min_items {
            self.report(
                at,
                format!(
                    "{path}: at least {} block(s) required, got {}",
                    nb.min_items,
                    items.len()
                ),
            );
        }
        for (ipath, item) in items {
            self.check_block(at, &ipath, &nb.block, item, None);
        }
    }

    /// `"dynamic": {"ingress": {"for_each": ..., "content": {...}}}` generates blocks; the
    /// block type must exist and `content` must fit it.
    fn check_dynamic(
        &mut self,
        at: At<'_>,
        path: &str,
        block: &Block,
        v: &Value,
        seen: &mut BTreeSet<String>,
    ) {
        let dpath = join(path, "dynamic");
        for named in self.objects(at, &dpath, v) {
            for (name, spec) in named {
                if name == "//" {
                    continue;
                }
                let npath = format!("{dpath}.{name}");
                let Some(nb) = block.block_types.get(name) else {
                    let hint = suggest(name, block.block_types.keys().map(String::as_str));
                    self.report(
                        at,
                        format!(
                            "{npath}: no block type \"{name}\" here{}",
                            did_you_mean(hint)
                        ),
                    );
                    continue;
                };
                seen.insert(name.clone());
                for obj in self.objects(at, &npath, spec) {
                    for (k, kv) in obj {
                        match k.as_str() {
                            "//" | "for_each" | "iterator" | "labels" => {}
                            "content" => self.check_block(
                                at,
                                &format!("{npath}.content"),
                                &nb.block,
                                kv,
                                None,
                            ),
                            other => {
                                let hint =
                                    suggest(other, ["for_each", "iterator", "labels", "content"]);
                                self.report(
                                    at,
                                    format!(
                                        "{npath}: unknown argument \"{other}\"{}",
                                        did_you_mean(hint)
                                    ),
                                );
                            }
                        }
                    }
                    for required in ["for_each", "content"] {
                        if !obj.contains_key(required) {
                            self.report(
                                at,
                                format!("{npath}: missing required argument \"{required}\""),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Shapes of the meta-arguments that can be checked in isolation.
    fn check_meta_value(&mut self, at: At<'_>, key: &str, v: &Value) {
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

    fn check_lifecycle(&mut self, at: At<'_>, v: &Value) {
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
    fn check_conditions(&mut self, at: At<'_>, path: &str, v: &Value) {
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

    /// Port of `check_value`: literal JSON against a cty type. `null` and expressions fit anything.
    fn check_value(&mut self, at: At<'_>, path: &str, ty: &Value, v: &Value) {
        if v.is_null() || is_expr(v) {
            return;
        }
        match ty {
            Value::String(prim) => match prim.as_str() {
                // Terraform converts numbers and bools to strings.
                "string" if !(v.is_string() || v.is_number() || v.is_boolean()) => {
                    self.report(
                        at,
                        format!("{path}: expected a string, got {}", describe(v)),
                    );
                }
                "number" if !(v.is_number() || v.as_str().is_some_and(is_number_text)) => {
                    self.report(
                        at,
                        format!("{path}: expected a number, got {}", describe(v)),
                    );
                }
                "bool" if !(v.is_boolean() || matches!(v.as_str(), Some("true" | "false"))) => {
                    self.report(at, format!("{path}: expected a bool, got {}", describe(v)));
                }
                _ => {}
            },
            Value::Array(t) => {
                let kind = t.first().and_then(Value::as_str).unwrap_or("");
                let elem = t.get(1).unwrap_or(&Value::Null);
                match kind {
                    "list" | "set" => match v.as_array() {
                        Some(items) => {
                            for (i, x) in items.iter().enumerate() {
                                self.check_value(at, &format!("{path}[{i}]"), elem, x);
                            }
                        }
                        None => self.report(
                            at,
                            format!("{path}: expected a {kind}, got {}", describe(v)),
                        ),
                    },
                    "map" => match v.as_object() {
                        Some(entries) => {
                            for (k, x) in entries {
                                self.check_value(at, &format!("{path}.{k}"), elem, x);
                            }
                        }
                        None => {
                            self.report(at, format!("{path}: expected a map, got {}", describe(v)))
                        }
                    },
                    "object" => match v.as_object() {
                        Some(entries) => {
                            let fields = elem.as_object();
                            for (k, x) in entries {
                                match fields.and_then(|f| f.get(k)) {
                                    Some(fty) => {
                                        self.check_value(at, &format!("{path}.{k}"), fty, x)
                                    }
                                    None => {
                                        let hint = fields
                                            .and_then(|f| suggest(k, f.keys().map(String::as_str)));
                                        self.report(
                                            at,
                                            format!(
                                                "{path}: unknown object key \"{k}\"{}",
                                                did_you_mean(hint)
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                        None => self.report(
                            at,
                            format!("{path}: expected an object, got {}", describe(v)),
                        ),
                    },
                    // Tuples and unknown type constructors are not checked (tfcheck.py neither).
                    _ => {}
                }
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- other declarations

    fn check_variables(&mut self, m: &Module<'_>) {
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
                let Some(body) = decl.body.as_object() else {
                    self.report(
                        at,
                        format!("expected an object, got {}", describe(decl.body)),
                    );
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
                            let hint = suggest(other, KEYS.iter().copied().filter(|k| *k != "//"));
                            self.report(
                                at,
                                format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
                            );
                        }
                    }
                }
            }
        }
    }

    fn check_outputs(&mut self, m: &Module<'_>) {
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
                let Some(body) = decl.body.as_object() else {
                    self.report(
                        at,
                        format!("expected an object, got {}", describe(decl.body)),
                    );
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
                            let hint = suggest(other, KEYS);
                            self.report(
                                at,
                                format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
                            );
                        }
                    }
                }
                if !body.contains_key("value") {
                    self.report(at, "missing required argument \"value\"");
                }
            }
        }
    }

    fn check_modules(&mut self, m: &Module<'_>) {
        for (name, decls) in &m.modules {
            let address = format!("module.{name}");
            for decl in decls {
                let at = At {
                    file: decl.file,
                    address: &address,
                };
                let Some(body) = decl.body.as_object() else {
                    self.report(
                        at,
                        format!("expected an object, got {}", describe(decl.body)),
                    );
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

    fn check_moved_and_import(&mut self, m: &Module<'_>) {
        for (address, decl) in &m.moved {
            let at = At {
                file: decl.file,
                address,
            };
            let Some(body) = decl.body.as_object() else {
                self.report(
                    at,
                    format!("expected an object, got {}", describe(decl.body)),
                );
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
                        let hint = suggest(other, ["from", "to"]);
                        self.report(
                            at,
                            format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
                        );
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
            let Some(body) = decl.body.as_object() else {
                self.report(
                    at,
                    format!("expected an object, got {}", describe(decl.body)),
                );
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
                        let hint = suggest(other, ["to", "id", "identity", "provider", "for_each"]);
                        self.report(
                            at,
                            format!("unknown argument \"{other}\"{}", did_you_mean(hint)),
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

    // ---------------------------------------------------------------- references

    fn check_references(&mut self, m: &Module<'_>) {
        let mut bodies: Vec<(String, Decl<'_>)> = Vec::new();
        for ((t, n), decls) in &m.resources {
            bodies.extend(decls.iter().map(|d| (format!("{t}.{n}"), *d)));
        }
        for ((t, n), decls) in &m.data {
            bodies.extend(decls.iter().map(|d| (format!("data.{t}.{n}"), *d)));
        }
        for (prefix, map) in [
            ("output", &m.outputs),
            ("local", &m.locals),
            ("module", &m.modules),
        ] {
            for (n, decls) in map {
                bodies.extend(decls.iter().map(|d| (format!("{prefix}.{n}"), *d)));
            }
        }
        for (name, decl) in &m.providers {
            let address = match decl.body.get("alias").and_then(Value::as_str) {
                Some(a) => format!("provider.{name}.{a}"),
                None => format!("provider.{name}"),
            };
            bodies.push((address, *decl));
        }
        bodies.extend(m.imports.iter().map(|(a, d)| (a.clone(), *d)));

        for (address, decl) in &bodies {
            let at = At {
                file: decl.file,
                address,
            };
            for s in strings(decl.body) {
                for span in expr_spans(s) {
                    let stripped = strip_quoted(span);
                    for r in find_refs(&stripped) {
                        self.check_reference(m, at, &r);
                    }
                }
            }
        }
    }

    fn check_reference(&mut self, m: &Module<'_>, at: At<'_>, r: &Ref<'_>) {
        let parts: Vec<&str> = r.head.split('.').collect();
        match parts.as_slice() {
            ["var", n] => self.check_declared(at, "variable", "var", n, &m.variables),
            ["local", n] => self.check_declared(at, "local value", "local", n, &m.locals),
            ["module", n] => self.check_declared(at, "module", "module", n, &m.modules),
            ["data", t, n] => {
                if !m.data.contains_key(&(*t, *n)) {
                    let names = m.data.keys().filter(|(dt, _)| dt == t).map(|(_, dn)| *dn);
                    let hint = suggest(n, names).map(|h| format!("data.{t}.{h}"));
                    self.report(
                        at,
                        format!(
                            "reference to undeclared data source data.{t}.{n}{}",
                            did_you_mean(hint)
                        ),
                    );
                } else if let Some(block) = self.schemas.data_source(t) {
                    self.check_attribute_path(at, r, t, block);
                }
            }
            // `each.key`, `count.index` and friends never match the pattern (no `_` in the
            // first name), but tfcheck.py lists them, so keep the guard.
            [first, _] if ["each", "count", "self", "path", "terraform"].contains(first) => {}
            [t, n] => {
                // A name that is not a resource type is a function call or keyword.
                let Some(block) = self.schemas.resource(t) else {
                    return;
                };
                if !m.resources.contains_key(&(*t, *n)) {
                    let names = m
                        .resources
                        .keys()
                        .filter(|(rt, _)| rt == t)
                        .map(|(_, rn)| *rn);
                    let hint = suggest(n, names).map(|h| format!("{t}.{h}"));
                    self.report(
                        at,
                        format!(
                            "reference to undeclared resource {t}.{n}{}",
                            did_you_mean(hint)
                        ),
                    );
                } else {
                    self.check_attribute_path(at, r, t, block);
                }
            }
            _ => {}
        }
    }

    /// Reports `prefix.name` unless `declared` has it.
    fn check_declared(
        &mut self,
        at: At<'_>,
        what: &str,
        prefix: &str,
        name: &str,
        declared: &BTreeMap<&str, Vec<Decl<'_>>>,
    ) {
        if !declared.contains_key(name) {
            let hint = suggest(name, declared.keys().copied()).map(|h| format!("{prefix}.{h}"));
            self.report(
                at,
                format!(
                    "reference to undeclared {what} {prefix}.{name}{}",
                    did_you_mean(hint)
                ),
            );
        }
    }

    /// The steps after `type.name` must exist: leading instance keys (`[0]`, `["a"]`, `[*]`)
    /// are skipped, the first attribute must be an attribute or block of the type (`id`
    /// always is), and further steps descend through nested blocks and object types;
    /// a name unknown inside a nested block is let through (see below).
    fn check_attribute_path(&mut self, at: At<'_>, r: &Ref<'_>, ty: &str, block: &Block) {
        let steps = parse_steps(r.rest);
        let mut i = 0;
        while matches!(steps.get(i), Some(Step::Index(_))) {
            i += 1;
        }
        let Some(Step::Attr(first)) = steps.get(i) else {
            return;
        };
        if *first == "id" {
            return;
        }
        // The reference as written up to step `j`, and the schema path of what step `j`
        // is applied to (type name instead of resource name, instance keys left out).
        let shown =
            |j: usize| format!("{}{}", r.head, render_steps(steps.get(..=j).unwrap_or(&[])));
        let owner = |j: usize| format!("{ty}{}", render_steps(steps.get(i..j).unwrap_or(&[])));
        let mut cur = Cursor::Block(block);
        for (j, step) in steps.iter().enumerate().skip(i) {
            match (cur, step) {
                (Cursor::Block(_), Step::Index(_)) => {}
                (Cursor::Block(b), Step::Attr(a)) => {
                    if let Some(attr) = b.attributes.get(*a) {
                        cur = Cursor::Type(&attr.ty);
                    } else if let Some(nb) = b.block_types.get(*a) {
                        cur = Cursor::Block(&nb.block);
                    } else if j > i {
                        // Inside nested blocks the shared schemas (derived from provider
                        // bindings) list only settable attributes, not computed ones such
                        // as `vpc_config[0].vpc_id`, so an unknown name there proves nothing.
                        return;
                    } else {
                        let candidates = b.attributes.keys().chain(b.block_types.keys());
                        let hint = suggest(a, candidates.map(String::as_str));
                        let message = format!(
                            "reference to {}: {} has no attribute \"{a}\"{}",
                            shown(j),
                            owner(j),
                            did_you_mean(hint)
                        );
                        self.report(at, message);
                        return;
                    }
                }
                (Cursor::Type(t), step) => match type_step(t, step) {
                    TypeStep::Into(next) => cur = Cursor::Type(next),
                    TypeStep::Unchecked => return,
                    TypeStep::NoAttribute {
                        candidates,
                        primitive,
                    } => {
                        let Step::Attr(a) = step else { return };
                        let message = match primitive {
                            Some(p) => format!(
                                "reference to {}: {} is a {p}, which has no attribute \"{a}\"",
                                shown(j),
                                owner(j)
                            ),
                            None => format!(
                                "reference to {}: {} has no attribute \"{a}\"{}",
                                shown(j),
                                owner(j),
                                did_you_mean(suggest(a, candidates.iter().copied()))
                            ),
                        };
                        self.report(at, message);
                        return;
                    }
                },
            }
        }
    }
}

/// Steps as written; quoted keys were blanked by `strip_quoted`, so they show as `["…"]`.
fn render_steps(steps: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in steps {
        match step {
            Step::Attr(a) => {
                s.push('.');
                s.push_str(a);
            }
            Step::Index(text) if text.contains('"') => s.push_str("[\"…\"]"),
            Step::Index(text) => s.push_str(text),
        }
    }
    s
}

#[derive(Clone, Copy)]
enum Cursor<'b> {
    Block(&'b Block),
    Type(&'b Value),
}

enum TypeStep<'t> {
    Into(&'t Value),
    Unchecked,
    /// `primitive` names the type when it is a string, number or bool.
    NoAttribute {
        candidates: Vec<&'t str>,
        primitive: Option<&'t str>,
    },
}

/// One step of a reference into a value of cty type `t`.
fn type_step<'t>(t: &'t Value, step: &Step<'_>) -> TypeStep<'t> {
    match t {
        Value::String(p) if matches!(p.as_str(), "string" | "number" | "bool") => match step {
            Step::Attr(_) => TypeStep::NoAttribute {
                candidates: Vec::new(),
                primitive: Some(p.as_str()),
            },
            // Indexing a primitive is wrong too, but the regex cannot always tell an
            // index from a splat of something else, so stay quiet.
            Step::Index(_) => TypeStep::Unchecked,
        },
        Value::Array(parts) => {
            let kind = parts.first().and_then(Value::as_str).unwrap_or("");
            let Some(inner) = parts.get(1) else {
                return TypeStep::Unchecked;
            };
            match (kind, step) {
                // A map is indexed by any key, with `.key` or `["key"]`; lists by number.
                // `.attr` on a list is lenient (it would need `[0]` or a splat).
                ("list" | "set" | "map", _) => TypeStep::Into(inner),
                ("object", Step::Attr(a)) => match inner.as_object() {
                    Some(fields) => match fields.get(*a) {
                        Some(next) => TypeStep::Into(next),
                        None => TypeStep::NoAttribute {
                            candidates: fields.keys().map(String::as_str).collect(),
                            primitive: None,
                        },
                    },
                    None => TypeStep::Unchecked,
                },
                _ => TypeStep::Unchecked,
            }
        }
        _ => TypeStep::Unchecked,
    }
}

// -------------------------------------------------------------------- expressions

/// Whether a value is (or contains) a template: a string with `${` or `%{` that is not escaped.
fn is_expr(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !expr_spans(s).is_empty())
}

/// `"${aws_vpc.main}"` → `aws_vpc.main`; anything else is returned trimmed.
fn bare_expr(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("${").and_then(|x| x.strip_suffix('}')) {
        Some(inner) => inner.trim(),
        None => t,
    }
}

/// Every string value inside `v` (not object keys), depth first, without recursion.
fn strings(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s.as_str()),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(m) => stack.extend(m.values().rev()),
            _ => {}
        }
    }
    out
}

/// Port of `expr_spans`: the text inside each `${ ... }` (and `%{ ... }` directive),
/// balancing braces and skipping double-quoted strings. `$${` and `%%{` are escapes for
/// literal text. An unterminated template yields the rest of the string.
fn expr_spans(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let opener = (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{';
        if !opener {
            i += 1;
            continue;
        }
        if i > 0 && b[i - 1] == b[i] {
            // The escape `$${` / `%%{` (its first byte was skipped over as plain text).
            i += 2;
            continue;
        }
        let start = i + 2;
        let (mut depth, mut k, mut in_quote) = (1usize, start, false);
        while k < b.len() && depth > 0 {
            let c = b[k];
            if in_quote {
                if c == b'\\' {
                    k += 1;
                } else if c == b'"' {
                    in_quote = false;
                }
            } else if c == b'"' {
                in_quote = true;
            } else if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth -= 1;
            }
            k += 1;
        }
        // Every byte that ends the scan is ASCII, so these offsets are char boundaries;
        // `get` keeps a surprise from panicking anyway.
        let end = if depth == 0 { k - 1 } else { b.len() };
        if let Some(span) = s.get(start..end.max(start)) {
            out.push(span);
        }
        i = k.max(i + 2);
    }
    out
}

/// Port of `strip_quoted`: each complete double-quoted string becomes `""`, so names in
/// string literals (map keys, function arguments) are not taken for references.
fn strip_quoted(e: &str) -> String {
    let mut out = String::with_capacity(e.len());
    let mut rest = e;
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..q]);
        let after = &rest[q + 1..];
        match closing_quote(after) {
            Some(close) => {
                out.push_str("\"\"");
                rest = &after[close + 1..];
            }
            None => {
                // No closing quote: like the regex, keep this quote and scan on.
                out.push('"');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Offset of the quote that closes a string whose body starts `s`; `\` escapes any
/// character except a newline (Python's `.`).
fn closing_quote(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(i),
            '\\' => match chars.next() {
                Some((_, '\n')) | None => return None,
                Some(_) => {}
            },
            _ => {}
        }
    }
    None
}

/// A reference found by [`find_refs`]: `head` is `type.name`, `data.type.name`,
/// `var.x`, `local.x` or `module.x`; `rest` the attribute and index steps after it.
struct Ref<'e> {
    head: &'e str,
    rest: &'e str,
}

/// Port of tfcheck.py's `REF` regex, applied like `finditer`:
///
/// ```text
/// (?<![\w."])(data\.[a-z0-9_]+\.[A-Za-z0-9_-]+|var\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_-]+
///            |module\.[A-Za-z0-9_-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z0-9_-]+)
/// ((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*)
/// ```
fn find_refs(e: &str) -> Vec<Ref<'_>> {
    let b = e.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Every alternative starts with a lowercase ASCII letter, so `i` is a char boundary.
        if b[i].is_ascii_lowercase()
            && boundary_before(e, i)
            && let Some(head_end) = match_head(b, i)
        {
            let end = match_rest(b, head_end);
            if let (Some(head), Some(rest)) = (e.get(i..head_end), e.get(head_end..end)) {
                out.push(Ref { head, rest });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// The lookbehind `(?<![\w."])`.
fn boundary_before(e: &str, i: usize) -> bool {
    match e.get(..i).and_then(|s| s.chars().next_back()) {
        None => true,
        Some(c) => !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'),
    }
}

fn is_lower_name(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Length of the run of bytes from `i` satisfying `f`.
fn run(b: &[u8], i: usize, f: fn(u8) -> bool) -> usize {
    b.get(i..)
        .map_or(0, |s| s.iter().take_while(|&&c| f(c)).count())
}

/// End of the first group of `REF` at `i`, trying the alternatives in order.
fn match_head(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..)?;
    if s.starts_with(b"data.") {
        let t = run(b, i + 5, is_lower_name);
        if t > 0 && b.get(i + 5 + t) == Some(&b'.') {
            let n = run(b, i + 6 + t, is_name);
            if n > 0 {
                return Some(i + 6 + t + n);
            }
        }
    }
    for prefix in [&b"var."[..], b"local.", b"module."] {
        if s.starts_with(prefix) {
            let n = run(b, i + prefix.len(), is_name);
            if n > 0 {
                return Some(i + prefix.len() + n);
            }
        }
    }
    // `[a-z][a-z0-9]*_[a-z0-9_]+\.` : the type is the whole `[a-z0-9_]` run (a `.` must
    // follow it), and it needs a `_` that is neither first nor last.
    let t = run(b, i, is_lower_name);
    let ty = b.get(i..i + t)?;
    let first_us = ty.iter().position(|&c| c == b'_')?;
    if first_us == 0 || first_us + 1 >= t || b.get(i + t) != Some(&b'.') {
        return None;
    }
    let n = run(b, i + t + 1, is_name);
    (n > 0).then_some(i + t + 1 + n)
}

/// End of `(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*` starting at `k`.
fn match_rest(b: &[u8], mut k: usize) -> usize {
    loop {
        match b.get(k) {
            Some(b'.')
                if b.get(k + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                k += 2 + run(b, k + 2, is_name);
            }
            Some(b'[') => match b
                .get(k + 1..)
                .and_then(|s| s.iter().position(|&c| c == b']'))
            {
                Some(p) => k += p + 2,
                None => return k,
            },
            _ => return k,
        }
    }
}

enum Step<'e> {
    Attr(&'e str),
    /// `[0]`, `["key"]` (with the key blanked by `strip_quoted`), `[*]`: the text as written.
    Index(&'e str),
}

/// Splits the second group of `REF` into steps.
fn parse_steps(rest: &str) -> Vec<Step<'_>> {
    let b = rest.as_bytes();
    let mut steps = Vec::new();
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'.' {
            let n = run(b, k + 1, is_name);
            if let Some(name) = rest.get(k + 1..k + 1 + n) {
                steps.push(Step::Attr(name));
            }
            k += 1 + n;
        } else if b[k] == b'[' {
            let close = b[k..]
                .iter()
                .position(|&c| c == b']')
                .map_or(b.len(), |p| k + p + 1);
            if let Some(text) = rest.get(k..close) {
                steps.push(Step::Index(text));
            }
            k = close;
        } else {
            // Not produced by `match_rest`; stop rather than guess.
            break;
        }
    }
    steps
}

// -------------------------------------------------------------------- messages

fn is_number_text(s: &str) -> bool {
    // `-?\d+(\.\d+)?`
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// A short description of a JSON value for messages: scalars as JSON (at most 40
/// characters), containers by kind.
fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::Null => "null".into(),
        scalar => {
            let text = scalar.to_string();
            if text.chars().count() > 40 {
                let cut: String = text.chars().take(37).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn prefixed(path: &str, message: String) -> String {
    if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// plausible typo (distance at most a third of the word, and less than the word).
fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    let len = word.chars().count();
    let limit = (len / 3).max(1).min(len.saturating_sub(1));
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

fn did_you_mean(hint: Option<String>) -> String {
    hint.map(|h| format!(" (did you mean \"{h}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(doc: Value) -> Vec<String> {
        check_module(
            &[("main.tf.json".to_string(), doc)],
            ProviderSchemas::bundled(),
        )
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    /// A valid module, with `patch` merged into the `aws_vpc.main` body.
    fn module_with_vpc(patch: Value) -> Value {
        let mut doc = valid_module();
        if let (Some(vpc), Some(extra)) = (
            doc.pointer_mut("/resource/aws_vpc/main")
                .and_then(Value::as_object_mut),
            patch.as_object(),
        ) {
            for (k, v) in extra {
                vpc.insert(k.clone(), v.clone());
            }
        }
        doc
    }

    fn valid_module() -> Value {
        json!({
            "terraform": {
                "required_version": ">= 1.6",
                "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 6.25"}}
            },
            "provider": {"aws": {"region": "${var.region}"}},
            "variable": {"region": {"type": "string", "default": "eu-west-1"}},
            "locals": {"name": "demo"},
            "resource": {
                "aws_vpc": {"main": {
                    "cidr_block": "10.0.0.0/16",
                    "enable_dns_support": true,
                    "tags": {"Name": "${local.name}"}
                }},
                "aws_subnet": {"a": {
                    "count": 2,
                    "vpc_id": "${aws_vpc.main.id}",
                    "cidr_block": "${cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)}",
                    "availability_zone": "${data.aws_availability_zones.all.names[count.index]}",
                    "depends_on": ["aws_vpc.main"]
                }}
            },
            "data": {"aws_availability_zones": {"all": {"state": "available"}}},
            "output": {
                "vpc_id": {"value": "${aws_vpc.main.id}"},
                "subnets": {"value": "${aws_subnet.a[*].arn}", "description": "subnet ARNs"}
            }
        })
    }

    #[test]
    fn valid_module_passes() {
        assert_eq!(check(valid_module()), Vec::<String>::new());
    }

    #[test]
    fn misspelled_argument() {
        let doc = module_with_vpc(json!({"cidr_blok": "10.1.0.0/16"}));
        assert_eq!(
            check(doc),
            [
                "main.tf.json: aws_vpc.main: unknown argument \"cidr_blok\" (did you mean \"cidr_block\"?)"
            ]
        );
    }

    #[test]
    fn missing_required_argument() {
        let mut doc = valid_module();
        if let Some(subnet) = doc
            .pointer_mut("/resource/aws_subnet/a")
            .and_then(Value::as_object_mut)
        {
            subnet.remove("vpc_id");
        }
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_subnet.a: missing required argument \"vpc_id\""]
        );
    }

    #[test]
    fn wrong_value_shape() {
        let doc =
            module_with_vpc(json!({"cidr_block": ["10.0.0.0/16"], "enable_dns_hostnames": "true"}));
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_vpc.main: cidr_block: expected a string, got an array"]
        );
        let doc = module_with_vpc(json!({"enable_dns_hostnames": "yes"}));
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_vpc.main: enable_dns_hostnames: expected a bool, got \"yes\""]
        );
    }

    #[test]
    fn dangling_reference() {
        let mut doc = valid_module();
        doc["output"]["vpc_id"]["value"] = json!("${aws_vpc.missing.id}");
        assert_eq!(
            check(doc),
            ["main.tf.json: output.vpc_id: reference to undeclared resource aws_vpc.missing"]
        );
    }

    #[test]
    fn reference_to_missing_attribute() {
        let mut doc = valid_module();
        doc["output"]["vpc_id"]["value"] = json!("${aws_vpc.main.nope}");
        assert_eq!(
            check(doc),
            [
                "main.tf.json: output.vpc_id: reference to aws_vpc.main.nope: aws_vpc has no attribute \"nope\""
            ]
        );
    }

    #[test]
    fn too_many_blocks() {
        let mut doc = valid_module();
        doc["resource"]["aws_subnet"]["a"]["timeouts"] =
            json!([{"create": "10m"}, {"create": "20m"}]);
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_subnet.a: timeouts: at most 1 block allowed, got 2"]
        );
    }

    #[test]
    fn computed_only_attribute() {
        let doc = module_with_vpc(json!({"arn": "arn:aws:ec2:::vpc/x"}));
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_vpc.main: arn: computed-only attribute cannot be set"]
        );
    }

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
    fn undeclared_variable() {
        let mut doc = valid_module();
        doc["provider"]["aws"]["region"] = json!("${var.x}");
        assert_eq!(
            check(doc),
            ["main.tf.json: provider.aws: reference to undeclared variable var.x"]
        );
    }

    #[test]
    fn nested_reference_paths() {
        let mut doc = valid_module();
        doc["resource"]["aws_eks_cluster"] = json!({"main": {
            "name": "demo",
            "role_arn": "arn:aws:iam::123456789012:role/eks",
            "vpc_config": {"subnet_ids": "${[for s in aws_subnet.a : s.id]}"}
        }});
        doc["output"] = json!({
            "zone": {"value": "${data.aws_availability_zones.all.names[0]}"},
            "issuer": {"value": "${aws_eks_cluster.main.identity[0].oidc[0].issuer}"},
            // Computed inside a block: absent from the binding-derived schemas, so let through.
            "sg": {"value": "${aws_eks_cluster.main.vpc_config[0].cluster_security_group_id}"},
            "bad_object_key": {"value": "${aws_eks_cluster.main.identity[0].oidcc[0].issuer}"},
            "bad_after_index": {"value": "${aws_subnet.a[\"k\"].nope}"},
            "bad_primitive": {"value": "${aws_vpc.main.cidr_block.first}"}
        });
        assert_eq!(
            check(doc),
            [
                "main.tf.json: output.bad_after_index: reference to aws_subnet.a[\"…\"].nope: aws_subnet has no attribute \"nope\"",
                "main.tf.json: output.bad_object_key: reference to aws_eks_cluster.main.identity[0].oidcc: aws_eks_cluster.identity[0] has no attribute \"oidcc\" (did you mean \"oidc\"?)",
                "main.tf.json: output.bad_primitive: reference to aws_vpc.main.cidr_block.first: aws_vpc.cidr_block is a string, which has no attribute \"first\"",
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

    #[test]
    fn check_dir_finds_each_module() -> Result<(), std::io::Error> {
        let dir = tempfile::tempdir()?;
        let write = |rel: &str, text: &str| -> Result<(), std::io::Error> {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, text)
        };
        write("envs/prod/main.tf.json", &valid_module().to_string())?;
        // A second module: its own declarations, so `aws_vpc.main` is dangling here.
        write(
            "envs/dev/outputs.tf.json",
            r#"{"output": {"x": {"value": "${aws_vpc.main.id}"}}}"#,
        )?;
        write("envs/dev/broken.tf.json", "{")?;
        write(".terraform/skip.tf.json", "not even json")?;
        write("envs/prod/notes.json", "ignored: not *.tf.json")?;
        let problems: Vec<String> = check_dir(dir.path(), ProviderSchemas::bundled())?
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "envs/dev/broken.tf.json: not valid JSON: EOF while parsing an object at line 1 column 1",
                "envs/dev/outputs.tf.json: output.x: reference to undeclared resource aws_vpc.main",
            ]
        );
        let single = check_dir(
            &dir.path().join("envs/prod/main.tf.json"),
            ProviderSchemas::bundled(),
        )?;
        assert_eq!(single, Vec::new());
        let empty = tempfile::tempdir()?;
        let none = check_dir(empty.path(), ProviderSchemas::bundled())?;
        assert_eq!(none.len(), 1);
        Ok(())
    }

    #[test]
    fn regex_port_matches_python() {
        let refs = |e: &str| -> Vec<String> {
            find_refs(&strip_quoted(e))
                .iter()
                .map(|r| format!("{}|{}", r.head, r.rest))
                .collect()
        };
        assert_eq!(refs("aws_vpc.main.id"), ["aws_vpc.main|.id"]);
        assert_eq!(
            refs("cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)"),
            ["aws_vpc.main|.cidr_block"]
        );
        assert_eq!(
            refs("lookup(var.m, \"aws_vpc.x\", local.y)"),
            ["var.m|", "local.y|"]
        );
        assert_eq!(
            refs("data.aws_region.current.name"),
            ["data.aws_region.current|.name"]
        );
        assert_eq!(refs("aws_subnet.a[*].id"), ["aws_subnet.a|[*].id"]);
        assert_eq!(refs("x.aws_vpc.main"), Vec::<String>::new());
        assert_eq!(refs("each.value.aws_thing"), Vec::<String>::new());
        assert_eq!(refs("{for k, v in aws_x.y : k => v.id}"), ["aws_x.y|"]);
        assert_eq!(
            expr_spans("a ${x} b ${f({a = \"}\"})} $${lit}"),
            ["x", "f({a = \"}\"})"]
        );
        assert_eq!(expr_spans("${unterminated"), ["unterminated"]);
        assert_eq!(expr_spans("é${ü}"), ["ü"]);
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
