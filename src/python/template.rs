//! Bindings for judge-prompt templates (core: `prompt.rs`): the `PromptTemplate` class and the
//! `template=` argument of the prompt builders.

use crate::prompt::{Kind, Template};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use std::sync::Arc;

use super::errors::{self, TemplateError};
use super::inputs::{self, type_name, Place};

/// A judge-prompt template with named slots; pointwise or pairwise by the slots it uses.
#[pyclass(module = "patarm._core", name = "PromptTemplate", frozen, eq)]
#[derive(PartialEq)]
pub struct PyPromptTemplate {
    inner: Arc<Template>,
}

#[pymethods]
impl PyPromptTemplate {
    /// `answer_only=True` marks a baseline-judge template: its judgements are parsed
    /// answer-only (a 1-10 verdict in `<answer>`), and it may leave out `{rubrics}`.
    #[new]
    #[pyo3(signature = (text, answer_only=false))]
    fn new(text: &str, answer_only: bool) -> PyResult<Self> {
        Ok(PyPromptTemplate {
            inner: Arc::new(Template::parse_with(text, answer_only)?),
        })
    }

    /// The built-in baseline-judge template (docs/method.md §6): general-purpose LLMs rate a
    /// response 1 to 10 in `<answer>`; judgements are parsed answer-only.
    #[staticmethod]
    fn baseline() -> Self {
        PyPromptTemplate {
            inner: Arc::clone(Template::baseline()),
        }
    }

    /// Judgements for this template are parsed answer-only (baseline judges).
    #[getter]
    fn answer_only(&self) -> bool {
        self.inner.answer_only()
    }

    /// The built-in template (docs/method.md §2).
    #[staticmethod]
    #[pyo3(signature = (pairwise=false))]
    fn default(pairwise: bool) -> Self {
        let kind = if pairwise {
            Kind::Pairwise
        } else {
            Kind::Pointwise
        };
        PyPromptTemplate {
            inner: Arc::clone(Template::shared_default(kind)),
        }
    }

    #[getter]
    fn text(&self) -> &str {
        self.inner.text()
    }

    #[getter]
    fn pairwise(&self) -> bool {
        self.inner.kind() == Kind::Pairwise
    }

    /// The slot names the template uses, in order of first use.
    #[getter]
    fn slots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.slots().iter().map(|s| s.name()))
    }

    fn __repr__(&self) -> String {
        let slots: Vec<&str> = self.inner.slots().iter().map(|s| s.name()).collect();
        format!(
            "PromptTemplate({}{}, slots=[{}], {} chars)",
            self.inner.kind().name(),
            if self.inner.answer_only() {
                ", answer-only"
            } else {
                ""
            },
            slots.join(", "),
            self.inner.text().chars().count()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let inner = &slf.get().inner;
        let args = (inner.text().to_string(), inner.answer_only());
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

pub(super) fn resolve_template(
    template: Option<&Bound<'_, PyAny>>,
    kind: Kind,
) -> PyResult<Arc<Template>> {
    let template = match template {
        None => return Ok(Arc::clone(Template::shared_default(kind))),
        Some(obj) => {
            if let Ok(given) = obj.cast::<PyPromptTemplate>() {
                Arc::clone(&given.get().inner)
            } else if obj.cast::<PyString>().is_ok() {
                Arc::new(Template::parse(
                    inputs::str_arg(obj, Place::arg("template"), "a str")?.as_str(),
                )?)
            } else {
                return Err(errors::wrong_type(
                    "template",
                    "a str or a patarm.PromptTemplate",
                    &type_name(obj),
                ));
            }
        }
    };
    if template.kind() != kind {
        return Err(crate::prompt::TemplateError::WrongKind {
            found: template.kind(),
            wanted: kind,
        }
        .into());
    }
    Ok(template)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("TemplateError", m.py().get_type::<TemplateError>())?;
    m.add_class::<PyPromptTemplate>()?;
    Ok(())
}
