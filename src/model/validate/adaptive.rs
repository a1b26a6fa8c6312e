//! Checks of a call's adaptive timeout (issue #24).

use super::Check;
use crate::mech::adaptive::AdaptiveConfig;
use crate::scenario::AdaptiveTimeoutSpec;

/// Most samples a call's adaptive timeout keeps: two rings of this many are allocated per
/// call edge, and each attempt selects in one.
pub const MAX_ADAPTIVE_WINDOW: u32 = 10_000;

impl Check {
    /// Checks `adaptive_timeout` of the call at path `p`.
    pub(super) fn adaptive_timeout(
        &mut self,
        p: &str,
        a: &AdaptiveTimeoutSpec,
    ) -> Option<AdaptiveConfig> {
        let p = format!("{p}.adaptive_timeout");
        let mut ok = true;
        if !(a.percentile > 0.0 && a.percentile <= 100.0) {
            self.fail(
                format!("{p}.percentile"),
                format!(
                    "{} is not a percentile (above 0, at most 100)",
                    a.percentile
                ),
            );
            ok = false;
        }
        if !(a.multiplier.is_finite() && a.multiplier > 0.0) {
            self.fail(
                format!("{p}.multiplier"),
                format!(
                    "{} must be above 0 (2.0 waits twice the percentile)",
                    a.multiplier
                ),
            );
            ok = false;
        }
        if !(a.smoothing > 0.0 && a.smoothing <= 1.0) {
            self.fail(
                format!("{p}.smoothing"),
                format!(
                    "{} must be above 0 and at most 1 (1.0 jumps to each new target)",
                    a.smoothing
                ),
            );
            ok = false;
        }
        if a.window == 0 || a.window > MAX_ADAPTIVE_WINDOW {
            self.fail(
                format!("{p}.window"),
                format!("{} samples: must be 1 to {MAX_ADAPTIVE_WINDOW}", a.window),
            );
            ok = false;
        }
        let floor = self.positive_duration(&format!("{p}.floor"), &a.floor);
        let ceiling = self.positive_duration(&format!("{p}.ceiling"), &a.ceiling);
        let (floor, ceiling) = (floor?, ceiling?);
        if ceiling < floor {
            self.fail(
                format!("{p}.ceiling"),
                format!("{ceiling} is below the floor ({floor}): raise it or lower the floor"),
            );
            return None;
        }
        ok.then_some(AdaptiveConfig {
            percentile: a.percentile,
            multiplier: a.multiplier,
            floor,
            ceiling,
            window: a.window,
            smoothing: a.smoothing,
        })
    }
}
