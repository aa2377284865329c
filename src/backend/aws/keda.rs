//! KEDA on EKS, when a service scales on an SQS queue's backlog (`autoscaling.queue`): the
//! manifests' ScaledObjects (`crate::k8s` `keda.rs`) need its operator to read the queue's
//! length, and its metrics API server to serve it to the HPA it creates.
//!
//! - `infra`: the operator's IRSA role (trusting `system:serviceaccount:keda:keda-operator`),
//!   allowed `sqs:GetQueueAttributes` on exactly the queues services scale on — the one call
//!   KEDA's `aws-sqs-queue` scaler makes (it reads `ApproximateNumberOfMessages` and, when
//!   asked, the in-flight and delayed counts; keda.sh/docs/2.20/scalers/aws-sqs, kedacore/keda
//!   `pkg/scalers/aws_sqs_queue_scaler.go` `getAwsSqsQueueLength`), and
//!   nothing on their dead-letter queues, which nothing scales on. The services' own roles
//!   are not lent to KEDA (`identityOwner: workload` would make each trust KEDA's role).
//!   IRSA, like every other controller infragen installs (`identity::irsa_role`).
//! - `platform`: the `kedacore/keda` release (`helm::keda`) after the AWS Load Balancer
//!   Controller, whose webhook admits every Service the chart creates; its namespace, owned
//!   by Terraform with Pod Security `restricted` enforced (the chart's pods satisfy it).
//!
//! The EKS control plane reaches KEDA's metrics API server (APIService
//! `v1beta1.external.metrics.k8s.io`, port 6443) and its admission webhooks (9443) through
//! the node security group's webhook ports (`cluster.rs`); KEDA's namespace gets no
//! NetworkPolicy, like the other add-ons' (its operator reaches STS, SQS and the API server
//! on 443). On Fargate a profile must select the `keda` namespace (`semantic/fargate.rs`).

use crate::json;

use super::Ctx;
use super::identity::{irsa_role, role_name};
use crate::backend::helm;
use crate::terraform::{Module, Ref, data};

/// Whether the output installs KEDA: EKS, and a service scaling on a queue.
pub fn needed(ctx: &Ctx) -> bool {
    ctx.is_eks() && crate::k8s::scales_on_queues(ctx.v.bp)
}

fn role(ctx: &Ctx) -> String {
    role_name(ctx, helm::KEDA_OPERATOR_SA)
}

/// The queues services scale on, sorted and once each.
fn scaled_queues<'a>(ctx: &Ctx<'a>) -> std::collections::BTreeSet<&'a str> {
    ctx.v
        .bp
        .services
        .iter()
        .filter_map(|s| s.autoscaling.as_ref()?.queue.as_ref())
        .map(|q| q.name.as_str())
        .collect()
}

/// The operator's IRSA role, in `infra`.
pub fn infra(ctx: &Ctx, m: &mut Module) {
    if !needed(ctx) {
        return;
    }
    let queues: Vec<_> = scaled_queues(ctx)
        .into_iter()
        .map(|q| super::sqs::queue(q, false).arn())
        .collect();
    let statements = vec![json!({
        "Sid": "ReadScaledQueuesLength",
        "Effect": "Allow",
        "Action": ["sqs:GetQueueAttributes"],
        "Resource": queues,
    })];
    irsa_role(
        ctx,
        m,
        "keda_operator",
        &role(ctx),
        (helm::KEDA_NAMESPACE, helm::KEDA_OPERATOR_SA),
        statements,
        &[],
    );
}

/// The Kubernetes minors the pinned KEDA is tested on: v2.21 on 1.34 – 1.36 ("Kubernetes
/// Compatibility", keda.sh/docs/2.22/operate/cluster; KEDA tests each release on N-2 minors).
const TESTED_MINORS: (u32, u32) = (34, 36);

/// A warning when the cluster runs a Kubernetes minor KEDA's pinned release is not tested on
/// (EKS still creates 1.32 and 1.33, in extended support).
fn version_note(ctx: &Ctx) {
    let Some(cluster) = &ctx.v.bp.cluster else {
        return;
    };
    let version = ctx.v.version(cluster.version.as_deref(), "kubernetes");
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok());
    let Some(minor) = minor else { return };
    let (low, high) = TESTED_MINORS;
    if minor < low || minor > high {
        ctx.note(crate::diagnostic::Note::warning(
            "keda-kubernetes-version",
            format!(
                "KEDA {} (for `autoscaling.queue`) is tested on Kubernetes 1.{low}–1.{high}, and this cluster runs {version}: upgrade the cluster (`cluster.version`), or check KEDA's compatibility matrix (keda.sh/docs/latest/operate/cluster) before relying on its scaling",
                crate::releases::pinned_chart("chart-keda")
            ),
        ));
    }
}

/// The release and its namespace, in `platform`, after `after` (the Load Balancer
/// Controller).
pub fn platform(ctx: &Ctx, m: &mut Module, after: &Ref) {
    if !needed(ctx) {
        return;
    }
    version_note(ctx);
    let role = data("aws_iam_role", "keda_operator");
    m.file("providers")
        .resource(&role, json!({"name": self::role(ctx)}));
    let (r, mut body) = helm::keda(&role.arn());
    helm::after(&mut body, after);
    if let Some((ns, mut doc)) = helm::own_namespace(ctx.v, &mut body) {
        // Enforce `restricted` unless the blueprint declares the namespace otherwise: the
        // chart's pods meet it, and nothing else runs there.
        doc["metadata"]["labels"] = json!(crate::k8s::workload_namespace_labels(
            ctx.v,
            helm::KEDA_NAMESPACE
        ));
        m.file("namespaces").resource(&ns, doc);
    }
    m.file("controllers").resource(&r, body);
}
