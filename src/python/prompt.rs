//! Bindings for rubrics and judge prompts (core: `rubrics.rs`, `prompt.rs`).

use crate::prompt::{
    build_batch, Kind, PromptRow, PromptText, Responses, RowContexts, Template, Turn,
};
use crate::rubrics::{RubricSource, Rubrics, DEFAULT_DOMAIN};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

use super::errors::{self, RubricError, TemplateError};
use super::inputs::{self, type_name, Place};
use super::interrupt;

/// The primary rubrics of one domain (frozen; pickles; compare with ==).
#[pyclass(module = "patarm._core", name = "Rubrics", frozen, eq)]
#[derive(PartialEq)]
pub struct PyRubrics {
    inner: Arc<Rubrics>,
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

    /// The built-in baseline-judge template (METHOD section 6): general-purpose LLMs rate a
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

    /// The built-in template (METHOD section 2).
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

fn source_for(rubrics_dir: Option<Vec<PathBuf>>) -> RubricSource {
    RubricSource::new(rubrics_dir.unwrap_or_default())
}

/// The caller's `rubrics=` (a Rubrics, or a domain name / file path), which wins over every
/// row's domain; None when not given.
fn fixed_rubrics(
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

fn resolve_template(template: Option<&Bound<'_, PyAny>>, kind: Kind) -> PyResult<Arc<Template>> {
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

fn message_content(content: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if content.is_none() {
        return Ok(String::new());
    }
    if content.cast::<PyString>().is_ok() {
        return inputs::owned_str(content, Place::arg(&format!("{what}['content']")));
    }
    // OpenAI-style content parts: text parts are kept, other parts become a "[type]" marker.
    if content.cast::<PyList>().is_ok() || content.cast::<PyTuple>().is_ok() {
        let mut parts = Vec::new();
        for part in content.try_iter()? {
            let part = part?;
            let part = part
                .cast::<PyDict>()
                .map_err(|_| errors::bad_content_part(what))?;
            let kind: String = match part.get_item("type")? {
                Some(kind) => {
                    inputs::owned_str(&kind, Place::arg(&format!("{what} content part 'type'")))?
                }
                None => "text".to_string(),
            };
            match (kind.as_str(), part.get_item("text")?) {
                ("text", Some(text)) => parts.push(inputs::owned_str(
                    &text,
                    Place::arg(&format!("{what} content part 'text'")),
                )?),
                _ => parts.push(format!("[{kind}]")),
            }
        }
        return Ok(parts.join("\n"));
    }
    Err(errors::wrong_type(
        &format!("{what} content"),
        "a str or a list of content parts",
        &type_name(content),
    ))
}

/// A prompt: a str, or a list of chat messages {"role", "content"}.
fn extract_prompt(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PromptText> {
    if obj.cast::<PyString>().is_ok() {
        return Ok(PromptText::Plain(inputs::owned_str(obj, Place::arg(what))?));
    }
    if obj.cast::<PyList>().is_err() && obj.cast::<PyTuple>().is_err() {
        return Err(errors::wrong_type(
            what,
            "a str or a list of chat messages {'role': ..., 'content': ...}",
            &type_name(obj),
        ));
    }
    let mut turns = Vec::new();
    for (i, message) in obj.try_iter()?.enumerate() {
        let message = message?;
        let here = format!("{what}[{i}]");
        let message = message.cast::<PyDict>().map_err(|_| {
            errors::wrong_type(
                &here,
                "a dict {'role': ..., 'content': ...}",
                &type_name(&message),
            )
        })?;
        let role = match message.get_item("role")? {
            Some(role) => inputs::owned_str(&role, Place::arg(&format!("{here}['role']")))?,
            None => return Err(errors::message_without(&here, "role")),
        };
        let content = match message.get_item("content")? {
            Some(content) => message_content(&content, &here)?,
            None => return Err(errors::message_without(&here, "content")),
        };
        turns.push(Turn { role, content });
    }
    if turns.is_empty() {
        return Err(errors::empty_conversation(what));
    }
    Ok(PromptText::Conversation(turns))
}

fn extract_response(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    inputs::owned_str(obj, Place::arg(what))
}

fn check_length(what: &str, len: usize, rows: usize) -> PyResult<()> {
    if len != rows {
        return Err(errors::prompt_rows_mismatch(what, len, rows));
    }
    Ok(())
}

/// One value for all rows (a str or None), or one per row.
fn per_row_strings(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    rows: usize,
) -> PyResult<Vec<Option<String>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(vec![None; rows]);
    };
    if obj.cast::<PyString>().is_ok() {
        return Ok(vec![Some(extract_response(obj, what)?); rows]);
    }
    let items = inputs::items(obj, what)?;
    check_length(what, items.len(), rows)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if item.is_none() {
                Ok(None)
            } else {
                extract_response(item, &format!("{what}[{i}]")).map(Some)
            }
        })
        .collect()
}

