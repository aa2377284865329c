//! The blueprint as written: serde types with `deny_unknown_fields`, defaults, and docs that
//! become the JSON Schema editors use for completion (`infragen schema`).
//!
//! Sizes and versions stay strings here; the catalogs in `providers/` and the checks in
//! `crate::semantic` give them meaning per provider. Maintenance and backup windows are
//! parsed here, into [`super::windows`]' types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::windows::{DailyWindow, WeeklyWindow};

fn yes() -> bool {
    true
}

/// One company's infrastructure, provider-neutral where it can be.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// Short name of the system (lower-case letters, digits and `-`); prefixes resource names.
    pub name: String,
    /// What the system is, for readers of the blueprint; `extra:` templates can read it as `blueprint.description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags/labels put on every resource that takes them (cost allocation, ownership). On AWS,
    /// keys of up to 128 and values of up to 256 letters, digits, spaces and `_ . : / = + - @`
    /// (no commas), no `aws:` prefix, no two keys differing only in case.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Provider-specific settings, one section per provider.
    #[serde(default)]
    pub providers: Providers,
    /// Where Terraform keeps its state.
    #[serde(default)]
    pub state: Option<State>,
    /// The VPC: address range, zones, subnet tiers, NAT and flow logs.
    #[serde(default)]
    pub network: Option<Network>,
    /// The compute platform the services run on (EKS, EKS on Fargate, ECS Fargate, DOKS, an
    /// existing cluster).
    #[serde(default)]
    pub cluster: Option<Cluster>,
    /// Groups of worker nodes (EKS managed node groups, DOKS node pools).
    #[serde(default)]
    pub node_pools: Vec<NodePool>,
    /// EKS Fargate profiles: which pods run on Fargate. At most 10 per cluster, counting the
    /// one infragen adds for namespace `external-secrets` (the External Secrets Operator)
    /// unless a profile here selects it.
    #[serde(default)]
    pub fargate_profiles: Vec<FargateProfile>,
    /// Relational and document databases, managed by the cloud or run in the cluster.
    #[serde(default)]
    pub databases: Vec<Database>,
    /// In-memory caches (ElastiCache on AWS, managed or in-cluster Redis/Valkey elsewhere).
    #[serde(default)]
    pub caches: Vec<Cache>,
    /// Message brokers (Amazon MQ for RabbitMQ, or in-cluster RabbitMQ).
    #[serde(default)]
    pub queues: Vec<Queue>,
    /// Key-value tables (DynamoDB).
    #[serde(default)]
    pub tables: Vec<Table>,
    /// The cloud load balancer in front of the services (ALB on AWS).
    #[serde(default)]
    pub load_balancer: Option<LoadBalancer>,
    /// The Kubernetes Ingress that routes hosts and paths to services.
    #[serde(default)]
    pub ingress: Option<Ingress>,
    /// The container registry (ECR repositories, DigitalOcean Container Registry).
    #[serde(default)]
    pub registry: Option<Registry>,
    /// Secrets by reference: names and keys, never values.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// The workloads: containers with their ports, resources, scaling, routes and the data services
    /// they use.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Scheduled jobs: containers run to completion on a cron schedule (a CronJob on
    /// Kubernetes, an EventBridge Scheduler schedule running an ECS task on ECS), hardened and
    /// wired to what they `use` like services.
    #[serde(default)]
    pub jobs: Vec<super::job::Job>,
    /// Kubernetes platform objects: namespaces, RBAC, network policies, issuers, controllers.
    #[serde(default)]
    pub kubernetes: Option<KubernetesPlatform>,
    /// Log retention, alarms and where alerts go.
    #[serde(default)]
    pub observability: Option<Observability>,
    /// Object storage buckets (S3 on AWS, Spaces on DigitalOcean): private, versioned,
    /// encrypted; a workload that `uses` one gets its endpoint and access.
    #[serde(default)]
    pub buckets: Vec<Bucket>,
    /// Escape hatches: RFC 7396 merge patches onto generated Terraform resources
    /// (`resource: <type>.<name>`) and Kubernetes objects (`manifest: Kind/namespace/name`),
    /// applied after lowering in this order and checked like the rest of the output.
    #[serde(default)]
    pub overrides: Vec<super::escape::Override>,
    /// Escape hatches: extra Terraform files and manifests rendered from minijinja templates
    /// beside the blueprint (context: `blueprint`, `env`, `provider`, `ref(component, attribute)`).
    #[serde(default)]
    pub extra: super::escape::Extra,
    /// Per-environment overlays onto everything above: maps deep-merge, lists of named items
    /// merge by `name` (`$patch: delete` removes one), scalars replace, `null` removes.
    /// `{env}` in any string becomes the environment's name. An environment may hold
    /// `per_provider` (its provider parts, applied after it).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, serde_json::Value>>")]
    pub environments: BTreeMap<String, serde_json::Value>,
    /// Per-provider overlays, merged like `environments` for the `--provider` being
    /// synthesized only: base, then `per_provider.<provider>`, then `environments.<env>`, then
    /// `environments.<env>.per_provider.<provider>` (most specific last). Lets one
    /// environment name mean the same environment on every provider.
    #[serde(default)]
    pub per_provider: PerProvider,
}

/// One overlay of the blueprint per provider, keyed by the names `--provider` takes; also
/// allowed inside an environment (`environments.<env>.per_provider`). An overlay may not hold
/// `per_provider` or `environments`. Every provider's overlays are checked whichever provider
/// is synthesized.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerProvider {
    /// Overlay applied for `--provider aws`.
    #[serde(default)]
    pub aws: Option<serde_json::Map<String, serde_json::Value>>,
    /// Overlay applied for `--provider digitalocean`.
    #[serde(default)]
    pub digitalocean: Option<serde_json::Map<String, serde_json::Value>>,
    /// Overlay applied for `--provider kubernetes`.
    #[serde(default)]
    pub kubernetes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Providers {
    /// AWS settings: region, account, cluster administrators.
    #[serde(default)]
    pub aws: Option<AwsSettings>,
    /// DigitalOcean settings: region, Spaces region, project.
    #[serde(default)]
    pub digitalocean: Option<DigitalOceanSettings>,
    /// Settings for an existing cluster: context, StorageClass, pod network.
    #[serde(default)]
    pub kubernetes: Option<KubernetesSettings>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    /// e.g. `us-east-1`.
    pub region: String,
    /// IAM principals (roles/users) given cluster-admin through EKS access entries.
    #[serde(default)]
    pub admin_principal_arns: Vec<String>,
    /// The IAM role CI applies the `platform` module and the manifests with; it gets an EKS
    /// access entry (cluster admin) like `admin_principal_arns`.
    #[serde(default)]
    pub ci_role_arn: Option<String>,
    /// The 12-digit account the blueprint deploys to (set per environment for an account
    /// per environment). Terraform then refuses any other account in every module,
    /// `bootstrap` included (`allowed_account_ids`), and names derived from the account
    /// (buckets) are written as text instead of read from `aws_caller_identity`. Optional on
    /// EKS too: what the manifests need the account for is written by Terraform. The
    /// credentials are the shell's (a profile, a CI role), never the blueprint's: see
    /// docs/brownfield.md.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The image of the container infragen adds to an ECS task to prepare its volumes
    /// (writable paths, RDS CA files) before the others start: default
    /// `public.ecr.aws/docker/library/busybox:1.37.0`. It runs `sh -c` with `chmod`,
    /// `printf` and a redirect, so it must be BusyBox (or another image with a POSIX `sh` and
    /// those tools), pinned to a tag or digest. Set it to a copy in the stack's own ECR —
    /// e.g. `<account>.dkr.ecr.<region>.amazonaws.com/<registry>/busybox:1.37.0` in a
    /// repository of `registry` — when the tasks cannot reach ECR Public (`network.nat:
    /// none`, docs/blueprint.md "VPC endpoints").
    #[serde(default)]
    pub setup_image: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitalOceanSettings {
    /// e.g. `nyc1`.
    pub region: String,
    /// Spaces region for the state bucket and the `buckets` (Spaces is not offered in every
    /// region): one of `ams3`, `atl1`, `blr1`, `fra1`, `lon1`, `nyc3`, `sfo2`, `sfo3`, `sgp1`,
    /// `syd1`, `tor1`. Default: `region`, or `nyc3` for `nyc1`/`nyc2`.
    #[serde(default)]
    pub spaces_region: Option<String>,
    /// DigitalOcean project that groups the resources.
    #[serde(default)]
    pub project: Option<String>,
    /// The DOKS cluster's pod network (`cluster_subnet`), e.g. `172.20.0.0/17`, given with
    /// `service_subnet`: the cluster is then VPC-native. Default: none, DigitalOcean's legacy
    /// overlay network (docs/output.md says what VPC-native changes). Fixed when the cluster
    /// is created.
    #[serde(default)]
    pub cluster_subnet: Option<String>,
    /// The DOKS cluster's Service network (`service_subnet`), e.g. `172.20.128.0/20`, given
    /// with `cluster_subnet`.
    #[serde(default)]
    pub service_subnet: Option<String>,
    /// A fixed outbound address for the cluster: `single` creates a VPC NAT gateway in the
    /// stack's VPC, turns on the DOKS routing agent and routes the
    /// nodes' internet traffic through the gateway, whose public address `infra` outputs as
    /// `nat_public_ips` (as on AWS). Default `none`: nodes send from their own public
    /// addresses, which change as nodes are replaced. `per_zone` is AWS's (a DigitalOcean
    /// VPC has no zones). Needs `network` without `existing` and a `doks` cluster. See
    /// docs/queue-workers.md "The addresses outbound traffic leaves from".
    #[serde(default)]
    pub nat: Option<Nat>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSettings {
    /// kubeconfig context of the existing cluster.
    #[serde(default)]
    pub context: Option<String>,
    /// StorageClass for persistent volumes (cluster default when absent).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// The cluster's pod network (default `10.244.0.0/16`, kubeadm's and flannel's): the
    /// ingress-nginx admission webhook admits the API server from addresses outside it.
    #[serde(default)]
    pub pod_cidr: Option<String>,
    /// The cluster's network plugin, where it needs rules of its own: `cilium` gives the API
    /// server's addresses an identity a NetworkPolicy `ipBlock` may not select
    /// (cilium/cilium#20550), so pods that call the API server and the ingress-nginx
    /// admission webhook also get CiliumNetworkPolicies allowing it, as on DOKS. Default
    /// `other` (plain NetworkPolicies only).
    #[serde(default)]
    pub cni: Cni,
    /// The port the API server itself listens on, when not one NetworkPolicies already allow
    /// (443, 6443 — kubeadm, kind, k3s — and 8443, minikube's `--apiserver-port` default):
    /// e.g. MicroK8s's 16443. Pods reach the API server through the `kubernetes` Service's
    /// 443, which most CNIs (Calico, kube-router) judge after it is translated to this port,
    /// so the egress of pods that call the API server (a release step's wait) must allow it.
    #[serde(default)]
    pub api_server_port: Option<u16>,
    /// Where the cluster's DNS answers, when not where most clusters run it: the egress of
    /// every pod whose egress is restricted admits it. Default: the DNS pods in
    /// `kube-system` on port 53, and the node-local caches 169.254.20.10, 169.254.25.10 and
    /// 169.254.169.254 on 53. OpenShift: `{ namespace: openshift-dns, port: 5353 }`. See
    /// docs/other-clusters.md "DNS elsewhere".
    #[serde(default)]
    pub dns: Option<ClusterDns>,
    /// Who picks the user and group IDs the pods run as. `fixed` (default): the manifests
    /// set them (`security.run_as_user`, `run_as_group`, `fs_group` of services and jobs).
    /// `assigned`: the cluster does, as OpenShift's default `restricted-v2` SCC does from the
    /// namespace's `openshift.io/sa.scc.uid-range` (it refuses any other `runAsUser`): the
    /// pods then set no `runAsUser`, `runAsGroup` or `fsGroup` but stay non-root, with every
    /// capability dropped, no privilege escalation and seccomp `RuntimeDefault`. In-cluster
    /// databases, caches and queues, whose images run as their own user, are refused with
    /// it. See docs/other-clusters.md "OpenShift".
    #[serde(default)]
    pub user_ids: UserIds,
}

/// Who picks an existing cluster's pods' user IDs (`providers.kubernetes.user_ids`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserIds {
    /// The manifests: `runAsUser` (and the group ids) from the blueprint.
    #[default]
    Fixed,
    /// The cluster's admission (OpenShift's SCCs): no ids in the manifests.
    Assigned,
}

/// The cluster DNS of an existing cluster (`providers.kubernetes.dns`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterDns {
    /// The namespace the cluster DNS pods run in (default `kube-system`; OpenShift:
    /// `openshift-dns`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The port the DNS pods themselves listen on (default 53). A NetworkPolicy judges a
    /// lookup sent to the DNS Service's 53 after it is translated to the pod's port:
    /// OpenShift's `dns-default` Service forwards 53 to CoreDNS on 5353.
    #[serde(default)]
    pub port: Option<u16>,
    /// The addresses (CIDR blocks, e.g. `169.254.20.10/32`) of resolvers on the nodes' host
    /// network the pods may be pointed at, which no namespace selector reaches: a node-local
    /// DNS cache. They are reached on 53 (a `resolv.conf` nameserver has no port). Replaces
    /// the default list; `[]` admits none.
    #[serde(default)]
    pub addresses: Option<Vec<String>>,
}

/// The network plugin of an existing cluster (`providers.kubernetes.cni`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cni {
    /// Cilium: CiliumNetworkPolicies (`cilium.io/v2`, its CRD installed with Cilium) beside
    /// the NetworkPolicies.
    Cilium,
    /// Any other plugin that enforces NetworkPolicies (Calico, kindnet, Antrea, …).
    #[default]
    Other,
}

