//! Kubernetes pods and the Horizontal Pod Autoscaler.
//!
//! A service with `autoscale` has a replica slot per pod it may ever have (`max`), so
//! the run loop never allocates for a pod. A slot's pod is `Absent`, `Starting` (created,
//! ready after `pod_startup`), `Ready` (takes traffic) or `Terminating` (takes no new
//! requests, serves what it holds, waiting ones included, then is gone: graceful, no
//! request lost). Every sync period the autoscaler ([`Hpa`]) reads the mean metric per
//! ready pod over the period (utilisation: busy servers / servers, from the recorder's
//! busy-server and ready-pod integrals; or requests per second per ready pod) and gives
//! the desired pod count. Scaling up creates pods in the lowest absent slots; scaling down
//! removes starting pods first, then terminates the highest ready ones. The recorder's
//! replicas-up level counts ready pods, so replica-hours (and cost) are pod-hours.

use super::{Event, Observer, ServiceState, Sim};
use crate::engine::SimTime;
use crate::mech::hpa::{Hpa, HpaConfig};
use crate::metrics::{AutoscaleSummary, ScaleEvent};
use crate::model::{AutoscaleMetric, Service};

/// Most scaling events kept for the summary.
const MAX_EVENTS: usize = 1000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pod {
    Absent,
    Starting,
    #[default]
    Ready,
    Terminating,
}

pub(super) struct AutoState {
    hpa: Hpa,
    min: u32,
    max: u32,
    metric: AutoscaleMetric,
    /// The desired pod count: starting and ready pods.
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

fn ready_pods(st: &ServiceState) -> u32 {
    st.replicas.iter().filter(|r| r.pod == Pod::Ready).count() as u32
}

impl<O: Observer> Sim<'_, O> {
    /// Schedules every autoscaler's first sync.
    pub(super) fn pods_start(&mut self) {
        for (i, s) in self.p.services.iter().enumerate() {
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
        let ready = ready_pods(st);
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
        let desired = auto.hpa.sync(now, current, ready, metric);
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
            self.scale_up(now, si, desired - current);
        } else {
            auto.scale_downs += 1;
            self.scale_down(now, si, current - desired);
        }
    }

    /// Creates `n` pods in the lowest absent slots.
    fn scale_up(&mut self, now: SimTime, s: usize, n: u32) {
        let startup = &self.p.services[s]
            .autoscale
            .as_ref()
            .expect("autoscaled")
            .pod_startup;
        let st = &mut self.services[s];
        let mut created = 0;
        for i in 0..st.replicas.len() {
            if created == n {
                break;
            }
            if st.replicas[i].pod != Pod::Absent {
                continue;
            }
            let t = startup.sample(&mut st.rng_startup);
            let r = &mut st.replicas[i];
            r.pod = Pod::Starting;
            r.pod_token = r.pod_token.wrapping_add(1);
            created += 1;
            self.queue.push(
                now.after(t),
                Event::PodReady {
                    service: s as u32,
                    replica: i as u32,
                    token: r.pod_token,
                },
            );
        }
        if let Some(a) = st.auto.as_mut() {
            a.current += created;
        }
    }

    /// Removes `n` pods: starting ones first, then the highest ready ones terminate.
    fn scale_down(&mut self, now: SimTime, s: usize, n: u32) {
        let st = &mut self.services[s];
        let mut removed = 0;
        for r in st.replicas.iter_mut().rev() {
            if removed == n {
                break;
            }
            if r.pod == Pod::Starting {
                r.pod = Pod::Absent;
                r.pod_token = r.pod_token.wrapping_add(1);
                removed += 1;
            }
        }
        for r in st.replicas.iter_mut().rev() {
            if removed == n {
                break;
            }
            if r.pod == Pod::Ready {
                r.pod = if r.held == 0 {
                    Pod::Absent
                } else {
                    Pod::Terminating
                };
                if r.down == 0 {
                    st.up -= 1;
                }
                removed += 1;
            }
        }
        if let Some(a) = st.auto.as_mut() {
            a.current -= removed;
        }
        self.refresh_availability(now, s);
    }

    pub(super) fn pod_ready(&mut self, now: SimTime, s: u32, replica: u32) {
        let st = &mut self.services[s as usize];
        let r = &mut st.replicas[replica as usize];
        if r.pod != Pod::Starting {
            return;
        }
        r.pod = Pod::Ready;
        if r.down == 0 {
            st.up += 1;
        }
        let ready = ready_pods(st);
        if let Some(a) = st.auto.as_mut() {
            a.peak = a.peak.max(ready);
        }
        self.refresh_availability(now, s as usize);
    }

    /// A terminating pod that holds nothing more is gone.
    #[inline]
    pub(super) fn pod_settled(&mut self, s: usize, replica: u32) {
        let r = &mut self.services[s].replicas[replica as usize];
        if r.pod == Pod::Terminating && r.held == 0 {
            r.pod = Pod::Absent;
        }
    }
}
