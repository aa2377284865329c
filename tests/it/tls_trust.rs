//! Do the pods trust the TLS certificate of the managed database they connect to?
//!
//! A MongoDB driver given `tls=true` verifies the server's certificate against the
//! container's trust store, and so does node-postgres given `sslmode=require` (it reads it as
//! `verify-full`). DigitalOcean signs its managed databases' certificates with its own CA
//! (`GET /v2/databases/{uuid}/ca`), and RDS with its regional CA (`rds-ca-rsa2048-g1`), which
//! no image trusts: without that CA every connection fails ("self signed certificate in
//! certificate chain"). So a workload whose URL names such a database reads the CA from a
//! file, mounted read only, named by the URL (`tlsCAFile`, `sslrootcert`) and by
//! `<NAME>_CA_FILE`:
//!
//! - DigitalOcean: from a Secret Terraform fills from `data "digitalocean_database_ca"` for
//!   that very cluster;
//! - EKS (and EKS on Fargate): from the `<service>-connections` ConfigMap the platform module
//!   creates, holding the region's vendored RDS bundle;
//! - ECS: from a task volume a first container writes the bundle into.
//!
//! Where the certificate is publicly trusted (DigitalOcean Valkey: Let's Encrypt; AWS
//! ElastiCache, Amazon MQ) nothing changes: a `tlsCAFile` replaces the trust store in most
//! drivers, so it is never added there.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, matrix, resources, synth};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The data sources of type `ty` in `terraform/<module>`, by name.
fn data_sources(out: &infragen::Output, module: &str, ty: &str) -> BTreeMap<String, Value> {
    let prefix = format!("terraform/{module}/");
    let mut found = BTreeMap::new();
    for (p, t) in &out.files {
        if !p.starts_with(&prefix) || !p.ends_with(".tf.json") {
            continue;
        }
        let doc: Value = serde_json::from_str(t).unwrap();
        if let Some(m) = doc
            .pointer(&format!("/data/{ty}"))
            .and_then(Value::as_object)
        {
            found.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    found
}

/// The `data` of the platform module's `kind` (`kubernetes_config_map_v1` /
/// `kubernetes_secret_v1`) named `name` (every namespace: the names are per service).
fn platform_object(out: &infragen::Output, kind: &str, name: &str) -> Option<Value> {
    resources(out, "platform", kind)
        .into_iter()
        .find(|b| s(&b["metadata"]["name"]) == name)
        .map(|b| b["data"].clone())
}

fn pod_spec(d: &Value) -> Option<&Value> {
    match s(&d["kind"]) {
        "Deployment" => Some(&d["spec"]["template"]["spec"]),
        "CronJob" => Some(&d["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// The value a container's env entry `e` gets from the platform module's objects (a
/// literal, or the `<service>-connections` ConfigMap's key).
fn env_value(out: &infragen::Output, e: &Value) -> Option<String> {
    if let Some(v) = e["value"].as_str() {
        return Some(v.to_string());
    }
    let r = &e["valueFrom"]["configMapKeyRef"];
    let data = platform_object(out, "kubernetes_config_map_v1", s(&r["name"]))?;
    data[s(&r["key"])].as_str().map(str::to_string)
}

/// The URL option naming the CA file, by scheme: MongoDB's `tlsCAFile`, libpq's
/// `sslrootcert`; `None` where the URL has no TLS option (MySQL) and the CA comes as
/// `_CA_FILE` only; `Err` where no CA is needed (Valkey: Let's Encrypt).
fn ca_option(url: &str) -> Result<Option<&'static str>, ()> {
    match url.split("://").next().unwrap() {
        "mongodb+srv" | "mongodb" => Ok(Some("tlsCAFile")),
        "postgresql" => Ok(Some("sslrootcert")),
        "mysql" => Ok(None),
        _ => Err(()),
    }
}

/// For every container of `out` whose URL names a DigitalOcean managed database, check that
/// it trusts the cluster's CA (and that a Valkey URL gets none); returns how many database
/// URLs were checked, per scheme.
/// The object and key container `c` of `pod` reads file `path` from: mounted read only (the
/// root filesystem read only too), from a volume of `source` (`("secret", "secretName")` or
/// `("configMap", "name")`) whose item maps the key to the file's name.
fn mounted_item(
    pod: &Value,
    c: &Value,
    path: &str,
    (source, name_field): (&str, &str),
    where_: &str,
) -> (String, String) {
    let (dir, file) = path.rsplit_once('/').unwrap();
    let mount = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| s(&m["mountPath"]) == dir)
        .unwrap_or_else(|| panic!("{where_}: nothing mounted at {dir} for {path}"));
    assert_eq!(mount["readOnly"], true, "{where_}: {dir} is writable");
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"], true,
        "{where_}: the root filesystem stays read only"
    );
    let volume = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == mount["name"])
        .unwrap_or_else(|| panic!("{where_}: no volume {}", mount["name"]));
    let name = s(&volume[source][name_field]).to_string();
    let key = volume[source]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| s(&i["path"]) == file)
        .map(|i| s(&i["key"]).to_string())
        .unwrap_or_else(|| panic!("{where_}: volume {name} has no item {file}"));
    (name, key)
}

/// One environment variable with a value, in a container of a pod in `docs`: what the checks
/// below walk.
struct PodVar<'a> {
    doc: &'a Value,
    pod: &'a Value,
    container: &'a Value,
    /// The container's whole `env`, for the variables beside this one.
    env: Vec<&'a Value>,
    var: &'a str,
    value: String,
    /// `label: workload (container name)`, for messages.
    at: String,
}

