//! Day 2 on Kubernetes and DigitalOcean: a blueprint CHANGE applied with `kubectl apply -k
//! k8s/` and `terraform apply` on top of what runs. `kubectl apply` patches objects: a
//! changed immutable field fails the apply ("field is immutable"), and objects the manifests
//! no longer hold stay running. Terraform replaces what a ForceNew argument changes — on
//! DigitalOcean a database cluster's name, or the cluster's default node pool's size.

use std::collections::BTreeMap;

use infragen::Provider;
use infragen::diff::{Change, compare, upgrade_notes};

use crate::support::{manifests, root};

fn synth_text(name: &str, yaml: &str, provider: Provider) -> infragen::Output {
    infragen::synthesize(name, yaml.as_bytes(), provider, "production")
        .unwrap_or_else(|d| panic!("{name}: {d}"))
}

fn techshop() -> String {
    std::fs::read_to_string(root().join("blueprints/techshop.yaml")).unwrap()
}

/// `s` with `from` replaced once (which must be there).
fn edit(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "the blueprint no longer holds {from:?}");
    s.replacen(from, to, 1)
}

fn change<'a>(changes: &'a [Change], address: &str) -> &'a Change {
    changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change of {address}: {changes:#?}"))
}

/// A Job's pod template is immutable: a MongoDB image bump (or a newer pin in the versions
/// catalog) must not put a different template under the name of a Job that exists, or
/// `kubectl apply` stops at the replica-set Job.
#[test]
fn an_image_bump_never_changes_the_template_of_an_existing_job() {
    let base = techshop();
    let head = edit(&base, "image: mongo:8.0.20", "image: mongo:8.0.21");
    let jobs = |yaml: &str| -> BTreeMap<String, serde_json::Value> {
        manifests(&synth_text("techshop.yaml", yaml, Provider::Kubernetes))
            .into_iter()
            .filter(|d| d["kind"] == "Job")
            .map(|d| {
                let m = &d["metadata"];
                (format!("{}/{}", m["namespace"], m["name"]), d)
            })
            .collect()
    };
    let (old, new) = (jobs(&base), jobs(&head));
    assert!(
        !old.is_empty(),
        "techshop's replica set has an initiation Job"
    );
    for (name, job) in &new {
        let short = job["metadata"]["name"].as_str().unwrap();
        assert!(
            short.len() <= 63,
            "{name}: a Job's name is its pods' `job-name` label value, at most 63 characters"
        );
        if let Some(before) = old.get(name) {
            assert_eq!(
                before["spec"]["template"], job["spec"]["template"],
                "Job {name} keeps its name with a new pod template: `kubectl apply` fails (spec.template is immutable)"
            );
        }
    }
    // The superseded Job does not delete itself (a TTL would have Argo CD and Flux create it
    // again, tests/it/gitops.rs): the diff names it, to delete after `kubectl apply`.
    let notes = upgrade_notes(
        &synth_text("techshop.yaml", &base, Provider::Kubernetes),
        &synth_text("techshop.yaml", &head, Provider::Kubernetes),
    );
    let superseded = old.keys().find(|k| !new.contains_key(*k)).unwrap();
    let short = superseded.rsplit('/').next().unwrap().trim_matches('"');
    assert!(
        notes
            .iter()
            .any(|n| n.contains("delete job") && n.contains(short)),
        "{superseded}: {notes:?}"
    );
}

