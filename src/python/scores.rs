//! PAR for a batch: `score_batch` (judgement texts, pair ids and sides in; numpy arrays out),
//! and the row-side reader and result dict that `decode_and_score` shares.
//!
//! The call reads its arguments with the GIL held, then releases it for the parse and the
//! reward computation, which run in a patarm thread pool. A Python callable f is applied
//! afterwards, with the GIL, only to the gaps > 0.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors;
use super::inputs::{self, slices, Sources, Utf8};
use super::interrupt;
use super::shapes::ShapeArg;
use crate::batch::{self, BatchScores, PairKey, PairwiseRewards};
use crate::par::Side;
use crate::parse::{Choice, ParseOptions};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(score_batch, m)?)?;
    Ok(())
}

/// The rows' side labels: pointwise sides, or the correct verdict of each pairwise row.
pub(super) enum RowSides {
    Pointwise(Vec<Side>),
    Pairwise(Vec<Choice>),
}

/// Reads `sides` for the scoring mode (a clear error naming the row on any other label).
pub(super) fn read_sides(labels: &[Utf8<'_>], pairwise: bool) -> PyResult<RowSides> {
    let labels = labels.iter().map(Utf8::as_str).enumerate();
    if pairwise {
        let correct = labels.map(|(row, label)| {
            Choice::from_label(label).ok_or_else(|| errors::bad_side(row, label, true))
        });
        Ok(RowSides::Pairwise(correct.collect::<PyResult<_>>()?))
    } else {
        let sides = labels.map(|(row, label)| {
            Side::from_label(label).ok_or_else(|| errors::bad_side(row, label, false))
        });
        Ok(RowSides::Pointwise(sides.collect::<PyResult<_>>()?))
    }
}

pub(super) fn scores_dict<'py>(py: Python<'py>, s: BatchScores) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("reward", PyArray1::from_vec(py, s.reward))?;
    out.set_item("par", PyArray1::from_vec(py, s.par))?;
    out.set_item("format_reward", PyArray1::from_vec(py, s.format_reward))?;
    out.set_item("score", PyArray1::from_vec(py, s.score))?;
    out.set_item("opposite_mean", PyArray1::from_vec(py, s.opposite_mean))?;
    out.set_item("error_code", PyArray1::from_vec(py, s.error_code))?;
    out.set_item("partner_found", PyArray1::from_vec(py, s.partner_found))?;
    Ok(out)
}

fn check_finite(name: &str, value: f64) -> PyResult<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(errors::not_finite(name, value))
    }
}

#[pyfunction]
#[pyo3(signature = (
    texts, pair_ids, sides, *, sources = None, f = None, pairwise = false, think_in_prompt = false,
    num_threads = None, correct_reward = 1.0, wrong_reward = 0.0, float32_safe = false,
    answer_only = false,
))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn score_batch<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    pair_ids: &Bound<'py, PyAny>,
    sides: &Bound<'py, PyAny>,
    sources: Option<&Bound<'py, PyAny>>,
    f: Option<&Bound<'py, PyAny>>,
    pairwise: bool,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    correct_reward: f64,
    wrong_reward: f64,
    float32_safe: bool,
    answer_only: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = inputs::num_threads(num_threads)?;
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    check_finite("correct_reward", correct_reward)?;
    check_finite("wrong_reward", wrong_reward)?;
    let shape = ShapeArg::read(f)?;
    let held = inputs::texts(texts, "texts")?;
    let rows = held.len();
    let ids = inputs::pair_ids(pair_ids)?;
    batch::check_len("pair_ids", ids.len(), rows)?;
    let side_labels = inputs::labels(sides, "sides")?;
    batch::check_len("sides", side_labels.len(), rows)?;
    let row_sides = read_sides(&side_labels, pairwise)?;
    let sources = Sources::read(sources, rows)?;
    let bytes = slices(&held);

    let sides = match row_sides {
        RowSides::Pointwise(sides) => sides,
        RowSides::Pairwise(correct) => {
            let rewards = PairwiseRewards {
                correct: correct_reward,
                wrong: wrong_reward,
            };
            let mut scores = interrupt::detach(py, || {
                batch::score_pairwise_with(&bytes, &correct, options, rewards, threads)
            })??;
            if float32_safe {
                scores.snap_float32();
            }
            return scores_dict(py, scores);
        }
    };
    let keys: Vec<PairKey<'_>> = ids
        .iter()
        .enumerate()
        .map(|(row, id)| PairKey {
            source: sources.get(row),
            id: id.as_key(),
        })
        .collect();
    let builtin = shape.builtin();
    let mut scores = interrupt::detach(py, || {
        batch::score_pointwise_with(&bytes, &keys, &sides, options, builtin, threads)
    })??;
    if let ShapeArg::Callable(f) = &shape {
        scores.apply_shape(|gap| ShapeArg::call(f, gap))?;
    }
    if float32_safe {
        scores.snap_float32();
    }
    scores_dict(py, scores)
}
