//! What a store keeps through a power loss or a crash: Redis persistence, as a pure state
//! machine over the store's writes (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/).
//!
//! Each write (a job pushed or taken) changes the store; pushed jobs carry increasing
//! ids. A crash keeps the writes made before the store's last *durable point* and loses
//! the rest, so the jobs lost are those with ids from the durable point's on:
//! 1. `InMemory` (no persistence, `save ""` and `appendonly no`): nothing survives.
//! 2. `Rdb` (snapshots, Redis' default: `save 3600 1 300 100 60 10000`): a `save S N`
//!    rule forks a snapshot once S seconds have passed since the last one and at least N
//!    writes were made; a crash goes back to the last snapshot. Evaluated lazily at each
//!    write and at the crash (writes are the only thing that changes the counter, so the
//!    first due instant is exact); the 100 ms `serverCron` tick and the fork's own
//!    duration are left out.
//! 3. `AofEverysec` (`appendonly yes`, `appendfsync everysec`, Redis' AOF default): the
//!    log is fsynced once a second (here: at every whole second of virtual time), so a
//!    crash loses at most the last second's writes.
//! 4. `AofAlways` (`appendfsync always`): every write is fsynced before the reply;
//!    nothing acknowledged is lost.
//!
//! On restart the store loads what survived, which is then all durable.

use crate::engine::SimTime;
use crate::model::Persistence;

/// The durable point of one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persist {
    /// The last snapshot (or restart).
    last_save: SimTime,
    /// Writes since it (Redis' `dirty` counter).
    dirty: u64,
    last_write: SimTime,
    /// The first write id not yet durable.
    durable: u64,
    /// Ids handed out so far: every write so far has an id below this.
    next: u64,
}

impl Persist {
    /// A store started (or restarted and loaded) at `now`, after ids below `next`.
    pub fn new(now: SimTime, next: u64) -> Self {
        Persist {
            last_save: now,
            dirty: 0,
            last_write: now,
            durable: next,
            next,
        }
    }

    /// Moves the durable point to `now`: snapshots or fsyncs due since the last write.
    fn catch_up(&mut self, cfg: &Persistence, now: SimTime) {
        match cfg {
            Persistence::InMemory => {}
            Persistence::AofAlways => self.durable = self.next,
            Persistence::AofEverysec => {
                let sec = SimTime::NS_PER_S;
                if now.0 / sec > self.last_write.0 / sec {
                    self.durable = self.next;
                }
            }
            Persistence::Rdb { save } => {
                let due = save
                    .iter()
                    .filter(|&&(_, changes)| self.dirty >= changes)
                    .map(|&(after, _)| self.last_save.after(after))
                    .min();
                if let Some(due) = due {
                    // Not before the write that met the rule's count.
                    let at = due.max(self.last_write);
                    if at <= now {
                        self.last_save = at;
                        self.dirty = 0;
                        self.durable = self.next;
                    }
                }
            }
        }
    }

    /// A write at `now`, after which every id handed out is below `next` (a push takes
    /// a new id; a take changes the list without one).
    pub fn write(&mut self, cfg: &Persistence, now: SimTime, next: u64) {
        self.catch_up(cfg, now);
        self.next = next;
        self.dirty += 1;
        self.last_write = now;
        if *cfg == Persistence::AofAlways {
            self.durable = next;
        }
    }

    /// The store crashes at `now`: writes with ids from the returned one on are lost.
    pub fn crash(&mut self, cfg: &Persistence, now: SimTime) -> u64 {
        self.catch_up(cfg, now);
        match cfg {
            Persistence::InMemory => 0,
            _ => self.durable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    /// Writes at the given instants from a store started at 0; the first id lost at `crash`.
    fn lost_from(cfg: &Persistence, writes: &[u64], crash: u64) -> u64 {
        let mut p = Persist::new(SimTime::ZERO, 0);
        for (id, &w) in writes.iter().enumerate() {
            p.write(cfg, ms(w), id as u64 + 1);
        }
        p.crash(cfg, ms(crash))
    }

    #[test]
    fn in_memory_loses_everything_and_aof_always_nothing() {
        let w = [10, 20, 3_000];
        assert_eq!(lost_from(&Persistence::InMemory, &w, 5_000), 0);
        assert_eq!(lost_from(&Persistence::AofAlways, &w, 3_000), 3);
    }

    #[test]
    fn aof_everysec_loses_the_writes_since_the_last_whole_second() {
        let c = Persistence::AofEverysec;
        // Fsync at 1 s and 2 s: the writes at 2.1 s and 2.9 s are not on disk at 2.95 s.
        assert_eq!(lost_from(&c, &[100, 900, 1_500, 2_100, 2_900], 2_950), 3);
        // At 3.0 s the fsync has taken them.
        assert_eq!(lost_from(&c, &[100, 900, 1_500, 2_100, 2_900], 3_000), 5);
        // Nothing older than a second is ever lost.
        assert_eq!(lost_from(&c, &[100], 1_100), 1);
    }

    #[test]
    fn rdb_goes_back_to_the_last_snapshot_by_the_save_rules() {
        // Redis' defaults: after 1 h if 1 write, 5 min if 100, 1 min if 10,000.
        let c = Persistence::redis_default();
        // One write: no snapshot until an hour after the start.
        assert_eq!(lost_from(&c, &[1_000], 3_599_999), 0);
        assert_eq!(lost_from(&c, &[1_000], 3_600_000), 1);
        // 100 writes in the first second: snapshot at 5 min; the later write is lost.
        let mut w: Vec<u64> = (0..100).map(|i| i * 10).collect();
        w.push(300_500);
        assert_eq!(lost_from(&c, &w, 301_000), 100);
        // The snapshot waits for the write that meets the count: 100th write at 400 s.
        let w: Vec<u64> = (0..100).map(|i| 301_000 + i * 1_000).collect();
        assert_eq!(
            lost_from(&c, &w, 399_999),
            0,
            "99 writes: the rule is not met"
        );
        assert_eq!(
            lost_from(&c, &w, 400_000),
            100,
            "snapshot right after the 100th"
        );
        // A custom rule: every 10 s if anything changed.
        let c = Persistence::Rdb {
            save: vec![(SimTime::from_secs(10), 1)],
        };
        assert_eq!(lost_from(&c, &[1_000, 12_000, 15_000], 19_000), 1);
        assert_eq!(lost_from(&c, &[1_000, 12_000, 15_000], 22_000), 3);
    }

    #[test]
    fn a_restart_makes_what_survived_durable() {
        let c = Persistence::AofEverysec;
        let mut p = Persist::new(SimTime::ZERO, 0);
        p.write(&c, ms(1_500), 1);
        assert_eq!(p.crash(&c, ms(1_600)), 0);
        let mut p = Persist::new(ms(5_000), 1);
        assert_eq!(p.crash(&c, ms(5_001)), 1);
        p.write(&c, ms(5_002), 2);
        assert_eq!(p.crash(&c, ms(5_003)), 1, "id 1 is not on disk yet");
        // A take (no new id) after the next fsync: the push before it is durable.
        p.write(&c, ms(6_001), 2);
        assert_eq!(p.crash(&c, ms(6_002)), 2);
    }
}
