//! The edge of an ECS deployment: an Application Load Balancer (invalid headers dropped,
//! defensive desync mitigation, deletion protection, access logs to S3) with its security
//! group, an HTTPS listener (ACM certificate validated by DNS when the blueprint names a
//! domain, else a certificate ARN variable) and an HTTP listener answering 301 to HTTPS,
//! one IP target group per routed service, path rules, and a WAFv2 web ACL (rate limit per
//! client IP plus AWS managed rule groups) associated with the load balancer and logging to
//! an encrypted `aws-waf-logs-…` log group.
//!
//! On EKS the AWS Load Balancer Controller creates the load balancer from the Ingress, so
//! this file only runs for ECS.

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::buckets;
use super::ecs_deployments;
use super::network::subnet_ids;
use super::security::{self, sg_name};
use crate::blueprint::types::{LoadBalancer, Service};
use crate::terraform::{Expr, Module, Ref, interp, res};

/// TLS 1.3 and 1.2 with forward-secret ciphers: AWS's recommended policy.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// Managed rule groups when the blueprint lists none: OWASP-style common rules, known bad
/// inputs (Log4j and the like), IP reputation, and anonymizers (Tor, VPNs).
const DEFAULT_MANAGED_RULES: [&str; 4] = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
];

/// Rules of managed groups that only count: requests from cloud hosting providers are
/// often legitimate server-to-server calls, so they are watched, not blocked.
const COUNT_ONLY: [(&str, &str); 1] = [("AWSManagedRulesAnonymousIpList", "HostingProviderIPList")];

/// AWSManagedRulesCommonRuleSet's SizeRestrictions_BODY blocks request bodies over 8 KB.
const WAF_BODY_LIMIT: u64 = 8 * 1024;

/// The body size the ingress allows, when it is above what the common rule set lets through
/// (`proxy_body_size` in NGINX syntax: bytes, `k`, `m` or `g`; `0` means unlimited).
fn allows_large_bodies(ctx: &Ctx) -> Option<String> {
    let size = ctx.v.bp.ingress.as_ref()?.proxy_body_size.as_deref()?;
    (nginx_size(size)? > WAF_BODY_LIMIT).then(|| size.to_string())
}

fn nginx_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().ok()?;
    let factor = match unit {
        "" => 1,
        "k" | "K" => 1024,
        "m" | "M" => 1024 * 1024,
        "g" | "G" => 1024 * 1024 * 1024,
        _ => return None,
    };
    Some(if n == 0 {
        u64::MAX
    } else {
        n.saturating_mul(factor)
    })
}

/// One of the stack's Application Load Balancers: the main one (internet-facing, or
/// internal when `load_balancer.internal`), and beside it, when some services ask for
/// `internal_routes` on an internet-facing stack, an internal one serving only those.
///
/// An ALB target group belongs to one load balancer, so a service's routes all go to one of
/// them; the public one has no rule for an internal service, so its hosts and paths are
/// not served from the internet at all (its default action answers 404 for them).
/// The internal one has only private IP addresses: its DNS name resolves publicly, but to
/// addresses only clients with access to the VPC can reach ("Internal Classic Load
/// Balancers", Elastic Load Balancing documentation; same scheme for ALBs:
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-internal-load-balancers.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Main,
    Internal,
}

impl Edge {
    /// The load balancer that routes `s`.
    pub fn of(ctx: &Ctx, s: &Service) -> Edge {
        let all_internal = ctx.v.bp.load_balancer.as_ref().is_some_and(|l| l.internal);
        if s.internal_routes && !all_internal {
            Edge::Internal
        } else {
            Edge::Main
        }
    }

    /// A resource name: the main load balancer's as it always was, the internal one's
    /// prefixed with `internal_`.
    fn name(self, base: &str) -> String {
        match self {
            Edge::Main => base.to_string(),
            Edge::Internal => format!("internal_{base}"),
        }
    }
}

pub fn lb() -> Ref {
    lb_of(Edge::Main)
}

pub fn lb_of(edge: Edge) -> Ref {
    match edge {
        Edge::Main => res("aws_lb", "main"),
        Edge::Internal => res("aws_lb", "internal"),
    }
}

