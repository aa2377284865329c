//! `extra:`: Terraform files and Kubernetes manifests rendered from minijinja templates kept
//! beside the blueprint.
//!
//! The sandbox: templates are named relative to the blueprint's folder and may not leave it
//! (no absolute paths, no `..`); the environment has no loader, so `include`/`import` reach
//! nothing; undefined variables are errors (a typo must not render an empty string);
//! autoescape is off (the output is JSON or YAML, not HTML) and `tojson` quotes values. The
//! context is the environment's resolved blueprint (`blueprint`), `env`, `provider`, and
//! `ref(component, attribute)`, which names a generated component as Terraform or the
//! cluster knows it, so templates never hard-code addresses.
//!
//! The rendered text is parsed (JSON or YAML), written canonically and checked against the
//! provider or Kubernetes schemas; a template that renders only whitespace adds nothing (so
//! `{% if provider == "aws" %}` can limit one to a provider).

use std::sync::Arc;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use super::TemplateSource;
use super::patch::{read_manifests, write_terraform, yaml_to_y};
use crate::Provider;
use crate::blueprint::Loaded;
use crate::check::kubernetes::{Report, Schemas};
use crate::check::schema::ProviderSchemas;
use crate::diagnostic::{Diagnostic, Diagnostics, Span, did_you_mean};
use crate::k8s::yaml::{self, Map, Y};
use crate::output::Output;
use crate::terraform::ident;

/// Resource types that stand for a blueprint component when several resources share its
/// name (a database's instance, subnet group and security group are all `ledger_db`).
const PRIMARY: &[&str] = &[
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_elasticache_replication_group",
    "aws_mq_broker",
    "aws_sqs_queue",
    "aws_dynamodb_table",
    "aws_s3_bucket",
    "aws_ecs_service",
    "aws_ecr_repository",
    "aws_secretsmanager_secret",
    "aws_eks_cluster",
    "aws_eks_node_group",
    "digitalocean_database_cluster",
    "digitalocean_spaces_bucket",
    "digitalocean_kubernetes_cluster",
    "digitalocean_kubernetes_node_pool",
    "digitalocean_container_registry",
];

