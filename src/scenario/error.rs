//! Errors in scenario input, each pointing at where to fix it: `file:line:column` for
//! syntax, the field path for meaning, the flag for a `--set`.

use std::fmt;

/// One problem with the meaning of a scenario, at a field path such as
/// `services[2].calls[0].to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Everything that can be wrong with a scenario or its overrides.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{origin}:{line}:{col}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}", list_problems(.origin, .problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

fn list_problems(origin: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "{origin}: {} problem{} found",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out
}

/// Longest user value echoed whole in a message; longer ones are cut.
const CLIP_CHARS: usize = 60;

/// `text` for a message: whole if short, else its start and its length (a 1 MB value
/// must not fill the terminal).
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    let n = text.chars().count();
    if n <= CLIP_CHARS {
        return text.into();
    }
    let head: String = text.chars().take(CLIP_CHARS - 20).collect();
    format!("{head}... ({n} characters)").into()
}

/// "did you mean ...?" for a misspelt name, when one candidate is close enough.
pub fn suggest<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&found.to_lowercase(), &c.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

/// ` (did you mean "x"?)`, or nothing.
pub fn did_you_mean<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    suggest(found, candidates)
        .map(|c| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_clipped() {
        assert_eq!(clip("0.5"), "0.5");
        let long = clip(&"x".repeat(1_000_000)).into_owned();
        assert!(
            long.len() < 80 && long.ends_with("(1000000 characters)"),
            "{long}"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["payment", "orders", "api"];
        assert_eq!(suggest("paymnt", names), Some("payment"));
        assert_eq!(suggest("order", names), Some("orders"));
        assert_eq!(suggest("zzz", names), None);
    }
}
