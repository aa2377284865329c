//! `kubernetes.ingress_controller.load_balancer_name`: the name the cloud controller gives
//! the load balancer of the edge's Service (ingress-nginx's, or the Envoy proxies' with
//! `ingress.gateway`). The cloud refuses a name outside its rules only when the Service is
//! reconciled — after every apply has succeeded, as an event on the Service, with no
//! address for DNS ever — so it is checked here.
//!
//! - AWS (the Load Balancer Controller's NLB, `aws-load-balancer-name`): at most 32
//!   characters, letters, digits and hyphens, not beginning or ending with a hyphen, not
//!   beginning with `internal-` (CreateLoadBalancer,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html>).
//! - AWS `load_balancer.name` (the ALB's own name, on ECS and EKS): the same rules, so the
//!   blueprint's name is refused where ELB would refuse it; a derived name is made one ELB
//!   takes instead (`naming::elb_name`).
//! - DigitalOcean (`do-loadbalancer-name`): at most 255 characters, starting with a letter or
//!   digit, letters, digits, `.` and `-`, not ending with `-`
//!   (<https://github.com/digitalocean/digitalocean-cloud-controller-manager/blob/master/docs/controllers/services/annotations.md>).

use super::Checker;
use crate::catalog::Provider;

pub fn check(c: &mut Checker, bp: &crate::blueprint::types::Blueprint) {
    application_load_balancer(c, bp);
    let Some(name) = bp
        .kubernetes
        .as_ref()
        .and_then(|k| k.ingress_controller.as_ref())
        .and_then(|ic| ic.load_balancer_name.as_deref())
    else {
        return;
    };
    let problem = match c.provider {
        Provider::Aws => aws(name),
        Provider::Digitalocean => digitalocean(name),
        // An existing cluster's controller: its rules are not known here.
        Provider::Kubernetes => None,
    };
    if let Some(why) = problem {
        c.error(
            "kubernetes.ingress_controller.load_balancer_name",
            format!(
                "`{name}` is not a {} load balancer name: {why}",
                c.provider.title()
            ),
        );
    }
}

/// `load_balancer.name` on AWS: the ALB's own name (ECS's `aws_lb`, EKS's
/// `load-balancer-name` annotation), under the same rules once cut to 32 characters. Terraform refuses it at plan, and
/// on EKS the controller only in an event on the Ingress, with no ALB ever made.
fn application_load_balancer(c: &mut Checker, bp: &crate::blueprint::types::Blueprint) {
    if c.provider != Provider::Aws {
        return;
    }
    let Some(name) = bp.load_balancer.as_ref().and_then(|l| l.name.as_deref()) else {
        return;
    };
    // A longer name is cut to 32 characters, and a hyphen the cut ends on dropped, as the
    // back-end writes it: what is left must be a name.
    let cut: String = name.chars().take(32).collect();
    if let Some(why) = aws(cut.trim_end_matches('-')) {
        c.error(
            "load_balancer.name",
            format!("`{name}` is not an AWS load balancer name: {why}"),
        )
        .help = Some(if name.starts_with("internal-") {
            "`internal-` begins the DNS names of internal load balancers, so ELB keeps it: choose another name (an internal load balancer is `load_balancer.internal: true`, not a name)".into()
        } else {
            "letters, digits and hyphens, not beginning with a hyphen".into()
        });
    }
}

fn aws(name: &str) -> Option<&'static str> {
    if name.len() > 32 {
        Some("at most 32 characters")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Some("only letters, digits and hyphens")
    } else if name.is_empty() || name.starts_with('-') || name.ends_with('-') {
        Some("it must not begin or end with a hyphen")
    } else if name.starts_with("internal-") {
        Some("it must not begin with `internal-`")
    } else {
        None
    }
}

fn digitalocean(name: &str) -> Option<&'static str> {
    if name.len() > 255 {
        Some("at most 255 characters")
    } else if !name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        Some("it must start with a letter or digit")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Some("only letters, digits, `.` and `-`")
    } else if name.ends_with('-') {
        Some("it must not end with `-`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{aws, digitalocean};

    #[test]
    fn names() {
        assert_eq!(aws("shop-edge"), None);
        assert!(aws("a-load-balancer-name-longer-than-32").is_some());
        assert!(aws("internal-edge").is_some());
        assert!(aws("edge-").is_some());
        assert!(aws("shop.edge").is_some());
        assert_eq!(digitalocean("ecommerce-lb-stage"), None);
        assert_eq!(digitalocean("shop.edge"), None);
        assert!(digitalocean("-edge").is_some());
        assert!(digitalocean("edge_1").is_some());
    }
}
