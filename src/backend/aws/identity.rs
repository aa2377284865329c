//! Workload identity on EKS: IAM roles for service accounts (IRSA). Each role trusts only
//! the cluster's OIDC provider, and only for one `namespace:serviceaccount` with the STS
//! audience; its policy names the exact resources the workload `uses` (tables, buckets).
//!
//! Not secrets: a pod reads the blueprint's secrets (`uses`, `secret_env`) and its data
//! services' credentials from its `<service>-connections` Secret, which the External Secrets
//! Operator fills with its own role (`external_secrets.rs`); the workload's role reading them
//! from Secrets Manager too would only widen what a compromised pod can fetch. ECS lines up:
//! there the execution role reads them for the task, the task role never.
//!
//! IRSA rather than EKS Pod Identity: the Pod Identity agent is a DaemonSet, which Fargate
//! cannot run, and one mechanism for both platforms keeps the manifests identical.
//!
//! The role ARN belongs in the ServiceAccount's `eks.amazonaws.com/role-arn` annotation, and
//! the ARN holds the account id, which a manifest under `k8s/` cannot know when the blueprint
//! does not name `providers.aws.account_id` (and nothing substitutes a placeholder there). So
//! these ServiceAccounts belong to Terraform (`service_accounts.rs`, in `platform`), which
//! finds the role by name and writes its real ARN; the manifests leave them out and the pods
//! run as them by name ([`service_accounts`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::Ctx;
use super::iam::policy;
use crate::terraform::{Expr, Module, Ref, local, res};

/// The OIDC provider IRSA roles trust (created by `cluster.rs`).
pub fn oidc_provider() -> Ref {
    res("aws_iam_openid_connect_provider", "eks")
}

/// A role for the Kubernetes service account `namespace/sa`, with `statements` as its inline
/// policy and `managed` policies (attachment name suffix, ARN) attached. `key` names the
/// Terraform resources.
pub fn irsa_role(
    ctx: &Ctx,
    m: &mut Module,
    key: &str,
    role_name: &str,
    (namespace, sa): (&str, &str),
    statements: Vec<Json>,
    managed: &[(&str, &str)],
) -> Ref {
    let role = res("aws_iam_role", key);
    let issuer = local("oidc_issuer");
    let trust = policy(vec![json!({
        "Sid": "ServiceAccountWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider().arn()},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            tpl!(issuer, ":sub"): format!("system:serviceaccount:{namespace}:{sa}"),
            tpl!(issuer, ":aud"): "sts.amazonaws.com",
        }},
    })]);
    let f = m.file("identity");
    f.resource(
        &role,
        json!({
            "name": role_name,
            "description": format!("IRSA: {namespace}/{sa} on EKS cluster {}", ctx.cluster_name()),
            "assume_role_policy": trust,
            "max_session_duration": 3600,
        }),
    );
    if !statements.is_empty() {
        f.resource(
            &res("aws_iam_role_policy", key),
            json!({
                "name": "least-privilege",
                "role": role.id(),
                "policy": policy(statements),
            }),
        );
    }
    for (suffix, arn) in managed {
        f.resource(
            &res("aws_iam_role_policy_attachment", &format!("{key}_{suffix}")),
            json!({"role": role.id(), "policy_arn": arn}),
        );
    }
    role
}

/// An IAM role name: `<cluster>-<suffix>`, cut to IAM's 64 characters.
pub fn role_name(ctx: &Ctx, suffix: &str) -> String {
    // IAM role names: at most 64 characters.
    crate::naming::fit(&format!("{}-{suffix}", ctx.cluster_name()), 64)
}

/// The names of the roles infragen makes for itself around an EKS cluster: the control
/// plane's, the nodes', the Fargate pods', the API access instance's, the controllers' and
/// add-ons' IRSA roles (`<cluster>-…`) and the flow logs' and RDS monitoring's
/// (`<prefix>-…`, the same prefix when the cluster keeps the default name).
fn own_role_names(ctx: &Ctx) -> Vec<String> {
    let cluster = ctx.cluster_name();
    let mut names: Vec<String> = ["cluster", "nodes", "fargate-pods", "api-access"]
        .iter()
        .map(|s| format!("{cluster}-{s}"))
        .collect();
    for controller in [
        "external-secrets",
        "aws-load-balancer-controller",
        "cluster-autoscaler",
        "ebs-csi-controller",
        "cloudwatch-agent",
        crate::naming::KEDA_OPERATOR_SA,
    ] {
        names.push(role_name(ctx, controller));
    }
    for own in ["vpc-flow-logs", "rds-monitoring"] {
        names.push(format!("{}-{own}", ctx.prefix));
    }
    names
}

