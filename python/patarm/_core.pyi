"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/)."""
from __future__ import annotations

__version__: str

# --- decoding (verl helper) ------------------------------------------------------------------
import numpy as _np
from typing import Optional as _Optional, Sequence as _Sequence

class TokenDecoder:
    """A byte-level BPE decoding table (token id -> bytes), built from a tokenizer's JSON."""

    @staticmethod
    def from_tokenizer_json(json: str) -> TokenDecoder: ...
    @staticmethod
    def from_pieces(pieces: _Sequence[_Optional[bytes]], special_ids: _Sequence[int]) -> TokenDecoder: ...
    @property
    def vocab_size(self) -> int: ...
    def decode(self, ids: _np.ndarray, *, skip_special_tokens: bool = ...) -> str: ...
    def decode_rows(
        self,
        ids: _np.ndarray,
        lengths: _np.ndarray,
        *,
        skip_special_tokens: bool = ...,
        num_threads: _Optional[int] = ...,
    ) -> list[str]: ...
