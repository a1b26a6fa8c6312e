//! Data stores: connection pools, cache-aside and fallbacks on calls, and a database's
//! write path.
//!
//! A call with a cache (`CacheAside`) goes through these stages, kept per request slot in
//! a side table so that requests without one carry nothing:
//! 1. `Lookup`: a key is drawn from the edge's key space (Zipf popularity) and a GET goes
//!    to the cache service. Whether it is a hit is decided when it is sent: the key was
//!    written back, within its TTL, after the cache last lost everything (a crash of all
//!    its replicas or an outage: caches run without persistence come back empty; or a
//!    `Flush`).
//! 2. A hit answered by the cache ends the call. A miss, or a lookup the cache could not
//!    answer (down, slow, erring), becomes `Backing`: ordinary attempts at the callee,
//!    through the edge's breaker, pool and retries. With `coalesce`, a miss of a key whose
//!    backing call is already under way becomes `Coalesced` instead and waits for that
//!    call's result (single flight); the first one is the key's leader.
//! 3. A backing call that succeeded writes the key back (a SET to the cache service, sent
//!    and not waited for) and wakes the key's waiters with its success; one that failed
//!    wakes them with its failure, and each then falls back or fails on its own.
//!
//! A fallback (`Fallback`) takes over a call that failed in the end: a default answer
//! (the request goes on degraded), or one attempt at another service (`Fallback` stage).
//! Connection pools are semaphores per caller replica with a FIFO of waiting attempts;
//! a pool's wait reuses the bulkhead's timer and permit flag, since a call has one or the
//! other.

use super::service::Origin;
use super::{Event, Observer, Sim, Waiter, NONE};
use crate::engine::{stream, SimTime, Stream};
use crate::mech::replication::{commit_wait, FollowerReads, WriteLog};
use crate::metrics::ledger::{Cause, NO_ORDER};
use crate::metrics::summary::{
    CacheSummary, CallSummary, DurabilitySummary, FallbackSummary, FollowerReadsSummary,
    PoolSummary, Summary, WritesSummary,
};
use crate::metrics::Outcome;
use crate::model::{
    CacheAside, Dependency, Fallback, FaultKind, Platform, ReadsFrom, ReplicationMode, ServiceId,
    Writes,
};
use rand::Rng;
use std::collections::VecDeque;

/// What a request's current call is doing, when the call has a cache or a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Stage {
    /// Plain attempts (or no call of that kind).
    #[default]
    Idle,
    Lookup,
    Backing,
    Coalesced,
    Fallback,
}

/// Per request slot.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Aux {
    pub stage: Stage,
    /// The key its cached call reads.
    pub key: u32,
    /// The lookup was sent for a key the cache holds.
    pub hit: bool,
    /// At a database: this request is a write.
    pub write: bool,
    /// At a replicated database: the first follower's lag for this write.
    pub lag: SimTime,
}

/// One key of a cache's key space.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// When it was last written back (`SimTime::MAX`: never).
    filled: SimTime,
    /// The request whose backing call fetches it now (single flight), or `NONE`.
    leader: u32,
    leader_gen: u32,
    /// Misses waiting for the leader: `(request, generation)`.
    waiters: Vec<(u32, u32)>,
}

/// The key space and the state of one cached call edge.
struct CacheState {
    cfg: CacheAside,
    /// Cumulative popularity of the keys, most popular first.
    cdf: Vec<f64>,
    entries: Vec<Entry>,
    /// Instants the cache service lost everything, sorted; `wipes[..passed]` are past.
    wipes: Vec<SimTime>,
    passed: usize,
    rng: Stream,
    stats: CacheSummary,
}

impl CacheState {
    fn new(p: &Platform, cfg: CacheAside, name: &str) -> Self {
        let weights: Vec<f64> = (0..cfg.keys)
            .map(|i| 1.0 / ((i + 1) as f64).powf(cfg.zipf))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        let cache = cfg.service;
        let mut wipes: Vec<SimTime> = p
            .faults
            .iter()
            .filter(|f| match &f.kind {
                FaultKind::Crash { target, replicas } => {
                    *target == cache && *replicas >= p.service(cache).replicas
                }
                FaultKind::Outage { services, .. } => services.contains(&cache),
                FaultKind::Flush { target } => *target == cache,
                _ => false,
            })
            .map(|f| f.start)
            .collect();
        wipes.sort_unstable();
        CacheState {
            cfg,
            cdf,
            entries: vec![
                Entry {
                    filled: SimTime::MAX,
                    leader: NONE,
                    ..Entry::default()
                };
                cfg.keys as usize
            ],
            wipes,
            passed: 0,
            rng: stream(p.seed, &format!("{name}/cache")),
            stats: CacheSummary::default(),
        }
    }

