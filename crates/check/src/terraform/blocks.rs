//! Block structure against the provider schemas: known keys, required arguments and blocks,
//! block counts, `dynamic` blocks.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::schema::{Block, NestedBlock, NestingMode};
use super::expr::is_expr;
use super::messages::{describe, did_you_mean, join, prefixed, suggest};
use super::{At, Checker, Top};

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

impl Checker<'_> {
    /// Port of `check_block`: every key known, computed-only attributes unset, values
    /// shaped by their type, required attributes and `min_items` blocks present,
    /// `max_items` respected. `path` locates nested blocks inside the declaration.
    pub(super) fn check_block(
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

    pub(super) fn check_nested_blocks(
        &mut self,
        at: At<'_>,
        path: &str,
        nb: &NestedBlock,
        v: &Value,
    ) {
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
    pub(super) fn check_dynamic(
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
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{check, module_with_vpc, valid_module};
    use serde_json::{Value, json};

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
}
