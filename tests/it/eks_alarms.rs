//! Does an EKS service that is down or crash-looping page someone? Container Insights
//! publishes `service_number_of_running_pods` per Kubernetes Service (`ClusterName`,
//! `Namespace`, `Service`; nothing at all for a Service without a ready pod) and
//! `pod_number_of_container_restarts` per owning Deployment (`PodName` = the Deployment's
//! name). An alarm whose dimension values differ from the names the manifests write by one
//! character watches a series nobody publishes: the no-running-pods one then sits in ALARM
//! for ever (missing data breaches), the restarts one never fires. So the values are read
//! back from the written Services and Deployments, over every shipped AWS blueprint and
//! workload fixture.

use std::collections::{BTreeMap, BTreeSet};

use infragen::Provider;
use serde_json::Value;

use crate::support::{eks_stack, manifests, matrix, resources, synth, synth_aws, synth_cli_env};

/// The default pod alarms of an output: `(terraform key, body)`.
fn pod_alarms(out: &infragen::Output) -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    for (path, text) in &out.files {
        if !path.starts_with("terraform/") || !path.ends_with(".tf.json") {
            continue;
        }
        let doc: Value = serde_json::from_str(text).unwrap();
        if let Some(alarms) = doc
            .pointer("/resource/aws_cloudwatch_metric_alarm")
            .and_then(Value::as_object)
        {
            for (k, a) in alarms {
                let unsplit = k.trim_end_matches(|c: char| c.is_ascii_digit());
                let split = unsplit.len() < k.len() && unsplit.ends_with("_restarts_");
                if k.ends_with("_no_running_pods") || k.ends_with("_restarts") || split {
                    found.insert(k.clone(), a.clone());
                }
            }
        }
    }
    found
}

