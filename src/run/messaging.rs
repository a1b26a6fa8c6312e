//! Messaging: job queues with worker pools, Kafka-like brokers with producers, outbox
//! relays and consumer groups, and the order ledger's bookkeeping of what carries each
//! order. The state machines are in `crate::mech::{jobqueue, broker}`; this module
//! applies their results to requests, timers and the ledger.
//!
//! - A service that `push`es adds a job after each success; its workers (`count` per
//!   replica) take jobs while their replica is up and process each as a request at
//!   their own replica. A worker whose request dies (crash, `KillConsumer`) loses the
//!   job (plain queue) or leaves it for the reaper (reliable queue).
//! - A service that `publish`es appends one message per topic after each success, keyed
//!   by the order id. A broker that is down (restart) or cut off (partition) refuses the
//!   publish: with acks the request fails (the client knows); without acks the message
//!   is silently lost. With an outbox, the message is a row written with the success,
//!   and a relay publishes it later, retrying until the broker takes it.
//! - Replication: consumers read a message once the followers have it, `replication_lag`
//!   after its append; an acks=All producer waits that long for its answer. A durable
//!   broker's restart is a leader failover that truncates what was not replicated:
//!   lost if acknowledged (acks=Leader) or not awaited (None), an error for the waiting
//!   producer under acks=All.
//! - Retention: one timer per topic, due when its oldest message reaches the topic's
//!   retention, deletes what is that old from the head of each partition.
//! - A service that `consume`s is a consumer group with one consumer per partition,
//!   partition `p` hosted by its `p mod up`-th replica that is up. Each consumer
//!   processes its partition's messages one at a time, as requests at its replica.
//!   A consumer that dies stops the group for the `rebalance` pause; its partition
//!   restarts from the committed offset.
//!
//! Time in queues: a job's wait is from its push until a worker first takes it, a
//! message's from its append until the group first delivers it; both count once per
//! item, from the item's enqueue time, and the service that pulls it adds that wait to
//! its own sojourn in `pulled`. The oldest waiting item (a job in the list, a message
//! not committed by a group: lag in seconds) is followed as it changes, for its largest
//! age per window and over the run.
//!
//! Order carriers: a job exists from its push until it is acknowledged, parked, dropped
//! or lost; a message carries its order for each group until that group commits past it;
//! an outbox row until relayed.

use super::service::Origin;
use super::{Event, Observer, Sim, Waiter, NONE};
use crate::engine::{stream, SimTime, Stream};
use crate::mech::broker::{Msg, TopicLog};
use crate::mech::jobqueue::{Failed, Job, JobQueue, Taken};
use crate::mech::persistence::Persist;
use crate::mech::producer::{Blocked, Buffer, Send, RETRY_BACKOFF};
use crate::metrics::ledger::{Cause, Ledger, NO_CAUSE, NO_ORDER};
use crate::metrics::{
    GroupSummary, LatencyHistogram, OrderingSummary, Outcome, ProducerBufferSummary, PulledSummary,
    QueueSummary, TopicSummary,
};
use crate::model::{Acks, Commit, Durability, Endpoint, FaultKind, Platform};
use rand::Rng;

/// How long a consumer waits for a fetch response before it sends the fetch again:
/// Kafka's consumer `request.timeout.ms`, default 30 000 ms (Kafka documentation,
/// consumer configs).
const FETCH_TIMEOUT: SimTime = SimTime::from_secs(30);
use std::collections::{BTreeMap, VecDeque};

/// Broker, relay and consumer-group timers.
#[derive(Debug, Clone, Copy)]
pub(super) enum BrokerEvent {
    /// The outbox relay tries to publish row `row`.
    Relay { row: u32 },
    /// Group `group`'s auto-commit interval is over.
    AutoCommit { group: u32 },
    /// Group `group`'s rebalance pause is over (void unless `token` matches).
    Rebalanced { group: u32, token: u32 },
    /// Consumer `consumer`'s retry back-off is over.
    RetryDue { consumer: u32 },
    /// Consumer `consumer`'s fetch response arrives, or (`lost`) its fetch timed out.
    Fetched { consumer: u32, lost: bool },
    /// Messages appended to `partition` of `topic` a replication lag ago are replicated:
    /// its consumers may read them.
    Replicated { topic: u32, partition: u32 },
    /// The oldest message of `topic` reaches its retention.
    Retention { topic: u32 },
    /// Request `req` (void unless `token` is its generation) waited for every in-sync
    /// replica (acks=All): it answers now.
    AckDue { req: u32, token: u32 },
    /// Producer `producer`'s sender retries its buffered records.
    ProducerRetry { producer: u32 },
    /// The oldest record in `Messaging::resends` is sent again.
    Resend,
    /// Request `req`'s send to producer `producer`'s full buffer has blocked for
    /// `max_block`: it throws now, unless room came first.
    ProducerBlockDue { producer: u32, req: u32, token: u32 },
}

/// A publish with a send buffer (`mech::producer`), and the ledger causes of what its
/// records become.
struct Producer {
    service: u32,
    publish: u32,
    buf: Buffer,
    delivered: Cause,
    expired: Cause,
    shed: Cause,
}

/// What a buffered producer's `send` did with a record.
enum BufferedSend {
    /// Handed to the broker now, as without a buffer.
    Sent(Sent),
    /// Waits in the buffer; the request does not wait for it.
    Buffered,
    /// Dropped: the buffer was full (`on_full: Shed`).
    Shed,
    /// The buffer is full: the request blocks until room or `max_block`.
    Blocked,
    /// The buffer is full and `max_block` is 0: `send` throws at once.
    Failed,
}

struct QueueState {
    q: JobQueue,
    idle: VecDeque<u32>,
    level: usize,
    cols: Cols,
    time: Waiting,
    acked: Cause,
    lost: Cause,
    parked: Cause,
    dropped: Cause,
    /// Its store's durable point (queues with a store).
    persist: Persist,
    /// Some replica of its store is up.
    alive: bool,
    /// The store cannot serve it: no replica up, or not ready (starting after an outage).
    down: bool,
    /// Pushes refused because the store was down.
    push_failed: u64,
    /// Waiting in the list when its store crashed, not persisted.
    store_lost: Cause,
}

#[derive(Debug, Clone, Copy)]
struct Worker {
    service: u32,
    replica: u32,
    queue: u32,
    busy: bool,
    req: u32,
    taken: Taken,
    /// When it took the job (processing time).
    since: SimTime,
}

struct TopicState {
    log: TopicLog,
    broker: u32,
    /// Groups reading it (indices into `groups`).
    groups: Vec<u32>,
    stats: TopicSummary,
    rng_dup: Stream,
    /// Retriable produce errors (`ProduceRetry`).
    rng_retry: Stream,
    /// An order whose status update was applied before its create.
    stale: Cause,
    lost_publish: Cause,
    restart: Cause,
    /// Held in memory when the platform lost power (an outage).
    power_lost: Cause,
    /// Deleted by retention before a group consumed it.
    expired: Cause,
    /// Acknowledged (acks=Leader) or not awaited (acks=None), lost in a failover.
    failover: Cause,
    /// Never acknowledged (acks=All), lost in a failover: its producer gets an error.
    unacked: Cause,
    /// A retention timer is pending.
    expiry_armed: bool,
}

struct GroupState {
    service: u32,
    topic: u32,
    /// Index of the group within its topic.
    index: usize,
    /// Index of its first consumer in `consumers`.
    base: u32,
    paused: bool,
    paused_at: SimTime,
    /// Replicas taking part (up and ready), as of the last rebalance.
    members: u32,
    token: u32,
    stats: GroupSummary,
    /// Message ids processed (idempotent consumer), by id.
    seen: Vec<bool>,
    /// By order: the highest `Msg::seq` first delivered (empty until an update comes).
    key_seq: Vec<u8>,
    level: usize,
    /// Extra time-series columns: processing time, failures, DLQ size.
    cols: Cols,
    time: Waiting,
    processed: Cause,
    parked: Cause,
    dropped: Cause,
}

/// A consumer group's or worker pool's time-series columns (p50/p99 processing time,
/// failed deliveries per second, DLQ size).
#[derive(Debug, Clone, Copy, Default)]
struct Cols {
    processing: usize,
    failed: usize,
    dlq: usize,
}

/// Time waiting in a job queue or a topic (for one consumer group): first deliveries'
/// waits, and the oldest item still waiting (a job in the list, a message the group
/// has not committed) with the largest age it reached.
#[derive(Debug, Clone)]
struct Waiting {
    wait: LatencyHistogram,
    oldest: Option<SimTime>,
    oldest_max: SimTime,
    /// Time-series columns: wait p50/p99, largest age of the oldest item.
    wait_col: usize,
    oldest_col: usize,
}

impl Waiting {
    fn new() -> Self {
        Waiting {
            wait: LatencyHistogram::default(),
            oldest: None,
            oldest_max: SimTime::ZERO,
            wait_col: 0,
            oldest_col: 0,
        }
    }

    /// The oldest item waiting arrived at `oldest`, as of `now`: whether that changed.
    fn set_oldest(&mut self, now: SimTime, oldest: Option<SimTime>) -> bool {
        if self.oldest == oldest {
            return false;
        }
        if let Some(o) = self.oldest {
            self.oldest_max = self.oldest_max.max(now.since(o));
        }
        self.oldest = oldest;
        true
    }

    /// `(largest, at the end)` age of the oldest item, in seconds, for a run ending at `end`.
    fn oldest_age_s(&self, end: SimTime) -> (f64, f64) {
        let now = self.oldest.map_or(SimTime::ZERO, |o| end.since(o));
        (self.oldest_max.max(now).as_secs_f64(), now.as_secs_f64())
    }
}

/// What a pulling service's work spent in its queues (see `PulledSummary`).
#[derive(Debug, Clone, Default)]
struct Pulled {
    queue_wait: LatencyHistogram,
    with_queue: LatencyHistogram,
}

#[derive(Debug, Clone, Copy)]
struct Consumer {
    group: u32,
    partition: u32,
    busy: bool,
    req: u32,
    offset: u64,
    msg: Msg,
    /// Deliveries of `offset` in a row (failures retry the same offset).
    deliveries: u32,
    /// Waiting out a retry back-off.
    backoff: bool,
    /// A fetch is on a slow or lossy link; `fetched`: its response arrived, the next
    /// poll delivers without another fetch.
    fetching: bool,
    fetched: bool,
    /// When the message in hand was delivered (processing time).
    since: SimTime,
    /// When the message in hand was appended, and whether this is its first delivery.
    published: SimTime,
    first: bool,
}

#[derive(Debug, Clone, Copy)]
struct OutboxRow {
    service: u32,
    publish: u32,
    msg: Msg,
    /// Published (acks=All) at this time and waiting for the replicas' ack.
    sent: Option<SimTime>,
}

