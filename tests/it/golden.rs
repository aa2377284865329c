//! Every shipped blueprint × provider × environment: the output is snapshotted under
//! `snapshots/`, and every Terraform module in it passes the provider-schema check (argument
//! names, required arguments, shapes, block counts, references). A failing check is a bug in
//! the back-end, never a snapshot to accept.

use std::collections::BTreeMap;

use infragen::check::schema::ProviderSchemas;
use infragen::check::terraform::check_module;

use crate::support::{flatten, matrix, synth};

#[test]
fn every_blueprint_synthesizes_and_matches_its_snapshot() {
    let m = matrix();
    assert!(
        m.len() >= 12,
        "expected the five blueprints × their environments, got {}",
        m.len()
    );
    for (stem, path, provider, env) in m {
        let out = synth(&path, provider, &env);
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("{stem}@{provider}-{env}"), flatten(&out));
        });
    }
}

#[test]
fn every_terraform_module_passes_the_provider_schemas() {
    let schemas = ProviderSchemas::bundled();
    let mut modules = 0;
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        let mut by_module: BTreeMap<String, Vec<(String, serde_json::Value)>> = BTreeMap::new();
        for (file, text) in &out.files {
            if let Some(rest) = file.strip_prefix("terraform/")
                && let Some((module, name)) = rest.rsplit_once('/')
                && name.ends_with(".tf.json")
            {
                let json: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!("{stem} {provider} {env} {file}: invalid JSON: {e}")
                });
                by_module
                    .entry(module.to_string())
                    .or_default()
                    .push((name.to_string(), json));
            }
        }
        for (module, files) in by_module {
            modules += 1;
            let problems = check_module(&files, schemas);
            assert!(
                problems.is_empty(),
                "{stem} --provider {provider} --env {env}, module {module}:\n{}",
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    assert!(modules > 0);
}
