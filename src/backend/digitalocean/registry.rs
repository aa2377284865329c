//! The DigitalOcean Container Registry and its pull-secret wiring.
//!
//! An account has exactly one registry, shared by every environment, so it lives in the
//! `bootstrap` module beside the state bucket; `infra` reads it by name (a plan fails
//! clearly if bootstrap was not applied).
//!
//! "You can only create one registry per DigitalOcean account", and its name is "globally
//! unique" (<https://docs.digitalocean.com/reference/api/reference/container-registry/>);
//! since 17 November 2025 the Professional tier may hold several registries in one account
//! ("Support for multiple registries when using the Professional subscription plan is now in
//! general availability", <https://docs.digitalocean.com/release-notes/>), which lets
//! `{env}` in the name give each environment its own registry in one account too.
//! With one state bucket for every environment the bootstraps are alike and applied once.
//! With a bucket per environment (or no `state`: the registry is in `infra`) each
//! environment has a module of its own that would create the registry, and the second
//! apply would fail; then exactly one environment DigitalOcean builds creates it ([`owner`]: the first
//! production-named one, else the first declared) and the others read it — unless the
//! registry's name varies with the environment (`{env}`: an account per environment). Pull access: `registry_integration = true` on the
//! cluster makes DOKS keep a `registry-<name>` docker-config Secret in every namespace, and
//! the manifest generator names that Secret as the pods' image pull secret — no registry
//! credentials ever pass through Terraform state or the output.

use crate::json;

use super::Ctx;
use super::catalog;
use crate::terraform::{Module, data, res};

/// The registry name (`registry.name`, default the blueprint's name).
pub fn name(ctx: &Ctx) -> Option<String> {
    let r = ctx.v.bp.registry.as_ref()?;
    Some(r.name.clone().unwrap_or_else(|| ctx.v.bp.name.clone()))
}

/// The Secret DOKS registry integration maintains in every namespace.
pub fn pull_secret(ctx: &Ctx) -> Option<String> {
    (super::cluster::registry_integration(ctx) && ctx.doks())
        .then(|| name(ctx).map(|n| format!("registry-{n}")))
        .flatten()
}

/// Repositories each subscription tier allows (professional: unlimited).
pub fn tier_limit(tier: &str) -> Option<usize> {
    match tier {
        "starter" => Some(1),
        "basic" => Some(5),
        _ => None,
    }
}

/// The tier: the blueprint's, else the smallest that holds its repositories.
pub fn tier(ctx: &Ctx) -> String {
    let r = ctx.v.bp.registry.as_ref();
    match r.and_then(|r| r.tier.clone()) {
        Some(t) => t,
        None => match r.map_or(0, |r| r.repositories.len()) {
            0 | 1 => "starter".into(),
            2..=5 => "basic".into(),
            _ => "professional".into(),
        },
    }
}

/// Registries are offered in fewer regions than Droplets: the nearest one.
fn region(ctx: &Ctx) -> String {
    let c = catalog::get();
    if c.registry_regions.contains(&ctx.region) {
        return ctx.region.clone();
    }
    c.nearest_registry_region
        .get(&ctx.region)
        .cloned()
        .unwrap_or_else(|| ctx.region.clone())
}

/// The environments DigitalOcean builds (this one included). Only they can create the
/// registry: in a blueprint whose environments each belong to one provider, `production` may
/// be an ECS environment, which no DigitalOcean apply ever runs, and the registry would never
/// be created.
fn built_here<'a>(ctx: &Ctx<'a>) -> Vec<&'a str> {
    let loaded = ctx.v.loaded;
    loaded
        .environments
        .iter()
        .filter(|e| {
            *e == ctx.v.env
                || crate::blueprint::load(&loaded.file, loaded.text.as_bytes(), loaded.provider, e)
                    .is_ok_and(|o| {
                        o.blueprint.platform_on(loaded.provider)
                            == Some(crate::blueprint::types::Platform::Doks)
                    })
        })
        .map(String::as_str)
        .collect()
}

/// The environment that creates a registry every environment names alike, when each
/// environment has a module of its own that would create it (see the module docs); `None`
/// when this environment's output creates its registry as usual.
pub fn owner<'a>(ctx: &Ctx<'a>, name: &str) -> Option<&'a str> {
    let envs = built_here(ctx);
    let env = ctx.v.env;
    let per_env_module = ctx
        .v
        .bp
        .state
        .as_ref()
        .is_none_or(|s| s.bucket.contains(env));
    if envs.len() < 2 || name.contains(env) || !per_env_module {
        return None;
    }
    envs.iter()
        .find(|e| super::production_named(e))
        .or(envs.first())
        .copied()
}

