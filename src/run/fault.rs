//! Faults that change a service's state at their start and end: crashes and outages,
//! and the cold start after an outage (startup times, readiness, crash loops).
//!
//! After power returns, a service is *ready* only once it has started and all its hard
//! dependencies (hard calls and `startup_deps`) are ready; until then it takes no
//! traffic. How it gets there is the scenario's `recovery`:
//! 1. `Orchestrated`: it begins its startup when all its hard dependencies are ready, so
//!    the platform comes back layer by layer, bottom up.
//! 2. `CrashLoop`: everything is started at once. A service checks its hard dependencies
//!    as it starts (its first connections): if one is not ready it crashes at once and is
//!    restarted after a back-off that doubles from `initial` to `cap` (Kubernetes
//!    CrashLoopBackOff); once they are all ready, its startup runs. It comes back at the
//!    first restart after its dependencies are ready: later than orchestrated recovery by
//!    the back-off the chain incurs.
//!
//! A circle of hard dependencies never comes back: each member waits for another.
//!
//! Faults reach a service's instances through one collection: its replica *slots*
//! (`ServiceState::replicas`), fixed for the run, which hold every instance it will ever
//! have: the initial replicas, and every pod that is autoscaled, rolled out, rolled back,
//! restarted or rescheduled, which is always created in a slot. A crash holds slots down
//! (`Replica::down`), not pods: a whole-service crash (`replicas` omitted, or all of them)
//! holds every slot, so whatever instance runs in one, or starts in one while the crash
//! lasts, is down; a partial crash holds the slots of the first `replicas` live instances
//! at its start, whatever later runs in them. Pauses, latency, errors and capacity are
//! read from the service's list of faults where an instance draws a service time or
//! answers (`service.rs`), whatever the instance's version; spikes are arrivals
//! (`client.rs`).

use super::{Event, Observer, Sim, NONE};
use crate::engine::SimTime;
use crate::metrics::Outcome;
use crate::model::{BreakerAt, Endpoint, FaultKind, Recovery};

/// One outage as it unfolds, for the summary.
pub(super) struct OutageRecord {
    pub fault: u32,
    pub start: SimTime,
    pub power_back: Option<SimTime>,
    pub services: Vec<u32>,
    /// Per service of the platform: when it was ready again.
    pub ready_at: Vec<Option<SimTime>>,
}

/// Whether a link fault acts through the calls' path (`call.rs`, the list `Sim::links`):
/// latency and loss, one-way partitions and partitions with a node or pod end. The
/// messaging side (`messaging.rs`) takes those with a broker end (publishes,
/// deliveries) and the symmetric ones between two services.
pub(super) fn on_calls(k: &FaultKind) -> bool {
    match k {
        FaultKind::LinkLatency { .. } | FaultKind::LinkLoss { .. } => true,
        FaultKind::Partition { a, b, one_way } => {
            let broker = matches!(a, Endpoint::Broker(_)) || matches!(b, Endpoint::Broker(_));
            !broker && (*one_way || a.is_instance() || b.is_instance())
        }
        _ => false,
    }
}

