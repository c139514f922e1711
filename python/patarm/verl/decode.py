"""Fast, checked decoding of verl response tensors (numpy only; no verl import).

`FastDecoder(tokenizer)` decodes rows of token ids in Rust (`patarm._core.TokenDecoder`, a
vocabulary table built from the tokenizer's own JSON) and promises the same text as
`tokenizer.decode(ids, skip_special_tokens=True)`:
- at construction, the table decodes the whole vocabulary in one sequence, once with and once
  without special tokens, and must match the tokenizer's decode exactly;
- every call re-checks `verify_rows` rows (default 1) against the tokenizer;
- an unsupported tokenizer (not byte-level BPE, a slow tokenizer, a custom class) or any failed
  check switches to the tokenizer's own decode, with one warning and the reason in `fallback_reason`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from .. import _core

logger = logging.getLogger(__name__)

#: One-row calls (verl's reward loop decodes one rollout per call) re-check one call in this many.
SINGLE_ROW_CHECK_EVERY = 64


#: Tables that passed the vocabulary check, by (tokenizer class, tokenizer JSON): building a
#: manager per process or per test must not re-run the check each time.
_VERIFIED: dict = {}


def _tokenizer_json(tokenizer: Any) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or not hasattr(backend, "to_str"):
        raise ValueError(f"{type(tokenizer).__name__} is not a Hugging Face fast tokenizer")
    return backend.to_str()


def _native_table(tokenizer: Any) -> _core.TokenDecoder:
    return _core.TokenDecoder.from_tokenizer_json(_tokenizer_json(tokenizer))


class FastDecoder:
    """Decodes token-id rows like ``tokenizer.decode(ids, skip_special_tokens=True)``, natively
    when the tokenizer allows it, else through the tokenizer itself."""

    def __init__(self, tokenizer: Any, *, verify_rows: int = 1, num_threads: int | None = None) -> None:
        if verify_rows < 0:
            raise ValueError(f"verify_rows must be >= 0, got {verify_rows}; use 0 to skip per-call checks")
        self.tokenizer = tokenizer
        self.verify_rows = int(verify_rows)
        self.num_threads = num_threads
        self.fallback_reason: str | None = None
        self.fallback_calls = 0
        self._calls = 0
        self._table: _core.TokenDecoder | None = None
        try:
            json = _tokenizer_json(tokenizer)
            key = (type(tokenizer), getattr(tokenizer, "clean_up_tokenization_spaces", None), len(tokenizer), json)
            table = _VERIFIED.get(key)
            if table is None:
                table = _core.TokenDecoder.from_tokenizer_json(json)
        except ValueError as exc:
            self._fall_back(f"unsupported tokenizer: {exc}")
            return
        if key not in _VERIFIED:
            mismatch = self._probe_vocabulary(table)
            if mismatch is not None:
                self._fall_back(mismatch)
                return
            _VERIFIED[key] = table
        self._table = table

    @property
    def native(self) -> bool:
        """True while decoding runs in Rust."""
        return self._table is not None

    def _probe_vocabulary(self, table: _core.TokenDecoder) -> str | None:
        """Decodes every id once, in order, both ways; returns a description of a mismatch."""
        size = max(int(table.vocab_size), len(self.tokenizer))
        ids = np.arange(size, dtype=np.int64)
        for skip in (True, False):
            try:
                expected = self.tokenizer.decode(ids.tolist(), skip_special_tokens=skip)
            except Exception as exc:  # a tokenizer that cannot decode its own vocabulary
                return f"the tokenizer could not decode its vocabulary ({exc!r})"
            if table.decode(ids, skip_special_tokens=skip) != expected:
                return f"the native table disagrees with tokenizer.decode (skip_special_tokens={skip})"
        return None

    def _fall_back(self, reason: str) -> None:
        self._table = None
        self.fallback_reason = reason
        warnings.warn(
            f"patarm: native decoding disabled, using tokenizer.decode instead ({reason})",
            RuntimeWarning,
            stacklevel=3,
        )

    def _decode_with_tokenizer(self, ids: np.ndarray, lengths: np.ndarray) -> list[str]:
        self.fallback_calls += 1
        rows = [ids[r, : int(n)].tolist() for r, n in enumerate(lengths)]
        return list(self.tokenizer.batch_decode(rows, skip_special_tokens=True))

    def decode_rows(self, ids: Any, lengths: Any) -> list[str]:
        """Decodes ``ids[r, :lengths[r]]`` for each row r. `ids` is a 2-D integer array or CPU
        tensor (read without a copy when it is C-contiguous int64), `lengths` one int per row."""
        ids = as_int64_matrix(ids)
        lengths = np.ascontiguousarray(_to_numpy(lengths), dtype=np.int64).reshape(-1)
        if lengths.shape[0] != ids.shape[0]:
            raise ValueError(f"got {lengths.shape[0]} lengths for {ids.shape[0]} rows; pass one valid length per row")
        if lengths.size and (lengths.min() < 0 or lengths.max() > ids.shape[1]):
            raise ValueError(
                f"lengths must lie in 0..{ids.shape[1]} (the number of columns); got {lengths.min()}..{lengths.max()}"
            )
        if self._table is None:
            return self._decode_with_tokenizer(ids, lengths)
        texts = self._table.decode_rows(ids, lengths, skip_special_tokens=True, num_threads=self.num_threads)
        self._calls += 1
        # Batch calls re-check their first rows; one-row calls (verl's reward loop) every 64th call.
        checked = self.verify_rows if len(texts) > 1 or self._calls % SINGLE_ROW_CHECK_EVERY == 1 else 0
        for row in range(min(checked, len(texts))):
            expected = self.tokenizer.decode(ids[row, : lengths[row]].tolist(), skip_special_tokens=True)
            if texts[row] != expected:
                self._fall_back(f"row {row} decoded differently from tokenizer.decode")
                return self._decode_with_tokenizer(ids, lengths)
        return texts

    def checked_table(self, ids: np.ndarray, lengths: np.ndarray) -> _core.TokenDecoder | None:
        """The native table for a batch about to be decoded natively in one pass (e.g. fused
        with scoring), after the per-call check of its first rows; None if decoding must go
        through the tokenizer."""
        if self._table is None:
            return None
        rows = min(self.verify_rows, ids.shape[0])
        if rows:
            native = self._table.decode_rows(ids[:rows], lengths[:rows], skip_special_tokens=True)
            for row in range(rows):
                if native[row] != self.tokenizer.decode(ids[row, : lengths[row]].tolist(), skip_special_tokens=True):
                    self._fall_back(f"row {row} decoded differently from tokenizer.decode")
                    return None
        return self._table

    def decode(self, ids: Any) -> str:
        """Decodes one sequence of ids (a list, array or tensor)."""
        row = as_int64_matrix(np.asarray(_to_numpy(ids), dtype=np.int64).reshape(1, -1))
        return self.decode_rows(row, np.array([row.shape[1]], dtype=np.int64))[0]

    def __getstate__(self) -> dict:
        # The native table rebuilds from the tokenizer (and is re-checked) on the other side.
        state = self.__dict__.copy()
        state["_table"] = None
        state["_was_native"] = self._table is not None
        return state

    def __setstate__(self, state: dict) -> None:
        was_native = state.pop("_was_native", False)
        self.__dict__.update(state)
        if was_native:
            try:
                self._table = _native_table(self.tokenizer)
            except ValueError as exc:
                self._fall_back(f"unsupported tokenizer: {exc}")

    def __repr__(self) -> str:
        mode = "native" if self.native else f"tokenizer fallback: {self.fallback_reason}"
        return f"FastDecoder({type(self.tokenizer).__name__}, {mode})"


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def as_int64_matrix(ids: Any) -> np.ndarray:
    """A C-contiguous int64 view (no copy for a contiguous int64 CPU tensor) of a 2-D id matrix."""
    array = _to_numpy(ids)
    if array.ndim != 2:
        raise ValueError(f"ids must be a 2-D array (rows x tokens), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"ids must hold integers, got dtype {array.dtype}; pass token ids")
    return np.ascontiguousarray(array, dtype=np.int64)
