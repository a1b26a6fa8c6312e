//! Kubernetes pods, their lifecycle, nodes, and the Horizontal Pod Autoscaler.
//!
//! A service whose replicas are pods (it has `kubernetes` or `autoscale`, or the scenario
//! has nodes) has twice as many replica slots as it may ever have pods, so a terminating
//! pod and its replacement both have one and the run loop never allocates for a pod.
//! A slot's pod goes:
//!
//! `Absent` -> `Pending` (scheduling) -> `Starting` (`pod_startup`) -> `Ready` (in the
//! endpoints: takes traffic) -> deleted: `Stopping` (preStop hook; still serves) ->
//! `Terminating` (SIGTERM: refuses new requests, finishes what it holds; SIGKILL at the
//! grace period fails the rest) -> `Absent`.
//!
//! Being in the endpoints (`listed`) is separate from the pod's state, as in Kubernetes:
//! a deleted pod leaves the load balancers only `endpoint_delay` after its deletion, so a
//! pod that stops accepting before that refuses the requests still sent to it (the
//! endpoint-removal race; a preStop sleep longer than the delay avoids it). An abrupt
//! termination fails what the pod holds at once.
//!
//! Nodes: each new pod goes to the live node with the fewest pods of its service, then
//! the fewest pods (a topology spread). A killed node's pods die at once (`Lost`: what
//! they hold fails); they stay in the endpoints until the node controller marks them not
//! ready (`not_ready_after`), and the ReplicaSet replaces them on the surviving nodes
//! when they are evicted (`evict_after` later).
//!
//! Every sync period the autoscaler ([`Hpa`]) reads the mean metric per ready pod over
//! the period (CPU utilisation: on-CPU time over the pods' CPU requests, from the pods'
//! CPU time and the recorder's listed-pod integral; or requests per second per ready
//! pod) and gives the desired pod
//! count; pods not ready yet are passed on as such (see `mech::hpa`). Scaling up creates
//! pods; scaling down deletes pending pods first, then starting ones, then the highest
//! ready ones (the ReplicaSet's order). The recorder's replicas-up level counts the pods
//! in the endpoints, so replica-hours (and cost) are the pod-hours of serving pods:
//! pending and starting pods, and terminating ones once out of the endpoints, cost
//! nothing (a simplification: a scheduled pod reserves its node's resources).
//!
//! A StatefulSet (`kubernetes.stateful`, after
//! https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/) gives pod
//! identities instead: slot N is the pod `name-N`, and only ever holds that pod. One
//! reconciling step ([`Sim::stateful_sync`]) runs whenever one of its pods changes:
//! 1. Ordinals below the desired count: an absent one is created (a replacement comes
//!    under the old name, only once the old pod is gone: at most one pod per identity).
//!    Under `OrderedReady` the step stops at the first pod it created or that is not
//!    ready, so `name-(N+1)` starts only when `name-N` is ready.
//! 2. Ordinals at or above it (scale-down) are deleted highest first; under
//!    `OrderedReady` one at a time, the next once the last is gone.
//!
//! The run starts with the set rolled out (its pods ready at 0, as a Deployment's). Each
//! pod's volume outlives the pod: restarts, deletions and rescheduling keep it. A `Local`
//! volume is the node's disk, lost when the node is killed (the node's machine is taken
//! to be gone, not rebooted): a database pod on it loses every order it had written, each
//! lost under the cause `name-N: volume lost with its node (local volume)`. Kubernetes
//! itself waits for a dead node's object to be deleted before it replaces a StatefulSet
//! pod; here the eviction (`evict_after`) stands for that, and the replacement comes up
//! with an empty volume (a local PersistentVolume is pinned to its node, so an operator
//! would have to delete the claim).

use super::{Event, Observer, ServiceState, Sim, NONE};
use crate::engine::SimTime;
use crate::mech::cfs::{CfsQuota, CpuMeter};
use crate::mech::hpa::{Hpa, HpaConfig};
use crate::mech::probe::{startup_outcome, Probe, ProbeChange};
use crate::mech::rollout::rolling_bounds;
use crate::metrics::summary::StatefulPodSummary;
use crate::metrics::{AutoscaleSummary, DeploymentSummary, PodSummary, ScaleEvent};
use crate::model::{AutoscaleMetric, FaultKind, Service, Termination};
use std::collections::VecDeque;

/// Most scaling events kept for the summary.
const MAX_EVENTS: usize = 1000;
/// Most ready and gone instants kept per StatefulSet pod identity.
const MAX_POD_TIMES: usize = 100;
/// CrashLoopBackOff: the first restart delay, its cap, and how long a container must run
/// for the delay to start over.
const BACKOFF_INITIAL: SimTime = SimTime::from_secs(10);
const BACKOFF_CAP: SimTime = SimTime::from_secs(300);
const BACKOFF_RESET: SimTime = SimTime::from_secs(600);

/// The one-off extension Kubernetes grants a preStop hook still running at the grace
/// period's end.
const PRE_STOP_EXTENSION: SimTime = SimTime::from_secs(2);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pod {
    Absent,
    /// Created, waiting to be bound to a node and for its containers.
    Pending,
    /// Containers started; startup and readiness probes not passed yet.
    Starting,
    #[default]
    Ready,
    /// Deleted, preStop hook running: still serves.
    Stopping,
    /// SIGTERM received: refuses new requests, finishes what it holds.
    Terminating,
    /// Its node died: nothing runs; waits to be evicted and replaced.
    Lost,
    /// Its container died (OOM kill, liveness failure): restarted after the back-off.
    Waiting,
}

impl Pod {
    /// Whether the pod's process takes a request sent to it.
    #[inline]
    pub(super) fn accepts(self) -> bool {
        matches!(self, Pod::Ready | Pod::Stopping)
    }
}

/// A timer of one pod (void unless the slot's `pod_token` matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PodStep {
    /// Bound to a node: containers start.
    Scheduled,
    /// Startup over: ready, into the endpoints.
    Started,
    /// Out of the endpoints.
    Unlist,
    Sigterm,
    Sigkill,
    /// A lost pod is evicted and replaced.
    Evict,
    /// The container's memory may have reached its limit.
    Oom,
    /// The CrashLoopBackOff delay is over: the container starts again.
    Restart,
    Liveness,
    Readiness,
    /// The startup probe failed `failure_threshold` times: the container is killed.
    StartupFailed,
}