/// Every variable with a value of every container (init containers too) of every pod in `docs`.
fn pod_vars<'a>(label: &str, out: &infragen::Output, docs: &'a [Value]) -> Vec<PodVar<'a>> {
    let mut vars = Vec::new();
    for doc in docs {
        let Some(pod) = pod_spec(doc) else { continue };
        let workload = s(&doc["metadata"]["name"]);
        let containers = pod["containers"]
            .as_array()
            .into_iter()
            .chain(pod["initContainers"].as_array())
            .flatten();
        for container in containers {
            let env: Vec<&Value> = container["env"].as_array().into_iter().flatten().collect();
            for e in &env {
                let Some(value) = env_value(out, e) else {
                    continue;
                };
                vars.push(PodVar {
                    doc,
                    pod,
                    container,
                    env: env.clone(),
                    var: s(&e["name"]),
                    value,
                    at: format!("{label}: {workload} (container {})", s(&container["name"])),
                });
            }
        }
    }
    vars
}

/// The container `name` of Deployment `api`.
fn api_container(out: &infragen::Output, name: &str) -> Value {
    let api = manifests(out)
        .into_iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("Deployment api");
    api["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in api"))
        .clone()
}

fn check_digitalocean_trust(label: &str, out: &infragen::Output) -> BTreeMap<String, usize> {
    let cas = data_sources(out, "platform", "digitalocean_database_ca");
    let mut checked = BTreeMap::new();
    let docs = manifests(out);
    for PodVar {
        pod,
        container: c,
        env,
        var,
        value: url,
        at: where_,
        ..
    } in pod_vars(label, out, &docs)
    {
        let Some((scheme, rest)) = url.split_once("://${data.digitalocean_database_cluster.")
        else {
            continue;
        };
        let cluster = rest.split('.').next().unwrap();
        let prefix = var.strip_suffix("_URL").unwrap();
        let ca_var = format!("{prefix}_CA_FILE");
        let given = env.iter().find(|x| s(&x["name"]) == ca_var);
        let Ok(option) = ca_option(&url) else {
            assert!(
                given.is_none() && !url.contains("tlsCAFile"),
                "{where_}: {var}={url} is publicly trusted, yet gets a CA file"
            );
            continue;
        };
        // `<NAME>_CA_FILE` names the file, and so does the URL where it can.
        let given = given.unwrap_or_else(|| panic!("{where_}: no {ca_var} beside {var}={url}"));
        let path = s(&given["value"]);
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        if let Some(option) = option {
            let named = query
                        .split('&')
                        .find_map(|o| o.strip_prefix(&format!("{option}=")))
                        .unwrap_or_else(|| {
                            panic!("{where_}: {var}={url} leaves the driver to the image's trust store, which lacks DigitalOcean's CA")
                        });
            assert_eq!(named, path, "{where_}: {var} and {ca_var}");
        }
        // The file is mounted read only, from a Secret key…
        let (secret, key) = mounted_item(pod, c, path, ("secret", "secretName"), &where_);
        let secret = secret.as_str();
        // …of the Secret Terraform writes, from the CA of the URL's own cluster.
        let data = platform_object(out, "kubernetes_secret_v1", secret)
            .unwrap_or_else(|| panic!("{where_}: no Secret {secret} in the platform module"));
        let value = s(&data[&key]);
        let source = value
            .strip_prefix("${data.digitalocean_database_ca.")
            .and_then(|r| r.strip_suffix(".certificate}"))
            .unwrap_or_else(|| panic!("{where_}: {secret}[{key}] = {value:?}, not a database CA"));
        assert_eq!(
            s(&cas[source]["cluster_id"]),
            format!("${{data.digitalocean_database_cluster.{cluster}.id}}"),
            "{where_}: the CA read is not the URL's cluster's"
        );
        *checked.entry(scheme.to_string()).or_default() += 1;
    }
    checked
}

