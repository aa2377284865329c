//! Credentials on EKS: the External Secrets Operator syncs each service's credentials from
//! where AWS keeps them into the service's `<service>-connections` Secret, which its pods read
//! by key (`crate::k8s::connect`). Nothing is copied into a file, and a secret changed in
//! AWS reaches the Secret within the refresh interval (pods read it as they start).
//!
//! - `infra`: the operator's IRSA role, allowed `GetSecretValue` on exactly the secrets the
//!   services read (the databases' master credentials secrets, the caches' AUTH token secrets, the
//!   blueprint's own secrets), `GetParameter` on exactly the brokers' password parameters, and
//!   `kms:Decrypt` on their keys only through those services.
//! - `platform`: the operator's Helm release (CRDs included); its namespaces; the endpoints
//!   ConfigMaps (from data sources); the credentials of in-cluster data services.
//! - `connections` (a root module of its own, applied after `platform`): the custom resources
//!   — two ClusterSecretStores (Secrets Manager, Parameter Store), one ExternalSecret per
//!   service, and one per namespace and `image_credentials` secret rendering the image pull
//!   Secret ([`pull_secret`]) — as `kubernetes_manifest` resources. `kubernetes_manifest` reads the kind's
//!   schema from the API server at plan, so it cannot plan a kind whose CRD the same run
//!   installs: the CRDs come with `platform`'s release, and this module plans against them.
//!   It is Terraform rather than a manifest under `k8s/` because the secrets it reads are
//!   `infra`'s, named by Terraform.

use std::collections::{BTreeMap, BTreeSet};

use crate::json;
use crate::terraform::Json;

use super::Ctx;
use super::connect::{self, In, Resolved, Source};
use super::identity::{irsa_role, role_name};
use crate::backend::{connections, helm};
use crate::k8s;
use crate::terraform::{Expr, Module, data};
use crate::wiring::{self, Binding, Field, Flavor, Kind, Value};

/// A [`Binding`] again from a plan's endpoint entry.
fn binding(e: &(String, String, Kind, Field)) -> Binding<'_> {
    Binding {
        var: e.0.clone(),
        component: &e.1,
        kind: e.2,
        value: Value::Field(e.3),
    }
}

const SECRETS_MANAGER_STORE: &str = "aws-secrets-manager";
const PARAMETER_STORE: &str = "aws-parameter-store";

