//! Faults that change a service's state at their start and end: crashes and outages.
//! (Pauses, latency, errors and capacity are read where they act, in `service.rs`;
//! spikes are arrivals, in `client.rs`.)

use super::{Observer, Sim};
use crate::engine::SimTime;
use crate::metrics::Outcome;
use crate::model::FaultKind;

impl<O: Observer> Sim<'_, O> {
    pub(super) fn fault_start(&mut self, now: SimTime, f: u32) {
        match self.p.faults[f as usize].kind {
            FaultKind::Crash { target, replicas } => self.crash(now, target.0 as usize, replicas),
            FaultKind::Outage => {
                for s in 0..self.services.len() {
                    let n = self.p.services[s].replicas;
                    self.crash(now, s, n);
                }
            }
            _ => {}
        }
    }

    pub(super) fn fault_end(&mut self, _now: SimTime, f: u32) {
        match self.p.faults[f as usize].kind {
            FaultKind::Crash { target, replicas } => self.restore(target.0 as usize, replicas),
            FaultKind::Outage => {
                for s in 0..self.services.len() {
                    let n = self.p.services[s].replicas;
                    self.restore(s, n);
                }
            }
            _ => {}
        }
    }

    /// The first `n` replicas of service `s` die: everything they hold fails, at once.
    fn crash(&mut self, now: SimTime, s: usize, n: u32) {
        let state = &mut self.services[s];
        let mut dying = vec![false; state.replicas.len()];
        for (i, r) in state.replicas.iter_mut().take(n as usize).enumerate() {
            r.down += 1;
            if r.down == 1 {
                dying[i] = true;
                state.up -= 1;
                r.waiting.clear();
            }
        }
        // Victims in slot order: deterministic, and independent of waiting-room order.
        let victims: Vec<u32> = (0..self.reqs.len() as u32)
            .filter(|&i| {
                let r = &self.reqs[i as usize];
                r.live && r.service as usize == s && dying[r.replica as usize]
            })
            .collect();
        for v in victims {
            let r = self.reqs[v as usize];
            if !r.live {
                continue;
            }
            let sojourn = now.since(r.arrived);
            if r.in_service {
                self.rec
                    .answered(s, now, Outcome::Crashed, sojourn, r.counted, r.degraded);
            } else {
                self.rec
                    .dropped_waiting(s, now, Outcome::Crashed, sojourn, r.counted);
            }
            self.end(now, v, Outcome::Crashed);
        }
        for (i, r) in self.services[s].replicas.iter_mut().enumerate() {
            if dying[i] {
                r.busy = 0;
                r.held = 0;
            }
        }
    }

    fn restore(&mut self, s: usize, n: u32) {
        let state = &mut self.services[s];
        for r in state.replicas.iter_mut().take(n as usize) {
            r.down -= 1;
            if r.down == 0 {
                state.up += 1;
            }
        }
    }
}
