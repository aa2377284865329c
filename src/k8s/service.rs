//! The ClusterIP Service of each service (`service_name`, port `service_port` → the container
//! port). Blue/green: it selects the live colour (and behind an ALB each colour has its own
//! Service too, `blue_green`). Canary: it selects both tracks (traffic
//! splits by replica ratio) unless ingress-nginx splits it, in which case it selects the
//! stable track and `<service>-canary` selects the canary. A service with `peer_ports` also
//! gets `<service>-headless`, the DNS name its clustering replicas find each other by.

use super::workload::{canary_at_ingress, labels, live};
use super::yaml::{Map, map};
use super::{Ctx, Workload};
use crate::blueprint::types::{GRPC_HEALTH_PATH, HealthCheck, Strategy};

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
    target_service(ctx, s, name, selector, true)
}

/// A Service; `target`: whether an ALB's target group may take it as its backend, so it
/// carries the target group's health-check annotations.
fn target_service<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    name: impl Into<super::yaml::Str<'c>>,
    selector: Map<'c>,
    target: bool,
) -> Map<'c> {
    let mut meta_labels = labels(ctx, s);
    meta_labels.extend(selector.clone());
    let mut meta = ctx.meta(name, &s.namespace, meta_labels);
    if let Some(a) = alb_health_check(ctx, s).filter(|_| target) {
        meta.insert("annotations", a);
    }
    map! {
        "apiVersion" => "v1",
        "kind" => "Service",
        "metadata" => meta,
        "spec" => map! {
            "type" => "ClusterIP",
            "selector" => selector,
            "ports" => vec![port(s)],
        },
    }
}

/// The Service's port. A gRPC service's says `appProtocol: kubernetes.io/h2c` (HTTP/2 with
/// prior knowledge, Kubernetes's own application protocol name): the Gateway API's way of
/// telling a gateway to speak HTTP/2 to the backend (`HTTPRouteBackendProtocolH2C`,
/// <https://gateway-api.sigs.k8s.io/guides/backend-protocol/>), which Envoy Gateway
/// follows; without it the gateway speaks HTTP/1.1 and every gRPC call fails.
fn port<'c>(s: &'c Workload) -> Map<'c> {
    let mut port = map! {
        "name" => super::workload::port_name(s.bp),
        "port" => s.service_port(),
        "targetPort" => s.bp.port.unwrap_or_default(),
        "protocol" => "TCP",
    };
    if s.bp.grpc() {
        port.insert("appProtocol", H2C);
    }
    port
}

/// Kubernetes's application protocol name for HTTP/2 over cleartext.
pub(crate) const H2C: &str = "kubernetes.io/h2c";

