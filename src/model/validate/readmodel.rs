//! Checks of a CQRS read model on a consumer group (issue #24).

use super::Check;
use crate::mech::projection::ReadModel;
use crate::scenario::ReadModelSpec;

impl Check {
    /// Checks `read_model` of the consumer at path `p` (the `consume` block's path).
    pub(super) fn read_model(&mut self, p: &str, m: &ReadModelSpec) -> Option<ReadModel> {
        let p = format!("{p}.read_model");
        let snapshot_every = match m.snapshot_every {
            None => Some(0),
            Some(0) => {
                self.fail(
                    format!("{p}.snapshot_every"),
                    "0 committed events between snapshots: use at least 1, or None for no \
                     snapshots",
                );
                None
            }
            Some(n) => Some(n),
        };
        let replay = self.duration(&format!("{p}.replay_per_event"), &m.replay_per_event);
        let read_after = self.duration(&format!("{p}.read_after"), &m.read_after);
        Some(ReadModel {
            snapshot_every: snapshot_every?,
            replay_per_event: replay?,
            read_after: read_after?,
        })
    }
}
