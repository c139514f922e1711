//! Every exception the bindings raise is built here and nowhere else: core errors become
//! Python exceptions, and caller mistakes are `ValueError` / `TypeError` (or subclasses) whose
//! message says what was wrong and how to fix it.
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

mod decode;
mod prompt;

pub use prompt::*;

// --- sampling and voting (docs/method.md §6 and 8) ---
// Every sampler and vote error is a caller mistake whose message names the fix: ValueError.

/// Core errors that are all caller mistakes: each becomes `ValueError(<its message>)`.
macro_rules! value_error_from {
    ($($error:ty),+ $(,)?) => {$(
        impl From<$error> for PyErr {
            fn from(err: $error) -> PyErr {
                PyValueError::new_err(err.to_string())
            }
        }
    )+};
}

value_error_from!(crate::sampler::SamplerError, crate::vote::VoteError);

// ---- core (parsing, shapes, PAR, batches) -------------------------------------------------

value_error_from!(
    crate::shape::ShapeError,
    crate::batch::BatchError,
    crate::group_par::GroupParError
);

/// An argument that must be a sequence got a single str/bytes (which would iterate by character).
pub fn single_string_for_sequence(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what} must be a sequence (list, tuple, numpy array) with one entry per row, not a single string; wrap it in a list"
    ))
}

/// An argument that must be a sequence got a dict or set (no row order).
pub fn unordered_sequence(what: &str, got: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what} is a {got}, but it must be a sequence (list, tuple, numpy array) with one entry per row, in row order; pass list(...) of the values in the order of the rows"
    ))
}

/// A str with a lone surrogate (it has no UTF-8 form); `err` is CPython's UnicodeEncodeError.
pub fn lone_surrogate(place: &str, text: &Bound<'_, pyo3::types::PyString>, err: &PyErr) -> PyErr {
    let py = text.py();
    let index: Option<usize> = err
        .value(py)
        .getattr("start")
        .and_then(|i| i.extract())
        .ok();
    let code = index.and_then(|i| {
        let char = text.as_any().get_item(i).ok()?;
        py.import("builtins")
            .ok()?
            .getattr("ord")
            .ok()?
            .call1((char,))
            .ok()?
            .extract::<u32>()
            .ok()
    });
    let at = match (code, index) {
        (Some(code), Some(index)) => format!(" (U+{code:04X} at index {index})"),
        _ => String::new(),
    };
    PyValueError::new_err(format!(
        "{place} holds a lone surrogate{at}, which has no UTF-8 form. patarm reads every str as UTF-8 \
         and refuses such a str rather than replace the surrogate (distinct strs would become equal). \
         Fix the text where it was decoded (e.g. bytes.decode('utf-8', errors='replace'), not \
         errors='surrogateescape'), or clean it with s.encode('utf-8', 'replace').decode('utf-8')"
    ))
}

/// An argument that must be a sequence is not iterable at all.
pub fn not_a_sequence(what: &str, got: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what} is {got}, but it must be a sequence (list, tuple, numpy array) with one entry per row"
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

/// A count argument (`num_threads`, `rounds`) that is not an int.
pub fn count_not_an_int(what: &str, got: &str, expected: &str) -> PyErr {
    PyTypeError::new_err(format!("{what} is {got}; pass {expected}"))
}

/// A count argument (`num_threads`, `rounds`) below zero.
pub fn negative_count(what: &str, got: &str, expected: &str) -> PyErr {
    PyValueError::new_err(format!("{what} is {got}; pass {expected}"))
}

/// An integer argument of another type (`got`: its type, `value`: its repr).
pub fn not_an_integer(what: &str, got: &str, value: &str) -> PyErr {
    PyTypeError::new_err(format!("{what} must be an integer, got {got} ({value})"))
}

/// An integer argument outside the 64-bit range.
pub fn int64_out_of_range(what: &str, value: &str) -> PyErr {
    PyValueError::new_err(format!(
        "{what}={value} is out of range: pass a value that fits in 64 bits"
    ))
}

/// A seed outside [-2**63, 2**64).
pub fn seed_out_of_range(what: &str, value: &str) -> PyErr {
    PyValueError::new_err(format!(
        "{what}={value} is out of range: pass an integer in [-2**63, 2**64)"
    ))
}

/// A negative epoch number.
pub fn negative_epoch(what: &str, value: i64) -> PyErr {
    PyValueError::new_err(format!(
        "{what}={value} is negative: pass the epoch number (0, 1, 2, ...)"
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

/// An argument of the wrong type: "`what` must be `expected`, not `got`".
pub fn wrong_type(what: &str, expected: &str, got: &str) -> PyErr {
    PyTypeError::new_err(format!("{what} must be {expected}, not {got}"))
}

/// A float argument that must be finite.
pub fn not_finite(what: &str, value: f64) -> PyErr {
    PyValueError::new_err(format!("{what} is {value}; pass a finite float"))
}

/// A str too large to copy (allocation failed).
pub fn str_too_large(bytes: usize) -> PyErr {
    pyo3::exceptions::PyMemoryError::new_err(format!("cannot copy a str of {bytes} bytes"))
}

/// A Judgement whose fields no parse could produce; `why` says which field and how.
pub fn invalid_judgement(why: String) -> PyErr {
    PyValueError::new_err(why)
}

/// SideRewards built from columns of different lengths.
pub fn side_rewards_lengths() -> PyErr {
    PyValueError::new_err(
        "SideRewards needs reward, par, format_reward, score and error_code of equal length (one entry per judgement)",
    )
}

/// `decode_and_score`'s `f` is not one of the shapes that run natively.
pub fn f_not_native(type_name: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "f is a {type_name}; decode_and_score runs f natively: pass patarm.Graded(...), patarm.Constant(...) \
         or None (the default); for a Python callable f, decode the rows and call \
         patarm.score_batch(..., f=...)"
    ))
}

/// A broadcast token-id array (stride 0 along an axis longer than 1).
pub fn broadcast_ids(what: &str, shape: &[usize]) -> PyErr {
    PyValueError::new_err(format!(
        "{what} is a broadcast array (stride 0, shape {shape:?}): it repeats ids without storing them; \
         pass the token ids themselves (np.ascontiguousarray({what}) if the repetition is intended)"
    ))
}

// ---- end core ------------------------------------------------------------------------------

/// Work stopped by a signal whose handler raised nothing we kept: KeyboardInterrupt, as Python
/// would raise for Ctrl-C.
pub fn interrupted() -> PyErr {
    pyo3::exceptions::PyKeyboardInterrupt::new_err(())
}
