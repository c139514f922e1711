//! Reading arguments from Python: the one place where a Python value becomes Rust data, with
//! errors that name the argument and the row.
//!
//! String policy (every str argument: texts, ids, sides, sources, prompts, responses, domains,
//! tasks, templates): a str is read as its UTF-8 encoding. A str that has none (it holds a lone
//! surrogate, U+D800..U+DFFF, e.g. from `bytes.decode(errors="surrogateescape")` or a JSON
//! `"\ud800"` escape) is refused with a ValueError naming the argument, the row and the index,
//! never replaced: replacing would make distinct strs equal keys.
//!
//! Memory: an ASCII str is lent zero-copy (CPython's UTF-8 form of ASCII text is the str's own
//! storage). A non-ASCII str is encoded into a temporary bytes object that lives only for the
//! call: asking CPython for its UTF-8 form instead would cache a UTF-8 copy inside every such
//! str for as long as the str lives (doubling the memory of a batch of, say, Chinese texts).

use pyo3::exceptions::{PyMemoryError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFrozenSet, PyInt, PySet, PyString, PyType};

use std::sync::atomic::{AtomicBool, Ordering};

use super::errors;
use crate::batch::PairId;

/// The Python type name of `obj`, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_string(), |n| n.to_string())
}

/// `collections.abc.Mapping`, imported once (at module import: see `prepare`).
static MAPPING_ABC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `isinstance(obj, collections.abc.Mapping)` with its error propagated. PyO3's `PyMapping`
/// check writes an error of the isinstance call as "unraisable" and drops it: a Ctrl-C that
/// lands while the ABC check runs would be lost, and the long call after it would run to the end.
fn is_mapping(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(MAPPING_ABC.import(obj.py(), "collections.abc", "Mapping")?)
}

/// The items of a sequence argument, in order. A lone str/bytes is refused (it would iterate
/// by character), and so are dicts and sets (their order is not the rows' order).
pub fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(errors::single_string_for_sequence(what));
    }
    let unordered = obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PySet>()
        || obj.is_instance_of::<PyFrozenSet>()
        || is_mapping(obj)?;
    if unordered {
        return Err(errors::unordered_sequence(what, &type_name(obj)));
    }
    let iterator = obj
        .try_iter()
        .map_err(|_| errors::not_a_sequence(what, &type_name(obj)))?;
    iterator.collect()
}

/// Where a str argument sits, for error messages: `texts[3]`, or `prompt`.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub what: &'a str,
    pub row: Option<usize>,
}

impl<'a> Place<'a> {
    pub fn arg(what: &'a str) -> Self {
        Place { what, row: None }
    }

    pub fn row(what: &'a str, row: usize) -> Self {
        Place {
            what,
            row: Some(row),
        }
    }
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(row) => write!(f, "{}[{row}]", self.what),
            None => f.write_str(self.what),
        }
    }
}

/// The UTF-8 bytes of one str, readable without the GIL while `self` lives.
pub enum Utf8<'py> {
    /// An ASCII str's own storage.
    Lent {
        _owner: Bound<'py, PyString>,
        ptr: *const u8,
        len: usize,
    },
    /// A temporary encoding of a non-ASCII str, freed with `self`.
    Encoded(Bound<'py, PyBytes>),
}

impl Utf8<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `ptr`/`len` come from PyUnicode_AsUTF8AndSize on `_owner`, which keeps the
            // buffer alive and unchanged (str is immutable) for as long as `self` holds it.
            Utf8::Lent { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            Utf8::Encoded(bytes) => bytes.as_bytes(),
        }
    }

    /// As `&str` without a copy: both forms are strict UTF-8 (CPython refuses to encode lone
    /// surrogates, and `read_str` turns that refusal into an error).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes()).unwrap_or_default()
    }

    /// As an owned String; allocation failure (a caller's huge str) is a MemoryError.
    pub fn to_owned_string(&self) -> PyResult<String> {
        let text = self.as_str();
        let mut owned = String::new();
        owned.try_reserve_exact(text.len()).map_err(|_| {
            PyMemoryError::new_err(format!("cannot copy a str of {} bytes", text.len()))
        })?;
        owned.push_str(text);
        Ok(owned)
    }
}

