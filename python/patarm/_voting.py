"""Score matrices for the Rust core's voting (``patarm.mean_vote``, ``patarm.majority_vote``),
shared by the judge client, the evaluator and the filters."""
from __future__ import annotations

from typing import Optional, Sequence

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
    from .voting import mean_vote

    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    return np.asarray(mean_vote(matrix, rounds=rounds), dtype=np.float64)


def majority(chosen: np.ndarray, rejected: np.ndarray, rounds: Optional[int] = None):
    """Majority voting per pair (a ``patarm.MajorityVote``: ``chosen_wins``, ``chosen_votes``,
    ``rejected_votes``); ties and invalid rounds vote for nobody, a tie is not a win."""
    from .voting import majority_vote

    return majority_vote(np.ascontiguousarray(chosen, dtype=np.float64),
                         np.ascontiguousarray(rejected, dtype=np.float64), rounds=rounds)
