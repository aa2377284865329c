//! The HTTPS listener's rules on ECS: `routes[]` (host and path) of the services behind the
//! load balancer become `aws_lb_listener_rule`s with `host_header` and `path_pattern`
//! conditions.
//!
//! Priorities follow precedence, then a stable hash: an ALB evaluates rules from the lowest
//! priority, so a rule naming a host goes before any rule for every host (as an Ingress
//! prefers its host's rules), and a deeper path before a shallower one (longest prefix wins,
//! as on Kubernetes). Within one such band the priority is a hash of the rule's own host and
//! paths, so adding, removing or reordering other services or routes does not renumber it
//! (a renumbered rule is a replacement in the plan). Priorities are 1..=50000 and unique
//! per listener; a hash collision moves to the next free slot in the band, deterministically.
//! A blue/green or canary service's production rule is placed after every rule the routes
//! would make rolling (see [`plan`]), so switching a service's strategy renumbers nothing.
//!
//! Here rather than beside the load balancer (`backend::aws::edge`), which writes the rules:
//! the check of what ECS's blue/green and canary deployments can shift (`ecs_rollout`) reads
//! the same plan, so the two can never disagree on how many rules a service's routes make.

use std::collections::{BTreeMap, BTreeSet};

use crate::blueprint::types::{PathType, Service};

/// ALB limits: at most three values per condition, and five per rule (host + 3 paths = 4).
const VALUES_PER_CONDITION: usize = 3;
/// Path depth beyond which deeper paths share one band.
const MAX_DEPTH: u32 = 15;
/// Slots in one band (one class × depth).
const BAND: u32 = 1000;

/// One listener rule: forward requests for `host` (any host when `None`) whose path matches
/// one of `paths` (any path when empty) to the target group of `service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's resource name: the service's name for its first rule, `<service>-<n>` next.
    pub name: String,
    pub service: String,
    pub host: Option<String>,
    pub paths: Vec<String>,
    pub priority: u32,
}

/// ALB path patterns of a route: `/api` (prefix) matches `/api` and `/api/*`; `/` or `/*`
/// matches every path (no pattern). ALB patterns are wildcards (`*`, `?`), not prefixes.
fn patterns(path: &str, path_type: PathType) -> Vec<String> {
    let p = path.trim_end_matches('/');
    if p.is_empty() || p == "/*" {
        return vec![];
    }
    if path_type == PathType::Exact || p.ends_with('*') {
        return vec![p.to_string()];
    }
    vec![p.to_string(), format!("{p}/*")]
}

/// Segments before any wildcard: `/api/v1/*` is 2 deep.
fn depth(pattern: &str) -> u32 {
    let literal = pattern.split(['*', '?']).next().unwrap_or("");
    let n = literal.split('/').filter(|s| !s.is_empty()).count();
    (n as u32).min(MAX_DEPTH)
}

/// First slot of a rule's band: host+path, host only, path only, then anything else.
fn band(host: bool, depth: Option<u32>) -> u32 {
    let deeper_first = |d: u32| (MAX_DEPTH - d) * BAND;
    match (host, depth) {
        (true, Some(d)) => 1 + deeper_first(d),
        (true, None) => 1 + (MAX_DEPTH + 1) * BAND,
        (false, Some(d)) => 1 + (MAX_DEPTH + 2) * BAND + deeper_first(d),
        (false, None) => 1 + (2 * MAX_DEPTH + 3) * BAND,
    }
}

/// The resource name of the rule of a service deploying blue/green or canary on ECS: the
/// production listener rule ECS re-weights (`backend::aws::ecs_deployments`). Another
/// resource than the rolling rule (`<service>`), with another priority (see [`plan`]): a
/// service switched to blue/green gets a new rule beside its old one — Terraform could not
/// change the old one's action, which it must ignore once ECS owns it — and the old one goes.
/// (Service names are DNS labels, so `_production` is no other service's rule.)
pub fn production_rule_name(service: &str) -> String {
    format!("{service}_production")
}

/// A rule waiting for its priority: its band, the key its slot hashes, and the rule.
type Pending = (u32, String, Rule);

