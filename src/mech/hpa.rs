//! The Horizontal Pod Autoscaler's algorithm, as the Kubernetes controller runs it at each
//! sync (`pkg/controller/podautoscaler`):
//!
//! 1. ratio = mean metric per ready pod / target. Within the tolerance (10%) of 1: no
//!    change; else desired = ceil(ratio x ready pods), clamped to [min, max]. Pods not
//!    ready yet (pending, starting) have no trustworthy metric: on a scale-up they count
//!    as 0% (so pods already on their way are not asked for twice), on a scale-down they
//!    are left out, and a recomputed ratio back within the tolerance, or on the other
//!    side of 1, means no change (`replica_calculator.go`).
//! 2. Stabilization: the recommendation is kept within the lowest recommendation of the
//!    scale-up window (0 s) and the highest of the scale-down window (300 s), so a
//!    short dip in load does not remove pods.
//! 3. Policies bound the change per period: by default up to +100% or +4 pods (whichever
//!    is more) per 15 s, down to -100% per 15 s; percentages round up when growing.
//!
//! Pure state: the run loop calls [`Hpa::sync`] every sync period with what it measured.

use crate::engine::SimTime;
use std::collections::VecDeque;

/// How one policy limits change within `period`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScalingPolicy {
    Pods { value: u32, period: SimTime },
    Percent { value: f64, period: SimTime },
}

