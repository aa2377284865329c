//! `services[].release`: a step run once per deploy before the new version starts
//! (`crate::k8s::release`). On Kubernetes platforms a Job the app's pods wait for. ECS is
//! refused: Terraform has no resource that runs a task and waits for it, and the ways
//! around that (a `local-exec` running `aws ecs run-task` from wherever `terraform apply`
//! runs) would make every plan need the AWS CLI and a route to the ECS API, run the
//! migration while Terraform holds the state lock, and leave a failed run as a tainted
//! resource rather than a stalled rollout — see docs/release.md.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform, RELEASE_SUFFIX as SUFFIX};
use crate::catalog::Provider;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        let Some(r) = &s.release else { continue };
        let path = format!("services[{i}].release");
        if ecs {
            let d = c.error(
                &path,
                format!(
                    "ECS cannot run the release step of `{}` once per deploy before its new tasks start: Terraform has no resource that runs a task and waits for it",
                    s.name
                ),
            );
            d.expected =
                Some("a Kubernetes platform: `eks`, `eks_fargate`, `doks` or `existing`".into());
            d.help = Some(format!(
                "make it an `init` container with `app_env: true` if the tool takes a lock (Rails, Flyway, Liquibase), or run it from CI between a `terraform -chdir=terraform/infra apply -target=aws_ecs_task_definition.{}` and the full apply, with `aws ecs run-task` and a command override (docs/release.md, \"ECS Fargate\")",
                crate::terraform::ident(&s.name)
            ));
            continue;
        }
        if let Some(image) = &r.image {
            let last = image.rsplit('/').next().unwrap_or_default();
            if !(last.contains(':') || image.contains('@')) || image.ends_with(":latest") {
                c.error(
                    &format!("{path}.image"),
                    format!("image `{image}` is not pinned to a version"),
                )
                .help = Some(
                    "give a tag such as `:1.27.3`, or a digest `@sha256:…`, or drop `image` to run the app's"
                        .into(),
                );
            }
        }
        if r.timeout == Some(0) {
            c.error(
                &format!("{path}.timeout"),
                "a timeout of 0 seconds ends the run before it starts",
            )
            .expected = Some("seconds the release may take, e.g. 1800".into());
        }
        // The Job's pods carry `app: <service>-release`, which the network policies select:
        // another workload of that name would share them.
        let app = format!("{}{SUFFIX}", s.name);
        let taken = (bp.services.iter().position(|o| o.name == app))
            .map(|j| format!("services[{j}].name"))
            .or_else(|| {
                (bp.jobs.iter().position(|o| o.name == app)).map(|j| format!("jobs[{j}].name"))
            });
        if let Some(at) = taken {
            c.error(
                &at,
                format!(
                    "the release of `{}` (`{path}`) runs as `{app}`, the name of this workload: their pods would share the label `app: {app}` and its network policy",
                    s.name
                ),
            )
            .help = Some(format!("rename `{app}`"));
        }
        // A label value is at most 63 characters.
        if app.len() > 63 {
            c.error(
                &format!("services[{i}].name"),
                format!("the release's pods are labelled `app: {app}`, longer than a label's 63 characters"),
            )
            .help = Some(format!(
                "shorten the service's name to at most {} characters",
                63 - SUFFIX.len()
            ));
        }
    }
}