pub fn lb_sg_of(edge: Edge) -> Ref {
    res("aws_security_group", &edge.name("alb"))
}

fn https_listener_of(edge: Edge) -> Ref {
    res("aws_lb_listener", &edge.name("https"))
}

/// The target group of a routed service.
pub fn target_group(service: &str) -> Ref {
    res("aws_lb_target_group", service)
}

/// The listener rule routing a non-default service (absent for the default one).
pub fn listener_rule(service: &str) -> Ref {
    res("aws_lb_listener_rule", service)
}

/// What attaches a service's target group to the load balancer: the HTTPS listener (whose
/// default action may forward to it, and which every rule hangs on) and each listener rule
/// forwarding to it. ECS refuses to create a service whose target group no listener or rule
/// forwards to yet — CreateService answers "The target group with targetGroupArn … does
/// not have an associated load balancer" (InvalidParameterException) — and nothing else
/// orders the rule before the service, so the service depends on all of these. For every
/// routed service at once: the rules are planned once for the whole load balancer.
pub fn attachments(ctx: &Ctx) -> std::collections::HashMap<String, Vec<Ref>> {
    let mut out: std::collections::HashMap<String, Vec<Ref>> = Default::default();
    for edge in [Edge::Main, Edge::Internal] {
        let routed = routed_on(ctx, edge);
        let default = served_by_default(&routed);
        for s in &routed {
            out.insert(s.name.clone(), vec![https_listener_of(edge)]);
        }
        for rule in crate::semantic::listener_rules::plan(&routed, default) {
            if let Some(refs) = out.get_mut(&rule.service) {
                refs.push(listener_rule(&rule.name));
            }
        }
    }
    out
}

/// The services behind the load balancer (those with routes), when there is one.
pub fn routed<'a>(ctx: &Ctx<'a>) -> Vec<&'a Service> {
    if ctx.v.bp.load_balancer.is_none() || ctx.v.bp.network.is_none() {
        return vec![];
    }
    ctx.v
        .bp
        .services
        .iter()
        .filter(|s| !s.routes.is_empty())
        .collect()
}

/// The services `edge` routes.
pub fn routed_on<'a>(ctx: &Ctx<'a>, edge: Edge) -> Vec<&'a Service> {
    routed(ctx)
        .into_iter()
        .filter(|s| Edge::of(ctx, s) == edge)
        .collect()
}

/// The service the HTTPS listener forwards to by default: the one routing `/` for every host
/// (a `/` on a named host is a listener rule: other hosts must not reach it).
fn default_service<'a>(routed: &[&'a Service]) -> Option<&'a Service> {
    routed
        .iter()
        .find(|s| {
            s.routes
                .iter()
                .any(|r| r.host.is_none() && (r.path == "/" || r.path == "/*"))
        })
        .copied()
}

/// The service whose `/` needs no rule because the listener's default action serves it: the
/// default service, unless it deploys blue/green or canary. ECS shifts traffic by
/// re-weighting a listener *rule* (an ALB listener's default action cannot be the production
/// rule), so such a service's `/` is a `/*` rule of its own, which every request matches
/// before the default action; the default action keeps forwarding to its primary group, so
/// switching a service to blue/green never leaves `/` unserved while the rule is created
/// (`ecs_deployments.rs`).
fn served_by_default<'a>(routed: &[&'a Service]) -> Option<&'a str> {
    default_service(routed)
        .filter(|s| !ecs_deployments::native(s))
        .map(|s| s.name.as_str())
}

