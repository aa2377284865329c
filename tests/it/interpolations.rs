//! Terraform reads every string of a `*.tf.json` file as a template, after JSON decoding:
//! `${…}` holds an expression in HCL's native syntax, where a string argument is written
//! with plain quotes and a backslash is no character the expression language has. A value
//! that is itself JSON text — ECS container definitions — escapes the quotes of any inline
//! expression's arguments (`\"amqps://\"`), and `terraform validate` refuses the module
//! ("Invalid character"), while every schema check passes. So no interpolation in any
//! output holds a backslash: for every shipped blueprint × provider × environment and the
//! new-user fixtures.

use serde_json::Value;

use crate::support::{matrix, synth, targets};

/// Every `${…}` of `text` (braces balanced, string literals skipped), without the markers;
/// `$${` is an escaped literal, not an interpolation.
fn interpolations(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if b[i] == b'$' && b[i + 1] == b'{' {
            let start = i + 2;
            let (mut depth, mut j, mut quoted) = (1, start, false);
            while j < b.len() && depth > 0 {
                match b[j] {
                    b'"' => quoted = !quoted,
                    b'{' if !quoted => depth += 1,
                    b'}' if !quoted => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            out.push(&text[start..j.saturating_sub(1).max(start)]);
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn no_interpolation_holds_a_backslash() {
    let mut outputs: Vec<(String, infragen::Output)> = matrix()
        .into_iter()
        .map(|(stem, path, p, env)| (format!("{stem} {p} {env}"), synth(&path, p, &env)))
        .collect();
    for path in crate::connections::new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (p, env) in targets(&path) {
            outputs.push((format!("new-user/{stem} {p} {env}"), synth(&path, p, &env)));
        }
    }
    let mut checked = 0;
    for (label, out) in &outputs {
        for (file, text) in &out.files {
            if !file.ends_with(".tf.json") {
                continue;
            }
            let doc: Value = serde_json::from_str(text).unwrap();
            let mut all = Vec::new();
            strings(&doc, &mut all);
            for s in all {
                for expr in interpolations(s) {
                    checked += 1;
                    assert!(
                        !expr.contains('\\'),
                        "{label} {file}: `${{{expr}}}` holds a backslash, which Terraform's expression syntax refuses"
                    );
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} interpolations checked");
    // The scanner itself: nested braces and quoted braces stay inside one interpolation.
    assert_eq!(
        interpolations(r#"a ${f({x = "}"})} $${no} ${b}"#),
        vec![r#"f({x = "}"})"#, "b"]
    );
}
