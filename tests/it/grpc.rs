//! gRPC services (`protocol: grpc`) on every platform: the edge speaks HTTP/2 to them and
//! checks them with the gRPC health service, the cluster's Service says h2c, probes are gRPC
//! probes, and callers get a gRPC target. Fixtures: `tests/fixtures/workloads/grpc-*.yaml`;
//! refusals: `tests/invalid/grpc-*.yaml`.

use infragen::Provider;
use serde_json::Value;

use crate::support::{ecs_stack, ingress_backends, manifests, resources, root, synth, synth_aws};

const HEALTH: &str = "/grpc.health.v1.Health/Check";

fn fixture(name: &str) -> std::path::PathBuf {
    root().join(format!("tests/fixtures/workloads/{name}.yaml"))
}

/// The one document of `kind` named `name`.
fn doc<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "{kind}/{name}: {found:?}");
    found[0]
}

/// The value of variable `var` in the app container of Deployment `name`.
fn env_of(docs: &[Value], name: &str, var: &str) -> String {
    let d = doc(docs, "Deployment", name);
    d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == var)
        .unwrap_or_else(|| panic!("{name} has no {var}"))["value"]
        .as_str()
        .unwrap()
        .to_string()
}

/// ECS: a routed gRPC service gets a gRPC target group checked through the health service,
/// hung on the HTTPS listener only; an HTTP one keeps HTTP/1.1 and its path check.
#[test]
fn ecs_grpc_target_groups() {
    let out = synth(&fixture("grpc-ecs"), Provider::Aws, "production");
    let groups = resources(&out, "infra", "aws_lb_target_group");
    let group = |svc: &str| {
        groups
            .iter()
            .find(|g| {
                g["tags"]["Name"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("-{svc}-"))
            })
            .unwrap_or_else(|| panic!("no target group of {svc}"))
            .clone()
    };
    let api = group("api");
    assert_eq!(api["protocol_version"], "GRPC");
    assert_eq!(api["health_check"]["path"], HEALTH);
    assert_eq!(api["health_check"]["matcher"], "0");
    // The protocol version forces a new group, created before the old one goes: another name.
    assert!(api["name"].as_str().unwrap().ends_with("-grpc"), "{api}");
    let web = group("web");
    assert_eq!(web["protocol_version"], "HTTP1");
    assert_eq!(web["health_check"]["matcher"], "200");
    // Every rule forwarding to the gRPC group is on the HTTPS listener; port 80 only redirects.
    let edge: Value = serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap();
    for (name, rule) in edge["resource"]["aws_lb_listener_rule"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            rule["listener_arn"], "${aws_lb_listener.https.arn}",
            "rule {name}"
        );
    }
    let http = &edge["resource"]["aws_lb_listener"]["http"];
    assert_eq!(http["default_action"][0]["type"], "redirect", "{http}");
}

