//! `cargo bench`: end-to-end synth as a whole process (parse, overlay, validate, lower,
//! render, write) for each shipped blueprint and for generated blueprints of 10, 100 and
//! 1,000 services, with peak memory from `wait4`, plus the in-process breakdown by phase.
//! Prints a markdown table; the README's Performance table and docs/performance.md quote it (last measured
//! 2026-12-06 07:40 UTC on the project's 2-core VM, load 1.1: 100 services 9.77 ms median,
//! 9.58–9.82 over three runs in a row, 9.09 half an hour earlier as the host drifts;
//! 1,000 services 88 ms and 52.6 MiB; seed 004 2.20 ms (1.57 at 07:11); under load 10–20%
//! more). To compare two builds, alternate them in the same minutes: figures from different
//! sessions differ by more than most changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use infragen::Provider;

const RUNS: usize = 30;

/// A seed-004-like stack with `n` ECS services, n/10 databases and caches, and n/20 node
/// pools' worth of alarms: the shape cdktf's reference figures were measured on.
fn generated(n: usize) -> String {
    let mut s = String::from(
        "name: bench\nproviders:\n  aws:\n    region: us-east-1\nstate:\n  bucket: bench-terraform-state-{env}\nnetwork:\n  cidr: 10.0.0.0/16\n  zones: [us-east-1a, us-east-1b]\n  subnets:\n    public: [10.0.1.0/24, 10.0.2.0/24]\n    private: [10.0.10.0/24, 10.0.11.0/24]\ncluster:\n  platform: ecs_fargate\nload_balancer:\n  certificate: { arn: \"arn:aws:acm:us-east-1:123456789012:certificate/bench\" }\n  health_check: { path: /health }\n  waf: { rate_limit: 2000 }\nsecrets:\n",
    );
    for i in 0..n {
        let _ = writeln!(s, "  - {{ name: secret-{i}, path: bench/secret-{i} }}");
    }
    s.push_str("databases:\n");
    for i in 0..n.div_ceil(10) {
        let _ = writeln!(
            s,
            "  - {{ name: db-{i}, engine: postgres, size: medium, storage: {{ size_gb: 100 }}, ha: true }}"
        );
    }
    s.push_str("caches:\n");
    for i in 0..n.div_ceil(10) {
        let _ = writeln!(
            s,
            "  - {{ name: cache-{i}, engine: redis, size: medium, nodes: 2, ha: true }}"
        );
    }
    s.push_str("services:\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  - name: svc-{i}\n    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-{i}:1.0.{i}\n    port: 3000\n    replicas: 2\n    task: {{ cpu: 512, memory: 1024 }}\n    env: {{ NODE_ENV: production, PORT: \"3000\" }}\n    secret_env: [{{ name: SECRET, secret: secret-{i} }}]\n    autoscaling: {{ min: 2, max: 10, cpu_percent: 70, memory_percent: 75 }}\n    routes: [{{ path: /svc-{i} }}]\n    uses: [db-{}, cache-{}]",
            i / 10,
            i / 10
        );
    }
    s.push_str("environments:\n  production: {}\n");
    s
}

struct Run {
    median: Duration,
    min: Duration,
    peak_kib: i64,
}

/// Run the binary `RUNS` times; wall time per run and the largest peak RSS seen.
// The child is reaped by `wait4` (which also reports its peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measure(bin: &Path, args: &[&str]) -> Run {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let child = Command::new(bin)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn infragen");
        let pid = child.id() as libc::pid_t;
        let mut status = 0;
        // SAFETY: plain FFI; `usage` is a zeroed out-parameter and `pid` is our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        times.push(start.elapsed());
        assert!(
            r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "infragen {args:?} failed"
        );
        peak = peak.max(usage.ru_maxrss);
    }
    times.sort();
    Run {
        median: times[times.len() / 2],
        min: times[0],
        peak_kib: peak,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Median in-process time of each phase over `RUNS` runs.
fn phases(file: &str, bytes: &[u8], provider: Provider, env: &str, out: &Path) -> [Duration; 4] {
    let mut all: Vec<[Duration; 4]> = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let loaded = infragen::blueprint::load(file, bytes, provider, env).unwrap();
        let t1 = Instant::now();
        let v = infragen::semantic::analyze(&loaded).unwrap();
        let t2 = Instant::now();
        let output = infragen::backend::synth(&v);
        let t3 = Instant::now();
        let dir = camino::Utf8PathBuf::from_path_buf(out.to_path_buf()).unwrap();
        infragen::output::write(&dir, &output).unwrap();
        let t4 = Instant::now();
        all.push([t1 - t0, t2 - t1, t3 - t2, t4 - t3]);
    }
    let mut med = [Duration::ZERO; 4];
    for (i, m) in med.iter_mut().enumerate() {
        let mut v: Vec<Duration> = all.iter().map(|a| a[i]).collect();
        v.sort();
        *m = v[v.len() / 2];
    }
    med
}

