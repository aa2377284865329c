//! Helm releases shared by the cluster back-ends' `platform` modules: ingress-nginx and
//! cert-manager, from `kubernetes.ingress_controller` / `kubernetes.cert_manager`. Values are
//! one JSON document (JSON is YAML), so they are typed, sorted and escaped like everything
//! else; no `set` strings.

use std::collections::BTreeMap;

use crate::json;
use crate::terraform::Json;

use crate::analysis::Validated;
use crate::blueprint::types::IngressClass;
use crate::naming::ingress_nginx_namespace;
use crate::releases::pinned_chart;
use crate::terraform::{Expr, Ref, res};

/// A `helm_release` body. `atomic` rolls a failed upgrade back; `wait` makes dependants
/// (issuers, ingresses) apply only once the release is ready.
pub fn release(
    name: &str,
    repository: &str,
    chart: &str,
    version: &str,
    namespace: &str,
    values: Json,
) -> Json {
    json!({
        "name": name,
        "repository": repository,
        "chart": chart,
        "version": version,
        "namespace": namespace,
        "create_namespace": true,
        "atomic": true,
        "wait": true,
        "timeout": 600,
        "values": [Json::encoded(values)],
    })
}

/// Hand a release's namespace to Terraform: a `kubernetes_namespace_v1` with the labels the
/// blueprint declares for it (Pod Security level included), which the release waits for
/// instead of creating the namespace itself (`create_namespace: false`). One owner per
/// namespace: the manifests under `k8s/` do not declare it again (see
/// [`platform_namespaces`]), so a `kubectl delete -k` or a prune never removes the
/// controllers. `kube-system` exists already and is left alone.
pub fn own_namespace(v: &Validated, body: &mut Json) -> Option<(Ref, Json)> {
    let ns = body["namespace"].as_str()?.to_string();
    if ns == "kube-system" {
        body["create_namespace"] = json!(false);
        return None;
    }
    let r = res("kubernetes_namespace_v1", &ns.replace('-', "_"));
    body["create_namespace"] = json!(false);
    let mut after: Vec<Json> = match &body["depends_on"] {
        Json::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    after.push(json!(r.address()));
    body["depends_on"] = Json::Array(after);
    let labels = crate::k8s::namespace_labels(v, &ns);
    Some((r, json!({"metadata": {"name": ns, "labels": labels}})))
}

/// Namespaces the platform's Terraform owns (the Helm releases' namespaces), which the
/// manifests must not declare again.
pub fn platform_namespaces(v: &Validated) -> Vec<String> {
    let mut out = Vec::new();
    for (_, body) in ingress_nginx(v, BTreeMap::new())
        .into_iter()
        .chain(envoy_gateway(v))
        .chain(cert_manager(v))
    {
        if let Some(ns) = body["namespace"].as_str()
            && ns != "kube-system"
        {
            out.push(ns.to_string());
        }
    }
    if crate::k8s::scales_on_queues(v.bp) {
        out.push(KEDA_NAMESPACE.to_string());
    }
    out
}

/// Add `r` to a resource body's `depends_on`, keeping what is there.
pub fn after(body: &mut Json, r: &Ref) {
    let mut list = match &body["depends_on"] {
        Json::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    let addr = json!(r.address());
    if !list.contains(&addr) {
        list.push(addr);
    }
    body["depends_on"] = Json::Array(list);
}

/// Deep-merge `patch` into a release body's values document (objects merge key by key,
/// anything else replaces), for platform-specific settings on the shared releases.
pub fn merge_values(body: &mut Json, patch: Json) {
    fn merge(into: &mut Json, patch: Json) {
        match (into, patch) {
            (Json::Object(a), Json::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(&k), v);
                }
            }
            (slot, v) => *slot = v,
        }
    }
    let slot = &mut body["values"];
    match slot {
        Json::Array(list) if matches!(list.first(), Some(Json::Encoded(_))) => {
            if let Some(Json::Encoded(values)) = list.first_mut() {
                merge(values, patch);
            }
        }
        _ => *slot = json!([Json::encoded(patch)]),
    }
}

