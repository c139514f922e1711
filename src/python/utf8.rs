//! A Python str as UTF-8 bytes, without a copy where CPython allows it. The only `unsafe` of
//! the bindings lives here, behind private invariants.
//!
//! Memory: an ASCII str is lent zero-copy (CPython's UTF-8 form of ASCII text is the str's own
//! storage, so `PyUnicode_AsUTF8AndSize` caches nothing). A non-ASCII str is encoded into a
//! temporary bytes object that lives only for the call: asking CPython for its UTF-8 form
//! instead would cache a UTF-8 copy inside every such str for as long as the str lives
//! (doubling the memory of a batch of, say, Chinese texts).

use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};

use std::sync::atomic::{AtomicBool, Ordering};

/// The UTF-8 bytes of one str, valid while `self` lives.
pub struct Utf8<'py>(Held<'py>);

/// Invariant: `Lent` holds only ASCII strs (whose UTF-8 form is their own storage).
enum Held<'py> {
    Lent(Bound<'py, PyString>),
    /// A temporary encoding of a non-ASCII str, freed with `self`.
    Encoded(Bound<'py, PyBytes>),
}

impl Utf8<'_> {
    pub fn bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// As `&str` without a copy: both forms are strict UTF-8 (CPython refuses to encode lone
    /// surrogates, and [`read`] turns that refusal into an error).
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // An ASCII str cannot fail to encode; "" is unreachable.
            Held::Lent(text) => text.to_str().unwrap_or_default(),
            Held::Encoded(bytes) => std::str::from_utf8(bytes.as_bytes()).unwrap_or_default(),
        }
    }

    /// As an owned String; allocation failure (a caller's huge str) is a MemoryError.
    pub fn to_owned_string(&self) -> PyResult<String> {
        let text = self.as_str();
        let mut owned = String::new();
        owned
            .try_reserve_exact(text.len())
            .map_err(|_| super::errors::str_too_large(text.len()))?;
        owned.push_str(text);
        Ok(owned)
    }
}

/// One str as UTF-8; a failure says whether the str has no UTF-8 form (for the caller to name
/// the argument) or something else went wrong.
pub fn read<'py>(text: &Bound<'py, PyString>) -> Result<Utf8<'py>, EncodeFailure> {
    if is_ascii(text).map_err(EncodeFailure::Other)? {
        return Ok(Utf8(Held::Lent(text.clone())));
    }
    match text.encode_utf8() {
        Ok(bytes) => Ok(Utf8(Held::Encoded(bytes))),
        Err(err) if err.is_instance_of::<PyUnicodeEncodeError>(text.py()) => {
            Err(EncodeFailure::LoneSurrogate(err))
        }
        Err(err) => Err(EncodeFailure::Other(err)),
    }
}

/// Why [`read`] failed.
pub enum EncodeFailure {
    /// The str holds a lone surrogate (CPython's UnicodeEncodeError).
    LoneSurrogate(PyErr),
    Other(PyErr),
}

/// Offset of `PyASCIIObject.state` and the bit of its `ascii` flag on 64-bit CPython 3.10-3.14
/// (after the object header, length and hash; bitfields `interned:2, kind:3, compact:1, ascii:1`).
const STATE_OFFSET: usize = 32;
const ASCII_BIT: u32 = 1 << 6;

/// The `ascii` flag read from the str's header. Only a hint: a wrong answer would cost memory
/// or a copy, never a wrong byte, and [`header_flag_agrees`] checks it against `str.isascii`.
fn ascii_flag(text: &Bound<'_, PyString>) -> bool {
    // SAFETY: every str object is at least a PyASCIIObject (40 bytes on 64-bit builds), so the
    // 4 bytes at STATE_OFFSET are inside the live object that `text` keeps alive; the read is
    // unaligned-safe and the value is only trusted after `header_flag_agrees`.
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

/// `"isascii"`, the fallback's method name (set by `prepare`, at import).
static ISASCII: PyOnceLock<Py<PyString>> = PyOnceLock::new();

/// Whether a str is ASCII, without a method call when the header can be read.
fn is_ascii(text: &Bound<'_, PyString>) -> PyResult<bool> {
    if HEADER_FLAG_WORKS.load(Ordering::Relaxed) {
        return Ok(ascii_flag(text));
    }
    let py = text.py();
    let name = ISASCII.get_or_init(py, || PyString::intern(py, "isascii").unbind());
    text.call_method0(name.bind(py))?.is_truthy()
}

/// Run once at import, before any thread calls patarm. Everything argument reading would
/// otherwise initialise lazily is initialised here: a lazy one-time initialisation holds a
/// `Once` while it runs, and a fork at that moment would leave the child waiting on it forever.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    HEADER_FLAG_WORKS.store(header_flag_agrees(py), Ordering::Relaxed);
    // The method name of the fallback, made here rather than on first use.
    ISASCII.get_or_init(py, || PyString::intern(py, "isascii").unbind());
    Ok(())
}
