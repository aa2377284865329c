//! `services[].idle_timeout`: a service that holds connections open (WebSockets, server-sent
//! events, long polls) gets every hop on its path raised to it — the ALB's idle timeout, its
//! own ingress-nginx Ingress with the proxy read/send timeouts, the DigitalOcean load
//! balancer's idle timeout, no HTTPRoute request timeout, Service Connect's idle timeout —
//! while the services beside it keep today's settings. Refusals past each hop's range:
//! `tests/invalid/long-lived-*.yaml`. See docs/connections-long-lived.md.

use infragen::Provider;
use serde_json::Value;

use crate::support::{
    ingress_backends, ingress_nginx_values, manifests, resources, root, synth_aws,
};

const NGINX: &str = "nginx.ingress.kubernetes.io";

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

/// `yaml` with `idle_timeout: t` given to service `svc`.
fn with_idle(yaml: &str, svc: &str, t: u32) -> String {
    let item = format!("  - name: {svc}\n");
    assert!(yaml.contains(&item), "no service {svc}");
    yaml.replacen(&item, &format!("{item}    idle_timeout: {t}\n"), 1)
}

fn synth(yaml: &str, provider: Provider) -> infragen::Output {
    infragen::synthesize("b.yaml", yaml.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("{d}"))
}

/// The one document of `kind` named `name`, if any.
fn doc<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    let found: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .collect();
    assert!(found.len() <= 1, "{kind}/{name}: {found:?}");
    found.first().copied()
}

fn annotation<'a>(d: &'a Value, key: &str) -> Option<&'a str> {
    d["metadata"]["annotations"][key].as_str()
}

/// ECS: the ALB's idle timeout is raised to the routed service's, and its Service Connect
/// entry (a TCP port mapping: idle timeout only) waits at least the proxy's hour; without
/// `idle_timeout` the ALB keeps AWS's 60 s and the entry names no timeout.
#[test]
fn ecs_alb_and_service_connect_wait_for_a_long_lived_service() {
    // `web` becomes a Service Connect server by being used by `api`.
    let base = read("tests/fixtures/workloads/grpc-ecs.yaml").replacen(
        "  - name: api\n",
        "  - name: api\n    uses: [web]\n",
        1,
    );
    let base = base.replacen(
        "    uses: [ledger]\n  - name: ledger",
        "  - name: ledger",
        1,
    );
    let entry = |out: &infragen::Output, name: &str| -> Value {
        resources(out, "infra", "aws_ecs_service")
            .into_iter()
            .find(|s| s["name"] == name)
            .unwrap()["service_connect_configuration"]["service"][0]
            .clone()
    };
    let lb_idle =
        |out: &infragen::Output| resources(out, "infra", "aws_lb")[0]["idle_timeout"].clone();

    let before = synth_aws("grpc", &base).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lb_idle(&before), 60);
    assert!(entry(&before, "web").get("timeout").is_none());

    for (t, sc) in [(900, 3600), (3900, 3900)] {
        let out = synth_aws("grpc", &with_idle(&base, "web", t)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lb_idle(&out), t);
        let timeout = &entry(&out, "web")["timeout"][0];
        assert_eq!(timeout["idle_timeout_seconds"], sc, "{timeout}");
        // TCP: the API refuses a per-request timeout.
        assert!(timeout.get("per_request_timeout_seconds").is_none());
        // The gRPC server beside it keeps its own timeouts.
        assert_eq!(
            entry(&out, "ledger")["timeout"],
            entry(&before, "ledger")["timeout"]
        );
    }
}

