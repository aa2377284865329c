//! EKS on Fargate (`cluster.platform: eks_fargate`): where its pods can run.
//!
//! Fargate schedules a pod only when a Fargate profile selects its namespace; any other pod
//! stays `Pending` for ever, and the Helm releases of `terraform/platform` (`wait: true`,
//! `atomic`) time out and roll back. So every namespace that runs pods needs a profile: the
//! services' and jobs' namespaces, `kube-system` (CoreDNS, the AWS Load Balancer Controller,
//! metrics-server), and the namespaces of the ingress controller (Envoy Gateway's with
//! `ingress.gateway`), cert-manager and KEDA (a service scaling on a queue). (The
//! External Secrets Operator's namespace gets a profile of its own from the back-end.)
//! <https://docs.aws.amazon.com/eks/latest/userguide/fargate-profile.html>
//!
//! Fargate pods cannot mount EBS volumes ("You can't mount Amazon EBS volumes to Fargate
//! Pods", <https://docs.aws.amazon.com/eks/latest/userguide/fargate.html>), and every in-cluster
//! data service is a StatefulSet with a volume claim: refused.

use super::Checker;
use crate::blueprint::types::{Blueprint, Deployment, Platform};
use crate::catalog::Provider;

/// The namespaces pods of the output run in beyond `kubernetes.namespaces`: the default
/// namespace (`kubernetes.default_namespace`, else the blueprint's name, which the output
/// creates), the workloads' own, and those of the controllers the output installs
/// (ingress-nginx or Envoy Gateway, cert-manager, KEDA for a service scaling on a queue, the
/// External Secrets Operator). Each is a namespace a Fargate profile may select — and the
/// checks below tell the user to make one select it.
pub fn own_namespaces(bp: &Blueprint) -> Vec<String> {
    let k8s = bp.kubernetes.as_ref();
    let mut out = vec![
        k8s.and_then(|k| k.default_namespace.clone())
            .unwrap_or_else(|| bp.name.clone()),
        crate::naming::EXTERNAL_SECRETS_NAMESPACE.to_string(),
    ];
    out.extend(bp.services.iter().filter_map(|s| s.namespace.clone()));
    out.extend(bp.jobs.iter().filter_map(|j| j.namespace.clone()));
    if let Some(ic) = bp.ingress_nginx() {
        out.push(
            ic.namespace
                .clone()
                .unwrap_or_else(|| "ingress-nginx".into()),
        );
    }
    if bp.gateway().is_some() {
        out.push(crate::k8s::ENVOY_GATEWAY_NAMESPACE.to_string());
    }
    if let Some(k) = k8s
        && (k.cert_manager.is_some() || !k.issuers.is_empty())
    {
        out.push(
            k.cert_manager
                .as_ref()
                .and_then(|cm| cm.namespace.clone())
                .unwrap_or_else(|| "cert-manager".into()),
        );
    }
    if bp
        .services
        .iter()
        .any(|s| s.autoscaling.as_ref().is_some_and(|a| a.queue.is_some()))
    {
        out.push(crate::naming::KEDA_NAMESPACE.to_string());
    }
    out
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if c.provider != Provider::Aws
        || bp.platform() != Some(Platform::EksFargate)
        || bp.fargate_profiles.is_empty()
    {
        // No profiles at all is refused on its own (semantic/mod.rs).
        return;
    }
    // A profile with labels selects only the pods carrying them; infragen cannot tell which
    // pods a user's labels are meant for, so any profile naming the namespace counts.
    let covered = |ns: &str| {
        bp.fargate_profiles
            .iter()
            .any(|p| p.namespaces.iter().any(|n| n == ns))
    };
    let help = |ns: &str| {
        format!(
            "add a profile to `fargate_profiles`, e.g. `- {{ name: {ns}, namespaces: [{ns}] }}`, or add `{ns}` to an existing profile's `namespaces`"
        )
    };
    // EKS quotas (CreateFargateProfile): ten profiles per cluster, five selectors per profile
    // (one per namespace here), five labels per selector.
    if bp.fargate_profiles.len() > 10 {
        c.error(
            "fargate_profiles",
            format!(
                "{} Fargate profiles, but an EKS cluster takes at most 10",
                bp.fargate_profiles.len()
            ),
        )
        .help = Some("list several namespaces in one profile (up to 5 each)".into());
    }
    // The back-end adds a profile of its own for the External Secrets Operator
    // (`backend/aws/cluster/fargate.rs`) unless one selects its namespace: an eleventh
    // CreateFargateProfile would fail at apply. Counted whenever the operator may be needed
    // (a blueprint secret, or a managed data service whose credentials it syncs), which can
    // only ask for a namespace more than strictly needed, never miss one.
    let eso = crate::naming::EXTERNAL_SECRETS_NAMESPACE;
    let eso_covered = bp
        .fargate_profiles
        .iter()
        .any(|p| p.labels.is_empty() && p.namespaces.iter().any(|n| n == eso));
    let managed_data = bp
        .databases
        .iter()
        .map(|d| d.deployment)
        .chain(bp.caches.iter().map(|d| d.deployment))
        .chain(bp.brokers().map(|d| d.deployment))
        .any(|d| d != Deployment::InCluster);
    if bp.fargate_profiles.len() == 10 && !eso_covered && (!bp.secrets.is_empty() || managed_data) {
        c.error(
            "fargate_profiles",
            format!(
                "10 Fargate profiles, and the External Secrets Operator needs an eleventh for namespace `{eso}`, but an EKS cluster takes at most 10"
            ),
        )
        .help = Some(format!(
            "add `{eso}` to the `namespaces` of a profile without labels (up to 5 each)"
        ));
    }
    for (i, p) in bp.fargate_profiles.iter().enumerate() {
        if p.namespaces.len() > 5 {
            c.error(
                &format!("fargate_profiles[{i}].namespaces"),
                format!("profile `{}` lists {} namespaces, but an EKS Fargate profile takes at most 5 selectors (one per namespace)", p.name, p.namespaces.len()),
            )
            .help = Some("split the namespaces over several profiles".into());
        }
        if p.labels.len() > 5 {
            c.error(
                &format!("fargate_profiles[{i}].labels"),
                format!(
                    "profile `{}` has {} labels, but an EKS Fargate selector takes at most 5",
                    p.name,
                    p.labels.len()
                ),
            );
        }
    }
    let k8s = bp.kubernetes.as_ref();
    let default_ns = k8s
        .and_then(|k| k.default_namespace.clone())
        .unwrap_or_else(|| bp.name.clone());

    if !covered("kube-system") {
        c.error(
            "fargate_profiles",
            "no Fargate profile selects namespace `kube-system`, so CoreDNS, the AWS Load Balancer Controller and metrics-server have nowhere to run (no DNS in the cluster, and `terraform/platform` times out)",
        )
        .help = Some(help("kube-system"));
    }
    let workloads = (bp.services.iter().enumerate())
        .map(|(i, s)| ("service", format!("services[{i}]"), &s.name, &s.namespace))
        .chain(
            (bp.jobs.iter().enumerate())
                .map(|(i, j)| ("job", format!("jobs[{i}]"), &j.name, &j.namespace)),
        );
    for (what, path, name, ns) in workloads {
        let namespace = ns.clone().unwrap_or_else(|| default_ns.clone());
        if covered(&namespace) {
            continue;
        }
        let at = if ns.is_some() {
            format!("{path}.namespace")
        } else {
            path
        };
        c.error(
            &at,
            format!("{what} `{name}` runs in namespace `{namespace}`, which no Fargate profile selects: its pods would stay Pending"),
        )
        .help = Some(help(&namespace));
    }
    if let Some(k) = k8s {
        if let Some(ic) = bp.ingress_nginx() {
            let ns = ic.namespace.as_deref().unwrap_or("ingress-nginx");
            if !covered(ns) {
                c.error(
                    "kubernetes.ingress_controller",
                    format!("the ingress controller runs in namespace `{ns}`, which no Fargate profile selects: its pods would stay Pending and no traffic would reach the services"),
                )
                .help = Some(help(ns));
            }
        }
        if bp.gateway().is_some() && !covered(crate::k8s::ENVOY_GATEWAY_NAMESPACE) {
            // Envoy Gateway runs its controller and, by default, the Gateway's Envoy proxies
            // in its own namespace.
            let ns = crate::k8s::ENVOY_GATEWAY_NAMESPACE;
            c.error(
                "ingress.gateway",
                format!("Envoy Gateway runs its controller and the Gateway's Envoy proxies in namespace `{ns}`, which no Fargate profile selects: its pods would stay Pending and no traffic would reach the services"),
            )
            .help = Some(help(ns));
        }
        if k.cert_manager.is_some() || !k.issuers.is_empty() {
            let ns = k
                .cert_manager
                .as_ref()
                .and_then(|cm| cm.namespace.as_deref())
                .unwrap_or("cert-manager");
            if !covered(ns) {
                let at = if k.cert_manager.is_some() {
                    "kubernetes.cert_manager"
                } else {
                    "kubernetes.issuers"
                };
                c.error(
                    at,
                    format!("cert-manager runs in namespace `{ns}`, which no Fargate profile selects: its pods would stay Pending and no certificate would be issued"),
                )
                .help = Some(help(ns));
            }
        }
    }

    // KEDA runs its operator, metrics API server and admission webhooks in its own
    // namespace (`backend/aws/keda.rs`) when a service scales on a queue.
    let keda = crate::naming::KEDA_NAMESPACE;
    if !covered(keda)
        && let Some(i) = bp
            .services
            .iter()
            .position(|s| s.autoscaling.as_ref().is_some_and(|a| a.queue.is_some()))
    {
        c.error(
            &format!("services[{i}].autoscaling.queue"),
            format!("scaling on a queue installs KEDA in namespace `{keda}`, which no Fargate profile selects: its pods would stay Pending, `terraform/platform` would time out, and nothing would scale"),
        )
        .help = Some(help(keda));
    }

    privileged_ports(c, bp);

    let in_cluster = (bp.databases.iter().enumerate())
        .filter(|(_, d)| d.deployment == Deployment::InCluster)
        .map(|(i, d)| (format!("databases[{i}]"), &d.name))
        .chain(
            (bp.caches.iter().enumerate())
                .filter(|(_, x)| x.deployment == Deployment::InCluster)
                .map(|(i, x)| (format!("caches[{i}]"), &x.name)),
        )
        .chain(
            (bp.queues.iter().enumerate())
                .filter(|(_, x)| !x.sqs() && x.deployment == Deployment::InCluster)
                .map(|(i, x)| (format!("queues[{i}]"), &x.name)),
        );
    for (path, name) in in_cluster {
        c.error(
            &format!("{path}.deployment"),
            format!("`{name}` would run in the cluster with a persistent volume, but EKS on Fargate cannot mount EBS volumes: its pods would stay Pending"),
        )
        .help = Some(
            "use `deployment: managed` (the cloud service), or run the cluster with managed nodes (`cluster.platform: eks`)"
                .into(),
        );
    }
}

