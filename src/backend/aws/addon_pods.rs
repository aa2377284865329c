//! The pods of the add-ons and controllers an EKS output installs itself (EKS add-ons and
//! Helm releases), for the node capacity checks (`k8s::room`, built once by
//! `backend::room`): at rest, beside the blueprint's own pods, they take pod slots and
//! requests on the nodes — the Deployments somewhere, the DaemonSets on every node of each
//! pool whose taints they tolerate.
//!
//! The installed set follows the same predicates the `platform` module and the cluster's
//! add-ons follow, and the replicas and requests infragen writes are read back from the
//! release bodies those modules write (`helm::*`, `cluster_autoscaler::REQUESTS`), so the
//! figures cannot drift from the output (`tests/it/pod_slots.rs` ties them to a synth).
//! Where infragen writes no figure, the chart's or add-on's default is taken, as cited
//! below (a pod's requests are the sum of its containers'; a container whose chart sets
//! none counts 0, its pod still a slot). Each requests figure is the least the pod asks,
//! so the checks err towards the nodes and a refusal stays certain.
//!
//! Deployments:
//!
//! - CoreDNS (EKS add-on): 2 replicas of 100m / 70Mi ("two replicas of the CoreDNS image
//!   are deployed by default, regardless of the number of nodes", EKS user guide, "Manage
//!   CoreDNS"; `resources.requests` of the add-on's `coredns` Deployment, as EKS writes it
//!   for v1.10.1-eksbuild.2).
//! - EBS CSI controller (EKS add-on `aws-ebs-csi-driver`): 2 replicas (`controller.replicaCount`
//!   default 2: kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/values.yaml and
//!   values.schema.json, the add-on's configuration schema — `aws eks
//!   describe-addon-configuration` of v1.63.1-eksbuild.1 gives the same default), 10m / 40Mi
//!   (`controller.resources.requests`; the sidecars' `resources` default to none).
//! - CloudWatch observability operator (`amazon-cloudwatch-observability-controller-manager`,
//!   with Container Insights): 1 replica of 100m / 64Mi (`replicaCount`,
//!   `manager.resources.requests`: aws-observability/helm-charts
//!   charts/amazon-cloudwatch-observability/values.yaml, operator 3.0.0).
//! - AWS Load Balancer Controller: the written `replicaCount`; the chart (1.14.1) sets no
//!   requests (`resources: {}`).
//! - metrics-server: the written `replicas`; 100m / 200Mi, the chart's default
//!   (`resources.requests`, kubernetes-sigs/metrics-server charts/metrics-server/values.yaml).
//! - Cluster Autoscaler: one (the chart's `replicaCount` default), the written requests.
//! - ingress-nginx: the written `replicaCount` (or the HPA's minimum); the written requests,
//!   else the chart's default 100m / 90Mi (`controller.resources.requests`, values.yaml).
//! - Envoy Gateway: its controller, one replica of 100m / 256Mi (the chart's
//!   `deployment.replicas` and `deployment.envoyGateway.resources.requests` defaults,
//!   gateway-helm values reference), and the Gateway's Envoy proxies: the
//!   `ingress_controller.replicas` minimum written into the EnvoyProxy, else one (Envoy
//!   Gateway's `DefaultDeploymentReplicas`), each its `envoy` container — the blueprint's
//!   requests where it sizes them, else Envoy Gateway's default 100m / 512Mi
//!   (`DefaultDeploymentCPUResourceRequests`, `DefaultDeploymentMemoryResourceRequests`) —
//!   and its `shutdown-manager` container, 10m / 32Mi (`DefaultShutdownManager*ResourceRequests`;
//!   envoyproxy/gateway api/v1alpha1/shared_types.go).
//! - cert-manager v1.21 (controller, webhook, cainjector): one pod each (`replicaCount`
//!   defaults 1), no requests (`resources: {}` for each: the chart's values.yaml gives
//!   `requests: {cpu: 10m, memory: 32Mi}` only as a commented example).
//! - KEDA 2.21 (operator, metrics API server, admission webhooks): one pod each
//!   (`operator.replicaCount`, `metricsServer.replicaCount`, `webhooks.replicaCount`), with
//!   100m / 100Mi, 100m / 100Mi and 10m / 10Mi (`resources.operator`,
//!   `resources.metricServer`, `resources.webhooks` requests; kedacore/charts keda/values.yaml,
//!   "the default values that we describe in our docs").
//! - External Secrets 2.10 (controller, webhook, cert controller): one pod each
//!   (`replicaCount`, `webhook.replicaCount`, `certController.replicaCount`), no requests
//!   (`resources: {}`, a commented example only; external-secrets/external-secrets
//!   deploy/charts/external-secrets/values.yaml).
//!
//! DaemonSets — every one listed tolerates every taint, so it runs on tainted pools too:
//!
//! - `aws-node` (VPC CNI): 50m, its two containers' 25m each — `aws-node` and the network
//!   policy agent `aws-eks-nodeagent`, which enforces the NetworkPolicies the output writes
//!   (`enableNetworkPolicy`, set on the add-on wherever nodes run it,
//!   `cluster::addons::lower`). The chart gives both containers `.Values.resources`
//!   (`requests.cpu: 25m`; `tolerations: [{operator: Exists}]`): aws/amazon-vpc-cni-k8s
//!   charts/aws-vpc-cni/templates/daemonset.yaml and values.yaml; the add-on's DaemonSet
//!   as EKS writes it carries the same 25m on `aws-eks-nodeagent` (v1.14.0-eksbuild.3
//!   with aws-network-policy-agent v1.0.1-eksbuild.1, and v1.1.1-eksbuild.2 later). The
//!   init container `aws-vpc-cni-init` (25m) ends before them and adds nothing.
//! - `kube-proxy`: 100m, `tolerations: [{operator: Exists}]` (the add-on's DaemonSet as EKS
//!   writes it, v1.28.1-minimal-eksbuild.1).
//! - `ebs-csi-node` (EBS CSI driver): 10m / 40Mi (`node.resources.requests`),
//!   `node.tolerateAllTaints: true` (chart values.yaml / values.schema.json, as above).
//! - `eks-pod-identity-agent`: no requests (`resources: {}`), `tolerations: [{operator:
//!   Exists}]` (aws/eks-pod-identity-agent charts/eks-pod-identity-agent/values.yaml).
//! - Container Insights' `cloudwatch-agent`, 250m / 128Mi (`agent.resources.requests`), and
//!   `fluent-bit`, 50m / 25Mi (`containerLogs.fluentBit.resources.requests`), both under
//!   the chart's root `tolerations: [{operator: Exists}]` (amazon-cloudwatch-observability
//!   values.yaml, as above).
//!
//! Left out: the NVIDIA device plugin (GPU nodes only, whose sizes the checks do not
//! know), Container Insights' GPU and Neuron exporters (those nodes only), add-ons named in
//! `cluster.addons` beyond those above, and the charts' one-off hook Jobs.