/// EKS, ingress-nginx behind the ALB: the ALB, nginx's defaults behind it, and the service's
/// own Ingress wait; the other services stay on the shared Ingress without the annotations.
#[test]
fn eks_nginx_behind_the_alb_gives_the_service_its_own_ingress() {
    let base = read("blueprints/ecommerce-eks.yaml");
    let before = synth(&base, Provider::Aws);
    let out = synth(&with_idle(&base, "gateway", 1800), Provider::Aws);
    let edge = resources(&out, "platform", "kubernetes_ingress_v1")
        .into_iter()
        .find(|r| r["metadata"]["name"] == "edge")
        .unwrap();
    let attrs = annotation(&edge, "alb.ingress.kubernetes.io/load-balancer-attributes").unwrap();
    assert!(
        attrs.contains("idle_timeout.timeout_seconds=1800"),
        "{attrs}"
    );
    // nginx keeps the ALB's idle connections longer than the ALB (else a 502 race), but its
    // proxy timeouts stay nginx's for the services beside `gateway`.
    let config = |out: &infragen::Output| -> Value {
        let values: Value = serde_json::from_str(&ingress_nginx_values(out).unwrap()).unwrap();
        values["controller"]["config"].clone()
    };
    let c = config(&out);
    assert_eq!(c["keep-alive"], "1805", "{c}");
    assert!(c.get("proxy-read-timeout").is_none(), "{c}");
    assert!(config(&before).get("keep-alive").is_none());

    let docs = manifests(&out);
    let ingresses: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Ingress").collect();
    let own: Vec<&&Value> = ingresses
        .iter()
        .filter(|i| ingress_backends(i) == ["gateway"])
        .collect();
    assert_eq!(own.len(), 1, "{ingresses:?}");
    assert_eq!(
        annotation(own[0], &format!("{NGINX}/proxy-read-timeout")),
        Some("1800")
    );
    assert_eq!(
        annotation(own[0], &format!("{NGINX}/proxy-send-timeout")),
        Some("1800")
    );
    for i in ingresses
        .iter()
        .filter(|i| !ingress_backends(i).contains(&"gateway".to_string()))
    {
        assert!(
            annotation(i, &format!("{NGINX}/proxy-read-timeout")).is_none(),
            "{i}"
        );
    }
    // Without it, no Ingress has the annotation.
    for i in manifests(&before).iter().filter(|d| d["kind"] == "Ingress") {
        assert!(
            annotation(i, &format!("{NGINX}/proxy-read-timeout")).is_none(),
            "{i}"
        );
    }
}

/// EKS class `alb`: the controller's `load-balancer-attributes` carry the idle timeout.
#[test]
fn eks_alb_class_raises_the_idle_timeout_attribute() {
    let base = read("tests/fixtures/workloads/grpc-eks.yaml");
    let idle = |out: &infragen::Output| -> Vec<String> {
        manifests(out)
            .iter()
            .filter(|d| d["kind"] == "Ingress")
            .filter_map(|i| annotation(i, "alb.ingress.kubernetes.io/load-balancer-attributes"))
            .map(|a| {
                a.split(',')
                    .find_map(|x| x.strip_prefix("idle_timeout.timeout_seconds="))
                    .unwrap_or("-")
                    .to_string()
            })
            .collect()
    };
    let before = idle(&synth(&base, Provider::Aws));
    assert!(
        !before.is_empty() && before.iter().all(|t| t == "-"),
        "{before:?}"
    );
    let after = idle(&synth(&with_idle(&base, "web", 1200), Provider::Aws));
    assert!(
        !after.is_empty() && after.iter().all(|t| t == "1200"),
        "{after:?}"
    );
}

