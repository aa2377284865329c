//! Day 2: a blueprint CHANGE applied on top of the state of the previous one. Each test
//! synthesizes a blueprint, changes it as a pull request would, and checks that what the
//! change makes Terraform do would succeed against the API: no replacement of something in
//! use that the API refuses to delete, no change the API refuses without a flag.

use serde_json::Value;

use crate::support::{ecs_stack, resources, synth_aws};

/// An ECS service on port 8080 using a PostgreSQL 16 database and a Redis 7.1 cache.
fn stack(port: u16, db_version: &str, cache: &str) -> String {
    ecs_stack(
        "day",
        &format!(
            r#"databases:
  - name: orders
    engine: postgres
    version: "{db_version}"
    size: db.t4g.medium
    storage: {{ size_gb: 50 }}
caches:
  - name: sessions
{cache}
    size: cache.t4g.small
load_balancer:
  certificate: {{ arn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }}
services:
  - name: api
    image: example/api:1.0.0
    port: {port}
    task: {{ cpu: 256, memory: 512 }}
    routes: [{{ path: / }}]
    uses: [orders, sessions]
environments:
  production: {{}}
"#
        ),
    )
}

const REDIS: &str = "    engine: redis\n    version: \"7.1\"";
const VALKEY: &str = "    engine: valkey\n    version: \"8.0\"";

