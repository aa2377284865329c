//! Configuration files (`services[].files`, `jobs[].files`): where they may go and how much
//! text they may hold, so the mounts are accepted and the pods or tasks start.
//!
//! - A plain absolute path (`containers::is_plain_path`, no `.` part), in a directory
//!   below `/`: it is a mount path, a ConfigMap key (its last part) and, on ECS, an argument
//!   of the setup container's script (`backend::aws::config_files`).
//! - On Kubernetes, a file name that is a valid ConfigMap key: no leading `..`, at most
//!   [`MAX_NAME`] bytes.
//! - Not under `/proc`, `/dev` or `/sys` (kernel filesystems the runtime mounts), nor
//!   `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` (the kubelet and ECS write those).
//! - Listed once, none another's directory; not at or below a writable path (a read-only file inside a writable
//!   emptyDir or, on ECS, a second volume at the writable path's directory), nor a writable
//!   path below it; not below `/etc/infragen/ca`, where the databases' CA files are mounted.
//! - On ECS a file's directory becomes a volume hiding what the image has there
//!   (`backend::aws::config_files`): refused for the directories a container cannot run
//!   without (`/etc` holds `passwd` and the CA certificates, `/usr/bin` the programs), and
//!   above a writable path or the CA directory (that volume would be covered).
//! - No NUL character: ECS carries the text in an environment variable, which ends at one.
//! - Size. Kubernetes: `kubectl apply` copies the ConfigMap into its
//!   `last-applied-configuration` annotation, and a ConfigMap whose annotations pass 262144
//!   bytes is refused ("metadata.annotations: Too long: must have at most 262144 bytes",
//!   kubernetes/kubectl#712) — below the ConfigMap's own 1 MiB; the files' text, JSON-escaped
//!   as the annotation holds it, may take [`KUBERNETES_BUDGET`]. ECS: the text is part of the
//!   task definition, which ECS refuses above 65536 bytes ("Max allowed length is '65536'
//!   bytes", awsdocs/amazon-ecs-developer-guide#149); the files may take
//!   [`ECS_BUDGET`], half of it, the rest left to the containers' own definitions (their
//!   environment, the RDS CA bundle the setup container also carries, sidecars).

use std::collections::BTreeSet;

use super::Checker;
use super::containers::{is_at_or_below, is_plain_path};
use crate::blueprint::types::{Blueprint, Platform, Service};
use crate::catalog::Provider;

/// JSON-escaped bytes of a workload's files on Kubernetes: the 256 KiB annotation less 16
/// KiB for the rest of the object.
pub const KUBERNETES_BUDGET: usize = 240 * 1024;
/// JSON-escaped bytes of a task's files on ECS: half the task definition's 64 KiB.
pub const ECS_BUDGET: usize = 32 * 1024;

/// Longest file name on Kubernetes: a ConfigMap key (at most 253 bytes) with room for the
/// position `k8s::config_files` puts in front of a name two files share.
const MAX_NAME: usize = 240;
/// Kernel filesystems: nothing may be mounted there.
const KERNEL: &[&str] = &["/proc", "/dev", "/sys"];
/// Files the container runtime writes into every container.
const RUNTIME_FILES: &[&str] = &["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];
/// Directories an image cannot lose on ECS (where a file's directory is replaced).
const SYSTEM_DIRS: &[&str] = &[
    "/etc",
    "/etc/ssl",
    "/etc/ssl/certs",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/lib",
    "/usr/share",
    "/var",
    "/var/lib",
    "/root",
    "/home",
    "/opt",
    "/app",
    "/srv",
];

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs =
        c.provider == Provider::Aws && bp.platform_on(c.provider) == Some(Platform::EcsFargate);
    let jobs = bp.jobs.iter().map(|j| j.pod());
    let workloads = (bp.services.iter().enumerate())
        .map(|(i, s)| (format!("services[{i}]"), s))
        .chain(jobs.enumerate().map(|(i, s)| (format!("jobs[{i}]"), s)));
    for (path, s) in workloads {
        check_workload(c, &path, s, ecs);
    }
}