/// DOKS: the load balancer's idle timeout on ingress-nginx's Service, and the service's own
/// Ingress with nginx's timeouts; the gRPC Ingress keeps its hour.
#[test]
fn doks_load_balancer_and_ingress_wait_for_a_long_lived_service() {
    let base = read("tests/fixtures/workloads/grpc-doks.yaml");
    let values = |out: &infragen::Output| ingress_nginx_values(out).unwrap();
    const KEY: &str = "service.beta.kubernetes.io/do-loadbalancer-http-idle-timeout-seconds";
    let before = synth(&base, Provider::Digitalocean);
    assert!(!values(&before).contains(KEY));
    let out = synth(&with_idle(&base, "web", 600), Provider::Digitalocean);
    assert!(
        values(&out).contains(&format!(r#""{KEY}":"600""#)),
        "{}",
        values(&out)
    );

    let docs = manifests(&out);
    let web = doc(&docs, "Ingress", "grpc-web").expect("web's own Ingress");
    assert_eq!(ingress_backends(web), ["web"]);
    assert_eq!(
        annotation(web, &format!("{NGINX}/proxy-read-timeout")),
        Some("600")
    );
    // One Ingress asks cert-manager for the certificate.
    let issuers = docs
        .iter()
        .filter(|d| d["kind"] == "Ingress")
        .filter(|d| annotation(d, "cert-manager.io/cluster-issuer").is_some())
        .count();
    assert_eq!(issuers, 1);
    let grpc = doc(&docs, "Ingress", "grpc-grpc").unwrap();
    assert_eq!(
        annotation(grpc, &format!("{NGINX}/proxy-read-timeout")),
        Some("3600")
    );
    assert_eq!(doc(&manifests(&before), "Ingress", "grpc-web"), None);
}

/// The Gateway API: the long-lived service's rules have no request timeout (an event stream
/// is one response that never completes); the others keep 60 s.
#[test]
fn gateway_routes_of_a_long_lived_service_have_no_request_timeout() {
    let base = read("tests/fixtures/workloads/gateway-eks.yaml");
    let timeouts = |out: &infragen::Output| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = manifests(out)
            .iter()
            .filter(|d| d["kind"] == "HTTPRoute")
            .flat_map(|r| r["spec"]["rules"].as_array().unwrap().clone())
            .map(|rule| {
                (
                    rule["backendRefs"][0]["name"].as_str().unwrap().to_string(),
                    rule["timeouts"]["request"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let before = timeouts(&synth(&base, Provider::Aws));
    assert_eq!(
        before,
        [
            ("console".into(), "60s".into()),
            ("web".into(), "60s".into())
        ]
    );
    let after = timeouts(&synth(&with_idle(&base, "web", 300), Provider::Aws));
    assert_eq!(
        after,
        [
            ("console".into(), "60s".into()),
            ("web".into(), "0s".into())
        ]
    );
}

/// On a cluster infragen does not front (`--provider kubernetes`), ingress-nginx's timeouts
/// are written and no load balancer bound applies: the Phoenix LiveView fixture's hour, and
/// two hours.
#[test]
fn existing_cluster_nginx_takes_any_idle_timeout() {
    let base = read("tests/fixtures/new-user/beacon-phoenix-k8s.yaml");
    assert!(base.contains("    idle_timeout: 3600\n"));
    let longer = base.replacen("idle_timeout: 3600", "idle_timeout: 7200", 1);
    for (yaml, t) in [(base, "3600"), (longer, "7200")] {
        let out = synth(&yaml, Provider::Kubernetes);
        let docs = manifests(&out);
        let web = doc(&docs, "Ingress", "beacon-web").expect("web's own Ingress");
        assert_eq!(ingress_backends(web), ["web"]);
        assert_eq!(
            annotation(web, &format!("{NGINX}/proxy-read-timeout")),
            Some(t)
        );
        assert_eq!(
            annotation(web, &format!("{NGINX}/proxy-send-timeout")),
            Some(t)
        );
        // The only Ingress: it asks cert-manager for the certificate.
        assert!(annotation(web, "cert-manager.io/cluster-issuer").is_some());
    }
}

/// EKS, ingress-nginx behind the NLB (no `load_balancer`): past the NLB's 350 s, its TCP
/// listeners get `tcp.idle_timeout.seconds`; at or under it, nothing changes.
#[test]
fn eks_nlb_listeners_wait_past_350_seconds() {
    let base = read("tests/fixtures/workloads/gateway-eks.yaml")
        .replace("  gateway: { class: eg }\n", "")
        .replace(
            "    - name: envoy-gateway-system\n",
            "    - name: ingress-nginx\n",
        );
    let service_annotations = |out: &infragen::Output| ingress_nginx_values(out).unwrap();
    const KEY: &str = "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-";
    for (t, want) in [(None, None), (Some(350), None), (Some(3600), Some("3600"))] {
        let yaml = match t {
            Some(t) => with_idle(&base, "web", t),
            None => base.clone(),
        };
        let values = service_annotations(&synth(&yaml, Provider::Aws));
        for port in [80, 443] {
            let pair = want.map(|w| format!(r#""{KEY}{port}":"tcp.idle_timeout.seconds={w}""#));
            match pair {
                Some(p) => assert!(values.contains(&p), "{t:?}: {values}"),
                None => assert!(!values.contains(KEY), "{t:?}: {values}"),
            }
        }
    }
}

/// (host, path) pairs an Ingress routes.
fn routes_of(ingress: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let host = r["host"].as_str().unwrap().to_string();
            r["http"]["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (host.clone(), p["path"].as_str().unwrap().to_string()))
        })
        .collect();
    out.sort();
    out
}

/// A canary split at ingress-nginx: the canary Ingress only takes effect beside a main
/// (non-canary) Ingress with the same host and path, from which it inherits everything but
/// the canary annotations (ingress-nginx annotations, "Canary"). A service with
/// `idle_timeout` has its paths on its own Ingress: that one must be the main Ingress of
/// each canary route, carrying the long timeouts, and no other Ingress routes them.
#[test]
fn a_canary_at_ingress_nginx_finds_the_long_lived_services_own_ingress() {
    let base = read("tests/fixtures/new-user/beacon-phoenix-k8s.yaml");
    let yaml = base.replacen(
        "    idle_timeout: 3600\n",
        "    idle_timeout: 3600\n    rollout: { strategy: canary, canary_weight: 10 }\n",
        1,
    );
    let docs = manifests(&synth(&yaml, Provider::Kubernetes));
    let canary = doc(&docs, "Ingress", "web-canary").expect("the canary Ingress");
    assert_eq!(annotation(canary, &format!("{NGINX}/canary")), Some("true"));
    let main: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "Ingress" && annotation(d, &format!("{NGINX}/canary")).is_none())
        .filter(|d| routes_of(d).iter().any(|r| routes_of(canary).contains(r)))
        .collect();
    assert_eq!(main.len(), 1, "{main:?}");
    assert_eq!(routes_of(main[0]), routes_of(canary));
    assert_eq!(ingress_backends(main[0]), ["web"]);
    assert_eq!(
        annotation(main[0], &format!("{NGINX}/proxy-read-timeout")),
        Some("3600")
    );
}

/// `ingress.enabled: false` on a Kubernetes platform (a development environment, say): no
/// Ingress routes the services, so no load balancer stands in front of them. Their
/// `idle_timeout` is no longer held to the DigitalOcean load balancer's 600 s, nor written
/// on it; with the Ingress enabled the same value is refused.
#[test]
fn without_an_ingress_no_edge_bounds_or_raises_the_idle_timeout() {
    let base = with_idle(&read("tests/fixtures/workloads/grpc-doks.yaml"), "web", 900);
    let err = infragen::synthesize(
        "b.yaml",
        base.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`services[0].idle_timeout`"), "{err}");
    let off = base.replacen(
        "  tls: { secret_name: grpc-tls, issuer: le }\n",
        "  tls: { secret_name: grpc-tls, issuer: le }\n  enabled: false\n",
        1,
    );
    assert_ne!(off, base);
    let out = synth(&off, Provider::Digitalocean);
    assert!(manifests(&out).iter().all(|d| d["kind"] != "Ingress"));
    let values = ingress_nginx_values(&out)
        .expect("ingress-nginx is still installed (`kubernetes.ingress_controller`)");
    assert!(values.contains("do-loadbalancer-name"), "{values}");
    assert!(
        !values.contains("do-loadbalancer-http-idle-timeout-seconds"),
        "{values}"
    );
}

/// Class `nginx` on EKS or DOKS without infragen's ingress-nginx
/// (`kubernetes.ingress_controller`) is refused because nothing would serve it: no Network
/// Load Balancer or DigitalOcean load balancer stands in front, so `idle_timeout` is not
/// also refused for exceeding one (a second, false reason). With ingress-nginx installed
/// the same values are refused at the service.
#[test]
fn without_ingress_nginx_no_load_balancer_bounds_the_idle_timeout() {
    let cases = [
        (
            "tests/invalid/long-lived-nlb.yaml",
            "  ingress_controller: { kind: nginx, load_balancer_name: shop-edge }\n",
            Provider::Aws,
        ),
        (
            "tests/invalid/long-lived-doks.yaml",
            "  ingress_controller: { kind: nginx }\n",
            Provider::Digitalocean,
        ),
    ];
    for (file, controller, provider) in cases {
        let installed = read(file);
        let err = |yaml: &str| {
            infragen::synthesize("b.yaml", yaml.as_bytes(), provider, "production")
                .unwrap_err()
                .to_string()
        };
        let with = err(&installed);
        assert!(with.contains("`services[0].idle_timeout`"), "{with}");
        let without = installed.replacen(controller, "", 1);
        assert_ne!(without, installed, "{file}");
        let err = err(&without);
        assert!(err.contains("`ingress.class`"), "{err}");
        assert!(!err.contains("`services[0].idle_timeout`"), "{err}");
        assert!(!err.contains("cuts them after"), "{file}: {err}");
    }
}
