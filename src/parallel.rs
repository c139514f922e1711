//! Fork-safe data parallelism for batch calls.
//!
//! Ray workers and DataLoader workers `fork()` the process. A rayon pool created before the
//! fork has no threads in the child, and the global pool would deadlock there. So patarm owns
//! its pools, tagged with the process id that built them: a child process sees a different id
//! and builds a fresh pool (the parent's pool object is leaked in the child, never joined).
//!
//! The thread count comes from an explicit argument, else `PATARM_NUM_THREADS`, else the
//! number of CPUs. One thread means the work runs serially on the calling thread.

use std::sync::{Arc, Mutex};

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

/// The one cached pool, with the process id and thread count it was built for.
struct CachedPool {
    pid: u32,
    threads: usize,
    pool: Arc<rayon::ThreadPool>,
}

fn pool_for(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static CACHE: Mutex<Option<CachedPool>> = Mutex::new(None);
    let pid = std::process::id();
    // A poisoned lock only means another call panicked while holding it; the slot is still valid.
    let mut slot = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(cached) = slot.as_ref() {
        if cached.pid != pid {
            // Forked child: the parent's worker threads do not exist here; dropping the pool
            // would wait on them. Leak it instead.
            if let Some(stale) = slot.take() {
                std::mem::forget(stale);
            }
        } else if cached.threads == threads {
            return Some(Arc::clone(&cached.pool));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("patarm-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    // Replacing a pool of another size drops it; its threads exit once calls using it finish.
    *slot = Some(CachedPool { pid, threads, pool: Arc::clone(&pool) });
    Some(pool)
}

/// Runs `work` inside a patarm thread pool of `resolve_threads(threads)` threads, so that rayon
/// parallel iterators used by `work` spread over that pool. With one thread (or if no pool can
/// be built) rayon iterators inside `work` run serially.
pub fn run<R, F>(threads: Option<usize>, work: F) -> R
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    // A one-thread pool makes rayon iterators inside `work` run in order on its single worker.
    match pool_for(resolve_threads(threads)) {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

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
        let seen = run(None, || rayon::current_num_threads());
        assert_eq!(seen, resolve_threads(None));
        let serial = run(Some(1), || rayon::current_num_threads());
        assert_eq!(serial, 1);
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let data: Vec<u64> = (0..10_000).collect();
        let one = run(Some(1), || data.par_iter().map(|x| x * x).collect::<Vec<_>>());
        let four = run(Some(4), || data.par_iter().map(|x| x * x).collect::<Vec<_>>());
        assert_eq!(one, four);
    }
}
