//! Two teams' blueprints applied to one AWS account (new-user round 13,
//! `tests/fixtures/new-user/parcel-same-account-ecs.yaml` beside `courier-ecs.yaml`). Each is
//! fine alone, so only `synth` of both at once can see the names both would create — the
//! default ECS log group `/ecs/<service>`, a secret's default path — where the second apply
//! stops with "already exists": it warns `stacks-share-names`, and stays silent once the
//! names differ or the stacks are pinned to different accounts.

use std::path::Path;
use std::process::Command;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/new-user/{name}.yaml")),
    )
    .unwrap()
}

/// `synth --provider aws --env production` of both blueprints at once: the warnings of rule
/// `stacks-share-names`.
fn together(a: &str, b: &str) -> Vec<String> {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("courier.yaml"), a).unwrap();
    std::fs::write(t.path().join("parcel.yaml"), b).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args(["synth", "--provider", "aws", "--env", "production"])
        .args(["--blueprint", "courier.yaml", "--blueprint", "parcel.yaml"])
        .args(["--out", "out"])
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{text}");
    text.lines()
        .filter(|l| l.starts_with("warning[stacks-share-names]"))
        .map(str::to_string)
        .collect()
}

/// The second team's blueprint as first copied: courier's service and secret names with
/// their defaults.
fn copied() -> String {
    fixture("parcel-same-account-ecs")
        .lines()
        .filter(|l| !l.trim_start().starts_with("log_group:"))
        .map(|l| l.replace("path: \"parcel/{env}/smtp\", ", ""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn two_stacks_creating_the_same_names_in_one_account_are_warned_of() {
    let courier = fixture("courier-ecs");
    let warned = together(&courier, &copied());
    assert_eq!(warned.len(), 1, "{warned:#?}");
    for expected in [
        "courier.yaml aws/production",
        "parcel.yaml aws/production",
        "aws_cloudwatch_log_group /ecs/admin-api",
        "aws_cloudwatch_log_group /ecs/sender",
        "aws_secretsmanager_secret smtp",
        "`services[].log_group`",
    ] {
        assert!(warned[0].contains(expected), "{expected}: {}", warned[0]);
    }
    // The names the team chose after reading it.
    assert_eq!(
        together(&courier, &fixture("parcel-same-account-ecs")),
        Vec::<String>::new()
    );
    // Pinned to different accounts, Terraform applies each only in its own.
    let pin = |text: &str, account: &str| {
        text.replace(
            "aws: { region: eu-west-1 }",
            &format!("aws: {{ region: eu-west-1, account_id: \"{account}\" }}"),
        )
    };
    assert_eq!(
        together(
            &pin(&courier, "111111111111"),
            &pin(&copied(), "222222222222")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        together(
            &pin(&courier, "111111111111"),
            &pin(&copied(), "111111111111")
        )
        .len(),
        1
    );
}
