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
//!
//! and its `saturation` is the largest of the three. The bottleneck is the service with
//! the highest saturation (ties go to the longer mean wait, then the name); `why` names
//! the figure that set it. A service with no arrivals after the warmup is left out.

use super::summary::{ServiceSummary, Summary};
use serde::Serialize;
use std::collections::BTreeMap;

/// The run's bottleneck, and every service's saturation beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    pub service: String,
    /// `utilization`, `queueing` or `refusals`: the figure that made it the bottleneck.
    pub why: &'static str,
    pub utilization: f64,
    pub queue_share: f64,
    pub refused_share: f64,
    /// Per service: the largest of its utilization, queue share and refused share.
    pub saturation: BTreeMap<String, f64>,
}

/// One service's three figures and its mean wait in ms (the tie-breaker).
struct Figures {
    utilization: f64,
    queue_share: f64,
    refused_share: f64,
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
        Figures {
            utilization: v.utilization,
            queue_share: ratio(wait_ms, sojourn_ms),
            refused_share: ratio(refused as f64, v.arrivals as f64),
            wait_ms,
        }
    }

    /// The saturation and the name of the figure that sets it (first wins a tie).
    fn saturation(&self) -> (f64, &'static str) {
        let mut best = (self.utilization, "utilization");
        for (x, why) in [
            (self.queue_share, "queueing"),
            (self.refused_share, "refusals"),
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

/// The bottleneck of a finished run; `None` when no service saw an arrival.
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
    best.map(|(name, f, _, why)| Bottleneck {
        service: name.clone(),
        why,
        utilization: f.utilization,
        queue_share: f.queue_share,
        refused_share: f.refused_share,
        saturation,
    })
}

/// The terminal line: `bottleneck: payment (utilization 98%, 91% of its latency queueing)`.
pub fn line(b: &Bottleneck) -> String {
    describe(&b.service, b.utilization, b.queue_share, b.refused_share)
}

/// The bottleneck line from its figures (the table and `platsim report` both say it so).
pub fn describe(service: &str, utilization: f64, queue_share: f64, refused_share: f64) -> String {
    let mut out = format!(
        "bottleneck: {service} (utilization {:.0}%, {:.0}% of its latency queueing",
        utilization * 100.0,
        queue_share * 100.0
    );
    if refused_share > 0.0 {
        out.push_str(&format!(", {:.1}% refused", refused_share * 100.0));
    }
    out.push(')');
    out
}