/// Resizing an in-cluster database's volume changes the StatefulSet's
/// `volumeClaimTemplates`, which the API refuses to update: the diff says the apply fails
/// and how to get through (orphan-delete, re-apply, resize the claims).
#[test]
fn a_volume_resize_of_an_in_cluster_database_says_how_to_apply_it() {
    let base = techshop();
    let head = edit(&base, "volume_size: 20Gi", "volume_size: 40Gi");
    let (changes, _) = compare(
        &synth_text("techshop.yaml", &base, Provider::Kubernetes),
        &synth_text("techshop.yaml", &head, Provider::Kubernetes),
        &BTreeMap::new(),
    );
    let sts = change(&changes, "k8s: StatefulSet techshop-cloud/mongodb");
    let why = sts.destructive.as_deref().unwrap_or_default();
    assert!(why.contains("`kubectl apply` fails"), "{why}");
    assert!(
        why.contains("kubectl delete statefulset -n techshop-cloud mongodb --cascade=orphan"),
        "{why}"
    );
    assert!(
        why.contains("kubectl patch pvc -n techshop-cloud mongodb-storage-mongodb-0…2")
            && why.contains("40Gi"),
        "{why}"
    );
    // A standalone claim may grow; only a shrink is refused.
    let backup = changes
        .iter()
        .find(|c| c.kind_name == "PersistentVolumeClaim")
        .expect("the backup claim follows the volume size");
    assert!(backup.destructive.is_none(), "{backup:?}");
    let (back, _) = compare(
        &synth_text("techshop.yaml", &head, Provider::Kubernetes),
        &synth_text("techshop.yaml", &base, Provider::Kubernetes),
        &BTreeMap::new(),
    );
    let shrink = back
        .iter()
        .find(|c| c.kind_name == "PersistentVolumeClaim")
        .unwrap();
    assert!(
        shrink
            .destructive
            .as_deref()
            .is_some_and(|d| d.contains("smaller")),
        "{shrink:?}"
    );
}

/// Rolling → canary adds `track: stable` to the Deployment's selector, which cannot change;
/// canary → rolling leaves `<name>-canary` running behind a Service that now selects it
/// too, because `kubectl apply` deletes nothing.
#[test]
fn switching_rollout_strategy_says_what_to_delete() {
    let rolling = techshop();
    let canary = edit(
        &rolling,
        "    container_name: techshop-app\n",
        "    container_name: techshop-app\n    rollout: { strategy: canary, canary_weight: 20 }\n",
    );
    // Two more pods fit the namespace quota: the canary, and the one its rollout adds
    // before the old one goes (maxUnavailable 25 % of 1 is 0).
    let canary = edit(&canary, "requests.cpu: \"13\"", "requests.cpu: \"14\"");
    let canary = edit(&canary, "limits.cpu: \"27\"", "limits.cpu: \"30\"");
    let canary = edit(&canary, "limits.memory: 30Gi", "limits.memory: 34Gi");
    let (r, c) = (
        synth_text("techshop.yaml", &rolling, Provider::Kubernetes),
        synth_text("techshop.yaml", &canary, Provider::Kubernetes),
    );
    let (changes, _) = compare(&r, &c, &BTreeMap::new());
    let dep = change(&changes, "k8s: Deployment techshop-cloud/techshop-app");
    let why = dep.destructive.as_deref().unwrap_or_default();
    assert!(
        why.contains("kubectl delete deployment -n techshop-cloud techshop-app --cascade=orphan"),
        "{why}"
    );

    let notes = upgrade_notes(&c, &r);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("kubectl delete deployment -n techshop-cloud techshop-app-canary")),
        "{notes:?}"
    );
}

fn ecommerce_do(yaml: &str) -> infragen::Output {
    synth_text("ecommerce-eks.yaml", yaml, Provider::Digitalocean)
}

/// On DigitalOcean the default node pool lives inside `digitalocean_kubernetes_cluster`,
/// and its `size` is ForceNew (the provider's nodePoolSchema): a bigger droplet for the
/// default pool destroys the cluster. Renaming the cluster is done in place.
#[test]
fn a_default_pool_size_change_is_flagged_as_replacing_the_doks_cluster() {
    let base = std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap();
    let head = edit(
        &base,
        "sizes: { aws: t3.medium }",
        "sizes: { aws: t3.medium, digitalocean: s-4vcpu-8gb }",
    );
    let (changes, _) = compare(&ecommerce_do(&base), &ecommerce_do(&head), &BTreeMap::new());
    let cluster = change(&changes, "infra: digitalocean_kubernetes_cluster.main");
    assert!(
        cluster
            .destructive
            .as_deref()
            .is_some_and(|d| d.contains("node_pool.size") && d.contains("destroys")),
        "{cluster:?}"
    );
}

