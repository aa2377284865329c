//! Kubernetes back-end (`--provider kubernetes`): manifests for an existing cluster, with
//! databases, caches and queues run inside it.

use super::Output;
use crate::k8s;
use crate::validate::Validated;

pub fn synth(v: &Validated) -> Output {
    let opts = k8s::Options {
        ingress_class: Some("nginx".into()),
        storage_class: v
            .bp
            .providers
            .kubernetes
            .as_ref()
            .and_then(|k| k.storage_class.clone()),
        network_policy_enforced: true,
        data_in_cluster: true,
        ..Default::default()
    };
    let (files, lowered) = k8s::manifests(v, &opts);
    let mut out = Output::default();
    out.files.extend(files);
    out.lowered.extend(lowered);
    out
}
