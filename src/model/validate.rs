//! From `Spec` to `Platform`: check every field, report every problem at once, each with
//! the path of the field to fix (`services[2].calls[0].to`).

use super::schedule::RateSchedule;
use super::{
    graph, Autoscale, AutoscaleMetric, Backoff, BreakerConfig, BreakerWindow, Broker, Bulkhead,
    Call, ConcurrencyLimit, Consume, Dist, Fault, FaultKind, FixedWindow, Jitter, JobQueue, Link,
    Orders, Persistence, Platform, Publish, Recovery, RecoveryCheck, Retry, RetryBudget, RetryOn,
    RetryPolicy, Service, ServiceId, Topic, Workers, Workload, WorkloadId, WorkloadKind,
};
use crate::engine::{parse_duration, SimTime};
use crate::mech::breaker::{CallOutcome, FailureKinds};
use crate::mech::limits::{AimdLimit, Gradient2Limit};
use crate::scenario::error::did_you_mean;
use crate::scenario::PublishSpec;
use crate::scenario::{
    AutoscaleMetricSpec, AutoscaleSpec, BackoffSpec, BreakerSpec, BreakerWindowSpec, BulkheadSpec,
    ConcurrencyLimitSpec, DistSpec, FaultSpec, JitterSpec, JobQueueSpec, LinkSpec, PersistenceSpec,
    Problem, RateChangeSpec, RateLimiterSpec, RecoveryCheckSpec, RecoverySpec, RetryOnSpec,
    RetrySpec, ScenarioError, ServiceSpec, Spec, WorkloadSpec,
};
use std::collections::BTreeMap;

mod adaptive;
mod datastore;
mod kube;
mod link;
mod partition;
pub use partition::MAX_PARTITIONS;
mod readmodel;
mod resilience;
mod stream;

/// Most replicas one service may have: each is a real station with its own queue.
pub const MAX_REPLICAS: u32 = 100_000;
/// Most users of one closed workload: each is a client with its own think timer.
pub const MAX_USERS: u32 = 10_000_000;
/// Highest rate of anything per second: one every nanosecond of virtual time.
pub const MAX_RATE: f64 = 1e9;
/// Largest breaker window and half-open batch, in calls: a breaker keeps one slot per
/// call of its window (Resilience4j's `FixedSizeSlidingWindowMetrics` does the same), so
/// the size is memory. Resilience4j's default is 100.
pub const MAX_BREAKER_CALLS: u32 = 1_000_000;
/// Longest time-based breaker window: one bucket per second (Resilience4j's
/// `SlidingTimeWindowMetrics`), so a day is 86,400 buckets.
pub const MAX_BREAKER_WINDOW_S: u64 = 86_400;

/// Validates `spec`; `origin` names the scenario in the error.
pub fn validate(spec: &Spec, origin: &str) -> Result<Platform, ScenarioError> {
    build(spec).map_err(|problems| ScenarioError::Invalid {
        origin: origin.to_string(),
        problems,
    })
}

/// Validates `spec`, returning every problem found.
pub fn build(spec: &Spec) -> Result<Platform, Vec<Problem>> {
    let mut c = Check::default();
    if spec.name.trim().is_empty() {
        c.fail("name", "must not be empty");
    }
    let duration = c.duration("duration", &spec.duration);
    if duration == Some(SimTime::ZERO) {
        c.fail("duration", "must be longer than 0s");
    }
    let warmup = c.duration("warmup", &spec.warmup);
    if let (Some(w), Some(d)) = (warmup, duration) {
        if w >= d && d > SimTime::ZERO {
            c.fail(
                "warmup",
                format!("{w} leaves nothing to measure in a run of {d}"),
            );
        }
    }
    let window = c.duration("window", &spec.window);
    if window == Some(SimTime::ZERO) {
        c.fail("window", "must be longer than 0s");
    }

    let names = c.service_names(&spec.services);
    let services: Vec<Option<Service>> = spec
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| c.service(i, s, &names))
        .collect();
    c.call_circles(&spec.services, &names);
    let workloads = c.workloads(&spec.workload, &names);
    let msg = c.messaging(spec, &names);
    let nodes = c.nodes(spec.nodes.as_ref());
    let kubes: Vec<Option<Option<crate::model::Kube>>> = spec
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| c.kube(i, s, spec.nodes.is_some()))
        .collect();
    let pods: Vec<bool> = spec
        .services
        .iter()
        .map(|s| spec.nodes.is_some() || s.autoscale.is_some() || s.kubernetes.is_some())
        .collect();
    let ends = link::Ends::new(
        &names,
        &msg.broker_names,
        &spec.services,
        spec.nodes.as_ref().map(|n| n.count),
        &pods,
        msg.per_service.iter().map(|m| {
            let consumed = m.3.as_ref().map(|c| c.topic);
            m.2.iter().map(|pb| pb.topic).chain(consumed).collect()
        }),
        &msg.topics,
    );
    let mut services = services;
    c.node_changes(
        &spec.faults,
        &names,
        &spec.services,
        &mut services,
        duration,
    );
    let faults: Vec<Option<Fault>> = spec
        .faults
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.is_node_change())
        .map(|(i, f)| {
            if f.is_messaging() {
                c.messaging_fault(i, f, &names, &msg, &ends, duration)
            } else if f.is_breaker_override() {
                c.breaker_override(i, f, &names, &spec.services, &workloads, duration)
            } else if f.is_kube() {
                c.kube_fault(
                    i,
                    f,
                    &names,
                    &spec.services,
                    &pods,
                    spec.nodes.as_ref(),
                    duration,
                )
            } else {
                c.fault(i, f, spec, &names, &workloads, duration)
            }
        })
        .collect();
    c.breaker_overrides_apart(&faults);
    let deployments = c.deployments(spec, &names, &pods, duration);
    let links = c.links(&spec.links, &ends);
    drop(ends);
    let recovery_check = c.recovery_check(&spec.recovery_check);
    let recovery = c.recovery(&spec.recovery);
    // The failure search's budget: `run` ignores it, but `check` (and every command that
    // validates) refuses a nonsense one here rather than at the start of a search.
    if spec.explore.is_some() && duration.is_some() {
        let flags = crate::explore::BudgetFlags::default();
        if let Err(problems) = crate::explore::Budget::resolve(spec, &flags) {
            c.problems.extend(problems);
        }
    }

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    let Messaging {
        drain,
        orders,
        queues,
        brokers,
        topics,
        per_service,
        ..
    } = msg;
    let mut services: Vec<Service> = services.into_iter().map(|s| s.expect("checked")).collect();
    for (s, m) in services.iter_mut().zip(per_service) {
        (s.push, s.workers, s.publish, s.consume) = m;
    }
    for (s, k) in services.iter_mut().zip(kubes) {
        s.kube = k.expect("checked");
    }
    Ok(Platform {
        drain: drain.expect("checked"),
        orders,
        queues,
        brokers,
        topics,
        name: spec.name.clone(),
        seed: spec.seed,
        duration: duration.expect("checked"),
        warmup: warmup.expect("checked"),
        window: window.expect("checked"),
        services,
        workloads: workloads.into_iter().map(|w| w.expect("checked")).collect(),
        faults: faults.into_iter().map(|f| f.expect("checked")).collect(),
        links,
        recovery_check: recovery_check.expect("checked"),
        recovery: recovery.expect("checked"),
        nodes: nodes.expect("checked"),
        deployments: deployments.expect("checked"),
    })
}

/// Messaging parts of a platform, resolved (see `Check::messaging`).
struct Messaging {
    drain: Option<SimTime>,
    orders: Option<Orders>,
    queues: Vec<JobQueue>,
    brokers: Vec<Broker>,
    topics: Vec<Topic>,
    topic_names: BTreeMap<String, usize>,
    broker_names: BTreeMap<String, usize>,
    per_service: Vec<ServiceMessaging>,
}

type ServiceMessaging = (Option<u32>, Option<Workers>, Vec<Publish>, Option<Consume>);

impl FaultSpec {
    fn is_messaging(&self) -> bool {
        matches!(
            self,
            FaultSpec::KillConsumer { .. }
                | FaultSpec::DuplicateDelivery { .. }
                | FaultSpec::ProduceRetry { .. }
                | FaultSpec::BrokerRestart { .. }
                | FaultSpec::Partition { .. }
                | FaultSpec::LinkLatency { .. }
                | FaultSpec::LinkLoss { .. }
                | FaultSpec::CrashBeforePublish { .. }
        )
    }
}

#[derive(Default)]
struct Check {
    problems: Vec<Problem>,
}

impl Check {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    fn duration(&mut self, path: &str, text: &str) -> Option<SimTime> {
        parse_duration(text)
            .map_err(|e| self.fail(path, e.to_string()))
            .ok()
    }

    /// A fault at `{p}` must start before the end of the run: `None` (reported) if not.
    fn starts_before_end(
        &mut self,
        p: &str,
        start: Option<SimTime>,
        run: Option<SimTime>,
    ) -> Option<()> {
        if let (Some(s), Some(end)) = (start, run) {
            if s >= end {
                self.fail(
                    format!("{p}.at"),
                    format!("{s} is not before the end of the run ({end})"),
                );
                return None;
            }
        }
        Some(())
    }

    fn positive_duration(&mut self, path: &str, text: &str) -> Option<SimTime> {
        let t = self.duration(path, text)?;
        if t == SimTime::ZERO {
            self.fail(path, "must be longer than 0s");
            return None;
        }
        Some(t)
    }

    /// A producer's `max_in_flight` (default 5, Kafka's) and `updates` at `{pp}`: an
    /// idempotent producer takes at most 5 in flight (Kafka refuses more), and updates
    /// are sent directly (not through an outbox or a buffer).
    fn producer_ordering(&mut self, pp: &str, pb: &PublishSpec) -> Option<(u32, u32)> {
        let n = pb.max_in_flight.unwrap_or(5);
        let most = if pb.idempotent { 5 } else { 1000 };
        if !(1..=most).contains(&n) {
            let why = if pb.idempotent && n > 5 {
                "an idempotent producer takes at most 5 (Kafka refuses more)".to_string()
            } else {
                format!("must be 1 to {most}")
            };
            self.fail(format!("{pp}.max_in_flight"), format!("{n}: {why}"));
            return None;
        }
        if pb.updates > 100 {
            let msg = format!("{}: must be 0 to 100", pb.updates);
            self.fail(format!("{pp}.updates"), msg);
            return None;
        }
        if pb.updates > 0 && (pb.outbox || pb.buffer.is_some()) {
            self.fail(
                format!("{pp}.updates"),
                "updates are sent directly: remove `outbox: true` or `buffer`".to_string(),
            );
            return None;
        }
        Some((n, pb.updates))
    }

