//! PodDisruptionBudgets against the pods they guard: every budget written must let at least
//! one pod be evicted while its workload is at rest (the Deployment's replicas, or its
//! HPA's minimum; a StatefulSet's replicas), or node drains, autoscaler scale-in and
//! node-pool upgrades wait on it forever. A blueprint asking for such a budget is refused
//! at synth with its position.

use infragen::Provider;
use serde_json::Value;

use crate::support::{manifests, matrix, root, synth};

fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Pods the budget's workloads run at rest, summed over every workload it selects.
fn pods_at_rest(docs: &[Value], pdb: &Value) -> u32 {
    let ns = &pdb["metadata"]["namespace"];
    let selector = &pdb["spec"]["selector"]["matchLabels"];
    let mut pods = 0;
    for w in docs {
        if !matches!(w["kind"].as_str(), Some("Deployment" | "StatefulSet"))
            || &w["metadata"]["namespace"] != ns
            || !selects(selector, &w["spec"]["template"]["metadata"]["labels"])
        {
            continue;
        }
        let hpa = docs.iter().find(|h| {
            h["kind"] == "HorizontalPodAutoscaler"
                && &h["metadata"]["namespace"] == ns
                && h["spec"]["scaleTargetRef"]["kind"] == w["kind"]
                && h["spec"]["scaleTargetRef"]["name"] == w["metadata"]["name"]
        });
        pods += match hpa {
            Some(h) => h["spec"]["minReplicas"].as_u64().unwrap_or(1),
            // Without `replicas` the API server defaults to one.
            None => w["spec"]["replicas"].as_u64().unwrap_or(1),
        } as u32;
    }
    pods
}

/// Evictions allowed, as the disruption controller computes them (percentages of the
/// expected pods rounded up).
fn allowed(spec: &Value, pods: u32) -> u32 {
    let scaled = |v: &Value| match v {
        Value::Number(n) => n.as_u64().unwrap() as u32,
        Value::String(s) => {
            let p: u32 = s.strip_suffix('%').unwrap().parse().unwrap();
            (pods * p).div_ceil(100)
        }
        other => panic!("not an int-or-string: {other}"),
    };
    if let Some(m) = spec.get("minAvailable") {
        pods.saturating_sub(scaled(m))
    } else {
        scaled(&spec["maxUnavailable"]).min(pods)
    }
}

#[test]
fn every_budget_lets_a_node_drain() {
    let mut budgets = 0;
    let mut problems = Vec::new();
    for (stem, path, provider, env) in matrix() {
        let docs = manifests(&synth(&path, provider, &env));
        for pdb in docs.iter().filter(|d| d["kind"] == "PodDisruptionBudget") {
            let name = pdb["metadata"]["name"].as_str().unwrap();
            let pods = pods_at_rest(&docs, pdb);
            assert!(
                pods > 0,
                "{stem} {provider} {env}: {name} selects no workload"
            );
            if allowed(&pdb["spec"], pods) == 0 {
                problems.push(format!(
                    "{stem} --provider {provider} --env {env}: {name} allows no eviction of its {pods} pod(s)"
                ));
            }
            budgets += 1;
        }
    }
    assert!(budgets > 0, "no PodDisruptionBudget in the matrix");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// techshop with `edit` applied to its text, synthesized for an existing cluster.
fn techshop(edit: impl Fn(String) -> String, env: &str) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join("blueprints/techshop.yaml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit applies");
    infragen::synthesize(
        "blueprints/techshop.yaml",
        edited.as_bytes(),
        Provider::Kubernetes,
        env,
    )
    .map_err(|d| d.to_string())
}

#[test]
fn a_budget_that_blocks_every_drain_is_refused() {
    // Development runs one replica; without its `pdb: null` it would inherit production's
    // `min_available: "2"`.
    let err = techshop(
        |t| t.replace("        pdb: null", "        pdb: { min_available: \"2\" }"),
        "development",
    )
    .unwrap_err();
    assert!(
        err.contains("`services[0].pdb.min_available`")
            && err.contains("allows no pod to be evicted")
            && err.contains("blueprints/techshop.yaml:"),
        "{err}"
    );

    // Production: the HPA's minimum of 3 pods, all required.
    let err = techshop(
        |t| {
            t.replace(
                "min_available: \"2\" # techshop-app-pdb",
                "min_available: \"100%\"",
            )
        },
        "production",
    )
    .unwrap_err();
    assert!(err.contains("3 pod(s) at rest"), "{err}");
    assert!(err.contains("min_available: \"2\""), "{err}");

    let err = techshop(
        |t| {
            t.replace(
                "min_available: \"2\" # techshop-app-pdb",
                "max_unavailable: \"0\"",
            )
        },
        "production",
    )
    .unwrap_err();
    assert!(err.contains("`services[0].pdb.max_unavailable`"), "{err}");

    let err = techshop(
        |t| {
            t.replace(
                "min_available: \"2\" # techshop-app-pdb",
                "min_available: \"two\"",
            )
        },
        "production",
    )
    .unwrap_err();
    assert!(err.contains("is not a pod count or a percentage"), "{err}");

    // What still lets one pod go is written as asked.
    let out = techshop(
        |t| {
            t.replace(
                "min_available: \"2\" # techshop-app-pdb",
                "max_unavailable: \"34%\"",
            )
        },
        "production",
    )
    .unwrap();
    let docs = manifests(&out);
    let pdb = docs
        .iter()
        .find(|d| d["kind"] == "PodDisruptionBudget" && d["metadata"]["name"] == "techshop-app-pdb")
        .unwrap();
    assert_eq!(pdb["spec"]["maxUnavailable"], "34%");
    assert_eq!(allowed(&pdb["spec"], pods_at_rest(&docs, pdb)), 2);
}

/// The ingress-nginx controller carries every routed request of the cluster. The chart runs
/// one replica by default and renders its PodDisruptionBudget only above one
/// (`templates/controller-poddisruptionbudget.yaml`), so with the blueprint's `replicas`
/// left out each node drain — a managed node group's rolling update, node repair, the
/// Cluster Autoscaler's scale-in — took the whole edge down until a new pod was ready and
/// registered with the load balancer. Every release `platform` installs runs at least two
/// controllers at rest, so the chart's budget keeps one serving through a drain.
#[test]
fn the_ingress_controller_keeps_serving_through_a_node_drain() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        for nginx in crate::support::resources(&out, "platform", "helm_release")
            .into_iter()
            .filter(|r| r["chart"] == "ingress-nginx")
        {
            let values: Value = serde_json::from_str(nginx["values"][0].as_str().unwrap()).unwrap();
            let c = &values["controller"];
            let at_rest = if c["autoscaling"]["enabled"] == true {
                c["autoscaling"]["minReplicas"].as_u64()
            } else {
                c["replicaCount"].as_u64()
            }
            // The chart's default.
            .unwrap_or(1);
            assert!(
                at_rest >= 2,
                "{stem} --provider {provider} --env {env}: ingress-nginx runs {at_rest} controller(s) at rest, so the chart writes no PodDisruptionBudget and a drain stops the edge"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no ingress-nginx release was checked");
}
