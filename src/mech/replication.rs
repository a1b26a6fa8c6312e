//! What a database's acknowledged writes survive: a local crash, and a failover to a
//! follower. Pure state over the writes the database acknowledged, in commit order.
//!
//! A write is acknowledged (its request succeeds) after its commit; from then on the
//! client counts on it. Whether a crash of the leader takes it back depends on two
//! PostgreSQL settings (https://www.postgresql.org/docs/current/runtime-config-wal.html,
//! `synchronous_commit`; .../warm-standby.html#SYNCHRONOUS-REPLICATION) and MySQL's
//! semi-synchronous replication (https://dev.mysql.com/doc/refman/8.4/en/replication-semisync.html):
//! 1. Locally, with `synchronous_commit` on (the default) the commit waits for its WAL to
//!    be flushed: durable when acknowledged. Off, the commit returns at once and the WAL
//!    writer flushes it at its next cycle (`wal_writer_delay`, 200 ms): a crash of the
//!    server loses what was acknowledged since the last flush. The docs bound that window
//!    at three cycles (the writer flushes whole pages); here every commit is durable at
//!    the next cycle, the common case.
//! 2. To followers, the log streams in commit order; a follower applies a write a
//!    replication lag after its commit, and never before the writes committed earlier
//!    (so the log's replicated position only moves forward). `Async` (PostgreSQL's
//!    default streaming replication): the commit waits for no follower. `SemiSync`
//!    (MySQL's `rpl_semi_sync_source_wait_point = AFTER_SYNC`, one replica's
//!    acknowledgement): the commit waits for the first follower to have it. `Sync`
//!    (PostgreSQL `synchronous_standby_names = 'FIRST n (...)'` over every follower): the
//!    commit waits for all of them. The wait holds the request (and its connection).
//! 3. A leader crash that lasts past `failover_after` (Patroni's leader key expiring:
//!    its `ttl` is 30 s) promotes the most advanced follower: what no follower had at
//!    the crash is gone, though the client was told it committed. With `Sync` or
//!    `SemiSync` a follower had every acknowledged write: nothing is lost. A shorter
//!    crash is a restart: the old leader comes back with its own log (rule 1).
//!
//! 4. Reads sent to followers (`reads: Followers`, read replicas behind a load balancer)
//!    see a follower's state: a read is *stale* when a write the leader acknowledged
//!    before it has not reached that follower yet, and breaks *read-your-writes* when the
//!    write it misses is its own order's (the `GET /orders/{id}` just after the `POST`).
//!    Each follower applies writes in commit order, so a follower has every write up to
//!    the last one it applied: one instant per follower says whether it is behind. The
//!    lag here runs to the follower's *apply* (what a read sees): `Sync` is then
//!    PostgreSQL's `synchronous_commit = remote_apply`, under which standby reads are
//!    never stale (https://www.postgresql.org/docs/current/warm-standby.html#SYNCHRONOUS-REPLICATION).
//!
//! Left out: MySQL's semi-sync timeout that silently falls back to asynchronous
//! (`rpl_semi_sync_source_timeout`, 10 s), and PostgreSQL's `remote_apply` levels.

use crate::engine::SimTime;
use crate::model::ReplicationMode;
use std::collections::VecDeque;

/// PostgreSQL's `wal_writer_delay` default: the WAL writer's cycle.
pub const WAL_WRITER_DELAY: SimTime = SimTime::from_millis(200);

/// One acknowledged write not yet safe from every crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// The order it carries and its step, as the run knows them (opaque here).
    pub order: u32,
    pub step: u32,
    /// Flushed to the leader's disk.
    pub durable_at: SimTime,
    /// Applied by the most advanced follower (`SimTime::MAX` without followers).
    pub replicated_at: SimTime,
}

/// The acknowledged writes of one database that a crash could still take back, in
/// commit order (both instants only grow along it).
#[derive(Debug, Clone, Default)]
pub struct WriteLog {
    pending: VecDeque<Pending>,
    /// The last write's `replicated_at` (the log's replicated position moves forward).
    replicated_upto: SimTime,
}

