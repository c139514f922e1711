//! The shape functions f of PAR (docs/method.md §4): `Graded` and `Constant` run in Rust; an
//! `f=` argument may also be any Python callable, applied with the GIL only to the gaps > 0.

use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use super::errors;
use super::inputs;
use super::repr::{fmt_float, fmt_floats};
use crate::shape::Shape;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Graded>()?;
    m.add_class::<Constant>()?;
    Ok(())
}

/// Graded f: `values[k]` for `thresholds[k-1] < delta <= thresholds[k]`.
#[pyclass(frozen, module = "patarm._core")]
pub struct Graded {
    /// Always `Shape::Graded` (validated by `Shape::graded`).
    shape: Shape,
}

impl Graded {
    /// (thresholds, values) of the shape.
    fn parts(&self) -> (&[f64], &[f64]) {
        match &self.shape {
            Shape::Graded {
                thresholds, values, ..
            } => (thresholds, values),
            Shape::Constant(_) => (&[], &[]),
        }
    }
}

#[pymethods]
impl Graded {
    #[new]
    #[pyo3(signature = (thresholds = vec![2.0], values = vec![1.2, 1.4]))]
    fn new(thresholds: Vec<f64>, values: Vec<f64>) -> PyResult<Self> {
        Ok(Graded {
            shape: Shape::graded(thresholds, values)?,
        })
    }

    #[getter]
    fn thresholds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.parts().0)
    }

    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.parts().1)
    }

    /// f(delta); 0.0 for delta <= 0 (no gap in the preferred direction).
    fn __call__(&self, delta: f64) -> f64 {
        self.shape.apply(delta)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Graded>()
            .is_ok_and(|o| o.get().shape == self.shape)
    }

    fn __hash__(&self) -> u64 {
        let (thresholds, values) = self.parts();
        thresholds
            .iter()
            .chain(values)
            .fold(17u64, |h, v| h.wrapping_mul(31).wrapping_add(v.to_bits()))
    }

    fn __repr__(&self) -> String {
        let (thresholds, values) = self.parts();
        format!(
            "Graded(thresholds={}, values={})",
            fmt_floats(thresholds),
            fmt_floats(values)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let (thresholds, values) = slf.get().parts();
        Ok((
            slf.get_type(),
            (thresholds, values).into_pyobject(slf.py())?,
        ))
    }
}

/// Constant f: the same value for every delta > 0.
#[pyclass(frozen, module = "patarm._core")]
pub struct Constant {
    #[pyo3(get)]
    value: f64,
}

#[pymethods]
impl Constant {
    #[new]
    #[pyo3(signature = (value = 1.3))]
    fn new(value: f64) -> PyResult<Self> {
        Shape::constant(value)?;
        Ok(Constant { value })
    }

    fn __call__(&self, delta: f64) -> f64 {
        Shape::Constant(self.value).apply(delta)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Constant>()
            .is_ok_and(|o| o.get().value == self.value)
    }

    fn __hash__(&self) -> u64 {
        self.value.to_bits()
    }

    fn __repr__(&self) -> String {
        format!("Constant({})", fmt_float(self.value))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        Ok((slf.get_type(), (slf.get().value,).into_pyobject(slf.py())?))
    }
}

/// An f argument: a built-in shape runs in Rust; any other callable runs in Python.
pub(super) enum ShapeArg<'py> {
    Builtin(Shape),
    Callable(Bound<'py, PyAny>),
}

impl<'py> ShapeArg<'py> {
    pub(super) fn read(f: Option<&Bound<'py, PyAny>>) -> PyResult<ShapeArg<'py>> {
        let Some(f) = f.filter(|f| !f.is_none()) else {
            return Ok(ShapeArg::Builtin(Shape::default()));
        };
        if let Ok(graded) = f.cast::<Graded>() {
            return Ok(ShapeArg::Builtin(graded.get().shape.clone()));
        }
        if let Ok(constant) = f.cast::<Constant>() {
            return Ok(ShapeArg::Builtin(Shape::Constant(constant.get().value)));
        }
        if f.is_callable() {
            return Ok(ShapeArg::Callable(f.clone()));
        }
        Err(errors::bad_shape(&format!(
            "a {}, which is not callable",
            inputs::type_name(f)
        )))
    }

    pub(super) fn builtin(&self) -> Option<&Shape> {
        match self {
            ShapeArg::Builtin(shape) => Some(shape),
            ShapeArg::Callable(_) => None,
        }
    }

    /// The Python f, called for one gap > 0 (must return a finite float).
    pub(super) fn call(f: &Bound<'py, PyAny>, delta: f64) -> PyResult<f64> {
        let result = f.call1((delta,))?;
        match result.extract::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(errors::bad_shape_result(
                delta,
                result.repr().map_or_else(|_| "?".into(), |r| r.to_string()),
            )),
        }
    }
}
