//! Scaling and availability around a service's primary Deployment (the live colour of a
//! blue/green pair, the stable track of a canary): HorizontalPodAutoscaler (autoscaling/v2,
//! CPU/memory utilization with scale-up/down behaviour), PodDisruptionBudget and
//! VerticalPodAutoscaler (autoscaling.k8s.io/v1, needs the VPA's CRDs).

use super::namespace::quantity;
use super::workload::{Track, labels, tracks};
use super::yaml::{Map, map};
use super::{Ctx, Workload, int_or_string};
use crate::blueprint::types::ScalingBehaviour;

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

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, docs: &mut Vec<Map<'c>>) {
    let all = tracks(ctx, s);
    let Some(primary) = all.iter().find(|t| t.primary) else {
        return;
    };
    let target = map! {
        "apiVersion" => "apps/v1",
        "kind" => "Deployment",
        "name" => primary.deployment.clone(),
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
        docs.push(map! {
            "apiVersion" => "autoscaling/v2",
            "kind" => "HorizontalPodAutoscaler",
            "metadata" => ctx.meta(format!("{}-hpa", s.name()), &s.namespace, labels(ctx, s)),
            "spec" => map! {
                "scaleTargetRef" => target.clone(),
                "minReplicas" => a.min,
                "maxReplicas" => a.max,
            }
            .nonempty("metrics", metrics)
            .nonempty("behavior", behavior),
        });
    }
    if let Some(p) = &s.bp.pdb {
        docs.push(pdb(ctx, s, primary, p));
    }
    if let Some(vpa) = &s.bp.vpa {
        let policy = map! {"containerName" => s.container.as_str()}
            .nonempty("minAllowed", quantity(&vpa.min))
            .nonempty("maxAllowed", quantity(&vpa.max));
        docs.push(map! {
            "apiVersion" => "autoscaling.k8s.io/v1",
            "kind" => "VerticalPodAutoscaler",
            "metadata" => ctx.meta(format!("{}-vpa", s.name()), &s.namespace, labels(ctx, s)),
            "spec" => map! {
                "targetRef" => target,
                "updatePolicy" => map! {"updateMode" => format!("{:?}", vpa.mode)},
                "resourcePolicy" => map! {"containerPolicies" => vec![policy]},
            },
        });
    }
}

fn pdb<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    primary: &Track,
    p: &'c crate::blueprint::types::Pdb,
) -> Map<'c> {
    let spec = Map::new()
        .opt(
            "minAvailable",
            p.min_available.as_deref().map(int_or_string),
        )
        .opt(
            "maxUnavailable",
            p.max_unavailable.as_deref().map(int_or_string),
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
