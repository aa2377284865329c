//! `observability.notify` on DigitalOcean: an Uptime check per public host with alerts to
//! the blueprint's e-mail addresses — the page for "the site is down" that AWS output gets
//! from its CloudWatch alarms. Before, DigitalOcean output alerted nobody and said so in a
//! note, although DigitalOcean Uptime does exactly this: it "checks the health of any URL
//! … and [sends] email or Slack alerts" (https://docs.digitalocean.com/products/uptime/),
//! $1 per check and month, alerts free.
//!
//! Per host of `ingress.hosts`: `digitalocean_uptime_check` (`https://` with `ingress.tls`,
//! else `http://`; the path is the probe path of the service routed at `/` on that host, so
//! a site whose `/` answers 404 is not "down" — see `health_path`; a gRPC host is not checked), a `down_global` alert (down from every
//! probing region, not a single region's network blip) and with TLS an `ssl_expiry` alert at
//! 14 days (cert-manager renews Let's Encrypt certificates 30 days before they end: 14 left
//! means renewal has failed for two weeks). Alert types and arguments:
//! https://docs.digitalocean.com/reference/terraform/reference/resources/uptime_alert/.
//! Who is told is `notify.rs`'s reading of `notify`, shared with the monitor alerts on the
//! managed databases and nodes (`alerts.rs`): the e-mail addresses, which must be the
//! account's (said in a note, since no API call here can check it); HTTPS endpoints
//! (PagerDuty) have no place in an Uptime alert (e-mail and Slack only) and are noted as not
//! lowered.

use crate::json;

use super::Ctx;
use crate::blueprint::types::Service;
use crate::terraform::{Module, ident, res};

/// The hosts checked and the e-mail addresses alerted, when there is something to check and
/// someone to tell. `watched` says whether the monitor alerts (`alerts.rs`) already tell
/// `notify` about something, so a note never says "nobody is notified" when they do.
pub fn lower(ctx: &Ctx, m: &mut Module, watched: bool) {
    let bp = ctx.v.bp;
    let Some(who) = super::notify::recipients(ctx) else {
        return;
    };
    let ingress = bp.ingress.as_ref().filter(|i| i.enabled);
    // A wildcard host (`*.example.com`) names no one address to probe.
    let hosts: Vec<&String> = ingress
        .map_or(&[][..], |i| i.hosts.as_slice())
        .iter()
        .filter(|h| !h.contains('*'))
        .collect();
    let routed: Vec<&Service> = bp
        .services
        .iter()
        .filter(|s| !s.routes.is_empty())
        .collect();
    // Hosts whose `/` is a gRPC service are not checked (see `health_path`).
    let (checked, grpc): (Vec<_>, Vec<_>) = hosts
        .iter()
        .map(|h| (*h, health_path(&routed, h)))
        .partition(|(_, path)| path.is_some());
    let hosts: Vec<&String> = checked.iter().map(|(h, _)| *h).collect();
    let grpc: Vec<&str> = grpc.iter().map(|(h, _)| h.as_str()).collect();
    if who.emails.is_empty() || hosts.is_empty() || routed.is_empty() || !ctx.doks() {
        // No e-mail address: no DigitalOcean alert (Uptime or monitor) can tell anyone.
        let why = if who.emails.is_empty() {
            "`notify` lists no e-mail address (DigitalOcean alerts notify e-mail and Slack only)"
        } else if !grpc.is_empty() && !routed.is_empty() && ctx.doks() && hosts.is_empty() {
            "every host routes `/` to a gRPC service, which an Uptime check's plain HTTP GET cannot call"
        } else {
            "this output routes no host to a service"
        };
        ctx.note(if watched {
            format!(
                "observability.notify: no Uptime check of the public hosts, as {why}; the monitor alerts still e-mail {}",
                who.emails_text()
            )
        } else {
            format!(
                "observability.notify ({}): DigitalOcean output alerts by e-mail from Uptime checks of the public hosts (`ingress.hosts`) and monitor alerts on managed databases and DOKS nodes; {why}{} — so nobody is notified; subscribe these addresses to DigitalOcean's own alert policies or your cluster's monitoring",
                who.all.join(", "),
                if who.emails.is_empty() {
                    ""
                } else {
                    ", and there is no managed database or DOKS cluster to watch"
                }
            )
        });
        return;
    }
    let tls = ingress.is_some_and(|i| i.tls.is_some());
    let email = who.email();
    for (host, path) in &checked {
        let path = path.as_deref().unwrap_or("/");
        let key = key_of(host, &hosts);
        let scheme = if tls { "https" } else { "http" };
        let check = res("digitalocean_uptime_check", &key);
        m.file("uptime").resource(
            &check,
            json!({
                "name": format!("{}-{host}", ctx.prefix),
                "target": format!("{scheme}://{host}{path}"),
                "type": scheme,
                // Every region the provider documents, named rather than left to the API's
                // default: `down_global` is "down" from all of them.
                "regions": ["us_east", "us_west", "eu_west", "se_asia"],
                "enabled": true,
            }),
        );
        let mut alerts = vec![(
            "down",
            json!({
                "name": format!("{}-{host}-down", ctx.prefix),
                "check_id": check.id(),
                "type": "down_global",
                // No `threshold` or `comparison`: "N/A (Not required)" for `down_global`
                // (API "Create a New Alert"). The provider sends them as `0` and `""` anyway
                // (godo `CreateUptimeAlertRequest` has no `omitempty`) and reads back what the
                // API returns (resource_uptime_alert.go `d.Set("threshold"…)`, Optional, not
                // Computed); a `0`/`""` in state against an unset argument is no change in
                // SDKv2, and `""` is no value `comparison` validates, so nothing here could
                // match a read-back better. No report of the API storing another default.
                "period": "2m",
                "notifications": [{"email": &email}],
            }),
        )];
        if tls {
            alerts.push((
                "certificate",
                json!({
                    "name": format!("{}-{host}-certificate", ctx.prefix),
                    "check_id": check.id(),
                    "type": "ssl_expiry",
                    "threshold": 14,
                    "comparison": "less_than",
                    // Meaningless for a certificate's days left, but written: the API's
                    // "Create a New Alert" (`uptime_create_alert`) requires `period`, and
                    // the provider sends it always (godo `CreateUptimeAlertRequest.Period`
                    // has no `omitempty`, so `""` without it) and reads back whatever the
                    // API keeps into `period`, Optional and not Computed
                    // (resource_uptime_alert.go): a default the API stored would be a diff
                    // at every plan. The shortest period, as the down alert's.
                    "period": "2m",
                    "notifications": [{"email": &email}],
                }),
            ));
        }
        for (what, body) in alerts {
            m.file("uptime").resource(
                &res("digitalocean_uptime_alert", &format!("{key}_{what}")),
                body,
            );
        }
    }
    ctx.note(format!(
        "observability.notify: DigitalOcean Uptime checks {} and e-mails {} when a host is down from every region{}; the addresses must be associated with the DigitalOcean account (its team members), which DigitalOcean requires of alert e-mails{}{}. Metric alarms (`observability.alarms`) are not lowered here",
        hosts
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        who.emails_text(),
        if tls { " or its certificate ends within 14 days" } else { "" },
        who.endpoints_note("`digitalocean_uptime_alert`", "notifications"),
        if grpc.is_empty() {
            String::new()
        } else {
            format!(
                "; {} not checked: `/` there is a gRPC service, which an Uptime check's plain HTTP GET cannot call (watch it with a gRPC health check from your monitoring)",
                grpc.join(", ")
            )
        }
    ));
}