/// A path relative to the blueprint's folder that stays inside it.
pub fn confined(path: &str) -> bool {
    let p = std::path::Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// What `ref()` can name: generated Terraform resources and in-cluster Services.
struct Index {
    /// (module, type, name)
    resources: Vec<(String, String, String)>,
    /// (name, namespace, first port, whether that port speaks gRPC — `appProtocol:
    /// kubernetes.io/h2c`, as `crate::k8s::service` writes it)
    services: Vec<(String, String, Option<i64>, bool)>,
}

impl Index {
    fn of(out: &Output) -> Index {
        let mut resources = Vec::new();
        let mut services = Vec::new();
        for (path, text) in &out.files {
            if let Some(rest) = path.strip_prefix("terraform/")
                && let Some((module, file)) = rest.split_once('/')
                && file.ends_with(".tf.json")
                && let Ok(doc) = serde_json::from_str::<Value>(text)
            {
                for (ty, names) in doc
                    .get("resource")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    for name in names.as_object().into_iter().flat_map(|m| m.keys()) {
                        resources.push((module.to_string(), ty.clone(), name.clone()));
                    }
                }
            } else if path.starts_with("k8s/")
                && path.ends_with(".yaml")
                && text.contains("kind: Service\n")
                && let Ok((_, docs)) = read_manifests(text)
            {
                for d in docs {
                    let s = |y: Option<&Y>| match y {
                        Some(Y::Str(s)) => Some(s.to_string()),
                        _ => None,
                    };
                    if s(d.get("kind")).as_deref() != Some("Service") {
                        continue;
                    }
                    let Some(Y::Map(meta)) = d.get("metadata") else {
                        continue;
                    };
                    let first = match d.get("spec") {
                        Some(Y::Map(spec)) => match spec.get("ports") {
                            Some(Y::Seq(ports)) => ports.first().and_then(|p| match p {
                                Y::Map(p) => Some(p),
                                _ => None,
                            }),
                            _ => None,
                        },
                        _ => None,
                    };
                    let port = first.and_then(|p| match p.get("port") {
                        Some(Y::Int(i)) => Some(*i),
                        _ => None,
                    });
                    let grpc = first.is_some_and(|p| {
                        s(p.get("appProtocol")).as_deref() == Some(crate::k8s::H2C)
                    });
                    if let (Some(n), Some(ns)) = (s(meta.get("name")), s(meta.get("namespace"))) {
                        services.push((n, ns, port, grpc));
                    }
                }
            }
        }
        Index {
            resources,
            services,
        }
    }

    /// `ref(component, attribute)` in a template for Terraform module `module`.
    fn terraform(&self, module: &str, component: &str, attribute: &str) -> Result<String, String> {
        let matches = |ty: &str, name: &str| {
            if component.contains('.') {
                format!("{ty}.{name}") == component
            } else {
                name == ident(component)
            }
        };
        let here: Vec<&(String, String, String)> = self
            .resources
            .iter()
            .filter(|(m, ty, name)| m == module && matches(ty, name))
            .collect();
        let chosen = match here.as_slice() {
            [one] => *one,
            [] => {
                if let Some((m, ty, name)) = self
                    .resources
                    .iter()
                    .find(|(_, ty, name)| matches(ty, name))
                {
                    return Err(format!(
                        "`{component}` is `{ty}.{name}` in module `{m}`; a template for module `{module}` can only reference resources of its own module"
                    ));
                }
                let names: Vec<String> = self
                    .resources
                    .iter()
                    .filter(|(m, _, _)| m == module)
                    .map(|(_, _, n)| n.replace('_', "-"))
                    .collect();
                let hint = did_you_mean(component, names.iter().map(String::as_str))
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no generated resource of module `{module}` is named `{component}`{hint}"
                ));
            }
            many => {
                let primary: Vec<_> = many
                    .iter()
                    .filter(|(_, ty, _)| PRIMARY.contains(&ty.as_str()))
                    .collect();
                match primary.as_slice() {
                    [one] => **one,
                    _ => {
                        let all: Vec<String> =
                            many.iter().map(|(_, t, n)| format!("{t}.{n}")).collect();
                        return Err(format!(
                            "`{component}` names several resources ({}); pass one address, e.g. `ref(\"{}\", \"{attribute}\")`",
                            all.join(", "),
                            all[0]
                        ));
                    }
                }
            }
        };
        let (_, ty, name) = chosen;
        if let Some(block) = ProviderSchemas::bundled().resource(ty)
            && !block.attributes.contains_key(attribute)
        {
            let hint = did_you_mean(attribute, block.attributes.keys().map(String::as_str))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(format!("`{ty}` has no attribute `{attribute}`{hint}"));
        }
        Ok(format!("${{{ty}.{name}.{attribute}}}"))
    }

    /// `ref(component, attribute)` in a manifest template: a Service inside the cluster.
    fn kubernetes(&self, component: &str, attribute: &str) -> Result<String, String> {
        let Some((name, ns, port, grpc)) = self.services.iter().find(|(n, ..)| n == component)
        else {
            let names: Vec<&str> = self.services.iter().map(|(n, ..)| n.as_str()).collect();
            let hint = did_you_mean(component, names.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(format!(
                "no generated Service is named `{component}` (manifests can reference in-cluster Services; cloud resources are known only to Terraform){hint}"
            ));
        };
        match attribute {
            "host" | "dns" => Ok(format!("{name}.{ns}.svc.cluster.local")),
            "namespace" => Ok(ns.clone()),
            "name" => Ok(name.clone()),
            "port" => port
                .map(|p| p.to_string())
                .ok_or_else(|| format!("Service `{name}` has no port")),
            // As the generated `_URL` (`crate::wiring::service_url`): a gRPC target for a
            // gRPC Service, which an `http://` URL is not.
            "url" => Ok(match port {
                Some(p) if *grpc => format!("dns:///{name}.{ns}.svc.cluster.local:{p}"),
                Some(p) => format!("http://{name}.{ns}.svc.cluster.local:{p}"),
                None => format!("http://{name}.{ns}.svc.cluster.local"),
            }),
            other => Err(format!(
                "a Service has no attribute `{other}` for `ref`; use `host`, `port`, `url`, `name` or `namespace`"
            )),
        }
    }
}

