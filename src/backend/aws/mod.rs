//! AWS back-end: raw `hashicorp/aws` resources, one file per infrastructure concept.
//! Root modules: `bootstrap` (the state bucket, applied once with local state) and `infra`.

mod iam;
mod kms;
mod network;
mod state;

use serde_json::json;

use super::{Output, common_tags, header, not_lowered, terraform_block};
use crate::catalog::Provider;
use crate::terraform::{Module, data};
use crate::validate::Validated;

/// What every AWS file needs to know.
pub(crate) struct Ctx<'a> {
    pub v: &'a Validated<'a>,
    pub region: String,
    /// `<name>-<env>`, the prefix of every derived name.
    pub prefix: String,
}

impl Ctx<'_> {
    /// `${data.aws_caller_identity.current.account_id}`.
    pub fn account_id(&self) -> String {
        data("aws_caller_identity", "current").attr("account_id")
    }
}

pub fn synth(v: &Validated) -> Output {
    let region =
        v.bp.providers
            .aws
            .as_ref()
            .map(|a| a.region.clone())
            .unwrap_or_default();
    let ctx = Ctx {
        v,
        region,
        prefix: super::prefix(v),
    };
    let mut out = Output::default();

    let mut infra = Module::new(header(v));
    providers(&ctx, &mut infra, state::backend(&ctx, "infra"));
    kms::logs_key(&ctx, &mut infra);
    if let Some(net) = &v.bp.network {
        network::lower(&ctx, net, &mut infra);
    }
    out.add_module("infra", &infra);

    if let Some(bootstrap) = state::bootstrap(&ctx) {
        out.add_module("bootstrap", &bootstrap);
    }

    out.notes
        .extend(not_lowered(v.bp, Provider::Aws, &["state", "network"]));
    out
}

/// `providers.tf.json`: versions, backend, the AWS provider with default tags, and the
/// account identity every ARN is built from.
fn providers(ctx: &Ctx, m: &mut Module, backend: Option<serde_json::Value>) {
    let f = m.file("providers");
    f.terraform(terraform_block(&["aws"], backend));
    f.provider(
        "aws",
        json!({
            "region": ctx.region,
            "default_tags": {"tags": common_tags(ctx.v)},
        }),
    );
    f.resource(&data("aws_caller_identity", "current"), json!({}));
}
