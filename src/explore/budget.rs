//! The budget of a search: how many faults a schedule may hold, how long each may last,
//! how much of the platform may be under faults at once, and in which stretch of virtual
//! time. The scenario's `explore: Explore(...)` sets it, the command line overrides it
//! field by field, and every value is checked here with its path before a run starts.

use crate::engine::time::parse_duration;
use crate::engine::SimTime;
use crate::scenario::{Problem, Spec};

/// Most faults a schedule may hold: each fault is a run's worth of shrinking work.
pub const MAX_FAULTS_LIMIT: u32 = 32;

/// A validated budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most faults in one schedule (at least 1).
    pub max_faults: u32,
    /// Longest fault; at least 1 ms.
    pub max_duration: SimTime,
    /// Most of the platform under faults at once, in thousandths (1000 = all of it).
    pub max_share_permille: u32,
    /// Faults start at or after `from` and end by `until`.
    pub from: SimTime,
    pub until: SimTime,
}

/// The command line's say on the budget: each `Some` wins over the scenario.
#[derive(Debug, Clone, Default)]
pub struct BudgetFlags {
    pub max_faults: Option<u32>,
    pub max_duration: Option<String>,
    pub max_share: Option<f64>,
    pub from: Option<String>,
    pub until: Option<String>,
}

impl Budget {
    /// The budget of `spec` with `flags` over it, or every problem found (paths name the
    /// flag when the value came from the command line).
    pub fn resolve(spec: &Spec, flags: &BudgetFlags) -> Result<Budget, Vec<Problem>> {
        let file = spec.explore.clone().unwrap_or_default();
        let mut problems = Vec::new();
        // (value, path): the flag's when given, else the file's.
        let mut time = |flag: &Option<String>, field: &Option<String>, name: &str| {
            let (text, path) = match (flag, field) {
                (Some(t), _) => (t.clone(), format!("--{}", name.replace('_', "-"))),
                (None, Some(t)) => (t.clone(), format!("explore.{name}")),
                (None, None) => return (None, format!("explore.{name}")),
            };
            match parse_duration(&text) {
                Ok(t) => (Some(t), path),
                Err(e) => {
                    problems.push(Problem::new(&path, e.to_string()));
                    (None, path)
                }
            }
        };
        let duration = parse_duration(&spec.duration).unwrap_or(SimTime::ZERO);
        let warmup = parse_duration(&spec.warmup).unwrap_or(SimTime::ZERO);
        let (from, from_path) = time(&flags.from, &file.from, "from");
        let (until, until_path) = time(&flags.until, &file.until, "until");
        let (longest, longest_path) = time(&flags.max_duration, &file.max_duration, "max_duration");
        let (max_faults, faults_path) = pick(flags.max_faults, file.max_faults, "max_faults");
        let (share, share_path) = pick(flags.max_share, file.max_share, "max_share");
        if let Some(u) = until.filter(|&u| u > duration) {
            problems.push(Problem::new(
                &until_path,
                format!(
                    "{u} is after the run's end ({duration}): faults must end by then; \
                     write at most \"{duration}\" or leave it out"
                ),
            ));
        }
        let budget = Budget {
            max_faults: max_faults.unwrap_or(3),
            max_duration: longest.unwrap_or(SimTime(duration.0 / 4)),
            max_share_permille: (share.unwrap_or(1.0).clamp(0.0, 1.0) * 1000.0).round() as u32,
            from: from.unwrap_or(warmup),
            until: until.unwrap_or(duration).min(duration),
        };
        let paths = Paths {
            faults: faults_path,
            share: share_path,
            longest: longest_path,
            from: from_path,
        };
        check(&budget, share, &paths, &mut problems);
        if problems.is_empty() {
            Ok(budget)
        } else {
            Err(problems)
        }
    }

    /// The stretch of time faults may use.
    pub fn window(&self) -> SimTime {
        self.until.since(self.from)
    }

    /// The first whole millisecond a fault may start at, as schedules count time.
    pub fn from_ms(&self) -> u64 {
        self.from.0.div_ceil(1_000_000)
    }

    /// The last whole millisecond a fault may end at.
    pub fn until_ms(&self) -> u64 {
        self.until.0 / 1_000_000
    }

    /// The window in whole milliseconds, at least 1.
    pub fn window_ms(&self) -> u64 {
        (self.window().0 / 1_000_000).max(1)
    }
}

/// The flag's value when given (with its flag name as the path), else the file's.
fn pick<T: Copy>(flag: Option<T>, file: Option<T>, name: &str) -> (Option<T>, String) {
    match flag {
        Some(v) => (Some(v), format!("--{}", name.replace('_', "-"))),
        None => (file, format!("explore.{name}")),
    }
}

