//! Bindings for parsing judgements: `parse_judgement` (one text, a Judgement) and
//! `parse_judgements` (a batch, numpy arrays, parsed in parallel with the GIL released).

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::inputs::{self, slices};
use super::interrupt;
use super::judgement::Judgement;
use crate::batch;
use crate::parse::{self, Choice, ParseOptions, ERROR_KINDS};
use crate::vote::verdict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ERROR_KINDS", PyTuple::new(m.py(), ERROR_KINDS)?)?;
    m.add_class::<Judgement>()?;
    m.add_function(wrap_pyfunction!(parse_judgement, m)?)?;
    m.add_function(wrap_pyfunction!(parse_judgements, m)?)?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (text, *, pairwise = false, think_in_prompt = false, answer_only = false))]
fn parse_judgement(
    text: &Bound<'_, PyAny>,
    pairwise: bool,
    think_in_prompt: bool,
    answer_only: bool,
) -> PyResult<Judgement> {
    let held = inputs::text(text, "text")?;
    let text = held.as_str();
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    Ok(Judgement::from_parse(&parse::parse(text, options)))
}

/// Batch parse: `score` (NaN when invalid), `format_reward`, `error_code`, and for pairwise
/// `choice_code` (0 none, 1 "A", 2 "B": the verdict codes `majority_vote_verdict_counts` reads).
#[pyfunction]
#[pyo3(signature = (texts, *, pairwise = false, think_in_prompt = false, num_threads = None, answer_only = false))]
fn parse_judgements<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    pairwise: bool,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    answer_only: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = inputs::num_threads(num_threads)?;
    let held = inputs::texts(texts, "texts")?;
    let bytes = slices(&held);
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    let outcomes = interrupt::detach(py, || batch::parse_outcomes(&bytes, options, threads))?;
    let out = PyDict::new(py);
    let score: Vec<f64> = outcomes.iter().map(parse::Outcome::score_or_nan).collect();
    let format_reward: Vec<f64> = outcomes.iter().map(parse::Outcome::format_reward).collect();
    let error_code: Vec<i8> = outcomes
        .iter()
        .map(|o| parse::error_code(o.error))
        .collect();
    out.set_item("score", PyArray1::from_vec(py, score))?;
    out.set_item("format_reward", PyArray1::from_vec(py, format_reward))?;
    out.set_item("error_code", PyArray1::from_vec(py, error_code))?;
    if pairwise {
        let codes: Vec<i8> = outcomes
            .iter()
            .map(|o| match o.choice {
                None => verdict::NONE,
                Some(Choice::A) => verdict::A,
                Some(Choice::B) => verdict::B,
            })
            .collect();
        out.set_item("choice_code", PyArray1::from_vec(py, codes))?;
    }
    Ok(out)
}
