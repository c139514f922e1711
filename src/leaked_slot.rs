//! A lock-free slot holding a value leaked for the life of the process: the one `unsafe` of
//! the Rust core, confined here behind a safe API.
//!
//! [`crate::parallel`] caches its thread pools in such slots so that finding a pool takes no
//! lock (a lock held by another thread at a `fork()` would stay held in the child forever).
//!
//! Invariant, kept private by this module: a non-null pointer in a slot came from `Box::leak`
//! and is never freed, so a `&'static T` read from it stays valid for the life of the process.
//! A replaced value is leaked too, never freed: after a fork it belongs to the parent process,
//! whose threads do not exist in the child and must not be joined there.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Empty, or pointing to a value leaked for the life of the process.
pub struct LeakedSlot<T> {
    ptr: AtomicPtr<T>,
}

// `Sync` because the value is shared by every thread that reads the slot, `Send` because the
// thread that drops a losing value may not be the one that made it.
impl<T: Send + Sync + 'static> LeakedSlot<T> {
    pub const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The value in the slot, if any.
    pub fn get(&self) -> Option<&'static T> {
        // SAFETY: a non-null pointer came from `Box::leak` and is never freed (module invariant).
        unsafe { self.ptr.load(Ordering::Acquire).as_ref() }
    }

    /// Puts `value` in the slot in place of `current` (what [`LeakedSlot::get`] returned) and
    /// returns it; if another thread filled the slot since, `value` is dropped and the other
    /// thread's value is returned. The replaced value is leaked, never freed.
    pub fn replace(&self, current: Option<&'static T>, value: T) -> &'static T {
        let mut expected = current.map_or(ptr::null_mut(), |value| ptr::from_ref(value).cast_mut());
        let fresh = Box::into_raw(Box::new(value));
        loop {
            match self
                .ptr
                .compare_exchange(expected, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: `fresh` came from `Box::into_raw` and is now owned by the slot, never freed.
                Ok(_) => return unsafe { &*fresh },
                // Still empty: `current` was not this slot's value; try again as a first fill.
                Err(winner) if winner.is_null() => expected = winner,
                Err(winner) => {
                    // SAFETY: `fresh` was never shared, so this is its only owner; `winner` is
                    // non-null, so it came from `Box::into_raw` and is never freed.
                    drop(unsafe { Box::from_raw(fresh) });
                    return unsafe { &*winner };
                }
            }
        }
    }
}

impl<T: Send + Sync + 'static> Default for LeakedSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn the_first_value_stays_and_a_replacement_takes_its_place() {
        let slot = LeakedSlot::new();
        assert!(slot.get().is_none());
        let first = slot.replace(None, 1);
        assert_eq!(*first, 1);
        assert!(std::ptr::eq(slot.get().unwrap(), first));
        let second = slot.replace(Some(first), 2);
        assert_eq!((*first, *second, *slot.get().unwrap()), (1, 2, 2));
    }

    #[test]
    fn a_stale_replacement_loses_and_returns_the_winner() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Counted(u32);
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        let slot = LeakedSlot::new();
        let winner = slot.replace(None, Counted(1));
        // A second thread read the slot while it was empty, then lost the race.
        let got = slot.replace(None, Counted(2));
        assert!(std::ptr::eq(got, winner));
        assert_eq!(got.0, 1);
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            1,
            "the losing value is dropped, the winner kept"
        );
    }

    #[test]
    fn a_current_from_elsewhere_on_an_empty_slot_is_a_first_fill() {
        static ELSEWHERE: u32 = 5;
        let slot = LeakedSlot::new();
        let got = slot.replace(Some(&ELSEWHERE), 7);
        assert_eq!((*got, *slot.get().unwrap()), (7, 7));
    }

    #[test]
    fn racing_threads_agree_on_one_value() {
        let slot: &'static LeakedSlot<usize> = Box::leak(Box::new(LeakedSlot::new()));
        let values: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| scope.spawn(move || *slot.replace(slot.get(), i)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let last = *slot.get().unwrap();
        assert!(values.iter().all(|&v| v < 8));
        assert!(values.contains(&last));
    }
}