/// The IAM role name of a workload's (or backup job's) service account: `<cluster>-<sa>`,
/// unless that is the name of one of infragen's own roles (a service account called `nodes`
/// or `cluster`): IAM role names are unique in an account, so both roles could not be
/// created (CreateRole: EntityAlreadyExists). Such a one is `<cluster>-sa-<sa>` instead.
pub fn service_account_role_name(ctx: &Ctx, suffix: &str) -> String {
    let name = role_name(ctx, suffix);
    if own_role_names(ctx).contains(&name) {
        role_name(ctx, &format!("sa-{suffix}"))
    } else {
        name
    }
}

/// A service account that needs AWS access, with what it uses.
struct Account {
    namespace: String,
    sa: String,
    services: Vec<String>,
    tables: BTreeSet<String>,
    buckets: BTreeSet<String>,
    queues: BTreeSet<String>,
}

/// Service accounts of services that use tables, buckets or SQS queues (the AWS APIs a pod
/// reaches with its own role), keyed by (namespace, name).
fn accounts(ctx: &Ctx) -> BTreeMap<(String, String), Account> {
    let bp = ctx.v.bp;
    // The manifests' default namespace: the role must trust the namespace the pods run in.
    let default_ns = bp.default_namespace().to_string();
    let tables: BTreeSet<&str> = bp.tables.iter().map(|t| t.name.as_str()).collect();
    let mut out: BTreeMap<(String, String), Account> = BTreeMap::new();
    for s in bp.workloads() {
        let used_tables: BTreeSet<String> = s
            .uses
            .iter()
            .filter(|u| tables.contains(u.as_str()))
            .map(|u| u.name.clone())
            .collect();
        let used_buckets: BTreeSet<String> = s
            .uses
            .iter()
            .filter(|u| bp.buckets.iter().any(|b| b.name == u.name))
            .map(|u| u.name.clone())
            .collect();
        let used_queues: BTreeSet<String> = s
            .uses
            .iter()
            .filter(|u| bp.sqs_queues().any(|q| q.name == u.name))
            .map(|u| u.name.clone())
            .collect();
        if used_tables.is_empty() && used_buckets.is_empty() && used_queues.is_empty() {
            continue;
        }
        let ns = s.namespace.clone().unwrap_or_else(|| default_ns.clone());
        let sa = s.service_account.clone().unwrap_or_else(|| s.name.clone());
        let a = out.entry((ns.clone(), sa.clone())).or_insert(Account {
            namespace: ns,
            sa,
            services: vec![],
            tables: BTreeSet::new(),
            buckets: BTreeSet::new(),
            queues: BTreeSet::new(),
        });
        a.services.push(s.name.clone());
        a.tables.extend(used_tables);
        a.buckets.extend(used_buckets);
        a.queues.extend(used_queues);
    }
    out
}

/// The Terraform name and IAM role name of each service account's role. Service accounts
/// with the same name in different namespaces get the namespace in both.
fn names(accounts: &BTreeMap<(String, String), Account>) -> BTreeMap<(String, String), String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, sa) in accounts.keys() {
        *count.entry(sa.as_str()).or_default() += 1;
    }
    accounts
        .keys()
        .map(|(ns, sa)| {
            let suffix = if count[sa.as_str()] > 1 {
                format!("{ns}-{sa}")
            } else {
                sa.clone()
            };
            ((ns.clone(), sa.clone()), suffix)
        })
        .collect()
}

/// A Kubernetes ServiceAccount with an IRSA role: where pods run as it, and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrsaAccount {
    pub namespace: String,
    pub name: String,
    /// The IAM role's name.
    pub role: String,
    /// The Terraform name of the role (`aws_iam_role.<key>` in `infra`).
    pub key: String,
    /// The database whose backup job runs as it (`<database>-backup`), if any.
    pub backup_of: Option<String>,
}

/// Every ServiceAccount that carries an IRSA role: the backup jobs' and the workloads'.
pub fn service_accounts(ctx: &Ctx) -> Vec<IrsaAccount> {
    let mut out: Vec<IrsaAccount> = backup_jobs(ctx)
        .into_iter()
        .map(|(db, namespace, sa, _, _)| IrsaAccount {
            namespace,
            role: service_account_role_name(ctx, &sa),
            key: format!("irsa_{sa}"),
            name: sa,
            backup_of: Some(db),
        })
        .collect();
    let accounts = accounts(ctx);
    let names = names(&accounts);
    out.extend(accounts.keys().map(|key| {
        let suffix = &names[key];
        IrsaAccount {
            namespace: key.0.clone(),
            name: key.1.clone(),
            role: service_account_role_name(ctx, suffix),
            key: format!("irsa_{suffix}"),
            backup_of: None,
        }
    }));
    out
}