/// One service's synced credentials.
pub struct ServicePlan {
    pub namespace: String,
    pub service: String,
    /// (variable, where it is read in `platform`: names or data-source ARNs).
    pub entries: Vec<(String, Source)>,
    /// The same, as `infra` spells them (resource ARNs), with their keys.
    pub infra: Vec<(Source, Option<(Expr, &'static str)>)>,
    /// The service's endpoint variables (for its ConfigMap): (variable, component, kind,
    /// field).
    pub endpoints: Vec<(String, String, Kind, Field)>,
    /// The managed databases whose master secret it reads (found by data source in
    /// `connections`).
    pub databases: Vec<(String, String, Kind, Field)>,
    /// Its `image_credentials` secret (the blueprint name) and the `auths` key of its
    /// image's registry.
    pub pull: Option<(String, String)>,
}

fn role() -> &'static str {
    helm::EXTERNAL_SECRETS_SA
}

/// Per service: what External Secrets syncs and which endpoints its ConfigMap holds.
pub fn plan(ctx: &Ctx) -> Vec<ServicePlan> {
    if !ctx.is_eks() {
        return Vec::new();
    }
    let bp = ctx.v.bp;
    let opts = super::platform::options(ctx);
    let managed = k8s::managed_bindings(ctx.v, &opts);
    let namespaces = k8s::service_namespaces(ctx.v, &opts);
    let mut out = Vec::new();
    for s in bp.workloads() {
        let namespace = namespaces
            .iter()
            .find(|(n, _)| n == &s.name)
            .map(|(_, ns)| ns.clone())
            .unwrap_or_default();
        let mut p = ServicePlan {
            namespace,
            service: s.name.clone(),
            entries: Vec::new(),
            infra: Vec::new(),
            endpoints: Vec::new(),
            databases: Vec::new(),
            pull: s.image_credentials.clone().map(|n| {
                let host = crate::semantic::image_credentials::auths_key(&s.image);
                (n, host.to_string())
            }),
        };
        for e in &s.secret_env {
            let sec = bp.secrets.iter().find(|x| x.name == e.secret);
            let key = e
                .key
                .clone()
                .or_else(|| sec.filter(|x| x.keys.len() == 1).map(|x| x.keys[0].clone()));
            p.entries.push((
                e.name.clone(),
                Source::Secret {
                    arn: super::secrets::name(ctx, &e.secret).into(),
                    key: key.clone(),
                },
            ));
            p.infra.push((
                Source::Secret {
                    arn: super::secrets::secret(&e.secret).arn(),
                    key,
                },
                Some((super::secrets::key().arn(), "secretsmanager")),
            ));
        }
        if let Some((_, _, list)) = managed.iter().find(|(_, n, _)| n == &s.name) {
            for b in list {
                let from_store = match b.value {
                    Value::Field(f) => wiring::from_secret_store(b.kind, Flavor::Aws, f),
                    Value::Key(_) => true,
                };
                if !from_store {
                    if let Value::Field(f) = b.value {
                        p.endpoints
                            .push((b.var.clone(), b.component.to_string(), b.kind, f));
                    }
                    continue;
                }
                if let (
                    Some(Resolved::Credential(at_platform)),
                    Some(Resolved::Credential(at_infra)),
                ) = (
                    connect::resolve(ctx, b, In::Platform),
                    connect::resolve(ctx, b, In::Infra),
                ) {
                    p.entries.push((b.var.clone(), at_platform));
                    p.infra.push((at_infra, connect::key_of(ctx, b)));
                    if let Kind::Database(_) = b.kind
                        && let Value::Field(f) = b.value
                    {
                        p.databases
                            .push((b.var.clone(), b.component.to_string(), b.kind, f));
                    }
                }
            }
        }
        if !p.entries.is_empty() || !p.endpoints.is_empty() || p.pull.is_some() {
            out.push(p);
        }
    }
    out
}

/// The operator's IAM role name.
fn role_name_of(ctx: &Ctx) -> String {
    role_name(ctx, "external-secrets")
}

/// The operator's IRSA role in `infra`, when any service reads a credential.
pub fn infra(ctx: &Ctx, m: &mut Module) {
    let plans = plan(ctx);
    let mut secrets = BTreeSet::new();
    let mut parameters = BTreeSet::new();
    let mut keys: BTreeSet<(Expr, &str)> = BTreeSet::new();
    for p in &plans {
        for (src, key) in &p.infra {
            match src {
                Source::Secret { arn, .. } => secrets.insert(arn.clone()),
                Source::Parameter { arn } => parameters.insert(arn.clone()),
            };
            keys.extend(key.clone());
        }
        // The registry login the image pull Secret is rendered from.
        if let Some((name, _)) = &p.pull {
            secrets.insert(super::secrets::secret(name).arn());
            keys.insert((super::secrets::key().arn(), "secretsmanager"));
        }
    }
    if secrets.is_empty() && parameters.is_empty() {
        return;
    }
    let mut statements = Vec::new();
    if !secrets.is_empty() {
        statements.push(json!({
            "Sid": "ReadTheServicesSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": secrets.into_iter().collect::<Vec<_>>(),
        }));
    }
    if !parameters.is_empty() {
        statements.push(json!({
            "Sid": "ReadTheServicesParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": parameters.into_iter().collect::<Vec<_>>(),
        }));
    }
    statements.extend(super::iam::decrypt_via(
        &keys,
        &ctx.region,
        ["DecryptThroughSecretsManager", "DecryptThroughSsm"],
    ));
    irsa_role(
        ctx,
        m,
        "external_secrets",
        &role_name_of(ctx),
        (helm::EXTERNAL_SECRETS_NAMESPACE, role()),
        statements,
        &[],
    );
}

/// A ClusterSecretStore of `service` (`SecretsManager`, `ParameterStore`) in the region,
/// authenticated as the operator's own IRSA identity.
fn store(ctx: &Ctx, name: &str, service: &str) -> Json {
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "infragen"}},
        "spec": {"provider": {"aws": {"service": service, "region": &ctx.region}}},
    })
}

