//! `services[].internal_routes` (round 12: an admin API reachable only from the VPC or a
//! VPN next to a public web app): on ECS Fargate a second, internal ALB in the private
//! subnets serves those routes and the public one does not; on EKS an internal ALB (an
//! Ingress of class `alb`) targets the services' pods, and the public edge (the ALB in
//! front of ingress-nginx) neither routes to them nor reaches them; DOKS and other
//! clusters refuse it.

use std::net::Ipv4Addr;

use crate::netpol::admitted;
use crate::support::{manifests, resources, root, synth};
use infragen::catalog::Provider;
use serde_json::Value;

fn fixture() -> std::path::PathBuf {
    root().join("tests/fixtures/workloads/internal-admin.yaml")
}

fn edge(env: &str) -> Value {
    let out = synth(&fixture(), Provider::Aws, env);
    serde_json::from_str(&out.files["terraform/infra/edge.tf.json"]).unwrap()
}

/// The listener a target group is forwarded to from: its rules' listeners and the
/// listeners whose default action forwards to it.
fn listeners_forwarding_to(edge: &Value, tg: &str) -> Vec<String> {
    let arn = format!("${{aws_lb_target_group.{tg}.arn}}");
    let r = &edge["resource"];
    let mut out = Vec::new();
    for (name, l) in r["aws_lb_listener"].as_object().unwrap() {
        if l["default_action"].to_string().contains(&arn) {
            out.push(format!("${{aws_lb_listener.{name}.arn}}"));
        }
    }
    for rule in r["aws_lb_listener_rule"].as_object().unwrap().values() {
        if rule["action"].to_string().contains(&arn) {
            out.push(rule["listener_arn"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn internal_routes_get_an_internal_alb_in_private_subnets_and_not_the_public_one() {
    let edge = edge("production");
    let r = &edge["resource"];
    let internal = &r["aws_lb"]["internal"];
    assert_eq!(internal["internal"], true, "{internal}");
    let subnets = internal["subnets"].to_string();
    assert!(
        subnets.contains("private") && !subnets.contains("public"),
        "{subnets}"
    );
    assert_eq!(r["aws_lb"]["main"]["internal"], false);

    // The admin target group is reached only through the internal load balancer's HTTPS
    // listener; the public one's listeners never forward to it.
    let admin = listeners_forwarding_to(&edge, "admin");
    assert_eq!(admin, vec!["${aws_lb_listener.internal_https.arn}"]);
    let listener = &r["aws_lb_listener"]["internal_https"];
    assert_eq!(listener["load_balancer_arn"], "${aws_lb.internal.arn}");
    assert_eq!(listener["protocol"], "HTTPS");
    let web = listeners_forwarding_to(&edge, "web");
    assert_eq!(web, vec!["${aws_lb_listener.https.arn}"]);
    assert_eq!(
        r["aws_lb_listener"]["https"]["load_balancer_arn"],
        "${aws_lb.main.arn}"
    );
}

/// The internal load balancer admits the VPC and `internal_cidrs` (per environment), never
/// the internet; the admin tasks admit the internal load balancer's group.
#[test]
fn internal_alb_admits_the_vpc_and_listed_cidrs_and_the_tasks_admit_it() {
    let sources = |env: &str| -> Vec<String> {
        let edge = edge(env);
        let mut v: Vec<String> = edge["resource"]["aws_vpc_security_group_ingress_rule"]
            .as_object()
            .unwrap()
            .values()
            .filter(|rule| {
                rule["security_group_id"] == "${aws_security_group.internal_alb.id}"
                    && rule["from_port"] == 443
            })
            .map(|rule| rule["cidr_ipv4"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(sources("production"), ["10.0.0.0/16", "172.16.0.0/22"]);
    assert_eq!(
        sources("staging"),
        ["10.0.0.0/16", "172.16.0.0/22", "192.168.50.0/24"]
    );

    let out = synth(&fixture(), Provider::Aws, "production");
    let ecs: Value = serde_json::from_str(&out.files["terraform/infra/ecs.tf.json"]).unwrap();
    let rules = &ecs["resource"]["aws_vpc_security_group_ingress_rule"];
    assert_eq!(
        rules["admin_from_alb"]["referenced_security_group_id"],
        "${aws_security_group.internal_alb.id}"
    );
    assert_eq!(
        rules["web_from_alb"]["referenced_security_group_id"],
        "${aws_security_group.alb.id}"
    );
    let edge = edge("production");
    let egress = &edge["resource"]["aws_vpc_security_group_egress_rule"];
    assert_eq!(
        egress["internal_alb_to_admin"]["security_group_id"],
        "${aws_security_group.internal_alb.id}"
    );
    assert!(egress["alb_to_admin"].is_null(), "{egress}");
}

fn refusal(provider: Provider, yaml: &str) -> String {
    match infragen::synthesize(
        "internal-admin.yaml",
        yaml.as_bytes(),
        provider,
        "production",
    ) {
        Ok(_) => panic!("{provider}: internal_routes was not refused"),
        Err(d) => d.to_string(),
    }
}

/// DOKS, EKS with the Gateway API and other clusters do not build an internal load
/// balancer: the flag is refused at its line rather than the admin API published on the
/// public one.
#[test]
fn internal_routes_are_refused_where_no_internal_load_balancer_is_built() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let doks = text
        .replace("platform: ecs_fargate", "platform: doks")
        .replace(
            "aws:\n    region: eu-west-1",
            "digitalocean:\n    region: ams3",
        );
    let err = refusal(Provider::Digitalocean, &doks);
    assert!(
        err.contains("DigitalOcean offers internal load balancers")
            && err.contains("DNS-01 solver needs an API token")
            && err.contains("internal-admin.yaml:40:"),
        "{err}"
    );
    let k8s = text.replace("aws:\n    region: eu-west-1", "kubernetes: {}");
    let err = refusal(Provider::Kubernetes, &k8s);
    assert!(err.contains("does not know which load balancers"), "{err}");
    // EKS with the Gateway API: no `load_balancer` (refused beside it), so no ACM
    // certificate for an internal ALB.
    let gateway = eks_variant(&text)
        .replace(
            "ingress: { hosts: [example.com] }",
            "ingress: { hosts: [example.com], gateway: { class: eg } }",
        )
        .replace(
            "load_balancer:\n  certificate:",
            "xload_balancer:\n  certificate:",
        );
    let gateway = drop_block(&gateway, "xload_balancer:");
    let err = refusal(Provider::Aws, &gateway);
    assert!(
        err.contains("with `ingress.gateway` on EKS no internal load balancer is built"),
        "{err}"
    );
}

/// The fixture's `eks` environment as the whole blueprint (production), for variants.
fn eks_variant(text: &str) -> String {
    let (base, envs) = text.split_once("environments:").unwrap();
    let eks = envs.split_once("  eks:\n").unwrap().1;
    let overlay: String = eks
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "{}{overlay}\nenvironments:\n  production: {{}}\n",
        base.replace("cluster:\n  platform: ecs_fargate\n", "")
    )
}

/// `text` without the top-level block starting with the line `key`.
fn drop_block(text: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for l in text.lines() {
        if l == key {
            skipping = true;
            continue;
        }
        if skipping && (l.starts_with(' ') || l.is_empty()) {
            continue;
        }
        skipping = false;
        out.push(l);
    }
    out.join("\n") + "\n"
}

fn eks() -> infragen::Output {
    synth(&fixture(), Provider::Aws, "eks")
}

/// The Ingress manifests of an output that route to Service `name`.
fn ingresses_to<'a>(docs: &'a [Value], name: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| d["kind"] == "Ingress")
        .filter(|d| {
            d["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| {
                    r["http"]["paths"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["backend"]["service"]["name"] == name)
                })
        })
        .collect()
}

/// On EKS the admin API is routed only by an internal ALB (class `alb`, scheme
/// `internal`, admitting the VPC and `internal_cidrs`), and the public edge — the
/// ingress-nginx Ingress and the ALB in front of it — has no route to it.
#[test]
fn on_eks_internal_routes_are_served_only_by_an_internal_alb() {
    let out = eks();
    let docs = manifests(&out);
    let admin = ingresses_to(&docs, "admin");
    assert_eq!(admin.len(), 1, "{admin:?}");
    let internal = admin[0];
    let a = &internal["metadata"]["annotations"];
    assert_eq!(internal["spec"]["ingressClassName"], "alb");
    assert_eq!(a["alb.ingress.kubernetes.io/scheme"], "internal");
    assert_eq!(a["alb.ingress.kubernetes.io/target-type"], "ip");
    assert_eq!(
        a["alb.ingress.kubernetes.io/inbound-cidrs"],
        "10.0.0.0/16,172.16.0.0/22"
    );
    assert_eq!(
        a["alb.ingress.kubernetes.io/load-balancer-name"],
        "intadmin-eks-internal"
    );
    // No WAF on the internal one (as on ECS); the public ALB keeps its own.
    assert!(a.get("alb.ingress.kubernetes.io/wafv2-acl-name").is_none());
    assert_eq!(
        internal["spec"]["rules"][0]["host"], "admin.example.com",
        "{internal}"
    );
    // Nothing else routes to it: the ingress-nginx Ingress routes `web` alone.
    let web = ingresses_to(&docs, "web");
    assert_eq!(web.len(), 1);
    assert_eq!(web[0]["spec"]["ingressClassName"], "nginx");
    assert!(
        ingresses_to(&docs, "admin")
            .iter()
            .all(|i| i["spec"]["ingressClassName"] != "nginx")
    );
    // The public ALB (platform's `edge` Ingress, in front of ingress-nginx) has no rule
    // for the internal host.
    let edge = resources(&out, "platform", "kubernetes_ingress_v1");
    assert_eq!(edge.len(), 1);
    assert!(
        !edge[0].to_string().contains("admin.example.com"),
        "{}",
        edge[0]
    );
    assert_eq!(
        edge[0]["metadata"]["annotations"]["alb.ingress.kubernetes.io/scheme"],
        "internet-facing"
    );
    // Even where the internal host is one of the public Ingress's hosts, the public
    // Ingress has no path to the admin API.
    let text = std::fs::read_to_string(fixture()).unwrap();
    let shared = eks_variant(&text).replace(
        "ingress: { hosts: [example.com] }",
        "ingress: { hosts: [example.com, admin.example.com] }",
    );
    assert!(shared.contains("admin.example.com]"));
    let out = infragen::synthesize(
        "internal-admin.yaml",
        shared.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let admin = ingresses_to(&docs, "admin");
    assert_eq!(admin.len(), 1, "{admin:?}");
    assert_eq!(admin[0]["spec"]["ingressClassName"], "alb");
}

/// The internal ALB's nodes (in the public subnets, where no pod is) reach the admin pods
/// on their port and the public edge's ingress-nginx does not; the other way round for
/// `web`. A pod of another namespace reaches neither.
#[test]
fn on_eks_network_policies_admit_the_internal_alb_to_exactly_the_internal_services() {
    let out = eks();
    let docs = manifests(&out);
    let internal = ingresses_to(&docs, "admin")[0];
    let subnets = internal["metadata"]["annotations"]["alb.ingress.kubernetes.io/subnets"]
        .as_str()
        .unwrap();
    assert_eq!(
        subnets,
        "intadmin-eks-public-eu-west-1a,intadmin-eks-public-eu-west-1b"
    );
    // Those names are the public subnets' `Name` tags in `infra`.
    let net = resources(&out, "infra", "aws_subnet");
    for name in subnets.split(',') {
        let s = net
            .iter()
            .find(|s| s["tags"]["Name"] == name)
            .unwrap_or_else(|| panic!("no subnet named {name}"));
        assert_eq!(s["tags"]["tier"], "public");
    }
    let alb_node = Ipv4Addr::new(10, 0, 2, 37); // in 10.0.2.0/24, a public subnet
    let outside: (&str, &[(&str, &str)], Ipv4Addr) = ("\u{0}external", &[], alb_node);
    let nginx: (&str, &[(&str, &str)], Ipv4Addr) = (
        "ingress-nginx",
        &[
            ("app.kubernetes.io/name", "ingress-nginx"),
            ("app.kubernetes.io/component", "controller"),
        ],
        Ipv4Addr::new(10, 0, 10, 20), // a pod: private subnets
    );
    let intruder: (&str, &[(&str, &str)], Ipv4Addr) = (
        "intruder",
        &[("app", "intruder")],
        Ipv4Addr::new(10, 0, 11, 9),
    );
    assert!(admitted(&out, outside, ("intadmin", "admin"), 8080));
    assert!(!admitted(&out, nginx, ("intadmin", "admin"), 8080));
    assert!(!admitted(&out, intruder, ("intadmin", "admin"), 8080));
    assert!(admitted(&out, nginx, ("intadmin", "web"), 8080));
    assert!(!admitted(&out, outside, ("intadmin", "web"), 8080));
    assert!(!admitted(&out, intruder, ("intadmin", "web"), 8080));
}

/// In an existing VPC the subnets are ids whose ranges synth does not know: the internal
/// ALB takes the listed public ones, and the policies admit the VPC's range.
#[test]
fn on_eks_in_an_existing_vpc_the_internal_alb_takes_the_public_subnet_ids() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let existing = eks_variant(&text)
        .replace(
            "network:\n  cidr: 10.0.0.0/16",
            "network:\n  existing: { vpc_id: vpc-0b1c2d3e4f5a67890 }\n  cidr: 10.0.0.0/16",
        )
        .replace(
            "public: [10.0.1.0/24, 10.0.2.0/24]",
            "public: [subnet-0aaa1111bbbb33331, subnet-0aaa1111bbbb33332]",
        )
        .replace(
            "private: [10.0.10.0/24, 10.0.11.0/24]",
            "private: [subnet-0ccc3333dddd55551, subnet-0ccc3333dddd55552]",
        )
        .replace("  nat: single\n", "");
    assert!(existing.contains("existing:") && existing.contains("subnet-0aaa1111bbbb33331"));
    let out = infragen::synthesize(
        "internal-admin.yaml",
        existing.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let internal = ingresses_to(&docs, "admin")[0];
    assert_eq!(
        internal["metadata"]["annotations"]["alb.ingress.kubernetes.io/subnets"],
        "subnet-0aaa1111bbbb33331,subnet-0aaa1111bbbb33332"
    );
    let anywhere_in_vpc = ("\u{0}external", &[][..], Ipv4Addr::new(10, 0, 200, 1));
    assert!(admitted(&out, anywhere_in_vpc, ("intadmin", "admin"), 8080));
    let outside_vpc = ("\u{0}external", &[][..], Ipv4Addr::new(10, 1, 0, 1));
    assert!(!admitted(&out, outside_vpc, ("intadmin", "admin"), 8080));
}

/// No certificate of the internal host comes from cert-manager (whose HTTP-01 challenge,
/// fetched from the internet, never reaches an internal load balancer): the internal ALB's
/// HTTPS listener takes the ACM certificate, discovered by the host, even where the public
/// hosts' Ingress asks an ACME issuer for theirs.
#[test]
fn on_eks_the_internal_host_gets_no_http01_certificate() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let acme = eks_variant(&text).replace(
        "ingress: { hosts: [example.com] }",
        "ingress: { hosts: [example.com], tls: { secret_name: web-tls, issuer: le } }",
    ).replace(
        "kubernetes: { ingress_controller: { kind: nginx } }",
        "kubernetes:\n  ingress_controller: { kind: nginx }\n  issuers: [{ name: le, kind: acme, email: ops@example.com }]",
    );
    assert!(acme.contains("issuer: le"));
    let out = infragen::synthesize(
        "internal-admin.yaml",
        acme.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let internal = ingresses_to(&docs, "admin")[0];
    assert!(
        !internal["metadata"]["annotations"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("cert-manager.io/")),
        "{internal}"
    );
    assert_eq!(internal["spec"]["tls"][0]["hosts"][0], "admin.example.com");
    assert!(internal["spec"]["tls"][0].get("secretName").is_none());
    // The public Ingress still asks for its own.
    let web = ingresses_to(&docs, "web")[0];
    assert_eq!(
        web["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "le"
    );
    for d in &docs {
        assert!(
            !d.to_string().contains("admin.example.com") || d == internal,
            "the internal host appears in {d}"
        );
    }
}

/// The internal ALB matches ALB path patterns, not regular expressions: a regex route is
/// refused at its line. A route without a host is served on any host, its certificate
/// discovered by the certificate's domain.
#[test]
fn on_eks_internal_routes_refuse_regex_paths_and_discover_the_certificate_without_a_host() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let regex = eks_variant(&text).replace(
        "{ path: /, host: admin.example.com }",
        "{ path: \"/admin(/|$)(.*)\", path_type: ImplementationSpecific, host: admin.example.com }",
    );
    let err = refusal(Provider::Aws, &regex);
    assert!(
        err.contains("is a regular expression, which the internal ALB")
            && err.contains("internal-admin.yaml:40:"),
        "{err}"
    );
    let hostless =
        eks_variant(&text).replace("{ path: /, host: admin.example.com }", "{ path: /admin }");
    let out = infragen::synthesize(
        "internal-admin.yaml",
        hostless.as_bytes(),
        Provider::Aws,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let docs = manifests(&out);
    let internal = ingresses_to(&docs, "admin")[0];
    assert!(
        internal["spec"]["rules"][0].get("host").is_none(),
        "{internal}"
    );
    assert_eq!(internal["spec"]["tls"][0]["hosts"][0], "example.com");
    // A hostless route would land on the public Ingress's first host: it is the internal
    // Ingress's alone.
    assert_eq!(ingresses_to(&docs, "admin").len(), 1);
}

#[test]
fn internal_routes_without_routes_or_uncovered_hosts_are_refused() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let uncovered = text.replace("host: admin.example.com", "host: admin.corp.internal");
    let err = refusal(Provider::Aws, &uncovered);
    assert!(
        err.contains("host `admin.corp.internal` is not covered"),
        "{err}"
    );
    let bad = text.replace("[172.16.0.0/22] #", "[172.16.0.1/22] #");
    let err = refusal(Provider::Aws, &bad);
    assert!(err.contains("`172.16.0.1/22` has host bits set"), "{err}");
    let routeless = text.replace(
        "    routes:\n      - { path: /, host: admin.example.com }\n",
        "",
    );
    let err = refusal(Provider::Aws, &routeless);
    assert!(err.contains("service `admin` has no `routes`"), "{err}");
}

/// `load_balancer.internal_cidrs` without a service that sets `internal_routes` admits its
/// networks to a load balancer that is never created: warned, not dropped silently.
#[test]
fn internal_cidrs_without_internal_routes_are_warned() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let warned = |text: &str| {
        infragen::synthesize(
            "internal-admin.yaml",
            text.as_bytes(),
            Provider::Aws,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
        .notes
        .iter()
        .filter(|n| n.rule == Some("internal-cidrs-unused"))
        .map(|n| n.text.clone())
        .collect::<Vec<_>>()
    };
    assert!(warned(&text).is_empty());
    assert!(text.contains("    internal_routes: true\n"));
    let without = text.replace("    internal_routes: true\n", "");
    let notes = warned(&without);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("172.16.0.0/22"), "{notes:?}");
    // The stack's own load balancer, internal, admits them: no warning.
    let line = "  internal_cidrs: [172.16.0.0/22]";
    assert!(without.contains(line));
    let internal = without.replace(line, &format!("  internal: true\n{line}"));
    assert!(warned(&internal).is_empty());
}

/// Each ALB publishes its 5xx under its own `LoadBalancer` dimension (ALB CloudWatch
/// metrics): the internal one's errors (the admin API's) need alarms of their own, or they
/// alert nobody.
#[test]
fn each_load_balancer_has_its_own_5xx_alarms() {
    let out = synth(&fixture(), Provider::Aws, "production");
    let obs: Value =
        serde_json::from_str(&out.files["terraform/infra/observability.tf.json"]).unwrap();
    let alarms = obs["resource"]["aws_cloudwatch_metric_alarm"]
        .as_object()
        .unwrap();
    for metric in ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"] {
        let mut lbs: Vec<&str> = alarms
            .values()
            .filter(|a| a["metric_name"] == metric)
            .map(|a| a["dimensions"]["LoadBalancer"].as_str().unwrap())
            .collect();
        lbs.sort();
        assert_eq!(
            lbs,
            vec!["${aws_lb.internal.arn_suffix}", "${aws_lb.main.arn_suffix}"],
            "{metric}"
        );
    }
}

/// A system named `internal-…` still gets load balancers ELB creates: CreateLoadBalancer
/// refuses a name beginning with `internal-` (the AWS provider: `"name" cannot begin with
/// "internal-"`), which the derived names `<name>-<env>-alb` and `<name>-<env>` gave both
/// the public and the internal ALB, on ECS (`aws_lb`) and on EKS (the controller's
/// `load-balancer-name`, where the ALB was simply never made).
#[test]
fn a_system_named_internal_gets_load_balancer_names_elb_takes() {
    let text = std::fs::read_to_string(fixture())
        .unwrap()
        .replace("name: intadmin\n", "name: internal-tools\n");
    let path = std::env::temp_dir().join(format!("internal-tools-{}.yaml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let mut names: Vec<String> = Vec::new();
    let ecs = synth(&path, Provider::Aws, "production");
    for lb in resources(&ecs, "infra", "aws_lb") {
        names.push(lb["name"].as_str().unwrap().to_string());
    }
    let eks = synth(&path, Provider::Aws, "eks");
    let key = "alb.ingress.kubernetes.io/load-balancer-name";
    for d in manifests(&eks).iter().filter(|d| d["kind"] == "Ingress") {
        if let Some(n) = d["metadata"]["annotations"][key].as_str() {
            names.push(n.to_string());
        }
    }
    let edge: Value = serde_json::from_str(&eks.files["terraform/platform/edge.tf.json"]).unwrap();
    let ingress = &edge["resource"]["kubernetes_ingress_v1"]["edge"];
    names.push(
        ingress["metadata"]["annotations"][key]
            .as_str()
            .unwrap()
            .to_string(),
    );
    std::fs::remove_file(&path).ok();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in &names {
        assert!(!n.starts_with("internal-"), "{names:?}");
        assert!(n.len() <= 32 && n.starts_with("int-tools-"), "{names:?}");
    }
}
