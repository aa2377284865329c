//! The protective settings that are on unless written off — `cluster.container_insights`,
//! `cluster.deletion_protection`, `cluster.logging`, `cluster.endpoint.public` (off) and
//! `.access` (`ssm`), `network.flow_logs`, `databases[].performance_insights` and
//! `.deletion_protection`, `load_balancer.deletion_protection` — are `Option`s in the
//! blueprint types (so a target without them notes only a written one), read through
//! accessors that resolve the default. A reader that took the field itself with the wrong
//! default would turn deletion protection off without a word. So: every shipped blueprint,
//! on every AWS and DigitalOcean environment it is built for, with those fields removed
//! everywhere (base, environments, `per_provider`), still gets each protective setting, and
//! exactly the output it gets with them written on in the base.

use serde_json::Value;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use infragen::Provider;

use crate::support::{matrix, resources};

/// The fields removed, by the key of the mapping they sit in (`databases` for its items).
const FIELDS: [(&str, &[&str]); 5] = [
    (
        "cluster",
        &["container_insights", "deletion_protection", "logging"],
    ),
    ("endpoint", &["public", "access"]),
    ("network", &["flow_logs"]),
    (
        "databases",
        &["performance_insights", "deletion_protection"],
    ),
    ("load_balancer", &["deletion_protection"]),
];

fn key(k: &str) -> Yaml {
    Yaml::String(k.into())
}

/// Remove [`FIELDS`] wherever they appear under their parent key, at any depth.
fn strip(node: &mut Yaml, parent: Option<&str>) {
    match node {
        Yaml::Hash(map) => {
            if let Some((_, fields)) = FIELDS.iter().find(|(p, _)| Some(*p) == parent) {
                for f in *fields {
                    map.remove(&key(f));
                }
            }
            for (k, v) in map.iter_mut() {
                strip(v, k.as_str());
            }
        }
        // A list's items sit under the list's key (`databases: [{…}]`).
        Yaml::Array(items) => items.iter_mut().for_each(|i| strip(i, parent)),
        _ => {}
    }
}

/// Write the fields on, with their documented defaults, in the base's `cluster`, `network`,
/// `databases` and `load_balancer` where the base has them.
fn written_on(root: &mut Yaml) {
    let Yaml::Hash(top) = root else { return };
    let set = |map: &mut Yaml, k: &str, v: Yaml| {
        if let Yaml::Hash(m) = map {
            m.insert(key(k), v);
        }
    };
    if let Some(c) = top.get_mut(&key("cluster")) {
        set(c, "container_insights", Yaml::Boolean(true));
        set(c, "deletion_protection", Yaml::Boolean(true));
        let logging = YamlLoader::load_from_str(
            "{ types: [api, audit, authenticator, controllerManager, scheduler], retention_days: 90 }",
        )
        .unwrap()
        .remove(0);
        set(c, "logging", logging);
        if let Yaml::Hash(m) = c
            && let Some(e) = m.get_mut(&key("endpoint"))
        {
            set(e, "public", Yaml::Boolean(false));
            set(e, "access", Yaml::String("ssm".into()));
        }
    }
    if let Some(n) = top.get_mut(&key("network")) {
        let flow = YamlLoader::load_from_str("{ enabled: true, retention_days: 365 }")
            .unwrap()
            .remove(0);
        set(n, "flow_logs", flow);
    }
    if let Some(Yaml::Array(dbs)) = top.get_mut(&key("databases")) {
        for d in dbs {
            set(d, "performance_insights", Yaml::Boolean(true));
            set(d, "deletion_protection", Yaml::Boolean(true));
        }
    }
    if let Some(lb) = top.get_mut(&key("load_balancer")) {
        set(lb, "deletion_protection", Yaml::Boolean(true));
    }
}

fn emit(doc: &Yaml) -> String {
    let mut out = String::new();
    YamlEmitter::new(&mut out).dump(doc).unwrap();
    out
}

fn synth(text: &str, provider: Provider, env: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("probe.yaml", text.as_bytes(), provider, env).map_err(|d| d.to_string())
}

/// What must be on in `out` (AWS): RDS and EKS deletion protection, Performance Insights
/// where RDS has it, all five control-plane log types, a private-only API endpoint, ECS
/// Container Insights, ALB deletion protection (also the controller-made ALB's attribute),
/// VPC flow logs.
fn aws_protections_off(out: &infragen::Output) -> Vec<String> {
    let mut off = Vec::new();
    for db in resources(out, "infra", "aws_db_instance") {
        let id = db["identifier"].to_string();
        if db["deletion_protection"] != true {
            off.push(format!("RDS {id}: deletion_protection"));
        }
        // Performance Insights does not run on the smallest MySQL classes (noted there).
        let class = db["instance_class"].as_str().unwrap_or_default();
        let small_mysql =
            db["engine"] == "mysql" && (class.ends_with(".micro") || class.ends_with(".small"));
        if db["performance_insights_enabled"] != true && !small_mysql {
            off.push(format!("RDS {id}: performance_insights_enabled"));
        }
    }
    for c in resources(out, "infra", "aws_eks_cluster") {
        if c["deletion_protection"] != true {
            off.push("EKS: deletion_protection".into());
        }
        if c["enabled_cluster_log_types"].as_array().map(Vec::len) != Some(5) {
            off.push(format!(
                "EKS: enabled_cluster_log_types {}",
                c["enabled_cluster_log_types"]
            ));
        }
        if c["vpc_config"]["endpoint_public_access"] != false {
            off.push("EKS: endpoint_public_access".into());
        }
    }
    for c in resources(out, "infra", "aws_ecs_cluster") {
        let on = c["setting"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["name"] == "containerInsights" && s["value"] == "enabled");
        if !on {
            off.push("ECS: containerInsights".into());
        }
    }
    for lb in resources(out, "infra", "aws_lb") {
        if lb["enable_deletion_protection"] != true {
            off.push(format!("ALB {}: enable_deletion_protection", lb["name"]));
        }
    }
    let all = crate::support::flatten(out);
    if all.contains("alb.ingress.kubernetes.io/load-balancer-attributes")
        && !all.contains("deletion_protection.enabled=true")
    {
        off.push("controller ALB: deletion_protection.enabled".into());
    }
    // A VPC made or adopted (`network.existing`) gets flow logs either way.
    let network = out.files.contains_key("terraform/infra/network.tf.json");
    if network && resources(out, "infra", "aws_flow_log").is_empty() {
        off.push("VPC flow logs".into());
    }
    off
}

