//! Secrets Manager secrets by reference: one `aws_secretsmanager_secret` per `secrets[]`,
//! named by its `path`, encrypted with the `secrets` key. infragen never writes a value:
//! values are put out of band (`aws secretsmanager put-secret-value`), except a cache AUTH
//! token, which `cache.rs` generates so the replication group and its clients agree on it.

use crate::json;

use super::Ctx;
use super::kms;
use crate::blueprint::types::Secret;
use crate::terraform::{Module, Ref, interp, res};

/// The secret declared for `secrets[].name`.
pub fn secret(name: &str) -> Ref {
    res("aws_secretsmanager_secret", name)
}

/// The Secrets Manager name of `secrets[].name` (its `path`, default the name).
pub fn name(ctx: &Ctx, secret: &str) -> String {
    match ctx.v.bp.secrets.iter().find(|s| s.name == secret) {
        Some(s) => path_of(s).to_string(),
        None => secret.to_string(),
    }
}

/// The Secrets Manager name of a declared secret (its `path`, default its name).
pub fn path_of(s: &Secret) -> &str {
    s.path.as_deref().unwrap_or(&s.name)
}

/// The key every declared secret is encrypted with (for `kms:Decrypt` grants).
pub fn key() -> Ref {
    res("aws_kms_key", "secrets")
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let secrets = &ctx.v.bp.secrets;
    if secrets.is_empty() {
        return;
    }
    kms::key(
        ctx,
        m,
        "secrets",
        &format!("Secrets Manager encryption for {}", ctx.prefix),
        vec![],
    );
    let f = m.file("secrets");
    for s in secrets {
        let name = path_of(s);
        let mut body = json!({
            "name": name,
            "description": s.description.clone().unwrap_or_else(|| format!("{} (value set out of band)", s.name)),
            "kms_key_id": key().arn(),
            "recovery_window_in_days": 30,
            "tags": {"Name": name},
        });
        if !s.keys.is_empty() {
            body["tags"]["keys"] = json!(s.keys.join(" "));
        }
        f.resource(&secret(&s.name), body);
        if s.rotation_days.is_some() {
            ctx.note(format!(
                "secret `{}`: `rotation_days` needs a rotation function, which the blueprint cannot name yet; the secret is not rotated",
                s.name
            ));
        }
    }
    let entries: Vec<String> = secrets
        .iter()
        .map(|s| format!("{:?} = {}", s.name, secret(&s.name).path("arn")))
        .collect();
    m.file("outputs").output(
        "secret_arns",
        interp(&format!("{{{}}}", entries.join(", "))),
        "ARNs of the Secrets Manager secrets by blueprint name (values set out of band, except those Terraform writes: caches' AUTH tokens, databases' `password_secret`)",
    );
    ctx.mark("secrets");
}
