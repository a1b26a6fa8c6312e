//! A Kafka-like topic as a pure state machine (semantics.md §5.1, §5.2): partitioned
//! logs with offsets, and per consumer group and partition a cursor of three offsets:
//!
//! - `position`: the next offset to deliver;
//! - `processed`: the offset after the last message processed (or skipped, or parked);
//! - `committed`: the saved position, where a new consumer starts after a rebalance.
//!
//! At-most-once commits `position` at delivery (before processing), at-least-once
//! commits `processed` after processing; auto-commit commits either periodically. A
//! consumer that dies makes its partition restart from `committed`: what was delivered
//! and not committed is delivered again (duplicates), what was committed and not
//! processed never is (losses).
//!
//! The log keeps a message until every group has committed past it (so it holds exactly
//! what some group may still need), or until it is older than the topic's retention
//! (Kafka `retention.ms`): then it is deleted whether consumed or not, and a group whose
//! cursor points before the new start of the log jumps to it (`auto.offset.reset =
//! earliest`), skipping what was deleted. A broker held in memory loses the log on
//! restart: offsets go on from where they were, and cursors behind the new start jump to
//! it.
//!
//! Replication: a message is appended to the leader at once and reaches the followers
//! `lag` later. Consumers see only replicated messages (the high watermark); a leader
//! failover truncates what was not replicated yet.

use crate::engine::SimTime;
use std::collections::VecDeque;

/// A message: its id (a producer retry appends the same id twice) and the order it
/// carries (`u32::MAX` for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    pub id: u64,
    pub order: u32,
    /// Its place among the records of its key from one producer: 0 the order's record,
    /// then its status updates (`Publish.updates`).
    pub seq: u32,
}

/// A message in a log, with when it was appended (retention, replication) and whether
/// its producer waited for every in-sync replica (acks=all).
#[derive(Debug, Clone, Copy)]
struct Entry {
    msg: Msg,
    at: SimTime,
    all: bool,
}

#[derive(Debug, Clone, Default)]
struct Log {
    /// Offset of `msgs[0]`.
    base: u64,
    msgs: VecDeque<Entry>,
}

impl Log {
    fn end(&self) -> u64 {
        self.base + self.msgs.len() as u64
    }
    fn get(&self, offset: u64) -> Option<Msg> {
        self.entry(offset).map(|e| e.msg)
    }
    fn entry(&self, offset: u64) -> Option<Entry> {
        offset
            .checked_sub(self.base)
            .and_then(|i| self.msgs.get(i as usize).copied())
    }
}

/// What a retention pass or a failover removed from the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Messages removed from the log.
    pub messages: u64,
    /// Retention only: per group summed, messages a group had not delivered yet (it
    /// skips them).
    pub undelivered: u64,
    /// Failover only: removed messages whose producer used acks=all (never acknowledged).
    pub unacked: u64,
}

/// One group's place in one partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub position: u64,
    pub processed: u64,
    pub committed: u64,
    /// One past the highest offset ever delivered (to tell redeliveries).
    pub delivered: u64,
}

/// A topic's partitions and its consumer groups' cursors.
#[derive(Debug, Clone)]
pub struct TopicLog {
    logs: Vec<Log>,
    groups: usize,
    /// `groups x partitions`.
    cursors: Vec<Cursor>,
}

impl TopicLog {
    pub fn new(partitions: u32, groups: usize) -> Self {
        TopicLog {
            logs: vec![Log::default(); partitions as usize],
            groups,
            cursors: vec![Cursor::default(); groups * partitions as usize],
        }
    }

    pub fn partitions(&self) -> u32 {
        self.logs.len() as u32
    }

    /// The partition of a key: a stable hash (FNV-1a of its bytes), modulo partitions.
    pub fn partition_of(&self, key: u64) -> u32 {
        (crate::engine::rng::fnv1a64(&key.to_le_bytes()) % self.logs.len() as u64) as u32
    }