    fn draw_key(&mut self) -> u32 {
        let u: f64 = self.rng.random();
        let k = self.cdf.partition_point(|&c| c <= u);
        k.min(self.cdf.len() - 1) as u32
    }

    /// Whether the cache holds `key` at `now`.
    fn holds(&mut self, key: u32, now: SimTime) -> bool {
        while self.passed < self.wipes.len() && self.wipes[self.passed] <= now {
            self.passed += 1;
        }
        let filled = self.entries[key as usize].filled;
        if filled == SimTime::MAX {
            return false;
        }
        let after_wipe = self.passed == 0 || filled >= self.wipes[self.passed - 1];
        after_wipe && self.cfg.ttl.is_none_or(|t| now < filled.after(t))
    }
}

#[derive(Debug, Default)]
struct PoolSlot {
    active: u32,
    /// `(request, generation, since)`: a slot freed and reused is not the waiter.
    waiting: VecDeque<(u32, u32, SimTime)>,
}

/// Counts of one database's write path.
struct WriteState {
    rng: Stream,
    stats: WritesSummary,
    /// Acknowledged writes a crash could take back, when commits are not all safe
    /// (`synchronous_commit` off or followers): see `mech::replication`.
    log: Option<WriteLog>,
    /// Replication lags, a stream of their own so that the modes draw the same lags.
    lag_rng: Stream,
    /// One lag per follower, reused for every write.
    lags: Vec<SimTime>,
    /// Interned when first needed: lost in a failover, in a crash, in a power loss.
    causes: Option<(Cause, Cause, Cause)>,
    /// With reads from followers: what each follower has applied, and per request slot
    /// the lags its write drew (`followers` each) until its commit is acknowledged.
    follower_reads: Option<FollowerReadState>,
    /// As a StatefulSet with local volumes: per pod slot, the orders' writes (order,
    /// step) its volume holds, lost with its node.
    volumes: Vec<Vec<(u32, u32)>>,
}

struct FollowerReadState {
    reads: FollowerReads,
    /// Which follower serves a read: a stream of its own, so the rest of the run is the
    /// same run with reads sent to the leader.
    rng: Stream,
    req_lags: Vec<SimTime>,
}

/// Every data-store feature's state; empty vectors when a scenario uses none.
pub(super) struct DataStores {
    /// Some call has a cache or a fallback, or some service a write path: requests need
    /// their side-table entries.
    pub active: bool,
    aux: Vec<Aux>,
    /// Per call edge.
    caches: Vec<Option<Box<CacheState>>>,
    pools: Vec<Vec<PoolSlot>>,
    pool_stats: Vec<PoolSummary>,
    fallbacks: Vec<FallbackSummary>,
    /// Per service.
    writes: Vec<Option<WriteState>>,
}

