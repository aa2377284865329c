//! Scaling and availability around a service's primary Deployment (the live colour of a
//! blue/green pair, the stable track of a canary): HorizontalPodAutoscaler (autoscaling/v2,
//! CPU/memory utilization with scale-up/down behaviour) or, scaling on a queue, KEDA's
//! ScaledObject (`keda.rs`), PodDisruptionBudget and
//! VerticalPodAutoscaler (autoscaling.k8s.io/v1, needs the VPA's CRDs).

use super::namespace::quantity;
use super::workload::{Track, labels, tracks};
use super::yaml::{Map, map, seq};
use super::{Ctx, Workload, int_or_string};
use crate::blueprint::types::{Blueprint, IngressClass, ScalingBehaviour, Strategy, VpaMode};

/// Whether something the output installs scales on the resource metrics API (which
/// neither EKS nor DOKS serves without metrics-server, so their `platform` installs it): a
/// service's HorizontalPodAutoscaler, or ingress-nginx's or the Envoy proxies' own
/// (`ingress_controller.replicas` turns it on). On the blueprint, so validation can tell
/// too (`semantic/addon_owners.rs`).
pub fn uses_resource_metrics(bp: &Blueprint) -> bool {
    let gateway = bp
        .ingress
        .as_ref()
        .filter(|i| i.enabled)
        .is_some_and(|i| i.gateway.is_some());
    let controller = bp
        .kubernetes
        .as_ref()
        .and_then(|k| k.ingress_controller.as_ref());
    // With the Gateway API the same `replicas { min, max }` becomes the Envoy proxies' HPA
    // (the gateway's EnvoyProxy).
    let envoy_hpa = gateway
        && controller
            .and_then(|c| c.replicas.as_ref())
            .is_some_and(|r| r.max > r.min);
    let nginx_hpa = controller
        .is_some_and(|c| c.kind == IngressClass::Nginx && !gateway && c.replicas.is_some());
    // A service scaled on a queue alone reads the external metrics API (KEDA's), not this.
    let service_hpa = bp.services.iter().any(|s| {
        s.autoscaling.as_ref().is_some_and(|a| {
            a.queue.is_none() || a.cpu_percent.is_some() || a.memory_percent.is_some()
        })
    });
    envoy_hpa || nginx_hpa || service_hpa
}

fn rules(b: &ScalingBehaviour) -> Map<'static> {
    let mut m = Map::new().opt("stabilizationWindowSeconds", b.stabilization_seconds);
    if let Some(p) = b.percent {
        m.insert(
            "policies",
            vec![map! {
                "type" => "Percent",
                "value" => p,
                "periodSeconds" => b.period_seconds.unwrap_or(60),
            }],
        );
    }
    m
}

