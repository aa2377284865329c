//! Sidecars and init containers of a service on ECS (`services[].sidecars`, `.init`): further
//! container definitions of its task, hardened exactly like the app's container (the same
//! read-only root filesystem, non-root user, dropped capabilities, writable paths and log
//! group, copied from the app's definition so the two cannot drift apart).
//!
//! Kubernetes' order is kept: init containers run one after the other to completion before
//! anything else starts. On ECS an init container is `essential: false` and the next one —
//! and, after the last, the app and every sidecar — waits for it with `dependsOn`
//! `SUCCESS` (the container must exit 0; ECS allows that condition only on a non-essential
//! container). A sidecar is essential unless the blueprint says `essential: false`: when an
//! essential container stops, ECS stops the task and the service replaces it.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use crate::blueprint::types::{ExtraContainer, Service};

/// The app container's keys every extra container shares (hardening, volumes, logs).
const SHARED: &[&str] = &[
    "user",
    "readonlyRootFilesystem",
    "privileged",
    "linuxParameters",
    "mountPoints",
    "volumesFrom",
    "logConfiguration",
];

/// Every image the task pulls: the app's, then the init containers' and sidecars'.
pub fn images(s: &Service) -> impl Iterator<Item = &str> {
    std::iter::once(s.image.as_str())
        .chain(s.init.iter().chain(&s.sidecars).map(|c| c.image.as_str()))
}

/// The task's container definitions: the app's (given, made to wait for the init
/// containers), then the init containers and the sidecars.
pub fn definitions(ctx: &Ctx, s: &Service, mut app: Json) -> Vec<Json> {
    if s.init.is_empty() && s.sidecars.is_empty() {
        return vec![app];
    }
    let mut out = Vec::new();
    let mut previous: Option<&str> = None;
    for c in &s.init {
        out.push(definition(ctx, &app, c, false, previous));
        previous = Some(&c.name);
    }
    for c in &s.sidecars {
        out.push(definition(
            ctx,
            &app,
            c,
            c.essential.unwrap_or(true),
            previous,
        ));
    }
    if let Some(last) = previous {
        app["dependsOn"] = json!([{"containerName": last, "condition": "SUCCESS"}]);
    }
    out.insert(0, app);
    out
}

fn definition(
    ctx: &Ctx,
    app: &Json,
    c: &ExtraContainer,
    essential: bool,
    after: Option<&str>,
) -> Json {
    // With `app_env`, the app's `environment` (its `env` and connection endpoints) and
    // `secrets` (by ARN: the execution role already reads them for the app) too, so a
    // migration step reaches the database; the container's own `env` wins.
    let mut environment: Vec<Json> = Vec::new();
    if c.app_env
        && let Some(Json::Array(list)) = app.get("environment")
    {
        environment.extend(
            list.iter()
                .filter(|e| {
                    !e.get("name")
                        .and_then(Json::as_str)
                        .is_some_and(|n| c.env.contains_key(n))
                })
                .cloned(),
        );
    }
    environment.extend(c.env.iter().map(|(k, v)| json!({"name": k, "value": v})));
    let mut d = json!({
        "name": &c.name,
        "image": super::ecs::task_image(ctx, &c.image),
        "essential": essential,
        "portMappings": [],
        "environment": environment,
    });
    for key in SHARED {
        if let Some(v) = app.get(key) {
            d[*key] = v.clone();
        }
    }
    if c.app_env
        && let Some(secrets) = app.get("secrets")
    {
        d["secrets"] = secrets.clone();
    }
    if !c.command.is_empty() {
        d["entryPoint"] = json!(&c.command);
    }
    if !c.args.is_empty() {
        d["command"] = json!(&c.args);
    }
    if let Some(name) = after {
        d["dependsOn"] = json!([{"containerName": name, "condition": "SUCCESS"}]);
    }
    d
}