/// Where a rendered template goes.
enum Target<'a> {
    Terraform(&'a str),
    Kubernetes,
}

/// Render every template of `extra:` into `out`.
pub fn render(
    loaded: &Loaded,
    provider: Provider,
    out: &mut Output,
    read: TemplateSource,
) -> Result<(), Diagnostics> {
    let extra = &loaded.blueprint.extra;
    if extra.is_empty() {
        return Ok(());
    }
    let index = Arc::new(Index::of(out));
    let blueprint = loaded.node.to_json();
    let mut jobs: Vec<(String, &str, Target)> = Vec::new();
    for (module, paths) in &extra.terraform {
        for (i, p) in paths.iter().enumerate() {
            jobs.push((
                format!("extra.terraform.{module}[{i}]"),
                p,
                Target::Terraform(module),
            ));
        }
    }
    for (i, p) in extra.kubernetes.iter().enumerate() {
        jobs.push((format!("extra.kubernetes[{i}]"), p, Target::Kubernetes));
    }
    for (field, path, target) in jobs {
        let at = loaded.span(&field);
        let fail = |d: Diagnostic| loaded.diagnostics(vec![d.at(at)]);
        if !confined(path) {
            return Err(fail(
                Diagnostic::new(format!("the template path `{path}` leaves the blueprint's folder"))
                    .expected("a relative path inside the blueprint's folder, such as `templates/sqs.tf.json.j2`")
                    .help("templates may read nothing outside the blueprint's folder"),
            ));
        }
        let text = read(path).map_err(|e| fail(Diagnostic::new(e)))?;
        let rendered = render_one(path, &text, &index, &target, &blueprint, loaded, provider)?;
        if rendered.trim().is_empty() {
            continue;
        }
        let file = path.rsplit('/').next().unwrap_or(path);
        match target {
            Target::Terraform(module) => {
                let prefix = format!("terraform/{module}/");
                if !out.files.keys().any(|k| k.starts_with(&prefix)) {
                    let modules: std::collections::BTreeSet<&str> = out
                        .files
                        .keys()
                        .filter_map(|k| k.strip_prefix("terraform/")?.split_once('/'))
                        .map(|(m, _)| m)
                        .collect();
                    let mut d = Diagnostic::new(format!(
                        "no Terraform module `{module}` is generated for {}",
                        provider.title()
                    ))
                    .expected(crate::diagnostic::one_of(modules.iter().copied()));
                    d = d.suggest(module, modules.iter().copied());
                    return Err(fail(d));
                }
                let stem = strip(file, &[".tf.json.j2", ".json.j2", ".j2"]);
                let dest = format!("{prefix}extra_{stem}.tf.json");
                let doc: Value = serde_json::from_str(&rendered).map_err(|e| {
                    rendered_error(
                        path,
                        &rendered,
                        e.line(),
                        e.column(),
                        format!("not JSON: {e}"),
                    )
                })?;
                if !doc.is_object() {
                    return Err(rendered_error(
                        path,
                        &rendered,
                        1,
                        1,
                        "a Terraform JSON file must be an object".into(),
                    ));
                }
                claim(out, &dest, path).map_err(fail)?;
                out.files.insert(dest.clone(), write_terraform(&doc));
                check_terraform(out, module, &dest, path)?;
            }
            Target::Kubernetes => {
                let docs = yaml_rust2::YamlLoader::load_from_str(&rendered).map_err(|e| {
                    let m = e.marker();
                    rendered_error(
                        path,
                        &rendered,
                        m.line(),
                        m.col() + 1,
                        format!("not YAML: {e}"),
                    )
                })?;
                let mut maps: Vec<Map<'static>> = Vec::new();
                for d in docs.iter().filter(|d| !d.is_null()) {
                    match yaml_to_y(d) {
                        Ok(Y::Map(m)) => maps.push(m),
                        Ok(_) => {
                            return Err(template_error(
                                path,
                                "a rendered document is not a mapping",
                            ));
                        }
                        Err(e) => return Err(template_error(path, &e)),
                    }
                }
                if maps.is_empty() {
                    continue;
                }
                let ns = match maps[0].get("metadata") {
                    Some(Y::Map(m)) => match m.get("namespace") {
                        Some(Y::Str(s)) => s.to_string(),
                        _ => "cluster".to_string(),
                    },
                    _ => "cluster".to_string(),
                };
                let stem = strip(file, &[".yaml.j2", ".yml.j2", ".j2"]);
                let rel = format!("{ns}/extra-{stem}.yaml");
                let dest = format!("k8s/{rel}");
                if !out.files.contains_key("k8s/kustomization.yaml") {
                    return Err(fail(Diagnostic::new(format!(
                        "{} output has no Kubernetes manifests to add `{path}` to",
                        provider.title()
                    ))));
                }
                claim(out, &dest, path).map_err(fail)?;
                let comment = format!(
                    "Rendered by infragen from {path} (provider {provider}, environment {}). Do not edit; change the template and run `infragen synth`.",
                    loaded.env
                );
                let text = yaml::file(&comment, &maps);
                let mut report = Report::default();
                Schemas::bundled().check_file(&dest, &text, &mut report);
                if let Some(p) = report.problems.first() {
                    return Err(template_error(
                        path,
                        &format!("the rendered manifests are invalid: {p}"),
                    ));
                }
                // The rendered documents as JSON, as the checks below read them.
                let json: Vec<Value> = docs
                    .iter()
                    .filter_map(|d| crate::check::kubernetes::to_json(d).ok())
                    .collect();
                pod_security(out, path, &rendered, &json)?;
                client_traffic(out, path, &rendered, &json)?;
                for d in &json {
                    let claims = super::pod_security::claims_without_fs_group(d);
                    if !claims.is_empty() {
                        out.notes.push(crate::diagnostic::Note::warning(
                            "extra-volume-owner",
                            format!(
                                "`{path}`: {} {} runs as non-root and mounts claim(s) {} without a pod `securityContext.fsGroup`: a new volume's file system belongs to root, so it cannot write there; set `fsGroup` (its group id)",
                                d["kind"].as_str().unwrap_or("?"),
                                d["metadata"]["name"].as_str().unwrap_or("?"),
                                claims.join(", ")
                            ),
                        ));
                    }
                }
                for ns in missing_namespaces(out, &maps) {
                    out.notes.push(crate::diagnostic::Note::warning(
                        "extra-namespace",
                        format!("`{path}` puts objects in namespace `{ns}`, which neither the output nor the template creates: `kubectl apply -k k8s/` fails unless it exists"),
                    ));
                }
                out.files.insert(dest, text);
                add_to_kustomization(out, &rel);
            }
        }
    }
    Ok(())
}

