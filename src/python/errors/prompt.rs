//! Errors of prompts and rubrics (registered by python/prompt.rs).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

// Named under `patarm` (and re-exported there), so the exceptions pickle across processes.
pyo3::create_exception!(
    patarm,
    RubricError,
    PyValueError,
    "Rubrics could not be found or loaded: an unknown domain, or an unreadable or invalid rubric file."
);
pyo3::create_exception!(
    patarm,
    TemplateError,
    PyValueError,
    "A judge-prompt template is unusable: an unknown or missing slot, or an unmatched brace."
);

impl From<crate::rubrics::RubricError> for PyErr {
    fn from(err: crate::rubrics::RubricError) -> PyErr {
        RubricError::new_err(err.to_string())
    }
}

impl From<crate::prompt::TemplateError> for PyErr {
    fn from(err: crate::prompt::TemplateError) -> PyErr {
        if let crate::prompt::TemplateError::OutOfMemory { .. } = err {
            return pyo3::exceptions::PyMemoryError::new_err(err.to_string());
        }
        TemplateError::new_err(err.to_string())
    }
}
/// `rubrics=` that is neither a Rubrics nor a domain name / path.
pub fn bad_rubrics_arg(got: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "rubrics must be a patarm.Rubrics, a domain name or a rubric file path, not {got}; \
         load one with patarm.load_rubrics(...)"
    ))
}

/// A chat message's content part that is not a dict.
pub fn bad_content_part(message: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{message} content parts must be dicts like {{'type': 'text', 'text': ...}}"
    ))
}

/// A chat message without `key` ('role' or 'content').
pub fn message_without(message: &str, key: &str) -> PyErr {
    PyValueError::new_err(format!(
        "{message} has no '{key}'; chat messages are {{'role': ..., 'content': ...}}"
    ))
}

/// A prompt given as an empty message list.
pub fn empty_conversation(what: &str) -> PyErr {
    PyValueError::new_err(format!(
        "{what} is an empty message list; give at least one message"
    ))
}

/// A per-row prompt argument whose length differs from `prompts`.
pub fn prompt_rows_mismatch(what: &str, len: usize, rows: usize) -> PyErr {
    PyValueError::new_err(format!(
        "{what} has {len} items but prompts has {rows}; give one per prompt (or a single str for all)"
    ))
}

/// A domain of row `row` whose rubrics could not be loaded.
pub fn row_rubric_error(row: usize, err: &crate::rubrics::RubricError) -> PyErr {
    RubricError::new_err(format!("domains[{row}]: {err}"))
}