/// Rules per Application Load Balancer, default rules not counted (adjustable).
const ALB_RULES_QUOTA: usize = 100;

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let bp = ctx.v.bp;
    let Some(lb_cfg) = &bp.load_balancer else {
        return;
    };
    let Some(net) = &bp.network else {
        ctx.note("load_balancer: no `network`, so no load balancer (it needs subnets)");
        return;
    };
    let routed = routed_on(ctx, Edge::Main);
    let cert = certificate(m, lb_cfg);
    let alb = one_load_balancer(ctx, m, lb_cfg, net, Edge::Main, &routed, &cert);
    if let Some(waf) = &lb_cfg.waf {
        web_acl(ctx, m, waf, Some(lb()));
    }

    m.file("outputs")
        .output(
            "load_balancer_dns_name",
            alb.attr("dns_name"),
            "DNS name of the load balancer (point the domain's CNAME or alias here)",
        )
        .output(
            "load_balancer_zone_id",
            alb.attr("zone_id"),
            "Route 53 zone id of the load balancer, for alias records",
        );

    let internal = routed_on(ctx, Edge::Internal);
    if !internal.is_empty() {
        // The same certificate: ACM validates it by DNS in the domain's public zone, which
        // works whatever the scheme of the load balancers it is attached to, and one
        // certificate may serve several listeners. The internal routes' hosts are among
        // its names (`semantic::internal_routes`).
        let alb = one_load_balancer(ctx, m, lb_cfg, net, Edge::Internal, &internal, &cert);
        m.file("outputs")
            .output(
                "internal_load_balancer_dns_name",
                alb.attr("dns_name"),
                "DNS name of the internal load balancer (resolves to private addresses: point the internal routes' hosts here, e.g. in a Route 53 private hosted zone)",
            )
            .output(
                "internal_load_balancer_zone_id",
                alb.attr("zone_id"),
                "Route 53 zone id of the internal load balancer, for alias records",
            );
    }
    ctx.mark("load_balancer");
}

/// One Application Load Balancer with its security group, listeners, target groups and
/// rules for `routed`.
fn one_load_balancer(
    ctx: &Ctx,
    m: &mut Module,
    lb_cfg: &LoadBalancer,
    net: &crate::blueprint::types::Network,
    edge: Edge,
    routed: &[&Service],
    cert: &Expr,
) -> Ref {
    let bp = ctx.v.bp;
    let alb = lb_of(edge);
    let sg = lb_sg_of(edge);
    // The blueprint's name cut as on EKS (`platform::alb_name`): at most 32 characters,
    // never ending in a hyphen.
    let base_name = lb_cfg
        .name
        .as_deref()
        .map(|n| truncate(n, 32))
        .unwrap_or_else(|| crate::naming::elb_name(&truncate(&format!("{}-alb", ctx.prefix), 32)));
    let name = match edge {
        Edge::Main => base_name,
        // ELB names are unique per region and account, and at most 32 characters.
        Edge::Internal => {
            crate::naming::elb_name(&crate::naming::fit(&format!("{base_name}-internal"), 32))
        }
    };
    let internal = lb_cfg.internal || edge == Edge::Internal;

    // Security group: the world (or the VPC and `internal_cidrs`, when internal) on 443
    // and 80; out only to the tasks on their port.
    let sources: Vec<String> = if internal {
        let mut v = vec![net.cidr.clone()];
        v.extend(
            lb_cfg
                .internal_cidrs
                .iter()
                .filter(|c| **c != net.cidr)
                .cloned(),
        );
        v
    } else {
        vec!["0.0.0.0/0".into()]
    };
    let f = m.file("edge");
    let sg_key = edge.name("alb");
    // The group's own name in EC2 spells words with hyphens, as every other group's does.
    let group_name = sg_name(ctx, &sg_key.replace('_', "-"));
    f.resource(
        &sg,
        json!({
            "name": &group_name,
            // Nothing that can change (the ports, the source): a changed description
            // replaces the group (see `security::replaceable`); the rules say the rest.
            "description": format!("Load balancer of {}: inbound as its rules allow, out only to the tasks", ctx.prefix),
            "vpc_id": ctx.vpc_id(),
            "tags": {"Name": &group_name},
            "lifecycle": security::replaceable(),
        }),
    );
    let mut ports = vec![(443, "HTTPS")];
    if lb_cfg.redirect_http {
        ports.push((80, "HTTP (redirected to HTTPS)"));
    }
    for (port, what) in ports {
        for (i, source) in sources.iter().enumerate() {
            // The first source (the world, or the VPC) keeps the name the single source
            // always had; each listed CIDR is named after itself, so adding or removing
            // one in an overlay leaves the others' rules in place.
            let suffix = if i == 0 {
                String::new()
            } else {
                format!("_{}", source.replace(['.', '/'], "_"))
            };
            f.resource(
                &res(
                    "aws_vpc_security_group_ingress_rule",
                    &format!(
                        "{}_{}{suffix}",
                        sg_key,
                        if port == 443 { "https" } else { "http" }
                    ),
                ),
                json!({
                    "security_group_id": sg.id(),
                    "cidr_ipv4": source,
                    "ip_protocol": "tcp",
                    "from_port": port,
                    "to_port": port,
                    "description": format!("{what} from {source} to the load balancer"),
                }),
            );
        }
    }
    for s in routed {
        f.resource(
            &res(
                "aws_vpc_security_group_egress_rule",
                &format!("{sg_key}_to_{}", s.name),
            ),
            json!({
                "security_group_id": sg.id(),
                "referenced_security_group_id": security::service_sg(&s.name).id(),
                "ip_protocol": "tcp",
                "from_port": s.port,
                "to_port": s.port,
                "description": format!("Load balancer to {} tasks on {}", s.name, s.port.unwrap_or_default()),
            }),
        );
    }

    // The load balancer, logging to its bucket once the bucket admits the log delivery.
    let tier = if internal { "private" } else { "public" };
    let mut body = json!({
        "name": &name,
        "load_balancer_type": "application",
        "internal": internal,
        "subnets": subnet_ids(net, tier),
        "security_groups": [sg.id()],
        "drop_invalid_header_fields": true,
        "desync_mitigation_mode": "defensive",
        "enable_deletion_protection": lb_cfg.deletion_protection(),
        "enable_http2": true,
        // Raised to the longest silence a routed service asks for (`services[].idle_timeout`):
        // the ALB closes a WebSocket or a long poll idle for this long.
        "idle_timeout": bp.lb_idle_timeout(ctx.v.provider).unwrap_or(60),
        "tags": {"Name": name},
    });
    if let Some((bucket, _)) = buckets::access_logs(ctx) {
        // Both load balancers log to the bucket: ELB names each file after its load
        // balancer, so they do not mix.
        body["access_logs"] = json!({
            "bucket": bucket.id(),
            "enabled": true,
            "prefix": buckets::LB_LOG_PREFIX,
        });
        body["depends_on"] = json!([res("aws_s3_bucket_policy", bucket.name()).address()]);
    }
    f.resource(&alb, body);

    for s in routed {
        target_group_for(ctx, m, lb_cfg, s);
    }
    listeners(ctx, m, lb_cfg, edge, routed, cert);
    alb
}