    /// A producer's send buffer at `{pp}.buffer`: at least one record (at most 10
    /// million), positive timeouts, and no outbox (the relay is the outbox's sender).
    fn producer_buffer(
        &mut self,
        pp: &str,
        outbox: bool,
        b: &crate::scenario::spec::ProducerBufferSpec,
    ) -> Option<crate::model::ProducerBuffer> {
        let bp = format!("{pp}.buffer");
        if outbox {
            self.fail(
                &bp,
                "an outbox producer sends from its relay, which retries on its own; \
                 remove `buffer` or `outbox: true`",
            );
        }
        if !(1..=10_000_000).contains(&b.records) {
            self.fail(
                format!("{bp}.records"),
                format!("{} records: must be 1 to 10000000", b.records),
            );
        }
        let max_block = self.duration(&format!("{bp}.max_block"), &b.max_block);
        let delivery =
            self.positive_duration(&format!("{bp}.delivery_timeout"), &b.delivery_timeout);
        (!outbox && (1..=10_000_000).contains(&b.records)).then_some(())?;
        Some(crate::model::ProducerBuffer {
            records: b.records,
            max_block: max_block?,
            delivery_timeout: delivery?,
            shed: b.on_full == crate::scenario::spec::OnFullSpec::Shed,
        })
    }

    fn probability(&mut self, path: &str, p: f64) {
        if !(0.0..=1.0).contains(&p) {
            self.fail(path, format!("{p} is not a probability (0.0 to 1.0)"));
        }
    }

    fn at_least_one(&mut self, path: &str, n: u32) {
        if n == 0 {
            self.fail(path, "must be at least 1");
        }
    }

    fn dist(&mut self, path: &str, d: &DistSpec) -> Option<Dist> {
        match d {
            DistSpec::Constant(v) => Some(Dist::Constant(self.duration(path, v)?)),
            DistSpec::Exponential { mean } => Some(Dist::exponential(
                self.positive_duration(&format!("{path}.mean"), mean)?,
            )),
            DistSpec::Uniform { min, max } => {
                let lo = self.duration(&format!("{path}.min"), min);
                let hi = self.duration(&format!("{path}.max"), max);
                let (lo, hi) = (lo?, hi?);
                if lo > hi {
                    self.fail(format!("{path}.min"), format!("min {lo} is above max {hi}"));
                    return None;
                }
                Some(Dist::Uniform {
                    min_ns: lo.0 as f64,
                    max_ns: hi.0 as f64,
                })
            }
            DistSpec::LogNormal { median, p99 } => {
                let m = self.positive_duration(&format!("{path}.median"), median);
                let p = self.duration(&format!("{path}.p99"), p99);
                let (m, p) = (m?, p?);
                if p < m {
                    self.fail(
                        format!("{path}.p99"),
                        format!("p99 {p} is below the median {m}; the 99th percentile is at least the median"),
                    );
                    return None;
                }
                Some(Dist::lognormal(m, p))
            }
            DistSpec::Erlang { k, mean } => {
                self.at_least_one(&format!("{path}.k"), *k);
                let m = self.positive_duration(&format!("{path}.mean"), mean)?;
                (*k >= 1).then(|| Dist::erlang(*k, m))
            }
        }
    }

    fn service_names(&mut self, services: &[ServiceSpec]) -> BTreeMap<String, usize> {
        if services.is_empty() {
            self.fail("services", "a scenario needs at least one service");
        }
        let mut names = BTreeMap::new();
        for (i, s) in services.iter().enumerate() {
            if s.name.trim().is_empty() {
                self.fail(format!("services[{i}].name"), "must not be empty");
            } else if let Some(first) = names.insert(s.name.clone(), i) {
                names.insert(s.name.clone(), first);
                self.fail(
                    format!("services[{i}].name"),
                    format!(
                        "duplicate service \"{}\" (first at services[{first}])",
                        s.name
                    ),
                );
            }
        }
        names
    }

    /// The scenario's links; a link named twice is an error.
    fn links(&mut self, specs: &[LinkSpec], ends: &link::Ends) -> Vec<Link> {
        let mut links: Vec<Link> = Vec::new();
        for (i, l) in specs.iter().enumerate() {
            let p = format!("links[{i}]");
            let Some((from, to)) = self.link_ends(&p, &l.from, &l.to, ends, true) else {
                continue;
            };
            let Some(latency) = self.dist(&format!("{p}.latency"), &l.latency) else {
                continue;
            };
            if links.iter().any(|k| (k.from, k.to) == (from, to)) {
                self.fail(
                    format!("{p}.to"),
                    format!(
                        "a second link from \"{}\" to \"{}\"; give each link once",
                        l.from, l.to
                    ),
                );
                continue;
            }
            links.push(Link { from, to, latency });
        }
        links
    }

    fn lookup(&mut self, path: &str, name: &str, names: &BTreeMap<String, usize>) -> Option<usize> {
        let found = names.get(name).copied();
        if found.is_none() {
            self.fail(
                path,
                format!(
                    "unknown service \"{name}\"{}",
                    did_you_mean(name, names.keys().map(String::as_str))
                ),
            );
        }
        found
    }

