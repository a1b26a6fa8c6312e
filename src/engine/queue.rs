//! The event queue: a min-heap of events keyed on (time, sequence number).
//!
//! Events at the same virtual time run in the order they were scheduled (FIFO ties): the
//! sequence number is a counter that only grows, so the order is total and does not depend
//! on heap internals, the platform, or the thread. That is what makes a run reproducible.
//!
//! The key is packed into one `u128` (time in the high half, sequence in the low half) so
//! that ordering two entries is a single integer comparison.
//!
//! Cancellation: a model that may want to void a scheduled event (a timeout whose call
//! answered first) keeps a token with it and the event carries a copy; a popped event whose
//! token no longer matches is void. That costs one cheap pop instead of heap surgery.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that std's max-heap pops the earliest key first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A priority queue of events of type `E`, earliest first, FIFO among equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the last event popped: the simulation clock.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. Scheduling into the past is a bug in the caller; the
    /// event is then run at `now` so that time still never goes back.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        self.heap.push(Entry { key, event });
    }

    /// Removes the earliest event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Entry { key, event } = self.heap.pop()?;
        let at = SimTime((key >> 64) as u64);
        self.now = at;
        Some((at, event))
    }

    /// Time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Number of events ever scheduled.
    pub fn scheduled(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_among_ties() {
        let mut q = EventQueue::new();
        q.push(SimTime(30), 'c');
        q.push(SimTime(10), 'a');
        q.push(SimTime(30), 'd');
        q.push(SimTime(10), 'b');
        q.push(SimTime(20), 'x');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'x', 'c', 'd']);
        assert_eq!(q.now(), SimTime(30));
    }

    #[test]
    fn clock_follows_pops() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), ());
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        q.pop();
        assert_eq!(q.now(), SimTime(5));
        assert!(q.pop().is_none());
    }
}
