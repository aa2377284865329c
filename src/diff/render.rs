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

/// Targets of one provider whose changes are the same, reported once.
struct Group<'a> {
    provider: &'a str,
    envs: Vec<&'a str>,
    diff: &'a TargetDiff,
    /// The changes are the same once each environment's own name is set aside: rendered
    /// with `<env>` in its place.
    templated: bool,
    /// The file diffs' context differs between the environments: the first one's is shown.
    context_from: Option<&'a str>,
}

impl Group<'_> {
    fn title(&self) -> String {
        format!("{} / {}", self.provider, self.envs.join(", "))
    }
    /// The group's section as rendered for its first target, names generalized.
    fn finish(&self, section: String) -> String {
        if self.templated {
            replace_token(&section, self.envs[0], "<env>")
        } else {
            section
        }
    }
}

/// `s` with `word` replaced where it stands as a token (not inside a longer name:
/// environment `prod` leaves `products` alone).
fn replace_token(s: &str, word: &str, by: &str) -> String {
    if word.is_empty() {
        return s.to_string();
    }
    let is_name = |c: char| c.is_alphanumeric();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_name) || after.is_some_and(is_name) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// What makes two targets' changes the same: the changes, moves and notes, and of each
/// file diff its changed lines — not hunk positions or context, which shift with unrelated
/// differences between environments (one more replica a few lines up).
fn content(t: &TargetDiff) -> String {
    let files: Vec<(&str, Vec<&str>)> = t
        .files
        .iter()
        .map(|f| {
            let changed = f
                .diff
                .lines()
                .filter(|l| l.starts_with('+') || l.starts_with('-'))
                .collect();
            (f.path.as_str(), changed)
        })
        .collect();
    serde_json::to_string(&(&t.changes, files, &t.moved, &t.notes)).unwrap_or_default()
}

fn file_text(t: &TargetDiff) -> String {
    t.files.iter().map(|f| f.diff.as_str()).collect()
}

/// Environments of one provider with identical changes, in the targets' order.
fn groups(targets: &[TargetDiff]) -> Vec<Group<'_>> {
    let mut out: Vec<(String, String, Group<'_>)> = Vec::new();
    for t in targets {
        let raw = content(t);
        let general = replace_token(&raw, &t.env, "\u{1}");
        match out
            .iter_mut()
            .find(|(_, g, grp)| grp.provider == t.provider && *g == general)
        {
            Some((first_raw, _, grp)) => {
                grp.templated |= *first_raw != raw;
                let first = replace_token(&file_text(grp.diff), grp.envs[0], "\u{1}");
                if first != replace_token(&file_text(t), &t.env, "\u{1}") {
                    grp.context_from = Some(grp.envs[0]);
                }
                grp.envs.push(&t.env);
            }
            None => out.push((
                raw,
                general,
                Group {
                    provider: &t.provider,
                    envs: vec![&t.env],
                    diff: t,
                    templated: false,
                    context_from: None,
                },
            )),
        }
    }
    out.into_iter().map(|(_, _, g)| g).collect()
}

fn text(targets: &[TargetDiff], base: &str, p: &Paint) -> String {
    let mut s = String::new();
    for g in groups(targets) {
        let t = g.diff;
        let _ = writeln!(
            s,
            "{}",
            p.bold(&format!("== {} (against {base})", g.title()))
        );
        let mut sec = String::new();
        if g.templated {
            let _ = writeln!(sec, "note: `<env>` stands for each environment's name");
        }
        if let Some(e) = g.context_from {
            let _ = writeln!(
                s,
                "note: the file diffs' line numbers and context are {e}'s"
            );
        }
        for n in &t.notes {
            let _ = writeln!(sec, "note: {n}");
        }
        if t.is_empty() {
            let _ = writeln!(sec, "no changes");
            s.push_str(&g.finish(sec));
            continue;
        }
        let _ = writeln!(sec, "{}", summary(t));
        for c in &t.changes {
            let (mark, word) = match c.kind {
                ChangeKind::Added => (p.green("+"), "added  "),
                ChangeKind::Changed => (p.yellow("~"), "changed"),
                ChangeKind::Removed => (p.red("-"), "removed"),
                ChangeKind::Moved => (p.yellow(">"), "moved  "),
            };
            let _ = write!(sec, "{mark} {word} {}", c.address);
            if let Some(f) = &c.from {
                let _ = write!(sec, " (from {f})");
            }
            let _ = writeln!(sec);
            if let Some(d) = &c.destructive {
                let _ = writeln!(sec, "    {}", p.red(&format!("DESTRUCTIVE: {d}")));
            }
            for a in &c.attributes {
                let _ = writeln!(
                    sec,
                    "    {}: {} → {}",
                    a.path,
                    cut(&show(&a.old), 120),
                    cut(&show(&a.new), 120)
                );
            }
        }
        for (module, pairs) in &t.moved {
            let _ = writeln!(
                sec,
                "moved blocks for terraform/{module}/moved.tf.json (set `renamed_from` in the blueprint and synth emits them):"
            );
            for (from, to) in pairs {
                let _ = writeln!(sec, "    moved {{ from = {from}  to = {to} }}");
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
                let _ = writeln!(sec, "{line}");
            }
        }
        s.push_str(&g.finish(sec));
    }
    s
}

