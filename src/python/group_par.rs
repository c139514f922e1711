//! Binding of group-relative PAR (`crate::group_par`, docs/method.md §9): a float64
//! `[completions, k]` score matrix and int64 group ids in, numpy arrays out, with the GIL
//! released. A Python callable f is applied afterwards, with the GIL, to the gaps > 0.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use super::inputs;
use super::shapes::ShapeArg;
use crate::group_par;
use crate::par::snap_float32;

/// (judged, mean, gap, par) per completion.
type GroupArrays<'py> = (
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

#[pyfunction]
#[pyo3(signature = (scores, groups, *, f = None, float32_safe = false, num_threads = None))]
fn group_par_arrays<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray2<'py, f64>,
    groups: PyReadonlyArray1<'py, i64>,
    f: Option<&Bound<'py, PyAny>>,
    float32_safe: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<GroupArrays<'py>> {
    let threads = inputs::num_threads(num_threads)?;
    let shape = ShapeArg::read(f)?;
    let (scores, groups) = (scores.as_array(), groups.as_slice()?);
    let builtin = shape.builtin();
    let mut out = py.detach(|| group_par::group_par(scores, groups, builtin, threads))?;
    if let ShapeArg::Callable(f) = &shape {
        for (par, &gap) in out.par.iter_mut().zip(&out.gap) {
            if gap > 0.0 {
                *par = ShapeArg::call(f, gap)?;
            }
        }
    }
    if float32_safe {
        snap_float32(&mut out.par); // NaN (not judged) stays NaN
    }
    Ok((
        PyArray1::from_vec(py, out.judged),
        PyArray1::from_vec(py, out.mean),
        PyArray1::from_vec(py, out.gap),
        PyArray1::from_vec(py, out.par),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(group_par_arrays, m)?)
}
