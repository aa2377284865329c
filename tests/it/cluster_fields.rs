//! Every field of the `cluster:`, `network:` and selected `providers.<provider>` blocks is, on
//! each target (EKS, EKS Fargate, ECS Fargate, DOKS, an existing cluster), either lowered
//! (the output changes), refused at its position, or said in a note naming it — never
//! accepted and dropped without a word. Each case synthesizes a small blueprint with and
//! without the field and compares; the table says which of the three each target does, so
//! a field that starts (or stops) being used changes the table on purpose.

use infragen::catalog::Provider;

/// What a target does with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The output changes.
    Used,
    /// A note new to the blueprint names the field.
    Noted,
    /// `synth` refuses it, naming the field at its position.
    Refused,
    /// Neither: the value written is what the target does anyway (`container_insights:
    /// false` where there is no Container Insights).
    Same,
    /// Not probed: another provider's block.
    Na,
}
use Fate::*;

/// The targets: a name, the provider, and the blueprint with slots for the cluster's extra
/// fields (`{C}`, inside a flow mapping), the network's (`{N}`, block lines) and the
/// provider block's (`{P}` after a first field, `{P0}` the whole mapping).
fn targets() -> Vec<(&'static str, Provider, String)> {
    let aws = |cluster: &str, around: &str| {
        format!(
            "name: probe
providers:
  aws: {{ region: eu-west-1{{P}} }}
state: {{ bucket: \"probe-state-{{env}}\" }}
network:
  cidr: 10.7.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.7.0.0/24, 10.7.1.0/24]
    private: [10.7.10.0/24, 10.7.11.0/24]
{{N}}cluster: {{ platform: {cluster}{{C}} }}
{around}services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 8080
    routes: [{{ path: / }}]
"
        )
    };
    vec![
        (
            "eks",
            Provider::Aws,
            aws(
                "eks",
                "node_pools:\n  - { name: general, size: medium, min: 2, max: 4 }\ningress: { hosts: [shop.example.com], gateway: { class: eg } }\n",
            ),
        ),
        (
            "eks fargate",
            Provider::Aws,
            aws(
                "eks_fargate",
                "fargate_profiles:\n  - { name: apps, namespaces: [probe, kube-system] }\ningress: { hosts: [shop.example.com], gateway: { class: eg } }\n",
            ),
        ),
        (
            "ecs",
            Provider::Aws,
            aws(
                "ecs_fargate",
                "load_balancer: { certificate: { domain: shop.example.com } }\n",
            ),
        ),
        (
            "doks",
            Provider::Digitalocean,
            "name: probe
providers:
  digitalocean: { region: ams3{P} }
state: { bucket: \"probe-tfstate-{env}\" }
network:
  cidr: 10.90.0.0/16
{N}cluster: { platform: doks{C} }
node_pools:
  - { name: general, size: medium, min: 2, max: 5 }
ingress: { hosts: [shop.example.com], gateway: { class: eg } }
services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 8080
    routes: [{ path: / }]
"
            .into(),
        ),
        (
            "existing cluster",
            Provider::Kubernetes,
            "name: probe
providers:
  kubernetes: {P0}
network:
  cidr: 10.7.0.0/16
{N}cluster: { platform: existing{C} }
ingress: { hosts: [shop.example.com] }
services:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    port: 8080
    routes: [{ path: / }]
"
            .into(),
        ),
    ]
}

/// Where a case's text goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Cluster,
    Network,
    /// The block of the provider synthesized (`providers.<provider>`).
    Provider,
}

/// (what the note or error names, where, the text, the fate on eks, eks fargate, ecs, doks,
/// existing cluster).
type Case = (&'static str, Slot, &'static str, [Fate; 5]);

fn cases() -> Vec<Case> {
    use Slot::*;
    vec![
        (
            "cluster.name",
            Cluster,
            "name: probe-main",
            [Used, Used, Used, Used, Noted],
        ),
        // 1.34 on AWS, 1.36 on DOKS: a minor each offers other than its default.
        (
            "version",
            Cluster,
            "version: \"{V}\"",
            [Used, Used, Noted, Used, Noted],
        ),
        (
            "allow_unsupported",
            Cluster,
            "allow_unsupported: true",
            [Same, Same, Noted, Same, Noted],
        ),
        (
            "ha",
            Cluster,
            "ha: false",
            [Noted, Noted, Noted, Used, Noted],
        ),
        (
            "endpoint",
            Cluster,
            "endpoint: { public: true, allowed_cidrs: [203.0.113.0/24] }",
            [Used, Used, Noted, Used, Noted],
        ),
        (
            "allowed_cidrs",
            Cluster,
            "endpoint: { allowed_cidrs: [203.0.113.0/24] }",
            [Noted, Noted, Noted, Used, Noted],
        ),
        (
            "endpoint.public",
            Cluster,
            "endpoint: { public: false }",
            [Same, Same, Noted, Noted, Noted],
        ),
        (
            "endpoint.access",
            Cluster,
            "endpoint: { access: none }",
            [Used, Used, Noted, Noted, Noted],
        ),
        (
            "logging",
            Cluster,
            "logging: { types: [api, audit], retention_days: 30 }",
            [Used, Used, Noted, Noted, Noted],
        ),
        (
            "aws-ebs-csi-driver",
            Cluster,
            "addons: [aws-ebs-csi-driver]",
            [Used, Noted, Noted, Noted, Noted],
        ),
        (
            "auto_upgrade",
            Cluster,
            "auto_upgrade: false",
            [Noted, Noted, Noted, Used, Noted],
        ),
        (
            "surge_upgrade",
            Cluster,
            "surge_upgrade: false",
            [Noted, Noted, Noted, Used, Noted],
        ),
        (
            "maintenance_window",
            Cluster,
            "maintenance_window: \"sun:04:00\"",
            [Noted, Noted, Noted, Used, Noted],
        ),
        (
            "registry_integration",
            Cluster,
            "registry_integration: true",
            [Noted, Noted, Noted, Noted, Noted],
        ),
        (
            "container_insights",
            Cluster,
            "container_insights: false",
            [Used, Same, Used, Noted, Noted],
        ),
        (
            "container_insights",
            Cluster,
            "container_insights: true",
            [Same, Noted, Same, Noted, Noted],
        ),
        (
            "deletion_protection",
            Cluster,
            "deletion_protection: false",
            [Used, Used, Same, Same, Noted],
        ),
        (
            "deletion_protection",
            Cluster,
            "deletion_protection: true",
            [Same, Same, Noted, Noted, Noted],
        ),
        (
            "network.name",
            Network,
            "  name: probe-net\n",
            [Used, Used, Used, Used, Noted],
        ),
        (
            "flow_logs",
            Network,
            "  flow_logs: { enabled: true, retention_days: 30 }\n",
            [Used, Used, Used, Noted, Noted],
        ),
        (
            "endpoints",
            Network,
            "  endpoints: [sqs]\n",
            [Used, Used, Used, Noted, Noted],
        ),
        (
            "admin_principal_arns",
            Provider,
            "admin_principal_arns: [\"arn:aws:iam::123456789012:role/admin\"]",
            [Used, Used, Noted, Na, Na],
        ),
        (
            "ci_role_arn",
            Provider,
            "ci_role_arn: \"arn:aws:iam::123456789012:role/ci\"",
            [Used, Used, Noted, Na, Na],
        ),
        (
            "account_id",
            Provider,
            "account_id: \"123456789012\"",
            [Used, Used, Used, Na, Na],
        ),
        (
            "setup_image",
            Provider,
            "setup_image: public.ecr.aws/docker/library/busybox:1.36.1",
            [Noted, Noted, Used, Na, Na],
        ),
        (
            "spaces_region",
            Provider,
            "spaces_region: fra1",
            [Na, Na, Na, Used, Na],
        ),
        (
            "project",
            Provider,
            "project: \"probe-{env}\"",
            [Na, Na, Na, Used, Na],
        ),
        (
            "cluster_subnet",
            Provider,
            "cluster_subnet: 172.20.0.0/17, service_subnet: 172.20.128.0/20",
            [Na, Na, Na, Used, Na],
        ),
        ("nat", Provider, "nat: single", [Na, Na, Na, Used, Na]),
        // Facts about the existing cluster, read where the output needs them (a volume
        // claim, the ingress-nginx admission webhook, a pod calling the API server, the
        // `platform` module's provider): this blueprint has none of those.
        (
            "context",
            Provider,
            "context: probe",
            [Na, Na, Na, Na, Same],
        ),
        (
            "storage_class",
            Provider,
            "storage_class: fast",
            [Na, Na, Na, Na, Same],
        ),
        (
            "pod_cidr",
            Provider,
            "pod_cidr: 10.42.0.0/16",
            [Na, Na, Na, Na, Same],
        ),
        ("cni", Provider, "cni: cilium", [Na, Na, Na, Na, Same]),
        (
            "api_server_port",
            Provider,
            "api_server_port: 16443",
            [Na, Na, Na, Na, Same],
        ),
    ]
}

fn synth(provider: Provider, text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("probe.yaml", text.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

fn fill(around: &str, provider: Provider, slot: Option<Slot>, text: &str) -> String {
    let text = text.replace(
        "{V}",
        if provider == Provider::Digitalocean {
            "1.36"
        } else {
            "1.34"
        },
    );
    let pick = |s: Slot| slot == Some(s);
    around
        .replace(
            "{C}",
            &if pick(Slot::Cluster) {
                format!(", {text}")
            } else {
                String::new()
            },
        )
        .replace("{N}", if pick(Slot::Network) { &text } else { "" })
        .replace(
            "{P}",
            &if pick(Slot::Provider) {
                format!(", {text}")
            } else {
                String::new()
            },
        )
        .replace(
            "{P0}",
            &if pick(Slot::Provider) {
                format!("{{ {text} }}")
            } else {
                "{}".into()
            },
        )
}

/// What `target` does with a case's field. On an existing cluster the `cluster` and
/// `network` blocks are noted whole, as cloud parts not in its output.
fn fate(
    target: &str,
    provider: Provider,
    around: &str,
    (field, slot, text, _): &Case,
) -> Result<Fate, String> {
    let base = synth(provider, &fill(around, provider, None, ""))
        .map_err(|e| format!("{target}: base: {e}"))?;
    let part = match slot {
        Slot::Cluster => "cluster",
        Slot::Network => "network",
        Slot::Provider => "providers",
    };
    Ok(
        match synth(provider, &fill(around, provider, Some(*slot), text)) {
            Err(e) if e.contains(field) && e.contains("probe.yaml:") => Refused,
            Err(e) => return Err(format!("{target}: {field} refused without naming it:\n{e}")),
            Ok(out) if out.files != base.files => Used,
            Ok(out)
                if out
                    .notes
                    .iter()
                    .any(|n| n.text.contains(field) && !base.notes.contains(n)) =>
            {
                Noted
            }
            Ok(out)
                if provider == Provider::Kubernetes
                    && out.notes.iter().any(|n| {
                        n.text.contains("not part of its output")
                            && n.text.split(": ").nth(1).is_some_and(|l| l.contains(part))
                    }) =>
            {
                Noted
            }
            Ok(_) => Same,
        },
    )
}

#[test]
fn every_cluster_network_and_provider_field_is_used_refused_or_noted_on_every_target() {
    let mut wrong = Vec::new();
    for (i, (target, provider, around)) in targets().into_iter().enumerate() {
        for case in cases() {
            let expected = case.3[i];
            if expected == Na {
                continue;
            }
            match fate(target, provider, &around, &case) {
                Ok(f) if f == expected => {}
                Ok(f) => wrong.push(format!(
                    "{} ({}) on {target}: {f:?}, expected {expected:?}",
                    case.0, case.2
                )),
                Err(e) => wrong.push(e),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A note names only fields the blueprint writes: the defaults-on `container_insights`,
/// `deletion_protection`, `logging` and `flow_logs` are AWS's defaults, not settings a
/// blueprint that leaves them out asked EKS Fargate, ECS or DOKS for (an `eks` blueprint
/// built for DigitalOcean included).
#[test]
fn no_cluster_note_names_a_field_the_blueprint_does_not_write() {
    let mut targets = targets();
    let doks = targets.iter().find(|t| t.0 == "doks").unwrap().clone();
    targets.push((
        "eks on digitalocean",
        doks.1,
        doks.2.replace("platform: doks", "platform: eks").replace(
            "network:\n  cidr: 10.90.0.0/16\n",
            "network:\n  cidr: 10.90.0.0/16\n  zones: [ams3-a]\n",
        ),
    ));
    for (target, provider, around) in targets {
        let out = synth(provider, &fill(&around, provider, None, ""))
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        for n in &out.notes {
            for field in [
                "container_insights",
                "deletion_protection",
                "logging",
                "flow_logs",
            ] {
                assert!(
                    !n.text.contains(field),
                    "{target}: a note names `{field}`, not written: {}",
                    n.text
                );
            }
        }
    }
}

/// A database's defaults-on `performance_insights` and `deletion_protection` (RDS's): on
/// DigitalOcean (no Performance Insights) and in the cluster (nothing refuses a deletion)
/// a written `true` is noted, and a blueprint that leaves them out draws no note.
#[test]
fn database_defaults_on_are_noted_only_where_written() {
    let doks = targets().into_iter().find(|t| t.0 == "doks").unwrap();
    let cases = [
        (
            "managed on digitalocean",
            Provider::Digitalocean,
            fill(&doks.2, doks.1, None, ""),
            &["performance_insights"][..],
        ),
        (
            "in the cluster",
            Provider::Kubernetes,
            "name: probe\nproviders:\n  kubernetes: {}\n".to_string(),
            &["performance_insights", "deletion_protection"][..],
        ),
    ];
    for (target, provider, around, fields) in cases {
        let db = |extra: &str| {
            format!(
                "{around}databases:\n  - {{ name: main, engine: postgres, size: small{extra} }}\n"
            )
        };
        let base = synth(provider, &db("")).unwrap_or_else(|e| panic!("{target}: {e}"));
        for field in fields {
            assert!(
                !base.notes.iter().any(|n| n.text.contains(field)),
                "{target}: `{field}` named though not written: {:?}",
                base.notes
            );
            let out = synth(provider, &db(&format!(", {field}: true")))
                .unwrap_or_else(|e| panic!("{target}: {e}"));
            assert!(
                out.files != base.files || out.notes.iter().any(|n| n.text.contains(field)),
                "{target}: `{field}: true` accepted and dropped without a word"
            );
        }
    }
}

/// `load_balancer.deletion_protection` (AWS's, default on): on DOKS, whose load balancer is
/// the ingress-nginx Service's, a written `true` is noted and a blueprint that leaves it out
/// draws no note naming it.
#[test]
fn load_balancer_deletion_protection_is_noted_on_digitalocean_only_where_written() {
    let (_, provider, around) = targets().into_iter().find(|t| t.0 == "doks").unwrap();
    let around = fill(&around, provider, None, "")
        .replace(
            "ingress: { hosts: [shop.example.com], gateway: { class: eg } }\n",
            "ingress: { hosts: [shop.example.com] }\nkubernetes: { ingress_controller: { kind: nginx } }\n",
        );
    let text = |extra: &str| {
        around.replace(
            "services:",
            &format!("load_balancer: {{ internal_cidrs: [] {extra}}}\nservices:"),
        )
    };
    let base = synth(provider, &text("")).unwrap();
    assert!(
        !base
            .notes
            .iter()
            .any(|n| n.text.contains("deletion_protection")),
        "named though not written: {:?}",
        base.notes
    );
    let out = synth(provider, &text(", deletion_protection: true ")).unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("deletion_protection") && !base.notes.contains(n)),
        "`load_balancer.deletion_protection: true` accepted and dropped without a word: {:?}",
        out.notes
    );
}
