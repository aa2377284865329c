//! `cluster:` fields (and the EKS-only `providers.aws` ones) a target has no counterpart
//! for, said in a note where the blueprint writes them instead of being dropped without a
//! word (the service and job fields are `platform_fields.rs`). A blueprint built for several targets carries them all,
//! so a note, not an error; each note names only fields the blueprint writes (the
//! defaults-on ones, `container_insights`, `deletion_protection`, `logging`, `flow_logs`, are
//! unset unless written).
//!
//! - EKS and EKS Fargate: DOKS's `ha`, `auto_upgrade`, `surge_upgrade`,
//!   `maintenance_window` and `registry_integration`. An EKS control plane always runs in
//!   several Availability Zones; AWS applies Kubernetes patches to it itself ("Amazon EKS
//!   automatically upgrades all existing clusters to the latest Amazon EKS platform version",
//!   docs.aws.amazon.com/eks/latest/userguide/platform-versions.html), and a minor upgrade
//!   happens when asked (`version`) or, at the end of standard support, as the upgrade
//!   policy says (`upgrade_policy.support_type`: STANDARD upgrades, EXTENDED stays at extra
//!   cost — docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html): neither is
//!   DOKS's opt-in patch upgrade in a window, and EKS has no maintenance window. A managed
//!   node group update always launches new nodes before draining old ones, at most
//!   `max_unavailable_percent` at a time (docs.aws.amazon.com/eks/latest/userguide/
//!   managed-node-update-behavior.html, "Scale up phase"); Fargate has no nodes. Nodes and
//!   Fargate pods pull from ECR with their IAM roles. `endpoint.allowed_cidrs` with a private
//!   endpoint (`public` off): `public_access_cidrs` restricts only the public one.
//! - ECS Fargate: every Kubernetes setting (`version`, `allow_unsupported`, `endpoint`,
//!   `logging`, `addons`, the EKS access entries `providers.aws.admin_principal_arns` and
//!   `ci_role_arn`) and DOKS's; `deletion_protection: true` (`aws_ecs_cluster` has no such
//!   argument: hashicorp/aws 5.100 schema). Control-plane logs are said to be kept nowhere.
//! - DOKS (also an `eks` blueprint built for DigitalOcean): EKS's `addons`, `logging` (DOKS
//!   exports no control-plane logs), `container_insights`, `deletion_protection: true`,
//!   `endpoint.access` and `endpoint.public: false` (the DOKS API is always public;
//!   `allowed_cidrs` is its firewall) — `digitalocean_kubernetes_cluster` has no argument for
//!   any of them (digitalocean provider schema). The network's AWS settings (`zones`,
//!   `subnets`, `nat`, a written `flow_logs`, `endpoints`) are the DigitalOcean back-end's
//!   note (`backend/digitalocean/network.rs`).
//! - An existing cluster (`--provider kubernetes`): the whole `cluster` and `network` blocks
//!   are cloud parts, noted as such by the Kubernetes back-end.

use crate::blueprint::types::{Blueprint, Cluster, Platform};
use crate::catalog::Provider;
use crate::diagnostic::Note;

