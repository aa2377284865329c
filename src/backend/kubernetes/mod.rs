//! Kubernetes back-end (`--provider kubernetes`): manifests for an existing cluster, with
//! databases, caches and queues run inside it.
//!
//! The cluster exists, so the blueprint's cloud parts (state, network, cluster, registry, …)
//! are outside this output; `synth` says so in a note, together with the Secrets the
//! manifests reference, which must exist in the cluster before the workloads start.

pub mod shared_cluster;

use super::{Output, connections};
use crate::analysis::Validated;
use crate::blueprint::types::{Blueprint, Cni, UserIds};
use crate::diagnostic::Note;
use crate::json;
use crate::k8s;
use crate::terraform::Module;
use crate::wiring::Precondition;

/// Blueprint parts that describe cloud resources rather than objects in a cluster.
const CLOUD_PARTS: [&str; 9] = [
    "state",
    "network",
    "cluster",
    "node_pools",
    "fargate_profiles",
    "tables",
    "load_balancer",
    "registry",
    "observability",
];

pub fn synth(v: &Validated) -> Output {
    // Every blueprint part by name, without `..`: a new field does not compile until this
    // back-end says what it does with it.
    let Blueprint {
        name: _,             // labels and names in the k8s manifests
        description: _,      // not written to the manifests; `extra:` templates can read it
        tags: _,             // not written to the manifests (labels come from the services)
        providers,           // storage class and pod network (below), context (`platform`)
        state: _,            // cloud part: CLOUD_PARTS, noted below
        network: _,          // cloud part: CLOUD_PARTS, noted below
        cluster: _,          // cloud part (the cluster exists): CLOUD_PARTS, noted below
        node_pools: _,       // cloud part; the manifests still place pods by their labels
        fargate_profiles: _, // cloud part: CLOUD_PARTS, noted below
        databases: _,        // run in the cluster: the k8s manifests (Validated::in_cluster)
        caches: _,           // run in the cluster: the k8s manifests (Validated::in_cluster)
        queues: _,           // run in the cluster: the k8s manifests (Validated::in_cluster)
        tables: _,           // cloud part: CLOUD_PARTS, noted below
        load_balancer: _,    // cloud part: CLOUD_PARTS, noted below
        ingress: _,          // the k8s manifests; its class is a precondition (`crds`)
        registry: _,         // cloud part: CLOUD_PARTS, noted below
        secrets: declared,   // read by the manifests, listed in preconditions.json
        services: _,         // the k8s manifests
        jobs: _,             // CronJobs in the k8s manifests
        kubernetes: _,       // the k8s manifests
        observability: _,    // cloud part: CLOUD_PARTS, noted below
        buckets: _,          // not lowered: backend::not_lowered notes them
        overrides: _,        // applied to the output after lowering (crate::escape)
        extra: _,            // rendered beside the output after lowering (crate::escape)
        environments: _,     // merged into this blueprint before validation (blueprint::overlay)
        per_provider: _,     // merged into this blueprint before validation (blueprint::overlay)
    } = v.bp;
    let dns = providers.kubernetes.as_ref().and_then(|k| k.dns.as_ref());
    let mut opts = k8s::Options {
        ingress_class: Some("nginx".into()),
        storage_class: providers
            .kubernetes
            .as_ref()
            .and_then(|k| k.storage_class.clone()),
        network_policy_enforced: true,
        // The blueprint's, else kubeadm's (and flannel's) default pod network; the webhook
        // also admits kube-system.
        pod_cidr: Some(
            providers
                .kubernetes
                .as_ref()
                .and_then(|k| k.pod_cidr.clone())
                .unwrap_or_else(|| k8s::DEFAULT_POD_CIDR.into()),
        ),
        cilium: providers
            .kubernetes
            .as_ref()
            .is_some_and(|k| k.cni == Cni::Cilium),
        api_server_ports: api_server_ports(providers.kubernetes.as_ref()),
        // GKE runs NodeLocal DNSCache in every Autopilot cluster (and by default in Standard
        // ones), Kubespray in its clusters, and GKE's Cloud DNS answers at the metadata
        // server where the cache is off: without them in the DNS rule, every lookup of every
        // pod is dropped (restatedev/restate-operator#88, tektoncd/operator#4000).
        // … unless the blueprint says where its cluster's DNS answers (OpenShift's in
        // `openshift-dns` on 5353, a cache at an address of its own).
        dns_caches: dns
            .and_then(|d| d.addresses.clone())
            .unwrap_or_else(|| k8s::HOST_DNS_RESOLVERS.map(String::from).to_vec()),
        dns_namespace: dns.and_then(|d| d.namespace.clone()),
        dns_port: dns.and_then(|d| d.port),
        assigned_user_ids: providers
            .kubernetes
            .as_ref()
            .is_some_and(|k| k.user_ids == UserIds::Assigned),
        ..Default::default()
    };
    // The namespaces of the generated credentials belong to the platform module.
    let owned = connections::owned_namespaces(v, &opts);
    opts.platform_namespaces.extend(owned);
    let mut out = Output::default();
    let secrets = k8s::manifests_and_secrets(v, &opts).add_to(&mut out);
    out.notes
        .extend(k8s::notes(v, &opts).into_iter().map(Note::plain));
    // Nothing in this output sends an alert, so the addresses would hear nothing.
    if let Some(o) = &v.bp.observability
        && !o.notify.is_empty()
    {
        out.notes.push(Note::plain(format!(
            "observability.notify ({}): --provider kubernetes has no alert topic or alarms to send from, so nobody is notified; route your cluster's monitoring to these addresses",
            o.notify.join(", ")
        )));
    }
    // Nothing in this output collects logs: `log_retention_days` would keep nothing.
    if let Some(o) = &v.bp.observability {
        out.notes.push(Note::plain(format!(
            "observability.log_retention_days ({}): --provider kubernetes output ships no container logs anywhere; they stay on the nodes, rotated by the kubelet: keep them with the cluster's own log collection",
            o.log_retention_days
        )));
    }
    // The GPUs and their device plugin are the existing cluster's own.
    let names = |field: &str, pods: Vec<&crate::blueprint::types::Service>| {
        let names: Vec<&str> = (pods.into_iter())
            .filter(|s| s.gpu.is_some())
            .map(|s| s.name.as_str())
            .collect();
        (!names.is_empty()).then(|| format!("{field} ({})", names.join(", ")))
    };
    let gpu: Vec<String> = [
        names("services[].gpu", v.bp.services.iter().collect()),
        names("jobs[].gpu", v.bp.jobs.iter().map(|j| j.pod()).collect()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !gpu.is_empty() {
        out.notes.push(Note::plain(format!(
            "{}: --provider kubernetes installs no device plugin; the cluster must run NVIDIA's (or the GPU Operator) on its GPU nodes, which then advertise `{}`, or the pods stay Pending",
            gpu.join(", "),
            crate::gpu::RESOURCE
        )));
    }
    // Tables and buckets are cloud resources no existing cluster has.
    out.notes.extend(super::uses_absent(
        v.bp,
        crate::catalog::Provider::Kubernetes,
        &[crate::wiring::Kind::Table, crate::wiring::Kind::Bucket],
    ));

    // The Ingresses are written for ingress-nginx: an ALB Ingress needs what only the AWS
    // back-end knows (the load balancer's certificate, scheme and IP targets — the
    // controller refuses instance targets behind ClusterIP Services).
    if let Some(ing) = v.bp.ingress.as_ref()
        && ing.enabled
        && ing.gateway.is_none()
        && ing.class == crate::blueprint::types::IngressClass::Alb
    {
        out.notes.push(Note::warning(
            "ingress-class",
            "`ingress.class: alb`: --provider kubernetes writes the Ingresses with class `nginx` (an ALB Ingress needs the certificate, scheme and IP targets of `load_balancer`, which only --provider aws writes); the cluster must run ingress-nginx, or synthesize for aws",
        ));
    }

    let present: Vec<&'static str> = super::parts(v.bp)
        .into_iter()
        .filter(|(name, n)| *n > 0 && CLOUD_PARTS.contains(name))
        .map(|(name, _)| name)
        .collect();
    if !present.is_empty() {
        out.notes.push(Note::plain(format!(
            "--provider kubernetes targets an existing cluster; these blueprint parts describe cloud resources and are not part of its output: {}{}",
            present.join(", "),
            if present.contains(&"node_pools") {
                " (node pools still place pods through their labels and taints)"
            } else {
                ""
            }
        )));
        out.lowered.extend(present);
    }

    // The data services' credentials: generated by the `platform` module against the
    // kubeconfig context, never written into a file.
    let creds = k8s::credential_secrets(v, &opts);
    if !creds.is_empty() {
        out.add_module("platform", platform(v, &creds));
        out.notes.push(Note::plain(
            "terraform/platform generates the in-cluster data services' credentials into Kubernetes Secrets: `terraform -chdir=terraform/platform init && terraform -chdir=terraform/platform apply` before `kubectl apply -k k8s/`; its state (local unless you configure a backend) holds those values, keep it private",
        ));
    }
    let made = connections::made(&creds, &[]);
    let mut pre = connections::secret_preconditions(v, &secrets, &made);
    pre.extend(crds(v, &out.files));
    connections::finish_preconditions(&mut out, pre);
    if !declared.is_empty() {
        out.lowered.insert("secrets");
    }
    out
}

/// The `platform` root module: namespaces and the generated credentials Secrets, through
/// the kubeconfig context the blueprint names.
fn platform(v: &Validated, creds: &[k8s::CredentialSecret]) -> Module {
    let mut m = Module::new(crate::naming::header(v));
    let mut kube = json!({"config_path": "~/.kube/config"});
    if let Some(c) =
        v.bp.providers
            .kubernetes
            .as_ref()
            .and_then(|k| k.context.clone())
    {
        kube["config_context"] = json!(c);
    }
    m.file("providers")
        .terraform(super::terraform_block(&["kubernetes", "random"], None))
        .provider("kubernetes", kube);
    // infragen installs no load balancer controller here: no readiness gates.
    connections::namespaces(
        &mut m,
        v,
        &connections::credential_namespaces(creds),
        &Default::default(),
    );
    connections::credentials(&mut m, creds);
    m
}

/// What the manifests need installed in the cluster that `--provider kubernetes` does not
/// install (it targets a cluster someone else runs): the custom resource definitions of the
/// controllers its objects belong to, metrics-server for autoscalers, and the ingress class.
/// They are listed, never installed, so applying never fails halfway on a missing kind.
fn crds(v: &Validated, files: &std::collections::BTreeMap<String, String>) -> Vec<Precondition> {
    let bp = v.bp;
    let mut out = Vec::new();
    let gateway = bp
        .ingress
        .as_ref()
        .is_some_and(|i| i.enabled && i.gateway.is_some());
    // Every custom kind the manifests use, read off the files themselves so a new kind
    // cannot slip through unlisted.
    for (group, kind) in custom_kinds(files) {
        let plural = plural(&kind.to_ascii_lowercase());
        let controller = match group.as_str() {
            // The Gateway's certificate comes from cert-manager's Gateway API support, off
            // by default (https://cert-manager.io/docs/usage/gateway/).
            "cert-manager.io" if gateway => {
                "install cert-manager (with its CRDs, and its Gateway API support on: Helm value `config.enableGatewayAPI: true`)"
            }
            "cert-manager.io" => "install cert-manager (with its CRDs)",
            "autoscaling.k8s.io" => {
                "install the Vertical Pod Autoscaler (its CRDs and recommender)"
            }
            "gateway.networking.k8s.io" => {
                "install the Gateway API CRDs and a controller that serves the Gateway's class"
            }
            _ => "install the controller that serves it (with its CRDs)",
        };
        out.push(Precondition {
            kind: "CustomResourceDefinition".into(),
            namespace: String::new(),
            name: format!("{plural}.{group}"),
            keys: vec![],
            why: format!("the manifests hold {kind} objects: {controller} first"),
        });
    }
    // An issuer the Ingress (or Gateway) names that the blueprint does not declare: the
    // cluster must hold it, or no certificate is issued.
    if let Some(ing) = bp.ingress.as_ref().filter(|i| i.enabled)
        && let Some(iss) = ing.tls.as_ref().and_then(|t| t.issuer.as_ref())
        && !bp
            .kubernetes
            .as_ref()
            .is_some_and(|k| k.issuers.iter().any(|i| &i.name == iss))
    {
        out.push(Precondition {
            kind: "ClusterIssuer".into(),
            namespace: String::new(),
            name: iss.clone(),
            keys: vec![],
            why: "`ingress.tls.issuer` names it and the blueprint does not declare it: cert-manager must hold it, or no certificate is issued into `tls.secret_name`".into(),
        });
        out.push(Precondition {
            kind: "CustomResourceDefinition".into(),
            namespace: String::new(),
            name: "clusterissuers.cert-manager.io".into(),
            keys: vec![],
            why: "the Ingress asks cert-manager for its certificate (`cert-manager.io/cluster-issuer`): install cert-manager (with its CRDs) first".into(),
        });
    }
    if bp.services.iter().any(|s| s.autoscaling.is_some()) {
        out.push(Precondition {
            kind: "APIService".into(),
            namespace: String::new(),
            name: "v1beta1.metrics.k8s.io".into(),
            keys: vec![],
            why: "HorizontalPodAutoscalers read CPU and memory from the resource metrics API: install metrics-server first".into(),
        });
    }
    let ingress = bp.ingress.as_ref().filter(|i| i.enabled);
    if ingress.is_some_and(|i| i.gateway.is_some()) {
        // No Ingress objects: the GatewayClass names Envoy Gateway's controller, and the
        // NetworkPolicies admit its proxies from its namespace. The proxies' Service that
        // Envoy Gateway makes for the Gateway is `type: LoadBalancer` by default ("The
        // Envoy Gateway deploys Envoy Proxy Service as LoadBalancer by default",
        // https://gateway.envoyproxy.io/latest/tasks/traffic/gateway-address/), and on a
        // cluster without a load-balancer implementation such a Service stays `<pending>`
        // for good (MetalLB, https://metallb.io/: "LoadBalancers will remain in the
        // pending state indefinitely"): the Gateway then has no address, DNS nothing to
        // point at, and cert-manager's HTTP-01 challenge never reaches it. A cloud's
        // cluster has one, k3s its ServiceLB (klipper-lb, also RKE2's, where it is
        // turned on); a kubeadm or other bare-metal cluster needs one installed.
        out.push(Precondition {
            kind: "Deployment".into(),
            namespace: k8s::ENVOY_GATEWAY_NAMESPACE.into(),
            name: "envoy-gateway".into(),
            keys: vec![],
            why: format!(
                "the GatewayClass is served by Envoy Gateway's controller, whose Envoy proxies the NetworkPolicies admit from namespace `{}`: install Envoy Gateway there (chart `oci://docker.io/envoyproxy/gateway-helm`, with the Gateway API CRDs) first. The proxies' Service it makes for the Gateway is `type: LoadBalancer`: the cluster needs a load-balancer implementation (a cloud's; on bare metal MetalLB, kube-vip, or the ServiceLB of k3s and RKE2), without which that Service stays `<pending>`, the Gateway gets no address and no HTTP-01 challenge reaches it",
                k8s::ENVOY_GATEWAY_NAMESPACE
            ),
        });
    } else if ingress.is_some() {
        out.push(Precondition {
            kind: "IngressClass".into(),
            namespace: String::new(),
            name: "nginx".into(),
            keys: vec![],
            why: "the Ingress objects use class `nginx`: install ingress-nginx (or another controller serving that class) first".into(),
        });
        // The NetworkPolicies admit the controller's pods from its namespace only (and, with
        // `kubernetes.ingress_controller`, policies of their own are written there): a
        // controller installed elsewhere reaches no service, and `kubectl apply -k` fails on
        // a namespace nothing creates. Without default-deny policies it may run anywhere.
        let ns = crate::naming::ingress_nginx_namespace(v);
        let policies = bp
            .kubernetes
            .as_ref()
            .is_none_or(|k| k.network_policies.default_deny_ingress);
        if policies {
            let why = format!(
                "the NetworkPolicies admit the ingress controller from namespace `{ns}` only: install ingress-nginx in that namespace (`kubernetes.ingress_controller.namespace` names another) first"
            );
            out.push(Precondition {
                kind: "Deployment".into(),
                namespace: ns,
                name: "ingress-nginx-controller".into(),
                keys: vec![],
                why,
            });
        }
    }
    out
}

/// (API group, kind) of every custom resource in the manifests under `k8s/`.
fn custom_kinds(
    files: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeSet<(String, String)> {
    let mut out = std::collections::BTreeSet::new();
    for (path, text) in files {
        if !path.starts_with("k8s/") || path == "k8s/kustomization.yaml" {
            continue;
        }
        let mut group: Option<String> = None;
        for line in text.lines() {
            if let Some(api) = line.strip_prefix("apiVersion: ") {
                group = api
                    .trim()
                    .rsplit_once('/')
                    .map(|(g, _)| g.to_string())
                    .filter(|g| !crate::check::kubernetes::BUILT_IN_GROUPS.contains(&g.as_str()));
            } else if let Some(kind) = line.strip_prefix("kind: ")
                && let Some(g) = group.take()
            {
                out.insert((g, kind.trim().to_string()));
            }
        }
    }
    out
}

/// The resource name of a kind (`clusterissuer` → `clusterissuers`, `gatewayclass` →
/// `gatewayclasses`, `policy` → `policies`, `gateway` → `gateways`).
fn plural(kind: &str) -> String {
    if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

/// The ports the API server of an existing cluster may listen on: the `kubernetes` Service's
/// 443 is translated to the endpoint's port before Calico or kube-router judge egress
/// (kubernetes/minikube#4831 `--apiserver-port`, default 8443; kind and k3s 6443), so the
/// pods that call the API server must be allowed the real one. 443, 6443 and minikube's 8443
/// cover the usual clusters; `providers.kubernetes.api_server_port` adds another (MicroK8s
/// 16443).
fn api_server_ports(k: Option<&crate::blueprint::types::KubernetesSettings>) -> Vec<u16> {
    let mut ports = vec![443, 6443, 8443];
    if let Some(p) = k.and_then(|k| k.api_server_port)
        && !ports.contains(&p)
    {
        ports.push(p);
    }
    ports
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        for (k, p) in [
            ("clusterissuer", "clusterissuers"),
            ("gateway", "gateways"),
            ("gatewayclass", "gatewayclasses"),
            ("policy", "policies"),
            ("httproute", "httproutes"),
        ] {
            assert_eq!(super::plural(k), p);
        }
    }
}