use crate::analysis::Validated;
use crate::blueprint::types::Platform;
use crate::k8s::quota::{cpu, memory};
use crate::k8s::{AddonPod, AddonPods, DaemonSet};
use crate::terraform::{Expr, Json};

use super::Ctx;
use crate::backend::helm;

/// One pod's requests: millicores and bytes of the quantities (`"0"` for none).
fn requests(cpu_q: &str, memory_q: &str) -> [f64; 2] {
    [cpu(cpu_q).unwrap_or(0.0), memory(memory_q).unwrap_or(0.0)]
}

fn pods(what: &'static str, pods: u32, cpu_q: &str, memory_q: &str) -> AddonPod {
    AddonPod {
        what,
        pods,
        requests: requests(cpu_q, memory_q),
    }
}

/// A DaemonSet that tolerates every taint (all those counted here do).
fn daemon_set(what: &'static str, cpu_q: &str, memory_q: &str) -> DaemonSet {
    DaemonSet {
        what,
        requests: requests(cpu_q, memory_q),
    }
}

/// `path` in a release body's values document.
fn value<'j>(body: &'j Json, path: &[&str]) -> Option<&'j Json> {
    let mut at = match &body["values"][0] {
        Json::Encoded(doc) => &**doc,
        _ => return None,
    };
    for key in path {
        at = at.get(key)?;
    }
    Some(at)
}

