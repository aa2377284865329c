//! What a synth tells the user besides its files: notes (a part not lowered, a value
//! DigitalOcean rounds, a command to run) and lint warnings (`do-ha`, `version-support`).
//! Kept typed from where they are found to where they are shown, so nothing parses a
//! rendered line back to learn which is which; the CLI renders them, once.

use std::fmt;

/// How serious a [`Note`] is. Neither stops a synth: errors are [`super::Diagnostic`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something the output cannot show, or a caveat about it.
    Note,
    /// A lint finding: the output is valid but likely not what was meant.
    Warning,
}

/// One note or warning of a synth.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Note {
    pub level: Level,
    /// The lint rule that found it (`do-ha`, `version-support`), so it can be looked up in
    /// the docs; warnings always name one.
    pub rule: Option<&'static str>,
    pub text: String,
}

impl Note {
    /// A plain note.
    pub fn plain(text: impl Into<String>) -> Note {
        Note {
            level: Level::Note,
            rule: None,
            text: text.into(),
        }
    }

    /// A lint finding of `rule`: shown as a warning, never an error.
    pub fn warning(rule: &'static str, text: impl fmt::Display) -> Note {
        Note {
            level: Level::Warning,
            rule: Some(rule),
            text: text.to_string(),
        }
    }

    pub fn is_warning(&self) -> bool {
        self.level == Level::Warning
    }

    /// What the line starts with: `note` or `warning[rule]`.
    pub fn head(&self) -> String {
        match (self.level, self.rule) {
            (Level::Note, None) => "note".into(),
            (Level::Note, Some(r)) => format!("note[{r}]"),
            (Level::Warning, None) => "warning".into(),
            (Level::Warning, Some(r)) => format!("warning[{r}]"),
        }
    }

    /// What [`sort`] orders by: the text of a note, `warning[rule]: text` of a warning —
    /// the order listings had when notes were plain strings, kept so they do not reshuffle.
    fn key(&self) -> String {
        match self.level {
            Level::Note => self.text.clone(),
            Level::Warning => format!("{}: {}", self.head(), self.text),
        }
    }
}

/// `note: text` or `warning[rule]: text`.
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.head(), self.text)
    }
}

/// Sort notes into the order they are shown in and drop repeats (two back-end parts may
/// find the same thing).
pub fn sort(notes: &mut Vec<Note>) {
    notes.sort_by_cached_key(Note::key);
    notes.dedup();
}

/// Text alone is a plain note; a warning is always made with [`Note::warning`].
impl From<String> for Note {
    fn from(text: String) -> Note {
        Note::plain(text)
    }
}

impl From<&str> for Note {
    fn from(text: &str) -> Note {
        Note::plain(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_once_with_level_and_rule() {
        assert_eq!(Note::plain("no network").to_string(), "note: no network");
        let w = Note::warning("do-ha", "one node");
        assert_eq!(w.to_string(), "warning[do-ha]: one node");
        assert!(w.is_warning() && !Note::plain("x").is_warning());
    }

    #[test]
    fn sorted_as_listed_and_deduplicated() {
        let mut notes = vec![
            Note::warning("version-support", "old"),
            Note::plain("services: no `network`"),
            Note::warning("do-ha", "one node"),
            Note::plain("`spot` is not offered"),
            Note::warning("do-ha", "one node"),
        ];
        sort(&mut notes);
        let lines: Vec<String> = notes.iter().map(Note::to_string).collect();
        assert_eq!(
            lines,
            [
                "note: `spot` is not offered",
                "note: services: no `network`",
                "warning[do-ha]: one node",
                "warning[version-support]: old",
            ]
        );
    }
}