/// Refuses a rendered workload whose pods a `restricted` namespace would not admit
/// ([`super::pod_security`]): it would be applied and never start.
fn pod_security(
    out: &Output,
    path: &str,
    rendered: &str,
    json: &[Value],
) -> Result<(), Diagnostics> {
    let levels = super::pod_security::enforced_levels(out, json);
    for doc in json {
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        if levels.get(ns).map(String::as_str) != Some("restricted") {
            continue;
        }
        let problems = super::pod_security::violations(doc);
        if problems.is_empty() {
            continue;
        }
        let kind = doc["kind"].as_str().unwrap_or("?");
        let name = doc["metadata"]["name"].as_str().unwrap_or("?");
        let mut e = rendered_error(
            path,
            rendered,
            kind_line(rendered, kind, name),
            1,
            format!(
                "{kind} {ns}/{name} would never start: namespace `{ns}` enforces Pod Security `restricted`, which refuses its pods for {}",
                problems.join("; ")
            ),
        );
        let d = &mut e.0[0];
        d.expected = Some(super::pod_security::EXPECTED.into());
        d.help = Some(format!(
            "harden the template (tests/fixtures/gpu/templates/sage-model.yaml.j2 is one), or give namespace `{ns}` a lower level (`kubernetes.namespaces[].pod_security: baseline`)"
        ));
        return Err(e);
    }
    Ok(())
}