fn synth(yaml: &str) -> infragen::Output {
    synth_aws("day", yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// The security groups of `infra` by `name`.
fn security_groups(out: &infragen::Output) -> Vec<(String, Value)> {
    resources(out, "infra", "aws_security_group")
        .into_iter()
        .map(|sg| (sg["name"].as_str().unwrap_or_default().to_string(), sg))
        .collect()
}

/// `description` and `vpc_id` cannot change in place: a group keeping its name but not them
/// is replaced — deleted first, which EC2 refuses while the tasks, the load balancer or the
/// database still use it (`DependencyViolation`), or, created first, refused as a duplicate
/// name. A change of port or engine must leave every group as it is.
#[test]
fn a_port_or_engine_change_replaces_no_security_group() {
    let base = synth(&stack(8080, "16", REDIS));
    for (what, head) in [
        ("the service's port", stack(9090, "16", REDIS)),
        ("the cache's engine", stack(8080, "16", VALKEY)),
        ("the database's major version", stack(8080, "17", REDIS)),
    ] {
        let head = synth(&head);
        let new = security_groups(&head);
        for (name, old) in security_groups(&base) {
            let (_, sg) = new
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{what}: security group {name} disappears"));
            for arg in ["description", "vpc_id"] {
                assert_eq!(
                    old[arg], sg[arg],
                    "{what} replaces security group {name} (its `{arg}` changes)"
                );
            }
        }
    }
}

/// When a group is replaced after all (a renamed component gives it a new name), its users
/// must move to the new group before the old one is deleted; and a group created by an
/// earlier version, whose description still names a port or engine, must not be replaced
/// to take the new text.
#[test]
fn every_security_group_is_created_before_the_one_it_replaces() {
    let out = synth(&stack(8080, "16", REDIS));
    let groups = security_groups(&out);
    assert!(groups.len() >= 4, "alb, tasks, database, cache: {groups:?}");
    for (name, sg) in groups {
        assert_eq!(
            sg["lifecycle"]["create_before_destroy"], true,
            "security group {name} is deleted before its replacement exists"
        );
        assert!(
            sg["lifecycle"]["ignore_changes"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "description")),
            "security group {name}: a new description would replace it under the same name"
        );
    }
}

/// PostgreSQL 16 → 17: RDS refuses a new major version without
/// `allow_major_version_upgrade`, and the parameter group of the new family replaces the
/// old one (create_before_destroy, a new name) — which can only be deleted once the instance
/// has left it, so the change must not wait for the maintenance window.
#[test]
fn a_major_version_bump_applies_in_one_run() {
    let base = synth(&stack(8080, "16", REDIS));
    let head = synth(&stack(8080, "17", REDIS));
    let db = &resources(&head, "infra", "aws_db_instance")[0];
    assert_eq!(db["engine_version"], "17");
    assert_eq!(
        db["allow_major_version_upgrade"], true,
        "RDS refuses a major version without allow_major_version_upgrade"
    );
    assert_eq!(
        db["apply_immediately"], true,
        "deferred to the window, the old parameter group stays in use and cannot be deleted"
    );
    let old = &resources(&base, "infra", "aws_db_parameter_group")[0];
    let new = &resources(&head, "infra", "aws_db_parameter_group")[0];
    assert_eq!(new["family"], "postgres17");
    assert_eq!(new["lifecycle"]["create_before_destroy"], true);
    assert_ne!(
        old["name_prefix"], new["name_prefix"],
        "the replacement parameter group must not take the name of the one in use"
    );
}

/// Redis → Valkey: the parameter group of the new family is a new group (new name, created
/// first), and the replication group moves to it in the same apply.
#[test]
fn a_cache_engine_change_moves_to_a_new_parameter_group_in_one_run() {
    let base = synth(&stack(8080, "16", REDIS));
    let head = synth(&stack(8080, "16", VALKEY));
    let rg = &resources(&head, "infra", "aws_elasticache_replication_group")[0];
    assert_eq!(rg["engine"], "valkey");
    assert_eq!(
        rg["apply_immediately"], true,
        "deferred to the window, the old parameter group stays in use and cannot be deleted"
    );
    let old = &resources(&base, "infra", "aws_elasticache_parameter_group")[0];
    let new = &resources(&head, "infra", "aws_elasticache_parameter_group")[0];
    assert_eq!(new["lifecycle"]["create_before_destroy"], true);
    assert_ne!(old["name"], new["name"]);
}

/// `infragen diff` reads `lifecycle.ignore_changes`: an argument Terraform ignores after
/// creation replaces nothing, so it is not flagged destructive.
#[test]
fn diff_does_not_flag_an_ignored_argument_as_a_replacement() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base.yaml");
    let head = t.path().join("head.yaml");
    std::fs::write(&base, stack(8080, "16", REDIS)).unwrap();
    std::fs::write(&head, stack(9090, "16", REDIS)).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infragen"))
        .args([
            "diff",
            "--provider",
            "aws",
            "--env",
            "production",
            "--format",
            "json",
        ])
        .arg("--base")
        .arg(&base)
        .arg("--blueprint")
        .arg(&head)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let flagged: Vec<String> = v
        .pointer("/targets/0/changes")
        .or_else(|| v.pointer("/0/changes"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no changes in {v}"))
        .iter()
        .filter(|c| !c["destructive"].is_null())
        .map(|c| c["address"].to_string())
        .collect();
    assert!(
        flagged.iter().all(|a| !a.contains("aws_security_group.")),
        "a port change flags a security group replacement: {flagged:?}"
    );
}

/// A new port is a new target group (`port` cannot change in place). ELB refuses to delete
/// the old one while the listener still forwards to it (`ResourceInUse`), so the new one is
/// created first — under a name the old one does not hold (DuplicateTargetGroupName).
#[test]
fn a_port_change_creates_the_new_target_group_first_under_a_new_name() {
    let base = synth(&stack(8080, "16", REDIS));
    let head = synth(&stack(9090, "16", REDIS));
    let old = &resources(&base, "infra", "aws_lb_target_group")[0];
    let new = &resources(&head, "infra", "aws_lb_target_group")[0];
    assert_eq!((&old["port"], &new["port"]), (&8080.into(), &9090.into()));
    assert_eq!(
        new["lifecycle"]["create_before_destroy"], true,
        "the old target group is deleted while the listener forwards to it"
    );
    assert_ne!(
        old["name"], new["name"],
        "the new target group takes the name the old one still holds"
    );
}

/// `cluster.version` 1.33 → 1.34: EKS updates the control plane only; a managed node group
/// without a `version` stays on the one it was created with, and EKS refuses the NEXT bump
/// until every node group matches the cluster (UpdateClusterVersion). Each group follows
/// the cluster's version by reference, so Terraform updates it after the control plane.
#[test]
fn node_groups_follow_the_cluster_version() {
    let out = crate::support::synth(
        &crate::support::root().join("blueprints/ecommerce-eks.yaml"),
        infragen::Provider::Aws,
        "production",
    );
    let groups = resources(&out, "infra", "aws_eks_node_group");
    assert!(!groups.is_empty());
    for g in groups {
        assert_eq!(
            g["version"], "${aws_eks_cluster.main.version}",
            "node group {} keeps its first Kubernetes version",
            g["node_group_name_prefix"]
        );
    }
}

/// What `infragen diff` says about a port change: the target group is replaced new before
/// old, and the ECS service — whose `load_balancer` the AWS provider updates in place (a
/// moto plan of this change shows `update`, not `-/+`) — is not flagged.
#[test]
fn diff_of_a_port_change_replaces_the_target_group_only() {
    let text = diff_text(&stack(8080, "16", REDIS), &stack(9090, "16", REDIS));
    let destructive: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("DESTRUCTIVE"))
        .collect();
    assert_eq!(destructive.len(), 1, "{text}");
    assert!(
        destructive[0].contains("replaces the aws_lb_target_group")
            && destructive[0].contains("the new one created before the old one is destroyed"),
        "{text}"
    );
}

/// Replacing a database that has deletion protection on cannot happen in one apply: the
/// diff says so.
#[test]
fn diff_says_deletion_protection_stops_a_replacement() {
    let yaml = stack(8080, "16", REDIS).replace(
        "    storage: { size_gb: 50 }\n",
        "    storage: { size_gb: 50 }\n    deletion_protection: true\n    username: app\n",
    );
    let text = diff_text(&yaml, &yaml.replace("username: app", "username: owner"));
    assert!(
        text.contains("destroys and recreates the aws_db_instance (username cannot change in place); its `deletion_protection` refuses the delete"),
        "{text}"
    );
}

/// Redis → Valkey is an in-place ModifyReplicationGroup in the AWS provider (only Valkey →
/// Redis replaces: `customizeDiffEngineForceNewOnDowngrade`), so the diff must not announce
/// a destroyed cache for it — and must for the way back.
#[test]
fn diff_knows_redis_to_valkey_keeps_the_cache() {
    let redis = stack(8080, "16", REDIS);
    let valkey = stack(8080, "16", VALKEY);
    let up = diff_text(&redis, &valkey);
    assert!(
        !up.contains("DESTRUCTIVE: destroys and recreates the aws_elasticache_replication_group"),
        "{up}"
    );
    assert!(
        up.contains("DESTRUCTIVE: replaces the aws_elasticache_parameter_group"),
        "{up}"
    );
    let down = diff_text(&valkey, &redis);
    assert!(
        down.contains(
            "DESTRUCTIVE: destroys and recreates the aws_elasticache_replication_group (engine"
        ),
        "{down}"
    );
}

/// ElastiCache takes a newer engine version in place, but the AWS provider re-creates the
/// replication group — empty — for an older one (customizeDiffEngineVersionForceNewOnDowngrade):
/// a Valkey 8.0 → 7.2 downgrade (to match another environment, say) must be flagged, and
/// the upgrade back must not.
#[test]
fn diff_flags_a_cache_version_downgrade_as_a_new_cache() {
    let (v8, v72) = (
        stack(8080, "16", VALKEY),
        stack(8080, "16", &VALKEY.replace("\"8.0\"", "\"7.2\"")),
    );
    assert_ne!(v8, v72);
    let down = diff_text(&v8, &v72);
    assert!(
        down.contains(
            "DESTRUCTIVE: destroys and recreates the aws_elasticache_replication_group (a lower engine_version cannot change in place)"
        ),
        "{down}"
    );
    let up = diff_text(&v72, &v8);
    assert!(
        !up.contains("destroys and recreates the aws_elasticache_replication_group"),
        "{up}"
    );
}

/// A fixed final snapshot name (`<id>-final`) serves once: the next deletion of a database or
/// cache of the same identifier — a replacement, or an environment destroyed a second time —
/// is refused because that snapshot exists (`DBSnapshotAlreadyExists`). Each instance names
/// its final snapshot after its creation time, taken once (ignored afterwards).
#[test]
fn final_snapshots_do_not_collide_on_a_second_deletion() {
    let out = synth(&stack(8080, "16", REDIS));
    for ty in ["aws_db_instance", "aws_elasticache_replication_group"] {
        for r in resources(&out, "infra", ty) {
            let Some(name) = r["final_snapshot_identifier"].as_str() else {
                continue; // a read replica takes none
            };
            assert!(
                name.contains("timestamp()"),
                "{ty}: final snapshot `{name}` is the same for every instance of this identifier"
            );
            assert!(
                r["lifecycle"]["ignore_changes"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "final_snapshot_identifier")),
                "{ty}: the creation time would change the name on every plan"
            );
        }
    }
}

