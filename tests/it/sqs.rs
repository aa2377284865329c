//! SQS queues (`queues[].engine: sqs`): a caller can send and receive from its first start
//! — its environment names the queue Terraform creates, its role (ECS task role, EKS IRSA
//! role bound to the ServiceAccount its pods run as) allows exactly the SQS actions on
//! exactly that queue and its dead-letter queue, and its pods may reach HTTPS — while a
//! workload that does not use the queue gets nothing. What SQS would refuse is refused at
//! synth with a position.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::{diff, ecs_stack, manifests, resources, root, synth, synth_aws, synth_cli};

const ACTIONS: [&str; 6] = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
];

/// The SDKs' one-call DLQ redrive (`StartMessageMoveTask` and its companions): on the DLQ,
/// the move's source; the move's other needs — receive/delete/attributes on the DLQ, send
/// on the source queue — are in `ACTIONS` ("Configuring a dead-letter queue redrive", SQS
/// developer guide).
const MOVE_ACTIONS: [&str; 3] = [
    "sqs:CancelMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:StartMessageMoveTask",
];

fn fixture(name: &str) -> infragen::Output {
    synth(
        &root().join(format!("tests/fixtures/workloads/{name}.yaml")),
        infragen::Provider::Aws,
        "production",
    )
}

/// Every resource of module `module` as (type, name, body).
fn all_resources(out: &infragen::Output, module: &str) -> Vec<(String, String, Value)> {
    let prefix = format!("terraform/{module}/");
    let mut v = Vec::new();
    for (p, t) in &out.files {
        if !p.starts_with(&prefix) || !p.ends_with(".tf.json") {
            continue;
        }
        let doc: Value = serde_json::from_str(t).unwrap();
        for section in ["resource", "data"] {
            for (ty, names) in doc[section].as_object().into_iter().flatten() {
                for (name, body) in names.as_object().unwrap() {
                    let ty = if section == "data" {
                        format!("data.{ty}")
                    } else {
                        ty.clone()
                    };
                    v.push((ty, name.clone(), body.clone()));
                }
            }
        }
    }
    v
}

fn find<'a>(all: &'a [(String, String, Value)], ty: &str, name: &str) -> &'a Value {
    &all.iter()
        .find(|(t, n, _)| t == ty && n == name)
        .unwrap_or_else(|| panic!("{ty}.{name} is not in the output"))
        .2
}

/// `${aws_sqs_queue.NAME.ATTR}` → (NAME, ATTR), for a reference to a queue of `module`.
fn queue_ref<'a>(text: &'a str, ty: &str) -> Option<(&'a str, &'a str)> {
    let inner = text.strip_prefix("${")?.strip_suffix('}')?;
    let rest = inner.strip_prefix(&format!("{ty}."))?;
    rest.split_once('.')
}

/// The statements of an IAM policy document (a JSON string).
fn statements(policy: &Value) -> Vec<Value> {
    let doc: Value = serde_json::from_str(policy.as_str().unwrap()).unwrap();
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

/// (actions, resources) the statements mentioning `sqs:` grant.
fn sqs_grants(stmts: &[Value]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut actions = BTreeSet::new();
    let mut res = BTreeSet::new();
    for s in stmts {
        let acts: Vec<String> = match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        };
        if !acts.iter().any(|a| a.starts_with("sqs:")) {
            continue;
        }
        assert_eq!(s["Effect"], "Allow");
        actions.extend(acts);
        match &s["Resource"] {
            Value::String(r) => {
                res.insert(r.clone());
            }
            Value::Array(r) => res.extend(r.iter().map(|x| x.as_str().unwrap().to_string())),
            _ => {}
        }
    }
    (actions, res)
}

/// action → the resources the statements mentioning `sqs:` grant it on.
fn sqs_grants_by_action(stmts: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in stmts {
        let (acts, res) = sqs_grants(std::slice::from_ref(s));
        for a in acts {
            out.entry(a).or_default().extend(res.iter().cloned());
        }
    }
    out
}

/// A caller of `queues` may use them and their DLQs (`ACTIONS`), and redrive exactly its
/// own DLQs (`MOVE_ACTIONS` on the DLQs alone): nothing else, nowhere else.
fn assert_exact_sqs_grants(stmts: &[Value], queues: &[&str], who: &str) {
    let all: Vec<String> = queues
        .iter()
        .flat_map(|q| [q.to_string(), format!("{q}_dlq")])
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let dlqs: Vec<String> = queues.iter().map(|q| format!("{q}_dlq")).collect();
    let dlqs: Vec<&str> = dlqs.iter().map(String::as_str).collect();
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in ACTIONS {
        want.insert(a.to_string(), arns(&all));
    }
    for a in MOVE_ACTIONS {
        want.insert(a.to_string(), arns(&dlqs));
    }
    assert_eq!(sqs_grants_by_action(stmts), want, "{who}");
}

