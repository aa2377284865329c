//! EKS control plane: its IAM role, the KMS key that envelope-encrypts Kubernetes secrets,
//! the control-plane log group (created before the cluster, so EKS never creates it without
//! retention), the cluster with a private API endpoint and API-only authentication, the
//! cluster and node security groups, access entries for the admin principals, and the OIDC
//! provider IRSA trusts. Node groups (`nodes.rs`), Fargate profiles (`fargate.rs`) and
//! managed add-ons (`addons.rs`) hang off it.

pub mod access;
pub mod addons;
pub mod fargate;
pub mod nodes;
pub mod zones;

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::iam::policy;
use super::identity::oidc_provider;
use super::kms;
use super::network::subnet_ids;
use super::security::nodes_sg;
use crate::blueprint::types::{Cluster, Platform};
use crate::terraform::{Expr, Module, Ref, data, ident, interp, res};

/// The cluster resource.
pub fn cluster() -> Ref {
    res("aws_eks_cluster", "main")
}

/// The additional security group on the control plane's network interfaces (EKS with
/// managed nodes; Fargate pods use the primary security group EKS creates).
pub fn cluster_sg() -> Ref {
    res("aws_security_group", "cluster")
}

/// `${aws_eks_cluster.main.name}`: referencing the name orders dependants after the cluster.
pub fn cluster_name_ref() -> Expr {
    cluster().attr("name")
}

/// The private subnets workloads run in.
pub fn private_subnets(ctx: &Ctx) -> Vec<Expr> {
    ctx.v
        .bp
        .network
        .as_ref()
        .map(|n| subnet_ids(n, "private"))
        .unwrap_or_default()
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let Some(c) = &ctx.v.bp.cluster else { return };
    let eks = ctx.platform == Some(Platform::Eks);
    control_plane(ctx, c, m);
    if eks {
        security_groups(ctx, m);
    }
    access::lower(ctx, m);
    oidc(m);
    access_entries(ctx, m);
    ctx.mark("cluster");
    if eks {
        nodes::lower(ctx, m);
    } else {
        fargate::lower(ctx, m);
    }
    addons::lower(ctx, c, m);
    outputs(ctx, m);
}

