//! Everything EKS runs inside the cluster, in four places:
//!
//! - in `infra` (cloud resources the platform needs): the AWS Load Balancer Controller's IRSA
//!   role, and for `load_balancer` the WAFv2 web ACL (rate limit + AWS managed rule groups,
//!   logged to `aws-waf-logs-*`) and the ACM certificate (DNS-validated; the records are an
//!   output);
//! - the `platform` root module (applied after `infra`, with its own state): kubernetes and
//!   helm providers configured from the cluster by data source with `aws eks get-token`, the
//!   AWS Load Balancer Controller, ingress-nginx and cert-manager (`helm.rs`), the Cluster
//!   Autoscaler when a node pool can change size (`cluster_autoscaler.rs`), KEDA when a
//!   service scales on a queue (`keda.rs`), the encrypted
//!   gp3 default StorageClass (managed nodes), Fargate's logging namespace and ConfigMap, the
//!   ServiceAccounts that carry an IRSA role (`service_accounts.rs`: their annotation is the
//!   role's ARN, which holds the account id), and the edge: an ALB Ingress that puts the WAF
//!   in front of ingress-nginx;
//! - the `connections` root module (applied after `platform`, same providers): the External
//!   Secrets objects, whose CRDs `platform` installs (`external_secrets.rs`);
//! - `k8s/`: the manifests of the services (`crate::k8s`), told about the platform.
//!
//! Edge: with `ingress.class: nginx` and a `load_balancer`, the internet-facing ALB (WAF,
//! TLS with the ACM certificate, HTTP→HTTPS redirect) forwards to ingress-nginx over HTTPS,
//! whose Service stays inside the cluster; without a `load_balancer`, ingress-nginx gets an
//! NLB through the controller. With `ingress.gateway`, Envoy Gateway (after the controller;
//! cert-manager after it, for the Gateway API CRDs) serves the Gateway, whose Envoy proxies
//! get that NLB (the Gateway's `spec.infrastructure.annotations`); the ALB settings are
//! refused beside it (`semantic/gateway.rs`). With `ingress.class: alb` the services' Ingress is the ALB and
//! takes the controller's annotations, the WAF by name (`wafv2-acl-name`) since a web ACL's
//! ARN holds a generated id a manifest cannot know. The ALBs' access logs are the
//! IngressClassParams' (see `class_attributes`): the log bucket's name holds the account id.
//! Nothing under `k8s/` needs the account.

use std::collections::BTreeMap;

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::identity::{irsa_role, role_name};
use super::{Ctx, state};
use crate::backend::{common_tags, connections, helm, terraform_block};
use crate::blueprint::types::{IngressClass, LoadBalancer, Platform};
use crate::k8s;
use crate::k8s::{PROXY_DRAIN_SECONDS, PROXY_SHUTDOWN_PAUSE_SECONDS};
use crate::naming::header;
use crate::output::Output;
use crate::terraform::{Expr, Module, Ref, data, interp, res};

const LBC_SA: &str = "aws-load-balancer-controller";
/// TLS 1.3 and 1.2 only (the default ALB policy accepts TLS 1.0).
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

fn lbc_role_name(ctx: &Ctx) -> String {
    role_name(ctx, LBC_SA)
}

/// The web ACL's name (`load_balancer.waf.name`, default `<name>-<env>-waf` as on ECS), also
/// how the platform finds it.
fn web_acl_name(ctx: &Ctx) -> String {
    ctx.v
        .bp
        .load_balancer
        .as_ref()
        .and_then(|l| l.waf.as_ref())
        .and_then(|w| w.name.clone())
        .unwrap_or_else(|| format!("{}-waf", ctx.prefix))
}

/// ingress-nginx's container ports on Fargate, which allows no binding below 1024.
const FARGATE_NGINX_HTTP: u16 = 8080;
const FARGATE_NGINX_HTTPS: u16 = 10443;

/// The capabilities ingress-nginx drops on Fargate: the container runtime's default set,
/// which EKS gives Fargate pods ("EC2 and Fargate pods are assigned the aforementioned
/// capabilities by default … Linux capabilities can only be dropped from Fargate pods",
/// docs.aws.amazon.com/eks/latest/best-practices/pod-security.html), except
/// NET_BIND_SERVICE, which its binaries' file capability needs in the bounding set.
const FARGATE_NGINX_DROPPED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The blueprint's Ingress class when it has an enabled Ingress.
fn ingress_class(ctx: &Ctx) -> Option<IngressClass> {
    ctx.v
        .bp
        .ingress
        .as_ref()
        .filter(|i| i.enabled)
        .map(|i| i.class)
}

/// ingress-nginx's settings behind an ALB whose idle timeout is `t` seconds. The ALB reuses
/// its connections to the controller until they idle for `t`, and AWS asks targets to keep
/// them open longer, else a request races the target's close and the ALB answers 502
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout>):
/// nginx's `keep-alive` (75 s by default) goes past `t`. A request the ALB keeps open for `t`
/// (a WebSocket, a long poll) is cut by nginx after `proxy-read-timeout` /
/// `proxy-send-timeout` of silence (60 s by default), so with `load_balancer.idle_timeout`
/// (`proxy`) those wait as long for every service. A service's own `idle_timeout` raises
/// the ALB's `t` but only its own Ingress's proxy timeouts (`k8s::ingress`), so the services
/// beside it keep nginx's.
fn idle_config(t: u32, proxy: Option<u32>) -> Json {
    let mut config = json!({"keep-alive": (t + 5).max(75).to_string()});
    if let Some(p) = proxy {
        let p = p.max(60).to_string();
        config["proxy-read-timeout"] = json!(p.clone());
        config["proxy-send-timeout"] = json!(p);
    }
    config
}

/// Cloud resources of the platform, in `infra`.
pub fn infra(ctx: &Ctx, m: &mut Module) {
    lbc_role(ctx, m);
    if let Some(lb) = &ctx.v.bp.load_balancer {
        if let Some(waf) = &lb.waf {
            // The same web ACL as on ECS; the controller associates it with its ALB.
            super::edge::web_acl(ctx, m, waf, None);
        }
        certificate(lb, m);
        ctx.mark("load_balancer");
    }
}

