//! Clients: open arrivals, closed users, client timeouts and client retries. A client's
//! logical request lives in a slot that also carries its idempotency key: it stays until
//! the client has its answer and no request carrying the key is left in the platform.

use super::call::retry_verdict;
use super::service::Origin;
use super::{Client, Event, Observer, Parent, Sim, Waiter, NONE};
use crate::engine::SimTime;
use crate::mech::retry::status_of;
use crate::metrics::Outcome;
use crate::model::WorkloadKind;

impl<O: Observer> Sim<'_, O> {
    pub(super) fn open_arrival(&mut self, now: SimTime, w: u32) {
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

    pub(super) fn spike_arrival(&mut self, now: SimTime, fault: u32) {
        let crate::model::FaultKind::Spike { workload, .. } = self.p.faults[fault as usize].kind
        else {
            unreachable!("spike arrivals come from spike faults only")
        };
        // Spike clients come once: they are nobody's users, and do not think again.
        self.send(now, workload.0, NONE);
        let s = self.spikes[fault as usize]
            .as_mut()
            .expect("a spike has its state");
        if let Some(t) = s.cursor.next(&s.schedule, now, &mut s.rng) {
            self.queue.push(t, Event::SpikeArrival { fault });
        }
    }

    /// A client of workload `w` sends a new logical request.
    pub(super) fn send(&mut self, now: SimTime, w: u32, user: u32) {
        let counted = now >= self.p.warmup;
        self.rec.client_sent(w as usize, counted);
        let p = self.p;
        if self.workloads[w as usize].plain {
            // One attempt, nothing to remember: the root request is the client.
            self.rec.client_attempt(w as usize, counted);
            let origin = Origin {
                waiter: Waiter::Open(w),
                deadline: SimTime::MAX,
                client: NONE,
                depth: 0,
                order: crate::metrics::ledger::NO_ORDER,
                replica: NONE,
                parent: Parent::Open { workload: w },
            };
            if self
                .arrive_inline(now, p.workloads[w as usize].target.0, origin)
                .is_none()
            {
                self.rec
                    .client_done(w as usize, Outcome::Rejected, SimTime::ZERO, counted);
            }
            return;
        }
        let order = match &p.orders {
            Some(o) if o.entry == p.workloads[w as usize].target => self.place_order(now),
            _ => crate::metrics::ledger::NO_ORDER,
        };
        let client = Client {
            order,
            workload: w,
            user,
            first_sent: now,
            attempt: 0,
            prev_sleep: SimTime::ZERO,
            root: NONE,
            token: 0,
            refs: 1,
            attempt_sent: now,
            breaker_permit: false,
            counted,
            sent: false,
            retrying: false,
        };
        let c = match self.free_clients.pop() {
            Some(i) => {
                let token = self.clients[i as usize].token;
                self.clients[i as usize] = Client { token, ..client };
                let t = self.tracked;
                // Most platforms track no side effects: skip the (costly) empty fill.
                if t > 0 {
                    self.effects[i as usize * t..(i as usize + 1) * t].fill(0);
                }
                i
            }
            None => {
                self.clients.push(client);
                self.effects.extend(std::iter::repeat_n(0, self.tracked));
                (self.clients.len() - 1) as u32
            }
        };
        self.obs.request(now, w, c);
        self.client_attempt(now, c);
    }

    /// One attempt of a client's request.
    pub(super) fn client_attempt(&mut self, now: SimTime, c: u32) {
        let p = self.p;
        let cl = &mut self.clients[c as usize];
        let w = cl.workload as usize;
        let wl = &p.workloads[w];
        if wl.deadline.is_some_and(|d| now >= cl.first_sent.after(d)) {
            // The backoff ran past the overall deadline: DEADLINE_EXCEEDED, nothing sent.
            cl.token = cl.token.wrapping_add(1);
            self.settle_client_retry(c);
            self.client_finish(now, c, Outcome::Timeout);
            return;
        }
        cl.attempt += 1;
        cl.attempt_sent = now;
        self.obs.client_attempt(now, c, cl.attempt);
        self.rec.client_attempt(w, cl.counted);
        let edge = &mut self.client_edges[w];
        if let Some(b) = edge.breaker.as_mut() {
            if !b.try_acquire(now) {
                edge.stats.breaker_rejected += cl.counted as u64;
                if wl.order == crate::model::Order::Resilience4j {
                    // A rejection the retry judges like any other failure.
                    self.client_attempt_done(now, c, Outcome::Rejected);
                } else {
                    // Envoy never retries an overflow.
                    cl.token = cl.token.wrapping_add(1);
                    self.settle_client_retry(c);
                    self.client_finish(now, c, Outcome::Rejected);
                }
                return;
            }
            cl.breaker_permit = true;
        }
        edge.active += 1;
        cl.sent = true;
        // The attempt ends at its own timeout or at the overall deadline, whichever comes
        // first; the callee sees that time as the deadline it propagates.
        let overall = wl.deadline.map_or(SimTime::MAX, |d| cl.first_sent.after(d));
        let deadline = wl
            .timeout
            .map_or(SimTime::MAX, |t| now.after(t))
            .min(overall);
        let origin = Origin {
            waiter: Waiter::Client(c),
            deadline,
            client: c,
            depth: 0,
            order: cl.order,
            replica: NONE,
            parent: Parent::Client { key: c },
        };
        match self.arrive(now, wl.target.0, origin) {
            Some(root) => {
                let cl = &mut self.clients[c as usize];
                cl.root = root;
                if deadline != SimTime::MAX {
                    let token = cl.token;
                    self.queue
                        .push(deadline, Event::ClientTimeout { client: c, token });
                }
            }
            None => {
                let status = self.refused_status;
                self.client_attempt_ended(now, c, Outcome::Rejected, status)
            }
        }
    }

    pub(super) fn client_timed_out(&mut self, now: SimTime, c: u32) {
        let root = self.clients[c as usize].root;
        debug_assert_ne!(root, NONE, "a live client timer has a request");
        self.detach(root);
        self.client_attempt_done(now, c, Outcome::Timeout);
    }

    /// A client's attempt ended as the client sees it, with the HTTP status its kind
    /// implies (`retry::status_of`).
    pub(super) fn client_attempt_done(&mut self, now: SimTime, c: u32, outcome: Outcome) {
        self.client_attempt_ended(now, c, outcome, status_of(outcome));
    }

    /// A client's attempt ended with `outcome` and HTTP status `status`: done, or retry
    /// after a backoff.
    pub(super) fn client_attempt_ended(
        &mut self,
        now: SimTime,
        c: u32,
        outcome: Outcome,
        status: u16,
    ) {
        let p = self.p;
        let cl = &mut self.clients[c as usize];
        let w = cl.workload as usize;
        cl.token = cl.token.wrapping_add(1);
        cl.root = NONE;
        self.obs.client_attempt_end(now, c, outcome);
        let edge = &mut self.client_edges[w];
        if cl.breaker_permit {
            cl.breaker_permit = false;
            if let Some(b) = edge.breaker.as_mut() {
                b.on_outcome(now, outcome.into(), now.since(cl.attempt_sent));
            }
        }
        self.settle_client_retry(c);
        let cl = &mut self.clients[c as usize];
        let edge = &mut self.client_edges[w];
        let retry = p.workloads[w].retry.as_ref();
        if cl.sent {
            cl.sent = false;
            edge.active -= 1;
            // Only answered RPCs move gRPC's throttle, not local rejections.
            if let Some(t) = edge.throttle.as_mut() {
                if outcome == Outcome::Ok {
                    t.on_success();
                } else if retry.is_some_and(|r| super::call::retryable(r, outcome, status)) {
                    t.on_failure();
                }
            }
        }
        // gRPC A6: the deadline covers every attempt; a retry that could only start at or
        // after it is not made, and the call ends as the deadline's (a timeout).
        let overall = p.workloads[w].deadline.map(|d| cl.first_sent.after(d));
        if outcome != Outcome::Ok {
            if let Some(retry) = retry {
                match retry_verdict(retry, edge, cl.attempt, outcome, status) {
                    Some(true) if overall.is_some_and(|d| now >= d) => {
                        self.client_finish(now, c, Outcome::Timeout);
                        return;
                    }
                    Some(true) => {
                        // Counted by the budget from now until its outcome is judged.
                        edge.active_retries += 1;
                        cl.retrying = true;
                        let delay = retry.policy.delay(cl.attempt, cl.prev_sleep, &mut edge.rng);
                        cl.prev_sleep = delay;
                        self.obs.client_backoff(now, c, delay);
                        let token = cl.token;
                        self.queue
                            .push(now.after(delay), Event::ClientRetry { client: c, token });
                        return;
                    }
                    Some(false) => self.rec.client_retry_denied(w, cl.counted),
                    None => {}
                }
            }
        }
        self.client_finish(now, c, outcome);
    }

    /// A retry's own outcome is being judged: it leaves the budget's count (Envoy's
    /// `RetryStateImpl::resetRetry`).
    fn settle_client_retry(&mut self, c: u32) {
        let cl = &mut self.clients[c as usize];
        if cl.retrying {
            cl.retrying = false;
            self.client_edges[cl.workload as usize].active_retries -= 1;
        }
    }

    /// The client has its final answer; a closed user then thinks again.
    fn client_finish(&mut self, now: SimTime, c: u32, outcome: Outcome) {
        let p = self.p;
        let cl = self.clients[c as usize];
        let w = cl.workload as usize;
        self.obs.request_end(now, c, outcome);
        self.rec
            .client_done(w, outcome, now.since(cl.first_sent), cl.counted);
        if cl.order != crate::metrics::ledger::NO_ORDER {
            self.ledger.answered_as(cl.order, outcome.seen_by_caller());
        }
        if let (WorkloadKind::Closed { think_time, .. }, true) =
            (&p.workloads[w].kind, cl.user != NONE)
        {
            let t = think_time.sample(&mut self.workloads[w].rng);
            self.queue.push(
                now.after(t),
                Event::Think {
                    workload: cl.workload,
                    user: cl.user,
                },
            );
        }
        self.unref_client(c);
    }

    /// Drops one reference to a client's slot; the last one frees it.
    pub(super) fn unref_client(&mut self, c: u32) {
        let cl = &mut self.clients[c as usize];
        cl.refs -= 1;
        if cl.refs == 0 {
            cl.token = cl.token.wrapping_add(1);
            self.free_clients.push(c);
        }
    }
}
