//! On DigitalOcean, `observability.notify` hears of the slow outages too, not only of a public
//! host that is already down: every managed database and cache, and the DOKS nodes, have
//! monitor alerts e-mailing the blueprint's addresses — each aimed at this output's own
//! resources (a policy naming no entity and no tag watches every resource of the account),
//! with a type, comparison and window DigitalOcean's API and provider accept.

use std::collections::BTreeSet;

use infragen::Provider;
use serde_json::Value;

use crate::support::{cloud_outputs, resources, root};

const BLOG: &str = "tests/fixtures/new-user/blog-doks.yaml";

/// The provider's `type` list for `digitalocean_monitor_alert` (resource_monitor_alert.go,
/// godo's constants) that these alerts may use, and its `window` list.
const TYPES: &[&str] = &[
    "v1/dbaas/alerts/disk_utilization_alerts",
    "v1/dbaas/alerts/cpu_alerts",
    "v1/dbaas/alerts/memory_utilization_alerts",
    "v1/insights/droplet/memory_utilization_percent",
    "v1/insights/droplet/disk_utilization_percent",
];
const WINDOWS: &[&str] = &["5m", "10m", "30m", "1h"];

/// blog-doks with `notify`, its cache managed and a read-only replica of `accounts`.
fn blog(notify: &str) -> infragen::Output {
    let text = std::fs::read_to_string(root().join(BLOG)).unwrap();
    let edited = text
        .replace(
            "    deployment: in_cluster\n    auth_token_secret: fragments-auth\n",
            "    size: small\n",
        )
        .replace("username: blog }", "username: blog, replicas: 1 }")
        .replace(
            "registry: { name: blog",
            &format!("{notify}registry: {{ name: blog"),
        );
    assert!(
        !edited.contains("in_cluster") && edited.contains("replicas: 1"),
        "fixture changed"
    );
    infragen::synthesize(
        BLOG,
        edited.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The keys of the resources of type `ty` in `infra`.
fn keys(out: &infragen::Output, ty: &str) -> BTreeSet<String> {
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with("terraform/infra/"))
        .flat_map(|(_, t)| {
            let doc: Value = serde_json::from_str(t).unwrap();
            doc["resource"][ty]
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_managed_database_and_the_nodes_are_watched_for_notify() {
    let out = blog(
        "observability: { notify: [ops@example.org, \"https://events.pagerduty.com/integration/k/enqueue\"] }\n",
    );
    let alerts = resources(&out, "infra", "digitalocean_monitor_alert");
    for a in &alerts {
        // Exactly the e-mail addresses: the PagerDuty endpoint has no place in an alert.
        assert_eq!(
            a["alerts"],
            serde_json::json!([{"email": ["ops@example.org"]}]),
            "{a}"
        );
        assert_eq!(a["compare"], "GreaterThan", "{a}");
        assert!(TYPES.contains(&s(&a["type"])), "{a}");
        assert!(WINDOWS.contains(&s(&a["window"])), "{a}");
    }
    // Each managed cluster — MongoDB, MySQL and the Valkey cache — by its own id, for disk,
    // CPU and memory; the read-only replica is no entity (a cluster UUID is, per the API).
    let clusters = keys(&out, "digitalocean_database_cluster");
    assert_eq!(
        clusters,
        ["accounts", "content", "fragments"]
            .map(String::from)
            .into(),
        "fixture changed"
    );
    for cluster in &clusters {
        let entity = format!("${{digitalocean_database_cluster.{cluster}.id}}");
        let mut watched: Vec<&str> = alerts
            .iter()
            .filter(|a| a["entities"] == serde_json::json!([entity]))
            .map(|a| s(&a["type"]))
            .collect();
        watched.sort_unstable();
        assert_eq!(
            watched,
            [
                "v1/dbaas/alerts/cpu_alerts",
                "v1/dbaas/alerts/disk_utilization_alerts",
                "v1/dbaas/alerts/memory_utilization_alerts"
            ],
            "{cluster}"
        );
    }
    // The nodes of every pool, by the tag DOKS gives them: `k8s:<cluster id>`.
    let mut nodes: Vec<&str> = alerts
        .iter()
        .filter(|a| {
            a["tags"] == serde_json::json!(["k8s:${digitalocean_kubernetes_cluster.main.id}"])
        })
        .map(|a| s(&a["type"]))
        .collect();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        [
            "v1/insights/droplet/disk_utilization_percent",
            "v1/insights/droplet/memory_utilization_percent"
        ]
    );
    assert_eq!(alerts.len(), clusters.len() * 3 + 2, "nothing else");
    // Said, with the endpoint left out.
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("monitor alerts e-mail ops@example.org")
                && n.text
                    .contains("https://events.pagerduty.com/integration/k/enqueue not notified")),
        "{:?}",
        out.notes
    );

    // Without `notify`, no alert; with only an endpoint, none either, and the note says that
    // nobody is notified.
    assert!(resources(&blog(""), "infra", "digitalocean_monitor_alert").is_empty());
    let endpoint_only = blog(
        "observability: { notify: [\"https://events.pagerduty.com/integration/k/enqueue\"] }\n",
    );
    assert!(resources(&endpoint_only, "infra", "digitalocean_monitor_alert").is_empty());
    assert!(
        endpoint_only
            .notes
            .iter()
            .any(|n| n.text.contains("nobody is notified")),
        "{:?}",
        endpoint_only.notes
    );
}

/// With no public host to check, the databases and nodes still page, and the note does not
/// claim that nobody is notified.
#[test]
fn without_a_public_host_notify_still_hears_of_the_databases() {
    let text = std::fs::read_to_string(root().join(BLOG)).unwrap();
    let edited = text.replace("    routes: [{ path: / }]\n", "").replace(
        "registry: { name: blog",
        "observability: { notify: [ops@example.org] }\nregistry: { name: blog",
    );
    let out = infragen::synthesize(
        BLOG,
        edited.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert!(resources(&out, "infra", "digitalocean_uptime_check").is_empty());
    assert!(!resources(&out, "infra", "digitalocean_monitor_alert").is_empty());
    assert!(
        !out.notes
            .iter()
            .any(|n| n.text.contains("nobody is notified")),
        "{:?}",
        out.notes
    );
}

/// Over every shipped DigitalOcean output: no monitor alert watches the whole account (a
/// policy with neither `entities` nor `tags` applies to every resource of its type the account
/// owns), every entity is a resource of the same module, and every Uptime alert names its
/// `period` — the API's "Create a New Alert" requires it, and one the API filled in itself
/// would show as a change at every plan (the provider reads it back, Optional, not Computed).
#[test]
fn digitalocean_alerts_aim_at_this_outputs_resources_and_name_their_period() {
    let mut seen = 0;
    for (label, out) in cloud_outputs()
        .into_iter()
        .filter(|(l, _)| l.contains(" digitalocean "))
    {
        for a in resources(&out, "infra", "digitalocean_monitor_alert") {
            seen += 1;
            let targets: Vec<&str> = a["entities"]
                .as_array()
                .into_iter()
                .chain(a["tags"].as_array())
                .flatten()
                .map(s)
                .collect();
            assert!(!targets.is_empty(), "{label}: account-wide {a}");
            for t in &a["entities"].as_array().cloned().unwrap_or_default() {
                let address = s(t)
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix(".id}"))
                    .unwrap_or_else(|| panic!("{label}: {t}"));
                let (ty, key) = address.split_once('.').unwrap();
                assert!(
                    keys(&out, ty).contains(key),
                    "{label}: {address} not in infra"
                );
            }
        }
        for a in resources(&out, "infra", "digitalocean_uptime_alert") {
            assert!(
                ["2m", "3m", "5m", "10m", "15m", "30m", "1h"].contains(&s(&a["period"])),
                "{label}: {a}"
            );
        }
    }
    assert!(
        seen > 0,
        "no shipped DigitalOcean output has notify any more"
    );
}