    pub fn cursor(&self, g: usize, p: u32) -> Cursor {
        self.cursors[g * self.logs.len() + p as usize]
    }

    fn cursor_mut(&mut self, g: usize, p: u32) -> &mut Cursor {
        let n = self.logs.len();
        &mut self.cursors[g * n + p as usize]
    }

    /// Appends `msg` to partition `p` at `at` (`all`: its producer waits for every
    /// in-sync replica); returns its offset.
    pub fn append(&mut self, p: u32, msg: Msg, at: SimTime, all: bool) -> u64 {
        let log = &mut self.logs[p as usize];
        log.msgs.push_back(Entry { msg, at, all });
        let offset = log.end() - 1;
        if self.groups == 0 {
            // Nobody will read it: nothing to keep.
            self.trim(p);
        }
        offset
    }

    /// Messages held (not yet committed by every group).
    pub fn held(&self) -> u64 {
        self.logs.iter().map(|l| l.msgs.len() as u64).sum()
    }

    /// Messages appended and not committed by group `g`.
    pub fn lag(&self, g: usize) -> u64 {
        (0..self.logs.len() as u32)
            .map(|p| {
                self.logs[p as usize].end()
                    - self.cursor(g, p).committed.min(self.logs[p as usize].end())
            })
            .sum()
    }

    /// When the message at `offset` of partition `p` was appended, if it is in the log.
    pub fn appended_at(&self, p: u32, offset: u64) -> Option<SimTime> {
        self.logs[p as usize].entry(offset).map(|e| e.at)
    }

    /// The append time of the oldest message group `g` has not committed, over all
    /// partitions: the group's lag in time (`now` minus it), as lag exporters read it
    /// from committed offsets.
    pub fn oldest_uncommitted(&self, g: usize) -> Option<SimTime> {
        (0..self.logs.len() as u32)
            .filter_map(|p| {
                let log = &self.logs[p as usize];
                log.entry(self.cursor(g, p).committed.max(log.base))
                    .map(|e| e.at)
            })
            .min()
    }

    /// The append time of the oldest message held, over all partitions.
    pub fn oldest(&self) -> Option<SimTime> {
        self.logs
            .iter()
            .filter_map(|l| l.msgs.front().map(|e| e.at))
            .min()
    }

    /// The next message for group `g` on partition `p`, with its offset and whether it
    /// was delivered before; `None` when the group has read everything replicated (a
    /// message appended at or after `replicated_before` is not visible yet). Moves
    /// `position` past it.
    pub fn deliver(
        &mut self,
        g: usize,
        p: u32,
        replicated_before: SimTime,
    ) -> Option<(u64, Msg, bool)> {
        let log = &self.logs[p as usize];
        let (base, end) = (log.base, log.end());
        let pos = self.cursor(g, p).position.max(base);
        // Offsets lost in a restart or deleted by retention are skipped.
        self.cursor_mut(g, p).position = pos;
        if pos >= end
            || self.logs[p as usize].entry(pos).expect("in the log").at >= replicated_before
        {
            return None;
        }
        let c = self.cursor_mut(g, p);
        let offset = c.position;
        c.position += 1;
        let again = offset < c.delivered;
        c.delivered = c.delivered.max(c.position);
        let msg = self.logs[p as usize]
            .get(offset)
            .expect("base <= offset < end");
        Some((offset, msg, again))
    }

    /// Whether [`Self::deliver`] would give group `g` a message on partition `p` now.
    pub fn has_next(&self, g: usize, p: u32, replicated_before: SimTime) -> bool {
        let log = &self.logs[p as usize];
        let pos = self.cursor(g, p).position.max(log.base);
        pos < log.end() && log.entry(pos).expect("in the log").at < replicated_before
    }

    /// Puts `position` back to `offset` (retry the same message).
    pub fn seek(&mut self, g: usize, p: u32, offset: u64) {
        self.cursor_mut(g, p).position = offset;
    }