impl DataStores {
    pub fn new(p: &Platform) -> Self {
        let (mut caches, mut pools, mut pool_stats, mut fallbacks) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut active = false;
        for s in &p.services {
            let slots = s.autoscale.as_ref().map_or(s.replicas, |a| a.max);
            for (k, c) in s.calls.iter().enumerate() {
                let name = format!("call/{}/{k}->{}", s.name, p.service(c.to).name);
                caches.push(c.cache.map(|cfg| Box::new(CacheState::new(p, cfg, &name))));
                pools.push(match c.pool {
                    Some(_) => (0..slots).map(|_| PoolSlot::default()).collect(),
                    None => Vec::new(),
                });
                pool_stats.push(PoolSummary {
                    max_size: c.pool.map_or(0, |pl| pl.max_size),
                    ..PoolSummary::default()
                });
                fallbacks.push(FallbackSummary::default());
                active |= c.cache.is_some() || c.fallback.is_some();
            }
        }
        let writes: Vec<Option<WriteState>> = p
            .services
            .iter()
            .map(|s| {
                s.writes.as_ref().map(|w| {
                    let tracked = !w.synchronous_commit || w.replication.is_some();
                    let followers = w.replication.as_ref().map_or(0, |r| r.followers);
                    WriteState {
                        rng: stream(p.seed, &format!("service/{}/writes", s.name)),
                        stats: WritesSummary {
                            durability: tracked.then(DurabilitySummary::default),
                            follower_reads: w
                                .replication
                                .as_ref()
                                .filter(|r| r.reads == ReadsFrom::Followers)
                                .map(|_| FollowerReadsSummary::default()),
                            ..WritesSummary::default()
                        },
                        log: tracked.then(WriteLog::default),
                        lag_rng: stream(p.seed, &format!("service/{}/replication", s.name)),
                        lags: vec![SimTime::ZERO; followers as usize],
                        causes: None,
                        follower_reads: w
                            .replication
                            .as_ref()
                            .filter(|r| r.reads == ReadsFrom::Followers)
                            .map(|_| FollowerReadState {
                                reads: FollowerReads::new(followers),
                                rng: stream(p.seed, &format!("service/{}/follower-reads", s.name)),
                                req_lags: Vec::new(),
                            }),
                        volumes: match s.kube.as_ref().and_then(|k| k.stateful) {
                            Some(set) if set.local_volume => {
                                vec![Vec::new(); super::pods::slots(s) as usize]
                            }
                            _ => Vec::new(),
                        },
                    }
                })
            })
            .collect();
        active |= writes.iter().any(Option::is_some);
        DataStores {
            active,
            aux: Vec::new(),
            caches,
            pools,
            pool_stats,
            fallbacks,
            writes,
        }
    }

    /// The side-table entry of request slot `req` (grown to the slab's peak, once).
    #[inline]
    fn aux(&mut self, req: u32) -> &mut Aux {
        let i = req as usize;
        if i >= self.aux.len() {
            self.aux.resize((i + 1).next_power_of_two(), Aux::default());
        }
        &mut self.aux[i]
    }

    /// At a database with a write path, a request begins service at `now`: is it a
    /// write, and if so, its service time. A read served by a follower is judged here,
    /// against what that follower has applied (`mech::replication`, rule 4).
    pub fn begin(
        &mut self,
        now: SimTime,
        s: usize,
        (req, order, counted): (u32, u32, bool),
        caller: Option<ServiceId>,
        writes: &Writes,
    ) -> Option<SimTime> {
        let w = self.writes[s].as_mut().expect("a write path has its state");
        let write = caller.is_some_and(|c| writes.from.contains(&c))
            || (writes.share > 0.0 && w.rng.random::<f64>() < writes.share);
        let mut time = write.then(|| writes.service_time.sample(&mut w.rng));
        if let (Some(t), Some(r)) = (time.as_mut(), &writes.replication) {
            for lag in w.lags.iter_mut() {
                *lag = r.lag.sample(&mut w.lag_rng);
            }
            let wait = commit_wait(r.mode, writes.synchronous_commit, &w.lags);
            // The commit holds its server (and the caller's connection) while it waits.
            *t = t.after(wait);
            if let Some(d) = w.stats.durability.as_mut() {
                d.commit_wait_ms_total += wait.as_millis_f64();
            }
            if let Some(fr) = w.follower_reads.as_mut() {
                let n = w.lags.len();
                let at = req as usize * n;
                if fr.req_lags.len() < at + n {
                    fr.req_lags
                        .resize((at + n).next_power_of_two(), SimTime::ZERO);
                }
                fr.req_lags[at..at + n].copy_from_slice(&w.lags);
            }
            let first = w.lags.iter().copied().min().unwrap_or(SimTime::ZERO);
            self.aux(req).lag = first;
        }
        let w = self.writes[s].as_mut().expect("a write path has its state");
        if let (false, Some(fr)) = (write, w.follower_reads.as_mut()) {
            let n = fr.reads.followers();
            let f = if n > 1 { fr.rng.random_range(0..n) } else { 0 };
            let seen = fr.reads.read(now, f, order);
            if counted {
                let st = w
                    .stats
                    .follower_reads
                    .as_mut()
                    .expect("counted with the state");
                st.reads += 1;
                st.stale_reads += seen.stale as u64;
                st.read_your_writes_violations += seen.own_write_missed as u64;
            }
        }
        self.aux(req).write = write;
        time
    }