/// The new users' DOKS fixtures with a managed MongoDB and MySQL: web and sitemap (blog),
/// storefront and checkout (kiosk), in every environment.
#[test]
fn pods_using_a_digitalocean_database_trust_its_ca() {
    let root = crate::support::root().join("tests/fixtures/new-user");
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    for stem in ["blog-doks", "kiosk-doks"] {
        let path = root.join(format!("{stem}.yaml"));
        for env in ["staging", "production"] {
            let out = synth(&path, Provider::Digitalocean, env);
            for (scheme, n) in check_digitalocean_trust(&format!("{stem} {env}"), &out) {
                *checked.entry(scheme).or_default() += n;
            }
        }
    }
    assert!(
        checked["mongodb+srv"] >= 6 && checked["mysql"] >= 6,
        "too few URLs checked: {checked:?}"
    );
}

const MIGRATING: &str = r#"
name: notes
providers:
  digitalocean: { region: ams3 }
state: { bucket: "notes-state-{env}" }
network: { cidr: 10.30.0.0/16 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
databases:
  - { name: docs, engine: mongodb, version: "8.0", size: small }
  - { name: ledger, engine: postgres, version: "17", size: small }
caches:
  - { name: sessions, engine: valkey, size: small }
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
    uses: [{ name: docs, env_prefix: MONGO }, ledger, sessions]
    init:
      - name: migrate
        image: ghcr.io/acme/api:2.3.1
        command: [npm, run, migrate]
        app_env: true
    sidecars:
      - { name: log-shipper, image: "cr.fluentbit.io/fluent/fluent-bit:4.0.3" }
"#;

/// A renamed prefix, a migration step reading the app's environment (it connects with the
/// same URL, so it needs the same file), and a sidecar that does not (it gets neither).
#[test]
fn a_migration_step_trusts_the_ca_its_url_names() {
    let out = infragen::synthesize(
        "notes.yaml",
        MIGRATING.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    // The app container and the init container, each for MongoDB and PostgreSQL.
    let checked = check_digitalocean_trust("notes", &out);
    assert_eq!(checked["mongodb+srv"], 2, "{checked:?}");
    assert_eq!(checked["postgresql"], 2, "{checked:?}");
    let shipper = api_container(&out, "log-shipper");
    assert!(
        !shipper.to_string().contains("/etc/infragen/ca"),
        "the sidecar reads no connection variables: {shipper}"
    );
    // No CA for Valkey: its certificate is Let's Encrypt's.
    let text = crate::support::flatten(&out);
    assert!(text.contains("MONGO_CA_FILE") && text.contains("LEDGER_CA_FILE"));
    for var in ["SESSIONS_CA_FILE", "SESSIONS_CA_CERT"] {
        assert!(!text.contains(var), "{var}: a CA where none is needed");
    }
    assert_eq!(
        data_sources(&out, "platform", "digitalocean_database_ca")
            .keys()
            .collect::<Vec<_>>(),
        ["docs", "ledger"]
    );
}

/// On DigitalOcean every managed database URL trusts its CA; on AWS every RDS URL trusts the
/// region's RDS CA (EKS pods and ECS tasks alike), and no ElastiCache or Amazon MQ URL gets a
/// CA file (publicly trusted).
#[test]
fn only_provider_signed_servers_get_a_ca_file() {
    let (mut aws, mut digitalocean) = (0, 0);
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        let label = format!("{stem} {provider} {env}");
        match provider {
            Provider::Digitalocean => {
                digitalocean += check_digitalocean_trust(&label, &out)
                    .values()
                    .sum::<usize>();
            }
            Provider::Aws => {
                aws +=
                    check_rds_trust_in_pods(&label, &out) + check_rds_trust_in_tasks(&label, &out);
            }
            _ => {
                let text = crate::support::flatten(&out);
                assert!(
                    !text.contains("tlsCAFile")
                        && !text.contains("sslrootcert")
                        && !text.contains("_CA_FILE"),
                    "{label}: a CA file where no managed database runs"
                );
            }
        }
    }
    // ecommerce-eks (EKS) and qurable-ecs (ECS) use RDS PostgreSQL, in every environment.
    assert!(aws >= 10, "only {aws} AWS URLs checked");
    assert!(
        digitalocean >= 4,
        "only {digitalocean} DigitalOcean URLs checked"
    );
}

/// The CN suffix of each RDS CA (`ca_cert_identifier`): "Amazon RDS <region> Root CA …".
fn rds_ca_name(identifier: &str) -> &'static str {
    match identifier {
        "rds-ca-rsa2048-g1" => "Root CA RSA2048 G1",
        "rds-ca-rsa4096-g1" => "Root CA RSA4096 G1",
        "rds-ca-ecc384-g1" => "Root CA ECC384 G1",
        other => panic!("unknown RDS CA {other}"),
    }
}

