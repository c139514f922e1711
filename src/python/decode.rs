//! Python binding of `crate::decode`: `patarm._core.TokenDecoder`, a token-id decoding table
//! built from a Hugging Face tokenizer's JSON. Rows are read as a zero-copy numpy view and
//! decoded with the GIL released, in parallel.

use std::sync::Arc;

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

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
        Ok(Self { inner: Arc::new(table) })
    }

    /// Builds the table from each id's bytes (None for an unknown id) and the special ids.
    #[staticmethod]
    fn from_pieces(pieces: Vec<Option<Vec<u8>>>, special_ids: Vec<i64>) -> PyResult<Self> {
        Ok(Self { inner: Arc::new(TokenDecoder::from_pieces(&pieces, &special_ids)?) })
    }

    /// Rebuilds a pickled table.
    #[staticmethod]
    fn _from_parts(data: Vec<u8>, ends: Vec<u32>, special: Vec<bool>) -> PyResult<Self> {
        Ok(Self { inner: Arc::new(TokenDecoder::from_parts(data, ends, special)?) })
    }

    /// Number of ids in the table.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// Decodes one 1-D int64 array of ids.
    #[pyo3(signature = (ids, *, skip_special_tokens = true))]
    fn decode(&self, py: Python<'_>, ids: PyReadonlyArray1<'_, i64>, skip_special_tokens: bool) -> String {
        let view = ids.as_array();
        match view.as_slice() {
            Some(slice) => py.detach(|| self.inner.decode(slice, skip_special_tokens)),
            None => {
                let owned = view.to_vec();
                py.detach(|| self.inner.decode(&owned, skip_special_tokens))
            }
        }
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
        num_threads: Option<usize>,
    ) -> PyResult<Vec<String>> {
        let ids = ids.as_array();
        let lengths = lengths.as_array();
        let owned_lengths;
        let lengths: &[i64] = match lengths.as_slice() {
            Some(slice) => slice,
            None => {
                owned_lengths = lengths.to_vec();
                &owned_lengths
            }
        };
        let table = &self.inner;
        Ok(py.detach(|| table.decode_rows(ids, lengths, skip_special_tokens, num_threads))?)
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTokenDecoder>()?;
    Ok(())
}
