//! A job queue on a Redis list (semantics.md §5.4), as a pure state machine.
//!
//! Producers `LPUSH` jobs. Workers take them from the other end:
//! - plain (`BRPOP`): the job leaves the list when taken and lives only in the worker's
//!   hands; a worker that dies mid-job loses it (**at-most-once**);
//! - reliable (`BLMOVE queue processing`): the job moves to a processing list and is
//!   removed (`LREM`) when the worker acknowledges it; a reaper puts back any job left
//!   there longer than the visibility timeout (**at-least-once**: a slow worker's job may
//!   run twice).
//!
//! A job whose processing failed is pushed back by its worker until it has been delivered
//! `max_deliveries` times, then parked in a dead letter queue (or dropped).
//!
//! Every job carries when it last entered the list (`since`): pushed, or put back after a
//! failure or a visibility timeout. The list is in that order, so its head is the oldest
//! waiting job, whose age is the queue's first alert signal (SQS's
//! `ApproximateAgeOfOldestMessage`, the age of a Sidekiq queue's latency).
//!
//! Jobs taken are kept in slots (`handle`s) in both modes, so the caller can tell what a
//! worker held when it died. Tokens grow whenever a slot changes hands, so a stale
//! acknowledgement or reaper timer is recognised and ignored.

use crate::engine::SimTime;
use std::collections::VecDeque;

/// A job: the order it carries (or `u32::MAX`), a unique id, deliveries so far, and when
/// it last entered the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub order: u32,
    pub id: u64,
    pub deliveries: u32,
    pub since: SimTime,
}

/// A job handed to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub handle: u32,
    pub token: u32,
    pub job: Job,
}

/// What became of a job whose processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Back in the list for another delivery.
    Requeued,
    /// Delivered `max_deliveries` times: parked in the dead letter queue.
    Parked(Job),
    /// Delivered `max_deliveries` times, no dead letter queue: gone.
    Dropped(Job),
    /// The job was no longer this worker's (the reaper had re-queued it).
    Stale,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    job: Job,
    token: u32,
    live: bool,
}

/// Counts over the queue's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub enqueued: u64,
    pub delivered: u64,
    pub redelivered: u64,
    pub expired: u64,
    pub acked: u64,
    pub dlq: u64,
    pub dropped: u64,
    pub lost: u64,
    /// Waiting in the list when its store crashed, and not persisted.
    pub store_lost: u64,
    pub depth_max: u64,
}

#[derive(Debug, Clone)]
pub struct JobQueue {
    reliable: bool,
    max_deliveries: u32,
    dlq: bool,
    pending: VecDeque<Job>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    taken: usize,
    pub stats: QueueStats,
}

impl JobQueue {
    pub fn new(reliable: bool, max_deliveries: u32, dlq: bool) -> Self {
        JobQueue {
            reliable,
            max_deliveries: max_deliveries.max(1),
            dlq,
            pending: VecDeque::new(),
            slots: Vec::new(),
            free: Vec::new(),
            taken: 0,
            stats: QueueStats::default(),
        }
    }

    pub fn reliable(&self) -> bool {
        self.reliable
    }

    /// Jobs waiting in the list.
    pub fn depth(&self) -> usize {
        self.pending.len()
    }

    /// Jobs taken and not settled (in workers' hands or the processing list).
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// When the oldest job waiting entered the list, if any job waits.
    pub fn oldest(&self) -> Option<SimTime> {
        self.pending.front().map(|j| j.since)
    }

    /// `LPUSH`: a producer adds a new job at `now`.
    pub fn push(&mut self, job: Job, now: SimTime) {
        self.stats.enqueued += 1;
        self.requeue(job, now);
    }

    fn requeue(&mut self, mut job: Job, now: SimTime) {
        job.since = now;
        self.pending.push_back(job);
        self.stats.depth_max = self.stats.depth_max.max(self.pending.len() as u64);
    }

