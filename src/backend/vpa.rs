//! The Vertical Pod Autoscaler is part of no cluster infragen creates (EKS, DOKS) and
//! `platform` does not install it, yet a service's `vpa` becomes a VerticalPodAutoscaler
//! object under `k8s/`: without its CRDs `kubectl apply -k k8s/` fails on that object ("no
//! matches for kind VerticalPodAutoscaler in version autoscaling.k8s.io/v1"). Listed in
//! `preconditions.json` as `--provider kubernetes` lists every custom kind.

use crate::analysis::Validated;
use crate::wiring::Precondition;

/// The VPA's CRDs, when a service asks for a VerticalPodAutoscaler.
pub fn preconditions(v: &Validated) -> Vec<Precondition> {
    if !v.bp.services.iter().any(|s| s.vpa.is_some()) {
        return vec![];
    }
    vec![Precondition {
        kind: "CustomResourceDefinition".into(),
        namespace: String::new(),
        name: "verticalpodautoscalers.autoscaling.k8s.io".into(),
        keys: vec![],
        why: "the manifests hold VerticalPodAutoscaler objects: install the Vertical Pod Autoscaler (its CRDs and recommender) first".into(),
    }]
}
