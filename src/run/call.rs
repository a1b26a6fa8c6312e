//! Calls: attempts through the edge's breaker and bulkhead, timeouts, and retries with
//! backoff, jitter, budget and throttle.
//!
//! The decorators nest as the call's `order` says (`scenario::OrderSpec`): by default
//! Resilience4j's `Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call)))))`, so
//! the breaker and the time limit (the call's `timeout`) both time the bulkhead wait too,
//! and the breaker's rejections are retried when `retry_on` has `Rejected`.
//!
//! Every attempt ends with an HTTP-like status beside its kind (`retry::status_of`: 500
//! errors, 504 timeouts, 503 refusals, 429 from rate limiters, or an `Errors` fault's
//! own), so `retry_on: [Status(503)]` retries what Resilience4j's `retryOnResult` or
//! Envoy's `retriable-status-codes` would.
//!
//! The retry budget counts a retry exactly as Envoy does (`RetryStateImpl::shouldRetry` in
//! `source/common/router/retry_state_impl.cc`): `retries().inc()` when the retry is
//! scheduled, before its backoff timer, and `resetRetry()` (`retries().dec()`) when its own
//! outcome is next judged or the request goes away. So a retry sleeping in its backoff
//! holds its place in `max(min_retry_concurrency, budget_percent × active requests)`.
//!
//! Link faults (`LinkLatency`, `LinkLoss`, a one-way `Partition`) act on an attempt as it
//! leaves the caller, as `tc netem` or an `iptables DROP` on that link would: a delayed
//! attempt reaches the callee later (`Event::LinkDelivered`), and a lost one, or a lost
//! answer, is never seen, so the caller's call timeout fires, armed when it was sent; a
//! call without a timeout waits until its caller is given up. Over TCP a dropped packet
//! is silence, not a reset, which is why this is a timeout, and not the plain
//! `Partition`'s fast refusal.
//!
//! An adaptive timeout (`adaptive_timeout`, `mech::adaptive`) replaces the call's fixed
//! one wherever an attempt's timer is armed or its deadline propagated: `attempt_timeout`
//! is the one place either is read. Each attempt that was sent and answered or timed out
//! teaches it its latency, from when its time limit started; refusals teach nothing.
//! The value is read as each timer is armed: an attempt held up on a link keeps the
//! timer of its send, and its callee gets the value at its arrival as its deadline.

use super::service::Origin;
use super::{Edge, Event, Observer, Parent, Sim, Wait, Waiter, NONE};
use crate::engine::SimTime;
use crate::mech::ratelimit::Permit;
use crate::mech::retry::{status_of, STATUS_RATE_LIMITED};
use crate::metrics::Outcome;
use crate::model::{Endpoint, FaultKind, Order, Retry};
use rand::Rng;

/// Calls nested deeper than this fail at once: only conditional circles of calls can get
/// here, and a request that deep is lost anyway.
pub(super) const MAX_CALL_DEPTH: u8 = 32;

