//! Every service field that only one family of platforms reads is, on each target, either
//! lowered (the output changes), refused at its position, or said in a note naming it —
//! never accepted and dropped without a word. Each case synthesizes a small blueprint with
//! and without the field and compares.

use infragen::catalog::Provider;

const AWS_NETWORK: &str = "providers:
  aws: { region: eu-west-1 }
state: { bucket: \"probe-state-{env}\" }
network:
  cidr: 10.7.0.0/16
  zones: [eu-west-1a, eu-west-1b]
  nat: single
  subnets:
    public: [10.7.0.0/24, 10.7.1.0/24]
    private: [10.7.10.0/24, 10.7.11.0/24]
";

/// The targets: a name, the provider, and the blueprint around the service (one that needs
/// no `kubernetes:` block, so nothing depends on one being there).
fn targets() -> Vec<(&'static str, Provider, String)> {
    vec![
        (
            "ecs",
            Provider::Aws,
            format!(
                "{AWS_NETWORK}cluster: {{ platform: ecs_fargate }}\nload_balancer: {{ certificate: {{ domain: shop.example.com }} }}\n"
            ),
        ),
        (
            "eks",
            Provider::Aws,
            format!(
                "{AWS_NETWORK}cluster: {{ platform: eks, version: \"1.35\", addons: [vpc-cni, coredns, kube-proxy] }}\nnode_pools:\n  - {{ name: general, size: medium, min: 2, max: 4 }}\ningress: {{ hosts: [shop.example.com], gateway: {{ class: eg }} }}\n"
            ),
        ),
        (
            "doks",
            Provider::Digitalocean,
            "providers:\n  digitalocean: { region: ams3 }\nstate: { bucket: \"probe-tfstate-{env}\" }\nnetwork: { cidr: 10.90.0.0/16 }\ncluster: { platform: doks, version: \"1.35\" }\nnode_pools:\n  - { name: general, size: medium, min: 2, max: 5 }\ningress: { hosts: [shop.example.com], gateway: { class: eg } }\n".into(),
        ),
        (
            "existing cluster",
            Provider::Kubernetes,
            "providers:\n  kubernetes: {}\ningress: { hosts: [shop.example.com] }\n".into(),
        ),
    ]
}

fn blueprint(around: &str, service_lines: &str) -> String {
    format!(
        "name: probe\n{around}services:\n  - name: web\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    routes: [{{ path: / }}]\n{service_lines}"
    )
}

const SCALING: &str = "    autoscaling: { min: 2, max: 6, cpu_percent: 70 }\n";

/// (what the note or error names, the service lines without it, with it).
fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "autoscaling.requests",
            SCALING,
            "    autoscaling: { min: 2, max: 6, cpu_percent: 70, requests: { target: 100 } }\n",
        ),
        (
            "autoscaling.scheduled",
            SCALING,
            "    autoscaling: { min: 2, max: 6, cpu_percent: 70, scheduled: [{ name: night, schedule: \"cron(0 22 * * ? *)\", min: 2, max: 3 }] }\n",
        ),
        (
            "scale_up",
            SCALING,
            "    autoscaling: { min: 2, max: 6, cpu_percent: 70, scale_up: { cooldown: 77 } }\n",
        ),
        (
            "scale_down",
            SCALING,
            "    autoscaling: { min: 2, max: 6, cpu_percent: 70, scale_down: { stabilization_seconds: 77, percent: 17, period_seconds: 60 } }\n",
        ),
        ("task", "", "    task: { cpu: 512, memory: 1024 }\n"),
        (
            "health_check",
            "",
            "    health_check: { command: [CMD-SHELL, 'true'] }\n",
        ),
        ("grace_period", "", "    grace_period: 45\n"),
        ("log_group", "", "    log_group: /custom/web\n"),
        (
            "resources",
            "",
            "    resources: { requests: { cpu: 300m, memory: 300Mi }, limits: { cpu: 600m, memory: 600Mi } }\n",
        ),
        (
            "image_pull_policy",
            "",
            "    image_pull_policy: IfNotPresent\n",
        ),
        ("service_port", "", "    service_port: 8081\n"),
        ("service_account", "", "    service_account: webby\n"),
        ("fs_group", "", "    security: { fs_group: 2001 }\n"),
        (
            "pdb",
            "    replicas: 3\n",
            "    replicas: 3\n    pdb: { min_available: '2' }\n",
        ),
        (
            "vpa",
            "",
            "    vpa: { mode: Auto, min: { cpu: 100m, memory: 128Mi }, max: { cpu: '1', memory: 1Gi } }\n",
        ),
        ("metrics", "", "    metrics: { path: /m }\n"),
        ("labels", "", "    labels: { team: a }\n"),
        ("version", "", "    version: 1.2.3\n"),
        ("max_surge", "", "    rollout: { max_surge: '50%' }\n"),
        (
            "max_unavailable",
            "",
            "    rollout: { max_unavailable: '0' }\n",
        ),
        (
            "circuit_breaker",
            "",
            "    rollout: { circuit_breaker: false }\n",
        ),
        (
            "min_healthy_percent",
            "",
            "    rollout: { min_healthy_percent: 50 }\n",
        ),
        ("max_percent", "", "    rollout: { max_percent: 150 }\n"),
        (
            "bake_minutes",
            "    rollout: { strategy: blue_green }\n",
            "    rollout: { strategy: blue_green, bake_minutes: 33 }\n",
        ),
        (
            "canary_minutes",
            "    rollout: { strategy: canary, canary_weight: 10 }\n",
            "    rollout: { strategy: canary, canary_weight: 10, canary_minutes: 33 }\n",
        ),
    ]
}

