//! The HTTPS listener's rule priorities when a service switches between rolling and ECS's
//! blue/green or canary deployments on day 2. ELB priorities are unique per listener
//! (CreateRule / SetRulePriorities answer PriorityInUse), and Terraform creates the new
//! production rule while every old rule still holds its priority, in parallel with any
//! in-place renumbering. So a switch must (1) leave every other rule's priority as it was and
//! (2) give the production rule a priority no rule of the old plan holds, its own rolling rule
//! (removed only afterwards) included.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{ecs_stack, synth_aws};

/// `first` on `/a` and `web` on `/b`, both behind the load balancer; `first`'s rollout given.
fn stack(first: &str, rollout: &str) -> String {
    ecs_stack(
        "prio",
        &format!(
            "load_balancer:
  certificate: {{ arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/prio\" }}
services:
  - name: {first}
    image: ghcr.io/acme/a:1.0.0
    port: 8080
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: /a }}]
    rollout: {rollout}
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: /b }}]
"
        ),
    )
}

/// Listener rule resource name → priority, in `terraform/infra`.
fn priorities(yaml: &str) -> BTreeMap<String, u64> {
    let out = synth_aws("prio", yaml).unwrap_or_else(|e| panic!("{e}"));
    let mut found = BTreeMap::new();
    for (path, text) in &out.files {
        if !path.starts_with("terraform/infra/") {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(rules) = doc
            .pointer("/resource/aws_lb_listener_rule")
            .and_then(Value::as_object)
        {
            for (name, body) in rules {
                found.insert(name.clone(), body["priority"].as_u64().unwrap());
            }
        }
    }
    found
}

/// What breaks a switch from `before` to `after` (empty when nothing does).
fn switch_problems(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, priority) in after {
        match before.get(name) {
            Some(old) if old != priority => problems.push(format!(
                "{name} renumbered {old} → {priority} by another service's switch"
            )),
            Some(_) => {}
            None => {
                if let Some((holder, _)) = before.iter().find(|(_, p)| *p == priority) {
                    problems.push(format!(
                        "new rule {name} takes priority {priority}, which {holder} holds until the switch is applied"
                    ));
                }
            }
        }
    }
    problems
}

/// Service names whose production rule hashes onto `web`'s slot (`api2821`) and whose
/// name sorts before `web`, so the production rule was placed first: before, `web` moved to
/// the next slot when `api2821` switched to canary — SetRulePriorities on `web` racing
/// CreateRule on the new rule for the same priority.
#[test]
fn switching_a_service_leaves_the_other_rules_where_they_are() {
    for first in ["api2821", "api", "orders"] {
        for rollout in ["{ strategy: canary }", "{ strategy: blue_green }"] {
            let before = priorities(&stack(first, "{ strategy: rolling }"));
            let after = priorities(&stack(first, rollout));
            assert!(
                after.contains_key(&format!("{first}_production")),
                "{after:?}"
            );
            let problems = switch_problems(&before, &after);
            assert!(problems.is_empty(), "{first} → {rollout}: {problems:?}");
            // And back: the rolling rule returns to the priority it had.
            let back = priorities(&stack(first, "{ strategy: rolling }"));
            assert_eq!(before, back);
            let problems = switch_problems(&after, &back);
            assert!(problems.is_empty(), "{first} back to rolling: {problems:?}");
        }
    }
}
