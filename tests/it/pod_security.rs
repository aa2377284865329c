//! `security:` as a team moving an image in from docker-compose writes it. A root image's
//! `run_as_user: 0` beside the `runAsNonRoot: true` every pod carries is a container the
//! kubelet refuses to start (CreateContainerConfigError), and on ECS a root task: refused at
//! the field. A writable path is a volume mounted at the path: it must be absolute and below
//! `/`, and two paths must not share a volume name (the manifests keep one volume per name,
//! so one path would silently stay read-only).

use infragen::Provider;

use crate::support::{ecs_stack, manifests, synth_aws};

fn k8s(security: &str) -> String {
    format!(
        "name: sec
providers:
  kubernetes: {{ context: dev }}
cluster: {{ platform: existing }}
services:
  - name: web
    image: ghcr.io/acme/nginx:1.27.3
    port: 80
    security: {security}
"
    )
}

fn synth_k8s(text: &str) -> Result<infragen::Output, String> {
    infragen::synthesize(
        "sec.yaml",
        text.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .map_err(|d| d.to_string())
}

#[test]
fn a_root_user_is_refused_where_it_is_written() {
    let e = synth_k8s(&k8s("{ run_as_user: 0 }")).expect_err("refused");
    assert!(
        e.contains("services[0].security.run_as_user") && e.contains("sec.yaml:9:"),
        "{e}"
    );
    assert!(e.contains("runAsNonRoot"), "{e}");
    let yaml = ecs_stack(
        "sec",
        "services:
  - name: web
    image: ghcr.io/acme/nginx:1.27.3
    port: 8080
jobs:
  - name: sweep
    image: ghcr.io/acme/nginx:1.27.3
    schedule: \"0 3 * * *\"
    concurrency: Allow
    security: { run_as_user: 0 }
",
    );
    let e = synth_aws("sec", &yaml).expect_err("refused on ECS too");
    assert!(e.contains("jobs[0].security.run_as_user"), "{e}");
    // The image's own unprivileged user runs, non-root, with port 80 allowed.
    let out = synth_k8s(&k8s(
        "{ run_as_user: 101, writable_paths: [/var/cache/nginx, /tmp] }",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(&out);
    let web = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &web["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 101);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["volumes"].as_array().unwrap().len(), 2);
}

#[test]
fn writable_paths_are_absolute_and_each_its_own_volume() {
    let e = synth_k8s(&k8s(
        "{ writable_paths: [tmp, /var/run, /var-run, /, /cache, /cache] }",
    ))
    .expect_err("refused");
    for (i, what) in [
        (0, "`tmp` is not an absolute path"),
        (
            2,
            "`/var-run` and `/var/run` would share the volume name `var-run`",
        ),
        (3, "`/` is not an absolute path"),
        (5, "`/cache` is listed twice"),
    ] {
        assert!(
            e.contains(&format!("services[0].security.writable_paths[{i}]")) && e.contains(what),
            "{what}:\n{e}"
        );
    }
    assert!(
        !e.contains("writable_paths[1]") && !e.contains("writable_paths[4]"),
        "{e}"
    );
}

/// The managed databases' CA files are mounted read only at `/etc/infragen/ca` (EKS and
/// DOKS from the `<service>-connections` ConfigMap or Secret, ECS from the task volume the
/// setup container fills). A writable path there was a second mount at the same path — the
/// API server refuses a Deployment whose mountPaths repeat, Docker on ECS a task whose
/// containers' do ("Duplicate mount point") — and one below it a mount point the runtime
/// cannot create in a read-only mount.
#[test]
fn writable_paths_keep_clear_of_the_ca_directory() {
    let yaml = ecs_stack(
        "sec",
        "databases:
  - { name: db, engine: postgres, size: small, database_name: app, storage: { size_gb: 20 } }
services:
  - name: web
    image: ghcr.io/acme/nginx:1.27.3
    port: 8080
    uses: [db]
    security: { writable_paths: [/tmp, /etc/infragen/ca, /etc/infragen/ca/cache, /etc/infragen, /etc/infragen/cache] }
",
    );
    let e = synth_aws("sec", &yaml).expect_err("refused");
    for i in [1, 2] {
        assert!(
            e.contains(&format!("services[0].security.writable_paths[{i}]"))
                && e.contains("CA files"),
            "{i}:\n{e}"
        );
    }
    for i in [0, 3, 4] {
        assert!(!e.contains(&format!("writable_paths[{i}]")), "{i}:\n{e}");
    }
    let e = synth_k8s(&k8s("{ writable_paths: [/etc/infragen/ca/] }")).expect_err("refused");
    assert!(
        e.contains("services[0].security.writable_paths[0]") && e.contains("CA files"),
        "{e}"
    );
}
