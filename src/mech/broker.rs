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
//! what some group may still need). A broker held in memory loses the log on restart:
//! offsets go on from where they were, and cursors behind the new start jump to it.

use std::collections::VecDeque;

/// A message: its id (a producer retry appends the same id twice) and the order it
/// carries (`u32::MAX` for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    pub id: u64,
    pub order: u32,
}

#[derive(Debug, Clone, Default)]
struct Log {
    /// Offset of `msgs[0]`.
    base: u64,
    msgs: VecDeque<Msg>,
}

impl Log {
    fn end(&self) -> u64 {
        self.base + self.msgs.len() as u64
    }
    fn get(&self, offset: u64) -> Option<Msg> {
        offset
            .checked_sub(self.base)
            .and_then(|i| self.msgs.get(i as usize).copied())
    }
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

    /// Appends `msg` to partition `p`; returns its offset.
    pub fn append(&mut self, p: u32, msg: Msg) -> u64 {
        let log = &mut self.logs[p as usize];
        log.msgs.push_back(msg);
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

    /// The next message for group `g` on partition `p`, with its offset and whether it
    /// was delivered before; `None` when the group has read everything. Moves
    /// `position` past it.
    pub fn deliver(&mut self, g: usize, p: u32) -> Option<(u64, Msg, bool)> {
        let log = &self.logs[p as usize];
        let (base, end) = (log.base, log.end());
        let c = self.cursor_mut(g, p);
        // Offsets lost in a restart are skipped.
        c.position = c.position.max(base);
        if c.position >= end {
            return None;
        }
        let offset = c.position;
        c.position += 1;
        let again = offset < c.delivered;
        c.delivered = c.delivered.max(c.position);
        let msg = self.logs[p as usize]
            .get(offset)
            .expect("base <= offset < end");
        Some((offset, msg, again))
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
        }
    }

    #[test]
    fn at_least_once_replays_from_the_commit() {
        let mut t = TopicLog::new(1, 1);
        for i in 0..3 {
            t.append(0, msg(i));
        }
        let (o, m, again) = t.deliver(0, 0).unwrap();
        assert_eq!((o, m.id, again), (0, 0, false));
        t.processed(0, 0, o);
        let mut passed = Vec::new();
        t.commit(0, 0, 1, |m| passed.push(m.id));
        assert_eq!(passed, vec![0]);
        let (o, _, _) = t.deliver(0, 0).unwrap();
        assert_eq!(o, 1);
        t.rewind(0, 0); // died holding offset 1
        let (o, _, again) = t.deliver(0, 0).unwrap();
        assert_eq!((o, again), (1, true));
        assert_eq!(t.lag(0), 2);
        assert_eq!(t.held(), 2, "offset 0 is committed by every group: trimmed");
    }

    #[test]
    fn commits_never_go_back_and_pass_each_message_once() {
        let mut t = TopicLog::new(2, 2);
        for i in 0..4 {
            t.append(i as u32 % 2, msg(i));
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
            t.append(0, msg(i));
        }
        t.deliver(0, 0); // offset 0 in hand
        let mut seen = Vec::new();
        let lost = t.lose_all(|_, m, delivered| seen.push((m.id, delivered)));
        assert_eq!(lost, 4);
        assert_eq!(seen[0], (0, true));
        assert_eq!(seen.len(), 5);
        assert!(t.deliver(0, 0).is_none());
        t.append(0, msg(9));
        assert_eq!(t.deliver(0, 0).unwrap().0, 5, "offsets go on");
        assert_eq!(t.partition_of(42), t.partition_of(42));
    }
}