fn count(j: Option<&Json>) -> Option<u32> {
    match j? {
        Json::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    }
}

fn text(j: Option<&Json>) -> Option<&str> {
    j?.as_str()
}

/// What the output of `v` installs, on EKS with managed nodes; nothing elsewhere.
pub fn of(v: &Validated) -> AddonPods {
    let ctx = Ctx::new(v);
    let mut out = AddonPods::default();
    if ctx.platform != Some(Platform::Eks) || v.bp.cluster.is_none() {
        return out;
    }
    let addons = super::cluster::addons::names(&ctx);
    let has = |name: &str| addons.iter().any(|a| a == name);
    let d = &mut out.deployments;
    let ds = &mut out.daemon_sets;
    if has("vpc-cni") {
        // `aws-node` 25m + `aws-eks-nodeagent` (the network policy agent) 25m.
        ds.push(daemon_set("aws-node", "50m", "0"));
    }
    if has("kube-proxy") {
        ds.push(daemon_set("kube-proxy", "100m", "0"));
    }
    if has("coredns") {
        d.push(pods("coredns", 2, "100m", "70Mi"));
    }
    if has("aws-ebs-csi-driver") {
        d.push(pods("ebs-csi-controller", 2, "10m", "40Mi"));
        ds.push(daemon_set("ebs-csi-node", "10m", "40Mi"));
    }
    if has("eks-pod-identity-agent") {
        ds.push(daemon_set("eks-pod-identity-agent", "0", "0"));
    }
    if has("amazon-cloudwatch-observability") {
        d.push(pods("cloudwatch-observability-operator", 1, "100m", "64Mi"));
        ds.push(daemon_set("cloudwatch-agent", "250m", "128Mi"));
        ds.push(daemon_set("fluent-bit", "50m", "25Mi"));
    }

    let none = Expr::lit("");
    let (_, lbc) = helm::aws_load_balancer_controller("", "", &none, &none, &Default::default());
    if let Some(n) = count(value(&lbc, &["replicaCount"])) {
        d.push(pods("aws-load-balancer-controller", n, "0", "0"));
    }
    if let Some((_, nginx)) = helm::ingress_nginx(v, Default::default()) {
        let n = count(value(&nginx, &["controller", "replicaCount"])).unwrap_or(1);
        let req = |k: &str, default: &'static str| {
            text(value(&nginx, &["controller", "resources", "requests", k]))
                .map(str::to_string)
                .unwrap_or(default.to_string())
        };
        d.push(pods(
            "ingress-nginx-controller",
            n,
            &req("cpu", "100m"),
            &req("memory", "90Mi"),
        ));
    }
    if helm::envoy_gateway(v).is_some() {
        d.push(pods("envoy-gateway", 1, "100m", "256Mi"));
        let c =
            v.bp.kubernetes
                .as_ref()
                .and_then(|k| k.ingress_controller.as_ref());
        let n = c.and_then(|c| c.replicas.as_ref()).map_or(1, |r| r.min);
        // The `envoy` container: the blueprint's requests where it sizes the proxies (they
        // replace Envoy Gateway's default), else the default; plus `shutdown-manager`.
        let [envoy_cpu, envoy_memory] = match c.and_then(|c| c.resources.as_ref()) {
            Some(r) => requests(
                r.requests.cpu.as_deref().unwrap_or("0"),
                r.requests.memory.as_deref().unwrap_or("0"),
            ),
            None => requests("100m", "512Mi"),
        };
        let [shutdown_cpu, shutdown_memory] = requests("10m", "32Mi");
        d.push(AddonPod {
            what: "envoy proxies",
            pods: n,
            requests: [envoy_cpu + shutdown_cpu, envoy_memory + shutdown_memory],
        });
    }
    if helm::cert_manager(v).is_some() {
        for what in [
            "cert-manager",
            "cert-manager-webhook",
            "cert-manager-cainjector",
        ] {
            d.push(pods(what, 1, "0", "0"));
        }
    }
    if crate::k8s::uses_resource_metrics(v.bp) {
        let (_, ms) = helm::metrics_server(false);
        let n = count(value(&ms, &["replicas"])).unwrap_or(1);
        d.push(pods("metrics-server", n, "100m", "200Mi"));
    }
    if super::cluster_autoscaler::needed(&ctx) {
        let [c, m] = super::cluster_autoscaler::REQUESTS;
        d.push(pods("cluster-autoscaler", 1, c, m));
    }
    if super::keda::needed(&ctx) {
        d.push(pods("keda-operator", 1, "100m", "100Mi"));
        d.push(pods("keda-operator-metrics-apiserver", 1, "100m", "100Mi"));
        d.push(pods("keda-admission-webhooks", 1, "10m", "10Mi"));
    }
    if super::external_secrets::needed(&ctx) {
        for what in [
            "external-secrets",
            "external-secrets-webhook",
            "external-secrets-cert-controller",
        ] {
            d.push(pods(what, 1, "0", "0"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::of;
    use crate::catalog::Provider;

    /// The figures the checks count are those the output writes: every Helm release the
    /// platform module installs is counted, with the replicas and requests in its values.
    fn tie(file: &str, env: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let bytes = std::fs::read(&path).unwrap();
        let loaded = crate::blueprint::load(file, &bytes, Provider::Aws, env).unwrap();
        let v = crate::semantic::analyze(&loaded).unwrap();
        let pods = of(&v);
        let out = crate::backend::synth(&v);
        let find = |what: &str| {
            pods.deployments
                .iter()
                .find(|p| p.what == what)
                .unwrap_or_else(|| panic!("{file}: `{what}` is installed but not counted"))
                .clone()
        };
        // Every EKS add-on the output installs is counted with its pods, and nothing else:
        // the Deployments and the DaemonSets (one pod a node) of each.
        let mut addons: Vec<String> = Vec::new();
        for (name, text) in &out.files {
            if !name.starts_with("terraform/") {
                continue;
            }
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            if let Some(a) = doc["resource"]["aws_eks_addon"].as_object() {
                addons.extend(
                    a.values()
                        .map(|b| b["addon_name"].as_str().unwrap().to_string()),
                );
            }
        }
        let pods_of = |addon: &str| -> (&[&str], &[&str]) {
            match addon {
                "vpc-cni" => (&[], &["aws-node"]),
                "kube-proxy" => (&[], &["kube-proxy"]),
                "coredns" => (&["coredns"], &[]),
                "aws-ebs-csi-driver" => (&["ebs-csi-controller"], &["ebs-csi-node"]),
                "eks-pod-identity-agent" => (&[], &["eks-pod-identity-agent"]),
                "amazon-cloudwatch-observability" => (
                    &["cloudwatch-observability-operator"],
                    &["cloudwatch-agent", "fluent-bit"],
                ),
                other => panic!("{file}: add-on `{other}`: count its pods in addon_pods"),
            }
        };
        let mut daemon_sets: Vec<&str> = Vec::new();
        for addon in &addons {
            let (deployments, per_node) = pods_of(addon);
            for what in deployments {
                find(what);
            }
            daemon_sets.extend(per_node.iter().copied());
        }
        let mut counted: Vec<&str> = pods.daemon_sets.iter().map(|d| d.what).collect();
        daemon_sets.sort_unstable();
        counted.sort_unstable();
        assert_eq!(counted, daemon_sets, "{file}: the DaemonSets counted");
        let mut releases = Vec::new();
        for (name, text) in &out.files {
            if !name.starts_with("terraform/platform/") {
                continue;
            }
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            let Some(helm) = doc["resource"]["helm_release"].as_object() else {
                continue;
            };
            for (key, body) in helm {
                let values: serde_json::Value =
                    serde_json::from_str(body["values"][0].as_str().unwrap()).unwrap();
                releases.push(key.clone());
                let requests = |p: &serde_json::Value| {
                    [
                        crate::k8s::quota::cpu(p["cpu"].as_str().unwrap()).unwrap(),
                        crate::k8s::quota::memory(p["memory"].as_str().unwrap()).unwrap(),
                    ]
                };
                match key.as_str() {
                    "aws_load_balancer_controller" => assert_eq!(
                        values["replicaCount"],
                        find("aws-load-balancer-controller").pods
                    ),
                    "metrics_server" => {
                        assert_eq!(values["replicas"], find("metrics-server").pods)
                    }
                    "cluster_autoscaler" => {
                        let p = find("cluster-autoscaler");
                        assert_eq!(p.pods, 1);
                        assert_eq!(p.requests, requests(&values["resources"]["requests"]));
                    }
                    "ingress_nginx" => {
                        let p = find("ingress-nginx-controller");
                        assert_eq!(values["controller"]["replicaCount"], p.pods);
                        let written = &values["controller"]["resources"]["requests"];
                        if !written.is_null() {
                            assert_eq!(p.requests, requests(written));
                        }
                    }
                    "envoy_gateway" => {
                        find("envoy-gateway");
                        find("envoy proxies");
                    }
                    "cert_manager" => {
                        find("cert-manager-webhook");
                    }
                    "keda" => {
                        find("keda-operator");
                    }
                    "external_secrets" => {
                        find("external-secrets");
                    }
                    other => panic!("{file}: release `{other}`: count its pods in addon_pods"),
                }
            }
        }
        // Nothing counted that the output does not install.
        let counted = |what: &str, release: &str| {
            let installed = releases.iter().any(|r| r == release);
            assert_eq!(
                pods.deployments.iter().any(|p| p.what == what),
                installed,
                "{file}: `{what}` counted but `{release}` installed: {installed}"
            );
        };
        counted("metrics-server", "metrics_server");
        counted("cluster-autoscaler", "cluster_autoscaler");
        counted("ingress-nginx-controller", "ingress_nginx");
        counted("envoy-gateway", "envoy_gateway");
        counted("cert-manager", "cert_manager");
        counted("keda-operator", "keda");
        counted("external-secrets", "external_secrets");
    }

    /// The room on the nodes is reckoned once, by `backend::room`, which returns the
    /// warnings with the refusals; lowering does not reckon it again (the pipeline adds
    /// them to the output, `crate::synthesize_with`).
    #[test]
    fn the_room_warnings_come_from_room_alone() {
        let file = "tests/fixtures/new-user/saltmarsh-telemetry-eks.yaml";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let bytes = std::fs::read(&path).unwrap();
        let loaded = crate::blueprint::load(file, &bytes, Provider::Aws, "staging").unwrap();
        let v = crate::semantic::analyze(&loaded).unwrap();
        let room = crate::backend::room(&v);
        assert!(room.refusals.is_empty(), "{:?}", room.refusals);
        let slots = |notes: &[crate::diagnostic::Note]| {
            notes
                .iter()
                .filter(|n| n.rule == Some("node-pod-slots"))
                .count()
        };
        assert_eq!(slots(&room.warnings), 1);
        assert_eq!(slots(&crate::backend::synth(&v).notes), 0);
        let out = crate::synthesize_loaded(&loaded).unwrap();
        assert_eq!(slots(&out.notes), 1);
    }

    #[test]
    fn the_counted_pods_are_those_the_output_writes() {
        tie(
            "tests/fixtures/new-user/saltmarsh-telemetry-eks.yaml",
            "staging",
        );
        tie("tests/fixtures/new-user/shop-eks-week2.yaml", "staging");
        tie("blueprints/ecommerce-eks.yaml", "production");
        // With the pod identity agent.
        tie("tests/fixtures/day2/pool-0-base.yaml", "production");
    }
}
