//! Orchestrated sagas: an order's steps undone one by one when a later one fails
//! (Garcia-Molina and Salem, "Sagas", 1987; the orchestration form in Richardson,
//! *Microservices Patterns*, ch. 4).
//!
//! 1. The orchestrator's request for an order runs its steps (its calls); a step done
//!    marks it in the ledger as any step does.
//! 2. When that request fails (its own error, a failed call, a timeout, a rejection; not
//!    a crash of the orchestrator, which takes its saga's state with it), the saga is
//!    aborted: every step done so far gets a compensating command to its service
//!    (cancel the order, refund the charge), and the orchestrator acknowledges its job:
//!    the saga is over, there is nothing to redeliver.
//! 3. A compensation succeeds when its service has a ready replica and the command does
//!    not fail (the service's own error rate); otherwise it is retried after `backoff`,
//!    up to `max_attempts`. Each pending compensation carries the order.
//! 4. The order ends `compensated` when every done step was compensated, `inconsistent`
//!    when some never was: compensations off, exhausted, or a step that succeeded after
//!    the abort (a timed-out charge that went through).
//!
//! Left out: a compensation's own latency and load on its service (it is a command that
//! either lands or not at its instant), and an orchestrator that resumes a saga after
//! its own crash from a saga log.

use super::{Event, Observer, Sim};
use crate::engine::{stream, SimTime, Stream};
use crate::metrics::ledger::{Cause, Ledger};
use crate::metrics::Outcome;
use crate::model::{Platform, Saga};
use rand::Rng;

/// The saga of a scenario, if it has one.
pub(super) struct Sagas {
    cfg: Option<Saga>,
    rng: Stream,
    /// Why the last carrier of an order went: compensated, or compensation given up.
    compensated: Cause,
    given_up: Cause,
}

impl Sagas {
    pub fn new(p: &Platform, ledger: &mut Ledger) -> Self {
        let cfg = p.orders.as_ref().and_then(|o| o.saga.clone());
        let mut cause = |what: &str| match &cfg {
            Some(s) => ledger.cause(&format!("{}: {what}", p.service(s.orchestrator).name)),
            None => 0,
        };
        Sagas {
            rng: stream(p.seed, "saga/compensations"),
            compensated: cause("saga compensated"),
            given_up: cause("compensation failed, retries exhausted"),
            cfg,
        }
    }

    /// Whether `service` orchestrates the sagas.
    #[inline]
    pub fn orchestrates(&self, service: u32) -> bool {
        self.cfg
            .as_ref()
            .is_some_and(|c| c.orchestrator.0 == service)
    }
}

impl<O: Observer> Sim<'_, O> {
    /// The orchestrator's request for `order` ended in `outcome`: a failure aborts the
    /// saga and starts its compensations. Returns whether it did (the job is then done).
    pub(super) fn saga_ended(&mut self, now: SimTime, order: u32, outcome: Outcome) -> bool {
        if matches!(outcome, Outcome::Ok | Outcome::Crashed) || self.ledger.is_aborted(order) {
            return false;
        }
        let cfg = self.sagas.cfg.as_ref().expect("an orchestrator has a saga");
        self.ledger.aborted(order);
        if !cfg.compensate {
            return true;
        }
        let steps = self.p.orders.as_ref().map_or(0, |o| o.steps.len());
        for step in 0..steps {
            if self.ledger.step_count(order, step) > 0 {
                self.ledger.carry(order);
                let (step, attempt) = (step as u32, 1);
                self.queue.push(
                    now,
                    Event::Compensate {
                        order,
                        step,
                        attempt,
                    },
                );
            }
        }
        true
    }

    /// Attempt `attempt` of the compensation of step `step` of `order`.
    pub(super) fn compensate(&mut self, now: SimTime, order: u32, step: u32, attempt: u32) {
        let p = self.p;
        let (Some(orders), Some(cfg)) = (p.orders.as_ref(), self.sagas.cfg.as_ref()) else {
            return;
        };
        let s = orders.steps[step as usize].0 as usize;
        let hot = &self.hot[s];
        let error_rate = p.services[s].error_rate;
        let landed = hot.ready
            && hot.up > 0
            && (error_rate == 0.0 || self.sagas.rng.random::<f64>() >= error_rate);
        if landed {
            self.ledger.compensated(order, step as usize);
            self.ledger.drop_carrier(order, self.sagas.compensated);
        } else if attempt < cfg.max_attempts {
            let attempt = attempt + 1;
            self.queue.push(
                now.after(cfg.backoff),
                Event::Compensate {
                    order,
                    step,
                    attempt,
                },
            );
        } else {
            self.ledger.drop_carrier(order, self.sagas.given_up);
        }
    }
}
