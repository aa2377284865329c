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
