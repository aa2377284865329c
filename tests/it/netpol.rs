//! The NetworkPolicies of every shipped blueprint × provider × environment, evaluated rule by
//! rule with a small model of the NetworkPolicy API (`networking.k8s.io/v1`): a connection
//! from pod A to pod B on a TCP port is allowed when A's egress policies (if any select A)
//! and B's ingress policies (if any select B) each have a rule admitting it. Policies are
//! additive; peers are pods by label (in the policy's namespace unless a namespace selector
//! says otherwise), namespaces by label (`kubernetes.io/metadata.name`), or address blocks.
//!
//! Besides the pods the manifests run, the model adds the pods the cluster brings: the
//! ingress-nginx controller in its namespace, cert-manager's HTTP-01 solver in every
//! namespace with an Ingress, kube-dns in `kube-system`, Prometheus in the monitoring
//! namespace, and an intruder in a namespace nobody names. Every pod gets an address in the
//! pod network (10.244.0.0/16, an existing cluster's `providers.kubernetes.pod_cidr`, or a
//! DOKS cluster's `cluster_subnet`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use infragen::check::kubernetes::to_json;
use serde_json::{Value, json};
use yaml_rust2::YamlLoader;

use crate::support::{matrix, synth};

#[derive(Debug, Clone)]
struct Pod {
    what: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    ports: Vec<u16>,
    ip: Ipv4Addr,
    /// The port its `prometheus.io/port` annotation names.
    metrics: Option<u16>,
}

impl Pod {
    fn new(what: &str, ns: &str, labels: &[(&str, &str)], ports: &[u16]) -> Pod {
        Pod {
            what: what.into(),
            namespace: ns.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: ports.to_vec(),
            ip: pod_ip(),
            metrics: None,
        }
    }

    fn app(&self) -> &str {
        self.labels.get("app").map_or("", String::as_str)
    }
}

/// The address every modelled pod has (inside the overlay pod network).
/// Blueprint jobs checked against in-cluster data services: [reaching one they use,
/// denied one they do not use].
static JOB_CHECKS: std::sync::Mutex<[usize; 2]> = std::sync::Mutex::new([0, 0]);

/// Egress-restricted pods on DOKS checked for Cilium's `kube-apiserver` entity rule.
static CILIUM_CHECKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

const POD_IP: Ipv4Addr = Ipv4Addr::new(10, 244, 3, 7);

thread_local! {
    /// The address of the modelled pods in the blueprint being checked: [`POD_IP`], or on an
    /// existing cluster with its own pod network (`providers.kubernetes.pod_cidr`, e.g. GKE's
    /// `10.52.0.0/14`) an address in it — the policies tell the pod network from the rest
    /// (the admission webhook admits only addresses outside it).
    static THE_POD_IP: std::cell::Cell<Ipv4Addr> = const { std::cell::Cell::new(POD_IP) };
}

fn pod_ip() -> Ipv4Addr {
    THE_POD_IP.with(std::cell::Cell::get)
}

