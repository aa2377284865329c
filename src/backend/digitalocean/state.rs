//! Terraform state in DigitalOcean Spaces through the S3 backend (Spaces is S3-compatible;
//! the AWS-only validations are skipped), and the `bootstrap` module creating the private,
//! versioned bucket. Credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` set to
//! a Spaces key, never from the configuration.
//!
//! Locking: `state.locking` keeps `use_lockfile = true`, Terraform's lock by S3 conditional
//! writes (`If-None-Match`). DigitalOcean documents the Spaces backend without it, and some
//! S3-compatible stores accept the header without honouring it, so `synth` says so: verify
//! it once (two concurrent `terraform plan -lock-timeout=0`; the second must fail to lock)
//! and serialize applies per environment in CI either way.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use crate::backend::{state_key, terraform_block};
use crate::naming::header;
use crate::terraform::{Module, res};

pub(crate) fn spaces_region(ctx: &Ctx) -> String {
    let s = ctx.v.bp.state.as_ref().and_then(|s| s.region.clone());
    let d = ctx
        .v
        .bp
        .providers
        .digitalocean
        .as_ref()
        .and_then(|d| d.spaces_region.clone());
    // Spaces is offered in fewer regions than Droplets: nyc3 serves the nyc regions. Given
    // regions are checked against the same table (`semantic::digitalocean::SPACES_REGIONS`).
    s.or(d).unwrap_or_else(|| {
        crate::semantic::digitalocean::nearest_spaces_region(&ctx.region)
            .unwrap_or(&ctx.region)
            .into()
    })
}

pub fn backend(ctx: &Ctx, module: &str) -> Option<Json> {
    let s = ctx.v.bp.state.as_ref()?;
    let mut b = json!({
        "bucket": &s.bucket,
        "key": state_key(&s.key, ctx.v.env, module),
        "endpoints": {"s3": format!("https://{}.digitaloceanspaces.com", spaces_region(ctx))},
        // The S3 backend requires a region; Spaces ignores it.
        "region": "us-east-1",
        "skip_credentials_validation": true,
        "skip_requesting_account_id": true,
        "skip_metadata_api_check": true,
        "skip_region_validation": true,
        "skip_s3_checksum": true,
    });
    if s.locking {
        b["use_lockfile"] = json!(true);
    }
    Some(json!({"s3": b}))
}

pub fn bootstrap(ctx: &Ctx) -> Option<Module> {
    let s = ctx.v.bp.state.as_ref()?;
    if s.locking {
        ctx.note(format!(
            "state: `use_lockfile` on Spaces relies on S3 conditional writes, which DigitalOcean does not document for Spaces; check that a second concurrent `terraform plan -lock-timeout=0` fails to lock `{}`, and serialize applies per environment in CI",
            state_key(&s.key, ctx.v.env, "infra")
        ));
    }
    let mut m = Module::new(header(ctx.v));
    m.file("providers")
        .terraform(terraform_block(&["digitalocean"], None))
        .provider("digitalocean", json!({}));
    let bucket = res("digitalocean_spaces_bucket", "state");
    m.file("state").resource(
        &bucket,
        json!({
            "name": &s.bucket,
            "region": spaces_region(ctx),
            "acl": "private",
            "versioning": {"enabled": true},
            "lifecycle": {"prevent_destroy": true},
        }),
    );
    m.file("outputs").output(
        "state_bucket",
        bucket.attr("name"),
        "Spaces bucket holding the Terraform state of every root module",
    );
    Some(m)
}
