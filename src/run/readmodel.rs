//! CQRS read models at run time (issue #24): a consumer group with a `read_model` block
//! applies its topic's events (the log, the source of truth) to an in-memory projection,
//! one per partition, by the rules of `mech::projection`. Hooked where stream jobs are:
//! delivered, processed, committed, and aborted when a consumer dies.

use super::NONE;
use crate::engine::SimTime;
use crate::mech::projection::{rebuilding, ReadModel, Visible};
use crate::metrics::readmodel::ReadModelSummary;
use crate::model::Platform;
use std::collections::BTreeMap;

/// An event as the read model saw it.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// `SimTime::MAX`: never delivered.
    appended: SimTime,
    part: u32,
    vis: Visible,
}

const UNSEEN: Event = Event {
    appended: SimTime::MAX,
    part: 0,
    vis: Visible::NEVER,
};

/// One partition's projection.
#[derive(Debug, Default)]
struct Part {
    committed: u64,
    /// Applied, not yet committed: (offset, id).
    pending: Vec<(u64, u64)>,
    /// Nothing is applied before this (a rebuild is replaying).
    rebuilt_at: SimTime,
    /// `[start, end)` of each rebuild.
    rebuilds: Vec<(SimTime, SimTime)>,
}

struct Model {
    cfg: ReadModel,
    /// The group's pause when a consumer dies: the rebuild starts on the next owner.
    rebalance: SimTime,
    parts: Vec<Part>,
    /// By message id.
    events: Vec<Event>,
    replayed: u64,
    replay_total: SimTime,
    replay_max: SimTime,
}

/// Every read model, by consumer service.
#[derive(Default)]
pub(super) struct ReadModels {
    /// Per service: its index in `models`, or `NONE`.
    of: Vec<u32>,
    models: Vec<Model>,
}

impl ReadModels {
    pub fn new(p: &Platform) -> Self {
        let mut of = vec![NONE; p.services.len()];
        let mut models = Vec::new();
        for (i, s) in p.services.iter().enumerate() {
            let Some(c) = &s.consume else { continue };
            let Some(cfg) = c.read_model else { continue };
            of[i] = models.len() as u32;
            let partitions = p.topics[c.topic as usize].partitions;
            models.push(Model {
                cfg,
                rebalance: c.rebalance,
                parts: (0..partitions).map(|_| Part::default()).collect(),
                events: Vec::new(),
                replayed: 0,
                replay_total: SimTime::ZERO,
                replay_max: SimTime::ZERO,
            });
        }
        ReadModels { of, models }
    }

    fn model(&mut self, s: u32) -> Option<&mut Model> {
        match self.of.get(s as usize) {
            Some(&m) if m != NONE => Some(&mut self.models[m as usize]),
            _ => None,
        }
    }

    /// Message `id` of partition `part`, appended at `appended`, reached service `s`.
    pub fn delivered(&mut self, s: u32, part: u32, id: u64, appended: SimTime) {
        let Some(m) = self.model(s) else { return };
        let i = id as usize;
        if m.events.len() <= i {
            m.events.resize(i + 1, UNSEEN);
        }
        m.events[i].appended = appended;
        m.events[i].part = part;
    }

    /// Service `s` processed message `id` at `offset` of partition `part`: applied now,
    /// or when the partition's rebuild ends.
    pub fn processed(&mut self, s: u32, part: u32, offset: u64, id: u64, now: SimTime) {
        let Some(m) = self.model(s) else { return };
        let p = &mut m.parts[part as usize];
        m.events[id as usize].vis.apply(now.max(p.rebuilt_at));
        p.pending.push((offset, id));
    }

    /// Service `s`'s group committed partition `part` up to offset `upto`.
    pub fn committed(&mut self, s: u32, part: u32, upto: u64) {
        let Some(m) = self.model(s) else { return };
        let p = &mut m.parts[part as usize];
        p.committed = p.committed.max(upto);
        let n = p.pending.partition_point(|&(o, _)| o < upto);
        p.pending.drain(..n);
    }

    /// Service `s`'s consumer of `part` died at `now`: the uncommitted applications are
    /// lost, and the next owner rebuilds the model after the group's rebalance.
    pub fn aborted(&mut self, s: u32, part: u32, now: SimTime) {
        let Some(m) = self.model(s) else { return };
        let p = &mut m.parts[part as usize];
        for &(_, id) in &p.pending {
            m.events[id as usize].vis.lose(now);
        }
        p.pending.clear();
        let replay = m.cfg.replay_time(p.committed);
        let end = now.after(m.rebalance).after(replay);
        p.rebuilt_at = p.rebuilt_at.max(end);
        p.rebuilds.push((now, end));
        m.replayed += m.cfg.replayed(p.committed);
        m.replay_total = m.replay_total.after(replay);
        m.replay_max = m.replay_max.max(replay);
    }

    pub fn summaries(&self, p: &Platform) -> BTreeMap<String, ReadModelSummary> {
        let mut out = BTreeMap::new();
        for (s, &m) in self.of.iter().enumerate() {
            if m != NONE {
                out.insert(
                    p.services[s].name.clone(),
                    self.models[m as usize].summary(),
                );
            }
        }
        out
    }
}

impl Model {
    fn summary(&self) -> ReadModelSummary {
        let mut s = ReadModelSummary {
            rebuilds: self.parts.iter().map(|p| p.rebuilds.len() as u64).sum(),
            replayed_events: self.replayed,
            replay_total_s: self.replay_total.as_secs_f64(),
            replay_max_s: self.replay_max.as_secs_f64(),
            ..ReadModelSummary::default()
        };
        let mut lags = Vec::new();
        for e in self.events.iter().filter(|e| e.appended != SimTime::MAX) {
            s.events += 1;
            if e.vis.since != SimTime::MAX {
                lags.push(e.vis.since.since(e.appended).0);
            }
            let read = e.appended.after(self.cfg.read_after);
            let down = rebuilding(&self.parts[e.part as usize].rebuilds, read);
            s.read_backs += 1;
            if down || !e.vis.at(read) {
                s.read_your_writes_misses += 1;
                s.misses_rebuilding += down as u64;
            }
        }
        s.applied = lags.len() as u64;
        if !lags.is_empty() {
            lags.sort_unstable();
            let ms = |ns: u64| ns as f64 / 1e6;
            s.lag_mean_ms = ms(lags.iter().sum::<u64>()) / lags.len() as f64;
            s.lag_p99_ms = ms(lags[(lags.len() * 99).div_ceil(100) - 1]);
            s.lag_max_ms = ms(lags[lags.len() - 1]);
        }
        s
    }
}