/// The AWS Load Balancer Controller in `kube-system`, with its IRSA role on the service
/// account. `vpcId` and `region` are given so it never needs the instance metadata service
/// (unreachable from pods with a hop limit of 1, absent on Fargate); `defaultTags` puts the
/// blueprint's tags on every load balancer it creates.
pub fn aws_load_balancer_controller(
    cluster_name: &str,
    region: &str,
    vpc_id: &Expr,
    role_arn: &Expr,
    tags: &BTreeMap<String, String>,
) -> (Ref, Json) {
    let body = release(
        "aws-load-balancer-controller",
        "https://aws.github.io/eks-charts",
        "aws-load-balancer-controller",
        pinned_chart("chart-aws-load-balancer-controller"),
        "kube-system",
        json!({
            "clusterName": cluster_name,
            "region": region,
            "vpcId": vpc_id,
            "replicaCount": 2,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "serviceAccount": {
                "create": true,
                "name": "aws-load-balancer-controller",
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            },
            "defaultTags": tags,
            // The controller's default, written out: the readiness gates of
            // `k8s::readiness_gate` (the namespaces labelled for them) depend on it.
            "enablePodReadinessGateInject": true,
        }),
    );
    (res("helm_release", "aws_load_balancer_controller"), body)
}

/// metrics-server in `kube-system`, two replicas. On Fargate the kubelet holds 10250 in the
/// pod's VM, so the server listens on 10251.
pub fn metrics_server(fargate: bool) -> (Ref, Json) {
    let mut values = json!({
        "replicas": 2,
        "podDisruptionBudget": {"enabled": true, "maxUnavailable": 1},
    });
    if fargate {
        values["containerPort"] = json!(10251);
    }
    let body = release(
        "metrics-server",
        "https://kubernetes-sigs.github.io/metrics-server/",
        "metrics-server",
        pinned_chart("chart-metrics-server"),
        "kube-system",
        values,
    );
    (res("helm_release", "metrics_server"), body)
}

/// NVIDIA's device plugin in `kube-system`, for the node pools of NVIDIA instance types:
/// EKS's AL2023 NVIDIA AMIs carry the driver, not the plugin ("you must install the NVIDIA
/// Kubernetes device plugin", docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html),
/// and without it no node advertises `nvidia.com/gpu`. The chart's default affinity selects
/// `nvidia.com/gpu.present=true`, which the GPU node groups carry
/// (`aws::cluster::nodes::NVIDIA_GPU_LABEL`); its default tolerations cover a
/// `nvidia.com/gpu` taint only, so it tolerates every taint instead: a GPU pool tainted
/// otherwise (`dedicated=ml`) still gets its plugin, and the affinity keeps it off the
/// other nodes (chart values.yaml, NVIDIA/k8s-device-plugin
/// deployments/helm/nvidia-device-plugin).
pub fn nvidia_device_plugin() -> (Ref, Json) {
    let body = release(
        "nvidia-device-plugin",
        "https://nvidia.github.io/k8s-device-plugin",
        "nvidia-device-plugin",
        pinned_chart("chart-nvidia-device-plugin"),
        "kube-system",
        json!({"tolerations": [{"operator": "Exists"}]}),
    );
    (res("helm_release", "nvidia_device_plugin"), body)
}

pub use crate::naming::{KEDA_NAMESPACE, KEDA_OPERATOR_SA};