    /// Request `req` of order `of` succeeded at database `s`: if it was a write whose
    /// commit a crash could still take back, remember it with the order and step it did
    /// (or `NO_ORDER`); followers serving reads learn of it.
    #[allow(clippy::too_many_arguments)]
    pub fn acknowledged(
        &mut self,
        now: SimTime,
        s: usize,
        req: u32,
        writes: &Writes,
        of: u32,
        order: u32,
        step: u32,
    ) {
        let Some(w) = self.writes[s].as_mut() else {
            return;
        };
        let i = req as usize;
        let a = self.aux.get(i).copied().unwrap_or_default();
        if !a.write {
            return;
        }
        if let (Some(fr), Some(r)) = (w.follower_reads.as_mut(), &writes.replication) {
            let n = fr.reads.followers();
            let lags = &fr.req_lags[i * n..i * n + n];
            let wait = commit_wait(r.mode, writes.synchronous_commit, lags);
            fr.reads.acknowledged(now, of, wait, lags);
        }
        let Some(log) = w.log.as_mut() else {
            return;
        };
        let waited = writes.synchronous_commit
            && writes
                .replication
                .as_ref()
                .is_some_and(|r| r.mode != ReplicationMode::Async);
        let lag = writes.replication.as_ref().map(|_| a.lag);
        log.acknowledged(now, order, step, writes.synchronous_commit, lag, waited);
    }

    /// Pod `slot` of database `s` acknowledged the write of step `step` of order `order`:
    /// kept on its volume when that volume can be lost (a local one).
    pub fn on_volume(&mut self, s: usize, slot: u32, order: u32, step: u32) {
        if let Some(v) = self.writes[s]
            .as_mut()
            .and_then(|w| w.volumes.get_mut(slot as usize))
        {
            if order != NO_ORDER && step != NONE {
                v.push((order, step));
            }
        }
    }

    /// Request `req` is a write at its database.
    pub fn is_write(&self, req: u32) -> bool {
        self.aux.get(req as usize).is_some_and(|a| a.write)
    }

    /// The error rate of request `req` at a database with a write path, counting it.
    pub fn error_rate(
        &mut self,
        s: usize,
        req: u32,
        writes: &Writes,
        reads: f64,
        counted: bool,
    ) -> f64 {
        let write = self.aux(req).write;
        let w = self.writes[s].as_mut().expect("a write path has its state");
        if write {
            w.stats.writes += counted as u64;
            writes.error_rate
        } else {
            reads
        }
    }

    /// A write failed on its own.
    pub fn write_failed(&mut self, s: usize, req: u32, counted: bool) {
        if self.aux(req).write {
            if let Some(w) = self.writes[s].as_mut() {
                w.stats.write_errors += counted as u64;
            }
        }
    }

    /// Adds the edges' pool, cache and fallback counts to their call summaries.
    pub fn call_summary(&self, edge: usize, call: &crate::model::Call, stats: &mut CallSummary) {
        if call.pool.is_some() {
            stats.pool = Some(self.pool_stats[edge].clone());
        }
        if let Some(c) = &self.caches[edge] {
            let mut cs = c.stats.clone();
            cs.hit_ratio = if cs.lookups == 0 {
                0.0
            } else {
                cs.hits as f64 / cs.lookups as f64
            };
            stats.cache = Some(cs);
        }
        if call.fallback.is_some() {
            stats.fallback = Some(self.fallbacks[edge].clone());
        }
    }

    /// Adds the write counts to the services' summaries.
    pub fn service_summaries(&self, p: &Platform, summary: &mut Summary) {
        for (s, w) in p.services.iter().zip(&self.writes) {
            if let (Some(w), Some(sum)) = (w, summary.services.get_mut(&s.name)) {
                sum.writes = Some(w.stats.clone());
            }
        }
    }
}