/// A database cluster's `name` is ForceNew (a new, empty cluster); its `region` is migrated
/// in place (Databases.Migrate) and a Kubernetes cluster's `name` is updated in place.
#[test]
fn a_database_cluster_rename_is_destructive_and_a_region_move_is_not() {
    let out = ecommerce_do(
        &std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap(),
    );
    let data = "terraform/infra/data.tf.json";
    let cluster = "terraform/infra/cluster.tf.json";
    let with = |file: &str, from: &str, to: &str| {
        let mut o = out.clone();
        let text = o.files.get_mut(file).unwrap();
        assert!(text.contains(from), "{file} holds no {from}");
        *text = text.replace(from, to);
        o
    };
    let renamed = with(data, "\"ecommerce-production-db\"", "\"ecommerce-prod-db\"");
    let (changes, _) = compare(&out, &renamed, &BTreeMap::new());
    let db = change(&changes, "infra: digitalocean_database_cluster.db");
    assert!(
        db.destructive
            .as_deref()
            .is_some_and(|d| d.contains("name")),
        "{db:?}"
    );

    let moved = with(data, "\"region\": \"nyc1\"", "\"region\": \"nyc3\"");
    let (changes, _) = compare(&out, &moved, &BTreeMap::new());
    let db = change(&changes, "infra: digitalocean_database_cluster.db");
    assert!(db.destructive.is_none(), "{db:?}");

    let k8s = with(cluster, "\"ecommerce-production\"", "\"ecommerce-prod\"");
    let (changes, _) = compare(&out, &k8s, &BTreeMap::new());
    let c = change(&changes, "infra: digitalocean_kubernetes_cluster.main");
    assert!(c.destructive.is_none(), "{c:?}");
}

/// Helm never upgrades the CRDs in a chart's `crds/` directory: a newer Envoy Gateway chart
/// would run its controller against its CRDs of the first install. The diff says to apply
/// the new ones first — on DOKS Envoy Gateway's own only, the Gateway API's being DOKS's
/// (`doks_networking`).
#[test]
fn an_envoy_gateway_chart_bump_says_to_apply_its_crds_first() {
    let head = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let base = edit(
        &head,
        "gateway: { class: eg }",
        "gateway: { class: eg, chart_version: v1.9.0 }",
    );
    let synth = |yaml: &str| {
        infragen::synthesize(
            "ecommerce-doks.yaml",
            yaml.as_bytes(),
            Provider::Digitalocean,
            "stage",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let notes = upgrade_notes(&synth(&base), &synth(&head));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("helm_release.envoy_gateway")
                && n.contains(
                    "helm pull oci://docker.io/envoyproxy/gateway-helm --version v1.9.1 --untar"
                )),
        "{notes:?}"
    );
}

/// A namespace's name cannot change in place: a renamed namespace is deleted with everything
/// in it. Generated passwords regenerated by a changed argument are flagged with what
/// follows for a server initialized with the old one.
#[test]
fn a_namespace_rename_and_a_regenerated_password_are_destructive() {
    let out = ecommerce_do(
        &std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap(),
    );
    let file = "terraform/platform/connections.tf.json";
    let mut head = out.clone();
    let text = head.files.get_mut(file).unwrap();
    assert!(text.contains("\"length\": 32"), "{text}");
    *text = text.replace("\"length\": 32", "\"length\": 40");
    let (changes, _) = compare(&out, &head, &BTreeMap::new());
    let pw = changes
        .iter()
        .find(|c| c.kind_name == "random_password")
        .expect("a generated password");
    assert!(
        pw.destructive
            .as_deref()
            .is_some_and(|d| d.contains("initialized with the old one")),
        "{pw:?}"
    );

    let file = "terraform/platform/namespaces.tf.json";
    let mut head = out.clone();
    let text = head.files.get_mut(file).unwrap();
    assert!(text.contains("\"ecommerce-ingress\""), "{text}");
    *text = text.replace("\"ecommerce-ingress\"", "\"ecommerce-edge\"");
    let (changes, _) = compare(&out, &head, &BTreeMap::new());
    let ns = changes
        .iter()
        .find(|c| c.kind_name == "kubernetes_namespace_v1" && c.destructive.is_some());
    assert!(ns.is_some(), "{changes:#?}");
}

