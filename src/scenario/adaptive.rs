//! Scenario block for an adaptive call timeout (issue #24): `adaptive_timeout` on a `Call`.
//! Kept apart from `spec.rs` so the block reads on its own.

use serde::{Deserialize, Serialize};

/// `AdaptiveTimeout(percentile: 99.0, multiplier: 2.0, floor: "10ms", ceiling: "10s",
/// window: 100, smoothing: 1.0)`: the call's timeout follows `multiplier` x the
/// `percentile` of its last `window` attempts, moved `smoothing` of the way to that
/// target after each attempt, between `floor` and `ceiling` (see `mech::adaptive`). It
/// starts at the call's `timeout` (or the ceiling without one). The defaults are
/// LogDevice's rule as the `adaptive-timeout` crate documents it: a high percentile times
/// a safety factor of 2, clamped, with no smoothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "AdaptiveTimeout", deny_unknown_fields)]
pub struct AdaptiveTimeoutSpec {
    #[serde(default = "p99")]
    pub percentile: f64,
    #[serde(default = "two")]
    pub multiplier: f64,
    #[serde(default = "ten_ms")]
    pub floor: String,
    #[serde(default = "ten_s")]
    pub ceiling: String,
    #[serde(default = "hundred")]
    pub window: u32,
    #[serde(default = "one")]
    pub smoothing: f64,
}

fn p99() -> f64 {
    99.0
}
fn two() -> f64 {
    2.0
}
fn ten_ms() -> String {
    "10ms".to_string()
}
fn ten_s() -> String {
    "10s".to_string()
}
fn hundred() -> u32 {
    100
}
fn one() -> f64 {
    1.0
}