/// How long a commit waits for followers, given each follower's lag for it.
pub fn commit_wait(mode: ReplicationMode, synchronous_commit: bool, lags: &[SimTime]) -> SimTime {
    let lags = lags.iter().copied();
    match mode {
        _ if !synchronous_commit => SimTime::ZERO,
        ReplicationMode::Async => SimTime::ZERO,
        ReplicationMode::SemiSync => lags.min().unwrap_or(SimTime::ZERO),
        ReplicationMode::Sync => lags.max().unwrap_or(SimTime::ZERO),
    }
}

/// When the WAL writer flushes a commit acknowledged at `ack` without waiting for it:
/// its next cycle.
pub fn next_flush(ack: SimTime) -> SimTime {
    let d = WAL_WRITER_DELAY.0;
    SimTime((ack.0 / d + 1).saturating_mul(d))
}

impl WriteLog {
    /// A write acknowledged at `now`. `lag` is the first follower's replication lag for it
    /// (`None` without followers); `waited` says the commit waited for a follower and
    /// `flushed` for its local flush. Safe writes are not kept.
    pub fn acknowledged(
        &mut self,
        now: SimTime,
        order: u32,
        step: u32,
        flushed: bool,
        lag: Option<SimTime>,
        waited: bool,
    ) {
        self.forget(now);
        let durable_at = if flushed { now } else { next_flush(now) };
        let replicated_at = match lag {
            None => SimTime::MAX,
            Some(_) if waited => now,
            Some(l) => now.after(l).max(self.replicated_upto),
        };
        if lag.is_some() {
            self.replicated_upto = replicated_at;
        }
        let safe = durable_at <= now && (lag.is_none() || replicated_at <= now);
        if !safe {
            self.pending.push_back(Pending {
                order,
                step,
                durable_at,
                replicated_at,
            });
        }
    }

    /// Drops the writes safe from any crash from `now` on (they are sorted).
    fn forget(&mut self, now: SimTime) {
        while let Some(w) = self.pending.front() {
            let flushed = w.durable_at <= now;
            let replicated = w.replicated_at == SimTime::MAX || w.replicated_at <= now;
            if !(flushed && replicated) {
                break;
            }
            self.pending.pop_front();
        }
    }

    /// The leader crashed at `now`. `failover`: a follower is promoted, and the writes no
    /// follower had are gone; else the leader restarts with what it had flushed. Calls
    /// `lost` for each lost write, in commit order, and returns how many.
    pub fn crashed(&mut self, now: SimTime, failover: bool, mut lost: impl FnMut(Pending)) -> u64 {
        let gone = |w: &Pending| {
            if failover {
                w.replicated_at > now
            } else {
                w.durable_at > now
            }
        };
        let mut n = 0;
        for w in self.pending.iter().filter(|w| gone(w)) {
            lost(*w);
            n += 1;
        }
        self.pending.clear();
        // After a failover the new leader's log is what it had: nothing in flight.
        self.replicated_upto = self.replicated_upto.min(now);
        n
    }

    /// Writes acknowledged and not yet safe.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// What reads served by followers see: when each follower has applied the writes
/// acknowledged so far, and the recent writes some follower has not applied yet.
#[derive(Debug, Clone, Default)]
pub struct FollowerReads {
    /// Per follower: when it applies the last acknowledged write (and so all before it).
    applied_upto: Vec<SimTime>,
    /// Acknowledged writes some follower has not applied, in commit order: their order.
    recent: VecDeque<u32>,
    /// `followers` instants per entry of `recent`: when each follower applies it.
    recent_applied: VecDeque<SimTime>,
}

/// How a read served by a follower saw the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadSeen {
    /// The follower missed a write acknowledged before the read.
    pub stale: bool,
    /// The write it missed was its own order's.
    pub own_write_missed: bool,
}

