//! The cluster add-ons `terraform/platform` installs as `helm_release`s would install *and
//! work*:
//!
//! - every values key infragen writes is one the chart version knows, with the right type
//!   (a chart silently ignores an unknown key: a misspelt or renamed one leaves an add-on
//!   that installs but does not do its job), from the repository the chart lives in — against
//!   the key lists recorded in `tests/fixtures/addons/` (see its README), for every shipped
//!   blueprint and fixture, every provider and environment;
//! - on EKS Fargate, whose VM holds the kubelet's port, no add-on listens on 10250, and
//!   ingress-nginx keeps the one capability its binaries need to start;
//! - an Ingress has a controller that serves its class, and cert-manager can run the HTTP-01
//!   self-check its ACME issuers depend on.

use std::collections::BTreeMap;

use infragen::Provider;
use serde_json::Value;

use crate::support::{cloud_outputs, resources, root, synth};

/// One chart's recorded keys (`tests/fixtures/addons/<chart>.keys`).
struct Chart {
    repository: String,
    versions: Vec<String>,
    /// Dotted path → (type, default).
    keys: BTreeMap<String, (String, Option<String>)>,
    /// Dotted path of an `args` key → the program flags its keys may name.
    flags: BTreeMap<String, Vec<String>>,
    /// `args` keys the chart cuts at their first `_` (a flag given more than once).
    flag_suffixes: Vec<String>,
}

fn chart(name: &str) -> Option<Chart> {
    let path = root().join(format!("tests/fixtures/addons/{name}.keys"));
    let text = std::fs::read_to_string(path).ok()?;
    let mut c = Chart {
        repository: String::new(),
        versions: Vec::new(),
        keys: BTreeMap::new(),
        flags: BTreeMap::new(),
        flag_suffixes: Vec::new(),
    };
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, default) = match line.split_once(" = ") {
            Some((h, d)) => (h, Some(d.trim().to_string())),
            None => (line, None),
        };
        let mut words = head.split_whitespace();
        let (key, rest): (&str, Vec<&str>) = (words.next().unwrap(), words.collect());
        match key {
            "repository" => c.repository = rest.join(" "),
            "versions" => c.versions = rest.iter().map(|v| v.to_string()).collect(),
            "flags" => {
                let (path, names) = rest.split_first().expect("flags <path> <flag>…");
                let list = c.flags.entry(path.to_string()).or_default();
                list.extend(names.iter().map(|n| n.to_string()));
            }
            "flag-suffixes" => c.flag_suffixes.extend(rest.iter().map(|p| p.to_string())),
            _ => {
                let ty = rest.first().unwrap_or_else(|| panic!("{name}: `{line}`"));
                assert!(
                    [
                        "string", "int", "bool", "list", "map", "strings", "args", "any"
                    ]
                    .contains(ty),
                    "{name}: unknown type in `{line}`"
                );
                c.keys.insert(key.to_string(), (ty.to_string(), default));
            }
        }
    }
    Some(c)
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "int" => v.is_i64() || v.is_u64(),
        "bool" => v.is_boolean(),
        "list" => v.is_array(),
        "map" => v.is_object(),
        // Label and annotation values, tags: Kubernetes takes strings only, and a chart that
        // renders them with `toYaml` writes `true` or `1` unquoted, which the API refuses.
        "strings" => v
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string)),
        // Program flags (`--key=value`): any scalar, as the template prints it.
        "args" => v
            .as_object()
            .is_some_and(|m| m.values().all(|x| !x.is_object() && !x.is_array())),
        _ => v.is_string() || v.is_i64() || v.is_u64(),
    }
}

/// The flags under an `args` key that the program does not know (the chart passes any key
/// through as `--key=value`, and the program exits on an unknown flag).
fn unknown_flags(chart: &Chart, path: &str, v: &Value) -> Vec<String> {
    let known = chart.flags.get(path).map(Vec::as_slice).unwrap_or_default();
    let cut = chart.flag_suffixes.iter().any(|p| p == path);
    v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| {
            let flag = if cut { k.split('_').next().unwrap() } else { k };
            (!known.iter().any(|f| f == flag)).then(|| {
                format!("`{path}.{k}`: `--{flag}` is no flag recorded for the chart's program")
            })
        })
        .collect()
}

