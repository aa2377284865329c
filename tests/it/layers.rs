//! The top-level modules of `src/` form layers: no cycle of `crate::` references between
//! them, so each can be read (and changed) knowing only the ones below it. The test reads
//! the sources, so a new edge that closes a cycle fails here with the cycle and the files
//! that make each step, not later as a tangle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges `from → to` between top-level modules, each with the files that make it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code without `//` comments (doc links name modules without depending on them). A `//`
/// inside a string literal cuts the rest of that line too, which only ever hides an edge
/// written after a URL on the same line.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each path a `crate::` (or, in a top-level module's own file,
/// `super::`) reference names: `crate::a::b` → `a`; `crate::{a::b, c}` → `a`, `c`.
fn roots(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Segments at depth 1 that start a path: right after `{` or a `,`.
            let mut depth = 1;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 1 => {
                        out.push(ident(&group[j..]).to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest).to_string());
        }
    }
    out
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let top = |p: &Path| -> String {
        let rel = p.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("non-empty");
        let name = first.as_os_str().to_string_lossy();
        name.trim_end_matches(".rs").to_string()
    };
    let modules: BTreeSet<String> = files
        .iter()
        .map(|p| top(p))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    // Names the crate root re-exports (`crate::Output`) count as their module's.
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for line in lib.lines() {
        if let Some(path) = line.trim().strip_prefix("pub use ") {
            let module = ident(path).to_string();
            let names = path[module.len()..].trim_start_matches("::");
            for name in names.trim_matches(|c| "{};".contains(c)).split(',') {
                reexports.insert(ident(name.trim()).to_string(), module.clone());
            }
        }
    }
    let mut g = Graph::new();
    for f in &files {
        let from = top(f);
        if !modules.contains(&from) {
            continue;
        }
        let text = code(&std::fs::read_to_string(f).expect("read source"));
        let rel = f.strip_prefix(&src).expect("under src");
        // `super::` leaves the top-level module only from its own file.
        let own = rel.components().count() == 1
            || rel.file_name().is_some_and(|n| n == "mod.rs") && rel.components().count() == 2;
        let mut refs = roots(&text, "crate::");
        if own {
            refs.extend(roots(&text, "super::"));
        }
        for r in refs {
            let to = reexports.get(&r).cloned().unwrap_or(r);
            if to != from && modules.contains(&to) {
                g.entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    g
}

/// A cycle through `start`, if any: the modules in order, back to `start`.
fn cycle_through(g: &Graph, start: &str) -> Option<Vec<String>> {
    fn walk(
        g: &Graph,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(g, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph();
    let mut reported = BTreeSet::new();
    let mut problems = Vec::new();
    for m in g.keys() {
        if reported.contains(m) {
            continue;
        }
        if let Some(cycle) = cycle_through(&g, m) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let files: Vec<&str> = g[&w[0]][&w[1]].iter().map(String::as_str).collect();
                    format!("  {} → {}  ({})", w[0], w[1], files.join(", "))
                })
                .collect();
            reported.extend(cycle.iter().cloned());
            problems.push(format!("{}\n{}", cycle.join(" → "), steps.join("\n")));
        }
    }
    assert!(
        problems.is_empty(),
        "cycles between top-level modules:\n{}",
        problems.join("\n")
    );
}

/// The check sees real edges: `backend` uses `terraform` (so a reader that found nothing
/// would not pass silently), and a cycle planted in a copy of the graph is found.
#[test]
fn the_layer_check_sees_edges_and_cycles() {
    let mut g = graph();
    assert!(g["backend"].contains_key("terraform"), "{g:?}");
    assert!(cycle_through(&g, "terraform").is_none());
    g.entry("terraform".into())
        .or_default()
        .entry("backend".into())
        .or_default()
        .insert("planted".into());
    let cycle = cycle_through(&g, "terraform").expect("the planted edge closes a cycle");
    assert_eq!(cycle.first().map(String::as_str), Some("terraform"));
    assert_eq!(cycle.last().map(String::as_str), Some("terraform"));
    assert!(cycle.iter().any(|m| m == "backend"), "{cycle:?}");
}

#[test]
fn crate_paths_are_read_through_groups() {
    assert_eq!(
        roots(
            "use crate::{a::{b, c}, d};\nlet x = crate::e::f();",
            "crate::"
        ),
        ["a", "d", "e"]
    );
    assert_eq!(
        roots("use super::super::x; self::crate::y", "crate::"),
        [] as [&str; 0]
    );
}

/// The README's Layout section names every top-level module of `src/` and only paths that
/// exist, bottom layer first, as it says: each module uses only modules listed before it.
#[test]
fn readme_layout_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read README.md");
    let section = readme
        .split_once("### Layout")
        .expect("README.md has a Layout section")
        .1;
    let block = section.split("```").nth(1).expect("a code block in Layout");
    let mut order: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    // Entries start at the first column; indented lines continue the one above.
    for line in block
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
    {
        let Some(path) = line.split_whitespace().next() else {
            continue;
        };
        // `src/backend/<p>/` stands for every provider's folder.
        let real = path.split('<').next().unwrap_or(path);
        if !root.join(real).exists() {
            problems.push(format!("{path} is listed but does not exist"));
        }
        // A workspace crate re-exported under its folder's name (`crates/check/` is
        // `crate::check`) is a layer like a module.
        if let Some(rest) = path.strip_prefix("src/").or(path.strip_prefix("crates/")) {
            let top = ident(rest).to_string();
            if !order.contains(&top) {
                order.push(top);
            }
        }
    }
    let g = graph();
    let mut modules: BTreeSet<&String> = g.keys().collect();
    modules.extend(g.values().flat_map(|e| e.keys()));
    for m in modules {
        if !order.contains(m) {
            problems.push(format!("src/{m} is missing from the Layout section"));
        }
    }
    let at = |m: &str| order.iter().position(|x| x == m);
    for (from, edges) in &g {
        for (to, files) in edges {
            if let (Some(f), Some(t)) = (at(from), at(to))
                && t > f
            {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                problems.push(format!(
                    "{from} uses {to}, listed after it ({})",
                    files.join(", ")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README.md Layout:\n{}",
        problems.join("\n")
    );
}
