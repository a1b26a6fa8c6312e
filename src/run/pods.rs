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
//! the period (utilisation: busy servers / servers, from the recorder's busy-server and
//! listed-pod integrals; or requests per second per ready pod) and gives the desired pod
//! count; pods not ready yet are passed on as such (see `mech::hpa`). Scaling up creates
//! pods; scaling down deletes pending pods first, then starting ones, then the highest
//! ready ones (the ReplicaSet's order). The recorder's replicas-up level counts the pods
//! in the endpoints, so replica-hours (and cost) are the pod-hours of serving pods:
//! pending and starting pods, and terminating ones once out of the endpoints, cost
//! nothing (a simplification: a scheduled pod reserves its node's resources).

use super::{Event, Observer, ServiceState, Sim, NONE};
use crate::engine::SimTime;
use crate::mech::hpa::{Hpa, HpaConfig};
use crate::metrics::{AutoscaleSummary, ScaleEvent};
use crate::model::{AutoscaleMetric, Service, Termination};

/// Most scaling events kept for the summary.
const MAX_EVENTS: usize = 1000;
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
}

impl Cluster {
    pub fn new(p: &crate::model::Platform) -> Self {
        let n = p.nodes.map_or(0, |n| n.count as usize);
        Cluster {
            up: vec![true; n],
            pods: vec![0; n * p.services.len()],
            total: vec![0; n],
            services: p.services.len(),
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
            Pod::Pending | Pod::Starting | Pod::Lost => unready += 1,
            _ => {}
        }
    }
    (ready, unready)
}

impl<O: Observer> Sim<'_, O> {
    /// Places the initial pods on the nodes and schedules every autoscaler's first sync.
    pub(super) fn pods_start(&mut self) {
        for (i, s) in self.p.services.iter().enumerate() {
            if s.kube.is_some() {
                for slot in 0..s.replicas as usize {
                    let node = self.cluster.place(i);
                    self.services[i].replicas[slot].node = node;
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
        let (busy, ready_area) = self.rec.busy_and_ready_area(si, now);
        let st = &mut self.services[si];
        let (ready, unready) = pod_counts(st);
        let arrivals = st.arrivals;
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
                AutoscaleMetric::Cpu { .. } => {
                    d_busy as f64 / (d_ready as f64 * spec.concurrency as f64)
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

    /// A new pod in the lowest absent slot (false if none is left): pending until it is
    /// scheduled.
    fn create_pod(&mut self, now: SimTime, s: usize) -> bool {
        let Some(slot) = self.services[s]
            .replicas
            .iter()
            .position(|r| r.pod == Pod::Absent)
        else {
            return false;
        };
        let node = self.cluster.place(s);
        let r = &mut self.services[s].replicas[slot];
        r.pod = Pod::Pending;
        r.pod_token = r.pod_token.wrapping_add(1);
        r.node = node;
        if node != NONE {
            self.schedule_pod(now, s, slot);
        }
        true
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
        for state in [Pod::Pending, Pod::Starting, Pod::Lost, Pod::Ready] {
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
        let kube = self.p.services[s]
            .kube
            .as_ref()
            .expect("pods have a lifecycle");
        let (termination, endpoint_delay) = (kube.termination, kube.endpoint_delay);
        match self.services[s].replicas[slot].pod {
            Pod::Pending | Pod::Starting | Pod::Lost => {
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
            st.up -= 1;
        }
        self.refresh_availability(now, s);
    }

    pub(super) fn pod_event(&mut self, now: SimTime, s: u32, slot: u32, step: PodStep) {
        let (s, slot) = (s as usize, slot as usize);
        let pod = self.services[s].replicas[slot].pod;
        match step {
            PodStep::Scheduled if pod == Pod::Pending => {
                let st = &mut self.services[s];
                st.replicas[slot].pod = Pod::Starting;
                let t = self.p.services[s]
                    .kube
                    .as_ref()
                    .map_or(SimTime::ZERO, |k| k.pod_startup.sample(&mut st.rng_startup));
                self.pod_timer(now.after(t), s, slot, PodStep::Started);
            }
            PodStep::Started if pod == Pod::Starting => {
                let st = &mut self.services[s];
                let r = &mut st.replicas[slot];
                r.pod = Pod::Ready;
                r.listed = true;
                if r.down == 0 {
                    st.up += 1;
                }
                let (ready, _) = pod_counts(st);
                if let Some(a) = st.auto.as_mut() {
                    a.peak = a.peak.max(ready);
                }
                self.refresh_availability(now, s);
            }
            PodStep::Unlist => {
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
            PodStep::Evict if pod == Pod::Lost => {
                self.unlist(now, s, slot);
                self.vacate(s, slot);
                self.create_pod(now, s);
            }
            _ => {}
        }
    }

    /// `DeletePods`: the first `n` ready pods are deleted; the ReplicaSet replaces them.
    pub(super) fn delete_pods(&mut self, now: SimTime, s: usize, n: u32) {
        let victims: Vec<usize> = (0..self.services[s].replicas.len())
            .filter(|&i| self.services[s].replicas[i].pod == Pod::Ready)
            .take(n as usize)
            .collect();
        for slot in victims {
            self.delete_pod(now, s, slot);
            self.create_pod(now, s);
        }
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
        }
    }
}
