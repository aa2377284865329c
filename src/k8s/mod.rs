//! Kubernetes manifests for every service and the platform objects (namespaces, RBAC,
//! network policies, issuers, …), shared by every cluster back-end (EKS, EKS Fargate, DOKS,
//! an existing cluster). (Not generated yet: see the issue tracker.)

use std::collections::BTreeMap;

use crate::validate::Validated;

/// What the cluster back-end tells the manifest generator about its platform.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Ingress class of the Ingress objects (`nginx`, `alb`).
    pub ingress_class: Option<String>,
    /// Annotations per service-account name (e.g. IRSA's `eks.amazonaws.com/role-arn`).
    pub service_account_annotations: BTreeMap<String, BTreeMap<String, String>>,
    /// StorageClass for persistent volumes; the cluster default when `None`.
    pub storage_class: Option<String>,
    /// Whether the platform enforces NetworkPolicy (EKS Fargate does not).
    pub network_policy_enforced: bool,
    /// Run databases, caches and queues inside the cluster even when `deployment: managed`
    /// (the `kubernetes` provider has no managed services).
    pub data_in_cluster: bool,
    /// Image pull secret for the blueprint's registry, if the platform needs one.
    pub image_pull_secret: Option<String>,
    /// Extra annotations on every Ingress the platform's controller needs (e.g. the ALB
    /// controller's `alb.ingress.kubernetes.io/*`).
    pub ingress_annotations: BTreeMap<String, String>,
    /// Node label whose value is the node pool's name (`eks.amazonaws.com/nodegroup`,
    /// `doks.digitalocean.com/node-pool`); added to the pool's own labels in node selectors.
    pub node_pool_label: Option<String>,
}

/// Manifests by path under `k8s/` (including `k8s/kustomization.yaml`), and the blueprint
/// parts they lower.
pub fn manifests(_v: &Validated, _opts: &Options) -> (BTreeMap<String, String>, Vec<&'static str>) {
    (BTreeMap::new(), Vec::new())
}
