//! The Gateway API path (`ingress.gateway`), on the shipped blueprint environment that uses
//! it (ecommerce-doks `stage`): the objects pass the Gateway API v1.6.1 schemas vendored in
//! `providers/kubernetes-schemas/` (strict), and they fit together — every HTTPRoute attaches
//! to a listener the Gateway has, every backend is a Service port that exists, every routed
//! path is reachable, the class is one infragen writes for the controller it installs, and
//! the NetworkPolicies admit the Envoy proxies.

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use infragen::check::kubernetes::Schemas;
use serde_json::Value;

use crate::support::{manifests, root, synth};

fn stage(provider: Provider) -> infragen::Output {
    synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        provider,
        "stage",
    )
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

#[test]
fn gateway_objects_pass_the_vendored_gateway_api_schemas() {
    let schemas = Schemas::bundled();
    for kind in ["Gateway", "HTTPRoute", "GatewayClass"] {
        assert!(
            schemas
                .kinds()
                .any(|(a, k)| a == "gateway.networking.k8s.io/v1" && k == kind),
            "{kind} schema not vendored"
        );
    }
    for provider in [Provider::Digitalocean, Provider::Kubernetes] {
        let out = stage(provider);
        let file = "k8s/ecommerce-stage/gateway.yaml";
        let text = &out.files[file];
        let class_file = "k8s/cluster/gatewayclass.yaml";
        let report = schemas.check_files([
            (file, text.as_str()),
            (class_file, out.files[class_file].as_str()),
        ]);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        // Every Gateway API object is schema-checked; Envoy Gateway's own policies (the
        // ClientTrafficPolicy reading the load balancer's PROXY protocol) have no vendored
        // schema and are counted as custom.
        let envoy = manifests(&out)
            .iter()
            .filter(|d| {
                d["metadata"]["namespace"] == "ecommerce-stage"
                    && d["apiVersion"]
                        .as_str()
                        .is_some_and(|a| a.starts_with("gateway.envoyproxy.io/"))
            })
            .count();
        assert_eq!(
            report.custom, envoy,
            "every Gateway API object is schema-checked"
        );
        // The check is strict: a misspelt field is a problem, not pruned silently.
        let bad = text.replacen("gatewayClassName:", "gatewayClass:", 1);
        assert!(
            !schemas
                .check_files([(file, bad.as_str())])
                .problems
                .is_empty()
        );
        let bad = text.replacen("sectionName: http", "section: http", 1);
        assert!(
            !schemas
                .check_files([(file, bad.as_str())])
                .problems
                .is_empty()
        );
        // No Ingress beside the Gateway.
        assert!(!out.files.contains_key("k8s/ecommerce-stage/ingress.yaml"));
    }
}

