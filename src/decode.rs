//! Token-id decoding straight from a vocabulary table, for byte-level BPE tokenizers
//! (GPT-2, Llama 3, Qwen 2/2.5/3 ...), reproducing Hugging Face `tokenizer.decode(ids,
//! skip_special_tokens=...)` byte for byte.
//!
//! Why: an RL reward manager decodes every rollout before it can score it; with Hugging Face
//! that is one Python call per row and half of the reward step. Here the table maps each id to
//! its final bytes once, so decoding a row is a run of `memcpy`s, and rows decode in parallel.
//!
//! The rules copied from the `tokenizers` crate (`TokenizerImpl::decode` + `decoders::ByteLevel`):
//! - an id the vocabulary does not know is dropped;
//! - with `skip_special`, added tokens flagged `special` are dropped (other added tokens stay);
//! - each token's characters map back to bytes through the byte-level alphabet; a token with a
//!   character outside that alphabet (added tokens may hold any text) contributes its UTF-8 bytes;
//! - the row's bytes become text with `String::from_utf8_lossy`, so a character split across
//!   tokens is rebuilt and invalid bytes become U+FFFD exactly as Hugging Face does.
//!
//! Any other decoder pipeline (SentencePiece, WordPiece, metaspace ...) is refused with
//! [`DecodeError::UnsupportedTokenizer`]; the Python layer then falls back to the tokenizer.

use std::collections::HashMap;

use ndarray::ArrayView2;
use serde_json::Value;

/// Errors of the decoding concern (converted to Python in `python/errors/decode.rs`).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// The tokenizer description is not JSON of the `tokenizers` format.
    #[error("tokenizer JSON could not be read: {0}")]
    InvalidJson(String),
    /// A tokenizer whose decoding this table cannot reproduce.
    #[error("unsupported tokenizer for native decoding: {0}")]
    UnsupportedTokenizer(String),
    /// A vocabulary entry is malformed (e.g. an id that does not fit the table).
    #[error("invalid vocabulary: {0}")]
    InvalidVocabulary(String),
    /// A row length outside `0..=width` of the id matrix.
    #[error("row {row} has length {length}, but the id matrix has {width} columns")]
    LengthOutOfRange {
        row: usize,
        length: i64,
        width: usize,
    },
    /// The number of lengths differs from the number of rows.
    #[error("{lengths} lengths were given for {rows} rows")]
    LengthCountMismatch { rows: usize, lengths: usize },
    /// The decoded text did not fit in memory (becomes MemoryError).
    #[error("out of memory decoding token ids ({bytes} bytes of text)")]
    OutOfMemory { bytes: usize },
}

/// Largest vocabulary accepted (guards against absurd ids in hand-made tables).
const MAX_VOCAB: usize = 1 << 24;

/// The byte-level BPE alphabet (GPT-2's `bytes_to_unicode`): byte -> char.
fn byte_to_char_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for byte in 0u32..256 {
        let printable = (33..=126).contains(&byte)
            || (161..=172).contains(&byte)
            || (174..=255).contains(&byte);
        let code = if printable {
            byte
        } else {
            let code = next;
            next += 1;
            code
        };
        // All codes are below 0x144, valid scalar values.
        table[byte as usize] = char::from_u32(code).unwrap_or('\0');
    }
    table
}

/// The inverse alphabet: char -> byte.
fn char_to_byte_map() -> HashMap<char, u8> {
    byte_to_char_table()
        .iter()
        .enumerate()
        .map(|(byte, &c)| (c, byte as u8))
        .collect()
}

/// The bytes a byte-level token stands for: every character mapped back through the alphabet,
/// or, if any character is outside it, the token's own UTF-8 (as `decoders::ByteLevel` does).
pub fn byte_level_token_bytes(token: &str, alphabet: &HashMap<char, u8>) -> Vec<u8> {
    token
        .chars()
        .map(|c| alphabet.get(&c).copied())
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| token.as_bytes().to_vec())
}

/// A decoding table: for each token id, the bytes it stands for and whether it is special.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenDecoder {
    /// All tokens' bytes, back to back.
    data: Vec<u8>,
    /// `ends[id]` is where token `id` ends in `data` (it starts where `id - 1` ends).
    ends: Vec<u32>,
    /// `special[id]`: dropped when decoding with `skip_special`.
    special: Vec<bool>,
}

