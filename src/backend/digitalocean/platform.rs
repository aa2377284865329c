//! The DOKS `platform` root module (Helm releases for ingress-nginx and cert-manager, with
//! providers configured from the cluster by data source) and the manifests under `k8s/`.
//! (Not lowered yet.)

use super::Ctx;
use crate::backend::Output;
use crate::terraform::Module;

pub fn module(_ctx: &Ctx) -> Option<Module> {
    None
}

pub fn manifests(_ctx: &Ctx, _out: &mut Output) {}
