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
use pyo3::types::{PyBool, PyBytes, PyDict, PyFrozenSet, PyInt, PySet, PyString, PyType};

use super::errors;
pub use super::utf8::Utf8;
use super::utf8::{self, EncodeFailure};
use crate::batch::PairId;

/// The Python type name of `obj`, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_string(), |n| n.to_string())
}

/// `collections.abc.Mapping`, imported once (at module import: see `prepare`).
static MAPPING_ABC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `numpy.bool_`, imported once (at module import: see `prepare`).
static NUMPY_BOOL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Run once at import, before any thread calls patarm: what argument reading would otherwise
/// initialise lazily (under a `Once` that a fork could leave held forever) is initialised here.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    utf8::prepare(py)?;
    MAPPING_ABC.import(py, "collections.abc", "Mapping")?;
    NUMPY_BOOL.import(py, "numpy", "bool_")?;
    // PyO3 interns the `__name__` key on first use: do it now, not in an error message later.
    type_name(PyBool::new(py, true).as_any());
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
    iterator.collect()
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

/// True for Python's bool and numpy's bool_ (both have `__index__`, but a flag is not an id).
fn is_bool(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBool>()
        || NUMPY_BOOL
            .get(obj.py())
            .is_some_and(|numpy_bool| obj.get_type().is(numpy_bool.bind(obj.py())))
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

/// The integer rule, for every count argument: None (the default), or an int (Python int,
/// numpy integer, anything with `__index__`; never a bool) that is not negative. A count above
/// `usize::MAX` saturates (every count caps itself: threads at the CPUs, rounds at the
/// judgements). Other types are a TypeError and a negative count a ValueError, both naming
/// `what` and the fix `expected` (never an OverflowError).
fn optional_count(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    expected: &str,
) -> PyResult<Option<usize>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let is_integer = obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false);
    if is_bool(obj) || !is_integer {
        return Err(errors::count_not_an_int(what, &type_name(obj), expected));
    }
    match obj.extract::<i64>() {
        Ok(n) if n < 0 => Err(errors::negative_count(what, &n.to_string(), expected)),
        Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        // Outside 64 bits: a huge count saturates; a huge negative one is an error.
        Err(_) if obj.lt(0)? => Err(errors::negative_count(
            what,
            &obj.str()?.to_cow()?,
            expected,
        )),
        Err(_) => Ok(Some(usize::MAX)),
    }
}

/// `num_threads`: None or 0 for the default, else a positive count of any size
/// (`parallel::resolve_threads` caps it at the CPU count, so 2**62 or 10**30 is harmless).
pub fn num_threads(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    optional_count(
        requested,
        "num_threads",
        "a positive thread count, or None (or 0) for PATARM_NUM_THREADS / all CPUs",
    )
}

/// `rounds` of the vote functions: None for all judgements, else how many of the first
/// judgements of each response to use.
pub fn rounds(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    optional_count(
        requested,
        "rounds",
        "a positive int (use the first `rounds` judgements of each response), or None for all",
    )
}

/// An int argument: a Python int, numpy integer or anything with `__index__`, never a bool
/// (`True` is not the count 1). Anything else is a TypeError naming `what` and the value.
fn integer<'a, 'py>(obj: &'a Bound<'py, PyAny>, what: &str) -> PyResult<&'a Bound<'py, PyAny>> {
    let is_integer = obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false);
    if is_bool(obj) {
        return Err(errors::not_an_integer(what, "a bool", &short_repr(obj)));
    }
    if !is_integer {
        return Err(errors::not_an_integer(
            what,
            &type_name(obj),
            &short_repr(obj),
        ));
    }
    Ok(obj)
}

/// `repr(obj)`, cut to 80 characters, for error messages.
fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let text = obj
        .repr()
        .and_then(|r| r.to_str().map(str::to_owned))
        .unwrap_or_else(|_| "?".to_owned());
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The samplers' integer rule: an int (see `integer`) that fits in 64 bits; a larger one is a
/// ValueError naming `what` (never an OverflowError). The callee checks the range it needs.
pub fn int64(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    integer(obj, what)?
        .extract::<i64>()
        .map_err(|_| errors::int64_out_of_range(what, &short_repr(obj)))
}

/// A seed: an int in [-2**63, 2**64); a negative one is taken modulo 2**64, as
/// torch.manual_seed does.
pub fn seed(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let obj = integer(obj, what)?;
    if let Ok(seed) = obj.extract::<u64>() {
        return Ok(seed);
    }
    match obj.extract::<i64>() {
        Ok(negative) => Ok(negative as u64), // two's complement: the value modulo 2**64
        Err(_) => Err(errors::seed_out_of_range(what, &short_repr(obj))),
    }
}

/// An epoch number: a 64-bit int >= 0.
pub fn epoch(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let epoch = int64(obj, what)?;
    u64::try_from(epoch).map_err(|_| errors::negative_epoch(what, epoch))
}