fn truncate(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// ELB's limit on target group names.
const TARGET_GROUP_NAME_MAX: usize = 32;

/// A target group's name: `<name>-<env>-<service>-<port>`, or when that is longer than ELB
/// allows, its beginning and a hash of the whole. Cutting alone would give two services
/// whose names share a beginning (`notification-api`, `notification-worker`) the same name,
/// and ELB refuses the second (DuplicateTargetGroupName).
///
/// The port is in the name because it cannot change in place: a new port is a new target
/// group, which must exist before the old one goes (ELB refuses to delete a target group a
/// listener or rule still forwards to, `ResourceInUse`), so it is created first
/// (create_before_destroy) and needs a name the old one does not hold.
///
/// A gRPC service's ends in `-grpc`: its protocol version cannot change in place either.
pub(super) fn target_group_name(ctx: &Ctx, s: &Service, port: u16) -> String {
    crate::naming::fit(
        &format!("{}-{}-{port}{}", ctx.prefix, s.name, grpc_suffix(s)),
        TARGET_GROUP_NAME_MAX,
    )
}

fn grpc_suffix(s: &Service) -> &'static str {
    if s.grpc() { "-grpc" } else { "" }
}

/// The service's target group, and for a blue/green or canary deployment its alternate:
/// the same group under another name (`-alt`), so ECS's new revision is health-checked
/// exactly as the live one.
fn target_group_for(ctx: &Ctx, m: &mut Module, lb: &LoadBalancer, s: &Service) {
    let port = s.port.unwrap_or_default();
    let primary = target_group_name(ctx, s, port);
    m.file("edge").resource(
        &target_group(&s.name),
        target_group_body(ctx, lb, s, &primary),
    );
    if ecs_deployments::native(s) {
        let alternate = alternate_target_group_name(ctx, s, port);
        m.file("edge").resource(
            &ecs_deployments::alternate_target_group(&s.name),
            target_group_body(ctx, lb, s, &alternate),
        );
    }
}

