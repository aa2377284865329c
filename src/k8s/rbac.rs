//! Identities and permissions: ServiceAccounts (`k8s/<namespace>/service-accounts.yaml`),
//! Roles and RoleBindings (`k8s/<namespace>/rbac.yaml`), ClusterRoles and
//! ClusterRoleBindings (`k8s/cluster/rbac.yaml`).
//!
//! Every service runs as its own ServiceAccount unless `service_account` names another; a
//! ServiceAccount the blueprint does not declare gets no API token. A ServiceAccount the
//! back-end's Terraform owns (`Options::external_service_accounts`: one that carries a cloud
//! identity, IRSA on EKS) is left out here; pods still run as it by name.

use std::collections::BTreeMap;

use super::yaml::{Map, map};
use super::{Ctx, Files};
use crate::blueprint::types::Role;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn rules(r: &Role) -> Vec<Map<'_>> {
    r.rules
        .iter()
        .map(|rule| {
            let groups = if rule.api_groups.is_empty() {
                vec![String::new()]
            } else {
                rule.api_groups.clone()
            };
            map! {
                "apiGroups" => groups,
                "resources" => rule.resources.clone(),
                "verbs" => rule.verbs.clone(),
            }
        })
        .collect()
}

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    // (namespace, name) → mounts the API token.
    let mut accounts: BTreeMap<(&str, &str), bool> = ctx
        .platform
        .service_accounts
        .iter()
        .map(|a| ((a.namespace.as_str(), a.name.as_str()), a.automount_token))
        .collect();
    for s in &ctx.services {
        accounts
            .entry((s.namespace.as_str(), s.service_account.as_str()))
            .or_insert(false);
    }
    for ((ns, name), automount) in accounts {
        if ctx
            .opts
            .external_service_accounts
            .contains(&(ns.to_string(), name.to_string()))
        {
            continue;
        }
        let meta = ctx.meta(name, ns, Map::new());
        files.at(&ctx.path(ns, "service-accounts")).push(map! {
            "apiVersion" => "v1",
            "kind" => "ServiceAccount",
            "metadata" => meta,
            "automountServiceAccountToken" => automount,
        });
    }

    for r in &ctx.platform.roles {
        let (path, doc) = match &r.namespace {
            Some(ns) => (
                ctx.path(ns, "rbac"),
                map! {
                    "apiVersion" => format!("{RBAC_GROUP}/v1"),
                    "kind" => "Role",
                    "metadata" => ctx.meta(&r.name, ns, Map::new()),
                    "rules" => rules(r),
                },
            ),
            None => (
                "k8s/cluster/rbac.yaml".to_string(),
                map! {
                    "apiVersion" => format!("{RBAC_GROUP}/v1"),
                    "kind" => "ClusterRole",
                    "metadata" => ctx.cluster_meta(&r.name),
                    "rules" => rules(r),
                },
            ),
        };
        files.at(&path).push(doc);
    }

    for a in &ctx.platform.service_accounts {
        let subject = map! {
            "kind" => "ServiceAccount",
            "name" => a.name.as_str(),
            "namespace" => a.namespace.as_str(),
        };
        if let Some(role) = &a.role {
            let name = format!("{}-{role}", a.name);
            files.at(&ctx.path(&a.namespace, "rbac")).push(map! {
                "apiVersion" => format!("{RBAC_GROUP}/v1"),
                "kind" => "RoleBinding",
                "metadata" => ctx.meta(name, &a.namespace, Map::new()),
                "roleRef" => map! {"apiGroup" => RBAC_GROUP, "kind" => "Role", "name" => role.as_str()},
                "subjects" => vec![subject.clone()],
            });
        }
        if let Some(role) = &a.cluster_role {
            let name = format!("{}-{role}", a.name);
            files.at("k8s/cluster/rbac.yaml").push(map! {
                "apiVersion" => format!("{RBAC_GROUP}/v1"),
                "kind" => "ClusterRoleBinding",
                "metadata" => ctx.cluster_meta(name),
                "roleRef" => map! {"apiGroup" => RBAC_GROUP, "kind" => "ClusterRole", "name" => role.as_str()},
                "subjects" => vec![subject],
            });
        }
    }
}
