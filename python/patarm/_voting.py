"""Thin adapters from score matrices to the Rust core's voting (``patarm.mean_vote`` and
``patarm.majority_vote``), shared by the judge client, the evaluator and the filters."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np


def score_matrix(rows: Sequence[Sequence[float]]) -> np.ndarray:
    """Rows of scores as a [rows, n] float64 matrix, short rows padded with NaN (no vote)."""
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), width), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = np.asarray(row, dtype=np.float64)
    return out


def mean_scores(matrix: np.ndarray, rounds: Optional[int] = None) -> np.ndarray:
    """Mean of the valid scores of each row (NaN when none), over the first ``rounds`` columns."""
    from . import mean_vote

    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    return np.asarray(mean_vote(matrix, rounds=rounds), dtype=np.float64)


def majority_counts(
    chosen: np.ndarray, rejected: np.ndarray, rounds: Optional[int] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """Rounds won by the chosen and by the rejected response of each pair (ties and invalid
    rounds vote for nobody); the chosen response wins with strictly more votes."""
    from . import majority_vote

    chosen = np.ascontiguousarray(chosen, dtype=np.float64)
    rejected = np.ascontiguousarray(rejected, dtype=np.float64)
    result = majority_vote(chosen, rejected, rounds=rounds)
    get = result.__getitem__ if isinstance(result, dict) else lambda k: getattr(result, k)
    return (np.asarray(get("chosen_votes"), dtype=np.int64), np.asarray(get("rejected_votes"), dtype=np.int64))