impl FollowerReads {
    pub fn new(followers: u32) -> Self {
        FollowerReads {
            applied_upto: vec![SimTime::ZERO; followers as usize],
            ..FollowerReads::default()
        }
    }

    /// A write of `order` acknowledged at `ack` after its commit waited `wait` for
    /// followers; `lags[f]` is follower `f`'s lag from the commit to its apply.
    pub fn acknowledged(&mut self, ack: SimTime, order: u32, wait: SimTime, lags: &[SimTime]) {
        let commit = SimTime(ack.0.saturating_sub(wait.0));
        let mut behind = false;
        for (upto, lag) in self.applied_upto.iter_mut().zip(lags) {
            *upto = (*upto).max(commit.after(*lag));
            behind |= *upto > ack;
        }
        self.forget(ack);
        if behind {
            self.recent.push_back(order);
            self.recent_applied
                .extend(self.applied_upto.iter().copied());
        }
    }

    /// Drops the writes every follower has applied by `now` (each follower's instants
    /// only grow along the log).
    fn forget(&mut self, now: SimTime) {
        let n = self.applied_upto.len();
        while !self.recent.is_empty() && self.recent_applied.iter().take(n).all(|&t| t <= now) {
            self.recent.pop_front();
            self.recent_applied.drain(..n);
        }
    }

    /// A read for `order` served by follower `f` at `now`.
    pub fn read(&mut self, now: SimTime, f: usize, order: u32) -> ReadSeen {
        let stale = self.applied_upto[f] > now;
        let n = self.applied_upto.len();
        // Its own order's latest write; not kept means every follower has it.
        let own_write_missed = stale
            && self
                .recent
                .iter()
                .rposition(|&o| o == order)
                .is_some_and(|i| self.recent_applied[i * n + f] > now);
        ReadSeen {
            stale,
            own_write_missed,
        }
    }

    /// The leader crashed: whichever follower leads now, reads start over from its state.
    pub fn crashed(&mut self, now: SimTime) {
        for upto in &mut self.applied_upto {
            *upto = (*upto).min(now);
        }
        self.recent.clear();
        self.recent_applied.clear();
    }

    pub fn followers(&self) -> usize {
        self.applied_upto.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime::from_millis(n)
    }

    /// Hand-computed: async, lags 50, 10, 300 ms for writes at 100, 110, 120 ms. Applied
    /// at 150, max(150, 120) = 150, and 420 ms. A failover at 140 ms loses all three;
    /// at 200 ms only the last.
    #[test]
    fn async_failover_loses_what_no_follower_applied() {
        let mut log = WriteLog::default();
        for (i, (at, lag)) in [(100, 50), (110, 10), (120, 300)].into_iter().enumerate() {
            log.acknowledged(ms(at), i as u32, 0, true, Some(ms(lag)), false);
        }
        let mut a = log.clone();
        let mut seen = Vec::new();
        assert_eq!(a.crashed(ms(140), true, |w| seen.push(w.order)), 3);
        assert_eq!(seen, [0, 1, 2]);
        let mut seen = Vec::new();
        assert_eq!(log.crashed(ms(200), true, |w| seen.push(w.order)), 1);
        assert_eq!(seen, [2]);
    }

    /// A restart instead of a failover keeps every flushed commit: nothing lost with
    /// `synchronous_commit` on, even unreplicated.
    #[test]
    fn a_restart_keeps_flushed_commits() {
        let mut log = WriteLog::default();
        log.acknowledged(ms(100), 0, 0, true, Some(ms(500)), false);
        assert_eq!(log.crashed(ms(150), false, |_| {}), 0);
    }

