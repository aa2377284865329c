//! Do the pods trust the TLS certificate of the managed database they connect to?
//!
//! A MongoDB driver given `tls=true` verifies the server's certificate against the
//! container's trust store. DigitalOcean signs its managed MongoDB clusters' certificates
//! with its own CA (`GET /v2/databases/{uuid}/ca`), which no image trusts: without that CA
//! every connection fails ("self signed certificate in certificate chain"). So a pod whose
//! URL names a DigitalOcean MongoDB reads it from a file Terraform fills from
//! `data "digitalocean_database_ca"` for that very cluster, mounted read only, named by the
//! URL (`tlsCAFile`) and by `<NAME>_CA_FILE`.
//!
//! Where the certificate is publicly trusted (DigitalOcean Valkey: Let's Encrypt; AWS
//! ElastiCache, Amazon MQ) or the URL does not verify (`sslmode=require`), nothing changes:
//! a `tlsCAFile` replaces the trust store in most drivers, so it is never added there.

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
fn check_digitalocean_trust(label: &str, out: &infragen::Output) -> BTreeMap<String, usize> {
    let cas = data_sources(out, "platform", "digitalocean_database_ca");
    let mut checked = BTreeMap::new();
    for d in &manifests(out) {
        let Some(pod) = pod_spec(d) else { continue };
        let workload = s(&d["metadata"]["name"]);
        let containers = pod["containers"]
            .as_array()
            .into_iter()
            .chain(pod["initContainers"].as_array())
            .flatten();
        for c in containers {
            let env: Vec<&Value> = c["env"].as_array().into_iter().flatten().collect();
            for e in &env {
                let var = s(&e["name"]);
                let Some(url) = env_value(out, e) else {
                    continue;
                };
                let Some((scheme, rest)) =
                    url.split_once("://${data.digitalocean_database_cluster.")
                else {
                    continue;
                };
                let cluster = rest.split('.').next().unwrap();
                let where_ = format!("{label}: {workload} (container {})", s(&c["name"]));
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
                let given =
                    given.unwrap_or_else(|| panic!("{where_}: no {ca_var} beside {var}={url}"));
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
                let secret = s(&volume["secret"]["secretName"]);
                let key = volume["secret"]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| s(&i["path"]) == file)
                    .map(|i| s(&i["key"]).to_string())
                    .unwrap_or_else(|| panic!("{where_}: volume {secret} has no item {file}"));
                // …of the Secret Terraform writes, from the CA of the URL's own cluster.
                let data =
                    platform_object(out, "kubernetes_secret_v1", secret).unwrap_or_else(|| {
                        panic!("{where_}: no Secret {secret} in the platform module")
                    });
                let value = s(&data[&key]);
                let source = value
                    .strip_prefix("${data.digitalocean_database_ca.")
                    .and_then(|r| r.strip_suffix(".certificate}"))
                    .unwrap_or_else(|| {
                        panic!("{where_}: {secret}[{key}] = {value:?}, not a database CA")
                    });
                assert_eq!(
                    s(&cas[source]["cluster_id"]),
                    format!("${{data.digitalocean_database_cluster.{cluster}.id}}"),
                    "{where_}: the CA read is not the URL's cluster's"
                );
                *checked.entry(scheme.to_string()).or_default() += 1;
            }
        }
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
    let api = manifests(&out)
        .into_iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .unwrap();
    let pod = &api["spec"]["template"]["spec"];
    let shipper = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "log-shipper")
        .unwrap();
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

/// AWS's managed services present publicly trusted certificates (ElastiCache, Amazon MQ) or
/// get URLs that do not verify (RDS, `sslmode=require`): no output of a shipped blueprint on
/// AWS names a CA file. On DigitalOcean every managed database URL trusts its CA.
#[test]
fn only_provider_signed_servers_get_a_ca_file() {
    let (mut aws, mut digitalocean) = (0, 0);
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        match provider {
            Provider::Digitalocean => {
                digitalocean += check_digitalocean_trust(&format!("{stem} {env}"), &out)
                    .values()
                    .sum::<usize>();
            }
            _ => {
                let text = crate::support::flatten(&out);
                assert!(
                    !text.contains("tlsCAFile")
                        && !text.contains("sslrootcert")
                        && !text.contains("_CA_FILE"),
                    "{stem} {provider} {env}: a CA file on a provider whose servers are publicly trusted"
                );
                aws += 1;
            }
        }
    }
    assert!(aws >= 10, "only {aws} outputs checked");
    assert!(
        digitalocean >= 4,
        "only {digitalocean} DigitalOcean URLs checked"
    );
}