/// KEDA (chart `kedacore/keda`, CRDs included: ScaledObject, TriggerAuthentication), in
/// `keda`, when a service scales on a queue (`crate::k8s::scales_on_queues`). Its
/// operator's service account carries the IRSA role `role_arn` (chart values
/// `podIdentity.aws.irsa.*`, which annotate `serviceAccount.operator` with the role, the
/// `sts.amazonaws.com` audience and regional STS — KEDA's AWS authentication docs, "This can
/// be done for you during deployment with Helm"); the metrics API server and the admission
/// webhooks need no AWS access and get no role. Every other value is the chart's: its pods
/// run as non-root with every capability dropped, no privilege escalation and the
/// RuntimeDefault seccomp profile ("KEDA is secure by default", chart README), inside Pod
/// Security `restricted`; they listen on 6443 (metrics API server), 9443 (webhooks) and
/// 8080/8081/9666 (metrics, probes, the operator's gRPC), never on the kubelet's 10250.
pub fn keda(role_arn: &Expr) -> (Ref, Json) {
    let body = release(
        "keda",
        "https://kedacore.github.io/charts",
        "keda",
        pinned_chart("chart-keda"),
        KEDA_NAMESPACE,
        json!({
            "serviceAccount": {"operator": {"create": true, "name": KEDA_OPERATOR_SA}},
            "podIdentity": {"aws": {"irsa": {"enabled": true, "roleArn": role_arn}}},
        }),
    );
    (res("helm_release", "keda"), body)
}

pub use crate::naming::EXTERNAL_SECRETS_NAMESPACE;
/// Its controller's service account (what its IRSA role trusts).
pub const EXTERNAL_SECRETS_SA: &str = "external-secrets";

/// The External Secrets Operator with its CRDs, its controller's service account carrying
/// `annotations` (the IRSA role). On Fargate the webhook leaves the kubelet's port 10250.
pub fn external_secrets(annotations: BTreeMap<String, Expr>, fargate: bool) -> (Ref, Json) {
    let mut values = json!({
        "installCRDs": true,
        "serviceAccount": {"create": true, "name": EXTERNAL_SECRETS_SA, "annotations": annotations},
    });
    if fargate {
        values["webhook"] = json!({"port": 10260});
    }
    let body = release(
        "external-secrets",
        "https://charts.external-secrets.io",
        "external-secrets",
        pinned_chart("chart-external-secrets"),
        EXTERNAL_SECRETS_NAMESPACE,
        values,
    );
    (res("helm_release", "external_secrets"), body)
}

/// `ingress.gateway`, when the blueprint routes through the Gateway API.
pub fn gateway<'v>(v: &Validated<'v>) -> Option<&'v crate::blueprint::types::IngressGateway> {
    v.bp.gateway()
}

/// Envoy Gateway (chart `gateway-helm`, with the Gateway API CRDs) in
/// `envoy-gateway-system`, when the blueprint routes through the Gateway API. Its Envoy
/// proxies' Service creates the cloud load balancer.
///
/// The CRDs stay with this release (its `crds` subchart's `crds/`, experimental-channel
/// Gateway API plus Envoy Gateway's own), installed on the first apply and never upgraded
/// by Helm; `infragen diff` gives the command for a chart bump (`crate::diff` upgrades).
/// Envoy Gateway's CRD-only chart, `oci://docker.io/envoyproxy/gateway-crds-helm`, would
/// upgrade them, but not as a release: Helm keeps a release in one Secret holding the
/// chart's templates (every CRD of both Gateway API channels and Envoy Gateway's) besides
/// the rendered manifest, so the install fails on the 1 MiB Secret limit whatever `crds.*`
/// values are set (about 1.9 MiB with Envoy Gateway's CRDs alone at v1.9;
/// envoyproxy/gateway#6105, still open). Envoy Gateway documents that chart only as
/// `helm template … | kubectl apply --server-side`, which a `helm_release` cannot do.
pub fn envoy_gateway(v: &Validated) -> Option<(Ref, Json)> {
    let g = gateway(v)?;
    // The OCI chart's tags carry a `v` (`--version v1.6.0` in Envoy Gateway's install
    // guide); a blueprint's `1.6.0` is given the tag's spelling rather than left to Helm's
    // constraint matching.
    let version = match g.chart_version.as_deref() {
        Some(x) if !x.starts_with('v') && x.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("v{x}")
        }
        Some(x) => x.to_string(),
        None => pinned_chart("chart-envoy-gateway").to_string(),
    };
    let body = release(
        "eg",
        "oci://docker.io/envoyproxy",
        "gateway-helm",
        &version,
        crate::k8s::ENVOY_GATEWAY_NAMESPACE,
        json!({}),
    );
    Some((res("helm_release", "envoy_gateway"), body))
}

