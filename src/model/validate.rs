//! From `Spec` to `Platform`: check every field, report every problem at once, each with
//! the path of the field to fix (`services[2].calls[0].to`).

use super::schedule::RateSchedule;
use super::{graph, Call, Dist, Platform, Service, ServiceId, Workload, WorkloadKind};
use crate::engine::{parse_duration, SimTime};
use crate::scenario::error::did_you_mean;
use crate::scenario::{
    DistSpec, Problem, RateChangeSpec, ScenarioError, ServiceSpec, Spec, WorkloadSpec,
};
use std::collections::BTreeMap;

/// Most replicas one service may have: each is a real station with its own queue.
pub const MAX_REPLICAS: u32 = 100_000;

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
    for (i, _) in spec.faults.iter().enumerate() {
        c.fail(
            format!("faults[{i}]"),
            "faults are not simulated by this version of platsim yet; remove the fault",
        );
    }

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Platform {
        name: spec.name.clone(),
        seed: spec.seed,
        duration: duration.expect("checked"),
        warmup: warmup.expect("checked"),
        window: window.expect("checked"),
        services: services.into_iter().map(|s| s.expect("checked")).collect(),
        workloads: workloads.into_iter().map(|w| w.expect("checked")).collect(),
    })
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

    fn positive_duration(&mut self, path: &str, text: &str) -> Option<SimTime> {
        let t = self.duration(path, text)?;
        if t == SimTime::ZERO {
            self.fail(path, "must be longer than 0s");
            return None;
        }
        Some(t)
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
        let mut calls = Vec::with_capacity(s.calls.len());
        for (j, call) in s.calls.iter().enumerate() {
            let cp = format!("{p}.calls[{j}]");
            let to = self.lookup(&format!("{cp}.to"), &call.to, names);
            if call.to == s.name {
                self.fail(format!("{cp}.to"), format!("\"{}\" calls itself", s.name));
            }
            let timeout = call
                .timeout
                .as_ref()
                .map(|t| self.positive_duration(&format!("{cp}.timeout"), t));
            if let (Some(to), Some(timeout)) = (to, timeout.unwrap_or(Some(SimTime::ZERO))) {
                calls.push(Call {
                    to: ServiceId(to as u32),
                    dependency: call.dependency,
                    timeout: call.timeout.as_ref().map(|_| timeout),
                });
            }
        }
        let valid = s.replicas >= 1
            && s.replicas <= MAX_REPLICAS
            && s.concurrency >= 1
            && (0.0..=1.0).contains(&s.error_rate)
            && calls.len() == s.calls.len();
        Some(Service {
            name: s.name.clone(),
            replicas: s.replicas,
            concurrency: s.concurrency,
            queue_capacity: s.queue_capacity,
            service_time: service_time?,
            error_rate: s.error_rate,
            calls,
            balancer: s.balancer,
        })
        .filter(|_| valid)
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
                    "calls go round in a circle ({}): every request would call itself forever; remove one of these calls",
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
            let (target, name, timeout) = match w {
                WorkloadSpec::Open {
                    target,
                    name,
                    timeout,
                    ..
                }
                | WorkloadSpec::Closed {
                    target,
                    name,
                    timeout,
                    ..
                } => (target, name, timeout),
            };
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
            let kind = match w {
                WorkloadSpec::Open { rate, schedule, .. } => {
                    self.schedule(&p, *rate, schedule).map(WorkloadKind::Open)
                }
                WorkloadSpec::Closed {
                    users, think_time, ..
                } => {
                    self.at_least_one(&format!("{p}.users"), *users);
                    let think = self.dist(&format!("{p}.think_time"), think_time);
                    think
                        .filter(|_| *users >= 1)
                        .map(|think_time| WorkloadKind::Closed {
                            users: *users,
                            think_time,
                        })
                }
            };
            out.push(match (t, kind, timeout) {
                (Some(t), Some(kind), Some(timeout)) => Some(Workload {
                    name,
                    target: ServiceId(t as u32),
                    kind,
                    timeout,
                }),
                _ => None,
            });
        }
        out
    }

    fn rate(&mut self, path: &str, rate: f64, zero_ok: bool) -> bool {
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
        for w in want {
            assert!(
                found.iter().any(|f| f.starts_with(w)),
                "missing {w:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), want.len(), "{found:#?}");
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
