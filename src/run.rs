//! The run loop: gives the engine's events their meaning for services, calls and clients.
//!
//! A request's life at a service:
//! 1. It arrives at a replica chosen by the service's balancer. A free server takes it at
//!    once; otherwise it waits in the replica's FIFO waiting room; if that is full it is
//!    rejected on the spot.
//! 2. It holds its server for a service time drawn from the service's distribution. It may
//!    then fail with the service's `error_rate`.
//! 3. Still holding the server (thread-per-request), it makes its calls in order, each
//!    waiting for the callee's answer or the call's timeout. A failed hard call fails the
//!    request (`DependencyFailed`); a failed soft call leaves it degraded and it goes on.
//! 4. It answers, frees its server (the next waiting request takes it), and wakes its
//!    waiter: the calling request or the client.
//!
//! A caller that times out stops waiting, but the callee does not know: it finishes the
//! abandoned request anyway (its outcome is then `Timeout`). That wasted work is what
//! makes real overloads worse, so it is simulated, not skipped.
//!
//! The loop itself allocates nothing per event once the request slab, the waiting rooms
//! and the heap have grown to the run's peak.

use crate::engine::{stream, EventQueue, SimTime, Stream};
use crate::metrics::{Outcome, Recorder, Summary};
use crate::model::schedule::ArrivalCursor;
use crate::model::{Balancer, Dependency, Platform, ServiceId, WorkloadKind};
use rand::Rng;
use std::collections::VecDeque;

/// Limits that keep a run bounded whatever the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop with an error after this many events.
    pub max_events: u64,
    /// Stop with an error when this many requests are in the platform at once (an
    /// overloaded platform with unbounded queues would otherwise eat all memory).
    pub max_in_flight: u32,
    /// Most rows in the time series; longer runs get proportionally wider windows.
    pub max_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 20_000_000_000,
            max_in_flight: 5_000_000,
            max_rows: 3_600,
        }
    }
}

/// Why a run could not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("cannot finish the run: more than {limit} events by {at} of virtual time; shorten `duration` or raise --max-events")]
    TooManyEvents { limit: u64, at: SimTime },
    #[error("cannot finish the run: more than {limit} requests in the platform at once at {at} (it is overloaded and its queues are unbounded); set `queue_capacity`, timeouts, or lower the load, or raise --max-in-flight")]
    TooManyInFlight { limit: u32, at: SimTime },
}

/// Watches a run from inside without changing it: the property tests check invariants
/// through it, and traces are written through it. Every method does nothing by default,
/// so the unobserved run pays nothing.
pub trait Observer {
    /// An event is about to be handled at `now`.
    #[inline]
    fn event(&mut self, _now: SimTime) {}
    /// Request `uid` arrived at `service`.
    #[inline]
    fn arrival(&mut self, _now: SimTime, _service: ServiceId, _uid: u64) {}
    /// Request `uid` ended at `service`.
    #[inline]
    fn outcome(&mut self, _now: SimTime, _service: ServiceId, _uid: u64, _outcome: Outcome) {}
}

impl Observer for () {}

/// Runs `platform` to its horizon.
pub fn run(platform: &Platform, limits: Limits) -> Result<Summary, RunError> {
    run_observed(platform, limits, &mut ())
}

/// Runs `platform` to its horizon, telling `observer` what happens.
pub fn run_observed<O: Observer>(
    platform: &Platform,
    limits: Limits,
    observer: &mut O,
) -> Result<Summary, RunError> {
    let mut sim = Sim::new(platform, limits, observer);
    sim.start();
    sim.run_loop()?;
    Ok(sim.finish())
}

/// Width of a time-series row: the scenario's window, times the smallest whole factor
/// that keeps the series within `max_rows` rows.
pub fn effective_window(p: &Platform, max_rows: u64) -> SimTime {
    let rows = p.duration.0.div_ceil(p.window.0);
    let factor = rows.div_ceil(max_rows.max(1)).max(1);
    SimTime(p.window.0.saturating_mul(factor))
}

