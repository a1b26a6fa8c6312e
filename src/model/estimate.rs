//! How big a run will be, before it runs: expected requests from the workloads' rates
//! over the horizon, visits from the call graph's fan-out (each call's probability, and
//! the attempts its retry policy makes against the callee's error rate), events from
//! visits, and wall time from events. `check` prints it and `run` warns when it is large,
//! so an hour-long run never starts silently.
//!
//! It is an estimate of a healthy run: faults, timeouts and overload change the real
//! count (a storm of retries makes more events, a dead dependency fewer), and messages,
//! jobs and background traffic (probes, autoscaling, replication) are not counted.

use super::{Platform, WorkloadKind};

/// Events per visit of a service: an arrival, a service completion, and the call sends,
/// answers and timers around it. Measured on shipped scenarios (the default scenario:
/// 2,923,783 events for 404,220 requests of 3 visits each, 2.4; an M/M/1 station: 2.0).
pub const EVENTS_PER_VISIT: f64 = 2.4;

/// Wall time of one event on one core of the machine the engine figures were measured
/// on (README: 150-250 ns on small platforms; larger ones cost more, see issue 17).
pub const NS_PER_EVENT: f64 = 250.0;

/// A run above this many estimated seconds gets a warning (and, on a terminal, a
/// progress bar).
pub const LONG_RUN_S: f64 = 60.0;

/// What a run is expected to cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Requests the workloads send (first attempts).
    pub requests: f64,
    /// Visits of services, all calls and retries included.
    pub visits: f64,
    pub events: f64,
    /// Wall seconds on one core.
    pub seconds: f64,
}

impl Estimate {
    /// One line for people: `about 2.9 million events, about 0.7 s on one core`.
    pub fn describe(&self) -> String {
        format!(
            "about {} events ({} requests, {:.1} visits each), about {} on one core",
            big(self.events),
            big(self.requests),
            if self.requests > 0.0 {
                self.visits / self.requests
            } else {
                0.0
            },
            wall(self.seconds)
        )
    }

    pub fn is_long(&self) -> bool {
        self.seconds > LONG_RUN_S
    }
}

/// `2.9 million`, `41 thousand`, `812`.
fn big(n: f64) -> String {
    match n {
        n if n >= 1e12 => format!("{:.1} trillion", n / 1e12),
        n if n >= 1e9 => format!("{:.1} billion", n / 1e9),
        n if n >= 1e6 => format!("{:.1} million", n / 1e6),
        n if n >= 1e4 => format!("{:.0} thousand", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// `0.7 s`, `12 min`, `3.1 h`, `2.0 days`.
fn wall(s: f64) -> String {
    match s {
        s if s >= 2.0 * 86_400.0 => format!("{:.1} days", s / 86_400.0),
        s if s >= 2.0 * 3_600.0 => format!("{:.1} h", s / 3_600.0),
        s if s >= 120.0 => format!("{:.0} min", s / 60.0),
        s => format!("{s:.1} s"),
    }
}

/// The estimate of a run of `p` to its horizon.
pub fn estimate(p: &Platform) -> Estimate {
    let per_request = visits_per_request(p);
    let mut requests = 0.0;
    let mut visits = 0.0;
    for w in &p.workloads {
        let n = match &w.kind {
            WorkloadKind::Open(schedule) => schedule.expected_count(p.duration),
            // At most one request per user per think time (less with the answer's wait).
            WorkloadKind::Closed { users, think_time } => {
                let think_s = (think_time.mean_ns() / 1e9).max(1e-3);
                f64::from(*users) * p.duration.as_secs_f64() / think_s
            }
        };
        let attempts = w.retry.as_ref().map_or(1.0, |r| {
            attempts(
                r.policy.max_attempts,
                p.services[w.target.0 as usize].error_rate,
            )
        });
        requests += n;
        visits += n * attempts * per_request[w.target.0 as usize];
    }
    let events = visits * EVENTS_PER_VISIT;
    Estimate {
        requests,
        visits,
        events,
        seconds: events * NS_PER_EVENT / 1e9,
    }
}

/// Expected attempts of a call retried up to `max` attempts in all when each attempt
/// fails with probability `error`: 1 + e + e^2 + ... + e^(max-1).
fn attempts(max: u32, error: f64) -> f64 {
    let e = error.clamp(0.0, 1.0);
    (0..max.max(1)).map(|i| e.powi(i as i32)).sum()
}

/// Visits of the platform per request that reaches each service: itself, plus each
/// call's probability x attempts x the callee's own visits. A call back into a service
/// already on the path (a circle) counts its one visit and stops, as a request that
/// loops would be cut by its timeouts.
fn visits_per_request(p: &Platform) -> Vec<f64> {
    let n = p.services.len();
    let mut memo: Vec<Option<f64>> = vec![None; n];
    let mut on_path = vec![false; n];
    for s in 0..n {
        visit(p, s, &mut memo, &mut on_path);
    }
    memo.into_iter().map(|v| v.unwrap_or(1.0)).collect()
}

fn visit(p: &Platform, s: usize, memo: &mut [Option<f64>], on_path: &mut [bool]) -> f64 {
    if let Some(v) = memo[s] {
        return v;
    }
    if on_path[s] {
        return 1.0;
    }
    on_path[s] = true;
    let mut total = 1.0;
    for c in &p.services[s].calls {
        let callee = c.to.0 as usize;
        let tries = c.retry.as_ref().map_or(1.0, |r| {
            attempts(r.policy.max_attempts, p.services[callee].error_rate)
        });
        total += c.probability * tries * visit(p, callee, memo, on_path);
    }
    on_path[s] = false;
    memo[s] = Some(total);
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_a_geometric_sum() {
        assert_eq!(attempts(1, 0.5), 1.0);
        assert_eq!(attempts(3, 0.5), 1.75);
        assert_eq!(attempts(4, 0.0), 1.0);
        assert_eq!(attempts(3, 1.0), 3.0);
    }

    #[test]
    fn words_for_sizes() {
        assert_eq!(big(2_923_783.0), "2.9 million");
        assert_eq!(big(41_200.0), "41 thousand");
        assert_eq!(wall(0.73), "0.7 s");
        assert_eq!(wall(720.0), "12 min");
        assert_eq!(wall(4.0 * 3600.0), "4.0 h");
    }
}