fn control_plane(ctx: &Ctx, c: &Cluster, m: &mut Module) {
    let name = ctx.cluster_name();
    let version = ctx.v.version(c.version.as_deref(), "kubernetes");
    kms::key(
        ctx,
        m,
        "eks",
        &format!("EKS secrets envelope encryption for cluster {name}"),
        vec![],
    );
    let key = res("aws_kms_key", "eks");
    let role = res("aws_iam_role", "cluster");
    let log_group = res("aws_cloudwatch_log_group", "cluster");
    let attach = res("aws_iam_role_policy_attachment", "cluster");
    let key_policy = res("aws_iam_role_policy", "cluster_encryption");

    let f = m.file("cluster");
    f.resource(
        &role,
        json!({
            "name": format!("{name}-cluster"),
            "description": format!("EKS control plane of {name}"),
            "assume_role_policy": policy(vec![json!({
                "Sid": "EksControlPlane",
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            })]),
        }),
    )
    .resource(
        &attach,
        json!({
            "role": role.id(),
            "policy_arn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        }),
    )
    .resource(
        &key_policy,
        json!({
            "name": "secrets-encryption",
            "role": role.id(),
            "policy": policy(vec![json!({
                "Sid": "EnvelopeEncryptSecrets",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": key.arn(),
            })]),
        }),
    )
    // EKS writes control-plane logs here; created first so it carries retention and KMS.
    .resource(
        &log_group,
        json!({
            "name": format!("/aws/eks/{name}/cluster"),
            "retention_in_days": c.logging().retention_days,
            "kms_key_id": res("aws_kms_key", "logs").arn(),
        }),
    );

    let mut vpc = json!({
        "subnet_ids": private_subnets(ctx),
        "endpoint_private_access": true,
        "endpoint_public_access": c.endpoint.public(),
    });
    if c.endpoint.public() {
        vpc["public_access_cidrs"] = json!(&c.endpoint.allowed_cidrs);
    }
    if ctx.platform == Some(Platform::Eks) {
        vpc["security_group_ids"] = json!([cluster_sg().id()]);
    }
    f.resource(
        &cluster(),
        json!({
            "name": &name,
            "version": &version,
            "role_arn": role.arn(),
            "enabled_cluster_log_types": &c.logging().types,
            "vpc_config": vpc,
            "access_config": {
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": false,
            },
            "encryption_config": {
                "provider": {"key_arn": key.arn()},
                "resources": ["secrets"],
            },
            "kubernetes_network_config": {"ip_family": "ipv4"},
            // Add-ons are `aws_eks_addon` resources, not the unmanaged defaults.
            "bootstrap_self_managed_addons": false,
            "upgrade_policy": {"support_type": support_type(&version)},
            "deletion_protection": c.deletion_protection(),
            "tags": {"Name": name},
            "depends_on": [log_group.address(), attach.address(), key_policy.address()],
        }),
    );
}

/// The cluster's upgrade policy. `STANDARD` (the default here): when the version leaves
/// standard support EKS upgrades the cluster rather than billing extended support. A version
/// already past standard support on the catalog's date (accepted with a `version-support`
/// warning) is in extended support from creation, which `STANDARD` contradicts: "You can only
/// disable extended support for clusters in standard support"
/// (docs.aws.amazon.com/eks/latest/userguide/disable-extended-support.html). It gets
/// `EXTENDED`, as the warning says it is billed.
fn support_type(version: &str) -> &'static str {
    let releases = crate::releases::get();
    let eks = crate::releases::product("eks");
    let extended = eks
        .line_of(version)
        .and_then(|l| eks.lines.get(&l))
        .and_then(|l| l.standard_end.as_deref())
        .is_some_and(|end| end <= releases.as_of.as_str());
    if extended { "EXTENDED" } else { "STANDARD" }
}

/// One security-group rule; `peer` is a security group id or a CIDR.
#[allow(clippy::too_many_arguments)]
fn rule(
    m: &mut Module,
    kind: &'static str,
    name: &str,
    sg: &Ref,
    peer: Peer,
    protocol: &str,
    ports: Option<(u16, u16)>,
    description: &str,
) {
    let mut body = json!({
        "security_group_id": sg.id(),
        "ip_protocol": protocol,
        "description": description,
    });
    match peer {
        Peer::Sg(id) => body["referenced_security_group_id"] = json!(id),
        Peer::Cidr(c) => body["cidr_ipv4"] = json!(c),
    }
    if let Some((from, to)) = ports {
        body["from_port"] = json!(from);
        body["to_port"] = json!(to);
    }
    m.file("cluster").resource(&res(kind, name), body);
}

enum Peer {
    Sg(Expr),
    Cidr(String),
}

const INGRESS: &str = "aws_vpc_security_group_ingress_rule";
const EGRESS: &str = "aws_vpc_security_group_egress_rule";

/// Ports the control plane calls admission webhooks on, on the nodes: cert-manager (10250 is
/// the kubelet's too), metrics-server (4443), the AWS Load Balancer Controller (9443),
/// ingress-nginx (8443), and the common 6443 / 10251 — KEDA's metrics API server (6443) and
/// admission webhooks (9443) among them.
const WEBHOOK_PORTS: [u16; 5] = [4443, 6443, 8443, 9443, 10251];

/// The control plane's and the nodes' security groups, every rule described. Node egress is
/// HTTPS anywhere (ECR, STS, EKS and AWS APIs, image registries) plus anything inside the
/// VPC (pods, data services, the VPC resolver), not egress-all (CKV_AWS_382); services'
/// declared `egress` adds to it.
fn security_groups(ctx: &Ctx, m: &mut Module) {
    let name = ctx.cluster_name();
    let vpc_id = ctx.vpc_id();
    let cluster = cluster_sg();
    let nodes = nodes_sg();
    m.file("cluster")
        .resource(
            &cluster,
            json!({
                "name": format!("{name}-cluster"),
                "description": format!("EKS control plane ENIs of {name}: API from the nodes"),
                "vpc_id": &vpc_id,
                "tags": {"Name": format!("{name}-cluster")},
            }),
        )
        .resource(
            &nodes,
            json!({
                "name": format!("{name}-nodes"),
                "description": format!("EKS managed nodes of {name} and the pods on them"),
                "vpc_id": &vpc_id,
                // The AWS Load Balancer Controller adds its target rules to the security group
                // tagged for the cluster.
                "tags": {"Name": format!("{name}-nodes"), format!("kubernetes.io/cluster/{name}"): "owned"},
            }),
        );
    let cl = || Peer::Sg(cluster.id());
    let nd = || Peer::Sg(nodes.id());
    rule(
        m,
        INGRESS,
        "cluster_from_nodes_https",
        &cluster,
        nd(),
        "tcp",
        Some((443, 443)),
        "Nodes and pods to the Kubernetes API",
    );
    rule(
        m,
        EGRESS,
        "cluster_to_nodes_https",
        &cluster,
        nd(),
        "tcp",
        Some((443, 443)),
        "Control plane to node webhooks and extension API servers on 443",
    );
    rule(
        m,
        EGRESS,
        "cluster_to_nodes_kubelet",
        &cluster,
        nd(),
        "tcp",
        Some((10250, 10250)),
        "Control plane to the kubelets (logs, exec, port-forward)",
    );
    rule(
        m,
        INGRESS,
        "nodes_from_cluster_https",
        &nodes,
        cl(),
        "tcp",
        Some((443, 443)),
        "Control plane to node webhooks and extension API servers on 443",
    );
    rule(
        m,
        INGRESS,
        "nodes_from_cluster_kubelet",
        &nodes,
        cl(),
        "tcp",
        Some((10250, 10250)),
        "Control plane to the kubelets and to webhooks on 10250",
    );
    for port in WEBHOOK_PORTS {
        rule(
            m,
            INGRESS,
            &format!("nodes_from_cluster_webhook_{port}"),
            &nodes,
            cl(),
            "tcp",
            Some((port, port)),
            &format!("Control plane to admission webhooks on {port}"),
        );
        rule(
            m,
            EGRESS,
            &format!("cluster_to_nodes_webhook_{port}"),
            &cluster,
            nd(),
            "tcp",
            Some((port, port)),
            &format!("Control plane to admission webhooks on {port}"),
        );
    }
    rule(
        m,
        INGRESS,
        "nodes_from_nodes",
        &nodes,
        nd(),
        "-1",
        None,
        "Node to node: pod-to-pod traffic and CoreDNS (pods take node ENI addresses)",
    );
    rule(
        m,
        EGRESS,
        "nodes_to_internet_https",
        &nodes,
        Peer::Cidr("0.0.0.0/0".into()),
        "tcp",
        Some((443, 443)),
        "HTTPS to AWS APIs (EKS, ECR, STS and others) and image registries",
    );
    if http01_self_check(ctx) {
        rule(
            m,
            EGRESS,
            "nodes_to_internet_http",
            &nodes,
            Peer::Cidr("0.0.0.0/0".into()),
            "tcp",
            Some((80, 80)),
            "cert-manager's HTTP-01 self-check: http://<host>/.well-known/acme-challenge/ through the public load balancer",
        );
    }
    if let Some(net) = &ctx.v.bp.network {
        rule(
            m,
            EGRESS,
            "nodes_to_vpc",
            &nodes,
            Peer::Cidr(net.cidr.clone()),
            "-1",
            None,
            "Inside the VPC: pods on other nodes, the control plane, data services, the VPC resolver",
        );
    }
    // Outbound traffic services declare beyond the VPC (pods share the node security group).
    let mut extra: Vec<(String, u16)> = ctx
        .v
        .bp
        .workloads()
        .flat_map(|s| s.egress.iter())
        .flat_map(|e| e.ports.iter().map(move |p| (e.to.clone(), *p)))
        .filter(|(to, p)| !(to == "0.0.0.0/0" && *p == 443))
        .collect();
    extra.sort();
    extra.dedup();
    for (to, port) in extra {
        let users: Vec<&str> = ctx
            .v
            .bp
            .workloads()
            .filter(|s| {
                s.egress
                    .iter()
                    .any(|e| e.to == to && e.ports.contains(&port))
            })
            .map(|s| s.name.as_str())
            .collect();
        rule(
            m,
            EGRESS,
            &format!("nodes_to_{}_{port}", ident(&to)),
            &nodes,
            Peer::Cidr(to.clone()),
            "tcp",
            Some((port, port)),
            &format!("Egress {to} on {port} declared by {}", users.join(", ")),
        );
    }
}

/// Whether cert-manager solves ACME HTTP-01 challenges (every ACME ClusterIssuer does,
/// `k8s/issuer.rs`). Before it tells the ACME server to validate, cert-manager fetches the
/// challenge itself, as the ACME server will: plain HTTP on port 80 to the address the host
/// resolves to — the internet-facing load balancer's public addresses, outside the VPC
/// ("self check", https://cert-manager.io/docs/troubleshooting/acme/). Its pods leave
/// through the nodes' security group, whose egress is otherwise HTTPS and the VPC only: the
/// check would time out and no certificate would ever be issued.
fn http01_self_check(ctx: &Ctx) -> bool {
    crate::backend::helm::cert_manager(ctx.v).is_some()
        && ctx.v.bp.kubernetes.as_ref().is_some_and(|k| {
            k.issuers
                .iter()
                .any(|i| i.kind == crate::blueprint::types::IssuerKind::Acme)
        })
}

/// The OIDC provider of the cluster's service-account issuer, for IRSA.
fn oidc(m: &mut Module) {
    let issuer = cluster().attr("identity[0].oidc[0].issuer");
    let cert = data("tls_certificate", "eks");
    let provider = oidc_provider();
    m.file("cluster")
        .resource(&cert, json!({"url": &issuer}))
        .resource(
            &provider,
            json!({
                "url": issuer,
                "client_id_list": ["sts.amazonaws.com"],
                "thumbprint_list": [cert.attr("certificates[0].sha1_fingerprint")],
            }),
        )
        // The issuer without its scheme, as IRSA trust conditions key on it.
        .local(
            "oidc_issuer",
            Json::from(interp(&format!(
                "replace({}, \"https://\", \"\")",
                provider.path("url")
            ))),
        );
}

/// Cluster-admin access entries for `providers.aws.admin_principal_arns` (authentication
/// mode API: no aws-auth ConfigMap). EKS adds the node and Fargate roles' entries itself.
/// Without named principals nobody could reach the API — not even the `platform` module — so
/// the IAM role or user applying `infra` gets the entry instead (its session's issuer, since
/// an assumed-role session ARN is no principal), and a note asks for explicit principals.
fn access_entries(ctx: &Ctx, m: &mut Module) {
    let mut named: Vec<String> = ctx
        .v
        .bp
        .providers
        .aws
        .as_ref()
        .map(|a| {
            a.admin_principal_arns
                .iter()
                .chain(a.ci_role_arn.as_ref())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    named.sort();
    named.dedup();
    let principals: Vec<(String, Expr)> = if named.is_empty() {
        let session = data("aws_iam_session_context", "current");
        m.file("cluster").resource(
            &session,
            json!({"arn": data("aws_caller_identity", "current").attr("arn")}),
        );
        ctx.note(format!(
            "`providers.aws.admin_principal_arns` is empty, so the IAM principal that applies terraform/infra becomes the only cluster admin of {}: name the admin and CI roles explicitly",
            ctx.cluster_name()
        ));
        vec![("admin_terraform".into(), session.attr("issuer_arn"))]
    } else {
        access_entry_keys(&named)
            .into_iter()
            .zip(&named)
            .map(|(key, arn)| (key, arn.as_str().into()))
            .collect()
    };
    for (key, arn) in principals {
        let entry = res("aws_eks_access_entry", &key);
        m.file("cluster")
            .resource(
                &entry,
                json!({
                    "cluster_name": cluster_name_ref(),
                    "principal_arn": arn,
                    "type": "STANDARD",
                }),
            )
            .resource(
                &res("aws_eks_access_policy_association", &key),
                json!({
                    "cluster_name": cluster_name_ref(),
                    "principal_arn": entry.attr("principal_arn"),
                    "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    "access_scope": {"type": "cluster"},
                }),
            );
    }
}

/// One Terraform name per admin principal: `admin_<name>` by the ARN's last segment, as
/// before, while that is unique. A role and a user of one name (`role/admin`, `user/admin`),
/// one name under two paths or in two accounts would otherwise share an address, and the
/// second entry would replace the first — one admin silently without access. Those are named
/// by the whole ARN after `arn:aws:iam::` (account, kind, path), with a counter as last resort.
fn access_entry_keys(arns: &[String]) -> Vec<String> {
    let short = |arn: &String| ident(arn.rsplit(['/', ':']).next().unwrap_or(arn));
    let mut keys: Vec<String> = arns
        .iter()
        .map(|arn| {
            if arns.iter().filter(|a| short(a) == short(arn)).count() > 1 {
                ident(arn.trim_start_matches("arn:aws:iam::"))
            } else {
                short(arn)
            }
        })
        .map(|k| format!("admin_{k}"))
        .collect();
    for i in 0..keys.len() {
        if keys[..i].contains(&keys[i]) {
            keys[i] = format!("{}_{i}", keys[i]);
        }
    }
    keys
}

fn outputs(ctx: &Ctx, m: &mut Module) {
    let name = ctx.cluster_name();
    m.file("outputs")
        .output("cluster_name", cluster().attr("name"), "EKS cluster name")
        .output(
            "cluster_endpoint",
            cluster().attr("endpoint"),
            "Kubernetes API endpoint (private unless `cluster.endpoint.public`)",
        )
        .output(
            "cluster_certificate_authority",
            cluster().attr("certificate_authority[0].data"),
            "Base64 CA certificate of the Kubernetes API",
        )
        .output(
            "kubeconfig_command",
            format!(
                "aws eks update-kubeconfig --name {name} --region {}",
                ctx.region
            )
            .into(),
            "Writes a kubeconfig entry for the cluster",
        )
        .output(
            "oidc_provider_arn",
            oidc_provider().arn(),
            "OIDC provider of the cluster's service-account tokens (IRSA)",
        );
}
