//! Zero-502 rollouts on EKS: the AWS Load Balancer Controller registers pods as IP targets,
//! and only a pod readiness gate (injected into the pods of namespaces labelled
//! `elbv2.k8s.aws/pod-readiness-gate-inject: enabled`) makes a rolling update wait for the
//! new targets' health before it removes old pods; a preStop pause keeps a terminating
//! target serving until it is deregistered.
//! <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/>
//!
//! Checked on the output of every shipped blueprint and fixture: the namespaces labelled are
//! exactly those holding a pod that a controller-made load balancer targets by IP (found
//! from the output itself: Ingresses of class `alb` → their Services → the pods those
//! select; ingress-nginx's or Envoy's NLB / the ALB in front of ingress-nginx → the proxies'
//! namespace), on EKS and nowhere else; and the controller is installed before any pod of
//! a labelled namespace is created (its webhook fails closed).

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::support::{
    cloud_outputs, manifests, matrix, resources, routed_services, synth, synth_aws,
};

const LABEL: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";
const NLB_TARGET: &str = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";
const ALB_TARGET: &str = "alb.ingress.kubernetes.io/target-type";

/// Kinds whose objects run pods.
const POD_KINDS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

fn is_eks(out: &infragen::Output) -> bool {
    resources(out, "platform", "helm_release")
        .iter()
        .any(|r| r["chart"] == "aws-load-balancer-controller")
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The pod template of a pod-running object.
fn pod_template(doc: &Value) -> &Value {
    match str_of(&doc["kind"]) {
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"],
        _ => &doc["spec"]["template"],
    }
}

/// Whether `labels` carry every pair of `selector`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| &labels[k] == v))
}

/// The namespaces holding a pod that a load balancer of the controller targets by IP, read
/// from the output alone.
fn ip_target_namespaces(out: &infragen::Output) -> BTreeSet<String> {
    let docs = manifests(out);
    let mut out_ns = BTreeSet::new();
    // Ingresses of class `alb` with IP targets → the Services they route to → their pods.
    for ing in docs.iter().filter(|d| d["kind"] == "Ingress") {
        let a = &ing["metadata"]["annotations"];
        if ing["spec"]["ingressClassName"] != "alb" || a[ALB_TARGET] != "ip" {
            continue;
        }
        let ns = str_of(&ing["metadata"]["namespace"]);
        let backends = routed_services(ing);
        for svc in docs.iter().filter(|d| {
            d["kind"] == "Service"
                && d["metadata"]["namespace"] == ns
                && backends.iter().any(|b| b == str_of(&d["metadata"]["name"]))
        }) {
            let selector = &svc["spec"]["selector"];
            if docs.iter().any(|d| {
                POD_KINDS.contains(&str_of(&d["kind"]))
                    && d["metadata"]["namespace"] == ns
                    && selects(selector, &pod_template(d)["metadata"]["labels"])
            }) {
                out_ns.insert(ns.to_string());
            }
        }
    }
    // The in-cluster proxies: ingress-nginx's Service as an NLB with IP targets, or behind
    // the platform's edge ALB Ingress with IP targets; Envoy's for a Gateway whose
    // infrastructure asks for an NLB with IP targets.
    for r in resources(out, "platform", "helm_release") {
        let values: Value = serde_json::from_str(str_of(&r["values"][0])).unwrap();
        let ns = str_of(&r["namespace"]).to_string();
        if r["chart"] == "ingress-nginx"
            && values["controller"]["service"]["annotations"][NLB_TARGET] == "ip"
        {
            out_ns.insert(ns.clone());
        }
        if r["chart"] == "gateway-helm"
            && docs.iter().any(|d| {
                d["kind"] == "Gateway"
                    && d["spec"]["infrastructure"]["annotations"][NLB_TARGET] == "ip"
            })
        {
            out_ns.insert(ns);
        }
    }
    for ing in resources(out, "platform", "kubernetes_ingress_v1") {
        if ing["spec"]["ingress_class_name"] == "alb"
            && ing["metadata"]["annotations"][ALB_TARGET] == "ip"
        {
            out_ns.insert(str_of(&ing["metadata"]["namespace"]).to_string());
        }
    }
    out_ns
}