extern "C" {
    // In the stable ABI from Python 3.10 and exported by every CPython 3, so this abi3-py39
    // module declares it itself. For an ASCII str it returns the str's own storage.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// An ASCII str's storage, lent without a copy.
fn lend_ascii<'py>(text: &Bound<'py, PyString>) -> PyResult<Utf8<'py>> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `text` is a live str and we hold the GIL (the `Bound` proves both).
    let ptr = unsafe { PyUnicode_AsUTF8AndSize(text.as_ptr(), &mut size) };
    if ptr.is_null() {
        return Err(PyErr::fetch(text.py()));
    }
    Ok(Utf8::Lent {
        _owner: text.clone(),
        ptr: ptr.cast::<u8>(),
        len: usize::try_from(size).unwrap_or(0),
    })
}

/// Offset of `PyASCIIObject.state` and the bit of its `ascii` flag on 64-bit CPython 3.9-3.14
/// (after the object header, length and hash; bitfields `interned:2, kind:3, compact:1, ascii:1`).
const STATE_OFFSET: usize = 32;
const ASCII_BIT: u32 = 1 << 6;

/// The `ascii` flag read from the str's header. Only a hint: a wrong answer would cost memory
/// or a copy, never a wrong byte, and [`header_flag_works`] checks it against `str.isascii`.
fn ascii_flag(text: &Bound<'_, PyString>) -> bool {
    // SAFETY: every str object is at least a PyASCIIObject (40 bytes on 64-bit builds), so
    // the 4 bytes at STATE_OFFSET are inside the live object we hold.
    let state = unsafe {
        text.as_ptr()
            .cast::<u8>()
            .add(STATE_OFFSET)
            .cast::<u32>()
            .read_unaligned()
    };
    state & ASCII_BIT != 0
}

/// Whether the header flag agrees with `str.isascii` on strs of every kind: then a str's
/// ASCII test is one load instead of a Python method call per row. Set by [`prepare`].
static HEADER_FLAG_WORKS: AtomicBool = AtomicBool::new(false);

fn header_flag_agrees(py: Python<'_>) -> bool {
    cfg!(target_pointer_width = "64")
        && [
            "",
            "a",
            "ascii text",
            "\u{e9}",
            "caf\u{e9}",
            "\u{65e5}\u{672c}",
            "\u{1F600}",
            "x\u{7f}",
            "\u{80}",
        ]
        .iter()
        .all(|sample| ascii_flag(&PyString::new(py, sample)) == sample.is_ascii())
}

/// Whether a str is ASCII, without a method call when the header can be read.
fn is_ascii(text: &Bound<'_, PyString>) -> PyResult<bool> {
    if HEADER_FLAG_WORKS.load(Ordering::Relaxed) {
        return Ok(ascii_flag(text));
    }
    text.call_method0(intern!(text.py(), "isascii"))?
        .is_truthy()
}

/// Run once at import, before any thread calls patarm. Everything argument reading would
/// otherwise initialise lazily is initialised here: a lazy one-time initialisation holds a
/// `Once` while it runs, and a fork at that moment would leave the child waiting on it forever.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    HEADER_FLAG_WORKS.store(header_flag_agrees(py), Ordering::Relaxed);
    // The interned method name of the fallback, and collections.abc.Mapping.
    PyString::new(py, "x").call_method0(intern!(py, "isascii"))?;
    MAPPING_ABC.import(py, "collections.abc", "Mapping")?;
    Ok(())
}

/// One str as UTF-8 under the policy above; `place` names it in errors.
pub fn read_str<'py>(text: &Bound<'py, PyString>, place: Place<'_>) -> PyResult<Utf8<'py>> {
    let py = text.py();
    if is_ascii(text)? {
        return lend_ascii(text);
    }
    // SAFETY: `text` is a live str and we hold the GIL; the result is a new reference or null.
    let encoded = unsafe { pyo3::ffi::PyUnicode_AsUTF8String(text.as_ptr()) };
    if encoded.is_null() {
        let err = PyErr::fetch(py);
        if err.is_instance_of::<pyo3::exceptions::PyUnicodeEncodeError>(py) {
            return Err(errors::lone_surrogate(&place.to_string(), text, &err));
        }
        return Err(err);
    }
    // SAFETY: a non-null result of PyUnicode_AsUTF8String is an owned bytes object.
    let bytes = unsafe { Bound::from_owned_ptr(py, encoded) };
    Ok(Utf8::Encoded(bytes.cast_into::<PyBytes>()?))
}

