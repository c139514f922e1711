"""Native decoding of verl response tensors against the real Qwen tokenizer's own decode."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameworks import require

torch = require("torch")
require("verl")

from patarm import _core  # noqa: E402
from patarm.verl import FastDecoder  # noqa: E402

TEXTS = [
    "Hello world! <think>héllo 日本語 🤖</think>",
    "<think>a</think><generate_rubrics>b</generate_rubrics><eval>c</eval><answer>7.5</answer>",
    "  leading spaces\n\ttabs and\r\nnewlines ",
    "",
]


def test_whole_vocabulary_matches_tokenizer(tokenizer):
    decoder = FastDecoder(tokenizer)
    assert decoder.native, decoder.fallback_reason
    ids = np.arange(len(tokenizer), dtype=np.int64)
    table = _core.TokenDecoder.from_tokenizer_json(tokenizer.backend_tokenizer.to_str())
    for skip in (True, False):
        assert table.decode(ids, skip_special_tokens=skip) == tokenizer.decode(ids.tolist(), skip_special_tokens=skip)


def test_rows_match_tokenizer_including_special_and_split_characters(tokenizer):
    decoder = FastDecoder(tokenizer)
    encoded = [tokenizer.encode(t) for t in TEXTS]
    # special tokens inside a row, a multi-byte character cut in half, unknown ids
    encoded.append([tokenizer.eos_token_id] + tokenizer.encode("日本") + [tokenizer.pad_token_id, 151667])
    emoji = tokenizer.encode("🤖")
    encoded.append(emoji[:1])
    width = max(len(e) for e in encoded) + 3
    ids = np.full((len(encoded), width), tokenizer.pad_token_id, dtype=np.int64)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = e
    lengths = np.array([len(e) for e in encoded])
    texts = decoder.decode_rows(torch.from_numpy(ids), torch.from_numpy(lengths))
    assert texts == [tokenizer.decode(e, skip_special_tokens=True) for e in encoded]
    assert texts[0] == TEXTS[0]
    # padding beyond the valid length is never decoded; all-padding rows give ""
    assert decoder.decode_rows(ids, np.zeros(len(encoded), dtype=np.int64)) == [""] * len(encoded)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=151668 + 20), max_size=40))
def test_any_ids_decode_like_the_tokenizer(tokenizer, ids):
    table = (
        _core.TokenDecoder.from_tokenizer_json(tokenizer.backend_tokenizer.to_str())
        if not hasattr(test_any_ids_decode_like_the_tokenizer, "table")
        else test_any_ids_decode_like_the_tokenizer.table
    )
    test_any_ids_decode_like_the_tokenizer.table = table
    assert table.decode(np.array(ids, dtype=np.int64)) == tokenizer.decode(ids, skip_special_tokens=True)


def test_int32_and_non_contiguous_inputs(tokenizer):
    decoder = FastDecoder(tokenizer)
    encoded = tokenizer.encode("abc def ghi")
    ids = np.array([encoded], dtype=np.int32)
    assert decoder.decode_rows(ids, [len(encoded)]) == ["abc def ghi"]
    spaced = np.zeros((1, 2 * len(encoded)), dtype=np.int64)
    spaced[0, ::2] = encoded
    view = spaced[:, ::2]  # a strided, non-contiguous view
    assert not view.flags.c_contiguous
    assert decoder.decode_rows(view, [len(encoded)]) == ["abc def ghi"]


def test_bad_inputs_raise_clear_errors(tokenizer):
    decoder = FastDecoder(tokenizer)
    ids = np.zeros((2, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="lengths must lie in"):
        decoder.decode_rows(ids, [1, 5])
    with pytest.raises(ValueError, match="lengths must lie in"):
        decoder.decode_rows(ids, [-1, 0])
    with pytest.raises(ValueError, match="one valid length per row"):
        decoder.decode_rows(ids, [1])
    with pytest.raises(ValueError, match="2-D"):
        decoder.decode_rows(np.zeros(4, dtype=np.int64), [1])
    with pytest.raises(TypeError, match="integers"):
        decoder.decode_rows(np.zeros((2, 4)), [1, 1])
    table = _core.TokenDecoder.from_tokenizer_json(tokenizer.backend_tokenizer.to_str())
    with pytest.raises(ValueError, match="columns"):
        table.decode_rows(ids, np.array([9, 0], dtype=np.int64))
    with pytest.raises(ValueError, match="byte-level BPE"):
        _core.TokenDecoder.from_tokenizer_json(
            '{"model": {"type": "WordPiece", "vocab": {}}, "decoder": {"type": "WordPiece"}}'
        )
    with pytest.raises(ValueError):
        _core.TokenDecoder.from_tokenizer_json("not json")


def test_unsupported_tokenizer_falls_back_to_its_own_decode():
    """A WordPiece (BERT-style) fast tokenizer, built locally, cannot be decoded natively."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "hello": 2, "world": 3, "##s": 4}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]")
    with pytest.warns(RuntimeWarning, match="unsupported tokenizer"):
        decoder = FastDecoder(tokenizer)
    assert not decoder.native
    ids = np.array([[2, 3, 4, 0]], dtype=np.int64)
    assert decoder.decode_rows(ids, [3]) == [tokenizer.decode([2, 3, 4], skip_special_tokens=True)]
    assert decoder.fallback_calls == 1


def test_a_failed_check_switches_to_the_tokenizer(tokenizer):
    class Shouting(type(tokenizer)):
        """A tokenizer whose decode differs from its vocabulary table (e.g. a custom class)."""

        def _decode(self, *args, **kwargs):
            return super()._decode(*args, **kwargs).upper()

    shouting = Shouting.from_pretrained(tokenizer.name_or_path)
    with pytest.warns(RuntimeWarning, match="disagrees"):
        decoder = FastDecoder(shouting)
    assert not decoder.native
    ids = np.array([tokenizer.encode("quiet please")], dtype=np.int64)
    assert decoder.decode_rows(ids, [ids.shape[1]]) == ["QUIET PLEASE"]


def test_pickles_and_rebuilds_the_table(tokenizer):
    decoder = FastDecoder(tokenizer)
    clone = pickle.loads(pickle.dumps(decoder))
    assert clone.native
    ids = np.array([tokenizer.encode(TEXTS[0])], dtype=np.int64)
    assert clone.decode_rows(ids, [ids.shape[1]]) == [TEXTS[0]]
    table = _core.TokenDecoder.from_tokenizer_json(tokenizer.backend_tokenizer.to_str())
    table_clone = pickle.loads(pickle.dumps(table))
    assert table_clone.vocab_size == table.vocab_size == len(tokenizer)
    assert table_clone.decode(ids[0]) == TEXTS[0]
    assert "TokenDecoder(vocab_size=151669" in repr(table) and "native" in repr(decoder)
