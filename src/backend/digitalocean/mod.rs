//! DigitalOcean back-end: raw `digitalocean/digitalocean` resources, one file per concept,
//! lined up with the AWS back-end's files. Root modules: `bootstrap` (the Spaces state
//! bucket), `infra` (VPC, cluster, data services, registry) and `platform` (Helm releases
//! inside the cluster); Kubernetes objects go to `k8s/`.

mod cluster;
mod database;
mod network;
mod platform;
mod registry;
mod state;

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::json;

use super::{Output, header, terraform_block};
use crate::terraform::Module;
use crate::validate::Validated;

pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub region: String,
    pub prefix: String,
    lowered: RefCell<BTreeSet<&'static str>>,
}

impl Ctx<'_> {
    /// Record that a blueprint part (a top-level key) was lowered.
    pub fn mark(&self, part: &'static str) {
        self.lowered.borrow_mut().insert(part);
    }
}

pub fn synth(v: &Validated) -> Output {
    let region =
        v.bp.providers
            .digitalocean
            .as_ref()
            .map(|d| d.region.clone())
            .unwrap_or_default();
    let ctx = Ctx {
        v,
        region,
        prefix: super::prefix(v),
        lowered: RefCell::new(BTreeSet::new()),
    };
    let mut out = Output::default();
    let mut infra = Module::new(header(v));
    infra
        .file("providers")
        .terraform(terraform_block(
            &["digitalocean"],
            state::backend(&ctx, "infra"),
        ))
        .provider("digitalocean", json!({}));
    if let Some(net) = &v.bp.network {
        network::lower(&ctx, net, &mut infra);
        ctx.mark("network");
    }
    registry::lower(&ctx, &mut infra);
    cluster::lower(&ctx, &mut infra);
    database::lower(&ctx, &mut infra);
    out.add_module("infra", &infra);
    if let Some(p) = platform::module(&ctx) {
        out.add_module("platform", &p);
    }
    platform::manifests(&ctx, &mut out);
    if let Some(bootstrap) = state::bootstrap(&ctx) {
        out.add_module("bootstrap", &bootstrap);
        ctx.mark("state");
    }
    out.lowered.extend(ctx.lowered.borrow().iter().copied());
    out
}
