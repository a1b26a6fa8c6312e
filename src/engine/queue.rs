//! The event queue: a 4-ary min-heap of events keyed on (time, sequence number).
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

/// Children per node: a 4-ary heap is half as deep as a binary one, and a pop's sift
/// walks every level.
const ARITY: usize = 4;
// `pop` picks the earliest of a full set of children as two pairs: written for four.
const _: () = assert!(ARITY == 4);

#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// A priority queue of events of type `E`, earliest first, FIFO among equal times.
///
/// A 4-ary min-heap of its own rather than std's `BinaryHeap`: entries are small `Copy`
/// values compared by one integer, so the holes can be plain copies with no `Ord` or
/// `Reverse` wrapping, and a pop walks the hole down to the bottom with three comparisons
/// per level (the last entry, which refills it, is nearly always among the latest).
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
    now: SimTime,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::with_capacity(1024),
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
    // Always inlined: called once or twice per event, and the call would cost more than
    // the usual one or two levels the new entry climbs.
    #[inline(always)]
    pub fn push(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        let entry = Entry { key, event };
        let mut i = self.heap.len();
        self.heap.push(entry);
        let heap = &mut self.heap[..];
        // Up while its parent is later (keys are unique: the sequence number only grows).
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if heap[parent].key < key {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = entry;
    }

    /// Removes the earliest event and advances the clock to its time.
    // Inlined into the run loop, its only caller.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        let heap = &mut self.heap[..];
        let top = match heap.first() {
            None => last,
            Some(&top) => {
                let len = heap.len();
                // The hole at the root goes down to the bottom by the earlier child...
                let mut hole = 0;
                let mut child = 1;
                while child + 3 < len {
                    // The earliest of four by comparisons added or selected, not branched
                    // on: which is earlier is a coin toss that a predictor misses often.
                    let a = child + usize::from(heap[child + 1].key < heap[child].key);
                    let b = child + 2 + usize::from(heap[child + 3].key < heap[child + 2].key);
                    let m = if heap[b].key < heap[a].key { b } else { a };
                    heap[hole] = heap[m];
                    hole = m;
                    child = ARITY * hole + 1;
                }
                if child < len {
                    let mut m = child;
                    for c in child + 1..len {
                        if heap[c].key < heap[m].key {
                            m = c;
                        }
                    }
                    heap[hole] = heap[m];
                    hole = m;
                }
                // ...and the last entry fills it, going up as far as it must.
                while hole > 0 {
                    let parent = (hole - 1) / ARITY;
                    if heap[parent].key < last.key {
                        break;
                    }
                    heap[hole] = heap[parent];
                    hole = parent;
                }
                heap[hole] = last;
                top
            }
        };
        let at = SimTime((top.key >> 64) as u64);
        self.now = at;
        Some((at, top.event))
    }

    /// Time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime((e.key >> 64) as u64))
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
    fn interleaved_pushes_and_pops_come_out_sorted_by_time_then_order() {
        // Against a sorted model: many ties, pushes between pops, the heap growing and
        // shrinking through every depth.
        let mut q = EventQueue::new();
        let mut model = std::collections::BTreeSet::new();
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut seq = 0u64;
        for round in 0..20_000u64 {
            let growing = round % 1000 < 500;
            let (pushes, pops) = if growing { (2, 1) } else { (1, 2) };
            for _ in 0..pushes {
                let at = q.now().0 + next() % 50;
                q.push(SimTime(at), seq);
                model.insert((at, seq));
                seq += 1;
            }
            for _ in 0..pops {
                let want = model.pop_first().map(|(t, s)| (SimTime(t), s));
                assert_eq!(q.pop(), want);
            }
        }
        while let Some((t, s)) = model.pop_first() {
            assert_eq!(q.pop(), Some((SimTime(t), s)));
        }
        assert!(q.pop().is_none());
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
