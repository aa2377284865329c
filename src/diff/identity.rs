//! Attribute-level comparison of two versions of one resource or object, with list elements
//! matched by identity rather than position.
//!
//! Generated lists shift when something in the middle goes: removing Redis from a service's
//! `uses` drops one egress rule from a NetworkPolicy, and compared by index every later rule
//! would look changed (`port: 6379 → 5671`). Elements that carry an identity — a `name`, a
//! port and protocol, a peer selector, a path, a rule priority… — are paired by it, so the
//! reviewer sees one rule removed. Lists of distinct strings that gained or lost elements
//! (a kustomization's `resources`) show those strings; other lists without a usable
//! identity (one that every element has and no two share) are compared by index.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Attribute;
use super::objects::flatten;

/// Every attribute that differs between `a` and `b`, in document order.
pub fn attributes(a: &Value, b: &Value) -> Vec<Attribute> {
    let mut out = Vec::new();
    compare(Some(a), Some(b), String::new(), &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path.ends_with(':') {
        format!("{path}{key}")
    } else {
        format!("{path}.{key}")
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>, path: String, out: &mut Vec<Attribute>) {
    match (a, b) {
        (Some(x), Some(y)) if x == y => {}
        (Some(Value::Object(x)), Some(Value::Object(y))) if !x.is_empty() && !y.is_empty() => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                compare(x.get(k), y.get(k), join(&path, k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if !x.is_empty() && !y.is_empty() => {
            if let Some((gone, came)) = inserted_or_removed(x, y) {
                let at = |v: &Value| format!("{path}[{}]", label(v).replace(['[', ']'], "|"));
                for v in gone {
                    out.push(Attribute {
                        path: at(v),
                        old: Some(v.clone()),
                        new: None,
                    });
                }
                for v in came {
                    out.push(Attribute {
                        path: at(v),
                        old: None,
                        new: Some(v.clone()),
                    });
                }
                return;
            }
            match keyer(x, y) {
                Some(key) => by_identity(x, y, key, &path, out),
                None => {
                    for i in 0..x.len().max(y.len()) {
                        compare(x.get(i), y.get(i), format!("{path}[{i}]"), out);
                    }
                }
            }
        }
        (Some(Value::String(x)), Some(Value::String(y))) => match (embedded(x), embedded(y)) {
            // IAM policies, ECS container definitions, Helm values: JSON in a string.
            (Some(p), Some(q)) => compare(Some(&p), Some(&q), format!("{path}:"), out),
            _ => leaves(a, b, path, out),
        },
        _ => leaves(a, b, path, out),
    }
}

fn embedded(s: &str) -> Option<Value> {
    if !(s.starts_with('{') || s.starts_with('[')) || s.len() <= 2 {
        return None;
    }
    serde_json::from_str::<Value>(s)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// Structures that do not line up: compare leaf by leaf under `path`.
fn leaves(a: Option<&Value>, b: Option<&Value>, path: String, out: &mut Vec<Attribute>) {
    let prefixed = |v: Option<&Value>| -> BTreeMap<String, Value> {
        v.map(flatten)
            .unwrap_or_default()
            .into_iter()
            .map(|(p, x)| {
                let full = if p.is_empty() {
                    path.clone()
                } else if p.starts_with('[') || p.starts_with(':') {
                    format!("{path}{p}")
                } else {
                    join(&path, &p)
                };
                (full, x)
            })
            .collect()
    };
    let (x, y) = (prefixed(a), prefixed(b));
    let mut paths: Vec<&String> = x.keys().chain(y.keys()).collect();
    paths.sort();
    paths.dedup();
    for p in paths {
        if x.get(p) != y.get(p) {
            out.push(Attribute {
                path: p.clone(),
                old: x.get(p).cloned(),
                new: y.get(p).cloned(),
            });
        }
    }
}

/// Lists of distinct strings of different lengths that differ only by elements inserted or
/// removed — the elements both hold in the same order (a kustomization's `resources`, a policy's
/// `Resource` list, `depends_on`): the strings removed and added, so a new file in the
/// middle is one line, not every later element shifted. `None` when an element repeats, one
/// is not a string, or the common ones moved (an order change, which positions show).
fn inserted_or_removed<'a>(
    x: &'a [Value],
    y: &'a [Value],
) -> Option<(Vec<&'a Value>, Vec<&'a Value>)> {
    let distinct = |l: &[Value]| {
        let mut seen = std::collections::BTreeSet::new();
        l.iter().all(|v| v.as_str().is_some_and(|s| seen.insert(s)))
    };
    // Same length: an element replaced in place reads best as `old → new` at its index.
    if x.len() == y.len() || !distinct(x) || !distinct(y) {
        return None;
    }
    let common_x: Vec<&Value> = x.iter().filter(|v| y.contains(v)).collect();
    let common_y: Vec<&Value> = y.iter().filter(|v| x.contains(v)).collect();
    if common_x != common_y {
        return None;
    }
    Some((
        x.iter().filter(|v| !y.contains(v)).collect(),
        y.iter().filter(|v| !x.contains(v)).collect(),
    ))
}

/// Pair elements by `key`; an element on one side only is one attribute holding it whole.
fn by_identity(x: &[Value], y: &[Value], key: Key, path: &str, out: &mut Vec<Attribute>) {
    let ids = |v: &[Value]| -> Vec<String> { v.iter().filter_map(key).collect() };
    let (xi, yi) = (ids(x), ids(y));
    let at = |id: &str| format!("{path}[{}]", id.replace(['[', ']'], "|"));
    for (id, old) in xi.iter().zip(x) {
        match yi.iter().position(|j| j == id) {
            Some(j) => compare(Some(old), Some(&y[j]), at(id), out),
            None => out.push(Attribute {
                path: at(id),
                old: Some(old.clone()),
                new: None,
            }),
        }
    }
    for (id, new) in yi.iter().zip(y) {
        if !xi.contains(id) {
            out.push(Attribute {
                path: at(id),
                old: None,
                new: Some(new.clone()),
            });
        }
    }
}

type Key = fn(&Value) -> Option<String>;

/// The first identity every element of both lists has, unique within each list.
fn keyer(x: &[Value], y: &[Value]) -> Option<Key> {
    const KEYS: &[Key] = &[
        |e| field(e, "name").map(|n| format!("name={n}")),
        |e| field(e, "Name").map(|n| format!("Name={n}")),
        |e| field(e, "Sid").map(|n| format!("Sid={n}")),
        |e| field(e, "sid").map(|n| format!("sid={n}")),
        // NetworkPolicy rules: the peers they admit, then with their ports.
        |e| peer(e).map(|p| format!("{}={p}", peer_word(e))),
        |e| {
            let p = peer(e)?;
            Some(format!(
                "{}={p} ports={}",
                peer_word(e),
                label(e.get("ports")?)
            ))
        },
        |e| e.get("ports").map(|p| format!("ports={}", label(p))),
        // NetworkPolicy peers: the selector is the identity.
        |e| {
            ["podSelector", "namespaceSelector", "ipBlock"]
                .iter()
                .any(|k| e.get(k).is_some())
                .then(|| label(e))
        },
        // Service and NetworkPolicy ports, container ports.
        |e| port(e, "port"),
        |e| port(e, "containerPort"),
        |e| {
            let (f, t) = (field(e, "from_port")?, field(e, "to_port")?);
            let proto = field(e, "protocol").unwrap_or_default();
            Some(format!("ports={f}-{t}/{proto}"))
        },
        |e| e.get("path").map(|p| format!("path={}", label(p))),
        |e| field(e, "mountPath").map(|p| format!("mountPath={p}")),
        |e| field(e, "priority").map(|p| format!("priority={p}")),
        |e| e.get("matches").map(|m| format!("matches={}", label(m))),
        |e| field(e, "key").map(|k| format!("key={k}")),
        |e| field(e, "host").map(|h| format!("host={h}")),
    ];
    // Of the identities that fit, the one pairing the most elements: an ingress rule whose
    // peers changed is still the rule for its port.
    let mut best: Option<(usize, Key)> = None;
    for k in KEYS
        .iter()
        .copied()
        .filter(|k| unique(x, *k) && unique(y, *k))
    {
        let ys: Vec<String> = y.iter().filter_map(k).collect();
        let paired = x.iter().filter_map(k).filter(|id| ys.contains(id)).count();
        if best.is_none_or(|(n, _)| paired > n) {
            best = Some((paired, k));
        }
    }
    best.map(|(_, k)| k)
}

fn unique(list: &[Value], key: Key) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    list.iter()
        .all(|e| key(e).is_some_and(|id| seen.insert(id)))
}

/// A scalar field as text.
fn field(e: &Value, name: &str) -> Option<String> {
    match e.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn port(e: &Value, name: &str) -> Option<String> {
    let p = field(e, name)?;
    let proto = field(e, "protocol").unwrap_or_else(|| "TCP".into());
    Some(format!("{name}={p}/{proto}"))
}

fn peer_word(e: &Value) -> &'static str {
    if e.get("to").is_some() { "to" } else { "from" }
}

/// A NetworkPolicy rule's peers (`to` / `from`), as a short label.
fn peer(e: &Value) -> Option<String> {
    let v = e.get("to").or_else(|| e.get("from"))?;
    Some(label(v))
}

/// A compact, stable label for a value: `podSelector.app=redis`, `/api`.
fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) | Value::Null => v.to_string(),
        _ => {
            let parts: Vec<String> = flatten(v)
                .into_iter()
                .map(|(p, x)| {
                    let p = strip_noise(&p);
                    let x = match x {
                        Value::String(s) => s,
                        Value::Object(m) if m == Map::new() => "{}".into(),
                        other => other.to_string(),
                    };
                    if p.is_empty() { x } else { format!("{p}={x}") }
                })
                .collect();
            parts.join(",")
        }
    }
}

