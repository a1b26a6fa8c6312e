//! The command that reproduces one run of a sweep: `platsim run [SCENARIO] --seed S
//! --set PATH=VALUE ...`, shell-quoted so it can be pasted as is.
//!
//! It is exact because a sweep builds each run the way `platsim run` does: the same
//! scenario text, the point's overrides applied in the order of the sweep's `--set` flags
//! (the order they appear here), then the seed, with the default limits.

use crate::scenario::Override;

/// `platsim run [SCENARIO] --seed S --set PATH=VALUE ...`.
pub fn repro_command(scenario_file: Option<&str>, sets: &[Override], seed: u64) -> String {
    let mut cmd = String::from("platsim run");
    if let Some(path) = scenario_file {
        cmd.push(' ');
        cmd.push_str(&shell_quote(path));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    for set in sets {
        cmd.push_str(" --set ");
        cmd.push_str(&shell_quote(&set.to_string()));
    }
    cmd
}

/// Quotes `s` for a POSIX shell unless it is made only of characters that need none.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_the_shell_would_mangle() {
        let sets = [
            "services.payment.error_rate=0.3".parse().unwrap(),
            "x.retry.budget=Budget(percent: 10.0, min_concurrency: 1)"
                .parse()
                .unwrap(),
            r#"x.service_time=Constant("5ms")"#.parse().unwrap(),
        ];
        assert_eq!(
            repro_command(Some("my scenario's.ron"), &sets, 7),
            "platsim run 'my scenario'\\''s.ron' --seed 7 \
             --set services.payment.error_rate=0.3 \
             --set 'x.retry.budget=Budget(percent: 10.0, min_concurrency: 1)' \
             --set 'x.service_time=Constant(\"5ms\")'"
        );
        assert_eq!(repro_command(None, &[], 1), "platsim run --seed 1");
        assert_eq!(shell_quote(""), "''");
    }
}
