//! `rollout.next_image`: two versions of one service side by side on Kubernetes platforms
//! (round 11's `lumen-canary-gateway-eks.yaml`: a canary behind the Gateway API's weighted
//! backendRefs, and a blue/green pair). Before it both Deployments ran `image`.

use infragen::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, manifests, root, synth_aws};

const LUMEN: &str = "tests/fixtures/new-user/lumen-canary-gateway-eks.yaml";

/// The app container's image of every Deployment, by Deployment name.
fn images(docs: &[Value]) -> std::collections::BTreeMap<String, String> {
    docs.iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap().to_string();
            let app = d["metadata"]["labels"]["app.kubernetes.io/name"]
                .as_str()
                .unwrap();
            let c = d["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == app)
                .unwrap();
            (name, c["image"].as_str().unwrap().to_string())
        })
        .collect()
}

fn lumen(text: &str, provider: Provider) -> Vec<Value> {
    let out = infragen::synthesize("lumen.yaml", text.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    manifests(&out)
}

#[test]
fn the_second_deployment_runs_the_next_image() {
    let text = std::fs::read_to_string(root().join(LUMEN)).unwrap();
    for provider in [Provider::Aws, Provider::Kubernetes] {
        let docs = lumen(&text, provider);
        let images = images(&docs);
        assert_eq!(
            images["checkout"], "ghcr.io/lumen/checkout:3.3.2",
            "{provider}"
        );
        assert_eq!(
            images["checkout-canary"], "ghcr.io/lumen/checkout:3.4.0",
            "{provider}"
        );
        assert_eq!(
            images["search-blue"], "ghcr.io/lumen/search:5.0.4",
            "{provider}"
        );
        assert_eq!(
            images["search-green"], "ghcr.io/lumen/search:5.1.0",
            "{provider}"
        );
        // The canary's share goes to the Service that selects the canary track.
        let route = docs
            .iter()
            .find(|d| {
                d["kind"] == "HTTPRoute"
                    && d["spec"]["rules"][0]["backendRefs"][0]["name"] == "checkout"
            })
            .expect("checkout's HTTPRoute");
        let refs = &route["spec"]["rules"][0]["backendRefs"];
        assert_eq!(refs[0]["weight"], 80);
        assert_eq!(refs[1]["name"], "checkout-canary");
        assert_eq!(refs[1]["weight"], 20);
        let canary_svc = docs
            .iter()
            .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "checkout-canary")
            .unwrap();
        assert_eq!(canary_svc["spec"]["selector"]["track"], "canary");
    }
    // Switching `live` to green: the live colour runs `image`, the idle one `next_image`.
    let switched = text.replace("live: blue", "live: green");
    assert_ne!(switched, text);
    let images = images(&lumen(&switched, Provider::Aws));
    assert_eq!(images["search-green"], "ghcr.io/lumen/search:5.0.4");
    assert_eq!(images["search-blue"], "ghcr.io/lumen/search:5.1.0");
}

#[test]
fn next_image_is_refused_where_nothing_runs_it() {
    let text = std::fs::read_to_string(root().join(LUMEN)).unwrap();
    let rolling = text.replace("strategy: canary, canary_weight: 20,", "strategy: rolling,");
    assert_ne!(rolling, text);
    let e = synth_aws("lumen", &rolling).unwrap_err();
    assert!(
        e.contains("services[0].rollout.next_image") || e.contains("next_image"),
        "{e}"
    );
    assert!(e.contains("only `strategy: canary` or `blue_green`"), "{e}");
    assert!(e.contains("lumen.yaml:"), "positioned: {e}");

    let floating = text.replace("checkout:3.4.0", "checkout:latest");
    let e = synth_aws("lumen", &floating).unwrap_err();
    assert!(
        e.contains("`ghcr.io/lumen/checkout:latest` is not pinned"),
        "{e}"
    );

    let ecs = ecs_stack(
        "tern",
        "load_balancer: { certificate: { domain: tern.example.com } }\nservices:\n  - { name: web, image: nginx:1.27.3, port: 8080, routes: [{ path: / }], rollout: { strategy: canary, next_image: nginx:1.27.4 } }\n",
    );
    let e = synth_aws("tern", &ecs).unwrap_err();
    assert!(e.contains("ECS's blue/green and canary deployments"), "{e}");
}
