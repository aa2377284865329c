//! `infragen diff` in a scratch git repository, as a reviewer runs it on a pull request.

use std::path::Path;
use std::process::{Command, Output};

const BLUEPRINT: &str = r#"
name: shop
providers:
  aws:
    region: us-east-1
network:
  cidr: 10.0.0.0/16
  zones: [us-east-1a, us-east-1b]
  subnets:
    public: [10.0.0.0/24, 10.0.1.0/24]
    private: [10.0.10.0/24, 10.0.11.0/24]
cluster:
  platform: ecs_fargate
databases:
  - name: orders
    engine: postgres
    version: "17"
    size: db.t4g.medium
    storage: { size_gb: 50 }
caches:
  - name: sessions
    engine: redis
    size: cache.t4g.small
services:
  - name: api
    image: example/api:1.0.0
    port: 8080
    task: { cpu: 256, memory: 512 }
    uses: [orders, sessions]
environments:
  production: {}
"#;

fn run(dir: &Path, cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn infragen(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = run(dir, env!("CARGO_BIN_EXE_infragen"), args);
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for args in [
        &["init", "-q"][..],
        &["config", "user.email", "ci@example.com"],
        &["config", "user.name", "ci"],
        &["config", "commit.gpgsign", "false"],
    ] {
        assert!(run(d, "git", args).status.success());
    }
    std::fs::write(d.join("shop.yaml"), BLUEPRINT).unwrap();
    assert!(run(d, "git", &["add", "shop.yaml"]).status.success());
    assert!(run(d, "git", &["commit", "-qm", "base"]).status.success());
    t
}

fn edit(d: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(d.join("shop.yaml")).unwrap();
    assert!(text.contains(from), "blueprint lacks {from}");
    std::fs::write(d.join("shop.yaml"), text.replace(from, to)).unwrap();
}

const DIFF: &[&str] = &["diff", "--base", "HEAD", "--blueprint", "shop.yaml"];

#[test]
fn unchanged_blueprint_exits_0() {
    let t = repo();
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes"), "{out}");
}

#[test]
fn a_database_size_change_shows_the_resource_and_attribute() {
    let t = repo();
    edit(t.path(), "size: db.t4g.medium", "size: db.t4g.large");
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("~ changed infra: aws_db_instance.orders"),
        "{out}"
    );
    assert!(
        out.contains("instance_class: \"db.t4g.medium\" → \"db.t4g.large\""),
        "{out}"
    );
    assert!(
        !out.contains("DESTRUCTIVE"),
        "a class change is in place:\n{out}"
    );
}

#[test]
fn removing_a_cache_is_flagged_destructive() {
    let t = repo();
    edit(
        t.path(),
        "caches:\n  - name: sessions\n    engine: redis\n    size: cache.t4g.small\n",
        "",
    );
    edit(t.path(), "uses: [orders, sessions]", "uses: [orders]");
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("- removed infra: aws_elasticache_replication_group.sessions"),
        "{out}"
    );
    assert!(
        out.contains("DESTRUCTIVE: removes a stateful aws_elasticache_replication_group"),
        "{out}"
    );

    let (code, md) = infragen(t.path(), &[DIFF, &["--format", "markdown"]].concat());
    assert_eq!(code, 1);
    assert!(
        md.starts_with("## infragen diff: `shop.yaml` against `HEAD`"),
        "{md}"
    );
    assert!(
        md.contains("[!CAUTION]")
            && md.contains("🔴 | removed | `infra: aws_elasticache_replication_group.sessions`"),
        "{md}"
    );
    assert!(
        md.contains("<details><summary>Generated file diffs</summary>"),
        "{md}"
    );
    assert!(md.len() < 65_536);

    let (code, json) = infragen(t.path(), &[DIFF, &["--format", "json"]].concat());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["changed"], true);
    assert!(v["destructive"].as_u64().unwrap() >= 1);
    let changes = v["targets"][0]["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["kind"] == "removed"
        && c["address"] == "infra: aws_elasticache_replication_group.sessions"
        && c["destructive"].is_string()));
}

