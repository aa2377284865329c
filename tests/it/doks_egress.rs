//! A fixed outbound address on DigitalOcean (`providers.digitalocean.nat: single`) and the
//! DigitalOcean tags infragen writes.
//!
//! The VPC NAT gateway is attached to the stack's own VPC as its default gateway, the DOKS
//! routing agent is turned on, and `platform` gives the agent a Route sending every node's
//! default route through the gateway's private address (DigitalOcean's documented path,
//! `backend::digitalocean::egress`); `infra` outputs the gateway's public addresses as
//! `nat_public_ips`, the name the AWS output has. Where no gateway can serve the cluster the
//! blueprint is refused (`tests/invalid/do-nat-*.yaml`).

use infragen::Provider;
use serde_json::Value;

use crate::support::root;

fn doc(out: &infragen::Output, file: &str) -> Value {
    serde_json::from_str(
        out.files
            .get(file)
            .unwrap_or_else(|| panic!("no {file} in {:?}", out.files.keys())),
    )
    .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn synth(yaml: &str, env: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Digitalocean, env)
        .map_err(|d| d.to_string())
}

/// `ecommerce-doks.yaml` with `extra` added to the base `providers.digitalocean`.
fn ecommerce(extra: &str) -> String {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let at = "    spaces_region: nyc3\n";
    assert!(yaml.contains(at));
    yaml.replacen(at, &format!("{at}{extra}"), 1)
}

/// The gateway, the routing agent, the Route and the output, as one environment has them.
struct Egress {
    gateway: Option<Value>,
    routing_agent: Option<Value>,
    route: Option<Value>,
    gateway_read: Option<Value>,
    output: Option<Value>,
}

fn egress(out: &infragen::Output) -> Egress {
    let platform = |kind: &str, ty: &str, name: &str| {
        out.files
            .iter()
            .filter(|(p, _)| p.starts_with("terraform/platform/"))
            .map(|(_, t)| serde_json::from_str::<Value>(t).unwrap())
            .find_map(|d| d.get(kind)?.get(ty)?.get(name).cloned())
    };
    let cluster =
        doc(out, "terraform/infra/cluster.tf.json")["resource"]["digitalocean_kubernetes_cluster"]
            ["main"]
            .clone();
    Egress {
        gateway: doc(out, "terraform/infra/network.tf.json")["resource"]
            .get("digitalocean_vpc_nat_gateway")
            .and_then(|g| g.get("egress").cloned()),
        routing_agent: cluster.get("routing_agent").cloned(),
        route: platform("resource", "kubernetes_manifest", "egress_route"),
        gateway_read: platform("data", "digitalocean_vpc_nat_gateway", "egress"),
        output: doc(out, "terraform/infra/outputs.tf.json")["output"]
            .get("nat_public_ips")
            .cloned(),
    }
}

#[test]
fn nat_single_routes_the_cluster_through_a_gateway_attached_to_the_stacks_vpc() {
    let out = synth(&ecommerce("    nat: single\n"), "production").unwrap();
    let e = egress(&out);

    // The gateway: public, in the cluster's region, the stack's VPC's default gateway.
    let gw = e.gateway.expect("a digitalocean_vpc_nat_gateway in infra");
    let cluster =
        doc(&out, "terraform/infra/cluster.tf.json")["resource"]["digitalocean_kubernetes_cluster"]
            ["main"]
            .clone();
    assert_eq!(gw["type"], "PUBLIC", "{gw}");
    assert_eq!(gw["region"], cluster["region"], "{gw}");
    let vpcs = gw["vpcs"].as_array().expect("vpcs");
    assert_eq!(vpcs.len(), 1, "{gw}");
    assert_eq!(vpcs[0]["vpc_uuid"], cluster["vpc_uuid"], "{gw}");
    assert_eq!(vpcs[0]["vpc_uuid"], "${digitalocean_vpc.main.id}", "{gw}");
    // Not the VPC's default gateway (that routes Private Droplets, not DOKS nodes), as in
    // DigitalOcean's reference architecture.
    assert!(vpcs[0].get("default_gateway").is_none(), "{gw}");

    // The cluster runs the routing agent, and `platform` gives it a default route through
    // the private address of the very gateway `infra` created (read by its name).
    assert_eq!(
        e.routing_agent,
        Some(serde_json::json!({"enabled": true})),
        "{cluster}"
    );
    let read = e.gateway_read.expect("the gateway read in platform");
    assert_eq!(read["name"], gw["name"], "{read}");
    let route = e.route.expect("a Route in platform")["manifest"].clone();
    assert_eq!(
        route["apiVersion"],
        "networking.doks.digitalocean.com/v1alpha1"
    );
    assert_eq!(route["kind"], "Route");
    assert_eq!(
        route["spec"]["destinations"],
        serde_json::json!(["0.0.0.0/0"])
    );
    assert_eq!(
        route["spec"]["gateways"],
        serde_json::json!(["${one(data.digitalocean_vpc_nat_gateway.egress.vpcs).gateway_ip}"]),
        "{route}"
    );
    assert!(
        route["metadata"].get("namespace").is_none(),
        "a Route is the nodes' own, of no namespace: {route}"
    );

    // What the partner allow-lists, under the AWS output's name.
    let output = e.output.expect("nat_public_ips in infra");
    let value = output["value"].as_str().unwrap();
    assert!(
        value.contains("digitalocean_vpc_nat_gateway.egress.egresses")
            && value.contains("public_gateways")
            && value.contains("ipv4"),
        "{value}"
    );
}

