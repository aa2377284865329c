//! `services[].gpu`: NVIDIA GPUs in the app container's limits, the pods on the GPU pool
//! with a toleration of its taint, NVIDIA's device plugin on EKS (DOKS has its own), and the
//! quota's `requests.nvidia.com/gpu` arithmetic. Refusals (ECS, Fargate, no GPU pool, a
//! quota that cannot hold them) are tests/invalid/gpu-*.yaml.

use infragen::Provider;
use serde_json::{Value, json};

use crate::support::{manifests, resources, root};

fn sage() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/new-user/sage-gpu-eks.yaml")).unwrap()
}

/// A DOKS stack `infer` in tor1 with a general pool and an NVIDIA GPU Droplet pool `gpu`
/// (`min` nodes, at most 2), followed by `workloads`.
fn doks_gpu(min: u32, workloads: &str) -> String {
    format!(
        "name: infer
providers:
  digitalocean: {{ region: tor1 }}
cluster: {{ platform: doks, version: \"1.35\" }}
node_pools:
  - {{ name: general, size: medium, min: 2, max: 3 }}
  - {{ name: gpu, size: gpu-4000adax1-20gb, min: {min}, max: 2 }}
{workloads}"
    )
}

fn synth(text: &str, provider: Provider) -> Result<infragen::Output, String> {
    infragen::synthesize("gpu.yaml", text.as_bytes(), provider, "production")
        .map_err(|d| d.to_string())
}

fn pod(out: &infragen::Output, name: &str) -> Value {
    manifests(out)
        .into_iter()
        .find(|m| m["kind"] == "Deployment" && m["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Deployment {name}"))["spec"]["template"]["spec"]
        .clone()
}

fn device_plugin(out: &infragen::Output) -> Option<Value> {
    resources(out, "platform", "helm_release")
        .into_iter()
        .find(|r| r["chart"] == "nvidia-device-plugin")
}

#[test]
fn a_gpu_service_gets_the_limit_the_pool_and_its_toleration_on_eks() {
    let out = synth(&sage(), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let model = pod(&out, "model");
    let r = &model["containers"][0]["resources"];
    // Extended resources: in limits only (the request defaults to the limit).
    assert_eq!(r["limits"]["nvidia.com/gpu"], 1, "{r}");
    assert_eq!(r["requests"]["nvidia.com/gpu"], Value::Null, "{r}");
    // The only GPU pool, though the service names none; its taint tolerated.
    assert_eq!(model["nodeSelector"]["infragen.io/node-pool"], "gpu");
    let tolerations = model["tolerations"].as_array().expect("tolerations");
    assert!(
        tolerations.contains(&json!({"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"})),
        "{tolerations:?}"
    );
    // The API service stays off the GPU pool.
    let api = pod(&out, "api");
    assert_eq!(api["tolerations"], Value::Null);
    assert_eq!(
        api["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        Value::Null
    );
}

/// EKS's AL2023 NVIDIA AMI has the driver, not the device plugin: `platform` installs NVIDIA's
/// chart when a pool has GPUs, tolerating every taint, and not otherwise.
#[test]
fn the_device_plugin_is_installed_exactly_when_a_gpu_pool_exists() {
    let out = synth(&sage(), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let release = device_plugin(&out).expect("nvidia-device-plugin release");
    assert_eq!(
        release["repository"],
        "https://nvidia.github.io/k8s-device-plugin"
    );
    assert_eq!(release["namespace"], "kube-system");
    assert_eq!(release["version"], "0.19.1");
    let values: Value = serde_json::from_str(release["values"][0].as_str().unwrap()).unwrap();
    assert_eq!(values["tolerations"], json!([{"operator": "Exists"}]));
    // No NVIDIA warning any more: the plugin is there.
    assert!(
        !out.notes
            .iter()
            .any(|n| n.rule == Some("eks-device-plugin")),
        "{:?}",
        out.notes
    );

    // The GPU pool on a general-purpose type, and no GPU service: no chart. (The model,
    // 12 GiB, stays pinned to that tainted pool: no `t3.medium` of the untainted one holds
    // it.)
    let plain = sage()
        .replace("size: g6.xlarge", "size: m7i.xlarge")
        .replace("    gpu: 1\n", "    node_pool: gpu\n");
    let out = synth(&plain, Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    assert!(device_plugin(&out).is_none());
}

/// DOKS GPU nodes come with the device plugin and a `nvidia.com/gpu` taint DigitalOcean puts
/// there itself: no chart, and the pods tolerate the taint whatever the pool declares.
#[test]
fn on_doks_the_pods_tolerate_the_gpu_taint_and_no_plugin_is_installed() {
    let text = doks_gpu(
        1,
        "services:\n  - { name: model, image: \"ghcr.io/x/model:1.0.0\", port: 8000, gpu: 1 }\n",
    );
    let out = synth(&text, Provider::Digitalocean).unwrap_or_else(|e| panic!("{e}"));
    let model = pod(&out, "model");
    assert_eq!(
        model["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        1
    );
    assert_eq!(
        model["nodeSelector"]["doks.digitalocean.com/node-pool"],
        "gpu"
    );
    assert_eq!(
        model["tolerations"],
        json!([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])
    );
    assert!(
        !out.files
            .values()
            .any(|f| f.contains("nvidia-device-plugin")),
        "DOKS installs its own"
    );
    // DigitalOcean taints a GPU pool itself: it alone cannot host CoreDNS and the add-ons.
    let only_gpu = text.replace("  - { name: general, size: medium, min: 2, max: 3 }\n", "");
    let err = synth(&only_gpu, Provider::Digitalocean).unwrap_err();
    assert!(err.contains("every node pool carries"), "{err}");
    // No GPU pool: the hint does not ask for the taint DigitalOcean applies itself (a pool
    // taint of the same key and effect would be a second one on each node).
    let no_gpu = text.replace(
        "  - { name: gpu, size: gpu-4000adax1-20gb, min: 1, max: 2 }\n",
        "",
    );
    let err = synth(&no_gpu, Provider::Digitalocean).unwrap_err();
    assert!(err.contains("no node pool has any"), "{err}");
    assert!(
        err.contains("DigitalOcean taints it `nvidia.com/gpu:NoSchedule` itself")
            && !err.contains("tainted `nvidia.com/gpu`"),
        "{err}"
    );
}

/// On an existing cluster the GPU nodes and their device plugin are the cluster's: the pods
/// get the limit and the toleration, no pool is required, and a note says what the cluster
/// must run.
#[test]
fn an_existing_cluster_is_trusted_with_its_gpus() {
    let text = r#"
name: infer
cluster: { platform: existing }
services:
  - { name: model, image: "ghcr.io/x/model:1.0.0", port: 8000, gpu: 2 }
"#;
    let out = synth(text, Provider::Kubernetes).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.notes.iter().any(|n| {
            let n = n.to_string();
            n.contains("services[].gpu (model)") && n.contains("installs no device plugin")
        }),
        "{:?}",
        out.notes
    );
    let model = pod(&out, "model");
    assert_eq!(
        model["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        2
    );
    assert_eq!(model["nodeSelector"], Value::Null);
    assert_eq!(
        model["tolerations"],
        json!([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])
    );
}

/// Several GPU pools: the service must say which.
#[test]
fn with_several_gpu_pools_the_service_names_one() {
    let two = sage().replace(
        "  - name: gpu\n",
        "  - { name: gpu-big, size: g6e.2xlarge, min: 0, max: 2 }\n  - name: gpu\n",
    );
    let err = synth(&two, Provider::Aws).unwrap_err();
    assert!(
        err.contains("services[1].gpu") && err.contains("`gpu-big` or `gpu`"),
        "{err}"
    );
    let named = two.replace("    gpu: 1\n", "    gpu: 1\n    node_pool: gpu-big\n");
    let out = synth(&named, Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pod(&out, "model")["nodeSelector"]["infragen.io/node-pool"],
        "gpu-big"
    );
}

/// `requests.nvidia.com/gpu` holds every GPU of the namespace at its maximum: the HPA's
/// `max` replicas, plus a rolling update's surge pods.
#[test]
fn the_quota_counts_gpus_at_the_declared_maximum() {
    let quota = |n: u32| {
        sage()
            .replace(
                "namespaces: [{ name: sage, pod_security: restricted }]",
                &format!("namespaces: [{{ name: sage, pod_security: restricted, quota: {{ requests.nvidia.com/gpu: \"{n}\" }} }}]"),
            )
            .replace(
                "    gpu: 1\n",
                "    gpu: 2\n    autoscaling: { min: 1, max: 2, cpu_percent: 70 }\n    rollout: { max_unavailable: \"1\" }\n",
            )
            .replace("size: g6.xlarge", "size: g6.12xlarge")
    };
    // 2 pods × 2 GPUs; `max_unavailable: 1` frees a pod before the surge adds one.
    synth(&quota(4), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let err = synth(&quota(3), Provider::Aws).unwrap_err();
    assert!(
        err.contains("requests.nvidia.com/gpu 3 cannot hold namespace `sage`")
            && err.contains("needs 4 GPUs (model 2 × 2)"),
        "{err}"
    );
}

/// A pod's containers share one node: more GPUs than a node of the pool has never fit, and
/// the instance's (or Droplet's) count is known for the usual GPU sizes.
#[test]
fn a_pod_asking_more_gpus_than_a_node_has_is_refused() {
    let four = sage().replace("    gpu: 1\n", "    gpu: 4\n");
    let err = synth(&four, Provider::Aws).unwrap_err();
    assert!(
        err.contains("asks for 4 GPUs per pod, and a node of pool `gpu` (g6.xlarge) has 1"),
        "{err}"
    );
    synth(
        &four.replace("size: g6.xlarge", "size: g6.12xlarge"),
        Provider::Aws,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The GPU pool at its `max` must hold the GPUs of the services placed on it at rest,
/// and a rolling update's surge pods (GPUs are never shared, so the count is exact); fewer
/// at `min` is a pool the Cluster Autoscaler grows. The sage pool: g6.xlarge (one L4),
/// `min: 1`, `max: 2`.
#[test]
fn the_gpu_pool_at_its_max_holds_the_gpus_placed_on_it() {
    let with = |replicas: u32, rollout: &str| {
        sage().replace(
            "    gpu: 1\n",
            &format!("    gpu: 1\n    replicas: {replicas}\n{rollout}"),
        )
    };
    // One replica and its surge pod: two GPUs, two nodes at most.
    synth(&with(1, ""), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    // Two replicas: the default rolling update (maxUnavailable 25 % of 2, rounded down: 0)
    // adds a third pod before removing one.
    let err = synth(&with(2, ""), Provider::Aws).unwrap_err();
    assert!(
        err.contains("`node_pools[1].max`: at most 2 g6.xlarge node(s) of pool `gpu` have 2 GPU(s), but the GPU services placed on it need 3 at rest and in a rollout (model's rollout surge 1 × 1 + model 2 × 1)")
            && err.contains("rollout.max_unavailable"),
        "{err}"
    );
    let take_one_down = "    rollout: { max_unavailable: \"1\" }\n";
    synth(&with(2, take_one_down), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let err = synth(&with(3, take_one_down), Provider::Aws).unwrap_err();
    assert!(
        err.contains("need 3 at rest and in a rollout (model 3 × 1)"),
        "{err}"
    );
}

/// P6 (NVIDIA Blackwell) sizes carry a hyphen in their family (`p6-b200.48xlarge`); EKS runs
/// them on the AL2023 x86_64 NVIDIA AMI (docs.aws.amazon.com/eks/latest/userguide/
/// ml-eks-optimized-ami.html, its table), so the pool is a GPU pool: NVIDIA AMI, device
/// plugin, eight GPUs a node.
#[test]
fn a_p6_blackwell_pool_is_a_gpu_pool() {
    let p6 = sage().replace("size: g6.xlarge", "size: p6-b200.48xlarge");
    let out = synth(&p6, Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let groups = resources(&out, "infra", "aws_eks_node_group");
    assert!(
        groups
            .iter()
            .any(|g| g["instance_types"] == json!(["p6-b200.48xlarge"])
                && g["ami_type"] == "AL2023_x86_64_NVIDIA"),
        "{groups:?}"
    );
    assert!(device_plugin(&out).is_some());
    let err = synth(&p6.replace("    gpu: 1\n", "    gpu: 9\n"), Provider::Aws).unwrap_err();
    assert!(err.contains("has 8"), "{err}");
}

/// DigitalOcean taints its NVIDIA GPU nodes `nvidia.com/gpu:NoSchedule` itself, and a node
/// holds one taint per key and effect: a GPU pool's own taint of that key and effect (the
/// EKS habit the docs' example shows) is left out of the DOKS pool with a note, while its
/// other taints — another key, or the same key with another effect — are kept. The pods still
/// land on the pool and tolerate DigitalOcean's taint.
#[test]
fn on_doks_a_gpu_pools_own_gpu_taint_is_left_out_with_a_note() {
    let text = r#"
name: infer
providers:
  digitalocean: { region: tor1 }
cluster: { platform: doks, version: "1.35" }
node_pools:
  - { name: general, size: medium, min: 2, max: 3 }
  - name: gpu
    size: gpu-4000adax1-20gb
    min: 1
    max: 2
    taints:
      - { key: nvidia.com/gpu, value: "true", effect: NoSchedule }
      - { key: nvidia.com/gpu, effect: PreferNoSchedule }
      - { key: team, value: ml, effect: NoSchedule }
services:
  - { name: model, image: "ghcr.io/x/model:1.0.0", port: 8000, gpu: 1 }
"#;
    let out = synth(text, Provider::Digitalocean).unwrap_or_else(|e| panic!("{e}"));
    let pool = resources(&out, "infra", "digitalocean_kubernetes_node_pool")
        .into_iter()
        .find(|p| p["name"] == "gpu")
        .expect("the gpu pool");
    assert_eq!(
        pool["taint"],
        json!([
            {"key": "nvidia.com/gpu", "value": "", "effect": "PreferNoSchedule"},
            {"key": "team", "value": "ml", "effect": "NoSchedule"}
        ])
    );
    assert!(
        out.notes.iter().any(|n| n.to_string().contains(
            "node_pools[gpu]: taint `nvidia.com/gpu=true:NoSchedule` left out: DigitalOcean taints its NVIDIA GPU nodes"
        )),
        "{:?}",
        out.notes
    );
    let model = pod(&out, "model");
    assert_eq!(
        model["nodeSelector"]["doks.digitalocean.com/node-pool"],
        "gpu"
    );
    assert!(
        model["tolerations"].as_array().unwrap().contains(
            &json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
        )
    );
    // A pool of CPU Droplets keeps such a taint: DigitalOcean adds none there.
    let cpu = text
        .replace("size: gpu-4000adax1-20gb", "size: c-4")
        .replace("gpu: 1 }", "node_pool: gpu }");
    let out = synth(&cpu, Provider::Digitalocean).unwrap_or_else(|e| panic!("{e}"));
    let pool = resources(&out, "infra", "digitalocean_kubernetes_node_pool")
        .into_iter()
        .find(|p| p["name"] == "gpu")
        .unwrap();
    assert_eq!(pool["taint"].as_array().unwrap().len(), 3);
}

fn cronjob_pod(out: &infragen::Output, name: &str) -> Value {
    manifests(out)
        .into_iter()
        .find(|m| m["kind"] == "CronJob" && m["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no CronJob {name}"))["spec"]["jobTemplate"]["spec"]["template"]
        ["spec"]
        .clone()
}

/// The sage blueprint with a nightly batch-inference job asking for `gpu` GPUs.
fn sage_with_job(gpu: u32, concurrency: &str) -> String {
    sage()
        + &format!(
            "jobs:\n  - name: batch\n    image: ghcr.io/sage/batch:0.3.0\n    schedule: \"0 3 * * *\"\n    gpu: {gpu}\n{concurrency}    resources: {{ requests: {{ cpu: \"2\", memory: 8Gi }}, limits: {{ cpu: \"2\", memory: 8Gi }} }}\n"
        )
}

/// The sage GPU pool at `max: 3`: the model, its surge pod and a job's run.
fn pool_of_three(text: &str) -> String {
    text.replace("    max: 2\n    disk", "    max: 3\n    disk")
}

/// `jobs[].gpu`: a scheduled job (batch inference, training) gets the GPUs in its container's
/// limits, runs on the GPU pool with a toleration of its taint — on EKS and on DOKS — and
/// jobs without `gpu` stay off it.
#[test]
fn a_gpu_job_gets_the_limit_the_pool_and_its_toleration() {
    let out = synth(&pool_of_three(&sage_with_job(1, "")), Provider::Aws)
        .unwrap_or_else(|e| panic!("{e}"));
    let batch = cronjob_pod(&out, "batch");
    let r = &batch["containers"][0]["resources"];
    assert_eq!(r["limits"]["nvidia.com/gpu"], 1, "{r}");
    assert_eq!(r["requests"]["nvidia.com/gpu"], Value::Null, "{r}");
    assert_eq!(batch["nodeSelector"]["infragen.io/node-pool"], "gpu");
    let tolerations = batch["tolerations"].as_array().expect("tolerations");
    assert!(
        tolerations.contains(
            &json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
        ),
        "{tolerations:?}"
    );

    // On DOKS the same job lands on the GPU Droplet pool.
    let doks = doks_gpu(
        0,
        "jobs:
  - { name: train, image: \"ghcr.io/x/train:1.0.0\", schedule: \"@daily\", gpu: 1 }
  - { name: report, image: \"ghcr.io/x/report:1.0.0\", schedule: \"@daily\" }
",
    );
    let out = synth(&doks, Provider::Digitalocean).unwrap_or_else(|e| panic!("{e}"));
    let train = cronjob_pod(&out, "train");
    assert_eq!(
        train["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        1
    );
    assert_eq!(
        train["nodeSelector"]["doks.digitalocean.com/node-pool"],
        "gpu"
    );
    let report = cronjob_pod(&out, "report");
    assert_eq!(report["tolerations"], Value::Null);
    assert_eq!(report["nodeSelector"], Value::Null);

    // On an existing cluster the note names the GPU job too.
    let out = synth(&doks, Provider::Kubernetes).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.notes.iter().any(|n| n
            .to_string()
            .contains("jobs[].gpu (train): --provider kubernetes installs no device plugin")),
        "{:?}",
        out.notes
    );
}

/// A GPU job is judged like a GPU service, at its own field: refused on ECS Fargate, more
/// GPUs than a node of the pool has, a `node_pool` without GPUs; and counted in the
/// namespace quota and the pool's GPUs at one run — two when runs may overlap.
#[test]
fn a_gpu_job_is_refused_and_counted_like_a_service() {
    let ecs = crate::support::ecs_stack(
        "infer",
        "jobs:\n  - { name: train, image: \"ghcr.io/x/train:1.0.0\", schedule: \"@daily\", concurrency: Allow, task: { cpu: 4096, memory: 16384 }, gpu: 1 }\n",
    );
    let err = synth(&ecs, Provider::Aws).unwrap_err();
    assert!(
        err.contains("`jobs[0].gpu`: ECS Fargate has no GPUs: `train` could never start"),
        "{err}"
    );

    let err = synth(&sage_with_job(2, ""), Provider::Aws).unwrap_err();
    assert!(
        err.contains("`jobs[0].gpu`: `batch` asks for 2 GPUs per pod, and a node of pool `gpu` (g6.xlarge) has 1"),
        "{err}"
    );
    let err = synth(&sage_with_job(1, "    node_pool: general\n"), Provider::Aws).unwrap_err();
    assert!(
        err.contains("`jobs[0].node_pool`: node pool `general` has no NVIDIA GPU"),
        "{err}"
    );

    // The quota: model 1 + its surge 1 + batch 1 = 3 (two with `max_unavailable: 1`).
    let quota = |n: u32, concurrency: &str| {
        sage_with_job(1, concurrency)
            .replace(
                "namespaces: [{ name: sage, pod_security: restricted }]",
                &format!("namespaces: [{{ name: sage, pod_security: restricted, quota: {{ requests.nvidia.com/gpu: \"{n}\" }} }}]"),
            )
            .replace("    gpu: 1\n    env:", "    gpu: 1\n    rollout: { max_unavailable: \"1\" }\n    env:")
            .replace("    max: 2\n    disk", "    max: 4\n    disk")
    };
    synth(&quota(2, ""), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
    let err = synth(&quota(1, ""), Provider::Aws).unwrap_err();
    assert!(
        err.contains("requests.nvidia.com/gpu 1 cannot hold namespace `sage`")
            && err.contains("needs 2 GPUs (model 1 × 1 + batch 1 × 1)"),
        "{err}"
    );
    let err = synth(&quota(2, "    concurrency: Allow\n"), Provider::Aws).unwrap_err();
    assert!(
        err.contains("needs 3 GPUs (model 1 × 1 + batch 2 × 1)"),
        "{err}"
    );

    // The pool: `max: 2` g6.xlarge hold model and its surge pod (2), not a run beside them.
    let err = synth(&sage_with_job(1, ""), Provider::Aws).unwrap_err();
    assert!(
        err.contains("`node_pools[1].max`: at most 2 g6.xlarge node(s) of pool `gpu` have 2 GPU(s), but the GPU services placed on it need 3")
            && err.contains("batch's run 1 × 1"),
        "{err}"
    );
    synth(&pool_of_three(&sage_with_job(1, "")), Provider::Aws).unwrap_or_else(|e| panic!("{e}"));
}