/// The rules a service's routes make (priority 0), as its production rules when
/// `production` (see [`production_rule_name`]).
fn rules_of(s: &Service, default: Option<&str>, production: bool) -> Vec<Pending> {
    // host → depth → patterns (None depth: every path).
    let mut groups: BTreeMap<Option<String>, BTreeMap<Option<u32>, BTreeSet<String>>> =
        BTreeMap::new();
    for r in &s.routes {
        let ps = patterns(&r.path, r.path_type);
        let by_depth = groups.entry(r.host.clone()).or_default();
        if ps.is_empty() {
            if r.host.is_none() && default == Some(s.name.as_str()) {
                continue;
            }
            by_depth.entry(None).or_default();
        }
        for p in ps {
            by_depth.entry(Some(depth(&p))).or_default().insert(p);
        }
    }
    let mut out = Vec::new();
    let mut n = 0;
    for (host, by_depth) in groups {
        for (d, ps) in by_depth {
            let ps: Vec<String> = ps.into_iter().collect();
            let chunks: Vec<Vec<String>> = if ps.is_empty() {
                // Every path: for a host, the host condition alone; without one, a rule
                // needs a condition, and `/*` matches every path.
                vec![if host.is_some() {
                    vec![]
                } else {
                    vec!["/*".into()]
                }]
            } else {
                ps.chunks(VALUES_PER_CONDITION).map(<[_]>::to_vec).collect()
            };
            for paths in chunks {
                n += 1;
                let name = match (n, production) {
                    (1, true) => production_rule_name(&s.name),
                    (1, false) => s.name.clone(),
                    _ => format!("{}-{n}", s.name),
                };
                let mut key = format!(
                    "{}\u{0}{}\u{0}{}",
                    s.name,
                    host.as_deref().unwrap_or(""),
                    paths.join(",")
                );
                if production {
                    // Hashes elsewhere than the rolling rule it replaces.
                    key.push_str("\u{0}production");
                }
                out.push((
                    band(host.is_some(), d),
                    key,
                    Rule {
                        name,
                        service: s.name.clone(),
                        host: host.clone(),
                        paths,
                        priority: 0,
                    },
                ));
            }
        }
    }
    out
}

/// Gives each rule the first free slot from its hashed one in its band, in a fixed order
/// (sorted by band and key, so collisions resolve the same way every time), marking it
/// taken.
fn place(mut pending: Vec<Pending>, taken: &mut BTreeSet<u32>) -> Vec<Rule> {
    pending.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = Vec::new();
    for (base, key, mut rule) in pending {
        let mut slot = crate::naming::fnv1a(&key) % BAND;
        // A band holds BAND rules; more in one band (never in practice) spill into the next
        // slots, which the uniqueness below still guarantees.
        let mut tries = 0;
        while taken.contains(&(base + slot)) && tries < BAND {
            slot = (slot + 1) % BAND;
            tries += 1;
        }
        let mut priority = base + slot;
        while taken.contains(&priority) {
            priority += 1;
        }
        taken.insert(priority);
        rule.priority = priority;
        out.push(rule);
    }
    out
}