/// The alternate target group's name: the primary's with `-alt` (a primary's name ends in
/// its port, so no primary has it), fitted like it.
pub(super) fn alternate_target_group_name(ctx: &Ctx, s: &Service, port: u16) -> String {
    crate::naming::fit(
        &format!("{}-{}-{port}{}-alt", ctx.prefix, s.name, grpc_suffix(s)),
        TARGET_GROUP_NAME_MAX,
    )
}

/// A service's target group: HTTP/1.1 to the tasks, checked with `GET` on the blueprint's
/// health-check path (else the readiness probe's, else `/`); or for a gRPC service a gRPC
/// target group (HTTP/2 to the tasks, which ELB allows in cleartext: "Setup a HTTP(s) target
/// group with protocol-version as 'gRPC'"), whose checks call the standard health service
/// and count gRPC status 0 (OK) only; ELB's defaults, `/AWS.ALB/healthcheck` and 12
/// (Unimplemented), pass for any gRPC server, serving or not. Its listener must be HTTPS,
/// which every rule here hangs on (the HTTP listener only redirects).
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-group-protocol-version>
/// <https://aws.amazon.com/about-aws/whats-new/2020/10/application-load-balancers-enable-grpc-workloads-end-to-end-http-2-support/>
fn target_group_body(ctx: &Ctx, lb: &LoadBalancer, s: &Service, name: &str) -> Json {
    let hc = lb.health_check.as_ref();
    let readiness = s.alb_probe(true).and_then(|(_, p)| p.path.clone());
    let (version, path, matcher) = if s.grpc() {
        (
            "GRPC",
            crate::blueprint::types::GRPC_HEALTH_PATH.to_string(),
            "0".to_string(),
        )
    } else {
        (
            "HTTP1",
            hc.map(|h| h.path.clone())
                .or(readiness)
                .unwrap_or_else(|| "/".into()),
            hc.and_then(|h| h.matcher.clone())
                .unwrap_or_else(|| "200".into()),
        )
    };
    json!({
        "name": name,
        // See `target_group_name`: the replacement's name differs from the old one's
        // whenever `port` (the only argument here that can change and forces a new
        // group) does.
        "lifecycle": {"create_before_destroy": true},
        "target_type": "ip",
        "protocol": "HTTP",
        "protocol_version": version,
        "port": s.port,
        "vpc_id": ctx.vpc_id(),
        "deregistration_delay": lb.deregistration_delay.unwrap_or(30).to_string(),
        "health_check": {
            "enabled": true,
            "path": path,
            "port": "traffic-port",
            "protocol": "HTTP",
            "interval": hc.and_then(|h| h.interval).unwrap_or(30),
            "timeout": hc.and_then(|h| h.timeout).unwrap_or(5),
            "healthy_threshold": hc.and_then(|h| h.healthy_threshold).unwrap_or(2),
            "unhealthy_threshold": hc.and_then(|h| h.unhealthy_threshold).unwrap_or(3),
            "matcher": matcher,
        },
        "tags": {"Name": name},
    })
}

/// The DNS records that validate ACM certificate `acm`, each once, as a DNS host takes
/// them (`name`, `type`, `value`). `distinct`: a domain and its wildcard (`example.com`,
/// `*.example.com`) share one validation record, which ACM lists once per name — pasted
/// twice into a DNS host, the second is refused as a duplicate (seen on moto, as ACM does).
pub fn validation_records(acm: &Ref) -> Expr {
    interp(&format!(
        "distinct([for o in {} : {{name = o.resource_record_name, type = o.resource_record_type, value = o.resource_record_value}}])",
        acm.path("domain_validation_options")
    ))
}

