//! What an editor shows: every shipped blueprint and fixture, read as the editor reads it
//! (`# yaml-language-server: $schema=…` → `blueprint.schema.json`), has no error. A schema
//! that flags a blueprint infragen accepts teaches users to ignore it.
//!
//! The editor checks the base on its own, so a blueprint's base is complete: a field every
//! environment sets (a CIDR per environment) still needs a value in the base, which the
//! environments override (docs/blueprint.md "Environments").

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::root;

/// YAML (1.2 core, as infragen reads it) as the JSON an editor validates.
fn json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s.parse::<f64>().map_or(Value::Null, Value::from),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, json(v))
                })
                .collect::<Map<_, _>>(),
        ),
        _ => Value::Null,
    }
}

/// Every `*.yaml` under `dir`, recursively, sorted.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_blueprint_and_fixture_passes_the_editor_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("blueprint.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut files = Vec::new();
    for dir in ["blueprints", "tests/fixtures"] {
        yaml_files(&root().join(dir), &mut files);
    }
    files.sort();
    let mut checked = 0;
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(docs) = YamlLoader::load_from_str(&text) else {
            continue;
        };
        let Some(doc) = docs.first() else { continue };
        let value = json(doc);
        // Blueprints only: templates, values files and other fixtures have no `name` +
        // `services`/`cluster`/data part at their top.
        let Some(top) = value.as_object() else {
            continue;
        };
        if !top.contains_key("name")
            || !["services", "cluster", "databases", "providers"]
                .iter()
                .any(|k| top.contains_key(*k))
        {
            continue;
        }
        checked += 1;
        // Whatever the editor accepts, `base-incomplete` does not flag (no false warning).
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        let envs = infragen::blueprint::environments(&rel, text.as_bytes()).unwrap_or_default();
        let env = envs.first().map_or("production", String::as_str);
        if let Ok(loaded) =
            infragen::blueprint::load(&rel, text.as_bytes(), infragen::Provider::Aws, env)
            && let Some(d) = &loaded.base_incomplete
        {
            bad.push(format!(
                "{rel}: base-incomplete though the editor accepts it: {d}"
            ));
        }
        for e in validator.iter_errors(&value) {
            bad.push(format!(
                "{}: {}: {}",
                f.strip_prefix(root()).unwrap().display(),
                e.instance_path(),
                e.to_string().chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(checked > 60, "checked only {checked} blueprints");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn editor_errors(yaml: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("blueprint.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc = &YamlLoader::load_from_str(yaml).unwrap()[0];
    validator
        .iter_errors(&json(doc))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A top-level `environments:` or `per_provider:` with nothing under it yet (a user
/// writing the blueprint): infragen reads it as none, so the editor accepts it too. Other
/// top-level keys with a null are refused by both.
#[test]
fn empty_environments_and_per_provider_keys_are_accepted_by_both() {
    let head = "name: demo\nservices:\n  - { name: web, image: nginx:1.27, port: 80 }\n";
    // `per_provider:` empty: infragen synthesizes, and the editor agrees.
    let text = format!("{head}per_provider:\nenvironments:\n  production:\n");
    infragen::synthesize(
        "b.yaml",
        text.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(editor_errors(&text), Vec::<String>::new(), "{text}");
    // `environments:` empty: infragen reads the blueprint and names what is missing (an
    // environment), not the key's type; the editor flags nothing.
    let text = format!("{head}environments:\nper_provider: ~\n");
    let Err(d) = infragen::synthesize(
        "b.yaml",
        text.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
    ) else {
        panic!("synthesized with no environment");
    };
    let d = d.to_string();
    assert!(d.contains("unknown environment `production`"), "{d}");
    assert!(d.contains("it declares none"), "{d}");
    assert_eq!(editor_errors(&text), Vec::<String>::new(), "{text}");
    // A null list is refused by both.
    let text = format!("{head}databases:\nenvironments:\n  production:\n");
    assert!(
        infragen::synthesize(
            "b.yaml",
            text.as_bytes(),
            infragen::Provider::Kubernetes,
            "production"
        )
        .is_err()
    );
    assert!(!editor_errors(&text).is_empty(), "{text}");
}

/// A required field only the environments supply (`network.cidr`): infragen merges and
/// accepts, the editor flags the base, and `synth` warns `base-incomplete` at the field with
/// the fix; with the value in the base the editor and infragen are both quiet.
#[test]
fn a_base_lacking_what_the_environments_supply_is_warned() {
    let blueprint = |base_cidr: &str| {
        crate::support::ecs_stack(
            "demo",
            "services:\n  - { name: web, image: nginx:1.27, port: 80 }\n",
        )
        .replace("  cidr: 10.0.0.0/16\n", base_cidr)
            + "environments:\n  production:\n    network: { cidr: 10.0.0.0/16 }\n  staging:\n    network: { cidr: 10.0.0.0/16 }\n"
    };
    let warned = |text: &str| -> Vec<String> {
        crate::support::synth_aws("demo", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .notes
            .iter()
            .filter(|n| n.rule == Some("base-incomplete"))
            .map(|n| n.text.clone())
            .collect()
    };
    let incomplete = blueprint("");
    assert!(
        editor_errors(&incomplete)
            .iter()
            .any(|e| e.starts_with("/network:")),
        "{:?}",
        editor_errors(&incomplete)
    );
    let w = warned(&incomplete);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("demo.yaml:8:3:"), "{}", w[0]);
    assert!(w[0].contains("missing field `cidr`"), "{}", w[0]);
    assert!(w[0].contains("give it a value in the base"), "{}", w[0]);
    let complete = blueprint("  cidr: 10.0.0.0/16\n");
    assert_eq!(editor_errors(&complete), Vec::<String>::new());
    assert_eq!(warned(&complete), Vec::<String>::new());
}

/// The base is one text: under `--env all` its `base-incomplete` warning is printed once,
/// at its position in the file, not once per environment.
#[test]
fn base_incomplete_is_printed_once_for_all_environments() {
    let text = crate::support::ecs_stack(
        "demo",
        "services:\n  - { name: web, image: nginx:1.27, port: 80 }\n",
    )
    .replace("  cidr: 10.0.0.0/16\n", "")
        + "environments:\n  production:\n    network: { cidr: 10.0.0.0/16 }\n  staging:\n    network: { cidr: 10.0.0.0/16 }\n";
    let (code, stderr) = crate::support::synth_cli_env(&text, "aws", "all");
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("warning[base-incomplete]"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("blueprint.yaml:8:3: the base"),
        "{}",
        lines[0]
    );
    assert!(
        !lines[0].contains("aws/"),
        "labelled with one environment: {}",
        lines[0]
    );
}