/// The controller's IAM policy: read what it reconciles; create load balancers, target groups
/// and security groups only tagged for this cluster, and change or delete only those; manage
/// rules only on security groups of this VPC.
fn lbc_statements(ctx: &Ctx) -> Vec<Json> {
    let region = &ctx.region;
    let account = ctx.account_id();
    let cluster = ctx.cluster_name();
    let elb = |r: &str| {
        tpl!(
            "arn:aws:elasticloadbalancing:",
            region,
            ":",
            account,
            ":",
            r
        )
    };
    let sgs = tpl!("arn:aws:ec2:", region, ":", account, ":security-group/*");
    let vpc = tpl!("arn:aws:ec2:", region, ":", account, ":vpc/", ctx.vpc_id());
    let ours = json!({"aws:ResourceTag/elbv2.k8s.aws/cluster": &cluster});
    let tagging_ours = json!({"aws:RequestTag/elbv2.k8s.aws/cluster": &cluster});
    let lb_resources = json!([
        elb("loadbalancer/app/*/*"),
        elb("loadbalancer/net/*/*"),
        elb("targetgroup/*/*")
    ]);
    vec![
        json!({
            "Sid": "ElbServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        }),
        json!({
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                "ec2:DescribeCoipPools", "ec2:DescribeInstances", "ec2:DescribeInternetGateways",
                "ec2:DescribeIpamPools", "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeTags",
                "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs", "ec2:GetCoipPoolUsage",
                "ec2:GetSecurityGroupsForVpc",
                "elasticloadbalancing:DescribeCapacityReservation", "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTrustStores",
                "acm:DescribeCertificate", "acm:ListCertificates",
                "cognito-idp:DescribeUserPoolClient",
                "iam:GetServerCertificate", "iam:ListServerCertificates",
                "shield:DescribeProtection", "shield:GetSubscriptionState",
                "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:ListWebACLs",
                "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource",
            ],
            "Resource": "*",
        }),
        json!({
            "Sid": "SecurityGroupsInThisVpc",
            "Effect": "Allow",
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Resource": &sgs,
            "Condition": {"ArnEquals": {"ec2:Vpc": &vpc}},
        }),
        json!({
            "Sid": "CreateSecurityGroupsInThisVpc",
            "Effect": "Allow",
            "Action": "ec2:CreateSecurityGroup",
            "Resource": [&sgs, vpc],
        }),
        json!({
            "Sid": "TagSecurityGroupsAtCreation",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": &sgs,
            "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup", "aws:RequestTag/elbv2.k8s.aws/cluster": &cluster}},
        }),
        json!({
            "Sid": "ManageOwnSecurityGroups",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup"],
            "Resource": sgs,
            "Condition": {"StringEquals": &ours},
        }),
        json!({
            "Sid": "CreateOwnLoadBalancers",
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            "Resource": "*",
            "Condition": {"StringEquals": tagging_ours},
        }),
        json!({
            "Sid": "TagOwnLoadBalancersAtCreation",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:AddTags",
            "Resource": &lb_resources,
            "Condition": {"StringEquals": {
                "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
                "aws:RequestTag/elbv2.k8s.aws/cluster": cluster,
            }},
        }),
        json!({
            "Sid": "ManageOwnLoadBalancers",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
                "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
            ],
            "Resource": lb_resources,
            "Condition": {"StringEquals": ours},
        }),
        json!({
            "Sid": "ListenersAndRulesOfOwnLoadBalancers",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyRule", "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetRulePriorities",
            ],
            "Resource": [
                elb("loadbalancer/app/*/*"), elb("loadbalancer/net/*/*"),
                elb("listener/app/*/*/*"), elb("listener/net/*/*/*"),
                elb("listener-rule/app/*/*/*/*"), elb("listener-rule/net/*/*/*/*"),
            ],
        }),
        json!({
            "Sid": "WebAclsAndShieldOnOwnLoadBalancers",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:SetWebAcl", "shield:CreateProtection", "shield:DeleteProtection",
                "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
                "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
            ],
            "Resource": "*",
        }),
    ]
}

fn lbc_role(ctx: &Ctx, m: &mut Module) -> Ref {
    irsa_role(
        ctx,
        m,
        "aws_load_balancer_controller",
        &lbc_role_name(ctx),
        ("kube-system", LBC_SA),
        lbc_statements(ctx),
        &[],
    )
}

/// The ALB's certificate: DNS-validated ACM (validation records are an output; the load
/// balancer controller picks the certificate up by host name once it is issued), or the
/// blueprint's existing certificate ARN.
fn certificate(lb: &LoadBalancer, m: &mut Module) {
    let Some(domain) = &lb.certificate.domain else {
        return;
    };
    if lb.certificate.arn.is_some() {
        return;
    }
    let cert = res("aws_acm_certificate", "main");
    m.file("edge").resource(
        &cert,
        json!({
            "domain_name": domain,
            "subject_alternative_names": &lb.certificate.alternative_names,
            "validation_method": "DNS",
            "key_algorithm": "RSA_2048",
            "tags": {"Name": domain},
            "lifecycle": {"create_before_destroy": true},
        }),
    );
    m.file("outputs")
        .output(
            "certificate_arn",
            cert.arn(),
            &format!("ACM certificate of {domain}"),
        )
        .output(
            "certificate_validation_records",
            super::edge::validation_records(&cert),
            "DNS records that validate the ACM certificate (create them in the zone of the domain)",
        );
}

/// The kubernetes/helm connection: the cluster by data source, a short-lived token from the
/// AWS CLI on every run (no long-lived credentials, no expired cached token).
///
/// With a private endpoint the API answers only inside the VPC: `TF_VAR_kube_host` (say
/// `https://127.0.0.1:8443`, the local end of the SSM port forwarding — see
/// `cluster/access.rs`) replaces the address, and the endpoint's certificate is still
/// verified by its own name.
fn connection(ctx: &Ctx) -> Json {
    let c = data("aws_eks_cluster", "main");
    let mut body = json!({
        "host": c.attr("endpoint"),
        "cluster_ca_certificate": interp(&format!("base64decode({})", c.path("certificate_authority[0].data"))),
        "exec": {
            "api_version": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", ctx.cluster_name(), "--region", &ctx.region],
        },
    });
    if private_endpoint(ctx) {
        let endpoint = c.path("endpoint");
        body["host"] = json!(interp(&format!(
            "var.kube_host != \"\" ? var.kube_host : {endpoint}"
        )));
        body["tls_server_name"] = json!(interp(&format!("trimprefix({endpoint}, \"https://\")")));
    }
    body
}

/// The `providers.tf.json` of a root module that works inside the cluster (`platform`,
/// `connections`): versions of `providers` and the state key of `module`, the AWS provider,
/// the cluster by data source and the kubernetes provider connected to it — through
/// `TF_VAR_kube_host` when the endpoint is private.
pub(super) fn cluster_providers(ctx: &Ctx, m: &mut Module, module: &str, providers: &[&str]) {
    m.file("providers")
        .terraform(terraform_block(providers, state::backend(ctx, module)))
        .provider("aws", super::aws_provider(ctx, &ctx.region))
        .provider("kubernetes", connection(ctx))
        .resource(
            &data("aws_eks_cluster", "main"),
            json!({"name": ctx.cluster_name()}),
        );
    if private_endpoint(ctx) {
        m.file("providers").variable(
            "kube_host",
            json!({
                "type": "string",
                "default": "",
                "description": "Address of the Kubernetes API when the private endpoint is reached through a tunnel (the SSM port forwarding's local end, e.g. https://127.0.0.1:8443); empty: the endpoint itself",
            }),
        );
    }
}

