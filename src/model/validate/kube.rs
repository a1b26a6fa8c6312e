//! Validation of the Kubernetes shapes: a service's `kubernetes` block, the scenario's
//! `nodes`, and the `DeletePods` / `NodeKill` faults.

use super::Check;
use crate::engine::SimTime;
use crate::mech::probe::ProbeConfig;
use crate::mech::rollout::IntOrPercent;
use crate::model::{
    Deploy, Deployment, Dist, Fault, FaultKind, Kube, Nodes, ServiceId, StatefulSet, Termination,
};
use crate::scenario::{
    DeploymentSpec, FaultSpec, KubeSpec, NodesSpec, PodManagementSpec, ProbeSpec, ServiceSpec,
    Spec, TerminationSpec, VolumeSpec,
};
use std::collections::BTreeMap;

/// Most nodes a scenario may have.
pub const MAX_NODES: u32 = 10_000;

impl FaultSpec {
    pub(super) fn is_kube(&self) -> bool {
        matches!(
            self,
            FaultSpec::DeletePods { .. }
                | FaultSpec::NodeKill { .. }
                | FaultSpec::Leak { .. }
                | FaultSpec::Hang { .. }
        )
    }
}

impl Check {
    /// A service's pod lifecycle; `None` inside when its replicas are not pods.
    /// `pods`: the scenario has nodes, so every service's replicas are pods.
    pub(super) fn kube(&mut self, i: usize, s: &ServiceSpec, pods: bool) -> Option<Option<Kube>> {
        let p = format!("services[{i}].kubernetes");
        let default = KubeSpec {
            scheduling: "0s".into(),
            pod_startup: None,
            termination: TerminationSpec::default(),
            endpoint_delay: "1s".into(),
            cpu_limit: None,
            cpu_request: None,
            memory_limit: None,
            memory: 0.0,
            liveness: None,
            readiness: None,
            startup: None,
            stateful: None,
        };
        let k = match &s.kubernetes {
            Some(k) => k,
            None if pods || s.autoscale.is_some() => &default,
            None => return Some(None),
        };
        let scheduling = self.duration(&format!("{p}.scheduling"), &k.scheduling);
        let endpoint_delay = self.duration(&format!("{p}.endpoint_delay"), &k.endpoint_delay);
        let startup = match (
            &k.pod_startup,
            s.autoscale.as_ref().and_then(|a| a.pod_startup.as_ref()),
        ) {
            (Some(_), Some(_)) => {
                self.fail(
                    format!("{p}.pod_startup"),
                    format!("set once: here or in services[{i}].autoscale.pod_startup"),
                );
                None
            }
            (Some(d), None) => self.dist(&format!("{p}.pod_startup"), d),
            (None, Some(d)) => self.dist(&format!("services[{i}].autoscale.pod_startup"), d),
            (None, None) => Some(Dist::Constant(SimTime::ZERO)),
        };
        let termination = match &k.termination {
            TerminationSpec::Abrupt => Some(Termination::Abrupt),
            TerminationSpec::Graceful {
                grace_period,
                pre_stop,
            } => {
                let g = self.duration(&format!("{p}.termination.grace_period"), grace_period);
                let pre = self.duration(&format!("{p}.termination.pre_stop"), pre_stop);
                match (g, pre) {
                    (Some(grace_period), Some(pre_stop)) => Some(Termination::Graceful {
                        grace_period,
                        pre_stop,
                    }),
                    _ => None,
                }
            }
        };
        let mut ok = true;
        if let Some(c) = k.cpu_limit {
            if !(c > 0.0 && c.is_finite()) {
                self.fail(
                    format!("{p}.cpu_limit"),
                    format!("{c} is not a positive number of cores"),
                );
                ok = false;
            }
        }
        if let Some(c) = k.cpu_request {
            if !(c > 0.0 && c.is_finite()) || k.cpu_limit.is_some_and(|l| c > l) {
                self.fail(
                    format!("{p}.cpu_request"),
                    format!("{c} is not a positive number of cores at most the CPU limit"),
                );
                ok = false;
            }
        }
        if let Some(m) = k.memory_limit {
            if !(m > 0.0 && m.is_finite()) {
                self.fail(
                    format!("{p}.memory_limit"),
                    format!("{m} is not a positive number of MB"),
                );
                ok = false;
            }
        }
        if !(k.memory >= 0.0 && k.memory.is_finite())
            || k.memory_limit.is_some_and(|m| k.memory >= m)
        {
            self.fail(
                format!("{p}.memory"),
                format!(
                    "{} MB must be at least 0 and below the memory limit",
                    k.memory
                ),
            );
            ok = false;
        }
        let liveness = k
            .liveness
            .as_ref()
            .map(|x| self.probe(&format!("{p}.liveness"), x, true));
        let readiness = k
            .readiness
            .as_ref()
            .map(|x| self.probe(&format!("{p}.readiness"), x, false));
        let startup_probe = k
            .startup
            .as_ref()
            .map(|x| self.probe(&format!("{p}.startup"), x, true));
        let startup_probe = match startup_probe {
            Some(s) => Some(s?),
            None => None,
        };
        let liveness = match liveness {
            Some(l) => Some(l?),
            None => None,
        };
        let readiness = match readiness {
            Some(r) => Some(r?),
            None => None,
        };
        if !ok {
            return None;
        }
        Some(Some(Kube {
            cpu_limit: k.cpu_limit,
            cpu_request: k
                .cpu_request
                .or(k.cpu_limit)
                .unwrap_or(s.concurrency as f64),
            memory_limit: k.memory_limit,
            memory: k.memory,
            liveness,
            readiness,
            startup: startup_probe,
            scheduling: scheduling?,
            pod_startup: startup?,
            termination: termination?,
            endpoint_delay: endpoint_delay?,
            stateful: k.stateful.map(|st| StatefulSet {
                ordered: st.pod_management == PodManagementSpec::OrderedReady,
                local_volume: st.volume == VolumeSpec::Local,
            }),
        }))
    }

