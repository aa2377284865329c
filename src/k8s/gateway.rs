//! The Gateway API path (`ingress.gateway`), the successor of the retired ingress-nginx:
//! instead of an Ingress, `k8s/cluster/gatewayclass.yaml` holds the `GatewayClass` handled
//! by Envoy Gateway's controller (with `kubernetes.ingress_controller.replicas`/`resources`,
//! its `parametersRef` to an `EnvoyProxy` in `k8s/envoy-gateway-system/envoy-proxy.yaml`
//! sizing the proxies), and `k8s/<namespace>/gateway.yaml`
//!
//! - one `Gateway` (in the ingress namespace, else the first routed service's): an HTTP
//!   listener on 80 and, with `ingress.tls`, one HTTPS listener on 443 per host terminating
//!   with the TLS Secret — cert-manager's Gateway support issues it from the
//!   `cert-manager.io/cluster-issuer` annotation, which needs a hostname per listener;
//!   routes attach only from the namespaces with routed services and the Gateway's own
//!   (`allowedRoutes`: `Same`, else a selector on `kubernetes.io/metadata.name`); the
//!   platform's load balancer annotations go to `spec.infrastructure.annotations`, which
//!   Envoy Gateway puts on the proxies' Service (the DigitalOcean load balancer name),
//! - where that load balancer sends PROXY protocol, a `ClientTrafficPolicy` reading it, so
//!   the proxies see the clients' addresses (`client_traffic_policy`),
//! - per namespace with routed services and per host, an `HTTPRoute` on the host's HTTPS
//!   listener, and on the HTTP one without TLS or without `ssl_redirect`: one rule per
//!   service with its paths (`Prefix` → `PathPrefix`, a regex path → `RegularExpression`),
//!   a canary split as weighted `backendRefs`, and ingress-nginx's 60-second request
//!   timeout (Envoy's is 15s),
//! - with TLS and `ssl_redirect`, an `HTTPRoute` on the HTTP listener that redirects to
//!   HTTPS (301).
//!
//! ingress-nginx's prefix-stripping rewrite (`P(/|$)(.*)` with `rewrite_target: /$2`) becomes
//! a `PathPrefix` match with a `URLRewrite` filter ([`stripped_prefix`]); the other
//! ingress-nginx annotations (`rate_limit`, `cors`, `proxy_body_size`, any other
//! `rewrite_target`, `annotations`) have no Gateway API equivalent: validation refuses them
//! beside `gateway`.

use std::collections::BTreeMap;

use super::service::canary_service;
use super::workload::{DEFAULT_CANARY_WEIGHT, canary_at_ingress};
use super::yaml::{Map, Y, map};
use super::{Ctx, Files, Workload};
use crate::blueprint::types::{IngressGateway, PathType};

/// Envoy Gateway's controller name (its GatewayClass `spec.controllerName`).
pub const ENVOY_GATEWAY_CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";
/// Where the Envoy Gateway chart runs the controller and, by default, the Envoy proxies
/// that receive the traffic (what NetworkPolicies admit).
pub const ENVOY_GATEWAY_NAMESPACE: &str = "envoy-gateway-system";
/// Rules per HTTPRoute (`spec.rules` maxItems in the Gateway API CRD).
const MAX_RULES: usize = 16;
/// The request timeout of every routed rule: ingress-nginx's default (its proxy read and
/// send timeouts are 60s), which the Gateway path replaces. Without it Envoy cuts every
/// request at its route timeout of 15 seconds ("The default request timeout is set to 15
/// seconds in Envoy Proxy", gateway.envoyproxy.io/docs/tasks/traffic/http-timeouts/), a
/// silent 504 for a report or an upload that worked behind ingress-nginx.
pub const REQUEST_TIMEOUT: &str = "60s";

/// The request timeout of a service's rules: [`REQUEST_TIMEOUT`], but none for a gRPC
/// service (`0s`, which "SHOULD disable the timeout completely", Gateway API
/// `HTTPRouteTimeouts`): Envoy's route timeout bounds the whole response, so it would cut
/// every server stream at 60 s, while gRPC calls carry deadlines of their own. None either
/// for a service that holds connections open (`idle_timeout`): an event stream or a long
/// poll is one response that never completes, cut at the route timeout however busy it is.
/// (A WebSocket is not: since Envoy 1.36 the route timeout bounds only the upgrade, and is
/// disarmed by the `101` — envoyproxy/envoy#41075 — and before it was never armed, the
/// request never ending.) Silence is bounded by Envoy's stream idle timeout instead, 5
/// minutes, which `semantic::long_lived` keeps `idle_timeout` under.
fn request_timeout(s: &Workload) -> &'static str {
    if s.bp.grpc() || s.bp.long_lived().is_some() {
        "0s"
    } else {
        REQUEST_TIMEOUT
    }
}

