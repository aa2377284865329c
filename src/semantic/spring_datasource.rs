//! A Spring Boot application that `uses` a PostgreSQL or MySQL database but is never told
//! where it is. Spring Boot's JDBC connection is `spring.datasource.url` / `username` /
//! `password`, which the environment sets as `SPRING_DATASOURCE_URL` and so on (relaxed
//! binding, "Externalized Configuration: Binding From Environment Variables",
//! <https://docs.spring.io/spring-boot/reference/features/external-config.html>), and that URL
//! is a JDBC one (`jdbc:mysql://…`, `jdbc:postgresql://…`): the generated `<PREFIX>_URL`
//! (`mysql://…`, `postgresql://…`) is none, and Spring reads no `<PREFIX>_HOST`. Without
//! them the service starts on its profile's defaults (`localhost`, an embedded database) or
//! fails its first query — exactly "services never learn their database's address".
//!
//! A Spring Boot application is recognized by what its blueprint entry shows: a `SPRING_*`
//! variable, or a probe on Spring Boot Actuator's `/actuator/` paths. Warned, not refused:
//! the application's own `application.yml` may read the generated variables
//! (`url: jdbc:mysql://${MYSQL_HOST}:…`), which the blueprint cannot see.

use crate::blueprint::types::{Blueprint, DatabaseEngine, Platform, Service};
use crate::catalog::Provider;
use crate::diagnostic::Note;

pub fn warnings(bp: &Blueprint, provider: Provider) -> Vec<Note> {
    // ECS expands no `$(NAME)` in a task definition; Spring itself resolves `${NAME}`
    // placeholders in any property value, an environment variable's included.
    let ecs = bp.platform_on(provider) == Some(Platform::EcsFargate);
    let mut out = Vec::new();
    for s in bp.workloads().filter(|s| spring_boot(s)) {
        if sets(s, "SPRING_DATASOURCE_URL") || sets(s, "SPRING_R2DBC_URL") {
            continue;
        }
        for u in &s.uses {
            let Some(engine) = bp
                .databases
                .iter()
                .find(|d| d.name == u.name)
                .map(|d| d.engine)
            else {
                continue;
            };
            let scheme = match engine {
                DatabaseEngine::Postgres => "postgresql",
                DatabaseEngine::Mysql => "mysql",
                // Spring Data MongoDB reads a MongoDB URI, which `_URL` is.
                DatabaseEngine::Mongodb => continue,
            };
            let p = u.prefix();
            let (open, close) = if ecs { ("${", "}") } else { ("$(", ")") };
            out.push(Note::warning(
                "spring-datasource",
                format!(
                    "`{}` looks like a Spring Boot application and uses database `{}`, but nothing sets `SPRING_DATASOURCE_URL`: Spring Boot reads its JDBC connection from `spring.datasource.*`, not from `{p}_URL` (`{scheme}://…`, no JDBC URL) or `{p}_HOST`, so unless its own configuration reads those it never finds the database. Add `env: {{ SPRING_DATASOURCE_URL: \"jdbc:{scheme}://{open}{p}_HOST{close}:{open}{p}_PORT{close}/{open}{p}_DATABASE{close}\" }}` and `uses: [{{ name: {}, env: {{ SPRING_DATASOURCE_USERNAME: username, SPRING_DATASOURCE_PASSWORD: password }} }}]` (docs/connections.md \"Names of your own\")",
                    s.name, u.name, u.name,
                ),
            ));
        }
    }
    out
}

fn spring_boot(s: &Service) -> bool {
    let probes = [&s.probes.liveness, &s.probes.readiness, &s.probes.startup];
    s.env.keys().any(|k| k.starts_with("SPRING_"))
        || probes
            .iter()
            .filter_map(|p| p.as_ref()?.path.as_deref())
            .any(|path| path.starts_with("/actuator/"))
}

/// Whether the workload gives variable `name` itself: a value, a secret, or a copy of a
/// connection value (`uses[].env`).
fn sets(s: &Service, name: &str) -> bool {
    s.env.contains_key(name)
        || s.secret_env.iter().any(|e| e.name == name)
        || s.uses.iter().any(|u| u.env.contains_key(name))
}