    /// `BRPOP` / `BLMOVE`: a worker takes the oldest job, if any.
    pub fn take(&mut self) -> Option<Taken> {
        let mut job = self.pending.pop_front()?;
        job.deliveries += 1;
        self.stats.delivered += 1;
        if job.deliveries > 1 {
            self.stats.redelivered += 1;
        }
        let slot = Slot {
            job,
            token: 0,
            live: true,
        };
        let handle = match self.free.pop() {
            Some(h) => {
                let token = self.slots[h as usize].token.wrapping_add(1);
                self.slots[h as usize] = Slot { token, ..slot };
                h
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.taken += 1;
        Some(Taken {
            handle,
            token: self.slots[handle as usize].token,
            job,
        })
    }

    fn settle(&mut self, handle: u32, token: u32) -> Option<Job> {
        let slot = self.slots.get_mut(handle as usize)?;
        if !slot.live || slot.token != token {
            return None;
        }
        slot.live = false;
        slot.token = slot.token.wrapping_add(1);
        self.free.push(handle);
        self.taken -= 1;
        Some(slot.job)
    }

    /// The worker processed the job (`LREM` from the processing list). False if the
    /// job had already been re-queued by the reaper (it will run again).
    pub fn ack(&mut self, handle: u32, token: u32) -> bool {
        let ok = self.settle(handle, token).is_some();
        self.stats.acked += ok as u64;
        ok
    }

    /// The worker's processing failed at `now`: deliver again, or park it.
    pub fn fail(&mut self, handle: u32, token: u32, now: SimTime) -> Failed {
        let Some(job) = self.settle(handle, token) else {
            return Failed::Stale;
        };
        if job.deliveries < self.max_deliveries {
            self.requeue(job, now);
            Failed::Requeued
        } else if self.dlq {
            self.stats.dlq += 1;
            Failed::Parked(job)
        } else {
            self.stats.dropped += 1;
            Failed::Dropped(job)
        }
    }

    /// The worker died holding the job. Plain: the job is lost with it (returned).
    /// Reliable: it stays in the processing list until the reaper puts it back.
    pub fn died(&mut self, handle: u32, token: u32) -> Option<Job> {
        if self.reliable {
            return None;
        }
        let job = self.settle(handle, token)?;
        self.stats.lost += 1;
        Some(job)
    }

    /// The store holding the list crashed: the waiting jobs with ids from `first` on
    /// were not persisted and are gone (each passed to `f`, oldest first). Jobs in
    /// workers' hands are not in the list and carry on.
    pub fn lose_pending(&mut self, first: u64, mut f: impl FnMut(Job)) -> u64 {
        let before = self.pending.len();
        self.pending.retain(|j| {
            let kept = j.id < first;
            if !kept {
                f(*j);
            }
            kept
        });
        let lost = (before - self.pending.len()) as u64;
        self.stats.store_lost += lost;
        lost
    }

    /// The job's visibility timeout: a reliable queue's reaper re-queues it if it is
    /// still in the processing list. True if it did.
    pub fn expire(&mut self, handle: u32, token: u32, now: SimTime) -> bool {
        if !self.reliable {
            return false;
        }
        let Some(job) = self.settle(handle, token) else {
            return false;
        };
        self.stats.expired += 1;
        self.requeue(job, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SimTime = SimTime::ZERO;

    fn job(id: u64) -> Job {
        Job {
            order: id as u32,
            id,
            deliveries: 0,
            since: SimTime::ZERO,
        }
    }

    #[test]
    fn plain_queue_loses_the_job_of_a_dead_worker() {
        let mut q = JobQueue::new(false, 3, true);
        q.push(job(1), T0);
        q.push(job(2), T0);
        let t = q.take().unwrap();
        assert_eq!(t.job.id, 1, "oldest first");
        assert_eq!(q.died(t.handle, t.token), Some(t.job));
        assert_eq!(q.stats.lost, 1);
        assert!(!q.expire(t.handle, t.token, T0));
        assert_eq!((q.depth(), q.taken()), (1, 0));
    }

    #[test]
    fn reliable_queue_requeues_after_the_visibility_timeout() {
        let mut q = JobQueue::new(true, 3, true);
        q.push(job(1), T0);
        let t = q.take().unwrap();
        assert_eq!(q.died(t.handle, t.token), None);
        assert_eq!(q.taken(), 1);
        assert!(q.expire(t.handle, t.token, T0));
        assert!(!q.ack(t.handle, t.token), "the old delivery's ack is stale");
        let again = q.take().unwrap();
        assert_eq!(again.job.deliveries, 2);
        assert!(!q.expire(t.handle, t.token, T0), "the old timer is stale");
        assert!(q.ack(again.handle, again.token));
        assert_eq!(q.stats.redelivered, 1);
        assert_eq!(q.stats.expired, 1);
        assert_eq!(q.stats.acked, 1);
    }

    #[test]
    fn a_store_crash_loses_the_waiting_jobs_not_persisted() {
        let mut q = JobQueue::new(false, 3, true);
        for i in 0..5 {
            q.push(job(i), SimTime::ZERO);
        }
        let t = q.take().unwrap();
        let mut gone = Vec::new();
        assert_eq!(q.lose_pending(3, |j| gone.push(j.id)), 2);
        assert_eq!(gone, vec![3, 4]);
        assert_eq!((q.depth(), q.taken(), q.stats.store_lost), (2, 1, 2));
        assert!(q.ack(t.handle, t.token), "the job in hand carries on");
        assert_eq!(q.lose_pending(0, |_| {}), 2, "no persistence: all of them");
    }

    #[test]
    fn failing_jobs_are_parked_after_max_deliveries() {
        let mut q = JobQueue::new(false, 2, true);
        q.push(job(7), T0);
        let t = q.take().unwrap();
        assert_eq!(q.fail(t.handle, t.token, T0), Failed::Requeued);
        let t = q.take().unwrap();
        assert!(matches!(q.fail(t.handle, t.token, T0), Failed::Parked(j) if j.id == 7));
        assert_eq!(q.stats.dlq, 1);
        let mut q = JobQueue::new(false, 1, false);
        q.push(job(8), T0);
        let t = q.take().unwrap();
        assert!(matches!(q.fail(t.handle, t.token, T0), Failed::Dropped(_)));
    }

    #[test]
    fn the_head_is_the_job_waiting_longest() {
        let s = SimTime::from_secs;
        let mut q = JobQueue::new(true, 3, true);
        assert_eq!(q.oldest(), None);
        q.push(job(1), s(1));
        q.push(job(2), s(2));
        let t = q.take().unwrap();
        assert_eq!((t.job.since, q.oldest()), (s(1), Some(s(2))));
        // Put back after a failure: it waits again from then, behind job 2.
        assert_eq!(q.fail(t.handle, t.token, s(5)), Failed::Requeued);
        assert_eq!(q.oldest(), Some(s(2)));
        q.take().unwrap();
        assert_eq!(q.oldest(), Some(s(5)));
    }
}
