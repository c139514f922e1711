//! Core errors become Python exceptions here and nowhere else: caller mistakes are
//! `ValueError` / `TypeError` subclasses whose message says what was wrong and how to fix it.
use pyo3::prelude::*;

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

// --- prompts and rubrics (registered by python/prompt.rs) ----------------------------------
// Named under `patarm` (and re-exported there), so the exceptions pickle across processes.
pyo3::create_exception!(
    patarm,
    RubricError,
    pyo3::exceptions::PyValueError,
    "Rubrics could not be found or loaded: an unknown domain, or an unreadable or invalid rubric file."
);
pyo3::create_exception!(
    patarm,
    TemplateError,
    pyo3::exceptions::PyValueError,
    "A judge-prompt template is unusable: an unknown or missing slot, or an unmatched brace."
);

impl From<crate::rubrics::RubricError> for PyErr {
    fn from(err: crate::rubrics::RubricError) -> PyErr {
        RubricError::new_err(err.to_string())
    }
}

impl From<crate::prompt::TemplateError> for PyErr {
    fn from(err: crate::prompt::TemplateError) -> PyErr {
        TemplateError::new_err(err.to_string())
    }
}
// --- end prompts and rubrics ---------------------------------------------------------------
