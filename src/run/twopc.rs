//! Two-phase commit of an order's steps (Gray, "Notes on Data Base Operating Systems",
//! 1978; Bernstein, Hadzilacos and Goodman, *Concurrency Control and Recovery in
//! Database Systems*, 1987, ch. 7; the presumed-abort variant of Mohan, Lindsay and
//! Obermarck, 1986).
//!
//! 1. The coordinator's request for an order calls the participants (the steps). A
//!    participant that succeeds has *prepared*: its step is not done yet, and it keeps
//!    one of its servers (the connection, the row locks) until the outcome is known, so
//!    later requests to it queue behind that server or are refused.
//! 2. The coordinator's request succeeding is the commit (its decision logged): every
//!    prepared step is done, and its servers are freed. Any other end but a crash (an
//!    error, a failed or timed-out prepare) is an abort: the prepared steps are undone
//!    and freed at once, nothing is done.
//! 3. A coordinator that crashes after some participant prepared and before it decided
//!    leaves those participants *blocked* (in doubt: they may neither commit nor abort on
//!    their own) until the coordinator is back, at the end of its crash fault. Its log
//!    then holds no decision, so it aborts them (presumed abort). `two_phase` in the
//!    orders summary counts them and the time they stayed blocked.
//! 4. A prepare answered after the coordinator gave up on it (nobody waits for it) is
//!    aborted at once: no decision can come for it.
//!
//! So every order ends completed (all steps committed) or refused with nothing done;
//! nothing is ever half done. Left out: a participant that crashes while prepared (it
//! keeps its server until the decision), a coordinator crash after its decision was
//! logged (its request succeeds or crashes as a whole), and a step that writes to a
//! replicated database (its write is acknowledged at prepare).

use super::{Event, Observer, Sim, Waiter, NONE};
use crate::engine::SimTime;
use crate::metrics::summary::TwoPhaseSummary;
use crate::metrics::Outcome;
use crate::model::{FaultKind, Platform};

/// A participant prepared for a coordinator's request, holding one of its servers.
#[derive(Debug, Clone, Copy)]
struct Prepared {
    /// The coordinator's request (its uid: request slots are reused).
    coordinator: u64,
    order: u32,
    step: u32,
    service: u32,
    replica: u32,
    /// Blocked since (its coordinator crashed), or `SimTime::MAX`.
    blocked_since: SimTime,
}

/// Two-phase commit state of a run.
pub(super) struct TwoPhase {
    /// The coordinator service, or `NONE`.
    coordinator: u32,
    /// Prepared participants awaiting a decision, in the order they prepared.
    prepared: Vec<Prepared>,
    sum: TwoPhaseSummary,
}

impl TwoPhase {
    pub fn new(p: &Platform) -> Self {
        let coordinator = p
            .orders
            .as_ref()
            .and_then(|o| o.two_phase)
            .map_or(NONE, |c| c.0);
        TwoPhase {
            coordinator,
            prepared: Vec::new(),
            sum: TwoPhaseSummary::default(),
        }
    }

    #[inline]
    pub fn active(&self) -> bool {
        self.coordinator != NONE
    }

    /// Whether `service` coordinates the commits.
    #[inline]
    pub fn coordinates(&self, service: u32) -> bool {
        self.coordinator == service
    }

    /// The summary, if the scenario runs two-phase commit.
    pub fn summary(&self) -> Option<TwoPhaseSummary> {
        self.active().then(|| self.sum.clone())
    }
}

impl<O: Observer> Sim<'_, O> {
    /// Participant request `req` succeeded on step `step` of its order. Returns whether
    /// two-phase commit took the step over (prepared or aborted it): `false` leaves it
    /// to be done as any step is.
    pub(super) fn twopc_prepared(&mut self, req: u32, step: u32) -> bool {
        let r = &self.reqs[req as usize];
        let (order, service, replica) = (r.order, r.service, r.replica);
        match r.waiter {
            Waiter::Caller(c) if self.twopc.coordinates(self.reqs[c as usize].service) => {
                let coordinator = self.reqs[c as usize].uid;
                self.twopc.prepared.push(Prepared {
                    coordinator,
                    order,
                    step,
                    service,
                    replica,
                    blocked_since: SimTime::MAX,
                });
                self.twopc.sum.prepared += 1;
                // The server stays taken after this request frees its own.
                self.services[service as usize].replicas[replica as usize].busy += 1;
                true
            }
            // Its coordinator gave up on it: no decision will come, it aborts.
            Waiter::Nobody if r.abandoned => {
                self.twopc.sum.aborted += 1;
                true
            }
            _ => false,
        }
    }

    /// The coordinator's request `uid` for `order` ended in `outcome`: commit, abort, or
    /// (crashed) leave its participants blocked until the coordinator is back.
    pub(super) fn twopc_decided(&mut self, now: SimTime, uid: u64, outcome: Outcome) {
        if !self.twopc.prepared.iter().any(|p| p.coordinator == uid) {
            return;
        }
        if outcome == Outcome::Crashed {
            let c = self.twopc.coordinator;
            let back = self
                .p
                .faults
                .iter()
                .filter(|f| matches!(f.kind, FaultKind::Crash { target, .. } if target.0 == c))
                .filter(|f| f.start <= now && now < f.end)
                .map(|f| f.end)
                .max();
            if let Some(back) = back {
                for p in self
                    .twopc
                    .prepared
                    .iter_mut()
                    .filter(|p| p.coordinator == uid)
                {
                    p.blocked_since = now;
                    self.twopc.sum.blocked_participants += 1;
                }
                self.queue
                    .push(back, Event::CoordinatorBack { coordinator: uid });
                return;
            }
        }
        self.twopc_resolve(now, uid, outcome == Outcome::Ok);
    }

    /// The coordinator is back after its crash and finishes request `uid` by its log:
    /// no decision was logged, so it aborts (presumed abort).
    pub(super) fn coordinator_back(&mut self, now: SimTime, uid: u64) {
        self.twopc_resolve(now, uid, false);
    }

    /// Commits or aborts every participant prepared for coordinator request `uid`, and
    /// frees their servers.
    fn twopc_resolve(&mut self, now: SimTime, uid: u64, commit: bool) {
        let mut i = 0;
        while i < self.twopc.prepared.len() {
            let p = self.twopc.prepared[i];
            if p.coordinator != uid {
                i += 1;
                continue;
            }
            self.twopc.prepared.remove(i);
            if p.blocked_since != SimTime::MAX {
                self.twopc.sum.blocked_s += now.since(p.blocked_since).as_secs_f64();
            }
            if commit {
                self.twopc.sum.committed += 1;
                let idempotent = self.p.services[p.service as usize].idempotent;
                self.step_succeeded(now, p.order, p.step, idempotent);
            } else {
                self.twopc.sum.aborted += 1;
            }
            self.serve_next(now, p.service as usize, p.replica);
        }
    }
}
