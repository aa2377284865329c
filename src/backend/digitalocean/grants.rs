//! Privileges of a managed PostgreSQL database's own user (`databases[].username`).
//!
//! DigitalOcean creates API users with minimal permissions ("New users receive minimal
//! permissions by default. You can then add user privileges using third-party tools like
//! psql" — <https://docs.digitalocean.com/products/databases/postgresql/how-to/manage-users-and-databases/>),
//! the database (`digitalocean_database_db`) belongs to `doadmin`, and from PostgreSQL 15
//! only a database's owner may create objects in its `public` schema: the services, which
//! connect as that user, would fail their first migration with "permission denied for
//! schema public". Neither the API nor provider 2.71 grants privileges, and the database
//! firewall admits only the cluster, so the `platform` module runs the grant inside the
//! cluster: a Job (`<database>-grants`, waited for) connecting as `doadmin` over TLS, its
//! credentials in a Secret of its own read from the cluster's data source. The GRANTs are
//! idempotent; the Job runs once per apply of a changed spec.

use super::Ctx;
use crate::backend::connections::namespace_name;
use crate::blueprint::types::{Database, DatabaseEngine};
use crate::json;
use crate::k8s;
use crate::terraform::{Module, data, ident, res};

/// A quoted SQL identifier.
fn sql_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The major version of a managed PostgreSQL database.
fn major(ctx: &Ctx, d: &Database) -> u32 {
    ctx.v
        .version(d.version.as_deref(), d.engine.name())
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// The databases whose services connect as a user that cannot create in `public`, with the
/// namespace of their first user: where the grant Job runs.
pub fn needed<'a>(ctx: &Ctx<'a>, opts: &k8s::Options) -> Vec<(&'a Database, String)> {
    let bindings = k8s::managed_bindings(ctx.v, opts);
    ctx.managed_databases()
        .filter(|d| d.engine == DatabaseEngine::Postgres && d.username.is_some())
        .filter(|d| major(ctx, d) >= 15)
        .filter_map(|d| {
            let (ns, _, _) = bindings
                .iter()
                .find(|(_, _, list)| list.iter().any(|b| b.component == d.name))?;
            Some((d, ns.clone()))
        })
        .collect()
}

/// The Secret and the Job of every database [`needed`] lists.
pub fn lower(ctx: &Ctx, opts: &k8s::Options, m: &mut Module) {
    for (d, ns) in needed(ctx, opts) {
        let Some(user) = &d.username else { continue };
        ctx.note(format!(
            "databases[{}]: DigitalOcean creates `{user}` with minimal permissions; terraform/platform grants it the database and its `public` schema as doadmin (Job `{ns}/{}-grants`, waited for; doadmin's credentials are in its Secret and the platform state)",
            d.name, d.name
        ));
        let cluster = data("digitalocean_database_cluster", &d.name);
        // A cluster without `database_name` keeps its services in DigitalOcean's default
        // database.
        let database = d.database_name.as_deref().unwrap_or("defaultdb");
        let name = format!("{}-grants", d.name);
        let key = format!("{}_{}_grants", ident(&ns), ident(&d.name));
        let labels = json!({
            "app": &name,
            "app.kubernetes.io/name": &name,
            "app.kubernetes.io/component": "database",
            "app.kubernetes.io/part-of": &ctx.v.bp.name,
            "app.kubernetes.io/managed-by": "infragen",
        });
        let secret = res("kubernetes_secret_v1", &key);
        m.file("grants").resource(
            &secret,
            json!({
                "metadata": {"name": &name, "namespace": namespace_name(&ns), "labels": labels.clone()},
                "type": "Opaque",
                // libpq's environment: psql reads it as is.
                "data": {
                    "PGHOST": cluster.attr("private_host"),
                    "PGPORT": cluster.attr("port"),
                    "PGUSER": cluster.attr("user"),
                    "PGPASSWORD": cluster.attr("password"),
                    "PGDATABASE": database,
                    "PGSSLMODE": "require",
                },
            }),
        );
        let quoted = sql_ident(user);
        let image = k8s::default_image(
            k8s::Engine::Postgres,
            &ctx.v.version(d.version.as_deref(), d.engine.name()),
        );
        m.file("grants").resource(
            &res("kubernetes_job_v1", &key),
            json!({
                "metadata": {"name": &name, "namespace": namespace_name(&ns), "labels": labels.clone()},
                "spec": {
                    "backoff_limit": 6,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "restart_policy": "OnFailure",
                            "automount_service_account_token": false,
                            // Hardened like every pod infragen writes (the namespace
                            // enforces the restricted Pod Security Standard).
                            "security_context": {
                                "run_as_non_root": true,
                                "run_as_user": "999",
                                "run_as_group": "999",
                                "seccomp_profile": {"type": "RuntimeDefault"},
                            },
                            "container": [{
                                "name": "grants",
                                "image": image,
                                "command": [
                                    "psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1",
                                    "-c", format!("GRANT ALL ON DATABASE {} TO {quoted}", sql_ident(database)),
                                    "-c", format!("GRANT ALL ON SCHEMA public TO {quoted}"),
                                ],
                                "env_from": [{"secret_ref": {"name": &name}}],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"cpu": "250m", "memory": "256Mi"},
                                },
                                "security_context": {
                                    "allow_privilege_escalation": false,
                                    "read_only_root_filesystem": true,
                                    "run_as_non_root": true,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                            }],
                        },
                    },
                },
                "wait_for_completion": true,
                "timeouts": {"create": "10m", "update": "10m"},
                "depends_on": [secret.address()],
            }),
        );
    }
}
