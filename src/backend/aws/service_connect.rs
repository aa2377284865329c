//! ECS services reaching the services they `use`, through ECS Service Connect.
//!
//! On Kubernetes a service finds another by its Service's DNS name; ECS tasks have no such
//! name. Service Connect gives them one: every service another one uses (a client-server
//! service) is published in a Cloud Map HTTP namespace under its own name, on its container
//! port (the task definition's port mapping, named so the configuration can point at it),
//! and the tasks of every service that uses one (a client) get a proxy that answers
//! `http://<name>:<port>` by balancing over the server's healthy tasks.
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html>
//!
//! - The proxy listens on the server's container port, so the server's security group admits
//!   each client's on that port, and the client's lets it out (the tasks' groups admit only
//!   the load balancer otherwise).
//! - A task learns the endpoints that exist when it starts ("Existing tasks can't resolve and
//!   connect to the new endpoint"), so a client is created after the services it uses
//!   (`depends_on`, as the guide says for CloudFormation's `DependsOn`); services that use
//!   each other in a cycle cannot be ordered and are refused (`semantic::ecs`), as are jobs
//!   using services: a scheduled task started by `RunTask` has no Service Connect.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::security;
use crate::blueprint::types::Service;
use crate::terraform::{Module, ident, res};

/// The namespace the services are published in.
pub fn namespace() -> crate::terraform::Ref {
    res("aws_service_discovery_http_namespace", "services")
}

/// Whether another workload uses `s` (so it is published), from the analysis's index of who
/// uses what (a job using a service is refused on ECS, so its users are services).
pub fn is_server(ctx: &Ctx, s: &Service) -> bool {
    !ctx.users_of(&s.name).is_empty()
}

/// The name of the port mapping a server publishes (the task definition's and the service
/// configuration's must match).
pub fn port_name(s: &Service) -> String {
    // Port names: letters, digits, `-` and `_`, at most 64; service names are DNS labels.
    s.name.clone()
}

/// The proxy's timeouts for a gRPC server (its port mapping says `appProtocol: grpc`,
/// `ecs::port_mappings`). For an HTTP or gRPC application protocol the proxy cuts a request
/// whose response is not complete after `perRequestTimeout`, 15 s by default, and a
/// connection idle for 5 minutes (1 hour for TCP, what an HTTP service's unnamed protocol
/// gets). A server stream or a long call would be cut at 15 s, so the per-request timeout is
/// off (`0`; gRPC calls carry deadlines of their own, as on the Gateway API, `k8s::gateway`)
/// and the idle timeout is TCP's hour, as behind ingress-nginx (`k8s::ingress`).
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html>
fn grpc_timeouts() -> Json {
    json!({"idle_timeout_seconds": TCP_IDLE, "per_request_timeout_seconds": 0})
}

/// Service Connect's idle timeout of a TCP port mapping, 1 hour.
const TCP_IDLE: u32 = 3600;

/// The proxy's timeouts for a service that holds connections open (`idle_timeout`): the
/// idle timeout at least that long. An HTTP service's port mapping names no `appProtocol`,
/// so the proxy relays TCP: no per-request timeout applies (the API accepts only
/// `idleTimeout` for TCP) and a WebSocket or an event stream lives while it is not silent
/// for the idle timeout, 1 hour unless raised here. A gRPC service keeps
/// [`grpc_timeouts`]'s per-request `0`.
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html>
fn timeouts(s: &Service) -> Option<Json> {
    let idle = s.long_lived().map(|t| t.max(TCP_IDLE));
    match (s.grpc(), idle) {
        (true, None) => Some(grpc_timeouts()),
        (true, Some(t)) => {
            Some(json!({"idle_timeout_seconds": t, "per_request_timeout_seconds": 0}))
        }
        (false, Some(t)) => Some(json!({"idle_timeout_seconds": t})),
        (false, None) => None,
    }
}

/// The namespace, when any service is used by another.
pub fn declare(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    if !bp.services.iter().any(|s| is_server(ctx, s)) {
        return;
    }
    let name = ctx.cluster_name();
    m.file("ecs").resource(
        &namespace(),
        json!({
            "name": &name,
            "description": format!("ECS Service Connect: the services of cluster {name} that others use"),
            "tags": {"Name": &name},
        }),
    );
}

/// The service's Service Connect configuration (when it publishes or uses a service), the
/// services it uses (`servers`) it must be created after, and its security group rules
/// towards them.
pub fn configure(
    ctx: &Ctx,
    m: &mut Module,
    s: &Service,
    servers: &[&Service],
    body: &mut Json,
    depends: &mut Vec<String>,
) {
    let server = is_server(ctx, s);
    if servers.is_empty() && !server {
        return;
    }
    let mut config = json!({"enabled": true, "namespace": namespace().arn()});
    if let (true, Some(port)) = (server, s.port) {
        let mut published = json!({
            "port_name": port_name(s),
            "discovery_name": &s.name,
            "client_alias": [{"port": port, "dns_name": &s.name}],
        });
        if let Some(t) = timeouts(s) {
            published["timeout"] = json!([t]);
        }
        config["service"] = json!([published]);
    }
    body["service_connect_configuration"] = config;
    let n = ident(&s.name);
    let own = security::service_sg(&s.name);
    for &t in servers {
        let Some(port) = t.port else { continue };
        depends.push(super::ecs::service(&t.name).address());
        let target = security::service_sg(&t.name);
        let tn = ident(&t.name);
        let out = security::peer_rule(
            true,
            &format!("{n}_to_{tn}"),
            own.id(),
            target.id(),
            port,
            format!(
                "{} tasks to service {} on {port} (Service Connect)",
                s.name, t.name
            ),
        );
        let into = security::peer_rule(
            false,
            &format!("{tn}_from_service_{n}"),
            target.id(),
            own.id(),
            port,
            format!(
                "Service {} to {} tasks on {port} (Service Connect)",
                s.name, t.name
            ),
        );
        for (rule, body) in [out, into] {
            m.file("ecs").resource(&rule, body);
        }
    }
}
