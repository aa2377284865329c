//! Version changes a single apply cannot make (or a Helm upgrade that leaves CRDs behind), which only a diff can see (`synth` sees one
//! blueprint, not the version running): they become notes on the target, so a reviewer
//! learns before `terraform apply` fails half-way.

use serde_json::Value;

use super::objects::Object;

/// `"1.33"` → `(1, 33)`; `None` when the text is not `<major>.<minor>…`.
fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The major version of an RDS engine version: MySQL's is `8.0`, `8.4`; PostgreSQL's (10 on)
/// its first number.
fn rds_major(engine: &str, version: &str) -> String {
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or_default();
    if engine == "mysql" || first.parse::<u32>().is_ok_and(|m| m < 10) {
        format!("{first}.{}", parts.next().unwrap_or("0"))
    } else {
        first.to_string()
    }
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// A Kubernetes version change the managed service (`EKS`, `DOKS`) cannot make in one step:
/// a downgrade, or a skipped minor version. `way` follows "fails" and precedes the next
/// minor version (" (UpdateClusterVersion); apply").
fn kubernetes_step(
    addr: &str,
    service: &str,
    (from, a): (&str, (u32, u32)),
    (to, b): (&str, (u32, u32)),
    downgrade: &str,
    way: &str,
) -> Option<String> {
    if b < a {
        Some(format!(
            "{addr}: Kubernetes {from} → {to} is a downgrade, which {service} does not do ({downgrade})"
        ))
    } else if a.0 == b.0 && b.1 > a.1 + 1 {
        Some(format!(
            "{addr}: {service} upgrades one minor version at a time, so {from} → {to} fails{way} {}.{} first",
            a.0,
            a.1 + 1
        ))
    } else {
        None
    }
}

/// A change of the minor version within one major one apply cannot make: RDS never moves an
/// instance to an older minor ("Cannot upgrade postgres from 15.16 to 15.15"), and where the
/// old version named the major alone RDS's automatic minor upgrades were on, so the instance
/// may already run a newer minor than the one now pinned — only the account knows.
fn minor_step(
    addr: &str,
    engine: &str,
    (from, major): (&str, &str),
    (to, identifier): (&str, Option<&str>),
    older: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    if to == major || from == to {
        return None;
    }
    let id = identifier.unwrap_or("<identifier>");
    if from == major {
        return Some(format!(
            "{addr}: {engine} {from} → {to} pins a minor version where RDS chose it (automatic minor upgrades were on, and are now off): if the instance already runs a newer {major} minor, the apply fails — RDS does not downgrade; compare with the running version (aws rds describe-db-instances --db-instance-identifier {id} --query 'DBInstances[0].EngineVersion') and pin that one or a newer one"
        ));
    }
    older(to, from).then(|| {
        format!(
            "{addr}: {engine} {from} → {to} is a minor version downgrade, which RDS does not do: the apply fails; keep {from} or pin a newer minor"
        )
    })
}

/// An RDS storage change one apply cannot make as written: storage never shrinks, and
/// ModifyDBInstance takes an increase of at least 10% ("Values that are not at least 10%
/// greater than the existing value are rounded up"; the user guide: "you get an error"),
/// so the instance would not hold what the blueprint says. A read replica carries its
/// primary's size and is noted with it.
fn storage_step(addr: &str, old: &Value, new: &Value) -> Option<String> {
    let gib = |b: &Value| b.get("allocated_storage").and_then(Value::as_u64);
    let (from, to) = (gib(old)?, gib(new)?);
    if to < from {
        return Some(format!(
            "{addr}: storage {from} → {to} GiB: RDS never reduces allocated storage, so this apply fails; keep {from} GiB, or move the data to a new, smaller instance"
        ));
    }
    // Growth below 10% of the current size (integer GiB: to * 10 < from * 11).
    (to > from && to * 10 < from * 11).then(|| {
        format!(
            "{addr}: storage {from} → {to} GiB is less than RDS's minimum increase of 10% (at least {} GiB): RDS refuses or rounds it up, and the instance no longer matches the blueprint; grow by 10% or more",
            (from * 11).div_ceil(10)
        )
    })
}

/// An ECS service behind the load balancer switched from ECS's blue/green or canary
/// deployments back to rolling: its rule then forwards to the primary target group only, but
/// after an odd number of deployments ECS left the live tasks in the alternate one (ECS moves
/// them at each deployment), so the route answers 503 until the rolling deployment the switch
/// starts has healthy tasks (docs/output.md, "switching back").
fn back_to_rolling(addr: &str, old: &Value, new: &Value) -> Option<String> {
    let strategy = |b: &Value| {
        b.get("deployment_configuration")
            .and_then(|d| d.get("strategy"))
            .and_then(Value::as_str)
            .unwrap_or("ROLLING")
            .to_string()
    };
    let behind_alb = old
        .get("load_balancer")
        .and_then(Value::as_array)
        .is_some_and(|l| {
            l.iter()
                .any(|lb| lb.get("advanced_configuration").is_some())
        });
    let from = strategy(old);
    (from != "ROLLING" && strategy(new) == "ROLLING" && behind_alb).then(|| {
        format!(
            "{addr}: {from} → ROLLING: if ECS's last deployment left the live tasks in the alternate target group (`-alt`), the service's route answers 503 until the rolling deployment has healthy tasks in the primary one; check `aws elbv2 describe-target-health` on the `-alt` group first and, if it holds them, force one more deployment (`aws ecs update-service --force-new-deployment`) before applying"
        )
    })
}

/// Notes on the version changes between `old` and `new` objects (by address) that one apply
/// cannot make.
pub fn notes(
    old: &std::collections::BTreeMap<String, Object>,
    new: &std::collections::BTreeMap<String, Object>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (addr, n) in new {
        let Some(o) = old.get(addr) else { continue };
        if o.kind != n.kind {
            continue;
        }
        match n.kind.as_str() {
            "aws_eks_cluster" => {
                let (Some(from), Some(to)) = (text(&o.body, "version"), text(&n.body, "version"))
                else {
                    continue;
                };
                let (Some(a), Some(b)) = (major_minor(from), major_minor(to)) else {
                    continue;
                };
                notes.extend(kubernetes_step(
                    addr,
                    "EKS",
                    (from, a),
                    (to, b),
                    "a new cluster would be needed",
                    " (UpdateClusterVersion); apply",
                ));
            }
            "aws_ecs_service" => {
                notes.extend(back_to_rolling(addr, &o.body, &n.body));
                notes.extend(super::ecs_rollout::load_balancer_held(
                    addr, &o.body, &n.body,
                ));
            }
            "aws_db_instance" => {
                if let Some(note) = storage_step(addr, &o.body, &n.body) {
                    notes.push(note);
                }
                let engine = text(&n.body, "engine").unwrap_or_default();
                let (Some(from), Some(to)) = (
                    text(&o.body, "engine_version"),
                    text(&n.body, "engine_version"),
                ) else {
                    continue;
                };
                let (ma, mb) = (rds_major(engine, from), rds_major(engine, to));
                let older = |x: &str, y: &str| {
                    let p = |s: &str| -> Vec<u32> {
                        s.split('.').filter_map(|n| n.parse().ok()).collect()
                    };
                    p(x) < p(y)
                };
                if ma == mb {
                    notes.extend(minor_step(
                        addr,
                        engine,
                        (from, &ma),
                        (to, text(&n.body, "identifier")),
                        &older,
                    ));
                    continue;
                }
                if older(&mb, &ma) {
                    notes.push(format!(
                        "{addr}: {engine} {from} → {to} is a major version downgrade, which RDS does not do (restore a snapshot into a new instance instead)"
                    ));
                    continue;
                }
                // RDS for MySQL upgrades read replicas before their source; Terraform updates
                // a replica after the primary it names (`replicate_source_db`).
                let name = addr.rsplit('.').next().unwrap_or_default();
                let source = format!("${{aws_db_instance.{name}.identifier}}");
                let replicas = new
                    .values()
                    .filter(|r| r.kind == "aws_db_instance")
                    .filter(|r| text(&r.body, "replicate_source_db") == Some(source.as_str()))
                    .count();
                if engine == "mysql" && replicas > 0 {
                    notes.push(format!(
                        "{addr}: MySQL {from} → {to} with {replicas} read replica(s): RDS upgrades MySQL replicas before their source, but this apply upgrades the source first and fails; upgrade the replicas to {to} by hand first (aws rds modify-db-instance --engine-version … --allow-major-version-upgrade --apply-immediately), or drop them for the upgrade"
                    ));
                }
            }
            "digitalocean_kubernetes_versions" => {
                let (Some(from), Some(to)) = (
                    text(&o.body, "version_prefix"),
                    text(&n.body, "version_prefix"),
                ) else {
                    continue;
                };
                let (Some(a), Some(b)) = (major_minor(from), major_minor(to)) else {
                    continue;
                };
                let (from, to) = (format!("{}.{}", a.0, a.1), format!("{}.{}", b.0, b.1));
                let clusters = new
                    .values()
                    .filter(|c| c.kind == "digitalocean_kubernetes_cluster");
                for c in clusters {
                    let name = text(&c.body, "name").unwrap_or("<cluster>");
                    let ignored = c
                        .body
                        .pointer("/lifecycle/ignore_changes")
                        .and_then(Value::as_array)
                        .is_some_and(|l| l.iter().any(|x| x == "version"));
                    if let Some(note) = kubernetes_step(
                        addr,
                        "DOKS",
                        (&from, a),
                        (&to, b),
                        "the provider replaces a cluster whose version decreases: a new cluster would be needed",
                        "; upgrade to",
                    ) {
                        notes.push(note);
                    } else if b > a && ignored {
                        // DOKS's automatic upgrades move a cluster to new patch releases of
                        // its minor only (provider issue #237; docs.digitalocean.com/products/
                        // kubernetes/how-to/upgrade-cluster/).
                        notes.push(format!(
                            "{addr}: Kubernetes {from} → {to} is not made by this apply: with auto_upgrade the cluster's `version` is in ignore_changes (DOKS moves it to new patch releases in the maintenance window, never to a new minor version); upgrade `{name}` before or after the apply (`doctl kubernetes cluster get-upgrades {name}`, then `doctl kubernetes cluster upgrade {name} --version <the {to} slug>`)"
                        ));
                    }
                }
            }
            "k8s:StatefulSet" => {
                let (Some((engine, from)), Some((_, to))) =
                    (engine_image(&o.body), engine_image(&n.body))
                else {
                    continue;
                };
                let major = |v: &str| crate::releases::numbers(v).first().copied();
                let (Some(ma), Some(mb)) = (major(&from), major(&to)) else {
                    continue;
                };
                match engine {
                    "postgres" if ma != mb => notes.push(format!(
                        "{addr}: PostgreSQL {from} → {to} on the claim of {ma}: a PostgreSQL server refuses a data directory another major version initialized (\"database files are incompatible with server\"), so the new pod would not start; dump the database (pg_dumpall), move to a new StatefulSet or empty claim, and restore — or keep {ma}"
                    )),
                    "mongo" if mb < ma => notes.push(format!(
                        "{addr}: MongoDB {from} → {to} is a downgrade, which MongoDB does not do in place (restore a dump into an empty claim)"
                    )),
                    "mongo" if mb > ma + 1 => notes.push(format!(
                        "{addr}: MongoDB upgrades one major version at a time, so {from} → {to} fails; upgrade to {}.x first", ma + 1
                    )),
                    "mongo" if mb > ma => notes.push(format!(
                        "{addr}: MongoDB {from} → {to}: the servers start with featureCompatibilityVersion {ma}.0 (set it first if an earlier upgrade left it older); once all run {mb}, set it (`db.adminCommand({{setFeatureCompatibilityVersion: \"{mb}.0\", confirm: true}})`), which the next major upgrade needs"
                    )),
                    _ => {}
                }
            }
            "helm_release" => {
                let (Some(chart), Some(from), Some(to)) = (
                    text(&n.body, "chart"),
                    text(&o.body, "version"),
                    text(&n.body, "version"),
                ) else {
                    continue;
                };
                if from == to || !CRDS_OUTSIDE_TEMPLATES.contains(&chart) {
                    continue;
                }
                let repo = text(&n.body, "repository").unwrap_or_default();
                let source = if repo.starts_with("oci://") {
                    format!("{repo}/{chart}")
                } else {
                    format!("{chart} --repo {repo}")
                };
                if chart == "gateway-helm" && provider_managed_gateway_api(&n.body) {
                    // The cluster's provider owns the Gateway API CRDs (DOKS reverts other
                    // versions of them): only Envoy Gateway's own CRDs are this release's to
                    // upgrade (`helm::provider_managed_gateway_api`).
                    notes.push(format!(
                        "{addr}: chart {chart} {from} → {to}: Helm installs the CRDs of a chart's `crds/` directory but never upgrades them, so the controller {to} would run against Envoy Gateway's CRDs of {from}; apply Envoy Gateway's own new CRDs before this apply, not the Gateway API's (the cluster's provider manages those and puts its version back): `helm pull {source} --version {to} --untar --untardir eg-{to} && kubectl apply --server-side --force-conflicts -f eg-{to}/{chart}/charts/crds/crds/generated`"
                    ));
                    continue;
                }
                notes.push(format!(
                    "{addr}: chart {chart} {from} → {to}: Helm installs the CRDs of a chart's `crds/` directory but never upgrades them, so the controller {to} would run against the CRDs of {from}; apply the new CRDs before this apply (`helm show crds {source} --version {to} | kubectl apply --server-side --force-conflicts -f -`)"
                ));
            }
            _ => {}
        }
    }
    notes
}

/// The engine (`postgres`, `mongo`, `mysql`…) and version of a StatefulSet's first container
/// whose image states one: an engine's own (`postgres:17.7`,
/// `docker.io/library/mongo:8.0.20`) or one built on it whose tag names the engine's version
/// (`postgis/postgis:17-3.5` runs PostgreSQL 17: `releases::image_version`).
fn engine_image(body: &Value) -> Option<(&'static str, String)> {
    let containers = body.pointer("/spec/template/spec/containers")?.as_array()?;
    containers.iter().find_map(|c| {
        let iv = crate::releases::image_version(c.get("image")?.as_str()?)?;
        let engine = match iv.product {
            "image-postgres" => "postgres",
            "image-mongo" => "mongo",
            "image-mysql" => "mysql",
            _ => return None,
        };
        Some((engine, iv.version))
    })
}

/// Whether an Envoy Gateway release leaves the Gateway API to CRDs the cluster's provider
/// manages (its values turn the chart's safe-upgrades policy off: see
/// `crate::backend::helm::provider_managed_gateway_api`).
fn provider_managed_gateway_api(release: &Value) -> bool {
    release
        .pointer("/values/0")
        .and_then(Value::as_str)
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|v| {
            v.pointer("/crds/gatewayAPI/safeUpgradePolicy/enabled")
                .and_then(Value::as_bool)
        })
        == Some(false)
}

