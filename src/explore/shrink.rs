//! Shrinking a failing schedule to a minimal one, as delta debugging does (Zeller and
//! Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002: `ddmin`), then
//! simplifying each fault that is left: narrow its target, lower its severity, shorten
//! it, move it later. A step is kept only when the run still fails the same check; every
//! run counts against `max_steps`, so a shrink always ends.

use super::vocab::{Fault, Target};

/// What a shrink did.
#[derive(Debug, Clone)]
pub struct Shrunk {
    pub faults: Vec<Fault>,
    /// Runs it made.
    pub steps: usize,
    /// Runs that kept the failure.
    pub kept: usize,
}

/// A bounded test: `Some(fails)`, or `None` once the step budget is spent.
struct Tester<'a> {
    test: &'a mut dyn FnMut(&[Fault]) -> bool,
    steps: usize,
    kept: usize,
    max_steps: usize,
}

impl Tester<'_> {
    fn fails(&mut self, faults: &[Fault]) -> Option<bool> {
        if self.steps >= self.max_steps {
            return None;
        }
        self.steps += 1;
        let failed = (self.test)(faults);
        self.kept += usize::from(failed);
        Some(failed)
    }
}

/// Shrinks `faults` (which fail `test`) within `max_steps` runs of `test`.
/// `until_ms` bounds how late a fault may move; `components` are what an outage may
/// narrow to.
pub fn shrink(
    faults: &[Fault],
    test: &mut dyn FnMut(&[Fault]) -> bool,
    max_steps: usize,
    until_ms: u64,
    components: &[String],
) -> Shrunk {
    let mut t = Tester {
        test,
        steps: 0,
        kept: 0,
        max_steps,
    };
    let mut current = ddmin(faults.to_vec(), &mut t);
    let mut changed = true;
    while changed && t.steps < t.max_steps {
        changed = false;
        for i in 0..current.len() {
            for candidate in simpler(&current[i], until_ms, components) {
                let mut next = current.clone();
                next[i] = candidate;
                match t.fails(&next) {
                    Some(true) => {
                        current = next;
                        changed = true;
                        break;
                    }
                    Some(false) => {}
                    None => break,
                }
            }
        }
    }
    current.sort();
    Shrunk {
        faults: current,
        steps: t.steps,
        kept: t.kept,
    }
}

/// Zeller's ddmin: split into n parts; keep a part, or a complement, that still fails;
/// else split finer, until single faults.
fn ddmin(mut faults: Vec<Fault>, t: &mut Tester) -> Vec<Fault> {
    let mut n = 2;
    while faults.len() >= 2 {
        let chunks = split(&faults, n);
        let mut reduced = false;
        for (i, chunk) in chunks.iter().enumerate() {
            if t.fails(chunk) == Some(true) {
                faults = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
            if n > 2 {
                let rest: Vec<Fault> = chunks
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                if t.fails(&rest) == Some(true) {
                    faults = rest;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if t.steps >= t.max_steps {
            break;
        }
        if !reduced {
            if n >= faults.len() {
                break;
            }
            n = (2 * n).min(faults.len());
        }
    }
    faults
}

/// `faults` cut into `n` nearly equal consecutive parts.
fn split(faults: &[Fault], n: usize) -> Vec<Vec<Fault>> {
    let n = n.min(faults.len()).max(1);
    (0..n)
        .map(|i| faults[i * faults.len() / n..(i + 1) * faults.len() / n].to_vec())
        .collect()
}

/// Simpler versions of `f`, most aggressive first: a narrower target, half the severity,
/// half the length, a later start (what happens late and short is easier to explain).
fn simpler(f: &Fault, until_ms: u64, components: &[String]) -> Vec<Fault> {
    let mut out = Vec::new();
    if f.target == Target::Platform(None) {
        for c in components {
            out.push(Fault {
                target: Target::Platform(Some(vec![c.clone()])),
                ..f.clone()
            });
        }
    }
    if f.kind.has_severity() && f.severity > 1 {
        out.push(Fault {
            severity: f.severity / 2,
            ..f.clone()
        });
    }
    if !f.kind.instant() && f.duration_ms > 1 {
        out.push(Fault {
            duration_ms: f.duration_ms / 2,
            ..f.clone()
        });
    }
    let room = until_ms.saturating_sub(f.at_ms + f.duration_ms);
    if room >= 2 {
        out.push(Fault {
            at_ms: f.at_ms + room / 2,
            ..f.clone()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::vocab::Kind;

    fn fault(at_ms: u64, name: &str) -> Fault {
        Fault {
            at_ms,
            duration_ms: 1000,
            kind: Kind::Pause,
            target: Target::Service(name.into()),
            severity: 1000,
        }
    }

    #[test]
    fn ddmin_finds_the_two_faults_that_fail_together() {
        let faults: Vec<Fault> = (0..8).map(|i| fault(i * 1000, &format!("s{i}"))).collect();
        let needs = |fs: &[Fault]| {
            let has = |n: &str| fs.iter().any(|f| f.target == Target::Service(n.into()));
            has("s2") && has("s6")
        };
        let mut test = |fs: &[Fault]| needs(fs);
        let out = shrink(&faults, &mut test, 500, 100_000, &[]);
        let names: Vec<String> = out.faults.iter().map(|f| f.target.to_string()).collect();
        assert_eq!(names, ["s2", "s6"]);
        // Then each is shortened to 1 ms and moved as late as it can go.
        assert!(out.faults.iter().all(|f| f.duration_ms == 1), "{out:?}");
        assert!(out.steps < 500);
    }

    #[test]
    fn the_step_budget_bounds_the_shrink() {
        let faults: Vec<Fault> = (0..8).map(|i| fault(i * 1000, "s")).collect();
        let mut runs = 0;
        let mut test = |_: &[Fault]| {
            runs += 1;
            true
        };
        let out = shrink(&faults, &mut test, 5, 100_000, &[]);
        assert_eq!(out.steps, 5);
        assert_eq!(runs, 5);
    }
}
