//! `k8s/kustomization.yaml`: every manifest file, sorted, so `kubectl apply -k k8s/` (or Argo
//! CD) applies the whole set; kustomize orders namespaces and RBAC before workloads itself.

use super::Ctx;
use super::yaml::{Map, map};

pub fn document<'c>(ctx: &Ctx, files: &'c [String]) -> Map<'c> {
    let mut files: Vec<&str> = files.iter().map(String::as_str).collect();
    files.sort_unstable();
    map! {
        "apiVersion" => "kustomize.config.k8s.io/v1beta1",
        "kind" => "Kustomization",
        // A name makes the file a well-formed object for validators that read every YAML file.
        "metadata" => map! {"name" => format!("{}-{}", ctx.bp.name, ctx.v.env)},
        "resources" => files,
    }
}