/// The ExternalSecret `name` of workload `workload` (in `namespace`) reading `entries` from
/// store `store` into the workload's `<workload>-connections` Secret.
fn external_secret(
    (workload, namespace): (&str, &str),
    name: &str,
    store: &str,
    policy: &str,
    entries: &[&(String, Source)],
) -> Json {
    let data: Vec<Json> = entries
        .iter()
        .map(|(var, src)| {
            let remote = match src {
                Source::Secret { arn, key: Some(k) } => json!({"key": arn, "property": k}),
                Source::Secret { arn, key: None } => json!({"key": arn}),
                Source::Parameter { arn } => json!({"key": arn}),
            };
            json!({"secretKey": var, "remoteRef": remote})
        })
        .collect();
    object(
        (name, namespace),
        json!({"app.kubernetes.io/managed-by": "infragen", "app.kubernetes.io/part-of": workload}),
        store,
        json!({"name": k8s::connect::connections_name(workload), "creationPolicy": policy}),
        data,
    )
}

/// An ExternalSecret `name` in `namespace` with `labels`, reading `data` from the
/// ClusterSecretStore `store` into `target` (its `spec.target`) every hour.
fn object(
    (name, namespace): (&str, &str),
    labels: Json,
    store: &str,
    target: Json,
    data: Vec<Json>,
) -> Json {
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": target,
            "data": data,
        },
    })
}

/// Whether the output syncs credentials with External Secrets (`platform` installs the
/// operator, `connections` its objects).
pub fn needed(ctx: &Ctx) -> bool {
    syncs(&plan(ctx))
}

/// Whether any workload reads a credential or pulls with a registry login.
fn syncs(plans: &[ServicePlan]) -> bool {
    plans
        .iter()
        .any(|p| !p.entries.is_empty() || p.pull.is_some())
}

/// The image pull Secrets to render: per (namespace, blueprint secret), the `auths` keys of
/// the registries its workloads there pull from — one Secret per namespace however many
/// services share the login.
pub fn pull_secrets(plans: &[ServicePlan]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in plans {
        if let Some((name, host)) = &p.pull {
            out.entry((p.namespace.clone(), name.clone()))
                .or_default()
                .insert(host.clone());
        }
    }
    out
}

/// The platform module's part: operator, namespaces, endpoints, credentials.
pub fn platform(ctx: &Ctx, m: &mut Module, after: &Json, gated: &BTreeSet<String>) {
    let plans = plan(ctx);
    let opts = super::platform::options(ctx);
    let creds = k8s::credential_secrets(ctx.v, &opts);
    let mut namespaces = connections::credential_namespaces(&creds);
    namespaces.extend(plans.iter().map(|p| p.namespace.clone()));
    connections::namespaces(m, ctx.v, &namespaces, gated);
    if connections::credentials(m, &creds) {
        m.file("providers")
            .terraform(crate::backend::terraform_block(
                &["aws", "helm", "kubernetes", "random"],
                super::state::backend(ctx, "platform"),
            ));
    }
    // Endpoints of the managed services, found again by data source.
    let all: Vec<Binding> = plans
        .iter()
        .flat_map(|p| p.endpoints.iter().map(binding))
        .collect();
    for (r, body) in connect::sources(ctx, &all) {
        m.file("connections").resource(&r, body);
    }
    let ca = connect::ca_bundle(ctx);
    for p in &plans {
        let list: Vec<Binding> = p.endpoints.iter().map(binding).collect();
        let values: Vec<(String, Expr)> = list
            .iter()
            .filter_map(|b| match b.value {
                // The pod reads the path as a value (`k8s::connect`) and mounts this key,
                // the region's RDS bundle, as the file (`k8s::connect::ca_volume`).
                Value::Field(Field::CaFile) => ca
                    .as_deref()
                    .map(|pem| (wiring::ca_cert_key(&b.var), Expr::lit(pem))),
                _ => match connect::resolve_in(ctx, &list, b, In::Platform) {
                    Some(Resolved::Text(t)) => Some((b.var.clone(), t)),
                    _ => None,
                },
            })
            .collect();
        connections::endpoints(m, &p.namespace, &p.service, values);
    }

    if !syncs(&plans) {
        return;
    }
    let role = data("aws_iam_role", "external_secrets");
    m.file("providers")
        .resource(&role, json!({"name": role_name_of(ctx)}));
    let fargate = ctx.platform == Some(crate::blueprint::types::Platform::EksFargate);
    let (eso, mut body) = helm::external_secrets(
        [("eks.amazonaws.com/role-arn".to_string(), role.arn())].into(),
        fargate,
    );
    body["depends_on"] = after.clone();
    // A workload of the blueprint's may run in the operator's namespace (refused only where
    // namespace-wide policies would isolate the operator: `semantic::platform_namespaces`):
    // then `connections::namespaces` above made it already, and the release waits on it.
    if let Some((r, ns)) = helm::own_namespace(ctx.v, &mut body)
        && !m.declares(&r.address())
    {
        m.file("controllers").resource(&r, ns);
    }
    m.file("controllers").resource(&eso, body);
}

