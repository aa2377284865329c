//! Redis and Valkey: append-only persistence; with more than one replica, pod 0 is the
//! primary (the client Service selects it) and the others replicate from it (no automatic
//! failover).

use super::engine::default_port;
use super::statefulset::{sh, sh_quote};
use crate::k8s::workload::secret_env;
use crate::k8s::yaml::{Map, map};
use crate::k8s::{Ctx, DataService, Engine};

pub(super) fn env<'c>(ctx: &'c Ctx, d: &'c DataService, secret: &'c str) -> Vec<Map<'c>> {
    vec![secret_env("REDIS_PASSWORD", secret, d.password_key(ctx))]
}

pub(super) fn command(d: &DataService, server: String) -> (Vec<String>, Vec<String>) {
    let mut words = vec![server];
    if d.port != default_port(d.engine) {
        words.extend(["--port".into(), d.port.to_string()]);
    }
    words.extend(d.args.iter().cloned());
    let auth = d.credentials_secret.is_some();
    if d.replicas <= 1 {
        if auth {
            words.extend(["--requirepass".into(), "$(REDIS_PASSWORD)".into()]);
        }
        return (Vec::new(), words);
    }
    // Pod 0 is the primary; the others replicate from it by its stable name.
    let mut script = format!(
        "set -- {}\n",
        words
            .iter()
            .map(|w| sh_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if auth {
        script.push_str(
            "set -- \"$@\" --requirepass \"$REDIS_PASSWORD\" --masterauth \"$REDIS_PASSWORD\"\n",
        );
    }
    script.push_str(&format!(
                "if [ \"${{HOSTNAME##*-}}\" != \"0\" ]; then\n  set -- \"$@\" --replicaof {} {}\nfi\nexec \"$@\"\n",
                d.pod_host(0),
                d.port
            ));
    (vec!["/bin/sh".into(), "-c".into()], vec![script])
}

pub(super) fn probes(d: &DataService, port: u16) -> (Map<'static>, Map<'static>) {
    let cli = if d.engine == Engine::Valkey {
        "valkey-cli"
    } else {
        "redis-cli"
    };
    let auth = if d.credentials_secret.is_some() {
        "REDISCLI_AUTH=\"$REDIS_PASSWORD\" "
    } else {
        ""
    };
    let check = sh(format!("{auth}{cli} -p {port} ping | grep -q PONG"));
    (check.clone(), check)
}

pub(super) fn exporter<'c>(
    ctx: &'c Ctx,
    d: &'c DataService,
    env: &mut Vec<Map<'c>>,
    secret: Option<&'c str>,
    local: &str,
    port: u16,
) -> Vec<String> {
    env.push(map! {"name" => "REDIS_ADDR", "value" => format!("redis://{local}")});
    if let Some(s) = secret {
        env.push(secret_env("REDIS_PASSWORD", s, d.password_key(ctx)));
    }
    vec![format!("--web.listen-address=:{port}")]
}