/// The keys of `values` the chart does not know, or gives another type.
fn unknown_keys(chart: &Chart, values: &Value) -> Vec<String> {
    fn walk(chart: &Chart, prefix: &str, v: &Value, out: &mut Vec<String>) {
        let Some(obj) = v.as_object() else { return };
        for (k, v) in obj {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Some((ty, _)) = chart.keys.get(&path) {
                if !type_ok(ty, v) {
                    out.push(format!("`{path}` is a {ty} in the chart, given {v}"));
                } else if ty == "args" {
                    out.extend(unknown_flags(chart, &path, v));
                }
            } else if chart
                .keys
                .keys()
                .any(|p| p.starts_with(&format!("{path}.")))
            {
                if v.is_object() {
                    walk(chart, &path, v, out);
                } else {
                    out.push(format!("`{path}` is an object in the chart, given {v}"));
                }
            } else {
                out.push(format!("`{path}` is no key of the chart"));
            }
        }
    }
    let mut out = Vec::new();
    walk(chart, "", values, &mut out);
    out
}

/// The values document of a release (one JSON document, as `helm::release` writes it), with
/// any `set` entries folded in.
fn values(release: &Value) -> Value {
    let mut doc = match release["values"].as_array().and_then(|a| a.first()) {
        Some(Value::String(s)) => serde_json::from_str(s).expect("values are one JSON document"),
        _ => serde_json::json!({}),
    };
    for s in release["set"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap().replace("\\.", "\u{0}");
        let mut at = &mut doc;
        for part in name.split('.') {
            at = &mut at[part.replace('\u{0}', ".")];
        }
        *at = s["value"].clone();
    }
    doc
}

/// Every helm_release of an output: (address, body).
fn releases(out: &infragen::Output) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for (path, text) in &out.files {
        if !(path.starts_with("terraform/") && path.ends_with(".tf.json")) {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(r) = doc
            .pointer("/resource/helm_release")
            .and_then(Value::as_object)
        {
            for (name, body) in r {
                all.push((format!("{path}: helm_release.{name}"), body.clone()));
            }
        }
    }
    all
}