    /// `n` of `target`'s pods for a fault at `p`: the target must run as pods, and `n`
    /// be within 1..=`most`.
    fn pods_of(
        &mut self,
        p: &str,
        target: &str,
        runs_as_pods: bool,
        n: u32,
        most: u32,
    ) -> Option<u32> {
        if !runs_as_pods {
            self.fail(
                format!("{p}.target"),
                format!(
                    "\"{target}\" does not run as pods: give it `kubernetes: Some(Kube())` or an autoscaler"
                ),
            );
            return None;
        }
        if n == 0 || n > most {
            self.fail(
                format!("{p}.pods"),
                format!("must be within 1..={most} (the pods \"{target}\" can have)"),
            );
            return None;
        }
        Some(n)
    }

    /// A probe; liveness and startup probes need a success threshold of 1.
    fn probe(&mut self, p: &str, x: &ProbeSpec, liveness: bool) -> Option<ProbeConfig> {
        let initial_delay = self.duration(&format!("{p}.initial_delay"), &x.initial_delay);
        let period = self.positive_duration(&format!("{p}.period"), &x.period);
        let timeout = self.positive_duration(&format!("{p}.timeout"), &x.timeout);
        let mut ok = true;
        if x.failure_threshold == 0 {
            self.fail(format!("{p}.failure_threshold"), "must be at least 1");
            ok = false;
        }
        if x.success_threshold == 0 || (liveness && x.success_threshold != 1) {
            self.fail(
                format!("{p}.success_threshold"),
                if liveness {
                    "must be 1 for a liveness or startup probe"
                } else {
                    "must be at least 1"
                },
            );
            ok = false;
        }
        let cfg = ProbeConfig {
            initial_delay: initial_delay?,
            period: period?,
            timeout: timeout?,
            success_threshold: x.success_threshold,
            failure_threshold: x.failure_threshold,
        };
        ok.then_some(cfg)
    }

    pub(super) fn nodes(&mut self, n: Option<&NodesSpec>) -> Option<Option<Nodes>> {
        let Some(n) = n else { return Some(None) };
        if n.count == 0 || n.count > MAX_NODES {
            self.fail("nodes.count", format!("must be within 1..={MAX_NODES}"));
        }
        let not_ready = self.duration("nodes.not_ready_after", &n.not_ready_after);
        let evict = self.duration("nodes.evict_after", &n.evict_after);
        let (not_ready_after, evict_after) = (not_ready?, evict?);
        (n.count >= 1 && n.count <= MAX_NODES).then_some(Some(Nodes {
            count: n.count,
            not_ready_after,
            evict_after,
        }))
    }