/// The rules for the routed services, except those of `default` for every host's `/`
/// (the listener's default action forwards there).
///
/// In two passes, so that switching a service between rolling and blue/green or canary
/// moves no other rule and never reuses a priority the old rules hold (Terraform creates
/// the new rule while the old ones still stand: PriorityInUse). First every service's rules
/// *as if it deployed rolling* — the rolling rules keep exactly these priorities, whatever
/// the other services' strategies, and a blue/green or canary service's rolling slots stay
/// reserved; then the production rules, each on a slot none of those holds.
pub fn plan(routed: &[&Service], default: Option<&str>) -> Vec<Rule> {
    let production = |s: &Service| s.rollout.strategy.two_tracks();
    let mut taken: BTreeSet<u32> = BTreeSet::new();
    let rolling: Vec<Pending> = routed
        .iter()
        .flat_map(|s| rules_of(s, default, false))
        .collect();
    let mut out: Vec<Rule> = place(rolling, &mut taken)
        .into_iter()
        .filter(|r| routed.iter().any(|s| s.name == r.service && !production(s)))
        .collect();
    let switched: Vec<Pending> = routed
        .iter()
        .filter(|s| production(s))
        .flat_map(|s| rules_of(s, default, true))
        .collect();
    out.extend(place(switched, &mut taken));
    out.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::types::{Route, Strategy};

    fn svc(name: &str, routes: &[(Option<&str>, &str)]) -> Service {
        let yaml = format!(
            "name: t\nservices:\n  - {{name: {name}, image: 'x.example/i:1', port: 8080}}\n"
        );
        let loaded = crate::blueprint::load(
            "t.yaml",
            yaml.as_bytes(),
            crate::catalog::Provider::Aws,
            "production",
        )
        .unwrap();
        let mut s = loaded.blueprint.services[0].clone();
        s.routes = routes
            .iter()
            .map(|(h, p)| Route {
                path: (*p).into(),
                path_type: PathType::Prefix,
                host: h.map(Into::into),
            })
            .collect();
        s
    }

    #[test]
    fn two_hosts_route_to_two_services() {
        let a = svc("shop", &[(Some("shop.example.com"), "/")]);
        let b = svc("admin", &[(Some("admin.example.com"), "/")]);
        let rules = plan(&[&a, &b], None);
        assert_eq!(rules.len(), 2);
        let hosts: Vec<_> = rules.iter().map(|r| r.host.as_deref()).collect();
        assert!(hosts.contains(&Some("shop.example.com")));
        assert!(hosts.contains(&Some("admin.example.com")));
        assert!(rules.iter().all(|r| r.paths.is_empty()));
    }

    #[test]
    fn priorities_are_stable_when_other_services_change() {
        let a = svc("shop", &[(Some("shop.example.com"), "/api")]);
        let b = svc("admin", &[(None, "/admin")]);
        let c = svc("blog", &[(None, "/blog"), (Some("blog.example.com"), "/")]);
        let alone = plan(&[&a], None);
        let with = plan(&[&c, &b, &a], None);
        let p = |rules: &[Rule]| rules.iter().find(|r| r.service == "shop").unwrap().priority;
        assert_eq!(p(&alone), p(&with));
        let mut ps: Vec<u32> = with.iter().map(|r| r.priority).collect();
        ps.sort_unstable();
        ps.dedup();
        assert_eq!(ps.len(), with.len(), "unique priorities: {with:?}");
        assert!(with.iter().all(|r| (1..=50000).contains(&r.priority)));
    }

    #[test]
    fn precedence_host_then_deeper_paths() {
        let a = svc("api", &[(None, "/api")]);
        let b = svc("v2", &[(None, "/api/v2")]);
        let c = svc("admin", &[(Some("admin.example.com"), "/")]);
        let rules = plan(&[&a, &b, &c], None);
        let p = |n: &str| rules.iter().find(|r| r.service == n).unwrap().priority;
        assert!(p("admin") < p("v2"), "{rules:?}");
        assert!(p("v2") < p("api"), "{rules:?}");
    }

    #[test]
    fn at_most_three_paths_per_condition() {
        let a = svc(
            "api",
            &[(None, "/a"), (None, "/b"), (Some("x.example.com"), "/c")],
        );
        let rules = plan(&[&a], None);
        assert!(rules.iter().all(|r| r.paths.len() <= 3), "{rules:?}");
        assert_eq!(rules.len(), 3, "{rules:?}");
        assert_eq!(rules[0].name, "api");
        assert_eq!(rules[1].name, "api-2");
    }

    #[test]
    fn a_production_rule_never_takes_its_rolling_rules_priority() {
        for i in 0..300 {
            let rolling = svc(&format!("s{i}"), &[(None, "/x")]);
            let mut production = rolling.clone();
            production.rollout.strategy = Strategy::Canary;
            let before = plan(&[&rolling], None);
            let after = plan(&[&production], None);
            assert_eq!(after[0].name, format!("s{i}_production"));
            assert_ne!(before[0].priority, after[0].priority, "s{i}");
            // Same precedence: the band of a path one segment deep.
            let base = band(false, Some(1));
            assert!((base..base + BAND).contains(&after[0].priority));
        }
    }

    #[test]
    fn a_switch_moves_no_other_rule_and_takes_no_priority_the_old_rules_hold() {
        // Among 3000 names some production rule hashes onto another service's slot
        // (`s2821`'s onto `web`'s) or onto its own rolling rule's displaced one.
        let web = svc("web", &[(None, "/b")]);
        let shop = svc("shop", &[(Some("shop.example.com"), "/")]);
        for i in 0..3000 {
            let rolling = svc(&format!("s{i}"), &[(None, "/a")]);
            let mut switched = rolling.clone();
            switched.rollout.strategy = Strategy::BlueGreen;
            let before = plan(&[&rolling, &web, &shop], None);
            let after = plan(&[&switched, &web, &shop], None);
            let old: BTreeSet<u32> = before.iter().map(|r| r.priority).collect();
            for rule in &after {
                match before.iter().find(|r| r.name == rule.name) {
                    Some(r) => assert_eq!(r.priority, rule.priority, "s{i}: {rule:?} moved"),
                    None => assert!(
                        !old.contains(&rule.priority),
                        "s{i}: {rule:?} in {before:?}"
                    ),
                }
            }
        }
    }

    /// The rules of `services` with the listener's default as `backend::aws::edge` decides
    /// it: the first service routing `/` on every host, unless it deploys blue/green or canary.
    fn plan_of(services: &[Service]) -> Vec<Rule> {
        let routed: Vec<&Service> = services.iter().filter(|s| !s.routes.is_empty()).collect();
        let default = routed
            .iter()
            .find(|s| {
                s.routes
                    .iter()
                    .any(|r| r.host.is_none() && (r.path == "/" || r.path == "/*"))
            })
            .filter(|s| !s.rollout.strategy.two_tracks())
            .map(|s| s.name.as_str());
        plan(&routed, default)
    }

    #[test]
    fn every_switch_in_every_ecs_blueprint_and_fixture_is_safe() {
        // Each routed service of every blueprint and fixture with a load balancer switched in
        // turn (rolling to blue/green, blue/green or canary to rolling): no other rule moves,
        // and no new rule takes a priority the old plan holds.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut switches = 0;
        for dir in [
            "blueprints",
            "tests/fixtures/workloads",
            "tests/fixtures/new-user",
        ] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read(&path).unwrap();
                let Ok(loaded) = crate::blueprint::load(
                    &path.display().to_string(),
                    &text,
                    crate::catalog::Provider::Aws,
                    "production",
                ) else {
                    continue;
                };
                let services = loaded.blueprint.services;
                if loaded.blueprint.load_balancer.is_none() {
                    continue;
                }
                let before = plan_of(&services);
                let old: BTreeSet<u32> = before.iter().map(|r| r.priority).collect();
                for (i, s) in services.iter().enumerate() {
                    // A blue/green service's routes make one rule (`ecs_rollout` refuses more).
                    if s.routes.is_empty()
                        || before.iter().filter(|r| r.service == s.name).count() > 1
                    {
                        continue;
                    }
                    let mut switched = services.clone();
                    switched[i].rollout.strategy = if s.rollout.strategy == Strategy::Rolling {
                        Strategy::BlueGreen
                    } else {
                        Strategy::Rolling
                    };
                    for rule in plan_of(&switched) {
                        let what = format!("{}: {} switched: {rule:?}", path.display(), s.name);
                        match before.iter().find(|r| r.name == rule.name) {
                            Some(r) => assert_eq!(r.priority, rule.priority, "{what} moved"),
                            None => assert!(!old.contains(&rule.priority), "{what} {before:?}"),
                        }
                    }
                    switches += 1;
                }
            }
        }
        assert!(switches >= 10, "only {switches} switches checked");
    }

    #[test]
    fn the_default_service_root_needs_no_rule_but_its_hosts_do() {
        let a = svc("web", &[(None, "/"), (Some("web.example.com"), "/")]);
        let rules = plan(&[&a], Some("web"));
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].host.as_deref(), Some("web.example.com"));
    }
}
