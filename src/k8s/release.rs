//! A service's release step (`services[].release`): run once per deploy, before any pod of
//! the new version starts, with the app's environment (docs/release.md).
//!
//! `kubectl apply -k` and Argo CD apply every object at once, so the order comes from the
//! pods themselves:
//!
//! - a Job `<service>-release-<hash of its pod template>` runs the step. A Job's pod
//!   template is immutable (`ValidateJobSpecUpdate`: "field is immutable"), and a Job runs
//!   once: a new image, command or environment is a new template, hence a new name and a
//!   new run; an apply that changes nothing else (replicas, routes) keeps the name and
//!   runs nothing. Its pod is the app's pod without a port: the same ServiceAccount (IRSA
//!   on EKS), the app container's `envFrom` and `env` (the blueprint's `env`, `secret_env`
//!   and the connection variables of `uses`), the CA files, writable paths, node pool and
//!   hardening. Its pods carry `app: <service>-release`, which the network policies let out
//!   to what the service `uses` (`network_policy.rs`) and the data services admit.
//! - the app's pods start with an init container `wait-for-release` running
//!   `kubectl wait --for=condition=complete job/<that name>`, so a rollout's new pods wait
//!   while the old ones keep serving, and a failed run (`Failed` after its retries or its
//!   timeout) leaves the rollout stalled, the old version serving, until its
//!   `progressDeadlineSeconds` marks it failed for `kubectl rollout status` to report.
//! - the token `kubectl` needs reaches that container alone: the pod keeps
//!   `automountServiceAccountToken: false` and the container mounts a projected volume (a
//!   bound ServiceAccount token, the cluster's CA from `kube-root-ca.crt`, the namespace) at
//!   the path in-cluster clients read. A Role (and RoleBinding) of the Job's name lets the
//!   service's ServiceAccount `get`, `list` and `watch` that one Job by name (`kubectl
//!   wait` gets the object, then lists and watches it with a `metadata.name` field selector
//!   — `getObjAndCheckCondition` in kubectl's `pkg/cmd/wait/condition.go` — which RBAC
//!   matches against `resourceNames`:
//!   <https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources>).
//!
//! Finished Jobs are kept (no `ttlSecondsAfterFinished`): a pod the Deployment starts later
//! (a scale-up, a rescheduled pod, a rollback) waits on the Job of its own template, and
//! would wait for ever on a Job deleted under it. docs/release.md says how to remove old ones.

use super::workload::{
    app_pod_security, container_security, pull_secrets, schedule_on, select_architecture, writable,
};
use super::yaml::{Map, Y, map, seq};
use super::{Ctx, Workload};
use crate::blueprint::types::{Blueprint, Release};
use crate::catalog::Provider;

/// The wait container's name.
pub const WAIT: &str = "wait-for-release";
/// The release container's name.
pub const CONTAINER: &str = "release";
/// The projected volume holding the wait container's API token.
const TOKEN_VOLUME: &str = "release-wait-token";
/// The wait container's writable `/tmp` (kubectl's discovery cache under `HOME`).
const TMP_VOLUME: &str = "release-wait-tmp";
/// Where in-cluster clients (client-go's `rest.InClusterConfig`) read the token, the CA and
/// the namespace.
const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Seconds the bound token lives; the kubelet refreshes it at 80 % of that.
const TOKEN_SECONDS: u32 = 3600;
/// Default `activeDeadlineSeconds` of a release.
pub const DEFAULT_TIMEOUT: u32 = 1800;
/// The Deployment's default `progressDeadlineSeconds`.
const PROGRESS_DEADLINE: u32 = 600;
/// The cluster autoscaler's annotation keeping a pod's node while the pod runs.
const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/// Default `backoffLimit` (Kubernetes' own default).
pub const DEFAULT_RETRIES: u32 = 6;

/// `<service>-release`: the `app` label of the release's pods and the prefix of its Job.
pub(crate) fn app(s: &Workload) -> String {
    format!("{}{}", s.name(), crate::blueprint::types::RELEASE_SUFFIX)
}

/// The Job's requests and limits: the release's, else the app's (a migration loads the same
/// code and settings as the app).
fn release_resources<'c>(
    s: &'c Workload,
    r: &'c Release,
) -> Option<&'c crate::blueprint::types::Resources> {
    r.resources.as_ref().or(s.bp.resources.as_ref())
}

