//! Back-ends: one per provider, chosen by `match`, each a free function from the validated
//! blueprint to an in-memory set of files. No back-end does I/O.

pub mod aws;
pub mod bucket_cors;
pub mod collisions;
pub mod connection_limit;
pub mod connections;
pub mod digitalocean;
pub mod helm;
pub mod kubernetes;
pub(crate) mod lint;
pub mod vpa;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::analysis::Validated;
use crate::blueprint::types::Blueprint;
use crate::catalog::{Provider, versions};
use crate::diagnostic::{Note, note};
use crate::json;
use crate::output::Output;
use crate::terraform::{Json, Module};

/// What a back-end reports besides files, collected through its shared context while the
/// concept files lower: the blueprint parts lowered, and notes for the user.
#[derive(Debug, Default)]
pub(crate) struct Log {
    lowered: Mutex<std::collections::BTreeSet<&'static str>>,
    notes: Mutex<Vec<Note>>,
}

impl Log {
    /// Record that a blueprint part (a top-level key) was lowered.
    pub fn mark(&self, part: &'static str) {
        locked(&self.lowered).insert(part);
    }

    /// A note or a warning for the user.
    pub fn note(&self, text: impl Into<Note>) {
        locked(&self.notes).push(text.into());
    }

    /// Move what was recorded into `out`.
    pub fn finish(&self, out: &mut Output) {
        out.lowered.extend(locked(&self.lowered).iter().copied());
        out.notes.extend(std::mem::take(&mut *locked(&self.notes)));
    }
}

/// The contents of a lock whatever happened to other holders: every value kept behind one
/// is complete after each push or insert, so a panic elsewhere cannot leave it half-made.
pub(crate) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Items per thread below which [`lower_in_parts`] does not start threads. A second thread
/// costs about 0.1 ms to start plus 0.1–0.2 ms to merge its part back, and an ECS service
/// takes about 40 µs to lower, so from some 50 services two threads pay: 100 services on
/// the project's 2-core VM lower in 2.7 instead of 4.0 ms, the whole run 0.8–1.4 ms faster
/// when the machine is idle. When the other core is busy the worker can be preempted in the
/// middle of a service and the join waits for it (up to 0.7 ms lost under load 2).
const ITEMS_PER_THREAD: usize = 24;

#[cfg(test)]
thread_local! {
    /// Tests fix the number of parts to compare threaded and sequential lowering.
    static PARTS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// How many parts to lower `n` items in.
fn parts_for(n: usize) -> usize {
    #[cfg(test)]
    if let Some(p) = PARTS.get() {
        return p.clamp(1, n.max(1));
    }
    if n < 2 * ITEMS_PER_THREAD {
        return 1;
    }
    // `available_parallelism` reads cgroup files: asked only for large stacks.
    std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(n / ITEMS_PER_THREAD)
}

/// Whether [`lower_in_parts`] would use threads for `n` items: the stack is large enough
/// that a second core pays for itself.
pub(crate) fn threaded(n: usize) -> bool {
    parts_for(n) > 1
}

/// Run `main` on `m` and, when given, `side` on another thread into an empty part of the
/// module, merged back after both (with no `side`, just `main`). For a lowering step that
/// asks nothing of what the module declares, and that nothing in `main` asks about: the
/// result is the same as running it after `main`.
pub(crate) fn beside(
    m: &mut Module,
    side: Option<impl FnOnce(&mut Module) + Send>,
    main: impl FnOnce(&mut Module),
) {
    let Some(side) = side else {
        main(m);
        return;
    };
    let mut part = m.part();
    let part = std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            side(&mut part);
            part
        });
        main(m);
        handle
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    m.merge(part);
}

