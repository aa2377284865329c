//! `probes.<kind>.headers`: a Django or Rails app answers a Host outside its allowed names with
//! 400/403, and the kubelet's HTTP probe carries the pod's IP as its Host, so without a
//! header the pod never gets ready. The new-user Django and Rails blueprints name their host;
//! every platform that runs the probe must send it, per environment.

use infragen::Provider;
use serde_json::{Value, json};

use crate::support::{ecs_stack, manifests, root, synth, synth_aws};

/// The `web` Deployment's probes' `httpGet.httpHeaders` (readiness, liveness).
fn web_headers(out: &infragen::Output) -> (Value, Value) {
    let docs = manifests(out);
    let d = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "web")
        .expect("a web Deployment");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    (
        c["readinessProbe"]["httpGet"]["httpHeaders"].clone(),
        c["livenessProbe"]["httpGet"]["httpHeaders"].clone(),
    )
}

#[test]
fn http_probes_send_the_hosts_the_applications_allow() {
    let cases = [
        ("quill-django-eks", Provider::Aws, "quill.example.com"),
        (
            "quill-django-eks",
            Provider::Kubernetes,
            "quill.example.com",
        ),
        (
            "tally-rails-doks",
            Provider::Digitalocean,
            "tally.example.com",
        ),
        (
            "tally-rails-doks",
            Provider::Kubernetes,
            "tally.example.com",
        ),
    ];
    for (stem, provider, host) in cases {
        let path = root().join(format!("tests/fixtures/new-user/{stem}.yaml"));
        for (env, host) in [
            ("production", host.to_string()),
            ("staging", format!("staging.{host}")),
        ] {
            let out = synth(&path, provider, env);
            let want = json!([{ "name": "Host", "value": host }]);
            let (readiness, liveness) = web_headers(&out);
            assert_eq!(readiness, want, "{stem} {provider} {env}: readiness");
            assert_eq!(liveness, want, "{stem} {provider} {env}: liveness");
        }
    }
}

#[test]
fn an_alb_checking_its_own_path_lets_the_probe_keep_its_headers() {
    // With `load_balancer.health_check` the ALB no longer takes the readiness path, so the
    // headers reach only the kubelet, which sends them.
    let yaml = ecs_stack(
        "quill",
        "load_balancer:
  certificate: { domain: quill.example.com }
  health_check: { path: /healthz/, matcher: \"200,400\" }
services:
  - name: web
    image: ghcr.io/quill/app:2026.12.0
    port: 8000
    routes: [{ path: / }]
    probes:
      readiness: { path: /healthz/, headers: { Host: quill.example.com } }
",
    );
    synth_aws("quill", &yaml).unwrap();
    let refused = synth_aws(
        "quill",
        &yaml.replace(
            "  health_check: { path: /healthz/, matcher: \"200,400\" }\n",
            "",
        ),
    )
    .unwrap_err();
    assert!(
        refused.contains("services[0].probes.readiness.headers")
            && refused.contains("ALB health check sends no headers"),
        "{refused}"
    );
}

#[test]
fn a_grpc_service_behind_the_alb_keeps_the_headers_of_its_http_probe() {
    // The ALB checks a gRPC service through the gRPC health service, never a probe's path:
    // an HTTP readiness probe on the server's admin port may send the Host it needs.
    let yaml = std::fs::read_to_string(root().join("tests/fixtures/workloads/grpc-eks.yaml"))
        .unwrap()
        .replace(
            "    routes: [{ path: /, host: api.grpc.example.com }]\n",
            "    routes: [{ path: /, host: api.grpc.example.com }]
    probes: { readiness: { path: /ready, port: 8081, headers: { Host: api.grpc.example.com } } }\n",
        );
    let out = synth_aws("grpc", &yaml).unwrap();
    let docs = manifests(&out);
    let api = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("an api Deployment");
    assert_eq!(
        api["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["httpHeaders"],
        json!([{ "name": "Host", "value": "api.grpc.example.com" }])
    );
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "api")
        .expect("an api Service");
    assert_eq!(
        service["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"],
        "/grpc.health.v1.Health/Check"
    );
}
