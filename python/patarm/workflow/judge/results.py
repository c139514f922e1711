"""What a pointwise judge returns: ``ScoreResult`` per response, ``PairResult`` per (chosen,
rejected) pair, and ``Results``, their list with a DataFrame export. Judgement texts are parsed
and voted in the Rust core: mean voting for single responses, mean and majority voting for pairs
(docs/method.md §6). Results keep the raw judgement texts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._optional import require
from ...voting import majority_vote, mean_vote, mean_vote_gaps, score_matrix, tie_credit


@dataclass(repr=False)
class ScoreResult:
    """The judge's verdict on one response: every raw judgement, its parsed score (NaN when
    the judgement is malformed), its error kind, and the mean-voted ``score``."""

    prompt: str
    response: str
    domain: str
    judgements: list[str]
    scores: np.ndarray
    errors: list[str | None]
    score: float  # mean of the valid scores; NaN when none is valid
    failed: bool = False  # the judge call failed after its retries (no judgements)

    @property
    def n(self) -> int:
        return len(self.judgements)

    @property
    def num_valid(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.scores)))

    def __repr__(self) -> str:
        return f"ScoreResult(score={self.score:.3g}, valid={self.num_valid}/{self.n}, domain={self.domain!r})"

    def to_record(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "response": self.response,
            "domain": self.domain,
            "score": self.score,
            "num_valid": self.num_valid,
            "n": self.n,
            "scores": self.scores.tolist(),
            "errors": list(self.errors),
            "judgements": list(self.judgements),
        }


@dataclass(repr=False)
class PairResult:
    """The judge's verdict on a (chosen, rejected) pair: both sides' results plus the two votes.
    ``mean_correct``: the chosen mean score is strictly higher (compared exactly).
    ``majority_correct``: the chosen response won more rounds (round i compares the i-th
    judgement of each side). Ties lose; ``mean_tie``/``majority_tie`` mark them (a side without
    a valid score included), and :meth:`credit` counts them as ``ties`` says."""

    chosen: ScoreResult
    rejected: ScoreResult
    mean_correct: bool
    majority_correct: bool
    votes: tuple[int, int]  # rounds won by (chosen, rejected)
    mean_tie: bool = False
    majority_tie: bool = False

    def credit(self, method: str = "mean", ties: str = "wrong") -> float:
        """1.0 for a win, 0.0 for a loss; a tie earns 0.0 (``ties="wrong"``) or 0.5
        (``ties="half"``, as RewardBench's generative-judge script)."""
        if method not in ("mean", "majority"):
            raise ValueError(f"method={method!r}; use 'mean' or 'majority'")
        correct, tie = (
            (self.mean_correct, self.mean_tie) if method == "mean" else (self.majority_correct, self.majority_tie)
        )
        return 1.0 if correct else tie_credit(ties) if tie else 0.0

    @property
    def margin(self) -> float:
        return self.chosen.score - self.rejected.score

    def __repr__(self) -> str:
        return (
            f"PairResult(chosen={self.chosen.score:.3g}, rejected={self.rejected.score:.3g}, "
            f"mean_correct={self.mean_correct}, majority_correct={self.majority_correct})"
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "prompt": self.chosen.prompt,
            "domain": self.chosen.domain,
            "chosen_score": self.chosen.score,
            "rejected_score": self.rejected.score,
            "margin": self.margin,
            "mean_correct": self.mean_correct,
            "majority_correct": self.majority_correct,
            "chosen_votes": self.votes[0],
            "rejected_votes": self.votes[1],
            "chosen_scores": self.chosen.scores.tolist(),
            "rejected_scores": self.rejected.scores.tolist(),
            "chosen_judgements": list(self.chosen.judgements),
            "rejected_judgements": list(self.rejected.judgements),
            "chosen": self.chosen.response,
            "rejected": self.rejected.response,
        }


class Results(list):
    """A list of ``ScoreResult`` or ``PairResult`` with a DataFrame export. ``stats``: the
    run's :class:`patarm.workflow.judge.log.JudgingStats` (None when built by hand)."""

    stats: Any = None

    def __repr__(self) -> str:
        kind = type(self[0]).__name__ if self else "result"
        return f"Results({len(self)} x {kind})"

    def to_records(self) -> list[dict[str, Any]]:
        return [item.to_record() for item in self]

    def accuracy(self, method: str = "mean", ties: str = "wrong") -> float:
        """Mean :meth:`PairResult.credit` of pair results (NaN when empty)."""
        return sum(item.credit(method, ties) for item in self) / len(self) if self else math.nan

    def to_pandas(self):
        """One row per result (raw judgements in list columns). Needs pandas."""
        pd = require("pandas", "Results.to_pandas()", "'patarm[pandas]'")
        return pd.DataFrame(self.to_records())


# --------------------------------------------------------------------------------------------
# Voting (Rust core)


def _mean_votes(score_rows: Sequence[np.ndarray]) -> np.ndarray:
    return np.asarray(mean_vote(score_matrix(score_rows)))  # a matrix in: one mean per row


def _majority_votes(chosen_rows: Sequence[np.ndarray], rejected_rows: Sequence[np.ndarray]):
    """(chosen won, chosen votes, rejected votes) per pair, from the Rust core."""
    # Both sides padded to one width: round i compares the i-th judgement of each side.
    width = max([len(r) for r in chosen_rows] + [len(r) for r in rejected_rows] + [1])
    vote = majority_vote(score_matrix(chosen_rows, width), score_matrix(rejected_rows, width))
    return vote.chosen_wins, vote.chosen_votes, vote.rejected_votes


def score_results(
    prompts: Sequence[str],
    responses: Sequence[str],
    domains: Sequence[str],
    judgement_lists: Sequence[Sequence[str] | None],
    *,
    think_in_prompt: bool = False,
    answer_only: bool = False,
) -> list[ScoreResult]:
    """One ``ScoreResult`` per response from its judgement texts: all of them parsed in one Rust
    batch, each response's valid scores mean-voted. A None list is a failed judge call: a
    result with no judgements and ``failed=True``."""
    from ...parsing import ERROR_KINDS, parse_judgements

    failed = [texts is None for texts in judgement_lists]
    lists: list[Sequence[str]] = [[] if texts is None else texts for texts in judgement_lists]
    flat = [text for texts in lists for text in texts]
    parsed = parse_judgements(flat, think_in_prompt=think_in_prompt, answer_only=answer_only)
    scores = np.asarray(parsed["score"], dtype=np.float64)
    codes = np.asarray(parsed["error_code"]).tolist()
    rows, start = [], 0
    for texts in lists:
        rows.append(scores[start : start + len(texts)])
        start += len(texts)
    means = _mean_votes(rows)
    out, start = [], 0
    for prompt, response, domain, texts, row, mean, lost in zip(
        prompts, responses, domains, lists, rows, means, failed, strict=True
    ):
        errors = [ERROR_KINDS[c] for c in codes[start : start + len(texts)]]
        start += len(texts)
        out.append(ScoreResult(prompt, response, domain, list(texts), row, errors, float(mean), lost))
    return out


def pair_results(chosen: Sequence[ScoreResult], rejected: Sequence[ScoreResult]) -> list[PairResult]:
    """Pair up two sides' results and vote (mean and majority, Rust core)."""
    chosen_rows, rejected_rows = [c.scores for c in chosen], [r.scores for r in rejected]
    wins, c_votes, r_votes = _majority_votes(chosen_rows, rejected_rows)
    width = max([len(row) for row in chosen_rows] + [len(row) for row in rejected_rows] + [1])
    _, order = mean_vote_gaps(score_matrix(chosen_rows, width), score_matrix(rejected_rows, width))
    out = []
    for i, (c, r) in enumerate(zip(chosen, rejected, strict=True)):
        # Exact means; a side without a valid score gives order 0: not a win, a tie.
        out.append(
            PairResult(
                c,
                r,
                bool(order[i] == 1),
                bool(wins[i]),
                (int(c_votes[i]), int(r_votes[i])),
                mean_tie=bool(order[i] == 0),
                majority_tie=bool(c_votes[i] == r_votes[i]),
            )
        )
    return out


__all__ = ["PairResult", "Results", "ScoreResult", "pair_results", "score_results"]