/// `lower` every item into `m`. A large list is shared out among scoped threads (the
/// calling thread is one of them), each lowering into its own empty part of the module,
/// merged back at the end; the module is a set of sorted maps and every item's resources
/// are its own, so the result is the same as lowering one item after the other, whoever
/// lowered which. Items are handed out one at a time from a shared counter rather than in
/// fixed runs, so a thread that starts late (the other core is busy) simply takes fewer,
/// and the calling thread never waits long for it.
pub(crate) fn lower_in_parts<T: Sync>(
    m: &mut Module,
    items: &[T],
    lower: impl Fn(&mut Module, &T) + Sync,
) {
    let threads = parts_for(items.len());
    if threads <= 1 {
        for item in items {
            lower(m, item);
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let take = || items.get(next.fetch_add(1, Ordering::Relaxed));
    let (take, lower) = (&take, &lower);
    let parts: Vec<Module> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .map(|_| {
                let mut part = m.part();
                scope.spawn(move || {
                    while let Some(item) = take() {
                        lower(&mut part, item);
                    }
                    part
                })
            })
            .collect();
        while let Some(item) = take() {
            lower(m, item);
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for part in parts {
        m.merge(part);
    }
}

/// Node pools against the pods at rest (`k8s::room`): refusals (exit 2) and warnings, the
/// pods of the add-ons and controllers the back-end installs itself counted beside the
/// blueprint's (`aws::addon_pods`, built once here; other back-ends install none on EKS
/// pools). Checked after the analysis, before lowering: `k8s` sits below the back-ends and
/// cannot ask them. The caller adds the warnings to the output (`Output::notes`).
pub fn room(v: &Validated) -> crate::k8s::Room {
    let addons = if v.provider == Provider::Aws {
        aws::addon_pods::of(v)
    } else {
        crate::k8s::AddonPods::default()
    };
    crate::k8s::room(v, &addons)
}

/// Lower a validated blueprint for its provider.
pub fn synth(v: &Validated) -> Output {
    let mut out = match v.provider {
        Provider::Aws => aws::synth(v),
        Provider::Digitalocean => digitalocean::synth(v),
        Provider::Kubernetes => kubernetes::synth(v),
    };
    // Every output says what it needs that it cannot make, even when that is nothing.
    if !out.files.contains_key("preconditions.json") {
        out.add_file("preconditions.json", crate::wiring::preconditions_json(&[]));
    }
    let lowered: Vec<&str> = out.lowered.iter().copied().collect();
    out.notes.extend(not_lowered(v.bp, v.provider, &lowered));
    out.notes.extend(v.warnings.iter().cloned());
    note::sort(&mut out.notes);
    out
}

/// The blueprint's parts, by top-level key, with how many items each has.
pub fn parts(bp: &Blueprint) -> Vec<(&'static str, usize)> {
    // Every field by name, without `..`: a new field does not compile until it is listed
    // here as a part (so `not_lowered` notes it wherever it is not lowered) or said not to be.
    let Blueprint {
        name: _,        // not a part: the name every part's resources are derived from
        description: _, // not a part: documentation
        tags: _,        // not a part: put on every part's resources
        providers: _,   // not a part: settings the back-ends read
        state,
        network,
        cluster,
        node_pools,
        fargate_profiles,
        databases,
        caches,
        queues,
        tables,
        load_balancer,
        ingress,
        registry,
        secrets,
        services,
        jobs,
        kubernetes,
        observability,
        buckets,
        overrides: _, // not a part: escape hatch applied after lowering (crate::escape)
        extra: _,     // not a part: escape hatch rendered after lowering (crate::escape)
        environments: _, // not a part: merged into the blueprint before validation
        per_provider: _, // not a part: merged into the blueprint before validation
    } = bp;
    vec![
        ("state", state.is_some() as usize),
        ("network", network.is_some() as usize),
        ("cluster", cluster.is_some() as usize),
        ("node_pools", node_pools.len()),
        ("fargate_profiles", fargate_profiles.len()),
        ("databases", databases.len()),
        ("caches", caches.len()),
        ("queues", queues.len()),
        ("tables", tables.len()),
        ("load_balancer", load_balancer.is_some() as usize),
        (
            "ingress",
            ingress.as_ref().is_some_and(|i| i.enabled) as usize,
        ),
        ("registry", registry.is_some() as usize),
        ("secrets", secrets.len()),
        ("services", services.len()),
        ("jobs", jobs.len()),
        ("kubernetes", kubernetes.is_some() as usize),
        (
            "observability",
            observability.as_ref().is_some_and(|o| !o.alarms.is_empty()) as usize,
        ),
        ("buckets", buckets.len()),
    ]
}

/// A note naming each present blueprint part that `provider` does not lower yet, so nothing
/// is dropped silently.
pub fn not_lowered(bp: &Blueprint, provider: Provider, lowered: &[&str]) -> Option<Note> {
    let missing: Vec<String> = parts(bp)
        .into_iter()
        .filter(|(name, n)| *n > 0 && !lowered.contains(name))
        .map(|(name, n)| {
            if n > 1 {
                format!("{name} ({n})")
            } else {
                name.to_string()
            }
        })
        .collect();
    (!missing.is_empty()).then(|| {
        Note::plain(format!(
            "{} does not lower these blueprint parts yet, so they are absent from the output: {}",
            provider.title(),
            missing.join(", ")
        ))
    })
}

/// Warnings for the workloads that `uses` a component the target provider does not create
/// (`absent`: tables on DigitalOcean; tables and buckets on `--provider kubernetes`): their
/// pods start without its variables and without access to it, which the part's own
/// "not lowered" note does not say.
pub fn uses_absent(
    bp: &Blueprint,
    provider: Provider,
    absent: &[crate::wiring::Kind],
) -> Vec<Note> {
    let mut out = Vec::new();
    for w in bp.workloads() {
        for u in &w.uses {
            let Some(kind) = crate::wiring::kind_of(bp, &u.name) else {
                continue;
            };
            if !absent.contains(&kind) {
                continue;
            }
            let what = if kind == crate::wiring::Kind::Table {
                "table"
            } else {
                "bucket"
            };
            out.push(Note::warning(
                "uses-absent",
                format!(
                    "`{}` uses {what} `{}`, which `--provider {}` does not create: its pods get no {}_* variables and no access to it; give them with `env` / `secret_env`, or drop it from `uses`",
                    w.name,
                    u.name,
                    provider,
                    u.prefix()
                ),
            ));
        }
    }
    out
}

/// `terraform { required_version, required_providers }` for the providers a module uses.
pub fn terraform_block(providers: &[&str], backend: Option<Json>) -> Json {
    let pins = versions();
    let mut required = crate::terraform::Object::new();
    for p in providers {
        if let Some(pin) = pins.providers.get(*p) {
            required.insert(
                (*p).to_string(),
                json!({"source": &pin.source, "version": &pin.version}),
            );
        }
    }
    let mut t = json!({
        "required_version": &pins.terraform,
        "required_providers": required,
    });
    if let Some(b) = backend {
        t["backend"] = b;
    }
    t
}

/// The state key of one root module: the blueprint's key for `infra`, and the same key in a
/// sub-folder named after the module for the others (`production/platform/terraform.tfstate`).
pub fn state_key(key: &str, env: &str, module: &str) -> String {
    let key = key.replace("{env}", env);
    if module == "infra" {
        return key;
    }
    match key.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/{module}/{file}"),
        None => format!("{module}/{key}"),
    }
}

/// Tags on every resource: the blueprint's, plus where it came from.
pub fn common_tags(v: &Validated) -> BTreeMap<String, String> {
    let mut tags = v.bp.tags.clone();
    // Tag keys are case-insensitive for IAM (CreateRole: "Duplicate tag keys found"): a
    // blueprint's `Environment` replaces the default `environment`, not joins it.
    for (key, value) in [
        ("managed-by", "infragen".to_string()),
        ("blueprint", v.bp.name.clone()),
        ("environment", v.env.to_string()),
    ] {
        if !tags.keys().any(|k| k.eq_ignore_ascii_case(key)) {
            tags.insert(key.into(), value);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::{PARTS, state_key};

    /// A stack of `n` ECS services with varied routes, data services, secrets and scaling.
    fn stack(n: usize) -> String {
        use std::fmt::Write as _;
        let mut s = String::from(
            "name: big\nproviders:\n  aws:\n    region: eu-west-1\nstate:\n  bucket: big-state-{env}\nnetwork:\n  cidr: 10.0.0.0/16\n  zones: [eu-west-1a, eu-west-1b]\n  subnets:\n    public: [10.0.1.0/24, 10.0.2.0/24]\n    private: [10.0.10.0/24, 10.0.11.0/24]\ncluster:\n  platform: ecs_fargate\nload_balancer:\n  certificate: { arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/big\" }\n  health_check: { path: /health }\nsecrets:\n",
        );
        for i in 0..n {
            let _ = writeln!(s, "  - {{ name: secret-{i}, path: big/secret-{i} }}");
        }
        s.push_str("databases:\n");
        for i in 0..n.div_ceil(10) {
            let _ = writeln!(
                s,
                "  - {{ name: db-{i}, engine: postgres, size: small, storage: {{ size_gb: 20 }} }}"
            );
        }
        s.push_str("caches:\n");
        for i in 0..n.div_ceil(10) {
            let _ = writeln!(s, "  - {{ name: cache-{i}, engine: redis, size: small }}");
        }
        s.push_str("services:\n");
        for i in 0..n {
            let _ = writeln!(
                s,
                "  - name: svc-{i}\n    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc-{i}:1\n    port: {}\n    secret_env: [{{ name: SECRET, secret: secret-{i} }}]\n    uses: [db-{}, cache-{}]",
                3000 + i % 7,
                i / 10,
                (i / 10 + 1) % n.div_ceil(10),
            );
            if i % 3 != 0 {
                let _ = writeln!(s, "    routes: [{{ path: /svc-{i} }}]");
            }
            if i % 2 == 0 {
                let _ = writeln!(
                    s,
                    "    task: {{ cpu: 512, memory: 1024 }}\n    autoscaling: {{ min: 2, max: 10, cpu_percent: 70 }}"
                );
            }
        }
        s
    }

    #[test]
    fn lowering_in_parts_matches_lowering_in_sequence() {
        let text = stack(150);
        let synth = |parts: usize| {
            PARTS.set(Some(parts));
            let out = crate::synthesize("big.yaml", text.as_bytes(), crate::Provider::Aws, "prod")
                .unwrap();
            PARTS.set(None);
            out
        };
        let one = synth(1);
        assert!(one.files["terraform/infra/ecs.tf.json"].contains("svc_149_execution"));
        for parts in [2, 3, 7] {
            let other = synth(parts);
            // What is written and said; the collected names follow the parts' order.
            assert!(
                one.files == other.files && one.notes == other.notes,
                "{parts} parts differ from one"
            );
        }
    }

    #[test]
    fn keys_per_module() {
        assert_eq!(
            state_key("{env}/terraform.tfstate", "stage", "infra"),
            "stage/terraform.tfstate"
        );
        assert_eq!(
            state_key("{env}/terraform.tfstate", "stage", "platform"),
            "stage/platform/terraform.tfstate"
        );
        assert_eq!(
            state_key("state.tfstate", "x", "platform"),
            "platform/state.tfstate"
        );
    }
}