/// The `connections` root module: the ClusterSecretStores and every service's ExternalSecrets
/// as `kubernetes_manifest` resources, when any service reads a credential. No `wait`: an
/// ExternalSecret whose source is still empty (a blueprint secret listed in
/// `preconditions.json`) retries on its own, and the apply should not hang on it; the default
/// field manager is enough, as nothing else writes these objects.
pub fn module(ctx: &Ctx) -> Option<Module> {
    let plans = plan(ctx);
    if !syncs(&plans) {
        return None;
    }
    let bootstrap = if ctx.v.bp.state.is_some() {
        "terraform/bootstrap (once) → "
    } else {
        ""
    };
    ctx.note(format!(
        "apply order: {bootstrap}terraform/infra → terraform/platform (installs the External Secrets Operator and its CRDs) → terraform/connections (its ClusterSecretStores and ExternalSecrets, which need those CRDs at plan) → `kubectl apply -k k8s/`",
    ));
    let mut m = Module::new(crate::naming::header(ctx.v));
    super::platform::cluster_providers(ctx, &mut m, "connections", &["aws", "kubernetes"]);
    // Whatever the bindings need from `infra`'s databases, by data source.
    let databases: Vec<Binding> = plans
        .iter()
        .flat_map(|p| p.databases.iter().map(binding))
        .collect();
    for (r, body) in connect::sources(ctx, &databases) {
        m.file("data").resource(&r, body);
    }

    let mut stores = vec![(SECRETS_MANAGER_STORE, "SecretsManager")];
    let parameters = plans.iter().any(|p| {
        p.entries
            .iter()
            .any(|(_, s)| matches!(s, Source::Parameter { .. }))
    });
    if parameters {
        stores.push((PARAMETER_STORE, "ParameterStore"));
    }
    for (name, service) in stores {
        m.file("secret_stores").resource(
            &manifest(name),
            json!({"manifest": store(ctx, name, service)}),
        );
    }
    for p in &plans {
        for (r, body) in workload_objects(&p.service, &p.namespace, &p.entries) {
            m.file("external_secrets").resource(&r, body);
        }
    }
    for ((namespace, secret), hosts) in pull_secrets(&plans) {
        let target = k8s::secret_name(ctx.v.bp, &secret);
        let name = format!("{namespace}-{target}-pull");
        let body = json!({
            "manifest": pull_secret(
                (&namespace, &target),
                &format!("{target}-pull"),
                &super::secrets::name(ctx, &secret),
                &hosts,
            ),
            "depends_on": [manifest(SECRETS_MANAGER_STORE).address()],
        });
        m.file("external_secrets").resource(&manifest(&name), body);
    }
    Some(m)
}

