//! A queue worker on EKS scaled on its SQS queue's backlog (`autoscaling.queue`,
//! `tests/fixtures/workloads/sqs-eks.yaml`): KEDA's ScaledObject instead of an HPA of its
//! own, its `aws-sqs-queue` trigger reading the queue the worker reads, KEDA installed by
//! `platform` only when a service scales on a queue, its operator allowed to read exactly
//! those queues' attributes, and nothing in the network between the control plane and KEDA.

use infragen::catalog::Provider;
use serde_json::{Value, json};

use crate::support::{cloud_outputs, manifests, resources, root};

const FIXTURE: &str = "tests/fixtures/workloads/sqs-eks.yaml";

fn fixture() -> String {
    std::fs::read_to_string(root().join(FIXTURE)).unwrap()
}

fn synth_text(text: &str, provider: Provider) -> infragen::Output {
    infragen::synthesize(FIXTURE, text.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("{d}"))
}

/// The fixture's worker scaling block, to swap for other ones.
const QUEUE_SCALING: &str = "      queue: { name: orders, messages_per_task: 30 }\n";

/// Data sources of `terraform/<module>` of type `ty`: name → body.
fn data(out: &infragen::Output, module: &str, ty: &str) -> serde_json::Map<String, Value> {
    let prefix = format!("terraform/{module}/");
    let mut all = serde_json::Map::new();
    for (p, t) in &out.files {
        if !p.starts_with(&prefix) {
            continue;
        }
        let doc: Value = serde_json::from_str(t).unwrap();
        if let Some(m) = doc
            .pointer(&format!("/data/{ty}"))
            .and_then(Value::as_object)
        {
            all.extend(m.clone());
        }
    }
    all
}

/// The scalers of Deployment `deployment`: HPAs and ScaledObjects aiming at it.
fn scalers<'a>(docs: &'a [Value], deployment: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| {
            (d["kind"] == "HorizontalPodAutoscaler" || d["kind"] == "ScaledObject")
                && d["spec"]["scaleTargetRef"]["kind"] == "Deployment"
                && d["spec"]["scaleTargetRef"]["name"] == deployment
        })
        .collect()
}

/// Exactly one scaler acts on the worker — KEDA's ScaledObject (KEDA makes the HPA; a second
/// one of infragen's would fight it) — with the blueprint's bounds and behaviour, scaling on
/// the `orders` queue: the variable its trigger reads the URL from is the worker's own
/// `ORDERS_URL`, which `platform` fills with that queue's URL, and `queueLength` is
/// `messages_per_task`, counting visible messages only as ECS's policy does.
#[test]
fn an_eks_queue_worker_gets_one_keda_scaler_on_its_queue() {
    let out = synth_text(&fixture(), Provider::Aws);
    let docs = manifests(&out);
    let found = scalers(&docs, "worker");
    assert_eq!(found.len(), 1, "{found:#?}");
    let so = found[0];
    assert_eq!(so["kind"], "ScaledObject");
    assert_eq!(so["apiVersion"], "keda.sh/v1alpha1");
    assert_eq!(so["metadata"]["namespace"], "sqsk");
    let spec = &so["spec"];
    assert_eq!(spec["minReplicaCount"], 1);
    assert_eq!(spec["maxReplicaCount"], 10);
    assert_eq!(
        spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"],
        json!({"scaleDown": {"stabilizationWindowSeconds": 300}})
    );
    let triggers = spec["triggers"].as_array().unwrap();
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let t = &triggers[0];
    assert_eq!(t["type"], "aws-sqs-queue");
    assert_eq!(
        t["metadata"],
        json!({
            "queueURLFromEnv": "ORDERS_URL",
            "queueLength": "30",
            "awsRegion": "eu-west-1",
            "scaleOnInFlight": "false",
        })
    );

    // The variable, on the container KEDA reads it from, holds the `orders` queue's URL.
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "worker")
        .unwrap();
    let container = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == spec["scaleTargetRef"]["envSourceContainerName"])
        .expect("envSourceContainerName names a container");
    let var = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "ORDERS_URL")
        .unwrap();
    let key = &var["valueFrom"]["configMapKeyRef"];
    let maps = resources(&out, "platform", "kubernetes_config_map_v1");
    let map = maps
        .iter()
        .find(|m| m["metadata"]["name"] == key["name"])
        .unwrap();
    assert_eq!(
        map["data"][key["key"].as_str().unwrap()],
        "${data.aws_sqs_queue.orders.url}"
    );
    assert_eq!(
        data(&out, "platform", "aws_sqs_queue")["orders"]["name"],
        "sqsk-production-orders"
    );

    // Its credentials are the KEDA operator's (the TriggerAuthentication it names).
    let auth = docs
        .iter()
        .find(|d| {
            d["kind"] == "TriggerAuthentication"
                && d["metadata"]["namespace"] == "sqsk"
                && d["metadata"]["name"] == t["authenticationRef"]["name"]
        })
        .expect("the TriggerAuthentication the trigger names");
    assert_eq!(
        auth["spec"],
        json!({"podIdentity": {"provider": "aws", "identityOwner": "keda"}})
    );
}