/// The namespaces carrying the label (`enabled`): declared in `k8s/`, or created by the
/// platform's Terraform.
fn labelled(out: &infragen::Output) -> BTreeSet<String> {
    let mut ns: BTreeSet<String> = manifests(out)
        .iter()
        .filter(|d| d["kind"] == "Namespace" && d["metadata"]["labels"][LABEL] == "enabled")
        .map(|d| str_of(&d["metadata"]["name"]).to_string())
        .collect();
    for module in ["platform", "connections"] {
        ns.extend(
            resources(out, module, "kubernetes_namespace_v1")
                .iter()
                .filter(|r| r["metadata"]["labels"][LABEL] == "enabled")
                .map(|r| str_of(&r["metadata"]["name"]).to_string()),
        );
        // A namespace Kubernetes owns (`default`), labelled in place.
        ns.extend(
            resources(out, module, "kubernetes_labels")
                .iter()
                .filter(|r| r["kind"] == "Namespace" && r["labels"][LABEL] == "enabled")
                .map(|r| str_of(&r["metadata"]["name"]).to_string()),
        );
    }
    ns
}

#[test]
fn exactly_the_namespaces_of_ip_target_pods_are_labelled_on_eks_and_none_elsewhere() {
    let mut seen = BTreeMap::new();
    for (label, out) in cloud_outputs() {
        if !is_eks(&out) {
            continue;
        }
        let expected = ip_target_namespaces(&out);
        assert_eq!(
            labelled(&out),
            expected,
            "{label}: the namespaces labelled for the controller's readiness gates are not those holding its IP targets"
        );
        seen.insert(label, expected);
    }
    // The check saw app namespaces (class `alb`, the internal ALB) and the proxies' alike.
    let all: BTreeSet<&String> = seen.values().flatten().collect();
    assert!(all.contains(&"ingress-nginx".to_string()), "{seen:?}");
    assert!(
        all.contains(&"envoy-gateway-system".to_string()),
        "{seen:?}"
    );
    assert!(
        all.iter()
            .any(|n| !n.contains("ingress") && !n.contains("envoy")),
        "{seen:?}"
    );

    // DOKS and other clusters: infragen installs no such controller there.
    for (name, path, provider, env) in matrix() {
        if provider == Provider::Aws {
            continue;
        }
        let out = synth(&path, provider, &env);
        for (file, text) in &out.files {
            assert!(
                !text.contains(LABEL),
                "{name} {provider} {env}: {file} labels a namespace for a load balancer controller infragen does not install there"
            );
        }
    }
}

/// Whether `release` (a `helm_release` address) depends, directly or through other
/// releases and namespaces of `terraform/platform`, on `on`.
fn depends_on(bodies: &BTreeMap<String, Value>, release: &str, on: &str) -> bool {
    let mut todo = vec![release.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(r) = todo.pop() {
        if !seen.insert(r.clone()) {
            continue;
        }
        for d in bodies
            .get(&r)
            .and_then(|b| b["depends_on"].as_array())
            .into_iter()
            .flatten()
        {
            if d == on {
                return true;
            }
            todo.push(str_of(d).to_string());
        }
    }
    false
}

#[test]
fn the_controller_answers_before_any_pod_of_a_labelled_namespace_is_created() {
    let lbc = "helm_release.aws_load_balancer_controller";
    let mut checked = 0;
    for (label, out) in cloud_outputs() {
        if !is_eks(&out) {
            continue;
        }
        let gated = labelled(&out);
        // Every helm_release of `platform` by address.
        let mut releases: BTreeMap<String, Value> = BTreeMap::new();
        for (path, text) in &out.files {
            if !path.starts_with("terraform/platform/") {
                continue;
            }
            let doc: Value = serde_json::from_str(text).unwrap();
            for (name, body) in doc["resource"]["helm_release"]
                .as_object()
                .into_iter()
                .flatten()
            {
                releases.insert(format!("helm_release.{name}"), body.clone());
            }
        }
        let controller = &releases[lbc];
        assert_eq!(controller["namespace"], "kube-system", "{label}");
        assert!(
            !gated.contains("kube-system"),
            "{label}: the controller's own namespace is labelled: its pods would wait for their own webhook"
        );
        // `wait`: the release completes only once the controller (and its webhook) is ready,
        // so what depends on it finds the webhook answering.
        assert_eq!(controller["wait"], true, "{label}");
        assert_eq!(
            controller["values"][0].as_str().map(|v| {
                serde_json::from_str::<Value>(v).unwrap()["enablePodReadinessGateInject"].clone()
            }),
            Some(Value::Bool(true)),
            "{label}"
        );
        // Pods of a labelled namespace created in `platform` come from releases that wait
        // for the controller's; nothing in `infra` (applied before) runs pods there; the
        // manifests' pods are applied after `platform` (docs/output.md).
        for (addr, body) in &releases {
            if addr != lbc && gated.contains(str_of(&body["namespace"])) {
                assert!(
                    depends_on(&releases, addr, lbc),
                    "{label}: {addr} runs pods in a labelled namespace without waiting for the controller"
                );
                checked += 1;
            }
        }
        for (path, text) in &out.files {
            if path.starts_with("terraform/infra/") {
                assert!(
                    !text.contains("\"helm_release\"") && !text.contains("kubernetes_deployment"),
                    "{label}: {path} runs pods before the controller exists"
                );
            }
        }
    }
    assert!(
        checked > 0,
        "no release in a labelled namespace was checked"
    );
}

/// The pod specs of the Deployments named `name` (or `name-…`: a colour, a track).
fn deployments<'d>(docs: &'d [Value], name: &str) -> Vec<&'d Value> {
    docs.iter()
        .filter(|d| d["kind"] == "Deployment" && str_of(&d["metadata"]["name"]).starts_with(name))
        .map(|d| &d["spec"]["template"]["spec"])
        .collect()
}