fn check_workload(c: &mut Checker, path: &str, s: &Service, ecs: bool) {
    let mut seen = BTreeSet::new();
    let (budget, limit) = if ecs {
        (
            ECS_BUDGET,
            "the ECS task definition's 65536 bytes (the files travel in it)",
        )
    } else {
        (
            KUBERNETES_BUDGET,
            "the 262144 bytes `kubectl apply` may record of the ConfigMap (its last-applied-configuration annotation)",
        )
    };
    let mut total = 0;
    for (k, f) in s.files.iter().enumerate() {
        let at = format!("{path}.files[{k}]");
        let p = f.path.as_str();
        if let Some(problem) = path_problem(p, ecs) {
            let (message, help) = problem;
            c.error(&format!("{at}.path"), message).help = Some(help);
        } else if !seen.insert(p) {
            c.error(
                &format!("{at}.path"),
                format!("`{p}` is listed twice in the files of `{}`", s.name),
            )
            .help = Some("give each file its own path, once".into());
        } else if let Some(o) = s.files[..k]
            .iter()
            .find(|o| is_at_or_below(p, &o.path) || is_at_or_below(&o.path, p))
        {
            // A file cannot be mounted inside another file, nor one be a directory.
            c.error(
                &format!("{at}.path"),
                format!(
                    "`{p}` and the file `{}` cannot both exist: one would be the other's directory",
                    o.path
                ),
            )
            .help = Some("give the files paths in which neither is the other's directory".into());
        } else if let Some(w) = s
            .security
            .writable_paths
            .iter()
            .find(|w| is_at_or_below(p, w) || is_at_or_below(w, p))
        {
            c.error(
                &format!("{at}.path"),
                format!("`{p}` collides with the writable path `{w}` (an empty, writable volume mounted there)"),
            )
            .help = Some(format!(
                "put the file in a directory of its own, outside `{w}` (e.g. `/etc/{}/…`), and point the app at it",
                s.name
            ));
        } else if ecs
            && let Some(inner) = (s.security.writable_paths.iter().map(String::as_str))
                .chain([crate::wiring::CA_DIR])
                .find(|w| is_at_or_below(w, directory(p)))
        {
            // The task lists the writable and CA volumes before the files' (`backend::aws::
            // ecs`): mounted in that order, the file's directory would cover the inner one.
            c.error(
                &format!("{at}.path"),
                format!(
                    "on ECS Fargate `{}` becomes a volume of its own, over the `{inner}` volume below it",
                    directory(p)
                ),
            )
            .help = Some(format!(
                "put the file in a directory that holds no writable path nor `{}`, e.g. `/etc/{}/`",
                crate::wiring::CA_DIR,
                s.name
            ));
        }
        if f.content.contains('\0') {
            c.error(
                &format!("{at}.content"),
                "the content holds a NUL character: files are text (on ECS it travels in an environment variable, which ends at a NUL)",
            )
            .help = Some("remove the NUL characters; ship binary files in the image".into());
        }
        let size = serde_json::to_string(&f.content).map_or(0, |j| j.len());
        let before = total;
        total += size;
        if before <= budget && total > budget {
            c.error(
                &format!("{at}.content"),
                format!(
                    "the files of `{}` take {total} bytes (JSON-escaped) with this one; at most {budget} fit in {limit}",
                    s.name
                ),
            )
            .help = Some("ship large or many files in the image (or fetch them at start), and keep `files` for what varies by environment".into());
        }
    }
}

