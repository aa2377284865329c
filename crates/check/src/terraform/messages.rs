//! Wording shared by every check: value descriptions, paths, "did you mean".

use serde_json::Value;

/// A short description of a JSON value for messages: scalars as JSON (at most 40
/// characters), containers by kind.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::Null => "null".into(),
        scalar => {
            let text = scalar.to_string();
            if text.chars().count() > 40 {
                let cut: String = text.chars().take(37).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn prefixed(path: &str, message: String) -> String {
    if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// plausible typo (distance at most a third of the word, and less than the word).
pub(super) fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    let len = word.chars().count();
    let limit = (len / 3).max(1).min(len.saturating_sub(1));
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

pub(super) fn did_you_mean(hint: Option<String>) -> String {
    hint.map(|h| format!(" (did you mean \"{h}\"?)"))
        .unwrap_or_default()
}
