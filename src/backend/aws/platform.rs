//! The EKS `platform` root module (Helm releases inside the cluster, e.g. the AWS Load
//! Balancer Controller) and the Kubernetes manifests under `k8s/`. (Not lowered yet.)

use super::Ctx;
use crate::backend::Output;
use crate::terraform::Module;

pub fn module(_ctx: &Ctx) -> Option<Module> {
    None
}

pub fn manifests(_ctx: &Ctx, _out: &mut Output) {}