#[test]
fn every_values_key_is_one_the_chart_version_knows() {
    let mut checked = BTreeMap::<String, usize>::new();
    let mut problems = Vec::new();
    for (label, out) in cloud_outputs() {
        for (at, r) in releases(&out) {
            let name = r["chart"].as_str().unwrap();
            let version = r["version"].as_str().unwrap();
            let Some(c) = chart(name) else {
                problems.push(format!(
                    "{label}: {at}: chart `{name}` has no recorded keys (tests/fixtures/addons/{name}.keys)"
                ));
                continue;
            };
            if r["repository"] != c.repository.as_str() {
                problems.push(format!(
                    "{label}: {at}: repository {} is not the chart's {}",
                    r["repository"], c.repository
                ));
            }
            if !c.versions.iter().any(|v| v == version) {
                problems.push(format!(
                    "{label}: {at}: {name} {version}: its keys were not checked for this version; read its values.yaml and record them"
                ));
            }
            for p in unknown_keys(&c, &values(&r)) {
                problems.push(format!("{label}: {at}: {name} {version}: {p}"));
            }
            *checked.entry(name.to_string()).or_default() += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every add-on infragen installs was seen at least once.
    for name in [
        "aws-load-balancer-controller",
        "cert-manager",
        "cluster-autoscaler",
        "external-secrets",
        "gateway-helm",
        "ingress-nginx",
        "keda",
        "metrics-server",
    ] {
        assert!(
            checked.contains_key(name),
            "no output installs {name}: {checked:?}"
        );
    }
}

/// The check catches what it is for: keys of another chart or version, and wrong types.
#[test]
fn the_key_check_refuses_misspelt_renamed_and_mistyped_keys() {
    let eso = chart("external-secrets").unwrap();
    let cm = chart("cert-manager").unwrap();
    let ca = chart("cluster-autoscaler").unwrap();
    let lbc = chart("aws-load-balancer-controller").unwrap();
    let bad = [
        // cert-manager's name for the webhook port, on External Secrets.
        (&eso, serde_json::json!({"webhook": {"securePort": 10260}})),
        // External Secrets' CRD switch is `installCRDs`.
        (&eso, serde_json::json!({"installCRD": true})),
        // A cert-manager release sets `crds.enabled`, not `crds: true`.
        (&cm, serde_json::json!({"crds": true})),
        // The autoscaler's service account lives under `rbac`.
        (
            &ca,
            serde_json::json!({"serviceAccount": {"name": "cluster-autoscaler"}}),
        ),
        // A replica count as text.
        (&lbc, serde_json::json!({"replicaCount": "2"})),
        // An annotation value the chart renders with toYaml, unquoted: the API server
        // refuses a ServiceAccount whose annotation is a bool.
        (
            &lbc,
            serde_json::json!({"serviceAccount": {"annotations": {"x.io/y": true}}}),
        ),
        // A tag as a number.
        (&lbc, serde_json::json!({"defaultTags": {"cost": 12}})),
        // A misspelt flag: the autoscaler exits on it.
        (
            &ca,
            serde_json::json!({"extraArgs": {"balancing-ignore-labels_1": "x"}}),
        ),
        // An unrecorded ControllerConfiguration field.
        (
            &cm,
            serde_json::json!({"config": {"enableGatewayApi": true}}),
        ),
        // A flag given a list.
        (
            &ca,
            serde_json::json!({"extraArgs": {"expander": ["a", "b"]}}),
        ),
    ];
    for (c, v) in bad {
        assert_eq!(unknown_keys(c, &v).len(), 1, "{v} accepted");
    }
    // Free-form maps take any key.
    let ok = serde_json::json!({"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "x"}}, "defaultTags": {"a.b/c": "d"}});
    assert_eq!(unknown_keys(&lbc, &ok), Vec::<String>::new());
    // A repeated flag, numbered as the chart expects, and a boolean flag.
    let ok = serde_json::json!({"extraArgs": {"balancing-ignore-label_1": "a", "balancing-ignore-label_2": "b", "skip-nodes-with-local-storage": false}});
    assert_eq!(unknown_keys(&ca, &ok), Vec::<String>::new());
}

/// The value a release gives `key`, else the chart's recorded default.
fn effective(release: &Value, chart: &Chart, key: &str) -> Value {
    let mut at = &values(release);
    for part in key.split('.') {
        at = &at[part];
    }
    if !at.is_null() {
        return at.clone();
    }
    let (_, default) = chart.keys.get(key).unwrap_or_else(|| panic!("{key}"));
    serde_json::from_str(
        default
            .as_deref()
            .unwrap_or_else(|| panic!("{key}: no default")),
    )
    .unwrap()
}

/// A Fargate pod runs in its own VM whose kubelet holds port 10250: an add-on whose server
/// listens there never starts (cert-manager's and External Secrets' webhooks and
/// metrics-server default to it).
#[test]
fn no_add_on_listens_on_the_kubelet_port_on_fargate() {
    let path = root().join("blueprints/case-eks-fargate.yaml");
    let out = synth(&path, Provider::Aws, "production");
    let listeners = [
        ("cert-manager", "webhook.securePort"),
        ("external-secrets", "webhook.port"),
        ("metrics-server", "containerPort"),
        ("aws-load-balancer-controller", "webhookBindPort"),
        ("ingress-nginx", "controller.containerPort.http"),
        ("ingress-nginx", "controller.containerPort.https"),
    ];
    let mut seen = 0;
    for r in resources(&out, "platform", "helm_release") {
        let name = r["chart"].as_str().unwrap();
        for (_, key) in listeners.iter().filter(|(c, _)| *c == name) {
            let port = effective(&r, &chart(name).unwrap(), key);
            assert_ne!(port, 10250, "{name} `{key}` listens on the kubelet's port");
            seen += 1;
        }
    }
    assert!(
        seen >= 5,
        "expected the Fargate blueprint's add-ons, saw {seen} ports"
    );
}

/// The capabilities a container keeps (its bounding set) under `securityContext`: the
/// container runtime's defaults, which EKS gives EC2 and Fargate pods alike, less `drop`,
/// plus `add`.
fn kept_capabilities(security_context: &Value) -> Vec<String> {
    const DEFAULT: [&str; 14] = [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    let list = |k: &str| -> Vec<String> {
        security_context["capabilities"][k]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let (drop, add) = (list("drop"), list("add"));
    let mut kept: Vec<String> = if drop.iter().any(|c| c == "ALL") {
        Vec::new()
    } else {
        DEFAULT
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    };
    kept.extend(add);
    kept
}

/// The ingress-nginx image's binaries carry the file capability `cap_net_bind_service=+ep`
/// (dumb-init, the controller, nginx), and the kernel refuses to exec such a file when the
/// capability is outside the container's bounding set: with every capability dropped the
/// controller never starts ("exec /usr/bin/dumb-init: operation not permitted",
/// kubernetes/ingress-nginx#10002). On Fargate, which only drops capabilities (EKS best
/// practices, Pod Security), it must keep NET_BIND_SERVICE by not dropping it, and listen on
/// high ports; on EC2 nodes the chart's usual `add` does it.
#[test]
fn ingress_nginx_keeps_the_capability_its_binaries_need() {
    let cases = [
        ("blueprints/case-eks-fargate.yaml", true),
        ("blueprints/ecommerce-eks.yaml", false),
    ];
    for (file, fargate) in cases {
        let out = synth(&root().join(file), Provider::Aws, "production");
        let nginx = resources(&out, "platform", "helm_release")
            .into_iter()
            .find(|r| r["chart"] == "ingress-nginx")
            .unwrap_or_else(|| panic!("{file}: no ingress-nginx"));
        let controller = values(&nginx)["controller"].clone();
        let sc = &controller["containerSecurityContext"];
        assert!(
            kept_capabilities(sc).contains(&"NET_BIND_SERVICE".to_string()),
            "{file}: {sc}"
        );
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{file}");
        if fargate {
            let added = sc["capabilities"]["add"].as_array().map_or(0, Vec::len);
            assert_eq!(added, 0, "{file}: Fargate refuses added capabilities: {sc}");
            for p in ["http", "https"] {
                let port = controller["containerPort"][p].as_u64().unwrap();
                assert!(port >= 1024, "{file}: {p} on {port}");
            }
        }
    }
}

/// An Ingress of class `nginx` on EKS or DOKS without `kubernetes.ingress_controller`:
/// nothing would serve it (no address, no load balancer, no HTTP-01 answer): refused at the
/// Ingress, with the ways out.
#[test]
fn an_ingress_no_installed_controller_serves_is_refused() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/new-user/notes-eks.yaml"))
        .unwrap()
        .replace("  ingress_controller: { kind: nginx }\n", "");
    let Err(err) = infragen::synthesize("notes.yaml", text.as_bytes(), Provider::Aws, "production")
    else {
        panic!("refused on EKS");
    };
    let err = err.to_string();
    assert!(
        err.contains("`ingress.class`") && err.contains("no ingress-nginx controller"),
        "{err}"
    );
    assert!(err.contains("notes.yaml:"), "not positioned: {err}");
    assert!(err.contains("ingress.gateway"), "no way out: {err}");
    // An existing cluster brings its own controller.
    assert!(
        infragen::synthesize(
            "notes.yaml",
            text.as_bytes(),
            Provider::Kubernetes,
            "production"
        )
        .is_ok()
    );
    // On DOKS every Ingress is class nginx.
    let doks = std::fs::read_to_string(root().join("tests/fixtures/new-user/media-doks.yaml"))
        .unwrap()
        .replace("  ingress_controller: { kind: nginx }\n", "");
    let Err(err) = infragen::synthesize(
        "media.yaml",
        doks.as_bytes(),
        Provider::Digitalocean,
        "production",
    ) else {
        panic!("refused on DOKS");
    };
    let err = err.to_string();
    assert!(err.contains("no ingress-nginx controller"), "{err}");
}

/// Every Ingress or Gateway the clouds' manifests write has a controller `platform`
/// installs: the class of each Ingress is ingress-nginx's (`nginx`, a release in the
/// output) or the AWS Load Balancer Controller's (`alb`, always installed on EKS).
#[test]
fn every_ingress_class_is_served_by_an_installed_controller() {
    for (label, out) in cloud_outputs() {
        let charts: Vec<String> = releases(&out)
            .iter()
            .map(|(_, r)| r["chart"].as_str().unwrap().to_string())
            .collect();
        for doc in crate::support::manifests(&out) {
            match doc["kind"].as_str() {
                Some("Ingress") => {
                    let class = doc["spec"]["ingressClassName"].as_str().unwrap_or_default();
                    let chart = match class {
                        "nginx" => "ingress-nginx",
                        "alb" => "aws-load-balancer-controller",
                        other => panic!("{label}: Ingress class `{other}`"),
                    };
                    assert!(
                        charts.iter().any(|c| c == chart),
                        "{label}: an Ingress of class `{class}` but no {chart} release"
                    );
                }
                Some("Gateway") => assert!(
                    charts.iter().any(|c| c == "gateway-helm"),
                    "{label}: a Gateway but no Envoy Gateway release"
                ),
                _ => {}
            }
        }
    }
}

/// cert-manager fetches each HTTP-01 challenge itself before the ACME server does — plain
/// HTTP to the host's public load balancer, outside the VPC. On EKS managed nodes its pods
/// leave through the nodes' security group: with an ACME issuer it lets them out on 80, and
/// without one it stays HTTPS-only.
#[test]
fn cert_manager_can_run_its_http01_self_check_on_eks_nodes() {
    let http_out = |out: &infragen::Output| {
        resources(out, "infra", "aws_vpc_security_group_egress_rule")
            .iter()
            .any(|r| {
                r["security_group_id"] == "${aws_security_group.nodes.id}"
                    && r["cidr_ipv4"] == "0.0.0.0/0"
                    && r["from_port"].as_u64().is_some_and(|p| p <= 80)
                    && r["to_port"].as_u64().is_some_and(|p| p >= 80)
            })
    };
    // ACME issuer (letsencrypt-prod), managed nodes.
    let acme = synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Aws,
        "production",
    );
    assert!(
        http_out(&acme),
        "ecommerce-eks: no egress on 80 from the nodes"
    );
    // No issuer at all.
    let none = synth(
        &root().join("tests/fixtures/workloads/jobs-eks.yaml"),
        Provider::Aws,
        "production",
    );
    assert!(
        resources(&none, "platform", "helm_release")
            .iter()
            .all(|r| r["chart"] != "cert-manager"),
        "jobs-eks installs cert-manager: pick another blueprint"
    );
    assert!(
        !http_out(&none),
        "jobs-eks: plain HTTP out without an ACME issuer"
    );
}

/// Class `alb`: the ALB serves an ACM certificate and ignores the Ingress's TLS Secret, so
/// a cert-manager issuer for it would issue into a Secret nothing serves, through an
/// HTTP-01 challenge the ALB cannot answer: refused at `ingress.tls.issuer`.
#[test]
fn a_cert_manager_certificate_for_an_alb_ingress_is_refused() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml"))
        .unwrap()
        .replace(
            "  class: nginx # kubernetes.io/ingress.class: nginx\n",
            "  class: alb\n",
        );
    let Err(err) = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
    else {
        panic!("accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("`ingress.tls.issuer`") && err.contains("ACM certificate"),
        "{err}"
    );
    assert!(err.contains("shop.yaml:170:"), "not at the issuer: {err}");
    // Without the issuer the ALB Ingress is fine.
    let yaml = yaml.replace(
        "    issuer: letsencrypt-prod # cert-manager.io/cluster-issuer\n",
        "",
    );
    infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
}

/// What Pod Security `restricted` refuses in a container's security context (with no
/// pod-level settings, as the ingress-nginx chart leaves them).
fn restricted_violations(sc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let caps = |k: &str| -> Vec<&str> {
        sc["capabilities"][k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    if !caps("drop").contains(&"ALL") {
        out.push("does not drop ALL".to_string());
    }
    if caps("add").iter().any(|c| *c != "NET_BIND_SERVICE") {
        out.push(format!("adds {:?}", caps("add")));
    }
    if sc["allowPrivilegeEscalation"] != false {
        out.push("allows privilege escalation".into());
    }
    if sc["runAsNonRoot"] != true {
        out.push("may run as root".into());
    }
    if !["RuntimeDefault", "Localhost"]
        .contains(&sc["seccompProfile"]["type"].as_str().unwrap_or(""))
    {
        out.push("no seccomp profile".into());
    }
    out
}

/// Off Fargate, ingress-nginx's container passes Pod Security `restricted` (its namespace
/// may enforce it: a declared namespace does unless it says otherwise). Setting
/// `containerSecurityContext` replaces the chart's own, RuntimeDefault seccomp included.
/// On Fargate it cannot (it keeps NET_BIND_SERVICE without dropping ALL), so a `restricted`
/// controller namespace there is refused where it is declared.
#[test]
fn ingress_nginx_runs_under_its_namespace_pod_security() {
    let mut seen = 0;
    for (label, out) in cloud_outputs() {
        for (_, r) in releases(&out) {
            if r["chart"] != "ingress-nginx" {
                continue;
            }
            let v = values(&r);
            let sc = &v["controller"]["containerSecurityContext"];
            let fargate = out.files.contains_key("terraform/infra/fargate.tf.json");
            if !fargate {
                assert_eq!(
                    restricted_violations(sc),
                    Vec::<String>::new(),
                    "{label}: {sc}"
                );
                seen += 1;
            }
        }
    }
    assert!(seen > 0);
    let yaml = std::fs::read_to_string(root().join("blueprints/case-eks-fargate.yaml"))
        .unwrap()
        .replace("      pod_security: baseline\n", "");
    let Err(err) = infragen::synthesize("case.yaml", yaml.as_bytes(), Provider::Aws, "production")
    else {
        panic!("a restricted ingress-nginx namespace accepted on Fargate");
    };
    let err = err.to_string();
    assert!(
        err.contains("`kubernetes.namespaces[1].pod_security`") && err.contains("baseline"),
        "{err}"
    );
}

/// With every node pool tainted `NoSchedule`, CoreDNS and every add-on `platform` installs
/// (none tolerates a custom taint) would stay Pending: refused at `node_pools`. A
/// `PreferNoSchedule` taint only steers pods, and is accepted.
#[test]
fn a_cluster_whose_every_node_pool_repels_the_add_ons_is_refused() {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/new-user/notes-eks.yaml")).unwrap();
    let general = "  - { name: general, size: medium, min: 2, desired: 2, max: 5 }\n";
    assert!(base.contains(general));
    let tainted = |effect: &str| {
        base.replace(
            general,
            &format!("  - {{ name: general, size: medium, min: 2, desired: 2, max: 5, taints: [{{ key: team, value: web, effect: {effect} }}] }}\n"),
        )
    };
    let Err(err) = infragen::synthesize(
        "notes.yaml",
        tainted("NoSchedule").as_bytes(),
        Provider::Aws,
        "production",
    ) else {
        panic!("every pool tainted, accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("`node_pools`") && err.contains("Pending"),
        "{err}"
    );
    infragen::synthesize(
        "notes.yaml",
        tainted("PreferNoSchedule").as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
}

/// Where each chart takes its service account's name and annotations.
const SERVICE_ACCOUNTS: [(&str, &str); 4] = [
    ("aws-load-balancer-controller", "serviceAccount"),
    ("cluster-autoscaler", "rbac.serviceAccount"),
    ("external-secrets", "serviceAccount"),
    ("keda", "serviceAccount.operator"),
];

/// Charts that annotate the account from values of their own rather than `annotations`:
/// (chart, switch, role ARN). KEDA's `podIdentity.aws.irsa.*` puts the role on
/// `serviceAccount.operator` (keda.sh/docs/2.20/authentication-providers/aws).
const IRSA_VALUES: [(&str, &str, &str); 1] = [(
    "keda",
    "podIdentity.aws.irsa.enabled",
    "podIdentity.aws.irsa.roleArn",
)];

fn value_at<'v>(v: &'v Value, key: &str) -> &'v Value {
    key.split('.').fold(v, |x, part| &x[part])
}

/// IRSA works only when the role's trust policy names the service account the chart
/// creates: for every release whose service account carries `eks.amazonaws.com/role-arn`,
/// the IAM role it names (a data source by name in `platform`, created in `infra`) trusts
/// exactly `system:serviceaccount:<release namespace>:<the chart's service account name>`,
/// and the chart creates that account.
#[test]
fn every_irsa_annotation_names_a_role_that_trusts_the_charts_service_account() {
    let mut checked = 0;
    for (label, out) in cloud_outputs() {
        let roles: BTreeMap<String, Value> = resources(&out, "infra", "aws_iam_role")
            .into_iter()
            .filter_map(|r| Some((r["name"].as_str()?.to_string(), r)))
            .collect();
        let by_data: BTreeMap<String, String> = out
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("terraform/platform/"))
            .filter_map(|(_, t)| serde_json::from_str::<Value>(t).ok())
            .filter_map(|d| d.pointer("/data/aws_iam_role").cloned())
            .flat_map(|m| {
                m.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v["name"].as_str().unwrap().to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (at, r) in releases(&out) {
            let chart = r["chart"].as_str().unwrap();
            let v = values(&r);
            let Some((_, sa_key)) = SERVICE_ACCOUNTS.iter().find(|(c, _)| *c == chart) else {
                continue;
            };
            let mut sa = &v;
            for part in sa_key.split('.') {
                sa = &sa[part];
            }
            // These controllers call AWS: their account always carries the role.
            let arn = match IRSA_VALUES.iter().find(|(c, _, _)| *c == chart) {
                Some((_, switch, role)) => {
                    assert_eq!(value_at(&v, switch), true, "{label}: {at}: `{switch}`");
                    value_at(&v, role).as_str()
                }
                None => sa["annotations"]["eks.amazonaws.com/role-arn"].as_str(),
            }
            .unwrap_or_else(|| panic!("{label}: {at}: no role on `{sa_key}`"));
            assert_eq!(
                sa["create"], true,
                "{label}: {at}: the chart must create it"
            );
            let name = sa["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: {at}: no name"));
            let data = arn
                .strip_prefix("${data.aws_iam_role.")
                .and_then(|s| s.strip_suffix(".arn}"))
                .unwrap_or_else(|| panic!("{label}: {at}: {arn}"));
            let role_name = &by_data[data];
            let role = roles
                .get(role_name)
                .unwrap_or_else(|| panic!("{label}: {at}: no role {role_name} in infra"));
            let trust: Value =
                serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
            let subs: Vec<String> = trust["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| {
                    s["Condition"]["StringEquals"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.ends_with(":sub"))
                        .map(|(_, v)| v.as_str().unwrap().to_string())
                })
                .collect();
            let want = format!(
                "system:serviceaccount:{}:{name}",
                r["namespace"].as_str().unwrap()
            );
            assert_eq!(subs, vec![want], "{label}: {at}: role {role_name}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
}

/// metrics-server and cert-manager are EKS add-ons too; listed in `cluster.addons` beside
/// the Helm releases `platform` installs, two installers would own one Deployment, webhook
/// and APIService. Refused at the add-on, each; kept when `platform` installs no copy.
#[test]
fn an_eks_add_on_that_platform_also_installs_is_refused() {
    let base = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let addons = "  addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver]\n";
    assert!(base.contains(addons));
    let yaml = base.replace(
        addons,
        "  addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver, metrics-server, cert-manager]\n",
    );
    let Err(err) = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
    else {
        panic!("accepted");
    };
    let err = err.to_string();
    for (i, addon) in [(4, "metrics-server"), (5, "cert-manager")] {
        assert!(
            err.contains(&format!("`cluster.addons[{i}]`")) && err.contains(&format!("`{addon}`")),
            "{addon}: {err}"
        );
    }
    // jobs-eks has no autoscaler and no issuer: the EKS add-ons are the only copies.
    let jobs =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/jobs-eks.yaml")).unwrap();
    let line = jobs
        .lines()
        .find(|l| l.contains("addons:"))
        .expect("jobs-eks lists its add-ons")
        .to_string();
    let with = jobs.replace(&line, &line.replace(']', ", metrics-server, cert-manager]"));
    assert_ne!(with, jobs);
    let out = infragen::synthesize("jobs.yaml", with.as_bytes(), Provider::Aws, "production")
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(
        resources(&out, "platform", "helm_release")
            .iter()
            .all(|r| r["chart"] != "metrics-server" && r["chart"] != "cert-manager")
    );
}