impl TokenDecoder {
    /// Builds a table from each id's bytes (`None`: unknown id, decodes to nothing) and the ids
    /// of special tokens.
    pub fn from_pieces(
        pieces: &[Option<Vec<u8>>],
        special_ids: &[i64],
    ) -> Result<Self, DecodeError> {
        if pieces.len() > MAX_VOCAB {
            return Err(DecodeError::InvalidVocabulary(format!(
                "{} entries, more than the {MAX_VOCAB} supported",
                pieces.len()
            )));
        }
        let total: usize = pieces.iter().map(|p| p.as_ref().map_or(0, Vec::len)).sum();
        if u32::try_from(total).is_err() {
            return Err(DecodeError::InvalidVocabulary(format!(
                "{total} bytes of token text, too many"
            )));
        }
        let mut data = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(pieces.len());
        for piece in pieces {
            if let Some(bytes) = piece {
                data.extend_from_slice(bytes);
            }
            ends.push(data.len() as u32);
        }
        let mut special = vec![false; pieces.len()];
        for &id in special_ids {
            match usize::try_from(id).ok().and_then(|i| special.get_mut(i)) {
                Some(flag) => *flag = true,
                None => {
                    return Err(DecodeError::InvalidVocabulary(format!(
                        "special id {id} is outside the vocabulary of {} ids",
                        pieces.len()
                    )))
                }
            }
        }
        Ok(Self {
            data,
            ends,
            special,
        })
    }

    /// Rebuilds a table from its raw parts (the inverse of [`TokenDecoder::to_parts`]).
    pub fn from_parts(
        data: Vec<u8>,
        ends: Vec<u32>,
        special: Vec<bool>,
    ) -> Result<Self, DecodeError> {
        if ends.len() != special.len() || ends.len() > MAX_VOCAB {
            return Err(DecodeError::InvalidVocabulary(format!(
                "{} end offsets for {} special flags",
                ends.len(),
                special.len()
            )));
        }
        let sorted = ends.windows(2).all(|w| w[0] <= w[1]);
        if !sorted || ends.last().is_some_and(|&end| end as usize != data.len()) {
            return Err(DecodeError::InvalidVocabulary(
                "end offsets do not describe the data".into(),
            ));
        }
        if ends.is_empty() && !data.is_empty() {
            return Err(DecodeError::InvalidVocabulary("data without tokens".into()));
        }
        Ok(Self {
            data,
            ends,
            special,
        })
    }

    /// The raw parts (token bytes back to back, end offsets, special flags), for pickling.
    pub fn to_parts(&self) -> (&[u8], &[u32], &[bool]) {
        (&self.data, &self.ends, &self.special)
    }

