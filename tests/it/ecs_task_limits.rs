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

/// A service whose environment carries `vars` values of `len` bytes, with a sidecar that
/// takes the app's environment when `app_env`.
fn env_stack(vars: usize, len: usize, app_env: bool) -> String {
    let env: String = (0..vars)
        .map(|k| format!("      VAR_{k}: \"{}\"\n", "x".repeat(len)))
        .collect();
    ecs_stack(
        "limits",
        &format!(
            "services:
  - name: api
    image: ghcr.io/acme/api:2.3.1
    port: 8080
    env:
{env}    sidecars:
      - {{ name: migrate, image: \"ghcr.io/acme/api:2.3.1\", app_env: {app_env} }}
"
        ),
    )
}

/// The bytes of every container definitions document of the output's task definitions.
fn definition_bytes(out: &infragen::Output) -> Vec<usize> {
    resources(out, "infra", "aws_ecs_task_definition")
        .iter()
        .map(|td| td["container_definitions"].as_str().unwrap().len())
        .collect()
}

/// "Task definition size limit: 64 KiB" (ECS service quotas): RegisterTaskDefinition refuses
/// a larger one at apply ("Max allowed length is '65536' bytes"). The blueprint's own text is
/// a lower bound of it, so a service whose environment alone passes it is refused at its
/// `env` — counting the copy a sidecar with `app_env` takes — and one well under is written.
#[test]
fn a_task_definition_past_64_kib_of_the_blueprints_text_is_refused_at_env() {
    // 40 values of 1000 bytes: ~41 KB once, ~82 KB with the sidecar's copy.
    let (code, err) = crate::support::synth_cli(&env_stack(40, 1000, true), "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`services[0].env`")
            && err.contains("65536 bytes")
            && err.contains("blueprint.yaml:21:"),
        "{err}"
    );
    // The same environment in the app alone fits, and is written within the limit.
    let out = synth_aws("limits", &env_stack(40, 1000, false)).unwrap_or_else(|e| panic!("{e}"));
    let sizes = definition_bytes(&out);
    assert!(sizes.iter().all(|&n| n > 40_000 && n < 65_536), "{sizes:?}");
    // 70 values of 1000 bytes in the app alone: refused too.
    let (code, err) = crate::support::synth_cli(&env_stack(70, 1000, false), "aws");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`services[0].env`"), "{err}");
}