/// `cpu_percent` beside `queue` is one more trigger of the same ScaledObject (the HPA KEDA
/// makes takes the largest proposal), never a second scaler.
#[test]
fn cpu_beside_the_queue_is_a_trigger_of_the_same_scaler() {
    let text = fixture().replace(
        QUEUE_SCALING,
        &format!("{QUEUE_SCALING}      cpu_percent: 70\n"),
    );
    let out = synth_text(&text, Provider::Aws);
    let docs = manifests(&out);
    let found = scalers(&docs, "worker");
    assert_eq!(found.len(), 1, "{found:#?}");
    let kinds: Vec<&Value> = found[0]["spec"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["type"])
        .collect();
    assert_eq!(kinds, [&json!("aws-sqs-queue"), &json!("cpu")]);
    assert_eq!(
        found[0]["spec"]["triggers"][1],
        json!({"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}})
    );
    // The CPU trigger reads the resource metrics API: metrics-server is installed for it,
    // and only for it (the queue alone is an external metric, KEDA's).
    let metrics_server = |out: &infragen::Output| {
        resources(out, "platform", "helm_release")
            .iter()
            .any(|r| r["chart"] == "metrics-server")
    };
    assert!(metrics_server(&out));
    assert!(!metrics_server(&synth_text(&fixture(), Provider::Aws)));
}

/// The operator's IRSA role trusts KEDA's operator service account alone and may call
/// `sqs:GetQueueAttributes` on exactly the queue a service scales on — not another queue of
/// the stack, not a dead-letter queue — and the release's operator account carries it.
#[test]
fn the_keda_operator_may_read_exactly_the_scaled_queue() {
    // A second queue, used by `web` and scaled on by nobody.
    let text = fixture()
        .replace(
            "  - { name: orders, engine: sqs, visibility_timeout_seconds: 60 }\n",
            "  - { name: orders, engine: sqs, visibility_timeout_seconds: 60 }\n  - { name: audit, engine: sqs }\n",
        )
        .replace(
            "    image: ghcr.io/acme/web:1.0.0\n",
            "    image: ghcr.io/acme/web:1.0.0\n    uses: [audit]\n",
        );
    let out = synth_text(&text, Provider::Aws);
    let roles = resources(&out, "infra", "aws_iam_role");
    let role = roles
        .iter()
        .find(|r| r["name"] == "sqsk-production-keda-operator")
        .expect("the operator's role");
    let trust: Value = serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
    let subs: Vec<&Value> = trust["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Condition"]["StringEquals"].as_object().unwrap().iter())
        .filter(|(k, _)| k.ends_with(":sub"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(subs, [&json!("system:serviceaccount:keda:keda-operator")]);

    let policies: Vec<Value> = resources(&out, "infra", "aws_iam_role_policy")
        .into_iter()
        .filter(|p| p["role"] == "${aws_iam_role.keda_operator.id}")
        .collect();
    assert_eq!(policies.len(), 1, "{policies:#?}");
    let doc: Value = serde_json::from_str(policies[0]["policy"].as_str().unwrap()).unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    let actions: Vec<&Value> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .collect();
    let queues: Vec<&Value> = statements
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap())
        .collect();
    assert_eq!(actions, [&json!("sqs:GetQueueAttributes")]);
    assert_eq!(queues, [&json!("${aws_sqs_queue.orders.arn}")]);
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    // Nothing else is attached to it.
    assert!(
        resources(&out, "infra", "aws_iam_role_policy_attachment")
            .iter()
            .all(|a| a["role"] != "${aws_iam_role.keda_operator.id}")
    );

    // The release puts that role on its operator's account, after the Load Balancer
    // Controller (whose webhook admits the Services the chart creates).
    let keda = resources(&out, "platform", "helm_release")
        .into_iter()
        .find(|r| r["chart"] == "keda")
        .expect("the KEDA release");
    assert_eq!(keda["namespace"], "keda");
    let values: Value = serde_json::from_str(keda["values"][0].as_str().unwrap()).unwrap();
    assert_eq!(
        values["podIdentity"]["aws"]["irsa"],
        json!({"enabled": true, "roleArn": "${data.aws_iam_role.keda_operator.arn}"})
    );
    assert_eq!(
        values["serviceAccount"]["operator"]["name"],
        "keda-operator"
    );
    assert_eq!(
        data(&out, "platform", "aws_iam_role")["keda_operator"]["name"],
        role["name"]
    );
    assert!(
        keda["depends_on"]
            .as_array()
            .unwrap()
            .contains(&json!("helm_release.aws_load_balancer_controller"))
    );
}

/// KEDA is installed (chart, IAM role, namespace) exactly where some ScaledObject needs it:
/// every shipped blueprint and fixture on every cloud, and the fixture without queue
/// scaling (a plain CPU HPA then, and no KEDA).
#[test]
fn keda_is_installed_only_when_a_service_scales_on_a_queue() {
    let mut with = 0;
    let mut without = 0;
    let mut outputs = cloud_outputs();
    let cpu = fixture().replace(QUEUE_SCALING, "      cpu_percent: 70\n");
    outputs.push(("sqs-eks with cpu".into(), synth_text(&cpu, Provider::Aws)));
    for (label, out) in &outputs {
        let scaled = manifests(out).iter().any(|d| d["kind"] == "ScaledObject");
        let release = resources(out, "platform", "helm_release")
            .iter()
            .any(|r| r["chart"] == "keda");
        let role = resources(out, "infra", "aws_iam_role").iter().any(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-keda-operator"))
        });
        let namespace = resources(out, "platform", "kubernetes_namespace_v1")
            .iter()
            .any(|n| n["metadata"]["name"] == "keda");
        assert_eq!(release, scaled, "{label}: KEDA release");
        assert_eq!(role, scaled, "{label}: KEDA's role");
        assert_eq!(namespace, scaled, "{label}: KEDA's namespace");
        if scaled { with += 1 } else { without += 1 }
    }
    assert!(with >= 1 && without >= 1, "{with} with, {without} without");
    let out = &outputs.last().unwrap().1;
    let docs = manifests(out);
    let found = scalers(&docs, "worker");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["kind"], "HorizontalPodAutoscaler");
}