/// The container of a pod slot: what outlives a request but not a restart.
#[derive(Debug, Clone, Default)]
struct Container {
    started: SimTime,
    /// The next restart delay (zero: the initial one).
    backoff: SimTime,
    /// Requests it starts before this instant wait for it (a `Hang` fault).
    hung_until: SimTime,
    liveness: Option<Probe>,
    readiness: Option<Probe>,
    /// Its readiness probe keeps it out of the endpoints.
    unready: bool,
    /// Its CPU quota, under a CPU limit.
    cfs: Option<CfsQuota>,
}

/// The nodes and where the pods are.
#[derive(Default)]
pub(super) struct Cluster {
    up: Vec<bool>,
    /// Pods per node and service: `node * services + service`.
    pods: Vec<u32>,
    /// Pods per node.
    total: Vec<u32>,
    services: usize,
    /// Per service (empty unless it runs as pods): each slot's container.
    containers: Vec<Vec<Container>>,
    /// Per service: the on-CPU time its pods use.
    cpu: Vec<CpuMeter>,
    pub stats: Vec<PodSummary>,
    /// Per service: the version new pods get, and the rollout under way.
    current: Vec<u16>,
    rollouts: Vec<Option<Rollout>>,
    records: Vec<DeployRecord>,
    /// Per service with a CPU limit: its CFS counts `(nr_throttled, nr_periods)` per
    /// time-series window, and the totals at the last window's close.
    pub cfs_rows: Vec<Vec<(u64, u64)>>,
    cfs_seen: Vec<(u64, u64)>,
}

/// A rollout (or rollback) under way: pods of other versions are replaced by `target`
/// ones, keeping at most `most` pods and at least `fewest` available.
#[derive(Debug, Clone, Copy)]
struct Rollout {
    record: usize,
    target: u16,
    most: u32,
    fewest: u32,
}

/// One deployment as it unfolds.
#[derive(Debug, Clone)]
struct DeployRecord {
    deployment: u32,
    service: u32,
    previous: u16,
    start: SimTime,
    end: Option<SimTime>,
    rollback: Option<SimTime>,
    by_alert: bool,
    /// Its tick is scheduled.
    ticking: bool,
    /// `(bad, valid)` so far, at each check since the deployment (the alert's windows).
    samples: VecDeque<(u64, u64)>,
}

impl Cluster {
    pub fn deployment_summaries(&self, p: &crate::model::Platform) -> Vec<DeploymentSummary> {
        self.records
            .iter()
            .map(|r| {
                let d = p.deployments[r.deployment as usize]
                    .deploy
                    .as_ref()
                    .expect("records are deploys");
                DeploymentSummary {
                    service: p.services[r.service as usize].name.clone(),
                    version: d.name.clone(),
                    start_s: r.start.as_secs_f64(),
                    end_s: r.end.map(SimTime::as_secs_f64),
                    outcome: match (r.rollback, r.end) {
                        (Some(_), _) => "rolled_back",
                        (None, Some(_)) => "completed",
                        (None, None) => "in_progress",
                    }
                    .to_string(),
                    rollback_s: r.rollback.map(SimTime::as_secs_f64),
                    rolled_back_by_alert: r.by_alert,
                }
            })
            .collect()
    }

    /// Closes a time-series window: each CPU-limited service's CFS counts since the last.
    pub fn close_window(&mut self) {
        for s in 0..self.containers.len() {
            let mut now = (0, 0);
            let mut limited = false;
            for q in self.containers[s].iter().filter_map(|c| c.cfs.as_ref()) {
                limited = true;
                now.0 += q.throttled_periods;
                now.1 += q.periods;
            }
            if limited {
                let seen = std::mem::replace(&mut self.cfs_seen[s], now);
                self.cfs_rows[s].push((now.0 - seen.0, now.1 - seen.1));
            }
        }
    }

    /// What happened to service `s`'s pods, if it runs as pods.
    pub fn summary(&mut self, s: usize, end: SimTime) -> Option<PodSummary> {
        let cpu_s = self.cpu[s].used(end) as f64 / 1e9;
        (!self.containers[s].is_empty()).then(|| {
            let mut sum = self.stats[s].clone();
            for q in self.containers[s].iter().filter_map(|c| c.cfs.as_ref()) {
                sum.cpu_throttled_periods += q.throttled_periods;
                sum.cpu_throttled_s += q.throttled.as_secs_f64();
            }
            sum.cpu_s = cpu_s;
            sum
        })
    }
}

impl Cluster {
    pub fn new(p: &crate::model::Platform) -> Self {
        let n = p.nodes.map_or(0, |n| n.count as usize);
        Cluster {
            up: vec![true; n],
            pods: vec![0; n * p.services.len()],
            total: vec![0; n],
            services: p.services.len(),
            containers: p
                .services
                .iter()
                .map(|s| match &s.kube {
                    Some(k) => vec![
                        Container {
                            cfs: k.cpu_limit.map(CfsQuota::new),
                            ..Container::default()
                        };
                        slots(s) as usize
                    ],
                    None => Vec::new(),
                })
                .collect(),
            cpu: vec![CpuMeter::default(); p.services.len()],
            cfs_rows: vec![Vec::new(); p.services.len()],
            cfs_seen: vec![(0, 0); p.services.len()],
            stats: p
                .services
                .iter()
                .map(|s| PodSummary {
                    stateful: s.kube.as_ref().and_then(|k| k.stateful).map(|_| {
                        let most = s.autoscale.as_ref().map_or(s.replicas, |a| a.max);
                        (0..most)
                            .map(|k| StatefulPodSummary {
                                name: format!("{}-{k}", s.name),
                                ready_s: if k < s.replicas {
                                    vec![0.0]
                                } else {
                                    Vec::new()
                                },
                                ..StatefulPodSummary::default()
                            })
                            .collect()
                    }),
                    ..PodSummary::default()
                })
                .collect(),
            current: vec![0; p.services.len()],
            rollouts: vec![None; p.services.len()],
            records: Vec::new(),
        }
    }