fn utilization(resource: &'static str, percent: u32) -> Map<'static> {
    map! {
        "type" => "Resource",
        "resource" => map! {
            "name" => resource,
            "target" => map! {"type" => "Utilization", "averageUtilization" => percent},
        },
    }
}

/// Which resources an autoscaler's HPA scales on: (cpu, memory). An HPA without metrics
/// scales on CPU (80 %); one scaling on a queue (KEDA's) only on what is given beside it.
fn hpa_resources(a: &crate::blueprint::types::Autoscaling) -> (bool, bool) {
    let mem = a.memory_percent.is_some();
    let cpu = a.cpu_percent.is_some();
    if a.queue.is_some() {
        return (cpu, mem);
    }
    (cpu || !mem, mem)
}

/// The VPA's update mode and the resources it controls, when an HPA scales the same
/// Deployment: a VPA that evicts pods (`Auto`, `Recreate`) to resize the resource the HPA
/// scales on fights it (each resize moves the HPA's utilization). It then controls only the
/// other resource, or — with an HPA on both — only sizes new pods (`Initial`).
pub(crate) fn vpa_mode(s: &Workload) -> (VpaMode, Option<&'static str>) {
    let Some(vpa) = &s.bp.vpa else {
        return (VpaMode::Off, None);
    };
    let evicts = matches!(vpa.mode, VpaMode::Auto | VpaMode::Recreate);
    match &s.bp.autoscaling {
        Some(a) if evicts => match hpa_resources(a) {
            (true, true) => (VpaMode::Initial, None),
            (true, false) => (vpa.mode, Some("memory")),
            (false, true) => (vpa.mode, Some("cpu")),
            (false, false) => (vpa.mode, None),
        },
        _ => (vpa.mode, None),
    }
}

/// Notes about what the lowering changed for a service (the VPA next to an HPA).
pub fn notes(s: &crate::blueprint::types::Service) -> Option<String> {
    let vpa = s.vpa.as_ref()?;
    let a = s.autoscaling.as_ref()?;
    if !matches!(vpa.mode, VpaMode::Auto | VpaMode::Recreate) {
        return None;
    }
    Some(match hpa_resources(a) {
        (true, true) => format!(
            "services[{}].vpa: mode {:?} next to an HPA on CPU and memory would fight it; the VPA runs in Initial mode (it sizes new pods, never evicts)",
            s.name, vpa.mode
        ),
        (true, false) => format!(
            "services[{}].vpa: the HPA scales on CPU, so the VPA ({:?}) controls memory only",
            s.name, vpa.mode
        ),
        (false, false) => return None,
        (false, true) => format!(
            "services[{}].vpa: the HPA scales on memory, so the VPA ({:?}) controls CPU only",
            s.name, vpa.mode
        ),
    })
}

/// The replicas a service runs at rest (the autoscaler's minimum, else `replicas`).
fn resting_replicas(s: &Workload) -> u32 {
    s.bp.autoscaling.as_ref().map_or(s.bp.replicas, |a| a.min)
}

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, docs: &mut Vec<Map<'c>>) {
    let all = tracks(ctx, s);
    let Some(primary) = all.iter().find(|t| t.primary) else {
        return;
    };
    let target = |t: &Track| {
        map! {
            "apiVersion" => "apps/v1",
            "kind" => "Deployment",
            "name" => t.deployment.clone(),
        }
    };
    if let Some(a) = &s.bp.autoscaling {
        let mut metrics = Vec::new();
        if let Some(c) = a.cpu_percent {
            metrics.push(utilization("cpu", c));
        }
        if let Some(m) = a.memory_percent {
            metrics.push(utilization("memory", m));
        }
        let behavior = Map::new()
            .nonempty(
                "scaleUp",
                a.scale_up.as_ref().map(rules).unwrap_or_default(),
            )
            .nonempty(
                "scaleDown",
                a.scale_down.as_ref().map(rules).unwrap_or_default(),
            );
        // Every Deployment without `spec.replicas` is scaled by its own HPA: the one of a
        // rolling or canary service, or each colour of a blue/green pair (named by colour, so
        // switching `rollout.live` moves no HPA and changes no replica count). On a queue,
        // by KEDA's ScaledObject instead, which makes that HPA itself (`keda.rs`).
        let base = |t: &Track| {
            if s.strategy() == Strategy::BlueGreen {
                t.deployment.clone()
            } else {
                s.name().to_string()
            }
        };
        if let Some(queue) = super::keda::queue(ctx, s) {
            for t in all.iter().filter(|t| t.replicas.is_none()) {
                docs.push(super::keda::scaled_object(
                    ctx,
                    s,
                    queue,
                    (base(t), format!("{}-hpa", base(t))),
                    &t.deployment,
                    behavior.clone(),
                ));
            }
            docs.push(super::keda::trigger_authentication(ctx, s));
        } else {
            for t in all.iter().filter(|t| t.replicas.is_none()) {
                let name = format!("{}-hpa", base(t));
                docs.push(map! {
                    "apiVersion" => "autoscaling/v2",
                    "kind" => "HorizontalPodAutoscaler",
                    "metadata" => ctx.meta(name, &s.namespace, labels(ctx, s)),
                    "spec" => map! {
                        "scaleTargetRef" => target(t),
                        "minReplicas" => a.min,
                        "maxReplicas" => a.max,
                    }
                    .nonempty("metrics", metrics.clone())
                    .nonempty("behavior", behavior.clone()),
                });
            }
        }
    }
    match &s.bp.pdb {
        Some(p) => docs.push(pdb(ctx, s, primary, p)),
        // Nodes are drained (upgrades, scale-in): a service with two or more pods keeps all
        // but one through a drain unless the blueprint says otherwise.
        None if resting_replicas(s) >= 2 => {
            let p = crate::blueprint::types::Pdb {
                min_available: None,
                max_unavailable: Some("1".into()),
            };
            docs.push(pdb(ctx, s, primary, &p));
        }
        None => {}
    }
    if let Some(vpa) = &s.bp.vpa {
        let (mode, controlled) = vpa_mode(s);
        let policy = map! {"containerName" => s.container.as_str()}
            .nonempty("minAllowed", quantity(&vpa.min))
            .nonempty("maxAllowed", quantity(&vpa.max))
            .opt("controlledResources", controlled.map(|r| seq![r]));
        // A container without a policy of its own gets the default one: controlled, with no
        // bounds. The blueprint's `vpa` sizes the app container; sidecars keep their figures
        // (`containerName: "*"`, mode Off), so no container grows past what the namespace
        // quota was checked against.
        // <https://github.com/kubernetes/autoscaler/blob/master/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1/types.go>
        let mut policies = vec![policy];
        if !s.bp.sidecars.is_empty() {
            policies.push(map! {"containerName" => "*", "mode" => "Off"});
        }
        docs.push(map! {
            "apiVersion" => "autoscaling.k8s.io/v1",
            "kind" => "VerticalPodAutoscaler",
            "metadata" => ctx.meta(format!("{}-vpa", s.name()), &s.namespace, labels(ctx, s)),
            "spec" => map! {
                "targetRef" => target(primary),
                "updatePolicy" => map! {"updateMode" => format!("{mode:?}")},
                "resourcePolicy" => map! {"containerPolicies" => policies},
            },
        });
    }
}

/// [`int_or_string`], owned (for budgets made here rather than read off the blueprint).
fn owned_count(v: &str) -> super::yaml::Y<'static> {
    match int_or_string(v) {
        super::yaml::Y::Int(i) => super::yaml::Y::Int(i),
        _ => super::yaml::Y::Str(super::yaml::Str::Owned(v.trim().to_string())),
    }
}

fn pdb<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    primary: &Track,
    p: &crate::blueprint::types::Pdb,
) -> Map<'c> {
    let spec = Map::new()
        .opt("minAvailable", p.min_available.as_deref().map(owned_count))
        .opt(
            "maxUnavailable",
            p.max_unavailable.as_deref().map(owned_count),
        )
        .with(
            "selector",
            map! {"matchLabels" => primary.selector(s.name())},
        );
    map! {
        "apiVersion" => "policy/v1",
        "kind" => "PodDisruptionBudget",
        "metadata" => ctx.meta(format!("{}-pdb", s.name()), &s.namespace, labels(ctx, s)),
        "spec" => spec,
    }
}
