//! Names infragen derives from two components must not meet: two resources on one
//! Terraform address (one body silently replaced the other) or two Kubernetes objects with
//! one id (`kubectl kustomize` refuses them). The clash is refused on the component whose
//! name makes it, with its position.

use crate::support::{ecs_stack, synth_aws};

/// Synthesize for `--provider kubernetes` a blueprint `shop` holding `parts` (top-level
/// blocks, starting on line 4 of `shop.yaml`) and a production environment.
fn synth_k8s(parts: &str) -> Result<infragen::Output, String> {
    let text = format!(
        "name: shop\nproviders:\n  kubernetes: {{}}\n{parts}environments:\n  production: {{}}\n"
    );
    infragen::synthesize(
        "shop.yaml",
        text.as_bytes(),
        infragen::Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

/// A database named `<db>-replica` lands on the addresses infragen derives for `db`'s read
/// replica (`aws_db_instance.db_replica`, its log groups).
#[test]
fn a_database_named_like_anothers_replica_is_refused() {
    let yaml = ecs_stack(
        "ledger",
        "databases:
  - name: db-replica
    engine: postgres
    size: db.m7g.large
    storage: { size_gb: 20 }
  - name: db
    engine: postgres
    size: db.m7g.large
    storage: { size_gb: 20 }
    replicas: 1
",
    );
    let err = synth_aws("ledger", &yaml).unwrap_err();
    assert!(err.contains("ledger.yaml:17:11"), "{err}");
    assert!(
        err.contains("`db-replica` takes names infragen also derives from `databases[1]` `db`"),
        "{err}"
    );
    assert!(
        err.contains("`aws_db_instance.db_replica` (terraform/infra)"),
        "{err}"
    );
    // Without the replica nothing clashes.
    synth_aws("ledger", &yaml.replace("    replicas: 1\n", "")).unwrap();
}

/// A canary rollout adds a Deployment and a Service `<service>-canary`; a service of that
/// name wrote a second object with the same id into the kustomization.
#[test]
fn a_service_named_like_anothers_canary_is_refused() {
    let services = |strategy: &str| {
        format!(
            "services:
  - name: web-canary
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
  - name: web
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
    replicas: 2
    rollout: {{ strategy: {strategy}, canary_weight: 10 }}
"
        )
    };
    let err = synth_k8s(&services("canary")).unwrap_err();
    assert!(
        err.contains("`web-canary` takes names infragen also derives from `services[1]` `web`"),
        "{err}"
    );
    assert!(err.contains("`Deployment shop/web-canary` (k8s)"), "{err}");
    assert!(err.contains("shop.yaml:5:"), "{err}");
    synth_k8s(&services("rolling")).unwrap();
}

/// Two in-cluster databases naming one credentials Secret: the platform module wrote the
/// Secret twice (one generated password replacing the other's, at one Terraform address),
/// so one database's clients could not log in.
#[test]
fn in_cluster_data_services_need_their_own_secret_and_service() {
    let yaml = |second: &str| {
        format!(
            "databases:
  - name: orders
    engine: postgres
    deployment: in_cluster
    in_cluster: {{ credentials_secret: db-credentials }}
  - name: users
    engine: postgres
    deployment: in_cluster
    in_cluster: {{ {second} }}
"
        )
    };
    let err = synth_k8s(&yaml("credentials_secret: db-credentials")).unwrap_err();
    assert!(
        err.contains("`db-credentials` is also the credentials Secret of `databases[0]` (orders)"),
        "{err}"
    );
    assert!(err.contains("shop.yaml:12:39"), "{err}");
    let err = synth_k8s(&yaml("service_name: orders")).unwrap_err();
    assert!(
        err.contains("`orders` is also the Service of `databases[0]` (orders)"),
        "{err}"
    );
    synth_k8s(&yaml("credentials_secret: users-db")).unwrap();
}

/// A service and an in-cluster cache of the same name both made a Service `<name>` in the
/// default namespace.
#[test]
fn a_service_named_like_an_in_cluster_cache_is_refused() {
    let yaml = |cache: &str| {
        format!(
            "caches:
  - name: {cache}
    engine: redis
    deployment: in_cluster
services:
  - name: redis
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
"
        )
    };
    let err = synth_k8s(&yaml("redis")).unwrap_err();
    assert!(
        err.contains("`redis` is also the Service of `services[0]` (redis)"),
        "{err}"
    );
    synth_k8s(&yaml("sessions")).unwrap();
}

/// Two components that set the same cloud name (a bucket name, a log group) both planned,
/// and the second create failed at apply (`BucketAlreadyOwnedByYou`,
/// `ResourceAlreadyExistsException`). Refused on the later component.
#[test]
fn two_components_naming_one_cloud_resource_are_refused() {
    let yaml = |second_bucket: &str, second_log: &str| {
        ecs_stack(
            "ledger",
            &format!(
                "buckets:
  - name: logs
    bucket: ledger-logs
  - name: archive
    bucket: {second_bucket}
services:
  - name: api
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.0.0
    port: 8080
    log_group: /ecs/ledger
  - name: worker
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/worker:1.0.0
    log_group: {second_log}
"
            ),
        )
    };
    let err = synth_aws("ledger", &yaml("ledger-logs", "/ecs/ledger-worker")).unwrap_err();
    assert!(
        err.contains("2 resources of type `aws_s3_bucket` would all have the bucket `ledger-logs`"),
        "{err}"
    );
    assert!(err.contains("ledger.yaml:19:11"), "{err}");
    assert!(
        err.contains("`archive` and `logs` set or derive the same bucket"),
        "{err}"
    );

    let err = synth_aws("ledger", &yaml("ledger-archive", "/ecs/ledger")).unwrap_err();
    assert!(
        err.contains("would all have the name `/ecs/ledger`"),
        "{err}"
    );
    assert!(err.contains("`worker` and `api`"), "{err}");
    synth_aws("ledger", &yaml("ledger-archive", "/ecs/ledger-worker")).unwrap();
}

/// Names derived from long (valid, up to 63-character) component names outgrew the APIs'
/// limits: an RDS identifier `<name>-<env>-<db>` over 63 characters, a Service
/// `<service>-canary` over 63. Refused on the component, saying by how much to shorten it.
#[test]
fn derived_names_past_the_apis_limits_are_refused() {
    let db = "orders-".repeat(7) + "db"; // 51 characters
    let yaml = ecs_stack(
        "ledger",
        &format!(
            "databases:
  - name: {db}
    engine: postgres
    size: db.m7g.large
    storage: {{ size_gb: 20 }}
"
        ),
    );
    let err = synth_aws("ledger", &yaml).unwrap_err();
    assert!(
        err.contains(&format!(
            "the identifier `ledger-production-{db}` of `aws_db_instance.{}` has 69 characters",
            db.replace('-', "_")
        )),
        "{err}"
    );
    assert!(err.contains("`aws_db_instance` allows 63"), "{err}");
    assert!(err.contains("ledger.yaml:17:11"), "{err}");
    assert!(err.contains(&format!("shorten `{db}`")), "{err}");

    let web = "storefront-".repeat(5) + "web"; // 58 characters
    let k8s = |cache: &str| {
        format!(
            "caches:\n  - name: {cache}\n    engine: redis\n    deployment: in_cluster\nservices:\n  - name: {web}\n    image: nginxinc/nginx-unprivileged:1.29\n    port: 8080\n    uses: [{cache}]\n"
        )
    };
    // The cache's headless Service `<cache>-headless` (67 characters) is past a DNS label.
    let err = synth_k8s(&k8s(&web.replace("web", "cache"))).unwrap_err();
    assert!(
        err.contains(&format!(
            "the name of Service shop/{}-headless has 69 characters; Kubernetes allows 63",
            web.replace("web", "cache")
        )),
        "{err}"
    );
    assert!(err.contains("shop.yaml:5:11"), "{err}");
    assert!(err.contains("shorten `storefront-"), "{err}");
    // The `app.kubernetes.io/instance` label (`<service>-<env>`, 69 characters) is cut to
    // 63 with a hash instead of refused.
    let out = synth_k8s(&k8s("sessions")).unwrap();
    let text = crate::support::flatten(&out);
    assert!(
        !text.contains(&format!("{web}-production")),
        "instance label not cut"
    );
    assert!(
        text.contains("app.kubernetes.io/instance: storefront-storefront-storefront-storefront-storefront-56b02ba6"),
        "{text}"
    );
}

/// On ingress-nginx the gRPC services share the Ingress `<ingress>-grpc`, and a service
/// with `idle_timeout` gets `<ingress>-<service>`: a service named `grpc` holding
/// connections open lands on the gRPC services' Ingress. Refused at the service's name
/// (it was an unpositioned "defect in infragen"); a service named otherwise applies.
#[test]
fn a_long_lived_service_named_grpc_is_refused_at_its_name() {
    let yaml = |name: &str| {
        format!(
            "ingress:
  class: nginx
  hosts: [shop.example.org]
  tls: {{ secret_name: shop-tls }}
services:
  - name: {name}
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
    idle_timeout: 300
    routes: [{{ path: / }}]
  - name: ledger
    image: ghcr.io/acme/ledger:1.0.0
    port: 50051
    protocol: grpc
    routes: [{{ path: /ledger.v1 }}]
"
        )
    };
    let err = synth_k8s(&yaml("grpc")).unwrap_err();
    assert!(err.contains("shop.yaml:9:11"), "{err}");
    assert!(err.contains("`Ingress shop/shop-grpc` (k8s)"), "{err}");
    assert!(err.contains("rename `grpc`"), "{err}");
    assert!(!err.contains("defect"), "{err}");
    synth_k8s(&yaml("live")).unwrap();
}

/// `peer_ports` adds the headless Service `<service_name>-headless`: with `service_name`
/// set, a service of that name lands on it. Refused at that service's name.
#[test]
fn a_service_named_like_anothers_headless_service_is_refused_at_its_name() {
    let yaml = |name: &str| {
        format!(
            "services:
  - name: api
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
    service_name: web
    peer_ports: [4369]
  - name: {name}
    image: nginxinc/nginx-unprivileged:1.29
    port: 8080
"
        )
    };
    let err = synth_k8s(&yaml("web-headless")).unwrap_err();
    assert!(err.contains("shop.yaml:10:11"), "{err}");
    assert!(err.contains("`Service shop/web-headless` (k8s)"), "{err}");
    assert!(!err.contains("defect"), "{err}");
    synth_k8s(&yaml("web-admin")).unwrap();
}

/// An in-cluster data service `orders` is a StatefulSet whose pods are `orders-0`,
/// `orders-1`…: a service `orders-0` beside it (same namespace) shares its Container
/// Insights restarts series on EKS (`PodName` is a Deployment's name and a StatefulSet pod's
/// own), and a service `orders-backup` shares the backup CronJob pods' `app` label (its
/// Service and NetworkPolicy would select them). Refused at the service's name; in another
/// namespace, or with a name that only looks like one, nothing clashes.
#[test]
fn a_service_named_like_an_in_cluster_data_pod_or_job_is_refused() {
    let blueprint = |service: &str, namespace: &str| {
        format!(
            "databases:
  - name: orders
    engine: postgres
    deployment: in_cluster
    backup: {{ schedule: \"0 2 * * *\" }}
services:
  - name: {service}
    image: ghcr.io/shop/api:1.0.0
    port: 8080
{namespace}"
        )
    };
    for (service, line_col, what) in [
        (
            "orders-0",
            "shop.yaml:10:11",
            "is also the name of pod 0 of in-cluster database `orders`",
        ),
        (
            "orders-12",
            "shop.yaml:10:11",
            "is also the name of pod 12 of in-cluster database `orders`",
        ),
        (
            "orders-backup",
            "shop.yaml:10:11",
            "is also the name of the job of in-cluster database `orders`",
        ),
    ] {
        let err = synth_k8s(&blueprint(service, "")).unwrap_err();
        assert!(err.contains(line_col), "{service}: {err}");
        assert!(err.contains(what), "{service}: {err}");
        assert!(err.contains("help: rename the service"), "{service}: {err}");
        // In a namespace of its own it meets nothing.
        synth_k8s(&blueprint(
            service,
            "    namespace: api\nkubernetes:\n  namespaces: [{name: api}]\n",
        ))
        .unwrap_or_else(|e| panic!("{service} in namespace api: {e}"));
    }
    for service in ["orders-01", "orders-a", "orders-0a", "orders"] {
        let result = synth_k8s(&blueprint(service, ""));
        if let Err(e) = result {
            assert!(!e.contains("in-cluster database"), "{service}: {e}");
        }
    }
    // On EKS too (where the alarm clash is).
    let yaml = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml"),
    )
    .unwrap();
    let yaml = yaml.replace("  - name: web\n", "  - name: sessions-0\n");
    assert!(yaml.contains("sessions-0"));
    let Err(err) = synth_aws("gateway-eks", &yaml) else {
        panic!("a service `sessions-0` beside the in-cluster cache `sessions` synthesized");
    };
    assert!(
        err.contains("`sessions-0` is also the name of pod 0 of in-cluster cache `sessions`"),
        "{err}"
    );
    // A managed database (RDS) has no pods and no in-cluster jobs: services named
    // `<database>-<n>` or `<database>-backup` beside it meet nothing.
    let managed = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/workloads/gateway-eks.yaml"),
    )
    .unwrap()
    .replacen(
        "caches:\n",
        "databases:\n  - { name: orders, engine: postgres, size: small, storage: { size_gb: 20 } }\ncaches:\n",
        1,
    );
    for service in ["orders-1", "orders-backup"] {
        let yaml = managed.replace("  - name: web\n", &format!("  - name: {service}\n"));
        assert!(yaml.contains("name: orders,") && yaml.contains(service));
        synth_aws("gateway-eks", &yaml)
            .unwrap_or_else(|e| panic!("{service} beside an RDS `orders`: {e}"));
    }
}
