//! The ClusterIP Service of each service (`service_name`, port `service_port` → the container
//! port). Blue/green: it selects the live colour. Canary: it selects both tracks (traffic
//! splits by replica ratio) unless ingress-nginx splits it, in which case it selects the
//! stable track and `<service>-canary` selects the canary.

use super::workload::{canary_at_ingress, labels, live};
use super::yaml::{Map, map};
use super::{Ctx, Workload};
use crate::blueprint::types::Strategy;

/// Name of the Service that selects only a canary's pods.
pub(crate) fn canary_service(s: &Workload) -> String {
    format!("{}-canary", s.service_name)
}

fn service<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    name: impl Into<super::yaml::Str<'c>>,
    selector: Map<'c>,
) -> Map<'c> {
    let mut meta_labels = labels(ctx, s);
    meta_labels.extend(selector.clone());
    let mut meta = ctx.meta(name, &s.namespace, meta_labels);
    if let Some(a) = alb_health_check(ctx, s) {
        meta.insert("annotations", a);
    }
    map! {
        "apiVersion" => "v1",
        "kind" => "Service",
        "metadata" => meta,
        "spec" => map! {
            "type" => "ClusterIP",
            "selector" => selector,
            "ports" => vec![map! {
                "name" => "http",
                "port" => s.service_port(),
                "targetPort" => s.bp.port.unwrap_or_default(),
                "protocol" => "TCP",
            }],
        },
    }
}

/// An ALB of Ingress class `alb` checks each routed Service's pods itself (IP targets), by
/// default with `GET /` on the traffic port, which an application need not answer with 200:
/// every target would be unhealthy. The AWS Load Balancer Controller reads its health-check
/// and target-group annotations from the backend Service too (a Service's win over the
/// Ingress's), so the Service carries them: the blueprint's `load_balancer.health_check`
/// when given — path, interval, timeout, thresholds and matcher, as ECS's target groups take
/// it — else the pod's HTTP readiness (else liveness) probe; and the deregistration delay.
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#health-check>
fn alb_health_check<'c>(ctx: &'c Ctx, s: &'c Workload) -> Option<Map<'c>> {
    if !s.routed || super::ingress::class(ctx) != "alb" {
        return None;
    }
    const P: &str = "alb.ingress.kubernetes.io";
    let lb = ctx.bp.load_balancer.as_ref();
    let mut a = Map::new();
    if let Some(h) = lb.and_then(|lb| lb.health_check.as_ref()) {
        a.insert(format!("{P}/healthcheck-path"), h.path.as_str());
        // ECS's target-group defaults (aws/edge.rs) where the blueprint gives none, so the
        // figures semantic/ecs.rs judged (a timeout below the interval) are the ones the ALB
        // gets: the controller's own interval default is 15 s, not 30.
        let counts = [
            ("healthcheck-interval-seconds", h.interval.unwrap_or(30)),
            ("healthcheck-timeout-seconds", h.timeout.unwrap_or(5)),
            ("healthy-threshold-count", h.healthy_threshold.unwrap_or(2)),
            (
                "unhealthy-threshold-count",
                h.unhealthy_threshold.unwrap_or(3),
            ),
        ];
        for (key, n) in counts {
            a.insert(format!("{P}/{key}"), n.to_string());
        }
        a.insert(
            format!("{P}/success-codes"),
            h.matcher.as_deref().unwrap_or("200"),
        );
    } else {
        let probes = &s.bp.probes;
        let probe = [&probes.readiness, &probes.liveness]
            .into_iter()
            .flatten()
            .find(|p| p.path.is_some());
        if let Some(probe) = probe {
            a.insert(format!("{P}/healthcheck-path"), probe.path.as_deref()?);
            if let Some(port) = probe.port
                && Some(port) != s.bp.port
            {
                a.insert(format!("{P}/healthcheck-port"), port.to_string());
            }
        }
    }
    if let Some(d) = lb.and_then(|lb| lb.deregistration_delay) {
        a.insert(
            format!("{P}/target-group-attributes"),
            format!("deregistration_delay.timeout_seconds={d}"),
        );
    }
    (!a.is_empty()).then_some(a)
}

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, docs: &mut Vec<Map<'c>>) {
    // A worker without a port serves nothing: a Service would select it for no traffic.
    if s.bp.port.is_none() {
        return;
    }
    let app = map! {"app" => s.name()};
    match s.strategy() {
        Strategy::Rolling | Strategy::Recreate => docs.push(service(ctx, s, &s.service_name, app)),
        Strategy::BlueGreen => {
            docs.push(service(ctx, s, &s.service_name, app.with("color", live(s))))
        }
        Strategy::Canary if canary_at_ingress(ctx, s) => {
            docs.push(service(
                ctx,
                s,
                &s.service_name,
                app.clone().with("track", "stable"),
            ));
            docs.push(service(
                ctx,
                s,
                canary_service(s),
                app.with("track", "canary"),
            ));
        }
        Strategy::Canary => docs.push(service(ctx, s, &s.service_name, app)),
    }
}