/// Terraform state backend: S3 on AWS, Spaces (S3-compatible) on DigitalOcean.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Bucket that holds the state (S3 or Spaces).
    pub bucket: String,
    /// Object key of the state; `{env}` becomes the environment.
    #[serde(default = "default_state_key")]
    pub key: String,
    /// Region of the bucket when it differs from the provider's region (on DigitalOcean a
    /// Spaces region, see `spaces_region`; it places the blueprint's buckets too).
    #[serde(default)]
    pub region: Option<String>,
    /// Lock with S3 conditional writes (`use_lockfile`, Terraform ≥ 1.10).
    #[serde(default = "yes")]
    pub locking: bool,
}

fn default_state_key() -> String {
    "{env}/terraform.tfstate".into()
}

/// NAT strategy for private subnets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Nat {
    /// One NAT gateway per zone: each private route table uses its own zone's gateway.
    #[default]
    PerZone,
    /// One NAT gateway for the whole VPC (cheaper, one zone's failure cuts egress).
    Single,
    /// No NAT: private subnets have no route to the internet. Refused for EKS; on ECS the
    /// tasks need a VPC endpoint for every AWS API they call (`endpoints`) and images from
    /// ECR in the stack's region.
    None,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// VPC name (default `<name>-<env>`).
    #[serde(default)]
    pub name: Option<String>,
    /// IPv4 range of the VPC, e.g. `10.0.0.0/16`. With `existing`: the VPC's range as the
    /// network team gives it (on AWS its primary block or an associated one, on DigitalOcean
    /// its `ip_range`), checked at `terraform plan`; security-group rules and network
    /// policies admit it.
    pub cidr: String,
    /// A VPC infragen does not create (a network team's, shared or attached to a Transit
    /// Gateway; on DigitalOcean one shared with Droplets or databases outside infragen): the
    /// output reads it with data sources and creates no VPC, subnets, gateways or route
    /// tables; on AWS `subnets` then give subnet ids instead of CIDRs. `--provider
    /// kubernetes` ignores it. See docs/blueprint.md "An existing VPC".
    #[serde(default)]
    pub existing: Option<ExistingVpc>,
    /// Availability zones, in order; subnet lists give one CIDR (or, with `existing`, one
    /// subnet id) per zone in this order.
    #[serde(default)]
    pub zones: Vec<String>,
    /// How private subnets reach the internet: `per_zone` (default), `single` or `none`.
    /// Not with `existing` (the VPC's routes are its owner's).
    #[serde(default)]
    pub nat: Nat,
    /// Subnet tiers, one CIDR (or subnet id, with `existing`) per zone each.
    #[serde(default)]
    pub subnets: Subnets,
    /// VPC flow logs (AWS; default on, kept 365 days). A DigitalOcean VPC has none: noted
    /// there when written.
    // Unset unless written, so DigitalOcean notes only a written one; read through
    // `Network::flow_logs`.
    #[serde(default)]
    pub flow_logs: Option<FlowLogs>,
    /// AWS APIs the private subnets reach through VPC endpoints (AWS PrivateLink) instead of
    /// the NAT gateway, e.g. `[ecr, logs, secretsmanager]`: each interface endpoint goes in
    /// the private subnets (one network interface per zone) with private DNS on, behind one
    /// security group admitting HTTPS from `cidr`. A created VPC always has the S3 gateway
    /// endpoint (free; ECR serves image layers from S3). Lets ECS run with `nat: none`;
    /// on EKS it only saves NAT data processing. AWS only (noted on DigitalOcean, as `nat`).
    /// See docs/blueprint.md "VPC endpoints".
    #[serde(default)]
    pub endpoints: Vec<VpcEndpoint>,
}

/// An AWS API reached through a VPC endpoint (`network.endpoints`); the service name is
/// `com.amazonaws.<region>.<api>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VpcEndpoint {
    /// Amazon ECR: two interface endpoints, `ecr.api` (registry API, authorization) and
    /// `ecr.dkr` (image manifests); the layers come from S3 through the S3 gateway endpoint.
    Ecr,
    /// CloudWatch Logs (the `awslogs` log driver).
    Logs,
    /// Secrets Manager (secrets an ECS task reads at start, External Secrets).
    Secretsmanager,
    /// Systems Manager (Parameter Store parameters, e.g. Amazon MQ passwords).
    Ssm,
    /// AWS STS (IAM roles for service accounts; EKS Pod Identity's agent calls the EKS Auth
    /// API, `AssumeRoleForPodIdentity`, not STS).
    Sts,
    /// AWS KMS (applications that call KMS themselves).
    Kms,
    /// Amazon SQS.
    Sqs,
    /// Amazon SNS.
    Sns,
    /// Amazon EC2 API.
    Ec2,
    /// Elastic Load Balancing API (the AWS Load Balancer Controller).
    Elasticloadbalancing,
    /// EC2 Auto Scaling API (the Cluster Autoscaler).
    Autoscaling,
    /// CloudWatch metrics.
    Monitoring,
    /// Amazon S3: the gateway endpoint a created VPC always has; listing it changes nothing
    /// there (refused with `existing`: a gateway endpoint needs the VPC's route tables).
    S3,
    /// Amazon DynamoDB: a gateway endpoint (free) on the private route tables; refused with
    /// `existing`, like `s3`.
    Dynamodb,
}

impl VpcEndpoint {
    /// The blueprint's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VpcEndpoint::Ecr => "ecr",
            VpcEndpoint::Logs => "logs",
            VpcEndpoint::Secretsmanager => "secretsmanager",
            VpcEndpoint::Ssm => "ssm",
            VpcEndpoint::Sts => "sts",
            VpcEndpoint::Kms => "kms",
            VpcEndpoint::Sqs => "sqs",
            VpcEndpoint::Sns => "sns",
            VpcEndpoint::Ec2 => "ec2",
            VpcEndpoint::Elasticloadbalancing => "elasticloadbalancing",
            VpcEndpoint::Autoscaling => "autoscaling",
            VpcEndpoint::Monitoring => "monitoring",
            VpcEndpoint::S3 => "s3",
            VpcEndpoint::Dynamodb => "dynamodb",
        }
    }

    /// The last part of each AWS service name (`com.amazonaws.<region>.<part>`) it creates
    /// an endpoint for: ECR needs two ("Amazon ECR interface VPC endpoints (AWS
    /// PrivateLink)", docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
    pub fn services(self) -> &'static [&'static str] {
        match self {
            VpcEndpoint::Ecr => &["ecr.api", "ecr.dkr"],
            VpcEndpoint::Logs => &["logs"],
            VpcEndpoint::Secretsmanager => &["secretsmanager"],
            VpcEndpoint::Ssm => &["ssm"],
            VpcEndpoint::Sts => &["sts"],
            VpcEndpoint::Kms => &["kms"],
            VpcEndpoint::Sqs => &["sqs"],
            VpcEndpoint::Sns => &["sns"],
            VpcEndpoint::Ec2 => &["ec2"],
            VpcEndpoint::Elasticloadbalancing => &["elasticloadbalancing"],
            VpcEndpoint::Autoscaling => &["autoscaling"],
            VpcEndpoint::Monitoring => &["monitoring"],
            VpcEndpoint::S3 => &["s3"],
            VpcEndpoint::Dynamodb => &["dynamodb"],
        }
    }

    /// A gateway endpoint (route-table entries, S3 and DynamoDB only) rather than an
    /// interface one (network interfaces in the subnets).
    pub fn gateway(self) -> bool {
        matches!(self, VpcEndpoint::S3 | VpcEndpoint::Dynamodb)
    }
}

/// A VPC that already exists (`network.existing`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExistingVpc {
    /// The VPC's id, as its provider writes it: on AWS `vpc-` and 8 or 17 hex digits
    /// (`vpc-0a1b2c3d4e5f67890`), on DigitalOcean a UUID
    /// (`5a4981aa-9653-4bd1-bef5-d6bff52042e4`, `doctl vpcs list`). Each provider refuses the
    /// other's: a blueprint for both gives DigitalOcean's in `per_provider.digitalocean`.
    #[schemars(regex(
        pattern = r"^(vpc-([0-9a-f]{8}|[0-9a-f]{17})|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
    ))]
    pub vpc_id: String,
}

/// Subnet tiers, one CIDR (or, with `network.existing`, one subnet id such as
/// `subnet-0a1b2c3d4e5f67890`) per zone each.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnets {
    /// Load balancers and NAT gateways; routed to the internet gateway.
    #[serde(default)]
    pub public: Vec<String>,
    /// Workloads (nodes, pods, tasks); egress through NAT.
    #[serde(default)]
    pub private: Vec<String>,
    /// Databases; no route to the internet.
    #[serde(default)]
    pub database: Vec<String>,
    /// Caches and brokers; no route to the internet.
    #[serde(default)]
    pub cache: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLogs {
    /// Record VPC flow logs (default on).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Days flow logs are kept (default 365).
    #[serde(default = "default_flow_log_retention")]
    pub retention_days: u32,
}

impl Default for FlowLogs {
    fn default() -> Self {
        FlowLogs {
            enabled: true,
            retention_days: default_flow_log_retention(),
        }
    }
}

fn default_flow_log_retention() -> u32 {
    365
}

impl Network {
    /// `flow_logs`, or its defaults (on, 365 days).
    pub fn flow_logs(&self) -> FlowLogs {
        self.flow_logs.clone().unwrap_or_default()
    }
}

/// Where the workloads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Amazon EKS with managed node groups.
    Eks,
    /// Amazon EKS with Fargate profiles, no nodes.
    EksFargate,
    /// Amazon ECS on Fargate.
    EcsFargate,
    /// DigitalOcean Kubernetes.
    Doks,
    /// A Kubernetes cluster that already exists.
    Existing,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Eks => "eks",
            Platform::EksFargate => "eks_fargate",
            Platform::EcsFargate => "ecs_fargate",
            Platform::Doks => "doks",
            Platform::Existing => "existing",
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Cluster name (default `<name>-<env>`).
    #[serde(default)]
    pub name: Option<String>,
    /// Where the workloads run: `eks`, `eks_fargate`, `ecs_fargate`, `doks` or `existing`.
    pub platform: Platform,
    /// Kubernetes minor (`1.35`); the catalog's default when absent. Judged against the
    /// versions catalog (`providers/releases.json`); DOKS resolves it to its newest release.
    #[serde(default)]
    pub version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// Highly available control plane (DOKS, default true); EKS control planes are always
    /// multi-AZ (noted there, as on ECS, which has no control plane of its own).
    #[serde(default)]
    pub ha: Option<bool>,
    /// Who can reach the Kubernetes API (EKS; on DOKS only `allowed_cidrs`).
    #[serde(default)]
    pub endpoint: Endpoint,
    /// Control-plane logs to CloudWatch (EKS): which types and for how long (default all
    /// five, 90 days). DOKS and ECS keep no control-plane logs: noted there.
    // Unset unless written (notes name only written fields); read through `Cluster::logging`.
    #[serde(default)]
    pub logging: Option<ClusterLogging>,
    /// Managed add-ons (EKS), e.g. `vpc-cni`, `coredns`, `kube-proxy`, `aws-ebs-csi-driver`.
    #[serde(default)]
    pub addons: Vec<String>,
    /// Automatic patch upgrades in the maintenance window (DOKS, default true). EKS has no
    /// such setting (noted): AWS patches the control plane itself and upgrades its minor
    /// version when `version` says, or at the end of standard support.
    #[serde(default)]
    pub auto_upgrade: Option<bool>,
    /// Surge upgrades: new nodes before old ones drain (DOKS, default true). EKS managed
    /// node groups always launch new nodes first, at most `max_unavailable_percent` at a
    /// time (noted there).
    #[serde(default)]
    pub surge_upgrade: Option<bool>,
    /// Maintenance window of the automatic upgrades (DOKS), `sun:04:00` (UTC): its start;
    /// DOKS fixes the length (four hours), so an end (`sun:04:00-sun:06:00`) is noted and
    /// not used. EKS and ECS have none (noted).
    #[serde(default)]
    pub maintenance_window: Option<WeeklyWindow>,
    /// Let a DOKS cluster pull from the blueprint's registry without extra secrets (default
    /// true with a `registry`). On AWS nodes and tasks pull from ECR by their IAM roles
    /// (noted).
    #[serde(default)]
    pub registry_integration: Option<bool>,
    /// ECS Container Insights / EKS observability add-on (default true); on EKS it feeds
    /// each service's no-running-pods and restarts alarms. EKS Fargate (no DaemonSets) and
    /// DOKS (DigitalOcean Monitoring) have none: noted there when written.
    // Unset unless written, so only a written one is noted; read through
    // `Cluster::container_insights` (as `rollout.circuit_breaker`).
    #[serde(default)]
    pub container_insights: Option<bool>,
    /// Refuse to delete the cluster (EKS `deletion_protection`, default true); switch off in
    /// throwaway environments. An ECS or DOKS cluster has no such setting: `true` is noted
    /// there.
    // Unset unless written; read through `Cluster::deletion_protection`.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
}

impl Cluster {
    /// `container_insights`, on unless written off.
    pub fn container_insights(&self) -> bool {
        self.container_insights.unwrap_or(true)
    }

    /// `deletion_protection`, on unless written off.
    pub fn deletion_protection(&self) -> bool {
        self.deletion_protection.unwrap_or(true)
    }

    /// `logging`, or its defaults (all five types, 90 days).
    pub fn logging(&self) -> ClusterLogging {
        self.logging.clone().unwrap_or_default()
    }
}

