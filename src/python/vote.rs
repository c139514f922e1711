//! Bindings of voting (`crate::vote`): float64 / int8 numpy arrays in, numpy arrays out, with
//! the GIL released. Input coercion (lists, None, verdict strings) is python/patarm/voting.py.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use super::inputs;
use crate::vote;

type Counts<'py> = (
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// (gap, order) of exact mean voting.
type Gaps<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<i8>>);

fn counts_to_numpy(py: Python<'_>, counts: vote::MajorityCounts) -> Counts<'_> {
    let wins = counts.chosen_wins();
    (
        PyArray1::from_vec(py, wins),
        PyArray1::from_vec(py, counts.chosen_votes),
        PyArray1::from_vec(py, counts.rejected_votes),
    )
}

/// Mean of the non-NaN scores of each row of a [responses, n] array (NaN if none).
#[pyfunction]
#[pyo3(signature = (scores, rounds = None, num_threads = None))]
fn mean_vote_rows<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray2<'py, f64>,
    rounds: Option<&Bound<'_, PyAny>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let num_threads = inputs::num_threads(num_threads)?;
    let rounds = inputs::rounds(rounds)?;
    let scores = scores.as_array();
    let means = py.detach(|| vote::mean_vote(scores, rounds, num_threads))?;
    Ok(PyArray1::from_vec(py, means))
}

/// (gap, order) of exact mean voting on pairs: `gap` the nearest float of
/// mean(chosen) - mean(rejected) (NaN when a side has no valid score), `order` its exact sign
/// against `margin` (1 above, 0 equal or no gap, -1 below).
#[pyfunction]
#[pyo3(signature = (chosen_scores, rejected_scores, margin = 0.0, rounds = None, num_threads = None))]
fn mean_vote_gaps<'py>(
    py: Python<'py>,
    chosen_scores: PyReadonlyArray2<'py, f64>,
    rejected_scores: PyReadonlyArray2<'py, f64>,
    margin: f64,
    rounds: Option<&Bound<'_, PyAny>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Gaps<'py>> {
    let num_threads = inputs::num_threads(num_threads)?;
    let rounds = inputs::rounds(rounds)?;
    let (chosen, rejected) = (chosen_scores.as_array(), rejected_scores.as_array());
    let gaps = py.detach(|| vote::mean_gaps(chosen, rejected, margin, rounds, num_threads))?;
    Ok((
        PyArray1::from_vec(py, gaps.gap),
        PyArray1::from_vec(py, gaps.order),
    ))
}

/// (chosen_wins, chosen_votes, rejected_votes) of score-based majority voting.
#[pyfunction]
#[pyo3(signature = (chosen_scores, rejected_scores, rounds = None, num_threads = None))]
fn majority_vote_counts<'py>(
    py: Python<'py>,
    chosen_scores: PyReadonlyArray2<'py, f64>,
    rejected_scores: PyReadonlyArray2<'py, f64>,
    rounds: Option<&Bound<'_, PyAny>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Counts<'py>> {
    let num_threads = inputs::num_threads(num_threads)?;
    let rounds = inputs::rounds(rounds)?;
    let (chosen, rejected) = (chosen_scores.as_array(), rejected_scores.as_array());
    let counts = py.detach(|| vote::majority_vote(chosen, rejected, rounds, num_threads))?;
    Ok(counts_to_numpy(py, counts))
}

/// (chosen_wins, chosen_votes, rejected_votes) of verdict-based (pairwise) majority voting;
/// codes 0 none, 1 A, 2 B.
#[pyfunction]
#[pyo3(signature = (choices, correct, rounds = None, num_threads = None))]
fn majority_vote_verdict_counts<'py>(
    py: Python<'py>,
    choices: PyReadonlyArray2<'py, i8>,
    correct: PyReadonlyArray1<'py, i8>,
    rounds: Option<&Bound<'_, PyAny>>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Counts<'py>> {
    let num_threads = inputs::num_threads(num_threads)?;
    let rounds = inputs::rounds(rounds)?;
    let (choices, correct) = (choices.as_array(), correct.as_array());
    let counts =
        py.detach(|| vote::majority_vote_verdicts(choices, correct, rounds, num_threads))?;
    Ok(counts_to_numpy(py, counts))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The verdict labels, indexed by code (0 none, 1 A, 2 B): the one spelling Python reads.
    m.add(
        "VERDICT_LABELS",
        pyo3::types::PyTuple::new(m.py(), vote::verdict::LABELS)?,
    )?;
    m.add_function(wrap_pyfunction!(mean_vote_rows, m)?)?;
    m.add_function(wrap_pyfunction!(majority_vote_counts, m)?)?;
    m.add_function(wrap_pyfunction!(mean_vote_gaps, m)?)?;
    m.add_function(wrap_pyfunction!(majority_vote_verdict_counts, m)?)?;
    Ok(())
}
