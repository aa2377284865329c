//! `${...}` references: each names something declared in the module, and a real attribute of it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::schema::Block;
use super::collect::{Decl, Module};
use super::expr::{Ref, Step, expr_spans, find_refs, parse_steps, strings, strip_quoted};
use super::messages::{did_you_mean, suggest};
use super::{At, Checker};

impl Checker<'_> {
    pub(super) fn check_references(&mut self, m: &Module<'_>) {
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

    pub(super) fn check_reference(&mut self, m: &Module<'_>, at: At<'_>, r: &Ref<'_>) {
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
    pub(super) fn check_declared(
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
    pub(super) fn check_attribute_path(
        &mut self,
        at: At<'_>,
        r: &Ref<'_>,
        ty: &str,
        block: &Block,
    ) {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{check, valid_module};
    use serde_json::json;

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
}
