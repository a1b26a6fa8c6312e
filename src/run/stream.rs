//! Stream jobs at run time (issue #24): a consumer group with a `stream` block counts its
//! topic's events per event-time window (`mech::window`), one task per partition, and
//! its counts are checked against the events it received.
//!
//! An event's life in a job:
//! 1. First delivery: its event time is drawn (`event_delay` before its append) and kept,
//!    so a replay lands it at the same time.
//! 2. Processed (its request succeeded): it lands in its windows against the partition's
//!    watermark, which it then moves. At-least-once writes the counts at once;
//!    exactly-once holds them in the partition's open transaction.
//! 3. The group commits the partition's offset (`Sim::commit`, the one place offsets are
//!    committed): the transaction commits with it, and the partition's stream time (the
//!    largest event time) is saved with the offset, as Kafka Streams stores it in the
//!    commit metadata.
//! 4. A consumer dies (the partition rewinds to its committed offset): the open
//!    transaction aborts and the watermark returns to the committed one. The replayed
//!    events land again: into counts that already hold them under at-least-once.

use super::NONE;
use crate::engine::{stream, SimTime, Stream};
use crate::mech::window::{Guarantee, Landing, StreamJob};
use crate::metrics::stream::StreamSummary;
use crate::model::Platform;
use std::collections::BTreeMap;

/// An event as the job saw it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// `SimTime::MAX`: never delivered to this job.
    time: SimTime,
    /// Committed processings that put it in at least one window.
    counted: u16,
    late_dropped: bool,
    late_update: bool,
}

const UNSEEN: Seen = Seen {
    time: SimTime::MAX,
    counted: 0,
    late_dropped: false,
    late_update: false,
};

/// A processed event not yet committed.
#[derive(Debug, Clone, Copy)]
struct Pending {
    offset: u64,
    id: u64,
    time: SimTime,
    landing: Landing,
}

/// One partition's task.
#[derive(Debug, Default)]
struct Task {
    max_seen: Option<SimTime>,
    max_committed: Option<SimTime>,
    pending: Vec<Pending>,
}

struct Job {
    cfg: StreamJob,
    rng: Stream,
    tasks: Vec<Task>,
    /// By message id.
    seen: Vec<Seen>,
    /// Committed count per window index.
    counts: BTreeMap<i64, u64>,
    processed: u64,
    aborted: u64,
}

/// Every stream job, by consumer service.
#[derive(Default)]
pub(super) struct Streams {
    /// Per service: its index in `jobs`, or `NONE`.
    of: Vec<u32>,
    jobs: Vec<Job>,
}

impl Streams {
    pub fn new(p: &Platform) -> Self {
        let mut of = vec![NONE; p.services.len()];
        let mut jobs = Vec::new();
        for (i, s) in p.services.iter().enumerate() {
            let Some(c) = &s.consume else { continue };
            let Some(cfg) = &c.stream else { continue };
            of[i] = jobs.len() as u32;
            let partitions = p.topics[c.topic as usize].partitions;
            jobs.push(Job {
                cfg: cfg.clone(),
                rng: stream(p.seed, &format!("service/{}/event_time", s.name)),
                tasks: (0..partitions).map(|_| Task::default()).collect(),
                seen: Vec::new(),
                counts: BTreeMap::new(),
                processed: 0,
                aborted: 0,
            });
        }
        Streams { of, jobs }
    }

    fn job(&mut self, s: u32) -> Option<&mut Job> {
        match self.of.get(s as usize) {
            Some(&j) if j != NONE => Some(&mut self.jobs[j as usize]),
            _ => None,
        }
    }

    /// Message `id`, appended at `appended`, was delivered to service `s`'s consumer.
    pub fn delivered(&mut self, s: u32, id: u64, appended: SimTime) {
        let Some(job) = self.job(s) else { return };
        let i = id as usize;
        if job.seen.len() <= i {
            job.seen.resize(i + 1, UNSEEN);
        }
        if job.seen[i].time == SimTime::MAX {
            let delay = job.cfg.event_delay.sample(&mut job.rng);
            job.seen[i].time = SimTime(appended.0.saturating_sub(delay.0));
        }
    }

