//! ECS's own blue/green and canary deployments for `rollout.strategy: blue_green | canary`
//! (the `ECS` deployment controller's `BLUE_GREEN` and `CANARY` strategies, July and October
//! 2025; no CodeDeploy).
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html>
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html>
//!
//! ECS starts the new revision (green) beside the running one (blue), then moves the
//! production traffic: all at once (`BLUE_GREEN`), or `canary_weight` % first and the rest
//! after a canary bake (`CANARY`). The old revision keeps running for a bake time after the
//! shift, so a rollback is a weight flip, not a relaunch.
//!
//! - **Behind the load balancer** ECS moves traffic by re-weighting one listener rule that
//!   forwards to two target groups: the service's own (primary) and an alternate one with
//!   the same health check (`edge.rs`). The rule must exist and forward to both (weights 100
//!   and 0) before the service is created ("Both targetGroup and alternateTargetGroup must be
//!   associated with the productionListenerRule"); for an ALB it must be a *rule*, not the
//!   listener's default action, so a service routing `/` gets a `/*` rule of its own (the
//!   default action still forwards to its primary group, which no request reaches past the
//!   rule). ECS calls the ELB APIs through an infrastructure role it
//!   assumes (`ecs.amazonaws.com`, managed policy
//!   `AmazonECSInfrastructureRolePolicyForLoadBalancers`), passed in each service's
//!   `advanced_configuration`; whoever applies needs `iam:PassRole` on it, as on the task
//!   roles.
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html>
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html>
//! - **Published through Service Connect only** (another service `uses` it, no routes): ECS
//!   shifts the traffic in the Service Connect proxies; nothing more to create.
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html>
//! - **Neither** (a worker): `BLUE_GREEN` still runs ("headless": the new revision starts,
//!   the old one stops after the bake); a canary has no traffic to split and ECS documents no
//!   headless canary, so the service deploys rolling and a warning says so.
//!
//! The deployment circuit breaker stays as the blueprint says: ECS's failure detection
//! (circuit breaker and alarms) applies to rolling and blue/green deployments.
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html>
//! What ECS cannot do with two target groups is refused in `semantic::ecs_rollout` (a service
//! whose routes need more than one listener rule; target tracking on requests per target).

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::edge;
use super::iam::assume_role;
use crate::blueprint::types::{Color, Service, Strategy};
use crate::terraform::{Module, Ref, interp, res};

/// Minutes the old revision keeps running after all production traffic moved, when
/// `rollout.bake_minutes` gives none (ECS's `bakeTimeInMinutes`, which `BLUE_GREEN`
/// requires; 0–1440, checked in `semantic::ecs_rollout`): the window in which a rollback is
/// a weight flip.
pub const BAKE_MINUTES: u32 = 10;

/// Minutes a canary takes its share before the rest of the traffic moves, when
/// `rollout.canary_minutes` gives none (ECS's `canaryBakeTimeInMinutes`, whose default this
/// is).
pub const CANARY_BAKE_MINUTES: u32 = 10;

/// ECS's managed policy for the infrastructure role of blue/green, linear and canary
/// deployments behind a load balancer.
const LOAD_BALANCERS_POLICY: &str =
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers";

/// Whether the service asks for a deployment ECS runs itself (blue/green or canary).
pub fn native(s: &Service) -> bool {
    s.rollout.strategy.two_tracks()
}

/// The second target group of a service deploying blue/green or canary behind the load
/// balancer. (Service names are DNS labels, so `_alternate` names no other service's group.)
pub fn alternate_target_group(service: &str) -> Ref {
    res("aws_lb_target_group", &format!("{service}_alternate"))
}

/// The role ECS assumes to re-weight the production listener rules and (de)register tasks.
pub fn infrastructure_role() -> Ref {
    res("aws_iam_role", "ecs_infrastructure")
}

fn infrastructure_policy() -> Ref {
    res("aws_iam_role_policy_attachment", "ecs_infrastructure")
}

/// The services behind the load balancer that ECS deploys blue/green or canary.
fn behind_lb<'a>(ctx: &Ctx<'a>) -> Vec<&'a Service> {
    edge::routed(ctx)
        .into_iter()
        .filter(|s| native(s))
        .collect()
}

