//! From RON text to a `Spec`, with syntax errors located at `file:line:column`.

use super::error::{did_you_mean, ScenarioError};
use super::Spec;
use ron::error::Error as RonError;
use ron::extensions::Extensions;

/// The food-ordering platform, run by `platsim run` without a scenario file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/food-ordering.ron");
/// How the default scenario is named in messages.
pub const DEFAULT_ORIGIN: &str = "<default scenario: scenarios/food-ordering.ron>";

/// A scenario's text and the name messages give it: the file's, or the embedded
/// default's when there is no file.
pub fn read_source(path: Option<&std::path::Path>) -> Result<(String, String), ScenarioError> {
    Ok(match path {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
                path: origin.clone(),
                reason: e.to_string(),
            })?;
            (text, origin)
        }
        None => (DEFAULT_SCENARIO.to_string(), DEFAULT_ORIGIN.to_string()),
    })
}

/// Reads and parses a scenario file.
pub fn load_file(path: &str) -> Result<Spec, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    parse(&text, path)
}

/// Parses scenario text; `origin` names it in error messages. `Some(x)` may be written as
/// plain `x` (RON's `implicit_some`), which is what users expect of optional fields.
/// A UTF-8 byte-order mark (what some Windows editors save first) is skipped.
pub fn parse(text: &str, origin: &str) -> Result<Spec, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
    options
        .from_str::<Spec>(text)
        .map_err(|e| ScenarioError::Syntax {
            origin: origin.to_string(),
            line: e.position.line,
            col: e.position.col,
            message: explain(&e.code, text, e.position.line, e.position.col),
        })
}

/// Fields holding a name, never a duration: a number there needs no duration hint.
const NAME_FIELDS: &[&str] = &[
    "name",
    "target",
    "to",
    "from",
    "broker",
    "service",
    "services",
    "queue",
    "topic",
    "owner",
    "documentation",
    "entry",
    "incident_response",
    "node",
    "key",
    "group",
];

/// [`describe`], with hints that need the text: which field a string was expected in,
/// and whether a whole number was written with a fraction.
fn explain(code: &RonError, text: &str, line: usize, col: usize) -> String {
    let before = text_before(text, line, col);
    let after = text.get(before.len()..).unwrap_or("");
    match code {
        RonError::ExpectedString => {
            let field = field_before(before);
            if field.is_some_and(|f| NAME_FIELDS.contains(&f)) {
                "expected a string in double quotes (names are strings: \"api\")".to_string()
            } else if after.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                "expected a string in double quotes (durations are strings with a unit: \"250ms\")"
                    .to_string()
            } else {
                "expected a string in double quotes".to_string()
            }
        }
        RonError::ExpectedComma
            if after.starts_with('.') && before.ends_with(|c: char| c.is_ascii_digit()) =>
        {
            format!(
                "expected a whole number{}, found a fraction",
                field_before(before.trim_end_matches(|c: char| c.is_ascii_digit()))
                    .map(|f| format!(" for `{f}`"))
                    .unwrap_or_default()
            )
        }
        other => describe(other),
    }
}

/// The text up to 1-based `line` and `col` (RON counts columns in characters).
fn text_before(text: &str, line: usize, col: usize) -> &str {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let in_line = l
                .char_indices()
                .nth(col.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            return &text[..offset + in_line];
        }
        offset += l.len();
    }
    text
}

/// The field whose value starts right after `before` (`... name: ` gives `name`).
fn field_before(before: &str) -> Option<&str> {
    let t = before.trim_end().strip_suffix(':')?.trim_end();
    let start = t
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let field = &t[start..];
    (!field.is_empty()).then_some(field)
}

/// A clearer message than RON's own for the errors users make most.
pub fn describe(code: &RonError) -> String {
    let list = |alts: &[&str]| {
        alts.iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match code {
        RonError::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}{}; expected one of {}",
            outer
                .as_ref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default(),
            did_you_mean(found, expected.iter().copied()),
            list(expected)
        ),
        RonError::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown variant `{found}`{}{}; expected one of {}",
            outer
                .as_ref()
                .map(|o| format!(" of {o}"))
                .unwrap_or_default(),
            did_you_mean(found, expected.iter().copied()),
            list(expected)
        ),
        RonError::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}",
            outer
                .as_ref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default()
        ),
        RonError::DuplicateStructField { field, outer } => format!(
            "field `{field}` given twice{}",
            outer
                .as_ref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default()
        ),
        RonError::ExpectedDifferentStructName { expected, found } => {
            format!("expected `{expected}(...)` here, found `{found}(...)`")
        }
        RonError::ExpectedString => {
            "expected a string in double quotes (durations are strings: \"250ms\")".to_string()
        }
        RonError::ExpectedFloat => "expected a number such as 0.5".to_string(),
        RonError::ExpectedInteger => "expected a whole number".to_string(),
        RonError::IntegerOutOfBounds => {
            "number out of range (counts are whole numbers of zero or more)".to_string()
        }
        RonError::Eof => "unexpected end of file (is a `)` or `]` missing?)".to_string(),
        other => {
            let s = other.to_string();
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"Scenario(name: "m", duration: "1s",
        services: [Service(name: "a", service_time: Constant("1ms"))])"#;

    #[test]
    fn defaults_fill_omitted_fields() {
        let s = parse(MINIMAL, "t.ron").unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.warmup, "0s");
        assert_eq!(s.window, "1s");
        assert_eq!(s.services[0].replicas, 1);
        assert_eq!(s.services[0].concurrency, 1);
        assert!(s.workload.is_empty() && s.faults.is_empty());
    }

    #[test]
    fn a_typo_is_located_and_corrected() {
        let text = MINIMAL.replace("service_time", "servce_time");
        let err = parse(&text, "t.ron").unwrap_err().to_string();
        assert!(err.starts_with("t.ron:2:"), "{err}");
        assert!(err.contains("unknown field `servce_time`"), "{err}");
        assert!(err.contains("did you mean \"service_time\""), "{err}");
    }

    #[test]
    fn optional_values_need_no_some() {
        let text = MINIMAL.replace("service_time", "queue_capacity: 5, service_time");
        assert_eq!(
            parse(&text, "t").unwrap().services[0].queue_capacity,
            Some(5)
        );
        let text = MINIMAL.replace("service_time", "queue_capacity: Some(5), service_time");
        assert_eq!(
            parse(&text, "t").unwrap().services[0].queue_capacity,
            Some(5)
        );
    }

    /// Issue 18: a file saved with a UTF-8 byte-order mark failed at 1:1.
    #[test]
    fn utf8_bom_is_accepted() {
        parse(&format!("\u{feff}{MINIMAL}"), "t").unwrap();
    }

    /// Issue 18: `name: 42` got the hint "durations are strings".
    #[test]
    fn name_42_gets_a_name_hint_not_a_duration_hint() {
        let err = parse(&MINIMAL.replace("\"m\"", "42"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("names are strings"), "{err}");
        assert!(!err.contains("duration"), "{err}");
        let err = parse(&MINIMAL.replace("\"1s\"", "1"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("durations are strings"), "{err}");
    }

    /// Issue 18: `seed: 1.5` got only "expected comma".
    #[test]
    fn seed_1_5_says_whole_number() {
        let text = MINIMAL.replace("name: \"m\",", "name: \"m\", seed: 1.5,");
        let err = parse(&text, "t").unwrap_err().to_string();
        assert!(err.contains("expected a whole number for `seed`"), "{err}");
    }

    #[test]
    fn the_default_scenario_parses() {
        parse(DEFAULT_SCENARIO, DEFAULT_ORIGIN).unwrap();
    }
}