    /// Builds a table from a `tokenizers` JSON description (`tokenizer.backend_tokenizer.to_str()`),
    /// refusing any tokenizer whose decoding is not plain byte-level BPE.
    pub fn from_tokenizer_json(json: &str) -> Result<Self, DecodeError> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| DecodeError::InvalidJson(e.to_string()))?;
        check_byte_level_decoder(root.get("decoder"))?;
        let model = root
            .get("model")
            .ok_or_else(|| DecodeError::UnsupportedTokenizer("no `model` section".into()))?;
        let model_type = model.get("type").and_then(Value::as_str).unwrap_or("BPE");
        if model_type != "BPE" {
            return Err(DecodeError::UnsupportedTokenizer(format!(
                "model type {model_type:?} (only BPE)"
            )));
        }
        let vocab = model
            .get("vocab")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                DecodeError::UnsupportedTokenizer("the BPE model has no vocab map".into())
            })?;

        let alphabet = char_to_byte_map();
        let mut pieces: Vec<Option<Vec<u8>>> = Vec::new();
        let mut put = |id: u64, bytes: Vec<u8>| -> Result<(), DecodeError> {
            let index = usize::try_from(id)
                .ok()
                .filter(|&i| i < MAX_VOCAB)
                .ok_or_else(|| {
                    DecodeError::InvalidVocabulary(format!("token id {id} is too large"))
                })?;
            if pieces.len() <= index {
                pieces.resize(index + 1, None);
            }
            pieces[index] = Some(bytes);
            Ok(())
        };
        for (token, id) in vocab {
            let id = id.as_u64().ok_or_else(|| {
                DecodeError::InvalidVocabulary(format!("token {token:?} has id {id}"))
            })?;
            put(id, byte_level_token_bytes(token, &alphabet))?;
        }
        // Added tokens take precedence over the model's vocabulary, as in `tokenizers`.
        let mut special_ids = Vec::new();
        if let Some(added) = root.get("added_tokens").and_then(Value::as_array) {
            for token in added {
                let id = token.get("id").and_then(Value::as_u64);
                let content = token.get("content").and_then(Value::as_str);
                let (Some(id), Some(content)) = (id, content) else {
                    return Err(DecodeError::InvalidVocabulary(format!(
                        "malformed added token {token}"
                    )));
                };
                put(id, byte_level_token_bytes(content, &alphabet))?;
                if token
                    .get("special")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    special_ids.push(id as i64);
                }
            }
        }
        Self::from_pieces(&pieces, &special_ids)
    }

    /// Number of ids in the table.
    pub fn vocab_size(&self) -> usize {
        self.ends.len()
    }

    /// Number of special ids.
    pub fn num_special(&self) -> usize {
        self.special.iter().filter(|&&s| s).count()
    }

    /// The bytes of one id (empty for unknown ids).
    fn token_bytes(&self, id: i64) -> &[u8] {
        let Some(index) = usize::try_from(id).ok().filter(|&i| i < self.ends.len()) else {
            return &[];
        };
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        let end = self.ends[index] as usize;
        self.data.get(start..end).unwrap_or(&[])
    }

    /// Appends the bytes of `ids` to `out`. `out` grows fallibly: the ids (and so the size)
    /// come from the caller, and running out of memory must be an error, not an abort.
    pub fn decode_bytes_into<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a i64>,
        skip_special: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        for &id in ids {
            let is_special = usize::try_from(id)
                .ok()
                .and_then(|i| self.special.get(i))
                .copied()
                .unwrap_or(false);
            if skip_special && is_special {
                continue;
            }
            let piece = self.token_bytes(id);
            out.try_reserve(piece.len())
                .map_err(|_| DecodeError::OutOfMemory {
                    bytes: out.len().saturating_add(piece.len()),
                })?;
            out.extend_from_slice(piece);
        }
        Ok(())
    }

    /// Decodes one sequence of ids (a slice, or any view's `iter()`) to text; invalid UTF-8
    /// becomes U+FFFD.
    pub fn decode<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a i64>,
        skip_special: bool,
    ) -> Result<String, DecodeError> {
        let ids = ids.into_iter();
        let mut bytes = Vec::new();
        // A first guess of one byte per id; `decode_bytes_into` grows it as needed.
        let guess = ids.size_hint().0;
        bytes
            .try_reserve(guess)
            .map_err(|_| DecodeError::OutOfMemory { bytes: guess })?;
        self.decode_bytes_into(ids, skip_special, &mut bytes)?;
        Ok(into_text(bytes))
    }

    /// Decodes the first `lengths[r]` ids of every row `r` of `ids` (any strides: rows are
    /// read in place, never copied), rows in parallel on `threads` threads (see
    /// `crate::parallel`).
    pub fn decode_rows(
        &self,
        ids: ArrayView2<'_, i64>,
        lengths: &[i64],
        skip_special: bool,
        threads: Option<usize>,
    ) -> Result<Vec<String>, DecodeError> {
        let (rows, width) = ids.dim();
        if lengths.len() != rows {
            return Err(DecodeError::LengthCountMismatch {
                rows,
                lengths: lengths.len(),
            });
        }
        let mut valid = Vec::with_capacity(rows);
        for (row, &length) in lengths.iter().enumerate() {
            match usize::try_from(length).ok().filter(|&n| n <= width) {
                Some(n) => valid.push(n),
                None => return Err(DecodeError::LengthOutOfRange { row, length, width }),
            }
        }
        let decode_row =
            |row: usize, &n: &usize| self.decode(ids.row(row).iter().take(n), skip_special);
        crate::parallel::map_chunked(threads, &valid, |&n| n.saturating_mul(4), decode_row)
            .into_iter()
            .collect()
    }
}

/// Bytes to text exactly as `String::from_utf8_lossy`, without a copy when already valid.
fn into_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    }
}

