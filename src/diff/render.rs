//! Rendering a diff for people (text, coloured on a terminal), for pull-request comments
//! (markdown, long parts folded, within GitHub's comment size) and for tools (JSON).

use std::fmt::Write;

use serde_json::{Value, json};

use super::{ChangeKind, TargetDiff};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// GitHub rejects comments over 65,536 characters; leave room for the header and footer.
const MARKDOWN_BUDGET: usize = 60_000;

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.code("31;1", s)
    }
    fn green(&self, s: &str) -> String {
        self.code("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.code("33", s)
    }
    fn bold(&self, s: &str) -> String {
        self.code("1", s)
    }
}

/// Render `targets` (base named `base`) in `format`; `color` only applies to text.
pub fn render(
    targets: &[TargetDiff],
    base: &str,
    blueprint: &str,
    format: Format,
    color: bool,
) -> String {
    match format {
        Format::Text => text(targets, base, &Paint(color)),
        Format::Markdown => markdown(targets, base, blueprint),
        Format::Json => {
            let changed = targets.iter().any(|t| !t.is_empty());
            let destructive: usize = targets.iter().map(TargetDiff::destructive).sum();
            let doc = json!({
                "blueprint": blueprint,
                "base": base,
                "changed": changed,
                "destructive": destructive,
                "targets": targets,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
    }
}

fn summary(t: &TargetDiff) -> String {
    let count = |k: ChangeKind| t.changes.iter().filter(|c| c.kind == k).count();
    format!(
        "{} added, {} changed, {} removed, {} moved; {} destructive; {} file(s)",
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Removed),
        count(ChangeKind::Moved),
        t.destructive(),
        t.files.len()
    )
}

fn text(targets: &[TargetDiff], base: &str, p: &Paint) -> String {
    let mut s = String::new();
    for t in targets {
        let _ = writeln!(
            s,
            "{}",
            p.bold(&format!("== {} / {} (against {base})", t.provider, t.env))
        );
        for n in &t.notes {
            let _ = writeln!(s, "note: {n}");
        }
        if t.is_empty() {
            let _ = writeln!(s, "no changes");
            continue;
        }
        let _ = writeln!(s, "{}", summary(t));
        for c in &t.changes {
            let (mark, word) = match c.kind {
                ChangeKind::Added => (p.green("+"), "added  "),
                ChangeKind::Changed => (p.yellow("~"), "changed"),
                ChangeKind::Removed => (p.red("-"), "removed"),
                ChangeKind::Moved => (p.yellow(">"), "moved  "),
            };
            let _ = write!(s, "{mark} {word} {}", c.address);
            if let Some(f) = &c.from {
                let _ = write!(s, " (from {f})");
            }
            let _ = writeln!(s);
            if let Some(d) = &c.destructive {
                let _ = writeln!(s, "    {}", p.red(&format!("DESTRUCTIVE: {d}")));
            }
            for a in &c.attributes {
                let _ = writeln!(
                    s,
                    "    {}: {} → {}",
                    a.path,
                    cut(&show(&a.old), 120),
                    cut(&show(&a.new), 120)
                );
            }
        }
        for (module, pairs) in &t.moved {
            let _ = writeln!(
                s,
                "moved blocks for terraform/{module}/moved.tf.json (set `renamed_from` in the blueprint and synth emits them):"
            );
            for (from, to) in pairs {
                let _ = writeln!(s, "    moved {{ from = {from}  to = {to} }}");
            }
        }
        for f in &t.files {
            for line in f.diff.lines() {
                let line = if line.starts_with('+') && !line.starts_with("+++") {
                    p.green(line)
                } else if line.starts_with('-') && !line.starts_with("---") {
                    p.red(line)
                } else {
                    line.to_string()
                };
                let _ = writeln!(s, "{line}");
            }
        }
    }
    s
}

fn markdown(targets: &[TargetDiff], base: &str, blueprint: &str) -> String {
    let mut s = String::new();
    let destructive: usize = targets.iter().map(TargetDiff::destructive).sum();
    let _ = writeln!(s, "## infragen diff: `{blueprint}` against `{base}`\n");
    if destructive > 0 {
        let _ = writeln!(
            s,
            "> [!CAUTION]\n> **{destructive} destructive change(s)**: resources holding data or carrying the platform would be destroyed or replaced. Review before `terraform apply`.\n"
        );
    }
    let mut diffs = String::new();
    for t in targets {
        let _ = writeln!(s, "### {} · {}\n", t.provider, t.env);
        for n in &t.notes {
            let _ = writeln!(s, "- note: {n}");
        }
        if t.is_empty() {
            let _ = writeln!(s, "No changes.\n");
            continue;
        }
        let _ = writeln!(s, "{}\n", summary(t));
        let _ = writeln!(s, "| | change | address | details |\n|---|---|---|---|");
        for c in &t.changes {
            let icon = match (c.destructive.is_some(), c.kind) {
                (true, _) => "🔴",
                (_, ChangeKind::Added) => "🟢",
                (_, ChangeKind::Removed) => "🟠",
                _ => "🟡",
            };
            let mut details = c
                .destructive
                .clone()
                .map(|d| format!("**{d}**"))
                .unwrap_or_default();
            if let Some(f) = &c.from {
                details = format!("from `{f}`");
            }
            let attrs: Vec<String> = c
                .attributes
                .iter()
                .take(8)
                .map(|a| {
                    format!(
                        "`{}`: {} → {}",
                        a.path,
                        cut(&show(&a.old), 60),
                        cut(&show(&a.new), 60)
                    )
                })
                .collect();
            if !attrs.is_empty() {
                if !details.is_empty() {
                    details.push_str("<br>");
                }
                details.push_str(&attrs.join("<br>").replace('|', "\\|"));
                if c.attributes.len() > 8 {
                    let _ = write!(details, "<br>… {} more", c.attributes.len() - 8);
                }
            }
            let kind = format!("{:?}", c.kind).to_lowercase();
            let _ = writeln!(s, "| {icon} | {kind} | `{}` | {details} |", c.address);
        }
        let _ = writeln!(s);
        if !t.moved.is_empty() {
            let _ = writeln!(
                s,
                "<details><summary>Terraform <code>moved</code> blocks that keep renamed components</summary>\n\nSet `renamed_from` on the renamed component and `infragen synth` writes these:\n\n```hcl"
            );
            for (module, pairs) in &t.moved {
                let _ = writeln!(s, "# terraform/{module}");
                for (from, to) in pairs {
                    let _ = writeln!(s, "moved {{\n  from = {from}\n  to   = {to}\n}}");
                }
            }
            let _ = writeln!(s, "```\n</details>\n");
        }
        for f in &t.files {
            let _ = writeln!(diffs, "# {} · {}\n{}", t.provider, t.env, f.diff);
        }
    }
    if !diffs.is_empty() {
        let room = MARKDOWN_BUDGET.saturating_sub(s.len() + 200);
        let shown = if diffs.len() > room {
            let mut cut_at = room;
            while !diffs.is_char_boundary(cut_at) {
                cut_at -= 1;
            }
            format!(
                "{}\n… (truncated: run `infragen diff` locally for the rest)\n",
                &diffs[..cut_at]
            )
        } else {
            diffs
        };
        let _ = writeln!(
            s,
            "<details><summary>Generated file diffs</summary>\n\n```diff\n{}```\n</details>",
            shown.replace("```", "``\u{200b}`")
        );
    }
    if s.len() > MARKDOWN_BUDGET + 4_000 {
        let mut at = MARKDOWN_BUDGET;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push_str("\n\n… (truncated: run `infragen diff` locally for the rest)\n");
    }
    s
}
