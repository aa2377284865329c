//! `tls-in-cluster`: a connection string built by hand for a managed service asks for TLS
//! (`sslmode=require`, `rediss://`), and the component runs in the cluster on this provider,
//! where the official images serve none: the workload would never connect. The generated
//! `_URL` asks for TLS exactly where the server has it, which the new-user fixtures use.

use infragen::Provider;

use crate::support::{root, synth};

fn warned(text: &str, provider: Provider) -> Vec<String> {
    infragen::synthesize("x.yaml", text.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("tls-in-cluster"))
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn a_managed_url_against_in_cluster_postgres_is_warned_about() {
    let path = root().join("tests/fixtures/new-user/quill-django-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "DATABASE_URL: \"$(DB_URL)\"",
        "DATABASE_URL: \"postgres://$(DB_HOST):$(DB_PORT)/$(DB_DATABASE)?sslmode=require\"",
    );
    // In the cluster (`--provider kubernetes`): web and worker build it.
    let k8s = warned(&text, Provider::Kubernetes);
    assert_eq!(k8s.len(), 2, "{k8s:#?}");
    assert!(
        k8s.iter()
            .all(|w| w.contains("`quill-db` runs in the cluster") && w.contains("`$(DB_URL)`")),
        "{k8s:#?}"
    );
    // RDS serves TLS: nothing to say on AWS.
    assert!(warned(&text, Provider::Aws).is_empty());
    // The fixture as written uses the generated URL.
    for provider in [Provider::Aws, Provider::Kubernetes] {
        assert!(
            synth(&path, provider, "production")
                .notes
                .iter()
                .all(|n| n.rule != Some("tls-in-cluster"))
        );
    }
}

#[test]
fn rediss_against_in_cluster_redis_is_warned_about() {
    let path = root().join("tests/fixtures/new-user/harbor-k8s.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "env: { SMTP_HOST: smtp.mailgun.org, SMTP_PORT: \"587\" }",
        "env: { SMTP_HOST: smtp.mailgun.org, SMTP_PORT: \"587\", REDIS_URL: \"rediss://:$(QUEUE_PASSWORD)@$(QUEUE_HOST):$(QUEUE_PORT)/0\" }",
    );
    let w = warned(&text, Provider::Kubernetes);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].starts_with("`notifier`: `REDIS_URL` asks for TLS (`rediss://`)"),
        "{}",
        w[0]
    );
}