fn main() {
    // `cargo bench --bench synth -- --emit DIR`: write the generated blueprints (generated-10,
    // -100 and -1000.yaml) to DIR and stop, so scripts/bench-cdktf.sh measures the same stacks.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let dir = PathBuf::from(args.get(i + 1).expect("--emit DIR"));
        std::fs::create_dir_all(&dir).unwrap();
        for n in [10usize, 100, 1000] {
            std::fs::write(dir.join(format!("generated-{n}.yaml")), generated(n)).unwrap();
        }
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("infragen-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // A copy, as `cargo install` or a package would place it. The linker's own output file
    // starts measurably slower on Linux (about 0.1 ms for `--version`, 0.3 ms for a small
    // synth on the reference machine) while it sits in the page cache as the linker wrote it.
    let bin = tmp.join("infragen");
    std::fs::copy(env!("CARGO_BIN_EXE_infragen"), &bin).unwrap();

    let mut cases: Vec<(String, PathBuf, Provider, &str)> = vec![
        (
            "ecommerce-eks (aws, production)".into(),
            root.join("blueprints/ecommerce-eks.yaml"),
            Provider::Aws,
            "production",
        ),
        (
            "ecommerce-doks (digitalocean, production)".into(),
            root.join("blueprints/ecommerce-doks.yaml"),
            Provider::Digitalocean,
            "production",
        ),
        (
            "techshop (kubernetes, production)".into(),
            root.join("blueprints/techshop.yaml"),
            Provider::Kubernetes,
            "production",
        ),
        (
            "case-eks-fargate (aws, production)".into(),
            root.join("blueprints/case-eks-fargate.yaml"),
            Provider::Aws,
            "production",
        ),
        (
            "qurable-ecs (aws, production)".into(),
            root.join("blueprints/qurable-ecs.yaml"),
            Provider::Aws,
            "production",
        ),
    ];
    for n in [10usize, 100, 1000] {
        let path = tmp.join(format!("generated-{n}.yaml"));
        std::fs::write(&path, generated(n)).unwrap();
        cases.push((
            format!("generated, {n} services (aws, ECS)"),
            path,
            Provider::Aws,
            "production",
        ));
    }

    println!(
        "infragen {} — {RUNS} runs each, release build (a copy of the binary, as installed)\n",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "| blueprint | resources + objects | files | process median ms | min ms | peak RSS MiB | parse+overlay ms | validate ms | lower+render ms | write ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // Whole-process runs first, while this process is small: Linux folds the spawning
    // process's resident memory into a child's peak (`ru_maxrss` includes the pre-exec
    // address space of a vfork'd child), so a large parent would inflate every figure.
    let runs: Vec<Run> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, path, provider, env))| {
            let dir = tmp.join(format!("out-{i}")).display().to_string();
            let p = path.display().to_string();
            let args = [
                "synth",
                "--provider",
                provider.name(),
                "--env",
                env,
                "--blueprint",
                &p,
                "--out",
                &dir,
            ];
            measure(&bin, &args)
        })
        .collect();
    for (i, ((name, path, provider, env), run)) in cases.iter().zip(&runs).enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let out =
            infragen::synthesize(&path.display().to_string(), &bytes, *provider, env).unwrap();
        let resources = infragen::check::check_files(
            &out.files,
            infragen::check::schema::ProviderSchemas::bundled(),
        )
        .resources;
        let manifests: usize = out
            .files
            .iter()
            .filter(|(p, _)| p.ends_with(".yaml"))
            .map(|(_, t)| t.lines().filter(|l| l.starts_with("kind:")).count())
            .sum();
        let objects = resources + manifests;
        let p = path.display().to_string();
        let ph = phases(&p, &bytes, *provider, env, &tmp.join(format!("phase-{i}")));
        println!(
            "| {name} | {objects} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            out.files.len(),
            ms(run.median),
            ms(run.min),
            run.peak_kib as f64 / 1024.0,
            ms(ph[0]),
            ms(ph[1]),
            ms(ph[2]),
            ms(ph[3]),
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