/// Figures of the wait container (the same small figures as infragen's other helper
/// containers, `quota::SMALL`).
fn wait_resources() -> Map<'static> {
    map! {
        "requests" => map! {"cpu" => "50m", "memory" => "64Mi"},
        "limits" => map! {"cpu" => "250m", "memory" => "256Mi"},
    }
}

/// The Job of the release (pushed onto `docs`) and its name. `app` is the app container
/// (whose environment the release reads), `config_hash` the hash of the `<service>-env`
/// ConfigMap, so a change of the app's plain `env` is a new run as it is a new rollout.
pub(crate) fn lower<'c>(
    ctx: &'c Ctx,
    s: &'c Workload,
    r: &'c Release,
    app_container: &Map<'c>,
    config_hash: Option<&str>,
    docs: &mut Vec<Map<'c>>,
) -> String {
    let bp = s.bp;
    let (_, mut volumes) = writable(bp.security.writable_paths.iter().map(String::as_str));
    let ca = super::connect::ca_volume(ctx, s);
    volumes.extend(ca.as_ref().map(|(_, v)| v.clone()));
    // The release step reads the app's configuration files too (`hardened_container`).
    volumes.extend(super::config_files::volume(bp));
    let mut container = super::workload::hardened_container(
        bp,
        super::workload::Extra {
            name: CONTAINER,
            image: r.image.as_deref().unwrap_or(&bp.image),
            pull_policy: bp.image_pull_policy.as_deref().unwrap_or("Always"),
            command: &r.command,
            args: &r.args,
            env: &r.env,
            resources: release_resources(s, r),
            app_env: true,
        },
        app_container,
        ca.as_ref().map(|(m, _)| m),
    );
    // Migrations go around a transaction-mode connection pool (`wiring::pool`).
    super::connect::direct_for_release(ctx, s, &mut container);
    let mut pod = map! {
        "serviceAccountName" => s.service_account.as_str(),
        "automountServiceAccountToken" => s.automount,
        "securityContext" => app_pod_security(ctx, &bp.security),
        // A failed run's pod stays for its logs; the next attempt is a new pod.
        "restartPolicy" => "Never",
        "containers" => vec![container],
    }
    .nonempty("volumes", volumes);
    schedule_on(ctx, bp.node_pool.as_deref(), &mut pod);
    select_architecture(bp.architecture, &mut pod);
    pull_secrets(ctx, Some(bp), &mut pod);

    let name = app(s);
    let mut labels = ctx.app_labels(name.clone(), "release", bp.version.as_deref());
    labels.extend((&bp.labels).into());
    let mut pod_labels = labels.clone();
    ctx.add_common_labels(&mut pod_labels);
    let mut annotations: Map = (&bp.annotations).into();
    // The cluster autoscaler drains an under-used node by evicting the pods of controllers
    // (a Job's too), and a migration killed half-way leaves whatever its database does not
    // roll back (MySQL's DDL is not transactional). A pod with this annotation keeps its
    // node until it ends; a finished pod no longer counts. (cluster-autoscaler FAQ, "What
    // types of pods can prevent CA from removing a node?":
    // <https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md>)
    annotations.insert(SAFE_TO_EVICT, "false");
    if let Some(h) = config_hash {
        annotations.insert("checksum/config", h.to_string());
    }
    let template = map! {
        "metadata" => map! {"labels" => pod_labels}.nonempty("annotations", annotations),
        "spec" => pod,
    };
    let job = job_name(&name, &template);
    let mut meta = ctx.meta(job.clone(), &s.namespace, labels);
    let skips = super::workload::scanner_skips(s);
    if !skips.is_empty() {
        meta.insert("annotations", skips);
    }
    docs.push(map! {
        "apiVersion" => "batch/v1",
        "kind" => "Job",
        "metadata" => meta,
        "spec" => map! {
            "backoffLimit" => r.retries.unwrap_or(DEFAULT_RETRIES),
            "activeDeadlineSeconds" => r.timeout.unwrap_or(DEFAULT_TIMEOUT),
            "template" => template,
        },
    });
    rbac(ctx, s, job.clone(), docs);
    job
}