    fn service(
        &mut self,
        i: usize,
        s: &ServiceSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<Service> {
        let p = format!("services[{i}]");
        self.at_least_one(&format!("{p}.replicas"), s.replicas);
        if s.replicas > MAX_REPLICAS {
            self.fail(format!("{p}.replicas"), format!("at most {MAX_REPLICAS}"));
        }
        self.at_least_one(&format!("{p}.concurrency"), s.concurrency);
        self.probability(&format!("{p}.error_rate"), s.error_rate);
        let service_time = self.dist(&format!("{p}.service_time"), &s.service_time);
        let io_time = match &s.io_time {
            Some(d) => self.dist(&format!("{p}.io_time"), d).map(Some),
            None => Some(None),
        };
        let mut calls = Vec::with_capacity(s.calls.len());
        for (j, call) in s.calls.iter().enumerate() {
            let cp = format!("{p}.calls[{j}]");
            let to = self.lookup(&format!("{cp}.to"), &call.to, names);
            if call.to == s.name {
                self.fail(format!("{cp}.to"), format!("\"{}\" calls itself", s.name));
            }
            self.probability(&format!("{cp}.probability"), call.probability);
            let timeout = call
                .timeout
                .as_ref()
                .map(|t| self.positive_duration(&format!("{cp}.timeout"), t));
            let retry = call.retry.as_ref().map_or(Some(None), |r| {
                self.retry(&format!("{cp}.retry"), r).map(Some)
            });
            let breaker = call.breaker.as_ref().map_or(Some(None), |b| {
                self.breaker(&format!("{cp}.breaker"), b).map(Some)
            });
            let bulkhead = call.bulkhead.as_ref().map_or(Some(None), |b| {
                self.bulkhead(&format!("{cp}.bulkhead"), b).map(Some)
            });
            let extras = self.call_extras(&cp, &s.name, call, names);
            let rate_limiter = call.rate_limiter.as_ref().map_or(Some(None), |l| {
                self.rate_limiter(&format!("{cp}.rate_limiter"), l)
                    .map(Some)
            });
            let adaptive = call
                .adaptive_timeout
                .as_ref()
                .map_or(Some(None), |a| self.adaptive_timeout(&cp, a).map(Some));
            let built = (
                to,
                timeout.unwrap_or(Some(SimTime::ZERO)),
                retry,
                breaker,
                bulkhead,
                extras,
            );
            if let (
                Some(to),
                Some(timeout),
                Some(retry),
                Some(breaker),
                Some(bulkhead),
                Some((pool, cache, fallback)),
                Some(rate_limiter),
                Some(adaptive_timeout),
            ) = (
                built.0,
                built.1,
                built.2,
                built.3,
                built.4,
                built.5,
                rate_limiter,
                adaptive,
            ) {
                calls.push(Call {
                    to: ServiceId(to as u32),
                    dependency: call.dependency,
                    timeout: call.timeout.as_ref().map(|_| timeout),
                    retry,
                    breaker,
                    bulkhead,
                    probability: call.probability,
                    pool,
                    cache,
                    fallback,
                    order: call.order,
                    rate_limiter,
                    adaptive_timeout,
                });
            }
        }
        let startup = match &s.startup {
            Some(d) => self.dist(&format!("{p}.startup"), d),
            None => Some(Dist::Constant(SimTime::ZERO)),
        };
        let mut hard_deps: Vec<ServiceId> = Vec::new();
        for (j, dep) in s.startup_deps.iter().enumerate() {
            let dp = format!("{p}.startup_deps[{j}]");
            if dep == &s.name {
                self.fail(&dp, format!("\"{}\" cannot wait for itself", s.name));
            } else if let Some(d) = self.lookup(&dp, dep, names) {
                hard_deps.push(ServiceId(d as u32));
            }
        }
        hard_deps.extend(
            calls
                .iter()
                .filter(|c| c.dependency == crate::model::Dependency::Hard)
                .map(|c| c.to),
        );
        hard_deps.sort_unstable();
        hard_deps.dedup();
        let queue_timeout = s
            .queue_timeout
            .as_ref()
            .map(|t| self.positive_duration(&format!("{p}.queue_timeout"), t));
        let rate_limit = s.rate_limit.as_ref().map(|r| {
            let ok = self.rate(&format!("{p}.rate_limit.rate"), r.rate, false);
            self.at_least_one(&format!("{p}.rate_limit.burst"), r.burst);
            (ok && r.burst >= 1).then_some((r.rate, r.burst))
        });
        let local_rate_limit = s.local_rate_limit.as_ref().map(|l| {
            let lp = format!("{p}.local_rate_limit");
            self.at_least_one(&format!("{lp}.max_tokens"), l.max_tokens);
            self.at_least_one(&format!("{lp}.tokens_per_fill"), l.tokens_per_fill);
            let fill = self.positive_duration(&format!("{lp}.fill_interval"), &l.fill_interval);
            fill.filter(|_| l.max_tokens >= 1 && l.tokens_per_fill >= 1)
                .map(|f| (l.max_tokens, l.tokens_per_fill, f))
        });
        let concurrency_limit = s
            .concurrency_limit
            .as_ref()
            .map(|l| self.concurrency_limit(&format!("{p}.concurrency_limit"), l));
        if s.autoscale.is_some() && (s.workers.is_some() || s.consume.is_some()) {
            self.fail(
                format!("{p}.autoscale"),
                "worker pools and consumer groups cannot be autoscaled (yet)",
            );
        }
        let autoscale = s
            .autoscale
            .as_ref()
            .map(|a| self.autoscale(&format!("{p}.autoscale"), a, s.replicas));
        let writes = s
            .writes
            .as_ref()
            .map(|w| self.writes(&format!("{p}.writes"), w, names));
        let valid = s.replicas >= 1
            && s.replicas <= MAX_REPLICAS
            && s.concurrency >= 1
            && (0.0..=1.0).contains(&s.error_rate)
            && calls.len() == s.calls.len()
            && calls.iter().all(|c| (0.0..=1.0).contains(&c.probability));
        let (Some(queue_timeout), Some(rate_limit), Some(concurrency_limit), Some(autoscale)) = (
            queue_timeout.map_or(Some(None), |t| t.map(Some)),
            rate_limit.map_or(Some(None), |r| r.map(Some)),
            concurrency_limit.map_or(Some(None), |l| l.map(Some)),
            autoscale.map_or(Some(None), |a| a.map(Some)),
        ) else {
            return None;
        };
        let writes = writes.map_or(Some(None), |w| w.map(Some))?;
        let partitioning = match &s.partitioning {
            Some(k) => Some(self.partitioning(&p, s, k)?),
            None => None,
        };
        let local_rate_limit = local_rate_limit.map_or(Some(None), |l| l.map(Some))?;
        Some(Service {
            name: s.name.clone(),
            replicas: s.replicas,
            concurrency: s.concurrency,
            queue_capacity: s.queue_capacity,
            service_time: service_time?,
            io_time: io_time?,
            error_rate: s.error_rate,
            calls,
            balancer: s.balancer,
            discipline: s.discipline,
            queue_timeout,
            drop_expired: s.drop_expired,
            rate_limit,
            local_rate_limit,
            concurrency_limit,
            side_effect: s.side_effect || s.idempotent,
            idempotent: s.idempotent,
            startup: startup?,
            hard_deps,
            slo: self.slo(
                &p,
                s.slo.as_ref(),
                s.workers.is_some() || s.consume.is_some(),
            )?,
            cost: s.cost.clone().filter(|c| self.cost(&p, c)),
            governance: s.governance.clone(),
            push: None,
            workers: None,
            publish: Vec::new(),
            consume: None,
            autoscale,
            kube: None,
            writes,
            partitioning,
        })
        .filter(|_| valid)
    }

    /// A Horizontal Pod Autoscaler around a service that starts with `replicas` pods.
    fn autoscale(&mut self, p: &str, a: &AutoscaleSpec, replicas: u32) -> Option<Autoscale> {
        let mut ok = true;
        if a.min == 0 {
            self.fail(format!("{p}.min"), "must be at least 1");
            ok = false;
        }
        if a.max < a.min {
            self.fail(
                format!("{p}.max"),
                format!("max {} is below min {}", a.max, a.min),
            );
            ok = false;
        } else if a.max > MAX_REPLICAS {
            self.fail(format!("{p}.max"), format!("at most {MAX_REPLICAS}"));
            ok = false;
        } else if a.min >= 1 && !(a.min..=a.max).contains(&replicas) {
            self.fail(
                p.rsplit_once('.').map_or(p, |(svc, _)| svc).to_string() + ".replicas",
                format!(
                    "the initial pod count {replicas} must be within the autoscaler's [{}, {}]",
                    a.min, a.max
                ),
            );
            ok = false;
        }
        let metric = match a.metric {
            AutoscaleMetricSpec::Cpu { target } => {
                if !(target > 0.0 && target <= 1.0) {
                    self.fail(
                        format!("{p}.metric.target"),
                        format!("{target} is not a utilisation target (above 0, at most 1.0)"),
                    );
                    ok = false;
                }
                AutoscaleMetric::Cpu { target }
            }
            AutoscaleMetricSpec::Rps { target } => {
                if !(target > 0.0 && target.is_finite()) {
                    self.fail(
                        format!("{p}.metric.target"),
                        format!("{target} is not a positive rate"),
                    );
                    ok = false;
                }
                AutoscaleMetric::Rps { target }
            }
        };
        let sync = self.positive_duration(&format!("{p}.sync_period"), &a.sync_period);
        let stab = self.duration(
            &format!("{p}.scale_down_stabilization"),
            &a.scale_down_stabilization,
        );
        let startup = match &a.pod_startup {
            Some(d) => self.dist(&format!("{p}.pod_startup"), d),
            None => Some(Dist::Constant(SimTime::ZERO)),
        };
        let (sync_period, scale_down_stabilization, pod_startup) = (sync?, stab?, startup?);
        ok.then_some(Autoscale {
            min: a.min,
            max: a.max,
            metric,
            sync_period,
            scale_down_stabilization,
            pod_startup,
        })
    }

    /// Calls that come back to where they started would never end: every request would
    /// call itself forever.
    fn call_circles(&mut self, services: &[ServiceSpec], names: &BTreeMap<String, usize>) {
        let edges: Vec<(usize, usize)> = services
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.calls
                    .iter()
                    .filter(|c| c.probability >= 1.0)
                    .filter_map(move |c| Some((i, *names.get(&c.to)?)))
            })
            .filter(|(a, b)| a != b)
            .collect();
        for circle in graph::circles(services.len(), &edges) {
            let mut names: Vec<&str> = circle.iter().map(|&i| services[i].name.as_str()).collect();
            names.push(names[0]);
            self.fail(
                format!("services[{}].calls", circle[0]),
                format!(
                    "calls go round in a circle ({}): every request would call itself forever; remove one of these calls or make it conditional (`probability` below 1)",
                    names.join(" -> ")
                ),
            );
        }
    }

    fn workloads(
        &mut self,
        specs: &[WorkloadSpec],
        names: &BTreeMap<String, usize>,
    ) -> Vec<Option<Workload>> {
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
        let mut out = Vec::with_capacity(specs.len());
        for (i, w) in specs.iter().enumerate() {
            let p = format!("workload[{i}]");
            let (target, name, timeout, retry, breaker, order, deadline) = match w {
                WorkloadSpec::Open {
                    target,
                    name,
                    timeout,
                    retry,
                    breaker,
                    order,
                    deadline,
                    ..
                }
                | WorkloadSpec::Closed {
                    target,
                    name,
                    timeout,
                    retry,
                    breaker,
                    order,
                    deadline,
                    ..
                } => (target, name, timeout, retry, breaker, *order, deadline),
            };
            let breaker = breaker.as_ref().map_or(Some(None), |b| {
                self.breaker(&format!("{p}.breaker"), b).map(Some)
            });
            let retry = retry.as_ref().map_or(Some(None), |r| {
                self.retry(&format!("{p}.retry"), r).map(Some)
            });
            let t = self.lookup(&format!("{p}.target"), target, names);
            // Unnamed workloads are named after their target: "api", then "api#2", ...
            let n = per_target.entry(target.as_str()).or_insert(0);
            *n += 1;
            let name = match name {
                Some(n) => n.clone(),
                None if *n == 1 => target.clone(),
                None => format!("{target}#{n}"),
            };
            if let Some(first) = used.insert(name.clone(), i) {
                self.fail(
                    format!("{p}.name"),
                    format!("duplicate workload \"{name}\" (first at workload[{first}])"),
                );
            }
            let timeout = match timeout {
                Some(t) => self.positive_duration(&format!("{p}.timeout"), t).map(Some),
                None => Some(None),
            };
            let deadline = match deadline {
                Some(d) => self
                    .positive_duration(&format!("{p}.deadline"), d)
                    .map(Some),
                None => Some(None),
            };
            let kind = match w {
                WorkloadSpec::Open { rate, schedule, .. } => {
                    self.schedule(&p, *rate, schedule).map(WorkloadKind::Open)
                }
                WorkloadSpec::Closed {
                    users, think_time, ..
                } => {
                    self.at_least_one(&format!("{p}.users"), *users);
                    if *users > MAX_USERS {
                        self.fail(format!("{p}.users"), format!("at most {MAX_USERS}"));
                    }
                    let think = self.dist(&format!("{p}.think_time"), think_time);
                    think
                        .filter(|_| *users >= 1)
                        .map(|think_time| WorkloadKind::Closed {
                            users: *users,
                            think_time,
                        })
                }
            };
            out.push(match (t, kind, timeout, retry, breaker, deadline) {
                (
                    Some(t),
                    Some(kind),
                    Some(timeout),
                    Some(retry),
                    Some(breaker),
                    Some(deadline),
                ) => Some(Workload {
                    name,
                    target: ServiceId(t as u32),
                    kind,
                    timeout,
                    retry,
                    breaker,
                    order,
                    deadline,
                }),
                _ => None,
            });
        }
        out
    }

    fn percent(&mut self, path: &str, x: f64) -> bool {
        let ok = x > 0.0 && x <= 100.0;
        if !ok {
            self.fail(
                path,
                format!("{x} is not a percentage above 0 and at most 100"),
            );
        }
        ok
    }

    fn retry(&mut self, p: &str, r: &RetrySpec) -> Option<Retry> {
        let mut ok = true;
        if r.max_attempts == 0 || r.max_attempts > 100 {
            self.fail(
                format!("{p}.max_attempts"),
                format!(
                    "{} is not 1 to 100 (attempts include the first)",
                    r.max_attempts
                ),
            );
            ok = false;
        }
        let backoff = match &r.backoff {
            BackoffSpec::None => Some(Backoff::None),
            BackoffSpec::Constant(d) => self
                .duration(&format!("{p}.backoff"), d)
                .map(Backoff::Constant),
            BackoffSpec::Envoy { base, max } => {
                let b = self.positive_duration(&format!("{p}.backoff.base"), base);
                // Envoy's default max_interval is 10 × base.
                let m = match max {
                    Some(m) => self.positive_duration(&format!("{p}.backoff.max"), m),
                    None => b.map(|b| SimTime(b.0.saturating_mul(10))),
                };
                match (b, m) {
                    (Some(b), Some(m)) if m < b => {
                        self.fail(
                            format!("{p}.backoff.max"),
                            format!("max {m} is below base {b}"),
                        );
                        None
                    }
                    (Some(base), Some(max)) => Some(Backoff::Envoy { base, max }),
                    _ => None,
                }
            }
            BackoffSpec::Exponential {
                base,
                multiplier,
                cap,
                first_power,
            } => {
                if *first_power > 1 {
                    self.fail(
                        format!("{p}.backoff.first_power"),
                        format!("{first_power} is not 0 (first sleep = base) or 1 (= base x multiplier, the AWS blog's indexing)"),
                    );
                    ok = false;
                }
                let b = self.positive_duration(&format!("{p}.backoff.base"), base);
                let c = self.duration(&format!("{p}.backoff.cap"), cap);
                if !(multiplier.is_finite() && *multiplier >= 1.0) {
                    self.fail(
                        format!("{p}.backoff.multiplier"),
                        format!("{multiplier} must be 1.0 or more"),
                    );
                    ok = false;
                }
                match (b, c) {
                    (Some(b), Some(c)) if c < b => {
                        self.fail(
                            format!("{p}.backoff.cap"),
                            format!("cap {c} is below base {b}"),
                        );
                        None
                    }
                    (Some(base), Some(cap)) => Some(Backoff::Exponential {
                        base,
                        multiplier: *multiplier,
                        cap,
                        first_power: *first_power,
                    }),
                    _ => None,
                }
            }
        };
        if r.retry_on.is_empty() {
            self.fail(
                format!("{p}.retry_on"),
                "is empty: nothing would ever be retried",
            );
            ok = false;
        }
        let has = |k: RetryOnSpec| r.retry_on.contains(&k);
        let statuses = self.retry_statuses(p, &r.retry_on);
        ok &= statuses.is_some();
        let retry_on = RetryOn {
            timeout: has(RetryOnSpec::Timeout),
            error: has(RetryOnSpec::Error),
            rejected: has(RetryOnSpec::Rejected),
            statuses: statuses.unwrap_or_default(),
        };
        let jitter = match r.jitter {
            JitterSpec::None => Jitter::None,
            JitterSpec::Full => Jitter::Full,
            JitterSpec::Equal => Jitter::Equal,
            JitterSpec::Decorrelated => Jitter::Decorrelated,
            JitterSpec::Randomized(f) => {
                if !(0.0..=1.0).contains(&f) {
                    self.fail(
                        format!("{p}.jitter"),
                        format!("randomization factor {f} is not in 0..1 (Resilience4j's range)"),
                    );
                    ok = false;
                }
                Jitter::Randomized(f)
            }
        };
        let budget = r.budget.as_ref().and_then(|b| {
            let good = self.percent(&format!("{p}.budget.percent"), b.percent);
            ok &= good;
            good.then_some(RetryBudget {
                percent: b.percent,
                min_concurrency: b.min_concurrency,
            })
        });
        let throttle = r.throttle.as_ref().and_then(|t| {
            let mut good = true;
            if !(t.max_tokens > 0.0 && t.max_tokens <= 1000.0) {
                self.fail(
                    format!("{p}.throttle.max_tokens"),
                    format!("{} is not above 0 and at most 1000", t.max_tokens),
                );
                good = false;
            }
            if !(t.token_ratio > 0.0 && t.token_ratio.is_finite()) {
                self.fail(
                    format!("{p}.throttle.token_ratio"),
                    format!("{} must be above 0", t.token_ratio),
                );
                good = false;
            }
            ok &= good;
            good.then_some((t.max_tokens, t.token_ratio))
        });
        let backoff = backoff?;
        ok.then_some(Retry {
            policy: RetryPolicy {
                max_attempts: r.max_attempts,
                backoff,
                jitter,
                retry_on,
            },
            budget,
            throttle,
        })
    }

    fn breaker(&mut self, p: &str, b: &BreakerSpec) -> Option<BreakerConfig> {
        let mut ok = self.percent(&format!("{p}.failure_rate"), b.failure_rate);
        ok &= self.percent(&format!("{p}.slow_call_rate"), b.slow_call_rate);
        self.at_least_one(&format!("{p}.min_calls"), b.min_calls);
        self.at_least_one(&format!("{p}.half_open_calls"), b.half_open_calls);
        ok &= b.min_calls >= 1 && b.half_open_calls >= 1;
        ok &= self.breaker_calls(&format!("{p}.half_open_calls"), b.half_open_calls);
        let window = match &b.window {
            BreakerWindowSpec::Count(n) => {
                self.at_least_one(&format!("{p}.window"), *n);
                let fits = self.breaker_calls(&format!("{p}.window"), *n);
                (*n >= 1 && fits).then_some(BreakerWindow::Count(*n))
            }
            BreakerWindowSpec::Time(t) => {
                let d = self.duration(&format!("{p}.window"), t)?;
                if d.0 == 0 || d.0 % SimTime::NS_PER_S != 0 {
                    self.fail(
                        format!("{p}.window"),
                        format!("{d} is not a whole number of seconds (at least 1s)"),
                    );
                    None
                } else if d.0 / SimTime::NS_PER_S > MAX_BREAKER_WINDOW_S {
                    self.fail(
                        format!("{p}.window"),
                        format!(
                            "{} is longer than the longest time window, 1d (the breaker keeps one bucket per second)",
                            d.human()
                        ),
                    );
                    None
                } else {
                    Some(BreakerWindow::Time((d.0 / SimTime::NS_PER_S) as u32))
                }
            }
        };
        let slow = self.duration(&format!("{p}.slow_call_duration"), &b.slow_call_duration);
        let wait = self.duration(&format!("{p}.wait_open"), &b.wait_open);
        if wait.is_some_and(|w| w < SimTime::from_millis(1)) {
            self.fail(format!("{p}.wait_open"), "must be at least 1ms");
            ok = false;
        }
        let max_wait = self.duration(&format!("{p}.max_wait_half_open"), &b.max_wait_half_open);
        if max_wait.is_some_and(|w| w > SimTime::ZERO && w < SimTime::from_millis(1)) {
            self.fail(
                format!("{p}.max_wait_half_open"),
                "must be 0s (wait forever) or at least 1ms",
            );
            ok = false;
        }
        if !(b.wait_open_multiplier.is_finite() && b.wait_open_multiplier >= 1.0) {
            self.fail(
                format!("{p}.wait_open_multiplier"),
                format!(
                    "is {}: the open wait can only grow (1.0 keeps it fixed)",
                    b.wait_open_multiplier
                ),
            );
            ok = false;
        }
        let cap = match &b.wait_open_cap {
            None => Some(SimTime::MAX),
            Some(c) => self.duration(&format!("{p}.wait_open_cap"), c),
        };
        if let (Some(c), Some(w)) = (cap, wait) {
            if c < w {
                self.fail(
                    format!("{p}.wait_open_cap"),
                    format!("{} is shorter than wait_open ({})", c.human(), w.human()),
                );
                ok = false;
            }
        }
        ok &= self.breaker_kinds_only(p, "record_on", &b.record_on);
        ok &= self.breaker_kinds_only(p, "ignore_on", &b.ignore_on);
        let kinds = |list: &[RetryOnSpec]| {
            list.iter().fold(FailureKinds::NONE, |k, o| {
                k.with(match o {
                    RetryOnSpec::Timeout => CallOutcome::Timeout,
                    RetryOnSpec::Error => CallOutcome::Error,
                    RetryOnSpec::Rejected => CallOutcome::Rejected,
                    RetryOnSpec::Status(_) => return k,
                })
            })
        };
        let (window, slow_call_duration, wait_open) = (window?, slow?, wait?);
        let (max_wait_half_open, open_cap) = (max_wait?, cap?);
        ok.then_some(BreakerConfig {
            window,
            failure_rate: b.failure_rate,
            slow_call_rate: b.slow_call_rate,
            slow_call_duration,
            min_calls: b.min_calls,
            wait_open,
            half_open_calls: b.half_open_calls,
            automatic_transition: b.automatic_transition,
            max_wait_half_open,
            open_multiplier: b.wait_open_multiplier,
            open_cap,
            record: kinds(&b.record_on),
            ignore: kinds(&b.ignore_on),
        })
    }

    fn rate_limiter(&mut self, p: &str, l: &RateLimiterSpec) -> Option<FixedWindow> {
        self.at_least_one(&format!("{p}.limit_for_period"), l.limit_for_period);
        let period = self.positive_duration(&format!("{p}.refresh_period"), &l.refresh_period);
        let timeout = self.duration(&format!("{p}.timeout"), &l.timeout);
        (l.limit_for_period >= 1).then_some(FixedWindow {
            limit_for_period: l.limit_for_period,
            refresh_period: period?,
            timeout: timeout?,
        })
    }

    /// A breaker size in calls: at most [`MAX_BREAKER_CALLS`], each call a slot of memory.
    fn breaker_calls(&mut self, path: &str, n: u32) -> bool {
        let ok = n <= MAX_BREAKER_CALLS;
        if !ok {
            self.fail(
                path,
                format!("{n} calls is more than {MAX_BREAKER_CALLS} (the breaker keeps one slot per call)"),
            );
        }
        ok
    }

    fn bulkhead(&mut self, p: &str, b: &BulkheadSpec) -> Option<Bulkhead> {
        // 0 is allowed, as Resilience4j's `BulkheadConfig` allows it: every call refused.
        let max_wait = self.duration(&format!("{p}.max_wait"), &b.max_wait)?;
        Some(Bulkhead {
            max_concurrent: b.max_concurrent,
            max_wait,
        })
    }

    fn concurrency_limit(&mut self, p: &str, l: &ConcurrencyLimitSpec) -> Option<ConcurrencyLimit> {
        let (initial, min, max) = match l {
            ConcurrencyLimitSpec::Aimd {
                initial, min, max, ..
            }
            | ConcurrencyLimitSpec::Gradient2 {
                initial, min, max, ..
            } => (*initial, *min, *max),
        };
        let mut ok = true;
        if min == 0 || !(min <= initial && initial <= max) {
            self.fail(p, format!("needs 1 <= min <= initial <= max (got min {min}, initial {initial}, max {max})"));
            ok = false;
        }
        match l {
            ConcurrencyLimitSpec::Aimd {
                backoff_ratio,
                timeout,
                ..
            } => {
                if !(*backoff_ratio > 0.0 && *backoff_ratio < 1.0) {
                    self.fail(
                        format!("{p}.backoff_ratio"),
                        format!("{backoff_ratio} is not between 0 and 1"),
                    );
                    ok = false;
                }
                let timeout = self.positive_duration(&format!("{p}.timeout"), timeout)?;
                ok.then(|| {
                    ConcurrencyLimit::Aimd(AimdLimit::new(
                        initial,
                        min,
                        max,
                        *backoff_ratio,
                        timeout,
                    ))
                })
            }
            ConcurrencyLimitSpec::Gradient2 {
                smoothing,
                queue_size,
                rtt_tolerance,
                long_window,
                ..
            } => {
                if !(*smoothing > 0.0 && *smoothing <= 1.0) {
                    self.fail(
                        format!("{p}.smoothing"),
                        format!("{smoothing} is not above 0 and at most 1"),
                    );
                    ok = false;
                }
                if !(rtt_tolerance.is_finite() && *rtt_tolerance >= 1.0) {
                    self.fail(
                        format!("{p}.rtt_tolerance"),
                        format!("{rtt_tolerance} must be 1.0 or more"),
                    );
                    ok = false;
                }
                self.at_least_one(&format!("{p}.long_window"), *long_window);
                ok &= *long_window >= 1;
                ok.then(|| {
                    ConcurrencyLimit::Gradient2(Gradient2Limit::new(
                        initial,
                        min,
                        max,
                        *smoothing,
                        *queue_size,
                        *rtt_tolerance,
                        *long_window,
                    ))
                })
            }
        }
    }

    fn fault(
        &mut self,
        i: usize,
        f: &FaultSpec,
        spec: &Spec,
        names: &BTreeMap<String, usize>,
        workloads: &[Option<Workload>],
        run: Option<SimTime>,
    ) -> Option<Fault> {
        let p = format!("faults[{i}]");
        let (target, at, duration) = match f {
            FaultSpec::Crash {
                target,
                at,
                duration,
                ..
            }
            | FaultSpec::Pause {
                target,
                at,
                duration,
            }
            | FaultSpec::Latency {
                target,
                at,
                duration,
                ..
            }
            | FaultSpec::Errors {
                target,
                at,
                duration,
                ..
            }
            | FaultSpec::Capacity {
                target,
                at,
                duration,
                ..
            }
            | FaultSpec::Spike {
                target,
                at,
                duration,
                ..
            }
            | FaultSpec::Flush {
                target,
                at,
                duration,
            } => (Some(target), at, duration),
            FaultSpec::Outage { at, duration, .. } => (None, at, duration),
            _ => unreachable!("messaging faults are checked by `messaging_fault`"),
        };
        let target = match target {
            Some(t) => Some(Some(ServiceId(
                self.lookup(&format!("{p}.target"), t, names)? as u32,
            ))),
            None => Some(None),
        };
        let start = self.duration(&format!("{p}.at"), at);
        let length = self.positive_duration(&format!("{p}.duration"), duration);
        self.starts_before_end(&p, start, run)?;
        let (target, start, length) = (target?, start?, length?);
        let svc = |t: Option<ServiceId>| t.expect("targeted faults have a target");
        let kind = match f {
            FaultSpec::Crash { replicas, .. } => {
                let total = spec.services[svc(target).0 as usize].replicas;
                let n = replicas.unwrap_or(total);
                if n == 0 || n > total {
                    self.fail(
                        format!("{p}.replicas"),
                        format!("{n} is not 1 to {total} (the service's replicas)"),
                    );
                    return None;
                }
                FaultKind::Crash {
                    target: svc(target),
                    replicas: n,
                }
            }
            FaultSpec::Pause { .. } => FaultKind::Pause {
                target: svc(target),
            },
            FaultSpec::Latency { add, .. } => FaultKind::Latency {
                target: svc(target),
                add: self.dist(&format!("{p}.add"), add)?,
            },
            FaultSpec::Errors { rate, status, .. } => {
                self.probability(&format!("{p}.rate"), *rate);
                let status = self.error_status(&format!("{p}.status"), *status);
                if !(0.0..=1.0).contains(rate) {
                    return None;
                }
                FaultKind::Errors {
                    target: svc(target),
                    rate: *rate,
                    status: status?,
                }
            }
            FaultSpec::Capacity { factor, .. } => {
                if !(*factor > 0.0 && *factor <= 1.0) {
                    self.fail(
                        format!("{p}.factor"),
                        format!("{factor} is not above 0 and at most 1 (the share of speed left)"),
                    );
                    return None;
                }
                FaultKind::Capacity {
                    target: svc(target),
                    factor: *factor,
                }
            }
            FaultSpec::Spike { rate, .. } => {
                if !self.rate(&format!("{p}.rate"), *rate, false) {
                    return None;
                }
                let t = svc(target);
                let Some(w) = workloads
                    .iter()
                    .position(|w| w.as_ref().is_some_and(|w| w.target == t))
                else {
                    self.fail(
                        format!("{p}.target"),
                        format!(
                            "no workload sends to \"{}\"; a spike adds arrivals to one",
                            spec.services[t.0 as usize].name
                        ),
                    );
                    return None;
                };
                FaultKind::Spike {
                    target: t,
                    workload: WorkloadId(w as u32),
                    rate: *rate,
                }
            }
            FaultSpec::Flush { target: name, .. } => {
                let caches = spec
                    .services
                    .iter()
                    .flat_map(|s| &s.calls)
                    .any(|c| c.cache.as_ref().is_some_and(|c| &c.service == name));
                if !caches {
                    self.fail(
                        format!("{p}.target"),
                        format!("no call caches in \"{name}\"; a flush empties a cache named in `cache: Cache(service: ...)`"),
                    );
                    return None;
                }
                FaultKind::Flush {
                    target: svc(target),
                }
            }
            FaultSpec::Outage {
                services,
                layers,
                brokers,
                ..
            } => {
                let (services, brokers) =
                    self.outage_services(&p, services, layers, brokers, spec, names)?;
                FaultKind::Outage { services, brokers }
            }
            _ => unreachable!("messaging faults are checked by `messaging_fault`"),
        };
        Some(Fault {
            kind,
            start,
            end: start.after(length),
        })
    }

    fn named(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        names: &BTreeMap<String, usize>,
    ) -> Option<usize> {
        let found = names.get(name).copied();
        if found.is_none() {
            self.fail(
                path,
                format!(
                    "unknown {what} \"{name}\"{}",
                    did_you_mean(name, names.keys().map(String::as_str))
                ),
            );
        }
        found
    }

    fn unique(
        &mut self,
        path: String,
        what: &str,
        name: &str,
        map: &mut BTreeMap<String, usize>,
        i: usize,
    ) {
        if name.trim().is_empty() {
            self.fail(format!("{path}.name"), "must not be empty");
        } else if let Some(first) = map.get(name) {
            let first = *first;
            self.fail(
                format!("{path}.name"),
                format!("duplicate {what} \"{name}\" (first at index {first})"),
            );
        } else {
            map.insert(name.to_string(), i);
        }
    }

    /// Orders, queues, brokers and topics, and every service's producers and consumers.
    fn messaging(&mut self, spec: &Spec, names: &BTreeMap<String, usize>) -> Messaging {
        let uses = spec.orders.is_some() || !spec.queues.is_empty() || !spec.brokers.is_empty();
        let drain = match &spec.drain {
            Some(d) => self.duration("drain", d),
            None if uses => Some(SimTime::from_secs(30)),
            None => Some(SimTime::ZERO),
        };
        let orders = spec.orders.as_ref().and_then(|o| {
            let entry = self.lookup("orders.entry", &o.entry, names);
            let mut steps = Vec::new();
            for (j, st) in o.steps.iter().enumerate() {
                let found = self.lookup(&format!("orders.steps[{j}]"), st, names);
                if let Some(f) = found {
                    let id = ServiceId(f as u32);
                    if steps.contains(&id) {
                        self.fail(
                            format!("orders.steps[{j}]"),
                            format!("\"{st}\" is listed twice"),
                        );
                    }
                    steps.push(id);
                }
            }
            let saga = o.saga.as_ref().map(|s| {
                let orchestrator = self.lookup("orders.saga.orchestrator", &s.orchestrator, names);
                if !(1..=100).contains(&s.max_attempts) {
                    self.fail(
                        "orders.saga.max_attempts",
                        format!("{} is not 1 to 100", s.max_attempts),
                    );
                }
                let backoff = self.duration("orders.saga.backoff", &s.backoff);
                (1..=100)
                    .contains(&s.max_attempts)
                    .then_some(crate::model::Saga {
                        orchestrator: ServiceId(orchestrator? as u32),
                        compensate: s.compensate,
                        max_attempts: s.max_attempts,
                        backoff: backoff?,
                    })
            });
            let saga = saga.map_or(Some(None), |s| s.map(Some))?;
            let two_phase = match &o.two_phase {
                Some(t) => {
                    let c = self.lookup("orders.two_phase.coordinator", &t.coordinator, names);
                    let d = self.duration("orders.two_phase.commit_delay", &t.commit_delay);
                    Some(crate::model::TwoPhase {
                        coordinator: ServiceId(c? as u32),
                        commit_delay: d?,
                    })
                }
                None => None,
            };
            (steps.len() == o.steps.len()).then_some(Orders {
                entry: ServiceId(entry? as u32),
                steps,
                saga,
                two_phase,
            })
        });
        let mut queue_names = BTreeMap::new();
        let mut queues = Vec::new();
        for (i, q) in spec.queues.iter().enumerate() {
            let p = format!("queues[{i}]");
            self.unique(p.clone(), "queue", &q.name, &mut queue_names, i);
            self.at_least_one(&format!("{p}.max_deliveries"), q.max_deliveries);
            let vt =
                self.positive_duration(&format!("{p}.visibility_timeout"), &q.visibility_timeout);
            let store = self.queue_store(&p, q, names);
            queues.push(JobQueue {
                name: q.name.clone(),
                reliable: q.reliable,
                visibility_timeout: vt.unwrap_or(SimTime::ZERO),
                max_deliveries: q.max_deliveries.max(1),
                dlq: q.dlq,
                store,
            });
        }
        let mut broker_names = BTreeMap::new();
        let mut topic_names = BTreeMap::new();
        let mut brokers = Vec::new();
        let mut topics = Vec::new();
        for (i, b) in spec.brokers.iter().enumerate() {
            let p = format!("brokers[{i}]");
            self.unique(p.clone(), "broker", &b.name, &mut broker_names, i);
            if names.contains_key(&b.name) {
                self.fail(
                    format!("{p}.name"),
                    format!("\"{}\" is also a service; partitions name either", b.name),
                );
            }
            let lag = self.duration(&format!("{p}.replication_lag"), &b.replication_lag);
            brokers.push(Broker {
                name: b.name.clone(),
                durability: b.durability,
                replication_lag: lag.unwrap_or(SimTime::ZERO),
            });
            for (j, t) in b.topics.iter().enumerate() {
                let tp = format!("{p}.topics[{j}]");
                self.unique(tp.clone(), "topic", &t.name, &mut topic_names, topics.len());
                self.at_least_one(&format!("{tp}.partitions"), t.partitions);
                if t.partitions > 10_000 {
                    self.fail(format!("{tp}.partitions"), "at most 10000");
                }
                let retention = self.positive_duration(&format!("{tp}.retention"), &t.retention);
                topics.push(Topic {
                    name: t.name.clone(),
                    broker: i as u32,
                    partitions: t.partitions.clamp(1, 10_000),
                    retention: retention.unwrap_or(SimTime::MAX),
                });
            }
        }
        let mut per_service = Vec::with_capacity(spec.services.len());
        for (i, s) in spec.services.iter().enumerate() {
            let p = format!("services[{i}]");
            let push = s.push.as_ref().and_then(|q| {
                self.named(&format!("{p}.push"), "queue", q, &queue_names)
                    .map(|q| q as u32)
            });
            let workers = s.workers.as_ref().and_then(|w| {
                self.at_least_one(&format!("{p}.workers.count"), w.count);
                if w.count > 100_000 {
                    self.fail(format!("{p}.workers.count"), "at most 100000");
                }
                let q = self.named(
                    &format!("{p}.workers.queue"),
                    "queue",
                    &w.queue,
                    &queue_names,
                )?;
                Some(Workers {
                    queue: q as u32,
                    count: w.count.clamp(1, 100_000),
                })
            });
            let mut publish = Vec::new();
            for (j, pb) in s.publish.iter().enumerate() {
                let pp = format!("{p}.publish[{j}]");
                let t = self.named(&format!("{pp}.topic"), "topic", &pb.topic, &topic_names);
                let relay = self.positive_duration(&format!("{pp}.relay_delay"), &pb.relay_delay);
                let buffer = match &pb.buffer {
                    Some(b) => self.producer_buffer(&pp, pb.outbox, b).map(Some),
                    None => Some(None),
                };
                let ordering = self.producer_ordering(&pp, pb);
                if let (Some(t), Some(relay), Some(buffer), Some((max_in_flight, updates))) =
                    (t, relay, buffer, ordering)
                {
                    publish.push(Publish {
                        topic: t as u32,
                        acks: pb.acks,
                        idempotent: pb.idempotent,
                        outbox: pb.outbox.then_some(relay),
                        buffer,
                        max_in_flight,
                        updates,
                    });
                }
            }
            let consume = s.consume.as_ref().and_then(|c| {
                let cp = format!("{p}.consume");
                let t = self.named(&format!("{cp}.topic"), "topic", &c.topic, &topic_names);
                let auto = match &c.auto_commit {
                    Some(a) => self
                        .positive_duration(&format!("{cp}.auto_commit"), a)
                        .map(Some),
                    None => Some(None),
                };
                self.at_least_one(&format!("{cp}.max_deliveries"), c.max_deliveries);
                let rebalance = self.duration(&format!("{cp}.rebalance"), &c.rebalance);
                let retry_delay = self.duration(&format!("{cp}.retry_delay"), &c.retry_delay);
                // A bad stream block is reported on its own; the group stays, so its
                // faults are not reported as missing targets too.
                let stream = c.stream.as_ref().and_then(|j| self.stream_job(&cp, j));
                let read_model = c.read_model.as_ref().and_then(|m| self.read_model(&cp, m));
                Some(Consume {
                    topic: t? as u32,
                    commit: c.commit,
                    auto_commit: auto?,
                    max_deliveries: c.max_deliveries.max(1),
                    dlq: c.dlq,
                    idempotent: c.idempotent,
                    rebalance: rebalance?,
                    retry_delay: retry_delay?,
                    stream,
                    read_model,
                })
            });
            if s.workers.is_some() && s.consume.is_some() {
                self.fail(
                    &p,
                    "a service either runs workers or consumes a topic, not both",
                );
            }
            per_service.push((push, workers, publish, consume));
        }
        Messaging {
            drain,
            orders,
            queues,
            brokers,
            topics,
            topic_names,
            broker_names,
            per_service,
        }
    }

    /// A job queue's store and its persistence (Redis' default when not given).
    fn queue_store(
        &mut self,
        p: &str,
        q: &JobQueueSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<(ServiceId, Persistence)> {
        let Some(name) = &q.store else {
            if q.persistence.is_some() {
                self.fail(
                    format!("{p}.persistence"),
                    "only a queue with a `store` (the service that holds it) has persistence",
                );
            }
            return None;
        };
        let store = self.lookup(&format!("{p}.store"), name, names);
        let persistence = match &q.persistence {
            None => Some(Persistence::redis_default()),
            Some(PersistenceSpec::InMemory) => Some(Persistence::InMemory),
            Some(PersistenceSpec::AofEverysec) => Some(Persistence::AofEverysec),
            Some(PersistenceSpec::AofAlways) => Some(Persistence::AofAlways),
            Some(PersistenceSpec::Rdb { save }) => {
                if save.is_empty() || save.len() > 16 {
                    self.fail(
                        format!("{p}.persistence.save"),
                        "needs 1 to 16 rules (for no snapshots, use InMemory)",
                    );
                }
                let mut rules = Vec::new();
                for (k, (after, changes)) in save.iter().enumerate() {
                    let rp = format!("{p}.persistence.save[{k}]");
                    let after = self.positive_duration(&format!("{rp}.0"), after);
                    self.at_least_one(&format!("{rp}.1"), (*changes).min(u32::MAX as u64) as u32);
                    rules.extend(after.map(|a| (a, (*changes).max(1))));
                }
                (rules.len() == save.len() && !save.is_empty() && save.len() <= 16)
                    .then_some(Persistence::Rdb { save: rules })
            }
        };
        Some((ServiceId(store? as u32), persistence?))
    }

    fn messaging_fault(
        &mut self,
        i: usize,
        f: &FaultSpec,
        names: &BTreeMap<String, usize>,
        msg: &Messaging,
        ends: &link::Ends,
        run: Option<SimTime>,
    ) -> Option<Fault> {
        let p = format!("faults[{i}]");
        let (at, duration) = match f {
            FaultSpec::KillConsumer { at, duration, .. }
            | FaultSpec::DuplicateDelivery { at, duration, .. }
            | FaultSpec::ProduceRetry { at, duration, .. }
            | FaultSpec::BrokerRestart { at, duration, .. }
            | FaultSpec::Partition { at, duration, .. }
            | FaultSpec::LinkLatency { at, duration, .. }
            | FaultSpec::LinkLoss { at, duration, .. }
            | FaultSpec::CrashBeforePublish { at, duration, .. } => (at, duration),
            _ => unreachable!("only messaging faults come here"),
        };
        let start = self.duration(&format!("{p}.at"), at);
        let length = self.positive_duration(&format!("{p}.duration"), duration);
        self.starts_before_end(&p, start, run)?;
        let kind = match f {
            FaultSpec::KillConsumer { target, .. } => {
                let t = self.lookup(&format!("{p}.target"), target, names)?;
                let svc = &msg.per_service[t];
                if svc.1.is_none() && svc.3.is_none() {
                    self.fail(
                        format!("{p}.target"),
                        format!("\"{target}\" has no consumers or workers to kill"),
                    );
                    return None;
                }
                FaultKind::KillConsumer {
                    target: ServiceId(t as u32),
                }
            }
            FaultSpec::DuplicateDelivery { topic, rate, .. } => {
                self.probability(&format!("{p}.rate"), *rate);
                let t = self.named(&format!("{p}.topic"), "topic", topic, &msg.topic_names)?;
                if !(0.0..=1.0).contains(rate) {
                    return None;
                }
                FaultKind::DuplicateDelivery {
                    topic: t as u32,
                    rate: *rate,
                }
            }
            FaultSpec::ProduceRetry { topic, rate, .. } => {
                self.probability(&format!("{p}.rate"), *rate);
                let t = self.named(&format!("{p}.topic"), "topic", topic, &msg.topic_names)?;
                if !(0.0..=1.0).contains(rate) {
                    return None;
                }
                FaultKind::ProduceRetry {
                    topic: t as u32,
                    rate: *rate,
                }
            }
            FaultSpec::BrokerRestart { broker, .. } => {
                let b = self.named(&format!("{p}.broker"), "broker", broker, &msg.broker_names)?;
                FaultKind::BrokerRestart { broker: b as u32 }
            }
            FaultSpec::Partition {
                from, to, one_way, ..
            } => {
                let (a, b) = self.link_ends(&p, from, to, ends, false)?;
                FaultKind::Partition {
                    a,
                    b,
                    one_way: *one_way,
                }
            }
            FaultSpec::LinkLatency { from, to, add, .. } => {
                let (from, to) = self.link_ends(&p, from, to, ends, true)?;
                FaultKind::LinkLatency {
                    from,
                    to,
                    add: self.dist(&format!("{p}.add"), add)?,
                }
            }
            FaultSpec::LinkLoss { from, to, rate, .. } => {
                self.probability(&format!("{p}.rate"), *rate);
                let (from, to) = self.link_ends(&p, from, to, ends, true)?;
                if !(0.0..=1.0).contains(rate) {
                    return None;
                }
                FaultKind::LinkLoss {
                    from,
                    to,
                    rate: *rate,
                }
            }
            FaultSpec::CrashBeforePublish { target, rate, .. } => {
                self.probability(&format!("{p}.rate"), *rate);
                let t = self.lookup(&format!("{p}.target"), target, names)?;
                let svc = &msg.per_service[t];
                if svc.0.is_none() && svc.2.is_empty() {
                    self.fail(
                        format!("{p}.target"),
                        format!("\"{target}\" neither pushes nor publishes"),
                    );
                    return None;
                }
                if !(0.0..=1.0).contains(rate) {
                    return None;
                }
                FaultKind::CrashBeforePublish {
                    target: ServiceId(t as u32),
                    rate: *rate,
                }
            }
            _ => unreachable!("only messaging faults come here"),
        };
        let (start, length) = (start?, length?);
        Some(Fault {
            kind,
            start,
            end: start.after(length),
        })
    }

    fn percent_target(&mut self, path: &str, x: f64) -> bool {
        let ok = x > 0.0 && x <= 100.0;
        if !ok {
            self.fail(
                path,
                format!("{x} is not a target percentage above 0 and at most 100 (e.g. 99.9)"),
            );
        }
        ok
    }

    fn slo(
        &mut self,
        p: &str,
        slo: Option<&crate::scenario::SloSpec>,
        pulls: bool,
    ) -> Option<crate::model::Slo> {
        let Some(slo) = slo else {
            let tier = crate::scenario::TierSpec::Default;
            return Some(crate::model::Slo {
                tier,
                availability: tier.availability_target(),
                latency: None,
                queue_age: None,
            });
        };
        let tier_target = slo.tier.availability_target();
        let availability = slo.availability.unwrap_or(tier_target);
        let mut ok = self.percent_target(&format!("{p}.slo.availability"), availability);
        let latency = match &slo.latency {
            None => None,
            Some(l) => {
                let target = l.target.unwrap_or(tier_target);
                ok &= self.percent_target(&format!("{p}.slo.latency.target"), target);
                let threshold =
                    self.positive_duration(&format!("{p}.slo.latency.threshold"), &l.threshold);
                ok &= threshold.is_some();
                threshold.map(|threshold| crate::model::LatencySlo { threshold, target })
            }
        };
        let queue_age = match &slo.queue_age {
            None => None,
            Some(a) => {
                let path = format!("{p}.slo.queue_age");
                if !pulls {
                    self.fail(
                        &path,
                        "the service pulls from no job queue or topic: give it `workers` or `consume`, or drop `queue_age`",
                    );
                    ok = false;
                }
                let target = a.target.unwrap_or(tier_target);
                ok &= self.percent_target(&format!("{path}.target"), target);
                let max_age = self.positive_duration(&format!("{path}.max_age"), &a.max_age);
                ok &= max_age.is_some();
                max_age.map(|threshold| crate::model::LatencySlo { threshold, target })
            }
        };
        ok.then_some(crate::model::Slo {
            tier: slo.tier,
            availability,
            latency,
            queue_age,
        })
    }

    fn cost(&mut self, p: &str, c: &crate::scenario::CostSpec) -> bool {
        let mut ok = true;
        let fields = [
            ("replica_hour", c.replica_hour),
            ("per_million_requests", c.per_million_requests),
            ("monthly_budget", c.monthly_budget),
        ];
        for (name, v) in fields {
            if !(v.is_finite() && v >= 0.0) {
                self.fail(
                    format!("{p}.cost.{name}"),
                    format!("{v} is not an amount of 0 or more"),
                );
                ok = false;
            }
        }
        for (j, v) in c.history.iter().enumerate() {
            if !(v.is_finite() && *v >= 0.0) {
                self.fail(
                    format!("{p}.cost.history[{j}]"),
                    format!("{v} is not an amount of 0 or more"),
                );
                ok = false;
            }
        }
        ok
    }

    fn recovery(&mut self, r: &RecoverySpec) -> Option<Recovery> {
        match r {
            RecoverySpec::Orchestrated => Some(Recovery::Orchestrated),
            RecoverySpec::CrashLoop { initial, cap } => {
                let i = self.positive_duration("recovery.initial", initial);
                let c = self.positive_duration("recovery.cap", cap);
                let (initial, cap) = (i?, c?);
                if cap < initial {
                    self.fail(
                        "recovery.cap",
                        format!("cap {cap} is below initial {initial}"),
                    );
                    return None;
                }
                Some(Recovery::CrashLoop { initial, cap })
            }
        }
    }

    /// Which services an outage hits: the listed ones, the listed layers, or all.
    /// What an outage takes down: the union of what its filters name, or everything
    /// (every service and every broker) when it has none.
    fn outage_services(
        &mut self,
        p: &str,
        services: &Option<Vec<String>>,
        layers: &Option<Vec<u32>>,
        brokers: &Option<Vec<String>>,
        spec: &Spec,
        names: &BTreeMap<String, usize>,
    ) -> Option<(Vec<ServiceId>, Vec<u32>)> {
        let mut out: Vec<ServiceId> = Vec::new();
        if let Some(list) = services {
            for (j, name) in list.iter().enumerate() {
                out.push(ServiceId(
                    self.lookup(&format!("{p}.services[{j}]"), name, names)? as u32,
                ));
            }
        }
        if let Some(wanted) = layers {
            let layering = graph::DependencyGraph::from_spec(spec).ok()?.layering();
            for (i, l) in layering.layers.iter().enumerate() {
                if l.is_some_and(|l| wanted.contains(&l)) {
                    out.push(ServiceId(i as u32));
                }
            }
        }
        let mut down: Vec<u32> = Vec::new();
        if let Some(list) = brokers {
            let known: BTreeMap<String, usize> = spec
                .brokers
                .iter()
                .enumerate()
                .map(|(i, b)| (b.name.clone(), i))
                .collect();
            for (j, name) in list.iter().enumerate() {
                down.push(self.named(&format!("{p}.brokers[{j}]"), "broker", name, &known)? as u32);
            }
        }
        if services.is_none() && layers.is_none() && brokers.is_none() {
            out = (0..spec.services.len() as u32).map(ServiceId).collect();
            down = (0..spec.brokers.len() as u32).collect();
        }
        out.sort_unstable();
        out.dedup();
        down.sort_unstable();
        down.dedup();
        if out.is_empty() && down.is_empty() {
            self.fail(p, "the outage hits no service and no broker");
            return None;
        }
        Some((out, down))
    }

    fn recovery_check(&mut self, r: &RecoveryCheckSpec) -> Option<RecoveryCheck> {
        let p = "recovery_check";
        let mut ok = true;
        for (name, v) in [
            ("goodput_tolerance", r.goodput_tolerance),
            ("latency_tolerance", r.latency_tolerance),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                self.fail(format!("{p}.{name}"), format!("{v} must be 0 or more"));
                ok = false;
            }
        }
        self.at_least_one(&format!("{p}.windows"), r.windows);
        let after = self.duration(&format!("{p}.metastable_after"), &r.metastable_after);
        let baseline = self.positive_duration(&format!("{p}.baseline"), &r.baseline);
        let (metastable_after, baseline) = (after?, baseline?);
        (ok && r.windows >= 1).then_some(RecoveryCheck {
            goodput_tolerance: r.goodput_tolerance,
            latency_tolerance: r.latency_tolerance,
            windows: r.windows,
            metastable_after,
            baseline,
        })
    }

    fn rate(&mut self, path: &str, rate: f64, zero_ok: bool) -> bool {
        if rate.is_finite() && rate > MAX_RATE {
            self.fail(
                path,
                format!("{rate} per second is above the most platsim simulates, {MAX_RATE:e} (one every nanosecond)"),
            );
            return false;
        }
        let ok = rate.is_finite() && (rate > 0.0 || zero_ok && rate == 0.0);
        if !ok {
            let need = if zero_ok {
                "zero or more"
            } else {
                "more than zero"
            };
            self.fail(path, format!("{rate} is not a rate per second {need}"));
        }
        ok
    }

    fn schedule(&mut self, p: &str, rate: f64, changes: &[RateChangeSpec]) -> Option<RateSchedule> {
        let mut ok = self.rate(&format!("{p}.rate"), rate, false);
        let mut points = vec![(SimTime::ZERO, rate)];
        let mut free_from = SimTime::ZERO;
        for (j, change) in changes.iter().enumerate() {
            let cp = format!("{p}.schedule[{j}]");
            let (at, end, to) = match change {
                RateChangeSpec::Step { at, rate } => {
                    ok &= self.rate(&format!("{cp}.rate"), *rate, true);
                    let at = self.duration(&format!("{cp}.at"), at);
                    (at, at, *rate)
                }
                RateChangeSpec::Ramp { at, to, over } => {
                    ok &= self.rate(&format!("{cp}.to"), *to, true);
                    let at = self.duration(&format!("{cp}.at"), at);
                    let over = self.duration(&format!("{cp}.over"), over);
                    (at, at.zip(over).map(|(a, o)| a.after(o)), *to)
                }
            };
            let (Some(at), Some(end)) = (at, end) else {
                ok = false;
                continue;
            };
            if at < free_from {
                self.fail(format!("{cp}.at"), format!("{at} is before the previous change ends ({free_from}); list changes in time order"));
                ok = false;
                continue;
            }
            let before = points.last().map(|p| p.1).unwrap_or(rate);
            points.push((at, before));
            points.push((end, to));
            free_from = end;
        }
        ok.then(|| RateSchedule::from_points(points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    fn problems(text: &str) -> Vec<String> {
        let spec = parse(text, "t").unwrap();
        build(&spec)
            .unwrap_err()
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    /// Exactly the problems in `want` (each a prefix of one found), no more.
    #[track_caller]
    fn assert_problems(found: &[String], want: &[&str]) {
        for w in want {
            assert!(
                found.iter().any(|f| f.starts_with(w)),
                "missing {w:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), want.len(), "{found:#?}");
    }

    const BREAKER_OPTS: &str = r#"Scenario(name: "x", duration: "10s",
        services: [
          Service(name: "api", service_time: Constant("1ms"),
                  calls: [Call(to: "db", breaker: Some(Breaker(BREAKER)))]),
          Service(name: "db", service_time: Constant("1ms")),
        ],
        workload: [Open(target: "api", rate: 1.0)])"#;

    /// The Resilience4j options map one-to-one; omitted ones keep Resilience4j's defaults.
    #[test]
    fn breaker_options_map_to_the_config() {
        let text = BREAKER_OPTS.replace(
            "BREAKER",
            r#"wait_open: "5s", automatic_transition: true, max_wait_half_open: "2s",
               wait_open_multiplier: 1.5, wait_open_cap: Some("30s"),
               record_on: [Error, Timeout], ignore_on: [Rejected]"#,
        );
        let p = build(&parse(&text, "t").unwrap()).unwrap();
        let b = p.services[0].calls[0].breaker.unwrap();
        assert!(b.automatic_transition);
        assert_eq!(b.max_wait_half_open, SimTime::from_secs(2));
        assert_eq!(b.open_multiplier, 1.5);
        assert_eq!(b.open_cap, SimTime::from_secs(30));
        assert!(b.record.contains(CallOutcome::Timeout) && b.record.contains(CallOutcome::Error));
        assert!(!b.record.contains(CallOutcome::Rejected));
        assert!(b.ignore.contains(CallOutcome::Rejected));
        let text = BREAKER_OPTS.replace("BREAKER", "");
        let p = build(&parse(&text, "t").unwrap()).unwrap();
        assert_eq!(
            p.services[0].calls[0].breaker,
            Some(BreakerConfig::default())
        );
    }

    #[test]
    fn bad_breaker_options_name_their_field() {
        let text = BREAKER_OPTS.replace(
            "BREAKER",
            r#"wait_open: "10s", max_wait_half_open: "5us", wait_open_multiplier: 0.5,
               wait_open_cap: Some("2s")"#,
        );
        let p = "services[0].calls[0].breaker";
        assert_problems(
            &problems(&text),
            &[
                &format!("{p}.max_wait_half_open: must be 0s (wait forever) or at least 1ms"),
                &format!("{p}.wait_open_multiplier: is 0.5: the open wait can only grow"),
                &format!("{p}.wait_open_cap: 2s is shorter than wait_open (10s)"),
            ],
        );
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let found = problems(
            r#"Scenario(name: "x", duration: "10 sec", warmup: "1q",
                services: [
                  Service(name: "api", replicas: 0, service_time: LogNormal(median: "5ms", p99: "1ms"),
                          error_rate: 1.5, calls: [Call(to: "paymnt", timeout: "0s")]),
                  Service(name: "payment", service_time: Uniform(min: "5s", max: "2s")),
                  Service(name: "api", service_time: Exponential(mean: "0s")),
                ],
                workload: [Open(target: "ap", rate: -1.0), Closed(target: "api", users: 0, think_time: Constant("1s"))])"#,
        );
        let want = [
            "duration: \"10 sec\": unknown unit",
            "warmup: \"1q\": unknown unit",
            "services[2].name: duplicate service \"api\" (first at services[0])",
            "services[0].replicas: must be at least 1",
            "services[0].error_rate: 1.5 is not a probability",
            "services[0].service_time.p99: p99 1ms is below the median 5ms",
            "services[0].calls[0].to: unknown service \"paymnt\" (did you mean \"payment\"?)",
            "services[0].calls[0].timeout: must be longer than 0s",
            "services[1].service_time.min: min 5s is above max 2s",
            "services[2].service_time.mean: must be longer than 0s",
            "workload[0].target: unknown service \"ap\" (did you mean \"api\"?)",
            "workload[0].rate: -1 is not a rate per second more than zero",
            "workload[1].users: must be at least 1",
        ];
        assert_problems(&found, &want);
    }

    #[test]
    fn cpu_requests_and_io_times_are_checked() {
        let found = problems(
            r#"Scenario(name: "x", duration: "1s", services: [
                Service(name: "a", service_time: Constant("1ms"), io_time: Some(Exponential(mean: "0s")),
                        kubernetes: Some(Kube(cpu_limit: Some(1.0), cpu_request: Some(2.0)))),
                Service(name: "b", service_time: Constant("1ms"),
                        kubernetes: Some(Kube(cpu_request: Some(-1.0)))),
            ])"#,
        );
        let want = [
            "services[0].io_time.mean: must be longer than 0s",
            "services[0].kubernetes.cpu_request: 2 is not a positive number of cores at most the CPU limit",
            "services[1].kubernetes.cpu_request: -1 is not a positive number of cores",
        ];
        assert_problems(&found, &want);
    }

    #[test]
    fn call_circles_are_named_in_order() {
        let found = problems(
            r#"Scenario(name: "x", duration: "1s", services: [
                Service(name: "a", service_time: Constant("1ms"), calls: [Call(to: "b")]),
                Service(name: "b", service_time: Constant("1ms"), calls: [Call(to: "c")]),
                Service(name: "c", service_time: Constant("1ms"), calls: [Call(to: "a", dependency: Soft)]),
            ])"#,
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("(a -> b -> c -> a)"), "{}", found[0]);
    }

    #[test]
    fn nan_rates_and_probabilities_are_refused() {
        let found = problems(
            r#"Scenario(name: "x", duration: "1s",
                services: [Service(name: "a", service_time: Constant("1ms"), error_rate: NaN)],
                workload: [Open(target: "a", rate: inf)])"#,
        );
        assert_eq!(found.len(), 2, "{found:#?}");
    }

    #[test]
    fn messaging_problems_are_named_with_their_paths() {
        let found = problems(
            r#"Scenario(name: "x", duration: "1m",
                orders: Orders(entry: "apii", steps: ["pay"]),
                queues: [JobQueue(name: "jobs", visibility_timeout: "0s")],
                brokers: [Broker(name: "kafka", topics: [Topic(name: "orders", partitions: 0)])],
                services: [
                  Service(name: "api", service_time: Constant("1ms"), push: Some("job"),
                          publish: [Publish(topic: "order")]),
                  Service(name: "pay", service_time: Constant("1ms"),
                          consume: Some(Consume(topic: "orders", auto_commit: Some("x")))),
                ],
                faults: [KillConsumer(target: "api", at: "1s"),
                         BrokerRestart(broker: "kafk", at: "1s", duration: "1s"),
                         Partition(from: "api", to: "nowhere", at: "1s", duration: "1s")])"#,
        );
        let want = [
            "orders.entry: unknown service \"apii\" (did you mean \"api\"?)",
            "queues[0].visibility_timeout: must be longer than 0s",
            "brokers[0].topics[0].partitions: must be at least 1",
            "services[0].push: unknown queue \"job\" (did you mean \"jobs\"?)",
            "services[0].publish[0].topic: unknown topic \"order\" (did you mean \"orders\"?)",
            "services[1].consume.auto_commit:",
            "faults[0].target: \"api\" has no consumers or workers to kill",
            "faults[1].broker: unknown broker \"kafk\" (did you mean \"kafka\"?)",
            "faults[2].to: unknown service or broker \"nowhere\"",
        ];
        assert_problems(&found, &want);
    }

    #[test]
    fn producer_buffer_problems_are_named_with_their_paths() {
        let found = problems(
            r#"Scenario(name: "x", duration: "1m",
                brokers: [Broker(name: "kafka", topics: [Topic(name: "t")])],
                services: [Service(name: "api", service_time: Constant("1ms"), publish: [
                    Publish(topic: "t", outbox: true, buffer: Some(ProducerBuffer(records: 10))),
                    Publish(topic: "t", buffer: Some(ProducerBuffer(records: 0,
                            max_block: "soon", delivery_timeout: "0s"))),
                ])])"#,
        );
        let want = [
            "services[0].publish[0].buffer: an outbox producer sends from its relay",
            "services[0].publish[1].buffer.records: 0 records: must be 1 to 10000000",
            "services[0].publish[1].buffer.max_block:",
            "services[0].publish[1].buffer.delivery_timeout: must be longer than 0s",
        ];
        assert_problems(&found, &want);
    }

    #[test]
    fn the_drain_defaults_to_30s_with_messaging_only() {
        let plain = r#"Scenario(name: "x", duration: "1m",
            services: [Service(name: "a", service_time: Constant("1ms"))])"#;
        let p = build(&parse(plain, "t").unwrap()).unwrap();
        assert_eq!(p.drain, SimTime::ZERO);
        assert_eq!(p.end(), p.duration);
        let jobs = r#"Scenario(name: "x", duration: "1m", queues: [JobQueue(name: "q")],
            services: [Service(name: "a", service_time: Constant("1ms"), push: Some("q"))])"#;
        let p = build(&parse(jobs, "t").unwrap()).unwrap();
        assert_eq!(p.drain, SimTime::from_secs(30));
        assert_eq!(p.services[0].push, Some(0));
    }

    #[test]
    fn unnamed_workloads_are_named_after_their_target() {
        let spec = parse(
            r#"Scenario(name: "x", duration: "1s",
                services: [Service(name: "a", service_time: Constant("1ms"))],
                workload: [Open(target: "a", rate: 1.0), Open(target: "a", rate: 2.0)])"#,
            "t",
        )
        .unwrap();
        let p = build(&spec).unwrap();
        assert_eq!(p.workloads[0].name, "a");
        assert_eq!(p.workloads[1].name, "a#2");
    }
}