/// Read/write on exactly `tables`, `buckets` and SQS `queues` (and their keys, only through
/// the service): what a workload that `uses` them needs, on EKS and ECS alike.
pub fn data_statements(
    ctx: &Ctx,
    m: &Module,
    tables: &BTreeSet<String>,
    buckets: &BTreeSet<String>,
    queues: &BTreeSet<String>,
) -> Vec<Json> {
    let mut out = super::sqs::statements(queues);
    if !buckets.is_empty() {
        let arns: Vec<Expr> = buckets
            .iter()
            .map(|b| res("aws_s3_bucket", b).arn())
            .collect();
        let objects: Vec<Expr> = arns.iter().map(|a| tpl!(a, "/*")).collect();
        out.push(json!({
            "Sid": "ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": arns,
        }));
        out.push(json!({
            "Sid": "ReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": objects,
        }));
        let key = res("aws_kms_key", "buckets");
        if m.declares(&key.address()) {
            out.push(json!({
                "Sid": "BucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key.arn(),
                "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", ctx.region)}},
            }));
        }
    }
    if !tables.is_empty() {
        let mut arns = Vec::new();
        for t in tables {
            let table = res("aws_dynamodb_table", t);
            arns.push(table.arn());
            arns.push(tpl!(table.arn(), "/index/*"));
        }
        out.push(json!({
            "Sid": "DynamoDbItems",
            "Effect": "Allow",
            "Action": [
                "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
                "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
            ],
            "Resource": arns,
        }));
        out.push(json!({
            "Sid": "DynamoDbTableKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": res("aws_kms_key", "dynamodb").arn(),
            "Condition": {"StringEquals": {"kms:ViaService": format!("dynamodb.{}.amazonaws.com", ctx.region)}},
        }));
    }
    out
}

/// A backup job's identity: (database, namespace, service account, destination bucket,
/// key prefix), for in-cluster databases copied to S3 without a `storage_secret`.
pub fn backup_jobs(ctx: &Ctx) -> Vec<(String, String, String, String, String)> {
    let bp = ctx.v.bp;
    let ns = bp.default_namespace().to_string();
    bp.databases
        .iter()
        .filter(|d| d.deployment == crate::blueprint::types::Deployment::InCluster)
        .filter_map(|d| {
            let b = d.backup.as_ref()?;
            // Every `backup` runs (without `schedule` or `window`, daily at 02:00 UTC:
            // `k8s::backup::schedule`), so every one copying off the cluster without a
            // `storage_secret` needs the role.
            if b.storage_secret.is_some() {
                return None;
            }
            let (bucket, prefix) = b.destination_bucket()?;
            Some((
                d.name.clone(),
                ns.clone(),
                format!("{}-backup", d.name),
                bucket.to_string(),
                prefix.to_string(),
            ))
        })
        .collect()
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    // Backup jobs: write (and list) exactly the destination prefix.
    for (_, ns, sa, bucket, prefix) in backup_jobs(ctx) {
        let objects = format!("arn:aws:s3:::{bucket}/{prefix}*");
        let mut statements = vec![
            json!({
                "Sid": "ListDestination",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": {"StringLike": {"s3:prefix": [format!("{prefix}*")]}},
            }),
            json!({
                "Sid": "WriteArchives",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
                "Resource": objects,
            }),
        ];
        let key = res("aws_kms_key", "buckets");
        if m.declares(&key.address()) {
            statements.push(json!({
                "Sid": "BucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key.arn(),
                "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", ctx.region)}},
            }));
        }
        irsa_role(
            ctx,
            m,
            &format!("irsa_{sa}"),
            &service_account_role_name(ctx, &sa),
            (&ns, &sa),
            statements,
            &[],
        );
    }
    let accounts = accounts(ctx);
    let names = names(&accounts);
    for (key, a) in &accounts {
        let suffix = &names[key];
        let statements = data_statements(ctx, m, &a.tables, &a.buckets, &a.queues);
        let role = irsa_role(
            ctx,
            m,
            &format!("irsa_{suffix}"),
            &service_account_role_name(ctx, suffix),
            (&a.namespace, &a.sa),
            statements,
            &[],
        );
        let f = m.file("outputs");
        for service in &a.services {
            f.sensitive_output(
                &format!("{service}_irsa_role_arn"),
                role.arn(),
                &format!(
                    "IAM role of service account {}/{} (IRSA), used by {service}",
                    a.namespace, a.sa
                ),
            );
        }
    }
}