/// [`alb_stack`](crate::support::alb_stack) with `service` and a worker behind no load
/// balancer.
fn alb_stack(service: &str) -> String {
    crate::support::alb_stack(&format!(
        "{service}
  - name: worker
    image: ghcr.io/example/worker:1.0
    replicas: 1
"
    ))
}

#[test]
fn a_target_pod_pauses_before_sigterm_and_keeps_its_stop_timeout_after_it() {
    only_load_balancer_targets_on_eks_pause_before_sigterm();
    let out = synth_aws(
        "gate",
        &alb_stack(
            "  - name: web
    image: gcr.io/distroless/static:nonroot
    port: 8080
    replicas: 2
    stop_timeout: 20
    routes: [{ path: / }]
    sidecars:
      - { name: proxy, image: ghcr.io/example/proxy:1.0 }",
        ),
    )
    .unwrap();
    let docs = manifests(&out);
    let web = deployments(&docs, "web");
    assert!(!web.is_empty());
    for pod in web {
        // Every container pauses alike with Kubernetes's own sleep action (no `sleep`
        // binary in a distroless image, no exec), then the app still has its 20 s.
        let containers = pod["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 2);
        let mut pause = None;
        for c in containers {
            let seconds = c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64();
            assert!(seconds.is_some_and(|s| s >= 5), "{c}");
            assert!(c["lifecycle"]["preStop"].get("exec").is_none(), "{c}");
            pause = seconds;
        }
        assert_eq!(
            pod["terminationGracePeriodSeconds"].as_u64(),
            pause.map(|p| p + 20),
            "{pod}"
        );
    }
    // A worker no load balancer targets stops as before.
    for pod in deployments(&docs, "worker") {
        assert!(pod["containers"][0].get("lifecycle").is_none(), "{pod}");
        assert!(pod.get("terminationGracePeriodSeconds").is_none(), "{pod}");
    }
    // The default stop timeout (30 s) is kept after the pause too.
    let out = synth_aws(
        "gate",
        &alb_stack(
            "  - name: web
    image: ghcr.io/example/web:1.0
    port: 8080
    replicas: 2
    routes: [{ path: / }]",
        ),
    )
    .unwrap();
    let docs = manifests(&out);
    for pod in deployments(&docs, "web") {
        let pause = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
            .as_u64()
            .unwrap();
        assert_eq!(
            pod["terminationGracePeriodSeconds"].as_u64(),
            Some(pause + 30)
        );
    }
}

/// On every shipped output: a Deployment pauses only where a load balancer of the
/// controller targets its pods.
fn only_load_balancer_targets_on_eks_pause_before_sigterm() {
    for (label, out) in cloud_outputs() {
        let docs = manifests(&out);
        let eks = is_eks(&out);
        let targets = ip_target_namespaces(&out);
        for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
            let pod = &d["spec"]["template"]["spec"];
            let paused = pod["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["lifecycle"]["preStop"].is_object());
            if paused {
                assert!(
                    eks && targets.contains(str_of(&d["metadata"]["namespace"])),
                    "{label}: {} pauses before SIGTERM though no load balancer of the controller targets it",
                    d["metadata"]["name"]
                );
            }
        }
    }
}

#[test]
fn a_target_in_default_is_labelled_in_place_and_kube_system_never() {
    let service = |ns: &str| {
        format!(
            "  - name: web
    namespace: {ns}
    image: ghcr.io/example/web:1.0
    port: 8080
    replicas: 2
    routes: [{{ path: / }}]"
        )
    };
    // `default` exists already: no manifest declares it, so Terraform labels it.
    let out = synth_aws("gate", &alb_stack(&service("default"))).unwrap();
    assert!(ip_target_namespaces(&out).contains("default"));
    assert_eq!(labelled(&out), ip_target_namespaces(&out));
    // `kube-system` would make every system pod wait on the controller's webhook: never
    // labelled, and said. (Only without the namespace-wide policies, which would isolate
    // CoreDNS there and are refused with a workload in it: `semantic::platform_namespaces`.)
    let open = "kubernetes: { network_policies: { default_deny_ingress: false, allow_same_namespace: false } }\nservices:\n";
    let yaml = alb_stack(&service("kube-system")).replacen("services:\n", open, 1);
    let out = synth_aws("gate", &yaml).unwrap();
    assert!(ip_target_namespaces(&out).contains("kube-system"));
    assert!(!labelled(&out).contains("kube-system"));
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("`web`") && n.text.contains("readiness gates")),
        "{:?}",
        out.notes
    );
}