/// The certificate ARN the HTTPS listener uses: an issued ACM certificate for the
/// blueprint's domain, else the blueprint's ARN.
fn certificate(m: &mut Module, lb: &LoadBalancer) -> Expr {
    let cert = &lb.certificate;
    if let Some(domain) = &cert.domain {
        let acm = res("aws_acm_certificate", "main");
        let validation = res("aws_acm_certificate_validation", "main");
        m.file("edge")
            .resource(
                &acm,
                json!({
                    "domain_name": domain,
                    "subject_alternative_names": &cert.alternative_names,
                    "validation_method": "DNS",
                    "key_algorithm": "RSA_2048",
                    "tags": {"Name": domain},
                    "lifecycle": {"create_before_destroy": true},
                }),
            )
            .resource(
                &validation,
                json!({
                    // Waits until the DNS records below exist and ACM has issued the certificate.
                    "certificate_arn": acm.arn(),
                }),
            );
        m.file("outputs").output(
            "certificate_validation_records",
            validation_records(&acm),
            &format!("DNS records to create in the zone of {domain} so ACM issues the certificate"),
        );
        return validation.attr("certificate_arn");
    }
    // Validation refused a load balancer with neither a domain nor an ARN (a variable
    // without a default would make `plan` prompt in CI).
    cert.arn.as_deref().unwrap_or_default().into()
}

fn listeners(
    ctx: &Ctx,
    m: &mut Module,
    lb: &LoadBalancer,
    edge: Edge,
    routed: &[&Service],
    cert: &Expr,
) {
    let default = default_service(routed);
    let default_action = match default {
        Some(s) => json!([{"type": "forward", "target_group_arn": target_group(&s.name).arn()}]),
        None => json!([{
            // The action type is ELB's spelling (`fixed-response`); the block is Terraform's.
            "type": "fixed-response",
            "fixed_response": {"content_type": "text/plain", "message_body": "Not found", "status_code": "404"},
        }]),
    };
    let https = https_listener_of(edge);
    let f = m.file("edge");
    f.resource(
        &https,
        json!({
            "load_balancer_arn": lb_of(edge).arn(),
            "port": 443,
            "protocol": "HTTPS",
            "ssl_policy": lb.ssl_policy.clone().unwrap_or_else(|| DEFAULT_SSL_POLICY.into()),
            "certificate_arn": cert,
            "default_action": default_action,
        }),
    );
    if lb.redirect_http {
        f.resource(
            &res("aws_lb_listener", &edge.name("http")),
            json!({
                "load_balancer_arn": lb_of(edge).arn(),
                "port": 80,
                "protocol": "HTTP",
                "default_action": [{
                    "type": "redirect",
                    "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
                }],
            }),
        );
    }
    let rules = crate::semantic::listener_rules::plan(routed, served_by_default(routed));
    if rules.len() > ALB_RULES_QUOTA {
        // An adjustable quota, so a warning: the apply fails at the first rule past it
        // (TooManyRules) unless the account's quota was raised.
        // <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>
        ctx.note(crate::diagnostic::Note::warning(
            "alb-rules-quota",
            format!(
                "the load balancer's HTTPS listener gets {} rules, over the default quota of {ALB_RULES_QUOTA} rules per Application Load Balancer: raise \"Rules per Application Load Balancer\" in Service Quotas before applying, or the apply stops with TooManyRules",
                rules.len()
            ),
        ));
    }
    for rule in rules {
        let mut condition = Vec::new();
        if let Some(host) = &rule.host {
            condition.push(json!({"host_header": {"values": [host]}}));
        }
        if !rule.paths.is_empty() {
            condition.push(json!({"path_pattern": {"values": rule.paths}}));
        }
        let mut body = json!({
            "listener_arn": https.arn(),
            "priority": rule.priority,
            "action": [{"type": "forward", "target_group_arn": target_group(&rule.service).arn()}],
            "condition": condition,
            "tags": {"Name": &rule.service},
        });
        if let Some(s) = routed
            .iter()
            .find(|s| s.name == rule.service && ecs_deployments::native(s))
        {
            production_rule(&mut body, s);
        }
        f.resource(&listener_rule(&rule.name), body);
    }
}

