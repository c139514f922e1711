"""Voting over n judgements of a trained judge (docs/method.md §6).

* :func:`mean_vote` averages the valid scores of each response (NaN marks an invalid
  judgement; ``None`` is read as NaN), exactly: each float stands for the shortest decimal
  that prints as it, so ``mean_vote([0.1, 0.2]) == 0.15`` (docs/method.md §4).
* :func:`mean_vote_gaps` compares two sides' means exactly (ties are exact ties).
* :func:`majority_vote` compares a pair's chosen and rejected scores round by round: the
  response scored strictly higher gets the round's vote, a round with a NaN or a tie votes for
  nobody, and the chosen response wins with strictly more votes (a tie is not a win).
* :func:`majority_vote_verdicts` does the same for the pairwise judge, whose rounds name
  ``"A"`` or ``"B"``.

``rounds=k`` uses only the first k judgements of each response, so accuracy at n = 1, 2, 4, 8
comes from one set of 8 samples::

    for k in (1, 2, 4, 8):
        acc = patarm.majority_vote(chosen, rejected, rounds=k).accuracy

Ties count as wrong (``accuracy``); ``MajorityVote.score(ties="half")`` counts them as half a
win, as RewardBench's generative-judge script does. The counting runs in the Rust core with
the GIL released.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core

__all__ = [
    "mean_vote",
    "mean_vote_gaps",
    "majority_vote",
    "majority_vote_verdicts",
    "MajorityVote",
    "TIES",
    "tie_credit",
]


def _pad_ragged(values: Any, fill: Any, name: str) -> np.ndarray:
    """Rows of different lengths become a 2-D object array padded with ``fill`` (an invalid
    judgement), so responses with fewer judgements still vote on what they have."""
    try:
        rows = [list(row) for row in values]
    except TypeError:
        raise TypeError(f"{name} must be a 1-D or 2-D array-like of judgements") from None
    width = max((len(row) for row in rows), default=0)
    padded = np.full((len(rows), width), fill, dtype=object)
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    return padded


def score_matrix(rows: Sequence[Sequence[float] | np.ndarray], width: int | None = None) -> np.ndarray:
    """Rows of float scores as a [rows, width] float64 matrix (default width: the longest
    row), short rows padded with NaN (no vote). The judge client and the filters use it to
    put both sides of a pair on one width, so round i compares the i-th judgements."""
    if width is None:
        width = max((len(row) for row in rows), default=0)
    out = np.full((len(rows), width), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = np.asarray(row, dtype=np.float64)
    return out


def _as_array(values: Any, name: str, fill: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array-like of judgements, got {type(values).__name__}")
    try:
        return np.asarray(values)
    except ValueError:  # ragged rows
        return _pad_ragged(values, fill, name)


def _as_score(value: Any, name: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise TypeError(
        f"{name} must hold numbers (NaN or None for an invalid judgement), found {type(value).__name__} {value!r}"
    )


def _scores(values: Any, name: str) -> np.ndarray:
    """A float64 array of 1 or 2 dimensions; NaN (or None) marks an invalid judgement."""
    array = _as_array(values, name, None)
    if array.dtype.kind in "iuf":
        array = array.astype(np.float64, copy=False)
    elif array.dtype.kind == "O":
        array = (
            np.vectorize(lambda v: _as_score(v, name), otypes=[np.float64])(array)
            if array.size
            else array.astype(np.float64)
        )
    else:
        raise TypeError(
            f"{name} must be numbers (float scores, NaN or None for invalid judgements), got an "
            f"array of dtype {array.dtype}"
        )
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D [n judgements] or 2-D [responses, n judgements], got shape {array.shape}")
    return array


def mean_vote(scores: Any, *, rounds: int | None = None, num_threads: int | None = None) -> float | np.ndarray:
    """Mean of the valid scores of each response.

    Args:
        scores: 1-D ``[n]`` (the n judgements of one response) or 2-D ``[responses, n]``
            float scores; NaN or ``None`` marks an invalid judgement. Rows of a nested list
            may differ in length (missing judgements count as invalid).
        rounds: use only the first ``rounds`` judgements of each response.
        num_threads: bound on worker threads (default: ``PATARM_NUM_THREADS`` or all CPUs).

    Returns:
        A float for 1-D input, else a float64 array ``[responses]``; NaN where a response has
        no valid score.
    """
    array = _scores(scores, "scores")
    matrix = array.reshape(1, -1) if array.ndim == 1 else array
    means = _core.mean_vote_rows(matrix, rounds, num_threads)
    return float(means[0]) if array.ndim == 1 else means


def mean_vote_gaps(
    chosen: Any,
    rejected: Any,
    *,
    margin: float = 0.0,
    rounds: int | None = None,
    num_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean voting on pairs, compared exactly (docs/method.md §4).

    ``chosen`` and ``rejected`` are ``[pairs, n]`` scores (NaN marks an invalid judgement);
    each float stands for the shortest decimal that prints as it. Returns ``(gap, order)``:
    ``gap`` the nearest float of mean(chosen) - mean(rejected) (NaN when a side has no valid
    score) and ``order`` (int8) its exact comparison with ``margin``: 1 above, 0 equal (or no
    gap), -1 below. ``order == 1`` with margin 0 is "the chosen response wins" (a tie is not).
    """
    c = _as_matrix(_scores(chosen, "chosen"))
    r = _as_matrix(_scores(rejected, "rejected"))
    return _core.mean_vote_gaps(c, r, margin, rounds, num_threads)