/// ECS: the published gRPC port says `appProtocol: grpc` to Service Connect, and callers get
/// a gRPC target for it (an `http://` URL is none), HTTP callers included.
#[test]
fn ecs_service_connect_speaks_grpc() {
    let out = synth(&fixture("grpc-ecs"), Provider::Aws, "production");
    let defs: Vec<Value> = resources(&out, "infra", "aws_ecs_task_definition")
        .iter()
        .flat_map(|t| {
            serde_json::from_str::<Vec<Value>>(t["container_definitions"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    let def = |name: &str| defs.iter().find(|d| d["name"] == name).unwrap().clone();
    let ledger = def("ledger");
    assert_eq!(ledger["portMappings"][0]["appProtocol"], "grpc", "{ledger}");
    assert_eq!(ledger["portMappings"][0]["name"], "ledger");
    for caller in ["api", "web"] {
        let env = def(caller)["environment"].clone();
        let url = env
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "LEDGER_URL")
            .unwrap()["value"]
            .clone();
        assert_eq!(url, "dns:///ledger:9090", "{caller}");
    }
    // A routed gRPC service nobody calls publishes no port, so it names no protocol either.
    assert!(def("api")["portMappings"][0].get("appProtocol").is_none());
}

/// ECS: with `appProtocol: grpc` the Service Connect proxy would cut every call still
/// running after 15 s (its per-request default) — a server stream included — and idle
/// connections after 5 minutes; the published gRPC endpoint turns the first off and keeps
/// TCP's hour for the second. An HTTP server (no application protocol) keeps ECS's TCP
/// defaults, where a per-request timeout may not even be set.
#[test]
fn ecs_service_connect_lets_grpc_streams_run() {
    let published = |out: &infragen::Output, name: &str| {
        resources(out, "infra", "aws_ecs_service")
            .into_iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no ECS service {name}"))["service_connect_configuration"]
            ["service"][0]
            .clone()
    };
    let out = synth(&fixture("grpc-ecs"), Provider::Aws, "production");
    assert_eq!(
        published(&out, "ledger")["timeout"],
        serde_json::json!([{"idle_timeout_seconds": 3600, "per_request_timeout_seconds": 0}])
    );
    let yaml = std::fs::read_to_string(fixture("grpc-ecs"))
        .unwrap()
        .replace("    port: 9090\n    protocol: grpc\n", "    port: 9090\n");
    let http = synth_aws("grpc", &yaml).unwrap();
    let ledger = published(&http, "ledger");
    assert_eq!(ledger["port_name"], "ledger", "{ledger}");
    assert!(ledger.get("timeout").is_none(), "{ledger}");
}

/// EKS, Ingress class `alb`: the gRPC Service carries the controller's gRPC target-group
/// annotations (the controller reads them from the Service); the HTTP one does not.
#[test]
fn eks_alb_grpc_service_annotations() {
    let out = synth(&fixture("grpc-eks"), Provider::Aws, "production");
    let docs = manifests(&out);
    let api = doc(&docs, "Service", "api");
    let a = &api["metadata"]["annotations"];
    assert_eq!(
        a["alb.ingress.kubernetes.io/backend-protocol-version"],
        "GRPC"
    );
    assert_eq!(a["alb.ingress.kubernetes.io/healthcheck-path"], HEALTH);
    assert_eq!(a["alb.ingress.kubernetes.io/success-codes"], "0");
    let web = doc(&docs, "Service", "web");
    let wa = &web["metadata"]["annotations"];
    assert!(
        wa.get("alb.ingress.kubernetes.io/backend-protocol-version")
            .is_none(),
        "{web}"
    );
    assert_eq!(wa["alb.ingress.kubernetes.io/healthcheck-path"], "/healthz");
}

/// Kubernetes (EKS, DOKS and an existing cluster alike): a gRPC Service port says h2c, its
/// probes are native gRPC probes (a declared probe without path or command too), and callers
/// get `dns:///<service DNS name>:<port>`.
#[test]
fn kubernetes_grpc_services() {
    for (name, provider) in [
        ("grpc-eks", Provider::Aws),
        ("grpc-doks", Provider::Digitalocean),
        ("grpc-doks", Provider::Kubernetes),
    ] {
        let out = synth(&fixture(name), provider, "production");
        let docs = manifests(&out);
        for svc in ["api", "ledger"] {
            let port = &doc(&docs, "Service", svc)["spec"]["ports"][0];
            assert_eq!(port["appProtocol"], "kubernetes.io/h2c", "{name} {svc}");
            assert_eq!(port["name"], "grpc", "{name} {svc}");
            let c = &doc(&docs, "Deployment", svc)["spec"]["template"]["spec"]["containers"][0];
            let p = c["ports"][0]["containerPort"].clone();
            for probe in ["livenessProbe", "readinessProbe"] {
                assert_eq!(c[probe]["grpc"]["port"], p, "{name} {svc} {probe}: {c}");
            }
        }
        let web = &doc(&docs, "Service", "web")["spec"]["ports"][0];
        assert!(web.get("appProtocol").is_none(), "{name}: {web}");
        let url = env_of(&docs, "api", "LEDGER_URL");
        let host = env_of(&docs, "api", "LEDGER_HOST");
        let port = env_of(&docs, "api", "LEDGER_PORT");
        assert_eq!(url, format!("dns:///{host}:{port}"), "{name}");
        assert!(env_of(&docs, "web", "LEDGER_URL").starts_with("dns:///"));
    }
    // The startup probe the EKS fixture declares without path or command.
    let out = synth(&fixture("grpc-eks"), Provider::Aws, "production");
    let docs = manifests(&out);
    let c = &doc(&docs, "Deployment", "ledger")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["startupProbe"]["grpc"]["port"], 9090, "{c}");
    assert_eq!(c["startupProbe"]["failureThreshold"], 30);
}

/// ingress-nginx takes the backend protocol per Ingress: the gRPC services' routes move to an
/// Ingress of their own that says `GRPC`; the HTTP one keeps speaking HTTP to its services,
/// and only one of them asks cert-manager for the shared certificate.
#[test]
fn nginx_grpc_ingress_of_its_own() {
    let out = synth(&fixture("grpc-doks"), Provider::Digitalocean, "production");
    let docs = manifests(&out);
    let http = doc(&docs, "Ingress", "grpc");
    let grpc = doc(&docs, "Ingress", "grpc-grpc");
    assert_eq!(ingress_backends(http), ["web"]);
    assert_eq!(ingress_backends(grpc), ["api"]);
    const P: &str = "nginx.ingress.kubernetes.io/backend-protocol";
    assert_eq!(grpc["metadata"]["annotations"][P], "GRPC");
    // A server stream may stay silent for an hour (nginx's gRPC timeouts, 60 s by default).
    for t in ["proxy-read-timeout", "proxy-send-timeout"] {
        let a = &grpc["metadata"]["annotations"][format!("nginx.ingress.kubernetes.io/{t}")];
        assert_eq!(a, "3600", "{t}");
        assert!(
            http["metadata"]["annotations"]
                .get(format!("nginx.ingress.kubernetes.io/{t}"))
                .is_none()
        );
    }
    assert!(http["metadata"]["annotations"].get(P).is_none());
    assert_eq!(grpc["spec"]["tls"], http["spec"]["tls"]);
    const ISSUER: &str = "cert-manager.io/cluster-issuer";
    assert_eq!(http["metadata"]["annotations"][ISSUER], "le");
    assert!(grpc["metadata"]["annotations"].get(ISSUER).is_none());
}

/// The Gateway API: the route stays an HTTPRoute (path rules) without a request timeout, and
/// the backend's Service port says `kubernetes.io/h2c`, which tells the gateway to speak
/// HTTP/2 to it.
#[test]
fn gateway_routes_grpc_over_h2c() {
    let text = std::fs::read_to_string(fixture("gateway-eks"))
        .unwrap()
        .replacen(
            "    port: 9000\n",
            "    port: 9000\n    protocol: grpc\n",
            1,
        );
    assert!(text.contains("protocol: grpc"));
    let out = synth_aws("gateway-eks", &text).unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(&out);
    let console = doc(&docs, "Service", "console");
    assert_eq!(
        console["spec"]["ports"][0]["appProtocol"],
        "kubernetes.io/h2c"
    );
    let rules: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "HTTPRoute")
        .flat_map(|d| d["spec"]["rules"].as_array().unwrap())
        .collect();
    let to = |name: &str| -> Vec<&Value> {
        rules
            .iter()
            .copied()
            .filter(|r| {
                r["backendRefs"]
                    .as_array()
                    .is_some_and(|b| b.iter().any(|b| b["name"] == name))
            })
            .collect()
    };
    let console = to("console");
    assert!(!console.is_empty(), "no HTTPRoute reaches console");
    // No request timeout, which would cut every server stream; HTTP services keep theirs.
    for r in console {
        assert_eq!(r["timeouts"]["request"], "0s", "{r}");
    }
    for r in to("web") {
        assert_eq!(r["timeouts"]["request"], "60s", "{r}");
    }
}

/// An HTTP service is untouched: no `protocol` is `http`, and `protocol: http` says the same.
#[test]
fn http_is_the_default() {
    let base = ecs_stack(
        "plain",
        "load_balancer:\n  certificate: { domain: example.com }\nservices:\n  - { name: web, image: 'a:1', port: 8080, routes: [{ path: / }] }\n",
    );
    let explicit = base.replace("port: 8080,", "port: 8080, protocol: http,");
    assert_ne!(base, explicit);
    let a = synth_aws("plain", &base).unwrap();
    let b = synth_aws("plain", &explicit).unwrap();
    assert_eq!(a.files, b.files);
    let groups = resources(&a, "infra", "aws_lb_target_group");
    assert_eq!(groups[0]["protocol_version"], "HTTP1");
}

/// The edge that counts is the one written: `--provider kubernetes` writes the ALB-class
/// Ingress for ingress-nginx, so there a routed gRPC service needs the ingress's TLS, while
/// the ALB (which takes its certificate from `load_balancer`) does not.
#[test]
fn nginx_tls_is_judged_on_the_ingress_written() {
    let text = std::fs::read_to_string(fixture("grpc-eks")).unwrap();
    let plain = text.replace("  tls: { secret_name: grpc-tls }\n", "");
    assert_ne!(plain, text);
    let run = |p| infragen::synthesize("grpc-eks.yaml", plain.as_bytes(), p, "production");
    assert!(run(Provider::Aws).is_ok());
    let Err(err) = run(Provider::Kubernetes) else {
        panic!("--provider kubernetes accepted gRPC through ingress-nginx without TLS")
    };
    let err = err.to_string();
    assert!(
        err.contains("services[1].protocol") && err.contains("only on its TLS port"),
        "{err}"
    );
}

/// Metrics on the gRPC port are refused only when nothing says that port answers HTTP/1.1:
/// named as `metrics.port`, as a server multiplexing both (connect-go, cmux) does, the pods
/// carry the scrape annotations for it.
#[test]
fn metrics_on_the_grpc_port_when_named() {
    let text = std::fs::read_to_string(fixture("grpc-eks")).unwrap();
    let edit = |metrics: &str| {
        let t = text.replacen(
            "    port: 9090\n    protocol: grpc\n",
            &format!("    port: 9090\n    protocol: grpc\n    metrics: {metrics}\n"),
            1,
        );
        assert_ne!(t, text);
        synth_aws("grpc-eks", &t)
    };
    let err = edit("{ path: /metrics }").unwrap_err();
    assert!(err.contains("services[2].metrics"), "{err}");
    let out = edit("{ port: 9090, path: /metrics }").unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(&out);
    let ledger = doc(&docs, "Deployment", "ledger");
    let ann = &ledger["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/port"], "9090", "{ann}");
}

