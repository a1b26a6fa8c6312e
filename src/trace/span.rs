//! Spans: each client request of a run as one trace, built from the run's [`Observer`]
//! hooks, as OpenTelemetry instrumentation would build it in a real platform.
//!
//! A trace's life:
//! 1. A client sends a logical request: the trace's root span (`INTERNAL`, the client's
//!    workload as its service). Head sampling decides here, once, whether the trace is
//!    recorded; every span below inherits the decision, because an untraced parent gives
//!    its children no context to attach to.
//! 2. Each client attempt is a `CLIENT` span under the root; retries are its siblings,
//!    with their attempt number and the backoff slept before them.
//! 3. Each visit to a service is a `SERVER` span under the attempt that sent it, with its
//!    replica (pod) and node, when a server took it (its queue wait) and its outcome
//!    (`ok`, `error`, `timeout`, `rejected` with the reason, ...). A caller that gave up
//!    does not end its callee's span: the callee's work goes on, and its span shows it.
//! 4. Each call attempt of a visit is a `CLIENT` span under the visit, and so on down.
//! 5. A job pushed or a message published is a `PRODUCER` span under its visit; its
//!    context travels with the message (as W3C `traceparent` does in its headers), and
//!    the worker's or consumer's visit is a `CONSUMER` span under it, in the same trace,
//!    however late it comes.
//!
//! Spans of a trace are held until the trace has no open span (the root and every visit
//! it caused have ended), then sampled by the tail rules and handed to the writer in one
//! piece. What arrives later through a message forms a new piece of the same trace. The
//! buffer is bounded by the requests in flight, which `--max-in-flight` bounds; the
//! context of each traced message stays until the run ends (one small entry per message,
//! since a message may be delivered again, or to several groups).
//!
//! Ids come from a keyed hash of the run's seed and a counter (span) or the request's
//! number (trace): deterministic, and distinct across seeds. Tracing only watches: the
//! sampling draws come from a stream of their own, so a traced run is the same run.

use crate::engine::{stream, SimTime, Stream};
use crate::metrics::{Outcome, Refusal};
use crate::model::{Platform, ServiceId};
use crate::run::{Destination, Observer, Parent, Wait};
use rand::Rng;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// OpenTelemetry's `Span.SpanKind`, with the protocol's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// What a span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A client's logical request (the root).
    Request,
    /// One attempt of a client.
    ClientAttempt,
    /// A visit to a service.
    Visit,
    /// One attempt of a service's call.
    CallAttempt,
    /// A job pushed or a message published.
    Produce,
    /// A visit by a worker or a consumer, processing a job or a message.
    Consume,
    /// A visit's wait for a server (written as a child of the visit).
    Queue,
    /// A call attempt's wait for a local permit before it is sent (children of the
    /// attempt): a rate limiter's, a bulkhead slot, a pooled connection.
    RateLimiterWait,
    BulkheadWait,
    PoolWait,
}

impl Role {
    pub fn kind(self) -> Kind {
        match self {
            Role::Request
            | Role::Queue
            | Role::RateLimiterWait
            | Role::BulkheadWait
            | Role::PoolWait => Kind::Internal,
            Role::ClientAttempt | Role::CallAttempt => Kind::Client,
            Role::Visit => Kind::Server,
            Role::Produce => Kind::Producer,
            Role::Consume => Kind::Consumer,
        }
    }
}

/// One span, as plain data the writers format.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The trace id, 128 bits as (high, low).
    pub trace: (u64, u64),
    pub id: u64,
    /// The parent's id; 0 for a root.
    pub parent: u64,
    pub role: Role,
    /// Whose span it is: a service index, or `services + w` for workload `w`'s clients.
    pub resource: u32,
    pub start: SimTime,
    pub end: SimTime,
    /// How it ended (`None`: still open when the run stopped).
    pub outcome: Option<Outcome>,
    pub refusal: Option<Refusal>,
    /// Attempt number (attempts), delivery number (consumers), 0 otherwise.
    pub attempt: u32,
    /// The backoff slept before this attempt.
    pub backoff: SimTime,
    /// Visits: when a server took it (the end of its queue wait).
    pub served: Option<SimTime>,
    /// Visits: the replica and Kubernetes node (`NONE` if none).
    pub replica: u32,
    pub node: u32,
    /// Call attempts: the callee service; producers and consumers: the destination.
    pub peer: u32,
    pub destination: Option<Destination>,
    /// Producers and consumers: the job's or message's id.
    pub message: u64,
}

