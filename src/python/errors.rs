//! Core errors become Python exceptions here and nowhere else: caller mistakes are
//! `ValueError` / `TypeError` subclasses whose message says what was wrong and how to fix it.
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

// ---- core (parsing, shapes, PAR, batches) -------------------------------------------------

impl From<crate::shape::ShapeError> for PyErr {
    fn from(error: crate::shape::ShapeError) -> PyErr {
        PyValueError::new_err(error.to_string())
    }
}

impl From<crate::batch::BatchError> for PyErr {
    fn from(error: crate::batch::BatchError) -> PyErr {
        PyValueError::new_err(error.to_string())
    }
}

/// An argument that must be a sequence got a single str/bytes (which would iterate by character).
pub fn single_string_for_sequence(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what} must be a sequence (list, tuple, numpy array) with one entry per row, not a single string; wrap it in a list"
    ))
}

/// Row `row` of `what` has the wrong type.
pub fn wrong_item_type(what: &str, row: usize, got: &str, expected: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what}[{row}] is {got}, but {what} entries must be {expected}"
    ))
}

/// A side label that the scoring mode does not accept.
pub fn bad_side(row: usize, got: &str, pairwise: bool) -> PyErr {
    let hint = if pairwise {
        if got == "chosen" || got == "rejected" {
            "; pairwise=True expects the correct verdict 'A' or 'B' per row (pass pairwise=False to score pointwise judgements)"
        } else {
            ""
        }
    } else if got == "A" || got == "B" {
        "; 'A'/'B' are pairwise verdicts: pass pairwise=True to score pairwise judgements"
    } else {
        ""
    };
    let allowed = if pairwise {
        "'A' or 'B' (the verdict naming the chosen response)"
    } else {
        "'chosen' or 'rejected'"
    };
    PyValueError::new_err(format!(
        "sides[{row}] is {got:?}, but sides must hold {allowed}{hint}"
    ))
}

/// A pair id that is neither str nor int (or an int outside 64 bits).
pub fn bad_pair_id(row: usize, got: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "pair_ids[{row}] is {got}, but pair ids must be str or int (a 64-bit integer); convert them, e.g. str(pair_id)"
    ))
}

/// `num_threads` below zero.
pub fn bad_num_threads(got: i64) -> PyErr {
    PyValueError::new_err(format!(
        "num_threads is {got}; pass a positive thread count, or None (or 0) for PATARM_NUM_THREADS / all CPUs"
    ))
}

/// `f` that is neither a built-in shape nor callable.
pub fn bad_shape(got: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "f is {got}; pass patarm.Graded(...), patarm.Constant(...) or a callable taking the gap (float > 0) and returning a float"
    ))
}

/// A user f returned something unusable.
pub fn bad_shape_result(delta: f64, got: String) -> PyErr {
    PyValueError::new_err(format!(
        "f({delta}) returned {got}; f must return a finite float"
    ))
}

// ---- end core ------------------------------------------------------------------------------
