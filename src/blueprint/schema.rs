//! The blueprint's JSON Schema (`infragen schema`, `blueprint.schema.json`): schemars' schema
//! of `Blueprint`, plus a partial twin of every type for `environments.*` overlays, so
//! editors complete and check overlays as they do the base.
//!
//! An overlay is the blueprint with everything optional: maps deep-merge, lists of named
//! items merge by `name` (an item may say `$patch: delete`), and `null` removes a key (see
//! `overlay.rs`). The twins are derived from the base schema rather than written by hand,
//! so a field added to `types.rs` appears in both.

use serde_json::{Map, Value, json};

use super::Blueprint;

/// Suffix of the overlay twin of each `$defs` entry (`Service` → `ServiceOverlay`).
const OVERLAY: &str = "Overlay";

/// The `$defs` entry of a provider's part (`per_provider.<provider>`): the blueprint's
/// overlay without `per_provider`.
pub const PROVIDER_PART: &str = "BlueprintProviderOverlay";

/// The complete schema, overlays included.
pub fn schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Blueprint)).unwrap_or_default();
    let Some(root) = schema.as_object_mut() else {
        return schema;
    };
    let defs: Map<String, Value> = root
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    // The root as a type of its own, without the overlays themselves.
    let mut base = root.clone();
    for key in ["$defs", "$schema", "title"] {
        base.remove(key);
    }
    if let Some(props) = base.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("environments");
    }
    let mut overlay_root = partial(&Value::Object(base));
    overlay_root["description"] = json!(
        "One environment's changes to the blueprint: every field optional, maps deep-merge, \
         lists of named items merge by `name` (`$patch: delete` removes one), scalars \
         replace, `null` removes."
    );

    // The root carries `name`, so `partial` offered `$patch`, which only a list item takes
    // (`overlay::check` refuses it at the top of an overlay).
    if let Some(props) = overlay_root
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        props.remove("$patch");
    }
    // A provider's part (`per_provider.<provider>`, at the top or in an environment) is the
    // same overlay without `per_provider` (a part does not nest; `per_provider.rs`).
    let mut provider_overlay = overlay_root.clone();
    if let Some(props) = provider_overlay
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        props.remove(super::per_provider::KEY);
    }
    provider_overlay["description"] = json!(
        "One provider's changes to the blueprint (or to an environment), applied only for that \
         `--provider`: every field optional, maps deep-merge, lists of named items merge by \
         `name` (`$patch: delete` removes one), scalars replace, `null` removes."
    );

    let mut all = defs.clone();
    for (name, def) in &defs {
        all.insert(format!("{name}{OVERLAY}"), partial(def));
    }
    all.insert(format!("Blueprint{OVERLAY}"), overlay_root);
    all.insert(PROVIDER_PART.into(), provider_overlay);
    // `PerProvider`'s values are free-form maps in Rust (they are merged as YAML before
    // anything is typed); for editors they are provider overlays.
    for def in ["PerProvider".to_string(), format!("PerProvider{OVERLAY}")] {
        let Some(props) = all
            .get_mut(&def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for p in props.values_mut() {
            let description = p.get("description").cloned().unwrap_or_default();
            *p = json!({
                "description": description,
                "anyOf": [
                    {"$ref": format!("#/$defs/{PROVIDER_PART}")},
                    {"type": "null"}
                ]
            });
        }
    }
    root.insert("$defs".into(), Value::Object(all));
    if let Some(envs) = root
        .get_mut("properties")
        .and_then(|p| p.get_mut("environments"))
        .and_then(Value::as_object_mut)
    {
        // `production:` with nothing under it is an environment with no changes.
        envs.insert(
            "additionalProperties".into(),
            json!({"anyOf": [{"$ref": format!("#/$defs/Blueprint{OVERLAY}")}, {"type": "null"}]}),
        );
    }
    // `load` reads a top-level `environments:` or `per_provider:` with nothing under it as
    // none (`take_key`, `select_environment`, `per_provider::split`): an editor must not flag
    // the key a user has just typed and not yet filled.
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        if let Some(envs) = props.get_mut("environments") {
            envs["type"] = json!(["object", "null"]);
        }
        if let Some(p) = props.remove(super::per_provider::KEY) {
            props.insert(super::per_provider::KEY.into(), nullable(p));
        }
    }
    schema
}

