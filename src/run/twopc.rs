//! Two-phase commit of an order's steps (Gray, "Notes on Data Base Operating Systems",
//! 1978; Bernstein, Hadzilacos and Goodman, *Concurrency Control and Recovery in
//! Database Systems*, 1987, ch. 7; the presumed-abort variant of Mohan, Lindsay and
//! Obermarck, 1986).
//!
//! 1. The coordinator's request for an order calls the participants (the steps). A
//!    participant that succeeds has *prepared* (PostgreSQL's `PREPARE TRANSACTION`): its
//!    step is not done yet, and it keeps one of its servers (the connection, the row
//!    locks) until the outcome is known, so later requests to it queue behind that server
//!    or are refused.
//! 2. Every prepare succeeded: the coordinator logs its commit decision, then spends
//!    `commit_delay` (the second phase: `COMMIT PREPARED` to each participant, done and
//!    acknowledged) still holding its own server, then answers; the prepared steps are
//!    done and their servers freed. Any other end before the decision (an error, a failed
//!    or timed-out prepare) is an abort: the prepared steps are undone and freed at once,
//!    nothing is done. Once logged, the decision stands whatever happens to the request
//!    (its caller giving up included).
//! 3. A coordinator that crashes with participants prepared leaves them *blocked* (in
//!    doubt: they may neither commit nor abort on their own) until it is back, at the end
//!    of its crash fault. It then reads its log: a logged decision is carried out (the
//!    steps commit and the order is done, though its client was told it failed), and
//!    without one it aborts them (presumed abort: no log record means abort).
//! 4. A prepare answered after the coordinator gave up on it (nobody waits for it) is
//!    aborted at once: no decision can come for it.
//!
//! So every order ends with all its steps committed or none; nothing is ever half done.
//! `two_phase` in the orders summary counts participants by fate, the blocked ones and
//! their time blocked, and each participant's time in doubt. Left out: a participant that
//! crashes while prepared (it keeps its server until the decision), and a step that
//! writes to a replicated database (its write is acknowledged at prepare).

use super::{Event, Observer, Sim, Waiter, NONE};
use crate::engine::SimTime;
use crate::metrics::histogram::LatencyHistogram;
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
    prepared_at: SimTime,
    /// Blocked since (its coordinator crashed), or `SimTime::MAX`.
    blocked_since: SimTime,
    /// Its coordinator logged the commit decision.
    decided: bool,
}

/// Two-phase commit state of a run.
pub(super) struct TwoPhase {
    /// The coordinator service, or `NONE`.
    coordinator: u32,
    commit_delay: SimTime,
    /// Prepared participants awaiting a decision, in the order they prepared.
    prepared: Vec<Prepared>,
    sum: TwoPhaseSummary,
    in_doubt: LatencyHistogram,
}

impl TwoPhase {
    pub fn new(p: &Platform) -> Self {
        let t = p.orders.as_ref().and_then(|o| o.two_phase);
        TwoPhase {
            coordinator: t.map_or(NONE, |t| t.coordinator.0),
            commit_delay: t.map_or(SimTime::ZERO, |t| t.commit_delay),
            prepared: Vec::new(),
            sum: TwoPhaseSummary::default(),
            in_doubt: LatencyHistogram::default(),
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
        self.active().then(|| TwoPhaseSummary {
            in_doubt_ms: self.in_doubt.summary_ms(),
            ..self.sum.clone()
        })
    }
}

impl<O: Observer> Sim<'_, O> {
    /// Participant request `req` succeeded on step `step` of its order. Returns whether
    /// two-phase commit took the step over (prepared or aborted it): `false` leaves it
    /// to be done as any step is.
    pub(super) fn twopc_prepared(&mut self, now: SimTime, req: u32, step: u32) -> bool {
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
                    prepared_at: now,
                    blocked_since: SimTime::MAX,
                    decided: false,
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

    /// The coordinator's request `req` succeeded on every prepare: it logs its commit
    /// decision. Returns whether it now spends `commit_delay` on the second phase (a
    /// [`Event::CommitDue`] answers it then); `false` lets it answer at once (no delay,
    /// no participant, or the decision was logged already).
    pub(super) fn twopc_decide(&mut self, now: SimTime, req: u32) -> bool {
        let r = &self.reqs[req as usize];
        if !self.twopc.coordinates(r.service) {
            return false;
        }
        let (uid, token) = (r.uid, r.generation);
        let mut logged = false;
        for p in self.twopc.prepared.iter_mut() {
            if p.coordinator == uid && !p.decided {
                p.decided = true;
                logged = true;
            }
        }
        let delay = self.twopc.commit_delay;
        if !logged || delay == SimTime::ZERO {
            return false;
        }
        self.queue
            .push(now.after(delay), Event::CommitDue { req, token });
        true
    }

    /// The second phase of coordinator request `req` is over (void unless `token` is its
    /// generation: a crash ended it first): it answers, committing its participants.
    pub(super) fn commit_due(&mut self, now: SimTime, req: u32, token: u32) {
        let r = &self.reqs[req as usize];
        if r.live && r.generation == token {
            self.answer(now, req, Outcome::Ok);
        }
    }

    /// The coordinator's request `uid` ended in `outcome`: carry out its logged decision,
    /// abort, or (crashed) leave its participants blocked until the coordinator is back.
    pub(super) fn twopc_decided(&mut self, now: SimTime, uid: u64, outcome: Outcome) {
        let Some(first) = self.twopc.prepared.iter().find(|p| p.coordinator == uid) else {
            return;
        };
        // All of a request's participants are decided together.
        let decided = first.decided;
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
        self.twopc_resolve(now, uid, decided);
    }

    /// The coordinator is back after its crash and finishes request `uid` by its log: the
    /// decision it logged, or abort when none was (presumed abort).
    pub(super) fn coordinator_back(&mut self, now: SimTime, uid: u64) {
        let Some(first) = self.twopc.prepared.iter().find(|p| p.coordinator == uid) else {
            return;
        };
        let commit = first.decided;
        let n = self
            .twopc
            .prepared
            .iter()
            .filter(|p| p.coordinator == uid)
            .count() as u64;
        if commit {
            self.twopc.sum.committed_after_recovery += n;
            self.twopc.sum.orders_committed_after_recovery += 1;
        } else {
            self.twopc.sum.aborted_after_recovery += n;
        }
        self.twopc_resolve(now, uid, commit);
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
            self.twopc.in_doubt.record(now.since(p.prepared_at).0);
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
