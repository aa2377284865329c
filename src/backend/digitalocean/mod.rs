//! DigitalOcean back-end: raw `digitalocean/digitalocean` resources, one file per concept,
//! lined up with the AWS back-end's files.

mod network;
mod state;

use serde_json::json;

use super::{Output, header, not_lowered, terraform_block};
use crate::catalog::Provider;
use crate::terraform::Module;
use crate::validate::Validated;

pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub region: String,
    pub prefix: String,
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
    }
    out.add_module("infra", &infra);
    if let Some(bootstrap) = state::bootstrap(&ctx) {
        out.add_module("bootstrap", &bootstrap);
    }
    out.notes.extend(not_lowered(
        v.bp,
        Provider::Digitalocean,
        &["state", "network"],
    ));
    out
}