/// A blue/green or canary service's rule (its only one, `semantic::ecs_rollout`; named by
/// `listener_rules::production_rule_name`, so switching a service creates it rather than
/// updating the rolling rule, whose action change `ignore_changes` would drop): the
/// production listener rule ECS re-weights. It forwards to both target groups, all of the
/// traffic to the primary, as ECS requires of a new service's rule.
///
/// ECS rewrites the forward action at every deployment (the new revision's group takes the
/// weight: after the first deployment the alternate has 100 and the primary 0), and
/// Terraform would set it back at the next apply, sending every request to the group whose
/// tasks ECS has just stopped. So the action is ECS's after creation: `ignore_changes` on
/// `action` (the provider's issue tracker shows the same fix; the weights sit in a list of
/// target groups `ignore_changes` cannot address one by one). What Terraform must still
/// change is covered by replacement: a new target group (a new port) replaces the rule,
/// whose action then forwards to the new groups.
/// <https://github.com/terraform-aws-modules/terraform-aws-alb/issues/409>
fn production_rule(body: &mut Json, s: &Service) {
    let primary = target_group(&s.name);
    let alternate = ecs_deployments::alternate_target_group(&s.name);
    body["action"] = json!([{
        "type": "forward",
        "forward": {"target_group": [
            {"arn": primary.arn(), "weight": 100},
            {"arn": alternate.arn(), "weight": 0},
        ]},
    }]);
    body["lifecycle"] = json!({
        "ignore_changes": ["action"],
        // Bare references, as `depends_on` (no `${…}` in a meta-argument): `id` changes only
        // when the group is replaced, not when it is updated in place.
        "replace_triggered_by": [
            format!("{}.id", primary.address()),
            format!("{}.id", alternate.address()),
        ],
    });
}

/// `preconditions.json`: with `certificate.domain` the HTTPS listener (ECS) waits in `infra` for
/// ACM to issue the certificate (`aws_acm_certificate_validation`, up to 75 minutes), and ACM
/// issues it only once its DNS validation records exist. The records' values are known only
/// after ACM creates the certificate, in that same apply, so they are created while it waits.
pub fn preconditions(ctx: &Ctx) -> Vec<crate::wiring::Precondition> {
    let Some(lb) = &ctx.v.bp.load_balancer else {
        return vec![];
    };
    let (Some(domain), Some(_)) = (&lb.certificate.domain, &ctx.v.bp.network) else {
        return vec![];
    };
    let mut names = vec![domain.clone()];
    names.extend(lb.certificate.alternative_names.iter().cloned());
    if ctx.is_eks() {
        // EKS: `infra` creates the certificate without waiting for it, and the AWS Load
        // Balancer Controller looks it up by the Ingress hosts among the *issued* ones: until
        // ACM issues it, the controller fails to reconcile the Ingress ("no certificate found
        // for host", kubernetes-sigs/aws-load-balancer-controller#3183) and no ALB serves it.
        // Behind ingress-nginx, `platform` waits for the issue before its edge Ingress
        // (`platform::certificate_issued`).
        if lb.certificate.arn.is_some() {
            return vec![];
        }
        return vec![crate::wiring::Precondition {
            kind: "AcmDnsValidation".into(),
            namespace: String::new(),
            name: domain.clone(),
            keys: names,
            why: "`infra` creates the load balancer's ACM certificate, which ACM issues once its DNS validation records exist: after `infra`, create the CNAME records of its output `certificate_validation_records` in the domain's zone; until the certificate is issued the AWS Load Balancer Controller finds none for the Ingress hosts and no ALB serves them (with an ALB in front of ingress-nginx, `platform` waits up to 75 minutes for the issue before creating it)".into(),
        }];
    }
    if ctx.platform != Some(crate::blueprint::types::Platform::EcsFargate) {
        return vec![];
    }
    vec![crate::wiring::Precondition {
        kind: "AcmDnsValidation".into(),
        namespace: String::new(),
        name: domain.clone(),
        keys: names,
        why: "`infra` waits (up to 75 minutes) for ACM to issue the load balancer's certificate, which it does once the DNS validation records exist, so the first apply takes two steps: `terraform apply -target=aws_acm_certificate.main` creates the certificate alone and prints the output `certificate_validation_records`; create those CNAME records in the domain's zone, wherever its DNS is hosted (at Cloudflare \"DNS only\", not proxied), and keep them (ACM renews by them); then `terraform apply`, which waits only until ACM has seen them. Point the hosts at the output `load_balancer_dns_name` (a CNAME; at the zone apex an alias, or CNAME flattening)".into(),
    }]
}

fn visibility(metric: &str) -> Json {
    json!({
        "cloudwatch_metrics_enabled": true,
        "metric_name": metric,
        "sampled_requests_enabled": true,
    })
}

