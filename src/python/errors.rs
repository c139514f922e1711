//! Core errors become Python exceptions here and nowhere else: caller mistakes are
//! `ValueError` / `TypeError` subclasses whose message says what was wrong and how to fix it.

// --- sampling and voting (METHOD sections 6 and 8) ---
// Every sampler and vote error is a caller mistake whose message names the fix: ValueError.

impl From<crate::sampler::SamplerError> for pyo3::PyErr {
    fn from(err: crate::sampler::SamplerError) -> Self {
        pyo3::exceptions::PyValueError::new_err(err.to_string())
    }
}

impl From<crate::vote::VoteError> for pyo3::PyErr {
    fn from(err: crate::vote::VoteError) -> Self {
        pyo3::exceptions::PyValueError::new_err(err.to_string())
    }
}