/// What to keep of a run's traces besides head sampling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keep {
    /// Keep a trace with a failed span (error, dependency failed, rejected, shed, crashed).
    pub errors: bool,
    pub timeouts: bool,
    /// Keep a trace with a retry.
    pub retries: bool,
    /// Keep a trace whose root took longer than this.
    pub slow: Option<Slow>,
}

/// How slow a root must be for its trace to be kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slow {
    Above(SimTime),
    /// Above this quantile of the roots finished so far (after the first 100: the
    /// quantile is not known before the run ends, so this is a running estimate).
    Quantile(f64),
}

impl Keep {
    /// No tail rule: every head-sampled trace is kept.
    pub fn all(&self) -> bool {
        !self.errors && !self.timeouts && !self.retries && self.slow.is_none()
    }
}

/// Where finished pieces of traces go.
pub trait SpanSink {
    /// A finished piece of one trace, in the order its spans started.
    fn write(&mut self, spans: &[Span]);
}

/// How a trace is sampled and filtered.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanOptions {
    /// Head sampling: the probability a client request is traced.
    pub sample: f64,
    pub keep: Keep,
    /// Keep traces whose root started in `[from, to)`.
    pub from: SimTime,
    pub to: SimTime,
    /// Keep traces that visit one of these services (all if empty).
    pub services: Vec<ServiceId>,
    /// Stop writing after this many spans.
    pub max_spans: u64,
}

impl Default for SpanOptions {
    fn default() -> Self {
        SpanOptions {
            sample: 1.0,
            keep: Keep::default(),
            from: SimTime::ZERO,
            to: SimTime::MAX,
            services: Vec::new(),
            max_spans: u64::MAX,
        }
    }
}

const ERROR: u8 = 1;
const TIMEOUT: u8 = 2;
const RETRY: u8 = 4;

/// The spans of one trace (or of one piece that came through a message) not yet written.
#[derive(Debug, Default)]
struct Piece {
    spans: Vec<Span>,
    open: u32,
    flags: u8,
    /// Visits a filtered service.
    touches: bool,
}

/// An open visit's place in its piece, and its call's current attempt.
#[derive(Debug, Clone, Copy)]
struct Visit {
    piece: u32,
    span: u32,
    attempt: u32,
    backoff: SimTime,
    /// The current attempt's open wait for a permit (`NONE`: none).
    wait: u32,
    /// A plain client's root and attempt spans, which end with this visit.
    root: Option<(u32, u32)>,
}

/// A client's logical request being traced.
#[derive(Debug, Clone, Copy)]
struct Request {
    piece: u32,
    root: u32,
    attempt: u32,
    backoff: SimTime,
}

/// The context a job or message carries: its trace and its producer span.
#[derive(Debug, Clone, Copy)]
struct Carried {
    trace: (u64, u64),
    producer: u64,
    /// The destination: a consumer span names it.
    destination: Destination,
}

/// Builds spans from a run and hands finished traces to a [`SpanSink`].
pub struct SpanTracer<S: SpanSink> {
    sink: S,
    opts: SpanOptions,
    services: u32,
    key: u64,
    next_span: u64,
    next_trace: u64,
    rng: Stream,
    pieces: Vec<Piece>,
    free: Vec<u32>,
    visits: HashMap<u64, Visit>,
    /// By client slot.
    requests: Vec<Option<Request>>,
    carried: HashMap<u64, Carried>,
    /// Services the filter asks for.
    wanted: Vec<bool>,
    /// Per service, per call: the callee.
    callees: Vec<Vec<u32>>,
    /// The service of the request `arrival` announced last (`visit` follows it).
    arriving: u32,
    /// The structured log, if asked for.
    log: Option<super::log::Log>,
    /// Root latencies so far (`Slow::Quantile`).
    roots: crate::metrics::LatencyHistogram,
    /// Spans written, and traces (or pieces) left out once `max_spans` was reached.
    pub written: u64,
    pub dropped: u64,
}