/// An ALB of Ingress class `alb` checks each routed Service's pods itself (IP targets), by
/// default with `GET /` on the traffic port, which an application need not answer with 200:
/// every target would be unhealthy. The AWS Load Balancer Controller reads its health-check
/// and target-group annotations from the backend Service too (a Service's win over the
/// Ingress's), so the Service carries them: the blueprint's `load_balancer.health_check`
/// when given — path, interval, timeout, thresholds and matcher, as ECS's target groups take
/// it — else the pod's HTTP readiness (else liveness) probe; and the deregistration delay.
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#health-check>
///
/// The internal ALB (`internal_routes`, [`super::Options::internal_load_balancer`]) targets
/// its services' pods the same way, whatever class the public edge has.
fn alb_health_check<'c>(ctx: &'c Ctx, s: &'c Workload) -> Option<Map<'c>> {
    if !ip_target(ctx, s) {
        return None;
    }
    const P: &str = "alb.ingress.kubernetes.io";
    let lb = ctx.bp.load_balancer.as_ref();
    let mut a = Map::new();
    if s.bp.grpc() {
        // A gRPC target group (HTTP/2 to the pods, gRPC health checks); its checks call the
        // standard health service and count only gRPC status 0 (OK) as healthy, where the
        // controller's defaults are `/AWS.ALB/healthcheck` and 12 (Unimplemented), which
        // any gRPC server answers whether it serves or not.
        // <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#backend-protocol-version>
        a.insert(format!("{P}/backend-protocol-version"), "GRPC");
        a.insert(format!("{P}/healthcheck-path"), GRPC_HEALTH_PATH);
        a.insert(format!("{P}/success-codes"), "0");
        if let Some(h) = lb.and_then(|lb| lb.health_check.as_ref()) {
            for (key, n) in health_counts(h) {
                a.insert(format!("{P}/{key}"), n.to_string());
            }
        }
    } else if let Some(h) = lb.and_then(|lb| lb.health_check.as_ref()) {
        a.insert(format!("{P}/healthcheck-path"), h.path.as_str());
        for (key, n) in health_counts(h) {
            a.insert(format!("{P}/{key}"), n.to_string());
        }
        a.insert(
            format!("{P}/success-codes"),
            h.matcher.as_deref().unwrap_or("200"),
        );
    } else {
        if let Some((_, probe)) = s.bp.alb_probe(false) {
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

/// Whether the pods of `s` are IP targets of a load balancer the AWS Load Balancer
/// Controller reconciles: a routed service behind an Ingress of class `alb`, or an internal
/// one behind the internal ALB (`internal_ingress`). Jobs' pods and workers without a port
/// back no Service.
pub(crate) fn ip_target(ctx: &Ctx, s: &Workload) -> bool {
    let internal_alb = s.internal
        && ctx
            .opts
            .internal_load_balancer
            .as_ref()
            .is_some_and(|l| l.class == "alb");
    s.job.is_none()
        && s.bp.port.is_some()
        && (internal_alb || (s.routed && super::ingress::class(ctx) == "alb"))
}

/// Whether a blue/green service gets a Service per colour, for the ALB's weighted forward
/// action (`blue_green`): its pods are IP targets of an ALB (see [`ip_target`]).
pub(crate) fn colour_services(ctx: &Ctx, s: &Workload) -> bool {
    s.strategy() == Strategy::BlueGreen && ip_target(ctx, s)
}

/// The health check's timings, ECS's target-group defaults (aws/edge.rs) where the
/// blueprint gives none, so the figures semantic/ecs.rs judged (a timeout below the
/// interval) are the ones the ALB gets: the controller's own interval default is 15 s, not
/// 30.
fn health_counts(h: &HealthCheck) -> [(&'static str, u32); 4] {
    [
        ("healthcheck-interval-seconds", h.interval.unwrap_or(30)),
        ("healthcheck-timeout-seconds", h.timeout.unwrap_or(5)),
        ("healthy-threshold-count", h.healthy_threshold.unwrap_or(2)),
        (
            "unhealthy-threshold-count",
            h.unhealthy_threshold.unwrap_or(3),
        ),
    ]
}

/// Name of the headless Service that resolves to every pod of a service with `peer_ports`.
pub(crate) fn peers_service(s: &Workload) -> String {
    format!("{}-headless", s.service_name)
}

/// The headless Service of a service whose replicas cluster (`peer_ports`): no cluster IP,
/// so its DNS name resolves to the pods' own addresses, which is what libcluster's
/// `Cluster.Strategy.Kubernetes.DNS` (and Akka's, Hazelcast's DNS discovery) look up; a
/// ClusterIP Service would give one virtual address and the nodes would never meet.
/// `publishNotReadyAddresses`: a starting node must find its peers before it reports ready
/// (its readiness may wait on the cluster), and the peers connect to each other on these
/// ports, not through a load-balanced port. Every pod of the service, whatever its colour or
/// track: they are one cluster.
/// <https://kubernetes.io/docs/concepts/services-networking/service/#headless-services>,
/// <https://hexdocs.pm/libcluster/Cluster.Strategy.Kubernetes.DNS.html>
fn peers<'c>(ctx: &'c Ctx, s: &'c Workload) -> Option<Map<'c>> {
    if s.bp.peer_ports.is_empty() {
        return None;
    }
    let ports: Vec<Map> =
        s.bp.peer_ports
            .iter()
            .map(|&p| {
                map! {
                    "name" => format!("peer-{p}"),
                    "port" => p,
                    "targetPort" => p,
                    "protocol" => "TCP",
                }
            })
            .collect();
    Some(map! {
        "apiVersion" => "v1",
        "kind" => "Service",
        "metadata" => ctx.meta(peers_service(s), &s.namespace, labels(ctx, s)),
        "spec" => map! {
            "clusterIP" => "None",
            "publishNotReadyAddresses" => true,
            "selector" => map! {"app" => s.name()},
            "ports" => ports,
        },
    })
}

pub fn lower<'c>(ctx: &'c Ctx, s: &'c Workload, docs: &mut Vec<Map<'c>>) {
    docs.extend(peers(ctx, s));
    // A worker without a port serves nothing: a Service would select it for no traffic.
    if s.bp.port.is_none() {
        return;
    }
    let app = map! {"app" => s.name()};
    match s.strategy() {
        Strategy::Rolling | Strategy::Recreate => docs.push(service(ctx, s, &s.service_name, app)),
        // Behind an ALB with IP targets the ALB routes through both colours' own Services
        // (`blue_green`); the plain one, for in-cluster callers, backs no target group.
        Strategy::BlueGreen if colour_services(ctx, s) => {
            docs.push(target_service(
                ctx,
                s,
                &s.service_name,
                app.clone().with("color", live(s)),
                false,
            ));
            for c in ["blue", "green"] {
                docs.push(service(
                    ctx,
                    s,
                    super::blue_green::colour_service(s, c),
                    app.clone().with("color", c),
                ));
            }
        }
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
