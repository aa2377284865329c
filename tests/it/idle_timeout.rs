//! `load_balancer.idle_timeout` on EKS with ingress-nginx behind the ALB: the ALB keeps its
//! connections to the controller (and a quiet request — a WebSocket, a long poll) open for
//! that long, so nginx must not close them first. AWS asks targets to keep connections open
//! longer than the ALB's idle timeout, or a request races the target's close and the ALB
//! answers 502 (ELB: "Edit attributes for your Application Load Balancer", connection idle
//! timeout); nginx keeps an idle client connection 75 s and a silent upstream 60 s.

use infragen::Provider;
use serde_json::Value;

use crate::support::{ingress_nginx_values, resources, root};

fn ecommerce(idle: Option<u32>) -> infragen::Output {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let yaml = match idle {
        Some(t) => yaml.replacen(
            "load_balancer:\n",
            &format!("load_balancer:\n  idle_timeout: {t}\n"),
            1,
        ),
        None => yaml,
    };
    infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production").unwrap()
}

/// The ALB's idle timeout (from the `edge` Ingress's attributes) and ingress-nginx's
/// ConfigMap settings (its Helm values).
fn settings(out: &infragen::Output) -> (Option<u64>, Value) {
    let edge = resources(out, "platform", "kubernetes_ingress_v1")
        .into_iter()
        .find(|r| r["metadata"]["name"] == "edge")
        .expect("the ALB's edge Ingress");
    let attrs =
        edge["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-attributes"]
            .as_str()
            .unwrap()
            .to_string();
    let idle = attrs
        .split(',')
        .find_map(|a| a.strip_prefix("idle_timeout.timeout_seconds="))
        .map(|t| t.parse().unwrap());
    let values: Value =
        serde_json::from_str(&ingress_nginx_values(out).expect("ingress-nginx")).unwrap();
    (idle, values["controller"]["config"].clone())
}

fn seconds(config: &Value, key: &str, default: u64) -> u64 {
    config[key].as_str().map_or(default, |v| v.parse().unwrap())
}

#[test]
fn ingress_nginx_behind_the_alb_outlasts_its_idle_timeout() {
    for t in [None, Some(30), Some(120), Some(900), Some(4000)] {
        let out = ecommerce(t);
        let (idle, config) = settings(&out);
        assert_eq!(idle, t.map(u64::from), "the ALB's idle timeout");
        // ELB's default is 60 s.
        let idle = idle.unwrap_or(60);
        let keep_alive = seconds(&config, "keep-alive", 75);
        assert!(
            keep_alive > idle,
            "idle {t:?}: nginx closes the ALB's idle connections after {keep_alive} s, before the ALB does ({idle} s): 502s"
        );
        for key in ["proxy-read-timeout", "proxy-send-timeout"] {
            let proxy = seconds(&config, key, 60);
            assert!(
                proxy >= idle,
                "idle {t:?}: nginx cuts a quiet request after {proxy} s ({key}), the ALB keeps it {idle} s"
            );
        }
        if t.is_none() {
            // Nothing to change: nginx's defaults outlast the ALB's.
            assert!(config.get("keep-alive").is_none(), "{config}");
        }
    }
}

#[test]
fn an_idle_timeout_out_of_the_elb_range_is_refused_on_eks() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let yaml = yaml.replacen(
        "load_balancer:\n",
        "load_balancer:\n  idle_timeout: 5000\n",
        1,
    );
    let err = infragen::synthesize("shop.yaml", yaml.as_bytes(), Provider::Aws, "production")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("load_balancer.idle_timeout"), "{err}");
}
