//! Problems found in a blueprint, each pointing at `file:line:col` with what was expected and
//! a suggestion. All message text is rendered here, in one `Display`.

pub mod note;

use std::fmt;

pub use note::{Level, Note};

/// A position in a source file, 1-based (as editors show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(line: usize, col: usize) -> Self {
        Span { line, col }
    }
}

/// One problem. Built with the `Diagnostic::new(..).at(..).expected(..).help(..)` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Option<String>,
    pub span: Option<Span>,
    pub message: String,
    pub expected: Option<String>,
    pub help: Option<String>,
    /// The source line the span points into, filled by [`Diagnostics::with_source`].
    pub snippet: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            span: None,
            message: message.into(),
            expected: None,
            help: None,
            snippet: None,
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Self {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// [`did_you_mean`] as the help, when a candidate is close to `name`.
    pub fn suggest<'a>(self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        match did_you_mean(name, candidates) {
            Some(h) => self.help(h),
            None => self,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        if self.file.is_none() {
            self.file = Some(file.into());
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let file = self.file.as_deref().unwrap_or("<blueprint>");
        match self.span {
            Some(s) => writeln!(f, "  --> {file}:{}:{}", s.line, s.col)?,
            None => writeln!(f, "  --> {file}")?,
        }
        if let (Some(s), Some(line)) = (self.span, &self.snippet) {
            let num = s.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {line}")?;
            // Tabs in the line keep their width so the caret lines up.
            let lead: String = line
                .chars()
                .take(s.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} | {lead}^")?;
        }
        if let Some(e) = &self.expected {
            writeln!(f, "  = expected: {e}")?;
        }
        if let Some(h) = &self.help {
            writeln!(f, "  = help: {h}")?;
        }
        Ok(())
    }
}

/// Every problem found in one run; semantic checks collect all of them, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn single(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Attach the file name and the source line of each span, and order by position so the
    /// report reads top to bottom.
    pub fn with_source(mut self, file: &str, text: &str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        for d in &mut self.0 {
            if d.file.is_none() {
                d.file = Some(file.to_string());
            }
            if d.file.as_deref() == Some(file)
                && let Some(s) = d.span
                && d.snippet.is_none()
                && let Some(line) = lines.get(s.line.wrapping_sub(1))
            {
                // Very long lines (minified input) are cut so the report stays readable.
                let line: String = line.chars().take(200).collect();
                d.snippet = Some(line);
            }
        }
        self.0
            .sort_by(|a, b| a.file.cmp(&b.file).then(a.span.cmp(&b.span)));
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > 1 {
            writeln!(f, "\n{} problems found", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics::single(d)
    }
}

/// The closest valid name to `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The one "did you mean" of every message outside the independent checker (`crate::check`
/// keeps its own, in Terraform's quoting): ``did you mean `x`?`` for the candidate
/// [`closest`] to `name`, if one is.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate nearest to `name` by edit distance, however far: a fallback when no
/// candidate is [`closest`] enough to be a typo but one must be shown.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .min_by_key(|c| strsim::levenshtein(c, name))
}

/// `a`, `b` or `c` — for "expected one of" lists.
pub fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    match names.len() {
        0 => "nothing".into(),
        1 => names[0].clone(),
        _ => format!(
            "one of {} or {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
    }
}