/// The ExternalSecret `name` in `namespace` rendering the image pull Secret `target` (type
/// `kubernetes.io/dockerconfigjson`) from the Secrets Manager secret `remote` holding
/// `{"username": …, "password": …}` — the form ECS's `repositoryCredentials` reads, so one
/// secret serves both — with an `auths` entry per registry in `hosts`. Template engine v2
/// (Sprig functions): `toJson` quotes the values, so a password with `"` or `\` stays valid
/// JSON; `auth` is base64 of `username:password`, as `kubectl create secret docker-registry`
/// writes it.
/// <https://external-secrets.io/latest/guides/common-k8s-secret-types/> ("Dockerconfigjson
/// example"), <https://external-secrets.io/latest/guides/templating/>
fn pull_secret(
    (namespace, target): (&str, &str),
    name: &str,
    remote: &str,
    hosts: &BTreeSet<String>,
) -> Json {
    let entry = r#"{"username":{{ .username | toJson }},"password":{{ .password | toJson }},"auth":{{ printf "%s:%s" .username .password | b64enc | toJson }}}"#;
    let auths: Vec<String> = hosts
        .iter()
        .map(|h| format!("{}:{entry}", serde_json::to_string(h).expect("a string")))
        .collect();
    let config = format!(r#"{{"auths":{{{}}}}}"#, auths.join(","));
    let data: Vec<Json> = ["username", "password"]
        .into_iter()
        .map(|k| json!({"secretKey": k, "remoteRef": {"key": remote, "property": k}}))
        .collect();
    object(
        (name, namespace),
        json!({"app.kubernetes.io/managed-by": "infragen"}),
        SECRETS_MANAGER_STORE,
        json!({
            "name": target,
            "creationPolicy": "Owner",
            "template": {
                "type": "kubernetes.io/dockerconfigjson",
                "engineVersion": "v2",
                "data": {".dockerconfigjson": config},
            },
        }),
        data,
    )
}

/// The ExternalSecrets (as `kubernetes_manifest` resources of `connections`) that fill the
/// `<workload>-connections` Secret of one workload in `namespace` with `entries`: one per
/// store it reads from, the second merging into the Secret the first owns. Any workload
/// (service, job) that reads credentials gets its objects here.
pub fn workload_objects(
    workload: &str,
    namespace: &str,
    entries: &[(String, Source)],
) -> Vec<(crate::terraform::Ref, Json)> {
    let secrets: Vec<&(String, Source)> = entries
        .iter()
        .filter(|(_, s)| matches!(s, Source::Secret { .. }))
        .collect();
    let params: Vec<&(String, Source)> = entries
        .iter()
        .filter(|(_, s)| matches!(s, Source::Parameter { .. }))
        .collect();
    let name = k8s::connect::connections_name(workload);
    let mut out = Vec::new();
    let mut add = |name: &str,
                   store: &str,
                   policy: &str,
                   entries: &[&(String, Source)],
                   after: Option<&str>| {
        // After its store (and a merging one after the owner of its Secret): destroyed before
        // them, so the operator never reports a missing store or Secret.
        let mut depends = vec![manifest(store).address()];
        depends.extend(after.map(|a| manifest(a).address()));
        let body = json!({
            "manifest": external_secret((workload, namespace), name, store, policy, entries),
            "depends_on": depends,
        });
        out.push((manifest(name), body));
    };
    if !secrets.is_empty() {
        add(&name, SECRETS_MANAGER_STORE, "Owner", &secrets, None);
    }
    if !params.is_empty() {
        // The same Secret: merged into the first ExternalSecret's, or owned when alone.
        let (policy, owner) = if secrets.is_empty() {
            ("Owner", None)
        } else {
            ("Merge", Some(name.as_str()))
        };
        add(
            &format!("{name}-parameters"),
            PARAMETER_STORE,
            policy,
            &params,
            owner,
        );
    }
    out
}

/// The `kubernetes_manifest` of the object named `name`.
fn manifest(name: &str) -> crate::terraform::Ref {
    crate::terraform::res("kubernetes_manifest", &crate::terraform::ident(name))
}
