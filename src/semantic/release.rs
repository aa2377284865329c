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
            // A blueprint DigitalOcean builds too runs the release there: it stays in the
            // base, and ECS's replacement goes in AWS's part.
            let where_ = if bp.providers.digitalocean.is_some() {
                format!(
                    "; the blueprint is built on DigitalOcean too: keep `release` in the base for it and write `per_provider: {{ aws: {{ services: [{{ name: {}, release: null, init: [...] }}] }} }}`",
                    s.name
                )
            } else {
                String::new()
            };
            d.help = Some(format!(
                "make it an `init` container with `app_env: true` if the tool takes a lock (Rails, Flyway, Liquibase), or run it from CI between a `terraform -chdir=terraform/infra apply -target=aws_ecs_task_definition.{}` and the full apply, with `aws ecs run-task` and a command override (docs/release.md, \"ECS Fargate\"){where_}",
                crate::terraform::ident(&s.name)
            ));
            continue;
        }
        fargate_selects(c, bp, i);
        if let Some(image) = &r.image
            && !super::containers::pinned(image)
        {
            c.error(
                &format!("{path}.image"),
                format!("image `{image}` is not pinned to a version"),
            )
            .help = Some(
                "give a tag such as `:1.27.3`, or a digest `@sha256:…`, or drop `image` to run the app's"
                    .into(),
            );
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

/// On EKS Fargate a pod runs only where a Fargate profile selects its namespace and carries
/// every label of the profile's selector; any other pod stays `Pending` for ever
/// (<https://docs.aws.amazon.com/eks/latest/userguide/fargate-profile.html>). The release's
/// pods carry the service's `labels` and infragen's labels with the release's values (`app:
/// <service>-release`, component `release`) and no rollout `track`/`color`: a profile that
/// selects the app's pods by one of those would leave the Job unscheduled, and every new pod
/// of the app waiting on it.
fn fargate_selects(c: &mut Checker, bp: &Blueprint, i: usize) {
    if c.provider != Provider::Aws || bp.platform() != Some(Platform::EksFargate) {
        return;
    }
    let s = &bp.services[i];
    let ns = s
        .namespace
        .clone()
        .or_else(|| bp.kubernetes.as_ref()?.default_namespace.clone())
        .unwrap_or_else(|| bp.name.clone());
    let env = c.loaded.env.clone();
    // The labels whose values differ between the app's pods and the release's
    // (`k8s::app_label_pairs`), and those only the app's pods carry.
    let pairs = |name: &str, component: &str| {
        crate::k8s::app_label_pairs(name, component, &env)
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let app_labels = pairs(&s.name, "server");
    let release_labels = pairs(&format!("{}{SUFFIX}", s.name), "release");
    // Whether a selector `labels` takes pods carrying `own` (on the keys that differ; the
    // others the two kinds of pod share).
    let takes = |labels: &std::collections::BTreeMap<String, String>,
                 own: &std::collections::BTreeMap<&str, String>,
                 app: bool| {
        labels.iter().all(|(k, v)| match own.get(k.as_str()) {
            Some(x) => x == v,
            None => app || !matches!(k.as_str(), "track" | "color"),
        })
    };
    let profiles: Vec<_> = (bp.fargate_profiles.iter())
        .filter(|p| p.namespaces.contains(&ns))
        .collect();
    if profiles
        .iter()
        .any(|p| takes(&p.labels, &release_labels, false))
    {
        return;
    }
    let Some(p) = profiles
        .iter()
        .find(|p| takes(&p.labels, &app_labels, true))
    else {
        // No profile takes the app's pods either: `semantic::fargate`'s business.
        return;
    };
    let j = bp
        .fargate_profiles
        .iter()
        .position(|x| x.name == p.name)
        .unwrap_or(0);
    let d = c.error(
        &format!("services[{i}].release"),
        format!(
            "no Fargate profile selects the pods of `{}`'s release Job (labels `app: {}{SUFFIX}`, `app.kubernetes.io/component: release`, no rollout track or colour): profile `{}` (`fargate_profiles[{j}].labels`) selects the app's pods by labels they do not carry, so the Job would stay Pending and the app's new pods wait on it for ever",
            s.name, s.name, p.name
        ),
    );
    d.expected = Some(format!(
        "a profile of namespace `{ns}` whose labels the release's pods carry too"
    ));
    d.help = Some(format!(
        "select by a label of the service's `labels` (its release's pods carry them too), or add a profile for namespace `{ns}` with `labels: {{ app: {}{SUFFIX} }}`",
        s.name
    ));
}

/// A release's pods wait in `wait-for-release`, which runs the kubectl of the catalog line
/// nearest the cluster's version (`crate::k8s::kubectl_line`). kubectl is supported within
/// one minor, older or newer, of kube-apiserver
/// (<https://kubernetes.io/releases/version-skew-policy/#kubectl>): a cluster the catalog
/// pins no kubectl within one minor of (an existing cluster older than the oldest line or
/// newer than the newest, an EKS or DOKS version kept with `allow_unsupported`) is warned
/// about. `kubectl wait` reads a `batch/v1` Job, which every such version serves, so it is
/// not refused.
pub(crate) fn warnings(bp: &Blueprint, provider: Provider) -> Vec<crate::diagnostic::Note> {
    let ecs = bp.platform_on(provider) == Some(Platform::EcsFargate);
    if ecs || !bp.services.iter().any(|s| s.release.is_some()) {
        return Vec::new();
    }
    let Some(version) = crate::k8s::cluster_minor(bp, provider) else {
        return Vec::new();
    };
    let line = crate::k8s::kubectl_line(Some(&version));
    let minor = |v: &str| -> Option<(u32, u32)> {
        let mut n = v.split('.').map(|x| x.parse::<u32>().ok());
        Some((n.next()??, n.next()??))
    };
    let (Some(cluster), Some(kubectl)) = (minor(&version), minor(&line)) else {
        return Vec::new();
    };
    if cluster.0 != kubectl.0 || cluster.1.abs_diff(kubectl.1) <= 1 {
        return Vec::new();
    }
    let image = crate::releases::product("image-kubectl").pin_for(&line);
    vec![crate::diagnostic::Note::warning(
        "kubectl-skew",
        format!(
            "`cluster.version`: the release steps' `wait-for-release` containers run kubectl {line} (registry.k8s.io/kubectl:{image}), the nearest the versions catalog pins, against a {version} cluster: kubectl is supported within one minor of the API server (kubernetes.io/releases/version-skew-policy/#kubectl); `kubectl wait` on a batch/v1 Job is expected to work, untested at this skew"
        ),
    )]
}