/// `scaling_config[0].desired_size` → `scaling_config.desired_size`: an attribute path
/// without its list positions.
pub(super) fn without_indices(p: &str) -> String {
    let mut s = String::with_capacity(p.len());
    let mut skip = false;
    for ch in p.chars() {
        match ch {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => s.push(ch),
            _ => {}
        }
    }
    s
}

/// `[0].podSelector.matchLabels.app` → `podSelector.app`: positions and `matchLabels` say
/// nothing a reviewer needs.
fn strip_noise(p: &str) -> String {
    without_indices(p)
        .replace(".matchLabels", "")
        .trim_start_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(app: &str, port: u16) -> Value {
        json!({"to": [{"podSelector": {"matchLabels": {"app": app}}}],
               "ports": [{"protocol": "TCP", "port": port}]})
    }

    #[test]
    fn a_string_inserted_in_a_list_is_one_change() {
        let paths = |a: Value, b: Value| -> Vec<String> {
            attributes(&a, &b).into_iter().map(|at| at.path).collect()
        };
        // A kustomization gains a file in the middle: one added, none shifted.
        assert_eq!(
            paths(
                json!({"resources": ["a.yaml", "c.yaml", "d.yaml"]}),
                json!({"resources": ["a.yaml", "b.yaml", "c.yaml", "d.yaml"]})
            ),
            ["resources[b.yaml]"]
        );
        assert_eq!(
            paths(
                json!({"resources": ["a.yaml", "b.yaml", "c.yaml"]}),
                json!({"resources": ["a.yaml", "c.yaml"]})
            ),
            ["resources[b.yaml]"]
        );
        // One replaced in place, or an order change: by position.
        assert_eq!(
            paths(json!({"t": ["t3.medium"]}), json!({"t": ["t3.large"]})),
            ["t[0]"]
        );
        assert_eq!(
            paths(
                json!({"args": ["-a", "-b", "-c"]}),
                json!({"args": ["-b", "-a"]})
            ),
            ["args[0]", "args[1]", "args[2]"]
        );
    }

    #[test]
    fn a_removed_rule_is_removed_not_shifted() {
        let a =
            json!({"spec": {"egress": [rule("db", 5432), rule("redis", 6379), rule("mq", 5671)]}});
        let b = json!({"spec": {"egress": [rule("db", 5432), rule("mq", 5671)]}});
        let attrs = attributes(&a, &b);
        assert_eq!(attrs.len(), 1, "{attrs:?}");
        assert_eq!(attrs[0].path, "spec.egress[to=podSelector.app=redis]");
        assert_eq!(attrs[0].old, Some(rule("redis", 6379)));
        assert_eq!(attrs[0].new, None);
    }

    #[test]
    fn a_rule_whose_peers_changed_pairs_by_its_ports() {
        let peers = |apps: &[&str]| -> Value {
            apps.iter()
                .map(|a| json!({"podSelector": {"matchLabels": {"app": a}}}))
                .collect()
        };
        let a = json!({"ingress": [{"from": peers(&["api", "redis"]), "ports": [{"port": 6379}]}]});
        let b = json!({"ingress": [{"from": peers(&["redis"]), "ports": [{"port": 6379}]}]});
        let attrs = attributes(&a, &b);
        assert_eq!(attrs.len(), 1, "{attrs:?}");
        assert_eq!(
            attrs[0].path,
            "ingress[ports=port=6379].from[podSelector.app=api]"
        );
        assert_eq!(attrs[0].new, None);
    }

    #[test]
    fn named_elements_pair_by_name() {
        let a = json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]});
        let b = json!({"env": [{"name": "B", "value": "3"}]});
        let attrs = attributes(&a, &b);
        let paths: Vec<&str> = attrs.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["env[name=A]", "env[name=B].value"]);
        assert_eq!(attrs[1].old, Some(json!("2")));
        assert_eq!(attrs[1].new, Some(json!("3")));
    }

    #[test]
    fn without_identity_lists_compare_by_index() {
        // Repeated strings have no identity: by index.
        let a = json!({"args": ["a", "b", "a"]});
        let b = json!({"args": ["a", "a"]});
        let paths: Vec<String> = attributes(&a, &b).into_iter().map(|x| x.path).collect();
        assert_eq!(paths, ["args[1]", "args[2]"]);
    }

    #[test]
    fn duplicate_identities_fall_back_to_the_next_key() {
        // Two rules to the same peer: told apart by their ports.
        let a = json!([rule("db", 5432), rule("db", 5433)]);
        let b = json!([rule("db", 5433)]);
        let attrs = attributes(&a, &b);
        assert_eq!(attrs.len(), 1, "{attrs:?}");
        assert!(attrs[0].path.contains("ports="), "{}", attrs[0].path);
    }

    #[test]
    fn embedded_json_is_compared_inside() {
        let defs = |env: Value| {
            Value::String(json!([{"name": "api", "image": "x:1", "environment": env}]).to_string())
        };
        let a = json!({"container_definitions": defs(json!([{"name": "REDIS_URL", "value": "r"}, {"name": "DB", "value": "d"}]))});
        let b = json!({"container_definitions": defs(json!([{"name": "DB", "value": "d"}]))});
        let attrs = attributes(&a, &b);
        assert_eq!(attrs.len(), 1, "{attrs:?}");
        assert_eq!(
            attrs[0].path,
            "container_definitions:[name=api].environment[name=REDIS_URL]"
        );
    }
}