/// Values of the Envoy Gateway release where the cluster's provider installs and manages
/// the Gateway API CRDs (DOKS). The `crds` subchart stays on: its `crds/` holds Envoy
/// Gateway's own CRDs (EnvoyProxy, policies), which nothing else installs, and Helm skips
/// every CRD of a `crds/` directory that exists already
/// (<https://helm.sh/docs/chart_best_practices/custom_resource_definitions/>), so the
/// provider's Gateway API CRDs are never replaced. What must go is the Gateway API's
/// safe-upgrades ValidatingAdmissionPolicy, a template of the chart since v1.8.1: it denies
/// every write of a `gateway.networking.k8s.io` CRD below bundle v1.5 or of another
/// channel over a standard one — the provider's own reconciliation of its CRDs included.
/// Envoy Gateway's notes for v1.8.1 and its install guide ("clusters with compatible
/// provider-managed Gateway API CRDs") give `crds.gatewayAPI.safeUpgradePolicy.enabled=false`
/// for this case. The key is the one of the pinned line (v1.8.1 on; the chart's sources
/// call it `validatingAdmissionPolicy` before and `supportingResources` on the main branch
/// after): a `chart_version` of another line needs it checked again
/// (`tests/fixtures/addons/gateway-helm.keys`).
pub fn provider_managed_gateway_api() -> Json {
    json!({"crds": {"gatewayAPI": {"safeUpgradePolicy": {"enabled": false}}}})
}

/// ingress-nginx, when the blueprint declares an nginx ingress controller.
/// `service_annotations` carry the cloud's load-balancer settings (name, protocol, …).
pub fn ingress_nginx(
    v: &Validated,
    service_annotations: BTreeMap<String, String>,
) -> Option<(Ref, Json)> {
    let c = v.bp.kubernetes.as_ref()?.ingress_controller.as_ref()?;
    // With the Gateway API, Envoy Gateway receives the traffic instead.
    if c.kind != IngressClass::Nginx || gateway(v).is_some() {
        return None;
    }
    let mut controller = json!({
        "ingressClassResource": {"name": "nginx", "default": true},
        "metrics": {"enabled": c.metrics},
        "service": {"annotations": service_annotations},
        // Hardened like every workload infragen emits, and within Pod Security `restricted`
        // (drop ALL, add back only NET_BIND_SERVICE, RuntimeDefault seccomp). Set, it
        // replaces the whole context the chart composes from `controller.image.*`, its
        // RuntimeDefault seccomp profile included, so that is given again here.
        "containerSecurityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true, "runAsUser": 101, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}, "seccompProfile": {"type": "RuntimeDefault"}},
    });
    match &c.replicas {
        Some(r) => {
            controller["replicaCount"] = json!(r.min);
            controller["autoscaling"] =
                json!({"enabled": true, "minReplicas": r.min, "maxReplicas": r.max});
        }
        // The controller carries every routed request, and the chart's default is one
        // replica, for which it renders no PodDisruptionBudget (its
        // templates/controller-poddisruptionbudget.yaml starts above one): each node drain
        // (a node group's rolling update, node repair, the Cluster Autoscaler's scale-in)
        // stopped the whole edge until a new pod was ready and registered with the load
        // balancer. Two, as the Load Balancer Controller and metrics-server get, and the
        // chart's budget (`minAvailable: 1`) keeps one serving.
        None => controller["replicaCount"] = json!(2),
    }
    if let Some(res) = &c.resources {
        let q = |q: &crate::blueprint::types::Quantity| {
            let mut m = crate::terraform::Object::new();
            if let Some(cpu) = &q.cpu {
                m.insert("cpu", json!(cpu));
            }
            if let Some(mem) = &q.memory {
                m.insert("memory", json!(mem));
            }
            Json::Object(m)
        };
        controller["resources"] = json!({"requests": q(&res.requests), "limits": q(&res.limits)});
    }
    let body = release(
        "ingress-nginx",
        "https://kubernetes.github.io/ingress-nginx",
        "ingress-nginx",
        c.chart_version
            .as_deref()
            .unwrap_or(pinned_chart("chart-ingress-nginx")),
        &ingress_nginx_namespace(v),
        json!({"controller": controller}),
    );
    Some((res("helm_release", "ingress_nginx"), body))
}

