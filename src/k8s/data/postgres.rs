//! PostgreSQL: the server's credentials env, its `pg_isready` probes, and how the
//! exporter connects.

use super::statefulset::sh;
use crate::k8s::DataService;
use crate::k8s::workload::secret_env;
use crate::k8s::yaml::{Map, map};

pub(super) fn env<'c>(d: &'c DataService, secret: &'c str, db: &'c str) -> Vec<Map<'c>> {
    vec![
        secret_env("POSTGRES_USER", secret, "username"),
        secret_env("POSTGRES_PASSWORD", secret, "password"),
        map! {"name" => "POSTGRES_DB", "value" => db},
        // A subdirectory of the volume (a fresh volume's `lost+found` makes initdb refuse its
        // root), set explicitly for every major: the 18+ images' default moved to
        // `/var/lib/postgresql/18/docker`, and their entrypoint refuses an "unused mount" at
        // `/var/lib/postgresql/data` only when PGDATA is that default
        // (docker-library/postgres `docker-entrypoint.sh` `docker_setup_env`, PR #1259).
        map! {"name" => "PGDATA", "value" => format!("{}/pgdata", d.engine.data_path())},
    ]
}

pub(super) fn probes(port: u16) -> (Map<'static>, Map<'static>) {
    let check = sh(format!(
        "pg_isready -h 127.0.0.1 -p {port} -U \"$POSTGRES_USER\""
    ));
    (check.clone(), check)
}

pub(super) fn exporter<'c>(
    env: &mut Vec<Map<'c>>,
    secret: Option<&'c str>,
    local: &str,
    db: &str,
    listen: String,
) -> Vec<String> {
    env.push(map! {
        "name" => "DATA_SOURCE_URI",
        "value" => format!("{local}/{db}?sslmode=disable"),
    });
    if let Some(s) = secret {
        env.push(secret_env("DATA_SOURCE_USER", s, "username"));
        env.push(secret_env("DATA_SOURCE_PASS", s, "password"));
    }
    vec![listen]
}