/// Seconds an NLB takes to deregister an IP target, during which it still sends the target
/// new connections (kubernetes-sigs/aws-load-balancer-controller#2366, #3270: about two
/// minutes whatever the deregistration delay).
const NLB_DEREGISTRATION: u64 = 120;

/// nginx's default `worker-shutdown-timeout` (240 s): the drain that follows the pause.
const NGINX_WORKER_SHUTDOWN: u64 = 240;

fn seconds(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.trim_end_matches('s').parse().unwrap(),
        _ => panic!("not a duration: {v}"),
    }
}

/// On EKS the in-cluster proxies are IP targets of the NLB (or of the ALB in front of
/// ingress-nginx): a deleted proxy pod must keep accepting connections while the load
/// balancer deregisters it, and only then drain. ingress-nginx: `--shutdown-grace-period`
/// (the chart's preStop `/wait-shutdown` signals the controller at once, and nginx quit
/// at once with the default 0) and a grace period covering the pause and nginx's drain.
/// Envoy: the EnvoyProxy's `shutdown.minDrainDuration`, with `drainTimeout` past it (the
/// shutdown manager let Envoy exit 10 s after SIGTERM by default). Not on DOKS, whose load
/// balancer targets nodes.
#[test]
fn the_proxies_keep_accepting_while_their_ip_target_is_deregistered() {
    let (mut nginx, mut envoy) = (0, 0);
    for (label, out) in cloud_outputs() {
        let eks = is_eks(&out);
        if let Some(values) = crate::support::ingress_nginx_values(&out) {
            let v: Value = serde_json::from_str(&values).unwrap();
            let c = &v["controller"];
            let pause = &c["extraArgs"]["shutdown-grace-period"];
            if !eks {
                assert!(pause.is_null(), "{label}: {c}");
                continue;
            }
            assert!(
                seconds(pause) >= NLB_DEREGISTRATION,
                "{label}: ingress-nginx quits before its load balancer target is deregistered: {c}"
            );
            assert!(
                seconds(&c["terminationGracePeriodSeconds"])
                    >= seconds(pause) + NGINX_WORKER_SHUTDOWN,
                "{label}: the grace period does not cover the pause and nginx's drain: {c}"
            );
            nginx += 1;
        }
        let docs = manifests(&out);
        for class in docs.iter().filter(|d| d["kind"] == "GatewayClass") {
            let proxy = docs.iter().find(|d| {
                d["kind"] == "EnvoyProxy"
                    && d["metadata"]["name"] == class["spec"]["parametersRef"]["name"]
            });
            let shutdown = proxy.map(|p| &p["spec"]["shutdown"]);
            if !eks {
                assert!(shutdown.is_none_or(Value::is_null), "{label}: {proxy:?}");
                continue;
            }
            let s = shutdown.unwrap_or_else(|| panic!("{label}: no EnvoyProxy for the class"));
            assert!(
                seconds(&s["minDrainDuration"]) >= NLB_DEREGISTRATION,
                "{label}: Envoy may exit before its load balancer target is deregistered: {s}"
            );
            assert!(
                seconds(&s["drainTimeout"]) > seconds(&s["minDrainDuration"]),
                "{label}: the drain ends before the pause does: {s}"
            );
            envoy += 1;
        }
    }
    assert!(nginx > 0 && envoy > 0, "nginx {nginx}, envoy {envoy}");
}