/// An environment destroyed and applied again: a secret deleted with a recovery window keeps
/// its name for that window, and creating it again fails ("already scheduled for deletion";
/// a moto run of apply, destroy, apply failed just so). The secrets holding credentials
/// Terraform generated for a database or cache go with them, as RDS's own managed master
/// secret does; blueprint secrets, which hold values put by people, keep their window.
#[test]
fn generated_credential_secrets_free_their_name_when_destroyed() {
    let out = synth(&stack(8080, "16", REDIS));
    let secrets = resources(&out, "infra", "aws_secretsmanager_secret");
    let generated: Vec<&Value> = secrets
        .iter()
        .filter(|s| {
            let name = s["name"].as_str().unwrap_or_default();
            name.ends_with("/master") || name.ends_with("/auth-token")
        })
        .collect();
    assert_eq!(generated.len(), 2, "{secrets:?}");
    for s in generated {
        assert_eq!(
            s["recovery_window_in_days"], 0,
            "{}: re-creating the environment within the window fails",
            s["name"]
        );
    }
}

/// Version changes one apply cannot make are only visible to a diff (synth sees one
/// blueprint): skipping an EKS minor version (UpdateClusterVersion takes the next one only),
/// and a MySQL major upgrade with read replicas (RDS upgrades the replicas first; Terraform
/// updates the source first). The diff says so before the apply fails half-way.
#[test]
fn diff_notes_the_upgrades_one_apply_cannot_make() {
    let eks = std::fs::read_to_string(crate::support::root().join("blueprints/ecommerce-eks.yaml"))
        .unwrap();
    let at = |v: &str| eks.replacen("  version: \"1.35\"", &format!("  version: \"{v}\""), 1);
    assert_ne!(at("1.33"), eks, "the blueprint's cluster version moved");
    let skip = diff_text(&at("1.33"), &eks);
    assert!(
        skip.contains("EKS upgrades one minor version at a time, so 1.33 → 1.35 fails")
            && skip.contains("apply 1.34 first"),
        "{skip}"
    );
    let next = diff_text(&at("1.34"), &eks);
    assert!(!next.contains("one minor version at a time"), "{next}");

    let mysql = |v: &str| {
        stack(8080, "16", REDIS)
            .replace("engine: postgres", "engine: mysql")
            .replace(
                "version: \"16\"",
                &format!("version: \"{v}\"\n    replicas: 1"),
            )
    };
    let up = diff_text(&mysql("8.0"), &mysql("8.4"));
    assert!(
        up.contains("RDS upgrades MySQL replicas before their source"),
        "{up}"
    );
}

