//! Bindings for judge prompts (core: `prompt.rs`): `build_prompt(s)` and
//! `build_pairwise_prompt(s)`. Arguments are read by `prompt_args.rs`, `rubrics.rs` and
//! `template.rs`; batches are built in parallel with the GIL released.

use crate::prompt::{build_batch, Kind, PromptRow, Responses, RowContexts};
use pyo3::prelude::*;
use std::path::PathBuf;

use super::errors;
use super::inputs::{self, Place};
use super::interrupt;
use super::prompt_args::{check_length, extract_prompt, extract_response, per_row_strings};
use super::rubrics::{fixed_rubrics, source_for};
use super::template::resolve_template;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(build_prompt, m)?)?;
    m.add_function(wrap_pyfunction!(build_pairwise_prompt, m)?)?;
    m.add_function(wrap_pyfunction!(build_prompts, m)?)?;
    m.add_function(wrap_pyfunction!(build_pairwise_prompts, m)?)?;
    Ok(())
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
    let optional =
        |obj: Option<&Bound<'_, PyAny>>, what, expected| match obj.filter(|o| !o.is_none()) {
            Some(obj) => inputs::str_arg(obj, Place::arg(what), expected)?
                .to_owned_string()
                .map(Some),
            None => Ok(None),
        };
    let domain = optional(
        domain,
        "domain",
        "a str such as 'chat' (see patarm.rubric_domains()), or None for the default",
    )?;
    let task = optional(task, "task", "a str or None")?;
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