#[allow(
    clippy::too_many_arguments,
    reason = "the shared body of two pyfunctions, taking their Python arguments as given"
)]
fn build_one(
    kind: Kind,
    prompt: &Bound<'_, PyAny>,
    responses: (&Bound<'_, PyAny>, Option<&Bound<'_, PyAny>>),
    domain: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    task: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
) -> PyResult<String> {
    let optional = |obj: Option<&Bound<'_, PyAny>>, what| match obj.filter(|o| !o.is_none()) {
        Some(obj) => inputs::owned_str(obj, Place::arg(what)).map(Some),
        None => Ok(None),
    };
    let domain = optional(domain, "domain")?;
    let task = optional(task, "task")?;
    let template = resolve_template(template, kind)?;
    let prompt = extract_prompt(prompt, "prompt")?;
    let source = source_for(rubrics_dir);
    let fixed = fixed_rubrics(&source, rubrics)?;
    let context = RowContexts::new(&source, fixed).get(domain.as_deref(), task.as_deref())?;
    let text = match responses {
        (one, None) => template.fill(
            &context,
            &prompt.render(),
            Responses::One(&extract_response(one, "response")?),
        ),
        (a, Some(b)) => {
            let a = extract_response(a, "response_a")?;
            let b = extract_response(b, "response_b")?;
            template.fill(&context, &prompt.render(), Responses::Two(&a, &b))
        }
    };
    Ok(text?)
}

/// The pointwise judge prompt for one response.
#[pyfunction]
#[pyo3(signature = (prompt, response, *, domain=None, rubrics=None, task=None, template=None, rubrics_dir=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn build_prompt(
    prompt: &Bound<'_, PyAny>,
    response: &Bound<'_, PyAny>,
    domain: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    task: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
) -> PyResult<String> {
    build_one(
        Kind::Pointwise,
        prompt,
        (response, None),
        domain,
        rubrics,
        task,
        template,
        rubrics_dir,
    )
}

