//! Escape hatches (issue 18): `overrides:` patch generated resources and manifests, `extra:`
//! templates add Terraform files and manifests, and `validate` checks what users add beside
//! infragen's output (any resource type of the pinned providers, Terraform override files).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::root;

const FIXTURE: &str = "tests/fixtures/escape/ledger.yaml";

fn infragen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Synthesize `blueprint` for AWS `env` into a fresh folder.
fn synth(blueprint: &str, env: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        env,
        "--blueprint",
        blueprint,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    (tmp, out)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validate(dir: &Path) -> Output {
    infragen(&["validate", dir.to_str().unwrap()])
}

#[test]
fn overrides_and_templates_reach_the_output_and_validate() {
    let (_tmp, out) = synth(FIXTURE, "production");
    let infra = out.join("terraform/infra");

    // The override: one attribute set, one tag added, the generated tags kept.
    let db = &json(&infra.join("database.tf.json"))["resource"]["aws_db_instance"]["ledger_db"];
    assert_eq!(db["performance_insights_retention_period"], 731);
    assert_eq!(db["tags"]["tier"], "gold");
    assert_eq!(db["tags"]["Name"], "ledger-production-ledger-db");

    // The Terraform template: an SQS queue that names the database through `ref`.
    let sqs = json(&infra.join("extra_sqs.tf.json"));
    let q = &sqs["resource"]["aws_sqs_queue"]["ledger_events"];
    assert_eq!(q["name"], "ledger-production-events");
    assert_eq!(
        q["tags"]["database"],
        "${aws_db_instance.ledger_db.identifier}"
    );

    // The manifest override and the Kubernetes template, listed in the kustomization.
    let api = std::fs::read_to_string(out.join("k8s/ledger/api.yaml")).unwrap();
    assert!(api.contains("ad.datadoghq.com/api.logs:"), "{api}");
    let cm = std::fs::read_to_string(out.join("k8s/ledger/extra-api-endpoints.yaml")).unwrap();
    assert!(
        cm.contains("API_URL: http://api.ledger.svc.cluster.local:80"),
        "{cm}"
    );
    let k = std::fs::read_to_string(out.join("k8s/kustomization.yaml")).unwrap();
    assert!(k.contains("  - ledger/extra-api-endpoints.yaml\n"), "{k}");

    // Everything, patched and added, passes the provider and Kubernetes schema checks.
    let v = validate(&out);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    assert!(text(&v).contains(" 0 problems"), "{}", text(&v));
}

#[test]
fn overrides_follow_the_environment_overlay() {
    let (_tmp, out) = synth(FIXTURE, "staging");
    let db = &json(&out.join("terraform/infra/database.tf.json"))["resource"]["aws_db_instance"]["ledger_db"];
    assert_eq!(db["performance_insights_retention_period"], 7);
    assert_eq!(db["tags"]["tier"], "silver");
}

/// A copy of the fixture folder with `edit` applied to the blueprint's text.
fn variant(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bp");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let src = root().join("tests/fixtures/escape");
    for f in [
        "templates/sqs.tf.json.j2",
        "templates/api-endpoints.yaml.j2",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(src.join("ledger.yaml")).unwrap();
    let path = dir.join("ledger.yaml");
    std::fs::write(&path, edit(&text)).unwrap();
    (tmp, path.display().to_string())
}

fn synth_fails(blueprint: &str) -> String {
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--blueprint",
        blueprint,
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    text(&o)
}

#[test]
fn a_bad_override_address_exits_2_naming_the_closest() {
    let (_t, bp) = variant(|t| t.replace("aws_db_instance.ledger_db", "aws_db_instance.ledgr_db"));
    let e = synth_fails(&bp);
    assert!(e.contains("ledger.yaml:36:15"), "{e}");
    assert!(
        e.contains("did you mean `aws_db_instance.ledger_db`?"),
        "{e}"
    );

    let (_t, bp) = variant(|t| t.replace("Deployment/ledger/api", "Deployment/ledger/web"));
    let e = synth_fails(&bp);
    assert!(e.contains("did you mean `Deployment/ledger/api`?"), "{e}");

    // `module:` must name a generated module; the error sits on it.
    let (_t, bp) = variant(|t| {
        t.replace(
            "    resource: aws_db_instance.ledger_db\n",
            "    resource: aws_db_instance.ledger_db\n    module: infraa\n",
        )
    });
    let e = synth_fails(&bp);
    assert!(e.contains("no Terraform module `infraa`"), "{e}");
    assert!(e.contains("ledger.yaml:37:13"), "{e}");
    assert!(e.contains("did you mean `infra`?"), "{e}");
}

#[test]
fn a_patch_the_schema_refuses_is_an_error_at_the_override() {
    let (_t, bp) = variant(|t| {
        t.replace(
            "performance_insights_retention_period: 731",
            "performance_insights_retention: 731",
        )
    });
    let e = synth_fails(&bp);
    assert!(
        e.contains("unknown argument \"performance_insights_retention\""),
        "{e}"
    );
    assert!(e.contains("ledger.yaml:37:"), "{e}");
}

#[test]
fn templates_stay_in_the_blueprints_folder_and_fail_on_their_line() {
    let (_t, bp) = variant(|t| t.replace("templates/sqs.tf.json.j2", "/etc/passwd"));
    assert!(synth_fails(&bp).contains("leaves the blueprint's folder"));
    let (_t, bp) = variant(|t| t.replace("templates/sqs.tf.json.j2", "../escape/ledger.yaml"));
    assert!(synth_fails(&bp).contains("leaves the blueprint's folder"));

    // Strict undefined: a misspelt variable is an error on its line, not an empty string.
    let (t, bp) = variant(|t| t.to_string());
    let tpl = t.path().join("bp/templates/sqs.tf.json.j2");
    let src = std::fs::read_to_string(&tpl).unwrap();
    std::fs::write(&tpl, src.replace("~ env ~", "~ enviroment ~")).unwrap();
    let e = synth_fails(&bp);
    assert!(e.contains("sqs.tf.json.j2:5:21"), "{e}");
    assert!(e.contains("undefined"), "{e}");

    // `include` reaches nothing: the environment has no loader.
    std::fs::write(&tpl, "{% include \"../ledger.yaml\" %}").unwrap();
    let e = synth_fails(&bp);
    assert!(e.contains("does not render"), "{e}");

    // `ref` to a component that does not exist suggests the closest one.
    std::fs::write(
        &tpl,
        src.replace(
            "ref(\"ledger-db\", \"identifier\")",
            "ref(\"ledger-dbb\", \"identifier\")",
        ),
    )
    .unwrap();
    let e = synth_fails(&bp);
    assert!(e.contains("did you mean `ledger-db`?"), "{e}");

    // Output that does not parse points into the rendered text.
    std::fs::write(&tpl, "{\"resource\": {{ env }} }").unwrap();
    let e = synth_fails(&bp);
    assert!(e.contains("(rendered):1:"), "{e}");
}

#[test]
fn in_memory_synthesis_has_no_folder_to_read_templates_from() {
    let bytes = std::fs::read(root().join(FIXTURE)).unwrap();
    let e = infragen::synthesize("ledger.yaml", &bytes, infragen::Provider::Aws, "production")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("templates are read from the blueprint's folder"),
        "{e}"
    );
}

#[test]
fn validate_checks_hand_added_resources_and_terraform_override_files() {
    let (_tmp, out) = synth(FIXTURE, "production");
    let infra = out.join("terraform/infra");
    // Any type of the pinned AWS provider is known, not only those infragen writes.
    std::fs::write(
        infra.join("queues.tf.json"),
        r#"{"resource": {"aws_sqs_queue": {"jobs": {"name": "jobs", "redrive_policy": "${jsonencode({deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn, maxReceiveCount = 5})}"},
             "jobs_dlq": {"name": "jobs-dlq", "sqs_managed_sse_enabled": true}}}}"#,
    )
    .unwrap();
    // Terraform merges override files into the declaration, it is not a second one.
    std::fs::write(
        infra.join("database_override.tf.json"),
        r#"{"resource": {"aws_db_instance": {"ledger_db": {"deletion_protection": false}}},
            "locals": {}}"#,
    )
    .unwrap();
    let v = validate(&out);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));

    // …and checked: a misspelt argument in the override file is a problem.
    std::fs::write(
        infra.join("database_override.tf.json"),
        r#"{"resource": {"aws_db_instance": {"ledger_db": {"deletion_protectionn": false}}}}"#,
    )
    .unwrap();
    let v = validate(&out);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("deletion_protectionn"), "{}", text(&v));

    // An override of nothing is what Terraform refuses too.
    std::fs::write(
        infra.join("database_override.tf.json"),
        r#"{"resource": {"aws_db_instance": {"other": {"deletion_protection": false}}}}"#,
    )
    .unwrap();
    let v = validate(&out);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("aws_db_instance.other"), "{}", text(&v));
}