    /// `synchronous_commit` off: commits at 100 and 250 ms flush at 200 and 400 ms; a
    /// crash at 300 ms loses the second only.
    #[test]
    fn unflushed_commits_die_with_the_server() {
        assert_eq!(next_flush(ms(100)), ms(200));
        assert_eq!(next_flush(ms(200)), ms(400));
        let mut log = WriteLog::default();
        log.acknowledged(ms(100), 0, 0, false, None, false);
        log.acknowledged(ms(250), 1, 0, false, None, false);
        let mut seen = Vec::new();
        assert_eq!(log.crashed(ms(300), false, |w| seen.push(w.order)), 1);
        assert_eq!(seen, [1]);
    }

    /// Sync waits for the slowest follower, semi-sync for the fastest, async for none;
    /// the writes they waited for are safe at once and never kept.
    #[test]
    fn commits_wait_by_mode() {
        let lags = [ms(5), ms(40)];
        assert_eq!(
            commit_wait(ReplicationMode::Async, true, &lags),
            SimTime::ZERO
        );
        assert_eq!(commit_wait(ReplicationMode::SemiSync, true, &lags), ms(5));
        assert_eq!(commit_wait(ReplicationMode::Sync, true, &lags), ms(40));
        assert_eq!(
            commit_wait(ReplicationMode::Sync, false, &lags),
            SimTime::ZERO
        );
        let mut log = WriteLog::default();
        log.acknowledged(ms(100), 0, 0, true, Some(ms(5)), true);
        assert_eq!(log.pending(), 0);
        assert_eq!(log.crashed(ms(100), true, |_| {}), 0);
    }

    /// Hand-computed, one follower, async: order 7 acknowledged at 100 ms with a lag of
    /// 30 ms is applied at 130 ms; order 8 at 110 ms with 5 ms waits for it (commit
    /// order): 130 ms too. A read of 7 at 120 ms is stale and misses its own write; a
    /// read of 9 then is stale only; at 130 ms nothing is missing.
    #[test]
    fn follower_reads_stale_and_read_your_writes() {
        let mut r = FollowerReads::new(1);
        r.acknowledged(ms(100), 7, SimTime::ZERO, &[ms(30)]);
        r.acknowledged(ms(110), 8, SimTime::ZERO, &[ms(5)]);
        let both = ReadSeen {
            stale: true,
            own_write_missed: true,
        };
        assert_eq!(r.read(ms(120), 0, 7), both);
        assert_eq!(r.read(ms(120), 0, 8), both);
        assert!(!r.read(ms(120), 0, 9).own_write_missed);
        assert!(r.read(ms(120), 0, 9).stale);
        assert_eq!(r.read(ms(130), 0, 7), ReadSeen::default());
    }

    /// Two followers with lags 10 and 50 ms: semi-sync waits 10 ms, so the commit at
    /// 90 ms is acknowledged at 100 ms; the second follower applies at 140 ms. A read at
    /// 120 ms is fine on the first and misses the write on the second. Sync waits 50 ms:
    /// no follower read is ever stale.
    #[test]
    fn follower_reads_by_mode() {
        let lags = [ms(10), ms(50)];
        let mut semi = FollowerReads::new(2);
        let wait = commit_wait(ReplicationMode::SemiSync, true, &lags);
        semi.acknowledged(ms(100), 1, wait, &lags);
        assert_eq!(semi.read(ms(120), 0, 1), ReadSeen::default());
        assert!(semi.read(ms(120), 1, 1).own_write_missed);
        let mut sync = FollowerReads::new(2);
        let wait = commit_wait(ReplicationMode::Sync, true, &lags);
        sync.acknowledged(ms(100), 1, wait, &lags);
        assert_eq!(sync.read(ms(100), 1, 1), ReadSeen::default());
        assert!(sync.recent.is_empty());
    }

    /// Safe writes are forgotten as time passes: the log stays as long as the lag.
    #[test]
    fn the_log_forgets_safe_writes() {
        let mut log = WriteLog::default();
        for i in 0..100 {
            log.acknowledged(ms(i * 10), i as u32, 0, true, Some(ms(15)), false);
        }
        assert!(log.pending() <= 2, "{}", log.pending());
    }
}