impl<S: SpanSink> SpanTracer<S> {
    pub fn new(sink: S, platform: &Platform, opts: SpanOptions) -> Self {
        let mut wanted = vec![opts.services.is_empty(); platform.services.len()];
        for s in &opts.services {
            wanted[s.0 as usize] = true;
        }
        SpanTracer {
            sink,
            services: platform.services.len() as u32,
            key: mix(platform.seed ^ 0x7472_6163_6573_0000),
            next_span: 0,
            next_trace: 0,
            rng: stream(platform.seed, "trace/sample"),
            pieces: Vec::new(),
            free: Vec::new(),
            visits: HashMap::new(),
            requests: Vec::new(),
            carried: HashMap::new(),
            wanted,
            callees: platform
                .services
                .iter()
                .map(|s| s.calls.iter().map(|c| c.to.0).collect())
                .collect(),
            arriving: 0,
            roots: crate::metrics::LatencyHistogram::default(),
            log: None,
            opts,
            written: 0,
            dropped: 0,
        }
    }

    /// Also writes the structured log to `log`.
    pub fn with_log(mut self, log: super::log::Log) -> Self {
        self.log = Some(log);
        self
    }

    /// The log's lines written, or its first write error.
    pub fn take_log(&mut self) -> Option<super::log::Log> {
        self.log.take()
    }

    /// Writes what is still open at the end of the run (spans without an end keep
    /// `outcome: None`) and returns the sink, with the spans written and left out.
    pub fn finish(mut self, now: SimTime) -> (S, u64, u64) {
        for i in 0..self.pieces.len() {
            if self.pieces[i].open > 0 {
                for s in self.pieces[i]
                    .spans
                    .iter_mut()
                    .filter(|s| s.outcome.is_none())
                {
                    s.end = now;
                }
                self.pieces[i].open = 0;
                self.flush(i as u32);
            }
        }
        (self.sink, self.written, self.dropped)
    }

    fn span_id(&mut self) -> u64 {
        self.next_span += 1;
        mix(self.key ^ self.next_span).max(1)
    }

    fn new_trace(&mut self) -> (u64, u64) {
        self.next_trace += 1;
        let n = self.next_trace;
        (
            mix(self.key ^ (n << 1)),
            mix(self.key ^ (n << 1 | 1)).max(1),
        )
    }

    /// Head sampling at a root, and the time window of roots.
    fn sampled(&mut self, now: SimTime) -> bool {
        // Once the file is full, new traces are not even started.
        if self.written >= self.opts.max_spans {
            self.dropped += 1;
            return false;
        }
        let out = self.opts.sample < 1.0 && self.rng.random::<f64>() >= self.opts.sample;
        !out && now >= self.opts.from && now < self.opts.to
    }

