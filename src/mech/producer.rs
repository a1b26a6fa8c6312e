//! A Kafka producer's send buffer (`KafkaProducer`, producer configs `buffer.memory`,
//! `max.block.ms`, `delivery.timeout.ms`, `retry.backoff.ms`), as a pure state machine.
//!
//! 1. `send` puts the record in the buffer; the sender thread delivers buffered records
//!    in order whenever the broker takes them, retrying every `retry.backoff.ms`.
//! 2. A record still undelivered `delivery.timeout.ms` after its send fails (its callback
//!    gets a `TimeoutException`): it is lost to the topic.
//! 3. When the buffer is full, `send` blocks the calling thread until a record leaves
//!    the buffer, for at most `max.block.ms`; then it throws and the record is never
//!    sent. `max.block.ms = 0` throws at once. An application that catches the exception
//!    and drops the record sheds it instead (`shed`): the request carries on.
//!
//! Simplifications: the buffer counts records (`buffer.memory` over the record size), is
//! pooled over a service's pods (a crashed pod does not lose its buffered records), and a
//! reachable broker takes every buffered record at once (no batching or throughput
//! limit). Blocked senders get room in the order they blocked.

use crate::engine::SimTime;
use crate::mech::broker::Msg;
use std::collections::VecDeque;

/// How often the sender retries an unreachable broker: Kafka's `retry.backoff.ms`,
/// default 100 ms.
pub const RETRY_BACKOFF: SimTime = SimTime::from_millis(100);

/// A sender blocked in `send`: its request (void unless `token` is still its
/// generation), the record it holds, and when `max.block.ms` runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub req: u32,
    pub token: u32,
    pub msg: Msg,
    pub until: SimTime,
}

/// What a `send` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// Nothing waits in the buffer: the caller hands the record to the broker now.
    Direct,
    /// The record waits in the buffer.
    Buffered,
    /// The buffer is full: the caller blocks (see [`Buffer::block`]).
    Full,
}

/// One producer's buffer and the senders blocked on it, with its counts.
#[derive(Debug, Clone, Default)]
pub struct Buffer {
    capacity: u32,
    records: VecDeque<(Msg, SimTime)>,
    blocked: VecDeque<Blocked>,
    /// A sender retry is scheduled.
    pub armed: bool,
    pub stats: BufferStats,
}

/// What a producer's buffer did over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BufferStats {
    /// Records that waited in the buffer (the broker could not take them at their send).
    pub buffered: u64,
    /// The most records the buffer held at once.
    pub max_held: u64,
    /// Sends that found the buffer full and blocked.
    pub blocked: u64,
    /// Blocked sends that threw after `max_block` (the request failed).
    pub block_timeouts: u64,
    /// Records dropped because the buffer was full (`on_full: Shed`).
    pub shed: u64,
    /// Buffered records that failed after `delivery_timeout`.
    pub expired: u64,
}

