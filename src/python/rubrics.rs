//! Bindings for rubrics (core: `rubrics.rs`): the `Rubrics` class, `load_rubrics`,
//! `rubric_domains`, and the `rubrics=` / `rubrics_dir=` arguments of the prompt builders.

use crate::rubrics::{RubricSource, Rubrics, DEFAULT_DOMAIN};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

use super::errors::{self, RubricError};
use super::inputs::type_name;

/// The primary rubrics of one domain (frozen; pickles; compare with ==).
#[pyclass(module = "patarm._core", name = "Rubrics", frozen, eq)]
#[derive(PartialEq)]
pub struct PyRubrics {
    pub(super) inner: Arc<Rubrics>,
}

fn criteria_to_python<'py>(py: Python<'py>, rubrics: &Rubrics) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for criterion in &rubrics.criteria {
        let bands = PyList::empty(py);
        for band in &criterion.bands {
            let entry = PyDict::new(py);
            entry.set_item("scores", band.label())?;
            entry.set_item("description", &band.description)?;
            bands.append(entry)?;
        }
        let entry = PyDict::new(py);
        entry.set_item("name", &criterion.name)?;
        entry.set_item("description", &criterion.description)?;
        entry.set_item("bands", bands)?;
        list.append(entry)?;
    }
    Ok(list)
}

#[pymethods]
impl PyRubrics {
    /// Rubrics from Python data in the rubric-file format (see rubrics/README.md).
    #[new]
    #[pyo3(signature = (domain, criteria, aliases=None, task=None, source=None))]
    fn new(
        py: Python<'_>,
        domain: &str,
        criteria: &Bound<'_, PyAny>,
        aliases: Option<Vec<String>>,
        task: Option<String>,
        source: Option<String>,
    ) -> PyResult<Self> {
        let data = PyDict::new(py);
        data.set_item("domain", domain)?;
        data.set_item("criteria", criteria)?;
        data.set_item("aliases", aliases.unwrap_or_default())?;
        if let Some(task) = task {
            data.set_item("task", task)?;
        }
        // json.dumps turns any Python mapping/sequence into the file format; the core validates it.
        let text: String = py
            .import("json")?
            .call_method1("dumps", (data,))?
            .extract()?;
        let origin = source.unwrap_or_else(|| format!("Rubrics({domain:?})"));
        Ok(PyRubrics {
            inner: Arc::new(Rubrics::from_json(&text, &origin)?),
        })
    }

    /// Rubrics from the text of a rubric file.
    #[staticmethod]
    #[pyo3(signature = (text, source="<json>"))]
    fn from_json(text: &str, source: &str) -> PyResult<Self> {
        Ok(PyRubrics {
            inner: Arc::new(Rubrics::from_json(text, source)?),
        })
    }

    /// The rubrics in the rubric-file format: a starting point for a domain of your own.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The text of the `<rubrics>` block.
    fn render(&self) -> &str {
        self.inner.render()
    }

    #[getter]
    fn domain(&self) -> &str {
        &self.inner.domain
    }

    #[getter]
    fn aliases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.inner.aliases)
    }

    /// The task description for the `<task>` block (the file's, or one derived from the domain).
    #[getter]
    fn task(&self) -> String {
        self.inner.task_description()
    }

    /// A list of {"name", "description", "bands": [{"scores", "description"}]} dicts.
    #[getter]
    fn criteria<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        criteria_to_python(py, &self.inner)
    }

    /// Where the rubrics came from: a file path, or "built-in <file>".
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }

    fn __repr__(&self) -> String {
        let names: Vec<String> = self
            .inner
            .criteria
            .iter()
            .map(|c| format!("{:?}", c.name))
            .collect();
        format!(
            "Rubrics(domain={:?}, criteria=[{}])",
            self.inner.domain,
            names.join(", ")
        )
    }

    fn __str__(&self) -> &str {
        self.inner.render()
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let inner = &slf.get().inner;
        let args = (
            inner.domain.clone(),
            criteria_to_python(py, inner)?,
            inner.aliases.clone(),
            inner.task.clone(),
            inner.source.clone(),
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

pub(super) fn source_for(rubrics_dir: Option<Vec<PathBuf>>) -> RubricSource {
    RubricSource::new(rubrics_dir.unwrap_or_default())
}

/// The caller's `rubrics=` (a Rubrics, or a domain name / file path), which wins over every
/// row's domain; None when not given.
pub(super) fn fixed_rubrics(
    source: &RubricSource,
    rubrics: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Arc<Rubrics>>> {
    let Some(obj) = rubrics.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(given) = obj.cast::<PyRubrics>() {
        return Ok(Some(Arc::clone(&given.get().inner)));
    }
    if let Ok(path) = obj.extract::<PathBuf>() {
        return Ok(Some(source.resolve(&path.to_string_lossy())?));
    }
    Err(errors::bad_rubrics_arg(&type_name(obj)))
}

/// Rubrics of a domain (any spelling or alias) or of a rubric file.
#[pyfunction]
#[pyo3(signature = (domain_or_path, *, rubrics_dir=None))]
fn load_rubrics(domain_or_path: PathBuf, rubrics_dir: Option<Vec<PathBuf>>) -> PyResult<PyRubrics> {
    let inner = source_for(rubrics_dir).resolve(&domain_or_path.to_string_lossy())?;
    Ok(PyRubrics { inner })
}

/// Every known domain: user rubric directories and the built-ins, sorted.
#[pyfunction]
#[pyo3(signature = (*, rubrics_dir=None))]
fn rubric_domains(rubrics_dir: Option<Vec<PathBuf>>) -> PyResult<Vec<String>> {
    Ok(source_for(rubrics_dir).domains()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_DOMAIN", DEFAULT_DOMAIN)?;
    m.add("RubricError", m.py().get_type::<RubricError>())?;
    m.add("RUBRICS_PATH_ENV", crate::rubrics::RUBRICS_PATH_ENV)?;
    m.add_class::<PyRubrics>()?;
    m.add_function(wrap_pyfunction!(load_rubrics, m)?)?;
    m.add_function(wrap_pyfunction!(rubric_domains, m)?)?;
    Ok(())
}
