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
use crate::catalog::Provider;

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
        if platform != Some(Platform::EcsFargate) {
            // The pods name a Kubernetes Secret of their own: no other Secret infragen makes
            // (or has made) may have its name.
            let target = crate::k8s::secret_name(bp, name);
            if let Some((_, what)) = other_secrets(c.provider, bp, name)
                .into_iter()
                .find(|(n, _)| *n == target)
            {
                c.error(
                    &at,
                    format!(
                        "the image pull Secret of `{}` is the Kubernetes Secret `{target}` (secret `{name}`), which is also {what}: two owners of one Secret overwrite each other's keys, and the pods would pull with whichever wrote last",
                        s.name
                    ),
                )
                .help = Some(format!(
                    "rename secret `{name}` (e.g. `{name}-registry`) so its image pull Secret has a name of its own"
                ));
                continue;
            }
        }
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

/// The other Secrets the Kubernetes output makes, or has the user make, by name, with what
/// each is — besides the image pull Secret of blueprint secret `own`. The pull Secret is
/// written whole by its owner (on EKS an ExternalSecret with `creationPolicy: Owner`, which
/// replaces the Secret's data on every refresh; elsewhere `kubectl create secret
/// docker-registry`), and so is each of these (the platform module's `kubernetes_secret_v1`,
/// another ExternalSecret, cert-manager, DOKS's registry integration), so one name for two
/// of them leaves one owner's keys. Compared across namespaces: a name taken anywhere is
/// refused rather than depending on which namespaces the services land in.
/// <https://external-secrets.io/latest/api/externalsecret/> (`creationPolicy`)
fn other_secrets(provider: Provider, bp: &Blueprint, own: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for w in bp.workloads() {
        out.push((
            crate::k8s::connect::connections_name(&w.name),
            format!("the `<workload>-connections` Secret of `{}`", w.name),
        ));
    }
    let data = (bp.databases.iter().map(|d| (&d.name, &d.in_cluster)))
        .chain(bp.caches.iter().map(|x| (&x.name, &x.in_cluster)))
        .chain(bp.brokers().map(|x| (&x.name, &x.in_cluster)));
    for (name, ic) in data {
        out.push((
            (ic.credentials_secret.clone()).unwrap_or_else(|| format!("{name}-credentials")),
            format!("the credentials Secret of the in-cluster data service `{name}`"),
        ));
    }
    for x in &bp.caches {
        if let Some(a) = &x.auth_token_secret {
            out.push((
                crate::k8s::secret_name(bp, a),
                format!("the AUTH token Secret of cache `{}`", x.name),
            ));
        }
    }
    for d in &bp.databases {
        if let Some(b) = &d.backup {
            let name =
                (b.storage_secret.clone()).unwrap_or_else(|| crate::k8s::spaces_secret(&d.name));
            out.push((
                name,
                format!("the backup credentials Secret of `{}`", d.name),
            ));
        }
    }
    if let Some(tls) = bp.ingress.as_ref().and_then(|i| i.tls.as_ref()) {
        out.push((
            tls.secret_name.clone(),
            "the ingress's TLS certificate Secret (`ingress.tls.secret_name`)".into(),
        ));
    }
    if provider == Provider::Digitalocean
        && let Some(r) = &bp.registry
    {
        let name = r.name.as_deref().unwrap_or(&bp.name);
        out.push((
            format!("registry-{name}"),
            "the pull Secret DOKS's registry integration keeps in every namespace".into(),
        ));
    }
    // Blueprint secrets are Kubernetes Secrets of their own name on DOKS and existing
    // clusters; on EKS only the image pull Secrets are (the rest reach the pods through
    // `<workload>-connections`).
    let pull = |x: &str| {
        bp.workloads()
            .any(|w| w.image_credentials.as_deref() == Some(x))
    };
    for x in (bp.secrets.iter())
        .filter(|x| x.name != own && (provider != Provider::Aws || pull(&x.name)))
    {
        out.push((
            crate::k8s::secret_name(bp, &x.name),
            format!("the Kubernetes Secret of blueprint secret `{}`", x.name),
        ));
    }
    out
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