TIES = ("wrong", "half")


def tie_credit(ties: str) -> float:
    """What a tie (or a pair without a valid vote) earns: 0 with ``ties="wrong"`` (the paper's
    rule), 0.5 with ``ties="half"`` (RewardBench's generative-judge script)."""
    if ties not in TIES:
        raise ValueError(f"ties={ties!r}; use 'wrong' (a tie is not a win) or 'half' (a tie is half a win)")
    return 0.0 if ties == "wrong" else 0.5


@dataclass(frozen=True, repr=False, eq=False)
class MajorityVote:
    """Outcome of majority voting for a batch of pairs (arrays of length ``pairs``).

    Attributes:
        chosen_wins: bool, the chosen response got strictly more votes (a tie is not a win).
        chosen_votes: int64, rounds that preferred the chosen response.
        rejected_votes: int64, rounds that preferred the rejected response.
        rounds: judgements per response that were used.
    """

    chosen_wins: np.ndarray
    chosen_votes: np.ndarray
    rejected_votes: np.ndarray
    rounds: int

    @property
    def ties(self) -> np.ndarray:
        """bool, pairs whose votes are level (including pairs with no valid round)."""
        return self.chosen_votes == self.rejected_votes

    @property
    def accuracy(self) -> float:
        """Fraction of pairs the chosen response wins (NaN for no pairs); ties are wrong."""
        return float(self.chosen_wins.mean()) if len(self.chosen_wins) else math.nan

    def score(self, ties: str = "wrong") -> float:
        """Accuracy with ties counted as ``ties`` says: ``"wrong"`` (0, as :attr:`accuracy`)
        or ``"half"`` (half a win, as RewardBench's generative-judge script)."""
        credit = tie_credit(ties)
        if not len(self.chosen_wins):
            return math.nan
        return float((self.chosen_wins + credit * self.ties).mean())

    def as_dict(self) -> dict[str, np.ndarray]:
        return {
            "chosen_wins": self.chosen_wins,
            "chosen_votes": self.chosen_votes,
            "rejected_votes": self.rejected_votes,
        }

    def __len__(self) -> int:
        return len(self.chosen_wins)

    def __repr__(self) -> str:
        accuracy = f"{self.accuracy:.4f}" if len(self) else "nan"
        return f"MajorityVote(pairs={len(self)}, rounds={self.rounds}, accuracy={accuracy})"


def _as_matrix(array: np.ndarray) -> np.ndarray:
    return array.reshape(1, -1) if array.ndim == 1 else array


def _used_rounds(rounds: int | None, matrix: np.ndarray) -> int:
    """The rounds a vote used, once the core has accepted ``rounds`` (1 <= rounds <= n)."""
    return matrix.shape[1] if rounds is None else operator.index(rounds)


