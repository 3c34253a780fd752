//! The pending-event set.
//!
//! A binary min-heap keyed by `(time, seq)`, where `seq` is a per-queue insertion counter.
//! **Insertion order of equal times is preserved (FIFO)**: of two events scheduled for the same
//! instant, the one scheduled first pops first. Together with seeded random streams this makes a
//! run a pure function of its inputs.
//!
//! Cancellation is lazy: [`EventQueue::cancel`] records the key and the entry is dropped when it
//! reaches the top of the heap, so cancel is O(1) amortized and pop stays O(log n). The set of
//! cancelled keys is empty in the common case, where pop pays one branch for it.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use crate::time::SimTime;

/// Identifies a scheduled event so it can be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey(u64);

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.cmp(&self.time).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A priority queue of timed events, popped in `(time, insertion order)` order.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    cancelled: HashSet<u64>,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` pending events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(n), next_seq: 0, cancelled: HashSet::new(), now: SimTime::ZERO, popped: 0 }
    }

    /// The time of the last popped event (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events popped so far (cancelled ones excluded).
    pub fn popped(&self) -> u64 {
        self.popped
    }

    /// Number of pending entries, including cancelled ones not yet discarded.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if no entry is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `time`. Scheduling in the past is a model bug.
    ///
    /// # Panics
    /// If `time` is earlier than the current clock.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventKey {
        assert!(time >= self.now, "event scheduled in the past: at {time}, clock is {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
        EventKey(seq)
    }

    /// Cancels a pending event. Cancelling an event that already popped or was already
    /// cancelled is a no-op as long as keys are not reused (they never are).
    pub fn cancel(&mut self, key: EventKey) {
        if key.0 < self.next_seq {
            self.cancelled.insert(key.0);
        }
    }

    /// Pops the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(entry) = self.heap.pop() {
            if !self.cancelled.is_empty() && self.cancelled.remove(&entry.seq) {
                continue;
            }
            debug_assert!(entry.time >= self.now, "clock would run backwards");
            self.now = entry.time;
            self.popped += 1;
            return Some((entry.time, entry.event));
        }
        None
    }

    /// The time of the earliest live event without popping it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(top) = self.heap.peek() {
            if !self.cancelled.is_empty() && self.cancelled.contains(&top.seq) {
                let seq = top.seq;
                self.heap.pop();
                self.cancelled.remove(&seq);
                continue;
            }
            return Some(top.time);
        }
        None
    }

    /// Pops the earliest event only if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        match self.peek_time() {
            Some(t) if t <= limit => self.pop(),
            _ => None,
        }
    }

    /// Runs `handle` on every event until the queue is empty or `stop` returns true after an
    /// event. `handle` may schedule and cancel events. Returns the number of events handled.
    pub fn run<F, S>(&mut self, mut handle: F, mut stop: S) -> u64
    where
        F: FnMut(&mut Self, SimTime, E),
        S: FnMut(&Self) -> bool,
    {
        let mut n = 0;
        while let Some((t, e)) = self.pop() {
            handle(self, t, e);
            n += 1;
            if stop(self) {
                break;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;
    use proptest::prelude::*;

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        let t = SimTime::ZERO + SimDuration::from_secs(1);
        for i in 0..100 {
            q.schedule(t, i);
        }
        let got: Vec<i32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn cancelled_events_never_pop() {
        let mut q = EventQueue::new();
        let a = q.schedule(SimTime(10), 'a');
        q.schedule(SimTime(20), 'b');
        let c = q.schedule(SimTime(5), 'c');
        q.cancel(a);
        q.cancel(c);
        assert_eq!(q.peek_time(), Some(SimTime(20)));
        assert_eq!(q.pop(), Some((SimTime(20), 'b')));
        assert_eq!(q.pop(), None);
        assert_eq!(q.popped(), 1);
    }

    #[test]
    fn run_stops_on_condition_and_pop_until_respects_limit() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(1), 1u32);
        let n = q.run(
            |q, t, e| {
                if e < 10 {
                    q.schedule(t + SimDuration(1), e + 1);
                }
            },
            |q| q.now() >= SimTime(5),
        );
        assert_eq!(n, 5);
        assert_eq!(q.pop_until(SimTime(5)), None);
        assert_eq!(q.pop_until(SimTime(6)), Some((SimTime(6), 6)));
    }

    #[test]
    #[should_panic(expected = "scheduled in the past")]
    fn scheduling_in_the_past_is_a_bug() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), ());
        q.pop();
        q.schedule(SimTime(9), ());
    }

    proptest! {
        /// The clock never runs backwards and ties pop in (time, seq) order, whatever is
        /// scheduled and cancelled.
        #[test]
        fn pops_are_ordered_by_time_then_seq(ops in proptest::collection::vec((0u64..50, any::<bool>()), 1..300)) {
            let mut q = EventQueue::new();
            let mut keys = Vec::new();
            for (i, (t, cancel)) in ops.iter().enumerate() {
                let k = q.schedule(SimTime(*t), (i, *t));
                keys.push(k);
                if *cancel && i % 3 == 0 { q.cancel(k); }
            }
            let mut last: Option<(u64, usize)> = None;
            while let Some((t, (i, t0))) = q.pop() {
                prop_assert_eq!(t.0, t0);
                prop_assert!(!ops[i].1 || i % 3 != 0, "a cancelled event popped");
                if let Some(prev) = last { prop_assert!(prev < (t.0, i)); }
                last = Some((t.0, i));
            }
        }
    }
}