/// DOKS upgrades clusters with `auto_upgrade` to new patch releases only, and the cluster's
/// `version` is in `ignore_changes` then: a new minor version in the blueprint changes
/// nothing Terraform does. The diff says so, with the upgrade to run. (The catalog holds one
/// supported DOKS minor today, so the next one is written into the output.)
#[test]
fn a_doks_minor_version_bump_says_it_is_not_applied_by_terraform() {
    let yaml = std::fs::read_to_string(root().join("blueprints/ecommerce-doks.yaml")).unwrap();
    let base = infragen::synthesize(
        "ecommerce-doks.yaml",
        yaml.as_bytes(),
        Provider::Digitalocean,
        "production",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let mut head = base.clone();
    let text = head
        .files
        .get_mut("terraform/infra/cluster.tf.json")
        .unwrap();
    assert!(text.contains("\"version_prefix\": \"1.35.\""), "{text}");
    *text = text.replace(
        "\"version_prefix\": \"1.35.\"",
        "\"version_prefix\": \"1.36.\"",
    );
    let notes = upgrade_notes(&base, &head);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1.35 → 1.36 is not made by this apply")
                && n.contains("doctl kubernetes cluster upgrade ecommerce-k8s-production")),
        "{notes:?}"
    );
}

/// Selectors of Deployments and StatefulSets cannot change, and a Service or disruption
/// budget selecting by a label that changes with a release would drop every pod on the
/// next one: every selector in every shipped output keys only on labels that stay put
/// (`app`, the rollout's `color` / `track`, a StatefulSet pod's name) — never the version,
/// image tag or environment.
#[test]
fn selectors_key_only_on_labels_that_survive_a_release() {
    const STABLE: [&str; 4] = [
        "app",
        "color",
        "track",
        "statefulset.kubernetes.io/pod-name",
    ];
    for (stem, path, provider, env) in crate::support::matrix() {
        let out = crate::support::synth(&path, provider, &env);
        for doc in manifests(&out) {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let selector = match kind {
                "Deployment" | "StatefulSet" | "PodDisruptionBudget" => {
                    &doc["spec"]["selector"]["matchLabels"]
                }
                "Service" => &doc["spec"]["selector"],
                _ => continue,
            };
            for key in selector.as_object().into_iter().flatten().map(|(k, _)| k) {
                assert!(
                    STABLE.contains(&key.as_str()),
                    "{stem} {provider}/{env}: {kind} {} selects on `{key}`",
                    doc["metadata"]["name"]
                );
            }
        }
    }
}

/// A VPC's range cannot change in place, and what sits in the VPC names it by id in an
/// argument that cannot change either: a new range replaces the Kubernetes cluster and the
/// database clusters with the VPC. The diff follows the references (the text of the
/// cluster did not change, only the value it will get).
#[test]
fn a_new_vpc_range_is_flagged_on_everything_inside_it() {
    let out = ecommerce_do(
        &std::fs::read_to_string(root().join("blueprints/ecommerce-eks.yaml")).unwrap(),
    );
    let mut head = out.clone();
    let text = head
        .files
        .get_mut("terraform/infra/network.tf.json")
        .unwrap();
    assert!(text.contains("\"10.0.0.0/16\""), "{text}");
    *text = text.replace("\"10.0.0.0/16\"", "\"10.1.0.0/16\"");
    let (changes, _) = compare(&out, &head, &BTreeMap::new());
    for addr in [
        "infra: digitalocean_vpc.main",
        "infra: digitalocean_kubernetes_cluster.main",
        "infra: digitalocean_database_cluster.db",
        "infra: digitalocean_database_cluster.cache",
        // …and what names the replaced clusters in turn.
        "infra: digitalocean_kubernetes_node_pool.compute",
        "infra: digitalocean_database_firewall.db",
    ] {
        let c = change(&changes, addr);
        assert!(c.destructive.is_some(), "{c:#?}");
    }
    let db = change(&changes, "infra: digitalocean_database_cluster.db");
    assert!(
        db.destructive
            .as_deref()
            .is_some_and(|d| d.contains("prevent_destroy")),
        "{db:?}"
    );
}

