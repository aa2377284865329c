//! Generated output as objects: Terraform resources by module and address, Kubernetes
//! objects by kind, namespace and name — each flattened to `path → value` for comparison.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::output::Output;

/// One resource or manifest object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `aws_db_instance` for Terraform, `k8s:StatefulSet` for Kubernetes.
    pub kind: String,
    /// File that holds it, relative to the output folder.
    pub file: String,
    pub body: Value,
}

/// Every object of an output, keyed by a display address: `infra: aws_vpc.main`,
/// `k8s: Deployment shop/api`.
pub fn objects(out: &Output) -> BTreeMap<String, Object> {
    let mut objs = BTreeMap::new();
    for (path, text) in &out.files {
        if let Some(rest) = path.strip_prefix("terraform/")
            && path.ends_with(".tf.json")
        {
            let module = rest.split('/').next().unwrap_or(rest);
            let Ok(doc) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            for (block, prefix) in [("resource", ""), ("data", "data.")] {
                let Some(types) = doc.get(block).and_then(Value::as_object) else {
                    continue;
                };
                for (ty, names) in types {
                    for (name, body) in names.as_object().into_iter().flatten() {
                        objs.insert(
                            format!("{module}: {prefix}{ty}.{name}"),
                            Object {
                                kind: ty.clone(),
                                file: path.clone(),
                                body: body.clone(),
                            },
                        );
                    }
                }
            }
        } else if path.starts_with("k8s/") && path.ends_with(".yaml") {
            let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else {
                continue;
            };
            for doc in docs {
                let v = yaml_to_json(&doc);
                let Some(kind) = v.get("kind").and_then(Value::as_str) else {
                    continue;
                };
                let meta = v.get("metadata");
                let name = meta
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let key = match meta
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                {
                    Some(ns) => format!("k8s: {kind} {ns}/{name}"),
                    None => format!("k8s: {kind} {name}"),
                };
                objs.insert(
                    key,
                    Object {
                        kind: format!("k8s:{kind}"),
                        file: path.clone(),
                        body: v,
                    },
                );
            }
        }
    }
    objs
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// `path → leaf value`. Strings holding JSON documents (IAM policies, ECS container
/// definitions, Helm values) are opened too, so a changed image or action shows as such.
pub fn flatten(v: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if path.is_empty() || path.ends_with(':') {
                    format!("{path}{k}")
                } else {
                    format!("{path}.{k}")
                };
                walk(x, p, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) if (s.starts_with('{') || s.starts_with('[')) && s.len() > 2 => {
            match serde_json::from_str::<Value>(s) {
                Ok(inner @ (Value::Object(_) | Value::Array(_))) => {
                    walk(&inner, format!("{path}:"), out)
                }
                _ => {
                    out.insert(path, v.clone());
                }
            }
        }
        _ => {
            out.insert(path, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_values_and_embedded_json() {
        let f = flatten(
            &json!({"a": {"b": [1, {"c": true}]}, "p": "{\"Statement\":[{\"Action\":\"s3:*\"}]}", "e": {}}),
        );
        assert_eq!(f["a.b[0]"], json!(1));
        assert_eq!(f["a.b[1].c"], json!(true));
        assert_eq!(f["p:Statement[0].Action"], json!("s3:*"));
        assert_eq!(f["e"], json!({}));
    }
}