/// The fixture's whole output, snapshotted like the shipped blueprints', and checked file by
/// file against the provider and Kubernetes schemas in process (not only through the CLI).
#[test]
fn the_example_output_matches_its_snapshot_and_the_schemas() {
    let dir = root().join("tests/fixtures/escape");
    let bytes = std::fs::read(dir.join("ledger.yaml")).unwrap();
    let read = infragen::escape::folder(dir);
    for env in ["production", "staging"] {
        let loaded =
            infragen::blueprint::load(FIXTURE, &bytes, infragen::Provider::Aws, env).unwrap();
        let out = infragen::synthesize_with(&loaded, &read).unwrap();
        let report = infragen::check::check_files(
            &out.files,
            infragen::check::schema::ProviderSchemas::bundled(),
        );
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let manifests = infragen::check::kubernetes::Schemas::bundled().check_files(
            out.files
                .iter()
                .filter(|(p, _)| p.starts_with("k8s/"))
                .map(|(p, t)| (p.as_str(), t.as_str())),
        );
        assert!(manifests.problems.is_empty(), "{:?}", manifests.problems);
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("escape-ledger@aws-{env}"), crate::support::flatten(&out));
        });
    }
}

#[test]
fn an_override_for_another_provider_is_skipped() {
    let (_t, bp) = variant(|t| {
        t.replace(
            "    resource: aws_db_instance.ledger_db\n",
            "    resource: digitalocean_database_cluster.ledger_db\n    provider: digitalocean\n",
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--blueprint",
        &bp,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let db = &json(&out.join("terraform/infra/database.tf.json"))["resource"]["aws_db_instance"]["ledger_db"];
    assert_ne!(db["performance_insights_retention_period"], 731);
}

#[test]
fn a_template_object_in_a_namespace_nobody_creates_is_flagged() {
    let (t, bp) = variant(|t| t.to_string());
    let tpl = t.path().join("bp/templates/api-endpoints.yaml.j2");
    let src = std::fs::read_to_string(&tpl).unwrap();
    std::fs::write(&tpl, src.replace("namespace: ledger", "namespace: billing")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--blueprint",
        &bp,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("warning[extra-namespace]") && text(&o).contains("`billing`"),
        "{}",
        text(&o)
    );
    assert!(out.join("k8s/billing/extra-api-endpoints.yaml").exists());
}

#[test]
fn a_template_declaring_a_generated_address_again_is_refused() {
    // Terraform refuses one address in two files of a module ("Duplicate resource
    // configuration"); the duplicate used to be reported on the generated file and so
    // slipped through the template's check.
    let (t, bp) = variant(|t| t.to_string());
    let tpl = t.path().join("bp/templates/sqs.tf.json.j2");
    std::fs::write(
        &tpl,
        r#"{"resource": {"aws_cloudwatch_log_group": {"flow_logs": {"name": "x", "retention_in_days": 7}}},
            "output": {"cluster_name": {"value": "x"}}}"#,
    )
    .unwrap();
    let e = synth_fails(&bp);
    assert!(
        e.contains("aws_cloudwatch_log_group.flow_logs: declared more than once (first in terraform/infra/network.tf.json)"),
        "{e}"
    );
    assert!(
        e.contains("output.cluster_name: declared more than once"),
        "{e}"
    );
    assert!(e.contains("use `overrides:`"), "{e}");
}

#[test]
fn names_set_by_overrides_and_templates_are_checked_like_generated_ones() {
    // An override naming the instance past RDS's 63 characters: refused, not applied.
    let long = "ledger-".repeat(10) + "db";
    let (_t, bp) = variant(|t| {
        t.replace(
            "set: { performance_insights_retention_period: 731,",
            &format!("set: {{ identifier: {long}, performance_insights_retention_period: 731,"),
        )
    });
    let e = synth_fails(&bp);
    assert!(
        e.contains(&format!(
            "the identifier `{long}` of `aws_db_instance.ledger_db` has 72 characters"
        )),
        "{e}"
    );
    // A template's log group named like the network's flow-log group would fail to create.
    let (t, bp) = variant(|t| t.to_string());
    std::fs::write(
        t.path().join("bp/templates/sqs.tf.json.j2"),
        r#"{"resource": {"aws_cloudwatch_log_group": {"audit": {"name": "/aws/vpc/ledger-production/flow-logs", "retention_in_days": 7}}}}"#,
    )
    .unwrap();
    let e = synth_fails(&bp);
    assert!(
        e.contains("2 resources of type `aws_cloudwatch_log_group` would all have the name `/aws/vpc/ledger-production/flow-logs`"),
        "{e}"
    );
}

/// `ref(service, "url")` in a manifest template gives what the generated `_URL` gives: for a
/// gRPC service a gRPC target (`dns:///host:port`), which an `http://` URL is not.
#[test]
fn a_template_url_of_a_grpc_service_is_a_grpc_target() {
    let (_t, bp) = variant(|t| {
        t.replace(
            "    port: 8080\n    replicas: 2\n",
            "    port: 8080\n    protocol: grpc\n    replicas: 2\n",
        )
    });
    let (_tmp, out) = synth(&bp, "production");
    let cm = std::fs::read_to_string(out.join("k8s/ledger/extra-api-endpoints.yaml")).unwrap();
    assert!(
        cm.contains("API_URL: dns:///api.ledger.svc.cluster.local:80"),
        "{cm}"
    );
}

/// An override that weakens a generated pod's security (here `hostNetwork` and a `hostPath`
/// volume) passes the schemas, and admission in the `restricted` namespace then
/// refuses every pod: it is refused at the override, as an `extra:` workload would be.
#[test]
fn an_override_weakening_pod_security_is_refused_at_the_override() {
    let weaken = |t: &str| {
        t.replace(
            "              ad.datadoghq.com/api.logs: '[{\"source\":\"java\",\"service\":\"api\"}]'\n",
            "              ad.datadoghq.com/api.logs: '[{\"source\":\"java\",\"service\":\"api\"}]'\n          spec:\n            hostNetwork: true\n            volumes: [{ name: host, hostPath: { path: /var/run } }]\n",
        )
    };
    let (_t, bp) = variant(weaken);
    let e = synth_fails(&bp);
    assert!(
        e.contains("Deployment ledger/api would never start")
            && e.contains("enforces Pod Security `restricted`")
            && e.contains("volume `host` of type `hostPath`")
            && e.contains("`hostNetwork: true`"),
        "{e}"
    );
    // At the override's `set`.
    assert!(e.contains("ledger.yaml:41:7"), "{e}");
    // A namespace lowered to `baseline` is not judged.
    let (_t, bp) = variant(|t| {
        weaken(t).replace(
            "services:\n",
            "kubernetes:\n  namespaces: [{ name: ledger, pod_security: baseline }]\nservices:\n",
        )
    });
    let out = tempfile::tempdir().unwrap();
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--blueprint",
        &bp,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Synthesize tests/fixtures/workloads/gateway-eks.yaml (its Gateway `shop/shop` carries
/// infragen's ClientTrafficPolicy `shop/shop`) with one `extra:` template of text
/// `template`: (exit code, stderr).
fn gateway_with_template(template: &str) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let bp_text =
        std::fs::read_to_string(root().join("tests/fixtures/workloads/gateway-eks.yaml")).unwrap();
    std::fs::write(
        tmp.path().join("shop.yaml"),
        format!("{bp_text}extra: {{ kubernetes: [policy.yaml.j2] }}\n"),
    )
    .unwrap();
    std::fs::write(tmp.path().join("policy.yaml.j2"), template).unwrap();
    let bp = tmp.path().join("shop.yaml");
    let out = tmp.path().join("out");
    let o = infragen(&[
        "synth",
        "--provider",
        "aws",
        "--env",
        "production",
        "--blueprint",
        bp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (o.status.code(), text(&o))
}

/// A user's ClientTrafficPolicy on the Gateway infragen attaches its own to: Envoy Gateway
/// accepts only the older one per target, so one is silently ignored — refused, naming both;
/// one for a listener must keep the PROXY protocol, which it would otherwise turn off there.
#[test]
fn a_template_client_traffic_policy_on_infragens_gateway_is_refused() {
    let policy = |name: &str, target: &str, extra: &str| {
        format!(
            "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  targetRefs:\n    - {{ group: gateway.networking.k8s.io, kind: Gateway, name: shop{target} }}\n  timeout: {{ http: {{ idleTimeout: 30s }} }}\n{extra}"
        )
    };
    let (code, e) = gateway_with_template(&policy("timeouts", "", ""));
    assert_eq!(code, Some(2), "{e}");
    assert!(
        e.contains("ClientTrafficPolicy shop/timeouts targets Gateway `shop`")
            && e.contains("infragen's ClientTrafficPolicy shop/shop")
            && e.contains("Conflicted"),
        "{e}"
    );
    assert!(e.contains("| kind: ClientTrafficPolicy"), "{e}");
    let (code, e) = gateway_with_template(&policy("timeouts", ", sectionName: http", ""));
    assert_eq!(code, Some(2), "{e}");
    assert!(
        e.contains("targets listener `http` of Gateway `shop` without `proxyProtocol`"),
        "{e}"
    );
    // A listener's policy that keeps the PROXY protocol, or one on another Gateway, is fine.
    let (code, e) = gateway_with_template(&policy(
        "timeouts",
        ", sectionName: http",
        "  proxyProtocol: { optional: true }\n",
    ));
    assert_eq!(code, Some(0), "{e}");
    let (code, e) = gateway_with_template(&policy("timeouts", "-internal", ""));
    assert_eq!(code, Some(0), "{e}");
}
