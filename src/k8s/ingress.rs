//! The Ingress (`k8s/<namespace>/ingress.yaml`): `spec.ingressClassName`, TLS for every host
//! with the cert-manager issuer annotation, one rule per host with the routed services'
//! paths sorted longest first, and the controller's annotations.
//!
//! ingress-nginx annotations: `ssl-redirect`, `proxy-body-size`, CORS, `use-regex` with
//! `rewrite-target`, and the rate limit. The blueprint's `rate_limit { requests, window }`
//! becomes ingress-nginx's `limit-rpm` (requests per minute per client IP) — or `limit-rps`
//! for a one-second window — scaled to the window and rounded up (100 per `1m` → `limit-rpm:
//! "100"`; 1000 per `5m` → `"200"`). ingress-nginx has no `rate-limit`/`rate-limit-window`
//! annotations; seeds that use those names mean this.
//!
//! An Ingress routes only to Services in its own namespace, so routed services in several
//! namespaces get one Ingress each (same name). A canary split at the controller gets its own
//! canary Ingress (`nginx.ingress.kubernetes.io/canary-weight`).

use std::collections::BTreeMap;

use super::blue_green;
use super::service::canary_service;
use super::workload::{DEFAULT_CANARY_WEIGHT, canary_at_ingress};
use super::yaml::{Map, Str, Y, map};
use super::{Ctx, Files, Workload};
use crate::blueprint::types::{Blueprint, IngressClass, PathType, Strategy};

const NGINX: &str = "nginx.ingress.kubernetes.io";

pub fn enabled(bp: &Blueprint) -> bool {
    bp.ingress.as_ref().is_some_and(|i| i.enabled)
}

/// The ingress class: the platform's, else the blueprint's.
pub fn class<'c>(ctx: &Ctx<'c>) -> &'c str {
    if let Some(c) = &ctx.opts.ingress_class {
        return c;
    }
    match ctx.bp.ingress.as_ref().map(|i| i.class) {
        Some(IngressClass::Alb) => "alb",
        _ => "nginx",
    }
}

/// Seconds in a window such as `1s`, `1m`, `5m`, `1h` (a bare number is seconds).
pub fn window_seconds(w: &str) -> Option<u64> {
    let w = w.trim();
    let (num, unit) = match w.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => w.split_at(i),
        None => (w, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return None,
    };
    (n > 0).then_some(n * scale)
}

/// The ingress-nginx rate-limit annotation for `requests` per `window`.
pub fn rate_limit(requests: u32, window: &str) -> Option<(&'static str, u64)> {
    let secs = window_seconds(window)?;
    let r = u64::from(requests);
    if secs == 1 {
        return Some(("limit-rps", r));
    }
    Some(("limit-rpm", (r * 60).div_ceil(secs).max(1)))
}

pub(crate) fn is_regex(path: &str) -> bool {
    path.contains([
        '(', ')', '[', ']', '$', '^', '*', '+', '?', '|', '{', '}', '\\',
    ])
}

fn path_type(p: PathType) -> &'static str {
    match p {
        PathType::Prefix => "Prefix",
        PathType::Exact => "Exact",
        PathType::ImplementationSpecific => "ImplementationSpecific",
    }
}

/// Host rules for `services`, each backed by `backend(service)`.
fn rules<'c>(
    hosts: &'c [String],
    services: &[&'c Workload],
    backend: impl Fn(&'c Workload) -> Map<'c>,
) -> Vec<Map<'c>> {
    let mut out = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let mut paths: Vec<(&str, Map)> = Vec::new();
        for s in services {
            for r in &s.bp.routes {
                let here = match &r.host {
                    Some(h) => h == host,
                    None => i == 0,
                };
                if !here {
                    continue;
                }
                paths.push((
                    r.path.as_str(),
                    map! {
                        "path" => r.path.as_str(),
                        "pathType" => path_type(r.path_type),
                        "backend" => map! {"service" => backend(s)},
                    },
                ));
            }
        }
        if paths.is_empty() {
            continue;
        }
        paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        out.push(map! {
            "host" => host.as_str(),
            "http" => map! {"paths" => paths.into_iter().map(|(_, m)| m).collect::<Vec<_>>()},
        });
    }
    out
}

