//! Errors of the token-id decoding tables (the verl helper).

use crate::decode::DecodeError;

impl From<DecodeError> for pyo3::PyErr {
    fn from(err: DecodeError) -> pyo3::PyErr {
        let hint = match &err {
            DecodeError::OutOfMemory { .. } => {
                return pyo3::exceptions::PyMemoryError::new_err(err.to_string());
            }
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
        pyo3::exceptions::PyValueError::new_err(format!("{err}; {hint}"))
    }
}