/// The directory holding `p`.
fn directory(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Why `p` cannot be a file's path (message, suggestion), if it cannot.
fn path_problem(p: &str, ecs: bool) -> Option<(String, String)> {
    let dir = directory(p);
    if !is_plain_path(p)
        || p.ends_with('/')
        || p.split('/').skip(1).any(|x| x.is_empty() || x == ".")
    {
        return Some((
            format!("`{p}` is not an absolute path of letters, digits, `.`, `_`, `-` and `/`"),
            "write the file's absolute path in the container, e.g. `/etc/nginx/conf.d/default.conf`".into(),
        ));
    }
    if dir.is_empty() {
        return Some((
            format!("`{p}` is a file directly under `/`"),
            format!(
                "put it in a directory of its own, e.g. `/etc/app{p}`, and point the app at it"
            ),
        ));
    }
    if let Some(k) = KERNEL.iter().find(|k| is_at_or_below(p, k)) {
        return Some((
            format!("`{p}` is under `{k}`, a kernel filesystem the container runtime mounts"),
            "configuration files go elsewhere, e.g. under `/etc/<app>/`".into(),
        ));
    }
    if RUNTIME_FILES.contains(&p) {
        return Some((
            format!("`{p}` is written by the container runtime (Kubernetes and ECS alike)"),
            "set names through DNS or the app's own configuration instead".into(),
        ));
    }
    if is_at_or_below(p, crate::wiring::CA_DIR) {
        return Some((
            format!("`{p}` is where infragen mounts the databases' CA files, read only"),
            format!(
                "put the file in another directory; `{}` is reserved",
                crate::wiring::CA_DIR
            ),
        ));
    }
    // On Kubernetes the file's name is its ConfigMap key, which the API server takes only
    // up to 253 bytes and not starting with `..` (`IsConfigMapKey`, k8s.io/apimachinery
    // pkg/util/validation: "must not start with '..'"; the kubelet keeps its own `..data`
    // beside the keys): the apply would stop at the ConfigMap. 240, as two files sharing a
    // name get their position in front (`k8s::config_files`).
    let name = p.rsplit('/').next().unwrap_or_default();
    if !ecs && (name.starts_with("..") || name.len() > MAX_NAME) {
        return Some((
            format!(
                "`{name}` cannot be a ConfigMap key, which holds the file on Kubernetes: keys start with no `..` and take at most 253 bytes"
            ),
            format!(
                "name the file without leading dots and in at most {MAX_NAME} characters, and point the app at it"
            ),
        ));
    }
    if ecs && SYSTEM_DIRS.contains(&dir) {
        return Some((
            format!(
                "on ECS Fargate `{dir}` would become a volume holding only the blueprint's files (Fargate mounts directories, not files), hiding what the image keeps there"
            ),
            "put the file in a directory of its own (e.g. `/etc/<app>/…`, or nginx's `/etc/nginx/conf.d/`) and point the app at it".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::path_problem;

    #[test]
    fn paths() {
        assert!(path_problem("/etc/nginx/conf.d/default.conf", true).is_none());
        assert!(path_problem("/etc/app/config.yaml", false).is_none());
        for bad in [
            "etc/x",
            "/etc/x/",
            "/etc//x",
            "/etc/./x",
            "/etc/../x",
            "/x.conf",
            "/etc/a b",
        ] {
            assert!(path_problem(bad, false).is_some(), "{bad}");
        }
        assert!(path_problem("/proc/x/y", false).is_some());
        assert!(path_problem("/etc/resolv.conf", false).is_some());
        assert!(path_problem("/etc/infragen/ca/x.crt", false).is_some());
        // `/etc` itself is kept on Kubernetes (one file mounted), not on ECS.
        assert!(path_problem("/etc/app.conf", false).is_none());
        assert!(path_problem("/etc/app.conf", true).is_some());
        // A ConfigMap key starts with no `..` and holds at most 253 bytes; ECS has no key.
        assert!(path_problem("/etc/app/..data", false).is_some());
        assert!(path_problem("/etc/app/..data", true).is_none());
        assert!(path_problem("/etc/app/.env", false).is_none());
        let long = format!("/etc/app/{}", "x".repeat(241));
        assert!(path_problem(&long, false).is_some());
        assert!(path_problem(&long[..long.len() - 1], false).is_none());
    }
}
