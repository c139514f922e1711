//! Python binding of `crate::decode`: `patarm._core.TokenDecoder`, a token-id decoding table
//! built from a Hugging Face tokenizer's JSON. Rows are read as a zero-copy numpy view and
//! decoded with the GIL released, in parallel.

use std::sync::Arc;

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use super::scores::{read_sides, scores_dict, RowSides};
use super::shapes::ShapeArg;
use super::{errors, inputs, interrupt};
use crate::batch::{self, BatchScores, PairKey, PairwiseRewards};
use crate::decode::TokenDecoder;

/// A byte-level BPE decoding table (see `patarm.verl.decode.FastDecoder` for the checked,
/// self-falling-back wrapper used by the reward managers).
#[pyclass(module = "patarm._core", name = "TokenDecoder", frozen)]
pub struct PyTokenDecoder {
    inner: Arc<TokenDecoder>,
}

#[pymethods]
impl PyTokenDecoder {
    /// Builds the table from `tokenizer.backend_tokenizer.to_str()`; raises ValueError when
    /// the tokenizer is not byte-level BPE.
    #[staticmethod]
    fn from_tokenizer_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        let json = json.to_owned();
        let table = py.detach(move || TokenDecoder::from_tokenizer_json(&json))?;
        Ok(Self {
            inner: Arc::new(table),
        })
    }

    /// Builds the table from each id's bytes (None for an unknown id) and the special ids.
    #[staticmethod]
    fn from_pieces(pieces: Vec<Option<Vec<u8>>>, special_ids: Vec<i64>) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(TokenDecoder::from_pieces(&pieces, &special_ids)?),
        })
    }

    /// Rebuilds a pickled table.
    #[staticmethod]
    fn _from_parts(data: Vec<u8>, ends: Vec<u32>, special: Vec<bool>) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(TokenDecoder::from_parts(data, ends, special)?),
        })
    }

    /// Number of ids in the table.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// Decodes one 1-D int64 array of ids (read in place, whatever its strides).
    #[pyo3(signature = (ids, *, skip_special_tokens = true))]
    fn decode(
        &self,
        py: Python<'_>,
        ids: PyReadonlyArray1<'_, i64>,
        skip_special_tokens: bool,
    ) -> PyResult<String> {
        refuse_broadcast("ids", ids.shape(), ids.strides())?;
        let view = ids.as_array();
        Ok(interrupt::detach(py, || {
            self.inner.decode(view.iter(), skip_special_tokens)
        })??)
    }

    /// Decodes the first `lengths[r]` ids of each row `r` of a 2-D int64 array; returns a list
    /// of str. Raises ValueError if a length is negative or wider than the array.
    #[pyo3(signature = (ids, lengths, *, skip_special_tokens = true, num_threads = None))]
    fn decode_rows(
        &self,
        py: Python<'_>,
        ids: PyReadonlyArray2<'_, i64>,
        lengths: PyReadonlyArray1<'_, i64>,
        skip_special_tokens: bool,
        num_threads: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let num_threads = inputs::num_threads(num_threads)?;
        refuse_broadcast("ids", ids.shape(), ids.strides())?;
        let ids = ids.as_array();
        let lengths = lengths.as_array().to_vec();
        let table = &self.inner;
        Ok(interrupt::detach(py, || {
            table.decode_rows(ids, &lengths, skip_special_tokens, num_threads)
        })??)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let (data, ends, special) = slf.get().inner.to_parts();
        let rebuild = slf.get_type().getattr("_from_parts")?;
        let args = (PyBytes::new(py, data), ends.to_vec(), special.to_vec());
        (rebuild, args).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "TokenDecoder(vocab_size={}, special={})",
            self.inner.vocab_size(),
            self.inner.num_special()
        )
    }
}

/// A broadcast array (stride 0 along an axis longer than 1) repeats one id without storing it:
/// decoding it would build text far larger than the array, so it is refused.
fn refuse_broadcast(what: &str, shape: &[usize], strides: &[isize]) -> PyResult<()> {
    if shape
        .iter()
        .zip(strides)
        .any(|(&len, &stride)| len > 1 && stride == 0)
    {
        return Err(errors::broadcast_ids(what, shape));
    }
    Ok(())
}

/// Decodes the response rows and scores them in one native pass (no Python strings in
/// between): the arrays of `patarm.score_batch` for the decoded texts. `f` is read as
/// `score_batch` reads it, but must be native (`patarm.Graded`, `patarm.Constant` or None for
/// the default): a Python callable is a TypeError. `float32_safe` snaps `reward` and `par` to
/// multiples of 2^-10 (docs/method.md §4).
#[pyfunction]
#[pyo3(signature = (decoder, ids, lengths, pair_ids, sides, sources, *, f = None, pairwise = false, think_in_prompt = false, num_threads = None, float32_safe = false))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn decode_and_score<'py>(
    py: Python<'py>,
    decoder: &PyTokenDecoder,
    ids: PyReadonlyArray2<'py, i64>,
    lengths: PyReadonlyArray1<'py, i64>,
    pair_ids: &Bound<'py, PyAny>,
    sides: &Bound<'py, PyAny>,
    sources: &Bound<'py, PyAny>,
    f: Option<&Bound<'py, PyAny>>,
    pairwise: bool,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'py, PyAny>>,
    float32_safe: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = inputs::num_threads(num_threads)?;
    // Read as score_batch reads f (None is the default shape). Only the built-in shapes run
    // here: a Python callable, or anything that is not an f at all, is refused.
    let shape = match (ShapeArg::read(f), f) {
        (Ok(ShapeArg::Builtin(shape)), _) => shape,
        (_, Some(f)) => return Err(errors::f_not_native(&inputs::type_name(f))),
        // f=None is read as the default shape, so this arm is only for completeness.
        (_, None) => return Err(errors::f_not_native("NoneType")),
    };
    refuse_broadcast("ids", ids.shape(), ids.strides())?;
    let ids = ids.as_array();
    let rows = ids.nrows();
    let lengths = lengths.as_array().to_vec();
    let owned_ids = inputs::pair_ids(pair_ids)?;
    let labels = inputs::labels(sides, "sides")?;
    if owned_ids.len() != rows || labels.len() != rows {
        return Err(batch::BatchError::LengthMismatch {
            what: "pair_ids/sides",
            len: owned_ids.len().min(labels.len()),
            expected: rows,
        }
        .into());
    }
    let row_sides = read_sides(&labels, pairwise)?;
    let sources = inputs::Sources::read(Some(sources), rows)?;
    let keys: Vec<PairKey<'_>> = owned_ids
        .iter()
        .enumerate()
        .map(|(row, id)| PairKey {
            source: sources.get(row),
            id: id.as_key(),
        })
        .collect();
    let table = &decoder.inner;
    let mut scores = interrupt::detach(py, || -> PyResult<BatchScores> {
        let texts = table.decode_rows(ids, &lengths, true, threads)?;
        Ok(match &row_sides {
            RowSides::Pointwise(sides) => batch::score_pointwise(
                &texts,
                &keys,
                sides,
                think_in_prompt,
                Some(&shape),
                threads,
            )?,
            RowSides::Pairwise(correct) => batch::score_pairwise(
                &texts,
                correct,
                think_in_prompt,
                PairwiseRewards::default(),
                threads,
            )?,
        })
    })??;
    if float32_safe {
        scores.snap_float32();
    }
    scores_dict(py, scores)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTokenDecoder>()?;
    m.add_function(wrap_pyfunction!(decode_and_score, m)?)?;
    Ok(())
}
