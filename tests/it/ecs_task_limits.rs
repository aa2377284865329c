//! ECS task definitions hold at most 10 containers ("Containers per task definition: 10",
//! not adjustable, docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html);
//! RegisterTaskDefinition refuses more. The count includes the container infragen puts in
//! front of the blueprint's (`infragen-volumes`, which prepares the writable paths and the
//! databases' CA files), so a service with 9 init containers and sidecars is refused at the
//! one that overflows — exactly when that container is there.

use serde_json::Value;

use crate::support::{ecs_stack, matrix, resources, synth, synth_aws};

/// A service with `n` sidecars (and `security`), using database `db` when `uses_db`.
fn stack(n: usize, security: &str, uses_db: bool) -> String {
    let sidecars: String = (0..n)
        .map(|k| format!("      - {{ name: side-{k}, image: \"ghcr.io/acme/side:1.0.{k}\" }}\n"))
        .collect();
    let uses = if uses_db { "    uses: [db]\n" } else { "" };
    ecs_stack(
        "limits",
        &format!(
            "databases:
  - {{ name: db, engine: postgres, size: small, database_name: app, storage: {{ size_gb: 20 }} }}
services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
{uses}    security: {security}
    sidecars:
{sidecars}"
        ),
    )
}

fn containers(out: &infragen::Output) -> Vec<Vec<String>> {
    resources(out, "infra", "aws_ecs_task_definition")
        .iter()
        .map(|td| {
            let defs: Value =
                serde_json::from_str(td["container_definitions"].as_str().unwrap()).unwrap();
            defs.as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn ten_containers_with_the_volume_setup_are_taken() {
    let out = synth_aws("limits", &stack(8, "{}", true)).unwrap_or_else(|e| panic!("{e}"));
    let tasks = containers(&out);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].len(), 10, "{:?}", tasks[0]);
    assert!(
        tasks[0].iter().any(|n| n == "infragen-volumes"),
        "{:?}",
        tasks[0]
    );
}

#[test]
fn an_eleventh_container_is_refused_where_it_is_written() {
    // /tmp (the default writable path) alone brings the volume setup.
    let e = synth_aws("limits", &stack(9, "{}", false)).expect_err("11 containers refused");
    assert!(e.contains("services[0].sidecars[8]"), "{e}");
    assert!(e.contains("limits.yaml:"), "{e}");
    assert!(
        e.contains("at most 10") && e.contains("infragen-volumes"),
        "{e}"
    );
    // So does a database CA file, with no writable path.
    let e = synth_aws("limits", &stack(9, "{ writable_paths: [] }", true))
        .expect_err("11 containers refused");
    assert!(e.contains("services[0].sidecars[8]"), "{e}");
}

#[test]
fn without_the_volume_setup_nine_extra_containers_fit() {
    let out = synth_aws("limits", &stack(9, "{ writable_paths: [] }", false))
        .unwrap_or_else(|e| panic!("{e}"));
    let tasks = containers(&out);
    assert_eq!(tasks[0].len(), 10, "{:?}", tasks[0]);
    assert!(
        !tasks[0].iter().any(|n| n == "infragen-volumes"),
        "{:?}",
        tasks[0]
    );
}

#[test]
fn every_shipped_task_definition_fits_ecs() {
    let mut checked = 0;
    for (label, path, provider, env) in matrix() {
        if provider != infragen::Provider::Aws {
            continue;
        }
        for names in containers(&synth(&path, provider, &env)) {
            assert!(
                names.len() <= 10,
                "{label}: {} containers: {names:?}",
                names.len()
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