/// Tables longer than this are folded into `<details>`.
const FOLD_ROWS: usize = 15;

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// One group's summary and table of changes; `detailed` adds attribute values.
fn table(g: &Group<'_>, detailed: bool) -> String {
    let t = g.diff;
    let mut s = String::new();
    if g.templated {
        let _ = writeln!(s, "- `<env>` stands for each environment's name");
    }
    for n in &t.notes {
        let _ = writeln!(s, "- note: {n}");
    }
    if t.is_empty() {
        let _ = writeln!(s, "No changes.\n");
        return heading(g) + &g.finish(s);
    }
    let _ = writeln!(s, "{}\n", summary(t));
    let fold = t.changes.len() > FOLD_ROWS;
    if fold {
        let _ = writeln!(
            s,
            "<details><summary>{} changes</summary>\n",
            t.changes.len()
        );
    }
    let _ = writeln!(s, "| | change | address | details |\n|---|---|---|---|");
    for c in &t.changes {
        let icon = match (c.destructive.is_some(), c.kind) {
            (true, _) => "🔴",
            (_, ChangeKind::Added) => "🟢",
            (_, ChangeKind::Removed) => "🟠",
            _ => "🟡",
        };
        let mut details = Vec::new();
        if let Some(f) = &c.from {
            details.push(format!("from `{f}`"));
        }
        if let Some(d) = &c.destructive {
            details.push(format!("**{d}**"));
        }
        if detailed {
            details.extend(c.attributes.iter().take(8).map(|a| {
                format!(
                    "`{}`: {} → {}",
                    a.path,
                    cut(&show(&a.old), 60),
                    cut(&show(&a.new), 60)
                )
            }));
            if c.attributes.len() > 8 {
                details.push(format!("… {} more", c.attributes.len() - 8));
            }
        } else if !c.attributes.is_empty() {
            details.push(format!("{} attribute(s)", c.attributes.len()));
        }
        let kind = format!("{:?}", c.kind).to_lowercase();
        let _ = writeln!(
            s,
            "| {icon} | {kind} | `{}` | {} |",
            c.address,
            escape_cell(&details.join("<br>"))
        );
    }
    if fold {
        let _ = writeln!(s, "\n</details>");
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
    heading(g) + &g.finish(s)
}

fn heading(g: &Group<'_>) -> String {
    format!("### {}\n\n", g.title().replacen(" / ", " · ", 1))
}

/// The pull-request comment. Parts are added by importance while they fit in
/// `MARKDOWN_BUDGET`: the destructive changes (always, first), each group's table (with
/// attribute values, else without, else only its summary), then the file diffs (cut).
/// Nothing is silently dropped: whatever is shortened says so and points to the local run.
fn markdown(targets: &[TargetDiff], base: &str, blueprint: &str) -> String {
    let groups = groups(targets);
    let mut s = String::new();
    let destructive: usize = groups.iter().map(|g| g.diff.destructive()).sum();
    let _ = writeln!(s, "## infragen diff: `{blueprint}` against `{base}`\n");
    if destructive > 0 {
        let _ = writeln!(
            s,
            "> [!CAUTION]\n> **{destructive} destructive change(s)**: resources holding data or carrying the platform would be destroyed or replaced, or an apply would fail on a field that cannot change. Review before `terraform apply` / `kubectl apply`.\n>"
        );
        for g in &groups {
            for c in g.diff.changes.iter().filter(|c| c.destructive.is_some()) {
                let _ = write!(s, "> - {}: ", g.title().replacen(" / ", " · ", 1));
                let line = format!(
                    "`{}` — {}\n",
                    c.address,
                    c.destructive.as_deref().unwrap_or_default()
                );
                s.push_str(&g.finish(line));
            }
        }
        s.push('\n');
    }
    const MORE: &str = "run `infragen diff` locally for the rest";
    for g in &groups {
        let full = table(g, true);
        let room = MARKDOWN_BUDGET.saturating_sub(s.len() + 1_000);
        if full.len() <= room {
            s.push_str(&full);
            continue;
        }
        let brief = table(g, false);
        if brief.len() <= room {
            s.push_str(&brief);
            let _ = writeln!(s, "_(attribute values left out for size: {MORE})_\n");
            continue;
        }
        let t = g.diff;
        let _ = writeln!(
            s,
            "{}{}\n\n_(table left out for size: {MORE})_\n",
            heading(g),
            if t.is_empty() {
                "No changes.".to_string()
            } else {
                summary(t)
            }
        );
    }
    let mut diffs = String::new();
    for g in &groups {
        for f in &g.diff.files {
            let _ = write!(diffs, "# {}", g.title().replacen(" / ", " · ", 1));
            if let Some(e) = g.context_from {
                let _ = write!(diffs, " (line numbers and context: {e})");
            }
            diffs.push('\n');
            diffs.push_str(&g.finish(f.diff.clone()));
        }
    }
    if !diffs.is_empty() {
        let room = MARKDOWN_BUDGET.saturating_sub(s.len() + 300);
        let shown = if diffs.len() > room {
            let mut cut_at = room;
            while !diffs.is_char_boundary(cut_at) {
                cut_at -= 1;
            }
            format!("{}\n… (cut for size: {MORE})\n", &diffs[..cut_at])
        } else {
            diffs
        };
        let _ = writeln!(
            s,
            "<details><summary>Generated file diffs</summary>\n\n```diff\n{}```\n</details>",
            shown.replace("```", "``\u{200b}`")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Change, FileDiff};
    use std::collections::BTreeMap;

    fn target(env: &str, changes: Vec<Change>, diff: &str) -> TargetDiff {
        TargetDiff {
            provider: "aws".into(),
            env: env.into(),
            changes,
            files: vec![FileDiff {
                path: "terraform/infra/main.tf.json".into(),
                diff: diff.into(),
            }],
            moved: BTreeMap::new(),
            notes: vec![],
        }
    }

    #[test]
    fn tokens_are_replaced_whole() {
        assert_eq!(
            replace_token("prod products shop-prod-db", "prod", "<env>"),
            "<env> products shop-<env>-db"
        );
    }

    #[test]
    fn identical_environments_are_reported_once() {
        let added = |addr: &str| Change::new(ChangeKind::Added, addr.into());
        let targets = [
            target("staging", vec![added("infra: aws_sqs_queue.jobs")], "+x\n"),
            target(
                "production",
                vec![added("infra: aws_sqs_queue.jobs")],
                "+x\n",
            ),
            target("development", vec![], ""),
        ];
        let out = text(&targets, "main", &Paint(false));
        assert!(
            out.contains("== aws / staging, production (against main)"),
            "{out}"
        );
        assert_eq!(out.matches("aws_sqs_queue.jobs").count(), 1, "{out}");
        let md = markdown(&targets, "main", "shop.yaml");
        assert!(md.contains("### aws · staging, production"), "{md}");
        assert!(md.contains("### aws · development"), "{md}");
    }

    #[test]
    fn shifted_context_does_not_split_environments() {
        let added = |addr: &str| Change::new(ChangeKind::Added, addr.into());
        let targets = [
            target(
                "staging",
                vec![added("infra: aws_sqs_queue.jobs")],
                "@@ -3,1 +3,2 @@\n a\n+x\n",
            ),
            target(
                "production",
                vec![added("infra: aws_sqs_queue.jobs")],
                "@@ -4,1 +4,2 @@\n b\n+x\n",
            ),
        ];
        let out = text(&targets, "main", &Paint(false));
        assert!(out.contains("== aws / staging, production"), "{out}");
        assert!(
            out.contains("line numbers and context are staging's"),
            "{out}"
        );
        let md = markdown(&targets, "main", "shop.yaml");
        assert!(md.contains("(line numbers and context: staging)"), "{md}");
    }

    #[test]
    fn environment_names_are_set_aside() {
        let changed = |env: &str| {
            let mut c = Change::new(ChangeKind::Changed, "infra: aws_db_instance.db".into());
            c.attributes.push(crate::diff::Attribute {
                path: "identifier".into(),
                old: Some(format!("shop-{env}-db").into()),
                new: Some(format!("shop-{env}-orders").into()),
            });
            c
        };
        let targets = [
            target("staging", vec![changed("staging")], "-staging\n"),
            target("production", vec![changed("production")], "-production\n"),
        ];
        let out = text(&targets, "main", &Paint(false));
        assert!(out.contains("== aws / staging, production"), "{out}");
        assert!(
            out.contains("\"shop-<env>-db\" → \"shop-<env>-orders\""),
            "{out}"
        );
    }

    #[test]
    fn a_huge_diff_fits_a_comment_and_keeps_the_destructive_changes() {
        let mut changes: Vec<Change> = (0..3_000)
            .map(|i| {
                let mut c = Change::new(
                    ChangeKind::Changed,
                    format!("infra: aws_ssm_parameter.p{i}"),
                );
                c.attributes.push(crate::diff::Attribute {
                    path: "value".into(),
                    old: Some("a".repeat(50).into()),
                    new: Some("b".repeat(50).into()),
                });
                c
            })
            .collect();
        let mut gone = Change::new(ChangeKind::Removed, "infra: aws_db_instance.orders".into());
        gone.destructive = Some("removes a stateful aws_db_instance".into());
        changes.push(gone);
        let targets = [
            target("staging", changes.clone(), &"+line\n".repeat(20_000)),
            target("production", changes[..10].to_vec(), "+y\n"),
        ];
        let md = markdown(&targets, "main", "shop.yaml");
        assert!(md.len() < 65_536, "{}", md.len());
        assert!(
            md.contains("> - aws · staging: `infra: aws_db_instance.orders` — removes a stateful"),
            "{}",
            &md[..2_000]
        );
        assert!(md.contains("left out for size"));
        assert!(md.contains("<details><summary>Generated file diffs"));
        assert!(md.contains("### aws · production"));
    }
}