impl<O: Observer> Sim<'_, O> {
    /// Database `s` lost its last replica at `now` (a crash lasting `lasts`, or an
    /// outage: `None`): the acknowledged writes it cannot get back are lost, with their
    /// orders' steps. A crash lasting `failover_after` or more promotes a follower then
    /// (returned: when); a shorter one, or an outage (every follower loses power too), is
    /// a restart with what the leader had flushed: the one rule of `mech::replication`
    /// for what a database keeps, whatever took it down, under a cause that names which.
    pub(super) fn database_down(
        &mut self,
        now: SimTime,
        s: usize,
        lasts: Option<SimTime>,
    ) -> Option<SimTime> {
        let p = self.p;
        let writes = p.services[s].writes.as_ref()?;
        if self.hot[s].up > 0 {
            return None;
        }
        let w = self.ds.writes[s].as_mut()?;
        let log = w.log.as_mut()?;
        let failover = match (&writes.replication, lasts) {
            (Some(r), Some(lasts)) if lasts >= r.failover_after => Some(r.failover_after),
            _ => None,
        };
        let ledger = &mut self.ledger;
        let name = &p.services[s].name;
        let (in_failover, in_crash, in_power_loss) = *w.causes.get_or_insert_with(|| {
            (
                ledger.cause(&format!(
                    "{name}: acknowledged write lost in failover (async replication)"
                )),
                ledger.cause(&format!(
                    "{name}: acknowledged commit lost in crash (synchronous_commit off)"
                )),
                ledger.cause(&format!(
                    "{name}: acknowledged commit lost in power loss (synchronous_commit off)"
                )),
            )
        });
        let cause = match (failover, lasts) {
            (Some(_), _) => in_failover,
            (None, Some(_)) => in_crash,
            (None, None) => in_power_loss,
        };
        if let Some(fr) = w.follower_reads.as_mut() {
            fr.reads.crashed(now);
        }
        let lost = log.crashed(now, failover.is_some(), |lw| {
            if lw.order != NO_ORDER && lw.step != NONE {
                ledger.step_lost(lw.order, lw.step as usize, cause);
            }
        });
        let d = w
            .stats
            .durability
            .as_mut()
            .expect("a tracked write path has its counts");
        if failover.is_some() {
            d.failovers += 1;
            d.lost_in_failover += lost;
        } else {
            d.lost_in_crash += lost;
        }
        failover.map(|after| now.after(after))
    }

    /// StatefulSet pod `slot` of service `s` lost its local volume with its node at
    /// `now`: every order's write on it is gone, under a cause naming the pod.
    pub(super) fn volume_lost(&mut self, _now: SimTime, s: usize, slot: usize) {
        let lost = self.ds.writes[s]
            .as_mut()
            .and_then(|w| w.volumes.get_mut(slot))
            .map(std::mem::take)
            .unwrap_or_default();
        if !lost.is_empty() {
            let name = &self.p.services[s].name;
            let cause = self.ledger.cause(&format!(
                "{name}-{slot}: volume lost with its node (local volume)"
            ));
            for &(order, step) in &lost {
                self.ledger.step_lost(order, step as usize, cause);
            }
        }
        self.cluster.volume_lost(s, slot, lost.len() as u64);
    }

    #[inline]
    pub(super) fn edge_index(&self, req: u32) -> usize {
        let r = &self.reqs[req as usize];
        (self.edge_base[r.service as usize] + r.next_call) as usize
    }

    /// A call with a cache or a fallback starts (after `next_call` counted it).
    pub(super) fn start_store_call(&mut self, now: SimTime, req: u32) {
        let p = self.p;
        let r = &self.reqs[req as usize];
        let call = &p.services[r.service as usize].calls[r.next_call as usize];
        self.ds.aux(req).stage = Stage::Idle;
        if call.cache.is_some() {
            self.cache_lookup(now, req);
        } else {
            self.attempt(now, req);
        }
    }

    /// Sends a GET of a drawn key to the cache service.
    fn cache_lookup(&mut self, now: SimTime, req: u32) {
        let e = self.edge_index(req);
        let counted = self.reqs[req as usize].counted as u64;
        let c = self.ds.caches[e]
            .as_mut()
            .expect("a cached call has a cache");
        let key = c.draw_key();
        let hit = c.holds(key, now);
        c.stats.lookups += counted;
        let (cache, timeout) = (c.cfg.service.0, c.cfg.timeout);
        let a = self.ds.aux(req);
        a.stage = Stage::Lookup;
        a.key = key;
        a.hit = hit;
        if !self.send_aside(now, req, cache, timeout, false) {
            self.lookup_done(now, req, Outcome::Rejected);
        }
    }

    /// Sends a request of `req`'s to service `to` on the side of its call (a cache
    /// lookup or a fallback); `false` if it could not be sent.
    fn send_aside(
        &mut self,
        now: SimTime,
        req: u32,
        to: u32,
        timeout: Option<SimTime>,
        carries: bool,
    ) -> bool {
        let r = &self.reqs[req as usize];
        if r.depth >= super::call::MAX_CALL_DEPTH || self.partitioned(r.service, to) {
            return false;
        }
        let deadline = timeout.map_or(r.deadline, |t| r.deadline.min(now.after(t)));
        let origin = Origin {
            waiter: Waiter::Caller(req),
            deadline,
            client: if carries { r.client } else { NONE },
            depth: r.depth + 1,
            order: if carries { r.order } else { NO_ORDER },
            replica: NONE,
            parent: super::Parent::Call { caller: r.uid },
        };
        let Some(child) = self.arrive(now, to, origin) else {
            return false;
        };
        let r = &mut self.reqs[req as usize];
        r.child = child;
        if let Some(t) = timeout {
            let token = r.call_token;
            self.queue
                .push(now.after(t), Event::CallTimeout { req, token });
        }
        true
    }

    /// The answer of a side request (lookup or fallback) came back, or the call's attempt
    /// ended: `true` if this module handled it.
    pub(super) fn store_answer(&mut self, now: SimTime, req: u32, outcome: Outcome) -> bool {
        match self.ds.aux(req).stage {
            Stage::Lookup => self.lookup_done(now, req, outcome),
            Stage::Fallback => self.fallback_done(now, req, outcome),
            Stage::Idle | Stage::Backing | Stage::Coalesced => return false,
        }
        true
    }

    fn lookup_done(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        let e = self.edge_index(req);
        let r = &self.reqs[req as usize];
        let (counted, gen) = (r.counted as u64, r.generation);
        let a = *self.ds.aux(req);
        if outcome == Outcome::Ok && a.hit {
            let c = self.ds.caches[e]
                .as_mut()
                .expect("a cached call has a cache");
            c.stats.hits += counted;
            self.ds.aux(req).stage = Stage::Idle;
            self.edge_hot[e].ok += counted;
            self.reqs[req as usize].next_call += 1;
            self.next_call(now, req);
            return;
        }
        let leader = {
            let c = self.ds.caches[e]
                .as_mut()
                .expect("a cached call has a cache");
            c.stats.misses += counted;
            if outcome != Outcome::Ok {
                c.stats.lookup_failures += counted;
            }
            if c.cfg.coalesce {
                let entry = &c.entries[a.key as usize];
                Some((entry.leader, entry.leader_gen))
            } else {
                None
            }
        };
        if let Some((leader, leader_gen)) = leader {
            let leading = leader != NONE && {
                let l = &self.reqs[leader as usize];
                let la = self.ds.aux(leader);
                l.live
                    && l.generation == leader_gen
                    && la.stage == Stage::Backing
                    && la.key == a.key
            };
            let c = self.ds.caches[e]
                .as_mut()
                .expect("a cached call has a cache");
            let entry = &mut c.entries[a.key as usize];
            if leading {
                entry.waiters.push((req, gen));
                c.stats.coalesced += counted;
                self.ds.aux(req).stage = Stage::Coalesced;
                return;
            }
            entry.leader = req;
            entry.leader_gen = gen;
        }
        self.ds.aux(req).stage = Stage::Backing;
        self.attempt(now, req);
    }

    /// A cached call's backing call ended (`ok` or failed in the end): write the key back,
    /// and wake the misses that waited for it.
    pub(super) fn cache_resolved(&mut self, now: SimTime, req: u32, ok: bool) {
        let e = self.edge_index(req);
        let a = *self.ds.aux(req);
        self.ds.aux(req).stage = Stage::Idle;
        if a.stage != Stage::Backing {
            return;
        }
        let counted = self.reqs[req as usize].counted as u64;
        let c = self.ds.caches[e]
            .as_mut()
            .expect("a cached call has a cache");
        let cache = c.cfg.service.0;
        if ok {
            // The write-back: a SET nobody waits for; it lands if the cache takes it.
            let r = &self.reqs[req as usize];
            let origin = Origin {
                waiter: Waiter::Nobody,
                deadline: SimTime::MAX,
                client: NONE,
                depth: r.depth.saturating_add(1),
                order: NO_ORDER,
                replica: NONE,
                parent: super::Parent::Call { caller: r.uid },
            };
            let reachable = !self.partitioned(r.service, cache);
            if reachable && self.arrive(now, cache, origin).is_some() {
                let c = self.ds.caches[e]
                    .as_mut()
                    .expect("a cached call has a cache");
                c.entries[a.key as usize].filled = now;
                c.stats.fills += counted;
            }
        }
        self.wake_waiters(now, e, req, a.key, ok);
    }

    /// The leader `req` of `key` is done: its waiters share its result.
    fn wake_waiters(&mut self, now: SimTime, e: usize, req: u32, key: u32, ok: bool) {
        let c = self.ds.caches[e]
            .as_mut()
            .expect("a cached call has a cache");
        let entry = &mut c.entries[key as usize];
        if entry.leader != req {
            return;
        }
        entry.leader = NONE;
        if entry.waiters.is_empty() {
            return;
        }
        let mut waiters = std::mem::take(&mut entry.waiters);
        for &(w, gen) in &waiters {
            let r = &self.reqs[w as usize];
            let waiting = r.live && r.generation == gen && self.ds.aux(w).stage == Stage::Coalesced;
            if !waiting || self.edge_index(w) != e {
                continue;
            }
            self.ds.aux(w).stage = Stage::Idle;
            let counted = self.reqs[w as usize].counted as u64;
            if ok {
                self.edge_hot[e].ok += counted;
                self.reqs[w as usize].next_call += 1;
                self.next_call(now, w);
            } else {
                self.edges[e].stats.failed += counted;
                self.call_failed(now, w);
            }
        }
        waiters.clear();
        let c = self.ds.caches[e]
            .as_mut()
            .expect("a cached call has a cache");
        let entry = &mut c.entries[key as usize];
        if entry.waiters.is_empty() {
            // Keep the capacity for the next time this key is missed.
            entry.waiters = waiters;
        }
    }

    /// A request ends (any way): if it led a key's backing call, its waiters fail.
    pub(super) fn store_end(&mut self, now: SimTime, req: u32) {
        let a = *self.ds.aux(req);
        if a.stage != Stage::Backing {
            self.ds.aux(req).stage = Stage::Idle;
            return;
        }
        let e = self.edge_index(req);
        if e < self.ds.caches.len() && self.ds.caches[e].is_some() {
            self.ds.aux(req).stage = Stage::Idle;
            self.wake_waiters(now, e, req, a.key, false);
        }
    }

    /// A call failed in the end (attempts, retries, all): its fallback, else its
    /// dependency decides.
    pub(super) fn call_failed(&mut self, now: SimTime, req: u32) {
        let p = self.p;
        let r = &self.reqs[req as usize];
        let call = &p.services[r.service as usize].calls[r.next_call as usize];
        if call.cache.is_some() {
            self.cache_resolved(now, req, false);
        }
        let e = self.edge_index(req);
        let counted = self.reqs[req as usize].counted as u64;
        match call.fallback {
            None => {}
            Some(Fallback::Default) => {
                self.ds.fallbacks[e].served_default += counted;
                let r = &mut self.reqs[req as usize];
                r.degraded = true;
                r.next_call += 1;
                self.next_call(now, req);
                return;
            }
            Some(Fallback::Service(s)) => {
                self.ds.aux(req).stage = Stage::Fallback;
                if self.send_aside(now, req, s.0, call.timeout, true) {
                    return;
                }
                self.ds.aux(req).stage = Stage::Idle;
                self.ds.fallbacks[e].service_failed += counted;
            }
        }
        self.give_up(now, req, call.dependency);
    }

    fn fallback_done(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        let e = self.edge_index(req);
        let p = self.p;
        let r = &mut self.reqs[req as usize];
        let counted = r.counted as u64;
        let dependency = p.services[r.service as usize].calls[r.next_call as usize].dependency;
        self.ds.aux(req).stage = Stage::Idle;
        if outcome == Outcome::Ok {
            self.ds.fallbacks[e].served_by_service += counted;
            r.degraded = true;
            r.next_call += 1;
            self.next_call(now, req);
        } else {
            self.ds.fallbacks[e].service_failed += counted;
            self.give_up(now, req, dependency);
        }
    }

    /// The call failed for good: a hard dependency fails the request, a soft one leaves
    /// it degraded.
    pub(super) fn give_up(&mut self, now: SimTime, req: u32, dependency: Dependency) {
        match dependency {
            Dependency::Hard => self.answer(now, req, Outcome::DependencyFailed),
            Dependency::Soft => {
                let r = &mut self.reqs[req as usize];
                r.degraded = true;
                r.next_call += 1;
                self.next_call(now, req);
            }
        }
    }

    // ---- connection pools ----------------------------------------------------------

    /// Takes a connection of the caller replica's pool, or queues for one: `true` if the
    /// attempt may go on now. A full pool with no wait fails the attempt at once.
    pub(super) fn pool_acquire(
        &mut self,
        now: SimTime,
        req: u32,
        e: usize,
        max: u32,
        wait: SimTime,
    ) -> bool {
        let r = &self.reqs[req as usize];
        let (replica, counted, token, gen) = (
            r.replica as usize,
            r.counted as u64,
            r.call_token,
            r.generation,
        );
        let slot = &mut self.ds.pools[e][replica];
        if slot.active < max {
            return true;
        }
        let stats = &mut self.ds.pool_stats[e];
        stats.waited += counted;
        if wait == SimTime::ZERO {
            stats.timeouts += counted;
            self.attempt_done(now, req, Outcome::Rejected, true);
        } else {
            slot.waiting.push_back((req, gen, now));
            let uid = self.reqs[req as usize].uid;
            self.obs.call_wait(now, uid, Some(super::Wait::Pool));
            self.queue
                .push(now.after(wait), Event::BulkheadTimeout { req, token });
        }
        false
    }

    /// The attempt is sent: it holds one connection.
    #[inline]
    pub(super) fn pool_take(&mut self, req: u32, e: usize) {
        let replica = self.reqs[req as usize].replica as usize;
        self.ds.pools[e][replica].active += 1;
    }

    /// The attempt gave its connection back: the longest waiter (still waiting) takes it.
    pub(super) fn pool_release(&mut self, now: SimTime, req: u32, e: usize) {
        let replica = self.reqs[req as usize].replica as usize;
        self.ds.pools[e][replica].active -= 1;
        while let Some((w, gen, since)) = self.ds.pools[e][replica].waiting.pop_front() {
            let r = &self.reqs[w as usize];
            if r.live
                && r.generation == gen
                && self.edge_index(w) == e
                && !r.sent
                && r.child == NONE
            {
                let waited_ms = now.since(since).as_secs_f64() * 1e3;
                let stats = &mut self.ds.pool_stats[e];
                if r.counted && waited_ms > stats.wait_ms_max {
                    stats.wait_ms_max = waited_ms;
                }
                // The connection came in time: void the waiter's timeout.
                let r = &mut self.reqs[w as usize];
                r.call_token = r.call_token.wrapping_add(1);
                self.obs.call_wait(now, r.uid, None);
                self.send_attempt(now, w);
                return;
            }
        }
    }

    /// A waiter gave up on the pool after `connection_timeout`.
    pub(super) fn pool_timed_out(&mut self, now: SimTime, req: u32, e: usize) {
        let r = &self.reqs[req as usize];
        let (replica, counted) = (r.replica as usize, r.counted as u64);
        self.ds.pools[e][replica]
            .waiting
            .retain(|&(w, _, _)| w != req);
        let stats = &mut self.ds.pool_stats[e];
        stats.timeouts += counted;
        self.attempt_done(now, req, Outcome::Rejected, true);
    }
}