/// The infrastructure role, once for every service that needs it.
pub fn declare(ctx: &Ctx, m: &mut Module) {
    if behind_lb(ctx).is_empty() {
        return;
    }
    let role = infrastructure_role();
    m.file("ecs")
        .resource(
            &role,
            json!({
                // IAM role names have at most 64 characters.
                "name": crate::naming::fit(&format!("{}-ecs-infrastructure", ctx.prefix), 64),
                "description": "Assumed by ECS to shift traffic between each service's two target groups during blue/green and canary deployments",
                // The trust the ECS guide gives for the infrastructure role.
                "assume_role_policy": assume_role("ecs.amazonaws.com"),
            }),
        )
        .resource(
            &infrastructure_policy(),
            json!({"role": role.id(), "policy_arn": LOAD_BALANCERS_POLICY}),
        );
}

/// `ROLLING`, said rather than left out: the provider's `deployment_configuration` is
/// optional *and computed*, so a service switched back from blue/green whose block vanished
/// would show no difference and keep deploying blue/green, now without its second group.
fn rolling(body: &mut Json) {
    body["deployment_configuration"] = json!({"strategy": "ROLLING"});
}

/// `lifecycle.ignore_changes` on the service's `load_balancer`: after creation the target
/// groups are ECS's, as the production rule's weights are (`edge::production_rule`).
///
/// The provider (`internal/service/ecs/service.go`: the 6.x source after 6.33 reads so, and
/// 5.100 did so on the wire against moto, docs/output.md "Releases") reads the
/// service's `loadBalancers` from DescribeServices into state, and UpdateService sends
/// `loadBalancers` only when that state differs from the configuration, and then sends the
/// configuration's pair verbatim (primary as `targetGroupArn`, alternate as
/// `alternateTargetGroupArn`). A release is an apply that changes the task definition; if
/// ECS reports the pair its last deployment left (the live group first), the apply hands it
/// back the pair as written, naming the group that holds the live tasks as the one to
/// deploy into: hashicorp/terraform-provider-aws#45678 (open; reported on 6.24, the line
/// pinned here), "Terraform triggered deployments do not alternate target groups", which
/// console and CLI deployments do. Ignored, the apply sends what `aws ecs update-service
/// --task-definition` sends (no load balancers), and ECS keeps the pair it tracks.
///
/// What the apply then cannot change is the load balancer itself: switching a running
/// service from rolling (its advanced configuration), a new port or container. Rather than
/// leave ECS on the old one silently, a postcondition refuses the plan: with the hold, the
/// planned `load_balancer` is the one ECS reported, known at plan time, so `terraform plan`
/// fails before anything is applied when it is not the blueprint's (container, port, an
/// advanced configuration at all; not the target groups, which ECS swaps). `infragen diff`
/// gives the steps (`diff::ecs_rollout`); a new service is created with all of it.
/// <https://github.com/hashicorp/terraform-provider-aws/issues/45678>
fn hold_load_balancer(body: &mut Json) {
    let ignored = &mut body["lifecycle"]["ignore_changes"];
    if !matches!(ignored, Json::Array(_)) {
        *ignored = json!([]);
    }
    if let Json::Array(list) = ignored {
        list.push(json!("load_balancer"));
    }
    let lb = &body["load_balancer"][0];
    let (Some(container), Json::Number(port)) =
        (lb["container_name"].as_str(), &lb["container_port"])
    else {
        return;
    };
    let container = container.to_string();
    // `try(…, true)`: hashicorp/aws 5.x has no `advanced_configuration` (the mirror
    // `scripts/tf-validate.sh` and moto use); the pinned 6.x has, as an empty list when ECS
    // holds none.
    let condition = format!(
        "length(self.load_balancer) == 1 && alltrue([for lb in self.load_balancer : lb.container_name == \"{container}\" && lb.container_port == {port} && try(length(lb.advanced_configuration) > 0, true)])"
    );
    let name = body["name"].as_str().unwrap_or_default().to_string();
    body["lifecycle"]["postcondition"] = json!([{
        "condition": interp(&condition),
        "error_message": format!(
            "ECS runs service {name} with another load balancer configuration than container {container} on port {port} with an alternate target group and production rule. Terraform leaves a blue/green or canary service's load balancer to ECS after creation (hashicorp/terraform-provider-aws#45678), so this apply cannot change it: run `infragen diff` for the steps."
        ),
    }]);
}