/// An Ingress path backend: a Service and its port number.
fn service_backend<'c>(name: Str<'c>, port: u16) -> Map<'c> {
    map! {"name" => Y::Str(name), "port" => map! {"number" => port}}
}

const ALB: &str = "alb.ingress.kubernetes.io";

/// Routes in several namespaces make one Ingress per namespace, and the AWS Load Balancer
/// Controller makes one ALB per Ingress unless they share an IngressGroup: two ALBs of one
/// `load-balancer-name` (the second refused as a duplicate name), the hosts split between
/// them. The group, named after the load balancer, makes them one ALB, their identical
/// annotations agreeing
/// (<https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#ingressgroup>).
/// A single Ingress keeps its implicit group: moving it into a named one would make the
/// controller replace its ALB (a new DNS name).
fn group_name(ctx: &Ctx, annotations: &BTreeMap<String, String>) -> String {
    annotations
        .get(&format!("{ALB}/load-balancer-name"))
        .map_or(ctx.bp.name.as_str(), String::as_str)
        .to_ascii_lowercase()
}

/// Where one namespace's Ingress goes among the Ingresses of the ALB's IngressGroup
/// ([`group_name`]). The controller evaluates the group's
/// rules by `group.order` (smaller first), then by the Ingresses' namespace/name, then in
/// each Ingress's order (longest path first, above): a catch-all `/` in namespace `app`
/// would take `/console` of namespace `ops` when sorted first. The Ingress whose shortest
/// path is longer goes first, so a prefix never shadows a longer path routed elsewhere
/// (<https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#group.order>).
pub(super) fn group_order(services: &[&Workload]) -> String {
    let shortest = services
        .iter()
        .flat_map(|s| &s.bp.routes)
        .map(|r| r.path.len())
        .min()
        .unwrap_or(0);
    // -1000 is the first place the controller accepts.
    (-(shortest.min(1000) as i64)).to_string()
}

/// The annotations of the Ingress of gRPC services on ingress-nginx: `backend-protocol:
/// GRPC` (nginx's `grpc_pass`, HTTP/2 to the pods), which ingress-nginx reads per Ingress,
/// so HTTP services sharing it would be spoken to in gRPC; and an hour of silence before a
/// stream is cut where nginx's default is 60 s: ingress-nginx writes `proxy-read-timeout`
/// and `proxy-send-timeout` as `grpc_read_timeout` and `grpc_send_timeout` for a gRPC
/// backend (kubernetes/ingress-nginx#11258, cited in #12434), so a server stream idle
/// between messages lives on. Clients reach it over TLS only: nginx speaks HTTP/2 on its
/// TLS port, which `semantic::grpc` requires.
/// <https://kubernetes.github.io/ingress-nginx/examples/grpc/>
/// <https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol>
fn grpc_annotations() -> [(String, String); 3] {
    [
        (format!("{NGINX}/backend-protocol"), "GRPC".into()),
        (
            format!("{NGINX}/proxy-read-timeout"),
            GRPC_STREAM_IDLE.into(),
        ),
        (
            format!("{NGINX}/proxy-send-timeout"),
            GRPC_STREAM_IDLE.into(),
        ),
    ]
}

/// Seconds a gRPC stream may stay silent behind ingress-nginx.
const GRPC_STREAM_IDLE: &str = "3600";