#[test]
fn protective_defaults_hold_with_the_fields_unset() {
    let mut problems = Vec::new();
    let mut rds = 0;
    let mut eks = 0;
    let mut lbs = 0;
    let mut doks_dbs = 0;
    for (stem, path, provider, env) in matrix() {
        if provider == Provider::Kubernetes {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut doc = YamlLoader::load_from_str(&text).unwrap().remove(0);
        let at = format!("{stem} --provider {provider} --env {env}");
        // The tree written back as it was synthesizes as the file does: the emitter keeps
        // every value, so what differs below is the fields.
        let Ok(original) = synth(&text, provider, &env) else {
            continue;
        };
        let same = synth(&emit(&doc), provider, &env).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(
            same.files, original.files,
            "{at}: round trip changed the output"
        );

        strip(&mut doc, None);
        let unset = synth(&emit(&doc), provider, &env).unwrap_or_else(|e| panic!("{at}: {e}"));
        written_on(&mut doc);
        let on = synth(&emit(&doc), provider, &env).unwrap_or_else(|e| panic!("{at}: {e}"));
        if unset.files != on.files {
            let differing: Vec<&String> = unset
                .files
                .keys()
                .filter(|k| unset.files.get(*k) != on.files.get(*k))
                .collect();
            problems.push(format!(
                "{at}: unset differs from written on in {differing:?}"
            ));
        }
        match provider {
            Provider::Aws => {
                rds += resources(&unset, "infra", "aws_db_instance").len();
                eks += resources(&unset, "infra", "aws_eks_cluster").len();
                lbs += resources(&unset, "infra", "aws_lb").len();
                for p in aws_protections_off(&unset) {
                    problems.push(format!("{at}: off with the fields unset: {p}"));
                }
            }
            _ => {
                // Caches are `digitalocean_database_cluster`s too, without the field.
                let dbs = resources(&unset, "infra", "digitalocean_database_cluster")
                    .into_iter()
                    .filter(|d| !matches!(d["engine"].as_str(), Some("redis" | "valkey")));
                for db in dbs {
                    doks_dbs += 1;
                    if db["lifecycle"]["prevent_destroy"] != true {
                        problems.push(format!(
                            "{at}: database {} has no prevent_destroy with deletion_protection unset",
                            db["name"]
                        ));
                    }
                }
            }
        }
    }
    // The matrix reaches each kind of protected resource.
    assert!(
        rds > 0 && eks > 0 && lbs > 0 && doks_dbs > 0,
        "{rds} {eks} {lbs} {doks_dbs}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// An environment overlay merges on the YAML tree before the types read it, so a written
/// `false` over a base `true` turns the setting off and `null` gives back the default (on).
#[test]
fn an_environment_overlay_turns_a_default_on_setting_off_or_back_to_its_default() {
    let yaml = |overlay: &str| {
        crate::support::ecs_stack(
            "ovl",
            &format!(
                "load_balancer: {{ certificate: {{ domain: ovl.example.com }}, deletion_protection: true }}
databases:
  - {{ name: db, engine: postgres, size: small, storage: {{ size_gb: 20 }}, deletion_protection: true }}
services:
  - {{ name: web, image: ghcr.io/acme/web:1.0.0, port: 3000, routes: [{{ path: / }}], uses: [db] }}
environments:
  production:
{overlay}"
            ),
        )
    };
    let get = |overlay: &str| {
        let out =
            synth(&yaml(overlay), Provider::Aws, "production").unwrap_or_else(|e| panic!("{e}"));
        let lb = resources(&out, "infra", "aws_lb").remove(0);
        let db = resources(&out, "infra", "aws_db_instance").remove(0);
        (
            lb["enable_deletion_protection"].clone(),
            db["deletion_protection"].clone(),
        )
    };
    assert_eq!(get("    {}"), (Value::Bool(true), Value::Bool(true)));
    assert_eq!(
        get(
            "    load_balancer: { deletion_protection: false }\n    databases: [{ name: db, deletion_protection: false }]"
        ),
        (Value::Bool(false), Value::Bool(false))
    );
    assert_eq!(
        get(
            "    load_balancer: { deletion_protection: null }\n    databases: [{ name: db, deletion_protection: null }]"
        ),
        (Value::Bool(true), Value::Bool(true))
    );
}
