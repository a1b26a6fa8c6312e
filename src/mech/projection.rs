//! A CQRS read model (issue #24): a projection of an event log, held in memory by the
//! consumer that owns each partition, and the rules that say what a read of it sees.
//!
//! - An event is in the read model once its consumer has processed it (applied it), from
//!   then on, unless a crash loses it first.
//! - A crash loses the partition's in-memory model. The next owner rebuilds it from the
//!   log before it applies anything new: it loads the last snapshot (taken every
//!   `snapshot_every` committed events) and replays the committed events after it, at
//!   `replay_per_event` each, as Kafka Streams restores a task's state from its changelog
//!   before processing. Until the replay ends the partition's model answers nothing.
//! - Events processed after the last commit are not in the rebuilt model: the partition
//!   rewinds to the commit and they are applied again when redelivered.

use crate::engine::SimTime;

/// A read model's settings (`Consume(read_model: Some(ReadModel(...)))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadModel {
    /// Committed events between snapshots; 0: none, a rebuild replays from offset 0.
    pub snapshot_every: u64,
    /// Time to replay one event during a rebuild.
    pub replay_per_event: SimTime,
    /// When each writer reads the read model back after its event's append.
    pub read_after: SimTime,
}

impl ReadModel {
    /// Events a rebuild replays when the partition's committed offset is `committed`:
    /// from the last snapshot at or below it.
    pub fn replayed(&self, committed: u64) -> u64 {
        match self.snapshot_every {
            0 => committed,
            n => committed % n,
        }
    }

    /// How long a rebuild of `committed` events takes.
    pub fn replay_time(&self, committed: u64) -> SimTime {
        SimTime(
            self.replayed(committed)
                .saturating_mul(self.replay_per_event.0),
        )
    }
}

/// When one event is in the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visible {
    /// Applied for good (`SimTime::MAX`: not yet).
    pub since: SimTime,
    /// An earlier application a crash undid: visible over `[first, lost)`.
    pub first: SimTime,
    pub lost: SimTime,
}

impl Visible {
    pub const NEVER: Visible = Visible {
        since: SimTime::MAX,
        first: SimTime::MAX,
        lost: SimTime::MAX,
    };

    /// Applied at `at`, unless already there.
    pub fn apply(&mut self, at: SimTime) {
        if self.since == SimTime::MAX {
            self.since = at;
        }
    }

    /// A crash at `at` undid an application not yet committed.
    pub fn lose(&mut self, at: SimTime) {
        if self.since != SimTime::MAX {
            (self.first, self.lost) = (self.since, at);
            self.since = SimTime::MAX;
        }
    }

    /// Whether the event is in the model at `t` (its partition's rebuilds aside).
    pub fn at(&self, t: SimTime) -> bool {
        t >= self.since || (self.first <= t && t < self.lost)
    }
}

/// Whether `t` falls in one of `rebuilds` (`[start, end)` each).
pub fn rebuilding(rebuilds: &[(SimTime, SimTime)], t: SimTime) -> bool {
    rebuilds.iter().any(|&(a, b)| a <= t && t < b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    #[test]
    fn a_rebuild_replays_from_the_last_snapshot() {
        let mut m = ReadModel {
            snapshot_every: 0,
            replay_per_event: SimTime(50_000),
            read_after: ms(0),
        };
        // No snapshots: all 12,345 committed events, 50 us each.
        assert_eq!(m.replayed(12_345), 12_345);
        assert_eq!(m.replay_time(12_345), SimTime(617_250_000));
        // A snapshot every 1,000: the one at 12,000, then 345 events.
        m.snapshot_every = 1_000;
        assert_eq!(m.replayed(12_345), 345);
        assert_eq!(m.replay_time(12_345), SimTime(17_250_000));
        assert_eq!(m.replayed(12_000), 0);
    }

    #[test]
    fn a_lost_application_is_visible_only_before_the_crash() {
        let mut v = Visible::NEVER;
        assert!(!v.at(ms(5)));
        v.apply(ms(10));
        v.apply(ms(11));
        assert!(!v.at(ms(9)) && v.at(ms(10)) && v.at(ms(100)));
        v.lose(ms(20));
        v.apply(ms(30));
        assert!(v.at(ms(15)) && !v.at(ms(20)) && !v.at(ms(29)) && v.at(ms(30)));
        assert!(rebuilding(&[(ms(20), ms(25))], ms(20)));
        assert!(!rebuilding(&[(ms(20), ms(25))], ms(25)));
    }
}
