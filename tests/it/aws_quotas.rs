//! Quotas of a fresh AWS account a large blueprint can pass (`src/backend/aws/quotas.rs`):
//! security group rules per group and domain names per ACM certificate. Both adjustable, so
//! synth warns naming the quota — past it, never at it — rather than letting the apply stop
//! half done (RulesPerSecurityGroupLimitExceeded, LimitExceededException).

use std::collections::BTreeMap;

use crate::support::{ecs_stack, resources, synth_aws};

/// `n` services that all use one cache, each routed by its own path.
fn monorepo(n: usize) -> String {
    let mut rest = String::from(
        "caches:\n  - { name: sessions, engine: valkey, version: \"8.0\", size: small }\n\
         load_balancer:\n  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/x\" }\n\
         services:\n",
    );
    for i in 0..n {
        rest.push_str(&format!(
            "  - {{ name: s{i}, image: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/s:1.0.0\", port: 8080, task: {{ cpu: 256, memory: 512 }}, routes: [{{ path: /s{i} }}], uses: [sessions] }}\n"
        ));
    }
    ecs_stack("mono", &rest)
}

/// Rules of each (security group, direction) in `infra`, as EC2 counts them.
fn counts(out: &infragen::Output) -> BTreeMap<(String, &'static str), usize> {
    let mut c = BTreeMap::new();
    for (ty, dir) in [
        ("aws_vpc_security_group_ingress_rule", "inbound"),
        ("aws_vpc_security_group_egress_rule", "outbound"),
    ] {
        for r in resources(out, "infra", ty) {
            let group = r["security_group_id"].as_str().unwrap().to_string();
            *c.entry((group, dir)).or_default() += 1;
        }
    }
    c
}

fn warnings<'a>(out: &'a infragen::Output, rule: &str) -> Vec<&'a str> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some(rule))
        .map(|n| n.text.as_str())
        .collect()
}

/// Sixty services using one cache give its group 60 inbound rules (one per client group),
/// and the load balancer's group 60 outbound ones: at the quota, no warning. The 61st
/// service passes it on both groups, and each is named with its count.
#[test]
fn security_group_rules_past_the_quota_are_warned_about() {
    let at = synth_aws("mono", &monorepo(60)).unwrap();
    let c = counts(&at);
    assert_eq!(
        c[&("${aws_security_group.sessions.id}".into(), "inbound")],
        60
    );
    assert_eq!(c[&("${aws_security_group.alb.id}".into(), "outbound")], 60);
    assert!(c.values().all(|n| *n <= 60), "{c:?}");
    assert_eq!(warnings(&at, "sg-rules-quota"), Vec::<&str>::new());

    let past = synth_aws("mono", &monorepo(61)).unwrap();
    let over: Vec<_> = counts(&past).into_iter().filter(|(_, n)| *n > 60).collect();
    let warned = warnings(&past, "sg-rules-quota");
    assert_eq!(warned.len(), over.len(), "{over:?}\n{warned:#?}");
    for ((group, dir), n) in over {
        let group = group
            .trim_start_matches("${")
            .trim_end_matches(".id}")
            .to_string();
        assert!(
            warned.iter().any(
                |w| w.contains(&format!("`{group}` gets {n} {dir} IPv4 rules"))
                    && w.contains("Inbound or outbound rules per security group")
            ),
            "{group} {dir} {n}: {warned:#?}"
        );
    }
}

/// ACM issues at most 10 names per certificate by default, the domain included: ten pass,
/// eleven are warned about, with the wildcard that would cover the hosts.
#[test]
fn certificate_names_past_the_quota_are_warned_about() {
    let stack = |sans: usize| {
        let names: Vec<String> = (0..sans)
            .map(|i| format!("h{i}.shop.example.com"))
            .collect();
        ecs_stack(
            "shop",
            &format!(
                "load_balancer:\n  certificate: {{ domain: shop.example.com, alternative_names: [{}] }}\n\
                 services:\n  - {{ name: web, image: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/w:1.0.0\", port: 8080, task: {{ cpu: 256, memory: 512 }}, routes: [{{ path: / }}] }}\n",
                names.join(", ")
            ),
        )
    };
    let at = synth_aws("shop", &stack(9)).unwrap();
    let cert = &resources(&at, "infra", "aws_acm_certificate")[0];
    assert_eq!(
        cert["subject_alternative_names"].as_array().unwrap().len(),
        9
    );
    assert_eq!(warnings(&at, "acm-names-quota"), Vec::<&str>::new());
    let past = synth_aws("shop", &stack(10)).unwrap();
    let warned = warnings(&past, "acm-names-quota");
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(warned[0].contains("names 11 domains"), "{}", warned[0]);
    assert!(warned[0].contains("`*.shop.example.com`"), "{}", warned[0]);
}
