//! Blue/green behind an ALB that targets pods by IP (EKS, AWS Load Balancer Controller): the
//! switch is a weight flip in the listener rule, not a Service selector change.
//!
//! Switching the one Service's selector would make the controller register the idle
//! colour's pods only at the switch while the live colour's targets drain, and an ALB
//! routes only to healthy targets: 503 until the new targets pass their first health check.
//! Instead each colour has a Service of its own, `<service>-blue` and `<service>-green`,
//! always selecting its Deployment's pods, and the Ingress path's backend is a forward
//! action (`alb.ingress.kubernetes.io/actions.<service>-blue-green`, backend port
//! `use-annotation`) over both colours' target groups, weight 100 on the live one and 0 on
//! the other. Both target groups stay registered and health-checked, both colours' pods get
//! the controller's readiness gate (each Service backs a TargetGroupBinding), and changing
//! `rollout.live` only swaps the weights, which the ALB applies at once.
//! <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#actions>
//! (advanced schema: `forwardConfig.targetGroups[]` with `serviceName`, `servicePort`,
//! `weight`; the action name is the backend's `service.name`, its port name
//! `use-annotation`), and the controller's "Split Traffic" use case
//! (docs/guide/use_cases/blue_green). Weights run 0–999 per target group
//! (Elastic Load Balancing `ForwardActionConfig`). A weight-0 target group is still
//! health-checked: "Health checks are performed on all targets registered to a target group
//! that is specified in a listener rule for your load balancer"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html>),
//! so the idle colour's readiness gates turn True and its Deployment completes.
//!
//! The plain `<service>` Service still selects the live colour: in-cluster callers reach
//! it by cluster DNS, and ingress-nginx or Envoy (whose switch is in-cluster anyway) route
//! to it.

use super::Workload;
use super::yaml::{Map, Str, map};
use crate::naming::fit;

const ALB: &str = "alb.ingress.kubernetes.io";

/// The Service of one colour (`blue`, `green`). A Service name is a DNS-1035 label of at
/// most 63 characters; a longer one is cut with a hash (`naming::fit`).
pub(crate) fn colour_service(s: &Workload, colour: &str) -> String {
    fit(&format!("{}-{colour}", s.service_name), 63)
}

/// The action's name: what the Ingress path names as its backend Service. It is also the
/// name part of the annotation key `actions.<name>`, which Kubernetes limits to 63
/// characters (a qualified name's name part), so it is cut to 63 − `actions.`.
pub(crate) fn action(s: &Workload) -> String {
    fit(
        &format!("{}-blue-green", s.service_name),
        63 - "actions.".len(),
    )
}

/// The Ingress annotation that defines the action: both colours' Services, the live one
/// weighted 100.
pub(crate) fn action_annotation(s: &Workload) -> (String, String) {
    let live = super::workload::live(s);
    let groups: Vec<serde_json::Value> = ["blue", "green"]
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "serviceName": colour_service(s, c),
                "servicePort": s.service_port(),
                "weight": if c == live { 100 } else { 0 },
            })
        })
        .collect();
    let forward = serde_json::json!({
        "type": "forward",
        "forwardConfig": {"targetGroups": groups},
    });
    (format!("{ALB}/actions.{}", action(s)), forward.to_string())
}

/// The Ingress path backend that hands the request to the action.
pub(crate) fn backend<'c>(s: &Workload) -> Map<'c> {
    map! {
        "name" => Str::Owned(action(s)),
        "port" => map! {"name" => "use-annotation"},
    }
}