pub fn gateway<'c>(ctx: &Ctx<'c>) -> Option<&'c IngressGateway> {
    ctx.bp.gateway()
}

/// The Gateway's name and namespace.
pub fn gateway_ref(ctx: &Ctx) -> (String, String) {
    let ing = ctx.bp.ingress.as_ref();
    let name = ing
        .and_then(|i| i.name.clone())
        .unwrap_or_else(|| ctx.bp.name.clone());
    (name, gateway_namespace(ctx).to_string())
}

/// The Gateway's namespace: the ingress namespace, else the first routed service's, else the
/// default namespace.
pub fn gateway_namespace<'c>(ctx: &'c Ctx) -> &'c str {
    ctx.bp
        .ingress
        .as_ref()
        .and_then(|i| i.namespace.as_deref())
        .or_else(|| {
            ctx.services
                .iter()
                .find(|s| s.routed)
                .map(|s| s.namespace.as_str())
        })
        .unwrap_or(&ctx.default_namespace)
}

/// The prefix of ingress-nginx's prefix-stripping idiom, `P(/|$)(.*)` with `rewrite-target:
/// /$2`: `P/x` reaches the backend as `/x`, and `P` as `/`. The Gateway API says the same
/// with a `PathPrefix` match on P (which matches whole path elements, as `(/|$)` does) and a
/// `URLRewrite` filter replacing the matched prefix with `/`. Any other regex rewrite has no
/// equivalent (validation refuses it).
pub fn stripped_prefix<'p>(path: &'p str, rewrite_target: &str) -> Option<&'p str> {
    if rewrite_target != "/$2" {
        return None;
    }
    let p = path.strip_suffix("(/|$)(.*)")?;
    (p.len() > 1 && p.starts_with('/') && !p.ends_with('/') && !super::ingress::is_regex(p))
        .then_some(p)
}

fn path_match(path: &str, t: PathType) -> Map<'_> {
    let kind = match t {
        PathType::Exact => "Exact",
        PathType::Prefix => "PathPrefix",
        PathType::ImplementationSpecific if super::ingress::is_regex(path) => "RegularExpression",
        PathType::ImplementationSpecific => "PathPrefix",
    };
    map! {"path" => map! {"type" => kind, "value" => path}}
}

/// The Envoy proxies' size from `kubernetes.ingress_controller` (`replicas`, `resources`:
/// the edge's, whichever proxy serves it), as an `EnvoyProxy` the GatewayClass references —
/// else Envoy Gateway runs one proxy with its default resources, and the blueprint's edge
/// sizing would be dropped without a word. `replicas { min, max }` becomes the proxies' HPA
/// (Envoy Gateway then leaves the Deployment's replicas to it; setting both makes them
/// fight), with a PodDisruptionBudget keeping one proxy up through node drains when there
/// are two or more. <https://gateway.envoyproxy.io/docs/tasks/operations/customize-envoyproxy/>
///
/// Where the load balancer targets the proxies by pod IP (EKS: `Options::pod_readiness_gates`),
/// it also holds each deleted proxy up while the load balancer still sends it connections
/// (`shutdown`, see [`super::readiness_gate::PROXY_SHUTDOWN_PAUSE_SECONDS`]).
fn envoy_proxy<'c>(ctx: &'c Ctx, class: &'c str) -> Option<Map<'c>> {
    let c = ctx.platform.ingress_controller.as_ref();
    let sized = c.is_some_and(|c| c.replicas.is_some() || c.resources.is_some());
    if !sized && !ctx.opts.pod_readiness_gates {
        return None;
    }
    let mut spec = map! {"provider" => map! {"type" => "Kubernetes"}};
    if ctx.opts.pod_readiness_gates {
        // `minDrainDuration` keeps Envoy up (its listeners accepting while they drain) for
        // the pause; `drainTimeout`, which ends the drain whatever is left, must outlast it
        // and then gives in-flight requests Envoy Gateway's default 60 s. Envoy Gateway
        // derives the pod's grace period from `drainTimeout`.
        let pause = super::readiness_gate::PROXY_SHUTDOWN_PAUSE_SECONDS;
        spec.insert(
            "shutdown",
            map! {
                "minDrainDuration" => format!("{pause}s"),
                "drainTimeout" => format!("{}s", pause + ENVOY_DEFAULT_DRAIN_SECONDS),
            },
        );
    }
    let Some(c) = c.filter(|_| sized) else {
        return Some(proxy_doc(ctx, class, spec));
    };
    let mut deployment = Map::new();
    let mut kubernetes = Map::new();
    if let Some(r) = &c.replicas {
        if r.max > r.min {
            kubernetes.insert(
                "envoyHpa",
                map! {"minReplicas" => r.min, "maxReplicas" => r.max},
            );
        } else {
            deployment.insert("replicas", r.min);
        }
        if r.min >= 2 {
            kubernetes.insert("envoyPDB", map! {"minAvailable" => 1u32});
        }
    }
    if c.resources.is_some() {
        deployment.insert(
            "container",
            map! {"resources" => super::workload::resources(c.resources.as_ref())},
        );
    }
    if !deployment.is_empty() {
        kubernetes.insert("envoyDeployment", deployment);
    }
    spec.insert(
        "provider",
        map! {"type" => "Kubernetes", "kubernetes" => kubernetes},
    );
    Some(proxy_doc(ctx, class, spec))
}

