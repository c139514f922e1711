//! Core errors become Python exceptions here and nowhere else: caller mistakes are
//! `ValueError` / `TypeError` subclasses whose message says what was wrong and how to fix it.

// --- decoding (verl helper): token-id decoding tables -------------------------------------
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

use crate::decode::DecodeError;

impl From<DecodeError> for PyErr {
    fn from(err: DecodeError) -> PyErr {
        let hint = match &err {
            DecodeError::InvalidJson(_) | DecodeError::UnsupportedTokenizer(_) => {
                "pass a Hugging Face fast tokenizer with a byte-level BPE decoder, or use the \
                 tokenizer's own decode (patarm.verl.FastDecoder falls back automatically)"
            }
            DecodeError::InvalidVocabulary(_) => "build the table from a valid tokenizer.json",
            DecodeError::LengthOutOfRange { .. } | DecodeError::LengthCountMismatch { .. } => {
                "give one length per row, each between 0 and the number of columns \
                 (the valid response lengths, attention_mask[:, prompt_len:].sum(-1))"
            }
        };
        PyValueError::new_err(format!("{err}; {hint}"))
    }
}