    /// The node for a new pod of service `s`, or `NONE` when no node is up (or there
    /// are no nodes: then it is 0 and nothing is counted).
    fn place(&mut self, s: usize) -> u32 {
        if self.up.is_empty() {
            return 0;
        }
        let best = (0..self.up.len())
            .filter(|&n| self.up[n])
            .min_by_key(|&n| (self.pods[n * self.services + s], self.total[n], n));
        match best {
            Some(n) => {
                self.pods[n * self.services + s] += 1;
                self.total[n] += 1;
                n as u32
            }
            None => NONE,
        }
    }

    /// The summary of StatefulSet pod `name-slot`; `None` for a Deployment's pods.
    fn stateful_pod(&mut self, s: usize, slot: usize) -> Option<&mut StatefulPodSummary> {
        self.stats[s].stateful.as_mut()?.get_mut(slot)
    }

    /// StatefulSet pod `name-slot`'s volume was lost with its node, with `writes` of
    /// orders on it.
    pub(super) fn volume_lost(&mut self, s: usize, slot: usize, writes: u64) {
        if let Some(pod) = self.stateful_pod(s, slot) {
            pod.volumes_lost += 1;
            pod.writes_lost += writes;
        }
    }

    fn unplace(&mut self, s: usize, node: u32) {
        if self.up.is_empty() || node == NONE {
            return;
        }
        let n = node as usize;
        self.pods[n * self.services + s] -= 1;
        self.total[n] -= 1;
    }
}

pub(super) struct AutoState {
    hpa: Hpa,
    min: u32,
    max: u32,
    metric: AutoscaleMetric,
    /// The desired pod count (the Deployment's replicas).
    current: u32,
    /// Integrals and arrivals at the last sync.
    mark_busy: u128,
    mark_ready: u128,
    mark_arrivals: u64,
    peak: u32,
    scale_ups: u64,
    scale_downs: u64,
    events: Vec<ScaleEvent>,
}

impl AutoState {
    pub fn new(s: &Service) -> Option<Box<Self>> {
        let a = s.autoscale.as_ref()?;
        let mut cfg = HpaConfig::with_defaults(a.min, a.max, a.metric.target());
        cfg.sync_period = a.sync_period;
        cfg.scale_down.stabilization = a.scale_down_stabilization;
        Some(Box::new(AutoState {
            hpa: Hpa::new(cfg),
            min: a.min,
            max: a.max,
            metric: a.metric,
            current: s.replicas,
            mark_busy: 0,
            mark_ready: 0,
            mark_arrivals: 0,
            peak: s.replicas,
            scale_ups: 0,
            scale_downs: 0,
            events: Vec::with_capacity(64),
        }))
    }

    pub fn summary(&self) -> AutoscaleSummary {
        AutoscaleSummary {
            min: self.min,
            max: self.max,
            peak_replicas: self.peak,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            events: self.events.clone(),
        }
    }
}

/// Replica slots of a service: its pods (the autoscaler's most), twice over for pods.
pub(super) fn slots(s: &Service) -> u32 {
    let most = s.autoscale.as_ref().map_or(s.replicas, |a| a.max);
    if s.kube.is_some() {
        most * 2
    } else {
        most
    }
}

/// `(ready, not ready yet)` pods: the autoscaler's view.
fn pod_counts(st: &ServiceState) -> (u32, u32) {
    let (mut ready, mut unready) = (0, 0);
    for r in &st.replicas {
        match r.pod {
            Pod::Ready => ready += 1,
            Pod::Pending | Pod::Starting | Pod::Lost | Pod::Waiting => unready += 1,
            _ => {}
        }
    }
    (ready, unready)
}

