//! From RON text to a `Spec`, with syntax errors located at `file:line:column`.

use super::error::{did_you_mean, ScenarioError};
use super::Spec;
use ron::error::Error as RonError;
use ron::extensions::Extensions;

/// The food-ordering platform, run by `platsim run` without a scenario file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/food-ordering.ron");
/// How the default scenario is named in messages.
pub const DEFAULT_ORIGIN: &str = "<default scenario: scenarios/food-ordering.ron>";

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
pub fn parse(text: &str, origin: &str) -> Result<Spec, ScenarioError> {
    let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
    options
        .from_str::<Spec>(text)
        .map_err(|e| ScenarioError::Syntax {
            origin: origin.to_string(),
            line: e.position.line,
            col: e.position.col,
            message: describe(&e.code),
        })
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

    #[test]
    fn the_default_scenario_parses() {
        parse(DEFAULT_SCENARIO, DEFAULT_ORIGIN).unwrap();
    }
}
