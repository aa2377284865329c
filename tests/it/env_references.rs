//! Variable references in environment values (`DATABASE_URL: postgres://$(DB_USERNAME):…`),
//! the way teams moving from Heroku or Helm charts build one value out of the connection
//! variables. Read off each output the way the kubelet reads a pod: `envFrom` first (a
//! ConfigMap's data as written, never expanded), then `env` in order, each `value`
//! expanded from the variables before it (`$$` an escaped `$`, an unresolved reference left
//! as written). No container of any shipped blueprint × provider × environment or new-user
//! fixture may be left with a reference the kubelet did not resolve, in a variable, its
//! `command` or its `args`. Where the blueprint names a variable the container does not
//! have, or ECS (which expands nothing) would run the text as written, synth refuses it.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::connections::new_user_fixtures;
use crate::support::{ecs_stack, manifests, matrix, synth, synth_aws, targets};

/// `text` expanded from `vars` as the kubelet does, and the references it could not resolve
/// that look like variables (`DB_HOST`, not a shell's `$(date)`).
fn expand(text: &str, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let (mut out, mut unresolved) = (String::new(), Vec::new());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(')
            && let Some(end) = tail.find(')')
        {
            let name = &tail[..end];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    let variable = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                    if variable {
                        unresolved.push(name.to_string());
                    }
                    out.push_str(&format!("$({name})"));
                }
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    (out, unresolved)
}

/// The pod specs of a manifest (Deployment, StatefulSet, Job, CronJob).
fn pod_spec(doc: &Value) -> Option<&Value> {
    let spec = &doc["spec"];
    [
        &spec["template"]["spec"],
        &spec["jobTemplate"]["spec"]["template"]["spec"],
    ]
    .into_iter()
    .find(|s| s.is_object())
}

/// Every reference the kubelet would leave unresolved in `docs`' containers, as
/// `Kind/namespace/name container: VAR holds $(X)`; containers reading an `envFrom` source
/// the manifests do not hold are judged on what they have (their references to it fail).
fn unresolved(docs: &[Value]) -> Vec<String> {
    let config_maps: BTreeMap<(String, String), &Value> = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .map(|d| {
            let m = &d["metadata"];
            (
                (
                    m["namespace"].as_str().unwrap_or_default().to_string(),
                    m["name"].as_str().unwrap_or_default().to_string(),
                ),
                &d["data"],
            )
        })
        .collect();
    let mut problems = Vec::new();
    for doc in docs {
        let Some(pod) = pod_spec(doc) else { continue };
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or_default();
        let what = format!(
            "{}/{ns}/{}",
            doc["kind"].as_str().unwrap_or_default(),
            doc["metadata"]["name"].as_str().unwrap_or_default()
        );
        let containers = (pod["initContainers"].as_array().into_iter().flatten())
            .chain(pod["containers"].as_array().into_iter().flatten());
        for c in containers {
            let cname = c["name"].as_str().unwrap_or_default();
            // The ConfigMaps read through `envFrom`, by name, with their data.
            let env_from: Vec<(&str, &serde_json::Map<String, Value>)> = c["envFrom"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|from| {
                    let name = from["configMapRef"]["name"].as_str()?;
                    let data = config_maps.get(&(ns.to_string(), name.to_string()))?;
                    Some((name, data.as_object()?))
                })
                .collect();
            let mut vars: BTreeMap<String, String> = BTreeMap::new();
            for (_, data) in &env_from {
                for (k, v) in *data {
                    vars.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            for e in c["env"].as_array().into_iter().flatten() {
                let name = e["name"].as_str().unwrap_or_default().to_string();
                let value = match e["value"].as_str() {
                    Some(v) => {
                        let (v, bad) = expand(v, &vars);
                        for b in bad {
                            problems.push(format!("{what} {cname}: {name} holds $({b})"));
                        }
                        v
                    }
                    None => format!("<{name} from a Secret or ConfigMap key>"),
                };
                vars.insert(name, value);
            }
            // envFrom values are never expanded: a reference there stays as written.
            for (name, data) in &env_from {
                for (k, v) in *data {
                    let (_, bad) = expand(v.as_str().unwrap_or_default(), &BTreeMap::new());
                    for b in bad {
                        problems.push(format!(
                            "{what} {cname}: {k} (ConfigMap {name}, never expanded) holds $({b})"
                        ));
                    }
                }
            }
            for field in ["command", "args"] {
                for arg in c[field].as_array().into_iter().flatten() {
                    let (_, bad) = expand(arg.as_str().unwrap_or_default(), &vars);
                    for b in bad {
                        problems.push(format!("{what} {cname}: {field} holds $({b})"));
                    }
                }
            }
        }
    }
    problems
}

#[test]
fn every_reference_in_every_pod_resolves() {
    let mut outputs: Vec<(String, infragen::Output)> = matrix()
        .into_iter()
        .map(|(stem, path, p, env)| (format!("{stem} {p} {env}"), synth(&path, p, &env)))
        .collect();
    let mut referencing = 0;
    for path in new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (provider, env) in targets(&path) {
            outputs.push((
                format!("new-user/{stem} {provider} {env}"),
                synth(&path, provider, &env),
            ));
        }
    }
    let mut problems = Vec::new();
    for (label, out) in &outputs {
        let docs = manifests(out);
        referencing += docs
            .iter()
            .filter(|d| d["kind"] == "Deployment")
            .filter(|d| serde_json::to_string(d).unwrap().contains("$(DB_"))
            .count();
        problems.extend(
            unresolved(&docs)
                .into_iter()
                .map(|p| format!("{label}: {p}")),
        );
    }
    assert!(
        referencing >= 6,
        "the Heroku fixture's DATABASE_URL references reach its Deployments on every provider ({referencing})"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A Heroku-style app on each Kubernetes provider: the composed value is an `env` entry
/// after every variable it names, so the kubelet expands it, and the plain values stay in
/// the ConfigMap.
#[test]
fn a_composed_value_is_expanded_after_the_variables_it_names() {
    let path = crate::support::root().join("tests/fixtures/new-user/herald-heroku-eks.yaml");
    for provider in [Provider::Aws, Provider::Digitalocean, Provider::Kubernetes] {
        let out = synth(&path, provider, "production");
        let docs = manifests(&out);
        let web = docs
            .iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "web")
            .expect("web Deployment");
        let env = web["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        let at = |n: &str| env.iter().position(|e| e["name"] == n);
        let url = at("DATABASE_URL").expect("DATABASE_URL is an env entry");
        for named in [
            "DB_USERNAME",
            "DB_PASSWORD",
            "DB_HOST",
            "DB_PORT",
            "DB_DATABASE",
        ] {
            assert!(
                at(named).is_some_and(|i| i < url),
                "{provider}: {named} comes before DATABASE_URL"
            );
        }
        let cm = docs
            .iter()
            .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "web-env")
            .expect("web-env ConfigMap");
        assert!(cm["data"]["DATABASE_URL"].is_null(), "{provider}: {cm}");
        assert_eq!(cm["data"]["RAILS_ENV"], "production");
        assert!(unresolved(&docs).is_empty(), "{provider}");
    }
}

fn k8s_stack(services: &str) -> String {
    format!(
        "name: refs
providers:
  kubernetes: {{ context: dev }}
cluster: {{ platform: existing }}
databases:
  - {{ name: main, engine: postgres, version: \"17\" }}
{services}"
    )
}

fn refused(file: &str, text: &str, provider: Provider, env: &str) -> String {
    match infragen::synthesize(file, text.as_bytes(), provider, env) {
        Ok(_) => panic!("synth accepted:\n{text}"),
        Err(d) => d.to_string(),
    }
}

#[test]
fn a_reference_to_a_variable_the_container_lacks_is_refused_where_it_is_written() {
    let text = k8s_stack(
        "services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    env:
      DATABASE_URL: \"postgres://$(MAIN_USERNAME):$(MAIN_PASSWORD)@$(MAIN_REPLICA_HOST)/app\"
    uses: [main]
",
    );
    let e = refused("refs.yaml", &text, Provider::Kubernetes, "production");
    assert!(e.contains("services[0].env.DATABASE_URL"), "{e}");
    assert!(
        e.contains("`$(MAIN_REPLICA_HOST)` names no variable"),
        "{e}"
    );
    assert!(e.contains("refs.yaml:12:"), "positioned at the value: {e}");
    assert!(e.contains("use `$(MAIN_HOST)`"), "{e}");
    // Defined ones, shell substitutions and escaped references pass.
    let ok = text.replace("MAIN_REPLICA_HOST", "MAIN_HOST").replace(
        "/app\"",
        "/app\"\n      WHEN: \"$(date) $$(NOT_A_REFERENCE)\"",
    );
    let out = infragen::synthesize(
        "refs.yaml",
        ok.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    // Every value holding `$(` is an `env` entry, so the escape means what Kubernetes says:
    // the process sees `$(NOT_A_REFERENCE)`, and the shell's `$(date)` stays as written.
    let docs = manifests(&out);
    let api = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .unwrap();
    let env = api["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let when = env
        .iter()
        .find(|e| e["name"] == "WHEN")
        .expect("WHEN is an env entry");
    let (seen, _) = expand(when["value"].as_str().unwrap(), &BTreeMap::new());
    assert_eq!(seen, "$(date) $(NOT_A_REFERENCE)");
}

#[test]
fn references_in_a_cycle_and_in_an_init_container_are_checked() {
    let text = k8s_stack(
        "services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    env:
      A: \"$(B)\"
      B: \"x$(A)\"
    init:
      - name: migrate
        image: ghcr.io/acme/api:1.0.0
        args: [\"--url=$(MAIN_URL)\"]
    uses: [main]
",
    );
    let e = refused("refs.yaml", &text, Provider::Kubernetes, "production");
    assert!(
        e.contains("services[0].env.A") && e.contains("references itself"),
        "{e}"
    );
    // Without `app_env` the init container has none of the app's variables.
    assert!(
        e.contains("services[0].init[0].args[0]") && e.contains("`$(MAIN_URL)`"),
        "{e}"
    );
    let ok = text
        .replace("B: \"x$(A)\"", "B: \"x\"")
        .replace("        args:", "        app_env: true\n        args:");
    let out = infragen::synthesize(
        "refs.yaml",
        ok.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(unresolved(&manifests(&out)).is_empty());
}

#[test]
fn ecs_refuses_a_reference_it_would_not_expand() {
    let yaml = ecs_stack(
        "refs",
        "databases:
  - { name: main, engine: postgres, size: small, storage: { size_gb: 20 } }
services:
  - name: api
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    command: [sh, -c]
    args: [\"exec ./server --db $(MAIN_HOST)\"]
    env:
      DATABASE_URL: \"postgres://$(MAIN_USERNAME)@$(MAIN_HOST)/app\"
    uses: [main]
",
    );
    let e = synth_aws("refs", &yaml).expect_err("refused");
    assert!(
        e.contains("services[0].env.DATABASE_URL") && e.contains("ECS does not expand"),
        "{e}"
    );
    assert!(e.contains("services[0].args[0]"), "{e}");
    // The shell's own expansion is the way on ECS.
    let ok = yaml.replace("$(MAIN_HOST)\"]", "$MAIN_HOST\"]").replace(
        "DATABASE_URL: \"postgres://$(MAIN_USERNAME)@$(MAIN_HOST)/app\"",
        "RAILS_ENV: production",
    );
    synth_aws("refs", &ok).unwrap_or_else(|e| panic!("{e}"));
}

/// On ECS a readiness probe's path is the target group's health check, which the ALB sends
/// as written: a reference there is refused as on Kubernetes, while a probe `command` (which
/// ECS never runs) is not judged.
#[test]
fn ecs_refuses_a_reference_in_a_health_check_path() {
    let yaml = ecs_stack(
        "probe",
        "load_balancer:
  certificate: { domain: example.com }
services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 8080
    routes: [{ path: / }]
    env: { HEALTH_TOKEN: abc }
    probes: { readiness: { path: \"/health?token=$(HEALTH_TOKEN)\" } }
",
    );
    let e = synth_aws("probe", &yaml).expect_err("refused");
    assert!(
        e.contains("services[0].probes.readiness.path") && e.contains("sent as written"),
        "{e}"
    );
    let ok = yaml.replace("$(HEALTH_TOKEN)", "abc");
    synth_aws("probe", &ok).unwrap_or_else(|e| panic!("{e}"));
}

/// The variables synth lets a value reference are those the lowered container has: for
/// every shipped blueprint and new-user fixture × provider × environment, each service and
/// job gets a value referencing every variable of its pod's first container (its `env`
/// entries and the keys of the ConfigMaps it reads whole), and the blueprint still
/// synthesizes — the check and the back-ends agree on the names, none refused falsely.
#[test]
fn every_variable_a_container_has_may_be_referenced() {
    use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};
    let mut paths = crate::support::blueprints();
    paths.extend(new_user_fixtures());
    let mut checked = 0;
    for path in paths {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (provider, env) in targets(&path) {
            let env = &env;
            let docs = manifests(&synth(&path, provider, env));
            let names = variables(&docs);
            // The blueprint re-read (aliases resolved into copies), each workload given
            // `REF_ALL`.
            let mut bp = YamlLoader::load_from_str(&text).unwrap().remove(0);
            let Yaml::Hash(top) = &mut bp else { panic!() };
            for kind in ["services", "jobs"] {
                let Some(Yaml::Array(list)) = top.get_mut(&Yaml::String(kind.into())) else {
                    continue;
                };
                for w in list {
                    let Yaml::Hash(w) = w else { continue };
                    let name = w[&Yaml::String("name".into())]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let Some(vars) = names.get(&name).filter(|v| !v.is_empty()) else {
                        continue;
                    };
                    let value: Vec<String> = vars.iter().map(|v| format!("$({v})")).collect();
                    let key = Yaml::String("env".into());
                    if !matches!(w.get(&key), Some(Yaml::Hash(_))) {
                        w.insert(key.clone(), Yaml::Hash(Default::default()));
                    }
                    let Some(Yaml::Hash(e)) = w.get_mut(&key) else {
                        panic!()
                    };
                    e.insert(
                        Yaml::String("REF_ALL".into()),
                        Yaml::String(value.join(" ")),
                    );
                }
            }
            let mut patched = String::new();
            YamlEmitter::new(&mut patched).dump(&bp).unwrap();
            let file = path.strip_prefix(crate::support::root()).unwrap_or(&path);
            if let Err(d) = infragen::synthesize(
                &file.display().to_string(),
                patched.as_bytes(),
                provider,
                env,
            ) {
                panic!("{stem} --provider {provider} --env {env}: refused\n{d}");
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}

/// Per workload (`app` label), the variables of its pod's first container that look like
/// variables: `env` names and the keys of the ConfigMaps read through `envFrom`.
fn variables(docs: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for d in docs {
        let Some(pod) = pod_spec(d) else { continue };
        if !matches!(d["kind"].as_str(), Some("Deployment" | "CronJob")) {
            continue;
        }
        let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
        let c = &pod["containers"][0];
        let mut names: Vec<String> = (c["env"].as_array().into_iter().flatten())
            .filter_map(|e| e["name"].as_str().map(String::from))
            .collect();
        for from in c["envFrom"].as_array().into_iter().flatten() {
            let Some(cm) = from["configMapRef"]["name"].as_str() else {
                continue;
            };
            let data = docs.iter().find(|x| {
                x["kind"] == "ConfigMap"
                    && x["metadata"]["name"] == cm
                    && x["metadata"]["namespace"] == ns
            });
            if let Some(map) = data.and_then(|x| x["data"].as_object()) {
                names.extend(map.keys().cloned());
            }
        }
        names.retain(|n| {
            n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && n.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        });
        names.sort();
        names.dedup();
        if let Some(app) = d["metadata"]["labels"]["app"].as_str() {
            out.insert(app.to_string(), names);
        }
    }
    out
}

/// A generated AWS credential put into a URL: the RDS master password may hold `#`, `%`, `?`
/// (the ElastiCache token `#`, `^`, `<`, `>`), which a URL's user information must
/// percent-encode and `$(…)` cannot, so synth warns and says to pass the password on its
/// own — as the Heroku fixture does with `PGPASSWORD`. The other providers' generated
/// passwords are letters and digits: no warning there.
#[test]
fn a_generated_aws_password_in_a_url_is_warned_about() {
    let path = crate::support::root().join("tests/fixtures/new-user/herald-heroku-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "postgres://$(DB_USERNAME)@$(DB_HOST)",
        "postgres://$(DB_USERNAME):$(DB_PASSWORD)@$(DB_HOST)",
    );
    let warned = |provider: Provider| -> Vec<String> {
        infragen::synthesize("herald.yaml", text.as_bytes(), provider, "production")
            .unwrap_or_else(|d| panic!("{d}"))
            .notes
            .iter()
            .filter(|n| n.rule == Some("url-credentials"))
            .map(|n| n.text.clone())
            .collect()
    };
    let aws = warned(Provider::Aws);
    // web, worker and the sitemap job.
    assert_eq!(aws.len(), 3, "{aws:#?}");
    assert!(
        aws.iter().any(|w| w
            .starts_with("`web` puts `$(DB_PASSWORD)` into a URL (`DATABASE_URL`)")
            && w.contains("PGPASSWORD")),
        "{aws:#?}"
    );
    // Prisma reads no PGPASSWORD: the advice says what a URL-only client does instead.
    assert!(
        aws.iter()
            .all(|w| w.contains("(Prisma)") && w.contains("encodeURIComponent")),
        "{aws:#?}"
    );
    assert!(warned(Provider::Digitalocean).is_empty());
    assert!(warned(Provider::Kubernetes).is_empty());
    // The fixture as written keeps the password out of the URL.
    assert!(
        synth(&path, Provider::Aws, "production")
            .notes
            .iter()
            .all(|n| n.rule != Some("url-credentials"))
    );
}

/// The `url-credentials` warnings of quill-django-eks on AWS when its web service builds
/// `CELERY_BROKER_URL` with `$(<credential>)` in it.
fn quill_broker_url_warnings(credential: &str) -> Vec<String> {
    let path = crate::support::root().join("tests/fixtures/new-user/quill-django-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "      DJANGO_SETTINGS_MODULE: quill.settings.prod\n",
        &format!(
            "      DJANGO_SETTINGS_MODULE: quill.settings.prod\n      CELERY_BROKER_URL: \"rediss://:$({credential})@$(BROKER_HOST):$(BROKER_PORT)/0\"\n"
        ),
        1,
    );
    assert!(text.contains("CELERY_BROKER_URL"));
    infragen::synthesize("quill.yaml", text.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("url-credentials"))
        .map(|n| n.text.clone())
        .collect()
}

/// The ElastiCache AUTH token in a Redis URL: the warning's advice is the Redis client's
/// own (its password option, or the token percent-encoded where the application builds the
/// URL, as Celery's broker URL needs), not libpq's PGPASSWORD, which no Redis client reads.
#[test]
fn a_generated_cache_token_in_a_url_gets_redis_advice() {
    // The web service builds its broker URL with the token in it.
    let notes = quill_broker_url_warnings("BROKER_AUTH_TOKEN");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let w = &notes[0];
    assert!(
        w.starts_with("`web` puts `$(BROKER_AUTH_TOKEN)` into a URL (`CELERY_BROKER_URL`)"),
        "{w}"
    );
    assert!(
        w.contains("urllib.parse.quote(os.environ[\"BROKER_AUTH_TOKEN\"]")
            && !w.contains("PGPASSWORD"),
        "{w}"
    );
}

/// `_PASSWORD` is ElastiCache's AUTH token too (the name every provider gives a cache's
/// credential): a value may name it on AWS, and putting it into a URL gets the same warning
/// as `_AUTH_TOKEN`, since it holds the same characters.
#[test]
fn an_elasticache_password_may_be_referenced_and_is_warned_about_in_a_url() {
    let notes = quill_broker_url_warnings("BROKER_PASSWORD");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with("`web` puts `$(BROKER_PASSWORD)` into a URL"),
        "{}",
        notes[0]
    );
}