/// The web ACL, its log group and logging, associated with `associate` when given (on EKS
/// the AWS Load Balancer Controller associates it with the ALB it creates).
pub fn web_acl(
    ctx: &Ctx,
    m: &mut Module,
    waf: &crate::blueprint::types::Waf,
    associate: Option<Ref>,
) {
    let acl = res("aws_wafv2_web_acl", "main");
    let name = waf
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-waf", ctx.prefix));
    let mut rules = vec![json!({
        "name": "RateLimitRule",
        "priority": 1,
        "action": {"block": {}},
        "statement": {"rate_based_statement": {
            "limit": waf.rate_limit,
            "aggregate_key_type": "IP",
            "evaluation_window_sec": 300,
        }},
        "visibility_config": visibility("RateLimitRule"),
    })];
    let managed: Vec<String> = waf.managed_rules.clone().unwrap_or_else(|| {
        DEFAULT_MANAGED_RULES
            .iter()
            .map(|s| (*s).to_string())
            .collect()
    });
    let large_bodies = allows_large_bodies(ctx);
    for (i, group) in managed.iter().enumerate() {
        let mut statement = json!({"vendor_name": "AWS", "name": group});
        let mut counted: Vec<Json> = COUNT_ONLY
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, rule)| json!({"name": rule, "action_to_use": {"count": {}}}))
            .collect();
        if let Some(limit) = &large_bodies
            && group == "AWSManagedRulesCommonRuleSet"
        {
            counted.push(json!({"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}));
            ctx.note(format!(
                "WAF: the ingress accepts request bodies up to {limit} (`ingress.proxy_body_size`), but AWSManagedRulesCommonRuleSet blocks bodies over 8 KB (SizeRestrictions_BODY); that rule only counts"
            ));
        }
        if !counted.is_empty() {
            statement["rule_action_override"] = json!(counted);
        }
        rules.push(json!({
            "name": group,
            "priority": 10 * (i + 1),
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": statement},
            "visibility_config": visibility(group),
        }));
    }
    let retention = ctx
        .v
        .bp
        .observability
        .as_ref()
        .map_or(30, |o| o.log_retention_days);
    let logs = res("aws_cloudwatch_log_group", "waf");
    m.file("edge")
        .resource(
            &acl,
            json!({
                "name": &name,
                "description": format!("Rate limit ({} requests per 5 minutes per IP) and AWS managed rules in front of {}", waf.rate_limit, ctx.prefix),
                "scope": "REGIONAL",
                "default_action": {"allow": {}},
                "rule": rules,
                "visibility_config": visibility(&name),
                "tags": {"Name": name},
            }),
        )
        .resource(
            &logs,
            json!({
                "name": format!("aws-waf-logs-{}", ctx.prefix),
                "retention_in_days": retention,
                "kms_key_id": res("aws_kms_key", "logs").arn(),
            }),
        )
        .resource(
            &res("aws_wafv2_web_acl_logging_configuration", "main"),
            json!({
                "resource_arn": acl.arn(),
                "log_destination_configs": [logs.arn()],
                // Never log credentials.
                "redacted_fields": [
                    {"single_header": {"name": "authorization"}},
                    {"single_header": {"name": "cookie"}},
                ],
            }),
        );
    if let Some(lb) = associate {
        m.file("edge").resource(
            &res("aws_wafv2_web_acl_association", "main"),
            json!({"resource_arn": lb.arn(), "web_acl_arn": acl.arn()}),
        );
    }
    m.file("outputs").output(
        "web_acl_arn",
        acl.arn(),
        "ARN of the WAF web ACL in front of the load balancer",
    );
}

#[cfg(test)]
mod tests {
    use super::nginx_size;

    #[test]
    fn nginx_body_sizes() {
        assert_eq!(nginx_size("8k"), Some(8192));
        assert_eq!(nginx_size("10m"), Some(10 * 1024 * 1024));
        assert_eq!(nginx_size("1G"), Some(1 << 30));
        assert_eq!(nginx_size("4096"), Some(4096));
        assert_eq!(nginx_size("0"), Some(u64::MAX));
        assert_eq!(nginx_size("ten"), None);
    }
}