/// A service that gains autoscaling loses `spec.replicas` from its Deployment (the
/// autoscaler owns the count): `kubectl apply` removes the field, which defaults to 1, and
/// the service drops to one pod until the autoscaler scales it back. The diff says how to
/// hand the field over first.
#[test]
fn adding_autoscaling_says_how_to_keep_the_pods() {
    let head = techshop();
    let base = edit(
        &head,
        "    autoscaling: # techshop-app-hpa\n      min: 3\n      max: 10\n      cpu_percent: 70\n      memory_percent: 80\n",
        "",
    );
    let notes = upgrade_notes(
        &synth_text("techshop.yaml", &base, Provider::Kubernetes),
        &synth_text("techshop.yaml", &head, Provider::Kubernetes),
    );
    assert!(
        notes.iter().any(|n| n
            .contains("kubectl apply edit-last-applied -n techshop-cloud deployment/techshop-app")),
        "{notes:?}"
    );
}

/// Scaling a MongoDB replica set (3 → 5) adds pods that must join the set: the
/// replica-set Job of the new member count adds the members the set lacks when it is
/// initiated already (and removes those a scale-down took), through the primary.
#[test]
fn a_replica_set_scale_up_adds_the_new_members() {
    let five = edit(
        &techshop(),
        "replicas: 3 # replica set of 3",
        "replicas: 5 # replica set of 3",
    );
    let five = edit(&five, "limits.cpu: \"27\"", "limits.cpu: \"40\"");
    let five = edit(&five, "limits.memory: 30Gi", "limits.memory: 40Gi");
    let five = edit(&five, "requests.cpu:", "requests.cpu: \"30\" #");
    let five = edit(&five, "requests.memory:", "requests.memory: 40Gi #");
    let out = synth_text("techshop.yaml", &five, Provider::Kubernetes);
    let job = manifests(&out)
        .into_iter()
        .find(|d| d["kind"] == "Job")
        .expect("the replica-set Job");
    let script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        script.contains("rs.add(h)") && script.contains("rs.remove(h)"),
        "{script}"
    );
    assert!(script.contains("replicaSet=mongodb"), "{script}");
    let want = script
        .lines()
        .find(|l| l.trim_start().starts_with("const want"))
        .unwrap();
    for i in 0..5 {
        assert!(
            want.contains(&format!(
                "\"mongodb-{i}.mongodb-service-headless.techshop-cloud.svc.cluster.local:27017\""
            )),
            "{want}"
        );
    }
}

/// A RoleBinding's `roleRef` cannot change ("cannot change roleRef"): a binding that moves
/// to another role fails `kubectl apply` unless it is deleted first, which the diff says.
#[test]
fn a_role_binding_moved_to_another_role_says_to_delete_it_first() {
    let binding = |role: &str| {
        infragen::Output::from_files(&[(
            "k8s/shop/rbac.yaml",
            &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: api\n  namespace: shop\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {role}\nsubjects:\n  - kind: ServiceAccount\n    name: api\n    namespace: shop\n"
            ),
        )])
    };
    let (changes, _) = compare(&binding("reader"), &binding("writer"), &BTreeMap::new());
    let c = change(&changes, "k8s: RoleBinding shop/api");
    assert!(
        c.destructive
            .as_deref()
            .is_some_and(|d| d.contains("kubectl delete rolebinding -n shop api")),
        "{c:?}"
    );
}

