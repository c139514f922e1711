"""Pairwise judges (docs/method.md §5): the judge sees responses A and B and names the better.

Every pair is judged ``n`` times in both orders (position swap): order ``AB`` shows the chosen
response as A, order ``BA`` shows it as B. A verdict is 1 when it names the chosen response, 0
when it names the rejected one, NaN when the judgement is malformed. Votes run in the Rust core:

- mean voting: the chosen response wins when the share of valid verdicts (both orders, all
  rounds) naming it is above one half; exactly one half, or no valid verdict, is a tie;
- majority voting: round i (the i-th judgement of each order) votes for the response its
  verdicts favour; an undecided round (the orders disagree) votes for nobody; more round
  votes wins, equal votes are a tie.

Ties are not a win (``credit(ties="half")`` counts them as half). Position consistency: a pair
is consistent when the verdicts of each order (its majority over the rounds) name the same
response; ``round_consistency`` is the share of rounds with valid verdicts in both orders
whose two verdicts agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...voting import majority_vote, mean_vote_gaps, tie_credit
from .results import Results

ORDERS = ("AB", "BA")  # AB: the chosen response is shown as A


@dataclass(repr=False)
class PairwiseResult:
    """A pairwise judge's verdicts on one (chosen, rejected) pair, in both orders."""

    prompt: str
    chosen: str
    rejected: str
    domain: str
    judgements: dict[str, list[str]]  # order -> raw judgement texts
    choices: dict[str, list[str]]  # order -> "A", "B" or "" (malformed)
    errors: dict[str, list[str | None]]  # order -> error kind or None
    verdicts: np.ndarray  # (2, n): 1.0 names the chosen response, 0.0 the rejected, NaN invalid
    chosen_share: float  # share of valid verdicts naming the chosen response (NaN: none valid)
    mean_correct: bool
    majority_correct: bool
    votes: tuple  # rounds won by (chosen, rejected)
    mean_tie: bool = False
    majority_tie: bool = False

    @property
    def n(self) -> int:
        return int(self.verdicts.shape[1])

    @property
    def num_valid(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.verdicts)))

    @property
    def consistent(self) -> bool | None:
        """Whether both orders' verdicts name the same response (None: an order is undecided)."""
        picks = [_order_pick(row) for row in self.verdicts]
        if None in picks:
            return None
        return picks[0] == picks[1]

    @property
    def consistent_rounds(self) -> int:
        ab, ba = self.verdicts
        return int(np.count_nonzero(~np.isnan(ab) & ~np.isnan(ba) & (ab == ba)))

    @property
    def comparable_rounds(self) -> int:
        ab, ba = self.verdicts
        return int(np.count_nonzero(~np.isnan(ab) & ~np.isnan(ba)))

    def credit(self, method: str = "mean", ties: str = "wrong") -> float:
        """1.0 for a win, 0.0 for a loss; a tie earns 0.0 (``ties="wrong"``) or 0.5 (``"half"``)."""
        if method not in ("mean", "majority"):
            raise ValueError(f"method={method!r}; use 'mean' or 'majority'")
        correct, tie = (
            (self.mean_correct, self.mean_tie) if method == "mean" else (self.majority_correct, self.majority_tie)
        )
        return 1.0 if correct else tie_credit(ties) if tie else 0.0

    def __repr__(self) -> str:
        share = "nan" if math.isnan(self.chosen_share) else f"{self.chosen_share:.3g}"
        return (
            f"PairwiseResult(chosen_share={share}, mean_correct={self.mean_correct}, "
            f"majority_correct={self.majority_correct}, consistent={self.consistent})"
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "domain": self.domain,
            "chosen_share": self.chosen_share,
            "mean_correct": self.mean_correct,
            "majority_correct": self.majority_correct,
            "chosen_votes": self.votes[0],
            "rejected_votes": self.votes[1],
            "consistent": self.consistent,
            "choices_ab": list(self.choices["AB"]),
            "choices_ba": list(self.choices["BA"]),
            "judgements_ab": list(self.judgements["AB"]),
            "judgements_ba": list(self.judgements["BA"]),
            "chosen": self.chosen,
            "rejected": self.rejected,
        }