/// Which policy wins when several apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The one allowing the largest change (default).
    Max,
    /// The one allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    pub stabilization: SimTime,
    pub policies: Vec<ScalingPolicy>,
    pub select: SelectPolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HpaConfig {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Target metric per pod (utilisation as a fraction, or requests per second).
    pub target: f64,
    pub tolerance: f64,
    pub sync_period: SimTime,
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl HpaConfig {
    /// Kubernetes' defaults around the given bounds and target.
    pub fn with_defaults(min_replicas: u32, max_replicas: u32, target: f64) -> Self {
        let s15 = SimTime::from_secs(15);
        HpaConfig {
            min_replicas,
            max_replicas,
            target,
            tolerance: 0.1,
            sync_period: s15,
            scale_up: ScalingRules {
                stabilization: SimTime::ZERO,
                policies: vec![
                    ScalingPolicy::Percent {
                        value: 100.0,
                        period: s15,
                    },
                    ScalingPolicy::Pods {
                        value: 4,
                        period: s15,
                    },
                ],
                select: SelectPolicy::Max,
            },
            scale_down: ScalingRules {
                stabilization: SimTime::from_secs(300),
                policies: vec![ScalingPolicy::Percent {
                    value: 100.0,
                    period: s15,
                }],
                select: SelectPolicy::Max,
            },
        }
    }
}

/// Slack for float noise: 0.56 / 0.4 x 5 is 7.000000000000001, which must give 7 pods,
/// not 8 (the controller computes utilisation in whole percent, where it is exact).
const EPS: f64 = 1e-9;

/// `ceil(x)`, except that a value within float noise of a whole number is that number.
fn ceil_tolerant(x: f64) -> u32 {
    let r = x.round();
    let v = if (x - r).abs() <= EPS * r.abs().max(1.0) {
        r
    } else {
        x.ceil()
    };
    v.clamp(0.0, u32::MAX as f64) as u32
}

/// One autoscaler's memory: past recommendations and scaling events.
#[derive(Debug, Clone)]
pub struct Hpa {
    cfg: HpaConfig,
    recommendations: VecDeque<(SimTime, u32)>,
    /// `(time, change)`: + for pods added, - for pods removed.
    events: VecDeque<(SimTime, i64)>,
}

impl Hpa {
    pub fn new(cfg: HpaConfig) -> Self {
        Hpa {
            cfg,
            recommendations: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &HpaConfig {
        &self.cfg
    }

    /// The replica count to scale to at `now`, given the current replica count (pods
    /// wanted: pending, starting and ready), the ready and not-yet-ready ones among them,
    /// and the mean metric per ready pod. Records the change it makes.
    pub fn sync(
        &mut self,
        now: SimTime,
        current: u32,
        ready: u32,
        unready: u32,
        metric: f64,
    ) -> u32 {
        let raw = self.recommend(current, ready, unready, metric);
        let stabilized = self.stabilize(now, current, raw);
        let desired = self.limit(now, current, stabilized);
        if desired != current {
            self.events
                .push_back((now, desired as i64 - current as i64));
        }
        desired
    }

    /// Step 1: the ratio rule, with not-yet-ready pods handled as the controller does.
    fn recommend(&self, current: u32, ready: u32, unready: u32, metric: f64) -> u32 {
        let c = &self.cfg;
        if ready == 0 || c.target <= 0.0 || !metric.is_finite() {
            return current.clamp(c.min_replicas, c.max_replicas);
        }
        let ratio = metric / c.target;
        let within = |r: f64| (1.0 - r).abs() <= c.tolerance + EPS;
        let desired = if unready == 0 || ratio <= 1.0 {
            // Nothing to rebalance (a scale-down leaves unready pods out).
            if within(ratio) {
                current
            } else {
                ceil_tolerant(ratio * ready as f64)
            }
        } else {
            // Scale-up with pods on their way: they count as 0%.
            let pods = (ready + unready) as f64;
            let new_ratio = ratio * ready as f64 / pods;
            if within(new_ratio) || new_ratio < 1.0 {
                current
            } else {
                ceil_tolerant(new_ratio * pods).max(current)
            }
        };
        desired.clamp(c.min_replicas, c.max_replicas)
    }

    /// Step 2: keep within the windows' lowest up- and highest down-recommendation.
    fn stabilize(&mut self, now: SimTime, current: u32, raw: u32) -> u32 {
        let (up_w, down_w) = (
            self.cfg.scale_up.stabilization,
            self.cfg.scale_down.stabilization,
        );
        let keep = up_w.max(down_w);
        while self
            .recommendations
            .front()
            .is_some_and(|&(t, _)| now.since(t) > keep)
        {
            self.recommendations.pop_front();
        }
        let (mut up, mut down) = (raw, raw);
        for &(t, r) in &self.recommendations {
            // "After the cutoff": strictly within the window.
            if now.since(t) < up_w {
                up = up.min(r);
            }
            if now.since(t) < down_w {
                down = down.max(r);
            }
        }
        self.recommendations.push_back((now, raw));
        current.max(up).min(down)
    }

    fn changed_within(&self, now: SimTime, period: SimTime, up: bool) -> i64 {
        self.events
            .iter()
            .filter(|&&(t, c)| now.since(t) < period && (c > 0) == up)
            .map(|&(_, c)| c.abs())
            .sum()
    }

    /// Step 3: the policies' bounds on change per period.
    fn limit(&mut self, now: SimTime, current: u32, desired: u32) -> u32 {
        let c = &self.cfg;
        let longest = c
            .scale_up
            .policies
            .iter()
            .chain(&c.scale_down.policies)
            .map(|p| match p {
                ScalingPolicy::Pods { period, .. } | ScalingPolicy::Percent { period, .. } => {
                    *period
                }
            })
            .max()
            .unwrap_or(SimTime::ZERO);
        while self
            .events
            .front()
            .is_some_and(|&(t, _)| now.since(t) >= longest)
        {
            self.events.pop_front();
        }
        let cur = current as i64;
        if desired > current {
            let rules = &c.scale_up;
            let limit = match rules.select {
                SelectPolicy::Disabled => cur,
                select => {
                    let proposals = rules.policies.iter().map(|p| match *p {
                        ScalingPolicy::Pods { value, period } => {
                            cur - self.changed_within(now, period, true) + value as i64
                        }
                        ScalingPolicy::Percent { value, period } => {
                            let start = cur - self.changed_within(now, period, true);
                            // Rounded up, or a small deployment could never grow.
                            (start as f64 * (1.0 + value / 100.0)).ceil() as i64
                        }
                    });
                    match select {
                        SelectPolicy::Min => proposals.min().unwrap_or(cur),
                        _ => proposals.max().unwrap_or(cur),
                    }
                }
            };
            (desired as i64)
                .min(limit)
                .min(c.max_replicas as i64)
                .max(cur) as u32
        } else if desired < current {
            let rules = &c.scale_down;
            let limit = match rules.select {
                SelectPolicy::Disabled => cur,
                select => {
                    let proposals = rules.policies.iter().map(|p| match *p {
                        ScalingPolicy::Pods { value, period } => {
                            cur + self.changed_within(now, period, false) - value as i64
                        }
                        ScalingPolicy::Percent { value, period } => {
                            let start = cur + self.changed_within(now, period, false);
                            (start as f64 * (1.0 - value / 100.0)) as i64
                        }
                    });
                    match select {
                        // The largest change down is the lowest proposal.
                        SelectPolicy::Min => proposals.max().unwrap_or(cur),
                        _ => proposals.min().unwrap_or(cur),
                    }
                }
            };
            (desired as i64)
                .max(limit)
                .max(c.min_replicas as i64)
                .min(cur) as u32
        } else {
            desired
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(min: u32, max: u32, target: f64) -> Hpa {
        Hpa::new(HpaConfig::with_defaults(min, max, target))
    }

    #[test]
    fn the_ratio_rule_and_its_tolerance() {
        // 4 ready pods at 90% vs a 60% target: ratio 1.5 -> 6 pods.
        assert_eq!(hpa(1, 10, 0.6).sync(SimTime::ZERO, 4, 4, 0, 0.9), 6);
        // At 65%: ratio 1.083, within 10% -> stay at 4.
        assert_eq!(hpa(1, 10, 0.6).sync(SimTime::ZERO, 4, 4, 0, 0.65), 4);
        // At 66.1%: ratio 1.1017, outside -> ceil(4.4) = 5.
        assert_eq!(hpa(1, 10, 0.6).sync(SimTime::ZERO, 4, 4, 0, 0.661), 5);
    }

    #[test]
    fn bounded_by_min_and_max_replicas() {
        assert_eq!(hpa(1, 5, 0.5).sync(SimTime::ZERO, 4, 4, 0, 1.0), 5);
        // A fresh autoscaler has no history to hold it up: straight to the minimum.
        assert_eq!(hpa(3, 10, 0.5).sync(SimTime::ZERO, 4, 4, 0, 0.01), 3);
    }

    #[test]
    fn scale_up_policies_allow_the_larger_of_100_percent_and_4_pods_per_15s() {
        // From 2 pods, a huge ratio: at most max(2 + 4, 2 x 2) = 6.
        let mut h = hpa(1, 100, 0.1);
        assert_eq!(h.sync(SimTime::ZERO, 2, 2, 0, 10.0), 6);
        // 15 s later the window has passed: from 6, up to max(6 + 4, 12) = 12.
        assert_eq!(h.sync(SimTime::from_secs(15), 6, 6, 0, 10.0), 12);
        // Within the same period, no more growth beyond what the period allows.
        let mut h = hpa(1, 100, 0.1);
        assert_eq!(h.sync(SimTime::ZERO, 10, 10, 0, 10.0), 20);
        assert_eq!(h.sync(SimTime::from_secs(5), 20, 20, 0, 10.0), 20);
    }

    #[test]
    fn scale_down_waits_for_the_stabilization_window() {
        let mut h = hpa(1, 10, 0.5);
        let t = SimTime::from_secs;
        // Busy: recommends 8 at t=0 (from 4 at 100%).
        assert_eq!(h.sync(t(0), 4, 4, 0, 1.0), 8);
        // Load vanishes: the highest recommendation of the last 300 s (8) holds.
        assert_eq!(h.sync(t(15), 8, 8, 0, 0.05), 8);
        assert_eq!(h.sync(t(299), 8, 8, 0, 0.05), 8);
        // Past 300 s since the 8, the window's highest is the low one: scale down.
        assert_eq!(h.sync(t(301), 8, 8, 0, 0.05), 1);
    }

    #[test]
    fn disabled_directions_never_move() {
        let mut cfg = HpaConfig::with_defaults(1, 10, 0.5);
        cfg.scale_up.select = SelectPolicy::Disabled;
        assert_eq!(Hpa::new(cfg).sync(SimTime::ZERO, 3, 3, 0, 1.0), 3);
    }

    #[test]
    fn float_noise_does_not_add_a_pod() {
        // 0.56 / 0.4 x 5 = 7.000000000000001 in floating point: 7 pods, not 8.
        let (m, t) = (std::hint::black_box(0.56), 0.4);
        assert!(m / t * 5.0 > 7.0);
        assert_eq!(hpa(1, 20, 0.4).sync(SimTime::ZERO, 5, 5, 0, 0.56), 7);
        // Down too: 0.4 / 0.7 x 7 = 4.000000000000001 -> 4, not 5.
        let (m, t) = (std::hint::black_box(0.4), 0.7);
        assert!(m / t * 7.0 > 4.0);
        assert_eq!(hpa(1, 20, 0.7).sync(SimTime::ZERO, 7, 7, 0, 0.4), 4);
        // A ratio of exactly 1.1 is inside the 10% band.
        assert_eq!(hpa(1, 20, 0.5).sync(SimTime::ZERO, 4, 4, 0, 0.55), 4);
        assert_eq!(ceil_tolerant(3.0000000001), 3);
        assert_eq!(ceil_tolerant(3.001), 4);
    }

    #[test]
    fn pods_on_their_way_count_as_idle_on_a_scale_up() {
        // 2 ready pods at 100% vs 50%, 2 more starting (current 4): the starting ones
        // count as 0%, so the mean is 50% -> on target: stay at 4 (without the rule:
        // ceil(2 x 2) = 4 too, but at 110% it would ask for 5 on top of the 2 coming).
        assert_eq!(hpa(1, 20, 0.5).sync(SimTime::ZERO, 4, 2, 2, 1.0), 4);
        // At 150%: ratio 3 over the ready, 1.5 over all 4 -> ceil(6) = 6.
        assert_eq!(hpa(1, 20, 0.5).sync(SimTime::ZERO, 4, 2, 2, 1.5), 6);
        // At 60% (ratio 1.2 over ready, 0.6 over all): the recomputed ratio reverses
        // direction -> no change (not a scale-down of the starting pods).
        assert_eq!(hpa(1, 20, 0.5).sync(SimTime::ZERO, 4, 2, 2, 0.6), 4);
        // Scale-down with pods starting: they are left out: 2 ready at 10% vs 50% -> 1.
        assert_eq!(hpa(1, 20, 0.5).sync(SimTime::ZERO, 4, 2, 2, 0.1), 1);
    }

    #[test]
    fn a_hand_worked_day_of_syncs() {
        // min 2, max 8, CPU target 50%, defaults (15 s sync, 300 s down-window).
        let mut h = hpa(2, 8, 0.5);
        let t = SimTime::from_secs;
        // 2 pods at 52%: ratio 1.04, inside the band -> 2.
        assert_eq!(h.sync(t(15), 2, 2, 0, 0.52), 2);
        // 2 pods at 90%: ratio 1.8 -> ceil(3.6) = 4.
        assert_eq!(h.sync(t(30), 2, 2, 0, 0.9), 4);
        // 15 s later the 2 new pods are still starting; the 2 ready ones are at 95%:
        // over 4 pods 47.5% -> ratio 0.95, inside the band -> stay at 4.
        assert_eq!(h.sync(t(45), 4, 2, 2, 0.95), 4);
        // All 4 ready at 100%: ratio 2 -> 8 (max; the policy allows +4 or +100%).
        assert_eq!(h.sync(t(60), 4, 4, 0, 1.0), 8);
        // 8 pods at 200%: capped at max 8.
        assert_eq!(h.sync(t(75), 8, 8, 0, 1.0), 8);
        // Load falls to 10%: ceil(8 x 0.2) = 2, but the window holds 8 until 300 s
        // after the last 8 (at 75 s).
        assert_eq!(h.sync(t(90), 8, 8, 0, 0.1), 8);
        assert_eq!(h.sync(t(374), 8, 8, 0, 0.1), 8);
        // At 390 s the 8s of 60 s and 75 s are out of the window: the highest left is 2.
        assert_eq!(h.sync(t(390), 8, 8, 0, 0.1), 2);
    }
}