/// The proxy timeouts of the Ingress of a service that holds connections open
/// (`idle_timeout`): nginx closes a proxied connection when nothing is read from, or written
/// to, the pod for `proxy-read-timeout` / `proxy-send-timeout` (60 s by default; "between
/// two successive read operations", not for the whole response), which cuts a WebSocket or
/// an event stream silent for a minute. They are raised to the service's `idle_timeout`
/// (never below nginx's default, nor a gRPC service's hour). Written last, they win over the
/// same keys in `ingress.annotations`.
/// <https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts>
/// <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout>
fn long_lived(s: &Workload) -> [(String, String); 2] {
    let floor = if s.bp.grpc() { 3600 } else { 60 };
    let t = s.bp.long_lived().unwrap_or(floor).max(floor).to_string();
    [
        (format!("{NGINX}/proxy-read-timeout"), t.clone()),
        (format!("{NGINX}/proxy-send-timeout"), t),
    ]
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    let Some(ing) = ctx.bp.ingress.as_ref().filter(|i| i.enabled) else {
        return;
    };
    if let Some(gw) = &ing.gateway {
        return super::gateway::lower(ctx, files, gw);
    }
    let class = class(ctx);
    let name = ing.name.as_deref().unwrap_or(&ctx.bp.name);
    let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for s in ctx.services.iter().filter(|s| s.routed) {
        by_ns.entry(s.namespace.as_str()).or_default().push(s);
    }

    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    if let Some(tls) = &ing.tls
        && let Some(issuer) = &tls.issuer
    {
        annotations.insert("cert-manager.io/cluster-issuer".into(), issuer.clone());
    }
    if class == "nginx" {
        let mut nginx = |k: &str, v: String| annotations.insert(format!("{NGINX}/{k}"), v);
        if ing.tls.is_some() {
            nginx("ssl-redirect", ing.ssl_redirect.to_string());
        }
        if let Some(rl) = &ing.rate_limit
            && let Some((key, value)) = rate_limit(rl.requests, &rl.window)
        {
            nginx(key, value.to_string());
        }
        if let Some(size) = &ing.proxy_body_size {
            nginx("proxy-body-size", size.clone());
        }
        if let Some(cors) = &ing.cors {
            nginx("enable-cors", "true".into());
            nginx("cors-allow-origin", cors.allow_origin.clone());
            if let Some(m) = &cors.allow_methods {
                nginx("cors-allow-methods", m.clone());
            }
        }
        let regex = ctx
            .services
            .iter()
            .filter(|s| s.routed)
            .flat_map(|s| &s.bp.routes)
            .any(|r| is_regex(&r.path));
        if regex || ing.rewrite_target.is_some() {
            nginx("use-regex", "true".into());
        }
        if let Some(t) = &ing.rewrite_target {
            nginx("rewrite-target", t.clone());
        }
    }
    annotations.extend(ctx.opts.ingress_annotations.clone());
    annotations.extend(ing.annotations.clone());

    let several = by_ns.len() > 1;
    for (ns, services) in by_ns {
        let docs = files.at(&ctx.path(ns, "ingress"));
        // ingress-nginx takes the backend protocol per Ingress: gRPC services get an
        // Ingress of their own (see `grpc_annotations`). The ALB takes it per target group,
        // from each Service (`service::alb_health_check`).
        // ingress-nginx takes its proxy timeouts per Ingress too: a service that holds
        // connections open (`idle_timeout`) gets an Ingress of its own (`long_lived`), so
        // the services beside it keep nginx's 60 s.
        let (own, shared): (Vec<&Workload>, Vec<&Workload>) = services
            .iter()
            .partition(|s| class == "nginx" && s.bp.long_lived().is_some());
        let (grpc, http): (Vec<&Workload>, Vec<&Workload>) = shared
            .into_iter()
            .partition(|s| class == "nginx" && s.bp.grpc());
        let mut ingresses = Vec::new();
        if !http.is_empty() {
            ingresses.push((Str::Borrowed(name), http, annotations.clone()));
        }
        if !grpc.is_empty() {
            let mut annotations = annotations.clone();
            if !ingresses.is_empty() {
                // One Ingress asks cert-manager for the hosts' certificate: its
                // ingress-shim names the Certificate after the Secret and refuses to
                // update one another Ingress owns.
                annotations.remove("cert-manager.io/cluster-issuer");
            }
            annotations.extend(grpc_annotations());
            ingresses.push((format!("{name}-grpc").into(), grpc, annotations));
        }
        for s in own {
            let mut annotations = annotations.clone();
            if !ingresses.is_empty() {
                annotations.remove("cert-manager.io/cluster-issuer");
            }
            if s.bp.grpc() {
                annotations.extend(grpc_annotations());
            }
            annotations.extend(long_lived(s));
            ingresses.push((format!("{name}-{}", s.name()).into(), vec![s], annotations));
        }
        for (name, routed, mut annotations) in ingresses {
            let mut spec = map! {"ingressClassName" => class};
            if let Some(tls) = &ing.tls {
                spec.insert(
                    "tls",
                    vec![map! {"hosts" => &ing.hosts, "secretName" => tls.secret_name.as_str()}],
                );
            }
            // A blue/green service behind the ALB is routed through its weighted forward
            // action over both colours' Services (`blue_green`).
            let weighted = |s: &Workload| class == "alb" && s.strategy() == Strategy::BlueGreen;
            for s in routed.iter().filter(|s| weighted(s)) {
                let (key, action) = blue_green::action_annotation(s);
                annotations.insert(key, action);
            }
            spec.insert(
                "rules",
                rules(&ing.hosts, &routed, |s| {
                    if weighted(s) {
                        blue_green::backend(s)
                    } else {
                        service_backend(s.service_name.as_str().into(), s.service_port())
                    }
                }),
            );
            let mut meta = ctx.meta(name, ns, Map::new());
            if class == "alb" && several {
                let group = group_name(ctx, &annotations);
                annotations.insert(format!("{ALB}/group.name"), group);
                annotations.insert(format!("{ALB}/group.order"), group_order(&routed));
            }
            if !annotations.is_empty() {
                meta.insert("annotations", annotations);
            }
            docs.push(map! {
                "apiVersion" => "networking.k8s.io/v1",
                "kind" => "Ingress",
                "metadata" => meta,
                "spec" => spec,
            });
        }

        // ingress-nginx reads only the canary annotations (and session affinity) from a
        // canary Ingress; TLS and the rest come from the main one.
        for s in services.iter().filter(|s| canary_at_ingress(ctx, s)) {
            let weight = s.bp.rollout.canary_weight.unwrap_or(DEFAULT_CANARY_WEIGHT);
            let meta = ctx
                .meta(format!("{}-canary", s.name()), ns, Map::new())
                .with(
                    "annotations",
                    map! {
                        format!("{NGINX}/canary") => "true",
                        format!("{NGINX}/canary-weight") => weight.to_string(),
                    },
                );
            docs.push(map! {
                "apiVersion" => "networking.k8s.io/v1",
                "kind" => "Ingress",
                "metadata" => meta,
                "spec" => map! {
                    "ingressClassName" => class,
                    "rules" => rules(&ing.hosts, &[*s], |s| service_backend(canary_service(s).into(), s.service_port())),
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_map_to_ingress_nginx() {
        assert_eq!(rate_limit(100, "1m"), Some(("limit-rpm", 100)));
        assert_eq!(rate_limit(1000, "1m"), Some(("limit-rpm", 1000)));
        assert_eq!(rate_limit(1000, "5m"), Some(("limit-rpm", 200)));
        assert_eq!(rate_limit(10, "1s"), Some(("limit-rps", 10)));
        assert_eq!(rate_limit(7, "1h"), Some(("limit-rpm", 1)));
        assert_eq!(rate_limit(5, "1"), Some(("limit-rps", 5)));
        assert_eq!(rate_limit(5, "1d"), None);
        assert_eq!(window_seconds("90s"), Some(90));
    }

    #[test]
    fn regex_paths() {
        assert!(is_regex("/api(/|$)(.*)"));
        assert!(!is_regex("/api/v1/orders"));
    }
}