/// Where each checked value came from: a flag or the scenario's field.
struct Paths {
    faults: String,
    share: String,
    longest: String,
    from: String,
}

fn check(b: &Budget, share: Option<f64>, paths: &Paths, problems: &mut Vec<Problem>) {
    if !(1..=MAX_FAULTS_LIMIT).contains(&b.max_faults) {
        problems.push(Problem::new(
            &paths.faults,
            format!(
                "{} faults: a schedule holds 1 to {MAX_FAULTS_LIMIT} faults",
                b.max_faults
            ),
        ));
    }
    if let Some(s) = share {
        if !(s > 0.0 && s <= 1.0) {
            problems.push(Problem::new(
                &paths.share,
                format!("{s} is not a share of the platform: write a number in (0, 1], e.g. 0.5"),
            ));
        }
    }
    if b.max_duration < SimTime::from_millis(1) {
        problems.push(Problem::new(
            &paths.longest,
            "faults last at least 1ms; write e.g. \"30s\"",
        ));
    }
    if b.window() < SimTime::from_millis(1) {
        problems.push(Problem::new(
            &paths.from,
            format!(
                "faults would have to start at or after {} and end by {}: no time is left; \
                 move `from` earlier or `until` later (the run lasts {})",
                b.from,
                b.until,
                b.until.max(b.from)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(explore: &str) -> Spec {
        crate::scenario::parse(
            &format!(
                r#"Scenario(name: "t", duration: "100s", warmup: "10s",
                   services: [Service(name: "a", service_time: Constant("1ms"))] {explore})"#
            ),
            "t.ron",
        )
        .unwrap()
    }

    #[test]
    fn defaults_are_three_faults_a_quarter_of_the_run_the_whole_platform_after_warmup() {
        let b = Budget::resolve(&spec(""), &BudgetFlags::default()).unwrap();
        assert_eq!(b.max_faults, 3);
        assert_eq!(b.max_duration, SimTime::from_secs(25));
        assert_eq!(b.max_share_permille, 1000);
        assert_eq!(
            (b.from, b.until),
            (SimTime::from_secs(10), SimTime::from_secs(100))
        );
    }

    #[test]
    fn the_command_line_wins_over_the_scenario() {
        let s = spec(r#", explore: Explore(max_faults: 2, max_duration: "5s", max_share: 0.5)"#);
        let b = Budget::resolve(&s, &BudgetFlags::default()).unwrap();
        assert_eq!((b.max_faults, b.max_share_permille), (2, 500));
        let flags = BudgetFlags {
            max_faults: Some(4),
            max_duration: Some("1s".into()),
            ..BudgetFlags::default()
        };
        let b = Budget::resolve(&s, &flags).unwrap();
        assert_eq!((b.max_faults, b.max_duration), (4, SimTime::from_secs(1)));
    }

    #[test]
    fn bad_values_name_their_path() {
        let s = spec(r#", explore: Explore(max_faults: 0, max_share: 1.5, from: "2x")"#);
        let problems = Budget::resolve(&s, &BudgetFlags::default()).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let text = text.join("\n");
        assert!(text.contains("explore.max_faults: 0 faults"), "{text}");
        assert!(
            text.contains("explore.max_share: 1.5 is not a share"),
            "{text}"
        );
        assert!(text.contains("explore.from: \"2x\""), "{text}");
        let flags = BudgetFlags {
            max_share: Some(0.0),
            ..BudgetFlags::default()
        };
        let text = Budget::resolve(&spec(""), &flags).unwrap_err()[0].to_string();
        assert!(text.starts_with("--max-share: 0 is not a share"), "{text}");
    }

    #[test]
    fn a_budget_outside_the_run_is_refused_at_the_path_that_set_it() {
        let s = spec(r#", explore: Explore(until: "2m", max_duration: "0s")"#);
        let text: Vec<String> = Budget::resolve(&s, &BudgetFlags::default())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            text[0].starts_with("explore.until: 2m is after the run's end (100s)"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("explore.max_duration: faults last at least 1ms"),
            "{text:?}"
        );
        let flags = BudgetFlags {
            from: Some("90s".into()),
            until: Some("80s".into()),
            ..BudgetFlags::default()
        };
        let text = Budget::resolve(&spec(""), &flags).unwrap_err()[0].to_string();
        assert!(
            text.starts_with("--from: faults would have to start"),
            "{text}"
        );
    }
}