pub fn lower(ctx: &Ctx, infra: &mut Module, bootstrap: Option<&mut Module>) {
    let Some(reg) = ctx.v.bp.registry.as_ref() else {
        return;
    };
    let name = name(ctx).unwrap_or_default();
    let module = if bootstrap.is_some() {
        "bootstrap"
    } else {
        "infra"
    };
    // The registry holds every image the clusters run, and replacing or deleting it deletes
    // them. `region` forces a new registry (`ForceNew` in terraform-provider-digitalocean
    // `resource_container_registry.go`) while the blueprint's region may move (a new
    // `providers.digitalocean.region` for the clusters, an existing registry imported from
    // another region): it is where the images are stored, so a change is ignored rather than
    // replacing the registry empty. In `bootstrap`, beside the state bucket, it is the
    // account's and every environment's: `prevent_destroy`, as the bucket has.
    let mut lifecycle = json!({"ignore_changes": ["region"]});
    if bootstrap.is_some() {
        lifecycle["prevent_destroy"] = json!(true);
    }
    let body = json!({
        "name": &name,
        "subscription_tier_slug": tier(ctx),
        "region": region(ctx),
        "lifecycle": lifecycle,
    });
    let owner = owner(ctx, &name);
    match owner {
        Some(o) if o == ctx.v.env => {
            let others: Vec<&str> = built_here(ctx).into_iter().filter(|e| *e != o).collect();
            ctx.note(format!(
                "registry: `{o}`'s {module} creates the registry `{name}` that every environment uses (its name is unique across DigitalOcean, and below the Professional tier an account holds one registry): apply it before the infra of {}",
                others.join(", ")
            ));
        }
        Some(o) => ctx.note(format!(
            "registry: the registry `{name}` is created by environment `{o}`'s {module} (its name is unique across DigitalOcean, and below the Professional tier an account holds one registry); this environment reads it, so apply that first. For a registry per environment (an account each, or the Professional tier), put `{{env}}` in `registry.name`"
        )),
        None => {}
    }
    // Another environment creates it: read it, as an environment sharing the bootstrap does.
    let reads = owner.is_some_and(|o| o != ctx.v.env);
    let endpoint = match bootstrap {
        _ if reads => {
            let d = data("digitalocean_container_registry", "main");
            infra.file("registry").resource(&d, json!({"name": name}));
            d.attr("endpoint")
        }
        Some(b) => {
            let r = res("digitalocean_container_registry", "main");
            b.file("registry").resource(&r, body);
            b.file("outputs").output(
                "registry_endpoint",
                r.attr("endpoint"),
                "Container registry images are pushed to (registry.digitalocean.com/<name>)",
            );
            let d = data("digitalocean_container_registry", "main");
            infra.file("registry").resource(&d, json!({"name": name}));
            d.attr("endpoint")
        }
        None => {
            let r = res("digitalocean_container_registry", "main");
            infra.file("registry").resource(&r, body);
            r.attr("endpoint")
        }
    };
    infra.file("outputs").output(
        "registry_endpoint",
        endpoint,
        "Container registry images are pushed to (registry.digitalocean.com/<name>)",
    );
    ctx.mark("registry");

    let mut lost = Vec::new();
    if reg.scan_on_push {
        lost.push("scan_on_push (DOCR has no image scanning; scan in CI)");
    }
    if reg.immutable_tags {
        lost.push("immutable_tags (DOCR tags are always mutable; deploy pinned tags or digests)");
    }
    if reg.lifecycle.is_some() {
        lost.push("lifecycle (DOCR has no expiry rules; run `doctl registry garbage-collection start` on a schedule)");
    }
    if !lost.is_empty() {
        ctx.note(format!(
            "registry: not expressible on DigitalOcean Container Registry: {}",
            lost.join("; ")
        ));
    }
    if !super::cluster::registry_integration(ctx) && ctx.doks() {
        ctx.note("registry: registry_integration is off, so pods get no pull secret for it; create one (`doctl registry kubernetes-manifest`) or turn integration on");
    }
}