impl<O: Observer> Sim<'_, O> {
    #[inline]
    fn edge_of(&self, req: u32) -> usize {
        let r = &self.reqs[req as usize];
        (self.edge_base[r.service as usize] + r.next_call) as usize
    }

    /// The time limit of an attempt on edge `e` that starts now: the adaptive timeout's
    /// current value if the call has one, else the call's fixed `timeout`.
    #[inline]
    fn attempt_timeout(&self, e: usize) -> Option<SimTime> {
        let hot = &self.edge_hot[e];
        if !hot.adaptive {
            return hot.timeout;
        }
        match &self.edges[e].adaptive {
            Some(a) => Some(a.current()),
            None => hot.timeout,
        }
    }

    /// Starts the request's next call, or answers when none is left.
    #[inline(always)]
    pub(super) fn next_call(&mut self, now: SimTime, req: u32) {
        if self.expired(now, req) {
            // Nobody waits for the answer: stop working on it.
            self.answer(now, req, Outcome::Shed);
            return;
        }
        let r = &mut self.reqs[req as usize];
        let calls = self.hot[r.service as usize].calls;
        let base = self.edge_base[r.service as usize];
        let e = loop {
            if r.next_call >= calls {
                self.answer(now, req, Outcome::Ok);
                return;
            }
            // A call made only on some code paths.
            let e = (base + r.next_call) as usize;
            let probability = self.edge_hot[e].probability;
            if probability < 1.0 && self.edges[e].rng.random::<f64>() >= probability {
                r.next_call += 1;
                continue;
            }
            break e;
        };
        r.attempt = 0;
        r.prev_sleep = SimTime::ZERO;
        let hot = &mut self.edge_hot[e];
        hot.calls += r.counted as u64;
        if hot.stored {
            self.start_store_call(now, req);
            return;
        }
        self.attempt(now, req);
    }

    /// One attempt of the current call: breaker, then bulkhead, then the callee.
    pub(super) fn attempt(&mut self, now: SimTime, req: u32) {
        let e = self.edge_of(req);
        let r = &mut self.reqs[req as usize];
        r.attempt += 1;
        self.obs.call_attempt(now, r.uid, r.next_call, r.attempt);
        let counted = r.counted as u64;
        let hot = &mut self.edge_hot[e];
        hot.attempts += counted;
        if !hot.guarded {
            self.past_limiter(now, req);
            return;
        }
        // Resilience4j retries a local rejection like any failure; Envoy never retries an
        // overflow (see `Order`).
        let retry_local = hot.order == Order::Resilience4j;
        let edge = &mut self.edges[e];
        if let Some(breaker) = edge.breaker.as_mut() {
            if !breaker.try_acquire(now) {
                edge.stats.breaker_rejected += counted;
                self.attempt_done(now, req, Outcome::Rejected, retry_local);
                return;
            }
            r.breaker_permit = true;
            // The breaker's clock: from here in Resilience4j's order (it wraps the
            // bulkhead wait), reset when the try is sent in Envoy's.
            r.attempt_sent = now;
        }
        if let Some(limiter) = edge.limiter.as_mut() {
            // Inside the breaker, outside the bulkhead (Resilience4j's aspect order).
            let wait = match limiter.acquire(now) {
                Permit::Now => None,
                Permit::After(w) => Some((w, true)),
                Permit::Rejected(w) => Some((w, false)),
            };
            if let Some((wait, granted)) = wait {
                if !granted {
                    edge.stats.rate_limited += counted;
                }
                if wait == SimTime::ZERO {
                    self.attempt_ended(
                        now,
                        req,
                        Outcome::Rejected,
                        STATUS_RATE_LIMITED,
                        retry_local,
                    );
                } else {
                    let (token, uid) = (r.call_token, r.uid);
                    self.obs.call_wait(now, uid, Some(Wait::RateLimiter));
                    self.queue.push(
                        now.after(wait),
                        Event::LimiterWaited {
                            req,
                            token,
                            granted,
                        },
                    );
                }
                return;
            }
        }
        self.past_limiter(now, req);
    }

    /// The wait at the rate limiter is over: on with the permit, or refused (a 429).
    pub(super) fn limiter_waited(&mut self, now: SimTime, req: u32, granted: bool) {
        if granted {
            self.obs.call_wait(now, self.reqs[req as usize].uid, None);
            self.past_limiter(now, req);
        } else {
            let retry_local = self.edge_hot[self.edge_of(req)].order == Order::Resilience4j;
            self.attempt_ended(
                now,
                req,
                Outcome::Rejected,
                STATUS_RATE_LIMITED,
                retry_local,
            );
        }
    }

    /// The attempt holds its breaker and rate-limiter permits: the bulkhead or the pool,
    /// then the callee.
    fn past_limiter(&mut self, now: SimTime, req: u32) {
        let e = self.edge_of(req);
        let hot = self.edge_hot[e];
        if !hot.bulkhead && !hot.pool {
            self.send_attempt(now, req);
            return;
        }
        let p = self.p;
        let r = &mut self.reqs[req as usize];
        let call = &p.services[r.service as usize].calls[r.next_call as usize];
        let counted = r.counted as u64;
        let retry_local = hot.order == Order::Resilience4j;
        let timeout = self.attempt_timeout(e);
        let r = &mut self.reqs[req as usize];
        let edge = &mut self.edges[e];
        if let Some(bulkhead) = call.bulkhead {
            if edge.bulkhead_active >= bulkhead.max_concurrent {
                if bulkhead.max_wait == SimTime::ZERO {
                    edge.stats.bulkhead_rejected += counted;
                    self.attempt_done(now, req, Outcome::Rejected, retry_local);
                } else {
                    let token = r.call_token;
                    edge.bulkhead_waiting
                        .push_back((req, r.generation, token, now));
                    self.obs.call_wait(now, r.uid, Some(Wait::Bulkhead));
                    self.queue.push(
                        now.after(bulkhead.max_wait),
                        Event::BulkheadTimeout { req, token },
                    );
                    // Resilience4j's TimeLimiter wraps the bulkhead: its time runs out
                    // while the call still waits for a permit.
                    if let Some(limit) = timeout
                        .filter(|&t| call.order == Order::Resilience4j && t < bulkhead.max_wait)
                    {
                        self.queue
                            .push(now.after(limit), Event::CallTimeout { req, token });
                    }
                }
                return;
            }
        }
        if let Some(pool) = call.pool {
            if !self.pool_acquire(now, req, e, pool.max_size, pool.connection_timeout) {
                return;
            }
        }
        self.send_attempt(now, req);
    }

    /// The attempt passed its guards: it goes to the callee.
    pub(super) fn send_attempt(&mut self, now: SimTime, req: u32) {
        self.send_attempt_timed(now, now, req);
    }

    /// [`Sim::send_attempt`] for an attempt whose call timeout (time limit) started at
    /// `limit_from`: before now when Resilience4j's TimeLimiter also timed its bulkhead
    /// wait.
    fn send_attempt_timed(&mut self, now: SimTime, limit_from: SimTime, req: u32) {
        let p = self.p;
        let e = self.edge_of(req);
        let hot = self.edge_hot[e];
        let r = &mut self.reqs[req as usize];
        let edge = &mut self.edges[e];
        if hot.bulkhead {
            edge.bulkhead_active += 1;
            r.bulkhead_permit = true;
        }
        if hot.pool {
            // A pool's connection is held with the bulkhead's permit flag (a call has
            // one or the other).
            r.bulkhead_permit = true;
            self.pool_take(req, e);
        }
        let r = &mut self.reqs[req as usize];
        if hot.budgeted {
            self.edges[e].active += 1;
        }
        r.sent = true;
        r.limit_from = limit_from;
        if hot.order == Order::Envoy {
            r.attempt_sent = now;
        }
        if r.depth >= MAX_CALL_DEPTH {
            self.attempt_done(now, req, Outcome::Rejected, false);
            return;
        }
        let (from, to) = (r.service, hot.to);
        let from_slot = r.replica;
        if self.partitioned(from, to) {
            // A network partition: the connection fails (retried like a refusal).
            self.attempt_done(now, req, Outcome::Rejected, true);
            return;
        }
        let link = self.edge_link[e];
        let mut target = NONE;
        if link != NONE || !self.links.is_empty() || !self.inst_links.is_empty() {
            if self.links_reach_instances() {
                // Which pod serves the attempt decides whether a node's or pod's link is
                // on its path: the balancer picks it now, as a connection is opened.
                target = self.choose_replica(now, to).unwrap_or(NONE);
            }
            let (mut delay, lost, refused) = self.link_effect((from, from_slot), (to, target));
            if refused {
                // A partition between the two instances: the connection fails.
                self.attempt_done(now, req, Outcome::Rejected, true);
                return;
            }
            if link != NONE {
                let l = link as usize;
                delay = delay.after(p.links[l].latency.sample(&mut self.link_latency_rng[l]));
            }
            if lost || delay > SimTime::ZERO {
                let token = self.reqs[req as usize].call_token;
                if let Some(timeout) = self.attempt_timeout(e) {
                    self.queue
                        .push(limit_from.after(timeout), Event::CallTimeout { req, token });
                }
                if !lost {
                    self.queue.push(
                        now.after(delay),
                        Event::LinkDelivered {
                            req,
                            token,
                            sent: limit_from,
                            replica: target,
                        },
                    );
                }
                return;
            }
        }
        self.deliver(now, limit_from, req, true, target);
    }

    /// The attempt whose time limit started at `sent` reaches its callee now; `arm` starts
    /// the call's timer (a delayed attempt's timer runs from `sent`, armed then).
    /// `replica`: the callee's slot chosen at the send, or `NONE` to balance now.
    pub(super) fn deliver(
        &mut self,
        now: SimTime,
        sent: SimTime,
        req: u32,
        arm: bool,
        replica: u32,
    ) {
        let e = self.edge_of(req);
        let timeout = self.attempt_timeout(e);
        let r = &self.reqs[req as usize];
        let deadline = match timeout {
            Some(t) => r.deadline.min(sent.after(t)),
            None => r.deadline,
        };
        let origin = Origin {
            waiter: Waiter::Caller(req),
            deadline,
            client: r.client,
            depth: r.depth + 1,
            order: r.order,
            replica,
            parent: Parent::Call { caller: r.uid },
        };
        match self.arrive(now, self.edge_hot[e].to, origin) {
            Some(child) => {
                let r = &mut self.reqs[req as usize];
                r.child = child;
                if let Some(timeout) = timeout.filter(|_| arm) {
                    let token = r.call_token;
                    self.queue
                        .push(sent.after(timeout), Event::CallTimeout { req, token });
                }
            }
            None => {
                let status = self.refused_status;
                self.attempt_ended(now, req, Outcome::Rejected, status, true)
            }
        }
    }

    /// Undoes what the current attempt held: breaker permit (recording its result),
    /// bulkhead permit (passing it to the next waiter), budget counts, throttle tokens.
    pub(super) fn settle_attempt(&mut self, now: SimTime, req: u32, outcome: Outcome, status: u16) {
        let p = self.p;
        let e = self.edge_of(req);
        let hot = self.edge_hot[e];
        let r = &mut self.reqs[req as usize];
        r.child = NONE;
        r.call_token = r.call_token.wrapping_add(1);
        let edge = &mut self.edges[e];
        if r.breaker_permit {
            r.breaker_permit = false;
            if let Some(b) = edge.breaker.as_mut() {
                b.on_outcome(now, outcome.into(), now.since(r.attempt_sent));
            }
        }
        if r.retrying {
            // The retry's own outcome is being judged: it leaves the budget's count
            // (Envoy's `RetryStateImpl::resetRetry`).
            r.retrying = false;
            edge.active_retries -= 1;
        }
        if r.sent {
            r.sent = false;
            if hot.budgeted {
                edge.active -= 1;
            }
            // The flags first: a plain call never loads the options.
            if let Some(a) = hot
                .adaptive
                .then_some(&mut edge.adaptive)
                .and_then(Option::as_mut)
            {
                if outcome != Outcome::Rejected {
                    a.observe(now.since(r.limit_from));
                }
            }
            if let Some(t) = hot
                .throttle
                .then_some(&mut edge.throttle)
                .and_then(Option::as_mut)
            {
                let call = &p.services[r.service as usize].calls[r.next_call as usize];
                if outcome == Outcome::Ok {
                    t.on_success();
                } else if call
                    .retry
                    .as_ref()
                    .is_some_and(|rt| retryable(rt, outcome, status))
                {
                    t.on_failure();
                }
            }
        }
        if r.bulkhead_permit {
            r.bulkhead_permit = false;
            if hot.pool {
                self.pool_release(now, req, e);
            } else {
                edge.bulkhead_active -= 1;
                self.wake_bulkhead_waiter(now, e);
            }
        }
    }

    /// A bulkhead permit is free: the longest waiter (still waiting) takes it.
    fn wake_bulkhead_waiter(&mut self, now: SimTime, e: usize) {
        while let Some((w, gen, token, since)) = self.edges[e].bulkhead_waiting.pop_front() {
            let r = &self.reqs[w as usize];
            // Only the same request, still in the same wait, is waiting: a caller that left
            // moved its token on, and a freed slot reused by another request has another
            // generation (it must not be sent early, e.g. out of its retry backoff).
            if r.live && r.generation == gen && r.call_token == token {
                // The permit came in time: void the waiter's bulkhead timeout.
                let r = &mut self.reqs[w as usize];
                r.call_token = r.call_token.wrapping_add(1);
                self.obs.call_wait(now, r.uid, None);
                let call = &self.p.services[r.service as usize].calls[r.next_call as usize];
                // Resilience4j's TimeLimiter has timed the wait; Envoy's per-try timeout
                // starts now.
                let limit_from = match call.order {
                    Order::Resilience4j => since,
                    Order::Envoy => now,
                };
                self.send_attempt_timed(now, limit_from, w);
                return;
            }
        }
    }

    pub(super) fn bulkhead_timed_out(&mut self, now: SimTime, req: u32) {
        let e = self.edge_of(req);
        let r = &self.reqs[req as usize];
        if self.p.services[r.service as usize].calls[r.next_call as usize]
            .pool
            .is_some()
        {
            self.pool_timed_out(now, req, e);
            return;
        }
        let retry_local = self.p.services[r.service as usize].calls[r.next_call as usize].order
            == Order::Resilience4j;
        let edge = &mut self.edges[e];
        edge.bulkhead_waiting.retain(|&(w, ..)| w != req);
        edge.stats.bulkhead_rejected += self.reqs[req as usize].counted as u64;
        self.attempt_done(now, req, Outcome::Rejected, retry_local);
    }

    pub(super) fn attempt_timed_out(&mut self, now: SimTime, req: u32) {
        let child = self.reqs[req as usize].child;
        // No callee: the attempt, or its answer, was lost on the link or is still on it.
        if child != NONE {
            self.detach(child);
        }
        self.attempt_done(now, req, Outcome::Timeout, true);
    }

    /// The current attempt ended as the caller sees it (`Ok`, `Error`, `Rejected`,
    /// `Timeout`), with the HTTP status its kind implies (`retry::status_of`).
    pub(super) fn attempt_done(
        &mut self,
        now: SimTime,
        req: u32,
        outcome: Outcome,
        may_retry: bool,
    ) {
        self.attempt_ended(now, req, outcome, status_of(outcome), may_retry);
    }

    /// The current attempt ended with `outcome` and HTTP status `status`: go on, retry
    /// after a backoff, or give the call up.
    pub(super) fn attempt_ended(
        &mut self,
        now: SimTime,
        req: u32,
        outcome: Outcome,
        status: u16,
        may_retry: bool,
    ) {
        self.settle_attempt(now, req, outcome, status);
        self.obs
            .call_attempt_end(now, self.reqs[req as usize].uid, outcome);
        let e = self.edge_of(req);
        let stored = self.edge_hot[e].stored;
        if stored && self.store_answer(now, req, outcome) {
            return;
        }
        let r = &mut self.reqs[req as usize];
        let counted = r.counted as u64;
        if outcome == Outcome::Ok {
            self.edge_hot[e].ok += counted;
            if stored
                && self.p.services[r.service as usize].calls[r.next_call as usize]
                    .cache
                    .is_some()
            {
                self.cache_resolved(now, req, true);
            }
            self.reqs[req as usize].next_call += 1;
            self.next_call(now, req);
            return;
        }
        let p = self.p;
        let call = &p.services[r.service as usize].calls[r.next_call as usize];
        let edge = &mut self.edges[e];
        match outcome {
            Outcome::Timeout => edge.stats.attempt_timeouts += counted,
            Outcome::Rejected => edge.stats.attempt_rejected += counted,
            _ => edge.stats.attempt_errors += counted,
        }
        if let Some(retry) = call.retry.as_ref().filter(|_| may_retry) {
            match retry_verdict(retry, edge, r.attempt, outcome, status) {
                Some(true) => {
                    // Active for the budget from now, through the backoff, until its
                    // own outcome is judged (Envoy: `retries().inc()` before the timer).
                    edge.active_retries += 1;
                    r.retrying = true;
                    let delay = retry.policy.delay(r.attempt, r.prev_sleep, &mut edge.rng);
                    r.prev_sleep = delay;
                    self.obs.call_backoff(now, r.uid, delay);
                    let token = r.call_token;
                    self.queue
                        .push(now.after(delay), Event::CallRetry { req, token });
                    return;
                }
                Some(false) => edge.stats.retries_denied += counted,
                None => {}
            }
        }
        edge.stats.failed += counted;
        if stored {
            self.call_failed(now, req);
        } else {
            self.give_up(now, req, call.dependency);
        }
    }
}

