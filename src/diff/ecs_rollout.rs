//! A change to the load balancer of an ECS service deploying blue/green or canary behind
//! the load balancer, which `terraform apply` does not make: Terraform ignores such a
//! service's `load_balancer` after creation (`backend::aws::ecs_deployments`,
//! `hold_load_balancer`: so that a release does not hand ECS back the target group it moved
//! the traffic from, hashicorp/terraform-provider-aws#45678). Only a diff sees the change
//! (`synth` sees one blueprint), so it says how to make it.

use serde_json::Value;

/// Whether the service body ignores its `load_balancer` after creation.
fn held(body: &Value) -> bool {
    body.pointer("/lifecycle/ignore_changes")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|v| v == "load_balancer"))
}

/// A reference as the value it stands for: `${aws_lb_target_group.web.arn}` →
/// `<aws_lb_target_group.web.arn>` (what `terraform state show` prints for it); a literal as
/// written.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .map_or_else(|| s.clone(), |r| format!("<{r}>")),
        other => other.to_string(),
    }
}

/// The resource a reference names: `${aws_lb_listener_rule.web_production.arn}` →
/// `aws_lb_listener_rule.web_production`.
fn named(v: &Value) -> Option<String> {
    let r = v.as_str()?.strip_prefix("${")?.strip_suffix('}')?;
    let (resource, _attribute) = r.rsplit_once('.')?;
    Some(resource.to_string())
}

/// The service's first (only) load balancer block.
fn first(body: &Value) -> Option<&Value> {
    body.get("load_balancer")?.as_array()?.first()
}

/// The note for `addr` when its load balancer changes while Terraform ignores it: switched
/// from rolling (the alternate group, production rule and role are new to ECS), or a new
/// port or container on a service that stays blue/green or canary.
pub fn load_balancer_held(addr: &str, old: &Value, new: &Value) -> Option<String> {
    if !held(new) || old.get("load_balancer") == new.get("load_balancer") {
        return None;
    }
    let lb = first(new)?;
    let adv = lb.get("advanced_configuration")?;
    let why = "Terraform ignores the `load_balancer` of a blue/green or canary service after creation, so that a release does not hand ECS back the target group it moved the traffic from (hashicorp/terraform-provider-aws#45678)";
    let switched = first(old).is_none_or(|l| l.get("advanced_configuration").is_none());
    if switched {
        // The task definition too: a port changed with the switch is in it.
        let targets: Vec<String> = [
            &adv["production_listener_rule"],
            &adv["role_arn"],
            &new["task_definition"],
        ]
        .into_iter()
        .filter_map(named)
        .map(|r| match r.strip_prefix("aws_iam_role.") {
            // The role with its policy, which ECS needs to assume it.
            Some(role) => format!("-target=aws_iam_role_policy_attachment.{role}"),
            None => format!("-target={r}"),
        })
        .collect();
        let load_balancers = format!(
            r#"[{{"targetGroupArn":"{}","containerName":{},"containerPort":{},"advancedConfiguration":{{"alternateTargetGroupArn":"{}","productionListenerRule":"{}","roleArn":"{}"}}}}]"#,
            shown(&lb["target_group_arn"]),
            lb["container_name"],
            lb["container_port"],
            shown(&adv["alternate_target_group_arn"]),
            shown(&adv["production_listener_rule"]),
            shown(&adv["role_arn"]),
        );
        return Some(format!(
            "{addr}: switched from rolling, ECS must be given the alternate target group, the production rule and the role, but {why}: this apply alone would not give them (its plan fails on the service's postcondition). Apply in three steps: (1) `terraform apply {}` (the alternate group, the rule beside the rolling one, the role, the task definition); (2) `aws ecs update-service --cluster {} --service {} --task-definition {} --load-balancers '{load_balancers}'` (still rolling: a rolling deployment into the primary group); (3) `terraform apply` (the strategy; the rolling rule goes)",
            targets.join(" "),
            shown(&new["cluster"]),
            shown(&new["name"]),
            shown(&new["task_definition"]),
        ));
    }
    let old_lb = first(old)?;
    let changed: Vec<String> = ["container_name", "container_port", "target_group_arn"]
        .iter()
        .filter(|k| old_lb.get(**k) != lb.get(**k))
        .map(|k| format!("{k} {} → {}", shown(&old_lb[*k]), shown(&lb[*k])))
        .chain(
            (old_lb.get("advanced_configuration") != Some(adv))
                .then(|| "advanced_configuration".to_string()),
        )
        .collect();
    Some(format!(
        "{addr}: its load balancer changes ({}), but {why}: this apply would leave ECS on the old one (its plan fails on the service's postcondition). Switch the service to `strategy: rolling` in the same change (a rolling service's load balancer follows the blueprint; see the note on switching back), and to blue/green or canary again in a later one",
        changed.join(", "),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_shown_as_the_values_they_stand_for() {
        assert_eq!(
            shown(&json!("${aws_lb_target_group.web.arn}")),
            "<aws_lb_target_group.web.arn>"
        );
        assert_eq!(shown(&json!("web")), "web");
        assert_eq!(shown(&json!(3000)), "3000");
        assert_eq!(
            named(&json!("${aws_iam_role.ecs_infrastructure.arn}")).as_deref(),
            Some("aws_iam_role.ecs_infrastructure")
        );
    }
}