    /// Service `s` processed message `id` at `offset` of partition `part`.
    pub fn processed(&mut self, s: u32, part: u32, offset: u64, id: u64) {
        let Some(job) = self.job(s) else { return };
        let time = job.seen[id as usize].time;
        let task = &mut job.tasks[part as usize];
        let landing = job.cfg.land(time, task.max_seen);
        task.max_seen = Some(task.max_seen.map_or(time, |m| m.max(time)));
        job.processed += 1;
        let p = Pending {
            offset,
            id,
            time,
            landing,
        };
        if job.cfg.guarantee == Guarantee::AtLeastOnce {
            apply(&mut job.counts, &mut job.seen, p);
        }
        job.tasks[part as usize].pending.push(p);
    }

    /// Service `s`'s group committed partition `part` up to offset `upto`.
    pub fn committed(&mut self, s: u32, part: u32, upto: u64) {
        let Some(job) = self.job(s) else { return };
        let exactly_once = job.cfg.guarantee == Guarantee::ExactlyOnce;
        let task = &mut job.tasks[part as usize];
        let n = task.pending.partition_point(|p| p.offset < upto);
        for p in task.pending.drain(..n) {
            task.max_committed = Some(task.max_committed.map_or(p.time, |m| m.max(p.time)));
            if exactly_once {
                apply(&mut job.counts, &mut job.seen, p);
            }
        }
    }

    /// Service `s`'s consumer of `part` died: back to the last commit.
    pub fn aborted(&mut self, s: u32, part: u32) {
        let Some(job) = self.job(s) else { return };
        let task = &mut job.tasks[part as usize];
        if job.cfg.guarantee == Guarantee::ExactlyOnce {
            job.aborted += task.pending.len() as u64;
        }
        task.pending.clear();
        task.max_seen = task.max_committed;
    }

    pub fn summaries(&self, p: &Platform) -> BTreeMap<String, StreamSummary> {
        let mut out = BTreeMap::new();
        for (s, &j) in self.of.iter().enumerate() {
            if j != NONE {
                out.insert(p.services[s].name.clone(), self.jobs[j as usize].summary());
            }
        }
        out
    }
}

/// Adds a committed (or, at-least-once, written) processing to the counts.
fn apply(counts: &mut BTreeMap<i64, u64>, seen: &mut [Seen], p: Pending) {
    let e = &mut seen[p.id as usize];
    if p.landing.dropped() {
        e.late_dropped = true;
        return;
    }
    e.counted = e.counted.saturating_add(1);
    e.late_update |= p.landing.update;
    for k in p.landing.live..=p.landing.last {
        *counts.entry(k).or_insert(0) += 1;
    }
}

impl Job {
    fn summary(&self) -> StreamSummary {
        let mut s = StreamSummary {
            guarantee: match self.cfg.guarantee {
                Guarantee::AtLeastOnce => "at_least_once",
                Guarantee::ExactlyOnce => "exactly_once",
            }
            .to_string(),
            window_s: self.cfg.size.as_secs_f64(),
            slide_s: self.cfg.slide.as_secs_f64(),
            processed: self.processed,
            aborted: self.aborted,
            ..StreamSummary::default()
        };
        // Received events per window: what each committed count should be.
        let mut truth: BTreeMap<i64, u64> = BTreeMap::new();
        for e in self.seen.iter().filter(|e| e.time != SimTime::MAX) {
            s.events += 1;
            s.counted += (e.counted > 0) as u64;
            s.double_counted += (e.counted > 1) as u64;
            s.extra_counts += e.counted.saturating_sub(1) as u64;
            s.late_updates += e.late_update as u64;
            if e.counted == 0 {
                if e.late_dropped {
                    s.late_dropped += 1;
                } else {
                    s.missing += 1;
                }
            }
            let (first, last) = self.cfg.windows(e.time);
            for k in first..=last {
                *truth.entry(k).or_insert(0) += 1;
            }
        }
        s.windows = truth.len() as u64;
        for (k, &want) in &truth {
            let got = self.counts.get(k).copied().unwrap_or(0);
            s.windows_overcounted += (got > want) as u64;
            s.windows_undercounted += (got < want) as u64;
        }
        s
    }
}