impl Buffer {
    pub fn new(capacity: u32) -> Self {
        Buffer {
            capacity,
            ..Buffer::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Records waiting now.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// A send at `now`: `reachable` says whether the broker would take the record now.
    /// Records go out in order, so anything already waiting makes a new one wait too.
    pub fn send(&mut self, msg: Msg, now: SimTime, reachable: bool) -> Send {
        if reachable && self.records.is_empty() {
            return Send::Direct;
        }
        if self.records.len() as u64 >= self.capacity as u64 || !self.blocked.is_empty() {
            return Send::Full;
        }
        self.push(msg, now);
        Send::Buffered
    }

    fn push(&mut self, msg: Msg, at: SimTime) {
        self.records.push_back((msg, at));
        self.stats.buffered += 1;
        self.stats.max_held = self.stats.max_held.max(self.records.len() as u64);
    }

    /// The oldest buffered record.
    pub fn front(&self) -> Option<Msg> {
        self.records.front().map(|r| r.0)
    }

    /// The oldest record was delivered.
    pub fn delivered(&mut self) {
        self.records.pop_front();
    }

    /// Removes and returns the oldest record if it was sent at or before `now -
    /// timeout` (its delivery timeout has passed).
    pub fn expire(&mut self, now: SimTime, timeout: SimTime) -> Option<Msg> {
        let (msg, at) = *self.records.front()?;
        (at.after(timeout) <= now).then(|| {
            self.records.pop_front();
            self.stats.expired += 1;
            msg
        })
    }

    /// A sender blocks until room frees or `until`.
    pub fn block(&mut self, b: Blocked) {
        self.stats.blocked += 1;
        self.blocked.push_back(b);
    }

    /// The first blocked sender that `live` accepts gets room: its record enters the
    /// buffer (sent `now`). Senders `live` rejects (their request died) are dropped.
    pub fn admit(&mut self, now: SimTime, live: impl Fn(&Blocked) -> bool) -> Option<Blocked> {
        while (self.records.len() as u64) < self.capacity as u64 {
            let b = self.blocked.pop_front()?;
            if live(&b) {
                self.push(b.msg, now);
                return Some(b);
            }
        }
        None
    }

    /// `max.block.ms` ran out for request `req`: whether it was still blocked (it
    /// throws now).
    pub fn timed_out(&mut self, req: u32, token: u32) -> bool {
        let at = self
            .blocked
            .iter()
            .position(|b| b.req == req && b.token == token);
        if let Some(i) = at {
            self.blocked.remove(i);
            self.stats.block_timeouts += 1;
        }
        at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64) -> Msg {
        Msg {
            id,
            order: 0,
            seq: 0,
        }
    }

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    /// Reachable and empty: straight to the broker; unreachable: buffered up to the
    /// capacity, then full; once something waits, even a reachable send queues behind it.
    #[test]
    fn records_wait_in_order_and_fill_the_buffer() {
        let mut b = Buffer::new(2);
        assert_eq!(b.send(msg(1), t(0), true), Send::Direct);
        assert_eq!(b.send(msg(2), t(1), false), Send::Buffered);
        assert_eq!(b.send(msg(3), t(2), true), Send::Buffered);
        assert_eq!(b.send(msg(4), t(3), true), Send::Full);
        assert_eq!(b.front(), Some(msg(2)));
        b.delivered();
        assert_eq!(b.front(), Some(msg(3)));
        assert_eq!(b.stats.buffered, 2);
        assert_eq!(b.stats.max_held, 2);
    }

    /// `delivery.timeout.ms`: a record fails exactly `timeout` after its send, oldest first.
    #[test]
    fn records_expire_at_their_delivery_timeout() {
        let mut b = Buffer::new(10);
        b.send(msg(1), t(0), false);
        b.send(msg(2), t(50), false);
        assert_eq!(b.expire(t(119_999), t(120_000)), None);
        assert_eq!(b.expire(t(120_000), t(120_000)), Some(msg(1)));
        assert_eq!(b.expire(t(120_000), t(120_000)), None);
        assert_eq!(b.expire(t(120_050), t(120_000)), Some(msg(2)));
        assert!(b.is_empty());
        assert_eq!(b.stats.expired, 2);
    }

    /// Blocked senders get room in order, dead ones are skipped, and a sender that got
    /// room no longer times out; one still waiting does.
    #[test]
    fn blocked_senders_get_room_in_order_or_time_out() {
        let mut b = Buffer::new(1);
        b.send(msg(1), t(0), false);
        let blocked = |req: u32| Blocked {
            req,
            token: 7,
            msg: msg(10 + req as u64),
            until: t(60_000),
        };
        for req in 0..3 {
            assert_eq!(b.send(msg(2), t(1), true), Send::Full);
            b.block(blocked(req));
        }
        assert_eq!(b.admit(t(2), |_| true), None, "no room yet");
        b.delivered();
        // Request 0 died meanwhile: request 1 gets the room.
        assert_eq!(b.admit(t(3), |x| x.req != 0), Some(blocked(1)));
        assert_eq!(b.front(), Some(msg(11)));
        assert!(!b.timed_out(1, 7), "admitted: it no longer waits");
        assert!(b.timed_out(2, 7));
        assert_eq!(b.stats.blocked, 3);
        assert_eq!(b.stats.block_timeouts, 1);
    }
}