#[test]
fn routes_attach_to_listeners_and_reach_every_routed_service() {
    let out = stage(Provider::Digitalocean);
    let docs = manifests(&out);
    let classes: BTreeSet<&str> = of_kind(&docs, "GatewayClass")
        .iter()
        .map(|c| {
            assert_eq!(
                c["spec"]["controllerName"],
                "gateway.envoyproxy.io/gatewayclass-controller"
            );
            c["metadata"]["name"].as_str().unwrap()
        })
        .collect();
    let gateways = of_kind(&docs, "Gateway");
    assert_eq!(gateways.len(), 1);
    let gw = gateways[0];
    assert!(classes.contains(gw["spec"]["gatewayClassName"].as_str().unwrap()));
    // The DigitalOcean load balancer Envoy Gateway creates is named like ingress-nginx's.
    assert_eq!(
        gw["spec"]["infrastructure"]["annotations"]["service.beta.kubernetes.io/do-loadbalancer-name"],
        "ecommerce-lb-stage"
    );
    let listeners: BTreeMap<&str, &Value> = gw["spec"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l))
        .collect();
    // TLS: an HTTPS listener per host, named for cert-manager's Gateway support.
    let https = listeners["https-0"];
    assert_eq!(https["hostname"], "api.stage.ecommerce.example.com");
    assert_eq!(https["tls"]["certificateRefs"][0]["name"], "ecommerce-tls");
    assert_eq!(
        gw["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt-staging"
    );

    // Service ports by (namespace, name).
    let mut ports: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
    for s in of_kind(&docs, "Service") {
        let key = (
            s["metadata"]["namespace"].as_str().unwrap().to_string(),
            s["metadata"]["name"].as_str().unwrap().to_string(),
        );
        for p in s["spec"]["ports"].as_array().unwrap() {
            ports
                .entry(key.clone())
                .or_default()
                .insert(p["port"].as_u64().unwrap());
        }
    }

    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut redirect = false;
    for r in of_kind(&docs, "HTTPRoute") {
        let ns = r["metadata"]["namespace"].as_str().unwrap();
        for p in r["spec"]["parentRefs"].as_array().unwrap() {
            assert_eq!(p["name"], gw["metadata"]["name"]);
            assert_eq!(p["namespace"], gw["metadata"]["namespace"]);
            let section = p["sectionName"].as_str().unwrap();
            assert!(listeners.contains_key(section), "no listener {section}");
            assert!(admits(gw, listeners[section], ns), "{section} refuses {ns}");
            assert!(!admits(gw, listeners[section], "intruder"));
        }
        for rule in r["spec"]["rules"].as_array().unwrap() {
            if rule["filters"][0]["type"] == "RequestRedirect" {
                assert_eq!(r["spec"]["parentRefs"][0]["sectionName"], "http");
                assert_eq!(rule["filters"][0]["requestRedirect"]["scheme"], "https");
                redirect = true;
                continue;
            }
            for b in rule["backendRefs"].as_array().unwrap() {
                let key = (ns.to_string(), b["name"].as_str().unwrap().to_string());
                let port = b["port"].as_u64().unwrap();
                assert!(
                    ports.get(&key).is_some_and(|p| p.contains(&port)),
                    "backend {key:?}:{port} is not a Service port"
                );
            }
            for m in rule["matches"].as_array().unwrap() {
                reached.insert(m["path"]["value"].as_str().unwrap().to_string());
            }
            // ingress-nginx's 60-second timeout, not Envoy's default of 15 seconds.
            assert_eq!(rule["timeouts"]["request"], "60s");
        }
    }
    assert!(
        redirect,
        "ssl_redirect becomes an HTTP→HTTPS redirect route"
    );
    // Every route the blueprint declares is reachable through the Gateway.
    let bytes = std::fs::read(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let loaded = infragen::blueprint::load("x", &bytes, Provider::Digitalocean, "stage").unwrap();
    for s in &loaded.blueprint.services {
        for route in &s.routes {
            assert!(
                reached.contains(&route.path),
                "{} {} not routed",
                s.name,
                route.path
            );
        }
    }

    // The Envoy proxies receive the traffic: NetworkPolicies admit their namespace, and
    // no policy still names ingress-nginx.
    let policies = &out.files["k8s/ecommerce-stage/network-policies.yaml"];
    assert!(policies.contains("kubernetes.io/metadata.name: envoy-gateway-system"));
    assert!(!policies.contains("ingress-nginx"));
}

#[test]
fn the_platform_installs_envoy_gateway_instead_of_ingress_nginx() {
    let out = stage(Provider::Digitalocean);
    let gw: Value = serde_json::from_str(&out.files["terraform/platform/gateway.tf.json"]).unwrap();
    let release = &gw["resource"]["helm_release"]["envoy_gateway"];
    assert_eq!(release["repository"], "oci://docker.io/envoyproxy");
    assert_eq!(release["chart"], "gateway-helm");
    assert_eq!(release["namespace"], "envoy-gateway-system");
    assert!(!out.files.contains_key("terraform/platform/ingress.tf.json"));
    // cert-manager's Gateway API support issues the listener certificates, and its HTTP-01
    // solver answers through the Gateway.
    let cm: Value =
        serde_json::from_str(&out.files["terraform/platform/cert_manager.tf.json"]).unwrap();
    let values = cm["resource"]["helm_release"]["cert_manager"]["values"][0]
        .as_str()
        .unwrap();
    assert!(values.contains(r#""enableGatewayAPI":true"#), "{values}");
    // With that support on, the cert-manager controller exits at start-up until the Gateway
    // API CRDs exist, and Envoy Gateway's chart is what installs them: its release must be
    // applied first (the atomic cert-manager release waits for a ready controller).
    let after: Vec<&str> = cm["resource"]["helm_release"]["cert_manager"]["depends_on"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        after.contains(&"helm_release.envoy_gateway"),
        "cert-manager is applied without waiting for the Gateway API CRDs: {after:?}"
    );
    let issuers = &out.files["k8s/cluster/issuers.yaml"];
    assert!(issuers.contains("gatewayHTTPRoute:") && !issuers.contains("ingressClassName"));
    // Production keeps ingress-nginx at its last chart.
    let prod = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Digitalocean,
        "production",
    );
    assert!(
        prod.files
            .contains_key("terraform/platform/ingress.tf.json")
    );
    assert!(
        !prod
            .files
            .contains_key("terraform/platform/gateway.tf.json")
    );
}

#[test]
fn gateway_refuses_ingress_nginx_only_settings() {
    let text = r#"
name: shop
providers: { digitalocean: { region: nyc1 } }
cluster: { platform: doks }
node_pools: [{ name: default, size: medium, min: 2, max: 3 }]
ingress:
  hosts: [shop.example.com]
  rate_limit: { requests: 100, window: 1m }
  gateway: { class: eg }
"#;
    let err = refused(text, Provider::Digitalocean, "production");
    assert!(err.contains("`ingress.rate_limit`"), "{err}");
    assert!(err.contains("no Gateway API equivalent"), "{err}");
}

#[test]
fn many_services_split_into_routes_of_at_most_16_rules() {
    let mut text = String::from(
        "name: shop\ncluster: { platform: existing }\ningress:\n  hosts: [shop.example.com]\n  gateway: { class: eg }\nservices:\n",
    );
    for i in 0..20 {
        text.push_str(&format!(
            "  - {{ name: svc{i}, image: \"shop/svc{i}:1.0.0\", port: 8080, routes: [{{ path: /svc{i} }}] }}\n"
        ));
    }
    let out = infragen::synthesize(
        "t.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let routes = of_kind(&docs, "HTTPRoute");
    assert_eq!(routes.len(), 2, "20 services: 16 + 4 rules");
    let mut reached = BTreeSet::new();
    for r in &routes {
        let rules = r["spec"]["rules"].as_array().unwrap();
        assert!(rules.len() <= 16);
        for rule in rules {
            reached.insert(rule["backendRefs"][0]["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(reached.len(), 20);
    let report = Schemas::bundled().check_files(
        out.files
            .iter()
            .filter(|(f, _)| f.starts_with("k8s/"))
            .map(|(f, t)| (f.as_str(), t.as_str())),
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// The EKS fixture with the Gateway API (tests/fixtures/workloads/gateway-eks.yaml).
fn eks() -> infragen::Output {
    synth(
        &root().join("tests/fixtures/workloads/gateway-eks.yaml"),
        Provider::Aws,
        "production",
    )
}

fn depends_on(release: &Value) -> Vec<&str> {
    release["depends_on"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn eks_installs_envoy_gateway_behind_an_nlb_of_the_load_balancer_controller() {
    let out = eks();
    let tf = |f: &str| -> Value {
        serde_json::from_str(&out.files[&format!("terraform/platform/{f}.tf.json")]).unwrap()
    };
    let gw = &tf("gateway")["resource"]["helm_release"]["envoy_gateway"];
    assert_eq!(gw["chart"], "gateway-helm");
    assert_eq!(gw["namespace"], "envoy-gateway-system");
    // The proxies' Service must be the Load Balancer Controller's from its creation: the
    // controller (and its Service webhook) is up first.
    assert!(depends_on(gw).contains(&"helm_release.aws_load_balancer_controller"));
    let controllers = tf("controllers");
    let releases = &controllers["resource"]["helm_release"];
    // cert-manager with its Gateway API support exits while the CRDs are absent: Envoy
    // Gateway's chart (which installs them) goes first.
    let cm = &releases["cert_manager"];
    assert!(
        depends_on(cm).contains(&"helm_release.envoy_gateway"),
        "{:?}",
        depends_on(cm)
    );
    assert!(
        cm["values"][0]
            .as_str()
            .unwrap()
            .contains(r#""enableGatewayAPI":true"#)
    );
    // Envoy Gateway replaces ingress-nginx, whatever `kubernetes.ingress_controller` says;
    // no ALB edge Ingress points at a controller that is not there.
    assert!(releases.get("ingress_nginx").is_none());
    assert!(!out.files.contains_key("terraform/platform/edge.tf.json"));
    assert!(
        !out.files
            .values()
            .any(|t| t.contains("ingress-nginx-controller")),
        "something still points at ingress-nginx"
    );
    // The Gateway's infrastructure annotations (put by Envoy Gateway on the proxies'
    // Service): an NLB of the Load Balancer Controller (`external`; the in-tree controller
    // would make a Classic ELB), IP targets, internet-facing, named as the blueprint says.
    let docs = manifests(&out);
    let gateways = of_kind(&docs, "Gateway");
    assert_eq!(gateways.len(), 1);
    let a = &gateways[0]["spec"]["infrastructure"]["annotations"];
    let p = "service.beta.kubernetes.io/aws-load-balancer";
    assert_eq!(a[format!("{p}-type")], "external");
    assert_eq!(a[format!("{p}-nlb-target-type")], "ip");
    assert_eq!(a[format!("{p}-scheme")], "internet-facing");
    assert_eq!(a[format!("{p}-name")], "shop-edge");
    // The ACME solver answers through the Gateway's `http` listener.
    let issuer = of_kind(&docs, "ClusterIssuer")[0];
    let parent =
        &issuer["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0];
    assert_eq!(parent["name"], gateways[0]["metadata"]["name"]);
    assert_eq!(parent["namespace"], gateways[0]["metadata"]["namespace"]);
    assert_eq!(parent["sectionName"], "http");
    // Every Gateway API object passes the vendored v1.6.1 schemas.
    let report = Schemas::bundled().check_files(
        out.files
            .iter()
            .filter(|(f, _)| f.starts_with("k8s/"))
            .map(|(f, t)| (f.as_str(), t.as_str())),
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn routes_attach_across_namespaces_and_serve_plain_http_without_a_redirect() {
    let out = eks();
    let docs = manifests(&out);
    let gw = of_kind(&docs, "Gateway")[0];
    assert_eq!(gw["metadata"]["namespace"], "shop");
    let listeners: BTreeMap<&str, &Value> = gw["spec"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l))
        .collect();
    // Routes from `admin` attach to the Gateway in `shop`: its listeners let them, and only
    // them (and the Gateway's own namespace, where cert-manager's challenge route lives) —
    // not any namespace's route claiming these hosts.
    let routes = of_kind(&docs, "HTTPRoute");
    let console = routes
        .iter()
        .find(|r| r["metadata"]["namespace"] == "admin")
        .expect("no route in namespace admin");
    assert!(!console["spec"]["parentRefs"].as_array().unwrap().is_empty());
    for l in listeners.values() {
        assert!(admits(gw, l, "admin"), "{l}");
        assert!(admits(gw, l, "shop"), "{l}");
        assert!(!admits(gw, l, "intruder"), "{l}");
    }
    for r in &routes {
        for p in r["spec"]["parentRefs"].as_array().unwrap() {
            assert_eq!(p["namespace"], "shop");
            let l = listeners[p["sectionName"].as_str().unwrap()];
            assert!(admits(gw, l, r["metadata"]["namespace"].as_str().unwrap()));
        }
    }
    // `ssl_redirect: false`: no redirect, and every route is on the `http` listener as well
    // as on its host's HTTPS one (ingress-nginx serves both then).
    for r in &routes {
        let sections: BTreeSet<&str> = r["spec"]["parentRefs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["sectionName"].as_str().unwrap())
            .collect();
        assert!(
            sections.contains("http"),
            "{} not served over HTTP",
            r["metadata"]["name"]
        );
        assert!(sections.iter().any(|s| s.starts_with("https-")));
        for rule in r["spec"]["rules"].as_array().unwrap() {
            assert!(
                rule.get("filters").is_none(),
                "a redirect without ssl_redirect"
            );
        }
    }
    // The solver runs in the Gateway's namespace, reachable from the Envoy proxies only.
    let policies = &out.files["k8s/shop/network-policies.yaml"];
    assert!(policies.contains("allow-acme-http01-solver"), "{policies}");
    assert!(
        !out.files["k8s/admin/network-policies.yaml"].contains("allow-acme-http01-solver"),
        "no solver runs in admin"
    );
}

#[test]
fn eks_refuses_the_alb_settings_beside_the_gateway() {
    let text = read("tests/fixtures/workloads/gateway-eks.yaml");
    let with_alb = text.replace(
        "caches:",
        "load_balancer:\n  certificate: { domain: shop.example.com }\n  waf: { rate_limit: 2000 }\ncaches:",
    );
    let err = refused(&with_alb, Provider::Aws, "production");
    assert!(err.contains("`load_balancer`"), "{err}");
    assert!(
        err.contains("WAF cannot be associated with an NLB"),
        "{err}"
    );
    assert!(err.contains("t.yaml:"), "positioned: {err}");
    // `ingress.class: alb` would route through ALB Ingresses, not the Gateway.
    let alb = text.replace(
        "  name: shop\n  hosts:",
        "  name: shop\n  class: alb\n  hosts:",
    );
    assert_ne!(alb, text);
    let err = refused(&alb, Provider::Aws, "production");
    assert!(err.contains("`ingress.class`"), "{err}");
}

#[test]
fn eks_fargate_needs_a_profile_for_envoy_gateway() {
    let text = read("blueprints/case-eks-fargate.yaml");
    let gateway = text.replace(
        "  ssl_redirect: true\n",
        "  ssl_redirect: true\n  gateway: { class: eg }\n",
    );
    assert_ne!(gateway, text);
    let err = refused(&gateway, Provider::Aws, "production");
    assert!(err.contains("envoy-gateway-system"), "{err}");
    assert!(err.contains("no Fargate profile selects"), "{err}");
    // With a profile (and the namespace declared), the proxies run on Fargate behind an
    // IP-target NLB (Fargate has no node ports).
    let covered = gateway
        .replace(
            "  - name: cert-manager\n    namespaces: [cert-manager]\n",
            "  - name: cert-manager\n    namespaces: [cert-manager, envoy-gateway-system]\n",
        )
        .replace(
            "    - name: cert-manager\n",
            "    - name: cert-manager\n    - name: envoy-gateway-system\n      pod_security: baseline\n",
        );
    let out = infragen::synthesize("t.yaml", covered.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let gw = of_kind(&docs, "Gateway")[0];
    assert_eq!(
        gw["spec"]["infrastructure"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"],
        "ip"
    );
    let infra = &out.files["terraform/infra/fargate.tf.json"];
    assert!(infra.contains("envoy-gateway-system"));
}

#[test]
fn an_existing_cluster_is_told_to_run_envoy_gateway_not_ingress_nginx() {
    let out = stage(Provider::Kubernetes);
    let pre = &out.files["preconditions.json"];
    assert!(!pre.contains("IngressClass"), "{pre}");
    assert!(pre.contains("envoy-gateway-system"), "{pre}");
    assert!(pre.contains("config.enableGatewayAPI"), "{pre}");
}

/// On a cluster infragen does not create, the Gateway's address comes from the Service of
/// type LoadBalancer that Envoy Gateway makes for its proxies: without a load-balancer
/// implementation (bare metal: MetalLB, kube-vip, ServiceLB) it stays `<pending>`, so the
/// Gateway gets no address and HTTP-01 never reaches it. The precondition says so (the
/// new-user RKE2 fixture, a cluster in the company's own racks).
#[test]
fn an_existing_cluster_is_told_the_gateway_needs_a_load_balancer_implementation() {
    let out = synth(
        &root().join("tests/fixtures/new-user/plover-vets-rke2-gateway.yaml"),
        Provider::Kubernetes,
        "production",
    );
    let pre: Vec<Value> = serde_json::from_str(&out.files["preconditions.json"]).unwrap();
    let envoy = pre
        .iter()
        .find(|p| p["name"] == "envoy-gateway")
        .expect("Envoy Gateway's precondition");
    let why = envoy["why"].as_str().unwrap();
    assert!(why.contains("`type: LoadBalancer`"), "{why}");
    assert!(why.contains("MetalLB"), "{why}");
    assert!(why.contains("`<pending>`"), "{why}");
}

#[test]
fn the_edge_sizing_reaches_the_envoy_proxies() {
    // ecommerce-doks declares `ingress_controller.replicas { min: 2, max: 5 }` and resources
    // for its edge; in `stage` the Envoy proxies are that edge.
    let out = stage(Provider::Digitalocean);
    let docs = manifests(&out);
    let class = of_kind(&docs, "GatewayClass")[0];
    let r = &class["spec"]["parametersRef"];
    assert_eq!(r["group"], "gateway.envoyproxy.io");
    assert_eq!(r["kind"], "EnvoyProxy");
    let proxies = of_kind(&docs, "EnvoyProxy");
    assert_eq!(proxies.len(), 1);
    let p = proxies[0];
    assert_eq!(p["metadata"]["name"], r["name"]);
    assert_eq!(p["metadata"]["namespace"], r["namespace"]);
    assert_eq!(p["metadata"]["namespace"], "envoy-gateway-system");
    let k = &p["spec"]["provider"]["kubernetes"];
    assert_eq!(k["envoyHpa"]["minReplicas"], 2);
    assert_eq!(k["envoyHpa"]["maxReplicas"], 5);
    // With an HPA, Envoy Gateway must not also pin the Deployment's replicas.
    assert!(k["envoyDeployment"].get("replicas").is_none());
    assert_eq!(k["envoyPDB"]["minAvailable"], 1);
    assert_eq!(
        k["envoyDeployment"]["container"]["resources"]["limits"]["memory"],
        "512Mi"
    );
    // The HPA reads the resource metrics API, which DOKS serves only with metrics-server.
    let controllers = &out.files["terraform/platform/controllers.tf.json"];
    assert!(controllers.contains("metrics-server"), "{controllers}");
    // Without any sizing, Envoy Gateway's defaults apply: on EKS the EnvoyProxy carries
    // only the shutdown pause of the NLB's IP targets (`readiness_gates.rs`), no size.
    let eks = synth(
        &root().join("tests/fixtures/workloads/gateway-eks.yaml"),
        Provider::Aws,
        "production",
    );
    let docs = manifests(&eks);
    let proxies = of_kind(&docs, "EnvoyProxy");
    assert_eq!(proxies.len(), 1);
    let spec = proxies[0]["spec"].as_object().unwrap();
    assert_eq!(
        spec.keys().collect::<Vec<_>>(),
        ["provider", "shutdown"],
        "{spec:?}"
    );
    assert!(spec["provider"].get("kubernetes").is_none(), "{spec:?}");
}

#[test]
fn the_gateway_needs_a_cert_manager_with_gateway_api_support() {
    let text = read("blueprints/ecommerce-doks.yaml");
    let old = text.replace(
        "    chart_version: v1.21.2 #",
        "    chart_version: v1.13.3\n    allow_unsupported: true #",
    );
    assert_ne!(old, text);
    let err = refused(&old, Provider::Digitalocean, "stage");
    assert!(
        err.contains("`kubernetes.cert_manager.chart_version`"),
        "{err}"
    );
    assert!(err.contains("enableGatewayAPI"), "{err}");
}

/// techshop on the Gateway API: its ingress-nginx rate limit has no equivalent (dropped
/// here), its prefix-stripping rewrite has one.
fn techshop_gateway(rewrite: &str) -> Result<infragen::Output, String> {
    let text = std::fs::read_to_string(root().join("blueprints/techshop.yaml")).unwrap();
    let old = "  rate_limit: { requests: 100, window: 1m }\n  rewrite_target: /$2";
    assert!(text.contains(old));
    let text = text.replace(
        old,
        &format!("  rewrite_target: {rewrite}\n  gateway: {{ class: eg }}"),
    );
    infragen::synthesize(
        "techshop.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

#[test]
fn the_prefix_stripping_rewrite_becomes_a_url_rewrite() {
    // ingress-nginx: `/api(/|$)(.*)` with `rewrite-target: /$2` sends /api/orders to the
    // app as /orders.
    let out = techshop_gateway("/$2").unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(&out);
    let route = of_kind(&docs, "HTTPRoute")
        .into_iter()
        .find(|r| r["spec"]["rules"][0].get("backendRefs").is_some())
        .unwrap();
    let rules = route["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    // Exactly one PathPrefix match per rule with ReplacePrefixMatch (the CRD's rule).
    assert_eq!(rule["matches"].as_array().unwrap().len(), 1);
    assert_eq!(rule["matches"][0]["path"]["type"], "PathPrefix");
    assert_eq!(rule["matches"][0]["path"]["value"], "/api");
    let f = &rule["filters"][0];
    assert_eq!(f["type"], "URLRewrite");
    assert_eq!(f["urlRewrite"]["path"]["type"], "ReplacePrefixMatch");
    assert_eq!(f["urlRewrite"]["path"]["replacePrefixMatch"], "/");
    let report = Schemas::bundled().check_files(
        out.files
            .iter()
            .filter(|(f, _)| f.ends_with("gateway.yaml"))
            .map(|(f, t)| (f.as_str(), t.as_str())),
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // Any other rewrite (capture groups, other targets) has no Gateway API equivalent.
    let err = techshop_gateway("/v2/$2").unwrap_err();
    assert!(err.contains("`ingress.rewrite_target`"), "{err}");
    assert!(err.contains("prefix-stripping"), "{err}");
    // The prefix idiom itself.
    assert_eq!(
        infragen::k8s::stripped_prefix("/api(/|$)(.*)", "/$2"),
        Some("/api")
    );
    assert_eq!(infragen::k8s::stripped_prefix("/api/(.*)", "/$1"), None);
    assert_eq!(infragen::k8s::stripped_prefix("/(/|$)(.*)", "/$2"), None);
    assert_eq!(infragen::k8s::stripped_prefix("/a.+(/|$)(.*)", "/$2"), None);
}

#[test]
fn the_edge_load_balancer_name_is_one_the_cloud_accepts() {
    // The NLB in front of the Envoy proxies is named by the Load Balancer Controller's
    // annotation; ELB refuses more than 32 characters only when the Service reconciles.
    let text = read("tests/fixtures/workloads/gateway-eks.yaml");
    let long = text.replace(
        "load_balancer_name: shop-edge",
        "load_balancer_name: shop-edge-of-the-production-cluster",
    );
    assert_ne!(long, text);
    let err = refused(&long, Provider::Aws, "production");
    assert!(
        err.contains("`kubernetes.ingress_controller.load_balancer_name`"),
        "{err}"
    );
    assert!(err.contains("at most 32 characters"), "{err}");
    assert!(err.contains("t.yaml:"), "positioned: {err}");
}

/// Whether a Gateway listener lets an HTTPRoute in namespace `ns` attach
/// (`allowedRoutes.namespaces`: `Same`, `All`, or a selector on the namespace's
/// `kubernetes.io/metadata.name` label, the only label these selectors use).
fn admits(gw: &Value, listener: &Value, ns: &str) -> bool {
    let n = &listener["allowedRoutes"]["namespaces"];
    match n["from"].as_str().unwrap_or("Same") {
        "All" => true,
        "Same" => gw["metadata"]["namespace"] == ns,
        "Selector" => n["selector"]["matchExpressions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| {
                assert_eq!(e["key"], "kubernetes.io/metadata.name");
                assert_eq!(e["operator"], "In");
                e["values"].as_array().unwrap().iter().any(|v| v == ns)
            }),
        other => panic!("allowedRoutes from {other}"),
    }
}

/// The text of a file of the project (`blueprints/…`, `tests/fixtures/…`).
fn read(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap()
}

/// Synthesize blueprint text (named `t.yaml` in messages) that must be refused: the
/// diagnostics' text.
fn refused(text: &str, provider: Provider, env: &str) -> String {
    match infragen::synthesize("t.yaml", text.as_bytes(), provider, env) {
        Ok(_) => panic!("synthesized, but should have been refused"),
        Err(d) => d.to_string(),
    }
}

/// Envoy Gateway's OCI chart is tagged `v1.9.1`: a blueprint's `chart_version: 1.9.1` is
/// written with the tag's `v`, one that has it is kept as given.
#[test]
fn envoy_gateway_chart_versions_take_the_tags_spelling() {
    let path = root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    for (given, written) in [("1.9.1", "v1.9.1"), ("v1.9.1", "v1.9.1")] {
        let text = yaml.replacen(
            "gateway: { class: eg }",
            &format!("gateway: {{ class: eg, chart_version: \"{given}\" }}"),
            1,
        );
        assert_ne!(text, yaml, "fixture layout changed");
        let out = crate::support::synth_aws("gateway-eks", &text).unwrap_or_else(|e| panic!("{e}"));
        let release = crate::support::resources(&out, "platform", "helm_release")
            .into_iter()
            .find(|r| r["chart"] == "gateway-helm")
            .expect("the Envoy Gateway release");
        assert_eq!(release["version"], written, "chart_version {given}");
    }
}