#[test]
fn renaming_a_component_yields_moved_blocks() {
    let t = repo();
    let d = t.path();
    // Detected: one database name gone, one new.
    edit(d, "  - name: orders\n", "  - name: sales\n");
    edit(d, "uses: [orders, sessions]", "uses: [sales, sessions]");
    let (code, out) = infragen(d, DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("> moved   infra: aws_db_instance.sales (from infra: aws_db_instance.orders)"),
        "{out}"
    );
    assert!(
        out.contains("moved { from = aws_db_instance.orders  to = aws_db_instance.sales }"),
        "{out}"
    );
    assert!(!out.contains("removed infra: aws_db_instance"), "{out}");

    // Declared: synth writes the moved blocks itself.
    edit(
        d,
        "  - name: sales\n",
        "  - name: sales\n    renamed_from: orders\n",
    );
    let (code, out) = infragen(
        d,
        &[
            "synth",
            "--provider",
            "aws",
            "--env",
            "production",
            "--blueprint",
            "shop.yaml",
            "--out",
            "out",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let moved = std::fs::read_to_string(d.join("out/terraform/infra/moved.tf.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&moved).unwrap();
    let blocks = v["moved"].as_array().unwrap();
    assert!(
        blocks
            .iter()
            .any(|b| b["from"] == "aws_db_instance.orders" && b["to"] == "aws_db_instance.sales"),
        "{moved}"
    );
    let (code, out) = infragen(d, &["validate", "out"]);
    assert_eq!(code, 0, "moved blocks must validate: {out}");
}

/// A component renamed without `renamed_from`: the diff pairs its resources as moves, but
/// synth writes no `moved` block, so the plan destroys the old database and creates an empty
/// one. Said loudly: a WARNING naming the data destroyed and the `renamed_from` line to add,
/// the stateful resources marked destructive, a fixed cloud name the new one would take while
/// the old one holds it, and what even `renamed_from` cannot rename in place (a cache's
/// `replication_group_id`). Declared, none of it.
#[test]
fn a_rename_without_renamed_from_warns_of_the_data_destroyed() {
    let t = repo();
    let d = t.path();
    edit(d, "  - name: orders\n", "  - name: sales\n");
    edit(d, "uses: [orders, sessions]", "uses: [sales, sessions]");
    let aws = [DIFF, &["--provider", "aws"]].concat();
    let (code, out) = infragen(d, &aws);
    assert_eq!(code, 1, "{out}");
    let warning = out
        .lines()
        .find(|l| l.starts_with("note: WARNING: `databases` `orders` → `sales` reads as a rename (one name gone, one new) the blueprint does not declare"))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(warning.contains("Terraform destroys the"), "{warning}");
    assert!(
        warning.contains("the data of") && warning.contains("`infra: aws_db_instance.orders`"),
        "{warning}"
    );
    assert!(
        warning.contains("add `renamed_from: orders` to `sales` in `databases`"),
        "{warning}"
    );
    let db = out
        .lines()
        .skip_while(|l| !l.starts_with("> moved   infra: aws_db_instance.sales"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        db.contains("DESTRUCTIVE: as written, destroys the aws_db_instance"),
        "{out}"
    );
    // On an existing cluster the database is a StatefulSet: even `renamed_from` leaves its
    // data on the old claims, and the warning says so.
    let (_, out) = infragen(d, &[DIFF, &["--provider", "kubernetes"]].concat());
    let warning = out
        .lines()
        .find(|l| l.starts_with("note: WARNING: `databases` `orders` → `sales`"))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(
        warning.contains("Even with it")
            && warning.contains("`k8s: StatefulSet shop/sales` (volumes do not follow a rename)"),
        "{warning}"
    );
    let (_, json) = infragen(d, &[&aws[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["targets"][0]["changes"].as_array().unwrap().iter().any(|c| c["address"]
        == "infra: aws_db_instance.sales"
        && c["destructive"].is_string()));

    // Declared: no warning, and the instance is renamed in place.
    edit(
        d,
        "  - name: sales\n",
        "  - name: sales\n    renamed_from: orders\n",
    );
    let (code, out) = infragen(d, &aws);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("WARNING"), "{out}");
    let db = out
        .lines()
        .skip_while(|l| !l.starts_with("> moved   infra: aws_db_instance.sales"))
        .nth(1)
        .unwrap_or_default();
    assert!(!db.contains("DESTRUCTIVE"), "{out}");

    // A pinned identifier stays: the new instance's create collides with the old one.
    let t = repo();
    let d = t.path();
    edit(
        d,
        "    engine: postgres\n",
        "    identifier: orders-db\n    engine: postgres\n",
    );
    assert!(
        run(d, "git", &["commit", "-qam", "pinned"])
            .status
            .success()
    );
    edit(d, "  - name: orders\n", "  - name: sales\n");
    edit(d, "uses: [orders, sessions]", "uses: [sales, sessions]");
    let (_, out) = infragen(d, &aws);
    assert!(
        out.contains(
            "`infra: aws_db_instance.sales` keeps the identifier `orders-db`: each create collides"
        ),
        "{out}"
    );

    // Declared, the pinned instance too: moved, renamed in place, no warning.
    edit(
        d,
        "  - name: sales\n",
        "  - name: sales\n    renamed_from: orders\n",
    );
    let (code, out) = infragen(d, &aws);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("WARNING"), "{out}");
    let db = out
        .lines()
        .skip_while(|l| !l.starts_with("> moved   infra: aws_db_instance.sales"))
        .nth(1)
        .unwrap_or_default();
    assert!(!db.contains("DESTRUCTIVE"), "{out}");

    // A cache: even `renamed_from` cannot keep it (ElastiCache's `replication_group_id`
    // cannot change), and the warning says so.
    let t = repo();
    let d = t.path();
    edit(d, "  - name: sessions\n", "  - name: carts\n");
    edit(d, "uses: [orders, sessions]", "uses: [orders, carts]");
    let (_, out) = infragen(d, &aws);
    let warning = out
        .lines()
        .find(|l| l.starts_with("note: WARNING: `caches` `sessions` → `carts`"))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(
        warning.contains("add `renamed_from: sessions` to `carts` in `caches`"),
        "{warning}"
    );
    assert!(
        warning.contains("Even with it, these cannot be renamed in place and are replaced, empty")
            && warning.contains("`infra: aws_elasticache_replication_group.carts`"),
        "{warning}"
    );
}

#[test]
fn base_as_a_file_and_bad_bases() {
    let t = repo();
    let d = t.path();
    std::fs::write(
        d.join("old.yaml"),
        BLUEPRINT.replace("size_gb: 50", "size_gb: 40"),
    )
    .unwrap();
    let (code, out) = infragen(
        d,
        &["diff", "--base", "old.yaml", "--blueprint", "shop.yaml"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("allocated_storage: 40 → 50"), "{out}");
    let (code, out) = infragen(
        d,
        &["diff", "--base", "no-such-ref", "--blueprint", "shop.yaml"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("neither a file nor a git revision"), "{out}");
}

/// The diff's lines about one object: its header and the attribute lines under it.
fn section<'a>(out: &'a str, header: &str) -> Vec<&'a str> {
    let mut lines = out.lines().skip_while(|l| !l.ends_with(header));
    let first = lines.next().into_iter();
    first
        .chain(lines.take_while(|l| l.starts_with("    ")))
        .collect()
}

#[test]
fn removing_a_use_shows_a_removed_rule_not_shifted_ports() {
    let t = repo();
    edit(t.path(), "uses: [orders, sessions]", "uses: [orders]");
    let (code, out) = infragen(t.path(), &[DIFF, &["--provider", "kubernetes"]].concat());
    assert_eq!(code, 1, "{out}");
    let api = section(&out, "k8s: NetworkPolicy shop/api-netpol");
    let sessions = section(&out, "k8s: NetworkPolicy shop/sessions-netpol");
    insta::with_settings!({snapshot_path => "../../snapshots/diff", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("uses-removed@kubernetes", [api, sessions].concat().join("\n"));
    });
    // One egress rule gone, whole; none of the others shifted into its place.
    assert!(
        out.contains("spec.egress[to=podSelector.app=sessions]: {\"ports\":[{\"port\":6379"),
        "{out}"
    );
    assert!(!out.contains("6379 →"), "{out}");
    // The ECS task loses the variables by name, not by position.
    let (_, out) = infragen(t.path(), &[DIFF, &["--provider", "aws"]].concat());
    assert!(
        out.contains("container_definitions:[name=api].environment[name=SESSIONS_HOST]:"),
        "{out}"
    );
}

#[test]
fn every_provider_the_blueprint_targets_is_compared() {
    let t = repo();
    edit(
        t.path(),
        "image: example/api:1.0.0",
        "image: example/api:1.1.0",
    );
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("== aws / production"), "{out}");
    assert!(out.contains("== kubernetes / production"), "{out}");
    let (_, out) = infragen(t.path(), &[DIFF, &["--provider", "aws"]].concat());
    assert!(!out.contains("== kubernetes"), "{out}");
}

/// A blueprint with an SQS queue (AWS only) is compared on AWS alone: `--provider
/// kubernetes` refuses the queue, and taking that target by default failed the whole diff
/// (exit 2) of every such blueprint, the GitHub Action's included.
#[test]
fn an_sqs_blueprint_is_not_compared_on_an_existing_cluster() {
    let t = repo();
    edit(
        t.path(),
        "databases:\n",
        "queues:\n  - { name: events, engine: sqs }\ndatabases:\n",
    );
    assert!(
        run(t.path(), "git", &["commit", "-qam", "sqs"])
            .status
            .success()
    );
    edit(
        t.path(),
        "image: example/api:1.0.0",
        "image: example/api:1.1.0",
    );
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("== aws / production"), "{out}");
    assert!(!out.contains("kubernetes"), "{out}");
}

#[test]
fn identical_environments_are_reported_once() {
    let t = repo();
    let d = t.path();
    let envs = "environments:\n  production: {}\n";
    let three = "environments:\n  development: {}\n  staging: {}\n  production: {}\n";
    std::fs::write(d.join("old.yaml"), BLUEPRINT.replace(envs, three)).unwrap();
    edit(d, envs, three);
    edit(d, "image: example/api:1.0.0", "image: example/api:1.1.0");
    let args = [
        "diff",
        "--base",
        "old.yaml",
        "--blueprint",
        "shop.yaml",
        "--provider",
        "kubernetes",
    ];
    let (code, out) = infragen(d, &args);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("== kubernetes / development, staging, production (against old.yaml)"),
        "{out}"
    );
    assert_eq!(out.matches("== kubernetes").count(), 1, "{out}");
    assert_eq!(
        out.matches("~ changed k8s: Deployment shop/api").count(),
        1,
        "{out}"
    );
    let (_, md) = infragen(d, &[&args[..], &["--format", "markdown"]].concat());
    assert!(
        md.contains("### kubernetes · development, staging, production"),
        "{md}"
    );
    assert_eq!(md.matches("`k8s: Deployment shop/api`").count(), 1, "{md}");
}

#[test]
fn json_names_module_type_and_name() {
    let t = repo();
    edit(t.path(), "size: db.t4g.medium", "size: db.t4g.large");
    let (code, json) = infragen(t.path(), &[DIFF, &["--format", "json"]].concat());
    assert_eq!(code, 1, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let aws = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["provider"] == "aws")
        .unwrap();
    let db = aws["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "aws_db_instance")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(db["module"], "infra");
    assert_eq!(db["name"], "orders");
    assert_eq!(db["kind"], "changed");
    assert_eq!(db["attributes"][0]["path"], "instance_class");
}

#[test]
fn a_rename_that_replaces_is_destructive_even_when_moved() {
    let t = repo();
    let d = t.path();
    edit(d, "  - name: api\n", "  - name: web\n");
    let (code, out) = infragen(d, &[DIFF, &["--provider", "aws"]].concat());
    assert_eq!(code, 1, "{out}");
    // The task role moves with the service, but its IAM name cannot change in place.
    let role = out
        .lines()
        .skip_while(|l| !l.starts_with("> moved   infra: aws_iam_role.web_task"))
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(role.len(), 2, "{out}");
    assert!(
        role[1].contains("DESTRUCTIVE: replaces the aws_iam_role (name cannot change in place)"),
        "{out}"
    );
}

#[test]
fn a_huge_markdown_diff_fits_a_comment_with_every_destructive_change() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // From a small shop to the whole e-commerce platform: thousands of changes, dozens of
    // them destructive (the shop's database, cache, log groups…).
    std::fs::write(
        d.join("old.yaml"),
        BLUEPRINT.replace(
            "environments:\n  production: {}\n",
            "environments:\n  development: {}\n  staging: {}\n  production: {}\n",
        ),
    )
    .unwrap();
    std::fs::copy(
        crate::support::root().join("blueprints/ecommerce-eks.yaml"),
        d.join("new.yaml"),
    )
    .unwrap();
    let args = ["diff", "--base", "old.yaml", "--blueprint", "new.yaml"];
    let (code, md) = infragen(d, &[&args[..], &["--format", "markdown"]].concat());
    assert_eq!(code, 1, "{}", &md[..md.len().min(2_000)]);
    assert!(md.len() < 65_536, "{} characters", md.len());
    let (_, json) = infragen(d, &[&args[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let destructive = v["destructive"].as_u64().unwrap() as usize;
    assert!(destructive > 10, "{destructive}");
    // Environments with the same destructive change list it once, naming them all.
    let listed: usize = md
        .lines()
        .filter(|l| l.starts_with("> - "))
        .map(|l| l[4..].split(':').next().unwrap().split(", ").count())
        .sum();
    assert_eq!(listed, destructive, "every destructive change is listed");
    assert!(md.contains("left out for size") || md.contains("cut for size"));
}

/// A change to an `extra:` template shows like any change: the base renders the template as
/// it was at the base revision (or beside the base file), not the working tree's.
#[test]
fn a_changed_extra_template_shows_in_the_diff() {
    let t = repo();
    let d = t.path();
    let template = r#"{"resource": {"aws_sqs_queue": {"jobs": {"name": "shop-{{ env }}-jobs", "visibility_timeout_seconds": 30}}}}"#;
    std::fs::create_dir(d.join("templates")).unwrap();
    std::fs::write(d.join("templates/sqs.tf.json.j2"), template).unwrap();
    edit(
        d,
        "environments:",
        "extra:\n  terraform:\n    infra: [templates/sqs.tf.json.j2]\nenvironments:",
    );
    assert!(run(d, "git", &["add", "."]).status.success());
    assert!(run(d, "git", &["commit", "-qm", "queue"]).status.success());
    let (code, out) = infragen(d, &[DIFF, &["--provider", "aws"]].concat());
    assert_eq!(code, 0, "{out}");

    std::fs::write(
        d.join("templates/sqs.tf.json.j2"),
        template.replace("30", "60"),
    )
    .unwrap();
    let (code, out) = infragen(d, &[DIFF, &["--provider", "aws"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("~ changed infra: aws_sqs_queue.jobs"), "{out}");
    assert!(out.contains("visibility_timeout_seconds: 30 → 60"), "{out}");

    // A base file reads the templates beside it.
    std::fs::create_dir(d.join("old")).unwrap();
    std::fs::create_dir(d.join("old/templates")).unwrap();
    std::fs::copy(d.join("shop.yaml"), d.join("old/shop.yaml")).unwrap();
    std::fs::write(d.join("old/templates/sqs.tf.json.j2"), template).unwrap();
    let (code, out) = infragen(
        d,
        &[
            "diff",
            "--base",
            "old/shop.yaml",
            "--blueprint",
            "shop.yaml",
            "--provider",
            "aws",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("visibility_timeout_seconds: 30 → 60"), "{out}");
}

/// A bucket removed (or replaced) takes its objects — and S3 refuses to delete one that
/// still holds objects or object versions (`BucketNotEmpty`; the output never sets
/// `force_destroy`), so the apply fails half-way. "removes a stateful aws_s3_bucket" alone
/// did not say either; the diff says both, and how to empty it.
#[test]
fn removing_a_bucket_says_s3_refuses_it_while_it_holds_objects() {
    let t = repo();
    edit(
        t.path(),
        "services:",
        "buckets:\n  - name: uploads\nservices:",
    );
    edit(
        t.path(),
        "uses: [orders, sessions]",
        "uses: [orders, sessions, uploads]",
    );
    assert!(
        run(t.path(), "git", &["commit", "-qam", "bucket"])
            .status
            .success()
    );
    edit(t.path(), "buckets:\n  - name: uploads\n", "");
    edit(
        t.path(),
        "uses: [orders, sessions, uploads]",
        "uses: [orders, sessions]",
    );
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .skip_while(|l| !l.starts_with("- removed infra: aws_s3_bucket.uploads"))
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("removes a stateful aws_s3_bucket")
            && line
                .contains("S3 refuses to delete a bucket that still holds objects (BucketNotEmpty")
            && line.contains("aws s3api delete-objects"),
        "{line}"
    );
}

/// `--env all` means every environment, as it does for `synth` (it was taken for an
/// environment named `all` and refused: "unknown environment `all`").
#[test]
fn env_all_is_every_environment() {
    let t = repo();
    edit(t.path(), "size: db.t4g.medium", "size: db.t4g.large");
    let (code, all) = infragen(t.path(), &[DIFF, &["--env", "all"]].concat());
    assert_eq!(code, 1, "{all}");
    let (_, default) = infragen(t.path(), DIFF);
    assert_eq!(all, default);
}

/// `--base` a folder `synth` wrote (the committed output): the view of an infragen upgrade —
/// a new chart pin in the versions catalog, new engine defaults — which two blueprint
/// revisions rendered by the same infragen never show. Here the committed output has Envoy
/// Gateway pinned older than the catalog: the diff shows the release's new version and the
/// CRDs to apply first. A folder needs the target it holds named; a folder without a
/// manifest is refused.
#[test]
fn the_committed_output_is_a_base() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let fixture = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/new-user/kiosk-doks.yaml"),
    )
    .unwrap();
    let pinned = fixture.replace(
        "gateway: { class: eg }",
        "gateway: { class: eg, chart_version: v1.9.0 }",
    );
    assert_ne!(pinned, fixture);
    std::fs::write(d.join("kiosk.yaml"), &pinned).unwrap();
    let target = ["--provider", "digitalocean", "--env", "production"];
    let synth = [
        &["synth", "--blueprint", "kiosk.yaml", "--out", "committed"][..],
        &target,
    ]
    .concat();
    let (code, out) = infragen(d, &synth);
    assert_eq!(code, 0, "{out}");
    let diff = [
        &["diff", "--base", "committed", "--blueprint", "kiosk.yaml"][..],
        &target,
    ]
    .concat();
    let (code, out) = infragen(d, &diff);
    assert_eq!(code, 0, "the output of this very blueprint: {out}");

    std::fs::write(d.join("kiosk.yaml"), &fixture).unwrap();
    let (code, out) = infragen(d, &diff);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("~ changed platform: helm_release.envoy_gateway")
            && out.contains("chart gateway-helm v1.9.0 → ")
            // DOKS manages the Gateway API CRDs: Envoy Gateway's own are the ones to apply.
            && out.contains("helm pull oci://docker.io/envoyproxy/gateway-helm"),
        "{out}"
    );

    let (code, out) = infragen(
        d,
        &["diff", "--base", "committed", "--blueprint", "kiosk.yaml"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("name the target it holds with `--provider` and `--env`"),
        "{out}"
    );
    std::fs::create_dir(d.join("empty")).unwrap();
    let (code, out) = infragen(
        d,
        &[
            &["diff", "--base", "empty", "--blueprint", "kiosk.yaml"][..],
            &target,
        ]
        .concat(),
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("holds no output of infragen"), "{out}");
}

/// A second environment added by overlay: its target is all new, and the diff says why
/// (it said the base "does not synthesize … (unknown environment …): compared with nothing",
/// as if the base were broken).
#[test]
fn an_environment_added_by_overlay_is_said_to_be_new() {
    let t = repo();
    edit(
        t.path(),
        "environments:\n  production: {}\n",
        "environments:\n  production: {}\n  staging: { databases: [{ name: orders, size: db.t4g.small }] }\n",
    );
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "note: environment `staging` is added by this change: everything in it is new"
        ),
        "{out}"
    );
    assert!(!out.contains("does not synthesize"), "{out}");
}

/// A change that makes synth warn shows the warning in the diff, which is all a reviewer
/// of the pull request reads; a warning the base had already is not repeated.
#[test]
fn the_warnings_a_change_brings_are_shown() {
    let t = repo();
    let canary = "    uses: [orders, sessions]\n    rollout: { strategy: canary }\n";
    edit(t.path(), "    uses: [orders, sessions]\n", canary);
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("synth now warns: warning[ecs-rollout-rolling]"),
        "{out}"
    );
    // Committed, then another change: the warning is the base's too.
    assert!(
        run(t.path(), "git", &["commit", "-qam", "canary"])
            .status
            .success()
    );
    edit(t.path(), "size: db.t4g.medium", "size: db.t4g.large");
    let (code, out) = infragen(t.path(), DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("ecs-rollout-rolling"), "{out}");
}

/// A namespace that gains its first in-cluster database moves from the manifests to the
/// `platform` module (which writes the database's credentials Secret into it), and back when
/// it loses it. Neither owner adopts what the other made: Terraform's create fails on the
/// existing namespace, and Terraform deletes the namespace it no longer declares. The diff
/// once showed a removal and advised `kubectl delete namespace shop` — everything in it.
#[test]
fn a_namespace_changing_owner_says_how_to_hand_it_over() {
    let without = "name: shop\nproviders:\n  kubernetes: {}\ncluster:\n  platform: existing\nkubernetes:\n  default_namespace: shop\n  namespaces:\n    - name: shop\nservices:\n  - name: api\n    image: example/api:1.0.0\n    port: 8080\nenvironments:\n  production: {}\n";
    let with = without
        .replace("    port: 8080\n", "    port: 8080\n    uses: [db]\n")
        .replace(
            "services:\n",
            "databases:\n  - name: db\n    engine: postgres\n    version: \"17\"\n    deployment: in_cluster\n    storage: { size_gb: 10 }\nservices:\n",
        );
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("without.yaml"), without).unwrap();
    std::fs::write(t.path().join("with.yaml"), &with).unwrap();
    let diff = |base: &str, head: &str| {
        let args = [
            "diff",
            "--base",
            base,
            "--blueprint",
            head,
            "--provider",
            "kubernetes",
        ];
        let (code, out) = infragen(t.path(), &args);
        assert_eq!(code, 1, "{out}");
        out
    };

    let out = diff("without.yaml", "with.yaml");
    assert!(
        out.contains("import it first: `terraform -chdir=terraform/platform import kubernetes_namespace_v1.shop shop`"),
        "{out}"
    );
    assert!(!out.contains("kubectl delete namespace shop"), "{out}");
    assert!(out.contains("0 destructive"), "{out}");

    let out = diff("with.yaml", "without.yaml");
    assert!(
        out.contains("`terraform -chdir=terraform/platform state rm kubernetes_namespace_v1.shop`"),
        "{out}"
    );
    assert!(
        out.contains("removed platform: kubernetes_namespace_v1.shop\n    DESTRUCTIVE"),
        "{out}"
    );
}

/// A scratch repository whose `shop.yaml` is `text`, committed.
fn repo_with(text: &str) -> tempfile::TempDir {
    let t = repo();
    std::fs::write(t.path().join("shop.yaml"), text).unwrap();
    assert!(
        run(t.path(), "git", &["commit", "-qam", "base"])
            .status
            .success()
    );
    t
}

const DO_DIFF: &[&str] = &[
    "diff",
    "--base",
    "HEAD",
    "--blueprint",
    "shop.yaml",
    "--provider",
    "digitalocean",
];

const DO_POOL: &str = r#"
name: shop
providers:
  digitalocean:
    region: ams3
network:
  cidr: 10.120.0.0/20
cluster:
  platform: doks
  version: "1.35"
node_pools:
  - { name: apps, size: medium, min: 2, max: 3 }
databases:
  - { name: orders, engine: postgres, size: small, username: app, database_name: shop, pool: { mode: transaction, size: 10 } }
services:
  - { name: api, image: "ghcr.io/x/api:1.0.0", port: 8080, uses: [orders] }
environments:
  production: {}
"#;

/// w144: docs/day2.md's first unreported hazard. A DigitalOcean pool is named
/// `<database>-pool` and the provider cannot change a pool (every argument ForceNew): a
/// database renamed — `renamed_from` or not — destroys `orders-pool` and creates
/// `sales-pool` while the services still connect to `orders-pool` until `platform` is
/// applied and they restart. The diff now warns, with the order to apply in; and a pool's
/// new size, which replaces it under the same name, is flagged destructive.
#[test]
fn a_pool_under_a_new_name_warns_that_the_services_still_use_the_old_one() {
    let t = repo_with(DO_POOL);
    let d = t.path();
    edit(d, "name: orders,", "name: sales, renamed_from: orders,");
    edit(d, "uses: [orders]", "uses: [sales]");
    let (code, out) = infragen(d, DO_DIFF);
    assert_eq!(code, 1, "{out}");
    let warning = out
        .lines()
        .find(|l| l.contains("connection pool `orders-pool` goes and `sales-pool` comes"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(warning.contains("WARNING"), "{warning}");
    assert!(
        warning.contains("`terraform/infra` and then `terraform/platform`"),
        "{warning}"
    );
    assert!(
        out.contains("replaces the digitalocean_database_connection_pool (cluster_id, name,"),
        "{out}"
    );

    // An output from before pools were named `<database>-pool` (docs/day2.md): against the
    // committed output, the pool alone changes name.
    let t = repo_with(DO_POOL);
    let d = t.path();
    let synth = [
        "synth",
        "--provider",
        "digitalocean",
        "--env",
        "production",
        "--blueprint",
        "shop.yaml",
        "--out",
        "deploy",
    ];
    let (code, out) = infragen(d, &synth);
    assert_eq!(code, 0, "{out}");
    for file in ["infra/data.tf.json", "platform/connections.tf.json"] {
        let path = d.join("deploy/terraform").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"orders-pool\""), "{file}: {text}");
        std::fs::write(&path, text.replace("\"orders-pool\"", "\"orders\"")).unwrap();
    }
    let (code, out) = infragen(
        d,
        &[
            "diff",
            "--base",
            "deploy",
            "--blueprint",
            "shop.yaml",
            "--provider",
            "digitalocean",
            "--env",
            "production",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("connection pool `orders` goes and `orders-pool` comes"),
        "{out}"
    );

    // The same name with a new size: replaced (no update in the provider), no rename warning.
    let t = repo_with(DO_POOL);
    let d = t.path();
    edit(d, "size: 10 }", "size: 20 }");
    let (code, out) = infragen(d, DO_DIFF);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("goes and"), "{out}");
    assert!(
        out.contains("digitalocean_database_connection_pool (size cannot change in place"),
        "{out}"
    );
}

/// w144: docs/day2.md's second unreported hazard. A PostgreSQL primary's `max_connections`
/// raised while it has a read replica: the replica shares the parameter group, takes the
/// value at its next reboot, and as a hot standby refuses a primary whose value is higher
/// than its own. The diff now warns to reboot the replica first; lowering, the primary.
#[test]
fn raising_max_connections_with_read_replicas_says_to_reboot_the_replicas_first() {
    let with = |max: &str| {
        BLUEPRINT.replace(
            "    storage: { size_gb: 50 }\n",
            &format!(
                "    storage: {{ size_gb: 50 }}\n    replicas: 1\n    parameters: {{ max_connections: \"{max}\" }}\n"
            ),
        )
    };
    let t = repo_with(&with("200"));
    let d = t.path();
    std::fs::write(d.join("shop.yaml"), with("400")).unwrap();
    let (code, out) = infragen(d, DIFF);
    assert_eq!(code, 1, "{out}");
    let warning = out
        .lines()
        .find(|l| l.contains("`max_connections` 200 → 400"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(warning.contains("WARNING"), "{warning}");
    assert!(warning.contains("1 read replica(s)"), "{warning}");
    let replica = warning
        .find("reboot-db-instance --db-instance-identifier shop-production-orders-")
        .unwrap_or_else(|| panic!("{warning}"));
    let primary = warning
        .find("reboot-db-instance --db-instance-identifier shop-production-orders`")
        .unwrap_or_else(|| panic!("{warning}"));
    assert!(replica < primary, "the replicas first: {warning}");

    // Lowered: the primary first.
    std::fs::write(d.join("shop.yaml"), with("100")).unwrap();
    let (_, out) = infragen(d, DIFF);
    let warning = out
        .lines()
        .find(|l| l.contains("`max_connections` 200 → 100"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(warning.contains("reboot the primary first"), "{warning}");
}