/// Whether the cluster's API endpoint is reachable only inside the VPC.
fn private_endpoint(ctx: &Ctx) -> bool {
    ctx.v
        .bp
        .cluster
        .as_ref()
        .is_some_and(|c| !c.endpoint.public())
}

/// The `platform` root module.
pub fn module(ctx: &Ctx) -> Option<Module> {
    if !ctx.is_eks() {
        return None;
    }
    let fargate = ctx.platform == Some(Platform::EksFargate);
    let mut m = Module::new(header(ctx.v));
    let eks = data("aws_eks_cluster", "main");
    let lbc = data("aws_iam_role", "aws_load_balancer_controller");
    cluster_providers(ctx, &mut m, "platform", &["aws", "helm", "kubernetes"]);
    m.file("providers")
        .provider("helm", json!({"kubernetes": connection(ctx)}))
        .resource(&lbc, json!({"name": lbc_role_name(ctx)}))
        // The account, for names derived from it (the load balancer's access-log bucket, the
        // blueprint's buckets in the connections ConfigMaps).
        .resource(&data("aws_caller_identity", "current"), json!({}));

    // Namespaces whose pods' readiness waits on their targets' health: labelled wherever
    // they are created (`k8s::readiness_gate`).
    let gated = k8s::readiness_gate_namespaces(ctx.v, &options(ctx));
    // The AWS Load Balancer Controller first: its webhooks admit Services and Ingresses,
    // and inject the readiness gates into the pods of the namespaces above.
    let (lbc_release, lbc_body) = helm::aws_load_balancer_controller(
        &ctx.cluster_name(),
        &ctx.region,
        &eks.attr("vpc_config[0].vpc_id"),
        &lbc.arn(),
        &common_tags(ctx.v),
    );
    let after_lbc = json!([lbc_release.address()]);
    let mut lbc_body = lbc_body;
    if let Some(attributes) = class_attributes(ctx) {
        // The chart's IngressClass `alb` and its IngressClassParams (created by default),
        // given the attributes that need the account.
        helm::merge_values(
            &mut lbc_body,
            json!({
                "createIngressClassResource": true,
                "ingressClass": ALB_CLASS,
                "ingressClassParams": {"create": true, "spec": {"loadBalancerAttributes": attributes}},
            }),
        );
    }
    // kube-system: nothing to create or own.
    let _ = helm::own_namespace(ctx.v, &mut lbc_body);
    m.file("controllers").resource(&lbc_release, lbc_body);

    if let Some((r, mut body)) = helm::ingress_nginx(ctx.v, nlb_service_annotations(ctx)) {
        // The VPC CNI gives pods node-subnet addresses, like the control plane's ENIs, so no
        // NetworkPolicy can admit the API server to the admission webhook while keeping pods
        // out (CVE-2025-1974): the webhook is off (Ingress objects are then checked when the
        // controller loads them, not at admission).
        helm::merge_values(
            &mut body,
            json!({"controller": {"admissionWebhooks": {"enabled": false}}}),
        );
        ctx.note(
            "ingress-nginx: the admission webhook is off on EKS (pods share the node subnets, so no NetworkPolicy can keep them from it — CVE-2025-1974); a malformed Ingress is reported in the controller's log instead of being refused at apply",
        );
        helm::merge_values(
            &mut body,
            json!({"controller": {"config": nginx_client_address(ctx)}}),
        );
        if !ctx.v.bp.alb_fronts_nginx() {
            ctx.note(
                "ingress-nginx: its Network Load Balancer passes client addresses on with PROXY protocol v2, so rate limits, allow-lists and the access log see the clients' addresses. On an NLB created without it, the two ends change a moment apart (the Load Balancer Controller, the controller's configuration): expect refused requests for that moment",
            );
        }
        // The load balancer targets the controller's pods by IP and keeps sending a deleted
        // pod new connections until its slow deregistration ends: nginx keeps accepting for
        // that long before it quits (`k8s::readiness_gate::PROXY_SHUTDOWN_PAUSE_SECONDS`),
        // behind the chart's own preStop `/wait-shutdown`, and the grace period grows by the
        // pause so the drain after it keeps the chart's budget.
        helm::merge_values(
            &mut body,
            json!({"controller": {
                "extraArgs": {"shutdown-grace-period": PROXY_SHUTDOWN_PAUSE_SECONDS.to_string()},
                "terminationGracePeriodSeconds": PROXY_SHUTDOWN_PAUSE_SECONDS + PROXY_DRAIN_SECONDS,
            }}),
        );
        if ctx.v.bp.alb_fronts_nginx() {
            helm::merge_values(
                &mut body,
                json!({"controller": {"service": {"type": "ClusterIP"}}}),
            );
            if let Some(t) = ctx.v.bp.lb_idle_timeout(ctx.v.provider) {
                let proxy = ctx.v.bp.load_balancer.as_ref().and_then(|l| l.idle_timeout);
                helm::merge_values(
                    &mut body,
                    json!({"controller": {"config": idle_config(t, proxy)}}),
                );
            }
        }
        if fargate {
            // Fargate only drops capabilities, never adds one, so the controller listens on
            // high ports (the Service keeps 80/443; 8443 is its webhook's) and adds nothing.
            // It still keeps NET_BIND_SERVICE, which Fargate pods start with: the image's
            // binaries carry the file capability `cap_net_bind_service=+ep` (dumb-init, the
            // controller, nginx: ingress-nginx `rootfs/Dockerfile`), and the kernel refuses
            // to exec such a file when the capability is outside the bounding set — with
            // `drop: [ALL]` the container dies on "exec /usr/bin/dumb-init: operation not
            // permitted" (kubernetes/ingress-nginx#10002, #11331).
            helm::merge_values(
                &mut body,
                json!({"controller": {
                    "containerPort": {"http": FARGATE_NGINX_HTTP, "https": FARGATE_NGINX_HTTPS},
                    "extraArgs": {
                        "http-port": FARGATE_NGINX_HTTP.to_string(),
                        "https-port": FARGATE_NGINX_HTTPS.to_string(),
                    },
                    "containerSecurityContext": {"capabilities": {"add": [], "drop": FARGATE_NGINX_DROPPED.to_vec()}},
                }}),
            );
        }
        body["depends_on"] = after_lbc.clone();
        if let Some((ns, mut doc)) = helm::own_namespace(ctx.v, &mut body) {
            gate(&gated, &mut doc);
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("controllers").resource(&r, body);
    }
    if let Some((r, mut body)) = helm::envoy_gateway(ctx.v) {
        // After the Load Balancer Controller: the Envoy proxies' Service is an NLB of its
        // (`nlb_service_annotations`), which the in-tree controller must never claim.
        body["depends_on"] = after_lbc.clone();
        if let Some((ns, mut doc)) = helm::own_namespace(ctx.v, &mut body) {
            gate(&gated, &mut doc);
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("gateway").resource(&r, body);
        ctx.note(
            "ingress.gateway: the AWS Load Balancer Controller creates a Network Load Balancer (IP targets) for the Gateway's Envoy proxies once the manifests are applied; point DNS at its address (`kubectl get gateway -A`)",
        );
    }
    if let Some((r, mut body)) = helm::cert_manager(ctx.v) {
        if fargate {
            // The webhook's default port is the kubelet's, which Fargate's VM holds.
            helm::merge_values(&mut body, json!({"webhook": {"securePort": 10260}}));
        }
        // After Envoy Gateway too with the Gateway API (`helm::cert_manager`).
        helm::after(&mut body, &lbc_release);
        if let Some((ns, doc)) = helm::own_namespace(ctx.v, &mut body) {
            m.file("namespaces").resource(&ns, doc);
        }
        m.file("controllers").resource(&r, body);
    }

    if fargate {
        fargate_logging(ctx, &mut m);
    } else {
        storage(ctx, &mut m);
    }
    if ctx.v.bp.alb_fronts_nginx() {
        edge_ingress(ctx, &mut m);
    }
    if let Some(lb) = internal_alb(ctx) {
        ctx.note(format!(
            "internal_routes: the AWS Load Balancer Controller creates the internal ALB `{}` for the `*-internal` Ingresses once the manifests are applied; point the internal routes' hosts at its address (`kubectl get ingress -A`: it resolves to private addresses), e.g. in a Route 53 private hosted zone",
            lb.annotations["alb.ingress.kubernetes.io/load-balancer-name"]
        ));
    }
    if crate::k8s::uses_resource_metrics(ctx.v.bp) {
        // HorizontalPodAutoscalers (the services' and ingress-nginx's own) read the resource
        // metrics API; EKS does not serve it without metrics-server.
        let (r, mut body) = helm::metrics_server(fargate);
        body["depends_on"] = after_lbc.clone();
        // kube-system exists: no namespace to create.
        let _ = helm::own_namespace(ctx.v, &mut body);
        m.file("controllers").resource(&r, body);
    }
    if !fargate && !crate::gpu::pools(ctx.v.provider, ctx.v.catalog, ctx.v.bp).is_empty() {
        // Pods request `nvidia.com/gpu` only where the device plugin advertises it.
        let (r, mut body) = helm::nvidia_device_plugin();
        body["depends_on"] = after_lbc.clone();
        let _ = helm::own_namespace(ctx.v, &mut body);
        m.file("controllers").resource(&r, body);
    }
    if let Some(cluster) = &ctx.v.bp.cluster {
        let version = ctx.v.version(cluster.version.as_deref(), "kubernetes");
        super::cluster_autoscaler::platform(ctx, &mut m, &version, &lbc_release);
    }
    super::keda::platform(ctx, &mut m, &lbc_release);
    super::service_accounts::platform(ctx, &mut m, &gated);
    super::external_secrets::platform(ctx, &mut m, &after_lbc, &gated);
    connections::label_built_in(&mut m, &gated);
    Some(m)
}

/// Label namespace `doc` (a `kubernetes_namespace_v1` body) for the controller's readiness
/// gates when it is one of `gated`.
fn gate(gated: &std::collections::BTreeSet<String>, doc: &mut Json) {
    let name = doc["metadata"]["name"].as_str().unwrap_or_default();
    if gated.contains(name) {
        doc["metadata"]["labels"][k8s::READINESS_GATE_LABEL] = json!("enabled");
    }
}

/// How ingress-nginx learns the client's address, in its ConfigMap (`controller.config`):
/// its `limit-rpm` (`ingress.rate_limit`), address allow-lists and access log count per
/// `$remote_addr`, which nginx's realip module rewrites from what the trusted peer says.
///
/// - Behind the ALB (`load_balancer`), from the X-Forwarded-For the ALB appends
///   (`use-forwarded-headers`). nginx reads it with `real_ip_recursive on`, walking it from
///   the right past the addresses `proxy-real-ip-cidr` trusts: the chart's `0.0.0.0/0`
///   trusts every entry, so nginx kept the leftmost one, which the client writes itself,
///   and counted `limit-rpm`, `whitelist-source-range` and the access log against an
///   address of the client's choosing. The ALB's nodes are in the VPC: trusting it alone
///   leaves the address the ALB appended.
/// - Behind its NLB, from the PROXY protocol v2 header the NLB prepends
///   ([`nlb_service_annotations`]; `use-proxy-protocol`, which sets nginx's
///   `real_ip_header proxy_protocol` and the `proxy_protocol` listen parameter). Both ends
///   or neither: nginx refuses a connection without the header, and reads a header it does
///   not expect as a malformed request. The NLB is in the VPC too, so the header is believed
///   from there only (`set_real_ip_from`, ingress-nginx's `nginx.tmpl`).
fn nginx_client_address(ctx: &Ctx) -> Json {
    let mut config = if ctx.v.bp.alb_fronts_nginx() {
        json!({"use-forwarded-headers": "true"})
    } else {
        json!({"use-proxy-protocol": "true"})
    };
    if let Some(net) = &ctx.v.bp.network {
        config["proxy-real-ip-cidr"] = json!(&net.cidr);
    }
    config
}

/// Annotations on the Service in front of the in-cluster proxies (ingress-nginx's, or the
/// Envoy proxies' of the Gateway): an NLB with IP targets through the Load Balancer
/// Controller (`type: external`, so the in-tree controller leaves the Service alone; IP
/// targets because Fargate has no node ports), unless the ALB fronts ingress-nginx.
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/nlb/>
fn nlb_service_annotations(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    if ctx.v.bp.alb_fronts_nginx() {
        return a;
    }
    let internal = ctx.v.bp.load_balancer.as_ref().is_some_and(|l| l.internal);
    let p = "service.beta.kubernetes.io/aws-load-balancer";
    a.insert(format!("{p}-type"), "external".into());
    a.insert(format!("{p}-nlb-target-type"), "ip".into());
    a.insert(
        format!("{p}-scheme"),
        if internal {
            "internal"
        } else {
            "internet-facing"
        }
        .into(),
    );
    if let Some(subnets) = lb_subnets(ctx, internal) {
        a.insert(format!("{p}-subnets"), subnets);
    }
    if let Some(name) = ctx
        .v
        .bp
        .kubernetes
        .as_ref()
        .and_then(|k| k.ingress_controller.as_ref())
        .and_then(|c| c.load_balancer_name.clone())
    {
        a.insert(format!("{p}-name"), name);
    }
    // The client's address. An NLB's TCP target groups of IP targets do not preserve it —
    // "IP type target groups (TCP, TLS): Disabled", "the source IP address is the private IP
    // address of the Network Load Balancer"
    // (docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html)
    // — so every per-client setting of the proxy (ingress-nginx's `limit-rpm` and
    // allow-lists, the access logs, the X-Forwarded-For the services get) saw a handful of
    // NLB addresses: one rate-limit budget for everyone, an office allow-list admitting no
    // one. PROXY protocol v2 on every target group ("*", the controller's
    // `aws-load-balancer-proxy-protocol`) hands the address over instead, read by the proxy
    // at the other end (`nginx_client_address`, the Gateway's ClientTrafficPolicy).
    // Preserving the client IP (`preserve_client_ip.enabled=true`) was the alternative; it
    // was not taken: the targets' security group and the proxies' NetworkPolicies would
    // have to admit the whole internet rather than the VPC, and with it on a connection
    // from a target routed back to that same target times out (source and destination
    // are then the same address: the NLB troubleshooting guide, "loopback-timeout",
    // docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-troubleshooting.html).
    // In-cluster clients
    // of the public host (cert-manager's HTTP-01 self-check) still pass through the NLB,
    // which adds the header for them too: the controller reports the NLB by its DNS name
    // (`status.loadBalancer.ingress[].hostname`), which kube-proxy never short-cuts to the
    // pods, as it does an address.
    // The target groups' health checks keep passing with it: with IP targets the controller
    // checks TCP on the traffic port (CreateTargetGroup: TCP and `traffic-port` are the NLB
    // defaults), a handshake a proxy reading PROXY protocol completes; and "the proxy
    // protocol header is also included in health check connections" (without the client's
    // address — a LOCAL header, which nginx and Envoy accept; NLB "Edit target group
    // attributes", proxy protocol). ingress-nginx may log "broken header" for the checks
    // that close without a byte: noise, not an unhealthy target.
    a.insert(format!("{p}-proxy-protocol"), "*".into());
    // The NLB drops a TCP flow idle for 350 s; a routed service holding connections open
    // longer (`idle_timeout`, at most 6000 by `semantic::long_lived`) raises the TCP
    // listeners' `tcp.idle_timeout.seconds` (60–6000), which the controller takes per
    // listener from `aws-load-balancer-listener-attributes.<protocol>-<port>`.
    // <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html>
    if let Some(t) = ctx
        .v
        .bp
        .edge_idle_timeout(ctx.v.provider)
        .filter(|&t| t > NLB_TCP_IDLE)
    {
        for port in [80, 443] {
            a.insert(
                format!("{p}-listener-attributes.TCP-{port}"),
                format!("tcp.idle_timeout.seconds={t}"),
            );
        }
    }
    a
}

/// The NLB's idle timeout of a TCP flow unless a listener attribute changes it.
const NLB_TCP_IDLE: u32 = 350;

/// The StorageClass of in-cluster databases (`reclaimPolicy: Retain`).
const RETAIN_CLASS: &str = "gp3-retain";

/// Whether the platform module creates the gp3 classes (EKS with the EBS CSI driver).
fn ebs_classes(ctx: &Ctx) -> bool {
    ctx.platform == Some(Platform::Eks)
        && ctx
            .v
            .bp
            .cluster
            .as_ref()
            .is_some_and(|c| c.addons.iter().any(|a| a == "aws-ebs-csi-driver"))
}

/// The default StorageClass: gp3 through the EBS CSI driver, encrypted with the cluster's EBS
/// key, bound where the pod lands. Clusters created before Kubernetes 1.30 mark the in-tree
/// `gp2` class default; that mark is removed so there is one default.
fn storage(ctx: &Ctx, m: &mut Module) {
    let Some(c) = &ctx.v.bp.cluster else { return };
    if !c.addons.iter().any(|a| a == "aws-ebs-csi-driver") {
        return;
    }
    let key = data("aws_kms_alias", "ebs");
    let f = m.file("storage");
    f.resource(&key, json!({"name": format!("alias/{}-ebs", ctx.prefix)}))
        .resource(
            &res("kubernetes_storage_class_v1", "gp3"),
            json!({
                "metadata": {
                    "name": "gp3",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "storage_provisioner": "ebs.csi.aws.com",
                "parameters": {"type": "gp3", "encrypted": "true", "kmsKeyId": key.attr("target_key_arn")},
                "volume_binding_mode": "WaitForFirstConsumer",
                "reclaim_policy": "Delete",
                "allow_volume_expansion": true,
            }),
        )
        // In-cluster databases' class: the same volumes, kept when a claim is deleted.
        .resource(
            &res("kubernetes_storage_class_v1", "gp3_retain"),
            json!({
                "metadata": {"name": RETAIN_CLASS},
                "storage_provisioner": "ebs.csi.aws.com",
                "parameters": {"type": "gp3", "encrypted": "true", "kmsKeyId": key.attr("target_key_arn")},
                "volume_binding_mode": "WaitForFirstConsumer",
                "reclaim_policy": "Retain",
                "allow_volume_expansion": true,
            }),
        );
    let version = c
        .version
        .as_deref()
        .or_else(|| ctx.v.catalog.default_version("kubernetes"))
        .unwrap_or_default();
    if minor(version).is_some_and(|v| v < 30) {
        f.resource(
            &res("kubernetes_annotations", "gp2_not_default"),
            json!({
                "api_version": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": "gp2"},
                "annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
                "force": true,
            }),
        );
    }
}

/// The minor version of `1.28` / `1.28.3`.
fn minor(version: &str) -> Option<u32> {
    version.split('.').nth(1)?.parse().ok()
}

/// Fargate's built-in Fluent Bit: enabled by the `aws-observability` namespace, configured by
/// its `aws-logging` ConfigMap, shipping to the log group `fargate.rs` creates.
fn fargate_logging(ctx: &Ctx, m: &mut Module) {
    let ns = res("kubernetes_namespace_v1", "aws_observability");
    let output = format!(
        "[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    region {}\n    log_group_name {}\n    log_stream_prefix fargate-\n    auto_create_group false\n",
        ctx.region,
        super::cluster::fargate::log_group_name(ctx),
    );
    let filters = "[FILTER]\n    Name kubernetes\n    Match kube.*\n    Merge_Log On\n    Keep_Log Off\n    Buffer_Size 0\n    Kube_Meta_Cache_TTL 300s\n";
    m.file("logging")
        .resource(
            &ns,
            json!({"metadata": {"name": "aws-observability", "labels": {"aws-observability": "enabled"}}}),
        )
        .resource(
            &res("kubernetes_config_map_v1", "aws_logging"),
            json!({
                "metadata": {"name": "aws-logging", "namespace": ns.attr("metadata[0].name")},
                "data": {
                    "flb_log_cw": "false",
                    "filters.conf": filters,
                    "output.conf": output,
                },
            }),
        );
}

/// The ALB Ingress in front of ingress-nginx: WAF, TLS (ACM, found by host name), 80→443,
/// forwarding over HTTPS to the controller's pods, health-checked on `/healthz` of their
/// HTTPS port.
fn edge_ingress(ctx: &Ctx, m: &mut Module) {
    let Some(lb) = &ctx.v.bp.load_balancer else {
        return;
    };
    let hosts: Vec<String> = ctx
        .v
        .bp
        .ingress
        .as_ref()
        .map(|i| i.hosts.clone())
        .unwrap_or_default();
    // Plain text, and the WAF's ARN by reference below.
    let mut a: BTreeMap<String, Expr> = alb_annotations(ctx, lb)
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    a.insert(
        "alb.ingress.kubernetes.io/backend-protocol".into(),
        "HTTPS".into(),
    );
    // Health-checked where the traffic goes: ingress-nginx's catch-all server answers
    // `/healthz` with 200 on its HTTP and HTTPS ports (the ALB's check carries no known
    // host). Not on the controller's own 10254: the ingress namespace's NetworkPolicies,
    // which the VPC CNI enforces, admit the ALB's addresses on the proxy ports only (10254
    // is open to the monitoring namespace), so every target would be unhealthy and the ALB
    // would fail open.
    a.insert(
        "alb.ingress.kubernetes.io/healthcheck-protocol".into(),
        "HTTPS".into(),
    );
    a.insert(
        "alb.ingress.kubernetes.io/healthcheck-port".into(),
        "traffic-port".into(),
    );
    a.insert(
        "alb.ingress.kubernetes.io/healthcheck-path".into(),
        "/healthz".into(),
    );
    // The blueprint's check times the controller's targets; its path and matcher would
    // name the services' answers, which ingress-nginx's `/healthz` stands for here.
    if let Some(h) = &lb.health_check {
        // ECS's defaults where the blueprint gives none (the figures semantic/ecs.rs judged;
        // the controller's own interval default is 15 s).
        let timing = [
            ("healthcheck-interval-seconds", h.interval.unwrap_or(30)),
            ("healthcheck-timeout-seconds", h.timeout.unwrap_or(5)),
            ("healthy-threshold-count", h.healthy_threshold.unwrap_or(2)),
            (
                "unhealthy-threshold-count",
                h.unhealthy_threshold.unwrap_or(3),
            ),
        ];
        for (key, n) in timing {
            a.insert(
                format!("alb.ingress.kubernetes.io/{key}"),
                n.to_string().into(),
            );
        }
        ctx.note(format!(
            "load_balancer.health_check: behind ingress-nginx the ALB checks the controller's own `/healthz` (HTTPS, 200) in place of `{}`{}; its interval, timeout and thresholds apply, and the services are checked by their probes",
            h.path,
            h.matcher.as_deref().map(|m| format!(" answering {m}")).unwrap_or_default()
        ));
    }
    if let Some(d) = lb.deregistration_delay {
        a.insert(
            "alb.ingress.kubernetes.io/target-group-attributes".into(),
            format!("deregistration_delay.timeout_seconds={d}").into(),
        );
    }
    a.remove("alb.ingress.kubernetes.io/wafv2-acl-name");
    let f = m.file("edge");
    if lb.waf.is_some() {
        let acl = data("aws_wafv2_web_acl", "main");
        f.resource(
            &acl,
            json!({"name": web_acl_name(ctx), "scope": "REGIONAL"}),
        );
        a.insert("alb.ingress.kubernetes.io/wafv2-acl-arn".into(), acl.arn());
    }
    let ns = crate::naming::ingress_nginx_namespace(ctx.v);
    let backend = json!({"service": {"name": "ingress-nginx-controller", "port": {"number": 443}}});
    let rules: Vec<Json> = if hosts.is_empty() {
        vec![json!({"http": {"path": [{"path": "/", "path_type": "Prefix", "backend": backend}]}})]
    } else {
        hosts
            .iter()
            .map(|h| json!({"host": h, "http": {"path": [{"path": "/", "path_type": "Prefix", "backend": &backend}]}}))
            .collect()
    };
    let edge = res("kubernetes_ingress_v1", "edge");
    let mut depends = vec![res("helm_release", "aws_load_balancer_controller").address()];
    depends.push(res("helm_release", "ingress_nginx").address());
    if let Some(wait) = certificate_issued(lb, f) {
        depends.push(wait.address());
    }
    f.resource(
        &edge,
        json!({
            "metadata": {"name": "edge", "namespace": ns, "annotations": a},
            "spec": {
                "ingress_class_name": "alb",
                "rule": rules,
                "tls": if hosts.is_empty() { json!([]) } else { json!([{"hosts": hosts}]) },
            },
            "wait_for_load_balancer": true,
            "depends_on": depends,
        }),
    );
    m.file("outputs").output(
        "load_balancer_hostname",
        edge.attr("status[0].load_balancer[0].ingress[0].hostname"),
        "DNS name of the ALB (point the hosts' records at it)",
    );
    super::observability::edge_alarms(ctx, m, &alb_name(ctx, lb), &edge);
}

/// With the certificate `infra` creates (`certificate.domain`, no ARN): a wait for ACM to
/// issue it, which the edge Ingress follows.
///
/// The controller discovers only *issued* certificates for the Ingress's hosts
/// (kubernetes-sigs/aws-load-balancer-controller#3183), and ACM issues one only once its DNS
/// validation records exist
/// (<https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html>). Without this
/// wait, `platform` applied before the records exist sat in `wait_for_load_balancer` until
/// the Ingress's create timeout, said nothing of why, and left the Ingress tainted.
/// `aws_acm_certificate_validation` without record names only waits (up to 75 minutes, as
/// the ECS listener's does) — time to create the records of infra's output
/// `certificate_validation_records`. The certificate is found by its domain among those
/// still pending validation too (`most_recent`: a replacement `infra` just created).
fn certificate_issued(lb: &LoadBalancer, f: &mut crate::terraform::File) -> Option<Ref> {
    let domain = lb.certificate.domain.as_ref()?;
    if lb.certificate.arn.is_some() {
        return None;
    }
    let cert = data("aws_acm_certificate", "main");
    let wait = res("aws_acm_certificate_validation", "main");
    f.resource(
        &cert,
        json!({
            "domain": domain,
            "statuses": ["PENDING_VALIDATION", "ISSUED"],
            "types": ["AMAZON_ISSUED"],
            "most_recent": true,
        }),
    )
    .resource(&wait, json!({"certificate_arn": cert.arn()}));
    Some(wait)
}

/// The IngressClass of the controller's ALBs (the chart's default name).
const ALB_CLASS: &str = "alb";

/// Load balancer attributes of every ALB of class `alb`, set on its IngressClassParams (the
/// Load Balancer Controller's values, in `platform`) rather than on each Ingress: the access
/// logs name the log bucket `buckets.rs` creates with the log-delivery policy, whose derived
/// name ends in the account id — known to Terraform (`aws_caller_identity`), not to a
/// manifest. The controller merges these with an Ingress's `load-balancer-attributes`, the
/// class's winning key by key.
fn class_attributes(ctx: &Ctx) -> Option<Json> {
    let (_, bucket) = super::buckets::access_logs(ctx)?;
    Some(json!([
        {"key": "access_logs.s3.enabled", "value": "true"},
        {"key": "access_logs.s3.bucket", "value": bucket},
        {"key": "access_logs.s3.prefix", "value": super::buckets::LB_LOG_PREFIX},
    ]))
}

/// The ALB's name (the controller's `load-balancer-name`). ELB: at most 32 characters, not
/// ending in a hyphen (as edge.rs names the ECS one).
fn alb_name(ctx: &Ctx, lb: &LoadBalancer) -> String {
    let name = lb.name.clone().unwrap_or_else(|| ctx.prefix.clone());
    let name: String = name.chars().take(32).collect();
    let name = name.trim_end_matches('-');
    // Only a derived name is made one ELB takes; the blueprint's own is checked.
    if lb.name.is_some() {
        name.to_string()
    } else {
        crate::naming::elb_name(name)
    }
}

/// The subnets of a load balancer in an existing VPC, for the controller's `subnets`
/// annotations (comma-separated ids): the public ones for an internet-facing one, the private
/// ones for an internal one. Without them the controller discovers subnets by their role tags
/// (`kubernetes.io/role/elb`, `kubernetes.io/role/internal-elb`) anywhere in the VPC — in a
/// shared VPC other teams' subnets, or none if the network team tagged nothing — and tagging
/// subnets infragen does not own (`aws_ec2_tag`) would let one environment's destroy untag
/// another's. Naming them needs no tag (kubernetes-sigs.github.io/aws-load-balancer-controller
/// deploy/subnet_discovery; guide/ingress/annotations `alb.ingress.kubernetes.io/subnets`,
/// guide/service/annotations `service.beta.kubernetes.io/aws-load-balancer-subnets`).
fn lb_subnets(ctx: &Ctx, internal: bool) -> Option<String> {
    let net = ctx.v.bp.network.as_ref().filter(|n| n.existing.is_some())?;
    let ids = if internal {
        &net.subnets.private
    } else {
        &net.subnets.public
    };
    (!ids.is_empty()).then(|| ids.join(","))
}

/// The controller's annotations for an internet-facing (or internal) ALB with IP targets.
/// The access logs are the class's ([`class_attributes`]).
fn alb_annotations(ctx: &Ctx, lb: &LoadBalancer) -> BTreeMap<String, String> {
    let p = "alb.ingress.kubernetes.io";
    let mut a = BTreeMap::new();
    a.insert(format!("{p}/load-balancer-name"), alb_name(ctx, lb));
    a.insert(
        format!("{p}/scheme"),
        if lb.internal {
            "internal"
        } else {
            "internet-facing"
        }
        .into(),
    );
    a.insert(format!("{p}/target-type"), "ip".into());
    if let Some(subnets) = lb_subnets(ctx, lb.internal) {
        a.insert(format!("{p}/subnets"), subnets);
    }
    a.insert(
        format!("{p}/listen-ports"),
        r#"[{"HTTP": 80}, {"HTTPS": 443}]"#.into(),
    );
    if lb.redirect_http {
        a.insert(format!("{p}/ssl-redirect"), "443".into());
    }
    a.insert(
        format!("{p}/ssl-policy"),
        lb.ssl_policy
            .as_deref()
            .unwrap_or(DEFAULT_SSL_POLICY)
            .into(),
    );
    if let Some(arn) = &lb.certificate.arn {
        a.insert(format!("{p}/certificate-arn"), arn.clone());
    }
    let mut attrs = vec![
        "routing.http.drop_invalid_header_fields.enabled=true".to_string(),
        "routing.http.desync_mitigation_mode=defensive".to_string(),
    ];
    // `lb` is the blueprint's: the services' `idle_timeout` raises it too.
    if let Some(t) = lb
        .idle_timeout
        .max(ctx.v.bp.edge_idle_timeout(ctx.v.provider))
    {
        attrs.push(format!("idle_timeout.timeout_seconds={t}"));
    }
    if lb.deletion_protection() {
        attrs.push("deletion_protection.enabled=true".to_string());
    }
    a.insert(format!("{p}/load-balancer-attributes"), attrs.join(","));
    if lb.waf.is_some() {
        a.insert(format!("{p}/wafv2-acl-name"), web_acl_name(ctx));
    }
    a
}

/// The internal ALB of `services[].internal_routes` on an internet-facing stack: an Ingress
/// of class `alb` per namespace (`k8s::internal_ingress`) whose controller annotations make
/// it `internal` (only private addresses; see below for its subnets), admitting the VPC's CIDR
/// and `load_balancer.internal_cidrs` only (`inbound-cidrs`, which the controller writes
/// into the ALB's security group), with IP targets: the services' pods directly, as an
/// Ingress of class `alb` always has here. No second in-cluster proxy: the public edge's
/// ingress-nginx never carries these requests, and TLS ends at the ALB with the stack's ACM
/// certificate (`certificate.arn`, else discovered by the routes' hosts), as on ECS: ACM
/// validates by DNS in the domain's public zone whatever the load balancer's scheme, where
/// cert-manager's HTTP-01 challenge could never reach an internal load balancer. The WAF
/// stays on the public ALB, as on ECS; the access logs are the class's (IngressClassParams).
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#scheme>
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#inbound-cidrs>
/// <https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html>
fn internal_alb(ctx: &Ctx) -> Option<k8s::InternalLoadBalancer> {
    let lb = ctx.v.bp.load_balancer.as_ref().filter(|l| !l.internal)?;
    let net = ctx.v.bp.network.as_ref()?;
    if !ctx.is_eks()
        || !ctx
            .v
            .bp
            .services
            .iter()
            .any(|s| s.internal_routes && !s.routes.is_empty())
    {
        return None;
    }
    let p = "alb.ingress.kubernetes.io";
    let mut a = alb_annotations(ctx, lb);
    // ELB names are unique per region and account, and at most 32 characters.
    a.insert(
        format!("{p}/load-balancer-name"),
        crate::naming::elb_name(&crate::naming::fit(
            &format!("{}-internal", alb_name(ctx, lb)),
            32,
        )),
    );
    a.insert(format!("{p}/scheme"), "internal".into());
    a.remove(&format!("{p}/wafv2-acl-name"));
    let mut cidrs = vec![net.cidr.clone()];
    cidrs.extend(
        lb.internal_cidrs
            .iter()
            .filter(|c| **c != net.cidr)
            .cloned(),
    );
    a.insert(format!("{p}/inbound-cidrs"), cidrs.join(","));
    // Where its nodes are, which the services' NetworkPolicies admit by address. The pods
    // take addresses of the private subnets (the VPC CNI; node groups and Fargate profiles
    // are there), so an ALB there could only be admitted together with every pod of the
    // cluster. An internal ALB may be in any subnets of its VPC — its nodes get private
    // addresses only, whatever the subnet's route to the internet ("Internal load
    // balancers", Elastic Load Balancing:
    // <https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html#load-balancer-scheme>)
    // — so it goes in the public subnets, named by their `Name` tags ("both subnetID or
    // subnetName (Name tag on subnets) can be used", the controller's `subnets` annotation;
    // it would otherwise discover the `internal-elb`-tagged private ones), and the policies
    // admit those ranges, which hold no pod. An existing VPC's subnets are ids whose
    // ranges are unknown at synth: its public ones (else private) and the VPC's range.
    a.remove(&format!("{p}/subnets"));
    let sources = if net.existing.is_some() {
        if let Some(subnets) = lb_subnets(ctx, false).or_else(|| lb_subnets(ctx, true)) {
            a.insert(format!("{p}/subnets"), subnets);
        }
        vec![net.cidr.clone()]
    } else if !net.subnets.public.is_empty() {
        let names = super::network::subnet_tag_names(ctx, net, "public");
        a.insert(format!("{p}/subnets"), names.join(","));
        net.subnets.public.clone()
    } else {
        net.subnets.private.clone()
    };
    Some(k8s::InternalLoadBalancer {
        class: ALB_CLASS.into(),
        annotations: a,
        sources,
    })
}

/// The manifest generator's options on EKS.
pub fn options(ctx: &Ctx) -> k8s::Options {
    let class = ingress_class(ctx);
    let mut opts = k8s::Options {
        ingress_class: class.map(|c| {
            match c {
                IngressClass::Nginx => "nginx",
                IngressClass::Alb => "alb",
            }
            .to_string()
        }),
        external_service_accounts: super::service_accounts::owned(ctx),
        storage_class: (ctx.platform == Some(Platform::Eks)).then(|| "gp3".to_string()),
        network_policy_enforced: ctx.platform == Some(Platform::Eks),
        node_pool_label: (ctx.platform == Some(Platform::Eks))
            .then(|| super::cluster::nodes::POOL_LABEL.to_string()),
        managed: Some(crate::wiring::Flavor::Aws),
        external_secrets: true,
        aws_region: Some(ctx.region.clone()),
        // On Fargate the controller listens on high ports (see `platform`).
        ingress_controller_ports: if ctx.platform == Some(Platform::EksFargate) {
            vec![FARGATE_NGINX_HTTP, FARGATE_NGINX_HTTPS]
        } else {
            Vec::new()
        },
        platform_namespaces: helm::platform_namespaces(ctx.v),
        // Envoy Gateway puts them on the Service of the Gateway's proxies.
        gateway_service_annotations: if helm::gateway(ctx.v).is_some() {
            nlb_service_annotations(ctx)
        } else {
            BTreeMap::new()
        },
        database_storage_class: ebs_classes(ctx).then(|| RETAIN_CLASS.to_string()),
        internal_load_balancer: internal_alb(ctx),
        // The controller `platform` installs registers every pod behind its load balancers
        // as an IP target (`alb_annotations`, `nlb_service_annotations`) and gates their
        // readiness on target health (`k8s::readiness_gate`).
        pod_readiness_gates: true,
        ..Default::default()
    };
    // The Envoy proxies read PROXY protocol where their NLB sends it
    // (`nlb_service_annotations`; always beside a Gateway, as `load_balancer` is refused
    // with it on EKS).
    opts.gateway_proxy_protocol = opts
        .gateway_service_annotations
        .get("service.beta.kubernetes.io/aws-load-balancer-proxy-protocol")
        .is_some_and(|v| v == "*");
    if class == Some(IngressClass::Alb)
        && let Some(lb) = &ctx.v.bp.load_balancer
    {
        opts.ingress_annotations = alb_annotations(ctx, lb);
        // The ALB targets pod IPs from its nodes in the subnets the controller discovers
        // (tagged `kubernetes.io/role/elb`: public; `internal-elb`: private), outside the
        // cluster, so no namespace selector admits it: the routed services admit those
        // subnets, or the VPC CNI drops every request and health check.
        if let Some(n) = &ctx.v.bp.network {
            // An existing VPC's subnets are ids, their ranges unknown at synth: the VPC's.
            opts.load_balancer_sources = if n.existing.is_some() {
                vec![n.cidr.clone()]
            } else if lb.internal {
                n.subnets.private.clone()
            } else {
                n.subnets.public.clone()
            };
        }
    }
    let owned = connections::owned_namespaces(ctx.v, &opts);
    opts.platform_namespaces.extend(owned);
    opts.platform_namespaces
        .extend(super::service_accounts::namespaces(ctx));
    opts
}

/// The manifests under `k8s/`, for this platform, and `preconditions.json`.
pub fn manifests(ctx: &Ctx, out: &mut Output) {
    let opts = options(ctx);
    let secrets = k8s::manifests_and_secrets(ctx.v, &opts).add_to(out);
    for n in k8s::notes(ctx.v, &opts) {
        ctx.note(n);
    }
    let creds = k8s::credential_secrets(ctx.v, &opts);
    let plans = super::external_secrets::plan(ctx);
    let mut made: Vec<String> = plans
        .iter()
        // A workload that only pulls with a registry login has no `-connections` objects.
        .filter(|p| !p.entries.is_empty() || !p.endpoints.is_empty())
        .map(|p| {
            format!(
                "{}/{}",
                p.namespace,
                k8s::connect::connections_name(&p.service)
            )
        })
        .collect();
    // The image pull Secrets the operator renders (`image_credentials`).
    made.extend(
        super::external_secrets::pull_secrets(&plans)
            .into_keys()
            .map(|(ns, secret)| format!("{ns}/{}", k8s::secret_name(ctx.v.bp, &secret))),
    );
    let made = connections::made(&creds, &made);
    let mut pre = connections::secret_preconditions(ctx.v, &secrets, &made);
    pre.extend(super::connect::secret_values(ctx));
    pre.extend(super::edge::preconditions(ctx));
    pre.extend(super::network::preconditions(ctx));
    pre.extend(crate::backend::vpa::preconditions(ctx.v));
    connections::finish_preconditions(out, pre);
}
