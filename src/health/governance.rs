//! Governance: five operational policies every service should meet, each a check with a
//! pass flag and, when it fails, a message naming the service and what is missing.
//!
//! | check | passes when the `Governance(...)` block has |
//! |---|---|
//! | `runbook` | a non-empty `runbook` |
//! | `monitoring` | `monitoring: true` |
//! | `owner` | a non-empty `owner` |
//! | `documentation` | a non-empty `documentation` |
//! | `incident_response` | a non-empty `incident_response` |
//!
//! A service without a `governance` block declares nothing, so every check fails, each
//! message ending "(no governance declared)". Status: COMPLIANT when all pass,
//! NON_COMPLIANT when none does, PARTIAL otherwise.

use crate::metrics::health::{GovernanceCheck, GovernanceReport, GovernanceStatus};
use crate::scenario::GovernanceSpec;

/// The checks of `service`, in the order of the table above.
pub fn checks(service: &str, spec: Option<&GovernanceSpec>) -> GovernanceReport {
    let none = GovernanceSpec::default();
    let g = spec.unwrap_or(&none);
    let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    let list = [
        ("runbook", given(&g.runbook), "missing operational runbook"),
        ("monitoring", g.monitoring, "has no monitoring"),
        ("owner", given(&g.owner), "has no owner"),
        (
            "documentation",
            given(&g.documentation),
            "missing documentation",
        ),
        (
            "incident_response",
            given(&g.incident_response),
            "has no incident response plan",
        ),
    ];
    let suffix = if spec.is_none() {
        " (no governance declared)"
    } else {
        ""
    };
    let checks: Vec<GovernanceCheck> = list
        .iter()
        .map(|&(name, passed, missing)| GovernanceCheck {
            name: name.to_string(),
            passed,
            message: if passed {
                String::new()
            } else {
                format!("{service} {missing}{suffix}")
            },
        })
        .collect();
    let passed = checks.iter().filter(|c| c.passed).count() as u32;
    let failed = checks.len() as u32 - passed;
    GovernanceReport {
        status: status(passed, failed),
        declared: spec.is_some(),
        passed,
        failed,
        checks,
    }
}

pub fn status(passed: u32, failed: u32) -> GovernanceStatus {
    match (passed, failed) {
        (_, 0) => GovernanceStatus::Compliant,
        (0, _) => GovernanceStatus::NonCompliant,
        _ => GovernanceStatus::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> GovernanceSpec {
        GovernanceSpec {
            owner: Some("payments-team".into()),
            runbook: Some("https://runbooks/payment".into()),
            monitoring: true,
            documentation: Some("https://docs/payment".into()),
            incident_response: Some("pagerduty: payments".into()),
        }
    }

    #[test]
    fn all_declared_is_compliant() {
        let r = checks("payment", Some(&full()));
        assert_eq!(r.status, GovernanceStatus::Compliant);
        assert_eq!((r.passed, r.failed), (5, 0));
        assert!(r.checks.iter().all(|c| c.passed && c.message.is_empty()));
    }

    #[test]
    fn missing_items_name_the_service() {
        let g = GovernanceSpec {
            documentation: None,
            incident_response: Some("  ".into()),
            ..full()
        };
        let r = checks("payment", Some(&g));
        assert_eq!(r.status, GovernanceStatus::Partial);
        assert_eq!((r.passed, r.failed), (3, 2));
        let failed: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.message.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "payment missing documentation",
                "payment has no incident response plan"
            ]
        );
    }

    #[test]
    fn no_block_fails_everything() {
        let r = checks("api", None);
        assert_eq!(r.status, GovernanceStatus::NonCompliant);
        assert!(!r.declared);
        assert_eq!(r.failed, 5);
        assert_eq!(
            r.checks[1].message,
            "api has no monitoring (no governance declared)"
        );
        // An empty block is declared but passes nothing either.
        let r = checks("api", Some(&GovernanceSpec::default()));
        assert!(r.declared && r.failed == 5);
        assert_eq!(r.checks[2].message, "api has no owner");
    }
}
