//! Services: admission, waiting rooms, service times, and answers.

use super::{Event, Observer, Parent, Request, Sim, Waiter, NONE};
use crate::engine::SimTime;
use crate::metrics::{Effect, Outcome, Refusal};
use crate::model::{Balancer, Discipline, FaultKind, ServiceId};
use rand::Rng;

/// A waiting room that has not been empty for this long is a standing queue: adaptive
/// LIFO serves newest first while it lasts (Facebook, "Fail at Scale").
const STANDING_QUEUE: SimTime = SimTime::from_millis(100);

/// What a new request carries from its sender.
pub(super) struct Origin {
    pub waiter: Waiter,
    pub deadline: SimTime,
    pub client: u32,
    /// Calls between the client and this request.
    pub depth: u8,
    /// The order it carries, or `ledger::NO_ORDER`.
    pub order: u32,
    /// The replica it must go to (a worker's or consumer's own), or `NONE`: the balancer.
    pub replica: u32,
    /// Who sent it (traces).
    pub parent: Parent,
}

impl<O: Observer> Sim<'_, O> {
    /// A request arrives at service `s`. Returns its slot, or `None` if it was refused
    /// (it then never held a slot, and its sender must be told at once).
    pub(super) fn arrive(&mut self, now: SimTime, s: u32, origin: Origin) -> Option<u32> {
        self.arrive_inline(now, s, origin)
    }

    /// [`Sim::arrive`], inlined into the plain open workload's send: a call per customer
    /// otherwise.
    #[inline(always)]
    pub(super) fn arrive_inline(&mut self, now: SimTime, s: u32, origin: Origin) -> Option<u32> {
        let counted = now >= self.p.warmup;
        let uid = self.next_uid;
        self.next_uid += 1;
        self.obs.arrival(now, ServiceId(s), uid);
        self.obs.visit(now, uid, origin.parent);
        self.rec.arrival(s as usize, counted);
        self.hot[s as usize].arrivals += 1;
        let picked = if origin.replica == NONE {
            self.choose_replica(now, s)
        } else {
            let r = &self.services[s as usize].replicas[origin.replica as usize];
            (self.hot[s as usize].ready && r.down == 0 && r.listed).then_some(origin.replica)
        };
        let hot = self.hot[s as usize];
        let refusal = match picked {
            None => Err(Refusal::Unavailable),
            Some(replica) => {
                let state = &mut self.services[s as usize].replicas[replica as usize];
                if !state.pod.accepts() {
                    // A pod still in the endpoints that stopped taking requests.
                    Err(Refusal::Unavailable)
                } else if state
                    .limit
                    .as_ref()
                    .is_some_and(|l| state.held >= l.limit())
                {
                    Err(Refusal::ConcurrencyLimited)
                } else if state.rate_limits.as_mut().is_some_and(|l| {
                    l.bucket.as_mut().is_some_and(|b| !b.try_acquire(now))
                        || l.local.as_mut().is_some_and(|b| !b.try_acquire(now))
                }) {
                    Err(Refusal::RateLimited)
                } else if state.busy >= hot.concurrency
                    && hot
                        .queue_capacity
                        .is_some_and(|k| state.waiting.len() >= k as usize)
                {
                    Err(Refusal::QueueFull)
                } else {
                    Ok(replica)
                }
            }
        };
        let replica = match refusal {
            Ok(r) => r,
            Err(why) => {
                self.rec.rejected(s as usize, now, counted, why);
                self.refused_status = crate::mech::retry::status_of_refusal(why);
                self.obs.refused(uid, why);
                self.obs.outcome(now, ServiceId(s), uid, Outcome::Rejected);
                return None;
            }
        };
        let req = self.alloc(Request {
            uid,
            arrived: now,
            deadline: origin.deadline,
            attempt_sent: now,
            limit_from: now,
            prev_sleep: SimTime::ZERO,
            service: s,
            replica,
            waiter: origin.waiter,
            child: NONE,
            client: origin.client,
            call_token: 0,
            generation: 0,
            next_call: 0,
            attempt: 0,
            depth: origin.depth,
            order: origin.order,
            lost_publish: crate::metrics::ledger::NO_CAUSE,
            live: true,
            counted,
            degraded: false,
            abandoned: false,
            in_service: false,
            breaker_permit: false,
            bulkhead_permit: false,
            sent: false,
            retrying: false,
            status: 0,
        });
        if !hot.plain {
            self.parts.assign(req);
        }
        let state = &mut self.services[s as usize].replicas[replica as usize];
        self.obs.placed(uid, replica, state.node);
        state.held += 1;
        let queued = state.busy >= hot.concurrency;
        self.rec.admitted(s as usize, now, queued, counted);
        if queued {
            if state.waiting.is_empty() {
                state.nonempty_since = now;
            }
            state.waiting.push_back(req);
        } else {
            state.busy += 1;
            self.begin_service(now, req);
        }
        Some(req)
    }

    /// The replica slot a request sent to service `s` now goes to, if any is up.
    #[inline(always)]
    pub(super) fn choose_replica(&mut self, now: SimTime, s: u32) -> Option<u32> {
        match self.hot[s as usize].plain {
            true => self.pick_replica(s),
            // A partitioned service's key decides; others balance.
            false => match self.partition_pick(s, now) {
                Some(part) => part,
                None => self.pick_replica(s),
            },
        }
    }

    /// A replica that is up (and whose pod is ready), by the service's balancer; `None`
    /// when all are down.
    // The common cases inline; the balancers' choice among several out of line.
    #[inline(always)]
    fn pick_replica(&mut self, s: u32) -> Option<u32> {
        let hot = &self.hot[s as usize];
        if hot.up == 0 || !hot.ready {
            return None;
        }
        // Slots: the replicas, or an autoscaled service's most pods.
        if self.services[s as usize].replicas.len() == 1 {
            return Some(0);
        }
        Some(self.balance(s))
    }

    /// One of several slots, some up, by the service's balancer.
    fn balance(&mut self, s: u32) -> u32 {
        let hot = &mut self.hot[s as usize];
        let state = &mut self.services[s as usize];
        let n = state.replicas.len() as u32;
        let up = hot.up;
        // The k-th replica that is up (all of them, unless a crash fault holds some).
        let nth_up = |state: &super::ServiceState, k: u32| -> u32 {
            if up == n {
                return k;
            }
            let mut seen = 0;
            for (i, r) in state.replicas.iter().enumerate() {
                if r.down == 0 && r.listed {
                    if seen == k {
                        return i as u32;
                    }
                    seen += 1;
                }
            }
            unreachable!("k < number of replicas up")
        };
        match hot.balancer {
            Balancer::RoundRobin => {
                let k = hot.next_rr % up;
                hot.next_rr = (k + 1) % up;
                nth_up(state, k)
            }
            Balancer::Random => {
                let k = state.rng_balance.random_range(0..up);
                nth_up(state, k)
            }
            Balancer::LeastOutstanding => {
                if up == 1 {
                    return nth_up(state, 0);
                }
                let a = state.rng_balance.random_range(0..up);
                let b = (a + state.rng_balance.random_range(1..up)) % up;
                let (a, b) = (nth_up(state, a), nth_up(state, b));
                let (ha, hb) = (
                    state.replicas[a as usize].held,
                    state.replicas[b as usize].held,
                );
                if hb < ha {
                    b
                } else {
                    a
                }
            }
        }
    }

    /// The request has a server: draw its service time, as faults stretch it.
    #[inline(always)]
    pub(super) fn begin_service(&mut self, now: SimTime, req: u32) {
        let r = &mut self.reqs[req as usize];
        r.in_service = true;
        self.obs.served(now, r.uid);
        let token = r.generation;
        let s = r.service as usize;
        let hot = self.hot[s];
        let plain = hot.plain;
        // A database's write path draws its own service time.
        let write = match &self.p.services[s].writes {
            _ if plain => None,
            Some(w) => {
                let caller = match self.reqs[req as usize].waiter {
                    Waiter::Caller(c) => Some(ServiceId(self.reqs[c as usize].service)),
                    _ => None,
                };
                let r = &self.reqs[req as usize];
                self.ds.begin(now, s, (req, r.order, r.counted), caller, w)
            }
            None => None,
        };
        // A partitioned node copying data works slower; a redirected request pays a hop.
        let (slow, hop) = if plain {
            (1.0, SimTime::ZERO)
        } else {
            self.parts
                .started(s, self.reqs[req as usize].replica, req, now)
        };
        let state = &mut self.services[s];
        let mut work = match write {
            Some(t) => t,
            None if plain => self.p.services[s].service_time.sample(&mut state.rng_time),
            // A pod's version may have its own service time; faults stretch it all the same.
            None => {
                let replica = self.reqs[req as usize].replica;
                super::pods::service_time(self.p, s, state, replica).sample(&mut state.rng_time)
            }
        };
        // On-CPU `work`, then off-CPU waiting: IO, and what latency faults add.
        let mut off = SimTime::ZERO;
        if !plain {
            if let Some(io) = &self.p.services[s].io_time {
                off = io.sample(&mut state.rng_time);
            }
        }
        if slow != 1.0 {
            work = SimTime((work.0 as f64 * slow).round() as u64);
        }
        off = off.after(hop);
        if hot.faulted {
            let p = self.p;
            for &f in &state.faults {
                let f = &p.faults[f as usize];
                if f.start <= now && now < f.end {
                    match &f.kind {
                        FaultKind::Latency { add, .. } => {
                            off = off.after(add.sample(&mut state.rng_fault));
                        }
                        // A slower CPU: the work takes longer on it.
                        FaultKind::Capacity { factor, .. } => {
                            work = SimTime((work.0 as f64 / factor).round() as u64);
                        }
                        _ => {}
                    }
                }
            }
        }
        let done = if !plain && self.p.services[s].kube.is_some() {
            self.pod_done(s, self.reqs[req as usize].replica, now, work, off)
        } else if !hot.faulted {
            now.after(work).after(off)
        } else {
            self.progress(s, now, work.after(off))
        };
        self.queue.push(done, Event::ServiceDone { req, token });
    }

    /// When `work` started at `now` is done, if the service's pauses stop the clock.
    pub(super) fn progress(&self, s: usize, now: SimTime, work: SimTime) -> SimTime {
        let mut t = now;
        let mut left = work;
        // Pauses are few and sorted by start once, in `Sim::new`.
        for &(start, end) in &self.services[s].pauses {
            if end <= t {
                continue;
            }
            if start <= t {
                t = end;
                continue;
            }
            if t.after(left) <= start {
                break;
            }
            left = SimTime(left.0 - (start.0 - t.0));
            t = end;
        }
        t.after(left)
    }

    pub(super) fn service_done(&mut self, now: SimTime, req: u32) {
        let s = self.reqs[req as usize].service as usize;
        let p = self.p;
        let spec = &p.services[s];
        let hot = self.hot[s];
        let plain = hot.plain;
        let error_rate = match &spec.writes {
            _ if plain => hot.error_rate,
            Some(w) => {
                let counted = self.reqs[req as usize].counted;
                self.ds.error_rate(s, req, w, spec.error_rate, counted)
            }
            None => match spec.kube {
                // A pod's version may have its own.
                Some(_) => super::pods::error_rate(
                    p,
                    spec.error_rate,
                    &self.services[s],
                    self.reqs[req as usize].replica,
                ),
                None => spec.error_rate,
            },
        };
        let state = &mut self.services[s];
        let mut failed = error_rate > 0.0 && state.rng_error.random::<f64>() < error_rate;
        if failed && !plain && spec.writes.is_some() {
            let counted = self.reqs[req as usize].counted;
            self.ds.write_failed(s, req, counted);
        }
        let state = &mut self.services[s];
        if !failed && hot.faulted {
            for &f in &state.faults {
                let f = &p.faults[f as usize];
                if let FaultKind::Errors { rate, status, .. } = f.kind {
                    if f.start <= now && now < f.end && state.rng_fault.random::<f64>() < rate {
                        failed = true;
                        if status != crate::mech::retry::STATUS_ERROR {
                            self.reqs[req as usize].status = status;
                        }
                    }
                }
            }
        }
        if failed {
            self.answer(now, req, Outcome::Error);
        } else {
            self.next_call(now, req);
        }
    }

    /// Whether a service with `drop_expired` should stop working on `req`.
    #[inline]
    pub(super) fn expired(&self, now: SimTime, req: u32) -> bool {
        let r = &self.reqs[req as usize];
        self.hot[r.service as usize].drop_expired && (r.abandoned || now >= r.deadline)
    }

    /// A server of `replica` is free: give it to the next waiting request worth serving.
    // Inlined into `settle_answer`, its only caller: a call per answer otherwise.
    #[inline(always)]
    pub(super) fn serve_next(&mut self, now: SimTime, s: usize, replica: u32) {
        let p = self.p;
        let discipline = self.hot[s].discipline;
        loop {
            let state = &mut self.services[s].replicas[replica as usize];
            let lifo = match discipline {
                Discipline::Fifo => false,
                Discipline::Lifo => true,
                Discipline::AdaptiveLifo => now.since(state.nonempty_since) > STANDING_QUEUE,
            };
            let next = if lifo {
                state.waiting.pop_back()
            } else {
                state.waiting.pop_front()
            };
            let Some(next) = next else {
                state.busy -= 1;
                return;
            };
            if state.waiting.is_empty() {
                state.nonempty_since = now;
            }
            let r = &self.reqs[next as usize];
            let (arrived, counted) = (r.arrived, r.counted);
            let waited = now.since(arrived);
            // As `expired`, with the spec at hand.
            let spec = &p.services[s];
            let stale = spec.queue_timeout.is_some_and(|t| waited > t)
                || (spec.drop_expired && (r.abandoned || now >= r.deadline));
            if stale {
                self.services[s].replicas[replica as usize].held -= 1;
                self.rec
                    .dropped_waiting(s, now, Outcome::Shed, waited, counted);
                self.end(now, next, Outcome::Shed);
                continue;
            }
            self.rec.dequeued(s, now, waited, counted);
            self.begin_service(now, next);
            return;
        }
    }

    /// The request answers: record, free its server and slot, wake its waiter.
    pub(super) fn answer(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        // A two-phase commit coordinator logs its decision, then runs the second phase.
        if outcome == Outcome::Ok && self.twopc.active() && self.twopc_decide(now, req) {
            return;
        }
        // A success writes its state, pushes its jobs and publishes its messages; a
        // publish the broker refuses fails the request.
        let s = self.reqs[req as usize].service as usize;
        let outcome = if outcome == Outcome::Ok && self.hot[s].effects {
            match self.succeeded(now, req) {
                Some(o) => o,
                // Waiting for the replicas' ack, still holding its server.
                None => return,
            }
        } else {
            outcome
        };
        self.settle_answer(now, req, outcome);
    }

    /// The second half of [`Sim::answer`], once the outcome is known.
    #[inline(always)]
    pub(super) fn settle_answer(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        // Fields, not a copy of the whole request: this runs once per request.
        let r = &self.reqs[req as usize];
        let (s, client, counted, replica) = (r.service as usize, r.client, r.counted, r.replica);
        let (abandoned, degraded, arrived) = (r.abandoned, r.degraded, r.arrived);
        // The work succeeded (and changed the world) even if nobody waits for the answer.
        if outcome == Outcome::Ok && client != NONE && self.services[s].tracked != NONE {
            self.side_effect(s, client, counted);
        }
        let outcome = if abandoned { Outcome::Timeout } else { outcome };
        let sojourn = now.since(arrived);
        self.rec
            .answered(s, now, outcome, sojourn, counted, degraded);
        let plain = self.hot[s].plain;
        let state = &mut self.services[s].replicas[replica as usize];
        let held = state.held;
        state.held -= 1;
        if let Some(limit) = state.limit.as_mut() {
            let dropped = matches!(outcome, Outcome::Timeout | Outcome::Shed);
            limit.on_sample(sojourn, held, dropped);
        }
        self.serve_next(now, s, replica);
        if !plain {
            self.pod_settled(s, replica);
            self.parts
                .answered(s, replica, req, now, sojourn, outcome, counted);
        }
        self.end_inline(now, req, outcome);
    }

    /// Counts a successful side effect under the request's idempotency key.
    fn side_effect(&mut self, s: usize, client: u32, counted: bool) {
        let t = self.services[s].tracked as usize;
        let slot = &mut self.effects[client as usize * self.tracked + t];
        *slot = slot.saturating_add(1);
        let kind = match (*slot, self.p.services[s].idempotent) {
            (1, _) => Effect::First,
            (_, true) => Effect::Deduplicated,
            (_, false) => Effect::Duplicate,
        };
        self.rec.side_effect(s, counted, kind);
    }

    /// The request has ended (its counts and server are settled): tell the observer, free
    /// the slot, and wake whoever waits for it.
    pub(super) fn end(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        self.end_inline(now, req, outcome)
    }

    /// [`Sim::end`], inlined into `settle_answer`: a call per answer otherwise.
    #[inline(always)]
    fn end_inline(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        // `outcome` is final: `answer` has already turned an abandoned answer into a
        // timeout, and a shed or crashed request never answered.
        if self.ds.active {
            // A cache-aside leader that dies takes its waiters down with it.
            self.store_end(now, req);
        }
        let r = &self.reqs[req as usize];
        let (service, child, order, lost_publish) = (r.service, r.child, r.order, r.lost_publish);
        let replica = r.replica;
        let (waiter, arrived, counted) = (r.waiter, r.arrived, r.counted);
        // The HTTP status its waiter sees: an `Errors` fault's own, or the outcome's.
        let status = match r.status {
            0 => crate::mech::retry::status_of(outcome),
            s => s,
        };
        let settle = r.sent || r.breaker_permit || r.bulkhead_permit || r.retrying;
        self.obs.outcome(now, ServiceId(service), r.uid, outcome);
        if child != NONE {
            // Killed while waiting for a call: its callee works on for nobody.
            self.detach(child);
        }
        if settle {
            self.settle_attempt(now, req, Outcome::Error, crate::mech::retry::STATUS_ERROR);
        }
        self.release(req);
        let mut job_outcome = outcome;
        if order != crate::metrics::ledger::NO_ORDER {
            if self.twopc.coordinates(service) {
                self.twopc_decided(now, self.reqs[req as usize].uid, outcome);
            }
            if self.sagas.orchestrates(service) && self.saga_ended(now, order, outcome) {
                // The orchestrator ended the saga: its job is done, not to be redelivered.
                job_outcome = Outcome::Ok;
            }
            let cause = self.msg.request_cause(service, outcome, lost_publish);
            self.ledger.drop_carrier(order, cause);
        }
        match waiter {
            Waiter::Nobody => {}
            Waiter::Worker(w) => self.job_done(now, w, job_outcome),
            Waiter::Consumer(c) => self.delivery_done(now, c, outcome),
            Waiter::Caller(caller) => {
                if !self.links.is_empty() && self.answer_lost(service, replica, caller) {
                    // Its caller never hears back: it waits for its call's timeout.
                    self.reqs[caller as usize].child = NONE;
                } else {
                    self.attempt_ended(now, caller, outcome.seen_by_caller(), status, true)
                }
            }
            Waiter::Client(client) => {
                self.client_attempt_ended(now, client, outcome.seen_by_caller(), status)
            }
            // As `client_finish` would: the client sent the root request when it arrived.
            // `client_done` maps the outcome to what the client sees.
            Waiter::Open(w) => {
                self.rec
                    .client_done(w as usize, outcome, now.since(arrived), counted)
            }
        }
    }

    /// The request dies where it is (its worker or consumer was killed): in service, it
    /// frees its server; waiting, it leaves the waiting room.
    pub(super) fn kill(&mut self, now: SimTime, req: u32) {
        let r = self.reqs[req as usize];
        if r.in_service {
            self.answer(now, req, Outcome::Crashed);
            return;
        }
        let s = r.service as usize;
        let replica = &mut self.services[s].replicas[r.replica as usize];
        replica.waiting.retain(|&w| w != req);
        replica.held -= 1;
        self.pod_settled(s, r.replica);
        self.rec
            .dropped_waiting(s, now, Outcome::Crashed, now.since(r.arrived), r.counted);
        self.end(now, req, Outcome::Crashed);
    }

    /// Nobody waits for `req` any more.
    pub(super) fn detach(&mut self, req: u32) {
        let c = &mut self.reqs[req as usize];
        c.waiter = Waiter::Nobody;
        c.abandoned = true;
    }
}