/// Whether PEM text `pem` trusts a server whose certificate the RDS CA `identifier` of
/// `region` signed: it holds that CA's root (a self-signed certificate named "Amazon RDS
/// <region> Root CA …") valid on the catalog's date. Read with an X.509 parser, not by text.
fn trusts_rds(pem: &str, region: &str, identifier: &str) -> bool {
    let as_of = &infragen::releases::get().as_of;
    let want = format!("Amazon RDS {region} {}", rds_ca_name(identifier));
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()).any(|p| {
        let p = p.expect("the bundle is PEM");
        let cert = p.parse_x509().expect("a certificate");
        let cn = |n: &x509_parser::x509::X509Name| {
            n.iter_common_name()
                .next()
                .and_then(|c| c.as_str().ok())
                .map(str::to_string)
        };
        let date = |t: x509_parser::time::ASN1Time| t.to_datetime().date().to_string();
        let v = cert.validity();
        cn(cert.subject()).as_deref() == Some(want.as_str())
            && cert.subject() == cert.issuer()
            && date(v.not_before) <= *as_of
            && date(v.not_after) > *as_of
    })
}

/// The RDS instances of `out` by resource name: (identifier, `ca_cert_identifier`).
fn rds_instances(out: &infragen::Output) -> BTreeMap<String, (String, String)> {
    let mut found = BTreeMap::new();
    for (p, t) in &out.files {
        if !p.starts_with("terraform/infra/") || !p.ends_with(".tf.json") {
            continue;
        }
        let doc: Value = serde_json::from_str(t).unwrap();
        if let Some(m) = doc
            .pointer("/resource/aws_db_instance")
            .and_then(Value::as_object)
        {
            for (k, v) in m {
                found.insert(
                    k.clone(),
                    (
                        s(&v["identifier"]).to_string(),
                        s(&v["ca_cert_identifier"]).to_string(),
                    ),
                );
            }
        }
    }
    found
}

/// The region `out` was synthesized for (the AWS provider block of `infra`).
fn region_of(out: &infragen::Output) -> String {
    for (p, t) in &out.files {
        if p.starts_with("terraform/infra/") && p.ends_with(".tf.json") {
            let doc: Value = serde_json::from_str(t).unwrap();
            let aws = &doc["provider"]["aws"];
            let aws = aws.as_array().map_or(aws, |a| &a[0]);
            if let Some(r) = aws["region"].as_str() {
                return r.to_string();
            }
        }
    }
    panic!("no AWS provider block in infra")
}

/// For every EKS container whose URL names an RDS instance (found again by data source in
/// `platform`), check that it trusts the instance's CA: `<NAME>_CA_FILE` and the URL
/// (`sslrootcert`, PostgreSQL) name a file mounted read only from the `<service>-connections`
/// ConfigMap the platform module creates, whose key holds a bundle trusting the CA the
/// instance is given, in the instance's region. ElastiCache and Amazon MQ URLs get no CA.
/// Returns how many RDS URLs were checked.
fn check_rds_trust_in_pods(label: &str, out: &infragen::Output) -> usize {
    let region = region_of(out);
    let instances = rds_instances(out);
    let lookups = data_sources(out, "platform", "aws_db_instance");
    let mut checked = 0;
    let docs = manifests(out);
    for PodVar {
        doc: d,
        pod,
        container: c,
        env,
        var,
        value: url,
        at: where_,
    } in pod_vars(label, out, &docs)
    {
        let Some(prefix) = var.strip_suffix("_URL") else {
            continue;
        };
        let ca_var = format!("{prefix}_CA_FILE");
        let given = env.iter().find(|x| s(&x["name"]) == ca_var);
        let Some((scheme, rest)) = url.split_once("://${data.aws_db_instance.") else {
            if url.starts_with("rediss://") || url.starts_with("amqps://") {
                assert!(
                    given.is_none(),
                    "{where_}: {var}={url} is publicly trusted, yet gets a CA file"
                );
            }
            continue;
        };
        let source = rest.split('.').next().unwrap();
        let identifier = s(&lookups[source]["db_instance_identifier"]);
        let (_, ca) = instances
            .values()
            .find(|(id, _)| id == identifier)
            .unwrap_or_else(|| panic!("{where_}: no instance {identifier}"));
        let given = given.unwrap_or_else(|| panic!("{where_}: no {ca_var} beside {var}={url}"));
        let path = s(&given["value"]);
        if scheme == "postgresql" {
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
            assert_eq!(
                query
                    .split('&')
                    .find_map(|o| o.strip_prefix("sslrootcert=")),
                Some(path),
                "{where_}: {var}={url} leaves node-postgres to the image's trust store, which lacks RDS's CA"
            );
        }
        let (name, key) = mounted_item(pod, c, path, ("configMap", "name"), &where_);
        let name = name.as_str();
        // A ConfigMap the platform module creates, in the pod's namespace, holding
        // the bundle.
        let ns = s(&d["metadata"]["namespace"]);
        let made = resources(out, "platform", "kubernetes_config_map_v1")
            .into_iter()
            .find(|b| {
                s(&b["metadata"]["name"]) == name
                    && (s(&b["metadata"]["namespace"]) == ns
                        || s(&b["metadata"]["namespace"]).contains(&format!(
                            "kubernetes_namespace_v1.{}.",
                            ns.replace('-', "_")
                        )))
            })
            .unwrap_or_else(|| {
                panic!("{where_}: ConfigMap {ns}/{name} is not created by platform")
            });
        let pem = s(&made["data"][&key]);
        assert!(
            trusts_rds(pem, &region, ca),
            "{where_}: {name}[{key}] does not trust {ca} of {region}"
        );
        checked += 1;
    }
    checked
}