/// The overlay form of a schema: nothing required, no defaults (an absent key keeps the
/// base's value, not the default), every property nullable, references to overlay twins,
/// and `$patch` on items that carry a `name`.
fn partial(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                match k.as_str() {
                    "required" | "default" => {}
                    "$ref" => {
                        let r = x.as_str().unwrap_or_default();
                        let twin = match r.strip_prefix("#/$defs/") {
                            Some(name) => json!(format!("#/$defs/{name}{OVERLAY}")),
                            None => x.clone(),
                        };
                        out.insert(k.clone(), twin);
                    }
                    "properties" => {
                        let props = x.as_object().cloned().unwrap_or_default();
                        let mut twin: Map<String, Value> = props
                            .iter()
                            .map(|(name, p)| (name.clone(), nullable(partial(p))))
                            .collect();
                        if props.contains_key("name") {
                            twin.insert(
                                "$patch".into(),
                                json!({
                                    "description": "`delete` removes the base's item with this `name` (in a list merged by `name`).",
                                    "const": "delete"
                                }),
                            );
                        }
                        out.insert(k.clone(), Value::Object(twin));
                    }
                    _ => {
                        out.insert(k.clone(), partial(x));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(partial).collect()),
        other => other.clone(),
    }
}

/// `p` or `null` (which removes the key from the base), keeping `p`'s description on top.
fn nullable(mut p: Value) -> Value {
    let description = p.as_object_mut().and_then(|m| m.remove("description"));
    let mut out = json!({"anyOf": [p, {"type": "null"}]});
    if let Some(d) = description {
        out["description"] = d;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property of every object in the schema, with where it is.
    fn properties(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                if let Some(props) = m.get("properties").and_then(Value::as_object) {
                    for (name, p) in props {
                        out.push((format!("{at}.{name}"), p.clone()));
                    }
                }
                for (k, x) in m {
                    properties(x, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| properties(x, at, out)),
            _ => {}
        }
    }

    #[test]
    fn every_property_has_a_description() {
        let mut props = Vec::new();
        properties(&schema(), "", &mut props);
        assert!(props.len() > 400, "walked only {} properties", props.len());
        let bare: Vec<&str> = props
            .iter()
            .filter(|(_, p)| {
                p.get("description")
                    .and_then(Value::as_str)
                    .is_none_or(|d| d.trim().is_empty())
            })
            .map(|(at, _)| at.as_str())
            .collect();
        assert!(
            bare.is_empty(),
            "schema properties without a description (add a `///` doc comment in \
             src/blueprint/types.rs): {bare:#?}"
        );
    }

    #[test]
    fn overlays_have_a_partial_schema() {
        let s = schema();
        let envs = &s["properties"]["environments"]["additionalProperties"]["anyOf"];
        assert_eq!(envs[0]["$ref"], "#/$defs/BlueprintOverlay");
        let overlay = &s["$defs"]["BlueprintOverlay"];
        assert!(overlay.get("required").is_none(), "{overlay}");
        assert!(overlay["properties"].get("environments").is_none());
        // Unknown keys are still refused in an overlay, as in the base.
        assert_eq!(overlay["additionalProperties"], false);
        let services = &overlay["properties"]["services"]["anyOf"][0];
        assert_eq!(services["items"]["$ref"], "#/$defs/ServiceOverlay");
        let service = &s["$defs"]["ServiceOverlay"];
        assert!(service.get("required").is_none(), "{service}");
        assert_eq!(service["properties"]["$patch"]["const"], "delete");
        assert!(
            service["properties"]["image"]["anyOf"]
                .as_array()
                .unwrap()
                .contains(&json!({"type": "null"}))
        );
        // `$patch` belongs to list items, never to the top of an overlay.
        assert!(overlay["properties"].get("$patch").is_none());
        // A provider's part, at the top and in an environment, is an overlay that does not
        // nest: editors complete and check it like an environment.
        let part = "#/$defs/BlueprintProviderOverlay";
        for per_provider in [
            &s["$defs"]["PerProvider"],
            &s["$defs"]["PerProviderOverlay"],
        ] {
            for p in ["aws", "digitalocean", "kubernetes"] {
                assert_eq!(per_provider["properties"][p]["anyOf"][0]["$ref"], part);
            }
        }
        let in_env = &overlay["properties"]["per_provider"]["anyOf"][0]["$ref"];
        assert_eq!(in_env, "#/$defs/PerProviderOverlay");
        let provider_part = &s["$defs"]["BlueprintProviderOverlay"];
        assert_eq!(provider_part["additionalProperties"], false);
        assert!(provider_part["properties"].get("per_provider").is_none());
        assert!(provider_part["properties"].get("environments").is_none());
        assert!(provider_part["properties"].get("node_pools").is_some());
        // The base keeps its rules: a service needs its image.
        let base = &s["$defs"]["Service"];
        assert!(
            base["required"]
                .as_array()
                .unwrap()
                .contains(&json!("image"))
        );
    }
}
