//! Reading batch arguments from Python: texts as UTF-8 bytes that Rust can scan with the GIL
//! released, pair ids, sources and side labels, with errors that name the row.

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};

use super::errors;
use crate::batch::PairId;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "an object".to_string(), |n| n.to_string())
}

/// The items of a sequence argument; a lone str/bytes is refused (it would iterate by char).
pub fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(errors::single_string_for_sequence(what));
    }
    let iterator = obj.try_iter().map_err(|_| {
        errors::wrong_item_type(what, 0, &format!("not a sequence but {}", type_name(obj)), "given as a list")
    })?;
    iterator.collect()
}

/// The UTF-8 bytes of one str: CPython encodes into a bytes object that we keep alive (one
/// copy, no validation pass); lone surrogates, which cannot be UTF-8, are replaced.
pub enum Utf8<'py> {
    Encoded(Bound<'py, PyBytes>),
    Replaced(String),
}

impl Utf8<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Utf8::Encoded(bytes) => bytes.as_bytes(),
            Utf8::Replaced(text) => text.as_bytes(),
        }
    }

    /// As `&str`: both forms are valid UTF-8 by construction.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes())
    }
}

pub fn utf8<'py>(text: &Bound<'py, PyString>) -> Utf8<'py> {
    match text.encode_utf8() {
        Ok(bytes) => Utf8::Encoded(bytes),
        Err(_) => Utf8::Replaced(text.to_string_lossy().into_owned()),
    }
}

/// One str argument (e.g. `parse_judgement(text)`).
pub fn text<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Utf8<'py>> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(utf8(s)),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{what} is {}, but it must be a str (the decoded judgement text)",
            type_name(obj)
        ))),
    }
}

/// Every row of `texts` as UTF-8 (a non-str row is a TypeError naming the row).
pub fn texts<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Utf8<'py>>> {
    items(obj, what)?
        .iter()
        .enumerate()
        .map(|(row, item)| match item.cast::<PyString>() {
            Ok(s) => Ok(utf8(s)),
            Err(_) => Err(errors::wrong_item_type(what, row, &type_name(item), "str (decoded judgement texts)")),
        })
        .collect()
}

/// Labels such as sides and sources, as owned strings.
pub fn labels(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    items(obj, what)?
        .iter()
        .enumerate()
        .map(|(row, item)| match item.cast::<PyString>() {
            Ok(s) => Ok(s.to_string_lossy().into_owned()),
            Err(_) => Err(errors::wrong_item_type(what, row, &type_name(item), "str")),
        })
        .collect()
}

/// A pair id as read from Python, owning its string.
pub enum OwnedPairId {
    Int(i64),
    Str(String),
}

impl OwnedPairId {
    pub fn as_key(&self) -> PairId<'_> {
        match self {
            OwnedPairId::Int(id) => PairId::Int(*id),
            OwnedPairId::Str(id) => PairId::Str(id),
        }
    }
}

/// Pair ids: str or int (Python int, numpy integer, anything with `__index__`).
pub fn pair_ids(obj: &Bound<'_, PyAny>) -> PyResult<Vec<OwnedPairId>> {
    items(obj, "pair_ids")?
        .iter()
        .enumerate()
        .map(|(row, item)| {
            if let Ok(s) = item.cast::<PyString>() {
                return Ok(OwnedPairId::Str(s.to_string_lossy().into_owned()));
            }
            let is_integer = item.is_instance_of::<PyInt>() || item.hasattr("__index__").unwrap_or(false);
            if !is_integer {
                return Err(errors::bad_pair_id(row, &type_name(item)));
            }
            item.extract::<i64>()
                .map(OwnedPairId::Int)
                .map_err(|_| errors::bad_pair_id(row, "an int outside the 64-bit range"))
        })
        .collect()
}

/// `sources`: None (one unnamed source), one str for all rows, or one str per row.
pub enum Sources {
    One(String),
    PerRow(Vec<String>),
}

impl Sources {
    pub fn read(obj: Option<&Bound<'_, PyAny>>, rows: usize) -> PyResult<Sources> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(Sources::One(String::new())) };
        if let Ok(single) = obj.cast::<PyString>() {
            return Ok(Sources::One(single.to_string_lossy().into_owned()));
        }
        let per_row = labels(obj, "sources")?;
        if per_row.len() != rows {
            return Err(crate::batch::BatchError::LengthMismatch { what: "sources", len: per_row.len(), expected: rows }.into());
        }
        Ok(Sources::PerRow(per_row))
    }

    pub fn get(&self, row: usize) -> &str {
        match self {
            Sources::One(source) => source,
            Sources::PerRow(sources) => sources.get(row).map_or("", String::as_str),
        }
    }
}

/// Upper bound on an explicit `num_threads`: each distinct count keeps a pool alive, and a
/// huge count would try to spawn that many OS threads.
pub const MAX_THREADS: i64 = 256;

/// `num_threads`: None or 0 for the default, else a positive count (capped at [`MAX_THREADS`]).
pub fn num_threads(requested: Option<i64>) -> PyResult<Option<usize>> {
    match requested {
        None => Ok(None),
        Some(n) if n < 0 => Err(errors::bad_num_threads(n)),
        Some(n) => Ok(usize::try_from(n.min(MAX_THREADS)).ok()),
    }
}
