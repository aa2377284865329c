//! A user's own Envoy Gateway `ClientTrafficPolicy` (through `extra.kubernetes`) on the
//! Gateway infragen already attaches one to (`crate::k8s::gateway`: PROXY protocol from the
//! load balancer).
//!
//! Envoy Gateway applies one ClientTrafficPolicy per target: of two on the same Gateway
//! without `sectionName`, the older is accepted and the newer gets `Accepted: False`,
//! reason `Conflicted` ("Unable to target Gateway …, another ClientTrafficPolicy has already
//! attached to it"); one naming a listener (`sectionName`) replaces the Gateway-wide one on
//! that listener (envoyproxy/gateway, internal/gatewayapi/clienttrafficpolicy.go,
//! `ProcessClientTrafficPolicies`: sorted by creation timestamp, sections first). Either way
//! one of the two policies' settings is silently dropped — infragen's PROXY protocol, and
//! the listener then reads the load balancer's header as a malformed request, or the user's
//! settings. Refused, naming both; the user's settings belong in infragen's policy
//! (`overrides:`).

use serde_json::Value;

use crate::output::Output;

/// The ClientTrafficPolicies infragen wrote: (namespace, name, Gateway targeted).
fn generated(out: &Output) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (path, text) in &out.files {
        let own = path.starts_with("k8s/")
            && !path
                .rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("extra-"));
        if !own || !text.contains("kind: ClientTrafficPolicy\n") {
            continue;
        }
        for d in yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_default() {
            let Ok(v) = crate::check::kubernetes::to_json(&d) else {
                continue;
            };
            if v["kind"] != "ClientTrafficPolicy" {
                continue;
            }
            let ns = v["metadata"]["namespace"].as_str().unwrap_or("default");
            let name = v["metadata"]["name"].as_str().unwrap_or("?");
            for (gateway, _) in targets(&v) {
                found.push((ns.to_string(), name.to_string(), gateway));
            }
        }
    }
    found
}

/// The Gateways a policy targets, with the listener (`sectionName`) where it names one.
fn targets(doc: &Value) -> Vec<(String, Option<String>)> {
    let spec = &doc["spec"];
    // `targetRef` (one) is the older spelling of `targetRefs`; both are still served.
    spec["targetRefs"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["targetRef"].is_object().then_some(&spec["targetRef"]))
        .filter(|t| t["kind"] == "Gateway")
        .filter_map(|t| {
            let name = t["name"].as_str()?.to_string();
            Some((name, t["sectionName"].as_str().map(String::from)))
        })
        .collect()
}

/// For each rendered ClientTrafficPolicy that would conflict with infragen's: (its name,
/// the message).
pub fn conflicts(out: &Output, rendered: &[Value]) -> Vec<(String, String)> {
    let ours = generated(out);
    let mut found = Vec::new();
    for doc in rendered
        .iter()
        .filter(|d| d["kind"] == "ClientTrafficPolicy")
    {
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = doc["metadata"]["name"].as_str().unwrap_or("?");
        for (gateway, section) in targets(doc) {
            let Some((_, own, _)) = ours
                .iter()
                .find(|(n, own, g)| n == ns && *g == gateway && own != name)
            else {
                continue;
            };
            let proxy = doc["spec"]["proxyProtocol"].is_object()
                || doc["spec"]["enableProxyProtocol"] == true;
            let message = match section {
                None => format!(
                    "ClientTrafficPolicy {ns}/{name} targets Gateway `{gateway}`, which infragen's ClientTrafficPolicy {ns}/{own} (PROXY protocol from the load balancer) already targets: Envoy Gateway accepts only the older of two on one Gateway and marks the other `Conflicted`, so one of them is silently ignored"
                ),
                Some(_) if proxy => continue,
                Some(listener) => format!(
                    "ClientTrafficPolicy {ns}/{name} targets listener `{listener}` of Gateway `{gateway}` without `proxyProtocol`: on that listener it replaces infragen's ClientTrafficPolicy {ns}/{own}, so the listener stops reading the load balancer's PROXY protocol header and refuses every request"
                ),
            };
            found.push((name.to_string(), message));
        }
    }
    found
}
