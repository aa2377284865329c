//! Zero-502 rollouts behind load balancers that target pods by IP (EKS): the pod readiness
//! gate of the AWS Load Balancer Controller, and the preStop pause of the pods it targets.
//!
//! With IP targets the ALB or NLB sends requests straight to the pods, not through
//! kube-proxy, so a pod being Ready says nothing of its target's health: a rolling update
//! whose new pods start faster than their targets turn healthy (two health checks, 30 s
//! apart by default) terminates the old pods while the target group holds only `initial`
//! and `draining` targets — 502/503 on every deploy. The controller's fix is a readiness
//! gate, `target-health.elbv2.k8s.aws/<target group binding>`, which it injects through
//! its mutating webhook `mpod.elbv2.k8s.aws` into every pod created in a namespace labelled
//! `elbv2.k8s.aws/pod-readiness-gate-inject: enabled` whose Service backs a
//! TargetGroupBinding, and sets True only once the target is healthy: the Deployment waits
//! for target health before it takes an old pod away. It works with `target-type: ip`
//! only, which every load balancer the EKS platform makes has (the `alb` Ingresses and the
//! internal ALB: `alb.ingress.kubernetes.io/target-type: ip`; the proxies' NLB:
//! `aws-load-balancer-nlb-target-type: ip`; Fargate has no other).
//! <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/>
//!
//! Why the label is safe where it is put:
//! - The webhook fails closed (`failurePolicy` from the chart's
//!   `podMutatorWebhookConfig.failurePolicy`, `Fail` by default and left so; the chart's
//!   templates/webhook.yaml): a pod of a labelled namespace is created only while the
//!   controller answers. The controller itself runs in `kube-system`, which is never
//!   labelled, and the chart's `objectSelector` leaves its own pods out besides, so it can
//!   always be recreated; it runs two replicas under a PodDisruptionBudget. The cost is
//!   that while both are down, new pods of the labelled namespaces wait (the ReplicaSet
//!   retries) — and then no target would be registered for them anyway.
//! - Order: the controller is installed in `terraform/platform` (Helm `wait`: its webhook
//!   answers before the release completes), before the releases there that run pods in a
//!   labelled namespace (ingress-nginx and Envoy Gateway depend on it) and before
//!   `kubectl apply -k k8s/`, the step after `platform` and `connections`
//!   (docs/output.md).
//! - Only the namespaces holding such targets are labelled, so no other pod waits on the
//!   webhook; inside them the controller gates only the pods of Services a
//!   TargetGroupBinding names.
//!
//! A pod created before its Service's TargetGroupBinding exists (the first apply, which
//! creates the Ingress and the Deployment together) gets no gate: the first rollout is
//! the one that has no old pods to protect.

use std::collections::BTreeSet;

use super::service::ip_target;
use super::{Ctx, Workload};

/// The namespace label the controller's pod webhook selects.
pub const INJECT_LABEL: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";

/// Seconds a terminating target pod keeps serving before it is sent SIGTERM (the preStop
/// `sleep` action).
///
/// Deleting a pod sends SIGTERM and removes it from its EndpointSlices at once; only then
/// does the controller see the change and deregister the target, and the load balancer
/// takes a few seconds more to stop routing new requests to it. An app that stops on
/// SIGTERM meanwhile answers those with resets: 502s. The EKS Best Practices Guide,
/// "Gracefully handle the client requests", has the container pause in `preStop` first
/// (<https://docs.aws.amazon.com/eks/latest/best-practices/load-balancing.html>); AWS's
/// prescriptive guidance, "Configure container lifecycle hooks", likewise. Kubernetes's
/// own `sleep` action (`PodLifecycleSleepAction`: beta and on by default since 1.30, GA
/// in 1.34; EKS creates no version below 1.32 now, `releases.json`) needs no `sleep`
/// binary in the image — distroless and scratch images have none — and no exec, so Pod
/// Security `restricted` is unaffected.
/// <https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#hook-handler-implementations>
pub const PRE_STOP_SECONDS: u32 = 15;