fn synth(provider: Provider, text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize("probe.yaml", text.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

#[test]
fn a_field_one_platform_cannot_use_is_lowered_refused_or_noted() {
    let mut silent = Vec::new();
    for (target, provider, around) in targets() {
        for (field, without, with) in cases() {
            let base = synth(provider, &blueprint(&around, without))
                .unwrap_or_else(|e| panic!("{target}, base of {field}: {e}"));
            match synth(provider, &blueprint(&around, with)) {
                // Refused: the error names the field and points into the blueprint.
                Err(e) => assert!(
                    e.contains(field) && e.contains("probe.yaml:"),
                    "{target}: {field} refused without naming it:\n{e}"
                ),
                Ok(out) => {
                    let lowered = out.files != base.files;
                    let noted = out
                        .notes
                        .iter()
                        .any(|n| n.text.contains(field) && !base.notes.contains(n));
                    if !lowered && !noted {
                        silent.push(format!("{field} on {target}"));
                    }
                }
            }
        }
    }
    assert!(
        silent.is_empty(),
        "accepted and dropped without a word: {silent:?}"
    );
}

/// A note names only fields the blueprint writes: a `rollout` of Kubernetes settings alone
/// draws no note about ECS's `circuit_breaker`, whose default (on) is ECS's, not written.
#[test]
fn no_note_names_a_field_the_blueprint_does_not_write() {
    let rollout = "    rollout: { strategy: rolling, max_surge: 25%, max_unavailable: \"0\" }\n";
    for (target, provider, around) in targets().into_iter().filter(|(t, ..)| *t != "ecs") {
        let out = synth(provider, &blueprint(&around, rollout))
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        for n in &out.notes {
            assert!(
                !n.text.contains("circuit_breaker"),
                "{target}: a note names a field not written: {}",
                n.text
            );
        }
    }
}

/// `requests` and `scheduled` would leave the service unscaled as the blueprint meant it:
/// refused (not just noted) on every Kubernetes target, lowered on ECS.
#[test]
fn ecs_scaling_fields_are_refused_on_kubernetes_targets() {
    for (target, provider, around) in targets() {
        for (field, _, with) in &cases()[..2] {
            let r = synth(provider, &blueprint(&around, with));
            if target == "ecs" {
                assert!(r.is_ok(), "{field} on ECS: {}", r.unwrap_err());
            } else {
                let e = r.expect_err(&format!("{field} accepted on {target}"));
                assert!(e.contains(&format!("`services[0].{field}`")), "{e}");
            }
        }
    }
}

/// The same for a scheduled job's fields.
#[test]
fn a_job_field_one_platform_cannot_use_is_lowered_refused_or_noted() {
    let job = |lines: &str| {
        format!(
            "jobs:\n  - name: nightly\n    image: ghcr.io/acme/job:1.0.0\n    schedule: \"0 3 * * *\"\n{lines}"
        )
    };
    let cases = [
        ("task", "    task: { cpu: 512, memory: 1024 }\n"),
        ("log_group", "    log_group: /custom/nightly\n"),
        (
            "resources",
            "    resources: { requests: { cpu: 300m, memory: 300Mi } }\n",
        ),
        ("image_pull_policy", "    image_pull_policy: IfNotPresent\n"),
        ("service_account", "    service_account: jobby\n"),
        ("labels", "    labels: { team: a }\n"),
        ("history", "    history: 7\n"),
    ];
    let mut silent = Vec::new();
    for (target, provider, around) in targets() {
        let base = synth(provider, &blueprint(&around, &job("")))
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        for (field, lines) in cases {
            match synth(provider, &blueprint(&around, &job(lines))) {
                Err(e) => assert!(e.contains(field), "{target}: {field}: {e}"),
                Ok(out) => {
                    let noted = out
                        .notes
                        .iter()
                        .any(|n| n.text.contains(field) && !base.notes.contains(n));
                    if out.files == base.files && !noted {
                        silent.push(format!("jobs[0].{field} on {target}"));
                    }
                }
            }
        }
    }
    assert!(
        silent.is_empty(),
        "accepted and dropped without a word: {silent:?}"
    );
}

/// A managed data service's settings on a database or cache the platform runs in the cluster
/// (every one on `--provider kubernetes`) are noted, also when the blueprint has no
/// `kubernetes:` block (they used to be said only with one).
#[test]
fn managed_data_settings_in_the_cluster_are_noted_without_a_kubernetes_block() {
    let around = "providers:\n  kubernetes: {}\n";
    let cases = [
        ("databases", "ha", "ha: true"),
        ("databases", "replicas", "replicas: 1"),
        (
            "databases",
            "maintenance_window",
            "maintenance_window: 'sun:04:00-sun:05:00'",
        ),
        (
            "databases",
            "parameters",
            "parameters: { work_mem: '64MB' }",
        ),
        // Applied, not noted: the credentials Secret (and so the server) takes it.
        ("databases", "username", "username: reporting"),
        ("caches", "snapshots", "snapshots: { retention_days: 3 }"),
        (
            "caches",
            "parameters",
            "parameters: { maxmemory-policy: allkeys-lru }",
        ),
        (
            "caches",
            "maintenance_window",
            "maintenance_window: 'sun:04:00-sun:05:00'",
        ),
    ];
    let mut silent = Vec::new();
    for (part, field, yaml) in cases {
        let item = |extra: &str| match part {
            "databases" => {
                format!("databases:\n  - {{ name: main, engine: postgres, size: small{extra} }}\n")
            }
            _ => format!("caches:\n  - {{ name: cache, engine: valkey, size: small{extra} }}\n"),
        };
        let text = |extra: &str| format!("name: probe\n{around}{}", item(extra));
        let base = synth(Provider::Kubernetes, &text("")).unwrap();
        let out = synth(Provider::Kubernetes, &text(&format!(", {yaml}")))
            .unwrap_or_else(|e| panic!("{part}.{field}: {e}"));
        let noted = out
            .notes
            .iter()
            .any(|n| n.text.contains(field) && !base.notes.contains(n));
        if out.files == base.files && !noted {
            silent.push(format!("{part}[0].{field}"));
        }
    }
    assert!(
        silent.is_empty(),
        "accepted and dropped without a word: {silent:?}"
    );
}

/// `observability.notify` where nothing raises an alarm (EKS behind the Gateway API, no
/// alarms or queues, and no Container Insights for the pods' alarms): no topic is made, and
/// the addresses are said to be unused.
#[test]
fn notify_without_anything_to_alarm_is_noted() {
    let (_, provider, around) = targets().remove(1);
    let around = around.replace(
        "platform: eks,",
        "platform: eks, container_insights: false,",
    );
    let with = format!("{around}observability: {{ notify: [ops@example.com] }}\n");
    let out = synth(provider, &blueprint(&with, "")).unwrap();
    assert!(
        !out.files.values().any(|t| t.contains("ops@example.com")),
        "a subscription was made after all: the case no longer tests the note"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.contains("observability.notify (ops@example.com)")),
        "{:?}",
        out.notes
    );
}
