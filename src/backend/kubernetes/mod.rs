//! Kubernetes back-end (`--provider kubernetes`): manifests for an existing cluster, with
//! databases, caches and queues run inside it.
//!
//! The cluster exists, so the blueprint's cloud parts (state, network, cluster, registry, …)
//! are outside this output; `synth` says so in a note, together with the Secrets the
//! manifests reference, which must exist in the cluster before the workloads start.

use super::Output;
use crate::k8s;
use crate::validate::Validated;

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
    let opts = k8s::Options {
        ingress_class: Some("nginx".into()),
        storage_class: v
            .bp
            .providers
            .kubernetes
            .as_ref()
            .and_then(|k| k.storage_class.clone()),
        network_policy_enforced: true,
        // The blueprint's, else kubeadm's (and flannel's) default pod network; the webhook
        // also admits kube-system.
        pod_cidr: Some(
            v.bp.providers
                .kubernetes
                .as_ref()
                .and_then(|k| k.pod_cidr.clone())
                .unwrap_or_else(|| k8s::DEFAULT_POD_CIDR.into()),
        ),
        data_in_cluster: true,
        ..Default::default()
    };
    let (files, lowered, secrets) = k8s::manifests_and_secrets(v, &opts);
    let mut out = Output::default();
    out.notes.extend(k8s::notes(v, &opts));
    out.files.extend(files);
    out.lowered.extend(lowered);

    let present: Vec<&'static str> = super::parts(v.bp)
        .into_iter()
        .filter(|(name, n)| *n > 0 && CLOUD_PARTS.contains(name))
        .map(|(name, _)| name)
        .collect();
    if !present.is_empty() {
        out.notes.push(format!(
            "--provider kubernetes targets an existing cluster; these blueprint parts describe cloud resources and are not part of its output: {}{}",
            present.join(", "),
            if present.contains(&"node_pools") {
                " (node pools still place pods through their labels and taints)"
            } else {
                ""
            }
        ));
        out.lowered.extend(present);
    }

    if !secrets.is_empty() {
        let list: Vec<String> = secrets
            .iter()
            .map(|(name, keys)| {
                if keys.is_empty() {
                    name.clone()
                } else {
                    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                    format!("{name} ({})", keys.join(", "))
                }
            })
            .collect();
        out.notes.push(format!(
            "the manifests read these Kubernetes Secrets by reference and never contain their values; create them (e.g. with External Secrets or Sealed Secrets) before applying: {}",
            list.join("; ")
        ));
    }
    if !v.bp.secrets.is_empty() {
        out.lowered.insert("secrets");
    }
    out
}