/// A minor version pinned in the blueprint (`16.11`) with RDS's automatic minor upgrades on
/// does not hold: RDS moves the instance to a newer minor in the maintenance window, the
/// provider reads that back (it keeps the configured text only while it is a prefix of the
/// running version), and every later plan asks for the older pin, which RDS refuses as a
/// downgrade — the next pull request's apply fails (hashicorp/terraform-provider-aws#39579,
/// fix #49496 still open). So a pin turns them off, on the replicas too; the major alone
/// (`16`) keeps them. And the diff says what a pin can meet in the account: a minor older
/// than the old pin, or a first pin where RDS chose the minor.
#[test]
fn a_pinned_minor_version_is_not_upgraded_behind_the_blueprint() {
    let with = |v: &str| {
        stack(8080, "16", REDIS).replace(
            "version: \"16\"",
            &format!("version: \"{v}\"\n    replicas: 1"),
        )
    };
    let auto = |v: &str| -> Vec<Value> {
        resources(&synth(&with(v)), "infra", "aws_db_instance")
            .iter()
            .map(|db| db["auto_minor_version_upgrade"].clone())
            .collect()
    };
    assert_eq!(auto("16"), [Value::Bool(true), Value::Bool(true)]);
    assert_eq!(auto("16.11"), [Value::Bool(false), Value::Bool(false)]);
    let pinned = synth(&with("16.11"));
    assert!(
        pinned.notes.iter().any(|n| n
            .to_string()
            .contains("version 16.11 pins the minor version")),
        "{:?}",
        pinned.notes
    );

    let down = diff_text(&with("16.12"), &with("16.11"));
    assert!(
        down.contains("16.12 → 16.11 is a minor version downgrade"),
        "{down}"
    );
    let first = diff_text(&with("16"), &with("16.11"));
    assert!(
        first.contains("if the instance already runs a newer 16 minor, the apply fails"),
        "{first}"
    );
    let up = diff_text(&with("16.11"), &with("16.12"));
    assert!(!up.contains("note: infra: aws_db_instance"), "{up}");
}

