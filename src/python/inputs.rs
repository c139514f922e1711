//! Reading batch arguments from Python: texts as UTF-8 bytes that Rust can scan with the GIL
//! released, pair ids, sources and side labels, with errors that name the row.

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};

use super::errors;
use crate::batch::PairId;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_string(), |n| n.to_string())
}

/// The items of a sequence argument; a lone str/bytes is refused (it would iterate by char).
pub fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(errors::single_string_for_sequence(what));
    }
    let iterator = obj.try_iter().map_err(|_| {
        errors::wrong_item_type(
            what,
            0,
            &format!("not a sequence but {}", type_name(obj)),
            "given as a list",
        )
    })?;
    iterator.collect()
}

/// The UTF-8 bytes of one str, readable without the GIL while the str is alive.
///
/// CPython keeps the UTF-8 form of a str (for ASCII text it *is* the str's storage), so
/// `PyUnicode_AsUTF8AndSize` lends it without a copy; that function is in the stable ABI from
/// Python 3.10 and exported by every CPython 3 on Linux and macOS, so this abi3-py39 module
/// declares it itself there. Elsewhere CPython encodes into a bytes object (one copy). Lone
/// surrogates, which have no UTF-8 form, are replaced by U+FFFD.
pub enum Utf8<'py> {
    Lent {
        _owner: Bound<'py, PyString>,
        ptr: *const u8,
        len: usize,
    },
    Encoded(Bound<'py, PyBytes>),
    Replaced(String),
}

impl Utf8<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `ptr`/`len` come from PyUnicode_AsUTF8AndSize on `_owner`, which keeps the
            // buffer alive and unchanged (str is immutable) for as long as `self` holds it.
            Utf8::Lent { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            Utf8::Encoded(bytes) => bytes.as_bytes(),
            Utf8::Replaced(text) => text.as_bytes(),
        }
    }

    /// As `&str`: every form is valid UTF-8 by construction.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes())
    }

    /// As `&str` without a copy (the replacement character can only show if CPython broke
    /// its own UTF-8 guarantee).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes()).unwrap_or("\u{FFFD}")
    }
}

#[cfg(not(windows))]
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

#[cfg(not(windows))]
fn lend<'py>(text: &Bound<'py, PyString>) -> Option<Utf8<'py>> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `text` is a live str and we hold the GIL (the `Bound` proves both).
    let ptr = unsafe { PyUnicode_AsUTF8AndSize(text.as_ptr(), &mut size) };
    if ptr.is_null() {
        let _ = PyErr::take(text.py()); // lone surrogates: clear the error, take the slow path
        return None;
    }
    let len = usize::try_from(size).ok()?;
    Some(Utf8::Lent {
        _owner: text.clone(),
        ptr: ptr.cast::<u8>(),
        len,
    })
}

#[cfg(windows)]
fn lend<'py>(_text: &Bound<'py, PyString>) -> Option<Utf8<'py>> {
    None
}

pub fn utf8<'py>(text: &Bound<'py, PyString>) -> Utf8<'py> {
    if let Some(lent) = lend(text) {
        return lent;
    }
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
            Err(_) => Err(errors::wrong_item_type(
                what,
                row,
                &type_name(item),
                "str (decoded judgement texts)",
            )),
        })
        .collect()
}

/// Labels such as sides and sources (borrowed, no copy).
pub fn labels<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Utf8<'py>>> {
    items(obj, what)?
        .iter()
        .enumerate()
        .map(|(row, item)| match item.cast::<PyString>() {
            Ok(s) => Ok(utf8(s)),
            Err(_) => Err(errors::wrong_item_type(what, row, &type_name(item), "str")),
        })
        .collect()
}

/// A pair id as read from Python (a str id is borrowed from the Python object).
pub enum OwnedPairId<'py> {
    Int(i64),
    Str(Utf8<'py>),
}

impl OwnedPairId<'_> {
    pub fn as_key(&self) -> PairId<'_> {
        match self {
            OwnedPairId::Int(id) => PairId::Int(*id),
            OwnedPairId::Str(id) => PairId::Str(id.as_str()),
        }
    }
}

/// Pair ids: str or int (Python int, numpy integer, anything with `__index__`).
pub fn pair_ids<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<OwnedPairId<'py>>> {
    items(obj, "pair_ids")?
        .iter()
        .enumerate()
        .map(|(row, item)| {
            if let Ok(s) = item.cast::<PyString>() {
                return Ok(OwnedPairId::Str(utf8(s)));
            }
            let is_integer =
                item.is_instance_of::<PyInt>() || item.hasattr("__index__").unwrap_or(false);
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
pub enum Sources<'py> {
    One(String),
    PerRow(Vec<Utf8<'py>>),
}

impl<'py> Sources<'py> {
    pub fn read(obj: Option<&Bound<'py, PyAny>>, rows: usize) -> PyResult<Sources<'py>> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(Sources::One(String::new()));
        };
        if let Ok(single) = obj.cast::<PyString>() {
            return Ok(Sources::One(single.to_string_lossy().into_owned()));
        }
        let per_row = labels(obj, "sources")?;
        if per_row.len() != rows {
            return Err(crate::batch::BatchError::LengthMismatch {
                what: "sources",
                len: per_row.len(),
                expected: rows,
            }
            .into());
        }
        Ok(Sources::PerRow(per_row))
    }

    pub fn get(&self, row: usize) -> &str {
        match self {
            Sources::One(source) => source,
            Sources::PerRow(sources) => sources.get(row).map_or("", Utf8::as_str),
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
