//! Per-address result cache shared by the lookup services.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::Lookup;

/// One address's entry: still being looked up, or settled for good.
enum Slot<T> {
    Pending { since: Instant },
    Settled(Option<T>),
}

/// Outcomes of lookups keyed by address, with blocking waits.
///
/// Each address is looked up at most once: [`ResultTable::claim`] tells the
/// first caller to start the lookup, and [`ResultTable::settle`] records the
/// outcome. A pending entry older than `timeout` reads as missing until it
/// settles.
pub(crate) struct ResultTable<T> {
    slots: Mutex<HashMap<IpAddr, Slot<T>>>,
    settled: Condvar,
    timeout: Duration,
}

impl<T: Clone> ResultTable<T> {
    /// An empty table whose pending lookups give up after `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        ResultTable { slots: Mutex::new(HashMap::new()), settled: Condvar::new(), timeout }
    }

    /// Marks `addr` pending if it is unknown; true when the caller must now
    /// start its lookup.
    pub(crate) fn claim(&self, addr: IpAddr) -> bool {
        let mut slots = self.lock();
        if slots.contains_key(&addr) {
            return false;
        }
        slots.insert(addr, Slot::Pending { since: Instant::now() });
        true
    }

    /// Records the outcome of `addr`'s lookup and wakes its waiters.
    pub(crate) fn settle(&self, addr: IpAddr, outcome: Option<T>) {
        self.lock().insert(addr, Slot::Settled(outcome));
        self.settled.notify_all();
    }

    /// The current state of `addr`, or `None` if it was never claimed.
    pub(crate) fn status(&self, addr: IpAddr) -> Option<Lookup<T>> {
        let now = Instant::now();
        let status = match self.lock().get(&addr)? {
            Slot::Settled(Some(value)) => Lookup::Found(value.clone()),
            Slot::Settled(None) => Lookup::Missing,
            Slot::Pending { since } if self.gives_up_at(*since).is_some_and(|t| t <= now) => Lookup::Missing,
            Slot::Pending { .. } => Lookup::Pending,
        };
        Some(status)
    }

    /// Blocks until `addr` settles, its lookup times out, or `deadline`
    /// passes; returns the value found, if any.
    pub(crate) fn wait(&self, addr: IpAddr, deadline: Instant) -> Option<T> {
        let mut slots = self.lock();
        loop {
            let give_up = match slots.get(&addr)? {
                Slot::Settled(outcome) => return outcome.clone(),
                Slot::Pending { since } => match self.gives_up_at(*since) {
                    Some(timed_out) => timed_out.min(deadline),
                    None => deadline,
                },
            };
            let now = Instant::now();
            if give_up <= now {
                return None;
            }
            slots = self.settled.wait_timeout(slots, give_up - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// When a lookup started at `since` times out (`None`: never).
    fn gives_up_at(&self, since: Instant) -> Option<Instant> {
        since.checked_add(self.timeout)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Slot<T>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn claims_each_address_once() {
        let table = ResultTable::<u8>::new(Duration::from_secs(1));
        assert_eq!(table.status(ADDR), None);
        assert!(table.claim(ADDR));
        assert!(!table.claim(ADDR));
        assert_eq!(table.status(ADDR), Some(Lookup::Pending));
        table.settle(ADDR, Some(7));
        assert!(!table.claim(ADDR));
        assert_eq!(table.status(ADDR), Some(Lookup::Found(7)));
    }

    #[test]
    fn pending_past_timeout_reads_missing_until_settled() {
        let table = ResultTable::<u8>::new(Duration::ZERO);
        table.claim(ADDR);
        assert_eq!(table.status(ADDR), Some(Lookup::Missing));
        assert_eq!(table.wait(ADDR, Instant::now() + Duration::from_secs(5)), None);
        table.settle(ADDR, Some(1));
        assert_eq!(table.status(ADDR), Some(Lookup::Found(1)));
    }

    #[test]
    fn wait_stops_at_the_deadline() {
        let table = ResultTable::<u8>::new(Duration::from_secs(60));
        table.claim(ADDR);
        let start = Instant::now();
        assert_eq!(table.wait(ADDR, start + Duration::from_millis(30)), None);
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(table.status(ADDR), Some(Lookup::Pending));
    }
}
