//! A Terraform root module as files split by concern, each a JSON document.
//!
//! Resource, data source, variable, local and output bodies are rendered to canonical JSON
//! text when they are added (see [`Node::Text`]); only their addresses stay structured. The
//! value trees back-ends build are short-lived, so a large stack never holds them all at
//! once, and rendering a file is mostly copying text.

use std::collections::BTreeMap;

use super::json::Json;
use crate::json;

use super::expr::{Expr, Ref, ident};
use super::render::{indent, write_json, write_str};
use super::sg_rules::SgRule;

/// A member of a file's JSON document.
#[derive(Debug, Clone)]
enum Node {
    /// A value already rendered at its nesting depth (what `write_json` writes there).
    Text(String),
    /// An object of nodes; `BTreeMap` keeps the keys in canonical (byte) order.
    Object(BTreeMap<String, Node>),
    /// A value rendered only with the file: provider configurations (several become an
    /// array), `terraform` (moved to `versions.tf.json`), `moved` blocks.
    Value(Json),
}

impl Node {
    /// A generous estimate of the rendered size, to size the file's buffer once.
    fn size_hint(&self, level: usize) -> usize {
        match self {
            Node::Text(t) => t.len(),
            Node::Object(m) => {
                m.iter()
                    .map(|(k, v)| k.len() + 2 * level + 8 + v.size_hint(level + 1))
                    .sum::<usize>()
                    + 2 * level
                    + 4
            }
            Node::Value(_) => 256,
        }
    }

    /// Write and free: each member's text is released as soon as it is copied, so a file's
    /// text is not held twice while it is rendered.
    fn write(self, out: &mut String, level: usize) {
        match self {
            Node::Text(t) => out.push_str(&t),
            Node::Value(v) => write_json(out, &v, level),
            Node::Object(m) => write_members(out, m.into_iter(), level),
        }
    }
}

/// `{ "k": v, … }` at depth `level`, members given in order.
fn write_members(
    out: &mut String,
    members: impl ExactSizeIterator<Item = (impl AsRef<str>, Node)>,
    level: usize,
) {
    let n = members.len();
    if n == 0 {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v)) in members.enumerate() {
        indent(out, level + 1);
        write_str(out, k.as_ref());
        out.push_str(": ");
        v.write(out, level + 1);
        if i + 1 < n {
            out.push(',');
        }
        out.push('\n');
    }
    indent(out, level);
    out.push('}');
}

/// `value` rendered at depth `level`, in a buffer of exactly its size.
fn text(value: &Json, level: usize) -> Node {
    thread_local! {
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        write_json(buf, value, level);
        let t = Node::Text(buf.as_str().to_owned());
        if buf.capacity() > 1 << 20 {
            *buf = String::new();
        }
        t
    })
}

/// One `*.tf.json` file.
#[derive(Debug, Default, Clone)]
pub struct File {
    top: BTreeMap<String, Node>,
    /// Members declared twice (`resource.aws_iam_role.app`): the second would silently
    /// replace the first, so [`Module::render`] reports them instead.
    duplicates: Vec<String>,
    /// The literal cloud names of the resources whose type keeps names unique
    /// ([`super::unique`]): (type, name, address).
    names: Vec<Named>,
    /// The security group rules among the resources, for the quota check
    /// ([`Module::security_group_rules`]).
    sg_rules: Vec<SgRule>,
}

