//! The integer rule of argument reading: counts (`num_threads`, `rounds`), the samplers'
//! 64-bit integers, seeds and epochs. An int is a Python int, a numpy integer or anything with
//! `__index__`, never a bool; errors name the argument (never an OverflowError).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyType};

use super::type_name;
use crate::python::errors;

/// `numpy.bool_`, imported once (at module import: see `prepare`).
static NUMPY_BOOL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Run at import (from `inputs::prepare`), before any thread calls patarm.
pub(super) fn prepare(py: Python<'_>) -> PyResult<()> {
    NUMPY_BOOL.import(py, "numpy", "bool_")?;
    Ok(())
}

/// True for Python's bool and numpy's bool_ (both have `__index__`, but a flag is not an id).
pub(super) fn is_bool(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBool>()
        || NUMPY_BOOL
            .get(obj.py())
            .is_some_and(|numpy_bool| obj.get_type().is(numpy_bool.bind(obj.py())))
}

/// An int-like value: a Python int (bools included: callers refuse those first, with their
/// own message), a numpy integer or anything with `__index__`.
pub(super) fn is_int_like(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false)
}

/// The integer rule, for every count argument: None (the default), or an int (Python int,
/// numpy integer, anything with `__index__`; never a bool) that is not negative. A count above
/// `usize::MAX` saturates (every count caps itself: threads at the CPUs, rounds at the
/// judgements). Other types are a TypeError and a negative count a ValueError, both naming
/// `what` and the fix `expected` (never an OverflowError).
fn optional_count(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    expected: &str,
) -> PyResult<Option<usize>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if is_bool(obj) || !is_int_like(obj) {
        return Err(errors::count_not_an_int(what, &type_name(obj), expected));
    }
    match obj.extract::<i64>() {
        Ok(n) if n < 0 => Err(errors::negative_count(what, &n.to_string(), expected)),
        Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        // Outside 64 bits: a huge count saturates; a huge negative one is an error.
        Err(_) if obj.lt(0)? => Err(errors::negative_count(
            what,
            &obj.str()?.to_cow()?,
            expected,
        )),
        Err(_) => Ok(Some(usize::MAX)),
    }
}

/// `num_threads`: None or 0 for the default, else a positive count of any size
/// (`parallel::resolve_threads` caps it at the CPU count, so 2**62 or 10**30 is harmless).
pub fn num_threads(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    optional_count(
        requested,
        "num_threads",
        "a positive thread count, or None (or 0) for PATARM_NUM_THREADS / all CPUs",
    )
}

/// `rounds` of the vote functions: None for all judgements, else how many of the first
/// judgements of each response to use.
pub fn rounds(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    optional_count(
        requested,
        "rounds",
        "a positive int (use the first `rounds` judgements of each response), or None for all",
    )
}

/// An int argument: a Python int, numpy integer or anything with `__index__`, never a bool
/// (`True` is not the count 1). Anything else is a TypeError naming `what` and the value.
fn integer<'a, 'py>(obj: &'a Bound<'py, PyAny>, what: &str) -> PyResult<&'a Bound<'py, PyAny>> {
    if is_bool(obj) {
        return Err(errors::not_an_integer(what, "a bool", &short_repr(obj)));
    }
    if !is_int_like(obj) {
        return Err(errors::not_an_integer(
            what,
            &type_name(obj),
            &short_repr(obj),
        ));
    }
    Ok(obj)
}

/// `repr(obj)`, cut to 80 characters, for error messages.
fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let text = obj
        .repr()
        .and_then(|r| r.to_str().map(str::to_owned))
        .unwrap_or_else(|_| "?".to_owned());
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The samplers' integer rule: an int (see `integer`) that fits in 64 bits; a larger one is a
/// ValueError naming `what` (never an OverflowError). The callee checks the range it needs.
pub fn int64(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    integer(obj, what)?
        .extract::<i64>()
        .map_err(|_| errors::int64_out_of_range(what, &short_repr(obj)))
}

/// A seed: an int in [-2**63, 2**64); a negative one is taken modulo 2**64, as
/// torch.manual_seed does.
pub fn seed(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let obj = integer(obj, what)?;
    if let Ok(seed) = obj.extract::<u64>() {
        return Ok(seed);
    }
    match obj.extract::<i64>() {
        Ok(negative) => Ok(negative as u64), // two's complement: the value modulo 2**64
        Err(_) => Err(errors::seed_out_of_range(what, &short_repr(obj))),
    }
}

/// An epoch number: a 64-bit int >= 0.
pub fn epoch(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let epoch = int64(obj, what)?;
    u64::try_from(epoch).map_err(|_| errors::negative_epoch(what, epoch))
}
