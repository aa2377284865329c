//! Kubernetes manifests of every shipped blueprint × provider × environment: every document
//! parses back and passes the strict Kubernetes 1.33 schemas vendored in
//! `providers/kubernetes-schemas/`; every pod is hardened; no Secret is ever written; the
//! objects refer to each other consistently; and techshop carries seed 002's figures.

use std::collections::BTreeMap;

use infragen::Provider;
use infragen::check::kubernetes::{Report, Schemas, to_json};
use serde_json::Value;
use yaml_rust2::YamlLoader;

use crate::support::{matrix, root, synth};

/// (`file#index`, document) for every manifest document of an output.
fn documents(out: &infragen::Output) -> Vec<(String, Value)> {
    documents_of(&out.files)
}

fn documents_of(files: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for (file, text) in files {
        if !(file.starts_with("k8s/") && file.ends_with(".yaml")) {
            continue;
        }
        let parsed = YamlLoader::load_from_str(text)
            .unwrap_or_else(|e| panic!("{file} does not parse back: {e}"));
        for (i, d) in parsed.iter().enumerate() {
            let v = to_json(d).unwrap_or_else(|e| panic!("{file}#{i}: {e}"));
            docs.push((format!("{file}#{i}"), v));
        }
    }
    docs
}

/// Every output with manifests, as (label, output).
fn outputs() -> Vec<(String, infragen::Output)> {
    matrix()
        .into_iter()
        .map(|(stem, path, provider, env)| {
            (
                format!("{stem} --provider {provider} --env {env}"),
                synth(&path, provider, &env),
            )
        })
        .filter(|(_, out)| out.files.keys().any(|f| f.starts_with("k8s/")))
        .collect()
}

fn kind(d: &Value) -> &str {
    d["kind"].as_str().unwrap_or_default()
}

fn name(d: &Value) -> &str {
    d["metadata"]["name"].as_str().unwrap_or_default()
}