    fn new_piece(&mut self) -> u32 {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.pieces.push(Piece::default());
                (self.pieces.len() - 1) as u32
            }
        }
    }

    /// Opens a span in `piece`; returns its index there.
    fn open(&mut self, piece: u32, span: Span) -> u32 {
        let p = &mut self.pieces[piece as usize];
        p.open += 1;
        p.spans.push(span);
        (p.spans.len() - 1) as u32
    }

    /// A span without its specifics.
    fn blank(&mut self, trace: (u64, u64), parent: u64, role: Role, resource: u32) -> Span {
        Span {
            trace,
            id: self.span_id(),
            parent,
            role,
            resource,
            start: SimTime::ZERO,
            end: SimTime::ZERO,
            outcome: None,
            refusal: None,
            attempt: 0,
            backoff: SimTime::ZERO,
            served: None,
            replica: NONE,
            node: NONE,
            peer: NONE,
            destination: None,
            message: u64::MAX,
        }
    }

    /// Closes span `span` of `piece`; flushes the piece when nothing in it is open.
    fn close(&mut self, piece: u32, span: u32, now: SimTime, outcome: Outcome) {
        let p = &mut self.pieces[piece as usize];
        let s = &mut p.spans[span as usize];
        if s.outcome.is_some() {
            return;
        }
        s.end = now;
        s.outcome = Some(outcome);
        if s.role == Role::Request {
            if let Some(log) = self.log.as_mut() {
                log.request(s);
            }
        }
        let p = &mut self.pieces[piece as usize];
        p.flags |= match outcome {
            Outcome::Ok => 0,
            Outcome::Timeout => TIMEOUT,
            _ => ERROR,
        };
        p.open -= 1;
        if p.open == 0 {
            self.flush(piece);
        }
    }

    /// The piece is complete: keep it or not, and free its slot.
    fn flush(&mut self, piece: u32) {
        let mut p = std::mem::take(&mut self.pieces[piece as usize]);
        if self.kept(&p) {
            let n = p.spans.len() as u64;
            if self.written + n <= self.opts.max_spans {
                self.written += n;
                self.sink.write(&p.spans);
            } else {
                self.dropped += 1;
            }
        }
        p.spans.clear();
        p.flags = 0;
        p.touches = false;
        self.pieces[piece as usize] = p;
        self.free.push(piece);
    }

    fn kept(&mut self, p: &Piece) -> bool {
        let k = &self.opts.keep;
        let root = &p.spans[0];
        let took = root.end.since(root.start);
        let slow = match k.slow {
            None => false,
            Some(Slow::Above(t)) => took > t,
            Some(Slow::Quantile(q)) => {
                let h = &mut self.roots;
                let slow = h.count() >= 100 && took.0 as f64 > h.quantile_ns(q);
                if root.role == Role::Request {
                    h.record(took.0);
                }
                slow
            }
        };
        p.touches
            && (k.all()
                || (k.errors && p.flags & ERROR != 0)
                || (k.timeouts && p.flags & TIMEOUT != 0)
                || (k.retries && p.flags & RETRY != 0)
                || slow)
    }

    /// Starts a trace at a root: the logical request and its first attempt's parent.
    fn root(&mut self, now: SimTime, workload: u32) -> Option<Request> {
        if !self.sampled(now) {
            return None;
        }
        let trace = self.new_trace();
        let piece = self.new_piece();
        let mut span = self.blank(trace, 0, Role::Request, self.services + workload);
        span.start = now;
        let root = self.open(piece, span);
        Some(Request {
            piece,
            root,
            attempt: NONE,
            backoff: SimTime::ZERO,
        })
    }

    /// Opens a client attempt under `req`'s root.
    fn client_attempt_span(&mut self, now: SimTime, req: &mut Request, attempt: u32) {
        let span = self.attempt_span(
            now,
            req.piece,
            req.root,
            Role::ClientAttempt,
            attempt,
            req.backoff,
        );
        req.attempt = self.open(req.piece, span);
        req.backoff = SimTime::ZERO;
    }

    /// An attempt (a client's or a call's) under span `under` of `piece`, after `backoff`;
    /// a second or later attempt marks its trace as retried (for tail sampling).
    fn attempt_span(
        &mut self,
        now: SimTime,
        piece: u32,
        under: u32,
        role: Role,
        attempt: u32,
        backoff: SimTime,
    ) -> Span {
        let up = &self.pieces[piece as usize].spans[under as usize];
        let (trace, parent, resource) = (up.trace, up.id, up.resource);
        let mut span = self.blank(trace, parent, role, resource);
        span.start = now;
        span.attempt = attempt;
        span.backoff = backoff;
        if attempt > 1 {
            self.pieces[piece as usize].flags |= RETRY;
        }
        span
    }

    /// Where a new visit sent by `parent` goes; `None` if the sender is not traced.
    fn parent_of(&mut self, now: SimTime, parent: Parent) -> Option<Ctx> {
        let in_piece = |t: &Self, piece: u32, span: u32, attempt: u32| {
            let s = &t.pieces[piece as usize].spans[span as usize];
            Ctx {
                root: None,
                piece,
                trace: s.trace,
                parent: s.id,
                role: Role::Visit,
                attempt,
                destination: None,
                message: u64::MAX,
            }
        };
        match parent {
            Parent::Client { key } => {
                let r = self.requests.get(key as usize).copied().flatten()?;
                (r.attempt != NONE).then(|| in_piece(self, r.piece, r.attempt, 0))
            }
            Parent::Open { workload } => {
                let mut r = self.root(now, workload)?;
                self.client_attempt_span(now, &mut r, 1);
                // A plain client's request has no slot: its root ends with this visit.
                let mut ctx = in_piece(self, r.piece, r.attempt, 0);
                ctx.root = Some((r.root, r.attempt));
                Some(ctx)
            }
            Parent::Call { caller } => {
                let v = *self.visits.get(&caller)?;
                let span = if v.attempt != NONE { v.attempt } else { v.span };
                Some(in_piece(self, v.piece, span, 0))
            }
            Parent::Job { id, delivery, .. } | Parent::Message { id, delivery, .. } => {
                let c = *self.carried.get(&id)?;
                Some(Ctx {
                    root: None,
                    piece: self.new_piece(),
                    trace: c.trace,
                    parent: c.producer,
                    role: Role::Consume,
                    attempt: delivery,
                    destination: Some(c.destination),
                    message: id,
                })
            }
        }
    }

    /// Counts a visit to a service in its piece (the service filter).
    fn touch(&mut self, piece: u32, service: u32) {
        if self.wanted[service as usize] {
            self.pieces[piece as usize].touches = true;
        }
    }
}

