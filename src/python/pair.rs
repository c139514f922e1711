//! PAR for one pair: `par_rewards` and its results `SideRewards` / `PairRewards`.
//!
//! The judgements are parsed and rewarded with the GIL released (`interrupt::detach`); a
//! Python callable f is applied afterwards, with the GIL, only to the gaps > 0.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use super::errors;
use super::inputs::{self, slices};
use super::interrupt;
use super::repr::fmt_float;
use super::shapes::ShapeArg;
use crate::batch;
use crate::par::{self, PairScores, SideScores};
use crate::parse::ParseOptions;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SideRewards>()?;
    m.add_class::<PairRewards>()?;
    m.add_function(wrap_pyfunction!(par_rewards, m)?)?;
    Ok(())
}

/// Per-judgement rewards of one side of a pair.
#[pyclass(frozen, module = "patarm._core")]
pub struct SideRewards {
    inner: SideScores,
}

#[pymethods]
impl SideRewards {
    #[new]
    #[pyo3(signature = (reward, par, format_reward, score, error_code, mean))]
    fn new(
        reward: Vec<f64>,
        par: Vec<f64>,
        format_reward: Vec<f64>,
        score: Vec<f64>,
        error_code: Vec<i8>,
        mean: Option<f64>,
    ) -> PyResult<Self> {
        let n = reward.len();
        if [
            par.len(),
            format_reward.len(),
            score.len(),
            error_code.len(),
        ]
        .iter()
        .any(|&len| len != n)
        {
            return Err(errors::side_rewards_lengths());
        }
        let gap = vec![0.0; n];
        Ok(SideRewards {
            inner: SideScores {
                score,
                error_code,
                format_reward,
                gap,
                par,
                reward,
                mean,
            },
        })
    }

    /// Total reward R = R_PAR + R_format, one per judgement.
    #[getter]
    fn reward<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.reward)
    }

    #[getter]
    fn par<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.par)
    }

    #[getter]
    fn format_reward<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.format_reward)
    }

    /// The judge's scores (NaN for a format error).
    #[getter]
    fn score<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.score)
    }

    #[getter]
    fn error_code<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i8>> {
        PyArray1::from_slice(py, &self.inner.error_code)
    }

    /// Mean of this side's valid scores (None when there are none).
    #[getter]
    fn mean(&self) -> Option<f64> {
        self.inner.mean
    }

    fn __len__(&self) -> usize {
        self.inner.reward.len()
    }

    fn __repr__(&self) -> String {
        let mean = self.inner.mean.map_or("None".to_string(), fmt_float);
        format!("SideRewards(n={}, mean={mean})", self.inner.reward.len())
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let s = &slf.get().inner;
        let args = (
            s.reward.clone(),
            s.par.clone(),
            s.format_reward.clone(),
            s.score.clone(),
            s.error_code.clone(),
            s.mean,
        );
        Ok((slf.get_type(), args.into_pyobject(slf.py())?))
    }
}

/// Rewards of both sides of one pair.
#[pyclass(frozen, module = "patarm._core")]
pub struct PairRewards {
    #[pyo3(get)]
    chosen: Py<SideRewards>,
    #[pyo3(get)]
    rejected: Py<SideRewards>,
}

#[pymethods]
impl PairRewards {
    #[new]
    fn new(chosen: Py<SideRewards>, rejected: Py<SideRewards>) -> Self {
        PairRewards { chosen, rejected }
    }

    /// Mean of the chosen side's valid scores (None when there are none).
    #[getter]
    fn chosen_mean(&self) -> Option<f64> {
        self.chosen.get().inner.mean
    }

    #[getter]
    fn rejected_mean(&self) -> Option<f64> {
        self.rejected.get().inner.mean
    }

    fn __repr__(&self) -> String {
        let (c, r) = (&self.chosen.get().inner, &self.rejected.get().inner);
        let mean = |m: Option<f64>| m.map_or("None".to_string(), fmt_float);
        format!(
            "PairRewards(chosen: n={} mean={}, rejected: n={} mean={})",
            c.reward.len(),
            mean(c.mean),
            r.reward.len(),
            mean(r.mean)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let p = slf.get();
        let py = slf.py();
        Ok((
            slf.get_type(),
            (p.chosen.clone_ref(py), p.rejected.clone_ref(py)).into_pyobject(py)?,
        ))
    }
}

#[pyfunction]
#[pyo3(signature = (chosen, rejected, *, f = None, think_in_prompt = false, num_threads = None, float32_safe = false))]
fn par_rewards(
    py: Python<'_>,
    chosen: &Bound<'_, PyAny>,
    rejected: &Bound<'_, PyAny>,
    f: Option<&Bound<'_, PyAny>>,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    float32_safe: bool,
) -> PyResult<PairRewards> {
    let threads = inputs::num_threads(num_threads)?;
    let shape = ShapeArg::read(f)?;
    let held_c = inputs::texts(chosen, "chosen")?;
    let held_r = inputs::texts(rejected, "rejected")?;
    let (bytes_c, bytes_r) = (slices(&held_c), slices(&held_r));
    let options = ParseOptions {
        pairwise: false,
        think_in_prompt,
        ..ParseOptions::default()
    };
    let builtin = shape.builtin();
    let mut scores: PairScores = interrupt::detach(py, || {
        let c = batch::parse_outcomes(&bytes_c, options, threads);
        let r = batch::parse_outcomes(&bytes_r, options, threads);
        match builtin {
            Some(shape) => par::pair_rewards(&c, &r, shape),
            None => par::pair_gaps(&c, &r),
        }
    })?;
    if let ShapeArg::Callable(f) = &shape {
        scores.apply_shape(|gap| ShapeArg::call(f, gap))?;
    }
    if float32_safe {
        scores.snap_float32();
    }
    Ok(PairRewards {
        chosen: Py::new(
            py,
            SideRewards {
                inner: scores.chosen,
            },
        )?,
        rejected: Py::new(
            py,
            SideRewards {
                inner: scores.rejected,
            },
        )?,
    })
}
