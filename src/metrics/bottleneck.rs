//! The bottleneck of a run, named by measurement from figures the summary already has.
//!
//! The rule (Gregg's USE method: utilization, saturation, errors; and the queueing view
//! that a saturated stage is where work waits, Little's law): for each service,
//!
//! - `utilization`: busy server time over capacity;
//! - `queue_share`: the share of its mean latency spent waiting, `wait / sojourn`; for a
//!   service pulling from a job queue or topic the queue is its waiting room, so
//!   `(queue wait + wait) / sojourn with the queue`;
//! - `refused_share`: arrivals refused or shed for lack of room (queue full, concurrency
//!   or rate limit, shed), a saturation that shows as refusals instead of waiting;
//! - `throttled_share`: the share of its requests' time spent waiting for CPU quota
//!   (CFS throttling under a CPU limit, `pods.cpu_throttled_s` over the summed
//!   sojourns): the CPU is saturated though the servers are not;
//! - `memory`: 1 when its containers were OOM-killed (a leak), else 0: Gregg's USE
//!   checklist reads memory saturation from OOM-killer events, not from usage;
//!
//! and its `saturation` is the largest of these. The bottleneck is the service with the
//! highest saturation (ties go to the longer mean wait, then the name); `why` names the
//! figure that set it. A service with no arrivals after the warmup is left out, and no
//! service is named below [`SATURATION_MIN`]: an idle platform has no bottleneck.

use super::summary::{ServiceSummary, Summary};
use serde::Serialize;
use std::collections::BTreeMap;

/// The least saturation that names a bottleneck: a quarter. An M/M/1 station at
/// utilization 0.25 spends a quarter of its latency waiting (W_q / W = rho), and a
/// quarter of CFS periods throttled is where kubernetes-mixin's `CPUThrottlingHigh`
/// alert fires; below that on every figure, no one service limits the run.
pub const SATURATION_MIN: f64 = 0.25;

/// The run's bottleneck, and every service's saturation beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    pub service: String,
    /// `utilization`, `queueing`, `refusals`, `cpu throttling` or `memory`: the figure
    /// that made it the bottleneck.
    pub why: &'static str,
    pub utilization: f64,
    pub queue_share: f64,
    pub refused_share: f64,
    pub throttled_share: f64,
    pub oom_kills: u64,
    /// Per service: the largest of its utilization, queue share and refused share.
    pub saturation: BTreeMap<String, f64>,
}

/// One service's three figures and its mean wait in ms (the tie-breaker).
struct Figures {
    utilization: f64,
    queue_share: f64,
    refused_share: f64,
    throttled_share: f64,
    oom_kills: u64,
    wait_ms: f64,
}

impl Figures {
    fn of(v: &ServiceSummary) -> Self {
        let (wait_ms, sojourn_ms) = match &v.pulled {
            Some(p) => (
                p.queue_wait_ms.mean + v.wait_ms.mean,
                p.sojourn_with_queue_ms.mean,
            ),
            None => (v.wait_ms.mean, v.sojourn_ms.mean),
        };
        let refused = v.rejected_queue_full
            + v.rejected_rate_limited
            + v.rejected_concurrency_limited
            + v.shed;
        let (throttled_s, oom_kills) = v
            .pods
            .as_ref()
            .map_or((0.0, 0), |p| (p.cpu_throttled_s, p.oom_kills));
        let sojourn_s = v.sojourn_ms.mean / 1000.0 * v.completed as f64;
        Figures {
            utilization: v.utilization,
            queue_share: ratio(wait_ms, sojourn_ms),
            refused_share: ratio(refused as f64, v.arrivals as f64),
            throttled_share: ratio(throttled_s, sojourn_s),
            oom_kills,
            wait_ms,
        }
    }