/// Accepts a `ByteLevel` decoder, alone or as the only step of a `Sequence`.
fn check_byte_level_decoder(decoder: Option<&Value>) -> Result<(), DecodeError> {
    let Some(decoder) = decoder.filter(|d| !d.is_null()) else {
        return Err(DecodeError::UnsupportedTokenizer(
            "no decoder (tokens would be joined by spaces)".into(),
        ));
    };
    match decoder.get("type").and_then(Value::as_str) {
        Some("ByteLevel") => Ok(()),
        Some("Sequence") => match decoder
            .get("decoders")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([only]) => check_byte_level_decoder(Some(only)),
            _ => Err(DecodeError::UnsupportedTokenizer(
                "a decoder Sequence other than [ByteLevel]".into(),
            )),
        },
        other => Err(DecodeError::UnsupportedTokenizer(format!(
            "decoder type {other:?} (only ByteLevel)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// A tiny byte-level tokenizer: the 256 byte tokens, two merges, two added tokens.
    fn tiny_json() -> String {
        let alphabet = byte_to_char_table();
        let mut vocab = serde_json::Map::new();
        for (byte, c) in alphabet.iter().enumerate() {
            vocab.insert(c.to_string(), Value::from(byte));
        }
        vocab.insert("Ġhello".into(), Value::from(256)); // " hello"
        vocab.insert("Ã©".into(), Value::from(257)); // "é" as two byte chars
        serde_json::json!({
            "model": {"type": "BPE", "vocab": vocab, "merges": []},
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "added_tokens": [
                {"id": 258, "content": "<|im_end|>", "special": true},
                {"id": 259, "content": "<think>", "special": false},
                {"id": 260, "content": "日本", "special": false}
            ]
        })
        .to_string()
    }

    fn tiny() -> TokenDecoder {
        TokenDecoder::from_tokenizer_json(&tiny_json()).unwrap()
    }

    #[test]
    fn alphabet_is_a_bijection() {
        let map = char_to_byte_map();
        assert_eq!(map.len(), 256);
        assert_eq!(byte_to_char_table()[b' ' as usize], 'Ġ');
        assert_eq!(byte_to_char_table()[b'\n' as usize], 'Ċ');
        assert_eq!(byte_to_char_table()[b'a' as usize], 'a');
    }

    #[test]
    fn decodes_merged_and_added_tokens() {
        let d = tiny();
        assert_eq!(d.vocab_size(), 261);
        let ids = [259, 256, 257, 258, b'!' as i64];
        assert_eq!(d.decode(&ids, true).unwrap(), "<think> helloé!");
        assert_eq!(d.decode(&ids, false).unwrap(), "<think> helloé<|im_end|>!");
    }

    #[test]
    fn added_token_outside_alphabet_keeps_its_utf8() {
        assert_eq!(tiny().decode(&[260], true).unwrap(), "日本");
    }

    #[test]
    fn unknown_and_negative_ids_are_dropped() {
        assert_eq!(
            tiny()
                .decode(&[b'a' as i64, 9999, -1, b'b' as i64], true)
                .unwrap(),
            "ab"
        );
    }

    #[test]
    fn split_multibyte_characters_rejoin_and_invalid_bytes_become_replacement() {
        let d = tiny();
        let e_acute = "é".as_bytes();
        assert_eq!(
            d.decode(&[e_acute[0] as i64, e_acute[1] as i64], true)
                .unwrap(),
            "é"
        );
        assert_eq!(
            d.decode(&[e_acute[0] as i64, b'x' as i64], true).unwrap(),
            "\u{FFFD}x"
        );
    }

    #[test]
    fn rows_decode_in_parallel_like_serially() {
        let d = tiny();
        let ids = Array2::from_shape_fn((64, 8), |(r, c)| ((r * 7 + c * 13) % 261) as i64);
        let lengths: Vec<i64> = (0..64).map(|r| (r % 9) as i64).collect();
        let parallel = d.decode_rows(ids.view(), &lengths, true, Some(2)).unwrap();
        let serial = d.decode_rows(ids.view(), &lengths, true, Some(1)).unwrap();
        assert_eq!(parallel, serial);
        for (r, text) in serial.iter().enumerate() {
            let n = lengths[r] as usize;
            assert_eq!(*text, d.decode(&ids.row(r).to_vec()[..n], true).unwrap());
        }
    }

    #[test]
    fn non_contiguous_rows_decode() {
        let d = tiny();
        let ids = Array2::from_shape_fn((3, 4), |(r, c)| (b'a' as usize + r + c) as i64);
        let transposed = ids.t();
        let out = d
            .decode_rows(transposed, &[3, 3, 3, 3], true, Some(1))
            .unwrap();
        assert_eq!(out[0], "abc");
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        let d = tiny();
        let ids = Array2::<i64>::zeros((2, 4));
        assert_eq!(
            d.decode_rows(ids.view(), &[1, 5], true, Some(1)),
            Err(DecodeError::LengthOutOfRange {
                row: 1,
                length: 5,
                width: 4
            })
        );
        assert!(matches!(
            d.decode_rows(ids.view(), &[-1, 0], true, Some(1)),
            Err(DecodeError::LengthOutOfRange { row: 0, .. })
        ));
        assert_eq!(
            d.decode_rows(ids.view(), &[1], true, Some(1)),
            Err(DecodeError::LengthCountMismatch {
                rows: 2,
                lengths: 1
            })
        );
        let empty = Array2::<i64>::zeros((0, 4));
        assert_eq!(
            d.decode_rows(empty.view(), &[], true, Some(1)).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unsupported_tokenizers_are_refused() {
        let mut root: Value = serde_json::from_str(&tiny_json()).unwrap();
        root["decoder"] = serde_json::json!({"type": "Metaspace"});
        assert!(matches!(
            TokenDecoder::from_tokenizer_json(&root.to_string()),
            Err(DecodeError::UnsupportedTokenizer(_))
        ));
        root["decoder"] =
            serde_json::json!({"type": "Sequence", "decoders": [{"type": "ByteLevel"}]});
        assert!(TokenDecoder::from_tokenizer_json(&root.to_string()).is_ok());
        root["decoder"] = Value::Null;
        assert!(TokenDecoder::from_tokenizer_json(&root.to_string()).is_err());
        root["decoder"] = serde_json::json!({"type": "ByteLevel"});
        root["model"]["type"] = Value::from("WordPiece");
        assert!(TokenDecoder::from_tokenizer_json(&root.to_string()).is_err());
        assert!(matches!(
            TokenDecoder::from_tokenizer_json("{not json"),
            Err(DecodeError::InvalidJson(_))
        ));
        assert!(TokenDecoder::from_tokenizer_json("{}").is_err());
        assert!(TokenDecoder::from_tokenizer_json("[]").is_err());
    }

    #[test]
    fn parts_round_trip_and_are_validated() {
        let d = tiny();
        let (data, ends, special) = d.to_parts();
        let back =
            TokenDecoder::from_parts(data.to_vec(), ends.to_vec(), special.to_vec()).unwrap();
        assert_eq!(back, d);
        assert!(TokenDecoder::from_parts(vec![1, 2], vec![1], vec![false]).is_err());
        assert!(TokenDecoder::from_parts(vec![1, 2], vec![2, 1], vec![false, false]).is_err());
        assert!(TokenDecoder::from_parts(vec![], vec![0], vec![]).is_err());
    }

    #[test]
    fn from_pieces_checks_special_ids() {
        let pieces = vec![Some(b"a".to_vec()), None];
        assert!(TokenDecoder::from_pieces(&pieces, &[2]).is_err());
        assert!(TokenDecoder::from_pieces(&pieces, &[-1]).is_err());
        let d = TokenDecoder::from_pieces(&pieces, &[0]).unwrap();
        assert_eq!(d.decode(&[0, 1, 0], false).unwrap(), "aa");
        assert_eq!(d.decode(&[0, 1, 0], true).unwrap(), "");
        assert_eq!(d.num_special(), 1);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_ids_never_panic(ids in proptest::collection::vec(proptest::num::i64::ANY, 0..64)) {
            let d = tiny();
            let text = d.decode(&ids, true).unwrap();
            proptest::prop_assert!(text.len() <= ids.len() * 12);
        }

        #[test]
        fn byte_tokens_round_trip_any_utf8(text in "\\PC{0,40}") {
            let d = tiny();
            let ids: Vec<i64> = text.bytes().map(i64::from).collect();
            proptest::prop_assert_eq!(d.decode(&ids, true).unwrap(), text);
        }
    }
}
