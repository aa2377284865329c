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
use crate::wiring;
use crate::wiring::setup_image::setup_image;

/// The app container's keys every extra container shares (hardening, volumes, logs, the
/// stop timeout).
const SHARED: &[&str] = &[
    "user",
    "readonlyRootFilesystem",
    "privileged",
    "linuxParameters",
    "mountPoints",
    "volumesFrom",
    "logConfiguration",
    // `services[].stop_timeout`: the task's containers get SIGTERM together, and a sidecar
    // (a proxy the app still calls) must outlive the app's shutdown, not die at 30 s.
    "stopTimeout",
];

/// Every image the task pulls: the app's, then the init containers' and sidecars'.
pub fn images(s: &Service) -> impl Iterator<Item = &str> {
    std::iter::once(s.image.as_str())
        .chain(s.init.iter().chain(&s.sidecars).map(|c| c.image.as_str()))
}

/// The task's container definitions: the app's (given, made to wait for the init
/// containers), then the init containers and the sidecars. `setup` is [`volume_setup`]'s
/// container: the first of the init containers, so the user's own (a migration step with
/// `app_env`) find the writable paths and the CA files ready too.
pub fn definitions(ctx: &Ctx, s: &Service, mut app: Json, setup: Option<Json>) -> Vec<Json> {
    if s.init.is_empty() && s.sidecars.is_empty() && setup.is_none() {
        return vec![app];
    }
    let mut out = Vec::new();
    let mut previous: Option<&str> = None;
    if let Some(w) = setup {
        out.push(w);
        previous = Some(CA_WRITER);
    }
    for c in &s.init {
        out.push(definition(ctx, &app, &s.image, c, false, previous));
        previous = Some(&c.name);
    }
    for c in &s.sidecars {
        out.push(definition(
            ctx,
            &app,
            &s.image,
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
    app_image: &str,
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
    // The app's registry login serves its registry's other images (a private sidecar of
    // the same GHCR organization); another registry's image is pulled without it.
    let registry = crate::semantic::image_credentials::registry;
    if let Some(creds) = app.get("repositoryCredentials")
        && registry(&c.image) == registry(app_image)
    {
        d["repositoryCredentials"] = creds.clone();
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

/// The name of the container that prepares the task's volumes ([`volume_setup`]).
pub const CA_WRITER: &str = wiring::CA_WRITER;

/// The task volume holding the CA files (a Fargate bind mount: no `host`, the task's own
/// ephemeral storage, gone with the task).
pub const CA_VOLUME: &str = "database-ca";

/// The environment variable carrying the PEM bundle into [`volume_setup`].
const CA_BUNDLE_VAR: &str = "RDS_CA_BUNDLE";

/// A container that prepares the task's bind-mount volumes before the others start, or none
/// when there is nothing to prepare. A Fargate bind mount starts empty and "By default, the
/// volume permissions are set to 0755 and the owner as root"
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html>;
/// github.com/aws/containers-roadmap/issues/938: "ECS mounts it as writable only by root, so
/// a container running as a non-root user is unable to write any temporary files"), while
/// every container of the task runs as the blueprint's non-root user with a read-only root
/// filesystem.
///
/// - `writable` (the containers' writable paths, `/tmp` by default) are made `1777`, as a
///   `/tmp` is: writable by the task's user, whatever its id. An image that declares the path
///   a `VOLUME` owned by its own user (AWS's way of customizing the permissions) keeps it:
///   the `chmod` of a directory someone else owns fails, and is let fail.
/// - `ca` (`components`, `pem`): the region's RDS CA bundle as `<component>.crt` for each
///   component, into the volume [`CA_VOLUME`] at [`wiring::CA_DIR`], which the app and its
///   other containers mount read only (ECS has no Secret or ConfigMap volumes). The bundle is
///   public (the certificates AWS publishes per region), so it travels as a plain
///   `environment` value; a regional bundle is about 4.6 KB, well inside the 64 KiB a task
///   definition may weigh (the global one is ~160 KB). The files are written 0644, so the
///   app's own user reads them.
/// - `files` (`services[].files`): each written into the volume of its directory, 0444
///   (`config_files`).
/// - It runs once and exits: `essential: false`, and the next container waits for it with
///   `dependsOn` `SUCCESS` (allowed only on a non-essential container,
///   <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html>).
/// - Hardened like the app (read-only root filesystem, no privilege, every capability
///   dropped, the app's log group) but as user 0: only a directory's owner may change its
///   mode or write to it 0755 without `CAP_FOWNER` / `CAP_DAC_OVERRIDE`, which are dropped.
///
/// Its image is [`setup_image`] (`providers.aws.setup_image`, BusyBox from ECR Public by
/// default), pulled like the others (`ecs::task_image`: from a repository the output
/// creates, when it names one).
pub fn volume_setup(
    ctx: &Ctx,
    app: &Json,
    s: &Service,
    ca: Option<(&[&str], &str)>,
) -> Option<Json> {
    let writable = &s.security.writable_paths;
    if writable.is_empty() && ca.is_none() && s.files.is_empty() {
        return None;
    }
    let mut script: Vec<String> = writable
        .iter()
        .map(|p| format!("chmod 1777 {p} || echo '{p}: kept as the image made it'")) // `semantic::containers`: a plain path
        .collect();
    let mut mounts: Vec<Json> = super::ecs::writable_volumes(s)
        .into_iter()
        .map(|(p, v)| json!({"sourceVolume": v, "containerPath": p, "readOnly": false}))
        .collect();
    let mut environment = Vec::new();
    if let Some((components, pem)) = ca {
        script.extend(
            components
                .iter()
                .map(|c| format!("printf '%s' \"${CA_BUNDLE_VAR}\" > {}", wiring::ca_file(c))),
        );
        mounts.push(
            json!({"sourceVolume": CA_VOLUME, "containerPath": wiring::CA_DIR, "readOnly": false}),
        );
        environment.push(json!({"name": CA_BUNDLE_VAR, "value": pem}));
    }
    let (files, file_mounts, file_env) = super::config_files::setup(s);
    script.extend(files);
    mounts.extend(file_mounts);
    environment.extend(file_env);
    let mut d = json!({
        "name": CA_WRITER,
        "image": super::ecs::task_image(ctx, setup_image(ctx.v.bp)),
        "essential": false,
        "portMappings": [],
        "environment": environment,
        "entryPoint": ["sh", "-c"],
        "command": [format!("set -e; umask 022; {}", script.join("; "))],
        "user": "0",
        "readonlyRootFilesystem": true,
        "privileged": false,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
        "mountPoints": mounts,
        "volumesFrom": [],
    });
    if let Some(logs) = app.get("logConfiguration") {
        d["logConfiguration"] = logs.clone();
    }
    Some(d)
}