pub(super) struct Messaging {
    /// Per service: the cause of a request's end by outcome, then "crash before
    /// publish", then "killed consumer".
    req_causes: Vec<[Cause; 9]>,
    /// Per service: its step in the order ledger, or `NONE`.
    pub(super) step_of: Vec<u32>,
    queues: Vec<QueueState>,
    workers: Vec<Worker>,
    /// Per service: its workers' indices.
    service_workers: Vec<(u32, u32)>,
    topics: Vec<TopicState>,
    groups: Vec<GroupState>,
    consumers: Vec<Consumer>,
    /// Per service: its consumer group, or `NONE`.
    service_group: Vec<u32>,
    brokers_down: Vec<u32>,
    /// Per broker: when it last failed over (restarted), if ever.
    last_failover: Vec<Option<SimTime>>,
    /// Time-series columns of orders placed and completed per second.
    order_cols: Option<(usize, usize)>,
    /// Time-series column of order latency (p50/p99 of orders completed per window).
    order_latency_col: Option<usize>,
    /// Per service that pulls work from queues or topics: its time in them.
    pulled: Vec<Option<Box<Pulled>>>,
    /// Items enqueued earlier are left out of waits, as requests are at services.
    warmup: SimTime,
    outbox: Vec<OutboxRow>,
    free_rows: Vec<u32>,
    relayed: Cause,
    /// Publishes with a send buffer, in service then publish order.
    producers: Vec<Producer>,
    next_id: u64,
    /// Records to send again after a retriable produce error, oldest first (they all
    /// wait `retry.backoff.ms`): topic, record, acks=all.
    resends: VecDeque<(u32, Msg, bool)>,
    /// Per service: crash-before-publish draws.
    rng_publish: Vec<Stream>,
    /// Active partitions between two endpoints: `(a, b, one_way, count)`; one-way drops
    /// only packets from `a` to `b`.
    partitions: Vec<(Endpoint, Endpoint, bool, u32)>,
    /// Levels (time-series columns) are set up after the recorder exists.
    levels_ready: bool,
}

impl Messaging {
    pub fn new(p: &Platform, ledger: &mut Ledger) -> Self {
        let outcomes = [
            "ok",
            "error",
            "dependency failed",
            "timeout",
            "rejected",
            "shed",
            "crash",
        ];
        let req_causes = p
            .services
            .iter()
            .map(|s| {
                let mut c = [0; 9];
                for (i, o) in outcomes.iter().enumerate() {
                    let name = match *o {
                        "ok" => format!("{}: done, nothing carried the order on", s.name),
                        o => format!("{}: request ended ({o})", s.name),
                    };
                    c[i] = ledger.cause(&name);
                }
                c[7] = ledger.cause(&format!(
                    "{}: crashed between its write and its publish",
                    s.name
                ));
                c[8] = ledger.cause(&format!("{}: consumer killed mid-processing", s.name));
                c
            })
            .collect();
        let mut step_of = vec![NONE; p.services.len()];
        if let Some(o) = &p.orders {
            for (k, s) in o.steps.iter().enumerate() {
                step_of[s.0 as usize] = k as u32;
            }
        }
        let mut queues: Vec<QueueState> = p
            .queues
            .iter()
            .map(|q| QueueState {
                q: JobQueue::new(q.reliable, q.max_deliveries, q.dlq),
                idle: VecDeque::new(),
                level: 0,
                cols: Cols::default(),
                time: Waiting::new(),
                acked: ledger.cause(&format!("queue {}: job done", q.name)),
                lost: ledger.cause(&format!(
                    "queue {}: job lost with its worker (plain queue)",
                    q.name
                )),
                parked: ledger.cause(&format!("queue {}: parked in the DLQ", q.name)),
                dropped: ledger.cause(&format!(
                    "queue {}: job failed {} times, no DLQ",
                    q.name, q.max_deliveries
                )),
                persist: Persist::new(SimTime::ZERO, 0),
                alive: true,
                down: false,
                push_failed: 0,
                store_lost: match &q.store {
                    Some((store, persistence)) => ledger.cause(&format!(
                        "queue {}: waiting in {} when it crashed, not persisted ({})",
                        q.name,
                        p.service(*store).name,
                        persistence.name()
                    )),
                    None => NO_CAUSE,
                },
            })
            .collect();
        let mut workers = Vec::new();
        let mut service_workers = Vec::with_capacity(p.services.len());
        for (i, s) in p.services.iter().enumerate() {
            let first = workers.len() as u32;
            if let Some(w) = s.workers {
                // Worker k of replica r: interleaved, so that each replica gets work.
                for k in 0..w.count {
                    for r in 0..s.replicas {
                        let _ = k;
                        queues[w.queue as usize]
                            .idle
                            .push_back(workers.len() as u32);
                        workers.push(Worker {
                            service: i as u32,
                            replica: r,
                            queue: w.queue,
                            busy: false,
                            req: NONE,
                            taken: Taken {
                                handle: 0,
                                token: 0,
                                job: Job {
                                    order: NO_ORDER,
                                    id: 0,
                                    deliveries: 0,
                                    since: SimTime::ZERO,
                                },
                            },
                            since: SimTime::ZERO,
                        });
                    }
                }
            }
            service_workers.push((first, workers.len() as u32));
        }
        let mut topics: Vec<TopicState> = p
            .topics
            .iter()
            .map(|t| {
                // Why an order whose message sat in this topic was lost.
                let mut cause = |what: &str| ledger.cause(&format!("topic {}: {what}", t.name));
                TopicState {
                    log: TopicLog::new(t.partitions, 0),
                    broker: t.broker,
                    groups: Vec::new(),
                    stats: TopicSummary {
                        partitions: t.partitions,
                        ..TopicSummary::default()
                    },
                    rng_dup: stream(p.seed, &format!("topic/{}/duplicates", t.name)),
                    rng_retry: stream(p.seed, &format!("topic/{}/produce_retries", t.name)),
                    stale: cause("status update applied before its create (out of order)"),
                    lost_publish: cause("published while the broker was unreachable (acks=None)"),
                    restart: cause("held in memory by a restarting broker"),
                    power_lost: cause("held in memory by its broker when the power went (outage)"),
                    expired: cause("deleted by retention before it was consumed"),
                    failover: cause(
                        "acknowledged by the leader, lost in a failover before replication",
                    ),
                    unacked: cause(
                        "lost in a failover before replication, not acknowledged (acks=All)",
                    ),
                    expiry_armed: false,
                }
            })
            .collect();
        // Per-key order is reported where it can go wrong: updates, or retried produces.
        let updates = p.services.iter().flat_map(|s| &s.publish);
        for pb in updates.filter(|pb| pb.updates > 0) {
            topics[pb.topic as usize].stats.ordering = Some(OrderingSummary::default());
        }
        for f in &p.faults {
            if let FaultKind::ProduceRetry { topic, .. } = f.kind {
                topics[topic as usize].stats.ordering = Some(OrderingSummary::default());
            }
        }
        let mut groups = Vec::new();
        let mut consumers = Vec::new();
        let mut service_group = vec![NONE; p.services.len()];
        for (i, s) in p.services.iter().enumerate() {
            let Some(c) = &s.consume else { continue };
            let t = &mut topics[c.topic as usize];
            let g = groups.len() as u32;
            service_group[i] = g;
            let tname = &p.topics[c.topic as usize].name;
            groups.push(GroupState {
                service: i as u32,
                topic: c.topic,
                index: t.groups.len(),
                base: consumers.len() as u32,
                paused: false,
                paused_at: SimTime::ZERO,
                members: s.replicas,
                token: 0,
                stats: GroupSummary::default(),
                seen: Vec::new(),
                key_seq: Vec::new(),
                level: 0,
                cols: Cols::default(),
                time: Waiting::new(),
                processed: ledger.cause(&format!(
                    "{}: processed from {tname}, nothing carried the order on",
                    s.name
                )),
                parked: ledger.cause(&format!("{}: parked in the DLQ of {tname}", s.name)),
                dropped: ledger.cause(&format!(
                    "{}: failed {} times on {tname}, no DLQ",
                    s.name, c.max_deliveries
                )),
            });
            t.groups.push(g);
            for part in 0..p.topics[c.topic as usize].partitions {
                consumers.push(Consumer {
                    group: g,
                    partition: part,
                    busy: false,
                    req: NONE,
                    offset: 0,
                    msg: Msg {
                        id: 0,
                        order: NO_ORDER,
                        seq: 0,
                    },
                    deliveries: 0,
                    backoff: false,
                    fetching: false,
                    fetched: false,
                    since: SimTime::ZERO,
                    published: SimTime::ZERO,
                    first: false,
                });
            }
        }
        for (t, spec) in topics.iter_mut().zip(&p.topics) {
            t.log = TopicLog::new(spec.partitions, t.groups.len());
        }
        let mut producers = Vec::new();
        for (i, svc) in p.services.iter().enumerate() {
            for (k, pb) in svc.publish.iter().enumerate() {
                let Some(b) = pb.buffer else { continue };
                let mut cause = |what: &str| {
                    let topic = &p.topics[pb.topic as usize].name;
                    ledger.cause(&format!(
                        "{}: {what} (producer buffer, topic {topic})",
                        svc.name
                    ))
                };
                producers.push(Producer {
                    service: i as u32,
                    publish: k as u32,
                    buf: Buffer::new(b.records),
                    delivered: cause("delivered from the buffer"),
                    expired: cause("not delivered within delivery_timeout"),
                    shed: cause("shed, the buffer was full"),
                });
            }
        }
        Messaging {
            req_causes,
            step_of,
            queues,
            workers,
            service_workers,
            topics,
            groups,
            consumers,
            service_group,
            brokers_down: vec![0; p.brokers.len()],
            last_failover: vec![None; p.brokers.len()],
            order_cols: None,
            order_latency_col: None,
            pulled: p
                .services
                .iter()
                .map(|s| (s.workers.is_some() || s.consume.is_some()).then(Box::default))
                .collect(),
            warmup: p.warmup,
            outbox: Vec::new(),
            free_rows: Vec::new(),
            relayed: ledger.cause("outbox: relayed"),
            producers,
            next_id: 0,
            resends: VecDeque::new(),
            rng_publish: p
                .services
                .iter()
                .map(|s| stream(p.seed, &format!("service/{}/publish", s.name)))
                .collect(),
            partitions: Vec::new(),
            levels_ready: false,
        }
    }

    /// The cause recorded when a request carrying an order ends.
    #[inline]
    pub fn request_cause(&self, s: u32, outcome: Outcome, lost_publish: Cause) -> Cause {
        if lost_publish != NO_CAUSE {
            lost_publish
        } else {
            self.req_causes[s as usize][outcome as usize]
        }
    }