/// The line of document `kind` `name`'s `kind:` in the rendered text (the first document of
/// that kind and name), or 1.
fn kind_line(rendered: &str, kind: &str, name: &str) -> usize {
    let mut at_kind = None;
    for (i, l) in rendered.lines().enumerate() {
        if l.trim() == format!("kind: {kind}") {
            at_kind = Some(i + 1);
        } else if l.trim() == format!("name: {name}")
            && let Some(line) = at_kind
        {
            return line;
        }
    }
    1
}

/// Refuses a rendered ClientTrafficPolicy that conflicts with the one infragen attaches to
/// its Gateway ([`super::client_traffic`]).
fn client_traffic(
    out: &Output,
    path: &str,
    rendered: &str,
    json: &[Value],
) -> Result<(), Diagnostics> {
    let Some((name, message)) = super::client_traffic::conflicts(out, json)
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let line = kind_line(rendered, "ClientTrafficPolicy", &name);
    let mut e = rendered_error(path, rendered, line, 1, message);
    let d = &mut e.0[0];
    d.expected = Some("one ClientTrafficPolicy per Gateway (or listener): infragen's".into());
    d.help = Some("put the settings into infragen's policy with an override (`overrides: [{ manifest: ClientTrafficPolicy/<namespace>/<name>, set: { spec: { … } } }]`), keeping its `proxyProtocol`".into());
    Err(e)
}

/// Namespaces the rendered objects live in that no generated or rendered Namespace creates.
fn missing_namespaces(out: &Output, docs: &[Map]) -> Vec<String> {
    let text = |y: Option<&Y>| match y {
        Some(Y::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let meta = |d: &Map, k: &str| match d.get("metadata") {
        Some(Y::Map(m)) => text(m.get(k)),
        _ => None,
    };
    let mut created: std::collections::BTreeSet<String> = docs
        .iter()
        .filter(|d| text(d.get("kind")).as_deref() == Some("Namespace"))
        .filter_map(|d| meta(d, "name"))
        .collect();
    for (path, t) in &out.files {
        if path.starts_with("k8s/")
            && t.contains("kind: Namespace\n")
            && let Ok((_, generated)) = read_manifests(t)
        {
            created.extend(
                generated
                    .iter()
                    .filter(|d| text(d.get("kind")).as_deref() == Some("Namespace"))
                    .filter_map(|d| meta(d, "name")),
            );
        }
    }
    // Namespaces the platform module creates (Helm releases' namespaces, and those holding
    // the Secrets and ConfigMaps the workloads read).
    for (path, t) in &out.files {
        if path.starts_with("terraform/")
            && path.ends_with(".tf.json")
            && t.contains("\"kubernetes_namespace_v1\"")
            && let Ok(doc) = serde_json::from_str::<serde_json::Value>(t)
            && let Some(all) = doc["resource"]["kubernetes_namespace_v1"].as_object()
        {
            created.extend(
                all.values()
                    .filter_map(|r| r["metadata"]["name"].as_str().map(String::from)),
            );
        }
    }
    let mut missing: Vec<String> = docs
        .iter()
        .filter_map(|d| meta(d, "namespace"))
        .filter(|ns| !created.contains(ns))
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

fn strip<'a>(file: &'a str, suffixes: &[&str]) -> &'a str {
    suffixes
        .iter()
        .find_map(|s| file.strip_suffix(s))
        .unwrap_or(file)
}

/// Refuse to replace a file infragen (or another template) wrote.
fn claim(out: &Output, dest: &str, path: &str) -> Result<(), Diagnostic> {
    if out.files.contains_key(dest) {
        return Err(Diagnostic::new(format!(
            "`{path}` would be written to `{dest}`, which already exists"
        ))
        .help("rename the template"));
    }
    Ok(())
}

fn render_one(
    path: &str,
    text: &str,
    index: &Arc<Index>,
    target: &Target,
    blueprint: &Value,
    loaded: &Loaded,
    provider: Provider,
) -> Result<String, Diagnostics> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let idx = Arc::clone(index);
    let module = match target {
        Target::Terraform(m) => Some(m.to_string()),
        Target::Kubernetes => None,
    };
    env.add_function(
        "ref",
        move |component: String, attribute: String| -> Result<String, minijinja::Error> {
            let r = match &module {
                Some(m) => idx.terraform(m, &component, &attribute),
                None => idx.kubernetes(&component, &attribute),
            };
            r.map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e))
        },
    );
    let ctx = minijinja::context! {
        blueprint => minijinja::Value::from(minijinja::value::Serde(blueprint)),
        env => loaded.env.clone(),
        provider => provider.name(),
    };
    let result = env
        .template_from_named_str(path, text)
        .and_then(|t| t.render(ctx));
    // Shown as the user finds it: beside the blueprint.
    let shown = std::path::Path::new(&loaded.file)
        .parent()
        .map(|d| d.join(path).to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    result.map_err(|e| {
        let line = e.line().unwrap_or(1);
        // The column of the failing expression, when minijinja knows its byte range.
        let col = e
            .range()
            .and_then(|r| {
                let before = text.get(..r.start)?;
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                Some(before[start..].chars().count() + 1)
            })
            .unwrap_or(1);
        let what = match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        };
        Diagnostics::single(
            Diagnostic::new(format!("template `{path}` does not render: {what}"))
                .at(Some(Span::new(line, col)))
                .help("variables: `blueprint`, `env`, `provider`; functions: `ref(component, attribute)`; filters include `tojson`"),
        )
        .with_source(&shown, text)
    })
}