/// `<app>-<hash of the pod template>`, at most 63 characters: the name is the value of the
/// pods' `batch.kubernetes.io/job-name` label (as for the MongoDB replica-set Job).
fn job_name(app: &str, template: &Map) -> String {
    let hash = super::content_hash(&super::yaml::to_string(template));
    let keep = app.len().min(63 - 9);
    format!("{}-{}", app[..keep].trim_end_matches('-'), &hash[..8])
}

/// The Role letting the service's ServiceAccount read the Job `job` alone, and its binding,
/// both named after the Job and labelled like it. One per Job, not one per service: while a
/// rollout is stalled on a failed run, an old pod the Deployment replaces (a drained node)
/// waits on the previous Job, and must still be allowed to read it; the three go together
/// (docs/release.md, "Old Jobs").
fn rbac<'c>(ctx: &'c Ctx, s: &'c Workload, job: String, docs: &mut Vec<Map<'c>>) {
    let name = job;
    let labels = || {
        let mut l = ctx.app_labels(app(s), "release", None);
        l.extend((&s.bp.labels).into());
        l
    };
    docs.push(map! {
        "apiVersion" => "rbac.authorization.k8s.io/v1",
        "kind" => "Role",
        "metadata" => ctx.meta(name.clone(), &s.namespace, labels()),
        "rules" => vec![map! {
            "apiGroups" => seq!["batch"],
            "resources" => seq!["jobs"],
            "resourceNames" => seq![name.clone()],
            "verbs" => seq!["get", "list", "watch"],
        }],
    });
    docs.push(map! {
        "apiVersion" => "rbac.authorization.k8s.io/v1",
        "kind" => "RoleBinding",
        "metadata" => ctx.meta(name.clone(), &s.namespace, labels()),
        "roleRef" => map! {
            "apiGroup" => "rbac.authorization.k8s.io",
            "kind" => "Role",
            "name" => name,
        },
        "subjects" => vec![map! {
            "kind" => "ServiceAccount",
            "name" => s.service_account.as_str(),
            "namespace" => s.namespace.as_str(),
        }],
    });
}

/// The kubectl image for the cluster's Kubernetes minor (`image-kubectl` in the versions
/// catalog), [`kubectl_line`] of the cluster the provider runs.
pub(crate) fn kubectl_image(ctx: &Ctx) -> String {
    let images = crate::releases::product("image-kubectl");
    let line = kubectl_line(cluster_minor(ctx.bp, ctx.v.provider).as_deref());
    format!("registry.k8s.io/kubectl:{}", images.pin_for(&line))
}

/// The Kubernetes version the cluster runs, as far as the blueprint says: `cluster.version`,
/// else the version EKS or DOKS is created at (the provider's catalog default); `None` for
/// an existing cluster (`--provider kubernetes`) that names none.
pub(crate) fn cluster_minor(bp: &Blueprint, provider: Provider) -> Option<String> {
    let given = bp.cluster.as_ref().and_then(|c| c.version.clone());
    given.or_else(|| {
        (provider != Provider::Kubernetes)
            .then(|| {
                provider
                    .catalog()
                    .default_version("kubernetes")
                    .map(String::from)
            })
            .flatten()
    })
}

/// The `image-kubectl` line for a cluster at `version`: its own line where the catalog pins
/// one, else the nearest line it has (kubectl supports one minor of skew either way with the
/// API server, <https://kubernetes.io/releases/version-skew-policy/#kubectl>, and `kubectl
/// wait` reads only `batch/v1` Jobs); without a version, the newest line.
pub(crate) fn kubectl_line(version: Option<&str>) -> String {
    let images = crate::releases::product("image-kubectl");
    let as_of = &crate::releases::get().as_of;
    let newest = || images.lines.keys().last().cloned().unwrap_or_default();
    match version {
        Some(v) => images
            .line_of(v)
            .filter(|l| images.lines.get(l).is_some_and(|x| x.pin.is_some()))
            .or_else(|| images.nearest(v, as_of).map(str::to_string))
            .unwrap_or_else(newest),
        None => newest(),
    }
}