/// A namespace added to an EKS Fargate profile replaces the profile (its `selector` cannot
/// change), the old one deleted first under the same name: EKS deletes the pods it runs, and
/// those re-created before the new profile is active stay Pending ("Delete a Fargate
/// profile", Amazon EKS user guide). The apply succeeds and the services do not start: the
/// diff must say so, with the restart and the profile of its own that avoids it.
#[test]
fn diff_warns_that_a_replaced_fargate_profile_strands_its_pods() {
    let base =
        std::fs::read_to_string(crate::support::root().join("blueprints/case-eks-fargate.yaml"))
            .unwrap()
            .replacen(
                "    - name: case # apps\n",
                "    - name: case # apps\n    - name: case-jobs\n",
                1,
            );
    assert!(
        base.contains("- name: case-jobs"),
        "the blueprint's namespaces moved"
    );
    let head = base.replacen(
        "    namespaces: [case]\n",
        "    namespaces: [case, case-jobs]\n",
        1,
    );
    assert_ne!(head, base, "the blueprint's profiles moved");
    let text = diff_text(&base, &head);
    assert!(
        text.contains("Fargate profile `case` is replaced")
            && text.contains("stay Pending")
            && text.contains("kubectl rollout restart deployment,statefulset -n case`")
            && text.contains("give it a `fargate_profiles` entry of its own"),
        "{text}"
    );
    let own = base.replacen(
        "fargate_profiles:\n",
        "fargate_profiles:\n  - name: case-jobs\n    namespaces: [case-jobs]\n",
        1,
    );
    let text = diff_text(&base, &own);
    assert!(!text.contains("stay Pending"), "{text}");
}

/// A database renamed with `renamed_from`: RDS renames the instance in place (the provider
/// sends NewDBInstanceIdentifier), so the diff must not announce a destroyed database; its
/// parameter group, named after the identifier (`name_prefix`), is replaced new-first.
#[test]
fn diff_of_a_database_rename_keeps_the_instance() {
    let base = stack(8080, "16", REDIS);
    let head = base
        .replace(
            "  - name: orders\n",
            "  - name: sales\n    renamed_from: orders\n",
        )
        .replace("uses: [orders, sessions]", "uses: [sales, sessions]");
    let text = diff_text(&base, &head);
    assert!(
        text.contains(
            "> moved   infra: aws_db_instance.sales (from infra: aws_db_instance.orders)"
        ),
        "{text}"
    );
    assert!(
        !text.contains("destroys and recreates the aws_db_instance"),
        "{text}"
    );
    assert!(
        text.contains("replaces the aws_db_parameter_group (name_prefix, description cannot change in place), the new one created before the old one is destroyed"),
        "{text}"
    );
}

/// RDS grows storage by 10% at least and never shrinks it: `infragen diff` says so before an
/// apply that would fail or leave the instance at another size than the blueprint's.
#[test]
fn diff_notes_storage_changes_rds_cannot_make() {
    let base = stack(8080, "16", REDIS);
    let sized = |gib: u32| base.replace("size_gb: 50", &format!("size_gb: {gib}"));
    assert_ne!(sized(52), base);
    let small = diff_text(&base, &sized(52));
    assert!(
        small.contains("50 → 52 GiB is less than RDS's minimum increase of 10% (at least 55 GiB)"),
        "{small}"
    );
    let shrink = diff_text(&base, &sized(40));
    assert!(
        shrink.contains("never reduces allocated storage"),
        "{shrink}"
    );
    let grow = diff_text(&base, &sized(60));
    assert!(!grow.contains("minimum increase"), "{grow}");
}