def majority_vote(
    chosen_scores: Any,
    rejected_scores: Any,
    *,
    rounds: int | None = None,
    num_threads: int | None = None,
) -> MajorityVote:
    """Majority voting on the scores of the chosen and rejected responses of each pair.

    Round i compares ``chosen_scores[p, i]`` with ``rejected_scores[p, i]``: the higher one
    gets the vote; a NaN (invalid judgement) or an equal score votes for nobody. The chosen
    response wins with strictly more votes.

    Args:
        chosen_scores, rejected_scores: ``[pairs, n]`` float arrays of the same shape (NaN or
            ``None`` = invalid judgement); a 1-D ``[n]`` array is one pair.
        rounds: use only the first ``rounds`` judgements of each side.
        num_threads: bound on worker threads.
    """
    chosen = _as_matrix(_scores(chosen_scores, "chosen_scores"))
    rejected = _as_matrix(_scores(rejected_scores, "rejected_scores"))
    wins, chosen_votes, rejected_votes = _core.majority_vote_counts(chosen, rejected, rounds, num_threads)
    return MajorityVote(wins, chosen_votes, rejected_votes, _used_rounds(rounds, chosen))


# "A" -> 1, "B" -> 2: the core's codes, read off its labels (VERDICT_LABELS[code] == label).
_VERDICT_CODES = {label: code for code, label in enumerate(_core.VERDICT_LABELS) if label}


def _verdict_code(value: Any, name: str, allow_none: bool) -> int:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        code = _VERDICT_CODES.get(value.strip())
        if code is not None:
            return code
        if allow_none and not value.strip():
            return 0
    elif allow_none and (value is None or (isinstance(value, float) and math.isnan(value))):
        return 0
    allowed = '"A", "B", or None/"" for no valid verdict' if allow_none else '"A" or "B"'
    raise ValueError(f"{name} holds {value!r}: each entry must be {allowed}")


def _verdicts(values: Any, name: str, allow_none: bool) -> np.ndarray:
    """int8 verdict codes (0 none, 1 A, 2 B) from strings, None, or codes already."""
    array = _as_array(values, name, None)
    if array.dtype.kind in "iu":  # codes already: the core checks each (its error names the pair)
        codes = array.astype(np.int8)
        if not np.array_equal(codes, array):  # a value int8 cannot hold would wrap into a valid code
            raise ValueError(f"{name} holds verdict codes outside int8; the codes are the indices of VERDICT_LABELS")
        return codes
    if array.dtype.kind not in "OUSf":
        raise TypeError(f'{name} must hold verdicts "A"/"B" (or codes 1/2), got dtype {array.dtype}')
    if array.size == 0:
        return np.zeros(array.shape, dtype=np.int8)
    to_code = np.vectorize(lambda v: _verdict_code(v, name, allow_none), otypes=[np.int8])
    return to_code(array)


def majority_vote_verdicts(
    choices: Any,
    correct: Any,
    *,
    rounds: int | None = None,
    num_threads: int | None = None,
) -> MajorityVote:
    """Majority voting for the pairwise judge.

    Args:
        choices: ``[pairs, n]`` verdicts, each ``"A"``, ``"B"``, or ``None`` / ``""`` / NaN for
            a round without a valid verdict (which votes for nobody); int codes 0 (none),
            1 (A), 2 (B) are accepted too. A 1-D ``[n]`` array is one pair.
        correct: ``[pairs]`` the label of the chosen response, ``"A"`` or ``"B"`` (or 1/2).
        rounds: use only the first ``rounds`` verdicts of each pair.
        num_threads: bound on worker threads.

    A round naming the chosen response votes for it, naming the other votes for the rejected
    one; the chosen response wins with strictly more votes.
    """
    codes = _verdicts(choices, "choices", allow_none=True)
    if codes.ndim not in (1, 2):
        raise ValueError(f"choices must be 1-D [n] or 2-D [pairs, n], got shape {codes.shape}")
    codes = _as_matrix(codes)
    if isinstance(correct, (str, bytes)):
        correct = [correct]
    labels = _verdicts(correct, "correct", allow_none=False)
    if labels.ndim != 1:
        raise ValueError(f"correct must be 1-D [pairs], got shape {labels.shape}")
    wins, chosen_votes, rejected_votes = _core.majority_vote_verdict_counts(
        np.ascontiguousarray(codes), np.ascontiguousarray(labels), rounds, num_threads
    )
    return MajorityVote(wins, chosen_votes, rejected_votes, _used_rounds(rounds, codes))
