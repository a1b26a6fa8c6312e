//! Kubernetes probes: a probe runs every `period`; `failure_threshold` failures in a row
//! turn it failing (liveness: restart the container; readiness: remove the pod from the
//! endpoints; startup: restart), `success_threshold` successes in a row turn it passing
//! again (readiness only; liveness and startup need 1).

use crate::engine::SimTime;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    pub initial_delay: SimTime,
    pub period: SimTime,
    pub timeout: SimTime,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Default for ProbeConfig {
    /// Kubernetes' defaults: no initial delay, every 10 s, 1 s timeout, 1 success, 3 failures.
    fn default() -> Self {
        ProbeConfig {
            initial_delay: SimTime::ZERO,
            period: SimTime::from_secs(10),
            timeout: SimTime::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
        }
    }
}

/// What a probe result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeChange {
    None,
    /// It just crossed the failure threshold.
    Failed,
    /// It just crossed the success threshold after failing.
    Passed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    cfg: ProbeConfig,
    failing: bool,
    failures: u32,
    successes: u32,
}

impl Probe {
    pub fn new(cfg: ProbeConfig) -> Self {
        Probe {
            cfg,
            failing: false,
            failures: 0,
            successes: 0,
        }
    }

    pub fn failing(&self) -> bool {
        self.failing
    }

    /// One probe attempt that took `took` and answered `ok` (a timeout is a failure).
    pub fn observe(&mut self, ok: bool, took: SimTime) -> ProbeChange {
        let ok = ok && took <= self.cfg.timeout;
        if ok {
            self.failures = 0;
            self.successes += 1;
            if self.failing && self.successes >= self.cfg.success_threshold {
                self.failing = false;
                return ProbeChange::Passed;
            }
        } else {
            self.successes = 0;
            self.failures += 1;
            if !self.failing && self.failures >= self.cfg.failure_threshold {
                self.failing = true;
                return ProbeChange::Failed;
            }
        }
        ProbeChange::None
    }

    /// Longest a failing container goes undetected: `failure_threshold x period`.
    pub fn detection_time(&self) -> SimTime {
        SimTime(self.cfg.period.0 * self.cfg.failure_threshold as u64)
    }
}

/// A startup probe against a container that needs `startup` to start: `Ok(t)`, the probe
/// that first finds it started (probes run at `initial_delay + k * period`, so readiness
/// lands on a probe tick, not at `startup` itself), or `Err(t)`, the probe whose failure
/// is the `failure_threshold`-th in a row (the kubelet kills the container then).
pub fn startup_outcome(cfg: &ProbeConfig, startup: SimTime) -> Result<SimTime, SimTime> {
    let period = cfg.period.0.max(1);
    let failures = startup
        .0
        .saturating_sub(cfg.initial_delay.0)
        .div_ceil(period);
    if failures >= u64::from(cfg.failure_threshold) {
        let last = u64::from(cfg.failure_threshold.max(1) - 1);
        Err(cfg
            .initial_delay
            .after(SimTime(last.saturating_mul(period))))
    } else {
        Ok(cfg.initial_delay.after(SimTime(failures * period)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_in_a_row_fail_it_and_one_success_restores_it() {
        let mut p = Probe::new(ProbeConfig::default());
        let fast = SimTime::from_millis(5);
        assert_eq!(p.observe(false, fast), ProbeChange::None);
        assert_eq!(p.observe(false, fast), ProbeChange::None);
        assert_eq!(
            p.observe(true, fast),
            ProbeChange::None,
            "a success resets the count"
        );
        assert_eq!(p.observe(false, fast), ProbeChange::None);
        assert_eq!(p.observe(false, fast), ProbeChange::None);
        assert_eq!(p.observe(false, fast), ProbeChange::Failed);
        assert!(p.failing());
        assert_eq!(p.observe(false, fast), ProbeChange::None, "already failing");
        assert_eq!(p.observe(true, fast), ProbeChange::Passed);
        assert_eq!(p.detection_time(), SimTime::from_secs(30));
    }

    #[test]
    fn a_slow_answer_is_a_failure() {
        let mut p = Probe::new(ProbeConfig {
            failure_threshold: 1,
            ..ProbeConfig::default()
        });
        assert_eq!(
            p.observe(true, SimTime::from_millis(1001)),
            ProbeChange::Failed
        );
    }

    #[test]
    fn readiness_can_need_several_successes() {
        let mut p = Probe::new(ProbeConfig {
            failure_threshold: 1,
            success_threshold: 2,
            ..ProbeConfig::default()
        });
        let fast = SimTime::from_millis(1);
        assert_eq!(p.observe(false, fast), ProbeChange::Failed);
        assert_eq!(p.observe(true, fast), ProbeChange::None);
        assert_eq!(p.observe(true, fast), ProbeChange::Passed);
    }

    #[test]
    fn startup_passes_on_the_first_tick_after_the_start_or_gives_up() {
        let cfg = ProbeConfig {
            initial_delay: SimTime::from_secs(5),
            period: SimTime::from_secs(10),
            failure_threshold: 3,
            ..ProbeConfig::default()
        };
        let s = SimTime::from_secs;
        // Probes at 5, 15, 25 s: a 2 s start passes at 5, a 15 s one at 15, 16 s at 25.
        assert_eq!(startup_outcome(&cfg, s(2)), Ok(s(5)));
        assert_eq!(startup_outcome(&cfg, s(15)), Ok(s(15)));
        assert_eq!(startup_outcome(&cfg, s(16)), Ok(s(25)));
        assert_eq!(startup_outcome(&cfg, s(25)), Ok(s(25)));
        // Failing at 5, 15 and 25 s: killed at the third failure.
        assert_eq!(startup_outcome(&cfg, s(26)), Err(s(25)));
        assert_eq!(startup_outcome(&cfg, s(600)), Err(s(25)));
    }
}