/// The resource key of `host`'s check and alerts. A Terraform name keeps letters, digits and
/// `_` only, so `a-b.com` and `a.b.com` would both be `site_a_b_com`: one JSON key, and the
/// second host's check would replace the first's without a word. A host whose plain key
/// another host shares gets the hash of its name appended instead; every other host keeps
/// its plain key, so adding a colliding host later moves only the colliding ones.
fn key_of(host: &str, hosts: &[&String]) -> String {
    let plain = ident(&format!("site_{host}"));
    let shared = hosts
        .iter()
        .any(|h| h.as_str() != host && ident(&format!("site_{h}")) == plain);
    if shared {
        format!("{plain}_{}", &crate::k8s::content_hash(host)[..8])
    } else {
        plain
    }
}

/// What the check of `host` requests, from the service `/` on `host` goes to: the path of its
/// readiness (else liveness) probe when that probe asks the port the ingress routes to, else
/// `/` — the page that says the site serves (an API whose `/` answers 404 would otherwise
/// always be "down"; a probe on a port of its own, say a management port, names a path the
/// public host does not serve). None when that service speaks gRPC: an Uptime check makes a
/// plain HTTP GET, which a gRPC backend never answers with success, so the host would be
/// "down" for ever.
fn health_path(routed: &[&Service], host: &str) -> Option<String> {
    let at_root = |s: &&&Service, named: bool| {
        s.routes.iter().any(|r| {
            r.path == "/"
                && match &r.host {
                    Some(h) => named && h == host,
                    None => !named,
                }
        })
    };
    let Some(service) = routed
        .iter()
        .find(|s| at_root(s, true))
        .or_else(|| routed.iter().find(|s| at_root(s, false)))
    else {
        return Some("/".into());
    };
    if service.grpc() {
        return None;
    }
    let path = service
        .alb_probe(false)
        .map(|(_, p)| p)
        .filter(|p| p.port.is_none_or(|port| Some(port) == service.port))
        .and_then(|p| p.path.clone());
    Some(path.unwrap_or_else(|| "/".into()))
}
