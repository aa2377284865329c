//! `image_credentials`: the registry login of a private image outside ECR. Without it a
//! private Docker Hub, GHCR, GitLab or Quay image is never pulled — the task stops with
//! `CannotPullContainerError`, the pod sits in `ImagePullBackOff` ("pull access denied").
//!
//! - ECS Fargate pulls it with `repositoryCredentials`: a Secrets Manager secret holding
//!   `{"username": …, "password": …}`, which the execution role reads (and decrypts, with a
//!   customer managed key) — "Private registry authentication for tasks", ECS developer
//!   guide.
//! - EKS and EKS Fargate: the same secret, which the External Secrets Operator renders into a
//!   `kubernetes.io/dockerconfigjson` Secret in the pods' namespace
//!   (`backend::aws::external_secrets`), named in the pods' `imagePullSecrets`. So on AWS the
//!   name must be a `secrets[]` entry with those two keys: one secret serves both.
//! - DOKS and existing clusters have no secrets manager: the blueprint secret is the
//!   Kubernetes Secret of that name, created out of band (`preconditions.json` says how:
//!   `kubectl create secret docker-registry`). It then holds `.dockerconfigjson` only, so it
//!   cannot also be read as environment (`secret_env`, `uses`).
//!
//! An ECR image needs none and is refused with it: the ECS execution role's and the EKS node
//! role's `ecr:*` grants pull it, and a static docker login to ECR (DOKS, existing clusters)
//! expires with its 12-hour token.

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

/// The key of `image`'s registry in a docker config's `auths`: its host, except Docker Hub,
/// whose key is `https://index.docker.io/v1/` (what `kubectl create secret docker-registry`
/// writes by default, and what the kubelet's keyring matches `docker.io` images against).
/// <https://kubernetes.io/docs/reference/kubectl/generated/kubectl_create/kubectl_create_secret_docker-registry/>
pub(crate) fn auths_key(image: &str) -> &str {
    match registry(image) {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        host => host,
    }
}

fn ecr(image: &str) -> bool {
    let host = registry(image);
    host.contains(".dkr.ecr.") && host.ends_with(".amazonaws.com")
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let platform = bp.platform_on(c.provider);
    // Where the login is a Secrets Manager secret of `{"username", "password"}`.
    let aws = matches!(
        platform,
        Some(Platform::EcsFargate | Platform::Eks | Platform::EksFargate)
    );
    for (path, s) in bp.workloads_at().collect::<Vec<(String, &Service)>>() {
        let Some(name) = &s.image_credentials else {
            continue;
        };
        let at = format!("{path}.image_credentials");
        if ecr(&s.image) {
            let (why, help) = match platform {
                Some(Platform::EcsFargate) => (
                    "the task's execution role pulls from it with its own grants",
                    "remove `image_credentials`; for another account's repository, allow this account in its repository policy (docs/brownfield.md)",
                ),
                Some(Platform::Eks | Platform::EksFargate) => (
                    "the nodes (or Fargate's pod execution role) pull from it with their own role's grants",
                    "remove `image_credentials`; for another account's repository, allow the node role (on EKS Fargate, the pod execution role) in its repository policy (docs/brownfield.md)",
                ),
                _ => (
                    "a docker login to ECR is a token valid for 12 hours, so a Secret made from it stops working the same day",
                    "pull from a registry with long-lived credentials, or refresh an image pull Secret from `aws ecr get-login-password` on a schedule outside infragen",
                ),
            };
            c.error(
                &at,
                format!(
                    "`{}`: `{}` is in Amazon ECR: {why}; `image_credentials` is for registries outside ECR",
                    s.name, s.image
                ),
            )
            .help = Some(help.into());
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
        if !aws {
            // The Kubernetes Secret is the docker config: nothing else can read it as env.
            let env = bp.workloads().find(|w| {
                w.secret_env.iter().any(|e| &e.secret == name)
                    || w.uses.iter().any(|u| &u.name == name)
            });
            if let Some(w) = env {
                c.error(
                    &at,
                    format!(
                        "secret `{name}` is the image pull Secret of `{}` here (type `kubernetes.io/dockerconfigjson`, key `.dockerconfigjson` only), and `{}` reads it as environment, which would find none of its keys",
                        s.name, w.name
                    ),
                )
                .help = Some(format!(
                    "declare a second secret for the registry login (`{{ name: {name}-registry }}`) and name that one in `image_credentials`"
                ));
            }
            continue;
        }
        let missing: Vec<&str> = ["username", "password"]
            .into_iter()
            .filter(|k| !secret.keys.iter().any(|x| x == k))
            .collect();
        if !missing.is_empty() {
            c.error(
                &at,
                format!(
                    "secret `{name}` does not declare the key{} `{}`: the registry login is read from a Secrets Manager secret holding `{{\"username\": …, \"password\": …}}`",
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
        assert_eq!(
            super::auths_key("nginx:1.27"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(
            super::auths_key("docker.io/acme/a:1"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(super::auths_key("ghcr.io/acme/a:1"), "ghcr.io");
    }
}
