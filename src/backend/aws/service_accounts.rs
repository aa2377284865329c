//! The ServiceAccounts that carry an IRSA role (`identity.rs`), owned by the `platform` root
//! module rather than the manifests under `k8s/`.
//!
//! Their `eks.amazonaws.com/role-arn` annotation is the role's ARN, which holds the account
//! id: a manifest can spell it only when the blueprint names `providers.aws.account_id`, and
//! Kubernetes never expands a placeholder. Terraform finds each role by its deterministic name
//! (`data.aws_iam_role`, as for the Load Balancer Controller's role) and writes the real ARN,
//! with or without `account_id` — one path for both. `platform` is applied after `infra`
//! (which creates the roles) and before `kubectl apply -k k8s/`, whose pods name these
//! ServiceAccounts; the manifests leave them out (one owner per object, as for namespaces).
//!
//! Same content as the manifests would give them: the common labels, a backup job's app
//! labels and the blueprint's tags as labels, no API token unless the blueprint declares the account with `automount_token`.

use std::collections::{BTreeMap, BTreeSet};

use crate::json;

use super::Ctx;
use super::identity::{IrsaAccount, service_accounts};
use crate::backend::connections;
use crate::terraform::{Module, data, ident, res};

/// (namespace, name) of every ServiceAccount this module owns, for the manifest generator
/// (`k8s::Options::external_service_accounts`).
pub fn owned(ctx: &Ctx) -> BTreeSet<(String, String)> {
    service_accounts(ctx)
        .into_iter()
        .map(|a| (a.namespace, a.name))
        .collect()
}

/// Their namespaces, which the platform module creates so the accounts have somewhere to go.
pub fn namespaces(ctx: &Ctx) -> BTreeSet<String> {
    service_accounts(ctx)
        .into_iter()
        .map(|a| a.namespace)
        .collect()
}

/// The labels the manifests give a ServiceAccount (`crate::k8s::rbac`, `crate::k8s::backup`,
/// `crate::k8s::Ctx::add_common_labels`).
fn labels(ctx: &Ctx, a: &IrsaAccount) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = crate::k8s::own_labels(ctx.v.bp)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if a.backup_of.is_some() {
        let app = crate::k8s::app_label_pairs(&a.name, "backup", ctx.v.env);
        l.extend(app.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    // The blueprint's tags that are valid labels, never replacing one of the above.
    for (k, v) in crate::k8s::tag_labels(ctx.v.bp) {
        l.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    l
}

/// Whether the blueprint declares the account with an API token
/// (`kubernetes.service_accounts[].automount_token`).
fn automount(ctx: &Ctx, a: &IrsaAccount) -> bool {
    ctx.v
        .bp
        .kubernetes
        .as_ref()
        .into_iter()
        .flat_map(|k| &k.service_accounts)
        .find(|s| s.name == a.name && s.namespace == a.namespace)
        .is_some_and(|s| s.automount_token)
}

/// The ServiceAccounts (and their namespaces) in the `platform` module.
pub fn platform(ctx: &Ctx, m: &mut Module, gated: &BTreeSet<String>) {
    let accounts = service_accounts(ctx);
    if accounts.is_empty() {
        return;
    }
    connections::namespaces(m, ctx.v, &namespaces(ctx), gated);
    for a in &accounts {
        let role = data("aws_iam_role", &a.key);
        m.file("service_accounts")
            .resource(&role, json!({"name": &a.role}))
            .resource(
                &res(
                    "kubernetes_service_account_v1",
                    &format!("{}_{}", ident(&a.namespace), ident(&a.name)),
                ),
                json!({
                    "metadata": {
                        "name": &a.name,
                        "namespace": connections::namespace_name(&a.namespace),
                        "labels": labels(ctx, a),
                        "annotations": {"eks.amazonaws.com/role-arn": role.arn()},
                    },
                    "automount_service_account_token": automount(ctx, a),
                }),
            );
    }
}
