//! Fork-safe, interruptible data parallelism for batch calls.
//!
//! Ray workers and DataLoader workers `fork()` the process while other threads may be inside a
//! patarm call. A rayon pool created before the fork has no threads in the child, and a lock
//! held by another thread at the fork stays held in the child forever. So patarm owns its
//! pools and finds them without any lock: one atomic slot per thread count holds a pool tagged
//! with the process id that built it. A forked child sees a different id and installs a fresh
//! pool with a compare-and-swap (the parent's pool is leaked in the child, never joined: its
//! threads do not exist there). Nothing on this path blocks, so a child never waits on state
//! that a thread of its parent left behind.
//!
//! The thread count comes from an explicit argument, else `PATARM_NUM_THREADS`, else the
//! number of CPUs. One thread means a one-thread pool: rayon iterators run in order.
//!
//! Long maps run in chunks ([`map_chunked`]); between chunks the calling thread runs the
//! interrupt check installed by [`with_interrupt_check`] (the Python bindings check for
//! signals there), so Ctrl-C is honoured while a large batch is being processed.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::leaked_slot::LeakedSlot;

/// Environment variable that bounds the threads of every batch call (`1` turns parallelism off).
pub const NUM_THREADS_ENV: &str = "PATARM_NUM_THREADS";

/// The number of threads a batch call uses: `requested` if given and non-zero, else
/// `PATARM_NUM_THREADS` if set to a positive integer, else the available parallelism. Never
/// more than the available parallelism: the work is CPU-bound, so extra threads only cost
/// memory (and an absurd request such as 2**62 must not try to spawn that many).
pub fn resolve_threads(requested: Option<usize>) -> usize {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = requested.filter(|&n| n > 0).or_else(|| {
        std::env::var(NUM_THREADS_ENV)
            .ok()
            .and_then(|value| value.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    });
    wanted.map_or(available, |n| n.min(available))
}

/// A pool and the process that built it.
struct PoolEntry {
    pid: u32,
    pool: rayon::ThreadPool,
}

/// Thread counts up to this many get a cached pool; larger ones (only on machines with more
/// CPUs) build a pool per call.
const CACHED_THREAD_COUNTS: usize = 1024;

/// Slot `n` holds the pool of `n` threads (empty until first use). A slot's pool is replaced
/// only in a forked child, where the parent's pool must not be touched (it is leaked there).
static POOLS: [LeakedSlot<PoolEntry>; CACHED_THREAD_COUNTS] =
    [const { LeakedSlot::new() }; CACHED_THREAD_COUNTS];

/// A pool to run on: a cached one, or one built for this call only.
enum Pool {
    Cached(&'static rayon::ThreadPool),
    Owned(rayon::ThreadPool),
}

impl std::ops::Deref for Pool {
    type Target = rayon::ThreadPool;
    fn deref(&self) -> &rayon::ThreadPool {
        match self {
            Pool::Cached(pool) => pool,
            Pool::Owned(pool) => pool,
        }
    }
}

fn build_pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("patarm-{i}"))
        .build()
        .ok()
}

/// The pool of `threads` threads for this process, without taking any lock.
fn pool_for(threads: usize) -> Option<Pool> {
    let Some(slot) = POOLS.get(threads) else {
        return build_pool(threads).map(Pool::Owned);
    };
    let pid = std::process::id();
    let current = slot.get();
    if let Some(entry) = current {
        if entry.pid == pid {
            return Some(Pool::Cached(&entry.pool));
        }
    }
    // Empty slot, or a pool of the parent process (we are a forked child): install ours. If
    // another thread of this process installs one first, that one is used.
    let entry = slot.replace(
        current,
        PoolEntry {
            pid,
            pool: build_pool(threads)?,
        },
    );
    Some(Pool::Cached(&entry.pool))
}

