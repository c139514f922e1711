//! Reading arguments from Python: the one place where a Python value becomes Rust data, with
//! errors that name the argument and the row.
//!
//! String policy (every str argument: texts, ids, sides, sources, prompts, responses, domains,
//! tasks, templates): a str is read as its UTF-8 encoding. A str that has none (it holds a lone
//! surrogate, U+D800..U+DFFF, e.g. from `bytes.decode(errors="surrogateescape")` or a JSON
//! `"\ud800"` escape) is refused with a ValueError naming the argument, the row and the index,
//! never replaced: replacing would make distinct strs equal keys.
//! Memory: see `utf8.rs` (an ASCII str is lent zero-copy).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFrozenSet, PyList, PySet, PyString, PyTuple, PyType};

use super::errors;
mod integers;

pub use super::utf8::Utf8;
use super::utf8::{self, EncodeFailure};
use crate::batch::PairId;
pub use integers::{epoch, int64, num_threads, rounds, seed};
use integers::{is_bool, is_int_like};

/// The Python type name of `obj`, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_string(), |n| n.to_string())
}

/// `collections.abc.Mapping`, imported once (at module import: see `prepare`).
static MAPPING_ABC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Run once at import, before any thread calls patarm: what argument reading would otherwise
/// initialise lazily (under a `Once` that a fork could leave held forever) is initialised here.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    utf8::prepare(py)?;
    MAPPING_ABC.import(py, "collections.abc", "Mapping")?;
    integers::prepare(py)?;
    // PyO3 interns the `__name__` key on first use: do it now, not in an error message later.
    type_name(PyBool::new(py, true).as_any());
    // And imports `operator.length_hint` on the first `size_hint` of an iterator: no patarm
    // call asks one (see `items`), but a PyO3 path might.
    let _ = PyList::empty(py).try_iter()?.size_hint();
    Ok(())
}

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
    // A loop, not `collect`: collecting asks the iterator's `size_hint`, which PyO3 (abi3)
    // answers with `operator.length_hint`, imported on first use under a one-time lock that it
    // holds while waiting for the GIL. A fork then copied that lock held: the child hung.
    let capacity = match (obj.cast::<PyList>(), obj.cast::<PyTuple>()) {
        (Ok(list), _) => list.len(),
        (_, Ok(tuple)) => tuple.len(),
        _ => 0,
    };
    let mut out = Vec::with_capacity(capacity);
    for item in iterator {
        out.push(item?);
    }
    Ok(out)
}

/// The UTF-8 bytes of each held str, to hand to the core with the GIL released.
pub fn slices<'a>(held: &'a [Utf8<'_>]) -> Vec<&'a [u8]> {
    held.iter().map(Utf8::bytes).collect()
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

/// One str as UTF-8 under the policy above; `place` names it in errors.
pub fn read_str<'py>(text: &Bound<'py, PyString>, place: Place<'_>) -> PyResult<Utf8<'py>> {
    utf8::read(text).map_err(|failure| match failure {
        EncodeFailure::LoneSurrogate(err) => errors::lone_surrogate(&place.to_string(), text, &err),
        EncodeFailure::Other(err) => err,
    })
}

/// A str argument; anything else is a TypeError saying what `expected` it to be.
pub fn str_arg<'py>(
    obj: &Bound<'py, PyAny>,
    place: Place<'_>,
    expected: &str,
) -> PyResult<Utf8<'py>> {
    match obj.cast::<PyString>() {
        Ok(text) => read_str(text, place),
        Err(_) => Err(errors::wrong_type(
            &place.to_string(),
            expected,
            &type_name(obj),
        )),
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
            if !is_int_like(item) {
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
