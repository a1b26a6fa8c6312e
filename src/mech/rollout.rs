//! Rolling updates: the bounds a Deployment keeps while it replaces pods. With `replicas`
//! desired, at most `replicas + max_surge` pods exist and at least
//! `replicas - max_unavailable` are available at any time; a percentage surge rounds up,
//! a percentage unavailability rounds down, and both cannot be zero.

/// An absolute count or a percentage of the desired replicas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntOrPercent {
    Count(u32),
    Percent(f64),
}

/// `(most pods at once, fewest available)` during a rollout of `replicas`.
pub fn rolling_bounds(
    replicas: u32,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
) -> (u32, u32) {
    let surge = match max_surge {
        IntOrPercent::Count(n) => n,
        IntOrPercent::Percent(p) => (replicas as f64 * p / 100.0).ceil() as u32,
    };
    let mut unavailable = match max_unavailable {
        IntOrPercent::Count(n) => n,
        IntOrPercent::Percent(p) => (replicas as f64 * p / 100.0).floor() as u32,
    };
    // Both zero would deadlock the rollout; Kubernetes then allows one unavailable.
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (
        replicas + surge,
        replicas.saturating_sub(unavailable.min(replicas)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_defaults_round_as_documented() {
        let p25 = IntOrPercent::Percent(25.0);
        // 10 replicas: surge ceil(2.5) = 3, unavailable floor(2.5) = 2 -> 8..13 pods.
        assert_eq!(rolling_bounds(10, p25, p25), (13, 8));
        // 1 replica: surge 1, unavailable 0: the new pod must be ready first.
        assert_eq!(rolling_bounds(1, p25, p25), (2, 1));
        assert_eq!(
            rolling_bounds(4, IntOrPercent::Count(0), IntOrPercent::Count(0)),
            (4, 3)
        );
    }
}