/// Runs `work` inside a patarm thread pool of `resolve_threads(threads)` threads, so that rayon
/// parallel iterators used by `work` spread over that pool. If no pool can be built, rayon
/// iterators inside `work` run serially.
pub fn run<R, F>(threads: Option<usize>, work: F) -> R
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    match pool_for(resolve_threads(threads)) {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Initialises, on this thread, what the first parallel call would initialise lazily (the
/// one-thread pool, and the work-stealing queues' global state behind a one-time lock). Call
/// it before other threads exist: a fork while another thread runs a one-time initialisation
/// would leave the child waiting on it forever.
pub fn warm_up() {
    let data = [0u8; 64];
    let _ = map_chunked(Some(1), &data, |_| 0, |_, &x| x);
    // The epoch collector behind rayon's work-stealing queues is built on the first steal, in
    // a pool thread of the first multi-thread call; a one-thread pool never steals.
    drop(crossbeam_epoch::pin());
}

// ---- interruption --------------------------------------------------------------------------

/// The unwind payload of an interrupted [`map_chunked`]: caught by whoever installed the check
/// with [`with_interrupt_check`] (it never crosses a thread or reaches the panic hook).
#[derive(Debug)]
pub struct Interrupted;

/// How often the interrupt check may run (the check takes the GIL, so not after every chunk).
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// The work of one chunk, per thread of the pool: small enough that a check comes every few
/// milliseconds, large enough that handing a chunk to the pool costs under 1%.
const CHUNK_COST_PER_THREAD: usize = 4 << 20;

/// Fixed cost of a row, on top of its bytes.
const ROW_COST: usize = 256;

thread_local! {
    /// The interrupt check of the call running on this thread, if any.
    static INTERRUPT_CHECK: Cell<Option<fn() -> bool>> = const { Cell::new(None) };
}

/// Runs `work` on this thread with `check` as its interrupt check: [`map_chunked`] calls it
/// between chunks (at most every 50 ms) and, when it returns true, stops by unwinding with an
/// [`Interrupted`] payload; catch it with `std::panic::catch_unwind` around this call.
pub fn with_interrupt_check<R>(check: fn() -> bool, work: impl FnOnce() -> R) -> R {
    struct Restore(Option<fn() -> bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            INTERRUPT_CHECK.with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(INTERRUPT_CHECK.with(|cell| cell.replace(Some(check))));
    work()
}

/// `f(row, item)` for every item, in order, in a patarm pool of `threads` threads. The rows go
/// to the pool in chunks of about `CHUNK_COST_PER_THREAD` per thread (`cost` estimates an
/// item's work, e.g. its length in bytes); between chunks the calling thread runs its
/// interrupt check, if one is installed.
pub fn map_chunked<T, U>(
    threads: Option<usize>,
    items: &[T],
    cost: impl Fn(&T) -> usize,
    f: impl Fn(usize, &T) -> U + Sync + Send,
) -> Vec<U>
where
    T: Sync,
    U: Send,
{
    let threads = resolve_threads(threads);
    let pool = pool_for(threads);
    let budget = CHUNK_COST_PER_THREAD.saturating_mul(threads);
    let check = INTERRUPT_CHECK.with(Cell::get);
    let mut last_check = Instant::now();
    let mut out = Vec::with_capacity(items.len());
    let mut start = 0;
    while start < items.len() {
        let mut end = start;
        let mut spent = 0usize;
        while end < items.len() && spent < budget {
            spent = spent.saturating_add(cost(&items[end]).saturating_add(ROW_COST));
            end += 1;
        }
        let chunk = items[start..end].par_iter().enumerate().with_min_len(16);
        let offset = start;
        let fill = |out: &mut Vec<U>| out.par_extend(chunk.map(|(i, item)| f(offset + i, item)));
        match &pool {
            Some(pool) => pool.install(|| fill(&mut out)),
            None => fill(&mut out),
        }
        start = end;
        if let Some(check) = check {
            if start < items.len() && last_check.elapsed() >= CHECK_EVERY {
                if check() {
                    std::panic::resume_unwind(Box::new(Interrupted));
                }
                last_check = Instant::now();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_request_wins_up_to_the_cpu_count() {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(resolve_threads(Some(1)), 1);
        assert_eq!(resolve_threads(Some(available)), available);
        assert_eq!(resolve_threads(Some(usize::MAX)), available);
    }

    #[test]
    fn zero_means_default() {
        assert!(resolve_threads(Some(0)) >= 1);
    }

    #[test]
    fn pool_runs_parallel_iterators_with_its_thread_count() {
        let seen = run(None, rayon::current_num_threads);
        assert_eq!(seen, resolve_threads(None));
        let serial = run(Some(1), rayon::current_num_threads);
        assert_eq!(serial, 1);
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let data: Vec<u64> = (0..10_000).collect();
        let one = run(Some(1), || {
            data.par_iter().map(|x| x * x).collect::<Vec<_>>()
        });
        let four = run(Some(4), || {
            data.par_iter().map(|x| x * x).collect::<Vec<_>>()
        });
        assert_eq!(one, four);
    }

    #[test]
    fn chunked_map_keeps_row_order_across_chunks() {
        // A cost of 1 MiB per row gives chunks of a few rows: many chunk boundaries.
        let data: Vec<u64> = (0..1_000).collect();
        let out = map_chunked(Some(2), &data, |_| 1 << 20, |row, x| (row as u64, x * 3));
        let expected: Vec<(u64, u64)> = data.iter().map(|&x| (x, x * 3)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn pools_are_cached_per_thread_count() {
        let (Some(Pool::Cached(a)), Some(Pool::Cached(b))) = (pool_for(1), pool_for(1)) else {
            panic!("one-thread pools must be cached");
        };
        assert!(std::ptr::eq(a, b));
        let Some(Pool::Cached(two)) = pool_for(2) else {
            panic!("two-thread pool not cached")
        };
        assert!(!std::ptr::eq(a, two));
        assert_eq!(two.current_num_threads(), 2);
    }

    #[test]
    fn an_interrupt_check_stops_a_long_map_between_chunks() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let done = AtomicUsize::new(0);
        let rows: Vec<u32> = (0..10_000).collect();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_interrupt_check(
                || true,
                || {
                    map_chunked(
                        Some(1),
                        &rows,
                        |_| usize::MAX,
                        |_, _| {
                            std::thread::sleep(Duration::from_millis(1));
                            done.fetch_add(1, Ordering::Relaxed);
                        },
                    )
                },
            )
        }));
        let payload = outcome.expect_err("the check asked to stop");
        assert!(payload.is::<Interrupted>());
        // The first check comes after 50 ms: about 50 one-row chunks, far from all 10,000.
        let finished = done.load(Ordering::Relaxed);
        assert!((1..1_000).contains(&finished), "{finished} rows ran");
        // The check is uninstalled afterwards: the same map now runs to the end.
        assert_eq!(
            map_chunked(Some(1), &rows[..10], |_| 0, |_, &x| x).len(),
            10
        );
    }

    #[test]
    fn no_check_means_no_interruption() {
        let rows: Vec<u32> = (0..100).collect();
        let out = with_interrupt_check(
            || false,
            || map_chunked(Some(2), &rows, |_| 1 << 30, |_, &x| x + 1),
        );
        assert_eq!(out, (1..=100).collect::<Vec<_>>());
    }
}