/// Charts the platform installs whose CRDs sit in a `crds/` directory (their own, or a
/// subchart's), which `helm upgrade` skips (<https://helm.sh/docs/chart_best_practices/custom_resource_definitions/>).
/// cert-manager (`crds.enabled`) and External Secrets (`installCRDs`) template theirs, so
/// Helm upgrades them with the release.
const CRDS_OUTSIDE_TEMPLATES: [&str; 2] = [
    // envoyproxy/gateway charts/gateway-helm: the `crds` subchart's crds/ (Gateway API and
    // Envoy Gateway CRDs; `helm show crds` includes a subchart's). The platform cannot hand
    // them to a `gateway-crds-helm` release instead: that chart's release overflows Helm's
    // 1 MiB release Secret (envoyproxy/gateway#6105, `helm::envoy_gateway`), so a bump
    // still needs them applied by hand.
    "gateway-helm",
    // aws/eks-charts stable/aws-load-balancer-controller/crds/ (TargetGroupBinding,
    // IngressClassParams, …).
    "aws-load-balancer-controller",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(kind: &str, body: Value) -> Object {
        Object {
            kind: kind.into(),
            file: "terraform/infra/x.tf.json".into(),
            body,
        }
    }

    #[test]
    fn a_chart_with_crds_outside_its_templates_needs_them_applied_first() {
        let release = |chart: &str, repo: &str, v: &str| {
            BTreeMap::from([(
                "platform: helm_release.x".to_string(),
                obj(
                    "helm_release",
                    serde_json::json!({"chart": chart, "repository": repo, "version": v}),
                ),
            )])
        };
        let eg = |v| release("gateway-helm", "oci://docker.io/envoyproxy", v);
        let up = notes(&eg("v1.8.2"), &eg("v1.9.0"));
        assert!(
            up[0].contains(
                "helm show crds oci://docker.io/envoyproxy/gateway-helm --version v1.9.0"
            ),
            "{up:?}"
        );
        assert!(notes(&eg("v1.9.0"), &eg("v1.9.0")).is_empty());
        let cm = |v| release("cert-manager", "https://charts.jetstack.io", v);
        assert!(notes(&cm("v1.18.0"), &cm("v1.19.0")).is_empty());
    }

    #[test]
    fn doks_minor_upgrades_are_not_automatic() {
        let doks = |prefix: &str| {
            BTreeMap::from([
                (
                    "infra: data.digitalocean_kubernetes_versions.cluster".to_string(),
                    obj(
                        "digitalocean_kubernetes_versions",
                        serde_json::json!({"version_prefix": prefix}),
                    ),
                ),
                (
                    "infra: digitalocean_kubernetes_cluster.main".to_string(),
                    obj(
                        "digitalocean_kubernetes_cluster",
                        serde_json::json!({"name": "shop", "lifecycle": {"ignore_changes": ["version"]}}),
                    ),
                ),
            ])
        };
        let up = notes(&doks("1.35."), &doks("1.36."));
        assert!(
            up[0].contains("doctl kubernetes cluster upgrade shop"),
            "{up:?}"
        );
        assert!(notes(&doks("1.35."), &doks("1.37."))[0].contains("upgrade to 1.36 first"));
        assert!(notes(&doks("1.35."), &doks("1.34."))[0].contains("downgrade"));
        assert!(notes(&doks("1.35."), &doks("1.35.")).is_empty());
    }

    #[test]
    fn in_cluster_major_versions() {
        let sts = |image: &str| {
            BTreeMap::from([(
                "k8s: StatefulSet shop/db".to_string(),
                obj(
                    "k8s:StatefulSet",
                    serde_json::json!({"spec": {"template": {"spec": {"containers": [
                        {"name": "db", "image": image},
                        {"name": "exporter", "image": "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"},
                    ]}}}}),
                ),
            )])
        };
        assert!(notes(&sts("postgres:16.9"), &sts("postgres:17.7"))[0].contains("pg_dumpall"));
        assert!(notes(&sts("postgres:17.6"), &sts("postgres:17.7")).is_empty());
        assert!(
            notes(&sts("mongo:7.0.1"), &sts("mongo:8.0.20"))[0]
                .contains("setFeatureCompatibilityVersion")
        );
        assert!(
            notes(&sts("docker.io/library/mongo:6.0.1"), &sts("mongo:8.0.20"))[0]
                .contains("one major version at a time")
        );
        assert!(notes(&sts("mysql:8.0.40"), &sts("mysql:8.4.8")).is_empty());
        // An image built on the engine's, by the major its tag states.
        assert!(
            notes(
                &sts("postgis/postgis:16-3.5"),
                &sts("postgis/postgis:17-3.5")
            )[0]
            .contains("PostgreSQL 16 → 17")
        );
        assert!(
            notes(
                &sts("postgis/postgis:17-3.4"),
                &sts("postgis/postgis:17-3.5")
            )
            .is_empty()
        );
        assert!(
            notes(&sts("pgvector/pgvector:pg16"), &sts("postgres:17.7"))[0].contains("pg_dumpall")
        );
    }

    #[test]
    fn rds_storage_grows_by_a_tenth_at_least_and_never_shrinks() {
        let at = |gib: u64| serde_json::json!({"allocated_storage": gib});
        let step = |a, b| storage_step("aws_db_instance.db", &at(a), &at(b));
        assert!(step(100, 105).unwrap().contains("at least 110 GiB"));
        assert!(step(20, 21).unwrap().contains("at least 22 GiB"));
        assert!(step(100, 110).is_none());
        assert!(step(20, 50).is_none());
        assert!(step(100, 100).is_none());
        assert!(step(100, 80).unwrap().contains("never reduces"));
    }

    #[test]
    fn majors() {
        assert_eq!(rds_major("mysql", "8.0.40"), "8.0");
        assert_eq!(rds_major("mysql", "8.4"), "8.4");
        assert_eq!(rds_major("postgres", "16.4"), "16");
        assert_eq!(rds_major("postgres", "9.6.20"), "9.6");
    }

    #[test]
    fn one_minor_at_a_time() {
        let cluster = |v: &str| {
            BTreeMap::from([(
                "infra: aws_eks_cluster.main".to_string(),
                obj("aws_eks_cluster", serde_json::json!({"version": v})),
            )])
        };
        assert!(notes(&cluster("1.33"), &cluster("1.34")).is_empty());
        let skip = notes(&cluster("1.33"), &cluster("1.35"));
        assert!(skip[0].contains("apply 1.34 first"), "{skip:?}");
        assert!(notes(&cluster("1.34"), &cluster("1.33"))[0].contains("downgrade"));
    }

    #[test]
    fn mysql_replicas_before_their_source() {
        let db = |v: &str| {
            BTreeMap::from([
                (
                    "infra: aws_db_instance.db".to_string(),
                    obj(
                        "aws_db_instance",
                        serde_json::json!({"engine": "mysql", "engine_version": v}),
                    ),
                ),
                (
                    "infra: aws_db_instance.db_replica".to_string(),
                    obj(
                        "aws_db_instance",
                        serde_json::json!({"replicate_source_db": "${aws_db_instance.db.identifier}"}),
                    ),
                ),
            ])
        };
        let up = notes(&db("8.0"), &db("8.4"));
        assert!(
            up[0].contains("upgrades MySQL replicas before their source"),
            "{up:?}"
        );
        assert!(notes(&db("8.0.39"), &db("8.0.40")).is_empty());
        assert!(notes(&db("8.0.40"), &db("8.0")).is_empty());
        assert!(notes(&db("8.0.40"), &db("8.0.39"))[0].contains("minor version downgrade"));
        assert!(notes(&db("8.0"), &db("8.0.40"))[0].contains("already runs a newer 8.0 minor"));
        assert!(notes(&db("8.4"), &db("8.0"))[0].contains("downgrade"));
    }
}