/// Where a new span goes.
struct Ctx {
    /// A plain client's root and attempt spans, which end with this visit.
    root: Option<(u32, u32)>,
    piece: u32,
    trace: (u64, u64),
    parent: u64,
    role: Role,
    attempt: u32,
    destination: Option<Destination>,
    message: u64,
}

impl<S: SpanSink> Observer for SpanTracer<S> {
    fn arrival(&mut self, _now: SimTime, service: ServiceId, _uid: u64) {
        self.arriving = service.0;
    }

    fn visit(&mut self, now: SimTime, uid: u64, parent: Parent) {
        let Some(ctx) = self.parent_of(now, parent) else {
            return;
        };
        let service = self.arriving;
        let mut span = self.blank(ctx.trace, ctx.parent, ctx.role, service);
        span.start = now;
        span.attempt = ctx.attempt;
        span.destination = ctx.destination;
        span.message = ctx.message;
        let index = self.open(ctx.piece, span);
        self.touch(ctx.piece, service);
        self.visits.insert(
            uid,
            Visit {
                piece: ctx.piece,
                span: index,
                attempt: NONE,
                backoff: SimTime::ZERO,
                wait: NONE,
                root: ctx.root,
            },
        );
    }

    fn placed(&mut self, uid: u64, replica: u32, node: u32) {
        if let Some(v) = self.visits.get(&uid) {
            let s = &mut self.pieces[v.piece as usize].spans[v.span as usize];
            s.replica = replica;
            s.node = node;
        }
    }

    fn served(&mut self, now: SimTime, uid: u64) {
        if let Some(v) = self.visits.get(&uid) {
            let s = &mut self.pieces[v.piece as usize].spans[v.span as usize];
            s.served.get_or_insert(now);
        }
    }

    fn refused(&mut self, uid: u64, why: Refusal) {
        if let Some(v) = self.visits.get(&uid) {
            self.pieces[v.piece as usize].spans[v.span as usize].refusal = Some(why);
        }
    }

    fn outcome(&mut self, now: SimTime, _service: ServiceId, uid: u64, outcome: Outcome) {
        let Some(v) = self.visits.remove(&uid) else {
            return;
        };
        if v.wait != NONE {
            self.close(v.piece, v.wait, now, outcome);
        }
        if v.attempt != NONE {
            // It ended while waiting for a call (killed): so did its attempt.
            self.close(v.piece, v.attempt, now, outcome);
        }
        self.close(v.piece, v.span, now, outcome);
        if let Some((root, attempt)) = v.root {
            let seen = outcome.seen_by_caller();
            self.close(v.piece, attempt, now, seen);
            self.close(v.piece, root, now, seen);
        }
    }

    fn call_attempt(&mut self, now: SimTime, caller: u64, call: u32, attempt: u32) {
        let Some(v) = self.visits.get(&caller).copied() else {
            return;
        };
        let mut span =
            self.attempt_span(now, v.piece, v.span, Role::CallAttempt, attempt, v.backoff);
        span.peer = self.callees[span.resource as usize][call as usize];
        let index = self.open(v.piece, span);
        let v = self.visits.get_mut(&caller).expect("looked up above");
        v.attempt = index;
        v.backoff = SimTime::ZERO;
    }

