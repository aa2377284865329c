//! MySQL: the server's data directory, its credentials env (a root password operators can
//! read), its `mysqladmin ping` probes, and how the exporter connects.

use super::statefulset::exec;
use crate::k8s::DataService;
use crate::k8s::workload::secret_env;
use crate::k8s::yaml::{Map, map, seq};

/// The data directory: a subdirectory of the volume, never its root. A freshly formatted
/// ext4 block volume (DigitalOcean's and EBS's CSI drivers) holds `lost+found`, and
/// `mysqld --initialize` refuses a data directory with anything in it ("--initialize
/// specified but the data directory has files in it. Aborting."), so MySQL would never
/// start on a new claim. The image's entrypoint reads `--datadir` and creates it.
pub(crate) fn data_dir(d: &DataService) -> String {
    format!("{}/data", d.engine.data_path())
}

/// `mysqld --datadir=<subdirectory>` followed by the blueprint's own args.
pub(super) fn args(d: &DataService, server: String) -> Vec<String> {
    let mut args = vec![server, format!("--datadir={}", data_dir(d))];
    args.extend(d.args.iter().cloned());
    args
}

pub(super) fn env<'c>(secret: &'c str, db: &'c str) -> Vec<Map<'c>> {
    vec![
        secret_env("MYSQL_USER", secret, "username"),
        secret_env("MYSQL_PASSWORD", secret, "password"),
        map! {"name" => "MYSQL_DATABASE", "value" => db},
        // A root password the operators can read (a random one would be lost in the
        // container's log).
        secret_env("MYSQL_ROOT_PASSWORD", secret, "root-password"),
    ]
}

pub(super) fn probes(port: u16) -> (Map<'static>, Map<'static>) {
    let check = exec(seq![
        "mysqladmin",
        "ping",
        "-h",
        "127.0.0.1",
        "-P",
        port.to_string(),
    ]);
    (check.clone(), check)
}

pub(super) fn exporter<'c>(
    env: &mut Vec<Map<'c>>,
    secret: Option<&'c str>,
    local: &str,
    listen: String,
) -> Vec<String> {
    if let Some(s) = secret {
        env.push(secret_env("MYSQL_USER", s, "username"));
        env.push(secret_env("MYSQLD_EXPORTER_PASSWORD", s, "password"));
    }
    vec![
        format!("--mysqld.address={local}"),
        "--mysqld.username=$(MYSQL_USER)".into(),
        listen,
    ]
}