/// The pairwise judge prompt for responses A and B.
#[pyfunction]
#[pyo3(signature = (prompt, response_a, response_b, *, domain=None, rubrics=None, task=None, template=None, rubrics_dir=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn build_pairwise_prompt(
    prompt: &Bound<'_, PyAny>,
    response_a: &Bound<'_, PyAny>,
    response_b: &Bound<'_, PyAny>,
    domain: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    task: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
) -> PyResult<String> {
    build_one(
        Kind::Pairwise,
        prompt,
        (response_a, Some(response_b)),
        domain,
        rubrics,
        task,
        template,
        rubrics_dir,
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "the shared body of two pyfunctions, taking their Python arguments as given"
)]
fn build_many(
    py: Python<'_>,
    kind: Kind,
    prompts: &Bound<'_, PyAny>,
    responses: &Bound<'_, PyAny>,
    responses_b: Option<&Bound<'_, PyAny>>,
    domains: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    tasks: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<String>> {
    let num_threads = inputs::num_threads(num_threads)?;
    let template = resolve_template(template, kind)?;
    let prompts = inputs::items(prompts, "prompts")?;
    let rows = prompts.len();
    let (name_a, name_b) = match kind {
        Kind::Pointwise => ("responses", ""),
        Kind::Pairwise => ("responses_a", "responses_b"),
    };
    let first = inputs::items(responses, name_a)?;
    check_length(name_a, first.len(), rows)?;
    let second = match responses_b {
        Some(obj) => {
            let items = inputs::items(obj, name_b)?;
            check_length(name_b, items.len(), rows)?;
            Some(items)
        }
        None => None,
    };
    // A None entry (or domains=None) takes the default domain (RowContexts).
    let domains = per_row_strings(domains, "domains", rows)?;
    let tasks = per_row_strings(tasks, "tasks", rows)?;
    let source = source_for(rubrics_dir);
    let mut contexts = RowContexts::new(&source, fixed_rubrics(&source, rubrics)?);
    let mut built = Vec::with_capacity(rows);
    for (i, prompt) in prompts.iter().enumerate() {
        let domain = domains.get(i).and_then(Option::as_deref);
        let task = tasks.get(i).and_then(Option::as_deref);
        let context = contexts
            .get(domain, task)
            .map_err(|e| errors::row_rubric_error(i, &e))?;
        let response = match first.get(i) {
            Some(obj) => extract_response(obj, &format!("{name_a}[{i}]"))?,
            None => String::new(),
        };
        let response_b = match &second {
            Some(items) => match items.get(i) {
                Some(obj) => Some(extract_response(obj, &format!("{name_b}[{i}]"))?),
                None => Some(String::new()),
            },
            None => None,
        };
        built.push(PromptRow {
            context,
            prompt: extract_prompt(prompt, &format!("prompts[{i}]"))?,
            response,
            response_b,
        });
    }
    let texts = interrupt::detach(py, || build_batch(&template, &built, num_threads))??;
    Ok(texts)
}

/// Pointwise judge prompts for a batch, built in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (prompts, responses, domains=None, *, rubrics=None, tasks=None, template=None, rubrics_dir=None, num_threads=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn build_prompts(
    py: Python<'_>,
    prompts: &Bound<'_, PyAny>,
    responses: &Bound<'_, PyAny>,
    domains: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    tasks: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<String>> {
    build_many(
        py,
        Kind::Pointwise,
        prompts,
        responses,
        None,
        domains,
        rubrics,
        tasks,
        template,
        rubrics_dir,
        num_threads,
    )
}

/// Pairwise judge prompts for a batch, built in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (prompts, responses_a, responses_b, domains=None, *, rubrics=None, tasks=None, template=None, rubrics_dir=None, num_threads=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn build_pairwise_prompts(
    py: Python<'_>,
    prompts: &Bound<'_, PyAny>,
    responses_a: &Bound<'_, PyAny>,
    responses_b: &Bound<'_, PyAny>,
    domains: Option<&Bound<'_, PyAny>>,
    rubrics: Option<&Bound<'_, PyAny>>,
    tasks: Option<&Bound<'_, PyAny>>,
    template: Option<&Bound<'_, PyAny>>,
    rubrics_dir: Option<Vec<PathBuf>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<String>> {
    build_many(
        py,
        Kind::Pairwise,
        prompts,
        responses_a,
        Some(responses_b),
        domains,
        rubrics,
        tasks,
        template,
        rubrics_dir,
        num_threads,
    )
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
    let py = m.py();
    m.add("RubricError", py.get_type::<RubricError>())?;
    m.add("TemplateError", py.get_type::<TemplateError>())?;
    m.add("RUBRICS_PATH_ENV", crate::rubrics::RUBRICS_PATH_ENV)?;
    m.add_class::<PyRubrics>()?;
    m.add_class::<PyPromptTemplate>()?;
    m.add_function(wrap_pyfunction!(load_rubrics, m)?)?;
    m.add_function(wrap_pyfunction!(rubric_domains, m)?)?;
    m.add_function(wrap_pyfunction!(build_prompt, m)?)?;
    m.add_function(wrap_pyfunction!(build_pairwise_prompt, m)?)?;
    m.add_function(wrap_pyfunction!(build_prompts, m)?)?;
    m.add_function(wrap_pyfunction!(build_pairwise_prompts, m)?)?;
    Ok(())
}
