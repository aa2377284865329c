//! RFC 7396 JSON merge patch, on JSON (Terraform) and on ordered YAML trees (manifests), and
//! the conversions between parsed files and those trees.

use serde_json::Value;
use yaml_rust2::Yaml;

use crate::k8s::yaml::{Map, Y};

/// Apply `patch` to `target` (RFC 7396): an object patch merges key by key, `null` removing
/// a key; anything else replaces the target.
pub fn merge_json(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_json(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// [`merge_json`] on an ordered YAML tree: replaced keys keep their place, new keys go last.
pub fn merge_yaml(target: &mut Y<'static>, patch: &Value) -> Result<(), String> {
    let Value::Object(p) = patch else {
        *target = json_to_y(patch)?;
        return Ok(());
    };
    if !matches!(target, Y::Map(_)) {
        *target = Y::Map(Map::new());
    }
    let Y::Map(t) = target else { return Ok(()) };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else if let Some(slot) = t.get_mut(k) {
            merge_yaml(slot, v)?;
        } else {
            let mut fresh = Y::Map(Map::new());
            merge_yaml(&mut fresh, v)?;
            t.insert(k.clone(), fresh);
        }
    }
    Ok(())
}

/// A JSON value as a YAML tree (no nulls: a merge patch's `null` deletes before this).
pub fn json_to_y(v: &Value) -> Result<Y<'static>, String> {
    Ok(match v {
        Value::Null => return Err("`null` only deletes a key in a merge patch".into()),
        Value::Bool(b) => Y::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Y::Int(i),
            None => {
                return Err(format!(
                    "`{n}`: manifests take whole numbers; write fractions as strings (`\"{n}\"`), as Kubernetes quantities are"
                ));
            }
        },
        Value::String(s) => Y::Str(s.clone().into()),
        Value::Array(items) => Y::Seq(items.iter().map(json_to_y).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if !v.is_null() {
                    out.insert(k.clone(), json_to_y(v)?);
                }
            }
            Y::Map(out)
        }
    })
}

/// A parsed YAML document as an ordered tree.
pub fn yaml_to_y(y: &Yaml) -> Result<Y<'static>, String> {
    Ok(match y {
        Yaml::Boolean(b) => Y::Bool(*b),
        Yaml::Integer(i) => Y::Int(*i),
        Yaml::String(s) => Y::Str(s.clone().into()),
        Yaml::Real(r) => {
            return Err(format!(
                "`{r}`: manifests take whole numbers; write fractions as strings"
            ));
        }
        Yaml::Array(items) => Y::Seq(items.iter().map(yaml_to_y).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut out = Map::new();
            for (k, v) in h {
                let Yaml::String(key) = k else {
                    return Err(format!("mapping key {k:?} is not a string"));
                };
                // A null value says nothing Kubernetes needs; the writer has no null.
                if !matches!(v, Yaml::Null) {
                    out.insert(key.clone(), yaml_to_y(v)?);
                }
            }
            Y::Map(out)
        }
        Yaml::Null => return Err("a document or list item is null".into()),
        Yaml::Alias(_) => return Err("aliases are not allowed in manifests".into()),
        Yaml::BadValue => return Err("unreadable YAML value".into()),
    })
}

/// The documents of a manifest file infragen wrote, and its `#` comment.
pub fn read_manifests(text: &str) -> Result<(String, Vec<Map<'static>>), String> {
    let comment: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim_start())
        .collect();
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for d in docs.iter().filter(|d| !d.is_null()) {
        match yaml_to_y(d)? {
            Y::Map(m) => out.push(m),
            _ => return Err("a document is not a mapping".into()),
        }
    }
    Ok((comment.join("\n"), out))
}

/// Terraform JSON canonically (sorted keys, two-space indent, trailing newline) without any
/// template escaping: the strings are Terraform's text already.
pub fn write_terraform(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut s = serde_json::to_string_pretty(&sorted(v)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7396_examples() {
        // From RFC 7396, appendix A.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut target, patch, want) in cases {
            merge_json(&mut target, &patch);
            assert_eq!(target, want, "patch {patch}");
        }
    }

    #[test]
    fn yaml_patch_keeps_order_and_deletes() {
        let (_, mut docs) =
            read_manifests("# c\n---\nkind: A\nmetadata:\n  name: x\n  labels: {a: b}\nspec: 1\n")
                .unwrap();
        let mut y = Y::Map(docs.remove(0));
        merge_yaml(
            &mut y,
            &json!({"metadata": {"labels": null, "annotations": {"k": "v"}}, "kind": "B"}),
        )
        .unwrap();
        let Y::Map(m) = y else { panic!() };
        assert_eq!(
            crate::k8s::yaml::to_string(&m),
            "kind: B\nmetadata:\n  name: x\n  annotations:\n    k: v\nspec: 1\n"
        );
    }
}