/// Who can reach the Kubernetes API.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Expose the API publicly (EKS, off by default; the private endpoint is always on). A
    /// DOKS API is always public (`allowed_cidrs` restricts it): `false` is noted there.
    // Unset unless written; read through `Endpoint::public`.
    #[serde(default)]
    pub public: Option<bool>,
    /// CIDRs allowed to reach a public endpoint / the control-plane firewall.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// How a private endpoint is reached from outside the VPC (EKS): `ssm` (default) adds a
    /// small instance in a private subnet that AWS Systems Manager port-forwards to the API
    /// (no inbound port, no public address); `none` leaves the path to you (a runner or VPN
    /// inside the VPC). Noted on DOKS, whose API is always public.
    // Unset unless written; read through `Endpoint::access`.
    #[serde(default)]
    pub access: Option<EndpointAccess>,
}

impl Endpoint {
    /// `public`, off unless written on.
    pub fn public(&self) -> bool {
        self.public.unwrap_or(false)
    }

    /// `access`, `ssm` unless written.
    pub fn access(&self) -> EndpointAccess {
        self.access.unwrap_or_default()
    }
}

/// The path to a private Kubernetes API from outside the VPC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointAccess {
    /// An SSM-managed instance port-forwards to the API endpoint.
    #[default]
    Ssm,
    /// No access path: apply from inside the VPC.
    None,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterLogging {
    /// Control-plane log types (default: all five).
    #[serde(default = "all_log_types")]
    pub types: Vec<String>,
    /// Days control-plane logs are kept (default 90).
    #[serde(default = "default_cluster_log_retention")]
    pub retention_days: u32,
}

impl Default for ClusterLogging {
    fn default() -> Self {
        ClusterLogging {
            types: all_log_types(),
            retention_days: default_cluster_log_retention(),
        }
    }
}

fn all_log_types() -> Vec<String> {
    [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    .map(String::from)
    .to_vec()
}

fn default_cluster_log_retention() -> u32 {
    90
}

/// Kubernetes taint effect (written the Kubernetes way; back-ends translate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    /// Taint key, e.g. `workload`.
    pub key: String,
    /// Taint value, e.g. `compute`.
    #[serde(default)]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: TaintEffect,
}

/// Exact sizes per provider, overriding `size`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sizes {
    /// Exact AWS size, e.g. `db.t4g.medium`, `m6i.large`.
    #[serde(default)]
    pub aws: Option<String>,
    /// Exact DigitalOcean size slug, e.g. `db-s-2vcpu-4gb`: one the dated size catalog
    /// (`providers/digitalocean.json`, `sizes`) holds — a Droplet of 2 GB or more for a
    /// DOKS node pool, a plan offered for the engine for a managed database or cache.
    #[serde(default)]
    pub digitalocean: Option<String>,
    /// Requests and limits when the component runs in a cluster.
    #[serde(default)]
    pub kubernetes: Option<Resources>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodePool {
    /// Pool name (unique within the cluster).
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// A portable class (`small`, `medium`, `large`, `compute-large`, `memory-large`, … see
    /// `providers/*.json`) or an exact size for the target provider (`t3.medium`, `s-4vcpu-8gb`;
    /// on DigitalOcean a Droplet slug of the dated size catalog, 2 GB or more for DOKS).
    #[serde(default)]
    pub size: Option<String>,
    /// Exact sizes per provider, overriding `size`.
    #[serde(default)]
    pub sizes: Sizes,
    /// Fewest nodes, in the whole pool. On EKS a pool that may host an in-cluster data service's pod (pinned to it, or pinned nowhere and the pool untainted) is one node group per zone, since its EBS volumes are zonal: `min`, `desired` and `max` are spread over the zones, earlier zones taking the remainder, and a zone whose share of `max` is 0 gets no group.
    pub min: u32,
    /// Initial node count (default `min`). A pool that can change size (`max` above `min`) is the autoscaler's after creation, so a new value is not applied to it (`infragen diff` says so); a fixed-size pool gets it.
    #[serde(default)]
    pub desired: Option<u32>,
    /// Most nodes, in the whole pool (see `min` for a pool split per zone on EKS).
    pub max: u32,
    /// Spot / preemptible capacity.
    #[serde(default)]
    pub spot: bool,
    /// Kubernetes labels on the nodes (services select pools by them).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Taints that keep pods without a matching toleration off the nodes.
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// Root volume of each node.
    #[serde(default)]
    pub disk: Option<Disk>,
    /// Percentage of nodes that may be unavailable during an update.
    #[serde(default)]
    pub max_unavailable_percent: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// Root volume size of each node, in GiB.
    pub size_gb: u32,
    /// Volume type, e.g. `gp3`.
    #[serde(default)]
    pub r#type: Option<String>,
    /// Provisioned IOPS (gp3, io1, io2).
    #[serde(default)]
    pub iops: Option<u32>,
    /// MiB/s (gp3).
    #[serde(default)]
    pub throughput: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FargateProfile {
    /// Profile name (unique within the cluster).
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// Pods in these namespaces run on Fargate.
    pub namespaces: Vec<String>,
    /// Only pods with these labels (all namespaces of the profile).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Managed by the cloud, or run inside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    #[default]
    Managed,
    InCluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseEngine {
    Postgres,
    Mysql,
    Mongodb,
}

impl DatabaseEngine {
    pub fn name(self) -> &'static str {
        match self {
            DatabaseEngine::Postgres => "postgres",
            DatabaseEngine::Mysql => "mysql",
            DatabaseEngine::Mongodb => "mongodb",
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Allocated storage, in GiB.
    pub size_gb: u32,
    /// Upper bound for storage autoscaling.
    #[serde(default)]
    pub max_size_gb: Option<u32>,
    /// Storage type, e.g. `gp3`.
    #[serde(default)]
    pub r#type: Option<String>,
    /// Provisioned IOPS (gp3, io1, io2).
    #[serde(default)]
    pub iops: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Days backups are kept (default 7).
    #[serde(default = "default_backup_retention")]
    pub retention_days: u32,
    /// Daily window, `03:00-04:00` (UTC). On DigitalOcean managed PostgreSQL and MySQL its
    /// start is when the daily backup starts (`backup_hour` / `backup_minute` of the engine's
    /// configuration; not with `parameters.backup_hour`); managed MongoDB there schedules
    /// backups itself (noted).
    #[serde(default)]
    pub window: Option<DailyWindow>,
    /// Cron schedule of in-cluster backup jobs, e.g. `0 2 * * *`.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Where in-cluster backups are copied, e.g. `s3://techshop-backups/mongodb/`: the
    /// bucket's S3 name (for one of `buckets`, its S3 name, not its blueprint name).
    #[serde(default)]
    pub destination: Option<String>,
    /// Kubernetes Secret whose keys become the in-cluster backup job's environment when it
    /// copies to `destination` (e.g. `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`); by
    /// reference, never values. Without it the job relies on the pod's cloud identity.
    #[serde(default)]
    pub storage_secret: Option<String>,
    /// PersistentVolumeClaim that keeps in-cluster backup archives for `retention_days`
    /// (default `<name>-backup`; created with the data volume's size).
    #[serde(default)]
    pub volume_claim: Option<String>,
}

impl Backup {
    /// The bucket and key prefix of an `s3://bucket/prefix` destination.
    pub fn destination_bucket(&self) -> Option<(&str, &str)> {
        let rest = self.destination.as_deref()?.strip_prefix("s3://")?;
        Some(rest.split_once('/').unwrap_or((rest, "")))
    }
}

fn default_backup_retention() -> u32 {
    7
}

/// Compute resources of a container: requests and limits.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves for the container.
    #[serde(default)]
    pub requests: Quantity,
    /// The most the container may use.
    #[serde(default)]
    pub limits: Quantity,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// CPU, e.g. `250m` or `1`.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Memory, e.g. `256Mi`.
    #[serde(default)]
    pub memory: Option<String>,
}

/// How a data service runs inside the cluster (`deployment: in_cluster`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InCluster {
    /// Pods of the data service: a MongoDB replica set's members, or Redis / Valkey pods
    /// (pod 0 the primary, the others replicating from it, no failover). PostgreSQL, MySQL
    /// and RabbitMQ run one server: more is refused (a managed database or Amazon MQ
    /// replicates).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Container image, e.g. `mongo:8.0.20`; default: the engine's image at the version the
    /// catalog pins. The engine version its tag states is judged against the versions
    /// catalog like the component's `version` (past its end refused unless
    /// `allow_unsupported`; a known critical vulnerability always): the tag of the engine's
    /// official image (`postgres`, `mysql`, `mongo`, `redis`, `valkey`, `rabbitmq`, from any
    /// registry), and of well-known images built on it by their tag schemes —
    /// `postgis/postgis:<pg major>-<postgis>` (`17-3.5`), `pgvector/pgvector:pg17` /
    /// `0.8.1-pg17`, `timescale/timescaledb:<ts>-pg16` / `timescaledb-ha:pg16…`,
    /// `redis/redis-stack-server:7.4.0-v1` (Redis 7.4), images tagged with the engine's
    /// version (`bitnami/postgresql:17.2.0`, `bitnami/mongodb`,
    /// `percona/percona-server-mongodb:8.0.4-1`). A `version` naming another line than the
    /// tag is refused (`version` decides what infragen writes, e.g. the MongoDB probe's
    /// shell); without `version` the tag's is used. A tag infragen cannot read (a digest,
    /// `latest`, another image) is accepted with warning `image-version`: its version is not
    /// checked, and `version` (else the default) is what infragen assumes. Another image must
    /// keep the official one's entrypoint, user (uid 999) and paths, as images built on it
    /// do (`postgis/postgis`).
    #[serde(default)]
    pub image: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// CPU and memory requests and limits of the server container.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Persistent volume size, e.g. `20Gi`.
    #[serde(default)]
    pub volume_size: Option<String>,
    /// Kubernetes Secret holding the credentials (keys `username`, `password`).
    #[serde(default)]
    pub credentials_secret: Option<String>,
    /// Service name (default: the component's name).
    #[serde(default)]
    pub service_name: Option<String>,
    /// Extra server arguments, one item each, e.g. `[--appendonly, "yes"]`.
    #[serde(default)]
    pub args: Vec<String>,
    /// Node pool the pods are scheduled on (node selector + toleration).
    #[serde(default)]
    pub node_pool: Option<String>,
    /// A Prometheus exporter beside the server (mongodb_exporter, redis_exporter,
    /// postgres-exporter, mysqld-exporter; RabbitMQ's built-in plugin): its port joins the
    /// Service and the pods get `prometheus.io/*` annotations.
    #[serde(default)]
    pub exporter: Option<Exporter>,
}

/// A metrics exporter of an in-cluster data service.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exporter {
    /// Port Prometheus scrapes (default: the exporter's usual port, e.g. 9216 for MongoDB,
    /// 9121 for Redis).
    #[serde(default)]
    pub port: Option<u16>,
    /// Exporter image (default: a pinned release of the engine's community exporter).
    #[serde(default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Component name; services refer to it in `uses`.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// Database engine: `postgres`, `mysql` or `mongodb`. SQL Server, Oracle and MariaDB are
    /// not offered (the error says what to use instead).
    pub engine: DatabaseEngine,
    /// Engine version (catalog default when absent). On RDS a major version (`17`, MySQL
    /// `8.4`) gets RDS's automatic minor upgrades; one naming a minor (`17.7`, `8.4.7`) is
    /// pinned: automatic minor upgrades are off, and a minor upgrade is a change of this field
    /// (see docs/day2.md).
    #[serde(default)]
    pub version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// A portable class (`small`, `medium`, … see `providers/*.json`) or an exact instance class
    /// for the target provider (`db.t4g.medium`; on DigitalOcean a plan of the dated size
    /// catalog offered for the engine, `db-s-2vcpu-4gb`).
    #[serde(default)]
    pub size: Option<String>,
    /// Exact sizes per provider, overriding `size`.
    #[serde(default)]
    pub sizes: Sizes,
    /// Disk size, growth limit, type and IOPS.
    #[serde(default)]
    pub storage: Option<Storage>,
    /// Standby in another zone (Multi-AZ).
    #[serde(default)]
    pub ha: bool,
    /// Read replicas (on AWS, RDS: at most 15).
    #[serde(default)]
    pub replicas: u32,
    /// Automated backups: retention, window, and for in-cluster databases the backup job.
    #[serde(default)]
    pub backup: Option<Backup>,
    /// `sun:04:00-sun:05:00` (UTC).
    #[serde(default)]
    pub maintenance_window: Option<WeeklyWindow>,
    /// `managed` by the cloud (default) or `in_cluster`.
    #[serde(default)]
    pub deployment: Deployment,
    /// Name of the initial database.
    #[serde(default)]
    pub database_name: Option<String>,
    /// Master user name (its password is generated at apply, never written out).
    #[serde(default)]
    pub username: Option<String>,
    /// AWS (RDS): `secrets[].name` of the secret the master credentials are kept in (JSON
    /// keys `username`, `password`; default: a secret `<name>-<env>/<database>/master` of
    /// its own). The password is generated by Terraform and written there write-only, never
    /// managed by RDS (which would rotate it every seven days under clients that read it
    /// once, and refuses read replicas of such a source); clients read it from that secret.
    /// Not used elsewhere.
    #[serde(default)]
    pub password_secret: Option<String>,
    /// Port clients connect to (the engine's default when absent).
    #[serde(default)]
    pub port: Option<u16>,
    /// Engine parameters (`max_connections: 200`): RDS's parameter group; on DigitalOcean
    /// those the engine's `digitalocean_database_{postgresql,mysql,mongodb}_config` takes
    /// (e.g. `sql_require_primary_key: "false"`, `work_mem: "64MB"` — DigitalOcean's is in
    /// MB, so a unit-less one is noted), the others noted (`max_connections` is fixed by the
    /// size there, `shared_buffers` is `shared_buffers_percentage`).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// A connection pool in front of the database: DigitalOcean managed PostgreSQL's
    /// PgBouncer (`digitalocean_database_connection_pool` named `<name>-pool`: DigitalOcean
    /// takes pool names of 3 to 60 characters). The services and jobs that `use` the
    /// database connect to the pool (port 25061, database name = the pool's name) and
    /// PgBouncer funnels their connections into `size` backend connections, which must fit
    /// the plan's limit (25 per GiB of memory, 3 reserved). A service's `release` Job
    /// connects to the cluster itself (its private host, port 25060, the database's own
    /// name), in every mode: migrations take session advisory locks that transaction and
    /// statement pooling break, and in session mode the services' idle clients hold the
    /// pool's connections; it shares the connections the pool leaves (limit − `size`).
    /// PostgreSQL on DigitalOcean only: refused for MySQL and MongoDB (DigitalOcean offers
    /// pools for PostgreSQL alone), for a database in the cluster, and on AWS (RDS Proxy is
    /// not generated: set the pool in `per_provider.digitalocean`).
    #[serde(default)]
    pub pool: Option<ConnectionPool>,
    /// Collect query performance data (RDS Performance Insights; default on). DigitalOcean
    /// and a database in the cluster have none: `true` is noted there.
    // Unset unless written, so only a written one is noted; read through
    // `Database::performance_insights`.
    #[serde(default)]
    pub performance_insights: Option<bool>,
    /// Refuse deletion (default on; switch off in throwaway environments): RDS
    /// `deletion_protection`, on DigitalOcean Terraform's `prevent_destroy`. A database in
    /// the cluster keeps its volume claims when deleted, but nothing refuses the deletion:
    /// `true` is noted there.
    // Unset unless written; read through `Database::deletion_protection`.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// How the database runs inside the cluster (`deployment: in_cluster`).
    #[serde(default)]
    pub in_cluster: InCluster,
    /// Cloud identifier of the instance (RDS `identifier`, default `<name>-<env>-<database>`);
    /// read replicas append `-replica`. Unique per account and region.
    #[serde(default)]
    pub identifier: Option<String>,
}

