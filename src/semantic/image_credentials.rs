//! `image_credentials`: the registry login of a private image outside ECR. Without it a
//! private Docker Hub, GHCR, GitLab or Quay image is never pulled — the task stops with
//! `CannotPullContainerError` ("pull access denied"), and nothing said so before.
//!
//! ECS Fargate pulls it with `repositoryCredentials`: a Secrets Manager secret holding
//! `{"username": …, "password": …}`, which the execution role reads (and decrypts, with a
//! customer managed key) — "Private registry authentication for tasks", ECS developer
//! guide. So the name must be a `secrets[]` entry with those two keys. An ECR image needs
//! none (the execution role's `ecr:*` grants pull it), and Kubernetes pulls through a
//! `kubernetes.io/dockerconfigjson` Secret the pod names in `imagePullSecrets`, which this
//! field does not make: refused on both, with what to do instead.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform, Service};

/// The registry host of an image reference (`ghcr.io` for `ghcr.io/acme/api:1.0`,
/// `docker.io` for `nginx:1.27` or `acme/api:1.0`): the first component names a registry
/// when it holds a `.` or a `:`, or is `localhost` (the Docker reference grammar).
pub(crate) fn registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

fn ecr(image: &str) -> bool {
    let host = registry(image);
    host.contains(".dkr.ecr.") && host.ends_with(".amazonaws.com")
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = bp.platform_on(c.provider) == Some(Platform::EcsFargate);
    for (path, s) in bp.workloads_at().collect::<Vec<(String, &Service)>>() {
        let Some(name) = &s.image_credentials else {
            continue;
        };
        let at = format!("{path}.image_credentials");
        if !ecs {
            c.error(
                &at,
                format!(
                    "`{}`: `image_credentials` is ECS Fargate's registry login (`repositoryCredentials`); a Kubernetes pod pulls a private image through an image pull Secret it names",
                    s.name
                ),
            )
            .help = Some(format!(
                "drop it here (e.g. in this provider's `per_provider` overlay), create the Secret in the pods' namespace (`kubectl create secret docker-registry {name} --docker-server={} --docker-username=… --docker-password=… -n <namespace>`) and name it in the pod with an override: `overrides: [{{ manifest: Deployment/<namespace>/{}, set: {{ spec: {{ template: {{ spec: {{ imagePullSecrets: [{{ name: {name} }}] }} }} }} }} }}]` (docs/blueprint.md \"Private images\"); on DOKS a DigitalOcean Container Registry (`registry`) needs none",
                registry(&s.image),
                s.name
            ));
            continue;
        }
        if ecr(&s.image) {
            c.error(
                &at,
                format!(
                    "`{}`: `{}` is in Amazon ECR, which the task's execution role pulls from with its own grants; `repositoryCredentials` is for registries outside ECR",
                    s.name, s.image
                ),
            )
            .help = Some("remove `image_credentials`; for another account's repository, allow this account in its repository policy (docs/brownfield.md)".into());
            continue;
        }
        let Some(secret) = bp.secrets.iter().find(|x| &x.name == name) else {
            c.unknown_name(
                &at,
                "secret",
                name,
                bp.secrets.iter().map(|x| x.name.as_str()),
            );
            continue;
        };
        let missing: Vec<&str> = ["username", "password"]
            .into_iter()
            .filter(|k| !secret.keys.iter().any(|x| x == k))
            .collect();
        if !missing.is_empty() {
            c.error(
                &at,
                format!(
                    "secret `{name}` does not declare the key{} `{}`: ECS reads the registry login from a secret holding `{{\"username\": …, \"password\": …}}`",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join("`, `")
                ),
            )
            .help = Some(format!(
                "declare it `{{ name: {name}, keys: [username, password] }}` and put the value with `aws secretsmanager put-secret-value --secret-id <its name> --secret-string '{{\"username\":\"…\",\"password\":\"…\"}}'`"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_is_the_first_component_only_when_it_names_a_host() {
        assert_eq!(super::registry("ghcr.io/acme/api:1.0"), "ghcr.io");
        assert_eq!(super::registry("nginx:1.27"), "docker.io");
        assert_eq!(super::registry("acme/api:1.0"), "docker.io");
        assert_eq!(
            super::registry("registry.gitlab.com/a/b:1"),
            "registry.gitlab.com"
        );
        assert_eq!(super::registry("localhost:5000/a:1"), "localhost:5000");
        assert!(super::ecr(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:1"
        ));
        assert!(!super::ecr("ghcr.io/a/b:1"));
    }
}