    /// The message at `offset` was processed (or skipped or parked).
    pub fn processed(&mut self, g: usize, p: u32, offset: u64) {
        let c = self.cursor_mut(g, p);
        c.processed = c.processed.max(offset + 1);
    }

    /// Commits group `g`'s offset on partition `p` up to `upto` (never backwards);
    /// `f` sees every message still in the log that this commit passes. Trims the log.
    pub fn commit(&mut self, g: usize, p: u32, upto: u64, mut f: impl FnMut(Msg)) {
        let log = &self.logs[p as usize];
        let (base, end) = (log.base, log.end());
        let c = self.cursor(g, p);
        let upto = upto.min(end);
        if upto <= c.committed {
            return;
        }
        for offset in c.committed.max(base)..upto {
            f(log.get(offset).expect("in the log"));
        }
        self.cursor_mut(g, p).committed = upto;
        self.trim(p);
    }

    /// A consumer died: the partition restarts from the committed offset.
    pub fn rewind(&mut self, g: usize, p: u32) {
        let c = self.cursor_mut(g, p);
        c.position = c.committed;
        c.processed = c.committed;
    }

    fn trim(&mut self, p: u32) {
        let n = self.logs.len();
        let keep_from = (0..self.groups)
            .map(|g| self.cursors[g * n + p as usize].committed)
            .min()
            .unwrap_or(u64::MAX);
        let log = &mut self.logs[p as usize];
        while log.base < keep_from && !log.msgs.is_empty() {
            log.msgs.pop_front();
            log.base += 1;
        }
    }

    /// Retention: deletes every message appended before `before`, from the head of each
    /// partition (the log is in append order: no scan past the first one kept).
    /// `f(group, msg, delivered)` sees, for each group, each deleted message it had not
    /// committed. Cursors behind the new start jump to it (`auto.offset.reset =
    /// earliest`); `undelivered` counts the messages groups skip that way.
    pub fn expire(&mut self, before: SimTime, mut f: impl FnMut(usize, Msg, bool)) -> Removed {
        let n = self.logs.len();
        let mut removed = Removed::default();
        for p in 0..n {
            let log = &self.logs[p];
            let cut = log.msgs.iter().take_while(|e| e.at < before).count() as u64;
            if cut == 0 {
                continue;
            }
            let new_base = log.base + cut;
            removed.messages += cut;
            for g in 0..self.groups {
                let c = self.cursors[g * n + p];
                for offset in c.committed.max(log.base)..new_base {
                    let delivered = offset < c.position;
                    removed.undelivered += !delivered as u64;
                    f(g, log.get(offset).expect("in the log"), delivered);
                }
                let c = &mut self.cursors[g * n + p];
                c.committed = c.committed.max(new_base);
                c.processed = c.processed.max(new_base);
                c.position = c.position.max(new_base);
            }
            let log = &mut self.logs[p];
            log.msgs.drain(..cut as usize);
            log.base = new_base;
        }
        removed
    }

    /// A leader failover: the followers did not have the messages appended at or after
    /// `since` (not replicated yet), so they are gone; later appends reuse their offsets.
    /// `f(group, msg, all)` sees, for each group, each removed message and whether its
    /// producer used acks=all (consumers see only replicated messages, so none was
    /// delivered). `unacked` counts removed messages
    /// whose producer waited for all replicas (it gets an error, not an ack).
    pub fn truncate(&mut self, since: SimTime, mut f: impl FnMut(usize, Msg, bool)) -> Removed {
        let n = self.logs.len();
        let mut removed = Removed::default();
        for p in 0..n {
            let log = &mut self.logs[p];
            let keep = log.msgs.len() - log.msgs.iter().rev().take_while(|e| e.at >= since).count();
            let new_end = log.base + keep as u64;
            for e in log.msgs.drain(keep..) {
                removed.messages += 1;
                removed.unacked += e.all as u64;
                for g in 0..self.groups {
                    f(g, e.msg, e.all);
                }
            }
            for g in 0..self.groups {
                let c = &mut self.cursors[g * n + p];
                debug_assert!(
                    c.position <= new_end,
                    "unreplicated messages are not delivered"
                );
                c.position = c.position.min(new_end);
                c.delivered = c.delivered.min(new_end);
                c.processed = c.processed.min(new_end);
                c.committed = c.committed.min(new_end);
            }
        }
        removed
    }