    /// The saturation and the name of the figure that sets it (first wins a tie).
    fn saturation(&self) -> (f64, &'static str) {
        let mut best = (self.utilization, "utilization");
        let memory = if self.oom_kills > 0 { 1.0 } else { 0.0 };
        for (x, why) in [
            (self.queue_share, "queueing"),
            (self.refused_share, "refusals"),
            (self.throttled_share, "cpu throttling"),
            (memory, "memory"),
        ] {
            if x > best.0 {
                best = (x, why);
            }
        }
        best
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The bottleneck of a finished run; `None` when no service saw an arrival or none is
/// saturated to [`SATURATION_MIN`].
pub fn find(s: &Summary) -> Option<Bottleneck> {
    let mut saturation = BTreeMap::new();
    let mut best: Option<(&String, Figures, f64, &'static str)> = None;
    for (name, v) in s.services.iter().filter(|(_, v)| v.arrivals > 0) {
        let f = Figures::of(v);
        let (sat, why) = f.saturation();
        saturation.insert(name.clone(), sat);
        let better = match &best {
            None => true,
            Some((_, b, bsat, _)) => sat > *bsat || (sat == *bsat && f.wait_ms > b.wait_ms),
        };
        if better {
            best = Some((name, f, sat, why));
        }
    }
    best.filter(|b| b.2 >= SATURATION_MIN)
        .map(|(name, f, _, why)| Bottleneck {
            service: name.clone(),
            why,
            utilization: f.utilization,
            queue_share: f.queue_share,
            refused_share: f.refused_share,
            throttled_share: f.throttled_share,
            oom_kills: f.oom_kills,
            saturation,
        })
}

/// A stretch of time in which a service's CPU limit was its bottleneck: its containers
/// were throttled in at least [`SATURATION_MIN`] of the CFS periods they ran in, window
/// after window (kubernetes-mixin's `CPUThrottlingHigh`: `increase(nr_throttled) /
/// increase(nr_periods) > 25%`). Over a whole run the throttled share of request time
/// can be small while, during a surge, nearly every period is throttled: measured per
/// incident, it names the limit.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Throttling {
    pub service: String,
    pub start_s: f64,
    pub end_s: f64,
    /// CFS periods throttled, and run, within it; `share` is their ratio.
    pub throttled_periods: u64,
    pub periods: u64,
    pub share: f64,
}

/// The throttling incidents of `service` from its per-window CFS counts
/// `(nr_throttled, nr_periods)` (window `i` starts at `i x width_s`): each longest run of
/// windows from `first` on (the warmup's windows are left out) throttled in at least
/// [`SATURATION_MIN`] of their periods.
pub fn throttling(
    service: &str,
    width_s: f64,
    first: usize,
    rows: &[(u64, u64)],
) -> Vec<Throttling> {
    let mut out: Vec<Throttling> = Vec::new();
    let mut open = false;
    for (i, &(throttled, periods)) in rows.iter().enumerate().skip(first) {
        let hot = periods > 0 && throttled as f64 >= SATURATION_MIN * periods as f64;
        if !hot {
            open = false;
            continue;
        }
        if !open {
            out.push(Throttling {
                service: service.to_string(),
                start_s: i as f64 * width_s,
                end_s: 0.0,
                throttled_periods: 0,
                periods: 0,
                share: 0.0,
            });
            open = true;
        }
        let t = out.last_mut().expect("just pushed");
        t.end_s = (i + 1) as f64 * width_s;
        t.throttled_periods += throttled;
        t.periods += periods;
        t.share = t.throttled_periods as f64 / t.periods as f64;
    }
    out
}

/// The line `platsim report` and report.html give an incident:
/// `bottleneck 210-230 s: api (89% of its CFS periods CPU-throttled)`.
pub fn throttling_line(t: &Throttling) -> String {
    format!(
        "bottleneck {:.0}-{:.0} s: {} ({:.0}% of its CFS periods CPU-throttled)",
        t.start_s,
        t.end_s,
        t.service,
        t.share * 100.0
    )
}

/// Incidents `platsim report` and report.html list; the rest are counted.
pub const THROTTLING_SHOWN: usize = 5;

/// The lines `platsim report` and report.html give the throttling incidents: the first
/// [`THROTTLING_SHOWN`], then how many more summary.json lists.
pub fn throttling_lines(ts: &[Throttling]) -> Vec<String> {
    let mut out: Vec<String> = ts
        .iter()
        .take(THROTTLING_SHOWN)
        .map(throttling_line)
        .collect();
    if ts.len() > THROTTLING_SHOWN {
        out.push(format!(
            "and {} more CPU-throttling incidents (summary.json `throttling`)",
            ts.len() - THROTTLING_SHOWN
        ));
    }
    out
}

/// The terminal line: `bottleneck: payment (utilization 98%, 91% of its latency queueing)`,
/// or [`NONE`].
pub fn line(b: Option<&Bottleneck>) -> String {
    match b {
        Some(b) => describe(
            &b.service,
            [
                b.utilization,
                b.queue_share,
                b.refused_share,
                b.throttled_share,
            ],
            b.oom_kills,
        ),
        None => NONE.to_string(),
    }
}

/// What the table and `platsim report` say when no service is saturated enough.
pub const NONE: &str = "bottleneck: none (no service is 25% saturated)";

/// The bottleneck line from its figures (the table and `platsim report` both say it
/// so): utilization, queue share, refused share and throttled share, then OOM kills.
pub fn describe(service: &str, figures: [f64; 4], oom_kills: u64) -> String {
    let [utilization, queue_share, refused_share, throttled_share] = figures;
    let mut out = format!(
        "bottleneck: {service} (utilization {:.0}%, {:.0}% of its latency queueing",
        utilization * 100.0,
        queue_share * 100.0
    );
    if refused_share > 0.0 {
        out.push_str(&format!(", {:.1}% refused", refused_share * 100.0));
    }
    if throttled_share > 0.0 {
        out.push_str(&format!(", {:.0}% CPU-throttled", throttled_share * 100.0));
    }
    if oom_kills > 0 {
        out.push_str(&format!(", {oom_kills} OOM kills"));
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand, 10 s windows: 50 of 100 periods throttled (hot), 30 of 100 (hot), 20 of
    /// 100 (not: under a quarter), 0 of 0 (idle), 25 of 100 (hot, at the threshold).
    /// Two incidents: 0-20 s with 80 of 200 (40%), and 40-50 s with 25%. From window 1
    /// on (a 10 s warmup), the first starts at 10 s with 30%.
    #[test]
    fn incidents_are_runs_of_windows_throttled_a_quarter_of_their_periods() {
        let rows = [(50, 100), (30, 100), (20, 100), (0, 0), (25, 100)];
        let t = throttling("api", 10.0, 0, &rows);
        let got: Vec<_> = t
            .iter()
            .map(|t| (t.start_s, t.end_s, t.throttled_periods, t.periods, t.share))
            .collect();
        assert_eq!(
            got,
            vec![(0.0, 20.0, 80, 200, 0.4), (40.0, 50.0, 25, 100, 0.25)]
        );
        assert_eq!(
            throttling_line(&t[0]),
            "bottleneck 0-20 s: api (40% of its CFS periods CPU-throttled)"
        );
        let after_warmup = throttling("api", 10.0, 1, &rows);
        assert_eq!(
            (after_warmup[0].start_s, after_warmup[0].share),
            (10.0, 0.3)
        );
    }
}