    fn call_attempt_end(&mut self, now: SimTime, caller: u64, outcome: Outcome) {
        let Some(v) = self.visits.get_mut(&caller) else {
            return;
        };
        let (piece, attempt, wait) = (v.piece, v.attempt, v.wait);
        v.attempt = NONE;
        v.wait = NONE;
        if wait != NONE {
            // Refused while waiting (the wait timed out, or the caller went).
            self.close(piece, wait, now, outcome);
        }
        if attempt != NONE {
            self.close(piece, attempt, now, outcome);
        }
    }

    fn call_wait(&mut self, now: SimTime, caller: u64, wait: Option<Wait>) {
        let Some(v) = self.visits.get(&caller).copied() else {
            return;
        };
        if v.wait != NONE {
            self.close(v.piece, v.wait, now, Outcome::Ok);
        }
        let mut open = NONE;
        if let (Some(w), true) = (wait, v.attempt != NONE) {
            let up = &self.pieces[v.piece as usize].spans[v.attempt as usize];
            let (trace, parent, resource) = (up.trace, up.id, up.resource);
            let role = match w {
                Wait::RateLimiter => Role::RateLimiterWait,
                Wait::Bulkhead => Role::BulkheadWait,
                Wait::Pool => Role::PoolWait,
            };
            let mut span = self.blank(trace, parent, role, resource);
            span.start = now;
            open = self.open(v.piece, span);
        }
        if let Some(v) = self.visits.get_mut(&caller) {
            v.wait = open;
        }
    }

    fn call_backoff(&mut self, _now: SimTime, caller: u64, delay: SimTime) {
        if let Some(v) = self.visits.get_mut(&caller) {
            v.backoff = delay;
        }
    }

    fn request(&mut self, now: SimTime, workload: u32, key: u32) {
        let r = self.root(now, workload);
        let k = key as usize;
        if self.requests.len() <= k {
            self.requests.resize(k + 1, None);
        }
        self.requests[k] = r;
    }

    fn client_attempt(&mut self, now: SimTime, key: u32, attempt: u32) {
        if let Some(mut r) = self.requests.get(key as usize).copied().flatten() {
            self.client_attempt_span(now, &mut r, attempt);
            self.requests[key as usize] = Some(r);
        }
    }

    fn client_attempt_end(&mut self, now: SimTime, key: u32, outcome: Outcome) {
        if let Some(Some(r)) = self.requests.get_mut(key as usize) {
            let (piece, attempt) = (r.piece, r.attempt);
            r.attempt = NONE;
            if attempt != NONE {
                self.close(piece, attempt, now, outcome);
            }
        }
    }

    fn client_backoff(&mut self, _now: SimTime, key: u32, delay: SimTime) {
        if let Some(Some(r)) = self.requests.get_mut(key as usize) {
            r.backoff = delay;
        }
    }

    fn request_end(&mut self, now: SimTime, key: u32, outcome: Outcome) {
        let Some(r) = self.requests.get_mut(key as usize).and_then(Option::take) else {
            return;
        };
        if r.attempt != NONE {
            // Refused before it was sent (an open breaker).
            self.close(r.piece, r.attempt, now, outcome);
        }
        self.close(r.piece, r.root, now, outcome);
    }

    fn fault(&mut self, now: SimTime, fault: u32, starting: bool) {
        if let Some(log) = self.log.as_mut() {
            log.fault(now, fault, starting);
        }
    }

    fn produced(&mut self, now: SimTime, uid: u64, to: Destination, id: u64) {
        let Some(v) = self.visits.get(&uid).copied() else {
            return;
        };
        let visit = &self.pieces[v.piece as usize].spans[v.span as usize];
        let (trace, parent, resource) = (visit.trace, visit.id, visit.resource);
        let mut span = self.blank(trace, parent, Role::Produce, resource);
        span.start = now;
        span.end = now;
        span.outcome = Some(Outcome::Ok);
        span.destination = Some(to);
        span.message = id;
        let producer = span.id;
        self.pieces[v.piece as usize].spans.push(span);
        self.carried.insert(
            id,
            Carried {
                trace,
                producer,
                destination: to,
            },
        );
    }
}

/// SplitMix64's finalizer: a keyed hash good enough for ids.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