fn arns(queues: &[&str]) -> BTreeSet<String> {
    queues
        .iter()
        .map(|q| format!("${{aws_sqs_queue.{q}.arn}}"))
        .collect()
}

/// The environment (name → value) of the ECS container `name` in task definition `task`.
fn ecs_env(all: &[(String, String, Value)], task: &str) -> Vec<(String, String)> {
    let td = find(all, "aws_ecs_task_definition", task);
    let defs: Value = serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
    let c = defs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == task)
        .unwrap();
    c["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// ECS: `api` (sends to `orders`), `worker` (`orders` and `ledger`), the `reconcile` job
/// (`ledger`) and `web` (nothing). Each caller's URL resolves to the queue `infra` creates,
/// and its task role allows exactly the six actions on exactly its queues and their DLQs,
/// and the redrive (`MOVE_ACTIONS`) on exactly its DLQs.
#[test]
fn ecs_callers_get_the_queue_url_and_exactly_its_permissions() {
    let out = fixture("sqs-ecs");
    let all = all_resources(&out, "infra");
    let cases: [(&str, &[&str]); 4] = [
        ("api", &["orders"]),
        ("worker", &["orders", "ledger"]),
        ("reconcile", &["ledger"]),
        ("web", &[]),
    ];
    for (task, queues) in cases {
        let env = ecs_env(&all, task);
        for q in queues {
            let prefix = q.to_uppercase();
            let get = |var: &str| {
                env.iter()
                    .find(|(n, _)| *n == format!("{prefix}_{var}"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("{task}: no {prefix}_{var} in {env:?}"))
            };
            // The URL is the `url` of a queue declared in `infra`, whose name is `_QUEUE`.
            let url = get("URL");
            let (label, attr) = queue_ref(&url, "aws_sqs_queue").expect("a queue reference");
            assert_eq!((label, attr), (*q, "url"), "{task}: {url}");
            let queue = find(&all, "aws_sqs_queue", label);
            assert_eq!(queue["name"].as_str().unwrap(), get("QUEUE"));
            let dlq_url = get("DLQ_URL");
            let (dlq, _) = queue_ref(&dlq_url, "aws_sqs_queue").unwrap();
            find(&all, "aws_sqs_queue", dlq);
            assert_eq!(get("REGION"), "eu-west-1");
        }
        if queues.is_empty() {
            assert!(
                !env.iter()
                    .any(|(n, _)| n.starts_with("ORDERS_") || n.starts_with("LEDGER_")),
                "{task} uses no queue: {env:?}"
            );
        }
        // Every policy on the task role.
        let role = format!("${{aws_iam_role.{task}_task.id}}");
        let stmts: Vec<Value> = all
            .iter()
            .filter(|(t, _, b)| t == "aws_iam_role_policy" && b["role"] == role.as_str())
            .flat_map(|(_, _, b)| statements(&b["policy"]))
            .collect();
        let (actions, _) = sqs_grants(&stmts);
        if queues.is_empty() {
            assert!(
                actions.is_empty(),
                "{task} uses no queue but may {actions:?}"
            );
            continue;
        }
        assert_exact_sqs_grants(&stmts, queues, task);
        // The execution role (which starts the task) gets no SQS access.
        let exec = format!("${{aws_iam_role.{task}_execution.id}}");
        let exec_stmts: Vec<Value> = all
            .iter()
            .filter(|(t, _, b)| t == "aws_iam_role_policy" && b["role"] == exec.as_str())
            .flat_map(|(_, _, b)| statements(&b["policy"]))
            .collect();
        assert!(
            sqs_grants(&exec_stmts).0.is_empty(),
            "{task} execution role"
        );
    }
}

/// Each queue's redrive policy names its own dead-letter queue's ARN, the DLQ admits
/// exactly that source queue, both are encrypted (SSE-SQS), and a FIFO queue's pair are both
/// FIFO with `.fifo` names (SQS refuses a standard DLQ for a FIFO queue).
#[test]
fn each_queue_redrives_to_its_own_dead_letter_queue() {
    let out = fixture("sqs-ecs");
    let all = all_resources(&out, "infra");
    for (q, fifo, count) in [("orders", false, 3), ("ledger", true, 5)] {
        let main = find(&all, "aws_sqs_queue", q);
        let redrive: Value =
            serde_json::from_str(main["redrive_policy"].as_str().unwrap()).unwrap();
        let (dlq, attr) = queue_ref(
            redrive["deadLetterTargetArn"].as_str().unwrap(),
            "aws_sqs_queue",
        )
        .unwrap();
        assert_eq!(attr, "arn");
        assert_ne!(dlq, q, "{q} redrives to itself");
        assert_eq!(redrive["maxReceiveCount"], count, "{q}");
        let dead = find(&all, "aws_sqs_queue", dlq);
        assert_eq!(
            dead["message_retention_seconds"], 1_209_600,
            "{q}: the DLQ keeps 14 days"
        );
        let allow = all
            .iter()
            .find(|(t, _, b)| {
                t == "aws_sqs_queue_redrive_allow_policy"
                    && b["queue_url"] == format!("${{aws_sqs_queue.{dlq}.id}}").as_str()
            })
            .unwrap_or_else(|| panic!("{q}: no redrive allow policy on {dlq}"));
        let policy: Value =
            serde_json::from_str(allow.2["redrive_allow_policy"].as_str().unwrap()).unwrap();
        assert_eq!(policy["redrivePermission"], "byQueue");
        assert_eq!(
            policy["sourceQueueArns"],
            serde_json::json!([format!("${{aws_sqs_queue.{q}.arn}}")])
        );
        for body in [main, dead] {
            assert_eq!(body["sqs_managed_sse_enabled"], true, "{q}");
            let name = body["name"].as_str().unwrap();
            assert!(name.len() <= 80, "{name}");
            assert_eq!(name.ends_with(".fifo"), fifo, "{name}");
            assert_eq!(body["fifo_queue"] == true, fifo, "{name}");
        }
    }
}

/// Alarms on: a message in each DLQ, and each main queue's oldest message, by `QueueName` of
/// the queues `infra` creates.
#[test]
fn alarms_watch_the_dead_letter_queue_and_the_oldest_message() {
    let out = fixture("sqs-ecs");
    let all = all_resources(&out, "infra");
    let alarms: Vec<&Value> = all
        .iter()
        .filter(|(t, _, b)| t == "aws_cloudwatch_metric_alarm" && b["namespace"] == "AWS/SQS")
        .map(|(_, _, b)| b)
        .collect();
    for q in ["orders", "ledger"] {
        let on = |metric: &str, queue: &str| {
            alarms.iter().any(|a| {
                a["metric_name"] == metric
                    && a["dimensions"]["QueueName"]
                        == format!("${{aws_sqs_queue.{queue}.name}}").as_str()
                    && a["alarm_actions"].as_array().is_some_and(|x| !x.is_empty())
            })
        };
        assert!(
            on("ApproximateNumberOfMessagesVisible", &format!("{q}_dlq")),
            "{q}"
        );
        assert!(on("ApproximateAgeOfOldestMessage", q), "{q}");
    }
    // The blueprint's own alarm targeting a queue gets the queue's name as its dimension.
    let own = alarms
        .iter()
        .find(|a| a["alarm_name"] == "orders-backlog")
        .expect("the blueprint's alarm on `orders`");
    assert_eq!(
        own["dimensions"]["QueueName"],
        "${aws_sqs_queue.orders.name}"
    );
}

/// EKS: `worker` uses only the queue, and that alone gives it an IRSA role trusted by the
/// ServiceAccount its pods run as, the queue's URL from its ConfigMap (found by the name
/// `infra` gives the queue), and HTTPS egress; `web` uses nothing and gets no role.
#[test]
fn eks_a_queue_alone_gives_the_pod_its_role_url_and_egress() {
    a_queue_alone_gives_the_pod_its_role_url_and_egress(&fixture("sqs-eks"));
}

/// The same on EKS on Fargate: the pods' role comes the same way (IRSA), not from a node.
#[test]
fn eks_fargate_a_queue_alone_gives_the_pod_its_role_url_and_egress() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/workloads/sqs-eks.yaml"))
        .unwrap()
        .replace("platform: eks,", "platform: eks_fargate,")
        .replace(
            "node_pools:\n  - { name: general, size: medium, min: 2, max: 4 }\n",
            // `keda`: the worker scales on the queue, which installs KEDA there.
            "fargate_profiles:\n  - { name: apps, namespaces: [sqsk] }\n  - { name: system, namespaces: [kube-system, keda] }\n",
        );
    assert!(text.contains("eks_fargate") && text.contains("fargate_profiles"));
    let out = synth_aws("sqs-fargate", &text).unwrap_or_else(|e| panic!("{e}"));
    a_queue_alone_gives_the_pod_its_role_url_and_egress(&out);
}

fn a_queue_alone_gives_the_pod_its_role_url_and_egress(out: &infragen::Output) {
    let infra = all_resources(out, "infra");
    let platform = all_resources(out, "platform");
    let docs = manifests(out);
    let deployment = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Deployment {name}"))
    };
    let worker = deployment("worker");
    let sa = worker["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap();
    let ns = worker["metadata"]["namespace"].as_str().unwrap();
    // The ServiceAccount `platform` creates, annotated with the role of that name.
    let account = platform
        .iter()
        .find(|(t, _, b)| t == "kubernetes_service_account_v1" && b["metadata"]["name"] == sa)
        .unwrap_or_else(|| panic!("platform creates no ServiceAccount {sa}"));
    let arn = account.2["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .unwrap();
    let (role_data, _) = queue_ref(arn, "data.aws_iam_role").unwrap();
    let role_name = find(&platform, "data.aws_iam_role", role_data)["name"]
        .as_str()
        .unwrap();
    let (label, role) = infra
        .iter()
        .find(|(t, _, b)| t == "aws_iam_role" && b["name"] == role_name)
        .map(|(_, n, b)| (n.clone(), b.clone()))
        .unwrap_or_else(|| panic!("infra creates no role {role_name}"));
    let trust = statements(&role["assume_role_policy"]);
    let subjects: Vec<String> = trust
        .iter()
        .flat_map(|s| {
            s["Condition"]["StringEquals"]
                .as_object()
                .cloned()
                .into_iter()
                .flatten()
        })
        .filter(|(k, _)| k.ends_with(":sub"))
        .map(|(_, v)| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, [format!("system:serviceaccount:{ns}:{sa}")]);
    let stmts: Vec<Value> = infra
        .iter()
        .filter(|(t, _, b)| {
            t == "aws_iam_role_policy"
                && b["role"] == format!("${{aws_iam_role.{label}.id}}").as_str()
        })
        .flat_map(|(_, _, b)| statements(&b["policy"]))
        .collect();
    assert_exact_sqs_grants(&stmts, &["orders"], "worker");

    // The URL: a ConfigMap key filled from the queue found by its `infra` name.
    let env = worker["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let url = env
        .iter()
        .find(|e| e["name"] == "ORDERS_URL")
        .expect("ORDERS_URL");
    let cm_ref = &url["valueFrom"]["configMapKeyRef"];
    let cm = platform
        .iter()
        .find(|(t, _, b)| {
            t == "kubernetes_config_map_v1" && b["metadata"]["name"] == cm_ref["name"]
        })
        .expect("the connections ConfigMap")
        .2
        .clone();
    let value = cm["data"][cm_ref["key"].as_str().unwrap()]
        .as_str()
        .unwrap();
    let (source, attr) = queue_ref(value, "data.aws_sqs_queue").unwrap();
    assert_eq!(attr, "url");
    assert_eq!(
        find(&platform, "data.aws_sqs_queue", source)["name"],
        find(&infra, "aws_sqs_queue", "orders")["name"]
    );

    // Egress: the worker's NetworkPolicy lets it open HTTPS anywhere (the SQS endpoint).
    let policies: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["namespace"] == ns)
        .filter(|d| {
            let sel = &d["spec"]["podSelector"]["matchLabels"];
            sel.as_object()
                .is_none_or(|m| m.values().any(|v| v == "worker"))
        })
        .collect();
    let https_out = policies.iter().any(|p| {
        p["spec"]["egress"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| {
                r["to"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["ipBlock"]["cidr"] == "0.0.0.0/0")
                    && r["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["port"] == 443)
            })
    });
    assert!(https_out, "worker cannot reach SQS: {policies:?}");

    // `web` uses nothing: no role, no ServiceAccount of platform's.
    let web = deployment("web");
    let web_sa = web["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    assert!(
        !platform.iter().any(
            |(t, _, b)| t == "kubernetes_service_account_v1" && b["metadata"]["name"] == web_sa
        )
    );
}

fn refused(provider: &str, yaml: &str) -> String {
    let (code, stderr) = synth_cli(yaml, provider);
    assert_eq!(code, Some(2), "{stderr}");
    stderr
}

/// What SQS (or the provider) would refuse, refused at synth with `file:line:col`.
#[test]
fn what_sqs_refuses_is_refused_with_a_position() {
    let base =
        "name: q\nproviders:\n  aws: { region: eu-west-1 }\n  digitalocean: { region: nyc3 }\n";
    let q = |fields: &str| format!("{base}queues:\n  - name: orders\n    engine: sqs\n{fields}");
    for (provider, yaml, needle, line) in [
        (
            "digitalocean",
            q(""),
            "`queues[0].engine`: Amazon SQS exists only on AWS",
            7,
        ),
        (
            "kubernetes",
            q(""),
            "`queues[0].engine`: Amazon SQS exists only on AWS",
            7,
        ),
        (
            "aws",
            q("    deployment: in_cluster\n"),
            "`queues[0].deployment`",
            8,
        ),
        (
            "aws",
            q("    version: \"3.13\"\n"),
            "`queues[0].version`: `version` is a field of RabbitMQ brokers",
            8,
        ),
        ("aws", q("    ha: false\n"), "`queues[0].ha`", 8),
        (
            "aws",
            q("    visibility_timeout_seconds: 43201\n"),
            "expected: 0 to 43200",
            8,
        ),
        (
            "aws",
            q("    retention_seconds: 59\n"),
            "expected: 60 to 1209600",
            8,
        ),
        (
            "aws",
            q("    max_receive_count: 1001\n"),
            "expected: 1 to 1000",
            8,
        ),
        (
            "aws",
            q("    content_based_deduplication: true\n"),
            "property of FIFO queues",
            8,
        ),
        (
            "aws",
            format!(
                "{base}queues:\n  - {{ name: mq, engine: rabbitmq, size: small, fifo: true }}\n"
            ),
            "`queues[0].fifo`: `fifo` is a field of SQS queues",
            6,
        ),
        (
            "aws",
            format!(
                "{base}queues:\n  - name: {}\n    engine: sqs\n    fifo: true\n",
                "a".repeat(63)
            ),
            "SQS allows 80",
            6,
        ),
        // A blueprint name that leaves no room for the queue's (also refused at `name`):
        // refused at the queue, saying so, where it was a subtraction overflow (a panic).
        (
            "aws",
            format!(
                "{}queues:\n  - name: l\n    engine: sqs\n    fifo: true\n",
                base.replace("name: q\n", &format!("name: {}\n", "a".repeat(70)))
            ),
            "leave no room for the queue's name: shorten the blueprint's `name`",
            6,
        ),
        (
            "aws",
            format!(
                "{base}queues:\n  - {{ name: orders, engine: sqs }}\n  - {{ name: orders-dlq, engine: sqs }}\n"
            ),
            "`queues[1].name`: `orders-dlq` is the name of the dead-letter queue of SQS queue `orders`",
            7,
        ),
    ] {
        let err = refused(provider, &yaml);
        assert!(err.contains(needle), "{provider} {yaml}\n{err}");
        assert!(
            err.contains(&format!("blueprint.yaml:{line}:")),
            "{provider} {yaml}\n{err}"
        );
    }
}

/// Day 2: `fifo` cannot change in place (SQS fixes a queue's type at creation), so `diff`
/// says the queue is replaced; a renamed queue moves in state with `moved` blocks.
#[test]
fn fifo_replaces_and_a_rename_moves() {
    let stack = |queue: &str| {
        ecs_stack(
            "day",
            &format!(
                "queues:\n{queue}\nservices:\n  - {{ name: worker, image: example/w:1.0.0, uses: [orders] }}\n"
            ),
        )
    };
    let base = stack("  - { name: orders, engine: sqs }");
    let head = stack("  - { name: orders, engine: sqs, fifo: true }");
    let (code, out) = diff("aws", "production", &base, &head);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("DESTRUCTIVE"), "{out}");
    assert!(out.contains("aws_sqs_queue.orders"), "{out}");

    let renamed = ecs_stack(
        "day",
        "queues:\n  - { name: jobs, renamed_from: orders, engine: sqs }\nservices:\n  - { name: worker, image: example/w:1.0.0, uses: [jobs] }\n",
    );
    let out = synth_aws("day", &renamed).unwrap();
    let moved: Value = serde_json::from_str(&out.files["terraform/infra/moved.tf.json"]).unwrap();
    let pairs: BTreeSet<(String, String)> = moved["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap().into(),
                m["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (from, to) in [
        ("aws_sqs_queue.orders", "aws_sqs_queue.jobs"),
        ("aws_sqs_queue.orders_dlq", "aws_sqs_queue.jobs_dlq"),
    ] {
        assert!(pairs.contains(&(from.into(), to.into())), "{pairs:?}");
    }
    assert_eq!(resources(&out, "infra", "aws_sqs_queue").len(), 2);
}
