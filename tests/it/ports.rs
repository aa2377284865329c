//! Would each container bind the ports it declares? infragen's pods run as a non-root user
//! with every capability dropped, and the kernel lets such a process bind a port below 1024
//! only when the pod's network namespace lowers `net.ipv4.ip_unprivileged_port_start` (a
//! safe, namespaced sysctl) — otherwise `bind` fails with EACCES and the pod crash-loops.
//! EKS on Fargate sets no sysctls and grants no capabilities, so there such a port is
//! refused at synth.

use infragen::Provider;
use infragen::check::kubernetes::to_json;
use serde_json::Value;
use yaml_rust2::YamlLoader;

use crate::support::{matrix, root, synth};

fn documents(out: &infragen::Output) -> Vec<Value> {
    let mut docs = Vec::new();
    for (file, text) in &out.files {
        if file.starts_with("k8s/") && file.ends_with(".yaml") {
            for d in YamlLoader::load_from_str(text).unwrap() {
                docs.push(to_json(&d).unwrap());
            }
        }
    }
    docs
}

/// Every pod spec of the manifests, named `Kind/name`.
fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
    docs.iter()
        .filter_map(|d| {
            let spec = match d["kind"].as_str()? {
                "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
                    &d["spec"]["template"]["spec"]
                }
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => return None,
            };
            Some((
                format!(
                    "{}/{}",
                    d["kind"].as_str()?,
                    d["metadata"]["name"].as_str()?
                ),
                spec,
            ))
        })
        .collect()
}

/// Whether `container` of `pod` may bind `port`, as the kernel decides.
fn may_bind(pod: &Value, container: &Value, port: u64) -> bool {
    if port >= 1024 {
        return true;
    }
    let start = pod["securityContext"]["sysctls"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "net.ipv4.ip_unprivileged_port_start")
        .and_then(|s| s["value"].as_str()?.parse::<u64>().ok());
    if start.is_some_and(|s| s <= port) {
        return true;
    }
    let sc = &container["securityContext"];
    let caps = |k: &str| -> Vec<&str> {
        sc["capabilities"][k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    if caps("add").contains(&"NET_BIND_SERVICE") {
        return true;
    }
    let user = sc["runAsUser"]
        .as_u64()
        .or_else(|| pod["securityContext"]["runAsUser"].as_u64());
    let non_root = sc["runAsNonRoot"] == true || pod["securityContext"]["runAsNonRoot"] == true;
    let root = user == Some(0) || (user.is_none() && !non_root);
    root && !caps("drop")
        .iter()
        .any(|c| *c == "ALL" || *c == "NET_BIND_SERVICE")
}

/// The (workload, container, port) a pod declares but could not bind.
fn unbindable(out: &infragen::Output) -> Vec<String> {
    let docs = documents(out);
    let mut bad = Vec::new();
    for (what, pod) in pod_specs(&docs) {
        for c in pod["containers"].as_array().into_iter().flatten() {
            for p in c["ports"].as_array().into_iter().flatten() {
                let port = p["containerPort"].as_u64().unwrap();
                if !may_bind(pod, c, port) {
                    bad.push(format!("{what} {} {port}", c["name"].as_str().unwrap()));
                }
            }
        }
    }
    bad
}

/// Every shipped blueprint × provider × environment: each container can bind its ports.
#[test]
fn every_shipped_container_can_bind_its_ports() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        let out = synth(&path, provider, &env);
        let bad = unbindable(&out);
        assert!(
            bad.is_empty(),
            "{stem} {provider} {env}: cannot bind {bad:?}"
        );
        checked += 1;
    }
    assert!(checked > 0);
}

/// A service listening on 80 on EC2 nodes (ecommerce-eks's gateway): every pod of it lowers
/// the unprivileged port range to exactly 80, no further, so it binds without a capability.
#[test]
fn a_port_below_1024_lowers_the_pods_unprivileged_port_start() {
    let text = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let from = "    port: 3000\n    service_port: 80\n";
    assert!(text.contains(from));
    // The gateway is the first service; its probes and metrics follow the port.
    let text = text
        .replacen(from, "    port: 80\n    service_port: 80\n", 1)
        .replacen(
            "port: 3000, initial_delay: 10",
            "port: 80, initial_delay: 10",
            1,
        )
        .replacen(
            "port: 3000, initial_delay: 5",
            "port: 80, initial_delay: 5",
            1,
        );
    let out = infragen::synthesize(
        "ecommerce-eks.yaml",
        text.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(unbindable(&out), Vec::<String>::new());
    let docs = documents(&out);
    let gateway: Vec<_> = pod_specs(&docs)
        .into_iter()
        .filter(|(w, _)| w.starts_with("Deployment/gateway"))
        .collect();
    assert!(!gateway.is_empty());
    for (_, pod) in gateway {
        assert_eq!(
            pod["securityContext"]["sysctls"],
            serde_json::json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}])
        );
    }
    // Services on high ports keep the kernel's default.
    for (w, pod) in pod_specs(&docs) {
        if !w.starts_with("Deployment/gateway") {
            assert!(pod["securityContext"].get("sysctls").is_none(), "{w}");
        }
    }
}

/// EKS on Fargate: the frontend listening on 80 (the seed's figure) is refused where it is
/// written, naming the way out; the shipped blueprint listens on 8080 behind Service port 80.
#[test]
fn fargate_refuses_a_port_below_1024() {
    let path = root().join("blueprints/case-eks-fargate.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = "    port: 8080\n    service_port: 80";
    assert!(text.contains(from));
    let bad = text.replacen(from, "    port: 80\n    service_port: 80", 1);
    let err = match infragen::synthesize(
        "case-eks-fargate.yaml",
        bad.as_bytes(),
        Provider::Aws,
        "production",
    ) {
        Ok(_) => panic!("port 80 cannot be bound on Fargate"),
        Err(d) => d.to_string(),
    };
    assert!(err.contains("`services[1].port`"), "{err}");
    assert!(err.contains("case-eks-fargate.yaml:"), "{err}");
    assert!(err.contains("service_port: 80"), "{err}");
    // The shipped blueprint: container 8080, Service 80 → 8080.
    let out = synth(&path, Provider::Aws, "production");
    let docs = documents(&out);
    let svc = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "frontend")
        .unwrap();
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
}