/// A service moved to another namespace: its connection ExternalSecrets keep their Terraform
/// address but not their namespace, which `kubernetes_manifest` cannot change in place (the
/// provider plans a replacement: RequiresReplace on `manifest.metadata.namespace`). The
/// diff said "changed" for them, as if patched; it must say they are replaced.
#[test]
fn a_service_moved_to_another_namespace_replaces_its_external_secrets() {
    let yaml =
        std::fs::read_to_string(root().join("tests/fixtures/new-user/shop-eks.yaml")).unwrap();
    let moved = edit(
        &yaml,
        "  - name: worker\n    image:",
        "  - name: worker\n    namespace: background\n    image:",
    );
    let (base, head) = (
        synth_text("shop.yaml", &yaml, Provider::Aws),
        synth_text("shop.yaml", &moved, Provider::Aws),
    );
    let (changes, _) = compare(&base, &head, &BTreeMap::new());
    for name in ["worker_connections", "worker_connections_parameters"] {
        let c = change(
            &changes,
            &format!("connections: kubernetes_manifest.{name}"),
        );
        assert!(
            c.destructive
                .as_deref()
                .is_some_and(|d| d.contains("manifest.metadata.namespace cannot change in place")),
            "{c:#?}"
        );
    }
    // The IAM role follows the service account in place: its trust policy names the new one.
    let role = change(&changes, "infra: aws_iam_role.irsa_worker");
    assert!(role.destructive.is_none(), "{role:#?}");
}

/// An in-cluster database renamed with `renamed_from`: Terraform's `moved` blocks keep its
/// generated password, but no block moves a volume. The renamed StatefulSet gets new,
/// empty claims and its clients are pointed at it by the same apply, while the data stays
/// on the old claims — the diff listed the new StatefulSet as a plain addition. It must be
/// flagged, naming the claims on both sides.
#[test]
fn a_renamed_in_cluster_database_is_flagged_as_starting_empty() {
    let yaml =
        std::fs::read_to_string(root().join("tests/fixtures/new-user/shop-eks.yaml")).unwrap();
    let renamed = edit(
        &edit(
            &edit(
                &yaml,
                "  - name: catalog-db\n    engine: mongodb",
                "  - name: products-db\n    renamed_from: catalog-db\n    engine: mongodb",
            ),
            "uses: [orders-db, catalog-db,",
            "uses: [orders-db, products-db,",
        ),
        "uses: [catalog-db]",
        "uses: [products-db]",
    );
    for provider in [Provider::Aws, Provider::Kubernetes] {
        let (base, head) = (
            synth_text("shop.yaml", &yaml, provider),
            synth_text("shop.yaml", &renamed, provider),
        );
        let (changes, _) = compare(&base, &head, &BTreeMap::new());
        let sts = change(&changes, "k8s: StatefulSet shop/products-db");
        let why = sts.destructive.as_deref().unwrap_or_default();
        assert!(
            why.starts_with("starts EMPTY: it replaces StatefulSet shop/catalog-db")
                && why.contains("-catalog-db-N")
                && why.contains("-products-db-N"),
            "{provider}: {sts:#?}"
        );
        // The old one is dropped from the manifests, not deleted: kubectl deletes nothing.
        let old = change(&changes, "k8s: StatefulSet shop/catalog-db");
        assert!(
            old.destructive
                .as_deref()
                .is_some_and(|d| d.contains("`kubectl apply` leaves it running")),
            "{provider}: {old:#?}"
        );
    }
}

/// A running service switched to `strategy: recreate` (the Celery beat of the new-user Django
/// blueprint, first deployed rolling): `kubectl apply` keeps the `rollingUpdate` the API server
/// defaulted, which it refuses beside `Recreate` (kubernetes/kubernetes#24198). The diff gives
/// the one patch that switches it; nothing is said for a Deployment already `Recreate`.
#[test]
fn switching_to_recreate_says_how_to_get_past_the_defaulted_rolling_update() {
    let path = root().join("tests/fixtures/new-user/quill-django-eks.yaml");
    let head = std::fs::read_to_string(path).unwrap();
    let base = edit(&head, "    rollout: { strategy: recreate }\n", "");
    let note = |base: &str| -> Vec<String> {
        upgrade_notes(
            &synth_text("quill.yaml", base, Provider::Kubernetes),
            &synth_text("quill.yaml", &head, Provider::Kubernetes),
        )
        .into_iter()
        .filter(|n| n.contains("strategy: recreate"))
        .collect()
    };
    let notes = note(&base);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].contains("kubectl patch deployment -n quill beat --type json")
            && notes[0].contains(r#"{"op":"remove","path":"/spec/strategy/rollingUpdate"}"#),
        "{}",
        notes[0]
    );
    assert!(note(&head).is_empty(), "already recreate: nothing to do");
}