/// For every ECS task whose URL names an RDS instance, check that it trusts the instance's
/// CA: `<NAME>_CA_FILE` and the URL (`sslrootcert`) name a file on a task volume mounted
/// read only, which a container the app waits for (`dependsOn` `SUCCESS`, non-essential,
/// hardened) writes from a bundle trusting the CA the instance is given. Returns how many
/// RDS URLs were checked.
fn check_rds_trust_in_tasks(label: &str, out: &infragen::Output) -> usize {
    let region = region_of(out);
    let instances = rds_instances(out);
    let mut checked = 0;
    for td in resources(out, "infra", "aws_ecs_task_definition") {
        let family = s(&td["family"]);
        let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
        let defs = defs.as_array().unwrap();
        let by_name = |n: &str| defs.iter().find(|c| c["name"] == n);
        for c in defs {
            let env: Vec<&Value> = c["environment"].as_array().into_iter().flatten().collect();
            for e in &env {
                let (var, url) = (s(&e["name"]), s(&e["value"]));
                let where_ = format!("{label}: task {family} (container {})", s(&c["name"]));
                let Some(prefix) = var.strip_suffix("_URL") else {
                    continue;
                };
                let ca_var = format!("{prefix}_CA_FILE");
                let given = env.iter().find(|x| s(&x["name"]) == ca_var);
                let Some((scheme, rest)) = url.split_once("://${aws_db_instance.") else {
                    if url.starts_with("rediss://") || url.starts_with("amqps://") {
                        assert!(given.is_none(), "{where_}: {var}={url} gets a CA file");
                    }
                    continue;
                };
                let (_, ca) = &instances[rest.split('.').next().unwrap()];
                let given =
                    given.unwrap_or_else(|| panic!("{where_}: no {ca_var} beside {var}={url}"));
                let path = s(&given["value"]);
                if scheme == "postgresql" {
                    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
                    assert_eq!(
                        query
                            .split('&')
                            .find_map(|o| o.strip_prefix("sslrootcert=")),
                        Some(path),
                        "{where_}: {var}={url} does not name the CA file"
                    );
                }
                let (dir, _) = path.rsplit_once('/').unwrap();
                let mount = c["mountPoints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| s(&m["containerPath"]) == dir)
                    .unwrap_or_else(|| panic!("{where_}: nothing mounted at {dir}"));
                assert_eq!(mount["readOnly"], true, "{where_}: {dir} is writable");
                let volume = s(&mount["sourceVolume"]);
                let declared = td["volume"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["name"] == volume)
                    .unwrap_or_else(|| panic!("{where_}: the task declares no volume {volume}"));
                assert!(
                    declared.get("host").is_none()
                        && declared.get("efs_volume_configuration").is_none(),
                    "{where_}: {volume} is not the task's own bind mount: {declared}"
                );
                // The writer: reached through `dependsOn` `SUCCESS` from this container.
                let mut at = c;
                let writer = loop {
                    let dep = at["dependsOn"]
                        .as_array()
                        .and_then(|d| d.first())
                        .unwrap_or_else(|| {
                            panic!("{where_}: no container writing {path} runs before it")
                        });
                    assert_eq!(dep["condition"], "SUCCESS", "{where_}: {dep}");
                    at = by_name(s(&dep["containerName"])).unwrap();
                    let writes = at["mountPoints"].as_array().into_iter().flatten().any(|m| {
                        m["sourceVolume"] == volume
                            && m["containerPath"] == dir
                            && m["readOnly"] == false
                    });
                    if writes {
                        break at;
                    }
                };
                let w = s(&writer["name"]);
                assert_eq!(writer["essential"], false, "{where_}: {w} must exit");
                assert_eq!(writer["readonlyRootFilesystem"], true, "{where_}: {w}");
                assert_eq!(writer["privileged"], false, "{where_}: {w}");
                assert_eq!(
                    writer["linuxParameters"]["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{where_}: {w}"
                );
                assert_eq!(
                    writer["logConfiguration"], c["logConfiguration"],
                    "{where_}: {w} logs beside the app"
                );
                // Run it as ECS would (`entryPoint` + `command`, its `environment`), with
                // scratch directories standing for its volumes: the file it leaves trusts the CA.
                let scratch = tempfile::tempdir().unwrap();
                let (ok, at) = crate::support::run_ecs_container(writer, scratch.path());
                assert!(ok, "{where_}: {w} failed");
                let root = at[dir].to_str().unwrap();
                let written = std::fs::read_to_string(path.replace(dir, root))
                    .unwrap_or_else(|e| panic!("{where_}: {w} leaves no {path}: {e}"));
                assert!(
                    trusts_rds(&written, &region, ca),
                    "{where_}: {w} writes a bundle that does not trust {ca} of {region}"
                );
                checked += 1;
            }
        }
    }
    checked
}

/// A team on AWS using RDS PostgreSQL and MySQL, a cache and a broker, with a migration step
/// reading the app's environment and a job, outside the shipped blueprints' region.
const RDS_USERS: &str = r#"
databases:
  - { name: ledger, engine: postgres, version: "17", size: small, database_name: ledger, storage: { size_gb: 20 } }
  - { name: accounts, engine: mysql, version: "8.4", size: small, database_name: accounts, storage: { size_gb: 20 } }
caches:
  - { name: sessions, engine: redis, size: small }
queues:
  - { name: events, engine: rabbitmq, size: small }
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
    uses: [{ name: ledger, env_prefix: DB }, accounts, sessions, events]
    init:
      - { name: migrate, image: ghcr.io/acme/api:2.3.1, command: [npm, run, migrate], app_env: true }
    sidecars:
      - { name: log-shipper, image: "cr.fluentbit.io/fluent/fluent-bit:4.0.3" }
jobs:
  - name: nightly
    image: ghcr.io/acme/api:2.3.1
    schedule: "0 3 * * *"
    uses: [ledger]
"#;

/// The same team on EKS (`platform`: `eks`, `eks_fargate`) in eu-west-1.
fn on_eks(platform: &str) -> String {
    let pools = if platform == "eks" {
        "node_pools:\n  - { name: general, size: medium, min: 2, max: 3 }\n"
    } else {
        "fargate_profiles:\n  - { name: acme, namespaces: [acme] }\n  - { name: kube-system, namespaces: [kube-system] }\nkubernetes: { default_namespace: acme }\n"
    };
    format!(
        "name: acme
providers:
  aws: {{ region: eu-west-1 }}
state: {{ bucket: \"acme-state-{{env}}\" }}
network:
  cidr: 10.1.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  subnets:
    public: [10.1.0.0/24, 10.1.1.0/24]
    private: [10.1.10.0/24, 10.1.11.0/24]
    database: [10.1.20.0/24, 10.1.21.0/24]
cluster: {{ platform: {platform}, version: \"1.35\" }}
{pools}{RDS_USERS}"
    )
}

/// EKS and EKS on Fargate: the app container and the migration step (the same URL) trust
/// the eu-west-1 RDS CA for PostgreSQL and MySQL, and so does the job; the sidecar, which
/// reads no connection variables, and the cache and broker get no CA.
#[test]
fn eks_pods_using_rds_trust_its_ca() {
    for platform in ["eks", "eks_fargate"] {
        let out = crate::support::synth_aws("acme", &on_eks(platform))
            .unwrap_or_else(|e| panic!("{platform}: {e}"));
        assert_eq!(region_of(&out), "eu-west-1");
        // api: app and migrate, each PostgreSQL and MySQL; nightly: PostgreSQL.
        assert_eq!(check_rds_trust_in_pods(platform, &out), 5, "{platform}");
        let shipper = api_container(&out, "log-shipper");
        assert!(
            !shipper.to_string().contains("/etc/infragen/ca"),
            "{shipper}"
        );
        let text = crate::support::flatten(&out);
        for var in ["SESSIONS_CA_FILE", "EVENTS_CA_FILE", "SESSIONS_CA_CERT"] {
            assert!(
                !text.contains(var),
                "{platform}: {var}: a CA where none is needed"
            );
        }
        // The k8s checker's view: every object a pod mounts exists (tests/it/manifests.rs
        // checks preconditions); here, none is listed for the CA.
        assert!(!out.files["preconditions.json"].contains("CA_CERT"));
    }
}

/// ECS Fargate: the app container, the migration step and the job's task trust the
/// eu-west-1 RDS CA from a file a first container writes into the task's own volume.
#[test]
fn ecs_tasks_using_rds_trust_its_ca() {
    let out = crate::support::synth_aws("acme", &crate::support::ecs_stack("acme", RDS_USERS))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(region_of(&out), "eu-west-1");
    // api: app and migrate, each PostgreSQL and MySQL; nightly: PostgreSQL.
    assert_eq!(check_rds_trust_in_tasks("ecs", &out), 5);
    // The task definition stays far below ECS's 64 KiB.
    for td in resources(&out, "infra", "aws_ecs_task_definition") {
        let size = s(&td["container_definitions"]).len();
        assert!(size < 16 * 1024, "{}: {size} bytes", td["family"]);
    }
}

/// On ECS the CA writer's container name is taken: a blueprint container of that name would
/// make the task definition hold two (RegisterTaskDefinition refuses duplicates).
#[test]
fn the_ca_writers_name_is_reserved_on_ecs() {
    let clash = RDS_USERS.replace("name: log-shipper", "name: infragen-volumes");
    let err = crate::support::synth_aws("acme", &crate::support::ecs_stack("acme", &clash))
        .expect_err("a container named like the CA writer was accepted");
    assert!(
        err.contains("sidecars[0].name") && err.contains("already named `infragen-volumes`"),
        "{err}"
    );
}

/// Every vendored bundle trusts its region's CAs on the catalog's date, and covers the CA
/// infragen gives RDS instances; a region without one gets no CA file, with a warning.
#[test]
fn vendored_rds_bundles_cover_every_region_they_name() {
    use infragen::wiring::rds_ca;
    let mut regions = 0;
    for region in rds_ca::regions() {
        let certs = rds_ca::certificates(region).unwrap();
        for (id, pem) in certs {
            assert!(trusts_rds(pem, region, id), "{region} {id}");
        }
        assert!(
            trusts_rds(
                &rds_ca::bundle(region).unwrap(),
                region,
                rds_ca::CA_IDENTIFIER
            ),
            "{region}"
        );
        regions += 1;
    }
    assert!(regions >= 27, "{regions}");
    let elsewhere = crate::support::synth_aws(
        "acme",
        &crate::support::ecs_stack("acme", RDS_USERS).replace("eu-west-1", "il-central-1"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = crate::support::flatten(&elsewhere);
    assert!(!text.contains("_CA_FILE") && !text.contains("sslrootcert"));
    assert!(
        elsewhere
            .notes
            .iter()
            .any(|n| n.to_string().contains("il-central-1") && n.to_string().contains("CA")),
        "no warning about the missing bundle"
    );
}

/// qurable's API (seed 004, `src/config/database.ts`) configures TypeORM with `host`,
/// `username`, `password` and `database` from its variables and no `ssl`, so node-postgres
/// decides TLS from `PGSSLMODE` alone (`readSSLConfigFromEnvironment`: `prefer`, `require`,
/// `verify-ca`, `verify-full` turn it on; unset, it connects in plain text). RDS refuses
/// plain text (`rds.force_ssl`), and with TLS on node-postgres verifies the server against
/// Node's trust store, to which only `NODE_EXTRA_CA_CERTS` adds a CA. So the task must carry
/// both, the latter naming a file holding RDS's CA that exists when the app starts.
#[test]
fn qurables_typeorm_config_connects_over_tls_and_trusts_rds() {
    let path = crate::support::root().join("blueprints/qurable-ecs.yaml");
    for env in ["production", "staging"] {
        let out = synth(&path, Provider::Aws, env);
        let params = resources(&out, "infra", "aws_db_parameter_group");
        assert!(
            params.iter().any(|p| p["parameter"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|x| x["name"] == "rds.force_ssl" && x["value"] == "1")),
            "{env}: the premise — RDS refuses plain text"
        );
        let td = &resources(&out, "infra", "aws_ecs_task_definition")[0];
        let defs: Value = serde_json::from_str(s(&td["container_definitions"])).unwrap();
        let defs = defs.as_array().unwrap();
        let app = defs
            .iter()
            .find(|c| c["name"] == "qurable-backend")
            .unwrap();
        let var = |n: &str| {
            app["environment"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == n)
                .map(|e| s(&e["value"]).to_string())
        };
        for read in ["DB_HOST", "DB_MASTER_HOST", "DB_REPLICA_HOST", "DB_NAME"] {
            assert!(var(read).is_some(), "{env}: TypeORM reads {read}");
        }
        let mode = var("PGSSLMODE");
        assert!(
            matches!(
                mode.as_deref(),
                Some("prefer" | "require" | "verify-ca" | "verify-full")
            ),
            "{env}: PGSSLMODE {mode:?}: node-postgres would connect in plain text"
        );
        let ca = var("NODE_EXTRA_CA_CERTS")
            .unwrap_or_else(|| panic!("{env}: Node trusts no RDS CA without NODE_EXTRA_CA_CERTS"));
        // Written before the app starts, by the container it waits for, into a volume the
        // app mounts.
        let dep = s(&app["dependsOn"][0]["containerName"]);
        let setup = defs.iter().find(|c| c["name"] == dep).unwrap();
        let writes = s(&setup["command"][0]).matches(&format!("> {ca}")).count();
        // Once: the alias names the file `DB_CA_FILE` names.
        assert_eq!(writes, 1, "{env}: {ca} written {writes} times");
        let bundle = setup["environment"][0]["value"].as_str().unwrap();
        assert!(bundle.contains("-----BEGIN CERTIFICATE-----"), "{env}");
        let (dir, _) = ca.rsplit_once('/').unwrap();
        assert!(
            app["mountPoints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["containerPath"] == dir),
            "{env}: the app does not mount {dir}"
        );
    }
}

/// An RDS MySQL instance refuses plain-text connections (`require_secure_transport`), and
/// its URL cannot ask for TLS, so go-sql-driver, Node's mysql2 and PyMySQL — plain text
/// unless told — fail at connect. `synth` says so once per MySQL database, naming its
/// clients and the recipes; a PostgreSQL database, whose URL carries `sslmode=require`,
/// gets no such note.
#[test]
fn an_rds_mysql_database_names_the_clients_that_must_turn_tls_on() {
    let out = crate::support::synth_aws("acme", &crate::support::ecs_stack("acme", RDS_USERS))
        .unwrap_or_else(|e| panic!("{e}"));
    let notes: Vec<String> = out.notes.iter().map(|n| n.to_string()).collect();
    let tls: Vec<&String> = notes
        .iter()
        .filter(|n| n.contains("require_secure_transport"))
        .collect();
    assert_eq!(tls.len(), 1, "{notes:#?}");
    assert!(
        tls[0].contains("`accounts`")
            && tls[0].contains("`api`")
            && tls[0].contains("go-sql-driver")
            && tls[0].contains("MySQL clients and TLS"),
        "{}",
        tls[0]
    );
    // The job uses only `ledger` (PostgreSQL): not named.
    assert!(!tls[0].contains("`nightly`"), "{}", tls[0]);
    assert!(
        std::fs::read_to_string(crate::support::root().join("docs/connections.md"))
            .unwrap()
            .contains("### MySQL clients and TLS"),
        "the note points at a section docs/connections.md must have"
    );
}

/// DigitalOcean's managed databases take TLS connections only ("By default, you must use SSL
/// to transmit data", DigitalOcean, "How to Secure Clusters"). PostgreSQL's URL says so
/// (`sslmode=require`); a MySQL's cannot, so its clients that default to plain text fail at
/// connect exactly as against RDS — and DigitalOcean output said nothing. The same note,
/// naming the services that use it.
#[test]
fn a_digitalocean_mysql_database_names_the_clients_that_must_turn_tls_on() {
    let yaml = r#"name: acme
providers:
  digitalocean: { region: fra1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
databases:
  - { name: ledger, engine: postgres, version: "17", size: small, database_name: ledger }
  - { name: accounts, engine: mysql, version: "8", size: small, database_name: accounts }
services:
  - { name: api, image: ghcr.io/acme/api:2.3.1, port: 8080, uses: [ledger, accounts] }
  - { name: books, image: ghcr.io/acme/books:1.0.0, port: 8080, uses: [ledger] }
"#;
    let out = infragen::synthesize(
        "acme.yaml",
        yaml.as_bytes(),
        infragen::Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let notes: Vec<String> = out.notes.iter().map(|n| n.to_string()).collect();
    let tls: Vec<&String> = notes
        .iter()
        .filter(|n| n.contains("refuses connections without TLS"))
        .collect();
    assert_eq!(tls.len(), 1, "{notes:#?}");
    assert!(
        tls[0].contains("`accounts`")
            && tls[0].contains("DigitalOcean managed MySQL")
            && tls[0].contains("`api`")
            && tls[0].contains("go-sql-driver")
            && tls[0].contains("MySQL clients and TLS"),
        "{}",
        tls[0]
    );
    // `books` uses only the PostgreSQL database, whose URL asks for TLS itself.
    assert!(!tls[0].contains("`books`"), "{}", tls[0]);
}