impl<O: Observer> Sim<'_, O> {
    /// Places the initial pods on the nodes and schedules every autoscaler's first sync.
    pub(super) fn pods_start(&mut self) {
        for (i, s) in self.p.services.iter().enumerate() {
            if let Some(kube) = &s.kube {
                for slot in 0..s.replicas as usize {
                    let node = self.cluster.place(i);
                    self.services[i].replicas[slot].node = node;
                    let c = &mut self.cluster.containers[i][slot];
                    c.liveness = kube.liveness.map(Probe::new);
                    c.readiness = kube.readiness.map(Probe::new);
                    for (cfg, step) in [
                        (kube.liveness, PodStep::Liveness),
                        (kube.readiness, PodStep::Readiness),
                    ] {
                        if let Some(cfg) = cfg {
                            self.pod_timer(cfg.initial_delay, i, slot, step);
                        }
                    }
                }
            }
            if let Some(a) = &s.autoscale {
                self.queue
                    .push(a.sync_period, Event::HpaSync { service: i as u32 });
            }
        }
    }

    pub(super) fn hpa_sync(&mut self, now: SimTime, s: u32) {
        let si = s as usize;
        let spec = &self.p.services[si];
        let Some(a) = &spec.autoscale else {
            return;
        };
        self.queue
            .push(now.after(a.sync_period), Event::HpaSync { service: s });
        if now >= self.p.end() {
            return;
        }
        let (_, ready_area) = self.rec.busy_and_ready_area(si, now);
        let busy = self.cluster.cpu[si].used(now);
        let st = &mut self.services[si];
        let (ready, unready) = pod_counts(st);
        let arrivals = self.hot[si].arrivals;
        let auto = st
            .auto
            .as_mut()
            .expect("an autoscaled service has its state");
        let d_busy = busy - auto.mark_busy;
        let d_ready = ready_area - auto.mark_ready;
        let d_arrivals = arrivals - auto.mark_arrivals;
        (auto.mark_busy, auto.mark_ready, auto.mark_arrivals) = (busy, ready_area, arrivals);
        let metric = if d_ready == 0 {
            0.0
        } else {
            match auto.metric {
                // On-CPU time over the pods' CPU requests (core-ns over pod-ns x cores).
                AutoscaleMetric::Cpu { .. } => {
                    let request = spec.kube.as_ref().map_or(1.0, |k| k.cpu_request);
                    d_busy as f64 / (d_ready as f64 * request)
                }
                // Arrivals per pod-second (the area is in pod-nanoseconds).
                AutoscaleMetric::Rps { .. } => d_arrivals as f64 / (d_ready as f64 / 1e9),
            }
        };
        let current = auto.current;
        let desired = auto.hpa.sync(now, current, ready, unready, metric);
        if desired == current {
            return;
        }
        if auto.events.len() < MAX_EVENTS {
            auto.events.push(ScaleEvent {
                t_s: now.as_secs_f64(),
                from: current,
                to: desired,
            });
        }
        if spec.kube.as_ref().is_some_and(|k| k.stateful.is_some()) {
            if desired > current {
                auto.scale_ups += 1;
            } else {
                auto.scale_downs += 1;
            }
            auto.current = desired;
            self.stateful_sync(now, si);
            return;
        }
        if desired > current {
            auto.scale_ups += 1;
            let mut created = 0;
            for _ in 0..desired - current {
                created += self.create_pod(now, si) as u32;
            }
            if let Some(a) = self.services[si].auto.as_mut() {
                a.current += created;
            }
        } else {
            auto.scale_downs += 1;
            self.scale_down(now, si, current - desired);
        }
    }

    /// A new pod of the service's current version in the lowest absent slot (false if
    /// none is left): pending until it is scheduled.
    fn create_pod(&mut self, now: SimTime, s: usize) -> bool {
        let Some(slot) = self.services[s]
            .replicas
            .iter()
            .position(|r| r.pod == Pod::Absent)
        else {
            return false;
        };
        self.create_in(now, s, slot);
        true
    }

    /// A new pod of the service's current version in the absent `slot`.
    fn create_in(&mut self, now: SimTime, s: usize, slot: usize) {
        let version = self.cluster.current[s];
        let node = self.cluster.place(s);
        let r = &mut self.services[s].replicas[slot];
        r.pod = Pod::Pending;
        r.pod_token = r.pod_token.wrapping_add(1);
        r.node = node;
        r.version = version;
        if node != NONE {
            self.schedule_pod(now, s, slot);
        }
    }

    /// The StatefulSet controller's step for service `s` (see the module doc); nothing
    /// for a Deployment's pods.
    pub(super) fn stateful_sync(&mut self, now: SimTime, s: usize) {
        let Some(set) = self.p.services[s].kube.as_ref().and_then(|k| k.stateful) else {
            return;
        };
        let st = &self.services[s];
        let desired = st
            .auto
            .as_ref()
            .map_or(self.p.services[s].replicas, |a| a.current);
        for slot in 0..desired as usize {
            match self.services[s].replicas[slot].pod {
                Pod::Ready => {}
                Pod::Absent => {
                    self.create_in(now, s, slot);
                    if set.ordered {
                        return;
                    }
                }
                _ if set.ordered => return,
                _ => {}
            }
        }
        for slot in (desired as usize..self.services[s].replicas.len()).rev() {
            match self.services[s].replicas[slot].pod {
                Pod::Absent => {}
                Pod::Stopping | Pod::Terminating if set.ordered => return,
                Pod::Stopping | Pod::Terminating => {}
                _ => {
                    self.delete_pod(now, s, slot);
                    // A pod not started yet is gone at once; the next may follow.
                    if set.ordered && self.services[s].replicas[slot].pod != Pod::Absent {
                        return;
                    }
                }
            }
        }
    }

    fn schedule_pod(&mut self, now: SimTime, s: usize, slot: usize) {
        let wait = self.p.services[s]
            .kube
            .as_ref()
            .map_or(SimTime::ZERO, |k| k.scheduling);
        self.pod_timer(now.after(wait), s, slot, PodStep::Scheduled);
    }

    fn pod_timer(&mut self, at: SimTime, s: usize, slot: usize, step: PodStep) {
        let token = self.services[s].replicas[slot].pod_token;
        self.queue.push(
            at,
            Event::Pod {
                service: s as u32,
                replica: slot as u32,
                token,
                step,
            },
        );
    }

    /// Deletes `n` pods: pending ones first, then starting ones, then the highest ready.
    fn scale_down(&mut self, now: SimTime, s: usize, n: u32) {
        let mut removed = 0;
        for state in [
            Pod::Pending,
            Pod::Waiting,
            Pod::Starting,
            Pod::Lost,
            Pod::Ready,
        ] {
            for slot in (0..self.services[s].replicas.len()).rev() {
                if removed == n {
                    break;
                }
                if self.services[s].replicas[slot].pod == state {
                    self.delete_pod(now, s, slot);
                    removed += 1;
                }
            }
        }
        if let Some(a) = self.services[s].auto.as_mut() {
            a.current -= removed;
        }
    }

    /// The pod in `slot` is deleted: it stops as the service's termination says.
    fn delete_pod(&mut self, now: SimTime, s: usize, slot: usize) {
        self.cluster.stats[s].deleted += 1;
        let kube = self.p.services[s]
            .kube
            .as_ref()
            .expect("pods have a lifecycle");
        let (termination, endpoint_delay) = (kube.termination, kube.endpoint_delay);
        match self.services[s].replicas[slot].pod {
            Pod::Pending | Pod::Starting | Pod::Lost | Pod::Waiting => {
                // Not in the endpoints (a lost one: no longer, or soon): gone.
                self.unlist(now, s, slot);
                self.vacate(s, slot);
            }
            Pod::Ready => {
                self.pod_timer(now.after(endpoint_delay), s, slot, PodStep::Unlist);
                match termination {
                    Termination::Graceful {
                        grace_period,
                        pre_stop,
                    } => {
                        self.services[s].replicas[slot].pod = Pod::Stopping;
                        let (term, kill) = if pre_stop < grace_period {
                            (pre_stop, grace_period)
                        } else {
                            (grace_period, grace_period.after(PRE_STOP_EXTENSION))
                        };
                        self.pod_timer(now.after(term), s, slot, PodStep::Sigterm);
                        self.pod_timer(now.after(kill), s, slot, PodStep::Sigkill);
                    }
                    Termination::Abrupt => {
                        self.services[s].replicas[slot].pod = Pod::Terminating;
                        self.kill_held(now, s, slot);
                        self.pod_settled(s, slot as u32);
                    }
                }
            }
            Pod::Absent | Pod::Stopping | Pod::Terminating => {}
        }
    }

    /// The slot's pod is gone for good.
    fn vacate(&mut self, s: usize, slot: usize) {
        let r = &mut self.services[s].replicas[slot];
        let node = r.node;
        r.pod = Pod::Absent;
        r.pod_token = r.pod_token.wrapping_add(1);
        r.node = NONE;
        self.cluster.unplace(s, node);
        let now = self.queue.now();
        if let Some(pod) = self.cluster.stateful_pod(s, slot) {
            if pod.gone_s.len() < MAX_POD_TIMES {
                pod.gone_s.push(now.as_secs_f64());
            }
        }
    }

    /// The pod leaves the load balancers' endpoints.
    fn unlist(&mut self, now: SimTime, s: usize, slot: usize) {
        let st = &mut self.services[s];
        let r = &mut st.replicas[slot];
        if !r.listed {
            return;
        }
        r.listed = false;
        if r.down == 0 {
            self.hot[s].up -= 1;
        }
        self.refresh_availability(now, s);
    }

    pub(super) fn pod_event(&mut self, now: SimTime, s: u32, slot: u32, step: PodStep) {
        let (s, slot) = (s as usize, slot as usize);
        let pod = self.services[s].replicas[slot].pod;
        match step {
            PodStep::Scheduled if pod == Pod::Pending => {
                self.start_container(now, s, slot, false);
            }
            PodStep::Restart if pod == Pod::Waiting => {
                self.unlist(now, s, slot);
                self.start_container(now, s, slot, true);
            }
            PodStep::Started if pod == Pod::Starting => {
                let unready = self.cluster.containers[s][slot].unready;
                let st = &mut self.services[s];
                let r = &mut st.replicas[slot];
                r.pod = Pod::Ready;
                if !r.listed && !unready {
                    r.listed = true;
                    if r.down == 0 {
                        self.hot[s].up += 1;
                    }
                }
                let (ready, _) = pod_counts(st);
                if let Some(a) = st.auto.as_mut() {
                    a.peak = a.peak.max(ready);
                }
                if let Some(pod) = self.cluster.stateful_pod(s, slot) {
                    if pod.ready_s.len() < MAX_POD_TIMES {
                        pod.ready_s.push(now.as_secs_f64());
                    }
                }
                self.refresh_availability(now, s);
                self.stateful_sync(now, s);
            }
            // A restarted container that is ready again stays.
            PodStep::Unlist if pod != Pod::Ready => {
                self.unlist(now, s, slot);
                self.pod_settled(s, slot as u32);
            }
            PodStep::Sigterm if pod == Pod::Stopping => {
                self.services[s].replicas[slot].pod = Pod::Terminating;
                self.pod_settled(s, slot as u32);
            }
            PodStep::Sigkill if matches!(pod, Pod::Stopping | Pod::Terminating) => {
                self.services[s].replicas[slot].pod = Pod::Terminating;
                self.kill_held(now, s, slot);
                self.pod_settled(s, slot as u32);
            }
            PodStep::Oom if matches!(pod, Pod::Starting | Pod::Ready) => {
                let limit = self.p.services[s]
                    .kube
                    .as_ref()
                    .and_then(|k| k.memory_limit);
                if limit.is_some_and(|l| self.memory(s, slot, now) >= l - 1e-6) {
                    self.cluster.stats[s].oom_kills += 1;
                    self.container_died(now, s, slot);
                }
            }
            PodStep::StartupFailed if pod == Pod::Starting => {
                self.cluster.stats[s].startup_failures += 1;
                self.container_died(now, s, slot);
            }
            PodStep::Liveness | PodStep::Readiness if matches!(pod, Pod::Ready | Pod::Starting) => {
                self.probe(now, s, slot, step);
            }
            PodStep::Evict if pod == Pod::Lost => {
                self.unlist(now, s, slot);
                self.vacate(s, slot);
                if self.cluster.stateful_pod(s, slot).is_some() {
                    self.stateful_sync(now, s);
                } else {
                    self.create_pod(now, s);
                }
            }
            _ => {}
        }
    }

    /// A container starts (a new pod's first, or a restart): fresh memory, probes, and
    /// no hang; ready after the startup.
    fn start_container(&mut self, now: SimTime, s: usize, slot: usize, restart: bool) {
        let kube = self.p.services[s]
            .kube
            .as_ref()
            .expect("pods have a lifecycle");
        let r = &mut self.services[s].replicas[slot];
        r.pod = Pod::Starting;
        if restart {
            // The old container's timers are void.
            r.pod_token = r.pod_token.wrapping_add(1);
        }
        let c = &mut self.cluster.containers[s][slot];
        let backoff = if restart { c.backoff } else { SimTime::ZERO };
        // A new cgroup: a fresh quota, the throttling counts kept for the summary.
        let mut cfs = c.cfs.take();
        if let Some(q) = cfs.as_mut() {
            q.forget();
        }
        *c = Container {
            started: now,
            backoff,
            hung_until: SimTime::ZERO,
            liveness: kube.liveness.map(Probe::new),
            readiness: kube.readiness.map(Probe::new),
            unready: false,
            cfs,
        };
        let t = kube.pod_startup.sample(&mut self.services[s].rng_startup);
        // Without a startup probe the pod is started as soon as it is.
        let (t, step) = match kube.startup.map(|cfg| startup_outcome(&cfg, t)) {
            None => (t, PodStep::Started),
            Some(Ok(passed)) => (passed, PodStep::Started),
            Some(Err(failed)) => (failed, PodStep::StartupFailed),
        };
        self.pod_timer(now.after(t), s, slot, step);
        for (cfg, step) in [
            (kube.liveness, PodStep::Liveness),
            (kube.readiness, PodStep::Readiness),
        ] {
            if let Some(cfg) = cfg {
                // Probes run once the startup is over (the startup probe gates them).
                let first = now.after(cfg.initial_delay).max(now.after(t));
                self.pod_timer(first, s, slot, step);
            }
        }
        self.schedule_oom(now, s, slot);
    }

    /// The container died (OOM kill, liveness failure): what it holds fails, and it
    /// restarts after the CrashLoopBackOff delay: 10 s doubling to 5 min, back to 10 s
    /// once a container has run 10 minutes.
    fn container_died(&mut self, now: SimTime, s: usize, slot: usize) {
        self.services[s].replicas[slot].pod = Pod::Waiting;
        self.kill_held(now, s, slot);
        self.cluster.stats[s].restarts += 1;
        let c = &mut self.cluster.containers[s][slot];
        if now.since(c.started) >= BACKOFF_RESET {
            c.backoff = SimTime::ZERO;
        }
        let wait = if c.backoff == SimTime::ZERO {
            BACKOFF_INITIAL
        } else {
            c.backoff
        };
        c.backoff = SimTime(wait.0.saturating_mul(2)).min(BACKOFF_CAP);
        let r = &mut self.services[s].replicas[slot];
        r.pod_token = r.pod_token.wrapping_add(1);
        let delay = self.p.services[s]
            .kube
            .as_ref()
            .map_or(SimTime::ZERO, |k| k.endpoint_delay);
        if self.services[s].replicas[slot].listed {
            self.pod_timer(now.after(delay), s, slot, PodStep::Unlist);
        }
        self.pod_timer(now.after(wait), s, slot, PodStep::Restart);
    }

    /// One probe attempt: it fails while the container is hung (no answer within the
    /// timeout).
    fn probe(&mut self, now: SimTime, s: usize, slot: usize, step: PodStep) {
        let kube = self.p.services[s]
            .kube
            .as_ref()
            .expect("pods have a lifecycle");
        let c = &mut self.cluster.containers[s][slot];
        let hung = now < c.hung_until;
        let took = if hung { SimTime::MAX } else { SimTime::ZERO };
        let (probe, period) = match step {
            PodStep::Liveness => (c.liveness.as_mut(), kube.liveness.map(|p| p.period)),
            _ => (c.readiness.as_mut(), kube.readiness.map(|p| p.period)),
        };
        let (Some(probe), Some(period)) = (probe, period) else {
            return;
        };
        let change = probe.observe(!hung, took);
        self.pod_timer(now.after(period), s, slot, step);
        match (step, change) {
            (PodStep::Liveness, ProbeChange::Failed) => {
                self.cluster.stats[s].liveness_restarts += 1;
                self.container_died(now, s, slot);
            }
            (PodStep::Readiness, ProbeChange::Failed) => {
                self.cluster.stats[s].readiness_failures += 1;
                self.cluster.containers[s][slot].unready = true;
                self.unlist(now, s, slot);
            }
            (PodStep::Readiness, ProbeChange::Passed) => {
                self.cluster.containers[s][slot].unready = false;
                let st = &mut self.services[s];
                let r = &mut st.replicas[slot];
                if r.pod == Pod::Ready && !r.listed {
                    r.listed = true;
                    if r.down == 0 {
                        self.hot[s].up += 1;
                    }
                    self.refresh_availability(now, s);
                }
            }
            _ => {}
        }
    }

    /// Memory of the slot's container at `t`, in MB: its start plus what the `Leak`
    /// faults added since it started.
    fn memory(&self, s: usize, slot: usize, t: SimTime) -> f64 {
        let base = self.p.services[s].kube.as_ref().map_or(0.0, |k| k.memory);
        let started = self.cluster.containers[s][slot].started;
        let mut m = base;
        for f in &self.p.faults {
            if let FaultKind::Leak { target, rate } = f.kind {
                if target.0 as usize == s {
                    let (a, b) = (f.start.max(started), f.end.min(t));
                    if b > a {
                        m += rate * b.since(a).as_secs_f64();
                    }
                }
            }
        }
        m
    }

    /// Schedules the check for when the slot's container reaches its memory limit, if
    /// the leaks active now get it there before they end.
    fn schedule_oom(&mut self, now: SimTime, s: usize, slot: usize) {
        let Some(limit) = self.p.services[s]
            .kube
            .as_ref()
            .and_then(|k| k.memory_limit)
        else {
            return;
        };
        let mut t = now;
        let mut m = self.memory(s, slot, now);
        loop {
            let (mut rate, mut next) = (0.0, SimTime::MAX);
            for f in &self.p.faults {
                if let FaultKind::Leak { target, rate: r } = f.kind {
                    if target.0 as usize == s && f.end > t {
                        if f.start <= t {
                            rate += r;
                            next = next.min(f.end);
                        } else {
                            next = next.min(f.start);
                        }
                    }
                }
            }
            if rate > 0.0 {
                let hit = t.after(SimTime((((limit - m) / rate).max(0.0) * 1e9).ceil() as u64));
                if hit <= next {
                    // Rounded up to the nanosecond, so the check sees the limit reached.
                    self.pod_timer(hit.after(SimTime(1)), s, slot, PodStep::Oom);
                    return;
                }
            }
            if next == SimTime::MAX {
                return;
            }
            m += rate * next.since(t).as_secs_f64();
            t = next;
        }
    }

    /// `Leak` starts: each running container's memory begins to grow.
    pub(super) fn leak_started(&mut self, now: SimTime, s: usize) {
        for slot in 0..self.services[s].replicas.len() {
            if matches!(
                self.services[s].replicas[slot].pod,
                Pod::Starting | Pod::Ready
            ) {
                self.schedule_oom(now, s, slot);
            }
        }
    }

    /// `Hang`: the first `n` ready pods hang until `until` (or a restart).
    pub(super) fn hang(&mut self, s: usize, n: u32, until: SimTime) {
        let slots: Vec<usize> = (0..self.services[s].replicas.len())
            .filter(|&i| self.services[s].replicas[i].pod == Pod::Ready)
            .take(n as usize)
            .collect();
        for slot in slots {
            self.cluster.containers[s][slot].hung_until = until;
        }
    }

    /// When a request that starts now on `replica`, with `cpu` of on-CPU work and then
    /// `off` of off-CPU waiting, is done in its pod: a hung container starts it only
    /// when the hang ends; under a CPU limit, its CPU work gets the quota CFS bandwidth
    /// control leaves it (`mech::cfs`); pauses stop the clock. Its CPU time counts
    /// toward the autoscaler's utilisation.
    #[inline]
    pub(super) fn pod_done(
        &mut self,
        s: usize,
        replica: u32,
        now: SimTime,
        cpu: SimTime,
        off: SimTime,
    ) -> SimTime {
        let c = &mut self.cluster.containers[s][replica as usize];
        let start = now.max(c.hung_until);
        let ran = match c.cfs.as_mut() {
            Some(q) => q.run(start, cpu).since(start),
            None => cpu,
        };
        // Counted from now: a hung container's thread is not on the CPU, but the meter
        // takes phases in the order they start.
        self.cluster.cpu[s].run(now, start.since(now).after(ran), cpu);
        if self.services[s].pauses.is_empty() {
            start.after(ran).after(off)
        } else {
            self.progress(s, start, ran.after(off))
        }
    }

    /// The container in `slot` is gone or new: the CPU time it had placed is void.
    pub(super) fn cpu_forget(&mut self, s: usize, slot: usize) {
        if let Some(q) = self
            .cluster
            .containers
            .get_mut(s)
            .and_then(|c| c.get_mut(slot))
            .and_then(|c| c.cfs.as_mut())
        {
            q.forget();
        }
    }

    /// Deployment `d` starts (`check` false), or a tick of its rollout and alert.
    pub(super) fn deployment_event(&mut self, now: SimTime, d: u32, check: bool) {
        let p = self.p;
        let dep = &p.deployments[d as usize];
        let s = dep.service.0 as usize;
        if check {
            self.deployment_tick(now, d);
            return;
        }
        match &dep.deploy {
            Some(deploy) => {
                let previous = self.cluster.current[s];
                if let Some(old) = self.cluster.rollouts[s].take() {
                    // Superseded: what it had done stays.
                    self.cluster.records[old.record].end.get_or_insert(now);
                }
                let record = self.cluster.records.len();
                self.cluster.records.push(DeployRecord {
                    deployment: d,
                    service: s as u32,
                    previous,
                    start: now,
                    end: None,
                    rollback: None,
                    by_alert: false,
                    ticking: true,
                    samples: VecDeque::new(),
                });
                let (most, fewest) = rolling_bounds(
                    p.services[s].replicas,
                    deploy.max_surge,
                    deploy.max_unavailable,
                );
                let target = d as u16 + 1;
                self.cluster.current[s] = target;
                self.cluster.rollouts[s] = Some(Rollout {
                    record,
                    target,
                    most,
                    fewest,
                });
                self.rollout_step(now, s);
                self.queue.push(
                    now.after(ROLLOUT_TICK),
                    Event::Deployment {
                        index: d,
                        check: true,
                    },
                );
            }
            None => {
                if let Some(r) = self
                    .cluster
                    .records
                    .iter()
                    .rposition(|r| r.service as usize == s && r.rollback.is_none())
                {
                    self.roll_back(now, r, false);
                }
            }
        }
    }

    /// The deployment of `record` is rolled back to the version before it.
    fn roll_back(&mut self, now: SimTime, record: usize, by_alert: bool) {
        let p = self.p;
        let r = &mut self.cluster.records[record];
        r.rollback = Some(now);
        r.by_alert = by_alert;
        r.end = None;
        let (s, previous, d) = (r.service as usize, r.previous, r.deployment);
        let deploy = p.deployments[d as usize].deploy.as_ref().expect("a deploy");
        let (most, fewest) = rolling_bounds(
            p.services[s].replicas,
            deploy.max_surge,
            deploy.max_unavailable,
        );
        self.cluster.current[s] = previous;
        self.cluster.rollouts[s] = Some(Rollout {
            record,
            target: previous,
            most,
            fewest,
        });
        self.rollout_step(now, s);
        let r = &mut self.cluster.records[record];
        if !r.ticking && now < p.end() {
            r.ticking = true;
            self.queue.push(
                now.after(ROLLOUT_TICK),
                Event::Deployment {
                    index: d,
                    check: true,
                },
            );
        }
    }

    /// A tick of deployment `d`: its rollout acts, and its alert is evaluated.
    fn deployment_tick(&mut self, now: SimTime, d: u32) {
        let p = self.p;
        let Some(record) = self.cluster.records.iter().position(|r| r.deployment == d) else {
            return;
        };
        let s = self.cluster.records[record].service as usize;
        let mine = self.cluster.rollouts[s].is_some_and(|r| r.record == record);
        if mine {
            self.rollout_step(now, s);
        }
        let deploy = p.deployments[d as usize].deploy.as_ref().expect("a deploy");
        let watching = deploy.rollback_on_alert
            && self.cluster.records[record].rollback.is_none()
            && self.cluster.current[s] == d as u16 + 1;
        if watching && self.alert_fires(now, s, record) {
            self.roll_back(now, record, true);
        }
        let still = self.cluster.rollouts[s].is_some_and(|r| r.record == record)
            || (watching && self.cluster.records[record].rollback.is_none());
        self.cluster.records[record].ticking = still && now < p.end();
        if still && now < p.end() {
            self.queue.push(
                now.after(ROLLOUT_TICK),
                Event::Deployment {
                    index: d,
                    check: true,
                },
            );
        }
    }

    /// The page-fast burn-rate alert of `health::alerts` (the SRE workbook's 14.4x over
    /// 1 h and 5 min, at least 10 bad events), evaluated online every tick over what the
    /// service answered since the deployment (the windows hold what there is so far).
    fn alert_fires(&mut self, now: SimTime, s: usize, record: usize) -> bool {
        let p = self.p;
        let rules = crate::health::alerts::rules(ROLLOUT_TICK.as_secs_f64());
        let Some(rule) = rules.first() else {
            return false;
        };
        let budget = 1.0 - p.services[s].slo.availability / 100.0;
        let counts = self.rec.slo_counts(s);
        let samples = &mut self.cluster.records[record].samples;
        samples.push_back(counts);
        while samples.len() > rule.long_windows + 1 {
            samples.pop_front();
        }
        // A window reaching back before the warmup's end holds everything measured so far
        // (the counts start there at 0), as the offline evaluation does; one that starts
        // after it but before the deployment starts at the deployment's first tick.
        let ticks_measured = (now.since(p.warmup).0 / ROLLOUT_TICK.0) as usize;
        let window = |k: usize| {
            let (b0, v0) = if k >= ticks_measured {
                (0, 0)
            } else {
                samples[samples.len().saturating_sub(k + 1)]
            };
            ((counts.0 - b0) as f64, (counts.1 - v0) as f64)
        };
        samples.len() > 1
            && crate::health::alerts::fires(
                rule,
                window(rule.long_windows),
                window(rule.short_windows),
                budget,
            )
    }

    /// The Deployment controller's step: new pods up to the surge bound, old ones down
    /// as far as the availability bound allows (not-ready ones first); done when all
    /// `replicas` pods are the target version and ready.
    fn rollout_step(&mut self, now: SimTime, s: usize) {
        let Some(ro) = self.cluster.rollouts[s] else {
            return;
        };
        let replicas = self.p.services[s].replicas;
        let live = |pod: Pod| {
            matches!(
                pod,
                Pod::Pending | Pod::Starting | Pod::Ready | Pod::Waiting | Pod::Lost
            )
        };
        let (mut new, mut old, mut new_ready, mut available) = (0u32, 0u32, 0u32, 0u32);
        for r in &self.services[s].replicas {
            if !live(r.pod) {
                continue;
            }
            if r.version == ro.target {
                new += 1;
                new_ready += (r.pod == Pod::Ready) as u32;
            } else {
                old += 1;
            }
            available += (r.pod == Pod::Ready && r.listed) as u32;
        }
        while new < replicas && new + old < ro.most {
            if !self.create_pod(now, s) {
                break;
            }
            new += 1;
        }
        // Old pods that are not available go first: they cost no availability.
        for slot in (0..self.services[s].replicas.len()).rev() {
            let r = &self.services[s].replicas[slot];
            if r.version != ro.target && live(r.pod) && r.pod != Pod::Ready && new + old > replicas
            {
                self.delete_pod(now, s, slot);
                old -= 1;
            }
        }
        // Then available ones, as long as enough stay available.
        for slot in (0..self.services[s].replicas.len()).rev() {
            let r = &self.services[s].replicas[slot];
            if r.version != ro.target && r.pod == Pod::Ready && available > ro.fewest {
                let listed = r.listed;
                self.delete_pod(now, s, slot);
                old -= 1;
                available -= listed as u32;
            }
        }
        if old == 0 && new_ready >= replicas {
            let r = &mut self.cluster.records[ro.record];
            r.end = Some(now);
            self.cluster.rollouts[s] = None;
        }
    }

    /// `DeletePods`: the first `n` ready pods are deleted; the ReplicaSet replaces them
    /// (a StatefulSet once each is gone, under its name).
    pub(super) fn delete_pods(&mut self, now: SimTime, s: usize, n: u32) {
        let victims: Vec<usize> = (0..self.services[s].replicas.len())
            .filter(|&i| self.services[s].replicas[i].pod == Pod::Ready)
            .take(n as usize)
            .collect();
        let stateful = self.cluster.stateful_pod(s, 0).is_some();
        for slot in victims {
            self.delete_pod(now, s, slot);
            if !stateful {
                self.create_pod(now, s);
            }
        }
        self.stateful_sync(now, s);
    }

    /// `NodeKill` starts: every pod on the node dies at once.
    pub(super) fn node_down(&mut self, now: SimTime, node: u32) {
        let Some(nodes) = self.p.nodes else { return };
        if let Some(up) = self.cluster.up.get_mut(node as usize) {
            *up = false;
        }
        for s in 0..self.services.len() {
            if self.p.services[s].kube.is_none() {
                continue;
            }
            for slot in 0..self.services[s].replicas.len() {
                let r = &self.services[s].replicas[slot];
                if r.node != node || r.pod == Pod::Absent {
                    continue;
                }
                let was = r.pod;
                self.cluster.stats[s].lost += 1;
                let local = self.p.services[s]
                    .kube
                    .as_ref()
                    .and_then(|k| k.stateful)
                    .is_some_and(|set| set.local_volume);
                if local {
                    self.volume_lost(now, s, slot);
                }
                let deleted = matches!(was, Pod::Stopping | Pod::Terminating);
                // Its state first, so that nothing its victims' ends trigger comes to it.
                self.services[s].replicas[slot].pod =
                    if deleted { Pod::Terminating } else { Pod::Lost };
                self.kill_held(now, s, slot);
                match was {
                    Pod::Stopping | Pod::Terminating => {
                        // Being deleted anyway: no replacement.
                        self.pod_settled(s, slot as u32);
                    }
                    _ => {
                        let not_ready = now.after(nodes.not_ready_after);
                        self.pod_timer(not_ready, s, slot, PodStep::Unlist);
                        let evict = not_ready.after(nodes.evict_after);
                        self.pod_timer(evict, s, slot, PodStep::Evict);
                    }
                }
            }
            self.refresh_availability(now, s);
        }
    }

    /// `NodeKill` ends: the node takes pods again, first those no node could take.
    pub(super) fn node_back(&mut self, now: SimTime, node: u32) {
        if let Some(up) = self.cluster.up.get_mut(node as usize) {
            *up = true;
        }
        for s in 0..self.services.len() {
            for slot in 0..self.services[s].replicas.len() {
                let r = &self.services[s].replicas[slot];
                if r.pod == Pod::Pending && r.node == NONE {
                    let node = self.cluster.place(s);
                    self.services[s].replicas[slot].node = node;
                    self.schedule_pod(now, s, slot);
                }
            }
        }
    }

    /// A terminating pod that holds nothing more and is out of the endpoints is gone.
    #[inline]
    pub(super) fn pod_settled(&mut self, s: usize, replica: u32) {
        let r = &self.services[s].replicas[replica as usize];
        if r.pod == Pod::Terminating && r.held == 0 && !r.listed {
            self.vacate(s, replica as usize);
            if self.cluster.stateful_pod(s, 0).is_some() {
                self.stateful_sync(self.queue.now(), s);
            }
        }
    }
}

/// How often a rollout's controller acts, and its alert is evaluated.
const ROLLOUT_TICK: SimTime = SimTime::from_secs(1);

/// The service-time distribution of `replica`'s pod: its version's.
#[inline]
pub(super) fn service_time<'p>(
    p: &'p crate::model::Platform,
    s: usize,
    st: &ServiceState,
    replica: u32,
) -> &'p crate::model::Dist {
    let v = st.replicas[replica as usize].version;
    match v {
        0 => &p.services[s].service_time,
        _ => p.deployments[v as usize - 1]
            .deploy
            .as_ref()
            .map_or(&p.services[s].service_time, |d| &d.service_time),
    }
}

/// The error rate of `replica`'s pod: its version's.
#[inline]
pub(super) fn error_rate(
    p: &crate::model::Platform,
    base: f64,
    st: &ServiceState,
    replica: u32,
) -> f64 {
    let v = st.replicas[replica as usize].version;
    if v == 0 {
        base
    } else {
        p.deployments[v as usize - 1]
            .deploy
            .as_ref()
            .map_or(0.0, |d| d.error_rate)
    }
}