#[derive(Debug, Clone, Copy)]
enum Event {
    /// The next arrival of an open workload.
    Arrival { workload: u32 },
    /// A closed workload's user has finished thinking.
    Think { workload: u32, user: u32 },
    /// A request's service time is over.
    ServiceDone { req: u32 },
    /// A call's timeout; void unless the caller's `call_token` still matches.
    CallTimeout { req: u32, token: u32 },
    /// A client's timeout; void unless the request's `generation` still matches.
    ClientTimeout { req: u32, token: u32 },
    /// The end of a time-series window.
    Window,
    /// The end of the warmup.
    WarmupEnd,
}

/// Who waits for a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiter {
    /// Nobody: the waiter gave up.
    Nobody,
    /// The request in this slot, which called it.
    Caller(u32),
    /// A client of a workload (`user` matters for closed workloads).
    Client { workload: u32, user: u32 },
}

const NO_CHILD: u32 = u32::MAX;

/// One request at one service. Slots are reused; the two tokens only ever grow, so a
/// timer that outlives its request (or its call) can tell.
#[derive(Debug, Clone, Copy)]
struct Request {
    uid: u64,
    arrived: SimTime,
    service: u32,
    replica: u32,
    waiter: Waiter,
    /// The callee this request waits for, or `NO_CHILD`.
    child: u32,
    /// Grows when a call ends or the slot is freed.
    call_token: u32,
    /// Grows when the slot is freed.
    generation: u32,
    next_call: u32,
    counted: bool,
    degraded: bool,
    abandoned: bool,
}

#[derive(Debug, Default)]
struct Replica {
    busy: u32,
    /// Requests held: waiting or in service (what least-outstanding balancing compares).
    held: u32,
    waiting: VecDeque<u32>,
}

struct ServiceState {
    replicas: Vec<Replica>,
    next_rr: u32,
    rng_time: Stream,
    rng_error: Stream,
    rng_balance: Stream,
}

struct WorkloadState {
    cursor: ArrivalCursor,
    rng: Stream,
}

struct Sim<'a, O: Observer> {
    p: &'a Platform,
    limits: Limits,
    obs: &'a mut O,
    queue: EventQueue<Event>,
    reqs: Vec<Request>,
    free: Vec<u32>,
    live: u32,
    next_uid: u64,
    services: Vec<ServiceState>,
    workloads: Vec<WorkloadState>,
    rec: Recorder,
    window: SimTime,
    events: u64,
}

impl<'a, O: Observer> Sim<'a, O> {
    fn new(p: &'a Platform, limits: Limits, obs: &'a mut O) -> Self {
        let services = p
            .services
            .iter()
            .map(|s| ServiceState {
                replicas: (0..s.replicas).map(|_| Replica::default()).collect(),
                next_rr: 0,
                rng_time: stream(p.seed, &format!("service/{}/service_time", s.name)),
                rng_error: stream(p.seed, &format!("service/{}/errors", s.name)),
                rng_balance: stream(p.seed, &format!("service/{}/balancer", s.name)),
            })
            .collect();
        let workloads = p
            .workloads
            .iter()
            .map(|w| WorkloadState {
                cursor: ArrivalCursor::default(),
                rng: stream(p.seed, &format!("workload/{}", w.name)),
            })
            .collect();
        let window = effective_window(p, limits.max_rows);
        let rows = p.duration.0.div_ceil(window.0) as usize;
        Sim {
            p,
            limits,
            obs,
            queue: EventQueue::new(),
            reqs: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            live: 0,
            next_uid: 0,
            services,
            workloads,
            rec: Recorder::new(p, rows),
            window,
            events: 0,
        }
    }