impl<O: Observer> Sim<'_, O> {
    /// The node of slot `slot` of service `s` (`NONE` for no slot).
    #[inline]
    fn node_of(&self, s: u32, slot: u32) -> u32 {
        if slot == NONE {
            return NONE;
        }
        self.services[s as usize].replicas[slot as usize].node
    }

    /// Whether a link acting now has a node or pod end.
    fn links_reach_instances(&self) -> bool {
        !self.inst_links.is_empty()
            || self
                .links
                .iter()
                .any(|&f| match &self.p.faults[f as usize].kind {
                    FaultKind::LinkLatency { from, to, .. }
                    | FaultKind::LinkLoss { from, to, .. } => {
                        from.is_instance() || to.is_instance()
                    }
                    FaultKind::Partition { a, b, .. } => a.is_instance() || b.is_instance(),
                    _ => false,
                })
    }

    /// What the links acting now do to an attempt from `from` to `to`, each a service and
    /// its replica slot (`NONE`: not known): the delay they add (link faults, and base
    /// latencies of links with a node or pod end), whether it is lost (a loss draw, or a
    /// one-way partition that drops packets from `from` to `to`), and whether the
    /// connection is refused (a partition with a node or pod end, both ways).
    fn link_effect(&mut self, from: (u32, u32), to: (u32, u32)) -> (SimTime, bool, bool) {
        let p = self.p;
        let (fnode, tnode) = (self.node_of(from.0, from.1), self.node_of(to.0, to.1));
        let along = |a: &Endpoint, b: &Endpoint| {
            a.holds(from.0, from.1, fnode) && b.holds(to.0, to.1, tnode)
        };
        let (mut delay, mut lost, mut refused) = (SimTime::ZERO, false, false);
        for i in 0..self.links.len() {
            let f = self.links[i] as usize;
            match &p.faults[f].kind {
                FaultKind::LinkLatency {
                    from: a,
                    to: b,
                    add,
                } if along(a, b) => {
                    if let Some(rng) = self.link_rng[f].as_mut() {
                        delay = delay.after(add.sample(rng));
                    }
                }
                FaultKind::LinkLoss {
                    from: a,
                    to: b,
                    rate,
                } if along(a, b) => {
                    if let Some(rng) = self.link_rng[f].as_mut() {
                        lost |= rng.random::<f64>() < *rate;
                    }
                }
                FaultKind::Partition {
                    a,
                    b,
                    one_way: true,
                } if along(a, b) => lost = true,
                FaultKind::Partition {
                    a,
                    b,
                    one_way: false,
                } if along(a, b) || along(b, a) => refused = true,
                _ => {}
            }
        }
        for i in 0..self.inst_links.len() {
            let l = self.inst_links[i] as usize;
            let link = &p.links[l];
            if along(&link.from, &link.to) {
                delay = delay.after(link.latency.sample(&mut self.link_latency_rng[l]));
            }
        }
        (delay, lost, refused)
    }

    /// Whether an answer from slot `slot` of service `callee` to request `caller`'s
    /// current plain call is lost now: a one-way partition drops packets from the callee
    /// to the caller, or a partition with a node or pod end began while the call was out.
    /// The callee did the work (its side effects happened); the caller waits on, until
    /// its timeout. Store calls (cache, fallback) are out of link faults' reach.
    pub(super) fn answer_lost(&self, callee: u32, slot: u32, caller: u32) -> bool {
        let r = &self.reqs[caller as usize];
        let call = &self.p.services[r.service as usize].calls[r.next_call as usize];
        if call.cache.is_some() || call.fallback.is_some() {
            return false;
        }
        let (cnode, rnode) = (
            self.node_of(callee, slot),
            self.node_of(r.service, r.replica),
        );
        let back = |a: &Endpoint, b: &Endpoint| {
            a.holds(callee, slot, cnode) && b.holds(r.service, r.replica, rnode)
        };
        self.links
            .iter()
            .any(|&f| match &self.p.faults[f as usize].kind {
                FaultKind::Partition {
                    a,
                    b,
                    one_way: true,
                } => back(a, b),
                FaultKind::Partition {
                    a,
                    b,
                    one_way: false,
                } => back(a, b) || back(b, a),
                _ => false,
            })
    }
}

/// Whether the retry policy covers a failed attempt that ended with `outcome` and HTTP
/// status `status`.
pub(super) fn retryable(retry: &Retry, outcome: Outcome, status: u16) -> bool {
    retry.policy.retry_on.covers(outcome, status)
}

/// `None`: the policy does not retry this (attempts used up, or not a retryable
/// outcome); `Some(false)`: it would, but the budget or the throttle says no;
/// `Some(true)`: retry.
pub(super) fn retry_verdict(
    retry: &Retry,
    edge: &Edge,
    attempt: u32,
    outcome: Outcome,
    status: u16,
) -> Option<bool> {
    if attempt >= retry.policy.max_attempts || !retryable(retry, outcome, status) {
        return None;
    }
    let budget_ok = retry
        .budget
        .is_none_or(|b| b.allows(edge.active, edge.active_retries));
    let throttle_ok = edge.throttle.as_ref().is_none_or(|t| t.allows_retry());
    Some(budget_ok && throttle_ok)
}
