//! Shared helpers: the shipped blueprints and the provider × environment matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infragen::Provider;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `blueprints/*.yaml`, sorted, then the workload fixtures
/// (`tests/fixtures/workloads/*.yaml`: shapes no shipped blueprint has, such as ECS host
/// routing or queue workers), which every whole-matrix check covers too.
pub fn blueprints() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["blueprints", "tests/fixtures/workloads"] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap_or_else(|e| panic!("{dir}/: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        v.sort();
        all.extend(v);
    }
    all
}

/// The providers a blueprint is meant for: those it configures under `providers:`, plus
/// `kubernetes` (manifests for an existing cluster), which every blueprint with services and
/// a Kubernetes platform supports, unless it has SQS queues.
pub fn providers_of(path: &Path) -> Vec<Provider> {
    let bytes = std::fs::read(path).unwrap();
    let envs = infragen::blueprint::environments(&path.display().to_string(), &bytes).unwrap();
    let env = envs.first().map_or("production", String::as_str);
    // Each provider as its own merge has it: `per_provider.<p>` may configure it.
    let load = |p| infragen::blueprint::load("x", &bytes, p, env).unwrap();
    let mut out = Vec::new();
    if load(Provider::Aws).blueprint.providers.aws.is_some() {
        out.push(Provider::Aws);
    }
    if load(Provider::Digitalocean)
        .blueprint
        .providers
        .digitalocean
        .is_some()
    {
        out.push(Provider::Digitalocean);
    }
    let loaded = load(Provider::Kubernetes);
    let bp = &loaded.blueprint;
    let k8s = bp
        .cluster
        .as_ref()
        .is_none_or(|c| c.platform != infragen::blueprint::types::Platform::EcsFargate);
    // SQS queues exist only on AWS (`--provider kubernetes` refuses them).
    let aws_only = bp.queues.iter().any(|q| q.sqs());
    if k8s && !aws_only && (!bp.services.is_empty() || bp.providers.kubernetes.is_some()) {
        out.push(Provider::Kubernetes);
    }
    out
}

/// The (provider, environment) pairs a blueprint is synthesized for. By default every
/// provider it is meant for ([`providers_of`]) × every environment it declares
/// (`production` when it declares none). A blueprint whose environments belong to one
/// provider each (ECS on AWS, DOKS on DigitalOcean: `cluster.platform` set per environment
/// rather than in `per_provider`) lists its pairs in a header line
/// `# targets: aws:staging aws:production digitalocean:do-production`;
/// [`refused_targets`] are the other pairs, which must be refused with a positioned error.
pub fn targets(path: &Path) -> Vec<(Provider, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let header = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# targets:"));
    if let Some(list) = header {
        return list
            .split_whitespace()
            .map(|t| {
                let (p, e) = t
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{t}: provider:env"));
                let p = match p {
                    "aws" => Provider::Aws,
                    "digitalocean" => Provider::Digitalocean,
                    "kubernetes" => Provider::Kubernetes,
                    _ => panic!("{}: unknown provider `{p}`", path.display()),
                };
                (p, e.to_string())
            })
            .collect();
    }
    let mut envs = infragen::blueprint::environments("x", text.as_bytes()).unwrap();
    if envs.is_empty() {
        envs.push("production".into());
    }
    let mut out = Vec::new();
    for p in providers_of(path) {
        for e in &envs {
            out.push((p, e.clone()));
        }
    }
    out
}

/// The pairs of every provider a blueprint configures × every environment it declares that
/// its `# targets:` header leaves out (none without the header).
pub fn refused_targets(path: &Path) -> Vec<(Provider, String)> {
    let given = targets(path);
    let text = std::fs::read(path).unwrap();
    let envs = infragen::blueprint::environments("x", &text).unwrap();
    let mut providers: Vec<Provider> = given.iter().map(|(p, _)| *p).collect();
    providers.sort();
    providers.dedup();
    let mut out = Vec::new();
    for p in providers {
        for e in &envs {
            if !given.contains(&(p, e.clone())) {
                out.push((p, e.clone()));
            }
        }
    }
    out
}