/// Off unless asked for, and per environment through the overlay.
#[test]
fn without_nat_nothing_changes_and_an_environment_may_ask_for_it_alone() {
    for extra in ["", "    nat: none\n"] {
        for env in ["stage", "production"] {
            let e = egress(&synth(&ecommerce(extra), env).unwrap());
            assert!(e.gateway.is_none(), "{extra:?} {env}");
            assert!(e.routing_agent.is_none(), "{extra:?} {env}");
            assert!(
                e.route.is_none() && e.gateway_read.is_none(),
                "{extra:?} {env}"
            );
            assert!(e.output.is_none(), "{extra:?} {env}");
        }
    }
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let at = "  production:\n";
    assert!(yaml.contains(at));
    let per_env = yaml.replacen(
        at,
        &format!("{at}    providers: {{ digitalocean: {{ nat: single }} }}\n"),
        1,
    );
    let production = egress(&synth(&per_env, "production").unwrap());
    assert!(production.gateway.is_some() && production.route.is_some());
    let stage = egress(&synth(&per_env, "stage").unwrap());
    assert!(stage.gateway.is_none() && stage.route.is_none());
}

/// The Route needs `platform` even where nothing else would make one (no ingress, no
/// managed data services, nothing autoscaled).
#[test]
fn a_bare_cluster_still_gets_its_route() {
    let yaml = "name: shop\nproviders:\n  digitalocean: { region: fra1, nat: single }\nnetwork: { cidr: 10.40.0.0/16 }\ncluster: { platform: doks, version: \"1.35\" }\nnode_pools:\n  - { name: general, size: medium, min: 2, max: 2 }\nservices:\n  - { name: web, image: ghcr.io/acme/web:1.0.0, port: 8080 }\n";
    let e = egress(&synth(yaml, "production").unwrap());
    assert!(e.gateway.is_some());
    assert!(
        e.route.is_some(),
        "no Route: the platform module was left out"
    );
}

/// `infragen validate` passes the output (types, arguments, block shapes, references
/// against the pinned provider schemas), the Route included.
#[test]
fn the_nat_output_passes_the_schema_checks() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("shop.yaml"), ecommerce("    nat: single\n")).unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
            .current_dir(t.path())
            .args(args)
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {text}");
        text
    };
    run(&[
        "synth",
        "--provider",
        "digitalocean",
        "--env",
        "production",
        "--blueprint",
        "shop.yaml",
        "--out",
        "out",
    ]);
    let text = run(&["validate", "out"]);
    assert!(text.contains(", 0 problems"), "{text}");
    assert!(
        t.path()
            .join("out/terraform/platform/egress.tf.json")
            .exists(),
        "{text}"
    );
}

