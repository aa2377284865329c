//! Who `observability.notify` reaches on DigitalOcean. Uptime alerts (`uptime.rs`) and monitor
//! alerts (`alerts.rs`) both notify e-mail addresses and Slack channels only ("Notifications
//! can be sent to either an email address or a Slack channel",
//! https://docs.digitalocean.com/reference/terraform/reference/resources/monitor_alert/), and
//! mail only addresses of the account's team (doctl `monitoring uptime alert create`,
//! `--emails`; "you'll have the option to select any of your teammates as email recipients",
//! https://docs.digitalocean.com/products/monitoring/how-to/set-up-alerts/). One reading of
//! `notify` for both, so the two never disagree on who is told.

use crate::json;
use crate::terraform::Json;

use super::Ctx;

/// `notify` split into what a DigitalOcean alert can carry and what it cannot.
pub struct Recipients<'a> {
    /// Every entry, in the blueprint's order.
    pub all: Vec<&'a str>,
    /// The e-mail addresses, in the blueprint's order.
    pub emails: Vec<&'a str>,
    /// HTTPS endpoints (PagerDuty, a Slack incoming webhook): no place in a DigitalOcean alert.
    pub endpoints: Vec<&'a str>,
}

/// The recipients of `observability.notify`, or None when it lists nobody.
pub fn recipients<'a>(ctx: &Ctx<'a>) -> Option<Recipients<'a>> {
    let notify = &ctx.v.bp.observability.as_ref()?.notify;
    if notify.is_empty() {
        return None;
    }
    let all: Vec<&str> = notify.iter().map(String::as_str).collect();
    let (endpoints, emails) = all.iter().partition(|n| n.contains("://"));
    Some(Recipients {
        all,
        emails,
        endpoints,
    })
}

impl Recipients<'_> {
    /// The e-mail list as an alert's `email` argument.
    pub fn email(&self) -> Json {
        json!(&self.emails)
    }

    /// The addresses, comma-separated, for notes.
    pub fn emails_text(&self) -> String {
        self.emails.join(", ")
    }

    /// The note fragment for the endpoints not notified (empty without any): a Slack incoming
    /// webhook needs its channel's name too, which `notify` does not carry, so the way to
    /// reach one is an override of `resources`' notification block (`block` names it, as the
    /// resource type spells it: `notifications` for an Uptime alert, `alerts` for a monitor
    /// alert).
    pub fn endpoints_note(&self, resources: &str, block: &str) -> String {
        if self.endpoints.is_empty() {
            return String::new();
        }
        format!(
            "; {} not notified (a DigitalOcean alert goes to e-mail addresses and Slack channels only; a Slack incoming webhook also needs its channel's name, which `notify` does not carry: set `{block}: [{{ email: [...], slack: [{{ channel, url }}] }}]` on the {resources} resources with `overrides:`, which replace a list whole)",
            self.endpoints.join(", ")
        )
    }
}