/// (blueprint file stem, path, provider, environment) for every combination.
pub fn matrix() -> Vec<(String, PathBuf, Provider, String)> {
    let mut out = Vec::new();
    for path in blueprints() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let mut envs = infragen::blueprint::environments(&stem, &bytes).unwrap();
        if envs.is_empty() {
            envs.push("production".into());
        }
        for p in providers_of(&path) {
            for e in &envs {
                out.push((stem.clone(), path.clone(), p, e.clone()));
            }
        }
    }
    out
}

/// Generated blueprints (`scripts/combos.py --keep DIR`, docs/testing.md) as
/// (label, path, provider, environment), for the invariant loops over the shipped
/// blueprints: none unless `INFRAGEN_COMBOS=DIR` names them (they are made with the shared
/// checkers, outside the repository). Each names its pairs in a `# targets:` header.
pub fn combos() -> Vec<(String, PathBuf, Provider, String)> {
    let Some(dir) = std::env::var_os("INFRAGEN_COMBOS") else {
        return Vec::new();
    };
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("INFRAGEN_COMBOS={}: {e}", dir.to_string_lossy()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (provider, env) in targets(&path) {
            out.push((format!("combo/{stem}"), path.clone(), provider, env));
        }
    }
    out
}

/// Every AWS target of [`matrix`], synthesized: `(stem, env, output)`.
pub fn aws_outputs() -> Vec<(String, String, infragen::Output)> {
    matrix()
        .into_iter()
        .filter(|(_, _, p, _)| *p == Provider::Aws)
        .map(|(stem, path, p, env)| {
            let out = synth(&path, p, &env);
            (stem, env, out)
        })
        .collect()
}

/// Synthesize a shipped blueprint as the CLI would name it.
pub fn synth(path: &Path, provider: Provider, env: &str) -> infragen::Output {
    let rel = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    let bytes = std::fs::read(path).unwrap();
    match infragen::synthesize(&rel, &bytes, provider, env) {
        Ok(o) => o,
        Err(d) => panic!("{rel} --provider {provider} --env {env} failed:\n{d}"),
    }
}

/// All files of an output as one text, for snapshots.
pub fn flatten(out: &infragen::Output) -> String {
    let mut s = String::new();
    // Each note as `note: ` and the line the CLI prints: a warning reads
    // `note: warning[rule]: …` (the layout snapshots have always had).
    for n in &out.notes {
        match n.level {
            infragen::diagnostic::Level::Note => s.push_str(&format!("note: {}\n", n.text)),
            infragen::diagnostic::Level::Warning => s.push_str(&format!("note: {n}\n")),
        }
    }
    for (path, text) in &out.files {
        s.push_str(&format!("\n==> {path} <==\n{text}"));
    }
    s
}