    /// Whether packets from `a` to `b` are dropped by a partition.
    fn cut(&self, a: Endpoint, b: Endpoint) -> bool {
        self.partitions.iter().any(|&(x, y, one_way, n)| {
            n > 0 && ((x, y) == (a, b) || (!one_way && (x, y) == (b, a)))
        })
    }
}

/// What the links between a service and a broker do to one exchange.
#[derive(Debug, Default, Clone, Copy)]
struct BrokerLink {
    /// Latency both ways, summed.
    delay: SimTime,
    /// A loss draw from the service to the broker, and from the broker back.
    lost_toward: bool,
    lost_back: bool,
}

impl<O: Observer> Sim<'_, O> {
    /// Time-series columns and the first timers.
    pub(super) fn messaging_start(&mut self) {
        let p = self.p;
        if !self.msg.levels_ready {
            self.msg.levels_ready = true;
            for (q, spec) in self.msg.queues.iter_mut().zip(&p.queues) {
                q.level = self.rec.add_level(format!("queue.{}.depth", spec.name));
                self.rec
                    .add_level(format!("queue.{}.processing", spec.name));
            }
            for g in &mut self.msg.groups {
                g.level = self.rec.add_level(format!(
                    "topic.{}.{}.lag",
                    p.topics[g.topic as usize].name, p.services[g.service as usize].name
                ));
            }
            // Appended after the columns above, which keep their names and order.
            if p.orders.is_some() {
                self.msg.order_cols = Some((
                    self.rec.add_rate("orders.placed_rps".to_string()),
                    self.rec.add_rate("orders.completed_rps".to_string()),
                ));
            }
            let rec = &mut self.rec;
            let mut cols = |prefix: String| Cols {
                processing: rec.add_quantiles(&format!("{prefix}.processing")),
                failed: rec.add_rate(format!("{prefix}.failed_rps")),
                dlq: rec.add_gauge(format!("{prefix}.dlq")),
            };
            for (q, spec) in self.msg.queues.iter_mut().zip(&p.queues) {
                q.cols = cols(format!("queue.{}", spec.name));
            }
            for g in &mut self.msg.groups {
                g.cols = cols(format!(
                    "topic.{}.{}",
                    p.topics[g.topic as usize].name, p.services[g.service as usize].name
                ));
            }
            // Time in queues and orders, after every column above.
            let rec = &mut self.rec;
            let mut timed = |w: &mut Waiting, prefix: String, oldest: &str| {
                w.wait_col = rec.add_quantiles(&format!("{prefix}.wait"));
                w.oldest_col = rec.add_oldest(format!("{prefix}.{oldest}"));
            };
            for (q, spec) in self.msg.queues.iter_mut().zip(&p.queues) {
                timed(&mut q.time, format!("queue.{}", spec.name), "oldest_age_s");
            }
            for g in &mut self.msg.groups {
                let prefix = format!(
                    "topic.{}.{}",
                    p.topics[g.topic as usize].name, p.services[g.service as usize].name
                );
                timed(&mut g.time, prefix, "lag_s");
            }
            if p.orders.is_some() {
                self.msg.order_latency_col = Some(self.rec.add_quantiles("orders.latency"));
            }
        }
        for (g, group) in self.msg.groups.iter().enumerate() {
            let c = p.services[group.service as usize]
                .consume
                .as_ref()
                .expect("groups come from consumers");
            if let Some(every) = c.auto_commit {
                self.queue.push(
                    every,
                    Event::Broker(BrokerEvent::AutoCommit { group: g as u32 }),
                );
            }
        }
    }

    /// A new order placed at `now`, counted in the time series.
    pub(super) fn place_order(&mut self, now: SimTime) -> u32 {
        if let Some((placed, _)) = self.msg.order_cols {
            self.rec.count(placed);
        }
        self.ledger.place(now)
    }

    pub(super) fn broker_event(&mut self, now: SimTime, e: BrokerEvent) {
        match e {
            BrokerEvent::Relay { row } => self.relay(now, row),
            BrokerEvent::AutoCommit { group } => {
                self.auto_commit(now, group);
                let every = self.p.services[self.msg.groups[group as usize].service as usize]
                    .consume
                    .as_ref()
                    .and_then(|c| c.auto_commit)
                    .expect("auto-commit timers come from auto-committing groups");
                self.queue.push(
                    now.after(every),
                    Event::Broker(BrokerEvent::AutoCommit { group }),
                );
            }
            BrokerEvent::RetryDue { consumer } => {
                self.msg.consumers[consumer as usize].backoff = false;
                self.poll(now, consumer);
            }
            BrokerEvent::Fetched { consumer, lost } => {
                let con = &mut self.msg.consumers[consumer as usize];
                con.fetching = false;
                con.fetched = !lost;
                if lost {
                    let g = con.group as usize;
                    self.msg.groups[g].stats.refetched += 1;
                }
                self.poll(now, consumer);
                self.msg.consumers[consumer as usize].fetched = false;
            }
            BrokerEvent::Rebalanced { group, token } => {
                let g = &mut self.msg.groups[group as usize];
                if g.token == token {
                    g.paused = false;
                    self.poll_group(now, group);
                }
            }
            BrokerEvent::Replicated { topic, partition } => {
                for i in 0..self.msg.topics[topic as usize].groups.len() {
                    let g = self.msg.topics[topic as usize].groups[i];
                    let c = self.msg.groups[g as usize].base + partition;
                    self.poll(now, c);
                }
            }
            BrokerEvent::Retention { topic } => self.expire(now, topic),
            BrokerEvent::ProducerRetry { producer } => self.producer_retry(now, producer),
            BrokerEvent::Resend => {
                let (topic, msg, all) = self.msg.resends.pop_front().expect("one per resend");
                self.append(now, topic, msg, all);
            }
            BrokerEvent::ProducerBlockDue {
                producer,
                req,
                token,
            } => {
                let live =
                    self.reqs[req as usize].live && self.reqs[req as usize].generation == token;
                if self.msg.producers[producer as usize]
                    .buf
                    .timed_out(req, token)
                    && live
                {
                    // `send` threw: nothing was produced, the request fails.
                    let t = self.p.services[self.msg.producers[producer as usize].service as usize]
                        .publish[self.msg.producers[producer as usize].publish as usize]
                        .topic;
                    self.msg.topics[t as usize].stats.publish_failed += 1;
                    self.settle_answer(now, req, Outcome::DependencyFailed);
                }
            }
            BrokerEvent::AckDue { req, token } => {
                let r = &self.reqs[req as usize];
                if r.live && r.generation == token {
                    let outcome = if self.lost_in_failover(now, r.service) {
                        Outcome::DependencyFailed
                    } else {
                        Outcome::Ok
                    };
                    self.settle_answer(now, req, outcome);
                }
            }
        }
    }

    /// Whether a broker that service `s` published to with acks=All failed over since
    /// its append a replication lag ago (`[now - lag, now)`: the message was not
    /// replicated yet and was truncated): instead of an ack the producer gets an error.
    fn lost_in_failover(&self, now: SimTime, s: u32) -> bool {
        let p = self.p;
        p.services[s as usize].publish.iter().any(|pb| {
            let b = self.msg.topics[pb.topic as usize].broker as usize;
            let lag = p.brokers[b].replication_lag;
            pb.acks == Acks::All
                && pb.outbox.is_none()
                && self.msg.last_failover[b].is_some_and(|t| t.0 + lag.0 >= now.0 && t < now)
        })
    }

    /// A message appended at or after this instant is not replicated at `now` (broker `b`).
    fn replicated_before(&self, now: SimTime, b: u32) -> SimTime {
        let lag = self.p.brokers[b as usize].replication_lag;
        if now.0 >= lag.0 {
            SimTime(now.0 - lag.0 + 1)
        } else {
            SimTime::ZERO
        }
    }

    /// Retention: deletes `topic`'s messages as old as its retention, whether consumed
    /// or not; the groups that had not consumed them skip them and their orders lose
    /// this carrier. Then waits for the next oldest message's turn.
    fn expire(&mut self, now: SimTime, topic: u32) {
        let p = self.p;
        let retention = p.topics[topic as usize].retention;
        let before = SimTime(now.0.checked_sub(retention.0).map_or(0, |d| d + 1));
        let t = &mut self.msg.topics[topic as usize];
        t.expiry_armed = false;
        let (groups, ledger) = (&mut self.msg.groups, &mut self.ledger);
        let expired = t.expired;
        let group_ids = &t.groups;
        let removed = t.log.expire(before, |g, m, delivered| {
            let group = &mut groups[group_ids[g] as usize];
            if delivered {
                // In a consumer's hands or processed: its request carries it on.
                ledger.drop_carrier(m.order, group.processed);
            } else {
                group.stats.retention_skipped += 1;
                ledger.drop_carrier(m.order, expired);
            }
        });
        t.stats.retention_deleted += removed.messages;
        for i in 0..self.msg.topics[topic as usize].groups.len() {
            let g = self.msg.topics[topic as usize].groups[i];
            self.update_lag(now, g);
        }
        if let Some(oldest) = self.msg.topics[topic as usize].log.oldest() {
            self.arm_retention(topic, oldest);
        }
    }

    /// Schedules `topic`'s retention pass for when a message appended at `at` expires,
    /// unless one is pending or the run is over by then.
    fn arm_retention(&mut self, topic: u32, at: SimTime) {
        let t = &mut self.msg.topics[topic as usize];
        if t.expiry_armed {
            return;
        }
        let due = at.after(self.p.topics[topic as usize].retention);
        if due < self.p.end() {
            t.expiry_armed = true;
            self.queue
                .push(due, Event::Broker(BrokerEvent::Retention { topic }));
        }
    }

    // ---- success: steps, jobs, messages -------------------------------------------

    /// Step `step` of `order` is done at `now` (counted when that completes the order).
    pub(super) fn step_succeeded(&mut self, now: SimTime, order: u32, step: u32, idempotent: bool) {
        if let Some(took) = self.ledger.step_done(order, step as usize, idempotent, now) {
            if let (Some((_, completed)), Some(latency)) =
                (self.msg.order_cols, self.msg.order_latency_col)
            {
                self.rec.count(completed);
                self.rec.duration(latency, took);
            }
        }
    }

    /// A request succeeded at its service: its step is done, its job pushed and its
    /// messages published. Returns the request's outcome: `DependencyFailed` if the
    /// broker refused a publish with acks; `None` while it waits for an acks=All
    /// publish to be replicated (a [`BrokerEvent::AckDue`] answers it then).
    pub(super) fn succeeded(&mut self, now: SimTime, req: u32) -> Option<Outcome> {
        let r = &self.reqs[req as usize];
        let (s, order) = (r.service as usize, r.order);
        let step = self.msg.step_of[s];
        let idempotent = self.p.services[s].idempotent;
        // At a database with a write path only a write is the step's side effect: reading
        // the order back (`GET /orders/{id}`) neither does nor repeats it.
        let mut step = step;
        if let Some(w) = &self.p.services[s].writes {
            if !self.ds.is_write(req) {
                step = NONE;
            }
            // The write is the step's side effect unless its key turned it away.
            let counts = step != NONE
                && (order as usize) < self.ledger.len()
                && !(idempotent && self.ledger.step_count(order, step as usize) > 0);
            let (o, st) = if counts {
                (order, step)
            } else {
                (NO_ORDER, NONE)
            };
            self.ds.acknowledged(now, s, req, w, order, o, st);
            if self.ds.is_write(req) {
                let slot = self.reqs[req as usize].replica;
                self.ds.on_volume(s, slot, o, st);
            }
        }
        // Under two-phase commit a participant's success only prepares its step.
        if step != NONE && !(self.twopc.active() && self.twopc_prepared(now, req, step)) {
            self.step_succeeded(now, order, step, idempotent);
        }
        let p = self.p;
        let spec = &p.services[s];
        if spec.push.is_none() && spec.publish.is_empty() {
            return Some(Outcome::Ok);
        }
        // The process may die between its database write and its publish.
        let mut crashed = false;
        for f in &p.faults {
            if let FaultKind::CrashBeforePublish { target, rate } = f.kind {
                if target.0 as usize == s
                    && f.start <= now
                    && now < f.end
                    && self.msg.rng_publish[s].random::<f64>() < rate
                {
                    crashed = true;
                }
            }
        }
        let mut outcome = Outcome::Ok;
        let mut wait = SimTime::ZERO;
        // A send blocked on a full producer buffer: the request answers when it gets room
        // or throws (`BrokerEvent::ProducerBlockDue`).
        let mut blocked = false;
        let crash_cause = self.msg.req_causes[s][7];
        if let Some(q) = spec.push {
            let id = self.msg.next_id;
            if crashed {
                self.reqs[req as usize].lost_publish = crash_cause;
            } else {
                if !self.msg.queues[q as usize].down {
                    // Announced before the push: an idle worker takes the job inside it,
                    // and its span needs the context the job carries.
                    let uid = self.reqs[req as usize].uid;
                    self.obs
                        .produced(now, uid, super::Destination::Queue(q), id);
                }
                if !self.push_job(now, q, order) {
                    // The LPUSH failed: the client gets the error.
                    outcome = Outcome::DependencyFailed;
                }
            }
        }
        for (k, pb) in spec.publish.iter().enumerate() {
            let id = self.msg.next_id;
            self.msg.next_id += 1;
            let msg = Msg { id, order, seq: 0 };
            let uid = self.reqs[req as usize].uid;
            self.obs
                .produced(now, uid, super::Destination::Topic(pb.topic), id);
            if pb.outbox.is_some() {
                // Written in the same transaction as the state change.
                self.write_outbox(now, s as u32, k as u32, msg);
                continue;
            }
            if crashed {
                self.reqs[req as usize].lost_publish = crash_cause;
                self.msg.topics[pb.topic as usize].stats.publish_lost += 1;
                continue;
            }
            let sent = if pb.buffer.is_some() {
                match self.buffered_send(now, s as u32, k as u32, req, msg) {
                    BufferedSend::Sent(sent) => sent,
                    BufferedSend::Buffered => continue,
                    BufferedSend::Shed => {
                        let pi = self.producer_of(s as u32, k as u32);
                        self.reqs[req as usize].lost_publish = self.msg.producers[pi].shed;
                        self.msg.topics[pb.topic as usize].stats.publish_lost += 1;
                        continue;
                    }
                    BufferedSend::Blocked => {
                        blocked = true;
                        continue;
                    }
                    BufferedSend::Failed => {
                        self.msg.topics[pb.topic as usize].stats.publish_failed += 1;
                        outcome = Outcome::DependencyFailed;
                        continue;
                    }
                }
            } else {
                self.publish_keyed(now, s as u32, k as u32, msg)
            };
            if let Sent::Acked(delay) = sent {
                match pb.acks {
                    Acks::All => {
                        let b = self.msg.topics[pb.topic as usize].broker as usize;
                        wait = wait.max(p.brokers[b].replication_lag.after(delay));
                    }
                    Acks::Leader => wait = wait.max(delay),
                    Acks::None => {}
                }
            } else if sent == Sent::Unacked {
                // Appended, but the acknowledgement was lost: a producer that waits for
                // one fails the request, though its message goes on to the consumers.
                if pb.acks != Acks::None {
                    self.msg.topics[pb.topic as usize].stats.publish_failed += 1;
                    outcome = Outcome::DependencyFailed;
                }
            } else {
                match pb.acks {
                    Acks::None => {
                        // Fire and forget: nobody knows it is gone.
                        let t = &mut self.msg.topics[pb.topic as usize];
                        t.stats.publish_lost += 1;
                        self.reqs[req as usize].lost_publish = t.lost_publish;
                    }
                    Acks::Leader | Acks::All => {
                        self.msg.topics[pb.topic as usize].stats.publish_failed += 1;
                        outcome = Outcome::DependencyFailed;
                    }
                }
            }
        }
        if blocked {
            if outcome == Outcome::Ok {
                return None;
            }
            // Another publish failed first: the blocked send is given up with the request.
            let pi = (0..spec.publish.len())
                .filter(|&k| spec.publish[k].buffer.is_some())
                .map(|k| self.producer_of(s as u32, k as u32));
            let token = self.reqs[req as usize].generation;
            for pi in pi.collect::<Vec<_>>() {
                self.msg.producers[pi].buf.timed_out(req, token);
            }
        }
        if outcome == Outcome::Ok && wait > SimTime::ZERO {
            // The produce returns once every in-sync replica has the message.
            let token = self.reqs[req as usize].generation;
            self.queue.push(
                now.after(wait),
                Event::Broker(BrokerEvent::AckDue { req, token }),
            );
            return None;
        }
        Some(outcome)
    }

    /// Whether service `s` and the broker of `topic` reach each other now (a consumer's
    /// fetch needs both ways: a one-way partition either way stops its deliveries).
    fn reaches(&self, s: u32, topic: u32) -> bool {
        let b = self.msg.topics[topic as usize].broker;
        let (svc, broker) = (
            Endpoint::Service(crate::model::ServiceId(s)),
            Endpoint::Broker(b),
        );
        self.msg.brokers_down[b as usize] == 0
            && !self.msg.cut(svc, broker)
            && !self.msg.cut(broker, svc)
    }

    /// What the network does to a produce request from service `s` to broker `b` now:
    /// the request may not arrive (the broker is down, a partition drops packets from `s`
    /// to it, a `LinkLoss` draw), its acknowledgement may not come back (a partition or
    /// a loss draw the other way), and link latencies both ways (faults and base links)
    /// delay the acknowledgement.
    fn produce_path(&mut self, s: u32, b: u32) -> (bool, bool, SimTime) {
        let (svc, broker) = (
            Endpoint::Service(crate::model::ServiceId(s)),
            Endpoint::Broker(b),
        );
        let mut lost = self.msg.brokers_down[b as usize] > 0 || self.msg.cut(svc, broker);
        let mut unacked = self.msg.cut(broker, svc);
        let mut delay = SimTime::ZERO;
        if let Some(link) = self.broker_link(s, b) {
            lost |= link.lost_toward;
            unacked |= link.lost_back;
            delay = link.delay;
        }
        (lost, unacked, delay)
    }

    /// How long a fetch by service `s`'s consumer from broker `b` takes now, or `None`
    /// when no link fault or base link lies between them (the fetch is instant, as
    /// before links). A fetch is a round trip: latency either way adds up, and a loss
    /// draw either way (request or response dropped) costs [`FETCH_TIMEOUT`] instead,
    /// after which the consumer fetches the same offset again (`.1` is true).
    fn fetch_path(&mut self, s: u32, b: u32) -> Option<(SimTime, bool)> {
        self.broker_link(s, b).map(|link| {
            if link.lost_toward || link.lost_back {
                (FETCH_TIMEOUT, true)
            } else {
                (link.delay, false)
            }
        })
    }

    /// The active link faults and base links between service `s` and broker `b`, drawn
    /// now (each fault and link from its own stream, in scenario order), or `None` when
    /// none lies between them: the one place produce and fetch paths read links.
    fn broker_link(&mut self, s: u32, b: u32) -> Option<BrokerLink> {
        let p = self.p;
        let (svc, broker) = (
            Endpoint::Service(crate::model::ServiceId(s)),
            Endpoint::Broker(b),
        );
        let either = |x: Endpoint, y: Endpoint| (x, y) == (svc, broker) || (x, y) == (broker, svc);
        let mut path: Option<BrokerLink> = None;
        for i in 0..self.links.len() {
            let f = self.links[i] as usize;
            match &p.faults[f].kind {
                FaultKind::LinkLatency { from, to, add } if either(*from, *to) => {
                    if let Some(rng) = self.link_rng[f].as_mut() {
                        let link = path.get_or_insert_default();
                        link.delay = link.delay.after(add.sample(rng));
                    }
                }
                FaultKind::LinkLoss { from, to, rate } if either(*from, *to) => {
                    if let Some(rng) = self.link_rng[f].as_mut() {
                        let dropped = rng.random::<f64>() < *rate;
                        let link = path.get_or_insert_default();
                        if *from == svc {
                            link.lost_toward |= dropped;
                        } else {
                            link.lost_back |= dropped;
                        }
                    }
                }
                _ => {}
            }
        }
        for (l, link) in p.links.iter().enumerate() {
            if either(link.from, link.to) {
                let path = path.get_or_insert_default();
                path.delay = path
                    .delay
                    .after(link.latency.sample(&mut self.link_latency_rng[l]));
            }
        }
        path
    }

    /// Whether calls from `a` to `b` are cut by a partition fault.
    pub(super) fn partitioned(&self, a: u32, b: u32) -> bool {
        !self.msg.partitions.is_empty()
            && self.msg.cut(
                Endpoint::Service(crate::model::ServiceId(a)),
                Endpoint::Service(crate::model::ServiceId(b)),
            )
    }

    /// Appends `msg` for service `s`'s producer `k`; false if the broker is unreachable.
    fn publish(&mut self, now: SimTime, s: u32, k: u32, msg: Msg) -> Sent {
        self.publish_held(now, s, k, msg, false).0
    }

    /// [`Self::publish`], where a produce may fail retriably (`ProduceRetry`): the record
    /// is sent again after `retry.backoff.ms` and lands behind what the producer sent
    /// meanwhile. `held`: an earlier record of this key is being resent by a producer
    /// that keeps order (idempotent, or `max_in_flight` 1), so this one waits behind it.
    /// Returns whether the record is resent. Simplification: only the key's later records
    /// wait; Kafka holds the partition's.
    fn publish_held(&mut self, now: SimTime, s: u32, k: u32, msg: Msg, held: bool) -> (Sent, bool) {
        let p = self.p;
        let pb = &p.services[s as usize].publish[k as usize];
        let b = self.msg.topics[pb.topic as usize].broker;
        let (lost, unacked, delay) = self.produce_path(s, b);
        if lost {
            return (Sent::Lost, false);
        }
        let mut resend = held;
        for f in &p.faults {
            if let FaultKind::ProduceRetry { topic, rate } = f.kind {
                if topic == pb.topic && f.start <= now && now < f.end {
                    let t = &mut self.msg.topics[pb.topic as usize];
                    resend |= t.rng_retry.random::<f64>() < rate;
                }
            }
        }
        let all = pb.acks == Acks::All;
        if resend {
            let t = &mut self.msg.topics[pb.topic as usize];
            if let Some(o) = t.stats.ordering.as_mut() {
                o.produce_retries += !held as u64;
            }
            self.msg.resends.push_back((pb.topic, msg, all));
            self.queue
                .push(now.after(RETRY_BACKOFF), Event::Broker(BrokerEvent::Resend));
            return (Sent::Acked(delay.after(RETRY_BACKOFF)), true);
        }
        let mut copies = 1;
        for f in &p.faults {
            if let FaultKind::DuplicateDelivery { topic, rate } = f.kind {
                if topic == pb.topic && f.start <= now && now < f.end {
                    let t = &mut self.msg.topics[pb.topic as usize];
                    // A lost ack: the producer sends again; an idempotent one is deduplicated.
                    if t.rng_dup.random::<f64>() < rate && !pb.idempotent {
                        copies = 2;
                    }
                }
            }
        }
        for _ in 0..copies {
            self.append(now, pb.topic, msg, all);
        }
        self.msg.topics[pb.topic as usize].stats.duplicate_appends += copies - 1;
        if unacked {
            (Sent::Unacked, false)
        } else {
            (Sent::Acked(delay), false)
        }
    }

    /// Publishes the order's record `msg` and then its `updates` status updates (same
    /// key) through service `s`'s producer `k`: the first answer that is not an ack is
    /// the call's, else the latest ack. A producer that keeps order (idempotent, or
    /// `max_in_flight` 1; Kafka producer docs, `enable.idempotence`) holds the key's
    /// later records behind a resent one; one that does not lets them land first.
    fn publish_keyed(&mut self, now: SimTime, s: u32, k: u32, msg: Msg) -> Sent {
        let pb = &self.p.services[s as usize].publish[k as usize];
        let ordered = pb.idempotent || pb.max_in_flight == 1;
        let (mut sent, mut held) = self.publish_held(now, s, k, msg, false);
        for seq in 1..=pb.updates {
            let id = self.msg.next_id;
            self.msg.next_id += 1;
            let update = Msg { id, seq, ..msg };
            let (next, resent) = self.publish_held(now, s, k, update, held && ordered);
            held |= resent;
            sent = match (sent, next) {
                (Sent::Acked(a), Sent::Acked(b)) => Sent::Acked(a.max(b)),
                (Sent::Acked(_), other) => other,
                (first, _) => first,
            };
        }
        sent
    }

    /// Index of service `s`'s producer `k` in `producers` (it has a buffer).
    fn producer_of(&self, s: u32, k: u32) -> usize {
        self.msg
            .producers
            .iter()
            .position(|x| x.service == s && x.publish == k)
            .expect("a publish with a buffer has a producer")
    }

    /// `send` through service `s`'s producer `k`, which has a buffer (`mech::producer`):
    /// straight to the broker while nothing waits and the broker takes it, else into the
    /// buffer; a full buffer sheds, throws at once (`max_block` 0) or blocks request `req`.
    fn buffered_send(&mut self, now: SimTime, s: u32, k: u32, req: u32, msg: Msg) -> BufferedSend {
        let pi = self.producer_of(s, k);
        let cfg = self.p.services[s as usize].publish[k as usize]
            .buffer
            .expect("buffered producers have a buffer");
        let mut send = self.msg.producers[pi].buf.send(msg, now, true);
        if send == Send::Direct {
            match self.publish(now, s, k, msg) {
                // The broker did not take it: the sender keeps it and retries.
                Sent::Lost => send = self.msg.producers[pi].buf.send(msg, now, false),
                sent => return BufferedSend::Sent(sent),
            }
        }
        match send {
            Send::Direct => unreachable!("handled above"),
            Send::Buffered => {
                self.buffered(now, pi, msg);
                BufferedSend::Buffered
            }
            Send::Full if cfg.shed => {
                self.msg.producers[pi].buf.stats.shed += 1;
                BufferedSend::Shed
            }
            Send::Full if cfg.max_block == SimTime::ZERO => {
                let stats = &mut self.msg.producers[pi].buf.stats;
                stats.blocked += 1;
                stats.block_timeouts += 1;
                BufferedSend::Failed
            }
            Send::Full => {
                let token = self.reqs[req as usize].generation;
                let until = now.after(cfg.max_block);
                self.msg.producers[pi].buf.block(Blocked {
                    req,
                    token,
                    msg,
                    until,
                });
                self.queue.push(
                    until,
                    Event::Broker(BrokerEvent::ProducerBlockDue {
                        producer: pi as u32,
                        req,
                        token,
                    }),
                );
                BufferedSend::Blocked
            }
        }
    }

    /// A record entered producer `pi`'s buffer: it carries its order (for the groups
    /// that will read it) and the sender retries.
    fn buffered(&mut self, now: SimTime, pi: usize, msg: Msg) {
        let pr = &self.msg.producers[pi];
        let topic = self.p.services[pr.service as usize].publish[pr.publish as usize].topic;
        if !self.msg.topics[topic as usize].groups.is_empty() {
            self.ledger.carry(msg.order);
        }
        if !self.msg.producers[pi].buf.armed {
            self.msg.producers[pi].buf.armed = true;
            self.queue.push(
                now.after(RETRY_BACKOFF),
                Event::Broker(BrokerEvent::ProducerRetry {
                    producer: pi as u32,
                }),
            );
        }
    }

    /// Producer `pi`'s sender: delivers buffered records in order while the broker takes
    /// them, fails those past `delivery_timeout`, gives the room to blocked senders, and
    /// retries after `retry.backoff.ms` while records remain.
    fn producer_retry(&mut self, now: SimTime, pi: u32) {
        let pi = pi as usize;
        self.msg.producers[pi].buf.armed = false;
        let (s, k) = (
            self.msg.producers[pi].service,
            self.msg.producers[pi].publish,
        );
        let pb = &self.p.services[s as usize].publish[k as usize];
        let (topic, timeout) = (
            pb.topic as usize,
            pb.buffer.expect("buffered").delivery_timeout,
        );
        let carried = !self.msg.topics[topic].groups.is_empty();
        while let Some(msg) = self.msg.producers[pi].buf.front() {
            if self.publish(now, s, k, msg) == Sent::Lost {
                break;
            }
            self.msg.producers[pi].buf.delivered();
            if carried {
                self.ledger
                    .drop_carrier(msg.order, self.msg.producers[pi].delivered);
            }
        }
        while let Some(msg) = self.msg.producers[pi].buf.expire(now, timeout) {
            self.msg.topics[topic].stats.publish_lost += 1;
            if carried {
                self.ledger
                    .drop_carrier(msg.order, self.msg.producers[pi].expired);
            }
        }
        loop {
            let reqs = &self.reqs;
            let live = |b: &Blocked| {
                let r = &reqs[b.req as usize];
                r.live && r.generation == b.token
            };
            let Some(b) = self.msg.producers[pi].buf.admit(now, live) else {
                break;
            };
            // Its record is in the buffer now: `send` returns and the request answers.
            self.buffered(now, pi, b.msg);
            self.settle_answer(now, b.req, Outcome::Ok);
        }
        if !self.msg.producers[pi].buf.is_empty() && !self.msg.producers[pi].buf.armed {
            self.msg.producers[pi].buf.armed = true;
            self.queue.push(
                now.after(RETRY_BACKOFF),
                Event::Broker(BrokerEvent::ProducerRetry {
                    producer: pi as u32,
                }),
            );
        }
    }

    fn append(&mut self, now: SimTime, topic: u32, msg: Msg, all: bool) {
        let t = &mut self.msg.topics[topic as usize];
        let key = if msg.order == NO_ORDER {
            msg.id
        } else {
            msg.order as u64
        };
        let part = t.log.partition_of(key);
        t.log.append(part, msg, now, all);
        t.stats.appended += 1;
        let lag = self.p.brokers[t.broker as usize].replication_lag;
        for _ in 0..t.groups.len() {
            self.ledger.carry(msg.order);
        }
        if !t.groups.is_empty() {
            self.arm_retention(topic, now);
        }
        if lag > SimTime::ZERO && !self.msg.topics[topic as usize].groups.is_empty() {
            // Consumers read it once the followers have it (the high watermark).
            self.queue.push(
                now.after(lag),
                Event::Broker(BrokerEvent::Replicated {
                    topic,
                    partition: part,
                }),
            );
        }
        for i in 0..self.msg.topics[topic as usize].groups.len() {
            let g = self.msg.topics[topic as usize].groups[i];
            self.update_lag(now, g);
            if lag == SimTime::ZERO {
                let c = self.msg.groups[g as usize].base + part;
                self.poll(now, c);
            }
        }
    }

    fn write_outbox(&mut self, now: SimTime, s: u32, k: u32, msg: Msg) {
        let row = OutboxRow {
            service: s,
            publish: k,
            msg,
            sent: None,
        };
        let i = match self.msg.free_rows.pop() {
            Some(i) => {
                self.msg.outbox[i as usize] = row;
                i
            }
            None => {
                self.msg.outbox.push(row);
                (self.msg.outbox.len() - 1) as u32
            }
        };
        self.ledger.carry(msg.order);
        let delay = self.p.services[s as usize].publish[k as usize]
            .outbox
            .expect("outbox rows come from outbox producers");
        self.queue.push(
            now.after(delay),
            Event::Broker(BrokerEvent::Relay { row: i }),
        );
    }

    /// The relay publishes an outbox row, or tries again after its delay. With acks=All
    /// and a replication lag, the row stays until the replicas' ack; a failover before
    /// it (the message truncated) makes the relay publish it again.
    fn relay(&mut self, now: SimTime, i: u32) {
        let p = self.p;
        let row = self.msg.outbox[i as usize];
        let pb = &p.services[row.service as usize].publish[row.publish as usize];
        let b = self.msg.topics[pb.topic as usize].broker as usize;
        let lag = p.brokers[b].replication_lag;
        if let Some(sent) = row.sent {
            self.msg.outbox[i as usize].sent = None;
            // Truncated if the leader failed over after the append and before the ack.
            if !self.msg.last_failover[b].is_some_and(|t| t >= sent && t < now) {
                self.ledger.drop_carrier(row.msg.order, self.msg.relayed);
                self.msg.free_rows.push(i);
                return;
            }
        }
        // An unacknowledged append is sent again (at least once), as a lost one.
        if matches!(
            self.publish(now, row.service, row.publish, row.msg),
            Sent::Acked(_)
        ) {
            if pb.acks == Acks::All && lag > SimTime::ZERO {
                self.msg.outbox[i as usize].sent = Some(now);
                self.queue
                    .push(now.after(lag), Event::Broker(BrokerEvent::Relay { row: i }));
                return;
            }
            self.ledger.drop_carrier(row.msg.order, self.msg.relayed);
            self.msg.free_rows.push(i);
        } else {
            let delay = self.p.services[row.service as usize].publish[row.publish as usize]
                .outbox
                .expect("outbox rows come from outbox producers");
            self.queue.push(
                now.after(delay),
                Event::Broker(BrokerEvent::Relay { row: i }),
            );
        }
    }

    // ---- job queues ---------------------------------------------------------------

    /// `LPUSH`; false if the queue's store is down.
    fn push_job(&mut self, now: SimTime, q: u32, order: u32) -> bool {
        let st = &mut self.msg.queues[q as usize];
        if st.down {
            st.push_failed += 1;
            return false;
        }
        let id = self.msg.next_id;
        self.msg.next_id += 1;
        st.q.push(
            Job {
                order,
                id,
                deliveries: 0,
                since: now,
            },
            now,
        );
        if let Some((_, cfg)) = &self.p.queues[q as usize].store {
            st.persist.write(cfg, now, self.msg.next_id);
        }
        self.ledger.carry(order);
        self.pump(now, q);
        self.queue_levels(now, q);
        true
    }

    fn queue_levels(&mut self, now: SimTime, q: u32) {
        let st = &mut self.msg.queues[q as usize];
        let (level, depth, taken) = (st.level, st.q.depth(), st.q.taken());
        let oldest = st.q.oldest();
        let changed = st.time.set_oldest(now, oldest);
        if self.msg.levels_ready {
            self.rec.set_level(level, now, depth as u64);
            self.rec.set_level(level + 1, now, taken as u64);
            if changed {
                self.rec.set_oldest(st.time.oldest_col, now, oldest);
            }
        }
    }

    /// An item that entered a queue or topic at `since` was first delivered now, to
    /// service `s`: its wait counts in `time` and in the service's `pulled`.
    fn waited(&mut self, now: SimTime, time: WaitOf, s: u32, since: SimTime) {
        let wait = now.since(since);
        let w = match time {
            WaitOf::Queue(q) => &mut self.msg.queues[q as usize].time,
            WaitOf::Group(g) => &mut self.msg.groups[g as usize].time,
        };
        if self.msg.levels_ready {
            self.rec.duration(w.wait_col, wait);
        }
        if since >= self.msg.warmup {
            w.wait.record(wait.0);
            if let Some(pulled) = &mut self.msg.pulled[s as usize] {
                pulled.queue_wait.record(wait.0);
            }
        }
    }

    /// Work pulled by service `s` that entered its queue at `since` was processed now.
    fn pulled_done(&mut self, now: SimTime, s: u32, since: SimTime) {
        if since >= self.msg.warmup {
            if let Some(pulled) = &mut self.msg.pulled[s as usize] {
                pulled.with_queue.record(now.since(since).0);
            }
        }
    }

    fn worker_up(&self, w: u32) -> bool {
        let wk = &self.msg.workers[w as usize];
        let s = wk.service as usize;
        self.hot[s].ready && self.services[s].replicas[wk.replica as usize].down == 0
    }

    /// Idle workers whose replica is up take jobs while there are any.
    fn pump(&mut self, now: SimTime, q: u32) {
        loop {
            let st = &self.msg.queues[q as usize];
            if st.q.depth() == 0 || st.down {
                break;
            }
            let n = self.msg.queues[q as usize].idle.len();
            let mut found = None;
            for _ in 0..n {
                let w = self.msg.queues[q as usize]
                    .idle
                    .pop_front()
                    .expect("n idle workers");
                if self.worker_up(w) {
                    found = Some(w);
                    break;
                }
                self.msg.queues[q as usize].idle.push_back(w);
            }
            let Some(w) = found else { break };
            let st = &mut self.msg.queues[q as usize];
            let taken = st.q.take().expect("the queue is not empty");
            if let Some((_, cfg)) = &self.p.queues[q as usize].store {
                st.persist.write(cfg, now, self.msg.next_id);
            }
            if taken.job.deliveries == 1 {
                let s = self.msg.workers[w as usize].service;
                self.waited(now, WaitOf::Queue(q), s, taken.job.since);
            }
            self.start_job(now, w, taken);
        }
        self.queue_levels(now, q);
    }

    fn start_job(&mut self, now: SimTime, w: u32, taken: Taken) {
        let p = self.p;
        let wk = &mut self.msg.workers[w as usize];
        wk.busy = true;
        wk.taken = taken;
        wk.req = NONE;
        wk.since = now;
        let (s, replica, q) = (wk.service, wk.replica, wk.queue);
        let spec = &p.queues[q as usize];
        if spec.reliable {
            self.queue.push(
                now.after(spec.visibility_timeout),
                Event::JobVisibility {
                    queue: q,
                    handle: taken.handle,
                    token: taken.token,
                },
            );
        }
        let origin = Origin {
            waiter: Waiter::Worker(w),
            deadline: SimTime::MAX,
            client: NONE,
            depth: 0,
            order: taken.job.order,
            replica,
            parent: super::Parent::Job {
                queue: q,
                id: taken.job.id,
                delivery: taken.job.deliveries,
            },
        };
        match self.arrive(now, s, origin) {
            Some(req) => {
                let wk = &mut self.msg.workers[w as usize];
                if wk.busy && wk.taken == taken {
                    wk.req = req;
                }
            }
            None => self.job_done(now, w, Outcome::Rejected),
        }
    }

    /// A worker's request ended: acknowledge, retry or park the job, or lose it with a
    /// dead worker; then the worker takes the next job.
    pub(super) fn job_done(&mut self, now: SimTime, w: u32, outcome: Outcome) {
        let wk = &mut self.msg.workers[w as usize];
        debug_assert!(wk.busy, "a worker's request ends while it is busy");
        wk.busy = false;
        wk.req = NONE;
        let (q, t, since, s) = (wk.queue, wk.taken, wk.since, wk.service);
        if t.job.deliveries == 1 {
            self.pulled_done(now, s, t.job.since);
        }
        let st = &mut self.msg.queues[q as usize];
        let cols = st.cols;
        if self.msg.levels_ready {
            self.rec.duration(cols.processing, now.since(since));
            if outcome != Outcome::Ok {
                self.rec.count(cols.failed);
            }
        }
        match outcome {
            Outcome::Ok => {
                if st.q.ack(t.handle, t.token) {
                    self.ledger.drop_carrier(t.job.order, st.acked);
                }
            }
            Outcome::Crashed => {
                if let Some(job) = st.q.died(t.handle, t.token) {
                    self.ledger.drop_carrier(job.order, st.lost);
                }
            }
            _ => match st.q.fail(t.handle, t.token, now) {
                Failed::Requeued | Failed::Stale => {}
                Failed::Parked(job) => {
                    self.ledger.parked(job.order, now);
                    self.ledger.drop_carrier(job.order, st.parked);
                    if self.msg.levels_ready {
                        self.rec.set_gauge(cols.dlq, st.q.stats.dlq);
                    }
                }
                Failed::Dropped(job) => self.ledger.drop_carrier(job.order, st.dropped),
            },
        }
        self.msg.queues[q as usize].idle.push_back(w);
        self.pump(now, q);
    }

    pub(super) fn job_visibility(&mut self, now: SimTime, q: u32, handle: u32, token: u32) {
        if self.msg.queues[q as usize].q.expire(handle, token, now) {
            self.pump(now, q);
        }
    }

    // ---- consumer groups ----------------------------------------------------------

    fn update_lag(&mut self, now: SimTime, g: u32) {
        let group = &mut self.msg.groups[g as usize];
        let log = &self.msg.topics[group.topic as usize].log;
        let lag = log.lag(group.index);
        let oldest = log.oldest_uncommitted(group.index);
        group.stats.lag_max = group.stats.lag_max.max(lag);
        group.stats.lag_end = lag;
        let changed = group.time.set_oldest(now, oldest);
        if self.msg.levels_ready {
            self.rec.set_level(group.level, now, lag);
            if changed {
                self.rec.set_oldest(group.time.oldest_col, now, oldest);
            }
        }
    }

    /// The replica hosting consumer `c` now: the `p mod up`-th replica that is up.
    fn host(&self, c: u32) -> Option<u32> {
        let con = &self.msg.consumers[c as usize];
        let s = self.msg.groups[con.group as usize].service as usize;
        let st = &self.services[s];
        let hot = &self.hot[s];
        if !hot.ready || hot.up == 0 {
            return None;
        }
        let k = con.partition % hot.up;
        st.replicas
            .iter()
            .enumerate()
            .filter(|(_, r)| r.down == 0 && r.listed)
            .nth(k as usize)
            // A consumer whose pod died holds its partitions until it is declared gone.
            .filter(|(_, r)| r.pod.accepts())
            .map(|(i, _)| i as u32)
    }

    fn poll_group(&mut self, now: SimTime, g: u32) {
        let group = &self.msg.groups[g as usize];
        let (base, n) = (
            group.base,
            self.msg.topics[group.topic as usize].log.partitions(),
        );
        for c in base..base + n {
            self.poll(now, c);
        }
    }

    /// Consumer `c` takes its partition's next message, if it can.
    fn poll(&mut self, now: SimTime, c: u32) {
        let p = self.p;
        loop {
            let con = self.msg.consumers[c as usize];
            let g = con.group;
            let group = &self.msg.groups[g as usize];
            if con.busy || con.backoff || group.paused {
                return;
            }
            let (s, topic, gi) = (group.service, group.topic, group.index);
            if !self.reaches(s, topic) {
                return;
            }
            let Some(replica) = self.host(c) else { return };
            let cfg = p.services[s as usize]
                .consume
                .as_ref()
                .expect("groups come from consumers");
            let b = self.msg.topics[topic as usize].broker;
            let visible = self.replicated_before(now, b);
            if con.fetching {
                return;
            }
            if !con.fetched
                && (!self.links.is_empty() || !p.links.is_empty())
                && self.msg.topics[topic as usize]
                    .log
                    .has_next(gi, con.partition, visible)
            {
                if let Some((wait, lost)) = self.fetch_path(s, b) {
                    self.msg.consumers[c as usize].fetching = true;
                    self.queue.push(
                        now.after(wait),
                        Event::Broker(BrokerEvent::Fetched { consumer: c, lost }),
                    );
                    return;
                }
            }
            let log = &mut self.msg.topics[topic as usize].log;
            let Some((offset, msg, again)) = log.deliver(gi, con.partition, visible) else {
                return;
            };
            self.msg.consumers[c as usize].fetched = false;
            let published = log
                .appended_at(con.partition, offset)
                .expect("a delivered message is in the log");
            if !again {
                self.waited(now, WaitOf::Group(g), s, published);
                if msg.order != NO_ORDER {
                    self.key_order(g, msg);
                }
            }
            self.streams.delivered(s, msg.id, published);
            self.read_models
                .delivered(s, con.partition, msg.id, published);
            let group = &mut self.msg.groups[g as usize];
            group.stats.delivered += 1;
            group.stats.redelivered += again as u64;
            if cfg.idempotent && group.seen.get(msg.id as usize).copied().unwrap_or(false) {
                // Already processed: skip it, and commit as if processed.
                group.stats.deduplicated += 1;
                let cause = group.processed;
                self.finish_offset(now, c, offset, cause);
                continue;
            }
            let con = &mut self.msg.consumers[c as usize];
            con.deliveries = if con.offset == offset && con.deliveries > 0 {
                con.deliveries + 1
            } else {
                1
            };
            con.offset = offset;
            con.msg = msg;
            con.busy = true;
            con.req = NONE;
            con.since = now;
            con.published = published;
            con.first = !again;
            let part = con.partition;
            if cfg.commit == Commit::BeforeProcessing && cfg.auto_commit.is_none() {
                let cause = self.msg.groups[g as usize].processed;
                self.commit(now, g, part, offset + 1, cause);
            }
            let origin = Origin {
                waiter: Waiter::Consumer(c),
                deadline: SimTime::MAX,
                client: NONE,
                depth: 0,
                // A status update does not do the step again.
                order: if msg.seq == 0 { msg.order } else { NO_ORDER },
                replica,
                parent: super::Parent::Message {
                    topic,
                    id: msg.id,
                    delivery: self.msg.consumers[c as usize].deliveries,
                },
            };
            match self.arrive(now, s, origin) {
                Some(req) => {
                    let con = &mut self.msg.consumers[c as usize];
                    if con.busy && con.offset == offset {
                        con.req = req;
                    }
                }
                None => self.delivery_done(now, c, Outcome::Rejected),
            }
            return;
        }
    }

    /// Group `g` takes `msg` for the first time: counts it out of order if a later record
    /// of its key came first, and an order record behind its own update leaves the order
    /// stale (the create overwrote the newer status). Counted by the topic's first group.
    fn key_order(&mut self, g: u32, msg: Msg) {
        let group = &mut self.msg.groups[g as usize];
        let o = msg.order as usize;
        if group.index != 0 || (msg.seq == 0 && o >= group.key_seq.len()) {
            return;
        }
        if o >= group.key_seq.len() {
            group.key_seq.resize(o + 1, 0);
        }
        let seen = group.key_seq[o];
        let seq = msg.seq.min(u8::MAX as u32) as u8;
        if seq >= seen {
            group.key_seq[o] = seq;
            return;
        }
        let t = &mut self.msg.topics[group.topic as usize];
        let ordering = t.stats.ordering.get_or_insert_with(Default::default);
        ordering.out_of_order += 1;
        if seq == 0 {
            ordering.update_before_create += 1;
            self.ledger.stale(msg.order, t.stale);
        }
    }

    /// Commits group `g` on partition `part` up to `upto`: the messages it passes stop
    /// carrying their orders for this group.
    fn commit(&mut self, now: SimTime, g: u32, part: u32, upto: u64, cause: Cause) {
        let group = &self.msg.groups[g as usize];
        let (topic, gi) = (group.topic, group.index);
        let s = group.service;
        let ledger = &mut self.ledger;
        self.msg.topics[topic as usize]
            .log
            .commit(gi, part, upto, |m| ledger.drop_carrier(m.order, cause));
        self.streams.committed(s, part, upto);
        self.read_models.committed(s, part, upto);
        self.update_lag(now, g);
    }

    /// The message at `offset` is done with (processed, skipped, parked or dropped).
    fn finish_offset(&mut self, now: SimTime, c: u32, offset: u64, cause: Cause) {
        let p = self.p;
        let con = self.msg.consumers[c as usize];
        let g = con.group;
        let group = &self.msg.groups[g as usize];
        let (topic, gi, s) = (group.topic, group.index, group.service);
        self.msg.topics[topic as usize]
            .log
            .processed(gi, con.partition, offset);
        let cfg = p.services[s as usize]
            .consume
            .as_ref()
            .expect("groups come from consumers");
        if cfg.auto_commit.is_none() {
            self.commit(now, g, con.partition, offset + 1, cause);
        }
    }

    fn auto_commit(&mut self, now: SimTime, g: u32) {
        let p = self.p;
        let group = &self.msg.groups[g as usize];
        let (topic, gi, base, s) = (group.topic, group.index, group.base, group.service);
        let cause = group.processed;
        let before = p.services[s as usize]
            .consume
            .as_ref()
            .is_some_and(|c| c.commit == Commit::BeforeProcessing);
        let n = self.msg.topics[topic as usize].log.partitions();
        for part in 0..n {
            let cur = self.msg.topics[topic as usize].log.cursor(gi, part);
            // Auto-commit saves the positions reached by polls; after processing, only
            // what was processed.
            let upto = if before { cur.position } else { cur.processed };
            self.commit(now, g, part, upto, cause);
        }
        let _ = base;
    }

    /// A consumer's request ended.
    pub(super) fn delivery_done(&mut self, now: SimTime, c: u32, outcome: Outcome) {
        let p = self.p;
        let con = self.msg.consumers[c as usize];
        debug_assert!(con.busy, "a consumer's request ends while it is busy");
        let g = con.group;
        {
            let con = &mut self.msg.consumers[c as usize];
            con.busy = false;
            con.req = NONE;
        }
        let group = &self.msg.groups[g as usize];
        let (topic, gi, s, cols) = (group.topic, group.index, group.service, group.cols);
        let cfg = p.services[s as usize]
            .consume
            .as_ref()
            .expect("groups come from consumers");
        if self.msg.levels_ready {
            self.rec.duration(cols.processing, now.since(con.since));
            if outcome != Outcome::Ok {
                self.rec.count(cols.failed);
            }
        }
        if con.first {
            self.pulled_done(now, s, con.published);
        }
        match outcome {
            Outcome::Ok => {
                let group = &mut self.msg.groups[g as usize];
                group.stats.processed += 1;
                if cfg.idempotent {
                    let id = con.msg.id as usize;
                    if group.seen.len() <= id {
                        group.seen.resize(id + 1, false);
                    }
                    group.seen[id] = true;
                }
                let cause = group.processed;
                self.msg.consumers[c as usize].deliveries = 0;
                self.streams
                    .processed(s, con.partition, con.offset, con.msg.id);
                self.read_models
                    .processed(s, con.partition, con.offset, con.msg.id, now);
                self.finish_offset(now, c, con.offset, cause);
            }
            Outcome::Crashed => {
                // The consumer died: the group stops, then the partition restarts from
                // the committed offset on whichever replica takes it.
                self.msg.topics[topic as usize]
                    .log
                    .rewind(gi, con.partition);
                self.streams.aborted(s, con.partition);
                self.read_models.aborted(s, con.partition, now);
                self.msg.consumers[c as usize].deliveries = 0;
                self.rebalance(now, g);
                return;
            }
            _ => {
                let group = &mut self.msg.groups[g as usize];
                group.stats.failed += 1;
                let at_most_once =
                    cfg.commit == Commit::BeforeProcessing && cfg.auto_commit.is_none();
                // At-most-once: the offset is committed, the message is not retried.
                if !at_most_once && con.deliveries < cfg.max_deliveries {
                    // Blocking retry: seek back to the same offset.
                    self.msg.topics[topic as usize]
                        .log
                        .seek(gi, con.partition, con.offset);
                    if cfg.retry_delay > SimTime::ZERO {
                        self.msg.consumers[c as usize].backoff = true;
                        self.queue.push(
                            now.after(cfg.retry_delay),
                            Event::Broker(BrokerEvent::RetryDue { consumer: c }),
                        );
                        return;
                    }
                } else {
                    self.msg.consumers[c as usize].deliveries = 0;
                    let cause = if cfg.dlq {
                        group.stats.dlq += 1;
                        self.ledger.parked(con.msg.order, now);
                        if self.msg.levels_ready {
                            self.rec.set_gauge(cols.dlq, group.stats.dlq);
                        }
                        group.parked
                    } else {
                        group.stats.dropped += 1;
                        group.dropped
                    };
                    if at_most_once {
                        // Committed at delivery: the carrier is gone already.
                        self.ledger.carry(con.msg.order);
                        self.ledger.drop_carrier(con.msg.order, cause);
                    }
                    self.finish_offset(now, c, con.offset, cause);
                }
            }
        }
        self.poll(now, c);
    }

    /// The group stops for its `rebalance` pause (a consumer left or joined). The
    /// survivors commit what they processed as their partitions are revoked (Kafka
    /// commits on revocation), so only a dead consumer's partition replays.
    fn rebalance(&mut self, now: SimTime, g: u32) {
        let p = self.p;
        let group = &mut self.msg.groups[g as usize];
        if group.paused && group.paused_at == now {
            return;
        }
        group.stats.rebalances += 1;
        group.paused = true;
        group.paused_at = now;
        group.token = group.token.wrapping_add(1);
        let token = group.token;
        let pause = p.services[group.service as usize]
            .consume
            .as_ref()
            .expect("groups come from consumers")
            .rebalance;
        self.queue.push(
            now.after(pause),
            Event::Broker(BrokerEvent::Rebalanced { group: g, token }),
        );
    }

    // ---- faults and availability --------------------------------------------------

    /// Service `s` changed availability: the queues it holds may lose their contents or
    /// come back, and its workers and consumers may move.
    pub(super) fn messaging_availability(&mut self, now: SimTime, s: usize) {
        for q in 0..self.msg.queues.len() {
            if self.p.queues[q]
                .store
                .as_ref()
                .is_some_and(|st| st.0 .0 as usize == s)
            {
                self.store_availability(now, q as u32, s);
            }
        }
        let (a, b) = self.msg.service_workers[s];
        if a < b {
            let q = self.msg.workers[a as usize].queue;
            self.pump(now, q);
        }
        let g = self.msg.service_group[s];
        if g != NONE {
            let hot = &self.hot[s];
            let up = if hot.ready { hot.up } else { 0 };
            let group = &mut self.msg.groups[g as usize];
            if up != group.members {
                // Consumers left or joined: partitions move.
                group.members = up;
                self.rebalance(now, g);
            } else {
                self.poll_group(now, g);
            }
        }
    }

    /// The store `s` of queue `q` changed: when its last replica dies the list keeps only
    /// what was persisted; while none is up and ready the queue is unavailable.
    fn store_availability(&mut self, now: SimTime, q: u32, s: usize) {
        let p = self.p;
        let Some((_, cfg)) = &p.queues[q as usize].store else {
            return;
        };
        let (alive, ready) = (self.hot[s].up > 0, self.hot[s].ready);
        let st = &mut self.msg.queues[q as usize];
        if st.alive && !alive {
            let first = st.persist.crash(cfg, now);
            let (ledger, cause) = (&mut self.ledger, st.store_lost);
            st.q.lose_pending(first, |job| ledger.drop_carrier(job.order, cause));
        } else if !st.alive && alive {
            // Restarted: it loaded what survived.
            st.persist = Persist::new(now, self.msg.next_id);
        }
        st.alive = alive;
        st.down = !(alive && ready);
        if st.down {
            self.queue_levels(now, q);
        } else {
            self.pump(now, q);
        }
    }

    /// The requests in the hands of `s`'s workers and consumers die.
    fn kill_consumers(&mut self, now: SimTime, s: usize) {
        let (a, b) = self.msg.service_workers[s];
        let mut victims: Vec<u32> = (a..b)
            .filter_map(|w| {
                let wk = &self.msg.workers[w as usize];
                (wk.busy && wk.req != NONE).then_some(wk.req)
            })
            .collect();
        let g = self.msg.service_group[s];
        if g != NONE {
            let group = &self.msg.groups[g as usize];
            let n = self.msg.topics[group.topic as usize].log.partitions();
            victims.extend((group.base..group.base + n).filter_map(|c| {
                let con = &self.msg.consumers[c as usize];
                (con.busy && con.req != NONE).then_some(con.req)
            }));
        }
        let cause = self.msg.req_causes[s][8];
        for v in victims {
            if self.reqs[v as usize].live {
                self.reqs[v as usize].lost_publish = cause;
                self.kill(now, v);
            }
        }
    }

    pub(super) fn messaging_fault(&mut self, now: SimTime, f: u32, starting: bool) {
        let p = self.p;
        match &p.faults[f as usize].kind {
            FaultKind::KillConsumer { target } if starting => {
                self.kill_consumers(now, target.0 as usize);
            }
            FaultKind::BrokerRestart { broker } => self.broker_power(now, *broker, starting, false),
            FaultKind::Outage { brokers, .. } => {
                for &b in brokers {
                    self.broker_power(now, b, starting, true);
                }
            }
            // Partitions with a broker, and symmetric ones between two services; the rest
            // act on calls (`fault::on_calls`).
            FaultKind::Partition { a, b, one_way }
                if !super::fault::on_calls(&p.faults[f as usize].kind) =>
            {
                let key = (*a, *b, *one_way);
                let entry = self
                    .msg
                    .partitions
                    .iter_mut()
                    .find(|(x, y, o, _)| (*x, *y, *o) == key);
                if starting {
                    match entry {
                        Some(e) => e.3 += 1,
                        None => self.msg.partitions.push((*a, *b, *one_way, 1)),
                    }
                } else {
                    if let Some(e) = entry {
                        e.3 -= 1;
                    }
                    for g in 0..self.msg.groups.len() as u32 {
                        self.poll_group(now, g);
                    }
                }
            }
            _ => {}
        }
    }

    /// Broker `b` goes down (`down`) or comes back: a restart, or a power loss in an
    /// outage; overlapping faults nest. Going down, an in-memory broker loses every
    /// message it held; a durable one fails over to (or restarts from) what its
    /// followers had, losing what was appended within the replication lag. Durable
    /// means the log survives a power loss (flushed to disk, or replicas in other power
    /// domains): Kafka's own defaults leave flushing to the OS page cache, so a real
    /// cluster that loses power in all its racks at once can lose more than this.
    fn broker_power(&mut self, now: SimTime, b: u32, down: bool, outage: bool) {
        let i = b as usize;
        if down {
            self.msg.brokers_down[i] += 1;
            if self.msg.brokers_down[i] == 1 {
                self.msg.last_failover[i] = Some(now);
                if self.p.brokers[i].durability == Durability::InMemory {
                    self.lose_broker(now, b, outage);
                } else if self.p.brokers[i].replication_lag > SimTime::ZERO {
                    self.fail_over(now, b);
                }
            }
        } else {
            self.msg.brokers_down[i] -= 1;
            self.poll_broker(now, b);
        }
    }

    fn poll_broker(&mut self, now: SimTime, b: u32) {
        for g in 0..self.msg.groups.len() as u32 {
            let t = self.msg.groups[g as usize].topic;
            if self.msg.topics[t as usize].broker == b {
                self.poll_group(now, g);
            }
        }
    }

    /// A durable broker's leader fails over: the followers lack what was appended within
    /// the replication lag, so it is gone. Acknowledged by the leader (acks=Leader) or
    /// never awaited (acks=None): lost without anyone knowing. Not acknowledged yet
    /// (acks=All): its producer gets an error instead (see `lost_in_failover`).
    fn fail_over(&mut self, now: SimTime, b: u32) {
        let since = self.replicated_before(now, b);
        for t in 0..self.msg.topics.len() {
            if self.msg.topics[t].broker != b {
                continue;
            }
            let st = &mut self.msg.topics[t];
            let (failover, unacked) = (st.failover, st.unacked);
            let ledger = &mut self.ledger;
            let removed = st.log.truncate(since, |_, m, all| {
                ledger.drop_carrier(m.order, if all { unacked } else { failover })
            });
            st.stats.failover_lost += removed.messages - removed.unacked;
            st.stats.failover_unacked += removed.unacked;
            for i in 0..self.msg.topics[t].groups.len() {
                let g = self.msg.topics[t].groups[i];
                self.update_lag(now, g);
            }
        }
    }

    /// An in-memory broker restarts (or loses power in an outage): every message it
    /// held is gone.
    fn lose_broker(&mut self, now: SimTime, b: u32, outage: bool) {
        for t in 0..self.msg.topics.len() {
            if self.msg.topics[t].broker != b {
                continue;
            }
            let st = &self.msg.topics[t];
            let cause = if outage { st.power_lost } else { st.restart };
            let ledger = &mut self.ledger;
            let lost = self.msg.topics[t]
                .log
                .lose_all(|_, m, _| ledger.drop_carrier(m.order, cause));
            self.msg.topics[t].stats.restart_lost += lost;
            for i in 0..self.msg.topics[t].groups.len() {
                let g = self.msg.topics[t].groups[i];
                self.update_lag(now, g);
            }
        }
    }

    // ---- summary --------------------------------------------------------------------

    pub(super) fn queue_summaries(&self) -> BTreeMap<String, QueueSummary> {
        self.p
            .queues
            .iter()
            .zip(&self.msg.queues)
            .map(|(spec, st)| {
                let s = st.q.stats;
                let (oldest_age_s_max, oldest_age_s_end) = st.time.oldest_age_s(self.p.end());
                (
                    spec.name.clone(),
                    QueueSummary {
                        reliable: spec.reliable,
                        depth_max: s.depth_max,
                        depth_end: st.q.depth() as u64,
                        processing_end: st.q.taken() as u64,
                        enqueued: s.enqueued,
                        delivered: s.delivered,
                        redelivered: s.redelivered,
                        expired: s.expired,
                        acked: s.acked,
                        dlq: s.dlq,
                        dropped: s.dropped,
                        lost: s.lost,
                        store_lost: s.store_lost,
                        push_failed: st.push_failed,
                        wait_ms: st.time.wait.summary_ms(),
                        oldest_age_s_max,
                        oldest_age_s_end,
                    },
                )
            })
            .collect()
    }

    pub(super) fn topic_summaries(&self) -> BTreeMap<String, TopicSummary> {
        let p = self.p;
        p.topics
            .iter()
            .zip(&self.msg.topics)
            .enumerate()
            .map(|(ti, (spec, t))| {
                let mut stats = t.stats.clone();
                stats.held_end = t.log.held();
                stats.producer_buffer = self.producer_buffer_summary(ti as u32);
                stats.groups = t
                    .groups
                    .iter()
                    .map(|&g| {
                        let group = &self.msg.groups[g as usize];
                        let mut stats = group.stats.clone();
                        (stats.lag_s_max, stats.lag_s_end) = group.time.oldest_age_s(p.end());
                        stats.wait_ms = group.time.wait.summary_ms();
                        (p.services[group.service as usize].name.clone(), stats)
                    })
                    .collect();
                (spec.name.clone(), stats)
            })
            .collect()
    }

    /// What the send buffers of the producers to `topic` did, summed; `None` when none
    /// has a buffer (the key is left out of summary.json).
    fn producer_buffer_summary(&self, topic: u32) -> Option<ProducerBufferSummary> {
        let p = self.p;
        let mut out: Option<ProducerBufferSummary> = None;
        for pr in &self.msg.producers {
            if p.services[pr.service as usize].publish[pr.publish as usize].topic != topic {
                continue;
            }
            let (st, o) = (pr.buf.stats, out.get_or_insert_default());
            o.buffered += st.buffered;
            o.held_max = o.held_max.max(st.max_held);
            o.blocked += st.blocked;
            o.block_timeouts += st.block_timeouts;
            o.shed += st.shed;
            o.expired += st.expired;
            o.held_end += pr.buf.len() as u64;
        }
        out
    }

    /// Per service, what its pulled work spent in queues (None if it pulls none).
    pub(super) fn pulled_summaries(&self) -> Vec<Option<PulledSummary>> {
        let p = self.p;
        p.services
            .iter()
            .zip(&self.msg.pulled)
            .map(|(spec, pulled)| {
                let pulled = pulled.as_ref()?;
                let queue = spec
                    .workers
                    .map(|w| format!("queue {}", p.queues[w.queue as usize].name));
                let topic = spec
                    .consume
                    .as_ref()
                    .map(|c| format!("topic {}", p.topics[c.topic as usize].name));
                Some(PulledSummary {
                    from: queue.into_iter().chain(topic).collect(),
                    queue_wait_ms: pulled.queue_wait.summary_ms(),
                    sojourn_with_queue_ms: pulled.with_queue.summary_ms(),
                })
            })
            .collect()
    }
}

/// Whose wait: a job queue's, or a consumer group's in its topic.
/// What became of a produce request (`Sim::publish`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Never appended: the broker was down or unreachable.
    Lost,
    /// Appended, but its acknowledgement never reached the producer.
    Unacked,
    /// Appended and acknowledged, after this much extra link latency.
    Acked(SimTime),
}

#[derive(Debug, Clone, Copy)]
enum WaitOf {
    Queue(u32),
    Group(u32),
}