impl<O: Observer> Sim<'_, O> {
    pub(super) fn fault_start(&mut self, now: SimTime, f: u32) {
        self.messaging_fault(now, f, true);
        self.breaker_override(now, f, true);
        let p = self.p;
        match &p.faults[f as usize].kind {
            FaultKind::Crash { target, replicas } => {
                let s = target.0 as usize;
                let slots = self.crash_slots(s, *replicas);
                self.crash(now, s, &slots);
                self.crashed[f as usize] = slots;
                self.refresh_availability(now, s);
                let fault = &p.faults[f as usize];
                let lasts = fault.end.since(fault.start);
                if let Some(at) = self.database_down(now, s, Some(lasts)) {
                    self.queue.push(at, Event::Promoted { fault: f });
                }
            }
            FaultKind::DeletePods { target, pods } => {
                self.delete_pods(now, target.0 as usize, *pods);
            }
            FaultKind::NodeKill { node } => self.node_down(now, *node),
            k if on_calls(k) => self.links.push(f),
            FaultKind::Leak { target, .. } => self.leak_started(now, target.0 as usize),
            FaultKind::Hang { target, pods } => {
                let end = p.faults[f as usize].end;
                self.hang(target.0 as usize, *pods, end);
            }
            FaultKind::Outage { services, .. } => {
                let record = self.outages.len() as u32;
                self.outages.push(OutageRecord {
                    fault: f,
                    start: now,
                    power_back: None,
                    services: services.iter().map(|s| s.0).collect(),
                    ready_at: vec![None; p.services.len()],
                });
                for s in services {
                    let s = s.0 as usize;
                    let slots: Vec<u32> = (0..self.services[s].replicas.len() as u32).collect();
                    self.crash(now, s, &slots);
                    self.hot[s].ready = false;
                    let state = &mut self.services[s];
                    state.powered = false;
                    state.starting = false;
                    state.life_token = state.life_token.wrapping_add(1);
                    state.outage = record;
                    self.refresh_availability(now, s);
                    self.database_down(now, s, None);
                }
            }
            _ => {}
        }
    }

    pub(super) fn fault_end(&mut self, now: SimTime, f: u32) {
        self.messaging_fault(now, f, false);
        self.breaker_override(now, f, false);
        let p = self.p;
        match &p.faults[f as usize].kind {
            FaultKind::Crash { target, .. } => {
                let slots = std::mem::take(&mut self.crashed[f as usize]);
                self.restore(target.0 as usize, &slots);
                self.refresh_availability(now, target.0 as usize);
            }
            FaultKind::NodeKill { node } => self.node_back(now, *node),
            k if on_calls(k) => self.links.retain(|&l| l != f),
            FaultKind::Outage { services, .. } => {
                if let Some(r) = self.outages.iter_mut().rev().find(|r| r.fault == f) {
                    r.power_back = Some(now);
                }
                for s in services {
                    let s = s.0 as usize;
                    let slots: Vec<u32> = (0..self.services[s].replicas.len() as u32).collect();
                    self.restore(s, &slots);
                    let state = &mut self.services[s];
                    state.powered = true;
                    state.backoff = SimTime::ZERO;
                }
                for s in services {
                    match p.recovery {
                        Recovery::Orchestrated => self.try_start(now, s.0),
                        Recovery::CrashLoop { .. } => self.boot(now, s.0),
                    }
                }
            }
            _ => {}
        }
    }

    /// `ForceOpenBreaker` / `DisableBreaker`: Resilience4j's `transitionToForcedOpenState()`
    /// or `transitionToDisabledState()` at the start, `transitionToClosedState()` (CLOSED
    /// with a fresh window) at the end, on every breaker the fault names.
    fn breaker_override(&mut self, now: SimTime, f: u32, starting: bool) {
        let p = self.p;
        let FaultKind::BreakerOverride { at, disable } = p.faults[f as usize].kind else {
            return;
        };
        let set = |edge: &mut super::Edge| {
            if let Some(b) = edge.breaker.as_mut() {
                match (starting, disable) {
                    (true, false) => b.force_open(now),
                    (true, true) => b.disable(now),
                    (false, _) => b.reset(now),
                }
            }
        };
        match at {
            BreakerAt::Call { from, to } => {
                let base = self.edge_base[from.0 as usize] as usize;
                for (k, call) in p.services[from.0 as usize].calls.iter().enumerate() {
                    if call.to == to {
                        set(&mut self.edges[base + k]);
                    }
                }
            }
            BreakerAt::Workload { workload, .. } => {
                set(&mut self.client_edges[workload.0 as usize])
            }
        }
    }

    /// A follower of the database that crash `f` took down is its leader now: the
    /// database serves again (the crash's own end then finds nothing to restore).
    pub(super) fn promoted(&mut self, now: SimTime, f: u32) {
        if let FaultKind::Crash { target, .. } = &self.p.faults[f as usize].kind {
            let slots = std::mem::take(&mut self.crashed[f as usize]);
            self.restore(target.0 as usize, &slots);
            self.refresh_availability(now, target.0 as usize);
        }
    }

    /// Tells the recorder how many replicas of `s` take traffic now.
    pub(super) fn refresh_availability(&mut self, now: SimTime, s: usize) {
        let hot = &self.hot[s];
        let n = if hot.ready { hot.up } else { 0 };
        self.rec.availability(s, now, n);
        self.messaging_availability(now, s);
    }

    fn deps_ready(&self, s: u32) -> bool {
        self.p.services[s as usize]
            .hard_deps
            .iter()
            .all(|d| self.hot[d.0 as usize].ready)
    }

    /// Orchestrated recovery: start `s` if it is down, powered, and its deps are ready.
    fn try_start(&mut self, now: SimTime, s: u32) {
        let state = &self.services[s as usize];
        let ready = self.hot[s as usize].ready;
        if state.powered && !ready && !state.starting && self.deps_ready(s) {
            self.boot(now, s);
        }
    }

    /// Begins a startup, which ends with `Started`. In a crash loop, a service whose
    /// dependencies are not ready crashes at once instead.
    fn boot(&mut self, now: SimTime, s: u32) {
        if matches!(self.p.recovery, Recovery::CrashLoop { .. }) && !self.deps_ready(s) {
            self.crash_loop(now, s);
            return;
        }
        let state = &mut self.services[s as usize];
        state.starting = true;
        let t = self.p.services[s as usize]
            .startup
            .sample(&mut state.rng_startup);
        let token = state.life_token;
        self.queue
            .push(now.after(t), Event::Started { service: s, token });
    }

    pub(super) fn started(&mut self, now: SimTime, s: u32) {
        self.services[s as usize].starting = false;
        if self.deps_ready(s) {
            self.become_ready(now, s);
        } else if matches!(self.p.recovery, Recovery::CrashLoop { .. }) {
            // A dependency went away while it started.
            self.crash_loop(now, s);
        }
        // Orchestrated: it waits; a dependency becoming ready starts it again.
    }

    /// The service crashed on start: restart it after the next back-off.
    fn crash_loop(&mut self, now: SimTime, s: u32) {
        let Recovery::CrashLoop { initial, cap } = self.p.recovery else {
            return;
        };
        let state = &mut self.services[s as usize];
        let wait = if state.backoff == SimTime::ZERO {
            initial
        } else {
            state.backoff.min(cap)
        };
        state.backoff = SimTime(wait.0.saturating_mul(2)).min(cap);
        state.restarts += 1;
        let token = state.life_token;
        self.queue
            .push(now.after(wait), Event::Restart { service: s, token });
    }

    pub(super) fn restart(&mut self, now: SimTime, s: u32) {
        self.boot(now, s);
    }

    fn become_ready(&mut self, now: SimTime, s: u32) {
        self.hot[s as usize].ready = true;
        let state = &mut self.services[s as usize];
        state.backoff = SimTime::ZERO;
        let outage = state.outage;
        if outage != NONE {
            self.outages[outage as usize].ready_at[s as usize] = Some(now);
        }
        self.refresh_availability(now, s as usize);
        if self.p.recovery == Recovery::Orchestrated {
            for i in 0..self.dependents[s as usize].len() {
                let d = self.dependents[s as usize][i];
                self.try_start(now, d);
            }
        }
    }

    /// The slots a crash of `n` replicas of `s` holds down: every slot when `n` covers
    /// the service's replicas (so instances created during the crash are down too), else
    /// those of the first `n` live instances.
    fn crash_slots(&self, s: usize, n: u32) -> Vec<u32> {
        let state = &self.services[s];
        let all = 0..state.replicas.len() as u32;
        if n >= self.p.services[s].replicas {
            return all.collect();
        }
        all.filter(|&i| state.replicas[i as usize].pod != super::pods::Pod::Absent)
            .take(n as usize)
            .collect()
    }

    /// The instances in `slots` of service `s` die: everything they hold fails, at once,
    /// and they stay down (whatever runs in those slots) until [`Sim::restore`].
    fn crash(&mut self, now: SimTime, s: usize, slots: &[u32]) {
        let state = &mut self.services[s];
        let mut dying = vec![false; state.replicas.len()];
        for &i in slots {
            let r = &mut state.replicas[i as usize];
            r.down += 1;
            if r.down == 1 {
                dying[i as usize] = true;
                if r.listed {
                    self.hot[s].up -= 1;
                }
            }
        }
        self.kill_requests(now, s, &dying);
        for (i, &d) in dying.iter().enumerate() {
            if d {
                self.pod_settled(s, i as u32);
            }
        }
    }

    /// Everything replica `slot` of `s` holds fails, at once (its pod was killed).
    pub(super) fn kill_held(&mut self, now: SimTime, s: usize, slot: usize) {
        if self.services[s].replicas[slot].held == 0 {
            return;
        }
        let mut dying = vec![false; self.services[s].replicas.len()];
        dying[slot] = true;
        self.kill_requests(now, s, &dying);
    }

    /// The requests held by the `dying` replicas of `s` fail (`Crashed`), in slot order:
    /// deterministic, and independent of waiting-room order.
    fn kill_requests(&mut self, now: SimTime, s: usize, dying: &[bool]) {
        for (i, r) in self.services[s].replicas.iter_mut().enumerate() {
            if dying[i] {
                r.waiting.clear();
            }
        }
        let victims: Vec<u32> = (0..self.reqs.len() as u32)
            .filter(|&i| {
                let r = &self.reqs[i as usize];
                r.live && r.service as usize == s && dying[r.replica as usize]
            })
            .collect();
        for v in victims {
            let r = self.reqs[v as usize];
            if !r.live {
                continue;
            }
            let sojourn = now.since(r.arrived);
            if r.in_service {
                self.rec
                    .answered(s, now, Outcome::Crashed, sojourn, r.counted, r.degraded);
            } else {
                self.rec
                    .dropped_waiting(s, now, Outcome::Crashed, sojourn, r.counted);
            }
            self.end(now, v, Outcome::Crashed);
        }
        for (i, r) in self.services[s].replicas.iter_mut().enumerate() {
            if dying[i] {
                r.busy = 0;
                r.held = 0;
            }
        }
        for (i, &d) in dying.iter().enumerate() {
            if d {
                // Its threads are dead: the CPU time they had placed is not used.
                self.cpu_forget(s, i);
            }
        }
    }

    fn restore(&mut self, s: usize, slots: &[u32]) {
        let state = &mut self.services[s];
        for &i in slots {
            let r = &mut state.replicas[i as usize];
            r.down -= 1;
            if r.down == 0 && r.listed {
                self.hot[s].up += 1;
            }
        }
    }
}