/// Seconds the in-cluster proxies (ingress-nginx, the Gateway's Envoy proxies) keep
/// accepting connections after their pod is deleted, before they start to drain and stop.
///
/// The NLB (or the ALB in front of ingress-nginx) targets them by pod IP, and an NLB's
/// deregistration of an IP target takes about two minutes whatever the target group's
/// deregistration delay, during which it still sends the target new connections
/// (measured in kubernetes-sigs/aws-load-balancer-controller#2366 and #3270): a proxy that
/// stops accepting before then makes every scale-in and rollout refuse or drop client
/// connections (kubernetes/ingress-nginx#11891, whose maintainers advise a pause as long
/// as the deregistration). The proxies carry every routed request, so they get the pause
/// the measurements call for, not the services' shorter [`PRE_STOP_SECONDS`]:
/// ingress-nginx's `--shutdown-grace-period` (seconds between the shutdown signal and
/// nginx's graceful quit, kubernetes/ingress-nginx#5855; flag in `pkg/flags/flags.go`,
/// default 0) and Envoy Gateway's `EnvoyProxy` `shutdown.minDrainDuration` (the shutdown
/// manager keeps Envoy up that long even with no connection left; its listeners keep
/// accepting while they drain gracefully, until `drainTimeout`;
/// <https://gateway.envoyproxy.io/docs/tasks/operations/graceful-shutdown/>).
pub const PROXY_SHUTDOWN_PAUSE_SECONDS: u32 = 120;

/// Seconds the proxies then have to finish the requests in flight: the ingress-nginx
/// chart's own `terminationGracePeriodSeconds` (300, which covers nginx's default
/// `worker-shutdown-timeout` of 240 s), kept whole after the pause.
pub const PROXY_DRAIN_SECONDS: u32 = 300;

/// Kubernetes's default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE: u32 = 30;

/// The namespaces to label (see the module): where the platform's controller gates pods
/// ([`super::Options::pod_readiness_gates`]), those of the services that are IP targets and
/// the in-cluster proxies' own (ingress-nginx's, Envoy Gateway's), which the NLB (or the
/// ALB in front of ingress-nginx) targets by IP.
pub(crate) fn namespaces(ctx: &Ctx) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !ctx.opts.pod_readiness_gates {
        return out;
    }
    out.extend(
        ctx.services
            .iter()
            .filter(|s| ip_target(ctx, s))
            .map(|s| s.namespace.clone()),
    );
    if ctx.bp.ingress_nginx().is_some() || super::gateway::gateway(ctx).is_some() {
        out.insert(ctx.ingress_namespace());
    }
    // Never `kube-system`: every pod there (CoreDNS, the VPC CNI's helpers, the add-ons)
    // would be created only while the controller's webhook answers (see [`ungated`]).
    out.remove(NEVER);
    out
}

/// The namespace never labelled.
const NEVER: &str = "kube-system";

/// Services that are IP targets but get no readiness gate, each with its namespace: those
/// in `kube-system` (see [`namespaces`]).
pub(crate) fn ungated<'c>(ctx: &'c Ctx) -> Vec<&'c Workload<'c>> {
    if !ctx.opts.pod_readiness_gates {
        return Vec::new();
    }
    ctx.services
        .iter()
        .filter(|s| s.namespace == NEVER && ip_target(ctx, s))
        .collect()
}

/// The preStop pause of the containers of `s` and the grace period that goes with it:
/// `stop_timeout` (default 30) still runs from SIGTERM to SIGKILL, so the pod's
/// `terminationGracePeriodSeconds`, which counts from the deletion and so covers the
/// pause, grows by the pause. `None` where the pod is no such target.
pub(crate) fn pre_stop(ctx: &Ctx, s: &Workload) -> Option<(u32, u32)> {
    if !ctx.opts.pod_readiness_gates || !ip_target(ctx, s) {
        return None;
    }
    let grace = s.bp.stop_timeout.unwrap_or(DEFAULT_GRACE) + PRE_STOP_SECONDS;
    Some((PRE_STOP_SECONDS, grace))
}
