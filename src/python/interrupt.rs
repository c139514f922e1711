//! Native work that Ctrl-C can stop, and a NumPy C API that cannot fail mid-call.
//!
//! A batch call releases the GIL while Rust works, so Python's signal handlers cannot run until
//! it returns. [`detach`] releases the GIL like `py.detach`, but installs a check that
//! `crate::parallel::map_chunked` runs between chunks of rows: it takes the GIL and runs the
//! pending handlers (`Python::check_signals`). When a handler raises (Ctrl-C's
//! KeyboardInterrupt, or an alarm handler's exception), the work stops by unwinding with
//! `parallel::Interrupted`, and the call raises that exception.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use pyo3::prelude::*;

use crate::parallel::{self, Interrupted};

thread_local! {
    /// The exception a signal handler raised during this thread's call.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Runs pending signal handlers; true (and the exception kept) when one raised.
fn handler_raised() -> bool {
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(err) => {
            RAISED.with(|raised| *raised.borrow_mut() = Some(err));
            true
        }
    })
}

/// `py.detach(work)`, stoppable by a signal: the exception its handler raises is returned.
pub fn detach<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: Send + FnOnce() -> T,
    T: Send,
{
    let outcome = py.detach(|| {
        parallel::with_interrupt_check(handler_raised, || {
            panic::catch_unwind(AssertUnwindSafe(work))
        })
    });
    match outcome {
        Ok(value) => Ok(value),
        Err(payload) if payload.is::<Interrupted>() => Err(RAISED
            .with(|raised| raised.borrow_mut().take())
            .unwrap_or_else(super::errors::interrupted)),
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Loads NumPy's C API (and rust-numpy's borrow checker) now, at import. rust-numpy loads it on the first array it makes and
/// panics if that fails, which a signal arriving during that first load (it imports a module)
/// would cause; here a failure is an ordinary exception of `import patarm`.
pub fn load_numpy_api(py: Python<'_>) -> PyResult<()> {
    // The module that holds the capsule, as rust-numpy finds it (numpy 2 renamed `core`).
    if py.import("numpy._core.multiarray").is_err() {
        py.import("numpy.core.multiarray")?;
    }
    // A read-only view too: rust-numpy sets up its shared borrow checker on the first one, and
    // a fork while another thread does that would leave the child waiting on it forever.
    let _ = numpy::PyArrayMethods::try_readonly(&numpy::PyArray1::<f64>::zeros(py, 0, false));
    Ok(())
}