struct Model {
    policies: Vec<Value>,
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// `matchLabels` / `matchExpressions` against labels; an empty selector selects everything.
fn selects(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
    if let Some(m) = sel["matchLabels"].as_object() {
        for (k, v) in m {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    if let Some(exprs) = sel["matchExpressions"].as_array() {
        for e in exprs {
            let key = e["key"].as_str().unwrap();
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key).map(String::as_str);
            let ok = match e["operator"].as_str().unwrap() {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                op => panic!("unknown operator {op}"),
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

fn ns_labels(ns: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])
}

fn in_cidr(ip: Ipv4Addr, cidr: &str) -> bool {
    let (net, len) = cidr.split_once('/').unwrap();
    let net: Ipv4Addr = net.parse().unwrap();
    let len: u32 = len.parse().unwrap();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Whether a peer of a policy in `policy_ns` matches pod `p`.
fn peer_matches(peer: &Value, policy_ns: &str, p: &Pod) -> bool {
    if let Some(b) = peer.get("ipBlock") {
        let ok = in_cidr(p.ip, b["cidr"].as_str().unwrap());
        let except = b["except"]
            .as_array()
            .is_some_and(|e| e.iter().any(|c| in_cidr(p.ip, c.as_str().unwrap())));
        return ok && !except;
    }
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => selects(sel, &ns_labels(&p.namespace)),
        None => p.namespace == policy_ns,
    };
    let pod_ok = match peer.get("podSelector") {
        Some(sel) => selects(sel, &p.labels),
        None => true,
    };
    ns_ok && pod_ok
}

fn port_matches(rule: &Value, port: u16) -> bool {
    match rule["ports"].as_array() {
        None => true,
        Some(ports) if ports.is_empty() => true,
        Some(ports) => ports.iter().any(|p| {
            p["protocol"].as_str().unwrap_or("TCP") == "TCP"
                && p["port"].as_u64() == Some(u64::from(port))
        }),
    }
}

impl Model {
    /// The NetworkPolicies among `docs`.
    fn of(docs: &[Value]) -> Model {
        Model {
            policies: docs
                .iter()
                .filter(|d| d["kind"] == "NetworkPolicy")
                .cloned()
                .collect(),
        }
    }

    /// Policies of `kind` (`Ingress`/`Egress`) that select `p`.
    fn selecting<'a>(&'a self, p: &'a Pod, kind: &'a str) -> impl Iterator<Item = &'a Value> {
        self.policies.iter().filter(move |pol| {
            pol["metadata"]["namespace"].as_str() == Some(p.namespace.as_str())
                && selects(&pol["spec"]["podSelector"], &p.labels)
                && pol["spec"]["policyTypes"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|x| x == kind))
        })
    }

    fn side(&self, me: &Pod, other: &Pod, port: u16, kind: &str) -> bool {
        let (key, peers) = if kind == "Ingress" {
            ("ingress", "from")
        } else {
            ("egress", "to")
        };
        let mut any = false;
        for pol in self.selecting(me, kind) {
            any = true;
            let ns = pol["metadata"]["namespace"].as_str().unwrap();
            for rule in pol["spec"][key].as_array().into_iter().flatten() {
                let peer_ok = match rule[peers].as_array() {
                    None => true,
                    Some(list) if list.is_empty() => true,
                    Some(list) => list.iter().any(|peer| peer_matches(peer, ns, other)),
                };
                if peer_ok && port_matches(rule, port) {
                    return true;
                }
            }
        }
        !any
    }

    fn allows(&self, from: &Pod, to: &Pod, port: u16) -> bool {
        self.side(from, to, port, "Egress") && self.side(to, from, port, "Ingress")
    }

    /// Egress from `from` to an address outside the cluster.
    fn allows_out(&self, from: &Pod, ip: Ipv4Addr, port: u16) -> bool {
        let outside = Pod {
            ip,
            ..Pod::new("outside", "", &[], &[])
        };
        // No namespace matches an external address.
        let outside = Pod {
            namespace: "\u{0}external".into(),
            ..outside
        };
        self.side(from, &outside, port, "Egress")
    }

    /// Ingress to `to` from an address outside the cluster (the API server's, say).
    fn allows_from_outside(&self, to: &Pod, port: u16) -> bool {
        let outside = Pod {
            ip: Ipv4Addr::new(203, 0, 113, 10),
            namespace: "\u{0}external".into(),
            ..Pod::new("outside", "", &[], &[])
        };
        self.side(to, &outside, port, "Ingress")
    }
}

pub(crate) fn documents(files: &BTreeMap<String, String>) -> Vec<Value> {
    let mut docs = Vec::new();
    for (file, text) in files {
        if !(file.starts_with("k8s/") && file.ends_with(".yaml")) {
            continue;
        }
        for d in YamlLoader::load_from_str(text).unwrap() {
            docs.push(to_json(&d).unwrap());
        }
    }
    docs
}

/// The pods the manifests run: (pod, its workload's kind).
fn workload_pods(docs: &[Value]) -> Vec<Pod> {
    let mut pods = Vec::new();
    for d in docs {
        let (template, kind) = match d["kind"].as_str().unwrap_or_default() {
            k @ ("Deployment" | "StatefulSet" | "Job") => (&d["spec"]["template"], k),
            "CronJob" => (&d["spec"]["jobTemplate"]["spec"]["template"], "CronJob"),
            _ => continue,
        };
        let ports = template["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .filter_map(|p| p["containerPort"].as_u64())
            .map(|p| p as u16)
            .collect();
        pods.push(Pod {
            what: format!(
                "{kind} {}/{}",
                d["metadata"]["namespace"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            ),
            namespace: d["metadata"]["namespace"].as_str().unwrap().into(),
            labels: labels_of(&template["metadata"]["labels"]),
            ports,
            ip: pod_ip(),
            metrics: template["metadata"]["annotations"]["prometheus.io/port"]
                .as_str()
                .and_then(|p| p.parse().ok()),
        });
    }
    pods
}

/// The first usable address of a CIDR (a /32 its one address).
fn host_in(cidr: &str) -> Ipv4Addr {
    let (net, len) = cidr.split_once('/').unwrap();
    let net: Ipv4Addr = net.parse().unwrap();
    // A /32 (one server, e.g. a database outside the cluster) holds only itself.
    if len == "32" {
        return net;
    }
    Ipv4Addr::from(u32::from(net) + 1)
}

#[test]
fn network_policies_admit_exactly_the_intended_traffic() {
    let mut checked = 0;
    // The shipped blueprints, and generated combinations when `INFRAGEN_COMBOS` names them
    // (docs/testing.md).
    for (stem, path, provider, env) in matrix().into_iter().chain(crate::support::combos()) {
        let out = synth(&path, provider, &env);
        let bytes = std::fs::read(&path).unwrap();
        let label = format!("{stem} --provider {provider} --env {env}");
        checked += check(&label, &bytes, provider, &env, &out);
    }
    // Blueprints new users wrote (tests/fixtures/new-user/), every provider and environment.
    for path in crate::connections::new_user_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (provider, env) in crate::support::targets(&path) {
            let out = synth(&path, provider, &env);
            let label = format!("new-user/{stem} --provider {provider} --env {env}");
            checked += check(&label, &bytes, provider, &env, &out);
        }
    }
    // Variants the shipped blueprints do not exercise: no per-service policies (the data
    // services must still admit their users), no same-namespace policy.
    let path = crate::support::root().join("blueprints/techshop.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in [
        ("    per_service: true", "    per_service: false"),
        (
            "    allow_same_namespace: true",
            "    allow_same_namespace: false",
        ),
    ] {
        assert!(text.contains(from));
        let variant = text.replace(from, to);
        let out = infragen::synthesize(
            "techshop.yaml",
            variant.as_bytes(),
            infragen::Provider::Kubernetes,
            "production",
        )
        .unwrap();
        checked += check(
            &format!("techshop with `{}`", to.trim()),
            variant.as_bytes(),
            infragen::Provider::Kubernetes,
            "production",
            &out,
        );
    }
    assert!(checked > 100, "only {checked} checks ran");
    let cilium = CILIUM_CHECKS.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        cilium > 0,
        "no pod on DOKS checked for the kube-apiserver entity"
    );
    // An existing cluster that runs Cilium (`providers.kubernetes.cni`): ecommerce-doks's
    // services read the API (Spring Cloud Kubernetes), as on DOKS.
    let path = crate::support::root().join("blueprints/ecommerce-doks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let variant = text.replacen(
        "providers:\n",
        "providers:\n  kubernetes: {cni: cilium}\n",
        1,
    );
    assert_ne!(variant, text);
    let out = infragen::synthesize(
        "ecommerce-doks.yaml",
        variant.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
    )
    .unwrap();
    let before = CILIUM_CHECKS.load(std::sync::atomic::Ordering::Relaxed);
    check(
        "ecommerce-doks with `cni: cilium` --provider kubernetes",
        variant.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
        &out,
    );
    assert!(
        CILIUM_CHECKS.load(std::sync::atomic::Ordering::Relaxed) > before,
        "no pod of an existing Cilium cluster checked for the kube-apiserver entity"
    );
    // The fixtures' jobs (tests/fixtures/workloads/jobs-k8s.yaml): one reaches the database
    // it uses, one that uses none is denied it.
    let [reach, denied] = *JOB_CHECKS.lock().unwrap();
    assert!(
        reach > 0 && denied > 0,
        "jobs checked: {reach} reaching their database, {denied} denied one"
    );
    // The model itself: a policy-free pod is open, an empty ingress list closes it.
    let m = Model {
        policies: vec![json!({
            "metadata": {"namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        })],
    };
    let a = Pod::new("a", "a", &[("app", "a")], &[80]);
    let b = Pod::new("b", "b", &[("app", "b")], &[80]);
    assert!(!m.allows(&b, &a, 80));
    assert!(m.allows(&a, &b, 80));
}

/// Every property above for one output; the number of checks made.
fn check(
    label: &str,
    bytes: &[u8],
    provider: infragen::Provider,
    env: &str,
    out: &infragen::Output,
) -> usize {
    let mut checked = 0;
    // DOKS's CNI is Cilium, an existing cluster's when the blueprint says so; the other
    // platforms' may not be.
    let cilium = label.contains("--provider digitalocean") || label.contains("cni: cilium");
    {
        let docs = documents(&out.files);
        let policies: Vec<Value> = docs
            .iter()
            .filter(|d| d["kind"] == "NetworkPolicy")
            .cloned()
            .collect();
        if policies.is_empty() {
            return 0;
        }
        let bp = infragen::blueprint::load("x", bytes, provider, env)
            .unwrap()
            .blueprint;
        let existing = label.contains("--provider kubernetes");
        let settings = bp.providers.kubernetes.as_ref().filter(|_| existing);
        let cilium =
            cilium || settings.is_some_and(|s| s.cni == infragen::blueprint::types::Cni::Cilium);
        // On DOKS the pods take addresses of the cluster's `cluster_subnet` (VPC-native).
        let doks_pods: Option<String> = out
            .files
            .get("terraform/infra/cluster.tf.json")
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|d| {
                d.pointer("/resource/digitalocean_kubernetes_cluster/main/cluster_subnet")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        let pod_cidr = settings
            .and_then(|s| s.pod_cidr.as_deref())
            .or(doks_pods.as_deref());
        THE_POD_IP.with(|ip| ip.set(pod_cidr.map_or(POD_IP, host_in)));
        let k = bp.kubernetes.clone().unwrap_or_default();
        // With the Gateway API, Envoy's proxies take the traffic and ingress-nginx is absent.
        let gateway = bp
            .ingress
            .as_ref()
            .is_some_and(|i| i.enabled && i.gateway.is_some());
        let controller_ns = if gateway {
            infragen::k8s::ENVOY_GATEWAY_NAMESPACE.to_string()
        } else {
            k.ingress_controller
                .as_ref()
                .and_then(|c| c.namespace.clone())
                .unwrap_or_else(|| "ingress-nginx".into())
        };
        let monitoring = k.network_policies.monitoring_namespace.clone().or_else(|| {
            k.namespaces
                .iter()
                .find(|n| {
                    n.name == "monitoring"
                        || n.name.ends_with("-monitoring")
                        || n.labels.get("purpose").is_some_and(|p| p == "monitoring")
                })
                .map(|n| n.name.clone())
        });
        let model = Model { policies };
        let pods = workload_pods(&docs);
        // With the Gateway API, the pod bringing traffic in is one of the Envoy proxies Envoy
        // Gateway runs for the Gateway in its own namespace (its labels; listener ports 80
        // and 443 map to container ports 10080 and 10443).
        let controller = if gateway {
            Pod::new(
                "Envoy proxy",
                &controller_ns,
                &[
                    ("app.kubernetes.io/name", "envoy"),
                    ("app.kubernetes.io/component", "proxy"),
                    ("app.kubernetes.io/managed-by", "envoy-gateway"),
                ],
                &[10080, 10443],
            )
        } else {
            Pod::new(
                "ingress-nginx controller",
                &controller_ns,
                &[
                    ("app.kubernetes.io/name", "ingress-nginx"),
                    ("app.kubernetes.io/component", "controller"),
                ],
                &[80, 443, 8443, 10254, 10443],
            )
        };
        let intruder = Pod::new("intruder", "intruder", &[("app", "intruder")], &[]);
        // The cluster DNS pods where the existing cluster says they run (OpenShift's CoreDNS
        // in `openshift-dns` on 5353), else kube-dns in `kube-system` on 53.
        let cluster_dns = settings.and_then(|s| s.dns.as_ref());
        let dns_port = cluster_dns.and_then(|d| d.port).unwrap_or(53);
        let dns = Pod::new(
            "cluster DNS",
            cluster_dns
                .and_then(|d| d.namespace.as_deref())
                .unwrap_or("kube-system"),
            &[("k8s-app", "kube-dns")],
            &[dns_port],
        );
        let prometheus = monitoring.as_deref().map(|ns| {
            Pod::new(
                "prometheus",
                ns,
                &[("app.kubernetes.io/name", "prometheus")],
                &[],
            )
        });

        // cert-manager's HTTP-01 solver is reachable from the controller (or Envoy's proxies)
        // wherever an Ingress or a Gateway takes its certificate from cert-manager.
        for d in docs
            .iter()
            .filter(|d| d["kind"] == "Ingress" || d["kind"] == "Gateway")
        {
            let ns = d["metadata"]["namespace"].as_str().unwrap();
            // An ACME issuer (a self-signed one starts no solver; one not written here may
            // be ACME).
            let Some(issuer) =
                d["metadata"]["annotations"]["cert-manager.io/cluster-issuer"].as_str()
            else {
                continue;
            };
            let acme = docs
                .iter()
                .find(|i| i["kind"] == "ClusterIssuer" && i["metadata"]["name"] == issuer)
                .is_none_or(|i| i["spec"].get("acme").is_some());
            if !acme || (d["kind"] == "Ingress" && d["spec"]["ingressClassName"] != "nginx") {
                continue;
            }
            let solver = Pod::new(
                "acme solver",
                ns,
                &[("acme.cert-manager.io/http01-solver", "true")],
                &[8089],
            );
            assert!(
                model.allows(&controller, &solver, 8089),
                "{label}: the ingress controller cannot reach cert-manager's HTTP-01 solver in {ns}"
            );
            assert!(
                !model.allows(&intruder, &solver, 8089),
                "{label}: the HTTP-01 solver in {ns} is open to every namespace"
            );
            checked += 1;
        }

        // The controller reaches every pod an nginx Ingress routes to, on the Service's
        // target port.
        for d in docs
            .iter()
            .filter(|d| d["kind"] == "Ingress" && d["spec"]["ingressClassName"] == "nginx")
        {
            let ns = d["metadata"]["namespace"].as_str().unwrap();
            let backends = d["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten())
                .map(|p| &p["backend"]["service"]);
            for b in backends {
                let svc = docs
                    .iter()
                    .find(|x| {
                        x["kind"] == "Service"
                            && x["metadata"]["namespace"] == ns
                            && x["metadata"]["name"] == b["name"]
                    })
                    .unwrap();
                let port = svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["port"] == b["port"]["number"])
                    .and_then(|p| p["targetPort"].as_u64())
                    .unwrap() as u16;
                let selector = labels_of(&svc["spec"]["selector"]);
                for p in pods.iter().filter(|p| {
                    p.namespace == ns && selector.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                }) {
                    assert!(
                        model.allows(&controller, p, port),
                        "{label}: the ingress controller cannot reach {} on {port}",
                        p.what
                    );
                    checked += 1;
                }
            }
        }

        // The Envoy proxies reach every pod an HTTPRoute sends to (in the route's namespace),
        // on the Service's target port.
        for r in docs.iter().filter(|d| d["kind"] == "HTTPRoute") {
            let ns = r["metadata"]["namespace"].as_str().unwrap();
            let backends = r["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rule| rule["backendRefs"].as_array().into_iter().flatten());
            for b in backends {
                let svc = docs
                    .iter()
                    .find(|x| {
                        x["kind"] == "Service"
                            && x["metadata"]["namespace"] == ns
                            && x["metadata"]["name"] == b["name"]
                    })
                    .unwrap_or_else(|| panic!("{label}: no Service {ns}/{}", b["name"]));
                let port = svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["port"] == b["port"])
                    .and_then(|p| p["targetPort"].as_u64())
                    .unwrap_or_else(|| {
                        panic!("{label}: {ns}/{} has no port {}", b["name"], b["port"])
                    }) as u16;
                let selector = labels_of(&svc["spec"]["selector"]);
                let mut reached = 0;
                for p in pods.iter().filter(|p| {
                    p.namespace == ns && selector.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                }) {
                    assert!(
                        model.allows(&controller, p, port),
                        "{label}: the Envoy proxies cannot reach {} on {port}",
                        p.what
                    );
                    reached += 1;
                    checked += 1;
                }
                assert!(reached > 0, "{label}: {ns}/{} selects no pod", b["name"]);
            }
        }

        // With `allow_same_namespace`, the services of a namespace reach each other.
        if k.network_policies.allow_same_namespace {
            let services: Vec<&Pod> = pods
                .iter()
                .filter(|p| p.what.starts_with("Deployment"))
                .collect();
            for a in &services {
                for b in services.iter().filter(|b| b.namespace == a.namespace) {
                    for &port in &b.ports {
                        assert!(
                            model.allows(a, b, port),
                            "{label}: {} cannot reach {} on {port}",
                            a.what,
                            b.what
                        );
                        checked += 1;
                    }
                }
            }
        }

        // Each in-cluster data service is reachable only from its users, its peers and its
        // jobs.
        for data in pods.iter().filter(|p| p.what.starts_with("StatefulSet")) {
            let name = data.app();
            // Services and scheduled jobs alike (a job's CronJob pods carry `app: <job>`),
            // and a service's release Job (`app: <service>-release`), which runs with the
            // service's `uses`.
            let users: Vec<String> = bp
                .services
                .iter()
                .flat_map(|s| {
                    let release = s.release.as_ref().map(|_| format!("{}-release", s.name));
                    std::iter::once(s.name.clone())
                        .chain(release)
                        .map(move |n| (n, &s.uses))
                })
                .chain(bp.jobs.iter().map(|j| (j.name.clone(), &j.uses)))
                .filter(|(_, uses)| uses.iter().any(|u| u == name))
                .map(|(n, _)| n)
                .collect();
            let jobs = [format!("{name}-backup"), format!("{name}-rs-init")];
            let port = data.ports[0];
            for p in pods.iter().chain([&intruder, &controller]) {
                let intended = users.iter().any(|u| u == p.app())
                    || p.app() == name
                    || jobs.iter().any(|j| j == p.app());
                if p.what.starts_with("CronJob") && bp.jobs.iter().any(|j| j.name == p.app()) {
                    // A blueprint job: reaching the database it uses, or denied one it
                    // does not.
                    JOB_CHECKS.lock().unwrap()[usize::from(!intended)] += 1;
                }
                assert_eq!(
                    model.allows(p, data, port),
                    intended,
                    "{label}: {} → {} port {port}: expected {}",
                    p.what,
                    data.what,
                    if intended { "allowed" } else { "denied" }
                );
                checked += 1;
            }
        }

        // No workload port (nor the controller's admission webhook) is reachable from a pod
        // in an unrelated namespace; the webhook is not reachable from any pod.
        for p in &pods {
            for &port in &p.ports {
                assert!(
                    !model.allows(&intruder, p, port),
                    "{label}: {} port {port} is reachable from an unrelated namespace",
                    p.what
                );
                checked += 1;
            }
            // Only a controller the blueprint declares has its namespace protected here.
            assert!(
                gateway || k.ingress_controller.is_none() || !model.allows(p, &controller, 8443),
                "{label}: {} reaches the ingress-nginx admission webhook (CVE-2025-1974)",
                p.what
            );
        }
        if docs.iter().any(|d| {
            d["kind"] == "NetworkPolicy" && d["metadata"]["namespace"] == controller_ns.as_str()
        }) {
            assert!(
                !model.allows(&intruder, &controller, 8443),
                "{label}: webhook open"
            );
            // 443, or 10443 where Fargate keeps the controller off privileged ports.
            assert!(
                model.allows(&intruder, &controller, 443)
                    || model.allows(&intruder, &controller, 10443),
                "{label}: proxy closed"
            );
            // The API server reaches the webhook from outside the pod network; on Cilium its
            // calls may carry the `kube-apiserver` identity no `ipBlock` selects, so Cilium's
            // own rule admits that entity on the webhook port.
            let from_outside = model.allows_from_outside(&controller, 8443);
            if cilium && from_outside {
                assert!(
                    docs.iter().any(|c| c["kind"] == "CiliumNetworkPolicy"
                        && c["metadata"]["namespace"] == controller_ns.as_str()
                        && selects(&c["spec"]["endpointSelector"], &controller.labels)
                        && c["spec"]["ingress"][0]["fromEntities"] == json!(["kube-apiserver"])
                        && c["spec"]["ingress"][0]["toPorts"][0]["ports"][0]["port"] == "8443"),
                    "{label}: the admission webhook admits no kube-apiserver entity on Cilium"
                );
                CILIUM_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }

        // DNS and the declared egress still work; Prometheus in the monitoring namespace
        // reaches every metrics port it is told to scrape.
        for p in &pods {
            assert!(
                model.allows(p, &dns, dns_port),
                "{label}: {} cannot resolve names",
                p.what
            );
        }
        // Pods that mount an API token reach the API server (outside the pod network).
        for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
            if d["spec"]["template"]["spec"]["automountServiceAccountToken"] != true {
                continue;
            }
            let app = d["spec"]["template"]["metadata"]["labels"]["app"]
                .as_str()
                .unwrap();
            let p = pods
                .iter()
                .find(|p| p.what.starts_with("Deployment") && p.app() == app)
                .unwrap();
            assert!(
                model.allows_out(p, Ipv4Addr::new(203, 0, 113, 10), 443),
                "{label}: {} mounts an API token but cannot reach the API server",
                p.what
            );
            // DOKS runs Cilium, where the API server's addresses carry the `kube-apiserver`
            // identity an `ipBlock` may not select (cilium/cilium#20550): a
            // CiliumNetworkPolicy in the pod's namespace allows that entity on 443.
            if cilium
                && model.policies.iter().any(|np| {
                    np["metadata"]["namespace"] == p.namespace.as_str()
                        && np["spec"]["policyTypes"]
                            .as_array()
                            .is_some_and(|t| t.iter().any(|t| t == "Egress"))
                        && selects(&np["spec"]["podSelector"], &p.labels)
                })
            {
                assert!(
                    docs.iter().any(|c| c["kind"] == "CiliumNetworkPolicy"
                        && c["metadata"]["namespace"] == p.namespace.as_str()
                        && selects(&c["spec"]["endpointSelector"], &p.labels)
                        && c["spec"]["egress"]
                            .as_array()
                            .is_some_and(|rules| rules.iter().any(|r| r["toEntities"]
                                == json!(["kube-apiserver"])
                                && r["toPorts"][0]["ports"]
                                    .as_array()
                                    .is_some_and(|ps| ps.iter().any(|x| x["port"] == "443"))))),
                    "{label}: {} is egress-restricted on Cilium but no CiliumNetworkPolicy allows it the kube-apiserver entity",
                    p.what
                );
                CILIUM_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            checked += 1;
        }
        assert!(
            cilium || !docs.iter().any(|c| c["kind"] == "CiliumNetworkPolicy"),
            "{label}: a CiliumNetworkPolicy where the CNI may not be Cilium"
        );
        for s in &bp.services {
            let Some(p) = pods
                .iter()
                .find(|p| p.what.starts_with("Deployment") && p.app() == s.name)
            else {
                continue;
            };
            for e in &s.egress {
                for &port in &e.ports {
                    assert!(
                        model.allows_out(p, host_in(&e.to), port),
                        "{label}: {} cannot reach its declared egress {} port {port}",
                        s.name,
                        e.to
                    );
                }
            }
        }
        // Prometheus reaches the metrics ports only.
        if let Some(prom) = &prometheus {
            for p in &pods {
                for &port in p.ports.iter().filter(|&&port| Some(port) != p.metrics) {
                    assert!(
                        !model.allows(prom, p, port),
                        "{label}: the monitoring namespace reaches {} on {port}, not its metrics port",
                        p.what
                    );
                    checked += 1;
                }
            }
        }
        let scraped = docs.iter().filter_map(|d| {
            let t = match d["kind"].as_str()? {
                "Deployment" | "StatefulSet" => &d["spec"]["template"],
                _ => return None,
            };
            let port: u16 = t["metadata"]["annotations"]["prometheus.io/port"]
                .as_str()?
                .parse()
                .ok()?;
            let ns = d["metadata"]["namespace"].as_str()?;
            Some((ns, labels_of(&t["metadata"]["labels"]), port))
        });
        for (ns, labels, port) in scraped {
            let target = Pod {
                what: format!("{ns}/{}", labels.get("app").cloned().unwrap_or_default()),
                namespace: ns.into(),
                labels,
                ports: vec![port],
                ip: pod_ip(),
                metrics: Some(port),
            };
            if let Some(prom) = &prometheus {
                assert!(
                    model.allows(prom, &target, port),
                    "{label}: Prometheus in {} cannot scrape {} on {port}",
                    prom.namespace,
                    target.what
                );
            }
        }
    }
    checked
}

/// Where a managed database or cache listens, as the cloud places it: on DigitalOcean an
/// address of the VPC the cluster is attached to (no subnet tiers; a high one, far from the
/// first hosts) on the engine's fixed port — PostgreSQL and MySQL 25060, MongoDB 27017,
/// Valkey 25061 (<https://docs.digitalocean.com/products/databases/postgresql/how-to/connect/>);
/// on AWS an address of its subnet group (the database tier; caches the cache tier, else
/// the database one) on the blueprint's port, else the engine's. `release`: as a release Job
/// reaches it, around a DigitalOcean connection pool (to the cluster's own 25060).
fn managed_endpoint(
    bp: &infragen::blueprint::types::Blueprint,
    provider: infragen::Provider,
    name: &str,
    release: bool,
) -> Option<(Ipv4Addr, u16)> {
    use infragen::blueprint::types::DatabaseEngine;
    let net = bp.network.as_ref()?;
    let db = bp.databases.iter().find(|d| d.name == name);
    let cache = bp.caches.iter().find(|c| c.name == name);
    match provider {
        infragen::Provider::Digitalocean => {
            let (base, len) = net.cidr.split_once('/').unwrap();
            let base = u32::from(base.parse::<Ipv4Addr>().unwrap());
            let size = 1u32 << (32 - len.parse::<u32>().unwrap());
            let ip = Ipv4Addr::from(base + size - 7);
            let port = match (db, cache) {
                (Some(d), _) if d.engine == DatabaseEngine::Mongodb => 27017,
                // A connection pool (PgBouncer) listens on 25061 beside the server's 25060.
                (Some(d), _) if d.pool.is_some() && !release => 25061,
                (Some(_), _) => 25060,
                (None, Some(_)) => 25061,
                _ => return None,
            };
            Some((ip, port))
        }
        infragen::Provider::Aws => {
            let s = &net.subnets;
            let (tiers, port) = match (db, cache) {
                (Some(d), _) => (
                    vec![&s.database],
                    d.port.unwrap_or(match d.engine {
                        DatabaseEngine::Postgres => 5432,
                        DatabaseEngine::Mysql => 3306,
                        DatabaseEngine::Mongodb => 27017,
                    }),
                ),
                (None, Some(c)) => (vec![&s.cache, &s.database], c.port.unwrap_or(6379)),
                _ => return None,
            };
            // An existing VPC's subnets are ids: the service is somewhere in `network.cidr`
            // (a plan-time postcondition keeps every subnet inside it).
            if net.existing.is_some() {
                return Some((host_in(&net.cidr), port));
            }
            let subnet = tiers.into_iter().find(|t| !t.is_empty())?.last()?.clone();
            Some((host_in(&subnet), port))
        }
        infragen::Provider::Kubernetes => None,
    }
}

#[test]
fn services_reach_the_managed_data_services_they_use() {
    let mut checked = Vec::new();
    // The shipped matrix, and the blueprints new users wrote (tests/fixtures/new-user/).
    let mut all = matrix();
    for path in crate::connections::new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (provider, env) in crate::support::targets(&path) {
            all.push((format!("new-user/{stem}"), path.clone(), provider, env));
        }
    }
    all.extend(crate::support::combos());
    for (stem, path, provider, env) in all {
        let out = synth(&path, provider, &env);
        let docs = documents(&out.files);
        let model = Model::of(&docs);
        if model.policies.is_empty() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let bp = infragen::blueprint::load("x", &bytes, provider, &env)
            .unwrap()
            .blueprint;
        let pods = workload_pods(&docs);
        let in_cluster = |name: &str| {
            pods.iter()
                .any(|p| p.what.starts_with("StatefulSet") && p.app() == name)
        };
        for s in &bp.services {
            let Some(pod) = pods
                .iter()
                .find(|p| p.what.starts_with("Deployment") && p.app() == s.name)
            else {
                continue;
            };
            for u in s.uses.iter().filter(|u| !in_cluster(u)) {
                let Some((ip, port)) = managed_endpoint(&bp, provider, u, false) else {
                    continue;
                };
                assert!(
                    model.allows_out(pod, ip, port),
                    "{stem} --provider {provider} --env {env}: {} cannot reach `{}` at {ip}:{port}",
                    s.name,
                    u.as_str()
                );
                checked.push(format!(
                    "{stem} {provider} {env} {} → {}",
                    s.name,
                    u.as_str()
                ));
            }
        }
    }
    assert!(
        checked
            .iter()
            .any(|c| c.starts_with("ecommerce-eks digitalocean production")),
        "{checked:?}"
    );
}

/// A service that `uses` another reaches it across namespaces — its variables name the
/// other's Service, and the NetworkPolicies of both namespaces admit exactly that pair on
/// the container port — while other pods of the caller's namespace and unrelated namespaces
/// stay out; with or without per-service policies.
#[test]
fn services_reach_the_services_they_use() {
    let path = crate::support::root().join("tests/fixtures/new-user/crm-existing.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut variants = vec![text.clone()];
    variants.push(text.replace(
        "  default_namespace: crm\n",
        "  default_namespace: crm\n  network_policies: { per_service: false }\n",
    ));
    assert_ne!(variants[0], variants[1]);
    for (i, variant) in variants.iter().enumerate() {
        let out = infragen::synthesize(
            "crm.yaml",
            variant.as_bytes(),
            infragen::Provider::Kubernetes,
            "production",
        )
        .unwrap();
        let frontend = &out.files["k8s/crm-edge/frontend.yaml"];
        assert!(
            frontend.contains(
                "name: BACKEND_URL\n              value: http://backend.crm.svc.cluster.local:80"
            ),
            "variant {i}: {frontend}"
        );
        let docs = documents(&out.files);
        let m = Model::of(&docs);
        let pods = workload_pods(&docs);
        let find = |what: &str| pods.iter().find(|p| p.what == what).unwrap().clone();
        let (front, back) = (
            find("Deployment crm-edge/frontend"),
            find("Deployment crm/backend"),
        );
        assert!(
            m.allows(&front, &back, 8080),
            "variant {i}: frontend → backend denied"
        );
        let neighbour = Pod::new("neighbour", "crm-edge", &[("app", "other")], &[]);
        let intruder = Pod::new("intruder", "elsewhere", &[("app", "frontend")], &[]);
        for p in [&neighbour, &intruder] {
            assert!(
                !m.allows(p, &back, 8080),
                "variant {i}: {} reaches backend",
                p.what
            );
        }
        // The backend does not call the frontend back.
        assert!(
            !m.allows(&back, &front, 80),
            "variant {i}: backend → frontend"
        );
    }
}

/// A service's release Job (`services[].release`) reaches what the service uses — the
/// in-cluster database on its port, a managed one at its VPC address — and nothing else
/// the app does not: not the cache only the worker uses, not the API server. The app's pods,
/// whose `wait-for-release` init container reads the Job, reach the API server; the worker,
/// with no release and no token, does not.
#[test]
fn the_release_job_reaches_its_database_and_the_wait_container_the_api_server() {
    let api_server = Ipv4Addr::new(172, 20, 0, 1);
    for (stem, provider) in [
        ("release-k8s", infragen::Provider::Kubernetes),
        ("release-doks", infragen::Provider::Kubernetes),
        ("release-doks", infragen::Provider::Digitalocean),
        ("release-doks-pool", infragen::Provider::Digitalocean),
        ("release-eks", infragen::Provider::Aws),
    ] {
        let path = crate::support::root().join(format!("tests/fixtures/workloads/{stem}.yaml"));
        let label = format!("{stem} --provider {provider}");
        let out = synth(&path, provider, "production");
        let docs = documents(&out.files);
        let model = Model::of(&docs);
        let pods = workload_pods(&docs);
        let pod = |what: &str| {
            pods.iter()
                .find(|p| p.what.starts_with(what))
                .unwrap_or_else(|| panic!("{label}: no {what}"))
        };
        let release = pods
            .iter()
            .find(|p| p.what.starts_with("Job") && p.app().ends_with("-release"))
            .unwrap_or_else(|| panic!("{label}: no release Job"));
        let app = pod(&format!(
            "Deployment {}/{}",
            release.namespace,
            release.app().trim_end_matches("-release")
        ));
        // Its database, in the cluster or managed.
        let bytes = std::fs::read(&path).unwrap();
        let bp = infragen::blueprint::load("x", &bytes, provider, "production")
            .unwrap()
            .blueprint;
        let db = &bp.databases[0].name;
        match pods
            .iter()
            .find(|p| p.what.starts_with("StatefulSet") && p.app() == db)
        {
            Some(data) => assert!(
                model.allows(release, data, data.ports[0]),
                "{label}: the release cannot reach {db}"
            ),
            None => {
                let (ip, port) = managed_endpoint(&bp, provider, db, true).unwrap();
                assert!(
                    model.allows_out(release, ip, port),
                    "{label}: the release cannot reach {db} at {ip}:{port}"
                );
                // Behind a pool the app's pods reach the pool's 25061, not the cluster's
                // 25060, which the release Job alone reaches (its migrations go around the
                // pool, `wiring::pool`); the Job does not reach the pool (`port + 1`).
                if stem == "release-doks-pool" {
                    let (_, pool) = managed_endpoint(&bp, provider, db, false).unwrap();
                    assert_eq!((port, pool), (25060, 25061), "{label}");
                    assert!(
                        model.allows_out(app, ip, pool),
                        "{label}: the app cannot reach the pool"
                    );
                    assert!(
                        !model.allows_out(app, ip, port),
                        "{label}: the app reaches the cluster around its pool"
                    );
                }
                assert!(
                    !model.allows_out(release, ip, port + 1),
                    "{label}: the release reaches {db}'s network on another port"
                );
            }
        }
        // Not the cache the worker alone uses.
        if let Some(sessions) = pods
            .iter()
            .find(|p| p.what.starts_with("StatefulSet") && p.app() == "sessions")
        {
            assert!(
                !model.allows(release, sessions, 6379),
                "{label}: the release reaches sessions"
            );
            assert!(
                model.allows(pod("Deployment shop/worker"), sessions, 6379),
                "{label}"
            );
        }
        // The API server: the app's pods (their wait container), not the Job, not a
        // workload without a release. (In release-eks the service uses a bucket, an AWS
        // API on 443 anywhere: the Job reaches 443, but not the API server's 6443.)
        let cloud_api = stem == "release-eks";
        for port in [443, 6443] {
            assert!(
                model.allows_out(app, api_server, port),
                "{label}: {} cannot reach the API server on {port}",
                app.what
            );
            assert!(
                (cloud_api && port == 443) || !model.allows_out(release, api_server, port),
                "{label}: the release Job reaches the API server on {port}"
            );
        }
        if stem == "release-k8s" {
            assert!(!model.allows_out(pod("Deployment shop/worker"), api_server, 443));
        }
        // Nothing enters the Job's pods from outside its namespace.
        let intruder = Pod::new("intruder", "intruder", &[("app", "intruder")], &[]);
        for port in [80, 443, 8000, 8080] {
            assert!(!model.allows(&intruder, release, port), "{label}");
        }
        // Nor does it reach anything outside but DNS and what it uses.
        assert!(
            !model.allows_out(release, Ipv4Addr::new(93, 184, 215, 14), 80),
            "{label}: the release reaches the internet"
        );
        assert_eq!(
            model.allows_out(release, Ipv4Addr::new(93, 184, 215, 14), 443),
            cloud_api,
            "{label}: HTTPS out only for the cloud APIs it uses"
        );
    }
}

/// On an existing cluster the `kubernetes` Service's 443 is translated to the API server's
/// own port before Calico or kube-router judge egress: 6443 on kind and k3s, 8443 on minikube
/// (`--apiserver-port`'s default), another where `providers.kubernetes.api_server_port` says
/// (MicroK8s's 16443). The app whose `wait-for-release` container reads its release Job
/// reaches each; the Job and the pods without a token reach none.
#[test]
fn on_an_existing_cluster_the_wait_container_reaches_minikubes_api_server_port() {
    let api_server = Ipv4Addr::new(192, 168, 49, 2);
    let path = crate::support::root().join("tests/fixtures/new-user/orbit-nextjs-minikube.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let microk8s = text.replace(
        "kubernetes: { context: minikube }",
        "kubernetes: { context: microk8s, api_server_port: 16443 }",
    );
    assert_ne!(microk8s, text);
    for (label, text, ports) in [
        ("minikube", &text, vec![443, 6443, 8443]),
        ("microk8s", &microk8s, vec![443, 6443, 8443, 16443]),
    ] {
        let out = infragen::synthesize(
            "orbit.yaml",
            text.as_bytes(),
            infragen::Provider::Kubernetes,
            "production",
        )
        .unwrap_or_else(|d| panic!("{label}: {d}"));
        let docs = documents(&out.files);
        let model = Model::of(&docs);
        let pods = workload_pods(&docs);
        let pod = |what: &str| {
            pods.iter()
                .find(|p| p.what.starts_with(what))
                .unwrap_or_else(|| panic!("{label}: no {what}"))
        };
        let api = pod("Deployment orbit/api");
        let web = pod("Deployment orbit/web");
        let release = pods
            .iter()
            .find(|p| p.what.starts_with("Job") && p.app() == "api-release")
            .unwrap_or_else(|| panic!("{label}: no release Job"));
        for port in ports {
            assert!(
                model.allows_out(api, api_server, port),
                "{label}: the api's wait-for-release container cannot reach the API server on {port}"
            );
            assert!(
                !model.allows_out(release, api_server, port),
                "{label}: the release Job reaches the API server on {port}"
            );
            assert!(
                !model.allows_out(web, api_server, port),
                "{label}: web, with no token, reaches the API server on {port}"
            );
        }
        assert!(
            !model.allows_out(api, api_server, 10250),
            "{label}: kubelet"
        );
    }
    // The managed clusters' API servers listen on 443: nothing more is opened there.
    let doks = crate::support::root().join("tests/fixtures/workloads/release-doks.yaml");
    let out = synth(&doks, infragen::Provider::Digitalocean, "production");
    let docs = documents(&out.files);
    let model = Model::of(&docs);
    for p in workload_pods(&docs) {
        assert!(
            !model.allows_out(&p, api_server, 8443),
            "release-doks: {} reaches 8443",
            p.what
        );
    }
}

/// GKE runs NodeLocal DNSCache in every Autopilot cluster (and by default in Standard ones):
/// the pods' resolver is the cache's link-local 169.254.20.10 on the node's host network,
/// which no `namespaceSelector` matches, so a DNS rule to `kube-system` alone dropped every
/// lookup (restatedev/restate-operator#88, tektoncd/operator#4000). Kubespray's cache sits at
/// 169.254.25.10; GKE's Cloud DNS without the cache answers at the metadata server
/// 169.254.169.254 (tektoncd/operator#4000). On an existing cluster every pod whose egress is
/// restricted reaches each of them on 53; the metadata server's HTTP port stays closed.
#[test]
fn on_an_existing_cluster_pods_reach_a_node_local_dns_cache() {
    let resolvers = [
        Ipv4Addr::new(169, 254, 20, 10),
        Ipv4Addr::new(169, 254, 25, 10),
        Ipv4Addr::new(169, 254, 169, 254),
    ];
    let metadata = Ipv4Addr::new(169, 254, 169, 254);
    let mut checked = 0;
    let fixtures = crate::connections::new_user_fixtures();
    let targets = matrix()
        .into_iter()
        .chain(fixtures.into_iter().flat_map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            crate::support::targets(&path)
                .into_iter()
                .map(move |(p, env)| (stem.clone(), path.clone(), p, env))
        }));
    for (stem, path, p, env) in targets {
        if p != infragen::Provider::Kubernetes {
            continue;
        }
        // A blueprint that lists its cluster's resolvers (`providers.kubernetes.dns`) gets
        // those instead: `openshift_pods_resolve_names_through_openshift_dns`.
        let bp = infragen::blueprint::load("x", &std::fs::read(&path).unwrap(), p, &env)
            .unwrap()
            .blueprint;
        if bp
            .providers
            .kubernetes
            .and_then(|k| k.dns)
            .is_some_and(|d| d.addresses.is_some())
        {
            continue;
        }
        let out = synth(&path, p, &env);
        let docs = documents(&out.files);
        let model = Model::of(&docs);
        for pod in workload_pods(&docs) {
            // A pod no egress policy selects may send anywhere already.
            if !model.allows_out(&pod, Ipv4Addr::new(198, 51, 100, 7), 53) {
                for resolver in resolvers {
                    assert!(
                        model.allows_out(&pod, resolver, 53),
                        "{stem} {env}: {} cannot reach the resolver {resolver} on 53",
                        pod.what
                    );
                }
                assert!(
                    !model.allows_out(&pod, metadata, 80),
                    "{stem} {env}: {} reaches the metadata server's HTTP port",
                    pod.what
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} egress-restricted pods checked"
    );
}

/// Whether the NetworkPolicies of `out` admit a peer (in namespace `from_ns`, labelled
/// `from_labels`, at `from_ip`) to the pods of `app` in `ns` on `port` — the receiving side
/// only, as a load balancer outside the cluster has no egress policy. For other modules'
/// reachability tests.
pub(crate) fn admitted(
    out: &infragen::Output,
    (from_ns, from_labels, from_ip): (&str, &[(&str, &str)], Ipv4Addr),
    (ns, app): (&str, &str),
    port: u16,
) -> bool {
    let docs = documents(&out.files);
    let model = Model::of(&docs);
    let from = Pod {
        ip: from_ip,
        ..Pod::new("peer", from_ns, from_labels, &[])
    };
    let to = Pod::new(app, ns, &[("app", app)], &[port]);
    model.side(&to, &from, port, "Ingress")
}

/// The model of `docs` with UDP and TCP swapped, so its TCP checks answer for UDP (DNS
/// lookups are UDP first, TCP for large answers: both must pass).
fn udp_model(docs: &[Value]) -> Model {
    let swapped = serde_json::to_string(docs)
        .unwrap()
        .replace("\"protocol\":\"UDP\"", "\"protocol\":\"\u{0}\"")
        .replace("\"protocol\":\"TCP\"", "\"protocol\":\"UDP\"")
        .replace("\"protocol\":\"\u{0}\"", "\"protocol\":\"TCP\"");
    Model::of(&serde_json::from_str::<Vec<Value>>(&swapped).unwrap())
}

/// OpenShift's CoreDNS runs in `openshift-dns` and listens on 5353 (the `dns-default`
/// Service maps 53 to it), and OVN-Kubernetes judges egress after that translation
/// (openshift/kubernetes-nmstate#776, OCPBUGS-94072): with `providers.kubernetes.dns` every
/// egress-restricted pod reaches those pods on 5353, UDP and TCP, and nothing else there; a
/// custom node-local cache listed in `addresses` replaces the default resolvers. Without the
/// setting the lookups were dropped. (169.254.20.11: the default `config.localDnsIp` of Labyrinth
/// Labs' node-local-dns chart.)
#[test]
fn openshift_pods_resolve_names_through_openshift_dns() {
    let path = crate::support::root().join("tests/fixtures/new-user/juniper-django-openshift.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let setting = "dns: { namespace: openshift-dns, port: 5353 }";
    assert!(text.contains(setting));
    let cache = text.replace(
        setting,
        "dns: { namespace: openshift-dns, port: 5353, addresses: [169.254.20.11/32] }",
    );
    let without = text.replace(setting, "");
    let coredns = Pod::new(
        "CoreDNS",
        "openshift-dns",
        &[("dns.operator.openshift.io/daemonset-dns", "default")],
        &[5353],
    );
    let synth_text = |label: &str, text: &str| {
        let out = infragen::synthesize(
            "juniper.yaml",
            text.as_bytes(),
            infragen::Provider::Kubernetes,
            "production",
        )
        .unwrap_or_else(|d| panic!("{label}: {d}"));
        documents(&out.files)
    };
    let outside = |ip: [u8; 4]| Ipv4Addr::from(ip);
    for (label, text, caches, not_caches) in [
        (
            "openshift",
            &text,
            vec![[169, 254, 20, 10], [169, 254, 25, 10], [169, 254, 169, 254]],
            vec![],
        ),
        (
            "openshift with its own cache",
            &cache,
            vec![[169, 254, 20, 11]],
            vec![[169, 254, 20, 10], [169, 254, 169, 254]],
        ),
    ] {
        let docs = synth_text(label, text);
        let (tcp, udp) = (Model::of(&docs), udp_model(&docs));
        let mut checked = 0;
        for pod in workload_pods(&docs) {
            if tcp.allows_out(&pod, outside([198, 51, 100, 7]), 53) {
                continue; // no egress policy selects it
            }
            for model in [&tcp, &udp] {
                assert!(
                    model.allows(&pod, &coredns, 5353),
                    "{label}: {} cannot reach CoreDNS in openshift-dns on 5353",
                    pod.what
                );
                for c in &caches {
                    assert!(
                        model.allows_out(&pod, outside(*c), 53),
                        "{label}: {} cannot reach the cache {c:?} on 53",
                        pod.what
                    );
                }
                for c in &not_caches {
                    assert!(
                        !model.allows_out(&pod, outside(*c), 53),
                        "{label}: {} still reaches {c:?}, which `addresses` replaced",
                        pod.what
                    );
                }
            }
            // Only the DNS port is opened towards the DNS namespace (its metrics stay shut),
            // and the caches' rule is not opened on 5353.
            assert!(!tcp.allows(&pod, &coredns, 9154), "{label}: {}", pod.what);
            assert!(
                !tcp.allows_out(&pod, outside(caches[0]), 5353),
                "{label}: {}",
                pod.what
            );
            checked += 1;
        }
        assert!(
            checked >= 2,
            "{label}: only {checked} pods checked (api, worker)"
        );
    }
    // Without the setting the rule is kube-system's on 53: OpenShift drops every lookup.
    let docs = synth_text("without", &without);
    let model = Model::of(&docs);
    let api = workload_pods(&docs)
        .into_iter()
        .find(|p| p.what.starts_with("Deployment juniper/api"))
        .unwrap();
    assert!(!model.allows(&api, &coredns, 5353));
}

/// A Gateway that routes nothing (no service has `routes`) still takes its certificate from
/// the ACME issuer, so cert-manager starts its HTTP-01 solver in the Gateway's namespace —
/// found by `combos.py --seed 7` (combo 0044). That namespace gets the same default deny
/// and solver allowance as when a service is routed, whether it is the ingress namespace
/// (running no workload) or the default one; on an existing cluster and on EKS.
#[test]
fn a_gateway_that_routes_nothing_keeps_its_acme_solver_closed() {
    let path = crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let unrouted: String = text
        .lines()
        .filter(|l| !l.contains("routes:") && !l.trim_start().starts_with("- { path:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!unrouted.contains("routes:"));
    let in_edge = unrouted
        .replacen(
            "  name: shop\n  hosts:",
            "  name: shop\n  namespace: edge\n  hosts:",
            1,
        )
        .replacen(
            "    - name: admin\n",
            "    - name: admin\n    - name: edge\n",
            1,
        );
    assert!(in_edge.contains("namespace: edge") && in_edge.contains("- name: edge"));
    for (variant, text, ns) in [
        ("ingress.namespace edge", &in_edge, "edge"),
        ("default namespace", &unrouted, "shop"),
    ] {
        for provider in [infragen::Provider::Aws, infragen::Provider::Kubernetes] {
            let label = format!("gateway-eks routing nothing ({variant}) --provider {provider}");
            let out =
                infragen::synthesize("gateway-eks.yaml", text.as_bytes(), provider, "production")
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
            let docs = documents(&out.files);
            assert!(
                docs.iter()
                    .any(|d| d["kind"] == "Gateway" && d["metadata"]["namespace"] == ns),
                "{label}: no Gateway in {ns}"
            );
            let checked = check(&label, text.as_bytes(), provider, "production", &out);
            assert!(checked > 0, "{label}: nothing checked");
        }
    }
}

/// The Gateway's namespace gets `default-deny-ingress` wherever cert-manager's HTTP-01 solver
/// runs there (w128), routed or not. A Gateway put in a platform component's namespace would
/// cut that component off: in `envoy-gateway-system` the NLB's connections to the Envoy
/// proxies, in `cert-manager` the API server's calls to its webhook. Refused at
/// `ingress.namespace`; without an ACME issuer (no solver, no policy there) or without the
/// default deny, nothing is cut and it synthesizes.
#[test]
fn a_gateway_in_a_platform_components_namespace_is_refused() {
    let path = crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let unrouted: String = text
        .lines()
        .filter(|l| !l.contains("routes:") && !l.trim_start().starts_with("- { path:"))
        .collect::<Vec<_>>()
        .join("\n");
    for ns in ["envoy-gateway-system", "cert-manager"] {
        let yaml = unrouted.replacen(
            "  name: shop\n  hosts:",
            &format!("  name: shop\n  namespace: {ns}\n  hosts:"),
            1,
        );
        assert!(yaml.contains(&format!("  namespace: {ns}\n")));
        let synth = |yaml: &str| {
            infragen::synthesize(
                "gateway-eks.yaml",
                yaml.as_bytes(),
                infragen::Provider::Aws,
                "production",
            )
            .map_err(|d| d.to_string())
        };
        let Err(err) = synth(&yaml) else {
            panic!("a Gateway in `{ns}` synthesized: its default deny cuts the component there");
        };
        assert!(err.contains("`ingress.namespace`"), "{ns}: {err}");
        assert!(
            err.contains(&format!("the Gateway's namespace `{ns}` is")),
            "{ns}: {err}"
        );
        assert!(err.contains("gateway-eks.yaml:40:14"), "{ns}: {err}");
        assert!(
            err.contains("help: put the Gateway in a namespace of its own"),
            "{ns}: {err}"
        );
        // No ACME issuer: no solver, so no policy in that namespace.
        let no_issuer = yaml.replacen(
            "  tls: { secret_name: shop-tls, issuer: letsencrypt-prod }\n",
            "",
            1,
        );
        assert!(!no_issuer.contains("issuer: letsencrypt-prod"));
        synth(&no_issuer).unwrap_or_else(|e| panic!("{ns} without an issuer: {e}"));
        // Neither namespace-wide policy (`allow-same-namespace` isolates the pods as the
        // default deny does): nothing is written there, nothing is cut.
        let open = yaml
            .replacen(
                "    default_deny_ingress: true\n",
                "    default_deny_ingress: false\n",
                1,
            )
            .replacen(
                "    allow_same_namespace: true\n",
                "    allow_same_namespace: false\n",
                1,
            );
        assert!(open.contains("default_deny_ingress: false"));
        assert!(open.contains("allow_same_namespace: false"));
        let out =
            synth(&open).unwrap_or_else(|e| panic!("{ns} without namespace-wide policies: {e}"));
        assert!(
            !out.files
                .keys()
                .any(|f| f.contains(&format!("k8s/{ns}/network-policies"))),
            "{ns}: policies written without a namespace-wide policy"
        );
        // `allow-same-namespace` alone isolates the pods too: still refused.
        let same = yaml.replacen(
            "    default_deny_ingress: true\n",
            "    default_deny_ingress: false\n",
            1,
        );
        assert!(synth(&same).is_err(), "{ns} with allow-same-namespace only");
    }
}

/// `allow-same-namespace` selects every pod of the namespace (but the data services') and
/// admits only the namespace: with `default_deny_ingress: false` it still isolates
/// cert-manager's HTTP-01 solver pods, so they need `allow-acme-http01-solver` as much as
/// under the default deny — else Envoy's proxies (in `envoy-gateway-system`) never reach
/// them and the certificate is never issued. Routed or not (w128's Gateway namespace that
/// runs no workload), on EKS and on an existing cluster.
#[test]
fn the_acme_solver_is_reachable_without_the_default_deny() {
    let path = crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "    default_deny_ingress: true\n",
        "    default_deny_ingress: false\n",
        1,
    );
    assert!(text.contains("default_deny_ingress: false"));
    let unrouted: String = text
        .lines()
        .filter(|l| !l.contains("routes:") && !l.trim_start().starts_with("- { path:"))
        .collect::<Vec<_>>()
        .join("\n");
    let in_edge = unrouted
        .replacen(
            "  name: shop\n  hosts:",
            "  name: shop\n  namespace: edge\n  hosts:",
            1,
        )
        .replacen(
            "    - name: admin\n",
            "    - name: admin\n    - name: edge\n",
            1,
        );
    assert!(in_edge.contains("namespace: edge") && in_edge.contains("- name: edge"));
    for (variant, text, ns) in [
        ("routed", &text, "shop"),
        ("routing nothing, ingress.namespace edge", &in_edge, "edge"),
    ] {
        for provider in [infragen::Provider::Aws, infragen::Provider::Kubernetes] {
            let label =
                format!("gateway-eks without default deny ({variant}) --provider {provider}");
            let out =
                infragen::synthesize("gateway-eks.yaml", text.as_bytes(), provider, "production")
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
            let docs = documents(&out.files);
            assert!(
                docs.iter().any(|d| d["kind"] == "NetworkPolicy"
                    && d["metadata"]["name"] == "allow-same-namespace"
                    && d["metadata"]["namespace"] == ns),
                "{label}: no allow-same-namespace in {ns}"
            );
            // `check` asserts Envoy's proxies reach the solver in the Gateway's namespace on
            // 8089 and another namespace does not.
            let checked = check(&label, text.as_bytes(), provider, "production", &out);
            assert!(checked > 0, "{label}: nothing checked");
        }
    }
}

/// A workload in a platform component's namespace brings the namespace-wide policies there
/// (`default-deny-ingress`, `allow-same-namespace`: every namespace that runs a workload gets
/// them), which isolate the component's pods as well: cert-manager's webhook (the API server's
/// calls), Envoy Gateway's proxies (the NLB's connections), CoreDNS in `kube-system`, the
/// External Secrets Operator's webhook on EKS, ingress-nginx's controller on DOKS (where the
/// output used to fail with a duplicate `default-deny-ingress` "defect in infragen" instead).
/// Refused at the workload's `namespace` (or at `kubernetes.default_namespace` for what runs
/// there), on EKS, DOKS and an existing cluster; without either namespace-wide policy nothing
/// is isolated and it synthesizes.
#[test]
fn a_workload_in_a_platform_components_namespace_is_refused() {
    let path = crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let synth = |name: &str, yaml: &str, provider: infragen::Provider| {
        infragen::synthesize(name, yaml.as_bytes(), provider, "production")
            .map_err(|d| d.to_string())
    };
    let open = |yaml: &str| {
        let y = yaml
            .replacen(
                "    default_deny_ingress: true\n",
                "    default_deny_ingress: false\n",
                1,
            )
            .replacen(
                "    allow_same_namespace: true\n",
                "    allow_same_namespace: false\n",
                1,
            );
        assert!(
            y.contains("default_deny_ingress: false") && y.contains("allow_same_namespace: false")
        );
        y
    };
    // gateway-eks reads no secret and uses no managed data service, so the External
    // Secrets Operator is installed only once `console` reads a secret.
    let reads_a_secret = text
        .replacen(
            "caches:\n",
            "secrets:\n  - { name: console-key, keys: [key] }\ncaches:\n",
            1,
        )
        .replacen(
            "    port: 9000\n",
            "    port: 9000\n    secret_env: [{ name: CONSOLE_KEY, secret: console-key }]\n",
            1,
        );
    assert!(reads_a_secret.contains("secret: console-key"));
    let cases: [(&str, &str, &[infragen::Provider]); 4] = [
        (
            "cert-manager",
            &text,
            &[infragen::Provider::Aws, infragen::Provider::Kubernetes],
        ),
        (
            "envoy-gateway-system",
            &text,
            &[infragen::Provider::Aws, infragen::Provider::Kubernetes],
        ),
        (
            "kube-system",
            &text,
            &[infragen::Provider::Aws, infragen::Provider::Kubernetes],
        ),
        (
            "external-secrets",
            &reads_a_secret,
            &[infragen::Provider::Aws],
        ),
    ];
    for (ns, text, providers) in cases {
        let mut yaml = text.replacen(
            "    namespace: admin\n",
            &format!("    namespace: {ns}\n"),
            1,
        );
        if !yaml.contains(&format!("    - name: {ns}\n")) {
            yaml = yaml.replacen(
                "    - name: admin\n",
                &format!("    - name: admin\n    - name: {ns}\n"),
                1,
            );
        }
        assert!(yaml.contains(&format!("    namespace: {ns}\n")));
        for &provider in providers {
            let label = format!("`console` in {ns} --provider {provider}");
            let Err(err) = synth("gateway-eks.yaml", &yaml, provider) else {
                panic!(
                    "{label} synthesized: the namespace's default deny cuts the component there"
                );
            };
            assert!(err.contains("`services[1].namespace`"), "{label}: {err}");
            assert!(
                err.contains(&format!("namespace `{ns}` is")),
                "{label}: {err}"
            );
            assert!(
                err.contains("`console` there gets the namespace-wide NetworkPolicies"),
                "{label}: {err}"
            );
            assert!(
                err.contains("help: run it in a namespace of its own"),
                "{label}: {err}"
            );
            synth("gateway-eks.yaml", &open(&yaml), provider)
                .unwrap_or_else(|e| panic!("{label} without namespace-wide policies: {e}"));
        }
    }
    // Where nothing reads a secret or a managed data service's credentials, the operator is
    // not installed and its namespace is the blueprint's own: `console` runs there.
    let yaml = text
        .replacen(
            "    namespace: admin\n",
            "    namespace: external-secrets\n",
            1,
        )
        .replacen(
            "    - name: admin\n",
            "    - name: admin\n    - name: external-secrets\n",
            1,
        );
    assert!(yaml.contains("    namespace: external-secrets\n"));
    let out = synth("gateway-eks.yaml", &yaml, infragen::Provider::Aws)
        .unwrap_or_else(|e| panic!("`console` in external-secrets without the operator: {e}"));
    assert!(
        !out.files
            .values()
            .any(|f| f.contains("charts.external-secrets.io")),
        "the operator is installed after all: the refusal applies"
    );
    // What runs in the default namespace (the services naming none, the in-cluster cache):
    // refused at `kubernetes.default_namespace`.
    let yaml = text.replacen(
        "  default_namespace: shop\n",
        "  default_namespace: cert-manager\n",
        1,
    );
    for provider in [infragen::Provider::Aws, infragen::Provider::Kubernetes] {
        let err = synth("gateway-eks.yaml", &yaml, provider).unwrap_err();
        assert!(
            err.contains(
                "`kubernetes.default_namespace`: namespace `cert-manager` is cert-manager's"
            ),
            "{provider}: {err}"
        );
        assert!(
            err.contains("`web`, in-cluster `sessions` there"),
            "{provider}: {err}"
        );
    }
    // DOKS: a service in ingress-nginx's namespace.
    let path = crate::support::root().join("blueprints/ecommerce-doks.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let yaml = text.replacen(
        "  - name: zipkin\n",
        "  - name: zipkin\n    namespace: ingress-nginx\n",
        1,
    );
    assert_ne!(yaml, text);
    let err = synth(
        "ecommerce-doks.yaml",
        &yaml,
        infragen::Provider::Digitalocean,
    )
    .unwrap_err();
    assert!(
        err.contains("namespace `ingress-nginx` is ingress-nginx's"),
        "{err}"
    );
    assert!(err.contains("`zipkin` there"), "{err}");
    assert!(!err.contains("defect in infragen"), "{err}");
    // Elsewhere, the same service synthesizes.
    synth(
        "ecommerce-doks.yaml",
        &text,
        infragen::Provider::Digitalocean,
    )
    .unwrap();
    // An existing cluster targeted without a `cluster` block: the blueprint's name is the
    // default namespace, refused at `name`.
    let yaml = "name: kube-system\nproviders:\n  kubernetes: {}\nservices:\n  - name: api\n    image: ghcr.io/acme/api:2.3.1\n    port: 8080\n";
    let err = synth("bare.yaml", yaml, infragen::Provider::Kubernetes).unwrap_err();
    assert!(
        err.contains("`name`: namespace `kube-system` is the cluster's own"),
        "{err}"
    );
    assert!(err.contains("bare.yaml:1:7"), "{err}");
    let yaml = yaml.replacen("name: kube-system", "name: shop", 1);
    synth("bare.yaml", &yaml, infragen::Provider::Kubernetes).unwrap();
}