/// A resource's cloud name: its type, the name, and the resource's Terraform name (the
/// address is `<type>.<that>`, formatted only for a message).
pub type Named = (&'static str, String, String);

/// One root module (`terraform/infra`, `terraform/platform`, …).
#[derive(Debug, Default, Clone)]
pub struct Module {
    /// Files by name without `.tf.json` (`network`), so finding one allocates nothing.
    files: BTreeMap<String, File>,
    header: String,
}

/// A module's files, rendered, and the addresses it declared more than once.
#[derive(Debug, Default)]
pub struct Rendered {
    /// File name (`network.tf.json`) and text, in name order.
    pub files: Vec<(String, String)>,
    /// Addresses (`aws_iam_role.app`, `data.aws_region.current`, `output.vpc_id`) declared
    /// twice in the module — in one file, in two parts merged, or in two files. Terraform
    /// refuses the same address in two files, and within one file the second body silently
    /// replaced the first: either way the output is not what the back-end meant, so the
    /// pipeline refuses it (`Output::duplicates`).
    pub duplicates: Vec<String>,
    /// The literal cloud names of resources whose type keeps them unique, for the pipeline
    /// to find two resources the API would refuse to create under one name.
    pub names: Vec<Named>,
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
        // Back-ends ask for a file per resource they add: looked up by `&str`, a name is
        // allocated only for a new file.
        if !self.files.contains_key(name) {
            self.files.insert(name.to_string(), File::default());
        }
        match self.files.get_mut(name) {
            Some(f) => f,
            None => unreachable!("just inserted"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.values().all(|f| f.top.is_empty())
    }

    /// An empty module with this one's header, to lower a share of the work into and
    /// [`Module::merge`] back.
    pub fn part(&self) -> Module {
        Module::new(self.header.clone())
    }

    /// Add everything `other` holds. Parts hold resources, data sources, variables, locals
    /// and outputs, whose addresses are unique, so merging them in any order gives the
    /// module that adding them here would have; should both have a member, `other`'s wins
    /// (a `provider` or `moved` list in a part replaces this module's rather than extending
    /// it).
    pub fn merge(&mut self, other: Module) {
        for (name, f) in other.files {
            let mine = self.files.entry(name).or_default();
            mine.duplicates.extend(f.duplicates);
            mine.names.extend(f.names);
            mine.sg_rules.extend(f.sg_rules);
            merge_members(&mut mine.top, f.top, "", &mut mine.duplicates);
        }
    }

    /// Rendered files by name, consuming the module so each file's text is freed as soon as
    /// it is rendered. The `terraform` block always goes to `versions.tf.json`, on its own:
    /// it is where people look for version pins, and checkov's JSON parser fails on a file
    /// whose `terraform` block holds `required_version`, skipping that file's resources.
    pub fn render(mut self) -> Rendered {
        let duplicates = self.duplicates();
        let names: Vec<Named> = self
            .files
            .values_mut()
            .flat_map(|f| std::mem::take(&mut f.names))
            .collect();
        let header = Node::Value(Json::from(std::mem::take(&mut self.header)));
        // In the order of the files' full names, which the first `terraform` block and the
        // result follow.
        let mut files: Vec<(String, File)> = std::mem::take(&mut self.files)
            .into_iter()
            .map(|(name, f)| (name_of(&name), f))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut terraform = files
            .iter_mut()
            .find_map(|(_, f)| f.top.remove("terraform"));
        // Other files' `terraform` blocks are not written (the first one wins).
        for (_, f) in &mut files {
            f.top.remove("terraform");
        }
        let mut out = Vec::with_capacity(files.len() + 1);
        let mut versions_written = false;
        for (name, f) in files {
            let is_versions = name == "versions.tf.json";
            let extra_terraform = if is_versions { terraform.take() } else { None };
            versions_written |= is_versions;
            if f.top.is_empty() && extra_terraform.is_none() {
                continue;
            }
            out.push((name, render_file(f.top, header.clone(), extra_terraform)));
        }
        if let (Some(t), false) = (terraform, versions_written) {
            let text = render_file(BTreeMap::new(), header, Some(t));
            out.push(("versions.tf.json".into(), text));
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Rendered {
            files: out,
            duplicates,
            names,
        }
    }

    /// Members declared twice: those each file recorded, and those two files both declare
    /// (Terraform's "Duplicate resource configuration"), sorted. A type usually lives in one
    /// file; only the name maps of a type found in several are walked side by side.
    fn duplicates(&self) -> Vec<String> {
        type Names<'a> = &'a BTreeMap<String, Node>;
        let mut by_type: BTreeMap<(&str, &str), Vec<Names>> = BTreeMap::new();
        for f in self.files.values() {
            for (kind, node) in &f.top {
                let Node::Object(members) = node else {
                    continue;
                };
                match kind.as_str() {
                    "provider" => {}
                    "resource" | "data" => {
                        for (ty, names) in members {
                            if let Node::Object(names) = names {
                                by_type.entry((kind, ty)).or_default().push(names);
                            }
                        }
                    }
                    _ => by_type.entry((kind, "")).or_default().push(members),
                }
            }
        }
        let mut out: Vec<String> = Vec::new();
        for ((kind, ty), maps) in by_type.into_iter().filter(|(_, m)| m.len() > 1) {
            for (i, a) in maps.iter().enumerate() {
                for b in &maps[i + 1..] {
                    for name in common_keys(a, b) {
                        let name = if ty.is_empty() {
                            name.to_string()
                        } else {
                            format!("{ty}.{name}")
                        };
                        out.push(member_address(kind, &name));
                    }
                }
            }
        }
        for f in self.files.values() {
            out.extend(f.duplicates.iter().cloned());
        }
        out.sort();
        out.dedup();
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
            matches!(f.top.get(kind), Some(Node::Object(types))
                if matches!(types.get(ty), Some(Node::Object(names)) if names.contains_key(name)))
        })
    }

    /// Every security group rule resource the module declares (see [`super::sg_rules`]).
    pub fn security_group_rules(&self) -> impl Iterator<Item = &SgRule> {
        self.files.values().flat_map(|f| &f.sg_rules)
    }

    /// Every resource address in the module, for tests and summaries.
    pub fn addresses(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.files.values() {
            for (kind, prefix) in [("resource", ""), ("data", "data.")] {
                if let Some(Node::Object(types)) = f.top.get(kind) {
                    for (ty, names) in types {
                        if let Node::Object(names) = names {
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

fn name_of(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 8);
    s.push_str(name);
    s.push_str(".tf.json");
    s
}

/// A file's document: its members plus the header comment (`//`, first in byte order among
/// the keys used) and, for `versions.tf.json`, the module's `terraform` block.
fn render_file(top: BTreeMap<String, Node>, header: Node, terraform: Option<Node>) -> String {
    let mut members: Vec<(String, Node)> = Vec::with_capacity(top.len() + 2);
    members.push(("//".into(), header));
    members.extend(top);
    if let Some(t) = terraform {
        members.push(("terraform".into(), t));
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let size: usize = members
        .iter()
        .map(|(k, v)| k.len() + 8 + v.size_hint(1))
        .sum::<usize>()
        + 4;
    let mut out = String::with_capacity(size);
    write_members(&mut out, members.into_iter(), 0);
    out.push('\n');
    out
}

/// How a member at `path` (`resource.aws_vpc.main`) is named in messages: `aws_vpc.main`,
/// `data.aws_region.current`, `output.vpc_id`, as Terraform names them.
fn member_address(kind: &str, name: &str) -> String {
    match kind {
        "resource" => name.to_string(),
        "locals" => format!("local.{name}"),
        "variable" => format!("var.{name}"),
        _ => format!("{kind}.{name}"),
    }
}

fn merge_members(
    into: &mut BTreeMap<String, Node>,
    mut from: BTreeMap<String, Node>,
    path: &str,
    duplicates: &mut Vec<String>,
) {
    // Objects on both sides merge member by member; everything else moves over in one
    // `append`, a linear merge of two sorted trees rather than a search and insert per
    // member (a part holds thousands of resources), `from` winning on equal keys.
    let shared: Vec<String> = from
        .iter()
        .filter(|(k, v)| {
            matches!(v, Node::Object(_)) && matches!(into.get(k.as_str()), Some(Node::Object(_)))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in shared {
        if let (Some(Node::Object(a)), Some(Node::Object(b))) = (into.get_mut(&k), from.remove(&k))
        {
            let inner = if path.is_empty() {
                k
            } else {
                format!("{path}.{k}")
            };
            merge_members(a, b, &inner, duplicates);
        }
    }
    // A rendered body on both sides is one address declared twice. Both maps are sorted, so
    // one walk over them finds it (no search per member).
    let mut mine = into.iter().peekable();
    for (k, v) in &from {
        if !matches!(v, Node::Text(_)) {
            continue;
        }
        while mine.next_if(|(m, _)| m.as_str() < k.as_str()).is_some() {}
        if let Some((m, Node::Text(_))) = mine.peek()
            && *m == k
        {
            let (kind, rest) = path.split_once('.').unwrap_or((path, ""));
            let name = if rest.is_empty() {
                k.clone()
            } else {
                format!("{rest}.{k}")
            };
            duplicates.push(member_address(kind, &name));
        }
    }
    into.append(&mut from);
}

/// The keys two sorted maps share, in one walk over both.
fn common_keys<'a>(a: &'a BTreeMap<String, Node>, b: &BTreeMap<String, Node>) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut other = b.keys().peekable();
    for k in a.keys() {
        while other.next_if(|o| o.as_str() < k.as_str()).is_some() {}
        if other.peek().is_some_and(|o| *o == k) {
            out.push(k.as_str());
        }
    }
    out
}

/// A value's text when it is the same in every plan: a string, or a template without
/// interpolations.
fn literal(value: &Json) -> Option<&str> {
    match value {
        Json::String(s) => Some(s),
        Json::Expr(e) if !e.as_str().contains("${") => Some(e.as_str()),
        _ => None,
    }
}

/// Insert a rendered member, recording its address if one was there already.
fn put(file: &mut File, kind: &str, key: String, node: Node) {
    if entry(&mut file.top, kind)
        .insert(key.clone(), node)
        .is_some()
    {
        file.duplicates.push(member_address(kind, &key));
    }
}

/// The object at `key` in `map`, made one if it is anything else.
fn entry<'a>(map: &'a mut BTreeMap<String, Node>, key: &str) -> &'a mut BTreeMap<String, Node> {
    if !matches!(map.get(key), Some(Node::Object(_))) {
        map.insert(key.to_string(), Node::Object(BTreeMap::new()));
    }
    match map.get_mut(key) {
        Some(Node::Object(m)) => m,
        _ => unreachable!("just made an object"),
    }
}

impl File {
    /// Add `resource "<ty>" "<name>"`; returns the reference to it.
    pub fn resource(&mut self, r: &Ref, body: Json) -> &mut Self {
        let kind = if r.is_data() { "data" } else { "resource" };
        let types = entry(&mut self.top, kind);
        let names = entry(types, r.ty());
        if names.insert(r.name().to_string(), text(&body, 3)).is_some() {
            self.duplicates.push(r.address());
        }
        if let Some(name) = super::unique::name_attribute(r.ty())
            .filter(|_| !r.is_data())
            .and_then(|(_, a)| literal(body.get(a)?))
        {
            self.names
                .push((r.ty(), name.to_string(), r.name().to_string()));
        }
        if let Some(rule) = super::sg_rules::of(r.ty(), &body) {
            self.sg_rules.push(rule);
        }
        self
    }

    /// `terraform { … }`; every value in it is a literal.
    pub fn terraform(&mut self, body: Json) -> &mut Self {
        self.top.insert("terraform".into(), Node::Value(body));
        self
    }

    /// `provider "<name>" { … }`; several calls add aliased configurations. One
    /// configuration is written as an object, several as an array (both are Terraform JSON;
    /// scanners such as checkov read only the object form).
    pub fn provider(&mut self, name: &str, body: Json) -> &mut Self {
        let providers = entry(&mut self.top, "provider");
        let body = match providers.remove(name) {
            None => body,
            Some(Node::Value(Json::Array(mut list))) => {
                list.push(body);
                Json::Array(list)
            }
            Some(Node::Value(first)) => Json::Array(vec![first, body]),
            Some(_) => unreachable!("provider configurations are kept as values"),
        };
        providers.insert(name.to_string(), Node::Value(body));
        self
    }

    pub fn variable(&mut self, name: &str, body: Json) -> &mut Self {
        put(self, "variable", ident(name), text(&body, 2));
        self
    }

    pub fn local(&mut self, name: &str, value: Json) -> &mut Self {
        put(self, "locals", ident(name), text(&value, 2));
        self
    }

    pub fn output(&mut self, name: &str, value: Expr, description: &str) -> &mut Self {
        let body = text(&json!({"value": value, "description": description}), 2);
        put(self, "output", ident(name), body);
        self
    }

    /// An output whose value Terraform redacts in plans and logs (`sensitive = true`), for
    /// connection details that carry credentials.
    pub fn sensitive_output(&mut self, name: &str, value: Expr, description: &str) -> &mut Self {
        let body = text(
            &json!({"value": value, "description": description, "sensitive": true}),
            2,
        );
        put(self, "output", ident(name), body);
        self
    }

    /// An `import` block (a body with `to`, `id` and optionally `for_each`).
    pub fn import(&mut self, body: Json) -> &mut Self {
        let list = self
            .top
            .entry("import".to_string())
            .or_insert_with(|| Node::Value(Json::Array(Vec::new())));
        if let Node::Value(Json::Array(l)) = list {
            l.push(body);
        }
        self
    }

    /// A `moved` block so a renamed component keeps its state.
    pub fn moved(&mut self, from: &str, to: &str) -> &mut Self {
        let list = self
            .top
            .entry("moved".to_string())
            .or_insert_with(|| Node::Value(Json::Array(Vec::new())));
        if let Node::Value(Json::Array(l)) = list {
            l.push(json!({"from": from, "to": to}));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terraform::res;

    #[test]
    fn an_address_declared_twice_is_reported_not_replaced() {
        // In one file: the second body used to replace the first silently.
        let mut m = Module::new("h");
        let vpc = res("aws_vpc", "main");
        m.file("network")
            .resource(&vpc, json!({"cidr_block": "10.0.0.0/16"}));
        m.file("network")
            .resource(&vpc, json!({"cidr_block": "10.1.0.0/16"}));
        m.file("outputs").output("vpc", Expr::lit("x"), "d");
        m.file("outputs").output("vpc", Expr::lit("y"), "d");
        // In two parts merged (the services are lowered in parts on several threads).
        let mut part = m.part();
        part.file("network")
            .resource(&vpc, json!({"cidr_block": "10.2.0.0/16"}));
        part.file("network").local("zones", json!(["a"]));
        m.file("network").local("zones", json!(["b"]));
        m.merge(part);
        // In two files: Terraform refuses it at init.
        let role = res("aws_iam_role", "app");
        m.file("identity").resource(&role, json!({"name": "a"}));
        m.file("ecs").resource(&role, json!({"name": "b"}));
        assert_eq!(
            m.render().duplicates,
            [
                "aws_iam_role.app",
                "aws_vpc.main",
                "local.zones",
                "output.vpc"
            ]
        );

        let mut ok = Module::new("h");
        ok.file("network").resource(&vpc, json!({}));
        ok.file("network")
            .resource(&res("aws_vpc", "other"), json!({}));
        ok.file("outputs").output("vpc", Expr::lit("x"), "d");
        let mut part = ok.part();
        part.file("network")
            .resource(&res("aws_subnet", "a"), json!({}));
        ok.merge(part);
        assert!(ok.render().duplicates.is_empty());
    }
}
