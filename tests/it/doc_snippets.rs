//! Every ```yaml block of `README.md` and `docs/*.md` is blueprint text a reader copies, so
//! it is checked against the code, and the docs cannot drift from it:
//!
//! - a complete blueprint (one with a top-level `name:`) synthesizes for every provider it
//!   configures and every environment it declares;
//! - a fragment (top-level keys of a blueprint) is put into the starter blueprint
//!   (`templates/init.yaml`, what `infragen init` writes) in place of the keys it gives, and
//!   the result loads — parsed against the blueprint types, overlays applied — for every
//!   environment;
//! - a block marked `<!-- snippet: invalid -->` on the line before its fence is an error
//!   example: it must be refused.

use std::path::PathBuf;

use infragen::Provider;

use crate::support::root;

/// One ```yaml block: where it is, its text, and whether it is marked invalid.
struct Snippet {
    at: String,
    text: String,
    invalid: bool,
}

fn snippets() -> Vec<Snippet> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.insert(0, root().join("README.md"));
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim_end() == "```yaml" {
                let start = i;
                let mut body = String::new();
                i += 1;
                while i < lines.len() && lines[i].trim_end() != "```" {
                    body.push_str(lines[i]);
                    body.push('\n');
                    i += 1;
                }
                let invalid = start > 0 && lines[start - 1].trim() == "<!-- snippet: invalid -->";
                out.push(Snippet {
                    at: format!(
                        "{}:{}",
                        f.strip_prefix(root()).unwrap().display(),
                        start + 1
                    ),
                    text: body,
                    invalid,
                });
            }
            i += 1;
        }
    }
    out
}

/// The top-level blocks of YAML text, in order: (key, its lines); lines before the first key
/// (comments) have no key.
fn blocks(text: &str) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for line in text.lines() {
        let key = line
            .split_once(':')
            .map(|(k, _)| k)
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        match (key, out.last_mut()) {
            (Some(k), _) => out.push((Some(k.to_string()), format!("{line}\n"))),
            (None, Some(last)) => last.1.push_str(&format!("{line}\n")),
            (None, None) => out.push((None, format!("{line}\n"))),
        }
    }
    out
}

/// The starter blueprint with the fragment's top-level keys in place of its own.
fn into_starter(fragment: &str) -> String {
    let starter = std::fs::read_to_string(root().join("templates/init.yaml")).unwrap();
    let given: Vec<String> = blocks(fragment)
        .into_iter()
        .filter_map(|(k, _)| k)
        .collect();
    let mut text: String = blocks(&starter)
        .into_iter()
        .filter(|(k, _)| k.as_ref().is_none_or(|k| !given.contains(k)))
        .map(|(_, b)| b)
        .collect();
    text.push_str(fragment);
    text
}

/// The environments of blueprint text (`production` when it declares none).
fn environments(text: &str) -> Result<Vec<String>, String> {
    let mut envs = infragen::blueprint::environments("snippet.yaml", text.as_bytes())
        .map_err(|d| d.to_string())?;
    if envs.is_empty() {
        envs.push("production".into());
    }
    Ok(envs)
}

/// Check one snippet as the module documentation says; `Err` says why it fails.
fn check(s: &Snippet) -> Result<usize, String> {
    let complete = blocks(&s.text)
        .iter()
        .any(|(k, _)| k.as_deref() == Some("name"));
    let text = if complete {
        s.text.clone()
    } else {
        into_starter(&s.text)
    };
    let mut runs = 0;
    for env in environments(&text)? {
        // Loading checks every provider's `per_provider` overlay, whichever is selected.
        infragen::blueprint::load("snippet.yaml", text.as_bytes(), Provider::Aws, &env)
            .map_err(|d| format!("--env {env}: {d}"))?;
        runs += 1;
        if !complete {
            continue;
        }
        for p in Provider::ALL {
            // Each provider's settings as its own merge has them (`per_provider.<p>`).
            let loaded = infragen::blueprint::load("snippet.yaml", text.as_bytes(), p, &env)
                .map_err(|d| format!("--provider {p} --env {env}: {d}"))?;
            let settings = &loaded.blueprint.providers;
            let configured = match p {
                Provider::Aws => settings.aws.is_some(),
                Provider::Digitalocean => settings.digitalocean.is_some(),
                Provider::Kubernetes => settings.kubernetes.is_some(),
            };
            if !configured {
                continue;
            }
            infragen::synthesize("snippet.yaml", text.as_bytes(), p, &env)
                .map_err(|d| format!("--provider {p} --env {env}: {d}"))?;
            runs += 1;
        }
    }
    Ok(runs)
}

#[test]
fn yaml_snippets_in_the_docs_are_blueprints_the_code_accepts() {
    let all = snippets();
    assert!(all.len() >= 7, "only {} ```yaml blocks found", all.len());
    let mut failures = Vec::new();
    let mut complete = 0;
    for s in &all {
        match (check(s), s.invalid) {
            (Ok(runs), false) => complete += usize::from(runs > 1),
            (Err(e), false) => failures.push(format!("{}: {e}", s.at)),
            (Ok(_), true) => failures.push(format!(
                "{}: marked `<!-- snippet: invalid -->` but accepted",
                s.at
            )),
            (Err(_), true) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(complete >= 1, "no complete blueprint among the snippets");
}

/// The check refuses what a reader could not use: a misspelt field in a fragment, YAML a
/// parser rejects, a complete blueprint that does not synthesize.
#[test]
fn the_snippet_check_can_fail() {
    let bad = |text: &str| Snippet {
        at: "test".into(),
        text: text.into(),
        invalid: false,
    };
    assert!(
        check(&bad(
            "ingress: { name: shop, hosts: [a.example.com], tsl: {} }\n"
        ))
        .is_err()
    );
    assert!(check(&bad("state: { bucket: shop-{env} }\n")).is_err());
    assert!(check(&bad("name: shop\nproviders: { aws: { region: us-east-1 } }\nservices: [{ name: api, image: x:1, uses: [nothing] }]\n")).is_err());
    assert!(
        check(&bad(
            "jobs: [{ name: j, image: x:1, schedule: \"@daily\" }]\n"
        ))
        .is_ok()
    );
}