/// The network lets KEDA work: the control plane reaches its metrics API server (6443, the
/// APIService the HPA reads external metrics through) and admission webhooks (9443) on the
/// nodes, and no NetworkPolicy selects KEDA's pods, so its operator reaches STS, SQS and the
/// API server and the API server reaches it. The namespace enforces Pod Security
/// `restricted`, which the chart's pods meet.
#[test]
fn the_network_admits_what_keda_needs() {
    let out = synth_text(&fixture(), Provider::Aws);
    let ingress = resources(&out, "infra", "aws_vpc_security_group_ingress_rule");
    for port in [6443, 9443] {
        assert!(
            ingress.iter().any(|r| {
                r["security_group_id"] == "${aws_security_group.nodes.id}"
                    && r["referenced_security_group_id"] == "${aws_security_group.cluster.id}"
                    && r["from_port"].as_u64().is_some_and(|f| f <= port)
                    && r["to_port"].as_u64().is_some_and(|t| t >= port)
            }),
            "the control plane cannot reach the nodes on {port}"
        );
    }
    let docs = manifests(&out);
    assert!(
        !docs.iter().any(|d| d["metadata"]["namespace"] == "keda"),
        "k8s/ declares nothing in KEDA's namespace (no policy, no second owner)"
    );
    let ns = resources(&out, "platform", "kubernetes_namespace_v1")
        .into_iter()
        .find(|n| n["metadata"]["name"] == "keda")
        .unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

/// The ScaledObject and TriggerAuthentication fit KEDA's CRDs (strict: an unknown or
/// misplaced field is refused at apply), per `tests/fixtures/crds/keda.schema.json`
/// (transcribed from kedacore/keda's CRDs, see its README). The check catches a misspelt
/// field.
#[test]
fn keda_objects_fit_their_crds() {
    let root_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/crds/keda.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = |kind: &str| {
        let mut s = root_schema.clone();
        s["$ref"] = json!(format!("#/{kind}"));
        jsonschema::validator_for(&s).unwrap()
    };
    let text = fixture().replace(
        QUEUE_SCALING,
        &format!(
            "{QUEUE_SCALING}      memory_percent: 80\n      scale_up: {{ percent: 100, period_seconds: 60 }}\n"
        ),
    );
    let out = synth_text(&text, Provider::Aws);
    let mut seen = 0;
    for d in manifests(&out) {
        let Some(kind) = d["kind"].as_str() else {
            continue;
        };
        if !d["apiVersion"]
            .as_str()
            .is_some_and(|a| a.starts_with("keda.sh/"))
        {
            continue;
        }
        let v = validator(kind);
        let errors: Vec<String> = v.iter_errors(&d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{kind}: {errors:?}\n{d:#}");
        seen += 1;
        if kind == "ScaledObject" {
            let mut bad = d.clone();
            bad["spec"]["scaleTargetRef"]["containerName"] = json!("worker");
            assert!(!v.is_valid(&bad), "a misspelt field passes");
            let mut bad = d.clone();
            bad["spec"]["triggers"][0]["metadata"]["queueLength"] = json!(30);
            assert!(!v.is_valid(&bad), "a number in `metadata` passes");
        }
    }
    assert_eq!(seen, 2, "one ScaledObject, one TriggerAuthentication");
}

/// KEDA 2.21 is tested on Kubernetes 1.34–1.36 (keda.sh/docs/2.22/operate/cluster): a
/// cluster on 1.33, which EKS still creates, is warned about; 1.35 is not.
#[test]
fn a_cluster_minor_keda_is_not_tested_on_is_warned() {
    let warned = |version: &str| {
        let text = fixture().replace("version: \"1.35\"", &format!("version: \"{version}\""));
        synth_text(&text, Provider::Aws)
            .notes
            .iter()
            .filter(|n| n.rule == Some("keda-kubernetes-version"))
            .count()
    };
    assert_eq!(warned("1.33"), 1);
    assert_eq!(warned("1.35"), 0);
}

/// Day 2: a worker switching from `cpu_percent` to `queue` hands its HPA (`worker-hpa`,
/// still in the cluster: `kubectl apply` deletes nothing) to KEDA — the ScaledObject names
/// it and may take it over, since KEDA's webhook refuses a ScaledObject for a Deployment
/// another HPA scales — so `diff` does not ask to delete it. The way back deletes the
/// ScaledObject first (its HPA, of the same name, goes with it).
#[test]
fn switching_to_queue_scaling_hands_the_hpa_to_keda() {
    let queue = fixture();
    let cpu = queue.replace(QUEUE_SCALING, "      cpu_percent: 70\n");
    let out = synth_text(&queue, Provider::Aws);
    let docs = manifests(&out);
    let so = scalers(&docs, "worker")[0];
    assert_eq!(
        so["metadata"]["annotations"]["scaledobject.keda.sh/transfer-hpa-ownership"],
        "true"
    );
    let old_hpa =
        scalers(&manifests(&synth_text(&cpu, Provider::Aws)), "worker")[0]["metadata"]["name"]
            .clone();
    assert_eq!(old_hpa, "worker-hpa");
    assert_eq!(
        so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"],
        old_hpa
    );

    let (_, text) = crate::support::diff("aws", "production", &cpu, &queue);
    assert!(text.contains("kind: ScaledObject"), "{text}");
    assert!(!text.contains("delete horizontalpodautoscaler"), "{text}");

    let (_, text) = crate::support::diff("aws", "production", &queue, &cpu);
    let note = text
        .lines()
        .find(|l| l.contains("does not delete objects"))
        .unwrap_or_else(|| panic!("{text}"));
    let first = note.find("before `terraform/platform`").expect(note);
    let so = note
        .find("kubectl delete scaledobject -n sqsk worker")
        .expect(note);
    assert!(first < so, "{note}");
}