    /// An in-memory broker restarts: every message held is gone. `f(group, msg,
    /// delivered)` sees, for each group, each message it had not committed, and whether
    /// that group had already delivered it (then it is in a consumer's hands, not lost
    /// yet). Returns the messages lost: held and not yet delivered, summed over groups
    /// (or held, without groups).
    pub fn lose_all(&mut self, mut f: impl FnMut(usize, Msg, bool)) -> u64 {
        let n = self.logs.len();
        let mut lost = 0;
        for p in 0..n {
            let log = &self.logs[p];
            let (base, end) = (log.base, log.end());
            if self.groups == 0 {
                lost += end - base;
            }
            for g in 0..self.groups {
                let c = self.cursors[g * n + p];
                for offset in c.committed.max(base)..end {
                    let delivered = offset < c.position;
                    lost += !delivered as u64;
                    f(g, log.get(offset).expect("in the log"), delivered);
                }
            }
            let log = &mut self.logs[p];
            log.msgs.clear();
            log.base = end;
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64) -> Msg {
        Msg {
            id,
            order: id as u32,
            seq: 0,
        }
    }

    #[test]
    fn at_least_once_replays_from_the_commit() {
        let mut t = TopicLog::new(1, 1);
        for i in 0..3 {
            t.append(0, msg(i), SimTime::ZERO, true);
        }
        let (o, m, again) = t.deliver(0, 0, SimTime::MAX).unwrap();
        assert_eq!((o, m.id, again), (0, 0, false));
        t.processed(0, 0, o);
        let mut passed = Vec::new();
        t.commit(0, 0, 1, |m| passed.push(m.id));
        assert_eq!(passed, vec![0]);
        let (o, _, _) = t.deliver(0, 0, SimTime::MAX).unwrap();
        assert_eq!(o, 1);
        t.rewind(0, 0); // died holding offset 1
        let (o, _, again) = t.deliver(0, 0, SimTime::MAX).unwrap();
        assert_eq!((o, again), (1, true));
        assert_eq!(t.lag(0), 2);
        assert_eq!(t.held(), 2, "offset 0 is committed by every group: trimmed");
    }

    #[test]
    fn commits_never_go_back_and_pass_each_message_once() {
        let mut t = TopicLog::new(2, 2);
        for i in 0..4 {
            t.append(i as u32 % 2, msg(i), SimTime::ZERO, true);
        }
        let mut n = 0;
        t.commit(0, 0, 2, |_| n += 1);
        t.commit(0, 0, 1, |_| n += 1);
        t.commit(0, 0, 9, |_| n += 1);
        assert_eq!(n, 2);
        assert_eq!(t.held(), 4, "group 1 has not committed");
        t.commit(1, 0, 2, |_| {});
        assert_eq!(t.held(), 2);
    }

    #[test]
    fn an_in_memory_restart_loses_what_was_held() {
        let mut t = TopicLog::new(1, 1);
        for i in 0..5 {
            t.append(0, msg(i), SimTime::ZERO, true);
        }
        t.deliver(0, 0, SimTime::MAX); // offset 0 in hand
        let mut seen = Vec::new();
        let lost = t.lose_all(|_, m, delivered| seen.push((m.id, delivered)));
        assert_eq!(lost, 4);
        assert_eq!(seen[0], (0, true));
        assert_eq!(seen.len(), 5);
        assert!(t.deliver(0, 0, SimTime::MAX).is_none());
        t.append(0, msg(9), SimTime::ZERO, true);
        assert_eq!(t.deliver(0, 0, SimTime::MAX).unwrap().0, 5, "offsets go on");
        assert_eq!(t.partition_of(42), t.partition_of(42));
    }

    #[test]
    fn retention_deletes_old_messages_and_lagging_groups_skip_them() {
        let mut t = TopicLog::new(1, 2);
        for i in 0..6 {
            t.append(0, msg(i), SimTime::from_secs(i), true);
        }
        // Group 0 processed and committed offsets 0 and 1, holds offset 2; group 1 is
        // idle.
        for _ in 0..3 {
            t.deliver(0, 0, SimTime::MAX);
        }
        t.commit(0, 0, 2, |_| {});
        assert_eq!(t.oldest(), Some(SimTime::ZERO));
        let mut seen = Vec::new();
        let r = t.expire(SimTime::from_secs(4), |g, m, d| seen.push((g, m.id, d)));
        // Offsets 0..4 go: group 0 had 2 in hand and skips 3; group 1 skips all four.
        assert_eq!((r.messages, r.undelivered), (4, 5));
        assert_eq!(
            seen,
            vec![
                (0, 2, true),
                (0, 3, false),
                (1, 0, false),
                (1, 1, false),
                (1, 2, false),
                (1, 3, false)
            ]
        );
        assert_eq!(t.held(), 2);
        assert_eq!(t.oldest(), Some(SimTime::from_secs(4)));
        assert_eq!(
            t.deliver(1, 0, SimTime::MAX).unwrap().0,
            4,
            "earliest remaining"
        );
        assert_eq!(t.lag(1), 2);
        assert_eq!(
            t.expire(SimTime::from_secs(4), |_, _, _| {}),
            Removed::default()
        );
    }

    #[test]
    fn consumers_see_replicated_messages_and_a_failover_loses_the_rest() {
        let mut t = TopicLog::new(1, 1);
        t.append(0, msg(0), SimTime::from_secs(1), false);
        t.append(0, msg(1), SimTime::from_secs(2), true);
        t.append(0, msg(2), SimTime::from_secs(3), false);
        // Replicated: what was appended before 2 s.
        assert_eq!(t.deliver(0, 0, SimTime::from_secs(2)).unwrap().0, 0);
        assert!(t.deliver(0, 0, SimTime::from_secs(2)).is_none());
        let mut seen = Vec::new();
        let r = t.truncate(SimTime::from_secs(2), |_, m, _| seen.push(m.id));
        assert_eq!((r.messages, r.unacked), (2, 1));
        assert_eq!(seen, vec![1, 2]);
        assert_eq!(
            t.append(0, msg(3), SimTime::from_secs(5), true),
            1,
            "offsets reused"
        );
        assert_eq!(t.deliver(0, 0, SimTime::MAX).unwrap().1.id, 3);
    }

    #[test]
    fn lag_in_time_is_the_age_of_the_oldest_uncommitted_message() {
        let s = SimTime::from_secs;
        let mut t = TopicLog::new(2, 1);
        assert_eq!(t.oldest_uncommitted(0), None);
        let m = |id| Msg {
            id,
            order: 0,
            seq: 0,
        };
        t.append(0, m(0), s(1), false);
        t.append(1, m(1), s(2), false);
        t.append(0, m(2), s(3), false);
        assert_eq!(t.oldest_uncommitted(0), Some(s(1)));
        assert_eq!(t.appended_at(0, 1), Some(s(3)));
        let (offset, _, _) = t.deliver(0, 0, SimTime::MAX).unwrap();
        assert_eq!(
            t.oldest_uncommitted(0),
            Some(s(1)),
            "delivered is not committed"
        );
        t.commit(0, 0, offset + 1, |_| {});
        assert_eq!(t.oldest_uncommitted(0), Some(s(2)), "partition 1's now");
        t.commit(0, 1, 1, |_| {});
        t.commit(0, 0, 2, |_| {});
        assert_eq!(t.oldest_uncommitted(0), None);
    }
}