/// cert-manager with its CRDs installed by the chart and kept on uninstall so certificates
/// survive. Charts from v1.15 take `crds.enabled`/`crds.keep` (`installCRDs` is deprecated
/// there); older charts, such as a pinned v1.13, know only `installCRDs`.
pub fn cert_manager(v: &Validated) -> Option<(Ref, Json)> {
    let k = v.bp.kubernetes.as_ref()?;
    if k.cert_manager.is_none() && k.issuers.is_empty() {
        return None;
    }
    let cm = k
        .cert_manager
        .clone()
        .unwrap_or(crate::blueprint::types::CertManager {
            chart_version: None,
            namespace: None,
            allow_unsupported: false,
        });
    let version = cm
        .chart_version
        .as_deref()
        .unwrap_or(pinned_chart("chart-cert-manager"));
    let mut values = if minor_below(version, 1, 15) {
        json!({"installCRDs": true})
    } else {
        json!({"crds": {"enabled": true, "keep": true}})
    };
    // cert-manager issues the Gateway's listener certificates only with its Gateway API
    // support switched on.
    if gateway(v).is_some() {
        values["config"] = json!({
            "apiVersion": "controller.config.cert-manager.io/v1alpha1",
            "kind": "ControllerConfiguration",
            "enableGatewayAPI": true,
        });
    }
    let mut body = release(
        "cert-manager",
        "https://charts.jetstack.io",
        "cert-manager",
        version,
        cm.namespace.as_deref().unwrap_or("cert-manager"),
        values,
    );
    // With its Gateway API support on, the cert-manager controller exits at start-up while
    // the Gateway API CRDs are absent ("the Gateway API CRDs do not seem to be present");
    // Envoy Gateway's chart installs them, so it goes first rather than racing an atomic
    // release that waits for cert-manager to become ready. (Every back-end that installs
    // cert-manager installs Envoy Gateway with it.)
    if let Some((gw, _)) = envoy_gateway(v) {
        after(&mut body, &gw);
    }
    Some((res("helm_release", "cert_manager"), body))
}

/// Whether `version` (`v1.13.3`, `1.13`) is below `major.minor`; unparsable versions are
/// taken as current.
fn minor_below(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(ma)), Some(Ok(mi))) => (ma, mi) < (major, minor),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{merge_values, minor_below};
    use crate::json;
    use crate::terraform::Json;

    #[test]
    fn values_merge_deeply() {
        let mut body = json!({"values": [Json::encoded(json!({"controller": {"a": 1, "service": {"x": 1}}}))]});
        merge_values(
            &mut body,
            json!({"controller": {"service": {"type": "ClusterIP"}}}),
        );
        assert_eq!(
            body["values"][0],
            Json::encoded(
                json!({"controller": {"a": 1, "service": {"x": 1, "type": "ClusterIP"}}})
            )
        );
    }

    #[test]
    fn chart_versions() {
        assert!(minor_below("v1.13.3", 1, 15));
        assert!(!minor_below("v1.21.1", 1, 15));
        assert!(!minor_below("latest", 1, 15));
    }
}