/// A service renamed with `renamed_from` (tests/fixtures/day2 change 10) keeps its state
/// through `moved` blocks, but what carries the name is replaced. The diff must name every
/// replacement `terraform plan` makes — moto's plan of this change (docs/testing.md, day-2
/// step 10) replaces exactly these, besides the task definition's new revision — and say
/// which go first: the ECS service and the roles are destroyed before the new ones exist.
#[test]
fn diff_of_a_service_rename_names_every_replacement_the_plan_makes() {
    let dir = crate::support::root().join("tests/fixtures/day2");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let text = diff_text(
        &read("9-scale-service.yaml"),
        &read("10-rename-service.yaml"),
    );
    let mut replaced: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if let Some(rest) = l.strip_prefix("> moved   ")
            && lines.peek().is_some_and(|n| n.contains("DESTRUCTIVE: "))
        {
            replaced.push(rest.split(' ').nth(1).unwrap().to_string());
        }
    }
    replaced.sort();
    let planned = [
        "aws_cloudwatch_log_group.ecs_storefront",
        // Its alarm names carry the service's name (the no-healthy-hosts one is newer than
        // the moto run docs/testing.md records).
        "aws_cloudwatch_metric_alarm.storefront_no_healthy_hosts",
        "aws_cloudwatch_metric_alarm.storefront_unhealthy_hosts",
        "aws_ecs_service.storefront",
        "aws_iam_role.storefront_execution",
        "aws_iam_role.storefront_task",
        "aws_iam_role_policy.storefront_execution",
        "aws_lb_target_group.storefront",
        "aws_security_group.storefront_tasks",
        "aws_vpc_security_group_egress_rule.storefront_to_anywhere_443",
        "aws_vpc_security_group_egress_rule.storefront_to_orders",
        "aws_vpc_security_group_ingress_rule.storefront_from_alb",
    ];
    assert_eq!(replaced, planned, "{text}");
    assert!(
        text.contains("replaces the aws_ecs_service (name cannot change in place), the old one destroyed before the new one is created"),
        "{text}"
    );
}

/// Switching a service behind the load balancer from ECS's blue/green or canary back to
/// rolling (tests/fixtures/day2 rollout chain, step 3, applied on moto): its rule then
/// forwards to the primary group only, which holds no tasks after an odd number of ECS
/// deployments, so the diff says how to check first. A service without the load balancer
/// (Service Connect only) has no such route and gets no note; staying on blue/green gets none.
#[test]
fn diff_warns_before_switching_back_to_rolling() {
    let dir = crate::support::root().join("tests/fixtures/day2");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let back = diff_text(
        &read("rollout-2-ports.yaml"),
        &read("rollout-3-rolling.yaml"),
    );
    for service in ["api: CANARY", "web: BLUE_GREEN"] {
        assert!(
            back.contains(&format!("aws_ecs_service.{service} → ROLLING: if ECS's last deployment left the live tasks in the alternate target group")),
            "{service}: {back}"
        );
    }
    assert!(!back.contains("aws_ecs_service.ledger:"), "{back}");
    let onto = diff_text(
        &read("rollout-0-base.yaml"),
        &read("rollout-1-blue-green.yaml"),
    );
    assert!(!onto.contains("→ ROLLING: if ECS"), "{onto}");
}

/// A release of services deploying blue/green and canary behind the load balancer
/// (tests/fixtures/day2 rollout chain: rollout-4-release.yaml after rollout-1-blue-green.yaml,
/// applied on moto): a new image changes their task definitions and nothing else — not the
/// load balancer Terraform leaves to ECS — so neither service's postcondition can fail the
/// plan and ECS runs the deployment between its two target groups. A release that touched
/// the held `load_balancer` would be refused at plan (the diff says so).
#[test]
fn a_release_of_a_blue_green_service_changes_only_its_task_definition() {
    let dir = crate::support::root().join("tests/fixtures/day2");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let text = diff_text(
        &read("rollout-1-blue-green.yaml"),
        &read("rollout-4-release.yaml"),
    );
    let mut changed: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["+ added", "~ changed", "- removed", "> moved"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    changed.sort_unstable();
    assert_eq!(
        changed,
        [
            "~ changed infra: aws_ecs_task_definition.api",
            "~ changed infra: aws_ecs_task_definition.web",
        ],
        "{text}"
    );
    assert!(!text.contains("postcondition"), "{text}");
}

fn diff_text(base: &str, head: &str) -> String {
    crate::support::diff("aws", "production", base, head).1
}
