//! Checks of the faults that override a breaker's state (`ForceOpenBreaker`,
//! `DisableBreaker`): the breaker must exist, and two overrides of one breaker must not
//! overlap (the first to end would close the breaker under the other).

use super::Check;
use crate::engine::SimTime;
use crate::model::{BreakerAt, Fault, FaultKind, RetryOn, ServiceId, Workload, WorkloadId};
use crate::scenario::error::did_you_mean;
use crate::scenario::{FaultSpec, RetryOnSpec, ServiceSpec};
use std::collections::BTreeMap;

impl FaultSpec {
    pub(super) fn is_breaker_override(&self) -> bool {
        matches!(
            self,
            FaultSpec::ForceOpenBreaker { .. } | FaultSpec::DisableBreaker { .. }
        )
    }
}

impl Check {
    /// A `ForceOpenBreaker` or `DisableBreaker` fault: on a call edge (`from`, `to`) or on
    /// a workload's client (`workload`), which must have a breaker.
    pub(super) fn breaker_override(
        &mut self,
        i: usize,
        f: &FaultSpec,
        names: &BTreeMap<String, usize>,
        services: &[ServiceSpec],
        workloads: &[Option<Workload>],
        run: Option<SimTime>,
    ) -> Option<Fault> {
        let p = format!("faults[{i}]");
        let (from, to, workload, at, duration, disable) = match f {
            FaultSpec::ForceOpenBreaker {
                from,
                to,
                workload,
                at,
                duration,
            } => (from, to, workload, at, duration, false),
            FaultSpec::DisableBreaker {
                from,
                to,
                workload,
                at,
                duration,
            } => (from, to, workload, at, duration, true),
            _ => unreachable!("only breaker overrides come here"),
        };
        let start = self.duration(&format!("{p}.at"), at);
        let length = self.positive_duration(&format!("{p}.duration"), duration);
        self.starts_before_end(&p, start, run)?;
        let place = match (from, to, workload) {
            (Some(from), Some(to), None) => self.call_breaker(&p, from, to, names, services),
            (None, None, Some(w)) => self.workload_breaker(&p, w, workloads),
            _ => {
                self.fail(
                    p,
                    "names no breaker: give `from` and `to` (a call's breaker) or `workload` \
                     (a client's breaker), not both",
                );
                None
            }
        };
        Some(Fault {
            kind: FaultKind::BreakerOverride {
                at: place?,
                disable,
            },
            start: start?,
            end: start?.after(length?),
        })
    }

    fn call_breaker(
        &mut self,
        p: &str,
        from: &str,
        to: &str,
        names: &BTreeMap<String, usize>,
        services: &[ServiceSpec],
    ) -> Option<BreakerAt> {
        let a = self.lookup(&format!("{p}.from"), from, names);
        let b = self.lookup(&format!("{p}.to"), to, names);
        let (a, b) = (ServiceId(a? as u32), ServiceId(b? as u32));
        let calls = &services[a.0 as usize].calls;
        if !calls.iter().any(|c| c.to == to) {
            self.fail(
                format!("{p}.to"),
                format!(
                    "\"{from}\" does not call \"{to}\"{}",
                    did_you_mean(to, calls.iter().map(|c| c.to.as_str()))
                ),
            );
            return None;
        }
        if !calls.iter().any(|c| c.to == to && c.breaker.is_some()) {
            self.fail(
                format!("{p}.to"),
                format!("the call from \"{from}\" to \"{to}\" has no breaker to override; add `breaker: Some(Breaker())`"),
            );
            return None;
        }
        Some(BreakerAt::Call { from: a, to: b })
    }