    /// Schedules the first event of every source.
    fn start(&mut self) {
        if self.p.warmup > SimTime::ZERO {
            self.queue.push(self.p.warmup, Event::WarmupEnd);
        }
        self.queue.push(self.window, Event::Window);
        let p = self.p;
        for (w, wl) in p.workloads.iter().enumerate() {
            let state = &mut self.workloads[w];
            match &wl.kind {
                WorkloadKind::Open(schedule) => {
                    if let Some(t) = state.cursor.next(schedule, SimTime::ZERO, &mut state.rng) {
                        self.queue.push(t, Event::Arrival { workload: w as u32 });
                    }
                }
                WorkloadKind::Closed { users, think_time } => {
                    // Users start mid-thought, so they do not all send at time zero.
                    for user in 0..*users {
                        let t = think_time.sample(&mut state.rng);
                        self.queue.push(
                            t,
                            Event::Think {
                                workload: w as u32,
                                user,
                            },
                        );
                    }
                }
            }
        }
    }

    fn run_loop(&mut self) -> Result<(), RunError> {
        let horizon = self.p.duration;
        while let Some((now, event)) = self.queue.pop() {
            if now >= horizon {
                break;
            }
            self.events += 1;
            if self.events > self.limits.max_events {
                return Err(RunError::TooManyEvents {
                    limit: self.limits.max_events,
                    at: now,
                });
            }
            self.obs.event(now);
            self.handle(now, event);
            if self.live > self.limits.max_in_flight {
                return Err(RunError::TooManyInFlight {
                    limit: self.limits.max_in_flight,
                    at: now,
                });
            }
        }
        Ok(())
    }