/// Every pod infragen writes runs as a non-root user with every capability dropped, so it
/// binds a port below 1024 only where the pod lowers `net.ipv4.ip_unprivileged_port_start`
/// (which the Kubernetes back-end does, [`crate::blueprint::types::Service::privileged_port`]).
/// EKS on Fargate takes neither route: its scheduler refuses pods that add capabilities
/// ("Pod not supported on Fargate: invalid SecurityContext fields: Capabilities added") and
/// sets no pod sysctls (they came to ECS on Fargate only), so the process's bind fails with
/// EACCES and the pod crash-loops. The container must listen on 1024 or above; the Service
/// keeps the port clients use (`service_port`), as ingress-nginx on Fargate does.
/// <https://docs.aws.amazon.com/eks/latest/userguide/fargate.html>,
/// <https://github.com/aws/containers-roadmap/issues/967>
fn privileged_ports(c: &mut Checker, bp: &Blueprint) {
    for (i, s) in bp.services.iter().enumerate() {
        let metrics = s.metrics.as_ref().and_then(|m| m.port);
        let binds = [("port", s.port), ("metrics.port", metrics)];
        for (field, port) in binds {
            let Some(port) = port.filter(|p| *p < 1024) else {
                continue;
            };
            c.error(
                &format!("services[{i}].{field}"),
                format!(
                    "`{}` would listen on port {port} as non-root user {} with every capability dropped; EKS on Fargate grants no NET_BIND_SERVICE and sets no `net.ipv4.ip_unprivileged_port_start`, so the bind fails (permission denied) and the pod never becomes ready",
                    s.name, s.security.run_as_user
                ),
            )
            .help = Some(format!(
                "make the image listen on a port of 1024 or above (e.g. nginx `listen 8080;`, or an unprivileged base image) and set `{field}: 8080`{}",
                if field == "port" {
                    format!("; `service_port: {}` keeps the port clients use", s.service_port.unwrap_or(80))
                } else {
                    String::new()
                }
            ));
        }
    }
}