fn namespace(d: &Value) -> &str {
    d["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// The pod template spec of a workload.
fn pod_spec(d: &Value) -> Option<&Value> {
    match kind(d) {
        "Deployment" | "StatefulSet" | "Job" => Some(&d["spec"]["template"]["spec"]),
        "CronJob" => Some(&d["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

fn pod_labels(d: &Value) -> Option<&Value> {
    match kind(d) {
        "Deployment" | "StatefulSet" | "Job" => Some(&d["spec"]["template"]["metadata"]["labels"]),
        _ => None,
    }
}

/// Whether every `selector` label is among `labels` (the StatefulSet controller adds
/// `statefulset.kubernetes.io/pod-name` to each pod itself).
fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|s| {
        !s.is_empty()
            && s.iter()
                .all(|(k, v)| labels.get(k) == Some(v) || k == "statefulset.kubernetes.io/pod-name")
    })
}

/// The strict-schema report of the manifests in `files`, asserting no problems.
fn check_schemas(label: &str, files: &BTreeMap<String, String>) -> Report {
    let mut report = Schemas::bundled().check_files(
        files
            .iter()
            .filter(|(f, _)| f.starts_with("k8s/"))
            .map(|(f, t)| (f.as_str(), t.as_str())),
    );
    // And the objects Terraform applies (`kubernetes_manifest`, EKS's `connections`).
    let in_terraform = infragen::check::terraform_manifests::check(files, Schemas::bundled());
    report.problems.extend(in_terraform.problems);
    assert!(
        report.problems.is_empty(),
        "{label}:\n{}",
        report
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    report
}

#[test]
fn every_manifest_passes_the_strict_kubernetes_schemas() {
    let mut total = 0;
    let mut checked = 0;
    for (label, out) in outputs() {
        let report = check_schemas(&label, &out.files);
        assert!(report.documents > 0, "{label}: no documents");
        total += report.documents;
        checked += report.documents - report.custom;
    }
    assert!(checked > 300, "only {checked} of {total} documents checked");
}

#[test]
fn every_pod_is_hardened() {
    for (label, out) in outputs() {
        check_hardening(&label, &documents(&out));
    }
}

fn check_hardening(label: &str, docs: &[(String, Value)]) {
    {
        for (at, d) in docs {
            let Some(pod) = pod_spec(d) else { continue };
            let at = format!("{label}: {at} {}/{}", kind(d), name(d));
            let psc = &pod["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{at}: runAsNonRoot");
            assert!(
                psc["runAsUser"].as_u64().is_some_and(|u| u > 0),
                "{at}: uid"
            );
            assert_eq!(
                psc["seccompProfile"]["type"], "RuntimeDefault",
                "{at}: seccomp"
            );
            assert!(
                pod["automountServiceAccountToken"].is_boolean(),
                "{at}: token automount must be explicit"
            );
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                assert!(pod.get(key).is_none(), "{at}: {key}");
            }
            let app = pod["containers"].as_array().expect("containers");
            let init = pod["initContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (c, is_app) in app
                .iter()
                .map(|c| (c, true))
                .chain(init.iter().map(|c| (c, false)))
            {
                let at = format!("{at} container {}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{at}: read-only root");
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{at}: escalation");
                assert!(sc.get("privileged").is_none_or(|p| p == false), "{at}");
                assert!(
                    sc["capabilities"]["drop"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|x| x == "ALL")),
                    "{at}: drop ALL"
                );
                assert!(sc["capabilities"].get("add").is_none(), "{at}: adds caps");
                for side in ["requests", "limits"] {
                    for r in ["cpu", "memory"] {
                        assert!(
                            c["resources"][side][r].is_string(),
                            "{at}: resources.{side}.{r}"
                        );
                    }
                }
                // A tag or digest; a moving `latest` only where every start pulls it (the
                // development values of seed 002).
                let image = c["image"].as_str().unwrap_or_default();
                let tagged = image.rsplit('/').next().is_some_and(|n| n.contains(':'));
                assert!(tagged || image.contains('@'), "{at}: `{image}` has no tag");
                assert!(
                    !image.ends_with(":latest") || c["imagePullPolicy"] == "Always",
                    "{at}: `{image}` without imagePullPolicy Always"
                );
                if is_app && matches!(kind(d), "Deployment" | "StatefulSet") {
                    if c["ports"].is_array() {
                        assert!(c["livenessProbe"].is_object(), "{at}: liveness");
                        assert!(c["readinessProbe"].is_object(), "{at}: readiness");
                    } else {
                        // A worker without a port: only exec probes, never one on a port.
                        for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
                            assert!(
                                c[p].is_null() || c[p]["exec"].is_object(),
                                "{at}: {p} of a container without ports: {}",
                                c[p]
                            );
                        }
                    }
                }
            }
            if matches!(kind(d), "Deployment" | "StatefulSet") {
                let anti = &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
                    [0];
                assert_eq!(anti["weight"], 100, "{at}: anti-affinity");
                assert_eq!(
                    anti["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname",
                    "{at}"
                );
            }
        }
    }
}

#[test]
fn secrets_are_only_ever_referenced() {
    for (label, out) in outputs() {
        for (at, d) in documents(&out) {
            assert_ne!(kind(&d), "Secret", "{label}: {at} writes a Secret");
            if kind(&d) == "ConfigMap" {
                for (k, _) in d["data"].as_object().into_iter().flatten() {
                    let k = k.to_ascii_uppercase();
                    assert!(
                        !["PASSWORD", "SECRET", "TOKEN", "API_KEY"]
                            .iter()
                            .any(|w| k.contains(w)),
                        "{label}: {at}: `{k}` looks like a secret in a ConfigMap"
                    );
                }
            }
        }
    }
}

#[test]
fn the_kustomization_lists_every_file() {
    for (label, out) in outputs() {
        let text = &out.files["k8s/kustomization.yaml"];
        let doc = to_json(&YamlLoader::load_from_str(text).unwrap()[0]).unwrap();
        let listed: Vec<String> = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("k8s/{}", v.as_str().unwrap()))
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "{label}: resources not sorted");
        let files: Vec<String> = out
            .files
            .keys()
            .filter(|f| f.starts_with("k8s/") && *f != "k8s/kustomization.yaml")
            .cloned()
            .collect();
        assert_eq!(listed, files, "{label}");
    }
}

/// Services select pods, autoscalers and budgets act on real workloads, ingress backends are
/// real Service ports, bindings name real roles, workloads run as real service accounts.
#[test]
fn objects_refer_to_each_other() {
    for (label, out) in outputs() {
        // Namespaces Terraform creates, and those of the controllers `preconditions.json`
        // says must run first (Envoy Gateway's, on an existing cluster).
        let mut external = terraform_namespaces(&out);
        if let Some(pre) = out.files.get("preconditions.json") {
            let pre: Value = serde_json::from_str(pre).unwrap();
            for p in pre.as_array().into_iter().flatten() {
                if p["kind"] != "Deployment" {
                    continue;
                }
                if let Some(ns) = p["namespace"].as_str().filter(|n| !n.is_empty()) {
                    external.push(ns.to_string());
                }
            }
        }
        check_references(
            &label,
            &documents(&out),
            &external,
            &terraform_service_accounts(&out),
        );
    }
}

/// ServiceAccounts (`namespace/name`) the platform's Terraform creates
/// (`kubernetes_service_account_v1`: the IRSA ones on EKS), which pods run as and the
/// manifests must not declare again. A namespace given by reference
/// (`${kubernetes_namespace_v1.<n>.metadata[0].name}`) is that resource's name.
fn terraform_service_accounts(out: &infragen::Output) -> Vec<String> {
    let mut namespaces = std::collections::BTreeMap::new();
    let mut accounts = Vec::new();
    for (file, text) in &out.files {
        if !(file.starts_with("terraform/") && file.ends_with(".tf.json")) {
            continue;
        }
        let json: Value = serde_json::from_str(text).unwrap();
        for (n, r) in json["resource"]["kubernetes_namespace_v1"]
            .as_object()
            .into_iter()
            .flatten()
        {
            namespaces.insert(
                n.clone(),
                r["metadata"]["name"].as_str().unwrap().to_string(),
            );
        }
        for r in json["resource"]["kubernetes_service_account_v1"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, r)| r)
        {
            accounts.push((
                r["metadata"]["namespace"].as_str().unwrap().to_string(),
                r["metadata"]["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    accounts
        .into_iter()
        .map(|(ns, name)| {
            let ns = ns
                .strip_prefix("${kubernetes_namespace_v1.")
                .and_then(|r| r.split('.').next())
                .map(|n| namespaces[n].clone())
                .unwrap_or(ns);
            format!("{ns}/{name}")
        })
        .collect()
}

/// Namespaces the platform's Terraform creates (`kubernetes_namespace_v1`), which the
/// manifests use but must not declare again (one owner per namespace).
fn terraform_namespaces(out: &infragen::Output) -> Vec<String> {
    let mut names = Vec::new();
    for (file, text) in &out.files {
        if !(file.starts_with("terraform/") && file.ends_with(".tf.json")) {
            continue;
        }
        let json: Value = serde_json::from_str(text).unwrap();
        if let Some(m) = json["resource"]["kubernetes_namespace_v1"].as_object() {
            for r in m.values() {
                names.push(r["metadata"]["name"].as_str().unwrap().to_string());
            }
        }
    }
    names
}

/// No namespace is owned twice: one that Terraform creates (for a Helm release) is not
/// declared under `k8s/`, and no Helm release creates a namespace itself.
#[test]
fn every_namespace_has_one_owner() {
    for (label, out) in outputs() {
        let external = terraform_namespaces(&out);
        for (_, d) in documents(&out) {
            if kind(&d) == "Namespace" {
                assert!(
                    !external.contains(&name(&d).to_string()),
                    "{label}: namespace {} is created by Terraform and declared under k8s/",
                    name(&d)
                );
            }
        }
        for (file, text) in out.files.iter().filter(|(f, _)| f.ends_with(".tf.json")) {
            let json: Value = serde_json::from_str(text).unwrap();
            for (name, r) in json["resource"]["helm_release"]
                .as_object()
                .into_iter()
                .flatten()
            {
                // kube-system exists in every cluster; nobody creates it.
                assert!(
                    r["create_namespace"] != true || r["namespace"] == "kube-system",
                    "{label}: {file}: Helm release {name} creates its namespace {}",
                    r["namespace"]
                );
            }
        }
    }
}

/// `external`: namespaces, `external_accounts`: ServiceAccounts (`namespace/name`) another
/// owner (the platform's Terraform) creates.
fn check_references(
    label: &str,
    docs: &[(String, Value)],
    external: &[String],
    external_accounts: &[String],
) {
    {
        let docs: Vec<&Value> = docs.iter().map(|(_, d)| d).collect();
        let find = |k: &str, ns: &str, n: &str| {
            docs.iter()
                .copied()
                .find(|d| kind(d) == k && namespace(d) == ns && name(d) == n)
        };
        let account = |ns: &str, n: &str| {
            find("ServiceAccount", ns, n).is_some()
                || external_accounts.contains(&format!("{ns}/{n}"))
        };
        for d in docs.iter().copied() {
            if kind(d) == "ServiceAccount" {
                assert!(
                    !external_accounts.contains(&format!("{}/{}", namespace(d), name(d))),
                    "{label}: ServiceAccount {}/{} is created by Terraform and declared under k8s/",
                    namespace(d),
                    name(d)
                );
            }
            // Every pod runs as a ServiceAccount that exists (one it names, or `default`).
            let pod = match kind(d) {
                "Deployment" | "StatefulSet" | "Job" => &d["spec"]["template"]["spec"],
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => continue,
            };
            if let Some(sa) = pod["serviceAccountName"].as_str() {
                assert!(
                    account(namespace(d), sa),
                    "{label}: {} {}/{} runs as ServiceAccount {sa}, which nothing creates",
                    kind(d),
                    namespace(d),
                    name(d)
                );
            }
        }
        let workloads: Vec<&Value> = docs
            .iter()
            .copied()
            .filter(|d| pod_labels(d).is_some())
            .collect();
        for d in docs.iter().copied() {
            let ns = namespace(d);
            let at = format!("{label}: {} {ns}/{}", kind(d), name(d));
            if !ns.is_empty() {
                assert!(
                    find("Namespace", "", ns).is_some() || external.iter().any(|e| e == ns),
                    "{at}: no Namespace"
                );
            }
            match kind(d) {
                "Service" => {
                    let sel = &d["spec"]["selector"];
                    let target = workloads
                        .iter()
                        .filter(|w| namespace(w) == ns)
                        .find(|w| selects(sel, pod_labels(w).unwrap()));
                    let target = target.unwrap_or_else(|| panic!("{at}: selects no pods"));
                    for p in d["spec"]["ports"].as_array().unwrap() {
                        let port = &p["targetPort"];
                        let exposed = target["spec"]["template"]["spec"]["containers"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                            .any(|cp| &cp["containerPort"] == port);
                        assert!(exposed, "{at}: targetPort {port} is no container port");
                    }
                }
                "HorizontalPodAutoscaler" | "VerticalPodAutoscaler" => {
                    let r = if kind(d) == "VerticalPodAutoscaler" {
                        &d["spec"]["targetRef"]
                    } else {
                        &d["spec"]["scaleTargetRef"]
                    };
                    let w = find("Deployment", ns, r["name"].as_str().unwrap());
                    assert!(w.is_some(), "{at}: targets no Deployment");
                    if kind(d) == "HorizontalPodAutoscaler" {
                        // The autoscaler owns the count, unless both colours of a blue/green
                        // pair must stay equal.
                        let w = w.unwrap();
                        assert!(
                            w["spec"]["replicas"].is_null()
                                || w["metadata"]["labels"]["color"].is_string(),
                            "{at}: Deployment also sets replicas"
                        );
                    }
                }
                "PodDisruptionBudget" => {
                    let sel = &d["spec"]["selector"]["matchLabels"];
                    let n = workloads
                        .iter()
                        .filter(|w| namespace(w) == ns && kind(w) != "Job")
                        .filter(|w| selects(sel, pod_labels(w).unwrap()))
                        .count();
                    assert_eq!(n, 1, "{at}: must select exactly one workload's pods");
                }
                "Ingress" => {
                    for rule in d["spec"]["rules"].as_array().unwrap() {
                        for p in rule["http"]["paths"].as_array().unwrap() {
                            let b = &p["backend"]["service"];
                            // (Service, port) pairs the path sends requests to: the backend,
                            // or the target groups of the AWS Load Balancer Controller's
                            // forward action it names (port `use-annotation`).
                            let mut to = vec![(b["name"].clone(), b["port"]["number"].clone())];
                            if b["port"]["name"] == "use-annotation" {
                                let key = format!(
                                    "alb.ingress.kubernetes.io/actions.{}",
                                    b["name"].as_str().unwrap()
                                );
                                let a: Value = serde_json::from_str(
                                    d["metadata"]["annotations"][&key]
                                        .as_str()
                                        .unwrap_or_else(|| panic!("{at}: no {key}")),
                                )
                                .unwrap();
                                to = a["forwardConfig"]["targetGroups"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|g| (g["serviceName"].clone(), g["servicePort"].clone()))
                                    .collect();
                            }
                            for (name, port) in to {
                                let svc = find("Service", ns, name.as_str().unwrap())
                                    .unwrap_or_else(|| panic!("{at}: no Service {name}"));
                                assert!(
                                    svc["spec"]["ports"]
                                        .as_array()
                                        .unwrap()
                                        .iter()
                                        .any(|sp| sp["port"] == port),
                                    "{at}: {name} has no port {port}"
                                );
                            }
                        }
                    }
                }
                "RoleBinding" | "ClusterRoleBinding" => {
                    let r = &d["roleRef"];
                    let role_ns = if kind(d) == "RoleBinding" { ns } else { "" };
                    assert!(
                        find(
                            r["kind"].as_str().unwrap(),
                            role_ns,
                            r["name"].as_str().unwrap()
                        )
                        .is_some(),
                        "{at}: no {} {}",
                        r["kind"],
                        r["name"]
                    );
                    for s in d["subjects"].as_array().unwrap() {
                        let sns = s["namespace"].as_str().unwrap();
                        assert!(
                            account(sns, s["name"].as_str().unwrap()),
                            "{at}: no ServiceAccount {sns}/{}",
                            s["name"]
                        );
                    }
                }
                "Deployment" => {
                    let sa = d["spec"]["template"]["spec"]["serviceAccountName"]
                        .as_str()
                        .unwrap();
                    assert!(account(ns, sa), "{at}: no SA {sa}");
                    let sel = &d["spec"]["selector"]["matchLabels"];
                    let overlapping = workloads
                        .iter()
                        .filter(|w| namespace(w) == ns)
                        .filter(|w| selects(sel, pod_labels(w).unwrap()))
                        .count();
                    assert_eq!(overlapping, 1, "{at}: selector overlaps another workload");
                }
                "StatefulSet" => {
                    let governing = d["spec"]["serviceName"].as_str().unwrap();
                    let svc = find("Service", ns, governing).expect("governing Service");
                    assert_eq!(svc["spec"]["clusterIP"], "None", "{at}: not headless");
                }
                _ => {}
            }
        }
    }
}

fn techshop(env: &str) -> infragen::Output {
    synth(
        &root().join("blueprints/techshop.yaml"),
        Provider::Kubernetes,
        env,
    )
}

/// Every figure seed 002 gives for Kubernetes, in the production output.
#[test]
fn techshop_production_carries_seed_002() {
    let out = techshop("production");
    let all: String = out.files.values().cloned().collect();
    let file = |p: &str| {
        out.files
            .get(&format!("k8s/techshop-cloud/{p}.yaml"))
            .unwrap_or_else(|| panic!("no {p}.yaml"))
            .clone()
    };
    let app = file("techshop-app");
    for want in [
        "name: techshop-app\n",
        "image: techshop/app:stable",
        "imagePullPolicy: IfNotPresent",
        "containerPort: 3000",
        "NODE_ENV: production",
        // The seed's `mongodb-uri` / `redis-url` secret keys would hold passwords infragen
        // generates: the app's names are built from the generated variables instead.
        "name: MONGODB_URI\n              value: \"mongodb://$(MONGODB_USERNAME):$(MONGODB_PASSWORD)@$(MONGODB_HOST):$(MONGODB_PORT)/$(MONGODB_DATABASE)?authSource=admin\"",
        "name: REDIS_URL\n              value: \"redis://:$(REDIS_PASSWORD)@$(REDIS_HOST):$(REDIS_PORT)\"",
        "key: jwt-secret",
        "requests:\n              cpu: \"250m\"\n              memory: \"256Mi\"\n            limits:\n              cpu: \"500m\"\n              memory: \"512Mi\"",
        "livenessProbe:\n            httpGet:\n              path: /health\n              port: 3000\n            initialDelaySeconds: 30\n            periodSeconds: 10",
        "readinessProbe:\n            httpGet:\n              path: /ready\n              port: 3000\n            initialDelaySeconds: 5\n            periodSeconds: 5",
        "runAsNonRoot: true\n        runAsUser: 1001\n        runAsGroup: 1001\n        fsGroup: 1001",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        "name: techshop-app-service",
        "port: 80\n      targetPort: 3000",
        "type: ClusterIP",
        "name: techshop-app-hpa",
        "minReplicas: 3\n  maxReplicas: 10",
        "averageUtilization: 70",
        "averageUtilization: 80",
        "name: techshop-app-pdb",
        "minAvailable: 2",
        "name: techshop-app-vpa",
        // The seed's Auto mode next to an HPA on CPU and memory would fight it: Initial.
        "updateMode: Initial",
        "minAllowed:\n          cpu: \"100m\"\n          memory: \"128Mi\"\n        maxAllowed:\n          cpu: \"1\"\n          memory: \"1Gi\"",
        "serviceAccountName: techshop-service-account",
        "prometheus.io/port: \"3000\"",
        "prometheus.io/path: /metrics",
    ] {
        assert!(app.contains(want), "techshop-app.yaml lacks:\n{want}");
    }
    let mongo = file("mongodb");
    for want in [
        "kind: StatefulSet\nmetadata:\n  name: mongodb\n",
        "name: mongodb-service\n",
        "replicas: 3",
        "image: mongo:8.0.20",
        "containerPort: 27017",
        "name: MONGO_INITDB_ROOT_USERNAME\n              valueFrom:\n                secretKeyRef:\n                  name: mongodb-secret\n                  key: username",
        "key: password",
        "name: mongodb-storage\n              mountPath: /data/db",
        // The seed's `cpu: 1000m`, as the API server stores it (`1`: src/k8s/quantity.rs).
        "cpu: \"500m\"\n              memory: \"1Gi\"\n            limits:\n              cpu: \"1\"\n              memory: \"2Gi\"",
        "accessModes:\n          - ReadWriteOnce",
        "storage: \"20Gi\"",
        "- \"--replSet\"\n            - mongodb",
        "name: mongodb-backup\n",
        "schedule: \"0 2 * * *\"",
        "mongodump --host mongodb-service:27017",
        "--authenticationDatabase admin",
        "--gzip",
        "s3://techshop-backups/mongodb/",
        "-mtime +7 -delete",
        "name: MONGO_USERNAME",
        "restartPolicy: OnFailure",
        "claimName: backup-pvc",
        "name: metrics\n      port: 9216",
    ] {
        assert!(mongo.contains(want), "mongodb.yaml lacks:\n{want}");
    }
    let redis = file("redis");
    for want in [
        "image: redis:8.2.2-alpine",
        "--appendonly yes",
        "containerPort: 6379",
        "replicas: 3",
        "storage: \"5Gi\"",
        "name: redis-storage\n              mountPath: /data",
        "name: redis-service\n",
        "name: metrics\n      port: 9121",
        "cpu: \"250m\"\n              memory: \"256Mi\"\n            limits:\n              cpu: \"500m\"\n              memory: \"512Mi\"",
    ] {
        assert!(redis.contains(want), "redis.yaml lacks:\n{want}");
    }
    let ingress = file("ingress");
    for want in [
        "name: techshop-ingress",
        "ingressClassName: nginx",
        "cert-manager.io/cluster-issuer: letsencrypt-prod",
        "nginx.ingress.kubernetes.io/use-regex: \"true\"",
        "nginx.ingress.kubernetes.io/rewrite-target: \"/$2\"",
        "nginx.ingress.kubernetes.io/limit-rpm: \"100\"",
        "- api.techshop-cloud.com",
        "secretName: techshop-tls",
        "path: \"/api(/|$)(.*)\"",
        "name: techshop-app-service\n                port:\n                  number: 80",
    ] {
        assert!(ingress.contains(want), "ingress.yaml lacks:\n{want}");
    }
    for want in [
        "kind: ClusterIssuer\nmetadata:\n  name: letsencrypt-prod",
        "server: https://acme-v02.api.letsencrypt.org/directory",
        "email: admin@techshop-cloud.com",
        "privateKeySecretRef:\n      name: letsencrypt-prod",
        "ingressClassName: nginx",
        "name: techshop-quota",
        // The seed's CPU and memory figures (4 / 8Gi / 8 / 16Gi) cannot hold its own
        // workloads at their maximum, the app's pods sized by the VPA (checked at synth);
        // the blueprint raises them and keeps the rest.
        "configmaps: \"20\"\n    limits.cpu: \"27\"\n    limits.memory: \"30Gi\"\n    persistentvolumeclaims: \"10\"\n    pods: \"20\"\n    requests.cpu: \"13\"\n    requests.memory: \"15Gi\"\n    secrets: \"20\"\n    services: \"10\"",
        "name: techshop-app-netpol",
        "- Ingress\n    - Egress",
        "app: mongodb\n      ports:\n        - protocol: TCP\n          port: 27017",
        "app: redis\n      ports:\n        - protocol: TCP\n          port: 6379",
        "port: 80\n        - protocol: TCP\n          port: 443",
        "kind: ServiceAccount\nmetadata:\n  name: techshop-service-account",
        "automountServiceAccountToken: false",
    ] {
        assert!(all.contains(want), "techshop production lacks:\n{want}");
    }
    // The namespace holds the generated credentials: the platform module creates it, with
    // the blueprint's labels (Pod Security level included).
    let platform = &out.files["terraform/platform/connections.tf.json"];
    for want in [
        "\"name\": \"techshop-cloud\"",
        "\"environment\": \"production\"",
        "\"pod-security.kubernetes.io/enforce\": \"restricted\"",
    ] {
        assert!(platform.contains(want), "platform module lacks {want}");
    }
}

/// values-dev.yaml: one replica, smaller resources, `latest` with `Always`, 1Gi volumes, no
/// ingress, no autoscaler or disruption budget.
#[test]
fn techshop_development_carries_the_dev_values() {
    let out = techshop("development");
    let app = &out.files["k8s/techshop-cloud/techshop-app.yaml"];
    for want in [
        "replicas: 1",
        "image: techshop/app:latest",
        "imagePullPolicy: Always",
        "cpu: \"100m\"\n              memory: \"128Mi\"\n            limits:\n              cpu: \"200m\"\n              memory: \"256Mi\"",
        "NODE_ENV: development",
    ] {
        assert!(
            app.contains(want),
            "development techshop-app.yaml lacks:\n{want}"
        );
    }
    for absent in ["HorizontalPodAutoscaler", "PodDisruptionBudget"] {
        assert!(!app.contains(absent), "development has a {absent}");
    }
    assert!(!out.files.contains_key("k8s/techshop-cloud/ingress.yaml"));
    for f in ["mongodb", "redis"] {
        let t = &out.files[&format!("k8s/techshop-cloud/{f}.yaml")];
        assert!(t.contains("storage: \"1Gi\""), "{f}: 1Gi volume");
        assert!(t.contains("replicas: 1"), "{f}: one replica");
    }
    // The namespace holds the generated credentials, so the platform module creates it,
    // with the blueprint's labels.
    let platform = &out.files["terraform/platform/connections.tf.json"];
    assert!(platform.contains("\"environment\": \"development\""));
    assert!(!out.files["k8s/techshop-cloud/namespace.yaml"].contains("kind: Namespace"));
}

/// Seed 003: blue and green Deployments, the Service, budget and autoscalers on the live
/// colour; switching `rollout.live` moves them and leaves the replica counts to the HPAs.
#[test]
fn blue_green_switches_by_service_selector() {
    let path = root().join("blueprints/case-eks-fargate.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    for live in ["blue", "green"] {
        let text = text.replace("live: blue", &format!("live: {live}"));
        let out = infragen::synthesize(
            "blueprints/case-eks-fargate.yaml",
            text.as_bytes(),
            Provider::Kubernetes,
            "production",
        )
        .unwrap();
        let docs: BTreeMap<(String, String), Value> = documents(&out)
            .into_iter()
            .map(|(_, d)| ((kind(&d).to_string(), name(&d).to_string()), d))
            .collect();
        let get = |k: &str, n: &str| &docs[&(k.to_string(), n.to_string())];
        for colour in ["blue", "green"] {
            let d = get("Deployment", &format!("backend-{colour}"));
            assert_eq!(d["spec"]["selector"]["matchLabels"]["color"], colour);
            assert!(
                d["spec"].get("replicas").is_none(),
                "an HPA scales backend-{colour}: no spec.replicas"
            );
            // Each colour has its own HPA, so a switch moves no HPA and resets no count.
            assert_eq!(
                get("HorizontalPodAutoscaler", &format!("backend-{colour}-hpa"))["spec"]["scaleTargetRef"]
                    ["name"],
                format!("backend-{colour}")
            );
        }
        assert_eq!(get("Service", "backend")["spec"]["selector"]["color"], live);
        assert_eq!(
            get("PodDisruptionBudget", "backend-pdb")["spec"]["selector"]["matchLabels"]["color"],
            live
        );
        assert!(!docs.contains_key(&("HorizontalPodAutoscaler".into(), "backend-hpa".into())));
    }
}

/// No Deployment that a HorizontalPodAutoscaler scales carries `spec.replicas` (every apply
/// would reset the scaled count), in every shipped output.
#[test]
fn autoscaled_deployments_leave_replicas_to_the_hpa() {
    let mut checked = 0;
    for (label, out) in outputs() {
        let docs = documents(&out);
        for (_, hpa) in docs
            .iter()
            .filter(|(_, d)| kind(d) == "HorizontalPodAutoscaler")
        {
            let target = hpa["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
            let (_, d) = docs
                .iter()
                .find(|(_, d)| {
                    kind(d) == "Deployment" && name(d) == target && namespace(d) == namespace(hpa)
                })
                .unwrap_or_else(|| panic!("{label}: HPA {} targets nothing", name(hpa)));
            assert!(
                d["spec"].get("replicas").is_none(),
                "{label}: Deployment {target} is scaled by HPA {} but sets spec.replicas",
                name(hpa)
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "only {checked} autoscaled Deployments");
}

/// Seed 000: the production gateway canary takes 10 % at ingress-nginx.
#[test]
fn canary_splits_at_the_ingress_controller() {
    let out = synth(
        &root().join("blueprints/ecommerce-eks.yaml"),
        Provider::Kubernetes,
        "production",
    );
    let text = &out.files["k8s/ecommerce-production/ingress.yaml"];
    assert!(text.contains(
        "name: gateway-canary\n  namespace: ecommerce-production\n  labels:\n    app.kubernetes.io/part-of: ecommerce\n    app.kubernetes.io/managed-by: infragen\n    project: ecommerce\n    team: platform\n  annotations:\n    nginx.ingress.kubernetes.io/canary: \"true\"\n    nginx.ingress.kubernetes.io/canary-weight: \"10\""
    ));
    let gw = &out.files["k8s/ecommerce-production/gateway.yaml"];
    assert!(gw.contains("name: gateway-canary\n  namespace: ecommerce-production"));
    assert!(gw.contains("track: canary"));
    assert!(gw.contains("track: stable"));
}

/// Seed 001's platform objects: the three namespace policies by name, RBAC, issuers.
#[test]
fn doks_platform_objects() {
    let out = synth(
        &root().join("blueprints/ecommerce-doks.yaml"),
        Provider::Kubernetes,
        "production",
    );
    let policies = &out.files["k8s/ecommerce-production/network-policies.yaml"];
    for n in [
        "default-deny-ingress",
        "allow-same-namespace",
        "allow-ingress-traffic",
    ] {
        assert!(policies.contains(&format!("name: {n}\n")), "{n}");
    }
    assert!(policies.contains("kubernetes.io/metadata.name: ingress-nginx"));
    let rbac = &out.files["k8s/ecommerce-production/rbac.yaml"];
    assert!(rbac.contains("kind: Role\nmetadata:\n  name: microservices-role"));
    assert!(
        rbac.contains("kind: RoleBinding\nmetadata:\n  name: microservices-sa-microservices-role")
    );
    let cluster = &out.files["k8s/cluster/rbac.yaml"];
    assert!(cluster.contains("kind: ClusterRole\nmetadata:\n  name: monitoring-reader"));
    let issuers = &out.files["k8s/cluster/issuers.yaml"];
    for n in [
        "letsencrypt-staging",
        "letsencrypt-prod",
        "selfsigned-issuer",
    ] {
        assert!(issuers.contains(&format!("name: {n}\n")), "{n}");
    }
    assert!(issuers.contains("https://acme-staging-v02.api.letsencrypt.org/directory"));
    let mysql = &out.files["k8s/ecommerce-production/mysql.yaml"];
    assert!(mysql.contains("image: mysql:8.4.8") && mysql.contains("containerPort: 3306"));
}

/// Features the shipped blueprints leave out — MySQL/PostgreSQL/MongoDB/Valkey/RabbitMQ with
/// exporters and backups, taints, cross-namespace data, canaries with and without
/// ingress-nginx, blue/green with an autoscaler, RBAC both ways, LimitRange, platform
/// options — all pass the same schema, hardening and consistency checks.
const TOUR: &str = r#"
name: tour
secrets:
  - { name: api-keys, keys: [token] }
  - { name: cache-auth, keys: [auth] }
node_pools:
  - name: batch
    min: 1
    max: 3
    labels: { workload: batch }
    taints:
      - { key: dedicated, effect: NoSchedule }
      - { key: tier, value: batch, effect: NoExecute }
databases:
  - name: orders
    engine: mysql
    deployment: in_cluster
    in_cluster: { exporter: {}, volume_size: 2Gi }
    backup: { schedule: "30 1 * * *", destination: "s3://tour/orders/", storage_secret: backup-aws, retention_days: 3 }
  - name: ledger
    engine: postgres
    size: medium
    storage: { size_gb: 15 }
    backup: { window: "04:30-05:30" }
    in_cluster: { exporter: { port: 9999 } }
  - name: docs
    engine: mongodb
    in_cluster: { replicas: 2, node_pool: batch }
caches:
  - name: sessions
    engine: valkey
    nodes: 2
    auth_token_secret: cache-auth
    in_cluster: { exporter: {} }
queues:
  - name: events
    engine: rabbitmq
    in_cluster: { exporter: {} }
tables:
  - name: audit
    partition_key: { name: id, type: S }
ingress:
  hosts: [tour.example.com, admin.tour.example.com]
  tls: { secret_name: tour-tls }
  rate_limit: { requests: 20, window: 1s }
services:
  - name: web
    image: example/web:2.0.0
    port: 8080
    replicas: 10
    rollout: { strategy: canary, canary_weight: 20 }
    routes:
      - { path: / }
      - { path: /admin, host: admin.tour.example.com, path_type: Exact }
    uses: [orders, sessions, audit, ledger]
    probes:
      startup: { command: [cat, /tmp/ready], period: 2, failure_threshold: 30 }
    metrics: { port: 9090, path: /metrics }
    secret_env: [{ name: API_TOKEN, secret: api-keys }]
  - name: worker
    namespace: jobs
    image: example/worker:2.0.0
    port: 9000
    replicas: 2
    rollout: { strategy: canary }
    uses: [events, docs]
    node_pool: batch
    resources: { limits: { memory: 1Gi } }
    autoscaling: { min: 2, max: 5, scale_down: { stabilization_seconds: 600 } }
    pdb: { max_unavailable: "50%" }
    vpa: { mode: "Off", max: { memory: 2Gi } }
  - name: admin
    image: example/admin:2.0.0
    port: 8081
    rollout: { strategy: blue_green, live: green }
    autoscaling: { min: 2, max: 4, cpu_percent: 60 }
    pdb: { min_available: "1" }
    routes: [{ path: /console, host: admin.tour.example.com }]
    service_account: admin-sa
kubernetes:
  default_namespace: apps
  namespaces:
    - name: apps
      limit_range: { max: { cpu: "2" }, default: { memory: 256Mi } }
      quota: { pods: "50" }
    - name: jobs
      pod_security: baseline
  service_accounts:
    - { name: admin-sa, namespace: apps, automount_token: true, role: reader, cluster_role: node-reader }
  roles:
    - { name: reader, namespace: apps, rules: [{ resources: [configmaps], verbs: [get] }] }
    - { name: node-reader, rules: [{ resources: [nodes], verbs: [get, list] }] }
  network_policies: { allow_same_namespace: false }
  issuers:
    - { name: staging, kind: acme, server: "https://acme-staging-v02.api.letsencrypt.org/directory", email: ops@tour.example.com }
    - { name: self, kind: self_signed }
"#;

fn tour(opts: &infragen::k8s::Options) -> BTreeMap<String, String> {
    let loaded = infragen::blueprint::load(
        "tour.yaml",
        TOUR.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let v = infragen::semantic::analyze(&loaded).unwrap_or_else(|d| panic!("{d}"));
    infragen::k8s::manifests(&v, opts).0
}

#[test]
fn the_feature_tour_passes_every_check() {
    let nginx = infragen::k8s::Options {
        ingress_class: Some("nginx".into()),
        ..Default::default()
    };
    let mut alb = infragen::k8s::Options {
        ingress_class: Some("alb".into()),
        storage_class: Some("gp3".into()),
        image_pull_secret: Some("regcred".into()),
        node_pool_label: Some("eks.amazonaws.com/nodegroup".into()),
        ..Default::default()
    };
    // A ServiceAccount the back-end's Terraform owns (an IRSA one on EKS).
    alb.external_service_accounts
        .insert(("apps".into(), "admin-sa".into()));
    alb.ingress_annotations
        .insert("alb.ingress.kubernetes.io/target-type".into(), "ip".into());
    for (label, opts) in [("nginx", &nginx), ("alb", &alb)] {
        let files = tour(opts);
        let report = check_schemas(label, &files);
        assert!(report.documents > 40, "{label}: {}", report.documents);
        let docs = documents_of(&files);
        check_hardening(label, &docs);
        let external = if label == "alb" {
            vec!["apps/admin-sa".to_string()]
        } else {
            Vec::new()
        };
        check_references(label, &docs, &[], &external);
        assert!(docs.iter().all(|(_, d)| kind(d) != "Secret"));
    }

    let n = tour(&nginx);
    let web = &n["k8s/apps/web.yaml"];
    // ⌈10 × 20 / 100⌉ canary pods behind ingress-nginx's exact 20 %.
    assert!(web.contains("name: web-canary\n  namespace: apps"));
    assert!(web.contains(
        "replicas: 2\n  selector:\n    matchLabels:\n      app: web\n      track: canary"
    ));
    let ing = &n["k8s/apps/ingress.yaml"];
    assert!(ing.contains("nginx.ingress.kubernetes.io/canary-weight: \"20\""));
    assert!(ing.contains("nginx.ingress.kubernetes.io/limit-rps: \"20\""));
    assert!(ing.contains("path: /admin\n            pathType: Exact"));
    // `--provider kubernetes` has no managed services: `ledger` (managed elsewhere) runs in
    // the cluster too, as the analysis places it whatever the generator's options.
    assert!(n.contains_key("k8s/apps/orders.yaml") && n.contains_key("k8s/apps/ledger.yaml"));
    let orders = &n["k8s/apps/orders.yaml"];
    for want in [
        "image: prom/mysqld-exporter:v0.15.1",
        "schedule: \"30 1 * * *\"",
        "- sync\n",
        "name: backup-aws",
        "-mtime +3 -delete",
        "mysqldump --host orders --port 3306",
    ] {
        assert!(orders.contains(want), "orders.yaml lacks {want}");
    }
    let pol = &n["k8s/apps/network-policies.yaml"];
    assert!(!pol.contains("name: allow-same-namespace"));
    assert!(pol.contains("port: 5432"), "egress to the ledger");

    let a = tour(&alb);
    let web = &a["k8s/apps/web.yaml"];
    // A shared Service: round(10 × 20 / 80) canary pods.
    assert!(web.contains(
        "replicas: 3\n  selector:\n    matchLabels:\n      app: web\n      track: canary"
    ));
    assert!(!a["k8s/apps/ingress.yaml"].contains("nginx.ingress.kubernetes.io"));
    assert!(a["k8s/apps/ingress.yaml"].contains("alb.ingress.kubernetes.io/target-type: ip"));
    // Left to its owner: not declared, still run as, still bound to its roles.
    assert!(n["k8s/apps/service-accounts.yaml"].contains("name: admin-sa\n"));
    assert!(!a["k8s/apps/service-accounts.yaml"].contains("name: admin-sa\n"));
    assert!(
        a.values()
            .any(|f| f.contains("serviceAccountName: admin-sa"))
    );
    assert!(a["k8s/apps/rbac.yaml"].contains("name: admin-sa\n"));
    let docs = &a["k8s/apps/docs.yaml"];
    for want in [
        "storageClassName: gp3",
        "name: regcred",
        "eks.amazonaws.com/nodegroup: batch",
        "key: dedicated\n          operator: Exists\n          effect: NoSchedule",
        "key: tier\n          operator: Equal\n          value: batch\n          effect: NoExecute",
        "name: docs-rs-init",
        "- \"--replSet\"",
    ] {
        assert!(docs.contains(want), "docs.yaml lacks {want}");
    }
    let ledger = &a["k8s/apps/ledger.yaml"];
    assert!(ledger.contains("schedule: \"30 4 * * *\""), "window start");
    assert!(ledger.contains("containerPort: 9999"));
    let sessions = &a["k8s/apps/sessions.yaml"];
    assert!(sessions.contains("valkey/valkey:8") && sessions.contains("--requirepass"));
    assert!(sessions.contains("key: auth"));
    let worker_pol = &a["k8s/jobs/network-policies.yaml"];
    assert!(
        worker_pol.contains("app: events\n          namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: apps"),
        "cross-namespace egress to the queue"
    );
}

/// Least privilege: no pod an Ingress routes to (internet-facing) runs under a
/// ServiceAccount whose Role or ClusterRole can read Secrets.
#[test]
fn routed_services_cannot_read_secrets() {
    let reads_secrets = |role: &Value| {
        role["rules"].as_array().into_iter().flatten().any(|r| {
            let has = |k: &str, v: &str| {
                r[k].as_array()
                    .is_some_and(|a| a.iter().any(|x| x == v || x == "*"))
            };
            has("resources", "secrets")
                && (has("verbs", "get") || has("verbs", "list") || has("verbs", "watch"))
        })
    };
    let mut checked = 0;
    for (label, out) in outputs() {
        let docs: Vec<Value> = documents(&out).into_iter().map(|(_, d)| d).collect();
        let routed: Vec<(&str, &str)> = docs
            .iter()
            .filter(|d| kind(d) == "Ingress")
            .flat_map(|d| {
                let ns = namespace(d);
                d["spec"]["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten())
                    .filter_map(move |p| Some((ns, p["backend"]["service"]["name"].as_str()?)))
            })
            .collect();
        for (ns, svc) in routed {
            let Some(service) = docs
                .iter()
                .find(|d| kind(d) == "Service" && namespace(d) == ns && name(d) == svc)
            else {
                continue;
            };
            let sel = &service["spec"]["selector"];
            for d in docs.iter().filter(|d| {
                kind(d) == "Deployment"
                    && namespace(d) == ns
                    && pod_labels(d).is_some_and(|l| selects(sel, l))
            }) {
                let sa = d["spec"]["template"]["spec"]["serviceAccountName"]
                    .as_str()
                    .unwrap_or("default");
                for b in docs
                    .iter()
                    .filter(|b| matches!(kind(b), "RoleBinding" | "ClusterRoleBinding"))
                {
                    let bound = b["subjects"].as_array().into_iter().flatten().any(|s| {
                        s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == ns
                    });
                    if !bound {
                        continue;
                    }
                    let role_kind = b["roleRef"]["kind"].as_str().unwrap();
                    let role_name = b["roleRef"]["name"].as_str().unwrap();
                    let role = docs.iter().find(|r| {
                        kind(r) == role_kind
                            && name(r) == role_name
                            && (role_kind == "ClusterRole" || namespace(r) == namespace(b))
                    });
                    assert!(
                        !role.is_some_and(reads_secrets),
                        "{label}: internet-facing Deployment {ns}/{} runs as {sa}, whose {role_kind} {role_name} reads Secrets",
                        name(d)
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} routed Deployments");
}

/// A VPA that evicts (Auto) never fights an HPA on the same resource: it controls only the
/// resource the HPA does not scale on, or sizes new pods only (Initial) when the HPA scales
/// on both; `synth` says so.
#[test]
fn vpa_and_hpa_do_not_fight() {
    let blueprint = |metrics: &str| {
        format!(
            "name: shop\nproviders:\n  kubernetes: {{}}\ncluster:\n  platform: existing\nservices:\n  - name: web\n    image: example/web:1.0.0\n    port: 8080\n    autoscaling: {{ min: 2, max: 4, {metrics} }}\n    vpa: {{ mode: Auto, max: {{ cpu: \"1\", memory: 1Gi }} }}\nenvironments:\n  production: {{}}\n"
        )
    };
    for (metrics, mode, controlled) in [
        ("cpu_percent: 70", "Auto", Some("memory")),
        ("memory_percent: 80", "Auto", Some("cpu")),
        ("cpu_percent: 70, memory_percent: 80", "Initial", None),
    ] {
        let out = infragen::synthesize(
            "shop.yaml",
            blueprint(metrics).as_bytes(),
            Provider::Kubernetes,
            "production",
        )
        .unwrap();
        let docs = documents(&out);
        let (_, vpa) = docs
            .iter()
            .find(|(_, d)| kind(d) == "VerticalPodAutoscaler")
            .unwrap();
        assert_eq!(vpa["spec"]["updatePolicy"]["updateMode"], mode, "{metrics}");
        let policy = &vpa["spec"]["resourcePolicy"]["containerPolicies"][0];
        match controlled {
            Some(r) => assert_eq!(policy["controlledResources"], serde_json::json!([r])),
            None => assert!(policy.get("controlledResources").is_none()),
        }
        assert!(
            out.notes
                .iter()
                .any(|n| n.text.contains("services[web].vpa")),
            "{metrics}: no note"
        );
        // The HPA owns the count.
        let (_, dep) = docs.iter().find(|(_, d)| kind(d) == "Deployment").unwrap();
        assert!(dep["spec"].get("replicas").is_none());
    }
}

/// Every namespace a workload runs in is created by the output — under `k8s/` or by the
/// platform's Terraform — and enforces a Pod Security level, whichever of the two owns it.
#[test]
fn workload_namespaces_exist_and_enforce_pod_security() {
    const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
    // The shipped blueprints declare their namespaces; a new user's blueprint does not.
    let mut all = outputs();
    for provider in [Provider::Aws, Provider::Digitalocean, Provider::Kubernetes] {
        let bp = crate::connections::NEW_USER.as_bytes();
        let out = infragen::synthesize("shop.yaml", bp, provider, "production").unwrap();
        all.push((format!("new-user blueprint --provider {provider}"), out));
    }
    for (label, out) in all {
        let mut levels: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (_, d) in documents(&out) {
            if kind(&d) == "Namespace" {
                let level = d["metadata"]["labels"][ENFORCE]
                    .as_str()
                    .map(str::to_string);
                levels.insert(name(&d).to_string(), level);
            }
        }
        for (file, text) in out.files.iter().filter(|(f, _)| f.ends_with(".tf.json")) {
            let json: Value = serde_json::from_str(text).unwrap();
            for r in json["resource"]["kubernetes_namespace_v1"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                let meta = &r["metadata"];
                let level = meta["labels"][ENFORCE].as_str().map(str::to_string);
                let name = meta["name"].as_str().unwrap_or_else(|| panic!("{file}"));
                levels.insert(name.to_string(), level);
            }
        }
        for (_, d) in documents(&out) {
            if !matches!(kind(&d), "Deployment" | "StatefulSet" | "CronJob" | "Job") {
                continue;
            }
            let ns = namespace(&d);
            match levels.get(ns) {
                None => panic!(
                    "{label}: {} {ns}/{}: nothing creates its namespace",
                    kind(&d),
                    name(&d)
                ),
                Some(None) => panic!(
                    "{label}: namespace {ns} (of {} {}) enforces no Pod Security level",
                    kind(&d),
                    name(&d)
                ),
                Some(Some(_)) => {}
            }
        }
    }
}

/// The blueprint's `tags` are labels on every object and pod the manifests hold (cost
/// allocation and ownership tools read them), never replacing a label infragen sets: a tag
/// `app` (techshop's) would break every Service selector and NetworkPolicy, so it is left
/// out with a note, as are tags that are not valid labels.
#[test]
fn blueprint_tags_label_every_object_and_pod() {
    let mut checked = 0;
    for (stem, path, provider, env) in matrix() {
        if provider == Provider::Aws && stem != "ecommerce-eks" && stem != "case-eks-fargate" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let tags = infragen::blueprint::load("bp.yaml", &bytes, provider, &env)
            .unwrap()
            .blueprint
            .tags;
        let out = synth(&path, provider, &env);
        for (file, d) in documents(&out) {
            if kind(&d) == "Kustomization" {
                continue;
            }
            let mut labelled = vec![&d["metadata"]["labels"]];
            let template = &d["spec"]["template"]["metadata"]["labels"];
            if !template.is_null() {
                labelled.push(template);
            }
            for labels in labelled {
                for (k, v) in &tags {
                    if k == "app" {
                        assert_ne!(
                            labels["app"],
                            v.as_str(),
                            "{stem} {file}: the tag `app` replaced the app label"
                        );
                        continue;
                    }
                    assert_eq!(
                        labels[k],
                        v.as_str(),
                        "{stem} --provider {provider} {file}: no label {k} on {}",
                        name(&d)
                    );
                }
                checked += 1;
            }
        }
        if tags.contains_key("app") {
            assert!(
                out.notes
                    .iter()
                    .any(|n| n.text.contains("`app` (infragen sets it itself)")),
                "{stem}: no note for the tag `app`"
            );
        }
    }
    assert!(checked > 100, "only {checked} label sets checked");
}

/// Every namespace a NetworkPolicy admits traffic from or lets it go to, by name, exists when
/// the policies apply: declared under `k8s/`, created by Terraform (a Helm release's), a
/// cluster's own (`kube-system`), or where `preconditions.json` says something must be
/// installed first. A policy naming a namespace nothing creates admits nothing: on an
/// existing cluster the ingress controller's namespace was named nowhere, so a controller
/// installed elsewhere reached no service.
#[test]
fn namespaces_policies_name_exist() {
    for (label, out) in outputs() {
        let docs = documents(&out);
        let mut known = terraform_namespaces(&out);
        known.push("kube-system".into());
        known.extend(
            docs.iter()
                .filter(|(_, d)| kind(d) == "Namespace")
                .map(|(_, d)| name(d).to_string()),
        );
        if let Some(pre) = out.files.get("preconditions.json") {
            let pre: Value = serde_json::from_str(pre).unwrap();
            known.extend(
                pre.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["namespace"].as_str())
                    .filter(|n| !n.is_empty())
                    .map(String::from),
            );
        }
        for (at, d) in &docs {
            if kind(d) != "NetworkPolicy" {
                continue;
            }
            let spec = &d["spec"];
            let peers = ["ingress", "egress"].into_iter().flat_map(|dir| {
                spec[dir].as_array().into_iter().flatten().flat_map(|rule| {
                    ["from", "to"]
                        .into_iter()
                        .flat_map(move |k| rule[k].as_array().into_iter().flatten())
                })
            });
            for peer in peers {
                let named =
                    &peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"];
                if let Some(ns) = named.as_str() {
                    assert!(
                        known.iter().any(|k| k == ns),
                        "{label}: {at} names namespace `{ns}`, which nothing creates and no precondition names"
                    );
                }
            }
        }
    }
}