/// An error in the rendered text, shown against it.
fn rendered_error(path: &str, rendered: &str, line: usize, col: usize, msg: String) -> Diagnostics {
    Diagnostics::single(
        Diagnostic::new(format!("template `{path}` renders invalid output: {msg}"))
            .at(Some(Span::new(line.max(1), col.max(1))))
            .help("the position is in the rendered text; `tojson` quotes values safely"),
    )
    .with_source(&format!("{path} (rendered)"), rendered)
}

fn template_error(path: &str, msg: &str) -> Diagnostics {
    Diagnostics::single(Diagnostic::new(format!("template `{path}`: {msg}")).in_file(path))
}

/// Check the module `dest` was added to; problems in `dest` are the template's.
fn check_terraform(out: &Output, module: &str, dest: &str, path: &str) -> Result<(), Diagnostics> {
    let problems: Vec<String> = super::check_module(out, module, Some(dest))
        .into_iter()
        .filter(|p| p.file == dest)
        .map(|p| p.to_string())
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Diagnostics(
        problems
            .into_iter()
            .map(|p| {
                let d =
                    Diagnostic::new(format!("template `{path}` renders invalid Terraform: {p}"))
                        .in_file(path);
                if p.contains("declared more than once") {
                    // Terraform refuses the same address in two files of a module.
                    d.help("to change what infragen generates, use `overrides:` with `resource: <address>`; to add a resource, give it a name of its own")
                } else {
                    d
                }
            })
            .collect(),
    ))
}

/// Add `rel` (relative to `k8s/`) to the kustomization's resources, kept sorted.
fn add_to_kustomization(out: &mut Output, rel: &str) {
    let key = "k8s/kustomization.yaml";
    let Some(Ok((comment, mut docs))) = out.files.get(key).map(|t| read_manifests(t)) else {
        return;
    };
    let Some(doc) = docs.first_mut() else { return };
    let mut resources: Vec<String> = match doc.get("resources") {
        Some(Y::Seq(items)) => items
            .iter()
            .filter_map(|y| match y {
                Y::Str(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    resources.push(rel.to_string());
    resources.sort();
    resources.dedup();
    doc.insert("resources", resources);
    out.files
        .insert(key.to_string(), yaml::file(&comment, &docs));
}