pub fn notes(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    let Some(cl) = bp.cluster.as_ref() else {
        return Vec::new();
    };
    match (provider, bp.platform_on(provider)) {
        (Provider::Aws, Some(Platform::Eks | Platform::EksFargate)) => eks(cl),
        (Provider::Aws, Some(Platform::EcsFargate)) => ecs(bp, cl).into_iter().collect(),
        (Provider::Digitalocean, Some(Platform::Doks)) => doks(cl).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// DOKS's settings, written.
fn doks_settings(cl: &Cluster) -> Vec<&'static str> {
    set(&[
        ("ha", cl.ha.is_some()),
        ("auto_upgrade", cl.auto_upgrade.is_some()),
        ("surge_upgrade", cl.surge_upgrade.is_some()),
        ("maintenance_window", cl.maintenance_window.is_some()),
        ("registry_integration", cl.registry_integration.is_some()),
    ])
}

fn eks(cl: &Cluster) -> Vec<Note> {
    let mut out = Vec::new();
    let fields = doks_settings(cl);
    if !fields.is_empty() {
        out.push(Note::plain(format!(
            "cluster: DOKS settings, not used on EKS (its control plane always runs across several Availability Zones; AWS applies Kubernetes patches itself, in no maintenance window, and upgrades the minor version when `version` says or, at the end of standard support, unless extended support keeps it; a managed node group always starts new nodes before draining old ones, `node_pools[].max_unavailable_percent` at a time; nodes and Fargate pods pull from ECR with their IAM roles): {}",
            fields.join(", ")
        )));
    }
    // `public_access_cidrs` restricts only the public endpoint (aws_eks_cluster
    // `vpc_config`); DOKS's control-plane firewall reads them whatever `public` says.
    if !cl.endpoint.public() && !cl.endpoint.allowed_cidrs.is_empty() {
        out.push(Note::plain(format!(
            "cluster.endpoint.allowed_cidrs ({}): not used on EKS while `endpoint.public` is off: the API endpoint is private, reached from inside the VPC (or through `endpoint.access`) whatever the source address",
            cl.endpoint.allowed_cidrs.join(", ")
        )));
    }
    out
}

fn ecs(bp: &Blueprint, cl: &Cluster) -> Option<Note> {
    let e = &cl.endpoint;
    let mut fields: Vec<String> = set(&[
        ("version", cl.version.is_some()),
        ("allow_unsupported", cl.allow_unsupported),
        ("endpoint.public", e.public.is_some()),
        ("endpoint.allowed_cidrs", !e.allowed_cidrs.is_empty()),
        ("endpoint.access", e.access.is_some()),
        ("logging", cl.logging.is_some()),
    ])
    .into_iter()
    .map(String::from)
    .collect();
    if !cl.addons.is_empty() {
        fields.push(format!("addons ({})", cl.addons.join(", ")));
    }
    fields.extend(doks_settings(cl).into_iter().map(String::from));
    if cl.deletion_protection == Some(true) {
        fields.push("deletion_protection".into());
    }
    // EKS access entries: an ECS cluster has no Kubernetes API to admit anyone to.
    if let Some(aws) = bp.providers.aws.as_ref() {
        if !aws.admin_principal_arns.is_empty() {
            fields.push("providers.aws.admin_principal_arns".into());
        }
        if aws.ci_role_arn.is_some() {
            fields.push("providers.aws.ci_role_arn".into());
        }
    }
    (!fields.is_empty()).then(|| {
        Note::plain(format!(
            "cluster: Kubernetes settings, not used on ECS Fargate (ECS has no Kubernetes version, API endpoint or access entries, add-ons or upgrades to set, and keeps no control-plane logs: service logs go to each service's `log_group`; tasks pull from ECR with their execution role; an ECS cluster has no deletion protection): {}",
            fields.join(", ")
        ))
    })
}

fn doks(cl: &Cluster) -> Option<Note> {
    let mut lost = Vec::new();
    if !cl.addons.is_empty() {
        lost.push(format!(
            "addons ({}: DOKS manages CoreDNS, Cilium (its CNI) and the DigitalOcean block-storage CSI driver itself)",
            cl.addons.join(", ")
        ));
    }
    if cl.logging.is_some() {
        lost.push(
            "control-plane logging (`cluster.logging`: DOKS exports no control-plane logs, so none are kept)"
                .to_string(),
        );
    }
    if cl.container_insights.is_some() {
        lost.push(
            "container_insights (DOKS ships node and cluster metrics to DigitalOcean Monitoring)"
                .to_string(),
        );
    }
    if cl.deletion_protection == Some(true) {
        lost.push(
            "deletion_protection (a DOKS cluster has none: `terraform destroy` deletes it)".into(),
        );
    }
    if cl.endpoint.public == Some(false) || cl.endpoint.access.is_some() {
        lost.push(
            "a private API (`endpoint.public: false`, `endpoint.access`: the DOKS API endpoint is always public; `endpoint.allowed_cidrs` is its firewall)"
                .into(),
        );
    }
    if lost.is_empty() {
        return None;
    }
    let head = match cl.platform {
        Platform::Doks => "cluster: not expressible on DOKS".to_string(),
        p => format!(
            "cluster: platform `{}` runs on DOKS; not expressible there",
            p.name()
        ),
    };
    Some(Note::plain(format!("{head}: {}", lost.join("; "))))
}

/// The names of the fields that are set.
fn set(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields.iter().filter(|(_, s)| *s).map(|(f, _)| *f).collect()
}
