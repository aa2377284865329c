//! What an ECS service needs before its first deployment, checked by `infra` before it
//! creates the service.
//!
//! A task reads its secrets and pulls its image as it starts. In a fresh account `infra`
//! creates the blueprint's secrets empty (their values are set out of band) and the ECR
//! repositories empty (CI pushes the images), in the same apply as the services. The tasks of
//! a service created then cannot start, and with the deployment circuit breaker a first
//! deployment whose tasks fail stalls for good: "When the deployment circuit breaker does not
//! find a deployment that is in a COMPLETED state, the circuit breaker does not launch new
//! tasks and the deployment is stalled"
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html>).
//! Putting the values and pushing the image afterwards changes nothing until someone forces a
//! new deployment.
//!
//! So each service carries `lifecycle.precondition`s: every out-of-band secret it reads has a
//! version (`data "aws_secretsmanager_secret_versions"`, which lists versions and never reads
//! a value into state) and every image it pulls from a repository this output creates is in
//! that repository (`data "aws_ecr_images"`). The first apply creates everything else and
//! stops at the service with a message saying what to put where; the next apply creates it,
//! and its tasks start. `preconditions.json` lists the same.

use std::collections::BTreeSet;

use crate::blueprint::types::Service;
use crate::json;
use crate::terraform::{Json, Module, Ref, data, interp};
use crate::wiring::Precondition;

use super::{Ctx, connect, ecs, registry, secrets};

fn versions(secret: &str) -> Ref {
    data("aws_secretsmanager_secret_versions", secret)
}

fn images_of(repository: &Ref) -> Ref {
    data("aws_ecr_images", repository.name())
}

/// The images of `s` (the volume-setup container's too, `ecs::task_images`) in repositories
/// this output creates: (repository, `:tag` or
/// `@digest`, the image as the blueprint writes it).
fn created_images<'a>(ctx: &Ctx<'a>, s: &'a Service) -> Vec<(Ref, String, &'a str)> {
    ecs::task_images(ctx, s)
        .into_iter()
        .filter_map(|i| {
            let (repo, reference) = registry::created_repository(ctx, i)?;
            Some((repo, reference, i))
        })
        .collect()
}

/// The data sources every service's preconditions read, declared once for the module
/// (before the services are lowered, possibly in parallel parts).
pub fn declare(ctx: &Ctx, m: &mut Module) {
    let mut secret_names: BTreeSet<&str> = BTreeSet::new();
    let mut repositories: BTreeSet<String> = BTreeSet::new();
    for s in &ctx.v.bp.services {
        secret_names.extend(connect::set_out_of_band(ctx, s));
        for (repo, _, _) in created_images(ctx, s) {
            repositories.insert(repo.name().to_string());
        }
    }
    let f = m.file("ecs");
    for name in secret_names {
        f.resource(
            &versions(name),
            json!({"secret_id": secrets::secret(name).arn()}),
        );
    }
    for name in repositories {
        let repo = crate::terraform::res("aws_ecr_repository", &name);
        f.resource(
            &images_of(&repo),
            json!({"repository_name": repo.attr("name")}),
        );
    }
}

/// The `lifecycle.precondition` blocks of service `s`.
pub fn conditions(ctx: &Ctx, s: &Service) -> Vec<Json> {
    let service = ecs::service_name(s);
    let mut out = Vec::new();
    for name in connect::set_out_of_band(ctx, s) {
        let path = secrets::name(ctx, name);
        out.push(json!({
            // A secret without versions lists `null`, not `[]`.
            "condition": interp(&format!("try(length({}), 0) > 0", versions(name).path("versions"))),
            "error_message": format!(
                "Secrets Manager secret {path} has no value yet. Put one (aws secretsmanager put-secret-value --secret-id {path} --secret-string ...) and apply again: the tasks of ECS service {service} read it as they start, and a first deployment whose tasks cannot start stalls."
            ),
        }));
    }
    for (repo, reference, image) in created_images(ctx, s) {
        let ids = images_of(&repo).path("image_ids");
        let name = registry::parse_ecr_image(image).map_or(image, |e| e.repository);
        let condition = match reference.strip_prefix('@') {
            Some(digest) => format!("contains({ids}[*].image_digest, \"{digest}\")"),
            None => {
                let tag = reference.strip_prefix(':').unwrap_or("latest");
                format!("contains({ids}[*].image_tag, \"{tag}\")")
            }
        };
        out.push(json!({
            "condition": interp(&condition),
            "error_message": format!(
                "Image {name}{reference} is not in ECR repository {name} (created by this module, empty) yet. Push it there and apply again: the tasks of ECS service {service} pull it as they start, and a first deployment whose tasks cannot start stalls."
            ),
        }));
    }
    out
}

/// `preconditions.json` entries for the images the ECS services and scheduled jobs pull from
/// repositories this output creates.
pub fn image_preconditions(ctx: &Ctx) -> Vec<Precondition> {
    let bp = ctx.v.bp;
    let mut out = Vec::new();
    let workloads =
        (bp.services.iter().map(|s| (s, false))).chain(bp.jobs.iter().map(|j| (j.pod(), true)));
    for (s, job) in workloads {
        for (_, reference, image) in created_images(ctx, s) {
            // The repository's name as ECR knows it: the image's path, which
            // `created_repository` matched against the blueprint's repositories.
            let Some(name) = registry::parse_ecr_image(image).map(|e| e.repository) else {
                continue;
            };
            let why = if job {
                format!(
                    "`infra` creates the repository `{name}` empty; the runs of scheduled job `{}` fail until the image is pushed there",
                    s.name
                )
            } else {
                format!(
                    "`infra` creates the repository `{name}` empty and stops before ECS service `{}` (its first deployment would stall); push the image and apply `infra` again",
                    ecs::service_name(s)
                )
            };
            out.push(Precondition {
                kind: "EcrImage".into(),
                namespace: String::new(),
                name: format!("{name}{reference}"),
                keys: vec![],
                why,
            });
        }
    }
    out
}