/// Every Kubernetes document under `k8s/`, as JSON, in file order.
pub fn manifests(out: &infragen::Output) -> Vec<serde_json::Value> {
    out.files
        .iter()
        .filter(|(f, _)| f.starts_with("k8s/") && f.ends_with(".yaml"))
        .flat_map(|(f, t)| {
            yaml_rust2::YamlLoader::load_from_str(t)
                .unwrap_or_else(|e| panic!("{f} does not parse back: {e}"))
        })
        .map(|d| infragen::check::kubernetes::to_json(&d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// A small ECS Fargate stack named `name` in eu-west-1 (state, a two-zone network with one
/// NAT gateway, the cluster), followed by `rest` (its data services, load balancer, services).
pub fn ecs_stack(name: &str, rest: &str) -> String {
    format!(
        "name: {name}
providers:
  aws:
    region: eu-west-1
state:
  bucket: {name}-state-{{env}}
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.0.1.0/24, 10.0.2.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
cluster:
  platform: ecs_fargate
{rest}"
    )
}

/// A small EKS stack named `name` in eu-west-1 (state, a two-zone network with one NAT
/// gateway), with `cluster` as the `cluster:` value, followed by `rest` (node pools or
/// Fargate profiles, services).
pub fn eks_stack(name: &str, cluster: &str, rest: &str) -> String {
    format!(
        "name: {name}
providers:
  aws: {{ region: eu-west-1 }}
state: {{ bucket: \"{name}-tfstate-{{env}}\" }}
network:
  cidr: 10.60.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.60.0.0/24, 10.60.1.0/24]
    private: [10.60.16.0/20, 10.60.32.0/20]
cluster: {cluster}
{rest}"
    )
}

/// An EKS stack `gate` (two t3.large nodes) whose `ingress` is the AWS Load Balancer
/// Controller's class `alb` for `app.example.com` (ACM certificate), serving `services` (the
/// list items under `services:`).
pub fn alb_stack(services: &str) -> String {
    eks_stack(
        "gate",
        "{ platform: eks, addons: [coredns, kube-proxy, vpc-cni] }",
        &format!(
            "node_pools:
  - {{ name: general, sizes: {{ aws: t3.large }}, min: 2, desired: 2, max: 3 }}
load_balancer: {{ certificate: {{ domain: app.example.com }} }}
ingress:
  enabled: true
  class: alb
  hosts: [app.example.com]
services:
{services}"
        ),
    )
}

/// Synthesize blueprint text `yaml` (named `<name>.yaml` in messages) for AWS production;
/// `Err` is the diagnostics' text.
pub fn synth_aws(name: &str, yaml: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(
        &format!("{name}.yaml"),
        yaml.as_bytes(),
        Provider::Aws,
        "production",
    )
    .map_err(|d| d.to_string())
}

/// The blocks of type `ty` under `kind` (`resource` or `data`) in root module
/// `terraform/<module>`, as (name, body).
pub fn blocks(
    out: &infragen::Output,
    module: &str,
    kind: &str,
    ty: &str,
) -> Vec<(String, serde_json::Value)> {
    let prefix = format!("terraform/{module}/");
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .filter_map(|(_, t)| {
            let doc: serde_json::Value = serde_json::from_str(t).unwrap();
            doc.pointer(&format!("/{kind}/{ty}"))
                .and_then(serde_json::Value::as_object)
                .map(|o| o.clone().into_iter().collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// The bodies of the resources of type `ty` in root module `terraform/<module>`.
pub fn resources(out: &infragen::Output, module: &str, ty: &str) -> Vec<serde_json::Value> {
    blocks(out, module, "resource", ty)
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

/// The values of the ingress-nginx Helm release of `terraform/platform`, as written (JSON).
pub fn ingress_nginx_values(out: &infragen::Output) -> Option<String> {
    resources(out, "platform", "helm_release")
        .into_iter()
        .find(|r| r["chart"] == "ingress-nginx")
        .map(|r| r["values"][0].as_str().unwrap().to_string())
}

/// `infragen diff --provider P --env E --base <base> --blueprint <head>` on two blueprint
/// texts: its exit code (0 nothing changes, 1 something does) and its standard output.
pub fn diff(provider: &str, env: &str, base: &str, head: &str) -> (Option<i32>, String) {
    let t = tempfile::tempdir().unwrap();
    let (b, h) = (t.path().join("base.yaml"), t.path().join("head.yaml"));
    std::fs::write(&b, base).unwrap();
    std::fs::write(&h, head).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["diff", "--provider", provider, "--env", env, "--base"])
        .arg(&b)
        .arg("--blueprint")
        .arg(&h)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// Runs an ECS container definition's `entryPoint` + `command` here, as ECS would (its
/// `environment` set), with each of its mount points standing as a fresh directory
/// `<scratch>/<sourceVolume>` (mode 0755, as a Fargate bind mount starts); returns whether it
/// succeeded and where each container path stood.
pub fn run_ecs_container(
    def: &serde_json::Value,
    scratch: &Path,
) -> (bool, BTreeMap<String, PathBuf>) {
    use std::os::unix::fs::PermissionsExt;
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut at: BTreeMap<String, PathBuf> = BTreeMap::new();
    for m in def["mountPoints"].as_array().into_iter().flatten() {
        let dir = scratch.join(str_of(&m["sourceVolume"]));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        at.insert(str_of(&m["containerPath"]), dir);
    }
    // Longest container paths first, so `/tmp` never rewrites part of `/tmp/cache`.
    let mut paths: Vec<(&String, &PathBuf)> = at.iter().collect();
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let argv: Vec<String> = def["entryPoint"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(def["command"].as_array().into_iter().flatten())
        .map(|a| {
            // Through placeholders: a scratch directory's own path (under `/tmp`) must not be
            // rewritten again by a shorter container path.
            let marked = (paths.iter().enumerate()).fold(str_of(a), |arg, (i, (p, _))| {
                arg.replace(p.as_str(), &format!("\0{i}\0"))
            });
            (paths.iter().enumerate()).fold(marked, |arg, (i, (_, dir))| {
                arg.replace(&format!("\0{i}\0"), dir.to_str().unwrap())
            })
        })
        .collect();
    let mut run = std::process::Command::new(&argv[0]);
    run.args(&argv[1..]);
    for e in def["environment"].as_array().into_iter().flatten() {
        run.env(str_of(&e["name"]), str_of(&e["value"]));
    }
    (run.status().unwrap().success(), at)
}

/// An AWS network in eu-west-1 and one RDS PostgreSQL `notes-db` (database `notes`): the
/// start of the blueprints the connection tests (init_env, use_env) write.
pub const NOTES_AWS: &str = r#"
providers:
  aws: { region: eu-west-1 }
state: { bucket: "notes-state-{env}" }
network:
  cidr: 10.0.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.0.1.0/24, 10.0.2.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
    database: [10.0.20.0/24, 10.0.21.0/24]
databases:
  - { name: notes-db, engine: postgres, size: small, database_name: notes, storage: { size_gb: 20 } }
"#;

/// `infragen synth` on `text`: exit code and standard error.
pub fn synth_cli(text: &str, provider: &str) -> (Option<i32>, String) {
    synth_cli_env(text, provider, "production")
}

/// `infragen synth --env ENV` (`all` for every environment) on `text`: exit code and
/// standard error.
pub fn synth_cli_env(text: &str, provider: &str, env: &str) -> (Option<i32>, String) {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("blueprint.yaml");
    std::fs::write(&path, text).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["synth", "--provider", provider, "--env", env, "--out"])
        .arg(t.path().join("out"))
        .arg("--blueprint")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The Service names an Ingress routes to, sorted, each once.
pub fn ingress_backends(ingress: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["http"]["paths"].as_array().unwrap().clone())
        .map(|p| {
            p["backend"]["service"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The Services an Ingress's paths send requests to, sorted, each once: a path's backend
/// Service, or for a backend port named `use-annotation` (the AWS Load Balancer
/// Controller's custom action) the Services of the forward action
/// `alb.ingress.kubernetes.io/actions.<backend name>`, which must exist.
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#actions>
pub fn routed_services(ingress: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in ingress["spec"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten())
    {
        let backend = &p["backend"]["service"];
        let name = backend["name"].as_str().unwrap();
        if backend["port"]["name"] != "use-annotation" {
            out.push(name.to_string());
            continue;
        }
        let key = format!("alb.ingress.kubernetes.io/actions.{name}");
        let action = ingress["metadata"]["annotations"][&key]
            .as_str()
            .unwrap_or_else(|| panic!("path backend `{name}` names no action `{key}`"));
        let action: serde_json::Value = serde_json::from_str(action).unwrap();
        assert_eq!(action["type"], "forward", "{action}");
        for g in action["forwardConfig"]["targetGroups"].as_array().unwrap() {
            out.push(g["serviceName"].as_str().unwrap().to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The output of every shipped blueprint and fixture on each cloud it targets (the
/// `--provider kubernetes` targets left out: they install nothing and build no load
/// balancer), with the escape-hatch fixture's templates: (label, output).
pub fn cloud_outputs() -> Vec<(String, infragen::Output)> {
    let mut all = Vec::new();
    for dir in [
        "blueprints",
        "tests/fixtures/workloads",
        "tests/fixtures/new-user",
        "tests/fixtures/day2",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for path in files {
            all.extend(outputs_of(&path));
        }
    }
    // The escape-hatch fixture, with its templates.
    let dir = root().join("tests/fixtures/escape");
    let bytes = std::fs::read(dir.join("ledger.yaml")).unwrap();
    let read = infragen::escape::folder(dir);
    for env in ["production", "staging"] {
        let loaded = infragen::blueprint::load("ledger.yaml", &bytes, Provider::Aws, env).unwrap();
        let out = infragen::synthesize_with(&loaded, &read).unwrap();
        all.push((format!("escape/ledger aws {env}"), out));
    }
    all
}

pub fn outputs_of(path: &Path) -> Vec<(String, infragen::Output)> {
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut out = Vec::new();
    for (p, env) in targets(path) {
        if p != Provider::Kubernetes {
            out.push((format!("{stem} {p} {env}"), synth(path, p, &env)));
        }
    }
    out
}