def _order_pick(row: np.ndarray) -> int | None:
    """The response one order's rounds name most (1 chosen, 0 rejected), None when even."""
    valid = row[~np.isnan(row)]
    for_chosen = int(np.count_nonzero(valid == 1.0))
    against = valid.size - for_chosen
    return None if for_chosen == against else int(for_chosen > against)


def verdicts_from_choices(choices_ab: Sequence[str], choices_ba: Sequence[str]) -> np.ndarray:
    """(2, n) verdicts: in order AB the chosen response is A, in order BA it is B."""

    def row(choices: Sequence[str], chosen_letter: str) -> list[float]:
        return [math.nan if c not in ("A", "B") else float(c == chosen_letter) for c in choices]

    return np.array([row(choices_ab, "A"), row(choices_ba, "B")], dtype=np.float64)


def vote_pairwise(verdicts: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Mean and majority votes for many pairs' (2, n) verdict arrays, in the Rust core."""
    width = max([v.shape[1] for v in verdicts] + [1])
    count = len(verdicts)
    both = np.full((count, 2 * width), np.nan)  # all verdicts of a pair, both orders
    rounds = np.full((count, width), np.nan)  # a round's score for the chosen response
    for i, v in enumerate(verdicts):
        k = v.shape[1]
        both[i, :k], both[i, width : width + k] = v[0], v[1]
        valid = ~np.isnan(v)
        counts = valid.sum(axis=0)
        sums = np.where(valid, v, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rounds[i, :k] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    # The rejected response's score is the complement: a verdict for one is one against the other.
    _, order = mean_vote_gaps(both, 1.0 - both)
    vote = majority_vote(rounds, 1.0 - rounds)
    valid = ~np.isnan(both)
    shares = np.where(
        valid.any(axis=1), np.where(valid, both, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1), np.nan
    )
    return {
        "order": np.asarray(order),
        "chosen_wins": np.asarray(vote.chosen_wins),
        "chosen_votes": np.asarray(vote.chosen_votes),
        "rejected_votes": np.asarray(vote.rejected_votes),
        "shares": shares,
    }


def pairwise_results(
    prompts, chosen, rejected, domains, texts_ab, texts_ba, *, think_in_prompt=False
) -> list[PairwiseResult]:
    """Parse both orders' judgements (one Rust batch) and vote."""
    from ...parsing import ERROR_KINDS, parse_judgements

    flat = [t for texts in list(texts_ab) + list(texts_ba) for t in texts]
    parsed = (
        parse_judgements(flat, pairwise=True, think_in_prompt=think_in_prompt)
        if flat
        else {"choice": np.array([], dtype="<U1"), "error_code": np.array([], dtype=np.int8)}
    )
    choices, codes = parsed["choice"].tolist(), np.asarray(parsed["error_code"]).tolist()
    per_order: list[list[tuple]] = [[], []]
    start = 0
    for index, texts in enumerate(list(texts_ab) + list(texts_ba)):
        stop = start + len(texts)
        per_order[index >= len(texts_ab)].append((choices[start:stop], [ERROR_KINDS[c] for c in codes[start:stop]]))
        start = stop
    verdicts = [verdicts_from_choices(ab[0], ba[0]) for ab, ba in zip(*per_order, strict=True)]
    votes = vote_pairwise(verdicts)
    out = []
    for i, (ab, ba) in enumerate(zip(*per_order, strict=True)):
        c_votes, r_votes = int(votes["chosen_votes"][i]), int(votes["rejected_votes"][i])
        out.append(
            PairwiseResult(
                prompt=prompts[i],
                chosen=chosen[i],
                rejected=rejected[i],
                domain=domains[i],
                judgements={"AB": list(texts_ab[i]), "BA": list(texts_ba[i])},
                choices={"AB": list(ab[0]), "BA": list(ba[0])},
                errors={"AB": ab[1], "BA": ba[1]},
                verdicts=verdicts[i],
                chosen_share=float(votes["shares"][i]),
                mean_correct=bool(votes["order"][i] == 1),
                majority_correct=bool(votes["chosen_wins"][i]),
                votes=(c_votes, r_votes),
                mean_tie=bool(votes["order"][i] == 0),
                majority_tie=c_votes == r_votes,
            )
        )
    return out


def pairwise_summary(results: Sequence[PairwiseResult], ties: str = "wrong") -> dict[str, Any]:
    """Accuracy (mean and majority voting), position consistency and the judge's A-rate."""

    def share(hits: float, total: int) -> float | None:
        return hits / total if total else None

    decided = [r.consistent for r in results if r.consistent is not None]
    letters = [c for r in results for order in ORDERS for c in r.choices[order] if c]
    comparable = sum(r.comparable_rounds for r in results)
    return {
        "pairs": len(results),
        "accuracy": {m: share(sum(r.credit(m, ties) for r in results), len(results)) for m in ("mean", "majority")},
        # pairs whose two orders both have a verdict, and of those the share naming the same response
        "position_consistency": share(sum(decided), len(decided)),
        "position_consistency_pairs": len(decided),
        "round_consistency": share(sum(r.consistent_rounds for r in results), comparable),
        "a_rate": share(letters.count("A"), len(letters)),  # 0.5 for a judge without position bias
        "valid_judgement_rate": share(sum(r.num_valid for r in results), sum(2 * r.n for r in results)),
    }


async def acompare_pairwise_many(
    judge,
    prompts,
    chosen,
    rejected,
    *,
    domains=None,
    rubrics=None,
    show_progress: bool = False,
    cache: Any = None,
    _slots=None,
):
    """Judge every pair ``judge.n`` times in both orders; see :meth:`patarm.Judge.acompare_pairwise_many`."""
    from ..data.prepare import judge_prompt_texts
    from .log import JudgementLog, open_log, sample_logged

    prompts, chosen, rejected = list(prompts), list(chosen), list(rejected)
    if not (len(prompts) == len(chosen) == len(rejected)):
        raise ValueError(
            f"prompts, chosen and rejected differ in length ({len(prompts)}, {len(chosen)}, {len(rejected)})"
        )
    domains = [judge.domain] * len(prompts) if domains is None else list(domains)
    if len(domains) != len(prompts):
        raise ValueError(f"got {len(domains)} domains for {len(prompts)} pairs; pass one per pair or none")
    rubrics = judge.rubrics if rubrics is None else rubrics
    # Both orders in one Rust batch: AB rows first, then BA rows.
    texts = judge_prompt_texts(
        prompts * 2, chosen + rejected, domains * 2, responses_b=rejected + chosen, rubrics=rubrics
    )
    messages = [[{"role": "user", "content": text}] for text in texts]
    log = open_log(cache)
    try:
        lists, stats = await sample_logged(
            judge, messages, _slots, log, show_progress=show_progress, desc="judging pairs"
        )
    finally:
        if log is not None and not isinstance(cache, JudgementLog):
            log.close()
    count = len(prompts)
    results = pairwise_results(
        prompts, chosen, rejected, domains, lists[:count], lists[count:], think_in_prompt=judge.think_in_prompt
    )
    stats.count_errors([kind for r in results for order in ORDERS for kind in r.errors[order]])
    out = PairwiseResults(results)
    out.stats = stats
    return out


class PairwiseResults(Results):
    """A list of :class:`PairwiseResult` with accuracy, position consistency and a DataFrame export."""

    def summary(self, ties: str = "wrong") -> dict[str, Any]:
        return pairwise_summary(self, ties)

    @property
    def position_consistency(self) -> float:
        value = pairwise_summary(self)["position_consistency"]
        return math.nan if value is None else value


__all__ = [
    "ORDERS",
    "PairwiseResult",
    "PairwiseResults",
    "acompare_pairwise_many",
    "pairwise_results",
    "pairwise_summary",
    "verdicts_from_choices",
    "vote_pairwise",
]