/// The service's deployment configuration (and, behind the load balancer, its
/// `advanced_configuration`). `body` is the `aws_ecs_service` body, whose `load_balancer` is
/// set when `behind_lb`.
pub fn configure(
    ctx: &Ctx,
    s: &Service,
    behind_lb: bool,
    body: &mut Json,
    depends: &mut Vec<String>,
) {
    let unused = |field: &str| {
        ctx.note(format!(
            "service `{}`: `rollout.{field}` times ECS's {} deployments; `{}` ignores it",
            s.name,
            if field == "canary_minutes" {
                "canary"
            } else {
                "blue/green and canary"
            },
            match s.rollout.strategy {
                Strategy::Rolling => "rolling",
                Strategy::BlueGreen => "blue_green",
                Strategy::Canary => "canary",
                Strategy::Recreate => "recreate",
            }
        ));
    };
    if s.rollout.canary_minutes.is_some() && s.rollout.strategy != Strategy::Canary {
        unused("canary_minutes");
    }
    if !native(s) {
        if s.rollout.bake_minutes.is_some() {
            unused("bake_minutes");
        }
        rolling(body);
        return;
    }
    if s.rollout.live == Color::Green {
        ctx.note(format!(
            "service `{}`: `rollout.live` picks the colour a Kubernetes Service selects; on ECS the deployment moves the traffic itself, so it has no effect",
            s.name
        ));
    }
    let published = super::service_connect::is_server(ctx, s);
    let canary = s.rollout.strategy == Strategy::Canary;
    if canary && !behind_lb && !published {
        ctx.note(crate::diagnostic::Note::warning(
            "ecs-rollout-rolling",
            format!(
                "service `{}`: `rollout.strategy: canary` needs traffic to split, and it has none (no `routes` behind the load balancer, no service `uses` it): ECS documents canary deployments only behind a load balancer or Service Connect, so it deploys rolling (new tasks beside the old, the circuit breaker rolling back a failed release)",
                s.name
            ),
        ));
        rolling(body);
        return;
    }
    let bake = s.rollout.bake_minutes.unwrap_or(BAKE_MINUTES);
    let mut config = json!({
        "strategy": if canary { "CANARY" } else { "BLUE_GREEN" },
        // A string in the provider's schema (a nullable number).
        "bake_time_in_minutes": bake.to_string(),
    });
    if canary {
        let weight = s
            .rollout
            .canary_weight
            .unwrap_or(crate::k8s::workload::DEFAULT_CANARY_WEIGHT);
        config["canary_configuration"] = json!({
            "canary_percent": weight,
            "canary_bake_time_in_minutes": s
                .rollout
                .canary_minutes
                .unwrap_or(CANARY_BAKE_MINUTES)
                .to_string(),
        });
    }
    body["deployment_configuration"] = config;
    if behind_lb {
        if let Json::Array(lbs) = &mut body["load_balancer"] {
            for lb in lbs {
                lb["advanced_configuration"] = json!({
                    "alternate_target_group_arn": alternate_target_group(&s.name).arn(),
                    // The service's only rule (`semantic::ecs_rollout` refuses more).
                    "production_listener_rule": edge::listener_rule(
                        &crate::semantic::listener_rules::production_rule_name(&s.name),
                    )
                    .arn(),
                    "role_arn": infrastructure_role().arn(),
                });
            }
        }
        // ECS assumes the role as it creates the service.
        depends.push(infrastructure_policy().address());
        hold_load_balancer(body);
    } else if !published {
        ctx.note(format!(
            "service `{}`: blue/green without traffic to shift (no `routes`, no service `uses` it): ECS starts the new revision beside the old one and stops the old one {bake} minutes after the new one is healthy",
            s.name
        ));
    }
}