/// gRPC through the ALB in front of ingress-nginx is refused with two ways out; each used to
/// lead to another refusal (combos seed 7, applying the help by hand): class `alb` with a
/// cert-manager `tls.issuer` (the ALB serves ACM certificates only), and no `load_balancer`
/// without `ingress.tls` (ingress-nginx speaks HTTP/2 only on its TLS port). The help names
/// what each needs, and following it is accepted.
#[test]
fn grpc_behind_the_alb_in_front_of_nginx_help_leads_to_an_accepted_blueprint() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/grpc-alb-nginx.yaml"),
    )
    .unwrap();
    let synth = |text: &str| {
        infragen::synthesize("rpc.yaml", text.as_bytes(), Provider::Aws, "production")
            .map_err(|d| d.to_string())
    };
    // With a cert-manager issuer: the ALB way out must drop it.
    let issued = base
        .replace(
            "kubernetes:\n",
            "kubernetes:\n  issuers: [{ name: le, kind: acme, email: ops@rpc.example.com }]\n",
        )
        .replace(
            "tls: { secret_name: rpc-tls }",
            "tls: { secret_name: rpc-tls, issuer: le }",
        );
    let err = synth(&issued).unwrap_err();
    assert!(
        err.contains("use `ingress.class: alb` without `ingress.tls.issuer`"),
        "{err}"
    );
    let alb = issued
        .replace("  class: nginx\n", "  class: alb\n")
        .replace(
            "tls: { secret_name: rpc-tls, issuer: le }",
            "tls: { secret_name: rpc-tls }",
        );
    synth(&alb).unwrap_or_else(|e| panic!("{e}\n{alb}"));
    // Without `tls`: the NLB way out must add it.
    let bare = base.replace("  tls: { secret_name: rpc-tls }\n", "");
    let err = synth(&bare).unwrap_err();
    assert!(
        err.contains("through a Network Load Balancer, with `ingress.tls`"),
        "{err}"
    );
    let nlb = base.replace(
        "load_balancer:\n  certificate: { domain: rpc.example.com }\n",
        "",
    );
    synth(&nlb).unwrap_or_else(|e| panic!("{e}\n{nlb}"));
    // Before: removing `load_balancer` alone from `bare` is refused for the missing TLS.
    let nlb_bare = bare.replace(
        "load_balancer:\n  certificate: { domain: rpc.example.com }\n",
        "",
    );
    assert!(
        synth(&nlb_bare)
            .unwrap_err()
            .contains("only on its TLS port")
    );
}