    fn finish(self) -> Summary {
        let mut summary = self.rec.finish(self.p, self.p.duration, self.events);
        summary.window_s = self.window.as_secs_f64();
        summary
    }

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event) {
        match event {
            Event::Arrival { workload } => self.open_arrival(now, workload),
            Event::Think { workload, user } => self.send(now, workload, user),
            Event::ServiceDone { req } => self.service_done(now, req),
            Event::CallTimeout { req, token } => {
                if self.reqs[req as usize].call_token == token {
                    self.call_timed_out(now, req);
                }
            }
            Event::ClientTimeout { req, token } => {
                if self.reqs[req as usize].generation == token {
                    self.client_timed_out(now, req);
                }
            }
            Event::Window => {
                self.rec.close_window(now);
                self.queue.push(now.after(self.window), Event::Window);
            }
            Event::WarmupEnd => self.rec.end_warmup(now),
        }
    }

    // ---- clients -------------------------------------------------------------------

    fn open_arrival(&mut self, now: SimTime, w: u32) {
        self.send(now, w, 0);
        let p = self.p;
        let WorkloadKind::Open(schedule) = &p.workloads[w as usize].kind else {
            unreachable!("arrival events come from open workloads only")
        };
        let state = &mut self.workloads[w as usize];
        if let Some(t) = state.cursor.next(schedule, now, &mut state.rng) {
            self.queue.push(t, Event::Arrival { workload: w });
        }
    }

    /// A client of workload `w` sends a request to the workload's target.
    fn send(&mut self, now: SimTime, w: u32, user: u32) {
        let wl = &self.p.workloads[w as usize];
        let (target, timeout) = (wl.target.0, wl.timeout);
        let counted = now >= self.p.warmup;
        self.rec.client_sent(w as usize, counted);
        let waiter = Waiter::Client { workload: w, user };
        match self.arrive(now, target, waiter) {
            Some(req) => {
                if let Some(timeout) = timeout {
                    let token = self.reqs[req as usize].generation;
                    self.queue
                        .push(now.after(timeout), Event::ClientTimeout { req, token });
                }
            }
            None => self.client_done(now, w, user, Outcome::Rejected, now),
        }
    }

    /// The client gets its answer (or gives up); a closed user then thinks again.
    fn client_done(&mut self, now: SimTime, w: u32, user: u32, outcome: Outcome, sent: SimTime) {
        let counted = sent >= self.p.warmup;
        self.rec
            .client_done(w as usize, outcome, now.since(sent), counted);
        let p = self.p;
        if let WorkloadKind::Closed { think_time, .. } = &p.workloads[w as usize].kind {
            let t = think_time.sample(&mut self.workloads[w as usize].rng);
            self.queue
                .push(now.after(t), Event::Think { workload: w, user });
        }
    }

    fn client_timed_out(&mut self, now: SimTime, req: u32) {
        let r = &mut self.reqs[req as usize];
        let Waiter::Client { workload, user } = r.waiter else {
            return;
        };
        r.waiter = Waiter::Nobody;
        r.abandoned = true;
        let sent = r.arrived;
        self.client_done(now, workload, user, Outcome::Timeout, sent);
    }

    // ---- services ------------------------------------------------------------------

    /// A request arrives at service `s`. Returns its slot, or `None` if it was rejected
    /// (it then never held a slot, and its waiter must be told at once).
    fn arrive(&mut self, now: SimTime, s: u32, waiter: Waiter) -> Option<u32> {
        let counted = now >= self.p.warmup;
        let uid = self.next_uid;
        self.next_uid += 1;
        self.obs.arrival(now, ServiceId(s), uid);
        self.rec.arrival(s as usize, counted);
        let p = self.p;
        let spec = &p.services[s as usize];
        let replica = self.pick_replica(s);
        let state = &mut self.services[s as usize].replicas[replica as usize];
        let queued = state.busy >= spec.concurrency;
        if queued
            && spec
                .queue_capacity
                .is_some_and(|k| state.waiting.len() >= k as usize)
        {
            self.rec.rejected(s as usize, counted);
            self.obs.outcome(now, ServiceId(s), uid, Outcome::Rejected);
            return None;
        }
        let req = self.alloc(Request {
            uid,
            arrived: now,
            service: s,
            replica,
            waiter,
            child: NO_CHILD,
            call_token: 0,
            generation: 0,
            next_call: 0,
            counted,
            degraded: false,
            abandoned: false,
        });
        let state = &mut self.services[s as usize].replicas[replica as usize];
        state.held += 1;
        self.rec.admitted(s as usize, now, queued, counted);
        if queued {
            state.waiting.push_back(req);
        } else {
            state.busy += 1;
            self.begin_service(now, req);
        }
        Some(req)
    }

    fn pick_replica(&mut self, s: u32) -> u32 {
        let p = self.p;
        let spec = &p.services[s as usize];
        let n = spec.replicas;
        if n == 1 {
            return 0;
        }
        let state = &mut self.services[s as usize];
        match spec.balancer {
            Balancer::RoundRobin => {
                let r = state.next_rr;
                state.next_rr = (r + 1) % n;
                r
            }
            Balancer::Random => state.rng_balance.random_range(0..n),
            Balancer::LeastOutstanding => {
                let a = state.rng_balance.random_range(0..n);
                let b = (a + state.rng_balance.random_range(1..n)) % n;
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

    /// The request has a server: draw its service time.
    #[inline]
    fn begin_service(&mut self, now: SimTime, req: u32) {
        let s = self.reqs[req as usize].service as usize;
        let t = self.p.services[s]
            .service_time
            .sample(&mut self.services[s].rng_time);
        self.queue.push(now.after(t), Event::ServiceDone { req });
    }

    fn service_done(&mut self, now: SimTime, req: u32) {
        let s = self.reqs[req as usize].service as usize;
        let p = self.p;
        let spec = &p.services[s];
        if spec.error_rate > 0.0 && self.services[s].rng_error.random::<f64>() < spec.error_rate {
            self.answer(now, req, Outcome::Error);
        } else {
            self.next_call(now, req);
        }
    }

    /// Makes the request's next call, or answers when none is left.
    fn next_call(&mut self, now: SimTime, req: u32) {
        let p = self.p;
        loop {
            let r = &self.reqs[req as usize];
            let calls = &p.services[r.service as usize].calls;
            let Some(call) = calls.get(r.next_call as usize) else {
                self.answer(now, req, Outcome::Ok);
                return;
            };
            match self.arrive(now, call.to.0, Waiter::Caller(req)) {
                Some(child) => {
                    let r = &mut self.reqs[req as usize];
                    r.child = child;
                    if let Some(timeout) = call.timeout {
                        let token = r.call_token;
                        self.queue
                            .push(now.after(timeout), Event::CallTimeout { req, token });
                    }
                    return;
                }
                None => {
                    if !self.call_failed(now, req) {
                        return;
                    }
                }
            }
        }
    }

    /// The current call failed. Returns whether the request goes on to its next call.
    fn call_failed(&mut self, now: SimTime, req: u32) -> bool {
        let p = self.p;
        let r = &mut self.reqs[req as usize];
        let call = &p.services[r.service as usize].calls[r.next_call as usize];
        match call.dependency {
            Dependency::Hard => {
                self.answer(now, req, Outcome::DependencyFailed);
                false
            }
            Dependency::Soft => {
                r.degraded = true;
                r.next_call += 1;
                true
            }
        }
    }

    /// The callee of the request's current call answered.
    fn call_answered(&mut self, now: SimTime, req: u32, ok: bool) {
        let r = &mut self.reqs[req as usize];
        r.child = NO_CHILD;
        r.call_token = r.call_token.wrapping_add(1);
        if ok {
            r.next_call += 1;
            self.next_call(now, req);
        } else if self.call_failed(now, req) {
            self.next_call(now, req);
        }
    }

    fn call_timed_out(&mut self, now: SimTime, req: u32) {
        let child = self.reqs[req as usize].child;
        debug_assert_ne!(child, NO_CHILD, "a live call timer has a callee");
        let c = &mut self.reqs[child as usize];
        c.waiter = Waiter::Nobody;
        c.abandoned = true;
        self.call_answered(now, req, false);
    }

    /// The request answers: record, free its server and slot, wake its waiter.
    fn answer(&mut self, now: SimTime, req: u32, outcome: Outcome) {
        let r = self.reqs[req as usize];
        let outcome = if r.abandoned {
            Outcome::Timeout
        } else {
            outcome
        };
        let s = r.service as usize;
        self.rec
            .answered(s, now, outcome, now.since(r.arrived), r.counted, r.degraded);
        self.obs.outcome(now, ServiceId(r.service), r.uid, outcome);
        let replica = &mut self.services[s].replicas[r.replica as usize];
        replica.held -= 1;
        match replica.waiting.pop_front() {
            Some(next) => {
                let w = &self.reqs[next as usize];
                self.rec.dequeued(s, now, now.since(w.arrived), w.counted);
                self.begin_service(now, next);
            }
            None => replica.busy -= 1,
        }
        self.release(req);
        match r.waiter {
            Waiter::Nobody => {}
            Waiter::Caller(caller) => self.call_answered(now, caller, outcome == Outcome::Ok),
            Waiter::Client { workload, user } => {
                self.client_done(now, workload, user, outcome, r.arrived)
            }
        }
    }

    // ---- request slots -------------------------------------------------------------

    #[inline]
    fn alloc(&mut self, mut r: Request) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                let old = &self.reqs[i as usize];
                r.call_token = old.call_token;
                r.generation = old.generation;
                self.reqs[i as usize] = r;
                i
            }
            None => {
                self.reqs.push(r);
                (self.reqs.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn release(&mut self, req: u32) {
        let r = &mut self.reqs[req as usize];
        r.generation = r.generation.wrapping_add(1);
        r.call_token = r.call_token.wrapping_add(1);
        r.waiter = Waiter::Nobody;
        self.live -= 1;
        self.free.push(req);
    }
}