/// Put the wait container first among the pod's init containers, and its token and `/tmp`
/// volumes beside the pod's.
pub(crate) fn wait_for<'c>(ctx: &'c Ctx, s: &'c Workload, job: String, pod: &mut Map<'c>) {
    let wait = map! {
        "name" => WAIT,
        "image" => kubectl_image(ctx),
        "imagePullPolicy" => "Always",
        // The image is distroless: kubectl is its only program.
        "command" => seq!["/bin/kubectl"],
        "args" => seq![
            "wait",
            "--for=condition=complete",
            format!("job/{job}"),
            format!("--namespace={}", s.namespace),
            // A negative timeout waits a week; a run that fails never completes, and the
            // pod stays in its init phase, the old version serving.
            "--timeout=-1s",
        ],
        "env" => vec![map! {"name" => "HOME", "value" => "/tmp"}],
        "resources" => wait_resources(),
        "securityContext" => container_security(),
        "volumeMounts" => vec![
            map! {"name" => TOKEN_VOLUME, "mountPath" => TOKEN_PATH, "readOnly" => true},
            map! {"name" => TMP_VOLUME, "mountPath" => "/tmp"},
        ],
    };
    // The volume a pod gets when it mounts its token (the kubelet's `kube-api-access-*`),
    // here for one container only.
    // <https://kubernetes.io/docs/concepts/security/service-accounts/#assign-to-pod>
    let token = map! {
        "name" => TOKEN_VOLUME,
        "projected" => map! {
            "defaultMode" => 0o444u32,
            "sources" => vec![
                map! {"serviceAccountToken" => map! {"path" => "token", "expirationSeconds" => TOKEN_SECONDS}},
                map! {"configMap" => map! {
                    "name" => "kube-root-ca.crt",
                    "items" => vec![map! {"key" => "ca.crt", "path" => "ca.crt"}],
                }},
                map! {"downwardAPI" => map! {
                    "items" => vec![map! {
                        "path" => "namespace",
                        "fieldRef" => map! {"apiVersion" => "v1", "fieldPath" => "metadata.namespace"},
                    }],
                }},
            ],
        },
    };
    let tmp = map! {"name" => TMP_VOLUME, "emptyDir" => Map::new()};
    match pod.get_mut("initContainers") {
        Some(Y::Seq(init)) => init.insert(0, wait.into()),
        _ => pod.insert_before("containers", "initContainers", vec![wait]),
    }
    match pod.get_mut("volumes") {
        Some(Y::Seq(volumes)) => volumes.extend([token.into(), tmp.into()]),
        _ => pod.insert("volumes", vec![token, tmp]),
    }
}

/// On EKS, keep the IRSA webhook from giving the wait container the role's credentials: the
/// amazon-eks-pod-identity-webhook injects `AWS_ROLE_ARN` and the web identity token into
/// every container of a pod whose ServiceAccount carries a role, except those its pod
/// annotation `eks.amazonaws.com/skip-containers` lists (comma-separated; README,
/// <https://github.com/aws/amazon-eks-pod-identity-webhook>). kubectl needs none of it.
pub(crate) fn annotate<'c>(ctx: &Ctx, s: &Workload, annotations: &mut Map<'c>) {
    const SKIP: &str = "eks.amazonaws.com/skip-containers";
    let irsa = ctx
        .opts
        .external_service_accounts
        .contains(&(s.namespace.clone(), s.service_account.clone()));
    if !irsa {
        return;
    }
    let value = match annotations.get(SKIP) {
        Some(Y::Str(v)) if !v.trim().is_empty() => format!("{v},{WAIT}"),
        _ => WAIT.to_string(),
    };
    annotations.insert(SKIP, value);
}

/// The `progressDeadlineSeconds` of a service with a release step: the Deployment's default
/// (600) after the longest the Job may take (`timeout`, retries included). Its new pods
/// make no progress while they wait, and with the default a migration longer than ten
/// minutes would mark a healthy rollout failed (`ProgressDeadlineExceeded`, which `kubectl
/// rollout status` reports as an error) while the Job still runs.
pub(crate) fn progress_deadline(bp: &crate::blueprint::types::Service) -> Option<u32> {
    let r = bp.release.as_ref()?;
    Some(r.timeout.unwrap_or(DEFAULT_TIMEOUT) + PROGRESS_DEADLINE)
}