    /// `DeletePods` and `NodeKill`; `pods[i]`: whether service i's replicas are pods.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn kube_fault(
        &mut self,
        i: usize,
        f: &FaultSpec,
        names: &BTreeMap<String, usize>,
        services: &[ServiceSpec],
        pods: &[bool],
        nodes: Option<&NodesSpec>,
        run: Option<SimTime>,
    ) -> Option<Fault> {
        let p = format!("faults[{i}]");
        let at = match f {
            FaultSpec::DeletePods { at, .. }
            | FaultSpec::NodeKill { at, .. }
            | FaultSpec::Leak { at, .. }
            | FaultSpec::Hang { at, .. } => at,
            _ => unreachable!("only Kubernetes faults come here"),
        };
        let start = self.duration(&format!("{p}.at"), at);
        self.starts_before_end(&p, start, run)?;
        let (kind, length) = match f {
            FaultSpec::DeletePods {
                target, pods: n, ..
            } => {
                let t = self.lookup(&format!("{p}.target"), target, names)?;
                let most = services[t]
                    .autoscale
                    .as_ref()
                    .map_or(services[t].replicas, |a| a.max);
                let n = self.pods_of(&p, target, pods[t], n.unwrap_or(most), most)?;
                (
                    FaultKind::DeletePods {
                        target: ServiceId(t as u32),
                        pods: n,
                    },
                    Some(SimTime(1)),
                )
            }
            FaultSpec::Leak {
                target,
                rate,
                duration,
                ..
            } => {
                let length = self.positive_duration(&format!("{p}.duration"), duration);
                let t = self.lookup(&format!("{p}.target"), target, names)?;
                let limited = services[t]
                    .kubernetes
                    .as_ref()
                    .is_some_and(|k| k.memory_limit.is_some());
                if !limited {
                    self.fail(
                        format!("{p}.target"),
                        format!("\"{target}\" has no `kubernetes.memory_limit` to leak into"),
                    );
                    return None;
                }
                if !(*rate > 0.0 && rate.is_finite()) {
                    self.fail(
                        format!("{p}.rate"),
                        format!("{rate} is not a positive MB per second"),
                    );
                    return None;
                }
                (
                    FaultKind::Leak {
                        target: ServiceId(t as u32),
                        rate: *rate,
                    },
                    length,
                )
            }
            FaultSpec::Hang {
                target,
                duration,
                pods: n,
                ..
            } => {
                let length = self.positive_duration(&format!("{p}.duration"), duration);
                let t = self.lookup(&format!("{p}.target"), target, names)?;
                let n = self.pods_of(&p, target, pods[t], n.unwrap_or(1), services[t].replicas)?;
                (
                    FaultKind::Hang {
                        target: ServiceId(t as u32),
                        pods: n,
                    },
                    length,
                )
            }
            FaultSpec::NodeKill { node, duration, .. } => {
                let Some(nodes) = nodes else {
                    self.fail(
                        format!("{p}.node"),
                        "the scenario has no nodes: add `nodes: Some(Nodes(count: 3))`",
                    );
                    return None;
                };
                if *node >= nodes.count {
                    self.fail(
                        format!("{p}.node"),
                        format!("node {node} does not exist (nodes 0..{})", nodes.count),
                    );
                    return None;
                }
                let length = match duration {
                    Some(d) => self.positive_duration(&format!("{p}.duration"), d),
                    // The rest of the run's arrivals.
                    None => Some(run.map_or(SimTime::MAX, |end| end.since(start.unwrap_or(end)))),
                };
                (FaultKind::NodeKill { node: *node }, length)
            }
            _ => unreachable!("only Kubernetes faults come here"),
        };
        let (start, length) = (start?, length?);
        Some(Fault {
            kind,
            start,
            end: start.after(length),
        })
    }

    /// `"25%"` or `"2"`.
    fn int_or_percent(&mut self, path: &str, text: &str) -> Option<IntOrPercent> {
        let t = text.trim();
        let parsed = match t.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .map(IntOrPercent::Percent),
            None => t.parse::<u32>().ok().map(IntOrPercent::Count),
        };
        if parsed.is_none() {
            self.fail(
                path,
                format!("\"{text}\" is neither a count nor a percentage from 0% to 100%"),
            );
        }
        parsed
    }

    /// Rolling updates and rollbacks; `None` if any is wrong.
    pub(super) fn deployments(
        &mut self,
        spec: &Spec,
        names: &BTreeMap<String, usize>,
        pods: &[bool],
        run: Option<SimTime>,
    ) -> Option<Vec<Deployment>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, d) in spec.deployments.iter().enumerate() {
            let p = format!("deployments[{i}]");
            let (service, at) = match d {
                DeploymentSpec::Deploy { service, at, .. }
                | DeploymentSpec::Rollback { service, at } => (service, at),
            };
            let t = self.lookup(&format!("{p}.service"), service, names);
            let start = self.duration(&format!("{p}.at"), at);
            if let (Some(s), Some(end)) = (start, run) {
                if s >= end {
                    self.fail(
                        format!("{p}.at"),
                        format!("{s} is not before the end of the run ({end})"),
                    );
                    ok = false;
                }
            }
            if let Some(t) = t {
                let stateful = spec.services[t]
                    .kubernetes
                    .as_ref()
                    .is_some_and(|k| k.stateful.is_some());
                if stateful {
                    self.fail(
                        format!("{p}.service"),
                        format!("\"{service}\" is a StatefulSet: its rolling updates are not modelled; deploy a Deployment's service"),
                    );
                    ok = false;
                } else if !pods[t] || spec.services[t].autoscale.is_some() {
                    self.fail(
                        format!("{p}.service"),
                        format!("\"{service}\" must run as pods without an autoscaler (`kubernetes: Some(Kube())`)"),
                    );
                    ok = false;
                }
            }
            let deploy = match d {
                DeploymentSpec::Rollback { .. } => Some(None),
                DeploymentSpec::Deploy {
                    version,
                    max_surge,
                    max_unavailable,
                    rollback_on_alert,
                    ..
                } => {
                    let surge = self.int_or_percent(&format!("{p}.max_surge"), max_surge);
                    let unavailable =
                        self.int_or_percent(&format!("{p}.max_unavailable"), max_unavailable);
                    if let (Some(a), Some(b)) = (surge, unavailable) {
                        let zero = |x: IntOrPercent| {
                            matches!(x, IntOrPercent::Count(0))
                                || matches!(x, IntOrPercent::Percent(p) if p == 0.0)
                        };
                        if zero(a) && zero(b) {
                            self.fail(
                                format!("{p}.max_unavailable"),
                                "max_surge and max_unavailable cannot both be 0",
                            );
                            ok = false;
                        }
                    }
                    let error_rate = match (version.error_rate, t) {
                        (Some(e), _) => {
                            self.probability(&format!("{p}.version.error_rate"), e);
                            (0.0..=1.0).contains(&e).then_some(e)
                        }
                        (None, Some(t)) => Some(spec.services[t].error_rate),
                        (None, None) => None,
                    };
                    let service_time = match (&version.service_time, t) {
                        (Some(d), _) => self.dist(&format!("{p}.version.service_time"), d),
                        (None, Some(t)) => self.dist(
                            &format!("services[{t}].service_time"),
                            &spec.services[t].service_time,
                        ),
                        (None, None) => None,
                    };
                    match (surge, unavailable, error_rate, service_time) {
                        (
                            Some(max_surge),
                            Some(max_unavailable),
                            Some(error_rate),
                            Some(service_time),
                        ) => Some(Some(Deploy {
                            name: version
                                .name
                                .clone()
                                .unwrap_or_else(|| format!("v{}", i + 2)),
                            error_rate,
                            service_time,
                            max_surge,
                            max_unavailable,
                            rollback_on_alert: *rollback_on_alert,
                        })),
                        _ => None,
                    }
                }
            };
            match (t, start, deploy) {
                (Some(t), Some(at), Some(deploy)) => out.push(Deployment {
                    service: ServiceId(t as u32),
                    at,
                    deploy,
                }),
                _ => ok = false,
            }
        }
        out.sort_by_key(|d| d.at);
        ok.then_some(out)
    }
}