fn dims(a: &Value) -> BTreeMap<String, String> {
    a["dimensions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// `(metric, dimensions)` of every series an alarm reads: its own metric, or each metric of
/// its metric math.
fn series(a: &Value) -> Vec<(String, BTreeMap<String, String>)> {
    match a["metric_query"].as_array() {
        None => vec![(a["metric_name"].as_str().unwrap().to_string(), dims(a))],
        Some(queries) => queries
            .iter()
            .filter_map(|q| q.get("metric"))
            .map(|m| (m["metric_name"].as_str().unwrap().to_string(), dims(m)))
            .collect(),
    }
}

/// `(kind, namespace, name)` of every written Kubernetes object, with its body.
fn objects(out: &infragen::Output) -> BTreeMap<(String, String, String), Value> {
    manifests(out)
        .into_iter()
        .map(|d| {
            let key = (
                d["kind"].as_str().unwrap_or_default().to_string(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
            (key, d)
        })
        .collect()
}

fn running(deployment: &Value) -> bool {
    deployment["spec"]["replicas"].as_u64() != Some(0)
}

/// Every shipped AWS target on EKS with Container Insights: each no-running-pods alarm names
/// a written Service (its namespace and name, the cluster EKS creates) that selects a running
/// Deployment's or StatefulSet's pods, and never a headless Service publishing not-ready
/// addresses; each restarts alarm reads written pods by the name the agent gives them (a
/// Deployment's name; a StatefulSet pod's own name, `<statefulset>-<ordinal>`). Every running
/// Deployment of a service has both (the Service one where it has a Service); every
/// StatefulSet (an in-cluster database, cache or queue) has every one of its pods watched for
/// restarts and each client Service selecting them watched for ready pods. On EKS Fargate,
/// none.
#[test]
fn pod_alarm_dimensions_are_the_written_names_on_every_eks_target() {
    let mut checked = 0;
    let mut statefulsets_checked = 0;
    let mut problems = Vec::new();
    for (stem, path, provider, env) in matrix() {
        if provider != Provider::Aws {
            continue;
        }
        let out = synth(&path, provider, &env);
        let at = format!("{stem} {env}");
        let alarms = pod_alarms(&out);
        let addon = resources(&out, "infra", "aws_eks_addon")
            .iter()
            .any(|a| a["addon_name"] == "amazon-cloudwatch-observability");
        let Some(cluster) = resources(&out, "infra", "aws_eks_cluster")
            .first()
            .map(|c| c["name"].as_str().unwrap().to_string())
        else {
            assert!(alarms.is_empty(), "{at}: pod alarms without EKS");
            continue;
        };
        if !addon {
            assert!(
                alarms.is_empty(),
                "{at}: pod alarms without the Container Insights add-on: {:?}",
                alarms.keys()
            );
            continue;
        }
        // Where an alert topic exists (`observability`, or the ALB's 5xx alarms), the pods
        // are watched; without one there is nobody to page.
        if resources(&out, "infra", "aws_sns_topic").is_empty() {
            assert!(alarms.is_empty(), "{at}: pod alarms without an alert topic");
            continue;
        }
        let services = out_services(&path, &env);
        let objs = objects(&out);
        let selects = |svc: &Value, workload: &Value| {
            let selector = svc["spec"]["selector"].as_object().unwrap();
            selector
                .iter()
                .all(|(k, v)| workload["spec"]["template"]["metadata"]["labels"][k] == *v)
        };
        // `<statefulset>-<ordinal>` of every written StatefulSet pod.
        let stateful_pods: BTreeSet<(String, String)> = objs
            .iter()
            .filter(|((kind, _, _), _)| kind == "StatefulSet")
            .flat_map(|((_, ns, name), sts)| {
                let n = sts["spec"]["replicas"].as_u64().unwrap_or(1);
                (0..n).map(move |i| (ns.clone(), format!("{name}-{i}")))
            })
            .collect();
        let mut watched_services = BTreeSet::new();
        let mut watched_pods = BTreeSet::new();
        for (key, a) in &alarms {
            checked += 1;
            for (metric, d) in series(a) {
                let namespace = a["metric_query"]
                    .as_array()
                    .map_or(a["namespace"].clone(), |q| {
                        q[0]["metric"]["namespace"].clone()
                    });
                assert_eq!(namespace, "ContainerInsights", "{at} {key}");
                assert_eq!(d["ClusterName"], cluster, "{at} {key}");
                let ns = d["Namespace"].clone();
                if key.ends_with("_no_running_pods") {
                    assert_eq!(metric, "service_number_of_running_pods");
                    assert_eq!(
                        d.keys().collect::<Vec<_>>(),
                        ["ClusterName", "Namespace", "Service"],
                        "{at} {key}"
                    );
                    // No Service without a ready pod publishes anything: missing is down.
                    assert_eq!(a["treat_missing_data"], "breaching", "{at} {key}");
                    let name = d["Service"].clone();
                    let Some(svc) = objs.get(&("Service".into(), ns.clone(), name.clone())) else {
                        problems.push(format!("{at} {key}: no Service {ns}/{name} is written"));
                        continue;
                    };
                    // The agent counts an Endpoints' ready `addresses`; a Service publishing
                    // not-ready addresses counts a crash-looping pod as running.
                    if svc["spec"]["publishNotReadyAddresses"] == true {
                        problems.push(format!(
                            "{at} {key}: Service {ns}/{name} publishes not-ready addresses"
                        ));
                    }
                    let selects_running = objs.iter().any(|((kind, dns, _), w)| {
                        (kind == "Deployment" || kind == "StatefulSet")
                            && *dns == ns
                            && running(w)
                            && selects(svc, w)
                    });
                    if !selects_running {
                        problems.push(format!(
                            "{at} {key}: Service {ns}/{name} selects no running Deployment's or StatefulSet's pods"
                        ));
                    }
                    watched_services.insert((ns, name));
                } else {
                    assert_eq!(metric, "pod_number_of_container_restarts");
                    assert_eq!(
                        d.keys().collect::<Vec<_>>(),
                        ["ClusterName", "Namespace", "PodName"],
                        "{at} {key}"
                    );
                    let name = d["PodName"].clone();
                    let deployment =
                        objs.contains_key(&("Deployment".into(), ns.clone(), name.clone()));
                    if !deployment && !stateful_pods.contains(&(ns.clone(), name.clone())) {
                        problems.push(format!(
                            "{at} {key}: PodName {ns}/{name} is neither a written Deployment nor a StatefulSet's pod"
                        ));
                    }
                    watched_pods.insert((ns, name));
                }
            }
        }
        // Every running service Deployment is watched, and its Service where it has one;
        // every StatefulSet pod, and each ClusterIP Service selecting a StatefulSet's pods.
        for ((kind, ns, name), w) in &objs {
            if !running(w) {
                continue;
            }
            if kind == "Deployment" && !watched_pods.contains(&(ns.clone(), name.clone())) {
                problems.push(format!(
                    "{at}: Deployment {ns}/{name} has no restarts alarm"
                ));
            }
            if kind != "StatefulSet" {
                continue;
            }
            statefulsets_checked += 1;
            for pod in stateful_pods.iter().filter(|(pns, p)| {
                pns == ns
                    && p.strip_prefix(&format!("{name}-"))
                        .is_some_and(|i| i.parse::<u32>().is_ok())
            }) {
                if !watched_pods.contains(pod) {
                    problems.push(format!(
                        "{at}: pod {}/{} of StatefulSet {name} has no restarts alarm",
                        pod.0, pod.1
                    ));
                }
            }
            for ((kind, sns, sname), svc) in &objs {
                if kind == "Service"
                    && sns == ns
                    && svc["spec"]["clusterIP"] != "None"
                    && svc["spec"]["selector"].is_object()
                    && selects(svc, w)
                    && !watched_services.contains(&(sns.clone(), sname.clone()))
                {
                    problems.push(format!(
                        "{at}: Service {sns}/{sname} of StatefulSet {name} has no no-running-pods alarm"
                    ));
                }
            }
        }
        for s in &services {
            if !watched_services.contains(s) {
                problems.push(format!(
                    "{at}: Service {}/{} has no no-running-pods alarm",
                    s.0, s.1
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} pod alarms checked");
    assert!(
        statefulsets_checked > 2,
        "only {statefulsets_checked} StatefulSets checked"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `(namespace, Service name)` of each blueprint service with a port that runs pods.
fn out_services(path: &std::path::Path, env: &str) -> Vec<(String, String)> {
    let bytes = std::fs::read(path).unwrap();
    let bp = infragen::blueprint::load("x", &bytes, Provider::Aws, env)
        .unwrap()
        .blueprint;
    bp.services
        .iter()
        .filter(|s| s.port.is_some())
        .filter(|s| s.autoscaling.as_ref().map_or(s.replicas, |a| a.min) > 0)
        .map(|s| {
            (
                s.namespace
                    .clone()
                    .unwrap_or_else(|| bp.default_namespace().to_string()),
                s.service_name.clone().unwrap_or_else(|| s.name.clone()),
            )
        })
        .collect()
}

fn stack(cluster: &str, services: &str) -> String {
    eks_stack(
        "pods",
        cluster,
        &format!(
            "node_pools:
  - {{ name: general, size: m6i.large, min: 2, max: 4 }}
observability:
  notify: [ops@example.com]
services:
{services}"
        ),
    )
}

/// A service with its own namespace and Service name, one blue/green, one `recreate`, one
/// at `replicas: 0` and a worker without a port: the alarms name exactly what runs.
#[test]
fn each_running_service_pages_when_down_or_crash_looping() {
    let out = synth_aws(
        "pods",
        &stack(
            "{ platform: eks }",
            "  - { name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 2, namespace: shop, service_name: api-svc }
  - { name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, replicas: 2, rollout: { strategy: blue_green, live: blue } }
  - { name: batch, image: \"ghcr.io/p/batch:1.0.0\", port: 9000, replicas: 1, rollout: { strategy: recreate } }
  - { name: idle, image: \"ghcr.io/p/idle:1.0.0\", port: 8000, replicas: 0 }
  - { name: worker, image: \"ghcr.io/p/worker:1.0.0\", replicas: 1 }
",
        ),
    )
    .unwrap();
    let alarms = pod_alarms(&out);
    let got: BTreeMap<&str, (String, BTreeMap<String, String>)> = alarms
        .iter()
        .map(|(k, a)| {
            (
                k.as_str(),
                (a["alarm_name"].as_str().unwrap().to_string(), dims(a)),
            )
        })
        .collect();
    let d = |ns: &str, key: &str, value: &str| {
        BTreeMap::from([
            ("ClusterName".to_string(), "pods-production".to_string()),
            ("Namespace".to_string(), ns.to_string()),
            (key.to_string(), value.to_string()),
        ])
    };
    let want = BTreeMap::from([
        (
            "api_no_running_pods",
            (
                "pods-production-api-no-running-pods".to_string(),
                d("shop", "Service", "api-svc"),
            ),
        ),
        (
            "api_restarts",
            (
                "pods-production-api-restarts".to_string(),
                d("shop", "PodName", "api"),
            ),
        ),
        (
            "web_no_running_pods",
            (
                "pods-production-web-no-running-pods".to_string(),
                d("pods", "Service", "web"),
            ),
        ),
        (
            "web_blue_restarts",
            (
                "pods-production-web-blue-restarts".to_string(),
                d("pods", "PodName", "web-blue"),
            ),
        ),
        (
            "web_green_restarts",
            (
                "pods-production-web-green-restarts".to_string(),
                d("pods", "PodName", "web-green"),
            ),
        ),
        (
            "batch_no_running_pods",
            (
                "pods-production-batch-no-running-pods".to_string(),
                d("pods", "Service", "batch"),
            ),
        ),
        (
            "batch_restarts",
            (
                "pods-production-batch-restarts".to_string(),
                d("pods", "PodName", "batch"),
            ),
        ),
        (
            "worker_restarts",
            (
                "pods-production-worker-restarts".to_string(),
                d("pods", "PodName", "worker"),
            ),
        ),
    ]);
    assert_eq!(got, want);
    // `recreate` has no ready pod for a while at every deploy: 10 minutes, not 5.
    assert_eq!(alarms["batch_no_running_pods"]["evaluation_periods"], 10);
    assert_eq!(alarms["api_no_running_pods"]["evaluation_periods"], 5);
    // Every alarm notifies the topic `notify` is subscribed to.
    for a in alarms.values() {
        assert_eq!(
            a["alarm_actions"],
            serde_json::json!(["${aws_sns_topic.alerts.arn}"])
        );
    }
    assert!(
        out.notes
            .iter()
            .any(|n| n.text.starts_with("`worker` has no `port`")),
        "{:#?}",
        out.notes
    );
}

/// What CloudWatch decides for a no-running-pods alarm when the Service has no ready pod
/// (nothing published) and for a restarts alarm when nothing restarts (nothing, or zeros).
#[test]
fn a_service_with_no_ready_pod_breaches_and_a_quiet_one_does_not() {
    let out = synth_aws(
        "pods",
        &stack(
            "{ platform: eks }",
            "  - { name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 2 }\n",
        ),
    )
    .unwrap();
    let alarms = pod_alarms(&out);
    let down = &alarms["api_no_running_pods"];
    assert_eq!(down["treat_missing_data"], "breaching");
    assert_eq!(down["comparison_operator"], "LessThanThreshold");
    assert_eq!(down["threshold"], 1);
    let restarts = &alarms["api_restarts"];
    assert_eq!(restarts["treat_missing_data"], "notBreaching");
    assert_eq!(restarts["statistic"], "Sum");
    assert_eq!(restarts["threshold"], 1);
    assert_eq!(
        restarts["comparison_operator"],
        "GreaterThanOrEqualToThreshold"
    );
}

/// A crash loop restarts a container once per kubelet back-off (capped at 5 minutes) plus the
/// time it ran before dying. Replaying such loops through the restarts alarm as CloudWatch
/// evaluates it (per-period `Sum`, the last `evaluation_periods` periods, `datapoints_to_alarm`
/// of them breaching, no data not breaching) from the moment it first fires: it must stay in
/// ALARM — each drop to OK and back is another page for the same incident — for loops of up
/// to 7½ minutes, and a single restart must not page. A sum over a fixed 15 minutes saw 2
/// restarts in some windows of a 5 min 40 s loop, and never 3 in one of 7½ minutes.
#[test]
fn a_crash_loop_holds_the_restarts_alarm_and_one_restart_does_not_page() {
    let out = synth_aws(
        "pods",
        &stack(
            "{ platform: eks }",
            "  - { name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 1 }\n",
        ),
    )
    .unwrap();
    let a = &pod_alarms(&out)["api_restarts"];
    let period = a["period"].as_u64().unwrap();
    let n = a["evaluation_periods"].as_u64().unwrap() as usize;
    let m = a["datapoints_to_alarm"].as_u64().unwrap_or(n as u64) as usize;
    let threshold = a["threshold"].as_f64().unwrap();
    assert_eq!(a["statistic"], "Sum");
    assert_eq!(a["comparison_operator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(a["treat_missing_data"], "notBreaching");
    // The alarm state after each period, for restarts at `times` (seconds) over `horizon`.
    let states = |times: &[u64], horizon: u64| -> Vec<bool> {
        let periods = (horizon / period) as usize;
        let mut sums = vec![0.0; periods];
        for t in times {
            if let Some(s) = sums.get_mut((*t / period) as usize) {
                *s += 1.0;
            }
        }
        let breaching: Vec<bool> = sums.iter().map(|s| *s >= threshold).collect();
        (0..periods)
            .map(|end| {
                let from = (end + 1).saturating_sub(n);
                breaching[from..=end].iter().filter(|b| **b).count() >= m
            })
            .collect()
    };
    let six_hours = 6 * 3600;
    // Back-offs of 10, 20, 40, 80, 160 s, then 300 s, each after `ran` seconds of running,
    // starting at an offset so that restarts fall anywhere in a period.
    for ran in [5, 40, 90, 150] {
        for offset in (0..period).step_by(37) {
            let mut t = offset;
            let mut times = Vec::new();
            let mut backoff = 10;
            while t < six_hours {
                t += ran;
                times.push(t);
                t += backoff;
                backoff = (backoff * 2).min(300);
            }
            let s = states(&times, six_hours);
            let first = s
                .iter()
                .position(|x| *x)
                .unwrap_or_else(|| panic!("a loop running {ran} s between crashes never pages"));
            assert!(
                first as u64 * period <= offset + 15 * 60,
                "a loop running {ran} s pages only after {} s",
                first as u64 * period
            );
            assert!(
                s[first..].iter().all(|x| *x),
                "a loop running {ran} s (offset {offset}) drops back to OK and pages again"
            );
        }
    }
    for t in (0..six_hours).step_by(97) {
        assert!(
            !states(&[t], six_hours).iter().any(|x| *x),
            "one restart at {t} s pages"
        );
    }
}

/// Without the agent there is no series to alarm on: EKS Fargate (no DaemonSet) and
/// `container_insights: false` get none, and a note says so once.
#[test]
fn no_agent_no_pod_alarms_and_a_note_says_so_once() {
    let svc = "  - { name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 2 }\n";
    let off = synth_aws(
        "pods",
        &stack("{ platform: eks, container_insights: false }", svc),
    )
    .unwrap();
    assert!(pod_alarms(&off).is_empty());
    let said = |out: &infragen::Output, what: &str| {
        out.notes.iter().filter(|n| n.text.contains(what)).count()
    };
    assert_eq!(
        said(&off, "services have no no-running-pods or restarts alarm"),
        1,
        "{:#?}",
        off.notes
    );
    let fargate = |cluster: &str| {
        synth_aws(
            "pods",
            &eks_stack(
                "pods",
                cluster,
                &format!(
                    "fargate_profiles:\n  - {{ name: apps, namespaces: [pods, kube-system] }}\nobservability:\n  notify: [ops@example.com]\nservices:\n{svc}"
                ),
            ),
        )
        .unwrap()
    };
    for cluster in [
        "{ platform: eks_fargate }",
        "{ platform: eks_fargate, container_insights: true }",
        "{ platform: eks_fargate, container_insights: false }",
    ] {
        let out = fargate(cluster);
        assert!(pod_alarms(&out).is_empty(), "{cluster}");
        assert_eq!(
            said(&out, "no-running-pods or restarts alarm"),
            1,
            "{cluster}: {:#?}",
            out.notes
        );
    }
}

/// A blueprint alarm whose name makes the Terraform key of a default alarm
/// (`web-restarts` → `aws_cloudwatch_metric_alarm.web_restarts`, the restarts alarm of a
/// service `web`) or its CloudWatch name is refused at the alarm's own `name`, telling to
/// rename the alarm — not at the service, whose rename would only move the clash.
#[test]
fn a_blueprint_alarm_meeting_a_default_one_is_refused_at_the_alarm() {
    let yaml = eks_stack(
        "pods",
        "{ platform: eks }",
        "node_pools:
  - { name: general, size: m6i.large, min: 2, max: 4 }
services:
  - { name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, replicas: 2 }
observability:
  notify: [ops@example.com]
  alarms:
    - { name: web-restarts, namespace: ContainerInsights, metric: pod_cpu_utilization, period: 300, evaluation_periods: 2, threshold: 80, comparison: \">\", target: web }
    - { name: pods-production-web-no-running-pods, namespace: ContainerInsights, metric: pod_memory_utilization, period: 300, evaluation_periods: 2, threshold: 80, comparison: \">\", target: web }
",
    );
    let line = |needle: &str| yaml.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let err = synth_aws("pods", &yaml).unwrap_err();
    let at = |n: usize| format!("pods.yaml:{n}:");
    assert!(
        err.contains("alarm `web-restarts` is `aws_cloudwatch_metric_alarm.web_restarts`"),
        "{err}"
    );
    assert!(err.contains(&at(line("name: web-restarts"))), "{err}");
    assert!(err.contains("rename the alarm"), "{err}");
    assert!(
        err.contains("alarm `pods-production-web-no-running-pods` has the CloudWatch alarm name of another alarm"),
        "{err}"
    );
    assert!(
        err.contains(&at(line("name: pods-production-web-no-running-pods"))),
        "{err}"
    );
    assert!(err.contains("PutMetricAlarm creates or updates"), "{err}");
    // Never blamed on the service, nor called infragen's defect.
    assert!(!err.contains(&at(line("name: web, image"))), "{err}");
    assert!(!err.contains("defect in infragen"), "{err}");
}

/// Two environments in one account with a blueprint alarm named the same in both: the second
/// apply does not fail "already exists" — PutMetricAlarm updates the alarm of that name, so
/// one environment silently takes the other's alarm over. The warning says that, and how to
/// name it apart; with `{env}` in the name there is nothing to warn about.
#[test]
fn environments_sharing_an_alarm_name_are_told_it_is_taken_over_not_refused() {
    let blueprint = |name: &str| {
        eks_stack(
            "pods",
            "{ platform: eks }",
            &format!(
                "node_pools:
  - {{ name: general, size: m6i.large, min: 2, max: 4 }}
services:
  - {{ name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, replicas: 2 }}
observability:
  notify: [ops@example.com]
  alarms:
    - {{ name: {name}, namespace: ContainerInsights, metric: pod_cpu_utilization, period: 300, evaluation_periods: 2, threshold: 80, comparison: \">\", target: web }}
environments:
  staging: {{}}
  production: {{}}
"
            ),
        )
    };
    let (code, err) = synth_cli_env(&blueprint("web-cpu"), "aws", "production");
    assert_eq!(code, Some(0), "{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("environments-share-names"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        warning.contains("aws_cloudwatch_metric_alarm web-cpu"),
        "{warning}"
    );
    assert!(
        warning.contains("the second silently takes the first's alarms over"),
        "{warning}"
    );
    assert!(!warning.contains("already exists"), "{warning}");
    let (code, err) = synth_cli_env(&blueprint("\"web-cpu-{env}\""), "aws", "production");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("environments-share-names"), "{err}");
}

/// A blueprint's own "fewer than one running pod" alarm on an EKS service: the agent publishes
/// no `service_number_of_running_pods` for a Service without a ready pod, so its missing data
/// must breach like the default alarm's — left `missing`, it sat in INSUFFICIENT_DATA through
/// the outage. A gauge the agent publishes at any value (`pod_cpu_utilization`) stays
/// `missing`.
#[test]
fn a_blueprint_running_pods_alarm_breaches_when_the_agent_publishes_nothing() {
    let yaml = eks_stack(
        "pods",
        "{ platform: eks }",
        "node_pools:
  - { name: general, size: m6i.large, min: 2, max: 4 }
services:
  - { name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, replicas: 2 }
observability:
  notify: [ops@example.com]
  alarms:
    - { name: web-too-few-pods, namespace: ContainerInsights, metric: service_number_of_running_pods, statistic: Minimum, period: 60, evaluation_periods: 3, threshold: 2, comparison: \"<\", target: web }
    - { name: web-cpu, namespace: ContainerInsights, metric: pod_cpu_utilization, period: 300, evaluation_periods: 2, threshold: 80, comparison: \">\", target: web }
",
    );
    let out = synth_aws("pods", &yaml).unwrap();
    let alarms: BTreeMap<String, Value> = resources(&out, "infra", "aws_cloudwatch_metric_alarm")
        .into_iter()
        .map(|a| (a["alarm_name"].as_str().unwrap().to_string(), a))
        .collect();
    assert_eq!(
        alarms["web-too-few-pods"]["treat_missing_data"],
        "breaching"
    );
    assert_eq!(alarms["web-cpu"]["treat_missing_data"], "missing");
}

/// An EKS stack with in-cluster data services: PostgreSQL behind its own client Service name,
/// a three-node Redis (the client Service selects the primary, pod 0), a twelve-member
/// MongoDB replica set, with `observability` and `jobs`.
fn data_stack(jobs: &str) -> String {
    eks_stack(
        "pods",
        "{ platform: eks, addons: [coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver] }",
        &format!(
            "node_pools:
  - {{ name: general, size: m6i.large, min: 2, max: 4 }}
observability:
  notify: [ops@example.com]
services:
  - {{ name: api, image: \"ghcr.io/p/api:1.0.0\", port: 8080, replicas: 2, uses: [orders, sessions, catalog] }}
databases:
  - {{ name: orders, engine: postgres, deployment: in_cluster, in_cluster: {{ service_name: orders-db }}, backup: {{ schedule: \"0 3 * * *\", destination: \"s3://pods-backups/orders/\" }} }}
  - {{ name: catalog, engine: mongodb, deployment: in_cluster, in_cluster: {{ replicas: 12 }} }}
caches:
  - {{ name: sessions, engine: redis, deployment: in_cluster, nodes: 3 }}
{jobs}"
        ),
    )
}

/// An in-cluster database, cache or queue (a StatefulSet) pages when nobody serves behind its
/// client Service and when its pods crash-loop, as a service does. The agent counts a
/// Service's *ready* endpoint addresses, so the alarm reads the ClusterIP client Service
/// (`in_cluster.service_name`), never the headless one, which publishes not-ready pods; it
/// names a StatefulSet's pod by its own name (`orders-0`), so the restarts alarm reads each
/// pod, the worst of them (`MAX`), ten at most per alarm (a CloudWatch hard limit).
#[test]
fn an_in_cluster_data_service_pages_when_down_or_crash_looping() {
    let out = synth_aws("pods", &data_stack("")).unwrap();
    let alarms = pod_alarms(&out);
    let names: BTreeMap<&str, &str> = alarms
        .iter()
        .map(|(k, a)| (k.as_str(), a["alarm_name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        BTreeMap::from([
            ("api_no_running_pods", "pods-production-api-no-running-pods"),
            ("api_restarts", "pods-production-api-restarts"),
            (
                "catalog_no_running_pods",
                "pods-production-catalog-no-running-pods"
            ),
            ("catalog_restarts", "pods-production-catalog-restarts"),
            ("catalog_restarts_2", "pods-production-catalog-restarts-2"),
            (
                "orders_no_running_pods",
                "pods-production-orders-no-running-pods"
            ),
            ("orders_restarts", "pods-production-orders-restarts"),
            (
                "sessions_no_running_pods",
                "pods-production-sessions-no-running-pods"
            ),
            ("sessions_restarts", "pods-production-sessions-restarts"),
        ])
    );
    let d = |key: &str, value: &str| {
        BTreeMap::from([
            ("ClusterName".to_string(), "pods-production".to_string()),
            ("Namespace".to_string(), "pods".to_string()),
            (key.to_string(), value.to_string()),
        ])
    };
    let pods = |name: &str, from: u32, to: u32| -> Vec<(String, BTreeMap<String, String>)> {
        (from..to)
            .map(|i| {
                (
                    "pod_number_of_container_restarts".to_string(),
                    d("PodName", &format!("{name}-{i}")),
                )
            })
            .collect()
    };
    let running = |service: &str| {
        vec![(
            "service_number_of_running_pods".to_string(),
            d("Service", service),
        )]
    };
    // The client Services, not `orders-db-headless` / `sessions-headless`.
    assert_eq!(
        series(&alarms["orders_no_running_pods"]),
        running("orders-db")
    );
    assert_eq!(
        series(&alarms["sessions_no_running_pods"]),
        running("sessions")
    );
    assert_eq!(
        series(&alarms["catalog_no_running_pods"]),
        running("catalog")
    );
    assert_eq!(series(&alarms["orders_restarts"]), pods("orders", 0, 1));
    assert_eq!(series(&alarms["sessions_restarts"]), pods("sessions", 0, 3));
    assert_eq!(series(&alarms["catalog_restarts"]), pods("catalog", 0, 10));
    assert_eq!(
        series(&alarms["catalog_restarts_2"]),
        pods("catalog", 10, 12)
    );
    for key in [
        "sessions_restarts",
        "catalog_restarts",
        "catalog_restarts_2",
    ] {
        let q = alarms[key]["metric_query"].as_array().unwrap();
        let expression = q.iter().find_map(|q| q["expression"].as_str()).unwrap();
        assert!(expression.starts_with("MAX(["), "{key}: {expression}");
        assert!(q.len() <= 11, "{key}: {} queries", q.len());
    }
    for (key, a) in &alarms {
        if key.contains("_restarts") {
            assert_eq!(a["treat_missing_data"], "notBreaching", "{key}");
            assert_eq!(a["evaluation_periods"], 3, "{key}");
            assert_eq!(a["datapoints_to_alarm"], 2, "{key}");
        } else {
            assert_eq!(a["treat_missing_data"], "breaching", "{key}");
        }
        assert_eq!(
            a["alarm_actions"],
            serde_json::json!(["${aws_sns_topic.alerts.arn}"]),
            "{key}"
        );
    }
    // One pod serves behind `orders-db` (one replica) and `sessions` (the primary): every
    // restart or rollout leaves it without a ready endpoint until the server is ready.
    assert_eq!(alarms["orders_no_running_pods"]["evaluation_periods"], 10);
    assert_eq!(alarms["sessions_no_running_pods"]["evaluation_periods"], 10);
    assert_eq!(alarms["catalog_no_running_pods"]["evaluation_periods"], 5);
    // The written objects agree: the client Service selects the StatefulSet's pods and does
    // not publish not-ready ones; the pods are `<statefulset>-<ordinal>`.
    let objs = objects(&out);
    for (service, sts, replicas) in [
        ("orders-db", "orders", 1),
        ("sessions", "sessions", 3),
        ("catalog", "catalog", 12),
    ] {
        let svc = &objs[&(
            "Service".to_string(),
            "pods".to_string(),
            service.to_string(),
        )];
        let set = &objs[&(
            "StatefulSet".to_string(),
            "pods".to_string(),
            sts.to_string(),
        )];
        assert_ne!(svc["spec"]["clusterIP"], "None", "{service}");
        assert_ne!(svc["spec"]["publishNotReadyAddresses"], true, "{service}");
        assert_eq!(
            svc["spec"]["selector"]["app"],
            set["spec"]["template"]["metadata"]["labels"]["app"]
        );
        assert_eq!(set["spec"]["replicas"], replicas, "{sts}");
    }
}

/// On EKS a scheduled job, or an in-cluster database's backup CronJob, gets no failed-run
/// alarm (Container Insights has no per-Job metric and names a CronJob's pods after each
/// run's Job): a note says so once, naming them, where ECS would page. No restarts alarm
/// pretends to watch them.
#[test]
fn eks_jobs_have_no_failed_run_alarm_and_a_note_says_so() {
    let out = synth_aws(
        "pods",
        &data_stack(
            "jobs:
  - { name: nightly-billing, image: \"ghcr.io/p/billing:1.0.0\", schedule: \"0 2 * * *\" }
",
        ),
    )
    .unwrap();
    let said: Vec<&str> = out
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .filter(|t| t.contains("no failed-run alarm"))
        .collect();
    assert_eq!(said.len(), 1, "{:#?}", out.notes);
    assert!(
        said[0].starts_with("`nightly-billing`, `orders-backup` on EKS have no failed-run alarm"),
        "{}",
        said[0]
    );
    let alarms = pod_alarms(&out);
    assert!(
        !alarms
            .keys()
            .any(|k| k.starts_with("nightly_billing") || k.starts_with("orders_backup")),
        "{:?}",
        alarms.keys()
    );
}

/// An `AWS/ApplicationELB` alarm without a `target` is refused; its help said to add
/// `target: load_balancer`, which on EKS with class `alb` (the controller's ALB, which
/// Terraform cannot name) is refused in turn (combos seed 7, 4 of 11 such refusals). The help
/// says so and names what does work; where the ALB can be named it still says to add it.
#[test]
fn an_alb_alarm_without_target_is_not_sent_to_a_target_that_is_refused() {
    let alarm = "observability:
  notify: [ops@example.com]
  alarms:
    - { name: edge-5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count, statistic: Sum, period: 60, evaluation_periods: 5, threshold: 10, comparison: \">\" }
";
    let yaml = format!(
        "{}{alarm}",
        crate::support::alb_stack(
            "  - { name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, routes: [{ path: / }] }\n"
        )
    );
    let err = synth_aws("gate", &yaml).unwrap_err();
    assert!(
        err.contains("`target: load_balancer` would be refused too: the ALB is created by the AWS Load Balancer Controller"),
        "{err}"
    );
    // Following the old help is refused indeed.
    let targeted = yaml.replace(
        "comparison: \">\" }",
        "comparison: \">\", target: load_balancer }",
    );
    assert!(
        synth_aws("gate", &targeted)
            .unwrap_err()
            .contains("Terraform cannot name it")
    );
    // ECS, where Terraform makes the ALB: the help sends to `load_balancer`, which is accepted.
    let ecs = format!(
        "{}{alarm}",
        crate::support::ecs_stack(
            "gate",
            "services:\n  - { name: web, image: \"ghcr.io/p/web:1.0.0\", port: 3000, routes: [{ path: / }] }\nload_balancer: { certificate: { domain: app.example.com } }\n"
        )
    );
    let err = synth_aws("gate", &ecs).unwrap_err();
    assert!(err.contains("`load_balancer` for the ALB"), "{err}");
    synth_aws(
        "gate",
        &ecs.replace(
            "comparison: \">\" }",
            "comparison: \">\", target: load_balancer }",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