impl Database {
    /// `performance_insights`, on unless written off.
    pub fn performance_insights(&self) -> bool {
        self.performance_insights.unwrap_or(true)
    }

    /// `deletion_protection`, on unless written off.
    pub fn deletion_protection(&self) -> bool {
        self.deletion_protection.unwrap_or(true)
    }
}

/// A managed PostgreSQL connection pool (DigitalOcean: PgBouncer).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPool {
    /// When a backend connection goes back to the pool: `transaction` (after each
    /// transaction: the most clients per connection, but session state does not carry over
    /// from one transaction to the next — `SET`/`SET search_path`, session advisory locks
    /// (`pg_advisory_lock`, which migration tools such as Rails, Prisma and Flyway take),
    /// `LISTEN`, temporary tables, `WITH HOLD` cursors, and prepared statements in drivers
    /// that name them per connection (node-postgres named queries, pgx's statement cache,
    /// JDBC past `prepareThreshold`, unless the driver is told so) break), `session` (when
    /// the client disconnects: everything works, but a client holds its backend connection
    /// while idle, so clients past `size` wait), or `statement` (after each statement: no multi-statement transactions).
    pub mode: PoolMode,
    /// Backend connections the pool opens to the database: at most the plan's limit (25
    /// per GiB of memory, 3 reserved), leaving room for the direct connections of admin
    /// sessions and release Jobs (5 each, warned about when short).
    pub size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    Transaction,
    Session,
    Statement,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Transaction => "transaction",
            PoolMode::Session => "session",
            PoolMode::Statement => "statement",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CacheEngine {
    Redis,
    Valkey,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshots {
    /// Days snapshots are kept.
    pub retention_days: u32,
    /// `03:00-05:00` (UTC).
    #[serde(default)]
    pub window: Option<DailyWindow>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Component name; services refer to it in `uses`.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// Cache engine: `redis` or `valkey`.
    pub engine: CacheEngine,
    /// Engine version (catalog default when absent).
    #[serde(default)]
    pub version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// A portable class (`small`, `medium`, … see `providers/*.json`) or an exact node type for the
    /// target provider (on DigitalOcean a Valkey plan of the dated size catalog).
    #[serde(default)]
    pub size: Option<String>,
    /// Exact sizes per provider, overriding `size`.
    #[serde(default)]
    pub sizes: Sizes,
    /// Nodes: one primary plus replicas (on AWS, an ElastiCache replication group: at most 6).
    #[serde(default = "one")]
    pub nodes: u32,
    /// Automatic failover across zones.
    #[serde(default)]
    pub ha: bool,
    /// Automatic snapshots: retention and window.
    #[serde(default)]
    pub snapshots: Option<Snapshots>,
    /// Weekly maintenance window, `sun:05:00-sun:06:00` (UTC).
    #[serde(default)]
    pub maintenance_window: Option<WeeklyWindow>,
    /// Engine parameters, e.g. `maxmemory-policy: allkeys-lru`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What the cache is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Port (default 6379).
    #[serde(default)]
    pub port: Option<u16>,
    /// `secrets[].name` of the AUTH token clients present (transit encryption is always on).
    #[serde(default)]
    pub auth_token_secret: Option<String>,
    /// `managed` by the cloud (default) or `in_cluster`.
    #[serde(default)]
    pub deployment: Deployment,
    /// How the cache runs inside the cluster (`deployment: in_cluster`).
    #[serde(default)]
    pub in_cluster: InCluster,
    /// Cloud identifier (ElastiCache replication group id, default `<name>-<env>-<cache>`).
    #[serde(default)]
    pub identifier: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueEngine {
    /// A message broker: Amazon MQ for RabbitMQ on AWS, in the cluster elsewhere.
    Rabbitmq,
    /// An Amazon SQS queue with its dead-letter queue (AWS only): clients reach it over
    /// HTTPS with the workload's IAM role, no broker, no credentials.
    Sqs,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Component name; services refer to it in `uses`.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// `rabbitmq` (a broker) or `sqs` (an Amazon SQS queue, AWS only).
    pub engine: QueueEngine,
    /// RabbitMQ: engine version (catalog default when absent).
    #[serde(default)]
    pub version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// RabbitMQ: a portable class (`small`, `medium`, … see `providers/*.json`) or an exact
    /// instance type for the target provider.
    #[serde(default)]
    pub size: Option<String>,
    /// RabbitMQ: exact sizes per provider, overriding `size`.
    #[serde(default)]
    pub sizes: Sizes,
    /// RabbitMQ: clustered across zones.
    #[serde(default)]
    pub ha: bool,
    /// RabbitMQ: weekly maintenance window, `sun:04:00` (UTC).
    #[serde(default)]
    pub maintenance_window: Option<WeeklyWindow>,
    /// `managed` by the cloud (default) or `in_cluster` (RabbitMQ only).
    #[serde(default)]
    pub deployment: Deployment,
    /// RabbitMQ: how the broker runs inside the cluster (`deployment: in_cluster`).
    #[serde(default)]
    pub in_cluster: InCluster,
    /// SQS: a FIFO queue (exactly-once, ordered per message group); both queue names end in
    /// `.fifo`. Changing it replaces the queues (and drops their messages).
    #[serde(default)]
    pub fifo: bool,
    /// SQS FIFO: deduplicate by a SHA-256 of the body instead of a deduplication id per
    /// message.
    #[serde(default)]
    pub content_based_deduplication: bool,
    /// SQS: seconds a received message stays hidden from other consumers (0–43200; AWS
    /// default 30). Make it longer than a consumer takes to handle one message.
    #[serde(default)]
    pub visibility_timeout_seconds: Option<u32>,
    /// SQS: seconds a message is kept (60–1209600, i.e. 1 minute to 14 days; AWS default
    /// 345600, 4 days). The dead-letter queue always keeps its messages 14 days.
    #[serde(default)]
    pub retention_seconds: Option<u32>,
    /// SQS: receives before a message moves to the dead-letter queue (1–1000; default 5).
    #[serde(default)]
    pub max_receive_count: Option<u32>,
}

impl Queue {
    /// An Amazon SQS queue (not a broker).
    pub fn sqs(&self) -> bool {
        self.engine == QueueEngine::Sqs
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum KeyType {
    /// String
    S,
    /// Number
    N,
    /// Binary
    B,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// Attribute name.
    pub name: String,
    /// Attribute type: `S` (string), `N` (number) or `B` (binary).
    pub r#type: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    #[default]
    OnDemand,
    Provisioned,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Component name; services refer to it in `uses`.
    pub name: String,
    /// The DynamoDB table's name (default: `name`, as written). Table names are unique per
    /// account and region, so environments or stacks sharing an account each need their
    /// own, e.g. `wharf-{env}-tracking`; the workloads' `<NAME>_TABLE` follows it. Changing
    /// it replaces the table (a new, empty one).
    #[serde(default)]
    pub table: Option<String>,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// The partition (hash) key.
    pub partition_key: Key,
    /// The sort (range) key, if any.
    #[serde(default)]
    pub sort_key: Option<Key>,
    /// `on_demand` (default) or `provisioned` capacity.
    #[serde(default)]
    pub billing: Billing,
    /// Continuous backups for point-in-time restores (default on).
    #[serde(default = "yes")]
    pub point_in_time_recovery: bool,
    /// Attribute holding each item's expiry time (epoch seconds).
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Refuse deletion (default on; switch off in throwaway environments).
    #[serde(default = "yes")]
    pub deletion_protection: bool,
    /// Days point-in-time recovery reaches back (1–35; AWS default 35).
    #[serde(default)]
    pub pitr_days: Option<u32>,
}

impl Table {
    /// The DynamoDB table name: `table`, else the component's name.
    pub fn table_name(&self) -> &str {
        self.table.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// HTTP path the load balancer checks, e.g. `/health`.
    pub path: String,
    /// Seconds between checks.
    #[serde(default)]
    pub interval: Option<u32>,
    /// Seconds a check may take.
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Consecutive successes before a target counts as healthy.
    #[serde(default)]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures before a target counts as unhealthy.
    #[serde(default)]
    pub unhealthy_threshold: Option<u32>,
    /// HTTP codes that count as healthy, e.g. `200`.
    #[serde(default)]
    pub matcher: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Domain to issue a certificate for (DNS-validated); without it the ARN is a variable.
    #[serde(default)]
    pub domain: Option<String>,
    /// More names on the certificate (subject alternative names).
    #[serde(default)]
    pub alternative_names: Vec<String>,
    /// An existing certificate.
    #[serde(default)]
    pub arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waf {
    /// Requests per 5 minutes per client IP before blocking.
    pub rate_limit: u32,
    /// AWS managed rule groups (default: common, known bad inputs, IP reputation, anonymous
    /// IPs with hosting providers counted, not blocked).
    #[serde(default)]
    pub managed_rules: Option<Vec<String>>,
    /// Web ACL name (default `<name>-<env>-waf`).
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Load balancer name (default `<name>-<env>`, a leading `internal-` written `int-`). On AWS at most 32 letters, digits and hyphens, not beginning with `internal-`, which ELB keeps for internal load balancers' DNS names.
    #[serde(default)]
    pub name: Option<String>,
    /// Reachable only inside the VPC (default: internet-facing). Refused on DigitalOcean, whose entry load balancer is public (an internal one could get no certificate issued).
    #[serde(default)]
    pub internal: bool,
    /// The HTTPS listener's certificate: issued for a domain or an existing ARN.
    #[serde(default)]
    pub certificate: Certificate,
    /// TLS policy of the HTTPS listener.
    #[serde(default)]
    pub ssl_policy: Option<String>,
    /// Port 80 answers with a 301 to HTTPS.
    #[serde(default = "yes")]
    pub redirect_http: bool,
    /// How the load balancer checks targets.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    /// Seconds a draining target keeps its connections.
    #[serde(default)]
    pub deregistration_delay: Option<u32>,
    /// Seconds an idle connection stays open.
    #[serde(default)]
    pub idle_timeout: Option<u32>,
    /// A WAF web ACL in front of the load balancer: rate limit and managed rules.
    #[serde(default)]
    pub waf: Option<Waf>,
    /// S3 bucket the access logs go to, created with the log-delivery policy (default
    /// `<name>-<env>-lb-logs`); a `buckets[]` entry with this `bucket` name is used as is.
    #[serde(default)]
    pub access_logs_bucket: Option<String>,
    /// Refuse deletion of the load balancer (AWS, default on; switch off in throwaway
    /// environments). DigitalOcean's is the ingress controller's Service's, with no such
    /// setting: `true` is noted there.
    // Unset unless written; read through `LoadBalancer::deletion_protection`.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// CIDR blocks besides the VPC's that reach the internal load balancer of
    /// `services[].internal_routes` (a VPN's client range, an office network over Direct
    /// Connect or a transit gateway).
    #[serde(default)]
    pub internal_cidrs: Vec<String>,
}

impl LoadBalancer {
    /// `deletion_protection`, on unless written off.
    pub fn deletion_protection(&self) -> bool {
        self.deletion_protection.unwrap_or(true)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum IngressClass {
    #[default]
    Nginx,
    Alb,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressTls {
    /// Secret that holds the certificate.
    pub secret_name: String,
    /// cert-manager ClusterIssuer that issues it.
    #[serde(default)]
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests each client may make per `window`.
    pub requests: u32,
    /// e.g. `1m`.
    pub window: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Allowed origin, e.g. `https://shop.example.com`.
    pub allow_origin: String,
    /// Allowed methods, e.g. `GET, POST, OPTIONS` (controller default when absent).
    #[serde(default)]
    pub allow_methods: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    /// Write the Ingress (default on when the section is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Ingress object name (default: the blueprint's name).
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace of the Ingress (default: beside the routed services).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Ingress class: `nginx` (ingress-nginx) or `alb` (AWS Load Balancer Controller).
    #[serde(default)]
    pub class: IngressClass,
    /// Host names routed to the services.
    pub hosts: Vec<String>,
    /// TLS for the hosts: the certificate's Secret and its issuer.
    #[serde(default)]
    pub tls: Option<IngressTls>,
    /// Redirect HTTP to HTTPS (default on).
    #[serde(default = "yes")]
    pub ssl_redirect: bool,
    /// Requests per client the controller admits in a window.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Largest request body, e.g. `10m`.
    #[serde(default)]
    pub proxy_body_size: Option<String>,
    /// Cross-origin requests the ingress allows.
    #[serde(default)]
    pub cors: Option<Cors>,
    /// Rewrite target for regex paths, e.g. `/$2`.
    #[serde(default)]
    pub rewrite_target: Option<String>,
    /// Extra controller annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Route through the Gateway API instead of an Ingress (the successor of the retired
    /// ingress-nginx): a `Gateway` and `HTTPRoute`s (gateway.networking.k8s.io/v1) served by
    /// Envoy Gateway, which a created cluster (EKS, DOKS) gets in `platform`.
    #[serde(default)]
    pub gateway: Option<IngressGateway>,
}

/// `ingress.gateway`: the Gateway API path (see `docs/gateway-api.md`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressGateway {
    /// GatewayClass the Gateway uses (infragen writes it for Envoy Gateway), e.g. `eg`.
    pub class: String,
    /// Envoy Gateway chart (`gateway-helm`) version; the versions catalog's pin when absent.
    #[serde(default)]
    pub chart_version: Option<String>,
    /// Accept an Envoy Gateway chart past its end for an existing installation (a warning).
    #[serde(default)]
    pub allow_unsupported: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryLifecycle {
    /// Keep this many tagged images.
    #[serde(default)]
    pub keep_tagged: Option<u32>,
    /// Tag prefixes the rule applies to (e.g. `v`); all tagged images when empty.
    #[serde(default)]
    pub tag_prefixes: Vec<String>,
    /// Expire untagged images after this many days.
    #[serde(default)]
    pub untagged_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Registry name (DigitalOcean) or repository prefix (ECR).
    #[serde(default)]
    pub name: Option<String>,
    /// Repositories to create, e.g. one per service.
    pub repositories: Vec<String>,
    /// Scan images for vulnerabilities when pushed (default on).
    #[serde(default = "yes")]
    pub scan_on_push: bool,
    /// A pushed tag can never point at another image (default on).
    #[serde(default = "yes")]
    pub immutable_tags: bool,
    /// Which images are expired.
    #[serde(default)]
    pub lifecycle: Option<RegistryLifecycle>,
    /// DigitalOcean subscription tier (`starter`, `basic`, `professional`).
    #[serde(default)]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// Name used by `services[].secret_env[].secret`.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// Secrets Manager name / Kubernetes Secret name (default: `name`).
    #[serde(default)]
    pub path: Option<String>,
    /// What the secret is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Keys inside the secret.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Rotate every N days (when a rotation function exists).
    #[serde(default)]
    pub rotation_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretEnv {
    /// Environment variable.
    pub name: String,
    /// `secrets[].name`.
    pub secret: String,
    /// Key inside the secret; default: the secret's only key, else the variable's name (ECS without
    /// a key reads the whole secret). A secret declaring several `keys`, none named like the
    /// variable, needs it (refused without).
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// HTTP GET path (or use `command`).
    #[serde(default)]
    pub path: Option<String>,
    /// Command to run instead of an HTTP GET.
    #[serde(default)]
    pub command: Vec<String>,
    /// Headers of the HTTP GET (`path`), e.g. `{ Host: shop.example.com }` for an application
    /// that answers only its own host names (Django `ALLOWED_HOSTS`, Rails `config.hosts`):
    /// the kubelet's request carries the pod's IP as its Host.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Port probed (default: the service's port).
    #[serde(default)]
    pub port: Option<u16>,
    /// Seconds after start before the first probe.
    #[serde(default)]
    pub initial_delay: Option<u32>,
    /// Seconds between probes.
    #[serde(default)]
    pub period: Option<u32>,
    /// Seconds a probe may take.
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Failures before the probe gives up.
    #[serde(default)]
    pub failure_threshold: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// Restart the container when this fails.
    #[serde(default)]
    pub liveness: Option<Probe>,
    /// Take the pod out of the Service while this fails.
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// Hold the other probes until this succeeds (slow starters).
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// Container health check (ECS task definitions, Docker HEALTHCHECK).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerHealthCheck {
    /// Command run in the container, e.g. `[CMD-SHELL, curl -f http://localhost:8080/health || exit
    /// 1]`.
    pub command: Vec<String>,
    /// Seconds between checks.
    #[serde(default)]
    pub interval: Option<u32>,
    /// Seconds a check may take.
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Failed checks before the container counts as unhealthy.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Seconds after start during which failures do not count.
    #[serde(default)]
    pub start_period: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingBehaviour {
    /// Seconds of recommendations considered before scaling (dampens flapping).
    #[serde(default)]
    pub stabilization_seconds: Option<u32>,
    /// Change at most this percentage of pods per period.
    #[serde(default)]
    pub percent: Option<u32>,
    /// Length of the period the percentage applies to.
    #[serde(default)]
    pub period_seconds: Option<u32>,
    /// Cooldown after a scaling activity (ECS).
    #[serde(default)]
    pub cooldown: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledScaling {
    /// Name of the scheduled action.
    pub name: String,
    /// `cron(min hour day-of-month month day-of-week year)` with `?` in one day field, e.g.
    /// `cron(0 8 ? 11 FRI *)`; or `rate(…)`, `at(…)`. Times are UTC.
    pub schedule: String,
    /// Fewest tasks while the schedule applies. 0 beside `cpu_percent`, `memory_percent`
    /// or `queue` only with `max: 0`: with no task running ECS publishes no metric, so those
    /// policies could never start one again.
    pub min: u32,
    /// Most tasks while the schedule applies.
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestScaling {
    /// Requests per target.
    pub target: u32,
    /// Seconds after scaling out before scaling out again.
    #[serde(default)]
    pub scale_out_cooldown: Option<u32>,
    /// Seconds after scaling in before scaling in again.
    #[serde(default)]
    pub scale_in_cooldown: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest replicas or tasks.
    pub min: u32,
    /// Most replicas or tasks.
    pub max: u32,
    /// Target average CPU utilization (%).
    #[serde(default)]
    pub cpu_percent: Option<u32>,
    /// Target average memory utilization (%).
    #[serde(default)]
    pub memory_percent: Option<u32>,
    /// Target requests per target of the load balancer: ECS Fargate only, on a service with
    /// `routes` (target tracking on its target group's `ALBRequestCountPerTarget`); refused on
    /// EKS, EKS Fargate, DOKS and existing clusters, where the load balancer's targets are the
    /// ingress controller's pods.
    #[serde(default)]
    pub requests: Option<RequestScaling>,
    /// How fast to scale out (rate limit and stabilization).
    #[serde(default)]
    pub scale_up: Option<ScalingBehaviour>,
    /// How fast to scale in (rate limit and stabilization).
    #[serde(default)]
    pub scale_down: Option<ScalingBehaviour>,
    /// Capacity changes at set times: ECS Fargate only (Application Auto Scaling scheduled
    /// actions); refused on EKS, EKS Fargate, DOKS and existing clusters, which have no
    /// object that moves an autoscaler's bounds at a time.
    #[serde(default)]
    pub scheduled: Vec<ScheduledScaling>,
    /// Scale a queue worker on its backlog: the messages waiting in an SQS queue per running
    /// task or replica (ECS: target tracking; EKS: a KEDA ScaledObject instead of an HPA,
    /// KEDA installed by `platform`; refused on DOKS and existing clusters; see
    /// docs/queue-workers.md).
    #[serde(default)]
    pub queue: Option<QueueScaling>,
}

/// Target tracking on an SQS queue's backlog per task: the queue's visible messages divided
/// by the service's running tasks (EKS: replicas), held near `messages_per_task`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueScaling {
    /// The `engine: sqs` queue (`queues[].name`) the service reads, and lists in `uses`.
    pub name: String,
    /// Messages waiting per running task the service keeps to: the latency it accepts
    /// divided by the seconds a task takes per message (60 s / 2 s per message = 30).
    pub messages_per_task: u32,
}

/// The gRPC health service's method: what the load balancer of a gRPC service calls, as the
/// pods' native gRPC probes do (<https://github.com/grpc/grpc/blob/master/doc/health-checking.md>).
pub const GRPC_HEALTH_PATH: &str = "/grpc.health.v1.Health/Check";

/// The application protocol a service speaks on its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServiceProtocol {
    #[default]
    Http,
    Grpc,
}

/// The CPU architecture an image is built for, as `docker buildx --platform linux/<arch>`
/// and the `kubernetes.io/arch` node label name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// x86-64 (Intel, AMD).
    Amd64,
    /// 64-bit Arm (AWS Graviton, Apple silicon).
    Arm64,
    /// A multi-platform image (a manifest list with both): runs on either.
    Multi,
}

impl Architecture {
    /// The `kubernetes.io/arch` value of a single-architecture image.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Architecture::Amd64 => Some("amd64"),
            Architecture::Arm64 => Some("arm64"),
            Architecture::Multi => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    #[default]
    Rolling,
    BlueGreen,
    Canary,
    /// Stop every old pod or task before a new one starts: a singleton (Celery beat, a clock
    /// process) never runs twice, at the cost of a gap at each rollout.
    Recreate,
}

impl Strategy {
    /// Blue/green or canary: two Deployments on Kubernetes, a deployment ECS runs itself.
    /// `rolling` and `recreate` replace one Deployment's pods (one ECS rolling deployment).
    pub fn two_tracks(self) -> bool {
        matches!(self, Strategy::BlueGreen | Strategy::Canary)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    #[default]
    Blue,
    Green,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// `rolling` (default), `blue_green`, `canary` or `recreate` (every old pod stops before a
    /// new one starts: for a singleton such as Celery beat; Kubernetes `Recreate`, on ECS a
    /// deployment with minimum healthy 0 % and maximum 100 %).
    #[serde(default)]
    pub strategy: Strategy,
    /// Rolling update surge, e.g. `25%` or `1`.
    #[serde(default)]
    pub max_surge: Option<String>,
    /// Rolling update: pods that may be down at once, e.g. `0` or `25%`.
    #[serde(default)]
    pub max_unavailable: Option<String>,
    /// Blue/green: the colour the Service sends traffic to.
    #[serde(default)]
    pub live: Color,
    /// Canary: percentage of traffic for the canary.
    #[serde(default)]
    pub canary_weight: Option<u32>,
    /// Canary and blue/green on Kubernetes platforms: the image of the second Deployment —
    /// the canary track (`<name>-canary`), or the colour that is not `live` — so a new
    /// version runs beside the one in `image` and takes the canary's share, or waits idle
    /// until `live` switches to it. Default: `image` (both run one version). Promote by
    /// moving it into `image` (and switching `live`). Pinned like `image`. Refused with
    /// other strategies and on ECS, whose deployments move to a new `image` themselves.
    #[serde(default)]
    pub next_image: Option<String>,
    /// ECS blue/green and canary: minutes the old revision keeps running after all traffic
    /// moved to the new one, the window in which a rollback is a weight flip (0–1440,
    /// default 10).
    #[serde(default)]
    pub bake_minutes: Option<u32>,
    /// ECS canary: minutes the canary takes `canary_weight` % of the traffic before the rest
    /// moves (0–1440, default 10).
    #[serde(default)]
    pub canary_minutes: Option<u32>,
    /// ECS: roll back a failing deployment automatically (default true). Left unset when
    /// not written, so a note can tell a written one from the default.
    #[serde(default)]
    pub circuit_breaker: Option<bool>,
    /// ECS: minimum healthy / maximum percent during a deployment.
    #[serde(default)]
    pub min_healthy_percent: Option<u32>,
    /// ECS: tasks may reach this percentage of the desired count during a deployment.
    #[serde(default)]
    pub max_percent: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
pub enum PathType {
    #[default]
    Prefix,
    Exact,
    ImplementationSpecific,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// URL path routed to the service, e.g. `/api`.
    pub path: String,
    /// How `path` matches: `Prefix` (default), `Exact` or `ImplementationSpecific`.
    #[serde(default)]
    pub path_type: PathType,
    /// Host (default: the ingress's first host).
    #[serde(default)]
    pub host: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodSecurity {
    /// User ID the containers run as (non-root; default 1001).
    #[serde(default = "default_uid")]
    pub run_as_user: u32,
    /// Group ID the containers run as.
    #[serde(default)]
    pub run_as_group: Option<u32>,
    /// Group that owns mounted volumes.
    #[serde(default)]
    pub fs_group: Option<u32>,
    /// Paths that get a writable emptyDir under the read-only root filesystem.
    #[serde(default = "default_writable")]
    pub writable_paths: Vec<String>,
}

impl Default for PodSecurity {
    fn default() -> Self {
        PodSecurity {
            run_as_user: default_uid(),
            run_as_group: None,
            fs_group: None,
            writable_paths: default_writable(),
        }
    }
}

fn default_uid() -> u32 {
    1001
}

fn default_writable() -> Vec<String> {
    vec!["/tmp".into()]
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pdb {
    /// Pods that must stay up (count or percentage).
    #[serde(default)]
    pub min_available: Option<String>,
    /// Pods that may be down at once (count or percentage).
    #[serde(default)]
    pub max_unavailable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
pub enum VpaMode {
    Off,
    Initial,
    Recreate,
    #[default]
    Auto,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpa {
    /// `Off`, `Initial`, `Recreate` or `Auto` (default).
    #[serde(default)]
    pub mode: VpaMode,
    /// Smallest requests the VPA may set.
    #[serde(default)]
    pub min: Quantity,
    /// Largest requests the VPA may set.
    #[serde(default)]
    pub max: Quantity,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Port Prometheus scrapes (default: the container port).
    #[serde(default)]
    pub port: Option<u16>,
    /// HTTP path Prometheus scrapes (Prometheus's `/metrics` when absent).
    #[serde(default)]
    pub path: Option<String>,
}

/// ECS task size: CPU units (1024 = 1 vCPU) and memory in MiB.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSize {
    /// ECS task CPU units (1024 = one vCPU), e.g. `256`.
    pub cpu: u32,
    /// ECS task memory in MiB, valid for the CPU, e.g. `512`.
    pub memory: u32,
}

/// Outbound traffic a service may send.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    /// Destination CIDR (default: anywhere).
    #[serde(default = "anywhere")]
    pub to: String,
    /// TCP ports.
    pub ports: Vec<u16>,
}

fn anywhere() -> String {
    "0.0.0.0/0".into()
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Service name: the Deployment, Service and ECS service are named after it.
    pub name: String,
    /// The component's previous name: `synth` emits Terraform `moved` blocks so its
    /// resources are renamed in state instead of destroyed and recreated.
    #[serde(default)]
    pub renamed_from: Option<String>,
    /// Namespace (default: `kubernetes.default_namespace`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Image with a pinned tag or digest.
    pub image: String,
    /// Kubernetes `imagePullPolicy` (`IfNotPresent`, `Always`, `Never`).
    #[serde(default)]
    pub image_pull_policy: Option<String>,
    /// The `secrets[]` entry to log in to the private registry of `image` outside ECR —
    /// Docker Hub, GitHub (`ghcr.io`, a personal access token with `read:packages`), GitLab,
    /// Quay. ECS Fargate: `repositoryCredentials`, the execution role reading that secret
    /// (keys `username` and `password`). Kubernetes: the pods name an image pull Secret of
    /// that name in their namespace, which on EKS the External Secrets Operator renders from
    /// the same secret (keys `username` and `password`) and on DOKS or an existing cluster
    /// is created out of band (`preconditions.json`). Sidecars of the same registry use it
    /// too. Refused for ECR images (the execution or node role pulls those). Required for a
    /// DigitalOcean Container Registry image (`registry.digitalocean.com/…`, no anonymous
    /// pulls) except on DOKS from the blueprint's own `registry`; see docs/blueprint.md
    /// "Private images".
    #[serde(default)]
    pub image_credentials: Option<String>,
    /// Container port. Omit it for a worker that serves nothing (a queue consumer): no
    /// Service, no route, no load balancer target; probes then run a `command` or none.
    #[serde(default)]
    pub port: Option<u16>,
    /// Port of the Kubernetes Service (default 80).
    #[serde(default)]
    pub service_port: Option<u16>,
    /// What the service speaks on `port`: `http` (default; the edge speaks HTTP/1.1 to it)
    /// or `grpc` (gRPC over HTTP/2 cleartext inside the cluster or VPC, TLS at the edge). A gRPC service gets gRPC load balancer target groups and health
    /// checks, the `GRPC` backend protocol of ingress-nginx, `appProtocol:
    /// kubernetes.io/h2c` on its Service port, native gRPC probes and Service Connect's
    /// `grpc` protocol; it is expected to implement the standard health service
    /// (`grpc.health.v1.Health/Check`). See docs/grpc.md.
    #[serde(default)]
    pub protocol: ServiceProtocol,
    /// The CPU architecture the image (and every sidecar's and init container's) is built
    /// for: `amd64`, `arm64`, or `multi` for a multi-platform image that runs on both. A
    /// container started on the other one exits at once with `exec format error`. ECS
    /// Fargate: the task's `runtimePlatform.cpuArchitecture` (`X86_64` for `amd64`, `multi`
    /// and by default; `ARM64`, Graviton, for `arm64`). Kubernetes: a `kubernetes.io/arch`
    /// node selector for `amd64` or `arm64`; on EKS a node pool of that architecture must be
    /// able to take the pods (Graviton instance types are `arm64`), EKS on Fargate and DOKS
    /// run `amd64` only. Unset: no selector, and on EKS where the pods may land on a Graviton
    /// pool a warning (`node-architecture`). See docs/kubernetes.md "CPU architecture".
    #[serde(default)]
    pub architecture: Option<Architecture>,
    /// Name of the Kubernetes Service / ECS service (default: the service's name).
    #[serde(default)]
    pub service_name: Option<String>,
    /// Ports the service's own pods reach each other on, for software that clusters its
    /// replicas (Erlang/Elixir distribution: EPMD 4369 and the distribution port; Akka,
    /// Hazelcast, JGroups): a headless Service `<service_name>-headless` whose DNS name
    /// resolves to every pod's address, ready or not (what libcluster's
    /// `Cluster.Strategy.Kubernetes.DNS` queries), and network policies admitting the pods
    /// from each other on these TCP ports; the app container gets its pod's address as
    /// `POD_IP` (downward API) to name its node by (`RELEASE_NODE: "app@$(POD_IP)"`). On ECS:
    /// a Cloud Map A record per task in a private DNS namespace `<prefix>.internal` and
    /// security-group rules admitting the tasks to each other on these ports (a task names
    /// its node from the task metadata endpoint; no `POD_IP`). On both, the app container
    /// gets the name to poll as `<SERVICE>_PEERS_HOST`. See docs/connections.md.
    #[serde(default)]
    pub peer_ports: Vec<u16>,
    /// Seconds a connection to the service may stay silent before a hop on its path cuts
    /// it, for WebSockets (Phoenix LiveView, ActionCable, Socket.IO), server-sent events and
    /// long polls. Every hop infragen configures waits at least this long (the load
    /// balancer's idle timeout, ingress-nginx's proxy read and send timeouts on the
    /// service's own Ingress, Service Connect's idle timeout), and none bounds how long one
    /// response lasts (the Gateway API route timeout is off). At most what the slowest hop
    /// accepts: 4000 behind an ALB, 600 behind a DigitalOcean load balancer, 6000 behind
    /// EKS's Network Load Balancer, 300 through Envoy Gateway, 2147483647 through ECS
    /// Service Connect alone. Only on a service with a `port` (a worker takes no
    /// connection). See docs/connections-long-lived.md.
    #[serde(default)]
    pub idle_timeout: Option<u32>,
    /// Log group of the container logs (ECS; default `/ecs/<name>`).
    #[serde(default)]
    pub log_group: Option<String>,
    /// Outbound traffic beyond the data services in `uses` (and DNS), e.g. HTTPS to APIs.
    #[serde(default)]
    pub egress: Vec<Egress>,
    /// Container name (default: the service's name).
    #[serde(default)]
    pub container_name: Option<String>,
    /// What the service does.
    #[serde(default)]
    pub description: Option<String>,
    /// Version label, e.g. `v1.0.0`.
    #[serde(default)]
    pub version: Option<String>,
    /// Replicas or tasks without autoscaling (default 1).
    #[serde(default = "one")]
    pub replicas: u32,
    /// CPU and memory requests and limits (Kubernetes).
    #[serde(default)]
    pub resources: Option<Resources>,
    /// NVIDIA GPUs for the app container of each pod (at least 1): `nvidia.com/gpu` in its
    /// limits, and the pods go to the GPU node pool (its `node_pool`, else the blueprint's
    /// only pool of an NVIDIA instance type or Droplet: EC2 `g4dn`/`g5`/`g6`/`p4`/`p5`…, DigitalOcean `gpu-…`), with a
    /// toleration for its taints. On EKS infragen installs NVIDIA's device plugin; DOKS GPU
    /// nodes come with it; an existing cluster (`--provider kubernetes`) must run it.
    /// Refused on ECS Fargate and EKS Fargate, which offer no GPUs. See docs/kubernetes.md.
    #[serde(default)]
    pub gpu: Option<u32>,
    /// ECS task size.
    #[serde(default)]
    pub task: Option<TaskSize>,
    /// Entrypoint override.
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments passed to the entrypoint.
    #[serde(default)]
    pub args: Vec<String>,
    /// Plain environment variables (never secrets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment variables read from `secrets`.
    #[serde(default)]
    pub secret_env: Vec<SecretEnv>,
    /// Kubernetes liveness, readiness and startup probes: an HTTP GET of `path`, a
    /// `command`, else a check of the port (a TCP connect, or for a `protocol: grpc` service
    /// a gRPC probe of its health service). Without any, that check of the port.
    #[serde(default)]
    pub probes: Probes,
    /// Container health check (ECS task definitions).
    #[serde(default)]
    pub health_check: Option<ContainerHealthCheck>,
    /// Seconds before load balancer health checks count (ECS).
    #[serde(default)]
    pub grace_period: Option<u32>,
    /// Seconds the app has to finish its work after SIGTERM (a rollout, a scale-in, a node
    /// drain) before it is killed: Kubernetes `terminationGracePeriodSeconds`, ECS
    /// `stopTimeout` of the task's containers (Fargate: at most 120). Default 30 on both; a
    /// queue worker's warm shutdown (Celery, Sidekiq) needs its longest task's time.
    #[serde(default)]
    pub stop_timeout: Option<u32>,
    /// Scale on CPU, memory, requests or a schedule between `min` and `max`.
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    /// How new versions roll out: rolling, blue/green or canary.
    #[serde(default)]
    pub rollout: Rollout,
    /// Paths the ingress or load balancer routes to the service.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Serve `routes` only from inside the network: a second, internal Application Load
    /// Balancer (admitting the VPC's CIDR and `load_balancer.internal_cidrs`) routes them,
    /// and the public edge does not — on ECS Fargate in the private subnets, on EKS (with a
    /// `load_balancer`) as an Ingress of class `alb` targeting the pods. DOKS, EKS with
    /// `ingress.gateway` and other clusters refuse it (see docs/blueprint.md, "Internal-only
    /// routes").
    #[serde(default)]
    pub internal_routes: bool,
    /// Databases, caches, queues, tables, buckets and secrets this service talks to, and
    /// other services (on Kubernetes platforms: their Service's address, and network
    /// policies between the two in any namespace; on ECS: Service Connect, created after
    /// them, so no cycles); drives network policies, security groups,
    /// least-privilege IAM and the connection variables the workload gets (`<NAME>_HOST`,
    /// `<NAME>_PORT`, … see `crate::wiring`). An item is a component's name, or
    /// `{ name, env_prefix, env }` to rename the variables' prefix and give single values
    /// extra names (`env: { DB_MASTER_HOST: host }`).
    #[serde(default)]
    pub uses: Vec<Use>,
    /// Service account (default: one per service named after it).
    #[serde(default)]
    pub service_account: Option<String>,
    /// Pod security context: user, group and writable paths.
    #[serde(default)]
    pub security: PodSecurity,
    /// Configuration files the containers read from disk (nginx.conf, a Prometheus or
    /// OpenTelemetry Collector config, `config/production.yaml`), each at its absolute
    /// `path`, read only, mode 0444. Kubernetes: a ConfigMap `<name>-files-<hash>` (a change
    /// is a new ConfigMap, so it rolls the pods), each file mounted at its own path (`subPath`:
    /// the image's other files in that directory stay). ECS Fargate: the container that
    /// prepares the task's volumes writes them before the others start, and the file's
    /// directory becomes a volume holding only the blueprint's files. Plain text in the
    /// output, never secrets (`secret_env`). An environment's `files` replaces the base's
    /// list. See docs/blueprint.md "Configuration files".
    #[serde(default)]
    pub files: Vec<ConfigFile>,
    /// Node pool the pods are scheduled on (node selector + toleration).
    #[serde(default)]
    pub node_pool: Option<String>,
    /// PodDisruptionBudget: how many pods voluntary disruptions may take.
    #[serde(default)]
    pub pdb: Option<Pdb>,
    /// VerticalPodAutoscaler: right-size requests between `min` and `max`.
    #[serde(default)]
    pub vpa: Option<Vpa>,
    /// Prometheus scraping of the service.
    #[serde(default)]
    pub metrics: Option<Metrics>,
    /// Extra labels on the workload and its pods.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations on the pods (agents that read them: log shippers, service meshes).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Containers beside the app in every pod or task (proxies, log shippers), hardened like
    /// it; on ECS further container definitions of the task.
    #[serde(default)]
    pub sidecars: Vec<ExtraContainer>,
    /// Containers run to completion, in order, before the app starts (waits, migrations),
    /// hardened like it; on ECS non-essential containers the app waits for (`dependsOn`
    /// `SUCCESS`).
    #[serde(default)]
    pub init: Vec<ExtraContainer>,
    /// A release step run once per deploy before the new version starts (a database
    /// migration: Django's `migrate`, `rails db:migrate`), with the app's environment and
    /// `uses` wiring. On Kubernetes platforms a Job named after a hash of its pod template,
    /// which the app's pods wait for in an init container; a failed run leaves the rollout
    /// stalled and the old version serving. Refused on ECS. See docs/release.md.
    #[serde(default)]
    pub release: Option<Release>,
}

/// Suffix of the `app` label of a service's release Job pods (`<service>-release`), which
/// network policies select: validation keeps other workloads off that name.
pub const RELEASE_SUFFIX: &str = "-release";

/// A service's release step (`services[].release`): one container run to completion per
/// deploy, before any pod of the new version starts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Image with a pinned tag or digest (default: the app's image).
    #[serde(default)]
    pub image: Option<String>,
    /// Entrypoint (default: the image's), e.g. `[python, manage.py, migrate, --noinput]`.
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments (default: the image's).
    #[serde(default)]
    pub args: Vec<String>,
    /// Plain environment variables on top of the app's (these win).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Requests and limits (infragen's defaults where not given); counted in the quota.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Seconds the run may take, retries included (the Job's `activeDeadlineSeconds`;
    /// default 1800).
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Times a failed run is retried, with the Job controller's growing delay (the Job's
    /// `backoffLimit`; default 6, Kubernetes' own): on a first deploy an in-cluster database
    /// starts beside the Job, and the first runs find it not yet listening.
    #[serde(default)]
    pub retries: Option<u32>,
}

/// A configuration file of a workload (`services[].files`, `jobs[].files`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Absolute path of the file in every container of the pod or task, e.g.
    /// `/etc/nginx/conf.d/default.conf` (letters, digits, `.`, `_`, `-` and `/`); not
    /// under `/proc`, `/dev`, `/sys`, a writable path or `/etc/infragen/ca`.
    pub path: String,
    /// The file's text, as is (`{env}` becomes the environment's name, as in every string);
    /// a YAML block scalar (`content: |`) keeps its lines.
    pub content: String,
}

/// A sidecar or init container: runs as the pod's user with a read-only root filesystem,
/// no privilege escalation and no capabilities, the pod's writable paths mounted, and
/// requests and limits (infragen's defaults where not given).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraContainer {
    /// Container name, unique in the pod.
    pub name: String,
    /// Image with a pinned tag or digest.
    pub image: String,
    /// Entrypoint (default: the image's).
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments (default: the image's).
    #[serde(default)]
    pub args: Vec<String>,
    /// Plain environment variables (never secrets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Requests and limits (infragen's defaults where not given); counted in the quota.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// ECS sidecars: whether the task stops when this container stops (default true). Init
    /// containers are never essential: the app waits for each to succeed.
    #[serde(default)]
    pub essential: Option<bool>,
    /// Give this container the app container's environment too: its `env`, `secret_env` and
    /// the connection variables of what it `uses` (a migration step needs the database's
    /// host and credentials). The container's own `env` wins. Default off: a log shipper or
    /// proxy gets no credentials it does not need.
    #[serde(default)]
    pub app_env: bool,
}

/// One component a service uses: written as its name (`ledger-db`) or as a mapping that
/// renames the prefix of its connection variables (`{ name: ledger-db, env_prefix: DB }`)
/// and gives single values extra names (`env: { DB_MASTER_HOST: host }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The component's name (`databases[].name`, `caches[].name`, …).
    pub name: String,
    /// Prefix of the connection variables (default: the name in upper snake case).
    pub env_prefix: Option<String>,
    /// Extra variable names for single connection values: variable name → field in lower
    /// snake case (`DB_MASTER_HOST: host`), each with the same source as the generated
    /// variable it copies (`crate::wiring::alias`).
    pub env: BTreeMap<String, String>,
}

impl Service {
    /// The service's `idle_timeout` when it serves a port (a worker holds no connection).
    pub fn long_lived(&self) -> Option<u32> {
        self.idle_timeout.filter(|_| self.port.is_some())
    }

    /// Whether the service speaks gRPC on its port (`protocol: grpc`).
    pub fn grpc(&self) -> bool {
        self.protocol == ServiceProtocol::Grpc && self.port.is_some()
    }

    /// The probe whose `path` an ALB health check takes where `load_balancer.health_check`
    /// gives none, with its kind: the readiness probe's for an ECS target group, the
    /// readiness else liveness probe's for the AWS Load Balancer Controller (`ecs` false).
    /// None for a gRPC service, whose checks call its health service instead.
    pub fn alb_probe(&self, ecs: bool) -> Option<(&'static str, &Probe)> {
        if self.grpc() {
            return None;
        }
        let readiness = self.probes.readiness.as_ref().filter(|p| p.path.is_some());
        let liveness = self.probes.liveness.as_ref().filter(|p| p.path.is_some());
        match (readiness, liveness) {
            (Some(p), _) => Some(("readiness", p)),
            (None, Some(p)) if !ecs => Some(("liveness", p)),
            _ => None,
        }
    }

    /// The lowest port below 1024 the service listens on (its `port`, or its metrics port),
    /// if any. Its containers run as non-root with every capability dropped, so the kernel
    /// lets them bind such a port only where the network namespace lowers
    /// `net.ipv4.ip_unprivileged_port_start` — which the Kubernetes manifests (a safe pod
    /// sysctl) and ECS task definitions (`systemControls`) do, no lower than needed; EKS on
    /// Fargate sets no sysctls, so there such a port is refused (`semantic::fargate`).
    pub fn privileged_port(&self) -> Option<u16> {
        let metrics = self.metrics.as_ref().and_then(|m| m.port);
        [self.port, metrics]
            .into_iter()
            .flatten()
            .filter(|p| *p < 1024)
            .min()
    }
}

impl Use {
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// `LEDGER_DB` for `ledger-db`, or the blueprint's `env_prefix`.
    pub fn prefix(&self) -> String {
        self.env_prefix
            .clone()
            .unwrap_or_else(|| upper_snake(&self.name))
    }
}

/// `ledger-db` → `LEDGER_DB`: the environment-variable spelling of a name.
pub fn upper_snake(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl std::ops::Deref for Use {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl PartialEq<str> for Use {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

impl PartialEq<&str> for Use {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

impl PartialEq<String> for Use {
    fn eq(&self, other: &String) -> bool {
        &self.name == other
    }
}

impl PartialEq<Use> for String {
    fn eq(&self, other: &Use) -> bool {
        *self == other.name
    }
}

impl From<&str> for Use {
    fn from(name: &str) -> Self {
        Use {
            name: name.to_string(),
            env_prefix: None,
            env: BTreeMap::new(),
        }
    }
}

/// A used component whose connection variables get another prefix, or single values extra
/// names.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UseDetail {
    /// The component's name.
    name: String,
    /// Prefix of its connection variables, upper snake case (`DB` gives `DB_HOST`, …).
    #[serde(default)]
    env_prefix: Option<String>,
    /// Extra names for single connection values, for applications that read names of
    /// their own: variable name (upper snake case) → field (lower snake case: `host`,
    /// `replica_host`, `port`, `database`, `url`, `username`, `password`, `auth_token`,
    /// `ca_file`, `dlq_url`, `queue`, `table`, `bucket`, `region`, `endpoint`, `access_key_id`,
    /// `secret_access_key`), e.g. `{ DB_MASTER_HOST: host, DB_NAME: database }`. Each gets
    /// exactly the source of the generated variable it copies (`<PREFIX>_HOST`, …): a plain
    /// value stays plain, a credential stays a reference to the same secret and key.
    #[serde(default)]
    #[schemars(schema_with = "use_env_schema")]
    env: BTreeMap<String, String>,
}

/// The field names `uses[].env` takes: the wiring layer's `Field`s, in its order (a unit
/// test there keeps the two equal; the blueprint layer does not depend on wiring).
pub const USE_ENV_FIELDS: [&str; 17] = [
    "host",
    "replica_host",
    "port",
    "database",
    "url",
    "dlq_url",
    "queue",
    "table",
    "bucket",
    "region",
    "endpoint",
    "username",
    "password",
    "auth_token",
    "access_key_id",
    "secret_access_key",
    "ca_file",
];

/// `uses[].env` for editors: variable names as keys, field names as values (validation says
/// which fields the component gives, with positions).
fn use_env_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z_][A-Z0-9_]*$"},
        "additionalProperties": {"type": "string", "enum": USE_ENV_FIELDS},
    })
}

/// A component the service uses: its name, or `{ name, env_prefix, env }` to rename the
/// prefix of its connection variables (`ledger-db` gives `LEDGER_DB_HOST`; `env_prefix: DB`
/// gives `DB_HOST`) and give single values extra names (`env: { DB_MASTER_HOST: host }`).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum UseForm {
    /// The component's name.
    Name(String),
    Detail(UseDetail),
}

impl JsonSchema for Use {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Use".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        UseForm::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Use {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Use;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a component name or a mapping with `name`, `env_prefix` and `env`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Use, E> {
                Ok(Use::from(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Use, A::Error> {
                let d = UseDetail::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Use {
                    name: d.name,
                    env_prefix: d.env_prefix,
                    env: d.env,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum PodSecurityLevel {
    #[default]
    Restricted,
    Baseline,
    Privileged,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// Namespace name.
    pub name: String,
    /// Labels on the namespace.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Pod Security Admission level enforced.
    #[serde(default)]
    pub pod_security: PodSecurityLevel,
    /// ResourceQuota `hard` limits, e.g. `requests.cpu: "4"`.
    #[serde(default)]
    pub quota: BTreeMap<String, String>,
    /// Default and maximum container resources in the namespace (LimitRange).
    #[serde(default)]
    pub limit_range: Option<LimitRange>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitRange {
    /// Limits given to containers that set none.
    #[serde(default)]
    pub default: Quantity,
    /// Requests given to containers that set none.
    #[serde(default)]
    pub default_request: Quantity,
    /// Largest limits a container may set.
    #[serde(default)]
    pub max: Quantity,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// ServiceAccount name.
    pub name: String,
    /// Namespace of the ServiceAccount.
    pub namespace: String,
    /// Mount the API token into pods (off unless the workload calls the API).
    #[serde(default)]
    pub automount_token: bool,
    /// Role (same namespace) bound to it.
    #[serde(default)]
    pub role: Option<String>,
    /// ClusterRole bound to it.
    #[serde(default)]
    pub cluster_role: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// API groups (`""` for the core group).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Resources, e.g. `pods`, `configmaps`.
    pub resources: Vec<String>,
    /// Verbs, e.g. `get`, `list`, `watch`.
    pub verbs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role or ClusterRole name.
    pub name: String,
    /// Namespace for a Role; absent for a ClusterRole.
    #[serde(default)]
    pub namespace: Option<String>,
    /// What the role allows.
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicies {
    /// Deny all ingress by default in application namespaces.
    #[serde(default = "yes")]
    pub default_deny_ingress: bool,
    /// Pods may reach other pods of their namespace (default on).
    #[serde(default = "yes")]
    pub allow_same_namespace: bool,
    /// Allow the ingress controller's namespace to reach routed services.
    #[serde(default = "yes")]
    pub allow_from_ingress: bool,
    /// Per-service ingress/egress derived from `services[].uses`.
    #[serde(default = "yes")]
    pub per_service: bool,
    /// Namespace Prometheus scrapes from (metrics ports only). Default: the declared
    /// namespace meant for monitoring (named `monitoring` or `*-monitoring`, or labelled
    /// `purpose: monitoring`); with none, no namespace may scrape.
    #[serde(default)]
    pub monitoring_namespace: Option<String>,
}

impl Default for NetworkPolicies {
    fn default() -> Self {
        NetworkPolicies {
            default_deny_ingress: true,
            allow_same_namespace: true,
            allow_from_ingress: true,
            per_service: true,
            monitoring_namespace: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    Acme,
    SelfSigned,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// ClusterIssuer name, referred to by `ingress.tls.issuer`.
    pub name: String,
    /// `acme` (e.g. Let's Encrypt) or `self_signed`.
    pub kind: IssuerKind,
    /// ACME directory URL.
    #[serde(default)]
    pub server: Option<String>,
    /// Contact e-mail registered with the ACME server (expiry notices).
    #[serde(default)]
    pub email: Option<String>,
    /// Ingress class that solves HTTP-01 challenges.
    #[serde(default)]
    pub solver_class: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replicas {
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressController {
    /// Which controller to install: `nginx` or `alb`.
    #[serde(default)]
    pub kind: IngressClass,
    /// Controller Helm chart version; the versions catalog's pin when absent.
    #[serde(default)]
    pub chart_version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// Namespace the controller is installed in (default `ingress-nginx`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Controller replicas (autoscaled between `min` and `max`).
    #[serde(default)]
    pub replicas: Option<Replicas>,
    /// CPU and memory requests and limits of the controller.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Expose the controller's Prometheus metrics (default on).
    #[serde(default = "yes")]
    pub metrics: bool,
    /// Name of the cloud load balancer the controller's Service creates.
    #[serde(default)]
    pub load_balancer_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertManager {
    /// cert-manager Helm chart version; the versions catalog's pin when absent.
    #[serde(default)]
    pub chart_version: Option<String>,
    /// Accept a version the catalog (`providers/releases.json`) says is past its end, for a
    /// resource that already exists: `synth` warns instead of refusing. Never covers a
    /// version with a known critical vulnerability.
    #[serde(default)]
    pub allow_unsupported: bool,
    /// Namespace cert-manager is installed in (default `cert-manager`).
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesPlatform {
    /// Namespace of services that name none.
    #[serde(default)]
    pub default_namespace: Option<String>,
    /// Namespaces with their labels, Pod Security level, quota and default limits.
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
    /// ServiceAccounts and the roles bound to them.
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    /// Roles (with `namespace`) and ClusterRoles (without).
    #[serde(default)]
    pub roles: Vec<Role>,
    /// NetworkPolicies: default deny and what is allowed.
    #[serde(default)]
    pub network_policies: NetworkPolicies,
    /// cert-manager ClusterIssuers.
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    /// Install an ingress controller (Helm).
    #[serde(default)]
    pub ingress_controller: Option<IngressController>,
    /// Install cert-manager (Helm) to issue certificates.
    #[serde(default)]
    pub cert_manager: Option<CertManager>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Comparison {
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = ">=")]
    GreaterOrEqual,
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    LessOrEqual,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    /// Alarm name (unique within the blueprint).
    pub name: String,
    /// Shown in the alarm and its notifications.
    #[serde(default)]
    pub description: Option<String>,
    /// Metric namespace, e.g. `AWS/ECS`.
    pub namespace: String,
    /// Metric name, e.g. `CPUUtilization`.
    pub metric: String,
    /// Statistic over each period: `Average` (default), `Sum`, `Minimum`, `Maximum`, `SampleCount`.
    #[serde(default = "default_statistic")]
    pub statistic: String,
    /// Seconds.
    pub period: u32,
    /// Consecutive periods the condition must hold before the alarm fires.
    pub evaluation_periods: u32,
    /// Value the statistic is compared with.
    pub threshold: f64,
    /// How the statistic is compared with `threshold`.
    pub comparison: Comparison,
    /// Component the alarm watches (its dimensions are filled in).
    #[serde(default)]
    pub target: Option<String>,
}

fn default_statistic() -> String {
    "Average".into()
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    /// Days service logs are kept (default 30): the retention of the CloudWatch log groups
    /// AWS output writes container logs to. DigitalOcean and `--provider kubernetes` output
    /// ship no logs (they stay on the nodes, rotated by the kubelet; a note says so).
    #[serde(default = "default_log_retention")]
    pub log_retention_days: u32,
    /// Metric alarms (CloudWatch). One on the same `target`, `namespace` and `metric` as a
    /// default alarm of AWS output (RDS CPU and free storage, ElastiCache engine CPU and
    /// memory) replaces that default.
    #[serde(default)]
    pub alarms: Vec<Alarm>,
    /// Topic name alarms notify (created).
    #[serde(default)]
    pub alert_topic: Option<String>,
    /// Who the alert topic notifies: e-mail addresses (`ops@example.com`) and HTTPS endpoints
    /// (`https://events.pagerduty.com/integration/<key>/enqueue`). Each is subscribed to the
    /// topic and must confirm the subscription. Without any, alarms notify nobody (a warning);
    /// on AWS output with nothing to alarm on, no topic is made and a note says so. A chat
    /// app's incoming webhook (`https://hooks.slack.com/…`) is refused on AWS: it cannot
    /// confirm an SNS subscription (give the channel's e-mail address, or AWS Chatbot). On
    /// DigitalOcean the e-mail addresses (team members of the account) are alerted by Uptime
    /// checks of the `ingress.hosts` (down from every region, certificate ending within 14
    /// days) and by monitor alerts on each managed database and cache (disk above 85 %, CPU or
    /// memory above 90 % for 10 minutes) and on the DOKS nodes (memory above 90 %, disk above
    /// 85 %, for 10 minutes).
    #[serde(default)]
    pub notify: Vec<String>,
}

fn default_log_retention() -> u32 {
    30
}

/// An object storage bucket: private (public access blocked, owner-enforced), versioned,
/// encrypted, TLS-only.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Name in the blueprint (a DNS label).
    pub name: String,
    /// Globally unique bucket name (default `<name>-<env>-<bucket>`, on AWS followed by
    /// `-<account id>`; a derived name longer than 63 characters is refused).
    #[serde(default)]
    pub bucket: Option<String>,
    /// What the bucket holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Keep every version of each object (default on).
    #[serde(default = "yes")]
    pub versioning: bool,
    /// Move objects to an archive storage class (S3 Glacier Flexible Retrieval) after N days
    /// (AWS; Spaces has one storage class).
    #[serde(default)]
    pub archive_after_days: Option<u32>,
    /// Delete objects after N days.
    #[serde(default)]
    pub expire_after_days: Option<u32>,
    /// Cross-origin rules for browsers that call the bucket directly, e.g. uploads with
    /// presigned URLs: the S3 bucket's CORS configuration on AWS, the Spaces bucket's on
    /// DigitalOcean (none by default: browsers then refuse cross-origin requests to it).
    /// The first rule matching a request's origin, method and headers answers it.
    #[serde(default)]
    pub cors: Vec<BucketCors>,
}

/// One CORS rule of a bucket (S3's `CORSRule`, which Spaces implements too).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketCors {
    /// Origins allowed, as a browser sends them in `Origin`: `scheme://host[:port]`, no
    /// path, e.g. `https://app.example.com`; at most one `*` each
    /// (`https://*.example.com`), or `*` alone for any origin.
    pub allowed_origins: Vec<String>,
    /// HTTP methods allowed (`GET`, `PUT`, `POST`, `DELETE`, `HEAD`); the preflight `OPTIONS`
    /// is answered by the service itself.
    pub allowed_methods: Vec<CorsMethod>,
    /// Request headers a preflight may ask for (`Access-Control-Request-Headers`), e.g.
    /// `content-type`, `x-amz-*`; at most one `*` each, `*` alone for any.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// Response headers the page's script may read, e.g. `ETag` (a multipart upload from the
    /// browser needs each part's ETag to complete it). Names only, no `*`.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Seconds a browser may cache a preflight response.
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

/// An HTTP method a bucket's CORS rule allows: the S3 API's set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CorsMethod {
    Get,
    Put,
    Post,
    Delete,
    Head,
}

impl CorsMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CorsMethod::Get => "GET",
            CorsMethod::Put => "PUT",
            CorsMethod::Post => "POST",
            CorsMethod::Delete => "DELETE",
            CorsMethod::Head => "HEAD",
        }
    }
}

/// A named component, so checks and renames treat every kind of component alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component<'a> {
    /// The list it is in (`databases`, `services`, …).
    pub list: &'static str,
    pub index: usize,
    pub name: &'a str,
    pub renamed_from: Option<&'a str>,
}

impl Bucket {
    /// Its name where no account id is appended (DigitalOcean Spaces): the blueprint's
    /// `bucket`, else `<prefix>-<name>` with the stack's `<name>-<env>` prefix.
    pub fn name_in(&self, prefix: &str) -> String {
        self.bucket
            .clone()
            .unwrap_or_else(|| format!("{prefix}-{}", self.name))
    }
}

impl Blueprint {
    /// Every named component (node pools, Fargate profiles, databases, caches, queues,
    /// tables, secrets, services, jobs), in blueprint order within each list.
    /// The RabbitMQ brokers among `queues` (SQS queues are no brokers: no host, port,
    /// credentials, security group or StatefulSet).
    pub fn brokers(&self) -> impl Iterator<Item = &Queue> {
        self.queues.iter().filter(|q| !q.sqs())
    }

    /// The SQS queues among `queues`.
    pub fn sqs_queues(&self) -> impl Iterator<Item = &Queue> {
        self.queues.iter().filter(|q| q.sqs())
    }

    /// Where the workloads run (`cluster.platform`); `None` without a cluster.
    pub fn platform(&self) -> Option<Platform> {
        self.cluster.as_ref().map(|c| c.platform)
    }

    /// The platform `provider` realises `cluster.platform` as: an EKS blueprint runs on DOKS
    /// when synthesized for DigitalOcean, and every blueprint on an existing cluster for
    /// `kubernetes`. Checks of what a created cluster needs (node pools, an ingress
    /// controller, a region offering DOKS) key on this, not on the literal `cluster.platform`,
    /// so a blueprint written for several providers is judged as each one builds it.
    pub fn platform_on(&self, provider: crate::catalog::Provider) -> Option<Platform> {
        use crate::catalog::Provider;
        let p = self.platform()?;
        Some(match (provider, p) {
            (Provider::Digitalocean, Platform::Eks | Platform::EksFargate) => Platform::Doks,
            (Provider::Kubernetes, _) => Platform::Existing,
            (_, p) => p,
        })
    }

    /// The longest `idle_timeout` of the services the edge routes to on `provider`: what a
    /// load balancer shared by all of them (its idle timeout is one attribute for every
    /// listener and target) must wait at least. ECS's ALB routes `routes` itself; on a
    /// Kubernetes platform only an enabled `ingress` routes them (`ingress.enabled: false`:
    /// no edge at all).
    pub fn edge_idle_timeout(&self, provider: crate::catalog::Provider) -> Option<u32> {
        if !self.routes_reach_an_edge(provider) {
            return None;
        }
        self.services
            .iter()
            .filter(|s| !s.routes.is_empty())
            .filter_map(|s| s.long_lived())
            .max()
    }

    /// Whether services' `routes` reach the load balancer on `provider`: always on ECS (its
    /// ALB's listener rules), through an enabled `ingress` on Kubernetes. Judged on the
    /// platform `provider` builds ([`Self::platform_on`]), as every check of what the
    /// output holds is: an ECS blueprint synthesized for `kubernetes` runs on an existing
    /// cluster, where only an Ingress routes.
    pub fn routes_reach_an_edge(&self, provider: crate::catalog::Provider) -> bool {
        self.platform_on(provider) == Some(Platform::EcsFargate)
            || self.ingress.as_ref().is_some_and(|i| i.enabled)
    }

    /// The idle timeout of the load balancer (`load_balancer`): the longer of
    /// `load_balancer.idle_timeout` and the routed services' `idle_timeout`, since an ALB
    /// has one for all its targets; `None` where neither is written (AWS's 60 s).
    pub fn lb_idle_timeout(&self, provider: crate::catalog::Provider) -> Option<u32> {
        let lb = self.load_balancer.as_ref().and_then(|lb| lb.idle_timeout);
        lb.max(self.edge_idle_timeout(provider))
    }

    /// The Gateway API settings of an enabled Ingress (`ingress.gateway`): Envoy Gateway
    /// then takes the traffic.
    pub fn gateway(&self) -> Option<&IngressGateway> {
        self.ingress
            .as_ref()
            .filter(|i| i.enabled)
            .and_then(|i| i.gateway.as_ref())
    }

    /// The ingress-nginx controller infragen installs: `kubernetes.ingress_controller` of
    /// kind `nginx`, unless the Gateway API takes the traffic ([`Self::gateway`]), when
    /// Envoy Gateway is installed instead, whatever `ingress_controller` says.
    pub fn ingress_nginx(&self) -> Option<&IngressController> {
        if self.gateway().is_some() {
            return None;
        }
        self.kubernetes
            .as_ref()
            .and_then(|k| k.ingress_controller.as_ref())
            .filter(|c| c.kind == IngressClass::Nginx)
    }

    /// Whether the `load_balancer` fronts ingress-nginx: an enabled Ingress of class
    /// `nginx` served by infragen's ingress-nginx ([`Self::ingress_nginx`]). On EKS that ALB
    /// is made from the edge Ingress of `terraform/platform`, so Terraform knows it by name.
    pub fn alb_fronts_nginx(&self) -> bool {
        self.load_balancer.is_some()
            && self
                .ingress
                .as_ref()
                .is_some_and(|i| i.enabled && i.class == IngressClass::Nginx)
            && self.ingress_nginx().is_some()
    }

    /// The namespace of the workloads and in-cluster data services that name no other:
    /// `kubernetes.default_namespace`, else the blueprint's name.
    pub fn default_namespace(&self) -> &str {
        self.kubernetes
            .as_ref()
            .and_then(|k| k.default_namespace.as_deref())
            .unwrap_or(&self.name)
    }

    pub fn components(&self) -> Vec<Component<'_>> {
        let mut out = Vec::new();
        macro_rules! lists {
            ($($field:ident),*) => {$(
                for (index, x) in self.$field.iter().enumerate() {
                    out.push(Component {
                        list: stringify!($field),
                        index,
                        name: &x.name,
                        renamed_from: x.renamed_from.as_deref(),
                    });
                }
            )*};
        }
        lists!(
            node_pools,
            fargate_profiles,
            databases,
            caches,
            queues,
            tables,
            secrets,
            services,
            jobs
        );
        out
    }

    /// The pods every back-end builds the same way: the services', then the jobs' (a job's
    /// pod is a portless service, see [`super::job::Job::pod`]).
    pub fn workloads(&self) -> impl Iterator<Item = &Service> {
        self.services
            .iter()
            .chain(self.jobs.iter().map(super::job::Job::pod))
    }

    /// [`Self::workloads`] with each one's blueprint path (`services[i]`, `jobs[i]`), which
    /// diagnostics about a pod point at.
    pub fn workloads_at(&self) -> impl Iterator<Item = (String, &Service)> {
        let services =
            (self.services.iter().enumerate()).map(|(i, s)| (format!("services[{i}]"), s));
        let jobs = (self.jobs.iter().enumerate()).map(|(i, j)| (format!("jobs[{i}]"), j.pod()));
        services.chain(jobs)
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Provider;

    /// An ECS blueprint's routes reach its ALB on AWS; on `--provider kubernetes` it runs on
    /// an existing cluster, where routes reach an edge only through an enabled `ingress`, so
    /// a routed service's `idle_timeout` raises no load balancer there.
    #[test]
    fn routes_reach_an_edge_on_the_platform_the_provider_builds() {
        let text = "name: shop\nproviders: { aws: { region: eu-west-1 } }\n\
                    cluster: { platform: ecs_fargate }\n\
                    services:\n  - { name: web, image: \"nginx:1.27.3\", port: 80, routes: [{ path: / }], idle_timeout: 900 }\n";
        let bp = crate::blueprint::load("shop.yaml", text.as_bytes(), Provider::Aws, "production")
            .unwrap_or_else(|d| panic!("{d}"))
            .blueprint;
        assert!(bp.routes_reach_an_edge(Provider::Aws));
        assert_eq!(bp.edge_idle_timeout(Provider::Aws), Some(900));
        assert!(!bp.routes_reach_an_edge(Provider::Kubernetes));
        assert_eq!(bp.edge_idle_timeout(Provider::Kubernetes), None);
    }
}