    fn workload_breaker(
        &mut self,
        p: &str,
        name: &str,
        workloads: &[Option<Workload>],
    ) -> Option<BreakerAt> {
        let found = workloads
            .iter()
            .position(|w| w.as_ref().is_some_and(|w| w.name == name));
        let Some(i) = found else {
            // A workload that failed its own checks has no name here: say nothing more.
            if workloads.iter().all(Option::is_some) {
                self.fail(
                    format!("{p}.workload"),
                    format!(
                        "unknown workload \"{name}\"{}",
                        did_you_mean(name, workloads.iter().flatten().map(|w| w.name.as_str()))
                    ),
                );
            }
            return None;
        };
        let w = workloads[i].as_ref().expect("found");
        if w.breaker.is_none() {
            self.fail(
                format!("{p}.workload"),
                format!("workload \"{name}\" has no breaker to override; add `breaker: Some(Breaker())`"),
            );
            return None;
        }
        Some(BreakerAt::Workload {
            workload: WorkloadId(i as u32),
            target: ServiceId(w.target.0),
        })
    }

    /// Two overrides of one breaker that overlap in time: the first to end would close the
    /// breaker while the other still holds it.
    pub(super) fn breaker_overrides_apart(&mut self, faults: &[Option<Fault>]) {
        let overrides: Vec<(usize, BreakerAt, SimTime, SimTime)> = faults
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                Some(Fault {
                    kind: FaultKind::BreakerOverride { at, .. },
                    start,
                    end,
                }) => Some((i, *at, *start, *end)),
                _ => None,
            })
            .collect();
        for (k, &(i, at, start, end)) in overrides.iter().enumerate() {
            if let Some(&(j, ..)) = overrides[..k]
                .iter()
                .find(|&&(_, a, s, e)| a == at && s < end && start < e)
            {
                self.fail(
                    format!("faults[{i}].at"),
                    format!("overlaps faults[{j}], which overrides the same breaker; start it after that one ends"),
                );
            }
        }
    }
}

/// The statuses an error or a refusal may carry: HTTP's client and server errors.
const ERROR_STATUSES: std::ops::RangeInclusive<u16> = 400..=599;

impl Check {
    /// An `Errors` fault's `status`: 500 unless set, and an HTTP error status.
    pub(super) fn error_status(&mut self, path: &str, status: Option<u16>) -> Option<u16> {
        let s = status.unwrap_or(crate::mech::retry::STATUS_ERROR);
        if !ERROR_STATUSES.contains(&s) {
            self.fail(
                path,
                format!("{s} is not an HTTP error status (400 to 599; 503 for unavailable)"),
            );
            return None;
        }
        Some(s)
    }

    /// `retry_on`'s statuses, each an HTTP error status, at most [`RetryOn::MAX_STATUSES`].
    pub(super) fn retry_statuses(
        &mut self,
        p: &str,
        on: &[RetryOnSpec],
    ) -> Option<[u16; RetryOn::MAX_STATUSES]> {
        let mut statuses = [0u16; RetryOn::MAX_STATUSES];
        let mut n = 0;
        let mut ok = true;
        for (i, o) in on.iter().enumerate() {
            let RetryOnSpec::Status(s) = *o else { continue };
            if !ERROR_STATUSES.contains(&s) {
                self.fail(
                    format!("{p}.retry_on[{i}]"),
                    format!("Status({s}) is not an HTTP error status (400 to 599)"),
                );
                ok = false;
            } else if n == RetryOn::MAX_STATUSES {
                self.fail(
                    format!("{p}.retry_on[{i}]"),
                    format!("more than {} statuses", RetryOn::MAX_STATUSES),
                );
                ok = false;
            } else if !statuses[..n].contains(&s) {
                statuses[n] = s;
                n += 1;
            }
        }
        ok.then_some(statuses)
    }
}

impl Check {
    /// A breaker's `record_on` / `ignore_on` name kinds of outcome only: Resilience4j's
    /// breaker judges exceptions, and a status the breaker should count is an `Error`.
    pub(super) fn breaker_kinds_only(&mut self, p: &str, field: &str, on: &[RetryOnSpec]) -> bool {
        let mut ok = true;
        for (i, o) in on.iter().enumerate() {
            if let RetryOnSpec::Status(s) = o {
                self.fail(
                    format!("{p}.{field}[{i}]"),
                    format!("Status({s}) is for `retry_on`; a breaker counts kinds: Timeout, Error or Rejected"),
                );
                ok = false;
            }
        }
        ok
    }
}
