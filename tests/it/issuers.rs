//! `ingress.tls.issuer` names a ClusterIssuer. When the blueprint declares none, nothing in
//! the output installs cert-manager or creates that issuer, so no certificate would ever be
//! issued into `tls.secret_name`: the cloud back-ends refuse it at the issuer (invalid case
//! `ingress-issuer-undeclared.yaml`), and on an existing cluster, which may hold the issuer,
//! it is a listed precondition.

use infragen::Provider;

const BLUEPRINT: &str = r#"
name: notes
providers:
  aws: { region: eu-central-1 }
  digitalocean: { region: fra1 }
  kubernetes: { context: prod }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
services:
  - name: web
    image: ghcr.io/example/notes-web:3.1.0
    port: 3000
    routes: [{ path: / }]
ingress:
  hosts: [notes.example.com]
  tls: { secret_name: notes-tls, issuer: letsencrypt }
"#;

#[test]
fn an_undeclared_issuer_is_refused_on_clouds_and_listed_on_an_existing_cluster() {
    let Err(err) = infragen::synthesize(
        "n.yaml",
        BLUEPRINT.as_bytes(),
        Provider::Digitalocean,
        "prod",
    ) else {
        panic!("refused on DigitalOcean");
    };
    let text = err.to_string();
    assert!(
        text.contains("ingress.tls.issuer") && text.contains("letsencrypt"),
        "{text}"
    );
    let out = infragen::synthesize("n.yaml", BLUEPRINT.as_bytes(), Provider::Kubernetes, "prod")
        .expect("an existing cluster may hold the issuer");
    let pre: serde_json::Value =
        serde_json::from_str(out.files.get("preconditions.json").unwrap()).unwrap();
    let listed = pre
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["kind"] == "ClusterIssuer" && p["name"] == "letsencrypt");
    assert!(listed, "{pre:#}");
    // Declared, it is made (and cert-manager installed on the clouds): no refusal.
    let declared = BLUEPRINT.replace(
        "services:",
        "kubernetes:\n  ingress_controller: { kind: nginx }\n  issuers:\n    - { name: letsencrypt, kind: acme, server: \"https://acme-v02.api.letsencrypt.org/directory\", email: ops@example.com }\nservices:",
    );
    let out = infragen::synthesize(
        "n.yaml",
        declared.as_bytes(),
        Provider::Digitalocean,
        "prod",
    )
    .expect("declared issuer");
    assert!(
        out.files
            .values()
            .any(|f| f.contains("kind: ClusterIssuer") && f.contains("name: letsencrypt")),
        "the ClusterIssuer is in the manifests"
    );
}
