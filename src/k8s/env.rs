//! Variable references in environment values, `command` and `args`: `$(NAME)`, which the
//! kubelet expands from the container's variables — but only in an `env` entry's `value`
//! (and in `command`/`args`), and only from the variables defined *before* that entry
//! (`envFrom` first, then `env` in order). A ConfigMap's data read through `envFrom` is
//! never expanded, so the blueprint's plain `env`, which the workloads read from their
//! `<name>-env` ConfigMap, would hand `DATABASE_URL: postgres://$(DB_USERNAME):…` to the
//! process as written. Values with a reference are therefore written as `env` entries after
//! every variable they can name, in an order where each follows those it names.
//!
//! "Variable references $(VAR_NAME) are expanded using the previously defined environment
//! variables in the container and any service environment variables. If a variable cannot
//! be resolved, the reference in the input string will be unchanged. Double $$ are reduced
//! to a single $" (EnvVar, <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#environment-variables>;
//! <https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>).
//! ECS expands nothing: `crate::semantic::env_references` refuses references there.

use std::collections::BTreeMap;

/// The names `text` references, as the kubelet reads it (`third_party/forked/golang/
/// expansion`): `$$` is an escaped `$`, `$(NAME)` a reference up to the first `)`, and a
/// `$(` without its `)` is text.
pub fn references(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'$' => i += 2,
            b'(' => match text[i + 2..].find(')') {
                Some(end) => {
                    out.push(&text[i + 2..i + 2 + end]);
                    i += 2 + end + 1;
                }
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    out
}

/// Whether `name` looks like an environment variable (`DB_HOST`): the references the checks
/// hold to account. Anything else (`$(date)` in a shell command line) may be meant for the
/// shell, and Kubernetes leaves an unresolved one as written.
pub fn is_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Environment entries, `(name, value)`.
pub type Entries<'a> = Vec<(&'a str, &'a str)>;

/// `env` split into the values read as written (the ConfigMap's) and those the kubelet is
/// to expand — every value holding `$(` or `$$`, so a reference in any spelling resolves
/// and `$$` is one `$` in every value, as Kubernetes defines it for `env`, `command` and
/// `args` (were `cost: $$5` a ConfigMap value, the process would read `$$5`, yet `$5` once
/// the same value also named a variable) — as `env` entries, each after the entries of
/// this map it references. A cycle, which the semantic check refuses, keeps the map's
/// order for the entries in it.
pub fn split(env: &BTreeMap<String, String>) -> (Entries<'_>, Entries<'_>) {
    let (expanded, plain): (Vec<_>, Vec<_>) = env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .partition(|(_, v)| v.contains("$(") || v.contains("$$"));
    (plain, order(expanded))
}

/// `entries` so that each follows the entries it references (stable otherwise).
pub fn order(mut entries: Entries<'_>) -> Entries<'_> {
    let mut out: Entries = Vec::with_capacity(entries.len());
    while !entries.is_empty() {
        let ready = entries.iter().position(|(_, v)| {
            references(v)
                .iter()
                .all(|r| !entries.iter().any(|(k, _)| k == r))
        });
        // A cycle: take the first as is (refused before lowering).
        out.push(entries.remove(ready.unwrap_or(0)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_kubelet() {
        assert_eq!(
            references("postgres://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST)/x"),
            ["DB_USER", "DB_PASSWORD", "DB_HOST"]
        );
        assert!(references("$$(ESCAPED) ${BRACES} $HOME $( unclosed").is_empty());
        assert_eq!(references("$$$(A)"), ["A"]);
        assert!(is_variable("DB_HOST") && is_variable("_X1"));
        assert!(!is_variable("date") && !is_variable("1X") && !is_variable(""));
    }

    #[test]
    fn each_value_follows_those_it_names() {
        let env: BTreeMap<String, String> = [
            ("A_URL", "$(B_HOST):1"),
            ("B_HOST", "$(C)"),
            ("PLAIN", "x"),
            ("PRICE", "$$5 or $5"),
            ("SHELL", "$(date)"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (plain, expanded) = split(&env);
        // `$$` is the kubelet's to reduce, as where a value also names a variable.
        assert_eq!(plain, [("PLAIN", "x")]);
        assert_eq!(
            expanded,
            [
                ("B_HOST", "$(C)"),
                ("A_URL", "$(B_HOST):1"),
                ("PRICE", "$$5 or $5"),
                ("SHELL", "$(date)")
            ]
        );
    }
}