/// Every tag infragen writes on DigitalOcean is one the API takes — `^[a-zA-Z0-9_\-\:]+$`,
/// at most 255 characters — or the blueprint is refused at the tag, whatever the tags hold.
#[test]
fn every_digitalocean_tag_written_is_one_the_api_takes_or_the_tag_is_refused() {
    let long = "x".repeat(260);
    let cases = [
        ("owner", "ops@example.com"),
        ("cost.center", "eng/platform 7"),
        ("notes", long.as_str()),
        ("équipe", "données"),
        ("k8s", "web"),
        ("terraform", "managed"),
    ];
    for (k, v) in cases {
        let yaml = format!(
            "name: shop\ntags: {{ \"{k}\": \"{v}\" }}\nproviders:\n  digitalocean: {{ region: fra1 }}\nnetwork: {{ cidr: 10.40.0.0/16 }}\ncluster: {{ platform: doks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, max: 3 }}\ndatabases:\n  - {{ name: orders, engine: postgres, size: small, storage: {{ size_gb: 20 }} }}\nservices:\n  - {{ name: web, image: ghcr.io/acme/web:1.0.0, port: 8080, uses: [orders] }}\n"
        );
        match synth(&yaml, "production") {
            Err(e) => assert!(e.contains(&format!("`tags.{k}`")), "{k}: {e}"),
            Ok(out) => {
                let tags = written_tags(&out);
                assert!(tags.len() >= 4, "{k}: {tags:?}");
                for t in &tags {
                    assert!(
                        !t.is_empty()
                            && t.len() <= 255
                            && t.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c)),
                        "{k}: DigitalOcean refuses the tag `{t}`"
                    );
                    assert!(
                        !t.starts_with("k8s:") && !t.starts_with("terraform:"),
                        "{k}: the provider drops `{t}` when it reads the cluster back"
                    );
                }
                // A rewritten tag is said, not silently changed.
                assert!(
                    out.notes
                        .iter()
                        .any(|n| n.text.contains(&format!("`{k}: {v}`"))),
                    "{k}: no note for the rewritten tag: {:?}",
                    out.notes
                );
            }
        }
    }
    // Refused where the API or the provider would fail: the long one, DOKS's own prefixes.
    for (k, v) in [
        ("notes", long.as_str()),
        ("k8s", "web"),
        ("terraform", "managed"),
    ] {
        let yaml = format!(
            "name: shop\ntags: {{ \"{k}\": \"{v}\" }}\nproviders:\n  digitalocean: {{ region: fra1 }}\nnetwork: {{ cidr: 10.40.0.0/16 }}\ncluster: {{ platform: doks, version: \"1.35\" }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, max: 3 }}\n"
        );
        assert!(synth(&yaml, "production").is_err(), "{k} accepted");
    }
}

/// Every `tags` list of every DigitalOcean resource in the output.
fn written_tags(out: &infragen::Output) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    if k == "tags"
                        && let Some(list) = v.as_array()
                    {
                        out.extend(list.iter().filter_map(|t| t.as_str().map(String::from)));
                    } else {
                        walk(v, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut tags = Vec::new();
    for (path, text) in &out.files {
        if path.starts_with("terraform/") && path.ends_with(".tf.json") {
            walk(&serde_json::from_str(text).unwrap(), &mut tags);
        }
    }
    tags
}

/// Turning `nat` on for a running cluster replaces nothing: the routing agent is turned on in
/// place ("To enable the agent for an existing cluster, update the cluster",
/// docs.digitalocean.com/products/kubernetes/how-to/use-routing-agent/), and the gateway,
/// output and Route are added.
#[test]
fn turning_nat_on_for_a_running_cluster_destroys_nothing() {
    let old = synth(&ecommerce(""), "production").unwrap();
    let new = synth(&ecommerce("    nat: single\n"), "production").unwrap();
    let (changes, _) = infragen::diff::compare(&old, &new, &std::collections::BTreeMap::new());
    let destructive: Vec<_> = changes.iter().filter(|c| c.destructive.is_some()).collect();
    assert!(destructive.is_empty(), "{destructive:?}");
    let addresses: Vec<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    for a in [
        "infra: digitalocean_vpc_nat_gateway.egress",
        "infra: digitalocean_kubernetes_cluster.main",
        "platform: kubernetes_manifest.egress_route",
    ] {
        assert!(addresses.contains(&a), "{a} not in {addresses:?}");
    }
}

/// Turning it off: `infragen diff` says to apply `platform` (the Route) before `infra` (the
/// gateway), or the nodes route into a gateway that is gone.
#[test]
fn turning_nat_off_says_to_remove_the_route_before_the_gateway() {
    let on = synth(&ecommerce("    nat: single\n"), "production").unwrap();
    let off = synth(&ecommerce(""), "production").unwrap();
    let notes = infragen::diff::upgrade_notes(&on, &off);
    let note = notes
        .iter()
        .find(|n| n.contains("digitalocean_vpc_nat_gateway.egress"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    let platform = note.find("terraform/platform").unwrap();
    let infra = note.find("terraform/infra").unwrap();
    assert!(platform < infra, "{note}");
    assert!(note.contains("nat_public_ips"), "{note}");
    // Nothing to say when it comes, or stays.
    for (a, b) in [(&off, &on), (&on, &on)] {
        let notes = infragen::diff::upgrade_notes(a, b);
        assert!(
            !notes
                .iter()
                .any(|n| n.contains("digitalocean_vpc_nat_gateway")),
            "{notes:?}"
        );
    }
}