/// Envoy Gateway's default `shutdown.drainTimeout`
/// (<https://gateway.envoyproxy.io/docs/tasks/operations/graceful-shutdown/>).
const ENVOY_DEFAULT_DRAIN_SECONDS: u32 = 60;

fn proxy_doc<'c>(ctx: &'c Ctx, class: &'c str, spec: Map<'c>) -> Map<'c> {
    map! {
        "apiVersion" => "gateway.envoyproxy.io/v1alpha1",
        "kind" => "EnvoyProxy",
        "metadata" => ctx.meta(class, ENVOY_GATEWAY_NAMESPACE, Map::new()),
        "spec" => spec,
    }
}

/// The Gateway's `ClientTrafficPolicy` where its load balancer prepends a PROXY protocol
/// header (`Options::gateway_proxy_protocol`: EKS's NLB, DigitalOcean's load balancer):
/// both are proxies at the TCP level, so without it the Envoy proxies see the load
/// balancer's addresses, and so do their access log and the X-Forwarded-For they hand the
/// services — every client one address. With `proxyProtocol` Envoy takes the client's
/// address from the header and appends that to X-Forwarded-For ("the Proxy Protocol header
/// will be interpreted and the Client Address will be added into the X-Forwarded-For
/// header", Envoy Gateway API `ProxyProtocolSettings`, from v1.5, which deprecated
/// `enableProxyProtocol`).
///
/// `optional: true` also takes a connection that carries no header (Envoy's
/// `allow_requests_without_proxy_protocol`), whose address is then its own: an in-cluster
/// request to the load balancer's address — cert-manager's HTTP-01 self-check of the
/// public host — is short-cut to the proxies by kube-proxy on DOKS and never gets a header;
/// with the header required it would be closed, and no certificate issued. Nor does the
/// moment between the load balancer's change and the policy's break requests. It makes no
/// address easier to forge: a client that reaches the proxies other than through the load
/// balancer can write a header of its choosing whether one is required or not. No
/// `clientIPDetection`: no HTTP proxy stands in front of Envoy (the ALB is refused beside
/// `ingress.gateway` on EKS), so the X-Forwarded-For a request arrives with is the
/// client's own writing and trusting any hop of it would let a client choose its address.
/// <https://gateway.envoyproxy.io/docs/api/extension_types/#proxyprotocolsettings>
fn client_traffic_policy<'c>(ctx: &'c Ctx, gateway: &str, namespace: &str) -> Map<'c> {
    map! {
        "apiVersion" => "gateway.envoyproxy.io/v1alpha1",
        "kind" => "ClientTrafficPolicy",
        "metadata" => ctx.meta(gateway.to_string(), namespace.to_string(), Map::new()),
        "spec" => map! {
            "targetRefs" => vec![map! {
                "group" => "gateway.networking.k8s.io",
                "kind" => "Gateway",
                "name" => gateway.to_string(),
            }],
            "proxyProtocol" => map! {"optional" => true},
        },
    }
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>, gw: &'c IngressGateway) {
    let Some(ing) = ctx.bp.ingress.as_ref() else {
        return;
    };
    let (name, gw_ns) = gateway_ref(ctx);
    let mut class_spec = map! {"controllerName" => ENVOY_GATEWAY_CONTROLLER};
    if let Some(proxy) = envoy_proxy(ctx, &gw.class) {
        class_spec.insert(
            "parametersRef",
            map! {
                "group" => "gateway.envoyproxy.io",
                "kind" => "EnvoyProxy",
                "name" => gw.class.as_str(),
                "namespace" => ENVOY_GATEWAY_NAMESPACE,
            },
        );
        files
            .at(&ctx.path(ENVOY_GATEWAY_NAMESPACE, "envoy-proxy"))
            .push(proxy);
    }
    // Cluster-scoped, beside the ClusterIssuers.
    files.at("k8s/cluster/gatewayclass.yaml").push(map! {
        "apiVersion" => "gateway.networking.k8s.io/v1",
        "kind" => "GatewayClass",
        "metadata" => ctx.cluster_meta(&gw.class),
        "spec" => class_spec,
    });
    let docs = files.at(&ctx.path(&gw_ns, "gateway"));

    // Routes attach from the namespaces infragen routes from (and the Gateway's own, where
    // cert-manager's HTTP-01 route lives) — not from every namespace, where any team's
    // HTTPRoute could claim these hosts' paths and take their traffic.
    let mut route_namespaces: Vec<String> = ctx
        .services
        .iter()
        .filter(|s| s.routed)
        .map(|s| s.namespace.clone())
        .chain([gw_ns.clone()])
        .collect();
    route_namespaces.sort_unstable();
    route_namespaces.dedup();
    let all = || {
        if route_namespaces == [gw_ns.clone()] {
            map! {"namespaces" => map! {"from" => "Same"}}
        } else {
            map! {"namespaces" => map! {
                "from" => "Selector",
                "selector" => map! {"matchExpressions" => vec![map! {
                    "key" => "kubernetes.io/metadata.name",
                    "operator" => "In",
                    "values" => route_namespaces.clone(),
                }]},
            }}
        }
    };
    let mut listeners = vec![map! {
        "name" => "http",
        "protocol" => "HTTP",
        "port" => 80u16,
        "allowedRoutes" => all(),
    }];
    let mut https: Vec<String> = Vec::new();
    if let Some(tls) = &ing.tls {
        for (i, host) in ing.hosts.iter().enumerate() {
            let section = format!("https-{i}");
            listeners.push(map! {
                "name" => section.clone(),
                "protocol" => "HTTPS",
                "port" => 443u16,
                "hostname" => host.as_str(),
                "tls" => map! {
                    "mode" => "Terminate",
                    "certificateRefs" => vec![map! {"kind" => "Secret", "name" => tls.secret_name.as_str()}],
                },
                "allowedRoutes" => all(),
            });
            https.push(section);
        }
    }
    let mut meta = ctx.meta(name.clone(), gw_ns.clone(), Map::new());
    if let Some(issuer) = ing.tls.as_ref().and_then(|t| t.issuer.as_ref()) {
        meta.insert(
            "annotations",
            map! {"cert-manager.io/cluster-issuer" => issuer.as_str()},
        );
    }
    let mut spec = map! {"gatewayClassName" => gw.class.as_str(), "listeners" => listeners};
    // Envoy Gateway puts these on the load balancer Service it creates for the Gateway.
    if !ctx.opts.gateway_service_annotations.is_empty() {
        spec.insert(
            "infrastructure",
            map! {"annotations" => ctx.opts.gateway_service_annotations.clone()},
        );
    }
    docs.push(map! {
        "apiVersion" => "gateway.networking.k8s.io/v1",
        "kind" => "Gateway",
        "metadata" => meta,
        "spec" => spec,
    });
    if ctx.opts.gateway_proxy_protocol {
        docs.push(client_traffic_policy(ctx, &name, &gw_ns));
    }

    let parent = |section: &str| {
        map! {
            "group" => "gateway.networking.k8s.io",
            "kind" => "Gateway",
            "name" => name.clone(),
            "namespace" => gw_ns.clone(),
            "sectionName" => section.to_string(),
        }
    };
    if ing.tls.is_some() && ing.ssl_redirect {
        docs.push(map! {
            "apiVersion" => "gateway.networking.k8s.io/v1",
            "kind" => "HTTPRoute",
            "metadata" => ctx.meta(format!("{name}-https-redirect"), gw_ns.clone(), Map::new()),
            "spec" => map! {
                "parentRefs" => vec![parent("http")],
                "hostnames" => &ing.hosts,
                "rules" => vec![map! {
                    "filters" => vec![map! {
                        "type" => "RequestRedirect",
                        "requestRedirect" => map! {"scheme" => "https", "statusCode" => 301u16},
                    }],
                }],
            },
        });
    }

    let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for s in ctx.services.iter().filter(|s| s.routed) {
        by_ns.entry(s.namespace.as_str()).or_default().push(s);
    }
    for (ns, services) in by_ns {
        for (i, host) in ing.hosts.iter().enumerate() {
            let mut rules = Vec::new();
            for s in &services {
                let mut paths: Vec<&crate::blueprint::types::Route> =
                    s.bp.routes
                        .iter()
                        .filter(|r| match &r.host {
                            Some(h) => h == host,
                            None => i == 0,
                        })
                        .collect();
                if paths.is_empty() {
                    continue;
                }
                paths.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.path.cmp(&b.path)));
                let port = s.service_port();
                let mut backends = Vec::new();
                if canary_at_ingress(ctx, s) {
                    let w = s.bp.rollout.canary_weight.unwrap_or(DEFAULT_CANARY_WEIGHT);
                    backends.push(map! {"name" => s.service_name.as_str(), "port" => port, "weight" => 100 - w.min(100)});
                    backends.push(map! {"name" => Y::from(canary_service(s)), "port" => port, "weight" => w.min(100)});
                } else {
                    backends.push(map! {"name" => s.service_name.as_str(), "port" => port});
                }
                let timeout = request_timeout(s);
                let rewrite = ing.rewrite_target.as_deref();
                if let Some(prefixes) = rewrite.and_then(|rt| {
                    paths
                        .iter()
                        .map(|r| stripped_prefix(&r.path, rt))
                        .collect::<Option<Vec<_>>>()
                }) {
                    // A URLRewrite with `ReplacePrefixMatch` takes exactly one `PathPrefix`
                    // match per rule (the HTTPRoute CRD's validation): a rule per prefix.
                    for prefix in prefixes {
                        rules.push(map! {
                            "matches" => vec![map! {"path" => map! {"type" => "PathPrefix", "value" => prefix}}],
                            "filters" => vec![map! {
                                "type" => "URLRewrite",
                                "urlRewrite" => map! {"path" => map! {"type" => "ReplacePrefixMatch", "replacePrefixMatch" => "/"}},
                            }],
                            "backendRefs" => backends.clone(),
                            "timeouts" => map! {"request" => timeout},
                        });
                    }
                    continue;
                }
                rules.push(map! {
                    "matches" => paths.iter().map(|r| path_match(&r.path, r.path_type)).collect::<Vec<_>>(),
                    "backendRefs" => backends,
                    "timeouts" => map! {"request" => timeout},
                });
            }
            if rules.is_empty() {
                continue;
            }
            // With TLS the host's HTTPS listener; plain HTTP too unless it redirects to
            // HTTPS (`ssl_redirect: false` serves both, as ingress-nginx does).
            let mut parents = Vec::new();
            if !https.is_empty() {
                parents.push(parent(&format!("https-{i}")));
            }
            if https.is_empty() || !ing.ssl_redirect {
                parents.push(parent("http"));
            }
            let route_name = if ing.hosts.len() == 1 {
                name.clone()
            } else {
                format!("{name}-{i}")
            };
            // An HTTPRoute holds at most 16 rules (the CRD's maxItems): more services make
            // more routes on the same listener.
            let mut rules = rules.into_iter().peekable();
            let mut part = 1;
            while rules.peek().is_some() {
                let chunk: Vec<_> = rules.by_ref().take(MAX_RULES).collect();
                let n = if part == 1 {
                    route_name.clone()
                } else {
                    format!("{route_name}-{part}")
                };
                files.at(&ctx.path(ns, "gateway")).push(map! {
                    "apiVersion" => "gateway.networking.k8s.io/v1",
                    "kind" => "HTTPRoute",
                    "metadata" => ctx.meta(n, ns, Map::new()),
                    "spec" => map! {
                        "parentRefs" => parents.clone(),
                        "hostnames" => vec![host.as_str()],
                        "rules" => chunk,
                    },
                });
                part += 1;
            }
        }
    }
}