/// A str argument; anything else is a TypeError saying what `expected` it to be.
pub fn str_arg<'py>(
    obj: &Bound<'py, PyAny>,
    place: Place<'_>,
    expected: &str,
) -> PyResult<Utf8<'py>> {
    match obj.cast::<PyString>() {
        Ok(text) => read_str(text, place),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{place} must be {expected}, not {}",
            type_name(obj)
        ))),
    }
}

/// A str argument as an owned String (prompts, responses, domains).
pub fn owned_str(obj: &Bound<'_, PyAny>, place: Place<'_>) -> PyResult<String> {
    str_arg(obj, place, "a str")?.to_owned_string()
}

/// One judgement text (e.g. `parse_judgement(text)`).
pub fn text<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Utf8<'py>> {
    str_arg(obj, Place::arg(what), "a str (the decoded judgement text)")
}

/// Every row of a sequence of str as UTF-8 (a non-str row is a TypeError naming the row and
/// what `expected` it to be).
fn strs<'py>(obj: &Bound<'py, PyAny>, what: &str, expected: &str) -> PyResult<Vec<Utf8<'py>>> {
    items(obj, what)?
        .iter()
        .enumerate()
        .map(|(row, item)| match item.cast::<PyString>() {
            Ok(s) => read_str(s, Place::row(what, row)),
            Err(_) => Err(errors::wrong_item_type(
                what,
                row,
                &type_name(item),
                expected,
            )),
        })
        .collect()
}

/// Judgement texts.
pub fn texts<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Utf8<'py>>> {
    strs(obj, what, "str (decoded judgement texts)")
}

/// Labels such as sides and sources (borrowed, no copy).
pub fn labels<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Utf8<'py>>> {
    strs(obj, what, "str")
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

/// True for Python's bool and numpy's bool_ (both have `__index__`, but a flag is not an id).
fn is_bool(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBool>()
        || obj
            .get_type()
            .name()
            .is_ok_and(|name| name.to_cow().is_ok_and(|n| n == "bool" || n == "bool_"))
}

/// Pair ids: str or int (Python int, numpy integer, anything with `__index__`). Bools are
/// refused, Python's and numpy's alike: `True` is not the pair `1`.
pub fn pair_ids<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<OwnedPairId<'py>>> {
    items(obj, "pair_ids")?
        .iter()
        .enumerate()
        .map(|(row, item)| {
            if let Ok(s) = item.cast::<PyString>() {
                return Ok(OwnedPairId::Str(read_str(s, Place::row("pair_ids", row))?));
            }
            if is_bool(item) {
                return Err(errors::bad_pair_id(row, "a bool"));
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
    Unnamed,
    One(Utf8<'py>),
    PerRow(Vec<Utf8<'py>>),
}

impl<'py> Sources<'py> {
    pub fn read(obj: Option<&Bound<'py, PyAny>>, rows: usize) -> PyResult<Sources<'py>> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(Sources::Unnamed);
        };
        if let Ok(single) = obj.cast::<PyString>() {
            return Ok(Sources::One(read_str(single, Place::arg("sources"))?));
        }
        let per_row = labels(obj, "sources")?;
        crate::batch::check_len("sources", per_row.len(), rows)?;
        Ok(Sources::PerRow(per_row))
    }

    pub fn get(&self, row: usize) -> &str {
        match self {
            Sources::Unnamed => "",
            Sources::One(source) => source.as_str(),
            Sources::PerRow(sources) => sources.get(row).map_or("", Utf8::as_str),
        }
    }
}

/// `num_threads`: None or 0 for the default, else a positive count of any size
/// (`parallel::resolve_threads` caps it at the CPU count, so 2**62 or 10**30 is harmless).
pub fn num_threads(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    let Some(obj) = requested.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if is_bool(obj) || !(obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false))
    {
        return Err(PyTypeError::new_err(format!(
            "num_threads is {}; pass a positive int, or None (or 0) for PATARM_NUM_THREADS / all CPUs",
            type_name(obj)
        )));
    }
    match obj.extract::<i64>() {
        Ok(n) if n < 0 => Err(errors::bad_num_threads(&n.to_string())),
        Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        // Outside 64 bits: a huge request means "all CPUs"; a huge negative one is an error.
        Err(_) if obj.lt(0)? => Err(errors::bad_num_threads(&obj.str()?.to_cow()?)),
        Err(_) => Ok(Some(usize::MAX)),
    }
}
