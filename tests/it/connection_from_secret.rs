//! `connection-from-secret`: a workload taking a connection value of a data component it
//! uses from a blueprint secret set out of band, in place of the one `uses` gives — the
//! pod then connects only once someone copies the generated address and password into it.

use infragen::Provider;

use crate::support::{matrix, synth};

fn warned(out: &infragen::Output) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some("connection-from-secret"))
        .map(|n| n.text.clone())
        .collect()
}

fn k8s(secrets: &str, database: &str, secret_env: &str) -> infragen::Output {
    let text = format!(
        "name: foundry
cluster: {{ platform: existing }}
secrets:
{secrets}
databases:
  - {database}
services:
  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    secret_env:
{secret_env}
    uses: [db]
"
    );
    infragen::synthesize(
        "foundry.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn a_generated_address_or_password_copied_into_a_secret_is_warned_about() {
    let out = k8s(
        "  - { name: app-db, keys: [host, password] }\n  - { name: api, keys: [token] }",
        "{ name: db, engine: postgres, deployment: in_cluster }",
        "      - { name: DB_HOST, secret: app-db, key: host }
      - { name: DB_PASSWORD, secret: app-db, key: password }
      - { name: API_TOKEN, secret: api, key: token }",
    );
    let w = warned(&out);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains("`orders` takes `DB_HOST`, `DB_PASSWORD` from secret `app-db`")
            && !w[0].contains("API_TOKEN"),
        "{}",
        w[0]
    );
    // The component's own credentials secret is where `uses` reads them anyway.
    let own = k8s(
        "  - { name: db-creds, keys: [username, password] }",
        "{ name: db, engine: postgres, deployment: in_cluster, in_cluster: { credentials_secret: db-creds } }",
        "      - { name: DB_PASSWORD, secret: db-creds, key: password }",
    );
    assert!(warned(&own).is_empty(), "{:#?}", warned(&own));
}

#[test]
fn no_shipped_blueprint_copies_a_connection_into_a_secret() {
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        assert!(
            warned(&out).is_empty(),
            "{stem} {provider:?} {env}: {:#?}",
            warned(&out)
        );
    }
}
